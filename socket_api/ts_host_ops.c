/* socket_api/ts_host_ops.c - the shared host's answer to each control
 * request (ts_ctl_proto.h): one small function per operation, each acting
 * on the stack socket through the same locked calls the in-process API
 * uses (ts_socket.c, ts_poll.c), so a program under tapstack-run and a
 * ts_* program see one set of rules. Addresses are converted here between
 * the socket's family (AF_INET, or AF_INET6 with v4-mapped addresses for a
 * dual-stack socket) and the stack's sockaddr_in.
 * Entry points: ts_host_op, ts_host_addr_in, ts_host_addr_out.
 */
#include "socket_api/ts_host_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "socket_api/ts_inspect.h"

#ifndef IPV6_V6ONLY
#define IPV6_V6ONLY 26
#endif

int ts_host_addr_in(const struct ts_hsock *hs, const uint8_t *a, uint32_t len,
                    struct sockaddr_in *sin)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    sa_family_t fam;
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    if (len < sizeof fam)
        return -EINVAL;
    memcpy(&fam, a, sizeof fam);
    if (hs->family == AF_INET) {
        if (len < sizeof *sin)
            return -EINVAL;
        if (fam != AF_INET)
            return -EAFNOSUPPORT;
        memcpy(sin, a, sizeof *sin);
        return 0;
    }
    struct sockaddr_in6 s6;
    if (fam != AF_INET6 || len < 24)    /* 24: sockaddr_in6 without scope */
        return fam == AF_INET6 ? -EINVAL : -EAFNOSUPPORT;
    memset(&s6, 0, sizeof s6);
    memcpy(&s6, a, len < sizeof s6 ? len : sizeof s6);
    sin->sin_port = s6.sin6_port;
    static const uint8_t any[16];
    if (memcmp(s6.sin6_addr.s6_addr, any, 16) == 0)
        return 0;
    if (memcmp(s6.sin6_addr.s6_addr, mapped, 12) != 0)
        return -ENETUNREACH;    /* real IPv6: the stack has none */
    memcpy(&sin->sin_addr, s6.sin6_addr.s6_addr + 12, 4);
    return 0;
}

uint32_t ts_host_addr_out(int family, const struct sockaddr_in *sin,
                          uint8_t *out)
{
    if (family == AF_INET) {
        memcpy(out, sin, sizeof *sin);
        return sizeof *sin;
    }
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    s6.sin6_port = sin->sin_port;
    if (sin->sin_addr.s_addr) {     /* 0.0.0.0 reads as :: on Linux */
        s6.sin6_addr.s6_addr[10] = 0xff;
        s6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(s6.sin6_addr.s6_addr + 12, &sin->sin_addr, 4);
    }
    memcpy(out, &s6, sizeof s6);
    return sizeof s6;
}

/* -1/errno from a ts_*_locked call as -errno. */
static int ts_host_rc(int rc)
{
    return rc < 0 ? -errno : rc;
}

static int ts_host_op_socket(struct ts_host *h, const struct ts_ctl_req *rq,
                             int *out_fd)
{
    int family = rq->arg[0], type = rq->arg[1], proto = rq->arg[2];
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if ((type != SOCK_STREAM && type != SOCK_DGRAM) ||
        (proto && proto != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)))
        return -EPROTONOSUPPORT;
    int sid = ts_socket_locked(h->st, type, 1);
    if (sid < 0)
        return -errno;
    int pfd = ts_host_adopt(h, &h->st->socks[sid], family, NULL);
    if (pfd < 0)
        return pfd;
    *out_fd = pfd;
    return 0;
}

static int ts_host_op_connect(struct ts_hsock *hs, const struct ts_ctl_req *rq,
                              int pfd, int *keep)
{
    struct ts_sock *s = hs->s;
    sa_family_t fam = AF_UNSPEC;
    if (rq->addrlen >= sizeof fam)
        memcpy(&fam, rq->addr, sizeof fam);
    if (s->kind == TS_UDP && fam == AF_UNSPEC) {
        hs->flags &= ~TS_HS_UDPCONN;    /* dissolve the association */
        return udp_connect(s->u, 0, 0);
    }
    struct sockaddr_in sin;
    int rc = ts_host_addr_in(hs, rq->addr, rq->addrlen, &sin);
    if (rc < 0)
        return rc;
    rc = ts_host_rc(ts_connect_locked(s, (struct sockaddr *)&sin, sizeof sin));
    if (s->kind == TS_UDP) {
        if (rc == 0)
            hs->flags |= TS_HS_UDPCONN;
        return rc;
    }
    if (rc == -EINPROGRESS && !(hs->flags & TS_HS_CONNECTING) &&
        ts_host_connect_start(hs, pfd) == 0)
        *keep = 1;
    return rc;
}

static int ts_host_op_getname(struct ts_hsock *hs, const struct ts_ctl_req *rq,
                              struct ts_ctl_rep *rep)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int rc = ts_name_locked(hs->s, (struct sockaddr *)&sin, &len, rq->arg[0] != 0);
    if (rc == 0)
        rep->addrlen = ts_host_addr_out(hs->family, &sin, rep->addr);
    return rc;
}

static int ts_host_put_int(struct ts_ctl_rep *rep, int v)
{
    memcpy(rep->opt, &v, sizeof v);
    rep->optlen = sizeof v;
    return 0;
}

static int ts_host_op_getopt(struct ts_hsock *hs, const struct ts_ctl_req *rq,
                             struct ts_ctl_rep *rep)
{
    int level = rq->arg[0], name = rq->arg[1];
    struct ts_sock *s = hs->s;
    if (rq->arg[2] < 0)
        return -EPROTO;     /* the library never asks so: not a program's */
    if (level == SOL_SOCKET && name == SO_DOMAIN)
        return ts_host_put_int(rep, hs->family);
    if (hs->family == AF_INET6 && level == IPPROTO_IPV6 && name == IPV6_V6ONLY)
        return ts_host_put_int(rep, 0);
    socklen_t len = (uint32_t)rq->arg[2] < TS_CTL_OPT_MAX ? (socklen_t)rq->arg[2]
                                                          : TS_CTL_OPT_MAX;
    int rc = ts_getsockopt_locked(s, level, name, rep->opt, &len);
    if (rc == 0)
        rep->optlen = len;
    return rc;
}

static int ts_host_op_setopt(struct ts_hsock *hs, const struct ts_ctl_req *rq)
{
    int level = rq->arg[0], name = rq->arg[1];
    if (hs->family == AF_INET6 && level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
        int v = 1;
        if (rq->optlen >= sizeof v)
            memcpy(&v, rq->opt, sizeof v);
        return v == 0 ? 0 : -EINVAL;    /* it is dual-stack by nature */
    }
    return ts_setsockopt_locked(hs->s, level, name, rq->opt, rq->optlen);
}

/* The FIN follows the program's own shutdown of its end (in-band, after
 * the bytes it wrote); here only what shutdown(2) would refuse. */
static int ts_host_op_shutdown(struct ts_hsock *hs, int how)
{
    struct ts_sock *s = hs->s;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return -EINVAL;
    if (s->kind == TS_UDP)
        return (hs->flags & TS_HS_UDPCONN) ? 0 : -ENOTCONN;
    if (s->kind == TS_LISTEN)
        return 0;       /* its end shut down wakes a blocked accept */
    if (s->kind != TS_CONN || (hs->flags & TS_HS_CONNECTING))
        return -ENOTCONN;
    return 0;
}

/* The served socket whose program end is fd, or NULL. */
static struct ts_hsock *ts_host_lookup(struct ts_host *h, int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode))
        return NULL;
    struct ts_hsock *hs = ts_host_find(h, sb.st_ino);
    return hs && hs->pdev == sb.st_dev ? hs : NULL;     /* not a namesake */
}

static int ts_host_kind(const struct ts_hsock *hs)
{
    if (!hs)
        return TS_KIND_NONE;
    int k = hs->s->kind == TS_UDP ? TS_KIND_UDP
          : hs->s->kind == TS_LISTEN ? TS_KIND_LISTEN : TS_KIND_TCP;
    return k | (hs->family == AF_INET6 ? TS_KIND_V6 : 0) |
           ((hs->flags & TS_HS_UDPCONN) ? TS_KIND_PEER : 0);
}

static int ts_host_op_identify(struct ts_host *h, const int *fds, int nfds,
                               struct ts_ctl_rep *rep)
{
    if (nfds < 1 || nfds > TS_CTL_IDENT_MAX)
        return -EPROTO;
    for (int i = 0; i < nfds; i++)
        rep->opt[i] = (uint8_t)ts_host_kind(ts_host_lookup(h, fds[i]));
    rep->optlen = (uint32_t)nfds;
    return nfds;
}

/* A port a program closed a moment ago may still look taken: its close
 * reached us as an event not yet served. Settle those, then try again. */
static int ts_host_op_bind(struct ts_hsock *hs, const struct ts_ctl_req *rq)
{
    struct sockaddr_in sin;
    int rc = ts_host_addr_in(hs, rq->addr, rq->addrlen, &sin);
    if (rc < 0)
        return rc;
    rc = ts_host_rc(ts_bind_locked(hs->s, (struct sockaddr *)&sin, sizeof sin));
    if (rc == -EADDRINUSE &&
        ts_host_reap_port(hs->h, hs->s->type, ntohs(sin.sin_port)) > 0)
        rc = ts_host_rc(ts_bind_locked(hs->s, (struct sockaddr *)&sin,
                                       sizeof sin));
    return rc;
}

static int ts_host_op_on(struct ts_hsock *hs, const struct ts_ctl_req *rq,
                         int fd, struct ts_ctl_rep *rep, int *keep)
{
    int rc;
    switch (rq->op) {
    case TS_OP_BIND:
        return ts_host_op_bind(hs, rq);
    case TS_OP_LISTEN:
        return ts_host_rc(ts_listen_locked(hs->s, rq->arg[0]));
    case TS_OP_CONNECT:
        return ts_host_op_connect(hs, rq, fd, keep);
    case TS_OP_GETNAME:
        return ts_host_op_getname(hs, rq, rep);
    case TS_OP_SETOPT:
        return ts_host_op_setopt(hs, rq);
    case TS_OP_GETOPT:
        return ts_host_op_getopt(hs, rq, rep);
    case TS_OP_SHUTDOWN:
        return ts_host_op_shutdown(hs, rq->arg[0]);
    case TS_OP_STATUS:
        rc = -hs->err;
        hs->err = 0;
        return rc;
    default:
        return -EPROTO;
    }
}

/* The dump goes into a memfd the client reads at its pace: no flow
 * control, and the stack thread never waits for a slow reader. */
static int ts_host_op_inspect(struct ts_host *h, int what, int *out_fd)
{
    int fd = memfd_create("tapstack-inspect", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    int dfd = dup(fd);
    FILE *f = dfd < 0 ? NULL : fdopen(dfd, "w");
    int rc = -1;
    if (f && (what == TS_INSPECT_STATS || what == TS_INSPECT_ZERO)) {
        struct ts_inspect_ctx c = { f, h->zero_base, TS_HOST_ZERO_MAX, 0,
                                    what == TS_INSPECT_ZERO };
        if (c.zero && !h->zero_base && (c.base = h->zero_base =
                calloc(TS_HOST_ZERO_MAX, sizeof *h->zero_base)) == NULL)
            c.nbase = 0;
        stack_counters_walk(&h->st->s, ts_inspect_counters, &c);
        ts_host_counters_walk(h, ts_inspect_counters, &c);
        rc = 0;
    } else if (f) {
        rc = ts_inspect_dump(&h->st->s, what, f);
    }
    if (f && fclose(f) != 0)
        rc = -1;
    else if (!f && dfd >= 0)
        close(dfd);
    if (rc < 0) {
        close(fd);
        return f ? -EINVAL : -ENOMEM;
    }
    lseek(fd, 0, SEEK_SET);     /* dup shares the offset: rewind for the reader */
    *out_fd = fd;
    return 0;
}

void ts_host_op(struct ts_host *h, const struct ts_ctl_req *rq,
                const int *fds, int nfds, struct ts_ctl_rep *rep,
                int *out_fd, int *keep)
{
    if (rq->op == TS_OP_INSPECT) {
        rep->rc = nfds ? -EPROTO : ts_host_op_inspect(h, rq->arg[0], out_fd);
    } else if (rq->op == TS_OP_WATCH) {
        rep->rc = nfds ? -EPROTO : ts_host_op_watch(h, rq, out_fd);
    } else if (rq->op == TS_OP_SOCKET) {
        rep->rc = nfds ? -EPROTO : ts_host_op_socket(h, rq, out_fd);
    } else if (rq->op == TS_OP_IDENTIFY) {
        rep->rc = ts_host_op_identify(h, fds, nfds, rep);
    } else if (nfds != 1) {
        rep->rc = -EPROTO;
    } else {
        struct ts_hsock *hs = ts_host_lookup(h, fds[0]);
        rep->rc = hs ? ts_host_op_on(hs, rq, fds[0], rep, keep) : TS_CTL_NOT_OURS;
    }
    if (rep->rc == -EPROTO) {
        h->stats.bad_requests++;
        ts_logf(&h->st->s.log, TS_LOG_WARN,
                "host: request op %u with %d descriptors refused (EPROTO)",
                (unsigned)rq->op, nfds);
    }
}
