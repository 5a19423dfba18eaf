/* ipv4/icmp.c - echo replies and rate-limited, RFC 1122-abiding errors. */
#include "ipv4/icmp.h"

#include <string.h>

#include "core/bytes.h"
#include "ipv4/ipv4.h"
#include "ipv4/ipv4_opt.h"

#define ICMP_DESC(n, e, r, h) TS_CTR_DESC(struct icmp_stats, n, e, r, h)
const struct ts_counter_desc icmp_counter_desc[] = { ICMP_COUNTERS(ICMP_DESC) };
const size_t icmp_counter_count = TS_COUNTERS_LEN(icmp_counter_desc);

void icmp_init(struct icmp_layer *icmp)
{
    memset(icmp, 0, sizeof *icmp);
    icmp->tokens_milli = ICMP_RATE_BURST * 1000u;
}

/* The reply's options (RFC 1122 §3.2.2.6) from the request's header,
 * which lies just before pb->data; *dst is where the reply goes. */
static size_t icmp_echo_opts(const struct pbuf *pb, const struct ipv4_hdr *h,
                             uint8_t *out, uint32_t *dst, uint64_t now)
{
    struct ipv4_opts o;
    uint8_t bad;
    const uint8_t *hdr = pb->data - h->hlen;
    *dst = h->src;
    if (h->hlen <= IPV4_HLEN || ipv4_opts_parse(hdr, h->hlen, &o, &bad) != IPV4_OPT_OK)
        return 0;
    uint32_t ts = (uint32_t)now | 0x80000000u;  /* not ms since midnight UT */
    return ipv4_opts_echo(hdr, &o, h->dst, h->src, ts, out, dst);
}

/* A reversed source route picks the reply's first hop from the request:
 * only another host's unicast address may be it (the smurf rule of
 * §3.2.2.6 again: no echo to a broadcast or multicast address). */
static int icmp_route_ok(const struct ipv4_layer *ip, uint32_t hop)
{
    return !ipv4_is_martian(ip, hop);
}

/* Answer in place: the request's buffer becomes the reply, so the identifier,
 * sequence and payload are the request's own bytes (RFC 792). The options
 * are taken out of the request's header before the reply's overwrites it. */
static void icmp_echo_reply(struct ipv4_layer *ip, struct pbuf *pb,
                            const struct ipv4_hdr *h, const struct icmp_hdr *ih,
                            uint64_t now)
{
    uint8_t opts[IPV4_OPTS_MAX];
    uint32_t dst;
    size_t optlen = icmp_echo_opts(pb, h, opts, &dst, now);
    if (dst != h->src && !icmp_route_ok(ip, dst)) {
        ICMP_COUNT(ip, drop_echo_route);
        pbuf_free(pb);
        return;
    }
    /* The request's receive offload marks must not follow the reply. */
    pb->flags &= ~(PBUF_F_OFFLOAD | PBUF_F_CSUM_VALID);
    struct icmp_hdr reply = *ih;
    reply.type = ICMP_ECHO_REPLY;
    reply.code = 0;
    icmp_emit(&reply, pb->data, pb->len);
    ip->icmp.stats.tx_echo_replies++;
    if (optlen) {
        ip->icmp.stats.tx_echo_options++;
        ipv4_output_opts(ip, pb, h->dst, dst, IPV4_PROTO_ICMP, opts, optlen, now);
        return;
    }
    ipv4_output(ip, pb, h->dst, h->src, IPV4_PROTO_ICMP, now);
}

/* An ICMP error sent or received, on the event path. */
static void icmp_ev(struct ipv4_layer *ip, const char *ev, uint8_t type,
                    uint8_t code, const char *peer_key, uint32_t peer)
{
    struct ts_event e;
    ts_ev_begin(&e, TS_EVL_ICMP, ev, ev[5] == 's' ? "tx_errors" : "rx_errors",
                "792");
    ts_ev_kv_int(&e, "type", type);
    ts_ev_kv_int(&e, "code", code);
    ts_ev_kv_ip(&e, peer_key, peer);
    ts_ev_emit(ip->ev, &e, 0);
}

void icmp_input(void *ctx, struct pbuf *pb, const struct ipv4_hdr *h,
                uint64_t now)
{
    struct ipv4_layer *ip = ctx;
    struct icmp_stats *st = &ip->icmp.stats;
    struct icmp_hdr ih;
    st->rx_messages++;
    int rc = icmp_parse(pb->data, pb->len, &ih);
    if (rc != ICMP_OK) {
        if (rc == ICMP_ERR_TRUNCATED)
            ICMP_COUNT(ip, drop_truncated);
        else
            ICMP_COUNT(ip, drop_bad_cksum);
        pbuf_free(pb);
        return;
    }
    if (ih.type == ICMP_ECHO_REQUEST) {
        st->rx_echo_requests++;
        /* Like Linux's icmp_echo_ignore_broadcasts: a broadcast ping is a
         * smurf amplifier, not a question. */
        if (!ipv4_is_local(ip, h->dst)) {
            ICMP_COUNT(ip, drop_broadcast_echo);
            pbuf_free(pb);
            return;
        }
        icmp_echo_reply(ip, pb, h, &ih, now);
        return;
    }
    if (ih.type == ICMP_ECHO_REPLY)
        st->rx_echo_replies++;
    else if (icmp_is_error(ih.type)) {
        st->rx_errors++;
        if (ts_ev_on(ip->ev))
            icmp_ev(ip, "icmp_rcvd", ih.type, ih.code, "src", h->src);
    }
    else
        st->rx_other++;
    pbuf_free(pb);
}

/* Token bucket: ICMP_RATE_PER_SEC tokens a second, at most ICMP_RATE_BURST. */
static int icmp_rate_ok(struct icmp_layer *icmp, uint64_t now)
{
    uint64_t elapsed = now - icmp->last_refill;
    icmp->last_refill = now;
    uint64_t t = icmp->tokens_milli + elapsed * ICMP_RATE_PER_SEC;
    if (t > ICMP_RATE_BURST * 1000u)
        t = ICMP_RATE_BURST * 1000u;
    if (t < 1000u) {
        icmp->tokens_milli = (uint32_t)t;
        return 0;
    }
    icmp->tokens_milli = (uint32_t)(t - 1000u);
    return 1;
}

/* RFC 1122 §3.2.2: no error about an ICMP error, a non-first fragment, a
 * link or IP broadcast/multicast, or a source that is not a unique host. */
static int icmp_error_allowed(const struct ipv4_layer *ip, const uint8_t *orig,
                              size_t orig_len, int link_bcast)
{
    if (link_bcast || orig_len < IPV4_HLEN)
        return 0;
    size_t hlen = (size_t)(orig[0] & 0x0f) * 4;
    if (hlen < IPV4_HLEN || hlen > orig_len)
        return 0;
    uint32_t src = load_be32(orig + 12), dst = load_be32(orig + 16);
    /* A source of ours passed input only by the loopback interface: that
     * sender is a unique host (us), and the error goes back through lo. */
    if ((ipv4_is_martian(ip, src) && !ipv4_is_local(ip, src)) ||
        ipv4_is_broadcast(ip, dst) ||
        (dst >> 28) == 0xe)
        return 0;
    if ((load_be16(orig + 6) & IPV4_OFF_MASK) != 0)
        return 0;
    if (orig[9] == IPV4_PROTO_ICMP)     /* unknown type counts as an error */
        return hlen < orig_len && !icmp_is_error(orig[hlen]);
    return 1;
}

/* An error about orig with the second header word's first half `rest`
 * (the pointer of a Parameter Problem, else 0). */
static void icmp_error(struct ipv4_layer *ip, const uint8_t *orig,
                       size_t orig_len, int link_bcast, uint8_t type,
                       uint8_t code, uint16_t rest, uint64_t now)
{
    struct icmp_stats *st = &ip->icmp.stats;
    if (!icmp_error_allowed(ip, orig, orig_len, link_bcast)) {
        ICMP_COUNT(ip, err_suppressed);
        return;
    }
    if (!icmp_rate_ok(&ip->icmp, now)) {
        ICMP_COUNT(ip, err_rate_limited);
        return;
    }
    /* Quote the header and the first 64 bits of data (RFC 792). */
    size_t quote = (size_t)(orig[0] & 0x0f) * 4 + 8;
    if (quote > orig_len)
        quote = orig_len;
    struct pbuf *pb = pbuf_alloc(ip->pool, PBUF_HEADROOM, ICMP_HLEN + quote);
    if (!pb) {
        IPV4_COUNT(ip, tx_no_buffer);
        return;
    }
    memcpy(pb->data + ICMP_HLEN, orig, quote);
    struct icmp_hdr ih = { .type = type, .code = code, .id = rest };
    icmp_emit(&ih, pb->data, pb->len);
    st->tx_errors++;
    if (type == ICMP_PARAM_PROBLEM)
        st->tx_param_problems++;
    if (ts_ev_on(ip->ev))
        icmp_ev(ip, "icmp_sent", type, code, "dst", load_be32(orig + 12));
    ipv4_output(ip, pb, 0, load_be32(orig + 12), IPV4_PROTO_ICMP, now);
}

void icmp_send_error(struct ipv4_layer *ip, const uint8_t *orig,
                     size_t orig_len, int link_bcast, uint8_t type,
                     uint8_t code, uint64_t now)
{
    icmp_error(ip, orig, orig_len, link_bcast, type, code, 0, now);
}

void icmp_send_param_problem(struct ipv4_layer *ip, const uint8_t *orig,
                             size_t orig_len, int link_bcast, uint8_t pointer,
                             uint64_t now)
{
    icmp_error(ip, orig, orig_len, link_bcast, ICMP_PARAM_PROBLEM, 0,
               (uint16_t)(pointer << 8), now);
}
