/* socket_api/ts_internal.h - what the files behind tapstack.h share.
 *
 * One mutex per stack guards everything: the stack thread holds it while it
 * processes frames and timers, an application call holds it while it acts
 * on a socket, and a call that must wait sleeps on its socket's condition
 * variable (which releases the mutex). TCP and UDP events, delivered under
 * the mutex, broadcast that variable and the stack's poll variable. After a
 * call that may have armed a timer, ts_kick() makes sure the sleeping stack
 * thread wakes in time for it: when the earliest deadline is now before the
 * time the thread means to wake, it arms a timerfd for that deadline (one
 * system call, no wake-up now); only a stopping stack is woken at once,
 * through an eventfd.
 * Files: ts_stack.c (open, close, the thread, lo), ts_socket.c (the
 * calls), ts_poll.c (waiting, poll, names), ts_opts.c (options).
 */
#ifndef TS_SOCKET_API_TS_INTERNAL_H
#define TS_SOCKET_API_TS_INTERNAL_H

#include <pthread.h>

#include "socket_api/stack.h"
#include "socket_api/tapstack.h"

enum ts_kind { TS_FREE = 0, TS_NEW, TS_LISTEN, TS_CONN, TS_UDP };

/* A descriptor the stack thread waits on besides its own (the shared
 * host's control socket and socketpair ends): fn runs in the stack thread,
 * lock held, with the epoll events. epoll's data.ptr points here, so a
 * watch must stay allocated until the dispatch loop is over (the host frees
 * watches only from ts_host_run, after dispatch). */
struct ts_watch;
typedef void (*ts_watch_fn)(struct ts_watch *w, uint32_t events);
struct ts_watch {
    int fd;
    ts_watch_fn fn;
};

struct ts_sock {
    struct ts_stack *st;
    int kind;                   /* enum ts_kind */
    int type;                   /* SOCK_STREAM or SOCK_DGRAM */
    unsigned gen;               /* bumped on close: waiters notice */
    struct tcp_conn *c;
    struct tcp_listener *l;
    struct udp_sock *u;
    uint32_t baddr;             /* bound address (0: any), host order */
    uint16_t bport;
    int bound, nonblock, reuseaddr, reuseport, nodelay, keepalive, broadcast;
    uint32_t ka_idle, ka_intvl; /* TCP_KEEPIDLE/INTVL in s, 0: the default */
    unsigned ka_cnt;            /* TCP_KEEPCNT, 0: the default */
    uint8_t ttl, tos;           /* IP_TTL (0: 64), IP_TOS */
    const struct tcp_cc_ops *cc; /* TCP_CONGESTION, NULL: the stack's */
    int shut_rd, connecting;
    int linger_on, linger_s;
    uint32_t sndbuf, rcvbuf;    /* 0: the stack's default */
    uint32_t rcvtimeo, sndtimeo; /* ms, 0: forever */
    int so_error;               /* pending error (positive errno) */
    pthread_cond_t *cond;       /* st->conds[fd]: lives as long as the stack */
    /* A socket the shared host serves (ts_host.c): called on every event
     * of the socket, in the thread that caused it, lock held. */
    void (*notify)(struct ts_sock *s);
    void *owner;
};

struct ts_host;

struct ts_trace;

struct ts_stack {
    pthread_mutex_t lock;
    pthread_cond_t poll_cond;
    pthread_t thread;
    int efd, epfd, tfd;         /* eventfd, epoll, timerfd */
    int stop, sleeping, running, rx_ready, host_busy;
    unsigned watch_gen;         /* bumped when watches are freed outside
                                   the thread's own round (ts_host_stop) */
    struct ts_watch w_efd, w_tfd, w_dev;
    struct ts_host *host;       /* programs sharing the stack, or NULL */
    uint64_t wake_at;           /* while sleeping: when the thread wakes at
                                   the latest (ms, CLOCK_MONOTONIC) */
    struct stack s;
    struct netdev *cap;         /* capture wrapper, or NULL */
    int cap_lo;                 /* lo is captured (--pcap-lo) */
    struct ts_trace *trace;     /* --trace, or NULL */
    struct netdev *fault;       /* fault injector, or NULL */
    int dev_err;                /* positive errno: the device failed */
    uint64_t next_flush;
    struct ts_sock *socks;
    pthread_cond_t *conds;      /* one per slot, never copied or moved */
    unsigned nsocks;
    unsigned free_lo;           /* every slot below is in use (ts_slot) */
};

/* Take back in what the stack sent to itself (lo), a bounded amount; when
 * more is left, wake the stack thread to go on. Every call runs it before
 * it lets go of the lock or sleeps (ts_kick, ts_wait), so loopback traffic
 * needs no thread switch. Returns the number of frames processed (lock
 * held). */
unsigned ts_lo_run(struct ts_stack *st);
/* Take in lo's frames (ts_lo_run), then make the sleeping stack thread
 * wake in time for the deadlines a call may have armed; at once if the
 * stack is stopping (lock held). */
void ts_kick(struct ts_stack *st);
/* Sleep on cond (releasing lock) until woken or deadline (ms, TS_NEVER: no
 * limit). Returns 0, or -ETIMEDOUT. */
int ts_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock,
                       uint64_t deadline);
/* Sleep on s->cond until woken or deadline (ms, TS_NEVER: no limit).
 * Returns 0, or -ETIMEDOUT. Lock held. */
int ts_wait(struct ts_sock *s, uint64_t deadline);
/* The socket for fd, or NULL with errno EBADF. Lock held. */
struct ts_sock *ts_sock_get(struct ts_stack *st, int fd);
/* A deadline timeo ms from now, TS_NEVER for 0. */
uint64_t ts_deadline(uint32_t timeo_ms);
/* Events for the socket in poll(2) terms (lock held). */
short ts_revents(struct ts_sock *s, short want);
/* Clear slot fd for a new socket of type (lock held). */
struct ts_sock *ts_sock_reset(struct ts_stack *st, int fd, int type);
/* Add w to (or change its events in, or take it out of) the stack
 * thread's wait set (lock held). 0 or -errno. */
int ts_watch_add(struct ts_stack *st, struct ts_watch *w, uint32_t events);
void ts_watch_del(struct ts_stack *st, struct ts_watch *w);
/* The calls behind tapstack.h with the lock held and the socket looked up,
 * for the shared host, which runs in the stack thread: -1 and errno as the
 * API says. Its sockets are non-blocking, so none of these ever waits. */
int ts_socket_locked(struct ts_stack *st, int type, int nonblock);
/* A call's outcome on the event path (rc, errno as the call left them;
 * socket_api/ts_sock_event.c). */
void ts_call_event(struct ts_sock *s, const char *call, int rc);
int ts_bind_locked(struct ts_sock *s, const struct sockaddr *a, socklen_t len);
int ts_listen_locked(struct ts_sock *s, int backlog);
int ts_accept_locked(struct ts_sock *s, struct sockaddr *a, socklen_t *len);
int ts_connect_locked(struct ts_sock *s, const struct sockaddr *a,
                      socklen_t len);
ssize_t ts_sendto_locked(struct ts_sock *s, const void *buf, size_t len,
                         int flags, const struct sockaddr *to, socklen_t tolen);
int ts_shutdown_locked(struct ts_sock *s, int how);
int ts_close_locked(struct ts_sock *s);
/* These return 0 or -errno. */
int ts_setsockopt_locked(struct ts_sock *s, int level, int name,
                         const void *val, socklen_t len);
int ts_getsockopt_locked(struct ts_sock *s, int level, int name, void *val,
                         socklen_t *len);
int ts_name_locked(struct ts_sock *s, struct sockaddr *a, socklen_t *len,
                   int peer);
/* Push the socket's options into its connection or UDP socket, once that
 * exists (connect, accept) and whenever one changes. */
void ts_opts_apply(struct ts_sock *s);
/* Return -1 with errno = -neg. */
int ts_fail(int neg);
/* Write addr:port as a sockaddr_in into a/len (BSD truncation rules). */
void ts_fill_sin(struct sockaddr *a, socklen_t *len, uint32_t addr,
                 uint16_t port);

#endif
