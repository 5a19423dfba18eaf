/* eth/tap.h - the Linux TAP device as a netdev.
 *
 * Opens /dev/net/tun with IFF_TAP|IFF_NO_PI: each read() is one Ethernet
 * frame, each write() sends one. Attaches to an existing TAP (made with
 * `ip tuntap add`) or creates a new one. Optionally brings up the kernel's
 * side of the link with an address, so the host can ping us.
 * Entry points: tap_open, tap_configure_host.
 */
#ifndef TS_ETH_TAP_H
#define TS_ETH_TAP_H

#include <stdint.h>

#include "eth/netdev.h"

/* Open (or create) TAP `name` with the given MTU. On failure returns NULL and
 * sets *err to a negative errno (-ENOENT: no /dev/net/tun; -EPERM: no
 * CAP_NET_ADMIN). */
struct netdev *tap_open(const char *name, uint16_t mtu, int *err);

/* Give the kernel side of the TAP address/prefix, set its MTU, disable IPv6
 * on it (keeps router solicitations off the link) and bring it up.
 * 0 or -errno. */
int tap_configure_host(const char *name, uint32_t addr, uint8_t prefix,
                       uint16_t mtu);

#endif
