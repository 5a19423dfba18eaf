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
#include "core/event.h"
#include "core/pbuf.h"
#include "ipv4/icmp_wire.h"
#include "ipv4/ipv4_wire.h"

#define ICMP_RATE_BURST 20
#define ICMP_RATE_PER_SEC 50

/* The layer's counters, one line each: X(name, event, RFC, help); a
 * count with an event name is also an event on the stack's event path
 * (ICMP_COUNT). */
#define ICMP_COUNTERS(X) \
    X(rx_messages, NULL, NULL, "ICMP messages received") \
    X(rx_echo_requests, NULL, NULL, "echo requests received") \
    X(rx_echo_replies, NULL, NULL, "echo replies received") \
    X(rx_errors, NULL, NULL, "error messages received (unreachable, time exceeded, ...)") \
    X(rx_other, NULL, NULL, "other types received and ignored") \
    X(tx_echo_replies, NULL, NULL, "echo replies sent") \
    X(tx_errors, NULL, NULL, "error messages sent") \
    X(tx_param_problems, NULL, NULL, "of which parameter problems (malformed IP options)") \
    X(tx_echo_options, NULL, NULL, "echo replies sent with reflected IP options (RFC 1122 3.2.2.6)") \
    X(drop_truncated, "drop", "792", "dropped: shorter than the 8-byte ICMP header") \
    X(drop_bad_cksum, "drop", "792", "dropped: ICMP checksum does not verify") \
    X(drop_broadcast_echo, "drop", "1122 3.2.2.6", "ignored: echo request sent to a broadcast address") \
    X(drop_echo_route, "drop", "1122 3.2.2.6", "ignored: echo request whose source route would send the reply to a broadcast, multicast, martian or own address") \
    X(err_suppressed, "drop", "1122 3.2.2", "errors not sent: RFC 1122 forbids one about that datagram") \
    X(err_rate_limited, "drop", "1812 4.3.2.8", "errors not sent: over the rate limit")

struct icmp_stats { ICMP_COUNTERS(TS_CTR_FIELD) };

#define ICMP_REASON(n, e, r, h) ICMP_R_##n,
enum icmp_reason { ICMP_COUNTERS(ICMP_REASON) ICMP_R_COUNT };
/* ip: the struct ipv4_layer, which holds the ICMP state. */
#define ICMP_COUNT(ip, name) TS_COUNT((ip)->ev, TS_EVL_ICMP, (ip)->icmp.stats, \
                                      icmp_counter_desc, ICMP_R_##name, name)

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
