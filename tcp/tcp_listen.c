/* tcp/tcp_listen.c - passive opens: listeners, the SYN queue (TCBs in
 * SYN-RECEIVED, bounded), SYN cookies when it is full (RFC 4987), and the
 * accept queue of established connections waiting for the application.
 */
#include "tcp/tcp_conn.h"

#include <stdlib.h>

/* A fresh TCB for a SYN: RFC 9293 §3.10.7.2, "If the SYN bit is set". */
static void tcp_listen_syn(struct tcp_listener *l, const struct tcp_seg *s)
{
    struct tcp_layer *t = l->t;
    struct tcp_conn *c = tcp_conn_new(t, s->dst, s->h.dport, s->src, s->h.sport);
    if (!c)
        return;
    c->flags |= TCP_F_PASSIVE;
    c->listener = l;
    c->sndbuf = l->sndbuf;
    c->rcvbuf = l->rcvbuf;
    if (l->cc)
        tcp_cc_set(c, l->cc);
    l->nsyn++;
    c->irs = s->h.seq;
    c->rcv_nxt = c->rcv_adv = s->h.seq + 1;
    c->iss = tcp_isn(t, s->dst, s->h.dport, s->src, s->h.sport);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    while (c->rcv_ws < TCP_WS_MAX && (c->rcvbuf >> c->rcv_ws) > 0xffff)
        c->rcv_ws++;
    c->snd_wnd = s->h.wnd;
    c->snd_wl1 = s->h.seq;
    tcp_take_syn_opts(c, s, 1);     /* scaling only if the peer offered it */
    c->state = TCP_LISTEN;          /* so the trace reads LISTEN -> SYN-RECEIVED */
    tcp_set_state(c, TCP_SYN_RECEIVED);
    t->stats.passive_opens++;
    c->rtt_start = t->now;
    tcp_output(c);
    tcp_timer_sync(c);              /* the SYN-ACK's retransmission timer */
}

/* The SYN queue is full: answer from no state at all. The SYN-ACK's ISN is
 * the cookie; no window scaling (the cookie cannot carry it). */
static void tcp_listen_cookie(struct tcp_listener *l, const struct tcp_seg *s)
{
    struct tcp_layer *t = l->t;
    struct tcp_conn tmp = { .t = t, .laddr = s->dst, .raddr = s->src,
                            .lport = s->h.dport, .rport = s->h.sport,
                            .state = TCP_SYN_RECEIVED };
    uint16_t mss = s->h.opts.has_mss ? s->h.opts.mss : TCP_MSS_DEFAULT;
    tmp.iss = tmp.snd_nxt = tcp_cookie_make(t, s, mss);
    tmp.rcv_nxt = tmp.rcv_adv = s->h.seq + 1;
    tmp.mss = tcp_our_mss(t, s->src);
    tmp.rcvbuf = l->rcvbuf;         /* the window the SYN-ACK offers */
    TCP_COUNT(t, drop_syn_queue_full, NULL);
    t->stats.syn_cookies_sent++;
    tcp_send_syn(&tmp);
}

/* An ACK to a listener completes a cookie handshake, or earns a reset. */
static void tcp_listen_ack(struct tcp_listener *l, struct tcp_seg *s)
{
    struct tcp_layer *t = l->t;
    uint16_t mss = (s->h.flags & (TCP_SYN | TCP_FIN)) ? 0 : tcp_cookie_check(t, s);
    if (!mss || l->naccept >= l->backlog) {
        if (!mss)
            TCP_COUNT(t, syn_cookies_bad, NULL);
        else
            TCP_COUNT(t, drop_accept_queue_full, NULL);
        tcp_reply_rst(t, s);
        return;
    }
    struct tcp_conn *c = tcp_conn_new(t, s->dst, s->h.dport, s->src, s->h.sport);
    if (!c)
        return;
    TCP_COUNT(t, syn_cookies_ok, NULL);
    t->stats.passive_opens++;
    c->flags |= TCP_F_PASSIVE | TCP_F_COOKIE;
    c->listener = l;
    c->sndbuf = l->sndbuf;
    c->rcvbuf = l->rcvbuf;
    if (l->cc)
        tcp_cc_set(c, l->cc);
    c->irs = s->h.seq - 1;
    c->rcv_nxt = c->rcv_adv = s->h.seq;
    c->iss = s->h.ack - 1;
    c->snd_una = c->snd_nxt = c->snd_max = s->h.ack;
    uint16_t ours = tcp_our_mss(t, s->src);
    c->mss = mss < ours ? mss : ours;
    c->retries = 1;                 /* no RTT sample: the SYN-ACK was not timed */
    c->state = TCP_SYN_RECEIVED;
    if (tcp_establish(c, s) < 0) {
        tcp_conn_settle(c);
        return;
    }
    /* The cookie SYN-ACK offered an unscaled window: honour it, or the data
     * the client sends next would fall outside a zero window. */
    c->rcv_adv = c->rcv_nxt + (c->rcvbuf < 0xffff ? c->rcvbuf : 0xffff);
    tcp_listener_enqueue(c);
    tcp_conn_input(c, s);           /* the ACK may carry data */
    tcp_conn_settle(c);
}

void tcp_listen_input(struct tcp_listener *l, struct tcp_seg *s)
{
    if (s->h.flags & TCP_RST) {
        TCP_COUNT(l->t, rst_ignored, NULL);              /* §3.10.7.2: ignore */
        return;
    }
    if (s->h.flags & TCP_ACK) {
        tcp_listen_ack(l, s);
        return;
    }
    if (!(s->h.flags & TCP_SYN))
        return;
    if (l->naccept >= l->backlog) {
        TCP_COUNT(l->t, drop_accept_queue_full, NULL);   /* the client will retry */
        return;
    }
    if (l->nsyn >= l->syn_max)
        tcp_listen_cookie(l, s);
    else
        tcp_listen_syn(l, s);
}

void tcp_listener_enqueue(struct tcp_conn *c)
{
    struct tcp_listener *l = c->listener;
    c->qnext = NULL;
    if (l->accept_tail)
        l->accept_tail->qnext = c;
    else
        l->accept_head = c;
    l->accept_tail = c;
    l->naccept++;
    c->flags |= TCP_F_NOTIFY_ACCEPT;
}

struct tcp_listener *tcp_listen(struct tcp_layer *t, uint32_t addr,
                                uint16_t port, unsigned backlog,
                                tcp_event_fn fn, void *ctx, int *err)
{
    if (port == 0 || backlog == 0) {
        *err = -EINVAL;
        return NULL;
    }
    for (struct tcp_listener *o = t->listeners; o; o = o->next) {
        if (o->port == port && (o->addr == 0 || addr == 0 || o->addr == addr)) {
            *err = -EADDRINUSE;
            return NULL;
        }
    }
    struct tcp_listener *l = calloc(1, sizeof *l);
    if (!l) {
        *err = -ENOMEM;
        return NULL;
    }
    l->t = t;
    l->addr = addr;
    l->port = port;
    l->backlog = backlog;
    l->syn_max = backlog < 16 ? 16 : backlog;
    l->sndbuf = t->cfg.sndbuf;
    l->rcvbuf = t->cfg.rcvbuf;
    l->fn = fn;
    l->ctx = ctx;
    l->next = t->listeners;
    t->listeners = l;
    return l;
}

void tcp_unlisten(struct tcp_listener *l)
{
    struct tcp_layer *t = l->t;
    /* Connections not yet accepted die with the listener (queued ones are
     * told with RST). One being settled right now (the application stops
     * listening from inside its accept callback) is only detached and
     * marked: the settle in progress frees it. */
    for (struct tcp_conn *c = t->all, *next; c; c = next) {
        next = c->next;
        if (c->listener != l)
            continue;
        if (c->state != TCP_SYN_RECEIVED)
            tcp_send_rst(c);
        if (c->busy) {
            tcp_unqueue(c);
            c->flags |= TCP_F_RELEASE;
            tcp_settle_enqueue(c);
        } else {
            tcp_conn_free(c);
        }
    }
    struct tcp_listener **pp = &t->listeners;
    while (*pp && *pp != l)
        pp = &(*pp)->next;
    if (*pp)
        *pp = l->next;
    free(l);
}

struct tcp_conn *tcp_accept(struct tcp_listener *l, tcp_event_fn fn, void *ctx)
{
    struct tcp_conn *c = l->accept_head;
    if (!c)
        return NULL;
    l->accept_head = c->qnext;
    if (!l->accept_head)
        l->accept_tail = NULL;
    l->naccept--;
    c->qnext = NULL;
    c->listener = NULL;
    c->fn = fn;
    c->ctx = ctx;
    /* Whatever happened while it waited is news to its new owner. */
    unsigned ev = TCP_EV_WRITABLE;
    if (c->rcv.len || (c->flags & TCP_F_EOF))
        ev |= TCP_EV_READABLE;
    if (c->err)
        ev |= TCP_EV_ERROR;
    tcp_conn_event(c, ev);
    return c;
}

void tcp_listener_set_buffers(struct tcp_listener *l, uint32_t sndbuf,
                              uint32_t rcvbuf)
{
    if (sndbuf)
        l->sndbuf = sndbuf;
    if (rcvbuf)
        l->rcvbuf = rcvbuf;
}

unsigned tcp_listener_pending(const struct tcp_listener *l)
{
    return l->naccept;
}
