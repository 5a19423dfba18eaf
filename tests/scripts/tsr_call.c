/* tests/scripts/tsr_call.c - the socket calls of a script, made on the
 * stack's internal TCP interface (tcp/tcp.h): non-blocking, with `now`
 * passed in, so a call's effect lands at the script's virtual time.
 *
 * Calls and what they do (errors are -1 ERRNO, as the BSD calls):
 *   socket(...) = FD                   a new descriptor (the lowest free)
 *   bind(FD, PORT) = 0                 the port listen or connect uses
 *   listen(FD, BACKLOG) = 0            tcp_listen on 10.0.0.2:PORT
 *   accept(FD[, ...]) = NEWFD          tcp_accept (-1 EAGAIN when none)
 *   connect(FD, PORT) = -1 EINPROGRESS tcp_connect to 10.0.0.1:PORT
 *   write(FD, N) = N / send(...)       N pattern bytes (byte = its
 *                                      relative sequence number's low byte)
 *   read(FD, N) = N / recv(...)        up to N bytes, checked against the
 *                                      peer's pattern
 *   shutdown(FD, SHUT_WR) = 0          FIN after the queued data
 *   close(FD) = 0                      tcp_close (tcp_abort with
 *                                      SO_LINGER 0), tcp_unlisten
 *   setsockopt(FD, OPT, VAL) = 0       TCP_NODELAY, SO_KEEPALIVE,
 *                                      TCP_KEEPIDLE/INTVL (s), TCP_KEEPCNT,
 *                                      SO_RCVBUF, SO_SNDBUF, SO_LINGER
 *   tcp_state() = STATE                the state of the script's
 *                                      connection (CLOSED when none)
 * Entry point: tsr_call.
 */
#include "tests/scripts/tsr_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_conn.h"

struct tsr_ret {
    long v;
    int err;
    const char *word;
};

static void tsr_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    (void)c;
    ((struct tsr_fd *)ctx)->events |= ev;
}

static struct tsr_fd *tsr_fd_arg(struct tsr_env *e, const struct tsr_call *k)
{
    long fd = k->nargs ? strtol(k->args[0], NULL, 10) : -1;
    if (fd < TSR_FIRST_FD || fd >= TSR_MAX_FDS ||
        e->fds[fd].kind == TSR_FD_FREE)
        return NULL;
    return &e->fds[fd];
}

static int tsr_fd_alloc(struct tsr_env *e)
{
    for (int i = TSR_FIRST_FD; i < TSR_MAX_FDS; i++)
        if (e->fds[i].kind == TSR_FD_FREE) {
            memset(&e->fds[i], 0, sizeof e->fds[i]);
            return i;
        }
    return -1;
}

static long tsr_num_arg(const struct tsr_call *k, unsigned i, long dflt)
{
    char *end;
    if (i >= k->nargs)
        return dflt;
    long v = strtol(k->args[i], &end, 10);
    return end != k->args[i] && *end == 0 ? v : dflt;
}

static void tsr_conn_opts(struct tsr_env *e, struct tsr_fd *f)
{
    e->s.tcp.now = e->now;
    tcp_set_nodelay(f->c, f->nodelay);
    tcp_set_keepalive_params(f->c, f->ka_idle, f->ka_intvl, f->ka_count);
    tcp_set_keepalive(f->c, f->keepalive);
}

static struct tsr_ret tsr_listen(struct tsr_env *e, struct tsr_fd *f,
                                 const struct tsr_call *k)
{
    int err = 0;
    f->l = tcp_listen(&e->s.tcp, 0, f->port,
                      (unsigned)tsr_num_arg(k, 1, 1), tsr_event, f, &err);
    if (!f->l)
        return (struct tsr_ret){ -1, -err, NULL };
    tcp_listener_set_buffers(f->l, f->sndbuf, f->rcvbuf);
    f->kind = TSR_FD_LISTENER;
    e->isn.lport = f->port;
    e->isn.rport = TSR_PEER_PORT;
    return (struct tsr_ret){ 0, 0, NULL };
}

static struct tsr_ret tsr_accept(struct tsr_env *e, struct tsr_fd *f)
{
    if (f->kind != TSR_FD_LISTENER)
        return (struct tsr_ret){ -1, EINVAL, NULL };
    int fd = tsr_fd_alloc(e);
    if (fd < 0)
        return (struct tsr_ret){ -1, ENOMEM, NULL };
    struct tsr_fd *n = &e->fds[fd];
    struct tcp_conn *c = tcp_accept(f->l, tsr_event, n);
    if (!c)
        return (struct tsr_ret){ -1, EAGAIN, NULL };
    *n = *f;                        /* options are inherited */
    n->kind = TSR_FD_CONN;
    n->l = NULL;
    n->c = c;
    n->events = 0;
    tsr_conn_opts(e, n);
    return (struct tsr_ret){ fd, 0, NULL };
}

static struct tsr_ret tsr_connect(struct tsr_env *e, struct tsr_fd *f,
                                  const struct tsr_call *k)
{
    int err = 0;
    uint16_t port = (uint16_t)tsr_num_arg(k, 1, 8080);
    if (f->kind != TSR_FD_SOCKET)
        return (struct tsr_ret){ -1, EISCONN, NULL };
    f->c = tcp_connect_sized(&e->s.tcp, f->port, TSR_PEER_IP, port,
                             f->sndbuf, f->rcvbuf, tsr_event, f, e->now, &err);
    if (!f->c)
        return (struct tsr_ret){ -1, -err, NULL };
    f->kind = TSR_FD_CONN;
    uint32_t la, ra;
    tcp_conn_addrs(f->c, &la, &e->isn.lport, &ra, &e->isn.rport);
    tsr_conn_opts(e, f);
    return (struct tsr_ret){ -1, EINPROGRESS, NULL };
}

static struct tsr_ret tsr_write(struct tsr_env *e, struct tsr_fd *f,
                                const struct tsr_call *k)
{
    static uint8_t buf[1 << 20];
    size_t n = (size_t)tsr_num_arg(k, 1, 0);
    if (f->kind != TSR_FD_CONN)
        return (struct tsr_ret){ -1, ENOTCONN, NULL };
    if (n > sizeof buf)
        n = sizeof buf;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(f->wr + 1 + i);
    ssize_t r = tcp_send(f->c, buf, n, e->now);
    if (r < 0)
        return (struct tsr_ret){ -1, (int)-r, NULL };
    f->wr += (uint64_t)r;
    return (struct tsr_ret){ r, 0, NULL };
}

static struct tsr_ret tsr_read(struct tsr_env *e, struct tsr_fd *f,
                               const struct tsr_call *k)
{
    static uint8_t buf[1 << 20];
    size_t n = (size_t)tsr_num_arg(k, 1, 0);
    if (f->kind != TSR_FD_CONN)
        return (struct tsr_ret){ -1, ENOTCONN, NULL };
    if (n > sizeof buf)
        n = sizeof buf;
    ssize_t r = tcp_recv(f->c, buf, n, e->now);
    if (r < 0)
        return (struct tsr_ret){ -1, (int)-r, NULL };
    uint32_t first = f->c->irs + 1 - e->isn.risn;
    for (ssize_t i = 0; i < r; i++)
        if (buf[i] != (uint8_t)(first + f->rd + (uint64_t)i)) {
            tsr_report(e, "read: byte %zd of the stream is %u, expected %u",
                       (ssize_t)f->rd + i, buf[i],
                       (uint8_t)(first + f->rd + (uint64_t)i));
            break;
        }
    f->rd += (uint64_t)r;
    return (struct tsr_ret){ r, 0, NULL };
}

static struct tsr_ret tsr_close(struct tsr_env *e, struct tsr_fd *f)
{
    if (f->kind == TSR_FD_LISTENER)
        tcp_unlisten(f->l);
    else if (f->kind == TSR_FD_CONN && f->linger0)
        tcp_abort(f->c, e->now);
    else if (f->kind == TSR_FD_CONN)
        tcp_close(f->c, e->now);
    f->kind = TSR_FD_FREE;
    return (struct tsr_ret){ 0, 0, NULL };
}

static struct tsr_ret tsr_setsockopt(struct tsr_env *e, struct tsr_fd *f,
                                     const struct tsr_call *k)
{
    const char *opt = k->nargs > 1 ? k->args[1] : "";
    long v = tsr_num_arg(k, 2, 0);
    if (strcmp(opt, "TCP_NODELAY") == 0)
        f->nodelay = v != 0;
    else if (strcmp(opt, "SO_KEEPALIVE") == 0)
        f->keepalive = v != 0;
    else if (strcmp(opt, "TCP_KEEPIDLE") == 0)
        f->ka_idle = (uint32_t)v * 1000;
    else if (strcmp(opt, "TCP_KEEPINTVL") == 0)
        f->ka_intvl = (uint32_t)v * 1000;
    else if (strcmp(opt, "TCP_KEEPCNT") == 0)
        f->ka_count = (unsigned)v;
    else if (strcmp(opt, "SO_LINGER") == 0)
        f->linger0 = v == 0;
    else if (strcmp(opt, "SO_RCVBUF") == 0 && f->kind == TSR_FD_SOCKET)
        f->rcvbuf = (uint32_t)v;
    else if (strcmp(opt, "SO_SNDBUF") == 0 && f->kind == TSR_FD_SOCKET)
        f->sndbuf = (uint32_t)v;
    else
        return (struct tsr_ret){ -1, EINVAL, NULL };
    if (f->kind == TSR_FD_CONN)
        tsr_conn_opts(e, f);
    return (struct tsr_ret){ 0, 0, NULL };
}

/* The state of the script's connection, found by its ports (the handle
 * may have been given back with close). */
static struct tsr_ret tsr_state(struct tsr_env *e)
{
    const struct tcp_conn *c = NULL;
    while ((c = tcp_conn_next(&e->s.tcp, c))) {
        uint32_t la, ra;
        uint16_t lp, rp;
        tcp_conn_addrs(c, &la, &lp, &ra, &rp);
        if (lp == e->isn.lport && rp == e->isn.rport)
            return (struct tsr_ret){ 0, 0, tcp_state_name(tcp_conn_state(c)) };
    }
    return (struct tsr_ret){ 0, 0, "CLOSED" };
}

static struct tsr_ret tsr_dispatch(struct tsr_env *e, const struct tsr_call *k,
                                   int *unknown)
{
    const char *n = k->name;
    if (strcmp(n, "socket") == 0) {
        int fd = tsr_fd_alloc(e);
        if (fd >= 0)
            e->fds[fd].kind = TSR_FD_SOCKET;
        return (struct tsr_ret){ fd, fd < 0 ? EMFILE : 0, NULL };
    }
    if (strcmp(n, "tcp_state") == 0)
        return tsr_state(e);
    struct tsr_fd *f = tsr_fd_arg(e, k);
    if (!f)
        return (struct tsr_ret){ -1, EBADF, NULL };
    if (strcmp(n, "bind") == 0) {
        f->port = (uint16_t)tsr_num_arg(k, 1, 8080);
        e->isn.lport = f->port;
        e->isn.rport = TSR_PEER_PORT;
        return (struct tsr_ret){ 0, 0, NULL };
    }
    if (strcmp(n, "listen") == 0)
        return tsr_listen(e, f, k);
    if (strcmp(n, "accept") == 0)
        return tsr_accept(e, f);
    if (strcmp(n, "connect") == 0)
        return tsr_connect(e, f, k);
    if (strcmp(n, "write") == 0 || strcmp(n, "send") == 0)
        return tsr_write(e, f, k);
    if (strcmp(n, "read") == 0 || strcmp(n, "recv") == 0)
        return tsr_read(e, f, k);
    if (strcmp(n, "shutdown") == 0) {
        int r = f->kind == TSR_FD_CONN ? tcp_shutdown(f->c, e->now) : -ENOTCONN;
        return (struct tsr_ret){ r < 0 ? -1 : 0, -r, NULL };
    }
    if (strcmp(n, "close") == 0)
        return tsr_close(e, f);
    if (strcmp(n, "setsockopt") == 0)
        return tsr_setsockopt(e, f, k);
    *unknown = 1;
    return (struct tsr_ret){ 0, 0, NULL };
}

int tsr_call(struct tsr_env *e, const struct tsr_call *k)
{
    int unknown = 0;
    if (e->verbose)
        fprintf(stderr, "  %s\n", e->text);
    struct tsr_ret r = tsr_dispatch(e, k, &unknown);
    tsr_settle(e);
    if (unknown)
        return tsr_report(e, "unknown call %s()", k->name);
    if (e->failed)
        return -1;
    if (r.word || k->ret_word[0]) {
        if (!r.word || strcmp(r.word, k->ret_word) != 0)
            return tsr_report(e, "%s() = %s, expected %s\n  script: %s",
                              k->name, r.word ? r.word : "(a number)",
                              k->ret_word, e->text);
        return 0;
    }
    if (k->ret_any || (r.v == k->ret && (r.v != -1 || r.err == k->err)))
        return 0;
    char got[48], want[48];
    snprintf(got, sizeof got, "%ld%s%s", r.v, r.v == -1 ? " " : "",
             r.v == -1 ? tsr_errno_name(r.err) : "");
    snprintf(want, sizeof want, "%ld%s%s", k->ret, k->ret == -1 ? " " : "",
             k->ret == -1 ? tsr_errno_name(k->err) : "");
    return tsr_report(e, "%s() = %s, expected %s\n  script: %s", k->name, got,
                      want, e->text);
}
