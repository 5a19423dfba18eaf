/* core/event.c - the event hub: sinks, the records of one step, frame
 * numbers. Only reached when a sink listens (ts_ev_on). */
#include "core/event.h"

#include <string.h>

static const char *const ts_ev_layers[TS_EVL_COUNT] = {
    "eth", "arp", "ipv4", "icmp", "udp", "tcp", "sock",
};

const char *ts_ev_layer_name(enum ts_ev_layer l)
{
    return (unsigned)l < TS_EVL_COUNT ? ts_ev_layers[l] : "?";
}

int ts_ev_layer_parse(const char *name)
{
    for (int i = 0; i < TS_EVL_COUNT; i++)
        if (strcmp(name, ts_ev_layers[i]) == 0)
            return i;
    return -1;
}

void ts_ev_init(struct ts_events *h, uint64_t (*clock_us)(void))
{
    memset(h, 0, sizeof *h);
    h->clock_us = clock_us;
    h->t0_us = clock_us ? clock_us() : 0;
}

int ts_ev_sink_add(struct ts_events *h, ts_ev_sink_fn fn, void *ctx)
{
    for (unsigned i = 0; i < TS_EV_SINKS; i++) {
        if (!h->sinks[i].fn) {
            h->sinks[i].fn = fn;
            h->sinks[i].ctx = ctx;
            h->on++;
            return 0;
        }
    }
    return -1;
}

void ts_ev_sink_remove(struct ts_events *h, ts_ev_sink_fn fn, void *ctx)
{
    ts_ev_flush(h);     /* the sink sees what its step already said */
    for (unsigned i = 0; i < TS_EV_SINKS; i++) {
        if (h->sinks[i].fn == fn && h->sinks[i].ctx == ctx) {
            h->sinks[i].fn = NULL;
            h->sinks[i].ctx = NULL;
            h->on--;
            return;
        }
    }
}

static void ts_ev_deliver(struct ts_events *h, const struct ts_event *e)
{
    for (unsigned i = 0; i < TS_EV_SINKS; i++)
        if (h->sinks[i].fn)
            h->sinks[i].fn(h->sinks[i].ctx, e);
}

void ts_ev_flush(struct ts_events *h)
{
    for (unsigned i = 0; i < h->npend; i++)
        ts_ev_deliver(h, &h->pend[i]);
    h->npend = 0;
}

void ts_ev_step(struct ts_events *h, uint64_t frame_in)
{
    ts_ev_flush(h);
    h->frame_in = frame_in;
    h->last_out = 0;
}

void ts_ev_emit(struct ts_events *h, const struct ts_event *e, unsigned flags)
{
    if (!ts_ev_on(h))
        return;
    if (h->npend == TS_EV_PENDING) {
        /* A step that says this much: deliver early; the rest of its
         * frames go unnamed in these records. */
        ts_ev_flush(h);
        h->early++;
    }
    struct ts_event *p = &h->pend[h->npend++];
    *p = *e;
    p->t_us = h->clock_us ? h->clock_us() - h->t0_us : 0;
    p->frame_in = h->frame_in;
    p->nout = 0;
    p->closed = 0;
    if (flags & TS_EVF_LAST_OUT) {
        if (h->last_out)
            p->frame_out[p->nout++] = h->last_out;
        p->closed = 1;
    }
}

void ts_ev_frame_out(struct ts_events *h, uint64_t n)
{
    if (!h)
        return;
    h->last_out = n;
    for (unsigned i = 0; i < h->npend; i++) {
        struct ts_event *p = &h->pend[i];
        if (!p->closed && p->nout < TS_EV_FRAMES_OUT)
            p->frame_out[p->nout++] = n;
    }
}

void ts_ev_change(struct ts_event *e, const char *field, int64_t o, int64_t n)
{
    if (e->nchanged < TS_EV_CHANGES)
        e->changed[e->nchanged++] = (struct ts_ev_change){ field, o, n,
                                                            NULL, NULL };
}

void ts_ev_change_str(struct ts_event *e, const char *field, const char *o,
                      const char *n)
{
    if (e->nchanged < TS_EV_CHANGES)
        e->changed[e->nchanged++] = (struct ts_ev_change){ field, 0, 0, o, n };
}

void ts_ev_kv_int(struct ts_event *e, const char *key, int64_t v)
{
    if (e->nkv < TS_EV_KVS)
        e->kv[e->nkv++] = (struct ts_ev_kv){ key, NULL, v, TS_KV_INT };
}

void ts_ev_kv_str(struct ts_event *e, const char *key, const char *s)
{
    if (e->nkv < TS_EV_KVS)
        e->kv[e->nkv++] = (struct ts_ev_kv){ key, s, 0, TS_KV_STR };
}

void ts_ev_kv_ip(struct ts_event *e, const char *key, uint32_t addr)
{
    if (e->nkv < TS_EV_KVS)
        e->kv[e->nkv++] = (struct ts_ev_kv){ key, NULL, addr, TS_KV_IP4 };
}

void ts_ev_kv_mac(struct ts_event *e, const char *key, const uint8_t mac[6])
{
    int64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | mac[i];
    if (e->nkv < TS_EV_KVS)
        e->kv[e->nkv++] = (struct ts_ev_kv){ key, NULL, v, TS_KV_MAC };
}

void ts_ev_begin(struct ts_event *e, enum ts_ev_layer l, const char *ev,
                 const char *reason, const char *rfc)
{
    memset(e, 0, sizeof *e);
    e->layer = l;
    e->ev = ev;
    e->reason = reason;
    e->rfc = rfc;
}

void ts_ev_counted(struct ts_events *h, enum ts_ev_layer l,
                   const struct ts_counter_desc *d)
{
    struct ts_event e;
    ts_ev_begin(&e, l, d->ev, d->name, d->rfc);
    e.text = d->help;
    ts_ev_emit(h, &e, 0);
}
