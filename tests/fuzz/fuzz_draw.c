/* tests/fuzz/fuzz_draw.c - libFuzzer target: tapstack-draw's capture side
 * (tools/draw/) on any bytes: frames parsed by dcap_parse_frame, grouped
 * into connections by dconn_build (states inferred, retransmissions
 * found), drawn as a ladder of every connection and a time-sequence graph
 * of each direction of the busiest one.
 *
 * The input is a program of up to FD_FRAMES records. A record's first
 * byte picks its kind: odd, a raw frame (two length bytes, then that many
 * bytes, parsed from an exact-size heap copy so a read past the end trips
 * AddressSanitizer); even, a TCP segment built from the next bytes with
 * correct checksums (so the grouping sees real connections), between one
 * of four client ports and port 80, either way, its sequence and
 * acknowledgement numbers near each side's base so they make sense
 * together. Checked besides: every TCP frame belongs to exactly one
 * connection and nothing else to any; each connection's segments are in
 * frame order; each drawing is one complete SVG document.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_wire.h"
#include "tests/fuzz/fz.h"
#include "tools/draw/dcap.h"
#include "tools/draw/dconn.h"
#include "tools/draw/ladder.h"
#include "tools/draw/tseq.h"

#define FD_FRAMES 96

/* Parse len bytes of buf as frame number n (from an exact copy). */
static void fd_parse(struct dcap *cap, const uint8_t *buf, size_t len,
                     int64_t t_us)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, buf, len);
    struct dcap_frame *f = &cap->f[cap->n];
    dcap_parse_frame(copy, len, f);
    free(copy);
    f->no = (uint32_t)cap->n + 1;
    f->t_us = t_us;
    f->caplen = f->wirelen = (uint32_t)len;
    cap->n++;
}

/* A TCP segment from the fuzzer's bytes into buf; its length. */
static size_t fd_segment(struct fz_in *in, uint8_t mode, uint8_t *buf)
{
    static const uint32_t base[2] = { 1000000u, 5000u };
    uint8_t opts[40];
    int back = mode & 2;            /* server to client */
    struct fz_tcp t = {
        .sport = (uint16_t)(40000 + ((mode >> 2) & 3)),
        .dport = 80,
        .seq = base[back ? 1 : 0] + (fz_u16(in) & 0x3fff),
        .ack = base[back ? 0 : 1] + (fz_u16(in) & 0x3fff),
        .flags = fz_u8(in),
        .wnd = fz_u16(in),
    };
    t.optlen = fz_bytes(in, opts, fz_u8(in) % 41);
    t.opts = opts;
    t.len = fz_u16(in) % 1400;
    size_t n = fz_tcp_frame(buf, &t);
    if (n && back) {
        /* Swap the addresses and the ports: both checksums stay right. */
        uint8_t tmp[4];
        memcpy(tmp, buf + 26, 4);
        memcpy(buf + 26, buf + 30, 4);
        memcpy(buf + 30, tmp, 4);
        memcpy(tmp, buf + 34, 2);
        memcpy(buf + 34, buf + 36, 2);
        memcpy(buf + 36, tmp, 2);
    }
    return n;
}

static void fd_check_conns(const struct dcap *cap, const struct dconns *cs)
{
    size_t tcp = 0, segs = 0;
    for (size_t i = 0; i < cap->n; i++) {
        int is_tcp = cap->f[i].kind == DK_TCP;
        tcp += is_tcp;
        if (is_tcp != (cs->frame_conn[i] >= 0))
            fz_fail("draw: frame in a connection iff TCP", (long)i, is_tcp);
    }
    for (size_t c = 0; c < cs->n; c++) {
        segs += cs->c[c].n;
        for (size_t k = 1; k < cs->c[c].n; k++)
            if (cs->c[c].seg[k].fi <= cs->c[c].seg[k - 1].fi)
                fz_fail("draw: segments out of frame order", (long)c, (long)k);
    }
    if (segs != tcp)
        fz_fail("draw: segments != TCP frames", (long)segs, (long)tcp);
}

/* Run one drawing into memory; it must be one whole SVG document. */
static void fd_svg_check(char *text, size_t len)
{
    if (!text || len < 7 || strncmp(text, "<?xml", 5) != 0 ||
        strcmp(text + len - 7, "</svg>\n") != 0)
        fz_fail("draw: incomplete SVG", (long)len, 0);
    free(text);
}

static void fd_draw(const struct dcap *cap, struct dconns *cs)
{
    char *text = NULL;
    size_t len = 0;
    struct dconn *sel[FD_FRAMES];
    struct dconn *busiest = NULL;
    for (size_t i = 0; i < cs->n; i++) {
        sel[i] = &cs->c[i];
        if (!busiest || cs->c[i].n > busiest->n)
            busiest = &cs->c[i];
    }
    struct ladder_opts o = { .links = 1, .fold_min = 3 };
    FILE *f = open_memstream(&text, &len);
    if (!f || ladder_draw(f, cap, sel, cs->n, &o, 1) != 0)
        fz_fail("draw: ladder_draw failed", 0, 0);
    fclose(f);
    fd_svg_check(text, len);
    for (int dir = 0; busiest && dir < 2; dir++) {
        f = open_memstream(&text, &len);
        if (!f || tseq_draw(f, cap, busiest, dir, NULL, NULL, 1) != 0)
            fz_fail("draw: tseq_draw failed", dir, 0);
        fclose(f);
        fd_svg_check(text, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = { data, size };
    struct dcap cap;
    struct dconns cs;
    uint8_t buf[FZ_FRAME_MAX];
    memset(&cap, 0, sizeof cap);
    cap.f = calloc(FD_FRAMES, sizeof *cap.f);
    if (!cap.f)
        abort();
    cap.cap = FD_FRAMES;
    int64_t t_us = 0;
    while (in.n > 0 && cap.n < FD_FRAMES) {
        uint8_t mode = fz_u8(&in);
        size_t len;
        if (mode & 1)
            len = fz_bytes(&in, buf, fz_u16(&in) % (FZ_FRAME_MAX + 1));
        else
            len = fd_segment(&in, mode, buf);
        t_us += mode >> 4;
        fd_parse(&cap, buf, len, t_us);
    }
    if (dconn_build(&cap, &cs) != 0)
        fz_fail("draw: dconn_build failed", (long)cap.n, 0);
    fd_check_conns(&cap, &cs);
    fd_draw(&cap, &cs);
    dconn_free(&cs);
    dcap_free(&cap);
    return 0;
}
