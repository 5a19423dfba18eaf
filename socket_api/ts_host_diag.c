/* socket_api/ts_host_diag.c - does a program still hold its end of a pair?
 *
 * Our end reads HUP when both directions are shut, which a program's close
 * does, but so do our own shutdowns (the peer's FIN, a reset) together with
 * the program's shutdown(2): only the program's close may free the socket,
 * or a program that shut its socket down and then asks its name would find
 * it gone. The kernel's socket table answers exactly: sock_diag (netlink,
 * unprivileged) looks the program's end up by inode, and a closed socket
 * is no longer there.
 * Entry points: ts_host_diag_open, ts_host_prog_alive.
 */
#include "socket_api/ts_host_int.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ts_host_diag_open(void)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    return fd < 0 ? -errno : fd;
}

int ts_host_prog_alive(int nl, ino_t pino)
{
    struct {
        struct nlmsghdr nh;
        struct unix_diag_req rq;
    } m;
    memset(&m, 0, sizeof m);
    m.nh.nlmsg_len = sizeof m;
    m.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    m.nh.nlmsg_flags = NLM_F_REQUEST;
    m.nh.nlmsg_seq = (uint32_t)pino;
    m.rq.sdiag_family = AF_UNIX;
    m.rq.udiag_states = ~0u;
    m.rq.udiag_ino = (uint32_t)pino;
    m.rq.udiag_cookie[0] = m.rq.udiag_cookie[1] = ~0u;   /* no cookie */
    if (nl < 0 || send(nl, &m, sizeof m, 0) != (ssize_t)sizeof m)
        return 0;
    union {
        struct nlmsghdr nh;
        char b[1024];
    } r;
    for (int i = 0; i < 4; i++) {       /* skip stale answers, if any */
        ssize_t n = recv(nl, &r, sizeof r, MSG_DONTWAIT);
        if (n < (ssize_t)sizeof r.nh)
            return 0;
        if (r.nh.nlmsg_seq != (uint32_t)pino)
            continue;
        return r.nh.nlmsg_type == SOCK_DIAG_BY_FAMILY;  /* else NLMSG_ERROR */
    }
    return 0;
}
