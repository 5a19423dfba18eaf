/* eth/tap.c - TAP netdev: one read() per frame in, one write() per frame
 * out; with offloads, one readv()/writev() per frame or super-frame, the
 * virtio-net header in a small buffer of its own and the frame straight in
 * the pool buffer (no copy).
 *
 * The fd is non-blocking; the event loop waits on it with epoll/poll, so a
 * read that finds nothing returns 0 ("none waiting") rather than blocking.
 */
#include "eth/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "eth/vnet_wire.h"

/* Frames with a refused header one recv skips before it gives up (0). */
#define TAP_BAD_SKIP 8

#define TAP_C(f, h) TS_COUNTER(struct tap_stats, f, h)
const struct ts_counter_desc tap_counter_desc[] = {
    TAP_C(rx_super_frames, "TCP super-frames read (the kernel's GSO, up to 64 KB)"),
    TAP_C(rx_csum_partial, "frames read with a partial checksum (kernel's own data)"),
    TAP_C(rx_csum_valid, "frames read whose checksum the kernel vouched for"),
    TAP_C(rx_bad_vnet, "frames dropped: virtio-net header refused"),
    TAP_C(tx_super_frames, "TCP super-frames written for the kernel to cut"),
    TAP_C(tx_bad_vnet, "frames not sent: offload metadata did not fit the frame"),
};
const size_t tap_counter_count = TS_COUNTERS_LEN(tap_counter_desc);

struct tap_priv {
    int fd;
    int vnet;                   /* every frame behind a virtio-net header */
    int offload_err;            /* why the offloads are off, or 0 */
    struct tap_stats stats;
};

static int tap_send(struct netdev *dev, const struct pbuf *pb)
{
    struct tap_priv *tp = dev->priv;
    ssize_t n;
    size_t want = pb->len;
    if (tp->vnet) {
        struct vnet_hdr h;
        uint8_t hb[VNET_HLEN];
        if (vnet_from_pbuf(pb, &h) != VNET_OK) {
            tp->stats.tx_bad_vnet++;
            return -EINVAL;
        }
        if (h.gso_type != VNET_GSO_NONE)
            tp->stats.tx_super_frames++;
        vnet_emit(&h, hb);
        struct iovec iov[2] = {
            { .iov_base = hb, .iov_len = sizeof hb },
            { .iov_base = pb->data, .iov_len = pb->len },
        };
        n = writev(tp->fd, iov, 2);
        want += sizeof hb;
    } else {
        n = write(tp->fd, pb->data, pb->len);
    }
    if (n < 0)
        return -errno;
    return (size_t)n == want ? 0 : -EIO;
}

/* Record what the header says about the frame now in pb: 1, or 0 when it
 * is refused (counted). */
static int tap_take_vnet(struct tap_priv *tp, const uint8_t *hb, size_t n,
                         struct pbuf *pb)
{
    struct vnet_hdr h;
    if (vnet_parse(hb, n, &h) != VNET_OK || vnet_to_pbuf(&h, pb) != VNET_OK) {
        tp->stats.rx_bad_vnet++;
        return 0;
    }
    if (pb->flags & PBUF_F_GSO_TCPV4)
        tp->stats.rx_super_frames++;
    if (pb->flags & PBUF_F_CSUM_PARTIAL)
        tp->stats.rx_csum_partial++;
    else if (pb->flags & PBUF_F_CSUM_VALID)
        tp->stats.rx_csum_valid++;
    return 1;
}

static int tap_recv_vnet(struct tap_priv *tp, struct pbuf *pb)
{
    for (int i = 0; i < TAP_BAD_SKIP; i++) {
        uint8_t hb[VNET_HLEN];
        struct iovec iov[2] = {
            { .iov_base = hb, .iov_len = sizeof hb },
            { .iov_base = pb->data, .iov_len = pbuf_tailroom(pb) },
        };
        ssize_t n = readv(tp->fd, iov, 2);
        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
        size_t got = (size_t)n;
        pb->len = got > sizeof hb ? got - sizeof hb : 0;
        if (tap_take_vnet(tp, hb, got < sizeof hb ? got : sizeof hb, pb))
            return 1;
        pb->len = 0;
    }
    return 0;
}

static int tap_recv(struct netdev *dev, struct pbuf *pb)
{
    struct tap_priv *tp = dev->priv;
    if (tp->vnet)
        return tap_recv_vnet(tp, pb);
    ssize_t n = read(tp->fd, pb->data, pbuf_tailroom(pb));
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    pb->len = (size_t)n;
    return 1;
}

static int tap_fd(struct netdev *dev)
{
    return ((struct tap_priv *)dev->priv)->fd;
}

static void tap_close(struct netdev *dev)
{
    struct tap_priv *tp = dev->priv;
    close(tp->fd);
    free(dev);
}

static const struct netdev_ops tap_ops = {
    .send = tap_send, .recv = tap_recv, .fd = tap_fd, .close = tap_close,
};

/* Attach to or create TAP name with ifr_flags. The fd, or -errno. */
static int tap_attach(const char *name, short flags, char ifname[IFNAMSIZ])
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = flags;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
    return fd;
}

static int tap_host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* The header's size, its byte order (vnet_wire reads little-endian; a
 * kernel without TUNSETVNETLE uses the host's, fine on a little-endian
 * host), then the offloads we take: partial checksums and TCPv4
 * super-frames. TUN_F_TSO_ECN stays off: the stack does not negotiate ECN,
 * so the kernel never has a CWR to carry. 0 or the -errno of the refusal. */
static int tap_offload_on(int fd)
{
    int sz = VNET_HLEN, le = 1;
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
        return -errno;
    if (ioctl(fd, TUNSETVNETLE, &le) < 0 && !tap_host_is_le())
        return -errno;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
        return -errno;
    return 0;
}

/* The TAP with offloads when asked and granted, else plain. The fd or
 * -errno; *vnet and *why say which. */
static int tap_attach_best(const char *name, unsigned flags,
                           char ifname[IFNAMSIZ], int *vnet, int *why)
{
    *vnet = 0;
    *why = 0;
    if (flags & TAP_OFFLOAD) {
        int fd = tap_attach(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, ifname);
        if (fd >= 0 && (*why = tap_offload_on(fd)) == 0) {
            *vnet = 1;
            return fd;
        }
        if (fd >= 0)
            close(fd);      /* reopened plain below: no header at all */
        else if (fd == -EPERM || fd == -ENOENT || fd == -EBUSY)
            return fd;      /* not about offloads: the plain open fails too */
        else
            *why = fd;
    }
    int fd = tap_attach(name, IFF_TAP | IFF_NO_PI, ifname);
    /* A persistent TAP keeps the offloads an earlier user turned on, and
     * the kernel would go on handing super-frames to a reader that has no
     * header to learn their size from: turn them off. */
    if (fd >= 0)
        (void)ioctl(fd, TUNSETOFFLOAD, 0UL);
    return fd;
}

struct netdev *tap_open(const char *name, uint16_t mtu, unsigned flags,
                        int *err)
{
    if (strlen(name) >= IFNAMSIZ) {
        *err = -ENAMETOOLONG;
        return NULL;
    }
    char ifname[IFNAMSIZ];
    int vnet, why;
    int fd = tap_attach_best(name, flags, ifname, &vnet, &why);
    if (fd < 0) {
        *err = fd;
        return NULL;
    }
    /* One allocation holds the netdev and its private part. */
    struct {
        struct netdev dev;
        struct tap_priv priv;
    } *both = calloc(1, sizeof *both);
    if (!both) {
        close(fd);
        *err = -ENOMEM;
        return NULL;
    }
    both->priv.fd = fd;
    both->priv.vnet = vnet;
    both->priv.offload_err = why;
    both->dev.ops = &tap_ops;
    both->dev.priv = &both->priv;
    both->dev.mtu = mtu;
    if (vnet) {
        both->dev.flags = NETDEV_F_TSO4;
        both->dev.gso_max = TAP_GSO_MAX;
    }
    snprintf(both->dev.name, sizeof both->dev.name, "%s", ifname);
    return &both->dev;
}

int tap_offload_error(const struct netdev *dev)
{
    return ((const struct tap_priv *)dev->priv)->offload_err;
}

const struct tap_stats *tap_stats(const struct netdev *dev)
{
    return &((const struct tap_priv *)dev->priv)->stats;
}

static int tap_ioctl(int sock, unsigned long req, struct ifreq *ifr)
{
    return ioctl(sock, req, ifr) < 0 ? -errno : 0;
}

static void tap_set_sin(struct sockaddr *sa, uint32_t addr)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    memcpy(sa, &sin, sizeof sin);
}

/* Writing the sysctl file is what `sysctl net.ipv6.conf.X.disable_ipv6=1`
 * does. A kernel without IPv6 has no such file: nothing to disable. */
static void tap_disable_ipv6(const char *name)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("1\n", f);
        fclose(f);
    }
}

int tap_configure_host(const char *name, uint32_t addr, uint8_t prefix,
                       uint16_t mtu)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    tap_disable_ipv6(name);
    int rc;
    ifr.ifr_mtu = mtu;
    if ((rc = tap_ioctl(sock, SIOCSIFMTU, &ifr)) < 0)
        goto out;
    tap_set_sin(&ifr.ifr_addr, addr);
    if ((rc = tap_ioctl(sock, SIOCSIFADDR, &ifr)) < 0)
        goto out;
    tap_set_sin(&ifr.ifr_netmask, prefix ? 0xffffffffu << (32 - prefix) : 0);
    if ((rc = tap_ioctl(sock, SIOCSIFNETMASK, &ifr)) < 0)
        goto out;
    if ((rc = tap_ioctl(sock, SIOCGIFFLAGS, &ifr)) < 0)
        goto out;
    ifr.ifr_flags |= IFF_UP;
    rc = tap_ioctl(sock, SIOCSIFFLAGS, &ifr);
out:
    close(sock);
    return rc;
}
