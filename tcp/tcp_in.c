/* tcp/tcp_in.c - SEGMENT ARRIVES (RFC 9293 §3.10.7), one function per step.
 *
 * tcp_input() checks and parses, then hands the segment to the connection
 * (tcp_conn_input), a listener (tcp_listen_input, tcp_listen.c), or answers
 * with a reset. For synchronized states the steps run in the RFC's order:
 * sequence check, RST, SYN, ACK, data, FIN; RFC 5961 hardens RST, SYN and
 * ACK handling against blind attackers.
 */
#include "tcp/tcp_conn.h"

#include <string.h>

#include "core/cksum.h"

/* Step 1 (§3.10.7.4): is any of the segment inside the receive window? */
static int tcp_acceptable(const struct tcp_conn *c, const struct tcp_seg *s)
{
    uint32_t wnd = c->rcv_adv - c->rcv_nxt;
    uint32_t seq = s->h.seq;
    if (s->seq_len == 0)
        return wnd == 0 ? seq == c->rcv_nxt
                        : seq_in(seq, c->rcv_nxt, c->rcv_nxt + wnd);
    if (wnd == 0)
        return 0;
    return seq_in(seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
           seq_in(seq + s->seq_len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

/* Cut the segment to the window: what lies before RCV.NXT was received
 * already (a SYN there too), what lies past the right edge is not ours to
 * keep (nor a FIN behind it). */
static void tcp_trim(const struct tcp_conn *c, struct tcp_seg *s)
{
    if (seq_lt(s->h.seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - s->h.seq;
        if (s->h.flags & TCP_SYN) {
            s->h.flags &= (uint8_t)~TCP_SYN;
            s->h.seq++;
            skip--;
        }
        if (skip > s->len)
            skip = s->len;
        s->data += skip;
        s->len -= skip;
        s->h.seq += skip;
    }
    uint32_t room = c->rcv_adv - s->h.seq;
    if (seq_lt(c->rcv_adv, s->h.seq))
        room = 0;
    if (s->len > room) {
        s->len = room;
        s->h.flags &= (uint8_t)~TCP_FIN;
    }
}

/* Step 2: RST. RFC 5961 §3.2: only an exact RCV.NXT match resets; any
 * other in-window RST draws a challenge ACK. RFC 1337: TIME-WAIT ignores
 * resets (no assassination). Returns 1 when the segment is consumed. */
static int tcp_in_rst(struct tcp_conn *c, const struct tcp_seg *s, uint32_t seq0)
{
    struct tcp_layer *t = c->t;
    TCP_COUNT(t, rx_rst, c);
    if (c->state == TCP_TIME_WAIT) {
        TCP_COUNT(t, rst_ignored_time_wait, c);
        return 1;
    }
    if (seq0 != c->rcv_nxt) {
        tcp_send_challenge_ack(c);
        return 1;
    }
    (void)s;
    switch (c->state) {
    case TCP_SYN_RECEIVED:
        if (c->flags & TCP_F_PASSIVE) {
            tcp_conn_done(c, 0);        /* back to LISTEN: forget it */
        } else {
            TCP_COUNT(t, conn_refused, c);
            tcp_conn_done(c, -ECONNREFUSED);
        }
        break;
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        tcp_conn_done(c, 0);
        break;
    default:
        TCP_COUNT(t, conn_reset, c);
        tcp_conn_done(c, -ECONNRESET);
        break;
    }
    return 1;
}

/* The peer's SYN options: MSS (clamped, 536 when absent) and window scale
 * (on only when both sides sent the option, RFC 7323 §1.3). */
void tcp_take_syn_opts(struct tcp_conn *c, const struct tcp_seg *s,
                              int we_offered_ws)
{
    uint16_t ours = tcp_our_mss(c->t, c->raddr);
    uint16_t mss = s->h.opts.has_mss ? s->h.opts.mss : TCP_MSS_DEFAULT;
    if (mss < TCP_MSS_MIN)
        mss = TCP_MSS_MIN;      /* an MSS of 0 would stall the sender */
    c->mss = mss < ours ? mss : ours;
    if (s->h.opts.sack_ok)
        c->flags |= TCP_F_SACK_OK;     /* we always offer it */
    if (s->h.opts.has_ws && we_offered_ws) {
        c->flags |= TCP_F_WS_OK;
        c->snd_ws = s->h.opts.ws > TCP_WS_MAX ? TCP_WS_MAX : s->h.opts.ws;
    } else {
        c->flags &= ~TCP_F_WS_OK;
        c->snd_ws = 0;
        c->rcv_ws = 0;
    }
}

int tcp_establish(struct tcp_conn *c, const struct tcp_seg *s)
{
    if (tcp_conn_alloc_buffers(c) < 0) {
        TCP_COUNT(c->t, drop_no_tcb, c);
        tcp_send_rst(c);
        tcp_conn_done(c, -ENOMEM);
        return -ENOMEM;
    }
    c->snd_wnd = (uint32_t)s->h.wnd << ((s->h.flags & TCP_SYN) ? 0 : c->snd_ws);
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = s->h.seq;
    c->snd_wl2 = s->h.ack;
    tcp_cc_established(c);
    if (c->retries == 0 && c->t->now >= c->rtt_start)
        tcp_rtt_sample(c, (uint32_t)(c->t->now - c->rtt_start));
    else if (c->srtt == 0)
        c->rto = c->t->cfg.rto_syn;     /* RFC 6298 §5.7: the SYN was lost */
    c->retries = 0;
    c->rto_at = TS_NEVER;
    c->flags &= ~TCP_F_RTT_TIMING;
    tcp_set_state(c, TCP_ESTABLISHED);
    return 0;
}

/* §3.10.7.3: SYN-SENT. */
static void tcp_in_syn_sent(struct tcp_conn *c, struct tcp_seg *s)
{
    struct tcp_layer *t = c->t;
    int ack_ok = 0;
    if (s->h.flags & TCP_ACK) {
        if (seq_leq(s->h.ack, c->iss) || seq_gt(s->h.ack, c->snd_max)) {
            tcp_reply_rst(t, s);
            return;
        }
        ack_ok = 1;
    }
    if (s->h.flags & TCP_RST) {
        TCP_COUNT(t, rx_rst, c);
        if (ack_ok) {
            TCP_COUNT(t, conn_refused, c);
            tcp_conn_done(c, -ECONNREFUSED);
        }
        return;
    }
    if (!(s->h.flags & TCP_SYN))
        return;
    c->irs = s->h.seq;
    c->rcv_nxt = c->rcv_adv = s->h.seq + 1;
    tcp_take_syn_opts(c, s, 1);
    if (!ack_ok) {
        /* Simultaneous open (§3.5, figure 8): answer with SYN-ACK. */
        tcp_set_state(c, TCP_SYN_RECEIVED);
        c->snd_nxt = c->iss;
        tcp_output(c);
        return;
    }
    c->snd_una = s->h.ack;
    if (tcp_establish(c, s) < 0)
        return;
    tcp_conn_event(c, TCP_EV_CONNECTED | TCP_EV_WRITABLE);
    c->flags |= TCP_F_ACK_NOW;
    tcp_output(c);
}

/* Record the peer's SACK blocks that make sense: inside what we sent and
 * above what it acknowledged (anything else is a D-SACK or a lie). */
static void tcp_sack_update(struct tcp_conn *c, const struct tcp_seg *s)
{
    if (!(c->flags & TCP_F_SACK_OK))
        return;
    uint32_t una = seq_gt(s->h.ack, c->snd_una) ? s->h.ack : c->snd_una;
    for (unsigned i = 0; i < s->h.opts.nsack; i++) {
        uint32_t l = s->h.opts.sack[i][0], r = s->h.opts.sack[i][1];
        if (seq_lt(l, r) && seq_geq(l, una) && seq_leq(r, c->snd_max))
            tcp_ooo_add(&c->sacked, l, r);  /* full: the block is dropped */
    }
}

/* SND.UNA < SEG.ACK <= SND.MAX: data (and perhaps our FIN) acknowledged. */
static void tcp_ack_new(struct tcp_conn *c, const struct tcp_seg *s)
{
    uint32_t acked = s->h.ack - c->snd_una;
    uint32_t data = acked < c->snd.len ? acked : c->snd.len;
    tcp_ring_drop(&c->snd, data);
    c->rto_at = TS_NEVER;           /* RFC 6298 §5.3: restart on new ACK */
    c->snd_una = s->h.ack;
    tcp_ooo_prune(&c->sacked, c->snd_una);
    if (seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una;    /* after a time-out rewound SND.NXT */
    if ((c->flags & TCP_F_FIN_SENT) && seq_gt(c->snd_una, c->fin_seq))
        c->flags |= TCP_F_FIN_ACKED;
    if ((c->flags & TCP_F_RTT_TIMING) && seq_gt(s->h.ack, c->rtt_seq)) {
        c->flags &= ~TCP_F_RTT_TIMING;
        tcp_rtt_sample(c, (uint32_t)(c->t->now - c->rtt_start));
    }
    c->retries = 0;
    c->probes = 0;
    tcp_cc_on_ack(c, acked);
    if (data)
        tcp_conn_event(c, TCP_EV_WRITABLE);
}

/* Window update (§3.10.7.4 step 5): only from a segment newer than the one
 * that set it, so an old reordered segment cannot shrink it. */
static void tcp_window_update(struct tcp_conn *c, const struct tcp_seg *s)
{
    if (seq_lt(c->snd_wl1, s->h.seq) ||
        (c->snd_wl1 == s->h.seq && seq_leq(c->snd_wl2, s->h.ack))) {
        c->snd_wnd = (uint32_t)s->h.wnd << c->snd_ws;
        c->snd_wl1 = s->h.seq;
        c->snd_wl2 = s->h.ack;
        if (c->snd_wnd > c->max_snd_wnd)
            c->max_snd_wnd = c->snd_wnd;
    }
}

/* Step 5, per state: what our FIN being acknowledged means. Returns 1 when
 * the connection is finished with this segment. */
static int tcp_in_ack_state(struct tcp_conn *c)
{
    if (!(c->flags & TCP_F_FIN_ACKED))
        return 0;
    switch (c->state) {
    case TCP_FIN_WAIT_1:
        tcp_set_state(c, TCP_FIN_WAIT_2);
        /* An application that closed will read nothing more: do not wait
         * forever for a peer that never sends FIN (like Linux's
         * tcp_fin_timeout). A half-closed socket waits as long as needed. */
        if (c->flags & TCP_F_USER_CLOSED)
            c->tw_at = c->t->now + 2u * c->t->cfg.msl_ms;
        return 0;
    case TCP_CLOSING:
        tcp_enter_time_wait(c);
        return 0;
    case TCP_LAST_ACK:
        tcp_conn_done(c, 0);
        return 1;
    default:
        return 0;
    }
}

/* Step 5: the ACK field. Returns 1 when the segment is consumed. */
static int tcp_in_ack(struct tcp_conn *c, struct tcp_seg *s)
{
    struct tcp_layer *t = c->t;
    if (!(s->h.flags & TCP_ACK)) {
        TCP_COUNT(t, drop_no_ack, c);
        return 1;
    }
    if (c->state == TCP_SYN_RECEIVED) {
        if (!seq_gt(s->h.ack, c->snd_una) || seq_gt(s->h.ack, c->snd_max)) {
            tcp_reply_rst(t, s);
            return 1;
        }
        c->snd_una = c->iss + 1;    /* our SYN is acknowledged */
        if (tcp_establish(c, s) < 0)
            return 1;
        if (c->listener) {
            c->listener->nsyn--;
            tcp_listener_enqueue(c);
        } else {
            tcp_conn_event(c, TCP_EV_CONNECTED | TCP_EV_WRITABLE);
        }
    }
    /* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND,
     * SND.MAX]; ahead of that is data never sent, behind it is a blind
     * guess. Either way: drop, answer with an ACK. */
    if (seq_gt(s->h.ack, c->snd_max)) {
        TCP_COUNT(t, drop_ack_unacceptable, c);
        tcp_send_challenge_ack(c);
        return 1;
    }
    if (seq_lt(s->h.ack, c->snd_una - c->max_snd_wnd)) {
        TCP_COUNT(t, drop_ack_unacceptable, c);
        tcp_send_challenge_ack(c);
        return 1;
    }
    uint32_t old_wnd = c->snd_wnd;
    tcp_sack_update(c, s);
    if (seq_gt(s->h.ack, c->snd_una))
        tcp_ack_new(c, s);
    else if (s->h.ack == c->snd_una && s->len == 0 && tcp_flight(c) > 0 &&
             !(s->h.flags & (TCP_SYN | TCP_FIN)) &&
             ((uint32_t)s->h.wnd << c->snd_ws) == old_wnd)
        tcp_cc_on_dupack(c);
    if (seq_geq(s->h.ack, c->snd_una))
        tcp_window_update(c, s);
    return tcp_in_ack_state(c);
}

/* Delayed ACK (RFC 1122 §4.2.3.2, RFC 5681 §4.2): at least every second
 * full-sized segment, and never later than delack_ms. Also at once, as
 * Linux does (__tcp_ack_snd_check), when more than a full segment's worth
 * has arrived since our last ACK in segments of mixed sizes: when the
 * window holds only a few segments (64 KB ones on lo), a sender held by
 * its silly-window rule would otherwise wait for the timer. */
static void tcp_ack_schedule(struct tcp_conn *c, uint32_t len)
{
    if (len >= c->mss)
        c->ack_pending++;
    if (c->ack_pending >= 2 || c->rcv_nxt - c->rcv_wup > c->mss ||
        c->t->cfg.delack_ms == 0)
        c->flags |= TCP_F_ACK_NOW;
    else if (c->delack_at == TS_NEVER)
        c->delack_at = c->t->now + c->t->cfg.delack_ms;
}

/* Step 7: segment text. In-order data goes to the ring; data past a gap is
 * written at its place in the ring and its range remembered; filling a gap
 * turns the remembered ranges into in-order data without copying. */
static void tcp_in_data(struct tcp_conn *c, const struct tcp_seg *s)
{
    struct tcp_layer *t = c->t;
    uint32_t off = s->h.seq - c->rcv_nxt;
    uint32_t space = tcp_ring_space(&c->rcv);
    if (off >= space)
        return;
    uint32_t n = s->len < space - off ? s->len : space - off;
    if (tcp_ring_put_at(&c->rcv, off, s->data, n) < 0) {
        TCP_COUNT(t, drop_no_memory, c);   /* the ring could not grow: resent */
        return;
    }
    if (off > 0) {
        if (tcp_ooo_add(&c->ooo, s->h.seq, s->h.seq + n) < 0) {
            TCP_COUNT(t, drop_ooo_full, c);
        } else {
            TCP_COUNT(t, rx_ooo_segments, c);
            c->ooo_recent = s->h.seq;
        }
        /* a duplicate ACK tells of the gap, at once (RFC 5681 §4.2) */
        c->flags |= TCP_F_ACK_NOW | TCP_F_ACK_AT_ONCE;
        return;
    }
    int had_gap = c->ooo.n > 0;
    uint32_t end = tcp_ooo_take(&c->ooo, c->rcv_nxt + n);
    uint32_t added = end - c->rcv_nxt;
    c->rcv.len += added;
    c->rcv_nxt = end;
    t->stats.rx_bytes += added;
    c->bytes_received += added;
    tcp_conn_event(c, TCP_EV_READABLE);
    if (had_gap)
        c->flags |= TCP_F_ACK_NOW | TCP_F_ACK_AT_ONCE;  /* RFC 5681 §4.2:
                                                           ACK a filled gap now */
    else
        tcp_ack_schedule(c, n);
}

/* Step 8: FIN, taken only in order (a FIN past a gap comes again). An
 * out-of-order FIN is an out-of-order segment: a duplicate ACK at once
 * tells the peer where the gap starts (RFC 5681 §4.2), as for data. */
static void tcp_in_fin(struct tcp_conn *c, const struct tcp_seg *s)
{
    if (s->h.seq + s->len != c->rcv_nxt) {
        c->flags |= TCP_F_ACK_NOW;
        return;
    }
    c->rcv_nxt++;
    /* Data held past a gap lies beyond the peer's own end of stream: it
     * can never be part of it. Forget it (Linux's tcp_fin() drops it too),
     * or its ranges would stand at RCV.NXT for ever and go on being
     * SACKed. Found by fuzz_session. */
    c->ooo.n = 0;
    c->flags |= TCP_F_EOF | TCP_F_ACK_NOW;
    tcp_conn_event(c, TCP_EV_EOF | TCP_EV_READABLE);
    switch (c->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        tcp_set_state(c, TCP_CLOSE_WAIT);
        break;
    case TCP_FIN_WAIT_1:
        if (c->flags & TCP_F_FIN_ACKED)
            tcp_enter_time_wait(c);
        else
            tcp_set_state(c, TCP_CLOSING);
        break;
    case TCP_FIN_WAIT_2:
        tcp_enter_time_wait(c);
        break;
    default:
        break;
    }
}

/* Simultaneous open (§3.5 figure 8, line 6): the peer's SYN-ACK repeats
 * the SYN we took (just below RCV.NXT: step 1 would drop it, and the open
 * waited an RTO) and acknowledges ours: established. Its window is a SYN's,
 * never scaled (RFC 7323 §2.2). Returns 1 when the segment is consumed. */
static int tcp_in_simopen_synack(struct tcp_conn *c, const struct tcp_seg *s)
{
    if (c->state != TCP_SYN_RECEIVED || (c->flags & TCP_F_PASSIVE) ||
        (s->h.flags & (TCP_SYN | TCP_ACK | TCP_RST)) != (TCP_SYN | TCP_ACK) ||
        s->h.seq != c->irs || s->h.ack != c->snd_max)
        return 0;
    c->snd_una = s->h.ack;
    if (tcp_establish(c, s) < 0)
        return 1;
    tcp_conn_event(c, TCP_EV_CONNECTED | TCP_EV_WRITABLE);
    tcp_output(c);                  /* data written while opening */
    return 1;
}

/* §3.10.7.4 for every synchronized state and SYN-RECEIVED. */
static void tcp_in_sync(struct tcp_conn *c, struct tcp_seg *s)
{
    uint32_t seq0 = s->h.seq;
    if (tcp_in_simopen_synack(c, s))
        return;
    if (c->state == TCP_SYN_RECEIVED && (s->h.flags & TCP_SYN) &&
        !(s->h.flags & TCP_ACK) && seq0 == c->irs) {
        c->snd_nxt = c->iss;        /* our SYN-ACK was lost: send it again */
        tcp_ev_retransmit(c, "dup_syn", c->iss, 0, 0);
        tcp_output(c);
        return;
    }
    if (!tcp_acceptable(c, s)) {
        if (s->h.flags & TCP_RST)
            TCP_COUNT(c->t, rst_ignored, c);      /* RFC 5961 §3.2: silently */
        else {
            TCP_COUNT(c->t, out_of_window, c);
            /* §3.10.7.4 TIME-WAIT: the peer's FIN again (our last ACK was
             * lost): ACK it and restart the 2 MSL time-out. */
            if (c->state == TCP_TIME_WAIT && (s->h.flags & TCP_FIN))
                c->tw_at = c->t->now + 2u * c->t->cfg.msl_ms;
            c->flags |= TCP_F_ACK_NOW;
            tcp_output(c);
        }
        return;
    }
    tcp_trim(c, s);
    if (s->h.flags & TCP_RST) {
        tcp_in_rst(c, s, seq0);
        return;
    }
    if (s->h.flags & TCP_SYN) {     /* RFC 5961 §4.2 */
        tcp_send_challenge_ack(c);
        return;
    }
    if (tcp_in_ack(c, s))
        return;
    if (s->len && (c->flags & TCP_F_USER_CLOSED) &&
        (c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2)) {
        /* RFC 1122 §4.2.2.13: data after the application's CLOSE cannot
         * be delivered; RST says it was lost (Linux: TCPAbortOnData). */
        TCP_COUNT(c->t, abort_on_data, c);
        tcp_send_rst(c);
        tcp_conn_done(c, 0);
        return;
    }
    if (s->len && (c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
                   c->state == TCP_FIN_WAIT_2))
        tcp_in_data(c, s);
    if (s->h.flags & TCP_FIN)
        tcp_in_fin(c, s);
    tcp_output_batched(c);
}

void tcp_conn_input(struct tcp_conn *c, struct tcp_seg *s)
{
    c->last_rx = c->t->now;
    if (c->flags & TCP_F_KEEPALIVE)
        c->probes = 0;
    if (c->flags & TCP_F_PERSIST)
        c->retries = 0;             /* the peer answers the probes */
    switch (c->state) {
    case TCP_CLOSED:
        tcp_reply_rst(c->t, s);     /* a dead TCB the application holds */
        break;
    case TCP_SYN_SENT:
        tcp_in_syn_sent(c, s);
        break;
    default:
        tcp_in_sync(c, s);
        break;
    }
}

static int tcp_parse_counted(struct tcp_layer *t, const struct pbuf *pb,
                             const struct ipv4_hdr *ih, struct tcp_seg *s)
{
    int rc = tcp_parse(pb->data, pb->len, &s->h);
    if (rc == TCP_ERR_TRUNCATED) {
        TCP_COUNT(t, drop_truncated, NULL);
        return -1;
    }
    if (rc != TCP_OK) {
        TCP_COUNT(t, drop_bad_offset, NULL);
        return -1;
    }
    if (!(pb->flags & PBUF_F_CSUM_VALID) &&
        CKSUM_RX_BAD(tcp_cksum(ih->src, ih->dst, pb->data, pb->len))) {
        TCP_COUNT(t, drop_bad_cksum, NULL);
        return -1;
    }
    /* Only unicast to us (RFC 1122 §4.2.3.10); port 0 is nobody's. */
    if (!ipv4_is_local(t->ip, ih->dst) || s->h.sport == 0 || s->h.dport == 0) {
        TCP_COUNT(t, drop_bad_addr, NULL);
        return -1;
    }
    if (s->h.opts.malformed)
        TCP_COUNT(t, opt_malformed, NULL);
    s->src = ih->src;
    s->dst = ih->dst;
    s->data = pb->data + s->h.hlen;
    s->len = (uint32_t)(pb->len - s->h.hlen);
    s->seq_len = s->len + !!(s->h.flags & TCP_SYN) + !!(s->h.flags & TCP_FIN);
    return 0;
}

void tcp_input(void *ctx, struct pbuf *pb, const struct ipv4_hdr *ih,
               uint64_t now)
{
    struct tcp_layer *t = ctx;
    struct tcp_seg s;
    t->now = now;
    t->stats.rx_segments++;
    t->ev_why = "segment";
    if (tcp_parse_counted(t, pb, ih, &s) == 0) {
        t->ev_seg = &s;
        struct tcp_conn *c = tcp_conn_find(t, s.dst, s.h.dport, s.src, s.h.sport);
        struct tcp_listener *l;
        if (c) {
            tcp_conn_input(c, &s);
            tcp_conn_settle(c);
        } else if ((l = tcp_listener_find(t, s.dst, s.h.dport))) {
            tcp_listen_input(l, &s);
        } else {
            tcp_reply_rst(t, &s);
        }
    }
    t->ev_seg = NULL;
    t->ev_why = NULL;
    pbuf_free(pb);
}
