/* tools/draw/dtrace.c - load the JSON-lines trace and tie it to the
 * capture (see dtrace.h). jansson does the JSON; this file checks the
 * schema's types and keeps what the diagrams and the page use. */
#include "tools/draw/dtrace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/addr.h"

#define DTRACE_LINE_MAX (1u << 20)

/* "10.0.0.2:80" -> address and port; 0 or -1. */
static int dtrace_endpoint(const char *s, uint32_t *ip, uint16_t *port)
{
    char host[TS_IP4_STRLEN];
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p > 65535 ||
        ts_ip4_parse(host, ip) != 0)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

static void dtrace_str(json_t *o, const char *key, char *buf, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));
    snprintf(buf, cap, "%s", v ? v : "");
}

static char *dtrace_strdup(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? strdup(v) : NULL;
}

#define DTRACE_T_MAX ((json_int_t)1 << 53)

static void dtrace_change(json_t *changed, const char *key,
                          struct dtrace_change *c)
{
    /* Integers only (the trace writes nothing else): a real such as 1e300
     * has no int64_t value to convert to. */
    json_t *a = json_object_get(changed, key);
    if (!json_is_array(a) || json_array_size(a) != 2 ||
        !json_is_integer(json_array_get(a, 0)) ||
        !json_is_integer(json_array_get(a, 1)))
        return;
    c->has = 1;
    c->from = json_integer_value(json_array_get(a, 0));
    c->to = json_integer_value(json_array_get(a, 1));
}

static void dtrace_frames(json_t *o, struct dtrace_ev *e)
{
    json_t *fi = json_object_get(o, "frame_in");
    if (json_is_integer(fi) && json_integer_value(fi) > 0 &&
        json_integer_value(fi) <= UINT32_MAX)
        e->frame_in = (uint32_t)json_integer_value(fi);
    json_t *fo = json_object_get(o, "frame_out"), *v;
    size_t i;
    if (json_is_integer(fo) && json_integer_value(fo) > 0 &&
        json_integer_value(fo) <= UINT32_MAX)
        e->frame_out[e->nframe_out++] = (uint32_t)json_integer_value(fo);
    json_array_foreach(fo, i, v) {
        if (e->nframe_out < DTRACE_FRAMES_OUT && json_is_integer(v) &&
            json_integer_value(v) > 0 && json_integer_value(v) <= UINT32_MAX)
            e->frame_out[e->nframe_out++] = (uint32_t)json_integer_value(v);
    }
}

static void dtrace_conn(json_t *o, struct dtrace_ev *e)
{
    json_t *c = json_object_get(o, "conn");
    if (!json_is_object(c))
        return;
    json_t *id = json_object_get(c, "id");
    if (json_is_integer(id) && json_integer_value(id) > 0 &&
        json_integer_value(id) <= UINT32_MAX)
        e->conn_id = (uint32_t)json_integer_value(id);
    if (dtrace_endpoint(json_string_value(json_object_get(c, "local")),
                        &e->lip, &e->lport) == 0 &&
        dtrace_endpoint(json_string_value(json_object_get(c, "remote")),
                        &e->rip, &e->rport) == 0)
        e->has_conn = 1;
}

/* Fill e from the object o; 0, or -1 with the reason in why. Every line
 * names its event; t_us and layer may be missing only from a line that is
 * about the trace itself (the last one, "trace_truncated"), which keeps
 * the time of the line before it (prev_t). */
static int dtrace_fill(json_t *o, struct dtrace_ev *e, int64_t prev_t,
                       const char **why)
{
    json_t *t = json_object_get(o, "t_us"), *l = json_object_get(o, "layer");
    if (!json_is_string(json_object_get(o, "ev"))) {
        *why = "no string \"ev\"";
        return -1;
    }
    if ((t && !json_is_integer(t)) || (l && !json_is_string(l))) {
        *why = "\"t_us\" is not an integer or \"layer\" not a string";
        return -1;
    }
    /* 2^53 µs is 285 years: beyond it, offsets between the trace's clock
     * and the capture's could overflow int64_t. */
    if (t && (json_integer_value(t) > DTRACE_T_MAX ||
              json_integer_value(t) < -DTRACE_T_MAX)) {
        *why = "\"t_us\" out of range";
        return -1;
    }
    if (!t || !l) {
        if (strncmp(json_string_value(json_object_get(o, "ev")), "trace_", 6)) {
            *why = "no \"t_us\" or \"layer\"";
            return -1;
        }
    }
    e->t_us = t ? json_integer_value(t) : prev_t;
    dtrace_str(o, "layer", e->layer, sizeof e->layer);
    dtrace_str(o, "ev", e->ev, sizeof e->ev);
    dtrace_str(o, "cause", e->cause, sizeof e->cause);
    dtrace_conn(o, e);
    dtrace_frames(o, e);
    json_t *ch = json_object_get(o, "changed");
    json_t *st = json_object_get(ch, "state");
    if (json_is_array(st) && json_array_size(st) == 2) {
        const char *a = json_string_value(json_array_get(st, 0));
        const char *b = json_string_value(json_array_get(st, 1));
        snprintf(e->state_from, sizeof e->state_from, "%s", a ? a : "");
        snprintf(e->state_to, sizeof e->state_to, "%s", b ? b : "");
    }
    dtrace_change(ch, "cwnd", &e->cwnd);
    dtrace_change(ch, "ssthresh", &e->ssthresh);
    dtrace_change(ch, "rto_ms", &e->rto_ms);
    dtrace_change(ch, "srtt_us", &e->srtt_us);
    dtrace_change(ch, "snd_wnd", &e->snd_wnd);
    e->reason = dtrace_strdup(o, "reason");
    e->rfc = dtrace_strdup(o, "rfc");
    return 0;
}

/* Parse one line into a new event; 0, 1 (skip it), or -1 (error). */
static int dtrace_line(struct dtrace *t, char *line, size_t len, uint32_t no,
                       int last_unfinished, char *err, size_t errlen,
                       const char *path)
{
    json_error_t je;
    const char *why = NULL;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len == 0)
        return 1;
    json_t *o = json_loadb(line, len, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        if (last_unfinished)
            return 1;
        snprintf(err, errlen, "%s:%u: not a JSON object: %s", path, no,
                 o ? "another JSON value" : je.text);
        return -1;
    }
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        struct dtrace_ev *ne = realloc(t->e, ncap * sizeof *ne);
        if (!ne) {
            json_decref(o);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        t->e = ne;
        t->cap = ncap;
    }
    struct dtrace_ev *e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    e->line = no;
    int rc = dtrace_fill(o, e, t->n ? t->e[t->n - 1].t_us : 0, &why);
    json_decref(o);
    if (rc != 0) {
        free(e->reason);
        free(e->rfc);
        snprintf(err, errlen, "%s:%u: not a trace line: %s", path, no, why);
        return -1;
    }
    e->text = strdup(line);
    t->n++;
    return 0;
}

int dtrace_load(const char *path, struct dtrace *t, size_t max_events,
                char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint32_t no = 0;
    int rc = 0;
    while (rc >= 0 && (len = getline(&line, &cap, f)) >= 0) {
        no++;
        if ((size_t)len > DTRACE_LINE_MAX) {
            snprintf(err, errlen, "%s:%u: line longer than 1 MiB", path, no);
            rc = -1;
        } else if (t->n >= max_events) {
            t->skipped++;
        } else {
            int unfinished = line[len - 1] != '\n';
            rc = dtrace_line(t, line, (size_t)len, no, unfinished, err,
                             errlen, path);
        }
    }
    if (rc >= 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    if (rc < 0) {
        dtrace_free(t);
        return -1;
    }
    return 0;
}

void dtrace_free(struct dtrace *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->e[i].text);
        free(t->e[i].reason);
        free(t->e[i].rfc);
    }
    free(t->e);
    memset(t, 0, sizeof *t);
}
