/* tests/unit/test_ipv4.c - the IPv4 layer and ICMP inside a whole stack.
 *
 * A struct stack runs on one end of a memdev pair; the test plays the host
 * on the other end, writing frames byte by byte and reading what the stack
 * answers. Covers echo (plain and fragmented both ways), fragmentation of
 * output, input checks (martians, not for us, hostile headers), ICMP errors
 * (protocol unreachable, reassembly time exceeded) with RFC 1122's
 * suppression rules and the rate limit; IP options (malformed ones answered
 * with Parameter Problem, source routes, Record Route reflected in echo
 * replies, options in fragments). Time is a plain number.
 */
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/bytes.h"
#include "core/cksum.h"
#include "eth/memdev.h"
#include "ipv4/ipv4_opt.h"
#include "socket_api/stack.h"
#include "tests/unit/unit.h"

#define T_HOST_IP TS_IP4(10, 0, 0, 1)
#define T_STACK_IP TS_IP4(10, 0, 0, 2)
#define T_T0 1000000u           /* an arbitrary start time, ms */

static const uint8_t t_host_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };

struct t_net {
    struct stack s;
    struct netdev *host;        /* the test's end of the wire */
};

static void t_net_init(struct t_net *n)
{
    struct netdev *dev;
    struct stack_config cfg;
    stack_config_default(&cfg);
    cfg.pool_small = 64;
    cfg.pool_large = 4;
    CU_ASSERT_FATAL(memdev_pair(&dev, &n->host, 64, 1500) == 0);
    CU_ASSERT_FATAL(stack_init(&n->s, &cfg, dev) == 0);
}

static void t_net_destroy(struct t_net *n)
{
    CU_ASSERT_EQUAL(n->s.pool.stats.in_use, 0);     /* no buffer leaked */
    stack_destroy(&n->s);
    netdev_close(n->host);
}

/* Send an Ethernet frame carrying payload from the host to the stack. */
static void t_send(struct t_net *n, const uint8_t *dst_mac, uint16_t type,
                   const uint8_t *payload, size_t len, uint64_t now)
{
    uint8_t frame[PBUF_SMALL_CAP];
    CU_ASSERT_FATAL(len + ETH_HLEN <= sizeof frame);
    struct eth_hdr h = { .type = type };
    memcpy(h.dst, dst_mac, 6);
    memcpy(h.src, t_host_mac, 6);
    eth_emit(&h, frame);
    memcpy(frame + ETH_HLEN, payload, len);
    struct pbuf pb = { .data = frame, .base = frame, .len = len + ETH_HLEN,
                       .cap = sizeof frame };
    netdev_send(n->host, &pb);
    stack_rx(&n->s, 64, now);
}

/* Take the next frame the stack sent; its length, 0 if none. */
static size_t t_recv(struct t_net *n, uint8_t *buf)
{
    struct pbuf pb = { .data = buf, .base = buf, .cap = PBUF_SMALL_CAP };
    return netdev_recv(n->host, &pb) == 1 ? pb.len : 0;
}

/* Next IPv4 frame from the stack (ARP skipped); IP header at *ip. */
static size_t t_recv_ip(struct t_net *n, uint8_t *buf, const uint8_t **ip)
{
    for (int i = 0; i < 16; i++) {
        size_t len = t_recv(n, buf);
        if (len == 0)
            return 0;
        if (load_be16(buf + 12) == ETH_TYPE_IPV4) {
            *ip = buf + ETH_HLEN;
            return len - ETH_HLEN;
        }
    }
    return 0;
}

/* The host introduces itself with an ARP request, so the stack learns its
 * MAC and answers IP without a resolution round; drains the ARP reply. */
static void t_hello(struct t_net *n, uint64_t now)
{
    uint8_t arp[ARP_LEN];
    struct arp_pkt p = { .op = ARP_OP_REQUEST, .spa = T_HOST_IP,
                         .tpa = T_STACK_IP };
    memcpy(p.sha, t_host_mac, 6);
    arp_emit(&p, arp);
    t_send(n, eth_broadcast, ETH_TYPE_ARP, arp, sizeof arp, now);
    uint8_t buf[PBUF_SMALL_CAP];
    while (t_recv(n, buf) > 0)
        ;
}

/* Write an IPv4 header for payload_len bytes into b; returns 20. */
static size_t t_ip(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto,
                   uint16_t id, uint16_t frag, size_t payload_len)
{
    struct ipv4_hdr h = { .hlen = 20, .total_len = (uint16_t)(20 + payload_len),
                          .id = id, .frag = frag, .ttl = 64, .proto = proto,
                          .src = src, .dst = dst };
    ipv4_emit(&h, b);
    return 20;
}

/* An ICMP echo request of `data` bytes (pattern i*7) into b; its length. */
static size_t t_echo(uint8_t *b, size_t data, uint16_t seq)
{
    for (size_t i = 0; i < data; i++)
        b[ICMP_HLEN + i] = (uint8_t)(i * 7);
    struct icmp_hdr ih = { .type = ICMP_ECHO_REQUEST, .id = 0x1234, .seq = seq };
    icmp_emit(&ih, b, ICMP_HLEN + data);
    return ICMP_HLEN + data;
}

static long long t_ctr(const struct t_net *n, const char *name)
{
    return ts_counter_get(ipv4_counter_desc, ipv4_counter_count, &n->s.ip, name);
}

static void test_echo_reply_exact(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t pkt[200], buf[PBUF_SMALL_CAP];
    size_t il = t_echo(pkt + 20, 56, 7);
    t_ip(pkt, T_HOST_IP, T_STACK_IP, IPV4_PROTO_ICMP, 1, 0, il);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, 20 + il, T_T0);
    const uint8_t *ip;
    size_t len = t_recv_ip(&n, buf, &ip);
    CU_ASSERT_EQUAL_FATAL(len, 20 + il);
    struct ipv4_hdr h;
    CU_ASSERT_EQUAL(ipv4_parse(ip, len, &h), IPV4_OK);
    CU_ASSERT_EQUAL(h.src, T_STACK_IP);
    CU_ASSERT_EQUAL(h.dst, T_HOST_IP);
    CU_ASSERT_EQUAL(h.ttl, IPV4_DEFAULT_TTL);
    struct icmp_hdr ih;
    CU_ASSERT_EQUAL(icmp_parse(ip + 20, il, &ih), ICMP_OK);
    CU_ASSERT_EQUAL(ih.type, ICMP_ECHO_REPLY);
    CU_ASSERT_EQUAL(ih.id, 0x1234);
    CU_ASSERT_EQUAL(ih.seq, 7);
    CU_ASSERT_EQUAL(memcmp(ip + 28, pkt + 28, 56), 0);
    t_net_destroy(&n);
}

/* Send a datagram of `len` payload bytes as fragments of at most `chunk`
 * bytes each, in the order given by `order` (indices), or in order. */
static void t_send_frags(struct t_net *n, const uint8_t *payload, size_t len,
                         size_t chunk, uint16_t id, const int *order,
                         int nfrag, uint64_t now)
{
    for (int k = 0; k < nfrag; k++) {
        int i = order ? order[k] : k;
        size_t off = (size_t)i * chunk;
        size_t m = len - off < chunk ? len - off : chunk;
        uint8_t pkt[1600];
        uint16_t frag = (uint16_t)(off / 8 | (off + m < len ? IPV4_MF : 0));
        t_ip(pkt, T_HOST_IP, T_STACK_IP, IPV4_PROTO_ICMP, id, frag, m);
        memcpy(pkt + 20, payload + off, m);
        t_send(n, n->s.cfg.mac, ETH_TYPE_IPV4, pkt, 20 + m, now);
    }
}

/* A 4,000-byte ping, fragmented by the host in reverse order: the stack
 * reassembles it, answers with the exact payload, fragmenting the reply. */
static void test_echo_fragmented_both_ways(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    static uint8_t req[4008], got[4008];
    size_t il = t_echo(req, 4000, 1);
    int order[] = { 2, 1, 0 };
    t_send_frags(&n, req, il, 1480, 99, order, 3, T_T0);
    CU_ASSERT_EQUAL(t_ctr(&n, "reassembled"), 1);
    uint8_t buf[PBUF_SMALL_CAP];
    const uint8_t *ip;
    size_t total = 0, len;
    int frags = 0, last_seen = 0;
    while ((len = t_recv_ip(&n, buf, &ip)) > 0 && frags < 10) {
        struct ipv4_hdr h;
        CU_ASSERT_EQUAL_FATAL(ipv4_parse(ip, len, &h), IPV4_OK);
        CU_ASSERT(h.total_len <= 1500);
        size_t off = ipv4_frag_offset(&h), m = h.total_len - 20u;
        CU_ASSERT_FATAL(off + m <= sizeof got);
        if (h.frag & IPV4_MF) {
            CU_ASSERT_EQUAL(m % 8, 0);
        } else {
            last_seen = 1;
        }
        memcpy(got + off, ip + 20, m);
        total += m;
        frags++;
    }
    CU_ASSERT_EQUAL(frags, 3);
    CU_ASSERT(last_seen);
    CU_ASSERT_EQUAL(total, il);
    CU_ASSERT_EQUAL(got[0], ICMP_ECHO_REPLY);
    CU_ASSERT_EQUAL(inet_cksum(got, il), 0);
    CU_ASSERT_EQUAL(memcmp(got + 8, req + 8, 4000), 0);
    t_net_destroy(&n);
}

static void test_unknown_proto_unreachable(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t pkt[40], buf[PBUF_SMALL_CAP];
    memset(pkt, 0xab, sizeof pkt);
    t_ip(pkt, T_HOST_IP, T_STACK_IP, 253, 5, 0, 20);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, sizeof pkt, T_T0);
    const uint8_t *ip;
    size_t len = t_recv_ip(&n, buf, &ip);
    CU_ASSERT_EQUAL_FATAL(len, 20 + 8 + 28);    /* header + 64 bits quoted */
    struct icmp_hdr ih;
    CU_ASSERT_EQUAL(icmp_parse(ip + 20, len - 20, &ih), ICMP_OK);
    CU_ASSERT_EQUAL(ih.type, ICMP_DEST_UNREACH);
    CU_ASSERT_EQUAL(ih.code, ICMP_UNREACH_PROTOCOL);
    CU_ASSERT_EQUAL(memcmp(ip + 28, pkt, 28), 0);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_unknown_proto"), 1);
    t_net_destroy(&n);
}

/* RFC 1122 §3.2.2: no error about a link broadcast, an IP broadcast, or
 * an ICMP error; and never more than the bucket allows. */
static void test_error_suppression_and_rate(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t pkt[40], buf[PBUF_SMALL_CAP];
    memset(pkt, 0, sizeof pkt);
    t_ip(pkt, T_HOST_IP, T_STACK_IP, 253, 1, 0, 20);
    t_send(&n, eth_broadcast, ETH_TYPE_IPV4, pkt, sizeof pkt, T_T0);
    t_ip(pkt, T_HOST_IP, TS_IP4(10, 0, 0, 255), 253, 2, 0, 20);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, sizeof pkt, T_T0);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    CU_ASSERT_EQUAL(n.s.ip.icmp.stats.err_suppressed, 2);
    /* A burst at one instant: only ICMP_RATE_BURST errors go out. */
    t_ip(pkt, T_HOST_IP, T_STACK_IP, 253, 3, 0, 20);
    for (int i = 0; i < 40; i++)
        t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, sizeof pkt, T_T0);
    int sent = 0;
    while (t_recv(&n, buf) > 0)
        sent++;
    CU_ASSERT_EQUAL(sent, ICMP_RATE_BURST);
    CU_ASSERT_EQUAL(n.s.ip.icmp.stats.err_rate_limited, 40 - ICMP_RATE_BURST);
    /* One second later the bucket has refilled. */
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, sizeof pkt, T_T0 + 1000);
    CU_ASSERT(t_recv(&n, buf) > 0);
    /* An ICMP error about an ICMP error is never sent. */
    static const uint8_t err[] = { 3, 3, 0, 0, 0, 0, 0, 0 };
    uint8_t msg[8 + 28];
    memcpy(msg, err, 8);
    t_ip(msg + 8, T_STACK_IP, T_HOST_IP, 17, 9, 0, 8);
    memset(msg + 28, 0, 8);
    icmp_send_error(&n.s.ip, msg, 0, 0, 3, 3, T_T0 + 5000);  /* too short */
    uint8_t q[28 + 8];
    t_ip(q, T_HOST_IP, T_STACK_IP, IPV4_PROTO_ICMP, 4, 0, 8);
    memcpy(q + 20, err, 8);
    icmp_send_error(&n.s.ip, q, sizeof q, 0, 3, 2, T_T0 + 5000);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    /* ... nor about a non-first fragment. */
    t_ip(q, T_HOST_IP, T_STACK_IP, 253, 4, 185, 8);
    icmp_send_error(&n.s.ip, q, sizeof q, 0, 3, 2, T_T0 + 5000);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    CU_ASSERT_EQUAL(n.s.ip.icmp.stats.err_suppressed, 5);
    t_net_destroy(&n);
}

/* Sources no host may have, and datagrams for someone else, are dropped. */
static void test_martians_and_not_for_us(void)
{
    static const uint32_t bad[] = {
        0, TS_IP4(0, 1, 2, 3), TS_IP4(127, 0, 0, 1), TS_IP4(224, 0, 0, 1),
        TS_IP4(240, 0, 0, 1), 0xffffffffu, TS_IP4(10, 0, 0, 255), T_STACK_IP,
    };
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t pkt[100], buf[PBUF_SMALL_CAP];
    size_t il = t_echo(pkt + 20, 8, 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t_ip(pkt, bad[i], T_STACK_IP, IPV4_PROTO_ICMP, 1, 0, il);
        t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, 20 + il, T_T0);
    }
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_martian_src"), (long long)(sizeof bad / sizeof bad[0]));
    t_ip(pkt, T_HOST_IP, TS_IP4(10, 0, 0, 3), IPV4_PROTO_ICMP, 1, 0, il);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, 20 + il, T_T0);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_not_for_us"), 1);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    t_net_destroy(&n);
}

/* Hostile headers are counted under their reason and never answered; the
 * stack still answers a good ping afterwards. */
static void test_hostile_headers_counted(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t good[64], pkt[64], buf[PBUF_SMALL_CAP];
    size_t il = t_echo(good + 20, 8, 1);
    t_ip(good, T_HOST_IP, T_STACK_IP, IPV4_PROTO_ICMP, 1, 0, il);
    size_t glen = 20 + il;
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, good, 10, T_T0);     /* truncated */
    memcpy(pkt, good, glen);
    pkt[0] = 0x65;                                              /* version 6 */
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, glen, T_T0);
    for (uint8_t ihl = 0; ihl < 5; ihl++) {                     /* IHL 0..4 */
        memcpy(pkt, good, glen);
        pkt[0] = (uint8_t)(0x40 | ihl);
        t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, glen, T_T0);
    }
    memcpy(pkt, good, glen);
    pkt[0] = 0x4f;                                              /* 60 > 36 */
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, glen, T_T0);
    memcpy(pkt, good, glen);
    store_be16(pkt + 2, 19);                                    /* < header */
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, glen, T_T0);
    store_be16(pkt + 2, (uint16_t)(glen + 1));                  /* > frame */
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, glen, T_T0);
    memcpy(pkt, good, glen);
    pkt[10] ^= 0x55;                                            /* checksum */
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, glen, T_T0);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_truncated"), 1);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_version"), 1);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_bad_hlen"), 6);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_bad_totlen"), 2);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_bad_cksum"), 1);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, good, glen, T_T0);
    const uint8_t *ip = NULL;
    CU_ASSERT(t_recv_ip(&n, buf, &ip) >= glen);     /* may be padded */
    CU_ASSERT_FATAL(ip != NULL);
    CU_ASSERT_EQUAL(load_be16(ip + 2), glen);
    t_net_destroy(&n);
}

/* Ethernet padding after the datagram is not part of it: a 28-byte ping
 * in a 60-byte frame still verifies and is answered at 28 bytes. */
static void test_ethernet_padding_trimmed(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t pkt[46], buf[PBUF_SMALL_CAP];
    memset(pkt, 0xee, sizeof pkt);
    size_t il = t_echo(pkt + 20, 0, 3);
    t_ip(pkt, T_HOST_IP, T_STACK_IP, IPV4_PROTO_ICMP, 1, 0, il);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, sizeof pkt, T_T0);
    const uint8_t *ip;
    CU_ASSERT_EQUAL(t_recv_ip(&n, buf, &ip), 46);   /* padded on the wire */
    CU_ASSERT_EQUAL(load_be16(ip + 2), 28);
    CU_ASSERT_EQUAL(n.s.ip.icmp.stats.tx_echo_replies, 1);
    t_net_destroy(&n);
}

/* Fragment 0 arrives, the rest never does: after 30 s the datagram is
 * dropped and the sender told with time exceeded, code 1. */
static void test_reassembly_timeout_icmp(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    static uint8_t req[3008];
    size_t il = t_echo(req, 3000, 1);
    t_send_frags(&n, req, il, 1480, 77, NULL, 1, T_T0);
    CU_ASSERT_EQUAL(stack_next_deadline(&n.s) <= T_T0 + IPV4_REASS_TIMEOUT_MS, 1);
    stack_poll(&n.s, T_T0 + IPV4_REASS_TIMEOUT_MS - 1);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_frag_timeout"), 0);
    stack_poll(&n.s, T_T0 + IPV4_REASS_TIMEOUT_MS);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_frag_timeout"), 1);
    uint8_t buf[PBUF_SMALL_CAP];
    const uint8_t *ip;
    size_t len = t_recv_ip(&n, buf, &ip);
    CU_ASSERT_EQUAL_FATAL(len, 20 + 8 + 28);
    CU_ASSERT_EQUAL(ip[20], ICMP_TIME_EXCEEDED);
    CU_ASSERT_EQUAL(ip[21], ICMP_EXC_FRAGTIME);
    CU_ASSERT_EQUAL(load_be16(ip + 28 + 4), 77);    /* quoted datagram's ID */
    t_net_destroy(&n);
}

/* Output larger than the MTU: fragments of multiples of 8, MF on all but
 * the last, offsets contiguous; an over-64K datagram is refused. */
static void test_output_fragmentation(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    struct pbuf *pb = pbuf_alloc(&n.s.pool, PBUF_HEADROOM, 5000);
    CU_ASSERT_FATAL(pb != NULL);
    for (size_t i = 0; i < 5000; i++)
        pb->data[i] = (uint8_t)i;
    CU_ASSERT_EQUAL(ipv4_output(&n.s.ip, pb, 0, T_HOST_IP, 253, T_T0), 0);
    uint8_t buf[PBUF_SMALL_CAP];
    const uint8_t *ip;
    size_t len, expect_off = 0;
    int frags = 0;
    while ((len = t_recv_ip(&n, buf, &ip)) > 0 && frags < 10) {
        struct ipv4_hdr h;
        CU_ASSERT_EQUAL_FATAL(ipv4_parse(ip, len, &h), IPV4_OK);
        CU_ASSERT_EQUAL(ipv4_frag_offset(&h), expect_off);
        CU_ASSERT_EQUAL(ip[20], (uint8_t)expect_off);
        expect_off += h.total_len - 20u;
        CU_ASSERT_EQUAL((h.frag & IPV4_MF) != 0, expect_off < 5000);
        frags++;
    }
    CU_ASSERT_EQUAL(frags, 4);
    CU_ASSERT_EQUAL(expect_off, 5000);
    pb = pbuf_alloc(&n.s.pool, PBUF_HEADROOM, 65516);
    CU_ASSERT_FATAL(pb != NULL);
    CU_ASSERT_EQUAL(ipv4_output(&n.s.ip, pb, 0, T_HOST_IP, 253, T_T0), -EMSGSIZE);
    pb = pbuf_alloc(&n.s.pool, PBUF_HEADROOM, 10);
    CU_ASSERT_EQUAL(ipv4_output(&n.s.ip, pb, 0, TS_IP4(8, 8, 8, 8), 253, T_T0),
                    -ENETUNREACH);
    t_net_destroy(&n);
}

/* ---- IP options (RFC 1122 §3.2.1.8, §3.2.2.5, §3.2.2.6) ---------------- */

/* An echo request from src with options opts (optlen, a multiple of 4)
 * into pkt; the datagram's length. */
static size_t t_echo_opts(uint8_t *pkt, uint32_t src, const uint8_t *opts,
                          size_t optlen, uint16_t seq)
{
    size_t hlen = IPV4_HLEN + optlen;
    size_t il = t_echo(pkt + hlen, 24, seq);
    struct ipv4_hdr h = { .hlen = (uint8_t)hlen,
                          .total_len = (uint16_t)(hlen + il), .id = seq,
                          .ttl = 64, .proto = IPV4_PROTO_ICMP, .src = src,
                          .dst = T_STACK_IP };
    ipv4_emit_opts(&h, opts, optlen, pkt);
    return hlen + il;
}

static long long t_icmp_ctr(const struct t_net *n, const char *name)
{
    return ts_counter_get(icmp_counter_desc, icmp_counter_count,
                          &n->s.ip.icmp.stats, name);
}

/* Record Route (9 slots, as ping -R sends it) comes back with our address
 * added in the next slot and the ICMP message untouched. */
static void test_echo_record_route(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t opts[40] = { IPV4_OPT_RR, 39, 8 }, pkt[200], buf[PBUF_SMALL_CAP];
    store_be32(opts + 3, T_HOST_IP);            /* the host recorded itself */
    size_t len = t_echo_opts(pkt, T_HOST_IP, opts, sizeof opts, 3);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, len, T_T0);
    const uint8_t *ip;
    size_t got = t_recv_ip(&n, buf, &ip);
    CU_ASSERT_EQUAL_FATAL(got, len);
    struct ipv4_hdr h;
    CU_ASSERT_EQUAL_FATAL(ipv4_parse(ip, got, &h), IPV4_OK);
    CU_ASSERT_EQUAL(h.hlen, 60);
    CU_ASSERT_EQUAL(h.dst, T_HOST_IP);
    CU_ASSERT_EQUAL(ip[20], IPV4_OPT_RR);
    CU_ASSERT_EQUAL(ip[22], 12);
    CU_ASSERT_EQUAL(load_be32(ip + 23), T_HOST_IP);
    CU_ASSERT_EQUAL(load_be32(ip + 27), T_STACK_IP);
    struct icmp_hdr ih;
    CU_ASSERT_EQUAL(icmp_parse(ip + 60, got - 60, &ih), ICMP_OK);
    CU_ASSERT_EQUAL(ih.type, ICMP_ECHO_REPLY);
    CU_ASSERT_EQUAL(memcmp(ip + 68, pkt + 68, 24), 0);
    CU_ASSERT_EQUAL(t_ctr(&n, "rx_options"), 1);
    CU_ASSERT_EQUAL(t_icmp_ctr(&n, "tx_echo_options"), 1);
    t_net_destroy(&n);
}

/* Malformed options: dropped, counted by reason, answered with Parameter
 * Problem pointing at the bad octet; never when it came as a broadcast. */
static void test_bad_options_param_problem(void)
{
    static const struct {
        uint8_t opts[8];
        const char *ctr;
        uint8_t ptr;
    } v[] = {
        { { 148, 0, 0, 0 }, "drop_opt_bad_len", 21 },
        { { 1, 148, 1, 0 }, "drop_opt_bad_len", 22 },
        { { 1, 1, 130, 9, 0, 0, 0, 0 }, "drop_opt_bad_len", 23 },
        { { IPV4_OPT_RR, 7, 3, 0, 0, 0, 0, 0 }, "drop_opt_bad_rr", 22 },
        { { IPV4_OPT_LSRR, 7, 9, 0, 0, 0, 0, 0 }, "drop_opt_bad_srr", 22 },
        { { IPV4_OPT_TS, 8, 5, 2, 0, 0, 0, 0 }, "drop_opt_bad_ts", 23 },
    };
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t pkt[200], buf[PBUF_SMALL_CAP];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t olen = v[i].opts[4] || v[i].opts[1] > 4 ? 8 : 4;
        size_t len = t_echo_opts(pkt, T_HOST_IP, v[i].opts, olen, (uint16_t)i);
        long long before = t_ctr(&n, v[i].ctr);
        t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, len, T_T0);
        CU_ASSERT_EQUAL(t_ctr(&n, v[i].ctr), before + 1);
        const uint8_t *ip;
        size_t got = t_recv_ip(&n, buf, &ip);
        CU_ASSERT_EQUAL_FATAL(got, 20 + 8 + 20 + olen + 8);
        struct icmp_hdr ih;
        CU_ASSERT_EQUAL(icmp_parse(ip + 20, got - 20, &ih), ICMP_OK);
        CU_ASSERT_EQUAL(ih.type, ICMP_PARAM_PROBLEM);
        CU_ASSERT_EQUAL(ih.code, 0);
        CU_ASSERT_EQUAL(ip[24], v[i].ptr);
        CU_ASSERT_EQUAL(memcmp(ip + 28, pkt, 20 + olen + 8), 0);
    }
    CU_ASSERT_EQUAL(t_icmp_ctr(&n, "tx_echo_replies"), 0);
    CU_ASSERT_EQUAL(t_icmp_ctr(&n, "tx_param_problems"), 6);
    size_t len = t_echo_opts(pkt, T_HOST_IP, v[0].opts, 4, 9);
    t_send(&n, eth_broadcast, ETH_TYPE_IPV4, pkt, len, T_T0);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_opt_bad_len"), 4);
    CU_ASSERT_EQUAL(t_icmp_ctr(&n, "err_suppressed"), 1);
    t_net_destroy(&n);
}

/* A source route not yet completed would need forwarding: dropped and
 * counted, silently. A completed one reached its final destination: the
 * echo reply goes back by the reversed route. Unknown options are
 * skipped and the reply carries none. */
static void test_source_route_and_unknown(void)
{
    const uint32_t far = TS_IP4(10, 0, 0, 7);    /* the original sender */
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t open[8] = { IPV4_OPT_LSRR, 7, 4, 10, 0, 0, 9, 0 };
    uint8_t done[8] = { IPV4_OPT_SSRR, 7, 8, 0, 0, 0, 0, 0 };
    uint8_t unknown[8] = { IPV4_OPT_NOP, 148, 4, 0, 0, 1, 1, 0 };
    uint8_t pkt[200], buf[PBUF_SMALL_CAP];
    size_t len = t_echo_opts(pkt, T_HOST_IP, open, sizeof open, 1);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, len, T_T0);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    CU_ASSERT_EQUAL(t_ctr(&n, "drop_srcroute"), 1);
    store_be32(done + 3, T_HOST_IP);            /* the hop it came by */
    len = t_echo_opts(pkt, far, done, sizeof done, 2);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, len, T_T0);
    const uint8_t *ip;
    size_t got = t_recv_ip(&n, buf, &ip);
    CU_ASSERT_EQUAL_FATAL(got, len);
    struct ipv4_hdr h;
    CU_ASSERT_EQUAL_FATAL(ipv4_parse(ip, got, &h), IPV4_OK);
    CU_ASSERT_EQUAL(h.dst, T_HOST_IP);          /* the first hop back */
    CU_ASSERT_EQUAL(ip[20], IPV4_OPT_SSRR);
    CU_ASSERT_EQUAL(ip[22], 4);
    CU_ASSERT_EQUAL(load_be32(ip + 23), far);
    /* A recorded hop that is the subnet's broadcast: no reply to it. */
    store_be32(done + 3, TS_IP4(10, 0, 0, 255));
    len = t_echo_opts(pkt, far, done, sizeof done, 4);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, len, T_T0);
    CU_ASSERT_EQUAL(t_recv(&n, buf), 0);
    CU_ASSERT_EQUAL(n.s.ip.icmp.stats.drop_echo_route, 1);
    len = t_echo_opts(pkt, T_HOST_IP, unknown, sizeof unknown, 3);
    t_send(&n, n.s.cfg.mac, ETH_TYPE_IPV4, pkt, len, T_T0);
    got = t_recv_ip(&n, buf, &ip);
    CU_ASSERT_EQUAL_FATAL(got, len - 8);
    CU_ASSERT_EQUAL(ip[0], 0x45);
    CU_ASSERT_EQUAL(ip[20], ICMP_ECHO_REPLY);
    CU_ASSERT_EQUAL(t_ctr(&n, "rx_options"), 4);
    t_net_destroy(&n);
}

/* A reply with options larger than the MTU: the first fragment carries
 * them all, the others only those with the copy flag (none here). */
static void test_output_fragments_with_options(void)
{
    struct t_net n;
    t_net_init(&n);
    t_hello(&n, T_T0);
    uint8_t opts[8] = { IPV4_OPT_RR, 7, 4, 0, 0, 0, 0, IPV4_OPT_EOL };
    struct pbuf *pb = pbuf_alloc(&n.s.pool, PBUF_HEADROOM, 3000);
    CU_ASSERT_FATAL(pb != NULL);
    memset(pb->data, 0x5a, 3000);
    CU_ASSERT_EQUAL(ipv4_output_opts(&n.s.ip, pb, 0, T_HOST_IP, 253, opts,
                                     sizeof opts, T_T0), 0);
    uint8_t buf[PBUF_SMALL_CAP];
    const uint8_t *ip;
    size_t len, data = 0;
    int frags = 0;
    while ((len = t_recv_ip(&n, buf, &ip)) > 0 && frags < 10) {
        struct ipv4_hdr h;
        CU_ASSERT_EQUAL_FATAL(ipv4_parse(ip, len, &h), IPV4_OK);
        CU_ASSERT_EQUAL(h.hlen, frags == 0 ? 28 : 20);
        CU_ASSERT(h.total_len <= 1500);
        CU_ASSERT_EQUAL(ipv4_frag_offset(&h), data);
        data += h.total_len - h.hlen;
        frags++;
    }
    CU_ASSERT_EQUAL(frags, 3);
    CU_ASSERT_EQUAL(data, 3000);
    pb = pbuf_alloc(&n.s.pool, PBUF_HEADROOM, 10);
    CU_ASSERT_EQUAL(ipv4_output_opts(&n.s.ip, pb, 0, T_HOST_IP, 253, opts, 6,
                                     T_T0), -EINVAL);
    t_net_destroy(&n);
}

TS_SUITE(ipv4,
         TS_TEST(test_echo_reply_exact),
         TS_TEST(test_echo_fragmented_both_ways),
         TS_TEST(test_unknown_proto_unreachable),
         TS_TEST(test_error_suppression_and_rate),
         TS_TEST(test_martians_and_not_for_us),
         TS_TEST(test_hostile_headers_counted),
         TS_TEST(test_ethernet_padding_trimmed),
         TS_TEST(test_reassembly_timeout_icmp),
         TS_TEST(test_output_fragmentation),
         TS_TEST(test_echo_record_route),
         TS_TEST(test_bad_options_param_problem),
         TS_TEST(test_source_route_and_unknown),
         TS_TEST(test_output_fragments_with_options))
