/* tests/unit/host_client.h - a program's side of the shared host's wire
 * format, for the host suites (test_host.c, test_host_review.c).
 * Entry points: hc_open, hc_mk, hc_send, hc_recv, hc_raw, hc_req, hc_socket,
 * hc_int_opt, hc_wait, hc_listener, hc_accept, hc_read_all.
 */
#ifndef TS_TESTS_UNIT_HOST_CLIENT_H
#define TS_TESTS_UNIT_HOST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "socket_api/ts_ctl_proto.h"
#include "tests/unit/api_fixture.h"

extern char hc_name[64];        /* the control socket hc_open served */

/* Serve B's control socket under a fresh name and connect to it. */
int hc_open(struct af *f);
/* Send raw bytes with nfds descriptors: bytes sent or -1. */
int hc_send(int c, const void *msg, size_t len, const int *fds, int nfds);
/* Read one reply and its descriptor (-1 when none): 0 or -1. */
int hc_recv(int c, struct ts_ctl_rep *rep, int *out_fd);
/* hc_send then hc_recv. */
int hc_raw(int c, const void *msg, size_t len, const int *fds, int nfds,
           struct ts_ctl_rep *rep, int *out_fd);
/* A request with magic and version filled in. */
void hc_mk(struct ts_ctl_req *rq, int op, int a0, int a1, int a2,
           const void *addr, size_t alen);
/* One request on socket fd (-1: none); returns rep.rc. */
int hc_req(int c, int op, int fd, int a0, int a1, int a2, const void *addr,
           size_t alen, struct ts_ctl_rep *rep, int *out_fd);
/* A new stack socket's program end. */
int hc_socket(int c, int type);
/* An int option's value (-1 on failure). */
int hc_int_opt(int c, int fd, int level, int name);
/* poll one event (bounded): the revents, 0 on time-out. */
int hc_wait(int fd, short ev);
/* A program's listener on B:port. */
int hc_listener(int c, uint16_t port);
/* accept(2) as the preload does it; the descriptor or -1. */
int hc_accept(int l, struct sockaddr_in *peer);
/* Read exactly len bytes (bounded): how many came. */
size_t hc_read_all(int fd, uint8_t *buf, size_t len);

#endif
