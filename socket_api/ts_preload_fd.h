/* socket_api/ts_preload_fd.h - the preload library's descriptor table: which
 * of the program's descriptors are tapstack sockets, and what kind.
 *
 * One 64-bit word per descriptor, in pages of TSP_FD_PAGE words allocated
 * on first use and never moved or freed, so a lookup (every read and
 * write of the program goes through one) is two atomic loads and no lock.
 * Writers only ever store whole words (or compare-and-swap one), so two
 * threads working on different descriptors never wait for each other.
 * Descriptors at or above TSP_FD_LIMIT are never the stack's (socket()
 * refuses to hand one out).
 *
 * A word remembers the socket's inode, so a caller can tell a stale entry
 * (the program closed the descriptor by a path the library does not see,
 * and the number now names something else) from a live one with fstat.
 *
 * Nothing here talks to the host: the table is pure bookkeeping, and
 * tsp_fd_scan only finds the candidates an exec'd program must ask the
 * host about.
 *
 * Entry points: tsp_fd_set, tsp_fd_get, tsp_fd_kind, tsp_fd_clear,
 * tsp_fd_copy, tsp_fd_update, tsp_fd_scan.
 */
#ifndef TS_SOCKET_API_TS_PRELOAD_FD_H
#define TS_SOCKET_API_TS_PRELOAD_FD_H

#include <stdbool.h>
#include <stdint.h>

#include "socket_api/ts_ctl_proto.h"

#define TSP_FD_LIMIT 65536
#define TSP_FD_PAGE 1024

struct tsp_fd_info {
    enum ts_ctl_kind kind;      /* TS_KIND_NONE: not a stack socket */
    bool v6;                    /* a dual-stack AF_INET6 socket */
    bool self_shut_wr;          /* the program shut its own writing down */
    bool reset_reported;        /* a reset was already returned once */
    bool udp_peer;              /* a UDP socket with a default peer */
    uint64_t ino;               /* the socket's inode (56 bits kept) */
};

/* Record fd. 0, or -1 when fd is out of range or a page cannot be had. */
int tsp_fd_set(int fd, const struct tsp_fd_info *info);
/* The entry of fd; false (and *info all zero) when it is not ours. */
bool tsp_fd_get(int fd, struct tsp_fd_info *info);
/* The kind alone: the data path's one lookup. */
enum ts_ctl_kind tsp_fd_kind(int fd);
void tsp_fd_clear(int fd);
/* After dup(from) returned to, or dup2(from, to): to gets from's entry,
 * or no entry when from is not ours (it replaced whatever to was). */
void tsp_fd_copy(int from, int to);

/* Change an entry only if it still describes the socket with inode ino
 * (another thread may have closed and reused the number meanwhile).
 * kind TS_KIND_NONE keeps the kind; the flags are or'ed in. */
#define TSP_FD_SHUT_WR 0x20u
#define TSP_FD_RESET 0x40u
bool tsp_fd_update(int fd, uint64_t ino, enum ts_ctl_kind kind,
                   unsigned flags);

/* The descriptors a freshly exec'd program may have inherited from a
 * tapstack program: the AF_UNIX SOCK_STREAM and SOCK_SEQPACKET sockets in
 * /proc/self/fd, handed to fn in batches of at most TS_CTL_IDENT_MAX with
 * their inodes. fn returns 0 to go on. Returns the number of candidates
 * found, or -1 when /proc/self/fd cannot be read. */
typedef int (*tsp_fd_scan_fn)(const int *fds, const uint64_t *inos, int n,
                              void *arg);
int tsp_fd_scan(tsp_fd_scan_fn fn, void *arg);

#endif
