/* eth/tap.c - TAP netdev: one read() per frame in, one write() per frame out.
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
#include <unistd.h>

struct tap_priv {
    int fd;
};

static int tap_send(struct netdev *dev, const struct pbuf *pb)
{
    struct tap_priv *tp = dev->priv;
    ssize_t n = write(tp->fd, pb->data, pb->len);
    if (n < 0)
        return -errno;
    return (size_t)n == pb->len ? 0 : -EIO;
}

static int tap_recv(struct netdev *dev, struct pbuf *pb)
{
    struct tap_priv *tp = dev->priv;
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

struct netdev *tap_open(const char *name, uint16_t mtu, int *err)
{
    if (strlen(name) >= IFNAMSIZ) {
        *err = -ENAMETOOLONG;
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        *err = -errno;
        close(fd);
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
    both->dev.ops = &tap_ops;
    both->dev.priv = &both->priv;
    both->dev.mtu = mtu;
    snprintf(both->dev.name, sizeof both->dev.name, "%s", ifr.ifr_name);
    return &both->dev;
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
