/* socket_api/ts_preload_io.c - the data path of libtapstack-preload.so.
 *
 * TCP: the bytes of a connection flow through a SOCK_STREAM pair, so the
 * kernel does all the work; each call costs one table lookup on top.
 * Two things differ from a pair: an address given to sendto/sendmsg is
 * dropped (connected TCP ignores it; a UNIX stream would say EISCONN),
 * recvfrom/recvmsg report no address, and when a read says end of stream
 * the host is asked whether it was really a reset (tsp_tcp_eof), so the
 * program sees ECONNRESET or ETIMEDOUT once, as with the kernel's TCP.
 *
 * UDP: datagrams travel a SOCK_SEQPACKET pair behind a struct
 * ts_dgram_hdr (destination out, source or error in), so every call is a
 * sendmsg/recvmsg with the header as the first iovec in front of the
 * caller's buffers: no copy, and the kernel's blocking, O_NONBLOCK,
 * SO_RCVTIMEO and MSG_PEEK apply unchanged.
 *
 * Listening sockets carry connection records: reading or writing one is
 * refused (ENOTCONN, EPIPE), as the kernel refuses it on a listener.
 *
 * Entry points (interposed): read, readv, recv, recvfrom, recvmsg,
 * recvmmsg, write, writev, send, sendto, sendmsg, sendmmsg, sendfile,
 * sendfile64, __read_chk, __recv_chk, __recvfrom_chk. Internal:
 * tsp_io_kind, tsp_tcp_eof.
 */
#undef _FORTIFY_SOURCE
#include "socket_api/ts_preload_int.h"

#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

/* The largest UDP payload over IPv4: 65535 - 20 - 8. */
#define TSP_UDP_MAX 65507
/* iovecs kept on the stack; longer vectors are copied to the heap. */
#define TSP_IOV_STACK 16

enum ts_ctl_kind tsp_io_kind(int fd)
{
    struct tsp_fd_info info;
    if (!tsp_fd_get(fd, &info))
        return TS_KIND_NONE;
    if (info.kind == TS_KIND_TCP)
        return TS_KIND_TCP;
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_ino != info.ino) {
        tsp_fd_clear(fd);
        return TS_KIND_NONE;
    }
    return info.kind;
}

int tsp_tcp_eof(int fd)
{
    int saved = errno;
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    struct tsp_fd_info info;
    /* POLLHUP: the host shut both directions of its end, which it does
     * for a reset and a plain close alike; our own SHUT_WR also makes it,
     * and then there is nothing to ask. */
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP) ||
        !tsp_fd_get(fd, &info) || info.kind != TS_KIND_TCP ||
        info.self_shut_wr || info.reset_reported)
        goto plain;
    struct ts_ctl_req req;
    struct ts_ctl_rep rep;
    tsp_ctl_req_init(&req, TS_OP_STATUS);
    if (tsp_call(fd, &req, &rep) != 1 || rep.rc >= 0)
        goto plain;
    tsp_fd_update(fd, info.ino, TS_KIND_NONE, TSP_FD_RESET);
    return tsp_fail(rep.rc);
plain:
    errno = saved;
    return 0;
}

static size_t tsp_iov_len(const struct iovec *iov, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += iov[i].iov_len;
    return total;
}

/* A read-family result on TCP: 0 with room to read means end of stream,
 * or a reset the host must name. */
static ssize_t tsp_tcp_read_done(int fd, ssize_t r, size_t want)
{
    return r == 0 && want > 0 ? tsp_tcp_eof(fd) : r;
}

/* The header in front of the caller's iovecs. *heap is what to free. */
static struct iovec *tsp_iov_with(void *hdr, const struct iovec *iov,
                                  size_t n, struct iovec *stack,
                                  struct iovec **heap)
{
    struct iovec *v = stack;
    *heap = NULL;
    if (n + 1 > TSP_IOV_STACK) {
        if (n >= IOV_MAX)
            return NULL;
        v = *heap = malloc((n + 1) * sizeof *v);
        if (!v)
            return NULL;
    }
    v[0].iov_base = hdr;
    v[0].iov_len = sizeof(struct ts_dgram_hdr);
    if (n)
        memcpy(v + 1, iov, n * sizeof *v);
    return v;
}

/* One datagram into the caller's buffers: payload length (or the full
 * length with MSG_TRUNC in flags), the source address, MSG_TRUNC in
 * *mflags when it did not fit. */
static ssize_t tsp_udp_recv(int fd, const struct iovec *iov, size_t n,
                            int flags, struct sockaddr *sa, socklen_t *salen,
                            int *mflags)
{
    struct ts_dgram_hdr hdr;
    struct iovec stack[TSP_IOV_STACK], *heap;
    struct iovec *v = tsp_iov_with(&hdr, iov, n, stack, &heap);
    if (!v)
        return tsp_fail(n >= IOV_MAX ? EMSGSIZE : ENOMEM);
    struct msghdr m = { .msg_iov = v, .msg_iovlen = n + 1 };
    /* MSG_TRUNC makes the pair return the message's full length. */
    ssize_t r = tsp_real()->recvmsg(fd, &m, flags | MSG_TRUNC);
    free(heap);
    if (r <= 0) {
        if (r == 0 && mflags)
            *mflags = 0;
        return r;       /* 0: the host closed the pair */
    }
    if ((size_t)r < sizeof hdr || hdr.magic != TS_CTL_MAGIC ||
        hdr.addrlen > TS_CTL_ADDR_MAX)
        return tsp_fail(EPROTO);
    if (hdr.err)
        return tsp_fail(hdr.err);
    size_t payload = (size_t)r - sizeof hdr, cap = tsp_iov_len(iov, n);
    bool trunc = payload > cap || (m.msg_flags & MSG_TRUNC);
    if (sa && salen)
        tsp_copy_addr(hdr.addr, hdr.addrlen, sa, salen);
    if (mflags)
        *mflags = (m.msg_flags & ~(MSG_TRUNC | MSG_EOR | MSG_CTRUNC)) |
                  (trunc ? MSG_TRUNC : 0);
    if (!(flags & MSG_TRUNC) && payload > cap)
        payload = cap;
    return payload > SSIZE_MAX ? SSIZE_MAX : (ssize_t)payload;
}

/* The destination of a datagram into the header, checked as the kernel
 * checks it: a datagram on the pair cannot be refused later. */
static int tsp_udp_dest(bool v6, const struct sockaddr *sa, socklen_t len,
                        struct ts_dgram_hdr *hdr)
{
    if (!sa || len == 0)
        return 0;           /* the connected peer */
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    if (sa->sa_family == AF_INET || (!v6 && sa->sa_family == AF_UNSPEC)) {
        struct sockaddr_in s4;
        if (len < sizeof s4)
            return -EINVAL;
        memcpy(&s4, sa, sizeof s4);
        s4.sin_family = AF_INET;
        if (s4.sin_port == 0)
            return -EINVAL;
        if (!v6) {
            hdr->addrlen = sizeof s4;
            memcpy(hdr->addr, &s4, sizeof s4);
            return 0;
        }
        /* An AF_INET destination on a dual-stack socket: v4-mapped. */
        s6.sin6_family = AF_INET6;
        s6.sin6_port = s4.sin_port;
        s6.sin6_addr.s6_addr[10] = s6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(&s6.sin6_addr.s6_addr[12], &s4.sin_addr, 4);
    } else if (v6 && sa->sa_family == AF_INET6) {
        if (len < 24)
            return -EINVAL;
        memcpy(&s6, sa, len < sizeof s6 ? len : sizeof s6);
        if (!IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr))
            return -ENETUNREACH;    /* tapstack has no IPv6 route */
        if (s6.sin6_port == 0)
            return -EINVAL;
    } else {
        return -EAFNOSUPPORT;
    }
    hdr->addrlen = sizeof s6;
    memcpy(hdr->addr, &s6, sizeof s6);
    return 0;
}

static ssize_t tsp_udp_send(int fd, const struct iovec *iov, size_t n,
                            int flags, const struct sockaddr *sa,
                            socklen_t salen)
{
    struct tsp_fd_info info;
    tsp_fd_get(fd, &info);
    if (!sa && !info.udp_peer)
        return tsp_fail(EDESTADDRREQ);  /* as Linux: no address, no peer */
    struct ts_dgram_hdr hdr;
    memset(&hdr, 0, sizeof hdr);
    hdr.magic = TS_CTL_MAGIC;
    int e = tsp_udp_dest(info.v6, sa, salen, &hdr);
    if (e)
        return tsp_fail(e);
    if (tsp_iov_len(iov, n) > TSP_UDP_MAX)
        return tsp_fail(EMSGSIZE);
    struct iovec stack[TSP_IOV_STACK], *heap;
    struct iovec *v = tsp_iov_with(&hdr, iov, n, stack, &heap);
    if (!v)
        return tsp_fail(n >= IOV_MAX ? EMSGSIZE : ENOMEM);
    struct msghdr m = { .msg_iov = v, .msg_iovlen = n + 1 };
    /* UDP never raises SIGPIPE; the pair would, were the host gone. */
    ssize_t r = tsp_real()->sendmsg(fd, &m, flags | MSG_NOSIGNAL);
    free(heap);
    if (r < 0)
        return -1;
    return r >= (ssize_t)sizeof hdr ? r - (ssize_t)sizeof hdr : 0;
}

/* Reading or writing a listener: refused as on the kernel's. */
static ssize_t tsp_listen_read(void)
{
    return tsp_fail(ENOTCONN);
}

static ssize_t tsp_listen_write(int flags)
{
    if (!(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
    return tsp_fail(EPIPE);
}

static ssize_t tsp_read(int fd, void *buf, size_t len)
{
    struct iovec iov = { buf, len };
    switch (tsp_io_kind(fd)) {
    case TS_KIND_TCP:
        return tsp_tcp_read_done(fd, tsp_real()->read(fd, buf, len), len);
    case TS_KIND_UDP:
        return tsp_udp_recv(fd, &iov, 1, 0, NULL, NULL, NULL);
    case TS_KIND_LISTEN:
        return tsp_listen_read();
    default:
        return tsp_real()->read(fd, buf, len);
    }
}

TSP_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    return tsp_read(fd, buf, len);
}

TSP_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    if (len > buflen || tsp_fd_kind(fd) == TS_KIND_NONE)
        return tsp_real()->__read_chk(fd, buf, len, buflen);
    return tsp_read(fd, buf, len);
}

TSP_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
    switch (tsp_io_kind(fd)) {
    case TS_KIND_TCP:
        return tsp_tcp_read_done(fd, tsp_real()->readv(fd, iov, n),
                                 n > 0 ? tsp_iov_len(iov, (size_t)n) : 0);
    case TS_KIND_UDP:
        if (n < 0)
            return tsp_fail(EINVAL);
        return tsp_udp_recv(fd, iov, (size_t)n, 0, NULL, NULL, NULL);
    case TS_KIND_LISTEN:
        return tsp_listen_read();
    default:
        return tsp_real()->readv(fd, iov, n);
    }
}

/* recv and recvfrom: TCP reports no address (length 0). */
static ssize_t tsp_recvfrom(int fd, void *buf, size_t len, int flags,
                            struct sockaddr *sa, socklen_t *salen)
{
    struct iovec iov = { buf, len };
    ssize_t r;
    switch (tsp_io_kind(fd)) {
    case TS_KIND_TCP:
        r = tsp_real()->recv(fd, buf, len, flags);
        if (r >= 0 && sa && salen)
            *salen = 0;
        return tsp_tcp_read_done(fd, r, len);
    case TS_KIND_UDP:
        return tsp_udp_recv(fd, &iov, 1, flags, sa, salen, NULL);
    case TS_KIND_LISTEN:
        return tsp_listen_read();
    default:
        return tsp_real()->recvfrom(fd, buf, len, flags, sa, salen);
    }
}

TSP_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    if (tsp_fd_kind(fd) == TS_KIND_NONE)
        return tsp_real()->recv(fd, buf, len, flags);
    return tsp_recvfrom(fd, buf, len, flags, NULL, NULL);
}

TSP_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                            __SOCKADDR_ARG addr, socklen_t *salen)
{
    return tsp_recvfrom(fd, buf, len, flags, addr.__sockaddr__, salen);
}

TSP_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
                              int flags)
{
    if (len > buflen || tsp_fd_kind(fd) == TS_KIND_NONE)
        return tsp_real()->__recv_chk(fd, buf, len, buflen, flags);
    return tsp_recvfrom(fd, buf, len, flags, NULL, NULL);
}

TSP_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
                                  size_t buflen, int flags,
                                  struct sockaddr *sa, socklen_t *salen)
{
    if (len > buflen || tsp_fd_kind(fd) == TS_KIND_NONE)
        return tsp_real()->__recvfrom_chk(fd, buf, len, buflen, flags, sa,
                                          salen);
    return tsp_recvfrom(fd, buf, len, flags, sa, salen);
}

static ssize_t tsp_recvmsg(int fd, struct msghdr *msg, int flags)
{
    const struct tsp_real *R = tsp_real();
    switch (tsp_io_kind(fd)) {
    case TS_KIND_TCP: {
        struct msghdr m = *msg;
        m.msg_name = NULL;
        m.msg_namelen = 0;
        ssize_t r = R->recvmsg(fd, &m, flags);
        msg->msg_flags = m.msg_flags;
        msg->msg_controllen = m.msg_controllen;
        if (r >= 0)
            msg->msg_namelen = 0;
        return tsp_tcp_read_done(fd, r, tsp_iov_len(msg->msg_iov,
                                                    msg->msg_iovlen));
    }
    case TS_KIND_UDP: {
        int mflags = 0;
        ssize_t r = tsp_udp_recv(fd, msg->msg_iov, msg->msg_iovlen, flags,
                                 msg->msg_name, &msg->msg_namelen, &mflags);
        if (r >= 0) {
            msg->msg_flags = mflags;
            msg->msg_controllen = 0;    /* no IP_PKTINFO and the like */
            if (!msg->msg_name)
                msg->msg_namelen = 0;
        }
        return r;
    }
    case TS_KIND_LISTEN:
        return tsp_listen_read();
    default:
        return R->recvmsg(fd, msg, flags);
    }
}

TSP_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    return tsp_recvmsg(fd, msg, flags);
}

TSP_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    struct iovec iov = { (void *)buf, len };
    switch (tsp_io_kind(fd)) {
    case TS_KIND_UDP:
        return tsp_udp_send(fd, &iov, 1, 0, NULL, 0);
    case TS_KIND_LISTEN:
        return tsp_listen_write(0);
    default:
        return tsp_real()->write(fd, buf, len);
    }
}

TSP_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    switch (tsp_io_kind(fd)) {
    case TS_KIND_UDP:
        if (n < 0)
            return tsp_fail(EINVAL);
        return tsp_udp_send(fd, iov, (size_t)n, 0, NULL, 0);
    case TS_KIND_LISTEN:
        return tsp_listen_write(0);
    default:
        return tsp_real()->writev(fd, iov, n);
    }
}

/* send and sendto: an address on TCP is dropped, as connected TCP drops
 * it (a UNIX stream pair would fail with EISCONN). */
static ssize_t tsp_sendto(int fd, const void *buf, size_t len, int flags,
                          const struct sockaddr *sa, socklen_t salen)
{
    struct iovec iov = { (void *)buf, len };
    switch (tsp_io_kind(fd)) {
    case TS_KIND_TCP:
        return tsp_real()->send(fd, buf, len, flags);
    case TS_KIND_UDP:
        return tsp_udp_send(fd, &iov, 1, flags, sa, salen);
    case TS_KIND_LISTEN:
        return tsp_listen_write(flags);
    default:
        break;
    }
    if (sa && tsp_v6_take(fd, sa, salen, TSP_V6_SENDTO))
        return tsp_udp_send(fd, &iov, 1, flags, sa, salen);
    return tsp_real()->sendto(fd, buf, len, flags, sa, salen);
}

TSP_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    if (tsp_fd_kind(fd) == TS_KIND_NONE)
        return tsp_real()->send(fd, buf, len, flags);
    return tsp_sendto(fd, buf, len, flags, NULL, 0);
}

TSP_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                          __CONST_SOCKADDR_ARG addr, socklen_t salen)
{
    return tsp_sendto(fd, buf, len, flags, addr.__sockaddr__, salen);
}

static ssize_t tsp_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    const struct tsp_real *R = tsp_real();
    const struct sockaddr *sa = msg->msg_name;
    switch (tsp_io_kind(fd)) {
    case TS_KIND_TCP: {
        struct msghdr m = *msg;
        m.msg_name = NULL;
        m.msg_namelen = 0;
        return R->sendmsg(fd, &m, flags);
    }
    case TS_KIND_UDP:
        /* Ancillary data (IP_PKTINFO, ...) has no place on the pair. */
        return tsp_udp_send(fd, msg->msg_iov, msg->msg_iovlen, flags, sa,
                            msg->msg_namelen);
    case TS_KIND_LISTEN:
        return tsp_listen_write(flags);
    default:
        break;
    }
    if (sa && tsp_v6_take(fd, sa, msg->msg_namelen, TSP_V6_SENDTO))
        return tsp_udp_send(fd, msg->msg_iov, msg->msg_iovlen, flags, sa,
                            msg->msg_namelen);
    return R->sendmsg(fd, msg, flags);
}

TSP_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    return tsp_sendmsg(fd, msg, flags);
}

static bool tsp_past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* recvmmsg on UDP: one datagram at a time. As on Linux, an error after
 * the first datagram ends the batch, and the time-out is looked at only
 * after each datagram. */
TSP_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
                        int flags, struct timespec *tmo)
{
    if (tsp_io_kind(fd) != TS_KIND_UDP)
        return tsp_real()->recvmmsg(fd, vec, vlen, flags, tmo);
    struct timespec deadline = { 0, 0 };
    if (tmo) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += tmo->tv_sec + (deadline.tv_nsec + tmo->tv_nsec) /
                                         1000000000L;
        deadline.tv_nsec = (deadline.tv_nsec + tmo->tv_nsec) % 1000000000L;
    }
    unsigned int i;
    for (i = 0; i < vlen && i < INT_MAX; i++) {
        int f = flags & ~MSG_WAITFORONE;
        if (i > 0 && (flags & MSG_WAITFORONE))
            f |= MSG_DONTWAIT;
        ssize_t r = tsp_recvmsg(fd, &vec[i].msg_hdr, f);
        if (r < 0)
            return i > 0 ? (int)i : -1;
        vec[i].msg_len = (unsigned int)r;
        if (tmo && tsp_past(&deadline)) {
            i++;
            break;
        }
    }
    return (int)i;
}

TSP_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
                        int flags)
{
    if (tsp_io_kind(fd) != TS_KIND_UDP)
        return tsp_real()->sendmmsg(fd, vec, vlen, flags);
    unsigned int i;
    for (i = 0; i < vlen && i < INT_MAX; i++) {
        ssize_t r = tsp_sendmsg(fd, &vec[i].msg_hdr, flags);
        if (r < 0)
            return i > 0 ? (int)i : -1;
        vec[i].msg_len = (unsigned int)r;
    }
    return (int)i;
}

/* sendfile to a UDP socket: one datagram of up to count bytes, read from
 * in_fd (at *off when given), as the kernel's splice into UDP sends them.
 * TCP needs nothing: sendfile into a stream pair is the kernel's. */
static ssize_t tsp_udp_sendfile(int out, int in, off_t *off, size_t count)
{
    size_t n = count < TSP_UDP_MAX ? count : TSP_UDP_MAX;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return tsp_fail(ENOMEM);
    ssize_t got = off ? pread(in, buf, n, *off) : tsp_real()->read(in, buf, n);
    ssize_t r = got;
    if (got > 0) {
        struct iovec iov = { buf, (size_t)got };
        r = tsp_udp_send(out, &iov, 1, 0, NULL, 0);
        if (r > 0 && off)
            *off += r;
    }
    free(buf);
    return r;
}

TSP_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    if (tsp_io_kind(out) == TS_KIND_UDP)
        return tsp_udp_sendfile(out, in, off, count);
    return tsp_real()->sendfile(out, in, off, count);
}

TSP_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
    if (tsp_io_kind(out) == TS_KIND_UDP)
        return tsp_udp_sendfile(out, in, (off_t *)off, count);
    return tsp_real()->sendfile64(out, in, off, count);
}
