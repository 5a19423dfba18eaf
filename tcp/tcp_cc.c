/* tcp/tcp_cc.c - what every congestion control algorithm shares: the
 * table of algorithms, the initial window (RFC 6928), fast retransmit and
 * fast recovery (RFC 5681 §3.2 with RFC 6582's partial ACKs, or RFC 6675
 * by the SACK scoreboard when SACK is on), and the collapse after a
 * retransmission time-out (RFC 5681 §3.1). The algorithm (c->cc) decides
 * how the window grows outside recovery and what ssthresh becomes on a
 * congestion signal.
 * Entry points: see tcp/tcp_cc.h.
 */
#include "tcp/tcp_cc.h"

#include <string.h>

#include "tcp/tcp_conn.h"

static const struct {
    const char *name;
    const struct tcp_cc_ops *ops;
} tcp_cc_table[] = {
    { "cubic", &tcp_cc_cubic },
    { "reno", &tcp_cc_newreno },
    { "newreno", &tcp_cc_newreno },     /* FreeBSD's name for it */
};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
    for (size_t i = 0; i < sizeof tcp_cc_table / sizeof tcp_cc_table[0]; i++)
        if (strcmp(name, tcp_cc_table[i].name) == 0)
            return tcp_cc_table[i].ops;
    return NULL;
}

void tcp_cc_set(struct tcp_conn *c, const struct tcp_cc_ops *ops)
{
    if (!ops)
        ops = c->t->cfg.cc ? c->t->cfg.cc : TCP_CC_DEFAULT;
    if (c->cc == ops)
        return;         /* every setsockopt re-applies the socket's options */
    c->cc = ops;
    memset(&c->ccs, 0, sizeof c->ccs);
    c->cc->init(c);
}

const char *tcp_cc_name(const struct tcp_conn *c)
{
    return c->cc->name;
}

void tcp_cc_conn_init(struct tcp_conn *c)
{
    c->ssthresh = UINT32_MAX;
    tcp_cc_set(c, NULL);
}

void tcp_listener_set_cc(struct tcp_listener *l, const struct tcp_cc_ops *ops)
{
    l->cc = ops;
}

void tcp_cc_established(struct tcp_conn *c)
{
    /* RFC 6928: min(10 * MSS, max(2 * MSS, 14600)). */
    uint32_t iw = 2u * c->mss > 14600 ? 2u * c->mss : 14600;
    c->cwnd = TCP_IW_SEGS * (uint32_t)c->mss < iw ? TCP_IW_SEGS * (uint32_t)c->mss
                                                  : iw;
}

/* Enough SACKed above SND.UNA that the first hole counts as lost
 * (RFC 6675 §4 IsLost, with DupThresh segments' worth). */
static int tcp_sack_says_lost(const struct tcp_conn *c)
{
    return c->sacked.n > 0 &&
           tcp_ooo_bytes(&c->sacked) >= TCP_DUPACK_THRESH * (uint32_t)c->mss;
}

/* Fast retransmit and the start of fast recovery (RFC 5681 §3.2, RFC 6582,
 * RFC 6675 §5 when SACK is on: cwnd = ssthresh, resend by the scoreboard). */
static void tcp_enter_recovery(struct tcp_conn *c)
{
    c->ssthresh = c->cc->ssthresh(c, TCP_CC_LOSS);
    c->recover = c->snd_max;
    c->rexmit_next = c->snd_una;
    c->flags |= TCP_F_IN_RECOVERY;
    TCP_COUNT(c->t, fast_retransmits, c);
    if (c->flags & TCP_F_SACK_OK) {
        c->cwnd = c->ssthresh;
        tcp_sack_retransmit(c);
    } else {
        c->cwnd = c->ssthresh + TCP_DUPACK_THRESH * (uint32_t)c->mss;
        tcp_retransmit_first(c);
    }
}

/* Slow start counts the bytes an ACK covers (RFC 3465 §2.2), not one
 * segment per ACK: a peer that acknowledges a whole receive batch or a
 * super-frame at once (GRO; tapstack's own batches do the same) sends one
 * ACK for many segments, and growth by one segment per such ACK would turn
 * slow start linear. The burst this allows is bounded by what that ACK
 * took out of the network. Like Linux (tcp_slow_start), not past
 * ssthresh; the rest of the ACK goes to congestion avoidance. */
void tcp_cc_slow_start(struct tcp_conn *c, uint32_t acked)
{
    uint32_t room = c->ssthresh - c->cwnd;
    c->cwnd += acked < room ? acked : room;
}

/* Congestion window on a new ACK (RFC 5681 §3.1, RFC 6582 §3.2). */
void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked)
{
    if (c->flags & TCP_F_IN_RECOVERY) {
        if (seq_geq(c->snd_una, c->recover)) {
            /* Full ACK: leave recovery with cwnd deflated. */
            uint32_t flight = tcp_flight(c) + c->mss;
            c->cwnd = c->ssthresh < flight ? c->ssthresh : flight;
            c->flags &= ~TCP_F_IN_RECOVERY;
        } else if (c->flags & TCP_F_SACK_OK) {
            tcp_sack_retransmit(c);     /* partial ACK: next holes */
        } else {
            /* Partial ACK: the next hole is lost too; resend it now. */
            tcp_retransmit_first(c);
            c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
        }
    } else if (tcp_sack_says_lost(c)) {
        tcp_enter_recovery(c);
    } else {
        c->cc->on_ack(c, acked);
    }
    c->dupacks = 0;
}

/* Three duplicate ACKs: fast retransmit, then fast recovery. */
void tcp_cc_on_dupack(struct tcp_conn *c)
{
    TCP_COUNT(c->t, dup_acks, c);
    c->dupacks++;
    if (!(c->flags & TCP_F_IN_RECOVERY)) {
        if (c->dupacks >= TCP_DUPACK_THRESH || tcp_sack_says_lost(c))
            tcp_enter_recovery(c);
    } else if (c->flags & TCP_F_SACK_OK) {
        /* Only SACK news names a hole to resend (RFC 6675 §5 NextSeg). A
         * duplicate ACK without it (the peer got a duplicated segment)
         * must not resend SND.UNA again, once per such ACK. */
        if (c->sacked.n > 0)
            tcp_sack_retransmit(c);
    } else {
        c->cwnd += c->mss;      /* a segment has left the network */
    }
}

uint8_t tcp_cc_state(const struct tcp_conn *c)
{
    if (c->flags & TCP_F_IN_RECOVERY)
        return 3;
    if (c->retries > 0 && !(c->flags & TCP_F_PERSIST))
        return 4;
    return c->dupacks > 0 ? 1 : 0;
}

/* RFC 5681 §3.1: after a time-out, one segment; ssthresh by the algorithm
 * (RFC 5681 eq. 4 for NewReno, RFC 9438 §4.8 for CUBIC). A SYN's time-out
 * leaves the window alone: there is none yet. */
void tcp_cc_on_rto(struct tcp_conn *c)
{
    c->flags &= ~TCP_F_IN_RECOVERY;
    c->dupacks = 0;
    c->sacked.n = 0;    /* RFC 2018 §8: after a time-out, SACKs are not trusted */
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
        return;
    c->ssthresh = c->cc->ssthresh(c, TCP_CC_RTO);
    c->cwnd = c->mss;
}
