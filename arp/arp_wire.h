/* arp/arp_wire.h - ARP for Ethernet/IPv4 (RFC 826), parse and emit.
 *
 * Only the one combination we speak is accepted: htype 1 (Ethernet), ptype
 * 0x0800, hlen 6, plen 4, op 1 or 2. Anything else is a typed parse error the
 * caller counts.
 * Entry points: arp_parse, arp_emit.
 */
#ifndef TS_ARP_ARP_WIRE_H
#define TS_ARP_ARP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

enum arp_parse_err {
    ARP_OK = 0,
    ARP_ERR_TRUNCATED = -1,   /* fewer than 28 bytes */
    ARP_ERR_FORMAT = -2,      /* htype/ptype/hlen/plen not Ethernet/IPv4 */
    ARP_ERR_OP = -3,          /* op neither request nor reply */
};

struct arp_pkt {
    uint16_t op;
    uint8_t sha[6];     /* sender hardware address */
    uint32_t spa;       /* sender protocol address, host order */
    uint8_t tha[6];
    uint32_t tpa;
};

int arp_parse(const uint8_t *buf, size_t len, struct arp_pkt *p);
/* Write ARP_LEN bytes. */
void arp_emit(const struct arp_pkt *p, uint8_t *buf);

#endif
