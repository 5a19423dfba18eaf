/* eth/memdev.h - two netdevs joined back to back in memory, for tests.
 *
 * A frame sent on one end is queued (copied) for the other end's recv. Each
 * direction holds at most `depth` frames; a send to a full queue is dropped
 * and counted, like a full device queue. A test may install a filter that
 * sees (and may alter or drop) every frame as it is sent. netdev_fd() is an
 * eventfd, readable while frames wait, so a stack thread can wait on it;
 * single-threaded tests just call the stack's receive path themselves. The
 * pair is thread-safe (one lock for both directions).
 * Entry points: memdev_pair, memdev_set_filter, memdev_pending,
 * memdev_dropped.
 */
#ifndef TS_ETH_MEMDEV_H
#define TS_ETH_MEMDEV_H

#include <stddef.h>
#include <stdint.h>

#include "eth/netdev.h"

/* Return 1 to deliver the frame (possibly changed, *len <= cap), 0 to drop. */
typedef int (*memdev_filter_fn)(void *ctx, uint8_t *frame, size_t *len,
                                size_t cap);

/* Create a joined pair. 0 or -ENOMEM. Close each end with netdev_close; the
 * shared state goes with the second close. */
int memdev_pair(struct netdev **a, struct netdev **b, unsigned depth,
                uint16_t mtu);
void memdev_set_filter(struct netdev *dev, memdev_filter_fn fn, void *ctx);
/* Frames waiting to be received by dev. */
unsigned memdev_pending(const struct netdev *dev);
/* Frames dropped on send from dev (queue full or filter). */
uint64_t memdev_dropped(const struct netdev *dev);

#endif
