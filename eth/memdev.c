/* eth/memdev.c - in-memory netdev pair: two bounded rings of frame copies.
 *
 * Each end has an eventfd that is readable while frames wait for it, so a
 * stack thread can wait on a memdev like on a TAP; a mutex makes the pair
 * safe when the two ends are driven by two threads (two stacks in one
 * process behind the socket API).
 */
#include "eth/memdev.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

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
    int efd;                    /* readable while rx holds frames */
};

struct memdev_shared {
    struct memdev_end ends[2];
    struct memdev_ring rings[2];
    int open_ends;
    pthread_mutex_t lock;
};

static void memdev_signal(int efd)
{
    uint64_t one = 1;
    if (efd >= 0 && write(efd, &one, sizeof one) < 0) {
        /* The counter cannot overflow in practice; nothing to do. */
    }
}

static void memdev_unsignal(int efd)
{
    uint64_t v;
    if (efd >= 0 && read(efd, &v, sizeof v) < 0) {
        /* EAGAIN: already clear. */
    }
}

static int memdev_send_locked(struct memdev_end *e, const struct pbuf *pb)
{
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
    if (r->count++ == 0)
        memdev_signal(e->shared->ends[e == &e->shared->ends[0]].efd);
    return 0;
}

static int memdev_send(struct netdev *dev, const struct pbuf *pb)
{
    struct memdev_end *e = dev->priv;
    pthread_mutex_lock(&e->shared->lock);
    int rc = memdev_send_locked(e, pb);
    pthread_mutex_unlock(&e->shared->lock);
    return rc;
}

static int memdev_recv_locked(struct memdev_end *e, struct pbuf *pb)
{
    struct memdev_ring *r = e->rx;
    if (r->count == 0)
        return 0;
    size_t len = r->lens[r->head];
    if (len > pbuf_tailroom(pb))
        len = pbuf_tailroom(pb);
    memcpy(pb->data, r->slots + (size_t)r->head * MEMDEV_SLOT, len);
    pb->len = len;
    r->head = (r->head + 1) % r->depth;
    if (--r->count == 0)
        memdev_unsignal(e->efd);
    return 1;
}

static int memdev_recv(struct netdev *dev, struct pbuf *pb)
{
    struct memdev_end *e = dev->priv;
    pthread_mutex_lock(&e->shared->lock);
    int rc = memdev_recv_locked(e, pb);
    pthread_mutex_unlock(&e->shared->lock);
    return rc;
}

static int memdev_fd(struct netdev *dev)
{
    return ((struct memdev_end *)dev->priv)->efd;
}

static void memdev_free(struct memdev_shared *s)
{
    for (int i = 0; i < 2; i++) {
        free(s->rings[i].slots);
        free(s->rings[i].lens);
        if (s->ends[i].efd >= 0)
            close(s->ends[i].efd);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void memdev_close(struct netdev *dev)
{
    struct memdev_end *e = dev->priv;
    struct memdev_shared *s = e->shared;
    pthread_mutex_lock(&s->lock);
    int last = --s->open_ends == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        memdev_free(s);
}

static const struct netdev_ops memdev_ops = {
    .send = memdev_send, .recv = memdev_recv, .fd = memdev_fd,
    .close = memdev_close,
};

int memdev_pair(struct netdev **a, struct netdev **b, unsigned depth,
                uint16_t mtu)
{
    struct memdev_shared *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    /* Recursive: a test's filter may send on the pair from inside a send. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    s->ends[0].efd = s->ends[1].efd = -1;
    if (depth == 0)
        goto fail;
    for (int i = 0; i < 2; i++) {
        s->ends[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s->ends[i].efd < 0)
            goto fail;
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
    memdev_free(s);
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
