/* eth/vnet_wire.h - the virtio-net header the TAP puts before each frame
 * when opened with IFF_VNET_HDR (pure, bounds-checked).
 *
 * Layout (Linux include/uapi/linux/virtio_net.h, struct virtio_net_hdr,
 * 10 bytes; the 16-bit fields little-endian, which tap.c asks the kernel
 * for with TUNSETVNETLE):
 *   0 flags        NEEDS_CSUM: the transport checksum is partial (the field
 *                  holds the pseudo-header sum; sum from csum_start to the
 *                  end and store at csum_start + csum_offset);
 *                  DATA_VALID: the kernel vouches for the checksum;
 *   1 gso_type     NONE, TCPV4 (a TCP super-frame), ECN bit (CWR set);
 *   2 hdr_len      bytes of headers (Ethernet + IPv4 + TCP), a hint;
 *   4 gso_size     payload bytes per segment of a super-frame;
 *   6 csum_start   offset of the transport header from the frame's start;
 *   8 csum_offset  offset of the checksum field within it.
 *
 * The header arrives from the kernel, but like any received byte it is
 * checked before it is believed: vnet_to_pbuf refuses GSO types we did not
 * ask for (UDP, TCPV6), a zero gso_size, and offsets or lengths outside the
 * frame, so a bad header can never make a later layer read or write past
 * the buffer.
 *
 * Entry points: vnet_parse, vnet_emit, vnet_to_pbuf, vnet_from_pbuf.
 */
#ifndef TS_ETH_VNET_WIRE_H
#define TS_ETH_VNET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/pbuf.h"

#define VNET_HLEN 10
#define VNET_F_NEEDS_CSUM 0x01u
#define VNET_F_DATA_VALID 0x02u
#define VNET_GSO_NONE 0u
#define VNET_GSO_TCPV4 1u
#define VNET_GSO_ECN 0x80u

struct vnet_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};

enum {
    VNET_OK = 0,
    VNET_ERR_TRUNCATED = -1,    /* fewer than VNET_HLEN bytes */
    VNET_ERR_GSO_TYPE = -2,     /* a GSO type we did not turn on */
    VNET_ERR_GSO_SIZE = -3,     /* a super-frame with gso_size 0 */
    VNET_ERR_CSUM = -4,         /* checksum offsets outside the frame */
    VNET_ERR_HDR_LEN = -5,      /* hdr_len past the frame */
};

/* Read the header from buf (len bytes). VNET_OK or VNET_ERR_TRUNCATED. */
int vnet_parse(const uint8_t *buf, size_t len, struct vnet_hdr *h);
/* Write VNET_HLEN bytes. */
void vnet_emit(const struct vnet_hdr *h, uint8_t *buf);
/* A received frame at pb->data (pb->len bytes) came with h: check h
 * against the frame and record what it says in pb->flags and pb->off.
 * VNET_OK, or a VNET_ERR_* (pb unchanged). */
int vnet_to_pbuf(const struct vnet_hdr *h, struct pbuf *pb);
/* The header for sending pb: zero for a plain frame, else NEEDS_CSUM and
 * TCPV4 from pb's metadata. VNET_OK, or VNET_ERR_CSUM / VNET_ERR_GSO_SIZE
 * when the metadata does not fit the frame (a super-frame always needs a
 * partial checksum and a gso_size). */
int vnet_from_pbuf(const struct pbuf *pb, struct vnet_hdr *h);

#endif
