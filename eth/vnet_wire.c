/* eth/vnet_wire.c - virtio-net header parse, emit and checks (see
 * vnet_wire.h). Little-endian fields, read byte by byte. */
#include "eth/vnet_wire.h"

#include <string.h>

#include "eth/eth_wire.h"

static uint16_t vnet_load16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static void vnet_store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

int vnet_parse(const uint8_t *buf, size_t len, struct vnet_hdr *h)
{
    if (len < VNET_HLEN)
        return VNET_ERR_TRUNCATED;
    h->flags = buf[0];
    h->gso_type = buf[1];
    h->hdr_len = vnet_load16(buf + 2);
    h->gso_size = vnet_load16(buf + 4);
    h->csum_start = vnet_load16(buf + 6);
    h->csum_offset = vnet_load16(buf + 8);
    return VNET_OK;
}

void vnet_emit(const struct vnet_hdr *h, uint8_t *buf)
{
    buf[0] = h->flags;
    buf[1] = h->gso_type;
    vnet_store16(buf + 2, h->hdr_len);
    vnet_store16(buf + 4, h->gso_size);
    vnet_store16(buf + 6, h->csum_start);
    vnet_store16(buf + 8, h->csum_offset);
}

/* The checksum field (2 bytes at start + off) lies past the Ethernet
 * header and inside the frame. */
static int vnet_csum_fits(size_t start, size_t off, size_t len)
{
    return start >= ETH_HLEN && start <= len && off <= len - start &&
           len - start - off >= 2;
}

int vnet_to_pbuf(const struct vnet_hdr *h, struct pbuf *pb)
{
    uint8_t gso = h->gso_type & (uint8_t)~VNET_GSO_ECN;
    if (gso != VNET_GSO_NONE && gso != VNET_GSO_TCPV4)
        return VNET_ERR_GSO_TYPE;
    if (gso == VNET_GSO_TCPV4 && h->gso_size == 0)
        return VNET_ERR_GSO_SIZE;
    if (h->hdr_len > pb->len)
        return VNET_ERR_HDR_LEN;
    int partial = (h->flags & VNET_F_NEEDS_CSUM) != 0;
    if (partial && !vnet_csum_fits(h->csum_start, h->csum_offset, pb->len))
        return VNET_ERR_CSUM;
    pb->flags &= ~(PBUF_F_OFFLOAD | PBUF_F_CSUM_VALID);
    memset(&pb->off, 0, sizeof pb->off);
    if (partial) {
        /* Linux's CHECKSUM_PARTIAL: data from the kernel itself, which it
         * vouches for; the sum is finished only where someone looks
         * (the capture, the fault injector before it corrupts). */
        pb->flags |= PBUF_F_CSUM_PARTIAL | PBUF_F_CSUM_VALID;
        pb->off.csum_start = (uint32_t)(pbuf_headroom(pb) + h->csum_start);
        pb->off.csum_off = h->csum_offset;
    } else if (h->flags & VNET_F_DATA_VALID) {
        pb->flags |= PBUF_F_CSUM_VALID;
    }
    if (gso == VNET_GSO_TCPV4) {
        pb->flags |= PBUF_F_GSO_TCPV4;
        pb->off.gso_size = h->gso_size;
    }
    return VNET_OK;
}

int vnet_from_pbuf(const struct pbuf *pb, struct vnet_hdr *h)
{
    memset(h, 0, sizeof *h);
    if (!(pb->flags & PBUF_F_OFFLOAD))
        return VNET_OK;
    if (!(pb->flags & PBUF_F_CSUM_PARTIAL))
        return VNET_ERR_CSUM;       /* the device would cut bad sums */
    size_t head = pbuf_headroom(pb);
    size_t start = pb->off.csum_start >= head ? pb->off.csum_start - head : 0;
    if (!vnet_csum_fits(start, pb->off.csum_off, pb->len) || start > 0xffff)
        return VNET_ERR_CSUM;
    h->flags = VNET_F_NEEDS_CSUM;
    h->csum_start = (uint16_t)start;
    h->csum_offset = pb->off.csum_off;
    if (pb->flags & PBUF_F_GSO_TCPV4) {
        size_t hl = start + pb->off.hdr_len;
        if (pb->off.gso_size == 0)
            return VNET_ERR_GSO_SIZE;
        if (hl > pb->len || hl > 0xffff)
            return VNET_ERR_HDR_LEN;
        h->gso_type = VNET_GSO_TCPV4;
        h->gso_size = pb->off.gso_size;
        h->hdr_len = (uint16_t)hl;
    }
    return VNET_OK;
}
