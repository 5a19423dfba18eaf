/* tools/draw/ladder.h - the ladder (sequence) diagram of TCP connections.
 *
 * For each connection: two vertical time lines, the opener on the left,
 * one arrow per segment (flags, relative seq and ack, length, window in
 * bytes, the options of a SYN), the state each side entered written beside
 * its line where it entered it (upright: reported by the stack's trace;
 * italic: inferred from the segments), retransmissions in red with their
 * cause, drops (from the trace) as an arrow that stops short with a cross.
 * Runs of plain data segments one way and pure ACKs the other way longer
 * than fold_min are folded into one labelled band, so a bulk transfer
 * takes a few rows. Rows are spaced evenly (not to time scale); the time
 * of each row is printed on the left with its frame number.
 * Entry points: ladder_draw, ladder_rows.
 */
#ifndef TS_TOOLS_DRAW_LADDER_H
#define TS_TOOLS_DRAW_LADDER_H

#include <stdio.h>

#include "tools/draw/dcap.h"
#include "tools/draw/dconn.h"

struct ladder_opts {
    int links;                  /* wrap each arrow in <a href="#fN"> */
    size_t max_rows;            /* rows drawn in all (0: 600) */
    size_t fold_min;            /* shortest run that is folded (0: 8) */
    int64_t from_us, to_us;     /* only segments in this window of the
                                   capture's clock (0, 0: all) */
};

/* One row of the diagram: a segment, or a folded band of segments. */
struct ladder_row {
    size_t first, last;         /* segment indexes; first == last: one */
    int band;
};

/* The rows of connection c (at most cap); returns how many. */
size_t ladder_rows(const struct dconn *c, const struct dcap *cap,
                   const struct ladder_opts *o, struct ladder_row *rows,
                   size_t max);

/* Draw the nconn connections sel[] as one SVG on f. standalone: a .svg
 * file (else an element to inline in HTML). 0, or -1 on a write error. */
int ladder_draw(FILE *f, const struct dcap *cap, struct dconn *const *sel,
                size_t nconn, const struct ladder_opts *o, int standalone);

#endif
