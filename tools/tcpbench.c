/* tools/tcpbench.c - a small TCP benchmark on the HOST's kernel sockets.
 *
 * Client modes measure one connection to a discard, chargen or echo server
 * (tapstack's own services, or the kernel-socket servers below):
 *   send   write N bytes or for T seconds, half-close, wait for the server's
 *          FIN (so every byte was taken by the server), report bytes/s;
 *   recv   read N bytes or for T seconds, check the RFC 864 pattern, report;
 *   rr     T seconds of MSG-byte write + read-back-exactly, one outstanding
 *          at a time, report round trips/s and latency.
 * Server modes serve one connection at a time, on kernel sockets, as the
 * reference side of `make bench`: serve-discard, serve-chargen, serve-echo.
 *
 * Each run prints one machine-readable line on stdout
 * (`tcpbench MODE key=value ...`). Every loop is bounded by time: a client by
 * --time plus --timeout (no progress for that long is an error), a server by
 * --lifetime and, per connection, --timeout. Only libc: this runs on the
 * host side, not on tapstack.
 *
 * Exit status: 0 done, 1 a run failed (refused, reset, stall, bad data),
 * 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TB_PERIOD (74 * 95)         /* chargen: 95 lines of 72 chars + CRLF */
#define TB_CHUNK_MAX (4u << 20)
#define TB_SLICE_MS 200             /* blocking calls wake this often */
#define TB_HIST_US 10000            /* rr latency histogram, 1 us buckets */

enum tb_mode {
    TB_SEND, TB_RECV, TB_RR, TB_SERVE_DISCARD, TB_SERVE_CHARGEN, TB_SERVE_ECHO,
};

static const char *const tb_mode_name[] = {
    "send", "recv", "rr", "serve-discard", "serve-chargen", "serve-echo",
};

struct tb_opts {
    enum tb_mode mode;
    struct in_addr host, bind;
    int have_host;
    unsigned port;
    uint64_t bytes;                 /* 0: limited by time only */
    double secs;                    /* run length (client) */
    int have_secs;
    size_t size;                    /* rr message */
    size_t chunk;                   /* bytes per read/write call */
    double timeout;                 /* connect / no-progress bound */
    double lifetime;                /* server */
    unsigned conns;                 /* server: 0 = until lifetime */
    int verify;
};

static uint8_t tb_pattern[TB_PERIOD + TB_CHUNK_MAX];

static void tb_usage(FILE *out)
{
    fprintf(out,
"Usage: tcpbench MODE [OPTION]...\n"
"       tcpbench serve-discard|serve-chargen|serve-echo PORT [OPTION]...\n"
"A small TCP benchmark on the host's kernel sockets (the reference and the\n"
"driver for `make bench`). Prints one line per run: tcpbench MODE key=value...\n"
"\n"
"Client modes (connect to --host, one connection):\n"
"  send     write --bytes N or for --time T, half-close, wait until the server\n"
"           has read it all (its FIN); report bytes/s (default port 9, discard)\n"
"  recv     read --bytes N or for --time T, check the RFC 864 chargen pattern;\n"
"           report bytes/s (default port 19, chargen)\n"
"  rr       for --time T: write --size bytes, read exactly as many back,\n"
"           one outstanding at a time; report round trips/s and latency\n"
"           (default port 7, echo)\n"
"Server modes (kernel sockets, one connection at a time, until --lifetime or\n"
"--conns connections have been served):\n"
"  serve-discard PORT   read and drop until end of stream, then close\n"
"  serve-chargen PORT   send the RFC 864 pattern until the client leaves\n"
"  serve-echo PORT      send back what arrives, until end of stream\n"
"\n"
"  -a, --host A.B.C.D   server address (client modes; required)\n"
"  -p, --port N         server port (client modes)\n"
"  -n, --bytes N[K|M|G] amount for send/recv (K=1024); with --time, whichever\n"
"                       comes first\n"
"  -t, --time SECS      run length for send/recv/rr (default 5; with --bytes\n"
"                       alone: no time limit but --timeout on stalls)\n"
"  -s, --size N         rr message size, 1..65536 (default 64)\n"
"  -c, --chunk N[K|M]   bytes per read/write call, 1..4M (default 128K)\n"
"  -T, --timeout SECS   connect time-out, and longest time without progress\n"
"                       before a run is abandoned (default 10)\n"
"  -b, --bind A.B.C.D   server: listen on this address (default any)\n"
"  -l, --lifetime SECS  server: exit after this long (default 300)\n"
"  -C, --conns N        server: exit after serving N connections (default 0:\n"
"                       until --lifetime)\n"
"      --no-verify      recv/rr: do not check the bytes received\n"
"  -h, --help           print this help and exit\n"
"\n"
"Examples:\n"
"  tcpbench serve-discard 9 --bind 10.0.1.2 --lifetime 60 &\n"
"  tcpbench send --host 10.0.1.2 --port 9 --time 5\n"
"  tcpbench recv --host 10.0.0.2 --bytes 1G\n"
"  tcpbench rr --host 10.0.0.2 --time 5 --size 64\n"
"\n"
"Exit status: 0 done, 1 the run failed (refused, reset, stalled, bad data;\n"
"the line then ends with error=...), 2 bad arguments.\n");
}

static void tb_die_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("tcpbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (try --help)\n", stderr);
    exit(2);
}

static double tb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse N with an optional K/M/G (binary) suffix into [lo, hi]. */
static uint64_t tb_parse_size(const char *what, const char *s, uint64_t lo,
                              uint64_t hi)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        tb_die_usage("bad %s '%s'", what, s);
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (errno || end == s || *end != '\0' || v > (UINT64_MAX >> shift))
        tb_die_usage("bad %s '%s'", what, s);
    uint64_t r = (uint64_t)v << shift;
    if (r < lo || r > hi)
        tb_die_usage("%s '%s' out of range %" PRIu64 "..%" PRIu64, what, s,
                     lo, hi);
    return r;
}

static double tb_parse_secs(const char *what, const char *s, double lo,
                            double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi))
        tb_die_usage("bad %s '%s' (seconds, %g..%g)", what, s, lo, hi);
    return v;
}

static struct in_addr tb_parse_addr(const char *what, const char *s)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        tb_die_usage("bad %s '%s' (want A.B.C.D)", what, s);
    return a;
}

static enum tb_mode tb_parse_mode(const char *s)
{
    for (size_t i = 0; i < sizeof tb_mode_name / sizeof tb_mode_name[0]; i++)
        if (strcmp(s, tb_mode_name[i]) == 0)
            return (enum tb_mode)i;
    tb_die_usage("unknown mode '%s'", s);
    return TB_SEND;
}

static void tb_parse(int argc, char **argv, struct tb_opts *o)
{
    static const struct option longopts[] = {
        { "host", required_argument, NULL, 'a' },
        { "port", required_argument, NULL, 'p' },
        { "bytes", required_argument, NULL, 'n' },
        { "time", required_argument, NULL, 't' },
        { "size", required_argument, NULL, 's' },
        { "chunk", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 'T' },
        { "bind", required_argument, NULL, 'b' },
        { "lifetime", required_argument, NULL, 'l' },
        { "conns", required_argument, NULL, 'C' },
        { "no-verify", no_argument, NULL, 'N' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->secs = 5, o->size = 64, o->chunk = 128 << 10, o->timeout = 10;
    o->lifetime = 300, o->verify = 1;
    o->bind.s_addr = htonl(INADDR_ANY);
    /* GNU getopt_long permutes: options may come before or after MODE. */
    int c;
    while ((c = getopt_long(argc, argv, "a:p:n:t:s:c:T:b:l:C:h", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'a': o->host = tb_parse_addr("--host", optarg); o->have_host = 1; break;
        case 'p': o->port = (unsigned)tb_parse_size("--port", optarg, 1, 65535); break;
        case 'n': o->bytes = tb_parse_size("--bytes", optarg, 1, UINT64_MAX >> 1); break;
        case 't': o->secs = tb_parse_secs("--time", optarg, 0.01, 3600); o->have_secs = 1; break;
        case 's': o->size = (size_t)tb_parse_size("--size", optarg, 1, 65536); break;
        case 'c': o->chunk = (size_t)tb_parse_size("--chunk", optarg, 1, TB_CHUNK_MAX); break;
        case 'T': o->timeout = tb_parse_secs("--timeout", optarg, 0.1, 3600); break;
        case 'b': o->bind = tb_parse_addr("--bind", optarg); break;
        case 'l': o->lifetime = tb_parse_secs("--lifetime", optarg, 0.1, 86400); break;
        case 'C': o->conns = (unsigned)tb_parse_size("--conns", optarg, 0, UINT_MAX); break;
        case 'N': o->verify = 0; break;
        case 'h': tb_usage(stdout); exit(0);
        default: fputs("tcpbench: try --help\n", stderr); exit(2);
        }
    }
    if (optind >= argc)
        tb_die_usage("missing MODE");
    o->mode = tb_parse_mode(argv[optind++]);
    int server = o->mode >= TB_SERVE_DISCARD;
    if (server) {
        if (optind >= argc)
            tb_die_usage("%s needs a PORT", tb_mode_name[o->mode]);
        o->port = (unsigned)tb_parse_size("PORT", argv[optind++], 1, 65535);
    }
    if (optind < argc)
        tb_die_usage("unexpected argument '%s'", argv[optind]);
    if (server)
        return;
    if (!o->have_host)
        tb_die_usage("%s needs --host A.B.C.D", tb_mode_name[o->mode]);
    if (o->port == 0)
        o->port = o->mode == TB_SEND ? 9 : o->mode == TB_RECV ? 19 : 7;
    if (o->mode == TB_RR && o->bytes)
        tb_die_usage("rr runs for --time; --bytes is for send and recv");
    if (o->bytes && !o->have_secs)
        o->secs = 0;                /* by count only (stalls still bounded) */
}

/* RFC 864 chargen: position p of the stream is
 * col 72 '\r', col 73 '\n', else ' ' + (line + col) % 95, 74 chars a line.
 * The table repeats one period so any chunk is one contiguous slice. */
static void tb_pattern_init(void)
{
    for (size_t p = 0; p < sizeof tb_pattern; p++) {
        size_t q = p % TB_PERIOD, line = q / 74, col = q % 74;
        tb_pattern[p] = col == 72 ? '\r' : col == 73 ? '\n'
                                         : (uint8_t)(' ' + (line + col) % 95);
    }
}

static void tb_set_timeo(int fd, double secs)
{
    struct timeval tv = { .tv_sec = (time_t)secs,
                          .tv_usec = (suseconds_t)((secs - (double)(time_t)secs) * 1e6) };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void tb_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Connect with a time bound (SO_SNDTIMEO bounds connect on Linux); then
 * blocking calls wake every TB_SLICE_MS so loops can watch the clock. */
static int tb_connect(const struct tb_opts *o, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket:%s", strerror(errno));
        return -1;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = o->host,
                              .sin_port = htons((uint16_t)o->port) };
    tb_set_timeo(fd, o->timeout);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        snprintf(err, errlen, "connect:%s",
                 e == EINPROGRESS || e == EAGAIN ? "timed-out" : strerror(e));
        close(fd);
        return -1;
    }
    tb_set_timeo(fd, TB_SLICE_MS / 1000.0);
    return fd;
}

static int tb_would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

static void tb_errno(char *err, size_t errlen, const char *what, int e)
{
    snprintf(err, errlen, "%s:%s", what, strerror(e));
    for (char *p = err; *p; p++)
        if (*p == ' ')
            *p = '-';
}

struct tb_result {
    uint64_t bytes, rounds;
    double secs, drain;
    double lat_min, lat_sum, lat_max;
    uint32_t hist[TB_HIST_US + 1];
    char err[96];
};

/* send: write until --bytes or --time, then half-close and wait for the
 * server's FIN, so what is counted has reached the server application. */
static void tb_run_send(const struct tb_opts *o, int fd, struct tb_result *r)
{
    double t0 = tb_now(), end = o->secs > 0 ? t0 + o->secs : 0, last = t0;
    while ((o->bytes == 0 || r->bytes < o->bytes) && (end == 0 || tb_now() < end)) {
        size_t n = o->chunk;
        if (o->bytes && o->bytes - r->bytes < n)
            n = (size_t)(o->bytes - r->bytes);
        ssize_t k = send(fd, tb_pattern, n, MSG_NOSIGNAL);
        double now = tb_now();
        if (k > 0) {
            r->bytes += (uint64_t)k;
            last = now;
        } else if (k < 0 && tb_would_block(errno)) {
            if (now - last > o->timeout) {
                snprintf(r->err, sizeof r->err, "stalled");
                break;
            }
        } else {
            tb_errno(r->err, sizeof r->err, "send", k < 0 ? errno : EPIPE);
            break;
        }
    }
    double t1 = tb_now();
    if (!r->err[0]) {
        shutdown(fd, SHUT_WR);
        uint8_t buf[4096];
        for (last = tb_now();;) {
            ssize_t k = recv(fd, buf, sizeof buf, 0);
            if (k == 0)
                break;
            if (k > 0 || tb_would_block(errno)) {
                if (tb_now() - last > o->timeout) {
                    snprintf(r->err, sizeof r->err, "no-fin-from-server");
                    break;
                }
                continue;
            }
            tb_errno(r->err, sizeof r->err, "recv", errno);
            break;
        }
    }
    r->secs = tb_now() - t0;
    r->drain = r->secs - (t1 - t0);
}

/* Does buf match the chargen stream at position pos? */
static int tb_check(const uint8_t *buf, size_t n, uint64_t pos)
{
    while (n > 0) {
        size_t off = (size_t)(pos % TB_PERIOD), k = n < TB_CHUNK_MAX ? n : TB_CHUNK_MAX;
        if (memcmp(buf, tb_pattern + off, k) != 0)
            return 0;
        buf += k, n -= k, pos += k;
    }
    return 1;
}

static void tb_run_recv(const struct tb_opts *o, int fd, struct tb_result *r,
                        uint8_t *buf)
{
    double t0 = tb_now(), end = o->secs > 0 ? t0 + o->secs : 0, last = t0;
    while ((o->bytes == 0 || r->bytes < o->bytes) && (end == 0 || tb_now() < end)) {
        size_t n = o->chunk;
        if (o->bytes && o->bytes - r->bytes < n)
            n = (size_t)(o->bytes - r->bytes);
        ssize_t k = recv(fd, buf, n, 0);
        double now = tb_now();
        if (k > 0) {
            if (o->verify && !tb_check(buf, (size_t)k, r->bytes)) {
                snprintf(r->err, sizeof r->err, "bad-data-near-byte-%" PRIu64,
                         r->bytes);
                break;
            }
            r->bytes += (uint64_t)k;
            last = now;
        } else if (k == 0) {
            snprintf(r->err, sizeof r->err, "early-eof");
            break;
        } else if (!tb_would_block(errno)) {
            tb_errno(r->err, sizeof r->err, "recv", errno);
            break;
        } else if (now - last > o->timeout) {
            snprintf(r->err, sizeof r->err, "stalled");
            break;
        }
    }
    r->secs = tb_now() - t0;
}

/* Move exactly n bytes one way (is_send) within the stall bound. */
static int tb_exact(int fd, uint8_t *buf, size_t n, int is_send, double timeout,
                    struct tb_result *r)
{
    size_t done = 0;
    double last = tb_now();
    while (done < n) {
        ssize_t k = is_send ? send(fd, buf + done, n - done, MSG_NOSIGNAL)
                            : recv(fd, buf + done, n - done, 0);
        if (k > 0) {
            done += (size_t)k;
            last = tb_now();
        } else if (k == 0) {
            snprintf(r->err, sizeof r->err, "early-eof");
            return -1;
        } else if (!tb_would_block(errno)) {
            tb_errno(r->err, sizeof r->err, is_send ? "send" : "recv", errno);
            return -1;
        } else if (tb_now() - last > timeout) {
            snprintf(r->err, sizeof r->err, "stalled");
            return -1;
        }
    }
    return 0;
}

static void tb_run_rr(const struct tb_opts *o, int fd, struct tb_result *r,
                      uint8_t *out, uint8_t *in)
{
    tb_nodelay(fd);
    r->lat_min = 1e9;
    double t0 = tb_now(), end = t0 + (o->secs > 0 ? o->secs : 5);
    for (double now = t0; now < end;) {
        /* Vary the message so an echo of stale bytes would show. */
        for (size_t i = 0; i < o->size; i++)
            out[i] = (uint8_t)(r->rounds * 7 + i);
        if (tb_exact(fd, out, o->size, 1, o->timeout, r) < 0 ||
            tb_exact(fd, in, o->size, 0, o->timeout, r) < 0)
            break;
        if (o->verify && memcmp(out, in, o->size) != 0) {
            snprintf(r->err, sizeof r->err, "bad-echo-round-%" PRIu64, r->rounds);
            break;
        }
        double t = tb_now(), us = (t - now) * 1e6;
        r->rounds++;
        r->lat_sum += us;
        if (us < r->lat_min)
            r->lat_min = us;
        if (us > r->lat_max)
            r->lat_max = us;
        r->hist[us < TB_HIST_US ? (size_t)us : TB_HIST_US]++;
        now = t;
    }
    r->secs = tb_now() - t0;
    r->bytes = r->rounds * o->size;
}

/* Latency below which a fraction q of the rounds fell (1 us resolution). */
static unsigned tb_percentile(const struct tb_result *r, double q)
{
    uint64_t want = (uint64_t)((double)r->rounds * q), seen = 0;
    for (unsigned i = 0; i <= TB_HIST_US; i++) {
        seen += r->hist[i];
        if (seen > want)
            return i + 1;
    }
    return TB_HIST_US;
}

static int tb_client(const struct tb_opts *o)
{
    static struct tb_result r;
    uint8_t *buf = malloc(o->chunk > o->size ? o->chunk : o->size);
    uint8_t *buf2 = malloc(o->size);
    if (!buf || !buf2) {
        fputs("tcpbench: out of memory\n", stderr);
        return 1;
    }
    int fd = tb_connect(o, r.err, sizeof r.err);
    if (fd >= 0) {
        if (o->mode == TB_SEND)
            tb_run_send(o, fd, &r);
        else if (o->mode == TB_RECV)
            tb_run_recv(o, fd, &r, buf);
        else
            tb_run_rr(o, fd, &r, buf, buf2);
        close(fd);
    }
    double secs = r.secs > 0 ? r.secs : 1e-9;
    printf("tcpbench %s host=%s port=%u", tb_mode_name[o->mode],
           inet_ntoa(o->host), o->port);
    if (o->mode == TB_RR) {
        printf(" size=%zu rounds=%" PRIu64 " secs=%.3f rps=%.0f", o->size,
               r.rounds, r.secs, (double)r.rounds / secs);
        if (r.rounds)
            printf(" lat_min_us=%.1f lat_avg_us=%.1f lat_p50_us=%u"
                   " lat_p99_us=%u lat_max_us=%.1f", r.lat_min,
                   r.lat_sum / (double)r.rounds, tb_percentile(&r, 0.5),
                   tb_percentile(&r, 0.99), r.lat_max);
    } else {
        printf(" bytes=%" PRIu64 " secs=%.3f gbps=%.3f MBps=%.1f", r.bytes,
               r.secs, (double)r.bytes * 8 / secs / 1e9,
               (double)r.bytes / secs / 1e6);
        if (o->mode == TB_SEND)
            printf(" drain_secs=%.3f", r.drain);
    }
    printf(" %s%s\n", r.err[0] ? "error=" : "status=", r.err[0] ? r.err : "ok");
    fflush(stdout);
    free(buf);
    free(buf2);
    return r.err[0] ? 1 : 0;
}

/* One accepted connection, bounded by deadline and the stall time-out. */
static void tb_serve_conn(const struct tb_opts *o, int fd, double deadline,
                          uint8_t *buf, uint64_t *in, uint64_t *out,
                          const char **why)
{
    uint64_t pos = 0;
    double last = tb_now();
    *why = "eof";
    if (o->mode == TB_SERVE_ECHO)
        tb_nodelay(fd);
    for (;;) {
        double now = tb_now();
        if (now > deadline) {
            *why = "lifetime";
            return;
        }
        if (now - last > o->timeout) {
            *why = "stalled";
            return;
        }
        ssize_t k;
        if (o->mode == TB_SERVE_CHARGEN) {
            k = send(fd, tb_pattern + pos % TB_PERIOD, o->chunk, MSG_NOSIGNAL);
            if (k > 0) {
                pos += (uint64_t)k, *out += (uint64_t)k, last = now;
                continue;
            }
        } else {
            k = recv(fd, buf, o->chunk, 0);
            if (k == 0)
                return;
            if (k > 0) {
                *in += (uint64_t)k, last = now;
                if (o->mode == TB_SERVE_ECHO) {
                    for (ssize_t done = 0, w; done < k; done += w) {
                        w = send(fd, buf + done, (size_t)(k - done), MSG_NOSIGNAL);
                        if (w < 0 && tb_would_block(errno)) {
                            w = 0;
                            if (tb_now() - last > o->timeout || tb_now() > deadline) {
                                *why = "stalled";
                                return;
                            }
                            continue;
                        }
                        if (w <= 0) {
                            *why = strerror(errno);
                            return;
                        }
                        *out += (uint64_t)w;
                    }
                }
                continue;
            }
        }
        if (k < 0 && !tb_would_block(errno)) {
            /* A chargen client leaves by closing with our data unread. */
            *why = errno == EPIPE || errno == ECONNRESET ? "client-left"
                                                        : strerror(errno);
            return;
        }
    }
}

static int tb_server(const struct tb_opts *o)
{
    uint8_t *buf = malloc(o->chunk);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (!buf || lfd < 0) {
        fprintf(stderr, "tcpbench: %s\n", buf ? strerror(errno) : "out of memory");
        return 1;
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = o->bind,
                              .sin_port = htons((uint16_t)o->port) };
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 8) < 0) {
        fprintf(stderr, "tcpbench: %s %s:%u: %s\n", tb_mode_name[o->mode],
                inet_ntoa(o->bind), o->port, strerror(errno));
        return 1;
    }
    printf("tcpbench %s listening=%s:%u lifetime=%.0f\n", tb_mode_name[o->mode],
           inet_ntoa(o->bind), o->port, o->lifetime);
    fflush(stdout);
    double deadline = tb_now() + o->lifetime;
    unsigned served = 0;
    while (o->conns == 0 || served < o->conns) {
        int ms = (int)((deadline - tb_now()) * 1000);
        if (ms <= 0)
            break;
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        if (poll(&p, 1, ms < TB_SLICE_MS ? ms : TB_SLICE_MS) <= 0)
            continue;
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        tb_set_timeo(fd, TB_SLICE_MS / 1000.0);
        uint64_t in = 0, out = 0;
        const char *why;
        double t0 = tb_now();
        tb_serve_conn(o, fd, deadline, buf, &in, &out, &why);
        close(fd);
        served++;
        printf("tcpbench %s conn=%u peer=%s:%u bytes_in=%" PRIu64
               " bytes_out=%" PRIu64 " secs=%.3f end=%s\n", tb_mode_name[o->mode],
               served, inet_ntoa(peer.sin_addr), ntohs(peer.sin_port), in, out,
               tb_now() - t0, why);
        fflush(stdout);
    }
    close(lfd);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    struct tb_opts o;
    tb_parse(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    tb_pattern_init();
    return o.mode >= TB_SERVE_DISCARD ? tb_server(&o) : tb_client(&o);
}
