/* eth/loopdev.h - the loopback device: what the stack sends comes back in.
 *
 * The netdev under the `lo` interface (127.0.0.1/8, MTU 65,536, as Linux's
 * lo). Frames keep a (zero) Ethernet header, so a loopback frame enters the
 * stack through the same input path as a TAP frame, a capture of it is
 * plain LINKTYPE_ETHERNET (what tcpdump -i lo writes on Linux), and no
 * layer needs a second way in.
 *
 * No copy: netdev_xmit queues the sender's own buffer and netdev_take hands
 * that buffer to the stack's receive path, which drains the queue from its
 * own loop, never from inside output: a protocol that sends to itself is
 * never re-entered (TCP does not recurse into TCP). The queue holds at most
 * `depth` frames; past that a frame is dropped and counted, like a full
 * device queue. Frames taken back carry PBUF_F_CSUM_VALID: the device
 * vouches for transport checksums (NETDEV_F_NO_CSUM), as Linux's lo does.
 *
 * netdev_send/netdev_recv work too, by copying (for wrappers and tests that
 * use the copying interface): send copies into a buffer of the pool given
 * at open, recv copies out and frees the queued buffer. netdev_fd is -1:
 * the stack looks at loopdev_pending() instead of waiting on a descriptor.
 *
 * Entry points: loopdev_open, loopdev_pending, loopdev_stats,
 * loopdev_counter_desc.
 */
#ifndef TS_ETH_LOOPDEV_H
#define TS_ETH_LOOPDEV_H

#include <stdint.h>

#include "core/counters.h"
#include "core/pbuf.h"
#include "eth/netdev.h"

#define LOOPDEV_MTU 65536u      /* Linux's lo */

struct loopdev_stats {
    uint64_t drop_queue_full;   /* frames dropped: depth frames waiting */
    uint64_t drop_no_buffer;    /* netdev_send copies refused: pool empty */
    uint64_t queue_max;         /* most frames waiting at once */
};

extern const struct ts_counter_desc loopdev_counter_desc[];
extern const size_t loopdev_counter_count;

/* A loopback device named "lo" holding at most depth frames; pool serves
 * the copies of netdev_send. NULL when out of memory. */
struct netdev *loopdev_open(struct pbuf_pool *pool, unsigned depth);
/* Frames waiting to be taken back. */
unsigned loopdev_pending(const struct netdev *dev);
const struct loopdev_stats *loopdev_stats(const struct netdev *dev);

#endif
