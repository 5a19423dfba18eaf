/* tests/unit/host_client.c - a program's side of the shared host's wire
 * format (ts_ctl_proto.h), for the suites that speak it directly: serve
 * stack B of the API fixture, send requests with descriptors, read
 * replies, accept records and bytes. Entry points: see host_client.h. */
#include "tests/unit/host_client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

char hc_name[64];

/* Serve B's control socket and connect to it; the connection's fd. */
int hc_open(struct af *f)
{
    static unsigned n;
    snprintf(hc_name, sizeof hc_name, "@ts-unit-host-%d-%u", (int)getpid(), n++);
    CU_ASSERT_FATAL(ts_stack_serve(f->b, hc_name) == 0);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    memcpy(sun.sun_path + 1, hc_name + 1, strlen(hc_name) - 1);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                                strlen(hc_name));
    CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sun, len) == 0);
    struct timeval tv = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

int hc_send(int c, const void *msg, size_t len, const int *fds, int nfds)
{
    char cb[CMSG_SPACE(sizeof(int) * 64)];
    struct iovec iov = { (void *)msg, len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        memset(cb, 0, sizeof cb);
        m.msg_control = cb;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
    }
    return (int)sendmsg(c, &m, MSG_NOSIGNAL);
}

int hc_recv(int c, struct ts_ctl_rep *rep, int *out_fd)
{
    char cb[CMSG_SPACE(sizeof(int) * 64)];
    struct iovec iov = { rep, sizeof *rep };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                        .msg_controllen = sizeof cb };
    ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
    if (out_fd)
        *out_fd = -1;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (h && h->cmsg_type == SCM_RIGHTS && out_fd)
        memcpy(out_fd, CMSG_DATA(h), sizeof(int));
    return n == (ssize_t)sizeof *rep && rep->magic == TS_CTL_MAGIC ? 0 : -1;
}

int hc_raw(int c, const void *msg, size_t len, const int *fds, int nfds,
           struct ts_ctl_rep *rep, int *out_fd)
{
    if (hc_send(c, msg, len, fds, nfds) != (int)len)
        return -1;
    return hc_recv(c, rep, out_fd);
}

/* One request on socket fd (-1: none); returns rep.rc. */
void hc_mk(struct ts_ctl_req *rq, int op, int a0, int a1, int a2,
           const void *addr, size_t alen)
{
    memset(rq, 0, sizeof *rq);
    rq->magic = TS_CTL_MAGIC;
    rq->version = TS_CTL_VERSION;
    rq->op = (uint16_t)op;
    rq->arg[0] = a0;
    rq->arg[1] = a1;
    rq->arg[2] = a2;
    if (addr) {
        memcpy(rq->addr, addr, alen);
        rq->addrlen = (uint32_t)alen;
    }
}

int hc_req(int c, int op, int fd, int a0, int a1, int a2, const void *addr,
           size_t alen, struct ts_ctl_rep *rep, int *out_fd)
{
    struct ts_ctl_req rq;
    struct ts_ctl_rep r;
    hc_mk(&rq, op, a0, a1, a2, addr, alen);
    if (!rep)
        rep = &r;
    CU_ASSERT_FATAL(hc_raw(c, &rq, sizeof rq, &fd, fd >= 0, rep, out_fd) == 0);
    return rep->rc;
}

int hc_socket(int c, int type)
{
    int fd = -1;
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_SOCKET, -1, AF_INET, type, 0, NULL, 0,
                           NULL, &fd), 0);
    CU_ASSERT(fd >= 0);
    return fd;
}

int hc_int_opt(int c, int fd, int level, int name)
{
    struct ts_ctl_rep rep;
    int v = -1;
    if (hc_req(c, TS_OP_GETOPT, fd, level, name, sizeof v, NULL, 0, &rep,
               NULL) == 0 && rep.optlen == sizeof v)
        memcpy(&v, rep.opt, sizeof v);
    return v;
}

int hc_wait(int fd, short ev)
{
    struct pollfd p = { fd, ev, 0 };
    return poll(&p, 1, AF_TIMEO_MS) == 1 ? p.revents : 0;
}

/* A program's listener on B:port; returns its fd. */
int hc_listener(int c, uint16_t port)
{
    int l = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in sin = af_sin(0, port);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, l, 0, 0, 0, &sin, sizeof sin, NULL,
                           NULL), 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_LISTEN, l, 8, 0, 0, NULL, 0, NULL, NULL), 0);
    return l;
}

/* accept(2) as the preload does it: one record and its descriptor. */
int hc_accept(int l, struct sockaddr_in *peer)
{
    struct ts_accept_rec rec;
    char cb[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &rec, sizeof rec };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                        .msg_controllen = sizeof cb };
    if (!(hc_wait(l, POLLIN) & POLLIN) ||
        recvmsg(l, &m, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof rec ||
        rec.magic != TS_CTL_MAGIC || rec.addrlen != sizeof *peer)
        return -1;
    memcpy(peer, rec.addr, sizeof *peer);
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
    return fd;
}

/* Read exactly len bytes from a kernel fd (bounded by AF_TIMEO_MS). */
size_t hc_read_all(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len && (hc_wait(fd, POLLIN) & (POLLIN | POLLHUP))) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}
