/* tests/scripts/tsr_seg.c - segments of a script on the wire: the peer's
 * frames built byte by byte (options in the order the script writes them,
 * checksums computed here), the stack's frames checked and decoded, the
 * comparison with a '>' line and the script-syntax rendering of what was
 * sent. Option bytes are encoded by this file, not by the stack's emitter,
 * so a script tests the stack's parser rather than agreeing with it.
 * Entry points: tsr_build_frame, tsr_decode_frame, tsr_seg_match,
 * tsr_sent_format.
 */
#include "tests/scripts/tsr.h"

#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "eth/eth_wire.h"
#include "ipv4/ipv4_wire.h"

const uint8_t tsr_my_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x02 };
const uint8_t tsr_peer_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01 };

/* The options of s at p (<= 40 bytes), padded with EOL to a multiple of
 * 4. Returns the bytes written. */
static size_t tsr_put_opts(const struct tsr_seg *s, const struct tsr_isn *isn,
                           uint8_t *p)
{
    size_t n = 0;
    for (unsigned i = 0; i < s->nopts; i++) {
        const struct tsr_opt *o = &s->opts[i];
        size_t need = o->kind == TCP_OPT_SACK ? 2 + 8u * o->nsack : 10;
        if (o->raw)
            need = o->v1 < 2 ? 2 : o->v1;
        if (n + need > 40)
            break;
        if (o->raw) {               /* kind K len L */
            p[n] = o->kind, p[n + 1] = (uint8_t)o->v1;
            memset(p + n + 2, 0, need - 2);
            n += need;
            continue;
        }
        switch (o->kind) {
        case TCP_OPT_EOL: case TCP_OPT_NOP:
            p[n++] = o->kind;
            break;
        case TCP_OPT_MSS:
            p[n++] = TCP_OPT_MSS, p[n++] = 4;
            store_be16(p + n, (uint16_t)o->v1), n += 2;
            break;
        case TCP_OPT_WS:
            p[n++] = TCP_OPT_WS, p[n++] = 3, p[n++] = (uint8_t)o->v1;
            break;
        case TCP_OPT_SACK_OK:
            p[n++] = TCP_OPT_SACK_OK, p[n++] = 2;
            break;
        case TCP_OPT_TS:
            p[n++] = TCP_OPT_TS, p[n++] = 10;
            store_be32(p + n, o->v1), store_be32(p + n + 4, o->v2), n += 8;
            break;
        case TCP_OPT_SACK:
            p[n++] = TCP_OPT_SACK, p[n++] = (uint8_t)(2 + 8 * o->nsack);
            for (unsigned b = 0; b < o->nsack; b++, n += 8) {
                store_be32(p + n, isn->lisn + o->sack[b][0]);
                store_be32(p + n + 4, isn->lisn + o->sack[b][1]);
            }
            break;
        }
    }
    while (n % 4)
        p[n++] = TCP_OPT_EOL;
    return n;
}

size_t tsr_build_frame(uint8_t *f, const struct tsr_seg *s,
                       const struct tsr_isn *isn)
{
    uint8_t *seg = f + ETH_HLEN + IPV4_HLEN;
    size_t hl = TCP_HLEN + tsr_put_opts(s, isn, seg + TCP_HLEN);
    if (ETH_HLEN + IPV4_HLEN + hl + s->len > TSR_FRAME_MAX)
        return 0;
    store_be16(seg, isn->rport);
    store_be16(seg + 2, isn->lport);
    store_be32(seg + 4, isn->risn + s->seq);
    store_be32(seg + 8, s->has_ack ? isn->lisn + s->ack : 0);
    seg[12] = (uint8_t)(hl / 4 << 4);
    seg[13] = s->flags;
    store_be16(seg + 14, (uint16_t)(s->has_win ? s->win : 65535));
    store_be16(seg + 16, 0);
    store_be16(seg + 18, s->urg);
    uint32_t first = s->seq + !!(s->flags & TCP_SYN);
    for (uint32_t i = 0; i < s->len; i++)
        seg[hl + i] = (uint8_t)(first + i);
    size_t n = hl + s->len;
    uint32_t src = s->src ? s->src : TSR_PEER_IP;
    uint32_t dst = s->dst ? s->dst : TSR_MY_IP;
    store_be16(seg + 16, cksum_pseudo(src, dst, IPV4_PROTO_TCP, seg, n) ^
                             (s->badsum ? 0x5a5a : 0));
    struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
    memcpy(eh.dst, tsr_my_mac, 6);
    memcpy(eh.src, tsr_peer_mac, 6);
    eth_emit(&eh, f);
    struct ipv4_hdr ih = { .hlen = IPV4_HLEN,
                           .total_len = (uint16_t)(IPV4_HLEN + n), .id = 1,
                           .frag = IPV4_DF, .ttl = 64,
                           .proto = IPV4_PROTO_TCP, .src = src,
                           .dst = dst };
    ipv4_emit(&ih, f + ETH_HLEN);
    return ETH_HLEN + IPV4_HLEN + n;
}

int tsr_decode_frame(const uint8_t *f, size_t len, struct tsr_sent *out,
                     char *err, size_t errlen)
{
    struct eth_hdr eh;
    struct ipv4_hdr ih;
    struct tcp_hdr th;
    if (eth_parse(f, len, &eh) < 0)
        return snprintf(err, errlen, "runt frame"), -1;
    if (eh.type == ETH_TYPE_ARP)
        return 0;
    const uint8_t *ip = f + ETH_HLEN;
    if (eh.type != ETH_TYPE_IPV4 || ipv4_parse(ip, len - ETH_HLEN, &ih) < 0)
        return snprintf(err, errlen, "not a valid IPv4 frame"), -1;
    if (ih.proto != IPV4_PROTO_TCP || ih.src != TSR_MY_IP ||
        ih.dst != TSR_PEER_IP)
        return snprintf(err, errlen, "IPv4 proto %u, not TCP to the peer",
                        ih.proto), -1;
    const uint8_t *p = ip + ih.hlen;
    size_t n = ih.total_len - ih.hlen;
    if (tcp_parse(p, n, &th) != TCP_OK || th.opts.malformed)
        return snprintf(err, errlen, "TCP header does not parse"), -1;
    if (cksum_pseudo(ih.src, ih.dst, IPV4_PROTO_TCP, p, n) != 0)
        return snprintf(err, errlen, "TCP checksum wrong"), -1;
    memset(out, 0, sizeof *out);
    out->sport = th.sport, out->dport = th.dport;
    out->seq = th.seq, out->ack = th.ack;
    out->flags = th.flags, out->wnd = th.wnd, out->urp = th.urp;
    out->len = (uint32_t)(n - th.hlen);
    out->data = p + th.hlen;
    out->optlen = th.hlen - TCP_HLEN;
    memcpy(out->optbuf, p + TCP_HLEN, out->optlen);
    out->opts = th.opts;
    return 1;
}

/* ---- comparison ---------------------------------------------------------- */

static int tsr_why(char *why, size_t len, const char *what, uint32_t want,
                   uint32_t got)
{
    snprintf(why, len, "%s: expected %u, got %u", what, want, got);
    return 0;
}

/* Does the sent option set carry kind (NOP and EOL are layout only)? */
static int tsr_has(const struct tcp_opts *o, uint8_t kind)
{
    switch (kind) {
    case TCP_OPT_MSS: return o->has_mss;
    case TCP_OPT_WS: return o->has_ws;
    case TCP_OPT_SACK_OK: return o->sack_ok;
    case TCP_OPT_TS: return o->has_ts;
    case TCP_OPT_SACK: return o->nsack > 0;
    default: return 1;
    }
}

static int tsr_opt_match(const struct tsr_opt *w, const struct tcp_opts *o,
                         uint32_t risn, char *why, size_t len)
{
    if (w->any)
        return 1;
    switch (w->kind) {
    case TCP_OPT_MSS:
        return o->mss == w->v1 ? 1 : tsr_why(why, len, "mss", w->v1, o->mss);
    case TCP_OPT_WS:
        return o->ws == w->v1 ? 1 : tsr_why(why, len, "wscale", w->v1, o->ws);
    case TCP_OPT_TS:
        return o->tsval == w->v1 && o->tsecr == w->v2
                   ? 1 : tsr_why(why, len, "TS val", w->v1, o->tsval);
    case TCP_OPT_SACK:
        if (o->nsack != w->nsack)
            return tsr_why(why, len, "SACK blocks", w->nsack, o->nsack);
        for (unsigned i = 0; i < w->nsack; i++)
            for (unsigned e = 0; e < 2; e++)
                if (o->sack[i][e] - risn != w->sack[i][e])
                    return tsr_why(why, len, "SACK edge", w->sack[i][e],
                                   o->sack[i][e] - risn);
        return 1;
    default:
        return 1;
    }
}

static int tsr_opts_match(const struct tsr_seg *w, const struct tcp_opts *o,
                          uint32_t risn, char *why, size_t len)
{
    static const uint8_t kinds[] = { TCP_OPT_MSS, TCP_OPT_WS, TCP_OPT_SACK_OK,
                                     TCP_OPT_TS, TCP_OPT_SACK };
    static const char *const names[] = { "mss", "wscale", "sackOK", "TS",
                                         "sack" };
    if (!w->has_opts || w->opts_any)
        return 1;
    for (unsigned k = 0; k < sizeof kinds; k++) {
        const struct tsr_opt *want = NULL;
        for (unsigned i = 0; i < w->nopts; i++)
            if (w->opts[i].kind == kinds[k])
                want = &w->opts[i];
        if (!want != !tsr_has(o, kinds[k])) {
            snprintf(why, len, "option %s %s", names[k],
                     want ? "missing" : "not expected");
            return 0;
        }
        if (want && !tsr_opt_match(want, o, risn, why, len))
            return 0;
    }
    return 1;
}

int tsr_seg_match(const struct tsr_seg *w, const struct tsr_sent *g,
                  const struct tsr_isn *isn, char *why, size_t len)
{
    if (g->sport != isn->lport || g->dport != isn->rport) {
        snprintf(why, len, "ports %u > %u, expected %u > %u", g->sport,
                 g->dport, isn->lport, isn->rport);
        return 0;
    }
    if (!w->flags_any && g->flags != w->flags)
        return tsr_why(why, len, "flags", w->flags, g->flags);
    uint32_t rseq = g->seq - isn->lisn;
    if (!w->seq_any && rseq != w->seq)
        return tsr_why(why, len, "seq", w->seq, rseq);
    if (!w->seq_any && g->len != w->len)
        return tsr_why(why, len, "length", w->len, g->len);
    for (uint32_t i = 0; i < g->len; i++)
        if (g->data[i] != (uint8_t)(rseq + i))
            return tsr_why(why, len, "payload byte at offset", i, g->data[i]);
    if (w->has_ack && !w->ack_any && g->ack - isn->risn != w->ack)
        return tsr_why(why, len, "ack", w->ack, g->ack - isn->risn);
    if (w->has_win && !w->win_any && g->wnd != w->win)
        return tsr_why(why, len, "win", w->win, g->wnd);
    return tsr_opts_match(w, &g->opts, isn->risn, why, len);
}

/* ---- rendering ------------------------------------------------------------ */

static size_t tsr_fmt_opts(const struct tsr_sent *g, const struct tsr_isn *isn,
                           char *b, size_t len)
{
    size_t n = 0;
    const uint8_t *p = g->optbuf;
    for (size_t i = 0; i < g->optlen && n < len;) {
        const char *sep = n ? "," : "";
        uint8_t k = p[i], l = k <= TCP_OPT_NOP ? 1 : p[i + 1];
        if (k == TCP_OPT_EOL)
            n += (size_t)snprintf(b + n, len - n, "%seol", sep);
        else if (k == TCP_OPT_NOP)
            n += (size_t)snprintf(b + n, len - n, "%snop", sep);
        else if (k == TCP_OPT_MSS && l == 4)
            n += (size_t)snprintf(b + n, len - n, "%smss %u", sep, load_be16(p + i + 2));
        else if (k == TCP_OPT_WS && l == 3)
            n += (size_t)snprintf(b + n, len - n, "%swscale %u", sep, p[i + 2]);
        else if (k == TCP_OPT_SACK_OK)
            n += (size_t)snprintf(b + n, len - n, "%ssackOK", sep);
        else if (k == TCP_OPT_TS && l == 10)
            n += (size_t)snprintf(b + n, len - n, "%sTS val %u ecr %u", sep,
                                  load_be32(p + i + 2), load_be32(p + i + 6));
        else if (k == TCP_OPT_SACK) {
            n += (size_t)snprintf(b + n, len - n, "%ssack", sep);
            for (unsigned j = 2; j + 8 <= l && n < len; j += 8)
                n += (size_t)snprintf(b + n, len - n, " %u:%u",
                                      load_be32(p + i + j) - isn->risn,
                                      load_be32(p + i + j + 4) - isn->risn);
        } else
            n += (size_t)snprintf(b + n, len - n, "%skind%u", sep, k);
        if (k == TCP_OPT_EOL || l < 1)
            break;
        i += l;
    }
    return n;
}

void tsr_sent_format(const struct tsr_sent *g, const struct tsr_isn *isn,
                     char *buf, size_t len)
{
    static const char letters[] = "FSRP.UEW";
    char flags[9];
    size_t f = 0;
    for (unsigned i = 0; i < 8; i++)
        if (g->flags & (1u << i))
            flags[f++] = letters[i];
    flags[f] = 0;
    uint32_t seq = g->seq - isn->lisn;
    size_t n = (size_t)snprintf(buf, len, "> %s %u:%u(%u)", flags, seq,
                                seq + g->len, g->len);
    if (g->flags & TCP_ACK)
        n += (size_t)snprintf(buf + n, len - n, " ack %u", g->ack - isn->risn);
    n += (size_t)snprintf(buf + n, len - n, " win %u", g->wnd);
    if (g->flags & TCP_URG)
        n += (size_t)snprintf(buf + n, len - n, " urg %u", g->urp);
    if (g->optlen && n + 3 < len) {
        n += (size_t)snprintf(buf + n, len - n, " <");
        n += tsr_fmt_opts(g, isn, buf + n, len - n);
        if (n + 2 < len)
            snprintf(buf + n, len - n, ">");
    }
}
