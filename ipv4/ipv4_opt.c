/* ipv4/ipv4_opt.c - check IPv4 options; build an echo reply's options.
 *
 * Every octet is read only after the walk has proved it lies inside the
 * header. Offsets are the header's, so an error's offset is directly the
 * pointer of ICMP Parameter Problem (RFC 792).
 */
#include "ipv4/ipv4_opt.h"

#include <string.h>

#include "core/bytes.h"
#include "ipv4/ipv4_wire.h"

/* Record Route, LSRR, SSRR: type, length, pointer, then whole addresses;
 * the pointer (1-based, from the option's type octet) names the next free
 * slot, or one past the end once the route is full or completed. 0, or the
 * offset within the option of the octet at fault. */
static unsigned ipv4_opt_route_bad(const uint8_t *op, unsigned len)
{
    if (len < 3 || (len - 3) % 4 != 0)
        return 1;
    unsigned p = op[2];
    if (p < 4 || (p - 4) % 4 != 0 || p > len + 1)
        return 2;
    return 0;
}

/* Timestamp: type, length, pointer, overflow/flag, then slots of 4
 * (timestamps) or 8 (address and timestamp) octets; the pointer counts
 * from 1 like a route's, its smallest legal value being 5. */
static unsigned ipv4_opt_ts_bad(const uint8_t *op, unsigned len)
{
    if (len < 4)
        return 1;
    unsigned flag = op[3] & 0x0f;
    if (flag != IPV4_TS_ONLY && flag != IPV4_TS_ADDR && flag != IPV4_TS_PRESPEC)
        return 3;
    unsigned slot = flag == IPV4_TS_ONLY ? 4 : 8;
    if ((len - 4) % slot != 0)
        return 1;
    unsigned p = op[2];
    if (p < 5 || (p - 5) % slot != 0 || p > len + 1)
        return 2;
    return 0;
}

/* One option of len octets at hdr + i, whose length octet is known good:
 * check the ones we act on, note where they are. */
static int ipv4_opt_one(const uint8_t *hdr, unsigned i, unsigned len,
                        struct ipv4_opts *o, uint8_t *bad)
{
    const uint8_t *op = hdr + i;
    unsigned at;
    switch (op[0]) {
    case IPV4_OPT_RR:
        at = o->rr ? 1 : ipv4_opt_route_bad(op, len);   /* repeated: its length */
        if (at) {
            *bad = (uint8_t)(i + at);
            return IPV4_OPT_ERR_RR;
        }
        o->rr = (uint8_t)i;
        return IPV4_OPT_OK;
    case IPV4_OPT_LSRR:
    case IPV4_OPT_SSRR:
        at = o->srr ? 1 : ipv4_opt_route_bad(op, len);
        if (at) {
            *bad = (uint8_t)(i + at);
            return IPV4_OPT_ERR_SRR;
        }
        o->srr = (uint8_t)i;
        o->srr_done = op[2] > len;
        return IPV4_OPT_OK;
    case IPV4_OPT_TS:
        at = o->ts ? 1 : ipv4_opt_ts_bad(op, len);
        if (at) {
            *bad = (uint8_t)(i + at);
            return IPV4_OPT_ERR_TS;
        }
        o->ts = (uint8_t)i;
        return IPV4_OPT_OK;
    default:
        return IPV4_OPT_OK;         /* well-formed and unknown: skipped */
    }
}

int ipv4_opts_parse(const uint8_t *hdr, size_t hlen, struct ipv4_opts *o,
                    uint8_t *bad)
{
    memset(o, 0, sizeof *o);
    *bad = 0;
    if (hlen > IPV4_HLEN_MAX)
        hlen = IPV4_HLEN_MAX;       /* ipv4_parse never gives more */
    unsigned i = IPV4_HLEN;
    while (i < hlen) {
        uint8_t type = hdr[i];
        if (type == IPV4_OPT_EOL)
            break;
        if (type == IPV4_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= hlen) {        /* no room for the length octet */
            *bad = (uint8_t)i;
            return IPV4_OPT_ERR_LEN;
        }
        unsigned len = hdr[i + 1];
        if (len < 2 || i + len > hlen) {
            *bad = (uint8_t)(i + 1);
            return IPV4_OPT_ERR_LEN;
        }
        int rc = ipv4_opt_one(hdr, i, len, o, bad);
        if (rc != IPV4_OPT_OK)
            return rc;
        i += len;
    }
    return IPV4_OPT_OK;
}

/* Record Route in a reply (RFC 791): our address in the next slot if one
 * is left; a full route goes back as it came. */
static void ipv4_opt_rr_add(uint8_t *op, uint32_t self)
{
    unsigned len = op[1], p = op[2];
    if (p + 3 > len)
        return;
    store_be32(op + p - 1, self);
    op[2] = (uint8_t)(p + 4);
}

/* Timestamp in a reply (RFC 791): our timestamp (flag 0), our address and
 * timestamp (flag 1), or the timestamp in the slot prespecified for us
 * (flag 3). No room: the overflow count goes up (saturating at 15). */
static void ipv4_opt_ts_add(uint8_t *op, uint32_t self, uint32_t ts)
{
    unsigned len = op[1], p = op[2], flag = op[3] & 0x0f;
    unsigned slot = flag == IPV4_TS_ONLY ? 4 : 8;
    if (p + slot - 1 > len) {
        if ((op[3] >> 4) < 15)
            op[3] = (uint8_t)(op[3] + 0x10);
        return;
    }
    if (flag == IPV4_TS_ONLY) {
        store_be32(op + p - 1, ts);
    } else if (flag == IPV4_TS_ADDR) {
        store_be32(op + p - 1, self);
        store_be32(op + p + 3, ts);
    } else if (load_be32(op + p - 1) == self) {
        store_be32(op + p + 3, ts);
    } else {
        return;                     /* the next slot is another host's */
    }
    op[2] = (uint8_t)(p + slot);
}

/* The return route of a completed source route {G1, ..., Gn}: the reply
 * goes first to Gn, then Gn-1 ... G1 and last the peer, pointer at the
 * first address (RFC 1122 §3.2.1.8). A G1 that is the peer itself (a
 * sender that put itself in the route) is not repeated. Returns the
 * option's length, 0 when the route is empty. */
static size_t ipv4_opt_srr_reverse(const uint8_t *op, uint32_t peer,
                                   uint8_t *out, uint32_t *dst)
{
    unsigned n = (op[1] - 3u) / 4;
    if (n == 0)
        return 0;
    *dst = load_be32(op + 3 + 4 * (n - 1));
    size_t k = 3;
    for (unsigned j = n - 1; j-- > 0;) {
        uint32_t a = load_be32(op + 3 + 4 * j);
        if (j == 0 && a == peer)
            continue;
        store_be32(out + k, a);
        k += 4;
    }
    store_be32(out + k, peer);
    k += 4;
    out[0] = op[0];
    out[1] = (uint8_t)k;
    out[2] = 4;
    return k;
}

size_t ipv4_opts_echo(const uint8_t *hdr, const struct ipv4_opts *o,
                      uint32_t self, uint32_t peer, uint32_t ts, uint8_t *out,
                      uint32_t *dst)
{
    size_t n = 0;
    *dst = peer;
    /* Each part is no longer than in the request, whose options all fit
     * in IPV4_OPTS_MAX, so the sum does too. */
    if (o->srr && o->srr_done)
        n += ipv4_opt_srr_reverse(hdr + o->srr, peer, out + n, dst);
    if (o->rr) {
        memcpy(out + n, hdr + o->rr, hdr[o->rr + 1]);
        ipv4_opt_rr_add(out + n, self);
        n += hdr[o->rr + 1];
    }
    if (o->ts) {
        memcpy(out + n, hdr + o->ts, hdr[o->ts + 1]);
        ipv4_opt_ts_add(out + n, self, ts);
        n += hdr[o->ts + 1];
    }
    while (n % 4 != 0)
        out[n++] = IPV4_OPT_EOL;
    return n;
}

size_t ipv4_opts_copied(const uint8_t *opts, size_t len, uint8_t *out)
{
    size_t i = 0, n = 0;
    if (len > IPV4_OPTS_MAX)
        len = IPV4_OPTS_MAX;
    while (i < len && opts[i] != IPV4_OPT_EOL) {
        size_t olen = opts[i] == IPV4_OPT_NOP ? 1 :
                      i + 1 < len ? opts[i + 1] : 0;
        if (olen == 0 || (opts[i] != IPV4_OPT_NOP && olen < 2) ||
            i + olen > len)
            break;                  /* malformed: keep what came before */
        if (opts[i] & IPV4_OPT_COPIED) {
            memcpy(out + n, opts + i, olen);
            n += olen;
        }
        i += olen;
    }
    while (n % 4 != 0)
        out[n++] = IPV4_OPT_EOL;
    return n;
}
