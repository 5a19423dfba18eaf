/* tcp/tcp_wire.h - TCP header and options, parse and emit (RFC 9293 §3.1,
 * RFC 7323, RFC 2018), pure and paranoid.
 *
 * tcp_parse() checks the segment is at least 20 bytes, the data offset is
 * 5..15 and within the segment, then walks the options: EOL ends them, NOP
 * is skipped, every other option needs a length byte >= 2 that fits inside
 * the header; a length of 0 or 1, or one running past the header, stops the
 * walk (the options seen so far stand, the rest are ignored and
 * `opts.malformed` is set) so no input can make it loop or over-read. Known
 * options with the wrong length are ignored. An MSS of 0 is reported as is;
 * the caller clamps. The checksum is verified separately (tcp_cksum), since
 * it needs the IP pseudo-header.
 * Entry points: tcp_parse, tcp_emit, tcp_opts_len, tcp_cksum.
 */
#ifndef TS_TCP_TCP_WIRE_H
#define TS_TCP_TCP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define TCP_HLEN 20
#define TCP_HLEN_MAX 60
#define TCP_SACK_MAX 4          /* blocks that fit in 40 option bytes */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_OK 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

enum tcp_parse_err {
    TCP_OK = 0,
    TCP_ERR_TRUNCATED = -1,     /* fewer than 20 bytes */
    TCP_ERR_OFFSET = -2,        /* data offset < 5 or beyond the segment */
};

struct tcp_opts {
    uint8_t has_mss, has_ws, sack_ok, has_ts;
    uint8_t malformed;          /* the option walk stopped early */
    uint8_t ws;                 /* window scale shift as sent (caller clamps to 14) */
    uint16_t mss;
    uint32_t tsval, tsecr;
    uint8_t nsack;
    uint32_t sack[TCP_SACK_MAX][2];     /* [left, right) edges */
};

struct tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hlen;               /* header length in bytes, options included */
    uint8_t flags;              /* TCP_FIN ... TCP_CWR */
    uint16_t wnd;               /* as on the wire, before scaling */
    uint16_t urp;
    struct tcp_opts opts;
};

/* Parse the segment at buf (len bytes: header and data). TCP_OK or error;
 * on error *h is left untouched. Options are reported whatever the flags
 * (an MSS on a non-SYN too): which ones to honour is the caller's call. */
int tcp_parse(const uint8_t *buf, size_t len, struct tcp_hdr *h);

/* Bytes the options set in opts take when emitted (multiple of 4, <= 40).
 * SACK blocks that do not fit after the other options are dropped from the
 * end of opts->sack (RFC 2018 §4 puts the newest block first): with
 * timestamps 3 fit, with MSS, SACK_OK, timestamps and window scale 2. */
size_t tcp_opts_len(const struct tcp_opts *opts);

/* Write the header with options (tcp_opts_len(&h->opts) bytes after the
 * fixed 20, in Linux's order and NOP padding) at buf, which must have room
 * for that many (never more than TCP_HLEN_MAX); h->hlen is ignored and
 * computed. The checksum field is left 0: the caller fills it with
 * tcp_cksum once the data is in place.
 * Returns the header length written. */
size_t tcp_emit(const struct tcp_hdr *h, uint8_t *buf);

/* Checksum over the IPv4 pseudo-header and len (<= 65535) bytes of
 * segment at seg (addresses in host order). On a received segment it
 * returns 0 when the checksum verifies; on one to send (checksum field 0)
 * it returns the value to store at seg + 16. */
uint16_t tcp_cksum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);

#endif
