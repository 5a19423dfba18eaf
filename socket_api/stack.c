/* socket_api/stack.c - wiring the layers together and driving them.
 *
 * The upward handler tables are filled here, at start-up, so that no lower
 * layer names a higher one (DESIGN.md §2).
 */
#include "socket_api/stack.h"

#include <errno.h>
#include <string.h>

#include "core/addr.h"
#include "core/clock.h"
#include "eth/loopdev.h"
#include "eth/pcapdev.h"
#include "eth/tap.h"
#include "socket_api/ts_trace.h"

#define STACK_C(f, h) TS_COUNTER(struct stack_stats, f, h)
const struct ts_counter_desc stack_counter_desc[] = {
    STACK_C(rx_no_buffer, "device reads put off: buffer pool empty"),
    STACK_C(rx_dev_error, "device reads that failed"),
};
const size_t stack_counter_count = TS_COUNTERS_LEN(stack_counter_desc);

void stack_config_default(struct stack_config *cfg)
{
    static const uint8_t mac[ETH_ALEN] = { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x02 };
    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->mac, mac, ETH_ALEN);
    cfg->ip.addr = 0x0a000002u;
    cfg->ip.prefix = 24;
    cfg->ip.mtu = 1500;
    cfg->pool_small = 1024;
    /* 64 KiB buffers: TCP segments and UDP datagrams on lo (a bulk
     * connection keeps its window's worth, 4 at 256 KiB, in flight), and
     * reassembly; memory is only touched as buffers are first used. */
    cfg->pool_large = 128;
    cfg->lo_depth = 512;
    cfg->seed = 1;
    cfg->log_level = TS_LOG_WARN;
    cfg->secret.k0 = 0x746170737461636bull;    /* fixed: tests replay */
    cfg->secret.k1 = 1;
    tcp_config_default(&cfg->tcp);
}

/* The loopback interface: lo's own Ethernet layer (MAC all zeros, IPv4
 * only: nobody to ARP for) and its entry in the interface table. */
static int stack_init_lo(struct stack *s)
{
    static const uint8_t zero_mac[ETH_ALEN];
    eth_init(&s->lo_eth, s->lo_dev, zero_mac, &s->log);
    struct ipv4_if *ifp = ipv4_add_if(&s->ip, &s->lo_eth, NULL,
                                      IPV4_LOOPBACK_ADDR, 8, s->lo_dev->mtu);
    if (!ifp)
        return -ENOSPC;
    return eth_register(&s->lo_eth, ETH_TYPE_IPV4, ipv4_input, ifp);
}

/* The event path: the hub, each layer's pointer to it, and the log as a
 * sink when it says INFO or more (socket_api/ts_trace.c formats). */
static void stack_events_init(struct stack *s)
{
    ts_ev_init(&s->ev, ts_clock_us);
    s->tcp.ev = &s->ev;
    s->arp.ev = &s->ev;
    s->ip.ev = &s->ev;
    s->udp.ev = &s->ev;
    s->eth.ev = &s->ev;
    s->lo_eth.ev = &s->ev;
    if (TS_LOG_ON(&s->log, TS_LOG_INFO))
        ts_ev_sink_add(&s->ev, ts_trace_log_sink, &s->log);
}

int stack_init(struct stack *s, const struct stack_config *cfg,
               struct netdev *dev)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->dev = dev;
    if (pbuf_pool_init(&s->pool, cfg->pool_small, cfg->pool_large) < 0) {
        netdev_close(dev);
        s->dev = NULL;
        return -ENOMEM;
    }
    ts_log_init(&s->log, cfg->log_level, cfg->log_out);
    ts_rand_seed(&s->rand, cfg->seed);
    eth_init(&s->eth, dev, cfg->mac, &s->log);
    arp_init(&s->arp, &s->eth, &s->pool, cfg->ip.addr, &s->log);
    ipv4_init(&s->ip, &cfg->ip, &s->eth, &s->arp, &s->pool,
              (uint16_t)ts_rand_u32(&s->rand), &s->log);
    s->lo_dev = s->lo_raw = loopdev_open(&s->pool, cfg->lo_depth);
    if (!s->lo_dev || stack_init_lo(s) < 0 ||
        tcp_init(&s->tcp, &cfg->tcp, &s->ip, &s->pool, &s->rand, &cfg->secret,
                 &s->log) < 0) {
        stack_destroy(s);
        return -ENOMEM;
    }
    udp_init(&s->udp, &s->ip, &s->pool, &s->rand);
    stack_events_init(s);
    eth_register(&s->eth, ETH_TYPE_ARP, arp_input, &s->arp);
    eth_register(&s->eth, ETH_TYPE_IPV4, ipv4_input, &s->ip.ifs[0]);
    ipv4_register(&s->ip, IPV4_PROTO_TCP, tcp_input, &s->tcp);
    ipv4_register(&s->ip, IPV4_PROTO_UDP, udp_input, &s->udp);
    return 0;
}

void stack_destroy(struct stack *s)
{
    if (s->dev) {
        udp_destroy(&s->udp);
        tcp_destroy(&s->tcp);
        ipv4_destroy(&s->ip);
        arp_destroy(&s->arp);
        netdev_close(s->dev);
        netdev_close(s->lo_dev);    /* frees what waits in it: pool first */
        pbuf_pool_destroy(&s->pool);
    }
    memset(s, 0, sizeof *s);
}

int stack_capture_lo(struct stack *s, const char *path, char *errbuf,
                     size_t errlen)
{
    struct netdev *w = pcapdev_wrap(s->lo_dev, path, errbuf, errlen);
    if (!w)
        return -EIO;
    s->lo_dev = s->lo_eth.dev = w;
    return 0;
}

void stack_start(struct stack *s, uint64_t now)
{
    (void)now;
    for (unsigned i = 0; i < s->ip.nifs; i++) {
        const struct ipv4_if *ifp = &s->ip.ifs[i];
        char a[TS_IP4_STRLEN];
        TS_INFO(&s->log, "interface %s: %s/%u mtu %u%s", ifp->name,
                ts_ip4_fmt(ifp->addr, a), ifp->prefix, (unsigned)ifp->mtu,
                (ifp->flags & NETDEV_F_LOOPBACK) ? " (loopback)" : "");
    }
    arp_announce(&s->arp);
}

void stack_input(struct stack *s, struct pbuf *pb, uint64_t now)
{
    if (ts_ev_on(&s->ev))
        ts_ev_step(&s->ev, pb->frame);
    eth_input(&s->eth, pb, now);
    if (ts_ev_on(&s->ev))
        ts_ev_step(&s->ev, 0);
}

/* A frame read into a large buffer that fits a small one moves there, so
 * that what the layers keep (a UDP datagram in a socket's queue) holds a
 * small buffer and the large one serves the next read; super-frames stay
 * where the device put them. The small copy, or NULL to keep big. */
static struct pbuf *stack_rx_shrink(struct stack *s, struct pbuf *big)
{
    if (big->cap == PBUF_SMALL_CAP ||
        pbuf_headroom(big) + big->len > PBUF_SMALL_CAP)
        return NULL;
    struct pbuf *pb = pbuf_alloc(&s->pool, pbuf_headroom(big), big->len);
    if (pb && pb->cap != PBUF_SMALL_CAP) {
        pbuf_free(pb);          /* no small one free: keep the large */
        return NULL;
    }
    if (pb) {
        memcpy(pb->data, big->data, big->len);
        pb->flags = big->flags;
        pb->off = big->off;     /* same headroom: offsets hold */
        pb->frame = big->frame; /* the capture's number goes along */
    }
    return pb;
}

/* Up to budget frames from the device (the TAP): the number, or -errno.
 * Each buffer has room for the largest frame the device returns (a 64 KB
 * super-frame with offloads on), so a frame is read once, in place. */
static int stack_rx_dev(struct stack *s, unsigned budget, uint64_t now)
{
    size_t frame = netdev_frame_max(s->dev);
    struct pbuf *spare = NULL;
    unsigned n = 0;
    int rc = 0;
    while (n < budget) {
        struct pbuf *pb = spare ? spare : pbuf_alloc(&s->pool, PBUF_HEADROOM, frame);
        spare = NULL;
        if (!pb) {
            s->stats.rx_no_buffer++;
            break;
        }
        pb->data = pb->base + PBUF_HEADROOM;
        pb->len = 0;
        pb->flags = 0;
        pb->frame = 0;
        rc = netdev_recv(s->dev, pb);
        if (rc <= 0) {
            pbuf_free(pb);
            if (rc < 0)
                s->stats.rx_dev_error++;
            break;
        }
        struct pbuf *small = stack_rx_shrink(s, pb);
        if (small) {
            spare = pb;
            pb = small;
        }
        n++;
        stack_input(s, pb, now);
    }
    pbuf_free(spare);
    return rc < 0 && n == 0 ? rc : (int)n;
}

/* The device's frames are one batch for TCP: what they call for (ACKs,
 * data the ACKs let go) is sent once the batch is in, one ACK per
 * connection for all its segments (tcp_batch_begin). */
int stack_rx(struct stack *s, unsigned budget, uint64_t now)
{
    tcp_batch_begin(&s->tcp);
    int n = stack_rx_dev(s, budget, now);
    tcp_batch_end(&s->tcp);
    unsigned local = stack_rx_lo(s, budget, now);
    return n < 0 ? n : n + (int)local;
}

unsigned stack_rx_lo(struct stack *s, unsigned budget, uint64_t now)
{
    unsigned n = 0;
    struct pbuf *pb;
    while (n < budget && (pb = netdev_take(s->lo_dev))) {
        if (ts_ev_on(&s->ev))
            ts_ev_step(&s->ev, 0);      /* lo's frames are not numbered */
        eth_input(&s->lo_eth, pb, now);
        n++;
    }
    return n;
}

unsigned stack_lo_pending(const struct stack *s)
{
    return loopdev_pending(s->lo_raw);
}

void stack_poll(struct stack *s, uint64_t now)
{
    if (ts_ev_on(&s->ev))
        ts_ev_step(&s->ev, 0);
    arp_poll(&s->arp, now);
    ipv4_poll(&s->ip, now);
    tcp_poll(&s->tcp, now);
    if (ts_ev_on(&s->ev))
        ts_ev_step(&s->ev, 0);
}

uint64_t stack_next_deadline(const struct stack *s)
{
    uint64_t d = ts_min_deadline(arp_next_deadline(&s->arp),
                                 ipv4_next_deadline(&s->ip));
    return ts_min_deadline(d, tcp_next_deadline(&s->tcp));
}

void stack_counters_walk(const struct stack *s, stack_counters_fn fn,
                         void *ctx)
{
    fn(ctx, "eth", eth_counter_desc, eth_counter_count, &s->eth.stats, 0);
    if (s->tap)
        fn(ctx, "tap", tap_counter_desc, tap_counter_count, tap_stats(s->tap), 0);
    fn(ctx, "lo", eth_counter_desc, eth_counter_count, &s->lo_eth.stats, 0);
    fn(ctx, "lo", loopdev_counter_desc, loopdev_counter_count,
       loopdev_stats(s->lo_raw), 1);
    fn(ctx, "arp", arp_counter_desc, arp_counter_count, &s->arp.stats, 0);
    fn(ctx, "ipv4", ipv4_counter_desc, ipv4_counter_count, &s->ip, 0);
    fn(ctx, "icmp", icmp_counter_desc, icmp_counter_count, &s->ip.icmp.stats, 0);
    fn(ctx, "tcp", tcp_counter_desc, tcp_counter_count, &s->tcp.stats, 0);
    fn(ctx, "udp", udp_counter_desc, udp_counter_count, &s->udp.stats, 0);
    fn(ctx, "pbuf", pbuf_counter_desc, pbuf_counter_count, &s->pool.stats, 0);
    fn(ctx, "stack", stack_counter_desc, stack_counter_count, &s->stats, 0);
}

static void stack_print_table(void *out, const char *section,
                              const struct ts_counter_desc *desc, size_t n,
                              const void *stats, int more)
{
    ts_counters_print(out, more ? NULL : section, desc, n, stats);
}

void stack_counters_print(const struct stack *s, FILE *out)
{
    stack_counters_walk(s, stack_print_table, out);
}
