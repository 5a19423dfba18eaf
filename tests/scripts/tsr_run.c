/* tests/scripts/tsr_run.c - playing a script's lines against one stack.
 *
 * The stack (10.0.0.2) sits on one end of a memdev pair; the runner is the
 * peer (10.0.0.1) on the other end. The clock is a number: a line at time
 * T first moves it to T, deadline by deadline, running the stack's timers
 * (tsr_advance), and every frame the stack sends is taken off the wire
 * with the time it was sent (tsr_drain). A '>' line takes the oldest such
 * segment and it must match, and must have been sent exactly at the line's
 * time: virtual time has no jitter, so a timer off by a millisecond fails.
 * A '<' line or a call finds the wire quiet first: a segment nobody
 * expected fails the script, as in packetdrill.
 * Entry points: tsr_env_new, tsr_env_free, tsr_env_configure, tsr_advance,
 * tsr_drain, tsr_run_line, tsr_report, tsr_check_quiet.
 */
#include "tests/scripts/tsr_env.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "core/clock.h"
#include "eth/eth_wire.h"
#include "eth/memdev.h"

#define TSR_ADVANCE_STEPS 1000000   /* timer steps per line: a bound */
#define TSR_DRAIN_MAX 4096

int tsr_report(struct tsr_env *e, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%u: ", e->file, e->lineno);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    e->failed = 1;
    return -1;
}

static double tsr_secs(uint64_t t)
{
    return (double)(t - TSR_T0) / 1000.0;
}

struct tsr_env *tsr_env_new(int verbose)
{
    struct tsr_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    stack_config_default(&e->cfg);
    memcpy(e->cfg.mac, tsr_my_mac, 6);
    e->cfg.ip.addr = TSR_MY_IP;
    e->cfg.pool_small = 256;
    e->cfg.pool_large = 4;
    e->cfg.seed = 7;
    e->cfg.log_out = NULL;
    e->verbose = verbose;
    e->now = e->last = TSR_T0;
    e->isn.risn = TSR_RISN;
    return e;
}

static const struct {
    const char *key;
    size_t off;
} tsr_keys[] = {
#define TSR_KEY(k) { #k, offsetof(struct tcp_config, k) }
    TSR_KEY(sndbuf), TSR_KEY(rcvbuf), TSR_KEY(rto_init), TSR_KEY(rto_min),
    TSR_KEY(rto_max), TSR_KEY(rto_syn), TSR_KEY(delack_ms), TSR_KEY(msl_ms),
    TSR_KEY(keepalive_idle), TSR_KEY(keepalive_intvl),
#undef TSR_KEY
};

int tsr_env_configure(struct tsr_env *e, const char *key, uint64_t val)
{
    struct tcp_config *t = &e->cfg.tcp;
    if (e->started)
        return -1;
    for (size_t i = 0; i < sizeof tsr_keys / sizeof tsr_keys[0]; i++)
        if (strcmp(key, tsr_keys[i].key) == 0) {
            *(uint32_t *)((char *)t + tsr_keys[i].off) = (uint32_t)val;
            return 0;
        }
    if (strcmp(key, "mtu") == 0)
        e->cfg.ip.mtu = (uint16_t)val;
    else if (strcmp(key, "max_retries") == 0)
        t->max_retries = (unsigned)val;
    else if (strcmp(key, "max_syn_retries") == 0)
        t->max_syn_retries = (unsigned)val;
    else if (strcmp(key, "keepalive_count") == 0)
        t->keepalive_count = (unsigned)val;
    else if (strcmp(key, "challenge_ack_per_sec") == 0)
        t->challenge_ack_per_sec = (unsigned)val;
    else if (strcmp(key, "max_conns") == 0)
        t->max_conns = (unsigned)val;
    else
        return -1;
    return 0;
}

/* An ARP frame from the peer (a request seeds the stack's cache; a reply
 * answers the stack's own request after its entry expired). */
static void tsr_arp(struct tsr_env *e, uint16_t op)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t f[ETH_ZLEN] = { 0 };
    struct eth_hdr eh = { .type = ETH_TYPE_ARP };
    memcpy(eh.dst, op == ARP_OP_REQUEST ? bcast : tsr_my_mac, 6);
    memcpy(eh.src, tsr_peer_mac, 6);
    eth_emit(&eh, f);
    struct arp_pkt a = { .op = op, .spa = TSR_PEER_IP, .tpa = TSR_MY_IP };
    memcpy(a.sha, tsr_peer_mac, 6);
    memcpy(a.tha, op == ARP_OP_REQUEST ? (const uint8_t[6]){ 0 } : tsr_my_mac, 6);
    arp_emit(&a, f + ETH_HLEN);
    struct pbuf pb = { .data = f, .base = f, .len = sizeof f, .cap = sizeof f };
    netdev_send(e->peer, &pb);
    stack_rx(&e->s, 64, e->now);
}

static int tsr_start(struct tsr_env *e)
{
    struct netdev *dev;
    if (memdev_pair(&dev, &e->peer, 256, e->cfg.ip.mtu) < 0)
        return -1;
    if (stack_init(&e->s, &e->cfg, dev) < 0) {
        netdev_close(e->peer);
        return -1;
    }
    e->started = 1;
    tsr_arp(e, ARP_OP_REQUEST);
    tsr_drain(e);
    return 0;
}

void tsr_env_free(struct tsr_env *e)
{
    if (e->started) {
        stack_destroy(&e->s);
        netdev_close(e->peer);
    }
    free(e);
}

static void tsr_queue(struct tsr_env *e, const uint8_t *f, size_t len)
{
    char err[128], text[256];
    if (e->qlen == TSR_QUEUE) {
        tsr_report(e, "the stack sent more than %d segments no line took",
                   TSR_QUEUE);
        return;
    }
    struct tsr_out *o = &e->q[(e->qhead + e->qlen) % TSR_QUEUE];
    memcpy(o->frame, f, len);
    int rc = tsr_decode_frame(o->frame, len, &o->seg, err, sizeof err);
    if (rc < 0) {
        tsr_report(e, "the stack sent a bad frame: %s", err);
        return;
    }
    if (rc == 0)
        return;
    o->t = e->now;
    if (o->seg.flags & TCP_SYN)
        e->isn.lisn = o->seg.seq;   /* relative numbers start here */
    e->qlen++;
    if (e->verbose) {
        tsr_sent_format(&o->seg, &e->isn, text, sizeof text);
        fprintf(stderr, "  %.3f %s\n", tsr_secs(o->t), text);
    }
}

void tsr_drain(struct tsr_env *e)
{
    uint8_t buf[TSR_FRAME_MAX];
    for (int i = 0; i < TSR_DRAIN_MAX; i++) {
        struct pbuf pb = { .data = buf, .base = buf, .len = 0,
                           .cap = sizeof buf };
        if (netdev_recv(e->peer, &pb) != 1)
            return;
        struct arp_pkt a;
        if (pb.len >= ETH_HLEN + ARP_LEN && load_be16(buf + 12) == ETH_TYPE_ARP &&
            arp_parse(buf + ETH_HLEN, pb.len - ETH_HLEN, &a) == ARP_OK) {
            if (a.op == ARP_OP_REQUEST && a.tpa == TSR_PEER_IP)
                tsr_arp(e, ARP_OP_REPLY);
            continue;
        }
        tsr_queue(e, buf, pb.len);
    }
}

void tsr_settle(struct tsr_env *e)
{
    /* What the line made due now (a timer armed in the past by a
     * setsockopt) runs now, as the event loop would before sleeping. */
    if (stack_next_deadline(&e->s) <= e->now)
        stack_poll(&e->s, e->now);
    tsr_drain(e);
}

void tsr_advance(struct tsr_env *e, uint64_t t)
{
    for (int i = 0; i < TSR_ADVANCE_STEPS && e->now < t; i++) {
        uint64_t d = stack_next_deadline(&e->s);
        if (d <= e->now)
            d = e->now + 1;
        e->now = d < t ? d : t;
        stack_poll(&e->s, e->now);
        tsr_drain(e);
    }
    if (e->now < t) {
        e->now = t;
        stack_poll(&e->s, e->now);
        tsr_drain(e);
    }
}

int tsr_check_quiet(struct tsr_env *e)
{
    char text[256];
    if (e->qlen == 0)
        return 0;
    const struct tsr_out *o = &e->q[e->qhead];
    tsr_sent_format(&o->seg, &e->isn, text, sizeof text);
    return tsr_report(e, "the stack sent a segment no line expected\n"
                      "  script: %s\n  actual: %.3f %s",
                      e->text, tsr_secs(o->t), text);
}

static int tsr_expect(struct tsr_env *e, const struct tsr_seg *w)
{
    char why[160], text[256];
    if (e->qlen == 0)
        return tsr_report(e, "no segment sent by %.3f\n  script: %s",
                          tsr_secs(e->now), e->text);
    struct tsr_out *o = &e->q[e->qhead];
    e->qhead = (e->qhead + 1) % TSR_QUEUE;
    e->qlen--;
    tsr_sent_format(&o->seg, &e->isn, text, sizeof text);
    if (!tsr_seg_match(w, &o->seg, &e->isn, why, sizeof why))
        return tsr_report(e, "%s\n  script: %s\n  actual: %.3f %s", why,
                          e->text, tsr_secs(o->t), text);
    if (o->t != e->now)
        return tsr_report(e, "sent at %.3f, expected at %.3f\n  script: %s\n"
                          "  actual: %.3f %s", tsr_secs(o->t),
                          tsr_secs(e->now), e->text, tsr_secs(o->t), text);
    return 0;
}

static int tsr_inject(struct tsr_env *e, const struct tsr_seg *s)
{
    uint8_t f[TSR_FRAME_MAX];
    if (tsr_check_quiet(e) < 0)
        return -1;
    if (s->port)
        e->isn.rport = s->port;     /* the script now talks of this one */
    size_t n = tsr_build_frame(f, s, &e->isn);
    if (n == 0)
        return tsr_report(e, "segment too large for a frame");
    if (e->verbose)
        fprintf(stderr, "  %s\n", e->text);
    struct pbuf pb = { .data = f, .base = f, .len = n, .cap = sizeof f };
    netdev_send(e->peer, &pb);
    stack_rx(&e->s, 64, e->now);
    tsr_settle(e);
    return 0;
}

int tsr_run_line(struct tsr_env *e, const struct tsr_line *ln)
{
    if (ln->kind == TSR_CONFIG) {
        if (tsr_env_configure(e, ln->cfg_key, ln->cfg_val) < 0)
            return tsr_report(e, "config %s: unknown, or not before the "
                              "first event", ln->cfg_key);
        return 0;
    }
    if (!e->started && tsr_start(e) < 0)
        return tsr_report(e, "cannot build the stack");
    uint64_t t = ln->rel ? e->last + ln->ms : TSR_T0 + ln->ms;
    if (t < e->now)
        return tsr_report(e, "time goes backwards (%.3f < %.3f)",
                          tsr_secs(t), tsr_secs(e->now));
    tsr_advance(e, t);
    e->last = t;
    if (e->failed)
        return -1;
    if (ln->kind == TSR_SEG)
        return ln->seg.dir == '>' ? tsr_expect(e, &ln->seg)
                                  : tsr_inject(e, &ln->seg);
    if (tsr_check_quiet(e) < 0)
        return -1;
    return tsr_call(e, &ln->call);
}
