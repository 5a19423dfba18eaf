/* eth/pcapdev.c - capture wrapper: pcap_dump() each frame, then pass it on.
 *
 * pcap_dump() writes through stdio, so frames are batched into the file's
 * buffer: no syscall per frame beyond the frame's own read or write. On a
 * loopback device a frame is captured once, as it is sent: the frame that
 * comes back in is the same buffer (tcpdump -i lo shows each packet once
 * too).
 *
 * TAP offloads: the capture shows TCP super-frames as they cross the
 * device (up to 64 KB, IP total length and all, as tcpdump on a GSO/GRO
 * interface shows them); tshark and Wireshark read them like any frame. A
 * frame whose checksum is still partial (the pseudo-header sum only: ours
 * before the kernel cuts them, the kernel's own) is written with the sum
 * finished, so the capture has no bad checksum the wire would not have:
 * received frames are finished in place (the stack does not read that
 * field of a frame the device vouches for), sent ones in a copy.
 */
#include "eth/pcapdev.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/cksum.h"

struct pcapdev_priv {
    struct netdev *inner;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint64_t frames;
    uint8_t *copy;          /* PBUF_LARGE_CAP bytes: a sent frame finished */
    struct ts_events *ev;   /* told the number of each frame sent */
};

static void pcapdev_dump_bytes(struct pcapdev_priv *pp, const uint8_t *p,
                               size_t len)
{
    struct pcap_pkthdr h;
    gettimeofday(&h.ts, NULL);
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)pp->dumper, &h, p);
    pp->frames++;
}

/* A frame we send: a partial checksum is finished in a copy (the device,
 * the kernel, needs the partial one). */
static void pcapdev_dump(struct pcapdev_priv *pp, const struct pbuf *pb)
{
    if ((pb->flags & PBUF_F_CSUM_PARTIAL) && pp->copy &&
        pb->len <= PBUF_LARGE_CAP && pb->off.csum_start >= pbuf_headroom(pb)) {
        memcpy(pp->copy, pb->data, pb->len);
        cksum_finish(pp->copy, pb->len, pb->off.csum_start - pbuf_headroom(pb),
                     pb->off.csum_off);
        pcapdev_dump_bytes(pp, pp->copy, pb->len);
        return;
    }
    pcapdev_dump_bytes(pp, pb->data, pb->len);
}

static int pcapdev_send(struct netdev *dev, const struct pbuf *pb)
{
    struct pcapdev_priv *pp = dev->priv;
    pcapdev_dump(pp, pb);
    ts_ev_frame_out(pp->ev, pp->frames);
    return netdev_send(pp->inner, pb);
}

static int pcapdev_xmit(struct netdev *dev, struct pbuf *pb)
{
    struct pcapdev_priv *pp = dev->priv;
    pcapdev_dump(pp, pb);
    ts_ev_frame_out(pp->ev, pp->frames);
    return netdev_xmit(pp->inner, pb);
}

static int pcapdev_recv(struct netdev *dev, struct pbuf *pb)
{
    struct pcapdev_priv *pp = dev->priv;
    int rc = netdev_recv(pp->inner, pb);
    if (rc > 0 && !(dev->flags & NETDEV_F_LOOPBACK)) {
        pbuf_csum_finish(pb);   /* received: ours to finish in place */
        pcapdev_dump(pp, pb);
        pb->frame = pp->frames;
    }
    return rc;
}

static struct pbuf *pcapdev_take(struct netdev *dev)
{
    struct pcapdev_priv *pp = dev->priv;
    struct pbuf *pb = netdev_take(pp->inner);
    if (pb && !(dev->flags & NETDEV_F_LOOPBACK)) {
        pcapdev_dump(pp, pb);
        pb->frame = pp->frames;
    }
    return pb;
}

static int pcapdev_fd(struct netdev *dev)
{
    return netdev_fd(((struct pcapdev_priv *)dev->priv)->inner);
}

static void pcapdev_close(struct netdev *dev)
{
    struct pcapdev_priv *pp = dev->priv;
    pcap_dump_close(pp->dumper);    /* flushes */
    pcap_close(pp->dead);
    netdev_close(pp->inner);
    free(pp->copy);
    free(dev);
}

/* xmit and take only over a device that has them, so that netdev_xmit and
 * netdev_take pick the same path through the wrapper as without it. */
static const struct netdev_ops pcapdev_ops = {
    .send = pcapdev_send, .recv = pcapdev_recv, .fd = pcapdev_fd,
    .close = pcapdev_close,
};
static const struct netdev_ops pcapdev_ops_take = {
    .send = pcapdev_send, .recv = pcapdev_recv, .fd = pcapdev_fd,
    .close = pcapdev_close, .xmit = pcapdev_xmit, .take = pcapdev_take,
};

struct netdev *pcapdev_wrap(struct netdev *inner, const char *path,
                            char *errbuf, size_t errlen)
{
    struct {
        struct netdev dev;
        struct pcapdev_priv priv;
    } *both = calloc(1, sizeof *both);
    if (!both) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    struct pcapdev_priv *pp = &both->priv;
    pp->inner = inner;
    if ((inner->flags & NETDEV_F_TSO4) &&
        !(pp->copy = malloc(PBUF_LARGE_CAP))) {
        snprintf(errbuf, errlen, "out of memory");
        free(both);
        return NULL;
    }
    pp->dead = pcap_open_dead(DLT_EN10MB, PBUF_LARGE_CAP);
    if (!pp->dead) {
        snprintf(errbuf, errlen, "pcap_open_dead failed");
        free(pp->copy);
        free(both);
        return NULL;
    }
    pp->dumper = pcap_dump_open(pp->dead, path);
    if (!pp->dumper) {
        snprintf(errbuf, errlen, "%s", pcap_geterr(pp->dead));
        pcap_close(pp->dead);
        free(pp->copy);
        free(both);
        return NULL;
    }
    both->dev = *inner;     /* name, MTU and flags carry over */
    both->dev.ops = netdev_can_take(inner) ? &pcapdev_ops_take : &pcapdev_ops;
    both->dev.priv = pp;
    return &both->dev;
}

void pcapdev_flush(struct netdev *dev)
{
    struct pcapdev_priv *pp = dev->priv;
    pcap_dump_flush(pp->dumper);
}

void pcapdev_set_events(struct netdev *dev, struct ts_events *ev)
{
    struct pcapdev_priv *pp = dev->priv;
    pp->ev = ev;
}

uint64_t pcapdev_frames(const struct netdev *dev)
{
    const struct pcapdev_priv *pp = dev->priv;
    return pp->frames;
}
