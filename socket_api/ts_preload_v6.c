/* socket_api/ts_preload_v6.c - dual-stack AF_INET6 sockets onto tapstack.
 *
 * tapstack speaks IPv4, but many programs open AF_INET6 sockets and reach
 * IPv4 through them: a server binds :: with IPV6_V6ONLY off (python3 -m
 * http.server does), a client connects to ::ffff:a.b.c.d. Such a socket is
 * created by the kernel (socket() cannot know how it will be used), so
 * just before the first call that shows it is for IPv4 the library swaps
 * it: a stack socket of family AF_INET6 from the host, the options that
 * matter copied over, then dup3 onto the program's number (atomic: no
 * other thread ever sees the number closed). The host speaks v4-mapped
 * sockaddr_in6 on such sockets both ways.
 *
 * Everything else IPv6 (bound to ::1, IPV6_V6ONLY on, already bound or
 * connected by the kernel) stays the kernel's.
 *
 * Entry points: tsp_v6_take.
 */
#undef _FORTIFY_SOURCE
#include "socket_api/ts_preload_int.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/time.h>

static int tsp_v6_getint(int fd, int level, int name, int *v)
{
    socklen_t len = sizeof *v;
    *v = 0;
    return tsp_real()->getsockopt(fd, level, name, v, &len);
}

/* An address that means IPv4: v4-mapped, or (bind only) the wildcard. */
static bool tsp_v6_addr_is_v4(const struct sockaddr *sa, socklen_t len,
                              bool any_too)
{
    /* 24: a sockaddr_in6 without sin6_scope_id (RFC 2133) is accepted. */
    if (!sa || len < 24 || sa->sa_family != AF_INET6)
        return false;
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    memcpy(&s6, sa, len < sizeof s6 ? len : sizeof s6);
    return IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr) ||
           (any_too && IN6_IS_ADDR_UNSPECIFIED(&s6.sin6_addr));
}

/* A kernel AF_INET6 TCP or UDP socket that still may carry IPv4, not yet
 * bound for a connect or sendto. *type gets its type. */
static bool tsp_v6_candidate(int fd, enum tsp_v6_use use, int *type)
{
    int dom, proto, v6only;
    if (tsp_v6_getint(fd, SOL_SOCKET, SO_DOMAIN, &dom) != 0 ||
        dom != AF_INET6 ||
        tsp_v6_getint(fd, SOL_SOCKET, SO_TYPE, type) != 0 ||
        tsp_v6_getint(fd, SOL_SOCKET, SO_PROTOCOL, &proto) != 0 ||
        tsp_v6_getint(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only) != 0 ||
        v6only)
        return false;
    if (!((*type == SOCK_STREAM && proto == IPPROTO_TCP) ||
          (*type == SOCK_DGRAM && proto == IPPROTO_UDP)))
        return false;
    if (use == TSP_V6_BIND)
        return true;
    /* A bound socket (an IPv6 address, or a port) is the kernel's for
     * good: moving it would lose the binding. */
    struct sockaddr_in6 s6;
    socklen_t len = sizeof s6;
    if (tsp_real()->getsockname(fd, (struct sockaddr *)&s6, &len) != 0)
        return false;
    return s6.sin6_port == 0 && IN6_IS_ADDR_UNSPECIFIED(&s6.sin6_addr);
}

/* The kernel socket's options the program set before this call, on the
 * stack socket: the ones servers and clients set before bind/connect.
 * Failures are ignored: an option the stack lacks was a hint. */
static void tsp_v6_copy_opts(int from, int to, int type)
{
    static const int opts[][2] = {
        { SOL_SOCKET, SO_REUSEADDR },
        { SOL_SOCKET, SO_KEEPALIVE },
        { IPPROTO_TCP, TCP_NODELAY },
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        int v;
        if ((opts[i][0] == IPPROTO_TCP && type != SOCK_STREAM) ||
            tsp_v6_getint(from, opts[i][0], opts[i][1], &v) != 0 || !v)
            continue;
        struct ts_ctl_req req;
        struct ts_ctl_rep rep;
        tsp_ctl_req_init(&req, TS_OP_SETOPT);
        req.arg[0] = opts[i][0];
        req.arg[1] = opts[i][1];
        req.optlen = sizeof v;
        memcpy(req.opt, &v, sizeof v);
        tsp_call(to, &req, &rep);
    }
    /* Time-outs live on the descriptor itself (the kernel's waits). */
    const int timeos[] = { SO_RCVTIMEO, SO_SNDTIMEO };
    for (size_t i = 0; i < 2; i++) {
        struct timeval tv;
        socklen_t len = sizeof tv;
        if (tsp_real()->getsockopt(from, SOL_SOCKET, timeos[i], &tv, &len) == 0
            && (tv.tv_sec || tv.tv_usec))
            tsp_real()->setsockopt(to, SOL_SOCKET, timeos[i], &tv, len);
    }
}

static bool tsp_v6_convert(int fd, int type)
{
    const struct tsp_real *R = tsp_real();
    int fl = R->fcntl(fd, F_GETFL), fdfl = R->fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0)
        return false;
    struct tsp_fd_info info;
    int flags = SOCK_CLOEXEC | ((fl & O_NONBLOCK) ? SOCK_NONBLOCK : 0);
    int nfd = tsp_host_socket(AF_INET6, type, 0, flags, &info);
    if (nfd < 0)
        return false;   /* no host: the kernel keeps it (one line said so) */
    tsp_v6_copy_opts(fd, nfd, type);
    if (R->dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
        R->close(nfd);
        return false;
    }
    R->close(nfd);
    tsp_fd_set(fd, &info);
    return true;
}

bool tsp_v6_take(int fd, const struct sockaddr *sa, socklen_t len,
                 enum tsp_v6_use use)
{
    int type;
    if (!tsp_v6_addr_is_v4(sa, len, use == TSP_V6_BIND) || !tsp_active() ||
        !tsp_v6_candidate(fd, use, &type))
        return false;
    if (use == TSP_V6_SENDTO && type != SOCK_DGRAM)
        return false;
    int saved = errno;
    bool ok = tsp_v6_convert(fd, type);
    errno = saved;
    return ok;
}
