/* tools/draw/ladder.c - the ladder diagram (see ladder.h). */
#include "tools/draw/ladder.h"

#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "tcp/tcp_wire.h"
#include "tools/draw/svg.h"

#define LD_W 1000.0
#define LD_XL 300.0             /* the opener's time line */
#define LD_XR 760.0             /* the other side's */
#define LD_ROW 32.0             /* one segment */
#define LD_BAND 62.0            /* one folded run */
#define LD_DROP 14.0            /* an arrow's fall from sender to receiver */
#define LD_HEAD 64.0            /* a connection's title and end labels */
#define LD_GAP 24.0             /* between connections */
#define LD_KEEP 2               /* segments kept each side of a band */

static const char ld_css[] =
    "line.tl{stroke:#444;stroke-width:2}"
    "line.seg{stroke:#1f4e9c;stroke-width:1.3;marker-end:url(#ah)}"
    "line.seg1{stroke:#2a7a2a;stroke-width:1.3;marker-end:url(#ah)}"
    "line.rx{stroke:#c0392b;stroke-width:2;stroke-dasharray:5 3;"
    "marker-end:url(#ah)}"
    "line.drop{stroke:#c0392b;stroke-width:1.3}"
    "line.x{stroke:#c0392b;stroke-width:2.5}"
    "marker path{fill:#333}"
    "text{fill:#222}text.lbl{font-size:10px}text.lbl.rx{fill:#c0392b}"
    "text.st{font-weight:bold;fill:#6a1b9a}text.inf{font-style:italic;"
    "font-weight:normal;fill:#8e6aa8}text.tm{fill:#666;font-size:10px}"
    "text.h{font-size:13px;font-weight:bold}text.ep{font-weight:bold}"
    "text.note{fill:#c0392b;font-size:10px}"
    "rect.band{fill:#e8f0fb;stroke:#9bb5dc}text.band{font-size:11px}"
    "rect.rxb{fill:#fbeaea;stroke:#d98880}text.band.rx{fill:#c0392b}";

/* A segment that may disappear into a band: data or a pure ACK either
 * way, with no SYN, FIN or RST, no state entered and no drop. Resent data
 * folds too (the band counts it and turns red): a lossy bulk transfer
 * resends hundreds of segments, which a ladder cannot show one by one;
 * the time-sequence graph can, and --fold 0 draws every arrow. */
static int ld_foldable(const struct dconn_seg *s, const struct dcap_tcp *t)
{
    if (s->dropped || s->state[0] || s->state[1] || s->tstate[0] ||
        s->tstate[1])
        return 0;
    return !(t->flags & ~(TCP_ACK | TCP_PSH));
}

/* Is segment s inside the time window of o? */
static int ld_in_window(const struct ladder_opts *o, const struct dcap *cap,
                        const struct dconn_seg *s)
{
    int64_t t = cap->f[s->fi].t_us;
    return t >= o->from_us && (o->to_us <= 0 || t <= o->to_us);
}

size_t ladder_rows(const struct dconn *c, const struct dcap *cap,
                   const struct ladder_opts *o, struct ladder_row *rows,
                   size_t max)
{
    size_t fold_min = o->fold_min ? o->fold_min : 8, n = 0, i = 0;
    while (i < c->n && n < max) {
        const struct dconn_seg *s = &c->seg[i];
        size_t j = i;
        if (!ld_in_window(o, cap, s)) {
            i++;
            continue;
        }
        if (ld_foldable(s, &cap->f[s->fi].tcp))
            while (j + 1 < c->n && ld_in_window(o, cap, &c->seg[j + 1]) &&
                   ld_foldable(&c->seg[j + 1], &cap->f[c->seg[j + 1].fi].tcp))
                j++;
        if (j - i + 1 < fold_min || j - i + 1 <= 2 * LD_KEEP + 1) {
            rows[n++] = (struct ladder_row){ i, i, 0 };
            i++;
            continue;
        }
        for (size_t k = 0; k < LD_KEEP && n < max; k++)
            rows[n++] = (struct ladder_row){ i + k, i + k, 0 };
        if (n < max)
            rows[n++] = (struct ladder_row){ i + LD_KEEP, j - LD_KEEP, 1 };
        for (size_t k = j - LD_KEEP + 1; k <= j && n < max; k++)
            rows[n++] = (struct ladder_row){ k, k, 0 };
        i = j + 1;
    }
    return n;
}

/* The arrow's label: flags, relative numbers, length, window, options. */
static void ld_label(const struct dconn *c, const struct dconn_seg *s,
                     const struct dcap_tcp *t, char *buf, size_t cap)
{
    char fl[32];
    int n = 0;
    /* What happened to it first, with the trace's word for why (cut, so
     * a long reason cannot push the numbers off the arrow). */
    if (s->dropped)
        n = snprintf(buf, cap, "DROPPED (%.40s) ", s->note ? s->note : "?");
    else if (s->retrans && s->note)
        n = snprintf(buf, cap, "RETRANSMIT (%.24s) ", s->note);
    else if (s->retrans)
        n = snprintf(buf, cap, "RETRANSMIT ");
    n += snprintf(buf + n, cap - (size_t)n, "%s seq=%u",
                  dcap_flags_str(t->flags, fl), s->rseq);
    if (t->flags & TCP_ACK)
        n += snprintf(buf + n, cap - (size_t)n, " ack=%u", s->rack);
    n += snprintf(buf + n, cap - (size_t)n, " len=%u win=%u", t->len, s->rwin);
    if (t->has_mss)
        n += snprintf(buf + n, cap - (size_t)n, " mss=%u", t->mss);
    if (t->has_ws)
        n += snprintf(buf + n, cap - (size_t)n, " ws=%u", t->ws);
    if (t->sack_ok)
        n += snprintf(buf + n, cap - (size_t)n, " sackOK");
    if (t->nsack > 0) {
        uint32_t base = c->side[!s->dir].isn;
        snprintf(buf + n, cap - (size_t)n, " sack=%u-%u",
                 t->sack[0][0] - base, t->sack[0][1] - base);
    }
}

/* The state side `side` entered at segment s, and whether it is inferred. */
static const char *ld_state(const struct dconn *c, const struct dconn_seg *s,
                            int side, int *inferred)
{
    *inferred = 0;
    if (s->tstate[side])
        return s->tstate[side];
    if (c->ntstates > 0 && side == c->stack_side)
        return NULL;            /* the trace speaks for the stack */
    *inferred = 1;
    return s->state[side] ? dconn_state_name(s->state[side]) : NULL;
}

static void ld_states(struct svg *g, const struct dconn *c,
                      const struct dconn_seg *s, double y)
{
    for (int side = 0; side < 2; side++) {
        int inf;
        const char *st = ld_state(c, s, side, &inf);
        if (!st)
            continue;
        double yy = (side == s->dir ? y : y + LD_DROP) + 4;
        svg_text(g, side == 0 ? LD_XL - 8 : LD_XR + 8, yy,
                 side == 0 ? "end" : "start", inf ? "st inf" : "st", "%s", st);
    }
}

static void ld_segment(struct svg *g, const struct dcap *cap,
                       const struct dconn *c, const struct dconn_seg *s,
                       double y, const struct ladder_opts *o)
{
    const struct dcap_frame *f = &cap->f[s->fi];
    double x0 = s->dir == 0 ? LD_XL : LD_XR, x1 = s->dir == 0 ? LD_XR : LD_XL;
    char lbl[200], anchor[16];
    svg_text(g, 8, y + 8, "start", "tm", "#%u  %.6f", f->no, f->t_us / 1e6);
    if (o->links) {
        snprintf(anchor, sizeof anchor, "f%u", f->no);
        svg_link(g, anchor);
    }
    ld_label(c, s, &f->tcp, lbl, sizeof lbl);
    svg_group(g, NULL);
    svg_title(g, "frame %u: %s", f->no, f->info);
    if (s->dropped) {
        double xe = x0 + (x1 - x0) * 0.8, ye = y + LD_DROP * 0.8;
        svg_line(g, x0, y, xe, ye, "drop");
        svg_line(g, xe - 5, ye - 5, xe + 5, ye + 5, "x");
        svg_line(g, xe - 5, ye + 5, xe + 5, ye - 5, "x");
    } else {
        svg_line(g, x0, y, x1, y + LD_DROP,
                 s->retrans ? "rx" : s->dir == 0 ? "seg" : "seg1");
    }
    svg_text(g, (LD_XL + LD_XR) / 2, y - 1, "middle",
             s->retrans || s->dropped ? "lbl rx" : "lbl", "%s", lbl);
    svg_group_end(g);
    if (o->links)
        svg_link_end(g);
    ld_states(g, c, s, y);
}

/* The retransmission causes the trace gave the segments of a band, with
 * their counts: ": sack 12, rto 7" (empty without a trace). */
static void ld_causes(const struct dconn *c, const struct ladder_row *r,
                      char *buf, size_t cap)
{
    const char *name[4] = { 0 };
    size_t count[4] = { 0 }, n = 0, other = 0;
    for (size_t i = r->first; i <= r->last; i++) {
        const char *note = c->seg[i].retrans ? c->seg[i].note : NULL;
        size_t k = 0;
        if (!note)
            continue;
        while (k < n && strcmp(name[k], note) != 0)
            k++;
        if (k == n && n < 4)
            name[n++] = note;
        if (k < n)
            count[k]++;
        else
            other++;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s %zu",
                                k ? ", " : ": ", name[k], count[k]);
    if (other && len < cap)
        snprintf(buf + len, cap - len, ", other %zu", other);
}

static void ld_band(struct svg *g, const struct dcap *cap,
                    const struct dconn *c, const struct ladder_row *r,
                    double y)
{
    const struct dconn_seg *a = &c->seg[r->first], *b = &c->seg[r->last];
    size_t nseg[2] = { 0, 0 }, ndata[2] = { 0, 0 }, nrx[2] = { 0, 0 };
    unsigned long long bytes[2] = { 0, 0 };
    for (size_t i = r->first; i <= r->last; i++) {
        const struct dconn_seg *s = &c->seg[i];
        uint32_t len = cap->f[s->fi].tcp.len;
        nseg[s->dir]++;
        ndata[s->dir] += len > 0;
        nrx[s->dir] += s->retrans;
        bytes[s->dir] += len;
    }
    const struct dcap_frame *fa = &cap->f[a->fi], *fb = &cap->f[b->fi];
    svg_text(g, 8, y + 20, "start", "tm", "#%u-%u", fa->no, fb->no);
    svg_text(g, 8, y + 33, "start", "tm", "%.6f-%.6f", fa->t_us / 1e6,
             fb->t_us / 1e6);
    svg_rect(g, LD_XL, y + 6, LD_XR - LD_XL, LD_BAND - 16,
             nrx[0] + nrx[1] ? "band rxb" : "band");
    svg_text(g, (LD_XL + LD_XR) / 2, y + 20, "middle", "band",
             "→ %zu segs (%zu data, %llu B)  ← %zu segs (%zu data, %llu B)",
             nseg[0], ndata[0], bytes[0], nseg[1], ndata[1], bytes[1]);
    if (nrx[0] + nrx[1]) {
        char causes[96];
        ld_causes(c, r, causes, sizeof causes);
        svg_text(g, (LD_XL + LD_XR) / 2, y + 34, "middle", "band rx",
                 "%zu segments folded, %.3f ms, %zu resent (→ %zu, ← %zu)",
                 r->last - r->first + 1, (fb->t_us - fa->t_us) / 1e3,
                 nrx[0] + nrx[1], nrx[0], nrx[1]);
        if (causes[0])
            svg_text(g, (LD_XL + LD_XR) / 2, y + 48, "middle", "band rx",
                     "causes (trace)%s", causes);
    } else
        svg_text(g, (LD_XL + LD_XR) / 2, y + 34, "middle", "band",
                 "%zu segments folded, %.3f ms: only data and ACKs",
                 r->last - r->first + 1, (fb->t_us - fa->t_us) / 1e3);
}

static void ld_endpoint(const struct dconn_side *s, const char *role,
                        char *buf, size_t cap)
{
    char ip[TS_IP4_STRLEN];
    snprintf(buf, cap, "%s:%u%s", ts_ip4_fmt(s->ip, ip), s->port, role);
}

static double ld_conn(struct svg *g, const struct dcap *cap,
                      const struct dconn *c, const struct ladder_row *rows,
                      size_t nrows, double y, const struct ladder_opts *o)
{
    char a[64], b[64];
    ld_endpoint(&c->side[0], c->stack_side == 0 ? " (tapstack)" : "", a, sizeof a);
    ld_endpoint(&c->side[1], c->stack_side == 1 ? " (tapstack)" : "", b, sizeof b);
    svg_text(g, 8, y + 16, "start", "h", "connection %u: %s ⇄ %s, %zu segments",
             c->id, a, b, c->n);
    svg_text(g, LD_XL, y + 42, "middle", "ep", "%s", a);
    svg_text(g, LD_XR, y + 42, "middle", "ep", "%s", b);
    double top = y + LD_HEAD - 12, yy = y + LD_HEAD;
    for (size_t i = 0; i < nrows; i++)
        yy += rows[i].band ? LD_BAND : LD_ROW;
    svg_line(g, LD_XL, top, LD_XL, yy, "tl");
    svg_line(g, LD_XR, top, LD_XR, yy, "tl");
    yy = y + LD_HEAD;
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].band) {
            ld_band(g, cap, c, &rows[i], yy);
            yy += LD_BAND;
        } else {
            ld_segment(g, cap, c, &c->seg[rows[i].first], yy, o);
            yy += LD_ROW;
        }
    }
    return yy + LD_GAP;
}

int ladder_draw(FILE *f, const struct dcap *cap, struct dconn *const *sel,
                size_t nconn, const struct ladder_opts *o, int standalone)
{
    size_t max = o->max_rows ? o->max_rows : 600, used = 0, drawn = 0;
    struct ladder_row *rows = malloc((max + 1) * sizeof *rows);
    size_t *nrows = calloc(nconn + 1, sizeof *nrows);
    if (!rows || !nrows) {
        free(rows);
        free(nrows);
        return -1;
    }
    double h = 40;
    int cut = 0;
    for (; drawn < nconn && used < max; drawn++) {
        size_t room = max - used;
        size_t n = ladder_rows(sel[drawn], cap, o, rows, room);
        nrows[drawn] = n;
        used += n;
        h += LD_HEAD + LD_GAP;
        for (size_t i = 0; i < n; i++)
            h += rows[i].band ? LD_BAND : LD_ROW;
        if (n > 0 && n == room && rows[n - 1].last + 1 < sel[drawn]->n)
            cut = 1;            /* the row budget ran out inside it */
    }
    struct svg g;
    svg_begin(&g, f, LD_W, h, standalone, ld_css);
    double y = 8;
    if (nconn == 0)
        svg_text(&g, 8, 24, "start", "h", "no TCP connection in this capture");
    for (size_t i = 0; i < drawn; i++) {
        size_t n = ladder_rows(sel[i], cap, o, rows, nrows[i]);
        y = ld_conn(&g, cap, sel[i], rows, n, y, o);
    }
    if (drawn < nconn || cut)
        svg_text(&g, 8, y + 4, "start", "note",
                 "… the drawing stops at %zu rows: %zu of %zu connections shown "
                 "(pick one with --conn or --port, or raise --max-rows)",
                 max, drawn, nconn);
    free(rows);
    free(nrows);
    return svg_end(&g);
}
