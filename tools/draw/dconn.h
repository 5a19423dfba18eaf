/* tools/draw/dconn.h - the TCP connections of a capture, segment by
 * segment, with what a diagram needs: relative sequence numbers, scaled
 * windows, retransmissions, and the state each side entered.
 *
 * A connection is a 4-tuple between a SYN (or its first segment, when the
 * capture starts mid-connection) and the next SYN of a new incarnation.
 * Side 0 is the side that opened it (sent the first SYN), side 1 the other.
 * States are inferred from the segments each side sends and receives, as
 * seen at the capture point (RFC 9293 §3.3.2's diagram); the stack's side
 * of a capture taken by tapstack itself is exact to within one segment,
 * the far side's is an estimate. A trace (dtrace.h) may overwrite the
 * stack side's states with the ones the stack reported, and mark drops.
 * Entry points: dconn_build, dconn_free, dconn_state_name, dconn_of_frame.
 */
#ifndef TS_TOOLS_DRAW_DCONN_H
#define TS_TOOLS_DRAW_DCONN_H

#include <stddef.h>
#include <stdint.h>

#include "tools/draw/dcap.h"

enum dconn_state {
    DS_NONE, DS_SYN_SENT, DS_SYN_RCVD, DS_ESTAB, DS_FIN_WAIT_1,
    DS_FIN_WAIT_2, DS_CLOSING, DS_TIME_WAIT, DS_CLOSE_WAIT, DS_LAST_ACK,
    DS_CLOSED,
};

/* One segment of a connection. */
struct dconn_seg {
    uint32_t fi;                /* index into the capture's frames */
    uint8_t dir;                /* sender: 0 (side 0 -> 1) or 1 */
    uint8_t retrans;            /* resends data, SYN or FIN already sent */
    uint8_t dropped;            /* the trace says the stack dropped it */
    uint8_t state[2];           /* state side i entered here, DS_NONE if none */
    uint32_t rseq, rack;        /* relative to each side's ISN */
    uint32_t rwin;              /* the window in bytes (scaled) */
    const char *tstate[2];      /* state named by the trace (overrides) */
    const char *note;           /* drop reason or retransmission cause */
};

struct dconn_side {
    uint32_t ip;
    uint16_t port;
    uint32_t isn;               /* first sequence number seen */
    uint8_t has_isn, sent_any, sent_ws, ws, sent_fin, state;
    uint32_t snd_max;           /* highest seq + len sent */
    uint32_t fin_seq;           /* sequence number of its FIN */
    uint64_t bytes;             /* payload bytes sent, first copies */
    uint32_t nretrans;
};

struct dconn {
    uint32_t id;                /* 1-based, in order of first segment */
    struct dconn_side side[2];
    struct dconn_seg *seg;
    size_t n, cap;
    int stack_side;             /* side the trace says is the stack, or -1 */
    uint32_t ntstates;          /* states the trace reported for it */
};

struct dconns {
    struct dconn *c;
    size_t n, cap;
    int32_t *frame_conn;        /* per frame: connection index or -1 */
    int32_t *frame_seg;         /* per frame: segment index or -1 */
    size_t nframes;
};

/* Group the TCP frames of cap into connections. 0, or -1 (out of memory). */
int dconn_build(const struct dcap *cap, struct dconns *out);
void dconn_free(struct dconns *cs);

/* "ESTABLISHED", ...; "" for DS_NONE. */
const char *dconn_state_name(int st);

/* The connection and segment of capture frame number no (1-based); NULL
 * when it is not a TCP segment of any connection. */
struct dconn *dconn_of_frame(struct dconns *cs, uint32_t no,
                             struct dconn_seg **seg);

#endif
