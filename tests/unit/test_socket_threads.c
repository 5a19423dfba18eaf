/* tests/unit/test_socket_threads.c - many threads on one stack, and the
 * ts_server helper (suite `socket_threads`).
 *
 * Two threaded stacks on an in-memory wire (tests/unit/api_fixture.h).
 * Covers 8 client threads on stack A each running its own connect, echo,
 * close loop against a ts_server echo server on B (thread per connection),
 * byte-exact; UDP clients against ts_server_start_udp; ts_server_stop with
 * connections still open; ts_server_start's errors and port 0; a close
 * that wakes a recv or accept blocked in another thread; and sockets made
 * and closed by many threads at once. Threads other than the test's record
 * outcomes and the test asserts them after joining (CUnit is not
 * thread-safe). `make tsan` runs this suite under ThreadSanitizer.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "socket_api/ts_server.h"
#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define TH_PORT 7007
#define TH_CLIENTS 8
#define TH_ROUNDS 4
#define TH_UDP_CLIENTS 4
#define TH_DGRAMS 12

struct th_echo_ctx {
    int timeo;                  /* bound the handler's calls (ms), 0: none */
    atomic_int served;          /* handlers that returned */
};

/* ts_server handler: echo until end of stream. */
static void th_echo(struct ts_stack *st, int fd, const struct sockaddr_in *peer,
                    void *arg)
{
    struct th_echo_ctx *ctx = arg;
    uint8_t buf[8192];
    ssize_t n;
    (void)peer;
    if (ctx->timeo)
        af_timeo(st, fd, (unsigned)ctx->timeo);
    while ((n = ts_recv(st, fd, buf, sizeof buf, 0)) > 0)
        if (af_send_all(st, fd, buf, (size_t)n) < (size_t)n)
            break;
    atomic_fetch_add(&ctx->served, 1);
}

struct th_client {
    struct ts_stack *st;
    uint16_t port;
    int id;
    int rounds_ok;
    int err;                    /* errno of the first failure */
    const char *what;           /* and where it happened */
};

static int th_fail(struct th_client *c, const char *what, int err)
{
    if (!c->what) {
        c->what = what;
        c->err = err;
    }
    return -1;
}

/* One round: connect, send len pattern bytes, SHUT_WR, read the echo back
 * to end of stream, compare, close. */
static int th_round(struct th_client *c, uint8_t *out, uint8_t *in, size_t len,
                    uint32_t seed)
{
    int fd = ts_socket(c->st, AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return th_fail(c, "socket", errno);
    struct sockaddr_in to = af_sin(AF_IP_B, c->port);
    int rc = -1;
    af_pattern(out, len, seed, 0);
    if (af_timeo(c->st, fd, AF_TIMEO_MS) < 0)
        th_fail(c, "timeo", errno);
    else if (ts_connect(c->st, fd, AF_SA(to), sizeof to) < 0)
        th_fail(c, "connect", errno);
    else if (af_send_all(c->st, fd, out, len) < len)
        th_fail(c, "send", errno);
    else if (ts_shutdown(c->st, fd, SHUT_WR) < 0)
        th_fail(c, "shutdown", errno);
    else if (af_recv_all(c->st, fd, in, len) < len)
        th_fail(c, "recv", errno);
    else if (!af_expect(in, len, seed, 0))
        th_fail(c, "compare", EILSEQ);
    else if (ts_recv(c->st, fd, in, 1, 0) != 0)
        th_fail(c, "eof", errno);
    else
        rc = 0;
    ts_close(c->st, fd);
    return rc;
}

static void *th_client_main(void *arg)
{
    struct th_client *c = arg;
    size_t cap = 128 * 1024;
    uint8_t *out = malloc(cap), *in = malloc(cap);
    for (int r = 0; out && in && r < TH_ROUNDS; r++) {
        size_t len = 1000 + (size_t)c->id * 7919 + (size_t)r * 15013;
        if (th_round(c, out, in, len, (uint32_t)(c->id * 100 + r)) < 0)
            break;
        c->rounds_ok++;
    }
    free(out);
    free(in);
    return NULL;
}

static void test_threads_tcp_echo(void)
{
    struct af *f = af_open(0);
    struct th_echo_ctx ctx = { .timeo = AF_TIMEO_MS };
    struct ts_server *srv = ts_server_start(f->b, TH_PORT, th_echo, &ctx);
    CU_ASSERT_FATAL(srv != NULL);
    CU_ASSERT_EQUAL(ts_server_port(srv), TH_PORT);
    static struct th_client cl[TH_CLIENTS];     /* static: see af_join */
    pthread_t t[TH_CLIENTS];
    for (int i = 0; i < TH_CLIENTS; i++) {
        cl[i] = (struct th_client){ .st = f->a, .port = TH_PORT, .id = i };
        af_spawn(&t[i], th_client_main, &cl[i]);
    }
    for (int i = 0; i < TH_CLIENTS; i++)
        af_join(f, t[i]);
    for (int i = 0; i < TH_CLIENTS; i++) {
        if (cl[i].what)
            fprintf(stderr, "\nclient %d: %s: %s\n", i, cl[i].what,
                    strerror(cl[i].err));
        CU_ASSERT_EQUAL(cl[i].rounds_ok, TH_ROUNDS);
    }
    ts_server_stop(srv);
    CU_ASSERT_EQUAL(atomic_load(&ctx.served), TH_CLIENTS * TH_ROUNDS);
    af_close(f);
}

static void th_udp_echo(struct ts_stack *st, int fd, const void *data,
                        size_t len, const struct sockaddr_in *peer, void *ctx)
{
    (void)ctx;
    ts_sendto(st, fd, data, len, 0, (const struct sockaddr *)peer,
              sizeof *peer);
}

static void *th_udp_client_main(void *arg)
{
    struct th_client *c = arg;
    static const size_t cap = 4096;
    uint8_t out[4096], in[4096];
    int fd = ts_socket(c->st, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || af_timeo(c->st, fd, AF_TIMEO_MS) < 0) {
        th_fail(c, "socket", errno);
        return NULL;
    }
    struct sockaddr_in to = af_sin(AF_IP_B, c->port), from;
    for (int i = 0; i < TH_DGRAMS; i++) {
        size_t len = ((size_t)i * 977 + (size_t)c->id * 13) % cap + 1;
        uint32_t seed = (uint32_t)(c->id * 1000 + i);
        socklen_t flen = sizeof from;
        af_pattern(out, len, seed, 0);
        ssize_t sent = ts_sendto(c->st, fd, out, len, 0, AF_SA(to), sizeof to);
        if (sent != (ssize_t)len)
            return th_fail(c, "sendto", errno), NULL;
        ssize_t n = ts_recvfrom(c->st, fd, in, cap, 0, AF_SA(from), &flen);
        if (n != (ssize_t)len || !af_expect(in, len, seed, 0))
            return th_fail(c, "recvfrom", n < 0 ? errno : EILSEQ), NULL;
        if (from.sin_port != to.sin_port
            || from.sin_addr.s_addr != to.sin_addr.s_addr)
            return th_fail(c, "source", EINVAL), NULL;
        c->rounds_ok++;
    }
    ts_close(c->st, fd);
    return NULL;
}

static void test_threads_udp_server(void)
{
    struct af *f = af_open(0);
    struct ts_server *srv = ts_server_start_udp(f->b, TH_PORT, th_udp_echo,
                                                NULL);
    CU_ASSERT_FATAL(srv != NULL);
    CU_ASSERT_EQUAL(ts_server_port(srv), TH_PORT);
    static struct th_client cl[TH_UDP_CLIENTS];
    pthread_t t[TH_UDP_CLIENTS];
    for (int i = 0; i < TH_UDP_CLIENTS; i++) {
        cl[i] = (struct th_client){ .st = f->a, .port = TH_PORT, .id = i };
        af_spawn(&t[i], th_udp_client_main, &cl[i]);
    }
    for (int i = 0; i < TH_UDP_CLIENTS; i++)
        af_join(f, t[i]);
    for (int i = 0; i < TH_UDP_CLIENTS; i++) {
        if (cl[i].what)
            fprintf(stderr, "\nudp client %d: %s: %s\n", i, cl[i].what,
                    strerror(cl[i].err));
        CU_ASSERT_EQUAL(cl[i].rounds_ok, TH_DGRAMS);
    }
    ts_server_stop(srv);
    af_close(f);
}

static void *th_stop_main(void *arg)
{
    ts_server_stop(arg);
    return NULL;
}

/* Stop with connections open and their handlers blocked in recv (no
 * time-outs): each handler sees end of stream, stop returns, the clients
 * see end of stream. If stop hangs, closing the clients releases it and
 * the test fails. */
static void test_server_stop_with_conns(void)
{
    struct af *f = af_open(0);
    struct th_echo_ctx ctx = { .timeo = 0 };
    struct ts_server *srv = ts_server_start(f->b, TH_PORT, th_echo, &ctx);
    CU_ASSERT_FATAL(srv != NULL);
    int fds[4];
    char buf[4];
    struct sockaddr_in to = af_sin(AF_IP_B, TH_PORT);
    for (int i = 0; i < 4; i++) {
        fds[i] = af_socket(f->a, SOCK_STREAM);
        CU_ASSERT_EQUAL(ts_connect(f->a, fds[i], AF_SA(to), sizeof to), 0);
        CU_ASSERT_EQUAL(ts_send(f->a, fds[i], "hi", 2, 0), 2);
        CU_ASSERT_EQUAL(af_recv_all(f->a, fds[i], buf, 2), 2);  /* served */
    }
    pthread_t t;
    af_spawn(&t, th_stop_main, srv);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 3;
    if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
        CU_FAIL("ts_server_stop did not return with connections open");
        for (int i = 0; i < 4; i++)
            ts_shutdown(f->a, fds[i], SHUT_WR);
        af_join(f, t);
    }
    CU_ASSERT_EQUAL(atomic_load(&ctx.served), 4);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(ts_recv(f->a, fds[i], buf, sizeof buf, 0), 0);
    af_close(f);
}

static void test_server_start_errors(void)
{
    struct af *f = af_open(0);
    struct th_echo_ctx ctx = { .timeo = AF_TIMEO_MS };
    errno = 0;
    CU_ASSERT_PTR_NULL(ts_server_start(f->b, TH_PORT, NULL, NULL));
    CU_ASSERT_EQUAL(errno, EINVAL);
    CU_ASSERT_PTR_NULL(ts_server_start_udp(f->b, TH_PORT, NULL, NULL));
    CU_ASSERT_EQUAL(errno, EINVAL);
    struct ts_server *s1 = ts_server_start(f->b, TH_PORT, th_echo, &ctx);
    struct ts_server *u1 = ts_server_start_udp(f->b, TH_PORT, th_udp_echo,
                                               NULL);
    CU_ASSERT(s1 != NULL && u1 != NULL);
    errno = 0;
    CU_ASSERT_PTR_NULL(ts_server_start(f->b, TH_PORT, th_echo, &ctx));
    CU_ASSERT_EQUAL(errno, EADDRINUSE);
    errno = 0;
    CU_ASSERT_PTR_NULL(ts_server_start_udp(f->b, TH_PORT, th_udp_echo, NULL));
    CU_ASSERT_EQUAL(errno, EADDRINUSE);
    ts_server_stop(s1);
    ts_server_stop(u1);
    ts_server_stop(NULL);
    af_close(f);
}

/* Port 0: the server gets a free port and says which. */
static void test_server_port_zero(void)
{
    struct af *f = af_open(0);
    struct th_echo_ctx ctx = { .timeo = AF_TIMEO_MS };
    struct ts_server *srv = ts_server_start(f->b, 0, th_echo, &ctx);
    CU_ASSERT_FATAL(srv != NULL);
    uint16_t port = ts_server_port(srv);
    CU_ASSERT(port != 0);
    struct th_client c = { .st = f->a, .port = port, .id = 1 };
    uint8_t out[512], in[512];
    CU_ASSERT_EQUAL(th_round(&c, out, in, sizeof out, 77), 0);
    ts_server_stop(srv);
    af_close(f);
}

/* A call blocked in one thread, and the descriptor closed in another. */
struct th_blocked {
    struct ts_stack *st;
    int fd, accept;
    long rc;
    int err;
};

static void *th_blocked_main(void *arg)
{
    struct th_blocked *b = arg;
    char buf[8];
    b->rc = b->accept ? ts_accept(b->st, b->fd, NULL, NULL)
                      : (long)ts_recv(b->st, b->fd, buf, sizeof buf, 0);
    b->err = errno;
    return NULL;
}

static void th_close_wakes(int accept)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, TH_PORT, &c, &s) == 0);
    int l = af_listener(f->b, TH_PORT + 1);
    static struct th_blocked b;     /* static: see af_join */
    b = (struct th_blocked){ f->b, accept ? l : s, accept, 0, 0 };
    pthread_t t;
    af_spawn(&t, th_blocked_main, &b);
    af_sleep_ms(30);
    CU_ASSERT_EQUAL(ts_close(f->b, b.fd), 0);
    if (af_join(f, t) == 0) {
        CU_ASSERT_EQUAL(b.rc, -1);
        CU_ASSERT_EQUAL(b.err, EBADF);
    }
    af_close(f);
}

static void test_close_wakes_recv(void)
{
    th_close_wakes(0);
}

static void test_close_wakes_accept(void)
{
    th_close_wakes(1);
}

/* Threads making and closing sockets at once: every descriptor handed out
 * is unique while it is open. */
struct th_churn {
    struct ts_stack *st;
    atomic_uchar *owner;        /* one byte per slot: 1 while in use */
    int errors;
};

static void *th_churn_main(void *arg)
{
    struct th_churn *c = arg;
    for (int i = 0; i < 300; i++) {
        int fd = ts_socket(c->st, AF_INET, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0);
        if (fd < 0 || fd >= 1024 ||
            atomic_exchange(&c->owner[fd], 1) != 0) {
            c->errors++;
            continue;
        }
        int v = i, got = -1;
        socklen_t len = sizeof got;
        if (ts_setsockopt(c->st, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) < 0 ||
            ts_getsockopt(c->st, fd, SOL_SOCKET, SO_TYPE, &got, &len) < 0 ||
            got != (i % 2 ? SOCK_DGRAM : SOCK_STREAM))
            c->errors++;
        atomic_store(&c->owner[fd], 0);
        if (ts_close(c->st, fd) < 0)
            c->errors++;
    }
    return NULL;
}

static void test_threads_socket_churn(void)
{
    struct af *f = af_open(0);
    static atomic_uchar owner[1024];
    static struct th_churn ch[TH_CLIENTS];
    pthread_t t[TH_CLIENTS];
    for (int i = 0; i < TH_CLIENTS; i++) {
        ch[i] = (struct th_churn){ f->a, owner, 0 };
        af_spawn(&t[i], th_churn_main, &ch[i]);
    }
    for (int i = 0; i < TH_CLIENTS; i++)
        if (af_join(f, t[i]) == 0)
            CU_ASSERT_EQUAL(ch[i].errors, 0);
    af_close(f);
}

TS_SUITE(socket_threads,
         TS_TEST(test_threads_tcp_echo),
         TS_TEST(test_threads_udp_server),
         TS_TEST(test_server_stop_with_conns),
         TS_TEST(test_server_start_errors),
         TS_TEST(test_server_port_zero),
         TS_TEST(test_close_wakes_recv),
         TS_TEST(test_close_wakes_accept),
         TS_TEST(test_threads_socket_churn))
