/* tests/unit/test_tcp_security.c - TCP against a hostile wire (suite
 * `tcp_security`).
 *
 * Two stacks on the harness wire (tests/unit/tcp_harness.h); the test also
 * plays a blind attacker who writes raw frames into a stack, spoofing the
 * peer's address and ports. Covers every case of RFC 5961 (RST exact, in
 * window, out of window; SYN in a synchronized state; ACKs of data never
 * sent and far below SND.UNA; the per-connection challenge ACK limit),
 * RFC 1337 (RST in TIME-WAIT), SYN cookies under a SYN flood (RFC 4987:
 * a real client still connects; forged, wrong and expired cookies get a
 * reset and create nothing), and hostile headers at TCP input (data offset
 * 0-4 or past the segment, truncated, option lengths 0/1 or past the header,
 * bad checksum, no ACK flag, MSS 0 and window scale 200 in a SYN): each
 * dropped and counted, or processed as far as it can be trusted.
 */
#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define TS_PORT 5003
#define TS_SPOOF_LO 30000   /* client ports the flooder claims */
#define TS_SPOOF_HI 31999

static const struct tcp_stats *ts_stats(struct th *h, int side)
{
    return &h->s[side].tcp.stats;
}

/* A segment as A would send it on b's connection: in sequence, ACKing
 * everything B sent. */
static struct th_raw ts_as_a(const struct th_conn *b)
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

/* Write the frame into side `to` and let both stacks react. */
static void ts_send(struct th *h, int to, const struct th_raw *r)
{
    uint8_t f[TH_FRAME_MAX];
    size_t n = th_build(f, r);
    th_inject(h, to, f, n);
    th_pump(h);
}

/* An established pair whose server side keeps raw bytes (an attacker's
 * data is not the pattern). */
static struct th *ts_pair(struct th_conn **a, struct th_conn **b)
{
    struct th *h = th_new(NULL);
    th_established_pair(h, TS_PORT, a, b);
    (*b)->rx_check = 0;
    th_advance(h, 1000);        /* no delayed ACK left to confuse counts */
    return h;
}

/* ---- RFC 5961 §3: RST ---------------------------------------------------- */

static void test_rst_exact_resets(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    struct th_raw r = ts_as_a(b);
    r.flags = TCP_RST;
    uint64_t sent = h->nseg[TH_B_TO_A];
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(b->n_error, 1);
    CU_ASSERT_EQUAL(b->err_seen, -ECONNRESET);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_CLOSED);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conn_reset, 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, 0);
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], sent);      /* a RST is not answered */
    th_free(h);
}

/* In the window but not at RCV.NXT: a challenge ACK (which a real peer
 * would answer with an exact RST), and the connection lives on. */
static void test_rst_in_window_challenged(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    struct th_raw r = ts_as_a(b);
    r.flags = TCP_RST;
    r.seq += 1000;
    uint64_t sent = h->nseg[TH_B_TO_A];
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(b->n_error, 0);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, 1);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 1);
    const struct th_seg *s = &h->log[TH_B_TO_A][sent];
    CU_ASSERT_EQUAL(s->flags, TCP_ACK);
    CU_ASSERT_EQUAL(s->ack, b->c->rcv_nxt);
    CU_ASSERT_EQUAL(s->seq, b->c->snd_nxt);
    CU_ASSERT_EQUAL(tcp_conn_state(a->c), TCP_ESTABLISHED);
    b->rx_check = 1;
    th_send_stream(a, 20000, 0);
    th_send_stream(b, 20000, 0);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 5000));
    CU_ASSERT_EQUAL(a->rx_bad + b->rx_bad, 0);
    th_free(h);
}

static void test_rst_out_of_window_ignored(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    struct th_raw r = ts_as_a(b);
    r.flags = TCP_RST;
    uint64_t sent = h->nseg[TH_B_TO_A];
    uint32_t seqs[] = { b->c->rcv_nxt + 10 * 1024 * 1024, b->c->rcv_nxt - 1,
                        b->c->rcv_adv, b->c->rcv_nxt + 0x80000000u };
    for (unsigned i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        r.seq = seqs[i];
        ts_send(h, TH_B, &r);
    }
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(b->n_error, 0);
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], sent);      /* not even an ACK */
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, 0);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conn_reset, 0);
    th_free(h);
}

/* ---- RFC 5961 §4: SYN ------------------------------------------------------ */

static void test_syn_in_established_challenged(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    struct th_raw r = ts_as_a(b);
    r.flags = TCP_SYN;
    r.ack = 0;
    r.opts.has_mss = 1;
    r.opts.mss = 1460;
    uint64_t sent = h->nseg[TH_B_TO_A];
    ts_send(h, TH_B, &r);                           /* at RCV.NXT */
    r.seq += 5000;
    ts_send(h, TH_B, &r);                           /* inside the window */
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, 2);
    r.seq += 10 * 1024 * 1024;
    ts_send(h, TH_B, &r);                           /* outside: plain ACK */
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, 2);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->out_of_window, 1);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 3);
    for (uint64_t i = sent; i < sent + 3; i++) {
        CU_ASSERT_EQUAL(h->log[TH_B_TO_A][i].flags, TCP_ACK);
        CU_ASSERT_EQUAL(h->log[TH_B_TO_A][i].ack, b->c->rcv_nxt);
    }
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(b->n_error, 0);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conns_now, 1);
    th_free(h);
}

/* ---- RFC 5961 §5: ACK -------------------------------------------------------- */

static void test_ack_of_unsent_data_dropped(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    struct th_raw r = ts_as_a(b);
    r.ack = b->c->snd_max + 5000;
    r.data = "INJECTED";
    r.len = 8;
    uint32_t una = b->c->snd_una, nxt = b->c->rcv_nxt;
    uint64_t sent = h->nseg[TH_B_TO_A];
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->drop_ack_unacceptable, 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 0);                /* its data went too */
    CU_ASSERT_EQUAL(b->c->rcv_nxt, nxt);
    CU_ASSERT_EQUAL(b->c->snd_una, una);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent].flags, TCP_ACK);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent].ack, nxt);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    th_free(h);
}

/* Acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.MAX]: one just below
 * is a blind guess (dropped, ACKed); an old one inside still carries data. */
static void test_ack_far_below_dropped(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    th_send_stream(b, 200000, 0);                   /* move SND.UNA on */
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 5000));
    th_advance(h, 1000);
    CU_ASSERT_EQUAL(b->c->max_snd_wnd, TH_BUF);
    struct th_raw r = ts_as_a(b);
    r.ack = b->c->snd_una - b->c->max_snd_wnd - 1;
    r.data = "BLIND";
    r.len = 5;
    uint64_t sent = h->nseg[TH_B_TO_A];
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->drop_ack_unacceptable, 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 0);
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], sent + 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent].flags, TCP_ACK);
    /* The edge itself is acceptable: an old duplicate, not an attack. */
    r = ts_as_a(b);
    r.ack = b->c->snd_una - b->c->max_snd_wnd;
    r.data = "OLDACK";
    r.len = 6;
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->drop_ack_unacceptable, 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 6);
    CU_ASSERT_EQUAL(memcmp(b->capture, "OLDACK", 6), 0);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    th_free(h);
}

/* ---- RFC 5961 §7: the challenge ACK limit ----------------------------------- */

static void test_challenge_ack_limit_per_conn(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    unsigned limit = h->s[TH_B].cfg.tcp.challenge_ack_per_sec;
    struct th_raw r = ts_as_a(b);
    r.flags = TCP_RST;
    uint64_t sent = h->nseg[TH_B_TO_A];
    for (unsigned i = 0; i < limit + 5; i++) {
        r.seq = b->c->rcv_nxt + 1 + i;
        ts_send(h, TH_B, &r);
    }
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, limit);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks_limited, 5);
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], sent + limit);
    /* A second connection has its own budget. */
    struct th_conn *a2 = th_connect(h, TH_A, 0, TH_B_IP, TS_PORT);
    th_pump(h);
    struct th_conn *b2 = th_peer(h, a2);
    CU_ASSERT_FATAL(b2 != NULL);
    struct th_raw r2 = ts_as_a(b2);
    r2.flags = TCP_RST;
    r2.seq += 7;
    ts_send(h, TH_B, &r2);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, limit + 1);
    /* Still limited on the first within its second; open again after. */
    r.seq = b->c->rcv_nxt + 99;
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks_limited, 6);
    th_advance(h, 1000);
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->challenge_acks, limit + 2);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(tcp_conn_state(b2->c), TCP_ESTABLISHED);
    th_free(h);
}

/* ---- RFC 1337: no assassination of TIME-WAIT ------------------------------- */

static void test_rst_in_time_wait_ignored(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    struct tcp_conn *ac = a->c;
    th_close(a);
    th_pump(h);
    th_close(b);
    th_pump(h);
    CU_ASSERT_EQUAL_FATAL(tcp_conn_state(ac), TCP_TIME_WAIT);
    struct th_raw r;
    memset(&r, 0, sizeof r);
    r.src = TH_B_IP;
    r.dst = TH_A_IP;
    r.sport = ac->rport;
    r.dport = ac->lport;
    r.seq = ac->rcv_nxt;
    r.flags = TCP_RST;
    ts_send(h, TH_A, &r);
    r.flags = TCP_RST | TCP_ACK;
    r.ack = ac->snd_nxt;
    ts_send(h, TH_A, &r);
    CU_ASSERT_EQUAL(ts_stats(h, TH_A)->rst_ignored_time_wait, 2);
    CU_ASSERT_EQUAL(tcp_conn_state(ac), TCP_TIME_WAIT);
    CU_ASSERT_EQUAL(ts_stats(h, TH_A)->conns_time_wait, 1);
    th_advance(h, 2u * h->s[TH_A].cfg.tcp.msl_ms);
    CU_ASSERT_EQUAL(ts_stats(h, TH_A)->conns_now, 0);
    th_free(h);
}

/* ---- SYN cookies (RFC 4987 §3.6) ------------------------------------------- */

/* SYNs from n spoofed ports of A's address; their SYN-ACKs are lost. */
static void ts_flood(struct th *h, uint16_t port0, unsigned n, int with_mss)
{
    for (unsigned i = 0; i < n; i++) {
        struct th_raw r;
        memset(&r, 0, sizeof r);
        r.src = TH_A_IP;
        r.dst = TH_B_IP;
        r.sport = (uint16_t)(port0 + i);
        r.dport = TS_PORT;
        r.seq = 1000u * (i + 1);
        r.flags = TCP_SYN;
        r.wnd = 65535;
        r.opts.has_mss = (uint8_t)with_mss;
        r.opts.mss = 1460;
        ts_send(h, TH_B, &r);
    }
}

static struct th *ts_flooded(void)
{
    struct th *h = th_new(NULL);
    struct th_rule *r = th_rule_add(h, TH_B_TO_A, 0, 0, -1, 0, 0, TH_DROP);
    r->dport_lo = TS_SPOOF_LO;
    r->dport_hi = TS_SPOOF_HI;
    th_listen(h, TH_B, TS_PORT, 2);
    ts_flood(h, TS_SPOOF_LO, 20, 1);
    return h;
}

static int ts_accepted_and_done(struct th *h)
{
    return h->lis[TH_B].accepted >= 1 && th_all_done(h);
}

static void test_syn_cookies_under_flood(void)
{
    struct th *h = ts_flooded();
    struct tcp_listener *l = h->lis[TH_B].l;
    CU_ASSERT_EQUAL(l->nsyn, l->syn_max);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conns_now, l->syn_max);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_sent, 20 - l->syn_max);
    /* A real client still gets in, through a cookie. */
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, TS_PORT);
    th_send_stream(a, 100000, 0);
    CU_ASSERT_TRUE(th_run_until(h, ts_accepted_and_done, 5000));
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT(b->c->flags & TCP_F_COOKIE);
    CU_ASSERT_EQUAL(b->c->mss, 1460);
    CU_ASSERT_FALSE(a->c->flags & TCP_F_WS_OK);    /* a cookie cannot carry it */
    th_send_stream(b, 100000, 0);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 5000));
    CU_ASSERT_EQUAL(a->rx_bytes, 100000);
    CU_ASSERT_EQUAL(b->rx_bytes, 100000);
    CU_ASSERT_EQUAL(a->rx_bad + b->rx_bad, 0);
    CU_ASSERT(ts_stats(h, TH_B)->syn_cookies_sent > 0);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_ok, 1);
    /* The half-open flood times out; the SYN queue empties. */
    th_advance(h, 300000);
    CU_ASSERT_EQUAL(l->nsyn, 0);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conns_now, 1);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    /* With the queue empty again, the next client gets a full handshake
     * (window scaling, SACK), not a cookie. */
    uint64_t cookies = ts_stats(h, TH_B)->syn_cookies_sent;
    struct th_conn *a2 = th_connect(h, TH_A, 0, TH_B_IP, TS_PORT);
    th_pump(h);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_sent, cookies);
    CU_ASSERT_EQUAL(tcp_conn_state(a2->c), TCP_ESTABLISHED);
    CU_ASSERT(a2->c->flags & TCP_F_WS_OK);
    CU_ASSERT(a2->c->flags & TCP_F_SACK_OK);
    th_free(h);
}

/* The cookie B sent in its SYN-ACK to A's spoofed port, from the log. */
static uint32_t ts_cookie_for(const struct th *h, uint16_t port)
{
    uint64_t n = h->nseg[TH_B_TO_A] < TH_LOG_MAX ? h->nseg[TH_B_TO_A] : TH_LOG_MAX;
    for (uint64_t i = n; i-- > 0;) {
        const struct th_seg *s = &h->log[TH_B_TO_A][i];
        if (s->dport == port && s->flags == (TCP_SYN | TCP_ACK))
            return s->seq;
    }
    CU_FAIL("no SYN-ACK to that port");
    return 0;
}

/* The handshake's last ACK, written by hand. */
static void ts_cookie_ack(struct th *h, uint16_t port, uint32_t seq,
                          uint32_t ack)
{
    struct th_raw r;
    memset(&r, 0, sizeof r);
    r.src = TH_A_IP;
    r.dst = TH_B_IP;
    r.sport = port;
    r.dport = TS_PORT;
    r.seq = seq;
    r.ack = ack;
    r.flags = TCP_ACK;
    r.wnd = 65535;
    ts_send(h, TH_B, &r);
}

static void test_syn_cookie_forged_and_expired(void)
{
    struct th *h = ts_flooded();
    uint64_t conns = ts_stats(h, TH_B)->conns_now;
    /* A guess: RST (seq = the guessed ACK), nothing created. */
    uint64_t sent = h->nseg[TH_B_TO_A];
    ts_cookie_ack(h, 31500, 777, 0x12345678u);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_bad, 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conns_now, conns);
    CU_ASSERT_EQUAL_FATAL(h->nseg[TH_B_TO_A], sent + 1);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent].flags, TCP_RST);
    CU_ASSERT_EQUAL(h->log[TH_B_TO_A][sent].seq, 0x12345678u);
    /* A real cookie off by one, or for another port: rejected too. */
    ts_flood(h, 31000, 1, 0);
    uint32_t ck = ts_cookie_for(h, 31000);
    ts_cookie_ack(h, 31000, 1001, ck + 2);
    ts_cookie_ack(h, 31001, 1001, ck + 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_bad, 3);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conns_now, conns);
    /* The right one makes a connection with the MSS it encodes (no MSS
     * option in that SYN: 536). */
    ts_cookie_ack(h, 31000, 1001, ck + 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_ok, 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conns_now, conns + 1);
    CU_ASSERT_EQUAL_FATAL(h->lis[TH_B].accepted, 1);
    struct th_conn *b = &h->conns[h->nconns - 1];
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL(b->c->mss, 536);
    /* Still good a tick later; not two ticks later. */
    ts_flood(h, 31100, 2, 1);
    uint32_t c1 = ts_cookie_for(h, 31100), c2 = ts_cookie_for(h, 31101);
    th_advance(h, 64000);
    ts_cookie_ack(h, 31100, 1001, c1 + 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_ok, 2);
    th_advance(h, 70000);
    ts_cookie_ack(h, 31101, 2001, c2 + 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_ok, 2);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->syn_cookies_bad, 4);
    th_free(h);
}

/* ---- hostile headers ---------------------------------------------------------- */

/* A 4-byte data segment in sequence on b's connection, then its TCP header
 * byte 12 (data offset) set to doff words; checksum redone. */
static size_t ts_with_offset(uint8_t *f, const struct th_conn *b,
                             const char *data, unsigned doff)
{
    struct th_raw r = ts_as_a(b);
    r.data = data;
    r.len = strlen(data);
    size_t n = th_build(f, &r);
    f[TH_TCP_OFF + 12] = (uint8_t)(doff << 4);
    th_fix_cksum(f, n);
    return n;
}

/* Rewrite the IPv4 header for a TCP part of seglen bytes. */
static size_t ts_set_ip_len(uint8_t *f, size_t seglen)
{
    struct ipv4_hdr ih = { .hlen = IPV4_HLEN,
                           .total_len = (uint16_t)(IPV4_HLEN + seglen),
                           .ttl = 64, .proto = IPV4_PROTO_TCP,
                           .src = load_be32(f + ETH_HLEN + 12),
                           .dst = load_be32(f + ETH_HLEN + 16) };
    ipv4_emit(&ih, f + ETH_HLEN);
    return TH_TCP_OFF + seglen;
}

static void test_hostile_data_offset(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    uint8_t f[TH_FRAME_MAX];
    for (unsigned doff = 0; doff < 5; doff++) {
        size_t n = ts_with_offset(f, b, "EVIL", doff);
        th_inject(h, TH_B, f, n);
    }
    size_t n = ts_with_offset(f, b, "EVIL", 15);    /* 60 bytes > 24 */
    th_inject(h, TH_B, f, n);
    (void)ts_with_offset(f, b, "EVIL", 5);
    n = ts_set_ip_len(f, 12);                       /* 12 < 20 bytes */
    th_inject(h, TH_B, f, n);
    uint64_t sent = h->nseg[TH_B_TO_A];
    th_pump(h);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->drop_bad_offset, 6);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->drop_truncated, 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 0);
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], sent);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    th_free(h);
}

/* Options with a length of 0 or 1, running past the header, or a kind in
 * the header's last byte: the walk stops there, the segment is still
 * processed (its data delivered), and the malformation counted. */
static void test_hostile_options_processed(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    static const uint8_t bad[][4] = {
        { TCP_OPT_MSS, 0, 0, 0 },
        { TCP_OPT_TS, 1, 0, 0 },
        { TCP_OPT_TS, 10, 0, 0 },
        { TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_WS },
    };
    char want[32] = "";
    for (unsigned i = 0; i < 4; i++) {
        uint8_t f[TH_FRAME_MAX];
        char body[9];
        memcpy(body, bad[i], 4);
        body[4] = 'O';
        body[5] = 'P';
        body[6] = 'T';
        body[7] = (char)('0' + i);
        struct th_raw r = ts_as_a(b);
        r.data = body;
        r.len = 8;
        size_t n = th_build(f, &r);
        f[TH_TCP_OFF + 12] = 6 << 4;                /* the 4 bytes are options */
        th_fix_cksum(f, n);
        th_inject(h, TH_B, f, n);
        th_pump(h);
        memcpy(want + 4 * i, body + 4, 4);
    }
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->opt_malformed, 4);
    CU_ASSERT_EQUAL(b->rx_bytes, 16);
    CU_ASSERT_EQUAL(memcmp(b->capture, want, 16), 0);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    th_free(h);
}

static void test_bad_checksum_dropped(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    uint8_t f[TH_FRAME_MAX];
    struct th_raw r = ts_as_a(b);
    r.data = "SUM!";
    r.len = 4;
    size_t n = th_build(f, &r);
    f[TH_TCP_OFF + 17] ^= 0x01;
    uint64_t sent = h->nseg[TH_B_TO_A];
    th_inject(h, TH_B, f, n);
    th_pump(h);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->drop_bad_cksum, 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 0);
    CU_ASSERT_EQUAL(h->nseg[TH_B_TO_A], sent);
    f[TH_TCP_OFF + 17] ^= 0x01;                     /* the same, intact */
    th_inject(h, TH_B, f, n);
    th_pump(h);
    CU_ASSERT_EQUAL(b->rx_bytes, 4);
    CU_ASSERT_EQUAL(memcmp(b->capture, "SUM!", 4), 0);
    th_free(h);
}

/* RFC 9293 §3.10.7.4 fifth check: no ACK bit, no processing. */
static void test_no_ack_flag_dropped(void)
{
    struct th_conn *a, *b;
    struct th *h = ts_pair(&a, &b);
    struct th_raw r = ts_as_a(b);
    r.flags = TCP_PSH;
    r.data = "NOACK";
    r.len = 5;
    ts_send(h, TH_B, &r);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->drop_no_ack, 1);
    CU_ASSERT_EQUAL(b->rx_bytes, 0);
    CU_ASSERT_EQUAL(tcp_conn_state(b->c), TCP_ESTABLISHED);
    th_free(h);
}

/* A SYN asking for MSS 0 and window scale 200: clamped to 64 and 14. */
static void test_hostile_syn_options_clamped(void)
{
    struct th *h = th_new(NULL);
    th_listen(h, TH_B, TS_PORT, 4);
    struct th_raw r;
    memset(&r, 0, sizeof r);
    r.src = TH_A_IP;
    r.dst = TH_B_IP;
    r.sport = 40000;
    r.dport = TS_PORT;
    r.seq = 12345;
    r.flags = TCP_SYN;
    r.wnd = 1000;
    r.opts.has_mss = 1;
    r.opts.mss = 0;
    r.opts.has_ws = 1;
    r.opts.ws = 200;
    uint8_t f[TH_FRAME_MAX];
    size_t n = th_build(f, &r);
    th_inject(h, TH_B, f, n);
    CU_ASSERT_EQUAL(stack_rx(&h->s[TH_B], 16, h->now), 1);
    struct tcp_conn *c = tcp_conn_find(&h->s[TH_B].tcp, TH_B_IP, TS_PORT,
                                       TH_A_IP, 40000);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(tcp_conn_state(c), TCP_SYN_RECEIVED);
    CU_ASSERT_EQUAL(c->mss, 64);
    CU_ASSERT_EQUAL(c->snd_ws, 14);
    /* A (who never sent it) resets the SYN-ACK; the half-open goes. */
    th_pump(h);
    CU_ASSERT_EQUAL(ts_stats(h, TH_A)->rst_sent_no_conn, 1);
    CU_ASSERT_EQUAL(ts_stats(h, TH_B)->conns_now, 0);
    CU_ASSERT_EQUAL(h->lis[TH_B].l->nsyn, 0);
    th_free(h);
}

TS_SUITE(tcp_security,
         TS_TEST(test_rst_exact_resets),
         TS_TEST(test_rst_in_window_challenged),
         TS_TEST(test_rst_out_of_window_ignored),
         TS_TEST(test_syn_in_established_challenged),
         TS_TEST(test_ack_of_unsent_data_dropped),
         TS_TEST(test_ack_far_below_dropped),
         TS_TEST(test_challenge_ack_limit_per_conn),
         TS_TEST(test_rst_in_time_wait_ignored),
         TS_TEST(test_syn_cookies_under_flood),
         TS_TEST(test_syn_cookie_forged_and_expired),
         TS_TEST(test_hostile_data_offset),
         TS_TEST(test_hostile_options_processed),
         TS_TEST(test_bad_checksum_dropped),
         TS_TEST(test_no_ack_flag_dropped),
         TS_TEST(test_hostile_syn_options_clamped))
