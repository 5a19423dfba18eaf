/* tests/unit/test_core.c - the primitives in core/ other than the checksum.
 *
 * Covers the pbuf pool (small/large choice, headroom and tailroom bounds of
 * push/pull/put/trim, exhaustion and its counter, free and the in-use
 * statistics), address text (strict dotted quads, prefixes, MACs), the
 * seedable random source, counter tables and the leveled log.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* open_memstream; the Makefile defines it too */
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "core/rand.h"
#include "tests/unit/unit.h"

/* ---- pbuf ------------------------------------------------------------ */

static void core_test_pbuf_size_choice(void)
{
    struct pbuf_pool pool;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 2, 1) == 0);
    struct pbuf *small = pbuf_alloc(&pool, PBUF_HEADROOM, 100);
    /* Exactly filling a small buffer still fits in it. */
    struct pbuf *exact = pbuf_alloc(&pool, PBUF_HEADROOM,
                                    PBUF_SMALL_CAP - PBUF_HEADROOM);
    struct pbuf *large = pbuf_alloc(&pool, 0, PBUF_SMALL_CAP + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(small);
    CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
    CU_ASSERT_PTR_NOT_NULL_FATAL(large);
    CU_ASSERT_EQUAL(small->cap, PBUF_SMALL_CAP);
    CU_ASSERT_EQUAL(exact->cap, PBUF_SMALL_CAP);
    CU_ASSERT_EQUAL(large->cap, PBUF_LARGE_CAP);
    CU_ASSERT_EQUAL(small->len, 100);
    CU_ASSERT_EQUAL(pbuf_headroom(small), PBUF_HEADROOM);
    CU_ASSERT_EQUAL(pbuf_tailroom(exact), 0);
    CU_ASSERT_PTR_EQUAL(small->pool, &pool);
    CU_ASSERT_PTR_NULL(small->next);
    CU_ASSERT_EQUAL(small->flags, 0);
    /* Distinct buffers never overlap. */
    CU_ASSERT(small->base + small->cap <= exact->base ||
              exact->base + exact->cap <= small->base);
    pbuf_free(small);
    pbuf_free(exact);
    pbuf_free(large);
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    pbuf_pool_destroy(&pool);
}

/* With the small list empty, a small request borrows a large buffer; a
 * request too big for any buffer fails and is counted. */
static void core_test_pbuf_fallback_and_too_big(void)
{
    struct pbuf_pool pool;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 1, 1) == 0);
    struct pbuf *a = pbuf_alloc(&pool, 0, 10);
    struct pbuf *b = pbuf_alloc(&pool, 0, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->cap, PBUF_SMALL_CAP);
    CU_ASSERT_EQUAL(b->cap, PBUF_LARGE_CAP);
    pbuf_free(a);
    pbuf_free(b);

    CU_ASSERT_PTR_NULL(pbuf_alloc(&pool, 0, PBUF_LARGE_CAP + 1));
    CU_ASSERT_PTR_NULL(pbuf_alloc(&pool, PBUF_LARGE_CAP + 1, 0));
    CU_ASSERT_PTR_NULL(pbuf_alloc(&pool, PBUF_LARGE_CAP, 1));
    /* headroom + len must not wrap around to look small. */
    CU_ASSERT_PTR_NULL(pbuf_alloc(&pool, 16, SIZE_MAX - 8));
    CU_ASSERT_EQUAL(pool.stats.alloc_fail, 4);
    struct pbuf *full = pbuf_alloc(&pool, 0, PBUF_LARGE_CAP);
    CU_ASSERT_PTR_NOT_NULL(full);
    pbuf_free(full);
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    pbuf_pool_destroy(&pool);
}

static void core_test_pbuf_push_pull_bounds(void)
{
    struct pbuf_pool pool;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 1, 0) == 0);
    struct pbuf *pb = pbuf_alloc(&pool, 20, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    uint8_t *start = pb->data;

    CU_ASSERT_PTR_NULL(pbuf_push(pb, 21));      /* beyond the headroom */
    CU_ASSERT_PTR_EQUAL(pb->data, start);
    CU_ASSERT_EQUAL(pb->len, 10);
    CU_ASSERT_PTR_EQUAL(pbuf_push(pb, 20), start - 20);
    CU_ASSERT_PTR_EQUAL(pb->data, pb->base);
    CU_ASSERT_EQUAL(pb->len, 30);
    CU_ASSERT_PTR_NULL(pbuf_push(pb, 1));

    CU_ASSERT_PTR_NULL(pbuf_pull(pb, 31));      /* beyond the data */
    CU_ASSERT_EQUAL(pb->len, 30);
    CU_ASSERT_PTR_EQUAL(pbuf_pull(pb, 14), pb->base + 14);
    CU_ASSERT_EQUAL(pb->len, 16);
    CU_ASSERT_PTR_NOT_NULL(pbuf_pull(pb, 16));
    CU_ASSERT_EQUAL(pb->len, 0);
    CU_ASSERT_PTR_NULL(pbuf_pull(pb, 1));
    pbuf_free(pb);
    pbuf_pool_destroy(&pool);
}

static void core_test_pbuf_put_trim_bounds(void)
{
    struct pbuf_pool pool;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 1, 0) == 0);
    struct pbuf *pb = pbuf_alloc(&pool, PBUF_HEADROOM, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    size_t room = pbuf_tailroom(pb);
    CU_ASSERT_EQUAL(room, PBUF_SMALL_CAP - PBUF_HEADROOM - 10);

    CU_ASSERT_PTR_NULL(pbuf_put(pb, room + 1));
    CU_ASSERT_EQUAL(pb->len, 10);
    CU_ASSERT_PTR_EQUAL(pbuf_put(pb, 5), pb->data + 10);
    CU_ASSERT_EQUAL(pb->len, 15);
    CU_ASSERT_PTR_NOT_NULL(pbuf_put(pb, room - 5));
    CU_ASSERT_EQUAL(pbuf_tailroom(pb), 0);
    CU_ASSERT_PTR_NULL(pbuf_put(pb, 1));

    pbuf_trim(pb, pb->len + 100);               /* longer: no-op */
    CU_ASSERT_EQUAL(pb->len, 10 + room);
    pbuf_trim(pb, 10);
    pbuf_trim(pb, 11);                          /* never lengthens */
    CU_ASSERT_EQUAL(pb->len, 10);
    pbuf_trim(pb, 3);
    CU_ASSERT_EQUAL(pb->len, 3);
    CU_ASSERT_EQUAL(pbuf_headroom(pb), PBUF_HEADROOM);
    pbuf_trim(pb, 0);
    CU_ASSERT_EQUAL(pb->len, 0);
    pbuf_free(pb);
    pbuf_pool_destroy(&pool);
}

/* Exhaustion returns NULL and is counted; freeing makes buffers usable
 * again; in_use and its high-water mark track it all. */
static void core_test_pbuf_exhaust_and_free(void)
{
    enum { N = 8 };
    struct pbuf_pool pool;
    struct pbuf *pb[N];
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, N, 0) == 0);
    for (int i = 0; i < N; i++) {
        pb[i] = pbuf_alloc(&pool, 0, 64);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pb[i]);
        pb[i]->flags = PBUF_F_CSUM_VALID;   /* must not survive a free */
    }
    CU_ASSERT_EQUAL(pool.stats.in_use, N);
    CU_ASSERT_PTR_NULL(pbuf_alloc(&pool, 0, 64));
    CU_ASSERT_EQUAL(pool.stats.alloc_fail, 1);
    CU_ASSERT_EQUAL(pool.stats.alloc, N);

    pbuf_free(pb[3]);
    CU_ASSERT_EQUAL(pool.stats.in_use, N - 1);
    struct pbuf *again = pbuf_alloc(&pool, 0, 64);
    CU_ASSERT_PTR_EQUAL(again, pb[3]);
    CU_ASSERT_EQUAL(again->flags, 0);

    /* A ->next chain frees in one call. */
    for (int i = 0; i < N - 1; i++)
        pb[i]->next = pb[i + 1];
    pb[N - 1]->next = NULL;
    pbuf_free_chain(pb[0]);
    pbuf_free(NULL);                            /* harmless */
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    CU_ASSERT_EQUAL(pool.stats.in_use_max, N);
    CU_ASSERT_EQUAL(pool.stats.alloc, N + 1);
    pbuf_pool_destroy(&pool);
}

static void core_test_pbuf_empty_pool(void)
{
    struct pbuf_pool pool;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 0, 0) == 0);
    CU_ASSERT_PTR_NULL(pbuf_alloc(&pool, 0, 0));
    CU_ASSERT_EQUAL(pool.stats.alloc_fail, 1);
    pbuf_pool_destroy(&pool);
}

/* Large buffers really hold 64 KiB: write every byte (ASan checks it). */
static void core_test_pbuf_large_is_writable(void)
{
    struct pbuf_pool pool;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 1, 2) == 0);
    struct pbuf *a = pbuf_alloc(&pool, PBUF_HEADROOM, 65535);
    struct pbuf *b = pbuf_alloc(&pool, PBUF_HEADROOM, 65535);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    memset(a->base, 0xaa, a->cap);
    memset(b->base, 0x55, b->cap);
    CU_ASSERT_EQUAL(a->data[65534], 0xaa);     /* b did not overlap a */
    pbuf_free(a);
    pbuf_free(b);
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    pbuf_pool_destroy(&pool);
}

/* ---- addresses ------------------------------------------------------- */

static void core_test_ip4_parse_good(void)
{
    static const struct { const char *s; uint32_t v; } good[] = {
        { "0.0.0.0", 0 },
        { "255.255.255.255", 0xffffffffu },
        { "10.0.0.1", TS_IP4(10, 0, 0, 1) },
        { "192.168.100.200", TS_IP4(192, 168, 100, 200) },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t a = 1;
        CU_ASSERT_EQUAL(ts_ip4_parse(good[i].s, &a), 0);
        CU_ASSERT_EQUAL(a, good[i].v);
        char buf[TS_IP4_STRLEN];
        CU_ASSERT_STRING_EQUAL(ts_ip4_fmt(good[i].v, buf), good[i].s);
    }
}

static void core_test_ip4_parse_bad(void)
{
    static const char *const bad[] = {
        "", "1", "1.2.3", "1.2.3.", "1.2.3.4.", "1.2.3.4.5", "256.1.1.1",
        "1.2.3.256", "1000.1.1.1", "0001.1.1.1", "1..2.3", ".1.2.3",
        " 1.2.3.4", "x1.2.3.4", "+1.2.3.4", "-1.2.3.4", "1.2.3.4 ",
        "1.2.3.4x", "1.2.3.4/24", "1.2.3.-4", "1,2,3,4", "a.b.c.d",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t a = 0;
        if (ts_ip4_parse(bad[i], &a) != -EINVAL)
            fprintf(stderr, "\n  accepted bad address \"%s\"\n", bad[i]);
        CU_ASSERT_EQUAL(ts_ip4_parse(bad[i], &a), -EINVAL);
    }
    uint32_t a;
    CU_ASSERT_EQUAL(ts_ip4_parse(NULL, &a), -EINVAL);
}

static void core_test_ip4_prefix_parse(void)
{
    uint32_t a = 0;
    uint8_t p = 99;
    CU_ASSERT_EQUAL(ts_ip4_prefix_parse("10.1.2.0/24", &a, &p, 1), 0);
    CU_ASSERT_EQUAL(a, TS_IP4(10, 1, 2, 0));
    CU_ASSERT_EQUAL(p, 24);
    CU_ASSERT_EQUAL(ts_ip4_prefix_parse("1.2.3.4/0", &a, &p, 1), 0);
    CU_ASSERT_EQUAL(p, 0);
    CU_ASSERT_EQUAL(ts_ip4_prefix_parse("1.2.3.4/32", &a, &p, 1), 0);
    CU_ASSERT_EQUAL(p, 32);
    /* Without need_prefix the "/N" is optional and p is left alone. */
    p = 7;
    CU_ASSERT_EQUAL(ts_ip4_prefix_parse("1.2.3.4", &a, &p, 0), 0);
    CU_ASSERT_EQUAL(a, TS_IP4(1, 2, 3, 4));
    CU_ASSERT_EQUAL(p, 7);

    static const char *const bad[] = {
        "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/8x", "1.2.3.4//8",
        "1.2.3.4/ 8", "1.2.3.4/1000", "1.2.3/8", "256.0.0.0/8", "/8",
        "x1.2.3.4/8", "1.2.3.4 /8",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(ts_ip4_prefix_parse(bad[i], &a, &p, 0), -EINVAL);
    CU_ASSERT_EQUAL(ts_ip4_prefix_parse("1.2.3.4", &a, &p, 1), -EINVAL);
    CU_ASSERT_EQUAL(ts_ip4_prefix_parse(NULL, &a, &p, 0), -EINVAL);
}

static void core_test_ip4_mask(void)
{
    CU_ASSERT_EQUAL(ts_ip4_mask(0), 0);
    CU_ASSERT_EQUAL(ts_ip4_mask(1), 0x80000000u);
    CU_ASSERT_EQUAL(ts_ip4_mask(24), 0xffffff00u);
    CU_ASSERT_EQUAL(ts_ip4_mask(32), 0xffffffffu);
}

static void core_test_mac_parse_fmt(void)
{
    uint8_t m[6];
    char buf[TS_MAC_STRLEN];
    static const uint8_t want[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab, 0xff };
    CU_ASSERT_EQUAL(ts_mac_parse("02:00:5e:10:ab:ff", m), 0);
    CU_ASSERT_EQUAL(memcmp(m, want, 6), 0);
    CU_ASSERT_EQUAL(ts_mac_parse("02:00:5E:10:AB:FF", m), 0);
    CU_ASSERT_EQUAL(memcmp(m, want, 6), 0);
    /* Formatting is lower case and round-trips. */
    CU_ASSERT_STRING_EQUAL(ts_mac_fmt(want, buf), "02:00:5e:10:ab:ff");

    static const char *const bad[] = {
        "", "02:00:5e:10:ab", "02:00:5e:10:ab:ff:", "02:00:5e:10:ab:f",
        "02-00-5e-10-ab-ff", "0g:00:5e:10:ab:ff", "02:00:5e:10:ab:fg",
        " 02:00:5e:10:ab:f", "02:00:5e:10:ab:ff ", "2:0:5e:10:ab:ff:0",
        "02:00:5e:10:ab::f", "02:00:5e:10:ab-ff", "02.00:5e:10:ab:ff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(ts_mac_parse(bad[i], m), -EINVAL);
    CU_ASSERT_EQUAL(ts_mac_parse(NULL, m), -EINVAL);
}

/* ---- random ---------------------------------------------------------- */

static void core_test_rand_repeatable(void)
{
    struct ts_rand a, b, c;
    ts_rand_seed(&a, 12345);
    ts_rand_seed(&b, 12345);
    ts_rand_seed(&c, 12346);
    unsigned same = 0, differ_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ts_rand_u64(&a), y = ts_rand_u64(&b), z = ts_rand_u64(&c);
        same += x == y;
        differ_c += x != z;
    }
    CU_ASSERT_EQUAL(same, 1000);
    CU_ASSERT(differ_c > 990);      /* another seed is another sequence */
}

/* Every value below n is reachable and nothing at or above n appears. */
static void core_test_rand_below_range(void)
{
    static const uint32_t ns[] = { 1, 2, 3, 7, 1000, 0x80000001u, UINT32_MAX };
    struct ts_rand r;
    ts_rand_seed(&r, 1);
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        unsigned out = 0;
        for (int i = 0; i < 10000; i++)
            out += ts_rand_below(&r, ns[k]) >= ns[k];
        CU_ASSERT_EQUAL(out, 0);
    }
    unsigned seen[7] = { 0 };
    for (int i = 0; i < 7000; i++)
        seen[ts_rand_below(&r, 7)]++;
    for (int v = 0; v < 7; v++)
        CU_ASSERT(seen[v] > 800 && seen[v] < 1200);
}

static void core_test_rand_chance_edges(void)
{
    struct ts_rand r;
    ts_rand_seed(&r, 2);
    unsigned never = 0, always = 0, half = 0, neg = 0;
    for (int i = 0; i < 10000; i++) {
        never += ts_rand_chance(&r, 0.0);
        always += ts_rand_chance(&r, 1.0);
        neg += ts_rand_chance(&r, -0.5);
        half += ts_rand_chance(&r, 0.5);
    }
    CU_ASSERT_EQUAL(never, 0);
    CU_ASSERT_EQUAL(neg, 0);
    CU_ASSERT_EQUAL(always, 10000);
    /* Seeded, so this is exact on every run; the band says "about half". */
    CU_ASSERT(half > 4700 && half < 5300);
}

/* ---- counters and log ------------------------------------------------ */

struct core_demo_stats {
    uint64_t first;
    uint64_t second;
};

static const struct ts_counter_desc core_demo_desc[] = {
    TS_COUNTER(struct core_demo_stats, first, "the first"),
    TS_COUNTER(struct core_demo_stats, second, "the second"),
};

static void core_test_counter_get(void)
{
    struct core_demo_stats s = { .first = 3, .second = 1ull << 40 };
    size_t n = TS_COUNTERS_LEN(core_demo_desc);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(ts_counter_get(core_demo_desc, n, &s, "first"), 3);
    CU_ASSERT_EQUAL(ts_counter_get(core_demo_desc, n, &s, "second"),
                    1ll << 40);
    CU_ASSERT_EQUAL(ts_counter_get(core_demo_desc, n, &s, "third"), -1);
    CU_ASSERT_EQUAL(ts_counter_get(core_demo_desc, n, &s, ""), -1);
    CU_ASSERT_EQUAL(ts_counter_get(core_demo_desc, n, &s, "firs"), -1);
}

static void core_test_counters_print(void)
{
    struct core_demo_stats s = { .first = 42, .second = 7 };
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ts_counters_print(f, "demo", core_demo_desc,
                      TS_COUNTERS_LEN(core_demo_desc), &s);
    fclose(f);
    CU_ASSERT_EQUAL(strncmp(text, "demo:\n", 6), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "first"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "42  the first"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "7  the second"));
    free(text);
}

static void core_test_log_levels(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct ts_log log;
    /* Layers hold a pointer to the stack's log; passing &log straight to
     * the macros trips gcc's -Waddress on the NULL check inside them. */
    const struct ts_log *lp = &log;
    ts_log_init(&log, TS_LOG_INFO, f);
    TS_INFO(lp, "shown %d", 1);
    TS_DEBUG(lp, "hidden %d", 2);
    TS_WARN(lp, "warned");
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "tapstack: info  shown 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "tapstack: warn  warned\n"));
    CU_ASSERT_PTR_NULL(strstr(text, "hidden"));
    free(text);
    /* A log without a stream, or no log at all, is silent, not a crash. */
    ts_log_init(&log, TS_LOG_DEBUG, NULL);
    CU_ASSERT_FALSE(TS_LOG_ON(lp, TS_LOG_ERROR));
    CU_ASSERT_FALSE(TS_LOG_ON((const struct ts_log *)NULL, TS_LOG_ERROR));
    TS_INFO((const struct ts_log *)NULL, "nothing");
}

TS_SUITE(core,
         TS_TEST(core_test_pbuf_size_choice),
         TS_TEST(core_test_pbuf_fallback_and_too_big),
         TS_TEST(core_test_pbuf_push_pull_bounds),
         TS_TEST(core_test_pbuf_put_trim_bounds),
         TS_TEST(core_test_pbuf_exhaust_and_free),
         TS_TEST(core_test_pbuf_empty_pool),
         TS_TEST(core_test_pbuf_large_is_writable),
         TS_TEST(core_test_ip4_parse_good),
         TS_TEST(core_test_ip4_parse_bad),
         TS_TEST(core_test_ip4_prefix_parse),
         TS_TEST(core_test_ip4_mask),
         TS_TEST(core_test_mac_parse_fmt),
         TS_TEST(core_test_rand_repeatable),
         TS_TEST(core_test_rand_below_range),
         TS_TEST(core_test_rand_chance_edges),
         TS_TEST(core_test_counter_get),
         TS_TEST(core_test_counters_print),
         TS_TEST(core_test_log_levels))
