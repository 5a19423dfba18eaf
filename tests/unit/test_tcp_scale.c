/* tests/unit/test_tcp_scale.c - tables and memory that scale (suite
 * `tcp_scale`), on the two-stack harness.
 *
 * 10,000 established connections held on memdev: the timer work of a poll
 * (TCBs looked at, counted by tcp_layer.timer_visits) is the number of
 * timers due, the same with 10 connections as with 10,000; arming a timer
 * moves at most the heap's height; and an idle connection holds its TCB
 * only (the byte counters mem_tcb and mem_rings, whose per-connection
 * figure is printed). Rings: allocated with the first byte, grown up to the
 * buffer size with the stream intact, the zero-copy spans covering what is
 * allocated, and given back after TCP_RING_IDLE_MS empty. Work is counted,
 * never timed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define SC_PORT 5010
#define SC_BATCH 32             /* connections opened per pump (pool: 128) */
#define SC_KEEP_IDLE 5000       /* ms */
#define SC_KEEP_N 3             /* connections with keepalive on */

static void sc_ignore(void *ctx, struct tcp_conn *c, unsigned ev)
{
    (void)ctx;
    (void)c;
    (void)ev;
}

/* B's listener: take every connection as it arrives; the layer frees
 * them at tcp_destroy (th_free). */
static void sc_accept(void *ctx, struct tcp_conn *c, unsigned ev)
{
    struct tcp_listener *l = ctx;
    (void)c;
    (void)ev;
    while (tcp_accept(l, sc_ignore, NULL))
        ;
}

static struct th *sc_new(unsigned max_conns)
{
    struct th_opts o;
    th_config_default(&o);
    o.cfg[TH_A].tcp.max_conns = max_conns;
    o.cfg[TH_B].tcp.max_conns = max_conns;
    return th_new(&o);
}

/* n connections from A (ports 20000 on) to B, all established; A's TCBs
 * go to conns[] (n of them). */
static void sc_open(struct th *h, unsigned n, struct tcp_conn **conns)
{
    int err = 0;
    struct tcp_listener *l =
        tcp_listen(&h->s[TH_B].tcp, 0, SC_PORT, 256, sc_accept, NULL, &err);
    CU_ASSERT_FATAL(l != NULL);
    l->ctx = l;                     /* the accept callback needs its listener */
    for (unsigned i = 0; i < n; i++) {
        conns[i] = tcp_connect(&h->s[TH_A].tcp, (uint16_t)(20000 + i), TH_B_IP,
                               SC_PORT, sc_ignore, NULL, h->now, &err);
        CU_ASSERT_FATAL(conns[i] != NULL);
        /* The first alone: ARP holds only a few frames while it asks. */
        if (i == 0 || i % SC_BATCH == SC_BATCH - 1 || i == n - 1)
            th_pump(h);
    }
    CU_ASSERT_EQUAL(h->s[TH_A].tcp.stats.established, n);
    CU_ASSERT_EQUAL(h->s[TH_B].tcp.stats.established, n);
    CU_ASSERT_EQUAL(h->s[TH_B].tcp.stats.conns_now, n);
    CU_ASSERT_EQUAL(tcp_listener_pending(l), 0);
}

/* Open n idle connections, turn keepalive on for SC_KEEP_N of them and
 * return the TCBs A's polls looked at while time passed their first
 * probe. */
static uint64_t sc_keepalive_visits(unsigned n, uint64_t *moves_per_arm)
{
    struct th *h = sc_new(n + 16);
    static struct tcp_conn *conns[10000];
    CU_ASSERT_FATAL(n <= 10000);
    sc_open(h, n, conns);
    struct tcp_layer *t = &h->s[TH_A].tcp;
    /* Idle: no timer at all, however many connections. */
    CU_ASSERT_EQUAL(tcp_next_deadline(t), TS_NEVER);
    CU_ASSERT_EQUAL(t->stats.mem_rings, 0);
    uint64_t moves = t->timers.moves;
    for (unsigned i = 0; i < SC_KEEP_N; i++) {
        struct tcp_conn *c = conns[(i * 7919u) % n];
        tcp_set_keepalive_params(c, SC_KEEP_IDLE, 1000, 3);
        tcp_set_keepalive(c, 1);
    }
    *moves_per_arm = (t->timers.moves - moves) / SC_KEEP_N;
    CU_ASSERT_EQUAL(tcp_next_deadline(t), h->now + SC_KEEP_IDLE);
    uint64_t v0 = t->timer_visits;
    th_advance(h, SC_KEEP_IDLE - 1);    /* many polls, nothing due */
    CU_ASSERT_EQUAL(t->timer_visits, v0);
    th_advance(h, 1);
    uint64_t visits = t->timer_visits - v0;
    CU_ASSERT_EQUAL(t->stats.keepalive_probes, SC_KEEP_N);
    CU_ASSERT_EQUAL(t->stats.conns_now, n);     /* the probes were answered */
    th_free(h);
    return visits;
}

/* The work of the timers is what is due, not the size of the table. */
static void test_scale_timer_work(void)
{
    uint64_t moves_small, moves_big;
    uint64_t small = sc_keepalive_visits(10, &moves_small);
    uint64_t big = sc_keepalive_visits(10000, &moves_big);
    CU_ASSERT_EQUAL(small, SC_KEEP_N);
    CU_ASSERT_EQUAL(big, small);
    CU_ASSERT(moves_big <= 14);         /* height of a 10,000-node heap */
    printf("\n  timer work per poll: %llu TCBs visited with 10 and with "
           "10,000 connections held\n", (unsigned long long)big);
}

/* 10,000 established idle connections: bytes per connection by the
 * layer's own counters (the TCB and its timer slot; no ring). */
static void test_scale_idle_memory(void)
{
    enum { N = 10000 };
    struct th *h = sc_new(N + 16);
    static struct tcp_conn *conns[N];
    sc_open(h, N, conns);
    for (int side = 0; side < 2; side++) {
        const struct tcp_stats *st = &h->s[side].tcp.stats;
        uint64_t per = (st->mem_tcb + st->mem_rings) / st->conns_now;
        CU_ASSERT_EQUAL(st->conns_now, N);
        CU_ASSERT_EQUAL(st->mem_rings, 0);
        CU_ASSERT(per <= 2048);
        if (side == TH_A)
            printf("\n  memory per idle connection: %llu bytes (TCB %zu + "
                   "timer slot %zu), rings 0\n", (unsigned long long)per,
                   sizeof(struct tcp_conn), sizeof(struct ts_heap_node *));
    }
    th_free(h);
}

static int sc_done(struct th *h)
{
    return th_all_done(h);
}

/* A ring comes with the first byte, grows to the buffer size as a stream
 * needs it (bytes intact), and goes when it has been empty a while. */
static void test_scale_ring_lifecycle(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, SC_PORT, &a, &b);
    const struct tcp_stats *sa = &h->s[TH_A].tcp.stats;
    const struct tcp_stats *sb = &h->s[TH_B].tcp.stats;
    CU_ASSERT_EQUAL(sa->mem_rings, 0);
    CU_ASSERT_EQUAL(sb->mem_rings, 0);
    b->auto_read = 1;
    b->rx_check = 1;
    th_send_stream(a, 1, 0);
    CU_ASSERT_TRUE(th_run_until(h, sc_done, 10000));
    CU_ASSERT_EQUAL(sa->mem_rings, TCP_RING_MIN);   /* the send ring */
    CU_ASSERT_EQUAL(sb->mem_rings, TCP_RING_MIN);   /* the receive ring */
    /* A stream larger than the buffer: the send ring grows to its limit. */
    th_send_stream(a, 300000, 0);
    CU_ASSERT_EQUAL(a->c->snd.cap, TH_BUF);
    CU_ASSERT_TRUE(th_run_until(h, sc_done, 60000));
    CU_ASSERT_EQUAL(b->rx_bytes, 300001);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    /* Empty for TCP_RING_IDLE_MS (from the last ACK, delayed): every ring
     * given back. */
    th_advance(h, 2 * TCP_RING_IDLE_MS);
    CU_ASSERT_EQUAL(sa->mem_rings, 0);
    CU_ASSERT_EQUAL(sb->mem_rings, 0);
    CU_ASSERT(sa->rings_released >= 1);
    CU_ASSERT(sb->rings_released >= 1);
    CU_ASSERT_EQUAL(tcp_next_deadline(&h->s[TH_A].tcp), TS_NEVER);
    /* And they come back with the next byte. */
    th_send_stream(a, 5000, 0);
    CU_ASSERT_TRUE(th_run_until(h, sc_done, 10000));
    CU_ASSERT_EQUAL(b->rx_bytes, 305001);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    th_free(h);
}

/* The zero-copy room covers what is allocated: smaller spans, then the
 * ring grows when they are full, up to the buffer size in all. */
static void test_scale_zero_copy_spans(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, SC_PORT, &a, &b);
    struct iovec iov[2];
    uint32_t total = 0;
    int rounds = 0;
    for (; rounds < 32; rounds++) {
        int n = tcp_send_room(a->c, iov);
        if (n == -EAGAIN)
            break;
        CU_ASSERT_FATAL(n > 0);
        uint32_t room = 0;
        for (int i = 0; i < n; i++) {
            memset(iov[i].iov_base, 'z', iov[i].iov_len);
            room += (uint32_t)iov[i].iov_len;
        }
        CU_ASSERT(room <= tcp_conn_writable(a->c));
        if (rounds == 0)
            CU_ASSERT_EQUAL(room, TCP_RING_MIN);
        /* Nothing is pumped: what goes out stays in the ring unacknowledged,
         * so the ring only fills. */
        tcp_send_commit(a->c, room, h->now);
        total += room;
    }
    CU_ASSERT_EQUAL(total, TH_BUF);
    CU_ASSERT_EQUAL(a->c->snd.cap, TH_BUF);
    CU_ASSERT(rounds > 1 && rounds < 32);
    (void)b;
    th_free(h);
}

/* B's side of the TIME-WAIT test: close when the peer has. */
static void sc_close_on_eof(void *ctx, struct tcp_conn *c, unsigned ev)
{
    (void)ctx;
    if (ev & TCP_EV_EOF)
        tcp_close(c, c->t->now);
}

static void sc_accept_closer(void *ctx, struct tcp_conn *c, unsigned ev)
{
    (void)c;
    (void)ev;
    while (tcp_accept(ctx, sc_close_on_eof, NULL))
        ;
}

/* A full table makes room by dropping its oldest TIME-WAIT connection
 * (taken from the TIME-WAIT list, not found by a walk). */
static void test_scale_full_table_evicts_oldest_time_wait(void)
{
    enum { N = 4 };
    struct th *h = sc_new(N);
    struct tcp_layer *t = &h->s[TH_A].tcp;
    int err = 0;
    struct tcp_listener *l = tcp_listen(&h->s[TH_B].tcp, 0, SC_PORT, 16,
                                        sc_accept_closer, NULL, &err);
    CU_ASSERT_FATAL(l != NULL);
    l->ctx = l;
    struct tcp_conn *c[N];
    for (int i = 0; i < N; i++) {
        c[i] = tcp_connect(t, (uint16_t)(20000 + i), TH_B_IP, SC_PORT,
                           sc_ignore, NULL, h->now, &err);
        CU_ASSERT_FATAL(c[i] != NULL);
        th_pump(h);
    }
    for (int i = 0; i < N; i++) {       /* into TIME-WAIT in this order */
        tcp_close(c[i], h->now);
        th_advance(h, 1);
    }
    CU_ASSERT_EQUAL(t->stats.conns_time_wait, N);
    CU_ASSERT_EQUAL(t->stats.conns_now, N);
    struct tcp_conn *x = tcp_connect(t, 30000, TH_B_IP, SC_PORT, sc_ignore,
                                     NULL, h->now, &err);
    CU_ASSERT_FATAL(x != NULL);
    CU_ASSERT_EQUAL(t->stats.conns_now, N);
    CU_ASSERT_EQUAL(t->stats.conns_time_wait, N - 1);
    CU_ASSERT_PTR_NULL(tcp_conn_find(t, TH_A_IP, 20000, TH_B_IP, SC_PORT));
    CU_ASSERT_PTR_NOT_NULL(tcp_conn_find(t, TH_A_IP, 20001, TH_B_IP, SC_PORT));
    CU_ASSERT_FALSE(tcp_port_in_use(t, 20000));
    CU_ASSERT_TRUE(tcp_port_in_use(t, 20001));
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(x), TCP_ESTABLISHED);
    th_free(h);
}

TS_SUITE(tcp_scale,
         TS_TEST(test_scale_timer_work),
         TS_TEST(test_scale_idle_memory),
         TS_TEST(test_scale_ring_lifecycle),
         TS_TEST(test_scale_zero_copy_spans),
         TS_TEST(test_scale_full_table_evicts_oldest_time_wait))
