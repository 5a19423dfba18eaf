/* tests/unit/test_tcp_wire.c - the TCP header, options and checksum
 * (tcp/tcp_wire.c).
 *
 * Covers emit -> parse round trips of every option combination with the
 * Linux layout checked byte for byte, SACK blocks dropped when they do not
 * fit, truncated segments and bad data offsets, hostile option lists (zero
 * and one lengths, options past the header, wrong lengths, EOL then
 * garbage), a seeded fuzz loop of 100,000 random headers in exact-size
 * heap buffers (so ASan sees any over-read), and the checksum against
 * segments that tshark and tcpdump both call correct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "tcp/tcp_wire.h"
#include "tests/unit/unit.h"

#define TW_SRC 0xc0a8010au      /* 192.168.1.10 */
#define TW_DST 0xc0a80114u      /* 192.168.1.20 */
#define TW_FUZZ_ROUNDS 100000

/* A private generator, so a defect in core/rand cannot weaken this suite. */
static uint32_t tw_rng(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Parse len bytes copied into a heap block of exactly that size, so that
 * ASan reports a read even one byte past the segment. */
static int tw_parse_exact(const uint8_t *bytes, size_t len, struct tcp_hdr *h)
{
    uint8_t *b = malloc(len ? len : 1);
    CU_ASSERT_FATAL(b != NULL);
    if (len)
        memcpy(b, bytes, len);
    int rc = tcp_parse(b, len, h);
    free(b);
    return rc;
}

/* A 20-byte header followed by nopt option bytes (a multiple of 4), data
 * offset set to cover them; parse it in an exact-size buffer. */
static int tw_parse_opts(const uint8_t *opts, size_t nopt, struct tcp_hdr *h)
{
    uint8_t seg[TCP_HLEN_MAX] = { 0x9c, 0x40, 0x00, 0x50 };
    CU_ASSERT_FATAL(nopt % 4 == 0 && nopt <= TCP_HLEN_MAX - TCP_HLEN);
    seg[12] = (uint8_t)((TCP_HLEN + nopt) / 4 << 4);
    seg[13] = TCP_ACK;
    memcpy(seg + TCP_HLEN, opts, nopt);
    memset(h, 0xa5, sizeof *h);     /* stale values must not survive */
    return tw_parse_exact(seg, TCP_HLEN + nopt, h);
}

static int tw_opts_equal(const struct tcp_opts *a, const struct tcp_opts *b)
{
    if (a->has_mss != b->has_mss || a->has_ws != b->has_ws ||
        a->sack_ok != b->sack_ok || a->has_ts != b->has_ts ||
        a->nsack != b->nsack)
        return 0;
    if ((a->has_mss && a->mss != b->mss) || (a->has_ws && a->ws != b->ws))
        return 0;
    if (a->has_ts && (a->tsval != b->tsval || a->tsecr != b->tsecr))
        return 0;
    for (unsigned i = 0; i < a->nsack; i++)
        if (a->sack[i][0] != b->sack[i][0] || a->sack[i][1] != b->sack[i][1])
            return 0;
    return 1;
}

/* ---- emit and round trip ---------------------------------------------- */

static void test_syn_roundtrip(void)
{
    struct tcp_hdr h = {
        .sport = 40000, .dport = 80, .seq = 0x12345678, .ack = 0,
        .flags = TCP_SYN, .wnd = 65535, .urp = 0,
        .opts = { .has_mss = 1, .mss = 1460, .sack_ok = 1, .has_ts = 1,
                  .tsval = 0x1234, .tsecr = 0, .has_ws = 1, .ws = 7 },
    };
    /* Linux's SYN: MSS, SACK_OK, TS, NOP, WS. */
    static const uint8_t want[40] = {
        0x9c, 0x40, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0,
        0xa0, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x12, 0x34,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    };
    uint8_t buf[TCP_HLEN_MAX + 4];
    memset(buf, 0xee, sizeof buf);
    CU_ASSERT_EQUAL(tcp_opts_len(&h.opts), 20);
    CU_ASSERT_EQUAL(tcp_emit(&h, buf), 40);
    CU_ASSERT_EQUAL(memcmp(buf, want, sizeof want), 0);
    CU_ASSERT_EQUAL(buf[40], 0xee);             /* nothing written past */

    struct tcp_hdr p;
    CU_ASSERT_EQUAL_FATAL(tw_parse_exact(buf, 40, &p), TCP_OK);
    CU_ASSERT_EQUAL(p.sport, 40000);
    CU_ASSERT_EQUAL(p.dport, 80);
    CU_ASSERT_EQUAL(p.seq, 0x12345678u);
    CU_ASSERT_EQUAL(p.ack, 0);
    CU_ASSERT_EQUAL(p.hlen, 40);
    CU_ASSERT_EQUAL(p.flags, TCP_SYN);
    CU_ASSERT_EQUAL(p.wnd, 65535);
    CU_ASSERT_EQUAL(p.urp, 0);
    CU_ASSERT_EQUAL(p.opts.malformed, 0);
    CU_ASSERT(tw_opts_equal(&h.opts, &p.opts));
}

static void test_emit_fixed_fields(void)
{
    struct tcp_hdr h = {
        .sport = 0xfedc, .dport = 0x0102, .seq = 0xdeadbeef,
        .ack = 0x01020304, .flags = 0xff, .wnd = 0x8001, .urp = 0xbeef,
    };
    uint8_t buf[TCP_HLEN];
    CU_ASSERT_EQUAL(tcp_opts_len(&h.opts), 0);
    CU_ASSERT_EQUAL(tcp_emit(&h, buf), TCP_HLEN);
    CU_ASSERT_EQUAL(buf[12], 0x50);
    CU_ASSERT_EQUAL(load_be16(buf + 16), 0);    /* checksum left 0 */
    struct tcp_hdr p;
    CU_ASSERT_EQUAL_FATAL(tw_parse_exact(buf, sizeof buf, &p), TCP_OK);
    CU_ASSERT_EQUAL(p.sport, 0xfedc);
    CU_ASSERT_EQUAL(p.dport, 0x0102);
    CU_ASSERT_EQUAL(p.seq, 0xdeadbeefu);
    CU_ASSERT_EQUAL(p.ack, 0x01020304u);
    CU_ASSERT_EQUAL(p.flags, 0xff);
    CU_ASSERT_EQUAL(p.wnd, 0x8001);
    CU_ASSERT_EQUAL(p.urp, 0xbeef);
    CU_ASSERT_EQUAL(p.hlen, TCP_HLEN);
}

/* The NOP-padded layouts other than the full SYN's. */
static void test_emit_layouts(void)
{
    uint8_t buf[TCP_HLEN_MAX];
    struct tcp_hdr h = { .opts = { .has_ts = 1, .tsval = 1, .tsecr = 2 } };
    static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
    CU_ASSERT_EQUAL(tcp_emit(&h, buf), 32);
    CU_ASSERT_EQUAL(memcmp(buf + 20, ts, 12), 0);

    struct tcp_hdr s = { .opts = { .sack_ok = 1 } };
    static const uint8_t sok[4] = { 1, 1, 4, 2 };
    CU_ASSERT_EQUAL(tcp_emit(&s, buf), 24);
    CU_ASSERT_EQUAL(memcmp(buf + 20, sok, 4), 0);

    struct tcp_hdr w = { .opts = { .has_mss = 1, .mss = 536, .has_ws = 1,
                                   .ws = 14 } };
    static const uint8_t mw[8] = { 2, 4, 0x02, 0x18, 1, 3, 3, 14 };
    CU_ASSERT_EQUAL(tcp_emit(&w, buf), 28);
    CU_ASSERT_EQUAL(memcmp(buf + 20, mw, 8), 0);

    struct tcp_hdr k = { .opts = { .nsack = 1, .sack = { { 5, 9 } } } };
    static const uint8_t sk[12] = { 1, 1, 5, 10, 0, 0, 0, 5, 0, 0, 0, 9 };
    CU_ASSERT_EQUAL(tcp_emit(&k, buf), 32);
    CU_ASSERT_EQUAL(memcmp(buf + 20, sk, 12), 0);
}

/* Every combination of options and 0..4 SACK blocks: emit writes exactly
 * tcp_opts_len() bytes (a multiple of 4, at most 40), and parsing gives
 * back what was set, with the SACK blocks that fit. */
static void tw_check_combo(unsigned bits, uint8_t nsack)
{
    struct tcp_hdr h = { .sport = 1, .dport = 2, .flags = TCP_ACK };
    h.opts.has_mss = bits & 1;
    h.opts.mss = 1460;
    h.opts.sack_ok = (bits >> 1) & 1;
    h.opts.has_ts = (bits >> 2) & 1;
    h.opts.tsval = 0x11223344;
    h.opts.tsecr = 0x55667788;
    h.opts.has_ws = (bits >> 3) & 1;
    h.opts.ws = 9;
    h.opts.nsack = nsack;
    for (unsigned i = 0; i < TCP_SACK_MAX; i++) {
        h.opts.sack[i][0] = 1000 * (i + 1);
        h.opts.sack[i][1] = 1000 * (i + 1) + 500;
    }
    size_t olen = tcp_opts_len(&h.opts);
    CU_ASSERT(olen % 4 == 0 && olen <= 40);
    uint8_t buf[TCP_HLEN_MAX + 8];
    memset(buf, 0xee, sizeof buf);
    CU_ASSERT_EQUAL_FATAL(tcp_emit(&h, buf), TCP_HLEN + olen);
    CU_ASSERT_EQUAL(buf[TCP_HLEN + olen], 0xee);

    struct tcp_hdr p;
    CU_ASSERT_EQUAL_FATAL(tw_parse_exact(buf, TCP_HLEN + olen, &p), TCP_OK);
    CU_ASSERT_EQUAL(p.hlen, TCP_HLEN + olen);
    CU_ASSERT_EQUAL(p.opts.malformed, 0);
    /* Only the first SACK blocks survive: RFC 2018 puts the newest first. */
    size_t base = olen - (p.opts.nsack ? 4 + 8u * p.opts.nsack : 0);
    CU_ASSERT(p.opts.nsack <= nsack);
    CU_ASSERT(p.opts.nsack == nsack || base + 4 + 8u * (p.opts.nsack + 1) > 40);
    h.opts.nsack = p.opts.nsack;
    CU_ASSERT(tw_opts_equal(&h.opts, &p.opts));
}

static void test_emit_all_combos(void)
{
    for (unsigned bits = 0; bits < 16; bits++)
        for (uint8_t n = 0; n <= TCP_SACK_MAX; n++)
            tw_check_combo(bits, n);
}

static void test_sack_dropped_to_fit(void)
{
    struct tcp_opts o = { .nsack = 4 };
    CU_ASSERT_EQUAL(tcp_opts_len(&o), 36);      /* NOP NOP SACK(34) */
    o.has_ts = 1;
    CU_ASSERT_EQUAL(tcp_opts_len(&o), 12 + 28); /* 3 blocks with TS */
    o.has_mss = o.has_ws = o.sack_ok = 1;
    CU_ASSERT_EQUAL(tcp_opts_len(&o), 20 + 20); /* 2 with everything */
    o.nsack = 200;                              /* nonsense: clamped */
    CU_ASSERT_EQUAL(tcp_opts_len(&o), 40);
}

/* ---- fixed header checks ---------------------------------------------- */

static void test_truncated(void)
{
    uint8_t seg[TCP_HLEN] = { 0, 1, 0, 2, [12] = 0x50, [13] = TCP_SYN };
    struct tcp_hdr h;
    for (size_t len = 0; len < TCP_HLEN; len++)
        CU_ASSERT_EQUAL(tw_parse_exact(seg, len, &h), TCP_ERR_TRUNCATED);
    CU_ASSERT_EQUAL(tw_parse_exact(seg, TCP_HLEN, &h), TCP_OK);
}

static void test_bad_offset(void)
{
    uint8_t seg[TCP_HLEN_MAX] = { 0, 1, 0, 2 };
    struct tcp_hdr h;
    for (unsigned off = 0; off < 5; off++) {
        seg[12] = (uint8_t)(off << 4);
        CU_ASSERT_EQUAL(tw_parse_exact(seg, TCP_HLEN_MAX, &h), TCP_ERR_OFFSET);
    }
    /* Offsets one word past the bytes received, for every length. */
    for (unsigned off = 6; off <= 15; off++) {
        seg[12] = (uint8_t)(off << 4);
        CU_ASSERT_EQUAL(tw_parse_exact(seg, off * 4 - 1, &h), TCP_ERR_OFFSET);
        CU_ASSERT_EQUAL(tw_parse_exact(seg, off * 4 - 4, &h), TCP_ERR_OFFSET);
        CU_ASSERT_EQUAL(tw_parse_exact(seg, off * 4, &h), TCP_OK);
        CU_ASSERT_EQUAL(h.hlen, off * 4);
    }
    seg[12] = 0x5f;                 /* reserved bits do not change the offset */
    CU_ASSERT_EQUAL(tw_parse_exact(seg, TCP_HLEN, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.hlen, TCP_HLEN);
}

/* ---- hostile and odd options ------------------------------------------ */

static void test_opt_len_zero(void)
{
    /* MSS first, so the options seen before the bad one are kept. */
    static const uint8_t o[8] = { 2, 4, 0x05, 0xb4, 0xff, 0x00, 3, 3 };
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.malformed, 1);
    CU_ASSERT_EQUAL(h.opts.has_mss, 1);
    CU_ASSERT_EQUAL(h.opts.mss, 1460);
    CU_ASSERT_EQUAL(h.opts.has_ws, 0);

    static const uint8_t z[4] = { 0xff, 0x00, 0xff, 0x00 };
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(z, sizeof z, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.malformed, 1);
    CU_ASSERT_EQUAL(h.opts.has_mss, 0);
}

static void test_opt_len_one(void)
{
    static const uint8_t o[4] = { 2, 1, 1, 1 };
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.malformed, 1);
    CU_ASSERT_EQUAL(h.opts.has_mss, 0);
}

static void test_opt_past_header(void)
{
    /* A timestamp claiming 10 bytes with 8 left in the header, and the
     * missing bytes present as data right after it: still refused. */
    static const uint8_t o[8] = { 1, 1, 1, 1, 8, 10, 0, 0 };
    uint8_t seg[40] = { 0, 1, 0, 2, [12] = 0x70, [13] = TCP_ACK };
    memcpy(seg + TCP_HLEN, o, sizeof o);
    memset(seg + 28, 0x77, sizeof seg - 28);
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_exact(seg, sizeof seg, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.hlen, 28);
    CU_ASSERT_EQUAL(h.opts.malformed, 1);
    CU_ASSERT_EQUAL(h.opts.has_ts, 0);
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.malformed, 1);
    CU_ASSERT_EQUAL(h.opts.has_ts, 0);
}

/* Each known kind with a value, well formed except that it ends one byte
 * past the header: the tightest off-by-one, read from an exact-size
 * buffer. (SACK_OK has no value; its one-past case is a kind byte last,
 * below.) */
static void test_opt_one_past_header(void)
{
    static const uint8_t kinds[][2] = {
        { TCP_OPT_MSS, 4 }, { TCP_OPT_WS, 3 }, { TCP_OPT_SACK, 10 },
        { TCP_OPT_TS, 10 }, { 30, 4 },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint8_t o[12];
        memset(o, TCP_OPT_NOP, sizeof o);
        size_t at = sizeof o - (kinds[k][1] - 1u);
        o[at] = kinds[k][0];
        o[at + 1] = kinds[k][1];
        struct tcp_hdr h;
        CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
        CU_ASSERT_EQUAL(h.opts.malformed, 1);
        CU_ASSERT(!h.opts.has_mss && !h.opts.has_ws && !h.opts.sack_ok &&
                  !h.opts.has_ts && h.opts.nsack == 0);
        /* One byte earlier it fits exactly and is accepted. */
        memmove(o + at - 1, o + at, 2);
        o[at + 1] = 0;
        CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
        CU_ASSERT_EQUAL(h.opts.malformed, 0);
        CU_ASSERT(kinds[k][0] == 30 || h.opts.has_mss || h.opts.has_ws ||
                  h.opts.has_ts || h.opts.nsack == 1);
    }
}

static void test_opt_kind_last_byte(void)
{
    static const uint8_t o[4] = { 1, 1, 1, 2 };
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.malformed, 1);
    CU_ASSERT_EQUAL(h.opts.has_mss, 0);
    /* A full 40 bytes of NOPs is fine and not malformed. */
    uint8_t nops[40];
    memset(nops, TCP_OPT_NOP, sizeof nops);
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(nops, sizeof nops, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
}

static void test_mss_wrong_len(void)
{
    /* MSS of length 3 is skipped by its length; the WS after it stands. */
    static const uint8_t o[8] = { 2, 3, 0x05, 3, 3, 7, 0, 0 };
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.has_mss, 0);
    CU_ASSERT_EQUAL(h.opts.has_ws, 1);
    CU_ASSERT_EQUAL(h.opts.ws, 7);
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
    /* Known options too long are ignored the same way. */
    static const uint8_t l[16] = { 3, 4, 7, 0, 4, 3, 0, 8, 9,
                                   0, 0, 0, 1, 0, 0, 0 };
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(l, sizeof l, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.has_ws, 0);
    CU_ASSERT_EQUAL(h.opts.sack_ok, 0);
    CU_ASSERT_EQUAL(h.opts.has_ts, 0);
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
}

static void test_mss_zero(void)
{
    static const uint8_t o[4] = { 2, 4, 0, 0 };
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.has_mss, 1);
    CU_ASSERT_EQUAL(h.opts.mss, 0);
}

static void test_ws_large(void)
{
    static const uint8_t shifts[] = { 14, 15, 16, 200, 255 };
    for (size_t i = 0; i < sizeof shifts; i++) {
        uint8_t o[4] = { 1, 3, 3, shifts[i] };
        struct tcp_hdr h;
        CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
        CU_ASSERT_EQUAL(h.opts.has_ws, 1);
        CU_ASSERT_EQUAL(h.opts.ws, shifts[i]);
    }
}

static void test_sack_bad_len(void)
{
    struct tcp_hdr h;
    /* No blocks (length 2), and one block plus a stray byte (11). */
    static const uint8_t empty[4] = { 1, 1, 5, 2 };
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(empty, sizeof empty, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.nsack, 0);
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
    static const uint8_t odd[12] = { 5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 9, 0 };
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(odd, sizeof odd, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.nsack, 0);
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
    /* A bad one after a good one is ignored: the good one stands. */
    static const uint8_t two[16] = { 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2,
                                     1, 1, 5, 2 };
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(two, sizeof two, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.nsack, 1);
    CU_ASSERT_EQUAL(h.opts.sack[0][1], 2);
    /* Five blocks (42 bytes) cannot fit in 40: past the header. */
    uint8_t five[40] = { 5, 42 };
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(five, sizeof five, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.nsack, 0);
    CU_ASSERT_EQUAL(h.opts.malformed, 1);
}

static void test_sack_four_blocks(void)
{
    uint8_t o[36] = { 1, 1, 5, 34 };
    for (unsigned i = 0; i < 4; i++) {
        store_be32(o + 4 + 8 * i, 0xfffffff0u + 100 * i);
        store_be32(o + 8 + 8 * i, 0xfffffff0u + 100 * i + 50);
    }
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL_FATAL(h.opts.nsack, 4);
    for (unsigned i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(h.opts.sack[i][0], 0xfffffff0u + 100 * i);
        CU_ASSERT_EQUAL(h.opts.sack[i][1], 0xfffffff0u + 100 * i + 50);
    }
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
}

static void test_eol_then_garbage(void)
{
    static const uint8_t o[12] = { 2, 4, 0x05, 0xb4, 0, 0xff, 0x00, 1,
                                   3, 3, 7, 0x42 };
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.has_mss, 1);
    CU_ASSERT_EQUAL(h.opts.mss, 1460);
    CU_ASSERT_EQUAL(h.opts.has_ws, 0);
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
}

static void test_unknown_skipped(void)
{
    /* An unknown kind 30 (MPTCP) of length 6, then a timestamp. */
    static const uint8_t o[16] = { 30, 6, 1, 2, 3, 4, 8, 10,
                                   0, 0, 0, 7, 0, 0, 0, 9 };
    struct tcp_hdr h;
    CU_ASSERT_EQUAL_FATAL(tw_parse_opts(o, sizeof o, &h), TCP_OK);
    CU_ASSERT_EQUAL(h.opts.has_ts, 1);
    CU_ASSERT_EQUAL(h.opts.tsval, 7);
    CU_ASSERT_EQUAL(h.opts.tsecr, 9);
    CU_ASSERT_EQUAL(h.opts.malformed, 0);
}

/* ---- fuzz ------------------------------------------------------------- */

/* Fill option bytes with option-shaped tokens: well-formed known options,
 * the same with a length off by one, unknown kinds, NOP, EOL and random
 * bytes, so the walk is exercised on its accept paths as well as its
 * refusals. Tokens may run past len; the copy to the heap cuts them. */
static void tw_fuzz_opts(uint8_t *p, size_t n, uint32_t *st)
{
    static const uint8_t known[][2] = {
        { 2, 4 }, { 3, 3 }, { 4, 2 }, { 5, 10 }, { 5, 18 }, { 5, 26 },
        { 5, 34 }, { 8, 10 },
    };
    size_t i = 0;
    while (i < n) {
        uint32_t r = tw_rng(st);
        size_t k = (r >> 4) % (sizeof known / sizeof known[0]);
        size_t olen = known[k][1];
        switch (r & 7) {
        case 0: p[i++] = TCP_OPT_NOP; continue;
        case 1: p[i++] = (uint8_t)(r >> 8); continue;
        case 2: p[i++] = (r & 0x100) ? TCP_OPT_EOL : 0xff; continue;
        case 3: olen = (r >> 8) % 12; break;             /* any length */
        case 4: olen += (r & 0x100) ? 1 : (size_t)-1; break;
        default: break;                                   /* well formed */
        }
        uint8_t tok[2 + 40] = { (r & 7) == 3 ? (uint8_t)(r >> 16) : known[k][0],
                                (uint8_t)olen };
        for (size_t j = 2; j < sizeof tok; j++)
            tok[j] = (uint8_t)tw_rng(st);
        size_t take = olen < 2 ? 2 : olen;
        for (size_t j = 0; j < take && i < n; j++)
            p[i++] = tok[j];
    }
}

/* Whatever parses must re-emit and re-parse to the same options. */
static int tw_fuzz_one(uint32_t *st)
{
    uint8_t raw[TCP_HLEN_MAX];
    size_t len = TCP_HLEN + tw_rng(st) % (TCP_HLEN_MAX - TCP_HLEN + 1);
    for (size_t i = 0; i < TCP_HLEN; i++)
        raw[i] = (uint8_t)tw_rng(st);
    tw_fuzz_opts(raw + TCP_HLEN, len - TCP_HLEN, st);
    uint32_t r = tw_rng(st);
    if (r & 3)                      /* mostly offsets inside the segment */
        raw[12] = (uint8_t)((5 + (r >> 3) % (len / 4 - 4)) << 4 |
                            (raw[12] & 0x0f));
    /* Often no data at all, so the header's end is the allocation's and
     * ASan sees a read even one byte past the options. */
    size_t off = (size_t)(raw[12] >> 4) * 4;
    if ((r & 4) && off >= TCP_HLEN && off <= len)
        len = off;
    uint8_t *heap = malloc(len);
    if (!heap)
        return 0;
    memcpy(heap, raw, len);
    struct tcp_hdr h;
    int rc = tcp_parse(heap, len, &h);
    free(heap);
    if (rc != TCP_OK)
        return rc == TCP_ERR_OFFSET;
    if (h.hlen < TCP_HLEN || h.hlen > len || h.hlen % 4 || h.opts.nsack > 4)
        return 0;
    uint8_t out[TCP_HLEN_MAX];
    struct tcp_hdr p;
    size_t hlen = tcp_emit(&h, out);
    if (tcp_parse(out, hlen, &p) != TCP_OK || p.opts.malformed)
        return 0;
    h.opts.nsack = p.opts.nsack;    /* blocks may be dropped to fit */
    return tw_opts_equal(&h.opts, &p.opts);
}

static void test_fuzz(void)
{
    uint32_t st = 0x7c9e1a2bu;
    unsigned bad = 0, first_bad = 0;
    for (unsigned i = 0; i < TW_FUZZ_ROUNDS; i++) {
        if (!tw_fuzz_one(&st) && bad++ == 0)
            first_bad = i;
    }
    if (bad)
        fprintf(stderr, "tcp_wire fuzz: %u bad, first at round %u\n", bad,
                first_bad);
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- checksum --------------------------------------------------------- */

/* Two segments from 192.168.1.10 to 192.168.1.20 whose checksums tshark
 * (tcp.checksum.status good) and tcpdump -vv ("correct") both accept: a
 * Linux-style SYN, and a PSH|ACK with timestamps and 5 bytes ("hello"),
 * odd in length. */
static const uint8_t tw_syn[40] = {
    0x9c, 0x40, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xff, 0xff, 0xad, 0x20, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
    0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x03, 0x03, 0x07,
};
static const uint8_t tw_odd[37] = {
    0x9c, 0x40, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
    0x80, 0x18, 0xff, 0xff, 0xc7, 0xd7, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
    0x00, 0x00, 0x12, 0x35, 0x00, 0x00, 0x56, 0x78, 'h', 'e', 'l', 'l', 'o',
};

static void test_cksum_known(void)
{
    CU_ASSERT_EQUAL(tcp_cksum(TW_SRC, TW_DST, tw_syn, sizeof tw_syn), 0);
    CU_ASSERT_EQUAL(tcp_cksum(TW_SRC, TW_DST, tw_odd, sizeof tw_odd), 0);
    /* Zeroing the field gives back the value that was there. */
    uint8_t s[sizeof tw_odd];
    memcpy(s, tw_odd, sizeof s);
    store_be16(s + 16, 0);
    CU_ASSERT_EQUAL(tcp_cksum(TW_SRC, TW_DST, s, sizeof s), 0xc7d7);
    /* The pseudo-header counts: another address, or a length one short
     * (the TCP length field and the bytes summed both change), fails. */
    CU_ASSERT_NOT_EQUAL(tcp_cksum(TW_SRC + 1, TW_DST, tw_syn, 40), 0);
    CU_ASSERT_NOT_EQUAL(tcp_cksum(TW_SRC, TW_DST, tw_odd, 36), 0);
}

/* Every single-bit flip changes a 16-bit word by +-2^k, never a multiple of
 * 0xffff, so each must be caught. */
static void test_cksum_bit_flips(void)
{
    uint8_t s[sizeof tw_odd];
    unsigned missed = 0;
    for (size_t i = 0; i < sizeof s * 8; i++) {
        memcpy(s, tw_odd, sizeof s);
        s[i / 8] ^= (uint8_t)(1u << (i % 8));
        if (tcp_cksum(TW_SRC, TW_DST, s, sizeof s) == 0)
            missed++;
    }
    CU_ASSERT_EQUAL(missed, 0);
}

/* emit, add an odd-length payload, fill the checksum; it must verify for
 * every payload length 0..17 (odd ones pad with a zero byte). */
static void test_cksum_emitted(void)
{
    struct tcp_hdr h = {
        .sport = 5555, .dport = 443, .seq = 1, .ack = 2,
        .flags = TCP_ACK | TCP_PSH, .wnd = 512,
        .opts = { .has_ts = 1, .tsval = 3, .tsecr = 4, .nsack = 1,
                  .sack = { { 10, 20 } } },
    };
    for (size_t plen = 0; plen < 18; plen++) {
        uint8_t *seg = malloc(TCP_HLEN_MAX + plen);
        CU_ASSERT_FATAL(seg != NULL);
        size_t hlen = tcp_emit(&h, seg);
        for (size_t i = 0; i < plen; i++)
            seg[hlen + i] = (uint8_t)(0xf1 + 7 * i);
        size_t len = hlen + plen;
        store_be16(seg + 16, tcp_cksum(TW_SRC, TW_DST, seg, len));
        CU_ASSERT_EQUAL(tcp_cksum(TW_SRC, TW_DST, seg, len), 0);
        CU_ASSERT_NOT_EQUAL(tcp_cksum(TW_DST, TW_DST, seg, len), 0);
        free(seg);
    }
}

TS_SUITE(tcp_wire,
         TS_TEST(test_syn_roundtrip),
         TS_TEST(test_emit_fixed_fields),
         TS_TEST(test_emit_layouts),
         TS_TEST(test_emit_all_combos),
         TS_TEST(test_sack_dropped_to_fit),
         TS_TEST(test_truncated),
         TS_TEST(test_bad_offset),
         TS_TEST(test_opt_len_zero),
         TS_TEST(test_opt_len_one),
         TS_TEST(test_opt_past_header),
         TS_TEST(test_opt_one_past_header),
         TS_TEST(test_opt_kind_last_byte),
         TS_TEST(test_mss_wrong_len),
         TS_TEST(test_mss_zero),
         TS_TEST(test_ws_large),
         TS_TEST(test_sack_bad_len),
         TS_TEST(test_sack_four_blocks),
         TS_TEST(test_eol_then_garbage),
         TS_TEST(test_unknown_skipped),
         TS_TEST(test_fuzz),
         TS_TEST(test_cksum_known),
         TS_TEST(test_cksum_bit_flips),
         TS_TEST(test_cksum_emitted))
