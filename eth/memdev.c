/* eth/memdev.c - in-memory netdev pair: two bounded rings of frame copies. */
#include "eth/memdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MEMDEV_SLOT PBUF_SMALL_CAP

struct memdev_ring {
    uint8_t *slots;       /* depth * MEMDEV_SLOT bytes */
    size_t *lens;
    unsigned head, count, depth;
};

struct memdev_end {
    struct netdev dev;
    struct memdev_shared *shared;
    struct memdev_ring *rx;     /* frames for this end */
    struct memdev_ring *peer_rx;
    memdev_filter_fn filter;
    void *filter_ctx;
    uint64_t dropped;
};

struct memdev_shared {
    struct memdev_end ends[2];
    struct memdev_ring rings[2];
    int open_ends;
};

static int memdev_send(struct netdev *dev, const struct pbuf *pb)
{
    struct memdev_end *e = dev->priv;
    struct memdev_ring *r = e->peer_rx;
    if (pb->len > MEMDEV_SLOT || r->count == r->depth) {
        e->dropped++;
        return 0;   /* a full wire queue loses the frame silently */
    }
    unsigned idx = (r->head + r->count) % r->depth;
    uint8_t *slot = r->slots + (size_t)idx * MEMDEV_SLOT;
    size_t len = pb->len;
    memcpy(slot, pb->data, len);
    if (e->filter && !e->filter(e->filter_ctx, slot, &len, MEMDEV_SLOT)) {
        e->dropped++;
        return 0;
    }
    r->lens[idx] = len;
    r->count++;
    return 0;
}

static int memdev_recv(struct netdev *dev, struct pbuf *pb)
{
    struct memdev_end *e = dev->priv;
    struct memdev_ring *r = e->rx;
    if (r->count == 0)
        return 0;
    size_t len = r->lens[r->head];
    if (len > pbuf_tailroom(pb))
        len = pbuf_tailroom(pb);
    memcpy(pb->data, r->slots + (size_t)r->head * MEMDEV_SLOT, len);
    pb->len = len;
    r->head = (r->head + 1) % r->depth;
    r->count--;
    return 1;
}

static int memdev_fd(struct netdev *dev)
{
    (void)dev;
    return -1;
}

static void memdev_close(struct netdev *dev)
{
    struct memdev_end *e = dev->priv;
    struct memdev_shared *s = e->shared;
    if (--s->open_ends > 0)
        return;
    for (int i = 0; i < 2; i++) {
        free(s->rings[i].slots);
        free(s->rings[i].lens);
    }
    free(s);
}

static const struct netdev_ops memdev_ops = {
    .send = memdev_send, .recv = memdev_recv, .fd = memdev_fd,
    .close = memdev_close,
};

int memdev_pair(struct netdev **a, struct netdev **b, unsigned depth,
                uint16_t mtu)
{
    struct memdev_shared *s = calloc(1, sizeof *s);
    if (!s || depth == 0)
        goto fail;
    for (int i = 0; i < 2; i++) {
        s->rings[i].depth = depth;
        s->rings[i].slots = malloc((size_t)depth * MEMDEV_SLOT);
        s->rings[i].lens = calloc(depth, sizeof(size_t));
        if (!s->rings[i].slots || !s->rings[i].lens)
            goto fail;
    }
    for (int i = 0; i < 2; i++) {
        struct memdev_end *e = &s->ends[i];
        e->shared = s;
        e->rx = &s->rings[i];
        e->peer_rx = &s->rings[1 - i];
        e->dev.ops = &memdev_ops;
        e->dev.priv = e;
        e->dev.mtu = mtu;
        memcpy(e->dev.name, i ? "mem1" : "mem0", 5);
    }
    s->open_ends = 2;
    *a = &s->ends[0].dev;
    *b = &s->ends[1].dev;
    return 0;
fail:
    if (s) {
        for (int i = 0; i < 2; i++) {
            free(s->rings[i].slots);
            free(s->rings[i].lens);
        }
        free(s);
    }
    return -ENOMEM;
}

void memdev_set_filter(struct netdev *dev, memdev_filter_fn fn, void *ctx)
{
    struct memdev_end *e = dev->priv;
    e->filter = fn;
    e->filter_ctx = ctx;
}

unsigned memdev_pending(const struct netdev *dev)
{
    const struct memdev_end *e = dev->priv;
    return e->rx->count;
}

uint64_t memdev_dropped(const struct netdev *dev)
{
    const struct memdev_end *e = dev->priv;
    return e->dropped;
}
