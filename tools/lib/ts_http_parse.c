/* tools/lib/ts_http_parse.c - the HTTP server's request parsing: where a
 * head ends, the request line and fields, the target's path (see
 * ts_http_parse.h). Pure: only the bytes given, no I/O. */
#include "tools/lib/ts_http_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tools/lib/ts_http.h"

/* ---- the head ----------------------------------------------------------- */

size_t ts_http_head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* ---- the request ------------------------------------------------------ */

/* RFC 9110 §5.6.2 tchar. */
static int http_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
           (ch >= 'A' && ch <= 'Z') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int http_hex(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Next line of the head at *p (up to end): returns it NUL-terminated. */
static char *http_line(char **p, char *end)
{
    char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl)
        return NULL;
    *nl = '\0';
    if (nl > s && nl[-1] == '\r')
        nl[-1] = '\0';
    *p = nl + 1;
    return s;
}

/* "GET /x HTTP/1.1": 0, or the status to answer with. */
static int http_parse_request_line(char *line, struct ts_http_req *r)
{
    char *sp1 = strchr(line, ' ');
    if (!sp1 || sp1 == line)
        return 400;
    *sp1 = '\0';
    r->method = line;
    for (char *m = line; *m; m++)
        if (!http_tchar((unsigned char)*m))
            return 400;
    r->target = sp1 + 1;
    char *sp2 = strchr(r->target, ' ');
    if (!sp2 || sp2 == r->target)
        return 400;
    *sp2 = '\0';
    for (char *t = r->target; *t; t++)
        if ((unsigned char)*t <= ' ' || (unsigned char)*t >= 0x7f)
            return 400;
    const char *v = sp2 + 1;
    if (strncmp(v, "HTTP/", 5) != 0 || !(v[5] >= '0' && v[5] <= '9') ||
        v[6] != '.' || !(v[7] >= '0' && v[7] <= '9') || v[8] != '\0')
        return 400;
    if (v[5] != '1')
        return 505;
    r->minor = v[7] - '0';
    return 0;
}

/* Does the comma-separated list val hold token tok (any case)? */
static int http_has_token(const char *val, const char *tok)
{
    size_t n = strlen(tok);
    const char *p = val;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == n && strncasecmp(p, tok, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* One header field line: 0 or the status to answer with. */
static int http_parse_field(char *line, struct ts_http_req *r)
{
    if (*line == ' ' || *line == '\t')
        return 400;                 /* obsolete line folding */
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return 400;
    *colon = '\0';
    for (char *n = line; *n; n++)
        if (!http_tchar((unsigned char)*n))
            return 400;             /* also whitespace before the colon */
    char *val = colon + 1;
    while (*val == ' ' || *val == '\t')
        val++;
    char *e = val + strlen(val);
    while (e > val && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    for (char *v = val; *v; v++)
        if (((unsigned char)*v < ' ' && *v != '\t') || *v == 0x7f)
            return 400;
    if (strcasecmp(line, "Connection") == 0) {
        r->close |= http_has_token(val, "close");
        r->keepalive |= http_has_token(val, "keep-alive");
    } else if (strcasecmp(line, "Host") == 0) {
        r->hosts++;
    } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
        r->te = 1;
    } else if (strcasecmp(line, "Content-Length") == 0) {
        if (!*val || strspn(val, "0123456789") != strlen(val) ||
            strlen(val) > 18)
            return 400;
        unsigned long long n = strtoull(val, NULL, 10);
        if (r->have_len && n != r->content_len)
            return 400;
        r->have_len = 1;
        r->content_len = n;
    }
    return 0;
}

int ts_http_parse_request(char *buf, size_t len, struct ts_http_req *r)
{
    char *p = buf, *end = buf + len;
    memset(r, 0, sizeof *r);
    char *line = http_line(&p, end);
    if (!line)
        return 400;
    int st = http_parse_request_line(line, r);
    if (st)
        return st;
    while ((line = http_line(&p, end)) && *line)
        if ((st = http_parse_field(line, r)) != 0)
            return st;
    if (r->minor >= 1 && r->hosts != 1)
        return 400;                 /* RFC 9112 §3.2: exactly one Host */
    if (r->hosts > 1)
        return 400;
    if (r->te)
        return 501;
    if (r->have_len && r->content_len > TS_HTTP_MAX_BODY)
        return 413;
    return 0;
}

int ts_http_path(const char *target, char *rel, size_t cap, int *slash,
                 size_t *raw_len, const char **raw)
{
    const char *p = target;
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        p = strstr(p, "//") + 2;
        p += strcspn(p, "/?#");
        if (*p != '/')
            p = "/";
    }
    if (*p != '/')
        return 400;
    size_t n = strcspn(p, "?#");
    *raw = p;
    *raw_len = n;
    char dec[TS_HTTP_MAX_LINE + 1];
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '%') {
            int hi = i + 2 < n ? http_hex((unsigned char)p[i + 1]) : -1;
            int lo = hi >= 0 ? http_hex((unsigned char)p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return 400;
            ch = (unsigned char)(hi * 16 + lo);
            if (ch == 0)
                return 400;
            i += 2;
        }
        if (d >= sizeof dec - 1)
            return 400;
        dec[d++] = (char)ch;
    }
    dec[d] = '\0';
    *slash = d > 0 && dec[d - 1] == '/';
    size_t r = 0;
    char *save = NULL;
    for (char *seg = strtok_r(dec, "/", &save); seg;
         seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0)
            return 403;
        size_t sl = strlen(seg);
        if (r + sl + 2 > cap)
            return 400;
        if (r)
            rel[r++] = '/';
        memcpy(rel + r, seg, sl);
        r += sl;
    }
    rel[r] = '\0';
    return 0;
}
