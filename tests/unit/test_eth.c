/* tests/unit/test_eth.c - Ethernet wire format and the Ethernet layer.
 *
 * Covers eth_parse (good, every runt length), eth_emit round trips, and the
 * layer over a memdev pair: dispatch of frames for our MAC and broadcast to
 * the handler registered for their EtherType, every drop reason counted
 * (not for us, own source, unknown type, runt), handler table limits, and
 * eth_output framing (our source MAC, zero padding to 60 bytes, headroom
 * failure). Every test that uses a pool ends with no buffer in use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eth/eth.h"
#include "eth/eth_wire.h"
#include "eth/memdev.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/unit.h"

static const uint8_t eth_other_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x03 };
static const uint8_t eth_mcast_mac[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

/* ---- wire ------------------------------------------------------------ */

static void eth_test_parse_good(void)
{
    static const uint8_t f[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
                                 0x08, 0x06, 0xde, 0xad };
    struct eth_hdr h;
    CU_ASSERT_EQUAL_FATAL(eth_parse(f, sizeof f, &h), 0);
    CU_ASSERT_EQUAL(memcmp(h.dst, eth_broadcast, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(memcmp(h.src, f + 6, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(h.type, ETH_TYPE_ARP);
    /* Exactly a header, no payload, is still a header. */
    uint8_t *exact = fx_dup(f, ETH_HLEN);
    CU_ASSERT_EQUAL(eth_parse(exact, ETH_HLEN, &h), 0);
    free(exact);
}

/* Every length short of a header is refused before a byte is read (the
 * exact-size heap copy lets ASan prove it). */
static void eth_test_parse_runt(void)
{
    uint8_t f[ETH_HLEN];
    memset(f, 0xab, sizeof f);
    for (size_t len = 0; len < ETH_HLEN; len++) {
        uint8_t *b = fx_dup(f, len);
        struct eth_hdr h;
        CU_ASSERT_EQUAL(eth_parse(b, len, &h), -EINVAL);
        free(b);
    }
}

static void eth_test_emit_round_trip(void)
{
    struct eth_hdr in = { .type = ETH_TYPE_VLAN }, out;
    memcpy(in.dst, fx_peer_mac, ETH_ALEN);
    memcpy(in.src, fx_my_mac, ETH_ALEN);
    uint8_t buf[ETH_HLEN + 1];
    buf[ETH_HLEN] = 0x5a;
    eth_emit(&in, buf);
    CU_ASSERT_EQUAL(memcmp(buf, fx_peer_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(memcmp(buf + 6, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(buf[12], 0x81);                 /* big-endian type */
    CU_ASSERT_EQUAL(buf[13], 0x00);
    CU_ASSERT_EQUAL(buf[ETH_HLEN], 0x5a);           /* wrote 14 bytes only */
    CU_ASSERT_EQUAL_FATAL(eth_parse(buf, ETH_HLEN, &out), 0);
    CU_ASSERT_EQUAL(memcmp(&in.dst, &out.dst, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(memcmp(&in.src, &out.src, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(out.type, in.type);
}

static void eth_test_address_classes(void)
{
    CU_ASSERT_TRUE(eth_is_broadcast(eth_broadcast));
    CU_ASSERT_TRUE(eth_is_multicast(eth_broadcast));
    CU_ASSERT_FALSE(eth_is_broadcast(eth_mcast_mac));
    CU_ASSERT_TRUE(eth_is_multicast(eth_mcast_mac));
    CU_ASSERT_FALSE(eth_is_multicast(fx_my_mac));
    static const uint8_t almost[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                              0xfe };
    CU_ASSERT_FALSE(eth_is_broadcast(almost));
}

/* ---- the layer ------------------------------------------------------- */

/* What a handler saw, so tests can check dispatch without a real ARP/IP. */
struct eth_rec {
    unsigned calls;
    uint16_t type;
    uint8_t src[ETH_ALEN];
    size_t len;
    uint8_t first;
    uint64_t now;
};

static void eth_rec_rx(void *ctx, struct pbuf *pb, const struct eth_hdr *h,
                       uint64_t now)
{
    struct eth_rec *r = ctx;
    r->calls++;
    r->type = h->type;
    memcpy(r->src, h->src, ETH_ALEN);
    r->len = pb->len;
    r->first = pb->len ? pb->data[0] : 0;
    r->now = now;
    pbuf_free(pb);      /* handlers consume their buffer */
}

/* Send one frame from the peer and run the stack's receive path. */
static void eth_deliver(struct fx_link *l, const uint8_t dst[ETH_ALEN],
                        const uint8_t src[ETH_ALEN], uint16_t type,
                        uint64_t now)
{
    uint8_t payload[46], frame[ETH_ZLEN];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(0x40 + i);
    size_t len = fx_frame(frame, dst, src, type, payload, sizeof payload);
    fx_peer_send(l, frame, len);
    CU_ASSERT_EQUAL(fx_pump(l, now), 1);
}

static void eth_test_unicast_dispatched(void)
{
    struct fx_link l;
    struct eth_rec rec = { 0 };
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_IPV4, eth_rec_rx, &rec), 0);
    eth_deliver(&l, fx_my_mac, fx_peer_mac, ETH_TYPE_IPV4, 1234);
    CU_ASSERT_EQUAL(rec.calls, 1);
    CU_ASSERT_EQUAL(rec.type, ETH_TYPE_IPV4);
    CU_ASSERT_EQUAL(memcmp(rec.src, fx_peer_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(rec.len, 46);           /* header pulled off */
    CU_ASSERT_EQUAL(rec.first, 0x40);       /* data at the payload */
    CU_ASSERT_EQUAL(rec.now, 1234);         /* time passed through */
    CU_ASSERT_EQUAL(l.eth.stats.rx_frames, 1);
    CU_ASSERT_EQUAL(l.eth.stats.rx_bytes, ETH_ZLEN);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

static void eth_test_broadcast_dispatched(void)
{
    struct fx_link l;
    struct eth_rec rec = { 0 };
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_ARP, eth_rec_rx, &rec), 0);
    eth_deliver(&l, eth_broadcast, fx_peer_mac, ETH_TYPE_ARP, 5);
    CU_ASSERT_EQUAL(rec.calls, 1);
    CU_ASSERT_EQUAL(rec.type, ETH_TYPE_ARP);
    CU_ASSERT_EQUAL(l.eth.stats.drop_not_for_us, 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* Another host's unicast, and multicast we never joined, are not ours. */
static void eth_test_not_for_us_dropped(void)
{
    struct fx_link l;
    struct eth_rec rec = { 0 };
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_IPV4, eth_rec_rx, &rec), 0);
    eth_deliver(&l, eth_other_mac, fx_peer_mac, ETH_TYPE_IPV4, 0);
    eth_deliver(&l, eth_mcast_mac, fx_peer_mac, ETH_TYPE_IPV4, 0);
    CU_ASSERT_EQUAL(rec.calls, 0);
    CU_ASSERT_EQUAL(l.eth.stats.drop_not_for_us, 2);
    CU_ASSERT_EQUAL(l.eth.stats.rx_frames, 2);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* A frame bearing our own source MAC is a loop (or a spoof). */
static void eth_test_own_source_dropped(void)
{
    struct fx_link l;
    struct eth_rec rec = { 0 };
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_ARP, eth_rec_rx, &rec), 0);
    eth_deliver(&l, eth_broadcast, fx_my_mac, ETH_TYPE_ARP, 0);
    eth_deliver(&l, fx_my_mac, fx_my_mac, ETH_TYPE_ARP, 0);
    CU_ASSERT_EQUAL(rec.calls, 0);
    CU_ASSERT_EQUAL(l.eth.stats.drop_own_source, 2);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

static void eth_test_unknown_type_dropped(void)
{
    struct fx_link l;
    struct eth_rec rec = { 0 };
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_ARP, eth_rec_rx, &rec), 0);
    eth_deliver(&l, fx_my_mac, fx_peer_mac, 0x86dd, 0);      /* IPv6 */
    eth_deliver(&l, fx_my_mac, fx_peer_mac, ETH_TYPE_IPV4, 0);
    CU_ASSERT_EQUAL(rec.calls, 0);
    CU_ASSERT_EQUAL(l.eth.stats.drop_unknown_type, 2);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* Frames of 0..13 bytes arrive from the wire and are counted as runts. */
static void eth_test_runt_counted(void)
{
    struct fx_link l;
    struct eth_rec rec = { 0 };
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_IPV4, eth_rec_rx, &rec), 0);
    uint8_t frame[ETH_HLEN];
    fx_frame(frame, fx_my_mac, fx_peer_mac, ETH_TYPE_IPV4, NULL, 0);
    for (size_t len = 0; len < ETH_HLEN; len++) {
        fx_peer_send(&l, frame, len);
        CU_ASSERT_EQUAL(fx_pump(&l, 0), 1);
    }
    CU_ASSERT_EQUAL(l.eth.stats.drop_runt, ETH_HLEN);
    CU_ASSERT_EQUAL(rec.calls, 0);
    /* A bare header is no runt: it dispatches with an empty payload. */
    fx_peer_send(&l, frame, ETH_HLEN);
    CU_ASSERT_EQUAL(fx_pump(&l, 0), 1);
    CU_ASSERT_EQUAL(rec.calls, 1);
    CU_ASSERT_EQUAL(rec.len, 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* Two handlers each get only their own EtherType; the table is bounded. */
static void eth_test_dispatch_by_type_and_table_full(void)
{
    struct fx_link l;
    struct eth_rec arp = { 0 }, ip = { 0 };
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_ARP, eth_rec_rx, &arp), 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, ETH_TYPE_IPV4, eth_rec_rx, &ip), 0);
    eth_deliver(&l, fx_my_mac, fx_peer_mac, ETH_TYPE_IPV4, 0);
    eth_deliver(&l, fx_my_mac, fx_peer_mac, ETH_TYPE_IPV4, 0);
    eth_deliver(&l, eth_broadcast, fx_peer_mac, ETH_TYPE_ARP, 0);
    CU_ASSERT_EQUAL(ip.calls, 2);
    CU_ASSERT_EQUAL(arp.calls, 1);
    for (unsigned i = 2; i < ETH_MAX_HANDLERS; i++)
        CU_ASSERT_EQUAL(eth_register(&l.eth, (uint16_t)(0x9000 + i),
                                     eth_rec_rx, &ip), 0);
    CU_ASSERT_EQUAL(eth_register(&l.eth, 0x9999, eth_rec_rx, &ip), -ENOSPC);
    CU_ASSERT_EQUAL(l.eth.nhandlers, ETH_MAX_HANDLERS);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* A pool buffer whose storage is dirty, so padding must be written. */
static struct pbuf *eth_dirty_payload(struct fx_link *l, size_t len)
{
    struct pbuf *pb = pbuf_alloc(&l->pool, PBUF_HEADROOM, len);
    if (!pb)
        return NULL;
    memset(pb->base, 0xee, pb->cap);
    for (size_t i = 0; i < len; i++)
        pb->data[i] = (uint8_t)i;
    return pb;
}

/* Check one padded frame from the wire: our header, the payload, zeros. */
static void eth_check_padded(const uint8_t *f, size_t len, size_t plen)
{
    struct eth_hdr h;
    CU_ASSERT_EQUAL_FATAL(len, ETH_ZLEN);
    CU_ASSERT_EQUAL_FATAL(eth_parse(f, len, &h), 0);
    CU_ASSERT_EQUAL(memcmp(h.dst, fx_peer_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(memcmp(h.src, fx_my_mac, ETH_ALEN), 0);
    CU_ASSERT_EQUAL(h.type, ETH_TYPE_IPV4);
    unsigned bad_payload = 0, nonzero_pad = 0;
    for (size_t i = 0; i < plen; i++)
        bad_payload += f[ETH_HLEN + i] != (uint8_t)i;
    for (size_t i = ETH_HLEN + plen; i < ETH_ZLEN; i++)
        nonzero_pad += f[i] != 0;
    CU_ASSERT_EQUAL(bad_payload, 0);
    CU_ASSERT_EQUAL(nonzero_pad, 0);
}

/* Every payload shorter than the 46-byte minimum goes out as a 60-byte
 * frame, padded with zeros (not whatever the buffer held). */
static void eth_test_output_pads_to_60(void)
{
    const size_t min_payload = ETH_ZLEN - ETH_HLEN;
    struct fx_link l;
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    for (size_t plen = 0; plen <= min_payload; plen++) {
        struct pbuf *pb = eth_dirty_payload(&l, plen);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
        CU_ASSERT_EQUAL(eth_output(&l.eth, pb, fx_peer_mac, ETH_TYPE_IPV4), 0);
        uint8_t f[FX_FRAME_MAX];
        eth_check_padded(f, fx_peer_recv(&l, f, sizeof f), plen);
        CU_ASSERT_EQUAL(memdev_pending(l.peer), 0);    /* exactly one */
    }
    CU_ASSERT_EQUAL(l.eth.stats.tx_frames, min_payload + 1);
    CU_ASSERT_EQUAL(l.eth.stats.tx_bytes, (min_payload + 1) * ETH_ZLEN);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* Frames at or above the minimum go out at their own length. */
static void eth_test_output_no_pad_when_long(void)
{
    static const size_t lens[] = { 47, 48, 1500 };
    struct fx_link l;
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        struct pbuf *pb = eth_dirty_payload(&l, lens[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
        CU_ASSERT_EQUAL(eth_output(&l.eth, pb, eth_broadcast, 0x88b5), 0);
        uint8_t f[FX_FRAME_MAX];
        size_t len = fx_peer_recv(&l, f, sizeof f);
        CU_ASSERT_EQUAL(len, ETH_HLEN + lens[k]);
        CU_ASSERT_EQUAL(f[len - 1], (uint8_t)(lens[k] - 1));
    }
    CU_ASSERT_EQUAL(l.eth.stats.tx_bytes, 3 * ETH_HLEN + 47 + 48 + 1500);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* No headroom for the header: refused, counted, buffer still freed. */
static void eth_test_output_without_headroom(void)
{
    struct fx_link l;
    CU_ASSERT_FATAL(fx_link_init(&l, 8) == 0);
    struct pbuf *pb = pbuf_alloc(&l.pool, ETH_HLEN - 1, 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
    CU_ASSERT_EQUAL(eth_output(&l.eth, pb, fx_peer_mac, ETH_TYPE_IPV4),
                    -ENOBUFS);
    CU_ASSERT_EQUAL(l.eth.stats.tx_error, 1);
    CU_ASSERT_EQUAL(l.eth.stats.tx_frames, 0);
    CU_ASSERT_EQUAL(memdev_pending(l.peer), 0);
    CU_ASSERT_EQUAL(fx_link_destroy(&l), 0);
}

/* The name table covers every field of the stats struct, once each, so
 * printing and lookups cannot drift from the struct. */
static void eth_test_counter_table(void)
{
    CU_ASSERT_EQUAL(eth_counter_count * sizeof(uint64_t),
                    sizeof(struct eth_stats));
    for (size_t i = 0; i < eth_counter_count; i++)
        for (size_t j = i + 1; j < eth_counter_count; j++) {
            CU_ASSERT(strcmp(eth_counter_desc[i].name,
                             eth_counter_desc[j].name) != 0);
            CU_ASSERT(eth_counter_desc[i].offset != eth_counter_desc[j].offset);
        }
    struct eth_stats s = { .drop_runt = 9, .tx_error = 4 };
    CU_ASSERT_EQUAL(ts_counter_get(eth_counter_desc, eth_counter_count, &s,
                                   "drop_runt"), 9);
    CU_ASSERT_EQUAL(ts_counter_get(eth_counter_desc, eth_counter_count, &s,
                                   "tx_error"), 4);
}

TS_SUITE(eth,
         TS_TEST(eth_test_parse_good),
         TS_TEST(eth_test_parse_runt),
         TS_TEST(eth_test_emit_round_trip),
         TS_TEST(eth_test_address_classes),
         TS_TEST(eth_test_unicast_dispatched),
         TS_TEST(eth_test_broadcast_dispatched),
         TS_TEST(eth_test_not_for_us_dropped),
         TS_TEST(eth_test_own_source_dropped),
         TS_TEST(eth_test_unknown_type_dropped),
         TS_TEST(eth_test_runt_counted),
         TS_TEST(eth_test_dispatch_by_type_and_table_full),
         TS_TEST(eth_test_output_pads_to_60),
         TS_TEST(eth_test_output_no_pad_when_long),
         TS_TEST(eth_test_output_without_headroom),
         TS_TEST(eth_test_counter_table))
