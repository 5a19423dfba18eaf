/* tests/unit/test_socket_poll.c - ts_poll (suite `socket_poll`).
 *
 * Two threaded stacks on an in-memory wire (tests/unit/api_fixture.h).
 * Covers POLLIN for data, end of stream, a pending accept and a UDP
 * datagram; POLLOUT on a connection and again once a full send buffer
 * drains; POLLERR and POLLHUP after a reset; POLLNVAL; the time-out; and a
 * poll blocked in one thread woken by another thread's send, shutdown or
 * close.
 */
#include <fcntl.h>

#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define PO_PORT 7001

/* Poll one descriptor; returns its revents (asserting the count fits). */
static short po_one(struct ts_stack *st, int fd, short events, int timeout)
{
    struct pollfd p = { .fd = fd, .events = events, .revents = (short)0x7fff };
    int n = ts_poll(st, &p, 1, timeout);
    CU_ASSERT_EQUAL(n, p.revents ? 1 : 0);
    return p.revents;
}

static void test_poll_data(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, PO_PORT, &c, &s) == 0);
    CU_ASSERT_EQUAL(po_one(f->b, s, POLLIN, 0), 0);
    CU_ASSERT_EQUAL(ts_send(f->a, c, "abc", 3, 0), 3);
    CU_ASSERT_EQUAL(po_one(f->b, s, POLLIN, AF_TIMEO_MS), POLLIN);
    CU_ASSERT_EQUAL(po_one(f->b, s, POLLIN | POLLOUT, 0), POLLIN | POLLOUT);
    char buf[3];
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 3), 3);
    CU_ASSERT_EQUAL(po_one(f->b, s, POLLIN, 0), 0);
    af_close(f);
}

static void test_poll_eof(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, PO_PORT, &c, &s) == 0);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, c, SHUT_WR), 0);
    CU_ASSERT(po_one(f->b, s, POLLIN, AF_TIMEO_MS) & POLLIN);
    char ch;
    CU_ASSERT_EQUAL(ts_recv(f->b, s, &ch, 1, 0), 0);
    CU_ASSERT(po_one(f->b, s, POLLIN, 0) & POLLIN);      /* EOF stays */
    af_close(f);
}

static void test_poll_accept(void)
{
    struct af *f = af_open(0);
    int l = af_listener(f->b, PO_PORT);
    CU_ASSERT_EQUAL(po_one(f->b, l, POLLIN, 0), 0);
    CU_ASSERT_EQUAL(po_one(f->b, l, POLLOUT, 0), 0);    /* never writable */
    int c = af_socket(f->a, SOCK_STREAM);
    struct sockaddr_in to = af_sin(AF_IP_B, PO_PORT);
    CU_ASSERT_EQUAL(ts_connect(f->a, c, AF_SA(to), sizeof to), 0);
    CU_ASSERT_EQUAL(po_one(f->b, l, POLLIN, AF_TIMEO_MS), POLLIN);
    CU_ASSERT(af_accept(f->b, l) >= 0);
    CU_ASSERT_EQUAL(po_one(f->b, l, POLLIN, 0), 0);
    af_close(f);
}

static void test_poll_udp(void)
{
    struct af *f = af_open(0);
    int a = af_socket(f->a, SOCK_DGRAM);
    int b = af_socket(f->b, SOCK_DGRAM);
    struct sockaddr_in sin = af_sin(0, PO_PORT);
    CU_ASSERT_EQUAL(ts_bind(f->b, b, AF_SA(sin), sizeof sin), 0);
    CU_ASSERT_EQUAL(po_one(f->b, b, POLLIN, 0), 0);
    CU_ASSERT_EQUAL(po_one(f->b, b, POLLOUT, 0), POLLOUT);
    sin = af_sin(AF_IP_B, PO_PORT);
    CU_ASSERT_EQUAL(ts_sendto(f->a, a, "d", 1, 0, AF_SA(sin), sizeof sin), 1);
    CU_ASSERT_EQUAL(po_one(f->b, b, POLLIN, AF_TIMEO_MS), POLLIN);
    char ch;
    CU_ASSERT_EQUAL(ts_recv(f->b, b, &ch, 1, 0), 1);
    CU_ASSERT_EQUAL(po_one(f->b, b, POLLIN, 0), 0);
    af_close(f);
}

/* Small buffers both ends, filled with MSG_DONTWAIT; 1 when no more room
 * for long enough that POLLOUT is clearly off. */
static int po_fill(struct ts_stack *st, int fd)
{
    static uint8_t chunk[4096];
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 1000; i++)
            if (ts_send(st, fd, chunk, sizeof chunk, MSG_DONTWAIT) < 0)
                break;
        if (po_one(st, fd, POLLOUT, 20) == 0)
            return 1;
    }
    return 0;
}

static void test_poll_pollout(void)
{
    struct af *f = af_open(0);
    int l = af_socket(f->b, SOCK_STREAM);
    int small = 8192;           /* buffer sizes go before listen/connect */
    struct sockaddr_in sin = af_sin(0, PO_PORT);
    CU_ASSERT_EQUAL(af_setint(f->b, l, SOL_SOCKET, SO_RCVBUF, small), 0);
    CU_ASSERT_EQUAL(ts_bind(f->b, l, AF_SA(sin), sizeof sin), 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, l, 4), 0);
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_setint(f->a, c, SOL_SOCKET, SO_SNDBUF, small), 0);
    struct sockaddr_in to = af_sin(AF_IP_B, PO_PORT);
    CU_ASSERT_EQUAL(ts_connect(f->a, c, AF_SA(to), sizeof to), 0);
    int s = af_accept(f->b, l);
    CU_ASSERT_FATAL(s >= 0);
    CU_ASSERT_EQUAL(po_one(f->a, c, POLLOUT, AF_TIMEO_MS), POLLOUT);
    CU_ASSERT(po_fill(f->a, c));
    /* The reader drains; the window opens; room comes back. */
    static uint8_t buf[65536];
    ssize_t n;
    size_t total = 0;
    while ((n = ts_recv(f->b, s, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        total += (size_t)n;
    CU_ASSERT(total > 0);       /* near 8 KiB; sender SWS avoidance may hold
                                   back the last part of a segment */
    CU_ASSERT(po_one(f->a, c, POLLOUT, AF_TIMEO_MS) & POLLOUT);
    CU_ASSERT(ts_send(f->a, c, buf, 1, MSG_DONTWAIT) == 1);
    af_close(f);
}

/* After a reset: readable (to read the error), POLLERR and POLLHUP, and
 * SO_ERROR says why. Poll for POLLIN only: it is the reset that wakes it. */
static void test_poll_reset(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, PO_PORT, &c, &s) == 0);
    struct linger lg = { 1, 0 };
    CU_ASSERT_EQUAL(ts_setsockopt(f->b, s, SOL_SOCKET, SO_LINGER, &lg,
                                  sizeof lg), 0);
    CU_ASSERT_EQUAL(ts_close(f->b, s), 0);
    short ev = po_one(f->a, c, POLLIN, AF_TIMEO_MS);
    CU_ASSERT(ev & POLLERR);
    CU_ASSERT(ev & POLLHUP);
    CU_ASSERT(ev & POLLIN);
    int err = 0;
    socklen_t len = sizeof err;
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, c, SOL_SOCKET, SO_ERROR, &err, &len),
                    0);
    CU_ASSERT_EQUAL(err, ECONNRESET);
    /* POLLERR and POLLHUP come whether asked for or not. */
    CU_ASSERT_EQUAL(po_one(f->a, c, 0, 0) & (POLLERR | POLLHUP),
                    POLLERR | POLLHUP);
    af_close(f);
}

static void test_poll_nval(void)
{
    struct af *f = af_open(0);
    int t = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    int gone = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(ts_close(f->a, gone), 0);
    struct pollfd p[5] = {
        { .fd = 999, .events = POLLIN }, { .fd = 5000, .events = POLLIN },
        { .fd = -1, .events = POLLIN, .revents = POLLIN },
        { .fd = gone, .events = POLLOUT }, { .fd = t, .events = POLLOUT },
    };
    CU_ASSERT_EQUAL(ts_poll(f->a, p, 5, 0), 4);
    CU_ASSERT_EQUAL(p[0].revents, POLLNVAL);
    CU_ASSERT_EQUAL(p[1].revents, POLLNVAL);
    CU_ASSERT_EQUAL(p[2].revents, 0);           /* negative: ignored */
    CU_ASSERT_EQUAL(p[3].revents, POLLNVAL);
    /* An unconnected TCP socket: POLLOUT | POLLHUP, like Linux. */
    CU_ASSERT_EQUAL(p[4].revents, POLLOUT | POLLHUP);
    AF_FAILS(ts_poll(f->a, NULL, 1, 0), EFAULT);
    af_close(f);
}

static void test_poll_timeout(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, PO_PORT, &c, &s) == 0);
    struct pollfd p[2] = { { .fd = s, .events = POLLIN }, { .fd = -1 } };
    uint64_t t0 = af_now_ms();
    CU_ASSERT_EQUAL(ts_poll(f->b, p, 2, 150), 0);
    CU_ASSERT(af_now_ms() - t0 >= 150 - AF_MARGIN_MS);
    CU_ASSERT(p[0].revents == 0 && p[1].revents == 0);
    t0 = af_now_ms();
    CU_ASSERT_EQUAL(ts_poll(f->b, NULL, 0, 100), 0);    /* a plain sleep */
    CU_ASSERT(af_now_ms() - t0 >= 100 - AF_MARGIN_MS);
    af_close(f);
}

/* A ts_poll with no time-out, run by a helper thread. */
struct po_waiter {
    struct ts_stack *st;
    struct pollfd p;
    int n, err;
};

static void *po_waiter_main(void *arg)
{
    struct po_waiter *w = arg;
    w->n = ts_poll(w->st, &w->p, 1, -1);
    w->err = w->n < 0 ? errno : 0;
    return NULL;
}

/* Start a waiter polling fd on st for events (forever); give it time to
 * block before the caller acts (it works either way). */
static void po_wait_start(pthread_t *t, struct po_waiter *w,
                          struct ts_stack *st, int fd, short events)
{
    memset(w, 0, sizeof *w);
    w->st = st;
    w->p.fd = fd;
    w->p.events = events;
    af_spawn(t, po_waiter_main, w);
    af_sleep_ms(30);
}

static void test_poll_woken_by_data(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, PO_PORT, &c, &s) == 0);
    pthread_t t;
    static struct po_waiter w;      /* static: see af_join */
    po_wait_start(&t, &w, f->b, s, POLLIN);
    CU_ASSERT_EQUAL(ts_send(f->a, c, "wake", 4, 0), 4);
    if (af_join(f, t) == 0) {
        CU_ASSERT_EQUAL(w.n, 1);
        CU_ASSERT_EQUAL(w.p.revents, POLLIN);
    }
    af_close(f);
}

/* Local events wake a poll too: our own shutdown(SHUT_RD) makes the socket
 * readable (end of stream), our close makes it POLLNVAL. If the wake-up is
 * missing, a datagram to another socket on B rescues the waiter (every
 * socket event makes pollers look again) and the test fails. */
static void po_local_wake(int shut)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, PO_PORT, &c, &s) == 0);
    int spare = af_socket(f->b, SOCK_DGRAM);     /* for the rescue */
    struct sockaddr_in sin = af_sin(0, PO_PORT);
    CU_ASSERT_EQUAL(ts_bind(f->b, spare, AF_SA(sin), sizeof sin), 0);
    int u = af_socket(f->a, SOCK_DGRAM);
    pthread_t t;
    static struct po_waiter w;      /* static: see af_join */
    po_wait_start(&t, &w, f->b, s, POLLIN);
    int rc = shut ? ts_shutdown(f->b, s, SHUT_RD) : ts_close(f->b, s);
    CU_ASSERT_EQUAL(rc, 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 3;
    if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
        CU_FAIL("poll not woken by a local event");
        sin = af_sin(AF_IP_B, PO_PORT);     /* any event on B rescans */
        ts_sendto(f->a, u, "rescue", 6, 0, AF_SA(sin), sizeof sin);
        af_join(f, t);
    }
    CU_ASSERT_EQUAL(w.n, 1);
    CU_ASSERT_EQUAL(w.p.revents, shut ? POLLIN : POLLNVAL);
    af_close(f);
}

static void test_poll_woken_by_shutdown(void)
{
    po_local_wake(1);
}

static void test_poll_woken_by_close(void)
{
    po_local_wake(0);
}

TS_SUITE(socket_poll,
         TS_TEST(test_poll_data),
         TS_TEST(test_poll_eof),
         TS_TEST(test_poll_accept),
         TS_TEST(test_poll_udp),
         TS_TEST(test_poll_pollout),
         TS_TEST(test_poll_reset),
         TS_TEST(test_poll_nval),
         TS_TEST(test_poll_timeout),
         TS_TEST(test_poll_woken_by_data),
         TS_TEST(test_poll_woken_by_shutdown),
         TS_TEST(test_poll_woken_by_close))
