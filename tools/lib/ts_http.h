/* tools/lib/ts_http.h - a small HTTP/1.1 file server on the public API.
 *
 * Written only against tapstack.h and ts_server.h, as an application would
 * be: one thread per connection (ts_server), blocking ts_recv/ts_send.
 *
 *     struct ts_http *h = ts_http_start(st, 80, "/srv/www");
 *     ...
 *     ts_http_stop(h);
 *
 * What it does (RFC 9110, RFC 9112):
 *  - GET and HEAD; any other method is 405 with Allow: GET, HEAD;
 *  - persistent connections: HTTP/1.1 keeps the connection unless the
 *    request says "Connection: close", HTTP/1.0 closes unless it says
 *    "Connection: keep-alive"; pipelined requests are answered in order;
 *  - Content-Length always, Content-Type from the file name's extension,
 *    Date and Last-Modified;
 *  - the docroot's files: a directory serves its index.html (404 without
 *    one; "/dir" without the slash is redirected to "/dir/"); only regular
 *    files are served; big files go out in 64 KiB chunks, never whole in
 *    memory;
 *  - path traversal refused: the path is percent-decoded once, then a ".."
 *    segment is 403, "%00" or a bad escape 400; symbolic links are
 *    followed only when the real path stays inside the docroot (realpath,
 *    then the opened file's own path is checked again), else 403;
 *  - bounded buffers: a request line over TS_HTTP_MAX_LINE bytes is 414, a
 *    header block over TS_HTTP_MAX_HEAD is 431; malformed requests are 400
 *    (so is an HTTP/1.1 request without exactly one Host), HTTP versions
 *    other than 1.x are 505; a request body (Content-Length, up to 1 MiB,
 *    else 413) is read and thrown away, Transfer-Encoding is 501; every
 *    error but 403, 404 and 405 closes the connection, after a bounded
 *    "lingering close" so the last response is not lost to a reset;
 *  - time-outs (SO_RCVTIMEO, in slices, so a stopping server is noticed
 *    at once): a connection idle for TS_HTTP_IDLE_MS between requests is
 *    closed, and a request whose header block is not complete within
 *    TS_HTTP_HEAD_MS gets 408 and is closed.
 * Without a docroot, "/" is a built-in page and everything else 404.
 * Entry points: ts_http_start, ts_http_stop, ts_http_port.
 */
#ifndef TS_TOOLS_LIB_TS_HTTP_H
#define TS_TOOLS_LIB_TS_HTTP_H

#include <stdint.h>

#include "socket_api/tapstack.h"

#define TS_HTTP_MAX_LINE 2048       /* request line */
#define TS_HTTP_MAX_HEAD 8192       /* request line and headers */
#define TS_HTTP_IDLE_MS 10000       /* keep-alive idle time-out */
#define TS_HTTP_HEAD_MS 20000       /* whole header block */

struct ts_http;

/* Serve docroot (NULL: the built-in page) on TCP port (0: any free port).
 * NULL with errno set on failure (ENOENT/ENOTDIR for a bad docroot,
 * EADDRINUSE, ...). */
struct ts_http *ts_http_start(struct ts_stack *st, uint16_t port,
                              const char *docroot);
/* The port it serves on. */
uint16_t ts_http_port(const struct ts_http *h);
/* Stop serving: open connections are shut down, every thread joined. */
void ts_http_stop(struct ts_http *h);

#endif
