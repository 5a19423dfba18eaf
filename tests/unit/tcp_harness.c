/* tests/unit/tcp_harness.c - two stacks on a memdev pair, a fake clock, a
 * filtering wire and recording connections (see tcp_harness.h).
 *
 * The harness never reads a clock: every call into a stack passes h->now.
 * Every loop is bounded; a bound that is hit fails the running test rather
 * than hanging the suite.
 */
#include "tests/unit/tcp_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "eth/memdev.h"
#include "tests/unit/unit.h"

#define TH_PUMP_ROUNDS 100000
#define TH_RX_BUDGET 1024
#define TH_READ_CHUNK 16384

static const uint8_t th_mac[2][ETH_ALEN] = {
    { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01 },
    { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x02 },
};

uint8_t th_pattern(uint32_t seed, uint64_t off)
{
    /* A multiplicative hash of the offset: neighbouring bytes differ and
     * the sequence does not repeat with any period a window or ring size
     * could hide. */
    uint32_t x = (uint32_t)off * 2654435761u + seed + (uint32_t)(off >> 32);
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return (uint8_t)x;
}

void th_config_default(struct th_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < 2; i++) {
        struct stack_config *c = &o->cfg[i];
        stack_config_default(c);
        memcpy(c->mac, th_mac[i], ETH_ALEN);
        c->ip.addr = i == TH_A ? TH_A_IP : TH_B_IP;
        c->pool_small = 128;
        c->pool_large = 2;
        c->seed = 100 + (uint64_t)i;
        c->secret.k0 = 0x7468746573746b30ull;
        c->secret.k1 = 0x1000 + (uint64_t)i;   /* distinct per stack */
        c->tcp.sndbuf = TH_BUF;
        c->tcp.rcvbuf = TH_BUF;
    }
    o->t0 = TH_T0;
    o->wire_depth = 512;
}

/* ---- the wire ----------------------------------------------------------- */

/* Parse the TCP segment in an Ethernet frame; 0 when it is one, -1 when
 * it is not TCP, -2 when it is an IPv4 fragment (of anything). */
static int th_parse_frame(const uint8_t *f, size_t len, struct th_seg *s)
{
    struct eth_hdr eh;
    struct ipv4_hdr ih;
    struct tcp_hdr th;
    if (eth_parse(f, len, &eh) < 0 || eh.type != ETH_TYPE_IPV4)
        return -1;
    if (ipv4_parse(f + ETH_HLEN, len - ETH_HLEN, &ih) != IPV4_OK)
        return -1;
    if (ipv4_is_fragment(&ih))
        return -2;
    if (ih.proto != IPV4_PROTO_TCP)
        return -1;
    const uint8_t *seg = f + ETH_HLEN + ih.hlen;
    size_t slen = ih.total_len - ih.hlen;
    if (tcp_parse(seg, slen, &th) != TCP_OK)
        return -1;
    s->sport = th.sport;
    s->dport = th.dport;
    s->seq = th.seq;
    s->ack = th.ack;
    s->flags = th.flags;
    s->wnd = th.wnd;
    s->len = (uint32_t)(slen - th.hlen);
    s->hlen = th.hlen;
    s->nsack = th.opts.nsack;
    return 0;
}

static int th_rule_matches(const struct th_rule *r, int dir,
                           const struct th_seg *s)
{
    if (r->dir != TH_ANY && r->dir != dir)
        return 0;
    if ((s->flags & r->flags_mask) != r->flags_val)
        return 0;
    if (r->data >= 0 && (s->len > 0) != (r->data > 0))
        return 0;
    if ((r->dport_lo || r->dport_hi) &&
        (s->dport < r->dport_lo || s->dport > r->dport_hi))
        return 0;
    return 1;
}

static enum th_act th_decide(struct th *h, int dir, const struct th_seg *s,
                             unsigned *hold)
{
    *hold = 0;
    if (h->hook) {
        int a = h->hook(h, dir, s);
        if (a >= 0) {
            *hold = h->hook_hold;
            return (enum th_act)a;
        }
    }
    for (unsigned i = 0; i < h->nrules; i++) {
        struct th_rule *r = &h->rules[i];
        if (!th_rule_matches(r, dir, s))
            continue;
        if (++r->seen <= r->skip)
            continue;
        if (r->count && r->done >= r->count)
            continue;
        r->done++;
        *hold = r->hold;
        return r->act;
    }
    return TH_PASS;
}

static void th_stash(struct th *h, int dir, const uint8_t *f, size_t len,
                     unsigned after)
{
    CU_ASSERT_FATAL(h->nheld < TH_MAX_HELD);
    struct th_held *x = &h->held[h->nheld++];
    x->frame = malloc(len);
    CU_ASSERT_FATAL(x->frame != NULL);
    memcpy(x->frame, f, len);
    x->len = len;
    x->dir = dir;
    x->release_at = h->nseg[dir] + after;
}

/* The memdev filter of one direction: log, then apply hook and rules. */
static int th_filter(struct th *h, int dir, uint8_t *f, size_t *len)
{
    struct th_seg s;
    if (h->bypass)
        return 1;           /* a frame the harness puts back */
    int rc = th_parse_frame(f, *len, &s);
    if (rc == -2)
        h->nfrag[dir]++;
    if (rc < 0)
        return 1;           /* ARP, or a fragment */
    s.t = h->now;
    unsigned hold;
    s.act = th_decide(h, dir, &s, &hold);
    if (h->nseg[dir] < TH_LOG_MAX)
        h->log[dir][h->nseg[dir]] = s;
    h->nseg[dir]++;
    switch (s.act) {
    case TH_DROP:
        h->ndropped[dir]++;
        return 0;
    case TH_DUP:
        th_stash(h, dir, f, *len, 0);
        return 1;
    case TH_HOLD:
        th_stash(h, dir, f, *len, hold);
        return 0;
    default:
        return 1;
    }
}

static int th_filter_a(void *ctx, uint8_t *f, size_t *len, size_t cap)
{
    (void)cap;
    return th_filter(ctx, TH_A_TO_B, f, len);
}

static int th_filter_b(void *ctx, uint8_t *f, size_t *len, size_t cap)
{
    (void)cap;
    return th_filter(ctx, TH_B_TO_A, f, len);
}

/* Send a frame from the device of `from`, past the filter. */
static void th_wire_send(struct th *h, int from, const uint8_t *f, size_t len)
{
    uint8_t *copy = malloc(len);
    CU_ASSERT_FATAL(copy != NULL);
    memcpy(copy, f, len);
    struct pbuf pb = { .data = copy, .base = copy, .len = len, .cap = len };
    h->bypass = 1;
    netdev_send(h->mem[from], &pb);
    h->bypass = 0;
    free(copy);
}

/* Put back held frames that are due (all of them when force is set).
 * Returns how many went back on the wire. */
static unsigned th_release(struct th *h, int force)
{
    unsigned n = 0;
    for (unsigned i = 0; i < h->nheld;) {
        struct th_held *x = &h->held[i];
        if (!force && h->nseg[x->dir] < x->release_at) {
            i++;
            continue;
        }
        th_wire_send(h, x->dir, x->frame, x->len);
        free(x->frame);
        h->held[i] = h->held[--h->nheld];
        n++;
    }
    return n;
}

/* ---- life --------------------------------------------------------------- */

struct th *th_new(const struct th_opts *o)
{
    struct th_opts def;
    if (!o) {
        th_config_default(&def);
        o = &def;
    }
    struct th *h = calloc(1, sizeof *h);
    CU_ASSERT_FATAL(h != NULL);
    h->log[0] = calloc(TH_LOG_MAX, sizeof(struct th_seg));
    h->log[1] = calloc(TH_LOG_MAX, sizeof(struct th_seg));
    CU_ASSERT_FATAL(h->log[0] != NULL && h->log[1] != NULL);
    struct netdev *da, *db;
    CU_ASSERT_FATAL(memdev_pair(&da, &db, o->wire_depth, 1500) == 0);
    h->mem[TH_A] = da;
    h->mem[TH_B] = db;
    struct netdev *dev[2] = { da, db };
    for (int i = 0; i < 2; i++)
        if (o->fault[i]) {
            dev[i] = h->fault[i] = faultdev_wrap(dev[i], o->fault[i], NULL);
            CU_ASSERT_FATAL(h->fault[i] != NULL);
        }
    CU_ASSERT_FATAL(stack_init(&h->s[TH_A], &o->cfg[TH_A], dev[TH_A]) == 0);
    CU_ASSERT_FATAL(stack_init(&h->s[TH_B], &o->cfg[TH_B], dev[TH_B]) == 0);
    memdev_set_filter(da, th_filter_a, h);
    memdev_set_filter(db, th_filter_b, h);
    h->now = o->t0;
    h->max_iters = 200000;
    h->check_pool = 1;
    for (int i = 0; i < 2; i++) {
        h->lis[i].h = h;
        h->lis[i].side = i;
        h->lis[i].auto_read = 1;
    }
    return h;
}

void th_free(struct th *h)
{
    if (h->check_pool) {
        CU_ASSERT_EQUAL(h->s[TH_A].pool.stats.in_use, 0);
        CU_ASSERT_EQUAL(h->s[TH_B].pool.stats.in_use, 0);
    }
    for (unsigned i = 0; i < h->nheld; i++)
        free(h->held[i].frame);
    stack_destroy(&h->s[TH_A]);
    stack_destroy(&h->s[TH_B]);
    free(h->log[0]);
    free(h->log[1]);
    free(h);
}

/* ---- driving ------------------------------------------------------------ */

void th_pump(struct th *h)
{
    for (int round = 0; round < TH_PUMP_ROUNDS; round++) {
        unsigned n = 0;
        for (int i = 0; i < 2; i++) {
            if (h->fault[i])
                faultdev_poll(h->fault[i], h->now);
            int r = stack_rx(&h->s[i], TH_RX_BUDGET, h->now);
            n += r > 0 ? (unsigned)r : 0;
        }
        stack_poll(&h->s[TH_A], h->now);
        stack_poll(&h->s[TH_B], h->now);
        n += th_release(h, 0);
        if (n == 0 && memdev_pending(h->mem[TH_A]) == 0 &&
            memdev_pending(h->mem[TH_B]) == 0 && th_release(h, 1) == 0)
            return;
    }
    CU_FAIL("th_pump: the wire never went quiet");
}

static uint64_t th_next_deadline(const struct th *h)
{
    uint64_t d = ts_min_deadline(stack_next_deadline(&h->s[TH_A]),
                                 stack_next_deadline(&h->s[TH_B]));
    for (int i = 0; i < 2; i++)
        if (h->fault[i])
            d = ts_min_deadline(d, faultdev_next_deadline(h->fault[i]));
    return d;
}

/* One step: pump, then move the clock to the next deadline (at least 1 ms
 * on, at most to limit). */
static void th_step(struct th *h, uint64_t limit)
{
    th_pump(h);
    /* Every deadline is where the timer heap says it is (tcp_timer.c). */
    CU_ASSERT_EQUAL(tcp_timer_check(&h->s[TH_A].tcp), 0);
    CU_ASSERT_EQUAL(tcp_timer_check(&h->s[TH_B].tcp), 0);
    uint64_t d = th_next_deadline(h);
    if (d <= h->now)
        d = h->now + 1;
    h->now = d < limit ? d : limit;
    th_pump(h);
}

void th_advance(struct th *h, uint64_t ms)
{
    uint64_t target = h->now + ms;
    for (uint64_t i = 0; i < h->max_iters; i++) {
        if (h->now >= target) {
            th_pump(h);
            return;
        }
        th_step(h, target);
    }
    CU_FAIL("th_advance: too many steps");
}

int th_run_until(struct th *h, int (*pred)(struct th *), uint64_t max_ms)
{
    uint64_t target = h->now + max_ms;
    th_pump(h);
    for (uint64_t i = 0; i < h->max_iters; i++) {
        if (pred(h))
            return 1;
        if (h->now >= target)
            return 0;
        th_step(h, target);
    }
    CU_FAIL("th_run_until: too many steps");
    return pred(h);
}

int th_all_done(struct th *h)
{
    for (unsigned i = 0; i < h->nconns; i++) {
        const struct th_conn *tc = &h->conns[i];
        if (tc->tx_done < tc->tx_total)
            return 0;
        const struct th_conn *p = th_peer(h, tc);
        if (p && p->rx_bytes < tc->tx_total)
            return 0;
        if (p && tc->tx_shutdown && !p->rx_eof)
            return 0;
    }
    return 1;
}

/* ---- connections -------------------------------------------------------- */

void th_read(struct th_conn *tc)
{
    uint8_t buf[TH_READ_CHUNK];
    for (int i = 0; i < 1 << 20 && tc->c; i++) {
        ssize_t n = tcp_recv(tc->c, buf, sizeof buf, tc->h->now);
        if (n == 0) {
            tc->rx_eof = 1;
            return;
        }
        if (n < 0) {
            if (n != -EAGAIN)
                tc->rx_err = (int)n;
            return;
        }
        for (ssize_t k = 0; k < n; k++) {
            uint64_t off = tc->rx_bytes + (uint64_t)k;
            if (!tc->rx_check) {
                if (off < TH_CAPTURE)
                    tc->capture[off] = buf[k];
            } else if (!tc->rx_bad && buf[k] != th_pattern(tc->rx_seed, off)) {
                tc->rx_bad = off + 1;
            }
        }
        tc->rx_bytes += (uint64_t)n;
    }
}

static void th_write(struct th_conn *tc)
{
    uint8_t buf[TH_READ_CHUNK];
    while (tc->c && tc->tx_done < tc->tx_total) {
        uint64_t left = tc->tx_total - tc->tx_done;
        size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
        for (size_t k = 0; k < n; k++)
            buf[k] = th_pattern(tc->tx_seed, tc->tx_done + k);
        ssize_t r = tcp_send(tc->c, buf, n, tc->h->now);
        if (r <= 0)
            break;
        tc->tx_done += (uint64_t)r;
    }
    if (tc->c && tc->tx_shutdown && !tc->tx_shut &&
        tc->tx_done == tc->tx_total) {
        tc->tx_shut = 1;
        CU_ASSERT_EQUAL(tcp_shutdown(tc->c, tc->h->now), 0);
    }
}

static void th_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    struct th_conn *tc = ctx;
    if (!tc->c)
        tc->c = c;
    if (tc->c != c)                     /* events reach their own owner */
        CU_FAIL("event for another connection");
    tc->ev_all |= ev;
    tc->n_events++;
    if (ev & TCP_EV_CONNECTED) {
        tc->n_connected++;
        tc->connected_at = tc->h->now;
    }
    if (ev & TCP_EV_ERROR) {
        tc->n_error++;
        tc->err_seen = tcp_conn_error(c);
        tc->error_at = tc->h->now;
        struct th_conn *other = tc->abort_on_error;
        if (other && other->c) {
            tcp_abort(other->c, tc->h->now);
            other->c = NULL;
        }
    }
    if (ev & TCP_EV_EOF)
        tc->n_eof++;
    if (ev & TCP_EV_READABLE)
        tc->n_readable++;
    if (ev & TCP_EV_WRITABLE)
        tc->n_writable++;
    if ((ev & TCP_EV_READABLE) && tc->auto_read)
        th_read(tc);
    if (ev & (TCP_EV_WRITABLE | TCP_EV_CONNECTED))
        th_write(tc);
}

static struct th_conn *th_slot(struct th *h, int side)
{
    CU_ASSERT_FATAL(h->nconns < TH_MAX_CONNS);
    struct th_conn *tc = &h->conns[h->nconns++];
    memset(tc, 0, sizeof *tc);
    tc->h = h;
    tc->side = side;
    tc->auto_read = 1;
    tc->rx_check = 1;
    /* Each direction's stream gets its own pattern (seeded by the
     * sender's side), so bytes crossing the wrong way would show. */
    tc->tx_seed = 0x5eed0000u + (uint32_t)side;
    tc->rx_seed = 0x5eed0000u + (uint32_t)(1 - side);
    return tc;
}

struct th_conn *th_connect(struct th *h, int side, uint16_t lport,
                           uint32_t dst, uint16_t dport)
{
    struct th_conn *tc = th_slot(h, side);
    int err = 0;
    tc->c = tcp_connect(&h->s[side].tcp, lport, dst, dport, th_event, tc,
                        h->now, &err);
    CU_ASSERT_EQUAL(err, 0);
    CU_ASSERT_FATAL(tc->c != NULL);
    return tc;
}

static void th_accept_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    struct th_listen *tl = ctx;
    (void)c;
    if (!(ev & TCP_EV_ACCEPT) || tl->hold)
        return;
    for (int i = 0; i < TH_MAX_CONNS; i++) {
        if (!tl->l->accept_head)
            return;
        struct th_conn *tc = th_slot(tl->h, tl->side);
        tc->auto_read = tl->auto_read;
        tc->c = tcp_accept(tl->l, th_event, tc);
        CU_ASSERT_FATAL(tc->c != NULL);
        tl->accepted++;
    }
}

struct tcp_listener *th_listen(struct th *h, int side, uint16_t port,
                               unsigned backlog)
{
    struct th_listen *tl = &h->lis[side];
    int err = 0;
    tl->l = tcp_listen(&h->s[side].tcp, 0, port, backlog, th_accept_event, tl,
                       &err);
    CU_ASSERT_EQUAL(err, 0);
    CU_ASSERT_FATAL(tl->l != NULL);
    return tl->l;
}

void th_unlisten(struct th *h, int side)
{
    CU_ASSERT_FATAL(h->lis[side].l != NULL);
    tcp_unlisten(h->lis[side].l);
    h->lis[side].l = NULL;
}

struct th_conn *th_peer(struct th *h, const struct th_conn *tc)
{
    if (!tc->c)
        return NULL;
    uint32_t la, ra;
    uint16_t lp, rp;
    tcp_conn_addrs(tc->c, &la, &lp, &ra, &rp);
    for (unsigned i = 0; i < h->nconns; i++) {
        struct th_conn *p = &h->conns[i];
        if (p == tc || p->side == tc->side || !p->c)
            continue;
        uint32_t pla, pra;
        uint16_t plp, prp;
        tcp_conn_addrs(p->c, &pla, &plp, &pra, &prp);
        if (plp == rp && prp == lp && pla == ra && pra == la)
            return p;
    }
    return NULL;
}

void th_established_pair(struct th *h, uint16_t port, struct th_conn **a,
                         struct th_conn **b)
{
    if (!h->lis[TH_B].l)
        th_listen(h, TH_B, port, 8);
    *a = th_connect(h, TH_A, 0, TH_B_IP, port);
    th_pump(h);
    *b = th_peer(h, *a);
    CU_ASSERT_FATAL(*b != NULL);
    CU_ASSERT_EQUAL_FATAL(tcp_conn_state((*a)->c), TCP_ESTABLISHED);
    CU_ASSERT_EQUAL_FATAL(tcp_conn_state((*b)->c), TCP_ESTABLISHED);
}

void th_close(struct th_conn *tc)
{
    CU_ASSERT_FATAL(tc->c != NULL);
    tcp_close(tc->c, tc->h->now);
    tc->c = NULL;
}

void th_send_stream(struct th_conn *tc, uint64_t n, int shutdown)
{
    tc->tx_total += n;
    tc->tx_shutdown = shutdown;
    th_write(tc);
}

/* ---- rules and raw frames ------------------------------------------------ */

struct th_rule *th_rule_add(struct th *h, int dir, uint8_t flags_mask,
                            uint8_t flags_val, int data, unsigned skip,
                            unsigned count, enum th_act act)
{
    CU_ASSERT_FATAL(h->nrules < TH_MAX_RULES);
    struct th_rule *r = &h->rules[h->nrules++];
    memset(r, 0, sizeof *r);
    r->dir = dir;
    r->flags_mask = flags_mask;
    r->flags_val = flags_val;
    r->data = data;
    r->skip = skip;
    r->count = count;
    r->act = act;
    return r;
}

void th_rules_clear(struct th *h)
{
    h->nrules = 0;
}

size_t th_build(uint8_t *f, const struct th_raw *r)
{
    int to = r->dst == TH_A_IP ? TH_A : TH_B;
    struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
    memcpy(eh.dst, th_mac[to], ETH_ALEN);
    memcpy(eh.src, th_mac[1 - to], ETH_ALEN);
    eth_emit(&eh, f);
    struct tcp_hdr th = { .sport = r->sport, .dport = r->dport, .seq = r->seq,
                          .ack = r->ack, .flags = r->flags, .wnd = r->wnd,
                          .opts = r->opts };
    uint8_t *seg = f + TH_TCP_OFF;
    size_t hl = tcp_emit(&th, seg);
    CU_ASSERT_FATAL(TH_TCP_OFF + hl + r->len <= TH_FRAME_MAX);
    if (r->len)
        memcpy(seg + hl, r->data, r->len);
    size_t slen = hl + r->len;
    struct ipv4_hdr ih = { .hlen = IPV4_HLEN,
                           .total_len = (uint16_t)(IPV4_HLEN + slen),
                           .ttl = 64, .proto = IPV4_PROTO_TCP, .src = r->src,
                           .dst = r->dst, .id = 0x4242 };
    ipv4_emit(&ih, f + ETH_HLEN);
    store_be16(seg + 16, tcp_cksum(r->src, r->dst, seg, slen));
    return TH_TCP_OFF + slen;
}

void th_fix_cksum(uint8_t *f, size_t len)
{
    uint8_t *seg = f + TH_TCP_OFF;
    size_t slen = len - TH_TCP_OFF;
    uint32_t src = load_be32(f + ETH_HLEN + 12);
    uint32_t dst = load_be32(f + ETH_HLEN + 16);
    store_be16(seg + 16, 0);
    store_be16(seg + 16, tcp_cksum(src, dst, seg, slen));
}

void th_inject(struct th *h, int to, const uint8_t *frame, size_t len)
{
    th_wire_send(h, 1 - to, frame, len);
}

long th_find_seg(const struct th *h, int dir, long from, uint8_t mask,
                 uint8_t val)
{
    uint64_t n = h->nseg[dir] < TH_LOG_MAX ? h->nseg[dir] : TH_LOG_MAX;
    for (uint64_t i = from < 0 ? 0 : (uint64_t)from; i < n; i++)
        if ((h->log[dir][i].flags & mask) == val)
            return (long)i;
    return -1;
}

void th_dump(const struct th *h, int dir)
{
    uint64_t n = h->nseg[dir] < TH_LOG_MAX ? h->nseg[dir] : TH_LOG_MAX;
    for (uint64_t i = 0; i < n; i++) {
        const struct th_seg *s = &h->log[dir][i];
        fprintf(stderr, "%s %4llu t=%llu %u->%u %c%c%c%c%c seq=%u ack=%u "
                "len=%u hlen=%u sack=%u wnd=%u%s\n", dir == TH_A_TO_B ? "A>B" : "B>A",
                (unsigned long long)i, (unsigned long long)s->t, s->sport,
                s->dport, s->flags & TCP_SYN ? 'S' : '.',
                s->flags & TCP_ACK ? 'A' : '.', s->flags & TCP_FIN ? 'F' : '.',
                s->flags & TCP_RST ? 'R' : '.', s->flags & TCP_PSH ? 'P' : '.',
                s->seq, s->ack, s->len, s->hlen, s->nsack, s->wnd,
                s->act == TH_DROP ? " DROP" : s->act == TH_DUP ? " DUP"
                : s->act == TH_HOLD ? " HOLD" : "");
    }
}
