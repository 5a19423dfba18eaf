/* tests/unit/test_cksum.c - the internet checksum (core/cksum.c).
 *
 * Covers inet_cksum, cksum_partial and cksum_fold against a byte-by-byte
 * RFC 1071 reference: seeded random buffers of every length 0..2000 at every
 * alignment 0..7, carry-heavy all-ones buffers, chained partial sums, a
 * buffer carrying its own checksum, and known vectors (RFC 1071 §3, an IPv4
 * header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cksum.h"
#include "tests/unit/unit.h"

#define CKSUM_MAXLEN 2000
#define CKSUM_MAXOFF 8

/* A private generator, so a defect in core/rand cannot weaken this suite. */
static uint32_t cksum_rng(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void cksum_fill_random(uint8_t *buf, size_t len, uint32_t seed)
{
    uint32_t st = seed ? seed : 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)cksum_rng(&st);
}

/* RFC 1071 §4.1, written as plainly as possible: big-endian 16-bit words,
 * a trailing byte padded with zero, end-around carry, complement. */
static uint16_t cksum_ref(const uint8_t *buf, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)buf[i] << 8 | buf[i + 1];
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (len & 1) {
        sum += (uint32_t)buf[len - 1] << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Compare against the reference for every length and offset; report the
 * first mismatch so a failure says where, then assert none happened. */
static void cksum_check_all(uint8_t *big, const char *what)
{
    unsigned bad = 0;
    for (size_t off = 0; off < CKSUM_MAXOFF; off++) {
        for (size_t len = 0; len <= CKSUM_MAXLEN; len++) {
            uint16_t want = cksum_ref(big + off, len);
            uint16_t got = inet_cksum(big + off, len);
            uint16_t via_parts = cksum_fold(cksum_partial(big + off, len, 0));
            if (got == want && via_parts == want)
                continue;
            if (bad++ == 0)
                fprintf(stderr, "\n  cksum %s: off %zu len %zu want %04x "
                        "got %04x parts %04x\n", what, off, len, want, got,
                        via_parts);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void cksum_test_random_every_length(void)
{
    static uint8_t big[CKSUM_MAXLEN + CKSUM_MAXOFF];
    for (uint32_t seed = 1; seed <= 3; seed++) {
        cksum_fill_random(big, sizeof big, seed * 0x9e3779b9u);
        cksum_check_all(big, "random");
    }
}

/* All-ones words make every addition carry: the worst case for folding. */
static void cksum_test_all_ones_every_length(void)
{
    static uint8_t big[CKSUM_MAXLEN + CKSUM_MAXOFF];
    memset(big, 0xff, sizeof big);
    cksum_check_all(big, "0xff");
    memset(big, 0, sizeof big);
    cksum_check_all(big, "zero");
}

/* A full-size datagram of ones: the 64-bit accumulator must not lose carries. */
static void cksum_test_max_datagram(void)
{
    size_t len = 65535;
    uint8_t *buf = malloc(len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memset(buf, 0xff, len + 1);
    CU_ASSERT_EQUAL(inet_cksum(buf, len), cksum_ref(buf, len));
    CU_ASSERT_EQUAL(inet_cksum(buf + 1, len), cksum_ref(buf + 1, len));
    cksum_fill_random(buf, len + 1, 42);
    CU_ASSERT_EQUAL(inet_cksum(buf, len), cksum_ref(buf, len));
    CU_ASSERT_EQUAL(inet_cksum(buf + 1, len), cksum_ref(buf + 1, len));
    free(buf);
}

/* Split buf into random even-length pieces (the last may be odd) and chain
 * the partial sums, as TCP does for pseudo-header + segment. */
static uint16_t cksum_chained(const uint8_t *buf, size_t len, uint32_t *st)
{
    uint64_t sum = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t piece = (cksum_rng(st) % 64) * 2;
        if (piece > len - pos)
            piece = len - pos;  /* the final piece may be odd */
        sum = cksum_partial(buf + pos, piece, sum);
        pos += piece;
    }
    return cksum_fold(sum);
}

static void cksum_test_chained_partials(void)
{
    static uint8_t big[CKSUM_MAXLEN + CKSUM_MAXOFF];
    uint32_t st = 7;
    unsigned bad = 0;
    cksum_fill_random(big, sizeof big, 99);
    for (size_t len = 0; len <= CKSUM_MAXLEN; len++) {
        size_t off = len % CKSUM_MAXOFF;
        if (cksum_chained(big + off, len, &st) != inet_cksum(big + off, len))
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* A pseudo-header summed apart from the segment gives the same result as
 * one contiguous buffer: the usage TCP and UDP depend on. */
static void cksum_test_pseudo_header_chain(void)
{
    uint8_t all[12 + 37];
    cksum_fill_random(all, sizeof all, 5);
    uint64_t s = cksum_partial(all, 12, 0);
    s = cksum_partial(all + 12, sizeof all - 12, s);
    CU_ASSERT_EQUAL(cksum_fold(s), inet_cksum(all, sizeof all));
    CU_ASSERT_EQUAL(cksum_fold(s), cksum_ref(all, sizeof all));
}

/* Storing the checksum in the buffer makes the receiver's sum fold to 0. */
static void cksum_test_verify_folds_to_zero(void)
{
    static uint8_t buf[CKSUM_MAXLEN + 1];
    unsigned bad = 0;
    for (size_t len = 12; len <= CKSUM_MAXLEN; len++) {
        cksum_fill_random(buf, len, (uint32_t)len);
        buf[10] = buf[11] = 0;      /* the field sits at an even offset */
        uint16_t c = inet_cksum(buf, len);
        buf[10] = (uint8_t)(c >> 8);
        buf[11] = (uint8_t)c;
        if (inet_cksum(buf, len) != 0)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* RFC 1071 §3 example: these words sum to ddf2, so the checksum is 220d. */
static void cksum_test_rfc1071_vector(void)
{
    static const uint8_t v[] = { 0x00, 0x01, 0xf2, 0x03,
                                 0xf4, 0xf5, 0xf6, 0xf7 };
    CU_ASSERT_EQUAL(inet_cksum(v, sizeof v), 0x220d);
    CU_ASSERT_EQUAL((uint16_t)~cksum_fold(cksum_partial(v, sizeof v, 0)),
                    0xddf2);
    /* Any even split chains to the same answer. */
    for (size_t cut = 0; cut <= sizeof v; cut += 2) {
        uint64_t s = cksum_partial(v, cut, 0);
        s = cksum_partial(v + cut, sizeof v - cut, s);
        CU_ASSERT_EQUAL(cksum_fold(s), 0x220d);
    }
}

/* A real IPv4 header (widely quoted example): checksum b861. */
static void cksum_test_ipv4_header_vector(void)
{
    uint8_t h[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
                    0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
                    0xc0, 0xa8, 0x00, 0xc7 };
    CU_ASSERT_EQUAL(inet_cksum(h, sizeof h), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    CU_ASSERT_EQUAL(inet_cksum(h, sizeof h), 0);
}

/* Edges: nothing sums to 0 (checksum ffff); a lone byte is the high half
 * of a padded word; all-ones words are one's-complement zero. */
static void cksum_test_small_edges(void)
{
    static const uint8_t one[] = { 0x01 };
    static const uint8_t ones[] = { 0xff, 0xff, 0xff, 0xff };
    CU_ASSERT_EQUAL(inet_cksum(one, 0), 0xffff);
    CU_ASSERT_EQUAL(cksum_fold(0), 0xffff);
    CU_ASSERT_EQUAL(inet_cksum(one, 1), 0xfeff);
    CU_ASSERT_EQUAL(inet_cksum(ones, 2), 0x0000);
    CU_ASSERT_EQUAL(inet_cksum(ones, 4), 0x0000);
    CU_ASSERT_EQUAL(inet_cksum(ones, 3), 0x00ff);
}

TS_SUITE(cksum,
         TS_TEST(cksum_test_random_every_length),
         TS_TEST(cksum_test_all_ones_every_length),
         TS_TEST(cksum_test_max_datagram),
         TS_TEST(cksum_test_chained_partials),
         TS_TEST(cksum_test_pseudo_header_chain),
         TS_TEST(cksum_test_verify_folds_to_zero),
         TS_TEST(cksum_test_rfc1071_vector),
         TS_TEST(cksum_test_ipv4_header_vector),
         TS_TEST(cksum_test_small_edges))
