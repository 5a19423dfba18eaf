/* tests/unit/test_socket_loop.c - one stack talking to itself through the
 * public API (suite `socket_loop`): the loopback interface and delivery to
 * the stack's own address.
 *
 * Stack B of the API fixture (10.0.0.2) is the one under test; stack A
 * (10.0.0.1), across the in-memory wire, is the rest of the world. Covers
 * TCP echo of 10 MiB byte-exact over 127.0.0.1 and over 10.0.0.2 with not
 * one frame on the wire; a 65,507-byte UDP datagram over lo, unfragmented;
 * listeners on 127.0.0.1 (loopback only) and on 0.0.0.0 (both ways); the
 * addresses getsockname/getpeername report; connect to 0.0.0.0; bind to
 * any of 127/8; a 127/8 source toward the wire refused; the segment size
 * on lo. Behaviour is Linux's wherever a program could tell.
 */
#include <stdlib.h>

#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define LT_PORT 7100
#define LT_LO 0x7f000001u           /* 127.0.0.1 */
#define LT_LO5 0x7f000005u          /* 127.0.0.5 */
#define LT_BULK (10u << 20)         /* 10 MiB */
#define LT_UDP_MAX 65507            /* 65,535 - 20 - 8 */
#define LT_MSS_LO 65495             /* 65,535 - 40 */
#define LT_TCP_MAXSEG 2             /* Linux's TCP_MAXSEG */

/* An echo server for one connection on a listener (a helper thread). */
struct lt_echo {
    struct ts_stack *st;
    int lfd;
    int ok;                         /* echoed to the end of stream */
};

static void *lt_echo_main(void *arg)
{
    struct lt_echo *e = arg;
    uint8_t *buf = malloc(65536);
    int fd = af_accept(e->st, e->lfd);
    ssize_t n = -1;
    while (buf && fd >= 0 && (n = ts_recv(e->st, fd, buf, 65536, 0)) > 0)
        if (af_send_all(e->st, fd, buf, (size_t)n) != (size_t)n)
            break;
    e->ok = n == 0 && ts_shutdown(e->st, fd, SHUT_WR) == 0;
    if (fd >= 0)
        ts_close(e->st, fd);
    free(buf);
    return NULL;
}

/* addr and port of fd's own end (peer 0) or the other end (peer 1). */
static uint32_t lt_name(struct ts_stack *st, int fd, int peer, uint16_t *port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    memset(&sin, 0, sizeof sin);
    int rc = peer ? ts_getpeername(st, fd, AF_SA(sin), &len)
                  : ts_getsockname(st, fd, AF_SA(sin), &len);
    CU_ASSERT_EQUAL(rc, 0);
    if (port)
        *port = ntohs(sin.sin_port);
    return ntohl(sin.sin_addr.s_addr);
}

/* A listener on ip:port of st (SO_REUSEADDR); -1 on failure. */
static int lt_listener(struct ts_stack *st, uint32_t ip, uint16_t port)
{
    int fd = af_socket(st, SOCK_STREAM);
    if (fd < 0)
        return -1;
    af_setint(st, fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (af_bind(st, fd, ip, port) < 0 || ts_listen(st, fd, 8) < 0) {
        ts_close(st, fd);
        return -1;
    }
    return fd;
}

/* Both stacks have announced themselves (the one frame each sends at
 * start, from its own thread), so counters of the wire hold still after. */
/* Both stacks announced themselves, and each has read every frame the
 * other sent (a slow thread, as under TSan, may still hold one back). */
static void lt_settle(struct af *f)
{
    for (int i = 0; i < 400; i++) {
        if (af_counter(f->a, "arp", "tx_requests") >= 1 &&
            af_counter(f->b, "arp", "tx_requests") >= 1 &&
            af_counter(f->a, "eth", "rx_frames") ==
                af_counter(f->b, "eth", "tx_frames") &&
            af_counter(f->b, "eth", "rx_frames") ==
                af_counter(f->a, "eth", "tx_frames"))
            return;
        af_sleep_ms(5);
    }
    CU_FAIL("the stacks did not announce themselves");
}

/* Echo LT_BULK bytes through B's own listener, reached at dst; the
 * connection's both ends show `local` as address; the wire stays silent. */
static void lt_echo_bulk(uint32_t dst, uint32_t local)
{
    struct af *f = af_open(0);
    lt_settle(f);
    long long wire0 = af_counter(f->b, "eth", "tx_frames");
    long long a_rx0 = af_counter(f->a, "eth", "rx_frames");
    long long lo0 = af_counter(f->b, "lo", "tx_frames");
    struct lt_echo e = { f->b, af_listener(f->b, LT_PORT), 0 };
    CU_ASSERT_FATAL(e.lfd >= 0);
    pthread_t et, st;
    af_spawn(&et, lt_echo_main, &e);
    int c = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->b, c, dst, LT_PORT), 0);
    CU_ASSERT_EQUAL(lt_name(f->b, c, 0, NULL), local);
    CU_ASSERT_EQUAL(lt_name(f->b, c, 1, NULL), local);
    struct af_xfer out = { f->b, c, LT_BULK, 12, 1, 0, 0, 0 };
    struct af_xfer in = { f->b, c, LT_BULK, 12, 1, 0, 0, 0 };
    af_spawn(&st, af_sender_main, &out);
    af_receiver_main(&in);
    af_join(f, st);
    af_join(f, et);
    CU_ASSERT(out.ok);
    CU_ASSERT(in.ok);
    CU_ASSERT_EQUAL(in.done, LT_BULK);
    CU_ASSERT(e.ok);
    CU_ASSERT_EQUAL(af_getint(f->b, c, IPPROTO_TCP, LT_TCP_MAXSEG), LT_MSS_LO);
    ts_close(f->b, c);
    ts_close(f->b, e.lfd);
    /* Every byte went by lo, none on the wire; no checksum to fail. */
    CU_ASSERT_EQUAL(af_counter(f->b, "eth", "tx_frames"), wire0);
    CU_ASSERT_EQUAL(af_counter(f->a, "eth", "rx_frames"), a_rx0);
    CU_ASSERT(af_counter(f->b, "lo", "tx_frames") - lo0 > (long long)(LT_BULK / 65536));
    CU_ASSERT_EQUAL(af_counter(f->b, "tcp", "drop_bad_cksum"), 0);
    CU_ASSERT_EQUAL(af_counter(f->b, "arp", "tx_requests"), 1);
    af_close(f);
}

static void test_loop_tcp_echo_127(void)
{
    lt_echo_bulk(LT_LO, LT_LO);
}

static void test_loop_tcp_echo_own_address(void)
{
    lt_echo_bulk(AF_IP_B, AF_IP_B);
}

/* UDP over lo: the largest datagram there is, in one piece, byte-exact;
 * one byte more does not exist. Sources are the route's: 127.0.0.1 for
 * 127/8, the address itself for our own. */
static void test_loop_udp_max(void)
{
    struct af *f = af_open(0);
    lt_settle(f);
    static uint8_t out[LT_UDP_MAX + 1], in[LT_UDP_MAX + 16];
    af_pattern(out, sizeof out, 3, 0);
    int r = af_socket(f->b, SOCK_DGRAM), s = af_socket(f->b, SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_bind(f->b, r, 0, LT_PORT), 0);
    long long frags0 = af_counter(f->b, "ipv4", "tx_fragments");
    long long wire0 = af_counter(f->b, "eth", "tx_frames");
    struct sockaddr_in to = af_sin(LT_LO, LT_PORT), from;
    CU_ASSERT_EQUAL(ts_sendto(f->b, s, out, LT_UDP_MAX, 0, AF_SA(to), sizeof to),
                    LT_UDP_MAX);
    socklen_t flen = sizeof from;
    CU_ASSERT_EQUAL(ts_recvfrom(f->b, r, in, sizeof in, 0, AF_SA(from), &flen),
                    LT_UDP_MAX);
    CU_ASSERT_EQUAL(memcmp(in, out, LT_UDP_MAX), 0);
    CU_ASSERT_EQUAL(ntohl(from.sin_addr.s_addr), LT_LO);
    AF_FAILS(ts_sendto(f->b, s, out, LT_UDP_MAX + 1, 0, AF_SA(to), sizeof to),
             EMSGSIZE);
    to = af_sin(AF_IP_B, LT_PORT);
    CU_ASSERT_EQUAL(ts_sendto(f->b, s, out, 100, 0, AF_SA(to), sizeof to), 100);
    flen = sizeof from;
    CU_ASSERT_EQUAL(ts_recvfrom(f->b, r, in, sizeof in, 0, AF_SA(from), &flen),
                    100);
    CU_ASSERT_EQUAL(ntohl(from.sin_addr.s_addr), AF_IP_B);
    CU_ASSERT_EQUAL(af_counter(f->b, "ipv4", "tx_fragments"), frags0);
    CU_ASSERT_EQUAL(af_counter(f->b, "eth", "tx_frames"), wire0);
    CU_ASSERT_EQUAL(af_counter(f->b, "udp", "drop_bad_cksum"), 0);
    af_close(f);
}

/* A connected UDP socket takes its route's source, as on Linux: 127.0.0.1
 * toward lo, 10.0.0.2 toward the wire; bound to any it shows 0.0.0.0. */
static void test_loop_udp_names(void)
{
    struct af *f = af_open(0);
    int u = af_socket(f->b, SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_bind(f->b, u, 0, 0), 0);
    CU_ASSERT_EQUAL(lt_name(f->b, u, 0, NULL), 0);
    CU_ASSERT_EQUAL(af_connect(f->b, u, LT_LO, LT_PORT), 0);
    CU_ASSERT_EQUAL(lt_name(f->b, u, 0, NULL), LT_LO);
    int w = af_socket(f->b, SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_connect(f->b, w, AF_IP_A, LT_PORT), 0);
    CU_ASSERT_EQUAL(lt_name(f->b, w, 0, NULL), AF_IP_B);
    /* sendto 0.0.0.0 is this host: it reaches a socket on 127.0.0.1. */
    int r = af_socket(f->b, SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_bind(f->b, r, LT_LO, LT_PORT + 1), 0);
    struct sockaddr_in any = af_sin(0, LT_PORT + 1);
    char buf[8];
    int v = af_socket(f->b, SOCK_DGRAM);
    CU_ASSERT_EQUAL(ts_sendto(f->b, v, "any", 3, 0, AF_SA(any), sizeof any), 3);
    CU_ASSERT_EQUAL(ts_recv(f->b, r, buf, sizeof buf, 0), 3);
    af_close(f);
}

/* A listener on 127.0.0.1 serves loopback only: from the wire and even by
 * the stack's own address it is refused, as on Linux. */
static void test_loop_listener_lo_only(void)
{
    struct af *f = af_open(0);
    int l = lt_listener(f->b, LT_LO, LT_PORT);
    CU_ASSERT_FATAL(l >= 0);
    int a = af_socket(f->a, SOCK_STREAM);
    AF_FAILS(af_connect(f->a, a, AF_IP_B, LT_PORT), ECONNREFUSED);
    int b = af_socket(f->b, SOCK_STREAM);
    AF_FAILS(af_connect(f->b, b, AF_IP_B, LT_PORT), ECONNREFUSED);
    int c = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->b, c, LT_LO, LT_PORT), 0);
    int s = af_accept(f->b, l);
    CU_ASSERT(s >= 0);
    CU_ASSERT_EQUAL(lt_name(f->b, s, 0, NULL), LT_LO);
    CU_ASSERT_EQUAL(lt_name(f->b, s, 1, NULL), LT_LO);
    af_close(f);
}

/* One accepted connection on B's listener l from (st, dst): the address
 * the accepted socket shows as its own, and its peer's. */
static void lt_accept_from(struct af *f, int l, struct ts_stack *st,
                           uint32_t dst, uint32_t want_local,
                           uint32_t want_peer)
{
    int c = af_socket(st, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(st, c, dst, LT_PORT), 0);
    int s = af_accept(f->b, l);
    CU_ASSERT_FATAL(s >= 0);
    CU_ASSERT_EQUAL(lt_name(f->b, s, 0, NULL), want_local);
    CU_ASSERT_EQUAL(lt_name(f->b, s, 1, NULL), want_peer);
    CU_ASSERT_EQUAL(lt_name(st, c, 0, NULL), want_peer);
    CU_ASSERT_EQUAL(ts_send(st, c, "x", 1, 0), 1);
    char ch = 0;
    CU_ASSERT_EQUAL(ts_recv(f->b, s, &ch, 1, 0), 1);
    CU_ASSERT_EQUAL(ch, 'x');
    ts_close(st, c);
    ts_close(f->b, s);
}

/* A listener on 0.0.0.0 serves the wire and loopback. */
static void test_loop_listener_any(void)
{
    struct af *f = af_open(0);
    int l = lt_listener(f->b, 0, LT_PORT);
    CU_ASSERT_FATAL(l >= 0);
    lt_accept_from(f, l, f->a, AF_IP_B, AF_IP_B, AF_IP_A);
    lt_accept_from(f, l, f->b, LT_LO, LT_LO, LT_LO);
    lt_accept_from(f, l, f->b, AF_IP_B, AF_IP_B, AF_IP_B);
    lt_accept_from(f, l, f->b, LT_LO5, LT_LO5, LT_LO);
    af_close(f);
}

/* connect to 0.0.0.0 reaches this host (Linux: 127.0.0.1, or the bound
 * address); binding to any of 127/8 works and is what the peer sees. */
static void test_loop_connect_any_and_bind(void)
{
    struct af *f = af_open(0);
    int l = lt_listener(f->b, LT_LO, LT_PORT);
    CU_ASSERT_FATAL(l >= 0);
    int c = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->b, c, 0, LT_PORT), 0);
    CU_ASSERT_EQUAL(lt_name(f->b, c, 1, NULL), LT_LO);
    int s = af_accept(f->b, l);
    CU_ASSERT(s >= 0);
    int d = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_bind(f->b, d, LT_LO5, 0), 0);
    CU_ASSERT_EQUAL(af_connect(f->b, d, LT_LO, LT_PORT), 0);
    int t = af_accept(f->b, l);
    CU_ASSERT(t >= 0);
    CU_ASSERT_EQUAL(lt_name(f->b, t, 1, NULL), LT_LO5);
    CU_ASSERT_EQUAL(lt_name(f->b, d, 0, NULL), LT_LO5);
    /* 127/8 never on a wire (RFC 1122 §3.2.1.3): EINVAL, as Linux says. */
    int w = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_bind(f->b, w, LT_LO, 0), 0);
    AF_FAILS(af_connect(f->b, w, AF_IP_A, LT_PORT), EINVAL);
    int u = af_socket(f->b, SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_bind(f->b, u, LT_LO, 0), 0);
    struct sockaddr_in to = af_sin(AF_IP_A, LT_PORT);
    AF_FAILS(ts_sendto(f->b, u, "x", 1, 0, AF_SA(to), sizeof to), EINVAL);
    int x = af_socket(f->b, SOCK_STREAM);
    AF_FAILS(af_bind(f->b, x, AF_IP_NOBODY, 0), EADDRNOTAVAIL);
    af_close(f);
}

/* A connection over the wire keeps the wire's segment size. */
static void test_loop_wire_mss_unchanged(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, LT_PORT, &c, &s) == 0);
    CU_ASSERT_EQUAL(af_getint(f->a, c, IPPROTO_TCP, LT_TCP_MAXSEG), 1460);
    CU_ASSERT_EQUAL(af_getint(f->b, s, IPPROTO_TCP, LT_TCP_MAXSEG), 1460);
    CU_ASSERT_EQUAL(lt_name(f->b, s, 0, NULL), AF_IP_B);
    af_close(f);
}

TS_SUITE(socket_loop,
         TS_TEST(test_loop_tcp_echo_127),
         TS_TEST(test_loop_tcp_echo_own_address),
         TS_TEST(test_loop_udp_max),
         TS_TEST(test_loop_udp_names),
         TS_TEST(test_loop_listener_lo_only),
         TS_TEST(test_loop_listener_any),
         TS_TEST(test_loop_connect_any_and_bind),
         TS_TEST(test_loop_wire_mss_unchanged))
