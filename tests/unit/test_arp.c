/* tests/unit/test_arp.c - ARP wire format, the neighbour cache, the layer.
 *
 * Covers arp_parse (good, every truncated length, each wrong fixed field,
 * bad op) and arp_emit; the cache on fake time (add/find/remove, eviction
 * preferring REACHABLE nearest expiry over INCOMPLETE, bounded queue handing
 * back the oldest, next deadline); and the layer over a memdev pair with
 * fake time: answering requests and learning the sender, ignoring
 * unsolicited replies, resolution with queued packets, retries once per
 * ARP_RETRY_MS and give-up after ARP_MAX_TRIES, expiry, a flood of senders
 * staying bounded, and every drop reason counted. Every test that uses a
 * pool ends with no buffer in use.
 */
#include <stdlib.h>
#include <string.h>

#include "arp/arp.h"
#include "arp/arp_cache.h"
#include "arp/arp_wire.h"
#include "core/clock.h"
#include "eth/memdev.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/unit.h"

static const uint8_t arp_zero[ETH_ALEN];
static const uint8_t arp_mcast_mac[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0, 0, 9 };

/* Request from 02:00:00:00:00:02 / 10.0.0.2 for 10.0.0.1, byte by byte, so
 * parsing is checked against RFC 826's layout rather than against emit. */
static const uint8_t arp_req_bytes[ARP_LEN] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
};

/* ---- wire ------------------------------------------------------------ */

static void arp_test_parse_good(void)
{
    struct arp_pkt p;
    CU_ASSERT_EQUAL_FATAL(arp_parse(arp_req_bytes, ARP_LEN, &p), ARP_OK);
    CU_ASSERT_EQUAL(p.op, ARP_OP_REQUEST);
    CU_ASSERT_EQUAL(memcmp(p.sha, fx_peer_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(p.spa, FX_PEER_IP);
    CU_ASSERT_EQUAL(memcmp(p.tha, arp_zero, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(p.tpa, FX_MY_IP);

    uint8_t reply[ARP_LEN + 18];            /* with Ethernet padding */
    memset(reply, 0, sizeof reply);
    memcpy(reply, arp_req_bytes, ARP_LEN);
    reply[7] = ARP_OP_REPLY;
    memcpy(reply + 18, fx_my_mac, ETH_ALEN);
    CU_ASSERT_EQUAL_FATAL(arp_parse(reply, sizeof reply, &p), ARP_OK);
    CU_ASSERT_EQUAL(p.op, ARP_OP_REPLY);
    CU_ASSERT_EQUAL(memcmp(p.tha, fx_my_mac, ETH_ALEN), 0);
}

static void arp_test_parse_truncated(void)
{
    for (size_t len = 0; len < ARP_LEN; len++) {
        uint8_t *b = fx_dup(arp_req_bytes, len);   /* ASan: no overread */
        struct arp_pkt p;
        CU_ASSERT_EQUAL(arp_parse(b, len, &p), ARP_ERR_TRUNCATED);
        free(b);
    }
    uint8_t *exact = fx_dup(arp_req_bytes, ARP_LEN);
    struct arp_pkt p;
    CU_ASSERT_EQUAL(arp_parse(exact, ARP_LEN, &p), ARP_OK);
    free(exact);
}

/* Parse a copy of the good request with byte `at` replaced by v. */
static int arp_parse_patched(size_t at, uint8_t v)
{
    uint8_t b[ARP_LEN];
    struct arp_pkt p;
    memcpy(b, arp_req_bytes, ARP_LEN);
    b[at] = v;
    return arp_parse(b, ARP_LEN, &p);
}

static void arp_test_parse_wrong_format(void)
{
    CU_ASSERT_EQUAL(arp_parse_patched(1, 6), ARP_ERR_FORMAT);     /* IEEE 802 */
    CU_ASSERT_EQUAL(arp_parse_patched(0, 1), ARP_ERR_FORMAT);     /* 0x0101 */
    CU_ASSERT_EQUAL(arp_parse_patched(2, 0x86), ARP_ERR_FORMAT);  /* 0x8600 */
    CU_ASSERT_EQUAL(arp_parse_patched(3, 0xdd), ARP_ERR_FORMAT);  /* 0x08dd */
    CU_ASSERT_EQUAL(arp_parse_patched(4, 8), ARP_ERR_FORMAT);     /* hlen */
    CU_ASSERT_EQUAL(arp_parse_patched(4, 0), ARP_ERR_FORMAT);
    CU_ASSERT_EQUAL(arp_parse_patched(5, 16), ARP_ERR_FORMAT);    /* plen */
    CU_ASSERT_EQUAL(arp_parse_patched(5, 0), ARP_ERR_FORMAT);
}

static void arp_test_parse_bad_op(void)
{
    CU_ASSERT_EQUAL(arp_parse_patched(7, 0), ARP_ERR_OP);
    CU_ASSERT_EQUAL(arp_parse_patched(7, 3), ARP_ERR_OP);         /* RARP */
    CU_ASSERT_EQUAL(arp_parse_patched(7, 0xff), ARP_ERR_OP);
    CU_ASSERT_EQUAL(arp_parse_patched(6, 1), ARP_ERR_OP);   /* 0x0101 */
    /* A bad format wins over a bad op: the op means nothing then. */
    uint8_t b[ARP_LEN];
    struct arp_pkt p;
    memcpy(b, arp_req_bytes, ARP_LEN);
    b[4] = 8;
    b[7] = 9;
    CU_ASSERT_EQUAL(arp_parse(b, ARP_LEN, &p), ARP_ERR_FORMAT);
}

static void arp_test_emit_round_trip(void)
{
    struct arp_pkt in = { .op = ARP_OP_REQUEST, .spa = FX_PEER_IP,
                          .tpa = FX_MY_IP }, out;
    memcpy(in.sha, fx_peer_mac, ETH_ALEN);
    memcpy(in.tha, arp_zero, ETH_ALEN);
    uint8_t b[ARP_LEN + 1];
    b[ARP_LEN] = 0x77;
    arp_emit(&in, b);
    CU_ASSERT_EQUAL(memcmp(b, arp_req_bytes, ARP_LEN), 0);
    CU_ASSERT_EQUAL(b[ARP_LEN], 0x77);              /* 28 bytes, no more */
    in.op = ARP_OP_REPLY;
    memcpy(in.tha, fx_my_mac, ETH_ALEN);
    arp_emit(&in, b);
    CU_ASSERT_EQUAL_FATAL(arp_parse(b, ARP_LEN, &out), ARP_OK);
    CU_ASSERT_EQUAL(out.op, in.op);
    CU_ASSERT_EQUAL(memcmp(out.sha, in.sha, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(memcmp(out.tha, in.tha, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(out.spa, in.spa);
    CU_ASSERT_EQUAL(out.tpa, in.tpa);
}

/* ---- cache ----------------------------------------------------------- */

static struct arp_entry *arp_cache_put(struct arp_cache *c, uint32_t ip,
                                       enum arp_state st, uint64_t deadline,
                                       int *evicted, struct pbuf **q)
{
    struct arp_entry *e = NULL;
    *evicted = arp_cache_add(c, ip, st, deadline, &e, q);
    return e;
}

static void arp_test_cache_add_find_remove(void)
{
    struct arp_cache c;
    struct pbuf sentinel, *q = &sentinel;   /* must be overwritten */
    int ev;
    arp_cache_init(&c);
    CU_ASSERT_PTR_NULL(arp_cache_find(&c, 0));  /* free slots hold ip 0 */
    CU_ASSERT_EQUAL(arp_cache_count(&c), 0);
    struct arp_entry *e = arp_cache_put(&c, FX_PEER_IP, ARP_REACHABLE, 100,
                                        &ev, &q);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(ev, 0);
    CU_ASSERT_PTR_NULL(q);
    CU_ASSERT_EQUAL(e->ip, FX_PEER_IP);
    CU_ASSERT_EQUAL(e->state, ARP_REACHABLE);
    CU_ASSERT_EQUAL(e->deadline, 100);
    CU_ASSERT_PTR_EQUAL(arp_cache_find(&c, FX_PEER_IP), e);
    CU_ASSERT_PTR_NULL(arp_cache_find(&c, FX_MY_IP));
    CU_ASSERT_EQUAL(arp_cache_count(&c), 1);
    CU_ASSERT_PTR_NULL(arp_cache_remove(e));
    CU_ASSERT_PTR_NULL(arp_cache_find(&c, FX_PEER_IP));
    CU_ASSERT_EQUAL(arp_cache_count(&c), 0);
}

/* Full of learned and pending entries: learned ones go first, nearest
 * expiry first, even when a pending one's deadline is earlier. */
static void arp_test_cache_evicts_reachable_first(void)
{
    struct arp_cache c;
    struct pbuf *q;
    int ev;
    arp_cache_init(&c);
    for (uint32_t i = 0; i < ARP_CACHE_SIZE; i++) {
        int pending = i % 2 == 0;
        arp_cache_put(&c, TS_IP4(10, 2, 0, i),
                      pending ? ARP_INCOMPLETE : ARP_REACHABLE,
                      pending ? 10 + i : 1000 + (ARP_CACHE_SIZE - i), &ev, &q);
        CU_ASSERT_EQUAL(ev, 0);
    }
    CU_ASSERT_EQUAL(arp_cache_count(&c), ARP_CACHE_SIZE);
    /* The odd entries expire at 1000 + 64 - i: i = 63 soonest, then 61. */
    arp_cache_put(&c, TS_IP4(10, 3, 0, 1), ARP_REACHABLE, 9000, &ev, &q);
    CU_ASSERT_EQUAL(ev, 1);
    CU_ASSERT_PTR_NULL(q);
    CU_ASSERT_PTR_NULL(arp_cache_find(&c, TS_IP4(10, 2, 0, 63)));
    arp_cache_put(&c, TS_IP4(10, 3, 0, 2), ARP_INCOMPLETE, 9000, &ev, &q);
    CU_ASSERT_EQUAL(ev, 1);
    CU_ASSERT_PTR_NULL(arp_cache_find(&c, TS_IP4(10, 2, 0, 61)));
    unsigned pending_left = 0;
    for (uint32_t i = 0; i < ARP_CACHE_SIZE; i += 2)
        pending_left += arp_cache_find(&c, TS_IP4(10, 2, 0, i)) != NULL;
    CU_ASSERT_EQUAL(pending_left, ARP_CACHE_SIZE / 2);
    CU_ASSERT_EQUAL(arp_cache_count(&c), ARP_CACHE_SIZE);
}

/* With only pending entries, the one due soonest goes, and its queue comes
 * back to the caller (oldest first) instead of leaking. */
static void arp_test_cache_evicts_incomplete_with_queue(void)
{
    struct pbuf_pool pool;
    struct arp_cache c;
    struct pbuf *q;
    int ev;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, 4, 0) == 0);
    arp_cache_init(&c);
    struct arp_entry *victim = NULL;
    for (uint32_t i = 0; i < ARP_CACHE_SIZE; i++) {
        struct arp_entry *e = arp_cache_put(&c, TS_IP4(10, 2, 0, i),
                                            ARP_INCOMPLETE,
                                            i == 40 ? 5 : 100 + i, &ev, &q);
        if (i == 40)
            victim = e;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(victim);
    struct pbuf *p1 = pbuf_alloc(&pool, 0, 1), *p2 = pbuf_alloc(&pool, 0, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p2);
    CU_ASSERT_PTR_NULL(arp_cache_enqueue(victim, p1));
    CU_ASSERT_PTR_NULL(arp_cache_enqueue(victim, p2));

    struct arp_entry *e = arp_cache_put(&c, TS_IP4(10, 3, 0, 1),
                                        ARP_INCOMPLETE, 9000, &ev, &q);
    CU_ASSERT_EQUAL(ev, 1);
    CU_ASSERT_PTR_EQUAL(e, victim);         /* the slot was reused */
    CU_ASSERT_EQUAL(e->nqueued, 0);
    CU_ASSERT_PTR_NULL(e->queue);
    CU_ASSERT_PTR_EQUAL(q, p1);
    CU_ASSERT_PTR_EQUAL(q ? q->next : NULL, p2);
    CU_ASSERT_PTR_NULL(arp_cache_find(&c, TS_IP4(10, 2, 0, 40)));
    pbuf_free_chain(q);
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    pbuf_pool_destroy(&pool);
}

/* The queue holds ARP_QUEUE_MAX; one more pushes out the oldest. */
static void arp_test_cache_queue_bounded(void)
{
    enum { N = ARP_QUEUE_MAX + 2 };
    struct pbuf_pool pool;
    struct arp_cache c;
    struct pbuf *q, *pb[N];
    int ev;
    CU_ASSERT_FATAL(pbuf_pool_init(&pool, N, 0) == 0);
    arp_cache_init(&c);
    struct arp_entry *e = arp_cache_put(&c, FX_PEER_IP, ARP_INCOMPLETE, 10,
                                        &ev, &q);
    for (int i = 0; i < N; i++) {
        pb[i] = pbuf_alloc(&pool, 0, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pb[i]);
    }
    for (int i = 0; i < ARP_QUEUE_MAX; i++)
        CU_ASSERT_PTR_NULL(arp_cache_enqueue(e, pb[i]));
    CU_ASSERT_EQUAL(e->nqueued, ARP_QUEUE_MAX);
    for (int i = ARP_QUEUE_MAX; i < N; i++) {
        struct pbuf *out = arp_cache_enqueue(e, pb[i]);
        CU_ASSERT_PTR_EQUAL(out, pb[i - ARP_QUEUE_MAX]);
        CU_ASSERT_PTR_NULL(out ? out->next : NULL);     /* detached */
        pbuf_free(out);
        CU_ASSERT_EQUAL(e->nqueued, ARP_QUEUE_MAX);
    }
    q = arp_cache_take_queue(e);
    CU_ASSERT_EQUAL(e->nqueued, 0);
    CU_ASSERT_PTR_NULL(e->queue);
    int i = N - ARP_QUEUE_MAX, len = 0;
    for (struct pbuf *p = q; p && len <= N; p = p->next, i++, len++)
        CU_ASSERT_PTR_EQUAL(p, pb[i]);              /* oldest first */
    CU_ASSERT_EQUAL(len, ARP_QUEUE_MAX);
    pbuf_free_chain(q);
    CU_ASSERT_EQUAL(pool.stats.in_use, 0);
    pbuf_pool_destroy(&pool);
}

static void arp_test_cache_next_deadline(void)
{
    struct arp_cache c;
    struct pbuf *q;
    int ev;
    arp_cache_init(&c);
    CU_ASSERT_EQUAL(arp_cache_next_deadline(&c), TS_NEVER);
    arp_cache_put(&c, TS_IP4(10, 0, 0, 5), ARP_REACHABLE, 500, &ev, &q);
    struct arp_entry *soon = arp_cache_put(&c, TS_IP4(10, 0, 0, 6),
                                           ARP_INCOMPLETE, 300, &ev, &q);
    arp_cache_put(&c, TS_IP4(10, 0, 0, 7), ARP_REACHABLE, 900, &ev, &q);
    CU_ASSERT_EQUAL(arp_cache_next_deadline(&c), 300);
    arp_cache_remove(soon);
    CU_ASSERT_EQUAL(arp_cache_next_deadline(&c), 500);
    arp_cache_init(&c);
    CU_ASSERT_EQUAL(arp_cache_next_deadline(&c), TS_NEVER);
}

/* ---- the layer ------------------------------------------------------- */

struct arp_fx {
    struct fx_link l;
    struct arp_layer arp;
};

static int arp_fx_init(struct arp_fx *f, unsigned nsmall)
{
    int rc = fx_link_init(&f->l, nsmall);
    if (rc < 0)
        return rc;
    arp_init(&f->arp, &f->l.eth, &f->l.pool, FX_MY_IP, &f->l.log);
    return eth_register(&f->l.eth, ETH_TYPE_ARP, arp_input, &f->arp);
}

/* An ARP packet from the wire, padded to 60 bytes as a NIC sends it. */
static void arp_fx_inject(struct arp_fx *f, const uint8_t eth_dst[ETH_ALEN],
                          const struct arp_pkt *p, uint64_t now)
{
    uint8_t payload[ETH_ZLEN - ETH_HLEN] = { 0 }, frame[ETH_ZLEN];
    arp_emit(p, payload);
    size_t len = fx_frame(frame, eth_dst, p->sha, ETH_TYPE_ARP, payload,
                          sizeof payload);
    fx_peer_send(&f->l, frame, len);
    fx_pump(&f->l, now);
}

static struct arp_pkt arp_pkt_make(uint16_t op, const uint8_t sha[ETH_ALEN],
                                   uint32_t spa, const uint8_t tha[ETH_ALEN],
                                   uint32_t tpa)
{
    struct arp_pkt p = { .op = op, .spa = spa, .tpa = tpa };
    memcpy(p.sha, sha, ETH_ALEN);
    memcpy(p.tha, tha, ETH_ALEN);
    return p;
}

/* A peer asks who has our address. */
static void arp_fx_peer_asks(struct arp_fx *f, const uint8_t mac[ETH_ALEN],
                             uint32_t ip, uint64_t now)
{
    struct arp_pkt p = arp_pkt_make(ARP_OP_REQUEST, mac, ip, arp_zero,
                                    FX_MY_IP);
    arp_fx_inject(f, eth_broadcast, &p, now);
}

/* A peer answers our request for ip. */
static void arp_fx_peer_answers(struct arp_fx *f, const uint8_t mac[ETH_ALEN],
                                uint32_t ip, uint64_t now)
{
    struct arp_pkt p = arp_pkt_make(ARP_OP_REPLY, mac, ip, fx_my_mac,
                                    FX_MY_IP);
    arp_fx_inject(f, fx_my_mac, &p, now);
}

/* The next frame the stack sent, parsed; its length, or 0 if none. For a
 * non-ARP frame *p is zeroed and the payload copied to body (if given). */
static size_t arp_fx_take(struct arp_fx *f, struct eth_hdr *h,
                          struct arp_pkt *p, uint8_t *body, size_t body_cap)
{
    uint8_t frame[FX_FRAME_MAX];
    size_t len = fx_peer_recv(&f->l, frame, sizeof frame);
    memset(p, 0, sizeof *p);
    if (len == 0 || eth_parse(frame, len, h) < 0)
        return 0;
    if (h->type == ETH_TYPE_ARP &&
        arp_parse(frame + ETH_HLEN, len - ETH_HLEN, p) != ARP_OK)
        p->op = 0xffff;         /* the stack sent a malformed ARP packet */
    if (body && len - ETH_HLEN <= body_cap)
        memcpy(body, frame + ETH_HLEN, len - ETH_HLEN);
    return len;
}

/* A fake IPv4 datagram whose bytes all equal tag, so tests can tell
 * queued packets apart on the wire. */
static struct pbuf *arp_fx_datagram(struct arp_fx *f, uint8_t tag)
{
    struct pbuf *pb = pbuf_alloc(&f->l.pool, PBUF_HEADROOM, 40);
    if (pb)
        memset(pb->data, tag, pb->len);
    return pb;
}

static void arp_fx_output(struct arp_fx *f, uint8_t tag, uint32_t ip,
                          uint64_t now)
{
    struct pbuf *pb = arp_fx_datagram(f, tag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    CU_ASSERT_EQUAL(arp_output(&f->arp, pb, ip, now), 0);
}

/* Check that the next frame is a broadcast request from us for ip. */
static void arp_fx_expect_request(struct arp_fx *f, uint32_t ip)
{
    struct eth_hdr h;
    struct arp_pkt p;
    CU_ASSERT_EQUAL_FATAL(arp_fx_take(f, &h, &p, NULL, 0), ETH_ZLEN);
    CU_ASSERT_TRUE(eth_is_broadcast(h.dst));
    CU_ASSERT_EQUAL(memcmp(h.src, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(h.type, ETH_TYPE_ARP);
    CU_ASSERT_EQUAL(p.op, ARP_OP_REQUEST);
    CU_ASSERT_EQUAL(memcmp(p.sha, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(p.spa, FX_MY_IP);
    CU_ASSERT_EQUAL(memcmp(p.tha, arp_zero, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(p.tpa, ip);
}

/* Check that the next frame is the datagram tagged tag, sent to mac. */
static void arp_fx_expect_datagram(struct arp_fx *f,
                                   const uint8_t mac[ETH_ALEN], uint8_t tag)
{
    struct eth_hdr h;
    struct arp_pkt p;
    uint8_t body[FX_FRAME_MAX];
    CU_ASSERT_EQUAL_FATAL(arp_fx_take(f, &h, &p, body, sizeof body),
                          ETH_ZLEN);
    CU_ASSERT_EQUAL(h.type, ETH_TYPE_IPV4);
    CU_ASSERT_EQUAL(memcmp(h.dst, mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(memcmp(h.src, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(body[0], tag);
    CU_ASSERT_EQUAL(body[39], tag);
}

static void arp_test_request_answered(void)
{
    struct arp_fx f;
    struct eth_hdr h;
    struct arp_pkt p;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_asks(&f, fx_peer_mac, FX_PEER_IP, 100);

    CU_ASSERT_EQUAL_FATAL(arp_fx_take(&f, &h, &p, NULL, 0), ETH_ZLEN);
    CU_ASSERT_EQUAL(memcmp(h.dst, fx_peer_mac, ETH_ALEN), 0);  /* unicast */
    CU_ASSERT_EQUAL(memcmp(h.src, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(h.type, ETH_TYPE_ARP);
    CU_ASSERT_EQUAL(p.op, ARP_OP_REPLY);
    CU_ASSERT_EQUAL(memcmp(p.sha, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(p.spa, FX_MY_IP);
    CU_ASSERT_EQUAL(memcmp(p.tha, fx_peer_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(p.tpa, FX_PEER_IP);
    CU_ASSERT_EQUAL(arp_fx_take(&f, &h, &p, NULL, 0), 0);     /* just one */

    struct arp_entry *e = arp_cache_find(&f.arp.cache, FX_PEER_IP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->state, ARP_REACHABLE);
    CU_ASSERT_EQUAL(memcmp(e->mac, fx_peer_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(e->deadline, 100 + ARP_REACHABLE_MS);
    CU_ASSERT_EQUAL(f.arp.stats.rx_packets, 1);
    CU_ASSERT_EQUAL(f.arp.stats.rx_requests, 1);
    CU_ASSERT_EQUAL(f.arp.stats.tx_replies, 1);
    CU_ASSERT_EQUAL(f.arp.stats.learned, 1);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Requests for other hosts' addresses are not answered and, from a sender
 * we do not know, leave no entry (RFC 826: no merge, not the target). */
static void arp_test_request_for_other_ignored(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    struct arp_pkt p = arp_pkt_make(ARP_OP_REQUEST, fx_peer_mac, FX_PEER_IP,
                                    arp_zero, TS_IP4(10, 0, 0, 3));
    arp_fx_inject(&f, eth_broadcast, &p, 0);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(arp_cache_count(&f.arp.cache), 0);
    CU_ASSERT_EQUAL(f.arp.stats.not_for_us, 1);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* A reply nobody asked for must not plant an entry (cache poisoning). */
static void arp_test_unsolicited_reply_ignored(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_answers(&f, fx_peer_mac, FX_PEER_IP, 0);
    CU_ASSERT_EQUAL(arp_cache_count(&f.arp.cache), 0);
    CU_ASSERT_EQUAL(f.arp.stats.drop_unsolicited, 1);
    CU_ASSERT_EQUAL(f.arp.stats.rx_replies, 1);
    CU_ASSERT_EQUAL(f.arp.stats.learned, 0);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Resolving: one request goes out, later packets wait without another. */
static void arp_test_output_unknown_requests_and_queues(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_output(&f, 0xa1, FX_PEER_IP, 50);
    arp_fx_expect_request(&f, FX_PEER_IP);
    arp_fx_output(&f, 0xa2, FX_PEER_IP, 60);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);     /* no second request */

    struct arp_entry *e = arp_cache_find(&f.arp.cache, FX_PEER_IP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->state, ARP_INCOMPLETE);
    CU_ASSERT_EQUAL(e->tries, 1);
    CU_ASSERT_EQUAL(e->nqueued, 2);
    CU_ASSERT_EQUAL(e->deadline, 50 + ARP_RETRY_MS);
    CU_ASSERT_EQUAL(arp_next_deadline(&f.arp), 50 + ARP_RETRY_MS);
    CU_ASSERT_EQUAL(f.arp.stats.tx_requests, 1);
    CU_ASSERT_EQUAL(f.arp.stats.queued, 2);
    CU_ASSERT_EQUAL(f.l.pool.stats.in_use, 2);        /* held, not lost */

    /* The answer releases both, oldest first, to the learned MAC. */
    arp_fx_peer_answers(&f, fx_peer_mac, FX_PEER_IP, 70);
    arp_fx_expect_datagram(&f, fx_peer_mac, 0xa1);
    arp_fx_expect_datagram(&f, fx_peer_mac, 0xa2);
    CU_ASSERT_EQUAL(e->state, ARP_REACHABLE);
    CU_ASSERT_EQUAL(e->nqueued, 0);
    CU_ASSERT_EQUAL(f.arp.stats.drop_unsolicited, 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Once learned, output goes straight to the wire: no request, no queue. */
static void arp_test_output_known_sends_directly(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_asks(&f, fx_peer_mac, FX_PEER_IP, 0);
    CU_ASSERT_EQUAL(fx_peer_drain(&f.l), 1);          /* our reply */
    arp_fx_output(&f, 0xb7, FX_PEER_IP, 10);
    arp_fx_expect_datagram(&f, fx_peer_mac, 0xb7);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(f.arp.stats.tx_requests, 0);
    CU_ASSERT_EQUAL(f.arp.stats.queued, 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* More packets than the queue holds: the oldest are dropped (counted) and
 * the latest ARP_QUEUE_MAX go out in order (RFC 1122 §2.3.2.2). */
static void arp_test_queue_overflow_keeps_latest(void)
{
    enum { N = ARP_QUEUE_MAX + 2 };
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, N + 4) == 0);
    for (int i = 0; i < N; i++)
        arp_fx_output(&f, (uint8_t)(0xc0 + i), FX_PEER_IP, 0);
    CU_ASSERT_EQUAL(fx_peer_drain(&f.l), 1);          /* one request */
    CU_ASSERT_EQUAL(f.arp.stats.queue_overflow, N - ARP_QUEUE_MAX);
    CU_ASSERT_EQUAL(f.l.pool.stats.in_use, ARP_QUEUE_MAX);
    arp_fx_peer_answers(&f, fx_peer_mac, FX_PEER_IP, 5);
    for (int i = N - ARP_QUEUE_MAX; i < N; i++)
        arp_fx_expect_datagram(&f, fx_peer_mac, (uint8_t)(0xc0 + i));
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Poll at t and return how many frames the stack sent. */
static unsigned arp_fx_poll(struct arp_fx *f, uint64_t t)
{
    arp_poll(&f->arp, t);
    return fx_peer_drain(&f->l);
}

/* No answer: one request per ARP_RETRY_MS, ARP_MAX_TRIES in all, then the
 * entry and its queue go (counted), and no buffer is left behind. */
static void arp_test_retry_then_give_up(void)
{
    const uint64_t t0 = 10000;
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_output(&f, 1, FX_PEER_IP, t0);
    arp_fx_output(&f, 2, FX_PEER_IP, t0);
    unsigned requests = fx_peer_drain(&f.l);
    CU_ASSERT_EQUAL(requests, 1);
    for (unsigned k = 1; k < ARP_MAX_TRIES; k++) {
        uint64_t due = t0 + (uint64_t)k * ARP_RETRY_MS;
        CU_ASSERT_EQUAL(arp_next_deadline(&f.arp), due);
        CU_ASSERT_EQUAL(arp_fx_poll(&f, due - 1), 0);   /* not yet */
        CU_ASSERT_EQUAL(arp_fx_poll(&f, due), 1);       /* the retry */
        CU_ASSERT_EQUAL(arp_fx_poll(&f, due), 0);       /* only once */
        CU_ASSERT_EQUAL(arp_fx_poll(&f, due + ARP_RETRY_MS / 2), 0);
        requests++;
    }
    CU_ASSERT_EQUAL(requests, ARP_MAX_TRIES);
    CU_ASSERT_EQUAL(f.arp.stats.tx_requests, ARP_MAX_TRIES);
    CU_ASSERT_EQUAL(f.l.pool.stats.in_use, 2);        /* still waiting */

    uint64_t give_up = t0 + (uint64_t)ARP_MAX_TRIES * ARP_RETRY_MS;
    CU_ASSERT_EQUAL(arp_fx_poll(&f, give_up), 0);     /* no 4th request */
    CU_ASSERT_PTR_NULL(arp_cache_find(&f.arp.cache, FX_PEER_IP));
    CU_ASSERT_EQUAL(f.arp.stats.resolve_failed, 2);
    CU_ASSERT_EQUAL(arp_next_deadline(&f.arp), TS_NEVER);
    CU_ASSERT_EQUAL(f.l.pool.stats.in_use, 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* A loop that wakes late sends one request per wake-up, not a burst to
 * catch up, and still gives up after ARP_MAX_TRIES requests. */
static void arp_test_late_poll_sends_one(void)
{
    const uint64_t stall = 100 * ARP_RETRY_MS;
    struct arp_fx f;
    uint64_t t = 0;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_output(&f, 1, FX_PEER_IP, t);
    CU_ASSERT_EQUAL(fx_peer_drain(&f.l), 1);
    for (unsigned k = 1; k < ARP_MAX_TRIES; k++) {
        t += stall;
        CU_ASSERT_EQUAL(arp_fx_poll(&f, t), 1);
        CU_ASSERT_EQUAL(arp_next_deadline(&f.arp), t + ARP_RETRY_MS);
    }
    t += stall;
    CU_ASSERT_EQUAL(arp_fx_poll(&f, t), 0);
    CU_ASSERT_EQUAL(f.arp.stats.tx_requests, ARP_MAX_TRIES);
    CU_ASSERT_EQUAL(f.arp.stats.resolve_failed, 1);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* A learned MAC is trusted for ARP_REACHABLE_MS, then asked for again. */
static void arp_test_reachable_expires(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_asks(&f, fx_peer_mac, FX_PEER_IP, 0);
    CU_ASSERT_EQUAL(fx_peer_drain(&f.l), 1);
    CU_ASSERT_EQUAL(arp_next_deadline(&f.arp), ARP_REACHABLE_MS);
    arp_poll(&f.arp, ARP_REACHABLE_MS - 1);
    CU_ASSERT_PTR_NOT_NULL(arp_cache_find(&f.arp.cache, FX_PEER_IP));
    arp_poll(&f.arp, ARP_REACHABLE_MS);
    CU_ASSERT_PTR_NULL(arp_cache_find(&f.arp.cache, FX_PEER_IP));
    CU_ASSERT_EQUAL(arp_next_deadline(&f.arp), TS_NEVER);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);     /* expiry is silent */
    arp_fx_output(&f, 3, FX_PEER_IP, ARP_REACHABLE_MS + 1);
    arp_fx_expect_request(&f, FX_PEER_IP);
    arp_fx_peer_answers(&f, fx_peer_mac, FX_PEER_IP, ARP_REACHABLE_MS + 2);
    arp_fx_expect_datagram(&f, fx_peer_mac, 3);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Sender i of the flood: distinct unicast MAC and address. */
static void arp_flood_sender(unsigned i, uint8_t mac[ETH_ALEN], uint32_t *ip)
{
    static const uint8_t base[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x01, 0, 0 };
    memcpy(mac, base, ETH_ALEN);
    mac[4] = (uint8_t)(i >> 8);
    mac[5] = (uint8_t)i;
    *ip = TS_IP4(10, 1, (i >> 8) & 255, i & 255);
}

/* 10,000 hosts ask for us: every one is answered, the cache stays at 64
 * entries by evicting the oldest learned ones, and a resolution already in
 * progress survives the flood (RFC 1122 §2.3.2.1, DESIGN.md §3.8). */
static void arp_test_flood_stays_bounded(void)
{
    enum { SENDERS = 10000 };
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_output(&f, 0x55, FX_PEER_IP, 0);           /* pending, survives */
    CU_ASSERT_EQUAL(fx_peer_drain(&f.l), 1);
    unsigned replies = 0, max_count = 0;
    for (unsigned i = 0; i < SENDERS; i++) {
        uint8_t mac[ETH_ALEN];
        uint32_t ip;
        arp_flood_sender(i, mac, &ip);
        arp_fx_peer_asks(&f, mac, ip, i);
        replies += fx_peer_drain(&f.l);
        unsigned n = arp_cache_count(&f.arp.cache);
        if (n > max_count)
            max_count = n;
    }
    CU_ASSERT_EQUAL(replies, SENDERS);
    CU_ASSERT_EQUAL(max_count, ARP_CACHE_SIZE);
    CU_ASSERT_EQUAL(arp_cache_count(&f.arp.cache), ARP_CACHE_SIZE);
    CU_ASSERT_EQUAL(f.arp.stats.learned, SENDERS);
    CU_ASSERT_EQUAL(f.arp.stats.evicted, SENDERS - (ARP_CACHE_SIZE - 1));
    /* The newest senders are the ones kept. */
    uint8_t mac[ETH_ALEN];
    uint32_t ip;
    arp_flood_sender(SENDERS - 1, mac, &ip);
    CU_ASSERT_PTR_NOT_NULL(arp_cache_find(&f.arp.cache, ip));
    arp_flood_sender(0, mac, &ip);
    CU_ASSERT_PTR_NULL(arp_cache_find(&f.arp.cache, ip));

    struct arp_entry *e = arp_cache_find(&f.arp.cache, FX_PEER_IP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->state, ARP_INCOMPLETE);
    CU_ASSERT_EQUAL(e->nqueued, 1);
    arp_fx_peer_answers(&f, fx_peer_mac, FX_PEER_IP, SENDERS);
    arp_fx_expect_datagram(&f, fx_peer_mac, 0x55);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Multicast sender MACs, and sender addresses 0 and broadcast, are never
 * learned or answered. */
static void arp_test_bad_sender_dropped(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_asks(&f, arp_mcast_mac, FX_PEER_IP, 0);
    arp_fx_peer_asks(&f, eth_broadcast, FX_PEER_IP, 0);
    arp_fx_peer_asks(&f, arp_mcast_mac, 0, 0);         /* probe, bad MAC */
    arp_fx_peer_asks(&f, fx_peer_mac, 0xffffffffu, 0);
    CU_ASSERT_EQUAL(f.arp.stats.drop_bad_sender, 4);
    CU_ASSERT_EQUAL(f.arp.stats.tx_replies, 0);
    CU_ASSERT_EQUAL(arp_cache_count(&f.arp.cache), 0);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* RFC 5227 probe (sender 0) for our address: answered so the prober sees
 * the conflict, and nothing is learned from it. */
static void arp_test_probe_answered(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_asks(&f, fx_peer_mac, 0, 0);
    CU_ASSERT_EQUAL(f.arp.stats.rx_probes, 1);
    CU_ASSERT_EQUAL(f.arp.stats.tx_replies, 1);
    CU_ASSERT_EQUAL(arp_cache_count(&f.arp.cache), 0);
    struct eth_hdr h;
    struct arp_pkt p;
    CU_ASSERT(arp_fx_take(&f, &h, &p, NULL, 0) > 0);
    CU_ASSERT_EQUAL(p.op, ARP_OP_REPLY);
    CU_ASSERT_EQUAL(p.spa, FX_MY_IP);
    CU_ASSERT_EQUAL(memcmp(h.dst, fx_peer_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Another host using our address is counted, never learned or answered. */
static void arp_test_addr_conflict_counted(void)
{
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_asks(&f, fx_peer_mac, FX_MY_IP, 0);   /* gratuitous ARP */
    arp_fx_peer_answers(&f, fx_peer_mac, FX_MY_IP, 0);
    CU_ASSERT_EQUAL(f.arp.stats.addr_conflict, 2);
    CU_ASSERT_EQUAL(f.arp.stats.tx_replies, 0);
    CU_ASSERT_EQUAL(arp_cache_count(&f.arp.cache), 0);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Malformed packets reach arp_input and are dropped by reason. */
static void arp_test_malformed_counted(void)
{
    struct arp_fx f;
    uint8_t frame[ETH_ZLEN], bad[ARP_LEN];
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    size_t len = fx_frame(frame, eth_broadcast, fx_peer_mac, ETH_TYPE_ARP,
                          arp_req_bytes, ARP_LEN - 1);
    fx_peer_send(&f.l, frame, len);                   /* unpadded runt */
    memcpy(bad, arp_req_bytes, ARP_LEN);
    bad[5] = 16;                                      /* IPv6-sized plen */
    fx_peer_send(&f.l, frame, fx_frame(frame, eth_broadcast, fx_peer_mac,
                                       ETH_TYPE_ARP, bad, ARP_LEN));
    memcpy(bad, arp_req_bytes, ARP_LEN);
    bad[7] = 3;
    fx_peer_send(&f.l, frame, fx_frame(frame, eth_broadcast, fx_peer_mac,
                                       ETH_TYPE_ARP, bad, ARP_LEN));
    CU_ASSERT_EQUAL(fx_pump(&f.l, 0), 3);
    CU_ASSERT_EQUAL(f.arp.stats.rx_packets, 3);
    CU_ASSERT_EQUAL(f.arp.stats.drop_truncated, 1);
    CU_ASSERT_EQUAL(f.arp.stats.drop_bad_format, 1);
    CU_ASSERT_EQUAL(f.arp.stats.drop_bad_op, 1);
    CU_ASSERT_EQUAL(arp_cache_count(&f.arp.cache), 0);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* RFC 826 merge: a known sender's new MAC is taken from any packet, even
 * one not aimed at us, and needs no answer. */
static void arp_test_merge_updates_known_sender(void)
{
    static const uint8_t moved[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x22 };
    struct arp_fx f;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_fx_peer_asks(&f, fx_peer_mac, FX_PEER_IP, 0);
    CU_ASSERT_EQUAL(fx_peer_drain(&f.l), 1);
    struct arp_pkt p = arp_pkt_make(ARP_OP_REQUEST, moved, FX_PEER_IP,
                                    arp_zero, TS_IP4(10, 0, 0, 3));
    arp_fx_inject(&f, eth_broadcast, &p, 500);
    struct arp_entry *e = arp_cache_find(&f.arp.cache, FX_PEER_IP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(memcmp(e->mac, moved, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(e->deadline, 500 + ARP_REACHABLE_MS);
    CU_ASSERT_EQUAL(f.arp.stats.not_for_us, 0);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* Gratuitous ARP (RFC 5227 §3): a broadcast request for our own address. */
static void arp_test_announce(void)
{
    struct arp_fx f;
    struct eth_hdr h;
    struct arp_pkt p;
    CU_ASSERT_FATAL(arp_fx_init(&f, 8) == 0);
    arp_announce(&f.arp);
    CU_ASSERT_EQUAL_FATAL(arp_fx_take(&f, &h, &p, NULL, 0), ETH_ZLEN);
    CU_ASSERT_TRUE(eth_is_broadcast(h.dst));
    CU_ASSERT_EQUAL(p.op, ARP_OP_REQUEST);
    CU_ASSERT_EQUAL(p.spa, FX_MY_IP);
    CU_ASSERT_EQUAL(p.tpa, FX_MY_IP);
    CU_ASSERT_EQUAL(memcmp(p.sha, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* An empty pool costs the reply, counted; nothing crashes or leaks. */
static void arp_test_no_buffer_for_reply(void)
{
    enum { POOL = 4 };
    struct arp_fx f;
    struct pbuf *hog[POOL - 1];
    CU_ASSERT_FATAL(arp_fx_init(&f, POOL) == 0);
    for (int i = 0; i < POOL - 1; i++) {
        hog[i] = pbuf_alloc(&f.l.pool, 0, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(hog[i]);
    }
    /* The received frame takes the last buffer; the reply finds none. */
    arp_fx_peer_asks(&f, fx_peer_mac, FX_PEER_IP, 0);
    CU_ASSERT_EQUAL(f.arp.stats.rx_requests, 1);
    CU_ASSERT_EQUAL(f.arp.stats.drop_no_buffer, 1);
    CU_ASSERT_EQUAL(f.arp.stats.tx_replies, 0);
    CU_ASSERT_EQUAL(memdev_pending(f.l.peer), 0);
    for (int i = 0; i < POOL - 1; i++)
        pbuf_free(hog[i]);
    CU_ASSERT_EQUAL(fx_link_destroy(&f.l), 0);
}

/* The name table covers every field of the stats struct, once each. */
static void arp_test_counter_table(void)
{
    CU_ASSERT_EQUAL(arp_counter_count * sizeof(uint64_t),
                    sizeof(struct arp_stats));
    for (size_t i = 0; i < arp_counter_count; i++)
        for (size_t j = i + 1; j < arp_counter_count; j++) {
            CU_ASSERT(strcmp(arp_counter_desc[i].name,
                             arp_counter_desc[j].name) != 0);
            CU_ASSERT(arp_counter_desc[i].offset != arp_counter_desc[j].offset);
        }
    struct arp_stats s = { .drop_unsolicited = 6, .resolve_failed = 2 };
    CU_ASSERT_EQUAL(ts_counter_get(arp_counter_desc, arp_counter_count, &s,
                                   "drop_unsolicited"), 6);
    CU_ASSERT_EQUAL(ts_counter_get(arp_counter_desc, arp_counter_count, &s,
                                   "resolve_failed"), 2);
}

TS_SUITE(arp,
         TS_TEST(arp_test_parse_good),
         TS_TEST(arp_test_parse_truncated),
         TS_TEST(arp_test_parse_wrong_format),
         TS_TEST(arp_test_parse_bad_op),
         TS_TEST(arp_test_emit_round_trip),
         TS_TEST(arp_test_cache_add_find_remove),
         TS_TEST(arp_test_cache_evicts_reachable_first),
         TS_TEST(arp_test_cache_evicts_incomplete_with_queue),
         TS_TEST(arp_test_cache_queue_bounded),
         TS_TEST(arp_test_cache_next_deadline),
         TS_TEST(arp_test_request_answered),
         TS_TEST(arp_test_request_for_other_ignored),
         TS_TEST(arp_test_unsolicited_reply_ignored),
         TS_TEST(arp_test_output_unknown_requests_and_queues),
         TS_TEST(arp_test_output_known_sends_directly),
         TS_TEST(arp_test_queue_overflow_keeps_latest),
         TS_TEST(arp_test_retry_then_give_up),
         TS_TEST(arp_test_late_poll_sends_one),
         TS_TEST(arp_test_reachable_expires),
         TS_TEST(arp_test_flood_stays_bounded),
         TS_TEST(arp_test_bad_sender_dropped),
         TS_TEST(arp_test_probe_answered),
         TS_TEST(arp_test_addr_conflict_counted),
         TS_TEST(arp_test_malformed_counted),
         TS_TEST(arp_test_merge_updates_known_sender),
         TS_TEST(arp_test_announce),
         TS_TEST(arp_test_no_buffer_for_reply),
         TS_TEST(arp_test_counter_table))
