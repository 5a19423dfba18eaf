/* eth/eth_wire.c - Ethernet II header: 6-byte dst, 6-byte src, EtherType. */
#include "eth/eth_wire.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

int eth_parse(const uint8_t *buf, size_t len, struct eth_hdr *h)
{
    if (len < ETH_HLEN)
        return -EINVAL;
    memcpy(h->dst, buf, ETH_ALEN);
    memcpy(h->src, buf + 6, ETH_ALEN);
    h->type = load_be16(buf + 12);
    return 0;
}

void eth_emit(const struct eth_hdr *h, uint8_t *buf)
{
    memcpy(buf, h->dst, ETH_ALEN);
    memcpy(buf + 6, h->src, ETH_ALEN);
    store_be16(buf + 12, h->type);
}
