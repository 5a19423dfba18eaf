/* socket_api/ts_preload_ops.c - the control calls of libtapstack-preload.so:
 * on a stack socket, bind, listen, connect, getsockname, getpeername,
 * setsockopt, getsockopt, shutdown and accept become requests to the host;
 * on anything else they are the kernel's.
 *
 * The host answers every request at once, so the only waits here are the
 * kernel's own: a blocking connect polls its descriptor for POLLOUT (the
 * host keeps the pair unwritable until the handshake ends), and accept
 * receives the next connection record from the listener's pair, blocking
 * or not as the descriptor is.
 *
 * Dual stack (tsp_v6_take): a kernel AF_INET6 socket used for IPv4 (bound
 * to :: with IPV6_V6ONLY off, or connected/sent to ::ffff:a.b.c.d) is
 * swapped for a stack socket of family AF_INET6 under the same number
 * just before that call, so python3 -m http.server (which binds :: on a
 * dual-stack socket) serves on tapstack.
 *
 * Entry points (interposed): bind, listen, connect, getsockname,
 * getpeername, setsockopt, getsockopt, shutdown, accept, accept4.
 * Internal: tsp_v6_take.
 */
#undef _FORTIFY_SOURCE
#include "socket_api/ts_preload_int.h"

#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/time.h>

/* Requests naming an address: bind, connect. 1/0/-1 as tsp_call. */
static int tsp_addr_call(int fd, enum ts_ctl_op op, const struct sockaddr *sa,
                         socklen_t len, struct ts_ctl_rep *rep)
{
    if (!sa && len > 0)
        return tsp_fail(EFAULT);
    struct ts_ctl_req req;
    tsp_ctl_req_init(&req, op);
    /* The kernel ignores bytes past a sockaddr_in6 too. */
    req.addrlen = len < TS_CTL_ADDR_MAX ? len : TS_CTL_ADDR_MAX;
    if (req.addrlen)
        memcpy(req.addr, sa, req.addrlen);
    return tsp_call(fd, &req, rep);
}

static int tsp_rc(const struct ts_ctl_rep *rep)
{
    return rep->rc < 0 ? tsp_fail(rep->rc) : 0;
}

TSP_EXPORT int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr *sa = addr.__sockaddr__;
    struct ts_ctl_rep rep;
    if (tsp_fd_kind(fd) == TS_KIND_NONE &&
        !tsp_v6_take(fd, sa, len, TSP_V6_BIND))
        return tsp_real()->bind(fd, addr, len);
    int r = tsp_addr_call(fd, TS_OP_BIND, sa, len, &rep);
    if (r == 0)
        return tsp_real()->bind(fd, addr, len);
    return r < 0 ? -1 : tsp_rc(&rep);
}

TSP_EXPORT int listen(int fd, int backlog)
{
    struct tsp_fd_info info;
    if (!tsp_fd_get(fd, &info))
        return tsp_real()->listen(fd, backlog);
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_LISTEN);
    req.arg[0] = backlog;
    int r = tsp_call(fd, &req, &rep);
    if (r == 0)
        return tsp_real()->listen(fd, backlog);
    if (r < 0 || rep.rc < 0)
        return r < 0 ? -1 : tsp_rc(&rep);
    tsp_fd_update(fd, info.ino, TS_KIND_LISTEN, 0);
    return 0;
}

/* getsockopt through the host, value copied out by the kernel's rules
 * (at most *len bytes, *len set to what was copied). */
static int tsp_host_getopt(int fd, int level, int name, void *val,
                           socklen_t *len)
{
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_GETOPT);
    req.arg[0] = level;
    req.arg[1] = name;
    req.arg[2] = *len > INT_MAX ? INT_MAX : (int)*len;
    int r = tsp_call(fd, &req, &rep);
    if (r == 0)
        return tsp_real()->getsockopt(fd, level, name, val, len);
    if (r < 0 || rep.rc < 0)
        return r < 0 ? -1 : tsp_rc(&rep);
    socklen_t n = *len < rep.optlen ? *len : rep.optlen;
    memcpy(val, rep.opt, n);
    *len = n;
    return 0;
}

/* The rest of a blocking connect the host reported in progress: wait for
 * the pair to become writable (the handshake ended either way) within the
 * descriptor's own SO_SNDTIMEO, as the kernel's connect does, then ask
 * for the outcome. */
static int tsp_connect_wait(int fd)
{
    const struct tsp_real *R = tsp_real();
    int fl = R->fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK))
        return tsp_fail(EINPROGRESS);
    struct timeval tv = { 0, 0 };
    socklen_t tl = sizeof tv;
    int ms = -1;
    if (R->getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl) == 0 &&
        (tv.tv_sec || tv.tv_usec))
        ms = tv.tv_sec >= INT_MAX / 1000 ? INT_MAX
             : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int n = poll(&p, 1, ms);
    if (n < 0)
        return -1;          /* EINTR: a later connect says EALREADY */
    if (n == 0)
        return tsp_fail(EINPROGRESS);
    int err = 0;
    socklen_t el = sizeof err;
    if (tsp_host_getopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        return -1;
    return err ? tsp_fail(err) : 0;
}

TSP_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr *sa = addr.__sockaddr__;
    struct ts_ctl_rep rep;
    if (tsp_fd_kind(fd) == TS_KIND_NONE &&
        !tsp_v6_take(fd, sa, len, TSP_V6_CONNECT))
        return tsp_real()->connect(fd, addr, len);
    int r = tsp_addr_call(fd, TS_OP_CONNECT, sa, len, &rep);
    if (r == 0)
        return tsp_real()->connect(fd, addr, len);
    if (r < 0)
        return -1;
    /* A blocking connect waits for the handshake, also when an earlier
     * one started it (and was interrupted by a signal), as Linux's does. */
    bool blocking = !(tsp_real()->fcntl(fd, F_GETFL) & O_NONBLOCK);
    struct tsp_fd_info info;
    if (tsp_fd_get(fd, &info) && info.kind == TS_KIND_UDP && rep.rc == 0) {
        info.udp_peer = sa && len >= sizeof(sa_family_t) &&
                        sa->sa_family != AF_UNSPEC;
        tsp_fd_set(fd, &info);      /* send() with no address needs one */
    }
    if (tsp_fd_kind(fd) != TS_KIND_UDP &&
        (rep.rc == -EINPROGRESS || (rep.rc == -EALREADY && blocking)))
        return tsp_connect_wait(fd);
    return tsp_rc(&rep);
}

static int tsp_getname(int fd, int peer, struct sockaddr *sa, socklen_t *len)
{
    const struct tsp_real *R = tsp_real();
    if (tsp_fd_kind(fd) == TS_KIND_NONE)
        return peer ? R->getpeername(fd, sa, len) : R->getsockname(fd, sa, len);
    if (!sa || !len)
        return tsp_fail(EFAULT);
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_GETNAME);
    req.arg[0] = peer;
    int r = tsp_call(fd, &req, &rep);
    if (r == 0)
        return peer ? R->getpeername(fd, sa, len) : R->getsockname(fd, sa, len);
    if (r < 0 || rep.rc < 0)
        return r < 0 ? -1 : tsp_rc(&rep);
    tsp_copy_addr(rep.addr, rep.addrlen, sa, len);
    return 0;
}

TSP_EXPORT int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    return tsp_getname(fd, 0, addr.__sockaddr__, len);
}

TSP_EXPORT int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    return tsp_getname(fd, 1, addr.__sockaddr__, len);
}

/* The receive and send time-outs bound the kernel's waits on the pair. */
static bool tsp_is_timeo(int level, int name)
{
    if (level != SOL_SOCKET)
        return false;
#ifdef SO_RCVTIMEO_NEW
    if (name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW)
        return true;
#endif
    return name == SO_RCVTIMEO || name == SO_SNDTIMEO;
}

TSP_EXPORT int setsockopt(int fd, int level, int name, const void *val,
                          socklen_t len)
{
    const struct tsp_real *R = tsp_real();
    if (tsp_fd_kind(fd) == TS_KIND_NONE)
        return R->setsockopt(fd, level, name, val, len);
    if (len > TS_CTL_OPT_MAX)
        return tsp_fail(ENOPROTOOPT);   /* no option tapstack has is this big */
    if (!val && len > 0)
        return tsp_fail(EFAULT);
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_SETOPT);
    req.arg[0] = level;
    req.arg[1] = name;
    req.optlen = len;
    if (len)
        memcpy(req.opt, val, len);
    int r = tsp_call(fd, &req, &rep);
    if (r == 0)
        return R->setsockopt(fd, level, name, val, len);
    if (r < 0 || rep.rc < 0)
        return r < 0 ? -1 : tsp_rc(&rep);
    if (tsp_is_timeo(level, name))
        R->setsockopt(fd, level, name, val, len);
    return 0;
}

/* The options the table answers itself: what the socket is. The pair
 * would say AF_UNIX and SOCK_SEQPACKET. */
static bool tsp_local_opt(const struct tsp_fd_info *info, int level,
                          int name, int *v)
{
    if (level != SOL_SOCKET)
        return false;
    switch (name) {
    case SO_TYPE:
        *v = info->kind == TS_KIND_UDP ? SOCK_DGRAM : SOCK_STREAM;
        return true;
    case SO_DOMAIN:
        *v = info->v6 ? AF_INET6 : AF_INET;
        return true;
    case SO_PROTOCOL:
        *v = info->kind == TS_KIND_UDP ? IPPROTO_UDP : IPPROTO_TCP;
        return true;
    case SO_ACCEPTCONN:
        *v = 1;
        return info->kind == TS_KIND_LISTEN;  /* TCP: only the host knows */
    }
    return false;
}

TSP_EXPORT int getsockopt(int fd, int level, int name, void *val,
                          socklen_t *len)
{
    const struct tsp_real *R = tsp_real();
    struct tsp_fd_info info;
    if (!tsp_fd_get(fd, &info) || tsp_is_timeo(level, name))
        return R->getsockopt(fd, level, name, val, len);
    if (!len || (!val && *len > 0))
        return tsp_fail(EFAULT);
    int v;
    if (tsp_local_opt(&info, level, name, &v)) {
        socklen_t n = *len < sizeof v ? *len : (socklen_t)sizeof v;
        memcpy(val, &v, n);
        *len = n;
        return 0;
    }
    return tsp_host_getopt(fd, level, name, val, len);
}

TSP_EXPORT int shutdown(int fd, int how)
{
    const struct tsp_real *R = tsp_real();
    struct tsp_fd_info info;
    if (!tsp_fd_get(fd, &info))
        return R->shutdown(fd, how);
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_SHUTDOWN);
    req.arg[0] = how;
    int r = tsp_call(fd, &req, &rep);
    if (r == 0)
        return R->shutdown(fd, how);
    if (r < 0 || rep.rc < 0)
        return r < 0 ? -1 : tsp_rc(&rep);
    if (info.kind != TS_KIND_UDP) {
        /* Our end shut the same way: the FIN the host sends follows the
         * bytes already in the pair, and a listener's blocked accept
         * wakes up. */
        R->shutdown(fd, how);
        if (how != SHUT_RD)
            tsp_fd_update(fd, info.ino, TS_KIND_NONE, TSP_FD_SHUT_WR);
    }
    return 0;
}

/* Receive one connection record from a listener's pair: the record and
 * its descriptor. The kernel decides blocking, EINTR, EAGAIN and
 * SO_RCVTIMEO, as it would for accept. */
static int tsp_accept_recv(int fd, int flags, struct ts_accept_rec *rec)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { rec, sizeof *rec };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t r = tsp_real()->recvmsg(fd, &m, (flags & SOCK_CLOEXEC) ?
                                    MSG_CMSG_CLOEXEC : 0);
    if (r < 0)
        return -1;
    int nfd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int x;
            memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof x);
            if (nfd < 0)
                nfd = x;
            else
                tsp_real()->close(x);
        }
    }
    int err = 0;
    if (r == 0)
        err = EINVAL;       /* the listener was shut down */
    else if (r != (ssize_t)sizeof *rec || rec->magic != TS_CTL_MAGIC ||
             rec->addrlen > TS_CTL_ADDR_MAX)
        err = EPROTO;
    else if (nfd < 0)
        err = (m.msg_flags & MSG_CTRUNC) ? EMFILE : EPROTO;
    if (err) {
        if (nfd >= 0)
            tsp_real()->close(nfd);
        return tsp_fail(err);
    }
    return nfd;
}

/* A TCP entry may be listening without the table knowing (listen() ran in
 * another process sharing the socket): ask the host. 1 listening, -1
 * error, -2 not ours after all. */
static int tsp_is_listening(int fd, const struct tsp_fd_info *info)
{
    if (info->kind == TS_KIND_LISTEN)
        return 1;
    if (info->kind != TS_KIND_TCP)
        return tsp_fail(EOPNOTSUPP);
    int v = 0;
    socklen_t len = sizeof v;
    int r = tsp_host_getopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
    if (tsp_fd_kind(fd) == TS_KIND_NONE)
        return -2;          /* the host did not know it: stale entry */
    if (r != 0)
        return -1;
    if (!v)
        return tsp_fail(EINVAL);
    tsp_fd_update(fd, info->ino, TS_KIND_LISTEN, 0);
    return 1;
}

static int tsp_accept(int fd, struct sockaddr *sa, socklen_t *len,
                      int flags)
{
    struct tsp_fd_info info;
    if (tsp_io_kind(fd) == TS_KIND_NONE || !tsp_fd_get(fd, &info))
        return -2;      /* the kernel's */
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return tsp_fail(EINVAL);
    if (sa && !len)
        return tsp_fail(EFAULT);    /* before a connection is taken */
    int r = tsp_is_listening(fd, &info);
    if (r < 0)
        return r;
    struct ts_accept_rec rec;
    int nfd = tsp_accept_recv(fd, flags, &rec);
    if (nfd < 0)
        return -1;
    const struct tsp_real *R = tsp_real();
    int fl = R->fcntl(nfd, F_GETFL);
    int want = (flags & SOCK_NONBLOCK) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    struct stat st;
    if (fl < 0 || (want != fl && R->fcntl(nfd, F_SETFL, want) != 0) ||
        fstat(nfd, &st) != 0 || nfd >= TSP_FD_LIMIT) {
        R->close(nfd);
        return tsp_fail(nfd >= TSP_FD_LIMIT ? EMFILE : EPROTO);
    }
    struct tsp_fd_info ninfo = { .kind = TS_KIND_TCP, .v6 = info.v6,
                                 .ino = (uint64_t)st.st_ino };
    tsp_fd_set(nfd, &ninfo);
    if (sa)
        tsp_copy_addr(rec.addr, rec.addrlen, sa, len);
    return nfd;
}

TSP_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    int r = tsp_accept(fd, addr.__sockaddr__, len, 0);
    if (r != -2)
        return r;
    r = tsp_real()->accept(fd, addr, len);
    if (r >= 0)
        tsp_fd_clear(r);
    return r;
}

TSP_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
    int r = tsp_accept(fd, addr.__sockaddr__, len, flags);
    if (r != -2)
        return r;
    r = tsp_real()->accept4(fd, addr, len, flags);
    if (r >= 0)
        tsp_fd_clear(r);
    return r;
}
