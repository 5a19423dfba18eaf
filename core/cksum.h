/* core/cksum.h - the internet checksum (RFC 1071).
 *
 * cksum_partial() accumulates 32 bits at a time into a 64-bit sum, so there is
 * no carry to handle until the final fold. Partial sums may be chained (the
 * pseudo-header, then the segment) as long as every piece but the last has an
 * even length. Results are in host order, ready for store_be16().
 * Entry points: cksum_partial, cksum_fold, inet_cksum, cksum_pseudo,
 * cksum_pseudo_partial, cksum_finish, CKSUM_RX_BAD.
 */
#ifndef TS_CORE_CKSUM_H
#define TS_CORE_CKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes at buf to the running sum. */
uint64_t cksum_partial(const void *buf, size_t len, uint64_t sum);

/* Fold a running sum to 16 bits and complement it: the value to put in a
 * checksum field (host order). Verifying a packet whose checksum field is
 * included in the sum yields 0. */
uint16_t cksum_fold(uint64_t sum);

/* Checksum of one buffer: cksum_fold(cksum_partial(buf, len, 0)). */
uint16_t inet_cksum(const void *buf, size_t len);

/* TCP and UDP over IPv4 sum a 12-byte pseudo-header (addresses in host
 * order, protocol, length) before the segment (RFC 9293 §3.1, RFC 768).
 * Its length is even, so the segment's sum chains onto it. Returns the
 * folded checksum of pseudo-header + seg: 0 when a received one verifies,
 * else the value for the checksum field (which must be 0 while summing). */
uint16_t cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                      const void *seg, size_t len);

/* The pseudo-header's sum alone (length len), folded, not complemented:
 * what an offloading sender leaves in the checksum field for the device
 * (or cksum_finish) to complete. */
uint16_t cksum_pseudo_partial(uint32_t src, uint32_t dst, uint8_t proto,
                              size_t len);

/* Finish a checksum left partial by an offloading sender (Linux's
 * CHECKSUM_PARTIAL, virtio's NEEDS_CSUM): the field at start + off holds
 * the pseudo-header sum; sum buf[start..len) with it and store the result
 * there. 0, or -1 (nothing written) when the field is not inside buf. */
int cksum_finish(uint8_t *buf, size_t len, size_t start, size_t off);

/* The verdict on a received checksum (c: the folded sum, 0 when it
 * verifies). The fuzz build (make fuzz, -DTS_FUZZ_NO_CKSUM) accepts every
 * checksum, so mutated frames reach the code behind the check instead of
 * all dying there; the sum is still computed. Every other build verifies.
 * Used by the four receive checks only (IPv4 header, ICMP, TCP, UDP). */
#ifdef TS_FUZZ_NO_CKSUM
#define CKSUM_RX_BAD(c) ((void)(c), 0)
#else
#define CKSUM_RX_BAD(c) ((c) != 0)
#endif

#endif
