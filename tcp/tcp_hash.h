/* tcp/tcp_hash.h - SipHash-2-4, the keyed hash behind TCP's secrets.
 *
 * RFC 6528 asks for initial sequence numbers from a keyed hash of the
 * connection's 4-tuple; SYN cookies (RFC 4987) and the connection table's
 * bucket index use the same hash, so an attacker who cannot read the key can
 * neither predict an ISN, forge a cookie, nor aim a flood at one bucket.
 * Written from Aumasson & Bernstein, "SipHash: a fast short-input PRF" (2012).
 * Entry points: tcp_siphash, tcp_tuple_hash.
 */
#ifndef TS_TCP_TCP_HASH_H
#define TS_TCP_TCP_HASH_H

#include <stddef.h>
#include <stdint.h>

struct tcp_key {
    uint64_t k0, k1;
};

uint64_t tcp_siphash(const struct tcp_key *key, const void *msg, size_t len);

/* The hash of a connection's addresses and ports plus one extra word
 * (a time counter, a sequence number), in host order. */
uint64_t tcp_tuple_hash(const struct tcp_key *key, uint32_t laddr,
                        uint16_t lport, uint32_t raddr, uint16_t rport,
                        uint32_t extra);

#endif
