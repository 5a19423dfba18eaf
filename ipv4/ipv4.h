/* ipv4/ipv4.h - the IPv4 layer of a host: input checks, routing, output with
 * fragmentation, reassembly, and protocol dispatch (RFC 791, RFC 1122 §3.2).
 *
 * Input drops (and counts) everything a host must not accept: bad headers,
 * martian sources (RFC 1122 §3.2.1.3: 0/8, 127/8, multicast, broadcast, class
 * E, our own address), datagrams for another address (we do not forward).
 * Fragments go through ipv4_reass; whole datagrams go to the handler
 * registered for their protocol (ICMP is built in), or draw ICMP protocol
 * unreachable. Output routes to the on-link subnet or the default gateway,
 * fills the header (TTL 64) and fragments what exceeds the MTU.
 * Entry points: ipv4_init, ipv4_destroy, ipv4_register, ipv4_input,
 * ipv4_output, ipv4_poll, ipv4_next_deadline, ipv4_counter_desc.
 */
#ifndef TS_IPV4_IPV4_H
#define TS_IPV4_IPV4_H

#include <stdint.h>

#include "arp/arp.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "eth/eth.h"
#include "ipv4/icmp.h"
#include "ipv4/ipv4_reass.h"
#include "ipv4/ipv4_wire.h"

#define IPV4_MAX_HANDLERS 4
#define IPV4_MIN_MTU 68         /* RFC 791: every link carries this much */

/* pbuf flag set on input when the frame was a link-layer broadcast: such a
 * datagram never draws an ICMP error (RFC 1122 §3.2.2). */
#define PBUF_F_LINK_BCAST 0x100u

/* Receives pb with data at the transport header, pb->len the payload length
 * of the (reassembled) datagram; the IP header (h->hlen bytes) still lies
 * just before pb->data. Consumes pb. */
typedef void (*ipv4_rx_fn)(void *ctx, struct pbuf *pb, const struct ipv4_hdr *h,
                           uint64_t now);

struct ipv4_stats {
    uint64_t rx_packets;
    uint64_t rx_delivered;
    uint64_t drop_truncated;
    uint64_t drop_version;
    uint64_t drop_bad_hlen;
    uint64_t drop_bad_totlen;
    uint64_t drop_bad_cksum;
    uint64_t drop_martian_src;
    uint64_t drop_not_for_us;
    uint64_t drop_unknown_proto;
    uint64_t tx_packets;
    uint64_t tx_fragments;
    uint64_t tx_no_route;
    uint64_t tx_no_buffer;
    uint64_t tx_too_big;
};

/* Counters of the layer, reassembly and ICMP included: offsets are from the
 * start of struct ipv4_layer, so print them with the layer as the base. */
extern const struct ts_counter_desc ipv4_counter_desc[];
extern const size_t ipv4_counter_count;

struct ipv4_config {
    uint32_t addr;              /* our address, host order */
    uint8_t prefix;             /* on-link subnet length */
    uint32_t gateway;           /* default route; 0: none */
    uint16_t mtu;               /* largest datagram per frame */
};

struct ipv4_layer {
    struct ipv4_config cfg;
    uint32_t mask;              /* from cfg.prefix */
    struct eth_layer *eth;
    struct arp_layer *arp;
    struct pbuf_pool *pool;
    uint16_t next_id;
    struct {
        uint8_t proto;
        ipv4_rx_fn fn;
        void *ctx;
    } handlers[IPV4_MAX_HANDLERS];
    unsigned nhandlers;
    struct ipv4_reass reass;
    struct icmp_layer icmp;
    const struct ts_log *log;
    struct ipv4_stats stats;
};

void ipv4_init(struct ipv4_layer *ip, const struct ipv4_config *cfg,
               struct eth_layer *eth, struct arp_layer *arp,
               struct pbuf_pool *pool, uint16_t first_id,
               const struct ts_log *log);
void ipv4_destroy(struct ipv4_layer *ip);
/* 0, or -ENOSPC when the table is full. */
int ipv4_register(struct ipv4_layer *ip, uint8_t proto, ipv4_rx_fn fn,
                  void *ctx);
/* Ethernet handler for ETH_TYPE_IPV4 (ctx is the struct ipv4_layer). */
void ipv4_input(void *ctx, struct pbuf *pb, const struct eth_hdr *eh,
                uint64_t now);
/* Send payload pb->data (the transport header and data, already complete)
 * to dst. Prepends the IP header, fragments when larger than the MTU.
 * src 0 means our address. Consumes pb. 0 or -errno (-ENETUNREACH,
 * -EMSGSIZE, -ENOBUFS). */
int ipv4_output(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                uint32_t dst, uint8_t proto, uint64_t now);
/* The same with a socket's IP_TTL (0: the default, 64) and IP_TOS. */
int ipv4_output_tt(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                   uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                   uint64_t now);
/* Reassembly time-outs due by now. */
void ipv4_poll(struct ipv4_layer *ip, uint64_t now);
uint64_t ipv4_next_deadline(const struct ipv4_layer *ip);

/* Is addr a broadcast address on our link (limited or subnet-directed)? */
int ipv4_is_broadcast(const struct ipv4_layer *ip, uint32_t addr);
/* Can addr not be a unique host's source address (RFC 1122 §3.2.1.3): 0/8,
 * 127/8, multicast, class E, a broadcast, our subnet's all-zeros address,
 * or our own address? */
int ipv4_is_martian(const struct ipv4_layer *ip, uint32_t addr);

#endif
