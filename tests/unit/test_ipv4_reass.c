/* tests/unit/test_ipv4_reass.c - IPv4 fragment reassembly (ipv4/ipv4_reass).
 *
 * Fragments of a known pseudo-random payload are built with ipv4_emit into
 * pool buffers and fed in various orders; every test ends by checking that
 * the pool has every buffer back (no leak, every input consumed). Time is a
 * fake `now`; randomness is a fixed-seed xorshift so runs repeat.
 */
#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "core/clock.h"
#include "core/pbuf.h"
#include "ipv4/ipv4_reass.h"
#include "ipv4/ipv4_wire.h"
#include "tests/unit/unit.h"

#define RS_SRC 0x0a000002u  /* 10.0.0.2 */
#define RS_DST 0x0a000001u  /* 10.0.0.1 */
#define RS_T0 1000000u      /* fake start time, ms */

struct rs_fx {
    struct pbuf_pool pool;
    struct ipv4_reass r;
};

/* Reference payload; longer than any datagram, because the ping-of-death
 * fragments take their bytes from offsets past 65,535. */
static uint8_t rs_payload[65536 + 4096];

static uint32_t rs_rand(uint32_t *st)
{
    uint32_t x = *st;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *st = x;
}

static void rs_fill(uint32_t seed)
{
    for (size_t i = 0; i < sizeof rs_payload; i++)
        rs_payload[i] = (uint8_t)rs_rand(&seed);
}

static void rs_setup(struct rs_fx *fx, unsigned nlarge)
{
    CU_ASSERT_FATAL(pbuf_pool_init(&fx->pool, 64, nlarge) == 0);
    ipv4_reass_init(&fx->r, &fx->pool);
    rs_fill(0x12345678u);
}

/* Destroy the reassembler, then require every buffer back in the pool. */
static void rs_teardown(struct rs_fx *fx)
{
    ipv4_reass_destroy(&fx->r);
    CU_ASSERT_EQUAL(fx->pool.stats.in_use, 0);
    pbuf_pool_destroy(&fx->pool);
}

/* A fragment of datagram `id` carrying rs_payload[off, off+len) (or a copy
 * of `bytes` when not NULL), parsed back so h is what ipv4_input would see. */
static struct pbuf *rs_frag(struct rs_fx *fx, uint16_t id, uint8_t proto,
                            uint32_t off, uint32_t len, int mf,
                            const uint8_t *bytes, struct ipv4_hdr *h)
{
    struct pbuf *pb = pbuf_alloc(&fx->pool, PBUF_HEADROOM, IPV4_HLEN + len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    struct ipv4_hdr e = {
        .hlen = IPV4_HLEN, .total_len = (uint16_t)(IPV4_HLEN + len),
        .id = id, .frag = (uint16_t)((mf ? IPV4_MF : 0) | (off / 8)),
        .ttl = 64, .proto = proto, .src = RS_SRC, .dst = RS_DST,
    };
    ipv4_emit(&e, pb->data);
    memcpy(pb->data + IPV4_HLEN, bytes ? bytes : rs_payload + off, len);
    CU_ASSERT_FATAL(ipv4_parse(pb->data, pb->len, h) == IPV4_OK);
    return pb;
}

static struct pbuf *rs_feed(struct rs_fx *fx, uint16_t id, uint32_t off,
                            uint32_t len, int mf, uint64_t now,
                            struct ipv4_hdr *out)
{
    struct ipv4_hdr h;
    struct pbuf *pb = rs_frag(fx, id, IPV4_PROTO_UDP, off, len, mf, NULL, &h);
    return ipv4_reass_input(&fx->r, pb, &h, out, now);
}

/* The datagram must be rs_payload[0, total) behind a sound 20-byte header. */
static void rs_check(struct pbuf *pb, const struct ipv4_hdr *out, uint16_t id,
                     uint32_t total)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    struct ipv4_hdr h;
    CU_ASSERT_EQUAL_FATAL(ipv4_parse(pb->data, pb->len, &h), IPV4_OK);
    CU_ASSERT_EQUAL(pb->len, IPV4_HLEN + total);
    CU_ASSERT_EQUAL(h.total_len, IPV4_HLEN + total);
    CU_ASSERT_EQUAL(h.frag, 0);
    CU_ASSERT_EQUAL(h.id, id);
    CU_ASSERT_EQUAL(h.src, RS_SRC);
    CU_ASSERT_EQUAL(h.dst, RS_DST);
    CU_ASSERT_EQUAL(out->total_len, h.total_len);
    CU_ASSERT_EQUAL(out->hlen, IPV4_HLEN);
    CU_ASSERT_EQUAL(out->frag, 0);
    CU_ASSERT_EQUAL(out->id, id);
    CU_ASSERT_EQUAL(memcmp(pb->data + IPV4_HLEN, rs_payload, total), 0);
    /* Layers above answer in place: keep room for Ethernet and more. */
    CU_ASSERT(pbuf_headroom(pb) >= PBUF_HEADROOM);
}

/* Feed fragments of `size` bytes covering [0, total) in the order given by
 * idx[] (fragment numbers); returns what the last call returned. */
static struct pbuf *rs_feed_order(struct rs_fx *fx, uint16_t id,
                                  uint32_t total, uint32_t size,
                                  const unsigned *idx, unsigned n,
                                  struct ipv4_hdr *out)
{
    struct pbuf *res = NULL;
    for (unsigned i = 0; i < n; i++) {
        CU_ASSERT_PTR_NULL(res);    /* nothing completes early */
        uint32_t off = idx[i] * size;
        uint32_t len = total - off < size ? total - off : size;
        res = rs_feed(fx, id, off, len, off + len < total, RS_T0 + i, out);
    }
    return res;
}

static void test_reass_in_order(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 2);
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 7, 0, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 7, 1480, 1480, 1, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 1);   /* only the slot's buffer */
    struct pbuf *pb = rs_feed(&fx, 7, 2960, 1040, 0, RS_T0, &out);
    rs_check(pb, &out, 7, 4000);
    pbuf_free(pb);
    CU_ASSERT_EQUAL(fx.r.stats.frags, 3);
    CU_ASSERT_EQUAL(fx.r.stats.done, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r), TS_NEVER);
    rs_teardown(&fx);
}

static void test_reass_reverse_order(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 2);
    unsigned idx[] = { 6, 5, 4, 3, 2, 1, 0 };
    struct pbuf *pb = rs_feed_order(&fx, 9, 6 * 1480 + 3, 1480, idx, 7, &out);
    rs_check(pb, &out, 9, 6 * 1480 + 3);
    pbuf_free(pb);
    CU_ASSERT_EQUAL(fx.r.stats.done, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

static void test_reass_random_order(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 2);
    uint32_t st = 0xdecafbadu;
    for (unsigned round = 0; round < 20; round++) {
        uint32_t size = 8 * (1 + rs_rand(&st) % 185);      /* 8..1480 */
        uint32_t total = 1 + rs_rand(&st) % 30000;
        unsigned n = (total + size - 1) / size, idx[30000];
        for (unsigned i = 0; i < n; i++)
            idx[i] = i;
        for (unsigned i = n; i > 1; i--) {                  /* Fisher-Yates */
            unsigned j = rs_rand(&st) % i, t = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = t;
        }
        struct pbuf *pb = rs_feed_order(&fx, (uint16_t)round, total, size,
                                        idx, n, &out);
        rs_check(pb, &out, (uint16_t)round, total);
        pbuf_free(pb);
    }
    CU_ASSERT_EQUAL(fx.r.stats.done, 20);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

static void test_reass_duplicates(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 2);
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 3, 1480, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 3, 1480, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 3, 2960, 45, 0, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 3, 2960, 45, 0, RS_T0, &out)); /* last */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 3, 1488, 16, 1, RS_T0, &out)); /* inside */
    CU_ASSERT_EQUAL(fx.r.stats.dup, 3);
    CU_ASSERT_EQUAL(fx.r.stats.overlap, 0);
    struct pbuf *pb = rs_feed(&fx, 3, 0, 1480, 1, RS_T0, &out);
    rs_check(pb, &out, 3, 3005);
    pbuf_free(pb);
    /* A late copy after completion starts a new datagram (destroy frees it). */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 3, 0, 1480, 1, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.done, 1);
    rs_teardown(&fx);
}

static void test_reass_overlap(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out, h;
    rs_setup(&fx, 2);
    /* Partial overlap: [8, 1488) against [0, 1480). */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 4, 0, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 4, 8, 1480, 1, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.overlap, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);   /* the datagram is gone */
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r), TS_NEVER);

    /* Same range, other bytes (a rewrite attack): also dropped. */
    uint8_t evil[1480];
    memcpy(evil, rs_payload + 1480, sizeof evil);
    evil[700] ^= 0xff;
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 5, 1480, 1480, 1, RS_T0, &out));
    struct pbuf *f = rs_frag(&fx, 5, IPV4_PROTO_UDP, 1480, 1480, 1, evil, &h);
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, f, &h, &out, RS_T0));
    CU_ASSERT_EQUAL(fx.r.stats.overlap, 2);

    /* One covering more than a held one, and one bridging a gap between
     * two held ones: overlaps, not duplicates, though no byte differs. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 6, 0, 16, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 6, 0, 24, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 15, 0, 8, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 15, 16, 8, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 15, 0, 24, 1, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.overlap, 4);
    CU_ASSERT_EQUAL(fx.r.stats.dup, 0);
    CU_ASSERT_EQUAL(fx.r.stats.done, 0);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

static void test_reass_ping_of_death(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 2);
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 1, 0, 1480, 1, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 1);
    /* Offset 65,528 (the largest) with 8 bytes: 65,556 bytes in all. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 1, 65528, 8, 0, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.too_big, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);   /* datagram dropped too */
    /* The classic: 1,480 bytes at 65,520 on an unknown key. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 2, 65520, 1480, 1, RS_T0, &out));
    /* One byte past the limit: 65,516 bytes of payload. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 2, 65512, 4, 0, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.too_big, 3);
    CU_ASSERT_EQUAL(fx.r.stats.done, 0);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

static void test_reass_bad_len(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 2);
    /* A middle fragment of 1,001 bytes, then an empty one: dropped alone. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 8, 0, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 8, 1480, 1001, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 8, 1480, 0, 1, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.bad_len, 2);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 1);   /* the datagram lives on */
    struct pbuf *pb = rs_feed(&fx, 8, 1480, 100, 0, RS_T0, &out);
    rs_check(pb, &out, 8, 1580);
    pbuf_free(pb);

    /* Data past the end the last fragment set: the datagram is dropped. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 9, 1480, 100, 0, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 9, 1584, 8, 1, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.bad_len, 3);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    /* A second last fragment with another end. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 10, 1480, 100, 0, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 10, 1480, 96, 0, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.bad_len, 4);
    /* A last fragment ending before data already held. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 11, 1480, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 11, 0, 1000, 0, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.bad_len, 5);
    CU_ASSERT_EQUAL(fx.r.stats.done, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

/* A header h that lies about its buffer is dropped, and pb still freed. */
static void test_reass_lying_hdr(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out, h;
    rs_setup(&fx, 2);
    struct pbuf *pb = rs_frag(&fx, 1, IPV4_PROTO_UDP, 0, 64, 1, NULL, &h);
    h.total_len = 2000;                         /* beyond pb->len */
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, pb, &h, &out, RS_T0));
    /* Else valid (64 payload bytes by h's count), but the bytes say IHL 5:
     * the header rebuilt from them would not match h. */
    pb = rs_frag(&fx, 1, IPV4_PROTO_UDP, 0, 68, 1, NULL, &h);
    h.hlen = 24;
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, pb, &h, &out, RS_T0));
    pb = rs_frag(&fx, 1, IPV4_PROTO_UDP, 0, 64, 1, NULL, &h);
    pb->data[0] = 0x65;                         /* version 6 under h */
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, pb, &h, &out, RS_T0));
    pb = rs_frag(&fx, 1, IPV4_PROTO_UDP, 0, 64, 1, NULL, &h);
    h.hlen = 8;
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, pb, &h, &out, RS_T0));
    CU_ASSERT_EQUAL(fx.r.stats.bad_len, 4);
    CU_ASSERT_EQUAL(fx.r.stats.frags, 4);
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r), TS_NEVER);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

struct rs_expired {
    unsigned calls;
    uint8_t quote[IPV4_HLEN_MAX + 8];
    size_t len;
    uint64_t now;
};

static void rs_on_expired(void *ctx, const uint8_t *hdr, size_t len,
                          uint64_t now)
{
    struct rs_expired *e = ctx;
    e->calls++;
    e->len = len;
    e->now = now;
    if (len <= sizeof e->quote)
        memcpy(e->quote, hdr, len);
}

static void test_reass_timeout_with_first(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out, h;
    struct rs_expired e = { 0 };
    rs_setup(&fx, 2);
    struct pbuf *f0 = rs_frag(&fx, 12, IPV4_PROTO_UDP, 0, 1480, 1, NULL, &h);
    uint8_t want[IPV4_HLEN + 8];
    memcpy(want, f0->data, sizeof want);
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, f0, &h, &out, RS_T0));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 12, 2960, 10, 0, RS_T0 + 500, &out));
    uint64_t due = RS_T0 + IPV4_REASS_TIMEOUT_MS;
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r), due);
    ipv4_reass_poll(&fx.r, due - 1, rs_on_expired, &e);
    CU_ASSERT_EQUAL(e.calls, 0);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 1);
    ipv4_reass_poll(&fx.r, due, rs_on_expired, &e);
    CU_ASSERT_EQUAL(e.calls, 1);
    CU_ASSERT_EQUAL(e.now, due);
    CU_ASSERT_EQUAL_FATAL(e.len, sizeof want);
    CU_ASSERT_EQUAL(memcmp(e.quote, want, sizeof want), 0);
    CU_ASSERT_EQUAL(fx.r.stats.timeout, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r), TS_NEVER);
    ipv4_reass_poll(&fx.r, due + 1, rs_on_expired, &e);    /* nothing left */
    CU_ASSERT_EQUAL(e.calls, 1);
    rs_teardown(&fx);
}

static void test_reass_timeout_without_first(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    struct rs_expired e = { 0 };
    rs_setup(&fx, 3);
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 13, 1480, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 14, 0, 1480, 1, RS_T0 + 10, &out));
    ipv4_reass_poll(&fx.r, RS_T0 + IPV4_REASS_TIMEOUT_MS, rs_on_expired, &e);
    CU_ASSERT_EQUAL(e.calls, 0);                /* 13 had no fragment 0 */
    CU_ASSERT_EQUAL(fx.r.stats.timeout, 1);
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r),
                    RS_T0 + 10 + IPV4_REASS_TIMEOUT_MS);
    /* A NULL callback still expires (and frees) the datagram. */
    ipv4_reass_poll(&fx.r, RS_T0 + 10 + IPV4_REASS_TIMEOUT_MS, NULL, NULL);
    CU_ASSERT_EQUAL(fx.r.stats.timeout, 2);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

static void test_reass_eviction(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, IPV4_REASS_SLOTS + 1);
    /* One more datagram than slots, started one ms apart: 0 is oldest. */
    for (uint16_t id = 0; id <= IPV4_REASS_SLOTS; id++)
        CU_ASSERT_PTR_NULL(rs_feed(&fx, id, 0, 1480, 1, RS_T0 + id, &out));
    CU_ASSERT_EQUAL(fx.r.stats.evicted, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, IPV4_REASS_SLOTS);
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r),
                    RS_T0 + 1 + IPV4_REASS_TIMEOUT_MS);
    for (uint16_t id = 1; id <= IPV4_REASS_SLOTS; id++) {
        struct pbuf *pb = rs_feed(&fx, id, 1480, 520, 0, RS_T0 + 50, &out);
        rs_check(pb, &out, id, 2000);
        pbuf_free(pb);
    }
    /* Datagram 0 lost its first half: its end alone completes nothing. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 0, 1480, 520, 0, RS_T0 + 60, &out));
    CU_ASSERT_EQUAL(fx.r.stats.done, IPV4_REASS_SLOTS);
    CU_ASSERT_EQUAL(fx.r.stats.evicted, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 1);
    rs_teardown(&fx);                           /* destroy frees it */
}

static void test_reass_max_size(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 1);
    uint32_t total = IPV4_MAX_LEN - IPV4_HLEN;  /* 65,515 */
    unsigned n = (total + 1479) / 1480, idx[64];
    CU_ASSERT_EQUAL_FATAL(n, 45);
    for (unsigned i = 0; i < n; i++)
        idx[i] = (i * 7) % n;                   /* 7 and 45 are coprime */
    struct pbuf *pb = rs_feed_order(&fx, 0xffff, total, 1480, idx, n, &out);
    rs_check(pb, &out, 0xffff, total);
    CU_ASSERT_EQUAL(out.total_len, IPV4_MAX_LEN);
    pbuf_free(pb);
    CU_ASSERT_EQUAL(fx.r.stats.done, 1);
    CU_ASSERT_EQUAL(fx.r.stats.too_big, 0);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

/* Fragment i of the 5-fragment datagram used by test_reass_interleaved. */
static struct pbuf *rs_feed5(struct rs_fx *fx, uint16_t id, unsigned i,
                             uint64_t now, struct ipv4_hdr *out)
{
    return rs_feed(fx, id, i * 1480, i < 4 ? 1480 : 77, i < 4, now, out);
}

static void test_reass_interleaved(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out, h;
    rs_setup(&fx, 4);
    /* 100 in order, 101 in reverse, alternating fragment by fragment. */
    for (unsigned i = 0; i < 5; i++) {
        struct pbuf *a = rs_feed5(&fx, 100, i, RS_T0 + i, &out);
        if (i < 4) {
            CU_ASSERT_PTR_NULL(a);
        } else {
            rs_check(a, &out, 100, 4 * 1480 + 77);
            pbuf_free(a);
        }
        struct pbuf *b = rs_feed5(&fx, 101, 4 - i, RS_T0 + i, &out);
        if (i < 4) {
            CU_ASSERT_PTR_NULL(b);
        } else {
            rs_check(b, &out, 101, 4 * 1480 + 77);
            pbuf_free(b);
        }
    }
    CU_ASSERT_EQUAL(fx.r.stats.done, 2);
    /* Same id, other protocol: a separate datagram, not an overlap. */
    struct pbuf *f = rs_frag(&fx, 102, IPV4_PROTO_TCP, 0, 8, 1, NULL, &h);
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, f, &h, &out, RS_T0));
    f = rs_frag(&fx, 102, IPV4_PROTO_UDP, 0, 8, 1, NULL, &h);
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, f, &h, &out, RS_T0));
    CU_ASSERT_EQUAL(fx.r.stats.overlap, 0);
    CU_ASSERT_EQUAL(fx.r.stats.dup, 0);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 2);
    rs_teardown(&fx);
}

static void test_reass_no_buffer(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 0);
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 1, 0, 1480, 1, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 1, 1480, 8, 0, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.no_buffer, 2);
    CU_ASSERT_EQUAL(fx.r.stats.frags, 2);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    CU_ASSERT_EQUAL(ipv4_reass_next_deadline(&fx.r), TS_NEVER);
    rs_teardown(&fx);
}

/* A first fragment with options (IHL 6) and DF: its header is the one
 * rebuilt; later fragments carry none (RFC 791: options not copied). */
static struct pbuf *rs_frag_opts(struct rs_fx *fx, uint16_t id, uint32_t len,
                                 struct ipv4_hdr *h)
{
    struct pbuf *pb = pbuf_alloc(&fx->pool, PBUF_HEADROOM, 24 + len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    struct ipv4_hdr e = {
        .hlen = IPV4_HLEN, .total_len = (uint16_t)(24 + len), .id = id,
        .frag = IPV4_MF | IPV4_DF, .ttl = 9, .proto = IPV4_PROTO_UDP,
        .src = RS_SRC, .dst = RS_DST,
    };
    ipv4_emit(&e, pb->data);
    uint8_t *b = pb->data;
    b[0] = 0x46;
    memcpy(b + 20, "\x01\x01\x01\x00", 4);      /* NOP NOP NOP EOL */
    store_be16(b + 10, 0);
    store_be16(b + 10, inet_cksum(b, 24));
    memcpy(b + 24, rs_payload, len);
    CU_ASSERT_FATAL(ipv4_parse(b, pb->len, h) == IPV4_OK);
    return pb;
}

static void test_reass_options_header(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out, h;
    rs_setup(&fx, 2);
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 20, 1480, 40, 0, RS_T0, &out));
    struct pbuf *f0 = rs_frag_opts(&fx, 20, 1480, &h);
    struct pbuf *pb = ipv4_reass_input(&fx.r, f0, &h, &out, RS_T0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    CU_ASSERT_EQUAL(out.hlen, 24);
    CU_ASSERT_EQUAL(out.total_len, 24 + 1520);
    CU_ASSERT_EQUAL(out.frag, IPV4_DF);         /* DF kept, MF cleared */
    CU_ASSERT_EQUAL(out.ttl, 9);
    CU_ASSERT_EQUAL(pb->len, 24 + 1520);
    CU_ASSERT_EQUAL(memcmp(pb->data + 20, "\x01\x01\x01\x00", 4), 0);
    CU_ASSERT_EQUAL(memcmp(pb->data + 24, rs_payload, 1520), 0);
    CU_ASSERT(pbuf_headroom(pb) >= PBUF_HEADROOM);
    pbuf_free(pb);

    /* 65,515 payload bytes fit a 20-byte header but not this 24-byte one. */
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 21, 65512, 3, 0, RS_T0, &out));
    f0 = rs_frag_opts(&fx, 21, 1480, &h);
    CU_ASSERT_PTR_NULL(ipv4_reass_input(&fx.r, f0, &h, &out, RS_T0));
    CU_ASSERT_EQUAL(fx.r.stats.too_big, 1);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

/* An empty last fragment is legal: it only says where the datagram ends. */
static void test_reass_empty_last(void)
{
    struct rs_fx fx;
    struct ipv4_hdr out;
    rs_setup(&fx, 2);
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 30, 1480, 0, 0, RS_T0, &out));
    CU_ASSERT_PTR_NULL(rs_feed(&fx, 30, 1480, 0, 0, RS_T0, &out));
    CU_ASSERT_EQUAL(fx.r.stats.dup, 1);
    struct pbuf *pb = rs_feed(&fx, 30, 0, 1480, 1, RS_T0, &out);
    rs_check(pb, &out, 30, 1480);
    pbuf_free(pb);
    CU_ASSERT_EQUAL(fx.pool.stats.in_use, 0);
    rs_teardown(&fx);
}

TS_SUITE(ipv4_reass,
         TS_TEST(test_reass_in_order),
         TS_TEST(test_reass_reverse_order),
         TS_TEST(test_reass_random_order),
         TS_TEST(test_reass_duplicates),
         TS_TEST(test_reass_overlap),
         TS_TEST(test_reass_ping_of_death),
         TS_TEST(test_reass_bad_len),
         TS_TEST(test_reass_lying_hdr),
         TS_TEST(test_reass_timeout_with_first),
         TS_TEST(test_reass_timeout_without_first),
         TS_TEST(test_reass_eviction),
         TS_TEST(test_reass_max_size),
         TS_TEST(test_reass_interleaved),
         TS_TEST(test_reass_no_buffer),
         TS_TEST(test_reass_options_header),
         TS_TEST(test_reass_empty_last))
