/* socket_api/services.c - echo, discard, daytime and chargen as TCP event
 * handlers. One small struct per connection, freed when it is closed. */
#include "socket_api/services.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVC_CHUNK 16384
#define SVC_BACKLOG 128

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_DAYTIME, SVC_CHARGEN, SVC_N };
static const uint16_t svc_port[SVC_N] = { 7, 9, 13, 19 };

struct svc_listener {
    struct services *sv;
    enum svc_kind kind;
    struct tcp_listener *l;
};

struct services {
    struct stack *s;
    struct svc_listener lis[SVC_N];
    struct udp_sock *udp_echo, *udp_daytime;
};

struct svc_conn {
    struct services *sv;
    enum svc_kind kind;
    uint32_t chargen_pos;       /* where the rotating pattern continues */
};

static uint64_t svc_now(const struct services *sv)
{
    return sv->s->tcp.now;
}

static void svc_close(struct svc_conn *sc, struct tcp_conn *c)
{
    tcp_close(c, svc_now(sc->sv));
    free(sc);
}

/* Read what can be echoed without buffering: no more than the send ring
 * has room for, so every byte read is written at once. */
static void svc_echo(struct svc_conn *sc, struct tcp_conn *c)
{
    uint8_t buf[SVC_CHUNK];
    uint64_t now = svc_now(sc->sv);
    for (int i = 0; i < 64; i++) {
        uint32_t room = tcp_conn_writable(c);
        if (room == 0 || tcp_conn_readable(c) == 0)
            return;
        ssize_t n = tcp_recv(c, buf, room < sizeof buf ? room : sizeof buf, now);
        if (n <= 0)
            return;
        tcp_send(c, buf, (size_t)n, now);
    }
}

static void svc_discard(struct tcp_conn *c, uint64_t now)
{
    uint8_t buf[SVC_CHUNK];
    for (int i = 0; i < 64 && tcp_recv(c, buf, sizeof buf, now) > 0; i++)
        ;
}

/* RFC 864: 72-character lines of the 95 printable characters, each line
 * starting one character later than the one before. The stream repeats
 * every 95 lines of 74 bytes (with CRLF), so it is built once and copied. */
#define SVC_CHARGEN_LINE 74
#define SVC_CHARGEN_PERIOD (95 * SVC_CHARGEN_LINE)

static const uint8_t *svc_chargen_table(void)
{
    static uint8_t table[SVC_CHARGEN_PERIOD];
    static int ready;       /* immutable once built; built on first use */
    if (!ready) {
        for (uint32_t i = 0; i < SVC_CHARGEN_PERIOD; i++) {
            uint32_t line = i / SVC_CHARGEN_LINE, col = i % SVC_CHARGEN_LINE;
            table[i] = col == 72 ? '\r' : col == 73 ? '\n'
                                        : (uint8_t)(' ' + (line + col) % 95);
        }
        ready = 1;
    }
    return table;
}

static void svc_chargen(struct svc_conn *sc, struct tcp_conn *c)
{
    const uint8_t *table = svc_chargen_table();
    uint64_t now = svc_now(sc->sv);
    for (int i = 0; i < 256; i++) {
        uint32_t room = tcp_conn_writable(c);
        uint32_t pos = sc->chargen_pos % SVC_CHARGEN_PERIOD;
        uint32_t n = SVC_CHARGEN_PERIOD - pos;
        if (n > room)
            n = room;
        if (n == 0 || tcp_send(c, table + pos, n, now) <= 0)
            return;
        sc->chargen_pos = pos + n;
    }
}

static void svc_daytime(struct tcp_conn *c, uint64_t now)
{
    char line[64];
    time_t t = time(NULL);
    struct tm tm;
    size_t n = strftime(line, sizeof line, "%A, %B %d, %Y %H:%M:%S-UTC\r\n",
                        gmtime_r(&t, &tm));
    tcp_send(c, line, n, now);
}

static void svc_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    struct svc_conn *sc = ctx;
    uint64_t now = svc_now(sc->sv);
    if (ev & TCP_EV_ERROR) {
        svc_close(sc, c);
        return;
    }
    if (sc->kind == SVC_ECHO && (ev & (TCP_EV_READABLE | TCP_EV_WRITABLE)))
        svc_echo(sc, c);
    if ((sc->kind == SVC_DISCARD || sc->kind == SVC_CHARGEN) &&
        (ev & TCP_EV_READABLE))
        svc_discard(c, now);
    if (sc->kind == SVC_CHARGEN && (ev & TCP_EV_WRITABLE))
        svc_chargen(sc, c);
    /* The peer is done and everything it sent has been dealt with. */
    if (tcp_conn_at_eof(c))
        svc_close(sc, c);
}

static void svc_accept(void *ctx, struct tcp_conn *unused, unsigned ev)
{
    struct svc_listener *sl = ctx;
    (void)unused;
    if (!(ev & TCP_EV_ACCEPT))
        return;
    for (int i = 0; i < SVC_BACKLOG; i++) {
        struct svc_conn *sc = calloc(1, sizeof *sc);
        struct tcp_conn *c = sc ? tcp_accept(sl->l, svc_event, sc) : NULL;
        if (!c) {
            free(sc);
            return;
        }
        sc->sv = sl->sv;
        sc->kind = sl->kind;
        if (sc->kind == SVC_DAYTIME) {
            svc_daytime(c, svc_now(sl->sv));
            svc_close(sc, c);
        }
    }
}

/* UDP echo (RFC 862) and daytime (RFC 867): answer each datagram. */
static void svc_udp_event(void *ctx, struct udp_sock *us, unsigned ev)
{
    struct services *sv = ctx;
    static uint8_t buf[UDP_MAX_PAYLOAD];   /* the stack is single-threaded */
    (void)ev;
    uint64_t now = sv->s->udp.now;
    uint32_t src;
    uint16_t sport;
    for (int i = 0; i < 64; i++) {
        ssize_t n = udp_recvfrom(us, buf, sizeof buf, &src, &sport);
        if (n < 0)
            return;
        if (us == sv->udp_daytime) {
            char line[64];
            time_t t = time(NULL);
            struct tm tm;
            n = (ssize_t)strftime(line, sizeof line,
                                  "%A, %B %d, %Y %H:%M:%S-UTC\r\n",
                                  gmtime_r(&t, &tm));
            udp_sendto(us, line, (size_t)n, src, sport, now);
        } else {
            udp_sendto(us, buf, (size_t)n, src, sport, now);
        }
    }
}

static struct udp_sock *svc_udp_open(struct services *sv, uint16_t port,
                                     int *err)
{
    struct udp_sock *us = udp_open(&sv->s->udp, 256 * 1024, svc_udp_event, sv);
    if (!us) {
        *err = -ENOMEM;
        return NULL;
    }
    if ((*err = udp_bind(us, 0, port)) < 0) {
        udp_close(us);
        return NULL;
    }
    return us;
}

struct services *services_start(struct stack *s, unsigned mask, int *err)
{
    struct services *sv = calloc(1, sizeof *sv);
    if (!sv) {
        *err = -ENOMEM;
        return NULL;
    }
    sv->s = s;
    for (int k = 0; k < SVC_N; k++) {
        if (!(mask & (1u << k)))
            continue;
        struct svc_listener *sl = &sv->lis[k];
        sl->sv = sv;
        sl->kind = (enum svc_kind)k;
        sl->l = tcp_listen(&s->tcp, 0, svc_port[k], SVC_BACKLOG, svc_accept,
                           sl, err);
        if (!sl->l) {
            services_stop(sv);
            return NULL;
        }
    }
    if (((mask & SERVICES_ECHO) && !(sv->udp_echo = svc_udp_open(sv, 7, err))) ||
        ((mask & SERVICES_DAYTIME) &&
         !(sv->udp_daytime = svc_udp_open(sv, 13, err)))) {
        services_stop(sv);
        return NULL;
    }
    return sv;
}

void services_stop(struct services *sv)
{
    if (!sv)
        return;
    for (int k = 0; k < SVC_N; k++)
        if (sv->lis[k].l)
            tcp_unlisten(sv->lis[k].l);
    if (sv->udp_echo)
        udp_close(sv->udp_echo);
    if (sv->udp_daytime)
        udp_close(sv->udp_daytime);
    free(sv);
}
