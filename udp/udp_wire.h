/* udp/udp_wire.h - the UDP header (RFC 768), parse and emit.
 *
 * udp_parse() needs the 8-byte header and a length field that is at least 8
 * and no more than the bytes received (what lies past it is not part of the
 * datagram). The checksum covers an IPv4 pseudo-header; zero on the wire
 * means "not computed" (RFC 768), and a computed zero is sent as 0xffff.
 * Entry points: udp_parse, udp_emit, udp_emit_nocsum, udp_cksum.
 */
#ifndef TS_UDP_UDP_WIRE_H
#define TS_UDP_UDP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define UDP_HLEN 8

enum udp_parse_err {
    UDP_OK = 0,
    UDP_ERR_TRUNCATED = -1,     /* fewer than 8 bytes */
    UDP_ERR_LENGTH = -2,        /* length field < 8 or beyond the bytes */
};

struct udp_hdr {
    uint16_t sport, dport;
    uint16_t len;               /* header + data */
    uint16_t cksum;             /* as on the wire; 0: none */
};

int udp_parse(const uint8_t *buf, size_t len, struct udp_hdr *h);
/* Write the header for a datagram of h->len bytes whose data follows at
 * buf + 8, with its checksum over the pseudo-header (src, dst host order). */
void udp_emit(const struct udp_hdr *h, uint8_t *buf, uint32_t src, uint32_t dst);
/* The same with checksum 0 ("none", RFC 768), for a device that vouches
 * for the data (loopback): nothing is summed. */
void udp_emit_nocsum(const struct udp_hdr *h, uint8_t *buf);
/* Sum over pseudo-header and datagram: 0 when a received checksum verifies. */
uint16_t udp_cksum(uint32_t src, uint32_t dst, const uint8_t *dgram, size_t len);

#endif
