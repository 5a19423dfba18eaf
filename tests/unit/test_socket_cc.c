/* tests/unit/test_socket_cc.c - choosing congestion control through the
 * socket API (suite `socket_cc`): TCP_CONGESTION set and read as Linux
 * does it (names "cubic" and "reno", ENOENT for an unknown one, a short
 * buffer truncated), on a new socket, a connected one and a listener
 * (whose connections inherit it), and TCP_INFO's tcpi_ca_state; the stack-wide default of
 * ts_stack_config.congestion; and the same option through the shared
 * host's control socket, which forwards options as opaque bytes.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "eth/memdev.h"
#include "socket_api/ts_ctl_proto.h"
#include "tests/unit/api_fixture.h"
#include "tests/unit/host_client.h"
#include "tests/unit/unit.h"

#define SC_PORT 8300

/* The algorithm's name as getsockopt gives it ("" on failure). */
static const char *sc_get(struct ts_stack *st, int fd)
{
    static char name[17];
    memset(name, 0, sizeof name);
    socklen_t len = 16;
    if (ts_getsockopt(st, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) < 0 ||
        len != 16)
        name[0] = '\0';
    return name;
}

static int sc_set(struct ts_stack *st, int fd, const char *name)
{
    return ts_setsockopt(st, fd, IPPROTO_TCP, TCP_CONGESTION, name,
                         (socklen_t)strlen(name));
}

static void test_congestion_option(void)
{
    struct af *f = af_open(0);
    int s = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_STRING_EQUAL(sc_get(f->a, s), "cubic");   /* the default */
    CU_ASSERT_EQUAL(sc_set(f->a, s, "reno"), 0);
    CU_ASSERT_STRING_EQUAL(sc_get(f->a, s), "reno");
    AF_FAILS(sc_set(f->a, s, "vegas"), ENOENT);
    AF_FAILS(sc_set(f->a, s, "Cubic"), ENOENT);
    AF_FAILS(ts_setsockopt(f->a, s, IPPROTO_TCP, TCP_CONGESTION, "reno", 0),
             EINVAL);
    CU_ASSERT_STRING_EQUAL(sc_get(f->a, s), "reno");    /* unchanged */
    /* Read up to the NUL, as Linux does; a short buffer truncates. */
    CU_ASSERT_EQUAL(ts_setsockopt(f->a, s, IPPROTO_TCP, TCP_CONGESTION,
                                  "cubic\0junk", 10), 0);
    char buf[8] = "xxxxxxx";
    socklen_t len = 3;
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, s, IPPROTO_TCP, TCP_CONGESTION, buf,
                                  &len), 0);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(memcmp(buf, "cubxxxx", 7), 0);
    int u = af_socket(f->a, SOCK_DGRAM);
    AF_FAILS(sc_set(f->a, u, "reno"), ENOPROTOOPT);
    ts_close(f->a, u);
    ts_close(f->a, s);
    af_close(f);
}

/* A listener's choice goes to the connections it accepts; a connected
 * socket can change its own. */
static void test_congestion_connected(void)
{
    struct af *f = af_open(0);
    int l = af_listener(f->b, SC_PORT);
    CU_ASSERT_FATAL(l >= 0);
    CU_ASSERT_EQUAL(sc_set(f->b, l, "reno"), 0);
    CU_ASSERT_STRING_EQUAL(sc_get(f->b, l), "reno");
    int c = af_socket(f->a, SOCK_STREAM);
    CU_ASSERT_EQUAL(af_connect(f->a, c, AF_IP_B, SC_PORT), 0);
    int s = af_accept(f->b, l);
    CU_ASSERT_FATAL(s >= 0);
    CU_ASSERT_STRING_EQUAL(sc_get(f->b, s), "reno");
    CU_ASSERT_STRING_EQUAL(sc_get(f->a, c), "cubic");
    CU_ASSERT_EQUAL(sc_set(f->a, c, "reno"), 0);
    CU_ASSERT_STRING_EQUAL(sc_get(f->a, c), "reno");
    CU_ASSERT_EQUAL(sc_set(f->b, s, "cubic"), 0);
    CU_ASSERT_STRING_EQUAL(sc_get(f->b, s), "cubic");
    /* Data still flows after the change. */
    static uint8_t out[100000], in[100000];
    af_pattern(out, sizeof out, 7, 0);
    CU_ASSERT_EQUAL(af_send_all(f->a, c, out, sizeof out), sizeof out);
    CU_ASSERT_EQUAL(af_recv_all(f->b, s, in, sizeof in), sizeof in);
    CU_ASSERT(af_expect(in, sizeof in, 7, 0));
    /* TCP_INFO: no loss on this wire, so TCP_CA_Open, and a window of at
     * least the initial ten segments. */
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    CU_ASSERT_EQUAL(ts_getsockopt(f->a, c, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    CU_ASSERT_EQUAL(ti.tcpi_ca_state, 0);
    CU_ASSERT(ti.tcpi_snd_cwnd >= 10);
    ts_close(f->a, c);
    ts_close(f->b, s);
    ts_close(f->b, l);
    af_close(f);
}

static struct ts_stack *sc_stack(const char *congestion)
{
    struct netdev *da, *db;
    CU_ASSERT_FATAL(memdev_pair(&da, &db, 16, 1500) == 0);
    netdev_close(db);
    struct ts_stack_config c;
    ts_stack_config_init(&c);
    c.dev = da;
    c.seed = 1;
    c.log_level = 0;
    c.congestion = congestion;
    return ts_stack_open(&c);
}

/* ts_stack_config.congestion: every new socket's algorithm. */
static void test_congestion_stack_default(void)
{
    errno = 0;
    CU_ASSERT_PTR_NULL(sc_stack("bogus"));
    CU_ASSERT_EQUAL(errno, EINVAL);
    struct ts_stack *st = sc_stack("reno");
    CU_ASSERT_FATAL(st != NULL);
    int s = ts_socket(st, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(s >= 0);
    CU_ASSERT_STRING_EQUAL(sc_get(st, s), "reno");
    CU_ASSERT_EQUAL(sc_set(st, s, "cubic"), 0);
    CU_ASSERT_STRING_EQUAL(sc_get(st, s), "cubic");
    ts_close(st, s);
    ts_stack_close(st);
    st = sc_stack("newreno");
    CU_ASSERT_FATAL(st != NULL);
    s = ts_socket(st, AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_STRING_EQUAL(sc_get(st, s), "reno");
    ts_close(st, s);
    ts_stack_close(st);
}

/* Through the shared host: the option's bytes go as they are. */
static void test_congestion_host(void)
{
    struct af *f = af_open(0);
    int c = hc_open(f);
    int p = hc_socket(c, SOCK_STREAM);
    struct ts_ctl_req rq;
    struct ts_ctl_rep rep;
    hc_mk(&rq, TS_OP_SETOPT, IPPROTO_TCP, TCP_CONGESTION, 0, NULL, 0);
    rq.optlen = 4;
    memcpy(rq.opt, "reno", 4);
    CU_ASSERT_EQUAL(hc_raw(c, &rq, sizeof rq, &p, 1, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, 0);
    CU_ASSERT_EQUAL(hc_req(c, TS_OP_GETOPT, p, IPPROTO_TCP, TCP_CONGESTION, 16,
                           NULL, 0, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.optlen, 16);
    CU_ASSERT_STRING_EQUAL((const char *)rep.opt, "reno");
    rq.optlen = 5;
    memcpy(rq.opt, "vegas", 5);
    CU_ASSERT_EQUAL(hc_raw(c, &rq, sizeof rq, &p, 1, &rep, NULL), 0);
    CU_ASSERT_EQUAL(rep.rc, -ENOENT);
    close(p);
    close(c);
    af_close(f);
}

TS_SUITE(socket_cc,
         TS_TEST(test_congestion_option),
         TS_TEST(test_congestion_connected),
         TS_TEST(test_congestion_stack_default),
         TS_TEST(test_congestion_host))
