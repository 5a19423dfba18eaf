/* core/rand.c - xoshiro256** (Blackman & Vigna), written from the paper. */
#include "core/rand.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ts_rand_seed(struct ts_rand *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ts_rand_u64(struct ts_rand *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t ts_rand_u32(struct ts_rand *r)
{
    return (uint32_t)(ts_rand_u64(r) >> 32);
}

uint32_t ts_rand_below(struct ts_rand *r, uint32_t n)
{
    /* Multiply-shift: bias below 2^-32, fine for ports and fault rates. */
    return (uint32_t)(((uint64_t)ts_rand_u32(r) * n) >> 32);
}

int ts_rand_chance(struct ts_rand *r, double p)
{
    if (p <= 0.0)
        return 0;
    return (double)(ts_rand_u64(r) >> 11) * 0x1.0p-53 < p;
}

uint16_t ts_rand_port(struct ts_rand *r, int (*busy)(void *ctx, uint16_t port),
                      void *ctx)
{
    const uint32_t lo = 49152, n = 65536 - 49152;
    uint32_t start = ts_rand_below(r, n);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (start + i) % n);
        if (!busy(ctx, port))
            return port;
    }
    return 0;
}
