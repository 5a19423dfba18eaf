/* tests/unit/api_fixture.c - two threaded stacks for the socket API suites
 * (see api_fixture.h): opening and closing them, sockets with time-outs,
 * connected pairs, pattern streams, bounded helper threads.
 */
#include "tests/unit/api_fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "eth/memdev.h"

#define AF_WIRE_DEPTH 256
#define AF_CHUNK 65536

static struct af af_cur;        /* the one fixture; see af_open */

static struct ts_stack *af_stack(struct netdev *dev, const char *addr,
                                 uint64_t seed, unsigned max_sockets,
                                 unsigned max_conns)
{
    struct ts_stack_config c;
    ts_stack_config_init(&c);
    c.dev = dev;
    c.addr = addr;
    c.seed = seed;
    c.log_level = 0;
    if (max_sockets)
        c.max_sockets = max_sockets;
    if (max_conns)
        c.max_conns = max_conns;
    return ts_stack_open(&c);
}

struct af *af_open(unsigned max_sockets)
{
    return af_open_limits(max_sockets, 0);
}

struct af *af_open_limits(unsigned max_sockets, unsigned max_conns)
{
    if (af_cur.a || af_cur.b)
        af_close(&af_cur);      /* a fatal assertion skipped the last close */
    memset(&af_cur, 0, sizeof af_cur);
    struct netdev *da, *db;
    CU_ASSERT_FATAL(memdev_pair(&da, &db, AF_WIRE_DEPTH, 1500) == 0);
    af_cur.a = af_stack(da, "10.0.0.1/24", 1, max_sockets, max_conns);
    af_cur.b = af_stack(db, "10.0.0.2/24", 2, max_sockets, max_conns);
    CU_ASSERT_FATAL(af_cur.a != NULL && af_cur.b != NULL);
    return &af_cur;
}

void af_close(struct af *f)
{
    if (!f->wedged) {
        ts_stack_close(f->a);
        ts_stack_close(f->b);
    }
    f->a = f->b = NULL;
    f->wedged = 0;
}

struct sockaddr_in af_sin(uint32_t ip, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(ip);
    sin.sin_port = htons(port);
    return sin;
}

int af_bind(struct ts_stack *st, int fd, uint32_t ip, uint16_t port)
{
    struct sockaddr_in sin = af_sin(ip, port);
    return ts_bind(st, fd, AF_SA(sin), sizeof sin);
}

int af_connect(struct ts_stack *st, int fd, uint32_t ip, uint16_t port)
{
    struct sockaddr_in sin = af_sin(ip, port);
    return ts_connect(st, fd, AF_SA(sin), sizeof sin);
}

int af_getint(struct ts_stack *st, int fd, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof v;
    CU_ASSERT_EQUAL(ts_getsockopt(st, fd, level, name, &v, &len), 0);
    CU_ASSERT_EQUAL(len, sizeof v);
    return v;
}

int af_setint(struct ts_stack *st, int fd, int level, int name, int v)
{
    return ts_setsockopt(st, fd, level, name, &v, sizeof v);
}

int af_timeo(struct ts_stack *st, int fd, unsigned ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    if (ts_setsockopt(st, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        ts_setsockopt(st, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return -1;
    return 0;
}

int af_socket(struct ts_stack *st, int type)
{
    int fd = ts_socket(st, AF_INET, type, 0);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        CU_ASSERT(af_timeo(st, fd, AF_TIMEO_MS) == 0);
    return fd;
}

int af_listener(struct ts_stack *st, uint16_t port)
{
    int fd = af_socket(st, SOCK_STREAM);
    struct sockaddr_in sin = af_sin(0, port);
    if (fd < 0)
        return -1;
    if (ts_bind(st, fd, AF_SA(sin), sizeof sin) < 0 ||
        ts_listen(st, fd, 16) < 0) {
        ts_close(st, fd);
        return -1;
    }
    return fd;
}

int af_accept(struct ts_stack *st, int lfd)
{
    int fd = ts_accept(st, lfd, NULL, NULL);
    if (fd >= 0 && af_timeo(st, fd, AF_TIMEO_MS) < 0) {
        ts_close(st, fd);
        return -1;
    }
    return fd;
}

int af_pair(struct af *f, uint16_t port, int *cfd, int *sfd)
{
    int lfd = af_listener(f->b, port);
    int c = af_socket(f->a, SOCK_STREAM);
    struct sockaddr_in to = af_sin(AF_IP_B, port);
    int s = -1;
    if (lfd >= 0 && c >= 0 &&
        ts_connect(f->a, c, AF_SA(to), sizeof to) == 0)
        s = af_accept(f->b, lfd);
    if (lfd >= 0)
        ts_close(f->b, lfd);
    if (s < 0) {
        if (c >= 0)
            ts_close(f->a, c);
        CU_FAIL("af_pair: no connection");
        return -1;
    }
    *cfd = c;
    *sfd = s;
    return 0;
}

size_t af_send_all(struct ts_stack *st, int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = ts_send(st, fd, (const uint8_t *)buf + done, len - done, 0);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

size_t af_recv_all(struct ts_stack *st, int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = ts_recv(st, fd, (uint8_t *)buf + done, len - done, 0);
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            break;
        }
        done += (size_t)n;
    }
    return done;
}

static uint8_t af_byte(uint32_t seed, size_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u ^ seed * 40503u;
    return (uint8_t)(x >> 13 ^ (uint32_t)(i >> 8));
}

void af_pattern(uint8_t *buf, size_t len, uint32_t seed, size_t off)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = af_byte(seed, off + i);
}

int af_expect(const uint8_t *buf, size_t len, uint32_t seed, size_t off)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != af_byte(seed, off + i))
            return 0;
    return 1;
}

uint64_t af_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void af_sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void af_spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    CU_ASSERT_FATAL(pthread_create(t, NULL, fn, arg) == 0);
}

int af_join(struct af *f, pthread_t t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += AF_JOIN_MS / 1000;
    if (pthread_timedjoin_np(t, NULL, &ts) == 0)
        return 0;
    CU_FAIL("helper thread did not finish in time");
    pthread_detach(t);
    f->wedged = 1;
    return -1;
}

long long af_counter(struct ts_stack *st, const char *section,
                     const char *name)
{
    char *text = NULL, line[256], sect[64] = "";
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    long long v = -1;
    if (!m)
        return -1;
    ts_stack_counters(st, m);
    fclose(m);
    FILE *in = fmemopen(text, size, "r");
    while (in && fgets(line, sizeof line, in)) {
        char key[64];
        long long val;
        if (line[0] != ' ' && sscanf(line, "%63[^:]:", sect) == 1)
            continue;
        if (strcmp(sect, section) == 0 &&
            sscanf(line, " %63s %lld", key, &val) == 2 &&
            strcmp(key, name) == 0)
            v = val;
    }
    if (in)
        fclose(in);
    free(text);
    return v;
}

void *af_sender_main(void *arg)
{
    struct af_xfer *x = arg;
    uint8_t *buf = malloc(AF_CHUNK);
    while (buf && x->done < x->len) {
        size_t n = x->len - x->done < AF_CHUNK ? x->len - x->done : AF_CHUNK;
        af_pattern(buf, n, x->seed, x->done);
        size_t sent = af_send_all(x->st, x->fd, buf, n);
        x->done += sent;
        if (sent < n) {
            x->err = errno;
            break;
        }
    }
    if (x->done == x->len && x->shut && ts_shutdown(x->st, x->fd, SHUT_WR) < 0)
        x->err = errno;
    x->ok = x->done == x->len && x->err == 0;
    free(buf);
    return NULL;
}

void *af_receiver_main(void *arg)
{
    struct af_xfer *x = arg;
    uint8_t *buf = malloc(AF_CHUNK);
    while (buf && x->done < x->len) {
        size_t want = x->len - x->done < AF_CHUNK ? x->len - x->done : AF_CHUNK;
        ssize_t n = ts_recv(x->st, x->fd, buf, want, 0);
        if (n <= 0) {
            x->err = n == 0 ? EPIPE : errno;    /* EPIPE: ended early */
            break;
        }
        if (!af_expect(buf, (size_t)n, x->seed, x->done)) {
            x->err = EILSEQ;
            break;
        }
        x->done += (size_t)n;
    }
    if (buf && x->done == x->len && x->shut) {
        ssize_t n = ts_recv(x->st, x->fd, buf, 1, 0);
        if (n != 0)
            x->err = n < 0 ? errno : EOVERFLOW;     /* more than expected */
    }
    x->ok = x->done == x->len && x->err == 0;
    free(buf);
    return NULL;
}
