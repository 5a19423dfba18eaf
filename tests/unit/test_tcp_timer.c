/* tests/unit/test_tcp_timer.c - every TCP timer on two whole stacks
 * (suite `tcp_timer`).
 *
 * Two stacks on the harness wire (tests/unit/tcp_harness.h) with a fake
 * clock, so waits of minutes cost nothing and every deadline can be checked
 * to the millisecond: TIME-WAIT lasts 2 MSL (and restarts when the peer's
 * FIN comes again), the FIN-WAIT-2 limit of a closed socket, delayed ACKs,
 * keepalive, a zero window held for ten minutes (probed with back-off,
 * never aborted), the RTO doubling up to its cap, ETIMEDOUT for a dead peer
 * (data and SYNs) at the exact time the back-off predicts, and a time-out
 * whose callback aborts the next connection tcp_poll() was to visit.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define TM_PORT 5004
#define TM_FLAGS (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)

static const struct tcp_stats *tm_stats(struct th *h, int side)
{
    return &h->s[side].tcp.stats;
}

static int tm_first_error(struct th *h)
{
    return h->nconns > 0 && h->conns[0].n_error > 0;
}

/* The third connection made in a test (the first accepted is second). */
static int tm_third_error(struct th *h)
{
    return h->nconns > 2 && h->conns[2].n_error > 0;
}

/* ---- TIME-WAIT, FIN-WAIT-2, delayed ACK, keepalive ----------------------- */

/* TIME-WAIT lasts exactly 2 MSL, then the TCB is freed. */
static void test_time_wait_expiry(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    th_close(a);
    th_pump(h);
    th_close(b);
    th_pump(h);
    uint64_t tw_start = h->now;
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_time_wait, 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_B)->conns_now, 0);
    uint64_t two_msl = 2u * h->s[TH_A].cfg.tcp.msl_ms;
    th_advance(h, two_msl - 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_time_wait, 1);
    th_advance(h, 1);
    CU_ASSERT_EQUAL(h->now, tw_start + two_msl);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 0);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_time_wait, 0);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->closed, 1);
    CU_ASSERT_EQUAL(tcp_next_deadline(&h->s[TH_A].tcp), TS_NEVER);
    th_free(h);
}

/* A closed socket does not wait forever in FIN-WAIT-2 for a peer that
 * never closes (like Linux's tcp_fin_timeout): 2 MSL, then freed; the
 * peer's late FIN then meets a reset. */
static void test_fin_wait_2_timeout(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    struct tcp_conn *ac = a->c;
    th_close(a);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_FIN_WAIT_2);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_CLOSE_WAIT);
    uint64_t two_msl = 2u * h->s[TH_A].cfg.tcp.msl_ms;
    th_advance(h, two_msl - 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 1);
    th_advance(h, 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 0);
    th_close(b);
    th_pump(h);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->rst_sent_no_conn, 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_B)->conns_now, 0);
    th_free(h);
}

/* The last ACK of a close is lost: the peer's FIN comes again and is
 * ACKed from TIME-WAIT, which restarts its 2 MSL (RFC 9293 §3.10.7.4); the
 * peer is freed and TIME-WAIT ends 2 MSL after that second FIN. */
static void test_time_wait_restarted_by_fin(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    struct tcp_conn *ac = a->c;
    th_close(a);
    th_pump(h);
    th_rule_add(h, TH_A_TO_B, TM_FLAGS, TCP_ACK, 0, 0, 1, TH_DROP);
    th_close(b);
    th_pump(h);
    CU_ASSERT_EQUAL_FATAL(tcp_conn_state(ac), TCP_TIME_WAIT);
    CU_ASSERT_EQUAL(tm_stats(h, TH_B)->conns_now, 1);   /* LAST-ACK */
    uint64_t two_msl = 2u * h->s[TH_A].cfg.tcp.msl_ms;
    th_advance(h, 5000);
    CU_ASSERT_EQUAL(tm_stats(h, TH_B)->conns_now, 0);
    CU_ASSERT_EQUAL(tm_stats(h, TH_B)->retransmits, 1);
    long fin2 = th_find_seg(h, TH_B_TO_A, 0, TCP_FIN, TCP_FIN);
    fin2 = th_find_seg(h, TH_B_TO_A, fin2 + 1, TCP_FIN, TCP_FIN);
    CU_ASSERT_FATAL(fin2 > 0);
    uint64_t t_fin2 = h->log[TH_B_TO_A][fin2].t;
    CU_ASSERT_EQUAL(ac->tw_at, t_fin2 + two_msl);
    th_advance(h, t_fin2 + two_msl - 1 - h->now);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_time_wait, 1);
    th_advance(h, 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 0);
    th_free(h);
}

/* RFC 1122 §4.2.3.2 / RFC 5681 §4.2: a lone small segment is ACKed after
 * delack_ms; every second full-sized segment at once; and, as Linux does,
 * more than a full segment's worth in segments of mixed sizes at once. */
static void test_delayed_ack(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    th_advance(h, 1000);
    long from = (long)h->nseg[TH_B_TO_A];
    uint64_t t0 = h->now;
    th_send_stream(a, 100, 0);
    th_advance(h, 1000);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], (uint64_t)from + 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][from].t, t0 + h->s[TH_B].cfg.tcp.delack_ms);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][from].ack, a->c->snd_max);
    from = (long)h->nseg[TH_B_TO_A];
    t0 = h->now;
    th_send_stream(a, 2 * 1460, 0);
    th_pump(h);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], (uint64_t)from + 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][from].t, t0);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][from].ack, a->c->snd_max);
    th_advance(h, 1000);
    from = (long)h->nseg[TH_B_TO_A];
    t0 = h->now;
    th_send_stream(a, 100, 0);
    th_pump(h);
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], (uint64_t)from);   /* delayed */
    th_send_stream(a, 1460, 0);
    th_pump(h);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], (uint64_t)from + 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][from].t, t0);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][from].ack, a->c->snd_max);
    th_free(h);
}

/* Keepalive (RFC 1122 §4.2.3.6): probes after idle while the peer answers;
 * once it goes silent, keepalive_count unanswered probes a keepalive_intvl
 * apart, then reset and ETIMEDOUT. */
static void test_keepalive(void)
{
    struct th_opts o;
    th_config_default(&o);
    o.cfg[TH_A].tcp.keepalive_idle = 10000;
    o.cfg[TH_A].tcp.keepalive_intvl = 1000;
    o.cfg[TH_A].tcp.keepalive_count = 3;
    struct th *h = th_new(&o);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    tcp_set_keepalive(a->c, 1);
    th_advance(h, 25000);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->keepalive_probes, 2);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_ESTABLISHED);
    th_rule_add(h, TH_B_TO_A, 0, 0, -1, 0, 0, TH_DROP);
    CU_ASSERT_TRUE(th_run_until(h, tm_first_error, 60000));
    CU_ASSERT_EQUAL(a->err_seen, -ETIMEDOUT);
    CU_ASSERT_EQUAL(a->error_at, TH_T0 + 20000 + 10000 + 3 * 1000);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->keepalive_probes, 5);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conn_timeout, 1);
    CU_ASSERT_EQUAL(b->err_seen, -ECONNRESET);     /* A's last word */
    th_free(h);
}

/* ---- zero window ---------------------------------------------------------- */

/* B stops reading for ten minutes: A fills the window, then probes with
 * back-off up to rto_max, forever, never giving up. B's first window
 * update is lost as well; the next probe finds the window open. */
static void test_zero_window_long(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    b->auto_read = 0;
    th_send_stream(a, 1024 * 1024, 1);
    long first = (long)h->nseg[TH_A_TO_B];
    th_advance(h, 10 * 60 * 1000);
    CU_ASSERT_EQUAL(tcp_conn_readable(b->c), TH_BUF);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(a->n_error, 0);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conn_timeout, 0);
    uint64_t probes = tm_stats(h, TH_A)->zero_window_probes;
    CU_ASSERT(probes >= 15);
    /* The probes' spacing doubles, then stays at rto_max. */
    uint64_t t[64] = { 0 };
    unsigned n = 0;
    for (uint64_t i = (uint64_t)first; i < h->nseg[TH_A_TO_B] && n < 64; i++) {
        const struct th_seg *s = &h->log[TH_A_TO_B][i];
        if (s->len == 0 && s->seq == a->c->snd_una - 1)
            t[n++] = s->t;
    }
    CU_ASSERT_EQUAL(n, probes);     /* each counted probe is one on the wire */
    uint64_t rto_max = h->s[TH_A].cfg.tcp.rto_max;
    for (unsigned i = 2; i < n; i++) {
        uint64_t prev = t[i - 1] - t[i - 2], gap = t[i] - t[i - 1];
        CU_ASSERT_EQUAL(gap, prev * 2 < rto_max ? prev * 2 : rto_max);
    }
    CU_ASSERT_EQUAL(t[n - 1] - t[n - 2], rto_max);
    th_rule_add(h, TH_B_TO_A, TM_FLAGS, TCP_ACK, 0, 0, 1, TH_DROP);
    b->auto_read = 1;
    th_read(b);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, rto_max + 30000));
    CU_ASSERT_EQUAL(h->ndropped[TH_B_TO_A], 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 1024 * 1024);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    th_free(h);
}

/* ---- retransmission time-out ---------------------------------------------- */

/* Times of A's data segments from log index `from` into t; how many. */
static unsigned tm_data_times(const struct th *h, long from, uint64_t *t,
                              unsigned max)
{
    unsigned n = 0;
    for (uint64_t i = (uint64_t)from; i < h->nseg[TH_A_TO_B] && n < max; i++)
        if (h->log[TH_A_TO_B][i].len > 0)
            t[n++] = h->log[TH_A_TO_B][i].t;
    return n;
}

/* Everything is lost after the handshake: each retransmission waits twice
 * as long as the one before, up to rto_max; after max_retries the
 * connection is reset and reports ETIMEDOUT. */
static void test_rto_backoff(void)
{
    struct th_opts o;
    th_config_default(&o);
    o.cfg[TH_A].tcp.rto_max = 6400;
    o.cfg[TH_A].tcp.max_retries = 8;
    struct th *h = th_new(&o);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    CU_ASSERT_EQUAL(a->c->rto, o.cfg[TH_A].tcp.rto_min);
    th_rule_add(h, TH_ANY, 0, 0, -1, 0, 0, TH_DROP);
    long first = (long)h->nseg[TH_A_TO_B];
    uint64_t t0 = h->now;
    th_send_stream(a, 1000, 0);
    CU_ASSERT_TRUE(th_run_until(h, tm_first_error, 100000));
    uint64_t t[16] = { 0 };
    unsigned n = tm_data_times(h, first, t, 16);
    CU_ASSERT_EQUAL_FATAL(n, 9);        /* the original and 8 retransmissions */
    CU_ASSERT_EQUAL(t[0], t0);
    uint64_t want = 200;
    for (unsigned i = 1; i < n; i++) {
        CU_ASSERT_EQUAL(t[i] - t[i - 1], want);
        want = want * 2 < 6400 ? want * 2 : 6400;
    }
    CU_ASSERT_EQUAL(a->error_at, t[n - 1] + 6400);
    CU_ASSERT_EQUAL(a->err_seen, -ETIMEDOUT);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->retransmits, 8);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->rto_expired, 9);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conn_timeout, 1);
    th_free(h);
}

static void test_give_up_etimedout(void)
{
    struct th_opts o;
    th_config_default(&o);
    o.cfg[TH_A].tcp.max_retries = 3;
    struct th *h = th_new(&o);
    struct th_conn *a, *b;
    th_established_pair(h, TM_PORT, &a, &b);
    th_rule_add(h, TH_A_TO_B, 0, 0, -1, 0, 0, TH_DROP);
    uint64_t t0 = h->now;
    th_send_stream(a, 3000, 0);
    CU_ASSERT_TRUE(th_run_until(h, tm_first_error, 100000));
    CU_ASSERT_EQUAL(a->error_at, t0 + 200 + 400 + 800 + 1600);
    CU_ASSERT_EQUAL(a->n_error, 1);
    CU_ASSERT_EQUAL(a->err_seen, -ETIMEDOUT);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_CLOSED);
    char buf[8];
    CU_ASSERT_EQUAL(tcp_recv(a->c, buf, sizeof buf, h->now), -ETIMEDOUT);
    /* The last word was a reset (lost here, like everything else). */
    long last = (long)h->nseg[TH_A_TO_B] - 1;
    CU_ASSERT(h->log[TH_A_TO_B][last].flags & TCP_RST);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conn_timeout, 1);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    th_close(a);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 0);
    CU_ASSERT_EQUAL(tcp_next_deadline(&h->s[TH_A].tcp), TS_NEVER);
    th_free(h);
}

/* No answer to any SYN: max_syn_retries retransmissions with doubling
 * waits, then ETIMEDOUT (and no reset: there is nothing to reset). */
static void test_syn_give_up(void)
{
    struct th_opts o;
    th_config_default(&o);
    o.cfg[TH_A].tcp.max_syn_retries = 2;
    struct th *h = th_new(&o);
    th_listen(h, TH_B, TM_PORT, 4);
    th_rule_add(h, TH_A_TO_B, 0, 0, -1, 0, 0, TH_DROP);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TM_PORT);
    CU_ASSERT_TRUE(th_run_until(h, tm_first_error, 100000));
    uint32_t ri = o.cfg[TH_A].tcp.rto_init;
    CU_ASSERT_EQUAL(a->error_at, TH_T0 + ri + 2 * ri + 4 * ri);
    CU_ASSERT_EQUAL(a->err_seen, -ETIMEDOUT);
    CU_ASSERT_EQUAL(h->nseg[TH_A_TO_B], 3);
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(h->log[TH_A_TO_B][i].flags, TCP_SYN);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conn_timeout, 1);
    CU_ASSERT_EQUAL(tm_stats(h, TH_B)->conns_now, 0);
    th_close(a);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 0);
    th_free(h);
}

/* Lose everything one connection sends (by its client port). */
static int tm_drop_port(struct th *h, int dir, const struct th_seg *s)
{
    const uint16_t *port = h->hook_ctx;
    return dir == TH_A_TO_B && s->sport == *port ? TH_DROP : -1;
}

/* A connection times out inside tcp_poll() and its owner, on the ERROR
 * event, aborts another connection: the one tcp_poll() was about to visit
 * next. The walk must not touch the freed TCB (ASan would say so). */
static void test_timeout_callback_aborts_next(void)
{
    struct th_opts o;
    th_config_default(&o);
    o.cfg[TH_A].tcp.max_retries = 2;
    struct th *h = th_new(&o);
    struct th_conn *x, *bx;
    th_established_pair(h, TM_PORT, &x, &bx);
    struct th_conn *y = th_connect(h, TH_A, 0, TH_B_IP, TM_PORT);
    th_pump(h);
    struct th_conn *by = th_peer(h, y);
    CU_ASSERT_FATAL(by != NULL);
    /* The newest TCB heads the list, so tcp_poll() visits y, then x. */
    CU_ASSERT_PTR_EQUAL_FATAL(h->s[TH_A].tcp.all, y->c);
    CU_ASSERT_PTR_EQUAL_FATAL(y->c->next, x->c);
    uint16_t port = y->c->lport;
    h->hook = tm_drop_port;
    h->hook_ctx = &port;
    y->abort_on_error = x;
    th_send_stream(y, 1000, 0);
    CU_ASSERT_TRUE(th_run_until(h, tm_third_error, 60000));
    CU_ASSERT_EQUAL(y->err_seen, -ETIMEDOUT);
    CU_ASSERT_PTR_NULL(x->c);
    th_pump(h);
    CU_ASSERT_EQUAL(bx->n_error, 1);                /* x's RST reached B */
    CU_ASSERT_EQUAL(bx->err_seen, -ECONNRESET);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 1);   /* y, held */
    th_close(y);
    CU_ASSERT_EQUAL(tm_stats(h, TH_A)->conns_now, 0);
    th_free(h);
}

TS_SUITE(tcp_timer,
         TS_TEST(test_time_wait_expiry),
         TS_TEST(test_time_wait_restarted_by_fin),
         TS_TEST(test_fin_wait_2_timeout),
         TS_TEST(test_delayed_ack),
         TS_TEST(test_keepalive),
         TS_TEST(test_zero_window_long),
         TS_TEST(test_rto_backoff),
         TS_TEST(test_give_up_etimedout),
         TS_TEST(test_syn_give_up),
         TS_TEST(test_timeout_callback_aborts_next))
