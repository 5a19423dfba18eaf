/* eth/netdev.h - the network device interface under the Ethernet layer.
 *
 * A netdev moves whole Ethernet frames (no FCS) in and out. Implementations:
 * the Linux TAP device (eth/tap.c), an in-memory pair for tests
 * (eth/memdev.c), and wrappers that stack on any netdev: pcap capture
 * (eth/pcapdev.c). A frame travels in a struct pbuf, whose flags carry the
 * small per-frame metadata a device may add (PBUF_F_CSUM_VALID).
 *
 * Entry points: netdev_send, netdev_recv, netdev_fd, netdev_close.
 */
#ifndef TS_ETH_NETDEV_H
#define TS_ETH_NETDEV_H

#include <stdint.h>

#include "core/pbuf.h"

#define NETDEV_NAMELEN 16

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
};

struct netdev {
    const struct netdev_ops *ops;
    void *priv;
    char name[NETDEV_NAMELEN];
    uint16_t mtu;               /* largest IP datagram per frame */
};

static inline int netdev_send(struct netdev *dev, const struct pbuf *pb)
{
    return dev->ops->send(dev, pb);
}

static inline int netdev_recv(struct netdev *dev, struct pbuf *pb)
{
    return dev->ops->recv(dev, pb);
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
