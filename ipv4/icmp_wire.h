/* ipv4/icmp_wire.h - ICMP message header parse and emit (RFC 792).
 *
 * Every ICMP message starts with type, code and a checksum over the whole
 * message; the next 4 bytes are identifier/sequence for echo, unused (zero)
 * for the errors we send. icmp_parse() needs 8 bytes and verifies the
 * checksum over all len bytes.
 * Entry points: icmp_parse, icmp_emit, icmp_is_error.
 */
#ifndef TS_IPV4_ICMP_WIRE_H
#define TS_IPV4_ICMP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define ICMP_HLEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define ICMP_TIMESTAMP 13
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_EXC_TTL 0
#define ICMP_EXC_FRAGTIME 1

enum icmp_parse_err {
    ICMP_OK = 0,
    ICMP_ERR_TRUNCATED = -1,
    ICMP_ERR_CKSUM = -2,
};

struct icmp_hdr {
    uint8_t type;
    uint8_t code;
    uint16_t id;        /* echo: identifier; else first half of the rest */
    uint16_t seq;       /* echo: sequence number */
};

int icmp_parse(const uint8_t *buf, size_t len, struct icmp_hdr *h);
/* Write the 8-byte header for a message of len bytes whose body already
 * follows at buf + 8, and set the checksum over all len bytes. */
void icmp_emit(const struct icmp_hdr *h, uint8_t *buf, size_t len);

/* Error messages (RFC 1122 §3.2.2: never answered with an error). */
static inline int icmp_is_error(uint8_t type)
{
    return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
           type == ICMP_REDIRECT || type == ICMP_TIME_EXCEEDED ||
           type == ICMP_PARAM_PROBLEM;
}

#endif
