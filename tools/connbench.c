/* tools/connbench.c - the connection-level drivers of `make bench`, on the
 * host's kernel sockets (tcpbench does the one-connection bulk and RR runs).
 *
 *   cps    for --time T: connect, write 1 byte, read its echo, close; count
 *          connections per second. The close is abortive (SO_LINGER 0, a
 *          RST): neither end keeps the pair in TIME-WAIT, so a long run does
 *          not run out of ports and every stack is treated alike.
 *   hold   open --count N connections to an echo server (each proves itself
 *          with one echoed byte), spread over the --src addresses, giving up
 *          at the first failure (then closing CB_SPARE of them again, so
 *          that the server has room for a measuring client) or after
 *          --time seconds; print how many are held, then keep them until
 *          SIGTERM or --lifetime.
 *   serve  an echo server for any number of connections at once (epoll),
 *          the kernel's side of cps and hold; SO_REUSEPORT, so that a few
 *          of them can share the port when one process may not hold enough
 *          descriptors.
 *   usend  for --time T, send --size-byte UDP datagrams as fast as the
 *          socket takes them (the raw TAP floor's bulk driver).
 * One machine-readable line per run: `connbench MODE key=value ...`, ending
 * with status=ok or error=WHAT. Every loop is bounded by time.
 * Exit status: 0 done, 1 the run failed, 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103             /* linux/udp.h, Linux 4.18 */
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define CB_MAX_SRC 16
#define CB_SPARE 4                  /* hold: closed again after a refusal */

struct cb_opts {
    const char *mode;
    struct in_addr host, bind, src[CB_MAX_SRC];
    unsigned nsrc, port, count, size;
    double secs, timeout, lifetime;
    int have_secs;
};

static volatile sig_atomic_t cb_stop;

static void cb_on_term(int sig)
{
    (void)sig;
    cb_stop = 1;
}

static double cb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cb_usage(FILE *out)
{
    fputs("Usage: connbench cps|hold|usend --host A.B.C.D [OPTION]...\n"
          "       connbench serve PORT [--bind A.B.C.D] [--lifetime S]\n"
          "  cps    connect, 1 byte echoed, abortive close, for --time\n"
          "  hold   hold --count connections to echo (opening for at most\n"
          "         --time s), until SIGTERM/--lifetime\n"
          "  serve  epoll echo server for any number of connections\n"
          "  usend  UDP datagrams of --size bytes for --time seconds\n"
          "  -a --host A  -p --port N  -t --time S  -n --count N\n"
          "  -S --src A[,B...] (hold: source addresses, round robin)\n"
          "  -s --size N (usend, default 1472)  -T --timeout S (default 2)\n"
          "  -b --bind A  -l --lifetime S (default 300)  -h --help\n", out);
}

static void cb_bad(const char *what, const char *arg)
{
    fprintf(stderr, "connbench: bad %s '%s' (try --help)\n", what, arg);
    exit(2);
}

static struct in_addr cb_addr(const char *what, const char *s)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        cb_bad(what, s);
    return a;
}

static double cb_num(const char *what, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < lo || v > hi)
        cb_bad(what, s);
    return v;
}

static void cb_srcs(struct cb_opts *o, char *list)
{
    for (char *save, *t = strtok_r(list, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (o->nsrc == CB_MAX_SRC)
            cb_bad("--src (too many)", t);
        o->src[o->nsrc++] = cb_addr("--src", t);
    }
}

static void cb_parse(int argc, char **argv, struct cb_opts *o)
{
    static const struct option lo[] = {
        { "host", 1, NULL, 'a' }, { "port", 1, NULL, 'p' },
        { "time", 1, NULL, 't' }, { "count", 1, NULL, 'n' },
        { "src", 1, NULL, 'S' }, { "size", 1, NULL, 's' },
        { "timeout", 1, NULL, 'T' }, { "bind", 1, NULL, 'b' },
        { "lifetime", 1, NULL, 'l' }, { "help", 0, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, have_host = 0;
    memset(o, 0, sizeof *o);
    o->port = 7, o->secs = 5, o->timeout = 2, o->lifetime = 300, o->size = 1472;
    while ((c = getopt_long(argc, argv, "a:p:t:n:S:s:T:b:l:h", lo, NULL)) != -1) {
        switch (c) {
        case 'a': o->host = cb_addr("--host", optarg); have_host = 1; break;
        case 'p': o->port = (unsigned)cb_num("--port", optarg, 1, 65535); break;
        case 't': o->secs = cb_num("--time", optarg, 0.01, 3600); o->have_secs = 1; break;
        case 'n': o->count = (unsigned)cb_num("--count", optarg, 1, 1e6); break;
        case 'S': cb_srcs(o, optarg); break;
        case 's': o->size = (unsigned)cb_num("--size", optarg, 1, 65507); break;
        case 'T': o->timeout = cb_num("--timeout", optarg, 0.01, 600); break;
        case 'b': o->bind = cb_addr("--bind", optarg); break;
        case 'l': o->lifetime = cb_num("--lifetime", optarg, 0.1, 86400); break;
        case 'h': cb_usage(stdout); exit(0);
        default: exit(2);
        }
    }
    if (optind >= argc)
        cb_bad("mode", "(none)");
    o->mode = argv[optind++];
    if (!strcmp(o->mode, "serve")) {
        if (optind >= argc)
            cb_bad("serve PORT", "(none)");
        o->port = (unsigned)cb_num("PORT", argv[optind++], 1, 65535);
    } else if (strcmp(o->mode, "cps") && strcmp(o->mode, "hold") &&
               strcmp(o->mode, "usend")) {
        cb_bad("mode", o->mode);
    } else if (!have_host) {
        cb_bad("--host", "(missing)");
    }
    if (optind < argc)
        cb_bad("argument", argv[optind]);
}

/* Enough descriptors for N sockets (root may raise the hard limit). */
static void cb_nofile(unsigned n)
{
    struct rlimit rl = { n + 64, n + 64 };
    struct rlimit cur;
    if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_cur >= rl.rlim_cur)
        return;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        fprintf(stderr, "connbench: cannot raise RLIMIT_NOFILE to %u: %s\n",
                n + 64, strerror(errno));
}

static void cb_timeo(int fd, double secs)
{
    struct timeval tv = { .tv_sec = (time_t)secs,
                          .tv_usec = (suseconds_t)((secs - (double)(time_t)secs) * 1e6) };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* One connection from SRC (or any) that has echoed one byte; -1 and a
 * word in err on failure. */
static int cb_open(const struct cb_opts *o, const struct in_addr *src,
                   char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    const char *what = "socket";
    if (fd < 0)
        goto fail;
    cb_timeo(fd, o->timeout);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (src) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = *src };
        /* The port is chosen at connect, per 4-tuple: more than 64 K
         * connections from a few addresses. */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        what = "bind";
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            goto fail;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = o->host,
                              .sin_port = htons((uint16_t)o->port) };
    char b = 'x';
    what = "connect";
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        goto fail;
    what = "write";
    if (write(fd, &b, 1) != 1)
        goto fail;
    what = "echo";
    errno = 0;
    ssize_t k = read(fd, &b, 1);
    if (k != 1) {
        if (k == 0)
            errno = ECONNRESET;         /* closed before echoing */
        goto fail;
    }
    return fd;
fail:
    snprintf(err, errlen, "%s:%s", what,
             errno == EAGAIN || errno == EINPROGRESS ? "timed-out" : strerror(errno));
    for (char *p = err; *p; p++)
        if (*p == ' ')
            *p = '-';
    if (fd >= 0)
        close(fd);
    return -1;
}

static void cb_abort_close(int fd)
{
    struct linger l = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

static int cb_cps(const struct cb_opts *o)
{
    char err[96] = "";
    unsigned long n = 0;
    double t0 = cb_now(), end = t0 + o->secs, now = t0;
    while (now < end && !cb_stop) {
        int fd = cb_open(o, o->nsrc ? &o->src[n % o->nsrc] : NULL, err, sizeof err);
        if (fd < 0)
            break;
        cb_abort_close(fd);
        n++;
        now = cb_now();
    }
    double secs = cb_now() - t0;
    printf("connbench cps host=%s port=%u conns=%lu secs=%.3f cps=%.0f %s%s\n",
           inet_ntoa(o->host), o->port, n, secs, (double)n / secs,
           err[0] ? "error=" : "status=", err[0] ? err : "ok");
    return err[0] ? 1 : 0;
}

static int cb_hold(const struct cb_opts *o)
{
    unsigned want = o->count ? o->count : 1000, held = 0;
    int *fds = calloc(want, sizeof *fds);
    char err[96] = "";
    if (!fds)
        return 1;
    cb_nofile(want);
    double t0 = cb_now(), end = t0 + o->lifetime;
    double give_up = o->have_secs && t0 + o->secs < end ? t0 + o->secs : end;
    while (held < want && !cb_stop) {
        if (cb_now() >= give_up) {
            snprintf(err, sizeof err, "time-up-after-%.0fs", o->secs);
            break;
        }
        int fd = cb_open(o, o->nsrc ? &o->src[held % o->nsrc] : NULL, err, sizeof err);
        if (fd < 0)
            break;
        fds[held++] = fd;
    }
    /* Refused: the server is full. Give a few back, so that a client
     * measuring it while these are held can still connect. */
    for (unsigned i = 0; err[0] && i < CB_SPARE && held > 0; i++)
        cb_abort_close(fds[--held]);
    printf("connbench hold host=%s port=%u tried=%u held=%u secs=%.3f %s%s\n",
           inet_ntoa(o->host), o->port, want, held, cb_now() - t0,
           err[0] ? "error=" : "status=", err[0] ? err : "ok");
    fflush(stdout);
    while (!cb_stop && cb_now() < end)
        usleep(50000);
    for (unsigned i = 0; i < held; i++)
        cb_abort_close(fds[i]);
    free(fds);
    return 0;
}

static int cb_usend(const struct cb_opts *o)
{
    static char buf[65507];
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = o->host,
                              .sin_port = htons((uint16_t)o->port) };
    unsigned long long bytes = 0, errs = 0;
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("connbench: usend");
        return 1;
    }
    /* UDP GSO: one send(2) carries up to 64 KB, cut by the kernel into
     * --size datagrams, so the sender outruns what it measures. */
    int seg = (int)o->size;
    size_t len = o->size;
    if (o->size <= 1472 && setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0)
        len = o->size * (60000 / o->size);
    double t0 = cb_now(), end = t0 + o->secs;
    for (unsigned long i = 0; !cb_stop; i++) {
        if ((i & 63) == 0 && cb_now() >= end)
            break;
        ssize_t k = send(fd, buf, len, 0);
        if (k > 0)
            bytes += (unsigned long long)k;
        else
            errs++;
    }
    double secs = cb_now() - t0;
    printf("connbench usend host=%s port=%u bytes=%llu errors=%llu secs=%.3f"
           " gbps=%.3f status=ok\n", inet_ntoa(o->host), o->port, bytes, errs,
           secs, (double)bytes * 8 / secs / 1e9);
    close(fd);
    return 0;
}

/* Echo what a connection has; close it at end of stream or error. */
static void cb_serve_one(int ep, int fd, char *buf, size_t len, unsigned long *live)
{
    for (int i = 0; i < 16; i++) {
        ssize_t k = read(fd, buf, len);
        if (k > 0 && write(fd, buf, (size_t)k) == k)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        (*live)--;
        return;
    }
}

static int cb_serve(const struct cb_opts *o)
{
    static char buf[65536];
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = o->bind,
                              .sin_port = htons((uint16_t)o->port) };
    cb_nofile(1u << 18);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Several servers may share the port: one process holds only as many
     * connections as RLIMIT_NOFILE allows. */
    setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (ep < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(lfd, 4096) < 0) {
        perror("connbench: serve");
        return 1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    printf("connbench serve listening=%s:%u\n", inet_ntoa(o->bind), o->port);
    fflush(stdout);
    unsigned long live = 0, total = 0;
    double end = cb_now() + o->lifetime;
    while (!cb_stop && cb_now() < end) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd != lfd) {
                cb_serve_one(ep, evs[i].data.fd, buf, sizeof buf, &live);
                continue;
            }
            /* Bounded per wake-up, so the others are served too. */
            for (int a = 0; a < 256; a++) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                    if (errno == EMFILE || errno == ENFILE)
                        usleep(10000);  /* out of descriptors: back off */
                    break;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                live++, total++;
            }
        }
    }
    printf("connbench serve accepted=%lu live=%lu status=ok\n", total, live);
    return 0;
}

int main(int argc, char **argv)
{
    struct cb_opts o;
    cb_parse(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = cb_on_term };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(o.mode, "serve"))
        return cb_serve(&o);
    if (!strcmp(o.mode, "hold"))
        return cb_hold(&o);
    if (!strcmp(o.mode, "usend"))
        return cb_usend(&o);
    return cb_cps(&o);
}
