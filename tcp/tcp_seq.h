/* tcp/tcp_seq.h - sequence number arithmetic modulo 2^32 (RFC 9293 §3.4).
 *
 * Sequence numbers wrap; they are compared only through these helpers, by
 * the sign of their 32-bit difference, never with < on raw values.
 * Entry points: seq_lt, seq_leq, seq_gt, seq_geq, seq_between, seq_max,
 * seq_min.
 */
#ifndef TS_TCP_TCP_SEQ_H
#define TS_TCP_TCP_SEQ_H

#include <stdint.h>

static inline int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* lo <= x < hi, modulo 2^32 (an empty range when lo == hi). */
static inline int seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
    return x - lo < hi - lo;
}

static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

#endif
