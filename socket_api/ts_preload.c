/* socket_api/ts_preload.c - libtapstack-preload.so: start-up, socket(), and
 * the descriptor-table side of close, dup, fcntl and ioctl.
 *
 * The library makes a program's AF_INET TCP and UDP sockets tapstack's:
 * socket() asks the host (over the control connection, ts_preload_ctl.c)
 * for a new socket and gets back a real kernel descriptor, one end of a
 * UNIX socketpair the host serves. From then on the kernel's own rules
 * apply to that descriptor (read, write, poll, epoll, fork, exec,
 * O_NONBLOCK); the library only follows it through the table
 * (ts_preload_fd.c) so the control calls (ts_preload_ops.c) and the few
 * data-path differences (ts_preload_io.c) find it.
 *
 * With $TAPSTACK_CTL unset the library is inert: the table stays empty and
 * every call passes straight to the C library.
 *
 * At start-up (the constructor, after exec too) the library asks the host
 * which of the inherited descriptors are its sockets (TS_OP_IDENTIFY), so
 * a program started by a tapstack program (a shell running curl, inetd
 * style servers) carries on with them.
 *
 * Entry points (interposed): socket, close, dup, dup2, dup3, fcntl,
 * fcntl64, ioctl. Internal: tsp_active, tsp_same_process, tsp_fail,
 * tsp_call, tsp_host_socket, tsp_copy_addr.
 */
#undef _FORTIFY_SOURCE
#include "socket_api/ts_preload_int.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>

static atomic_bool tsp_on;
static atomic_int tsp_pid;
static pthread_once_t tsp_once = PTHREAD_ONCE_INIT;

static void tsp_atfork_child(void)
{
    atomic_store(&tsp_pid, (int)getpid());
}

/* TS_OP_IDENTIFY for one batch of inherited candidates. */
static int tsp_identify(const int *fds, const uint64_t *inos, int n,
                        void *arg)
{
    (void)arg;
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_IDENTIFY);
    if (tsp_ctl_request(&req, fds, n, &rep, NULL, TSP_CTL_QUIET) != 0 ||
        rep.rc < 0)
        return -1;      /* no host: these stay the kernel's, silently */
    for (int i = 0; i < n && i < (int)rep.optlen; i++) {
        struct tsp_fd_info info = {
            .kind = (enum ts_ctl_kind)(rep.opt[i] & ~(TS_KIND_V6 | TS_KIND_PEER)),
            .v6 = (rep.opt[i] & TS_KIND_V6) != 0,
            .udp_peer = (rep.opt[i] & TS_KIND_PEER) != 0,
            .ino = inos[i],
        };
        if (info.kind == TS_KIND_TCP || info.kind == TS_KIND_LISTEN ||
            info.kind == TS_KIND_UDP)
            tsp_fd_set(fds[i], &info);
    }
    return 0;
}

static void tsp_setup(void)
{
    const char *name = getenv(TS_CTL_ENV);
    if (!name || !*name)
        return;
    tsp_ctl_init(name);
    atomic_store(&tsp_pid, (int)getpid());
    pthread_atfork(NULL, NULL, tsp_atfork_child);
    atomic_store(&tsp_on, true);
    tsp_fd_scan(tsp_identify, NULL);
}

bool tsp_active(void)
{
    pthread_once(&tsp_once, tsp_setup);
    return atomic_load_explicit(&tsp_on, memory_order_relaxed);
}

__attribute__((constructor)) static void tsp_constructor(void)
{
    (void)tsp_active();
}

bool tsp_same_process(void)
{
    return (int)getpid() == atomic_load_explicit(&tsp_pid,
                                                 memory_order_relaxed);
}

int tsp_fail(int err)
{
    errno = err < 0 ? -err : err;
    return -1;
}

int tsp_call(int fd, struct ts_ctl_req *req, struct ts_ctl_rep *rep)
{
    int e = tsp_ctl_request(req, &fd, 1, rep, NULL, 0);
    if (e == -EBADF)
        tsp_fd_clear(fd);
    if (e)
        return tsp_fail(e);
    if (rep->rc == TS_CTL_NOT_OURS) {
        tsp_fd_clear(fd);
        return 0;
    }
    return 1;
}

void tsp_copy_addr(const void *src, uint32_t srclen, struct sockaddr *dst,
                   socklen_t *len)
{
    if (srclen > TS_CTL_ADDR_MAX)
        srclen = TS_CTL_ADDR_MAX;
    if (dst && len) {
        memcpy(dst, src, *len < srclen ? *len : srclen);
        *len = srclen;
    }
}

/* O_NONBLOCK exactly as asked: a descriptor that crossed a UNIX socket
 * keeps whatever flags its open file had on the other side. */
static int tsp_set_nonblock(int fd, bool on)
{
    const struct tsp_real *R = tsp_real();
    int fl = R->fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    int want = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return want == fl ? 0 : R->fcntl(fd, F_SETFL, want);
}

int tsp_host_socket(int family, int type, int proto, int flags,
                    struct tsp_fd_info *info)
{
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_SOCKET);
    req.arg[0] = family;
    req.arg[1] = type;
    req.arg[2] = proto;
    int fd = -1;
    int e = tsp_ctl_request(&req, NULL, 0, &rep, &fd,
                            (flags & SOCK_CLOEXEC) ? TSP_CTL_CLOEXEC : 0);
    if (e)
        return tsp_fail(e);
    if (rep.rc < 0 || fd < 0) {
        if (fd >= 0)
            tsp_real()->close(fd);
        return tsp_fail(rep.rc < 0 ? rep.rc : -EPROTO);
    }
    struct stat st;
    if (tsp_set_nonblock(fd, (flags & SOCK_NONBLOCK) != 0) != 0 ||
        fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || fd >= TSP_FD_LIMIT) {
        /* Past TSP_FD_LIMIT the table cannot follow it: refuse it as the
         * kernel refuses a descriptor over the limit. */
        e = fd >= TSP_FD_LIMIT ? EMFILE : EPROTO;
        tsp_real()->close(fd);
        return tsp_fail(e);
    }
    *info = (struct tsp_fd_info){
        .kind = type == SOCK_STREAM ? TS_KIND_TCP : TS_KIND_UDP,
        .v6 = family == AF_INET6,
        .ino = (uint64_t)st.st_ino,
    };
    return fd;
}

/* What tapstack serves: AF_INET TCP and UDP. AF_INET6 sockets stay the
 * kernel's until a dual-stack use moves them (tsp_v6_take). */
static bool tsp_is_stack_type(int domain, int base, int proto)
{
    if (domain != AF_INET)
        return false;
    if (base == SOCK_STREAM)
        return proto == 0 || proto == IPPROTO_TCP;
    if (base == SOCK_DGRAM)
        return proto == 0 || proto == IPPROTO_UDP;
    return false;
}

TSP_EXPORT int socket(int domain, int type, int protocol)
{
    const struct tsp_real *R = tsp_real();
    int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (!tsp_active() || !tsp_is_stack_type(domain, base, protocol)) {
        int fd = R->socket(domain, type, protocol);
        if (fd >= 0 && tsp_fd_kind(fd) != TS_KIND_NONE)
            tsp_fd_clear(fd);   /* a stale entry: closed behind our back */
        return fd;
    }
    struct tsp_fd_info info;
    int fd = tsp_host_socket(AF_INET, base, protocol, flags, &info);
    if (fd >= 0)
        tsp_fd_set(fd, &info);
    return fd;
}

/* The table side of close: the entry goes before the number is freed, so
 * a socket another thread opens on the same number is never wiped. */
TSP_EXPORT int close(int fd)
{
    if ((tsp_fd_kind(fd) != TS_KIND_NONE || fd == tsp_ctl_fd()) &&
        tsp_same_process()) {
        tsp_fd_clear(fd);
        tsp_ctl_fd_gone(fd);
    }
    return tsp_real()->close(fd);
}

/* After a successful dup of from onto to (to just replaced whatever it
 * was, our control connection included). */
static void tsp_dup_done(int from, int to)
{
    if (to < 0 || from == to)
        return;
    bool ours = tsp_fd_kind(from) != TS_KIND_NONE ||
                tsp_fd_kind(to) != TS_KIND_NONE;
    if ((ours || to == tsp_ctl_fd()) && tsp_same_process()) {
        tsp_fd_copy(from, to);
        tsp_ctl_fd_gone(to);
    }
}

TSP_EXPORT int dup(int fd)
{
    int r = tsp_real()->dup(fd);
    tsp_dup_done(fd, r);
    return r;
}

TSP_EXPORT int dup2(int from, int to)
{
    int r = tsp_real()->dup2(from, to);
    tsp_dup_done(from, r);
    return r;
}

TSP_EXPORT int dup3(int from, int to, int flags)
{
    int r = tsp_real()->dup3(from, to, flags);
    tsp_dup_done(from, r);
    return r;
}

/* fcntl's third argument is an int or a pointer by command; like the C
 * library itself, take it as a pointer-sized value and pass it on. */
static int tsp_fcntl(__typeof__(fcntl) *real, int fd, int cmd, void *arg)
{
    int r = real(fd, cmd, arg);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        tsp_dup_done(fd, r);
    return r;
}

TSP_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return tsp_fcntl(tsp_real()->fcntl, fd, cmd, arg);
}

TSP_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return tsp_fcntl(tsp_real()->fcntl64, fd, cmd, arg);
}

/* FIONREAD on a UDP socket is the size of the next datagram's payload, as
 * Linux says it: the pair holds it behind a header, so peek at the next
 * message's full length (MSG_TRUNC) instead of asking the pair, which
 * would sum every queued message. */
static int tsp_udp_fionread(int fd, int *out)
{
    struct ts_dgram_hdr hdr;
    ssize_t r = tsp_real()->recv(fd, &hdr, sizeof hdr,
                                 MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (r < 0 && errno != EAGAIN)
        return -1;
    if (!out)
        return tsp_fail(EFAULT);
    *out = r > (ssize_t)sizeof hdr ? (int)(r - (ssize_t)sizeof hdr) : 0;
    return 0;
}

TSP_EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (req == FIONREAD) {
        enum ts_ctl_kind k = tsp_io_kind(fd);
        if (k == TS_KIND_UDP)
            return tsp_udp_fionread(fd, arg);
        if (k == TS_KIND_LISTEN)
            return tsp_fail(EINVAL);    /* as on a listening TCP socket */
    }
    return tsp_real()->ioctl(fd, req, arg);
}
