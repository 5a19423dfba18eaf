/* socket_api/ts_host_watch.c - `tapstack-ctl watch`: the live event stream.
 *
 * TS_OP_WATCH makes a SOCK_SEQPACKET pair: the program gets one end, the
 * host keeps the other as a sink of the stack's event path. Each event
 * that passes the subscriber's filters (layer, event name, port) goes out
 * as one message, a JSON line (socket_api/ts_trace.h). The pair's send
 * buffer is the subscriber's bounded buffer: the host never waits for a
 * slow reader; an event that does not fit is dropped and counted (host
 * watch_dropped), and the reader is told how many before the next one
 * that fits ({"ev":"watch_dropped","count":N}). A reader that closes its
 * end is noticed by epoll and let go at the next ts_host_run.
 * Entry points: ts_host_op_watch, ts_host_watch_reap, ts_host_watch_stop.
 */
#include "socket_api/ts_host_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket_api/ts_trace.h"

#define TS_WATCH_SNDBUF (256 * 1024)

struct ts_hwatch {
    struct ts_watch w;          /* w.fd: our end */
    struct ts_host *h;
    unsigned layers;            /* bit per enum ts_ev_layer; 0: all */
    uint16_t port;              /* 0: any */
    char ev[32];                /* "": any */
    uint64_t dropped;           /* not yet reported to the reader */
    int dead;
    struct ts_hwatch *next;
};

static int ts_hwatch_wants(const struct ts_hwatch *w, const struct ts_event *e)
{
    if (w->layers && !(w->layers & (1u << e->layer)))
        return 0;
    if (w->ev[0] && (!e->ev || strcmp(w->ev, e->ev) != 0))
        return 0;
    return !w->port || e->conn.lport == w->port || e->conn.rport == w->port;
}

static int ts_hwatch_send(struct ts_hwatch *w, const char *s)
{
    if (send(w->w.fd, s, strlen(s), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
        return 0;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
        w->dead = 1;            /* the reader is gone */
    return -1;
}

/* Tell the reader how many it missed; 0 when told (or nothing to tell). */
static int ts_hwatch_report(struct ts_hwatch *w, uint64_t t_us)
{
    if (!w->dropped)
        return 0;
    char line[128];
    snprintf(line, sizeof line, "{\"t_us\":%llu,\"layer\":\"sock\",\"ev\":"
             "\"watch_dropped\",\"count\":%llu,\"frame_out\":[]}",
             (unsigned long long)t_us, (unsigned long long)w->dropped);
    if (ts_hwatch_send(w, line) < 0)
        return -1;
    w->dropped = 0;
    return 0;
}

static void ts_hwatch_sink(void *ctx, const struct ts_event *e)
{
    struct ts_hwatch *w = ctx;
    if (w->dead || !ts_hwatch_wants(w, e))
        return;
    json_t *o = ts_trace_json(e);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s || ts_hwatch_report(w, e->t_us) < 0 || ts_hwatch_send(w, s) < 0) {
        w->dropped++;
        w->h->stats.watch_dropped++;
    }
    free(s);
}

static void ts_hwatch_fn(struct ts_watch *tw, uint32_t events)
{
    (void)events;               /* the reader never writes: EOF or HUP */
    struct ts_hwatch *w = (struct ts_hwatch *)tw;
    w->dead = 1;
}

static void ts_hwatch_free(struct ts_host *h, struct ts_hwatch *w)
{
    ts_ev_sink_remove(&h->st->s.ev, ts_hwatch_sink, w);
    ts_watch_del(h->st, &w->w);
    close(w->w.fd);
    h->stats.watchers_now--;
    free(w);
}

/* rq: arg[0] the layer mask, arg[1] the port, opt the event name. */
int ts_host_op_watch(struct ts_host *h, const struct ts_ctl_req *rq,
                     int *out_fd)
{
    if (rq->optlen >= sizeof ((struct ts_hwatch *)0)->ev ||
        rq->arg[1] < 0 || rq->arg[1] > 65535 || rq->arg[0] < 0 ||
        rq->arg[0] >= 1 << TS_EVL_COUNT)
        return -EINVAL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    struct ts_hwatch *w = calloc(1, sizeof *w);
    int sz = TS_WATCH_SNDBUF, err = -ENOMEM;
    if (w) {
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        *w = (struct ts_hwatch){ .w = { sv[0], ts_hwatch_fn }, .h = h,
                                 .layers = (unsigned)rq->arg[0],
                                 .port = (uint16_t)rq->arg[1] };
        memcpy(w->ev, rq->opt, rq->optlen);
        err = ts_watch_add(h->st, &w->w, EPOLLIN | EPOLLRDHUP);
        if (!err && ts_ev_sink_add(&h->st->s.ev, ts_hwatch_sink, w) < 0) {
            ts_watch_del(h->st, &w->w);
            err = -EBUSY;       /* every sink slot is taken */
        }
    }
    if (err) {
        free(w);
        close(sv[0]);
        close(sv[1]);
        return err;
    }
    w->next = h->watchers;
    h->watchers = w;
    h->stats.watchers_now++;
    *out_fd = sv[1];
    return 0;
}

void ts_host_watch_reap(struct ts_host *h)
{
    for (struct ts_hwatch **pp = &h->watchers; *pp;) {
        struct ts_hwatch *w = *pp;
        if (w->dead) {
            *pp = w->next;
            ts_hwatch_free(h, w);
        } else {
            pp = &w->next;
        }
    }
}

void ts_host_watch_stop(struct ts_host *h)
{
    while (h->watchers) {
        struct ts_hwatch *w = h->watchers;
        h->watchers = w->next;
        ts_hwatch_free(h, w);
    }
}
