/* tools/lib/ts_http_parse.h - the HTTP/1.1 server's request parsing
 * (RFC 9110, RFC 9112), pure functions of the bytes received: no I/O, no
 * allocation, no state. ts_http.c reads a request head into its buffer and
 * hands it here; tests/fuzz/fuzz_http.c feeds them anything.
 *
 *  - ts_http_head_end: where a head ends (its empty line), or 0;
 *  - ts_http_parse_request: the request line and header fields of a whole
 *    head, strictly (400 for anything malformed, 505 for HTTP/2+, 501 for
 *    Transfer-Encoding, 413 for a body over TS_HTTP_MAX_BODY, 400 for an
 *    HTTP/1.1 request without exactly one Host); the lines are
 *    NUL-terminated in place, and the request's strings point into them;
 *  - ts_http_path: a target's path, percent-decoded once, as a relative
 *    path with no "." or empty segments; 403 for a ".." segment, 400 for a
 *    bad escape, %00 or a path too long.
 * Entry points: ts_http_head_end, ts_http_parse_request, ts_http_path.
 */
#ifndef TS_TOOLS_LIB_TS_HTTP_PARSE_H
#define TS_TOOLS_LIB_TS_HTTP_PARSE_H

#include <stddef.h>

#define TS_HTTP_MAX_BODY (1u << 20) /* request bodies read and dropped */

/* A parsed request head; the strings point into the caller's buffer. */
struct ts_http_req {
    char *method, *target;
    int minor;                      /* HTTP/1.minor */
    int close, keepalive;           /* Connection: close / keep-alive */
    int hosts, te;                  /* Host fields; Transfer-Encoding seen */
    int have_len;                   /* Content-Length given */
    unsigned long long content_len;
};

/* The length of the head at buf (up to and including the empty line that
 * ends it: LF LF or LF CR LF), or 0 when len bytes hold no whole head. */
size_t ts_http_head_end(const char *buf, size_t len);

/* Parse the head in buf[0..len) (len from ts_http_head_end; the bytes are
 * changed: each line is cut at its end). 0, or the status to answer with.
 * r is filled as far as the parse went (method and minor may be set on
 * an error, for the response). */
int ts_http_parse_request(char *buf, size_t len, struct ts_http_req *r);

/* The path of target (a NUL-terminated request target) into rel (cap
 * bytes), with *slash: it ended in a slash, and *raw, *raw_len: the path part
 * of the target as sent (for a redirect). 0, 400 or 403. */
int ts_http_path(const char *target, char *rel, size_t cap, int *slash,
                 size_t *raw_len, const char **raw);

#endif
