/* core/addr.h - text forms of MAC and IPv4 addresses.
 *
 * Addresses travel through the stack in host order (uint32_t) and as 6-byte
 * arrays; these helpers are for logs, options and tests only.
 * Entry points: ts_ip4_fmt, ts_ip4_parse, ts_ip4_prefix_parse, ts_mac_fmt,
 * ts_mac_parse.
 */
#ifndef TS_CORE_ADDR_H
#define TS_CORE_ADDR_H

#include <stdint.h>

#define TS_IP4_STRLEN 16
#define TS_MAC_STRLEN 18
#define TS_IP4(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Format into buf (at least TS_IP4_STRLEN bytes); returns buf. */
char *ts_ip4_fmt(uint32_t addr, char *buf);
/* Parse dotted quad; 0 on success, -EINVAL otherwise. */
int ts_ip4_parse(const char *s, uint32_t *addr);
/* Parse "A.B.C.D/N" (N 0..32; "/N" required when need_prefix). */
int ts_ip4_prefix_parse(const char *s, uint32_t *addr, uint8_t *prefix,
                        int need_prefix);
char *ts_mac_fmt(const uint8_t mac[6], char *buf);
int ts_mac_parse(const char *s, uint8_t mac[6]);

static inline uint32_t ts_ip4_mask(uint8_t prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

#endif
