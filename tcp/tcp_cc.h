/* tcp/tcp_cc.h - congestion control: one small ops table per algorithm,
 * and the loss-recovery machinery every algorithm shares.
 *
 * What is common lives in tcp_cc.c: the initial window (RFC 6928), fast
 * retransmit and fast recovery (RFC 5681 §3.2, RFC 6582 NewReno partial
 * ACKs, RFC 6675 SACK recovery) and the collapse to one segment after a
 * retransmission time-out. What differs lives behind struct tcp_cc_ops,
 * one file per algorithm, as FreeBSD's cc_algo and smoltcp's Controller
 * split it: how the window grows on a new ACK (slow start and congestion
 * avoidance) and what the slow-start threshold becomes on a congestion
 * signal. The window itself stays in the TCB (c->cwnd, c->ssthresh, in
 * bytes), where the sender reads it; the algorithms keep their own state in
 * c->ccs.
 *
 * Algorithms: tcp_cc_newreno (RFC 5681, Linux's name "reno") and
 * tcp_cc_cubic (RFC 9438, "cubic", the default).
 * Entry points: tcp_cc_find, tcp_cc_set, tcp_cc_name, tcp_cc_conn_init,
 * tcp_cc_established, tcp_cc_on_ack, tcp_cc_on_dupack, tcp_cc_on_rto,
 * tcp_cubic_k_ms, tcp_cubic_window.
 */
#ifndef TS_TCP_TCP_CC_H
#define TS_TCP_TCP_CC_H

#include <stdint.h>

struct tcp_conn;

/* Longest algorithm name, with its NUL (Linux's TCP_CA_NAME_MAX). */
#define TCP_CC_NAME_MAX 16

/* What brought a congestion signal. */
enum tcp_cc_signal {
    TCP_CC_LOSS,            /* fast retransmit: entering fast recovery */
    TCP_CC_RTO,             /* retransmission time-out */
};

/* CUBIC's per-connection state (tcp_cc_cubic.c). Windows in bytes, times
 * in ms of the stack's clock (c->t->now). */
struct tcp_cubic {
    uint32_t w_max;         /* W_max: cwnd before the last reduction,
                               after fast convergence; 0 after an RTO */
    uint32_t cwnd_prior;    /* cwnd at the last congestion event */
    uint32_t origin;        /* the plateau of this epoch's curve */
    uint32_t k_ms;          /* K: time from the epoch start to the plateau */
    uint32_t rest;          /* growth carried between ACKs (bytes * cwnd) */
    int in_epoch;           /* a congestion-avoidance epoch is running */
    uint64_t epoch_start;   /* t_epoch, ms */
    uint64_t w_est;         /* W_est (Reno-friendly estimate), bytes << 10 */
};

union tcp_cc_state {
    struct tcp_cubic cubic;
};

struct tcp_cc_ops {
    const char *name;       /* Linux's name: what TCP_CONGESTION takes */
    /* Forget any state of the algorithm's own (connection start, or the
     * algorithm chosen for a running connection). */
    void (*init)(struct tcp_conn *c);
    /* A new ACK of `acked` bytes outside recovery: grow c->cwnd (slow start
     * below c->ssthresh, congestion avoidance above it). */
    void (*on_ack)(struct tcp_conn *c, uint32_t acked);
    /* A congestion signal: the new slow-start threshold (bytes, at least 2
     * segments). The caller sets cwnd from it. */
    uint32_t (*ssthresh)(struct tcp_conn *c, enum tcp_cc_signal sig);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;
#define TCP_CC_DEFAULT (&tcp_cc_cubic)

/* tcp_cc_find, tcp_cc_set, tcp_cc_name and tcp_listener_set_cc are the
 * socket API's, in tcp/tcp.h. */

/* A new TCB: the layer's algorithm, no threshold yet. */
void tcp_cc_conn_init(struct tcp_conn *c);
/* The handshake is done: the initial window (RFC 6928). */
void tcp_cc_established(struct tcp_conn *c);
/* SND.UNA moved on by acked bytes (after SND.UNA was updated). */
void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked);
/* Slow start by the bytes acknowledged, up to ssthresh (RFC 3465). */
void tcp_cc_slow_start(struct tcp_conn *c, uint32_t acked);
/* A duplicate ACK (RFC 5681 §2 definition). */
void tcp_cc_on_dupack(struct tcp_conn *c);
/* The retransmission timer expired (before SND.NXT is rewound). */
void tcp_cc_on_rto(struct tcp_conn *c);
/* Where c stands, in Linux's tcpi_ca_state numbers (TCP_CA_Open 0,
 * Disorder 1, Recovery 3, Loss 4: an RTO not yet followed by a new ACK). */
uint8_t tcp_cc_state(const struct tcp_conn *c);

/* CUBIC's curve (RFC 9438 §4.2), in integers, exposed for the tests.
 * K in ms for a plateau w_max and a window cwnd_epoch at the epoch start
 * (bytes, segments of mss): cbrt((w_max - cwnd_epoch) / (C * mss)). */
uint32_t tcp_cubic_k_ms(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss);
/* W_cubic(t) = C * (t - K)^3 + W_max in bytes, t and K in ms; 0 when the
 * curve is below zero, capped at 4 GiB - 1. */
uint32_t tcp_cubic_window(uint32_t w_max, uint32_t k_ms, uint64_t t_ms,
                          uint32_t mss);

#endif
