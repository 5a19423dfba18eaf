/* tests/unit/test_socket_opts.c - names, socket options and ts_fcntl
 * (suite `socket_opts`).
 *
 * Two threaded stacks on an in-memory wire (tests/unit/api_fixture.h),
 * opened fresh for each test. Covers ts_getsockname and ts_getpeername
 * (connected both ways, unconnected: ENOTCONN, a short buffer), every
 * option's default and set/get round trip (SO_REUSEADDR, SO_KEEPALIVE,
 * SO_RCVBUF, SO_SNDBUF, SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO, SO_BROADCAST,
 * SO_TYPE, SO_ERROR, TCP_NODELAY), options on connections and inherited
 * from a listener, ENOPROTOOPT and the other errors, and ts_fcntl's
 * F_GETFL/F_SETFL with O_NONBLOCK.
 */
#include <fcntl.h>
#include <netinet/tcp.h>

#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define OP_PORT 5001

static void op_check_sin(const struct sockaddr_in *s, uint32_t ip,
                         uint16_t port)
{
    CU_ASSERT_EQUAL(s->sin_family, AF_INET);
    CU_ASSERT_EQUAL(ntohl(s->sin_addr.s_addr), ip);
    if (port)
        CU_ASSERT_EQUAL(ntohs(s->sin_port), port);
}

static void test_names(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, OP_PORT, &c, &s) == 0);
    struct sockaddr_in cn, cp, sn, sp;
    socklen_t l1 = sizeof cn, l2 = sizeof cp, l3 = sizeof sn, l4 = sizeof sp;
    CU_ASSERT_EQUAL(ts_getsockname(f->a, c, AF_SA(cn), &l1), 0);
    CU_ASSERT_EQUAL(ts_getpeername(f->a, c, AF_SA(cp), &l2), 0);
    CU_ASSERT_EQUAL(ts_getsockname(f->b, s, AF_SA(sn), &l3), 0);
    CU_ASSERT_EQUAL(ts_getpeername(f->b, s, AF_SA(sp), &l4), 0);
    CU_ASSERT(l1 == sizeof cn && l2 == sizeof cp && l3 == sizeof sn
              && l4 == sizeof sp);
    op_check_sin(&cn, AF_IP_A, 0);
    CU_ASSERT(ntohs(cn.sin_port) >= 49152);             /* ephemeral */
    op_check_sin(&cp, AF_IP_B, OP_PORT);
    op_check_sin(&sn, AF_IP_B, OP_PORT);
    op_check_sin(&sp, AF_IP_A, ntohs(cn.sin_port));
    /* A short buffer gets the start of the address and the full length. */
    uint8_t small[4];
    socklen_t sl = sizeof small;
    CU_ASSERT_EQUAL(ts_getpeername(f->a, c, (struct sockaddr *)small, &sl), 0);
    CU_ASSERT_EQUAL(sl, sizeof(struct sockaddr_in));
    CU_ASSERT_EQUAL(memcmp(small, &cp, sizeof small), 0);
    AF_FAILS(ts_getsockname(f->a, c, NULL, &l1), EFAULT);
    af_close(f);
}

static void test_names_unconnected(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->b, AF_INET, SOCK_STREAM, 0);
    int u = ts_socket(f->b, AF_INET, SOCK_DGRAM, 0);
    int l = af_listener(f->b, OP_PORT);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    AF_FAILS(ts_getpeername(f->b, t, AF_SA(sin), &len), ENOTCONN);
    AF_FAILS(ts_getpeername(f->b, u, AF_SA(sin), &len), ENOTCONN);
    AF_FAILS(ts_getpeername(f->b, l, AF_SA(sin), &len), ENOTCONN);
    CU_ASSERT_EQUAL(ts_getsockname(f->b, t, AF_SA(sin), &len), 0);
    op_check_sin(&sin, 0, 0);
    CU_ASSERT_EQUAL(sin.sin_port, 0);
    CU_ASSERT_EQUAL(ts_getsockname(f->b, l, AF_SA(sin), &len), 0);
    op_check_sin(&sin, 0, OP_PORT);
    CU_ASSERT_EQUAL(af_bind(f->b, u, AF_IP_B, OP_PORT + 1), 0);
    CU_ASSERT_EQUAL(ts_getsockname(f->b, u, AF_SA(sin), &len), 0);
    op_check_sin(&sin, AF_IP_B, OP_PORT + 1);
    af_close(f);
}

/* Defaults of a fresh socket, as getsockopt reports them. */
static void test_sockopt_defaults(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_REUSEADDR), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_KEEPALIVE), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_BROADCAST), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_ERROR), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_SNDBUF), 256 * 1024);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_RCVBUF), 256 * 1024);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_TCP, TCP_NODELAY), 0);
    struct linger lg = { 9, 9 };
    struct timeval tv = { 9, 9 };
    socklen_t len = sizeof lg;
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, t, SOL_SOCKET, SO_LINGER, &lg, &len),
                    0);
    CU_ASSERT(len == sizeof lg && lg.l_onoff == 0 && lg.l_linger == 0);
    len = sizeof tv;
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, t, SOL_SOCKET, SO_RCVTIMEO, &tv, &len),
                    0);
    CU_ASSERT(len == sizeof tv && tv.tv_sec == 0 && tv.tv_usec == 0);
    af_close(f);
}

static void op_int_roundtrip(struct ts_stack *st, int fd, int level, int name,
                             int set, int want)
{
    CU_ASSERT_EQUAL(af_setint(st, fd, level, name, set), 0);
    CU_ASSERT_EQUAL(af_getint(st, fd, level, name), want);
}

static void op_timeo_roundtrip(struct ts_stack *st, int fd, int name,
                               struct timeval set, struct timeval want)
{
    struct timeval got = { -1, -1 };
    socklen_t len = sizeof got;
    CU_ASSERT_EQUAL(ts_setsockopt(st, fd, SOL_SOCKET, name, &set, sizeof set),
                    0);
    CU_ASSERT_EQUAL(ts_getsockopt(st, fd, SOL_SOCKET, name, &got, &len), 0);
    CU_ASSERT_EQUAL(len, sizeof got);
    CU_ASSERT(got.tv_sec == want.tv_sec && got.tv_usec == want.tv_usec);
}

static void test_sockopt_roundtrip(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    int u = ts_socket(f->a, AF_INET, SOCK_DGRAM, 0);
    op_int_roundtrip(f->a, t, SOL_SOCKET, SO_REUSEADDR, 5, 1);
    op_int_roundtrip(f->a, t, SOL_SOCKET, SO_REUSEADDR, 0, 0);
    op_int_roundtrip(f->a, t, SOL_SOCKET, SO_KEEPALIVE, 1, 1);
    op_int_roundtrip(f->a, t, SOL_SOCKET, SO_RCVBUF, 65536, 65536);
    op_int_roundtrip(f->a, t, SOL_SOCKET, SO_SNDBUF, 32768, 32768);
    op_int_roundtrip(f->a, t, SOL_SOCKET, SO_SNDBUF, 100, 2048);   /* clamped */
    op_int_roundtrip(f->a, t, IPPROTO_TCP, TCP_NODELAY, 1, 1);
    op_int_roundtrip(f->a, t, IPPROTO_TCP, TCP_NODELAY, 0, 0);
    op_int_roundtrip(f->a, u, SOL_SOCKET, SO_BROADCAST, 1, 1);
    op_int_roundtrip(f->a, u, SOL_SOCKET, SO_BROADCAST, 0, 0);
    struct timeval a = { 1, 250000 }, b = { 0, 1500 }, b2 = { 0, 2000 };
    op_timeo_roundtrip(f->a, t, SO_RCVTIMEO, a, a);
    op_timeo_roundtrip(f->a, t, SO_SNDTIMEO, b, b2);    /* whole ms, up */
    struct linger lg = { 1, 7 }, got = { 0, 0 };
    socklen_t len = sizeof got;
    CU_ASSERT_EQUAL(ts_setsockopt(f->a, t, SOL_SOCKET, SO_LINGER, &lg,
                                  sizeof lg), 0);
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, t, SOL_SOCKET, SO_LINGER, &got, &len),
                    0);
    CU_ASSERT(got.l_onoff == 1 && got.l_linger == 7);
    af_close(f);
}

/* Options set on a connection reach it; the listener's pass to accepted
 * sockets. */
static void test_sockopt_connected(void)
{
    struct af *f = af_open(0);
    int l = af_listener(f->b, OP_PORT);
    CU_ASSERT_EQUAL(af_setint(f->b, l, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    CU_ASSERT_EQUAL(af_setint(f->b, l, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, c, AF_IP_B, OP_PORT), 0);
    int s = af_accept(f->b, l);
    CU_ASSERT_FATAL(s >= 0);
    CU_ASSERT_EQUAL(af_getint(f->b, s, IPPROTO_TCP, TCP_NODELAY), 1);
    CU_ASSERT_EQUAL(af_getint(f->b, s, SOL_SOCKET, SO_KEEPALIVE), 1);
    CU_ASSERT_EQUAL(af_getint(f->b, s, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    op_int_roundtrip(f->a, c, IPPROTO_TCP, TCP_NODELAY, 1, 1);
    op_int_roundtrip(f->a, c, SOL_SOCKET, SO_KEEPALIVE, 1, 1);
    op_int_roundtrip(f->a, c, SOL_SOCKET, SO_KEEPALIVE, 0, 0);
    CU_ASSERT_EQUAL(ts_send(f->a, c, "abc", 3, 0), 3);      /* still works */
    char buf[3];
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 3), 3);
    af_close(f);
}

/* The options programs set beyond the basics (tapstack-run's programs ask
 * for them): values, defaults, ranges, and inheritance by accept. */
static void test_sockopt_more(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    int u = ts_socket(f->a, AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_DOMAIN), AF_INET);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
    CU_ASSERT_EQUAL(af_getint(f->a, u, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_ACCEPTCONN), 0);
    CU_ASSERT_EQUAL(af_setint(f->a, t, SOL_SOCKET, SO_REUSEPORT, 1), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, SOL_SOCKET, SO_REUSEPORT), 1);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_TCP, TCP_KEEPINTVL), 75);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_TCP, TCP_KEEPCNT), 9);
    CU_ASSERT_EQUAL(af_setint(f->a, t, IPPROTO_TCP, TCP_KEEPIDLE, 30), 0);
    CU_ASSERT_EQUAL(af_setint(f->a, t, IPPROTO_TCP, TCP_KEEPINTVL, 5), 0);
    CU_ASSERT_EQUAL(af_setint(f->a, t, IPPROTO_TCP, TCP_KEEPCNT, 3), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_TCP, TCP_KEEPIDLE), 30);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_TCP, TCP_KEEPCNT), 3);
    AF_FAILS(af_setint(f->a, t, IPPROTO_TCP, TCP_KEEPIDLE, 0), EINVAL);
    AF_FAILS(af_setint(f->a, t, IPPROTO_TCP, TCP_KEEPCNT, 128), EINVAL);
    AF_FAILS(af_setint(f->a, u, IPPROTO_TCP, TCP_KEEPIDLE, 30), ENOPROTOOPT);
    CU_ASSERT_EQUAL(af_getint(f->a, u, IPPROTO_IP, IP_TTL), 64);
    CU_ASSERT_EQUAL(af_setint(f->a, u, IPPROTO_IP, IP_TTL, 9), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, u, IPPROTO_IP, IP_TTL), 9);
    CU_ASSERT_EQUAL(af_setint(f->a, u, IPPROTO_IP, IP_TTL, -1), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, u, IPPROTO_IP, IP_TTL), 64);
    AF_FAILS(af_setint(f->a, u, IPPROTO_IP, IP_TTL, 0), EINVAL);
    AF_FAILS(af_setint(f->a, u, IPPROTO_IP, IP_TTL, 256), EINVAL);
    CU_ASSERT_EQUAL(af_setint(f->a, t, IPPROTO_IP, IP_TOS, 0x10), 0);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_IP, IP_TOS), 0x10);
    int l = af_listener(f->b, 7100);
    CU_ASSERT_EQUAL(af_getint(f->b, l, SOL_SOCKET, SO_ACCEPTCONN), 1);
    CU_ASSERT_EQUAL(af_setint(f->b, l, IPPROTO_TCP, TCP_KEEPIDLE, 44), 0);
    CU_ASSERT_EQUAL(af_connect(f->a, t, AF_IP_B, 7100), 0);
    int s = af_accept(f->b, l);
    CU_ASSERT_EQUAL(af_getint(f->b, s, IPPROTO_TCP, TCP_KEEPIDLE), 44);
    CU_ASSERT_EQUAL(af_getint(f->a, t, IPPROTO_TCP, TCP_MAXSEG), 1460);
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, t, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    CU_ASSERT_EQUAL(tl, sizeof ti);
    CU_ASSERT_EQUAL(ti.tcpi_state, 1);          /* Linux's TCP_ESTABLISHED */
    CU_ASSERT_EQUAL(ti.tcpi_snd_mss, 1460);
    CU_ASSERT(ti.tcpi_snd_cwnd >= 1);
    CU_ASSERT(ti.tcpi_rto >= 200000);
    tl = 8;                                     /* truncated, as Linux does */
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, t, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    CU_ASSERT_EQUAL(tl, 8);
    af_close(f);
}

static void test_sockopt_errors(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    int u = ts_socket(f->a, AF_INET, SOCK_DGRAM, 0);
    int v = 1;
    socklen_t len = sizeof v;
    AF_FAILS(af_setint(f->a, t, SOL_SOCKET, SO_PRIORITY, 1), ENOPROTOOPT);
    AF_FAILS(ts_getsockopt(f->a, t, SOL_SOCKET, SO_PRIORITY, &v, &len),
             ENOPROTOOPT);
    AF_FAILS(af_setint(f->a, t, IPPROTO_IP, IP_MTU_DISCOVER, 0), ENOPROTOOPT);
    AF_FAILS(ts_getsockopt(f->a, t, IPPROTO_IP, IP_MTU_DISCOVER, &v, &len),
             ENOPROTOOPT);
    AF_FAILS(af_setint(f->a, t, IPPROTO_TCP, 99, 1), ENOPROTOOPT);
    AF_FAILS(af_setint(f->a, t, SOL_SOCKET, SO_TYPE, SOCK_DGRAM), ENOPROTOOPT);
    AF_FAILS(af_setint(f->a, u, IPPROTO_TCP, TCP_NODELAY, 1), ENOPROTOOPT);
    short tiny = 1;
    AF_FAILS(ts_setsockopt(f->a, t, SOL_SOCKET, SO_KEEPALIVE, &tiny,
                           sizeof tiny), EINVAL);
    AF_FAILS(ts_setsockopt(f->a, t, SOL_SOCKET, SO_KEEPALIVE, NULL, sizeof v),
             EINVAL);
    struct timeval bad = { 0, 1000000 };
    AF_FAILS(ts_setsockopt(f->a, t, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof bad),
             EDOM);
    struct linger lg = { 1, 1 };
    AF_FAILS(ts_setsockopt(f->a, t, SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);
    socklen_t small = 2;
    AF_FAILS(ts_getsockopt(f->a, t, SOL_SOCKET, SO_REUSEADDR, &v, &small),
             EINVAL);
    AF_FAILS(ts_getsockopt(f->a, t, SOL_SOCKET, SO_REUSEADDR, &v, NULL),
             EINVAL);
    af_close(f);
}

static void test_fcntl(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    int n = ts_socket(f->a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    CU_ASSERT_EQUAL(ts_fcntl(f->a, t, F_GETFL, 0) & O_NONBLOCK, 0);
    CU_ASSERT_EQUAL(ts_fcntl(f->a, t, F_GETFL, 0) & O_ACCMODE, O_RDWR);
    CU_ASSERT(ts_fcntl(f->a, n, F_GETFL, 0) & O_NONBLOCK);
    CU_ASSERT_EQUAL(ts_fcntl(f->a, t, F_SETFL, O_NONBLOCK), 0);
    CU_ASSERT(ts_fcntl(f->a, t, F_GETFL, 0) & O_NONBLOCK);
    CU_ASSERT_EQUAL(ts_fcntl(f->a, n, F_SETFL, 0), 0);
    CU_ASSERT_EQUAL(ts_fcntl(f->a, n, F_GETFL, 0) & O_NONBLOCK, 0);
    AF_FAILS(ts_fcntl(f->a, t, F_GETFD, 0), EINVAL);
    AF_FAILS(ts_fcntl(f->a, t, F_DUPFD, 0), EINVAL);
    /* The flag is what the calls obey: a non-blocking recv does not wait. */
    CU_ASSERT_EQUAL(ts_fcntl(f->a, n, F_SETFL, O_NONBLOCK), 0);
    char ch;
    AF_FAILS(ts_recv(f->a, n, &ch, 1, 0), EAGAIN);
    af_close(f);
}

TS_SUITE(socket_opts,
         TS_TEST(test_names),
         TS_TEST(test_names_unconnected),
         TS_TEST(test_sockopt_defaults),
         TS_TEST(test_sockopt_roundtrip),
         TS_TEST(test_sockopt_connected),
         TS_TEST(test_sockopt_more),
         TS_TEST(test_sockopt_errors),
         TS_TEST(test_fcntl))
