/* ipv4/ipv4.c - IPv4 input checks and dispatch, output, fragments.
 *
 * Input order follows RFC 1122 §3.2.1: header validity (ipv4_wire), source
 * and destination sanity for the interface it came by, destination is us,
 * options (checked before reassembly, RFC 1122 §3.2.1.8), reassembly, then
 * the protocol handler. Output asks ipv4_route.c for the
 * interface, sends whole datagrams in place (the caller's buffer already
 * has headroom for our header) and copies only when it must fragment. A
 * datagram for ourselves goes out of the loopback interface like any other
 * and comes back in through ipv4_input when the stack drains that device.
 */
#include "ipv4/ipv4.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/addr.h"
#include "core/bytes.h"
#include "ipv4/ipv4_opt.h"

/* The printed table: the layer's own counters around reassembly's. */
#define IPV4_C(n, e, r, h) { #n, offsetof(struct ipv4_layer, stats.n), h, e, r },
#define IPV4_R(name, f, h) { name, offsetof(struct ipv4_layer, reass.stats.f), h, \
                            NULL, NULL }
const struct ts_counter_desc ipv4_counter_desc[] = {
    IPV4_COUNTERS_RX(IPV4_C)
    IPV4_R("rx_fragments", frags, "fragments received"),
    IPV4_R("reassembled", done, "datagrams reassembled from fragments"),
    IPV4_R("drop_frag_dup", dup, "ignored: exact duplicate fragments"),
    IPV4_R("drop_frag_overlap", overlap, "datagrams dropped: overlapping fragments"),
    IPV4_R("drop_frag_too_big", too_big, "fragments dropped: past 65,535 bytes (ping of death)"),
    IPV4_R("drop_frag_bad_len", bad_len, "fragments dropped: bad length or past the last fragment"),
    IPV4_R("drop_frag_timeout", timeout, "datagrams dropped: not complete in 30 s"),
    IPV4_R("drop_frag_evicted", evicted, "datagrams dropped: too many in progress"),
    IPV4_R("drop_frag_no_buffer", no_buffer, "fragments dropped: buffer pool empty"),
    IPV4_COUNTERS_TX(IPV4_C)
};
/* In enum ipv4_reason's order, for the event path. */
const struct ts_counter_desc ipv4_reason_desc[] = { IPV4_COUNTERS(IPV4_C) };
const size_t ipv4_counter_count = TS_COUNTERS_LEN(ipv4_counter_desc);

/* Reassembly on the event path (h: the whole datagram, or NULL). */
static void ipv4_ev_reass(struct ipv4_layer *ip, const char *ev,
                          const char *reason, const struct ipv4_hdr *h)
{
    struct ts_event e;
    ts_ev_begin(&e, TS_EVL_IPV4, ev, reason, "791 3.2");
    if (h) {
        ts_ev_kv_ip(&e, "src", h->src);
        ts_ev_kv_int(&e, "id", h->id);
        ts_ev_kv_int(&e, "len", h->total_len);
    }
    ts_ev_emit(ip->ev, &e, 0);
}

/* Reassembly counts its own drops (ipv4_reass.c knows no event path):
 * each drop_frag_* that moved since before, as a "drop" event. */
static void ipv4_ev_reass_drops(struct ipv4_layer *ip,
                                const struct ipv4_reass_stats *before)
{
    size_t lo = offsetof(struct ipv4_layer, reass.stats);
    for (size_t i = 0; i < ipv4_counter_count; i++) {
        const struct ts_counter_desc *d = &ipv4_counter_desc[i];
        if (d->offset < lo || d->offset >= lo + sizeof *before ||
            strncmp(d->name, "drop_", 5) != 0)
            continue;
        uint64_t now, was;
        memcpy(&now, (const char *)ip + d->offset, sizeof now);
        memcpy(&was, (const char *)before + (d->offset - lo), sizeof was);
        for (; was < now; was++) {
            struct ts_event e;
            ts_ev_begin(&e, TS_EVL_IPV4, "drop", d->name, "815");
            e.text = d->help;
            ts_ev_emit(ip->ev, &e, 0);
        }
    }
}

static void ipv4_reass_expired(void *ctx, const uint8_t *hdr, size_t len,
                               uint64_t now)
{
    icmp_send_error(ctx, hdr, len, 0, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME,
                    now);
}

void ipv4_init(struct ipv4_layer *ip, const struct ipv4_config *cfg,
               struct eth_layer *eth, struct arp_layer *arp,
               struct pbuf_pool *pool, uint16_t first_id,
               const struct ts_log *log)
{
    memset(ip, 0, sizeof *ip);
    ip->cfg = *cfg;
    if (ip->cfg.mtu < IPV4_MIN_MTU)
        ip->cfg.mtu = IPV4_MIN_MTU;
    ip->mask = ts_ip4_mask(cfg->prefix);
    ipv4_add_if(ip, eth, arp, cfg->addr, cfg->prefix, ip->cfg.mtu);
    ip->pool = pool;
    ip->next_id = first_id;
    ip->log = log;
    ipv4_reass_init(&ip->reass, pool);
    icmp_init(&ip->icmp);
}

void ipv4_destroy(struct ipv4_layer *ip)
{
    ipv4_reass_destroy(&ip->reass);
}

int ipv4_register(struct ipv4_layer *ip, uint8_t proto, ipv4_rx_fn fn,
                  void *ctx)
{
    if (ip->nhandlers == IPV4_MAX_HANDLERS)
        return -ENOSPC;
    ip->handlers[ip->nhandlers].proto = proto;
    ip->handlers[ip->nhandlers].fn = fn;
    ip->handlers[ip->nhandlers].ctx = ctx;
    ip->nhandlers++;
    return 0;
}

static void ipv4_count_parse_error(struct ipv4_layer *ip, int rc)
{
    switch (rc) {
    case IPV4_ERR_TRUNCATED: IPV4_COUNT(ip, drop_truncated); break;
    case IPV4_ERR_VERSION: IPV4_COUNT(ip, drop_version); break;
    case IPV4_ERR_HLEN: IPV4_COUNT(ip, drop_bad_hlen); break;
    case IPV4_ERR_TOTLEN: IPV4_COUNT(ip, drop_bad_totlen); break;
    default: IPV4_COUNT(ip, drop_bad_cksum); break;
    }
}

/* pb->data at the IP header of a whole datagram: hand it up. */
static void ipv4_deliver(struct ipv4_layer *ip, struct pbuf *pb,
                         const struct ipv4_hdr *h, uint64_t now)
{
    ipv4_rx_fn fn = NULL;
    void *ctx = NULL;
    if (h->proto == IPV4_PROTO_ICMP) {
        fn = icmp_input;
        ctx = ip;
    }
    for (unsigned i = 0; !fn && i < ip->nhandlers; i++) {
        if (ip->handlers[i].proto == h->proto) {
            fn = ip->handlers[i].fn;
            ctx = ip->handlers[i].ctx;
        }
    }
    if (!fn) {
        IPV4_COUNT(ip, drop_unknown_proto);
        icmp_send_error(ip, pb->data, pb->len, (pb->flags & PBUF_F_LINK_BCAST) != 0,
                        ICMP_DEST_UNREACH, ICMP_UNREACH_PROTOCOL, now);
        pbuf_free(pb);
        return;
    }
    ip->stats.rx_delivered++;
    pbuf_pull(pb, h->hlen);
    fn(ctx, pb, h, now);
}

/* Is h acceptable on ifp (RFC 1122 §3.2.1.3)? Counts the drop if not. On
 * a wire: no martian source, no 127/8 destination, and for us (weak host
 * model, as Linux: any of our addresses) or a broadcast. On loopback only
 * our own datagrams arrive, so the destination is all there is to check. */
static int ipv4_input_addrs_ok(struct ipv4_layer *ip, const struct ipv4_if *ifp,
                               const struct ipv4_hdr *h)
{
    if (ifp->flags & NETDEV_F_LOOPBACK) {
        if (ipv4_is_local(ip, h->dst)) {
            ip->stats.rx_local++;
            return 1;
        }
        IPV4_COUNT(ip, drop_not_for_us);
        return 0;
    }
    if (ipv4_is_martian(ip, h->src)) {
        IPV4_COUNT(ip, drop_martian_src);
        return 0;
    }
    if (IPV4_LOOPBACK_NET(h->dst)) {
        IPV4_COUNT(ip, drop_martian_dst);
        return 0;
    }
    if (!ipv4_is_local(ip, h->dst) && !ipv4_is_broadcast(ip, h->dst)) {
        IPV4_COUNT(ip, drop_not_for_us);
        return 0;
    }
    return 1;
}

/* Options of a datagram for us (pb->data at its header). Malformed ones
 * are counted and answered with ICMP Parameter Problem, pointer at the
 * octet at fault (RFC 1122 §3.2.2.5); an unfinished source route would
 * need us to forward it, which a host does not (§3.3.5): counted, dropped.
 * 1 to go on, 0 to drop. */
static int ipv4_input_opts_ok(struct ipv4_layer *ip, const struct pbuf *pb,
                              const struct ipv4_hdr *h, uint64_t now)
{
    struct ipv4_opts o;
    uint8_t bad;
    ip->stats.rx_options++;
    int rc = ipv4_opts_parse(pb->data, h->hlen, &o, &bad);
    if (rc != IPV4_OPT_OK) {
        switch (rc) {
        case IPV4_OPT_ERR_RR: IPV4_COUNT(ip, drop_opt_bad_rr); break;
        case IPV4_OPT_ERR_SRR: IPV4_COUNT(ip, drop_opt_bad_srr); break;
        case IPV4_OPT_ERR_TS: IPV4_COUNT(ip, drop_opt_bad_ts); break;
        default: IPV4_COUNT(ip, drop_opt_bad_len); break;
        }
        icmp_send_param_problem(ip, pb->data, pb->len,
                                (pb->flags & PBUF_F_LINK_BCAST) != 0, bad, now);
        return 0;
    }
    if (o.srr && !o.srr_done) {
        IPV4_COUNT(ip, drop_srcroute);
        return 0;
    }
    return 1;
}

void ipv4_input(void *ctx, struct pbuf *pb, const struct eth_hdr *eh,
                uint64_t now)
{
    const struct ipv4_if *ifp = ctx;
    struct ipv4_layer *ip = ifp->ip;
    struct ipv4_hdr h;
    ip->stats.rx_packets++;
    int rc = ipv4_parse(pb->data, pb->len, &h);
    if (rc != IPV4_OK) {
        ipv4_count_parse_error(ip, rc);
        goto drop;
    }
    pbuf_trim(pb, h.total_len);     /* Ethernet padding is not ours */
    if (eth_is_broadcast(eh->dst))
        pb->flags |= PBUF_F_LINK_BCAST;
    if (!ipv4_input_addrs_ok(ip, ifp, &h))
        goto drop;
    if (h.hlen > IPV4_HLEN && !ipv4_input_opts_ok(ip, pb, &h, now))
        goto drop;
    if (ipv4_is_fragment(&h)) {
        struct ipv4_hdr whole;
        uint32_t flags = pb->flags;
        int on = ts_ev_on(ip->ev);
        struct ipv4_reass_stats before;
        if (on)
            before = ip->reass.stats;
        pb = ipv4_reass_input(&ip->reass, pb, &h, &whole, now);
        if (on)
            ipv4_ev_reass_drops(ip, &before);
        if (!pb)
            return;
        if (ts_ev_on(ip->ev))
            ipv4_ev_reass(ip, "reass_done", "reassembled", &whole);
        pb->flags |= flags & PBUF_F_LINK_BCAST;
        h = whole;
    }
    ipv4_deliver(ip, pb, &h, now);
    return;
drop:
    pbuf_free(pb);
}

/* Options for one datagram or fragment (len a multiple of 4, <= 40). */
struct ipv4_optbuf {
    const uint8_t *opts;
    size_t len;
};

/* Prepend a header (with options o) to pb (payload at pb->data) and send
 * it by rt. */
static int ipv4_send_one(struct ipv4_layer *ip, struct pbuf *pb,
                         const struct ipv4_hdr *h, struct ipv4_optbuf o,
                         const struct ipv4_route *rt, uint64_t now)
{
    uint8_t *p = pbuf_push(pb, IPV4_HLEN + o.len);
    if (!p) {
        IPV4_COUNT(ip, tx_no_buffer);
        pbuf_free(pb);
        return -ENOBUFS;
    }
    struct ipv4_hdr out = *h;
    out.total_len = (uint16_t)pb->len;
    out.hlen = (uint8_t)(IPV4_HLEN + o.len);
    ipv4_emit_opts(&out, o.opts, o.len, p);
    ip->stats.tx_packets++;
    struct eth_layer *eth = rt->ifp->eth;
    if (rt->ifp->flags & NETDEV_F_LOOPBACK) {
        ip->stats.tx_local++;       /* never ARPed, never on the TAP */
        return eth_output(eth, pb, eth->mac, ETH_TYPE_IPV4);
    }
    if (ipv4_is_broadcast(ip, h->dst))
        return eth_output(eth, pb, eth_broadcast, ETH_TYPE_IPV4);
    return arp_output(rt->ifp->arp, pb, rt->next_hop, now);
}

/* RFC 791 fragmentation: every fragment but the last carries a multiple of
 * 8 bytes; each is a fresh buffer, since headers must sit between pieces.
 * The first fragment carries every option, the others only those with the
 * copy flag (§3.2), so their share of the MTU can differ. */
static int ipv4_fragment(struct ipv4_layer *ip, struct pbuf *pb,
                         struct ipv4_hdr *h, struct ipv4_optbuf o,
                         const struct ipv4_route *rt, uint64_t now)
{
    uint8_t copied[IPV4_OPTS_MAX];
    struct ipv4_optbuf later = { copied, ipv4_opts_copied(o.opts, o.len, copied) };
    int rc = 0;
    size_t n;
    for (size_t off = 0; off < pb->len && rc == 0; off += n) {
        struct ipv4_optbuf fo = off == 0 ? o : later;
        size_t chunk = ((size_t)rt->ifp->mtu - IPV4_HLEN - fo.len) & ~(size_t)7;
        n = pb->len - off < chunk ? pb->len - off : chunk;
        struct pbuf *f = pbuf_alloc(ip->pool, PBUF_HEADROOM, n);
        if (!f) {
            IPV4_COUNT(ip, tx_no_buffer);
            rc = -ENOBUFS;
            break;
        }
        memcpy(f->data, pb->data + off, n);
        h->frag = (uint16_t)((off / 8) | (off + n < pb->len ? IPV4_MF : 0));
        ip->stats.tx_fragments++;
        rc = ipv4_send_one(ip, f, h, fo, rt, now);
    }
    pbuf_free(pb);
    return rc;
}

/* A TCP super-frame: the device cuts it into MTU-sized segments, each
 * with the next IP ID (as Linux's GSO does), so those IDs are taken here.
 * Only a device that said it can (NETDEV_F_TSO4) gets one. */
static int ipv4_output_gso(struct ipv4_layer *ip, struct pbuf *pb,
                           const struct ipv4_hdr *h,
                           const struct ipv4_route *rt, uint64_t now)
{
    if (!(rt->ifp->flags & NETDEV_F_TSO4) ||
        IPV4_HLEN + pb->len > rt->ifp->gso_max || pb->off.gso_segs == 0) {
        IPV4_COUNT(ip, tx_too_big);
        pbuf_free(pb);
        return -EMSGSIZE;
    }
    ip->next_id = (uint16_t)(ip->next_id + pb->off.gso_segs - 1);
    struct ipv4_optbuf none = { NULL, 0 };    /* TCP sends no IP options */
    return ipv4_send_one(ip, pb, h, none, rt, now);
}

int ipv4_output(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                uint32_t dst, uint8_t proto, uint64_t now)
{
    return ipv4_output_tt(ip, pb, src, dst, proto, 0, 0, now);
}

static int ipv4_output_hdr(struct ipv4_layer *ip, struct pbuf *pb,
                           uint32_t src, uint32_t dst, uint8_t proto,
                           uint8_t ttl, uint8_t tos, struct ipv4_optbuf o,
                           uint64_t now)
{
    struct ipv4_route rt;
    int rc = ipv4_route_lookup(ip, dst, src, &rt);
    if (rc < 0) {
        if (rc == -EINVAL)
            IPV4_COUNT(ip, tx_bad_src);
        else
            IPV4_COUNT(ip, tx_no_route);
        pbuf_free(pb);
        return rc;
    }
    if (pb->len > IPV4_MAX_LEN - IPV4_HLEN - o.len) {
        IPV4_COUNT(ip, tx_too_big);
        pbuf_free(pb);
        return -EMSGSIZE;
    }
    struct ipv4_hdr h = {
        .hlen = IPV4_HLEN, .id = ip->next_id++, .tos = tos,
        .ttl = ttl ? ttl : IPV4_DEFAULT_TTL,
        .proto = proto, .src = rt.src, .dst = rt.dst,
    };
    if ((pb->flags & PBUF_F_GSO_TCPV4) && o.len == 0)
        return ipv4_output_gso(ip, pb, &h, &rt, now);
    if (IPV4_HLEN + o.len + pb->len <= rt.ifp->mtu)
        return ipv4_send_one(ip, pb, &h, o, &rt, now);
    return ipv4_fragment(ip, pb, &h, o, &rt, now);
}

int ipv4_output_tt(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                   uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                   uint64_t now)
{
    struct ipv4_optbuf none = { NULL, 0 };
    return ipv4_output_hdr(ip, pb, src, dst, proto, ttl, tos, none, now);
}

int ipv4_output_opts(struct ipv4_layer *ip, struct pbuf *pb, uint32_t src,
                     uint32_t dst, uint8_t proto, const uint8_t *opts,
                     size_t optlen, uint64_t now)
{
    if (optlen % 4 != 0 || optlen > IPV4_OPTS_MAX) {
        pbuf_free(pb);
        return -EINVAL;
    }
    struct ipv4_optbuf o = { opts, optlen };
    return ipv4_output_hdr(ip, pb, src, dst, proto, 0, 0, o, now);
}

void ipv4_poll(struct ipv4_layer *ip, uint64_t now)
{
    uint64_t before = ip->reass.stats.timeout;
    ipv4_reass_poll(&ip->reass, now, ipv4_reass_expired, ip);
    for (uint64_t n = before; ts_ev_on(ip->ev) &&
         n < ip->reass.stats.timeout; n++)
        ipv4_ev_reass(ip, "reass_timeout", "drop_frag_timeout", NULL);
}

uint64_t ipv4_next_deadline(const struct ipv4_layer *ip)
{
    return ipv4_reass_next_deadline(&ip->reass);
}
