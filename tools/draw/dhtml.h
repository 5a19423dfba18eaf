/* tools/draw/dhtml.h - one HTML page for a capture: the diagrams (inline
 * SVG, each arrow a link to its frame) beside the frame list (number,
 * time, addresses, protocol, summary); each frame links to the trace lines
 * that name it (frame_in or frame_out) and each trace line back to its
 * frames. Everything from the capture or the trace is escaped.
 * Entry points: dhtml_write.
 */
#ifndef TS_TOOLS_DRAW_DHTML_H
#define TS_TOOLS_DRAW_DHTML_H

#include <stdio.h>

#include "tools/draw/dcap.h"
#include "tools/draw/dconn.h"
#include "tools/draw/dtrace.h"
#include "tools/draw/ladder.h"

/* title: shown at the top (the capture's name). t may be NULL. 0, or -1
 * on a write error or when out of memory. */
int dhtml_write(FILE *f, const char *title, const struct dcap *cap,
                struct dconns *cs, const struct dtrace *t,
                const struct ladder_opts *lo);

#endif
