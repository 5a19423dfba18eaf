/* core/rand.h - the stack's one seedable random source.
 *
 * Randomness is an input (DESIGN.md §3.2): protocol code draws from the
 * stack's struct ts_rand, so a test that fixes the seed replays exactly.
 * xoshiro256** seeded through splitmix64; not for secrets on its own (the
 * ISN secret is seeded from getrandom() by the program, not by tests).
 * Entry points: ts_rand_seed, ts_rand_u64, ts_rand_u32, ts_rand_below,
 * ts_rand_chance, ts_rand_port.
 */
#ifndef TS_CORE_RAND_H
#define TS_CORE_RAND_H

#include <stdint.h>

struct ts_rand {
    uint64_t s[4];
};

void ts_rand_seed(struct ts_rand *r, uint64_t seed);
uint64_t ts_rand_u64(struct ts_rand *r);
uint32_t ts_rand_u32(struct ts_rand *r);
/* Uniform in [0, n); n > 0. */
uint32_t ts_rand_below(struct ts_rand *r, uint32_t n);
/* True with probability p (0..1). */
int ts_rand_chance(struct ts_rand *r, double p);

/* A free port of the ephemeral range 49152..65535, RFC 6056 §3.3.1: start
 * at a random one and walk until busy(ctx, port) says no. 0 if all are
 * busy. Shared by TCP, UDP and the socket API's bind to port 0. */
uint16_t ts_rand_port(struct ts_rand *r, int (*busy)(void *ctx, uint16_t port),
                      void *ctx);

#endif
