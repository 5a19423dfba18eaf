/* tcp/tcp_timer.c - every TCP timer: retransmission (RFC 6298), persist
 * (zero-window probes), delayed ACK, keepalive (RFC 1122 §4.2.3.6),
 * TIME-WAIT (2 MSL) and the FIN-WAIT-2 limit of a closed socket.
 *
 * A connection keeps absolute deadlines; the layer's heap (core/heap.h)
 * holds each TCB once, keyed by the earliest of them, so tcp_next_deadline()
 * is the heap's top and tcp_poll() looks only at the TCBs that are due (and
 * those queued for a settle), never at the whole table. Every change of a
 * deadline ends in tcp_timer_sync(): at the end of each settle (after a
 * segment, a timer or a call) and where a call arms one without a settle.
 * The retransmission and persist timers share rto_at: data in flight means
 * retransmission, none in flight with data held back by the peer's window
 * means persist. One more deadline, idle_at, frees rings left empty.
 */
#include "tcp/tcp_conn.h"

#include <stddef.h>

/* RFC 6298 §2: srtt and rttvar are kept in 1/8 ms so that the gains of
 * 1/8 and 1/4 need no floating point. */
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_ms)
{
    const struct tcp_config *cfg = &c->t->cfg;
    uint32_t r8 = rtt_ms * 8;
    if (c->srtt == 0 && c->rttvar == 0) {
        c->srtt = r8;
        c->rttvar = r8 / 2;
    } else {
        uint32_t delta = c->srtt > r8 ? c->srtt - r8 : r8 - c->srtt;
        c->rttvar = c->rttvar - c->rttvar / 4 + delta / 4;
        c->srtt = c->srtt - c->srtt / 8 + r8 / 8;
    }
    uint32_t var = 4 * c->rttvar;
    uint32_t rto = (c->srtt + (var > 8 ? var : 8)) / 8;   /* G = 1 ms */
    c->rto = rto < cfg->rto_min ? cfg->rto_min : rto > cfg->rto_max ? cfg->rto_max : rto;
}

static int tcp_syn_state(const struct tcp_conn *c)
{
    return c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED;
}

void tcp_timer_rearm(struct tcp_conn *c)
{
    uint64_t now = c->t->now;
    uint32_t unsent = c->snd.len - (c->snd_nxt - c->snd_una < c->snd.len
                                        ? c->snd_nxt - c->snd_una : c->snd.len);
    if (tcp_syn_state(c) || tcp_flight(c) > 0) {
        if (c->rto_at == TS_NEVER || (c->flags & TCP_F_PERSIST))
            c->rto_at = now + c->rto;
        c->flags &= ~TCP_F_PERSIST;
    } else if (unsent > 0 && c->state != TCP_CLOSED) {
        if (!(c->flags & TCP_F_PERSIST)) {
            c->flags |= TCP_F_PERSIST;
            c->probes = 0;
            c->rto_at = now + c->rto;
        } else if (c->rto_at == TS_NEVER) {
            /* An ACK of new data stopped the timer (RFC 6298 §5.3) and
             * left the window shut: probing goes on, or nothing would
             * ever look at the window again. Found by fuzz_session. */
            c->rto_at = now + c->rto;
        }
    } else {
        c->rto_at = TS_NEVER;
        c->flags &= ~TCP_F_PERSIST;
    }
    if ((c->flags & TCP_F_KEEPALIVE) &&
        (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT))
        c->keep_at = c->last_rx +
                     (c->ka_idle ? c->ka_idle : c->t->cfg.keepalive_idle) +
                     (uint64_t)c->probes *
                         (c->ka_intvl ? c->ka_intvl : c->t->cfg.keepalive_intvl);
    else
        c->keep_at = TS_NEVER;
}

void tcp_enter_time_wait(struct tcp_conn *c)
{
    tcp_set_state(c, TCP_TIME_WAIT);
    c->rto_at = c->delack_at = c->keep_at = TS_NEVER;
    c->tw_at = c->t->now + 2u * c->t->cfg.msl_ms;
    /* Everything we sent is acknowledged; what we received may still be
     * waiting for an application that has not closed. */
    tcp_ring_free(&c->snd);
    if (c->flags & TCP_F_USER_CLOSED)
        tcp_ring_free(&c->rcv);
}

/* Zero window: probe with back-off, for as long as the peer answers
 * (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: a receiver may keep its window
 * closed indefinitely, and the connection MUST stay open while it ACKs the
 * probes). A peer that answers none of max_retries probes and
 * retransmissions in a row is gone: keeping its connection for ever would
 * let any peer pin TCBs with a small window and silence (Linux gives up
 * after tcp_retries2 probes too). c->retries counts both, so a connection
 * that goes from probing to retransmitting (the SWS override sends data)
 * and back, unanswered, does not start again; any segment from the peer
 * (tcp_conn_input) or an ACK of new data resets it. Found by
 * fuzz_session. */
static void tcp_persist_expired(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (++c->retries > t->cfg.max_retries) {
        TCP_COUNT(t, conn_timeout, c);
        tcp_send_rst(c);
        tcp_conn_done(c, -ETIMEDOUT);
        return;
    }
    if (c->snd_wnd == 0) {
        TCP_COUNT(t, zero_window_probes, c);
        tcp_send_probe(c);
    } else {
        tcp_output_force(c);    /* SWS override: not a zero-window probe */
    }
    if (c->probes < 16)
        c->probes++;
    uint64_t wait = (uint64_t)c->rto << c->probes;
    c->rto_at = t->now + (wait < t->cfg.rto_max ? wait : t->cfg.rto_max);
    if (tcp_flight(c) > 0) {
        c->flags &= ~TCP_F_PERSIST;     /* data went out: normal RTO now */
        c->rto_at = t->now + c->rto;
    }
}

/* RFC 6298 §5.4-5.7 and RFC 5681 §3.1: back off, collapse the window,
 * resend from SND.UNA; give up after the retry limit. */
static void tcp_rto_expired(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    unsigned limit = tcp_syn_state(c) ? t->cfg.max_syn_retries : t->cfg.max_retries;
    TCP_COUNT(t, rto_expired, c);
    if (++c->retries > limit) {
        TCP_COUNT(t, conn_timeout, c);
        if (!tcp_syn_state(c))
            tcp_send_rst(c);
        tcp_conn_done(c, -ETIMEDOUT);
        return;
    }
    c->rto = c->rto * 2 < t->cfg.rto_max ? c->rto * 2 : t->cfg.rto_max;
    c->flags &= ~TCP_F_RTT_TIMING;
    tcp_cc_on_rto(c);   /* window, threshold, recovery, scoreboard */
    c->snd_nxt = tcp_syn_state(c) ? c->iss : c->snd_una;
    c->rto_at = TS_NEVER;
    /* The SYN or SYN-ACK goes again (data is counted as it is resent). */
    if (tcp_syn_state(c))
        tcp_ev_retransmit(c, "rto", c->iss, 0, 0);
    tcp_output(c);
}

static void tcp_keepalive_expired(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (c->probes >= (c->ka_count ? c->ka_count : t->cfg.keepalive_count)) {
        TCP_COUNT(t, conn_timeout, c);
        tcp_send_rst(c);
        tcp_conn_done(c, -ETIMEDOUT);
        return;
    }
    c->probes++;
    TCP_COUNT(t, keepalive_probes, c);
    /* SEG.SEQ = SND.NXT - 1 with no data: the peer must answer with an
     * ACK (RFC 1122 §4.2.3.6). */
    tcp_xmit_keepalive(c);
    tcp_timer_rearm(c);
}

/* Rings whose storage can go: allocated, empty, nothing out of order. */
static unsigned tcp_rings_empty(const struct tcp_conn *c)
{
    return (c->snd.buf && c->snd.len == 0) +
           (c->rcv.buf && c->rcv.len == 0 && c->ooo.n == 0) * 2;
}

/* An idle connection costs its TCB only: a ring that has stayed empty for
 * TCP_RING_IDLE_MS gives its memory back (it comes again with the next
 * byte). Not at once, so a connection that empties its rings on every
 * request does not pay an allocation each time. */
void tcp_rings_watch(struct tcp_conn *c)
{
    if (!tcp_rings_empty(c))
        c->idle_at = TS_NEVER;
    else if (c->idle_at == TS_NEVER)
        c->idle_at = c->t->now + TCP_RING_IDLE_MS;
}

static void tcp_rings_idle_expired(struct tcp_conn *c)
{
    unsigned which = tcp_rings_empty(c);
    c->idle_at = TS_NEVER;
    if (which & 1)
        tcp_ring_release(&c->snd);
    if (which & 2)
        tcp_ring_release(&c->rcv);
    c->t->stats.rings_released += (which & 1) + (which >> 1);
}

void tcp_conn_poll(struct tcp_conn *c, uint64_t now)
{
    if (c->idle_at <= now)
        tcp_rings_idle_expired(c);
    if (c->tw_at <= now) {
        tcp_conn_done(c, 0);        /* TIME-WAIT or FIN-WAIT-2 over */
        return;
    }
    if (c->delack_at <= now) {
        c->delack_at = TS_NEVER;
        c->flags |= TCP_F_ACK_NOW;
        tcp_output(c);
    }
    if (c->rto_at <= now) {
        if (c->flags & TCP_F_PERSIST)
            tcp_persist_expired(c);
        else
            tcp_rto_expired(c);
    }
    if (c->state != TCP_CLOSED && c->keep_at <= now)
        tcp_keepalive_expired(c);
}

uint64_t tcp_conn_deadline(const struct tcp_conn *c)
{
    uint64_t d = ts_min_deadline(c->rto_at, c->delack_at);
    d = ts_min_deadline(d, c->idle_at);
    return ts_min_deadline(d, ts_min_deadline(c->keep_at, c->tw_at));
}

void tcp_timer_sync(struct tcp_conn *c)
{
    ts_heap_set(&c->t->timers, &c->tnode, tcp_conn_deadline(c));
}

void tcp_settle_enqueue(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (c->flags & TCP_F_SETTLE_Q)
        return;
    c->flags |= TCP_F_SETTLE_Q;
    c->sgen = t->poll_gen;
    c->snext = NULL;
    c->sprev = t->settle_tail;
    if (t->settle_tail)
        t->settle_tail->snext = c;
    else
        t->settle_head = c;
    t->settle_tail = c;
}

void tcp_settle_dequeue(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (!(c->flags & TCP_F_SETTLE_Q))
        return;
    c->flags &= ~TCP_F_SETTLE_Q;
    if (c->sprev)
        c->sprev->snext = c->snext;
    else
        t->settle_head = c->snext;
    if (c->snext)
        c->snext->sprev = c->sprev;
    else
        t->settle_tail = c->sprev;
    c->snext = c->sprev = NULL;
}

/* The TCBs whose earliest deadline has come leave the heap for the settle
 * queue: only they are looked at, however large the table. */
static void tcp_poll_take_due(struct tcp_layer *t, uint64_t now)
{
    struct ts_heap_node *nd;
    while ((nd = ts_heap_min(&t->timers)) && nd->key <= now) {
        struct tcp_conn *c =
            (struct tcp_conn *)((char *)nd - offsetof(struct tcp_conn, tnode));
        ts_heap_set(&t->timers, nd, TS_NEVER);  /* back at its settle */
        t->timer_visits++;
        tcp_settle_enqueue(c);
    }
}

/* Run what is due and settle what is queued, each TCB once: one queued
 * again meanwhile (a callback's news, a deadline still due) carries the new
 * generation and waits for the next poll, as a walk of the table would have
 * left it. A callback may close or abort any TCB: freeing takes it off the
 * queue, so the queue never holds a dangling pointer. */
void tcp_poll(struct tcp_layer *t, uint64_t now)
{
    t->now = now;
    t->ev_why = "timer";
    tcp_poll_take_due(t, now);
    uint32_t gen = ++t->poll_gen;
    struct tcp_conn *c;
    while ((c = t->settle_head) && c->sgen != gen) {
        tcp_settle_dequeue(c);
        if (tcp_conn_deadline(c) <= now)
            tcp_conn_poll(c, now);
        tcp_conn_settle(c);         /* may free c */
    }
    t->ev_why = NULL;
}

uint64_t tcp_next_deadline(const struct tcp_layer *t)
{
    return ts_heap_min_key(&t->timers);
}

unsigned tcp_timer_check(const struct tcp_layer *t)
{
    unsigned bad = 0;
    for (const struct tcp_conn *c = t->all; c; c = c->next) {
        uint64_t d = tcp_conn_deadline(c);
        if (c->busy)
            continue;
        if (d == TS_NEVER ? ts_heap_node_armed(&c->tnode)
                          : !ts_heap_node_armed(&c->tnode) || c->tnode.key != d)
            bad++;
    }
    return bad;
}
