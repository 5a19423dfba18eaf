/* tools/draw/tseq.c - the time-sequence graph (see tseq.h). Three panels
 * share the time axis: sequence space, bytes (in flight, cwnd, ssthresh)
 * and the timers (RTO, SRTT); the last two read the trace. */
#include "tools/draw/tseq.h"

#include <string.h>

#include "core/addr.h"
#include "tcp/tcp_wire.h"
#include "tools/draw/svg.h"

#define TS_W 1000.0
#define TS_X0 90.0
#define TS_X1 960.0
#define TS_FAT 2500             /* segments above which bars lose their ends */

struct tpanel {
    double y0, y1;              /* top and bottom in pixels */
    double vmax;                /* value at the top */
    double vmin;                /* value at the bottom */
};

struct tgraph {
    struct svg g;
    int64_t t0, t1;             /* capture time span, µs */
    int whole;                  /* the whole transfer (no window given) */
    struct tpanel seq, bytes, tim;
};

static const char ts_css[] =
    "rect.fr{fill:none;stroke:#888}line.ax{stroke:#ccc}"
    "text.ax{fill:#666;font-size:10px}text.h{font-size:13px;font-weight:bold}"
    "line.d{stroke:#111;stroke-width:1.2}line.rx{stroke:#d62728;"
    "stroke-width:2}line.sk{stroke:#9467bd;stroke-width:3}"
    "polyline.ack{stroke:#2ca02c;stroke-width:1.2}"
    "polyline.win{stroke:#d4a017;stroke-width:1.2}"
    "polyline.fl{stroke:#1f77b4;stroke-width:1.2}"
    "polyline.cw{stroke:#d62728;stroke-width:1.4}"
    "polyline.ss{stroke:#ff7f0e;stroke-width:1.2;stroke-dasharray:4 3}"
    "polyline.rto{stroke:#8c564b;stroke-width:1.4}"
    "polyline.srtt{stroke:#17becf;stroke-width:1.2}"
    "text.k{font-size:11px}text.d{fill:#111}text.rx{fill:#d62728}"
    "text.ack{fill:#2ca02c}text.win{fill:#b8860b}text.sk{fill:#9467bd}"
    "text.fl{fill:#1f77b4}text.cw{fill:#d62728}text.ss{fill:#ff7f0e}"
    "text.rto{fill:#8c564b}text.srtt{fill:#17becf}text.note{fill:#999}";

int tseq_pick_dir(const struct dconn *c)
{
    return c->side[1].bytes > c->side[0].bytes ? 1 : 0;
}

static double tx(const struct tgraph *t, int64_t us)
{
    double span = (double)(t->t1 - t->t0);
    if (us < t->t0)
        us = t->t0;
    if (us > t->t1)
        us = t->t1;
    return TS_X0 + (double)(us - t->t0) * (TS_X1 - TS_X0) / (span > 0 ? span : 1);
}

static double ty(const struct tpanel *p, double v)
{
    double span = p->vmax - p->vmin;
    if (v > p->vmax)
        v = p->vmax;
    if (v < p->vmin)
        v = p->vmin;
    return p->y1 - (v - p->vmin) * (p->y1 - p->y0) / (span > 0 ? span : 1);
}

/* Frame, grid and labels of a panel; unit names the y values. */
static void ts_panel(struct tgraph *t, const struct tpanel *p,
                     const char *title, const char *unit, double div,
                     int values)
{
    svg_rect(&t->g, TS_X0, p->y0, TS_X1 - TS_X0, p->y1 - p->y0, "fr");
    svg_text(&t->g, TS_X0, p->y0 - 6, "start", "h", "%s", title);
    for (int i = 0; i <= 4; i++) {
        double v = p->vmin + (p->vmax - p->vmin) * i / 4, y = ty(p, v);
        svg_line(&t->g, TS_X0, y, TS_X1, y, "ax");
        if (values)
            svg_text(&t->g, TS_X0 - 4, y + 3, "end", "ax", "%.0f%s", v / div,
                     unit);
    }
    int64_t span = t->t1 - t->t0;
    int prec = span < 10000 ? 5 : span < 100000 ? 4 : 3;
    for (int i = 0; i <= 5; i++) {
        int64_t us = t->t0 + span * i / 5;
        double x = tx(t, us);
        svg_line(&t->g, x, p->y0, x, p->y1, "ax");
        svg_text(&t->g, x, p->y1 + 12, "middle", "ax", "%.*f s", prec, us / 1e6);
    }
}

/* The sequence numbers the sender sent inside the drawn span: the top
 * panel shows them with a quarter more room above, so the window edge
 * (often far above) does not squash the data; it is clipped to the top. */
static void ts_seq_range(const struct tgraph *t, const struct dcap *cap,
                         const struct dconn *c, int dir, double *lo, double *hi)
{
    *lo = -1;
    *hi = 1;
    for (size_t i = 0; i < c->n; i++) {
        const struct dconn_seg *s = &c->seg[i];
        const struct dcap_tcp *tc = &cap->f[s->fi].tcp;
        int64_t when = cap->f[s->fi].t_us;
        if (s->dir != dir || s->rseq > 0x80000000u || when < t->t0 ||
            when > t->t1)
            continue;           /* before the ISN we saw, or outside */
        if ((double)s->rseq + tc->len > *hi)
            *hi = (double)s->rseq + tc->len;
        if (*lo < 0 || s->rseq < *lo)
            *lo = s->rseq;
    }
    if (*lo < 0 || t->whole)
        *lo = 0;
    *hi += (*hi - *lo) / 4;
}

/* The time span worth drawing: from the first segment to the last one
 * that moves the data (data sent, or new data acknowledged), so a close
 * long after the transfer does not squash it. */
static void ts_span(struct tgraph *t, const struct dcap *cap,
                    const struct dconn *c, int dir, const struct tseq_opts *o)
{
    uint32_t acked = 0;
    t->t0 = c->n ? cap->f[c->seg[0].fi].t_us : 0;
    t->t1 = t->t0;
    for (size_t i = 0; i < c->n; i++) {
        const struct dconn_seg *s = &c->seg[i];
        const struct dcap_tcp *tc = &cap->f[s->fi].tcp;
        int moves = s->dir == dir ? tc->len > 0
                    : (tc->flags & TCP_ACK) && s->rack > acked &&
                      s->rack < 0x80000000u;
        if (s->dir != dir && moves)
            acked = s->rack;
        if (moves)
            t->t1 = cap->f[s->fi].t_us;
    }
    if (t->t1 == t->t0 && c->n)         /* no data at all: every segment */
        t->t1 = cap->f[c->seg[c->n - 1].fi].t_us;
    t->t1 += (t->t1 - t->t0) / 50 + 1;
    t->whole = 1;
    if (o && (o->from_us > 0 || o->to_us > 0)) {
        t->whole = 0;
        if (o->from_us > 0)
            t->t0 = o->from_us;
        if (o->to_us > 0)
            t->t1 = o->to_us;
        if (t->t1 <= t->t0)
            t->t1 = t->t0 + 1;
    }
}

/* Is this segment inside the drawn span? */
static int ts_in_span(const struct tgraph *t, const struct dcap *cap,
                      const struct dconn_seg *s)
{
    return cap->f[s->fi].t_us >= t->t0 && cap->f[s->fi].t_us <= t->t1;
}

static void ts_data(struct tgraph *t, const struct dcap *cap,
                    const struct dconn *c, int dir)
{
    int ends = c->n < TS_FAT;
    for (size_t i = 0; i < c->n; i++) {
        const struct dconn_seg *s = &c->seg[i];
        const struct dcap_tcp *tc = &cap->f[s->fi].tcp;
        uint32_t span = tc->len + !!(tc->flags & (TCP_SYN | TCP_FIN));
        if (s->dir != dir || span == 0 || s->rseq > 0x80000000u ||
            !ts_in_span(t, cap, s))
            continue;
        double x = tx(t, cap->f[s->fi].t_us);
        double ya = ty(&t->seq, s->rseq), yb = ty(&t->seq, (double)s->rseq + span);
        const char *cls = s->retrans ? "rx" : "d";
        svg_line(&t->g, x, ya, x, yb - (ya - yb < 1 ? 1 : 0), cls);
        if (ends) {
            svg_line(&t->g, x - 2, ya, x + 2, ya, cls);
            svg_line(&t->g, x - 2, yb, x + 2, yb, cls);
        }
    }
}

/* The receiver's ACK and window-edge step lines, and its SACK blocks. */
static void ts_acks(struct tgraph *t, const struct dcap *cap,
                    const struct dconn *c, int dir)
{
    for (int pass = 0; pass < 2; pass++) {
        double prev = -1;
        svg_poly_begin(&t->g);
        for (size_t i = 0; i < c->n; i++) {
            const struct dconn_seg *s = &c->seg[i];
            const struct dcap_tcp *tc = &cap->f[s->fi].tcp;
            if (s->dir == dir || !(tc->flags & TCP_ACK) ||
                s->rack > 0x80000000u || !ts_in_span(t, cap, s))
                continue;
            double v = pass == 0 ? (double)s->rack : (double)s->rack + s->rwin;
            double x = tx(t, cap->f[s->fi].t_us);
            if (prev >= 0)
                svg_poly_pt(&t->g, x, ty(&t->seq, prev));
            svg_poly_pt(&t->g, x, ty(&t->seq, v));
            prev = v;
        }
        svg_poly_end(&t->g, pass == 0 ? "ack" : "win");
    }
    uint32_t base = c->side[dir].isn;
    for (size_t i = 0; i < c->n; i++) {
        const struct dconn_seg *s = &c->seg[i];
        const struct dcap_tcp *tc = &cap->f[s->fi].tcp;
        if (s->dir == dir || !ts_in_span(t, cap, s))
            continue;
        double x = tx(t, cap->f[s->fi].t_us) + 3;
        for (unsigned k = 0; k < tc->nsack; k++)
            svg_line(&t->g, x, ty(&t->seq, tc->sack[k][0] - base), x,
                     ty(&t->seq, tc->sack[k][1] - base), "sk");
    }
}

/* Bytes in flight as the capture shows them: the highest sequence number
 * sent minus the highest cumulative ACK, after each segment. */
static double ts_flight(struct tgraph *t, const struct dcap *cap,
                        const struct dconn *c, int dir, int draw)
{
    uint32_t hi = 0, acked = 0;
    double m = 1;
    if (draw)
        svg_poly_begin(&t->g);
    for (size_t i = 0; i < c->n; i++) {
        const struct dconn_seg *s = &c->seg[i];
        const struct dcap_tcp *tc = &cap->f[s->fi].tcp;
        if (s->dir == dir && s->rseq + tc->len > hi && s->rseq < 0x80000000u)
            hi = s->rseq + tc->len;
        else if (s->dir != dir && (tc->flags & TCP_ACK) && s->rack > acked &&
                 s->rack < 0x80000000u)
            acked = s->rack;
        double v = hi > acked ? (double)(hi - acked) : 0;
        if (v > m && ts_in_span(t, cap, s))
            m = v;
        if (draw && ts_in_span(t, cap, s))
            svg_poly_pt(&t->g, tx(t, cap->f[s->fi].t_us), ty(&t->bytes, v));
    }
    if (draw)
        svg_poly_end(&t->g, "fl");
    return m;
}

enum ts_field { TF_CWND, TF_SSTHRESH, TF_RTO, TF_SRTT };

static const struct dtrace_change *ts_change(const struct dtrace_ev *e, int fld)
{
    switch (fld) {
    case TF_CWND: return &e->cwnd;
    case TF_SSTHRESH: return &e->ssthresh;
    case TF_RTO: return &e->rto_ms;
    default: return &e->srtt_us;
    }
}

/* Walk the trace's values of one field for the sender of direction dir:
 * draw them as a step line on panel p (scaled by div), or (p NULL) return
 * their maximum. Returns -1 when the trace has none. */
static double ts_series(struct tgraph *t, const struct dtrace *tr,
                        const struct dconn *c, int dir, int fld,
                        const struct tpanel *p, double div, const char *cls)
{
    double m = -1, prev = -1;
    if (!tr)
        return -1;
    if (p)
        svg_poly_begin(&t->g);
    for (size_t i = 0; i < tr->n; i++) {
        const struct dtrace_ev *e = &tr->e[i];
        const struct dtrace_change *ch = ts_change(e, fld);
        int side;
        if (!ch->has || !dtrace_is_conn(e, c, &side) || side != dir)
            continue;
        double v = (double)ch->to / div;
        int64_t when = dtrace_time(tr, e);
        if (v > m && (fld != TF_SSTHRESH || v < 1e9) && when >= t->t0 &&
            when <= t->t1)
            m = v;
        if (!p)
            continue;
        double x = tx(t, dtrace_time(tr, e));
        if (prev >= 0)
            svg_poly_pt(&t->g, x, ty(p, prev));
        svg_poly_pt(&t->g, x, ty(p, v));
        prev = v;
    }
    if (p) {
        if (prev >= 0)
            svg_poly_pt(&t->g, TS_X1, ty(p, prev));
        svg_poly_end(&t->g, cls);
    }
    return m;
}

static void ts_key(struct tgraph *t, double x, double y,
                   const char *const *items)
{
    for (size_t i = 0; items[i]; i += 2) {
        svg_text(&t->g, x, y, "start", items[i], "%s", items[i + 1]);
        x += 7.0 * (double)strlen(items[i + 1]) + 18;
    }
}

static void ts_title(struct tgraph *t, const struct dconn *c, int dir)
{
    char a[TS_IP4_STRLEN], b[TS_IP4_STRLEN];
    const struct dconn_side *x = &c->side[dir], *y = &c->side[!dir];
    svg_text(&t->g, 8, 18, "start", "h",
             "connection %u: data %s:%u → %s:%u (%llu bytes, %u resent)%s",
             c->id, ts_ip4_fmt(x->ip, a), x->port, ts_ip4_fmt(y->ip, b),
             y->port, (unsigned long long)x->bytes, x->nretrans,
             c->stack_side == dir ? ", sent by tapstack" : "");
    static const char *const key[] = {
        "k d", "| data", "k rx", "| resent", "k ack", "— ACK", "k win",
        "— ACK + window", "k sk", "| SACK", NULL };
    ts_key(t, TS_X0, 36, key);
}

int tseq_draw(FILE *f, const struct dcap *cap, const struct dconn *c,
              int dir, const struct dtrace *tr, const struct tseq_opts *o,
              int standalone)
{
    struct tgraph t;
    memset(&t, 0, sizeof t);
    double lo, hi;
    ts_span(&t, cap, c, dir, o);
    ts_seq_range(&t, cap, c, dir, &lo, &hi);
    t.seq = (struct tpanel){ 70, 420, hi, lo };
    double fl = ts_flight(&t, cap, c, dir, 0);
    double cw = ts_series(&t, tr, c, dir, TF_CWND, NULL, 1, NULL);
    t.bytes = (struct tpanel){ 470, 610, (fl > cw ? fl : cw) * 1.1 + 1, 0 };
    double rto = ts_series(&t, tr, c, dir, TF_RTO, NULL, 1, NULL);
    double srtt = ts_series(&t, tr, c, dir, TF_SRTT, NULL, 1000, NULL);
    double tmax = (rto > srtt ? rto : srtt) * 1.1;
    t.tim = (struct tpanel){ 660, 760, tmax > 1 ? tmax : 1, 0 };
    svg_begin(&t.g, f, TS_W, 800, standalone, ts_css);
    ts_title(&t, c, dir);
    ts_panel(&t, &t.seq, "sequence (bytes from the ISN)", "", 1, 1);
    ts_data(&t, cap, c, dir);
    ts_acks(&t, cap, c, dir);
    ts_panel(&t, &t.bytes, "bytes", " B", 1, 1);
    ts_flight(&t, cap, c, dir, 1);
    static const char *const kb[] = { "k fl", "— in flight (capture)", "k cw",
        "— cwnd (trace)", "k ss", "-- ssthresh (trace)", NULL };
    ts_key(&t, TS_X0 + 120, t.bytes.y0 - 6, kb);
    if (cw >= 0) {
        ts_series(&t, tr, c, dir, TF_CWND, &t.bytes, 1, "cw");
        ts_series(&t, tr, c, dir, TF_SSTHRESH, &t.bytes, 1, "ss");
    }
    ts_panel(&t, &t.tim, "timers", " ms", 1, rto >= 0 || srtt >= 0);
    static const char *const kt[] = { "k rto", "— RTO (trace)", "k srtt",
        "— SRTT (trace)", NULL };
    ts_key(&t, TS_X0 + 120, t.tim.y0 - 6, kt);
    ts_series(&t, tr, c, dir, TF_RTO, &t.tim, 1, "rto");
    ts_series(&t, tr, c, dir, TF_SRTT, &t.tim, 1000, "srtt");
    if (cw < 0 && rto < 0 && srtt < 0)
        svg_text(&t.g, (TS_X0 + TS_X1) / 2, t.tim.y0 + 40, "middle", "note",
                 "%s", tr ? "the trace has no cwnd, RTO or SRTT for this sender"
                          : "cwnd, ssthresh, RTO and SRTT come from the trace "
                            "(--trace FILE)");
    return svg_end(&t.g);
}
