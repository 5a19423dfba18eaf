/* core/heap.h - a binary min-heap of deadlines for timers that scale.
 *
 * Intrusive: each timer owner embeds a struct ts_heap_node (its deadline
 * and its slot in the heap) and the heap holds pointers to nodes, so a
 * layer with 100,000 connections finds its next deadline in O(1)
 * (ts_heap_min) and arms, re-arms or cancels one in O(log n) without ever
 * walking its table. A node whose deadline is TS_NEVER is not in the heap.
 *
 * Memory is bounded by the caller: ts_heap_reserve grows the slot array
 * (doubling) when an owner is created, so arming a timer never allocates
 * and never fails. `moves` counts sift steps, for tests that check the
 * cost of an operation by its work, never by time.
 *
 * Entry points: ts_heap_init, ts_heap_free, ts_heap_reserve, ts_heap_set,
 * ts_heap_min, ts_heap_min_key, ts_heap_node_init, ts_heap_node_armed.
 */
#ifndef TS_CORE_HEAP_H
#define TS_CORE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

#define TS_HEAP_NONE UINT32_MAX

struct ts_heap_node {
    uint64_t key;           /* the deadline; TS_NEVER when not armed */
    uint32_t idx;           /* slot in the heap, TS_HEAP_NONE when out */
};

struct ts_heap {
    struct ts_heap_node **v;
    uint32_t n, cap;
    uint64_t moves;         /* sift steps so far (work counter) */
};

static inline void ts_heap_node_init(struct ts_heap_node *nd)
{
    nd->key = TS_NEVER;
    nd->idx = TS_HEAP_NONE;
}

static inline int ts_heap_node_armed(const struct ts_heap_node *nd)
{
    return nd->idx != TS_HEAP_NONE;
}

void ts_heap_init(struct ts_heap *h);
void ts_heap_free(struct ts_heap *h);
/* Room for n nodes at once: 0 or -ENOMEM. */
int ts_heap_reserve(struct ts_heap *h, uint32_t n);
/* Arm nd at key, move it there if armed, or take it out (key TS_NEVER).
 * Arming needs a slot: the caller reserved one for every node it owns. */
void ts_heap_set(struct ts_heap *h, struct ts_heap_node *nd, uint64_t key);

/* The node with the earliest deadline, or NULL. */
static inline struct ts_heap_node *ts_heap_min(const struct ts_heap *h)
{
    return h->n ? h->v[0] : NULL;
}

static inline uint64_t ts_heap_min_key(const struct ts_heap *h)
{
    return h->n ? h->v[0]->key : TS_NEVER;
}

#endif
