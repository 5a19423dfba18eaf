/* tcp/tcp_cc_newreno.c - NewReno's window (RFC 5681 §3.1, RFC 6582): slow
 * start by one segment per ACK, congestion avoidance by about one segment
 * per round trip, and half the flight as the threshold on any congestion
 * signal. Fast recovery itself is shared (tcp_cc.c).
 * Entry point: tcp_cc_newreno (Linux's name "reno").
 */
#include "tcp/tcp_cc.h"

#include "tcp/tcp_conn.h"

static void tcp_newreno_init(struct tcp_conn *c)
{
    (void)c;            /* no state beyond cwnd and ssthresh */
}

static void tcp_newreno_on_ack(struct tcp_conn *c, uint32_t acked)
{
    if (c->cwnd < c->ssthresh) {
        tcp_cc_slow_start(c, acked);
    } else {
        uint32_t inc = (uint32_t)c->mss * c->mss / c->cwnd;
        c->cwnd += inc ? inc : 1;                          /* avoidance */
    }
}

/* RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t tcp_newreno_ssthresh(struct tcp_conn *c, enum tcp_cc_signal sig)
{
    (void)sig;
    uint32_t half = tcp_flight(c) / 2;
    return half > 2u * c->mss ? half : 2u * c->mss;
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "reno",
    .init = tcp_newreno_init,
    .on_ack = tcp_newreno_on_ack,
    .ssthresh = tcp_newreno_ssthresh,
};
