/* tools/draw/dtrace.h - tapstack's JSON-lines trace, read with jansson, and
 * tied to the capture.
 *
 * One object per line (tapstack --trace FILE):
 *   {"t_us": N, "layer": "tcp", "ev": "state", "conn": {"id": N,
 *    "local": "10.0.0.2:80", "remote": "10.0.0.1:41234"},
 *    "changed": {"state": ["SYN-RECEIVED", "ESTABLISHED"], "cwnd": [a, b],
 *    "ssthresh": [..], "rto_ms": [..], "srtt_us": [..], "snd_wnd": [..]},
 *    "reason": "...", "rfc": "9293 3.10.7.4", "frame_in": N,
 *    "frame_out": [N, ...], "cause": "rto|dupack|sack"}
 * t_us, layer and ev are required (a line about the trace itself, such as
 * the last one, {"ev": "trace_truncated", ...}, may have ev only); unknown
 * members are ignored (the trace may grow). A line that is not such an object is an error, except
 * an unfinished last line (the stack was killed mid-write), which is
 * skipped. At most max_events lines are kept; the rest are counted.
 * dtrace_apply() marks the capture's segments: the stack side of each
 * connection, the states the stack entered, drops, retransmission causes.
 * Entry points: dtrace_load, dtrace_free, dtrace_apply, dtrace_frame_time,
 * dtrace_names_frame.
 */
#ifndef TS_TOOLS_DRAW_DTRACE_H
#define TS_TOOLS_DRAW_DTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "tools/draw/dconn.h"

#define DTRACE_FRAMES_OUT 8     /* frame_out numbers kept per event */

/* One changed field: present, old and new value. */
struct dtrace_change {
    uint8_t has;
    int64_t from, to;
};

struct dtrace_ev {
    uint32_t line;              /* 1-based line number in the file */
    int64_t t_us;               /* as written: since the stack started */
    char layer[8], ev[24], cause[12];
    char state_from[16], state_to[16];
    uint32_t conn_id;           /* 0: none */
    uint32_t lip, rip;          /* conn.local, conn.remote (host order) */
    uint16_t lport, rport;
    uint8_t has_conn;
    struct dtrace_change cwnd, ssthresh, rto_ms, srtt_us, snd_wnd;
    uint32_t frame_in;          /* 0: none */
    uint32_t frame_out[DTRACE_FRAMES_OUT];
    uint8_t nframe_out;
    char *text;                 /* the line as read (for the HTML page) */
    char *reason, *rfc;         /* NULL when absent */
    char label[40];             /* states chained on one segment: "A → B" */
};

struct dtrace {
    struct dtrace_ev *e;
    size_t n, cap;
    uint64_t skipped;           /* lines past max_events */
    int64_t offset_us;          /* capture time = t_us + offset_us */
};

/* Read path. 0, or -1 with a one-line reason in err ("FILE:LINE: not a
 * JSON object: ..."). */
int dtrace_load(const char *path, struct dtrace *t, size_t max_events,
                char *err, size_t errlen);
void dtrace_free(struct dtrace *t);

/* Tie the trace to the capture: work out offset_us from the first event
 * that names a frame, find which side of each connection is the stack,
 * and mark segments (states, drops, retransmission causes). */
void dtrace_apply(struct dtrace *t, const struct dcap *cap,
                  struct dconns *cs);

/* The event's time on the capture's clock (µs since frame 1). */
int64_t dtrace_time(const struct dtrace *t, const struct dtrace_ev *e);

/* Does e name capture frame no (frame_in or one of frame_out)? */
int dtrace_names_frame(const struct dtrace_ev *e, uint32_t no);

/* Does e belong to connection c (by its 4-tuple)? Sets *stack_side to the
 * side the event's conn.local is. */
int dtrace_is_conn(const struct dtrace_ev *e, const struct dconn *c,
                   int *stack_side);

#endif
