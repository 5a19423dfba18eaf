/* socket_api/ts_preload_ctl.h - the preload library's control connection to
 * the tapstack host (the wire format is socket_api/ts_ctl_proto.h).
 *
 * One SOCK_SEQPACKET connection per process, opened on the first request
 * (a program that never makes a stack socket never connects) and kept on a
 * high descriptor number with FD_CLOEXEC, so it neither takes a number the
 * program expects nor survives exec. Requests go one at a time under a
 * mutex: the host answers each at once, so a request never waits on
 * another socket's progress.
 *
 * The connection heals itself: a forked child (new pid) drops the copy it
 * inherited and opens its own; when the program closes or dup2's over the
 * control descriptor (tsp_ctl_fd_gone, called by the interposers) or the
 * number turns out to name something else (checked by inode before each
 * request), the next request reconnects. A host that cannot be reached
 * makes the request fail with ENETDOWN and prints one line on stderr, once
 * per process.
 *
 * Entry points: tsp_ctl_init, tsp_ctl_req_init, tsp_ctl_request,
 * tsp_ctl_fd_gone, tsp_ctl_fd, tsp_ctl_sockaddr.
 */
#ifndef TS_SOCKET_API_TS_PRELOAD_CTL_H
#define TS_SOCKET_API_TS_PRELOAD_CTL_H

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket_api/ts_ctl_proto.h"

/* tsp_ctl_request flags. */
#define TSP_CTL_CLOEXEC 1       /* a received descriptor gets FD_CLOEXEC */
#define TSP_CTL_QUIET 2         /* no stderr line when the host is away */

/* Use the control socket NAME ("@name": abstract, else a path) from now
 * on; drops the current connection, if any. The library calls it once
 * with $TAPSTACK_CTL; tests call it again with a fake host's name. */
void tsp_ctl_init(const char *name);

/* A zeroed request with magic, version and op filled in. */
void tsp_ctl_req_init(struct ts_ctl_req *req, enum ts_ctl_op op);

/* Send req with the descriptors fds[0..nfds) attached and wait for the
 * reply. When rfd is not NULL, *rfd gets the descriptor the reply carried
 * (-1: none); descriptors nobody asked for are closed. Returns 0 when rep
 * holds a well-formed reply (its rc may still be an error), -EBADF when a
 * descriptor in fds is not open, else -ENETDOWN (host unreachable, gone,
 * or answering nonsense). */
int tsp_ctl_request(const struct ts_ctl_req *req, const int *fds, int nfds,
                    struct ts_ctl_rep *rep, int *rfd, int flags);

/* The program is about to close fd, or has dup2'ed over it: if it is the
 * control connection, forget it (without closing: it is the program's
 * number now). Cheap enough to call on every close. */
void tsp_ctl_fd_gone(int fd);

/* The control connection's descriptor, -1 when not connected (tests). */
int tsp_ctl_fd(void);

/* Anyone may bind an abstract name first: only a stack of our own user,
 * or root's, may serve our sockets. cr is the peer's SO_PEERCRED. 0, or
 * -EACCES. tapstack-run uses it too, so it is inline. */
static inline int tsp_ctl_peer_check(const struct ucred *cr)
{
    return cr->uid == geteuid() || cr->uid == 0 ? 0 : -EACCES;
}

/* Fill a sockaddr_un for a control socket name: "@NAME" is the abstract
 * name "\0NAME", anything else a filesystem path. 0, or -EINVAL (empty)
 * or -ENAMETOOLONG. tapstack-run uses it too, so it is inline. */
static inline int tsp_ctl_sockaddr(const char *name, struct sockaddr_un *sa,
                                   socklen_t *len)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || (name[0] == '@' && n == 1))
        return -EINVAL;
    if (n > sizeof sa->sun_path - (name[0] == '@' ? 0 : 1))
        return -ENAMETOOLONG;
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, name, n);
    if (name[0] == '@') {
        /* An abstract name is exactly its bytes: no terminating NUL. */
        sa->sun_path[0] = '\0';
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 0;
}

#endif
