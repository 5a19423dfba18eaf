/* tcp/tcp_hash.c - SipHash-2-4: two compression rounds per 8-byte word,
 * four finalization rounds, 128-bit key, 64-bit output. */
#include "tcp/tcp_hash.h"

#include <string.h>

static uint64_t tcp_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

struct tcp_sip {
    uint64_t v0, v1, v2, v3;
};

static void tcp_sipround(struct tcp_sip *s)
{
    s->v0 += s->v1; s->v1 = tcp_rotl(s->v1, 13); s->v1 ^= s->v0;
    s->v0 = tcp_rotl(s->v0, 32);
    s->v2 += s->v3; s->v3 = tcp_rotl(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = tcp_rotl(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = tcp_rotl(s->v1, 17); s->v1 ^= s->v2;
    s->v2 = tcp_rotl(s->v2, 32);
}

/* Little-endian load of up to 8 bytes, as the algorithm defines words. */
static uint64_t tcp_le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void tcp_sip_word(struct tcp_sip *s, uint64_t m)
{
    s->v3 ^= m;
    tcp_sipround(s);
    tcp_sipround(s);
    s->v0 ^= m;
}

uint64_t tcp_siphash(const struct tcp_key *key, const void *msg, size_t len)
{
    const uint8_t *p = msg;
    struct tcp_sip s = {
        key->k0 ^ 0x736f6d6570736575ull, key->k1 ^ 0x646f72616e646f6dull,
        key->k0 ^ 0x6c7967656e657261ull, key->k1 ^ 0x7465646279746573ull,
    };
    size_t i;
    for (i = 0; i + 8 <= len; i += 8)
        tcp_sip_word(&s, tcp_le64(p + i, 8));
    tcp_sip_word(&s, tcp_le64(p + i, len - i) | (uint64_t)(len & 0xff) << 56);
    s.v2 ^= 0xff;
    for (int r = 0; r < 4; r++)
        tcp_sipround(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t tcp_tuple_hash(const struct tcp_key *key, uint32_t laddr,
                        uint16_t lport, uint32_t raddr, uint16_t rport,
                        uint32_t extra)
{
    uint8_t m[16];
    memcpy(m, &laddr, 4);
    memcpy(m + 4, &raddr, 4);
    memcpy(m + 8, &lport, 2);
    memcpy(m + 10, &rport, 2);
    memcpy(m + 12, &extra, 4);
    return tcp_siphash(key, m, sizeof m);
}
