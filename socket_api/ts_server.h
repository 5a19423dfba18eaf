/* socket_api/ts_server.h - a small server helper in the spirit of Python's
 * socketserver: give it an address and a handler, it serves.
 *
 *     static void echo(struct ts_stack *st, int fd,
 *                      const struct sockaddr_in *peer, void *ctx)
 *     {
 *         char buf[4096];
 *         ssize_t n;
 *         while ((n = ts_recv(st, fd, buf, sizeof buf, 0)) > 0)
 *             ts_send(st, fd, buf, (size_t)n, 0);
 *     }
 *     ...
 *     struct ts_server *srv = ts_server_start(st, 7, echo, NULL);
 *
 * TCP (SOCK_STREAM): an accept thread hands each connection to a thread of
 * its own that runs the handler and closes the socket when it returns
 * (ThreadingTCPServer), at most max_conns at once. UDP (SOCK_DGRAM): one
 * thread receives each datagram and calls the datagram handler with it and
 * the socket to answer on (UDPServer). ts_server_stop() stops accepting,
 * shuts down the connections still open (their handlers see end of stream
 * and return), waits for every thread and frees the server.
 * Entry points: ts_server_start, ts_server_start_udp, ts_server_stop,
 * ts_server_port.
 */
#ifndef TS_SOCKET_API_TS_SERVER_H
#define TS_SOCKET_API_TS_SERVER_H

/* Relative to this file, so it resolves both in the source tree and
 * installed as <tapstack/ts_server.h>. */
#include "tapstack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ts_server;

/* Serve one TCP connection; the server closes fd after it returns. */
typedef void (*ts_conn_handler)(struct ts_stack *st, int fd,
                                const struct sockaddr_in *peer, void *ctx);
/* Answer one UDP datagram (data, len) from peer on socket fd. */
typedef void (*ts_dgram_handler)(struct ts_stack *st, int fd, const void *data,
                                 size_t len, const struct sockaddr_in *peer,
                                 void *ctx);

/* Listen on TCP port (0: any free port, see ts_server_port) and serve.
 * NULL with errno set on failure. */
TS_API struct ts_server *ts_server_start(struct ts_stack *st, uint16_t port,
                                         ts_conn_handler fn, void *ctx);
/* Bind UDP port and serve datagrams. NULL with errno set on failure. */
TS_API struct ts_server *ts_server_start_udp(struct ts_stack *st,
                                             uint16_t port,
                                             ts_dgram_handler fn, void *ctx);
/* The port it serves on. */
TS_API uint16_t ts_server_port(const struct ts_server *srv);
TS_API void ts_server_stop(struct ts_server *srv);
/* Accepts that failed for want of sockets or memory, each followed by a
 * pause (not exported from the shared library: for the unit tests). */
unsigned long ts_server_accept_failures(struct ts_server *srv);

#ifdef __cplusplus
}
#endif
#endif
