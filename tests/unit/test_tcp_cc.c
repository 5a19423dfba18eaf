/* tests/unit/test_tcp_cc.c - congestion control (suite `tcp_cc`).
 *
 * The ops table's algorithms alone, on a bare TCB with a fake clock: the
 * RFC 6928 initial window; NewReno's window arithmetic, the same as before
 * it moved behind the table; CUBIC's K and W_cubic(t) against RFC 9438's
 * formula computed in floating point, the decrease to 0.7, fast
 * convergence, and the Reno-friendly region against a floating-point
 * W_est. Then on the two-stack harness with a 100 ms round trip (the fault
 * injector's delay): ten segments in the first flight, CUBIC's window
 * following the curve after a loss and NewReno's growing by at most a
 * segment per round trip, and bulk transfers under the fault injector's
 * loss delivered byte for byte under both algorithms.
 */
#include <string.h>

#include "tcp/tcp_cc.h"
#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define CC_PORT 5003

/* ---- a bare TCB ---------------------------------------------------------- */

struct cc_fake {
    struct tcp_layer t;
    struct tcp_conn c;
};

static void cc_fake_init(struct cc_fake *f, const struct tcp_cc_ops *ops,
                         uint16_t mss)
{
    memset(f, 0, sizeof *f);
    tcp_config_default(&f->t.cfg);
    f->t.now = TH_T0;
    f->c.t = &f->t;
    f->c.mss = mss;
    f->c.snd_una = f->c.snd_nxt = f->c.snd_max = 1000;
    tcp_cc_conn_init(&f->c);
    tcp_cc_set(&f->c, ops);
}

static void cc_fake_flight(struct cc_fake *f, uint32_t bytes)
{
    f->c.snd_nxt = f->c.snd_max = f->c.snd_una + bytes;
}

/* What tcp_cc.c does on entering SACK recovery: the algorithm's ssthresh,
 * cwnd = ssthresh. */
static void cc_fake_loss(struct cc_fake *f)
{
    f->c.ssthresh = f->c.cc->ssthresh(&f->c, TCP_CC_LOSS);
    f->c.cwnd = f->c.ssthresh;
}

/* One round trip: ACKs for a window's worth, a segment each, at one
 * instant; then the clock moves on by rtt. */
static void cc_fake_round(struct cc_fake *f, uint32_t rtt)
{
    uint32_t left = f->c.cwnd;
    while (left > 0) {
        uint32_t n = left < f->c.mss ? left : f->c.mss;
        f->c.cc->on_ack(&f->c, n);
        left -= n;
    }
    f->t.now += rtt;
}

/* Cube root by Newton's method (no libm in the unit tests). */
static double cc_cbrt(double x)
{
    if (x <= 0)
        return 0;
    double r = x > 1 ? x / 3 : 1;
    for (int i = 0; i < 200; i++)
        r -= (r * r * r - x) / (3 * r * r);
    return r;
}

/* RFC 9438 §4.2 in floating point: bytes, t in ms. */
static double cc_w_cubic(double w_max, double k_ms, double t_ms, double mss)
{
    double d = (t_ms - k_ms) / 1000.0;
    return 0.4 * d * d * d * mss + w_max;
}

static double cc_k_ms(double w_max, double cwnd_epoch, double mss)
{
    return 1000.0 * cc_cbrt((w_max - cwnd_epoch) / (0.4 * mss));
}

static void test_cc_table(void)
{
    CU_ASSERT_PTR_EQUAL(tcp_cc_find("cubic"), &tcp_cc_cubic);
    CU_ASSERT_PTR_EQUAL(tcp_cc_find("reno"), &tcp_cc_newreno);
    CU_ASSERT_PTR_EQUAL(tcp_cc_find("newreno"), &tcp_cc_newreno);
    CU_ASSERT_PTR_NULL(tcp_cc_find("vegas"));
    CU_ASSERT_PTR_NULL(tcp_cc_find("CUBIC"));
    CU_ASSERT_PTR_NULL(tcp_cc_find(""));
    struct cc_fake f;
    cc_fake_init(&f, NULL, 1460);
    CU_ASSERT_STRING_EQUAL(tcp_cc_name(&f.c), "cubic");    /* the default */
    CU_ASSERT_EQUAL(f.c.ssthresh, UINT32_MAX);
    f.t.cfg.cc = &tcp_cc_newreno;           /* a stack that chose NewReno */
    tcp_cc_conn_init(&f.c);
    CU_ASSERT_STRING_EQUAL(tcp_cc_name(&f.c), "reno");
    tcp_cc_set(&f.c, &tcp_cc_cubic);
    CU_ASSERT_STRING_EQUAL(tcp_cc_name(&f.c), "cubic");
}

/* What `ss -i` and TCP_INFO read: the name and Linux's tcpi_ca_state. */
static void test_cc_info(void)
{
    struct cc_fake f;
    struct tcp_conn_info ci;
    cc_fake_init(&f, &tcp_cc_newreno, 1460);
    tcp_conn_info(&f.c, &ci);
    CU_ASSERT_STRING_EQUAL(ci.cc, "reno");
    CU_ASSERT_EQUAL(ci.ca_state, 0);            /* TCP_CA_Open */
    f.c.dupacks = 1;
    tcp_conn_info(&f.c, &ci);
    CU_ASSERT_EQUAL(ci.ca_state, 1);            /* TCP_CA_Disorder */
    f.c.flags |= TCP_F_IN_RECOVERY;
    tcp_conn_info(&f.c, &ci);
    CU_ASSERT_EQUAL(ci.ca_state, 3);            /* TCP_CA_Recovery */
    f.c.flags &= ~TCP_F_IN_RECOVERY;
    f.c.dupacks = 0;
    f.c.retries = 1;
    tcp_conn_info(&f.c, &ci);
    CU_ASSERT_EQUAL(ci.ca_state, 4);            /* TCP_CA_Loss */
    f.c.flags |= TCP_F_PERSIST;                 /* probing is not a loss */
    tcp_conn_info(&f.c, &ci);
    CU_ASSERT_EQUAL(ci.ca_state, 0);
    tcp_rtt_sample(&f.c, 5);                    /* one 5 ms sample */
    tcp_conn_info(&f.c, &ci);
    CU_ASSERT_EQUAL(ci.rtt_us, 5000);           /* srtt is kept in 1/8 ms */
    CU_ASSERT_EQUAL(ci.rttvar_us, 2500);
}

/* RFC 6928: min(10 * MSS, max(2 * MSS, 14600)). */
static void test_cc_initial_window(void)
{
    static const uint16_t mss[] = { 536, 1460, 4000, 8960, 65495 };
    static const uint32_t want[] = { 5360, 14600, 14600, 17920, 130990 };
    for (unsigned i = 0; i < 5; i++) {
        struct cc_fake f;
        cc_fake_init(&f, NULL, mss[i]);
        tcp_cc_established(&f.c);
        CU_ASSERT_EQUAL(f.c.cwnd, want[i]);
    }
}

/* NewReno's window arithmetic: slow start by the bytes acknowledged (RFC
 * 3465, so a stretch ACK for many segments counts them all) up to
 * ssthresh, avoidance by MSS^2 / cwnd per ACK, half the flight. */
static void test_newreno_arithmetic(void)
{
    struct cc_fake f;
    cc_fake_init(&f, &tcp_cc_newreno, 1460);
    tcp_cc_established(&f.c);
    f.c.cc->on_ack(&f.c, 1000);
    CU_ASSERT_EQUAL(f.c.cwnd, 15600);
    f.c.cc->on_ack(&f.c, 2920);
    CU_ASSERT_EQUAL(f.c.cwnd, 18520);           /* a stretch ACK: both */
    f.c.ssthresh = 20000;
    f.c.cc->on_ack(&f.c, 14600);
    CU_ASSERT_EQUAL(f.c.cwnd, 20000);           /* never past ssthresh */
    cc_fake_flight(&f, 100000);
    CU_ASSERT_EQUAL(f.c.cc->ssthresh(&f.c, TCP_CC_LOSS), 50000);
    CU_ASSERT_EQUAL(f.c.cc->ssthresh(&f.c, TCP_CC_RTO), 50000);
    cc_fake_flight(&f, 3000);
    CU_ASSERT_EQUAL(f.c.cc->ssthresh(&f.c, TCP_CC_LOSS), 2920);
    f.c.cwnd = f.c.ssthresh = 50000;
    f.c.cc->on_ack(&f.c, 1460);
    CU_ASSERT_EQUAL(f.c.cwnd, 50000 + 1460 * 1460 / 50000);
    f.c.cc->on_ack(&f.c, 10);       /* per ACK, whatever it covers */
    CU_ASSERT_EQUAL(f.c.cwnd, 50042 + 1460 * 1460 / 50042);
}

/* K: the largest whole ms with C K^3 <= W_max - cwnd_epoch. */
static void test_cubic_k(void)
{
    CU_ASSERT_EQUAL(tcp_cubic_k_ms(100000, 70000, 1000), 4217);  /* cbrt 75 */
    CU_ASSERT_EQUAL(tcp_cubic_k_ms(70000, 70000, 1000), 0);
    CU_ASSERT_EQUAL(tcp_cubic_k_ms(50000, 70000, 1000), 0);
    static const uint32_t cases[][3] = {
        { 146000, 102200, 1460 }, { 14600, 10220, 1460 }, { 3000, 2100, 536 },
        { 1u << 30, 1u << 28, 1460 }, { UINT32_MAX, 0, 64 },
        { 1000000, 999999, 65495 },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x = (double)(cases[i][0] - cases[i][1]) * 2.5e9 / cases[i][2];
        double k = tcp_cubic_k_ms(cases[i][0], cases[i][1], cases[i][2]);
        CU_ASSERT(k * k * k <= x);
        CU_ASSERT((k + 1) * (k + 1) * (k + 1) > x - 1);
    }
}

/* W_cubic(t) against the formula at several times, within a few bytes. */
static void test_cubic_window_curve(void)
{
    const double mss = 1460, w_max = 100 * 1460;
    uint32_t k = tcp_cubic_k_ms(146000, 102200, 1460);
    CU_ASSERT(k > 4200 && k < 4230);
    static const uint64_t t[] = { 0, 500, 1000, 2500, 4000, 4217, 5000,
                                  8000, 20000, 60000 };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        double want = cc_w_cubic(w_max, k, (double)t[i], mss);
        double got = tcp_cubic_window(146000, k, t[i], 1460);
        CU_ASSERT(got - want < 2 && want - got < 2);
    }
    /* At t = 0 the curve starts from about 0.7 W_max (K chosen so). */
    uint32_t w0 = tcp_cubic_window(146000, k, 0, 1460);
    CU_ASSERT(w0 >= 102200 - 1460 && w0 <= 102200 + 1460);
    /* Off every scale: saturated, never wrapped. */
    CU_ASSERT_EQUAL(tcp_cubic_window(146000, 0, 100000000, 1460), UINT32_MAX);
    CU_ASSERT_EQUAL(tcp_cubic_window(146000, 100000000, 0, 1460), 0);
}

/* §4.6: ssthresh = 0.7 x the flight (at least 2 segments); W_max and
 * cwnd_prior the window at the event. */
static void test_cubic_decrease(void)
{
    struct cc_fake f;
    cc_fake_init(&f, &tcp_cc_cubic, 1000);
    f.c.cwnd = 100000;
    cc_fake_flight(&f, 100000);
    cc_fake_loss(&f);
    CU_ASSERT_EQUAL(f.c.ssthresh, 70000);
    CU_ASSERT_EQUAL(f.c.cwnd, 70000);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.w_max, 100000);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.cwnd_prior, 100000);
    f.c.cwnd = 100000;
    cc_fake_flight(&f, 50000);          /* application-limited: the flight */
    CU_ASSERT_EQUAL(f.c.cc->ssthresh(&f.c, TCP_CC_LOSS), 35000);
    cc_fake_flight(&f, 2000);
    CU_ASSERT_EQUAL(f.c.cc->ssthresh(&f.c, TCP_CC_LOSS), 2000);
}

/* §4.7: a loss before the window regained W_max lowers W_max to
 * cwnd (1 + beta) / 2; a loss above it sets W_max = cwnd. */
static void test_cubic_fast_convergence(void)
{
    struct cc_fake f;
    cc_fake_init(&f, &tcp_cc_cubic, 1000);
    cc_fake_flight(&f, 100000);
    f.c.cwnd = 100000;
    cc_fake_loss(&f);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.w_max, 100000);
    f.c.cwnd = 80000;
    cc_fake_loss(&f);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.w_max, 68000);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.cwnd_prior, 80000);
    f.c.cwnd = 90000;
    cc_fake_loss(&f);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.w_max, 90000);
    /* §4.8: after an RTO the next epoch starts at its plateau. */
    f.c.ssthresh = f.c.cc->ssthresh(&f.c, TCP_CC_RTO);
    f.c.cwnd = f.c.ssthresh;
    f.c.srtt = 8 * 100;
    f.c.cc->on_ack(&f.c, 1000);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.k_ms, 0);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.origin, 70000);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.w_max, 70000);
}

/* After a loss at 100 segments, a 200 ms round trip (long enough that the
 * curve stays above Reno's estimate for these 8 s): each round's window
 * lies between the curve one round trip back and one ahead (it grows
 * toward W_cubic(t + RTT) as the round's ACKs arrive). */
static void test_cubic_follows_curve(void)
{
    struct cc_fake f;
    cc_fake_init(&f, &tcp_cc_cubic, 1000);
    f.c.srtt = 8 * 200;
    f.c.cwnd = 100000;
    cc_fake_flight(&f, 100000);
    cc_fake_loss(&f);
    double k = cc_k_ms(100000, 70000, 1000);
    uint64_t t0 = f.t.now;
    unsigned bad = 0, at_plateau = 0;
    for (int r = 0; r < 40; r++) {
        cc_fake_round(&f, 200);
        double t = (double)(f.t.now - t0);
        double lo = cc_w_cubic(100000, k, t - 200, 1000) - 1000;
        double hi = cc_w_cubic(100000, k, t + 200, 1000) + 1;
        bad += f.c.cwnd < lo || f.c.cwnd > hi;
        if (t > k - 200 && t < k + 200)
            at_plateau += f.c.cwnd >= 99000 && f.c.cwnd <= 101000;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(at_plateau >= 1);
    CU_ASSERT_EQUAL(f.c.ccs.cubic.k_ms, tcp_cubic_k_ms(100000, 70000, 1000));
    CU_ASSERT(f.c.cwnd > 110000);       /* convex: probing past W_max */
}

/* Short round trips: Reno would be faster, so the window is W_est, which
 * grows by alpha = 9/17 segment per round trip until it passes the window
 * of the loss, then by one (§4.3). Modelled here in floating point. */
static void test_cubic_reno_friendly(void)
{
    struct cc_fake f;
    cc_fake_init(&f, &tcp_cc_cubic, 1000);
    f.c.srtt = 8 * 10;
    f.c.cwnd = 20000;
    cc_fake_flight(&f, 20000);
    cc_fake_loss(&f);
    CU_ASSERT_EQUAL(f.c.cwnd, 14000);
    double est = 14000, cwnd = 14000;
    unsigned far = 0;
    uint32_t before = 0, growth_slow = 0, growth_fast = 0;
    for (int r = 0; r < 60; r++) {
        uint32_t left = f.c.cwnd;
        before = f.c.cwnd;
        while (left > 0) {
            uint32_t n = left < 1000 ? left : 1000;
            f.c.cc->on_ack(&f.c, n);
            est += (est >= 20000 ? 1.0 : 9.0 / 17.0) * 1000.0 * n / cwnd;
            cwnd = est > cwnd ? (double)(uint32_t)est : cwnd;
            left -= n;
        }
        f.t.now += 10;
        double d = f.c.cwnd - est;
        far += d > 20 || d < -20;
        if (r == 2)
            growth_slow = f.c.cwnd - before;
        if (r == 50)
            growth_fast = f.c.cwnd - before;
    }
    CU_ASSERT_EQUAL(far, 0);
    CU_ASSERT(growth_slow >= 500 && growth_slow <= 560);    /* 9/17 MSS */
    CU_ASSERT(growth_fast >= 980 && growth_fast <= 1010);   /* 1 MSS */
    /* Still far below W_cubic's own reach at 0.6 s: Reno's region. */
    CU_ASSERT(tcp_cubic_window(f.c.ccs.cubic.origin, f.c.ccs.cubic.k_ms,
                               600, 1000) < f.c.cwnd);
}

/* ---- on the wire ------------------------------------------------------- */

/* A spy around an algorithm: what the stack hands it on a loss and at the
 * start of the congestion-avoidance epoch. */
struct cc_spy {
    const struct tcp_cc_ops *real;
    unsigned losses;
    uint32_t flight, cwnd, result;      /* at the first loss */
    uint32_t cwnd_epoch;                /* at the first epoch's start */
    uint64_t epoch_at;
    int epoch_seen;
};
static struct cc_spy cc_spy;

static uint32_t cc_spy_ssthresh(struct tcp_conn *c, enum tcp_cc_signal sig)
{
    uint32_t r = cc_spy.real->ssthresh(c, sig);
    if (cc_spy.losses++ == 0) {
        cc_spy.flight = tcp_flight(c);
        cc_spy.cwnd = c->cwnd;
        cc_spy.result = r;
    }
    return r;
}

static void cc_spy_on_ack(struct tcp_conn *c, uint32_t acked)
{
    int in_ca = c->cwnd >= c->ssthresh;
    if (cc_spy.losses && in_ca && !cc_spy.epoch_seen) {
        cc_spy.epoch_seen = 1;
        cc_spy.cwnd_epoch = c->cwnd;
        cc_spy.epoch_at = c->t->now;
    }
    cc_spy.real->on_ack(c, acked);
}

static void cc_spy_init(struct tcp_conn *c)
{
    cc_spy.real->init(c);
}

static const struct tcp_cc_ops cc_spy_ops = {
    .name = "spy", .init = cc_spy_init, .on_ack = cc_spy_on_ack,
    .ssthresh = cc_spy_ssthresh,
};

static int cc_accepted(struct th *h)
{
    return h->lis[TH_B].accepted > 0 && h->conns[0].n_connected > 0;
}

/* A at 10.0.0.1 behind a 100 ms delay each way (a 200 ms round trip),
 * 4 MiB buffers, one data segment from A to be lost (the 101st: in the
 * fifth round of slow start, delayed ACKs making it 1.5x a round). */
static struct th *cc_wire(struct th_conn **a, struct th_conn **b,
                          const struct tcp_cc_ops *real)
{
    static const struct faultdev_config delay = { .delay_ms = 100, .seed = 1 };
    struct th_opts o;
    th_config_default(&o);
    for (int i = 0; i < 2; i++)
        o.cfg[i].tcp.sndbuf = o.cfg[i].tcp.rcvbuf = 4u << 20;
    o.fault[TH_A] = &delay;
    struct th *h = th_new(&o);
    th_listen(h, TH_B, CC_PORT, 4);
    *a = th_connect(h, TH_A, 0, TH_B_IP, CC_PORT);
    CU_ASSERT_FATAL(th_run_until(h, cc_accepted, 5000));
    *b = th_peer(h, *a);
    CU_ASSERT_FATAL(*b != NULL);
    memset(&cc_spy, 0, sizeof cc_spy);
    cc_spy.real = real;
    tcp_cc_set((*a)->c, &cc_spy_ops);
    th_rule_add(h, TH_A_TO_B, 0, 0, 1, 100, 1, TH_DROP);
    return h;
}

/* IW10: the first flight is ten full segments, then A waits for ACKs. */
static void test_wire_initial_window(void)
{
    struct th_conn *a, *b;
    struct th *h = cc_wire(&a, &b, &tcp_cc_cubic);
    CU_ASSERT_EQUAL(a->c->cwnd, 14600);
    uint64_t first = h->nseg[TH_A_TO_B];
    th_send_stream(a, 1u << 20, 0);
    th_advance(h, 150);                 /* before the first ACK is back */
    unsigned data = 0;
    for (uint64_t i = first; i < h->nseg[TH_A_TO_B] && i < TH_LOG_MAX; i++)
        data += h->log[TH_A_TO_B][i].len == 1460;
    CU_ASSERT_EQUAL(data, 10);
    CU_ASSERT_EQUAL(h->nseg[TH_A_TO_B] - first, 10);
    CU_ASSERT_EQUAL(b->rx_bytes, 14600);
    CU_ASSERT_EQUAL(tcp_flight(a->c), 14600);
    h->check_pool = 0;
    th_free(h);
}

/* CUBIC on the wire: the loss takes ssthresh to 0.7 x the flight, W_max
 * to the window then; every 100 ms afterwards the window lies within one
 * round trip of the curve through the epoch's start. */
static void test_wire_cubic_curve(void)
{
    struct th_conn *a, *b;
    struct th *h = cc_wire(&a, &b, &tcp_cc_cubic);
    th_send_stream(a, 64u << 20, 0);
    th_advance(h, 2000);
    /* Recovery ends, then slow start up to ssthresh; the epoch starts at
     * the first ACK in congestion avoidance, whenever the ACK clock (one
     * ACK per receive batch) brings it. */
    for (int i = 0; i < 80 && !cc_spy.epoch_seen; i++)
        th_advance(h, 50);
    CU_ASSERT_EQUAL_FATAL(cc_spy.losses, 1);
    CU_ASSERT_EQUAL(cc_spy.result, cc_spy.flight * 7 / 10);
    CU_ASSERT_EQUAL(a->c->ccs.cubic.cwnd_prior, cc_spy.cwnd);
    CU_ASSERT_EQUAL(a->c->ccs.cubic.w_max, cc_spy.cwnd);
    CU_ASSERT_FATAL(cc_spy.epoch_seen);
    double w_max = cc_spy.cwnd;
    double k = cc_k_ms(w_max, cc_spy.cwnd_epoch, 1460);
    CU_ASSERT(a->c->ccs.cubic.k_ms + 1 >= k && a->c->ccs.cubic.k_ms <= k + 1);
    unsigned bad = 0, samples = 0;
    double rtt = 0;
    for (int i = 0; i < 60; i++) {
        th_advance(h, 100);
        rtt = a->c->srtt / 8.0;
        double t = (double)(h->now - cc_spy.epoch_at);
        double lo = cc_w_cubic(w_max, k, t - rtt, 1460) - 2 * 1460;
        double hi = cc_w_cubic(w_max, k, t + rtt, 1460) + 1460;
        bad += a->c->cwnd < lo || a->c->cwnd > hi;
        samples++;
    }
    CU_ASSERT_EQUAL(cc_spy.losses, 1);
    CU_ASSERT(rtt >= 200 && rtt < 260);
    CU_ASSERT_EQUAL(samples, 60);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(a->c->cwnd > w_max);      /* past the plateau by now */
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    h->check_pool = 0;
    th_free(h);
}

/* NewReno on the same wire: half the flight, then at most one segment per
 * round trip (about half that with delayed ACKs). */
static void test_wire_newreno(void)
{
    struct th_conn *a, *b;
    struct th *h = cc_wire(&a, &b, &tcp_cc_newreno);
    th_send_stream(a, 64u << 20, 0);
    th_advance(h, 2000);
    /* Recovery ends, then slow start up to ssthresh; the epoch starts at
     * the first ACK in congestion avoidance, whenever the ACK clock (one
     * ACK per receive batch) brings it. */
    for (int i = 0; i < 80 && !cc_spy.epoch_seen; i++)
        th_advance(h, 50);
    CU_ASSERT_EQUAL_FATAL(cc_spy.losses, 1);
    CU_ASSERT_EQUAL(cc_spy.result, cc_spy.flight / 2);
    uint32_t w0 = a->c->cwnd;
    th_advance(h, 3000);                /* 15 round trips */
    uint32_t grown = a->c->cwnd - w0;
    CU_ASSERT(grown > 0 && grown <= 16 * 1460);
    CU_ASSERT_EQUAL(cc_spy.losses, 1);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    h->check_pool = 0;
    th_free(h);
}

/* ---- bulk data under the fault injector's loss ---------------------- */

static int cc_bulk(const struct tcp_cc_ops *ops, uint64_t seed)
{
    struct faultdev_config fc = { .loss = 0.02, .delay_ms = 5, .seed = seed };
    struct th_opts o;
    th_config_default(&o);
    o.fault[TH_A] = &fc;
    for (int i = 0; i < 2; i++)
        o.cfg[i].tcp.cc = ops;
    struct th *h = th_new(&o);
    th_listen(h, TH_B, CC_PORT, 4);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, CC_PORT);
    int ok = th_run_until(h, cc_accepted, 60000);
    struct th_conn *b = th_peer(h, a);
    const uint64_t n = 1u << 20;
    if (ok && b) {
        CU_ASSERT_STRING_EQUAL(tcp_cc_name(a->c), ops->name);
        th_send_stream(a, n, 1);
        th_send_stream(b, n / 4, 1);
        ok = th_run_until(h, th_all_done, 3600000);
    }
    const struct faultdev_stats *fs = faultdev_stats(h->fault[TH_A]);
    ok = ok && b && b->rx_bytes == n && a->rx_bytes == n / 4 && !a->rx_bad &&
         !b->rx_bad && a->rx_eof && b->rx_eof && fs->tx.dropped > 0 &&
         fs->rx.dropped > 0;
    h->check_pool = 0;
    th_free(h);
    return ok;
}

static void test_bulk_loss_both(void)
{
    unsigned failed = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        failed += !cc_bulk(&tcp_cc_cubic, seed);
        failed += !cc_bulk(&tcp_cc_newreno, seed);
    }
    CU_ASSERT_EQUAL(failed, 0);
}

TS_SUITE(tcp_cc,
         TS_TEST(test_cc_table),
         TS_TEST(test_cc_info),
         TS_TEST(test_cc_initial_window),
         TS_TEST(test_newreno_arithmetic),
         TS_TEST(test_cubic_k),
         TS_TEST(test_cubic_window_curve),
         TS_TEST(test_cubic_decrease),
         TS_TEST(test_cubic_fast_convergence),
         TS_TEST(test_cubic_follows_curve),
         TS_TEST(test_cubic_reno_friendly),
         TS_TEST(test_wire_initial_window),
         TS_TEST(test_wire_cubic_curve),
         TS_TEST(test_wire_newreno),
         TS_TEST(test_bulk_loss_both))
