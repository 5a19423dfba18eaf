/* tools/lib/ts_services.h - the classic small services, and a web page,
 * on the public API (tapstack.h, ts_server.h, ts_http.h), as any
 * application would run them:
 *
 *   TCP echo (RFC 862, port 7), discard (RFC 863, port 9), daytime
 *   (RFC 867, port 13), chargen (RFC 864, port 19): one ts_server each, a
 *   thread per connection;
 *   UDP echo (7) and daytime (13): ts_server_start_udp;
 *   HTTP (port 80): ts_http, on a directory or its built-in page.
 *
 * Every handler waits in slices of TS_SERVICES_SLICE_MS (SO_RCVTIMEO), so a
 * stop is noticed quickly whatever the peer does. chargen sends from a
 * precomputed table of whole periods of the RFC 864 pattern, ~64 KiB per
 * ts_send, and drops whatever the peer sends.
 * Entry points: ts_services_start, ts_services_stop.
 */
#ifndef TS_TOOLS_LIB_TS_SERVICES_H
#define TS_TOOLS_LIB_TS_SERVICES_H

#include "socket_api/tapstack.h"

#define TS_SERVICE_ECHO 0x01        /* TCP 7 */
#define TS_SERVICE_DISCARD 0x02     /* TCP 9 */
#define TS_SERVICE_DAYTIME 0x04     /* TCP 13 */
#define TS_SERVICE_CHARGEN 0x08     /* TCP 19 */
#define TS_SERVICE_UDP 0x10         /* UDP echo 7 and daytime 13 */
#define TS_SERVICE_HTTP 0x20        /* TCP 80 */
#define TS_SERVICE_ALL 0x3f

#define TS_SERVICES_SLICE_MS 250

struct ts_services;

/* Start the services in mask on st; http_root is the HTTP server's
 * directory (NULL: its built-in page). NULL with errno set when one cannot
 * start (EADDRINUSE, ENOENT for http_root, ...); none is left running. */
struct ts_services *ts_services_start(struct ts_stack *st, unsigned mask,
                                      const char *http_root);
/* Stop them all: connections still open are shut down, every thread is
 * joined. NULL is fine. */
void ts_services_stop(struct ts_services *sv);

#endif
