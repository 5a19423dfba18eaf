/* tools/draw/dcap.h - a capture read into memory, one parsed record per
 * frame (tapstack-draw's input; the capture is untrusted).
 *
 * dcap_load() reads a pcap file with libpcap (Ethernet link type only) and
 * parses each frame with the stack's own pure wire parsers (eth_parse,
 * ipv4_parse, tcp_parse), which check every length before reading; on top
 * of them only small bounds-checked reads for ARP, ICMP and UDP summaries.
 * A frame that does not parse is kept as DK_BAD with the reason in info.
 * Frames are numbered from 1 in file order (tshark's numbers); times are
 * microseconds since the first frame. At most max_frames are kept (the rest
 * are counted in `skipped`), so memory is bounded whatever the file holds.
 * Entry points: dcap_load, dcap_free, dcap_parse_frame, dcap_kind_name.
 */
#ifndef TS_TOOLS_DRAW_DCAP_H
#define TS_TOOLS_DRAW_DCAP_H

#include <stddef.h>
#include <stdint.h>

enum dcap_kind {
    DK_OTHER,           /* an Ethernet type we do not parse */
    DK_BAD,             /* malformed at some layer: info says which */
    DK_ARP,
    DK_IPV4,            /* an IP protocol we do not parse further */
    DK_FRAG,            /* a non-first IPv4 fragment */
    DK_ICMP,
    DK_UDP,
    DK_TCP,
};

/* One TCP segment's header, as sent (sequence numbers absolute). */
struct dcap_tcp {
    uint32_t src, dst;          /* IPv4 addresses, host order */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint32_t len;               /* payload bytes */
    uint16_t win;               /* as on the wire, before scaling */
    uint8_t flags;              /* TCP_FIN ... TCP_CWR */
    uint8_t has_mss, has_ws, ws, sack_ok, nsack;
    uint16_t mss;
    uint32_t sack[4][2];
};

struct dcap_frame {
    uint32_t no;                /* 1-based, as tshark numbers it */
    int64_t t_us;               /* since the first frame */
    uint32_t caplen, wirelen;
    uint8_t kind;               /* enum dcap_kind */
    char src[24], dst[24];      /* addresses for a frame list */
    char info[112];             /* a one-line summary, tshark-like */
    struct dcap_tcp tcp;        /* kind == DK_TCP only */
};

struct dcap {
    struct dcap_frame *f;
    size_t n, cap;
    int64_t t0_us;              /* absolute time of frame 1 */
    uint64_t skipped;           /* frames past max_frames, not kept */
    int truncated;              /* the file ended inside a record */
};

/* Read path. 0, or -1 with a one-line reason in err (no such file, not a
 * pcap file, not Ethernet, out of memory). A file cut inside its last
 * record is not an error: the frames before it are kept and
 * c->truncated is set. */
int dcap_load(const char *path, struct dcap *c, size_t max_frames,
              char *err, size_t errlen);
void dcap_free(struct dcap *c);

/* Parse one frame of caplen bytes into f (all but no, t_us and the
 * lengths, which the caller sets). Pure; never reads past caplen. */
void dcap_parse_frame(const uint8_t *buf, size_t caplen,
                      struct dcap_frame *f);

/* "TCP", "ARP", ... for a frame list. */
const char *dcap_kind_name(int kind);

/* "SYN,ACK" style text of TCP flags into buf (at least 32 bytes). */
char *dcap_flags_str(uint8_t flags, char *buf);

#endif
