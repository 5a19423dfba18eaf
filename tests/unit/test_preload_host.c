/* tests/unit/test_preload_host.c - the preload library against a fake host
 * (preload_host.c): the control connection in this process (requests,
 * reconnect after fork, after the program took the descriptor, after a
 * broken reply, no host at all), then libtapstack-preload.so itself in
 * child processes running the probes of preload_probe.c (TCP, UDP,
 * accept, dual stack, descriptors inherited across exec, fork, the
 * program closing the control descriptor, inert without TAPSTACK_CTL, the
 * one-line message without a host).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "socket_api/ts_preload_ctl.h"
#include "tests/unit/preload_host.h"
#include "tests/unit/unit.h"

static struct ph_host phh;

static int pre_req(enum ts_ctl_op op, int fd, struct ts_ctl_rep *rep,
                   int *rfd)
{
    struct ts_ctl_req q;
    tsp_ctl_req_init(&q, op);
    if (op == TS_OP_SOCKET) {
        q.arg[0] = AF_INET;
        q.arg[1] = SOCK_STREAM;
    }
    return tsp_ctl_request(&q, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, rep,
                           rfd, TSP_CTL_CLOEXEC | TSP_CTL_QUIET);
}

/* A probe passed: exit 0 and its own word for it (not the unit tests
 * running in its place). */
static void pre_expect_ok(const struct ph_result *r, const char *what)
{
    char ok[64];
    snprintf(ok, sizeof ok, "probe %s: ok\n", what);
    CU_ASSERT_EQUAL(r->code, 0);
    CU_ASSERT_STRING_EQUAL(r->out, ok);
    if (r->code != 0 || strcmp(r->out, ok) != 0)
        fprintf(stderr, "\n%s exited %d:\n%s%s\n", what, r->code, r->out,
                r->err);
}

static void test_pctl_sockaddr(void)
{
    struct sockaddr_un sa;
    socklen_t len;
    CU_ASSERT_EQUAL(tsp_ctl_sockaddr("", &sa, &len), -EINVAL);
    CU_ASSERT_EQUAL(tsp_ctl_sockaddr("@", &sa, &len), -EINVAL);
    CU_ASSERT_EQUAL(tsp_ctl_sockaddr("@tapstack/tap0", &sa, &len), 0);
    CU_ASSERT_EQUAL(len, offsetof(struct sockaddr_un, sun_path) + 14);
    CU_ASSERT(sa.sun_path[0] == '\0' &&
              memcmp(sa.sun_path + 1, "tapstack/tap0", 13) == 0);
    CU_ASSERT_EQUAL(tsp_ctl_sockaddr("/run/ts.ctl", &sa, &len), 0);
    CU_ASSERT_EQUAL(len, offsetof(struct sockaddr_un, sun_path) + 12);
    CU_ASSERT_STRING_EQUAL(sa.sun_path, "/run/ts.ctl");
    char lng[200];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    CU_ASSERT_EQUAL(tsp_ctl_sockaddr(lng, &sa, &len), -ENAMETOOLONG);
    lng[0] = '@';
    lng[sizeof sa.sun_path] = '\0';     /* "@" + 107: exactly fits */
    CU_ASSERT_EQUAL(tsp_ctl_sockaddr(lng, &sa, &len), 0);
}

/* Requests, replies, descriptors both ways, on one connection placed
 * high and close-on-exec. */
static void test_pctl_requests(void)
{
    CU_ASSERT_FATAL(ph_start(&phh) == 0);
    tsp_ctl_init(phh.name);
    CU_ASSERT_EQUAL(tsp_ctl_fd(), -1);      /* lazy */
    struct ts_ctl_rep r;
    int fd;
    CU_ASSERT_EQUAL_FATAL(pre_req(TS_OP_SOCKET, -1, &r, &fd), 0);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int c = tsp_ctl_fd();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    CU_ASSERT(c >= (rl.rlim_cur >= 1024 ? 512 : 0));
    CU_ASSERT(fcntl(c, F_GETFD) & FD_CLOEXEC);
    CU_ASSERT_EQUAL(pre_req(TS_OP_GETNAME, fd, &r, NULL), 0);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_EQUAL(r.addrlen, sizeof(struct sockaddr_in));
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    CU_ASSERT_EQUAL(pre_req(TS_OP_GETNAME, sv[0], &r, NULL), 0);
    CU_ASSERT_EQUAL(r.rc, TS_CTL_NOT_OURS);
    struct ts_ctl_req q;
    tsp_ctl_req_init(&q, TS_OP_IDENTIFY);
    int ids[3] = { sv[0], fd, sv[1] };
    CU_ASSERT_EQUAL(tsp_ctl_request(&q, ids, 3, &r, NULL, 0), 0);
    CU_ASSERT_EQUAL(r.optlen, 3u);
    CU_ASSERT(r.opt[0] == TS_KIND_NONE && r.opt[1] == TS_KIND_TCP &&
              r.opt[2] == TS_KIND_NONE);
    CU_ASSERT_EQUAL(tsp_ctl_request(&q, ids, TS_CTL_IDENT_MAX + 1, &r, NULL,
                                    0), -EINVAL);
    /* A descriptor that is not open: EBADF, and the connection stays. */
    close(sv[1]);
    CU_ASSERT_EQUAL(pre_req(TS_OP_GETNAME, sv[1], &r, NULL), -EBADF);
    CU_ASSERT_EQUAL(tsp_ctl_fd(), c);
    CU_ASSERT_EQUAL(pre_req(TS_OP_GETNAME, fd, &r, NULL), 0);
    CU_ASSERT_EQUAL(ph_conns(&phh), 1);
    CU_ASSERT_EQUAL(ph_ops(&phh, TS_OP_GETNAME), 3);
    close(sv[0]);
    close(fd);
    tsp_ctl_init("");
    ph_stop(&phh);
}

static int pre_wait(pid_t pid)
{
    int status;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* A forked child opens its own connection; the parent keeps its own. */
static void test_pctl_fork(void)
{
    CU_ASSERT_FATAL(ph_start(&phh) == 0);
    tsp_ctl_init(phh.name);
    struct ts_ctl_rep r;
    int fd;
    CU_ASSERT_EQUAL_FATAL(pre_req(TS_OP_SOCKET, -1, &r, &fd), 0);
    int c = tsp_ctl_fd();
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int ok = pre_req(TS_OP_GETNAME, fd, &r, NULL) == 0 && r.rc == 0 &&
                 tsp_ctl_fd() >= 0;
        _exit(ok ? 0 : 1);
    }
    CU_ASSERT_EQUAL(pre_wait(pid), 0);
    CU_ASSERT_EQUAL(ph_conns(&phh), 2);
    CU_ASSERT_EQUAL(pre_req(TS_OP_GETNAME, fd, &r, NULL), 0);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_EQUAL(tsp_ctl_fd(), c);
    CU_ASSERT_EQUAL(ph_conns(&phh), 2);
    close(fd);
    tsp_ctl_init("");
    ph_stop(&phh);
}

/* The program took the descriptor; then a host that answers garbage. */
static void test_pctl_reconnect(void)
{
    CU_ASSERT_FATAL(ph_start(&phh) == 0);
    tsp_ctl_init(phh.name);
    struct ts_ctl_rep r;
    int fd;
    CU_ASSERT_EQUAL_FATAL(pre_req(TS_OP_SOCKET, -1, &r, &fd), 0);
    int c = tsp_ctl_fd();
    tsp_ctl_fd_gone(c);             /* what the close interposer says */
    close(c);
    CU_ASSERT_EQUAL(pre_req(TS_OP_GETNAME, fd, &r, NULL), 0);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_EQUAL(ph_conns(&phh), 2);
    struct ts_ctl_req q;
    tsp_ctl_req_init(&q, (enum ts_ctl_op)PH_OP_GARBAGE);
    CU_ASSERT_EQUAL(tsp_ctl_request(&q, &fd, 1, &r, NULL, TSP_CTL_QUIET),
                    -ENETDOWN);
    CU_ASSERT_EQUAL(tsp_ctl_fd(), -1);      /* out of step: dropped */
    CU_ASSERT_EQUAL(pre_req(TS_OP_GETNAME, fd, &r, NULL), 0);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_EQUAL(ph_conns(&phh), 3);
    close(fd);
    tsp_ctl_init("");
    ph_stop(&phh);
}

static void test_pctl_unreachable(void)
{
    char name[64];
    snprintf(name, sizeof name, "@tsp-unit-nobody-%d", (int)getpid());
    tsp_ctl_init(name);
    struct ts_ctl_rep r;
    int fd = 7;
    CU_ASSERT_EQUAL(pre_req(TS_OP_SOCKET, -1, &r, &fd), -ENETDOWN);
    CU_ASSERT_EQUAL(fd, -1);
    CU_ASSERT_EQUAL(tsp_ctl_fd(), -1);
    tsp_ctl_init("");
}

/* One probe against a fresh fake host. */
static void pre_probe(const char *probe, struct ph_result *res)
{
    CU_ASSERT_FATAL(ph_start(&phh) == 0);
    ph_probe(probe, phh.name, NULL, 0, res);
    pre_expect_ok(res, probe);
}

static struct ph_result pre_res;

static void test_preload_tcp(void)
{
    pre_probe("tcp", &pre_res);
    CU_ASSERT(ph_ops(&phh, TS_OP_STATUS) >= 2);
    CU_ASSERT(ph_ops(&phh, TS_OP_SHUTDOWN) >= 2);
    CU_ASSERT_EQUAL(ph_conns(&phh), 1);
    ph_stop(&phh);
}

static void test_preload_udp(void)
{
    pre_probe("udp", &pre_res);
    ph_stop(&phh);      /* joins the host thread: its fields are ours now */
    CU_ASSERT_EQUAL(phh.last_dest_len, 0u);     /* the last went connected */
}

static void test_preload_accept(void)
{
    pre_probe("accept", &pre_res);
    CU_ASSERT_EQUAL(ph_ops(&phh, TS_OP_LISTEN), 1);
    /* The non-listening TCP socket was confirmed with the host. */
    CU_ASSERT(ph_ops(&phh, TS_OP_GETOPT) >= 1);
    ph_stop(&phh);
}

static void test_preload_v6(void)
{
    pre_probe("v6", &pre_res);
    CU_ASSERT_EQUAL(ph_ops(&phh, TS_OP_SOCKET), 3);   /* three moved */
    CU_ASSERT(ph_ops(&phh, TS_OP_SETOPT) >= 1);       /* SO_REUSEADDR */
    ph_stop(&phh);
    CU_ASSERT_EQUAL(phh.last_family, AF_INET6);
}

/* An exec'd program finds the stack sockets it inherited (and only
 * those), asking the host in batches. */
static void test_preload_inherit(void)
{
    CU_ASSERT_FATAL(ph_start(&phh) == 0);
    int plain[41][2];
    for (int i = 0; i < 41; i++)
        CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                                   plain[i]) == 0);
    int map[46][2] = {
        { ph_make(&phh, TS_KIND_TCP, AF_INET), 10 },
        { ph_make(&phh, TS_KIND_UDP, AF_INET), 11 },
        { plain[40][0], 12 },
        { ph_make(&phh, TS_KIND_LISTEN, AF_INET), 13 },
        { ph_make(&phh, TS_KIND_TCP, AF_INET6), 14 },
    };
    for (int i = 0; i < 41 - 1; i++) {
        map[5 + i][0] = plain[i][0];
        map[5 + i][1] = 20 + i;
    }
    ph_probe("inherit", phh.name, (const int (*)[2])map, 45, &pre_res);
    pre_expect_ok(&pre_res, "inherit");
    CU_ASSERT(ph_ops(&phh, TS_OP_IDENTIFY) >= 2);
    for (int i = 0; i < 5; i++)
        if (map[i][0] != plain[40][0])
            close(map[i][0]);
    for (int i = 0; i < 41; i++) {
        close(plain[i][0]);
        close(plain[i][1]);
    }
    ph_stop(&phh);
}

static void test_preload_quiet(void)
{
    pre_probe("quiet", &pre_res);
    CU_ASSERT_EQUAL(ph_conns(&phh), 0);   /* nothing inherited: no contact */
    ph_stop(&phh);
}

static void test_preload_fork(void)
{
    pre_probe("fork", &pre_res);
    CU_ASSERT_EQUAL(ph_conns(&phh), 2);   /* the parent's and the child's */
    ph_stop(&phh);
}

static void test_preload_ctlfd(void)
{
    pre_probe("ctlfd", &pre_res);
    CU_ASSERT_EQUAL(ph_conns(&phh), 4);
    ph_stop(&phh);
}

static void test_preload_inert(void)
{
    ph_probe("inert", NULL, NULL, 0, &pre_res);
    pre_expect_ok(&pre_res, "inert");
    CU_ASSERT_STRING_EQUAL(pre_res.err, "");
}

static void test_preload_unreachable(void)
{
    char name[64], want[200];
    snprintf(name, sizeof name, "@tsp-unit-nobody-%d", (int)getpid());
    snprintf(want, sizeof want, "tapstack-preload: cannot reach tapstack at "
             "%s: Connection refused\n", name);
    ph_probe("unreachable", name, NULL, 0, &pre_res);
    pre_expect_ok(&pre_res, "unreachable");
    CU_ASSERT_STRING_EQUAL(pre_res.err, want);  /* one line, once */
}

TS_SUITE(preload,
         TS_TEST(test_pctl_sockaddr),
         TS_TEST(test_pctl_requests),
         TS_TEST(test_pctl_fork),
         TS_TEST(test_pctl_reconnect),
         TS_TEST(test_pctl_unreachable),
         TS_TEST(test_preload_tcp),
         TS_TEST(test_preload_udp),
         TS_TEST(test_preload_accept),
         TS_TEST(test_preload_v6),
         TS_TEST(test_preload_inherit),
         TS_TEST(test_preload_quiet),
         TS_TEST(test_preload_fork),
         TS_TEST(test_preload_ctlfd),
         TS_TEST(test_preload_inert),
         TS_TEST(test_preload_unreachable))
