/* tests/fuzz/fuzz_http.c - libFuzzer target: the HTTP server's request
 * parsing (tools/lib/ts_http_parse.c) on any bytes a client could send,
 * the way the server uses it: find each head in what was received
 * (pipelined requests one after the other), parse it, and map a good
 * request's target to a path. Each head is parsed in a heap copy of
 * exactly its length, so a read past it trips AddressSanitizer. Checked
 * besides: the status is one the server can answer with; a good request
 * has a method token and a target; the path that comes out of a target
 * never holds a "..", "." or empty segment, never starts with '/', and is
 * NUL-terminated inside its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fz.h"
#include "tools/lib/ts_http.h"
#include "tools/lib/ts_http_parse.h"

#define FH_REQUESTS 16              /* pipelined heads per input */

static void fh_check_path(const char *target)
{
    char *rel = malloc(TS_HTTP_MAX_LINE + 1);
    const char *raw = NULL;
    size_t raw_len = 0;
    int slash = 0;
    if (!rel)
        abort();
    int st = ts_http_path(target, rel, TS_HTTP_MAX_LINE + 1, &slash, &raw_len,
                          &raw);
    if (st != 0 && st != 400 && st != 403)
        fz_fail("ts_http_path: unexpected status", st, 0);
    if (st == 0) {
        size_t n = strnlen(rel, TS_HTTP_MAX_LINE + 1);
        if (n > TS_HTTP_MAX_LINE || rel[0] == '/')
            fz_fail("ts_http_path: path unterminated or absolute", (long)n, 0);
        if (!raw || raw_len > strlen(raw))
            fz_fail("ts_http_path: raw part outside the target", 0, 0);
        char *save = NULL;
        for (char *seg = strtok_r(rel, "/", &save); seg;
             seg = strtok_r(NULL, "/", &save))
            if (strcmp(seg, "..") == 0 || strcmp(seg, ".") == 0)
                fz_fail("ts_http_path: dot segment let through", 0, 0);
        if (strstr(rel, "//") || (n && rel[n - 1] == '/'))
            fz_fail("ts_http_path: empty segment let through", 0, 0);
    }
    free(rel);
}

/* One whole head of len bytes. */
static void fh_request(const uint8_t *p, size_t len)
{
    char *buf = malloc(len);
    if (!buf)
        abort();
    memcpy(buf, p, len);
    struct ts_http_req r;
    int st = ts_http_parse_request(buf, len, &r);
    switch (st) {
    case 0:
        if (!r.method || !*r.method || !r.target || !*r.target)
            fz_fail("ts_http_parse_request: 0 without method or target", 0, 0);
        if (r.minor < 0 || r.minor > 9 || r.content_len > TS_HTTP_MAX_BODY)
            fz_fail("ts_http_parse_request: fields out of range", r.minor, 0);
        fh_check_path(r.target);
        break;
    case 400: case 413: case 501: case 505:
        break;
    default:
        fz_fail("ts_http_parse_request: unexpected status", st, 0);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int i = 0; i < FH_REQUESTS && size > 0; i++) {
        /* As the server does: blank lines before a request are skipped. */
        while (size > 0 && (*data == '\r' || *data == '\n')) {
            data++;
            size--;
        }
        char *copy = malloc(size ? size : 1);
        if (!copy)
            abort();
        memcpy(copy, data, size);
        size_t end = ts_http_head_end(copy, size);
        free(copy);
        if (end == 0 || end > size)
            break;
        fh_request(data, end);
        data += end;
        size -= end;
    }
    return 0;
}
