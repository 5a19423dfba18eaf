/* tests/unit/test_fuzz_regress.c - the bugs the fuzz targets found
 * (tests/fuzz/), each pinned by the smallest story that shows it, on the
 * two-stack harness (suite `fuzz_regress`). The fuzz input that found each
 * one is kept in tests/fuzz/corpus/TARGET/ too, replayed by make fuzz.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define FR_PORT 5077

/* A segment as A would send it on b's connection, in sequence. */
static struct th_raw fr_as_a(const struct th_conn *b)
{
    struct th_raw r;
    memset(&r, 0, sizeof r);
    r.src = TH_A_IP;
    r.dst = TH_B_IP;
    r.sport = b->c->rport;
    r.dport = b->c->lport;
    r.seq = b->c->rcv_nxt;
    r.ack = b->c->snd_nxt;
    r.flags = TCP_ACK;
    r.wnd = 32768;
    return r;
}

static void fr_send(struct th *h, const struct th_raw *r)
{
    uint8_t f[TH_FRAME_MAX];
    th_inject(h, TH_B, f, th_build(f, r));
    th_pump(h);
}

/* fuzz_session: data held past a gap, then the peer's FIN at RCV.NXT. The
 * FIN was taken and the out-of-order ranges kept: they stood at RCV.NXT
 * for ever, beyond the end of the stream, and were still SACKed. */
static void test_fin_drops_data_past_it(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, FR_PORT, &a, &b);
    b->rx_check = 0;
    th_advance(h, 1000);
    static const uint8_t junk[10] = "0123456789";
    struct th_raw r = fr_as_a(b);
    r.seq += 100;
    r.data = junk;
    r.len = sizeof junk;
    fr_send(h, &r);
    CU_ASSERT_EQUAL(b->c->ooo.n, 1);
    r = fr_as_a(b);
    r.flags = TCP_ACK | TCP_FIN;
    uint64_t before = h->nseg[TH_B_TO_A];
    fr_send(h, &r);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_CLOSE_WAIT);
    CU_ASSERT_EQUAL(b->c->ooo.n, 0);
    CU_ASSERT_EQUAL(b->n_eof, 1);
    CU_ASSERT_FATAL(h->nseg[TH_B_TO_A] > before);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][before].nsack, 0);   /* its ACK */
    th_read(b);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 0);
    h->check_pool = 0;
    th_free(h);
}

/* fuzz_session: a peer closes its window and goes silent. Zero-window
 * probing went on for ever, unanswered, holding the connection (and, once
 * the application closed, an orphan nobody could free). Now max_retries
 * unanswered probes end it with ETIMEDOUT and a reset; a peer that answers
 * keeps it open as long as it likes (test_zero_window_long, tcp_timer). */
static void test_unanswered_probes_give_up(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, FR_PORT, &a, &b);
    b->auto_read = 0;
    th_send_stream(a, 1024 * 1024, 0);
    th_advance(h, 5000);
    CU_ASSERT_FATAL(a->c->flags & TCP_F_PERSIST);
    uint64_t probes = h->s[TH_A].tcp.stats.zero_window_probes;
    th_rule_add(h, TH_B_TO_A, 0, 0, -1, 0, 0, TH_DROP);    /* B is gone */
    th_advance(h, 30 * 60 * 1000);
    CU_ASSERT_EQUAL(a->n_error, 1);
    CU_ASSERT_EQUAL(a->err_seen, -ETIMEDOUT);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_CLOSED);
    CU_ASSERT_EQUAL(h->s[TH_A].tcp.stats.conn_timeout, 1);
    unsigned sent = (unsigned)(h->s[TH_A].tcp.stats.zero_window_probes - probes);
    CU_ASSERT(sent >= h->s[TH_A].cfg.tcp.max_retries &&
              sent <= h->s[TH_A].cfg.tcp.max_retries + 1);
    h->check_pool = 0;
    th_free(h);
}

/* An ACK from B, written into A: acknowledges up to ack, window 0. */
static void fr_ack_into_a(struct th *h, const struct th_conn *a, uint32_t ack)
{
    struct th_raw r;
    memset(&r, 0, sizeof r);
    r.src = TH_B_IP;
    r.dst = TH_A_IP;
    r.sport = a->c->rport;
    r.dport = a->c->lport;
    r.seq = a->c->rcv_nxt;
    r.ack = ack;
    r.flags = TCP_ACK;
    uint8_t f[TH_FRAME_MAX];
    th_inject(h, TH_A, f, th_build(f, &r));
    th_pump(h);
}

/* fuzz_session: in persist after a time-out (the window shut, SND.NXT
 * rewound), an ACK of new data that leaves the window shut stopped the
 * timer (RFC 6298 §5.3) and nothing armed it again: no probe ever went,
 * and the connection waited for a window update that might never come. */
static void test_persist_survives_ack_of_new_data(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, FR_PORT, &a, &b);
    th_rule_add(h, TH_B_TO_A, 0, 0, -1, 0, 0, TH_DROP);    /* B's own: lost */
    th_send_stream(a, 100000, 0);
    th_pump(h);
    uint32_t max = a->c->snd_max;
    CU_ASSERT_FATAL(max - a->c->snd_una > 1000);
    fr_ack_into_a(h, a, a->c->snd_una + 1000);          /* window 0 */
    th_advance(h, 1500);                                /* the RTO */
    CU_ASSERT_FATAL(a->c->flags & TCP_F_PERSIST);
    CU_ASSERT_EQUAL(a->c->snd_nxt, a->c->snd_una);
    fr_ack_into_a(h, a, max);                           /* still window 0 */
    CU_ASSERT_EQUAL(a->c->snd_una, max);
    CU_ASSERT(a->c->rto_at != TS_NEVER);
    uint64_t probes = h->s[TH_A].tcp.stats.zero_window_probes;
    th_advance(h, 10000);
    CU_ASSERT(h->s[TH_A].tcp.stats.zero_window_probes > probes);
    h->check_pool = 0;
    th_free(h);
}

TS_SUITE(fuzz_regress, TS_TEST(test_fin_drops_data_past_it),
         TS_TEST(test_unanswered_probes_give_up),
         TS_TEST(test_persist_survives_ack_of_new_data))
