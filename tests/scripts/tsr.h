/* tests/scripts/tsr.h - the conformance script runner (ts-script): what its
 * parts share.
 *
 * A script (a .pkt file of tests/scripts/) is read line by line (tsr_parse.c) into
 * struct tsr_line: a time, then a segment the peer injects ('<'), a segment
 * the stack must send ('>'), or a socket call with its expected return.
 * tsr_seg.c builds the peer's frames (checksums computed), decodes what the
 * stack sent and compares it with the script; tsr_main.c runs one stack on
 * an in-memory device with a virtual clock and plays the lines in order.
 *
 * Sequence numbers in scripts are relative, as in packetdrill: the peer's
 * to its own ISN (TSR_RISN, chosen here, a little below 2^32 so that every
 * script crosses the wrap), the stack's to the ISN of the last SYN it sent.
 * Entry points: tsr_parse_line, tsr_build_frame, tsr_decode_frame,
 * tsr_seg_match, tsr_seg_format, tsr_errno_name, tsr_errno_value.
 */
#ifndef TS_TESTS_SCRIPTS_TSR_H
#define TS_TESTS_SCRIPTS_TSR_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "tcp/tcp_wire.h"

#define TSR_MY_IP TS_IP4(10, 0, 0, 2)       /* the stack under test */
#define TSR_PEER_IP TS_IP4(10, 0, 0, 1)     /* the script plays it */
#define TSR_RISN 0xfffffc00u                /* the peer's ISN: wraps at 1 KiB */
#define TSR_PEER_PORT 40000                 /* the peer's port on passive opens */
#define TSR_FRAME_MAX 1600
#define TSR_MAX_OPTS 12
#define TSR_MAX_ARGS 6
#define TSR_ARG_LEN 32

extern const uint8_t tsr_my_mac[6];
extern const uint8_t tsr_peer_mac[6];

/* One TCP option as a script writes it. */
struct tsr_opt {
    uint8_t kind;               /* TCP_OPT_* (0 EOL, 1 NOP, ...) */
    uint8_t any;                /* value written as '*' */
    uint8_t raw;                /* kind K len L: bytes as written */
    uint32_t v1, v2;            /* mss/wscale value; TS val and ecr;
                                   raw: v1 its length byte */
    uint8_t nsack;
    uint32_t sack[4][2];        /* relative edges */
};

/* A segment line. Fields written as '*', or left out, are not checked on
 * a segment the stack sends; on one the peer sends they take defaults. */
struct tsr_seg {
    char dir;                   /* '<' peer to stack, '>' stack to peer */
    uint8_t flags;
    uint8_t flags_any;
    uint8_t seq_any;
    uint32_t seq, len;          /* relative start, payload bytes */
    uint8_t has_ack, ack_any;
    uint32_t ack;
    uint8_t has_win, win_any;
    uint32_t win;               /* as on the wire (unscaled) */
    uint8_t has_urg;
    uint16_t urg;
    uint8_t badsum;             /* '<' only: a wrong TCP checksum */
    uint32_t src, dst;          /* '<' only: IPv4 addresses (0: the usual) */
    uint16_t port;              /* '<' only: the peer's port from this line
                                   on (0: keep it) */
    uint8_t has_opts, opts_any;
    unsigned nopts;
    struct tsr_opt opts[TSR_MAX_OPTS];
};

/* A socket call: name(args) = ret [ERRNO]. */
struct tsr_call {
    char name[16];
    unsigned nargs;
    char args[TSR_MAX_ARGS][TSR_ARG_LEN];
    uint8_t ret_any;
    long ret;
    int err;                    /* expected errno when ret is -1 */
    char ret_word[TSR_ARG_LEN]; /* a word result (tcp_state() = TIME-WAIT) */
};

enum tsr_kind { TSR_NONE = 0, TSR_SEG, TSR_CALL, TSR_CONFIG };

struct tsr_line {
    enum tsr_kind kind;
    uint8_t rel;                /* '+' time: after the previous line */
    uint64_t ms;                /* time (absolute or relative), ms */
    struct tsr_seg seg;
    struct tsr_call call;
    char cfg_key[TSR_ARG_LEN];  /* config KEY=VALUE */
    uint64_t cfg_val;
};

/* Parse one line (comment and blank lines give TSR_NONE). 0, or -1 with a
 * reason in err. */
int tsr_parse_line(const char *text, struct tsr_line *out, char *err,
                   size_t errlen);

/* Numbers the relative ones are relative to. */
struct tsr_isn {
    uint32_t risn;              /* the peer's */
    uint32_t lisn;              /* the stack's, once learned */
    uint16_t lport, rport;      /* stack's port, peer's port */
};

/* The peer's segment as an Ethernet frame (payload: each byte the low byte
 * of its relative sequence number). Returns its length, 0 if too big. */
size_t tsr_build_frame(uint8_t *f, const struct tsr_seg *s,
                       const struct tsr_isn *isn);

/* What the stack sent, in script terms. */
struct tsr_sent {
    uint16_t sport, dport;
    uint32_t seq, ack;          /* absolute */
    uint8_t flags;
    uint16_t wnd, urp;
    uint32_t len;
    const uint8_t *data;
    uint8_t optbuf[40];
    size_t optlen;
    struct tcp_opts opts;       /* as tcp_parse read them */
};

/* Check the frame is a well-formed TCP segment from us (IPv4 and TCP
 * checksums, lengths) and decode it. 1: TCP, 0: not TCP (ARP...), -1 with
 * the reason in err. */
int tsr_decode_frame(const uint8_t *f, size_t len, struct tsr_sent *out,
                     char *err, size_t errlen);
/* 1 when the sent segment matches the expectation; else 0 and the first
 * difference in why. */
int tsr_seg_match(const struct tsr_seg *want, const struct tsr_sent *got,
                  const struct tsr_isn *isn, char *why, size_t whylen);
/* The sent segment in script syntax, numbers relative. */
void tsr_sent_format(const struct tsr_sent *got, const struct tsr_isn *isn,
                     char *buf, size_t len);

const char *tsr_errno_name(int err);
int tsr_errno_value(const char *name);    /* 0: unknown */

#endif
