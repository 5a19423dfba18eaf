/* socket_api/stack.c - wiring the layers together and driving them.
 *
 * The upward handler tables are filled here, at start-up, so that no lower
 * layer names a higher one (DESIGN.md §2).
 */
#include "socket_api/stack.h"

#include <errno.h>
#include <string.h>

#include "core/clock.h"

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
    cfg->pool_large = 16;
    cfg->seed = 1;
    cfg->log_level = TS_LOG_WARN;
    cfg->secret.k0 = 0x746170737461636bull;    /* fixed: tests replay */
    cfg->secret.k1 = 1;
    tcp_config_default(&cfg->tcp);
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
    if (tcp_init(&s->tcp, &cfg->tcp, &s->ip, &s->pool, &s->rand, &cfg->secret,
                 &s->log) < 0) {
        stack_destroy(s);
        return -ENOMEM;
    }
    udp_init(&s->udp, &s->ip, &s->pool, &s->rand);
    eth_register(&s->eth, ETH_TYPE_ARP, arp_input, &s->arp);
    eth_register(&s->eth, ETH_TYPE_IPV4, ipv4_input, &s->ip);
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
        pbuf_pool_destroy(&s->pool);
    }
    memset(s, 0, sizeof *s);
}

void stack_start(struct stack *s, uint64_t now)
{
    (void)now;
    arp_announce(&s->arp);
}

void stack_input(struct stack *s, struct pbuf *pb, uint64_t now)
{
    eth_input(&s->eth, pb, now);
}

int stack_rx(struct stack *s, unsigned budget, uint64_t now)
{
    /* Room for the largest frame the MTU allows, past the headroom. */
    size_t frame = (size_t)s->cfg.ip.mtu + ETH_HLEN;
    unsigned n = 0;
    while (n < budget) {
        struct pbuf *pb = pbuf_alloc(&s->pool, PBUF_HEADROOM, frame);
        if (!pb) {
            s->stats.rx_no_buffer++;
            break;
        }
        pb->len = 0;
        int rc = netdev_recv(s->dev, pb);
        if (rc <= 0) {
            pbuf_free(pb);
            if (rc < 0)
                s->stats.rx_dev_error++;
            return rc < 0 && n == 0 ? rc : (int)n;
        }
        n++;
        stack_input(s, pb, now);
    }
    return (int)n;
}

void stack_poll(struct stack *s, uint64_t now)
{
    arp_poll(&s->arp, now);
    ipv4_poll(&s->ip, now);
    tcp_poll(&s->tcp, now);
}

uint64_t stack_next_deadline(const struct stack *s)
{
    uint64_t d = ts_min_deadline(arp_next_deadline(&s->arp),
                                 ipv4_next_deadline(&s->ip));
    return ts_min_deadline(d, tcp_next_deadline(&s->tcp));
}

void stack_counters_print(const struct stack *s, FILE *out)
{
    ts_counters_print(out, "eth", eth_counter_desc, eth_counter_count,
                      &s->eth.stats);
    ts_counters_print(out, "arp", arp_counter_desc, arp_counter_count,
                      &s->arp.stats);
    ts_counters_print(out, "ipv4", ipv4_counter_desc, ipv4_counter_count,
                      &s->ip);
    ts_counters_print(out, "icmp", icmp_counter_desc, icmp_counter_count,
                      &s->ip.icmp.stats);
    ts_counters_print(out, "tcp", tcp_counter_desc, tcp_counter_count,
                      &s->tcp.stats);
    ts_counters_print(out, "udp", udp_counter_desc, udp_counter_count,
                      &s->udp.stats);
    ts_counters_print(out, "pbuf", pbuf_counter_desc, pbuf_counter_count,
                      &s->pool.stats);
    ts_counters_print(out, "stack", stack_counter_desc, stack_counter_count,
                      &s->stats);
}
