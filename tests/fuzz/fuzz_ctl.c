/* tests/fuzz/fuzz_ctl.c - libFuzzer target: the shared host's control
 * requests (socket_api/ts_host*.c, wire format ts_ctl_proto.h), as a
 * hostile or broken program would send them.
 *
 * A lighter harness than a running tapstack: the struct ts_stack is built
 * here without its thread (fc_stack_new), so nothing runs behind the
 * fuzzer's back, and ts_stack_serve starts the host on it as usual. The
 * harness then plays the stack thread (fc_turn: the ready watches, the
 * device, the timers and ts_host_run, lock held, as ts_stack.c's loop
 * does), the program (it holds the descriptors the host hands out, up to
 * FC_FDS, and writes, reads, shuts down and closes them), and the peer on
 * the wire (answers to our SYNs, connections to our listeners, data, FIN,
 * RST). Records:
 *   0 a request: op, args, address and option bytes from the input, the
 *     magic and version right or not, with 0 to 2 of the held descriptors
 *     attached (as the host receives them: fresh duplicates, closed after
 *     the answer unless the handler kept one); checked as ts_host_request
 *     checks, then ts_host_op, lock held. The reply must stay in bounds;
 *   1 the program's side of a descriptor: write, read, shutdown, close;
 *   2 a turn of the stack thread;
 *   3 the peer answers a TCB (chosen by index) or opens a connection.
 * After every record: the host's table agrees with the stack's sockets,
 * and the stack's invariants (fz_check.c). At the end the descriptors are
 * closed, the host and stack torn down as ts_stack_close does, and no
 * descriptor may be left open (counted in /proc/self/fd) and no byte
 * leaked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "eth/memdev.h"
#include "socket_api/ts_host_int.h"
#include "tcp/tcp_conn.h"
#include "tests/fuzz/fz.h"

#define FC_FDS 8
#define FC_SOCKS 16
#define FC_RECORDS 64

struct fc {
    struct ts_stack *st;
    struct netdev *peer;
    int fd[FC_FDS];
};

/* ---- a stack without its thread ------------------------------------------ */

static void fc_stack_new(struct fc *f)
{
    static unsigned serial;
    struct ts_stack *st = calloc(1, sizeof *st);
    struct stack_config sc;
    struct netdev *dev;
    if (!st)
        abort();
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->poll_cond, NULL);
    st->efd = st->tfd = -1;
    st->socks = calloc(FC_SOCKS, sizeof *st->socks);
    st->conds = calloc(FC_SOCKS, sizeof *st->conds);
    st->nsocks = FC_SOCKS;
    for (unsigned i = 0; i < FC_SOCKS; i++) {
        st->socks[i].st = st;
        st->socks[i].cond = &st->conds[i];
        pthread_cond_init(&st->conds[i], NULL);
    }
    stack_config_default(&sc);
    sc.pool_small = 24;
    sc.pool_large = 1;
    sc.tcp.sndbuf = sc.tcp.rcvbuf = 8192;
    sc.log_out = NULL;
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!st->socks || !st->conds || st->epfd < 0 ||
        memdev_pair(&dev, &f->peer, 32, 1500) < 0 ||
        stack_init(&st->s, &sc, dev) < 0)
        fz_fail("fuzz_ctl: stack", errno, 0);
    char name[64];
    snprintf(name, sizeof name, "@ts-fuzz-ctl-%d-%u", (int)getpid(), serial++);
    if (ts_stack_serve(st, name) < 0)
        fz_fail("fuzz_ctl: ts_stack_serve", errno, 0);
    f->st = st;
}

/* ts_stack_close's order, without the thread and the drain. */
static void fc_stack_free(struct fc *f)
{
    struct ts_stack *st = f->st;
    pthread_mutex_lock(&st->lock);
    ts_host_stop(st->host);
    for (unsigned i = 0; i < st->nsocks; i++) {
        struct ts_sock *s = &st->socks[i];
        if (s->kind == TS_CONN && s->c)
            tcp_abort(s->c, ts_clock_ms());
        else if (s->kind == TS_UDP && s->u)
            udp_close(s->u);
        s->kind = TS_FREE;
    }
    pthread_mutex_unlock(&st->lock);
    stack_destroy(&st->s);
    netdev_close(f->peer);
    for (unsigned i = 0; i < st->nsocks; i++)
        pthread_cond_destroy(&st->conds[i]);
    free(st->conds);
    free(st->socks);
    close(st->epfd);
    pthread_cond_destroy(&st->poll_cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Take what the stack sent; each frame must be well formed. */
static void fc_drain(struct fc *f)
{
    uint8_t buf[PBUF_SMALL_CAP];
    for (int i = 0; i < 256; i++) {
        struct pbuf pb = { .data = buf, .base = buf, .cap = sizeof buf };
        if (netdev_recv(f->peer, &pb) != 1)
            return;
        fz_check_frame(buf, pb.len);
    }
}

/* One round of the stack thread's loop (ts_stack.c), lock held. */
static void fc_turn(struct fc *f)
{
    struct ts_stack *st = f->st;
    struct epoll_event ev[32];
    pthread_mutex_lock(&st->lock);
    int n = epoll_wait(st->epfd, ev, 32, 0);
    for (int i = 0; i < n; i++) {
        struct ts_watch *w = ev[i].data.ptr;
        w->fn(w, ev[i].events);
    }
    uint64_t now = ts_clock_ms();
    stack_rx(&st->s, 64, now);
    stack_poll(&st->s, now);
    ts_host_run(st->host);
    pthread_mutex_unlock(&st->lock);
    fc_drain(f);
}

/* ---- the program ----------------------------------------------------------- */

static void fc_keep_fd(struct fc *f, int fd)
{
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < FC_FDS; i++) {
        if (f->fd[i] < 0) {
            f->fd[i] = fd;
            return;
        }
    }
    close(fd);
}

static void fc_fill_req(struct fz_in *in, struct ts_ctl_req *rq)
{
    uint8_t how = fz_u8(in);
    memset(rq, 0, sizeof *rq);
    if (how == 0xff) {              /* every byte the fuzzer's */
        fz_bytes(in, (uint8_t *)rq, sizeof *rq);
        return;
    }
    rq->magic = (how & 0x80) ? fz_u32(in) : TS_CTL_MAGIC;
    rq->version = TS_CTL_VERSION;
    rq->op = (uint16_t)(how % 12);
    for (int i = 0; i < 3; i++) {
        uint8_t sel = fz_u8(in);
        rq->arg[i] = (sel & 0x80) ? (int32_t)fz_u32(in) : (int32_t)(sel & 0x3f);
    }
    rq->addrlen = fz_u8(in) % (TS_CTL_ADDR_MAX + 4);
    fz_bytes(in, rq->addr, rq->addrlen < TS_CTL_ADDR_MAX ? rq->addrlen
                                                          : TS_CTL_ADDR_MAX);
    rq->optlen = fz_u16(in) % (TS_CTL_OPT_MAX + 8);
    fz_bytes(in, rq->opt, rq->optlen < 16 ? rq->optlen : 16);
}

static void fc_check_rep(const struct ts_ctl_rep *rep, int out_fd)
{
    if (rep->addrlen > TS_CTL_ADDR_MAX || rep->optlen > TS_CTL_OPT_MAX)
        fz_fail("fuzz_ctl: reply lengths out of bounds", (long)rep->addrlen,
                (long)rep->optlen);
    if (rep->rc > TS_CTL_IDENT_MAX || (out_fd >= 0 && rep->rc != 0))
        fz_fail("fuzz_ctl: reply rc", rep->rc, out_fd);
}

static void fc_request(struct fc *f, struct fz_in *in)
{
    uint8_t sel = fz_u8(in);
    int nfds = sel % 3, fds[2], out_fd = -1, keep = 0;
    struct ts_ctl_req rq;
    struct ts_ctl_rep rep;
    for (int i = 0; i < nfds; i++) {
        int src = f->fd[(sel >> (2 + 3 * i)) % FC_FDS];
        fds[i] = dup(src >= 0 ? src : STDIN_FILENO);
    }
    fc_fill_req(in, &rq);
    memset(&rep, 0, sizeof rep);
    rep.magic = TS_CTL_MAGIC;
    /* What ts_host_request checks before any field is trusted. */
    if (rq.magic != TS_CTL_MAGIC || rq.version != TS_CTL_VERSION ||
        rq.addrlen > TS_CTL_ADDR_MAX || rq.optlen > TS_CTL_OPT_MAX) {
        rep.rc = -EPROTO;
    } else {
        pthread_mutex_lock(&f->st->lock);
        ts_host_op(f->st->host, &rq, fds, nfds, &rep, &out_fd, &keep);
        pthread_mutex_unlock(&f->st->lock);
    }
    for (int i = keep ? 1 : 0; i < nfds; i++)
        close(fds[i]);
    fc_check_rep(&rep, out_fd);
    if (out_fd >= 0)
        fc_keep_fd(f, out_fd);
    fc_drain(f);
}

static void fc_program(struct fc *f, struct fz_in *in)
{
    uint8_t b = fz_u8(in);
    int i = b % FC_FDS;
    char buf[4096];
    size_t n = fz_u16(in) % sizeof buf;
    if (f->fd[i] < 0)
        return;
    switch ((b >> 3) % 5) {
    case 0:
        memset(buf, 'p', n);
        if (send(f->fd[i], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            /* EAGAIN, EPIPE: as a program would see */
        }
        break;
    case 1:
        if (recv(f->fd[i], buf, n, MSG_DONTWAIT) < 0) {
            /* EAGAIN */
        }
        break;
    case 2:
        shutdown(f->fd[i], SHUT_WR);
        break;
    case 3:
        shutdown(f->fd[i], SHUT_RD);
        break;
    default:
        close(f->fd[i]);
        f->fd[i] = -1;
        break;
    }
}

/* ---- the peer ---------------------------------------------------------------- */

static void fc_peer(struct fc *f, struct fz_in *in)
{
    uint8_t b = fz_u8(in), fr[FZ_FRAME_MAX];
    struct fz_tcp t = { .wnd = 8192, .flags = TCP_ACK };
    pthread_mutex_lock(&f->st->lock);
    struct tcp_conn *c = f->st->s.tcp.all;
    for (int k = b % 8; c && k > 0; k--)
        c = c->next;
    if ((b & 0x80) || !c) {         /* open a connection to a port of ours */
        t.sport = (uint16_t)(40000 + (b & 7));
        t.dport = (uint16_t)fz_u16(in);
        t.seq = 1000;
        t.flags = TCP_SYN;
    } else {
        t.sport = c->rport;
        t.dport = c->lport;
        t.seq = c->state == TCP_SYN_SENT ? 1000 : c->rcv_nxt;
        t.ack = c->state == TCP_SYN_SENT ? c->iss + 1 : c->snd_max;
        if (c->state == TCP_SYN_SENT)
            t.flags = TCP_SYN | TCP_ACK;
        else if ((b >> 3) % 4 == 1)
            t.flags |= TCP_FIN;
        else if ((b >> 3) % 4 == 2)
            t.flags = TCP_RST;
        else if ((b >> 3) % 4 == 3)
            t.len = fz_u16(in) % 1400;
    }
    pthread_mutex_unlock(&f->st->lock);
    size_t n = fz_tcp_frame(fr, &t);
    struct pbuf pb = { .data = fr, .base = fr, .len = n, .cap = sizeof fr };
    netdev_send(f->peer, &pb);
    fc_turn(f);
}

/* ---- checks -------------------------------------------------------------------- */

static void fc_check(struct fc *f)
{
    struct ts_stack *st = f->st;
    struct ts_host *h = st->host;
    pthread_mutex_lock(&st->lock);
    uint64_t hashed = 0, owned = 0;
    for (unsigned i = 0; i < h->nhash; i++)
        for (struct ts_hsock *hs = h->hash[i]; hs; hs = hs->hnext) {
            hashed++;
            if (hs->s->owner != hs || hs->s->kind == TS_FREE)
                fz_fail("fuzz_ctl: served socket not the stack's", hs->s->kind,
                        0);
        }
    for (unsigned i = 0; i < st->nsocks; i++)
        owned += st->socks[i].owner != NULL;
    if (hashed != h->stats.sockets_now || owned != hashed)
        fz_fail("fuzz_ctl: sockets_now != served sockets", (long)hashed,
                (long)h->stats.sockets_now);
    fz_check_stack(&st->s, ts_clock_ms());
    pthread_mutex_unlock(&st->lock);
}

static int fc_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fc f;
    struct fz_in in = { data, size };
    int fds_before = fc_open_fds();
    memset(&f, 0, sizeof f);
    for (int i = 0; i < FC_FDS; i++)
        f.fd[i] = -1;
    fc_stack_new(&f);
    fz_check_reset();
    uint8_t arp[64];
    static const uint8_t zero[6];
    struct pbuf pb = { .data = arp, .base = arp, .cap = sizeof arp };
    pb.len = fz_arp_frame(arp, 1, fz_peer_mac, FZ_PEER_IP, zero, FZ_MY_IP);
    netdev_send(f.peer, &pb);
    fc_turn(&f);
    for (int r = 0; r < FC_RECORDS && in.n > 0; r++) {
        switch (fz_u8(&in) % 4) {
        case 0: fc_request(&f, &in); break;
        case 1: fc_program(&f, &in); break;
        case 2: fc_turn(&f); break;
        default: fc_peer(&f, &in); break;
        }
        fc_check(&f);
    }
    for (int i = 0; i < FC_FDS; i++)
        if (f.fd[i] >= 0)
            close(f.fd[i]);
    fc_turn(&f);
    fc_check(&f);
    fc_stack_free(&f);
    if (fc_open_fds() != fds_before)
        fz_fail("fuzz_ctl: descriptors leaked", fc_open_fds(), fds_before);
    return 0;
}
