/* tests/unit/test_socket_udp.c - UDP through the socket API (suite
 * `socket_udp`).
 *
 * Two threaded stacks on an in-memory wire (tests/unit/api_fixture.h).
 * Covers sendto/recvfrom byte-exact with the right source address,
 * datagrams of 0 to 8000 bytes (fragmented over the 1500-byte MTU),
 * truncation to a short buffer, connect() then send/recv (and the filter
 * a connected socket applies), ICMP port unreachable for a closed port,
 * broadcast with and without SO_BROADCAST, time-outs, and bad arguments.
 */
#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define UP_A 5000
#define UP_B 6000

static int up_bound(struct ts_stack *st, uint32_t ip, uint16_t port)
{
    int fd = af_socket(st, SOCK_DGRAM);
    struct sockaddr_in sin = af_sin(ip, port);
    CU_ASSERT_EQUAL(ts_bind(st, fd, AF_SA(sin), sizeof sin), 0);
    return fd;
}

static ssize_t up_sendto(struct ts_stack *st, int fd, const void *buf,
                         size_t len, uint32_t ip, uint16_t port)
{
    struct sockaddr_in to = af_sin(ip, port);
    return ts_sendto(st, fd, buf, len, 0, AF_SA(to), sizeof to);
}

/* recvfrom, asserting the sender's address. */
static ssize_t up_recv_from(struct ts_stack *st, int fd, void *buf, size_t len,
                            uint32_t ip, uint16_t port)
{
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    memset(&from, 0, sizeof from);
    ssize_t n = ts_recvfrom(st, fd, buf, len, 0, AF_SA(from), &flen);
    if (n >= 0) {
        CU_ASSERT_EQUAL(flen, sizeof from);
        CU_ASSERT_EQUAL(from.sin_family, AF_INET);
        CU_ASSERT_EQUAL(ntohl(from.sin_addr.s_addr), ip);
        CU_ASSERT_EQUAL(ntohs(from.sin_port), port);
    }
    return n;
}

static void test_udp_sendto_recvfrom(void)
{
    struct af *f = af_open(0);
    int a = up_bound(f->a, 0, UP_A);
    int b = up_bound(f->b, AF_IP_B, UP_B);
    char buf[16];
    CU_ASSERT_EQUAL(up_sendto(f->a, a, "ping", 4, AF_IP_B, UP_B), 4);
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, buf, sizeof buf, AF_IP_A, UP_A), 4);
    CU_ASSERT_EQUAL(memcmp(buf, "ping", 4), 0);
    CU_ASSERT_EQUAL(up_sendto(f->b, b, "pong!", 5, AF_IP_A, UP_A), 5);
    CU_ASSERT_EQUAL(up_recv_from(f->a, a, buf, sizeof buf, AF_IP_B, UP_B), 5);
    CU_ASSERT_EQUAL(memcmp(buf, "pong!", 5), 0);
    /* An unbound sender gets an ephemeral port, the one the peer sees. */
    int e = af_socket(f->a, SOCK_DGRAM);
    CU_ASSERT_EQUAL(up_sendto(f->a, e, "eph", 3, AF_IP_B, UP_B), 3);
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    CU_ASSERT_EQUAL(ts_getsockname(f->a, e, AF_SA(me), &len), 0);
    CU_ASSERT(ntohs(me.sin_port) != 0);
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, buf, sizeof buf, AF_IP_A,
                                 ntohs(me.sin_port)), 3);
    af_close(f);
}

/* Sizes around the MTU's edges: 1472 is the most one 1500-byte frame
 * carries; 2952 is two full fragments. */
static void test_udp_sizes(void)
{
    static const size_t sizes[] = { 0, 1, 2, 100, 1471, 1472, 1473, 1480,
                                    2951, 2952, 2953, 4000, 5000, 7999, 8000 };
    static uint8_t out[8000], in[9000];
    struct af *f = af_open(0);
    int a = up_bound(f->a, 0, UP_A);
    int b = up_bound(f->b, 0, UP_B);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        af_pattern(out, n, (uint32_t)i, 0);
        CU_ASSERT_EQUAL(up_sendto(f->a, a, out, n, AF_IP_B, UP_B), (ssize_t)n);
        memset(in, 0xee, sizeof in);
        ssize_t got = up_recv_from(f->b, b, in, sizeof in, AF_IP_A, UP_A);
        CU_ASSERT_EQUAL(got, (ssize_t)n);
        CU_ASSERT(got == (ssize_t)n && af_expect(in, n, (uint32_t)i, 0));
        CU_ASSERT_EQUAL(in[n], 0xee);               /* nothing past it */
    }
    /* Each size, all in flight at once, the other way. */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        af_pattern(out, sizes[i], (uint32_t)i + 100, 0);
        CU_ASSERT_EQUAL(up_sendto(f->b, b, out, sizes[i], AF_IP_A, UP_A),
                        (ssize_t)sizes[i]);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ssize_t got = up_recv_from(f->a, a, in, sizeof in, AF_IP_B, UP_B);
        CU_ASSERT_EQUAL(got, (ssize_t)sizes[i]);
        CU_ASSERT(af_expect(in, sizes[i], (uint32_t)i + 100, 0));
    }
    af_close(f);
}

/* One datagram each way, so that both stacks know each other's MAC: until
 * then ARP holds only the last few packets (fragments count singly). */
static void up_hello(struct af *f, int a, int b)
{
    char ch;
    CU_ASSERT_EQUAL(up_sendto(f->a, a, "h", 1, AF_IP_B, UP_B), 1);
    CU_ASSERT_EQUAL(ts_recv(f->b, b, &ch, 1, 0), 1);
    CU_ASSERT_EQUAL(up_sendto(f->b, b, "h", 1, AF_IP_A, UP_A), 1);
    CU_ASSERT_EQUAL(ts_recv(f->a, a, &ch, 1, 0), 1);
}

/* A short buffer gets the start of the datagram; the rest is gone. */
static void test_udp_truncation(void)
{
    static uint8_t out[3000], in[3000];
    struct af *f = af_open(0);
    int a = up_bound(f->a, 0, UP_A);
    int b = up_bound(f->b, 0, UP_B);
    up_hello(f, a, b);
    af_pattern(out, sizeof out, 9, 0);
    CU_ASSERT_EQUAL(up_sendto(f->a, a, out, 1000, AF_IP_B, UP_B), 1000);
    CU_ASSERT_EQUAL(up_sendto(f->a, a, out, 3000, AF_IP_B, UP_B), 3000);
    CU_ASSERT_EQUAL(up_sendto(f->a, a, "next", 4, AF_IP_B, UP_B), 4);
    memset(in, 0, sizeof in);
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, in, 100, AF_IP_A, UP_A), 100);
    CU_ASSERT(af_expect(in, 100, 9, 0));
    CU_ASSERT_EQUAL(in[100], 0);
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, in, 10, AF_IP_A, UP_A), 10);
    CU_ASSERT(af_expect(in, 10, 9, 0));
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, in, sizeof in, AF_IP_A, UP_A), 4);
    CU_ASSERT_EQUAL(memcmp(in, "next", 4), 0);
    CU_ASSERT_EQUAL(up_sendto(f->a, a, "zz", 2, AF_IP_B, UP_B), 2);
    CU_ASSERT_EQUAL(ts_recv(f->b, b, in, 0, 0), 0);     /* all discarded */
    AF_FAILS(ts_recv(f->b, b, in, sizeof in, MSG_DONTWAIT), EAGAIN);
    af_close(f);
}

static void test_udp_connect(void)
{
    struct af *f = af_open(0);
    int a = af_socket(f->a, SOCK_DGRAM);
    int b = up_bound(f->b, 0, UP_B);
    int other = up_bound(f->b, 0, UP_B + 1);
    struct sockaddr_in to = af_sin(AF_IP_B, UP_B), me;
    CU_ASSERT_EQUAL(ts_connect(f->a, a, AF_SA(to), sizeof to), 0);
    socklen_t len = sizeof me;
    CU_ASSERT_EQUAL(ts_getsockname(f->a, a, AF_SA(me), &len), 0);
    uint16_t port = ntohs(me.sin_port);
    CU_ASSERT(port != 0);                   /* connect bound a port */
    char buf[8];
    CU_ASSERT_EQUAL(ts_send(f->a, a, "up", 2, 0), 2);
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, buf, sizeof buf, AF_IP_A, port), 2);
    /* Only the connected peer's datagrams are received; the wire keeps
     * order, so once the second arrived the first was seen and dropped. */
    CU_ASSERT_EQUAL(up_sendto(f->b, other, "no", 2, AF_IP_A, port), 2);
    CU_ASSERT_EQUAL(up_sendto(f->b, b, "yes", 3, AF_IP_A, port), 3);
    CU_ASSERT_EQUAL(ts_recv(f->a, a, buf, sizeof buf, 0), 3);
    CU_ASSERT_EQUAL(memcmp(buf, "yes", 3), 0);
    AF_FAILS(ts_recv(f->a, a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    af_close(f);
}

static void test_udp_errors(void)
{
    static uint8_t big[70000];
    struct af *f = af_open(0);
    int u = af_socket(f->a, SOCK_DGRAM);
    AF_FAILS(ts_send(f->a, u, "x", 1, 0), EDESTADDRREQ);
    AF_FAILS(up_sendto(f->a, u, big, sizeof big, AF_IP_B, UP_B), EMSGSIZE);
    AF_FAILS(up_sendto(f->a, u, "x", 1, AF_IP_B, 0), EINVAL);
    struct sockaddr_in to = af_sin(AF_IP_B, UP_B);
    AF_FAILS(ts_sendto(f->a, u, "x", 1, 0, AF_SA(to), 4), EINVAL);
    to.sin_family = AF_INET6;
    AF_FAILS(ts_sendto(f->a, u, "x", 1, 0, AF_SA(to), sizeof to), EAFNOSUPPORT);
    AF_FAILS(ts_sendto(f->a, u, "x", 1, MSG_OOB, NULL, 0), EINVAL);
    char ch;
    AF_FAILS(ts_recv(f->a, u, &ch, 1, MSG_DONTWAIT), EAGAIN);
    AF_FAILS(ts_recv(f->a, u, &ch, 1, MSG_PEEK), EINVAL);
    af_close(f);
}

static void test_udp_timeout(void)
{
    struct af *f = af_open(0);
    int u = up_bound(f->b, 0, UP_B);
    CU_ASSERT_EQUAL(af_timeo(f->b, u, 150), 0);
    char ch;
    uint64_t t0 = af_now_ms();
    AF_FAILS(ts_recvfrom(f->b, u, &ch, 1, 0, NULL, NULL), EAGAIN);
    CU_ASSERT(af_now_ms() - t0 >= 150 - AF_MARGIN_MS);
    af_close(f);
}

/* A datagram to a closed port draws ICMP port unreachable from B; A takes
 * it in stride and its sockets carry on. */
static void test_udp_port_unreachable(void)
{
    struct af *f = af_open(0);
    int a = up_bound(f->a, 0, UP_A);
    int b = up_bound(f->b, 0, UP_B);
    int conn = af_socket(f->a, SOCK_DGRAM);
    struct sockaddr_in closed = af_sin(AF_IP_B, 9999);
    CU_ASSERT_EQUAL(ts_connect(f->a, conn, AF_SA(closed), sizeof closed), 0);
    CU_ASSERT_EQUAL(up_sendto(f->a, a, "lost", 4, AF_IP_B, 9999), 4);
    CU_ASSERT_EQUAL(ts_send(f->a, conn, "lost", 4, 0), 4);
    /* A round trip behind them: the wire keeps order, so when the echo is
     * back, B has answered the first two and A has taken the answers in. */
    char buf[8];
    CU_ASSERT_EQUAL(up_sendto(f->a, a, "ok", 2, AF_IP_B, UP_B), 2);
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, buf, sizeof buf, AF_IP_A, UP_A), 2);
    CU_ASSERT_EQUAL(up_sendto(f->b, b, "ok", 2, AF_IP_A, UP_A), 2);
    CU_ASSERT_EQUAL(up_recv_from(f->a, a, buf, sizeof buf, AF_IP_B, UP_B), 2);
    CU_ASSERT(af_counter(f->b, "udp", "drop_no_port") >= 2);
    CU_ASSERT(af_counter(f->b, "icmp", "tx_errors") >= 1);
    CU_ASSERT(af_counter(f->a, "icmp", "rx_errors") >= 1);
    errno = 0;                  /* Linux would say ECONNREFUSED; either */
    CU_ASSERT_EQUAL(ts_recv(f->a, conn, buf, sizeof buf, MSG_DONTWAIT), -1);
    CU_ASSERT(errno == EAGAIN || errno == ECONNREFUSED);
    CU_ASSERT_EQUAL(up_sendto(f->a, a, "again", 5, AF_IP_B, UP_B), 5);
    CU_ASSERT_EQUAL(up_recv_from(f->b, b, buf, sizeof buf, AF_IP_A, UP_A), 5);
    af_close(f);
}

static void test_udp_broadcast(void)
{
    struct af *f = af_open(0);
    int tx = up_bound(f->a, 0, UP_A);
    int rx = up_bound(f->b, 0, UP_B);
    AF_FAILS(up_sendto(f->a, tx, "all", 3, AF_IP_BCAST, UP_B), EACCES);
    AF_FAILS(up_sendto(f->a, tx, "all", 3, 0xffffffffu, UP_B), EACCES);
    CU_ASSERT_EQUAL(af_setint(f->a, tx, SOL_SOCKET, SO_BROADCAST, 1), 0);
    CU_ASSERT_EQUAL(af_setint(f->b, rx, SOL_SOCKET, SO_BROADCAST, 1), 0);
    CU_ASSERT_EQUAL(up_sendto(f->a, tx, "all", 3, AF_IP_BCAST, UP_B), 3);
    char buf[8];
    CU_ASSERT_EQUAL(up_recv_from(f->b, rx, buf, sizeof buf, AF_IP_A, UP_A), 3);
    CU_ASSERT_EQUAL(memcmp(buf, "all", 3), 0);
    /* Without SO_BROADCAST the receiver does not get it; the unicast sent
     * after it proves it would have arrived by then. */
    CU_ASSERT_EQUAL(af_setint(f->b, rx, SOL_SOCKET, SO_BROADCAST, 0), 0);
    CU_ASSERT_EQUAL(up_sendto(f->a, tx, "bc", 2, AF_IP_BCAST, UP_B), 2);
    CU_ASSERT_EQUAL(up_sendto(f->a, tx, "uni", 3, AF_IP_B, UP_B), 3);
    CU_ASSERT_EQUAL(up_recv_from(f->b, rx, buf, sizeof buf, AF_IP_A, UP_A), 3);
    CU_ASSERT_EQUAL(memcmp(buf, "uni", 3), 0);
    AF_FAILS(ts_recv(f->b, rx, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    af_close(f);
}

TS_SUITE(socket_udp,
         TS_TEST(test_udp_sendto_recvfrom),
         TS_TEST(test_udp_sizes),
         TS_TEST(test_udp_truncation),
         TS_TEST(test_udp_connect),
         TS_TEST(test_udp_errors),
         TS_TEST(test_udp_timeout),
         TS_TEST(test_udp_port_unreachable),
         TS_TEST(test_udp_broadcast))
