/* arp/arp.c - ARP input (RFC 826 reception algorithm), resolution, timers. */
#include "arp/arp.h"

#include <errno.h>
#include <string.h>

#include "core/addr.h"
#include "core/clock.h"

#define ARP_DESC(n, e, r, h) TS_CTR_DESC(struct arp_stats, n, e, r, h)
const struct ts_counter_desc arp_counter_desc[] = { ARP_COUNTERS(ARP_DESC) };
const size_t arp_counter_count = TS_COUNTERS_LEN(arp_counter_desc);

void arp_init(struct arp_layer *arp, struct eth_layer *eth,
              struct pbuf_pool *pool, uint32_t my_ip, const struct ts_log *log)
{
    memset(arp, 0, sizeof *arp);
    arp->eth = eth;
    arp->pool = pool;
    arp->my_ip = my_ip;
    arp->log = log;
    arp_cache_init(&arp->cache);
}

void arp_destroy(struct arp_layer *arp)
{
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
        pbuf_free_chain(arp_cache_remove(&arp->cache.e[i]));
}

static void arp_send(struct arp_layer *arp, uint16_t op, const uint8_t *dst_mac,
                     const uint8_t *tha, uint32_t tpa)
{
    struct pbuf *pb = pbuf_alloc(arp->pool, PBUF_HEADROOM, ARP_LEN);
    if (!pb) {
        ARP_COUNT(arp, drop_no_buffer);
        return;
    }
    struct arp_pkt p = { .op = op, .spa = arp->my_ip, .tpa = tpa };
    memcpy(p.sha, arp->eth->mac, 6);
    memcpy(p.tha, tha, 6);
    arp_emit(&p, pb->data);
    if (op == ARP_OP_REQUEST)
        arp->stats.tx_requests++;
    else
        arp->stats.tx_replies++;
    eth_output(arp->eth, pb, dst_mac, ETH_TYPE_ARP);
}

static const uint8_t arp_zero_mac[6];

static void arp_request(struct arp_layer *arp, uint32_t ip)
{
    arp_send(arp, ARP_OP_REQUEST, eth_broadcast, arp_zero_mac, ip);
}

void arp_announce(struct arp_layer *arp)
{
    arp_request(arp, arp->my_ip);
}

/* Send the packets that waited for e's MAC, oldest first. */
static void arp_flush_queue(struct arp_layer *arp, struct arp_entry *e)
{
    struct pbuf *q = arp_cache_take_queue(e);
    while (q) {
        struct pbuf *next = q->next;
        q->next = NULL;
        eth_output(arp->eth, q, e->mac, ETH_TYPE_IPV4);
        q = next;
    }
}

static void arp_learn(struct arp_layer *arp, struct arp_entry *e,
                      const uint8_t mac[6], uint64_t now)
{
    if (ts_ev_on(arp->ev) &&
        (e->state != ARP_REACHABLE || memcmp(e->mac, mac, 6) != 0)) {
        struct ts_event ev;
        ts_ev_begin(&ev, TS_EVL_ARP, "arp_resolved", "is-at", "826");
        ts_ev_kv_ip(&ev, "ip", e->ip);
        ts_ev_kv_mac(&ev, "mac", mac);
        ts_ev_emit(arp->ev, &ev, 0);
    }
    memcpy(e->mac, mac, 6);
    e->state = ARP_REACHABLE;
    e->tries = 0;
    e->deadline = now + ARP_REACHABLE_MS;
    arp->stats.learned++;
    arp_flush_queue(arp, e);
}

static int arp_sender_ok(const struct arp_layer *arp, const struct arp_pkt *p)
{
    (void)arp;
    return !eth_is_multicast(p->sha) && p->spa != 0 && p->spa != 0xffffffffu;
}

/* Count and drop a packet that fails parsing; returns nonzero if it did. */
static int arp_parse_counted(struct arp_layer *arp, const struct pbuf *pb,
                             struct arp_pkt *p)
{
    int rc = arp_parse(pb->data, pb->len, p);
    if (rc == ARP_ERR_TRUNCATED)
        ARP_COUNT(arp, drop_truncated);
    else if (rc == ARP_ERR_FORMAT)
        ARP_COUNT(arp, drop_bad_format);
    else if (rc == ARP_ERR_OP)
        ARP_COUNT(arp, drop_bad_op);
    return rc != ARP_OK;
}

/* Free packets that waited for an address that never resolved. */
static void arp_drop_queue(struct arp_layer *arp, struct pbuf *q)
{
    for (struct pbuf *p = q; p; p = p->next)
        arp->stats.resolve_failed++;
    pbuf_free_chain(q);
}

/* Any entry may be evicted (the cache is full); only an INCOMPLETE one has
 * a queue, and those packets are lost. */
static void arp_drop_evicted(struct arp_layer *arp, struct pbuf *q)
{
    arp->stats.evicted++;
    arp_drop_queue(arp, q);
}

/* RFC 826 "Packet Reception", with RFC 1122/5227 hygiene on the sender. */
static void arp_process(struct arp_layer *arp, const struct arp_pkt *p,
                        uint64_t now)
{
    if (p->op == ARP_OP_REQUEST)
        arp->stats.rx_requests++;
    else
        arp->stats.rx_replies++;
    if (p->spa == arp->my_ip) {
        ARP_COUNT(arp, addr_conflict);
        TS_WARN(arp->log, "arp: another host claims our address");
        return;
    }
    /* RFC 5227 §2.1.1 probe: a host checking whether our address is free.
     * Answer so it finds the conflict; learn nothing from sender 0. */
    if (p->spa == 0 && p->op == ARP_OP_REQUEST && p->tpa == arp->my_ip &&
        !eth_is_multicast(p->sha)) {
        arp->stats.rx_probes++;
        arp_send(arp, ARP_OP_REPLY, p->sha, p->sha, 0);
        return;
    }
    if (!arp_sender_ok(arp, p)) {
        ARP_COUNT(arp, drop_bad_sender);
        return;
    }
    struct arp_entry *e = arp_cache_find(&arp->cache, p->spa);
    if (e)
        arp_learn(arp, e, p->sha, now);     /* the merge step */
    if (p->tpa != arp->my_ip) {
        if (!e)
            arp->stats.not_for_us++;
        return;
    }
    if (p->op == ARP_OP_REPLY) {
        if (!e)
            ARP_COUNT(arp, drop_unsolicited);
        return;
    }
    if (!e) {
        struct pbuf *evicted;
        if (arp_cache_add(&arp->cache, p->spa, ARP_REACHABLE, now, &e, &evicted))
            arp_drop_evicted(arp, evicted);
        arp_learn(arp, e, p->sha, now);
    }
    arp_send(arp, ARP_OP_REPLY, p->sha, p->sha, p->spa);
}

void arp_input(void *ctx, struct pbuf *pb, const struct eth_hdr *h,
               uint64_t now)
{
    struct arp_layer *arp = ctx;
    struct arp_pkt p;
    (void)h;
    arp->stats.rx_packets++;
    if (!arp_parse_counted(arp, pb, &p))
        arp_process(arp, &p, now);
    pbuf_free(pb);
}

int arp_output(struct arp_layer *arp, struct pbuf *pb, uint32_t next_hop,
               uint64_t now)
{
    struct arp_entry *e = arp_cache_find(&arp->cache, next_hop);
    if (e && e->state == ARP_REACHABLE)
        return eth_output(arp->eth, pb, e->mac, ETH_TYPE_IPV4);
    if (!e) {
        struct pbuf *evicted;
        if (arp_cache_add(&arp->cache, next_hop, ARP_INCOMPLETE,
                          now + ARP_RETRY_MS, &e, &evicted))
            arp_drop_evicted(arp, evicted);
        e->tries = 1;
        arp_request(arp, next_hop);
    }
    arp->stats.queued++;
    struct pbuf *old = arp_cache_enqueue(e, pb);
    if (old) {
        ARP_COUNT(arp, queue_overflow);
        pbuf_free(old);
    }
    return 0;
}

static void arp_poll_entry(struct arp_layer *arp, struct arp_entry *e,
                           uint64_t now)
{
    if (e->state == ARP_REACHABLE) {
        arp_cache_remove(e);    /* expired: the next use asks again */
        return;
    }
    if (e->tries >= ARP_MAX_TRIES) {
        if (ts_ev_on(arp->ev)) {
            struct ts_event ev;
            ts_ev_begin(&ev, TS_EVL_ARP, "arp_failed", "no answer",
                        "1122 2.3.2.1");
            ts_ev_kv_ip(&ev, "ip", e->ip);
            ts_ev_kv_int(&ev, "tries", e->tries);
            ts_ev_emit(arp->ev, &ev, 0);
        }
        arp_drop_queue(arp, arp_cache_remove(e));
        return;
    }
    e->tries++;
    e->deadline = now + ARP_RETRY_MS;
    arp_request(arp, e->ip);
}

void arp_poll(struct arp_layer *arp, uint64_t now)
{
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
        struct arp_entry *e = &arp->cache.e[i];
        if (e->state != ARP_FREE && e->deadline <= now)
            arp_poll_entry(arp, e, now);
    }
}

uint64_t arp_next_deadline(const struct arp_layer *arp)
{
    return arp_cache_next_deadline(&arp->cache);
}
