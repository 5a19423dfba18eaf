/* tools/ts-wget.c - download one http:// URL over tapstack into a file.
 *
 * One HTTP/1.1 GET with "Connection: close". The body is delimited as RFC
 * 9112 §6.3 says for a response: Transfer-Encoding: chunked first, else
 * Content-Length, else the server closing the connection. Redirects are
 * reported, not followed; 1xx interim answers are skipped. Every wait goes
 * through ts_poll with short ticks, so --timeout and SIGINT are noticed; a
 * small buffered reader over ts_recv serves the head and the chunk lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tools/lib/ts_app.h"

#define WG_BUF 65536
#define WG_LINE_MAX 8192            /* status, header or chunk-size line */
#define WG_TICK_MS 200
#define WG_EXIT_FAIL 1              /* network, protocol or file error */
#define WG_EXIT_HTTP 3              /* the server answered 4xx or 5xx */
#define WG_EXIT_REDIRECT 4          /* 3xx: not followed */

struct wget {
    struct ts_app app;
    struct ts_stack *st;
    int fd;
    long timeout_ms;
    int quiet;
    /* the URL */
    struct sockaddr_in to;
    char hostport[32];              /* for the Host header: "10.0.0.1:8000" */
    char path[4096];                /* "/dir/file?q", no #fragment */
    /* the buffered reader */
    char buf[WG_BUF];
    size_t pos, len;
    /* the response */
    int status;
    char reason[128];
    long long length;               /* Content-Length, -1: none */
    int chunked;
    char location[1024];
    /* progress */
    FILE *out;
    long long got;
    double t0, last_shown;
    int shown;
};

static double wg_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* End a progress line left open on the terminal. */
static void wg_progress_end(struct wget *w)
{
    if (w->shown)
        fputc('\n', stderr);
    w->shown = 0;
}

__attribute__((format(printf, 2, 3)))
static int wg_fail(struct wget *w, const char *fmt, ...)
{
    va_list ap;
    wg_progress_end(w);
    fprintf(stderr, "%s: ", w->app.name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* http://A.B.C.D[:PORT][/PATH]: the address only, there is no DNS. */
static void wg_parse_url(struct wget *w, const char *url)
{
    char ip[16];
    unsigned long port = 80;
    if (strncasecmp(url, "http://", 7) != 0)
        ts_app_usage_error(&w->app, "URL '%s': want http://A.B.C.D[:PORT]/PATH", url);
    const char *host = url + 7, *end = host + strcspn(host, ":/?#");
    if ((size_t)(end - host) >= sizeof ip)
        ts_app_usage_error(&w->app, "URL '%s': the host must be an IPv4 address", url);
    memcpy(ip, host, (size_t)(end - host));
    ip[end - host] = '\0';
    if (*end == ':') {
        char *stop;
        errno = 0;
        port = strtoul(end + 1, &stop, 10);
        if (errno || stop == end + 1 || port < 1 || port > 65535 ||
            (*stop && *stop != '/' && *stop != '?'))
            ts_app_usage_error(&w->app, "URL '%s': bad port", url);
        end = stop;
    }
    w->to = ts_app_ipv4(&w->app, "URL host", ip, (uint16_t)port);
    if (port == 80)
        snprintf(w->hostport, sizeof w->hostport, "%s", ip);
    else
        snprintf(w->hostport, sizeof w->hostport, "%s:%lu", ip, port);
    int n = snprintf(w->path, sizeof w->path, "%s%.*s", *end == '/' ? "" : "/",
                     (int)strcspn(end, "#"), end);
    if (n < 0 || (size_t)n >= sizeof w->path)
        ts_app_usage_error(&w->app, "URL '%.40s...' is too long", url);
    if (strpbrk(w->path, " \t\r\n"))
        ts_app_usage_error(&w->app, "URL '%s': spaces must be written %%20", url);
}

/* The file name wget would pick: the last segment of the path. */
static const char *wg_default_name(const char *path, char *buf, size_t size)
{
    size_t end = strcspn(path, "?#");
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (end == start || end - start >= size ||
        (end - start <= 2 && strncmp(path + start, "..", end - start) == 0))
        return "index.html";
    memcpy(buf, path + start, end - start);
    buf[end - start] = '\0';
    return buf;
}

/* Wait for events on the socket: 0 when they came, -1 on time-out, SIGINT
 * or error (said). */
static int wg_wait(struct wget *w, short events)
{
    struct pollfd p = { .fd = w->fd, .events = events };
    double deadline = wg_now() + w->timeout_ms / 1000.0;
    for (;;) {
        if (ts_app_stopped())
            return wg_fail(w, "interrupted");
        int n = ts_poll(w->st, &p, 1, WG_TICK_MS);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return wg_fail(w, "poll: %s", strerror(errno));
        if (wg_now() >= deadline)
            return wg_fail(w, "timed out after %ld s without an answer",
                           w->timeout_ms / 1000);
    }
}

/* Non-blocking connect, ts_poll for POLLOUT, then SO_ERROR. */
static int wg_connect(struct wget *w)
{
    char a[TS_APP_ADDRSTRLEN];
    int err = 0;
    socklen_t len = sizeof err;
    w->fd = ts_socket(w->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (w->fd < 0)
        return wg_fail(w, "socket: %s", strerror(errno));
    ts_app_fmt_addr(&w->to, a);
    if (ts_connect(w->st, w->fd, (struct sockaddr *)&w->to, sizeof w->to) < 0 &&
        errno != EINPROGRESS)
        return wg_fail(w, "connect to %s: %s", a, strerror(errno));
    if (wg_wait(w, POLLOUT) < 0)
        return -1;
    if (ts_getsockopt(w->st, w->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
        return wg_fail(w, "connect to %s: %s", a, strerror(err ? err : errno));
    if (w->app.verbose)
        fprintf(stderr, "%s: connected to %s\n", w->app.name, a);
    return 0;
}

static int wg_send_request(struct wget *w)
{
    char req[WG_LINE_MAX + 512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: ts-wget/1.0 (tapstack)\r\n"
                     "Accept: */*\r\n"
                     "Accept-Encoding: identity\r\n"
                     "Connection: close\r\n"
                     "\r\n", w->path, w->hostport);
    if (n < 0 || (size_t)n >= sizeof req)
        return wg_fail(w, "URL too long");
    for (int off = 0; off < n;) {
        if (wg_wait(w, POLLOUT) < 0)
            return -1;
        ssize_t s = ts_send(w->st, w->fd, req + off, (size_t)(n - off), 0);
        if (s < 0 && errno != EAGAIN && errno != EINTR)
            return wg_fail(w, "send: %s", strerror(errno));
        off += s > 0 ? (int)s : 0;
    }
    return 0;
}

/* Refill the reader: 1 with data, 0 at end of stream, -1 on error. */
static int wg_fill(struct wget *w)
{
    if (w->pos < w->len)
        return 1;
    w->pos = w->len = 0;
    for (;;) {
        if (wg_wait(w, POLLIN) < 0)
            return -1;
        ssize_t n = ts_recv(w->st, w->fd, w->buf, sizeof w->buf, 0);
        if (n > 0) {
            w->len = (size_t)n;
            return 1;
        }
        if (n == 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR) {
            wg_fail(w, "receive: %s", strerror(errno));
            return -1;
        }
    }
}

/* One line without its CRLF (or bare LF) into line[WG_LINE_MAX]. */
static int wg_line(struct wget *w, char *line, const char *what)
{
    size_t n = 0;
    for (;;) {
        int rc = wg_fill(w);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return wg_fail(w, "connection closed in the middle of the %s", what);
        char c = w->buf[w->pos++];
        if (c == '\n')
            break;
        if (n == WG_LINE_MAX - 1)
            return wg_fail(w, "%s line longer than %d bytes", what, WG_LINE_MAX);
        line[n++] = c;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    return 0;
}

static char *wg_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* The status line and the headers we need; 1xx answers are skipped. */
static int wg_read_head(struct wget *w)
{
    char line[WG_LINE_MAX];
    do {
        int minor, status, used = 0;
        if (wg_line(w, line, "response head") < 0)
            return -1;
        if (sscanf(line, "HTTP/1.%1d %3d%n", &minor, &status, &used) != 2 ||
            status < 100 || (line[used] != ' ' && line[used] != '\0'))
            return wg_fail(w, "not an HTTP/1.x response: '%.60s'", line);
        w->status = status;
        snprintf(w->reason, sizeof w->reason, "%s", wg_trim(line + used));
        if (w->app.verbose)
            fprintf(stderr, "%s: < %s\n", w->app.name, line);
        w->length = -1;
        w->chunked = 0;
        w->location[0] = '\0';
        for (;;) {
            if (wg_line(w, line, "response head") < 0)
                return -1;
            if (!line[0])
                break;
            if (w->app.verbose)
                fprintf(stderr, "%s: < %s\n", w->app.name, line);
            char *colon = strchr(line, ':');
            if (!colon)
                return wg_fail(w, "malformed header line '%.60s'", line);
            *colon = '\0';
            char *value = wg_trim(colon + 1);
            if (strcasecmp(line, "Content-Length") == 0) {
                char *end;
                errno = 0;
                long long v = strtoll(value, &end, 10);
                if (errno || end == value || *end || v < 0 ||
                    (w->length >= 0 && v != w->length))
                    return wg_fail(w, "bad Content-Length '%s'", value);
                w->length = v;
            } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
                /* chunked, when it is the last coding applied */
                char *last = strrchr(value, ',');
                w->chunked = strcasecmp(wg_trim(last ? last + 1 : value),
                                        "chunked") == 0;
            } else if (strcasecmp(line, "Location") == 0) {
                snprintf(w->location, sizeof w->location, "%s", value);
            }
        }
    } while (w->status < 200);
    return 0;
}

static void wg_size(char *buf, size_t size, double bytes)
{
    if (bytes >= 1048576)
        snprintf(buf, size, "%.1f MiB", bytes / 1048576);
    else if (bytes >= 1024)
        snprintf(buf, size, "%.1f KiB", bytes / 1024);
    else
        snprintf(buf, size, "%.0f bytes", bytes);
}

/* On stderr, once the download has taken a second: a line updated in
 * place on a terminal, else a line every 2 seconds. */
static void wg_progress(struct wget *w)
{
    double now = wg_now(), secs = now - w->t0;
    int tty = isatty(2);
    if (w->quiet || secs < 1 || now - w->last_shown < (tty ? 0.25 : 2))
        return;
    char got[32], total[64] = "", rate[32];
    wg_size(got, sizeof got, (double)w->got);
    wg_size(rate, sizeof rate, secs > 0 ? w->got / secs : 0);
    if (w->length > 0) {
        char t[32];
        wg_size(t, sizeof t, (double)w->length);
        snprintf(total, sizeof total, " of %s (%d%%)", t,
                 (int)(100.0 * (double)w->got / (double)w->length));
    }
    fprintf(stderr, "%s%s: %s%s, %s/s%s", tty ? "\r" : "", w->app.name, got,
            total, rate, tty ? "   " : "\n");
    w->shown = tty;
    w->last_shown = now;
}

/* Copy n bytes of body (n < 0: up to the end of the stream) to the file. */
static int wg_copy(struct wget *w, long long n)
{
    while (n != 0) {
        int rc = wg_fill(w);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            if (n < 0)
                return 0;
            return wg_fail(w, "connection closed early: %lld bytes missing", n);
        }
        size_t k = w->len - w->pos;
        if (n >= 0 && (long long)k > n)
            k = (size_t)n;
        if (fwrite(w->buf + w->pos, 1, k, w->out) != k)
            return wg_fail(w, "write: %s", strerror(errno));
        w->pos += k;
        w->got += (long long)k;
        if (n > 0)
            n -= (long long)k;
        wg_progress(w);
    }
    return 0;
}

/* Transfer-Encoding: chunked (RFC 9112 §7.1): size line, data, CRLF, ...,
 * a zero size, trailer lines, an empty line. */
static int wg_copy_chunked(struct wget *w)
{
    char line[WG_LINE_MAX];
    for (;;) {
        if (wg_line(w, line, "chunk size") < 0)
            return -1;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(line, &end, 16);
        if (errno || end == line || (*end && *end != ';' && *end != ' ' &&
                                     *end != '\t') || size > (1ull << 62))
            return wg_fail(w, "bad chunk size line '%.40s'", line);
        if (size == 0)
            break;
        if (wg_copy(w, (long long)size) < 0 || wg_line(w, line, "chunk") < 0)
            return -1;
        if (line[0])
            return wg_fail(w, "chunk data longer than its size");
    }
    do {                    /* trailer fields, ignored */
        if (wg_line(w, line, "chunk trailer") < 0)
            return -1;
    } while (line[0]);
    return 0;
}

/* Fetch the URL into `file` ("-": stdout); an exit status. */
static int wg_fetch(struct wget *w, const char *url, const char *file)
{
    if (wg_connect(w) < 0 || wg_send_request(w) < 0 || wg_read_head(w) < 0)
        return WG_EXIT_FAIL;
    if (w->status >= 400) {
        fprintf(stderr, "%s: %s: the server answered %d %s\n", w->app.name,
                url, w->status, w->reason);
        return WG_EXIT_HTTP;
    }
    if (w->status >= 300) {
        fprintf(stderr, "%s: %s: %d %s: redirected to %s (not followed)\n",
                w->app.name, url, w->status, w->reason,
                w->location[0] ? w->location : "(no Location given)");
        return WG_EXIT_REDIRECT;
    }
    int to_stdout = strcmp(file, "-") == 0;
    w->out = to_stdout ? stdout : fopen(file, "wb");
    if (!w->out) {
        wg_fail(w, "%s: %s", file, strerror(errno));
        return WG_EXIT_FAIL;
    }
    w->t0 = w->last_shown = wg_now();
    int rc = w->status == 204 ? 0
           : w->chunked ? wg_copy_chunked(w)
           : wg_copy(w, w->length);         /* -1: until the server closes */
    wg_progress_end(w);
    if ((to_stdout ? fflush(w->out) : fclose(w->out)) != 0 && rc == 0)
        rc = wg_fail(w, "%s: %s", file, strerror(errno));
    if (rc < 0) {
        if (!to_stdout)
            fprintf(stderr, "%s: the partial download stays in '%s'\n",
                    w->app.name, file);
        return WG_EXIT_FAIL;
    }
    if (!w->quiet) {
        double secs = wg_now() - w->t0;
        char size[32], rate[32];
        wg_size(size, sizeof size, (double)w->got);
        wg_size(rate, sizeof rate, secs > 0 ? w->got / secs : 0);
        fprintf(stderr, "%s: saved '%s': %lld bytes (%s) in %.2f s, %s/s%s\n",
                w->app.name, to_stdout ? "(stdout)" : file, w->got, size, secs,
                rate, w->chunked ? ", chunked" : w->length < 0 ? ", to close" : "");
    }
    return 0;
}

static const char wg_help[] =
"Download URL with HTTP/1.1 over tapstack into a file, like wget. URL is\n"
"http://A.B.C.D[:PORT][/PATH]: an IPv4 address, as the stack has no DNS.\n"
"\n"
"The body may come with a Content-Length, in chunks (Transfer-Encoding:\n"
"chunked) or until the server closes the connection; a body cut short is an\n"
"error. Redirects (3xx) are reported with their Location, not followed; an\n"
"error status (4xx, 5xx) writes no file. Progress goes to stderr once a\n"
"download takes more than a second.\n"
"\n"
"  -O, --output-document FILE\n"
"                           write to FILE ('-': standard output); default: the\n"
"                           last segment of the URL's path, or index.html\n"
"  -T, --timeout SECONDS    give up connecting, or when no data has come for\n"
"                           SECONDS, 1..3600 (default 30)\n"
"  -q, --quiet              no progress and no summary, only errors\n";

static const char wg_epilog[] =
"Example, with a web server on the host side of the TAP (in a network\n"
"namespace of your own):\n"
"  python3 -m http.server 8000 &\n"
"  ts-wget --host-addr 10.0.0.1/24 -O copy http://10.0.0.1:8000/file\n"
"\n"
"With -v the response head is shown on stderr, and the stack's counters at\n"
"the end.\n"
"\n"
"Exit status: 0 when the file was saved; 1 on a network, protocol or file\n"
"error (refused, timed out, cut short, malformed); 2 on bad arguments or\n"
"when the stack cannot be opened; 3 when the server answered with an error\n"
"(4xx, 5xx); 4 when it redirected elsewhere.\n";

int main(int argc, char **argv)
{
    static struct wget w = { .app = { .name = "ts-wget", .synopsis = "[OPTION]... URL",
        .help = wg_help, .epilog = wg_epilog }, .timeout_ms = 30000, .fd = -1 };
    static const struct option opts[] = {
        { "output-document", required_argument, NULL, 'O' },
        { "timeout", required_argument, NULL, 'T' },
        { "quiet", no_argument, NULL, 'q' },
        TS_APP_LONGOPTS,
        { 0 }
    };
    const char *file = NULL;
    char name[256];
    int c;
    ts_app_init(&w.app);
    while ((c = getopt_long(argc, argv, "O:T:q" TS_APP_SHORTOPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'O': file = optarg; break;
        case 'T': w.timeout_ms = 1000 * ts_app_number(&w.app, "--timeout", optarg, 1, 3600); break;
        case 'q': w.quiet = 1; break;
        default: ts_app_option(&w.app, c, optarg);
        }
    }
    if (argc - optind != 1)
        ts_app_usage_error(&w.app, "want one URL");
    wg_parse_url(&w, argv[optind]);
    if (!file)
        file = wg_default_name(w.path, name, sizeof name);

    w.st = ts_app_open(&w.app);
    int rc = wg_fetch(&w, argv[optind], file);
    if (w.fd >= 0)
        ts_close(w.st, w.fd);
    ts_app_close(&w.app, w.st);
    return rc;
}
