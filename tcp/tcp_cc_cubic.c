/* tcp/tcp_cc_cubic.c - CUBIC (RFC 9438), the default algorithm.
 *
 * After a congestion event the window follows W_cubic(t) = C (t - K)^3 +
 * W_max (§4.2), C = 0.4 segments/s^3, with t the time since the congestion
 * avoidance epoch began: concave up to the old maximum W_max, a plateau
 * there, then convex probing beyond it. On loss ssthresh = 0.7 x the
 * flight (beta_cubic, §4.6); W_max shrinks further when the window had
 * not regained the previous maximum (fast convergence, §4.7). Where Reno
 * would be faster (short round trips, small windows), the window follows
 * W_est, an AIMD estimate with alpha = 3 (1 - beta) / (1 + beta) that goes
 * to 1 once it passes the window of the last congestion event (§4.3).
 * Slow start is the standard one (no HyStart).
 *
 * Integers only. Windows are bytes (W in segments times the MSS), times
 * are ms of the stack's clock, never the wall clock: C = 0.4 segments/s^3
 * is 0.4 * mss bytes per 10^9 ms^3. The growth toward the curve is counted
 * per byte acknowledged, as Linux counts segments, so delayed ACKs do not
 * halve it; what a division leaves is carried to the next ACK.
 * Entry points: tcp_cc_cubic ("cubic"), tcp_cubic_k_ms, tcp_cubic_window.
 */
#include "tcp/tcp_cc.h"

#include "tcp/tcp_conn.h"

#define CUBIC_BETA_NUM 7        /* beta_cubic = 0.7 */
#define CUBIC_BETA_DEN 10
#define CUBIC_FC_NUM 17         /* fast convergence: (1 + beta) / 2 = 0.85 */
#define CUBIC_FC_DEN 20
#define CUBIC_ALPHA_NUM 9       /* alpha_cubic = 3 (1 - beta) / (1 + beta) */
#define CUBIC_ALPHA_DEN 17      /*             = 0.9 / 1.7 = 9 / 17 */
#define CUBIC_EST_SHIFT 10      /* W_est is kept in 1/1024 bytes */
#define CUBIC_T_MAX (1u << 21)  /* |t - K| beyond ~35 min: the curve is
                                   off every scale anyway; no overflow */
#define CUBIC_CWND_MAX (1u << 30)   /* RFC 7323's largest window */

/* The largest r with r^3 <= x (r < 2^22: 2642245^3 < 2^64). */
static uint32_t cubic_cbrt(uint64_t x)
{
    uint32_t lo = 0, hi = 2642246;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)mid * mid * mid <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* K = cbrt((W_max - cwnd_epoch) / C) seconds with windows in segments;
 * in ms and bytes: cbrt(diff / (0.4 * mss) * 10^9) = cbrt(diff * 2.5e9 /
 * mss). diff < 2^32 and 2.5e9 < 2^32: the product fits 64 bits. */
uint32_t tcp_cubic_k_ms(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
    if (w_max <= cwnd_epoch || mss == 0)
        return 0;
    uint64_t diff = w_max - cwnd_epoch;
    return cubic_cbrt(diff * 2500000000ull / mss);
}

/* C * |t - K|^3 in bytes: d^3 (< 2^63) in units of 10^6 ms^3 first, so
 * that the product with the MSS fits; the error is under a byte. */
uint32_t tcp_cubic_window(uint32_t w_max, uint32_t k_ms, uint64_t t_ms,
                          uint32_t mss)
{
    int above = t_ms >= k_ms;
    uint64_t d = above ? t_ms - k_ms : k_ms - t_ms;
    if (d > CUBIC_T_MAX)
        d = CUBIC_T_MAX;
    uint64_t delta = d * d * d / 1000000u * mss * 2u / 5000u;
    if (above)
        return delta >= UINT32_MAX - w_max ? UINT32_MAX : w_max + (uint32_t)delta;
    return delta >= w_max ? 0 : w_max - (uint32_t)delta;
}

static void tcp_cubic_init(struct tcp_conn *c)
{
    (void)c;            /* tcp_cc_set zeroed c->ccs: no epoch, no W_max */
}

/* §4.2: a congestion avoidance epoch begins at its first ACK. After an
 * RTO (W_max 0) or when the window is already past the old maximum, the
 * curve starts at its plateau: K = 0, W_max = cwnd (§4.8). */
static void tcp_cubic_epoch(struct tcp_conn *c, struct tcp_cubic *cu)
{
    cu->in_epoch = 1;
    cu->epoch_start = c->t->now;
    cu->rest = 0;
    cu->w_est = (uint64_t)c->cwnd << CUBIC_EST_SHIFT;
    if (cu->w_max > c->cwnd) {
        cu->origin = cu->w_max;
        cu->k_ms = tcp_cubic_k_ms(cu->w_max, c->cwnd, c->mss);
    } else {
        cu->origin = cu->w_max = c->cwnd;
        cu->k_ms = 0;
    }
}

/* §4.3: W_est grows by alpha * segments acked / cwnd (segments), that is
 * by alpha * mss * acked / cwnd bytes; alpha is 1 once W_est has reached
 * the window of the last congestion event. */
static uint32_t tcp_cubic_est(struct tcp_conn *c, struct tcp_cubic *cu,
                              uint32_t acked)
{
    uint64_t num = ((uint64_t)c->mss * acked) << CUBIC_EST_SHIFT;
    if ((cu->w_est >> CUBIC_EST_SHIFT) >= cu->cwnd_prior)
        cu->w_est += num / c->cwnd;
    else
        cu->w_est += num * CUBIC_ALPHA_NUM / ((uint64_t)CUBIC_ALPHA_DEN * c->cwnd);
    uint64_t est = cu->w_est >> CUBIC_EST_SHIFT;
    return est > CUBIC_CWND_MAX ? CUBIC_CWND_MAX : (uint32_t)est;
}

static void tcp_cubic_on_ack(struct tcp_conn *c, uint32_t acked)
{
    struct tcp_cubic *cu = &c->ccs.cubic;
    if (c->cwnd < c->ssthresh) {
        tcp_cc_slow_start(c, acked);
        return;
    }
    if (!cu->in_epoch)
        tcp_cubic_epoch(c, cu);
    uint64_t now = c->t->now;
    uint64_t t = now > cu->epoch_start ? now - cu->epoch_start : 0;
    uint32_t est = tcp_cubic_est(c, cu, acked);
    if (tcp_cubic_window(cu->origin, cu->k_ms, t, c->mss) < est &&
        est > c->cwnd) {
        c->cwnd = est;              /* the Reno-friendly region */
        return;
    }
    /* §4.4-4.5: toward W_cubic one round trip ahead, by at most half the
     * window per window acknowledged. */
    uint32_t target = tcp_cubic_window(cu->origin, cu->k_ms, t + c->srtt / 8,
                                       c->mss);
    uint32_t most = c->cwnd + c->cwnd / 2;
    if (target > most)
        target = most;
    if (target <= c->cwnd || c->cwnd >= CUBIC_CWND_MAX)
        return;
    uint64_t num = (uint64_t)(target - c->cwnd) * acked + cu->rest;
    uint32_t inc = (uint32_t)(num / c->cwnd);
    cu->rest = (uint32_t)(num % c->cwnd);
    c->cwnd = inc > CUBIC_CWND_MAX - c->cwnd ? CUBIC_CWND_MAX : c->cwnd + inc;
}

/* §4.6-4.8: W_max (with fast convergence on loss; forgotten on an RTO,
 * where the next epoch starts at its plateau) and ssthresh = max(flight *
 * beta, 2 segments). */
static uint32_t tcp_cubic_ssthresh(struct tcp_conn *c, enum tcp_cc_signal sig)
{
    struct tcp_cubic *cu = &c->ccs.cubic;
    if (sig == TCP_CC_RTO)
        cu->w_max = 0;
    else if (c->cwnd < cu->w_max)
        cu->w_max = (uint32_t)((uint64_t)c->cwnd * CUBIC_FC_NUM / CUBIC_FC_DEN);
    else
        cu->w_max = c->cwnd;
    cu->cwnd_prior = c->cwnd;
    cu->in_epoch = 0;
    uint32_t th = (uint32_t)((uint64_t)tcp_flight(c) * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
    return th > 2u * c->mss ? th : 2u * c->mss;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = tcp_cubic_init,
    .on_ack = tcp_cubic_on_ack,
    .ssthresh = tcp_cubic_ssthresh,
};
