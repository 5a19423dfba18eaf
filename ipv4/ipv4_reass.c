/* ipv4/ipv4_reass.c - bounded IPv4 fragment reassembly (RFC 791 §3.2, RFC 815).
 *
 * Owns the IPV4_REASS_SLOTS datagrams in progress: their large pool buffers,
 * their 8-byte-block bitmaps and the saved first-fragment headers. Instead of
 * RFC 815's hole list we keep a bitmap, because we reject overlaps outright
 * (RFC 5722 reasoning, applied to IPv4): with no overlap allowed, a bitmap
 * answers "is any of this range already here" and the received byte count is
 * exact, so completion is `received == total`.
 * Entry points: ipv4_reass_init, ipv4_reass_destroy, ipv4_reass_input,
 * ipv4_reass_poll, ipv4_reass_next_deadline.
 */
#include "ipv4/ipv4_reass.h"

#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "core/clock.h"

/* Payload offset 0 sits here in a slot's buffer: the rebuilt header (at most
 * 60 bytes) fits in front of it and PBUF_HEADROOM still remains before that. */
#define IPV4_REASS_DATA_OFF (PBUF_HEADROOM + IPV4_HLEN_MAX)
/* Largest payload any fragment may reach: 65,535 minus the smallest header. */
#define IPV4_REASS_DATA_MAX (IPV4_MAX_LEN - IPV4_HLEN)
#define IPV4_REASS_QUOTE_DATA 8 /* payload bytes quoted by ICMP (RFC 792) */

_Static_assert(IPV4_REASS_DATA_OFF + IPV4_REASS_DATA_MAX <= PBUF_LARGE_CAP,
               "a whole datagram and its headroom must fit a large pbuf");
_Static_assert(IPV4_REASS_DATA_MAX <= IPV4_REASS_BLOCKS * 8u,
               "the bitmap must cover the largest payload");

/* One fragment, its lengths checked against its buffer. */
struct ipv4_reass_frag {
    const uint8_t *data;    /* payload */
    uint32_t off, len, end; /* payload range [off, end) in the datagram */
    int last;               /* MF clear */
};

enum ipv4_reass_place {
    IPV4_REASS_NEW,         /* data copied in */
    IPV4_REASS_DUP,         /* identical data already there */
    IPV4_REASS_OVERLAP,     /* some of the range held other or partial data */
};

void ipv4_reass_init(struct ipv4_reass *r, struct pbuf_pool *pool)
{
    memset(r, 0, sizeof *r);
    r->pool = pool;
}

/* Give up a datagram: its buffer back to the pool, its slot free. */
static void ipv4_reass_drop(struct ipv4_reass_slot *s)
{
    pbuf_free(s->buf);
    s->buf = NULL;
}

void ipv4_reass_destroy(struct ipv4_reass *r)
{
    for (unsigned i = 0; i < IPV4_REASS_SLOTS; i++)
        if (r->slot[i].buf)
            ipv4_reass_drop(&r->slot[i]);
}

/* RFC 791: fragments belong together when source, destination, protocol and
 * identification all match. */
static struct ipv4_reass_slot *ipv4_reass_find(struct ipv4_reass *r,
                                               const struct ipv4_hdr *h)
{
    for (unsigned i = 0; i < IPV4_REASS_SLOTS; i++) {
        struct ipv4_reass_slot *s = &r->slot[i];
        if (s->buf && s->src == h->src && s->dst == h->dst &&
            s->id == h->id && s->proto == h->proto)
            return s;
    }
    return NULL;
}

/* A free slot, evicting the oldest datagram when every slot is busy, so
 * memory stays bounded whatever a flood of fragments carries. */
static struct ipv4_reass_slot *ipv4_reass_take_slot(struct ipv4_reass *r)
{
    struct ipv4_reass_slot *oldest = NULL;
    for (unsigned i = 0; i < IPV4_REASS_SLOTS; i++) {
        struct ipv4_reass_slot *s = &r->slot[i];
        if (!s->buf)
            return s;
        if (!oldest || s->started < oldest->started)
            oldest = s;
    }
    r->stats.evicted++;
    ipv4_reass_drop(oldest);
    return oldest;
}

static struct ipv4_reass_slot *ipv4_reass_open(struct ipv4_reass *r,
                                               const struct ipv4_hdr *h,
                                               uint64_t now)
{
    struct ipv4_reass_slot *s = ipv4_reass_take_slot(r);
    struct pbuf *pb = pbuf_alloc(r->pool, IPV4_REASS_DATA_OFF,
                                 IPV4_REASS_DATA_MAX);
    if (!pb) {
        r->stats.no_buffer++;
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->buf = pb;
    s->src = h->src;
    s->dst = h->dst;
    s->id = h->id;
    s->proto = h->proto;
    s->started = now;
    return s;
}

/* Checks that need only the fragment itself. Never trusts h against pb: the
 * lengths must describe bytes that are really there, and the header bytes
 * must say the same header length (they become the rebuilt header). */
static int ipv4_reass_frag_init(struct ipv4_reass *r, const struct pbuf *pb,
                                const struct ipv4_hdr *h,
                                struct ipv4_reass_frag *f)
{
    if (h->hlen < IPV4_HLEN || h->hlen > IPV4_HLEN_MAX ||
        h->total_len < h->hlen || h->total_len > pb->len ||
        pb->data[0] >> 4 != 4 || (size_t)(pb->data[0] & 0x0f) * 4 != h->hlen) {
        r->stats.bad_len++;
        return -1;
    }
    f->data = pb->data + h->hlen;
    f->off = ipv4_frag_offset(h);
    f->len = (uint32_t)h->total_len - h->hlen;
    f->end = f->off + f->len;
    f->last = !(h->frag & IPV4_MF);
    if (f->end + h->hlen > IPV4_MAX_LEN) {
        /* Ping of death: whatever was gathered under this key is poison. */
        r->stats.too_big++;
        struct ipv4_reass_slot *s = ipv4_reass_find(r, h);
        if (s)
            ipv4_reass_drop(s);
        return -1;
    }
    /* RFC 791: every fragment but the last carries a multiple of 8 bytes. */
    if (!f->last && (f->len == 0 || f->len % 8 != 0)) {
        r->stats.bad_len++;
        return -1;
    }
    return 0;
}

/* Does this fragment agree with the datagram's end as known so far? */
static int ipv4_reass_end_ok(const struct ipv4_reass_slot *s,
                             const struct ipv4_reass_frag *f)
{
    if (s->have_last && f->end > s->total)
        return 0;
    if (f->last && s->have_last && f->end != s->total)
        return 0;
    if (f->last && s->high > f->end)
        return 0;
    return 1;
}

static int ipv4_reass_bit(const struct ipv4_reass_slot *s, uint32_t b)
{
    return s->map[b / 8] >> (b % 8) & 1;
}

/* Copy the fragment in unless its blocks are already (partly) held. A set
 * block is always complete: only the last fragment may end mid-block, and
 * every other fragment covering that block would run past the total. */
static enum ipv4_reass_place ipv4_reass_place(struct ipv4_reass_slot *s,
                                              const struct ipv4_reass_frag *f)
{
    if (f->len == 0)    /* an empty last fragment: it only sets the end */
        return s->have_last ? IPV4_REASS_DUP : IPV4_REASS_NEW;
    uint32_t first = f->off / 8, lastb = (f->end - 1) / 8, held = 0;
    for (uint32_t b = first; b <= lastb; b++)
        held += (uint32_t)ipv4_reass_bit(s, b);
    uint8_t *dst = s->buf->data + f->off;
    if (held == lastb - first + 1 && memcmp(dst, f->data, f->len) == 0)
        return IPV4_REASS_DUP;
    if (held != 0)
        return IPV4_REASS_OVERLAP;
    memcpy(dst, f->data, f->len);
    for (uint32_t b = first; b <= lastb; b++)
        s->map[b / 8] |= (uint8_t)(1u << (b % 8));
    return IPV4_REASS_NEW;
}

/* Fragment 0's header is the template of the rebuilt one (RFC 791: options
 * not copied into later fragments live only there), and with 8 payload bytes
 * it is what ICMP time exceeded quotes. */
static void ipv4_reass_save_first(struct ipv4_reass_slot *s,
                                  const struct pbuf *pb,
                                  const struct ipv4_hdr *h,
                                  const struct ipv4_reass_frag *f)
{
    uint32_t q = f->len < IPV4_REASS_QUOTE_DATA ? f->len
                                                : IPV4_REASS_QUOTE_DATA;
    memcpy(s->hdr, pb->data, h->hlen + q);
    s->hdr_len = h->hlen;
    s->quote_len = (uint8_t)(h->hlen + q);
    s->have_first = 1;
}

/* Build the whole datagram's header in front of its data and hand the
 * buffer over; the slot becomes free without freeing the buffer. */
static struct pbuf *ipv4_reass_finish(struct ipv4_reass *r,
                                      struct ipv4_reass_slot *s,
                                      struct ipv4_hdr *out_h)
{
    struct pbuf *pb = s->buf;
    s->buf = NULL;
    uint8_t *ip = pb->data - s->hdr_len;
    memcpy(ip, s->hdr, s->hdr_len);
    store_be16(ip + 2, (uint16_t)(s->hdr_len + s->total));
    /* MF and offset describe the whole now; DF stays as the sender set it. */
    store_be16(ip + 6, (uint16_t)(load_be16(ip + 6) & IPV4_DF));
    store_be16(ip + 10, 0);
    store_be16(ip + 10, inet_cksum(ip, s->hdr_len));
    pb->data = ip;
    pb->len = (size_t)s->hdr_len + s->total;
    struct ipv4_hdr tmp;
    if (ipv4_parse(pb->data, pb->len, out_h ? out_h : &tmp) != IPV4_OK) {
        r->stats.bad_len++;     /* cannot happen after frag_init; be sure */
        pbuf_free(pb);
        return NULL;
    }
    r->stats.done++;
    return pb;
}

/* Add a checked fragment to its datagram; the datagram when complete. */
static struct pbuf *ipv4_reass_add(struct ipv4_reass *r, const struct pbuf *pb,
                                   const struct ipv4_hdr *h,
                                   const struct ipv4_reass_frag *f,
                                   struct ipv4_hdr *out_h, uint64_t now)
{
    struct ipv4_reass_slot *s = ipv4_reass_find(r, h);
    if (!s && !(s = ipv4_reass_open(r, h, now)))
        return NULL;
    if (!ipv4_reass_end_ok(s, f)) {
        r->stats.bad_len++;
        ipv4_reass_drop(s);
        return NULL;
    }
    switch (ipv4_reass_place(s, f)) {
    case IPV4_REASS_DUP:
        r->stats.dup++;
        return NULL;
    case IPV4_REASS_OVERLAP:
        r->stats.overlap++;
        ipv4_reass_drop(s);
        return NULL;
    case IPV4_REASS_NEW:
        break;
    }
    if (f->off == 0)
        ipv4_reass_save_first(s, pb, h, f);
    if (f->last) {
        s->have_last = 1;
        s->total = f->end;
    }
    if (f->end > s->high)
        s->high = f->end;
    s->received += f->len;
    /* Each fragment fit with its own header; the whole must fit with the
     * first fragment's, which may carry up to 40 bytes of options more. */
    if (s->have_first && s->high + s->hdr_len > IPV4_MAX_LEN) {
        r->stats.too_big++;
        ipv4_reass_drop(s);
        return NULL;
    }
    if (s->have_first && s->have_last && s->received == s->total)
        return ipv4_reass_finish(r, s, out_h);
    return NULL;
}

struct pbuf *ipv4_reass_input(struct ipv4_reass *r, struct pbuf *pb,
                              const struct ipv4_hdr *h, struct ipv4_hdr *out_h,
                              uint64_t now)
{
    struct ipv4_reass_frag f;
    struct pbuf *whole = NULL;
    r->stats.frags++;
    if (ipv4_reass_frag_init(r, pb, h, &f) == 0)
        whole = ipv4_reass_add(r, pb, h, &f, out_h, now);
    pbuf_free(pb);
    return whole;
}

/* Saturating, so a huge fake `now` cannot wrap a deadline into the past. */
static uint64_t ipv4_reass_deadline(const struct ipv4_reass_slot *s)
{
    if (s->started > TS_NEVER - IPV4_REASS_TIMEOUT_MS)
        return TS_NEVER;
    return s->started + IPV4_REASS_TIMEOUT_MS;
}

void ipv4_reass_poll(struct ipv4_reass *r, uint64_t now,
                     ipv4_reass_expired_fn fn, void *ctx)
{
    for (unsigned i = 0; i < IPV4_REASS_SLOTS; i++) {
        struct ipv4_reass_slot *s = &r->slot[i];
        if (!s->buf || now < ipv4_reass_deadline(s))
            continue;
        r->stats.timeout++;
        /* Copy the quote and free the slot before calling out: the callback
         * may send ICMP (needing a buffer) or feed us more fragments. */
        uint8_t quote[sizeof s->hdr];
        size_t qlen = s->have_first ? s->quote_len : 0;
        memcpy(quote, s->hdr, qlen);
        ipv4_reass_drop(s);
        if (qlen && fn)
            fn(ctx, quote, qlen, now);
    }
}

uint64_t ipv4_reass_next_deadline(const struct ipv4_reass *r)
{
    uint64_t next = TS_NEVER;
    for (unsigned i = 0; i < IPV4_REASS_SLOTS; i++)
        if (r->slot[i].buf)
            next = ts_min_deadline(next, ipv4_reass_deadline(&r->slot[i]));
    return next;
}
