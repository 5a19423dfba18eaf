/* tools/lib/ts_services.c - echo, discard, daytime and chargen over TCP,
 * echo and daytime over UDP, and HTTP, as handlers on the public API. */
#include "tools/lib/ts_services.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "tools/lib/ts_http.h"
#include "socket_api/ts_server.h"

#define SVC_BUF 65536               /* echo and discard read this much */

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_DAYTIME, SVC_CHARGEN, SVC_TCP_N };
static const uint16_t svc_port[SVC_TCP_N] = { 7, 9, 13, 19 };

struct ts_services {
    struct ts_server *tcp[SVC_TCP_N];
    struct ts_server *udp_echo, *udp_daytime;
    struct ts_http *http;
};

/* Receive waits at most one slice, so a handler whose connection was shut
 * down by ts_server_stop sees it (ts_recv then returns 0) soon. */
static void svc_slices(struct ts_stack *st, int fd)
{
    struct timeval tv = { 0, TS_SERVICES_SLICE_MS * 1000 };
    ts_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* ts_recv that sits out the slices: bytes, 0 at end of stream, -1. */
static ssize_t svc_recv(struct ts_stack *st, int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = ts_recv(st, fd, buf, len, 0);
        if (n >= 0 || errno != EAGAIN)
            return n;
    }
}

static int svc_send_all(struct ts_stack *st, int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = ts_send(st, fd, b, n, 0);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* RFC 862: everything back until the peer is done. */
static void svc_echo(struct ts_stack *st, int fd, const struct sockaddr_in *peer,
                     void *ctx)
{
    (void)peer;
    (void)ctx;
    char *buf = malloc(SVC_BUF);
    ssize_t n;
    svc_slices(st, fd);
    while (buf && (n = svc_recv(st, fd, buf, SVC_BUF)) > 0)
        if (svc_send_all(st, fd, buf, (size_t)n) < 0)
            break;
    free(buf);
}

/* RFC 863: read and forget until the peer is done. */
static void svc_discard(struct ts_stack *st, int fd,
                        const struct sockaddr_in *peer, void *ctx)
{
    (void)peer;
    (void)ctx;
    char *buf = malloc(SVC_BUF);
    svc_slices(st, fd);
    while (buf && svc_recv(st, fd, buf, SVC_BUF) > 0)
        ;
    free(buf);
}

/* RFC 867: one line, "Weekday, Month DD, YYYY HH:MM:SS-UTC". */
static size_t svc_daytime_line(char *line, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    return strftime(line, cap, "%A, %B %d, %Y %H:%M:%S-UTC\r\n",
                    gmtime_r(&t, &tm));
}

static void svc_daytime(struct ts_stack *st, int fd,
                        const struct sockaddr_in *peer, void *ctx)
{
    (void)peer;
    (void)ctx;
    char line[64];
    svc_send_all(st, fd, line, svc_daytime_line(line, sizeof line));
}

/* RFC 864: 72-character lines of the 95 printable characters, each line
 * starting one character later than the one before. The stream repeats
 * every 95 lines of 74 bytes (with CRLF), so whole periods are built once
 * and sent from wherever the stream is: SVC_CHARGEN_SEND bytes from any
 * offset inside the first period stay inside the table. */
#define SVC_CHARGEN_LINE 74
#define SVC_CHARGEN_PERIOD (95 * SVC_CHARGEN_LINE)      /* 7,030 */
#define SVC_CHARGEN_SEND (9 * SVC_CHARGEN_PERIOD)       /* 63,270 */
#define SVC_CHARGEN_TABLE (SVC_CHARGEN_SEND + SVC_CHARGEN_PERIOD)

static uint8_t svc_chargen_table[SVC_CHARGEN_TABLE];
static pthread_once_t svc_chargen_once = PTHREAD_ONCE_INIT;

static void svc_chargen_build(void)
{
    for (uint32_t i = 0; i < SVC_CHARGEN_TABLE; i++) {
        uint32_t line = (i / SVC_CHARGEN_LINE) % 95, col = i % SVC_CHARGEN_LINE;
        svc_chargen_table[i] = col == 72 ? '\r' : col == 73 ? '\n'
                               : (uint8_t)(' ' + (line + col) % 95);
    }
}

static void svc_chargen(struct ts_stack *st, int fd,
                        const struct sockaddr_in *peer, void *ctx)
{
    (void)peer;
    (void)ctx;
    char sink[4096];
    size_t pos = 0;                 /* offset in the pattern's period */
    pthread_once(&svc_chargen_once, svc_chargen_build);
    for (;;) {
        /* What the peer sends is dropped; its end of stream ends us. */
        ssize_t n = ts_recv(st, fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN))
            return;
        if (n > 0)
            continue;
        n = ts_send(st, fd, svc_chargen_table + pos, SVC_CHARGEN_SEND, 0);
        if (n <= 0)
            return;
        pos = (pos + (size_t)n) % SVC_CHARGEN_PERIOD;
    }
}

static void svc_udp_echo(struct ts_stack *st, int fd, const void *data,
                         size_t len, const struct sockaddr_in *peer, void *ctx)
{
    (void)ctx;
    ts_sendto(st, fd, data, len, 0, (const struct sockaddr *)peer, sizeof *peer);
}

static void svc_udp_daytime(struct ts_stack *st, int fd, const void *data,
                            size_t len, const struct sockaddr_in *peer,
                            void *ctx)
{
    (void)data;
    (void)len;
    (void)ctx;
    char line[64];
    size_t n = svc_daytime_line(line, sizeof line);
    ts_sendto(st, fd, line, n, 0, (const struct sockaddr *)peer, sizeof *peer);
}

static const ts_conn_handler svc_handler[SVC_TCP_N] = {
    svc_echo, svc_discard, svc_daytime, svc_chargen,
};

struct ts_services *ts_services_start(struct ts_stack *st, unsigned mask,
                                      const char *http_root)
{
    struct ts_services *sv = calloc(1, sizeof *sv);
    if (!sv)
        return NULL;
    for (int k = 0; k < SVC_TCP_N; k++)
        if ((mask & (1u << k)) &&
            !(sv->tcp[k] = ts_server_start(st, svc_port[k], svc_handler[k], NULL)))
            goto fail;
    if ((mask & TS_SERVICE_UDP) &&
        (!(sv->udp_echo = ts_server_start_udp(st, 7, svc_udp_echo, NULL)) ||
         !(sv->udp_daytime = ts_server_start_udp(st, 13, svc_udp_daytime, NULL))))
        goto fail;
    if ((mask & TS_SERVICE_HTTP) && !(sv->http = ts_http_start(st, 80, http_root)))
        goto fail;
    return sv;
fail:;
    int err = errno;
    ts_services_stop(sv);
    errno = err;
    return NULL;
}

/* One server's stop, on a thread of its own: each waits up to a poll
 * interval for its accept thread, so they are stopped side by side. */
struct svc_stopper {
    struct ts_server *srv;
    struct ts_http *http;
    pthread_t thread;
    int running;
};

static void *svc_stop_main(void *arg)
{
    struct svc_stopper *s = arg;
    if (s->srv)
        ts_server_stop(s->srv);
    ts_http_stop(s->http);
    return NULL;
}

void ts_services_stop(struct ts_services *sv)
{
    if (!sv)
        return;
    struct svc_stopper stop[SVC_TCP_N + 3];
    memset(stop, 0, sizeof stop);
    for (int k = 0; k < SVC_TCP_N; k++)
        stop[k].srv = sv->tcp[k];
    stop[SVC_TCP_N].srv = sv->udp_echo;
    stop[SVC_TCP_N + 1].srv = sv->udp_daytime;
    stop[SVC_TCP_N + 2].http = sv->http;
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
        if ((stop[i].srv || stop[i].http) &&
            pthread_create(&stop[i].thread, NULL, svc_stop_main, &stop[i]) == 0)
            stop[i].running = 1;
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++) {
        if (stop[i].running)
            pthread_join(stop[i].thread, NULL);
        else
            svc_stop_main(&stop[i]);    /* no thread: here and now */
    }
    free(sv);
}
