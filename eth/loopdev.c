/* eth/loopdev.c - the loopback device: a bounded FIFO of the stack's own
 * buffers, linked through pbuf.next. Single-threaded like the rest of the
 * protocol core (the stack's lock covers it).
 */
#include "eth/loopdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOOPDEV_C(f, h) TS_COUNTER(struct loopdev_stats, f, h)
const struct ts_counter_desc loopdev_counter_desc[] = {
    LOOPDEV_C(drop_queue_full, "frames dropped: the loopback queue was full"),
    LOOPDEV_C(drop_no_buffer, "frames dropped: no buffer for a copy"),
    LOOPDEV_C(queue_max, "most frames waiting at once"),
};
const size_t loopdev_counter_count = TS_COUNTERS_LEN(loopdev_counter_desc);

struct loopdev_priv {
    struct pbuf_pool *pool;
    struct pbuf *head, *tail;
    unsigned count, depth;
    struct loopdev_stats stats;
};

static int loopdev_xmit(struct netdev *dev, struct pbuf *pb)
{
    struct loopdev_priv *lp = dev->priv;
    if (lp->count == lp->depth) {
        /* Lost and counted here, as Linux's lo counts a full backlog: the
         * sender is not told (a datagram may be lost; TCP resends). */
        lp->stats.drop_queue_full++;
        pbuf_free(pb);
        return 0;
    }
    pb->next = NULL;
    if (lp->tail)
        lp->tail->next = pb;
    else
        lp->head = pb;
    lp->tail = pb;
    if (++lp->count > lp->stats.queue_max)
        lp->stats.queue_max = lp->count;
    return 0;
}

static struct pbuf *loopdev_take(struct netdev *dev)
{
    struct loopdev_priv *lp = dev->priv;
    struct pbuf *pb = lp->head;
    if (!pb)
        return NULL;
    lp->head = pb->next;
    if (!lp->head)
        lp->tail = NULL;
    lp->count--;
    pb->next = NULL;
    /* Nothing from the sender's side is news to the receiver except that
     * the device vouches for the checksums it never computed. */
    pb->flags = PBUF_F_CSUM_VALID;
    return pb;
}

static int loopdev_send(struct netdev *dev, const struct pbuf *pb)
{
    struct loopdev_priv *lp = dev->priv;
    struct pbuf *copy = pbuf_alloc(lp->pool, PBUF_HEADROOM, pb->len);
    if (!copy) {
        lp->stats.drop_no_buffer++;
        return 0;
    }
    memcpy(copy->data, pb->data, pb->len);
    return loopdev_xmit(dev, copy);
}

static int loopdev_recv(struct netdev *dev, struct pbuf *pb)
{
    struct pbuf *q = loopdev_take(dev);
    if (!q)
        return 0;
    size_t len = q->len < pbuf_tailroom(pb) ? q->len : pbuf_tailroom(pb);
    memcpy(pb->data, q->data, len);
    pb->len = len;
    pb->flags = q->flags;
    pbuf_free(q);
    return 1;
}

static void loopdev_close(struct netdev *dev)
{
    struct loopdev_priv *lp = dev->priv;
    pbuf_free_chain(lp->head);      /* frames never taken back */
    free(dev);
}

static const struct netdev_ops loopdev_ops = {
    .send = loopdev_send, .recv = loopdev_recv, .close = loopdev_close,
    .xmit = loopdev_xmit, .take = loopdev_take,
};

struct netdev *loopdev_open(struct pbuf_pool *pool, unsigned depth)
{
    struct {
        struct netdev dev;
        struct loopdev_priv priv;
    } *both = calloc(1, sizeof *both);
    if (!both)
        return NULL;
    both->priv.pool = pool;
    both->priv.depth = depth ? depth : 1;
    both->dev.ops = &loopdev_ops;
    both->dev.priv = &both->priv;
    both->dev.mtu = LOOPDEV_MTU;
    both->dev.flags = NETDEV_F_LOOPBACK | NETDEV_F_NO_CSUM;
    memcpy(both->dev.name, "lo", 3);
    return &both->dev;
}

unsigned loopdev_pending(const struct netdev *dev)
{
    return ((const struct loopdev_priv *)dev->priv)->count;
}

const struct loopdev_stats *loopdev_stats(const struct netdev *dev)
{
    return &((const struct loopdev_priv *)dev->priv)->stats;
}
