/* tcp/tcp_table.c - the layer's bookkeeping: settings, counters, the
 * connection hash table, listeners, TCB creation and release, state changes
 * (each logged like a textbook trace) and event delivery. */
#include "tcp/tcp_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/clock.h"

#define TCP_C(f, h) TS_COUNTER(struct tcp_stats, f, h)
const struct ts_counter_desc tcp_counter_desc[] = {
    TCP_C(rx_segments, "segments received"),
    TCP_C(tx_segments, "segments sent"),
    TCP_C(rx_bytes, "data bytes received in order"),
    TCP_C(tx_bytes, "data bytes sent (retransmissions included)"),
    TCP_C(drop_truncated, "dropped: shorter than a 20-byte header"),
    TCP_C(drop_bad_offset, "dropped: data offset < 5 or past the segment"),
    TCP_C(drop_bad_cksum, "dropped: checksum does not verify"),
    TCP_C(drop_bad_addr, "dropped: to a broadcast address, or port 0"),
    TCP_C(opt_malformed, "segments whose options ended early (rest ignored)"),
    TCP_C(rst_sent_no_conn, "resets sent for segments to no connection"),
    TCP_C(rx_rst, "resets received in the window (acted on or challenged)"),
    TCP_C(rst_ignored, "resets dropped: outside the window, no connection, listener"),
    TCP_C(active_opens, "connections opened by us (SYN-SENT)"),
    TCP_C(passive_opens, "connections opened by a peer (SYN-RECEIVED)"),
    TCP_C(established, "connections that reached ESTABLISHED"),
    TCP_C(closed, "connections released"),
    TCP_C(conn_refused, "active opens refused (RST to our SYN)"),
    TCP_C(conn_reset, "connections reset by the peer"),
    TCP_C(conn_timeout, "connections given up after retransmissions"),
    TCP_C(retransmits, "segments retransmitted"),
    TCP_C(rto_expired, "retransmission time-outs"),
    TCP_C(fast_retransmits, "fast retransmits (three duplicate ACKs)"),
    TCP_C(dup_acks, "duplicate ACKs received"),
    TCP_C(out_of_window, "segments outside the receive window (ACKed, dropped)"),
    TCP_C(rx_ooo_segments, "segments received out of order and kept"),
    TCP_C(drop_ooo_full, "dropped: too many out-of-order gaps"),
    TCP_C(drop_syn_queue_full, "SYNs answered with a cookie: SYN queue full"),
    TCP_C(drop_accept_queue_full, "dropped: accept queue full"),
    TCP_C(drop_no_tcb, "dropped: connection limit reached"),
    TCP_C(syn_cookies_sent, "SYN-ACKs carrying a SYN cookie"),
    TCP_C(syn_cookies_ok, "connections made from a valid cookie"),
    TCP_C(syn_cookies_bad, "ACKs to a listener with no valid cookie (RST)"),
    TCP_C(challenge_acks, "challenge ACKs sent (RFC 5961)"),
    TCP_C(challenge_acks_limited, "challenge ACKs not sent: rate limit"),
    TCP_C(rst_ignored_time_wait, "resets ignored in TIME-WAIT (RFC 1337)"),
    TCP_C(drop_ack_unacceptable, "dropped: ACK of data never sent (ACKed back)"),
    TCP_C(drop_no_ack, "dropped: ACK flag off in a synchronized state"),
    TCP_C(zero_window_probes, "zero-window probes sent"),
    TCP_C(keepalive_probes, "keepalive probes sent"),
    TCP_C(tx_no_buffer, "segments not sent: buffer pool empty"),
    TCP_C(abort_on_data, "reset: data arrived after the application closed (RFC 1122 4.2.2.13)"),
    TCP_C(drop_no_memory, "dropped: no memory to grow the receive ring"),
    TCP_C(rings_released, "rings given back after being empty for a while"),
    TCP_C(tx_super_segments, "super-segments sent for the device to cut (TSO)"),
    TCP_C(output_deferred, "outputs put off to the end of a receive batch"),
    TCP_C(conns_now, "connections in the table now"),
    TCP_C(conns_time_wait, "of which in TIME-WAIT"),
    TCP_C(mem_tcb, "bytes held by connection blocks and their timer slots now"),
    TCP_C(mem_rings, "bytes held by send and receive rings now"),
};
const size_t tcp_counter_count = TS_COUNTERS_LEN(tcp_counter_desc);

void tcp_config_default(struct tcp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sndbuf = 256 * 1024;
    cfg->rcvbuf = 256 * 1024;
    cfg->max_conns = 4096;
    cfg->rto_init = 1000;           /* RFC 6298 §2.1 */
    cfg->rto_min = 200;             /* Linux's floor; RFC 6298 says 1 s */
    cfg->rto_max = 60000;           /* RFC 6298 §2.5 */
    cfg->rto_syn = 3000;            /* RFC 6298 §5.7: 3 s after a lost SYN */
    cfg->max_retries = 12;
    /* RFC 9293 §3.8.3 (MUST-23): R2 for a SYN at least 3 minutes: with
     * RTOs of 1, 2, 4 ... capped at 60 s, the 7th retry goes at 123 s and
     * the open fails at 183 s (6 retries gave up at 127 s). */
    cfg->max_syn_retries = 7;
    cfg->delack_ms = 40;
    cfg->msl_ms = 30000;
    cfg->keepalive_idle = 7200000;  /* RFC 1122 §4.2.3.6: >= 2 hours */
    cfg->keepalive_intvl = 75000;
    cfg->keepalive_count = 9;
    cfg->challenge_ack_per_sec = 10;
}

int tcp_init(struct tcp_layer *t, const struct tcp_config *cfg,
             struct ipv4_layer *ip, struct pbuf_pool *pool,
             struct ts_rand *rand, const struct tcp_key *key,
             const struct ts_log *log)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    t->ip = ip;
    t->pool = pool;
    t->rand = rand;
    t->key = *key;
    t->log = log;
    t->nbuckets = 1024;
    while (t->nbuckets < cfg->max_conns && t->nbuckets < (1u << 20))
        t->nbuckets <<= 1;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    t->port_refs = calloc(65536, sizeof *t->port_refs);
    ts_heap_init(&t->timers);
    return t->buckets && t->port_refs ? 0 : -ENOMEM;
}

void tcp_destroy(struct tcp_layer *t)
{
    while (t->all)
        tcp_conn_free(t->all);
    while (t->listeners) {
        struct tcp_listener *l = t->listeners;
        t->listeners = l->next;
        free(l);
    }
    free(t->buckets);
    t->buckets = NULL;
    free(t->port_refs);
    t->port_refs = NULL;
    ts_heap_free(&t->timers);
}

static uint32_t tcp_bucket(const struct tcp_layer *t, uint32_t laddr,
                           uint16_t lport, uint32_t raddr, uint16_t rport)
{
    return (uint32_t)tcp_tuple_hash(&t->key, laddr, lport, raddr, rport, 0) &
           (t->nbuckets - 1);
}

struct tcp_conn *tcp_conn_find(struct tcp_layer *t, uint32_t laddr,
                               uint16_t lport, uint32_t raddr, uint16_t rport)
{
    struct tcp_conn *c = t->buckets[tcp_bucket(t, laddr, lport, raddr, rport)];
    for (; c; c = c->hnext)
        if (c->lport == lport && c->rport == rport && c->raddr == raddr &&
            c->laddr == laddr)
            return c;
    return NULL;
}

struct tcp_listener *tcp_listener_find(struct tcp_layer *t, uint32_t addr,
                                       uint16_t port)
{
    for (struct tcp_listener *l = t->listeners; l; l = l->next)
        if (l->port == port && (l->addr == 0 || l->addr == addr))
            return l;
    return NULL;
}

int tcp_port_in_use_by_listener(struct tcp_layer *t, uint16_t port)
{
    for (struct tcp_listener *l = t->listeners; l; l = l->next)
        if (l->port == port)
            return 1;
    return 0;
}

int tcp_port_in_use(struct tcp_layer *t, uint16_t port)
{
    return tcp_port_in_use_by_listener(t, port) || t->port_refs[port] > 0;
}

/* Make room for one more TCB: the oldest TIME-WAIT connection goes first
 * (it is only a memory of a finished connection). */
static int tcp_make_room(struct tcp_layer *t)
{
    if (t->stats.conns_now < t->cfg.max_conns)
        return 1;
    struct tcp_conn *oldest = t->tw_head;
    while (oldest && oldest->busy)      /* busy: inside its callback */
        oldest = oldest->twnext;
    if (!oldest)
        return 0;
    tcp_conn_free(oldest);
    return 1;
}

static void tcp_tw_link(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    c->twnext = NULL;
    c->twprev = t->tw_tail;
    if (t->tw_tail)
        t->tw_tail->twnext = c;
    else
        t->tw_head = c;
    t->tw_tail = c;
}

static void tcp_tw_unlink(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (c->twprev)
        c->twprev->twnext = c->twnext;
    else
        t->tw_head = c->twnext;
    if (c->twnext)
        c->twnext->twprev = c->twprev;
    else
        t->tw_tail = c->twprev;
    c->twnext = c->twprev = NULL;
}

struct tcp_conn *tcp_conn_new(struct tcp_layer *t, uint32_t laddr,
                              uint16_t lport, uint32_t raddr, uint16_t rport)
{
    if (!tcp_make_room(t)) {
        t->stats.drop_no_tcb++;
        return NULL;
    }
    /* A timer slot for every TCB, so arming one never allocates. */
    struct tcp_conn *c = NULL;
    if (ts_heap_reserve(&t->timers, (uint32_t)t->stats.conns_now + 1) == 0)
        c = calloc(1, sizeof *c);
    if (!c) {
        t->stats.drop_no_tcb++;
        return NULL;
    }
    c->t = t;
    c->laddr = laddr;
    c->lport = lport;
    c->raddr = raddr;
    c->rport = rport;
    c->mss = TCP_MSS_DEFAULT;
    struct ipv4_route rt;
    if (ipv4_route_lookup(t->ip, raddr, laddr, &rt) == 0) {
        c->ifp = rt.ifp;
        if (rt.ifp->flags & NETDEV_F_NO_CSUM)
            c->flags |= TCP_F_NO_CSUM;
    }
    c->rto = t->cfg.rto_init;
    c->rto_at = c->delack_at = c->keep_at = c->tw_at = c->idle_at = TS_NEVER;
    ts_heap_node_init(&c->tnode);
    t->stats.mem_tcb += sizeof *c + sizeof(struct ts_heap_node *);
    c->last_rx = t->now;
    tcp_cc_conn_init(c);
    c->sndbuf = t->cfg.sndbuf;
    c->rcvbuf = t->cfg.rcvbuf;
    uint32_t b = tcp_bucket(t, laddr, lport, raddr, rport);
    c->hnext = t->buckets[b];
    t->buckets[b] = c;
    t->port_refs[lport]++;
    c->next = t->all;
    if (t->all)
        t->all->prev = c;
    t->all = c;
    t->stats.conns_now++;
    return c;
}

/* The rings' limits: their storage comes with the first byte (tcp_buf.h),
 * so this cannot fail any more; the -ENOMEM of its callers is kept for a
 * budget to come. */
int tcp_conn_alloc_buffers(struct tcp_conn *c)
{
    if (c->snd.lim || c->rcv.lim)
        return 0;
    c->snd.mem = c->rcv.mem = &c->t->stats.mem_rings;
    tcp_ring_init(&c->snd, c->sndbuf);
    tcp_ring_init(&c->rcv, c->rcvbuf);
    return 0;
}

static void tcp_unlink(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    struct tcp_conn **pp =
        &t->buckets[tcp_bucket(t, c->laddr, c->lport, c->raddr, c->rport)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    t->port_refs[c->lport]--;
    if (c->prev)
        c->prev->next = c->next;
    else
        t->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* Take c off its listener's accept queue, if it is on it. */
void tcp_unqueue(struct tcp_conn *c)
{
    struct tcp_listener *l = c->listener;
    if (!l)
        return;
    struct tcp_conn **pp = &l->accept_head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp) {
        *pp = c->qnext;
        if (l->accept_tail == c)
            l->accept_tail = prev;
        l->naccept--;
    } else if (!(c->flags & TCP_F_COOKIE)) {
        /* Still on the SYN queue (a cookie never was), whatever its state
         * now: tcp_conn_done() has already set a dying one CLOSED. */
        l->nsyn--;
    }
    c->listener = NULL;
}

void tcp_conn_free(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    tcp_unqueue(c);
    tcp_unlink(c);
    ts_heap_set(&t->timers, &c->tnode, TS_NEVER);
    tcp_settle_dequeue(c);
    if (c->state == TCP_TIME_WAIT) {
        t->stats.conns_time_wait--;
        tcp_tw_unlink(c);
    }
    t->stats.conns_now--;
    t->stats.closed++;
    t->stats.mem_tcb -= sizeof *c + sizeof(struct ts_heap_node *);
    tcp_ring_free(&c->snd);
    tcp_ring_free(&c->rcv);
    free(c);
}

static const char *const tcp_state_names[] = {
    "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
    "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK",
    "TIME-WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < sizeof tcp_state_names / sizeof tcp_state_names[0]
               ? tcp_state_names[s] : "?";
}

void tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
    struct tcp_layer *t = c->t;
    if (TS_LOG_ON(t->log, TS_LOG_INFO)) {
        char r[TS_IP4_STRLEN], l[TS_IP4_STRLEN];
        ts_logf(t->log, TS_LOG_INFO, "%s: tcp %s:%u -> %s:%u %s -> %s",
                c->ifp ? c->ifp->name : "-",
                ts_ip4_fmt(c->raddr, r), c->rport, ts_ip4_fmt(c->laddr, l),
                c->lport, tcp_state_name(c->state), tcp_state_name(s));
    }
    if (c->state == TCP_TIME_WAIT && s != TCP_TIME_WAIT) {
        t->stats.conns_time_wait--;
        tcp_tw_unlink(c);
    }
    if (s == TCP_TIME_WAIT && c->state != TCP_TIME_WAIT) {
        t->stats.conns_time_wait++;
        tcp_tw_link(c);
    }
    if (s == TCP_ESTABLISHED && c->state != TCP_ESTABLISHED)
        t->stats.established++;
    c->state = (uint8_t)s;
}

void tcp_conn_event(struct tcp_conn *c, unsigned ev)
{
    c->pending_ev |= ev;
    tcp_settle_enqueue(c);  /* delivered by this settle, or by tcp_poll */
}

void tcp_conn_settle(struct tcp_conn *c)
{
    if (c->busy)
        return;         /* the outer settle will see to it */
    c->busy++;
    /* The listener first: if it accepts c, c's own events go to the new
     * owner in the same settle. */
    if (c->flags & TCP_F_NOTIFY_ACCEPT) {
        c->flags &= ~TCP_F_NOTIFY_ACCEPT;
        struct tcp_listener *l = c->listener;
        if (l && l->fn)
            l->fn(l->ctx, c, TCP_EV_ACCEPT);
    }
    /* A callback may cause new events (it sends, the send completes...):
     * deliver those too, a bounded number of rounds. */
    for (int round = 0; round < 4 && c->pending_ev; round++) {
        unsigned ev = c->pending_ev;
        c->pending_ev = 0;
        if (c->fn && !(c->flags & TCP_F_USER_CLOSED))
            c->fn(c->ctx, c, ev);
    }
    c->busy--;
    if (c->flags & TCP_F_RELEASE) {
        tcp_conn_free(c);
        return;
    }
    tcp_rings_watch(c);
    tcp_timer_sync(c);
    if (c->pending_ev)
        tcp_settle_enqueue(c);  /* more than the rounds allow: next poll */
    else
        tcp_settle_dequeue(c);
}

void tcp_conn_done(struct tcp_conn *c, int err)
{
    if (err)
        c->err = err;
    tcp_set_state(c, TCP_CLOSED);
    c->rto_at = c->delack_at = c->keep_at = c->tw_at = TS_NEVER;
    /* Nobody holds it: the application closed it, or it was never
     * accepted (a listener's half-open or queued connection). */
    if (c->flags & TCP_F_USER_CLOSED || c->listener) {
        c->flags |= TCP_F_RELEASE;
        tcp_settle_enqueue(c);  /* freed by the settle that follows, or
                                   by the next poll */
        return;
    }
    tcp_conn_event(c, err ? TCP_EV_ERROR | TCP_EV_READABLE | TCP_EV_WRITABLE
                          : TCP_EV_READABLE);
}
