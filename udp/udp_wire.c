/* udp/udp_wire.c - UDP header and checksum. */
#include "udp/udp_wire.h"

#include "core/bytes.h"
#include "core/cksum.h"

int udp_parse(const uint8_t *b, size_t len, struct udp_hdr *h)
{
    if (len < UDP_HLEN)
        return UDP_ERR_TRUNCATED;
    uint16_t ulen = load_be16(b + 4);
    if (ulen < UDP_HLEN || ulen > len)
        return UDP_ERR_LENGTH;
    h->sport = load_be16(b);
    h->dport = load_be16(b + 2);
    h->len = ulen;
    h->cksum = load_be16(b + 6);
    return UDP_OK;
}

uint16_t udp_cksum(uint32_t src, uint32_t dst, const uint8_t *dgram, size_t len)
{
    return cksum_pseudo(src, dst, 17, dgram, len);
}

void udp_emit_nocsum(const struct udp_hdr *h, uint8_t *b)
{
    store_be16(b, h->sport);
    store_be16(b + 2, h->dport);
    store_be16(b + 4, h->len);
    store_be16(b + 6, 0);
}

void udp_emit(const struct udp_hdr *h, uint8_t *b, uint32_t src, uint32_t dst)
{
    udp_emit_nocsum(h, b);
    uint16_t c = udp_cksum(src, dst, b, h->len);
    store_be16(b + 6, c ? c : 0xffff);     /* RFC 768: 0 means none */
}
