/* ipv4/ipv4.h - the IPv4 layer of a host: the interface table, route
 * choice, input checks, output with fragmentation, reassembly, and protocol
 * dispatch (RFC 791, RFC 1122 §3.2).
 *
 * Interfaces. The layer below IPv4 is a small table of interfaces, each an
 * address and mask, an MTU, and the Ethernet layer over its netdev (which
 * keeps the interface's counters and capture). The TAP is entry 0, set up by
 * ipv4_init from the configuration; the stack adds the loopback interface
 * `lo` (127.0.0.1/8, MTU 65,536) with ipv4_add_if, and later backends (a
 * second TAP, AF_PACKET, AF_XDP) plug in the same way. A loopback netdev is
 * one whose frames come back into the stack's input: it is not a branch of
 * the output path but a route to an interface like any other.
 *
 * Routes (ipv4_route_lookup): any of our own addresses and 127/8 go to the
 * loopback interface; a destination on an interface's subnet (or its
 * broadcast) to that interface; anything else to the default gateway.
 * The route also picks the source address when the caller has none: the
 * destination itself for one of our addresses, 127.0.0.1 for the rest of
 * 127/8, the interface's address otherwise. 0.0.0.0 as a destination means
 * this host, as on Linux.
 *
 * Input drops (and counts) everything a host must not accept: bad headers;
 * on a wire, martian sources (RFC 1122 §3.2.1.3: 0/8, 127/8, multicast,
 * broadcast, class E, our own addresses) and 127/8 destinations (127/8 is
 * never on a wire); datagrams for another address (we do not forward).
 * Fragments go through ipv4_reass; whole datagrams go to the handler
 * registered for their protocol (ICMP is built in), or draw ICMP protocol
 * unreachable. A datagram with options has them checked (ipv4_opt.c) before
 * reassembly, as RFC 1122 §3.2.1.8 says: malformed options are counted by
 * reason and answered with ICMP Parameter Problem pointing at the bad
 * octet (RFC 1122 §3.2.2.5, rate-limited and suppressed like every ICMP
 * error); a source route not yet completed is counted and dropped (we are
 * a host and do not forward, §3.3.5); a completed one has reached us, its
 * final destination, and is accepted. Output fills the header (TTL 64), fragments what exceeds the
 * interface's MTU, and refuses a 127/8 source toward a wire.
 *
 * Entry points: ipv4_init, ipv4_destroy, ipv4_add_if, ipv4_register,
 * ipv4_input, ipv4_output, ipv4_output_tt, ipv4_output_opts,
 * ipv4_route_lookup,
 * ipv4_route_mtu, ipv4_is_local, ipv4_is_broadcast, ipv4_is_martian,
 * ipv4_poll, ipv4_next_deadline, ipv4_counter_desc.
 */
#ifndef TS_IPV4_IPV4_H
#define TS_IPV4_IPV4_H

#include <stdint.h>

#include "arp/arp.h"
#include "core/counters.h"
#include "core/event.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "eth/eth.h"
#include "ipv4/icmp.h"
#include "ipv4/ipv4_reass.h"
#include "ipv4/ipv4_wire.h"

#define IPV4_MAX_HANDLERS 4
#define IPV4_MAX_IFS 4
#define IPV4_MIN_MTU 68         /* RFC 791: every link carries this much */
#define IPV4_LOOPBACK_ADDR 0x7f000001u      /* 127.0.0.1 */
#define IPV4_LOOPBACK_NET(a) (((a) >> 24) == 127)

/* pbuf flag set on input when the frame was a link-layer broadcast: such a
 * datagram never draws an ICMP error (RFC 1122 §3.2.2). */
#define PBUF_F_LINK_BCAST 0x100u

/* Receives pb with data at the transport header, pb->len the payload length
 * of the (reassembled) datagram; the IP header (h->hlen bytes) still lies
 * just before pb->data. Consumes pb. */
typedef void (*ipv4_rx_fn)(void *ctx, struct pbuf *pb, const struct ipv4_hdr *h,
                           uint64_t now);

/* The layer's counters, one line each: X(name, event, RFC, help), in two
 * lists so that the printed table keeps reassembly's between them; a
 * count with an event name is also an event on the event path
 * (IPV4_COUNT). */
#define IPV4_COUNTERS_RX(X) \
    X(rx_packets, NULL, NULL, "datagrams received (fragments counted one by one)") \
    X(rx_delivered, NULL, NULL, "datagrams handed to ICMP or a transport") \
    X(rx_local, NULL, NULL, "datagrams received by the loopback interface") \
    X(drop_truncated, "drop", "791 3.1", "dropped: shorter than a 20-byte header") \
    X(drop_version, "drop", "791 3.1", "dropped: version not 4") \
    X(drop_bad_hlen, "drop", "1122 3.2.1.1", "dropped: IHL < 5 or header longer than the packet") \
    X(drop_bad_totlen, "drop", "1122 3.2.1.1", "dropped: total length < header or > frame") \
    X(drop_bad_cksum, "drop", "1122 3.2.1.2", "dropped: header checksum does not verify") \
    X(drop_martian_src, "drop", "1122 3.2.1.3", "dropped: source 0/8, 127/8, multicast, class E, broadcast or ours") \
    X(drop_martian_dst, "drop", "1122 3.2.1.3", "dropped: destination 127/8 arrived on a wire") \
    X(drop_not_for_us, "drop", "1122 3.3.4", "dropped: destination not our address (we do not forward)") \
    X(drop_unknown_proto, "drop", "1122 3.2.2.1", "dropped: no handler for the protocol (ICMP unreachable)") \
    X(rx_options, NULL, NULL, "datagrams received with options (checked, RFC 791)") \
    X(drop_opt_bad_len, "drop", "791 3.1", "dropped: option length < 2 or past the header (parameter problem)") \
    X(drop_opt_bad_rr, "drop", "791 3.1", "dropped: Record Route length or pointer out of range, or repeated") \
    X(drop_opt_bad_srr, "drop", "791 3.1", "dropped: source route length or pointer out of range, or two") \
    X(drop_opt_bad_ts, "drop", "791 3.1", "dropped: Timestamp length, pointer or flag out of range, or repeated") \
    X(drop_srcroute, "drop", "1122 3.3.5", "dropped: source route not completed (a host does not forward)")
#define IPV4_COUNTERS_TX(X) \
    X(tx_packets, NULL, NULL, "datagrams sent") \
    X(tx_local, NULL, NULL, "datagrams sent by the loopback interface (to ourselves)") \
    X(tx_fragments, NULL, NULL, "fragments sent for datagrams larger than the MTU") \
    X(tx_no_route, "drop", NULL, "not sent: destination off-link and no gateway") \
    X(tx_bad_src, "drop", NULL, "not sent: source not ours, or 127/8 toward a wire") \
    X(tx_no_buffer, "drop", NULL, "not sent: buffer pool empty") \
    X(tx_too_big, "drop", NULL, "not sent: larger than 65,535 bytes, or a super-frame the device cannot cut")
#define IPV4_COUNTERS(X) IPV4_COUNTERS_RX(X) IPV4_COUNTERS_TX(X)

struct ipv4_stats { IPV4_COUNTERS(TS_CTR_FIELD) };

#define IPV4_REASON(n, e, r, h) IPV4_R_##n,
enum ipv4_reason { IPV4_COUNTERS(IPV4_REASON) IPV4_R_COUNT };
extern const struct ts_counter_desc ipv4_reason_desc[];
#define IPV4_COUNT(ip, name) TS_COUNT((ip)->ev, TS_EVL_IPV4, (ip)->stats, \
                                      ipv4_reason_desc, IPV4_R_##name, name)

/* Counters of the layer, reassembly and ICMP included: offsets are from the
 * start of struct ipv4_layer, so print them with the layer as the base. */
extern const struct ts_counter_desc ipv4_counter_desc[];
extern const size_t ipv4_counter_count;

/* The TAP interface (entry 0) and the default route. */
struct ipv4_config {
    uint32_t addr;              /* our address, host order */
    uint8_t prefix;             /* on-link subnet length */
    uint32_t gateway;           /* default route; 0: none */
    uint16_t mtu;               /* largest datagram per frame */
};

struct ipv4_layer;

/* One entry of the interface table. */
struct ipv4_if {
    char name[NETDEV_NAMELEN];
    uint32_t addr, mask;        /* our address on it, host order */
    uint8_t prefix;
    uint32_t mtu;               /* largest datagram per frame */
    uint32_t flags;             /* the netdev's NETDEV_F_* capabilities */
    uint32_t gso_max;           /* the netdev's: largest super-frame datagram */
    struct eth_layer *eth;      /* framing, the device, its counters */
    struct arp_layer *arp;      /* neighbour resolution; NULL on loopback */
    struct ipv4_layer *ip;      /* back to the layer (ipv4_input's ctx) */
};

/* Where a datagram goes: the result of ipv4_route_lookup. */
struct ipv4_route {
    const struct ipv4_if *ifp;  /* the interface it leaves by */
    uint32_t dst;               /* its destination (0.0.0.0 resolved) */
    uint32_t src;               /* its source: the caller's, or chosen */
    uint32_t next_hop;          /* dst on the link, or the gateway */
};

struct ipv4_layer {
    struct ipv4_config cfg;
    uint32_t mask;              /* from cfg.prefix */
    struct ipv4_if ifs[IPV4_MAX_IFS];   /* [0]: the TAP (cfg) */
    unsigned nifs;
    const struct ipv4_if *lo;   /* the loopback interface, or NULL */
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
    struct ts_events *ev;       /* the stack's event path, or NULL */
};

void ipv4_init(struct ipv4_layer *ip, const struct ipv4_config *cfg,
               struct eth_layer *eth, struct arp_layer *arp,
               struct pbuf_pool *pool, uint16_t first_id,
               const struct ts_log *log);
void ipv4_destroy(struct ipv4_layer *ip);
/* Add an interface on eth (and arp, NULL for none) with addr/prefix and
 * mtu; a loopback netdev makes it the loopback interface. The caller
 * registers ipv4_input on eth with the returned entry as its ctx. NULL
 * when the table is full. */
struct ipv4_if *ipv4_add_if(struct ipv4_layer *ip, struct eth_layer *eth,
                            struct arp_layer *arp, uint32_t addr,
                            uint8_t prefix, uint32_t mtu);
/* 0, or -ENOSPC when the table is full. */
int ipv4_register(struct ipv4_layer *ip, uint8_t proto, ipv4_rx_fn fn,
                  void *ctx);
/* Ethernet handler for ETH_TYPE_IPV4; ctx is the struct ipv4_if the frame
 * arrived on (&ip->ifs[0] for the TAP). */
void ipv4_input(void *ctx, struct pbuf *pb, const struct eth_hdr *eh,
                uint64_t now);
/* Send payload pb->data (the transport header and data, already complete)
 * to dst by the route ipv4_route_lookup picks. Prepends the IP header,
 * fragments when larger than the interface's MTU. src 0 means the route's
 * source. Consumes pb. 0 or -errno (-ENETUNREACH, -EINVAL for a source
 * that is not ours or 127/8 toward a wire, -EMSGSIZE, -ENOBUFS). */
int ipv4_output(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                uint32_t dst, uint8_t proto, uint64_t now);
/* The same with a socket's IP_TTL (0: the default, 64) and IP_TOS. */
int ipv4_output_tt(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                   uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                   uint64_t now);
/* The same with options (optlen bytes, a multiple of 4, at most 40) in
 * the header: all of them in the first fragment, only those whose copy
 * flag is set in the others. -EINVAL for a bad optlen. */
int ipv4_output_opts(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                     uint32_t dst, uint8_t proto, const uint8_t *opts,
                     size_t optlen, uint64_t now);
/* Reassembly time-outs due by now. */
void ipv4_poll(struct ipv4_layer *ip, uint64_t now);
uint64_t ipv4_next_deadline(const struct ipv4_layer *ip);

/* The route to dst from src (0: any of ours). 0, -ENETUNREACH (off-link
 * and no gateway) or -EINVAL (src not ours, or 127/8 toward a wire). */
int ipv4_route_lookup(const struct ipv4_layer *ip, uint32_t dst, uint32_t src,
                      struct ipv4_route *rt);
/* The largest datagram toward dst: its interface's MTU, at most 65,535
 * (the TAP's when there is no route). */
uint32_t ipv4_route_mtu(const struct ipv4_layer *ip, uint32_t dst);
/* Is addr one of ours: an interface's address, or 127/8 (all of it is the
 * loopback interface's, as on Linux) when there is one? */
int ipv4_is_local(const struct ipv4_layer *ip, uint32_t addr);
/* Is addr a broadcast address on one of our links (limited or
 * subnet-directed)? */
int ipv4_is_broadcast(const struct ipv4_layer *ip, uint32_t addr);
/* Can addr not be a unique host's source address on a wire (RFC 1122
 * §3.2.1.3): 0/8, 127/8, multicast, class E, a broadcast, a subnet's
 * all-zeros address, or one of our own addresses? */
int ipv4_is_martian(const struct ipv4_layer *ip, uint32_t addr);

#endif
