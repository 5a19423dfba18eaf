/* tests/unit/test_vnet.c - the TAP's virtio-net header (eth/vnet_wire.c):
 * parse and emit against the kernel's byte layout, every hostile header
 * refused before it can point outside the frame, the header built for a
 * super-frame; the partial checksum finished as the kernel finishes it;
 * and a TCP super-frame received with a partial checksum delivered to the
 * application byte-exact as one segment, answered by one ACK.
 */
#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "eth/vnet_wire.h"
#include "tests/unit/tcp_harness.h"
#include "tests/unit/unit.h"

static uint8_t vt_mem[PBUF_LARGE_CAP];

/* A pbuf over vt_mem with headroom 100 and len bytes of frame. */
static struct pbuf vt_pbuf(size_t len)
{
    struct pbuf pb = { .base = vt_mem, .data = vt_mem + 100, .len = len,
                       .cap = sizeof vt_mem };
    return pb;
}

static void vt_test_parse_emit_layout(void)
{
    /* flags, gso_type, then hdr_len, gso_size, csum_start, csum_offset as
     * little-endian 16-bit fields (virtio 1.0; TUNSETVNETLE). */
    static const uint8_t raw[VNET_HLEN] = {
        0x01, 0x01, 0x42, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00,
    };
    struct vnet_hdr h;
    CU_ASSERT_EQUAL(vnet_parse(raw, sizeof raw, &h), VNET_OK);
    CU_ASSERT_EQUAL(h.flags, VNET_F_NEEDS_CSUM);
    CU_ASSERT_EQUAL(h.gso_type, VNET_GSO_TCPV4);
    CU_ASSERT_EQUAL(h.hdr_len, 66);
    CU_ASSERT_EQUAL(h.gso_size, 1448);
    CU_ASSERT_EQUAL(h.csum_start, 34);
    CU_ASSERT_EQUAL(h.csum_offset, 16);
    uint8_t out[VNET_HLEN];
    vnet_emit(&h, out);
    CU_ASSERT_EQUAL(memcmp(out, raw, sizeof raw), 0);
    for (size_t n = 0; n < VNET_HLEN; n++)
        CU_ASSERT_EQUAL(vnet_parse(raw, n, &h), VNET_ERR_TRUNCATED);
}

static void vt_test_plain_and_valid(void)
{
    struct vnet_hdr h = { 0 };
    struct pbuf pb = vt_pbuf(60);
    pb.flags = PBUF_F_CSUM_VALID | PBUF_F_GSO_TCPV4;    /* stale: cleared */
    CU_ASSERT_EQUAL(vnet_to_pbuf(&h, &pb), VNET_OK);
    CU_ASSERT_EQUAL(pb.flags, 0);
    h.flags = VNET_F_DATA_VALID;
    CU_ASSERT_EQUAL(vnet_to_pbuf(&h, &pb), VNET_OK);
    CU_ASSERT_EQUAL(pb.flags, PBUF_F_CSUM_VALID);
    h.flags = VNET_F_NEEDS_CSUM;
    h.csum_start = 34;
    h.csum_offset = 16;
    CU_ASSERT_EQUAL(vnet_to_pbuf(&h, &pb), VNET_OK);
    CU_ASSERT_EQUAL(pb.flags, PBUF_F_CSUM_PARTIAL | PBUF_F_CSUM_VALID);
    CU_ASSERT_EQUAL(pb.off.csum_start, 100 + 34);  /* from base */
    CU_ASSERT_EQUAL(pb.off.csum_off, 16);
    h.gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN;
    h.gso_size = 1448;
    CU_ASSERT_EQUAL(vnet_to_pbuf(&h, &pb), VNET_OK);
    CU_ASSERT(pb.flags & PBUF_F_GSO_TCPV4);
    CU_ASSERT_EQUAL(pb.off.gso_size, 1448);
}

/* Every header vnet_to_pbuf refuses leaves pb as it was. */
static void vt_expect_refused(const struct vnet_hdr *h, size_t len, int err)
{
    struct pbuf pb = vt_pbuf(len);
    pb.flags = 0x100;
    CU_ASSERT_EQUAL(vnet_to_pbuf(h, &pb), err);
    CU_ASSERT_EQUAL(pb.flags, 0x100);
}

static void vt_test_hostile_headers(void)
{
    static const uint8_t bad_types[] = { 2, 3, 4, 5, 6, 0x7f, 0x83, 0x84, 0xff };
    for (size_t i = 0; i < sizeof bad_types; i++) {
        struct vnet_hdr h = { .gso_type = bad_types[i], .gso_size = 1448 };
        vt_expect_refused(&h, 1514, VNET_ERR_GSO_TYPE);
    }
    struct vnet_hdr h = { .gso_type = VNET_GSO_TCPV4, .gso_size = 0 };
    vt_expect_refused(&h, 1514, VNET_ERR_GSO_SIZE);
    h = (struct vnet_hdr){ .hdr_len = 1515 };
    vt_expect_refused(&h, 1514, VNET_ERR_HDR_LEN);
    h = (struct vnet_hdr){ .hdr_len = 0xffff };
    vt_expect_refused(&h, 60, VNET_ERR_HDR_LEN);
    struct { uint16_t start, off; size_t len; } csum[] = {
        { 0, 16, 60 },          /* inside the Ethernet header */
        { 13, 0, 60 },
        { 34, 16, 51 },         /* field's second byte past the end */
        { 34, 16, 50 },
        { 58, 0, 59 },
        { 60, 0, 60 },
        { 0xffff, 0xffff, 65549 },  /* sums that wrap 16 bits */
        { 0xfff0, 0x20, 65549 },
        { 34, 0xffff, 65549 },
    };
    for (size_t i = 0; i < sizeof csum / sizeof csum[0]; i++) {
        h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM,
                               .csum_start = csum[i].start,
                               .csum_offset = csum[i].off };
        vt_expect_refused(&h, csum[i].len, VNET_ERR_CSUM);
    }
    /* Exhaustive on a small frame: whatever is accepted points inside. */
    for (unsigned s = 0; s < 80; s++)
        for (unsigned o = 0; o < 80; o++) {
            struct pbuf pb = vt_pbuf(64);
            h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM,
                                   .csum_start = (uint16_t)s,
                                   .csum_offset = (uint16_t)o };
            int ok = vnet_to_pbuf(&h, &pb) == VNET_OK;
            CU_ASSERT_EQUAL(ok, s >= 14 && s + o + 2 <= 64);
        }
}

static void vt_test_from_pbuf(void)
{
    struct vnet_hdr h;
    struct pbuf pb = vt_pbuf(20000);
    memset(&h, 0xaa, sizeof h);
    CU_ASSERT_EQUAL(vnet_from_pbuf(&pb, &h), VNET_OK);  /* plain: all zero */
    CU_ASSERT_EQUAL(h.flags, 0);
    CU_ASSERT_EQUAL(h.gso_type, 0);
    CU_ASSERT_EQUAL(h.csum_start, 0);
    pb.flags = PBUF_F_CSUM_PARTIAL | PBUF_F_GSO_TCPV4;
    pb.off = (struct pbuf_offload){ .csum_start = 100 + 34, .csum_off = 16,
                                    .hdr_len = 20, .gso_size = 1460,
                                    .gso_segs = 14 };
    CU_ASSERT_EQUAL(vnet_from_pbuf(&pb, &h), VNET_OK);
    CU_ASSERT_EQUAL(h.flags, VNET_F_NEEDS_CSUM);
    CU_ASSERT_EQUAL(h.gso_type, VNET_GSO_TCPV4);
    CU_ASSERT_EQUAL(h.gso_size, 1460);
    CU_ASSERT_EQUAL(h.csum_start, 34);
    CU_ASSERT_EQUAL(h.csum_offset, 16);
    CU_ASSERT_EQUAL(h.hdr_len, 54);
    /* Metadata that does not fit the frame is refused, never sent. */
    struct pbuf bad = pb;
    bad.flags = PBUF_F_GSO_TCPV4;           /* GSO needs a partial sum */
    CU_ASSERT_EQUAL(vnet_from_pbuf(&bad, &h), VNET_ERR_CSUM);
    bad = pb;
    bad.off.csum_start = 50;                /* before the frame */
    CU_ASSERT_EQUAL(vnet_from_pbuf(&bad, &h), VNET_ERR_CSUM);
    bad = pb;
    bad.off.csum_off = 20000;
    CU_ASSERT_EQUAL(vnet_from_pbuf(&bad, &h), VNET_ERR_CSUM);
    bad = pb;
    bad.off.gso_size = 0;
    CU_ASSERT_EQUAL(vnet_from_pbuf(&bad, &h), VNET_ERR_GSO_SIZE);
    bad = pb;
    bad.len = 53;                           /* headers end at 54 */
    CU_ASSERT_EQUAL(vnet_from_pbuf(&bad, &h), VNET_ERR_HDR_LEN);
}

/* The pseudo-header sum in the field, finished over the segment, is the
 * checksum a full computation gives (what the kernel does per segment). */
static void vt_test_partial_checksum_finishes(void)
{
    uint8_t seg[3001];
    for (size_t i = 0; i < sizeof seg; i++)
        seg[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 20; len <= sizeof seg; len += 327) {
        seg[16] = seg[17] = 0;
        uint16_t full = cksum_pseudo(0x0a000001u, 0x0a000002u, 6, seg, len);
        store_be16(seg + 16, cksum_pseudo_partial(0x0a000001u, 0x0a000002u,
                                                  6, len));
        CU_ASSERT_EQUAL(cksum_finish(seg, len, 0, 16), 0);
        CU_ASSERT_EQUAL(load_be16(seg + 16), full);
        CU_ASSERT_EQUAL(cksum_pseudo(0x0a000001u, 0x0a000002u, 6, seg, len), 0);
    }
    CU_ASSERT_EQUAL(cksum_finish(seg, 17, 0, 16), -1);
    CU_ASSERT_EQUAL(cksum_finish(seg, 10, 11, 0), -1);
    CU_ASSERT_EQUAL(cksum_finish(seg, 100, 50, (size_t)-1), -1);
}

/* A 40,000-byte super-frame (gso_size 1448, partial checksum, as the
 * kernel hands over with TSO4) from A's side of an established connection,
 * put straight into B's input: one segment, every byte in place, one ACK
 * for all of it (as after GRO). */
static void vt_test_super_frame_is_one_segment(void)
{
    struct th_opts o;
    th_config_default(&o);
    struct th *h = th_new(&o);
    struct th_conn *a, *b;
    th_established_pair(h, 5001, &a, &b);
    struct stack *sb = &h->s[TH_B];
    const uint32_t n = 40000;
    struct pbuf *pb = pbuf_alloc(&sb->pool, PBUF_HEADROOM,
                                 ETH_HLEN + IPV4_HLEN + TCP_HLEN + n);
    CU_ASSERT_FATAL(pb != NULL);
    uint8_t *f = pb->data;
    struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
    memcpy(eh.dst, sb->cfg.mac, ETH_ALEN);
    memcpy(eh.src, h->s[TH_A].cfg.mac, ETH_ALEN);
    eth_emit(&eh, f);
    struct ipv4_hdr ih = { .hlen = IPV4_HLEN, .ttl = 64,
                           .total_len = (uint16_t)(IPV4_HLEN + TCP_HLEN + n),
                           .proto = IPV4_PROTO_TCP, .src = TH_A_IP,
                           .dst = TH_B_IP };
    ipv4_emit(&ih, f + ETH_HLEN);
    struct tcp_hdr th = { .sport = a->c->lport, .dport = a->c->rport,
                          .seq = b->c->rcv_nxt, .ack = b->c->snd_nxt,
                          .flags = TCP_ACK | TCP_PSH, .wnd = 0xffff };
    uint8_t *t = f + ETH_HLEN + IPV4_HLEN;
    tcp_emit(&th, t);
    for (uint32_t i = 0; i < n; i++)
        t[TCP_HLEN + i] = th_pattern(b->rx_seed, i);
    store_be16(t + 16, cksum_pseudo_partial(TH_A_IP, TH_B_IP, IPV4_PROTO_TCP,
                                            TCP_HLEN + n));
    struct vnet_hdr vh = { .flags = VNET_F_NEEDS_CSUM,
                           .gso_type = VNET_GSO_TCPV4, .gso_size = 1448,
                           .hdr_len = ETH_HLEN + IPV4_HLEN + TCP_HLEN,
                           .csum_start = ETH_HLEN + IPV4_HLEN,
                           .csum_offset = 16 };
    CU_ASSERT_EQUAL_FATAL(vnet_to_pbuf(&vh, pb), VNET_OK);
    uint64_t segs = sb->tcp.stats.rx_segments;
    uint64_t sent = h->nseg[TH_B_TO_A];
    uint32_t want_ack = b->c->rcv_nxt + n;
    /* A never sent those bytes: its answer to B's ACK (an ACK of its own,
     * RFC 9293 §3.10.7.4) would start an exchange that is not the point. */
    th_rule_add(h, TH_A_TO_B, 0, 0, -1, 0, 0, TH_DROP);
    tcp_batch_begin(&sb->tcp);
    stack_input(sb, pb, h->now);
    tcp_batch_end(&sb->tcp);
    th_pump(h);
    CU_ASSERT_EQUAL(sb->tcp.stats.rx_segments, segs + 1);
    CU_ASSERT_EQUAL(sb->tcp.stats.drop_bad_cksum, 0);
    CU_ASSERT_EQUAL(b->rx_bytes, n);
    CU_ASSERT_EQUAL(b->rx_bad, 0);
    /* The ACK, and perhaps the window update once the reader took it. */
    CU_ASSERT_FATAL(h->nseg[TH_B_TO_A] >= sent + 1);
    CU_ASSERT(h->nseg[TH_B_TO_A] <= sent + 2);
    for (uint64_t i = sent; i < h->nseg[TH_B_TO_A]; i++) {
        const struct th_seg *ack = &h->log[TH_B_TO_A][i];
        CU_ASSERT_EQUAL(ack->flags, TCP_ACK);
        CU_ASSERT_EQUAL(ack->len, 0);
        CU_ASSERT_EQUAL(ack->ack, want_ack);
    }
    th_free(h);
}

TS_SUITE(vnet,
         TS_TEST(vt_test_parse_emit_layout),
         TS_TEST(vt_test_plain_and_valid),
         TS_TEST(vt_test_hostile_headers),
         TS_TEST(vt_test_from_pbuf),
         TS_TEST(vt_test_partial_checksum_finishes),
         TS_TEST(vt_test_super_frame_is_one_segment))
