/* udp/udp.c - UDP sockets: binding table, input demultiplexing, per-socket
 * datagram queues (one copy into a byte ring, so no pool buffer is held),
 * and output through IPv4 (which fragments what exceeds the MTU). */
#include "udp/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"

#define UDP_DESC(n, e, r, h) TS_CTR_DESC(struct udp_stats, n, e, r, h)
const struct ts_counter_desc udp_counter_desc[] = { UDP_COUNTERS(UDP_DESC) };
const size_t udp_counter_count = TS_COUNTERS_LEN(udp_counter_desc);

#define UDP_F_BROADCAST 0x1
#define UDP_F_AUTO_ADDR 0x2         /* laddr came from connect's route */
#define UDP_REC_HDR 8       /* per queued datagram: src(4) sport(2) len(2) */

struct udp_sock {
    struct udp_layer *u;
    struct udp_sock *next;          /* bucket chain */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    unsigned flags;
    int bound;
    uint8_t ttl, tos;                 /* IP_TTL (0: 64), IP_TOS */
    uint8_t *q;                     /* receive ring */
    uint32_t qcap, qhead, qlen;
    udp_event_fn fn;
    void *ctx;
};

void udp_init(struct udp_layer *u, struct ipv4_layer *ip, struct pbuf_pool *pool,
              struct ts_rand *rand)
{
    memset(u, 0, sizeof *u);
    u->ip = ip;
    u->pool = pool;
    u->rand = rand;
}

void udp_destroy(struct udp_layer *u)
{
    for (unsigned b = 0; b < UDP_BUCKETS; b++)
        while (u->bucket[b])
            udp_close(u->bucket[b]);
}

static struct udp_sock **udp_bucket(struct udp_layer *u, uint16_t port)
{
    return &u->bucket[port % UDP_BUCKETS];
}

struct udp_sock *udp_open(struct udp_layer *u, uint32_t rcvbuf,
                          udp_event_fn fn, void *ctx)
{
    struct udp_sock *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->q = malloc(rcvbuf ? rcvbuf : 1);
    if (!s->q) {
        free(s);
        return NULL;
    }
    s->u = u;
    s->qcap = rcvbuf;
    s->fn = fn;
    s->ctx = ctx;
    return s;
}

static int udp_port_taken(struct udp_layer *u, uint32_t addr, uint16_t port)
{
    for (struct udp_sock *o = *udp_bucket(u, port); o; o = o->next)
        if (o->lport == port && (o->laddr == 0 || addr == 0 || o->laddr == addr))
            return 1;
    return 0;
}

struct udp_port_q {
    struct udp_layer *u;
    uint32_t addr;
};

static int udp_port_busy(void *ctx, uint16_t port)
{
    struct udp_port_q *q = ctx;
    return udp_port_taken(q->u, q->addr, port);
}

int udp_bind(struct udp_sock *s, uint32_t addr, uint16_t port)
{
    struct udp_layer *u = s->u;
    if (s->bound || (addr && !ipv4_is_local(u->ip, addr)))
        return -EINVAL;
    if (port == 0) {
        struct udp_port_q q = { u, addr };
        if (!(port = ts_rand_port(u->rand, udp_port_busy, &q)))
            return -EADDRINUSE;
    } else if (udp_port_taken(u, addr, port)) {
        return -EADDRINUSE;
    }
    s->laddr = addr;
    s->lport = port;
    s->bound = 1;
    struct udp_sock **b = udp_bucket(u, port);
    s->next = *b;
    *b = s;
    return 0;
}

/* Like Linux's ip4_datagram_connect: a socket bound to any address takes
 * the route's source as its own (getsockname shows it, and only datagrams
 * to it are received) until it disconnects. */
int udp_connect(struct udp_sock *s, uint32_t addr, uint16_t port)
{
    if (addr && port == 0)
        return -EINVAL;
    if (!s->bound) {
        int rc = udp_bind(s, 0, 0);
        if (rc < 0)
            return rc;
    }
    if (addr) {
        struct ipv4_route rt;
        uint32_t mine = (s->flags & UDP_F_AUTO_ADDR) ? 0 : s->laddr;
        int rc = ipv4_route_lookup(s->u->ip, addr, mine, &rt);
        if (rc < 0)
            return rc;
        if (!mine) {
            s->laddr = rt.src;
            s->flags |= UDP_F_AUTO_ADDR;
        }
    } else if (s->flags & UDP_F_AUTO_ADDR) {
        s->laddr = 0;
        s->flags &= ~UDP_F_AUTO_ADDR;
    }
    s->raddr = addr;
    s->rport = addr ? port : 0;
    return 0;
}

void udp_set_ip_opts(struct udp_sock *s, uint8_t ttl, uint8_t tos)
{
    s->ttl = ttl;
    s->tos = tos;
}

void udp_set_broadcast(struct udp_sock *s, int on)
{
    if (on)
        s->flags |= UDP_F_BROADCAST;
    else
        s->flags &= ~UDP_F_BROADCAST;
}

void udp_sock_addr(const struct udp_sock *s, uint32_t *addr, uint16_t *port)
{
    *addr = s->laddr;       /* 0.0.0.0 when bound to any, as on Linux */
    *port = s->lport;
}

const struct udp_sock *udp_sock_next(const struct udp_layer *u,
                                     const struct udp_sock *prev)
{
    unsigned b = 0;
    if (prev) {
        if (prev->next)
            return prev->next;
        b = (unsigned)(prev->lport % UDP_BUCKETS) + 1;
    }
    for (; b < UDP_BUCKETS; b++)
        if (u->bucket[b])
            return u->bucket[b];
    return NULL;
}

void udp_sock_info(const struct udp_sock *s, uint32_t *laddr, uint16_t *lport,
                   uint32_t *raddr, uint16_t *rport, uint32_t *queued)
{
    *laddr = s->laddr;
    *lport = s->lport;
    *raddr = s->raddr;
    *rport = s->rport;
    *queued = s->qlen;
}

void udp_close(struct udp_sock *s)
{
    if (s->bound) {
        struct udp_sock **pp = udp_bucket(s->u, s->lport);
        while (*pp && *pp != s)
            pp = &(*pp)->next;
        if (*pp)
            *pp = s->next;
    }
    free(s->q);
    free(s);
}

/* Copy n bytes into / out of the ring at offset off past the head. */
static void udp_q_put(struct udp_sock *s, uint32_t off, const uint8_t *p,
                      uint32_t n)
{
    uint32_t idx = (s->qhead + off) % s->qcap;
    uint32_t first = s->qcap - idx < n ? s->qcap - idx : n;
    memcpy(s->q + idx, p, first);
    memcpy(s->q, p + first, n - first);
}

static void udp_q_get(const struct udp_sock *s, uint32_t off, uint8_t *p,
                      uint32_t n)
{
    uint32_t idx = (s->qhead + off) % s->qcap;
    uint32_t first = s->qcap - idx < n ? s->qcap - idx : n;
    memcpy(p, s->q + idx, first);
    memcpy(p + first, s->q, n - first);
}

static void udp_enqueue(struct udp_sock *s, const uint8_t *data, uint32_t len,
                        uint32_t src, uint16_t sport)
{
    struct udp_layer *u = s->u;
    if (s->qcap - s->qlen < UDP_REC_HDR + len) {
        UDP_COUNT(u, drop_queue_full);
        return;
    }
    uint8_t rec[UDP_REC_HDR];
    store_be32(rec, src);
    store_be16(rec + 4, sport);
    store_be16(rec + 6, (uint16_t)len);
    udp_q_put(s, s->qlen, rec, UDP_REC_HDR);
    udp_q_put(s, s->qlen + UDP_REC_HDR, data, len);
    s->qlen += UDP_REC_HDR + len;
    u->stats.rx_delivered++;
    if (s->fn)
        s->fn(s->ctx, s, UDP_EV_READABLE);
}

long udp_next_len(const struct udp_sock *s)
{
    if (s->qlen == 0)
        return -1;
    uint8_t rec[UDP_REC_HDR];
    udp_q_get(s, 0, rec, UDP_REC_HDR);
    return load_be16(rec + 6);
}

ssize_t udp_recvfrom(struct udp_sock *s, void *buf, size_t len, uint32_t *src,
                     uint16_t *sport)
{
    if (s->qlen == 0)
        return -EAGAIN;
    uint8_t rec[UDP_REC_HDR];
    udp_q_get(s, 0, rec, UDP_REC_HDR);
    uint32_t dlen = load_be16(rec + 6);
    uint32_t n = len < dlen ? (uint32_t)len : dlen;
    udp_q_get(s, UDP_REC_HDR, buf, n);
    s->qhead = (s->qhead + UDP_REC_HDR + dlen) % s->qcap;
    s->qlen -= UDP_REC_HDR + dlen;
    if (src)
        *src = load_be32(rec);
    if (sport)
        *sport = load_be16(rec + 4);
    return (ssize_t)dlen;
}

/* Does s take a datagram from src:sport to dst:dport? */
static int udp_matches(const struct udp_sock *s, uint32_t dst, uint16_t dport,
                       uint32_t src, uint16_t sport)
{
    return s->lport == dport && (s->laddr == 0 || s->laddr == dst) &&
           (s->raddr == 0 || (s->raddr == src && s->rport == sport));
}

/* Unicast: the connected socket that matches beats an unconnected one. */
static struct udp_sock *udp_lookup(struct udp_layer *u, uint32_t dst,
                                   uint16_t dport, uint32_t src, uint16_t sport)
{
    struct udp_sock *best = NULL;
    for (struct udp_sock *s = *udp_bucket(u, dport); s; s = s->next)
        if (udp_matches(s, dst, dport, src, sport) && (!best || s->raddr))
            best = s;
    return best;
}

static void udp_deliver_broadcast(struct udp_layer *u, const struct udp_hdr *h,
                                  const uint8_t *data, const struct ipv4_hdr *ih)
{
    int n = 0;
    for (struct udp_sock *s = *udp_bucket(u, h->dport); s; s = s->next) {
        if ((s->flags & UDP_F_BROADCAST) && s->lport == h->dport &&
            (s->raddr == 0 || (s->raddr == ih->src && s->rport == h->sport))) {
            udp_enqueue(s, data, h->len - UDP_HLEN, ih->src, h->sport);
            n++;
        }
    }
    if (n == 0)
        UDP_COUNT(u, drop_broadcast_unwanted);
}

void udp_input(void *ctx, struct pbuf *pb, const struct ipv4_hdr *ih,
               uint64_t now)
{
    struct udp_layer *u = ctx;
    struct udp_hdr h;
    u->now = now;
    u->stats.rx_datagrams++;
    int rc = udp_parse(pb->data, pb->len, &h);
    if (rc != UDP_OK) {
        if (rc == UDP_ERR_TRUNCATED)
            UDP_COUNT(u, drop_truncated);
        else
            UDP_COUNT(u, drop_bad_len);
        goto out;
    }
    if (h.cksum && !(pb->flags & PBUF_F_CSUM_VALID) &&
        CKSUM_RX_BAD(udp_cksum(ih->src, ih->dst, pb->data, h.len))) {
        UDP_COUNT(u, drop_bad_cksum);
        goto out;
    }
    const uint8_t *data = pb->data + UDP_HLEN;
    if (!ipv4_is_local(u->ip, ih->dst)) {
        udp_deliver_broadcast(u, &h, data, ih);
        goto out;
    }
    struct udp_sock *s = udp_lookup(u, ih->dst, h.dport, ih->src, h.sport);
    if (s) {
        udp_enqueue(s, data, h.len - UDP_HLEN, ih->src, h.sport);
        goto out;
    }
    UDP_COUNT(u, drop_no_port);
    /* The IP header lies just before the UDP header (ipv4_rx_fn). */
    icmp_send_error(u->ip, pb->data - ih->hlen, pb->len + ih->hlen,
                    (pb->flags & PBUF_F_LINK_BCAST) != 0, ICMP_DEST_UNREACH,
                    ICMP_UNREACH_PORT, now);
out:
    pbuf_free(pb);
}

ssize_t udp_sendto(struct udp_sock *s, const void *buf, size_t len,
                   uint32_t dst, uint16_t dport, uint64_t now)
{
    struct udp_layer *u = s->u;
    u->now = now;
    if (len > UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (dst == 0) {
        if (!s->raddr)
            return -EDESTADDRREQ;
        dst = s->raddr;
        dport = s->rport;
    }
    if (dport == 0)
        return -EINVAL;
    if (ipv4_is_broadcast(u->ip, dst) && !(s->flags & UDP_F_BROADCAST))
        return -EACCES;
    if (!s->bound) {
        int rc = udp_bind(s, 0, 0);
        if (rc < 0)
            return rc;
    }
    struct ipv4_route rt;
    int rc = ipv4_route_lookup(u->ip, dst, s->laddr, &rt);
    if (rc < 0) {
        UDP_COUNT(u, tx_error);
        return rc;
    }
    struct pbuf *pb = pbuf_alloc(u->pool, PBUF_HEADROOM, UDP_HLEN + len);
    if (!pb) {
        UDP_COUNT(u, tx_no_buffer);
        return -ENOBUFS;
    }
    memcpy(pb->data + UDP_HLEN, buf, len);
    struct udp_hdr h = { .sport = s->lport, .dport = dport,
                         .len = (uint16_t)(UDP_HLEN + len) };
    if (rt.ifp->flags & NETDEV_F_NO_CSUM)
        udp_emit_nocsum(&h, pb->data);      /* lo vouches, as Linux's */
    else
        udp_emit(&h, pb->data, rt.src, rt.dst);
    rc = ipv4_output_tt(u->ip, pb, rt.src, rt.dst, IPV4_PROTO_UDP, s->ttl,
                        s->tos, now);
    if (rc < 0) {
        UDP_COUNT(u, tx_error);
        return rc;
    }
    u->stats.tx_datagrams++;
    return (ssize_t)len;
}
