/* core/event.h - the one event path: every drop, state change,
 * retransmission, congestion/RTT/window change, ARP, ICMP, reassembly and
 * socket-call event of a stack goes through ts_ev_emit() on the stack's
 * struct ts_events (DESIGN.md §5).
 *
 * A layer keeps a pointer to its stack's hub (NULL in a bare unit test) and
 * counts first: the counter increment is unconditional, the event record
 * is built only when ts_ev_on() says a sink listens (the trace file, the
 * `-v` log, tapstack-ctl watch). Protocol files never format output; the
 * sinks do, from the typed record.
 *
 * Frame numbers: the capture (eth/pcapdev.c) numbers each frame it writes
 * as tshark does (1-based), stamps it on a received pbuf and reports a
 * sent one with ts_ev_frame_out(). The hub collects the records of one
 * step (one received frame, one timer round, one socket call) and holds
 * them until the step ends, so each names the frame that caused it
 * (frame_in) and the frames sent after it in the same step (frame_out).
 *
 * Entry points: ts_ev_on, ts_ev_init, ts_ev_sink_add, ts_ev_sink_remove,
 * ts_ev_emit, ts_ev_step, ts_ev_flush, ts_ev_frame_out, ts_ev_change,
 * ts_ev_kv_int, ts_ev_kv_str, ts_ev_counted, TS_COUNT, ts_ev_layer_name.
 */
#ifndef TS_CORE_EVENT_H
#define TS_CORE_EVENT_H

#include <stdint.h>

#include "core/counters.h"

enum ts_ev_layer {
    TS_EVL_ETH, TS_EVL_ARP, TS_EVL_IPV4, TS_EVL_ICMP, TS_EVL_UDP,
    TS_EVL_TCP, TS_EVL_SOCK, TS_EVL_COUNT,
};

#define TS_EV_CHANGES 6
#define TS_EV_KVS 6
#define TS_EV_FRAMES_OUT 8
#define TS_EV_PENDING 64
#define TS_EV_SINKS 8            /* trace, log, watchers */

/* The connection an event belongs to (id 0: none). */
struct ts_ev_conn {
    unsigned id;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
};

/* A field that changed: numbers, or names when old_s/new_s are set. */
struct ts_ev_change {
    const char *field;
    int64_t old_v, new_v;
    const char *old_s, *new_s;
};

/* An event-specific field: a number, a static string, an IPv4 address
 * (host order) or a MAC address (in the low 48 bits of v). */
enum ts_ev_kv_type { TS_KV_INT, TS_KV_STR, TS_KV_IP4, TS_KV_MAC };
struct ts_ev_kv {
    const char *key;
    const char *s;
    int64_t v;
    enum ts_ev_kv_type type;
};

struct ts_event {
    uint64_t t_us;              /* since the hub started */
    enum ts_ev_layer layer;
    const char *ev;             /* "drop", "state", "retransmit", ... */
    const char *reason;         /* the counter's name, or a short text */
    const char *text;           /* the counter's help, or NULL */
    const char *rfc;            /* "9293 3.10.7.4", or NULL */
    struct ts_ev_conn conn;
    unsigned nchanged, nkv, nout;
    struct ts_ev_change changed[TS_EV_CHANGES];
    struct ts_ev_kv kv[TS_EV_KVS];
    uint64_t frame_in;          /* 0: none */
    uint64_t frame_out[TS_EV_FRAMES_OUT];
    int closed;                 /* frame_out is complete */
};

typedef void (*ts_ev_sink_fn)(void *ctx, const struct ts_event *e);

/* Flags of ts_ev_emit. */
#define TS_EVF_LAST_OUT 0x1u    /* the event follows the frame it is
                                   about (a retransmission): frame_out is
                                   the frame just sent, and only it */

struct ts_events {
    unsigned on;                /* sinks listening: the one branch */
    struct { ts_ev_sink_fn fn; void *ctx; } sinks[TS_EV_SINKS];
    uint64_t (*clock_us)(void); /* NULL: t_us stays 0 */
    uint64_t t0_us;
    uint64_t frame_in;          /* the frame being processed, 0: none */
    uint64_t last_out;          /* the last frame sent in this step */
    struct ts_event pend[TS_EV_PENDING];
    unsigned npend;
    uint64_t early;             /* records delivered before their step
                                   ended (more than TS_EV_PENDING in one):
                                   their frame_out may be short */
};

static inline int ts_ev_on(const struct ts_events *h)
{
    return h && h->on;
}

void ts_ev_init(struct ts_events *h, uint64_t (*clock_us)(void));
/* 0, or -1 when every slot is taken. */
int ts_ev_sink_add(struct ts_events *h, ts_ev_sink_fn fn, void *ctx);
void ts_ev_sink_remove(struct ts_events *h, ts_ev_sink_fn fn, void *ctx);
/* Queue e (copied) until the step ends; flags TS_EVF_*. */
void ts_ev_emit(struct ts_events *h, const struct ts_event *e, unsigned flags);
/* End the current step (deliver what it queued) and start one caused by
 * frame_in (0: a timer or a call). */
void ts_ev_step(struct ts_events *h, uint64_t frame_in);
/* Deliver what is queued; the current step's frame_in stays. */
void ts_ev_flush(struct ts_events *h);
/* The capture wrote sent frame number n. */
void ts_ev_frame_out(struct ts_events *h, uint64_t n);

/* Builders of a record (no effect past the fixed room). */
void ts_ev_change(struct ts_event *e, const char *field, int64_t o, int64_t n);
void ts_ev_change_str(struct ts_event *e, const char *field, const char *o,
                      const char *n);
void ts_ev_kv_int(struct ts_event *e, const char *key, int64_t v);
void ts_ev_kv_str(struct ts_event *e, const char *key, const char *s);
void ts_ev_kv_ip(struct ts_event *e, const char *key, uint32_t addr);
void ts_ev_kv_mac(struct ts_event *e, const char *key, const uint8_t mac[6]);
/* A record of layer l, event ev, reason (static strings). */
void ts_ev_begin(struct ts_event *e, enum ts_ev_layer l, const char *ev,
                 const char *reason, const char *rfc);

/* A counted reason of a layer's X-macro table as an event: its ev, its
 * counter's name as the reason, its help and RFC. */
void ts_ev_counted(struct ts_events *h, enum ts_ev_layer l,
                   const struct ts_counter_desc *d);
/* Count reason `name` of a layer (stats.name++) and, when a sink listens
 * and the table names an event for it, emit that event. */
#define TS_COUNT(h, layer, stats, desc, r, name)                     \
    do {                                                             \
        (stats).name++;                                              \
        if (ts_ev_on(h) && (desc)[r].ev)                             \
            ts_ev_counted((h), (layer), &(desc)[r]);                 \
    } while (0)

const char *ts_ev_layer_name(enum ts_ev_layer l);
/* "eth" ... "sock" to its layer, or -1. */
int ts_ev_layer_parse(const char *name);

#endif
