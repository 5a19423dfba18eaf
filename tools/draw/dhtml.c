/* tools/draw/dhtml.c - the HTML page of a capture (see dhtml.h). The page
 * is self-contained (inline SVG and CSS, no script, no network), so it
 * opens from a file anywhere. Long captures and traces are cut at
 * DH_MAX_ROWS rows each, with a line saying so. */
#include "tools/draw/dhtml.h"

#include <stdlib.h>
#include <string.h>

#include "tools/draw/svg.h"
#include "tools/draw/tseq.h"

#define DH_MAX_ROWS 20000       /* frames, and trace lines, listed */
#define DH_MAX_TSEQ 6           /* time-sequence graphs drawn */

static const char dh_css[] =
    "body{font-family:DejaVu Sans,sans-serif;margin:0;color:#222}"
    "header{padding:8px 16px;background:#1f4e9c;color:#fff}"
    "header h1{font-size:18px;margin:0}header p{margin:4px 0 0}"
    "main{display:flex;gap:12px;padding:12px;align-items:flex-start}"
    "#pics{flex:0 0 1010px;overflow:auto;max-height:calc(100vh - 90px)}"
    "#list{flex:1 1 auto;overflow:auto;max-height:calc(100vh - 90px);"
    "font:12px DejaVu Sans Mono,monospace}"
    "h2{font:bold 15px DejaVu Sans,sans-serif;margin:10px 0 6px}"
    "table{border-collapse:collapse}th{text-align:left;background:#eee}"
    "td,th{padding:1px 6px;white-space:nowrap;vertical-align:top}"
    "td.tl{white-space:normal;min-width:4em;max-width:9em}"
    "tr.TCP{background:#f3f7fd}"
    "tr.BAD{background:#fde8e8}tr.ARP{background:#fdf8e8}"
    "tr.ICMP{background:#eefbee}tr:target,li:target{background:#ffe066}"
    "ol{padding-left:4em}li{white-space:pre-wrap;word-break:break-all}"
    "a{color:#1f4e9c}p.note{color:#a00}";

/* The frames (in the capture) event e names, without repeats. */
static unsigned dh_frames_of(const struct dtrace_ev *e, size_t nframes,
                             uint32_t out[DTRACE_FRAMES_OUT + 1])
{
    unsigned n = 0;
    uint32_t cand[DTRACE_FRAMES_OUT + 1];
    unsigned nc = 0;
    if (e->frame_in)
        cand[nc++] = e->frame_in;
    for (unsigned i = 0; i < e->nframe_out; i++)
        cand[nc++] = e->frame_out[i];
    for (unsigned i = 0; i < nc; i++) {
        int dup = cand[i] == 0 || cand[i] > nframes;
        for (unsigned k = 0; k < n && !dup; k++)
            dup = out[k] == cand[i];
        if (!dup)
            out[n++] = cand[i];
    }
    return n;
}

/* For each frame, the trace events that name it: ev[first[no - 1]] up to
 * ev[first[no]] (counting sort by frame number). */
struct dh_index {
    size_t *first;
    size_t *ev;
};

static int dh_index_build(struct dh_index *x, const struct dcap *cap,
                          const struct dtrace *t)
{
    uint32_t fr[DTRACE_FRAMES_OUT + 1];
    size_t nref = 0, *fill;
    x->first = calloc(cap->n + 2, sizeof *x->first);
    if (!x->first)
        return -1;
    for (size_t i = 0; t && i < t->n; i++) {
        unsigned n = dh_frames_of(&t->e[i], cap->n, fr);
        for (unsigned k = 0; k < n; k++)
            x->first[fr[k]]++;
        nref += n;
    }
    for (size_t no = 1; no <= cap->n + 1; no++)
        x->first[no] += x->first[no - 1];
    x->ev = malloc((nref + 1) * sizeof *x->ev);
    fill = calloc(cap->n + 1, sizeof *fill);
    if (!x->ev || !fill) {
        free(fill);
        return -1;
    }
    for (size_t i = 0; t && i < t->n; i++) {
        unsigned n = dh_frames_of(&t->e[i], cap->n, fr);
        for (unsigned k = 0; k < n; k++)
            x->ev[x->first[fr[k] - 1] + fill[fr[k] - 1]++] = i;
    }
    free(fill);
    return 0;
}

static void dh_frames(FILE *f, const struct dcap *cap, const struct dtrace *t,
                      const struct dh_index *x)
{
    size_t n = cap->n < DH_MAX_ROWS ? cap->n : DH_MAX_ROWS;
    /* The trace links come second: a long Info column must not push them
     * out of sight. */
    fputs("<h2>Frames</h2>\n<table>\n<tr><th>No.</th><th>Trace lines</th>"
          "<th>Time</th><th>Source</th><th>Destination</th><th>Proto</th>"
          "<th>Len</th><th>Info</th></tr>\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct dcap_frame *fr = &cap->f[i];
        fprintf(f, "<tr id=\"f%u\" class=\"%s\"><td>%u</td><td class=\"tl\">",
                fr->no, dcap_kind_name(fr->kind), fr->no);
        for (size_t k = x->first[i]; t && k < x->first[i + 1]; k++)
            fprintf(f, "%s<a href=\"#t%u\">%u</a>", k > x->first[i] ? " " : "",
                    t->e[x->ev[k]].line, t->e[x->ev[k]].line);
        fprintf(f, "</td><td>%.6f</td><td>", fr->t_us / 1e6);
        svg_esc(f, fr->src);
        fputs("</td><td>", f);
        svg_esc(f, fr->dst);
        fprintf(f, "</td><td>%s</td><td>%u</td><td>", dcap_kind_name(fr->kind),
                fr->wirelen);
        svg_esc(f, fr->info);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (n < cap->n)
        fprintf(f, "<p class=\"note\">Only the first %zu of %zu frames are "
                "listed.</p>\n", n, cap->n);
}

static void dh_trace(FILE *f, const struct dcap *cap, const struct dtrace *t)
{
    uint32_t fr[DTRACE_FRAMES_OUT + 1];
    size_t n = t->n < DH_MAX_ROWS ? t->n : DH_MAX_ROWS;
    fputs("<h2>Trace</h2>\n<ol>\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct dtrace_ev *e = &t->e[i];
        fprintf(f, "<li id=\"t%u\" value=\"%u\">", e->line, e->line);
        unsigned nf = dh_frames_of(e, cap->n, fr);
        for (unsigned k = 0; k < nf; k++)
            fprintf(f, "<a href=\"#f%u\">#%u</a> ", fr[k], fr[k]);
        svg_esc(f, e->text);
        fputs("</li>\n", f);
    }
    fputs("</ol>\n", f);
    if (n < t->n || t->skipped)
        fprintf(f, "<p class=\"note\">Only the first %zu trace lines are "
                "listed.</p>\n", n);
}

/* The diagrams: the ladder of every connection, then the time-sequence
 * graphs of the connections that carried data. */
static int dh_pics(FILE *f, const struct dcap *cap, struct dconns *cs,
                   const struct dtrace *t, const struct ladder_opts *lo)
{
    struct dconn **sel = malloc((cs->n + 1) * sizeof *sel);
    struct ladder_opts o = *lo;
    int rc = 0, ntseq = 0;
    if (!sel)
        return -1;
    for (size_t i = 0; i < cs->n; i++)
        sel[i] = &cs->c[i];
    o.links = 1;
    fputs("<h2>Ladder</h2>\n", f);
    rc |= ladder_draw(f, cap, sel, cs->n, &o, 0);
    for (size_t i = 0; i < cs->n && ntseq < DH_MAX_TSEQ; i++) {
        struct dconn *c = &cs->c[i];
        if (c->side[0].bytes + c->side[1].bytes == 0)
            continue;
        fprintf(f, "<h2>Time-sequence graph, connection %u</h2>\n", c->id);
        rc |= tseq_draw(f, cap, c, tseq_pick_dir(c), t, NULL, 0);
        ntseq++;
    }
    free(sel);
    return rc;
}

int dhtml_write(FILE *f, const char *title, const struct dcap *cap,
                struct dconns *cs, const struct dtrace *t,
                const struct ladder_opts *lo)
{
    struct dh_index x = { NULL, NULL };
    if (dh_index_build(&x, cap, t) != 0) {
        free(x.first);
        free(x.ev);
        return -1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>tapstack-draw: ", f);
    svg_esc(f, title);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<header><h1>", dh_css);
    svg_esc(f, title);
    fprintf(f, "</h1><p>%zu frames, %zu TCP connections", cap->n, cs->n);
    if (t)
        fprintf(f, ", %zu trace lines", t->n);
    else
        fputs(", no trace (tapstack-draw --trace FILE ties one in)", f);
    fputs(". Click an arrow to find its frame; a frame's trace lines are "
          "linked beside it.</p></header>\n<main>\n<section id=\"pics\">\n", f);
    int rc = dh_pics(f, cap, cs, t, lo);
    fputs("</section>\n<section id=\"list\">\n", f);
    dh_frames(f, cap, t, &x);
    if (t)
        dh_trace(f, cap, t);
    fputs("</section>\n</main>\n</body>\n</html>\n", f);
    free(x.first);
    free(x.ev);
    return rc || ferror(f) ? -1 : 0;
}
