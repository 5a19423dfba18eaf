/* tcp/tcp_wire.c - the TCP header and its options (RFC 9293 §3.1, RFC 7323,
 * RFC 2018): parse received bytes into struct tcp_hdr, emit one into bytes,
 * and the checksum over the IPv4 pseudo-header.
 *
 * Parsing reads nothing it has not first proved to be inside the header; the
 * option walk advances by at least one byte per step and stops at the first
 * length it cannot trust, so it ends on any input. Emitting lays options out
 * the way Linux does, so every 4-byte field lands 4-byte aligned and traces
 * look familiar next to a kernel's.
 * Entry points: tcp_parse, tcp_emit, tcp_opts_len, tcp_cksum.
 */
#include "tcp/tcp_wire.h"

#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "ipv4/ipv4_wire.h"

#define TCP_OPTS_MAX (TCP_HLEN_MAX - TCP_HLEN)  /* 40 bytes of options */

/* Option lengths on the wire, kind and length bytes included. */
#define TCP_OLEN_MSS 4
#define TCP_OLEN_WS 3
#define TCP_OLEN_SACK_OK 2
#define TCP_OLEN_SACK_BASE 2    /* + 8 per block */
#define TCP_OLEN_TS 10

/* ---- parse ------------------------------------------------------------ */

/* SACK blocks: anything but 1..4 whole blocks is ignored, since a partial
 * edge pair cannot be trusted and a peer sending it is confused. */
static void tcp_opt_sack(const uint8_t *v, size_t vlen, struct tcp_opts *o)
{
    size_t n = vlen / 8;
    if (vlen % 8 != 0 || n < 1 || n > TCP_SACK_MAX)
        return;
    for (size_t i = 0; i < n; i++) {
        o->sack[i][0] = load_be32(v + 8 * i);
        o->sack[i][1] = load_be32(v + 8 * i + 4);
    }
    o->nsack = (uint8_t)n;
}

/* Record one option whose vlen value bytes at v are inside the header.
 * A known kind with the wrong length is ignored rather than treated as
 * malformed: its length byte was sane, so the walk can safely go on, and
 * the rest of the options may still be good. A repeated option overwrites
 * the earlier one (as Linux does). */
static void tcp_opt_apply(uint8_t kind, const uint8_t *v, size_t vlen,
                          struct tcp_opts *o)
{
    switch (kind) {
    case TCP_OPT_MSS:
        if (vlen == TCP_OLEN_MSS - 2) {
            o->has_mss = 1;
            o->mss = load_be16(v);     /* 0 reported as is; caller clamps */
        }
        break;
    case TCP_OPT_WS:
        if (vlen == TCP_OLEN_WS - 2) {
            o->has_ws = 1;
            o->ws = v[0];       /* > 14 as sent; RFC 7323 §2.3 clamps */
        }
        break;
    case TCP_OPT_SACK_OK:
        if (vlen == TCP_OLEN_SACK_OK - 2)
            o->sack_ok = 1;
        break;
    case TCP_OPT_SACK:
        tcp_opt_sack(v, vlen, o);
        break;
    case TCP_OPT_TS:
        if (vlen == TCP_OLEN_TS - 2) {
            o->has_ts = 1;
            o->tsval = load_be32(v);
            o->tsecr = load_be32(v + 4);
        }
        break;
    default:
        break;                          /* unknown: skipped by its length */
    }
}

/* Walk the n option bytes at p. Every step consumes at least one byte (a NOP)
 * or a length >= 2 checked to end inside the header, so the loop ends and
 * never reads past p + n. */
static void tcp_opts_walk(const uint8_t *p, size_t n, struct tcp_opts *o)
{
    size_t i = 0;
    while (i < n) {
        uint8_t kind = p[i];
        if (kind == TCP_OPT_EOL)
            return;                     /* what follows is padding */
        if (kind == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (n - i < 2) {                /* kind is the last header byte */
            o->malformed = 1;
            return;
        }
        size_t olen = p[i + 1];
        if (olen < 2 || olen > n - i) { /* would loop, or past the end */
            o->malformed = 1;
            return;
        }
        tcp_opt_apply(kind, p + i + 2, olen - 2, o);
        i += olen;
    }
}

/* On error *h is left untouched: nothing of a rejected segment is trusted. */
int tcp_parse(const uint8_t *b, size_t len, struct tcp_hdr *h)
{
    if (len < TCP_HLEN)
        return TCP_ERR_TRUNCATED;
    size_t hlen = (size_t)(b[12] >> 4) * 4;
    if (hlen < TCP_HLEN || hlen > len)
        return TCP_ERR_OFFSET;
    h->sport = load_be16(b);
    h->dport = load_be16(b + 2);
    h->seq = load_be32(b + 4);
    h->ack = load_be32(b + 8);
    h->hlen = (uint8_t)hlen;
    h->flags = b[13];           /* the reserved bits of b[12] are ignored */
    h->wnd = load_be16(b + 14);
    h->urp = load_be16(b + 18);
    memset(&h->opts, 0, sizeof h->opts);
    tcp_opts_walk(b + TCP_HLEN, hlen - TCP_HLEN, &h->opts);
    return TCP_OK;
}

/* ---- emit ------------------------------------------------------------- */

/* Bytes of every option but the SACK blocks, laid out as tcp_emit_opts()
 * does: at most 4 (MSS) + 12 (SACK_OK+TS) + 4 (WS) = 20, so these always
 * fit. */
static size_t tcp_opts_base_len(const struct tcp_opts *o)
{
    size_t n = 0;
    if (o->has_mss)
        n += 4;
    if (o->has_ts)
        n += 12;                        /* SACK_OK+TS, or NOP NOP TS */
    else if (o->sack_ok)
        n += 4;                         /* NOP NOP SACK_OK */
    if (o->has_ws)
        n += 4;                         /* NOP WS */
    return n;
}

/* SACK blocks that fit after the other options. When they do not all fit,
 * the last ones are dropped: RFC 2018 §4 puts the most recent block first
 * and the others in decreasing order of news, so the tail matters least.
 * (With timestamps, 3 fit; with everything of a SYN as well, 2.) */
static unsigned tcp_sack_fit(const struct tcp_opts *o)
{
    unsigned n = o->nsack > TCP_SACK_MAX ? TCP_SACK_MAX : o->nsack;
    size_t base = tcp_opts_base_len(o);
    while (n > 0 && base + 4 + 8 * (size_t)n > TCP_OPTS_MAX)
        n--;
    return n;
}

size_t tcp_opts_len(const struct tcp_opts *o)
{
    unsigned n = tcp_sack_fit(o);
    return tcp_opts_base_len(o) + (n ? 4 + 8 * (size_t)n : 0);
}

static uint8_t *tcp_put_nops(uint8_t *p, unsigned n)
{
    while (n--)
        *p++ = TCP_OPT_NOP;
    return p;
}

static uint8_t *tcp_put_ts(uint8_t *p, const struct tcp_opts *o)
{
    p[0] = TCP_OPT_TS;
    p[1] = TCP_OLEN_TS;
    store_be32(p + 2, o->tsval);
    store_be32(p + 6, o->tsecr);
    return p + TCP_OLEN_TS;
}

static uint8_t *tcp_put_sack(uint8_t *p, const struct tcp_opts *o, unsigned n)
{
    p = tcp_put_nops(p, 2);
    p[0] = TCP_OPT_SACK;
    p[1] = (uint8_t)(TCP_OLEN_SACK_BASE + 8 * n);
    p += 2;
    for (unsigned i = 0; i < n; i++, p += 8) {
        store_be32(p, o->sack[i][0]);
        store_be32(p + 4, o->sack[i][1]);
    }
    return p;
}

/* The fixed order and NOP padding of Linux's tcp_options_write(): each
 * 4-byte field starts on a 4-byte boundary of the header. Writes exactly
 * tcp_opts_len(o) bytes; returns the end. */
static uint8_t *tcp_emit_opts(const struct tcp_opts *o, uint8_t *p)
{
    if (o->has_mss) {
        p[0] = TCP_OPT_MSS;
        p[1] = TCP_OLEN_MSS;
        store_be16(p + 2, o->mss);
        p += TCP_OLEN_MSS;
    }
    if (o->has_ts) {
        if (o->sack_ok) {               /* SACK_OK takes the place of 2 NOPs */
            p[0] = TCP_OPT_SACK_OK;
            p[1] = TCP_OLEN_SACK_OK;
            p += TCP_OLEN_SACK_OK;
        } else {
            p = tcp_put_nops(p, 2);
        }
        p = tcp_put_ts(p, o);
    } else if (o->sack_ok) {
        p = tcp_put_nops(p, 2);
        p[0] = TCP_OPT_SACK_OK;
        p[1] = TCP_OLEN_SACK_OK;
        p += TCP_OLEN_SACK_OK;
    }
    if (o->has_ws) {
        p = tcp_put_nops(p, 1);
        p[0] = TCP_OPT_WS;
        p[1] = TCP_OLEN_WS;
        p[2] = o->ws;
        p += TCP_OLEN_WS;
    }
    unsigned n = tcp_sack_fit(o);
    if (n > 0)
        p = tcp_put_sack(p, o, n);
    return p;
}

size_t tcp_emit(const struct tcp_hdr *h, uint8_t *b)
{
    size_t hlen = TCP_HLEN + tcp_opts_len(&h->opts);
    store_be16(b, h->sport);
    store_be16(b + 2, h->dport);
    store_be32(b + 4, h->seq);
    store_be32(b + 8, h->ack);
    b[12] = (uint8_t)(hlen / 4 << 4);   /* data offset; reserved bits 0 */
    b[13] = h->flags;
    store_be16(b + 14, h->wnd);
    store_be16(b + 16, 0);              /* checksum: tcp_cksum() after data */
    store_be16(b + 18, h->urp);
    tcp_emit_opts(&h->opts, b + TCP_HLEN);
    return hlen;
}

/* ---- checksum --------------------------------------------------------- */

/* The TCP length field of the pseudo-header is 16 bits; a segment inside
 * an IPv4 datagram always fits. */
uint16_t tcp_cksum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
    return cksum_pseudo(src, dst, IPV4_PROTO_TCP, seg, len);
}
