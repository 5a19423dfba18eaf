/* socket_api/ts_inspect.c - a running stack described for tapstack-ctl:
 * every socket (like `ss -tuani`), the counters (like `netstat -s`), the
 * ARP cache, the routes and the interface, written as records to a FILE.
 *
 * One record a line: its kind, then tab-separated key=value fields (values
 * never hold a tab or a newline), so the tool can print a table or JSON
 * and a script can read it with cut(1). The control socket hands the
 * client a memfd holding the dump (ts_host_ops.c), so a dump of 100,000
 * sockets needs no flow control and never blocks the stack thread.
 * Entry points: ts_inspect_dump, ts_inspect_counters.
 */
#include "socket_api/ts_inspect.h"

#include <inttypes.h>
#include <string.h>

#include "core/addr.h"
#include "core/clock.h"

/* "A.B.C.D:P" into buf. */
static const char *ts_ap(char *buf, uint32_t a, uint16_t p)
{
    char ip[TS_IP4_STRLEN];
    snprintf(buf, TS_IP4_STRLEN + 8, "%s:%u", ts_ip4_fmt(a, ip), p);
    return buf;
}

/* ms until deadline, or -1 when the timer is off. */
static long long ts_in_ms(uint64_t deadline, uint64_t now)
{
    if (deadline == TS_NEVER)
        return -1;
    return deadline > now ? (long long)(deadline - now) : 0;
}

static void ts_inspect_conn(const struct tcp_conn *c, FILE *out, uint64_t now)
{
    struct tcp_conn_info ci;
    uint32_t la, ra;
    uint16_t lp, rp;
    char l[32], r[32];
    tcp_conn_info(c, &ci);
    tcp_conn_addrs(c, &la, &lp, &ra, &rp);
    fprintf(out, "tcp\tstate=%s\tlocal=%s\tpeer=%s\trecvq=%u\tsendq=%u",
            tcp_state_name(ci.state), ts_ap(l, la, lp), ts_ap(r, ra, rp),
            ci.rcv_queued, ci.snd_queued);
    fprintf(out, "\tcc=%s\trtt_us=%u\trttvar_us=%u\trto_ms=%u\tmss=%u\tcwnd=%u"
            "\tssthresh=%u\tsnd_wnd=%u\trcv_wnd=%u\tin_flight=%u",
            ci.cc, ci.rtt_us, ci.rttvar_us, ci.rto_us / 1000, ci.mss, ci.cwnd,
            ci.ssthresh, ci.snd_wnd, ci.rcv_wnd, ci.in_flight);
    fprintf(out, "\tbytes_sent=%" PRIu64 "\tbytes_received=%" PRIu64
            "\tretrans=%u\tsack_blocks=%u\tooo_ranges=%u\tsack=%d\twscale=%d",
            ci.bytes_sent, ci.bytes_received, ci.total_retrans,
            ci.sack_blocks, ci.ooo_ranges, ci.sack, ci.wscale);
    fprintf(out, "\ttimer_rto_ms=%lld\ttimer_delack_ms=%lld"
            "\ttimer_keepalive_ms=%lld\ttimer_timewait_ms=%lld\n",
            ts_in_ms(ci.rto_at, now), ts_in_ms(ci.delack_at, now),
            ts_in_ms(ci.keep_at, now), ts_in_ms(ci.tw_at, now));
}

static void ts_inspect_sockets(const struct stack *s, FILE *out, uint64_t now)
{
    char l[32], r[32];
    for (const struct tcp_listener *tl = tcp_listener_next(&s->tcp, NULL); tl;
         tl = tcp_listener_next(&s->tcp, tl)) {
        uint32_t a;
        uint16_t p;
        unsigned pending, backlog;
        tcp_listener_info(tl, &a, &p, &pending, &backlog);
        fprintf(out, "tcp\tstate=LISTEN\tlocal=%s\tpeer=0.0.0.0:*\trecvq=%u"
                "\tsendq=%u\n", ts_ap(l, a, p), pending, backlog);
    }
    for (const struct tcp_conn *c = tcp_conn_next(&s->tcp, NULL); c;
         c = tcp_conn_next(&s->tcp, c))
        ts_inspect_conn(c, out, now);
    for (const struct udp_sock *u = udp_sock_next(&s->udp, NULL); u;
         u = udp_sock_next(&s->udp, u)) {
        uint32_t la, ra, q;
        uint16_t lp, rp;
        udp_sock_info(u, &la, &lp, &ra, &rp, &q);
        fprintf(out, "udp\tstate=%s\tlocal=%s\tpeer=%s\trecvq=%u\tsendq=0\n",
                ra ? "ESTAB" : "UNCONN", ts_ap(l, la, lp),
                ra ? ts_ap(r, ra, rp) : "0.0.0.0:*", q);
    }
}

/* Levels, not events: `stats -z` leaves them as they are. */
static int ts_inspect_gauge(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "in_use") == 0 || strcmp(name, "in_use_max") == 0 ||
           strcmp(name, "conns_time_wait") == 0 ||
           (n > 4 && strcmp(name + n - 4, "_now") == 0);
}

void ts_inspect_counters(void *vctx, const char *section,
                         const struct ts_counter_desc *d, size_t n,
                         const void *stats, int more)
{
    struct ts_inspect_ctx *c = vctx;
    (void)more;
    for (size_t i = 0; i < n; i++, c->i++) {
        uint64_t v;
        memcpy(&v, (const char *)stats + d[i].offset, sizeof v);
        if (c->zero) {
            if (c->i < c->nbase)
                c->base[c->i] = v;
            continue;
        }
        if (c->base && c->i < c->nbase && !ts_inspect_gauge(d[i].name))
            v = v >= c->base[c->i] ? v - c->base[c->i] : v;
        fprintf(c->out, "counter\tsection=%s\tname=%s\tvalue=%" PRIu64
                "\thelp=%s\n", section, d[i].name, v, d[i].help);
    }
}

static void ts_inspect_arp(const struct stack *s, FILE *out, uint64_t now)
{
    static const char *names[] = { "FREE", "INCOMPLETE", "REACHABLE" };
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
        const struct arp_entry *e = &s->arp.cache.e[i];
        char ip[TS_IP4_STRLEN], mac[TS_MAC_STRLEN];
        if (e->state == ARP_FREE)
            continue;
        fprintf(out, "arp\tip=%s\tmac=%s\tstate=%s\texpires_ms=%lld"
                "\tqueued=%u\ttries=%u\n", ts_ip4_fmt(e->ip, ip),
                e->state == ARP_REACHABLE ? ts_mac_fmt(e->mac, mac) : "-",
                names[e->state], ts_in_ms(e->deadline, now),
                (unsigned)e->nqueued, (unsigned)e->tries);
    }
}

static void ts_inspect_ifaces(const struct stack *s, FILE *out, int routes)
{
    const struct ipv4_config *c = &s->ip.cfg;
    char a[TS_IP4_STRLEN], g[TS_IP4_STRLEN], mac[TS_MAC_STRLEN];
    const char *dev = s->dev ? s->dev->name : "-";
    uint32_t net = c->addr & ts_ip4_mask(c->prefix);
    if (routes) {
        fprintf(out, "route\tdest=%s/%u\tgateway=-\tdev=%s\tsrc=%s\n",
                ts_ip4_fmt(net, a), c->prefix, dev, ts_ip4_fmt(c->addr, g));
        if (c->gateway)
            fprintf(out, "route\tdest=0.0.0.0/0\tgateway=%s\tdev=%s\tsrc=%s\n",
                    ts_ip4_fmt(c->gateway, g), dev, ts_ip4_fmt(c->addr, a));
        return;
    }
    fprintf(out, "iface\tname=%s\taddr=%s/%u\tmac=%s\tmtu=%u"
            "\trx_frames=%" PRIu64 "\ttx_frames=%" PRIu64
            "\trx_bytes=%" PRIu64 "\ttx_bytes=%" PRIu64 "\n",
            dev, ts_ip4_fmt(c->addr, a), c->prefix,
            ts_mac_fmt(s->eth.mac, mac), c->mtu, s->eth.stats.rx_frames,
            s->eth.stats.tx_frames, s->eth.stats.rx_bytes,
            s->eth.stats.tx_bytes);
}

int ts_inspect_dump(const struct stack *s, int what, FILE *out)
{
    uint64_t now = ts_clock_ms();
    switch (what) {
    case TS_INSPECT_SOCKETS: ts_inspect_sockets(s, out, now); break;
    case TS_INSPECT_ARP: ts_inspect_arp(s, out, now); break;
    case TS_INSPECT_ROUTES: ts_inspect_ifaces(s, out, 1); break;
    case TS_INSPECT_IFACES: ts_inspect_ifaces(s, out, 0); break;
    default: return -1;
    }
    return 0;
}
