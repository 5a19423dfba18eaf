/* ipv4/ipv4_wire.h - IPv4 header parse and emit (RFC 791), pure and strict.
 *
 * ipv4_parse() checks, in this order and before reading anything it does not
 * yet know to be there: 20 bytes present, version 4, IHL >= 5 and IHL*4 <=
 * bytes received, total length >= IHL*4 and <= bytes received, header
 * checksum. Options are not interpreted here: ipv4_opt.c checks them. Anything beyond total length (Ethernet padding) is not
 * part of the datagram: the caller trims to h->total_len.
 * Entry points: ipv4_parse, ipv4_emit, ipv4_emit_opts, ipv4_is_fragment.
 */
#ifndef TS_IPV4_IPV4_WIRE_H
#define TS_IPV4_IPV4_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define IPV4_HLEN 20            /* header without options */
#define IPV4_HLEN_MAX 60
#define IPV4_MAX_LEN 65535u     /* largest datagram, header included */
#define IPV4_PROTO_ICMP 1
#define IPV4_PROTO_TCP 6
#define IPV4_PROTO_UDP 17
#define IPV4_DF 0x4000u
#define IPV4_MF 0x2000u
#define IPV4_OFF_MASK 0x1fffu   /* fragment offset, in 8-byte units */
#define IPV4_DEFAULT_TTL 64

enum ipv4_parse_err {
    IPV4_OK = 0,
    IPV4_ERR_TRUNCATED = -1,    /* fewer than 20 bytes */
    IPV4_ERR_VERSION = -2,      /* version field not 4 */
    IPV4_ERR_HLEN = -3,         /* IHL < 5, or IHL*4 beyond the bytes */
    IPV4_ERR_TOTLEN = -4,       /* total length < IHL*4, or beyond the bytes */
    IPV4_ERR_CKSUM = -5,        /* header checksum does not verify */
};

struct ipv4_hdr {
    uint8_t hlen;           /* header length in bytes (IHL * 4) */
    uint8_t tos;
    uint16_t total_len;     /* header + payload, bytes */
    uint16_t id;
    uint16_t frag;          /* flags (DF, MF) and offset, as on the wire */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src;           /* host order */
    uint32_t dst;
};

/* Parse the header at buf (len bytes received). IPV4_OK or an error above. */
int ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_hdr *h);

/* Write a 20-byte header (h->hlen is taken as 20) with its checksum. */
void ipv4_emit(const struct ipv4_hdr *h, uint8_t *buf);
/* The same with optlen bytes of options after it (a multiple of 4, at most
 * 40: IHL follows; anything else is left out), checksum over all of it. */
void ipv4_emit_opts(const struct ipv4_hdr *h, const uint8_t *opts,
                    size_t optlen, uint8_t *buf);

static inline int ipv4_is_fragment(const struct ipv4_hdr *h)
{
    return (h->frag & (IPV4_MF | IPV4_OFF_MASK)) != 0;
}

static inline unsigned ipv4_frag_offset(const struct ipv4_hdr *h)
{
    return (unsigned)(h->frag & IPV4_OFF_MASK) * 8u;
}

#endif
