/* tools/draw/tseq.h - the time-sequence graph of one direction of a TCP
 * connection (Stevens, tcptrace).
 *
 * Time runs right, relative sequence numbers up. Each data segment is a
 * vertical bar from its first to its last byte (red when it resends bytes
 * already sent), the receiver's cumulative ACK a green step line, the edge
 * of its advertised window (ACK + window) a yellow step line, SACK blocks
 * purple bars. A lower panel shows the bytes in flight (from the capture:
 * highest sequence sent minus highest ACK) and, from the trace when given,
 * the congestion window, ssthresh and the RTO.
 * The time axis spans the transfer, or the window tseq_opts gives (the
 * sequence axis then fits what the window holds).
 * Entry points: tseq_draw, tseq_pick_dir.
 */
#ifndef TS_TOOLS_DRAW_TSEQ_H
#define TS_TOOLS_DRAW_TSEQ_H

#include <stdio.h>

#include "tools/draw/dcap.h"
#include "tools/draw/dconn.h"
#include "tools/draw/dtrace.h"

/* A time window on the capture's clock (µs since frame 1): from_us 0
 * and to_us 0 mean the whole transfer. */
struct tseq_opts {
    int64_t from_us, to_us;
};

/* The direction (sender side) that carried more payload. */
int tseq_pick_dir(const struct dconn *c);

/* Draw connection c's direction dir (data sent by side dir). t and o may
 * be NULL. 0, or -1 on a write error. */
int tseq_draw(FILE *f, const struct dcap *cap, const struct dconn *c,
              int dir, const struct dtrace *t, const struct tseq_opts *o,
              int standalone);

#endif
