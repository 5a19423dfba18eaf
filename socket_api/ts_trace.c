/* socket_api/ts_trace.c - the event record as JSON (jansson) and as one
 * human line; the bounded trace file and the `-v` log as sinks. */
#include "socket_api/ts_trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/log.h"

struct ts_trace {
    FILE *f;
    int own;                    /* fclose at the end (not stdout) */
    uint64_t max_bytes, bytes, lines;
    int truncated;
};

static json_t *ts_trace_endpoint(uint32_t addr, uint16_t port)
{
    char a[TS_IP4_STRLEN], buf[TS_IP4_STRLEN + 8];
    snprintf(buf, sizeof buf, "%s:%u", ts_ip4_fmt(addr, a), (unsigned)port);
    return json_string(buf);
}

static json_t *ts_trace_kv(const struct ts_ev_kv *kv)
{
    char buf[TS_MAC_STRLEN];
    uint8_t mac[6];
    switch (kv->type) {
    case TS_KV_STR:
        return json_string(kv->s ? kv->s : "");
    case TS_KV_IP4:
        return json_string(ts_ip4_fmt((uint32_t)kv->v, buf));
    case TS_KV_MAC:
        for (int i = 0; i < 6; i++)
            mac[i] = (uint8_t)(kv->v >> (40 - 8 * i));
        return json_string(ts_mac_fmt(mac, buf));
    default:
        return json_integer((json_int_t)kv->v);
    }
}

static json_t *ts_trace_changed(const struct ts_event *e)
{
    json_t *ch = json_object();
    for (unsigned i = 0; i < e->nchanged; i++) {
        const struct ts_ev_change *c = &e->changed[i];
        json_t *pair = c->old_s
            ? json_pack("[ss]", c->old_s, c->new_s ? c->new_s : "")
            : json_pack("[II]", (json_int_t)c->old_v, (json_int_t)c->new_v);
        json_object_set_new(ch, c->field, pair);
    }
    return ch;
}

json_t *ts_trace_json(const struct ts_event *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "t_us", json_integer((json_int_t)e->t_us));
    json_object_set_new(o, "layer", json_string(ts_ev_layer_name(e->layer)));
    json_object_set_new(o, "ev", json_string(e->ev ? e->ev : "?"));
    if (e->conn.id || e->conn.lport || e->conn.rport)
        json_object_set_new(o, "conn", json_pack("{s:I,s:o,s:o}",
            "id", (json_int_t)e->conn.id,
            "local", ts_trace_endpoint(e->conn.laddr, e->conn.lport),
            "remote", ts_trace_endpoint(e->conn.raddr, e->conn.rport)));
    if (e->nchanged)
        json_object_set_new(o, "changed", ts_trace_changed(e));
    if (e->reason)
        json_object_set_new(o, "reason", json_string(e->reason));
    if (e->text)
        json_object_set_new(o, "text", json_string(e->text));
    if (e->rfc)
        json_object_set_new(o, "rfc", json_string(e->rfc));
    if (e->frame_in)
        json_object_set_new(o, "frame_in", json_integer((json_int_t)e->frame_in));
    json_t *out = json_array();
    for (unsigned i = 0; i < e->nout; i++)
        json_array_append_new(out, json_integer((json_int_t)e->frame_out[i]));
    json_object_set_new(o, "frame_out", out);
    for (unsigned i = 0; i < e->nkv; i++)
        json_object_set_new(o, e->kv[i].key, ts_trace_kv(&e->kv[i]));
    return o;
}

static const char *ts_trace_str(const json_t *v, const char *dflt)
{
    const char *s = json_string_value(v);
    return s ? s : dflt;
}

/* Append to buf at *at what fmt says, never past n. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void ts_trace_put(char *buf, size_t n, size_t *at, const char *fmt, ...)
{
    if (*at >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *at, n - *at, fmt, ap);
    va_end(ap);
    if (w > 0)
        *at += (size_t)w < n - *at ? (size_t)w : n - *at - 1;
}

static void ts_trace_put_value(char *buf, size_t n, size_t *at, const json_t *v)
{
    if (json_is_string(v))
        ts_trace_put(buf, n, at, "%s", json_string_value(v));
    else if (json_is_integer(v))
        ts_trace_put(buf, n, at, "%lld", (long long)json_integer_value(v));
}

static int ts_trace_is_header(const char *key)
{
    static const char *const keys[] = { "t_us", "layer", "ev", "conn",
        "changed", "reason", "text", "rfc", "frame_in", "frame_out" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

void ts_trace_human(const json_t *o, char *buf, size_t n)
{
    size_t at = 0;
    const char *key;
    json_t *v;
    buf[0] = '\0';
    json_int_t t = json_integer_value(json_object_get(o, "t_us"));
    ts_trace_put(buf, n, &at, "%lld.%06lld %-4s %s", (long long)(t / 1000000),
                 (long long)(t % 1000000),
                 ts_trace_str(json_object_get(o, "layer"), "-"),
                 ts_trace_str(json_object_get(o, "ev"), "?"));
    json_t *c = json_object_get(o, "conn");
    if (c)
        ts_trace_put(buf, n, &at, " #%lld %s<>%s",
                     (long long)json_integer_value(json_object_get(c, "id")),
                     ts_trace_str(json_object_get(c, "local"), ""),
                     ts_trace_str(json_object_get(c, "remote"), ""));
    json_object_foreach((json_t *)json_object_get(o, "changed"), key, v) {
        ts_trace_put(buf, n, &at, " %s ", key);
        ts_trace_put_value(buf, n, &at, json_array_get(v, 0));
        ts_trace_put(buf, n, &at, "->");
        ts_trace_put_value(buf, n, &at, json_array_get(v, 1));
    }
    json_object_foreach((json_t *)o, key, v) {
        if (ts_trace_is_header(key))
            continue;
        ts_trace_put(buf, n, &at, " %s=", key);
        ts_trace_put_value(buf, n, &at, v);
    }
    if (json_object_get(o, "reason"))
        ts_trace_put(buf, n, &at, " (%s)",
                     json_string_value(json_object_get(o, "reason")));
    if (json_object_get(o, "rfc"))
        ts_trace_put(buf, n, &at, " [RFC %s]",
                     json_string_value(json_object_get(o, "rfc")));
    if (json_object_get(o, "frame_in"))
        ts_trace_put(buf, n, &at, " in:%lld", (long long)json_integer_value(
                         json_object_get(o, "frame_in")));
    size_t i;
    json_array_foreach(json_object_get(o, "frame_out"), i, v)
        ts_trace_put(buf, n, &at, "%s%lld", i ? "," : " out:",
                     (long long)json_integer_value(v));
}

struct ts_trace *ts_trace_open(const char *path, uint64_t max_bytes)
{
    struct ts_trace *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->max_bytes = max_bytes;
    if (strcmp(path, "-") == 0) {
        tr->f = stdout;
    } else if ((tr->f = fopen(path, "w"))) {
        tr->own = 1;
    } else {
        int err = errno;
        free(tr);
        errno = err;
        return NULL;
    }
    return tr;
}

/* The last line of a trace that reached its limit. */
static void ts_trace_truncate(struct ts_trace *tr, uint64_t t_us)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:I}", "t_us", (json_int_t)t_us,
                          "layer", "sock", "ev", "trace_truncated",
                          "max_bytes", (json_int_t)tr->max_bytes,
                          "lines", (json_int_t)tr->lines);
    if (o) {
        json_dumpf(o, tr->f, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', tr->f);
        json_decref(o);
    }
    fflush(tr->f);
    tr->truncated = 1;
}

void ts_trace_sink(void *ctx, const struct ts_event *e)
{
    struct ts_trace *tr = ctx;
    if (tr->truncated)
        return;
    json_t *o = ts_trace_json(e);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return;
    size_t len = strlen(s) + 1;
    if (tr->max_bytes && tr->bytes + len > tr->max_bytes) {
        ts_trace_truncate(tr, e->t_us);
    } else {
        fputs(s, tr->f);
        fputc('\n', tr->f);
        tr->bytes += len;
        tr->lines++;
    }
    free(s);
}

void ts_trace_flush(struct ts_trace *tr)
{
    if (tr)
        fflush(tr->f);
}

void ts_trace_close(struct ts_trace *tr)
{
    if (!tr)
        return;
    if (tr->own)
        fclose(tr->f);
    else
        fflush(tr->f);
    free(tr);
}

static int ts_trace_loud(const struct ts_event *e)
{
    static const char *const evs[] = { "state", "retransmit", "error",
        "arp_resolved", "arp_failed", "icmp_sent", "icmp_rcvd",
        "reass_timeout", "rst_sent", "rst_rcvd" };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (e->ev && strcmp(e->ev, evs[i]) == 0)
            return 1;
    return 0;
}

/* A TCP state change in the log's textbook form, which people and
 * tests/integration/tcp.sh read: "tcp PEER -> US OLD -> NEW". */
static void ts_trace_log_state(const struct ts_log *log,
                               const struct ts_event *e)
{
    char r[TS_IP4_STRLEN], l[TS_IP4_STRLEN];
    const struct ts_ev_change *c = &e->changed[0];
    ts_logf(log, TS_LOG_INFO, "tcp %s:%u -> %s:%u %s -> %s",
            ts_ip4_fmt(e->conn.raddr, r), e->conn.rport,
            ts_ip4_fmt(e->conn.laddr, l), e->conn.lport, c->old_s, c->new_s);
}

void ts_trace_log_sink(void *ctx, const struct ts_event *e)
{
    const struct ts_log *log = ctx;
    int level = ts_trace_loud(e) ? TS_LOG_INFO : TS_LOG_DEBUG;
    if (!TS_LOG_ON(log, level))
        return;
    if (e->layer == TS_EVL_TCP && e->nchanged && e->changed[0].old_s &&
        strcmp(e->ev, "state") == 0) {
        ts_trace_log_state(log, e);
        return;
    }
    json_t *o = ts_trace_json(e);
    if (!o)
        return;
    char line[512];
    ts_trace_human(o, line, sizeof line);
    json_decref(o);
    ts_logf(log, level, "%s", line);
}
