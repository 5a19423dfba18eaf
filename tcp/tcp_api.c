/* tcp/tcp_api.c - the application's side: open, send, receive, close.
 *
 * Nothing here blocks: a call that would wait returns -EAGAIN and the
 * application waits for the matching event. Each call runs the output
 * engine and then settles the connection (events, release), like input.
 */
#include "tcp/tcp_conn.h"

#include <string.h>

/* An ephemeral port for tcp_connect (ts_rand_port walks the range). */
static int tcp_port_busy(void *t, uint16_t port)
{
    return tcp_port_in_use(t, port);
}

struct tcp_conn *tcp_connect(struct tcp_layer *t, uint16_t lport, uint32_t dst,
                             uint16_t dport, tcp_event_fn fn, void *ctx,
                             uint64_t now, int *err)
{
    return tcp_connect_sized(t, lport, dst, dport, 0, 0, fn, ctx, now, err);
}

struct tcp_conn *tcp_connect_sized(struct tcp_layer *t, uint16_t lport,
                                   uint32_t dst, uint16_t dport,
                                   uint32_t sndbuf, uint32_t rcvbuf,
                                   tcp_event_fn fn, void *ctx, uint64_t now,
                                   int *err)
{
    return tcp_connect_from(t, 0, lport, dst, dport, sndbuf, rcvbuf, fn, ctx,
                            now, err);
}

struct tcp_conn *tcp_connect_from(struct tcp_layer *t, uint32_t laddr,
                                  uint16_t lport, uint32_t dst, uint16_t dport,
                                  uint32_t sndbuf, uint32_t rcvbuf,
                                  tcp_event_fn fn, void *ctx, uint64_t now,
                                  int *err)
{
    t->now = now;
    struct ipv4_route rt;
    if (dport == 0 || ipv4_is_broadcast(t->ip, dst) || (dst >> 28) == 0xe) {
        *err = -EINVAL;
        return NULL;
    }
    /* The route fixes the source address (Linux's ip_route_connect). */
    if ((*err = ipv4_route_lookup(t->ip, dst, laddr, &rt)) < 0)
        return NULL;
    uint32_t src = rt.src;
    dst = rt.dst;
    if (lport == 0 && (lport = ts_rand_port(t->rand, tcp_port_busy, t)) == 0) {
        *err = -EADDRNOTAVAIL;
        return NULL;
    }
    if (tcp_conn_find(t, src, lport, dst, dport)) {
        *err = -EADDRINUSE;
        return NULL;
    }
    struct tcp_conn *c = tcp_conn_new(t, src, lport, dst, dport);
    if (c && sndbuf)
        c->sndbuf = sndbuf;
    if (c && rcvbuf)
        c->rcvbuf = rcvbuf;
    if (!c || tcp_conn_alloc_buffers(c) < 0) {
        if (c)
            tcp_conn_free(c);
        *err = -ENOMEM;
        return NULL;
    }
    c->fn = fn;
    c->ctx = ctx;
    c->iss = tcp_isn(t, src, lport, dst, dport);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    while (c->rcv_ws < TCP_WS_MAX && (tcp_ring_limit(&c->rcv) >> c->rcv_ws) > 0xffff)
        c->rcv_ws++;
    c->mss = tcp_our_mss(t, dst);
    c->rtt_start = now;
    t->stats.active_opens++;
    tcp_set_state(c, TCP_SYN_SENT);
    tcp_output(c);
    tcp_timer_sync(c);              /* the SYN's retransmission timer */
    return c;
}

/* Can the application queue data now? 0, or what tcp_send reports. */
static int tcp_send_check(const struct tcp_conn *c)
{
    if (c->err)
        return -EPIPE;
    if (c->flags & (TCP_F_FIN_QUEUED | TCP_F_USER_CLOSED))
        return -EPIPE;
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
        return -EAGAIN;     /* not yet: the CONNECTED event says when */
    if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
        return -ENOTCONN;
    return 0;
}

ssize_t tcp_send(struct tcp_conn *c, const void *buf, size_t len, uint64_t now)
{
    c->t->now = now;
    int rc = tcp_send_check(c);
    if (rc < 0)
        return rc;
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    uint32_t n = tcp_ring_write(&c->snd, buf, (uint32_t)len);
    if (n == 0)
        return -EAGAIN;
    tcp_output(c);
    tcp_conn_settle(c);
    return (ssize_t)n;
}

int tcp_send_room(struct tcp_conn *c, struct iovec iov[2])
{
    int rc = tcp_send_check(c);
    if (rc < 0)
        return rc;
    rc = tcp_ring_room_spans(&c->snd, iov);
    return rc ? rc : -EAGAIN;
}

void tcp_send_commit(struct tcp_conn *c, uint32_t n, uint64_t now)
{
    c->t->now = now;
    if (n == 0 || n > tcp_ring_space(&c->snd))
        return;
    tcp_ring_commit(&c->snd, n);
    tcp_output(c);
    tcp_conn_settle(c);
}

/* Reading opens the window: tell the peer when the opening is worth a
 * segment (at least an MSS or half the buffer, RFC 9293 §3.8.6.2.2), so
 * a sender stalled on a zero window resumes without waiting for a probe;
 * or when the window at least doubles from no more than half the buffer
 * (Linux's tcp_cleanup_rbuf), so a sender whose window is a couple of
 * segments (64 KB ones on lo) does not wait for the delayed ACK. The edge
 * itself only ever moves by SWS-safe steps (tcp_rcv_window). */
static void tcp_window_opened(struct tcp_conn *c, uint32_t before)
{
    uint32_t after = tcp_rcv_window(c);
    uint32_t lim = tcp_ring_limit(&c->rcv);
    if (after > before && (before < c->mss || after - before >= lim / 2 ||
                           (after >= 2 * before && 2 * before <= lim)))
        c->flags |= TCP_F_ACK_NOW;
}

/* Nothing to read: 0 at end of stream, else what tcp_recv reports. */
static ssize_t tcp_recv_empty(const struct tcp_conn *c)
{
    if (c->err)
        return c->err;
    if (c->flags & TCP_F_EOF)
        return 0;
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED ||
        c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
        c->state == TCP_FIN_WAIT_2)
        return -EAGAIN;
    return -ENOTCONN;
}

/* n bytes left the receive ring: open the window, maybe tell the peer. */
static void tcp_recv_done(struct tcp_conn *c, uint32_t before)
{
    if (c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
        c->state == TCP_FIN_WAIT_2) {
        tcp_window_opened(c, before);
        if (c->flags & TCP_F_ACK_NOW)
            tcp_output_batched(c);  /* a reader called back in a batch */
    }
    tcp_conn_settle(c);
}

ssize_t tcp_recv(struct tcp_conn *c, void *buf, size_t len, uint64_t now)
{
    c->t->now = now;
    if (c->rcv.len == 0)
        return tcp_recv_empty(c);
    uint32_t before = c->rcv_adv - c->rcv_nxt;
    uint32_t n = tcp_ring_read(&c->rcv, buf, len > UINT32_MAX ? UINT32_MAX
                                                             : (uint32_t)len);
    tcp_recv_done(c, before);
    return (ssize_t)n;
}

int tcp_recv_data(const struct tcp_conn *c, struct iovec iov[2])
{
    if (c->rcv.len == 0)
        return (int)tcp_recv_empty(c);
    return tcp_ring_data_spans(&c->rcv, iov);
}

void tcp_recv_consume(struct tcp_conn *c, uint32_t n, uint64_t now)
{
    c->t->now = now;
    if (n == 0 || n > c->rcv.len)
        return;
    uint32_t before = c->rcv_adv - c->rcv_nxt;
    tcp_ring_drop(&c->rcv, n);
    tcp_recv_done(c, before);
}

/* Queue our FIN (RFC 9293 §3.10.4 CLOSE): it goes after the data. */
static void tcp_queue_fin(struct tcp_conn *c)
{
    if (c->flags & TCP_F_FIN_QUEUED)
        return;
    c->flags |= TCP_F_FIN_QUEUED;
    if (c->state == TCP_ESTABLISHED || c->state == TCP_SYN_RECEIVED)
        tcp_set_state(c, TCP_FIN_WAIT_1);
    else if (c->state == TCP_CLOSE_WAIT)
        tcp_set_state(c, TCP_LAST_ACK);
    tcp_output(c);
}

int tcp_shutdown(struct tcp_conn *c, uint64_t now)
{
    c->t->now = now;
    switch (c->state) {
    case TCP_SYN_SENT:
        return -ENOTCONN;
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        tcp_queue_fin(c);
        tcp_conn_settle(c);
        return 0;
    default:
        return (c->flags & TCP_F_FIN_QUEUED) ? 0 : -ENOTCONN;
    }
}

void tcp_close(struct tcp_conn *c, uint64_t now)
{
    c->t->now = now;
    c->flags |= TCP_F_USER_CLOSED;
    switch (c->state) {
    case TCP_CLOSED:
        c->flags |= TCP_F_RELEASE;
        break;
    case TCP_SYN_SENT:
        tcp_conn_done(c, 0);
        break;
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        if (c->rcv.len > 0) {
            /* Unread data would be lost silently: say so with RST
             * (RFC 9293 §3.10.4 note, RFC 2525 §2.17). */
            tcp_send_rst(c);
            tcp_conn_done(c, 0);
        } else {
            tcp_queue_fin(c);
        }
        break;
    case TCP_FIN_WAIT_2:
        c->tw_at = now + 2u * c->t->cfg.msl_ms;
        break;
    case TCP_TIME_WAIT:
        tcp_ring_free(&c->rcv);
        break;
    default:
        break;
    }
    tcp_conn_settle(c);
}

void tcp_abort(struct tcp_conn *c, uint64_t now)
{
    c->t->now = now;
    c->flags |= TCP_F_USER_CLOSED;
    if (c->state != TCP_CLOSED && c->state != TCP_SYN_SENT &&
        c->state != TCP_TIME_WAIT)
        tcp_send_rst(c);
    if (c->state == TCP_CLOSED)
        c->flags |= TCP_F_RELEASE;
    else
        tcp_conn_done(c, 0);
    tcp_conn_settle(c);
}

void tcp_set_nodelay(struct tcp_conn *c, int on)
{
    if (on)
        c->flags |= TCP_F_NODELAY;
    else
        c->flags &= ~TCP_F_NODELAY;
}

void tcp_set_keepalive(struct tcp_conn *c, int on)
{
    if (on)
        c->flags |= TCP_F_KEEPALIVE;
    else
        c->flags &= ~TCP_F_KEEPALIVE;
    c->probes = 0;
    tcp_timer_rearm(c);
    tcp_timer_sync(c);
}

void tcp_set_keepalive_params(struct tcp_conn *c, uint32_t idle_ms,
                              uint32_t intvl_ms, unsigned count)
{
    c->ka_idle = idle_ms;
    c->ka_intvl = intvl_ms;
    c->ka_count = count;
    tcp_timer_rearm(c);
    tcp_timer_sync(c);
}

void tcp_set_ip_opts(struct tcp_conn *c, uint8_t ttl, uint8_t tos)
{
    c->ttl = ttl;
    c->tos = tos;
}

void tcp_conn_info(const struct tcp_conn *c, struct tcp_conn_info *o)
{
    memset(o, 0, sizeof *o);
    o->state = (enum tcp_state)c->state;
    o->retries = c->retries;
    o->probes = c->probes;
    o->rto_us = c->rto * 1000u;
    o->ato_us = c->t->cfg.delack_ms * 1000u;
    o->rtt_us = c->srtt * 125u;
    o->rttvar_us = c->rttvar * 125u;
    o->mss = c->mss;
    o->peer_mss_seen = c->mss;
    o->cwnd = c->cwnd;
    o->ssthresh = c->ssthresh;
    o->snd_wnd = c->snd_wnd;
    o->rcv_wnd = c->rcv_adv - c->rcv_nxt;
    o->in_flight = c->snd_nxt - c->snd_una;
    o->total_retrans = c->total_retrans;
    o->snd_ws = c->snd_ws;
    o->rcv_ws = c->rcv_ws;
    o->sack = (c->flags & TCP_F_SACK_OK) != 0;
    o->wscale = (c->flags & TCP_F_WS_OK) != 0;
    o->snd_queued = c->snd.len;
    o->rcv_queued = c->rcv.len;
    o->bytes_sent = c->bytes_sent;
    o->bytes_received = c->bytes_received;
    o->sack_blocks = c->sacked.n;
    o->ooo_ranges = c->ooo.n;
    o->cc = tcp_cc_name(c);
    o->ca_state = tcp_cc_state(c);
    o->rto_at = c->rto_at;
    o->delack_at = c->delack_at;
    o->keep_at = c->keep_at;
    o->tw_at = c->tw_at;
}

const struct tcp_conn *tcp_conn_next(const struct tcp_layer *t,
                                     const struct tcp_conn *prev)
{
    return prev ? prev->next : t->all;
}

const struct tcp_listener *tcp_listener_next(const struct tcp_layer *t,
                                             const struct tcp_listener *prev)
{
    return prev ? prev->next : t->listeners;
}

void tcp_listener_info(const struct tcp_listener *l, uint32_t *addr,
                       uint16_t *port, unsigned *pending, unsigned *backlog)
{
    *addr = l->addr;
    *port = l->port;
    *pending = l->naccept;
    *backlog = l->backlog;
}

uint16_t tcp_conn_mss(const struct tcp_conn *c)
{
    return c->mss;
}

enum tcp_state tcp_conn_state(const struct tcp_conn *c)
{
    return (enum tcp_state)c->state;
}

int tcp_conn_error(const struct tcp_conn *c)
{
    return c->err;
}

uint32_t tcp_conn_readable(const struct tcp_conn *c)
{
    return c->rcv.len;
}

int tcp_conn_at_eof(const struct tcp_conn *c)
{
    return (c->flags & TCP_F_EOF) && c->rcv.len == 0;
}

uint32_t tcp_conn_writable(const struct tcp_conn *c)
{
    if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
        return 0;
    return tcp_ring_space(&c->snd);
}

void tcp_conn_addrs(const struct tcp_conn *c, uint32_t *laddr, uint16_t *lport,
                    uint32_t *raddr, uint16_t *rport)
{
    *laddr = c->laddr;
    *lport = c->lport;
    *raddr = c->raddr;
    *rport = c->rport;
}

unsigned tcp_draining(const struct tcp_layer *t)
{
    unsigned n = 0;
    for (const struct tcp_conn *c = t->all; c; c = c->next)
        n += c->state == TCP_FIN_WAIT_1 || c->state == TCP_CLOSING ||
             c->state == TCP_LAST_ACK;
    return n;
}
