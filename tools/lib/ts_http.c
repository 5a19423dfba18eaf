/* tools/lib/ts_http.c - the HTTP/1.1 file server: read a request head
 * into a bounded buffer, parse it strictly, map its path into the docroot
 * without letting it out, answer, and go round again while the connection
 * is persistent. Only the public API (tapstack.h, ts_server.h) and libc. */
#include "tools/lib/ts_http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "socket_api/ts_server.h"
#include "tools/lib/ts_http_parse.h"

#define HTTP_CHUNK 65536            /* file data per ts_send */
#define HTTP_HDR_ROOM 4096          /* our response head, at most (a
                                       Location holds a request path) */
#define HTTP_SLICE_MS 250           /* SO_RCVTIMEO: how often a waiting
                                       handler looks at its deadlines (and
                                       notices a server being stopped) */
#define HTTP_LINGER_MS 2000         /* reading what the peer still sends
                                       after our last response */

struct ts_http {
    struct ts_server *srv;
    char *root;                     /* realpath of the docroot, or NULL */
    size_t rootlen;
};

/* One connection: what has been received and not yet used, the request
 * being answered, and an output buffer. */
struct http_conn {
    struct ts_stack *st;
    int fd;
    const struct ts_http *h;
    char in[TS_HTTP_MAX_HEAD + 1];
    size_t len;
    char *out;                      /* HTTP_HDR_ROOM + HTTP_CHUNK bytes */
    /* the request */
    int head_only;                  /* HEAD */
    int keep;                       /* persistent after this response */
    int minor;                      /* HTTP/1.minor */
    int gone;                       /* the peer closed, or the connection
                                       failed: nothing to linger for */
};

/* A response status and its reason phrase. */
struct http_status {
    int code;
    const char *reason;
};

static const struct http_status http_statuses[] = {
    { 200, "OK" }, { 301, "Moved Permanently" }, { 400, "Bad Request" },
    { 403, "Forbidden" }, { 404, "Not Found" },
    { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
    { 413, "Content Too Large" }, { 414, "URI Too Long" },
    { 431, "Request Header Fields Too Large" },
    { 500, "Internal Server Error" }, { 501, "Not Implemented" },
    { 505, "HTTP Version Not Supported" },
};

static const char *http_reason(int code)
{
    for (size_t i = 0; i < sizeof http_statuses / sizeof http_statuses[0]; i++)
        if (http_statuses[i].code == code)
            return http_statuses[i].reason;
    return "Unknown";
}

static const char http_builtin_page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><title>tapstack</title></head>\n"
    "<body>\n"
    "<h1>tapstack</h1>\n"
    "<p>This page was served by tapstack, a TCP/IP stack in user space on a\n"
    "Linux TAP device, through its own BSD-like socket API.</p>\n"
    "<p>Its other services:</p>\n"
    "<ul>\n"
    "<li>echo (TCP and UDP port 7), discard (TCP 9)</li>\n"
    "<li>daytime (TCP and UDP port 13), chargen (TCP 19)</li>\n"
    "<li>this HTTP server (TCP 80); start tapstack with <code>--http-root\n"
    "DIR</code> to serve a directory instead of this page</li>\n"
    "</ul>\n"
    "</body>\n"
    "</html>\n";

static uint64_t http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int http_send_all(struct http_conn *c, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = ts_send(c->st, c->fd, b, n, 0);
        if (k <= 0) {
            if (k < 0 && errno == EAGAIN)
                continue;           /* SO_SNDTIMEO is not set: not reached */
            c->gone = 1;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ---- request head ------------------------------------------------------ */

/* Why reading a request head stopped. */
enum http_read {
    HTTP_READ_OK = 0,       /* a complete head */
    HTTP_READ_GONE,         /* end of stream, error or idle: just close
                               (c->gone says which) */
    HTTP_READ_TIMEOUT,      /* a head started, not finished in time: 408 */
    HTTP_READ_LINE_LONG,    /* 414 */
    HTTP_READ_HEAD_LONG,    /* 431 */
};

/* Drop empty lines before a request line (RFC 9112 §2.2). */
static void http_skip_blank(struct http_conn *c)
{
    size_t i = 0;
    while (i < c->len && (c->in[i] == '\r' || c->in[i] == '\n'))
        i++;
    if (i) {
        memmove(c->in, c->in + i, c->len - i);
        c->len -= i;
    }
}

/* Receive until c->in holds a whole head; *end is its length. */
static enum http_read http_read_head(struct http_conn *c, size_t *end)
{
    uint64_t idle_until = http_now_ms() + TS_HTTP_IDLE_MS;
    uint64_t head_until = 0;
    for (;;) {
        http_skip_blank(c);
        if (c->len > 0 && !head_until)
            head_until = http_now_ms() + TS_HTTP_HEAD_MS;
        if ((*end = ts_http_head_end(c->in, c->len)) > 0) {
            const char *nl = memchr(c->in, '\n', *end);
            return nl && (size_t)(nl - c->in) > TS_HTTP_MAX_LINE
                       ? HTTP_READ_LINE_LONG : HTTP_READ_OK;
        }
        if (!memchr(c->in, '\n', c->len) && c->len > TS_HTTP_MAX_LINE)
            return HTTP_READ_LINE_LONG;
        if (c->len >= TS_HTTP_MAX_HEAD)
            return HTTP_READ_HEAD_LONG;
        ssize_t n = ts_recv(c->st, c->fd, c->in + c->len,
                            TS_HTTP_MAX_HEAD - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n == 0 || errno != EAGAIN) {
            c->gone = 1;
            return HTTP_READ_GONE;
        }
        uint64_t now = http_now_ms();
        if (c->len == 0 && now >= idle_until)
            return HTTP_READ_GONE;
        if (c->len > 0 && now >= head_until)
            return HTTP_READ_TIMEOUT;
    }
}

/* Read and drop n more request body bytes (what is already in c->in past
 * the head has been dropped by the caller). 0 or -1. */
static int http_drop_body(struct http_conn *c, size_t n)
{
    uint64_t until = http_now_ms() + TS_HTTP_HEAD_MS;
    char buf[4096];
    while (n > 0) {
        ssize_t k = ts_recv(c->st, c->fd, buf, n < sizeof buf ? n : sizeof buf, 0);
        if (k > 0) {
            n -= (size_t)k;
            continue;
        }
        if (k == 0 || errno != EAGAIN) {
            c->gone = 1;
            return -1;
        }
        if (http_now_ms() >= until)
            return -1;
    }
    return 0;
}

/* ---- the docroot -------------------------------------------------------- */

static int http_inside(const struct ts_http *h, const char *path)
{
    if (h->rootlen == 1)            /* the docroot is "/" */
        return path[0] == '/';
    return strncmp(path, h->root, h->rootlen) == 0 &&
           (path[h->rootlen] == '\0' || path[h->rootlen] == '/');
}

/* Open path (absolute, under the docroot) for reading without following
 * it outside: realpath must stay inside, and so must the opened file's
 * own name (/proc/self/fd), which closes the race with a symlink swapped
 * in between. fd or the status: -403, -404. */
static int http_open_inside(const struct ts_http *h, const char *path,
                            struct stat *sb)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return errno == EACCES ? -403 : -404;
    if (!http_inside(h, real))
        return -403;
    /* O_NONBLOCK: a FIFO must not block the open. */
    int fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == EACCES || errno == ELOOP ? -403 : -404;
    char link[64], now[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, now, sizeof now - 1);
    if (n > 0) {
        now[n] = '\0';
        if (!http_inside(h, now)) {
            close(fd);
            return -403;
        }
    }
    if (fstat(fd, sb) < 0) {
        close(fd);
        return -404;
    }
    return fd;
}

/* The docroot's file for rel: fd (a regular file, *sb filled, *index set
 * when it is a directory's index.html), or the status as a negative number
 * (-301 for a directory without its slash). */
static int http_open_file(const struct ts_http *h, const char *rel, int slash,
                          struct stat *sb, int *index)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", h->root, rel) >= sizeof path)
        return -404;
    int fd = http_open_inside(h, path, sb);
    if (fd < 0 || !S_ISDIR(sb->st_mode))
        goto done;
    close(fd);
    if (*rel && !slash)
        return -301;
    if ((size_t)snprintf(path, sizeof path, "%s/%s%sindex.html", h->root, rel,
                         *rel ? "/" : "") >= sizeof path)
        return -404;
    fd = http_open_inside(h, path, sb);
    *index = 1;
done:
    if (fd >= 0 && !S_ISREG(sb->st_mode)) {
        close(fd);
        return -404;
    }
    return fd;
}

static const char *http_mime(const char *name)
{
    static const char *const map[][2] = {
        { "html", "text/html; charset=utf-8" },
        { "htm", "text/html; charset=utf-8" },
        { "txt", "text/plain; charset=utf-8" },
        { "md", "text/plain; charset=utf-8" },
        { "c", "text/plain; charset=utf-8" },
        { "h", "text/plain; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" },
        { "json", "application/json" },
        { "xml", "application/xml" },
        { "png", "image/png" },
        { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },
        { "svg", "image/svg+xml" },
        { "ico", "image/x-icon" },
        { "webp", "image/webp" },
        { "pdf", "application/pdf" },
        { "wasm", "application/wasm" },
        { "pcap", "application/vnd.tcpdump.pcap" },
        { "gz", "application/gzip" },
        { "tar", "application/x-tar" },
        { "zip", "application/zip" },
    };
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    if (dot && dot[1])
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcasecmp(dot + 1, map[i][0]) == 0)
                return map[i][1];
    return "application/octet-stream";
}

/* ---- responses ---------------------------------------------------------- */

static void http_date(char *buf, size_t cap, time_t t)
{
    struct tm tm;
    strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
}

/* The response head into c->out: its length. extra: more header lines
 * (each ending in CRLF) or "". */
static size_t http_head(struct http_conn *c, int code, const char *type,
                        unsigned long long len, const char *extra)
{
    char date[64];
    http_date(date, sizeof date, time(NULL));
    const char *conn = !c->keep ? "Connection: close\r\n"
                       : c->minor == 0 ? "Connection: keep-alive\r\n" : "";
    int n = snprintf(c->out, HTTP_HDR_ROOM,
                     "HTTP/1.1 %d %s\r\n"
                     "Date: %s\r\n"
                     "Server: tapstack\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %llu\r\n"
                     "%s%s\r\n",
                     code, http_reason(code), date, type, len, extra, conn);
    return n < 0 ? 0 : (size_t)n >= HTTP_HDR_ROOM ? HTTP_HDR_ROOM - 1 : (size_t)n;
}

/* A response with an in-memory body. 0 or -1 (connection gone). */
static int http_reply(struct http_conn *c, int code, const char *type,
                      const char *body, size_t blen, const char *extra)
{
    size_t n = http_head(c, code, type, blen, extra);
    if (!c->head_only && blen <= HTTP_CHUNK) {
        memcpy(c->out + n, body, blen);
        n += blen;
        blen = 0;
    }
    if (http_send_all(c, c->out, n) < 0)
        return -1;
    return c->head_only || blen == 0 ? 0 : http_send_all(c, body, blen);
}

static int http_error(struct http_conn *c, int code, const char *extra)
{
    char body[256];
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                     "<body><h1>%d %s</h1></body></html>\n",
                     code, http_reason(code), code, http_reason(code));
    return http_reply(c, code, "text/html; charset=utf-8", body, (size_t)n,
                      extra ? extra : "");
}

/* Send the file: the head and the first chunk in one ts_send, then the
 * rest in chunks. A file that shrank meanwhile cuts the connection (the
 * length was promised). 0 or -1. */
static int http_send_file(struct http_conn *c, int fd, const struct stat *sb,
                          const char *type)
{
    char lm[64], extra[96];
    http_date(lm, sizeof lm, sb->st_mtime);
    snprintf(extra, sizeof extra, "Last-Modified: %s\r\n", lm);
    unsigned long long left = (unsigned long long)sb->st_size;
    size_t n = http_head(c, 200, type, left, extra);
    if (c->head_only)
        return http_send_all(c, c->out, n);
    char *buf = c->out + n;
    size_t room = HTTP_HDR_ROOM + HTTP_CHUNK - n;
    for (;;) {
        size_t want = left < room ? (size_t)left : room;
        ssize_t k = want ? read(fd, buf, want) : 0;
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 || (k == 0 && left > 0)) {
            if (n) {                /* nothing sent yet: say so */
                c->keep = 0;
                http_error(c, 500, NULL);
            }
            return -1;
        }
        left -= (unsigned long long)k;
        if (http_send_all(c, c->out, n + (size_t)k) < 0)
            return -1;
        if (left == 0)
            return 0;
        n = 0;
        buf = c->out;
        room = HTTP_HDR_ROOM + HTTP_CHUNK;
    }
}

/* Answer a GET or HEAD for target. 0 or -1 (connection gone). */
static int http_serve(struct http_conn *c, const char *target)
{
    char rel[TS_HTTP_MAX_LINE + 1];
    const char *raw;
    size_t raw_len;
    int slash;
    int st = ts_http_path(target, rel, sizeof rel, &slash, &raw_len, &raw);
    if (st) {
        if (st == 400)
            c->keep = 0;
        return http_error(c, st, NULL);
    }
    if (!c->h->root) {
        if (*rel == '\0' || strcmp(rel, "index.html") == 0)
            return http_reply(c, 200, "text/html; charset=utf-8",
                              http_builtin_page, sizeof http_builtin_page - 1, "");
        return http_error(c, 404, NULL);
    }
    struct stat sb;
    int index = 0;
    int fd = http_open_file(c->h, rel, slash, &sb, &index);
    if (fd == -301) {
        char loc[TS_HTTP_MAX_LINE + 32];
        snprintf(loc, sizeof loc, "Location: %.*s/\r\n", (int)raw_len, raw);
        return http_error(c, 301, loc);
    }
    if (fd < 0)
        return http_error(c, -fd, NULL);
    int rc = http_send_file(c, fd, &sb,
                            index ? "text/html; charset=utf-8" : http_mime(rel));
    close(fd);
    return rc;
}

/* One request, its head complete in c->in[0..end). 0 to go on, -1 to
 * close. */
static int http_request(struct http_conn *c, size_t end)
{
    struct ts_http_req r;       /* points into c->in: used before it moves */
    int st = ts_http_parse_request(c->in, end, &r);
    c->minor = r.minor;
    c->head_only = r.method && strcmp(r.method, "HEAD") == 0;
    c->keep = r.minor >= 1 ? !r.close : r.keepalive && !r.close;
    if (st) {
        c->keep = 0;
        http_error(c, st, NULL);
        return -1;
    }
    /* A body is dropped: what follows it is the next request. */
    size_t body = r.have_len ? (size_t)r.content_len : 0;
    size_t have = c->len - end < body ? c->len - end : body;
    if (body > have && http_drop_body(c, body - have) < 0)
        return -1;
    int rc;
    if (strcmp(r.method, "GET") != 0 && strcmp(r.method, "HEAD") != 0)
        rc = http_error(c, 405, "Allow: GET, HEAD\r\n");
    else
        rc = http_serve(c, r.target);
    memmove(c->in, c->in + end + have, c->len - end - have);
    c->len -= end + have;
    return rc < 0 || !c->keep ? -1 : 0;
}

/* Closing with unread bytes would send RST, and a RST can destroy our last
 * response in the peer's buffer before it is read: so half-close, and read
 * and drop until the peer closes too, for a bounded time ("lingering
 * close", RFC 9112 §9.6). */
static void http_linger(struct http_conn *c)
{
    uint64_t until = http_now_ms() + HTTP_LINGER_MS;
    char sink[4096];
    if (ts_shutdown(c->st, c->fd, SHUT_WR) < 0)
        return;
    for (;;) {
        ssize_t n = ts_recv(c->st, c->fd, sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN) || http_now_ms() >= until)
            return;
    }
}

static void http_conn_main(struct ts_stack *st, int fd,
                           const struct sockaddr_in *peer, void *ctx)
{
    (void)peer;
    struct http_conn *c = calloc(1, sizeof *c);
    char *out = malloc(HTTP_HDR_ROOM + HTTP_CHUNK);
    if (!c || !out) {
        free(c);
        free(out);
        return;
    }
    c->st = st;
    c->fd = fd;
    c->h = ctx;
    c->out = out;
    struct timeval tv = { 0, HTTP_SLICE_MS * 1000 };
    int one = 1;
    ts_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ts_setsockopt(st, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        size_t end = 0;
        enum http_read rd = http_read_head(c, &end);
        c->keep = 0;
        c->head_only = 0;
        c->minor = 1;
        if (rd == HTTP_READ_OK) {
            if (http_request(c, end) < 0)
                break;
            continue;
        }
        if (rd == HTTP_READ_TIMEOUT)
            http_error(c, 408, NULL);
        else if (rd == HTTP_READ_LINE_LONG)
            http_error(c, 414, NULL);
        else if (rd == HTTP_READ_HEAD_LONG)
            http_error(c, 431, NULL);
        break;
    }
    if (!c->gone)
        http_linger(c);
    free(out);
    free(c);
}

struct ts_http *ts_http_start(struct ts_stack *st, uint16_t port,
                              const char *docroot)
{
    struct ts_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (docroot) {
        struct stat sb;
        h->root = realpath(docroot, NULL);
        if (!h->root || stat(h->root, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
            int err = h->root ? ENOTDIR : errno;
            free(h->root);
            free(h);
            errno = err;
            return NULL;
        }
        h->rootlen = strlen(h->root);
    }
    h->srv = ts_server_start(st, port, http_conn_main, h);
    if (!h->srv) {
        int err = errno;
        free(h->root);
        free(h);
        errno = err;
        return NULL;
    }
    return h;
}

uint16_t ts_http_port(const struct ts_http *h)
{
    return ts_server_port(h->srv);
}

void ts_http_stop(struct ts_http *h)
{
    if (!h)
        return;
    ts_server_stop(h->srv);
    free(h->root);
    free(h);
}
