/* socket_api/ts_preload_ctl.c - the preload library's control connection
 * (see ts_preload_ctl.h for what it promises).
 *
 * State is per process and guarded by one mutex; the descriptor number is
 * also an atomic so the close and dup2 interposers can compare against it
 * on every call without taking the lock. Before each request the
 * connection is checked: same pid as when it was opened (else a fork
 * child holds the parent's copy), not reported gone by an interposer, and
 * the number still names the socket we opened (same device and inode:
 * the program may have closed it by a path we never see, close_range for
 * one, and reused the number).
 *
 * Entry points: tsp_ctl_init, tsp_ctl_req_init, tsp_ctl_request,
 * tsp_ctl_fd_gone, tsp_ctl_fd.
 */
#undef _FORTIFY_SOURCE
#include "socket_api/ts_preload_ctl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "socket_api/ts_preload_real.h"

/* Replies carry at most one descriptor; room for a few more lets the
 * kernel hand over (and us close) what a confused host sends extra. */
#define TSP_CTL_RFDS 4

static pthread_mutex_t tsp_ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static char tsp_ctl_name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
static atomic_int tsp_ctl_cfd = -1;
static atomic_bool tsp_ctl_lost;
static atomic_bool tsp_ctl_warned;
static pid_t tsp_ctl_pid;
static dev_t tsp_ctl_dev;
static ino_t tsp_ctl_ino;
static pthread_once_t tsp_ctl_once = PTHREAD_ONCE_INIT;

static bool tsp_ctl_is_ours(int fd);

/* A fork may happen while another thread holds the lock; the child has
 * only the forking thread, so it starts with a fresh mutex. The
 * connection is the parent's: the child lets go of it at once (so a
 * long-lived child does not hold the parent's connection open) and opens
 * its own on first use. A child made without fork() (clone) is caught by
 * the pid check instead. */
static void tsp_ctl_atfork_child(void)
{
    pthread_mutex_init(&tsp_ctl_lock, NULL);
    int fd = atomic_exchange(&tsp_ctl_cfd, -1);
    if (fd >= 0 && tsp_ctl_is_ours(fd))
        tsp_real()->close(fd);
}

static void tsp_ctl_register_atfork(void)
{
    pthread_atfork(NULL, NULL, tsp_ctl_atfork_child);
}

/* Forget the connection; close it only when it is still ours to close. */
static void tsp_ctl_drop(bool close_it)
{
    int fd = atomic_exchange(&tsp_ctl_cfd, -1);
    if (fd >= 0 && close_it)
        tsp_real()->close(fd);
}

void tsp_ctl_init(const char *name)
{
    pthread_once(&tsp_ctl_once, tsp_ctl_register_atfork);
    pthread_mutex_lock(&tsp_ctl_lock);
    tsp_ctl_drop(getpid() == tsp_ctl_pid);
    atomic_store(&tsp_ctl_lost, false);
    snprintf(tsp_ctl_name, sizeof tsp_ctl_name, "%s", name ? name : "");
    pthread_mutex_unlock(&tsp_ctl_lock);
}

void tsp_ctl_req_init(struct ts_ctl_req *req, enum ts_ctl_op op)
{
    memset(req, 0, sizeof *req);
    req->magic = TS_CTL_MAGIC;
    req->version = TS_CTL_VERSION;
    req->op = (uint16_t)op;
}

void tsp_ctl_fd_gone(int fd)
{
    if (fd >= 0 && fd == atomic_load_explicit(&tsp_ctl_cfd,
                                              memory_order_relaxed))
        atomic_store(&tsp_ctl_lost, true);
}

int tsp_ctl_fd(void)
{
    return atomic_load(&tsp_ctl_cfd);
}

static void tsp_ctl_warn(const char *what, int err)
{
    if (atomic_exchange(&tsp_ctl_warned, true))
        return;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "tapstack-preload: %s tapstack at %s: %s\n",
                     what, tsp_ctl_name, strerror(err));
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    if (n > 0 && tsp_real()->write(STDERR_FILENO, line, (size_t)n) < 0)
        return;     /* nowhere left to say it */
}

static bool tsp_ctl_is_ours(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == tsp_ctl_dev &&
           st.st_ino == tsp_ctl_ino;
}

/* The lowest number the connection may take: 512 leaves the low numbers
 * (and select()'s FD_SETSIZE range below it) to the program. */
static int tsp_ctl_high_fd(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur >= 1024)
        return 512;
    return rl.rlim_cur > 64 ? (int)(rl.rlim_cur / 2) : 0;
}

static int tsp_ctl_connect(void)
{
    const struct tsp_real *R = tsp_real();
    struct sockaddr_un sa;
    socklen_t len;
    int e = tsp_ctl_sockaddr(tsp_ctl_name, &sa, &len);
    if (e)
        return e;
    int s = R->socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    while (R->connect(s, (struct sockaddr *)&sa, len) != 0) {
        if (errno == EINTR)
            continue;
        e = -errno;
        R->close(s);
        return e;
    }
    struct ucred cr;
    socklen_t crlen = sizeof cr;
    if (R->getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
        (e = tsp_ctl_peer_check(&cr)) != 0) {
        R->close(s);
        return e ? e : -EACCES;
    }
    int low = tsp_ctl_high_fd();
    if (low > s) {
        int h = R->fcntl(s, F_DUPFD_CLOEXEC, low);
        if (h >= 0) {
            R->close(s);
            s = h;
        }
    }
    struct stat st;
    if (fstat(s, &st) != 0) {
        e = -errno;
        R->close(s);
        return e;
    }
    tsp_ctl_dev = st.st_dev;
    tsp_ctl_ino = st.st_ino;
    tsp_ctl_pid = getpid();
    atomic_store(&tsp_ctl_lost, false);
    atomic_store(&tsp_ctl_cfd, s);
    return s;
}

/* The connection to use now, opening one if needed: the descriptor, or
 * -errno when the host cannot be reached. Called with the lock held. */
static int tsp_ctl_ensure(void)
{
    int fd = atomic_load(&tsp_ctl_cfd);
    if (fd >= 0 && atomic_exchange(&tsp_ctl_lost, false))
        tsp_ctl_drop(false);                /* the program took it */
    else if (fd >= 0 && getpid() != tsp_ctl_pid)
        tsp_ctl_drop(tsp_ctl_is_ours(fd));  /* the parent's copy */
    else if (fd >= 0 && !tsp_ctl_is_ours(fd))
        tsp_ctl_drop(false);                /* closed behind our back */
    else if (fd >= 0)
        return fd;
    return tsp_ctl_connect();
}

static int tsp_ctl_send(int cfd, const struct ts_ctl_req *req,
                        const int *fds, int nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * TS_CTL_IDENT_MAX)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { (void *)req, sizeof *req };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    for (;;) {
        ssize_t r = tsp_real()->sendmsg(cfd, &m, MSG_NOSIGNAL);
        if (r == (ssize_t)sizeof *req)
            return 0;
        if (r >= 0)
            return -EPROTO;
        if (errno != EINTR)
            return -errno;
    }
}

/* Take the descriptors out of a received message: the first to *rfd when
 * the caller wants one, every other one closed. */
static void tsp_ctl_take_fds(struct msghdr *m, int *rfd)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (rfd && *rfd < 0)
                *rfd = fd;
            else
                tsp_real()->close(fd);
        }
    }
}

static int tsp_ctl_recv(int cfd, struct ts_ctl_rep *rep, int *rfd, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * TSP_CTL_RFDS)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { rep, sizeof *rep };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    int rflags = (flags & TSP_CTL_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0;
    ssize_t r;
    do
        r = tsp_real()->recvmsg(cfd, &m, rflags);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    tsp_ctl_take_fds(&m, rfd);
    int e = 0;
    if (r == 0)
        e = -ECONNRESET;
    else if (r != (ssize_t)sizeof *rep || (m.msg_flags & MSG_TRUNC) ||
             rep->magic != TS_CTL_MAGIC || rep->addrlen > TS_CTL_ADDR_MAX ||
             rep->optlen > TS_CTL_OPT_MAX)
        e = -EPROTO;
    if (e && rfd && *rfd >= 0) {
        tsp_real()->close(*rfd);
        *rfd = -1;
    }
    return e;
}

/* One exchange on a good connection. A request that could not be sent
 * never reached the host, so it is safe to try once more on a fresh
 * connection (the host restarted, or the connection was the parent's). */
static int tsp_ctl_exchange(const struct ts_ctl_req *req, const int *fds,
                            int nfds, struct ts_ctl_rep *rep, int *rfd,
                            int flags, const char **what)
{
    int e = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        *what = "cannot reach";
        int cfd = tsp_ctl_ensure();
        if (cfd < 0)
            return cfd;
        e = tsp_ctl_send(cfd, req, fds, nfds);
        if (e == -EBADF && tsp_real()->fcntl(cfd, F_GETFD) >= 0)
            return -EBADF;          /* one of the caller's descriptors */
        if (e) {
            tsp_ctl_drop(true);
            continue;
        }
        *what = "lost";
        e = tsp_ctl_recv(cfd, rep, rfd, flags);
        if (e)
            tsp_ctl_drop(true);     /* out of step with the host: start over */
        return e;
    }
    return e;
}

int tsp_ctl_request(const struct ts_ctl_req *req, const int *fds, int nfds,
                    struct ts_ctl_rep *rep, int *rfd, int flags)
{
    if (rfd)
        *rfd = -1;
    if (nfds < 0 || nfds > TS_CTL_IDENT_MAX)
        return -EINVAL;
    const char *what = "cannot reach";
    pthread_mutex_lock(&tsp_ctl_lock);
    int e = tsp_ctl_exchange(req, fds, nfds, rep, rfd, flags, &what);
    pthread_mutex_unlock(&tsp_ctl_lock);
    if (e == 0 || e == -EBADF)
        return e;
    if (!(flags & TSP_CTL_QUIET))
        tsp_ctl_warn(what, -e);
    return -ENETDOWN;
}
