/* ipv4/ipv4_wire.c - the 20..60-byte IPv4 header. */
#include "ipv4/ipv4_wire.h"

#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"

int ipv4_parse(const uint8_t *b, size_t len, struct ipv4_hdr *h)
{
    if (len < IPV4_HLEN)
        return IPV4_ERR_TRUNCATED;
    if (b[0] >> 4 != 4)
        return IPV4_ERR_VERSION;
    size_t hlen = (size_t)(b[0] & 0x0f) * 4;
    if (hlen < IPV4_HLEN || hlen > len)
        return IPV4_ERR_HLEN;
    uint16_t total = load_be16(b + 2);
    if (total < hlen || total > len)
        return IPV4_ERR_TOTLEN;
    if (CKSUM_RX_BAD(inet_cksum(b, hlen)))
        return IPV4_ERR_CKSUM;
    h->hlen = (uint8_t)hlen;
    h->tos = b[1];
    h->total_len = total;
    h->id = load_be16(b + 4);
    h->frag = load_be16(b + 6);
    h->ttl = b[8];
    h->proto = b[9];
    h->src = load_be32(b + 12);
    h->dst = load_be32(b + 16);
    return IPV4_OK;
}

void ipv4_emit(const struct ipv4_hdr *h, uint8_t *b)
{
    b[0] = 0x45;
    b[1] = h->tos;
    store_be16(b + 2, h->total_len);
    store_be16(b + 4, h->id);
    store_be16(b + 6, h->frag);
    b[8] = h->ttl;
    b[9] = h->proto;
    store_be16(b + 10, 0);
    store_be32(b + 12, h->src);
    store_be32(b + 16, h->dst);
    store_be16(b + 10, inet_cksum(b, IPV4_HLEN));
}

void ipv4_emit_opts(const struct ipv4_hdr *h, const uint8_t *opts,
                    size_t optlen, uint8_t *b)
{
    ipv4_emit(h, b);
    if (optlen == 0 || optlen % 4 != 0 || optlen > IPV4_HLEN_MAX - IPV4_HLEN)
        return;
    b[0] = (uint8_t)(0x40 | (IPV4_HLEN + optlen) / 4);
    memcpy(b + IPV4_HLEN, opts, optlen);
    store_be16(b + 10, 0);
    store_be16(b + 10, inet_cksum(b, IPV4_HLEN + optlen));
}
