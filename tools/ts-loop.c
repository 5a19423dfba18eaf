/* tools/ts-loop.c - a server and its client in one program on one stack:
 * the stack talking to itself (over 127.0.0.1 by default, or over its own
 * address), byte-checked, with the figures of each run.
 *
 * The server thread listens on ADDR:PORT and the main thread connects to
 * it; both use the public API only, so `build/ts-loop-kernel` (the same
 * source on the kernel's sockets) measures the kernel's lo the same way.
 * Modes, in order:
 *   bulk  the client sends BYTES (a pattern, position-dependent), shuts
 *         down, and waits for the server's count; the server checks every
 *         byte against the pattern;
 *   rr    the client sends a 64-byte message and waits for the server's
 *         64-byte echo, COUNT times;
 *   udp   the client sends COUNT datagrams of 65,507 bytes (the largest),
 *         each echoed and compared.
 * One line per mode on stdout, then exit 0 when every check held, 1 when
 * one did not, 2 on bad arguments or a stack that does not open.
 * Entry point: main.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/lib/ts_app.h"

#define LOOP_CHUNK 65536
#define LOOP_MSG 64
#define LOOP_DGRAM 65507
#define LOOP_TIMEO_S 10         /* bound on any one call */
_Static_assert(LOOP_CHUNK >= LOOP_DGRAM, "the server reads datagrams into a chunk");

struct loop {
    struct ts_stack *st;
    struct sockaddr_in at;      /* the server's address */
    long long bytes;            /* bulk */
    long rr, udp;               /* round trips, datagrams */
    int lfd, ufd;               /* the server's sockets */
    long long got;              /* bulk: bytes the server read */
    int bad;                    /* a check failed (server side) */
};

static double loop_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bulk stream repeats a pseudo-random block of LOOP_PERIOD bytes, a
 * prime, so a chunk lost, repeated or moved lands on other bytes and shows;
 * bytes off..off+len are loop_table + off % LOOP_PERIOD, so producing and
 * checking them costs a memcpy or memcmp, not a loop per byte (the figure
 * is the stack's, not the pattern's). */
#define LOOP_PERIOD 65521u
static uint8_t loop_table[LOOP_PERIOD + LOOP_CHUNK];

static void loop_table_init(void)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof loop_table; i++) {
        if (i < LOOP_PERIOD) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            loop_table[i] = (uint8_t)x;
        } else {
            loop_table[i] = loop_table[i - LOOP_PERIOD];
        }
    }
}

static const uint8_t *loop_pattern(long long off)
{
    return loop_table + (unsigned long long)off % LOOP_PERIOD;
}

static void loop_timeo(struct ts_stack *st, int fd)
{
    struct timeval tv = { .tv_sec = LOOP_TIMEO_S };
    ts_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ts_setsockopt(st, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int loop_send_all(struct ts_stack *st, int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = ts_send(st, fd, p, n, 0);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Server side of bulk: read to the end, check, answer with the count. */
static void loop_serve_bulk(struct loop *l, int fd, uint8_t *buf)
{
    ssize_t n;
    while ((n = ts_recv(l->st, fd, buf, LOOP_CHUNK, 0)) > 0) {
        if (memcmp(buf, loop_pattern(l->got), (size_t)n) != 0)
            l->bad = 1;
        l->got += n;
    }
    if (n < 0)
        l->bad = 1;
    char reply[32];
    int len = snprintf(reply, sizeof reply, "%lld\n", l->got);
    loop_send_all(l->st, fd, (const uint8_t *)reply, (size_t)len);
}

/* Server side of rr: echo fixed-size messages until the end. */
static void loop_serve_rr(struct loop *l, int fd, uint8_t *buf)
{
    ssize_t n;
    while ((n = ts_recv(l->st, fd, buf, LOOP_CHUNK, 0)) > 0)
        if (loop_send_all(l->st, fd, buf, (size_t)n) < 0)
            break;
}

static void *loop_server(void *arg)
{
    struct loop *l = arg;
    uint8_t *buf = malloc(LOOP_CHUNK);
    for (int conn = 0; buf && conn < 2; conn++) {
        int fd = ts_accept(l->st, l->lfd, NULL, NULL);
        if (fd < 0) {
            l->bad = 1;
            break;
        }
        loop_timeo(l->st, fd);
        if (conn == 0)
            loop_serve_bulk(l, fd, buf);
        else
            loop_serve_rr(l, fd, buf);
        ts_close(l->st, fd);
    }
    for (long i = 0; buf && i < l->udp; i++) {       /* udp echo */
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t n = ts_recvfrom(l->st, l->ufd, buf, LOOP_DGRAM, 0,
                                (struct sockaddr *)&from, &flen);
        if (n < 0 || ts_sendto(l->st, l->ufd, buf, (size_t)n, 0,
                               (struct sockaddr *)&from, flen) != n)
            break;
    }
    free(buf);
    return NULL;
}

static int loop_connect(struct loop *l)
{
    int fd = ts_socket(l->st, AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    loop_timeo(l->st, fd);
    if (ts_connect(l->st, fd, (struct sockaddr *)&l->at, sizeof l->at) < 0) {
        ts_close(l->st, fd);
        return -1;
    }
    return fd;
}

static int loop_bulk(struct loop *l, const char *where)
{
    int fd = loop_connect(l);
    if (fd < 0)
        return -1;
    double t0 = loop_now();
    long long sent = 0;
    while (sent < l->bytes) {
        size_t n = l->bytes - sent < LOOP_CHUNK ? (size_t)(l->bytes - sent)
                                                : LOOP_CHUNK;
        if (loop_send_all(l->st, fd, loop_pattern(sent), n) < 0)
            break;
        sent += (long long)n;
    }
    ts_shutdown(l->st, fd, SHUT_WR);
    char reply[32] = "";
    ssize_t n = ts_recv(l->st, fd, reply, sizeof reply - 1, 0);
    double dt = loop_now() - t0;
    ts_close(l->st, fd);
    long long told = n > 0 ? atoll(reply) : -1;
    int ok = sent == l->bytes && told == l->bytes && !l->bad;
    printf("ts-loop: bulk %s %lld bytes in %.3f s: %.3f Gbit/s, %s\n", where,
           sent, dt, dt > 0 ? (double)sent * 8 / dt / 1e9 : 0.0,
           ok ? "every byte checked" : "FAILED");
    return ok ? 0 : -1;
}

static int loop_rr(struct loop *l, const char *where)
{
    uint8_t msg[LOOP_MSG], back[LOOP_MSG];
    int fd = loop_connect(l);
    if (fd < 0)
        return -1;
    int nodelay = 1;
    ts_setsockopt(l->st, fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    double t0 = loop_now();
    long i;
    for (i = 0; i < l->rr; i++) {
        memset(msg, (int)(i & 0xff), sizeof msg);
        size_t got = 0;
        if (loop_send_all(l->st, fd, msg, sizeof msg) < 0)
            break;
        while (got < sizeof back) {
            ssize_t n = ts_recv(l->st, fd, back + got, sizeof back - got, 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got != sizeof back || memcmp(back, msg, sizeof msg) != 0)
            break;
    }
    double dt = loop_now() - t0;
    ts_close(l->st, fd);
    printf("ts-loop: rr %s %d B: %ld round trips in %.3f s: %.0f/s, mean %.1f us, %s\n",
           where, LOOP_MSG, i, dt, dt > 0 ? (double)i / dt : 0.0,
           i ? dt / (double)i * 1e6 : 0.0, i == l->rr ? "all echoed" : "FAILED");
    return i == l->rr ? 0 : -1;
}

static int loop_udp(struct loop *l, const char *where)
{
    static uint8_t in[LOOP_DGRAM + 1];
    int fd = ts_socket(l->st, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    loop_timeo(l->st, fd);
    long i;
    for (i = 0; i < l->udp; i++) {
        const uint8_t *out = loop_pattern(i * 4099);
        if (ts_sendto(l->st, fd, out, LOOP_DGRAM, 0, (struct sockaddr *)&l->at,
                      sizeof l->at) != LOOP_DGRAM ||
            ts_recv(l->st, fd, in, sizeof in, 0) != LOOP_DGRAM ||
            memcmp(in, out, LOOP_DGRAM) != 0)
            break;
    }
    ts_close(l->st, fd);
    printf("ts-loop: udp %s %ld of %ld datagrams of %d bytes echoed intact%s\n",
           where, i, l->udp, LOOP_DGRAM, i == l->udp ? "" : ": FAILED");
    return i == l->udp ? 0 : -1;
}

/* The server's sockets on l->at: a TCP listener and a UDP socket. */
static int loop_listen(struct loop *l)
{
    int one = 1;
    l->lfd = ts_socket(l->st, AF_INET, SOCK_STREAM, 0);
    l->ufd = ts_socket(l->st, AF_INET, SOCK_DGRAM, 0);
    if (l->lfd < 0 || l->ufd < 0)
        return -1;
    ts_setsockopt(l->st, l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    loop_timeo(l->st, l->lfd);
    loop_timeo(l->st, l->ufd);
    if (ts_bind(l->st, l->lfd, (struct sockaddr *)&l->at, sizeof l->at) < 0 ||
        ts_listen(l->st, l->lfd, 4) < 0 ||
        ts_bind(l->st, l->ufd, (struct sockaddr *)&l->at, sizeof l->at) < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct ts_app app = { .name = "ts-loop", .synopsis = "[OPTION]... [ADDR]",
        .help = "A server and a client in one program on one stack, talking over ADDR\n"
                "(default 127.0.0.1; the stack's own address works too): a bulk transfer\n"
                "checked byte by byte, 64-byte round trips, 65,507-byte UDP datagrams.\n\n"
                "  -p, --port PORT          the server's TCP and UDP port (default 5001)\n"
                "  -n, --bytes N            bulk bytes (default 104857600: 100 MiB)\n"
                "  -r, --round-trips N      64-byte round trips (default 10000)\n"
                "  -u, --datagrams N        UDP datagrams (default 10)\n",
        .epilog = "Exit status: 0 when every byte came back right, 1 when not, 2 on bad\n"
                  "arguments or a stack that does not open.\n" };
    static const struct option opts[] = {
        { "port", required_argument, NULL, 'p' },
        { "bytes", required_argument, NULL, 'n' },
        { "round-trips", required_argument, NULL, 'r' },
        { "datagrams", required_argument, NULL, 'u' },
        TS_APP_LONGOPTS, { 0 } };
    struct loop l = { .bytes = 100ll << 20, .rr = 10000, .udp = 10 };
    uint16_t port = 5001;
    ts_app_init(&app);
    loop_table_init();
    for (int c; (c = getopt_long(argc, argv, "p:n:r:u:" TS_APP_SHORTOPTS, opts, NULL)) != -1;) {
        if (c == 'p')
            port = ts_app_port(&app, "--port", optarg);
        else if (c == 'n')
            l.bytes = ts_app_number(&app, "--bytes", optarg, 0, 1l << 40);
        else if (c == 'r')
            l.rr = ts_app_number(&app, "--round-trips", optarg, 0, 100000000);
        else if (c == 'u')
            l.udp = ts_app_number(&app, "--datagrams", optarg, 0, 1000000);
        else
            ts_app_option(&app, c, optarg);
    }
    const char *addr = optind < argc ? argv[optind++] : "127.0.0.1";
    if (optind < argc)
        ts_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    l.at = ts_app_ipv4(&app, "ADDR", addr, port);
    l.st = ts_app_open(&app);
    char where[TS_APP_ADDRSTRLEN];
    ts_app_fmt_addr(&l.at, where);
    pthread_t t;
    int rc = loop_listen(&l) < 0 || pthread_create(&t, NULL, loop_server, &l) != 0;
    if (rc) {
        perror("ts-loop: cannot listen");
    } else {
        rc |= loop_bulk(&l, where) < 0;
        rc |= loop_rr(&l, where) < 0;
        rc |= loop_udp(&l, where) < 0;
        pthread_join(t, NULL);
    }
    ts_close(l.st, l.lfd);
    ts_close(l.st, l.ufd);
    ts_app_close(&app, l.st);
    return rc ? 1 : 0;
}
