/* core/pbuf.h - packet buffers from a fixed pool.
 *
 * One contiguous buffer per frame (DESIGN.md §3.4). A buffer has headroom so
 * each layer prepends its header in place with pbuf_push(), and input code
 * strips headers with pbuf_pull() without copying. All buffers are carved out
 * of one allocation at start-up: there is no malloc per packet, and when the
 * pool is empty allocation fails (counted) instead of growing.
 *
 * Two sizes: small buffers hold one Ethernet frame; large ones hold a whole
 * 64 KiB IPv4 datagram (reassembly, loopback segments, and the TAP's
 * super-frames, read straight into them).
 *
 * Ownership rule for the whole stack: a function that takes a struct pbuf *
 * for input or output consumes it (frees it or keeps it), unless its comment
 * says otherwise.
 *
 * Entry points: pbuf_pool_init, pbuf_pool_destroy, pbuf_alloc, pbuf_free,
 * pbuf_push, pbuf_pull, pbuf_put, pbuf_trim, pbuf_headroom, pbuf_tailroom,
 * pbuf_csum_finish.
 */
#ifndef TS_CORE_PBUF_H
#define TS_CORE_PBUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"

#define PBUF_SMALL_CAP 2048u
#define PBUF_LARGE_CAP (65536u + 512u)
/* Room for Ethernet (14) + IPv4 with options (60) + TCP with options (60). */
#define PBUF_HEADROOM 160u

/* Per-frame metadata a device adds or reads (the TAP's offloads):
 * CSUM_VALID   received: the device vouches for the transport checksum;
 * CSUM_PARTIAL the transport checksum field holds only the pseudo-header
 *              sum: whoever finishes the frame sums from pbuf.off.csum_start
 *              to the end and stores the result at csum_start + csum_off
 *              (received: the kernel left it so and vouches for the data;
 *              sent: the device finishes it);
 * GSO_TCPV4    a TCP super-frame: the device cuts it into segments of
 *              off.gso_size payload bytes (sent), or the kernel merged
 *              such segments (received). */
#define PBUF_F_CSUM_VALID 0x1u
#define PBUF_F_CSUM_PARTIAL 0x2u
#define PBUF_F_GSO_TCPV4 0x4u
#define PBUF_F_OFFLOAD (PBUF_F_CSUM_PARTIAL | PBUF_F_GSO_TCPV4)

/* Where the offload fields point, valid while a PBUF_F_OFFLOAD flag is
 * set. csum_start counts from pbuf.base, not pbuf.data, so it stays right
 * as layers push and pull their headers. */
struct pbuf_offload {
    uint32_t csum_start;    /* transport header, bytes from base */
    uint16_t csum_off;      /* checksum field within it (TCP: 16) */
    uint16_t hdr_len;       /* transport header length (GSO) */
    uint16_t gso_size;      /* payload bytes per segment (GSO) */
    uint16_t gso_segs;      /* segments the device makes of it (GSO) */
};

struct pbuf_pool;

struct pbuf {
    uint8_t *data;          /* first valid byte */
    size_t len;             /* number of valid bytes */
    uint8_t *base;          /* start of storage */
    size_t cap;             /* storage size */
    uint32_t flags;         /* PBUF_F_* */
    struct pbuf_offload off;    /* with PBUF_F_OFFLOAD */
    uint64_t frame;         /* capture frame number (as tshark counts,
                               from 1) of a received frame; 0: none */
    struct pbuf *next;      /* free list, or any queue the owner keeps */
    struct pbuf_pool *pool;
};

struct pbuf_stats {
    uint64_t alloc;         /* buffers handed out */
    uint64_t alloc_fail;    /* requests refused: pool empty or size too big */
    uint64_t in_use;        /* buffers out right now */
    uint64_t in_use_max;    /* high-water mark of in_use */
};

extern const struct ts_counter_desc pbuf_counter_desc[];
extern const size_t pbuf_counter_count;

struct pbuf_pool {
    struct pbuf *free_small;
    struct pbuf *free_large;
    struct pbuf *descs;     /* every descriptor, for destroy */
    uint8_t *mem;           /* every byte of storage */
    unsigned nsmall, nlarge;
    struct pbuf_stats stats;
};

/* Reserve nsmall small and nlarge large buffers. Returns 0 or -ENOMEM. */
int pbuf_pool_init(struct pbuf_pool *pool, unsigned nsmall, unsigned nlarge);
void pbuf_pool_destroy(struct pbuf_pool *pool);

/* A buffer with `headroom` bytes before data and `len` valid (uninitialised)
 * bytes. Picks a small buffer when it fits. NULL when none is free. */
struct pbuf *pbuf_alloc(struct pbuf_pool *pool, size_t headroom, size_t len);
void pbuf_free(struct pbuf *pb);

/* Free every buffer on a ->next chain. */
void pbuf_free_chain(struct pbuf *pb);

static inline size_t pbuf_headroom(const struct pbuf *pb)
{
    return (size_t)(pb->data - pb->base);
}

static inline size_t pbuf_tailroom(const struct pbuf *pb)
{
    return pb->cap - pbuf_headroom(pb) - pb->len;
}

/* Finish a PBUF_F_CSUM_PARTIAL checksum in place (what a device does) and
 * clear the flag; GSO metadata stays. 0, or -1 when the offsets lie outside
 * the data (nothing written). */
int pbuf_csum_finish(struct pbuf *pb);

/* Grow the front by n bytes; returns the new data pointer or NULL. */
uint8_t *pbuf_push(struct pbuf *pb, size_t n);
/* Drop n bytes from the front; returns the new data pointer or NULL. */
uint8_t *pbuf_pull(struct pbuf *pb, size_t n);
/* Grow the tail by n bytes; returns a pointer to them or NULL. */
uint8_t *pbuf_put(struct pbuf *pb, size_t n);
/* Shorten to len bytes (no-op when already shorter). */
void pbuf_trim(struct pbuf *pb, size_t len);

#endif
