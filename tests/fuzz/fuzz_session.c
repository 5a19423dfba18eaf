/* tests/fuzz/fuzz_session.c - libFuzzer target: a stateful TCP session,
 * the way lwIP's fuzz3 and smoltcp's targets work.
 *
 * The stack starts with a listener on port 80 (backlog 4), a connection
 * from the peer on it already ESTABLISHED (SYN with MSS, SACK-permitted and
 * window scale; SYN-ACK; ACK), a connect of ours to the peer's port 5000 in
 * SYN-SENT, and a UDP socket on port 53; rings are 4 KiB, so windows fill
 * and open. The input is then a program of records, each an opcode byte
 * and its arguments (fz_in: missing bytes read as 0):
 *   0 time step: the clock moves on (ms, or seconds), every timer due on
 *     the way runs (retransmission, persist, delayed ACK, keepalive,
 *     TIME-WAIT, ARP, reassembly);
 *   1 a raw frame from the wire;
 *   2 a template TCP segment to a live TCB (any state, chosen by index in
 *     the TCB list), a new 4-tuple to the listener, or a closed port: the
 *     fuzzer picks the flags, seq relative to RCV.NXT, ack relative to
 *     SND.UNA or SND.MAX, window, urgent pointer, options (raw bytes, SYN
 *     options, or SACK blocks relative to SND.UNA) and payload length, so it
 *     gets past the 4-tuple and sequence checks into every state,
 *     reassembly and SACK;
 *   3 an application call on one of 8 handles: send N bytes, read up to N
 *     (both also the zero-copy way), shutdown, close, abort, options
 *     (Nagle, keepalive with short timers), or a new connect on a free one;
 *   4 listener: stop listening, or listen again;
 *   5 UDP: a datagram from the peer to some port, or a send or read of ours;
 *   6 an IPv4 datagram or fragment template (any protocol, id, flags and
 *     offset) with fuzzed payload;
 *   7 ARP from the peer (request or reply, maybe a new MAC).
 * After every record the invariants of fz_check.c are checked (abort on a
 * break), and all along the data oracle (fs_pat) checks every byte read and
 * every byte sent; at the end the handles are closed and the stack destroyed, and
 * LeakSanitizer sees that every byte came back. Checksums are not verified
 * in this build (TS_FUZZ_NO_CKSUM), so raw and mutated frames get through.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "eth/eth_wire.h"
#include "ipv4/ipv4_wire.h"
#include "tcp/tcp_conn.h"
#include "tests/fuzz/fz.h"
#include "udp/udp.h"

#define FS_SLOTS 8
#define FS_RECORDS 300              /* records per input at most */
#define FS_BUF 4096                 /* TCP rings */
#define FS_LPORT 80
#define FS_PEER_PORT 5000
#define FS_EST_SPORT 40000
#define FS_PEER_ISS 1000u

struct fs {
    struct fz_env e;
    struct tcp_listener *l;
    struct tcp_conn *slot[FS_SLOTS];
    uint32_t tx_off[FS_SLOTS];      /* bytes the application queued */
    uint32_t rx_off[FS_SLOTS];      /* bytes it read */
    struct udp_sock *u;
    int tainted;                    /* a raw frame may have carried TCP data */
};

/* The data oracle. Every byte the peer sends (fz_tcp_frame) is the low
 * byte of its own sequence number, and every byte our application writes
 * is fs_pat of its offset in the stream; so each byte the application
 * reads, and each byte the stack puts on the wire, can be checked where it
 * stands: reassembly, the rings, SACK recovery and retransmission must
 * never move, lose or invent a byte. (Raw frames carry anything: after
 * one, reads are no longer checked.) */
static uint8_t fs_pat(uint32_t off)
{
    return (uint8_t)(off * 7u + (off >> 8) + 3u);
}

static void fs_check_read(struct fs *f, int i, const uint8_t *p, size_t n)
{
    const struct tcp_conn *c = f->slot[i];
    for (size_t k = 0; k < n && !f->tainted; k++)
        if (p[k] != (uint8_t)(c->irs + 1 + f->rx_off[i] + k))
            fz_fail("read a byte that is not the peer's at that place",
                    (long)(f->rx_off[i] + k), p[k]);
    f->rx_off[i] += (uint32_t)n;
}

/* Every data segment the stack sends carries the application's bytes at
 * the offsets its sequence number says; no ACK acknowledges more than was
 * received; a FIN goes only after the application's shutdown or close,
 * at the end of its data. */
static void fs_tap(void *ctx, const uint8_t *fr, size_t len)
{
    struct fs *f = ctx;
    struct tcp_hdr th;
    const uint8_t *ip = fr + ETH_HLEN;
    if (len < ETH_HLEN + IPV4_HLEN || load_be16(fr + 12) != ETH_TYPE_IPV4 ||
        ip[9] != IPV4_PROTO_TCP || (load_be16(ip + 6) & 0x3fff))
        return;
    size_t hl = (size_t)(ip[0] & 0x0f) * 4, tot = load_be16(ip + 2);
    if (tcp_parse(ip + hl, tot - hl, &th) != TCP_OK)
        return;
    struct tcp_conn *c = tcp_conn_find(&f->e.s.tcp, load_be32(ip + 12),
                                       th.sport, load_be32(ip + 16), th.dport);
    if (!c || (th.flags & TCP_RST))
        return;                     /* gone already; a reset's numbers */
    if ((th.flags & TCP_ACK) && c->state != TCP_SYN_SENT &&
        seq_gt(th.ack, c->rcv_nxt))
        fz_fail("sent an ACK for data not received", (long)(th.ack - c->rcv_nxt),
                c->state);
    if ((th.flags & TCP_FIN) && (!(c->flags & TCP_F_FIN_QUEUED) ||
                                 th.seq + (tot - hl - th.hlen) != c->fin_seq))
        fz_fail("sent a FIN the application did not ask for, or misplaced",
                (long)(c->flags & TCP_F_FIN_QUEUED), (long)(th.seq - c->fin_seq));
    uint32_t off = th.seq - (c->iss + 1);
    if ((int32_t)off < 0 || tot - hl == th.hlen)
        return;                     /* a probe below SND.UNA; no data */
    const uint8_t *p = ip + hl + th.hlen;
    for (size_t k = 0; k < tot - hl - th.hlen; k++)
        if (p[k] != fs_pat(off + (uint32_t)k))
            fz_fail("sent a byte the application did not write there",
                    (long)(off + k), p[k]);
}

static void fs_conn_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    (void)ctx;
    (void)c;
    (void)ev;
}

/* Accept what the listener offers while a handle is free. */
static void fs_accept_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    struct fs *f = ctx;
    (void)c;
    if (!(ev & TCP_EV_ACCEPT) || !f->l)
        return;
    for (int i = 0; i < FS_SLOTS && f->l->accept_head; i++) {
        if (f->slot[i])
            continue;
        f->slot[i] = tcp_accept(f->l, fs_conn_event, f);
        f->tx_off[i] = f->rx_off[i] = 0;
    }
}

static void fs_udp_event(void *ctx, struct udp_sock *s, unsigned ev)
{
    (void)ctx;
    (void)s;
    (void)ev;
}

/* ---- set-up ------------------------------------------------------------- */

static const uint8_t fs_syn_opts[] = {
    2, 4, 0x05, 0xb4,               /* MSS 1460 */
    1, 3, 3, 7,                     /* NOP, window scale 7 */
    4, 2, 1, 1,                     /* SACK permitted, NOP, NOP */
};

static void fs_listen(struct fs *f)
{
    int err = 0;
    f->l = tcp_listen(&f->e.s.tcp, 0, FS_LPORT, 4, fs_accept_event, f, &err);
    if (!f->l)
        fz_fail("fuzz_session: listen", err, 0);
}

/* The peer opens a connection to the listener: SYN, our SYN-ACK, ACK. */
static void fs_establish(struct fs *f)
{
    uint8_t fr[FZ_FRAME_MAX];
    struct fz_tcp t = { .sport = FS_EST_SPORT, .dport = FS_LPORT,
                        .seq = FS_PEER_ISS, .flags = TCP_SYN, .wnd = 65535,
                        .opts = fs_syn_opts, .optlen = sizeof fs_syn_opts };
    fz_send(&f->e, fr, fz_tcp_frame(fr, &t));
    struct tcp_conn *c = tcp_conn_find(&f->e.s.tcp, FZ_MY_IP, FS_LPORT,
                                       FZ_PEER_IP, FS_EST_SPORT);
    if (!c)
        fz_fail("fuzz_session: no SYN-RECEIVED TCB", 0, 0);
    t = (struct fz_tcp){ .sport = FS_EST_SPORT, .dport = FS_LPORT,
                         .seq = FS_PEER_ISS + 1, .ack = c->iss + 1,
                         .flags = TCP_ACK, .wnd = 1024 };
    fz_send(&f->e, fr, fz_tcp_frame(fr, &t));
    if (!f->slot[0] || tcp_conn_state(f->slot[0]) != TCP_ESTABLISHED)
        fz_fail("fuzz_session: handshake", 0, 0);
}

static void fs_setup(struct fs *f)
{
    memset(f, 0, sizeof *f);
    fz_env_init(&f->e, FS_BUF, 1, 0);
    f->e.tap = fs_tap;
    f->e.tap_ctx = f;
    fs_listen(f);
    fs_establish(f);
    int err = 0;
    f->slot[1] = tcp_connect(&f->e.s.tcp, 0, FZ_PEER_IP, FS_PEER_PORT,
                             fs_conn_event, f, f->e.now, &err);
    f->u = udp_open(&f->e.s.udp, 4096, fs_udp_event, f);
    if (!f->slot[1] || !f->u || udp_bind(f->u, 0, 53) < 0)
        fz_fail("fuzz_session: set-up", err, 0);
    fz_drain(&f->e);
}

static void fs_teardown(struct fs *f)
{
    for (int i = 0; i < FS_SLOTS; i++)
        if (f->slot[i])
            tcp_close(f->slot[i], f->e.now);
    if (f->l)
        tcp_unlisten(f->l);
    udp_close(f->u);
    fz_drain(&f->e);
    fz_check(&f->e);
    fz_env_free(&f->e);
}

/* ---- records ------------------------------------------------------------ */

static void fs_time(struct fs *f, struct fz_in *in)
{
    uint16_t v = fz_u16(in);
    uint64_t ms = (v & 0x8000) ? (uint64_t)(v & 0x7fff) * 1000 : v;
    fz_advance(&f->e, ms);
}

static void fs_raw(struct fs *f, struct fz_in *in)
{
    uint8_t fr[FZ_FRAME_MAX];
    size_t want = fz_u16(in) % (FZ_FRAME_MAX + 1);
    f->tainted = 1;
    fz_send(&f->e, fr, fz_bytes(in, fr, want));
}

/* The TCB at index k of the layer's list (k modulo their number). */
static struct tcp_conn *fs_tcb(struct fs *f, unsigned k)
{
    unsigned n = 0;
    for (struct tcp_conn *c = f->e.s.tcp.all; c; c = c->next)
        n++;
    if (n == 0)
        return NULL;
    struct tcp_conn *c = f->e.s.tcp.all;
    for (k %= n; k > 0; k--)
        c = c->next;
    return c;
}

/* Options for a template: raw bytes, SYN options, or SACK blocks. */
static size_t fs_opts(struct fz_in *in, const struct tcp_conn *c,
                      uint8_t *o)
{
    uint8_t mode = fz_u8(in);
    switch (mode % 4) {
    case 0:
        return fz_bytes(in, o, fz_u8(in) % 41);
    case 1:
        memcpy(o, fs_syn_opts, sizeof fs_syn_opts);
        store_be16(o + 2, fz_u16(in));          /* MSS */
        o[7] = fz_u8(in);                       /* shift */
        return sizeof fs_syn_opts;
    case 2: {
        unsigned nb = 1 + (mode >> 2) % 4;
        uint32_t base = c ? c->snd_una : 0;
        o[0] = 1;
        o[1] = 1;
        o[2] = TCP_OPT_SACK;
        o[3] = (uint8_t)(2 + 8 * nb);
        for (unsigned i = 0; i < nb; i++) {
            uint32_t l = base + fz_u16(in);
            store_be32(o + 4 + 8 * i, l);
            store_be32(o + 8 + 8 * i, l + fz_u16(in));
        }
        return 4 + 8 * nb;
    }
    default:
        return 0;
    }
}

static void fs_template(struct fs *f, struct fz_in *in)
{
    uint8_t tgt = fz_u8(in), opts[40], fr[FZ_FRAME_MAX];
    struct fz_tcp t = { .flags = fz_u8(in) };
    int16_t dseq = (int16_t)fz_u16(in), dack = (int16_t)fz_u16(in);
    t.wnd = fz_u16(in);
    t.urp = (tgt & 0x40) ? fz_u16(in) : 0;
    struct tcp_conn *c = NULL;
    switch (tgt & 0x30) {
    case 0x00:
    case 0x10:
        c = fs_tcb(f, tgt & 0x0f);
        break;
    case 0x20:                      /* a new peer port, to the listener */
        t.sport = (uint16_t)(FS_EST_SPORT + 1 + (tgt & 0x0f));
        t.dport = FS_LPORT;
        break;
    default:                        /* a port nobody listens on */
        t.sport = FS_EST_SPORT;
        t.dport = (uint16_t)(81 + (tgt & 0x0f));
        break;
    }
    if (c) {
        t.sport = c->rport;
        t.dport = c->lport;
        t.seq = (c->state == TCP_SYN_SENT ? FS_PEER_ISS : c->rcv_nxt) +
                (uint32_t)dseq;
        t.ack = ((tgt & 0x80) ? c->snd_max : c->snd_una) + (uint32_t)dack;
    } else {
        t.seq = FS_PEER_ISS + (uint32_t)dseq * 4096u;
        t.ack = (uint32_t)dack;
    }
    t.optlen = fs_opts(in, c, opts);
    t.opts = opts;
    t.len = fz_u16(in) % 1461;
    fz_send(&f->e, fr, fz_tcp_frame(fr, &t));
}

static void fs_send(struct fs *f, int i, size_t n)
{
    static uint8_t buf[FS_BUF * 2];
    struct tcp_conn *c = f->slot[i];
    struct iovec iov[2];
    for (size_t k = 0; k < n; k++)
        buf[k] = fs_pat(f->tx_off[i] + (uint32_t)k);
    if (!(n & 1)) {
        ssize_t r = tcp_send(c, buf, n, f->e.now);
        f->tx_off[i] += r > 0 ? (uint32_t)r : 0;
    } else if (tcp_send_room(c, iov) > 0) {     /* the zero-copy way */
        uint32_t k = (uint32_t)(n < iov[0].iov_len ? n : iov[0].iov_len);
        memcpy(iov[0].iov_base, buf, k);
        tcp_send_commit(c, k, f->e.now);
        f->tx_off[i] += k;
    }
}

static void fs_recv(struct fs *f, int i, size_t n)
{
    static uint8_t buf[FS_BUF * 2];
    struct tcp_conn *c = f->slot[i];
    struct iovec iov[2];
    if (!(n & 1)) {
        ssize_t r = tcp_recv(c, buf, n, f->e.now);
        if (r > 0)
            fs_check_read(f, i, buf, (size_t)r);
    } else if (tcp_recv_data(c, iov) > 0) {     /* the zero-copy way */
        uint32_t k = (uint32_t)(n < iov[0].iov_len ? n : iov[0].iov_len);
        fs_check_read(f, i, iov[0].iov_base, k);
        tcp_recv_consume(c, k, f->e.now);
    }
}

static void fs_call(struct fs *f, struct fz_in *in)
{
    uint8_t b = fz_u8(in);
    int i = b % FS_SLOTS, err = 0;
    struct tcp_conn *c = f->slot[i];
    if (!c) {
        f->slot[i] = tcp_connect(&f->e.s.tcp, 0, FZ_PEER_IP,
                                 (uint16_t)(FS_PEER_PORT + (b >> 3) % 4),
                                 fs_conn_event, f, f->e.now, &err);
        f->tx_off[i] = f->rx_off[i] = 0;
        fz_drain(&f->e);
        return;
    }
    switch ((b >> 3) % 8) {
    case 0:
        fs_send(f, i, fz_u16(in) % (FS_BUF * 2));
        break;
    case 1:
        fs_recv(f, i, fz_u16(in) % (FS_BUF * 2));
        break;
    case 2:
        tcp_shutdown(c, f->e.now);
        break;
    case 3:
        tcp_close(c, f->e.now);
        f->slot[i] = NULL;
        break;
    case 4:
        tcp_abort(c, f->e.now);
        f->slot[i] = NULL;
        break;
    case 5:
        tcp_set_nodelay(c, (b >> 6) & 1);
        break;
    case 6:
        tcp_set_keepalive_params(c, 1000, 500, 2);
        tcp_set_keepalive(c, (b >> 6) & 1);
        break;
    default:
        fs_recv(f, i, FS_BUF * 2);              /* read all, like a reader */
        break;
    }
    fz_drain(&f->e);
}

static void fs_listener(struct fs *f)
{
    if (f->l) {
        tcp_unlisten(f->l);
        f->l = NULL;
    } else {
        fs_listen(f);
    }
    fz_drain(&f->e);
}

static void fs_udp(struct fs *f, struct fz_in *in)
{
    uint8_t op = fz_u8(in), buf[1500], fr[FZ_FRAME_MAX];
    size_t n = fz_u16(in) % 1473;
    if (op % 3 == 0) {
        uint8_t dg[1500];
        store_be16(dg, fz_u16(in));                     /* source port */
        store_be16(dg + 2, (op & 0x80) ? 53 : fz_u16(in));
        store_be16(dg + 4, (uint16_t)(n + 8));
        store_be16(dg + 6, 0);
        memset(dg + 8, 'u', n);
        fz_send(&f->e, fr, fz_ip_frame(fr, FZ_PEER_IP, FZ_MY_IP, 17, 1, 0,
                                       dg, n + 8));
    } else if (op % 3 == 1) {
        memset(buf, 'v', n);
        udp_sendto(f->u, buf, n, FZ_PEER_IP, 7, f->e.now);
        fz_drain(&f->e);
    } else {
        udp_recvfrom(f->u, buf, n, NULL, NULL);
    }
}

static void fs_ip(struct fs *f, struct fz_in *in)
{
    uint8_t proto = fz_u8(in), pl[FZ_FRAME_MAX], fr[FZ_FRAME_MAX];
    uint16_t id = fz_u16(in), frag = fz_u16(in);
    f->tainted |= proto == IPV4_PROTO_TCP;
    size_t n = fz_bytes(in, pl, fz_u16(in) % 1481);
    fz_send(&f->e, fr, fz_ip_frame(fr, FZ_PEER_IP, FZ_MY_IP, proto, id, frag,
                                   pl, n));
}

static void fs_arp(struct fs *f, struct fz_in *in)
{
    uint8_t op = fz_u8(in), mac[6], fr[64];
    static const uint8_t zero[6];
    memcpy(mac, fz_peer_mac, 6);
    mac[5] = (op & 0x80) ? fz_u8(in) : mac[5];
    uint32_t spa = (op & 0x40) ? TS_IP4(10, 0, 0, fz_u8(in)) : FZ_PEER_IP;
    fz_send(&f->e, fr, fz_arp_frame(fr, (op & 1) ? ARP_OP_REPLY
                                                 : ARP_OP_REQUEST,
                                    mac, spa, zero, FZ_MY_IP));
}

/* FS_TRACE=1 in the environment: each record and every TCB after it on
 * stderr, to read a crash's story. */
static void fs_trace(struct fs *f, int r, uint8_t op)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FS_TRACE") != NULL;
    if (!on)
        return;
    fprintf(stderr, "record %d op %u now %llu\n", r, op,
            (unsigned long long)f->e.now);
    for (struct tcp_conn *c = f->e.s.tcp.all; c; c = c->next)
        fprintf(stderr, "  %u->%u %s una %u nxt %u max %u wnd %u | rcv_nxt %u "
                "adv %u len %u/%u ooo %u [%u,%u) | flags %x retries %u "
                "probes %u timer %lld\n", c->lport, c->rport,
                tcp_state_name(c->state), c->snd_una - c->iss,
                c->snd_nxt - c->iss, c->snd_max - c->iss, c->snd_wnd,
                c->rcv_nxt - c->irs, c->rcv_adv - c->irs, c->rcv.len,
                c->rcv.cap, c->ooo.n, c->ooo.n ? c->ooo.start[0] - c->irs : 0,
                c->ooo.n ? c->ooo.end[0] - c->irs : 0, c->flags, c->retries,
                c->probes, (long long)(tcp_conn_deadline(c) - f->e.now));
}

/* An ARP packet (or a raw frame, which may be one) can release frames the
 * stack queued while the peer's address was unresolved, built then by a
 * TCB that may since have died and been replaced on the same 4-tuple: the
 * oracle's checks against the live TCB do not hold for those. */
static void fs_raw_unchecked(struct fs *f, struct fz_in *in)
{
    f->e.tap = NULL;
    fs_raw(f, in);
    f->e.tap = fs_tap;
}

static void fs_arp_unchecked(struct fs *f, struct fz_in *in)
{
    f->e.tap = NULL;
    fs_arp(f, in);
    f->e.tap = fs_tap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fs f;
    struct fz_in in = { data, size };
    fs_setup(&f);
    fz_check(&f.e);
    for (int r = 0; r < FS_RECORDS && in.n > 0; r++) {
        uint8_t op = fz_u8(&in);
        switch (op % 8) {
        case 0: fs_time(&f, &in); break;
        case 1: fs_raw_unchecked(&f, &in); break;
        case 2: fs_template(&f, &in); break;
        case 3: fs_call(&f, &in); break;
        case 4: fs_listener(&f); break;
        case 5: fs_udp(&f, &in); break;
        case 6: fs_ip(&f, &in); break;
        default: fs_arp_unchecked(&f, &in); break;
        }
        fs_trace(&f, r, op % 8);
        fz_check(&f.e);
    }
    fs_teardown(&f);
    return 0;
}
