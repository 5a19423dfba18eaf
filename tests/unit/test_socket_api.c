/* tests/unit/test_socket_api.c - the socket API's set-up calls (suite
 * `socket_api`).
 *
 * Two threaded stacks on an in-memory wire (tests/unit/api_fixture.h),
 * opened fresh for each test. Covers ts_socket (bad domain, type and
 * protocol; a full table), ts_close (bad and double), ts_bind (in use, not
 * our address, port 0, SO_REUSEADDR beside TIME-WAIT), ts_listen,
 * ts_accept (not listening, non-blocking, time-out, full table), ts_connect
 * (refused, non-blocking, twice, time-out, bad addresses), ts_stack_open
 * with bad settings and ts_stack_close with sockets open. Names, options
 * and ts_fcntl are in test_socket_opts.c, TCP data in test_socket_io.c,
 * UDP in test_socket_udp.c, ts_poll in test_socket_poll.c, threads and
 * ts_server in test_socket_threads.c.
 */
#include <fcntl.h>

#include "eth/memdev.h"
#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define SA_PORT 5001

static void test_socket_bad_args(void)
{
    struct af *f = af_open(0);
    AF_FAILS(ts_socket(f->a, AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
    AF_FAILS(ts_socket(f->a, AF_UNIX, SOCK_DGRAM, 0), EAFNOSUPPORT);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_SEQPACKET, 0), EPROTONOSUPPORT);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_STREAM, IPPROTO_UDP),
             EPROTONOSUPPORT);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_DGRAM, IPPROTO_TCP),
             EPROTONOSUPPORT);
    int t = ts_socket(f->a, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int u = ts_socket(f->a, AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    int n = ts_socket(f->a, AF_INET,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CU_ASSERT(t >= 0 && u >= 0 && n >= 0);
    CU_ASSERT(t != u && u != n && t != n);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    CU_ASSERT_EQUAL(af_getint(f->a, u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_getint(f->a, n, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    af_close(f);
}

static void test_socket_table_full(void)
{
    struct af *f = af_open(4);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = ts_socket(f->a, AF_INET, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0);
        CU_ASSERT(fds[i] >= 0 && fds[i] < 4);
    }
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), EMFILE);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_DGRAM, 0), EMFILE);
    CU_ASSERT_EQUAL(ts_close(f->a, fds[2]), 0);
    CU_ASSERT_EQUAL(ts_socket(f->a, AF_INET, SOCK_DGRAM, 0), fds[2]);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), EMFILE);
    af_close(f);
}

/* A connection waits in the accept queue while B's table is full. */
static void test_accept_table_full(void)
{
    struct af *f = af_open(3);
    int lfd = af_listener(f->b, SA_PORT);
    int fill1 = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    int fill2 = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT(lfd >= 0 && fill1 >= 0 && fill2 >= 0);
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, c, AF_IP_B, SA_PORT), 0);
    AF_FAILS(ts_accept(f->b, lfd, NULL, NULL), EMFILE);
    CU_ASSERT_EQUAL(ts_close(f->b, fill1), 0);
    int s = af_accept(f->b, lfd);
    CU_ASSERT_EQUAL(s, fill1);
    CU_ASSERT_EQUAL(ts_send(f->a, c, "x", 1, 0), 1);
    char ch = 0;
    CU_ASSERT_EQUAL(ts_recv(f->b, s, &ch, 1, 0), 1);
    CU_ASSERT_EQUAL(ch, 'x');
    af_close(f);
}

static void test_close_bad_fd(void)
{
    struct af *f = af_open(0);
    AF_FAILS(ts_close(f->a, -1), EBADF);
    AF_FAILS(ts_close(f->a, 1024), EBADF);
    AF_FAILS(ts_close(f->a, 1 << 30), EBADF);
    AF_FAILS(ts_close(f->a, 7), EBADF);         /* never opened */
    int fd = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    int u = ts_socket(f->a, AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT_EQUAL(ts_close(f->a, fd), 0);
    AF_FAILS(ts_close(f->a, fd), EBADF);
    CU_ASSERT_EQUAL(ts_close(f->a, u), 0);
    AF_FAILS(ts_close(f->a, u), EBADF);
    af_close(f);
}

/* Every call on a descriptor that is not open fails with EBADF. */
static void test_calls_on_bad_fd(void)
{
    struct af *f = af_open(0);
    struct sockaddr_in sin = af_sin(AF_IP_B, SA_PORT);
    struct sockaddr *sa = AF_SA(sin);
    socklen_t len = sizeof sin;
    char buf[4] = "abc";
    int v = 1;
    AF_FAILS(ts_bind(f->a, 3, sa, len), EBADF);
    AF_FAILS(ts_listen(f->a, 3, 1), EBADF);
    AF_FAILS(ts_accept(f->a, 3, NULL, NULL), EBADF);
    AF_FAILS(ts_connect(f->a, 3, sa, len), EBADF);
    AF_FAILS(ts_send(f->a, 3, buf, 3, 0), EBADF);
    AF_FAILS(ts_recv(f->a, 3, buf, 3, 0), EBADF);
    AF_FAILS(ts_sendto(f->a, 3, buf, 3, 0, sa, len), EBADF);
    AF_FAILS(ts_recvfrom(f->a, 3, buf, 3, 0, sa, &len), EBADF);
    AF_FAILS(ts_shutdown(f->a, 3, SHUT_RDWR), EBADF);
    AF_FAILS(ts_setsockopt(f->a, 3, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v),
             EBADF);
    len = sizeof v;
    AF_FAILS(ts_getsockopt(f->a, 3, SOL_SOCKET, SO_REUSEADDR, &v, &len), EBADF);
    len = sizeof sin;
    AF_FAILS(ts_getsockname(f->a, 3, sa, &len), EBADF);
    AF_FAILS(ts_getpeername(f->a, -3, sa, &len), EBADF);
    AF_FAILS(ts_fcntl(f->a, 3, F_GETFL, 0), EBADF);
    af_close(f);
}

static void test_bind_in_use(void)
{
    struct af *f = af_open(0);
    int s1 = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    int s2 = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(af_bind(f->b, s1, 0, SA_PORT), 0);
    AF_FAILS(af_bind(f->b, s2, 0, SA_PORT), EADDRINUSE);
    AF_FAILS(af_bind(f->b, s2, AF_IP_B, SA_PORT), EADDRINUSE);
    AF_FAILS(af_bind(f->b, s1, 0, SA_PORT + 1), EINVAL);    /* bound already */
    CU_ASSERT_EQUAL(af_bind(f->b, s2, AF_IP_B, SA_PORT + 1), 0);
    /* UDP ports are a name space of their own. */
    int u1 = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    int u2 = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT_EQUAL(af_bind(f->b, u1, 0, SA_PORT), 0);
    AF_FAILS(af_bind(f->b, u2, 0, SA_PORT), EADDRINUSE);
    AF_FAILS(af_bind(f->b, u1, 0, SA_PORT + 2), EINVAL);    /* bound already */
    /* Closing frees the port at once (no connection, no TIME-WAIT). */
    CU_ASSERT_EQUAL(ts_close(f->b, s1), 0);
    int s3 = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(af_bind(f->b, s3, 0, SA_PORT), 0);
    af_close(f);
}

static void test_bind_bad_address(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    int u = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    AF_FAILS(af_bind(f->b, t, AF_IP_A, SA_PORT), EADDRNOTAVAIL);
    AF_FAILS(af_bind(f->b, t, 0xc0a80101u, SA_PORT), EADDRNOTAVAIL);
    AF_FAILS(af_bind(f->b, u, AF_IP_A, SA_PORT), EADDRNOTAVAIL);
    struct sockaddr_in sin = af_sin(AF_IP_B, SA_PORT);
    AF_FAILS(ts_bind(f->b, t, AF_SA(sin), 4), EINVAL);
    AF_FAILS(ts_bind(f->b, t, NULL, sizeof sin), EINVAL);
    sin.sin_family = AF_INET6;
    AF_FAILS(ts_bind(f->b, t, AF_SA(sin), sizeof sin), EAFNOSUPPORT);
    /* Our own address, given explicitly, is fine; getsockname shows it. */
    CU_ASSERT_EQUAL(af_bind(f->b, t, AF_IP_B, SA_PORT), 0);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    CU_ASSERT_EQUAL(ts_getsockname(f->b, t, AF_SA(got), &len), 0);
    CU_ASSERT_EQUAL(ntohl(got.sin_addr.s_addr), AF_IP_B);
    CU_ASSERT_EQUAL(ntohs(got.sin_port), SA_PORT);
    af_close(f);
}

/* bind(2) to port 0 picks a free port, so listen works after it. */
static void test_bind_port_zero(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(af_bind(f->b, t, 0, 0), 0);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    CU_ASSERT_EQUAL(ts_getsockname(f->b, t, AF_SA(got), &len), 0);
    uint16_t port = ntohs(got.sin_port);
    CU_ASSERT(port != 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, t, 4), 0);
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, c, AF_IP_B, port), 0);
    int u = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT_EQUAL(af_bind(f->b, u, 0, 0), 0);
    len = sizeof got;
    CU_ASSERT_EQUAL(ts_getsockname(f->b, u, AF_SA(got), &len), 0);
    CU_ASSERT(ntohs(got.sin_port) != 0);
    af_close(f);
}

/* The server closes first, so its end of the connection sits in TIME-WAIT
 * on the listener's port: a plain bind fails, SO_REUSEADDR's succeeds. */
static void test_reuseaddr_time_wait(void)
{
    struct af *f = af_open(0);
    int lfd = af_listener(f->b, SA_PORT);
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL_FATAL(af_connect(f->a, c, AF_IP_B, SA_PORT), 0);
    int s = af_accept(f->b, lfd);
    CU_ASSERT_FATAL(s >= 0);
    char ch;
    CU_ASSERT_EQUAL(ts_shutdown(f->b, s, SHUT_WR), 0);
    CU_ASSERT_EQUAL(ts_recv(f->a, c, &ch, 1, 0), 0);     /* server's FIN */
    CU_ASSERT_EQUAL(ts_close(f->a, c), 0);
    CU_ASSERT_EQUAL(ts_recv(f->b, s, &ch, 1, 0), 0);     /* client's FIN */
    CU_ASSERT_EQUAL(ts_close(f->b, s), 0);               /* in TIME-WAIT */
    CU_ASSERT_EQUAL(ts_close(f->b, lfd), 0);
    CU_ASSERT(af_counter(f->b, "tcp", "conns_time_wait") == 1);
    int n = af_socket(f->b, SOCK_STREAM);
    AF_FAILS(af_bind(f->b, n, 0, SA_PORT), EADDRINUSE);
    CU_ASSERT_EQUAL(af_setint(f->b, n, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    CU_ASSERT_EQUAL(af_bind(f->b, n, 0, SA_PORT), 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, n, 4), 0);
    /* A listener still blocks the port, SO_REUSEADDR or not. */
    int m = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(af_setint(f->b, m, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    AF_FAILS(af_bind(f->b, m, 0, SA_PORT), EADDRINUSE);
    /* And the new listener serves a new connection. */
    int c2 = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, c2, AF_IP_B, SA_PORT), 0);
    CU_ASSERT(af_accept(f->b, n) >= 0);
    af_close(f);
}

static void test_listen_errors(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    AF_FAILS(ts_listen(f->b, t, 4), EDESTADDRREQ);      /* not bound */
    int u = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT_EQUAL(af_bind(f->b, u, 0, SA_PORT), 0);
    AF_FAILS(ts_listen(f->b, u, 4), EOPNOTSUPP);
    CU_ASSERT_EQUAL(af_bind(f->b, t, 0, SA_PORT), 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, t, 0), 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, t, 100000), 0);     /* again: no-op */
    int c, s;
    if (af_pair(f, SA_PORT + 1, &c, &s) == 0) {
        AF_FAILS(ts_listen(f->a, c, 4), EINVAL);
        AF_FAILS(ts_listen(f->b, s, 4), EINVAL);
    }
    af_close(f);
}

static void test_accept_errors(void)
{
    struct af *f = af_open(0);
    int t = af_socket(f->b, SOCK_STREAM);
    int u = af_socket(f->b, SOCK_DGRAM);
    AF_FAILS(ts_accept(f->b, t, NULL, NULL), EINVAL);
    AF_FAILS(ts_accept(f->b, u, NULL, NULL), EINVAL);
    CU_ASSERT_EQUAL(af_bind(f->b, t, 0, SA_PORT), 0);
    AF_FAILS(ts_accept(f->b, t, NULL, NULL), EINVAL);   /* bound, no listen */
    int c, s;
    if (af_pair(f, SA_PORT + 1, &c, &s) == 0) {
        AF_FAILS(ts_accept(f->a, c, NULL, NULL), EINVAL);
        AF_FAILS(ts_accept(f->b, s, NULL, NULL), EINVAL);
    }
    af_close(f);
}

static void test_accept_nonblocking(void)
{
    struct af *f = af_open(0);
    int l1 = ts_socket(f->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CU_ASSERT_EQUAL(af_bind(f->b, l1, 0, SA_PORT), 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, l1, 4), 0);
    AF_FAILS(ts_accept(f->b, l1, NULL, NULL), EAGAIN);
    int l2 = af_listener(f->b, SA_PORT + 1);
    CU_ASSERT_EQUAL(ts_fcntl(f->b, l2, F_SETFL, O_NONBLOCK), 0);
    AF_FAILS(ts_accept(f->b, l2, NULL, NULL), EAGAIN);
    /* Once a connection is queued, a non-blocking accept takes it. */
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, c, AF_IP_B, SA_PORT), 0);
    struct pollfd p = { .fd = l1, .events = POLLIN };
    CU_ASSERT_EQUAL(ts_poll(f->b, &p, 1, AF_TIMEO_MS), 1);
    struct sockaddr_in peer, mine;
    socklen_t plen = sizeof peer, mlen = sizeof mine;
    CU_ASSERT(ts_accept(f->b, l1, AF_SA(peer), &plen) >= 0);
    CU_ASSERT_EQUAL(ts_getsockname(f->a, c, AF_SA(mine), &mlen), 0);
    CU_ASSERT_EQUAL(plen, sizeof peer);
    CU_ASSERT_EQUAL(peer.sin_family, AF_INET);
    CU_ASSERT_EQUAL(ntohl(peer.sin_addr.s_addr), AF_IP_A);
    CU_ASSERT_EQUAL(peer.sin_port, mine.sin_port);
    AF_FAILS(ts_accept(f->b, l1, NULL, NULL), EAGAIN);
    af_close(f);
}

static void test_accept_timeout(void)
{
    struct af *f = af_open(0);
    int l = af_listener(f->b, SA_PORT);
    CU_ASSERT_EQUAL(af_timeo(f->b, l, 150), 0);
    uint64_t t0 = af_now_ms();
    AF_FAILS(ts_accept(f->b, l, NULL, NULL), EAGAIN);
    CU_ASSERT(af_now_ms() - t0 >= 150 - AF_MARGIN_MS);
    af_close(f);
}

static void test_connect_refused(void)
{
    struct af *f = af_open(0);
    int c = af_socket(f->a, SOCK_STREAM);
    AF_FAILS(af_connect(f->a, c, AF_IP_B, SA_PORT), ECONNREFUSED);
    /* reported */
    CU_ASSERT_EQUAL(af_getint(f->a, c, SOL_SOCKET, SO_ERROR), 0);
    char ch;
    CU_ASSERT_EQUAL(ts_recv(f->a, c, &ch, 1, MSG_DONTWAIT), -1);
    CU_ASSERT_EQUAL(ts_close(f->a, c), 0);
    af_close(f);
}

static void test_connect_nonblocking(void)
{
    struct af *f = af_open(0);
    int l = af_listener(f->b, SA_PORT);
    int c = ts_socket(f->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    AF_FAILS(af_connect(f->a, c, AF_IP_B, SA_PORT), EINPROGRESS);
    struct pollfd p = { .fd = c, .events = POLLOUT };
    CU_ASSERT_EQUAL(ts_poll(f->a, &p, 1, AF_TIMEO_MS), 1);
    CU_ASSERT_EQUAL(p.revents, POLLOUT);
    CU_ASSERT_EQUAL(af_getint(f->a, c, SOL_SOCKET, SO_ERROR), 0);
    AF_FAILS(af_connect(f->a, c, AF_IP_B, SA_PORT), EISCONN);
    int s = af_accept(f->b, l);
    CU_ASSERT(s >= 0);
    CU_ASSERT_EQUAL(ts_send(f->a, c, "hi", 2, 0), 2);
    char buf[2];
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 2), 2);
    CU_ASSERT_EQUAL(memcmp(buf, "hi", 2), 0);
    af_close(f);
}

static void test_connect_nonblocking_refused(void)
{
    struct af *f = af_open(0);
    int c = ts_socket(f->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    AF_FAILS(af_connect(f->a, c, AF_IP_B, SA_PORT), EINPROGRESS);
    struct pollfd p = { .fd = c, .events = POLLOUT };
    CU_ASSERT_EQUAL(ts_poll(f->a, &p, 1, AF_TIMEO_MS), 1);
    CU_ASSERT(p.revents & POLLERR);
    CU_ASSERT_EQUAL(af_getint(f->a, c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
    /* cleared */
    CU_ASSERT_EQUAL(af_getint(f->a, c, SOL_SOCKET, SO_ERROR), 0);
    /* Connecting again tells the outcome too (not EISCONN, not EALREADY). */
    AF_FAILS(af_connect(f->a, c, AF_IP_B, SA_PORT), ECONNREFUSED);
    af_close(f);
}

static void test_connect_twice(void)
{
    struct af *f = af_open(0);
    int l = af_listener(f->b, SA_PORT);
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, c, AF_IP_B, SA_PORT), 0);
    AF_FAILS(af_connect(f->a, c, AF_IP_B, SA_PORT), EISCONN);
    AF_FAILS(af_connect(f->a, c, AF_IP_B, SA_PORT + 1), EISCONN);
    /* Nobody answers 10.0.0.3: the first attempt is still going on. */
    int n = ts_socket(f->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    AF_FAILS(af_connect(f->a, n, AF_IP_NOBODY, SA_PORT), EINPROGRESS);
    AF_FAILS(af_connect(f->a, n, AF_IP_NOBODY, SA_PORT), EALREADY);
    struct pollfd p = { .fd = n, .events = POLLOUT };
    CU_ASSERT_EQUAL(ts_poll(f->a, &p, 1, 0), 0);
    CU_ASSERT_EQUAL(ts_close(f->a, n), 0);
    CU_ASSERT_EQUAL(ts_close(f->b, l), 0);
    af_close(f);
}

static void test_connect_bad_args(void)
{
    struct af *f = af_open(0);
    int c = af_socket(f->a, SOCK_STREAM);
    struct sockaddr_in sin = af_sin(AF_IP_B, SA_PORT);
    AF_FAILS(ts_connect(f->a, c, AF_SA(sin), 8), EINVAL);
    AF_FAILS(ts_connect(f->a, c, NULL, sizeof sin), EINVAL);
    sin.sin_family = AF_UNIX;
    AF_FAILS(ts_connect(f->a, c, AF_SA(sin), sizeof sin), EAFNOSUPPORT);
    AF_FAILS(af_connect(f->a, c, AF_IP_B, 0), EINVAL);
    AF_FAILS(af_connect(f->a, c, AF_IP_BCAST, SA_PORT), EINVAL);
    /* multicast */
    AF_FAILS(af_connect(f->a, c, 0xe0000001u, SA_PORT), EINVAL);
    int l = af_listener(f->a, SA_PORT);
    AF_FAILS(af_connect(f->a, l, AF_IP_B, SA_PORT), EINVAL);
    af_close(f);
}

/* A blocking connect nobody answers ends when SO_SNDTIMEO runs out. */
static void test_connect_timeout(void)
{
    struct af *f = af_open(0);
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_timeo(f->a, c, 150), 0);
    uint64_t t0 = af_now_ms();
    errno = 0;
    CU_ASSERT_EQUAL(af_connect(f->a, c, AF_IP_NOBODY, SA_PORT), -1);
    CU_ASSERT(errno == ETIMEDOUT || errno == EINPROGRESS);
    CU_ASSERT(af_now_ms() - t0 >= 150 - AF_MARGIN_MS);
    af_close(f);
}

/* One ts_stack_open that must fail with EINVAL; the wire's other end is
 * ours to close (the failed open closes the end it was given). */
static void sa_open_fails(const char *addr, const char *gw, unsigned mtu)
{
    struct netdev *da, *db;
    CU_ASSERT_FATAL(memdev_pair(&da, &db, 16, 1500) == 0);
    struct ts_stack_config c;
    ts_stack_config_init(&c);
    c.dev = da;
    c.addr = addr;
    c.gateway = gw;
    c.mtu = mtu;
    c.log_level = 0;
    errno = 0;
    struct ts_stack *st = ts_stack_open(&c);
    CU_ASSERT_PTR_NULL(st);
    CU_ASSERT_EQUAL(errno, EINVAL);
    if (st)
        ts_stack_close(st);
    netdev_close(db);
}

static void test_stack_open_bad_config(void)
{
    sa_open_fails("10.0.0.300/24", NULL, 1500);
    sa_open_fails("10.0.0.1/33", NULL, 1500);
    sa_open_fails("10.0.0.1", NULL, 1500);
    sa_open_fails("ten.zero.zero.one/8", NULL, 1500);
    sa_open_fails("", NULL, 1500);
    sa_open_fails(NULL, NULL, 1500);
    sa_open_fails("10.0.0.1/24", "10.0.0.x", 1500);
    sa_open_fails("10.0.0.1/24", NULL, 20);         /* below IPv4's 68 */
    sa_open_fails("10.0.0.1/24", NULL, 65000);
}

/* Closing a stack with every kind of socket open frees everything (the
 * ASan build's LeakSanitizer checks) and resets its connections: the
 * other stack's end sees ECONNRESET. */
static void test_stack_close_with_sockets(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, SA_PORT, &c, &s) == 0);
    CU_ASSERT(af_listener(f->a, SA_PORT + 1) >= 0);
    CU_ASSERT(ts_socket(f->a, AF_INET, SOCK_STREAM, 0) >= 0);
    int u = ts_socket(f->a, AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT_EQUAL(af_bind(f->a, u, 0, SA_PORT), 0);
    int ub = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = af_sin(AF_IP_A, SA_PORT);
    CU_ASSERT_EQUAL(ts_sendto(f->b, ub, "q", 1, 0, AF_SA(to), sizeof to), 1);
    int n = ts_socket(f->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    AF_FAILS(af_connect(f->a, n, AF_IP_NOBODY, SA_PORT), EINPROGRESS);
    CU_ASSERT_EQUAL(ts_send(f->b, s, "unread", 6, 0), 6);
    CU_ASSERT_EQUAL(ts_send(f->a, c, "unread", 6, 0), 6);
    char buf[8];
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 3), 3);   /* data did flow */
    ts_stack_close(f->a);
    f->a = NULL;
    /* The rest of "unread" may come first, then the reset. */
    for (int i = 0; i < 4 && ts_recv(f->b, s, buf, sizeof buf, 0) > 0; i++)
        ;
    AF_FAILS(ts_recv(f->b, s, buf, sizeof buf, 0), ECONNRESET);
    af_close(f);
}

TS_SUITE(socket_api,
         TS_TEST(test_socket_bad_args),
         TS_TEST(test_socket_table_full),
         TS_TEST(test_accept_table_full),
         TS_TEST(test_close_bad_fd),
         TS_TEST(test_calls_on_bad_fd),
         TS_TEST(test_bind_in_use),
         TS_TEST(test_bind_bad_address),
         TS_TEST(test_bind_port_zero),
         TS_TEST(test_reuseaddr_time_wait),
         TS_TEST(test_listen_errors),
         TS_TEST(test_accept_errors),
         TS_TEST(test_accept_nonblocking),
         TS_TEST(test_accept_timeout),
         TS_TEST(test_connect_refused),
         TS_TEST(test_connect_nonblocking),
         TS_TEST(test_connect_nonblocking_refused),
         TS_TEST(test_connect_twice),
         TS_TEST(test_connect_bad_args),
         TS_TEST(test_connect_timeout),
         TS_TEST(test_stack_open_bad_config),
         TS_TEST(test_stack_close_with_sockets))
