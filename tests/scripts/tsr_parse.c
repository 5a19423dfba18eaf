/* tests/scripts/tsr_parse.c - one line of a conformance script into a
 * struct tsr_line (tsr.h). The language, in brief:
 *
 *   [TIME] < FLAGS SEQ:END(LEN) [ack N] [win N] [urg N] [<OPTIONS>]
 *   [TIME] > FLAGS SEQ:END(LEN) [ack N] [win N] [<OPTIONS>]
 *   [TIME] NAME(ARG, ...) = RESULT [ERRNO] [(comment)]
 *   config KEY=VALUE
 *
 * TIME is seconds from the start (0.100) or from the previous line (+0.2);
 * left out it is +0. FLAGS are packetdrill's letters (S F R P U E W, '.'
 * for ACK). Any number of a '>' line, the flags, the whole SEQ:END(LEN),
 * and the options may be '*'; an ack, win or option list left out is not
 * checked. OPTIONS: mss N, wscale N, sackOK, sack L:R ..., TS val N ecr N,
 * nop, eol, kind K len L (any option: K, L, then L - 2 zero bytes),
 * comma separated; '<*>' is any. 'badsum' after a '<' segment spoils its
 * checksum, 'src A.B.C.D' and 'dst A.B.C.D' change its addresses (the
 * peer's 10.0.0.1 and the stack's 10.0.0.2 otherwise), 'port N' makes N
 * the peer's port from this line on (a second connection). '#' and '//'
 * start comments.
 */
#include "tests/scripts/tsr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_wire.h"

struct tsr_cur {
    const char *p;
    char *err;
    size_t errlen;
};

static int tsr_fail(struct tsr_cur *c, const char *what)
{
    snprintf(c->err, c->errlen, "%s at '%.20s'", what, c->p);
    return -1;
}

static void tsr_ws(struct tsr_cur *c)
{
    while (*c->p == ' ' || *c->p == '\t')
        c->p++;
}

static int tsr_eat(struct tsr_cur *c, const char *word)
{
    tsr_ws(c);
    size_t n = strlen(word);
    if (strncmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* An unsigned number (decimal) or '*' (*any = 1). */
static int tsr_num(struct tsr_cur *c, uint32_t *v, uint8_t *any)
{
    tsr_ws(c);
    if (*c->p == '*' && any) {
        c->p++;
        *any = 1;
        return 0;
    }
    if (!isdigit((unsigned char)*c->p))
        return tsr_fail(c, "number expected");
    char *end;
    unsigned long long x = strtoull(c->p, &end, 10);
    if (x > 0xffffffffull)
        return tsr_fail(c, "number too large");
    *v = (uint32_t)x;
    c->p = end;
    return 0;
}

/* Seconds with up to 6 decimals, to whole milliseconds. */
static int tsr_time(struct tsr_cur *c, uint64_t *ms)
{
    uint64_t sec = 0, frac = 0;
    unsigned digits = 0;
    while (isdigit((unsigned char)*c->p))
        sec = sec * 10 + (uint64_t)(*c->p++ - '0');
    if (*c->p == '.') {
        c->p++;
        for (; isdigit((unsigned char)*c->p); c->p++, digits++)
            if (digits < 6)
                frac = frac * 10 + (uint64_t)(*c->p - '0');
    }
    for (; digits < 6; digits++)
        frac *= 10;
    if (frac % 1000)
        return tsr_fail(c, "time finer than a millisecond");
    *ms = sec * 1000 + frac / 1000;
    return 0;
}

static int tsr_flags(struct tsr_cur *c, struct tsr_seg *s)
{
    static const char letters[] = "FSRP.UEW";
    tsr_ws(c);
    if (*c->p == '*') {
        c->p++;
        s->flags_any = 1;
        return 0;
    }
    const char *start = c->p;
    for (const char *l; *c->p && (l = strchr(letters, *c->p)); c->p++)
        s->flags |= (uint8_t)(1u << (l - letters));
    return c->p == start ? tsr_fail(c, "flags expected") : 0;
}

/* SEQ:END(LEN), or '*'. */
static int tsr_seqspec(struct tsr_cur *c, struct tsr_seg *s)
{
    uint32_t end;
    if (tsr_num(c, &s->seq, &s->seq_any) < 0)
        return -1;
    if (s->seq_any)
        return 0;
    if (!tsr_eat(c, ":") || tsr_num(c, &end, NULL) < 0 || !tsr_eat(c, "(") ||
        tsr_num(c, &s->len, NULL) < 0 || !tsr_eat(c, ")"))
        return tsr_fail(c, "SEQ:END(LEN) expected");
    if (end - s->seq != s->len)
        return tsr_fail(c, "END - SEQ differs from LEN");
    return 0;
}

static int tsr_opt_sack(struct tsr_cur *c, struct tsr_opt *o)
{
    tsr_ws(c);
    while (isdigit((unsigned char)*c->p)) {
        if (o->nsack == 4)
            return tsr_fail(c, "more than 4 SACK blocks");
        uint32_t *b = o->sack[o->nsack++];
        if (tsr_num(c, &b[0], NULL) < 0 || !tsr_eat(c, ":") ||
            tsr_num(c, &b[1], NULL) < 0)
            return -1;
        tsr_ws(c);
    }
    if (o->nsack == 0 && tsr_eat(c, "*"))
        o->any = 1;
    return 0;
}

static int tsr_opt(struct tsr_cur *c, struct tsr_opt *o)
{
    memset(o, 0, sizeof *o);
    if (tsr_eat(c, "mss")) {
        o->kind = TCP_OPT_MSS;
        return tsr_num(c, &o->v1, &o->any);
    }
    if (tsr_eat(c, "wscale")) {
        o->kind = TCP_OPT_WS;
        return tsr_num(c, &o->v1, &o->any);
    }
    if (tsr_eat(c, "sackOK")) {
        o->kind = TCP_OPT_SACK_OK;
        return 0;
    }
    if (tsr_eat(c, "sack")) {
        o->kind = TCP_OPT_SACK;
        return tsr_opt_sack(c, o);
    }
    if (tsr_eat(c, "TS")) {
        o->kind = TCP_OPT_TS;
        if (!tsr_eat(c, "val") || tsr_num(c, &o->v1, &o->any) < 0 ||
            !tsr_eat(c, "ecr") || tsr_num(c, &o->v2, &o->any) < 0)
            return tsr_fail(c, "TS val N ecr N expected");
        return 0;
    }
    if (tsr_eat(c, "nop")) {
        o->kind = TCP_OPT_NOP;
        return 0;
    }
    if (tsr_eat(c, "eol")) {
        o->kind = TCP_OPT_EOL;
        return 0;
    }
    if (tsr_eat(c, "kind")) {       /* kind K len L: any option, raw */
        uint32_t k;
        if (tsr_num(c, &k, NULL) < 0 || !tsr_eat(c, "len") ||
            tsr_num(c, &o->v1, NULL) < 0 || k > 255 || o->v1 > 40)
            return tsr_fail(c, "kind K len L expected");
        o->kind = (uint8_t)k;
        o->raw = 1;
        return 0;
    }
    return tsr_fail(c, "unknown option");
}

static int tsr_opts(struct tsr_cur *c, struct tsr_seg *s)
{
    s->has_opts = 1;
    if (tsr_eat(c, "*")) {
        s->opts_any = 1;
        return tsr_eat(c, ">") ? 0 : tsr_fail(c, "'>' expected");
    }
    if (tsr_eat(c, ">"))
        return 0;
    do {
        if (s->nopts == TSR_MAX_OPTS)
            return tsr_fail(c, "too many options");
        if (tsr_opt(c, &s->opts[s->nopts++]) < 0)
            return -1;
    } while (tsr_eat(c, ","));
    return tsr_eat(c, ">") ? 0 : tsr_fail(c, "',' or '>' expected");
}

/* A dotted quad, host order. */
static int tsr_addr(struct tsr_cur *c, uint32_t *a)
{
    uint32_t b[4];
    for (int i = 0; i < 4; i++)
        if (tsr_num(c, &b[i], NULL) < 0 || b[i] > 255 ||
            (i < 3 && !tsr_eat(c, ".")))
            return tsr_fail(c, "address A.B.C.D expected");
    *a = TS_IP4(b[0], b[1], b[2], b[3]);
    return 0;
}

static int tsr_seg_line(struct tsr_cur *c, struct tsr_seg *s)
{
    s->dir = *c->p++;
    if (tsr_flags(c, s) < 0 || tsr_seqspec(c, s) < 0)
        return -1;
    for (;;) {
        uint32_t v = 0;
        if (tsr_eat(c, "ack")) {
            s->has_ack = 1;
            if (tsr_num(c, &s->ack, &s->ack_any) < 0)
                return -1;
        } else if (tsr_eat(c, "win")) {
            s->has_win = 1;
            if (tsr_num(c, &s->win, &s->win_any) < 0)
                return -1;
        } else if (tsr_eat(c, "urg")) {
            s->has_urg = 1;
            if (tsr_num(c, &v, NULL) < 0)
                return -1;
            s->urg = (uint16_t)v;
        } else if (tsr_eat(c, "port")) {
            if (tsr_num(c, &v, NULL) < 0 || v == 0 || v > 65535)
                return tsr_fail(c, "port 1..65535 expected");
            s->port = (uint16_t)v;
        } else if (tsr_eat(c, "src")) {
            if (tsr_addr(c, &s->src) < 0)
                return -1;
        } else if (tsr_eat(c, "dst")) {
            if (tsr_addr(c, &s->dst) < 0)
                return -1;
        } else if (tsr_eat(c, "badsum")) {
            s->badsum = 1;
        } else if (tsr_eat(c, "<")) {
            if (tsr_opts(c, s) < 0)
                return -1;
        } else {
            break;
        }
    }
    tsr_ws(c);
    return *c->p ? tsr_fail(c, "junk after segment") : 0;
}

/* One argument: everything up to ',' or ')' with the blanks trimmed. */
static int tsr_arg(struct tsr_cur *c, char *out)
{
    tsr_ws(c);
    size_t n = 0;
    while (*c->p && *c->p != ',' && *c->p != ')') {
        if (n + 1 >= TSR_ARG_LEN)
            return tsr_fail(c, "argument too long");
        out[n++] = *c->p++;
    }
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = 0;
    return 0;
}

static int tsr_call_line(struct tsr_cur *c, struct tsr_call *k)
{
    size_t n = 0;
    while (isalnum((unsigned char)*c->p) || *c->p == '_')
        if (n + 1 < sizeof k->name)
            k->name[n++] = *c->p++;
        else
            return tsr_fail(c, "name too long");
    if (n == 0 || !tsr_eat(c, "("))
        return tsr_fail(c, "segment or call expected");
    if (!tsr_eat(c, ")")) {
        do {
            if (k->nargs == TSR_MAX_ARGS)
                return tsr_fail(c, "too many arguments");
            if (tsr_arg(c, k->args[k->nargs++]) < 0)
                return -1;
        } while (tsr_eat(c, ","));
        if (!tsr_eat(c, ")"))
            return tsr_fail(c, "')' expected");
    }
    if (!tsr_eat(c, "="))
        return tsr_fail(c, "'= RESULT' expected");
    tsr_ws(c);
    char *end;
    if (*c->p == '*') {
        k->ret_any = 1;
        c->p++;
    } else if (*c->p == '-' || isdigit((unsigned char)*c->p)) {
        k->ret = strtol(c->p, &end, 10);
        c->p = end;
    } else {
        return tsr_arg(c, k->ret_word);     /* a word: tcp_state() */
    }
    tsr_ws(c);
    if (k->ret == -1) {
        char name[TSR_ARG_LEN] = "";
        size_t m = 0;
        while (isupper((unsigned char)*c->p) && m + 1 < sizeof name)
            name[m++] = *c->p++;
        if (!(k->err = tsr_errno_value(name)))
            return tsr_fail(c, "errno name expected after -1");
    }
    tsr_ws(c);
    return *c->p && *c->p != '(' ? tsr_fail(c, "junk after result") : 0;
}

static int tsr_config_line(struct tsr_cur *c, struct tsr_line *out)
{
    tsr_ws(c);
    size_t n = 0;
    while ((isalnum((unsigned char)*c->p) || *c->p == '_') &&
           n + 1 < sizeof out->cfg_key)
        out->cfg_key[n++] = *c->p++;
    uint32_t v;
    if (n == 0 || !tsr_eat(c, "=") || tsr_num(c, &v, NULL) < 0)
        return tsr_fail(c, "config KEY=NUMBER expected");
    out->cfg_val = v;
    out->kind = TSR_CONFIG;
    return 0;
}

/* A copy of the line without its comment. */
static void tsr_strip(const char *text, char *buf, size_t len)
{
    snprintf(buf, len, "%s", text);
    char *h = strchr(buf, '#'), *s = strstr(buf, "//");
    if (h)
        *h = 0;
    if (s)
        *s = 0;
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = 0;
}

int tsr_parse_line(const char *text, struct tsr_line *out, char *err,
                   size_t errlen)
{
    char buf[512];
    memset(out, 0, sizeof *out);
    tsr_strip(text, buf, sizeof buf);
    struct tsr_cur c = { .p = buf, .err = err, .errlen = errlen };
    tsr_ws(&c);
    if (!*c.p)
        return 0;
    if (strncmp(c.p, "config ", 7) == 0) {
        c.p += 7;
        return tsr_config_line(&c, out);
    }
    out->rel = 1;                   /* no time: +0 */
    if (*c.p == '+') {
        c.p++;
        if (tsr_time(&c, &out->ms) < 0)
            return -1;
    } else if (isdigit((unsigned char)*c.p)) {
        out->rel = 0;
        if (tsr_time(&c, &out->ms) < 0)
            return -1;
    }
    tsr_ws(&c);
    if (*c.p == '<' || *c.p == '>') {
        out->kind = TSR_SEG;
        return tsr_seg_line(&c, &out->seg);
    }
    out->kind = TSR_CALL;
    return tsr_call_line(&c, &out->call);
}

static const struct {
    const char *name;
    int value;
} tsr_errnos[] = {
    { "EAGAIN", EAGAIN }, { "EINPROGRESS", EINPROGRESS },
    { "ECONNREFUSED", ECONNREFUSED }, { "ECONNRESET", ECONNRESET },
    { "ETIMEDOUT", ETIMEDOUT }, { "EPIPE", EPIPE }, { "ENOTCONN", ENOTCONN },
    { "EADDRINUSE", EADDRINUSE }, { "EINVAL", EINVAL }, { "ENOMEM", ENOMEM },
    { "EBADF", EBADF }, { "EISCONN", EISCONN }, { "ENOBUFS", ENOBUFS },
};

const char *tsr_errno_name(int err)
{
    for (size_t i = 0; i < sizeof tsr_errnos / sizeof tsr_errnos[0]; i++)
        if (tsr_errnos[i].value == err)
            return tsr_errnos[i].name;
    return "E?";
}

int tsr_errno_value(const char *name)
{
    for (size_t i = 0; i < sizeof tsr_errnos / sizeof tsr_errnos[0]; i++)
        if (strcmp(tsr_errnos[i].name, name) == 0)
            return tsr_errnos[i].value;
    return 0;
}
