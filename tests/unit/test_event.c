/* tests/unit/test_event.c - the event path (core/event.c) and its sinks
 * (socket_api/ts_trace.c): a step's records name the frame that caused
 * them and the frames sent after them; a counted TCP reason reaches the
 * counter and a sink as one event; state changes and retransmissions (with
 * their cause) on two stacks back to back; RTT changes in microseconds;
 * the JSON form and the bounded trace file.
 */
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/event.h"
#include "eth/memdev.h"
#include "socket_api/ts_trace.h"
#include "tests/unit/host_client.h"
#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

#define EV_PORT 5009
#define EV_MAX 4096

/* A sink that keeps a copy of what it is given. */
struct ev_rec {
    struct ts_event ev[EV_MAX];
    unsigned n;
};

static void ev_rec_sink(void *ctx, const struct ts_event *e)
{
    struct ev_rec *r = ctx;
    if (r->n < EV_MAX)
        r->ev[r->n++] = *e;
}

static unsigned ev_count(const struct ev_rec *r, const char *ev,
                         const char *reason)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->n; i++)
        if (strcmp(r->ev[i].ev, ev) == 0 &&
            (!reason || (r->ev[i].reason && strcmp(r->ev[i].reason, reason) == 0)))
            n++;
    return n;
}

static uint64_t ev_fake_us;
static uint64_t ev_clock(void)
{
    return ev_fake_us;
}

static void event_test_step_frames(void)
{
    static struct ts_events h;
    static struct ev_rec r;
    memset(&r, 0, sizeof r);
    ev_fake_us = 1000;
    ts_ev_init(&h, ev_clock);
    CU_ASSERT_FALSE(ts_ev_on(&h));
    struct ts_event e;
    ts_ev_begin(&e, TS_EVL_TCP, "state", "segment", "9293 3.3.2");
    ts_ev_emit(&h, &e, 0);              /* nobody listens: nothing kept */
    CU_ASSERT_EQUAL(h.npend, 0);
    CU_ASSERT_EQUAL(ts_ev_sink_add(&h, ev_rec_sink, &r), 0);
    CU_ASSERT_TRUE(ts_ev_on(&h));
    ev_fake_us = 1250;
    ts_ev_step(&h, 5);                  /* frame 5 arrives */
    ts_ev_emit(&h, &e, 0);
    CU_ASSERT_EQUAL(r.n, 0);            /* held until the step ends */
    ts_ev_frame_out(&h, 6);
    ts_ev_begin(&e, TS_EVL_TCP, "retransmit", "retransmits", NULL);
    ts_ev_emit(&h, &e, TS_EVF_LAST_OUT); /* about frame 6, only */
    ts_ev_frame_out(&h, 7);
    ts_ev_step(&h, 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.ev[0].t_us, 250);
    CU_ASSERT_EQUAL(r.ev[0].frame_in, 5);
    CU_ASSERT_EQUAL_FATAL(r.ev[0].nout, 2);
    CU_ASSERT_EQUAL(r.ev[0].frame_out[0], 6);
    CU_ASSERT_EQUAL(r.ev[0].frame_out[1], 7);
    CU_ASSERT_EQUAL(r.ev[1].frame_in, 5);
    CU_ASSERT_EQUAL_FATAL(r.ev[1].nout, 1);
    CU_ASSERT_EQUAL(r.ev[1].frame_out[0], 6);
    /* The next step starts clean: no frame in, no leftovers. */
    ts_ev_emit(&h, &e, TS_EVF_LAST_OUT);
    ts_ev_flush(&h);
    CU_ASSERT_EQUAL(r.n, 3);
    CU_ASSERT_EQUAL(r.ev[2].frame_in, 0);
    CU_ASSERT_EQUAL(r.ev[2].nout, 0);
    ts_ev_sink_remove(&h, ev_rec_sink, &r);
    CU_ASSERT_FALSE(ts_ev_on(&h));
}

/* A segment to a port nobody listens on: one count of rst_sent_no_conn,
 * and the sink sees that one event, naming the 4-tuple. */
static void event_test_count_and_sink_agree(void)
{
    static struct ev_rec r;
    memset(&r, 0, sizeof r);
    struct th *h = th_new(NULL);
    ts_ev_sink_add(&h->s[TH_B].ev, ev_rec_sink, &r);
    uint64_t before = h->s[TH_B].tcp.stats.rst_sent_no_conn;
    struct th_conn *a = th_connect(h, TH_A, 40001, TH_B_IP, EV_PORT);
    th_advance(h, 100);
    CU_ASSERT_EQUAL(a->n_error, 1);
    uint64_t counted = h->s[TH_B].tcp.stats.rst_sent_no_conn - before;
    CU_ASSERT_EQUAL(counted, 1);
    CU_ASSERT_EQUAL(ev_count(&r, "rst_sent", "rst_sent_no_conn"), counted);
    for (unsigned i = 0; i < r.n; i++) {
        if (strcmp(r.ev[i].ev, "rst_sent") != 0)
            continue;
        CU_ASSERT_EQUAL(r.ev[i].layer, TS_EVL_TCP);
        CU_ASSERT_EQUAL(r.ev[i].conn.lport, EV_PORT);
        CU_ASSERT_EQUAL(r.ev[i].conn.rport, 40001);
        CU_ASSERT_STRING_EQUAL(r.ev[i].rfc, "9293 3.10.7.1");
    }
    ts_ev_sink_remove(&h->s[TH_B].ev, ev_rec_sink, &r);
    th_close(a);
    th_free(h);
}

/* The passive side's states, in order, and the `established` count. */
static void event_test_states(void)
{
    static struct ev_rec r;
    memset(&r, 0, sizeof r);
    struct th *h = th_new(NULL);
    ts_ev_sink_add(&h->s[TH_B].ev, ev_rec_sink, &r);
    struct th_conn *a, *b;
    th_established_pair(h, EV_PORT, &a, &b);
    th_send_stream(a, 1000, 1);
    th_send_stream(b, 1000, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 5000));
    th_close(a);
    th_close(b);
    th_advance(h, 1000);
    ts_ev_flush(&h->s[TH_B].ev);
    const char *want[] = { "LISTEN", "SYN-RECEIVED", "ESTABLISHED" };
    unsigned k = 0, id = 0;
    for (unsigned i = 0; i < r.n && k < 2; i++) {
        const struct ts_event *e = &r.ev[i];
        if (strcmp(e->ev, "state") != 0)
            continue;
        CU_ASSERT_STRING_EQUAL(e->changed[0].old_s, want[k]);
        CU_ASSERT_STRING_EQUAL(e->changed[0].new_s, want[k + 1]);
        CU_ASSERT(e->conn.id != 0);
        CU_ASSERT(id == 0 || e->conn.id == id);
        id = e->conn.id;
        k++;
    }
    CU_ASSERT_EQUAL(k, 2);
    CU_ASSERT_EQUAL(h->s[TH_B].tcp.stats.established, 1);
    CU_ASSERT(ev_count(&r, "cc", NULL) >= 1);    /* cwnd set at establish */
    CU_ASSERT(ev_count(&r, "window", NULL) >= 1);
    ts_ev_sink_remove(&h->s[TH_B].ev, ev_rec_sink, &r);
    th_free(h);
}

static unsigned ev_cause(const struct ev_rec *r, const char *cause)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->n; i++)
        for (unsigned k = 0; k < r->ev[i].nkv; k++)
            if (strcmp(r->ev[i].ev, "retransmit") == 0 &&
                strcmp(r->ev[i].kv[k].key, "cause") == 0 &&
                strcmp(r->ev[i].kv[k].s, cause) == 0)
                n++;
    return n;
}

/* The last "rtt" event says, in microseconds, what TCP_INFO says of c
 * (srtt and rttvar are kept in 1/8 ms). */
static void ev_check_rtt_units(const struct ev_rec *r, const struct tcp_conn *c)
{
    struct tcp_conn_info ci;
    tcp_conn_info(c, &ci);
    int64_t srtt = -1, rttvar = -1;
    for (unsigned i = 0; i < r->n; i++) {
        if (strcmp(r->ev[i].ev, "rtt") != 0)
            continue;
        for (unsigned k = 0; k < r->ev[i].nchanged; k++) {
            const struct ts_ev_change *ch = &r->ev[i].changed[k];
            if (strcmp(ch->field, "srtt_us") == 0)
                srtt = ch->new_v;
            else if (strcmp(ch->field, "rttvar_us") == 0)
                rttvar = ch->new_v;
        }
    }
    CU_ASSERT(srtt > 0);
    CU_ASSERT_EQUAL(srtt, ci.rtt_us);
    CU_ASSERT_EQUAL(rttvar, ci.rttvar_us);
}

/* A segment lost mid-stream comes back through the peer's SACKs or
 * duplicate ACKs, never a time-out; one event per retransmission. */
static void event_test_retransmit_fast(void)
{
    static struct ev_rec r;
    memset(&r, 0, sizeof r);
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, EV_PORT, &a, &b);
    ts_ev_sink_add(&h->s[TH_A].ev, ev_rec_sink, &r);
    th_rule_add(h, TH_A_TO_B, 0, 0, 1, 20, 1, TH_DROP);
    th_send_stream(a, 256 * 1024, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 20000));
    ts_ev_flush(&h->s[TH_A].ev);
    uint64_t n = h->s[TH_A].tcp.stats.retransmits;
    CU_ASSERT(n >= 1);
    CU_ASSERT_EQUAL(ev_count(&r, "retransmit", NULL), n);
    CU_ASSERT_EQUAL(ev_cause(&r, "sack") + ev_cause(&r, "dupack"), n);
    CU_ASSERT_EQUAL(ev_cause(&r, "rto"), 0);
    CU_ASSERT(ev_count(&r, "recovery", "fast_retransmits") >= 1);
    CU_ASSERT(ev_count(&r, "dupack", "dup_acks") >= 1);
    ts_ev_sink_remove(&h->s[TH_A].ev, ev_rec_sink, &r);
    th_close(a);
    th_close(b);
    th_free(h);
}

static int ev_accepted(struct th *h)
{
    return h->lis[TH_B].accepted > 0 && h->conns[0].n_connected > 0;
}

/* A wire with a round-trip time (20 ms each way out of A): the RTT
 * events are in microseconds, as TCP_INFO. */
static void event_test_rtt_units(void)
{
    static struct ev_rec r;
    static const struct faultdev_config delay = { .delay_ms = 20, .seed = 1 };
    memset(&r, 0, sizeof r);
    struct th_opts o;
    th_config_default(&o);
    o.fault[TH_A] = &delay;
    struct th *h = th_new(&o);
    ts_ev_sink_add(&h->s[TH_A].ev, ev_rec_sink, &r);
    th_listen(h, TH_B, EV_PORT, 4);
    struct th_conn *a = th_connect(h, TH_A, 0, TH_B_IP, EV_PORT);
    CU_ASSERT_FATAL(th_run_until(h, ev_accepted, 5000));
    struct th_conn *b = th_peer(h, a);
    CU_ASSERT_FATAL(b != NULL);
    th_send_stream(a, 20000, 1);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 20000));
    ts_ev_flush(&h->s[TH_A].ev);
    ev_check_rtt_units(&r, a->c);
    ts_ev_sink_remove(&h->s[TH_A].ev, ev_rec_sink, &r);
    th_close(a);
    th_close(b);
    th_free(h);
}

static int ev_drop_tail(struct th *h, int dir, const struct th_seg *s)
{
    uint32_t *end = h->hook_ctx;
    if (dir == TH_A_TO_B && s->len > 0 && s->seq + s->len == *end) {
        *end = 0;
        return TH_DROP;
    }
    return -1;
}

/* The last segment lost: only the timer brings it back (cause rto), and
 * the RTO's backoff shows as an "rtt" change of rto_ms. */
static void event_test_retransmit_rto(void)
{
    static struct ev_rec r;
    memset(&r, 0, sizeof r);
    struct th *h = th_new(NULL);
    struct th_conn *a, *b;
    th_established_pair(h, EV_PORT, &a, &b);
    ts_ev_sink_add(&h->s[TH_A].ev, ev_rec_sink, &r);
    uint32_t end = a->c->iss + 1 + 20000;
    h->hook = ev_drop_tail;
    h->hook_ctx = &end;
    th_send_stream(a, 20000, 0);
    CU_ASSERT_TRUE(th_run_until(h, th_all_done, 20000));
    ts_ev_flush(&h->s[TH_A].ev);
    CU_ASSERT_EQUAL(end, 0);
    CU_ASSERT(ev_cause(&r, "rto") >= 1);
    CU_ASSERT_EQUAL(ev_count(&r, "rto", "rto_expired"),
                    h->s[TH_A].tcp.stats.rto_expired);
    ts_ev_sink_remove(&h->s[TH_A].ev, ev_rec_sink, &r);
    th_close(a);
    th_close(b);
    th_free(h);
}

/* Another layer's X-macro table: a runt frame is one drop_runt, counted
 * and on the event path as an eth "drop" with its RFC-less reason; with no
 * sink, the count alone. */
static void event_test_eth_drop(void)
{
    static struct ts_events h;
    static struct ev_rec r;
    memset(&r, 0, sizeof r);
    struct pbuf_pool pool;
    CU_ASSERT_EQUAL_FATAL(pbuf_pool_init(&pool, 4, 0), 0);
    static const uint8_t mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
    struct eth_layer eth;
    eth_init(&eth, NULL, mac, NULL);
    ts_ev_init(&h, NULL);
    eth.ev = &h;
    eth_input(&eth, pbuf_alloc(&pool, PBUF_HEADROOM, 10), 0);
    CU_ASSERT_EQUAL(eth.stats.drop_runt, 1);
    ts_ev_sink_add(&h, ev_rec_sink, &r);
    eth_input(&eth, pbuf_alloc(&pool, PBUF_HEADROOM, 10), 0);
    ts_ev_flush(&h);
    CU_ASSERT_EQUAL(eth.stats.drop_runt, 2);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_EQUAL(r.ev[0].layer, TS_EVL_ETH);
    CU_ASSERT_STRING_EQUAL(r.ev[0].ev, "drop");
    CU_ASSERT_STRING_EQUAL(r.ev[0].reason, "drop_runt");
    CU_ASSERT_STRING_EQUAL(r.ev[0].text, eth_counter_desc[ETH_R_drop_runt].help);
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    pbuf_pool_destroy(&pool);
}

/* IP options (main's): a malformed option is an ipv4 "drop" with its
 * counter's name and RFC, and the Parameter Problem it draws an
 * icmp_sent of type 12; each counted once. */
static void event_test_ip_option_drop(void)
{
    static struct ev_rec r;
    memset(&r, 0, sizeof r);
    struct netdev *dev, *host;
    static struct stack s;
    struct stack_config cfg;
    stack_config_default(&cfg);
    cfg.pool_small = 16;
    cfg.pool_large = 2;
    CU_ASSERT_FATAL(memdev_pair(&dev, &host, 16, 1500) == 0);
    CU_ASSERT_FATAL(stack_init(&s, &cfg, dev) == 0);
    ts_ev_sink_add(&s.ev, ev_rec_sink, &r);
    uint8_t frame[128] = { 0 };
    static const uint8_t opts[4] = { 148, 0, 0, 0 };   /* length 0 */
    struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
    memcpy(eh.dst, cfg.mac, 6);
    eh.src[0] = 2;
    eh.src[5] = 0x99;
    eth_emit(&eh, frame);
    struct ipv4_hdr ih = { .hlen = 24, .total_len = 24 + 8, .ttl = 64,
                           .proto = IPV4_PROTO_ICMP, .src = TS_IP4(10, 0, 0, 1),
                           .dst = cfg.ip.addr };
    ipv4_emit_opts(&ih, opts, sizeof opts, frame + ETH_HLEN);
    frame[ETH_HLEN + 24] = 8;       /* an echo request, never read */
    struct pbuf pb = { .data = frame, .base = frame, .cap = sizeof frame,
                       .len = ETH_HLEN + 24 + 8 };
    CU_ASSERT_EQUAL(netdev_send(host, &pb), 0);
    stack_rx(&s, 4, 1000);
    ts_ev_flush(&s.ev);
    CU_ASSERT_EQUAL(s.ip.stats.drop_opt_bad_len, 1);
    CU_ASSERT_EQUAL(ev_count(&r, "drop", "drop_opt_bad_len"), 1);
    CU_ASSERT_EQUAL(s.ip.icmp.stats.tx_param_problems, 1);
    CU_ASSERT_EQUAL(ev_count(&r, "icmp_sent", NULL), 1);
    for (unsigned i = 0; i < r.n; i++) {
        if (strcmp(r.ev[i].ev, "drop") == 0) {
            CU_ASSERT_EQUAL(r.ev[i].layer, TS_EVL_IPV4);
            CU_ASSERT_STRING_EQUAL(r.ev[i].rfc, "791 3.1");
        } else if (strcmp(r.ev[i].ev, "icmp_sent") == 0) {
            CU_ASSERT_STRING_EQUAL(r.ev[i].kv[0].key, "type");
            CU_ASSERT_EQUAL(r.ev[i].kv[0].v, 12);
        }
    }
    ts_ev_sink_remove(&s.ev, ev_rec_sink, &r);
    stack_destroy(&s);
    netdev_close(host);
}

/* TS_OP_WATCH with a layer mask and an event name: the stream's socket,
 * or -errno. */
static int ev_watch(int c, unsigned layers, const char *ev)
{
    struct ts_ctl_req rq;
    struct ts_ctl_rep rep;
    int fd = -1;
    hc_mk(&rq, TS_OP_WATCH, (int)layers, 0, 0, NULL, 0);
    rq.optlen = ev ? (uint32_t)strlen(ev) : 0;
    memcpy(rq.opt, ev ? ev : "", rq.optlen);
    if (hc_raw(c, &rq, sizeof rq, NULL, 0, &rep, &fd) < 0)
        return -EPROTO;
    return rep.rc < 0 ? rep.rc : fd;
}

/* Read the stream until a line has all of want (bounded): 1 if found. */
static int ev_stream_has(int fd, const char *want1, const char *want2)
{
    static char msg[65536];
    for (int i = 0; i < 200 && (hc_wait(fd, POLLIN) & POLLIN); i++) {
        ssize_t n = recv(fd, msg, sizeof msg - 1, MSG_DONTWAIT);
        if (n <= 0)
            return 0;
        msg[n] = '\0';
        json_t *o = json_loads(msg, 0, NULL);
        CU_ASSERT_PTR_NOT_NULL(o);      /* every message is one JSON line */
        json_decref(o);
        if (strstr(msg, want1) && (!want2 || strstr(msg, want2)))
            return 1;
    }
    return 0;
}

/* The shared host's watch streams: the filters hold, a program's calls
 * and its connection's states come as they happen, the sink slots are
 * bounded (EBUSY), and a closed stream is let go (its slot serves again). */
static void event_test_host_watch(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int all = ev_watch(c, 0, NULL);
    int states = ev_watch(c, 1u << TS_EVL_TCP, "state");
    CU_ASSERT_FATAL(all >= 0 && states >= 0);
    CU_ASSERT_EQUAL(ev_watch(c, 1u << 30, "x\"y"), -EINVAL);
    int l = hc_listener(c, 8009);
    int a = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, a, AF_IP_B, 8009), 0);
    CU_ASSERT(ev_stream_has(all, "\"reason\":\"listen\"", "\"port\":8009"));
    CU_ASSERT(ev_stream_has(all, "\"ESTABLISHED\"", "10.0.0.2:8009"));
    CU_ASSERT(ev_stream_has(states, "\"LISTEN\",\"SYN-RECEIVED\"", NULL));
    /* Only states on the filtered stream: nothing else may be waiting. */
    static char msg[65536];
    ssize_t n;
    while ((n = recv(states, msg, sizeof msg - 1, MSG_DONTWAIT)) > 0) {
        msg[n] = '\0';
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, "\"ev\":\"state\""));
    }
    int more[TS_EV_SINKS], nmore = 0, rc;
    while (nmore < TS_EV_SINKS && (rc = ev_watch(c, 0, NULL)) >= 0)
        more[nmore++] = rc;
    CU_ASSERT_EQUAL(rc, -EBUSY);            /* every slot is taken */
    CU_ASSERT(nmore < TS_EV_SINKS);
    for (int i = 0; i < nmore; i++)
        close(more[i]);
    close(states);
    int again = -1;
    for (int i = 0; i < 100 && again < 0; i++) {   /* reaped by the host */
        again = ev_watch(c, 0, NULL);
        if (again < 0)
            af_sleep_ms(10);
    }
    CU_ASSERT(again >= 0);
    close(again);
    close(all);
    close(l);
    ts_close(f->a, a);
    close(c);
    af_close(f);
}

static struct ts_event ev_sample(void)
{
    struct ts_event e;
    ts_ev_begin(&e, TS_EVL_TCP, "state", "segment", "9293 3.10.7.4");
    e.t_us = 1234;
    e.conn = (struct ts_ev_conn){ 3, TS_IP4(10, 0, 0, 2), TS_IP4(10, 0, 0, 1),
                                  80, 41234 };
    ts_ev_change_str(&e, "state", "SYN-RECEIVED", "ESTABLISHED");
    ts_ev_change(&e, "cwnd", 14600, 29200);
    ts_ev_kv_str(&e, "cause", "rto");
    e.frame_in = 5;
    e.frame_out[e.nout++] = 6;
    return e;
}

static void event_test_json(void)
{
    struct ts_event e = ev_sample();
    json_t *o = ts_trace_json(&e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CU_ASSERT_STRING_EQUAL(s,
        "{\"t_us\":1234,\"layer\":\"tcp\",\"ev\":\"state\",\"conn\":{\"id\":3,"
        "\"local\":\"10.0.0.2:80\",\"remote\":\"10.0.0.1:41234\"},"
        "\"changed\":{\"state\":[\"SYN-RECEIVED\",\"ESTABLISHED\"],"
        "\"cwnd\":[14600,29200]},\"reason\":\"segment\",\"rfc\":"
        "\"9293 3.10.7.4\",\"frame_in\":5,\"frame_out\":[6],\"cause\":\"rto\"}");
    char line[512];
    ts_trace_human(o, line, sizeof line);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "tcp  state #3 10.0.0.2:80<>10.0.0.1:41234"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "state SYN-RECEIVED->ESTABLISHED"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "in:5 out:6"));
    free(s);
    json_decref(o);
    /* No connection, no frame: both left out, frame_out still a list. */
    struct ts_event z;
    ts_ev_begin(&z, TS_EVL_ARP, "arp_failed", "no answer", NULL);
    o = ts_trace_json(&z);
    CU_ASSERT_PTR_NULL(json_object_get(o, "conn"));
    CU_ASSERT_PTR_NULL(json_object_get(o, "frame_in"));
    CU_ASSERT_TRUE(json_is_array(json_object_get(o, "frame_out")));
    json_decref(o);
}

/* A trace bounded at 1,000 bytes: whole lines, then one that says so. */
static void event_test_trace_bounded(void)
{
    char path[] = "/tmp/ts-unit-trace.XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    struct ts_trace *tr = ts_trace_open(path, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    struct ts_event e = ev_sample();
    for (int i = 0; i < 50; i++)
        ts_trace_sink(tr, &e);
    ts_trace_close(tr);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[1024];
    unsigned n = 0, truncated = 0;
    long size = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        CU_ASSERT_PTR_NOT_NULL(o);
        const char *ev = json_string_value(json_object_get(o, "ev"));
        CU_ASSERT_PTR_NOT_NULL(ev);
        if (ev && strcmp(ev, "trace_truncated") == 0)
            truncated++;
        else
            size += (long)strlen(line);
        CU_ASSERT_EQUAL(truncated, ev && strcmp(ev, "trace_truncated") == 0);
        json_decref(o);
        n++;
    }
    fclose(f);
    unlink(path);
    CU_ASSERT_EQUAL(truncated, 1);
    CU_ASSERT(n >= 2 && n < 50);
    CU_ASSERT(size <= 1000);
}

TS_SUITE(event,
         TS_TEST(event_test_step_frames),
         TS_TEST(event_test_count_and_sink_agree),
         TS_TEST(event_test_states),
         TS_TEST(event_test_retransmit_fast),
         TS_TEST(event_test_retransmit_rto),
         TS_TEST(event_test_rtt_units),
         TS_TEST(event_test_eth_drop),
         TS_TEST(event_test_ip_option_drop),
         TS_TEST(event_test_host_watch),
         TS_TEST(event_test_json),
         TS_TEST(event_test_trace_bounded))
