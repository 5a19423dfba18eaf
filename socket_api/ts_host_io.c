/* socket_api/ts_host_io.c - the bytes between a program's end of a pair
 * and the stack socket it stands for, moved by the stack thread.
 *
 * TCP: what the program writes is read straight into the connection's send
 * ring (readv on the ring's free spans: one copy, as the kernel makes from
 * a user buffer), and received bytes go straight from the receive ring into
 * the pair (sendmsg of the ring's spans). Each direction stops when the
 * other side is full and resumes on the event that says it has room (an
 * epoll edge of our end, or the connection's WRITABLE/READABLE): the pair's
 * buffer adds to the connection's, so what one connection holds stays
 * bounded by SO_SNDBUF/SO_RCVBUF plus the pair's kernel buffer.
 * The ends of a connection map onto the pair's: the peer's FIN shuts our
 * writing side (the program reads 0); a reset or time-out shuts both ways
 * (the program reads 0, and the preload asks TS_OP_STATUS for the error);
 * the program's shutdown(SHUT_WR) reads as 0 here and sends FIN; its close
 * (or death) shows as HUP, and if it left bytes unread in its end, our read
 * says ECONNRESET and the connection is reset, as Linux does for a close
 * with unread data.
 * A connect in progress keeps the program's end unwritable by filling its
 * send buffer with filler bytes that we discard when the handshake ends:
 * then POLLOUT means "connected (or failed)", as on a kernel socket.
 * UDP: one datagram per SEQPACKET message behind a struct ts_dgram_hdr.
 * Entry points: ts_host_watch_fn, ts_host_serve, ts_host_connect_start.
 */
#include "socket_api/ts_host_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/clock.h"

#define TS_FILLER_CHUNK 512
#define TS_FILLER_MAX 64            /* chunks: the smallest buffer takes ~10 */

void ts_host_watch_fn(struct ts_watch *w, uint32_t events)
{
    struct ts_hsock *hs = (struct ts_hsock *)w;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        hs->flags |= TS_HS_RD;      /* a read tells data, EOF or the error */
    if (events & EPOLLOUT)
        hs->flags |= TS_HS_WR;
    if (events & EPOLLHUP)
        hs->flags |= TS_HS_HUPSEEN;
    ts_host_dirty(hs);
}

int ts_host_connect_start(struct ts_hsock *hs, int pfd)
{
    socklen_t len = sizeof hs->sndbuf_saved;
    int one = 1;
    if (getsockopt(pfd, SOL_SOCKET, SO_SNDBUF, &hs->sndbuf_saved, &len) < 0 ||
        setsockopt(pfd, SOL_SOCKET, SO_SNDBUF, &one, sizeof one) < 0)
        return -1;
    memset(hs->h->buf, 0, TS_FILLER_CHUNK);
    hs->filler = 0;
    for (int i = 0; i < TS_FILLER_MAX; i++) {
        ssize_t n = send(pfd, hs->h->buf, TS_FILLER_CHUNK,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        hs->filler += (uint32_t)n;
    }
    hs->pfd = pfd;
    hs->flags |= TS_HS_CONNECTING;
    return 0;
}

/* The handshake ended: drop the filler, give the program's end its buffer
 * back (both make it writable: POLLOUT), and on failure shut the pair. */
static void ts_host_connect_done(struct ts_hsock *hs)
{
    /* What waits now is the filler and any bytes written before connect(2)
     * (not for the peer: Linux refuses them with EPIPE). Count it first:
     * as the filler drains the program may write, and that must stay. */
    int queued = 0;
    if (ioctl(hs->w.fd, SIOCINQ, &queued) < 0)
        queued = (int)hs->filler;
    while (queued > 0) {
        size_t want = (size_t)queued < TS_HOST_BUF ? (size_t)queued : TS_HOST_BUF;
        ssize_t n = recv(hs->w.fd, hs->h->buf, want, MSG_DONTWAIT);
        if (n <= 0)
            break;
        queued -= (int)n;
    }
    hs->filler = 0;
    int half = hs->sndbuf_saved / 2;    /* Linux doubles what is set */
    setsockopt(hs->pfd, SOL_SOCKET, SO_SNDBUF, &half, sizeof half);
    close(hs->pfd);
    hs->pfd = -1;
    hs->flags &= ~TS_HS_CONNECTING;
    if (tcp_conn_error(hs->s->c)) {
        shutdown(hs->w.fd, SHUT_RDWR);
        hs->flags |= TS_HS_DEAD | TS_HS_FIN;
        hs->err = -tcp_conn_error(hs->s->c);
    }
}

/* Stack to program: the receive ring into the pair. */
static void ts_host_tcp_push(struct ts_hsock *hs)
{
    struct tcp_conn *c = hs->s->c;
    while ((hs->flags & TS_HS_WR) &&
           !(hs->flags & (TS_HS_FIN | TS_HS_NOREAD))) {
        struct iovec iov[2];
        int n = tcp_recv_data(c, iov);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {           /* 0: the peer's FIN; < 0: reset, time-out */
            shutdown(hs->w.fd, n == 0 ? SHUT_WR : SHUT_RDWR);
            hs->flags |= TS_HS_FIN | (n < 0 ? TS_HS_DEAD : 0);
            hs->err = n < 0 ? -n : 0;
            return;
        }
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t w = sendmsg(hs->w.fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            hs->h->stats.bytes_to_programs += (uint64_t)w;
            tcp_recv_consume(c, (uint32_t)w, ts_clock_ms());
        } else if (w < 0 && errno == EAGAIN) {
            hs->flags &= ~TS_HS_WR;
        } else {
            hs->flags |= TS_HS_NOREAD;  /* it shut its reading, or left */
        }
    }
}

/* Program to stack: the pair into the send ring. 1 when the program is
 * done with the socket (release it; *abort: with RST), else 0. */
static int ts_host_tcp_pull(struct ts_hsock *hs, int *abort)
{
    struct ts_sock *s = hs->s;
    while ((hs->flags & TS_HS_RD) && !(hs->flags & TS_HS_EOF)) {
        struct iovec iov[2];
        int n = tcp_send_room(s->c, iov);
        if (n == -EAGAIN)
            return 0;           /* the WRITABLE event brings us back */
        if (n < 0) {            /* reset or closed: read on to the end */
            if (!(hs->flags & TS_HS_DEAD) && tcp_conn_error(s->c)) {
                shutdown(hs->w.fd, SHUT_RDWR);
                hs->flags |= TS_HS_DEAD | TS_HS_FIN;
                hs->err = -tcp_conn_error(s->c);
            }
            iov[0].iov_base = hs->h->buf;
            iov[0].iov_len = TS_HOST_BUF;
            n = 1;
        }
        ssize_t r = readv(hs->w.fd, iov, n);
        if (r > 0 && iov[0].iov_base != hs->h->buf) {
            hs->h->stats.bytes_from_programs += (uint64_t)r;
            tcp_send_commit(s->c, (uint32_t)r, ts_clock_ms());
        } else if (r > 0) {
            continue;           /* bytes after the end (reset): dropped */
        } else if (r == 0) {
            hs->flags |= TS_HS_EOF;
            tcp_shutdown(s->c, ts_clock_ms());
        } else if (errno == EAGAIN) {
            hs->flags &= ~TS_HS_RD;
        } else {                /* ECONNRESET: it closed with bytes unread */
            hs->h->stats.conns_reset_by_exit += errno == ECONNRESET;
            *abort = 1;
            return 1;
        }
    }
    return (hs->flags & TS_HS_HUP) && (hs->flags & TS_HS_EOF);
}

/* Hand queued connections to the program: one record and descriptor each
 * on the listening pair, while it has room. */
static void ts_host_accept_push(struct ts_hsock *lhs)
{
    struct ts_host *h = lhs->h;
    while ((lhs->flags & TS_HS_WR) && tcp_listener_pending(lhs->s->l)) {
        struct pollfd pw = { lhs->w.fd, POLLOUT, 0 };
        if (poll(&pw, 1, 0) != 1 || !(pw.revents & POLLOUT)) {
            lhs->flags &= ~TS_HS_WR;    /* the EPOLLOUT edge brings us back */
            return;
        }
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int sid = ts_accept_locked(lhs->s, (struct sockaddr *)&peer, &plen);
        if (sid < 0)
            return;             /* EMFILE: they wait in the accept queue */
        struct ts_hsock *hs;
        int pfd = ts_host_adopt(h, &h->st->socks[sid], lhs->family, &hs);
        if (pfd < 0)
            return;
        struct ts_accept_rec rec;
        memset(&rec, 0, sizeof rec);
        rec.magic = TS_CTL_MAGIC;
        rec.addrlen = ts_host_addr_out(lhs->family, &peer, rec.addr);
        ssize_t n = ts_host_send_fd(lhs->w.fd, &rec, sizeof rec, pfd);
        close(pfd);
        if (n != (ssize_t)sizeof rec) {
            ts_host_release(hs, 1);
            if (n == -EAGAIN)
                lhs->flags &= ~TS_HS_WR;
            else
                lhs->flags |= TS_HS_NOREAD;
            return;
        }
        h->stats.conns_handed++;
        ts_host_dirty(hs);      /* bytes may have come with the handshake */
    }
}

static void ts_host_serve_tcp(struct ts_hsock *hs)
{
    struct ts_sock *s = hs->s;
    int abort = 0;
    if (s->kind == TS_LISTEN) {
        if (!(hs->flags & TS_HS_NOREAD))
            ts_host_accept_push(hs);
        if (hs->flags & TS_HS_HUP)
            ts_host_release(hs, 0);
        return;
    }
    if (hs->flags & TS_HS_CONNECTING) {
        enum tcp_state state = tcp_conn_state(s->c);
        if (state == TCP_SYN_SENT || state == TCP_SYN_RECEIVED)
            return;
        ts_host_connect_done(hs);
    }
    if (s->kind != TS_CONN) {   /* never connected: only its close matters */
        if (hs->flags & TS_HS_HUP)
            ts_host_release(hs, 0);
        return;
    }
    ts_host_tcp_push(hs);
    if (ts_host_tcp_pull(hs, &abort))
        ts_host_release(hs, abort);
}

/* Program to stack: one datagram per message. 1 when the program is gone. */
static int ts_host_udp_pull(struct ts_hsock *hs)
{
    struct ts_host *h = hs->h;
    while (hs->flags & TS_HS_RD) {
        struct ts_dgram_hdr dh;
        struct iovec iov[2] = { { &dh, sizeof dh }, { h->buf, TS_HOST_BUF } };
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
        ssize_t r = recvmsg(hs->w.fd, &m, MSG_DONTWAIT);
        if (r == 0)
            return 1;
        if (r < 0) {
            if (errno != EAGAIN)
                return 1;
            hs->flags &= ~TS_HS_RD;
            return 0;
        }
        struct sockaddr_in to;
        int bad = r < (ssize_t)sizeof dh || (m.msg_flags & MSG_TRUNC) ||
                  dh.magic != TS_CTL_MAGIC || dh.addrlen > TS_CTL_ADDR_MAX ||
                  (dh.addrlen && ts_host_addr_in(hs, dh.addr, dh.addrlen, &to) < 0);
        size_t len = bad ? 0 : (size_t)r - sizeof dh;
        if (bad || ts_sendto_locked(hs->s, h->buf, len, MSG_DONTWAIT,
                                    dh.addrlen ? (struct sockaddr *)&to : NULL,
                                    dh.addrlen ? sizeof to : 0) < 0)
            h->stats.dgrams_dropped++;
        else
            h->stats.dgrams_from_programs++;
    }
    return 0;
}

/* Stack to program: each queued datagram behind its source address. A
 * full pair drops it, as a full receive buffer does on Linux. */
static void ts_host_udp_push(struct ts_hsock *hs)
{
    struct ts_host *h = hs->h;
    while ((hs->flags & TS_HS_WR) && !(hs->flags & TS_HS_NOREAD) &&
           udp_next_len(hs->s->u) >= 0) {
        struct sockaddr_in src;
        uint32_t a;
        uint16_t port;
        ssize_t n = udp_recvfrom(hs->s->u, h->buf, TS_HOST_BUF, &a, &port);
        if (n < 0)
            return;
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(a);
        src.sin_port = htons(port);
        struct ts_dgram_hdr dh;
        memset(&dh, 0, sizeof dh);
        dh.magic = TS_CTL_MAGIC;
        dh.addrlen = ts_host_addr_out(hs->family, &src, dh.addr);
        struct iovec iov[2] = { { &dh, sizeof dh }, { h->buf, (size_t)n } };
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
        if (sendmsg(hs->w.fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
            h->stats.dgrams_to_programs++;
            continue;
        }
        h->stats.dgrams_dropped++;
        if (errno == EAGAIN)
            hs->flags &= ~TS_HS_WR;
        else
            hs->flags |= TS_HS_NOREAD;
    }
}

/* A HUP is the program's close, or only its shutdown(SHUT_RDWR), or our
 * own shutdowns met by its shutdown(SHUT_WR): only the socket table can
 * tell (ts_host_diag.c), and only a close may free the socket. */
static void ts_host_check_hup(struct ts_hsock *hs)
{
    if (!(hs->flags & TS_HS_HUPSEEN))
        return;
    hs->flags &= ~TS_HS_HUPSEEN;
    if (!ts_host_prog_alive(hs->h->diag, hs->pino))
        hs->flags |= TS_HS_HUP;
}

void ts_host_serve(struct ts_hsock *hs)
{
    ts_host_check_hup(hs);
    if (hs->s->type == SOCK_STREAM) {
        ts_host_serve_tcp(hs);
        return;
    }
    ts_host_udp_push(hs);
    if (ts_host_udp_pull(hs) || (hs->flags & TS_HS_HUP))
        ts_host_release(hs, 0);
}
