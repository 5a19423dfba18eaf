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

/* The layer's counters, one line each: X(name, event, RFC, help); a
 * count with an event name is also an event on the stack's event path
 * (ARP_COUNT). */
#define ARP_COUNTERS(X) \
    X(rx_packets, NULL, NULL, "ARP packets received") \
    X(rx_requests, NULL, NULL, "requests received") \
    X(rx_replies, NULL, NULL, "replies received") \
    X(tx_requests, NULL, NULL, "requests sent (resolution and announcements)") \
    X(tx_replies, NULL, NULL, "replies sent") \
    X(drop_truncated, "drop", "826", "dropped: shorter than 28 bytes") \
    X(drop_bad_format, "drop", "826", "dropped: not Ethernet/IPv4 (htype, ptype, hlen, plen)") \
    X(drop_bad_op, "drop", "826", "dropped: operation neither request nor reply") \
    X(drop_bad_sender, "drop", "1812 3.3.2", "dropped: sender MAC multicast or sender IP 0/broadcast") \
    X(drop_unsolicited, "drop", NULL, "ignored: reply we did not ask for") \
    X(addr_conflict, "addr_conflict", "5227 2.4", "packets from another host claiming our address") \
    X(rx_probes, NULL, NULL, "address probes for our address answered (RFC 5227)") \
    X(not_for_us, NULL, NULL, "requests for other addresses (ignored)") \
    X(learned, NULL, NULL, "neighbour entries created or refreshed") \
    X(evicted, NULL, NULL, "entries evicted because the cache was full") \
    X(queued, NULL, NULL, "packets held while their next hop was resolved") \
    X(queue_overflow, "drop", NULL, "dropped: held-packet queue full (oldest dropped)") \
    X(resolve_failed, NULL, NULL, "dropped: next hop never answered") \
    X(drop_no_buffer, "drop", NULL, "ARP packets not sent: buffer pool empty")

struct arp_stats { ARP_COUNTERS(TS_CTR_FIELD) };

#define ARP_REASON(n, e, r, h) ARP_R_##n,
enum arp_reason { ARP_COUNTERS(ARP_REASON) ARP_R_COUNT };
#define ARP_COUNT(arp, name) TS_COUNT((arp)->ev, TS_EVL_ARP, (arp)->stats, \
                                      arp_counter_desc, ARP_R_##name, name)

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
