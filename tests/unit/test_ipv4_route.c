/* tests/unit/test_ipv4_route.c - the interface table, route choice and the
 * loopback device (suite `ipv4_route`).
 *
 * One struct stack on one end of a memdev pair, driven by hand with a plain
 * number for time; the test holds the other end (the wire). Covers the
 * table a stack starts with (the TAP's entry and lo), route choice (own
 * address and 127/8 by lo with the right source, on-link and broadcast by
 * the TAP, off-link by the gateway or no route, bad sources refused), the
 * loopback device on its own (the sender's buffer is the receiver's, a
 * bounded queue with drops counted), local delivery that never touches the
 * wire or ARP, 127/8 arriving from the wire dropped as martian, and the
 * --pcap-lo capture read back with libpcap.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/bytes.h"
#include "eth/loopdev.h"
#include "eth/memdev.h"
#include "socket_api/stack.h"
#include "tests/unit/unit.h"

#define R_HOST_IP TS_IP4(10, 0, 0, 1)
#define R_STACK_IP TS_IP4(10, 0, 0, 2)
#define R_LO TS_IP4(127, 0, 0, 1)
#define R_T0 5000u

struct r_net {
    struct stack s;
    struct netdev *wire;        /* the test's end */
};

static void r_init(struct r_net *n)
{
    struct netdev *dev;
    struct stack_config cfg;
    stack_config_default(&cfg);
    cfg.pool_small = 64;
    cfg.pool_large = 8;
    CU_ASSERT_FATAL(memdev_pair(&dev, &n->wire, 64, 1500) == 0);
    CU_ASSERT_FATAL(stack_init(&n->s, &cfg, dev) == 0);
}

static void r_destroy(struct r_net *n)
{
    CU_ASSERT_EQUAL(n->s.pool.stats.in_use, 0);     /* nothing leaked */
    stack_destroy(&n->s);
    netdev_close(n->wire);
}

static long long r_ip(const struct r_net *n, const char *name)
{
    return ts_counter_get(ipv4_counter_desc, ipv4_counter_count, &n->s.ip, name);
}

static void test_table_at_start(void)
{
    struct r_net n;
    r_init(&n);
    const struct ipv4_layer *ip = &n.s.ip;
    CU_ASSERT_EQUAL(ip->nifs, 2);
    CU_ASSERT_STRING_EQUAL(ip->ifs[0].name, "mem0");
    CU_ASSERT_EQUAL(ip->ifs[0].addr, R_STACK_IP);
    CU_ASSERT_EQUAL(ip->ifs[0].prefix, 24);
    CU_ASSERT_EQUAL(ip->ifs[0].mtu, 1500);
    CU_ASSERT_EQUAL(ip->ifs[0].flags, 0);
    CU_ASSERT_PTR_NOT_NULL(ip->ifs[0].arp);
    CU_ASSERT_STRING_EQUAL(ip->ifs[1].name, "lo");
    CU_ASSERT_EQUAL(ip->ifs[1].addr, R_LO);
    CU_ASSERT_EQUAL(ip->ifs[1].prefix, 8);
    CU_ASSERT_EQUAL(ip->ifs[1].mtu, 65536);
    CU_ASSERT_EQUAL(ip->ifs[1].flags, NETDEV_F_LOOPBACK | NETDEV_F_NO_CSUM);
    CU_ASSERT_PTR_NULL(ip->ifs[1].arp);
    CU_ASSERT_PTR_EQUAL(ip->lo, &ip->ifs[1]);
    CU_ASSERT(ipv4_is_local(ip, R_STACK_IP));
    CU_ASSERT(ipv4_is_local(ip, R_LO));
    CU_ASSERT(ipv4_is_local(ip, TS_IP4(127, 255, 255, 254)));
    CU_ASSERT(!ipv4_is_local(ip, R_HOST_IP));
    CU_ASSERT(!ipv4_is_local(ip, 0));
    CU_ASSERT(!ipv4_is_local(ip, TS_IP4(128, 0, 0, 1)));
    CU_ASSERT_EQUAL(ipv4_route_mtu(ip, R_LO), 65535);   /* IPv4's limit */
    CU_ASSERT_EQUAL(ipv4_route_mtu(ip, R_HOST_IP), 1500);
    r_destroy(&n);
}

/* Look dst up from src; assert the result (ifp NULL: expect error err). */
static void r_route(const struct r_net *n, uint32_t dst, uint32_t src,
                    const struct ipv4_if *ifp, uint32_t want_dst,
                    uint32_t want_src, uint32_t hop, int err)
{
    struct ipv4_route rt;
    int rc = ipv4_route_lookup(&n->s.ip, dst, src, &rt);
    CU_ASSERT_EQUAL(rc, err);
    if (rc < 0 || !ifp)
        return;
    CU_ASSERT_PTR_EQUAL(rt.ifp, ifp);
    CU_ASSERT_EQUAL(rt.dst, want_dst);
    CU_ASSERT_EQUAL(rt.src, want_src);
    CU_ASSERT_EQUAL(rt.next_hop, hop);
}

static void test_route_choice(void)
{
    struct r_net n;
    r_init(&n);
    const struct ipv4_if *tap = &n.s.ip.ifs[0], *lo = n.s.ip.lo;
    uint32_t lo5 = TS_IP4(127, 1, 2, 5), far = TS_IP4(8, 8, 8, 8);
    /* Own address and 127/8: lo; the source is the address itself, or
     * 127.0.0.1 for the rest of 127/8 (Linux's "ip route get"). */
    r_route(&n, R_STACK_IP, 0, lo, R_STACK_IP, R_STACK_IP, R_STACK_IP, 0);
    r_route(&n, R_LO, 0, lo, R_LO, R_LO, R_LO, 0);
    r_route(&n, lo5, 0, lo, lo5, R_LO, lo5, 0);
    r_route(&n, R_LO, R_STACK_IP, lo, R_LO, R_STACK_IP, R_LO, 0);
    r_route(&n, R_STACK_IP, lo5, lo, R_STACK_IP, lo5, R_STACK_IP, 0);
    /* 0.0.0.0 is this host: 127.0.0.1, or the given source. */
    r_route(&n, 0, 0, lo, R_LO, R_LO, R_LO, 0);
    r_route(&n, 0, R_STACK_IP, lo, R_STACK_IP, R_STACK_IP, R_STACK_IP, 0);
    /* On-link and broadcasts: the TAP. */
    r_route(&n, R_HOST_IP, 0, tap, R_HOST_IP, R_STACK_IP, R_HOST_IP, 0);
    r_route(&n, TS_IP4(10, 0, 0, 255), 0, tap, TS_IP4(10, 0, 0, 255),
            R_STACK_IP, TS_IP4(10, 0, 0, 255), 0);
    r_route(&n, 0xffffffffu, 0, tap, 0xffffffffu, R_STACK_IP, 0xffffffffu, 0);
    /* Off-link: no route without a gateway, the gateway with one. */
    r_route(&n, far, 0, NULL, 0, 0, 0, -ENETUNREACH);
    n.s.ip.cfg.gateway = TS_IP4(10, 0, 0, 254);
    r_route(&n, far, 0, tap, far, R_STACK_IP, TS_IP4(10, 0, 0, 254), 0);
    /* A source that is not ours, or 127/8 toward a wire (RFC 1122). */
    r_route(&n, R_HOST_IP, TS_IP4(10, 0, 0, 9), NULL, 0, 0, 0, -EINVAL);
    r_route(&n, R_HOST_IP, R_LO, NULL, 0, 0, 0, -EINVAL);
    r_route(&n, far, lo5, NULL, 0, 0, 0, -EINVAL);
    r_destroy(&n);
}

/* The loopback device alone: the buffer sent is the buffer taken back, in
 * order, vouched for; a full queue drops (counted); close frees the rest. */
static void test_loopdev_no_copy(void)
{
    struct pbuf_pool pool;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 8, 1) == 0);
    struct netdev *lo = loopdev_open(&pool, 3);
    CU_ASSERT_FATAL(lo != NULL);
    CU_ASSERT_EQUAL(netdev_fd(lo), -1);
    CU_ASSERT(netdev_can_take(lo));
    struct pbuf *sent[4];
    for (int i = 0; i < 4; i++) {
        sent[i] = pbuf_alloc(&pool, PBUF_HEADROOM, 60);
        CU_ASSERT_FATAL(sent[i] != NULL);
        sent[i]->data[0] = (uint8_t)i;
        CU_ASSERT_EQUAL(netdev_xmit(lo, sent[i]), 0);
    }
    CU_ASSERT_EQUAL(loopdev_pending(lo), 3);
    CU_ASSERT_EQUAL(loopdev_stats(lo)->drop_queue_full, 1);
    CU_ASSERT_EQUAL(loopdev_stats(lo)->queue_max, 3);
    CU_ASSERT_EQUAL(pool.stats.in_use, 3);      /* the fourth was freed */
    for (int i = 0; i < 2; i++) {
        struct pbuf *pb = netdev_take(lo);
        CU_ASSERT_PTR_EQUAL(pb, sent[i]);       /* no copy */
        CU_ASSERT_EQUAL(pb->flags, PBUF_F_CSUM_VALID);
        CU_ASSERT_EQUAL(pb->len, 60);
        pbuf_free(pb);
    }
    /* The copying interface works too: send copies, recv copies out. */
    uint8_t bytes[80] = { 9 };
    struct pbuf ext = { .data = bytes, .base = bytes, .len = 70, .cap = 80 };
    CU_ASSERT_EQUAL(netdev_send(lo, &ext), 0);
    CU_ASSERT_EQUAL(loopdev_pending(lo), 2);
    struct pbuf *pb = pbuf_alloc(&pool, 0, 0);
    CU_ASSERT_EQUAL(netdev_recv(lo, pb), 1);
    CU_ASSERT_EQUAL(pb->data[0], 2);            /* still in order */
    pbuf_free(pb);
    netdev_close(lo);                           /* frees the copy it holds */
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    pbuf_pool_destroy(&pool);
}

static void r_udp_event(void *ctx, struct udp_sock *s, unsigned ev)
{
    (void)s;
    (void)ev;
    ++*(int *)ctx;
}

/* A datagram to our own address and to 127/8 goes by lo and comes back
 * through the receive path: never on the wire, never ARPed, no checksum;
 * nothing arrives until the stack takes lo's frames back in. */
static void test_local_delivery_off_the_wire(void)
{
    struct r_net n;
    r_init(&n);
    int events = 0;
    struct udp_sock *r = udp_open(&n.s.udp, 4096, r_udp_event, &events);
    struct udp_sock *s = udp_open(&n.s.udp, 4096, NULL, NULL);
    CU_ASSERT_FATAL(r && s);
    CU_ASSERT_EQUAL(udp_bind(r, 0, 7000), 0);
    CU_ASSERT_EQUAL(udp_sendto(s, "own", 3, R_STACK_IP, 7000, R_T0), 3);
    CU_ASSERT_EQUAL(udp_sendto(s, "lo5", 3, TS_IP4(127, 0, 0, 5), 7000, R_T0), 3);
    CU_ASSERT_EQUAL(stack_lo_pending(&n.s), 2);
    CU_ASSERT_EQUAL(events, 0);                 /* output never runs input */
    CU_ASSERT_EQUAL(stack_rx(&n.s, 64, R_T0), 2);
    CU_ASSERT_EQUAL(events, 2);
    char buf[8];
    uint32_t src;
    uint16_t sport;
    CU_ASSERT_EQUAL(udp_recvfrom(r, buf, sizeof buf, &src, &sport), 3);
    CU_ASSERT_EQUAL(src, R_STACK_IP);
    CU_ASSERT_EQUAL(udp_recvfrom(r, buf, sizeof buf, &src, &sport), 3);
    CU_ASSERT_EQUAL(src, R_LO);
    CU_ASSERT_EQUAL(memdev_pending(n.wire), 0);
    CU_ASSERT_EQUAL(n.s.eth.stats.tx_frames, 0);
    CU_ASSERT_EQUAL(n.s.arp.stats.tx_requests, 0);
    CU_ASSERT_EQUAL(n.s.lo_eth.stats.tx_frames, 2);
    CU_ASSERT_EQUAL(n.s.lo_eth.stats.rx_frames, 2);
    CU_ASSERT_EQUAL(r_ip(&n, "tx_local"), 2);
    CU_ASSERT_EQUAL(r_ip(&n, "rx_local"), 2);
    CU_ASSERT_EQUAL(n.s.udp.stats.drop_bad_cksum, 0);
    udp_close(r);
    udp_close(s);
    r_destroy(&n);
}

/* An IPv4 frame from the wire host to the stack's MAC; src/dst as given. */
static void r_wire_send(struct r_net *n, uint32_t src, uint32_t dst,
                        uint8_t proto, const uint8_t *l4, size_t l4len)
{
    uint8_t f[128];
    struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
    memcpy(eh.dst, n->s.cfg.mac, 6);
    memcpy(eh.src, (const uint8_t[]){ 2, 0, 0, 0, 0, 0x99 }, 6);
    eth_emit(&eh, f);
    struct ipv4_hdr h = { .hlen = 20, .total_len = (uint16_t)(20 + l4len),
                          .ttl = 64, .proto = proto, .src = src, .dst = dst };
    ipv4_emit(&h, f + ETH_HLEN);
    memcpy(f + ETH_HLEN + 20, l4, l4len);
    struct pbuf pb = { .data = f, .base = f, .len = ETH_HLEN + 20 + l4len,
                       .cap = sizeof f };
    CU_ASSERT_EQUAL(netdev_send(n->wire, &pb), 0);
}

/* RFC 1122 §3.2.1.3: 127/8 is never on a wire. Datagrams to it from the
 * wire, and from it, are dropped, counted, and never answered, even when a
 * socket of ours listens there. */
static void test_wire_127_martian(void)
{
    struct r_net n;
    r_init(&n);
    struct udp_sock *r = udp_open(&n.s.udp, 4096, NULL, NULL);
    CU_ASSERT_EQUAL(udp_bind(r, R_LO, 7), 0);
    uint8_t udp[12] = { 0x30, 0x39, 0, 7, 0, 12, 0, 0, 'h', 'i', '!', '\n' };
    uint8_t echo[8] = { 8, 0, 0xf7, 0xff, 0, 0, 0, 0 };     /* checksum ok */
    r_wire_send(&n, R_HOST_IP, R_LO, IPV4_PROTO_UDP, udp, sizeof udp);
    r_wire_send(&n, R_HOST_IP, TS_IP4(127, 9, 9, 9), IPV4_PROTO_ICMP, echo,
                sizeof echo);
    r_wire_send(&n, R_LO, R_STACK_IP, IPV4_PROTO_ICMP, echo, sizeof echo);
    r_wire_send(&n, TS_IP4(127, 0, 0, 2), R_LO, IPV4_PROTO_UDP, udp, sizeof udp);
    CU_ASSERT_EQUAL(stack_rx(&n.s, 64, R_T0), 4);
    CU_ASSERT_EQUAL(r_ip(&n, "drop_martian_dst"), 2);
    CU_ASSERT_EQUAL(r_ip(&n, "drop_martian_src"), 2);
    CU_ASSERT_EQUAL(r_ip(&n, "rx_delivered"), 0);
    CU_ASSERT_EQUAL(udp_next_len(r), -1);
    CU_ASSERT_EQUAL(memdev_pending(n.wire), 0);     /* nothing answered */
    CU_ASSERT_EQUAL(n.s.lo_eth.stats.tx_frames, 0);
    udp_close(r);
    r_destroy(&n);
}

/* The lo capture: each frame once, Ethernet with zero MACs, IPv4 from and
 * to 127.0.0.1, UDP checksum 0 (none computed: what a Linux lo capture
 * shows with checksum offload). */
static void test_lo_capture(void)
{
    struct r_net n;
    r_init(&n);
    char path[] = "/tmp/ts-unit-lo-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    char err[PCAP_ERRBUF_SIZE];
    CU_ASSERT_FATAL(stack_capture_lo(&n.s, path, err, sizeof err) == 0);
    struct udp_sock *r = udp_open(&n.s.udp, 4096, NULL, NULL);
    struct udp_sock *s = udp_open(&n.s.udp, 4096, NULL, NULL);
    CU_ASSERT_EQUAL(udp_bind(r, R_LO, 9000), 0);
    CU_ASSERT_EQUAL(udp_sendto(s, "cap", 3, R_LO, 9000, R_T0), 3);
    CU_ASSERT_EQUAL(stack_rx(&n.s, 64, R_T0), 1);
    CU_ASSERT_EQUAL(udp_next_len(r), 3);
    udp_close(r);
    udp_close(s);
    r_destroy(&n);                              /* closes the capture */
    pcap_t *p = pcap_open_offline(path, err);
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL(pcap_datalink(p), DLT_EN10MB);
    struct pcap_pkthdr *h;
    const u_char *f;
    int frames = 0;
    while (pcap_next_ex(p, &h, &f) == 1) {
        frames++;
        static const uint8_t zero[12];
        CU_ASSERT_EQUAL(h->caplen, ETH_HLEN + 20 + 8 + 3);   /* no padding */
        CU_ASSERT_EQUAL(memcmp(f, zero, 12), 0);
        CU_ASSERT_EQUAL(load_be16(f + 12), ETH_TYPE_IPV4);
        CU_ASSERT_EQUAL(load_be32(f + 26), R_LO);
        CU_ASSERT_EQUAL(load_be32(f + 30), R_LO);
        CU_ASSERT_EQUAL(load_be16(f + 40), 0);
    }
    CU_ASSERT_EQUAL(frames, 1);
    pcap_close(p);
    unlink(path);
}

TS_SUITE(ipv4_route,
         TS_TEST(test_table_at_start),
         TS_TEST(test_route_choice),
         TS_TEST(test_loopdev_no_copy),
         TS_TEST(test_local_delivery_off_the_wire),
         TS_TEST(test_wire_127_martian),
         TS_TEST(test_lo_capture))
