/* tests/unit/test_draw_input.c - tapstack-draw's untrusted input and
 * output (tools/draw/): the SVG emitter's escaping of any bytes, and the
 * capture reader on good, truncated and garbage frames and files. The
 * drawings themselves are test_draw.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcp/tcp_wire.h"
#include "tests/unit/draw_fixture.h"
#include "tests/unit/unit.h"
#include "tools/draw/dcap.h"
#include "tools/draw/svg.h"

/* Run fn on a memory stream; the text it wrote (free it). */
#define CAPTURE_TEXT(out, stmt)                                              \
    do {                                                                     \
        size_t cap_len_;                                                     \
        FILE *mf = open_memstream(&(out), &cap_len_);                        \
        CU_ASSERT_PTR_NOT_NULL_FATAL(mf);                                    \
        stmt;                                                                \
        fclose(mf);                                                          \
    } while (0)

static char *esc(const char *s)
{
    char *out;
    CAPTURE_TEXT(out, svg_esc(mf, s));
    return out;
}

static void test_esc_markup(void)
{
    char *o = esc("<a href=\"x\">&'</a>");
    CU_ASSERT_STRING_EQUAL(o, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    free(o);
    o = esc("plain 10.0.0.1:80 → ok");
    CU_ASSERT_STRING_EQUAL(o, "plain 10.0.0.1:80 → ok");
    free(o);
}

static void test_esc_bytes(void)
{
    /* Control characters, a lone continuation byte, an overlong NUL, a
     * cut sequence, a surrogate and U+FFFE are not XML: each becomes '?'. */
    char *o = esc("a\x01" "b\tc\n\x7f" "d\x80" "e\xc0\x80" "f\xe2\x82" "g"
                  "\xed\xa0\x80" "h\xef\xbf\xbe" "i\xff");
    CU_ASSERT_STRING_EQUAL(o, "a?b c ?d?e??f??g???h???i?");
    free(o);
    o = esc(NULL);
    CU_ASSERT_STRING_EQUAL(o, "");
    free(o);
}

static void test_svg_text_escaped(void)
{
    char *o;
    struct svg g;
    CAPTURE_TEXT(o, {
        svg_begin(&g, mf, 100, 50, 1, "text{fill:red}");
        svg_text(&g, 1, 2, "middle", "a\"b", "%s", "<script>x&y</script>");
        svg_link(&g, "f\"1");
        svg_link_end(&g);
        CU_ASSERT_EQUAL(svg_end(&g), 0);
    });
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "&lt;script&gt;x&amp;y&lt;/script&gt;"));
    CU_ASSERT_PTR_NULL(strstr(o, "<script>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "class=\"a&quot;b\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "href=\"#f&quot;1\""));
    CU_ASSERT_EQUAL(strncmp(o, "<?xml", 5), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "</svg>\n"));
    free(o);
}

static void test_parse_session(void)
{
    char path[256], err[256];
    struct dcap c;
    CU_ASSERT_EQUAL_FATAL(dfx_session_pcap(path, sizeof path), 0);
    CU_ASSERT_EQUAL_FATAL(dcap_load(path, &c, 1000, err, sizeof err), 0);
    unlink(path);
    CU_ASSERT_EQUAL(c.n, 11);
    CU_ASSERT_FALSE(c.truncated);
    const struct dcap_frame *f = &c.f[0];
    CU_ASSERT_EQUAL(f->no, 1);
    CU_ASSERT_EQUAL(f->kind, DK_TCP);
    CU_ASSERT_EQUAL(f->tcp.flags, TCP_SYN);
    CU_ASSERT_EQUAL(f->tcp.seq, DFX_CISN);
    CU_ASSERT_EQUAL(f->tcp.sport, DFX_CPORT);
    CU_ASSERT_EQUAL(f->tcp.dport, DFX_SPORT);
    CU_ASSERT(f->tcp.has_mss && f->tcp.mss == 1460);
    CU_ASSERT(f->tcp.has_ws && f->tcp.ws == 7);
    CU_ASSERT_STRING_EQUAL(f->src, "10.0.0.1");
    f = &c.f[3];
    CU_ASSERT_EQUAL(f->tcp.len, 100);
    CU_ASSERT_EQUAL(f->t_us, 300);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->info, "[PSH,ACK]"));
    CU_ASSERT_EQUAL(c.f[6].tcp.len, 50);
    dcap_free(&c);
}

/* Every prefix of a frame, and random bytes, parse without a read past
 * the end (an exact-size heap copy: AddressSanitizer would see it). */
static void test_parse_hostile(void)
{
    uint8_t frame[] = {
        0x02, 0, 0x0a, 0, 0, 2, 0xee, 0, 0, 0, 0, 1, 0x08, 0x00,
        0x4f, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        /* IHL 15 claims 60 bytes of header; the rest is a TCP header with
         * data offset 15 and options that run off the end */
        0, 80, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0xf0, 0x12, 0xff, 0xff,
        0, 0, 0, 0, 2, 4, 5, 0xb4, 5, 34, 0, 0,
    };
    struct dcap_frame f;
    for (size_t len = 0; len <= sizeof frame; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, frame, len);
        dcap_parse_frame(copy, len, &f);
        CU_ASSERT(f.kind == DK_BAD || f.kind == DK_OTHER || f.kind == DK_IPV4 ||
                  f.kind == DK_TCP);
        free(copy);
    }
    unsigned seed = 12345, bad = 0;
    for (int i = 0; i < 5000; i++) {
        size_t len = (seed = seed * 1103515245 + 12345) % 120;
        uint8_t *buf = malloc(len ? len : 1);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)((seed = seed * 1103515245 + 12345) >> 16);
        if (len > 13 && i % 2) {
            buf[12] = 0x08;     /* half of them claim IPv4 */
            buf[13] = 0;
            if (len > 14)
                buf[14] = 0x45;
        }
        dcap_parse_frame(buf, len, &f);
        bad += f.kind == DK_BAD;
        CU_ASSERT(strlen(f.info) < sizeof f.info);
        free(buf);
    }
    CU_ASSERT(bad > 0);
}

static void test_load_errors(void)
{
    char path[256], err[256];
    struct dcap c;
    CU_ASSERT_EQUAL(dcap_load("/nonexistent/x.pcap", &c, 10, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.pcap"));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    dfx_tmpname(path, sizeof path, ".pcap");
    CU_ASSERT_EQUAL(dfx_write_file(path, "this is not a capture at all\n"), 0);
    CU_ASSERT_EQUAL(dcap_load(path, &c, 10, err, sizeof err), -1);
    CU_ASSERT_EQUAL(dfx_write_file(path, ""), 0);
    CU_ASSERT_EQUAL(dcap_load(path, &c, 10, err, sizeof err), -1);
    unlink(path);
}

/* A capture cut inside its last record keeps the frames before it; past
 * max_frames the rest are counted, not kept. */
static void test_load_truncated(void)
{
    char path[256], err[256];
    struct dcap c;
    CU_ASSERT_EQUAL_FATAL(dfx_session_pcap(path, sizeof path), 0);
    CU_ASSERT_EQUAL(dcap_load(path, &c, 4, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.n, 4);
    CU_ASSERT_EQUAL(c.skipped, 7);
    dcap_free(&c);
    FILE *f = fopen(path, "r+");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    CU_ASSERT_EQUAL(truncate(path, size - 10), 0);
    CU_ASSERT_EQUAL(dcap_load(path, &c, 1000, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.n, 10);
    CU_ASSERT_TRUE(c.truncated);
    dcap_free(&c);
    unlink(path);
}

TS_SUITE(draw_input,
         TS_TEST(test_esc_markup),
         TS_TEST(test_esc_bytes),
         TS_TEST(test_svg_text_escaped),
         TS_TEST(test_parse_session),
         TS_TEST(test_parse_hostile),
         TS_TEST(test_load_errors),
         TS_TEST(test_load_truncated))
