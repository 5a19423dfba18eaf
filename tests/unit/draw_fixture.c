/* tests/unit/draw_fixture.c - captures and traces for the draw suite (see
 * draw_fixture.h). */
#include "tests/unit/draw_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "core/bytes.h"
#include "eth/eth_wire.h"
#include "ipv4/ipv4_wire.h"
#include "tcp/tcp_wire.h"

struct dfx {
    pcap_t *dead;
    pcap_dumper_t *d;
    uint16_t ip_id;
};

static const uint8_t dfx_cmac[6] = { 0xee, 0, 0, 0, 0, 1 };
static const uint8_t dfx_smac[6] = { 0x02, 0, 0x0a, 0, 0, 2 };

struct dfx *dfx_open(const char *path)
{
    struct dfx *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->dead = pcap_open_dead(DLT_EN10MB, 65535);
    w->d = w->dead ? pcap_dump_open(w->dead, path) : NULL;
    if (!w->d) {
        if (w->dead)
            pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

void dfx_raw(struct dfx *w, int64_t t_us, const void *buf, size_t len)
{
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = 1700000000 + t_us / 1000000;
    h.ts.tv_usec = t_us % 1000000;
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)w->d, &h, buf);
}

void dfx_tcp(struct dfx *w, int64_t t_us, int c2s, uint32_t seq,
             uint32_t ack, uint8_t flags, uint16_t win, size_t len)
{
    uint8_t f[1600];
    struct eth_hdr eh;
    memcpy(eh.dst, c2s ? dfx_smac : dfx_cmac, 6);
    memcpy(eh.src, c2s ? dfx_cmac : dfx_smac, 6);
    eh.type = ETH_TYPE_IPV4;
    eth_emit(&eh, f);
    struct tcp_hdr th;
    memset(&th, 0, sizeof th);
    th.sport = c2s ? DFX_CPORT : DFX_SPORT;
    th.dport = c2s ? DFX_SPORT : DFX_CPORT;
    th.seq = seq;
    th.ack = ack;
    th.flags = flags;
    th.wnd = win;
    if (flags & TCP_SYN) {
        th.opts.has_mss = th.opts.has_ws = 1;
        th.opts.mss = 1460;
        th.opts.ws = 7;
    }
    uint8_t *seg = f + ETH_HLEN + IPV4_HLEN;
    size_t hl = tcp_emit(&th, seg);
    memset(seg + hl, 'x', len);
    struct ipv4_hdr ih = { .hlen = IPV4_HLEN, .ttl = 64, .proto = IPV4_PROTO_TCP,
                           .id = w->ip_id++, .frag = IPV4_DF,
                           .total_len = (uint16_t)(IPV4_HLEN + hl + len),
                           .src = c2s ? DFX_CLIENT : DFX_SERVER,
                           .dst = c2s ? DFX_SERVER : DFX_CLIENT };
    ipv4_emit(&ih, f + ETH_HLEN);
    store_be16(seg + 16, tcp_cksum(ih.src, ih.dst, seg, hl + len));
    dfx_raw(w, t_us, f, ETH_HLEN + IPV4_HLEN + hl + len);
}

void dfx_close(struct dfx *w)
{
    pcap_dump_close(w->d);
    pcap_close(w->dead);
    free(w);
}

unsigned dfx_session(struct dfx *w)
{
    const uint32_t c = DFX_CISN, s = DFX_SISN;
    const uint8_t A = TCP_ACK, PA = TCP_PSH | TCP_ACK, FA = TCP_FIN | TCP_ACK;
    dfx_tcp(w, 0, 1, c, 0, TCP_SYN, 64240, 0);                 /* 1 */
    dfx_tcp(w, 100, 0, s, c + 1, TCP_SYN | A, 65535, 0);       /* 2 */
    dfx_tcp(w, 200, 1, c + 1, s + 1, A, 502, 0);               /* 3 */
    dfx_tcp(w, 300, 1, c + 1, s + 1, PA, 502, 100);            /* 4 */
    dfx_tcp(w, 200300, 1, c + 1, s + 1, PA, 502, 100);         /* 5 resent */
    dfx_tcp(w, 200400, 0, s + 1, c + 101, A, 512, 0);          /* 6 */
    dfx_tcp(w, 200500, 0, s + 1, c + 101, PA, 512, 50);        /* 7 */
    dfx_tcp(w, 200600, 1, c + 101, s + 51, FA, 502, 0);        /* 8 */
    dfx_tcp(w, 200700, 0, s + 51, c + 102, A, 512, 0);         /* 9 */
    dfx_tcp(w, 200800, 0, s + 51, c + 102, FA, 512, 0);        /* 10 */
    dfx_tcp(w, 200900, 1, c + 102, s + 52, A, 502, 0);         /* 11 */
    return 11;
}

int dfx_session_pcap(char *path, size_t cap)
{
    dfx_tmpname(path, cap, ".pcap");
    struct dfx *w = dfx_open(path);
    if (!w)
        return -1;
    dfx_session(w);
    dfx_close(w);
    return 0;
}

int dfx_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

void dfx_tmpname(char *buf, size_t cap, const char *suffix)
{
    static unsigned n;
    const char *dir = getenv("TMPDIR");
    snprintf(buf, cap, "%s/ts-draw-unit.%ld.%u%s", dir && *dir ? dir : "/tmp",
             (long)getpid(), n++, suffix);
}
