/* tests/unit/test_tcp.c - the TCP state machine on two whole stacks
 * (suite `tcp`).
 *
 * Two struct stack instances back to back on a memdev pair with a fake
 * clock (tests/unit/tcp_harness.h). Covers the three-way handshake with
 * MSS and window-scale negotiation, byte-exact transfers both ways through
 * 64 KiB buffers, active, passive and simultaneous close, simultaneous
 * open, a refused connection, close with unread data, a listener closed
 * with connections on its queues, and sequence
 * numbers that wrap past 2^32 mid-transfer (with a loss right at the
 * wrap). Timers are in test_tcp_timer.c; loss, duplication and reordering
 * in test_tcp_loss.c; hostile peers in test_tcp_security.c.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define TT_PORT 5001
#define TT_MIB (1024u * 1024u)

static const struct tcp_stats *tt_stats(struct th *h, int side)
{
    return &h->s[side].tcp.stats;
}

static void test_handshake(void)
{
    struct th *h = th_new(NULL);
    th_listen(h, TH_B, TT_PORT, 4);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TT_PORT);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_SYN_SENT);
    th_pump(h);
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(a->n_connected, 1);
    CU_ASSERT_EQUAL(a->connected_at, TH_T0);
    CU_ASSERT_EQUAL(h->lis[TH_B].accepted, 1);
    CU_ASSERT(b->ev_all & TCP_EV_WRITABLE);
    CU_ASSERT_FALSE(b->ev_all & (TCP_EV_ERROR | TCP_EV_EOF));
    /* SYN, SYN-ACK, ACK: each acknowledges the other's ISN + 1. */
    const struct th_seg *syn = &h->log[TH_A_TO_B][0];
    const struct th_seg *synack = &h->log[TH_B_TO_A][0];
    const struct th_seg *ack = &h->log[TH_A_TO_B][1];
    CU_ASSERT_EQUAL(syn->flags, TCP_SYN);
    CU_ASSERT_EQUAL(synack->flags, TCP_SYN | TCP_ACK);
    CU_ASSERT_EQUAL(ack->flags, TCP_ACK);
    CU_ASSERT_EQUAL(syn->seq, a->c->iss);
    CU_ASSERT_EQUAL(synack->seq, b->c->iss);
    CU_ASSERT_EQUAL(synack->ack, a->c->iss + 1);
    CU_ASSERT_EQUAL(ack->ack, b->c->iss + 1);
    CU_ASSERT_EQUAL(h->nseg[TH_A_TO_B], 2);     /* nothing more was needed */
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], 1);
    /* MSS from a 1500 MTU; a 64 KiB buffer needs window scale 1 on both. */
    CU_ASSERT_EQUAL(a->c->mss, 1460);
    CU_ASSERT_EQUAL(b->c->mss, 1460);
    CU_ASSERT(a->c->flags & TCP_F_WS_OK);
    CU_ASSERT(b->c->flags & TCP_F_WS_OK);
    CU_ASSERT_EQUAL(a->c->snd_ws, 1);
    CU_ASSERT_EQUAL(a->c->rcv_ws, 1);
    CU_ASSERT_EQUAL(b->c->snd_ws, 1);
    CU_ASSERT_EQUAL(b->c->rcv_ws, 1);
    /* B learnt A's window from the ACK, scaled: the whole buffer, 32768 << 1;
     * A's comes from the SYN-ACK, whose window is never scaled (RFC 7323
     * §2.2), so it is capped at 65535. */
    CU_ASSERT_EQUAL(b->c->snd_wnd, TH_BUF);
    CU_ASSERT_EQUAL(a->c->snd_wnd, 65535);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->active_opens, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->passive_opens, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->established, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->established, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conns_now, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 1);
    th_free(h);
}

static void test_transfer_both_ways(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TT_PORT, &a, &b);
    th_send_stream(a, TT_MIB, 0);
    th_send_stream(b, TT_MIB, 0);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 60000));
    CU_ASSERT_EQUAL(a->rx_bytes, TT_MIB);
    CU_ASSERT_EQUAL(b->rx_bytes, TT_MIB);
    CU_ASSERT_EQUAL(a->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->rx_bytes, TT_MIB);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->rx_bytes, TT_MIB);
    /* A clean wire needs no retransmission and loses nothing. */
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->retransmits, 0);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->retransmits, 0);
    CU_ASSERT_EQUAL(h->ndropped[0] + h->ndropped[1], 0);
    /* Everything sent is acknowledged (after the last delayed ACK). */
    th_advance(h, 1000);
    CU_ASSERT_EQUAL(a->c->snd_una, a->c->snd_max);
    CU_ASSERT_EQUAL(a->c->snd.len, 0);
    th_free(h);
}

/* The client closes first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT; the server
 * sees EOF after the last byte, closes, and is freed at the last ACK. */
static void test_active_close(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TT_PORT, &a, &b);
    th_send_stream(a, 10000, 0);
    struct tcp_conn *ac = a->c, *bc = b->c;
    th_close(a);                     /* FIN goes after the queued data */
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_FIN_WAIT_1);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_FIN_WAIT_2);
    CU_ASSERT_EQUAL(tcp_conn_state(bc), TCP_CLOSE_WAIT);
    CU_ASSERT_EQUAL(b->rx_bytes, 10000);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    CU_ASSERT_EQUAL(b->n_eof, 1);
    th_close(b);
    CU_ASSERT_EQUAL(tcp_conn_state(bc), TCP_LAST_ACK);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_TIME_WAIT);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 0);   /* B freed */
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->closed, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conns_now, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conns_time_wait, 1);
    th_free(h);
}

/* The server half-closes; the client reads EOF, keeps sending in
 * CLOSE-WAIT (the server still reads in FIN-WAIT-2), then closes:
 * LAST-ACK, freed; the server ends in TIME-WAIT. */
static void test_passive_close(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TT_PORT, &a, &b);
    CU_ASSERT_EQUAL(tcp_shutdown(b->c, h->now), 0);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_FIN_WAIT_1);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_CLOSE_WAIT);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_FIN_WAIT_2);
    CU_ASSERT_EQUAL(a->rx_eof, 1);
    CU_ASSERT(a->ev_all & TCP_EV_EOF);
    CU_ASSERT_EQUAL(tcp_send(b->c, "x", 1, h->now), -EPIPE);
    th_send_stream(a, 100000, 0);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 10000));
    CU_ASSERT_EQUAL(b->rx_bytes, 100000);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    struct tcp_conn *ac = a->c;
    th_close(a);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_LAST_ACK);
    th_pump(h);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conns_now, 0);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_TIME_WAIT);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    th_free(h);
}

/* Both shut down at the same instant: the FINs cross, each side sees the
 * other's FIN before the ACK of its own (CLOSING), then both TIME-WAIT. */
static void test_simultaneous_close(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TT_PORT, &a, &b);
    th_advance(h, 1000);            /* no delayed ACK left on the wire */
    CU_ASSERT_EQUAL(tcp_shutdown(a->c, h->now), 0);
    CU_ASSERT_EQUAL(tcp_shutdown(b->c, h->now), 0);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_FIN_WAIT_1);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_FIN_WAIT_1);
    /* Deliver one frame each way: each FIN arrives before any ACK. */
    CU_ASSERT_EQUAL(stack_rx(&h->s[TH_A], 1, h->now), 1);
    CU_ASSERT_EQUAL(stack_rx(&h->s[TH_B], 1, h->now), 1);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_CLOSING);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_CLOSING);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_TIME_WAIT);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_TIME_WAIT);
    CU_ASSERT_EQUAL(a->rx_eof, 1);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->retransmits, 0);
    th_close(a);
    th_close(b);
    th_advance(h, 2u * h->s[TH_A].cfg.tcp.msl_ms + 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conns_now, 0);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 0);
    th_free(h);
}

/* Both connect to each other's fixed port at the same time, no listener:
 * SYNs cross, both go SYN-RECEIVED, both reach ESTABLISHED (RFC 9293
 * §3.5, figure 8) and carry data. */
static void test_simultaneous_open(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a = th_connect(h, TH_A, 5000, TH_B_IP, 6000);
    struct th_conn *b = th_connect(h, TH_B, 6000, TH_A_IP, 5000);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(a->n_connected, 1);
    CU_ASSERT_EQUAL(b->n_connected, 1);
    CU_ASSERT_PTR_EQUAL(th_peer(h, a), b);
    /* Each sent a bare SYN, then a SYN-ACK in SYN-RECEIVED. */
    for (int d = 0; d < 2; d++) {
        CU_ASSERT_EQUAL(h->log[d][0].flags, TCP_SYN);
        CU_ASSERT(th_find_seg(h, d, 1, TCP_SYN | TCP_ACK, TCP_SYN | TCP_ACK) > 0);
    }
    CU_ASSERT_EQUAL(a->c->mss, 1460);
    CU_ASSERT(a->c->flags & TCP_F_WS_OK);
    CU_ASSERT(b->c->flags & TCP_F_WS_OK);
    th_send_stream(a, 200000, 1);
    th_send_stream(b, 200000, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 10000));
    CU_ASSERT_EQUAL(a->rx_bytes, 200000);
    CU_ASSERT_EQUAL(b->rx_bytes, 200000);
    CU_ASSERT_EQUAL(a->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    th_free(h);
}

static void test_connect_refused(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, 5999);
    th_pump(h);
    CU_ASSERT_EQUAL(a->n_error, 1);
    CU_ASSERT_EQUAL(a->err_seen, -ECONNREFUSED);
    CU_ASSERT_EQUAL(a->n_connected, 0);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_CLOSED);
    CU_ASSERT_EQUAL(tcp_conn_error(a->c), -ECONNREFUSED);
    char buf[4];
    CU_ASSERT_EQUAL(tcp_recv(a->c, buf, sizeof buf, h->now), -ECONNREFUSED);
    CU_ASSERT_EQUAL(tcp_send(a->c, "x", 1, h->now), -EPIPE);
    /* B answered the SYN with RST+ACK acknowledging it. */
    long i = th_find_seg(h, TH_B_TO_A, 0, TCP_RST, TCP_RST);
    CU_ASSERT_FATAL(i >= 0);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][i].flags, TCP_RST | TCP_ACK);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][i].ack, a->c->iss + 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->rst_sent_no_conn, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conn_refused, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 0);
    th_close(a);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conns_now, 0);
    th_free(h);
}

/* Closing with unread data resets the connection (RFC 9293 §3.10.4, RFC
 * 2525 §2.17) instead of losing the data silently. */
static void test_close_unread_resets(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TT_PORT, &a, &b);
    b->auto_read = 0;
    th_send_stream(a, 3000, 0);
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_readable(b->c), 3000);
    th_close(b);
    th_pump(h);
    CU_ASSERT_EQUAL(a->n_error, 1);
    CU_ASSERT_EQUAL(a->err_seen, -ECONNRESET);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_CLOSED);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 0);
    CU_ASSERT_EQUAL(tt_stats(h, TH_A)->conn_reset, 1);
    th_free(h);
}

/* RFC 1122 §4.2.2.13: data arriving after the application closed (here
 * in FIN-WAIT-2, everything read first) cannot be delivered: RST. */
static void test_data_after_close_resets(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TT_PORT, &a, &b);
    th_close(b);                    /* FIN; A stays open and sends on */
    th_pump(h);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_CLOSE_WAIT);
    CU_ASSERT_EQUAL(a->n_error, 0);
    th_send_stream(a, 1000, 0);
    th_pump(h);
    CU_ASSERT_EQUAL(a->n_error, 1);
    CU_ASSERT_EQUAL(a->err_seen, -ECONNRESET);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->abort_on_data, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 0);
    th_free(h);
}

/* Closing a listener resets the connections on its accept queue and
 * forgets the half-open ones; later segments of those meet resets too. */
static void test_unlisten_resets_queued(void)
{
    struct th *h = th_new(NULL);
    th_listen(h, TH_B, TT_PORT, 4);
    h->lis[TH_B].hold = 1;
    struct th_conn *a1 = th_connect(h, TH_A, 0, TH_B_IP, TT_PORT);
    th_pump(h);
    /* The second loses its handshake's last ACK: half-open at B. */
    th_rule_add(h, TH_A_TO_B, TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST, TCP_ACK,
                0, 0, 1, TH_DROP);
    struct th_conn *a2 = th_connect(h, TH_A, 0, TH_B_IP, TT_PORT);
    th_pump(h);
    struct tcp_listener *l = h->lis[TH_B].l;
    CU_ASSERT_EQUAL(l->naccept, 1);
    CU_ASSERT_EQUAL(l->nsyn, 1);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 2);
    th_unlisten(h, TH_B);
    CU_ASSERT_EQUAL(tt_stats(h, TH_B)->conns_now, 0);
    th_pump(h);
    CU_ASSERT_EQUAL(a1->err_seen, -ECONNRESET);
    CU_ASSERT_EQUAL(a2->n_error, 0);                /* nothing told it yet */
    th_send_stream(a2, 100, 0);
    th_pump(h);
    CU_ASSERT_EQUAL(a2->err_seen, -ECONNRESET);
    struct th_conn *a3 = th_connect(h, TH_A, 0, TH_B_IP, TT_PORT);
    th_pump(h);
    CU_ASSERT_EQUAL(a3->err_seen, -ECONNREFUSED);
    th_free(h);
}

/* ---- sequence numbers wrapping past 2^32 ---------------------------------- */

#define TT_WRAP_BEFORE 500000u  /* A's ISN sits this far below 2^32 */
#define TT_WRAP_SPREAD 300000   /* B's ISN within this of A's */

/* The ISN is RFC 6528's M + F(tuple, key): F is fixed for a tuple, M grows
 * 250 per ms. So the start time alone places A's ISN, and the client port
 * (which changes F on both sides) is searched until B's ISN lands near
 * A's. tcp_isn() itself is asked, with the stacks' keys, so the test
 * follows the real function instead of copying it. */
static int tt_wrap_pick(const struct th_opts *o, uint16_t *lport, uint64_t *t0)
{
    struct tcp_layer la, lb;
    memset(&la, 0, sizeof la);
    memset(&lb, 0, sizeof lb);
    la.key = o->cfg[TH_A].secret;
    lb.key = o->cfg[TH_B].secret;
    for (uint32_t p = 1024; p < 65536; p++) {
        la.now = lb.now = 0;
        uint32_t fa = tcp_isn(&la, TH_A_IP, (uint16_t)p, TH_B_IP, TT_PORT);
        uint32_t fb = tcp_isn(&lb, TH_B_IP, TT_PORT, TH_A_IP, (uint16_t)p);
        int32_t d = (int32_t)(fb - fa);
        if (d < -TT_WRAP_SPREAD || d > TT_WRAP_SPREAD)
            continue;
        *lport = (uint16_t)p;
        *t0 = (uint32_t)(0u - TT_WRAP_BEFORE - fa) / 250u;
        return 0;
    }
    return -1;
}

/* Drop the first A->B data segment that holds the byte numbered 0, so the
 * retransmission and the out-of-order data around it straddle the wrap. */
static int tt_drop_at_wrap(struct th *h, int dir, const struct th_seg *s)
{
    int *dropped = h->hook_ctx;
    if (dir != TH_A_TO_B || s->len == 0 || *dropped)
        return -1;
    if (seq_in(0, s->seq, s->seq + s->len)) {
        *dropped = 1;
        return TH_DROP;
    }
    return -1;
}

static void test_seq_wrap(void)
{
    struct th_opts o;
    th_config_default(&o);
    uint16_t lport = 0;
    CU_ASSERT_FATAL(tt_wrap_pick(&o, &lport, &o.t0) == 0);
    struct th *h = th_new(&o);
    int dropped = 0;
    h->hook = tt_drop_at_wrap;
    h->hook_ctx = &dropped;
    th_listen(h, TH_B, TT_PORT, 4);
    struct th_conn *a = th_connect(h, TH_A, lport, TH_B_IP, TT_PORT);
    th_pump(h);
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL_FATAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    /* Both ISNs lie within a megabyte below 2^32. */
    uint32_t ia = a->c->iss, ib = b->c->iss;
    CU_ASSERT(ia >= 0u - TT_WRAP_BEFORE - 250 && ia <= 0u - TT_WRAP_BEFORE);
    CU_ASSERT(ib >= 0u - TT_WRAP_BEFORE - TT_WRAP_SPREAD - 250);
    CU_ASSERT(ib <= 0u - TT_WRAP_BEFORE + TT_WRAP_SPREAD);
    th_send_stream(a, TT_MIB, 1);
    th_send_stream(b, TT_MIB, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 60000));
    CU_ASSERT_EQUAL(dropped, 1);
    CU_ASSERT_EQUAL(a->rx_bytes, TT_MIB);
    CU_ASSERT_EQUAL(b->rx_bytes, TT_MIB);
    CU_ASSERT_EQUAL(a->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT(tt_stats(h, TH_A)->retransmits >= 1);
    /* The numbers wrapped: data + SYN + FIN past the ISN, now below it. */
    CU_ASSERT_EQUAL(a->c->snd_una, ia + 1 + TT_MIB + 1);
    CU_ASSERT(a->c->snd_una < ia);
    CU_ASSERT_EQUAL(b->c->snd_una, ib + 1 + TT_MIB + 1);
    CU_ASSERT(b->c->snd_una < ib);
    th_free(h);
}

TS_SUITE(tcp,
         TS_TEST(test_handshake),
         TS_TEST(test_transfer_both_ways),
         TS_TEST(test_active_close),
         TS_TEST(test_passive_close),
         TS_TEST(test_simultaneous_close),
         TS_TEST(test_simultaneous_open),
         TS_TEST(test_connect_refused),
         TS_TEST(test_close_unread_resets),
         TS_TEST(test_data_after_close_resets),
         TS_TEST(test_unlisten_resets_queued),
         TS_TEST(test_seq_wrap))
