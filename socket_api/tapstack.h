/* socket_api/tapstack.h - the public API: BSD-like sockets on tapstack.
 *
 * A program opens a stack (ts_stack_open) on a TAP device or on any netdev;
 * the stack runs in a thread of its own (epoll on the device, an eventfd for
 * wake-ups, the next timer deadline as the time-out). Sockets are small
 * integers, private to their stack, so every call names the stack:
 *
 *     struct ts_stack *st = ts_stack_open(&cfg);
 *     int fd = ts_socket(st, AF_INET, SOCK_STREAM, 0);
 *     ts_connect(st, fd, (struct sockaddr *)&sin, sizeof sin);
 *     ts_send(st, fd, "hi", 2, 0);
 *
 * Semantics follow BSD sockets and POSIX: calls return -1 and set errno
 * (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EADDRINUSE, EAGAIN, EPIPE,
 * ENOTCONN, EINVAL, EBADF, ...); addresses are struct sockaddr_in; option
 * names are the system's (SOL_SOCKET/SO_*, IPPROTO_TCP/TCP_NODELAY).
 * Sockets block unless made non-blocking (SOCK_NONBLOCK in ts_socket's
 * type, or ts_fcntl(F_SETFL, O_NONBLOCK)); SO_RCVTIMEO/SO_SNDTIMEO bound
 * the wait. Every call is thread-safe: any number of application threads
 * may use one stack at once. ts_send never raises SIGPIPE: it fails with
 * EPIPE.
 *
 * Supported: AF_INET; SOCK_STREAM (TCP) and SOCK_DGRAM (UDP). Options:
 * SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF (before connect/listen),
 * SO_ERROR, SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO, SO_BROADCAST, SO_TYPE,
 * TCP_NODELAY. Flags: MSG_DONTWAIT, MSG_PEEK is not supported (EINVAL).
 *
 * Entry points: ts_stack_config_init, ts_stack_open, ts_stack_close,
 * ts_stack_counters, ts_stack_ifname, ts_stack_error, ts_stack_serve,
 * ts_socket, ts_bind,
 * ts_listen, ts_accept, ts_connect, ts_send, ts_recv, ts_sendto,
 * ts_recvfrom, ts_shutdown, ts_close, ts_setsockopt, ts_getsockopt,
 * ts_getsockname, ts_getpeername, ts_fcntl, ts_poll; the socketserver-style
 * helper in socket_api/ts_server.h.
 *
 * Installed (make install) as <tapstack/tapstack.h>, with ts_server.h next
 * to it; `pkg-config --cflags --libs tapstack` gives the flags. Every
 * declaration here is marked TS_API, the one set of symbols libtapstack.so
 * exports (it is built with -fvisibility=hidden). The include guard
 * TS_SOCKET_API_TAPSTACK_H is also what another implementation of this API
 * defines to stand in for this header (the demo apps' kernel backend).
 */
#ifndef TS_SOCKET_API_TAPSTACK_H
#define TS_SOCKET_API_TAPSTACK_H

#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

/* <netinet/tcp.h> would clash with the stack's own TCP state names inside
 * the library, so the one option value needed is defined here (Linux's). */
#ifndef TCP_NODELAY
#define TCP_NODELAY 1
#endif

/* The library's exported symbols: everything declared with TS_API. */
#ifndef TS_API
#if defined(__GNUC__) && __GNUC__ >= 4
#define TS_API __attribute__((visibility("default")))
#else
#define TS_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct netdev;
struct ts_stack;

/* How to start a stack. ts_stack_config_init fills the defaults; the
 * strings are read during ts_stack_open only. */
struct ts_stack_config {
    const char *iface;          /* TAP to open or create ("tap0"); unused
                                   when dev is given */
    struct netdev *dev;         /* run on this device instead (the stack
                                   owns it from ts_stack_open on) */
    const char *addr;           /* "A.B.C.D/N" ("10.0.0.2/24") */
    const char *gateway;        /* "A.B.C.D" or NULL */
    const char *host_addr;      /* configure the kernel side of the TAP
                                   with "A.B.C.D/N", or NULL */
    const char *mac;            /* "xx:xx:..", NULL: 02:00 + address */
    unsigned mtu;               /* 1500 */
    int no_offload;             /* 1: open the TAP plain, without the
                                   virtio-net header, partial checksums and
                                   TCP super-frames (on by default) */
    const char *pcap;           /* capture file, or NULL */
    const char *pcap_lo;        /* capture of the loopback interface (the
                                   stack talking to itself), or NULL */
    int log_level;              /* 0 errors .. 3 debug (1) */
    FILE *log;                  /* NULL: stderr */
    unsigned max_sockets;       /* 1024 */
    unsigned max_conns;         /* TCP connections in the table, TIME-WAIT
                                   included; 0: 4096 (each idle one costs
                                   about 1 KiB, its rings come with data) */
    uint32_t sndbuf, rcvbuf;    /* TCP default buffer sizes (256 KiB) */
    uint64_t seed;              /* 0: random; else a fixed seed for tests,
                                   which also fixes the ISN secret */
    const char *congestion;     /* TCP congestion control of new sockets:
                                   "cubic" (NULL: the default) or "reno";
                                   TCP_CONGESTION changes one socket's */
    /* Fault injection, a seeded netem between the device and the capture
     * (so the capture shows what the stack sent and what it received after
     * the faults). On when any rate, delay or jitter is non-zero. */
    double loss, dup, reorder, corrupt; /* probabilities, 0..1 */
    unsigned delay_ms, jitter_ms;       /* hold frames, 0..10000 ms */
    unsigned fault_dir;                 /* TS_FAULT_RX | TS_FAULT_TX; 0: both */
    uint64_t fault_seed;                /* the injector's own seed (1) */
    /* When not NULL, ts_stack_open writes a one-line reason for a failure
     * here ("cannot open TAP tap0: ..."), at most errlen bytes. */
    char *errbuf;
    size_t errlen;
    /* The event trace (README "Trace"): one JSON object per line for each
     * drop, state change, retransmission, window change... naming the
     * --pcap frames involved. */
    const char *trace;          /* JSON-lines trace of every event, "-":
                                   standard output, or NULL */
    unsigned trace_max_mb;      /* the trace stops there, with a last line
                                   saying so (0: 100 MiB) */
};

#define TS_FAULT_RX 0x1u
#define TS_FAULT_TX 0x2u
#define TS_FAULT_BOTH (TS_FAULT_RX | TS_FAULT_TX)

TS_API void ts_stack_config_init(struct ts_stack_config *cfg);
/* Start a stack and its thread. NULL with errno set on failure (EINVAL for
 * a bad address string, ENOENT/EPERM when the TAP cannot be opened). */
TS_API struct ts_stack *ts_stack_open(const struct ts_stack_config *cfg);
/* Stop the thread, close every socket (connections still open are reset;
 * those the application already closed get up to 2 s to deliver their data
 * and FIN), flush the capture and free everything. Call it only when no other thread is still
 * inside (or about to enter) a ts_* call on this stack: stop and join your
 * threads first (ts_server_stop does so for a server). */
TS_API void ts_stack_close(struct ts_stack *st);
/* Print every layer's counters, like `netstat -s`: the sections eth, tap
 * (on a TAP: its offloads), arp, ipv4, icmp, tcp, udp, pbuf, stack, and
 * faults when faults are injected. */
TS_API void ts_stack_counters(struct ts_stack *st, FILE *out);
/* The name of the device the stack runs on ("tap0"). */
TS_API const char *ts_stack_ifname(const struct ts_stack *st);
/* 0 while the device works; else the positive errno with which it failed.
 * The stack then stops reading it (timers and sockets carry on). */
TS_API int ts_stack_error(struct ts_stack *st);

/* Let other programs share this stack: serve the control socket NAME
 * ("@name": an abstract socket, private to the network namespace; else a
 * filesystem path, made with mode 0600) to the programs that
 * libtapstack-preload.so runs on it (tapstack-run). Only this process's
 * user and root may connect. Stops with ts_stack_close. 0, or -1 and errno
 * (EADDRINUSE: another stack serves that name; EBUSY: already serving). */
TS_API int ts_stack_serve(struct ts_stack *st, const char *name);

TS_API int ts_socket(struct ts_stack *st, int domain, int type, int protocol);
TS_API int ts_bind(struct ts_stack *st, int fd, const struct sockaddr *addr,
                   socklen_t len);
TS_API int ts_listen(struct ts_stack *st, int fd, int backlog);
TS_API int ts_accept(struct ts_stack *st, int fd, struct sockaddr *addr,
                     socklen_t *len);
TS_API int ts_connect(struct ts_stack *st, int fd,
                      const struct sockaddr *addr, socklen_t len);
TS_API ssize_t ts_send(struct ts_stack *st, int fd, const void *buf,
                       size_t len, int flags);
TS_API ssize_t ts_recv(struct ts_stack *st, int fd, void *buf, size_t len,
                       int flags);
TS_API ssize_t ts_sendto(struct ts_stack *st, int fd, const void *buf,
                         size_t len, int flags, const struct sockaddr *to,
                         socklen_t tolen);
TS_API ssize_t ts_recvfrom(struct ts_stack *st, int fd, void *buf, size_t len,
                           int flags, struct sockaddr *from,
                           socklen_t *fromlen);
TS_API int ts_shutdown(struct ts_stack *st, int fd, int how);
TS_API int ts_close(struct ts_stack *st, int fd);
TS_API int ts_setsockopt(struct ts_stack *st, int fd, int level, int name,
                         const void *val, socklen_t len);
TS_API int ts_getsockopt(struct ts_stack *st, int fd, int level, int name,
                         void *val, socklen_t *len);
TS_API int ts_getsockname(struct ts_stack *st, int fd, struct sockaddr *addr,
                          socklen_t *len);
TS_API int ts_getpeername(struct ts_stack *st, int fd, struct sockaddr *addr,
                          socklen_t *len);
/* F_GETFL and F_SETFL with O_NONBLOCK only. */
TS_API int ts_fcntl(struct ts_stack *st, int fd, int cmd, int arg);
/* poll(2) over this stack's sockets: POLLIN, POLLOUT, POLLERR, POLLHUP,
 * POLLNVAL; timeout in ms, -1 forever. Returns the number of entries with
 * events, 0 on time-out. */
TS_API int ts_poll(struct ts_stack *st, struct pollfd *fds, nfds_t nfds,
                   int timeout);

#ifdef __cplusplus
}
#endif
#endif
