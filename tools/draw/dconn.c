/* tools/draw/dconn.c - split a capture's TCP segments into connections and
 * infer each side's state (see dconn.h). A small open-addressing table
 * maps a 4-tuple to its newest connection, so a capture of many
 * connections (a SYN flood) is grouped in linear time. */
#include "tools/draw/dconn.h"

#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_seq.h"
#include "tcp/tcp_wire.h"

const char *dconn_state_name(int st)
{
    static const char *const names[] = {
        "", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
        "FIN-WAIT-2", "CLOSING", "TIME-WAIT", "CLOSE-WAIT", "LAST-ACK",
        "CLOSED",
    };
    return st >= 0 && st <= DS_CLOSED ? names[st] : "";
}

/* ---- the tuple table ---------------------------------------------------- */

struct dconn_tab {
    int32_t *slot;              /* connection index, -1 empty */
    size_t size;                /* a power of two */
};

static uint32_t dconn_hash(const struct dcap_tcp *t)
{
    /* Symmetric in the two ends, so both directions find one entry. */
    uint32_t a = t->src * 2654435761u ^ t->sport;
    uint32_t b = t->dst * 2654435761u ^ t->dport;
    uint32_t h = (a ^ b) * 2246822519u;
    return h ^ (h >> 15);
}

static int dconn_match(const struct dconn *c, const struct dcap_tcp *t)
{
    const struct dconn_side *x = &c->side[0], *y = &c->side[1];
    return (x->ip == t->src && x->port == t->sport && y->ip == t->dst &&
            y->port == t->dport) ||
           (x->ip == t->dst && x->port == t->dport && y->ip == t->src &&
            y->port == t->sport);
}

/* The slot of t's tuple: the one holding its connection, or the empty one
 * where it would go. */
static size_t dconn_slot(const struct dconn_tab *tab, const struct dconns *cs,
                         const struct dcap_tcp *t)
{
    size_t i = dconn_hash(t) & (tab->size - 1);
    while (tab->slot[i] >= 0 && !dconn_match(&cs->c[tab->slot[i]], t))
        i = (i + 1) & (tab->size - 1);
    return i;
}

static int dconn_tab_grow(struct dconn_tab *tab, const struct dconns *cs)
{
    struct dconn_tab nt = { NULL, tab->size ? tab->size * 2 : 64 };
    nt.slot = malloc(nt.size * sizeof *nt.slot);
    if (!nt.slot)
        return -1;
    memset(nt.slot, 0xff, nt.size * sizeof *nt.slot);
    for (size_t i = 0; i < tab->size; i++) {
        int32_t ci = tab->slot[i];
        if (ci < 0)
            continue;
        struct dcap_tcp k = { .src = cs->c[ci].side[0].ip,
                              .sport = cs->c[ci].side[0].port,
                              .dst = cs->c[ci].side[1].ip,
                              .dport = cs->c[ci].side[1].port };
        nt.slot[dconn_slot(&nt, cs, &k)] = ci;
    }
    free(tab->slot);
    *tab = nt;
    return 0;
}

/* ---- connections and segments ------------------------------------------- */

static struct dconn *dconn_new(struct dconns *cs, const struct dcap_tcp *t)
{
    if (cs->n == cs->cap) {
        size_t ncap = cs->cap ? cs->cap * 2 : 16;
        struct dconn *nc = realloc(cs->c, ncap * sizeof *nc);
        if (!nc)
            return NULL;
        cs->c = nc;
        cs->cap = ncap;
    }
    struct dconn *c = &cs->c[cs->n];
    memset(c, 0, sizeof *c);
    c->id = (uint32_t)cs->n + 1;
    c->stack_side = -1;
    /* The opener is side 0: a SYN-ACK seen first means the SYN was not. */
    int opener_is_dst = (t->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    c->side[0].ip = opener_is_dst ? t->dst : t->src;
    c->side[0].port = opener_is_dst ? t->dport : t->sport;
    c->side[1].ip = opener_is_dst ? t->src : t->dst;
    c->side[1].port = opener_is_dst ? t->sport : t->dport;
    cs->n++;
    return c;
}

static struct dconn_seg *dconn_push(struct dconn *c)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct dconn_seg *ns = realloc(c->seg, ncap * sizeof *ns);
        if (!ns)
            return NULL;
        c->seg = ns;
        c->cap = ncap;
    }
    struct dconn_seg *s = &c->seg[c->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static void dconn_enter(struct dconn_side *x, struct dconn_seg *s, int side,
                        int st)
{
    if (x->state == st)
        return;
    x->state = (uint8_t)st;
    s->state[side] = (uint8_t)st;
}

/* The sender's transitions (RFC 9293 §3.3.2, the "snd" edges). */
static void dconn_on_send(struct dconn_side *x, const struct dconn_side *peer,
                          const struct dcap_tcp *t, struct dconn_seg *s, int d)
{
    if (t->flags & TCP_RST) {
        dconn_enter(x, s, d, DS_CLOSED);
        return;
    }
    if ((t->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        dconn_enter(x, s, d, DS_SYN_SENT);
    else if ((t->flags & TCP_SYN) && x->state == DS_NONE)
        dconn_enter(x, s, d, DS_SYN_RCVD);
    if (!(t->flags & TCP_FIN))
        return;
    if (x->state == DS_CLOSE_WAIT || (x->state == DS_NONE && peer->sent_fin))
        dconn_enter(x, s, d, DS_LAST_ACK);
    else if (x->state == DS_ESTAB || x->state == DS_SYN_RCVD ||
             x->state == DS_NONE)
        dconn_enter(x, s, d, DS_FIN_WAIT_1);
}

/* The receiver's transitions (the "rcv" edges): ACK first, then FIN. */
static void dconn_on_recv(struct dconn_side *x, const struct dcap_tcp *t,
                          struct dconn_seg *s, int r)
{
    int acks_syn = (t->flags & TCP_ACK) && x->sent_any &&
                   seq_geq(t->ack, x->isn + 1);
    int acks_fin = (t->flags & TCP_ACK) && x->sent_fin &&
                   seq_geq(t->ack, x->fin_seq + 1);
    if (t->flags & TCP_RST) {
        if (x->state != DS_NONE && x->state != DS_CLOSED)
            dconn_enter(x, s, r, DS_CLOSED);
        return;
    }
    if ((t->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        if (x->state == DS_SYN_SENT)
            dconn_enter(x, s, r, DS_SYN_RCVD);
        return;
    }
    if ((x->state == DS_SYN_SENT || x->state == DS_SYN_RCVD) && acks_syn)
        dconn_enter(x, s, r, DS_ESTAB);
    else if (x->state == DS_FIN_WAIT_1 && acks_fin)
        dconn_enter(x, s, r, (t->flags & TCP_FIN) ? DS_TIME_WAIT : DS_FIN_WAIT_2);
    else if (x->state == DS_CLOSING && acks_fin)
        dconn_enter(x, s, r, DS_TIME_WAIT);
    else if (x->state == DS_LAST_ACK && acks_fin)
        dconn_enter(x, s, r, DS_CLOSED);
    if (!(t->flags & TCP_FIN))
        return;
    if (x->state == DS_ESTAB || x->state == DS_NONE || x->state == DS_SYN_RCVD)
        dconn_enter(x, s, r, DS_CLOSE_WAIT);
    else if (x->state == DS_FIN_WAIT_1)
        dconn_enter(x, s, r, DS_CLOSING);
    else if (x->state == DS_FIN_WAIT_2)
        dconn_enter(x, s, r, DS_TIME_WAIT);
}

/* Sequence space, retransmission and window bookkeeping of one segment. */
static void dconn_account(struct dconn *c, struct dconn_seg *s,
                          const struct dcap_tcp *t)
{
    struct dconn_side *x = &c->side[s->dir], *y = &c->side[!s->dir];
    uint32_t span = t->len + !!(t->flags & TCP_SYN) + !!(t->flags & TCP_FIN);
    if (!x->has_isn) {
        x->isn = t->seq;
        x->has_isn = 1;
    }
    if (!y->has_isn && (t->flags & TCP_ACK)) {
        y->isn = t->ack - 1;
        y->has_isn = 1;
    }
    s->rseq = t->seq - x->isn;
    s->rack = (t->flags & TCP_ACK) ? t->ack - y->isn : 0;
    if (x->sent_any && span > 0 && seq_lt(t->seq, x->snd_max) &&
        !(t->flags & TCP_RST)) {
        s->retrans = 1;
        x->nretrans++;
    } else {
        x->bytes += t->len;
    }
    if (!x->sent_any || seq_gt(t->seq + span, x->snd_max))
        x->snd_max = t->seq + span;
    x->sent_any = 1;
    if (t->flags & TCP_SYN) {
        x->sent_ws = t->has_ws;
        x->ws = t->ws;
    }
    if (t->flags & TCP_FIN) {
        x->sent_fin = 1;
        x->fin_seq = t->seq + t->len;
    }
    s->rwin = t->win;
    if (!(t->flags & TCP_SYN) && x->sent_ws && y->sent_ws)
        s->rwin = (uint32_t)t->win << x->ws;
}

/* The connection t belongs to: its tuple's newest one, or a new one when
 * none exists or a SYN starts a new incarnation. NULL: out of memory. */
static struct dconn *dconn_find(struct dconns *cs, struct dconn_tab *tab,
                                const struct dcap_tcp *t)
{
    if (cs->n * 2 >= tab->size && dconn_tab_grow(tab, cs) != 0)
        return NULL;
    size_t i = dconn_slot(tab, cs, t);
    if (tab->slot[i] >= 0) {
        struct dconn *c = &cs->c[tab->slot[i]];
        int d = (c->side[0].ip == t->src && c->side[0].port == t->sport) ? 0 : 1;
        const struct dconn_side *x = &c->side[d];
        int new_syn = (t->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
                      x->sent_any && t->seq != x->isn;
        if (!new_syn)
            return c;
    }
    struct dconn *c = dconn_new(cs, t);
    if (c)
        tab->slot[i] = (int32_t)(c - cs->c);
    return c;
}

int dconn_build(const struct dcap *cap, struct dconns *out)
{
    struct dconn_tab tab = { NULL, 0 };
    memset(out, 0, sizeof *out);
    out->nframes = cap->n;
    out->frame_conn = malloc((cap->n + 1) * sizeof(int32_t));
    out->frame_seg = malloc((cap->n + 1) * sizeof(int32_t));
    if (!out->frame_conn || !out->frame_seg || dconn_tab_grow(&tab, out) != 0)
        goto fail;
    for (size_t i = 0; i < cap->n; i++) {
        out->frame_conn[i] = out->frame_seg[i] = -1;
        const struct dcap_tcp *t = &cap->f[i].tcp;
        if (cap->f[i].kind != DK_TCP)
            continue;
        struct dconn *c = dconn_find(out, &tab, t);
        struct dconn_seg *s = c ? dconn_push(c) : NULL;
        if (!s)
            goto fail;
        s->fi = (uint32_t)i;
        s->dir = (c->side[0].ip == t->src && c->side[0].port == t->sport) ? 0 : 1;
        dconn_account(c, s, t);
        dconn_on_send(&c->side[s->dir], &c->side[!s->dir], t, s, s->dir);
        dconn_on_recv(&c->side[!s->dir], t, s, !s->dir);
        out->frame_conn[i] = (int32_t)(c - out->c);
        out->frame_seg[i] = (int32_t)(c->n - 1);
    }
    free(tab.slot);
    return 0;
fail:
    free(tab.slot);
    dconn_free(out);
    return -1;
}

void dconn_free(struct dconns *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        free(cs->c[i].seg);
    free(cs->c);
    free(cs->frame_conn);
    free(cs->frame_seg);
    memset(cs, 0, sizeof *cs);
}

struct dconn *dconn_of_frame(struct dconns *cs, uint32_t no,
                             struct dconn_seg **seg)
{
    if (no == 0 || no > cs->nframes || cs->frame_conn[no - 1] < 0)
        return NULL;
    struct dconn *c = &cs->c[cs->frame_conn[no - 1]];
    if (seg)
        *seg = &c->seg[cs->frame_seg[no - 1]];
    return c;
}
