/* ipv4/ipv4_opt.h - IPv4 options (RFC 791 §3.1, RFC 1122 §3.2.1.8), pure.
 *
 * ipv4_opts_parse() walks the options of a header that ipv4_parse already
 * accepted (hlen bytes, 20..60) and checks every one before trusting it:
 * End of Option List ends the walk (what follows is padding), No Operation
 * is one octet, every other option needs a length octet inside the header,
 * a length of at least 2 and no more than the header has left. Record Route,
 * Loose and Strict Source Route and Timestamp are then checked in detail
 * (length a whole number of slots, pointer on a slot and at most one past
 * the end, a known Timestamp flag, at most one of each, one source route).
 * Well-formed options we do not know (security, stream ID, router alert,
 * ...) are skipped. A failure gives the offset, from the start of the IP
 * header, of the octet at fault: the pointer of ICMP Parameter Problem.
 *
 * ipv4_opts_echo() builds the options of an echo reply (RFC 1122 §3.2.2.6):
 * Record Route and Timestamp are reflected and updated with this host (and
 * a timestamp) where they have room, a completed source route is reversed
 * into the return route (whose first hop becomes the reply's destination);
 * every other option is left out. ipv4_opts_copied() keeps the options
 * whose copy flag is set, for the second and later fragments of a
 * datagram (RFC 791 §3.2).
 * Entry points: ipv4_opts_parse, ipv4_opts_echo, ipv4_opts_copied.
 */
#ifndef TS_IPV4_IPV4_OPT_H
#define TS_IPV4_IPV4_OPT_H

#include <stddef.h>
#include <stdint.h>

#define IPV4_OPT_EOL 0
#define IPV4_OPT_NOP 1
#define IPV4_OPT_RR 7
#define IPV4_OPT_TS 68
#define IPV4_OPT_LSRR 131
#define IPV4_OPT_SSRR 137
#define IPV4_OPT_COPIED 0x80    /* type bit: copy into every fragment */
#define IPV4_OPTS_MAX 40        /* option bytes in a 60-byte header */
#define IPV4_TS_ONLY 0          /* Timestamp flags (RFC 791) */
#define IPV4_TS_ADDR 1
#define IPV4_TS_PRESPEC 3

enum ipv4_opt_err {
    IPV4_OPT_OK = 0,
    IPV4_OPT_ERR_LEN = -1,      /* length < 2, or past the end of the header */
    IPV4_OPT_ERR_RR = -2,       /* Record Route: bad length or pointer, repeated */
    IPV4_OPT_ERR_SRR = -3,      /* source route: bad length or pointer, two of them */
    IPV4_OPT_ERR_TS = -4,       /* Timestamp: bad length, pointer or flag, repeated */
};

/* Where the options we act on sit: offsets from the header's first octet,
 * 0 when absent (no option can start before octet 20). */
struct ipv4_opts {
    uint8_t rr;
    uint8_t ts;
    uint8_t srr;                /* LSRR or SSRR */
    uint8_t srr_done;           /* its pointer is past the last address */
};

/* Check the options of hdr (hlen bytes, a header ipv4_parse accepted).
 * IPV4_OPT_OK with *o filled, or an error with *bad the offending octet's
 * offset in the header. */
int ipv4_opts_parse(const uint8_t *hdr, size_t hlen, struct ipv4_opts *o,
                    uint8_t *bad);

/* The options of the echo reply to the request whose header is hdr (its
 * options o, as parsed): into out (IPV4_OPTS_MAX bytes), padded to a
 * multiple of 4; returns their length (0: none). self is our address (the
 * reply's source), peer the request's source, ts the timestamp to record.
 * *dst is set to where the reply goes: peer, or the first hop of the
 * reversed source route. */
size_t ipv4_opts_echo(const uint8_t *hdr, const struct ipv4_opts *o,
                      uint32_t self, uint32_t peer, uint32_t ts, uint8_t *out,
                      uint32_t *dst);

/* The options of opts (len bytes) with the copy flag set, into out
 * (IPV4_OPTS_MAX bytes), padded to a multiple of 4; their length. */
size_t ipv4_opts_copied(const uint8_t *opts, size_t len, uint8_t *out);

#endif
