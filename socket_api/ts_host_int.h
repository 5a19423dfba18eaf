/* socket_api/ts_host_int.h - what the shared host's files share: the host,
 * the programs connected to it, and one struct ts_hsock per stack socket it
 * serves through a socketpair (the wire format is ts_ctl_proto.h).
 *
 * Everything runs in the stack thread with the stack's lock held. Watch
 * callbacks (epoll) and socket events (TCP/UDP) only set flags and put the
 * socket on the dirty list; ts_host_run serves the dirty list and frees what
 * was released, so nothing is freed while epoll's batch may still name it.
 * Files: ts_host.c (start, stop, programs, requests), ts_host_ops.c (one
 * function per request), ts_host_io.c (the bytes and datagrams).
 */
#ifndef TS_SOCKET_API_TS_HOST_INT_H
#define TS_SOCKET_API_TS_HOST_INT_H

#include <sys/types.h>

#include "socket_api/ts_ctl_proto.h"
#include "socket_api/ts_host.h"
#include "socket_api/ts_internal.h"

#define TS_HS_RD 0x001          /* our end may hold bytes (an edge was seen) */
#define TS_HS_WR 0x002          /* our end may take bytes */
#define TS_HS_HUP 0x004         /* the program's end is closed */
#define TS_HS_EOF 0x008         /* the program shut its writing (read 0) */
#define TS_HS_FIN 0x010         /* we shut our writing: the peer's FIN */
#define TS_HS_DEAD 0x020        /* reset or failed: both ways shut */
#define TS_HS_DIRTY 0x040       /* on the dirty list */
#define TS_HS_CONNECTING 0x080  /* handshake under way, filler queued */
#define TS_HS_GONE 0x100        /* released: freed by ts_host_run */
#define TS_HS_NOREAD 0x200      /* the program shut its reading (EPIPE) */
#define TS_HS_UDPCONN 0x400     /* a UDP socket with a default peer */
#define TS_HS_HUPSEEN 0x800     /* our end read HUP: closed, or shut down? */

struct ts_hsock {
    struct ts_watch w;          /* w.fd: our end of the pair */
    struct ts_host *h;
    struct ts_sock *s;          /* the stack socket served */
    ino_t pino;                 /* the program's end: how requests name it */
    dev_t pdev;                 /* (the socket filesystem's device) */
    int family;                 /* AF_INET, or AF_INET6 (v4-mapped) */
    unsigned flags;             /* TS_HS_* */
    int pfd;                    /* while connecting: the program's end */
    uint32_t filler;            /* bytes queued to make it unwritable */
    int sndbuf_saved;           /* its SO_SNDBUF before */
    int err;                    /* pending error for TS_OP_STATUS (errno) */
    struct ts_hsock *hnext;     /* hash chain by pino */
    struct ts_hsock *dnext;     /* dirty list */
    struct ts_hsock *rnext;     /* released list */
};

struct ts_hclient {
    struct ts_watch w;          /* the program's control connection */
    struct ts_host *h;
    uid_t uid;
    pid_t pid;
    int gone;
    struct ts_hclient *next;
};

#define TS_HOST_COUNTERS(X) \
    X(programs_now, "control connections open") \
    X(programs_total, "control connections accepted") \
    X(programs_refused, "connections refused: wrong user, or too many") \
    X(requests, "control requests served") \
    X(bad_requests, "malformed requests answered with EPROTO") \
    X(sockets_now, "stack sockets served to programs") \
    X(sockets_total, "stack sockets created for programs") \
    X(conns_handed, "accepted connections handed to programs") \
    X(conns_reset_by_exit, "connections reset: program closed with unread data") \
    X(bytes_from_programs, "bytes programs wrote into stack sockets") \
    X(bytes_to_programs, "bytes passed to programs") \
    X(dgrams_from_programs, "datagrams programs sent") \
    X(dgrams_to_programs, "datagrams passed to programs") \
    X(dgrams_dropped, "datagrams dropped: malformed, or a pair full") \
    X(watchers_now, "tapstack-ctl watch streams open") \
    X(watch_dropped, "events not sent to a watch stream: its buffer was full")

struct ts_host_stats {
#define TS_HOST_FIELD(name, help) uint64_t name;
    TS_HOST_COUNTERS(TS_HOST_FIELD)
#undef TS_HOST_FIELD
};

struct ts_host {
    struct ts_stack *st;
    struct ts_watch lw;         /* the listening control socket */
    char path[108];             /* filesystem name to unlink, or "" */
    uid_t owner;
    struct ts_hsock **hash;     /* by pino */
    unsigned nhash;             /* a power of two */
    struct ts_hsock *dirty;
    struct ts_hsock *released;
    struct ts_hclient *clients;
    unsigned nclients;
    uint8_t *buf;               /* TS_HOST_BUF bytes: datagrams, filler */
    int diag;                   /* sock_diag netlink socket, or -1 */
    int accept_paused;          /* out of descriptors: control socket unwatched */
    int clients_gone;           /* a program left this round */
    uint64_t *zero_base;        /* counters at `stats -z`, or NULL */
    struct ts_hwatch *watchers; /* tapstack-ctl watch streams */
    struct ts_host_stats stats;
};

#define TS_HOST_BUF (65536 + 64)
#define TS_HOST_MAX_CLIENTS 4096
#define TS_HOST_ZERO_MAX 1024       /* counters `stats -z` remembers */

/* ts_host.c */
/* The host's counter table, for `tapstack-ctl stats`. */
void ts_host_counters_walk(const struct ts_host *h, stack_counters_fn fn,
                           void *ctx);
struct ts_hsock *ts_host_find(struct ts_host *h, ino_t pino);
void ts_host_dirty(struct ts_hsock *hs);
/* Serve stack socket s (a slot of st) through a new pair: returns the
 * program's end, or -errno (the socket is then closed). */
int ts_host_adopt(struct ts_host *h, struct ts_sock *s, int family,
                  struct ts_hsock **out);
/* Stop serving hs: close the stack socket (abort: with RST) and our end. */
void ts_host_release(struct ts_hsock *hs, int abort);
/* Release the served sockets of type bound to port whose program already
 * closed them (their HUP not yet served). Returns how many. */
int ts_host_reap_port(struct ts_host *h, int type, uint16_t port);
/* Send fd to sock with the message (MSG_DONTWAIT). bytes sent or -errno. */
ssize_t ts_host_send_fd(int sock, const void *msg, size_t len, int fd);

/* ts_host_ops.c: answer one request (rep->rc and friends); *keep is set
 * when the handler kept the descriptor it was given. */
void ts_host_op(struct ts_host *h, const struct ts_ctl_req *rq,
                const int *fds, int nfds, struct ts_ctl_rep *rep,
                int *out_fd, int *keep);
/* Addresses between the socket's family and the stack's sockaddr_in. */
int ts_host_addr_in(const struct ts_hsock *hs, const uint8_t *a, uint32_t len,
                    struct sockaddr_in *sin);
uint32_t ts_host_addr_out(int family, const struct sockaddr_in *sin,
                          uint8_t *out);

/* ts_host_watch.c: TS_OP_WATCH (rc, and *out_fd the reader's end); let go
 * of the streams whose reader left; of all of them. */
int ts_host_op_watch(struct ts_host *h, const struct ts_ctl_req *rq,
                     int *out_fd);
void ts_host_watch_reap(struct ts_host *h);
void ts_host_watch_stop(struct ts_host *h);

/* ts_host_diag.c: a netlink socket, or -errno; 1 while the socket of
 * inode pino exists, else 0. */
int ts_host_diag_open(void);
int ts_host_prog_alive(int nl, ino_t pino);

/* ts_host_io.c */
void ts_host_serve(struct ts_hsock *hs);
void ts_host_watch_fn(struct ts_watch *w, uint32_t events);
int ts_host_connect_start(struct ts_hsock *hs, int pfd);

#endif
