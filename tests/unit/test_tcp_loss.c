/* tests/unit/test_tcp_loss.c - TCP over a bad wire (suite `tcp_loss`).
 *
 * Two stacks on the harness wire (tests/unit/tcp_harness.h) with a fake
 * clock. Each kind of segment is lost once (SYN, SYN-ACK, the handshake's
 * ACK, data in mid-stream and at the tail, a data ACK, FIN both ways) and
 * the connection must recover by the right mechanism (RTO, duplicate SYN,
 * fast retransmit), counted in the stats; both sides timing out at once
 * must not deadlock. Duplicated and reordered segments must be delivered
 * exactly once and in order, without a retransmission storm; seeded mixes
 * of loss, duplication and reordering both ways (one run, then a sweep of
 * 24 seeds at 2-9% each) must still deliver every byte; and with SACK
 * blocks on data both ways no segment may outgrow the MSS.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define TL_PORT 5002
#define TL_FLAGS (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)

static const struct tcp_stats *tl_stats(struct th *h, int side)
{
    return &h->s[side].tcp.stats;
}

static int tl_first_connected(struct th *h)
{
    return h->nconns > 0 && h->conns[0].n_connected > 0;
}

static int tl_accepted(struct th *h)
{
    return h->lis[TH_B].accepted > 0;
}

/* Send n bytes each way with FIN and check every byte arrived once. */
static void tl_exchange(struct th *h, struct th_conn *a, struct th_conn *b,
                        uint64_t n, uint64_t max_ms)
{
    th_send_stream(a, n, 1);
    th_send_stream(b, n, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, max_ms));
    CU_ASSERT_EQUAL(a->rx_bytes, n);
    CU_ASSERT_EQUAL(b->rx_bytes, n);
    CU_ASSERT_EQUAL(a->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(a->rx_eof, 1);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    CU_ASSERT_EQUAL(a->n_eof, 1);
    CU_ASSERT_EQUAL(b->n_eof, 1);
}

/* ---- the handshake ------------------------------------------------------ */

static void test_lost_syn(void)
{
    struct th *h = th_new(NULL);
    th_listen(h, TH_B, TL_PORT, 4);
    th_rule_add(h, TH_A_TO_B, TL_FLAGS, TCP_SYN, -1, 0, 1, TH_DROP);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TL_PORT);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_SYN_SENT);
    CU_ASSERT_TRUE(th_run_until(h, tl_first_connected, 10000));
    /* The SYN went again after the initial RTO, with the same ISN. */
    CU_ASSERT_EQUAL(a->connected_at, TH_T0 + h->s[TH_A].cfg.tcp.rto_init);
    CU_ASSERT_EQUAL(h->log[TH_A_TO_B][0].seq, h->log[TH_A_TO_B][1].seq);
    CU_ASSERT_EQUAL(h->log[TH_A_TO_B][1].flags, TCP_SYN);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->rto_expired, 1);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->retransmits, 1);
    /* RFC 6298 §5.7: a lost SYN leaves the RTO at 3 s for the data. */
    CU_ASSERT_EQUAL(a->c->rto, h->s[TH_A].cfg.tcp.rto_syn);
    tl_exchange(h, a, th_peer(h, a), 100000, 20000);
    th_free(h);
}

/* The SYN-ACK is lost; B's own retransmission is far off, so the client's
 * second SYN must draw a fresh SYN-ACK from B in SYN-RECEIVED. */
static void test_lost_synack(void)
{
    struct th_opts o;
    th_config_default(&o);
    o.cfg[TH_B].tcp.rto_init = 5000;
    struct th *h = th_new(&o);
    th_listen(h, TH_B, TL_PORT, 4);
    th_rule_add(h, TH_B_TO_A, TL_FLAGS, TCP_SYN | TCP_ACK, -1, 0, 1, TH_DROP);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TL_PORT);
    CU_ASSERT_TRUE(th_run_until(h, tl_first_connected, 10000));
    CU_ASSERT_EQUAL(a->connected_at, TH_T0 + o.cfg[TH_A].tcp.rto_init);
    CU_ASSERT_EQUAL(h->ndropped[TH_B_TO_A], 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][1].flags, TCP_SYN | TCP_ACK);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][0].seq, h->log[TH_B_TO_A][1].seq);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->rto_expired, 0);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->rto_expired, 1);
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    tl_exchange(h, a, b, 100000, 20000);
    th_free(h);
}

/* The third segment of the handshake is lost and the client has nothing
 * to say: B's SYN-ACK retransmission draws the ACK again. */
static void test_lost_handshake_ack(void)
{
    struct th *h = th_new(NULL);
    th_listen(h, TH_B, TL_PORT, 4);
    th_rule_add(h, TH_A_TO_B, TL_FLAGS, TCP_ACK, 0, 0, 1, TH_DROP);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TL_PORT);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(h->lis[TH_B].accepted, 0);
    CU_ASSERT_TRUE(th_run_until(h, tl_accepted, 10000));
    CU_ASSERT_EQUAL(h->now, TH_T0 + h->s[TH_B].cfg.tcp.rto_init);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->rto_expired, 1);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->retransmits, 1);
    tl_exchange(h, a, th_peer(h, a), 100000, 20000);
    th_free(h);
}

/* Same loss, but the client sends at once: its first data segment
 * carries the ACK that completes B's handshake, with no wait. */
static void test_lost_handshake_ack_then_data(void)
{
    struct th *h = th_new(NULL);
    th_listen(h, TH_B, TL_PORT, 4);
    th_rule_add(h, TH_A_TO_B, TL_FLAGS, TCP_ACK, 0, 0, 1, TH_DROP);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TL_PORT);
    a->tx_total = 5000;             /* written on the CONNECTED event */
    th_pump(h);
    CU_ASSERT_EQUAL(h->lis[TH_B].accepted, 1);   /* at once, at T0 */
    CU_ASSERT_EQUAL(h->now, TH_T0);
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT(b->rx_bytes > 0);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 1000));
    CU_ASSERT_EQUAL(b->rx_bytes, 5000);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->rto_expired, 0);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->retransmits, 0);
    th_free(h);
}

/* ---- data, ACKs and FINs ------------------------------------------------ */

/* One data segment lost in mid-stream: three duplicate ACKs bring it back
 * at once (RFC 5681 §3.2), no time-out needed. */
static void test_lost_data_fast_retransmit(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TL_PORT, &a, &b);
    th_rule_add(h, TH_A_TO_B, 0, 0, 1, 20, 1, TH_DROP);
    th_send_stream(a, 512 * 1024, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 20000));
    CU_ASSERT_EQUAL(b->rx_bytes, 512 * 1024);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(h->ndropped[TH_A_TO_B], 1);
    CU_ASSERT(tl_stats(h, TH_A)->fast_retransmits >= 1);
    CU_ASSERT(tl_stats(h, TH_A)->retransmits >= 1);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->rto_expired, 0);
    CU_ASSERT(tl_stats(h, TH_A)->dup_acks >= 3);
    CU_ASSERT(tl_stats(h, TH_B)->rx_ooo_segments >= 1);
    th_free(h);
}

/* The last data segment is lost: nothing follows to make duplicate ACKs,
 * so only the retransmission timer can recover it. */
static int tl_drop_tail(struct th *h, int dir, const struct th_seg *s)
{
    uint32_t *end = h->hook_ctx;
    if (dir == TH_A_TO_B && s->len > 0 && s->seq + s->len == *end) {
        *end = 0;                   /* once */
        return TH_DROP;
    }
    return -1;
}

static void test_lost_data_tail(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TL_PORT, &a, &b);
    uint32_t end = a->c->iss + 1 + 50000;
    h->hook = tl_drop_tail;
    h->hook_ctx = &end;
    uint64_t t_start = h->now;
    th_send_stream(a, 50000, 0);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 20000));
    CU_ASSERT_EQUAL(end, 0);
    CU_ASSERT_EQUAL(b->rx_bytes, 50000);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->rto_expired, 1);
    CU_ASSERT(tl_stats(h, TH_A)->retransmits >= 1);
    CU_ASSERT(h->now >= t_start + h->s[TH_A].cfg.tcp.rto_min);
    th_free(h);
}

/* The ACK of a lone segment is lost: the RTO resends the data, B finds it
 * old, delivers nothing twice and ACKs at once. */
static void test_lost_data_ack(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TL_PORT, &a, &b);
    th_rule_add(h, TH_B_TO_A, TL_FLAGS, TCP_ACK, 0, 0, 1, TH_DROP);
    th_send_stream(a, 1000, 0);
    th_advance(h, 5000);
    CU_ASSERT_EQUAL(h->ndropped[TH_B_TO_A], 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 1000);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->rx_bytes, 1000);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->retransmits, 1);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->rto_expired, 1);
    CU_ASSERT(tl_stats(h, TH_B)->out_of_window >= 1);
    CU_ASSERT_EQUAL(a->c->snd_una, a->c->snd_max);
    th_free(h);
}

/* Each FIN is lost once; each comes back on its RTO and the close ends as
 * usual: TIME-WAIT for the first closer, the other freed. */
static void test_lost_fin(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TL_PORT, &a, &b);
    th_rule_add(h, TH_A_TO_B, TCP_FIN, TCP_FIN, -1, 0, 1, TH_DROP);
    th_rule_add(h, TH_B_TO_A, TCP_FIN, TCP_FIN, -1, 0, 1, TH_DROP);
    struct tcp_conn *ac = a->c;
    th_close(a);
    th_pump(h);
    CU_ASSERT_EQUAL(b->rx_eof, 0);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_FIN_WAIT_1);
    th_advance(h, 1000);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_FIN_WAIT_2);
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->retransmits, 1);
    th_close(b);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_FIN_WAIT_2);
    th_advance(h, 1000);
    CU_ASSERT_EQUAL(h->ndropped[0] + h->ndropped[1], 2);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_TIME_WAIT);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->retransmits, 1);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->conns_now, 0);
    th_free(h);
}

/* Both sides send a window at once and every pure ACK of that instant is
 * lost: both time out together and rewind SND.NXT. Their ACKs must still
 * be acceptable to the other (numbered SND.MAX, not the rewound SND.NXT),
 * or each drops the other's ACKs as old segments and the pair deadlocks
 * until both give up. */
static int tl_drop_acks_until(struct th *h, int dir, const struct th_seg *s)
{
    const uint64_t *until = h->hook_ctx;
    (void)dir;
    return s->len == 0 && h->now < *until ? TH_DROP : -1;
}

static void test_lost_acks_both_time_out(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TL_PORT, &a, &b);
    uint64_t until = h->now + 100;
    h->hook = tl_drop_acks_until;
    h->hook_ctx = &until;
    tl_exchange(h, a, b, 100000, 20000);
    CU_ASSERT(h->ndropped[TH_A_TO_B] > 0 && h->ndropped[TH_B_TO_A] > 0);
    CU_ASSERT(tl_stats(h, TH_A)->rto_expired >= 1);
    CU_ASSERT(tl_stats(h, TH_B)->rto_expired >= 1);
    CU_ASSERT_EQUAL(a->n_error + b->n_error, 0);
    th_free(h);
}

/* ---- duplication and reordering ------------------------------------------ */

/* Every segment both ways, handshake and FINs included, arrives twice. */
static void test_duplicate_everything(void)
{
    struct th *h = th_new(NULL);
    th_rule_add(h, TH_ANY, 0, 0, -1, 0, 0, TH_DUP);
    th_listen(h, TH_B, TL_PORT, 4);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TL_PORT);
    th_pump(h);
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL(h->lis[TH_B].accepted, 1);
    CU_ASSERT_EQUAL(a->n_connected, 1);
    tl_exchange(h, a, b, 300000, 20000);
    /* Exactly once: the in-order byte counters saw each byte one time. */
    CU_ASSERT_EQUAL(tl_stats(h, TH_A)->rx_bytes, 300000);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->rx_bytes, 300000);
    CU_ASSERT(tl_stats(h, TH_B)->out_of_window > 0);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->established, 1);
    /* Duplicates may cost a few spurious fast retransmits, never a storm:
     * fewer resent segments than there were segments to send. */
    CU_ASSERT(tl_stats(h, TH_A)->retransmits < 300000 / 1460);
    CU_ASSERT(tl_stats(h, TH_B)->retransmits < 300000 / 1460);
    th_free(h);
}

/* Every third data segment from A is held back behind the next two. */
static int tl_reorder(struct th *h, int dir, const struct th_seg *s)
{
    unsigned *n = h->hook_ctx;
    if (dir != TH_A_TO_B || s->len == 0)
        return -1;
    return (*n)++ % 3 == 0 ? TH_HOLD : TH_PASS;
}

static void test_reordered_data(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TL_PORT, &a, &b);
    unsigned n = 0;
    h->hook = tl_reorder;
    h->hook_ctx = &n;
    h->hook_hold = 2;
    th_send_stream(a, 400000, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 20000));
    CU_ASSERT_EQUAL(b->rx_bytes, 400000);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    CU_ASSERT_EQUAL(tl_stats(h, TH_B)->rx_bytes, 400000);
    CU_ASSERT(tl_stats(h, TH_B)->rx_ooo_segments > 0);
    th_free(h);
}

/* A seeded mix on every segment both ways: 3% lost, 3% duplicated, 3%
 * held back behind 1-3 later ones. */
static int tl_chaos(struct th *h, int dir, const struct th_seg *s)
{
    uint32_t *x = h->hook_ctx;
    (void)dir;
    (void)s;
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    unsigned r = *x % 100;
    h->hook_hold = 1 + (*x >> 8) % 3;
    return r < 3 ? TH_DROP : r < 6 ? TH_DUP : r < 9 ? TH_HOLD : TH_PASS;
}

static void test_mixed_impairments(void)
{
    struct th *h = th_new(NULL);
    uint32_t seed = 0x9e3779b9u;
    h->hook = tl_chaos;
    h->hook_ctx = &seed;
    th_listen(h, TH_B, TL_PORT, 4);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TL_PORT);
    CU_ASSERT_TRUE(th_run_until(h, tl_accepted, 60000));
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    tl_exchange(h, a, b, 300000, 600000);
    CU_ASSERT(h->ndropped[0] + h->ndropped[1] > 0);
    CU_ASSERT_EQUAL(h->nfrag[0] + h->nfrag[1], 0);
    CU_ASSERT(tl_stats(h, TH_A)->retransmits + tl_stats(h, TH_B)->retransmits > 0);
    th_free(h);
}

/* Many seeds, 2% to 9% each of loss, duplication and reordering (held
 * behind up to 5 later segments) on every segment both ways, handshake
 * and FINs included: every run must deliver every byte, in order, and end
 * with both FINs, well within an hour of fake time. */
struct tl_sweep {
    uint32_t x;
    unsigned pct;
};

static int tl_sweep_hook(struct th *h, int dir, const struct th_seg *s)
{
    struct tl_sweep *w = h->hook_ctx;
    (void)dir;
    (void)s;
    w->x ^= w->x << 13;
    w->x ^= w->x >> 17;
    w->x ^= w->x << 5;
    unsigned r = w->x % 100;
    h->hook_hold = 1 + (w->x >> 8) % 5;
    return r < w->pct ? TH_DROP : r < 2 * w->pct ? TH_DUP
         : r < 3 * w->pct ? TH_HOLD : TH_PASS;
}

/* One run; 1 when every byte and both FINs arrived. */
static int tl_sweep_one(uint32_t seed)
{
    struct th *h = th_new(NULL);
    struct tl_sweep w = { seed * 2654435761u | 1u, 2 + seed % 8 };
    h->hook = tl_sweep_hook;
    h->hook_ctx = &w;
    th_listen(h, TH_B, TL_PORT, 4);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TL_PORT);
    int ok = th_run_until(h, tl_accepted, 600000);
    struct th_conn *b = ok ? th_peer(h, a) : NULL;
    uint64_t n = 60000 + (uint64_t)seed * 997;
    if (b) {
        th_send_stream(a, n, 1);
        th_send_stream(b, n, 1);
        ok = th_run_until(h, th_all_done, 3600000);
    }
    ok = ok && b && a->rx_bytes == n && b->rx_bytes == n && !a->rx_bad &&
         !b->rx_bad && a->rx_eof && b->rx_eof && !a->n_error && !b->n_error;
    h->check_pool = 0;      /* a run may end with reassembly or ARP pending */
    th_free(h);
    return ok;
}

static void test_impairment_sweep(void)
{
    unsigned failed = 0;
    for (uint32_t seed = 1; seed <= 24; seed++)
        failed += !tl_sweep_one(seed);
    CU_ASSERT_EQUAL(failed, 0);
}

/* Both sides send bulk data while holding out-of-order data from the
 * other: their full-sized data segments carry SACK blocks too, and must
 * still fit the MSS (options come out of it, RFC 6691), or IPv4 would
 * fragment every one of them. */
static int tl_reorder_both(struct th *h, int dir, const struct th_seg *s)
{
    unsigned *n = h->hook_ctx;
    if (s->len == 0)
        return -1;
    return n[dir]++ % 5 == 2 ? TH_HOLD : TH_PASS;
}

static int tl_sack_seen(const struct th *h, int dir)
{
    for (uint64_t i = 0; i < h->nseg[dir] && i < TH_LOG_MAX; i++)
        if (h->log[dir][i].nsack > 0)
            return 1;
    return 0;
}

static void test_sack_segments_fit_mss(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TL_PORT, &a, &b);
    CU_ASSERT(a->c->flags & TCP_F_SACK_OK);
    unsigned n[2] = { 0, 0 };
    h->hook = tl_reorder_both;
    h->hook_ctx = n;
    h->hook_hold = 3;
    tl_exchange(h, a, b, 300000, 20000);
    CU_ASSERT(tl_sack_seen(h, TH_A_TO_B));
    CU_ASSERT(tl_sack_seen(h, TH_B_TO_A));
    CU_ASSERT_EQUAL(h->nfrag[0] + h->nfrag[1], 0);
    CU_ASSERT_EQUAL(h->s[TH_A].ip.stats.tx_fragments, 0);
    CU_ASSERT_EQUAL(h->s[TH_B].ip.stats.tx_fragments, 0);
    unsigned too_big = 0;
    for (int d = 0; d < 2; d++)
        for (uint64_t i = 0; i < h->nseg[d] && i < TH_LOG_MAX; i++)
            too_big += h->log[d][i].len + h->log[d][i].hlen > 1460u + TCP_HLEN;
    CU_ASSERT_EQUAL(too_big, 0);
    th_free(h);
}

TS_SUITE(tcp_loss,
         TS_TEST(test_lost_syn),
         TS_TEST(test_lost_synack),
         TS_TEST(test_lost_handshake_ack),
         TS_TEST(test_lost_handshake_ack_then_data),
         TS_TEST(test_lost_data_fast_retransmit),
         TS_TEST(test_lost_data_tail),
         TS_TEST(test_lost_data_ack),
         TS_TEST(test_lost_fin),
         TS_TEST(test_lost_acks_both_time_out),
         TS_TEST(test_duplicate_everything),
         TS_TEST(test_reordered_data),
         TS_TEST(test_mixed_impairments),
         TS_TEST(test_impairment_sweep),
         TS_TEST(test_sack_segments_fit_mss))
