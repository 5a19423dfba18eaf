/* tests/unit/test_socket_io.c - TCP data through the socket API (suite
 * `socket_io`).
 *
 * Two threaded stacks on an in-memory wire (tests/unit/api_fixture.h).
 * Covers byte-exact transfers of more than 1 MiB both ways at once, end of
 * stream after the peer's shutdown(SHUT_WR) (and the half-open direction
 * still working), ECONNRESET after the peer resets (SO_LINGER {1, 0}),
 * EPIPE after our own SHUT_WR, ENOTCONN on an unconnected socket,
 * SO_RCVTIMEO and MSG_DONTWAIT (EAGAIN), a full send buffer, SHUT_RD,
 * zero-length sends, bad flags, and SO_LINGER with a time.
 */
#include "tests/unit/api_fixture.h"
#include "tests/unit/unit.h"

#define IO_PORT 6001

static void test_bulk_both_ways(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    /* Static: a helper that overstays (af_join) must not write into a
     * stack frame that is gone. */
    static struct af_xfer up_tx, up_rx, dn_tx, dn_rx;
    up_tx = (struct af_xfer){ f->a, c, (1u << 20) + 4099, 11, 1, 0, 0, 0 };
    up_rx = (struct af_xfer){ f->b, s, (1u << 20) + 4099, 11, 1, 0, 0, 0 };
    dn_tx = (struct af_xfer){ f->b, s, (5u << 18) + 1, 22, 1, 0, 0, 0 };
    dn_rx = (struct af_xfer){ f->a, c, (5u << 18) + 1, 22, 1, 0, 0, 0 };
    pthread_t t[3];
    af_spawn(&t[0], af_sender_main, &up_tx);
    af_spawn(&t[1], af_sender_main, &dn_tx);
    af_spawn(&t[2], af_receiver_main, &dn_rx);
    af_receiver_main(&up_rx);
    for (int i = 0; i < 3; i++)
        af_join(f, t[i]);
    CU_ASSERT(up_tx.ok && dn_tx.ok);
    CU_ASSERT_EQUAL(up_rx.done, up_rx.len);
    CU_ASSERT_EQUAL(dn_rx.done, dn_rx.len);
    CU_ASSERT_EQUAL(up_rx.err, 0);
    CU_ASSERT_EQUAL(dn_rx.err, 0);
    CU_ASSERT(up_rx.ok && dn_rx.ok);
    af_close(f);
}

/* After the peer's SHUT_WR: what it sent, then 0 (for good); the other
 * direction still carries data until it is shut too. */
static void test_eof_after_shutdown(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    char buf[16];
    CU_ASSERT_EQUAL(ts_send(f->a, c, "hello", 5, 0), 5);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, c, SHUT_WR), 0);
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 5), 5);
    CU_ASSERT_EQUAL(memcmp(buf, "hello", 5), 0);
    CU_ASSERT_EQUAL(ts_recv(f->b, s, buf, sizeof buf, 0), 0);
    CU_ASSERT_EQUAL(ts_recv(f->b, s, buf, sizeof buf, 0), 0);
    CU_ASSERT_EQUAL(ts_recv(f->b, s, buf, sizeof buf, MSG_DONTWAIT), 0);
    CU_ASSERT_EQUAL(ts_send(f->b, s, "world", 5, 0), 5);    /* half open */
    CU_ASSERT_EQUAL(af_recv_all(f->a, c, buf, 5), 5);
    CU_ASSERT_EQUAL(memcmp(buf, "world", 5), 0);
    CU_ASSERT_EQUAL(ts_shutdown(f->b, s, SHUT_WR), 0);
    CU_ASSERT_EQUAL(ts_recv(f->a, c, buf, sizeof buf, 0), 0);
    af_close(f);
}

/* Abortive close: SO_LINGER {1, 0} then close sends RST. */
static void io_reset(struct af *f, int s)
{
    struct linger lg = { 1, 0 };
    CU_ASSERT_EQUAL(ts_setsockopt(f->b, s, SOL_SOCKET, SO_LINGER, &lg,
                                  sizeof lg), 0);
    CU_ASSERT_EQUAL(ts_close(f->b, s), 0);
}

static void test_recv_after_reset(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    io_reset(f, s);
    char buf[8];
    AF_FAILS(ts_recv(f->a, c, buf, sizeof buf, 0), ECONNRESET);
    errno = 0;
    CU_ASSERT_EQUAL(ts_send(f->a, c, "x", 1, 0), -1);
    CU_ASSERT(errno == ECONNRESET || errno == EPIPE);
    CU_ASSERT_EQUAL(ts_close(f->a, c), 0);
    af_close(f);
}

/* Data that arrived before the reset is delivered before the error. */
static void test_reset_after_data(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    CU_ASSERT_EQUAL(ts_send(f->b, s, "last", 4, 0), 4);
    char buf[8];
    CU_ASSERT_EQUAL(af_recv_all(f->a, c, buf, 4), 4);
    io_reset(f, s);
    AF_FAILS(ts_recv(f->a, c, buf, sizeof buf, 0), ECONNRESET);
    af_close(f);
}

static void test_send_after_shutdown(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, c, SHUT_WR), 0);
    AF_FAILS(ts_send(f->a, c, "x", 1, 0), EPIPE);     /* and no SIGPIPE */
    AF_FAILS(ts_send(f->a, c, "x", 1, MSG_NOSIGNAL), EPIPE);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, c, SHUT_WR), 0);  /* again: fine */
    char ch;
    CU_ASSERT_EQUAL(ts_recv(f->b, s, &ch, 1, 0), 0);
    af_close(f);
}

static void test_shutdown_errors(void)
{
    struct af *f = af_open(0);
    int t = af_socket(f->a, SOCK_STREAM);
    int u = af_socket(f->a, SOCK_DGRAM);
    AF_FAILS(ts_shutdown(f->a, t, SHUT_WR), ENOTCONN);
    AF_FAILS(ts_shutdown(f->a, u, SHUT_RDWR), ENOTCONN);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    AF_FAILS(ts_shutdown(f->a, c, 7), EINVAL);
    AF_FAILS(ts_shutdown(f->a, c, -1), EINVAL);
    af_close(f);
}

/* SHUT_RD: recv reports end of stream at once, even with data waiting. */
static void test_shutdown_read(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    CU_ASSERT_EQUAL(ts_shutdown(f->b, s, SHUT_RD), 0);
    char buf[4];
    CU_ASSERT_EQUAL(ts_recv(f->b, s, buf, sizeof buf, 0), 0);
    /* writing still works */
    CU_ASSERT_EQUAL(ts_send(f->b, s, "ok", 2, 0), 2);
    CU_ASSERT_EQUAL(af_recv_all(f->a, c, buf, 2), 2);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, c, SHUT_RDWR), 0);
    CU_ASSERT_EQUAL(ts_recv(f->a, c, buf, sizeof buf, 0), 0);
    AF_FAILS(ts_send(f->a, c, "x", 1, 0), EPIPE);
    af_close(f);
}

static void test_unconnected_io(void)
{
    struct af *f = af_open(0);
    int t = af_socket(f->a, SOCK_STREAM);
    int l = af_listener(f->a, IO_PORT);
    char buf[4] = "abc";
    AF_FAILS(ts_send(f->a, t, buf, 3, 0), ENOTCONN);
    AF_FAILS(ts_recv(f->a, t, buf, 3, 0), ENOTCONN);
    AF_FAILS(ts_send(f->a, l, buf, 3, 0), ENOTCONN);
    AF_FAILS(ts_recv(f->a, l, buf, 3, 0), ENOTCONN);
    struct sockaddr_in to = af_sin(AF_IP_B, IO_PORT);
    AF_FAILS(ts_sendto(f->a, t, buf, 3, 0, AF_SA(to), sizeof to), ENOTCONN);
    af_close(f);
}

static void test_recv_timeout(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    CU_ASSERT_EQUAL(af_timeo(f->b, s, 200), 0);
    char buf[4];
    uint64_t t0 = af_now_ms();
    AF_FAILS(ts_recv(f->b, s, buf, sizeof buf, 0), EAGAIN);
    CU_ASSERT(af_now_ms() - t0 >= 200 - AF_MARGIN_MS);
    /* The socket is fine afterwards. */
    CU_ASSERT_EQUAL(ts_send(f->a, c, "abc", 3, 0), 3);
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 3), 3);
    af_close(f);
}

static void test_dontwait(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    char buf[4];
    AF_FAILS(ts_recv(f->b, s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    AF_FAILS(ts_recvfrom(f->b, s, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL),
             EAGAIN);
    CU_ASSERT_EQUAL(ts_send(f->a, c, "abc", 3, MSG_DONTWAIT), 3);
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    CU_ASSERT_EQUAL(ts_recvfrom(f->b, s, buf, sizeof buf, 0, AF_SA(from),
                                &len), 3);
    CU_ASSERT_EQUAL(ntohl(from.sin_addr.s_addr), AF_IP_A);
    CU_ASSERT_EQUAL(memcmp(buf, "abc", 3), 0);
    af_close(f);
}

/* Send up to len bytes of pattern stream 3 from offset *off; advances
 * *off by what was taken. Returns what ts_send returned. */
static ssize_t io_send_pat(struct ts_stack *st, int fd, size_t len, int flags,
                           size_t *off)
{
    static uint8_t chunk[65536];
    af_pattern(chunk, len, 3, *off);
    ssize_t n = ts_send(st, fd, chunk, len, flags);
    if (n > 0)
        *off += (size_t)n;
    return n;
}

/* Fill the send side with MSG_DONTWAIT (the peer reads nothing) until no
 * room comes back for a while: the peer's window is shut, our ring full.
 * (Zero-window probes may still take a byte now and then.) */
static void io_fill(struct ts_stack *st, int fd, size_t *off)
{
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 1000; i++)
            if (io_send_pat(st, fd, 8192, MSG_DONTWAIT, off) < 0)
                break;
        CU_ASSERT_EQUAL(errno, EAGAIN);
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (ts_poll(st, &p, 1, 30) == 0)
            return;
    }
    CU_FAIL("send buffer never filled");
}

/* A blocking send on a full buffer waits SO_SNDTIMEO, then returns what
 * fit (EAGAIN if nothing); the reader gets exactly what was accepted. */
static void test_send_buffer_full(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    size_t queued = 0;
    io_fill(f->a, c, &queued);
    CU_ASSERT(queued >= 256 * 1024);            /* at least the send ring */
    CU_ASSERT_EQUAL(af_timeo(f->a, c, 100), 0);
    uint64_t t0 = af_now_ms();
    errno = 0;
    ssize_t n = io_send_pat(f->a, c, 65536, 0, &queued);
    CU_ASSERT(af_now_ms() - t0 >= 100 - AF_MARGIN_MS);
    CU_ASSERT((n == -1 && errno == EAGAIN) || (n >= 0 && n < 65536));
    n = io_send_pat(f->a, c, 65536, MSG_DONTWAIT, &queued);
    CU_ASSERT((n == -1 && errno == EAGAIN) || (n >= 0 && n < 65536));
    static uint8_t buf[65536];
    size_t got = 0;
    while (got < queued && (n = ts_recv(f->b, s, buf, sizeof buf, 0)) > 0) {
        CU_ASSERT(af_expect(buf, (size_t)n, 3, got));
        got += (size_t)n;
    }
    CU_ASSERT_EQUAL(got, queued);
    AF_FAILS(ts_recv(f->b, s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    af_close(f);
}

static void test_zero_length(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    char buf[4] = "abc";
    CU_ASSERT_EQUAL(ts_send(f->a, c, buf, 0, 0), 0);
    CU_ASSERT_EQUAL(ts_send(f->a, c, buf, 0, MSG_DONTWAIT), 0);
    CU_ASSERT_EQUAL(ts_send(f->a, c, buf, 3, 0), 3);
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 3), 3);
    CU_ASSERT_EQUAL(ts_shutdown(f->a, c, SHUT_WR), 0);
    AF_FAILS(ts_send(f->a, c, buf, 0, 0), EPIPE);
    af_close(f);
}

static void test_bad_flags(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    char buf[4] = "abc";
    CU_ASSERT_EQUAL(ts_send(f->a, c, buf, 3, 0), 3);
    AF_FAILS(ts_recv(f->b, s, buf, 3, MSG_PEEK), EINVAL);     /* documented */
    AF_FAILS(ts_recv(f->b, s, buf, 3, MSG_WAITALL), EINVAL);
    AF_FAILS(ts_send(f->a, c, buf, 3, MSG_OOB), EINVAL);
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, buf, 3), 3);   /* nothing consumed */
    CU_ASSERT_EQUAL(memcmp(buf, "abc", 3), 0);
    af_close(f);
}

/* SO_LINGER with a time: close waits for the FIN's ACK, and the peer reads
 * everything that was queued and then end of stream, not a reset. */
static void test_linger_graceful(void)
{
    struct af *f = af_open(0);
    int c, s;
    CU_ASSERT_FATAL(af_pair(f, IO_PORT, &c, &s) == 0);
    static uint8_t data[100000];
    af_pattern(data, sizeof data, 5, 0);
    CU_ASSERT_EQUAL(af_send_all(f->a, c, data, sizeof data), sizeof data);
    struct linger lg = { 1, 2 };
    CU_ASSERT_EQUAL(ts_setsockopt(f->a, c, SOL_SOCKET, SO_LINGER, &lg,
                                  sizeof lg), 0);
    CU_ASSERT_EQUAL(ts_close(f->a, c), 0);
    struct af_xfer rx = { f->b, s, sizeof data, 5, 1, 0, 0, 0 };
    af_receiver_main(&rx);
    CU_ASSERT_EQUAL(rx.err, 0);
    CU_ASSERT(rx.ok);
    af_close(f);
}

TS_SUITE(socket_io,
         TS_TEST(test_bulk_both_ways),
         TS_TEST(test_eof_after_shutdown),
         TS_TEST(test_recv_after_reset),
         TS_TEST(test_reset_after_data),
         TS_TEST(test_send_after_shutdown),
         TS_TEST(test_shutdown_errors),
         TS_TEST(test_shutdown_read),
         TS_TEST(test_unconnected_io),
         TS_TEST(test_recv_timeout),
         TS_TEST(test_dontwait),
         TS_TEST(test_send_buffer_full),
         TS_TEST(test_zero_length),
         TS_TEST(test_bad_flags),
         TS_TEST(test_linger_graceful))
