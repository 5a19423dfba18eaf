/* tests/unit/test_heap.c - the deadline heap of core/heap.c (suite `heap`):
 * ordering, cancel, re-arm both ways, ties, and many timers at once with
 * the work of each operation (sift steps) bounded by the heap's height. */
#include <stdlib.h>

#include "core/heap.h"
#include "core/rand.h"
#include "tests/unit/unit.h"

/* Every parent's key <= its children's, and every node knows its slot. */
static int heap_valid(const struct ts_heap *h)
{
    for (uint32_t i = 0; i < h->n; i++) {
        if (h->v[i]->idx != i)
            return 0;
        if (i > 0 && h->v[(i - 1) / 2]->key > h->v[i]->key)
            return 0;
    }
    return 1;
}

/* Take the earliest node out; its key, or TS_NEVER when empty. */
static uint64_t heap_pop(struct ts_heap *h)
{
    struct ts_heap_node *nd = ts_heap_min(h);
    if (!nd)
        return TS_NEVER;
    uint64_t k = nd->key;
    ts_heap_set(h, nd, TS_NEVER);
    return k;
}

static void test_heap_order(void)
{
    struct ts_heap h;
    ts_heap_init(&h);
    static const uint64_t keys[] = { 50, 10, 40, 10, 30, 20, 60, 5 };
    struct ts_heap_node nd[8];
    CU_ASSERT_EQUAL(ts_heap_reserve(&h, 8), 0);
    CU_ASSERT_PTR_NULL(ts_heap_min(&h));
    CU_ASSERT_EQUAL(ts_heap_min_key(&h), TS_NEVER);
    for (int i = 0; i < 8; i++) {
        ts_heap_node_init(&nd[i]);
        CU_ASSERT_FALSE(ts_heap_node_armed(&nd[i]));
        ts_heap_set(&h, &nd[i], keys[i]);
        CU_ASSERT_TRUE(ts_heap_node_armed(&nd[i]));
    }
    CU_ASSERT_TRUE(heap_valid(&h));
    CU_ASSERT_PTR_EQUAL(ts_heap_min(&h), &nd[7]);
    static const uint64_t sorted[] = { 5, 10, 10, 20, 30, 40, 50, 60 };
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(heap_pop(&h), sorted[i]);
    CU_ASSERT_EQUAL(h.n, 0);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_FALSE(ts_heap_node_armed(&nd[i]));
    ts_heap_free(&h);
}

static void test_heap_cancel_rearm(void)
{
    struct ts_heap h;
    ts_heap_init(&h);
    struct ts_heap_node nd[5];
    for (int i = 0; i < 5; i++) {
        ts_heap_node_init(&nd[i]);
        ts_heap_set(&h, &nd[i], 100 + 10 * (uint64_t)i);
    }
    ts_heap_set(&h, &nd[0], TS_NEVER);          /* cancel the earliest */
    CU_ASSERT_FALSE(ts_heap_node_armed(&nd[0]));
    CU_ASSERT_EQUAL(ts_heap_min_key(&h), 110);
    ts_heap_set(&h, &nd[2], TS_NEVER);          /* cancel one inside */
    ts_heap_set(&h, &nd[2], TS_NEVER);          /* twice is harmless */
    CU_ASSERT_EQUAL(h.n, 3);
    CU_ASSERT_TRUE(heap_valid(&h));
    ts_heap_set(&h, &nd[4], 1);                 /* re-arm earlier */
    CU_ASSERT_PTR_EQUAL(ts_heap_min(&h), &nd[4]);
    ts_heap_set(&h, &nd[4], 1000);              /* re-arm later */
    CU_ASSERT_PTR_EQUAL(ts_heap_min(&h), &nd[1]);
    ts_heap_set(&h, &nd[1], 110);               /* the same key: no move */
    CU_ASSERT_TRUE(heap_valid(&h));
    CU_ASSERT_EQUAL(heap_pop(&h), 110);
    CU_ASSERT_EQUAL(heap_pop(&h), 130);
    CU_ASSERT_EQUAL(heap_pop(&h), 1000);
    CU_ASSERT_EQUAL(heap_pop(&h), TS_NEVER);
    ts_heap_free(&h);
}

/* 100,000 timers armed, re-armed and cancelled at random: the heap stays
 * valid, pops in order, and no operation takes more sift steps than the
 * heap is high (17 levels for 100,000). */
static void test_heap_many(void)
{
    enum { N = 100000, HEIGHT = 17 };
    struct ts_heap h;
    ts_heap_init(&h);
    struct ts_heap_node *nd = calloc(N, sizeof *nd);
    CU_ASSERT_FATAL(nd != NULL);
    CU_ASSERT_EQUAL_FATAL(ts_heap_reserve(&h, N), 0);
    struct ts_rand r;
    ts_rand_seed(&r, 42);
    uint64_t worst = 0;
    for (uint32_t i = 0; i < N; i++) {
        ts_heap_node_init(&nd[i]);
        uint64_t before = h.moves;
        ts_heap_set(&h, &nd[i], ts_rand_u32(&r) % 1000000);
        if (h.moves - before > worst)
            worst = h.moves - before;
    }
    for (uint32_t i = 0; i < N; i++) {
        struct ts_heap_node *x = &nd[ts_rand_u32(&r) % N];
        uint64_t before = h.moves;
        ts_heap_set(&h, x, ts_rand_u32(&r) % 4 == 0 ? TS_NEVER
                                                    : ts_rand_u32(&r) % 1000000);
        if (h.moves - before > worst)
            worst = h.moves - before;
    }
    CU_ASSERT(worst <= HEIGHT);
    CU_ASSERT_TRUE(heap_valid(&h));
    uint64_t last = 0, n = h.n;
    int ordered = 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = heap_pop(&h);
        ordered &= k >= last && k != TS_NEVER;
        last = k;
    }
    CU_ASSERT_TRUE(ordered);
    CU_ASSERT_EQUAL(h.n, 0);
    ts_heap_free(&h);
    free(nd);
}

TS_SUITE(heap,
         TS_TEST(test_heap_order),
         TS_TEST(test_heap_cancel_rearm),
         TS_TEST(test_heap_many))
