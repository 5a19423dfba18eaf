/* tests/fuzz/fz.c - the fuzz targets' stack on a wire, its clock, the
 * check of every frame it sends, and the peer's frame builders (fz.h). */
#include "tests/fuzz/fz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/cksum.h"
#include "core/clock.h"
#include "eth/eth_wire.h"
#include "eth/memdev.h"
#include "ipv4/icmp_wire.h"
#include "ipv4/ipv4_wire.h"
#include "tcp/tcp_wire.h"
#include "udp/udp_wire.h"

#define FZ_RX_BUDGET 64
#define FZ_DRAIN_MAX 4096           /* frames per drain: far above a burst */
#define FZ_ADVANCE_STEPS 500        /* timer steps per fz_advance */

const uint8_t fz_my_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x02 };
const uint8_t fz_peer_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01 };

/* ---- the fuzzer's bytes ---------------------------------------------- */

uint8_t fz_u8(struct fz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

uint32_t fz_u32(struct fz_in *in)
{
    uint32_t hi = fz_u16(in);
    return hi << 16 | fz_u16(in);
}

size_t fz_bytes(struct fz_in *in, uint8_t *buf, size_t max)
{
    size_t n = in->n < max ? in->n : max;
    if (n)
        memcpy(buf, in->p, n);
    in->p += n;
    in->n -= n;
    return n;
}

/* ---- the stack --------------------------------------------------------- */

void fz_fail(const char *what, long a, long b)
{
    fprintf(stderr, "fuzz invariant broken: %s (%ld, %ld)\n", what, a, b);
    abort();
}

void fz_env_init(struct fz_env *e, uint32_t bufsize, unsigned nlarge,
                 int no_arp)
{
    memset(e, 0, sizeof *e);
    fz_check_reset();
    struct stack_config cfg;
    stack_config_default(&cfg);
    memcpy(cfg.mac, fz_my_mac, 6);
    cfg.ip.addr = FZ_MY_IP;
    /* Small pools: running dry is a path to fuzz too, and an allocation
     * the sanitizer's allocator caches (<= 128 KiB) keeps runs fast. */
    cfg.pool_small = 24;
    cfg.pool_large = nlarge;
    cfg.seed = 7;
    cfg.tcp.sndbuf = bufsize;
    cfg.tcp.rcvbuf = bufsize;
    cfg.tcp.max_conns = 16;
    cfg.log_out = NULL;
    struct netdev *dev;
    if (memdev_pair(&dev, &e->peer, 32, 1500) < 0 ||
        stack_init(&e->s, &cfg, dev) < 0)
        fz_fail("fz_env_init", 0, 0);
    e->now = FZ_T0;
    if (!no_arp) {
        static const uint8_t zero[6];
        uint8_t f[64];
        size_t n = fz_arp_frame(f, ARP_OP_REQUEST, fz_peer_mac, FZ_PEER_IP,
                                zero, FZ_MY_IP);
        fz_send(e, f, n);
    }
}

void fz_env_free(struct fz_env *e)
{
    fz_drain(e);
    stack_destroy(&e->s);
    netdev_close(e->peer);
}

void fz_send(struct fz_env *e, const uint8_t *frame, size_t len)
{
    uint8_t copy[PBUF_SMALL_CAP];
    if (len > FZ_FRAME_MAX)
        len = FZ_FRAME_MAX;
    memcpy(copy, frame, len);
    struct pbuf pb = { .data = copy, .base = copy, .len = len,
                       .cap = sizeof copy };
    netdev_send(e->peer, &pb);
    stack_rx(&e->s, FZ_RX_BUDGET, e->now);
    fz_drain(e);
}

/* ---- what the stack sends ------------------------------------------------ */

static void fz_check_l4(const uint8_t *ip, const struct ipv4_hdr *h)
{
    const uint8_t *p = ip + h->hlen;
    size_t n = h->total_len - h->hlen;
    if (h->frag & (IPV4_MF | IPV4_OFF_MASK))
        return;                     /* a fragment: its sum covers the whole */
    if (h->proto == IPV4_PROTO_TCP) {
        struct tcp_hdr th;
        if (tcp_parse(p, n, &th) != TCP_OK)
            fz_fail("sent TCP segment does not parse", (long)n, 0);
        if (th.opts.malformed)
            fz_fail("sent TCP options malformed", th.hlen, 0);
        if (cksum_pseudo(h->src, h->dst, IPV4_PROTO_TCP, p, n) != 0)
            fz_fail("sent TCP checksum wrong", (long)n, 0);
    } else if (h->proto == IPV4_PROTO_UDP) {
        struct udp_hdr uh;
        if (udp_parse(p, n, &uh) != UDP_OK || uh.len != n)
            fz_fail("sent UDP datagram does not parse", (long)n, 0);
        if (uh.cksum && cksum_pseudo(h->src, h->dst, IPV4_PROTO_UDP, p, n) != 0)
            fz_fail("sent UDP checksum wrong", (long)n, 0);
    } else if (h->proto == IPV4_PROTO_ICMP) {
        if (n < ICMP_HLEN || inet_cksum(p, n) != 0)
            fz_fail("sent ICMP message bad", (long)n, 0);
    } else {
        fz_fail("sent an unknown protocol", h->proto, 0);
    }
}

/* Every frame the stack emits must be well formed, whatever it was fed. */
void fz_check_frame(const uint8_t *f, size_t len)
{
    struct eth_hdr eh;
    if (len > FZ_FRAME_MAX || eth_parse(f, len, &eh) < 0)
        fz_fail("sent frame too long or too short", (long)len, 0);
    if (memcmp(eh.src, fz_my_mac, 6) != 0)
        fz_fail("sent frame not from our MAC", 0, 0);
    const uint8_t *p = f + ETH_HLEN;
    size_t n = len - ETH_HLEN;
    if (eh.type == ETH_TYPE_ARP) {
        struct arp_pkt a;
        if (arp_parse(p, n, &a) != ARP_OK)
            fz_fail("sent ARP does not parse", (long)n, 0);
        return;
    }
    if (eh.type != ETH_TYPE_IPV4)
        fz_fail("sent an unknown ethertype", eh.type, 0);
    if (n < IPV4_HLEN || (p[0] & 0x0f) * 4u > n)
        fz_fail("sent IPv4 header truncated", (long)n, 0);
    if (inet_cksum(p, (size_t)(p[0] & 0x0f) * 4) != 0)
        fz_fail("sent IPv4 header checksum wrong", 0, 0);
    struct ipv4_hdr h;
    if (ipv4_parse(p, n, &h) != IPV4_OK)
        fz_fail("sent IPv4 header does not parse", (long)n, 0);
    if (h.src != FZ_MY_IP)
        fz_fail("sent IPv4 from another source", (long)h.src, 0);
    fz_check_l4(p, &h);
}

unsigned fz_drain(struct fz_env *e)
{
    uint8_t buf[PBUF_SMALL_CAP];
    unsigned n = 0;
    while (n < FZ_DRAIN_MAX) {
        struct pbuf pb = { .data = buf, .base = buf, .len = 0,
                           .cap = sizeof buf };
        if (netdev_recv(e->peer, &pb) != 1)
            break;
        fz_check_frame(buf, pb.len);
        if (e->tap)
            e->tap(e->tap_ctx, buf, pb.len);
        n++;
    }
    e->frames_out += n;
    return n;
}

void fz_advance(struct fz_env *e, uint64_t ms)
{
    uint64_t target = e->now + ms;
    for (int i = 0; i < FZ_ADVANCE_STEPS && e->now < target; i++) {
        uint64_t d = stack_next_deadline(&e->s);
        if (d <= e->now)
            d = e->now + 1;
        e->now = d < target ? d : target;
        stack_poll(&e->s, e->now);
        fz_drain(e);
    }
    if (e->now < target) {          /* a timer storm: jump the rest */
        e->now = target;
        stack_poll(&e->s, e->now);
        fz_drain(e);
    }
}

/* ---- the peer's frames --------------------------------------------------- */

size_t fz_ip_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto,
                   uint16_t id, uint16_t frag, const uint8_t *payload,
                   size_t n)
{
    if (ETH_HLEN + IPV4_HLEN + n > FZ_FRAME_MAX)
        return 0;
    struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
    memcpy(eh.dst, fz_my_mac, 6);
    memcpy(eh.src, fz_peer_mac, 6);
    eth_emit(&eh, f);
    struct ipv4_hdr ih = { .hlen = IPV4_HLEN,
                           .total_len = (uint16_t)(IPV4_HLEN + n), .id = id,
                           .frag = frag, .ttl = 64, .proto = proto,
                           .src = src, .dst = dst };
    ipv4_emit(&ih, f + ETH_HLEN);
    if (n)
        memmove(f + ETH_HLEN + IPV4_HLEN, payload, n);
    return ETH_HLEN + IPV4_HLEN + n;
}

size_t fz_tcp_frame(uint8_t *f, const struct fz_tcp *t)
{
    uint8_t seg[FZ_FRAME_MAX];
    size_t ol = (t->optlen > 40 ? 40 : t->optlen + 3) & ~(size_t)3;
    size_t hl = TCP_HLEN + ol;
    if (ETH_HLEN + IPV4_HLEN + hl + t->len > FZ_FRAME_MAX)
        return 0;
    memset(seg, 0, hl);
    store_be16(seg, t->sport);
    store_be16(seg + 2, t->dport);
    store_be32(seg + 4, t->seq);
    store_be32(seg + 8, t->ack);
    seg[12] = (uint8_t)(hl / 4 << 4);
    seg[13] = t->flags;
    store_be16(seg + 14, t->wnd);
    store_be16(seg + 18, t->urp);
    if (ol)
        memcpy(seg + TCP_HLEN, t->opts, t->optlen < ol ? t->optlen : ol);
    /* The pattern: each byte is the low byte of its sequence number (a
     * SYN takes the segment's first number). */
    uint32_t first = t->seq + !!(t->flags & TCP_SYN);
    for (size_t i = 0; i < t->len; i++)
        seg[hl + i] = t->data ? t->data[i] : (uint8_t)(first + i);
    size_t n = hl + t->len;
    store_be16(seg + 16, cksum_pseudo(FZ_PEER_IP, FZ_MY_IP, IPV4_PROTO_TCP,
                                      seg, n));
    return fz_ip_frame(f, FZ_PEER_IP, FZ_MY_IP, IPV4_PROTO_TCP, 0x4242,
                       IPV4_DF, seg, n);
}

size_t fz_arp_frame(uint8_t *f, uint16_t op, const uint8_t sha[6],
                    uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct eth_hdr eh = { .type = ETH_TYPE_ARP };
    memcpy(eh.dst, op == ARP_OP_REQUEST ? bcast : fz_my_mac, 6);
    memcpy(eh.src, sha, 6);
    eth_emit(&eh, f);
    struct arp_pkt a = { .op = op, .spa = spa, .tpa = tpa };
    memcpy(a.sha, sha, 6);
    memcpy(a.tha, tha, 6);
    arp_emit(&a, f + ETH_HLEN);
    memset(f + ETH_HLEN + ARP_LEN, 0, ETH_ZLEN - ETH_HLEN - ARP_LEN);
    return ETH_ZLEN;
}
