/* tools/ts-nc.c - netcat on tapstack: TCP or UDP, connect or listen; standard
 * input to the socket, the socket to standard output.
 *
 * Two threads, each a plain blocking loop: the main thread waits on the
 * socket with ts_poll and copies what arrives to stdout; a second thread
 * reads stdin (poll(2) on fd 0 with a short time-out, so it notices when the
 * session is over) and sends it with blocking ts_send. Neither direction
 * waits for the other, so a peer that echoes what it reads never deadlocks
 * us. On stdin EOF a TCP connection is half-closed (SHUT_WR, like OpenBSD
 * nc -N); the session ends once the peer has closed its side too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/lib/ts_app.h"

#define NC_BUF 65536
#define NC_UDP_MAX 65507            /* largest UDP payload */
#define NC_TICK_MS 100              /* how often waits look at the clock */

struct nc {
    struct ts_app app;
    struct ts_stack *st;
    int fd;
    int udp, listen, no_stdin;
    long wait_ms;                   /* -w: 0 = forever */
    atomic_llong last;              /* when something last moved (ms) */
    atomic_int stop;                /* main thread -> stdin thread */
    atomic_int stdin_done;          /* stdin thread finished */
    atomic_int failed;              /* it hit a send error */
};

static long long nc_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Has -w run out since `since` (ms)? */
static int nc_expired(const struct nc *nc, long long since)
{
    return nc->wait_ms && nc_now_ms() - since >= nc->wait_ms;
}

static void nc_err(const struct nc *nc, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", nc->app.name, what, strerror(errno));
}

static int nc_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int nc_send_all(struct nc *nc, const char *p, size_t n)
{
    if (nc->udp)        /* one read of stdin, one datagram */
        return ts_send(nc->st, nc->fd, p, n, 0) < 0 ? -1 : 0;
    while (n > 0) {
        ssize_t w = ts_send(nc->st, nc->fd, p, n, 0);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The second thread: stdin to the socket, then half-close (TCP). */
static void *nc_stdin_main(void *arg)
{
    struct nc *nc = arg;
    static char buf[NC_BUF];
    struct pollfd p = { .fd = 0, .events = POLLIN };
    while (!atomic_load(&nc->stop)) {
        int n = poll(&p, 1, NC_TICK_MS);
        if (n == 0 || (n < 0 && errno == EINTR))
            continue;
        ssize_t r = n < 0 ? -1 : read(0, buf, nc->udp ? NC_UDP_MAX : sizeof buf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            nc_err(nc, "standard input");
            break;
        }
        if (r == 0) {           /* end of input: the peer reads end of stream */
            if (!nc->udp && ts_shutdown(nc->st, nc->fd, SHUT_WR) < 0 &&
                !atomic_load(&nc->stop))
                nc_err(nc, "shutdown");
            break;
        }
        if (nc_send_all(nc, buf, (size_t)r) < 0) {
            if (!atomic_load(&nc->stop)) {
                nc_err(nc, "send");
                atomic_store(&nc->failed, 1);
            }
            break;
        }
        atomic_store(&nc->last, nc_now_ms());
    }
    atomic_store(&nc->stdin_done, 1);
    return NULL;
}

/* Wait (ts_poll, bounded by -w and SIGINT) for events on the socket.
 * 1: ready; 0: stopped or timed out (errno ETIMEDOUT); -1: error. */
static int nc_wait_for(struct nc *nc, int fd, short events)
{
    long long t0 = nc_now_ms();
    struct pollfd p = { .fd = fd, .events = events };
    for (;;) {
        if (ts_app_stopped())
            return 0;
        if (nc_expired(nc, t0)) {
            errno = ETIMEDOUT;
            return 0;
        }
        int n = ts_poll(nc->st, &p, 1, NC_TICK_MS);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* TCP connect bounded by -w: non-blocking ts_connect, ts_poll for POLLOUT,
 * then SO_ERROR says how it went. */
static int nc_connect_tcp(struct nc *nc, const struct sockaddr_in *to)
{
    int err = 0;
    socklen_t len = sizeof err;
    ts_fcntl(nc->st, nc->fd, F_SETFL, O_NONBLOCK);
    if (ts_connect(nc->st, nc->fd, (const struct sockaddr *)to, sizeof *to) < 0 &&
        errno != EINPROGRESS)
        return -1;
    int rc = nc_wait_for(nc, nc->fd, POLLOUT);
    if (rc <= 0)
        return -1;
    if (ts_getsockopt(nc->st, nc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return ts_fcntl(nc->st, nc->fd, F_SETFL, 0);
}

/* Listen on port and take one peer: a TCP connection, or for UDP the
 * sender of the first datagram (printed, then the socket is connected to
 * it). The socket to use goes to nc->fd. */
static int nc_listen(struct nc *nc, uint16_t port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    socklen_t len = sizeof sin;
    char a[TS_APP_ADDRSTRLEN];
    int one = 1, lfd = nc->fd;
    ts_setsockopt(nc->st, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ts_bind(nc->st, lfd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        (!nc->udp && ts_listen(nc->st, lfd, 1) < 0))
        return -1;
    if (nc->app.verbose)
        fprintf(stderr, "%s: listening on %s port %u\n", nc->app.name,
                nc->udp ? "UDP" : "TCP", port);
    if (nc_wait_for(nc, lfd, POLLIN) <= 0)
        return -1;
    if (nc->udp) {
        static char buf[NC_BUF];
        ssize_t n = ts_recvfrom(nc->st, lfd, buf, sizeof buf, 0,
                                (struct sockaddr *)&sin, &len);
        if (n < 0 || nc_write_all(1, buf, (size_t)n) < 0 ||
            ts_connect(nc->st, lfd, (struct sockaddr *)&sin, sizeof sin) < 0)
            return -1;
    } else {
        nc->fd = ts_accept(nc->st, lfd, (struct sockaddr *)&sin, &len);
        ts_close(nc->st, lfd);
        if (nc->fd < 0)
            return -1;
    }
    if (nc->app.verbose)
        fprintf(stderr, "%s: %s from %s\n", nc->app.name,
                nc->udp ? "first datagram" : "connection", ts_app_fmt_addr(&sin, a));
    return 0;
}

/* The main loop: the socket to stdout until the session is over.
 * 0: done (both ways, -w idle or SIGINT); 1: an error. */
static int nc_pump(struct nc *nc)
{
    static char buf[NC_BUF];
    struct pollfd p = { .fd = nc->fd, .events = POLLIN };
    for (;;) {
        if (atomic_load(&nc->failed))
            return 1;
        if (ts_app_stopped() || (p.fd < 0 && atomic_load(&nc->stdin_done)))
            return 0;
        if (nc_expired(nc, atomic_load(&nc->last))) {
            if (nc->app.verbose)
                fprintf(stderr, "%s: idle for %ld s, closing\n", nc->app.name,
                        nc->wait_ms / 1000);
            return 0;
        }
        int n = ts_poll(nc->st, &p, 1, NC_TICK_MS);   /* p.fd < 0: a nap */
        if (n < 0 && errno != EINTR) {
            nc_err(nc, "poll");
            return 1;
        }
        if (n <= 0)
            continue;
        ssize_t r = ts_recv(nc->st, nc->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) {
            atomic_store(&nc->last, nc_now_ms());
            if (nc_write_all(1, buf, (size_t)r) < 0) {
                nc_err(nc, "standard output");
                return 1;
            }
        } else if (r == 0 && !nc->udp) {
            p.fd = -1;          /* the peer is done sending; stop looking */
        } else if (r < 0 && errno != EAGAIN && errno != EINTR) {
            nc_err(nc, "receive");
            return 1;
        }
    }
}

static const char nc_help[] =
"Netcat on tapstack: open a TCP connection (with -u, a UDP association) to\n"
"HOST PORT, or with -l wait for one peer on PORT; then copy standard input\n"
"to the socket and the socket to standard output. HOST is an IPv4 address.\n"
"\n"
"TCP: at the end of standard input ts-nc half-closes the connection (the\n"
"peer reads end of stream, as with OpenBSD nc -N) and goes on copying the\n"
"socket to standard output; it exits when the peer has closed its side too.\n"
"UDP: each read of standard input goes out as one datagram; with -l ts-nc\n"
"talks to whoever sent the first datagram, and hears only it from then on.\n"
"A UDP session has no end of its own: it lasts until -w or SIGINT.\n"
"\n"
"  -l, --listen             wait for one peer on PORT instead of connecting\n"
"  -u, --udp                UDP instead of TCP\n"
"  -w, --wait SECONDS       give up connecting, waiting for a peer (-l), or\n"
"                           when nothing has moved either way for SECONDS\n"
"                           (1..86400; default: wait for ever)\n"
"  -d, --no-stdin           do not read standard input, as if it were empty\n"
"  -N, --shutdown           half-close at the end of input: the default,\n"
"                           accepted for OpenBSD nc's sake\n";

static const char nc_epilog[] =
"How it works: the main thread waits on the socket with ts_poll and copies\n"
"what arrives to standard output; a second thread reads standard input\n"
"(poll(2) with 100 ms time-outs, so it notices when the session is over) and\n"
"sends it with blocking ts_send. Neither direction waits for the other.\n"
"\n"
"Examples, with the host's nc in the same network namespace (the listening\n"
"side first):\n"
"  host: nc -l 5000 > copy        ts-nc --host-addr 10.0.0.1/24 10.0.0.1 5000 < file\n"
"  ts-nc --host-addr 10.0.0.1/24 -l 5000 > copy        host: nc -N 10.0.0.2 5000 < file\n"
"  host: nc -u -l 5000            echo hi | ts-nc --host-addr 10.0.0.1/24 -u -w 5 \\\n"
"                                     10.0.0.1 5000\n"
"\n"
"Exit status: 0 when the session ended (both sides closed, -w idle time or\n"
"SIGINT); 1 when connecting failed (refused, timed out) or the connection\n"
"broke (reset), or on an I/O error; 2 on bad arguments or when the stack\n"
"cannot be opened.\n";

int main(int argc, char **argv)
{
    static struct nc nc = { .app = { .name = "ts-nc",
        .synopsis = "[OPTION]... HOST PORT\n       ts-nc -l [OPTION]... PORT",
        .help = nc_help, .epilog = nc_epilog } };
    static const struct option opts[] = {
        { "listen", no_argument, NULL, 'l' },
        { "udp", no_argument, NULL, 'u' },
        { "wait", required_argument, NULL, 'w' },
        { "no-stdin", no_argument, NULL, 'd' },
        { "shutdown", no_argument, NULL, 'N' },
        TS_APP_LONGOPTS,
        { 0 }
    };
    struct ts_app *app = &nc.app;
    struct sockaddr_in to = { 0 };
    uint16_t port;
    int c;
    ts_app_init(app);
    while ((c = getopt_long(argc, argv, "luw:dN" TS_APP_SHORTOPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'l': nc.listen = 1; break;
        case 'u': nc.udp = 1; break;
        case 'd': nc.no_stdin = 1; break;
        case 'N': break;
        case 'w': nc.wait_ms = 1000 * ts_app_number(app, "--wait", optarg, 1, 86400); break;
        default: ts_app_option(app, c, optarg);
        }
    }
    if (argc - optind != (nc.listen ? 1 : 2))
        ts_app_usage_error(app, nc.listen ? "-l wants one argument, PORT"
                                          : "want two arguments, HOST PORT");
    port = ts_app_port(app, "PORT", argv[argc - 1]);
    if (!nc.listen)
        to = ts_app_ipv4(app, "HOST", argv[optind], port);

    nc.st = ts_app_open(app);
    int rc = 1;
    nc.fd = ts_socket(nc.st, AF_INET, nc.udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (nc.fd < 0) {
        nc_err(&nc, "socket");
    } else if (nc.listen ? nc_listen(&nc, port) < 0
               : nc.udp ? ts_connect(nc.st, nc.fd, (struct sockaddr *)&to, sizeof to) < 0
               : nc_connect_tcp(&nc, &to) < 0) {
        char what[64];
        if (nc.listen)
            snprintf(what, sizeof what, "port %u", port);
        else
            snprintf(what, sizeof what, "connect to %s port %u", argv[optind], port);
        if (ts_app_stopped())
            rc = 0;
        else
            nc_err(&nc, what);
    } else {
        pthread_t reader;
        char a[TS_APP_ADDRSTRLEN];
        if (app->verbose && !nc.listen)
            fprintf(stderr, "%s: connected to %s\n", app->name, ts_app_fmt_addr(&to, a));
        atomic_store(&nc.last, nc_now_ms());
        if (nc.no_stdin || pthread_create(&reader, NULL, nc_stdin_main, &nc) != 0) {
            if (!nc.udp)
                ts_shutdown(nc.st, nc.fd, SHUT_WR);
            nc.no_stdin = 1;
            atomic_store(&nc.stdin_done, 1);
        }
        rc = nc_pump(&nc);
        atomic_store(&nc.stop, 1);
        if (!nc.udp)    /* wakes the reader should it be blocked in ts_send */
            ts_shutdown(nc.st, nc.fd, SHUT_RDWR);
        if (!nc.no_stdin)
            pthread_join(reader, NULL);
    }
    if (nc.fd >= 0)
        ts_close(nc.st, nc.fd);
    ts_app_close(app, nc.st);
    return rc;
}
