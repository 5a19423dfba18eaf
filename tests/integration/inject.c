/* tests/integration/inject.c - send crafted hostile Ethernet frames into the
 * stack, from the kernel side of its TAP.
 *
 * A frame written to an AF_PACKET socket bound to the TAP interface leaves
 * the kernel through the TAP and is read by whoever holds the TAP fd: the
 * stack under test. Each kind of attack is a set of frames, sent in named
 * groups; each group maps to one drop counter of the stack. At the end it
 * prints one line per group, summed over the --count rounds:
 *     inject: GROUP sent=N expect=M refused=R lost=L
 * where expect is how many drops the stack must count for the group (one per
 * frame, or one per datagram for overlapping fragments), refused the frames
 * the kernel would not send, lost those the TAP queue dropped even after
 * retries. The TAP queue is small (500 frames); when the stack reads slower
 * than we write, the kernel drops and counts in tx_dropped, so every frame is
 * sent straight to the driver (PACKET_QDISC_BYPASS), checked against that
 * counter, and re-sent after a short pause when it was dropped.
 *
 * Runts: the kernel refuses (EINVAL) packet-socket frames shorter than the
 * 14-byte link header (dev_validate_header, min_header_len), so the "runt"
 * kind reports those as refused and sends 14..33-byte IPv4 frames, which
 * the TAP delivers unpadded, as the shortest runts that can be made.
 *
 * Kinds: runt, bad-version, bad-ihl, ihl-past-end, short-totlen, long-totlen,
 * bad-cksum, overlap, ping-of-death, frag-flood, arp-flood, bad-arp, martian,
 * martian-dst (valid datagrams from the host to 127/8: echo, a SYN to port
 * 7, UDP to port 7), ip-options (echo requests with malformed IP options,
 * in groups by the stack's drop counter, and with source routes not yet
 * completed), all; and two TCP attacks that are not part of "all" (they are not
 * malformed, and one needs a live connection):
 *   syn-flood  --count SYNs (default 5000) to --dport (default 7), each from
 *              a distinct (address, port) of the subnet: fills the SYN queue;
 *   rst-storm  --count RSTs (default 1000) in each of three groups against
 *              the connection --src-ip:--sport -> --dst-ip:--dport. It first
 *              waits (at most 5 s) for a segment the stack sends on that
 *              connection to learn its RCV.NXT and window, then sends RSTs
 *              inside the window but never at RCV.NXT (each must draw a
 *              challenge ACK or be counted as rate-limited, RFC 5961 §3.2),
 *              RSTs with random sequence numbers far outside the window
 *              (ignored), and RSTs from other subnet addresses to random
 *              ports (no connection: ignored, never answered).
 * Every spoofed address stays in the test namespace's subnet (the /24 of
 * --src-ip), except the martian sources and destinations, which are not
 * hosts at all.
 * Entry point: main.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/bytes.h"
#include "core/cksum.h"
#include "core/rand.h"
#include "ipv4/ipv4_wire.h"
#include "tcp/tcp_wire.h"

#define INJ_FRAME_MAX 1514
#define INJ_RETRIES 400         /* per frame, 1 ms apart */
#define INJ_STALL_FRAMES 3      /* lost in a row: the TAP has no reader */
#define INJ_ECHO_DATA 32        /* ICMP echo payload in crafted datagrams */
#define INJ_FLOOD_DEFAULT 1000
#define INJ_GROUPS_MAX 32
#define INJ_SYN_FLOOD_DEFAULT 5000
#define INJ_RST_STORM_DEFAULT 1000
#define INJ_SNIFF_MS 5000       /* rst-storm: wait this long for the stack */

struct inj {
    int fd;
    int ifindex;
    int drop_fd;                /* sysfs tx_dropped of the TAP, or -1 */
    uint8_t src_mac[6];         /* the kernel side of the TAP */
    uint8_t dst_mac[6];         /* the stack */
    uint32_t src_ip, dst_ip;    /* host order */
    unsigned count;
    int count_given;
    uint16_t sport, dport;      /* TCP kinds: the connection's ports */
    struct ts_rand rand;        /* fixed seed: runs repeat exactly */
    uint16_t next_id;
    /* the current group */
    const char *group;
    unsigned long sent, refused, lost;
    unsigned long total_sent, total_refused, total_lost;
    unsigned long retried;      /* re-sends after the TAP queue dropped */
    int failed;                 /* a kind could not run: exit status 1 */
    unsigned stalled;           /* frames lost in a row */
    /* per group, summed over rounds, printed at the end */
    struct inj_group {
        const char *name;
        unsigned long sent, expect, refused, lost;
    } groups[INJ_GROUPS_MAX];
    unsigned ngroups;
};

/* ---- sending --------------------------------------------------------- */

static long long inj_tx_dropped(const struct inj *in)
{
    char buf[32];
    if (in->drop_fd < 0)
        return -1;
    ssize_t n = pread(in->drop_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return strtoll(buf, NULL, 10);
}

static void inj_pause_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* One attempt: 1 sent, 0 dropped by the TAP queue (try again), -errno. */
static int inj_try_send(struct inj *in, const uint8_t *f, size_t len)
{
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = in->ifindex;
    sll.sll_halen = 6;
    memcpy(sll.sll_addr, in->dst_mac, 6);
    long long before = inj_tx_dropped(in);
    ssize_t n = sendto(in->fd, f, len, 0, (struct sockaddr *)&sll, sizeof sll);
    if (n < 0)
        return (errno == ENOBUFS || errno == EAGAIN) ? 0 : -errno;
    if (before >= 0 && inj_tx_dropped(in) != before)
        return 0;
    return 1;
}

/* Send one frame, re-sending while the TAP queue is full. After a few
 * frames lost in a row nobody is reading the TAP: stop trying (every
 * later frame counts as lost) so a dead stack costs seconds, not hours. */
static void inj_send(struct inj *in, const uint8_t *f, size_t len)
{
    if (in->stalled >= INJ_STALL_FRAMES) {
        in->lost++;
        return;
    }
    for (int tries = 0; tries < INJ_RETRIES; tries++) {
        int rc = inj_try_send(in, f, len);
        if (rc > 0) {
            in->sent++;
            in->stalled = 0;
            return;
        }
        if (rc < 0) {
            in->refused++;
            return;
        }
        in->retried++;
        inj_pause_ms(1);
    }
    in->lost++;
    if (++in->stalled == INJ_STALL_FRAMES)
        fprintf(stderr, "inject: %u frames in a row dropped by the TAP queue:"
                " is the stack reading? giving up\n", INJ_STALL_FRAMES);
}

static void inj_group_begin(struct inj *in, const char *group)
{
    in->group = group;
    in->sent = in->refused = in->lost = 0;
}

static struct inj_group *inj_group_find(struct inj *in, const char *name)
{
    for (unsigned i = 0; i < in->ngroups; i++)
        if (strcmp(in->groups[i].name, name) == 0)
            return &in->groups[i];
    if (in->ngroups == INJ_GROUPS_MAX)
        return NULL;
    struct inj_group *g = &in->groups[in->ngroups++];
    memset(g, 0, sizeof *g);
    g->name = name;
    return g;
}

/* expect < 0: one drop expected per frame sent. */
static void inj_group_end(struct inj *in, long expect)
{
    struct inj_group *g = inj_group_find(in, in->group);
    if (g) {
        g->sent += in->sent;
        g->expect += expect < 0 ? in->sent : (unsigned long)expect;
        g->refused += in->refused;
        g->lost += in->lost;
    }
    in->total_sent += in->sent;
    in->total_refused += in->refused;
    in->total_lost += in->lost;
}

/* ---- frame builders -------------------------------------------------- */

static size_t put_eth(const struct inj *in, uint8_t *f, const uint8_t *dst,
                      const uint8_t *src, uint16_t type)
{
    memcpy(f, dst ? dst : in->dst_mac, 6);
    memcpy(f + 6, src ? src : in->src_mac, 6);
    store_be16(f + 12, type);
    return 14;
}

static void ip_fix_cksum(uint8_t *ip, size_t hlen)
{
    store_be16(ip + 10, 0);
    store_be16(ip + 10, inet_cksum(ip, hlen));
}

/* A correct 20-byte header (callers then break it); returns 20. */
static size_t put_ip(struct inj *in, uint8_t *ip, uint16_t total, uint16_t frag,
                     uint32_t src)
{
    struct ipv4_hdr h = {
        .hlen = IPV4_HLEN, .total_len = total, .id = in->next_id++,
        .frag = frag, .ttl = IPV4_DEFAULT_TTL, .proto = IPV4_PROTO_ICMP,
        .src = src, .dst = in->dst_ip,
    };
    ipv4_emit(&h, ip);
    return IPV4_HLEN;
}

/* An ICMP echo request of 8 + data bytes, checksummed. */
static size_t put_echo(uint8_t *p, size_t data, uint16_t seq)
{
    p[0] = 8;
    p[1] = 0;
    store_be16(p + 2, 0);
    store_be16(p + 4, 0x7473);      /* "ts" */
    store_be16(p + 6, seq);
    for (size_t i = 0; i < data; i++)
        p[8 + i] = (uint8_t)(0x20 + i % 64);
    store_be16(p + 2, inet_cksum(p, 8 + data));
    return 8 + data;
}

/* A whole, valid ICMP echo datagram in an Ethernet frame; returns its
 * length. The caller breaks one thing in it. */
static size_t put_echo_frame(struct inj *in, uint8_t *f, uint32_t src)
{
    size_t n = put_eth(in, f, NULL, NULL, 0x0800);
    uint16_t total = (uint16_t)(IPV4_HLEN + 8 + INJ_ECHO_DATA);
    n += put_ip(in, f + n, total, 0, src);
    n += put_echo(f + n, INJ_ECHO_DATA, in->next_id);
    return n;
}

/* ---- kinds ----------------------------------------------------------- */

/* The kernel refuses packet-socket frames shorter than the link header
 * (dev_validate_header); try them anyway and report what it did. Then
 * 14..33-byte IPv4 frames: a whole Ethernet header but no room for an IP
 * header. */
static void kind_runt(struct inj *in)
{
    uint8_t f[64];
    inj_group_begin(in, "runt-sub14");
    for (size_t len = 1; len < 14; len++) {
        memset(f, 0, sizeof f);
        put_eth(in, f, NULL, NULL, 0x0800);
        inj_send(in, f, len);
    }
    inj_group_end(in, -1);
    inj_group_begin(in, "runt-no-ip-header");
    for (size_t len = 14; len < 14 + IPV4_HLEN; len++) {
        memset(f, 0, sizeof f);
        size_t n = put_eth(in, f, NULL, NULL, 0x0800);
        put_ip(in, f + n, (uint16_t)(len - n), 0, in->src_ip);
        inj_send(in, f, len);
    }
    inj_group_end(in, -1);
}

static void kind_bad_version(struct inj *in)
{
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "bad-version");
    for (unsigned v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        size_t n = put_echo_frame(in, f, in->src_ip);
        f[14] = (uint8_t)(v << 4 | 5);
        ip_fix_cksum(f + 14, IPV4_HLEN);
        inj_send(in, f, n);
    }
    inj_group_end(in, -1);
}

static void kind_bad_ihl(struct inj *in)
{
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "bad-ihl");
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        size_t n = put_echo_frame(in, f, in->src_ip);
        f[14] = (uint8_t)(4 << 4 | ihl);
        ip_fix_cksum(f + 14, IPV4_HLEN);
        inj_send(in, f, n);
    }
    inj_group_end(in, -1);
}

/* IHL 6..15 on a datagram of only IHL*4 - 4 bytes (at least 20). */
static void kind_ihl_past_end(struct inj *in)
{
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "ihl-past-end");
    for (unsigned ihl = 6; ihl < 16; ihl++) {
        size_t bytes = ihl * 4 - 4;
        if (bytes < IPV4_HLEN)
            bytes = IPV4_HLEN;
        memset(f, 0x01, sizeof f);          /* NOP options */
        size_t n = put_eth(in, f, NULL, NULL, 0x0800);
        put_ip(in, f + n, (uint16_t)bytes, 0, in->src_ip);
        f[n] = (uint8_t)(4 << 4 | ihl);
        ip_fix_cksum(f + n, bytes);
        inj_send(in, f, n + bytes);
    }
    inj_group_end(in, -1);
}

/* Total length shorter than the header: IHL 5 with 0, 1, 10, 19; IHL 15
 * (NOP options) with 20 and 59. */
static void kind_short_totlen(struct inj *in)
{
    static const struct { uint8_t ihl; uint16_t total; } v[] = {
        { 5, 0 }, { 5, 1 }, { 5, 10 }, { 5, 19 }, { 15, 20 }, { 15, 59 },
    };
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "short-totlen");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        memset(f, 0x01, sizeof f);
        size_t n = put_eth(in, f, NULL, NULL, 0x0800);
        size_t hlen = (size_t)v[i].ihl * 4;
        put_ip(in, f + n, v[i].total, 0, in->src_ip);
        f[n] = (uint8_t)(4 << 4 | v[i].ihl);
        ip_fix_cksum(f + n, hlen);
        size_t len = n + hlen + 8 + INJ_ECHO_DATA;
        put_echo(f + n + hlen, INJ_ECHO_DATA, (uint16_t)i);
        inj_send(in, f, len);
    }
    inj_group_end(in, -1);
}

/* Total length beyond the bytes of the frame. */
static void kind_long_totlen(struct inj *in)
{
    static const uint16_t totals[] = { 61, 100, 1500, 65535 };
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "long-totlen");
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        size_t n = put_echo_frame(in, f, in->src_ip);   /* 60-byte datagram */
        store_be16(f + 16, totals[i]);
        ip_fix_cksum(f + 14, IPV4_HLEN);
        inj_send(in, f, n);
    }
    inj_group_end(in, -1);
}

/* Flip bits of a correct checksum; never by all 16 bits, which in ones'
 * complement would give the same sum (0x0000 and 0xffff are both zero). */
static void kind_bad_cksum(struct inj *in)
{
    static const uint16_t flips[] = { 0x0001, 0x0100, 0x5555, 0x8000 };
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "bad-cksum");
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        size_t n = put_echo_frame(in, f, in->src_ip);
        store_be16(f + 24, load_be16(f + 24) ^ flips[i]);
        inj_send(in, f, n);
    }
    inj_group_end(in, -1);
}

/* One fragment of datagram id: data bytes at byte offset off (a multiple
 * of 8), filled with fill, the first carrying an echo header. Protocol
 * ICMP, unless proto_other (then 253, experimental: a key no ping uses). */
static void send_frag_p(struct inj *in, uint16_t id, unsigned off, size_t data,
                        int more, uint8_t fill, int proto_other)
{
    uint8_t f[INJ_FRAME_MAX];
    size_t n = put_eth(in, f, NULL, NULL, 0x0800);
    uint16_t frag = (uint16_t)((more ? IPV4_MF : 0) | (off / 8));
    put_ip(in, f + n, (uint16_t)(IPV4_HLEN + data), frag, in->src_ip);
    store_be16(f + n + 4, id);
    if (proto_other)
        f[n + 9] = 253;
    ip_fix_cksum(f + n, IPV4_HLEN);
    memset(f + n + IPV4_HLEN, fill, data);
    if (off == 0 && data >= 8)
        put_echo(f + n + IPV4_HLEN, data - 8, id);
    inj_send(in, f, n + IPV4_HLEN + data);
}

static void send_frag(struct inj *in, uint16_t id, unsigned off, size_t data,
                      int more, uint8_t fill)
{
    send_frag_p(in, id, off, data, more, fill, 0);
}

/* Three datagrams, two fragments each, whose second fragment overlaps the
 * first with different bytes: partial overlap, one inside the other
 * (teardrop), and partial overlap arriving in reverse order. None is
 * complete, so a stack that merged them would still not answer. */
static void kind_overlap(struct inj *in)
{
    inj_group_begin(in, "overlap");
    uint16_t id = (uint16_t)(0xbe00 + in->next_id++ % 256);
    send_frag(in, id, 0, 24, 1, 0xaa);
    send_frag(in, id, 16, 24, 1, 0xbb);
    id = (uint16_t)(0xbe00 + in->next_id++ % 256);
    send_frag(in, id, 0, 32, 1, 0xaa);
    send_frag(in, id, 8, 8, 1, 0xbb);
    id = (uint16_t)(0xbe00 + in->next_id++ % 256);
    send_frag(in, id, 16, 24, 1, 0xbb);
    send_frag(in, id, 0, 24, 1, 0xaa);
    inj_group_end(in, (long)(in->sent / 2));
}

/* Fragments that end past 65,535 bytes of payload offset, each the only
 * fragment of its datagram: the classic ping of death (offset 65,528 with
 * 1,480 bytes), a last fragment one block too far, a non-last fragment
 * crossing the limit, and a large fragment far past it. */
static void kind_ping_of_death(struct inj *in)
{
    static const struct { unsigned off; size_t len; int more; } v[] = {
        { 65528, 1480, 0 }, { 65528, 16, 0 }, { 65520, 24, 1 },
        { 65000, 1480, 0 },
    };
    inj_group_begin(in, "ping-of-death");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint16_t id = (uint16_t)(0xde00 + in->next_id++ % 256);
        send_frag(in, id, v[i].off, v[i].len, v[i].more, 0xdd);
    }
    inj_group_end(in, -1);
}

/* Many datagrams, each only a middle fragment (offset 8, MF), so none can
 * complete and none has fragment 0 (no time-exceeded later): the stack
 * must evict old reassemblies rather than hold more. Protocol 253, so the
 * ones still held cannot catch a real ping's fragments. */
static void kind_frag_flood(struct inj *in)
{
    unsigned long n = in->count_given ? in->count : INJ_FLOOD_DEFAULT / 10;
    inj_group_begin(in, "frag-flood");
    for (unsigned long i = 0; i < n; i++)
        send_frag_p(in, (uint16_t)(0xf000 + i % 4096), 8, 16, 1, 0xff, 1);
    inj_group_end(in, -1);
}

/* The n-th flood sender: a distinct locally administered unicast MAC, and
 * an address of the /24 of src_ip, cycling, never src_ip nor dst_ip. */
static uint32_t flood_ip(const struct inj *in, unsigned long i)
{
    uint32_t net = in->src_ip & 0xffffff00u;
    unsigned long k = i % 252;          /* 254 hosts minus the two real ones */
    uint32_t host = 1;
    for (;; host++) {
        uint32_t a = net | host;
        if (a == in->src_ip || a == in->dst_ip)
            continue;
        if (k-- == 0)
            return a;
    }
}

static void put_arp(uint8_t *p, uint16_t op, const uint8_t *sha, uint32_t spa,
                    uint32_t tpa)
{
    store_be16(p, 1);
    store_be16(p + 2, 0x0800);
    p[4] = 6;
    p[5] = 4;
    store_be16(p + 6, op);
    memcpy(p + 8, sha, 6);
    store_be32(p + 14, spa);
    memset(p + 18, 0, 6);
    store_be32(p + 24, tpa);
}

/* A broadcast ARP request for the stack, padded to 60 bytes. */
static size_t put_arp_frame(struct inj *in, uint8_t *f, const uint8_t *sha,
                            uint32_t spa)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    memset(f, 0, 60);
    size_t n = put_eth(in, f, bcast, sha, 0x0806);
    put_arp(f + n, 1, sha, spa, in->dst_ip);
    return 60;
}

static void kind_arp_flood(struct inj *in)
{
    unsigned long n = in->count_given ? in->count : INJ_FLOOD_DEFAULT;
    uint8_t f[64], mac[6] = { 0x02, 0xad, 0, 0, 0, 0 };
    inj_group_begin(in, "arp-flood");
    for (unsigned long i = 0; i < n; i++) {
        store_be32(mac + 2, (uint32_t)i);
        inj_send(in, f, put_arp_frame(in, f, mac, flood_ip(in, i)));
    }
    inj_group_end(in, -1);
}

/* Malformed ARP for the stack's address: wrong htype/ptype/hlen/plen,
 * truncated (not padded: the TAP does not pad), and unknown operations. */
static void kind_bad_arp(struct inj *in)
{
    static const struct { uint8_t at; uint8_t v; } fmt[] = {
        { 4, 0 }, { 4, 5 }, { 4, 7 }, { 4, 255 },   /* hlen */
        { 5, 0 }, { 5, 6 }, { 5, 16 },              /* plen */
        { 1, 6 },                                   /* htype 6 (IEEE 802) */
        { 2, 0x86 },                                /* ptype 0x86dd */
    };
    static const size_t trunc[] = { 0, 1, 8, 27 };
    static const uint16_t ops[] = { 0, 3, 0xffff };
    uint8_t f[64];
    inj_group_begin(in, "bad-arp-format");
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        size_t n = put_arp_frame(in, f, in->src_mac, in->src_ip);
        f[14 + fmt[i].at] = fmt[i].v;
        if (fmt[i].at == 2)
            f[14 + 3] = 0xdd;
        inj_send(in, f, n);
    }
    inj_group_end(in, -1);
    inj_group_begin(in, "bad-arp-truncated");
    for (size_t i = 0; i < sizeof trunc / sizeof trunc[0]; i++) {
        put_arp_frame(in, f, in->src_mac, in->src_ip);
        inj_send(in, f, 14 + trunc[i]);
    }
    inj_group_end(in, -1);
    inj_group_begin(in, "bad-arp-op");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = put_arp_frame(in, f, in->src_mac, in->src_ip);
        store_be16(f + 14 + 6, ops[i]);
        inj_send(in, f, n);
    }
    inj_group_end(in, -1);
}

/* Valid echo requests from sources no host may have (RFC 1122 3.2.1.3):
 * loopback, multicast, limited broadcast, "this host", class E, and the
 * stack's own address. */
static void kind_martian(struct inj *in)
{
    const uint32_t srcs[] = {
        TS_IP4(127, 0, 0, 1), TS_IP4(224, 0, 0, 1), TS_IP4(255, 255, 255, 255),
        TS_IP4(0, 0, 0, 0), TS_IP4(240, 0, 0, 1), in->dst_ip,
    };
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "martian");
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++)
        inj_send(in, f, put_echo_frame(in, f, srcs[i]));
    inj_group_end(in, -1);
}

/* ---- TCP ------------------------------------------------------------- */

/* A TCP segment without data from src:sport to the stack's dport, with an
 * MSS option on SYNs; both checksums right. Returns the frame length. */
static size_t put_tcp_frame(struct inj *in, uint8_t *f, uint32_t src,
                            uint16_t sport, uint16_t dport, uint32_t seq,
                            uint32_t ack, uint8_t flags)
{
    size_t n = put_eth(in, f, NULL, NULL, 0x0800);
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.sport = sport;
    h.dport = dport;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.wnd = 64240;
    if (flags & TCP_SYN) {
        h.opts.has_mss = 1;
        h.opts.mss = 1460;
    }
    uint8_t *seg = f + n + IPV4_HLEN;
    size_t tl = tcp_emit(&h, seg);
    struct ipv4_hdr ih = {
        .hlen = IPV4_HLEN, .total_len = (uint16_t)(IPV4_HLEN + tl),
        .id = in->next_id++, .ttl = IPV4_DEFAULT_TTL,
        .proto = IPV4_PROTO_TCP, .src = src, .dst = in->dst_ip,
    };
    ipv4_emit(&ih, f + n);
    store_be16(seg + 16, tcp_cksum(src, in->dst_ip, seg, tl));
    return n + IPV4_HLEN + tl;
}

static uint32_t flood_ip(const struct inj *in, unsigned long i);

/* A UDP datagram with 8 bytes of data from src:sport to dst_ip:dport, both
 * checksums right. Returns the frame length. */
static size_t put_udp_frame(struct inj *in, uint8_t *f, uint32_t src,
                            uint16_t sport, uint16_t dport)
{
    size_t n = put_eth(in, f, NULL, NULL, 0x0800);
    uint8_t *ip = f + n, *u = ip + IPV4_HLEN;
    put_ip(in, ip, IPV4_HLEN + 16, 0, src);
    ip[9] = IPV4_PROTO_UDP;
    ip_fix_cksum(ip, IPV4_HLEN);
    store_be16(u, sport);
    store_be16(u + 2, dport);
    store_be16(u + 4, 16);
    store_be16(u + 6, 0);
    memcpy(u + 8, "martian!", 8);
    uint16_t c = cksum_pseudo(src, in->dst_ip, IPV4_PROTO_UDP, u, 16);
    store_be16(u + 6, c ? c : 0xffff);
    return n + IPV4_HLEN + 16;
}

/* Valid datagrams from the host to 127/8, which is never on a wire (RFC
 * 1122 3.2.1.3): an echo request, a SYN to the echo port and a UDP
 * datagram to the echo port, each to 127.0.0.1 and to 127.1.2.3. The stack
 * drops and counts every one as a martian destination and answers none,
 * whatever listens on its own 127.0.0.1. */
static void kind_martian_dst(struct inj *in)
{
    const uint32_t dsts[] = { TS_IP4(127, 0, 0, 1), TS_IP4(127, 1, 2, 3) };
    const uint32_t stack_ip = in->dst_ip;
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "martian-dst");
    for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
        in->dst_ip = dsts[i];
        inj_send(in, f, put_echo_frame(in, f, in->src_ip));
        inj_send(in, f, put_tcp_frame(in, f, in->src_ip, (uint16_t)(40000 + i),
                                      7, 1000, 0, TCP_SYN));
        inj_send(in, f, put_udp_frame(in, f, in->src_ip, 40000, 7));
    }
    in->dst_ip = stack_ip;
    inj_group_end(in, -1);
}

/* ---- IP options ------------------------------------------------------ */

/* An echo request whose header carries opts (len bytes, padded with EOL
 * to a multiple of 4), both checksums right; the frame's length. */
static size_t put_echo_opts_frame(struct inj *in, uint8_t *f,
                                  const uint8_t *opts, size_t len)
{
    uint8_t padded[40] = { 0 };
    size_t olen = (len + 3) / 4 * 4;
    memcpy(padded, opts, len);
    size_t n = put_eth(in, f, NULL, NULL, 0x0800);
    size_t hlen = IPV4_HLEN + olen;
    struct ipv4_hdr h = {
        .hlen = (uint8_t)hlen, .total_len = (uint16_t)(hlen + 8 + INJ_ECHO_DATA),
        .id = in->next_id++, .ttl = IPV4_DEFAULT_TTL,
        .proto = IPV4_PROTO_ICMP, .src = in->src_ip, .dst = in->dst_ip,
    };
    ipv4_emit_opts(&h, padded, olen, f + n);
    return n + hlen + put_echo(f + n + hlen, INJ_ECHO_DATA, in->next_id);
}

/* One group of option sets, each sent in an echo request. */
struct inj_optset {
    uint8_t len;
    uint8_t b[12];
};

static void send_optsets(struct inj *in, const char *group,
                         const struct inj_optset *v, size_t nv)
{
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, group);
    for (size_t i = 0; i < nv; i++)
        inj_send(in, f, put_echo_opts_frame(in, f, v[i].b, v[i].len));
    inj_group_end(in, -1);
}

/* Malformed options (RFC 791 §3.1), each in an otherwise valid echo
 * request: lengths 0 and 1, an option past the header, a type with no
 * length octet; Record Route, source routes and Timestamp with pointers
 * and lengths out of range, repeated; and well-formed source routes that
 * are not yet completed (the stack would have to forward them). */
static void kind_ip_options(struct inj *in)
{
    static const struct inj_optset bad_len[] = {
        { 4, { 148, 0, 0, 0 } }, { 4, { 1, 148, 1, 0 } },
        { 8, { 130, 9, 0, 0, 0, 0, 0, 0 } }, { 4, { 1, 1, 1, 148 } },
        { 4, { 7, 0, 4, 0 } },
    };
    static const struct inj_optset bad_rr[] = {
        { 7, { 7, 7, 3 } }, { 11, { 7, 11, 5 } }, { 7, { 7, 7, 12 } },
        { 6, { 7, 6, 4 } }, { 6, { 7, 3, 4, 7, 3, 4 } },
    };
    static const struct inj_optset bad_srr[] = {
        { 7, { 131, 7, 2 } }, { 7, { 137, 7, 13 } }, { 9, { 131, 9, 4 } },
        { 6, { 131, 3, 4, 137, 3, 4 } },
    };
    static const struct inj_optset bad_ts[] = {
        { 4, { 68, 3, 5, 0 } }, { 8, { 68, 8, 5, 2 } }, { 8, { 68, 8, 4, 0 } },
        { 12, { 68, 12, 14, 0 } }, { 8, { 68, 8, 5, 1 } },
        { 8, { 68, 4, 5, 0, 68, 4, 5, 0 } },
    };
    static const struct inj_optset srr_open[] = {
        { 7, { 131, 7, 4, 10, 0, 0, 9 } },
        { 11, { 137, 11, 8, 10, 0, 0, 9, 10, 0, 0, 8 } },
    };
    send_optsets(in, "ipopt-bad-len", bad_len, sizeof bad_len / sizeof bad_len[0]);
    send_optsets(in, "ipopt-bad-rr", bad_rr, sizeof bad_rr / sizeof bad_rr[0]);
    send_optsets(in, "ipopt-bad-srr", bad_srr, sizeof bad_srr / sizeof bad_srr[0]);
    send_optsets(in, "ipopt-bad-ts", bad_ts, sizeof bad_ts / sizeof bad_ts[0]);
    send_optsets(in, "ipopt-srcroute", srr_open, sizeof srr_open / sizeof srr_open[0]);
}

/* SYNs to dport, each from its own (subnet address, port): the addresses
 * cycle through the /24 and the port moves on once per cycle, so no two
 * share a 4-tuple and each must reach the listener. */
static void kind_syn_flood(struct inj *in)
{
    unsigned long n = in->count_given ? in->count : INJ_SYN_FLOOD_DEFAULT;
    uint16_t dport = in->dport ? in->dport : 7;
    uint8_t f[INJ_FRAME_MAX];
    inj_group_begin(in, "syn-flood");
    for (unsigned long i = 0; i < n; i++) {
        uint16_t sport = (uint16_t)(10000 + (i / 252) % 55000);
        inj_send(in, f, put_tcp_frame(in, f, flood_ip(in, i), sport, dport,
                                      ts_rand_u32(&in->rand), 0, TCP_SYN));
    }
    inj_group_end(in, -1);
}

/* What a segment of the connection tells about the stack's side. */
struct inj_conn_view {
    uint32_t rcv_nxt;           /* the ACK field: the stack's RCV.NXT */
    uint32_t snd_nxt;           /* the sequence number */
    uint16_t wnd;               /* the window field, unscaled: a lower bound */
};

/* Wait up to INJ_SNIFF_MS for a segment with ACK the stack sends on the
 * connection dst:dport -> src:sport. 0, or -1 when none came. */
static int inj_sniff_conn(struct inj *in, struct inj_conn_view *v)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
    if (fd < 0) {
        fprintf(stderr, "inject: capture socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = in->ifindex;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        fprintf(stderr, "inject: bind capture socket: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long waited = (t1.tv_sec - t0.tv_sec) * 1000 +
                      (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (waited >= INJ_SNIFF_MS)
            break;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, (int)(INJ_SNIFF_MS - waited)) <= 0)
            continue;
        uint8_t f[2048];
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t len = recvfrom(fd, f, sizeof f, 0, (struct sockaddr *)&from, &fl);
        if (len < 14 || from.sll_pkttype == PACKET_OUTGOING ||
            memcmp(f + 6, in->dst_mac, 6) != 0)
            continue;
        struct ipv4_hdr ih;
        if (ipv4_parse(f + 14, (size_t)len - 14, &ih) != IPV4_OK ||
            ih.proto != IPV4_PROTO_TCP || ih.src != in->dst_ip ||
            ih.dst != in->src_ip || ipv4_is_fragment(&ih))
            continue;
        struct tcp_hdr th;
        if (tcp_parse(f + 14 + ih.hlen, ih.total_len - ih.hlen, &th) != TCP_OK ||
            th.sport != in->dport || th.dport != in->sport ||
            !(th.flags & TCP_ACK) || (th.flags & (TCP_SYN | TCP_RST)))
            continue;
        v->rcv_nxt = th.ack;
        v->snd_nxt = th.seq;
        v->wnd = th.wnd;
        close(fd);
        return 0;
    }
    close(fd);
    return -1;
}

/* Never exactly RCV.NXT (that one would reset it, as it should), and at
 * least 4 KiB past it, so the little data the connection carries while
 * the storm runs cannot catch up with one of them. */
static uint32_t rst_in_window_seq(struct inj *in, const struct inj_conn_view *v)
{
    uint32_t lo = 4096, hi = v->wnd;
    if (hi <= 2 * lo)
        lo = 1;
    return v->rcv_nxt + lo + ts_rand_below(&in->rand, hi - lo);
}

static void kind_rst_storm(struct inj *in)
{
    unsigned long n = in->count_given ? in->count : INJ_RST_STORM_DEFAULT;
    uint8_t f[INJ_FRAME_MAX];
    struct inj_conn_view v;
    if (!in->sport || !in->dport) {
        fprintf(stderr, "inject: rst-storm needs --sport and --dport\n");
        in->failed = 1;
        return;
    }
    if (inj_sniff_conn(in, &v) < 0 || v.wnd < 2) {
        fprintf(stderr, "inject: rst-storm: no segment of the connection"
                " from the stack within %d ms (or a closed window)\n",
                INJ_SNIFF_MS);
        in->failed = 1;
        return;
    }
    printf("inject: rst-storm: stack's RCV.NXT=%u SND.NXT=%u window>=%u\n",
           v.rcv_nxt, v.snd_nxt, v.wnd);
    /* Half plain RST, half RST|ACK with a plausible ACK: neither may
     * matter (RFC 9293 §3.10.7.4 checks the sequence number first). */
    inj_group_begin(in, "rst-in-window");
    for (unsigned long i = 0; i < n; i++)
        inj_send(in, f, put_tcp_frame(in, f, in->src_ip, in->sport, in->dport,
                                      rst_in_window_seq(in, &v), v.snd_nxt,
                                      i % 2 ? TCP_RST | TCP_ACK : TCP_RST));
    inj_group_end(in, -1);
    inj_group_begin(in, "rst-off-window");
    for (unsigned long i = 0; i < n; i++) {
        uint32_t seq = v.rcv_nxt + 0x40000000u +
                       ts_rand_below(&in->rand, 0x80000000u);
        inj_send(in, f, put_tcp_frame(in, f, in->src_ip, in->sport, in->dport,
                                      seq, v.snd_nxt,
                                      i % 2 ? TCP_RST | TCP_ACK : TCP_RST));
    }
    inj_group_end(in, 0);
    inj_group_begin(in, "rst-any-port");
    for (unsigned long i = 0; i < n; i++) {
        uint16_t sport = (uint16_t)(1024 + ts_rand_below(&in->rand, 64512));
        uint16_t dport = (uint16_t)(1 + ts_rand_below(&in->rand, 65535));
        inj_send(in, f, put_tcp_frame(in, f, flood_ip(in, i), sport, dport,
                                      ts_rand_u32(&in->rand), 0, TCP_RST));
    }
    inj_group_end(in, 0);
}

/* ---- dispatch and options -------------------------------------------- */

typedef void (*kind_fn)(struct inj *in);

/* "all" runs the first NKINDS_ALL kinds: the malformed frames, not the TCP
 * attacks at the end of the table. */
#define NKINDS_ALL 15
#define NKINDS_TCP 2
static const struct { const char *name; kind_fn fn; } kinds[] = {
    { "runt", kind_runt },
    { "bad-version", kind_bad_version },
    { "bad-ihl", kind_bad_ihl },
    { "ihl-past-end", kind_ihl_past_end },
    { "short-totlen", kind_short_totlen },
    { "long-totlen", kind_long_totlen },
    { "bad-cksum", kind_bad_cksum },
    { "overlap", kind_overlap },
    { "ping-of-death", kind_ping_of_death },
    { "frag-flood", kind_frag_flood },
    { "arp-flood", kind_arp_flood },
    { "bad-arp", kind_bad_arp },
    { "martian", kind_martian },
    { "martian-dst", kind_martian_dst },
    { "ip-options", kind_ip_options },
    { "syn-flood", kind_syn_flood },
    { "rst-storm", kind_rst_storm },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])
_Static_assert(NKINDS_ALL + NKINDS_TCP == NKINDS, "update NKINDS_ALL/_TCP");

static void usage(FILE *out)
{
    fprintf(out,
"usage: inject --kind KIND [--iface NAME] [--dst-mac MAC] [--src-ip A.B.C.D]\n"
"              [--dst-ip A.B.C.D] [--count N] [--sport N] [--dport N]\n"
"Send crafted hostile Ethernet frames into the TAP NAME (default tap0) from\n"
"the kernel side, to the stack at --dst-mac/--dst-ip (default\n"
"02:00:0a:00:00:02, 10.0.0.2) from --src-ip (default 10.0.0.1).\n"
"KIND: all");
    for (size_t i = 0; i < NKINDS; i++)
        fprintf(out, ",%s%s", i % 5 == 4 ? "\n      " : " ", kinds[i].name);
    fprintf(out, ".\n"
"all is every kind but the TCP attacks syn-flood and rst-storm.\n"
"--count N  arp-flood: number of requests (default %d), from distinct MACs\n"
"           and cycling addresses of the --src-ip /24; frag-flood: number\n"
"           of never-completed datagrams (default %d); other kinds: rounds\n"
"           of their frame set (default 1); syn-flood: number of SYNs\n"
"           (default %d); rst-storm: RSTs per group (default %d).\n"
"--sport N, --dport N  TCP kinds: the host's and the stack's port of the\n"
"           connection to attack (rst-storm needs both; syn-flood sends to\n"
"           --dport, default 7).\n"
"Prints one line per group of frames: sent, expected drops, refused by the\n"
"kernel, lost in the TAP queue. Needs CAP_NET_RAW. Exit 2 on bad arguments,\n"
"1 when frames were lost or the socket failed.\n", INJ_FLOOD_DEFAULT,
            INJ_FLOOD_DEFAULT / 10, INJ_SYN_FLOOD_DEFAULT, INJ_RST_STORM_DEFAULT);
}

static int bad_arg(const char *what, const char *val)
{
    fprintf(stderr, "inject: bad %s: '%s' (try --help)\n", what, val);
    return 2;
}

struct opts {
    const char *iface, *kind;
};

static int parse_count(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || *s == '-' || v == 0 ||
        v > 10000000ul)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* 0 to go on, 1 after --help, 2 on a bad argument. */
static int parse_args(int argc, char **argv, struct inj *in, struct opts *o)
{
    static const struct option lo[] = {
        { "iface", required_argument, NULL, 'i' },
        { "dst-mac", required_argument, NULL, 'm' },
        { "src-ip", required_argument, NULL, 's' },
        { "dst-ip", required_argument, NULL, 'd' },
        { "kind", required_argument, NULL, 'k' },
        { "count", required_argument, NULL, 'c' },
        { "sport", required_argument, NULL, 'S' },
        { "dport", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:m:s:d:k:c:S:D:h", lo, NULL)) != -1) {
        switch (c) {
        case 'i': o->iface = optarg; break;
        case 'm': if (ts_mac_parse(optarg, in->dst_mac)) return bad_arg("MAC", optarg); break;
        case 's': if (ts_ip4_parse(optarg, &in->src_ip)) return bad_arg("address", optarg); break;
        case 'd': if (ts_ip4_parse(optarg, &in->dst_ip)) return bad_arg("address", optarg); break;
        case 'k': o->kind = optarg; break;
        case 'c':
            if (parse_count(optarg, &in->count)) return bad_arg("count", optarg);
            in->count_given = 1;
            break;
        case 'S':
        case 'D': {
            unsigned p;
            if (parse_count(optarg, &p) || p > 65535)
                return bad_arg("port", optarg);
            *(c == 'S' ? &in->sport : &in->dport) = (uint16_t)p;
            break;
        }
        case 'h': usage(stdout); return 1;
        case ':':
            fprintf(stderr, "inject: %s needs a value (try --help)\n",
                    argv[optind - 1]);
            return 2;
        default:
            if (optopt) {
                char o2[3] = { '-', (char)optopt, '\0' };
                return bad_arg("option", o2);
            }
            return bad_arg("option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad_arg("argument", argv[optind]);
    if (!o->kind) {
        fprintf(stderr, "inject: --kind is required (try --help)\n");
        return 2;
    }
    if (strlen(o->iface) >= IFNAMSIZ)
        return bad_arg("interface name", o->iface);
    return 0;
}

static int kind_index(const char *name)
{
    if (strcmp(name, "all") == 0)
        return (int)NKINDS;
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(name, kinds[i].name) == 0)
            return (int)i;
    return -1;
}

/* The packet socket, the TAP's index and MAC, and its drop counter. */
static int inj_open(struct inj *in, const char *iface)
{
    struct ifreq ifr;
    in->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (in->fd < 0) {
        fprintf(stderr, "inject: packet socket: %s\n", strerror(errno));
        return -1;
    }
    /* Straight to the driver, in this call: a frame the TAP queue cannot
     * take shows in tx_dropped before sendto() returns. */
    int one = 1;
    setsockopt(in->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, iface, strlen(iface));
    if (ioctl(in->fd, SIOCGIFINDEX, &ifr) < 0) {
        fprintf(stderr, "inject: interface %s: %s\n", iface, strerror(errno));
        return -1;
    }
    in->ifindex = ifr.ifr_ifindex;
    if (ioctl(in->fd, SIOCGIFHWADDR, &ifr) < 0) {
        fprintf(stderr, "inject: MAC of %s: %s\n", iface, strerror(errno));
        return -1;
    }
    memcpy(in->src_mac, ifr.ifr_hwaddr.sa_data, 6);
    char path[96];
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/tx_dropped", iface);
    in->drop_fd = open(path, O_RDONLY | O_CLOEXEC);
    return 0;
}

static void run_kind(struct inj *in, int k)
{
    int flood = kinds[k].fn == kind_arp_flood || kinds[k].fn == kind_frag_flood ||
                kinds[k].fn == kind_syn_flood || kinds[k].fn == kind_rst_storm;
    unsigned rounds = in->count_given && !flood ? in->count : 1;
    for (unsigned r = 0; r < rounds; r++)
        kinds[k].fn(in);
}

int main(int argc, char **argv)
{
    struct inj in = { .fd = -1, .drop_fd = -1, .count = 1, .next_id = 0x7100 };
    ts_rand_seed(&in.rand, 0x7473696e6a656374ull);
    struct opts o = { .iface = "tap0", .kind = NULL };
    ts_mac_parse("02:00:0a:00:00:02", in.dst_mac);
    in.src_ip = TS_IP4(10, 0, 0, 1);
    in.dst_ip = TS_IP4(10, 0, 0, 2);
    int rc = parse_args(argc, argv, &in, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    int k = kind_index(o.kind);
    if (k < 0)
        return bad_arg("kind", o.kind);
    if (inj_open(&in, o.iface) < 0)
        return 1;
    for (int i = (k == (int)NKINDS ? 0 : k);
         i < (k == (int)NKINDS ? (int)NKINDS_ALL : k + 1); i++)
        run_kind(&in, i);
    for (unsigned i = 0; i < in.ngroups; i++) {
        const struct inj_group *g = &in.groups[i];
        printf("inject: %-18s sent=%lu expect=%lu refused=%lu lost=%lu\n",
               g->name, g->sent, g->expect, g->refused, g->lost);
    }
    printf("inject: %-18s sent=%lu refused=%lu lost=%lu retried=%lu\n",
           "total", in.total_sent, in.total_refused, in.total_lost,
           in.retried);
    if (in.drop_fd < 0)
        printf("inject: note: no tx_dropped counter; losses not detected\n");
    return in.total_lost || in.failed ? 1 : 0;
}
