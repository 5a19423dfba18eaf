/* tests/unit/test_http_parse.c - the HTTP server's request parsing
 * (tools/lib/ts_http_parse.c), pure: where a head ends, strict request
 * lines and fields, the status for each malformed head, the target's path
 * (suite `http_parse`). The regressions of fuzz_http land here too.
 */
#include <string.h>

#include "tests/unit/unit.h"
#include "tools/lib/ts_http_parse.h"

/* Parse a copy of s (a whole head); the status. */
static int hp_parse(const char *s, struct ts_http_req *r)
{
    static char buf[16384];
    size_t n = strlen(s);
    memcpy(buf, s, n);
    size_t end = ts_http_head_end(buf, n);
    CU_ASSERT_EQUAL(end, n);
    return ts_http_parse_request(buf, end, r);
}

static void test_http_head_end(void)
{
    CU_ASSERT_EQUAL(ts_http_head_end("GET / HTTP/1.1\r\n\r\n", 18), 18);
    CU_ASSERT_EQUAL(ts_http_head_end("GET / HTTP/1.0\n\nrest", 20), 16);
    CU_ASSERT_EQUAL(ts_http_head_end("GET / HTTP/1.1\r\nHost: a\r\n", 25), 0);
    CU_ASSERT_EQUAL(ts_http_head_end("\n", 1), 0);
    CU_ASSERT_EQUAL(ts_http_head_end("", 0), 0);
}

static void test_http_parse_ok(void)
{
    struct ts_http_req r;
    CU_ASSERT_EQUAL(hp_parse("GET /a/b?x HTTP/1.1\r\nHost: h\r\n"
                             "Connection: keep-alive, Close\r\n"
                             "Content-Length: 12\r\n\r\n", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.method, "GET");
    CU_ASSERT_STRING_EQUAL(r.target, "/a/b?x");
    CU_ASSERT_EQUAL(r.minor, 1);
    CU_ASSERT_EQUAL(r.close, 1);
    CU_ASSERT_EQUAL(r.keepalive, 1);
    CU_ASSERT_EQUAL(r.have_len, 1);
    CU_ASSERT_EQUAL(r.content_len, 12);
    CU_ASSERT_EQUAL(hp_parse("HEAD / HTTP/1.0\n\n", &r), 0);
    CU_ASSERT_EQUAL(r.minor, 0);
    CU_ASSERT_EQUAL(r.hosts, 0);
}

static void test_http_parse_bad(void)
{
    struct ts_http_req r;
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.1\r\n\r\n", &r), 400);   /* no Host */
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                             &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/2.0\r\n\r\n", &r), 505);
    CU_ASSERT_EQUAL(hp_parse("GET  / HTTP/1.0\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("G(T / HTTP/1.0\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.10\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\n folded\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\nName : v\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\nA: \x01\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\nContent-Length: 1\r\n"
                             "Content-Length: 2\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\nContent-Length: -1\r\n\r\n",
                             &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\nContent-Length: "
                             "1234567890123456789\r\n\r\n", &r), 400);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\nContent-Length: 1048577\r\n"
                             "\r\n", &r), 413);
    CU_ASSERT_EQUAL(hp_parse("GET / HTTP/1.0\r\nTransfer-Encoding: chunked"
                             "\r\n\r\n", &r), 501);
}

static void test_http_path(void)
{
    char rel[64];
    const char *raw;
    size_t raw_len;
    int slash;
    CU_ASSERT_EQUAL(ts_http_path("/a//./b/?q", rel, sizeof rel, &slash,
                                 &raw_len, &raw), 0);
    CU_ASSERT_STRING_EQUAL(rel, "a/b");
    CU_ASSERT_EQUAL(slash, 1);
    CU_ASSERT_EQUAL(raw_len, 8);
    CU_ASSERT_EQUAL(ts_http_path("http://h:80", rel, sizeof rel, &slash,
                                 &raw_len, &raw), 0);
    CU_ASSERT_STRING_EQUAL(rel, "");
    CU_ASSERT_EQUAL(ts_http_path("/%2e%2E/x", rel, sizeof rel, &slash,
                                 &raw_len, &raw), 403);
    CU_ASSERT_EQUAL(ts_http_path("/a%00", rel, sizeof rel, &slash, &raw_len,
                                 &raw), 400);
    CU_ASSERT_EQUAL(ts_http_path("/a%4", rel, sizeof rel, &slash, &raw_len,
                                 &raw), 400);
    CU_ASSERT_EQUAL(ts_http_path("a", rel, sizeof rel, &slash, &raw_len,
                                 &raw), 400);
    CU_ASSERT_EQUAL(ts_http_path("/0123456789/0123456789/0123456789/"
                                 "0123456789/0123456789/0123456789/x", rel,
                                 sizeof rel, &slash, &raw_len, &raw), 400);
}

TS_SUITE(http_parse, TS_TEST(test_http_head_end), TS_TEST(test_http_parse_ok),
         TS_TEST(test_http_parse_bad), TS_TEST(test_http_path))
