/* tests/unit/preload_host.c - the fake tapstack host and the child-process
 * runner of the preload tests (see preload_host.h for the script).
 *
 * The host thread holds the lock while it handles anything, so the tests'
 * reads of the counters are consistent. Everything it opens is
 * FD_CLOEXEC: children must inherit only what a test hands them.
 *
 * Entry points: ph_start, ph_stop, ph_make, ph_ops, ph_conns, ph_spawn,
 * ph_probe, ph_build_path.
 */
#include "tests/unit/preload_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "socket_api/ts_preload_ctl.h"

static int ph_counter;

static uint64_t ph_ino(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static struct ph_sock *ph_find(struct ph_host *h, int fd)
{
    uint64_t ino = ph_ino(fd);
    for (int i = 0; i < PH_MAX_SOCKS; i++)
        if (h->socks[i].used && h->socks[i].ino == ino)
            return &h->socks[i];
    return NULL;
}

/* A new pair; the program's end is returned. Called with the lock held. */
static int ph_new_sock(struct ph_host *h, int kind, int family)
{
    int sv[2];
    int type = kind == TS_KIND_UDP ? SOCK_SEQPACKET : SOCK_STREAM;
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    for (int i = 0; i < PH_MAX_SOCKS; i++) {
        struct ph_sock *s = &h->socks[i];
        if (s->used)
            continue;
        memset(s, 0, sizeof *s);
        s->used = true;
        s->kind = kind;
        s->family = family;
        s->end = sv[0];
        s->ino = ph_ino(sv[1]);
        return sv[1];
    }
    close(sv[0]);
    close(sv[1]);
    return -1;
}

static void ph_free_sock(struct ph_sock *s)
{
    close(s->end);
    s->used = false;
}

/* An IPv4 address and port, as a sockaddr_in or (for a dual-stack
 * socket) a v4-mapped sockaddr_in6. */
static socklen_t ph_addr(int family, uint32_t ip, uint16_t port, void *out)
{
    if (family == AF_INET6) {
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
                                   .sin6_port = htons(port) };
        s6.sin6_addr.s6_addr[10] = s6.sin6_addr.s6_addr[11] = 0xff;
        uint32_t be = htonl(ip);
        memcpy(&s6.sin6_addr.s6_addr[12], &be, 4);
        memcpy(out, &s6, sizeof s6);
        return sizeof s6;
    }
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(ip) };
    memcpy(out, &s4, sizeof s4);
    return sizeof s4;
}

static uint16_t ph_port(const void *addr, uint32_t len)
{
    struct sockaddr_in s4;
    if (len < sizeof s4)
        return 0;
    memcpy(&s4, addr, sizeof s4);   /* sin_port and sin6_port coincide */
    return ntohs(s4.sin_port);
}

static int ph_send_fd(int sock, const void *buf, size_t len, int fd)
{
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { (void *)buf, len };
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
    return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* LISTEN: one connection waiting at once, from 10.9.9.9:4242. */
static void ph_queue_conn(struct ph_host *h, struct ph_sock *l)
{
    int family = l->family;
    int pfd = ph_new_sock(h, TS_KIND_TCP, family);
    if (pfd < 0)
        return;
    struct ph_sock *c = ph_find(h, pfd);
    struct ts_accept_rec rec = { .magic = TS_CTL_MAGIC };
    rec.addrlen = ph_addr(family, 0x0a090909, 4242, rec.addr);
    memcpy(&c->peer, rec.addr, rec.addrlen);
    c->peerlen = rec.addrlen;
    ph_send_fd(l->end, &rec, sizeof rec, pfd);
    close(pfd);
}

static void ph_connect(struct ph_sock *s, const struct ts_ctl_req *q,
                       struct ts_ctl_rep *r)
{
    memcpy(&s->peer, q->addr, q->addrlen);
    s->peerlen = q->addrlen;
    if (s->kind == TS_KIND_UDP)
        return;
    switch (ph_port(q->addr, q->addrlen)) {
    case 1:
        r->rc = -ECONNREFUSED;
        s->peerlen = 0;
        break;
    case 2:
        r->rc = -EINPROGRESS;
        s->so_error = ECONNREFUSED;
        break;
    case 3:
        r->rc = -EINPROGRESS;
        break;
    }
}

static void ph_getopt(struct ph_sock *s, const struct ts_ctl_req *q,
                      struct ts_ctl_rep *r)
{
    int v;
    if (q->arg[0] == SOL_SOCKET && q->arg[1] == SO_ERROR) {
        v = s->so_error;
        s->so_error = 0;
    } else if (q->arg[0] == SOL_SOCKET && q->arg[1] == SO_ACCEPTCONN) {
        v = s->kind == TS_KIND_LISTEN;
    } else if (q->arg[0] == SOL_SOCKET && q->arg[1] == SO_RCVBUF) {
        v = 4242;
    } else {
        r->rc = -ENOPROTOOPT;
        return;
    }
    memcpy(r->opt, &v, sizeof v);
    r->optlen = sizeof v;
}

/* Everything that names one socket. */
static void ph_on_sock(struct ph_host *h, struct ph_sock *s,
                       const struct ts_ctl_req *q, struct ts_ctl_rep *r)
{
    switch (q->op) {
    case TS_OP_BIND:
        memcpy(&s->local, q->addr, q->addrlen);
        s->locallen = q->addrlen;
        if (ph_port(q->addr, q->addrlen) == 1)
            r->rc = -EACCES;
        break;
    case TS_OP_LISTEN:
        s->kind = TS_KIND_LISTEN;
        ph_queue_conn(h, s);
        break;
    case TS_OP_CONNECT:
        ph_connect(s, q, r);
        break;
    case TS_OP_GETNAME:
        if (q->arg[0] && !s->peerlen) {
            r->rc = -ENOTCONN;
        } else if (q->arg[0]) {
            memcpy(r->addr, &s->peer, s->peerlen);
            r->addrlen = s->peerlen;
        } else if (s->locallen) {
            memcpy(r->addr, &s->local, s->locallen);
            r->addrlen = s->locallen;
        } else {
            r->addrlen = ph_addr(s->family, 0, 0, r->addr);
        }
        break;
    case TS_OP_SETOPT:
        h->last_setopt[0] = q->arg[0];
        h->last_setopt[1] = q->arg[1];
        memcpy(&h->last_setopt[2], q->opt, sizeof(int));
        if (q->arg[0] == SOL_SOCKET && q->arg[1] == SO_PRIORITY)
            r->rc = -ENOPROTOOPT;
        break;
    case TS_OP_GETOPT:
        ph_getopt(s, q, r);
        break;
    case TS_OP_SHUTDOWN:
        if (s->kind == TS_KIND_TCP && !s->peerlen)
            r->rc = -ENOTCONN;
        break;
    case TS_OP_STATUS:
        r->rc = s->status_rc;
        s->status_rc = 0;
        break;
    default:
        r->rc = -EPROTO;
    }
}

/* One request; returns the descriptor to send with the reply, or -1. */
static int ph_request(struct ph_host *h, const struct ts_ctl_req *q,
                      int *fds, int nfds, struct ts_ctl_rep *r)
{
    if (q->magic != TS_CTL_MAGIC || q->version != TS_CTL_VERSION ||
        q->addrlen > TS_CTL_ADDR_MAX || q->optlen > TS_CTL_OPT_MAX) {
        r->rc = -EPROTO;
        return -1;
    }
    if (q->op < 16)
        h->nops[q->op]++;
    if (q->op == TS_OP_SOCKET) {
        h->last_family = q->arg[0];
        int kind = q->arg[1] == SOCK_DGRAM ? TS_KIND_UDP : TS_KIND_TCP;
        return ph_new_sock(h, kind, q->arg[0]);
    }
    if (q->op == TS_OP_IDENTIFY) {
        for (int i = 0; i < nfds; i++) {
            struct ph_sock *s = ph_find(h, fds[i]);
            r->opt[i] = s ? (uint8_t)(s->kind |
                        (s->family == AF_INET6 ? TS_KIND_V6 : 0)) : 0;
        }
        r->optlen = (uint32_t)nfds;
        return -1;
    }
    struct ph_sock *s = nfds == 1 ? ph_find(h, fds[0]) : NULL;
    if (nfds != 1)
        r->rc = -EPROTO;
    else if (!s)
        r->rc = TS_CTL_NOT_OURS;
    else
        ph_on_sock(h, s, q, r);
    return -1;
}

/* A request on connection slot i; false when the connection ended. */
static bool ph_on_conn(struct ph_host *h, int i)
{
    union {
        char b[CMSG_SPACE(sizeof(int) * (TS_CTL_IDENT_MAX + 1))];
        struct cmsghdr align;
    } u;
    struct ts_ctl_req q;
    struct iovec iov = { &q, sizeof q };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.b, .msg_controllen = sizeof u.b };
    ssize_t n = recvmsg(h->conns[i], &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN))
        return false;
    if (n < 0)
        return true;
    int fds[TS_CTL_IDENT_MAX + 1], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        for (size_t k = 0; c->cmsg_type == SCM_RIGHTS &&
             k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++)
            memcpy(&fds[nfds++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));
    struct ts_ctl_rep r = { .magic = TS_CTL_MAGIC };
    if (n == (ssize_t)sizeof q && q.op == PH_OP_GARBAGE) {
        send(h->conns[i], "bad", 3, MSG_NOSIGNAL);
    } else {
        if (n != (ssize_t)sizeof q)
            r.rc = -EPROTO;
        int rfd = n == (ssize_t)sizeof q ? ph_request(h, &q, fds, nfds, &r) : -1;
        ph_send_fd(h->conns[i], &r, sizeof r, rfd);
        if (rfd >= 0)
            close(rfd);
    }
    for (int k = 0; k < nfds; k++)
        close(fds[k]);
    return true;
}

static void ph_on_tcp(struct ph_sock *s)
{
    char buf[4096];
    ssize_t n = recv(s->end, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0)
        return;
    bool reset = n == 5 && memcmp(buf, "reset", 5) == 0;
    bool timeout = n == 7 && memcmp(buf, "timeout", 7) == 0;
    if (reset || timeout) {
        shutdown(s->end, SHUT_RDWR);
        s->status_rc = reset ? -ECONNRESET : -ETIMEDOUT;
        s->eof = true;
    } else if (n == 0) {
        s->eof = true;
    } else if (send(s->end, buf, (size_t)n, MSG_NOSIGNAL) != n) {
        s->eof = true;
    }
}

static void ph_on_udp(struct ph_host *h, struct ph_sock *s)
{
    struct {
        struct ts_dgram_hdr hdr;
        char data[70000];
    } *d = malloc(sizeof *d);
    ssize_t n = d ? recv(s->end, d, sizeof *d, MSG_DONTWAIT) : -1;
    if (n == 0)
        s->eof = true;
    if (n < (ssize_t)sizeof d->hdr || d->hdr.magic != TS_CTL_MAGIC) {
        free(d);
        return;
    }
    size_t len = (size_t)n - sizeof d->hdr;
    h->last_dest_len = d->hdr.addrlen;
    if (d->hdr.addrlen == 0) {      /* to the connected peer: back from it */
        d->hdr.addrlen = s->peerlen;
        memcpy(d->hdr.addr, &s->peer, s->peerlen);
    }
    if (len == 3 && memcmp(d->data, "err", 3) == 0) {
        d->hdr.err = ECONNREFUSED;
        d->hdr.addrlen = 0;
        len = 0;
    }
    send(s->end, d, sizeof d->hdr + len, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(d);
}

/* The poll set: stop pipe, listener, connections, then pair ends. */
static int ph_poll_set(struct ph_host *h, struct pollfd *p, int *who)
{
    int n = 0;
    p[n++] = (struct pollfd){ .fd = h->stop[0], .events = POLLIN };
    p[n++] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
    for (int i = 0; i < PH_MAX_CONNS; i++)
        if (h->conns[i] >= 0) {
            who[n] = i;
            p[n++] = (struct pollfd){ .fd = h->conns[i], .events = POLLIN };
        }
    for (int i = 0; i < PH_MAX_SOCKS; i++) {
        struct ph_sock *s = &h->socks[i];
        if (s->used && !s->eof && s->kind != TS_KIND_LISTEN) {
            who[n] = PH_MAX_CONNS + i;
            p[n++] = (struct pollfd){ .fd = s->end, .events = POLLIN };
        }
    }
    return n;
}

static void ph_accept(struct ph_host *h)
{
    int c = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    for (int i = 0; i < PH_MAX_CONNS; i++)
        if (h->conns[i] < 0) {
            h->conns[i] = c;
            h->nconn++;
            return;
        }
    close(c);
}

static void *ph_main(void *arg)
{
    struct ph_host *h = arg;
    struct pollfd p[2 + PH_MAX_CONNS + PH_MAX_SOCKS];
    int who[2 + PH_MAX_CONNS + PH_MAX_SOCKS];
    for (;;) {
        pthread_mutex_lock(&h->lock);
        int n = ph_poll_set(h, p, who);
        pthread_mutex_unlock(&h->lock);
        if (poll(p, (nfds_t)n, 1000) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        pthread_mutex_lock(&h->lock);
        if (p[1].revents & POLLIN)
            ph_accept(h);
        for (int i = 2; i < n; i++) {
            if (!p[i].revents)
                continue;
            if (who[i] < PH_MAX_CONNS) {
                if (!ph_on_conn(h, who[i])) {
                    close(h->conns[who[i]]);
                    h->conns[who[i]] = -1;
                }
                continue;
            }
            struct ph_sock *s = &h->socks[who[i] - PH_MAX_CONNS];
            if (s->kind == TS_KIND_UDP)
                ph_on_udp(h, s);
            else
                ph_on_tcp(s);
        }
        pthread_mutex_unlock(&h->lock);
    }
    return NULL;
}

int ph_start(struct ph_host *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "@tsp-unit-%d-%d", (int)getpid(),
             ++ph_counter);
    for (int i = 0; i < PH_MAX_CONNS; i++)
        h->conns[i] = -1;
    struct sockaddr_un sa;
    socklen_t len;
    h->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (h->lfd < 0 || tsp_ctl_sockaddr(h->name, &sa, &len) != 0 ||
        bind(h->lfd, (struct sockaddr *)&sa, len) != 0 ||
        listen(h->lfd, 16) != 0 || pipe2(h->stop, O_CLOEXEC) != 0)
        return -1;
    pthread_mutex_init(&h->lock, NULL);
    return pthread_create(&h->thr, NULL, ph_main, h) == 0 ? 0 : -1;
}

void ph_stop(struct ph_host *h)
{
    if (write(h->stop[1], "x", 1) == 1)
        pthread_join(h->thr, NULL);
    close(h->stop[0]);
    close(h->stop[1]);
    close(h->lfd);
    for (int i = 0; i < PH_MAX_CONNS; i++)
        if (h->conns[i] >= 0)
            close(h->conns[i]);
    for (int i = 0; i < PH_MAX_SOCKS; i++)
        if (h->socks[i].used)
            ph_free_sock(&h->socks[i]);
    pthread_mutex_destroy(&h->lock);
}

int ph_make(struct ph_host *h, int kind, int family)
{
    pthread_mutex_lock(&h->lock);
    int fd = ph_new_sock(h, kind, family);
    pthread_mutex_unlock(&h->lock);
    return fd;
}

int ph_ops(struct ph_host *h, int op)
{
    pthread_mutex_lock(&h->lock);
    int n = h->nops[op];
    pthread_mutex_unlock(&h->lock);
    return n;
}

int ph_conns(struct ph_host *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->nconn;
    pthread_mutex_unlock(&h->lock);
    return n;
}
