/* tests/unit/api_fixture.h - two threaded stacks for the socket API suites.
 *
 * af_open() starts stack A (10.0.0.1/24) and stack B (10.0.0.2/24) through
 * the public API, each with its own thread, joined by a memdev pair;
 * af_close() stops both. The fixture is static: if a fatal assertion left
 * the previous test's stacks open, af_open() closes them first.
 *
 * Nothing may hang (DESIGN.md §6): every socket made by af_socket() or
 * af_accept() carries SO_RCVTIMEO and SO_SNDTIMEO of AF_TIMEO_MS, helper
 * threads are joined with a time bound (af_join), and a thread that
 * overstays marks the fixture wedged so its stacks are left alone (leaked)
 * rather than freed under it (so what a helper writes to must be static).
 * Helper threads never call CU_ASSERT (CUnit is not thread-safe): they
 * record outcomes, the test thread asserts.
 *
 * Entry points: AF_SA, AF_FAILS, af_open, af_open_limits, af_close, af_sin, af_bind,
 * af_connect, af_getint, af_setint, af_socket, af_timeo, af_listener,
 * af_accept, af_pair, af_send_all, af_recv_all, af_pattern, af_expect,
 * af_now_ms, af_sleep_ms, af_spawn, af_join, af_counter, af_sender_main,
 * af_receiver_main.
 */
#ifndef TS_TESTS_UNIT_API_FIXTURE_H
#define TS_TESTS_UNIT_API_FIXTURE_H

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "socket_api/tapstack.h"

#define AF_IP_A 0x0a000001u         /* 10.0.0.1, host order */
#define AF_IP_B 0x0a000002u         /* 10.0.0.2 */
#define AF_IP_NOBODY 0x0a000003u    /* on the link, but no host answers */
#define AF_IP_BCAST 0x0a0000ffu     /* 10.0.0.255 */
#define AF_TIMEO_MS 3000            /* bound on any one blocking call */
#define AF_JOIN_MS 10000            /* bound on any helper thread */
#define AF_MARGIN_MS 20             /* slack for "took at least" checks */

/* A struct sockaddr_in variable as the API's struct sockaddr pointer. */
#define AF_SA(sin) ((struct sockaddr *)&(sin))

/* Assert that expr returns -1 with errno e; says what it got if not. */
#define AF_FAILS(expr, e)                                                    \
    do {                                                                     \
        errno = 0;                                                           \
        long af_rc_ = (long)(expr);                                          \
        int af_e_ = errno;                                                   \
        if (af_rc_ != -1 || af_e_ != (e))                                    \
            fprintf(stderr, "\n%s:%d: %s -> %ld, errno %s (want %s)\n",      \
                    __FILE__, __LINE__, #expr, af_rc_, strerror(af_e_), #e);  \
        CU_assertImplementation(af_rc_ == -1 && af_e_ == (e), __LINE__,      \
                                #expr " fails with " #e, __FILE__, "",       \
                                CU_FALSE);                                   \
    } while (0)

struct af {
    struct ts_stack *a, *b;
    int wedged;                     /* a helper thread is still inside */
};

/* Open A and B; max_sockets 0 keeps the default. Fatal on failure. */
struct af *af_open(unsigned max_sockets);
/* The same with max_conns TCP connections per stack (0: the default). */
struct af *af_open_limits(unsigned max_sockets, unsigned max_conns);
void af_close(struct af *f);

struct sockaddr_in af_sin(uint32_t ip, uint16_t port);
/* ts_socket(AF_INET, type) with both time-outs set; asserts success. */
int af_socket(struct ts_stack *st, int type);
/* ts_bind / ts_connect to ip:port (host order). */
int af_bind(struct ts_stack *st, int fd, uint32_t ip, uint16_t port);
int af_connect(struct ts_stack *st, int fd, uint32_t ip, uint16_t port);
/* An int option's value (asserting the call works), or set one. */
int af_getint(struct ts_stack *st, int fd, int level, int name);
int af_setint(struct ts_stack *st, int fd, int level, int name, int v);
/* SO_RCVTIMEO and SO_SNDTIMEO of ms; 0 or -1. */
int af_timeo(struct ts_stack *st, int fd, unsigned ms);
/* A TCP socket bound to any:port and listening; -1 on failure. */
int af_listener(struct ts_stack *st, uint16_t port);
/* ts_accept with both time-outs set on the new socket. */
int af_accept(struct ts_stack *st, int lfd);
/* A connected pair: *cfd on A, *sfd on B (accepted from a listener on
 * port that is closed again). 0, or -1 with the pair not made. */
int af_pair(struct af *f, uint16_t port, int *cfd, int *sfd);

/* Send/receive exactly len bytes (looping over short counts). Returns the
 * bytes moved; fewer on error or end of stream (errno says which). */
size_t af_send_all(struct ts_stack *st, int fd, const void *buf, size_t len);
size_t af_recv_all(struct ts_stack *st, int fd, void *buf, size_t len);

/* Byte off of pattern stream seed, written for len bytes. */
void af_pattern(uint8_t *buf, size_t len, uint32_t seed, size_t off);
/* Does buf hold bytes off..off+len of stream seed? */
int af_expect(const uint8_t *buf, size_t len, uint32_t seed, size_t off);

uint64_t af_now_ms(void);
void af_sleep_ms(unsigned ms);

/* Start a helper thread; asserts success. */
void af_spawn(pthread_t *t, void *(*fn)(void *), void *arg);
/* Join t within AF_JOIN_MS: 0, or -1 (t detached, f wedged). */
int af_join(struct af *f, pthread_t t);

/* A counter from ts_stack_counters ("udp", "drop_no_port"); -1 if absent. */
long long af_counter(struct ts_stack *st, const char *section,
                     const char *name);

/* One direction of a stream transfer, run by af_sender_main (pattern out,
 * then SHUT_WR if shut) or af_receiver_main (len bytes in, checked, then
 * end of stream expected if shut). */
struct af_xfer {
    struct ts_stack *st;
    int fd;
    size_t len;
    uint32_t seed;
    int shut;
    size_t done;                    /* bytes moved (and matching) */
    int err;                        /* errno of the failure, or 0 */
    int ok;                         /* all of it, and EOF when asked */
};
void *af_sender_main(void *arg);
void *af_receiver_main(void *arg);

#endif
