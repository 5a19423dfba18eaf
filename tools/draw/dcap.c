/* tools/draw/dcap.c - read a pcap file into parsed frame records (see
 * dcap.h). The parsing is the stack's own wire code; this file adds the
 * summaries a frame list shows and the libpcap loop. */
#include "tools/draw/dcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "core/addr.h"
#include "core/bytes.h"
#include "eth/eth_wire.h"
#include "ipv4/ipv4_wire.h"
#include "tcp/tcp_wire.h"

#define ARP_LEN 28              /* Ethernet/IPv4 ARP body */

const char *dcap_kind_name(int kind)
{
    static const char *const names[] = {
        "ETH", "BAD", "ARP", "IPv4", "IPv4", "ICMP", "UDP", "TCP",
    };
    return kind >= 0 && kind <= DK_TCP ? names[kind] : "?";
}

char *dcap_flags_str(uint8_t flags, char *buf)
{
    static const struct { uint8_t bit; const char *name; } tab[] = {
        { TCP_SYN, "SYN" }, { TCP_FIN, "FIN" }, { TCP_RST, "RST" },
        { TCP_PSH, "PSH" }, { TCP_ACK, "ACK" }, { TCP_URG, "URG" },
        { TCP_ECE, "ECE" }, { TCP_CWR, "CWR" },
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (!(flags & tab[i].bit))
            continue;
        if (buf[0])
            strcat(buf, ",");
        strcat(buf, tab[i].name);
    }
    if (!buf[0])
        strcpy(buf, "none");
    return buf;
}

static void dcap_bad(struct dcap_frame *f, const char *why)
{
    f->kind = DK_BAD;
    snprintf(f->info, sizeof f->info, "malformed: %s", why);
}

static void dcap_arp(const uint8_t *b, size_t len, struct dcap_frame *f)
{
    char a[TS_IP4_STRLEN], t[TS_IP4_STRLEN], mac[TS_MAC_STRLEN];
    if (len < ARP_LEN || load_be16(b) != 1 || load_be16(b + 2) != ETH_TYPE_IPV4 ||
        b[4] != 6 || b[5] != 4) {
        dcap_bad(f, "ARP (not Ethernet/IPv4, or short)");
        return;
    }
    f->kind = DK_ARP;
    uint16_t op = load_be16(b + 6);
    ts_ip4_fmt(load_be32(b + 14), a);
    ts_ip4_fmt(load_be32(b + 24), t);
    if (op == 1)
        snprintf(f->info, sizeof f->info, "Who has %s? Tell %s", t, a);
    else if (op == 2)
        snprintf(f->info, sizeof f->info, "%s is at %s", a,
                 ts_mac_fmt(b + 8, mac));
    else
        snprintf(f->info, sizeof f->info, "ARP opcode %u", op);
}

static void dcap_icmp(const uint8_t *b, size_t len, struct dcap_frame *f)
{
    if (len < 8) {
        dcap_bad(f, "ICMP shorter than 8 bytes");
        return;
    }
    f->kind = DK_ICMP;
    unsigned type = b[0], code = b[1];
    if (type == 8 || type == 0)
        snprintf(f->info, sizeof f->info, "Echo (ping) %s id=0x%04x, seq=%u",
                 type == 8 ? "request" : "reply", load_be16(b + 4),
                 load_be16(b + 6));
    else if (type == 3)
        snprintf(f->info, sizeof f->info, "Destination unreachable (code %u)",
                 code);
    else if (type == 11)
        snprintf(f->info, sizeof f->info, "Time exceeded (code %u)", code);
    else
        snprintf(f->info, sizeof f->info, "ICMP type %u code %u", type, code);
}

static void dcap_udp(const uint8_t *b, size_t len, struct dcap_frame *f)
{
    if (len < 8) {
        dcap_bad(f, "UDP shorter than 8 bytes");
        return;
    }
    f->kind = DK_UDP;
    unsigned ulen = load_be16(b + 4);
    snprintf(f->info, sizeof f->info, "%u → %u Len=%u", load_be16(b),
             load_be16(b + 2), ulen >= 8 ? ulen - 8 : 0);
}

static void dcap_tcp(const uint8_t *b, size_t len, const struct ipv4_hdr *ip,
                     struct dcap_frame *f)
{
    struct tcp_hdr h;
    char fl[32];
    if (tcp_parse(b, len, &h) != TCP_OK) {
        dcap_bad(f, "TCP header (short, or bad data offset)");
        return;
    }
    struct dcap_tcp *t = &f->tcp;
    f->kind = DK_TCP;
    t->src = ip->src;
    t->dst = ip->dst;
    t->sport = h.sport;
    t->dport = h.dport;
    t->seq = h.seq;
    t->ack = h.ack;
    t->len = (uint32_t)(len - h.hlen);
    t->win = h.wnd;
    t->flags = h.flags;
    t->has_mss = h.opts.has_mss;
    t->mss = h.opts.mss;
    t->has_ws = h.opts.has_ws;
    t->ws = h.opts.ws > 14 ? 14 : h.opts.ws;
    t->sack_ok = h.opts.sack_ok;
    t->nsack = h.opts.nsack > 4 ? 4 : h.opts.nsack;
    memcpy(t->sack, h.opts.sack, sizeof t->sack);
    snprintf(f->info, sizeof f->info, "%u → %u [%s] Seq=%u Ack=%u Win=%u Len=%u",
             h.sport, h.dport, dcap_flags_str(h.flags, fl), h.seq, h.ack,
             h.wnd, t->len);
}

static void dcap_ipv4(const uint8_t *b, size_t len, struct dcap_frame *f)
{
    static const char *const why[] = {
        "", "IPv4 shorter than 20 bytes", "IPv4 version not 4",
        "IPv4 header length", "IPv4 total length", "IPv4 header checksum",
    };
    struct ipv4_hdr ip;
    int rc = ipv4_parse(b, len, &ip);
    if (rc != IPV4_OK) {
        dcap_bad(f, rc >= -5 ? why[-rc] : "IPv4");
        return;
    }
    ts_ip4_fmt(ip.src, f->src);
    ts_ip4_fmt(ip.dst, f->dst);
    const uint8_t *p = b + ip.hlen;
    size_t plen = (size_t)ip.total_len - ip.hlen;
    if (ipv4_frag_offset(&ip) != 0) {
        f->kind = DK_FRAG;
        snprintf(f->info, sizeof f->info,
                 "Fragment (proto %u, id 0x%04x, offset %u, %zu bytes%s)",
                 ip.proto, ip.id, ipv4_frag_offset(&ip), plen,
                 ip.frag & IPV4_MF ? ", more" : "");
        return;
    }
    if (ip.proto == IPV4_PROTO_TCP && !ipv4_is_fragment(&ip))
        dcap_tcp(p, plen, &ip, f);
    else if (ip.proto == IPV4_PROTO_UDP)
        dcap_udp(p, plen, f);
    else if (ip.proto == IPV4_PROTO_ICMP)
        dcap_icmp(p, plen, f);
    else {
        f->kind = DK_IPV4;
        snprintf(f->info, sizeof f->info, "IPv4 protocol %u, %zu bytes",
                 ip.proto, plen);
    }
    if (ipv4_is_fragment(&ip) && f->kind != DK_BAD) {
        size_t n = strlen(f->info);
        snprintf(f->info + n, sizeof f->info - n, " [first fragment, id 0x%04x]",
                 ip.id);
    }
}

void dcap_parse_frame(const uint8_t *buf, size_t caplen, struct dcap_frame *f)
{
    struct eth_hdr eh;
    f->kind = DK_OTHER;
    f->src[0] = f->dst[0] = f->info[0] = '\0';
    memset(&f->tcp, 0, sizeof f->tcp);
    if (eth_parse(buf, caplen, &eh) != 0) {
        dcap_bad(f, "Ethernet frame shorter than 14 bytes");
        return;
    }
    ts_mac_fmt(eh.src, f->src);
    ts_mac_fmt(eh.dst, f->dst);
    const uint8_t *p = buf + ETH_HLEN;
    size_t len = caplen - ETH_HLEN;
    if (eh.type == ETH_TYPE_ARP)
        dcap_arp(p, len, f);
    else if (eh.type == ETH_TYPE_IPV4)
        dcap_ipv4(p, len, f);
    else
        snprintf(f->info, sizeof f->info, "Ethernet type 0x%04x", eh.type);
}

static int dcap_push(struct dcap *c, const struct pcap_pkthdr *h,
                     const uint8_t *data)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        struct dcap_frame *nf = realloc(c->f, ncap * sizeof *nf);
        if (!nf)
            return -1;
        c->f = nf;
        c->cap = ncap;
    }
    struct dcap_frame *f = &c->f[c->n];
    int64_t t = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    if (c->n == 0)
        c->t0_us = t;
    f->no = (uint32_t)(c->n + 1);
    f->t_us = t - c->t0_us;
    f->caplen = h->caplen;
    f->wirelen = h->len;
    dcap_parse_frame(data, h->caplen, f);
    c->n++;
    return 0;
}

int dcap_load(const char *path, struct dcap *c, size_t max_frames,
              char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    memset(c, 0, sizeof *c);
    pcap_t *p = pcap_open_offline(path, perr);
    if (!p) {
        if (strncmp(perr, path, strlen(path)) == 0)
            snprintf(err, errlen, "%s", perr);     /* it names the file */
        else
            snprintf(err, errlen, "%s: %s", path, perr);
        return -1;
    }
    if (pcap_datalink(p) != DLT_EN10MB) {
        snprintf(err, errlen, "%s: not an Ethernet capture (link type %d)",
                 path, pcap_datalink(p));
        pcap_close(p);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        if (c->n >= max_frames) {
            c->skipped++;
            continue;
        }
        if (dcap_push(c, h, data) != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            pcap_close(p);
            dcap_free(c);
            return -1;
        }
    }
    if (rc == PCAP_ERROR)
        c->truncated = 1;
    pcap_close(p);
    return 0;
}

void dcap_free(struct dcap *c)
{
    free(c->f);
    memset(c, 0, sizeof *c);
}
