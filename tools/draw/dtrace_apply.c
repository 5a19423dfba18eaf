/* tools/draw/dtrace_apply.c - tie a loaded trace to the capture (see
 * dtrace.h): the clock offset, the stack's side of each connection, and
 * the marks the ladder draws (states, drops, retransmission causes). */
#include <stdio.h>
#include <string.h>

#include "tools/draw/dtrace.h"

int dtrace_names_frame(const struct dtrace_ev *e, uint32_t no)
{
    if (no == 0)
        return 0;
    if (e->frame_in == no)
        return 1;
    for (unsigned i = 0; i < e->nframe_out; i++)
        if (e->frame_out[i] == no)
            return 1;
    return 0;
}

int64_t dtrace_time(const struct dtrace *t, const struct dtrace_ev *e)
{
    return e->t_us + t->offset_us;
}

int dtrace_is_conn(const struct dtrace_ev *e, const struct dconn *c,
                   int *stack_side)
{
    if (!e->has_conn)
        return 0;
    for (int s = 0; s < 2; s++) {
        const struct dconn_side *l = &c->side[s], *r = &c->side[!s];
        if (l->ip == e->lip && l->port == e->lport && r->ip == e->rip &&
            r->port == e->rport) {
            if (stack_side)
                *stack_side = s;
            return 1;
        }
    }
    return 0;
}

/* The first frame an event names that the capture holds, or 0. */
static uint32_t dtrace_first_frame(const struct dtrace_ev *e, size_t nframes)
{
    if (e->frame_in && e->frame_in <= nframes)
        return e->frame_in;
    for (unsigned i = 0; i < e->nframe_out; i++)
        if (e->frame_out[i] <= nframes)
            return e->frame_out[i];
    return 0;
}

/* The connection an event belongs to: by the frame it names, else by its
 * 4-tuple, the incarnation whose first segment is not later than it. */
static struct dconn *dtrace_conn_of(const struct dtrace *t,
                                    const struct dtrace_ev *e,
                                    const struct dcap *cap, struct dconns *cs,
                                    struct dconn_seg **seg, int *side)
{
    uint32_t no = dtrace_first_frame(e, cap->n);
    *seg = NULL;
    struct dconn *c = no ? dconn_of_frame(cs, no, seg) : NULL;
    if (c && dtrace_is_conn(e, c, side))
        return c;
    *seg = NULL;
    struct dconn *best = NULL;
    int64_t when = dtrace_time(t, e);
    for (size_t i = 0; i < cs->n; i++) {
        struct dconn *k = &cs->c[i];
        int s;
        if (k->n == 0 || !dtrace_is_conn(e, k, &s))
            continue;
        if (!best || cap->f[k->seg[0].fi].t_us <= when) {
            best = k;
            *side = s;
        }
    }
    return best;
}

/* The last segment of c not later than `when` (events without a frame are
 * drawn there), or NULL. */
static struct dconn_seg *dtrace_seg_at(struct dconn *c, const struct dcap *cap,
                                       int64_t when)
{
    struct dconn_seg *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        if (cap->f[c->seg[i].fi].t_us > when)
            break;
        best = &c->seg[i];
    }
    return best ? best : (c->n ? &c->seg[0] : NULL);
}

static void dtrace_mark(struct dtrace *t, struct dtrace_ev *e,
                        const struct dcap *cap, struct dconns *cs)
{
    struct dconn_seg *seg;
    int side = -1;
    struct dconn *c = dtrace_conn_of(t, e, cap, cs, &seg, &side);
    if (!c)
        return;
    c->stack_side = side;
    if (strcmp(e->ev, "state") == 0 && e->state_to[0]) {
        if (!seg)
            seg = dtrace_seg_at(c, cap, dtrace_time(t, e));
        if (seg) {
            /* A second state on the same segment (a timer's, placed at
             * the last segment before it) joins the first, never hides
             * it. */
            if (seg->tstate[side]) {
                snprintf(e->label, sizeof e->label, "%s → %s",
                         seg->tstate[side], e->state_to);
                seg->tstate[side] = e->label;
            } else {
                seg->tstate[side] = e->state_to;
            }
            c->ntstates++;
        }
    } else if (strcmp(e->ev, "drop") == 0 && seg) {
        seg->dropped = 1;
        seg->note = e->reason ? e->reason : "dropped";
    } else if (strcmp(e->ev, "retransmit") == 0) {
        for (unsigned i = 0; i < e->nframe_out; i++) {
            struct dconn_seg *s;
            if (dconn_of_frame(cs, e->frame_out[i], &s) == c) {
                s->retrans = 1;
                s->note = e->cause[0] ? e->cause : "retransmission";
            }
        }
    }
}

void dtrace_apply(struct dtrace *t, const struct dcap *cap,
                  struct dconns *cs)
{
    t->offset_us = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint32_t no = dtrace_first_frame(&t->e[i], cap->n);
        if (no) {
            t->offset_us = cap->f[no - 1].t_us - t->e[i].t_us;
            break;
        }
    }
    for (size_t i = 0; i < t->n; i++)
        dtrace_mark(t, &t->e[i], cap, cs);
}
