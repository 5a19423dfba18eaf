/* eth/eth_wire.h - Ethernet II header parse and emit (pure, bounds-checked).
 * Entry points: eth_parse, eth_emit, eth_is_broadcast.
 */
#ifndef TS_ETH_ETH_WIRE_H
#define TS_ETH_ETH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define ETH_HLEN 14
#define ETH_ALEN 6
#define ETH_ZLEN 60             /* minimum frame without FCS */
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100

struct eth_hdr {
    uint8_t dst[ETH_ALEN];
    uint8_t src[ETH_ALEN];
    uint16_t type;
};

extern const uint8_t eth_broadcast[ETH_ALEN];

/* 0 when len holds a header; -EINVAL (runt) otherwise. */
int eth_parse(const uint8_t *buf, size_t len, struct eth_hdr *h);
/* Write ETH_HLEN bytes. */
void eth_emit(const struct eth_hdr *h, uint8_t *buf);

static inline int eth_is_broadcast(const uint8_t mac[ETH_ALEN])
{
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static inline int eth_is_multicast(const uint8_t mac[ETH_ALEN])
{
    return mac[0] & 1;
}

#endif
