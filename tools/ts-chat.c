/* tools/ts-chat.c - a line chat server on tapstack, and the example of the
 * event-loop style: one thread, one ts_poll over the listening socket and
 * every client, non-blocking sockets throughout.
 *
 * Each line a client sends goes to every other client as "[A.B.C.D:PORT]
 * line"; joins and leaves are announced as lines starting with "* ". What a
 * client has not read yet waits in a buffer of its own (at most
 * CHAT_OUT_MAX bytes; a client further behind is dropped), so a slow reader
 * never holds up the others. At most --max-clients clients at once; one
 * more is told the room is full and closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools/lib/ts_app.h"

#define CHAT_CLIENTS_LIMIT 64
#define CHAT_LINE_MAX 1024          /* longer lines go out in pieces */
#define CHAT_OUT_MAX (64 * 1024)    /* unread output before a client is dropped */
#define CHAT_MSG_MAX (CHAT_LINE_MAX + 64)

struct client {
    int fd;                         /* -1: a free slot */
    char name[TS_APP_ADDRSTRLEN];   /* "10.0.0.1:40000" */
    char in[CHAT_LINE_MAX];         /* a line being received */
    size_t inlen;
    char *out;                      /* what it has not been sent yet */
    size_t outlen;
    const char *gone;               /* why it is to be dropped, or NULL */
};

struct chat {
    struct ts_app app;
    struct ts_stack *st;
    int lfd;
    int accept_paused;              /* out of sockets: listener left alone */
    int max, count;
    struct client cl[CHAT_CLIENTS_LIMIT];
};

/* Send what client c has waiting, as much as its socket takes now. */
static void chat_flush(struct chat *ch, struct client *c)
{
    while (c->outlen && !c->gone) {
        ssize_t n = ts_send(ch->st, c->fd, c->out, c->outlen, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;                 /* ts_poll says when it takes more */
        if (n < 0) {
            c->gone = "connection lost";
            return;
        }
        memmove(c->out, c->out + n, c->outlen - (size_t)n);
        c->outlen -= (size_t)n;
    }
}

static void chat_queue(struct chat *ch, struct client *c, const char *msg,
                       size_t len)
{
    if (c->gone)
        return;
    if (c->outlen + len > CHAT_OUT_MAX) {
        c->gone = "too slow to read";
        return;
    }
    memcpy(c->out + c->outlen, msg, len);
    c->outlen += len;
    chat_flush(ch, c);
}

/* A line to every client but `from` (NULL: to all). */
__attribute__((format(printf, 3, 4)))
static void chat_say(struct chat *ch, const struct client *from,
                     const char *fmt, ...)
{
    char msg[CHAT_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof msg)
        len = sizeof msg - 1;
    for (int i = 0; i < ch->max; i++)
        if (ch->cl[i].fd >= 0 && &ch->cl[i] != from)
            chat_queue(ch, &ch->cl[i], msg, (size_t)len);
}

static void chat_accept(struct chat *ch)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int fd = ts_accept(ch->st, ch->lfd, (struct sockaddr *)&peer, &len);
    if (fd < 0) {
        /* EAGAIN: it went away meanwhile. Out of sockets: the listener
         * stays readable, so stop polling it for one round (a pause)
         * rather than spin on the error. */
        ch->accept_paused = errno == EMFILE || errno == ENFILE ||
                            errno == ENOMEM || errno == ENOBUFS;
        return;
    }
    struct client *c = NULL;
    for (int i = 0; i < ch->max && !c; i++)
        if (ch->cl[i].fd < 0)
            c = &ch->cl[i];
    char *out = c ? malloc(CHAT_OUT_MAX) : NULL;
    if (!out) {
        static const char full[] = "* sorry, the room is full; try again later\n";
        ts_send(ch->st, fd, full, sizeof full - 1, MSG_DONTWAIT);
        ts_close(ch->st, fd);
        return;
    }
    *c = (struct client){ .fd = fd, .out = out };
    ts_app_fmt_addr(&peer, c->name);
    ts_fcntl(ch->st, fd, F_SETFL, O_NONBLOCK);
    ch->count++;
    fprintf(stderr, "%s: %s joined (%d here)\n", ch->app.name, c->name, ch->count);
    chat_say(ch, c, "* %s joined; %d here now\n", c->name, ch->count);
    char hello[CHAT_MSG_MAX];
    int n = snprintf(hello, sizeof hello, "* welcome, %s; %d here now\n",
                     c->name, ch->count);
    chat_queue(ch, c, hello, (size_t)n);
}

/* Read what client c sent and pass on each complete line. */
static void chat_read(struct chat *ch, struct client *c)
{
    ssize_t n = ts_recv(ch->st, c->fd, c->in + c->inlen,
                        sizeof c->in - c->inlen, MSG_DONTWAIT);
    if (n == 0)
        c->gone = "left";
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        c->gone = "connection lost";
    if (n <= 0)
        return;
    c->inlen += (size_t)n;
    char *start = c->in, *nl;
    while ((nl = memchr(start, '\n', c->inlen - (size_t)(start - c->in)))) {
        int len = (int)(nl - start);
        if (len > 0 && start[len - 1] == '\r')
            len--;
        chat_say(ch, c, "[%s] %.*s\n", c->name, len, start);
        start = nl + 1;
    }
    c->inlen -= (size_t)(start - c->in);
    memmove(c->in, start, c->inlen);
    if (c->inlen == sizeof c->in) {     /* no end in sight: pass on a piece */
        chat_say(ch, c, "[%s] %.*s\n", c->name, (int)c->inlen, c->in);
        c->inlen = 0;
    }
}

/* Close the clients marked gone and tell the others (which may mark more). */
static void chat_sweep(struct chat *ch)
{
    for (int again = 1; again;) {
        again = 0;
        for (int i = 0; i < ch->max; i++) {
            struct client *c = &ch->cl[i];
            if (c->fd < 0 || !c->gone)
                continue;
            ts_close(ch->st, c->fd);
            free(c->out);
            c->fd = -1;
            ch->count--;
            fprintf(stderr, "%s: %s %s (%d here)\n", ch->app.name, c->name,
                    c->gone, ch->count);
            chat_say(ch, NULL, "* %s %s; %d here now\n", c->name, c->gone,
                     ch->count);
            again = 1;
        }
    }
}

static int chat_listen(struct chat *ch, uint16_t port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    int one = 1;
    ch->lfd = ts_socket(ch->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (ch->lfd < 0 ||
        ts_setsockopt(ch->st, ch->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        ts_bind(ch->st, ch->lfd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        ts_listen(ch->st, ch->lfd, 16) < 0)
        return -1;
    return 0;
}

/* The event loop: until SIGINT or SIGTERM. */
static int chat_run(struct chat *ch)
{
    struct pollfd pfd[1 + CHAT_CLIENTS_LIMIT];
    struct client *who[1 + CHAT_CLIENTS_LIMIT];
    while (!ts_app_stopped()) {
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){ .fd = ch->accept_paused ? -1 : ch->lfd,
                                    .events = POLLIN };
        for (int i = 0; i < ch->max; i++) {
            struct client *c = &ch->cl[i];
            if (c->fd < 0)
                continue;
            who[n] = c;
            pfd[n++] = (struct pollfd){ .fd = c->fd,
                .events = (short)(POLLIN | (c->outlen ? POLLOUT : 0)) };
        }
        /* 500 ms: see SIGINT; 100 ms: the pause out of sockets */
        int ready = ts_poll(ch->st, pfd, n, ch->accept_paused ? 100 : 500);
        ch->accept_paused = 0;
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, "%s: poll: %s\n", ch->app.name, strerror(errno));
            return 1;
        }
        if (ready <= 0)
            continue;
        for (nfds_t i = 1; i < n; i++) {
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                chat_read(ch, who[i]);
            if (pfd[i].revents & POLLOUT)
                chat_flush(ch, who[i]);
        }
        if (pfd[0].revents & POLLIN)
            chat_accept(ch);
        chat_sweep(ch);
    }
    return 0;
}

static const char chat_help[] =
"A chat server: every line a client sends to PORT (default 7000) goes to all\n"
"the other clients, prefixed with the sender's address, \"[A.B.C.D:PORT] \".\n"
"Joins and leaves are announced in lines starting with \"* \". Runs until\n"
"SIGINT or SIGTERM; logs joins and leaves on stderr.\n"
"\n"
"One thread and one ts_poll event loop serve every client; each has a 64 KiB\n"
"buffer of output it has not read yet, and is dropped when that overflows.\n"
"Lines longer than 1,024 bytes are passed on in pieces.\n"
"\n"
"  -m, --max-clients N      clients at once, 1..64 (default 16); one more is\n"
"                           told the room is full and disconnected\n";

static const char chat_epilog[] =
"Example, in a network namespace of your own:\n"
"  ts-chat --host-addr 10.0.0.1/24 &\n"
"  nc 10.0.0.2 7000          # in two or three terminals, then type\n"
"\n"
"Exit status: 0 after SIGINT or SIGTERM; 1 when the port cannot be used;\n"
"2 on bad arguments or when the stack cannot be opened.\n";

int main(int argc, char **argv)
{
    static struct chat ch = { .app = { .name = "ts-chat",
        .synopsis = "[OPTION]... [PORT]", .help = chat_help,
        .epilog = chat_epilog }, .max = 16 };
    static const struct option opts[] = {
        { "max-clients", required_argument, NULL, 'm' },
        TS_APP_LONGOPTS,
        { 0 }
    };
    uint16_t port = 7000;
    int c;
    ts_app_init(&ch.app);
    while ((c = getopt_long(argc, argv, "m:" TS_APP_SHORTOPTS, opts, NULL)) != -1) {
        if (c == 'm')
            ch.max = (int)ts_app_number(&ch.app, "--max-clients", optarg, 1,
                                        CHAT_CLIENTS_LIMIT);
        else
            ts_app_option(&ch.app, c, optarg);
    }
    if (optind < argc)
        port = ts_app_port(&ch.app, "PORT", argv[optind++]);
    if (optind < argc)
        ts_app_usage_error(&ch.app, "unexpected argument '%s'", argv[optind]);
    for (int i = 0; i < CHAT_CLIENTS_LIMIT; i++)
        ch.cl[i].fd = -1;

    ch.st = ts_app_open(&ch.app);
    int rc = 1;
    if (chat_listen(&ch, port) < 0) {
        fprintf(stderr, "%s: port %u: %s\n", ch.app.name, port, strerror(errno));
    } else {
        fprintf(stderr, "%s: listening on port %u, up to %d clients\n",
                ch.app.name, port, ch.max);
        rc = chat_run(&ch);
        chat_say(&ch, NULL, "* the server is shutting down\n");
    }
    for (int i = 0; i < ch.max; i++) {
        if (ch.cl[i].fd >= 0) {
            ts_close(ch.st, ch.cl[i].fd);   /* sends what is queued, then FIN */
            free(ch.cl[i].out);
        }
    }
    if (ch.count > 0)                       /* let those FINs go out */
        ts_poll(ch.st, NULL, 0, 200);
    if (ch.lfd >= 0)
        ts_close(ch.st, ch.lfd);
    ts_app_close(&ch.app, ch.st);
    return rc;
}
