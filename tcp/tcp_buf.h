/* tcp/tcp_buf.h - per-connection byte rings and the out-of-order record.
 *
 * Send ring: the bytes from SND.UNA on, written by the application and
 * removed as they are acknowledged. Receive ring: in-order bytes waiting for
 * the application, followed by room for the window; segments that arrive
 * out of order are written straight into that room at their offset from
 * RCV.NXT, and only their sequence ranges are remembered (at most
 * TCP_OOO_MAX ranges: a peer cannot make us track unbounded gaps). When the
 * gap before them fills, the ranges become in-order bytes without a copy.
 * Entry points: tcp_ring_init, tcp_ring_free, tcp_ring_write, tcp_ring_read,
 * tcp_ring_peek, tcp_ring_drop, tcp_ring_put_at, tcp_ring_space,
 * tcp_ring_data_spans, tcp_ring_room_spans, tcp_ring_commit,
 * tcp_ooo_add, tcp_ooo_take.
 */
#ifndef TS_TCP_TCP_BUF_H
#define TS_TCP_TCP_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TCP_OOO_MAX 32        /* gaps tracked; also the SACK scoreboard size */
#define TCP_RING_MIN 4096     /* the first allocation */

struct tcp_ring {
    uint8_t *buf;           /* NULL until the first byte */
    uint32_t cap;           /* bytes allocated */
    uint32_t lim;           /* the most it may hold (the buffer size) */
    uint32_t head;          /* index of the first byte */
    uint32_t len;           /* bytes held */
    uint64_t *mem;          /* if set: a gauge of bytes allocated, kept */
};

/* An empty ring that may hold up to lim bytes; allocates nothing. 0. */
int tcp_ring_init(struct tcp_ring *r, uint32_t lim);
/* Free the storage and forget the limit (the ring holds nothing more). */
void tcp_ring_free(struct tcp_ring *r);
/* Give the storage back if the ring is empty and nothing sits past its
 * end (the caller knows: out-of-order data); the limit stays. */
void tcp_ring_release(struct tcp_ring *r);

/* Free room by the limit (what the window offers), allocated or not. */
static inline uint32_t tcp_ring_space(const struct tcp_ring *r)
{
    return r->lim - r->len;
}

static inline uint32_t tcp_ring_limit(const struct tcp_ring *r)
{
    return r->lim;
}

/* Append up to n bytes; returns how many fit (fewer when memory for
 * growing runs out). */
uint32_t tcp_ring_write(struct tcp_ring *r, const uint8_t *p, uint32_t n);
/* Remove up to n bytes from the front into p; returns how many. */
uint32_t tcp_ring_read(struct tcp_ring *r, uint8_t *p, uint32_t n);
/* Copy n bytes starting off bytes past the front (off + n <= len). */
void tcp_ring_peek(const struct tcp_ring *r, uint32_t off, uint8_t *p,
                   uint32_t n);
/* Forget n bytes at the front (n <= len). */
void tcp_ring_drop(struct tcp_ring *r, uint32_t n);
/* Write n bytes at off bytes past the end of the held data, without
 * changing len (off + n <= space). For out-of-order data. 0, or -ENOMEM
 * when the ring could not grow (nothing written). */
int tcp_ring_put_at(struct tcp_ring *r, uint32_t off, const uint8_t *p,
                    uint32_t n);

/* The held bytes (data) or the free room after them (room) as at most two
 * contiguous spans, for I/O straight to or from the ring (readv/writev):
 * returns the span count and fills base/len. The room is what is
 * allocated; a ring with no allocated room left but room by its limit
 * grows first (0 spans if it cannot). */
int tcp_ring_data_spans(const struct tcp_ring *r, struct iovec iov[2]);
int tcp_ring_room_spans(struct tcp_ring *r, struct iovec iov[2]);
/* Count n bytes written into the room spans as held (n <= space). */
void tcp_ring_commit(struct tcp_ring *r, uint32_t n);

/* Out-of-order ranges beyond RCV.NXT, kept sorted and disjoint. */
struct tcp_ooo {
    uint32_t n;
    uint32_t start[TCP_OOO_MAX], end[TCP_OOO_MAX];  /* [start, end) */
};

/* Record [start, end), merging with neighbours. 0, or -ENOSPC when it would
 * need more than TCP_OOO_MAX ranges (the caller drops the segment). */
int tcp_ooo_add(struct tcp_ooo *o, uint32_t start, uint32_t end);
/* If a range starts at or before rcv_nxt, remove it and return its end
 * (the new RCV.NXT); else return rcv_nxt. Ranges wholly before rcv_nxt are
 * discarded too. */
uint32_t tcp_ooo_take(struct tcp_ooo *o, uint32_t rcv_nxt);
/* Forget everything below una (a range straddling it is cut). For the
 * sender's SACK scoreboard, whose ranges die as SND.UNA passes them. */
void tcp_ooo_prune(struct tcp_ooo *o, uint32_t una);
/* Bytes covered by the ranges. */
uint32_t tcp_ooo_bytes(const struct tcp_ooo *o);
/* If seq lies in a range, that range's end; else seq. */
uint32_t tcp_ooo_skip(const struct tcp_ooo *o, uint32_t seq);

#endif
