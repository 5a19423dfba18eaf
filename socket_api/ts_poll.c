/* socket_api/ts_poll.c - poll(2) over a stack's sockets, socket options,
 * names and fcntl. */
#include "socket_api/ts_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/clock.h"

static short ts_revents_conn(struct ts_sock *s)
{
    short ev = 0;
    enum tcp_state state = tcp_conn_state(s->c);
    if (state == TCP_SYN_SENT || state == TCP_SYN_RECEIVED)
        return 0;
    if (tcp_conn_readable(s->c) || tcp_conn_at_eof(s->c) || s->shut_rd ||
        state == TCP_CLOSED)
        ev |= POLLIN;
    if (tcp_conn_writable(s->c) || state == TCP_CLOSED)
        ev |= POLLOUT;
    if (tcp_conn_error(s->c))
        ev |= POLLERR;
    if (state == TCP_CLOSED || (tcp_conn_at_eof(s->c) &&
                                (state == TCP_TIME_WAIT || state == TCP_LAST_ACK ||
                                 state == TCP_CLOSING)))
        ev |= POLLHUP;
    return ev;
}

short ts_revents(struct ts_sock *s, short want)
{
    short ev = 0;
    switch (s->kind) {
    case TS_CONN:
        ev = ts_revents_conn(s);
        break;
    case TS_LISTEN:
        ev = tcp_listener_pending(s->l) ? POLLIN : 0;
        break;
    case TS_UDP:
        ev = POLLOUT | (udp_next_len(s->u) >= 0 ? POLLIN : 0);
        break;
    case TS_NEW:
        ev = POLLOUT | POLLHUP;     /* like Linux for an unconnected socket */
        break;
    default:
        return POLLNVAL;
    }
    return (short)(ev & (want | POLLERR | POLLHUP));
}

static int ts_poll_scan(struct ts_stack *st, struct pollfd *fds, nfds_t n)
{
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0)
            continue;
        if ((unsigned)fds[i].fd >= st->nsocks ||
            st->socks[fds[i].fd].kind == TS_FREE)
            fds[i].revents = POLLNVAL;
        else
            fds[i].revents = ts_revents(&st->socks[fds[i].fd], fds[i].events);
        count += fds[i].revents != 0;
    }
    return count;
}

/* Every socket event broadcasts poll_cond, so pollers re-scan on any news. */
static int ts_poll_wait(struct ts_stack *st, uint64_t deadline)
{
    return ts_cond_wait_until(&st->poll_cond, &st->lock, deadline);
}

int ts_poll(struct ts_stack *st, struct pollfd *fds, nfds_t nfds, int timeout)
{
    if (nfds && !fds)
        return ts_fail(-EFAULT);
    uint64_t deadline = timeout < 0 ? TS_NEVER : ts_clock_ms() + (uint64_t)timeout;
    pthread_mutex_lock(&st->lock);
    int count;
    while ((count = ts_poll_scan(st, fds, nfds)) == 0 && timeout != 0 &&
           !st->stop && ts_poll_wait(st, deadline) == 0)
        ;
    if (count == 0 && timeout != 0 && deadline != TS_NEVER)
        count = ts_poll_scan(st, fds, nfds);
    pthread_mutex_unlock(&st->lock);
    return count;
}

static int ts_get_int(const void *val, socklen_t len, int *out)
{
    if (!val || len < (socklen_t)sizeof(int))
        return -EINVAL;
    memcpy(out, val, sizeof *out);
    return 0;
}

static int ts_get_timeo(const void *val, socklen_t len, uint32_t *ms)
{
    struct timeval tv;
    if (!val || len < (socklen_t)sizeof tv)
        return -EINVAL;
    memcpy(&tv, val, sizeof tv);
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    uint64_t v = (uint64_t)tv.tv_sec * 1000u + (uint64_t)(tv.tv_usec + 999) / 1000u;
    *ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return 0;
}

static int ts_set_sol_socket(struct ts_sock *s, int name, const void *val,
                             socklen_t len)
{
    int v = 0;
    if (name == SO_RCVTIMEO || name == SO_SNDTIMEO)
        return ts_get_timeo(val, len, name == SO_RCVTIMEO ? &s->rcvtimeo
                                                          : &s->sndtimeo);
    if (name == SO_LINGER) {
        struct linger lg;
        if (!val || len < (socklen_t)sizeof lg)
            return -EINVAL;
        memcpy(&lg, val, sizeof lg);
        s->linger_on = lg.l_onoff != 0;
        s->linger_s = lg.l_linger < 0 ? 0 : lg.l_linger;
        return 0;
    }
    if (ts_get_int(val, len, &v) < 0)
        return -EINVAL;
    switch (name) {
    case SO_REUSEADDR: s->reuseaddr = v != 0; return 0;
    case SO_KEEPALIVE:
        s->keepalive = v != 0;
        if (s->kind == TS_CONN)
            tcp_set_keepalive(s->c, s->keepalive);
        return 0;
    case SO_BROADCAST:
        s->broadcast = v != 0;
        if (s->kind == TS_UDP)
            udp_set_broadcast(s->u, s->broadcast);
        return 0;
    case SO_SNDBUF:
    case SO_RCVBUF:
        if (v < 2048 || v > (64 << 20))
            v = v < 2048 ? 2048 : 64 << 20;     /* clamped, as Linux does */
        *(name == SO_SNDBUF ? &s->sndbuf : &s->rcvbuf) = (uint32_t)v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int ts_setsockopt_locked(struct ts_sock *s, int level, int name,
                                const void *val, socklen_t len)
{
    int rc, v;
    if (level == SOL_SOCKET) {
        rc = ts_set_sol_socket(s, name, val, len);
    } else if (level == IPPROTO_TCP && name == TCP_NODELAY &&
               s->type == SOCK_STREAM) {
        rc = ts_get_int(val, len, &v);
        if (rc == 0) {
            s->nodelay = v != 0;
            if (s->kind == TS_CONN)
                tcp_set_nodelay(s->c, s->nodelay);
        }
    } else {
        rc = -ENOPROTOOPT;
    }
    return rc;
}

int ts_setsockopt(struct ts_stack *st, int fd, int level, int name,
                  const void *val, socklen_t len)
{
    pthread_mutex_lock(&st->lock);
    struct ts_sock *s = ts_sock_get(st, fd);
    int rc = s ? ts_setsockopt_locked(s, level, name, val, len) : -EBADF;
    pthread_mutex_unlock(&st->lock);
    return rc < 0 ? ts_fail(rc) : 0;
}

static int ts_put(void *val, socklen_t *len, const void *v, socklen_t n)
{
    if (!val || !len || *len < n)
        return -EINVAL;
    memcpy(val, v, n);
    *len = n;
    return 0;
}

int ts_getsockopt_locked(struct ts_sock *s, int level, int name,
                                void *val, socklen_t *len)
{
    int v;
    if (level == IPPROTO_TCP && name == TCP_NODELAY)
        v = s->nodelay;
    else if (level != SOL_SOCKET)
        return -ENOPROTOOPT;
    else if (name == SO_ERROR) {
        v = s->so_error;
        s->so_error = 0;
    } else if (name == SO_TYPE)
        v = s->type;
    else if (name == SO_REUSEADDR)
        v = s->reuseaddr;
    else if (name == SO_KEEPALIVE)
        v = s->keepalive;
    else if (name == SO_BROADCAST)
        v = s->broadcast;
    else if (name == SO_SNDBUF || name == SO_RCVBUF) {
        uint32_t b = name == SO_SNDBUF ? s->sndbuf : s->rcvbuf;
        const struct tcp_config *tc = &s->st->s.tcp.cfg;
        v = (int)(b ? b : name == SO_SNDBUF ? tc->sndbuf : tc->rcvbuf);
    } else if (name == SO_LINGER) {
        struct linger lg = { s->linger_on, s->linger_s };
        return ts_put(val, len, &lg, sizeof lg);
    } else if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
        uint32_t ms = name == SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo;
        struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
        return ts_put(val, len, &tv, sizeof tv);
    } else
        return -ENOPROTOOPT;
    return ts_put(val, len, &v, sizeof v);
}

int ts_getsockopt(struct ts_stack *st, int fd, int level, int name, void *val,
                  socklen_t *len)
{
    pthread_mutex_lock(&st->lock);
    struct ts_sock *s = ts_sock_get(st, fd);
    int rc = s ? ts_getsockopt_locked(s, level, name, val, len) : -EBADF;
    pthread_mutex_unlock(&st->lock);
    return rc < 0 ? ts_fail(rc) : 0;
}

int ts_name_locked(struct ts_sock *s, struct sockaddr *a, socklen_t *len,
                          int peer)
{
    uint32_t la = s->baddr, ra = 0;
    uint16_t lp = s->bport, rp = 0;
    if (s->kind == TS_CONN)
        tcp_conn_addrs(s->c, &la, &lp, &ra, &rp);
    else if (s->kind == TS_UDP)
        udp_sock_addr(s->u, &la, &lp);
    if (peer && s->kind != TS_CONN)
        return -ENOTCONN;
    if (!a || !len)
        return -EFAULT;
    if (peer)
        ts_fill_sin(a, len, ra, rp);
    else
        ts_fill_sin(a, len, la, lp);
    return 0;
}

int ts_getsockname(struct ts_stack *st, int fd, struct sockaddr *addr,
                   socklen_t *len)
{
    pthread_mutex_lock(&st->lock);
    struct ts_sock *s = ts_sock_get(st, fd);
    int rc = s ? ts_name_locked(s, addr, len, 0) : -EBADF;
    pthread_mutex_unlock(&st->lock);
    return rc < 0 ? ts_fail(rc) : 0;
}

int ts_getpeername(struct ts_stack *st, int fd, struct sockaddr *addr,
                   socklen_t *len)
{
    pthread_mutex_lock(&st->lock);
    struct ts_sock *s = ts_sock_get(st, fd);
    int rc = s ? ts_name_locked(s, addr, len, 1) : -EBADF;
    pthread_mutex_unlock(&st->lock);
    return rc < 0 ? ts_fail(rc) : 0;
}

int ts_fcntl(struct ts_stack *st, int fd, int cmd, int arg)
{
    pthread_mutex_lock(&st->lock);
    struct ts_sock *s = ts_sock_get(st, fd);
    int rc = s ? 0 : -EBADF;
    if (s && cmd == F_GETFL)
        rc = O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
    else if (s && cmd == F_SETFL)
        s->nonblock = (arg & O_NONBLOCK) != 0;
    else if (s)
        rc = -EINVAL;
    pthread_mutex_unlock(&st->lock);
    return rc < 0 ? ts_fail(rc) : rc;
}
