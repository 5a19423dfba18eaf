/* tcp/tcp_event.c - the layer's events on the stack's event path: counted
 * reasons (TCP_COUNT), state changes, retransmissions with their cause,
 * and the changes of cwnd, ssthresh, RTO, SRTT and the send window seen
 * at each settle (one comparison with what was last reported, so no
 * assignment of those fields anywhere needs a call of its own).
 *
 * Every function here runs only when a sink listens (ts_ev_on); the
 * counting itself is done by the caller whatever happens.
 */
#include "tcp/tcp_conn.h"

#include <string.h>

static void tcp_ev_conn_of(struct ts_event *e, const struct tcp_conn *c)
{
    e->conn.id = c->id;
    e->conn.laddr = c->laddr;
    e->conn.lport = c->lport;
    e->conn.raddr = c->raddr;
    e->conn.rport = c->rport;
}

/* The segment that caused a counted event: its 4-tuple (id 0 when no TCB
 * is concerned) and its own numbers, named seg_* so that they are never
 * taken for ours (a retransmission's "seq"). */
static void tcp_ev_seg_of(struct ts_event *e, const struct tcp_seg *s)
{
    e->conn.laddr = s->dst;
    e->conn.lport = s->h.dport;
    e->conn.raddr = s->src;
    e->conn.rport = s->h.sport;
    ts_ev_kv_int(e, "seg_seq", s->h.seq);
    ts_ev_kv_int(e, "seg_ack", s->h.ack);
    ts_ev_kv_int(e, "seg_len", s->len);
}

static void tcp_ev_init(struct ts_event *e, const char *ev, const char *rfc)
{
    memset(e, 0, sizeof *e);
    e->layer = TS_EVL_TCP;
    e->ev = ev;
    e->rfc = rfc;
}

void tcp_ev_count(struct tcp_layer *t, enum tcp_reason r,
                  const struct tcp_conn *c)
{
    const struct ts_counter_desc *d = &tcp_counter_desc[r];
    if (!d->ev)
        return;
    struct ts_event e;
    tcp_ev_init(&e, d->ev, d->rfc);
    e.reason = d->name;
    e.text = d->help;
    if (t->ev_seg)
        tcp_ev_seg_of(&e, t->ev_seg);
    if (c)
        tcp_ev_conn_of(&e, c);
    ts_ev_emit(t->ev, &e, 0);
}

void tcp_ev_state(const struct tcp_conn *c, enum tcp_state to)
{
    struct ts_event e;
    tcp_ev_init(&e, "state", "9293 3.3.2");
    tcp_ev_conn_of(&e, c);
    ts_ev_change_str(&e, "state", tcp_state_name(c->state),
                     tcp_state_name(to));
    e.reason = c->t->ev_why ? c->t->ev_why : "call";
    ts_ev_emit(c->t->ev, &e, 0);
}

void tcp_ev_retransmit(struct tcp_conn *c, const char *cause, uint32_t seq,
                       uint32_t len, int sent)
{
    c->t->stats.retransmits++;
    c->total_retrans++;
    if (!ts_ev_on(c->t->ev))
        return;
    struct ts_event e;
    tcp_ev_init(&e, "retransmit", strcmp(cause, "rto") == 0 ? "6298 5.4"
                : strcmp(cause, "sack") == 0 ? "6675 5" : "5681 3.2");
    tcp_ev_conn_of(&e, c);
    e.reason = "retransmits";
    ts_ev_kv_str(&e, "cause", cause);
    ts_ev_kv_int(&e, "seq", seq);
    ts_ev_kv_int(&e, "len", len);
    /* sent: the segment already went out, so it is the frame just sent. */
    ts_ev_emit(c->t->ev, &e, sent ? TS_EVF_LAST_OUT : 0);
}

/* One event per group of fields that moved since the last report. */
static void tcp_ev_diff(struct tcp_conn *c, const char *ev, const char *rfc,
                        const char *const *names, uint32_t *old,
                        const uint32_t *now, unsigned n)
{
    struct ts_event e;
    tcp_ev_init(&e, ev, rfc);
    for (unsigned i = 0; i < n; i++)
        if (old[i] != now[i])
            ts_ev_change(&e, names[i], old[i], now[i]);
    if (e.nchanged == 0)
        return;
    tcp_ev_conn_of(&e, c);
    e.reason = ev;
    ts_ev_emit(c->t->ev, &e, 0);
    memcpy(old, now, n * sizeof *old);
}

void tcp_ev_settle(struct tcp_conn *c)
{
    static const char *const cc[] = { "cwnd", "ssthresh" };
    static const char *const rtt[] = { "srtt_us", "rttvar_us", "rto_ms" };
    /* srtt and rttvar are kept in 1/8 ms: 125 us each. */
    static const char *const wnd[] = { "snd_wnd" };
    uint32_t cc_now[2] = { c->cwnd, c->ssthresh };
    uint32_t rtt_now[3] = { c->srtt * 125u, c->rttvar * 125u, c->rto };
    uint32_t wnd_now[1] = { c->snd_wnd };
    tcp_ev_diff(c, "cc", "5681 3", cc, c->ev_snap.cc, cc_now, 2);
    tcp_ev_diff(c, "rtt", "6298 2", rtt, c->ev_snap.rtt, rtt_now, 3);
    tcp_ev_diff(c, "window", "9293 3.10.7.4", wnd, c->ev_snap.wnd, wnd_now, 1);
}

void tcp_ev_snap_init(struct tcp_conn *c)
{
    c->ev_snap.cc[0] = c->cwnd;
    c->ev_snap.cc[1] = c->ssthresh;
    c->ev_snap.rtt[0] = c->srtt * 125u;
    c->ev_snap.rtt[1] = c->rttvar * 125u;
    c->ev_snap.rtt[2] = c->rto;
    c->ev_snap.wnd[0] = c->snd_wnd;
}

unsigned tcp_conn_id(const struct tcp_conn *c)
{
    return c->id;
}
