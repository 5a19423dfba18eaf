/* socket_api/ts_opts.c - socket options: setsockopt and getsockopt of the
 * options programs really set (SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP), with
 * Linux's ranges and errors. An option the stack does not implement fails
 * with ENOPROTOOPT rather than pretending to work. Options set before a
 * connection exists are kept on the socket and applied when it connects or
 * is accepted (ts_opts_apply).
 * Entry points: ts_setsockopt, ts_getsockopt, their _locked forms,
 * ts_opts_apply.
 */
#include "socket_api/ts_internal.h"
#include "socket_api/ts_tcpinfo.h"
#include "tcp/tcp_cc.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* <netinet/tcp.h> and <netinet/ip.h> names clash inside the library; these
 * are Linux's values. */
#define TS_TCP_MAXSEG 2
#define TS_TCP_KEEPIDLE 4
#define TS_TCP_KEEPINTVL 5
#define TS_TCP_KEEPCNT 6
#define TS_TCP_CONGESTION 13
#define TS_IP_TOS 1
#define TS_IP_TTL 2

static int ts_get_int(const void *val, socklen_t len, int *out)
{
    if (!val || len < (socklen_t)sizeof(int))
        return -EINVAL;
    memcpy(out, val, sizeof *out);
    return 0;
}

static int ts_get_timeo(const void *val, socklen_t len, uint32_t *ms)
{
    struct timeval tv;
    if (!val || len < (socklen_t)sizeof tv)
        return -EINVAL;
    memcpy(&tv, val, sizeof tv);
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    uint64_t v = (uint64_t)tv.tv_sec * 1000u + (uint64_t)(tv.tv_usec + 999) / 1000u;
    *ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return 0;
}

static int ts_set_sol_socket(struct ts_sock *s, int name, const void *val,
                             socklen_t len)
{
    int v = 0;
    if (name == SO_RCVTIMEO || name == SO_SNDTIMEO)
        return ts_get_timeo(val, len, name == SO_RCVTIMEO ? &s->rcvtimeo
                                                          : &s->sndtimeo);
    if (name == SO_LINGER) {
        struct linger lg;
        if (!val || len < (socklen_t)sizeof lg)
            return -EINVAL;
        memcpy(&lg, val, sizeof lg);
        s->linger_on = lg.l_onoff != 0;
        s->linger_s = lg.l_linger < 0 ? 0 : lg.l_linger;
        return 0;
    }
    if (ts_get_int(val, len, &v) < 0)
        return -EINVAL;
    switch (name) {
    case SO_REUSEADDR: s->reuseaddr = v != 0; return 0;
    case SO_REUSEPORT: s->reuseport = v != 0; return 0;   /* kept, reported */
    case SO_KEEPALIVE:
        s->keepalive = v != 0;
        if (s->kind == TS_CONN)
            tcp_set_keepalive(s->c, s->keepalive);
        return 0;
    case SO_BROADCAST:
        s->broadcast = v != 0;
        if (s->kind == TS_UDP)
            udp_set_broadcast(s->u, s->broadcast);
        return 0;
    case SO_SNDBUF:
    case SO_RCVBUF:
        if (v < 2048 || v > (64 << 20))
            v = v < 2048 ? 2048 : 64 << 20;     /* clamped, as Linux does */
        *(name == SO_SNDBUF ? &s->sndbuf : &s->rcvbuf) = (uint32_t)v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

void ts_opts_apply(struct ts_sock *s)
{
    if (s->kind == TS_CONN) {
        tcp_set_nodelay(s->c, s->nodelay);
        tcp_set_keepalive(s->c, s->keepalive);
        tcp_set_keepalive_params(s->c, s->ka_idle * 1000u, s->ka_intvl * 1000u,
                                 s->ka_cnt);
        tcp_set_ip_opts(s->c, s->ttl, s->tos);
        if (s->cc)
            tcp_cc_set(s->c, s->cc);
    } else if (s->kind == TS_UDP) {
        udp_set_ip_opts(s->u, s->ttl, s->tos);
    }
}

static int ts_set_tcp(struct ts_sock *s, int name, int v)
{
    switch (name) {
    case TCP_NODELAY:
        s->nodelay = v != 0;
        break;
    case TS_TCP_KEEPIDLE:
    case TS_TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return -EINVAL;
        *(name == TS_TCP_KEEPIDLE ? &s->ka_idle : &s->ka_intvl) = (uint32_t)v;
        break;
    case TS_TCP_KEEPCNT:
        if (v < 1 || v > 127)
            return -EINVAL;
        s->ka_cnt = (unsigned)v;
        break;
    default:
        return -ENOPROTOOPT;
    }
    ts_opts_apply(s);
    return 0;
}

static int ts_set_ip(struct ts_sock *s, int name, int v)
{
    if (name == TS_IP_TTL) {
        if (v == -1)
            v = 0;                      /* back to the default */
        else if (v < 1 || v > 255)
            return -EINVAL;
        s->ttl = (uint8_t)v;
    } else if (name == TS_IP_TOS) {
        s->tos = (uint8_t)v;
    } else {
        return -ENOPROTOOPT;
    }
    ts_opts_apply(s);
    return 0;
}

/* TCP_CONGESTION takes a name, as Linux's: at most 15 characters are
 * read, an unknown name is ENOENT. A listener passes it on to the
 * connections it accepts. */
static int ts_set_congestion(struct ts_sock *s, const void *val, socklen_t len)
{
    char name[TCP_CC_NAME_MAX];
    if (!val || len < 1)
        return -EINVAL;
    size_t n = (size_t)len < sizeof name - 1 ? (size_t)len : sizeof name - 1;
    memcpy(name, val, n);
    name[n] = '\0';
    const struct tcp_cc_ops *ops = tcp_cc_find(name);
    if (!ops)
        return -ENOENT;
    s->cc = ops;
    if (s->kind == TS_LISTEN)
        tcp_listener_set_cc(s->l, ops);
    ts_opts_apply(s);
    return 0;
}

int ts_setsockopt_locked(struct ts_sock *s, int level, int name,
                         const void *val, socklen_t len)
{
    int v;
    if (level == SOL_SOCKET)
        return ts_set_sol_socket(s, name, val, len);
    if (level == IPPROTO_TCP && name == TS_TCP_CONGESTION && s->type == SOCK_STREAM)
        return ts_set_congestion(s, val, len);
    if (level != IPPROTO_IP && (level != IPPROTO_TCP || s->type != SOCK_STREAM))
        return -ENOPROTOOPT;
    if (ts_get_int(val, len, &v) < 0)
        return -EINVAL;
    return level == IPPROTO_TCP ? ts_set_tcp(s, name, v) : ts_set_ip(s, name, v);
}

int ts_setsockopt(struct ts_stack *st, int fd, int level, int name,
                  const void *val, socklen_t len)
{
    pthread_mutex_lock(&st->lock);
    struct ts_sock *s = ts_sock_get(st, fd);
    int rc = s ? ts_setsockopt_locked(s, level, name, val, len) : -EBADF;
    pthread_mutex_unlock(&st->lock);
    return rc < 0 ? ts_fail(rc) : 0;
}

static int ts_put(void *val, socklen_t *len, const void *v, socklen_t n)
{
    if (!val || !len || *len < n)
        return -EINVAL;
    memcpy(val, v, n);
    *len = n;
    return 0;
}

/* An int-valued SOL_SOCKET option into *v; -ENOPROTOOPT if not one. */
static int ts_get_sol_int(struct ts_sock *s, int name, int *v)
{
    const struct tcp_config *tc = &s->st->s.tcp.cfg;
    switch (name) {
    case SO_ERROR: *v = s->so_error; s->so_error = 0; return 0;
    case SO_TYPE: *v = s->type; return 0;
    case SO_DOMAIN: *v = AF_INET; return 0;
    case SO_PROTOCOL:
        *v = s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
        return 0;
    case SO_ACCEPTCONN: *v = s->kind == TS_LISTEN; return 0;
    case SO_REUSEADDR: *v = s->reuseaddr; return 0;
    case SO_REUSEPORT: *v = s->reuseport; return 0;
    case SO_KEEPALIVE: *v = s->keepalive; return 0;
    case SO_BROADCAST: *v = s->broadcast; return 0;
    case SO_SNDBUF: *v = (int)(s->sndbuf ? s->sndbuf : tc->sndbuf); return 0;
    case SO_RCVBUF: *v = (int)(s->rcvbuf ? s->rcvbuf : tc->rcvbuf); return 0;
    default: return -ENOPROTOOPT;
    }
}

static int ts_get_tcp_int(struct ts_sock *s, int name, int *v)
{
    const struct tcp_config *tc = &s->st->s.tcp.cfg;
    switch (name) {
    case TCP_NODELAY: *v = s->nodelay; return 0;
    case TS_TCP_MAXSEG:
        *v = s->kind == TS_CONN ? tcp_conn_mss(s->c) : 536;
        return 0;
    case TS_TCP_KEEPIDLE:
        *v = (int)(s->ka_idle ? s->ka_idle : tc->keepalive_idle / 1000u);
        return 0;
    case TS_TCP_KEEPINTVL:
        *v = (int)(s->ka_intvl ? s->ka_intvl : tc->keepalive_intvl / 1000u);
        return 0;
    case TS_TCP_KEEPCNT:
        *v = (int)(s->ka_cnt ? s->ka_cnt : tc->keepalive_count);
        return 0;
    default: return -ENOPROTOOPT;
    }
}

/* Linux numbers its TCP states in its own order (include/net/tcp_states.h). */
static uint8_t ts_linux_state(enum tcp_state st)
{
    static const uint8_t map[] = {
        [TCP_CLOSED] = 7, [TCP_LISTEN] = 10, [TCP_SYN_SENT] = 2,
        [TCP_SYN_RECEIVED] = 3, [TCP_ESTABLISHED] = 1, [TCP_FIN_WAIT_1] = 4,
        [TCP_FIN_WAIT_2] = 5, [TCP_CLOSE_WAIT] = 8, [TCP_CLOSING] = 11,
        [TCP_LAST_ACK] = 9, [TCP_TIME_WAIT] = 6,
    };
    return (unsigned)st < sizeof map ? map[st] : 7;
}

static int ts_get_tcp_info(struct ts_sock *s, void *val, socklen_t *len)
{
    struct ts_tcpinfo_src src;
    memset(&src, 0, sizeof src);
    src.linux_state = s->kind == TS_LISTEN ? 10 : 7;
    if (s->kind == TS_CONN) {
        struct tcp_conn_info ci;
        tcp_conn_info(s->c, &ci);
        src = (struct ts_tcpinfo_src){
            .linux_state = ts_linux_state(ci.state),
            .retransmits = (uint8_t)ci.retries, .probes = (uint8_t)ci.probes,
            .snd_ws = ci.snd_ws, .rcv_ws = ci.rcv_ws,
            .sack = (uint8_t)ci.sack, .wscale = (uint8_t)ci.wscale,
            .ca_state = ci.ca_state,
            .rto = ci.rto_us, .ato = ci.ato_us, .rtt = ci.rtt_us,
            .rttvar = ci.rttvar_us, .mss = ci.mss, .cwnd = ci.cwnd,
            .ssthresh = ci.ssthresh, .rcv_space = ci.rcv_wnd,
            .in_flight = ci.in_flight, .total_retrans = ci.total_retrans,
        };
    }
    return ts_tcpinfo_put(&src, val, len);
}

/* Linux copies min(len, 16) bytes of the zero-padded name, no error for
 * a short buffer. */
static int ts_get_congestion(struct ts_sock *s, void *val, socklen_t *len)
{
    const struct tcp_cc_ops *ops = s->cc ? s->cc : s->st->s.tcp.cfg.cc;
    char name[TCP_CC_NAME_MAX] = { 0 };
    if (!val || !len)
        return -EINVAL;
    if (s->kind == TS_CONN)
        strncpy(name, tcp_cc_name(s->c), sizeof name - 1);
    else
        strncpy(name, (ops ? ops : TCP_CC_DEFAULT)->name, sizeof name - 1);
    socklen_t want = *len < (socklen_t)sizeof name ? *len : (socklen_t)sizeof name;
    return ts_put(val, len, name, want);
}

int ts_getsockopt_locked(struct ts_sock *s, int level, int name,
                         void *val, socklen_t *len)
{
    int v = 0, rc = -ENOPROTOOPT;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger lg = { s->linger_on, s->linger_s };
        return ts_put(val, len, &lg, sizeof lg);
    }
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        uint32_t ms = name == SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo;
        struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
        return ts_put(val, len, &tv, sizeof tv);
    }
    if (level == IPPROTO_TCP && name == TS_TCP_INFO && s->type == SOCK_STREAM)
        return ts_get_tcp_info(s, val, len);
    if (level == IPPROTO_TCP && name == TS_TCP_CONGESTION && s->type == SOCK_STREAM)
        return ts_get_congestion(s, val, len);
    if (level == SOL_SOCKET)
        rc = ts_get_sol_int(s, name, &v);
    else if (level == IPPROTO_TCP && s->type == SOCK_STREAM)
        rc = ts_get_tcp_int(s, name, &v);
    else if (level == IPPROTO_IP && (name == TS_IP_TTL || name == TS_IP_TOS))
        rc = (v = name == TS_IP_TTL ? (s->ttl ? s->ttl : 64) : s->tos, 0);
    return rc < 0 ? rc : ts_put(val, len, &v, sizeof v);
}

int ts_getsockopt(struct ts_stack *st, int fd, int level, int name, void *val,
                  socklen_t *len)
{
    pthread_mutex_lock(&st->lock);
    struct ts_sock *s = ts_sock_get(st, fd);
    int rc = s ? ts_getsockopt_locked(s, level, name, val, len) : -EBADF;
    pthread_mutex_unlock(&st->lock);
    return rc < 0 ? ts_fail(rc) : 0;
}
