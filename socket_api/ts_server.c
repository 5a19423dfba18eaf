/* socket_api/ts_server.c - the socketserver-style helper: an accept (or
 * receive) thread, and a thread per TCP connection, all on the public API.
 */
#include "socket_api/ts_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define TS_SERVER_MAX_CONNS 1024
#define TS_SERVER_POLL_MS 200       /* how quickly stop is noticed */
#define TS_SERVER_BACKOFF_MAX_MS 100    /* longest pause when out of sockets */

struct ts_server_conn {
    struct ts_server *srv;
    int fd;
    struct sockaddr_in peer;
    pthread_t thread;
    int done;
};

struct ts_server {
    struct ts_stack *st;
    int fd;
    uint16_t port;
    int udp;
    ts_conn_handler conn_fn;
    ts_dgram_handler dgram_fn;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    int stop;
    unsigned long accept_failures;  /* EMFILE and the like (tests) */
    struct ts_server_conn *conns[TS_SERVER_MAX_CONNS];
};

static void *ts_server_conn_main(void *arg)
{
    struct ts_server_conn *c = arg;
    struct ts_server *srv = c->srv;
    srv->conn_fn(srv->st, c->fd, &c->peer, srv->ctx);
    pthread_mutex_lock(&srv->lock);
    ts_close(srv->st, c->fd);
    c->fd = -1;
    c->done = 1;
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* Join finished connection threads; returns a free slot index or -1. */
static int ts_server_reap(struct ts_server *srv)
{
    int free_slot = -1;
    for (int i = 0; i < TS_SERVER_MAX_CONNS; i++) {
        struct ts_server_conn *c = srv->conns[i];
        pthread_mutex_lock(&srv->lock);
        int done = c && c->done;
        pthread_mutex_unlock(&srv->lock);
        if (done) {
            pthread_join(c->thread, NULL);
            free(c);
            srv->conns[i] = NULL;
        }
        if (!srv->conns[i] && free_slot < 0)
            free_slot = i;
    }
    return free_slot;
}

static void ts_server_spawn(struct ts_server *srv, int fd,
                            const struct sockaddr_in *peer)
{
    int slot = ts_server_reap(srv);
    struct ts_server_conn *c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        ts_close(srv->st, fd);      /* over the limit: refuse politely */
        return;
    }
    c->srv = srv;
    c->fd = fd;
    c->peer = *peer;
    srv->conns[slot] = c;
    if (pthread_create(&c->thread, NULL, ts_server_conn_main, c) != 0) {
        srv->conns[slot] = NULL;
        ts_close(srv->st, fd);
        free(c);
    }
}

static int ts_server_stopping(struct ts_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    int stop = srv->stop;
    pthread_mutex_unlock(&srv->lock);
    return stop;
}

/* The server threads wait in a blocking call with a receive time-out, not
 * in ts_poll: a poller is woken by every event of the stack, a blocked
 * accept only by its own socket, which keeps round trips cheap when many
 * servers run. The time-out is how soon a stop is noticed. */
static void ts_server_set_timeout(struct ts_server *srv)
{
    struct timeval tv = { 0, TS_SERVER_POLL_MS * 1000 };
    ts_setsockopt(srv->st, srv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Out of sockets or memory, accept fails at once while connections wait
 * in the queue: pause, 1 ms doubling up to TS_SERVER_BACKOFF_MAX_MS, and
 * try again, rather than spin on the error (as the kernel's servers do;
 * the waiting connections stay queued, and the backlog refuses more). */
static void ts_server_backoff(struct ts_server *srv, unsigned *ms)
{
    pthread_mutex_lock(&srv->lock);
    srv->accept_failures++;
    pthread_mutex_unlock(&srv->lock);
    *ms = *ms ? *ms * 2 : 1;
    if (*ms > TS_SERVER_BACKOFF_MAX_MS)
        *ms = TS_SERVER_BACKOFF_MAX_MS;
    struct timespec ts = { 0, (long)*ms * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void *ts_server_accept_main(void *arg)
{
    struct ts_server *srv = arg;
    unsigned backoff = 0;
    ts_server_set_timeout(srv);
    while (!ts_server_stopping(srv)) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int fd = ts_accept(srv->st, srv->fd, (struct sockaddr *)&peer, &len);
        if (fd >= 0) {
            backoff = 0;
            ts_server_spawn(srv, fd, &peer);
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
                   errno == ENOBUFS) {
            ts_server_backoff(srv, &backoff);
        }
    }
    return NULL;
}

unsigned long ts_server_accept_failures(struct ts_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    unsigned long n = srv->accept_failures;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

static void *ts_server_udp_main(void *arg)
{
    struct ts_server *srv = arg;
    static const size_t cap = 65536;
    uint8_t *buf = malloc(cap);
    ts_server_set_timeout(srv);
    while (buf && !ts_server_stopping(srv)) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        ssize_t n = ts_recvfrom(srv->st, srv->fd, buf, cap, 0,
                                (struct sockaddr *)&peer, &len);
        if (n >= 0)
            srv->dgram_fn(srv->st, srv->fd, buf, (size_t)n, &peer, srv->ctx);
    }
    free(buf);
    return NULL;
}

static struct ts_server *ts_server_new(struct ts_stack *st, int type,
                                       uint16_t port)
{
    struct ts_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->st = st;
    srv->fd = ts_socket(st, AF_INET, type, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    int one = 1;
    socklen_t len = sizeof sin;
    if (srv->fd < 0 ||
        ts_setsockopt(st, srv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        ts_bind(st, srv->fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        (type == SOCK_STREAM && ts_listen(st, srv->fd, 128) < 0) ||
        ts_getsockname(st, srv->fd, (struct sockaddr *)&sin, &len) < 0) {
        int err = errno;
        if (srv->fd >= 0)
            ts_close(st, srv->fd);
        free(srv);
        errno = err;
        return NULL;
    }
    srv->port = ntohs(sin.sin_port);
    pthread_mutex_init(&srv->lock, NULL);
    return srv;
}

static struct ts_server *ts_server_run(struct ts_server *srv,
                                       void *(*main_fn)(void *))
{
    int rc = pthread_create(&srv->thread, NULL, main_fn, srv);
    if (rc) {
        ts_close(srv->st, srv->fd);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        errno = rc;
        return NULL;
    }
    return srv;
}

struct ts_server *ts_server_start(struct ts_stack *st, uint16_t port,
                                  ts_conn_handler fn, void *ctx)
{
    struct ts_server *srv = fn ? ts_server_new(st, SOCK_STREAM, port) : NULL;
    if (!srv) {
        if (!fn)
            errno = EINVAL;
        return NULL;
    }
    srv->conn_fn = fn;
    srv->ctx = ctx;
    return ts_server_run(srv, ts_server_accept_main);
}

struct ts_server *ts_server_start_udp(struct ts_stack *st, uint16_t port,
                                      ts_dgram_handler fn, void *ctx)
{
    struct ts_server *srv = fn ? ts_server_new(st, SOCK_DGRAM, port) : NULL;
    if (!srv) {
        if (!fn)
            errno = EINVAL;
        return NULL;
    }
    srv->udp = 1;
    srv->dgram_fn = fn;
    srv->ctx = ctx;
    return ts_server_run(srv, ts_server_udp_main);
}

uint16_t ts_server_port(const struct ts_server *srv)
{
    return srv->port;
}

void ts_server_stop(struct ts_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->stop = 1;
    pthread_mutex_unlock(&srv->lock);
    /* The accept thread first: it alone fills conns[], and a connection
     * it took after the shutdowns below would never be told to stop. */
    pthread_join(srv->thread, NULL);
    pthread_mutex_lock(&srv->lock);
    /* Wake handlers blocked in recv: they see end of stream and return. */
    for (int i = 0; i < TS_SERVER_MAX_CONNS; i++)
        if (srv->conns[i] && !srv->conns[i]->done)
            ts_shutdown(srv->st, srv->conns[i]->fd, SHUT_RDWR);
    pthread_mutex_unlock(&srv->lock);
    for (int i = 0; i < TS_SERVER_MAX_CONNS; i++) {
        if (srv->conns[i]) {
            pthread_join(srv->conns[i]->thread, NULL);
            free(srv->conns[i]);
        }
    }
    ts_close(srv->st, srv->fd);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
