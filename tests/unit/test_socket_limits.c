/* tests/unit/test_socket_limits.c - the limits as options, and servers at
 * a limit (suite `socket_limits`).
 *
 * max_conns in ts_stack_config reaches the TCP table: a stack of 16 holds
 * 16 connections and refuses the 17th (counted as drop_no_tcb). A
 * ts_server out of sockets (EMFILE) pauses between accepts instead of
 * spinning on the error, and serves the connection that waited as soon as
 * a socket frees. The pause is checked by a count of failed accepts
 * against the time that passed (a spinning loop makes thousands a second),
 * never by how long anything took. A new socket still takes the lowest
 * free slot.
 */
#include <stdatomic.h>

#include "socket_api/ts_server.h"
#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define LIM_PORT 7110
#define LIM_SOCKETS 16
#define LIM_CONNS 16

/* ts_server handler: echo until end of stream (bounded by a time-out). */
static void lim_echo(struct ts_stack *st, int fd, const struct sockaddr_in *peer,
                     void *arg)
{
    uint8_t buf[512];
    ssize_t n;
    (void)peer;
    (void)arg;
    af_timeo(st, fd, 10000);
    while ((n = ts_recv(st, fd, buf, sizeof buf, 0)) > 0)
        if (af_send_all(st, fd, buf, (size_t)n) < (size_t)n)
            break;
}

static void test_limits_server_backs_off(void)
{
    struct af *f = af_open(LIM_SOCKETS);
    struct ts_server *srv = ts_server_start(f->b, LIM_PORT, lim_echo, NULL);
    CU_ASSERT_FATAL(srv != NULL);
    /* The server's listener and 15 handlers fill B's 16 sockets. */
    int cfd[LIM_SOCKETS];
    for (int i = 0; i < LIM_SOCKETS; i++) {
        cfd[i] = af_socket(f->a, SOCK_STREAM);
        CU_ASSERT_EQUAL(af_connect(f->a, cfd[i], AF_IP_B, LIM_PORT), 0);
    }
    /* The 16th waits in the accept queue while accept says EMFILE. */
    for (int i = 0; i < 500 && ts_server_accept_failures(srv) < 3; i++)
        af_sleep_ms(10);
    CU_ASSERT(ts_server_accept_failures(srv) >= 3);
    uint64_t t0 = af_now_ms();
    unsigned long f0 = ts_server_accept_failures(srv);
    af_sleep_ms(300);
    unsigned long tried = ts_server_accept_failures(srv) - f0;
    uint64_t elapsed = af_now_ms() - t0;
    CU_ASSERT(tried <= 10 + elapsed / 10);
    /* A socket frees: the waiting connection is served. */
    ts_close(f->a, cfd[0]);
    static const char ping[] = "ping";
    char back[sizeof ping] = "";
    CU_ASSERT_EQUAL(af_send_all(f->a, cfd[LIM_SOCKETS - 1], ping, sizeof ping),
                    sizeof ping);
    CU_ASSERT_EQUAL(af_recv_all(f->a, cfd[LIM_SOCKETS - 1], back, sizeof back),
                    sizeof back);
    CU_ASSERT_STRING_EQUAL(back, ping);
    for (int i = 1; i < LIM_SOCKETS; i++)
        ts_close(f->a, cfd[i]);
    ts_server_stop(srv);
    af_close(f);
}

static void test_limits_max_conns_option(void)
{
    struct af *f = af_open_limits(0, LIM_CONNS);
    int lfd = af_socket(f->b, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_bind(f->b, lfd, 0, LIM_PORT), 0);
    CU_ASSERT_EQUAL(ts_listen(f->b, lfd, 64), 0);
    int cfd[LIM_CONNS + 1];
    for (int i = 0; i < LIM_CONNS; i++) {
        cfd[i] = af_socket(f->a, SOCK_STREAM);
        CU_ASSERT_EQUAL(af_connect(f->a, cfd[i], AF_IP_B, LIM_PORT), 0);
    }
    CU_ASSERT_EQUAL(af_counter(f->a, "tcp", "conns_now"), LIM_CONNS);
    CU_ASSERT_EQUAL(af_counter(f->b, "tcp", "conns_now"), LIM_CONNS);
    /* A's table is full: the next open is refused at once, and counted. */
    cfd[LIM_CONNS] = af_socket(f->a, SOCK_STREAM);
    errno = 0;
    CU_ASSERT_EQUAL(af_connect(f->a, cfd[LIM_CONNS], AF_IP_B, LIM_PORT), -1);
    CU_ASSERT_NOT_EQUAL(errno, 0);
    CU_ASSERT(af_counter(f->a, "tcp", "drop_no_tcb") >= 1);
    CU_ASSERT_EQUAL(af_counter(f->a, "tcp", "conns_now"), LIM_CONNS);
    for (int i = 0; i <= LIM_CONNS; i++)
        ts_close(f->a, cfd[i]);
    ts_close(f->b, lfd);
    af_close(f);
}

/* A new socket takes the lowest free slot, as a kernel descriptor would,
 * though the scan for it starts past the slots known to be in use. */
static void test_limits_lowest_free_slot(void)
{
    struct af *f = af_open(LIM_SOCKETS);
    int fd[6];
    for (int i = 0; i < 6; i++)
        fd[i] = ts_socket(f->a, AF_INET, SOCK_STREAM, 0);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(fd[i], i);
    CU_ASSERT_EQUAL(ts_close(f->a, 3), 0);
    CU_ASSERT_EQUAL(ts_close(f->a, 1), 0);
    CU_ASSERT_EQUAL(ts_socket(f->a, AF_INET, SOCK_DGRAM, 0), 1);
    CU_ASSERT_EQUAL(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), 3);
    CU_ASSERT_EQUAL(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), 6);
    /* Full, then one frees: that one, and EMFILE again after it. */
    for (int i = 7; i < LIM_SOCKETS; i++)
        CU_ASSERT_EQUAL(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), i);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), EMFILE);
    CU_ASSERT_EQUAL(ts_close(f->a, 9), 0);
    CU_ASSERT_EQUAL(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), 9);
    AF_FAILS(ts_socket(f->a, AF_INET, SOCK_STREAM, 0), EMFILE);
    for (int i = 0; i < LIM_SOCKETS; i++)
        ts_close(f->a, i);
    af_close(f);
}

TS_SUITE(socket_limits,
         TS_TEST(test_limits_server_backs_off),
         TS_TEST(test_limits_max_conns_option),
         TS_TEST(test_limits_lowest_free_slot))
