/* tests/unit/test_host.c - the shared host (ts_stack_serve) spoken to
 * directly in its wire format (ts_ctl_proto.h), with no preload library:
 * stack B serves a control socket; this test plays a program on B, and
 * stack A (the in-process API) is the peer across the in-memory wire
 * (suite `host`). Checked: a listener's accepted connection arrives as a
 * record and a descriptor; bytes both ways byte-exact; the peer's FIN and
 * the program's shutdown and close map onto the connection; a connect is
 * unwritable until the handshake ends and SO_ERROR says how it ended; a
 * program closing with unread bytes resets the connection; UDP datagrams
 * with their header; IDENTIFY and not-ours answers; hostile requests
 * answered EPROTO while the host keeps serving; nothing leaks; a program
 * and an in-process socket of the same stack, and two programs, talking
 * over 127.0.0.1 (the stack's loopback interface).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket_api/ts_ctl_proto.h"
#include "tests/unit/api_fixture.h"
#include "tests/unit/host_client.h"
#include "tests/unit/unit.h"

static void test_host_accept_and_bytes(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int l = hc_listener(c, 8000);
    CU_ASSERT_EQUAL(hc_int_opt(c, l, SOL_SOCKET, SO_ACCEPTCONN), 1);
    int a = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, a, AF_IP_B, 8000), 0);
    struct sockaddr_in peer;
    int p = hc_accept(l, &peer);
    CU_ASSERT_FATAL(p >= 0);
    CU_ASSERT_EQUAL(ntohl(peer.sin_addr.s_addr), AF_IP_A);
    enum { N = 300000 };
    static uint8_t out[N], in[N];
    af_pattern(out, N, 7, 0);
    CU_ASSERT_EQUAL(af_send_all(f->a, a, out, N), N);    /* A -> program */
    CU_ASSERT_EQUAL(hc_read_all(p, in, N), N);
    CU_ASSERT(memcmp(in, out, N) == 0);
    af_pattern(out, N, 9, 0);       /* program -> A: pair, ring and window
                                       hold it all, so A reads after */
    size_t put = 0;
    while (put < N && (hc_wait(p, POLLOUT) & POLLOUT)) {
        ssize_t n = write(p, out + put, N - put);
        if (n <= 0)
            break;
        put += (size_t)n;
    }
    CU_ASSERT_EQUAL(af_recv_all(f->a, a, in, N), N);
    CU_ASSERT_EQUAL(put, N);
    CU_ASSERT(memcmp(in, out, N) == 0);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, a, SHUT_WR), 0);   /* peer's FIN */
    uint8_t ch;
    CU_ASSERT(hc_wait(p, POLLIN) & POLLIN);
    CU_ASSERT_EQUAL(read(p, &ch, 1), 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_STATUS, p, 0, 0, 0, NULL, 0, NULL, NULL), 0);
    CU_ASSERT_EQUAL(write(p, "bye", 3), 3);              /* half-closed */
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_SHUTDOWN, p, SHUT_WR, 0, 0, NULL, 0, NULL,
                           NULL), 0);
    shutdown(p, SHUT_WR);
    char buf[8];
    CU_ASSERT_EQUAL(af_recv_all(f->a, a, buf, 3), 3);
    CU_ASSERT_EQUAL(ts_recv(f->a, a, buf, sizeof buf, 0), 0);
    close(p);
    close(l);
    ts_close(f->a, a);
    close(c);
    af_sleep_ms(100);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "sockets_now"), 0);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "conns_handed"), 1);
    af_close(f);
}

static void test_host_connect(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int lf = af_listener(f->a, 8100);
    int p = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in to = af_sin(AF_IP_A, 8100);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, p, 0, 0, 0, &to, sizeof to, NULL,
                           NULL), -EINPROGRESS);
    CU_ASSERT(hc_wait(p, POLLOUT) & POLLOUT);
    CU_ASSERT_EQUAL(hc_int_opt(c, p, SOL_SOCKET, SO_ERROR), 0);
    int s = af_accept(f->a, lf);
    CU_ASSERT_EQUAL(write(p, "hello", 5), 5);
    char buf[8];
    CU_ASSERT_EQUAL(af_recv_all(f->a, s, buf, 5), 5);    /* no filler leaks */
    CU_ASSERT(memcmp(buf, "hello", 5) == 0);
    struct ts_ctl_rep rep;
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_GETNAME, p, 1, 0, 0, NULL, 0, &rep, NULL), 0);
    struct sockaddr_in got;
    memcpy(&got, rep.addr, sizeof got);
    CU_ASSERT_EQUAL(ntohs(got.sin_port), 8100);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, p, 0, 0, 0, &to, sizeof to, NULL,
                           NULL), -EISCONN);
    /* A closed port: POLLOUT with the refusal in SO_ERROR. */
    int q = hc_socket(c, SOCK_STREAM);
    to = af_sin(AF_IP_A, 8101);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, q, 0, 0, 0, &to, sizeof to, NULL,
                           NULL), -EINPROGRESS);
    CU_ASSERT(hc_wait(q, POLLOUT) & POLLOUT);
    CU_ASSERT_EQUAL(hc_int_opt(c, q, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
    /* The program closes with bytes unread: the peer sees a reset. */
    CU_ASSERT_EQUAL(ts_send(f->a, s, "unread", 6, 0), 6);
    CU_ASSERT(hc_wait(p, POLLIN) & POLLIN);
    close(p);
    AF_FAILS(af_recv_all(f->a, s, buf, 1) == 1 ? 0 : ts_recv(f->a, s, buf, 1, 0),
             ECONNRESET);
    close(q);
    close(c);
    ts_close(f->a, s);
    af_sleep_ms(100);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "sockets_now"), 0);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "conns_reset_by_exit"), 1);
    af_close(f);
}

/* The peer resets: the program reads 0 and TS_OP_STATUS says why. */
static void test_host_reset_status(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int l = hc_listener(c, 8200);
    int a = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, a, AF_IP_B, 8200), 0);
    struct sockaddr_in peer;
    int p = hc_accept(l, &peer);
    CU_ASSERT_FATAL(p >= 0);
    struct linger lg = { 1, 0 };
    CU_ASSERT_EQUAL(ts_setsockopt(f->a, a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    ts_close(f->a, a);                  /* RST */
    uint8_t ch;
    CU_ASSERT(hc_wait(p, POLLIN) & POLLHUP);
    CU_ASSERT_EQUAL(read(p, &ch, 1), 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_STATUS, p, 0, 0, 0, NULL, 0, NULL, NULL),
                    -ECONNRESET);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_STATUS, p, 0, 0, 0, NULL, 0, NULL, NULL), 0);
    /* Still the host's after both ways are shut, until the program closes. */
    CU_ASSERT_EQUAL(hc_int_opt(c, p, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    close(p);
    close(l);
    close(c);
    af_sleep_ms(100);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "sockets_now"), 0);
    af_close(f);
}

static void test_host_udp(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int u = hc_socket(c, SOCK_DGRAM);
    struct sockaddr_in sin = af_sin(0, 5300);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, u, 0, 0, 0, &sin, sizeof sin, NULL,
                           NULL), 0);
    int a = af_socket(f->a, SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_bind(f->a, a, 0, 5301), 0);
    static uint8_t big[6000], back[6100];
    af_pattern(big, sizeof big, 3, 0);
    sin = af_sin(AF_IP_B, 5300);
    CU_ASSERT_EQUAL(ts_sendto(f->a, a, big, sizeof big, 0, AF_SA(sin),
                              sizeof sin), (ssize_t)sizeof big);
    CU_ASSERT(hc_wait(u, POLLIN) & POLLIN);
    ssize_t n = read(u, back, sizeof back);
    struct ts_dgram_hdr dh;
    CU_ASSERT_EQUAL(n, (ssize_t)(sizeof dh + sizeof big));
    memcpy(&dh, back, sizeof dh);
    CU_ASSERT_EQUAL(dh.magic, TS_CTL_MAGIC);
    memcpy(&sin, dh.addr, sizeof sin);
    CU_ASSERT_EQUAL(ntohs(sin.sin_port), 5301);
    CU_ASSERT(memcmp(back + sizeof dh, big, sizeof big) == 0);
    /* Reply through the header's address. */
    memcpy(back + sizeof dh, "pong", 4);
    CU_ASSERT_EQUAL(write(u, back, sizeof dh + 4), (ssize_t)(sizeof dh + 4));
    char got[8];
    CU_ASSERT_EQUAL(ts_recv(f->a, a, got, sizeof got, 0), 4);
    /* A malformed datagram is dropped and counted. */
    CU_ASSERT_EQUAL(write(u, "junk", 4), 4);
    af_sleep_ms(50);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "dgrams_dropped"), 1);
    CU_ASSERT_EQUAL(hc_int_opt(c, u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    close(u);
    close(c);
    af_sleep_ms(50);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "sockets_now"), 0);
    af_close(f);
}

static void test_host_identify_and_hostile(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int t = hc_socket(c, SOCK_STREAM), u = hc_socket(c, SOCK_DGRAM);
    int pipefd[2];
    CU_ASSERT_FATAL(pipe(pipefd) == 0);
    int fds[3] = { t, pipefd[0], u };
    struct ts_ctl_req rq;
    struct ts_ctl_rep rep;
    memset(&rq, 0, sizeof rq);
    rq.magic = TS_CTL_MAGIC;
    rq.version = TS_CTL_VERSION;
    rq.op = TS_OP_IDENTIFY;
    CU_ASSERT_EQUAL(hc_raw(c, &rq, sizeof rq, fds, 3, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, 3);
    CU_ASSERT_EQUAL(rep.opt[0], TS_KIND_TCP);
    CU_ASSERT_EQUAL(rep.opt[1], TS_KIND_NONE);
    CU_ASSERT_EQUAL(rep.opt[2], TS_KIND_UDP);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, pipefd[0], 0, 0, 0, NULL, 0, NULL,
                           NULL), TS_CTL_NOT_OURS);
    /* Garbage, a short request, a bad magic, an unknown op, a long address,
     * descriptors where none belong: EPROTO each, and the host goes on. */
    CU_ASSERT_EQUAL(hc_raw(c, "garbage", 7, NULL, 0, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, -EPROTO);
    rq.magic = 0xdeadbeef;
    CU_ASSERT_EQUAL(hc_raw(c, &rq, sizeof rq, NULL, 0, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, -EPROTO);
    rq.magic = TS_CTL_MAGIC;
    rq.op = 999;
    CU_ASSERT_EQUAL(hc_raw(c, &rq, sizeof rq, &t, 1, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, -EPROTO);
    rq.op = TS_OP_BIND;
    rq.addrlen = 4096;
    CU_ASSERT_EQUAL(hc_raw(c, &rq, sizeof rq, &t, 1, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, -EPROTO);
    rq.addrlen = 0;
    rq.op = TS_OP_SOCKET;
    CU_ASSERT_EQUAL(hc_raw(c, &rq, sizeof rq, fds, 3, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, -EPROTO);
    static char huge[8192];
    CU_ASSERT_EQUAL(hc_raw(c, huge, sizeof huge, NULL, 0, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, -EPROTO);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "bad_requests"), 6);
    CU_ASSERT_EQUAL(hc_int_opt(c, t, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    close(pipefd[0]);
    close(pipefd[1]);
    close(t);
    close(u);
    close(c);
    af_sleep_ms(50);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "sockets_now"), 0);
    CU_ASSERT_EQUAL(af_counter(f->b, "host", "programs_now"), 0);
    af_close(f);
}

/* One stack, two kinds of program: a program served by the host and an
 * in-process socket reach each other over 127.0.0.1, both ways, with
 * 127.0.0.1 as both ends' address. The in-process side's calls take lo's
 * frames in, so the stack thread must be woken to serve the program's end. */
static void test_host_loopback(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int l = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in lo = af_sin(0x7f000001u, 8200);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, l, 0, 0, 0, &lo, sizeof lo, NULL,
                           NULL), 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_LISTEN, l, 8, 0, 0, NULL, 0, NULL, NULL), 0);
    int b = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->b, b, 0x7f000001u, 8200), 0);
    struct sockaddr_in peer;
    int p = hc_accept(l, &peer);
    CU_ASSERT_FATAL(p >= 0);
    CU_ASSERT_EQUAL(ntohl(peer.sin_addr.s_addr), 0x7f000001u);
    char buf[8];
    for (int i = 0; i < 10; i++) {      /* round trips, each way's wake-up */
        CU_ASSERT_EQUAL(ts_send(f->b, b, "ping", 4, 0), 4);
        CU_ASSERT_EQUAL(hc_read_all(p, (uint8_t *)buf, 4), 4);
        CU_ASSERT_EQUAL(write(p, "pong", 4), 4);
        CU_ASSERT_EQUAL(af_recv_all(f->b, b, buf, 4), 4);
    }
    CU_ASSERT(memcmp(buf, "pong", 4) == 0);
    /* The other way: the program connects to an in-process listener. */
    int lf = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_bind(f->b, lf, 0x7f000001u, 8201), 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, lf, 4), 0);
    int q = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in to = af_sin(0x7f000001u, 8201);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, q, 0, 0, 0, &to, sizeof to, NULL,
                           NULL), -EINPROGRESS);
    CU_ASSERT(hc_wait(q, POLLOUT) & POLLOUT);
    CU_ASSERT_EQUAL(hc_int_opt(c, q, SOL_SOCKET, SO_ERROR), 0);
    int s = af_accept(f->b, lf);
    CU_ASSERT_EQUAL(write(q, "hello", 5), 5);
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 5), 5);
    CU_ASSERT(memcmp(buf, "hello", 5) == 0);
    /* Two programs: the stack thread alone serves both ends. */
    int r = hc_socket(c, SOCK_STREAM);
    to = af_sin(0x7f000001u, 8200);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, r, 0, 0, 0, &to, sizeof to, NULL,
                           NULL), -EINPROGRESS);
    CU_ASSERT(hc_wait(r, POLLOUT) & POLLOUT);
    int rp = hc_accept(l, &peer);
    CU_ASSERT_FATAL(rp >= 0);
    for (int i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(write(r, "ping", 4), 4);
        CU_ASSERT_EQUAL(hc_read_all(rp, (uint8_t *)buf, 4), 4);
        CU_ASSERT_EQUAL(write(rp, "pong", 4), 4);
        CU_ASSERT_EQUAL(hc_read_all(r, (uint8_t *)buf, 4), 4);
    }
    CU_ASSERT(memcmp(buf, "pong", 4) == 0);
    close(rp);
    close(r);
    close(p);
    close(q);
    close(l);
    close(c);
    af_close(f);
}

TS_SUITE(host,
         TS_TEST(test_host_accept_and_bytes),
         TS_TEST(test_host_connect),
         TS_TEST(test_host_reset_status),
         TS_TEST(test_host_udp),
         TS_TEST(test_host_identify_and_hostile),
         TS_TEST(test_host_loopback))
