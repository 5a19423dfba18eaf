/* tests/unit/test_tso.c - TCP's super-segments (TSO) on the two-stack
 * harness. A's interface says it cuts TCP super-frames (NETDEV_F_TSO4,
 * as the TAP with offloads does), and a small device of the test's own
 * under A's Ethernet layer cuts them as Linux's GSO does (each piece with
 * its own IP total length, ID and checksum, sequence number, TCP checksum
 * made from the partial one; FIN and PSH on the last piece only) before
 * the wire. Checked: A sends super-segments whose metadata is what the
 * kernel needs (partial checksum over the full length, gso_size = the
 * MSS, the header length), no piece on the wire is larger than the MTU,
 * IP IDs on the wire run on without a gap or a repeat, and 1 MiB arrives
 * byte-exact at B (its reader checks every byte).
 */
#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define TS_PORT 5003
#define CUT_MAX 1600

struct cutdev {
    struct netdev dev;
    struct netdev *inner;       /* the memdev end under A */
    uint32_t mss;               /* what gso_size must be */
    unsigned supers, pieces, bad, plain;
    uint32_t max_payload;       /* largest super-segment's data */
    int have_id;
    uint16_t next_id;           /* the IP ID the next datagram must carry */
    size_t max_wire;            /* largest frame put on the wire */
};

static struct cutdev cut;

static void cut_wire(struct cutdev *d, uint8_t *f, size_t len)
{
    if (load_be16(f + 12) == ETH_TYPE_IPV4) {
        uint16_t id = load_be16(f + ETH_HLEN + 4);
        if (d->have_id && id != d->next_id)
            d->bad++;
        d->have_id = 1;
        d->next_id = (uint16_t)(id + 1);
    }
    if (len > d->max_wire)
        d->max_wire = len;
    struct pbuf pb = { .base = f, .data = f, .len = len, .cap = len };
    netdev_send(d->inner, &pb);
}

/* Is the super-frame's metadata what the kernel needs? */
static int cut_meta_ok(const struct cutdev *d, const struct pbuf *pb,
                       size_t ts, size_t hl)
{
    const uint8_t *f = pb->data;
    uint32_t src = load_be32(f + ETH_HLEN + 12), dst = load_be32(f + ETH_HLEN + 16);
    return (pb->flags & PBUF_F_CSUM_PARTIAL) &&
           pb->off.csum_start - pbuf_headroom(pb) == ts &&
           pb->off.csum_off == 16 && pb->off.hdr_len == hl &&
           pb->off.gso_size == d->mss - (hl - 20) &&
           load_be16(f + ts + 16) ==
               cksum_pseudo_partial(src, dst, 6, pb->len - ts);
}

/* Cut one super-frame into pieces of gso_size, as tcp4_gso_segment. */
static void cut_super(struct cutdev *d, const struct pbuf *pb)
{
    const uint8_t *f = pb->data;
    size_t ts = ETH_HLEN + (size_t)(f[ETH_HLEN] & 0xf) * 4;
    size_t hl = (size_t)(f[ts + 12] >> 4) * 4, hdr = ts + hl;
    size_t data = pb->len - hdr, gso = pb->off.gso_size;
    if (!cut_meta_ok(d, pb, ts, hl) || gso == 0) {
        d->bad++;
        return;
    }
    d->supers++;
    if (data > d->max_payload)
        d->max_payload = (uint32_t)data;
    uint16_t id = load_be16(f + ETH_HLEN + 4);
    uint32_t seq = load_be32(f + ts + 4);
    uint8_t flags = f[ts + 13];
    for (size_t off = 0, k = 0; off < data; off += gso, k++) {
        uint8_t p[CUT_MAX];
        size_t n = data - off < gso ? data - off : gso;
        if (hdr + n > sizeof p) {
            d->bad++;
            return;
        }
        memcpy(p, f, hdr);
        memcpy(p + hdr, f + hdr + off, n);
        store_be16(p + ETH_HLEN + 2, (uint16_t)(hdr - ETH_HLEN + n));
        store_be16(p + ETH_HLEN + 4, (uint16_t)(id + k));
        store_be16(p + ETH_HLEN + 10, 0);
        store_be16(p + ETH_HLEN + 10, inet_cksum(p + ETH_HLEN, ts - ETH_HLEN));
        store_be32(p + ts + 4, seq + (uint32_t)off);
        if (off + n < data)
            p[ts + 13] = flags & (uint8_t)~(TCP_FIN | TCP_PSH);
        store_be16(p + ts + 16, 0);
        store_be16(p + ts + 16, cksum_pseudo(load_be32(p + ETH_HLEN + 12),
                                             load_be32(p + ETH_HLEN + 16), 6,
                                             p + ts, hl + n));
        d->pieces++;
        cut_wire(d, p, hdr + n);
    }
}

static int cut_send(struct netdev *dev, const struct pbuf *pb)
{
    struct cutdev *d = dev->priv;
    if (pb->flags & PBUF_F_GSO_TCPV4) {
        cut_super(d, pb);
        return 0;
    }
    if (pb->flags & PBUF_F_CSUM_PARTIAL)
        d->bad++;               /* plain frames go with their sums done */
    uint8_t p[CUT_MAX];
    if (pb->len > sizeof p) {
        d->bad++;
        return -EMSGSIZE;
    }
    d->plain++;
    memcpy(p, pb->data, pb->len);
    cut_wire(d, p, pb->len);
    return 0;
}

static int cut_recv(struct netdev *dev, struct pbuf *pb)
{
    return netdev_recv(((struct cutdev *)dev->priv)->inner, pb);
}

static void cut_close(struct netdev *dev)
{
    (void)dev;                  /* the stack closes the memdev itself */
}

static const struct netdev_ops cut_ops = {
    .send = cut_send, .recv = cut_recv, .close = cut_close,
};

/* A's interface cuts super-frames from now on. */
static void cut_install(struct th *h, uint32_t mss)
{
    struct stack *s = &h->s[TH_A];
    memset(&cut, 0, sizeof cut);
    cut.dev = *s->eth.dev;
    cut.dev.ops = &cut_ops;
    cut.dev.priv = &cut;
    cut.dev.flags |= NETDEV_F_TSO4;
    cut.dev.gso_max = 65535;
    cut.inner = s->eth.dev;
    cut.mss = mss;
    s->eth.dev = &cut.dev;
    s->ip.ifs[0].flags |= NETDEV_F_TSO4;
    s->ip.ifs[0].gso_max = 65535;
}

static void tso_test_bulk_in_super_segments(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TS_PORT, &a, &b);
    cut_install(h, a->c->mss);
    const uint64_t n = 1u << 20;
    th_send_stream(a, n, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 60000));
    CU_ASSERT_EQUAL(b->rx_bytes, n);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(b->rx_eof, 1);
    CU_ASSERT_EQUAL(cut.bad, 0);
    CU_ASSERT(cut.supers > 0);
    CU_ASSERT(cut.pieces > cut.supers);
    CU_ASSERT(cut.max_payload > a->c->mss);
    CU_ASSERT(cut.max_wire <= ETH_HLEN + 1500);
    CU_ASSERT_EQUAL(h->s[TH_A].tcp.stats.tx_super_segments, cut.supers);
    CU_ASSERT_EQUAL(h->s[TH_A].tcp.stats.retransmits, 0);
    th_free(h);
}

/* A piece of a super-segment lost on the wire (the receiver sees a hole
 * in the middle of what was one segment for the sender): it is sent again
 * and B still gets every byte in order. */
static void tso_test_loss_resends_plain(void)
{
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, TS_PORT, &a, &b);
    cut_install(h, a->c->mss);
    th_rule_add(h, TH_A_TO_B, 0, 0, 1, 3, 1, TH_DROP);  /* the 4th data piece */
    const uint64_t n = 256u << 10;
    th_send_stream(a, n, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 60000));
    CU_ASSERT_EQUAL(b->rx_bytes, n);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    CU_ASSERT_EQUAL(cut.bad, 0);
    CU_ASSERT(cut.supers > 0);
    CU_ASSERT(h->s[TH_A].tcp.stats.retransmits >= 1);
    th_free(h);
}

TS_SUITE(tso,
         TS_TEST(tso_test_bulk_in_super_segments),
         TS_TEST(tso_test_loss_resends_plain))
