/* ipv4/icmp_wire.c - the 8-byte ICMP header and the whole-message checksum. */
#include "ipv4/icmp_wire.h"

#include "core/bytes.h"
#include "core/cksum.h"

int icmp_parse(const uint8_t *b, size_t len, struct icmp_hdr *h)
{
    if (len < ICMP_HLEN)
        return ICMP_ERR_TRUNCATED;
    if (CKSUM_RX_BAD(inet_cksum(b, len)))
        return ICMP_ERR_CKSUM;
    h->type = b[0];
    h->code = b[1];
    h->id = load_be16(b + 4);
    h->seq = load_be16(b + 6);
    return ICMP_OK;
}

void icmp_emit(const struct icmp_hdr *h, uint8_t *b, size_t len)
{
    b[0] = h->type;
    b[1] = h->code;
    store_be16(b + 2, 0);
    store_be16(b + 4, h->id);
    store_be16(b + 6, h->seq);
    store_be16(b + 2, inet_cksum(b, len));
}
