/* socket_api/ts_socket.c - the BSD-like calls on TCP and UDP sockets.
 *
 * Each call takes the stack's lock, acts through the internal TCP or UDP
 * interface, and where BSD semantics say "block", sleeps on the socket's
 * condition variable until an event, a time-out or a close wakes it.
 */
#include "socket_api/ts_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "core/clock.h"

int ts_fail(int neg)
{
    errno = neg < 0 ? -neg : neg;
    return -1;
}

struct ts_sock *ts_sock_get(struct ts_stack *st, int fd)
{
    if (fd < 0 || (unsigned)fd >= st->nsocks || st->socks[fd].kind == TS_FREE) {
        errno = EBADF;
        return NULL;
    }
    return &st->socks[fd];
}

struct ts_sock *ts_sock_reset(struct ts_stack *st, int fd, int type)
{
    struct ts_sock *s = &st->socks[fd];
    unsigned gen = s->gen;
    memset(s, 0, sizeof *s);
    s->st = st;
    s->gen = gen;
    s->cond = &st->conds[fd];
    s->type = type;
    s->kind = TS_NEW;
    return s;
}

static void ts_wake(struct ts_sock *s)
{
    if (s->notify) {        /* served by the shared host: nobody waits */
        s->notify(s);
        return;
    }
    pthread_cond_broadcast(s->cond);
    pthread_cond_broadcast(&s->st->poll_cond);
}

static void ts_tcp_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    struct ts_sock *s = ctx;
    if ((ev & TCP_EV_ERROR) && s->kind == TS_CONN && !s->so_error)
        s->so_error = -tcp_conn_error(c);
    ts_wake(s);
}

static void ts_udp_event(void *ctx, struct udp_sock *u, unsigned ev)
{
    (void)u;
    (void)ev;
    ts_wake(ctx);
}

/* Run fn under the lock with the socket looked up; the lock is always
 * released, and the stack thread kicked, before returning. */
#define TS_LOCKED(st, fd, s, body)                                          \
    do {                                                                    \
        pthread_mutex_lock(&(st)->lock);                                    \
        struct ts_sock *s = ts_sock_get(st, fd);                            \
        long ts_rc_ = s ? (long)(body) : -1;                                \
        ts_kick(st);                                                        \
        pthread_mutex_unlock(&(st)->lock);                                  \
        return ts_rc_;                                                      \
    } while (0)

/* The lowest free socket slot (as the kernel's lowest free descriptor);
 * -1 if none. The scan starts at free_lo, below which every slot is in
 * use, so holding thousands of sockets does not make each new one walk
 * them. */
static int ts_slot(struct ts_stack *st)
{
    for (unsigned i = st->free_lo; i < st->nsocks; i++) {
        if (st->socks[i].kind == TS_FREE) {
            st->free_lo = i + 1;
            return (int)i;
        }
    }
    st->free_lo = st->nsocks;
    return -1;
}

static void ts_slot_freed(struct ts_stack *st, const struct ts_sock *s)
{
    unsigned i = (unsigned)(s - st->socks);
    if (i < st->free_lo)
        st->free_lo = i;
}

int ts_socket_locked(struct ts_stack *st, int type, int nonblock)
{
    int fd = ts_slot(st);
    if (fd < 0)
        return ts_fail(-EMFILE);
    struct ts_sock *s = ts_sock_reset(st, fd, type);
    s->nonblock = nonblock;
    if (type == SOCK_DGRAM) {
        s->u = udp_open(&st->s.udp, 256 * 1024, ts_udp_event, s);
        if (!s->u) {
            s->kind = TS_FREE;
            ts_slot_freed(st, s);
            return ts_fail(-ENOMEM);
        }
        s->kind = TS_UDP;
    }
    return fd;
}

int ts_socket(struct ts_stack *st, int domain, int type, int protocol)
{
    int nonblock = (type & SOCK_NONBLOCK) != 0;
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_INET)
        return ts_fail(-EAFNOSUPPORT);
    if ((type != SOCK_STREAM && type != SOCK_DGRAM) ||
        (protocol && protocol != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)))
        return ts_fail(-EPROTONOSUPPORT);
    pthread_mutex_lock(&st->lock);
    int fd = ts_socket_locked(st, type, nonblock);
    pthread_mutex_unlock(&st->lock);
    return fd;
}

static int ts_sin(const struct sockaddr *a, socklen_t len, uint32_t *addr,
                  uint16_t *port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)a;
    if (!a || len < (socklen_t)sizeof *sin)
        return -EINVAL;
    if (sin->sin_family != AF_INET)
        return -EAFNOSUPPORT;
    *addr = ntohl(sin->sin_addr.s_addr);
    *port = ntohs(sin->sin_port);
    return 0;
}

void ts_fill_sin(struct sockaddr *a, socklen_t *len, uint32_t addr,
                 uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    sin.sin_port = htons(port);
    if (a && len) {
        socklen_t n = *len < (socklen_t)sizeof sin ? *len : (socklen_t)sizeof sin;
        memcpy(a, &sin, n);
        *len = sizeof sin;
    }
}

/* Is a TCP port taken by another socket of ours, a listener or (unless
 * reuse, SO_REUSEADDR) a connection, TIME-WAIT included? */
static int ts_tcp_port_taken(struct ts_sock *s, uint16_t port, int reuse)
{
    struct ts_stack *st = s->st;
    for (unsigned i = 0; i < st->nsocks; i++) {
        struct ts_sock *o = &st->socks[i];
        if (o != s && o->type == SOCK_STREAM && o->kind != TS_FREE &&
            o->bound && o->bport == port && o->kind != TS_CONN)
            return 1;
    }
    if (reuse)
        return tcp_port_in_use_by_listener(&st->s.tcp, port);
    return tcp_port_in_use(&st->s.tcp, port);
}

/* bind(2) to port 0 takes a free port of the ephemeral range (as
 * tcp_connect does), so that listen() after it works; never one in
 * TIME-WAIT, SO_REUSEADDR or not. */
static int ts_tcp_port_busy_any(void *s, uint16_t port)
{
    return ts_tcp_port_taken(s, port, 0);
}

static int ts_bind_do(struct ts_sock *s, const struct sockaddr *a,
                          socklen_t len)
{
    uint32_t addr;
    uint16_t port;
    int rc = ts_sin(a, len, &addr, &port);
    if (rc < 0)
        return ts_fail(rc);
    /* Any of ours: the TAP's address, or any of 127/8 (Linux's lo). */
    if (addr && !ipv4_is_local(&s->st->s.ip, addr))
        return ts_fail(-EADDRNOTAVAIL);
    if (s->kind == TS_UDP) {
        rc = udp_bind(s->u, addr, port);
        return rc < 0 ? ts_fail(rc) : 0;
    }
    if (s->kind != TS_NEW || s->bound)
        return ts_fail(-EINVAL);
    if (port && ts_tcp_port_taken(s, port, s->reuseaddr))
        return ts_fail(-EADDRINUSE);
    if (!port && !(port = ts_rand_port(&s->st->s.rand, ts_tcp_port_busy_any, s)))
        return ts_fail(-EADDRINUSE);
    s->baddr = addr;
    s->bport = port;
    s->bound = 1;
    return 0;
}

int ts_bind_locked(struct ts_sock *s, const struct sockaddr *a,
                          socklen_t len)
{
    int rc = ts_bind_do(s, a, len);
    if (ts_ev_on(&s->st->s.ev))
        ts_call_event(s, "bind", rc);
    return rc;
}

int ts_bind(struct ts_stack *st, int fd, const struct sockaddr *addr,
            socklen_t len)
{
    TS_LOCKED(st, fd, s, ts_bind_locked(s, addr, len));
}

static int ts_listen_do(struct ts_sock *s, int backlog)
{
    struct ts_stack *st = s->st;
    if (s->kind == TS_LISTEN)
        return 0;
    if (s->kind != TS_NEW)
        return ts_fail(s->type == SOCK_DGRAM ? -EOPNOTSUPP : -EINVAL);
    if (!s->bound || s->bport == 0)
        return ts_fail(-EDESTADDRREQ);
    int err = 0;
    unsigned bl = backlog <= 0 ? 1 : backlog > 4096 ? 4096 : (unsigned)backlog;
    s->l = tcp_listen(&st->s.tcp, s->baddr, s->bport, bl, ts_tcp_event, s, &err);
    if (!s->l)
        return ts_fail(err);
    tcp_listener_set_buffers(s->l, s->sndbuf, s->rcvbuf);
    tcp_listener_set_cc(s->l, s->cc);
    s->kind = TS_LISTEN;
    return 0;
}

int ts_listen_locked(struct ts_sock *s, int backlog)
{
    int rc = ts_listen_do(s, backlog);
    if (ts_ev_on(&s->st->s.ev))
        ts_call_event(s, "listen", rc);
    return rc;
}

int ts_listen(struct ts_stack *st, int fd, int backlog)
{
    TS_LOCKED(st, fd, s, ts_listen_locked(s, backlog));
}

static int ts_accept_do(struct ts_sock *s, struct sockaddr *a,
                            socklen_t *len)
{
    struct ts_stack *st = s->st;
    unsigned gen = s->gen;
    uint64_t deadline = ts_deadline(s->rcvtimeo);
    if (s->kind != TS_LISTEN)
        return ts_fail(-EINVAL);
    for (;;) {
        if (tcp_listener_pending(s->l)) {
            int fd = ts_slot(st);
            if (fd < 0)
                return ts_fail(-EMFILE);
            struct ts_sock *n = ts_sock_reset(st, fd, SOCK_STREAM);
            n->kind = TS_CONN;
            n->bound = 1;
            n->c = tcp_accept(s->l, ts_tcp_event, n);
            n->nodelay = s->nodelay;
            n->keepalive = s->keepalive;
            n->ka_idle = s->ka_idle;
            n->ka_intvl = s->ka_intvl;
            n->ka_cnt = s->ka_cnt;
            n->ttl = s->ttl;
            n->tos = s->tos;
            n->cc = s->cc;
            ts_opts_apply(n);
            uint32_t la, ra;
            uint16_t lp, rp;
            tcp_conn_addrs(n->c, &la, &lp, &ra, &rp);
            n->baddr = la;
            n->bport = lp;
            ts_fill_sin(a, len, ra, rp);
            return fd;
        }
        if (s->nonblock)
            return ts_fail(-EAGAIN);
        if (ts_wait(s, deadline) < 0)
            return ts_fail(-EAGAIN);
        if (s->gen != gen || s->kind != TS_LISTEN)
            return ts_fail(-EBADF);
    }
}

int ts_accept_locked(struct ts_sock *s, struct sockaddr *a,
                            socklen_t *len)
{
    int rc = ts_accept_do(s, a, len);
    if (ts_ev_on(&s->st->s.ev))
        ts_call_event(s, "accept", rc);
    return rc;
}

int ts_accept(struct ts_stack *st, int fd, struct sockaddr *addr,
              socklen_t *len)
{
    TS_LOCKED(st, fd, s, ts_accept_locked(s, addr, len));
}

static int ts_connect_tcp(struct ts_sock *s, uint32_t dst, uint16_t dport)
{
    struct ts_stack *st = s->st;
    if (s->kind == TS_CONN) {
        enum tcp_state state = tcp_conn_state(s->c);
        if (state == TCP_SYN_SENT || state == TCP_SYN_RECEIVED)
            return ts_fail(-EALREADY);
        s->connecting = 0;  /* a non-blocking connect has finished: */
        int err = tcp_conn_error(s->c);     /* refused, or connected */
        return ts_fail(err ? err : -EISCONN);
    }
    if (s->kind != TS_NEW)
        return ts_fail(-EINVAL);
    int err = 0;
    s->c = tcp_connect_from(&st->s.tcp, s->baddr, s->bport, dst, dport,
                            s->sndbuf, s->rcvbuf, ts_tcp_event, s,
                            ts_clock_ms(), &err);
    if (!s->c)
        return ts_fail(err);
    s->kind = TS_CONN;
    s->bound = 1;
    ts_opts_apply(s);
    uint32_t la, ra;
    uint16_t rp;
    tcp_conn_addrs(s->c, &la, &s->bport, &ra, &rp);
    s->connecting = 1;
    return 0;
}

/* Wait for the handshake to finish: 0, or -1 with the reason. */
static int ts_connect_wait(struct ts_sock *s)
{
    unsigned gen = s->gen;
    uint64_t deadline = ts_deadline(s->sndtimeo);
    for (;;) {
        enum tcp_state state = tcp_conn_state(s->c);
        if (state != TCP_SYN_SENT && state != TCP_SYN_RECEIVED) {
            s->connecting = 0;
            int err = tcp_conn_error(s->c);
            if (err) {
                s->so_error = 0;    /* reported here, not again */
                return ts_fail(err);
            }
            return 0;
        }
        if (ts_wait(s, deadline) < 0)
            return ts_fail(-ETIMEDOUT);
        if (s->gen != gen)
            return ts_fail(-EBADF);
    }
}

/* A UDP destination of 0.0.0.0 means this host, as on Linux: the bound
 * address, else 127.0.0.1 (0 is "the connected peer" to udp_sendto and
 * "disconnect" to udp_connect, so it is resolved here). TCP's route does
 * the same inside tcp_connect_from. */
static uint32_t ts_udp_dst(const struct ts_sock *s, uint32_t dst)
{
    uint32_t la;
    uint16_t lp;
    if (dst)
        return dst;
    udp_sock_addr(s->u, &la, &lp);
    return la ? la : IPV4_LOOPBACK_ADDR;
}

static int ts_connect_do(struct ts_sock *s, const struct sockaddr *a,
                             socklen_t len)
{
    uint32_t dst;
    uint16_t port;
    int rc = ts_sin(a, len, &dst, &port);
    if (rc < 0)
        return ts_fail(rc);
    if (s->kind == TS_UDP) {
        rc = udp_connect(s->u, ts_udp_dst(s, dst), port);
        return rc < 0 ? ts_fail(rc) : 0;
    }
    if (ts_connect_tcp(s, dst, port) < 0)
        return -1;
    if (s->nonblock)
        return ts_fail(-EINPROGRESS);
    return ts_connect_wait(s);
}

int ts_connect_locked(struct ts_sock *s, const struct sockaddr *a,
                             socklen_t len)
{
    int rc = ts_connect_do(s, a, len);
    if (ts_ev_on(&s->st->s.ev))
        ts_call_event(s, "connect", rc);
    return rc;
}

int ts_connect(struct ts_stack *st, int fd, const struct sockaddr *addr,
               socklen_t len)
{
    TS_LOCKED(st, fd, s, ts_connect_locked(s, addr, len));
}

/* The errno a failed TCP send reports: the connection's own error (reset,
 * time-out) if it has one, else what tcp_send said. */
static int ts_send_error(struct ts_sock *s, ssize_t n)
{
    int err = tcp_conn_error(s->c);
    return ts_fail(err ? err : (int)n);
}

static ssize_t ts_send_tcp(struct ts_sock *s, const uint8_t *buf, size_t len,
                           int flags)
{
    unsigned gen = s->gen;
    uint64_t deadline = ts_deadline(s->sndtimeo);
    int nonblock = s->nonblock || (flags & MSG_DONTWAIT);
    size_t sent = 0;
    if (s->kind != TS_CONN)
        return ts_fail(-ENOTCONN);
    if (len == 0) {         /* nothing to queue (tcp_send would say EAGAIN):
                               report an error only, never wait */
        ssize_t n = tcp_send(s->c, "", 0, ts_clock_ms());
        return n < 0 && n != -EAGAIN ? ts_send_error(s, n) : 0;
    }
    while (sent < len) {
        ssize_t n = tcp_send(s->c, buf + sent, len - sent, ts_clock_ms());
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n != -EAGAIN)
            return sent ? (ssize_t)sent : ts_send_error(s, n);
        if (nonblock || ts_wait(s, deadline) < 0)
            return sent ? (ssize_t)sent : ts_fail(-EAGAIN);
        if (s->gen != gen)
            return sent ? (ssize_t)sent : ts_fail(-EBADF);
    }
    return (ssize_t)sent;
}

static ssize_t ts_recv_tcp(struct ts_sock *s, uint8_t *buf, size_t len,
                           int flags)
{
    unsigned gen = s->gen;
    uint64_t deadline = ts_deadline(s->rcvtimeo);
    int nonblock = s->nonblock || (flags & MSG_DONTWAIT);
    if (s->kind != TS_CONN)
        return ts_fail(-ENOTCONN);
    for (;;) {
        if (s->shut_rd)     /* checked each time: shutdown wakes waiters */
            return 0;
        ssize_t n = tcp_recv(s->c, buf, len, ts_clock_ms());
        if (n >= 0)
            return n;
        if (n != -EAGAIN) {
            s->so_error = 0;
            return ts_fail((int)n);
        }
        if (nonblock || ts_wait(s, deadline) < 0)
            return ts_fail(-EAGAIN);
        if (s->gen != gen)
            return ts_fail(-EBADF);
    }
}

static ssize_t ts_recv_udp(struct ts_sock *s, void *buf, size_t len, int flags,
                           struct sockaddr *from, socklen_t *fromlen)
{
    unsigned gen = s->gen;
    uint64_t deadline = ts_deadline(s->rcvtimeo);
    int nonblock = s->nonblock || (flags & MSG_DONTWAIT);
    for (;;) {
        uint32_t src;
        uint16_t sport;
        ssize_t n = udp_recvfrom(s->u, buf, len, &src, &sport);
        if (n >= 0) {
            ts_fill_sin(from, fromlen, src, sport);
            return n < (ssize_t)len ? n : (ssize_t)len;
        }
        if (nonblock || ts_wait(s, deadline) < 0)
            return ts_fail(-EAGAIN);
        if (s->gen != gen)
            return ts_fail(-EBADF);
    }
}

ssize_t ts_sendto_locked(struct ts_sock *s, const void *buf, size_t len,
                                int flags, const struct sockaddr *to,
                                socklen_t tolen)
{
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL))
        return ts_fail(-EINVAL);
    if (s->kind != TS_UDP)
        return ts_send_tcp(s, buf, len, flags);
    uint32_t dst = 0;
    uint16_t port = 0;
    if (to) {
        int rc = ts_sin(to, tolen, &dst, &port);
        if (rc < 0)
            return ts_fail(rc);
        dst = ts_udp_dst(s, dst);
    }
    ssize_t n = udp_sendto(s->u, buf, len, dst, port, ts_clock_ms());
    return n < 0 ? ts_fail((int)n) : n;
}

ssize_t ts_send(struct ts_stack *st, int fd, const void *buf, size_t len,
                int flags)
{
    TS_LOCKED(st, fd, s, ts_sendto_locked(s, buf, len, flags, NULL, 0));
}

ssize_t ts_sendto(struct ts_stack *st, int fd, const void *buf, size_t len,
                  int flags, const struct sockaddr *to, socklen_t tolen)
{
    TS_LOCKED(st, fd, s, ts_sendto_locked(s, buf, len, flags, to, tolen));
}

static ssize_t ts_recvfrom_locked(struct ts_sock *s, void *buf, size_t len,
                                  int flags, struct sockaddr *from,
                                  socklen_t *fromlen)
{
    if (flags & ~MSG_DONTWAIT)
        return ts_fail(-EINVAL);
    if (s->kind == TS_UDP)
        return ts_recv_udp(s, buf, len, flags, from, fromlen);
    ssize_t n = ts_recv_tcp(s, buf, len, flags);
    if (n >= 0 && from && s->c) {
        uint32_t la, ra;
        uint16_t lp, rp;
        tcp_conn_addrs(s->c, &la, &lp, &ra, &rp);
        ts_fill_sin(from, fromlen, ra, rp);
    }
    return n;
}

ssize_t ts_recv(struct ts_stack *st, int fd, void *buf, size_t len, int flags)
{
    TS_LOCKED(st, fd, s, ts_recvfrom_locked(s, buf, len, flags, NULL, NULL));
}

ssize_t ts_recvfrom(struct ts_stack *st, int fd, void *buf, size_t len,
                    int flags, struct sockaddr *from, socklen_t *fromlen)
{
    TS_LOCKED(st, fd, s, ts_recvfrom_locked(s, buf, len, flags, from, fromlen));
}

int ts_shutdown_locked(struct ts_sock *s, int how)
{
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return ts_fail(-EINVAL);
    if (s->kind != TS_CONN)
        return ts_fail(-ENOTCONN);
    if (how != SHUT_WR)
        s->shut_rd = 1;
    if (how != SHUT_RD) {
        int rc = tcp_shutdown(s->c, ts_clock_ms());
        if (rc < 0)
            return ts_fail(rc);
    }
    ts_wake(s);             /* blocked recv and ts_poll both look again */
    return 0;
}

int ts_shutdown(struct ts_stack *st, int fd, int how)
{
    TS_LOCKED(st, fd, s, ts_shutdown_locked(s, how));
}

/* SO_LINGER with a time: send FIN and wait (bounded) for its ACK before
 * giving the connection to the stack, as close(2) does. */
static void ts_linger(struct ts_sock *s)
{
    uint64_t deadline = ts_clock_ms() + (uint64_t)s->linger_s * 1000u;
    if (tcp_shutdown(s->c, ts_clock_ms()) < 0)
        return;
    for (;;) {
        enum tcp_state st = tcp_conn_state(s->c);
        if (st == TCP_FIN_WAIT_2 || st == TCP_TIME_WAIT || st == TCP_CLOSED ||
            ts_wait(s, deadline) < 0)
            return;
    }
}

int ts_close_locked(struct ts_sock *s)
{
    uint64_t now = ts_clock_ms();
    if (s->kind == TS_CONN) {
        if (s->linger_on && s->linger_s == 0) {
            tcp_abort(s->c, now);
        } else {
            if (s->linger_on)
                ts_linger(s);
            tcp_close(s->c, now);
        }
    } else if (s->kind == TS_LISTEN) {
        tcp_unlisten(s->l);
    } else if (s->kind == TS_UDP) {
        udp_close(s->u);
    }
    s->kind = TS_FREE;
    ts_slot_freed(s->st, s);
    s->gen++;
    s->c = NULL;
    s->l = NULL;
    s->u = NULL;
    ts_wake(s);
    return 0;
}

int ts_close(struct ts_stack *st, int fd)
{
    TS_LOCKED(st, fd, s, ts_close_locked(s));
}
