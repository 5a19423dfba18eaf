/* tests/unit/preload_probe.c - programs that run under
 * libtapstack-preload.so against the fake host of preload_host.c.
 *
 * test_preload_host.c starts this very binary again with TSP_PROBE=NAME,
 * LD_PRELOAD and TAPSTACK_CTL set; the constructor below then runs probe
 * NAME instead of the unit tests and exits: 0 after "probe NAME: ok" on
 * stdout when every check held, else 1 after one line on stderr naming
 * the check. The probes call the plain
 * C library functions (socket, bind, read...), so what they exercise is
 * the interposers themselves, as an unmodified program would. The
 * library's own constructor has run before (preloaded objects start
 * first), so a probe also sees what it did at start-up.
 *
 * Entry points: the constructor (probes tcp, udp, accept, v6, inherit,
 * quiet, fork, ctlfd, inert, unreachable, run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *pr_name;

#define PR_CHECK(cond)                                                        \
    do {                                                                      \
        if (!(cond)) {                                                        \
            dprintf(2, "probe %s: line %d: %s failed (errno %d: %s)\n",       \
                    pr_name, __LINE__, #cond, errno, strerror(errno));        \
            _exit(1);                                                         \
        }                                                                     \
    } while (0)

static struct sockaddr_in pr_sin(const char *ip, int port)
{
    struct sockaddr_in s = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, ip, &s.sin_addr);
    return s;
}

#define PR_SA(s) ((struct sockaddr *)&(s))

static int pr_getint(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    PR_CHECK(getsockopt(fd, level, name, &v, &len) == 0 && len == sizeof v);
    return v;
}

/* The host's view of fd's local address (AF_UNIX: the kernel's). */
static int pr_family(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    PR_CHECK(getsockname(fd, PR_SA(ss), &len) == 0);
    return ss.ss_family;
}

static bool pr_readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 1;
}

/* Names, options, dup family, time-outs on a TCP socket. */
static void pr_tcp_basics(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    PR_CHECK(s >= 0);
    PR_CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC);
    PR_CHECK(!(fcntl(s, F_GETFL) & O_NONBLOCK));
    PR_CHECK(pr_getint(s, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
    PR_CHECK(pr_getint(s, SOL_SOCKET, SO_DOMAIN) == AF_INET);
    PR_CHECK(pr_getint(s, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
    PR_CHECK(pr_getint(s, SOL_SOCKET, SO_RCVBUF) == 4242);      /* host */
    struct sockaddr_in a = pr_sin("10.0.0.5", 8080), b;
    PR_CHECK(bind(s, PR_SA(a), sizeof a) == 0);
    socklen_t len = sizeof b;
    PR_CHECK(getsockname(s, PR_SA(b), &len) == 0 && len == sizeof b);
    PR_CHECK(memcmp(&a, &b, sizeof a) == 0);
    /* BSD truncation: 4 bytes copied, the full length reported. */
    memset(&b, 0xee, sizeof b);
    len = 4;
    PR_CHECK(getsockname(s, PR_SA(b), &len) == 0 && len == sizeof b);
    PR_CHECK(memcmp(&b, &a, 4) == 0 && ((unsigned char *)&b)[4] == 0xee);
    PR_CHECK(getpeername(s, PR_SA(b), &len) == -1 && errno == ENOTCONN);
    struct sockaddr_in bad = pr_sin("10.0.0.5", 1);
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    PR_CHECK(bind(s2, PR_SA(bad), sizeof bad) == -1 && errno == EACCES);
    int one = 1;
    PR_CHECK(setsockopt(s2, SOL_SOCKET, SO_PRIORITY, &one, sizeof one) == -1 &&
             errno == ENOPROTOOPT);
    PR_CHECK(getsockopt(s2, SOL_SOCKET, SO_LINGER, &b, &len) == -1 &&
             errno == ENOPROTOOPT);
    /* A time-out reaches the pair: a read with no data gives up. */
    struct timeval tv = { 0, 150000 }, got;
    PR_CHECK(setsockopt(s2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    len = sizeof got;
    PR_CHECK(getsockopt(s2, SOL_SOCKET, SO_RCVTIMEO, &got, &len) == 0);
    PR_CHECK(got.tv_sec == 0 && got.tv_usec >= 140000);
    char c;
    PR_CHECK(read(s2, &c, 1) == -1 && errno == EAGAIN);
    close(s2);

    int u = socket(AF_UNIX, SOCK_STREAM, 0);   /* the kernel's */
    PR_CHECK(u >= 0 && pr_family(u) == AF_UNIX);
    int d = dup(s);
    PR_CHECK(pr_family(d) == AF_INET);
    close(s);
    PR_CHECK(pr_family(d) == AF_INET);         /* the copy lives on */
    PR_CHECK(dup2(d, 40) == 40 && pr_family(40) == AF_INET);
    PR_CHECK(dup3(u, 40, O_CLOEXEC) == 40 && pr_family(40) == AF_UNIX);
    int h = fcntl(d, F_DUPFD_CLOEXEC, 50);
    PR_CHECK(h >= 50 && pr_family(h) == AF_INET);
    PR_CHECK(pr_getint(h, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
    close(d);
    close(h);
    close(u);
    close(40);
}

static int pr_connected(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = pr_sin("10.0.0.7", port);
    PR_CHECK(s >= 0 && connect(s, PR_SA(a), sizeof a) == 0);
    return s;
}

/* connect outcomes, echo, reset and time-out reports, shutdown. */
static void pr_tcp_conn(void)
{
    struct sockaddr_in refused = pr_sin("10.0.0.7", 1),
                       later = pr_sin("10.0.0.7", 2);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    PR_CHECK(connect(s, PR_SA(refused), sizeof refused) == -1 &&
             errno == ECONNREFUSED);
    close(s);
    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    PR_CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
    PR_CHECK(connect(s, PR_SA(later), sizeof later) == -1 &&
             errno == EINPROGRESS);
    PR_CHECK(pr_getint(s, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);       /* blocking: waits, fails */
    PR_CHECK(connect(s, PR_SA(later), sizeof later) == -1 &&
             errno == ECONNREFUSED);
    close(s);

    s = pr_connected(3);                        /* in progress, then up */
    char buf[64];
    PR_CHECK(write(s, "hello", 5) == 5);
    PR_CHECK(read(s, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
    struct sockaddr_in to = pr_sin("1.2.3.4", 9), from;
    socklen_t flen = sizeof from;
    PR_CHECK(sendto(s, "abc", 3, 0, PR_SA(to), sizeof to) == 3);
    PR_CHECK(recvfrom(s, buf, sizeof buf, 0, PR_SA(from), &flen) == 3 &&
             flen == 0);
    PR_CHECK(write(s, "reset", 5) == 5);
    PR_CHECK(read(s, buf, sizeof buf) == -1 && errno == ECONNRESET);
    PR_CHECK(read(s, buf, sizeof buf) == 0);   /* reported once */
    close(s);

    s = pr_connected(80);
    PR_CHECK(send(s, "timeout", 7, 0) == 7);
    PR_CHECK(recv(s, buf, sizeof buf, 0) == -1 && errno == ETIMEDOUT);
    close(s);
    /* After our own SHUT_WR an end of stream is just that. */
    s = pr_connected(80);
    PR_CHECK(write(s, "timeout", 7) == 7);
    PR_CHECK(shutdown(s, SHUT_WR) == 0);
    PR_CHECK(write(s, "x", 1) == -1 && errno == EPIPE);
    PR_CHECK(read(s, buf, sizeof buf) == 0);
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    PR_CHECK(shutdown(s, SHUT_RDWR) == -1 && errno == ENOTCONN);
    close(s);
}

static void pr_tcp(void)
{
    signal(SIGPIPE, SIG_IGN);
    pr_tcp_basics();
    pr_tcp_conn();
}

/* Datagrams through the header, addresses, truncation, errors. */
static void pr_udp_basics(int u)
{
    PR_CHECK(pr_getint(u, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    PR_CHECK(pr_getint(u, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
    struct sockaddr_in dst = pr_sin("10.0.0.9", 53), src;
    socklen_t slen = sizeof src;
    char buf[100];
    PR_CHECK(sendto(u, "ping", 4, 0, PR_SA(dst), sizeof dst) == 4);
    PR_CHECK(pr_readable(u, 3000));
    int avail = -1;
    PR_CHECK(ioctl(u, FIONREAD, &avail) == 0 && avail == 4);
    PR_CHECK(recvfrom(u, buf, sizeof buf, 0, PR_SA(src), &slen) == 4);
    PR_CHECK(memcmp(buf, "ping", 4) == 0 && slen == sizeof src);
    PR_CHECK(memcmp(&src, &dst, sizeof dst) == 0);
    PR_CHECK(ioctl(u, FIONREAD, &avail) == 0 && avail == 0);
    /* Too small a buffer: the rest is gone, MSG_TRUNC says so. */
    PR_CHECK(sendto(u, "abcdefgh", 8, 0, PR_SA(dst), sizeof dst) == 8);
    struct iovec iov = { buf, 3 };
    struct msghdr m = { .msg_name = &src, .msg_namelen = sizeof src,
                        .msg_iov = &iov, .msg_iovlen = 1 };
    PR_CHECK(recvmsg(u, &m, 0) == 3 && (m.msg_flags & MSG_TRUNC));
    PR_CHECK(m.msg_namelen == sizeof src && memcmp(buf, "abc", 3) == 0);
    /* MSG_TRUNC asked: the real length, as Linux returns it. */
    PR_CHECK(sendto(u, "abcdefgh", 8, 0, PR_SA(dst), sizeof dst) == 8);
    PR_CHECK(recv(u, buf, 3, MSG_TRUNC) == 8);
    /* MSG_PEEK leaves it there. */
    PR_CHECK(sendto(u, "peek", 4, 0, PR_SA(dst), sizeof dst) == 4);
    PR_CHECK(recv(u, buf, sizeof buf, MSG_PEEK) == 4);
    PR_CHECK(recv(u, buf, sizeof buf, 0) == 4 && memcmp(buf, "peek", 4) == 0);
    /* An error report. */
    PR_CHECK(sendto(u, "err", 3, 0, PR_SA(dst), sizeof dst) == 3);
    PR_CHECK(recv(u, buf, sizeof buf, 0) == -1 && errno == ECONNREFUSED);
    /* Destinations the kernel refuses are refused here too. */
    struct sockaddr_in zero = pr_sin("10.0.0.9", 0);
    struct sockaddr_in6 six = { .sin6_family = AF_INET6, .sin6_port = 5 };
    PR_CHECK(sendto(u, "x", 1, 0, PR_SA(zero), sizeof zero) == -1 &&
             errno == EINVAL);
    PR_CHECK(sendto(u, "x", 1, 0, PR_SA(six), sizeof six) == -1 &&
             errno == EAFNOSUPPORT);
    PR_CHECK(sendto(u, "x", 1, 0, PR_SA(dst), 8) == -1 && errno == EINVAL);
    static char big[70000];
    PR_CHECK(sendto(u, big, sizeof big, 0, PR_SA(dst), sizeof dst) == -1 &&
             errno == EMSGSIZE);
}

static void pr_udp_connected(int u)
{
    struct sockaddr_in peer = pr_sin("10.0.0.9", 7), src;
    socklen_t slen = sizeof src;
    char buf[100], b1[2], b2[10];
    PR_CHECK(connect(u, PR_SA(peer), sizeof peer) == 0);
    PR_CHECK(write(u, "xyz", 3) == 3);
    PR_CHECK(pr_readable(u, 3000));
    PR_CHECK(read(u, buf, sizeof buf) == 3 && memcmp(buf, "xyz", 3) == 0);
    struct iovec out[2] = { { "ab", 2 }, { "cd", 2 } };
    struct iovec in[2] = { { b1, sizeof b1 }, { b2, sizeof b2 } };
    PR_CHECK(writev(u, out, 2) == 4);
    PR_CHECK(readv(u, in, 2) == 4 && memcmp(b1, "ab", 2) == 0 &&
             memcmp(b2, "cd", 2) == 0);
    PR_CHECK(send(u, "q", 1, 0) == 1);
    PR_CHECK(recvfrom(u, buf, sizeof buf, 0, PR_SA(src), &slen) == 1);
    PR_CHECK(memcmp(&src, &peer, sizeof peer) == 0);
    /* The batch calls, one datagram at a time. */
    struct mmsghdr mm[3];
    struct iovec mi[3];
    char mb[3][8];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        mi[i] = (struct iovec){ mb[i], sizeof mb[i] };
        mm[i].msg_hdr.msg_iov = &mi[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mb[i][0] = 'm';
        mb[i][1] = (char)('0' + i);
        mi[i].iov_len = 2;
    }
    PR_CHECK(sendmmsg(u, mm, 3, 0) == 3 && mm[2].msg_len == 2);
    memset(mb, 0, sizeof mb);
    int got = 0;
    for (int tries = 0; got < 3 && tries < 100; tries++) {
        PR_CHECK(pr_readable(u, 3000));
        for (int i = got; i < 3; i++)
            mi[i].iov_len = sizeof mb[i];
        int n = recvmmsg(u, mm + got, (unsigned)(3 - got), MSG_WAITFORONE, NULL);
        PR_CHECK(n >= 1);
        got += n;
    }
    PR_CHECK(got == 3 && mm[2].msg_len == 2 && memcmp(mb[2], "m2", 2) == 0);
}

/* A UDP entry whose descriptor was closed behind the library's back (a
 * raw system call) and whose number now names a pipe: the pipe's bytes
 * must come through untouched. */
static void pr_udp_stale(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    PR_CHECK(u >= 0);
    PR_CHECK(syscall(SYS_close, u) == 0);
    int p[2];
    PR_CHECK(pipe(p) == 0 && p[0] == u);
    PR_CHECK(write(p[1], "raw bytes", 9) == 9);
    char buf[32];
    PR_CHECK(read(u, buf, sizeof buf) == 9 && memcmp(buf, "raw bytes", 9) == 0);
    close(p[0]);
    close(p[1]);
}

static void pr_udp(void)
{
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    PR_CHECK(u >= 0);
    PR_CHECK(recv(u, NULL, 0, 0) == -1 && errno == EAGAIN);
    PR_CHECK(fcntl(u, F_SETFL, 0) == 0);
    pr_udp_basics(u);
    pr_udp_connected(u);
    close(u);
    pr_udp_stale();
}

/* A listener: accept4 with flags, records, refusals. */
static void pr_accept(void)
{
    signal(SIGPIPE, SIG_IGN);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = pr_sin("0.0.0.0", 7000), peer;
    socklen_t plen = sizeof peer;
    PR_CHECK(bind(l, PR_SA(a), sizeof a) == 0 && listen(l, 5) == 0);
    PR_CHECK(pr_getint(l, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    PR_CHECK(pr_readable(l, 3000));
    int c = accept4(l, PR_SA(peer), &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
    PR_CHECK(c >= 0);
    struct sockaddr_in want = pr_sin("10.9.9.9", 4242);
    PR_CHECK(plen == sizeof peer && memcmp(&peer, &want, sizeof want) == 0);
    PR_CHECK((fcntl(c, F_GETFL) & O_NONBLOCK) && (fcntl(c, F_GETFD) & FD_CLOEXEC));
    PR_CHECK(pr_getint(c, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
    PR_CHECK(pr_getint(c, SOL_SOCKET, SO_ACCEPTCONN) == 0);
    char buf[8];
    PR_CHECK(write(c, "hi", 2) == 2 && pr_readable(c, 3000));
    PR_CHECK(read(c, buf, sizeof buf) == 2 && memcmp(buf, "hi", 2) == 0);
    PR_CHECK(getpeername(c, PR_SA(peer), &plen) == 0 &&
             memcmp(&peer, &want, sizeof want) == 0);
    close(c);
    /* Nothing more waiting. */
    PR_CHECK(fcntl(l, F_SETFL, O_NONBLOCK) == 0);
    PR_CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN);
    PR_CHECK(accept4(l, NULL, NULL, 0x4000) == -1 && errno == EINVAL);
    PR_CHECK(read(l, buf, sizeof buf) == -1 && errno == ENOTCONN);
    PR_CHECK(send(l, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
    int avail;
    PR_CHECK(ioctl(l, FIONREAD, &avail) == -1 && errno == EINVAL);
    /* Shut down, a blocked accept ends with EINVAL. */
    PR_CHECK(fcntl(l, F_SETFL, 0) == 0);
    PR_CHECK(shutdown(l, SHUT_RD) == 0);
    PR_CHECK(accept(l, NULL, NULL) == -1 && errno == EINVAL);
    close(l);
    /* A TCP socket that is not listening: the host says so. */
    int t = socket(AF_INET, SOCK_STREAM, 0);
    PR_CHECK(accept(t, NULL, NULL) == -1 && errno == EINVAL);
    close(t);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    PR_CHECK(accept(u, NULL, NULL) == -1 && errno == EOPNOTSUPP);
    close(u);
}

static struct sockaddr_in6 pr_sin6(const char *ip, int port)
{
    struct sockaddr_in6 s = { .sin6_family = AF_INET6,
                              .sin6_port = htons((uint16_t)port) };
    inet_pton(AF_INET6, ip, &s.sin6_addr);
    return s;
}

/* Dual stack: AF_INET6 sockets used for IPv4 move to the stack under the
 * same number; others stay the kernel's. */
static void pr_v6(void)
{
    int s = socket(AF_INET6, SOCK_STREAM, 0), off = 0, on = 1;
    PR_CHECK(s >= 0);
    PR_CHECK(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0);
    PR_CHECK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0);
    struct sockaddr_in6 any = pr_sin6("::", 8000), got;
    socklen_t len = sizeof got;
    PR_CHECK(bind(s, PR_SA(any), sizeof any) == 0);
    PR_CHECK(!(fcntl(s, F_GETFD) & FD_CLOEXEC));
    PR_CHECK(pr_getint(s, SOL_SOCKET, SO_DOMAIN) == AF_INET6);
    PR_CHECK(getsockname(s, PR_SA(got), &len) == 0 && len == sizeof got);
    PR_CHECK(memcmp(&got, &any, sizeof any) == 0);     /* the host's answer */
    PR_CHECK(listen(s, 5) == 0 && pr_readable(s, 3000));
    len = sizeof got;
    int c = accept(s, PR_SA(got), &len);
    struct sockaddr_in6 want = pr_sin6("::ffff:10.9.9.9", 4242);
    PR_CHECK(c >= 0 && len == sizeof got && memcmp(&got, &want, sizeof want) == 0);
    PR_CHECK(pr_getint(c, SOL_SOCKET, SO_DOMAIN) == AF_INET6);
    close(c);
    close(s);

    /* IPV6_V6ONLY on: the kernel's (bound to a kernel port, any). */
    int k = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    PR_CHECK(setsockopt(k, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0);
    struct sockaddr_in6 k0 = pr_sin6("::", 0);
    PR_CHECK(bind(k, PR_SA(k0), sizeof k0) == 0);
    PR_CHECK(pr_getint(k, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
    len = sizeof got;
    PR_CHECK(getsockname(k, PR_SA(got), &len) == 0 && got.sin6_port != 0);
    close(k);

    /* sendto a v4-mapped address moves a UDP socket; FD_CLOEXEC kept. */
    int u = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 dst = pr_sin6("::ffff:10.0.0.9", 53);
    PR_CHECK(sendto(u, "v6", 2, 0, PR_SA(dst), sizeof dst) == 2);
    PR_CHECK(fcntl(u, F_GETFD) & FD_CLOEXEC);
    PR_CHECK(pr_getint(u, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    char buf[8];
    len = sizeof got;
    PR_CHECK(pr_readable(u, 3000));
    PR_CHECK(recvfrom(u, buf, sizeof buf, 0, PR_SA(got), &len) == 2);
    PR_CHECK(len == sizeof got && memcmp(&got, &dst, sizeof dst) == 0);
    /* An AF_INET destination on it goes out v4-mapped. */
    struct sockaddr_in d4 = pr_sin("10.0.0.9", 54);
    PR_CHECK(sendto(u, "v4", 2, 0, PR_SA(d4), sizeof d4) == 2);
    PR_CHECK(pr_readable(u, 3000));
    len = sizeof got;
    PR_CHECK(recvfrom(u, buf, sizeof buf, 0, PR_SA(got), &len) == 2);
    PR_CHECK(got.sin6_family == AF_INET6 && ntohs(got.sin6_port) == 54);
    struct sockaddr_in6 real6 = pr_sin6("2001:db8::1", 53);
    PR_CHECK(sendto(u, "x", 1, 0, PR_SA(real6), sizeof real6) == -1 &&
             errno == ENETUNREACH);
    close(u);
    /* connect to v4-mapped moves a TCP socket (non-blocking kept). */
    int t = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in6 later = pr_sin6("::ffff:10.0.0.7", 3);
    PR_CHECK(connect(t, PR_SA(later), sizeof later) == -1 && errno == EINPROGRESS);
    PR_CHECK(pr_getint(t, SOL_SOCKET, SO_DOMAIN) == AF_INET6);
    PR_CHECK(pr_getint(t, SOL_SOCKET, SO_ERROR) == 0);
    close(t);
}

/* Started with inherited descriptors (see test_preload_host.c): 10 TCP,
 * 11 UDP, 12 a plain UNIX stream socket, 13 a listener, 14 a dual-stack
 * TCP socket, 20..59 plain UNIX stream sockets. */
static void pr_inherit(void)
{
    PR_CHECK(pr_getint(10, SOL_SOCKET, SO_DOMAIN) == AF_INET);
    PR_CHECK(pr_family(10) == AF_INET);
    PR_CHECK(pr_getint(11, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    PR_CHECK(pr_getint(12, SOL_SOCKET, SO_DOMAIN) == AF_UNIX);
    PR_CHECK(pr_family(12) == AF_UNIX);
    PR_CHECK(pr_getint(13, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    PR_CHECK(pr_getint(14, SOL_SOCKET, SO_DOMAIN) == AF_INET6);
    PR_CHECK(pr_family(59) == AF_UNIX);
    struct sockaddr_in dst = pr_sin("10.0.0.9", 53);
    char buf[8];
    PR_CHECK(sendto(11, "inh", 3, 0, PR_SA(dst), sizeof dst) == 3);
    PR_CHECK(recv(11, buf, sizeof buf, 0) == 3 && memcmp(buf, "inh", 3) == 0);
}

/* Nothing to identify: the library must not even connect. */
static void pr_quiet(void)
{
    PR_CHECK(1);
}

/* After fork the child talks to the host on its own connection and its
 * close leaves the parent's socket alone; a vfork child (it shares our
 * memory) must not touch the table at all. */
static void pr_fork(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    PR_CHECK(s >= 0 && pr_family(s) == AF_INET);
    pid_t pid = fork();
    PR_CHECK(pid >= 0);
    if (pid == 0) {
        int ok = pr_family(s) == AF_INET && close(s) == 0;
        _exit(ok ? 0 : 3);
    }
    int status;
    PR_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
             WEXITSTATUS(status) == 0);
    PR_CHECK(pr_family(s) == AF_INET);
    pid = vfork();
    if (pid == 0) {
        close(s);
        _exit(0);
    }
    PR_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    PR_CHECK(pr_family(s) == AF_INET);
    PR_CHECK(pr_getint(s, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
    close(s);
}

/* The control connection: the SEQPACKET socket at 512 or above. */
static int pr_ctl_fd(void)
{
    for (int fd = 512; fd < 1024; fd++) {
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
            type == SOCK_SEQPACKET)
            return fd;
    }
    return -1;
}

/* The program closes or takes over the control descriptor: the library
 * reconnects and never touches what the program put there. */
static void pr_ctlfd(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    PR_CHECK(s >= 0);
    int c = pr_ctl_fd();
    PR_CHECK(c >= 512 && (fcntl(c, F_GETFD) & FD_CLOEXEC));
    PR_CHECK(close(c) == 0);
    PR_CHECK(pr_family(s) == AF_INET);              /* connection 2 */
    c = pr_ctl_fd();
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    PR_CHECK(c >= 512 && nul >= 0 && dup2(nul, c) == c);
    PR_CHECK(pr_family(s) == AF_INET);              /* connection 3 */
    struct stat st;
    PR_CHECK(fstat(c, &st) == 0 && S_ISCHR(st.st_mode));
    close(c);
    /* Behind the library's back: a raw dup3 over it. */
    c = pr_ctl_fd();
    PR_CHECK(c >= 512 && syscall(SYS_dup3, nul, c, 0) == c);
    PR_CHECK(pr_family(s) == AF_INET);              /* connection 4 */
    PR_CHECK(fstat(c, &st) == 0 && S_ISCHR(st.st_mode));
    close(c);
    close(nul);
    close(s);
}

static bool pr_lib_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    bool found = false;
    while (f && fgets(line, sizeof line, f))
        found = found || strstr(line, "/libtapstack-preload.so") != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Loaded but $TAPSTACK_CTL unset: everything is the kernel's. */
static void pr_inert(void)
{
    PR_CHECK(pr_lib_mapped());
    PR_CHECK(getenv("TAPSTACK_CTL") == NULL);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    PR_CHECK(s >= 0 && pr_getint(s, SOL_SOCKET, SO_DOMAIN) == AF_INET);
    struct sockaddr_in a = pr_sin("127.0.0.1", 0);
    socklen_t len = sizeof a;
    PR_CHECK(bind(s, PR_SA(a), sizeof a) == 0);
    PR_CHECK(getsockname(s, PR_SA(a), &len) == 0 && a.sin_port != 0);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    PR_CHECK(sendto(u, "k", 1, 0, PR_SA(a), sizeof a) == 1);
    PR_CHECK(pr_ctl_fd() == -1);
    close(s);
    close(u);
}

/* No host: stack sockets fail with ENETDOWN, one line on stderr. */
static void pr_unreachable(void)
{
    PR_CHECK(socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == ENETDOWN);
    PR_CHECK(socket(AF_INET, SOCK_DGRAM, 0) == -1 && errno == ENETDOWN);
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    PR_CHECK(u >= 0 && pr_family(u) == AF_UNIX);
    /* A dual-stack socket stays the kernel's. */
    int k = socket(AF_INET6, SOCK_STREAM, 0), off = 0;
    PR_CHECK(setsockopt(k, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0);
    struct sockaddr_in6 any = pr_sin6("::", 0);
    PR_CHECK(bind(k, PR_SA(any), sizeof any) == 0);
    close(k);
    close(u);
}

/* Under tapstack-run: the environment it promised, and a stack socket. */
static void pr_run(void)
{
    const char *ctl = getenv("TAPSTACK_CTL"), *want = getenv("TSP_EXPECT_CTL");
    const char *pre = getenv("LD_PRELOAD");
    PR_CHECK(ctl && want && strcmp(ctl, want) == 0);
    PR_CHECK(pre && pre[0] == '/' && strstr(pre, "/libtapstack-preload.so"));
    PR_CHECK(pr_lib_mapped());
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    PR_CHECK(s >= 0 && pr_getint(s, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    PR_CHECK(pr_family(s) == AF_INET);
    close(s);
}

__attribute__((constructor)) static void pr_main(void)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } probes[] = {
        { "tcp", pr_tcp }, { "udp", pr_udp }, { "accept", pr_accept },
        { "v6", pr_v6 }, { "inherit", pr_inherit }, { "quiet", pr_quiet },
        { "fork", pr_fork }, { "ctlfd", pr_ctlfd }, { "inert", pr_inert },
        { "unreachable", pr_unreachable }, { "run", pr_run },
    };
    pr_name = getenv("TSP_PROBE");
    if (!pr_name)
        return;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        if (strcmp(pr_name, probes[i].name) == 0) {
            probes[i].fn();
            /* Proof for the parent that the probe, not the unit tests,
             * ran and finished. */
            dprintf(1, "probe %s: ok\n", pr_name);
            _exit(0);
        }
    dprintf(2, "probe %s: no such probe\n", pr_name);
    _exit(2);
}
