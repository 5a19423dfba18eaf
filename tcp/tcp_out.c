/* tcp/tcp_out.c - building and sending segments.
 *
 * tcp_output() is the one place that decides what data goes out: as much
 * as the peer's window and the congestion window allow, in MSS-sized
 * segments, subject to Nagle (RFC 896) and sender-side silly window
 * avoidance (RFC 9293 §3.8.6.2.1); the FIN rides on the last segment. Every
 * segment is built straight into a pool buffer with headroom for the IPv4
 * and Ethernet headers: the data is copied once, from the send ring.
 *
 * TSO: when the connection's interface cuts TCP super-frames (the TAP with
 * offloads, NETDEV_F_TSO4), one segment carries up to 64 KB of whole
 * MSS-sized pieces, with only the pseudo-header in its checksum field
 * (PBUF_F_CSUM_PARTIAL) and gso_size = the MSS less the options: the
 * kernel cuts it into the segments we would have sent, each with its own
 * checksum. Everything else (ACKs, SYNs, retransmissions) goes whole.
 *
 * Receive batches (tcp_batch_begin/end): an ACK that is all a segment
 * calls for waits for the end of the batch (the connection named by its
 * 4-tuple), so one ACK answers all the segments of a batch.
 */
#include "tcp/tcp_conn.h"

#include <string.h>

#include "core/cksum.h"

uint16_t tcp_our_mss(const struct tcp_layer *t, uint32_t raddr)
{
    return (uint16_t)(ipv4_route_mtu(t->ip, raddr) - IPV4_HLEN - TCP_HLEN);
}

/* The window to advertise (unscaled bytes). Receiver-side SWS avoidance
 * (RFC 9293 §3.8.6.2.2): the right edge moves only in steps of at least
 * min(buffer/2, MSS); it never moves left (RFC 9293 §3.8.6: no shrinking). */
uint32_t tcp_rcv_window(struct tcp_conn *c)
{
    uint32_t cap = c->rcv.lim ? c->rcv.lim : c->rcvbuf;
    uint32_t space = cap - c->rcv.len;
    uint32_t max = (uint32_t)0xffff << c->rcv_ws;
    if (space > max)
        space = max;
    uint32_t edge = c->rcv_nxt + space;
    uint32_t step = cap / 2 < c->mss ? cap / 2 : c->mss;
    if (seq_geq(edge, c->rcv_adv + step) ||
        (seq_gt(edge, c->rcv_adv) && edge - c->rcv_nxt == cap))
        c->rcv_adv = edge;
    if (seq_lt(c->rcv_adv, c->rcv_nxt))
        c->rcv_adv = c->rcv_nxt;
    /* Round the edge down to what the scaled field can say. */
    uint32_t wnd = (c->rcv_adv - c->rcv_nxt) >> c->rcv_ws << c->rcv_ws;
    return wnd;
}

/* RFC 2018 §4: report the data held past gaps, the block holding the most
 * recent segment first, then the rest in order, as many as fit. */
static void tcp_sack_blocks(const struct tcp_conn *c, struct tcp_opts *o)
{
    const struct tcp_ooo *q = &c->ooo;
    o->nsack = 0;
    for (uint32_t i = 0; i < q->n; i++)
        if (seq_in(c->ooo_recent, q->start[i], q->end[i])) {
            o->sack[0][0] = q->start[i];
            o->sack[0][1] = q->end[i];
            o->nsack = 1;
        }
    for (uint32_t i = 0; i < q->n && o->nsack < TCP_SACK_MAX; i++) {
        if (o->nsack && o->sack[0][0] == q->start[i])
            continue;
        o->sack[o->nsack][0] = q->start[i];
        o->sack[o->nsack][1] = q->end[i];
        o->nsack++;
    }
}

/* The most data one segment may carry: the MSS, or where the interface
 * cuts super-frames, as many whole MSS-sized pieces as fit its largest
 * datagram with the largest headers (lo's own MSS is 64 KB already). */
static uint32_t tcp_seg_max(const struct tcp_conn *c)
{
    const struct ipv4_if *ifp = c->ifp;
    if (!ifp || !(ifp->flags & NETDEV_F_TSO4) ||
        ifp->gso_max <= (uint32_t)(IPV4_HLEN + TCP_HLEN_MAX) + c->mss)
        return c->mss;
    uint32_t room = ifp->gso_max - (uint32_t)(IPV4_HLEN + TCP_HLEN_MAX);
    return room / c->mss * c->mss;
}

/* A super-segment (n data bytes past hlen of header): the pseudo-header
 * sum in the checksum field, for the device to finish per cut segment. */
static void tcp_mark_super(struct pbuf *pb, struct tcp_conn *c, size_t hlen,
                           uint32_t gso)
{
    struct tcp_layer *t = c->t;
    uint32_t n = (uint32_t)(pb->len - hlen);
    store_be16(pb->data + 16, cksum_pseudo_partial(c->laddr, c->raddr,
                                                   IPV4_PROTO_TCP, pb->len));
    pb->flags |= PBUF_F_CSUM_PARTIAL | PBUF_F_GSO_TCPV4;
    pb->off.csum_start = (uint32_t)pbuf_headroom(pb);
    pb->off.csum_off = 16;
    pb->off.hdr_len = (uint16_t)hlen;
    pb->off.gso_size = (uint16_t)gso;
    pb->off.gso_segs = (uint16_t)((n + gso - 1) / gso);
    t->stats.tx_super_segments++;
    t->stats.tx_segments += pb->off.gso_segs;
}

/* Build and send one segment: header with options, n data bytes taken from
 * the send ring at off (or from data when given), checksum, IPv4. */
static int tcp_xmit(struct tcp_conn *c, uint32_t seq, uint8_t flags,
                    const struct tcp_opts *opts, uint32_t off, uint32_t n)
{
    struct tcp_layer *t = c->t;
    struct tcp_hdr h = {
        .sport = c->lport, .dport = c->rport, .seq = seq, .flags = flags,
    };
    if (opts)
        h.opts = *opts;
    if ((flags & (TCP_ACK | TCP_SYN)) == TCP_ACK && (c->flags & TCP_F_SACK_OK))
        tcp_sack_blocks(c, &h.opts);
    /* Options come out of the MSS (RFC 9293 §3.7.1, RFC 6691): on a data
     * segment that is already MSS-sized, drop the SACK blocks that do not
     * fit (the last matter least, RFC 2018 §4) rather than send a datagram
     * past the MTU, which IPv4 would fragment. */
    uint32_t per = n < c->mss ? n : c->mss;    /* the most on the wire */
    while (h.opts.nsack > 0 && tcp_opts_len(&h.opts) + per > c->mss)
        h.opts.nsack--;
    if (flags & TCP_ACK) {
        h.ack = c->rcv_nxt;
        c->rcv_wup = c->rcv_nxt;
        c->flags &= ~(TCP_F_ACK_NOW | TCP_F_ACK_AT_ONCE);
        c->ack_pending = 0;
        c->delack_at = TS_NEVER;
    }
    uint32_t wnd = tcp_rcv_window(c);
    h.wnd = (uint16_t)((flags & TCP_SYN) ? (wnd > 0xffff ? 0xffff : wnd)
                                         : wnd >> c->rcv_ws);
    size_t hlen = TCP_HLEN + tcp_opts_len(&h.opts);
    struct pbuf *pb = pbuf_alloc(t->pool, PBUF_HEADROOM, hlen + n);
    if (!pb) {
        TCP_COUNT(t, tx_no_buffer, c);
        return -ENOBUFS;
    }
    tcp_emit(&h, pb->data);
    if (n)
        tcp_ring_peek(&c->snd, off, pb->data + hlen, n);
    uint32_t gso = c->mss - (uint32_t)(hlen - TCP_HLEN);
    if (n > gso && tcp_seg_max(c) > c->mss) {
        tcp_mark_super(pb, c, hlen, gso);
    } else {
        /* On lo the device vouches: no checksum, as Linux's lo (the
         * receiver finds PBUF_F_CSUM_VALID and does not verify either). */
        store_be16(pb->data + 16, (c->flags & TCP_F_NO_CSUM) ? 0
                   : tcp_cksum(c->laddr, c->raddr, pb->data, pb->len));
        t->stats.tx_segments++;
    }
    t->stats.tx_bytes += n;
    c->bytes_sent += n;
    return ipv4_output_tt(t->ip, pb, c->laddr, c->raddr, IPV4_PROTO_TCP,
                          c->ttl, c->tos, t->now);
}

/* A pure ACK carries SND.MAX, not SND.NXT: after a time-out rewound
 * SND.NXT, a segment numbered below the peer's RCV.NXT would be
 * unacceptable there and its ACK ignored (4.4BSD tcp_output does the same);
 * SND.MAX always lies inside the peer's window. */
void tcp_send_ack(struct tcp_conn *c)
{
    tcp_xmit(c, c->snd_max, TCP_ACK, NULL, 0, 0);
}

/* RFC 5961 §7: at most challenge_ack_per_sec per connection per second, so
 * a blind attacker cannot use us to learn about (or flood) the connection. */
void tcp_send_challenge_ack(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (t->now - c->chal_window >= 1000) {
        c->chal_window = t->now;
        c->chal_count = 0;
    }
    if (c->chal_count >= t->cfg.challenge_ack_per_sec) {
        TCP_COUNT(t, challenge_acks_limited, c);
        return;
    }
    c->chal_count++;
    TCP_COUNT(t, challenge_acks, c);
    tcp_send_ack(c);
}

void tcp_send_rst(struct tcp_conn *c)
{
    tcp_xmit(c, c->snd_nxt, TCP_RST | TCP_ACK, NULL, 0, 0);
}

/* Zero-window probe: a segment one below SND.UNA with no data is outside
 * the peer's window, so the peer answers with an ACK that carries its
 * current window, and no byte of ours is committed. */
void tcp_send_probe(struct tcp_conn *c)
{
    tcp_xmit(c, c->snd_una - 1, TCP_ACK, NULL, 0, 0);
}

void tcp_xmit_keepalive(struct tcp_conn *c)
{
    tcp_xmit(c, c->snd_nxt - 1, TCP_ACK, NULL, 0, 0);
}

/* SYN (active open) or SYN-ACK (passive): our MSS, and window scaling when
 * we open or the peer offered it (RFC 7323 §1.3). */
void tcp_send_syn(struct tcp_conn *c)
{
    struct tcp_opts o = { .has_mss = 1, .mss = tcp_our_mss(c->t, c->raddr) };
    int syn_ack = c->state == TCP_SYN_RECEIVED;
    if (!syn_ack || (c->flags & TCP_F_WS_OK)) {
        o.has_ws = 1;
        o.ws = c->rcv_ws;
    }
    if (!syn_ack || (c->flags & TCP_F_SACK_OK))
        o.sack_ok = 1;
    tcp_xmit(c, c->iss, (uint8_t)(TCP_SYN | (syn_ack ? TCP_ACK : 0)), &o, 0, 0);
    if (c->snd_nxt == c->iss)
        c->snd_nxt = c->snd_max = c->iss + 1;
}

/* A reset for a segment that belongs to no connection (RFC 9293 §3.10.7.1). */
void tcp_reply_rst(struct tcp_layer *t, const struct tcp_seg *s)
{
    if (s->h.flags & TCP_RST) {
        TCP_COUNT(t, rst_ignored, NULL);     /* never answer a reset */
        return;
    }
    struct tcp_conn tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.t = t;
    tmp.laddr = s->dst;
    tmp.raddr = s->src;
    tmp.lport = s->h.dport;
    tmp.rport = s->h.sport;
    tmp.rcv_nxt = s->h.seq + s->seq_len;
    tmp.rcv_adv = tmp.rcv_nxt;
    TCP_COUNT(t, rst_sent_no_conn, NULL);
    if (s->h.flags & TCP_ACK)
        tcp_xmit(&tmp, s->h.ack, TCP_RST, NULL, 0, 0);
    else
        tcp_xmit(&tmp, 0, TCP_RST | TCP_ACK, NULL, 0, 0);
}

/* Is our FIN still to be sent (first time, or again after a time-out)?
 * Once queued, no data follows it, so it sits at SND.UNA + queued bytes. */
static int tcp_fin_pending(const struct tcp_conn *c)
{
    return (c->flags & (TCP_F_FIN_QUEUED | TCP_F_FIN_ACKED)) == TCP_F_FIN_QUEUED &&
           seq_leq(c->snd_nxt, c->snd_una + c->snd.len);
}

/* May a segment of n bytes go now? Nagle and sender SWS avoidance. */
static int tcp_may_send(const struct tcp_conn *c, uint32_t n, uint32_t unsent)
{
    if (n >= c->mss)
        return 1;
    if (n == unsent && ((c->flags & TCP_F_NODELAY) || tcp_flight(c) == 0))
        return 1;
    return c->max_snd_wnd && n >= c->max_snd_wnd / 2;
}

static int tcp_can_send_data(const struct tcp_conn *c)
{
    return c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT ||
           c->state == TCP_FIN_WAIT_1 || c->state == TCP_CLOSING ||
           c->state == TCP_LAST_ACK;
}

/* Send one segment of new data (and perhaps the FIN) at SND.NXT. Returns 1
 * when something was sent, 0 when nothing may go now. */
static int tcp_output_one(struct tcp_conn *c, int force)
{
    uint32_t off = c->snd_nxt - c->snd_una;
    int fin_pending = tcp_fin_pending(c);
    if (off > c->snd.len)
        return 0;
    uint32_t unsent = c->snd.len - off;
    uint32_t flight = tcp_flight(c), pipe = tcp_pipe(c);
    uint32_t cwnd = c->cwnd;
    if (!(c->flags & TCP_F_IN_RECOVERY) && c->dupacks < TCP_DUPACK_THRESH)
        cwnd += c->dupacks * (uint32_t)c->mss;  /* RFC 3042 limited transmit */
    uint32_t by_rwnd = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
    uint32_t by_cwnd = cwnd > pipe ? cwnd - pipe : 0;
    uint32_t usable = by_rwnd < by_cwnd ? by_rwnd : by_cwnd;
    uint32_t n = unsent < usable ? unsent : usable;
    uint32_t most = tcp_seg_max(c);
    if (n > most)
        n = most;
    if (n > c->mss && n < unsent)
        n -= n % c->mss;    /* whole segments: only the last may be short */
    int fin = fin_pending && n == unsent;
    if (n == 0 && !(fin && (usable > 0 || unsent == 0)))
        return 0;
    if (n > 0 && !force && !tcp_may_send(c, n, unsent))
        return 0;
    uint8_t flags = TCP_ACK | (n && n == unsent ? TCP_PSH : 0) | (fin ? TCP_FIN : 0);
    uint32_t seq = c->snd_nxt;
    if (tcp_xmit(c, seq, flags, NULL, off, n) < 0)
        return 0;
    c->snd_nxt += n + (uint32_t)fin;
    if (seq_lt(seq, c->snd_max)) {
        /* Only an RTO moves SND.NXT back (go-back-N from SND.UNA). */
        tcp_ev_retransmit(c, "rto", seq, n, 1);
        c->flags &= ~TCP_F_RTT_TIMING;      /* Karn: no sample from these */
    } else if (!(c->flags & TCP_F_RTT_TIMING)) {
        c->flags |= TCP_F_RTT_TIMING;
        c->rtt_seq = seq;
        c->rtt_start = c->t->now;
    }
    if (seq_gt(c->snd_nxt, c->snd_max))
        c->snd_max = c->snd_nxt;
    if (fin) {
        c->flags |= TCP_F_FIN_SENT;
        c->fin_seq = seq + n;
    }
    return 1;
}

int tcp_output(struct tcp_conn *c)
{
    int sent = 0;
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
        if (c->snd_nxt == c->iss) {
            tcp_send_syn(c);
            sent = 1;
        }
    } else if (tcp_can_send_data(c)) {
        /* Bounded: a window of at most 1 GiB in segments of >= 64 bytes. */
        for (int i = 0; i < (1 << 24) && tcp_output_one(c, 0); i++)
            sent++;
    }
    if (!sent && (c->flags & TCP_F_ACK_NOW) && c->state != TCP_CLOSED &&
        c->state != TCP_SYN_SENT)
        tcp_send_ack(c);
    tcp_timer_rearm(c);
    return sent;
}

/* Only an ACK would go: no data or FIN waits to be sent. (Data goes at
 * once, as the ACKs bring room for it: the ACK rides on it, and holding
 * it back would only stretch the ACK clock, which loss recovery needs.) */
static int tcp_only_ack_due(const struct tcp_conn *c)
{
    uint32_t off = c->snd_nxt - c->snd_una;
    return off >= c->snd.len && !tcp_fin_pending(c) &&
           (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT ||
            c->state == TCP_FIN_WAIT_2);
}

void tcp_output_batched(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (!t->batching || (c->flags & TCP_F_ACK_AT_ONCE) || !tcp_only_ack_due(c) ||
        (!(c->flags & TCP_F_OUT_PENDING) && t->nbatch == TCP_BATCH_MAX)) {
        tcp_output(c);
        return;
    }
    if (c->flags & TCP_F_OUT_PENDING)
        return;
    c->flags |= TCP_F_OUT_PENDING;
    t->batch[t->nbatch++] = (struct tcp_tuple){
        .laddr = c->laddr, .raddr = c->raddr,
        .lport = c->lport, .rport = c->rport,
    };
    t->stats.output_deferred++;
}

void tcp_batch_begin(struct tcp_layer *t)
{
    t->batching = 1;
    t->nbatch = 0;
}

/* A connection freed during the batch is not found; one found without
 * the mark is a new one on the same tuple, with nothing deferred. */
void tcp_batch_end(struct tcp_layer *t)
{
    t->batching = 0;
    for (unsigned i = 0; i < t->nbatch; i++) {
        const struct tcp_tuple *k = &t->batch[i];
        struct tcp_conn *c = tcp_conn_find(t, k->laddr, k->lport, k->raddr,
                                           k->rport);
        if (!c || !(c->flags & TCP_F_OUT_PENDING))
            continue;
        c->flags &= ~TCP_F_OUT_PENDING;
        tcp_output(c);
        tcp_conn_settle(c);
    }
    t->nbatch = 0;
}

/* Resend the first unacknowledged segment (fast retransmit, partial ACK),
 * leaving SND.NXT where it is. */
void tcp_retransmit_first(struct tcp_conn *c)
{
    uint32_t n = c->snd.len < c->mss ? c->snd.len : c->mss;
    int fin = (c->flags & TCP_F_FIN_SENT) && n == c->snd.len;
    if (n == 0 && !fin)
        return;
    uint8_t flags = TCP_ACK | (fin ? TCP_FIN : 0) | (n ? TCP_PSH : 0);
    if (tcp_xmit(c, c->snd_una, flags, NULL, 0, n) == 0)
        tcp_ev_retransmit(c, "dupack", c->snd_una, n, 1);
    c->flags &= ~TCP_F_RTT_TIMING;
}

/* Send whatever the window allows now, ignoring Nagle/SWS (the persist
 * timer's override, RFC 9293 §3.8.6.2.1). */
void tcp_output_force(struct tcp_conn *c)
{
    tcp_output_one(c, 1);
}

/* RFC 6675 §4 "pipe": bytes still in the network. SACKed bytes have left
 * it, and so have the holes below the highest SACK that are not yet
 * resent (they are taken as lost). Without SACK it is the flight size. */
uint32_t tcp_pipe(const struct tcp_conn *c)
{
    const struct tcp_ooo *sb = &c->sacked;
    uint32_t flight = tcp_flight(c);
    if (sb->n == 0)
        return flight;
    uint32_t high = sb->end[sb->n - 1];
    uint32_t from = seq_gt(c->rexmit_next, c->snd_una) ? c->rexmit_next : c->snd_una;
    uint32_t lost = seq_lt(from, high) ? high - from : 0;
    for (uint32_t i = 0; i < sb->n; i++) {
        uint32_t a = seq_max(sb->start[i], from), b = sb->end[i];
        if (seq_lt(a, b))
            lost -= b - a;
    }
    uint32_t gone = tcp_ooo_bytes(sb) + lost;
    return flight > gone ? flight - gone : 0;
}

/* The first byte at or after seq that is not SACKed; its hole's end. */
static uint32_t tcp_next_hole(const struct tcp_conn *c, uint32_t seq,
                              uint32_t *hole_end)
{
    const struct tcp_ooo *sb = &c->sacked;
    seq = tcp_ooo_skip(sb, seq);
    *hole_end = sb->end[sb->n - 1];
    for (uint32_t i = 0; i < sb->n; i++)
        if (seq_gt(sb->start[i], seq)) {
            *hole_end = sb->start[i];
            break;
        }
    return seq;
}

/* Loss recovery with SACK (RFC 6675 §5, simplified): resend the holes
 * below the highest SACKed byte, in order, while pipe leaves room in cwnd. */
void tcp_sack_retransmit(struct tcp_conn *c)
{
    const struct tcp_ooo *sb = &c->sacked;
    if (sb->n == 0) {
        tcp_retransmit_first(c);
        return;
    }
    uint32_t high = sb->end[sb->n - 1];
    uint32_t pipe = tcp_pipe(c);
    if (seq_lt(c->rexmit_next, c->snd_una))
        c->rexmit_next = c->snd_una;
    for (int i = 0; i < 256; i++) {
        uint32_t end, seq = tcp_next_hole(c, c->rexmit_next, &end);
        if (!seq_lt(seq, high))
            break;
        uint32_t n = end - seq < c->mss ? end - seq : c->mss;
        if (pipe + n > c->cwnd && i > 0)
            break;          /* the first hole always goes: it is why we are here */
        if (tcp_xmit(c, seq, TCP_ACK, NULL, seq - c->snd_una, n) < 0)
            break;
        tcp_ev_retransmit(c, "sack", seq, n, 1);
        c->rexmit_next = seq + n;
        pipe += n;
    }
    c->flags &= ~TCP_F_RTT_TIMING;
}
