/* tcp/tcp_table.c - the layer's bookkeeping: settings, counters, the
 * connection hash table, listeners, TCB creation and release, state changes
 * (each logged like a textbook trace) and event delivery. */
#include "tcp/tcp_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/clock.h"

#define TCP_DESC(n, e, r, h) TS_CTR_DESC(struct tcp_stats, n, e, r, h)
const struct ts_counter_desc tcp_counter_desc[] = { TCP_COUNTERS(TCP_DESC) };
const size_t tcp_counter_count = TS_COUNTERS_LEN(tcp_counter_desc);

void tcp_config_default(struct tcp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sndbuf = 256 * 1024;
    cfg->rcvbuf = 256 * 1024;
    cfg->max_conns = 4096;
    cfg->rto_init = 1000;           /* RFC 6298 §2.1 */
    cfg->rto_min = 200;             /* Linux's floor; RFC 6298 says 1 s */
    cfg->rto_max = 60000;           /* RFC 6298 §2.5 */
    cfg->rto_syn = 3000;            /* RFC 6298 §5.7: 3 s after a lost SYN */
    cfg->max_retries = 12;
    /* RFC 9293 §3.8.3 (MUST-23): R2 for a SYN at least 3 minutes: with
     * RTOs of 1, 2, 4 ... capped at 60 s, the 7th retry goes at 123 s and
     * the open fails at 183 s (6 retries gave up at 127 s). */
    cfg->max_syn_retries = 7;
    cfg->delack_ms = 40;
    cfg->msl_ms = 30000;
    cfg->keepalive_idle = 7200000;  /* RFC 1122 §4.2.3.6: >= 2 hours */
    cfg->keepalive_intvl = 75000;
    cfg->keepalive_count = 9;
    cfg->challenge_ack_per_sec = 10;
}

int tcp_init(struct tcp_layer *t, const struct tcp_config *cfg,
             struct ipv4_layer *ip, struct pbuf_pool *pool,
             struct ts_rand *rand, const struct tcp_key *key,
             const struct ts_log *log)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    t->ip = ip;
    t->pool = pool;
    t->rand = rand;
    t->key = *key;
    t->log = log;
    t->nbuckets = 1024;
    while (t->nbuckets < cfg->max_conns && t->nbuckets < (1u << 20))
        t->nbuckets <<= 1;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    t->port_refs = calloc(65536, sizeof *t->port_refs);
    ts_heap_init(&t->timers);
    return t->buckets && t->port_refs ? 0 : -ENOMEM;
}

void tcp_destroy(struct tcp_layer *t)
{
    while (t->all)
        tcp_conn_free(t->all);
    while (t->listeners) {
        struct tcp_listener *l = t->listeners;
        t->listeners = l->next;
        free(l);
    }
    free(t->buckets);
    t->buckets = NULL;
    free(t->port_refs);
    t->port_refs = NULL;
    ts_heap_free(&t->timers);
}

static uint32_t tcp_bucket(const struct tcp_layer *t, uint32_t laddr,
                           uint16_t lport, uint32_t raddr, uint16_t rport)
{
    return (uint32_t)tcp_tuple_hash(&t->key, laddr, lport, raddr, rport, 0) &
           (t->nbuckets - 1);
}

struct tcp_conn *tcp_conn_find(struct tcp_layer *t, uint32_t laddr,
                               uint16_t lport, uint32_t raddr, uint16_t rport)
{
    struct tcp_conn *c = t->buckets[tcp_bucket(t, laddr, lport, raddr, rport)];
    for (; c; c = c->hnext)
        if (c->lport == lport && c->rport == rport && c->raddr == raddr &&
            c->laddr == laddr)
            return c;
    return NULL;
}

struct tcp_listener *tcp_listener_find(struct tcp_layer *t, uint32_t addr,
                                       uint16_t port)
{
    for (struct tcp_listener *l = t->listeners; l; l = l->next)
        if (l->port == port && (l->addr == 0 || l->addr == addr))
            return l;
    return NULL;
}

int tcp_port_in_use_by_listener(struct tcp_layer *t, uint16_t port)
{
    for (struct tcp_listener *l = t->listeners; l; l = l->next)
        if (l->port == port)
            return 1;
    return 0;
}

int tcp_port_in_use(struct tcp_layer *t, uint16_t port)
{
    return tcp_port_in_use_by_listener(t, port) || t->port_refs[port] > 0;
}

/* Make room for one more TCB: the oldest TIME-WAIT connection goes first
 * (it is only a memory of a finished connection). */
static int tcp_make_room(struct tcp_layer *t)
{
    if (t->stats.conns_now < t->cfg.max_conns)
        return 1;
    struct tcp_conn *oldest = t->tw_head;
    while (oldest && oldest->busy)      /* busy: inside its callback */
        oldest = oldest->twnext;
    if (!oldest)
        return 0;
    tcp_conn_free(oldest);
    return 1;
}

static void tcp_tw_link(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    c->twnext = NULL;
    c->twprev = t->tw_tail;
    if (t->tw_tail)
        t->tw_tail->twnext = c;
    else
        t->tw_head = c;
    t->tw_tail = c;
}

static void tcp_tw_unlink(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    if (c->twprev)
        c->twprev->twnext = c->twnext;
    else
        t->tw_head = c->twnext;
    if (c->twnext)
        c->twnext->twprev = c->twprev;
    else
        t->tw_tail = c->twprev;
    c->twnext = c->twprev = NULL;
}

struct tcp_conn *tcp_conn_new(struct tcp_layer *t, uint32_t laddr,
                              uint16_t lport, uint32_t raddr, uint16_t rport)
{
    if (!tcp_make_room(t)) {
        TCP_COUNT(t, drop_no_tcb, NULL);
        return NULL;
    }
    /* A timer slot for every TCB, so arming one never allocates. */
    struct tcp_conn *c = NULL;
    if (ts_heap_reserve(&t->timers, (uint32_t)t->stats.conns_now + 1) == 0)
        c = calloc(1, sizeof *c);
    if (!c) {
        TCP_COUNT(t, drop_no_tcb, NULL);
        return NULL;
    }
    c->t = t;
    c->laddr = laddr;
    c->lport = lport;
    c->raddr = raddr;
    c->rport = rport;
    c->mss = TCP_MSS_DEFAULT;
    struct ipv4_route rt;
    if (ipv4_route_lookup(t->ip, raddr, laddr, &rt) == 0) {
        c->ifp = rt.ifp;
        if (rt.ifp->flags & NETDEV_F_NO_CSUM)
            c->flags |= TCP_F_NO_CSUM;
    }
    c->rto = t->cfg.rto_init;
    c->rto_at = c->delack_at = c->keep_at = c->tw_at = c->idle_at = TS_NEVER;
    ts_heap_node_init(&c->tnode);
    t->stats.mem_tcb += sizeof *c + sizeof(struct ts_heap_node *);
    c->last_rx = t->now;
    tcp_cc_conn_init(c);
    c->sndbuf = t->cfg.sndbuf;
    c->rcvbuf = t->cfg.rcvbuf;
    c->id = ++t->next_id;
    tcp_ev_snap_init(c);
    uint32_t b = tcp_bucket(t, laddr, lport, raddr, rport);
    c->hnext = t->buckets[b];
    t->buckets[b] = c;
    t->port_refs[lport]++;
    c->next = t->all;
    if (t->all)
        t->all->prev = c;
    t->all = c;
    t->stats.conns_now++;
    return c;
}

/* The rings' limits: their storage comes with the first byte (tcp_buf.h),
 * so this cannot fail any more; the -ENOMEM of its callers is kept for a
 * budget to come. */
int tcp_conn_alloc_buffers(struct tcp_conn *c)
{
    if (c->snd.lim || c->rcv.lim)
        return 0;
    c->snd.mem = c->rcv.mem = &c->t->stats.mem_rings;
    tcp_ring_init(&c->snd, c->sndbuf);
    tcp_ring_init(&c->rcv, c->rcvbuf);
    return 0;
}

static void tcp_unlink(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    struct tcp_conn **pp =
        &t->buckets[tcp_bucket(t, c->laddr, c->lport, c->raddr, c->rport)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    t->port_refs[c->lport]--;
    if (c->prev)
        c->prev->next = c->next;
    else
        t->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* Take c off its listener's accept queue, if it is on it. */
void tcp_unqueue(struct tcp_conn *c)
{
    struct tcp_listener *l = c->listener;
    if (!l)
        return;
    struct tcp_conn **pp = &l->accept_head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp) {
        *pp = c->qnext;
        if (l->accept_tail == c)
            l->accept_tail = prev;
        l->naccept--;
    } else if (!(c->flags & TCP_F_COOKIE)) {
        /* Still on the SYN queue (a cookie never was), whatever its state
         * now: tcp_conn_done() has already set a dying one CLOSED. */
        l->nsyn--;
    }
    c->listener = NULL;
}

void tcp_conn_free(struct tcp_conn *c)
{
    struct tcp_layer *t = c->t;
    tcp_unqueue(c);
    tcp_unlink(c);
    ts_heap_set(&t->timers, &c->tnode, TS_NEVER);
    tcp_settle_dequeue(c);
    if (c->state == TCP_TIME_WAIT) {
        t->stats.conns_time_wait--;
        tcp_tw_unlink(c);
    }
    t->stats.conns_now--;
    t->stats.closed++;
    t->stats.mem_tcb -= sizeof *c + sizeof(struct ts_heap_node *);
    tcp_ring_free(&c->snd);
    tcp_ring_free(&c->rcv);
    free(c);
}

static const char *const tcp_state_names[] = {
    "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
    "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK",
    "TIME-WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < sizeof tcp_state_names / sizeof tcp_state_names[0]
               ? tcp_state_names[s] : "?";
}

void tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
    struct tcp_layer *t = c->t;
    if (ts_ev_on(t->ev) && c->state != s)
        tcp_ev_state(c, s);     /* the -v log reads it there too */
    if (c->state == TCP_TIME_WAIT && s != TCP_TIME_WAIT) {
        t->stats.conns_time_wait--;
        tcp_tw_unlink(c);
    }
    if (s == TCP_TIME_WAIT && c->state != TCP_TIME_WAIT) {
        t->stats.conns_time_wait++;
        tcp_tw_link(c);
    }
    if (s == TCP_ESTABLISHED && c->state != TCP_ESTABLISHED)
        t->stats.established++;
    c->state = (uint8_t)s;
}

void tcp_conn_event(struct tcp_conn *c, unsigned ev)
{
    c->pending_ev |= ev;
    tcp_settle_enqueue(c);  /* delivered by this settle, or by tcp_poll */
}

void tcp_conn_settle(struct tcp_conn *c)
{
    if (c->busy)
        return;         /* the outer settle will see to it */
    if (ts_ev_on(c->t->ev))
        tcp_ev_settle(c);
    c->busy++;
    /* The listener first: if it accepts c, c's own events go to the new
     * owner in the same settle. */
    if (c->flags & TCP_F_NOTIFY_ACCEPT) {
        c->flags &= ~TCP_F_NOTIFY_ACCEPT;
        struct tcp_listener *l = c->listener;
        if (l && l->fn)
            l->fn(l->ctx, c, TCP_EV_ACCEPT);
    }
    /* A callback may cause new events (it sends, the send completes...):
     * deliver those too, a bounded number of rounds. */
    for (int round = 0; round < 4 && c->pending_ev; round++) {
        unsigned ev = c->pending_ev;
        c->pending_ev = 0;
        if (c->fn && !(c->flags & TCP_F_USER_CLOSED))
            c->fn(c->ctx, c, ev);
    }
    c->busy--;
    if (c->flags & TCP_F_RELEASE) {
        tcp_conn_free(c);
        return;
    }
    tcp_rings_watch(c);
    tcp_timer_sync(c);
    if (c->pending_ev)
        tcp_settle_enqueue(c);  /* more than the rounds allow: next poll */
    else
        tcp_settle_dequeue(c);
}

void tcp_conn_done(struct tcp_conn *c, int err)
{
    if (err)
        c->err = err;
    tcp_set_state(c, TCP_CLOSED);
    c->rto_at = c->delack_at = c->keep_at = c->tw_at = TS_NEVER;
    /* Nobody holds it: the application closed it, or it was never
     * accepted (a listener's half-open or queued connection). */
    if (c->flags & TCP_F_USER_CLOSED || c->listener) {
        c->flags |= TCP_F_RELEASE;
        tcp_settle_enqueue(c);  /* freed by the settle that follows, or
                                   by the next poll */
        return;
    }
    tcp_conn_event(c, err ? TCP_EV_ERROR | TCP_EV_READABLE | TCP_EV_WRITABLE
                          : TCP_EV_READABLE);
}
