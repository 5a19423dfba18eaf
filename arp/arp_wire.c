/* arp/arp_wire.c - the 28-byte Ethernet/IPv4 ARP packet. */
#include "arp/arp_wire.h"

#include <string.h>

#include "core/bytes.h"

int arp_parse(const uint8_t *b, size_t len, struct arp_pkt *p)
{
    if (len < ARP_LEN)
        return ARP_ERR_TRUNCATED;
    if (load_be16(b) != 1 || load_be16(b + 2) != 0x0800 || b[4] != 6 ||
        b[5] != 4)
        return ARP_ERR_FORMAT;
    p->op = load_be16(b + 6);
    if (p->op != ARP_OP_REQUEST && p->op != ARP_OP_REPLY)
        return ARP_ERR_OP;
    memcpy(p->sha, b + 8, 6);
    p->spa = load_be32(b + 14);
    memcpy(p->tha, b + 18, 6);
    p->tpa = load_be32(b + 24);
    return ARP_OK;
}

void arp_emit(const struct arp_pkt *p, uint8_t *b)
{
    store_be16(b, 1);
    store_be16(b + 2, 0x0800);
    b[4] = 6;
    b[5] = 4;
    store_be16(b + 6, p->op);
    memcpy(b + 8, p->sha, 6);
    store_be32(b + 14, p->spa);
    memcpy(b + 18, p->tha, 6);
    store_be32(b + 24, p->tpa);
}
