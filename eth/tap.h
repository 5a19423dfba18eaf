/* eth/tap.h - the Linux TAP device as a netdev.
 *
 * Opens /dev/net/tun with IFF_TAP|IFF_NO_PI: each read() is one Ethernet
 * frame, each write() sends one. Attaches to an existing TAP (made with
 * `ip tuntap add`) or creates a new one. Optionally brings up the kernel's
 * side of the link with an address, so the host can ping us.
 *
 * Offloads (TAP_OFFLOAD, the default of the stack): the TAP is opened with
 * IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4), so every frame
 * travels behind a 10-byte virtio-net header (eth/vnet_wire.h). The kernel
 * then hands over TCP super-frames of up to 64 KB and frames whose checksum
 * it vouches for or left partial, and takes our super-frames (the device
 * advertises NETDEV_F_TSO4, gso_max 65,535) and cuts them itself. One
 * readv() or writev() per frame, header and frame together, straight into
 * or out of the pool buffer. A kernel that refuses any step gets the plain
 * device (tap_offload_error says why, for the stack's one log line).
 *
 * Entry points: tap_open, tap_offload_error, tap_stats, tap_counter_desc,
 * tap_configure_host.
 */
#ifndef TS_ETH_TAP_H
#define TS_ETH_TAP_H

#include <stdint.h>

#include "core/counters.h"
#include "eth/netdev.h"

#define TAP_OFFLOAD 0x1u        /* tap_open: ask for the offloads */
#define TAP_GSO_MAX 65535u      /* IPv4's limit; the TAP's is 64 KB too */

struct tap_stats {
    uint64_t rx_super_frames;   /* TCP super-frames read (GSO TCPV4) */
    uint64_t rx_csum_partial;   /* frames read with a partial checksum */
    uint64_t rx_csum_valid;     /* frames read the kernel vouched for */
    uint64_t rx_bad_vnet;       /* frames dropped: header refused */
    uint64_t tx_super_frames;   /* super-frames written for the kernel to cut */
    uint64_t tx_bad_vnet;       /* frames not sent: metadata refused */
};

extern const struct ts_counter_desc tap_counter_desc[];
extern const size_t tap_counter_count;

/* Open (or create) TAP `name` with the given MTU and TAP_* flags. On
 * failure returns NULL and sets *err to a negative errno (-ENOENT: no
 * /dev/net/tun; -EPERM: no CAP_NET_ADMIN). */
struct netdev *tap_open(const char *name, uint16_t mtu, unsigned flags,
                        int *err);
/* dev from tap_open: 0 when the offloads are on or were not asked for, else
 * the -errno of the step the kernel refused (the device then runs plain). */
int tap_offload_error(const struct netdev *dev);
const struct tap_stats *tap_stats(const struct netdev *dev);

/* Give the kernel side of the TAP address/prefix, set its MTU, disable IPv6
 * on it (keeps router solicitations off the link) and bring it up.
 * 0 or -errno. */
int tap_configure_host(const char *name, uint32_t addr, uint8_t prefix,
                       uint16_t mtu);

#endif
