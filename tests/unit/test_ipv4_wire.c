/* tests/unit/test_ipv4_wire.c - IPv4 and ICMP wire formats, good and hostile.
 *
 * Covers ipv4_parse on a known-good header and on every class of hostile
 * header, each reported with its own error in the documented order
 * (truncated, version, IHL, total length, checksum), options up to IHL 15,
 * ipv4_emit round trips and the fragment helpers; then icmp_parse (every
 * truncated length, every single-bit corruption, odd-length messages) and
 * icmp_emit round trips. Short inputs are exact-size heap copies so that
 * AddressSanitizer catches any read past the length.
 */
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/bytes.h"
#include "core/cksum.h"
#include "ipv4/icmp_wire.h"
#include "ipv4/ipv4_wire.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/unit.h"

/* A widely quoted UDP datagram header: checksum b861, total length 115. */
static const uint8_t ipv4_known[IPV4_HLEN] = {
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

/* Write a header with the given version, IHL and total length into buf
 * (IHL * 4 bytes, at least 20; options are NOPs) and a valid checksum, so
 * each test breaks exactly one thing. */
static void ipv4_build(uint8_t *buf, unsigned version, unsigned ihl,
                       uint16_t total)
{
    size_t hlen = ihl < 5 ? IPV4_HLEN : (size_t)ihl * 4;
    memcpy(buf, ipv4_known, IPV4_HLEN);
    memset(buf + IPV4_HLEN, 0x01, hlen - IPV4_HLEN);   /* NOP options */
    buf[0] = (uint8_t)(version << 4 | ihl);
    store_be16(buf + 2, total);
    store_be16(buf + 10, 0);
    store_be16(buf + 10, inet_cksum(buf, hlen));
}

/* Parse the first len bytes of src from an exact-size heap copy. */
static int ipv4_parse_exact(const uint8_t *src, size_t len, struct ipv4_hdr *h)
{
    uint8_t *b = fx_dup(src, len);
    int rc = b ? ipv4_parse(b, len, h) : 99;
    free(b);
    return rc;
}

static void ipv4_test_parse_good(void)
{
    uint8_t dgram[115] = { 0 };
    struct ipv4_hdr h;
    memcpy(dgram, ipv4_known, IPV4_HLEN);
    CU_ASSERT_EQUAL_FATAL(ipv4_parse_exact(dgram, sizeof dgram, &h), IPV4_OK);
    CU_ASSERT_EQUAL(h.hlen, IPV4_HLEN);
    CU_ASSERT_EQUAL(h.tos, 0);
    CU_ASSERT_EQUAL(h.total_len, 115);
    CU_ASSERT_EQUAL(h.id, 0);
    CU_ASSERT_EQUAL(h.frag, IPV4_DF);
    CU_ASSERT_EQUAL(h.ttl, 64);
    CU_ASSERT_EQUAL(h.proto, IPV4_PROTO_UDP);
    CU_ASSERT_EQUAL(h.src, TS_IP4(192, 168, 0, 1));
    CU_ASSERT_EQUAL(h.dst, TS_IP4(192, 168, 0, 199));
    CU_ASSERT_FALSE(ipv4_is_fragment(&h));      /* DF alone is no fragment */
}

/* Ethernet padding after the datagram is allowed; the caller trims it. */
static void ipv4_test_parse_padded(void)
{
    uint8_t frame[46] = { 0 };
    struct ipv4_hdr h;
    ipv4_build(frame, 4, 5, 28);
    CU_ASSERT_EQUAL(ipv4_parse_exact(frame, sizeof frame, &h), IPV4_OK);
    CU_ASSERT_EQUAL(h.total_len, 28);
}

static void ipv4_test_truncated(void)
{
    struct ipv4_hdr h;
    for (size_t len = 0; len < IPV4_HLEN; len++)
        CU_ASSERT_EQUAL(ipv4_parse_exact(ipv4_known, len, &h),
                        IPV4_ERR_TRUNCATED);
}

static void ipv4_test_bad_version(void)
{
    static const unsigned versions[] = { 0, 6, 5, 15 };
    uint8_t b[IPV4_HLEN];
    struct ipv4_hdr h;
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        ipv4_build(b, versions[i], 5, IPV4_HLEN);
        CU_ASSERT_EQUAL(ipv4_parse_exact(b, sizeof b, &h), IPV4_ERR_VERSION);
    }
}

/* IHL below 5 cannot hold the fixed header. */
static void ipv4_test_ihl_too_small(void)
{
    uint8_t b[IPV4_HLEN];
    struct ipv4_hdr h;
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        ipv4_build(b, 4, ihl, IPV4_HLEN);
        CU_ASSERT_EQUAL(ipv4_parse_exact(b, sizeof b, &h), IPV4_ERR_HLEN);
    }
}

/* IHL claiming more header than arrived: every short length for IHL 6 and
 * IHL 15 (the options would be read out of bounds). */
static void ipv4_test_ihl_beyond_bytes(void)
{
    uint8_t b[IPV4_HLEN_MAX];
    struct ipv4_hdr h;
    for (unsigned ihl = 6; ihl <= 15; ihl += 9) {
        ipv4_build(b, 4, ihl, (uint16_t)(ihl * 4));
        for (size_t len = IPV4_HLEN; len < ihl * 4u; len++)
            CU_ASSERT_EQUAL(ipv4_parse_exact(b, len, &h), IPV4_ERR_HLEN);
        CU_ASSERT_EQUAL(ipv4_parse_exact(b, ihl * 4u, &h), IPV4_OK);
    }
}

static void ipv4_test_total_len_bad(void)
{
    uint8_t b[IPV4_HLEN_MAX + 8];
    struct ipv4_hdr h;
    memset(b, 0, sizeof b);
    /* Shorter than its own header. */
    for (uint16_t total = 0; total < IPV4_HLEN; total++) {
        ipv4_build(b, 4, 5, total);
        CU_ASSERT_EQUAL(ipv4_parse_exact(b, IPV4_HLEN, &h), IPV4_ERR_TOTLEN);
    }
    ipv4_build(b, 4, 15, IPV4_HLEN_MAX - 1);
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, IPV4_HLEN_MAX, &h), IPV4_ERR_TOTLEN);
    /* Longer than what arrived. */
    ipv4_build(b, 4, 5, 29);
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, 28, &h), IPV4_ERR_TOTLEN);
    ipv4_build(b, 4, 5, 0xffff);
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, sizeof b, &h), IPV4_ERR_TOTLEN);
    ipv4_build(b, 4, 15, IPV4_HLEN_MAX + 1);
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, IPV4_HLEN_MAX, &h), IPV4_ERR_TOTLEN);
    /* Exactly the bytes received is fine. */
    ipv4_build(b, 4, 5, 28);
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, 28, &h), IPV4_OK);
}

/* Every single-bit error in a field the earlier checks do not look at is
 * caught by the checksum, options included. */
static void ipv4_test_bad_checksum(void)
{
    uint8_t b[IPV4_HLEN_MAX];
    struct ipv4_hdr h;
    unsigned missed = 0, tried = 0;
    for (size_t at = 1; at < IPV4_HLEN_MAX; at++) {
        if (at == 2 || at == 3)
            continue;                       /* total length: TOTLEN first */
        for (int bit = 0; bit < 8; bit++) {
            ipv4_build(b, 4, 15, IPV4_HLEN_MAX);
            b[at] ^= (uint8_t)(1u << bit);
            missed += ipv4_parse_exact(b, sizeof b, &h) != IPV4_ERR_CKSUM;
            tried++;
        }
    }
    CU_ASSERT_EQUAL(tried, (IPV4_HLEN_MAX - 3) * 8);
    CU_ASSERT_EQUAL(missed, 0);
    memcpy(b, ipv4_known, IPV4_HLEN);
    b[11] ^= 1;
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, IPV4_HLEN, &h), IPV4_ERR_TOTLEN);
    store_be16(b + 2, IPV4_HLEN);   /* lengths pass: the checksum is reached */
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, IPV4_HLEN, &h), IPV4_ERR_CKSUM);
}

/* The largest header: 40 bytes of options are skipped, not interpreted. */
static void ipv4_test_ihl15_options(void)
{
    uint8_t b[100] = { 0 };
    struct ipv4_hdr h;
    ipv4_build(b, 4, 15, sizeof b);
    b[IPV4_HLEN] = 0x07;        /* record route: its contents are not read */
    b[IPV4_HLEN + 1] = 39;
    store_be16(b + 10, 0);
    store_be16(b + 10, inet_cksum(b, IPV4_HLEN_MAX));
    CU_ASSERT_EQUAL_FATAL(ipv4_parse_exact(b, sizeof b, &h), IPV4_OK);
    CU_ASSERT_EQUAL(h.hlen, IPV4_HLEN_MAX);
    CU_ASSERT_EQUAL(h.total_len, sizeof b);
    CU_ASSERT_EQUAL(h.src, TS_IP4(192, 168, 0, 1));
    ipv4_build(b, 4, 15, IPV4_HLEN_MAX);    /* header only, no payload */
    CU_ASSERT_EQUAL(ipv4_parse_exact(b, IPV4_HLEN_MAX, &h), IPV4_OK);
}

static void ipv4_test_emit_round_trip(void)
{
    struct ipv4_hdr in = {
        .hlen = IPV4_HLEN_MAX,  /* ignored: emit always writes 20 bytes */
        .tos = 0xb8, .total_len = 1500, .id = 0xbeef,
        .frag = IPV4_MF | 185, .ttl = 1, .proto = IPV4_PROTO_TCP,
        .src = TS_IP4(10, 0, 0, 1), .dst = TS_IP4(224, 0, 0, 251),
    }, out;
    uint8_t b[1500];
    memset(b, 0xcc, sizeof b);
    ipv4_emit(&in, b);
    CU_ASSERT_EQUAL(b[0], 0x45);
    CU_ASSERT_EQUAL(inet_cksum(b, IPV4_HLEN), 0);
    CU_ASSERT_EQUAL(b[IPV4_HLEN], 0xcc);            /* 20 bytes, no more */
    CU_ASSERT_EQUAL_FATAL(ipv4_parse(b, sizeof b, &out), IPV4_OK);
    CU_ASSERT_EQUAL(out.hlen, IPV4_HLEN);
    CU_ASSERT_EQUAL(out.tos, in.tos);
    CU_ASSERT_EQUAL(out.total_len, in.total_len);
    CU_ASSERT_EQUAL(out.id, in.id);
    CU_ASSERT_EQUAL(out.frag, in.frag);
    CU_ASSERT_EQUAL(out.ttl, in.ttl);
    CU_ASSERT_EQUAL(out.proto, in.proto);
    CU_ASSERT_EQUAL(out.src, in.src);
    CU_ASSERT_EQUAL(out.dst, in.dst);
    /* Emitting the known header's fields reproduces its bytes exactly. */
    struct ipv4_hdr k;
    uint8_t again[IPV4_HLEN];
    uint8_t dgram[115] = { 0 };
    memcpy(dgram, ipv4_known, IPV4_HLEN);
    CU_ASSERT_EQUAL_FATAL(ipv4_parse(dgram, sizeof dgram, &k), IPV4_OK);
    ipv4_emit(&k, again);
    CU_ASSERT_EQUAL(memcmp(again, ipv4_known, IPV4_HLEN), 0);
}

static void ipv4_test_fragment_helpers(void)
{
    struct ipv4_hdr h = { .frag = 0 };
    CU_ASSERT_FALSE(ipv4_is_fragment(&h));
    CU_ASSERT_EQUAL(ipv4_frag_offset(&h), 0);
    h.frag = IPV4_DF;
    CU_ASSERT_FALSE(ipv4_is_fragment(&h));
    h.frag = IPV4_MF;                       /* first fragment */
    CU_ASSERT_TRUE(ipv4_is_fragment(&h));
    CU_ASSERT_EQUAL(ipv4_frag_offset(&h), 0);
    h.frag = 185;                           /* last fragment, 1480 bytes in */
    CU_ASSERT_TRUE(ipv4_is_fragment(&h));
    CU_ASSERT_EQUAL(ipv4_frag_offset(&h), 1480);
    h.frag = IPV4_DF | IPV4_MF | IPV4_OFF_MASK;
    CU_ASSERT_TRUE(ipv4_is_fragment(&h));
    CU_ASSERT_EQUAL(ipv4_frag_offset(&h), 65528);
    h.frag = 0x8000;                        /* the reserved bit alone */
    CU_ASSERT_FALSE(ipv4_is_fragment(&h));
}

/* ---- ICMP ------------------------------------------------------------ */

/* Echo request id 0x1234 seq 1: 0800 + 1234 + 0001 = 1a35, checksum e5ca. */
static const uint8_t icmp_echo[ICMP_HLEN] = {
    0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01,
};

static int icmp_parse_exact(const uint8_t *src, size_t len, struct icmp_hdr *h)
{
    uint8_t *b = fx_dup(src, len);
    int rc = b ? icmp_parse(b, len, h) : 99;
    free(b);
    return rc;
}

static void icmp_test_parse_known(void)
{
    struct icmp_hdr h;
    CU_ASSERT_EQUAL_FATAL(icmp_parse_exact(icmp_echo, ICMP_HLEN, &h), ICMP_OK);
    CU_ASSERT_EQUAL(h.type, ICMP_ECHO_REQUEST);
    CU_ASSERT_EQUAL(h.code, 0);
    CU_ASSERT_EQUAL(h.id, 0x1234);
    CU_ASSERT_EQUAL(h.seq, 1);
}

static void icmp_test_truncated(void)
{
    struct icmp_hdr h;
    for (size_t len = 0; len < ICMP_HLEN; len++)
        CU_ASSERT_EQUAL(icmp_parse_exact(icmp_echo, len, &h),
                        ICMP_ERR_TRUNCATED);
}

static void icmp_test_bad_checksum(void)
{
    uint8_t b[ICMP_HLEN];
    struct icmp_hdr h;
    unsigned missed = 0;
    for (size_t at = 0; at < ICMP_HLEN; at++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, icmp_echo, ICMP_HLEN);
            b[at] ^= (uint8_t)(1u << bit);
            missed += icmp_parse_exact(b, ICMP_HLEN, &h) != ICMP_ERR_CKSUM;
        }
    }
    CU_ASSERT_EQUAL(missed, 0);
}

/* An odd-length message: the last byte is the high half of a padded word
 * (0800 + 0001 + 0002 + ab00 = b303, checksum 4cfc), and it is covered. */
static void icmp_test_odd_length(void)
{
    uint8_t m[9] = { 0x08, 0x00, 0x4c, 0xfc, 0x00, 0x01, 0x00, 0x02, 0xab };
    struct icmp_hdr h;
    CU_ASSERT_EQUAL(icmp_parse_exact(m, sizeof m, &h), ICMP_OK);
    CU_ASSERT_EQUAL(h.seq, 2);
    m[8] ^= 0x01;
    CU_ASSERT_EQUAL(icmp_parse_exact(m, sizeof m, &h), ICMP_ERR_CKSUM);
    /* The same bytes read as 8 are a different, bad message. */
    m[8] ^= 0x01;
    CU_ASSERT_EQUAL(icmp_parse_exact(m, ICMP_HLEN, &h), ICMP_ERR_CKSUM);
}

/* Emit over bodies of many lengths, odd and even, then parse it back; any
 * change to the body afterwards must be caught. */
static void icmp_test_emit_round_trip(void)
{
    static const size_t lens[] = { 8, 9, 10, 11, 64, 65, 576, 1001, 1480 };
    uint8_t b[1480];
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t len = lens[k];
        for (size_t i = ICMP_HLEN; i < len; i++)
            b[i] = (uint8_t)(i * 7 + k);
        struct icmp_hdr in = { .type = ICMP_ECHO_REPLY, .code = 0,
                               .id = (uint16_t)(0xa000 + k),
                               .seq = (uint16_t)len }, out;
        icmp_emit(&in, b, len);
        CU_ASSERT_EQUAL_FATAL(icmp_parse_exact(b, len, &out), ICMP_OK);
        CU_ASSERT_EQUAL(out.type, in.type);
        CU_ASSERT_EQUAL(out.code, in.code);
        CU_ASSERT_EQUAL(out.id, in.id);
        CU_ASSERT_EQUAL(out.seq, in.seq);
        if (len > ICMP_HLEN) {
            /* emit wrote the header only: the body is as we left it */
            CU_ASSERT_EQUAL(b[len - 1], (uint8_t)((len - 1) * 7 + k));
            b[len - 1] ^= 0x80;
            CU_ASSERT_EQUAL(icmp_parse_exact(b, len, &out), ICMP_ERR_CKSUM);
        }
    }
}

/* Emit reproduces the known echo request byte for byte, and error messages
 * keep their code. */
static void icmp_test_emit_known(void)
{
    uint8_t b[ICMP_HLEN + 28];
    struct icmp_hdr echo = { .type = ICMP_ECHO_REQUEST, .id = 0x1234,
                             .seq = 1 }, out;
    icmp_emit(&echo, b, ICMP_HLEN);
    CU_ASSERT_EQUAL(memcmp(b, icmp_echo, ICMP_HLEN), 0);

    memset(b, 0x45, sizeof b);              /* the quoted IP header */
    struct icmp_hdr unreach = { .type = ICMP_DEST_UNREACH,
                                .code = ICMP_UNREACH_PORT };
    icmp_emit(&unreach, b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(icmp_parse_exact(b, sizeof b, &out), ICMP_OK);
    CU_ASSERT_EQUAL(out.type, ICMP_DEST_UNREACH);
    CU_ASSERT_EQUAL(out.code, ICMP_UNREACH_PORT);
    CU_ASSERT_EQUAL(load_be32(b + 4), 0);   /* "unused" is zero */
}

static void icmp_test_is_error(void)
{
    CU_ASSERT_TRUE(icmp_is_error(ICMP_DEST_UNREACH));
    CU_ASSERT_TRUE(icmp_is_error(ICMP_SOURCE_QUENCH));
    CU_ASSERT_TRUE(icmp_is_error(ICMP_REDIRECT));
    CU_ASSERT_TRUE(icmp_is_error(ICMP_TIME_EXCEEDED));
    CU_ASSERT_TRUE(icmp_is_error(ICMP_PARAM_PROBLEM));
    CU_ASSERT_FALSE(icmp_is_error(ICMP_ECHO_REQUEST));
    CU_ASSERT_FALSE(icmp_is_error(ICMP_ECHO_REPLY));
    CU_ASSERT_FALSE(icmp_is_error(ICMP_TIMESTAMP));
}

TS_SUITE(ipv4_wire,
         TS_TEST(ipv4_test_parse_good),
         TS_TEST(ipv4_test_parse_padded),
         TS_TEST(ipv4_test_truncated),
         TS_TEST(ipv4_test_bad_version),
         TS_TEST(ipv4_test_ihl_too_small),
         TS_TEST(ipv4_test_ihl_beyond_bytes),
         TS_TEST(ipv4_test_total_len_bad),
         TS_TEST(ipv4_test_bad_checksum),
         TS_TEST(ipv4_test_ihl15_options),
         TS_TEST(ipv4_test_emit_round_trip),
         TS_TEST(ipv4_test_fragment_helpers),
         TS_TEST(icmp_test_parse_known),
         TS_TEST(icmp_test_truncated),
         TS_TEST(icmp_test_bad_checksum),
         TS_TEST(icmp_test_odd_length),
         TS_TEST(icmp_test_emit_round_trip),
         TS_TEST(icmp_test_emit_known),
         TS_TEST(icmp_test_is_error))
