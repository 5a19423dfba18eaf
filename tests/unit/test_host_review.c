/* tests/unit/test_host_review.c - regression tests for the shared host's
 * corner cases found in review (suite `host_review`): descriptors sent with
 * an empty request; a reset after the peer's FIN while the program writes;
 * the dirty list surviving a socket freed by a bind conflict; a full
 * listening pair never resetting a connection; bytes written before
 * connect never reaching the peer; a UDP flood; a closed connection's bytes
 * kept through a bind conflict; shutdown(SHUT_RDWR) not mistaken for a
 * close. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "socket_api/ts_ctl_proto.h"
#include "socket_api/ts_internal.h"
#include "tests/unit/api_fixture.h"
#include "tests/unit/host_client.h"
#include "tests/unit/unit.h"

/* 1: a zero-length request carrying a descriptor: does the host close it? */
static void test_rv_zero_len_leak(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int sp[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    CU_ASSERT_EQUAL(hc_send(c, "", 0, &sp[1], 1), 0);
    close(sp[1]);
    af_sleep_ms(200);
    struct pollfd p = { sp[0], POLLIN, 0 };
    int n = poll(&p, 1, 300);
    fprintf(stderr, "# [rv1] host closed the fd it got in a 0-byte message: %s\n",
            (n == 1 && (p.revents & POLLHUP)) ? "yes" : "NO (leaked in host)");
    CU_ASSERT(n == 1 && (p.revents & POLLHUP));
    close(sp[0]);
    close(c);
    af_close(f);
}

/* A flooding thread runs until the test says stop; the cap only bounds the
 * test.  What the tests check is liveness, not a latency figure: the test's
 * own call, which needs B's lock, comes back while the flood still runs
 * (the flood never hit its cap).  A host that never let go of its lock for
 * the whole flood would fail; a slow machine or a sanitizer would not. */
#define RV_FLOOD_CAP_MS 20000
static atomic_int rv_stop;
static atomic_int rv_capped;

static int rv_flood_on(uint64_t end)
{
    if (atomic_load(&rv_stop))
        return 0;
    if (af_now_ms() >= end) {
        atomic_store(&rv_capped, 1);
        return 0;
    }
    return 1;
}

/* 2: peer FIN, then RST; the program keeps writing. */
static long long rv_wrote;
static int rv_werr;
static void *rv_writer(void *arg)
{
    int p = *(int *)arg;
    static char buf[65536];
    uint64_t end = af_now_ms() + RV_FLOOD_CAP_MS;
    while (rv_flood_on(end)) {
        ssize_t n = send(p, buf, sizeof buf, MSG_NOSIGNAL);
        if (n < 0) { rv_werr = errno; if (errno != EAGAIN) break; continue; }
        rv_wrote += n;
    }
    return NULL;
}

static void test_rv_fin_then_rst(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int l = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in sin = af_sin(0, 8300);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, l, 0, 0, 0, &sin, sizeof sin, NULL, NULL), 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_LISTEN, l, 8, 0, 0, NULL, 0, NULL, NULL), 0);
    int a = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, a, AF_IP_B, 8300), 0);
    struct ts_accept_rec rec;
    char cb[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &rec, sizeof rec };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                        .msg_controllen = sizeof cb };
    CU_ASSERT_FATAL(recvmsg(l, &m, 0) == (ssize_t)sizeof rec);
    int p;
    memcpy(&p, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof p);
    struct timeval tv = { 1, 0 };
    setsockopt(p, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, a, SHUT_WR), 0);     /* FIN */
    char ch;
    CU_ASSERT_EQUAL(read(p, &ch, 1), 0);
    struct linger lg = { 1, 0 };
    ts_setsockopt(f->a, a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ts_close(f->a, a);                                     /* RST */
    af_sleep_ms(100);
    pthread_t t;
    atomic_store(&rv_stop, 0);
    atomic_store(&rv_capped, 0);
    af_spawn(&t, rv_writer, &p);
    af_sleep_ms(300);
    uint64_t t0 = af_now_ms();
    (void)af_counter(f->b, "host", "sockets_now");          /* takes B's lock */
    uint64_t lat = af_now_ms() - t0;
    atomic_store(&rv_stop, 1);
    af_join(f, t);
    fprintf(stderr, "# [rv2] after FIN+RST the program wrote %lld bytes without error "
            "(last errno %d); B's lock took %llu ms to get during the writes\n",
            rv_wrote, rv_werr, (unsigned long long)lat);
    CU_ASSERT(rv_wrote == 0 || rv_werr == EPIPE);
    CU_ASSERT(!atomic_load(&rv_capped));
    close(p);
    close(l);
    close(c);
    af_close(f);
}

/* 3: ts_host_release (via the bind reap) of a socket on the dirty list. */
static void test_rv_dirty_list(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int z = hc_socket(c, SOCK_DGRAM);
    int y = hc_socket(c, SOCK_DGRAM);
    int x = hc_socket(c, SOCK_DGRAM);
    int w = hc_socket(c, SOCK_DGRAM);
    struct sockaddr_in sin = af_sin(0, 5500);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, x, 0, 0, 0, &sin, sizeof sin, NULL, NULL), 0);
    int a = af_socket(f->a, SOCK_DGRAM);
    CU_ASSERT_EQUAL(af_bind(f->a, a, 0, 5401), 0);
    struct sockaddr_in to = af_sin(AF_IP_A, 5401);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, y, 0, 0, 0, &to, sizeof to, NULL, NULL), 0);
    af_sleep_ms(50);

    pthread_mutex_lock(&f->b->lock);
    CU_ASSERT(write(z, "junk", 4) == 4);       /* wakes the thread: batch [z] */
    af_sleep_ms(30);                            /* it now waits for the lock */
    struct ts_dgram_hdr dh;
    memset(&dh, 0, sizeof dh);
    dh.magic = TS_CTL_MAGIC;
    char msg[sizeof dh + 5];
    memcpy(msg, &dh, sizeof dh);
    memcpy(msg + sizeof dh, "hello", 5);
    CU_ASSERT(write(y, msg, sizeof msg) == (ssize_t)sizeof msg);   /* y dirty */
    close(x);                                                     /* x HUP */
    struct ts_ctl_req rq;
    hc_mk(&rq, TS_OP_BIND, 0, 0, 0, &sin, sizeof sin);            /* reaps x */
    CU_ASSERT(hc_send(c, &rq, sizeof rq, &w, 1) == (int)sizeof rq);
    af_sleep_ms(30);
    pthread_mutex_unlock(&f->b->lock);
    struct ts_ctl_rep rep;
    CU_ASSERT(hc_recv(c, &rep, NULL) == 0);
    fprintf(stderr, "# [rv3] bind after reap: rc %d\n", rep.rc);
    char got[16];
    af_sleep_ms(200);
    ssize_t n = ts_recv(f->a, a, got, sizeof got, MSG_DONTWAIT);
    CU_ASSERT(write(y, msg, sizeof msg) == (ssize_t)sizeof msg);   /* again */
    af_sleep_ms(200);
    ssize_t n2 = ts_recv(f->a, a, got, sizeof got, MSG_DONTWAIT);
    fprintf(stderr, "# [rv3] datagrams from y reaching A: first %zd, second %zd "
            "(dgrams_from_programs %lld)\n", n, n2,
            af_counter(f->b, "host", "dgrams_from_programs"));
    CU_ASSERT(n == 5 && n2 == 5);
    close(y); close(z); close(w);
    close(c);
    af_close(f);
}

/* 4: a listener whose program does not accept: connections beyond the
 * pair's room. */
static void test_rv_accept_full(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int l = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in sin = af_sin(0, 8400);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, l, 0, 0, 0, &sin, sizeof sin, NULL, NULL), 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_LISTEN, l, 1000, 0, 0, NULL, 0, NULL, NULL), 0);
    enum { N = 330 };
    static int cs[N];
    int made = 0;
    for (int i = 0; i < N; i++) {
        cs[i] = af_socket(f->a, SOCK_STREAM);
        if (cs[i] < 0 || af_connect(f->a, cs[i], AF_IP_B, 8400) != 0)
            break;
        made++;
    }
    af_sleep_ms(300);
    int reset = 0;
    for (int i = 0; i < made; i++) {
        char b;
        errno = 0;
        if (ts_recv(f->a, cs[i], &b, 1, MSG_DONTWAIT) < 0 && errno == ECONNRESET)
            reset++;
    }
    fprintf(stderr, "# [rv4] %d connections made to a non-accepting listener, %d reset "
            "(handed %lld)\n", made, reset, af_counter(f->b, "host", "conns_handed"));
    CU_ASSERT_EQUAL(reset, 0);
    for (int i = 0; i < made; i++)
        ts_close(f->a, cs[i]);
    close(l);
    close(c);
    af_close(f);
}



static int rv_accept_one(int l)
{
    struct ts_accept_rec rec;
    char cb[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &rec, sizeof rec };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                        .msg_controllen = sizeof cb };
    struct pollfd pl = { l, POLLIN, 0 };
    poll(&pl, 1, 3000);
    if (recvmsg(l, &m, 0) != (ssize_t)sizeof rec)
        return -1;
    int p;
    memcpy(&p, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof p);
    return p;
}

/* 5: bytes written before connect. */
static void test_rv_write_before_connect(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int lf = af_listener(f->a, 8600);
    int p = hc_socket(c, SOCK_STREAM);
    ssize_t w = write(p, "EARLY", 5);
    struct sockaddr_in to = af_sin(AF_IP_A, 8600);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, p, 0, 0, 0, &to, sizeof to, NULL, NULL), -EINPROGRESS);
    struct pollfd pp = { p, POLLOUT, 0 };
    poll(&pp, 1, 3000);
    int s = af_accept(f->a, lf);
    CU_ASSERT(write(p, "hello", 5) == 5);
    char buf[16] = {0};
    size_t n = af_recv_all(f->a, s, buf, 5);
    fprintf(stderr, "# [rv5] write before connect returned %zd; peer got %zu bytes: "
            "%02x %02x %02x %02x %02x\n", w, n, buf[0] & 255, buf[1] & 255,
            buf[2] & 255, buf[3] & 255, buf[4] & 255);
    CU_ASSERT(memcmp(buf, "hello", 5) == 0);
    close(p); ts_close(f->a, s); close(c);
    af_close(f);
}

/* 6: a UDP sender that never stops. */
static void *rv_udp_blast(void *arg)
{
    int u = *(int *)arg;
    struct ts_dgram_hdr dh;
    memset(&dh, 0, sizeof dh);
    dh.magic = TS_CTL_MAGIC;
    struct sockaddr_in to = af_sin(AF_IP_A, 5999);
    memcpy(dh.addr, &to, sizeof to);
    dh.addrlen = sizeof to;
    static char msg[sizeof dh + 1000];
    memcpy(msg, &dh, sizeof dh);
    uint64_t end = af_now_ms() + RV_FLOOD_CAP_MS;
    while (rv_flood_on(end))
        if (send(u, msg, sizeof msg, MSG_NOSIGNAL) < 0)
            break;
    return NULL;
}

static void test_rv_udp_blast(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int u = hc_socket(c, SOCK_DGRAM);
    pthread_t t;
    atomic_store(&rv_stop, 0);
    atomic_store(&rv_capped, 0);
    af_spawn(&t, rv_udp_blast, &u);
    uint64_t worst = 0;
    for (int i = 0; i < 10; i++) {
        af_sleep_ms(100);
        uint64_t t0 = af_now_ms();
        (void)af_counter(f->b, "host", "sockets_now");
        uint64_t lat = af_now_ms() - t0;
        if (lat > worst) worst = lat;
    }
    atomic_store(&rv_stop, 1);
    af_join(f, t);
    fprintf(stderr, "# [rv6] UDP blast: worst wait for B's lock %llu ms, dgrams %lld\n",
            (unsigned long long)worst, af_counter(f->b, "host", "dgrams_from_programs"));
    CU_ASSERT(!atomic_load(&rv_capped));   /* ten reads done within the flood */
    CU_ASSERT(af_counter(f->b, "host", "dgrams_from_programs") > 0);
    close(u); close(c);
    af_close(f);
}

/* 7: a failed bind reaps a closed connection that still has bytes to send. */
static void test_rv_reap_truncates(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int l = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in sin = af_sin(0, 8500);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_BIND, l, 0, 0, 0, &sin, sizeof sin, NULL, NULL), 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_LISTEN, l, 8, 0, 0, NULL, 0, NULL, NULL), 0);
    int a = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, a, AF_IP_B, 8500), 0);
    int p = rv_accept_one(l);
    CU_ASSERT_FATAL(p >= 0);
    fcntl(p, F_SETFL, O_NONBLOCK);
    static char big[4 << 20];
    size_t put = 0;
    for (int i = 0; i < 200; i++) {
        ssize_t n = write(p, big, sizeof big - put);
        if (n > 0) put += (size_t)n; else af_sleep_ms(5);
    }
    close(p);                       /* program done: bytes still in the pair */
    af_sleep_ms(100);
    int q = hc_socket(c, SOCK_STREAM);
    int rc = getenv("RV_NOBIND") ? 1 : hc_req(c, TS_OP_BIND, q, 0, 0, 0, &sin, sizeof sin, NULL, NULL);
    static char in[4 << 20];
    size_t got = af_recv_all(f->a, a, in, put);
    fprintf(stderr, "# [rv7] program wrote %zu and closed; failed bind rc %d; peer "
            "got %zu then end of stream (errno %d)\n", put, rc, got, errno);
    CU_ASSERT_EQUAL(got, put);
    close(q); close(l); ts_close(f->a, a); close(c);
    af_close(f);
}

/* 8: shutdown(SHUT_RDWR) then getpeername. */
static void test_rv_shut_rdwr(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int lf = af_listener(f->a, 8700);
    int p = hc_socket(c, SOCK_STREAM);
    struct sockaddr_in to = af_sin(AF_IP_A, 8700);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_CONNECT, p, 0, 0, 0, &to, sizeof to, NULL, NULL), -EINPROGRESS);
    struct pollfd pp = { p, POLLOUT, 0 };
    poll(&pp, 1, 3000);
    int s = af_accept(f->a, lf);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_SHUTDOWN, p, SHUT_RDWR, 0, 0, NULL, 0, NULL, NULL), 0);
    shutdown(p, SHUT_RDWR);
    af_sleep_ms(100);
    int rc = hc_req(c, TS_OP_GETNAME, p, 1, 0, 0, NULL, 0, NULL, NULL);
    fprintf(stderr, "# [rv8] getpeername after shutdown(SHUT_RDWR): rc %d (%s)\n", rc,
            rc == TS_CTL_NOT_OURS ? "not ours: socket already freed" : "ok");
    CU_ASSERT_EQUAL(rc, 0);
    close(p); ts_close(f->a, s); close(c);
    af_close(f);
}

TS_SUITE(host_review,
         TS_TEST(test_rv_zero_len_leak),
         TS_TEST(test_rv_fin_then_rst),
         TS_TEST(test_rv_dirty_list),
         TS_TEST(test_rv_accept_full),
         TS_TEST(test_rv_write_before_connect),
         TS_TEST(test_rv_udp_blast),
         TS_TEST(test_rv_reap_truncates),
         TS_TEST(test_rv_shut_rdwr))
