/* tools/lib/ts_kernel.h - the tapstack API on the kernel's own sockets.
 *
 * The -kernel build of a demo app: the Makefile compiles the app's source
 * unchanged with `-include tools/lib/ts_kernel.h`, and every ts_* call
 * becomes a static inline wrapper over the system call of the same name
 * (ts_socket -> socket(2), ts_poll -> poll(2), ts_fcntl -> fcntl(2), ...).
 * This header stands in for socket_api/tapstack.h: it defines that
 * header's include guard, so every later #include of it (by the app, by
 * ts_server.h) is empty, and it defines TS_BACKEND_KERNEL for code that
 * must tell the two builds apart (ts_app.c's --help). So one source builds
 * twice, build/APP on tapstack and build/APP-kernel on the kernel (the
 * Makefile's *-kernel rule links ts_server.c and tools/lib/ built the same
 * way, not libtapstack.a), and a benchmark of the two compares the stacks
 * and nothing else. The public header knows nothing of this file.
 *
 * The stack handle only keeps the signatures: ts_stack_open ignores its
 * configuration (no TAP, no address: --iface, --addr and the other stack
 * options have no effect) and returns a dummy non-NULL pointer;
 * ts_stack_close does nothing; ts_stack_counters prints a note;
 * ts_stack_ifname says "kernel" and ts_stack_error 0.
 *
 * What still differs from tapstack, so portable programs handle both:
 *  - blocking calls may fail with EINTR when a signal arrives (tapstack's
 *    never do): install handlers with SA_RESTART, and treat EINTR from
 *    ts_poll as "no events";
 *  - socket numbers are process file descriptors (0, 1 and 2 are taken):
 *    do not mix other descriptors into ts_poll, tapstack would not see them;
 *  - close(2) does not wake a thread blocked in recv(2) or send(2) on the
 *    same socket; ts_shutdown(SHUT_RDWR) first wakes it on both backends.
 * Like tapstack's, ts_send and ts_sendto never raise SIGPIPE (MSG_NOSIGNAL).
 */
#ifndef TS_TOOLS_LIB_TS_KERNEL_H
#define TS_TOOLS_LIB_TS_KERNEL_H

#ifdef TS_SOCKET_API_TAPSTACK_H
#error "tools/lib/ts_kernel.h must come first: -include tools/lib/ts_kernel.h"
#endif
#define TS_SOCKET_API_TAPSTACK_H    /* stand in for socket_api/tapstack.h */
#ifndef TS_BACKEND_KERNEL
#define TS_BACKEND_KERNEL 1
#endif
#define TS_API                      /* nothing to export: all inline */

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

struct netdev;
struct ts_stack;                /* never defined: the handle is a dummy */

/* The same fields as tapstack.h's (keep them in step), so the same code
 * fills it; none is read. */
struct ts_stack_config {
    const char *iface;
    struct netdev *dev;
    const char *addr;
    const char *gateway;
    const char *host_addr;
    const char *mac;
    unsigned mtu;
    const char *pcap;
    const char *pcap_lo;
    int log_level;
    FILE *log;
    unsigned max_sockets;
    unsigned max_conns;
    uint32_t sndbuf, rcvbuf;
    uint64_t seed;
    double loss, dup, reorder, corrupt;
    unsigned delay_ms, jitter_ms;
    unsigned fault_dir;
    uint64_t fault_seed;
    char *errbuf;
    size_t errlen;
};

#define TS_FAULT_RX 0x1u
#define TS_FAULT_TX 0x2u
#define TS_FAULT_BOTH (TS_FAULT_RX | TS_FAULT_TX)

static inline void ts_stack_config_init(struct ts_stack_config *cfg)
{
    *cfg = (struct ts_stack_config){
        .iface = "tap0", .addr = "10.0.0.2/24", .mtu = 1500, .log_level = 1,
        .max_sockets = 1024, .sndbuf = 256 * 1024, .rcvbuf = 256 * 1024,
        .fault_seed = 1,
    };
}

static inline struct ts_stack *ts_stack_open(const struct ts_stack_config *cfg)
{
    static char dummy;
    (void)cfg;
    return (struct ts_stack *)(void *)&dummy;
}

static inline void ts_stack_close(struct ts_stack *st)
{
    (void)st;
}

static inline void ts_stack_counters(struct ts_stack *st, FILE *out)
{
    (void)st;
    fprintf(out, "(kernel sockets: no tapstack counters; see nstat(8), ss -s)\n");
}

static inline const char *ts_stack_ifname(const struct ts_stack *st)
{
    (void)st;
    return "kernel";
}

static inline int ts_stack_error(struct ts_stack *st)
{
    (void)st;
    return 0;
}

static inline int ts_socket(struct ts_stack *st, int domain, int type,
                            int protocol)
{
    (void)st;
    return socket(domain, type, protocol);
}

static inline int ts_bind(struct ts_stack *st, int fd,
                          const struct sockaddr *addr, socklen_t len)
{
    (void)st;
    return bind(fd, addr, len);
}

static inline int ts_listen(struct ts_stack *st, int fd, int backlog)
{
    (void)st;
    return listen(fd, backlog);
}

static inline int ts_accept(struct ts_stack *st, int fd, struct sockaddr *addr,
                            socklen_t *len)
{
    (void)st;
    return accept(fd, addr, len);
}

static inline int ts_connect(struct ts_stack *st, int fd,
                             const struct sockaddr *addr, socklen_t len)
{
    (void)st;
    return connect(fd, addr, len);
}

static inline ssize_t ts_send(struct ts_stack *st, int fd, const void *buf,
                              size_t len, int flags)
{
    (void)st;
    return send(fd, buf, len, flags | MSG_NOSIGNAL);
}

static inline ssize_t ts_recv(struct ts_stack *st, int fd, void *buf,
                              size_t len, int flags)
{
    (void)st;
    return recv(fd, buf, len, flags);
}

static inline ssize_t ts_sendto(struct ts_stack *st, int fd, const void *buf,
                                size_t len, int flags,
                                const struct sockaddr *to, socklen_t tolen)
{
    (void)st;
    return sendto(fd, buf, len, flags | MSG_NOSIGNAL, to, tolen);
}

static inline ssize_t ts_recvfrom(struct ts_stack *st, int fd, void *buf,
                                  size_t len, int flags, struct sockaddr *from,
                                  socklen_t *fromlen)
{
    (void)st;
    return recvfrom(fd, buf, len, flags, from, fromlen);
}

static inline int ts_shutdown(struct ts_stack *st, int fd, int how)
{
    (void)st;
    return shutdown(fd, how);
}

static inline int ts_close(struct ts_stack *st, int fd)
{
    (void)st;
    return close(fd);
}

static inline int ts_setsockopt(struct ts_stack *st, int fd, int level,
                                int name, const void *val, socklen_t len)
{
    (void)st;
    return setsockopt(fd, level, name, val, len);
}

static inline int ts_getsockopt(struct ts_stack *st, int fd, int level,
                                int name, void *val, socklen_t *len)
{
    (void)st;
    return getsockopt(fd, level, name, val, len);
}

static inline int ts_getsockname(struct ts_stack *st, int fd,
                                 struct sockaddr *addr, socklen_t *len)
{
    (void)st;
    return getsockname(fd, addr, len);
}

static inline int ts_getpeername(struct ts_stack *st, int fd,
                                 struct sockaddr *addr, socklen_t *len)
{
    (void)st;
    return getpeername(fd, addr, len);
}

static inline int ts_fcntl(struct ts_stack *st, int fd, int cmd, int arg)
{
    (void)st;
    return fcntl(fd, cmd, arg);
}

static inline int ts_poll(struct ts_stack *st, struct pollfd *fds, nfds_t nfds,
                          int timeout)
{
    (void)st;
    return poll(fds, nfds, timeout);
}

#endif
