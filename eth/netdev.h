/* eth/netdev.h - the network device interface under the Ethernet layer.
 *
 * A netdev moves whole Ethernet frames (no FCS) in and out. Implementations:
 * the Linux TAP device (eth/tap.c), the loopback device (eth/loopdev.c), an
 * in-memory pair for tests (eth/memdev.c), and wrappers that stack on any
 * netdev: pcap capture (eth/pcapdev.c), fault injection (eth/faultdev.c). A
 * frame travels in a struct pbuf, whose flags and offload fields carry the
 * small per-frame metadata a device may add or read (PBUF_F_CSUM_VALID,
 * PBUF_F_CSUM_PARTIAL, PBUF_F_GSO_TCPV4).
 *
 * Capabilities. flags says what a device does for the stack: NO_CSUM (it
 * vouches for every checksum: lo), TSO4 (it takes TCP super-frames of up
 * to gso_max bytes of IPv4 datagram with a partial checksum and cuts them
 * into MTU-sized segments: the TAP with offloads). A device whose recv may
 * return frames larger than the MTU (super-frames) says so in gso_max too:
 * netdev_frame_max() is the buffer a receive needs.
 *
 * Most devices copy a frame out on send and into the caller's buffer on
 * recv. A device that can keep the stack's buffer instead (the loopback
 * device: the frame a sender builds is the buffer the receiver parses)
 * also offers xmit, which takes the buffer, and take, which hands a
 * received one back; netdev_xmit and netdev_take work on either kind.
 *
 * Entry points: netdev_send, netdev_xmit, netdev_recv, netdev_take,
 * netdev_fd, netdev_close.
 */
#ifndef TS_ETH_NETDEV_H
#define TS_ETH_NETDEV_H

#include <stdint.h>

#include "core/pbuf.h"
#include "eth/eth_wire.h"

#define NETDEV_NAMELEN 16

/* Capabilities (struct netdev.flags). */
#define NETDEV_F_LOOPBACK 0x1u  /* what is sent comes back in: never a wire,
                                   so no neighbour, no padding, and frames
                                   carry our own (zero) MAC as source */
#define NETDEV_F_NO_CSUM 0x2u   /* the device vouches for transport
                                   checksums (Linux's lo): none computed on
                                   output, none verified on input */
#define NETDEV_F_TSO4 0x4u      /* sends PBUF_F_GSO_TCPV4 super-frames (with
                                   PBUF_F_CSUM_PARTIAL) of up to gso_max
                                   bytes of datagram, cut by the device */

struct netdev;

struct netdev_ops {
    /* Transmit pb->data[0..len). Does not consume pb. 0 or -errno. */
    int (*send)(struct netdev *dev, const struct pbuf *pb);
    /* Receive one frame into pb at pb->data (pb->len is 0 on entry, the
     * tailroom is the limit). 1: got a frame; 0: none waiting; -errno. */
    int (*recv)(struct netdev *dev, struct pbuf *pb);
    /* A file descriptor that polls readable when recv may succeed, or -1. */
    int (*fd)(struct netdev *dev);
    /* Release everything, including the struct netdev itself. */
    void (*close)(struct netdev *dev);
    /* Optional: transmit pb and keep it (consumes pb), for a device that
     * queues the buffer itself instead of copying it out. 0 or -errno. */
    int (*xmit)(struct netdev *dev, struct pbuf *pb);
    /* Optional, with xmit: the next received frame in a buffer the device
     * holds (the caller owns it from now on), or NULL when none waits. */
    struct pbuf *(*take)(struct netdev *dev);
};

struct netdev {
    const struct netdev_ops *ops;
    void *priv;
    char name[NETDEV_NAMELEN];
    uint32_t mtu;               /* largest IP datagram per frame (lo: 65,536,
                                   as on Linux, more than one can be) */
    uint32_t flags;             /* NETDEV_F_* */
    uint32_t gso_max;           /* largest IPv4 datagram of a super-frame,
                                   sent (TSO4) or received; 0: none */
};

/* The largest frame recv may return: the buffer a receive needs. */
static inline size_t netdev_frame_max(const struct netdev *dev)
{
    uint32_t ip = dev->gso_max > dev->mtu ? dev->gso_max : dev->mtu;
    return (size_t)ip + ETH_HLEN;
}

static inline int netdev_send(struct netdev *dev, const struct pbuf *pb)
{
    return dev->ops->send(dev, pb);
}

/* Transmit pb and consume it: a device with xmit keeps the buffer, any
 * other copies it out and it is freed here. 0 or -errno. */
static inline int netdev_xmit(struct netdev *dev, struct pbuf *pb)
{
    if (dev->ops->xmit)
        return dev->ops->xmit(dev, pb);
    int rc = dev->ops->send(dev, pb);
    pbuf_free(pb);
    return rc;
}

static inline int netdev_recv(struct netdev *dev, struct pbuf *pb)
{
    return dev->ops->recv(dev, pb);
}

/* Does dev hand over received buffers of its own (netdev_take)? */
static inline int netdev_can_take(const struct netdev *dev)
{
    return dev->ops->take != NULL;
}

static inline struct pbuf *netdev_take(struct netdev *dev)
{
    return dev->ops->take(dev);
}

static inline int netdev_fd(struct netdev *dev)
{
    return dev->ops->fd ? dev->ops->fd(dev) : -1;
}

static inline void netdev_close(struct netdev *dev)
{
    if (dev)
        dev->ops->close(dev);
}

#endif
