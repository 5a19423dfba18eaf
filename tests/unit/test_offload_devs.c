/* tests/unit/test_offload_devs.c - the netdev wrappers with TAP offloads:
 * the fault injector and the capture over a fake device that moves
 * super-frames (a 60,000-byte TCP segment with a partial checksum and GSO
 * metadata, as the TAP does with offloads on).
 *
 * Fault injector: TX faults take NETDEV_F_TSO4 away (TCP then sends plain
 * segments), RX-only faults keep it; a held (delayed) super-frame comes out
 * whole in both directions with its flags and offload fields; a corrupted
 * one has its checksum finished before the flip, so the checksum catches
 * it. Capture: the super-frame sent keeps its partial checksum for the
 * device while the capture holds it finished; one received is finished in
 * place; libpcap reads both back whole, and each is one frame number
 * (the sent one's on the event path, the received one's in pb->frame).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "eth/faultdev.h"
#include "eth/pcapdev.h"
#include "ipv4/ipv4_wire.h"
#include "tests/unit/unit.h"

#define OD_PAYLOAD 60000u
#define OD_TCP_OFF (ETH_HLEN + IPV4_HLEN)
#define OD_LEN (OD_TCP_OFF + 20u + OD_PAYLOAD)
#define OD_SRC 0x0a000001u
#define OD_DST 0x0a000002u

/* A device that hands out one prepared frame and keeps the last sent. */
struct od_dev {
    struct netdev dev;
    uint8_t rx[OD_LEN];
    int rx_ready;
    uint32_t rx_flags;
    struct pbuf_offload rx_off;     /* csum_start from the frame's start */
    uint8_t tx[OD_LEN];
    size_t tx_len;
    uint32_t tx_flags;
    struct pbuf_offload tx_off;     /* csum_start from the frame's start */
    unsigned ntx;
};

static int od_send(struct netdev *dev, const struct pbuf *pb)
{
    struct od_dev *d = dev->priv;
    if (pb->len > sizeof d->tx)
        return -EMSGSIZE;
    memcpy(d->tx, pb->data, pb->len);
    d->tx_len = pb->len;
    d->tx_flags = pb->flags;
    d->tx_off = pb->off;
    d->tx_off.csum_start -= (uint32_t)pbuf_headroom(pb);
    d->ntx++;
    return 0;
}

static int od_recv(struct netdev *dev, struct pbuf *pb)
{
    struct od_dev *d = dev->priv;
    if (!d->rx_ready || pbuf_tailroom(pb) < OD_LEN)
        return 0;
    memcpy(pb->data, d->rx, OD_LEN);
    pb->len = OD_LEN;
    pb->flags = d->rx_flags;
    pb->off = d->rx_off;
    pb->off.csum_start += (uint32_t)pbuf_headroom(pb);
    d->rx_ready = 0;
    return 1;
}

static void od_close(struct netdev *dev)
{
    (void)dev;              /* static storage: nothing to free */
}

static const struct netdev_ops od_ops = {
    .send = od_send, .recv = od_recv, .close = od_close,
};

static struct od_dev od;

/* The fake TAP, and in buf a super-frame as TCP builds one: the
 * pseudo-header sum in the checksum field. */
static struct netdev *od_open(uint8_t *buf, uint32_t *flags,
                              struct pbuf_offload *off)
{
    memset(&od, 0, sizeof od);
    od.dev.ops = &od_ops;
    od.dev.priv = &od;
    od.dev.mtu = 1500;
    od.dev.flags = NETDEV_F_TSO4;
    od.dev.gso_max = 65535;
    memset(buf, 0, OD_TCP_OFF + 20);
    store_be16(buf + 12, ETH_TYPE_IPV4);
    struct ipv4_hdr ih = { .hlen = IPV4_HLEN, .ttl = 64, .proto = 6,
                           .total_len = (uint16_t)(OD_LEN - ETH_HLEN),
                           .src = OD_SRC, .dst = OD_DST };
    ipv4_emit(&ih, buf + ETH_HLEN);
    buf[OD_TCP_OFF + 12] = 5 << 4;
    for (uint32_t i = 0; i < OD_PAYLOAD; i++)
        buf[OD_TCP_OFF + 20 + i] = (uint8_t)(i * 13 + 1);
    store_be16(buf + OD_TCP_OFF + 16,
               cksum_pseudo_partial(OD_SRC, OD_DST, 6, OD_LEN - OD_TCP_OFF));
    *flags = PBUF_F_CSUM_PARTIAL | PBUF_F_GSO_TCPV4;
    *off = (struct pbuf_offload){ .csum_start = OD_TCP_OFF, .csum_off = 16,
                                  .hdr_len = 20, .gso_size = 1460,
                                  .gso_segs = 42 };
    return &od.dev;
}

/* Does the TCP checksum of frame (finished) verify? */
static int od_cksum_ok(const uint8_t *frame, size_t len)
{
    return cksum_pseudo(OD_SRC, OD_DST, 6, frame + OD_TCP_OFF,
                        len - OD_TCP_OFF) == 0;
}

static uint8_t od_mem[PBUF_LARGE_CAP];

static struct pbuf od_pbuf(const uint8_t *frame, uint32_t flags,
                           const struct pbuf_offload *off)
{
    struct pbuf pb = { .base = od_mem, .data = od_mem + PBUF_HEADROOM,
                       .len = OD_LEN, .cap = sizeof od_mem, .flags = flags,
                       .off = *off };
    memcpy(pb.data, frame, OD_LEN);
    pb.off.csum_start += PBUF_HEADROOM;
    return pb;
}

static struct pbuf od_rx_buf(void)
{
    struct pbuf pb = { .base = od_mem, .data = od_mem + PBUF_HEADROOM,
                       .cap = sizeof od_mem };
    return pb;
}

static uint8_t od_frame[OD_LEN];

static void od_test_faultdev_caps(void)
{
    uint32_t flags;
    struct pbuf_offload off;
    struct faultdev_config tx = { .loss = 0.01 }, rx = { .loss = 0.01,
                                                         .dir = FAULTDEV_RX };
    struct netdev *w = faultdev_wrap(od_open(od_frame, &flags, &off), &tx, NULL);
    CU_ASSERT_FATAL(w != NULL);
    CU_ASSERT_FALSE(w->flags & NETDEV_F_TSO4);
    CU_ASSERT_EQUAL(w->gso_max, 65535);     /* it may still receive them */
    netdev_close(w);
    w = faultdev_wrap(od_open(od_frame, &flags, &off), &rx, NULL);
    CU_ASSERT_FATAL(w != NULL);
    CU_ASSERT(w->flags & NETDEV_F_TSO4);
    netdev_close(w);
}

/* Delayed 10 ms each way: out whole, metadata and all. */
static void od_test_faultdev_holds_super_frames(void)
{
    uint32_t flags;
    struct pbuf_offload off;
    struct faultdev_config cfg = { .delay_ms = 10 };
    struct netdev *w = faultdev_wrap(od_open(od_frame, &flags, &off), &cfg, NULL);
    CU_ASSERT_FATAL(w != NULL);
    faultdev_poll(w, 1000);
    struct pbuf pb = od_pbuf(od_frame, flags, &off);
    CU_ASSERT_EQUAL(netdev_send(w, &pb), 0);
    CU_ASSERT_EQUAL(od.ntx, 0);
    CU_ASSERT_EQUAL(faultdev_stats(w)->tx.too_big, 0);
    faultdev_poll(w, 1010);
    CU_ASSERT_EQUAL_FATAL(od.ntx, 1);
    CU_ASSERT_EQUAL(od.tx_len, OD_LEN);
    CU_ASSERT_EQUAL(memcmp(od.tx, od_frame, OD_LEN), 0);
    CU_ASSERT_EQUAL(od.tx_flags, flags);
    CU_ASSERT_EQUAL(memcmp(&od.tx_off, &off, sizeof off), 0);
    memcpy(od.rx, od_frame, OD_LEN);
    od.rx_flags = flags | PBUF_F_CSUM_VALID;
    od.rx_off = off;
    od.rx_ready = 1;
    pb = od_rx_buf();
    CU_ASSERT_EQUAL(netdev_recv(w, &pb), 0);        /* held */
    faultdev_poll(w, 1020);
    pb = od_rx_buf();
    pb.data += 40;                                  /* another headroom */
    CU_ASSERT_EQUAL_FATAL(netdev_recv(w, &pb), 1);
    CU_ASSERT_EQUAL(pb.len, OD_LEN);
    CU_ASSERT_EQUAL(memcmp(pb.data, od_frame, OD_LEN), 0);
    CU_ASSERT_EQUAL(pb.flags, flags | PBUF_F_CSUM_VALID);
    CU_ASSERT_EQUAL(pb.off.csum_start, PBUF_HEADROOM + 40 + OD_TCP_OFF);
    CU_ASSERT_EQUAL(pb.off.gso_size, 1460);
    netdev_close(w);
}

/* Corrupted on receive: the sum is finished first, so it catches the flip;
 * and the device's word for it is gone. */
static void od_test_faultdev_corrupts_finished(void)
{
    uint32_t flags;
    struct pbuf_offload off;
    struct faultdev_config cfg = { .corrupt = 1.0, .dir = FAULTDEV_RX };
    struct netdev *w = faultdev_wrap(od_open(od_frame, &flags, &off), &cfg, NULL);
    CU_ASSERT_FATAL(w != NULL);
    memcpy(od.rx, od_frame, OD_LEN);
    od.rx_flags = flags | PBUF_F_CSUM_VALID;
    od.rx_off = off;
    od.rx_ready = 1;
    struct pbuf pb = od_rx_buf();
    CU_ASSERT_EQUAL_FATAL(netdev_recv(w, &pb), 1);
    CU_ASSERT_FALSE(pb.flags & (PBUF_F_CSUM_PARTIAL | PBUF_F_CSUM_VALID));
    CU_ASSERT_FALSE(od_cksum_ok(pb.data, pb.len));
    size_t diff = 0, at = 0;
    for (size_t i = 0; i < OD_LEN; i++)
        if (pb.data[i] != od_frame[i] && i != OD_TCP_OFF + 16 &&
            i != OD_TCP_OFF + 17) {
            diff++;
            at = i;
        }
    CU_ASSERT_EQUAL(diff, 1);               /* one byte, one bit */
    pb.data[at] = od_frame[at];
    CU_ASSERT_TRUE(od_cksum_ok(pb.data, pb.len));   /* the sum was right */
    netdev_close(w);
}

/* Read a capture back: the frames' lengths, and how many have a TCP
 * checksum that verifies in *good. */
static int od_read_pcap(const char *path, size_t *lens, int max, int *good)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    CU_ASSERT_FATAL(p != NULL);
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0;
    while (n < max && pcap_next_ex(p, &h, &data) == 1) {
        lens[n++] = h->caplen;
        *good += h->caplen == OD_LEN && od_cksum_ok(data, h->caplen);
    }
    pcap_close(p);
    return n;
}

static void od_test_pcap_finishes_partial(void)
{
    uint32_t flags;
    struct pbuf_offload off;
    char path[] = "/tmp/ts-unit-offload-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    char err[256];
    struct netdev *w = pcapdev_wrap(od_open(od_frame, &flags, &off), path,
                                    err, sizeof err);
    CU_ASSERT_FATAL(w != NULL);
    CU_ASSERT(w->flags & NETDEV_F_TSO4);
    static struct ts_events ev;
    ts_ev_init(&ev, NULL);
    pcapdev_set_events(w, &ev);
    struct pbuf pb = od_pbuf(od_frame, flags, &off);
    CU_ASSERT_EQUAL(netdev_send(w, &pb), 0);
    CU_ASSERT_EQUAL(ev.last_out, 1);        /* one number for 42 segments */
    CU_ASSERT_EQUAL(od.tx_flags, flags);    /* the device got it partial */
    CU_ASSERT_EQUAL(memcmp(od.tx, od_frame, OD_LEN), 0);
    CU_ASSERT_FALSE(od_cksum_ok(od.tx, OD_LEN));
    memcpy(od.rx, od_frame, OD_LEN);
    od.rx_flags = flags | PBUF_F_CSUM_VALID;
    od.rx_off = off;
    od.rx_ready = 1;
    pb = od_rx_buf();
    CU_ASSERT_EQUAL_FATAL(netdev_recv(w, &pb), 1);
    CU_ASSERT_TRUE(od_cksum_ok(pb.data, pb.len));   /* finished in place */
    CU_ASSERT(pb.flags & PBUF_F_CSUM_VALID);
    CU_ASSERT_FALSE(pb.flags & PBUF_F_CSUM_PARTIAL);
    CU_ASSERT_EQUAL(pb.frame, 2);           /* the next frame, whole */
    CU_ASSERT_EQUAL(pcapdev_frames(w), 2);
    netdev_close(w);
    size_t lens[4];
    int good = 0;
    CU_ASSERT_EQUAL_FATAL(od_read_pcap(path, lens, 4, &good), 2);
    CU_ASSERT_EQUAL(lens[0], OD_LEN);       /* whole, not cut */
    CU_ASSERT_EQUAL(lens[1], OD_LEN);
    CU_ASSERT_EQUAL(good, 2);               /* both finished */
    unlink(path);
}

TS_SUITE(offload_devs,
         TS_TEST(od_test_faultdev_caps),
         TS_TEST(od_test_faultdev_holds_super_frames),
         TS_TEST(od_test_faultdev_corrupts_finished),
         TS_TEST(od_test_pcap_finishes_partial))
