/* core/pbuf.c - the packet buffer pool: two free lists carved from one block. */
#include "core/pbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cksum.h"

#define PBUF_C(f, h) TS_COUNTER(struct pbuf_stats, f, h)
const struct ts_counter_desc pbuf_counter_desc[] = {
    PBUF_C(alloc, "buffers handed out"),
    PBUF_C(alloc_fail, "requests refused: pool empty or size too big"),
    PBUF_C(in_use, "buffers in use now"),
    PBUF_C(in_use_max, "most buffers in use at once"),
};
const size_t pbuf_counter_count = TS_COUNTERS_LEN(pbuf_counter_desc);

static void pbuf_push_free(struct pbuf *pb)
{
    struct pbuf_pool *pool = pb->pool;
    struct pbuf **list = pb->cap == PBUF_SMALL_CAP ? &pool->free_small
                                                   : &pool->free_large;
    pb->next = *list;
    *list = pb;
}

int pbuf_pool_init(struct pbuf_pool *pool, unsigned nsmall, unsigned nlarge)
{
    memset(pool, 0, sizeof *pool);
    size_t n = (size_t)nsmall + nlarge;
    size_t bytes = (size_t)nsmall * PBUF_SMALL_CAP + (size_t)nlarge * PBUF_LARGE_CAP;
    pool->descs = calloc(n ? n : 1, sizeof *pool->descs);
    pool->mem = malloc(bytes ? bytes : 1);
    if (!pool->descs || !pool->mem) {
        pbuf_pool_destroy(pool);
        return -ENOMEM;
    }
    pool->nsmall = nsmall;
    pool->nlarge = nlarge;
    uint8_t *p = pool->mem;
    for (size_t i = 0; i < n; i++) {
        struct pbuf *pb = &pool->descs[i];
        pb->base = p;
        pb->cap = i < nsmall ? PBUF_SMALL_CAP : PBUF_LARGE_CAP;
        pb->pool = pool;
        p += pb->cap;
        pbuf_push_free(pb);
    }
    return 0;
}

void pbuf_pool_destroy(struct pbuf_pool *pool)
{
    free(pool->descs);
    free(pool->mem);
    memset(pool, 0, sizeof *pool);
}

static struct pbuf *pbuf_take(struct pbuf **list)
{
    struct pbuf *pb = *list;
    if (pb)
        *list = pb->next;
    return pb;
}

struct pbuf *pbuf_alloc(struct pbuf_pool *pool, size_t headroom, size_t len)
{
    struct pbuf *pb = NULL;
    if (headroom <= PBUF_LARGE_CAP && len <= PBUF_LARGE_CAP - headroom) {
        if (headroom + len <= PBUF_SMALL_CAP)
            pb = pbuf_take(&pool->free_small);
        if (!pb)
            pb = pbuf_take(&pool->free_large);
    }
    if (!pb) {
        pool->stats.alloc_fail++;
        return NULL;
    }
    pb->next = NULL;
    pb->data = pb->base + headroom;
    pb->len = len;
    pb->flags = 0;
    pb->frame = 0;
    pool->stats.alloc++;
    if (++pool->stats.in_use > pool->stats.in_use_max)
        pool->stats.in_use_max = pool->stats.in_use;
    return pb;
}

void pbuf_free(struct pbuf *pb)
{
    if (!pb)
        return;
    pb->pool->stats.in_use--;
    pbuf_push_free(pb);
}

void pbuf_free_chain(struct pbuf *pb)
{
    while (pb) {
        struct pbuf *next = pb->next;
        pbuf_free(pb);
        pb = next;
    }
}

uint8_t *pbuf_push(struct pbuf *pb, size_t n)
{
    if (n > pbuf_headroom(pb))
        return NULL;
    pb->data -= n;
    pb->len += n;
    return pb->data;
}

uint8_t *pbuf_pull(struct pbuf *pb, size_t n)
{
    if (n > pb->len)
        return NULL;
    pb->data += n;
    pb->len -= n;
    return pb->data;
}

uint8_t *pbuf_put(struct pbuf *pb, size_t n)
{
    if (n > pbuf_tailroom(pb))
        return NULL;
    uint8_t *tail = pb->data + pb->len;
    pb->len += n;
    return tail;
}

void pbuf_trim(struct pbuf *pb, size_t len)
{
    if (len < pb->len)
        pb->len = len;
}

int pbuf_csum_finish(struct pbuf *pb)
{
    if (!(pb->flags & PBUF_F_CSUM_PARTIAL))
        return 0;
    size_t head = pbuf_headroom(pb);
    if (pb->off.csum_start < head ||
        cksum_finish(pb->data, pb->len, pb->off.csum_start - head,
                     pb->off.csum_off) < 0)
        return -1;
    pb->flags &= ~PBUF_F_CSUM_PARTIAL;
    return 0;
}
