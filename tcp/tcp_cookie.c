/* tcp/tcp_cookie.c - initial sequence numbers (RFC 6528) and SYN cookies
 * (RFC 4987 §3.6).
 *
 * ISN = M + F(4-tuple, secret): M is a clock ticking every 4 µs (here
 * derived from the millisecond `now`), F is SipHash of the tuple with the
 * stack's secret, so a peer can neither predict another connection's ISN
 * nor see ours move in steps it could follow.
 *
 * A SYN cookie is an ISN that carries the connection's state so nothing is
 * kept per SYN: bits 31..27 a 64-second time counter, 26..24 an index into a
 * table of MSS values, 23..0 a keyed hash of the tuple, the client's ISN and
 * the time counter. The ACK that completes the handshake acknowledges
 * cookie + 1; we recompute the hash and accept it for two counter ticks
 * (64 to 128 seconds). A forged ACK passes with odds 2^-24 per try.
 */
#include "tcp/tcp_conn.h"

#include <string.h>

#define TCP_COOKIE_TICK_MS 64000u
static const uint16_t tcp_cookie_mss[8] = {
    216, 536, 1024, 1220, 1360, 1440, 1460, 8960,
};

uint32_t tcp_isn(struct tcp_layer *t, uint32_t laddr, uint16_t lport,
                 uint32_t raddr, uint16_t rport)
{
    uint32_t m = (uint32_t)(t->now * 250u);     /* 4 µs ticks */
    return m + (uint32_t)tcp_tuple_hash(&t->key, laddr, lport, raddr, rport,
                                        0x49534e31u /* "ISN1" */);
}

static uint32_t tcp_cookie_hash(struct tcp_layer *t, const struct tcp_seg *s,
                                uint32_t irs, uint32_t tick)
{
    uint8_t m[24];
    uint32_t v[5] = { s->dst, s->src, (uint32_t)s->h.dport << 16 | s->h.sport,
                      irs, tick };
    memcpy(m, v, sizeof v);
    memcpy(m + 20, "CKIE", 4);
    return (uint32_t)tcp_siphash(&t->key, m, sizeof m) & 0xffffffu;
}

uint32_t tcp_cookie_make(struct tcp_layer *t, const struct tcp_seg *s,
                         uint16_t mss)
{
    uint32_t tick = (uint32_t)(t->now / TCP_COOKIE_TICK_MS);
    uint32_t idx = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (tcp_cookie_mss[i] <= mss)
            idx = i;
    return (tick & 31u) << 27 | idx << 24 |
           tcp_cookie_hash(t, s, s->h.seq, tick);
}

uint16_t tcp_cookie_check(struct tcp_layer *t, const struct tcp_seg *s)
{
    uint32_t cookie = s->h.ack - 1;
    uint32_t now_tick = (uint32_t)(t->now / TCP_COOKIE_TICK_MS);
    uint32_t age = (now_tick - (cookie >> 27)) & 31u;
    if (age > 1)
        return 0;
    uint32_t tick = now_tick - age;
    if (tcp_cookie_hash(t, s, s->h.seq - 1, tick) != (cookie & 0xffffffu))
        return 0;
    return tcp_cookie_mss[(cookie >> 24) & 7u];
}
