/* ipv4/icmp.h - ICMP for a host (RFC 792, RFC 1122 §3.2.2).
 *
 * Answers echo requests with the request's exact identifier, sequence and
 * payload, reusing the request's buffer (no copy, even for a 64 KiB
 * reassembled ping). Sends errors (destination unreachable, time exceeded)
 * about a received datagram, but never about an ICMP error, a broadcast or
 * multicast datagram, a non-first fragment, or a datagram whose source is
 * not a unique host (RFC 1122 §3.2.2), and at most ICMP_RATE_BURST at once,
 * refilled at ICMP_RATE_PER_SEC (a token bucket, RFC 1812 §4.3.2.8).
 * Parameter Problem (type 12 code 0, for malformed IP options) goes the
 * same way with its pointer. An echo request with Record Route, Timestamp
 * or a completed source route is answered with those options reflected
 * (RFC 1122 §3.2.2.6; ipv4_opts_echo): our address and timestamp added
 * where there is room, the source route reversed into the return route.
 * The timestamp is the stack's millisecond clock with the high-order bit
 * set, RFC 791's mark for "not milliseconds since midnight UT".
 * Entry points: icmp_input, icmp_send_error, icmp_send_param_problem,
 * icmp_counter_desc.
 */
#ifndef TS_IPV4_ICMP_H
#define TS_IPV4_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"
#include "core/pbuf.h"
#include "ipv4/icmp_wire.h"
#include "ipv4/ipv4_wire.h"

#define ICMP_RATE_BURST 20
#define ICMP_RATE_PER_SEC 50

struct icmp_stats {
    uint64_t rx_messages;
    uint64_t rx_echo_requests;
    uint64_t rx_echo_replies;
    uint64_t rx_errors;
    uint64_t rx_other;
    uint64_t tx_echo_replies;
    uint64_t tx_errors;
    uint64_t tx_param_problems;
    uint64_t tx_echo_options;
    uint64_t drop_truncated;
    uint64_t drop_bad_cksum;
    uint64_t drop_broadcast_echo;
    uint64_t err_suppressed;
    uint64_t err_rate_limited;
};

extern const struct ts_counter_desc icmp_counter_desc[];
extern const size_t icmp_counter_count;

struct icmp_layer {
    uint32_t tokens_milli;      /* rate-limit bucket, in thousandths */
    uint64_t last_refill;
    struct icmp_stats stats;
};

struct ipv4_layer;

void icmp_init(struct icmp_layer *icmp);
/* Handler for IPV4_PROTO_ICMP (ctx is the struct ipv4_layer). */
void icmp_input(void *ctx, struct pbuf *pb, const struct ipv4_hdr *h,
                uint64_t now);
/* An ICMP error of type/code about the datagram whose IP header starts at
 * orig (orig_len bytes available: the header and at least 8 payload bytes
 * are quoted when present). link_bcast: it came as a link broadcast.
 * Does not consume anything; silently suppressed (counted) where RFC 1122
 * forbids the error or the rate limit is exceeded. */
void icmp_send_error(struct ipv4_layer *ip, const uint8_t *orig,
                     size_t orig_len, int link_bcast, uint8_t type,
                     uint8_t code, uint64_t now);
/* Parameter Problem (type 12, code 0) about that datagram, pointer the
 * offset of the octet at fault in its header; the same rules. */
void icmp_send_param_problem(struct ipv4_layer *ip, const uint8_t *orig,
                             size_t orig_len, int link_bcast, uint8_t pointer,
                             uint64_t now);

#endif
