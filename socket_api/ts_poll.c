/* socket_api/ts_poll.c - waiting (ts_wait and the time-outs of blocking
 * calls), poll(2) over a stack's sockets, names and fcntl. */
#include "socket_api/ts_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/clock.h"

uint64_t ts_deadline(uint32_t timeo_ms)
{
    return timeo_ms ? ts_clock_ms() + timeo_ms : TS_NEVER;
}

int ts_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock,
                       uint64_t deadline)
{
    if (deadline == TS_NEVER)
        return pthread_cond_wait(cond, lock) ? -ETIMEDOUT : 0;
    uint64_t now = ts_clock_ms();
    if (now >= deadline)
        return -ETIMEDOUT;
    /* The condition variables run on CLOCK_MONOTONIC (ts_stack.c). */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (deadline - now) * 1000000u;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return pthread_cond_timedwait(cond, lock, &ts) ? -ETIMEDOUT : 0;
}

/* Before sleeping, take in what waits on lo: the event this caller waits
 * for may be in it (a reply from a socket of this same stack). Having done
 * work counts as a wake-up, so the caller looks at its condition again. */
int ts_wait(struct ts_sock *s, uint64_t deadline)
{
    if (ts_lo_run(s->st)) {
        if (deadline != TS_NEVER && ts_clock_ms() >= deadline)
            return -ETIMEDOUT;
        return 0;
    }
    return ts_cond_wait_until(s->cond, &s->st->lock, deadline);
}

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
