/* ipv4/ipv4_reass.h - bounded reassembly of IPv4 fragments (RFC 791, 815).
 *
 * At most IPV4_REASS_SLOTS datagrams are in progress; each holds one large
 * pool buffer into which fragments are copied at their offset, and a bitmap
 * of the 8-byte blocks received. That bounds memory whatever arrives:
 * - a fragment that would end past 65,535 bytes (ping of death) is dropped;
 * - a fragment that overlaps data already received is an attack or a broken
 *   sender: the whole datagram is dropped (an exact duplicate with identical
 *   bytes is harmless and only counted);
 * - a datagram not complete within IPV4_REASS_TIMEOUT_MS is dropped, and the
 *   caller is handed its first fragment's header to report with ICMP time
 *   exceeded (code 1) when fragment 0 had arrived;
 * - when every slot is busy the oldest datagram is evicted.
 * A datagram whose first fragment's header plus all its data would exceed
 * 65,535 bytes is dropped too (its total length could not be written).
 * Pure data structure: no I/O; time comes in as `now` (ms).
 * Entry points: ipv4_reass_init, ipv4_reass_destroy, ipv4_reass_input,
 * ipv4_reass_poll, ipv4_reass_next_deadline.
 */
#ifndef TS_IPV4_IPV4_REASS_H
#define TS_IPV4_IPV4_REASS_H

#include <stdint.h>

#include "core/pbuf.h"
#include "ipv4/ipv4_wire.h"

#define IPV4_REASS_SLOTS 8
#define IPV4_REASS_TIMEOUT_MS 30000
#define IPV4_REASS_BLOCKS (65536 / 8)

struct ipv4_reass_stats {
    uint64_t frags;             /* fragments received */
    uint64_t done;              /* datagrams reassembled */
    uint64_t dup;               /* exact duplicate fragments ignored */
    uint64_t overlap;           /* datagrams dropped for overlapping data */
    uint64_t too_big;           /* fragments ending past 65,535 bytes */
    uint64_t bad_len;           /* non-last fragment not a multiple of 8,
                                   or data past the last fragment's end */
    uint64_t timeout;           /* datagrams dropped incomplete */
    uint64_t evicted;           /* datagrams dropped to free a slot */
    uint64_t no_buffer;         /* fragments dropped: pool empty */
};

/* A slot's buffer keeps payload offset 0 at base + PBUF_HEADROOM +
 * IPV4_HLEN_MAX, so the rebuilt header (up to 60 bytes) goes just in front
 * of the data and the finished datagram still has full headroom for the
 * layers that answer with it in place (an echo reply). */
struct ipv4_reass_slot {
    struct pbuf *buf;           /* NULL: slot free */
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint8_t have_first;         /* fragment 0 arrived: hdr is its header */
    uint8_t have_last;          /* the last fragment (MF clear) arrived */
    uint32_t total;             /* payload length once the last arrived, else 0 */
    uint32_t received;          /* payload bytes received so far */
    uint32_t high;              /* end of the furthest payload received */
    uint64_t started;
    /* First fragment's header and up to 8 payload bytes: the quote for
     * ICMP time exceeded, and the template of the rebuilt header. */
    uint8_t hdr[IPV4_HLEN_MAX + 8];
    uint8_t hdr_len;            /* header bytes in hdr (IHL * 4) */
    uint8_t quote_len;          /* valid bytes in hdr: header + payload */
    uint8_t map[IPV4_REASS_BLOCKS / 8];
};

struct ipv4_reass {
    struct pbuf_pool *pool;
    struct ipv4_reass_slot slot[IPV4_REASS_SLOTS];
    struct ipv4_reass_stats stats;
};

/* Called for each datagram given up on timeout that had its first fragment:
 * hdr is that fragment's header and the first 8 payload bytes (len bytes). */
typedef void (*ipv4_reass_expired_fn)(void *ctx, const uint8_t *hdr,
                                      size_t len, uint64_t now);

void ipv4_reass_init(struct ipv4_reass *r, struct pbuf_pool *pool);
/* Free every buffer held. */
void ipv4_reass_destroy(struct ipv4_reass *r);

/* A fragment: pb->data at the IP header, pb->len == h->total_len, h parsed.
 * Consumes pb. Returns the complete datagram when this fragment finished one
 * (data at a rebuilt 20-byte-or-longer IP header whose total length and
 * fragment fields describe the whole datagram; *out_h filled), else NULL.
 * The rebuilt header is the first fragment's (options, TTL and DF kept), with
 * MF and offset cleared. A fragment whose h disagrees with its bytes is
 * dropped as bad_len. */
struct pbuf *ipv4_reass_input(struct ipv4_reass *r, struct pbuf *pb,
                              const struct ipv4_hdr *h, struct ipv4_hdr *out_h,
                              uint64_t now);

/* Expire datagrams whose time is up, calling fn for each with fragment 0. */
void ipv4_reass_poll(struct ipv4_reass *r, uint64_t now,
                     ipv4_reass_expired_fn fn, void *ctx);
uint64_t ipv4_reass_next_deadline(const struct ipv4_reass *r);

#endif
