/* tests/unit/test_ipv4_opt.c - IPv4 options: the checker, good and hostile,
 * and the echo reply's options (suite ipv4_opt).
 *
 * Every header is parsed from an exact-size heap copy, so AddressSanitizer
 * catches a read past it. Covers EOL, NOP and unknown options skipped;
 * lengths 0 and 1, an option running past the header and a type octet
 * with no length octet; Record Route, LSRR, SSRR and Timestamp with every
 * out-of-range length, pointer and flag, repeated or two source routes,
 * each with the exact offending octet; a seeded random battery of option
 * bytes checked for invariants; then the reply's Record Route and
 * Timestamp updates (room, full, overflow, prespecified), the reversal of
 * a completed source route (RFC 1122 §3.2.1.8, cases A and B), and the
 * copied options of later fragments.
 */
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/bytes.h"
#include "core/rand.h"
#include "ipv4/ipv4_opt.h"
#include "ipv4/ipv4_wire.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/unit.h"

#define O_SELF TS_IP4(10, 0, 0, 2)
#define O_PEER TS_IP4(10, 0, 0, 1)

/* A header whose options are opts (n bytes, padded here with EOL to a
 * multiple of 4) into hdr; its length. Only the options matter here. */
static size_t o_hdr(uint8_t *hdr, const uint8_t *opts, size_t n)
{
    memset(hdr, 0, IPV4_HLEN_MAX);
    size_t hlen = IPV4_HLEN + (n + 3) / 4 * 4;
    hdr[0] = (uint8_t)(0x40 | hlen / 4);
    memcpy(hdr + IPV4_HLEN, opts, n);
    return hlen;
}

/* Parse opts (n bytes) as a header's options from an exact-size copy. */
static int o_parse(const uint8_t *opts, size_t n, struct ipv4_opts *o,
                   uint8_t *bad)
{
    uint8_t hdr[IPV4_HLEN_MAX];
    size_t hlen = o_hdr(hdr, opts, n);
    uint8_t *b = fx_dup(hdr, hlen);
    int rc = b ? ipv4_opts_parse(b, hlen, o, bad) : 99;
    free(b);
    return rc;
}

/* The expected error and offending octet (header offset) of opts. */
#define O_BAD(opts, err, at)                                                 \
    do {                                                                     \
        struct ipv4_opts o_;                                                 \
        uint8_t b_ = 0;                                                      \
        CU_ASSERT_EQUAL(o_parse(opts, sizeof(opts), &o_, &b_), err);         \
        CU_ASSERT_EQUAL(b_, at);                                             \
    } while (0)

static void opt_test_nop_eol_unknown(void)
{
    /* NOP, router alert (148, len 4), security (130, len 11), EOL, then
     * a "length 0" after EOL: padding, never read as an option. */
    static const uint8_t opts[] = { 1, 148, 4, 0, 0, 130, 11, 1, 2, 3, 4,
                                    5, 6, 7, 8, 9, 1, 0, 99, 0 };
    struct ipv4_opts o;
    uint8_t bad = 0xee;
    CU_ASSERT_EQUAL(o_parse(opts, sizeof opts, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_EQUAL(o.rr, 0);
    CU_ASSERT_EQUAL(o.ts, 0);
    CU_ASSERT_EQUAL(o.srr, 0);
    CU_ASSERT_EQUAL(bad, 0);
    static const uint8_t nops[40] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1 };
    CU_ASSERT_EQUAL(o_parse(nops, sizeof nops, &o, &bad), IPV4_OPT_OK);
}

static void opt_test_bad_lengths(void)
{
    static const uint8_t len0[] = { 148, 0, 0, 0 };
    static const uint8_t len1[] = { 1, 148, 1, 0 };
    static const uint8_t past[] = { 148, 5, 0, 0 };          /* header ends at 24 */
    static const uint8_t past40[40] = { 130, 41 };
    static const uint8_t no_len[] = { 1, 1, 1, 148 };        /* type in the last octet */
    static const uint8_t rr_len0[] = { IPV4_OPT_RR, 0, 4, 0 };
    O_BAD(len0, IPV4_OPT_ERR_LEN, 21);
    O_BAD(len1, IPV4_OPT_ERR_LEN, 22);
    O_BAD(past, IPV4_OPT_ERR_LEN, 21);
    O_BAD(past40, IPV4_OPT_ERR_LEN, 21);
    O_BAD(no_len, IPV4_OPT_ERR_LEN, 23);
    O_BAD(rr_len0, IPV4_OPT_ERR_LEN, 21);
}

static void opt_test_record_route(void)
{
    static const uint8_t good[] = { IPV4_OPT_RR, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t full[] = { 1, IPV4_OPT_RR, 7, 8, 1, 2, 3, 4 };
    static const uint8_t len2[] = { IPV4_OPT_RR, 2, 1, 1 };
    static const uint8_t len6[] = { IPV4_OPT_RR, 6, 4, 0, 0, 0, 0, 0 };
    static const uint8_t ptr3[] = { IPV4_OPT_RR, 7, 3, 0, 0, 0, 0, 0 };
    static const uint8_t ptr0[] = { IPV4_OPT_RR, 7, 0, 0, 0, 0, 0, 0 };
    static const uint8_t ptr5[] = { IPV4_OPT_RR, 11, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t ptr12[] = { IPV4_OPT_RR, 7, 12, 0, 0, 0, 0, 0 };
    static const uint8_t ptr255[] = { IPV4_OPT_RR, 7, 255, 0, 0, 0, 0, 0 };
    static const uint8_t twice[] = { IPV4_OPT_RR, 3, 4, IPV4_OPT_RR, 3, 4, 0, 0 };
    struct ipv4_opts o;
    uint8_t bad;
    CU_ASSERT_EQUAL(o_parse(good, sizeof good, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_EQUAL(o.rr, 20);
    CU_ASSERT_EQUAL(o_parse(full, sizeof full, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_EQUAL(o.rr, 21);
    O_BAD(len2, IPV4_OPT_ERR_RR, 21);
    O_BAD(len6, IPV4_OPT_ERR_RR, 21);
    O_BAD(ptr3, IPV4_OPT_ERR_RR, 22);
    O_BAD(ptr0, IPV4_OPT_ERR_RR, 22);
    O_BAD(ptr5, IPV4_OPT_ERR_RR, 22);
    O_BAD(ptr12, IPV4_OPT_ERR_RR, 22);
    O_BAD(ptr255, IPV4_OPT_ERR_RR, 22);
    O_BAD(twice, IPV4_OPT_ERR_RR, 24);
}

static void opt_test_source_route(void)
{
    static const uint8_t open[] = { 1, IPV4_OPT_LSRR, 11, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t done[] = { 1, IPV4_OPT_SSRR, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t ptr2[] = { IPV4_OPT_LSRR, 7, 2, 0, 0, 0, 0, 0 };
    static const uint8_t ptr13[] = { IPV4_OPT_SSRR, 7, 13, 0, 0, 0, 0, 0 };
    static const uint8_t len9[] = { IPV4_OPT_LSRR, 9, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t two[] = { IPV4_OPT_LSRR, 3, 4, IPV4_OPT_SSRR, 3, 4, 0, 0 };
    struct ipv4_opts o;
    uint8_t bad;
    CU_ASSERT_EQUAL(o_parse(open, sizeof open, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_EQUAL(o.srr, 21);
    CU_ASSERT_FALSE(o.srr_done);
    CU_ASSERT_EQUAL(o_parse(done, sizeof done, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_EQUAL(o.srr, 21);
    CU_ASSERT_TRUE(o.srr_done);
    O_BAD(ptr2, IPV4_OPT_ERR_SRR, 22);
    O_BAD(ptr13, IPV4_OPT_ERR_SRR, 22);
    O_BAD(len9, IPV4_OPT_ERR_SRR, 21);
    O_BAD(two, IPV4_OPT_ERR_SRR, 24);
}

static void opt_test_timestamp(void)
{
    static const uint8_t only[] = { IPV4_OPT_TS, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t addr[] = { IPV4_OPT_TS, 12, 13, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t len3[] = { IPV4_OPT_TS, 3, 5, 0 };
    static const uint8_t flag2[] = { IPV4_OPT_TS, 8, 5, 2, 0, 0, 0, 0 };
    static const uint8_t flag15[] = { IPV4_OPT_TS, 8, 5, 0xff, 0, 0, 0, 0 };
    static const uint8_t ptr4[] = { IPV4_OPT_TS, 8, 4, 0, 0, 0, 0, 0 };
    static const uint8_t ptr6[] = { IPV4_OPT_TS, 12, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t ptr9a[] = { IPV4_OPT_TS, 12, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t ptr14[] = { IPV4_OPT_TS, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t len8a[] = { IPV4_OPT_TS, 8, 5, 1, 0, 0, 0, 0 };
    static const uint8_t twice[] = { IPV4_OPT_TS, 4, 5, 0, IPV4_OPT_TS, 4, 5, 0 };
    struct ipv4_opts o;
    uint8_t bad;
    CU_ASSERT_EQUAL(o_parse(only, sizeof only, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_EQUAL(o.ts, 20);
    CU_ASSERT_EQUAL(o_parse(addr, sizeof addr, &o, &bad), IPV4_OPT_OK);
    O_BAD(len3, IPV4_OPT_ERR_TS, 21);
    O_BAD(flag2, IPV4_OPT_ERR_TS, 23);
    O_BAD(flag15, IPV4_OPT_ERR_TS, 23);
    O_BAD(ptr4, IPV4_OPT_ERR_TS, 22);
    O_BAD(ptr6, IPV4_OPT_ERR_TS, 22);
    O_BAD(ptr9a, IPV4_OPT_ERR_TS, 22);
    O_BAD(ptr14, IPV4_OPT_ERR_TS, 22);
    O_BAD(len8a, IPV4_OPT_ERR_TS, 21);
    O_BAD(twice, IPV4_OPT_ERR_TS, 25);
}

/* Random option bytes biased toward the interesting types and small
 * lengths: never a read past the copy (ASan), the offending octet inside
 * the header, every option found lying whole inside it, and the echo
 * options built from an accepted header well-formed in turn. */
static void opt_test_random_battery(void)
{
    static const uint8_t types[] = { 0, 1, 7, 68, 131, 137, 148, 130, 255 };
    struct ts_rand r;
    ts_rand_seed(&r, 0x6f707473u);
    unsigned ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t opts[IPV4_OPTS_MAX];
        size_t n = 4 * (1 + ts_rand_below(&r, 10));
        for (size_t i = 0; i < n; i++) {
            uint32_t v = ts_rand_u32(&r);
            opts[i] = (v & 3) == 0 ? types[(v >> 2) % sizeof types]
                                   : (uint8_t)((v >> 8) % 16);
        }
        struct ipv4_opts o;
        uint8_t bad = 0, hdr[IPV4_HLEN_MAX];
        size_t hlen = o_hdr(hdr, opts, n);
        int rc = o_parse(opts, n, &o, &bad);
        if (rc != IPV4_OPT_OK) {
            CU_ASSERT(bad >= IPV4_HLEN && bad < hlen);
            continue;
        }
        ok++;
        if (o.rr)
            CU_ASSERT(o.rr + hdr[o.rr + 1] <= hlen);
        if (o.ts)
            CU_ASSERT(o.ts + hdr[o.ts + 1] <= hlen);
        uint8_t out[IPV4_OPTS_MAX + 8], back[IPV4_HLEN_MAX];
        uint32_t dst;
        memset(out, 0xcc, sizeof out);
        size_t m = ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 1, out, &dst);
        CU_ASSERT(m <= IPV4_OPTS_MAX && m % 4 == 0);
        CU_ASSERT_EQUAL(out[IPV4_OPTS_MAX], 0xcc);
        struct ipv4_opts o2;
        size_t hlen2 = o_hdr(back, out, m);
        CU_ASSERT_EQUAL(ipv4_opts_parse(back, hlen2, &o2, &bad), IPV4_OPT_OK);
    }
    CU_ASSERT(ok > 100);        /* the battery reached the good paths too */
}

static void opt_test_echo_record_route(void)
{
    /* Two slots, the first filled by a router on the way. */
    static const uint8_t rr[] = { 1, IPV4_OPT_RR, 11, 8, 10, 0, 0, 254, 0, 0, 0, 0 };
    uint8_t hdr[IPV4_HLEN_MAX], out[IPV4_OPTS_MAX];
    struct ipv4_opts o;
    uint8_t bad;
    uint32_t dst = 0;
    size_t hlen = o_hdr(hdr, rr, sizeof rr);
    CU_ASSERT_EQUAL_FATAL(ipv4_opts_parse(hdr, hlen, &o, &bad), IPV4_OPT_OK);
    size_t m = ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 7, out, &dst);
    CU_ASSERT_EQUAL(m, 12);                 /* 11 and one EOL of padding */
    CU_ASSERT_EQUAL(dst, O_PEER);
    CU_ASSERT_EQUAL(out[0], IPV4_OPT_RR);
    CU_ASSERT_EQUAL(out[2], 12);
    CU_ASSERT_EQUAL(load_be32(out + 3), TS_IP4(10, 0, 0, 254));
    CU_ASSERT_EQUAL(load_be32(out + 7), O_SELF);
    CU_ASSERT_EQUAL(out[11], IPV4_OPT_EOL);
    /* Full: reflected as it came, no truncation. */
    hdr[20 + 3] = 12;
    CU_ASSERT_EQUAL_FATAL(ipv4_opts_parse(hdr, hlen, &o, &bad), IPV4_OPT_OK);
    m = ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 7, out, &dst);
    CU_ASSERT_EQUAL(m, 12);
    CU_ASSERT_EQUAL(memcmp(out, hdr + 21, 11), 0);
}

static void opt_test_echo_timestamp(void)
{
    static const uint8_t only[] = { IPV4_OPT_TS, 12, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
    static const uint8_t addr[] = { IPV4_OPT_TS, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t pre[] = { IPV4_OPT_TS, 20, 5, 3, 10, 0, 0, 2, 0, 0, 0, 0,
                                   10, 0, 0, 9, 0, 0, 0, 0 };
    static const uint8_t fullts[] = { IPV4_OPT_TS, 8, 9, 0xf0, 0, 0, 0, 1 };
    uint8_t hdr[IPV4_HLEN_MAX], out[IPV4_OPTS_MAX];
    struct ipv4_opts o;
    uint8_t bad;
    uint32_t dst;
    size_t hlen = o_hdr(hdr, only, sizeof only);
    CU_ASSERT_EQUAL_FATAL(ipv4_opts_parse(hdr, hlen, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_EQUAL(ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 0x80001234u, out, &dst), 12);
    CU_ASSERT_EQUAL(out[2], 13);
    CU_ASSERT_EQUAL(load_be32(out + 8), 0x80001234u);
    hlen = o_hdr(hdr, addr, sizeof addr);
    CU_ASSERT_EQUAL_FATAL(ipv4_opts_parse(hdr, hlen, &o, &bad), IPV4_OPT_OK);
    ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 42, out, &dst);
    CU_ASSERT_EQUAL(out[2], 13);
    CU_ASSERT_EQUAL(load_be32(out + 4), O_SELF);
    CU_ASSERT_EQUAL(load_be32(out + 8), 42);
    /* Prespecified: we are the first address, so our stamp goes there. */
    hlen = o_hdr(hdr, pre, sizeof pre);
    CU_ASSERT_EQUAL_FATAL(ipv4_opts_parse(hdr, hlen, &o, &bad), IPV4_OPT_OK);
    ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 42, out, &dst);
    CU_ASSERT_EQUAL(out[2], 13);
    CU_ASSERT_EQUAL(load_be32(out + 8), 42);
    CU_ASSERT_EQUAL(load_be32(out + 16), 0);        /* 10.0.0.9's slot untouched */
    /* ... and not when the next slot is another host's. */
    ipv4_opts_echo(hdr, &o, TS_IP4(10, 0, 0, 3), O_PEER, 42, out, &dst);
    CU_ASSERT_EQUAL(out[2], 5);
    /* No room: overflow counted, saturating at 15. */
    hlen = o_hdr(hdr, fullts, sizeof fullts);
    hdr[23] = 0xe0;
    CU_ASSERT_EQUAL_FATAL(ipv4_opts_parse(hdr, hlen, &o, &bad), IPV4_OPT_OK);
    ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 42, out, &dst);
    CU_ASSERT_EQUAL(out[3], 0xf0);
    hdr[23] = 0xf0;
    ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 42, out, &dst);
    CU_ASSERT_EQUAL(out[3], 0xf0);
}

/* RFC 1122 §3.2.1.8: {G1, G2, G3 >>} from S arrives at D; the reply goes
 * to G3 with {>> G2, G1, S}. With case B's {S, G1, G2 >>}, S is not
 * repeated: to G2 with {>> G1, S}. */
static void opt_test_echo_source_route(void)
{
    const uint32_t g1 = TS_IP4(10, 1, 0, 1), g2 = TS_IP4(10, 2, 0, 1),
                   g3 = TS_IP4(10, 3, 0, 1);
    uint8_t sr[16] = { IPV4_OPT_LSRR, 15, 16 }, rr[4] = { IPV4_OPT_RR, 3, 4, 1 };
    uint8_t opts[20], hdr[IPV4_HLEN_MAX], out[IPV4_OPTS_MAX];
    store_be32(sr + 3, g1);
    store_be32(sr + 7, g2);
    store_be32(sr + 11, g3);
    sr[15] = IPV4_OPT_NOP;
    memcpy(opts, sr, 16);
    memcpy(opts + 16, rr, 4);
    struct ipv4_opts o;
    uint8_t bad;
    uint32_t dst = 0;
    size_t hlen = o_hdr(hdr, opts, sizeof opts);
    CU_ASSERT_EQUAL_FATAL(ipv4_opts_parse(hdr, hlen, &o, &bad), IPV4_OPT_OK);
    CU_ASSERT_TRUE(o.srr_done);
    size_t m = ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 1, out, &dst);
    CU_ASSERT_EQUAL(dst, g3);
    CU_ASSERT_EQUAL(m, 20);                 /* 15 + 3 (a full RR) + 2 pad */
    CU_ASSERT_EQUAL(out[0], IPV4_OPT_LSRR);
    CU_ASSERT_EQUAL(out[1], 15);
    CU_ASSERT_EQUAL(out[2], 4);
    CU_ASSERT_EQUAL(load_be32(out + 3), g2);
    CU_ASSERT_EQUAL(load_be32(out + 7), g1);
    CU_ASSERT_EQUAL(load_be32(out + 11), O_PEER);
    CU_ASSERT_EQUAL(out[15], IPV4_OPT_RR);
    /* Case B: the sender listed itself first. */
    store_be32(hdr + 20 + 3, O_PEER);
    m = ipv4_opts_echo(hdr, &o, O_SELF, O_PEER, 1, out, &dst);
    CU_ASSERT_EQUAL(dst, g3);
    CU_ASSERT_EQUAL(out[1], 11);
    CU_ASSERT_EQUAL(load_be32(out + 3), g2);
    CU_ASSERT_EQUAL(load_be32(out + 7), O_PEER);
    CU_ASSERT_EQUAL(m, 16);
    /* Only the source route is copied into later fragments. */
    uint8_t later[IPV4_OPTS_MAX];
    size_t k = ipv4_opts_copied(out, m, later);
    CU_ASSERT_EQUAL(k, 12);
    CU_ASSERT_EQUAL(memcmp(later, out, 11), 0);
    CU_ASSERT_EQUAL(later[11], IPV4_OPT_EOL);
    CU_ASSERT_EQUAL(ipv4_opts_copied(out + 11, 4, later), 0);
}

TS_SUITE(ipv4_opt,
         TS_TEST(opt_test_nop_eol_unknown),
         TS_TEST(opt_test_bad_lengths),
         TS_TEST(opt_test_record_route),
         TS_TEST(opt_test_source_route),
         TS_TEST(opt_test_timestamp),
         TS_TEST(opt_test_random_battery),
         TS_TEST(opt_test_echo_record_route),
         TS_TEST(opt_test_echo_timestamp),
         TS_TEST(opt_test_echo_source_route))
