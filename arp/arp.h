/* arp/arp.h - address resolution for IPv4 over Ethernet (RFC 826, RFC 1122
 * §2.3.2).
 *
 * Input follows RFC 826's packet reception algorithm: update the sender's
 * entry if we have one; if the packet is for our address, add the sender
 * (requests only: an unsolicited reply never creates an entry) and answer
 * requests. Output resolves the next hop, queueing a few packets while a
 * request is out; requests repeat once per second and give up after
 * ARP_MAX_TRIES, dropping the queue (counted).
 * Entry points: arp_init, arp_destroy, arp_input, arp_output, arp_announce, arp_poll,
 * arp_next_deadline, arp_counter_desc.
 */
#ifndef TS_ARP_ARP_H
#define TS_ARP_ARP_H

#include <stdint.h>

#include "arp/arp_cache.h"
#include "arp/arp_wire.h"
#include "core/counters.h"
#include "core/event.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "eth/eth.h"

struct arp_stats {
    uint64_t rx_packets;
    uint64_t rx_requests;
    uint64_t rx_replies;
    uint64_t tx_requests;
    uint64_t tx_replies;
    uint64_t drop_truncated;
    uint64_t drop_bad_format;
    uint64_t drop_bad_op;
    uint64_t drop_bad_sender;
    uint64_t drop_unsolicited;
    uint64_t addr_conflict;
    uint64_t rx_probes;
    uint64_t not_for_us;
    uint64_t learned;
    uint64_t evicted;
    uint64_t queued;
    uint64_t queue_overflow;
    uint64_t resolve_failed;
    uint64_t drop_no_buffer;
};

extern const struct ts_counter_desc arp_counter_desc[];
extern const size_t arp_counter_count;

struct arp_layer {
    struct eth_layer *eth;
    struct pbuf_pool *pool;
    uint32_t my_ip;             /* host order */
    struct arp_cache cache;
    const struct ts_log *log;
    struct arp_stats stats;
    struct ts_events *ev;       /* the stack's event path, or NULL */
};

void arp_init(struct arp_layer *arp, struct eth_layer *eth,
              struct pbuf_pool *pool, uint32_t my_ip, const struct ts_log *log);
/* Free the packets still waiting for resolution. */
void arp_destroy(struct arp_layer *arp);
/* Ethernet handler for ETH_TYPE_ARP (ctx is the struct arp_layer). */
void arp_input(void *ctx, struct pbuf *pb, const struct eth_hdr *h,
               uint64_t now);
/* Send IPv4 datagram pb (data at the IP header) to next_hop on the link.
 * Consumes pb. 0 when sent or queued; -errno when dropped. */
int arp_output(struct arp_layer *arp, struct pbuf *pb, uint32_t next_hop,
               uint64_t now);
/* Gratuitous ARP: a request for our own address (RFC 5227 §3). */
void arp_announce(struct arp_layer *arp);
/* Retries, give-ups and expiry due by now. */
void arp_poll(struct arp_layer *arp, uint64_t now);
uint64_t arp_next_deadline(const struct arp_layer *arp);

#endif
