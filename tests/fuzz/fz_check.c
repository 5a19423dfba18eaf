/* tests/fuzz/fz_check.c - the invariants the fuzz targets check after every
 * step (fz_check): what must hold in any state a peer can drive the stack
 * into, whatever it sent.
 *
 * - buffer pool: the buffers in use are exactly those held by ARP queues
 *   and reassembly slots (no frame is in flight between steps);
 * - ARP: every queue's length is its count and at most ARP_QUEUE_MAX;
 * - reassembly: each slot's counts within a datagram's bounds, and none
 *   older than the time-out;
 * - the connection table: conns_now and conns_time_wait match a walk of
 *   the list, the list's links agree, every TCB is found under its own
 *   4-tuple, the hash chains hold exactly the listed TCBs;
 * - listeners: naccept is the accept queue's length, nsyn the rest of
 *   their TCBs, nsyn <= syn_max;
 * - each TCB: SND.UNA <= SND.NXT <= SND.MAX, the send ring holds the bytes
 *   in flight, RCV.NXT <= the advertised edge and the window fits in the
 *   receive ring, out-of-order ranges sorted, disjoint, inside the window,
 *   at most TCP_OOO_MAX, the SACK scoreboard inside [SND.UNA, SND.MAX];
 *   and none that owes the peer data or a FIN, or that the application
 *   closed, outlives two hours of the peer's silence.
 */
#include "eth/loopdev.h"
#include "tests/fuzz/fz.h"

#include "tcp/tcp_conn.h"

static void fz_expect(int ok, const char *what, long a, long b)
{
    if (!ok)
        fz_fail(what, a, b);
}

/* Buffers held by the ARP queues. */
static uint64_t fz_check_arp(const struct arp_layer *arp)
{
    uint64_t held = 0;
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
        const struct arp_entry *e = &arp->cache.e[i];
        unsigned n = 0;
        for (const struct pbuf *pb = e->queue; pb && n <= ARP_QUEUE_MAX;
             pb = pb->next)
            n++;
        fz_expect(n == e->nqueued, "ARP queue length != nqueued", n, e->nqueued);
        fz_expect(n <= ARP_QUEUE_MAX, "ARP queue over ARP_QUEUE_MAX", n, 0);
        fz_expect(e->state != ARP_FREE || n == 0, "free ARP entry holds frames",
                  n, 0);
        fz_expect(e->state != ARP_REACHABLE || n == 0,
                  "reachable ARP entry holds frames", n, 0);
        fz_expect(e->state != ARP_INCOMPLETE || e->tries <= ARP_MAX_TRIES,
                  "ARP tries over ARP_MAX_TRIES", e->tries, 0);
        held += n;
    }
    return held;
}

/* Buffers held by reassembly slots. The timers have run at now, so none
 * is older than the time-out. */
static uint64_t fz_check_reass(const struct ipv4_reass *r, uint64_t now)
{
    uint64_t held = 0;
    for (unsigned i = 0; i < IPV4_REASS_SLOTS; i++) {
        const struct ipv4_reass_slot *s = &r->slot[i];
        if (!s->buf)
            continue;
        held++;
        fz_expect(s->received <= s->high, "reass received > high",
                  s->received, s->high);
        fz_expect(s->high <= IPV4_MAX_LEN, "reass high past 65,535", s->high, 0);
        fz_expect(!s->have_last || s->total >= s->high,
                  "reass total < high", s->total, s->high);
        fz_expect(s->hdr_len <= IPV4_HLEN_MAX && s->quote_len <= sizeof s->hdr,
                  "reass header lengths", s->hdr_len, s->quote_len);
        fz_expect(s->started + IPV4_REASS_TIMEOUT_MS > now,
                  "reass slot outlived the time-out", (long)(now - s->started),
                  0);
    }
    return held;
}

static void fz_check_ooo(const struct tcp_ooo *o, uint32_t lo, uint32_t hi,
                         const char *what)
{
    fz_expect(o->n <= TCP_OOO_MAX, what, (long)o->n, -1);
    for (uint32_t i = 0; i < o->n; i++) {
        fz_expect(seq_lt(o->start[i], o->end[i]), what, (long)i, 0);
        fz_expect(seq_geq(o->start[i], lo) && seq_leq(o->end[i], hi), what,
                  (long)(o->start[i] - lo), (long)(hi - o->end[i]));
        if (i + 1 < o->n)
            fz_expect(seq_lt(o->end[i], o->start[i + 1]), what, (long)i, 1);
    }
}

/* Every timer that holds a TCB for a silent peer gives up well within
 * this: retransmission (max_retries with back-off to rto_max), zero-window
 * probing, FIN-WAIT-2 and TIME-WAIT (2 MSL). */
#define FZ_SILENCE_MAX_MS (2 * 3600 * 1000ull)

/* The TCBs that owe the peer something, and since when the peer has
 * been silent while they did (rebuilt at each check from the live TCBs). */
#define FZ_OWING_MAX 64
struct fz_owing {
    const struct tcp_conn *c;
    uint32_t iss;
    uint64_t last_rx, since;
};
static struct fz_owing fz_owing[2][FZ_OWING_MAX];
static unsigned fz_nowing[2], fz_cur;

void fz_check_reset(void)
{
    fz_nowing[0] = fz_nowing[1] = 0;
}

/* A TCB with something to deliver (bytes in the send ring, a FIN not yet
 * acknowledged), or one the application gave back, must not outlive a
 * peer that stays silent for FZ_SILENCE_MAX_MS while it does: else a peer
 * that goes away holds it for ever (DESIGN.md §3.8). */
static void fz_check_silence(const struct tcp_conn *c, uint64_t now)
{
    int owes = c->snd.len > 0 || ((c->flags & TCP_F_FIN_QUEUED) &&
                                  !(c->flags & TCP_F_FIN_ACKED));
    if (c->state == TCP_CLOSED || c->state == TCP_LISTEN ||
        (!owes && !(c->flags & TCP_F_USER_CLOSED)))
        return;
    uint64_t since = now;
    const struct fz_owing *prev = fz_owing[!fz_cur];
    for (unsigned i = 0; i < fz_nowing[!fz_cur]; i++)
        if (prev[i].c == c && prev[i].iss == c->iss &&
            prev[i].last_rx == c->last_rx)
            since = prev[i].since;
    if (fz_nowing[fz_cur] < FZ_OWING_MAX)
        fz_owing[fz_cur][fz_nowing[fz_cur]++] =
            (struct fz_owing){ c, c->iss, c->last_rx, since };
    fz_expect(now - since <= FZ_SILENCE_MAX_MS, "TCB outlives a silent peer",
              (long)((now - since) / 1000), c->state);
}

static void fz_check_conn(const struct tcp_conn *c, uint64_t now)
{
    if (c->state == TCP_LISTEN)
        return;                     /* a passive TCB before its SYN-ACK */
    fz_check_silence(c, now);
    fz_expect(seq_leq(c->snd_una, c->snd_nxt), "SND.UNA > SND.NXT",
              (long)c->snd_una, (long)c->snd_nxt);
    fz_expect(seq_leq(c->snd_nxt, c->snd_max), "SND.NXT > SND.MAX",
              (long)c->snd_nxt, (long)c->snd_max);
    fz_expect(c->snd.len <= c->snd.cap && c->rcv.len <= c->rcv.cap,
              "ring over capacity", c->snd.len, c->rcv.len);
    /* SYN and FIN take a number each but no byte of the ring. */
    fz_expect(c->snd_max - c->snd_una <= c->snd.len + 2,
              "more in flight than the send ring holds",
              (long)(c->snd_max - c->snd_una), c->snd.len);
    fz_check_ooo(&c->sacked, c->snd_una, c->snd_max,
                 "SACK scoreboard outside [SND.UNA, SND.MAX]");
    if (c->state == TCP_SYN_SENT)
        return;                     /* nothing received yet */
    fz_expect(seq_leq(c->rcv_nxt, c->rcv_adv), "RCV.NXT past the edge",
              (long)c->rcv_nxt, (long)c->rcv_adv);
    uint32_t cap = c->rcv.lim ? c->rcv.lim : c->rcvbuf;
    fz_expect((uint64_t)c->rcv.len + (c->rcv_adv - c->rcv_nxt) <= cap,
              "receive window larger than the ring's room",
              (long)(c->rcv_adv - c->rcv_nxt), c->rcv.len);
    fz_check_ooo(&c->ooo, c->rcv_nxt + 1, c->rcv_adv,
                 "out-of-order range outside (RCV.NXT, edge]");
}

static void fz_check_listeners(const struct tcp_layer *t)
{
    for (const struct tcp_listener *l = t->listeners; l; l = l->next) {
        unsigned q = 0, all = 0;
        for (const struct tcp_conn *c = l->accept_head; c && q <= 4096;
             c = c->qnext)
            q++;
        for (const struct tcp_conn *c = t->all; c; c = c->next)
            all += c->listener == l;
        fz_expect(q == l->naccept, "accept queue length != naccept", q,
                  l->naccept);
        fz_expect(all - q == l->nsyn, "SYN queue count != nsyn", all - q,
                  l->nsyn);
        fz_expect(l->nsyn <= l->syn_max, "nsyn over syn_max", l->nsyn,
                  l->syn_max);
    }
}

static void fz_check_tcp(struct tcp_layer *t, uint64_t now)
{
    fz_cur = !fz_cur;
    fz_nowing[fz_cur] = 0;
    uint64_t n = 0, tw = 0, ring_bytes = 0;
    const struct tcp_conn *prev = NULL;
    for (const struct tcp_conn *c = t->all; c; c = c->next) {
        fz_expect(c->prev == prev, "TCB list links broken", (long)n, 0);
        n++;
        fz_expect(n <= t->cfg.max_conns, "more TCBs than max_conns", (long)n,
                  t->cfg.max_conns);
        tw += c->state == TCP_TIME_WAIT;
        ring_bytes += (uint64_t)c->snd.cap + c->rcv.cap;
        fz_expect(tcp_conn_find(t, c->laddr, c->lport, c->raddr, c->rport) == c,
                  "TCB not found under its own 4-tuple", c->lport, c->rport);
        fz_check_conn(c, now);
        prev = c;
    }
    fz_expect(n == t->stats.conns_now, "conns_now != TCBs listed", (long)n,
              (long)t->stats.conns_now);
    fz_expect(tw == t->stats.conns_time_wait, "conns_time_wait != TIME-WAITs",
              (long)tw, (long)t->stats.conns_time_wait);
    uint64_t twl = 0;
    for (const struct tcp_conn *c = t->tw_head; c && twl <= n; c = c->twnext)
        twl += c->state == TCP_TIME_WAIT;
    fz_expect(twl == tw, "TIME-WAIT list != TIME-WAITs", (long)twl, (long)tw);
    fz_expect(ring_bytes == t->stats.mem_rings, "mem_rings != ring sizes",
              (long)ring_bytes, (long)t->stats.mem_rings);
    fz_expect(t->timers.n <= n, "more timers than TCBs", (long)t->timers.n,
              (long)n);
    fz_expect(tcp_timer_check(t) == 0, "a TCB's deadline is not where the "
              "timer heap has it", (long)tcp_timer_check(t), 0);
    uint64_t hashed = 0;
    for (uint32_t b = 0; b < t->nbuckets; b++)
        for (const struct tcp_conn *c = t->buckets[b]; c && hashed <= n;
             c = c->hnext)
            hashed++;
    fz_expect(hashed == n, "hash chains != TCBs listed", (long)hashed, (long)n);
    fz_check_listeners(t);
}

void fz_check_stack(struct stack *s, uint64_t now)
{
    /* ... and the loopback device's queue: the stack's frames to itself,
     * waiting for the receive path. */
    uint64_t held = fz_check_arp(&s->arp) + fz_check_reass(&s->ip.reass, now) +
                    loopdev_pending(s->lo_raw);
    fz_expect(s->pool.stats.in_use == held,
              "pool: buffers in use != buffers held",
              (long)s->pool.stats.in_use, (long)held);
    fz_check_tcp(&s->tcp, now);
}

void fz_check(struct fz_env *e)
{
    fz_check_stack(&e->s, e->now);
}
