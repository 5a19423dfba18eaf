/* tests/unit/test_tcp_batch.c - ACKs in a receive batch (tcp_batch_begin/
 * end, driven by stack_rx): the segments one wake-up brings a connection
 * that has nothing to send draw one ACK, sent once the batch is in; a
 * segment past a gap still draws its duplicate ACK at once, and the one
 * that fills the gap its ACK at once (RFC 5681 §4.2). The harness's
 * reader takes the data as it arrives, from inside the batch: its window
 * update waits for the end too.
 */
#include <string.h>

#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define TB_PORT 5002
#define TB_SEG 1000u            /* two of them are more than an MSS */

/* Segment k (from 0) of A's stream as a raw frame towards B: B's
 * connection expects the pattern of b->rx_seed from its RCV.NXT at rx0. */
static void tb_inject(struct th *h, struct th_conn *a, struct th_conn *b,
                      uint32_t rx0, unsigned k)
{
    static uint8_t data[TB_SEG];
    for (uint32_t i = 0; i < TB_SEG; i++)
        data[i] = th_pattern(b->rx_seed, (uint64_t)k * TB_SEG + i);
    struct th_raw r = {
        .src = TH_A_IP, .dst = TH_B_IP, .sport = a->c->lport,
        .dport = a->c->rport, .seq = rx0 + k * TB_SEG, .ack = b->c->snd_nxt,
        .flags = TCP_ACK, .wnd = 0xffff, .data = data, .len = TB_SEG,
    };
    uint8_t f[TH_FRAME_MAX];
    size_t n = th_build(f, &r);
    th_inject(h, TH_B, f, n);
}

/* A pair whose A side never answers (the injected bytes are not A's own:
 * its reply to B's ACKs would only muddle the count). */
static struct th *tb_setup(struct th_conn **a, struct th_conn **b,
                           uint32_t *rx0)
{
    struct th *h = th_new(NULL);
    th_established_pair(h, TB_PORT, a, b);
    th_rule_add(h, TH_A_TO_B, 0, 0, -1, 0, 0, TH_DROP);
    *rx0 = (*b)->c->rcv_nxt;
    return h;
}

static void tb_test_one_ack_per_batch(void)
{
    struct th_conn *a, *b;
    uint32_t rx0;
    struct th *h = tb_setup(&a, &b, &rx0);
    uint64_t sent = h->nseg[TH_B_TO_A];
    uint64_t deferred = h->s[TH_B].tcp.stats.output_deferred;
    for (unsigned k = 0; k < 4; k++)
        tb_inject(h, a, b, rx0, k);
    CU_ASSERT_EQUAL(stack_rx(&h->s[TH_B], 64, h->now), 4);
    /* Without the batch: an ACK after the second and after the fourth. */
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent].ack, rx0 + 4 * TB_SEG);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent].len, 0);
    CU_ASSERT_EQUAL(h->s[TH_B].tcp.stats.output_deferred, deferred + 1);
    th_pump(h);
    CU_ASSERT_EQUAL(b->rx_bytes, 4 * TB_SEG);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    th_free(h);
}

static void tb_test_gap_acks_at_once(void)
{
    struct th_conn *a, *b;
    uint32_t rx0;
    struct th *h = tb_setup(&a, &b, &rx0);
    uint64_t sent = h->nseg[TH_B_TO_A];
    tb_inject(h, a, b, rx0, 0);
    tb_inject(h, a, b, rx0, 2);             /* segment 1 is missing */
    CU_ASSERT_EQUAL(stack_rx(&h->s[TH_B], 64, h->now), 2);
    /* The duplicate ACK went as segment 2 arrived, and it acknowledged
     * segment 0 too: nothing was left for the end of the batch. */
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 1);
    const struct th_seg *dup = &h->log[TH_B_TO_A][sent];
    CU_ASSERT_EQUAL(dup->ack, rx0 + TB_SEG);
    CU_ASSERT_EQUAL(dup->nsack, 1);
    tb_inject(h, a, b, rx0, 1);             /* fills the gap */
    tb_inject(h, a, b, rx0, 3);
    CU_ASSERT_EQUAL(stack_rx(&h->s[TH_B], 64, h->now), 2);
    /* At once for the filled gap; segment 3 alone is less than an MSS,
     * so its ACK is a delayed one (RFC 1122 §4.2.3.2), not the batch's. */
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 2);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent + 1].ack, rx0 + 3 * TB_SEG);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent + 1].nsack, 0);
    th_advance(h, 1000);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 3);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent + 2].ack, rx0 + 4 * TB_SEG);
    th_pump(h);
    CU_ASSERT_EQUAL(b->rx_bytes, 4 * TB_SEG);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    th_free(h);
}

TS_SUITE(tcp_batch,
         TS_TEST(tb_test_one_ack_per_batch),
         TS_TEST(tb_test_gap_acks_at_once))
