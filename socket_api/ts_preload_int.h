/* socket_api/ts_preload_int.h - what the preload library's interposer files
 * (ts_preload.c, ts_preload_ops.c, ts_preload_io.c) share. Not installed,
 * not used outside libtapstack-preload.so.
 *
 * The library is built with -fvisibility=hidden: only the interposed C
 * library functions (marked TSP_EXPORT) leave the .so.
 *
 * Entry points: tsp_active, tsp_same_process, tsp_fail, tsp_call,
 * tsp_host_socket, tsp_copy_addr, tsp_io_kind, tsp_tcp_eof, tsp_v6_take.
 */
#ifndef TS_SOCKET_API_TS_PRELOAD_INT_H
#define TS_SOCKET_API_TS_PRELOAD_INT_H

#include <stdbool.h>
#include <sys/socket.h>

#include "socket_api/ts_ctl_proto.h"
#include "socket_api/ts_preload_ctl.h"
#include "socket_api/ts_preload_fd.h"
#include "socket_api/ts_preload_real.h"

#define TSP_EXPORT __attribute__((visibility("default")))

/* True when $TAPSTACK_CTL was set at start-up: the library is live. When
 * false every interposer passes straight through. */
bool tsp_active(void);

/* False in a vfork child (it shares our memory, so it must not touch the
 * descriptor table or the connection state, which are the parent's). */
bool tsp_same_process(void);

/* errno = err; return -1 (err may be given negative). */
int tsp_fail(int err);

/* Send req about fd (attached) to the host. 1: rep holds the answer; 0:
 * the host does not know fd (its entry is cleared, do the kernel's call);
 * -1: failed, errno set (ENETDOWN, EBADF). */
int tsp_call(int fd, struct ts_ctl_req *req, struct ts_ctl_rep *rep);

/* A new stack socket from the host (TS_OP_SOCKET): its descriptor with
 * O_NONBLOCK and FD_CLOEXEC as flags (SOCK_NONBLOCK, SOCK_CLOEXEC) say,
 * *info filled but not recorded in the table. -1 and errno on failure. */
int tsp_host_socket(int family, int type, int proto, int flags,
                    struct tsp_fd_info *info);

/* Copy an address out by the BSD rules: at most *len bytes, then *len
 * set to the full length. */
void tsp_copy_addr(const void *src, uint32_t srclen, struct sockaddr *dst,
                   socklen_t *len);

/* The kind of fd for the data path. UDP and listening entries are checked
 * against the descriptor's inode first (a stale one is cleared and NONE
 * returned): their data path rewrites the bytes, so a mistake there would
 * corrupt someone else's stream. */
enum ts_ctl_kind tsp_io_kind(int fd);

/* A read on TCP socket fd returned 0: 0 for a plain end of stream, or -1
 * with ECONNRESET/ETIMEDOUT when the host says the connection was reset
 * (once). */
int tsp_tcp_eof(int fd);

/* Dual stack: before bind, connect or sendto on a kernel AF_INET6 socket,
 * move it onto tapstack when the address is for IPv4 (see ts_preload_ops.c).
 * True when fd is now a stack socket. */
enum tsp_v6_use { TSP_V6_BIND, TSP_V6_CONNECT, TSP_V6_SENDTO };
bool tsp_v6_take(int fd, const struct sockaddr *sa, socklen_t len,
                 enum tsp_v6_use use);

#endif
