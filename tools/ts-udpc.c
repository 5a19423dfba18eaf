/* tools/ts-udpc.c - a UDP client on tapstack: ask a daytime server for the
 * time (RFC 867 over UDP, port 13), or time round trips to an echo server
 * (RFC 862 over UDP, port 7) the way ping does.
 *
 * One unconnected socket, ts_sendto and ts_recvfrom; answers from any other
 * address are ignored. Echo is stop-and-wait: send datagram N, wait up to
 * --timeout for its echo (datagrams carry their sequence number in their
 * first 4 bytes, so a late echo of an earlier one is told apart), then the
 * next one --interval after the previous one went out. Datagrams larger
 * than the MTU leave in IP fragments and their echoes come back in
 * fragments, which exercises fragmentation and reassembly both ways.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/lib/ts_app.h"

#define UC_MAX 65507                /* largest UDP payload */
#define UC_TICK_MS 100

struct udpc {
    struct ts_app app;
    struct ts_stack *st;
    int fd;
    struct sockaddr_in to;
    char name[TS_APP_ADDRSTRLEN];   /* "10.0.0.1:7" */
    long size, count, interval_ms, timeout_ms;
    unsigned char out[UC_MAX], in[UC_MAX + 1];
};

static double uc_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Wait until `deadline` (ms) for a datagram from the server: its length,
 * or -1 on time-out, SIGINT or error (errno). */
static ssize_t uc_recv(struct udpc *u, double deadline)
{
    struct pollfd p = { .fd = u->fd, .events = POLLIN };
    for (;;) {
        double left = deadline - uc_now_ms();
        if (left <= 0 || ts_app_stopped()) {
            errno = ETIMEDOUT;
            return -1;
        }
        int n = ts_poll(u->st, &p, 1, left < UC_TICK_MS ? (int)left + 1 : UC_TICK_MS);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t r = ts_recvfrom(u->st, u->fd, u->in, sizeof u->in, MSG_DONTWAIT,
                                (struct sockaddr *)&from, &len);
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (r >= 0 && from.sin_addr.s_addr == u->to.sin_addr.s_addr &&
            from.sin_port == u->to.sin_port)
            return r;
    }
}

static int uc_send(struct udpc *u, const void *buf, size_t len)
{
    if (ts_sendto(u->st, u->fd, buf, len, 0, (struct sockaddr *)&u->to,
                  sizeof u->to) < 0) {
        fprintf(stderr, "%s: send to %s: %s\n", u->app.name, u->name, strerror(errno));
        return -1;
    }
    return 0;
}

/* daytime: an empty datagram asks, the answer is one line of text. */
static int uc_time(struct udpc *u)
{
    for (long try = 1; try <= u->count && !ts_app_stopped(); try++) {
        if (uc_send(u, "", 0) < 0)
            return 1;
        ssize_t n = uc_recv(u, uc_now_ms() + (double)u->timeout_ms);
        if (n >= 0) {
            while (n > 0 && (u->in[n - 1] == '\n' || u->in[n - 1] == '\r'))
                n--;
            printf("%.*s\n", (int)n, (char *)u->in);
            return 0;
        }
        if (errno != ETIMEDOUT) {
            fprintf(stderr, "%s: receive: %s\n", u->app.name, strerror(errno));
            return 1;
        }
        if (u->app.verbose)
            fprintf(stderr, "%s: no answer from %s within %ld ms\n", u->app.name,
                    u->name, u->timeout_ms);
    }
    fprintf(stderr, "%s: no answer from %s (%ld tries, %ld ms each)\n",
            u->app.name, u->name, u->count, u->timeout_ms);
    return 1;
}

/* Datagram seq: the number big-endian, then a pattern that depends on it. */
static void uc_fill(struct udpc *u, uint32_t seq)
{
    uint32_t be = htonl(seq);
    memcpy(u->out, &be, 4);
    for (long i = 4; i < u->size; i++)
        u->out[i] = (unsigned char)(seq * 131u + (uint32_t)i * 7u);
}

static int uc_echo(struct udpc *u)
{
    long echoed = 0, wrong = 0, late = 0, sent = 0;
    double min = 0, max = 0, sum = 0;
    printf("UDP echo to %s: %ld datagrams of %ld bytes\n", u->name, u->count, u->size);
    for (uint32_t seq = 1; seq <= (uint32_t)u->count && !ts_app_stopped(); seq++) {
        uc_fill(u, seq);
        double t0 = uc_now_ms();
        if (uc_send(u, u->out, (size_t)u->size) < 0)
            return 1;
        sent++;
        for (;;) {
            ssize_t n = uc_recv(u, t0 + (double)u->timeout_ms);
            if (n < 0) {
                if (errno != ETIMEDOUT) {
                    fprintf(stderr, "%s: receive: %s\n", u->app.name, strerror(errno));
                    return 1;
                }
                if (!ts_app_stopped())
                    printf("seq=%u: no echo within %ld ms\n", seq, u->timeout_ms);
                break;
            }
            uint32_t got = 0;
            if (n >= 4)
                memcpy(&got, u->in, 4);
            if (n >= 4 && ntohl(got) < seq) {   /* a late echo of an earlier one */
                late++;
                continue;
            }
            double rtt = uc_now_ms() - t0;
            if (n != u->size || memcmp(u->in, u->out, (size_t)n) != 0) {
                printf("seq=%u: the echo (%zd bytes) differs from what was sent\n",
                       seq, n);
                wrong++;
                break;
            }
            printf("%zd bytes from %s: seq=%u time=%.3f ms\n", n, u->name, seq, rtt);
            min = echoed == 0 || rtt < min ? rtt : min;
            max = rtt > max ? rtt : max;
            sum += rtt;
            echoed++;
            break;
        }
        fflush(stdout);
        while (seq < (uint32_t)u->count && !ts_app_stopped() &&
               uc_now_ms() < t0 + (double)u->interval_ms)
            ts_poll(u->st, NULL, 0, UC_TICK_MS / 2);        /* a nap */
    }
    long lost = sent - echoed - wrong;
    printf("--- %s UDP echo: %ld sent, %ld echoed, %ld lost (%.0f%%), %ld wrong",
           u->name, sent, echoed, lost, sent ? 100.0 * (double)lost / (double)sent : 0.0,
           wrong);
    if (late)
        printf(", %ld late", late);
    if (echoed)
        printf("; rtt min/avg/max %.3f/%.3f/%.3f ms", min, sum / (double)echoed, max);
    printf("\n");
    return echoed == u->count ? 0 : 1;
}

static const char uc_help[] =
"A UDP client. COMMAND is one of:\n"
"  time HOST    ask HOST's daytime service (RFC 867, UDP port 13) for the\n"
"               time with an empty datagram; print the answer\n"
"  echo HOST    send --count datagrams of --size bytes to HOST's echo\n"
"               service (RFC 862, UDP port 7), one at a time, and report each\n"
"               round trip, then the losses and round-trip times, like ping\n"
"HOST is an IPv4 address.\n"
"\n"
"  -p, --port PORT          the server's UDP port (default 13 or 7)\n"
"  -s, --size BYTES         echo: datagram size, 4..65507 (default 64);\n"
"                           above 1472 the datagrams go out as IP fragments\n"
"  -c, --count N            echo: datagrams to send (default 5);\n"
"                           time: tries (default 3); 1..1000000\n"
"  -i, --interval MS        echo: from one datagram to the next, 0..60000\n"
"                           (default 200)\n"
"  -t, --timeout MS         how long to wait for each answer, 1..60000\n"
"                           (default 1000)\n";

static const char uc_epilog[] =
"Example, with a UDP echo server on the host side of the TAP:\n"
"  ts-udpc --host-addr 10.0.0.1/24 echo 10.0.0.1 -s 8000 -c 10\n"
"\n"
"Exit status: 0 when the time came, or every datagram came back intact;\n"
"1 when an answer was missing or wrong; 2 on bad arguments or when the\n"
"stack cannot be opened.\n";

int main(int argc, char **argv)
{
    static struct udpc u = { .app = { .name = "ts-udpc",
        .synopsis = "[OPTION]... time HOST\n       ts-udpc [OPTION]... echo HOST",
        .help = uc_help, .epilog = uc_epilog },
        .size = 64, .count = -1, .interval_ms = 200, .timeout_ms = 1000 };
    static const struct option opts[] = {
        { "port", required_argument, NULL, 'p' },
        { "size", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'c' },
        { "interval", required_argument, NULL, 'i' },
        { "timeout", required_argument, NULL, 't' },
        TS_APP_LONGOPTS,
        { 0 }
    };
    struct ts_app *app = &u.app;
    long port = 0;
    int c;
    ts_app_init(app);
    while ((c = getopt_long(argc, argv, "p:s:c:i:t:" TS_APP_SHORTOPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'p': port = ts_app_port(app, "--port", optarg); break;
        case 's': u.size = ts_app_number(app, "--size", optarg, 4, UC_MAX); break;
        case 'c': u.count = ts_app_number(app, "--count", optarg, 1, 1000000); break;
        case 'i': u.interval_ms = ts_app_number(app, "--interval", optarg, 0, 60000); break;
        case 't': u.timeout_ms = ts_app_number(app, "--timeout", optarg, 1, 60000); break;
        default: ts_app_option(app, c, optarg);
        }
    }
    if (argc - optind != 2)
        ts_app_usage_error(app, "want a command and a host: time HOST, or echo HOST");
    int echo = strcmp(argv[optind], "echo") == 0;
    if (!echo && strcmp(argv[optind], "time") != 0)
        ts_app_usage_error(app, "unknown command '%s' (time or echo)", argv[optind]);
    u.to = ts_app_ipv4(app, "HOST", argv[optind + 1],
                       (uint16_t)(port ? port : echo ? 7 : 13));
    ts_app_fmt_addr(&u.to, u.name);
    if (u.count < 0)
        u.count = echo ? 5 : 3;

    u.st = ts_app_open(app);
    int rc = 1;
    u.fd = ts_socket(u.st, AF_INET, SOCK_DGRAM, 0);
    if (u.fd < 0)
        fprintf(stderr, "%s: socket: %s\n", app->name, strerror(errno));
    else
        rc = echo ? uc_echo(&u) : uc_time(&u);
    if (u.fd >= 0)
        ts_close(u.st, u.fd);
    ts_app_close(app, u.st);
    return rc;
}
