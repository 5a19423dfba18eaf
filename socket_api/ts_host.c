/* socket_api/ts_host.c - the shared host: a running stack that other
 * programs use through its control socket (ts_stack_serve), the way every
 * program on a machine shares the kernel's stack.
 *
 * This file owns the host's life (start, stop), the programs' control
 * connections (credentials, reading and answering requests), the table of
 * served sockets by the inode of the program's end, and ts_host_run, the
 * stack thread's round over the sockets whose state changed. Why a
 * socketpair per socket, and not messages for every call: README,
 * "Running your own programs on tapstack".
 * Entry points: ts_stack_serve, ts_host_run, ts_host_stop,
 * ts_host_counters, and for ts_host_ops.c/ts_host_io.c: ts_host_find,
 * ts_host_dirty, ts_host_adopt, ts_host_release, ts_host_send_fd.
 */
#include "socket_api/ts_host_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define TS_HOST_REQS_PER_WAKE 32    /* then other programs get a turn */
#define TS_HOST_CMSG_FDS (TS_CTL_IDENT_MAX + 1)

static const struct ts_counter_desc ts_host_counter_desc[] = {
#define TS_HOST_DESC(name, help) TS_COUNTER(struct ts_host_stats, name, help),
    TS_HOST_COUNTERS(TS_HOST_DESC)
#undef TS_HOST_DESC
};

void ts_host_counters_walk(const struct ts_host *h, stack_counters_fn fn,
                           void *ctx)
{
    fn(ctx, "host", ts_host_counter_desc, TS_COUNTERS_LEN(ts_host_counter_desc),
       &h->stats, 0);
}

void ts_host_counters(const struct ts_host *h, FILE *out)
{
    ts_counters_print(out, "host", ts_host_counter_desc,
                      TS_COUNTERS_LEN(ts_host_counter_desc), &h->stats);
}

static unsigned ts_host_slot(const struct ts_host *h, ino_t ino)
{
    uint64_t x = (uint64_t)ino * 0x9e3779b97f4a7c15ull;
    return (unsigned)(x >> 32) & (h->nhash - 1);
}

struct ts_hsock *ts_host_find(struct ts_host *h, ino_t pino)
{
    struct ts_hsock *hs = h->hash[ts_host_slot(h, pino)];
    while (hs && hs->pino != pino)
        hs = hs->hnext;
    return hs;
}

void ts_host_dirty(struct ts_hsock *hs)
{
    if (hs->flags & (TS_HS_DIRTY | TS_HS_GONE))
        return;
    hs->flags |= TS_HS_DIRTY;
    hs->dnext = hs->h->dirty;
    hs->h->dirty = hs;
}

/* Every event of a served socket (TCP or UDP, any thread, lock held). */
static void ts_host_notify(struct ts_sock *s)
{
    ts_host_dirty(s->owner);
}

static void ts_host_unhash(struct ts_hsock *hs)
{
    struct ts_hsock **pp = &hs->h->hash[ts_host_slot(hs->h, hs->pino)];
    while (*pp && *pp != hs)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = hs->hnext;
}

/* A pair for a socket of type: ours non-blocking in sv[0], the program's
 * (blocking, as a new socket is) in sv[1]. 0 or -errno. */
static int ts_host_pair(int type, int sv[2])
{
    int kt = type == SOCK_STREAM ? SOCK_STREAM : SOCK_SEQPACKET;
    if (socketpair(AF_UNIX, kt | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
        int err = -errno;
        close(sv[0]);
        close(sv[1]);
        return err;
    }
    return 0;
}

int ts_host_adopt(struct ts_host *h, struct ts_sock *s, int family,
                  struct ts_hsock **out)
{
    int sv[2];
    struct stat sb;
    struct ts_hsock *hs = calloc(1, sizeof *hs);
    int err = hs ? ts_host_pair(s->type, sv) : -ENOMEM;
    if (err == 0) {
        hs->w = (struct ts_watch){ sv[0], ts_host_watch_fn };
        if (fstat(sv[1], &sb) < 0)
            err = -errno;
        else
            err = ts_watch_add(h->st, &hs->w,
                               EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
        if (err < 0) {
            close(sv[0]);
            close(sv[1]);
        }
    }
    if (err < 0) {
        free(hs);
        ts_close_locked(s);
        return err;
    }
    hs->h = h;
    hs->s = s;
    hs->pino = sb.st_ino;
    hs->pdev = sb.st_dev;
    hs->family = family;
    hs->pfd = -1;
    hs->flags = TS_HS_RD | TS_HS_WR;
    unsigned slot = ts_host_slot(h, hs->pino);
    hs->hnext = h->hash[slot];
    h->hash[slot] = hs;
    s->owner = hs;
    s->notify = ts_host_notify;
    h->stats.sockets_now++;
    h->stats.sockets_total++;
    if (out)
        *out = hs;
    return sv[1];
}

void ts_host_release(struct ts_hsock *hs, int abort)
{
    struct ts_sock *s = hs->s;
    if (hs->flags & TS_HS_GONE)
        return;
    s->notify = NULL;
    s->owner = NULL;
    /* close(2) of a lingering socket blocks the caller, but the program's
     * close has long returned, and the stack thread must never block: only
     * linger 0 (RST) keeps its meaning here. */
    s->linger_on = abort || (s->linger_on && s->linger_s == 0);
    s->linger_s = 0;
    ts_close_locked(s);
    ts_watch_del(hs->h->st, &hs->w);
    close(hs->w.fd);
    if (hs->pfd >= 0)
        close(hs->pfd);
    ts_host_unhash(hs);
    hs->flags |= TS_HS_GONE;
    hs->rnext = hs->h->released;
    hs->h->released = hs;
    hs->h->stats.sockets_now--;
}

static uint16_t ts_host_port_of(const struct ts_sock *s)
{
    uint32_t a;
    uint16_t p = s->bport;
    if (s->kind == TS_UDP)
        udp_sock_addr(s->u, &a, &p);
    return p;
}

int ts_host_reap_port(struct ts_host *h, int type, uint16_t port)
{
    int n = 0;
    for (unsigned i = 0; i < h->st->nsocks; i++) {
        struct ts_sock *s = &h->st->socks[i];
        struct ts_hsock *hs = s->owner;
        /* Connections are left to their own close: their pair may still
         * hold bytes the peer is owed. */
        if (s->kind == TS_FREE || s->kind == TS_CONN || !hs ||
            s->type != type || ts_host_port_of(s) != port)
            continue;
        struct pollfd p = { hs->w.fd, 0, 0 };
        if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) &&
            !ts_host_prog_alive(h->diag, hs->pino)) {
            ts_host_release(hs, 0);
            n++;
        }
    }
    return n;
}

ssize_t ts_host_send_fd(int sock, const void *msg, size_t len, int fd)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } u;
    struct iovec iov = { (void *)msg, len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.b;
        m.msg_controllen = sizeof u.b;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
}

/* The descriptors a request carried (every SCM_RIGHTS block), at most max;
 * any beyond are closed. Returns the count. */
static int ts_host_take_fds(struct msghdr *m, int *fds, int max)
{
    int n = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (n < max)
                fds[n++] = fd;
            else
                close(fd);
        }
    }
    return n;
}

/* Check what every request must be before any field is trusted. */
static int ts_host_req_ok(const struct ts_ctl_req *rq, ssize_t n, int flags)
{
    return n == (ssize_t)sizeof *rq && !(flags & (MSG_TRUNC | MSG_CTRUNC)) &&
           rq->magic == TS_CTL_MAGIC && rq->version == TS_CTL_VERSION &&
           rq->addrlen <= TS_CTL_ADDR_MAX && rq->optlen <= TS_CTL_OPT_MAX;
}

/* Read one request and answer it. 1: go on, 0: nothing more now, -1: the
 * program is gone or misbehaves (drop its connection). */
static int ts_host_request(struct ts_hclient *cl)
{
    struct ts_host *h = cl->h;
    struct ts_ctl_req rq;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * TS_HOST_CMSG_FDS)];
    } u;
    struct iovec iov = { &rq, sizeof rq };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.b, .msg_controllen = sizeof u.b };
    ssize_t n = recvmsg(cl->w.fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    int fds[TS_HOST_CMSG_FDS];
    int nfds = ts_host_take_fds(&m, fds, TS_HOST_CMSG_FDS);
    if (n == 0) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        return -1;
    }
    struct ts_ctl_rep rep;
    memset(&rep, 0, sizeof rep);
    rep.magic = TS_CTL_MAGIC;
    int out_fd = -1, keep = 0;
    h->stats.requests++;
    if (ts_host_req_ok(&rq, n, m.msg_flags)) {
        ts_host_op(h, &rq, fds, nfds, &rep, &out_fd, &keep);
    } else {
        h->stats.bad_requests++;
        rep.rc = -EPROTO;
        ts_logf(&h->st->s.log, TS_LOG_WARN,
                "host: malformed request from pid %d (%zd bytes%s): "
                "answered EPROTO", (int)cl->pid, n,
                (m.msg_flags & MSG_TRUNC) ? ", oversized" : "");
    }
    for (int i = keep ? 1 : 0; i < nfds; i++)
        close(fds[i]);
    ssize_t w = ts_host_send_fd(cl->w.fd, &rep, sizeof rep, out_fd);
    if (out_fd >= 0)
        close(out_fd);
    return w == (ssize_t)sizeof rep ? 1 : -1;
}

static void ts_host_client_fn(struct ts_watch *w, uint32_t events)
{
    struct ts_hclient *cl = (struct ts_hclient *)w;
    int rc = 1;
    for (int i = 0; i < TS_HOST_REQS_PER_WAKE && rc > 0 && !cl->gone; i++)
        rc = ts_host_request(cl);
    if (rc < 0 || (rc == 0 && (events & (EPOLLHUP | EPOLLERR))))
        cl->gone = 1;       /* freed by ts_host_run, after this batch */
    if (cl->gone)
        cl->h->clients_gone = 1;
}

/* Only the user who started the stack, and root, may use it. */
static int ts_host_admit(struct ts_host *h, int fd, struct ucred *cr)
{
    socklen_t len = sizeof *cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) < 0)
        return 0;
    if (cr->uid != h->owner && cr->uid != 0) {
        ts_logf(&h->st->s.log, TS_LOG_WARN,
                "host: refused pid %d of uid %u: only uid %u and root may "
                "use this stack", (int)cr->pid, (unsigned)cr->uid,
                (unsigned)h->owner);
        return 0;
    }
    if (h->nclients >= TS_HOST_MAX_CLIENTS) {
        ts_logf(&h->st->s.log, TS_LOG_WARN,
                "host: refused pid %d: %u programs connected already",
                (int)cr->pid, h->nclients);
        return 0;
    }
    return 1;
}

static void ts_host_accept_fn(struct ts_watch *w, uint32_t events)
{
    struct ts_host *h = (struct ts_host *)((char *)w - offsetof(struct ts_host, lw));
    (void)events;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            /* Level-triggered, it would wake us for ever: rest until a
             * descriptor is given back (ts_host_run). */
            ts_watch_del(h->st, w);
            h->accept_paused = 1;
            ts_logf(&h->st->s.log, TS_LOG_WARN,
                    "host: out of descriptors: programs wait to connect");
        }
        if (fd < 0)
            return;
        struct ucred cr;
        struct ts_hclient *cl = NULL;
        if (!ts_host_admit(h, fd, &cr) || !(cl = calloc(1, sizeof *cl))) {
            h->stats.programs_refused++;
            close(fd);
            continue;
        }
        cl->w = (struct ts_watch){ fd, ts_host_client_fn };
        cl->h = h;
        cl->uid = cr.uid;
        cl->pid = cr.pid;
        if (ts_watch_add(h->st, &cl->w, EPOLLIN) < 0) {
            close(fd);
            free(cl);
            continue;
        }
        cl->next = h->clients;
        h->clients = cl;
        h->nclients++;
        h->stats.programs_now++;
        h->stats.programs_total++;
    }
}

static void ts_host_reap_clients(struct ts_host *h)
{
    struct ts_hclient **pp = &h->clients;
    while (*pp) {
        struct ts_hclient *cl = *pp;
        if (!cl->gone) {
            pp = &cl->next;
            continue;
        }
        *pp = cl->next;
        ts_watch_del(h->st, &cl->w);
        close(cl->w.fd);
        free(cl);
        h->nclients--;
        h->stats.programs_now--;
    }
}

int ts_host_run(struct ts_host *h)
{
    for (int pass = 0; pass < 8 && h->dirty; pass++) {
        struct ts_hsock *list = h->dirty;
        h->dirty = NULL;
        while (list) {
            struct ts_hsock *hs = list;
            list = hs->dnext;
            hs->flags &= ~TS_HS_DIRTY;
            if (!(hs->flags & TS_HS_GONE))
                ts_host_serve(hs);
        }
    }
    /* A socket released while on the dirty list leaves it before it is freed. */
    for (struct ts_hsock **pp = &h->dirty; *pp;) {
        if ((*pp)->flags & TS_HS_GONE)
            *pp = (*pp)->dnext;
        else
            pp = &(*pp)->dnext;
    }
    int freed = h->released != NULL || h->clients_gone;
    h->clients_gone = 0;
    while (h->released) {
        struct ts_hsock *hs = h->released;
        h->released = hs->rnext;
        free(hs);
    }
    ts_host_reap_clients(h);
    ts_host_watch_reap(h);
    if (h->accept_paused && (freed || h->nclients == 0) &&
        ts_watch_add(h->st, &h->lw, EPOLLIN) == 0)
        h->accept_paused = 0;
    return h->dirty != NULL;
}

/* The control socket: "@name" abstract (private to the network namespace),
 * else a path, made 0600. Returns the listening descriptor or -errno. */
static int ts_host_listen(struct ts_host *h, const char *name)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    size_t n = strlen(name);
    if (n < 2 || n >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    socklen_t len;
    if (name[0] == '@') {
        memcpy(sun.sun_path + 1, name + 1, n - 1);   /* sun_path[0] = 0 */
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        memcpy(sun.sun_path, name, n);
        memcpy(h->path, name, n + 1);
        len = sizeof sun;
    }
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A stale socket file of a stack that died is taken over; one that
     * answers belongs to a running stack and is left alone. */
    if (h->path[0] && connect(fd, (struct sockaddr *)&sun, len) < 0 &&
        errno == ECONNREFUSED)
        unlink(h->path);
    close(fd);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sun, len) < 0 ||
        (h->path[0] && chmod(h->path, 0600) < 0) || listen(fd, 128) < 0) {
        int err = -errno;
        close(fd);
        h->path[0] = 0;     /* not ours to unlink */
        return err;
    }
    return fd;
}

static void ts_host_free(struct ts_host *h)
{
    if (h->diag >= 0)
        close(h->diag);
    free(h->hash);
    free(h->buf);
    free(h->zero_base);
    free(h);
}

int ts_stack_serve(struct ts_stack *st, const char *name)
{
    if (!st || !name)
        return ts_fail(-EINVAL);
    struct ts_host *h = calloc(1, sizeof *h);
    unsigned nhash = 64;
    while (nhash < st->nsocks)
        nhash <<= 1;
    if (h) {
        h->diag = -1;
        h->hash = calloc(nhash, sizeof *h->hash);
        h->buf = malloc(TS_HOST_BUF);
    }
    if (!h || !h->hash || !h->buf) {
        if (h)
            ts_host_free(h);
        return ts_fail(-ENOMEM);
    }
    h->st = st;
    h->nhash = nhash;
    h->diag = ts_host_diag_open();
    h->owner = geteuid();
    pthread_mutex_lock(&st->lock);
    int fd = st->host ? -EBUSY : ts_host_listen(h, name);
    int err = fd;
    if (fd >= 0) {
        h->lw = (struct ts_watch){ fd, ts_host_accept_fn };
        if ((err = ts_watch_add(st, &h->lw, EPOLLIN)) == 0)
            st->host = h;
        else
            close(fd);
    }
    pthread_mutex_unlock(&st->lock);
    if (err < 0) {
        if (fd >= 0 && h->path[0])
            unlink(h->path);
        ts_host_free(h);
        return ts_fail(err);
    }
    return 0;
}

void ts_host_stop(struct ts_host *h)
{
    h->st->watch_gen++;         /* a batch the thread holds names these */
    ts_watch_del(h->st, &h->lw);
    close(h->lw.fd);
    ts_host_watch_stop(h);
    if (h->path[0])
        unlink(h->path);
    for (struct ts_hclient *cl = h->clients; cl; cl = cl->next)
        cl->gone = 1;
    ts_host_reap_clients(h);
    for (unsigned i = 0; i < h->nhash; i++) {
        while (h->hash[i]) {
            struct ts_hsock *hs = h->hash[i];
            h->hash[i] = hs->hnext;
            hs->s->notify = NULL;
            hs->s->owner = NULL;
            ts_watch_del(h->st, &hs->w);
            close(hs->w.fd);
            if (hs->pfd >= 0)
                close(hs->pfd);
            free(hs);
        }
    }
    while (h->released) {
        struct ts_hsock *hs = h->released;
        h->released = hs->rnext;
        free(hs);
    }
    h->st->host = NULL;
    ts_host_free(h);
}
