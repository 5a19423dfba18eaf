/* tests/unit/test_preload_fd.c - the preload library's descriptor table
 * (socket_api/ts_preload_fd.c), with no host: set, get, clear, copy and
 * update; the dup family's bookkeeping on real descriptors; threads
 * (make tsan runs this suite); fork (each process owns its copy); and the
 * scan an exec'd program makes of its inherited descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "socket_api/ts_preload_fd.h"
#include "tests/unit/unit.h"

static struct tsp_fd_info pfd_info(enum ts_ctl_kind kind, uint64_t ino)
{
    return (struct tsp_fd_info){ .kind = kind, .ino = ino };
}

static void test_pfd_set_get_clear(void)
{
    struct tsp_fd_info in = pfd_info(TS_KIND_UDP, 0x1234567), out;
    in.v6 = true;
    CU_ASSERT_EQUAL(tsp_fd_set(7, &in), 0);
    CU_ASSERT_TRUE(tsp_fd_get(7, &out));
    CU_ASSERT_EQUAL(out.kind, TS_KIND_UDP);
    CU_ASSERT_TRUE(out.v6);
    CU_ASSERT_FALSE(out.self_shut_wr);
    CU_ASSERT_FALSE(out.reset_reported);
    CU_ASSERT_EQUAL(out.ino, 0x1234567u);
    CU_ASSERT_EQUAL(tsp_fd_kind(7), TS_KIND_UDP);
    /* Neighbours on the same page stay empty. */
    CU_ASSERT_FALSE(tsp_fd_get(6, &out));
    CU_ASSERT_EQUAL(out.kind, TS_KIND_NONE);
    CU_ASSERT_EQUAL(tsp_fd_kind(8), TS_KIND_NONE);
    tsp_fd_clear(7);
    CU_ASSERT_FALSE(tsp_fd_get(7, &out));
    CU_ASSERT_EQUAL(tsp_fd_kind(7), TS_KIND_NONE);
    /* Setting "none" is clearing. */
    CU_ASSERT_EQUAL(tsp_fd_set(7, &in), 0);
    struct tsp_fd_info none = pfd_info(TS_KIND_NONE, 5);
    CU_ASSERT_EQUAL(tsp_fd_set(7, &none), 0);
    CU_ASSERT_EQUAL(tsp_fd_kind(7), TS_KIND_NONE);
}

static void test_pfd_range(void)
{
    struct tsp_fd_info in = pfd_info(TS_KIND_TCP, 99), out;
    CU_ASSERT_EQUAL(tsp_fd_set(-1, &in), -1);
    CU_ASSERT_EQUAL(tsp_fd_set(TSP_FD_LIMIT, &in), -1);
    CU_ASSERT_FALSE(tsp_fd_get(TSP_FD_LIMIT, &out));
    CU_ASSERT_EQUAL(tsp_fd_kind(-5), TS_KIND_NONE);
    tsp_fd_clear(TSP_FD_LIMIT + 3);         /* harmless */
    /* The last valid number, on the last page, allocated on demand. */
    CU_ASSERT_EQUAL(tsp_fd_kind(TSP_FD_LIMIT - 1), TS_KIND_NONE);
    CU_ASSERT_EQUAL(tsp_fd_set(TSP_FD_LIMIT - 1, &in), 0);
    CU_ASSERT_TRUE(tsp_fd_get(TSP_FD_LIMIT - 1, &out));
    CU_ASSERT_EQUAL(out.ino, 99u);
    tsp_fd_clear(TSP_FD_LIMIT - 1);
    /* Inodes keep 56 bits. */
    in.ino = UINT64_C(0x00ffffffffffffff);
    CU_ASSERT_EQUAL(tsp_fd_set(40000, &in), 0);
    CU_ASSERT_TRUE(tsp_fd_get(40000, &out));
    CU_ASSERT_EQUAL(out.ino, UINT64_C(0x00ffffffffffffff));
    tsp_fd_clear(40000);
}

static void test_pfd_copy(void)
{
    struct tsp_fd_info a = pfd_info(TS_KIND_LISTEN, 11), out;
    a.v6 = true;
    tsp_fd_set(20, &a);
    tsp_fd_copy(20, 3000);          /* a page never used before */
    CU_ASSERT_TRUE(tsp_fd_get(3000, &out));
    CU_ASSERT_EQUAL(out.kind, TS_KIND_LISTEN);
    CU_ASSERT_TRUE(out.v6);
    CU_ASSERT_EQUAL(out.ino, 11u);
    /* Copying "not ours" over an entry clears it (dup2 replaced it). */
    tsp_fd_copy(21, 3000);
    CU_ASSERT_FALSE(tsp_fd_get(3000, &out));
    /* Copying onto itself changes nothing. */
    tsp_fd_copy(20, 20);
    CU_ASSERT_EQUAL(tsp_fd_kind(20), TS_KIND_LISTEN);
    /* From or to out of range: nothing breaks, nothing is invented. */
    tsp_fd_copy(20, -1);
    tsp_fd_copy(TSP_FD_LIMIT, 20);
    CU_ASSERT_EQUAL(tsp_fd_kind(20), TS_KIND_NONE);
}

static void test_pfd_update(void)
{
    struct tsp_fd_info a = pfd_info(TS_KIND_TCP, 77), out;
    tsp_fd_set(30, &a);
    /* A different inode: another socket now has the number. */
    CU_ASSERT_FALSE(tsp_fd_update(30, 78, TS_KIND_LISTEN, TSP_FD_SHUT_WR));
    CU_ASSERT_TRUE(tsp_fd_get(30, &out));
    CU_ASSERT_EQUAL(out.kind, TS_KIND_TCP);
    CU_ASSERT_FALSE(out.self_shut_wr);
    CU_ASSERT_TRUE(tsp_fd_update(30, 77, TS_KIND_NONE, TSP_FD_SHUT_WR));
    CU_ASSERT_TRUE(tsp_fd_update(30, 77, TS_KIND_NONE, TSP_FD_RESET));
    tsp_fd_get(30, &out);
    CU_ASSERT_EQUAL(out.kind, TS_KIND_TCP);
    CU_ASSERT_TRUE(out.self_shut_wr);
    CU_ASSERT_TRUE(out.reset_reported);
    CU_ASSERT_TRUE(tsp_fd_update(30, 77, TS_KIND_LISTEN, 0));
    tsp_fd_get(30, &out);
    CU_ASSERT_EQUAL(out.kind, TS_KIND_LISTEN);
    CU_ASSERT_TRUE(out.self_shut_wr);
    CU_ASSERT_EQUAL(out.ino, 77u);
    /* A cleared entry is never brought back. */
    tsp_fd_clear(30);
    CU_ASSERT_FALSE(tsp_fd_update(30, 77, TS_KIND_TCP, TSP_FD_RESET));
    CU_ASSERT_FALSE(tsp_fd_get(30, &out));
    CU_ASSERT_FALSE(tsp_fd_update(50000, 1, TS_KIND_TCP, 0));
}

/* What the dup interposers do, on real descriptors: the real call, then
 * tsp_fd_copy(from, result). */
static void test_pfd_dup_family(void)
{
    int sv[2], other[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CU_ASSERT_FATAL(pipe2(other, O_CLOEXEC) == 0);
    struct stat st;
    fstat(sv[0], &st);
    struct tsp_fd_info a = pfd_info(TS_KIND_TCP, (uint64_t)st.st_ino), out;
    tsp_fd_set(sv[0], &a);

    int d = dup(sv[0]);
    tsp_fd_copy(sv[0], d);
    CU_ASSERT_TRUE(tsp_fd_get(d, &out));
    CU_ASSERT_EQUAL(out.ino, (uint64_t)st.st_ino);

    int h = fcntl(sv[0], F_DUPFD_CLOEXEC, 300);
    CU_ASSERT(h >= 300);
    tsp_fd_copy(sv[0], h);
    CU_ASSERT_EQUAL(tsp_fd_kind(h), TS_KIND_TCP);

    /* dup2 of a pipe over the copy: the entry goes with the socket. */
    CU_ASSERT_EQUAL(dup2(other[0], d), d);
    tsp_fd_copy(other[0], d);
    CU_ASSERT_EQUAL(tsp_fd_kind(d), TS_KIND_NONE);
    /* dup3 back: ours again; closing the original keeps the copy. */
    CU_ASSERT_EQUAL(dup3(h, d, O_CLOEXEC), d);
    tsp_fd_copy(h, d);
    close(sv[0]);
    tsp_fd_clear(sv[0]);
    CU_ASSERT_EQUAL(tsp_fd_kind(d), TS_KIND_TCP);
    CU_ASSERT_EQUAL(tsp_fd_kind(sv[0]), TS_KIND_NONE);
    fstat(d, &st);
    tsp_fd_get(d, &out);
    CU_ASSERT_EQUAL(out.ino, (uint64_t)st.st_ino);

    tsp_fd_clear(d);
    tsp_fd_clear(h);
    close(d);
    close(h);
    close(sv[1]);
    close(other[0]);
    close(other[1]);
}

#define PFD_THREADS 4
#define PFD_ROUNDS 20000

static int pfd_thread_bad[PFD_THREADS];

/* Each thread owns its own descriptors (1000 apart, so pages are shared
 * between threads and created in races) and checks it always reads back
 * what it wrote, while the others write theirs. */
static void *pfd_thread(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < PFD_ROUNDS; i++) {
        int fd = 5000 + t + PFD_THREADS * (i % 2000);
        struct tsp_fd_info in = pfd_info((enum ts_ctl_kind)(1 + i % 3),
                                         (uint64_t)(t * 1000003 + i)), out;
        tsp_fd_set(fd, &in);
        if (!tsp_fd_get(fd, &out) || out.ino != in.ino || out.kind != in.kind)
            pfd_thread_bad[t]++;
        tsp_fd_update(fd, in.ino, TS_KIND_NONE, TSP_FD_RESET);
        if (i % 3 == 0)
            tsp_fd_clear(fd);
        else
            tsp_fd_copy(fd, fd + PFD_THREADS * 3000);
    }
    return NULL;
}

static void test_pfd_threads(void)
{
    pthread_t th[PFD_THREADS];
    for (int t = 0; t < PFD_THREADS; t++)
        CU_ASSERT_FATAL(pthread_create(&th[t], NULL, pfd_thread,
                                       (void *)(intptr_t)t) == 0);
    for (int t = 0; t < PFD_THREADS; t++) {
        pthread_join(th[t], NULL);
        CU_ASSERT_EQUAL(pfd_thread_bad[t], 0);
    }
    /* The last round of each thread: set, flagged, then copied. */
    struct tsp_fd_info out;
    int i = PFD_ROUNDS - 1;
    CU_ASSERT_TRUE(tsp_fd_get(5000 + PFD_THREADS * (i % 2000), &out));
    CU_ASSERT_TRUE(out.reset_reported);
    for (int fd = 5000; fd < 5000 + PFD_THREADS * 5000; fd++)
        tsp_fd_clear(fd);
}

/* Wait for a child, at most ~10 s; kill it if it hangs. Its exit code,
 * or -1. */
static int pfd_wait(pid_t pid)
{
    int status;
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static char pfd_sync(int rd, int wr, char say)
{
    char c = 0;
    if (wr >= 0 && write(wr, &say, 1) != 1)
        return 0;
    if (rd >= 0 && read(rd, &c, 1) != 1)
        return 0;
    return c;
}

/* After fork each process has its own table: the child sees the parent's
 * entries, a close in the child leaves the parent's entry, and the
 * reverse. Child's findings come back as its exit code (bits). */
static void test_pfd_fork(void)
{
    struct tsp_fd_info a = pfd_info(TS_KIND_TCP, 101),
                       b = pfd_info(TS_KIND_UDP, 102), out;
    tsp_fd_set(60, &a);
    tsp_fd_set(61, &b);
    int p2c[2], c2p[2];
    CU_ASSERT_FATAL(pipe(p2c) == 0 && pipe(c2p) == 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int bad = 0;
        if (tsp_fd_kind(60) != TS_KIND_TCP || tsp_fd_kind(61) != TS_KIND_UDP)
            bad |= 1;
        tsp_fd_clear(60);                   /* the child's close */
        pfd_sync(p2c[0], c2p[1], 'c');      /* parent checks, clears 61 */
        if (tsp_fd_kind(61) != TS_KIND_UDP) /* still ours in the child */
            bad |= 2;
        if (tsp_fd_kind(60) != TS_KIND_NONE)
            bad |= 4;
        _exit(bad);
    }
    CU_ASSERT_EQUAL(pfd_sync(c2p[0], -1, 0), 'c');
    CU_ASSERT_TRUE(tsp_fd_get(60, &out));   /* the child's close: not ours */
    CU_ASSERT_EQUAL(out.ino, 101u);
    tsp_fd_clear(61);
    pfd_sync(-1, p2c[1], 'p');
    CU_ASSERT_EQUAL(pfd_wait(pid), 0);
    CU_ASSERT_EQUAL(tsp_fd_kind(61), TS_KIND_NONE);
    tsp_fd_clear(60);
    close(p2c[0]);
    close(p2c[1]);
    close(c2p[0]);
    close(c2p[1]);
}

struct pfd_scan_seen {
    int n, batches, max_batch;
    int fds[512];
    uint64_t inos[512];
};

static int pfd_scan_cb(const int *fds, const uint64_t *inos, int n, void *arg)
{
    struct pfd_scan_seen *s = arg;
    s->batches++;
    if (n > s->max_batch)
        s->max_batch = n;
    for (int i = 0; i < n && s->n < 512; i++) {
        s->fds[s->n] = fds[i];
        s->inos[s->n++] = inos[i];
    }
    return 0;
}

static bool pfd_seen(const struct pfd_scan_seen *s, int fd)
{
    for (int i = 0; i < s->n; i++) {
        struct stat st;
        if (s->fds[i] == fd)
            return fstat(fd, &st) == 0 && (uint64_t)st.st_ino == s->inos[i];
    }
    return false;
}

/* The scan after exec: AF_UNIX stream and seqpacket sockets (what a
 * host's pair looks like), nothing else, in batches the host takes. */
static void test_pfd_scan(void)
{
    int st[2], sp[2], dg[2], pp[2], many[40][2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st) == 0);
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dg) == 0);
    CU_ASSERT_FATAL(pipe2(pp, O_CLOEXEC) == 0);
    int in = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int file = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < 40; i++)
        CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                                   many[i]) == 0);
    struct pfd_scan_seen *s = calloc(1, sizeof *s);
    CU_ASSERT_FATAL(s != NULL);
    int n = tsp_fd_scan(pfd_scan_cb, s);
    CU_ASSERT(n >= 84);
    CU_ASSERT_EQUAL(n, s->n);
    CU_ASSERT(s->batches >= 3);
    CU_ASSERT(s->max_batch <= TS_CTL_IDENT_MAX);
    CU_ASSERT_TRUE(pfd_seen(s, st[0]) && pfd_seen(s, st[1]));
    CU_ASSERT_TRUE(pfd_seen(s, sp[0]) && pfd_seen(s, sp[1]));
    CU_ASSERT_TRUE(pfd_seen(s, many[39][1]));
    CU_ASSERT_FALSE(pfd_seen(s, dg[0]) || pfd_seen(s, dg[1]));
    CU_ASSERT_FALSE(pfd_seen(s, pp[0]) || pfd_seen(s, pp[1]));
    CU_ASSERT_FALSE(pfd_seen(s, in) || pfd_seen(s, file));
    free(s);
    int fds[] = { st[0], st[1], sp[0], sp[1], dg[0], dg[1], pp[0], pp[1],
                  in, file };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        close(fds[i]);
    for (int i = 0; i < 40; i++) {
        close(many[i][0]);
        close(many[i][1]);
    }
}

static int pfd_stop_cb(const int *fds, const uint64_t *inos, int n, void *arg)
{
    (void)fds;
    (void)inos;
    (void)n;
    ++*(int *)arg;
    return 1;
}

static void test_pfd_scan_stops(void)
{
    int many[40][2];
    for (int i = 0; i < 40; i++)
        CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                                   many[i]) == 0);
    int calls = 0;
    CU_ASSERT(tsp_fd_scan(pfd_stop_cb, &calls) >= 80);
    CU_ASSERT_EQUAL(calls, 1);
    for (int i = 0; i < 40; i++) {
        close(many[i][0]);
        close(many[i][1]);
    }
}

TS_SUITE(preload_fd,
         TS_TEST(test_pfd_set_get_clear),
         TS_TEST(test_pfd_range),
         TS_TEST(test_pfd_copy),
         TS_TEST(test_pfd_update),
         TS_TEST(test_pfd_dup_family),
         TS_TEST(test_pfd_threads),
         TS_TEST(test_pfd_fork),
         TS_TEST(test_pfd_scan),
         TS_TEST(test_pfd_scan_stops))
