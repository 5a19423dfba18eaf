/* core/heap.c - the binary min-heap of deadlines (see core/heap.h): sift
 * up and down over an array of node pointers, each node knowing its slot so
 * that re-arming or cancelling one needs no search. */
#include "core/heap.h"

#include <errno.h>
#include <stdlib.h>

void ts_heap_init(struct ts_heap *h)
{
    h->v = NULL;
    h->n = h->cap = 0;
    h->moves = 0;
}

void ts_heap_free(struct ts_heap *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        h->v[i]->idx = TS_HEAP_NONE;
    free(h->v);
    ts_heap_init(h);
}

int ts_heap_reserve(struct ts_heap *h, uint32_t n)
{
    if (n <= h->cap)
        return 0;
    uint32_t cap = h->cap ? h->cap : 64;
    while (cap < n)
        cap = cap > UINT32_MAX / 2 ? n : cap * 2;
    struct ts_heap_node **v = realloc(h->v, (size_t)cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    h->v = v;
    h->cap = cap;
    return 0;
}

static void ts_heap_place(struct ts_heap *h, uint32_t i, struct ts_heap_node *nd)
{
    h->v[i] = nd;
    nd->idx = i;
}

static void ts_heap_up(struct ts_heap *h, uint32_t i)
{
    struct ts_heap_node *nd = h->v[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (h->v[p]->key <= nd->key)
            break;
        ts_heap_place(h, i, h->v[p]);
        i = p;
        h->moves++;
    }
    ts_heap_place(h, i, nd);
}

static void ts_heap_down(struct ts_heap *h, uint32_t i)
{
    struct ts_heap_node *nd = h->v[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        uint64_t mk = nd->key;
        if (l < h->n && h->v[l]->key < mk)
            m = l, mk = h->v[l]->key;
        if (l + 1 < h->n && h->v[l + 1]->key < mk)
            m = l + 1;
        if (m == i)
            break;
        ts_heap_place(h, i, h->v[m]);
        i = m;
        h->moves++;
    }
    ts_heap_place(h, i, nd);
}

static void ts_heap_remove(struct ts_heap *h, struct ts_heap_node *nd)
{
    uint32_t i = nd->idx;
    struct ts_heap_node *last = h->v[--h->n];
    nd->idx = TS_HEAP_NONE;
    if (last == nd)
        return;
    /* The last node fills the hole and moves whichever way its key says. */
    ts_heap_place(h, i, last);
    if (i > 0 && h->v[(i - 1) / 2]->key > last->key)
        ts_heap_up(h, i);
    else
        ts_heap_down(h, i);
}

void ts_heap_set(struct ts_heap *h, struct ts_heap_node *nd, uint64_t key)
{
    uint64_t old = nd->key;
    nd->key = key;
    if (key == TS_NEVER) {
        if (nd->idx != TS_HEAP_NONE)
            ts_heap_remove(h, nd);
        return;
    }
    if (nd->idx == TS_HEAP_NONE) {
        if (h->n == h->cap && ts_heap_reserve(h, h->n + 1) < 0) {
            /* Only a caller that did not reserve gets here: the timer
             * stays unarmed rather than the heap being overrun. */
            nd->key = TS_NEVER;
            return;
        }
        ts_heap_place(h, h->n++, nd);
        ts_heap_up(h, nd->idx);
    } else if (key < old) {
        ts_heap_up(h, nd->idx);
    } else if (key > old) {
        ts_heap_down(h, nd->idx);
    }
}
