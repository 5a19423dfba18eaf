/* tests/unit/preload_host.h - a fake tapstack host for the preload library's
 * tests, and a way to run child programs under the library.
 *
 * ph_start() listens on a fresh abstract SEQPACKET name and answers
 * ts_ctl_proto.h requests from a thread, with no stack behind it: a
 * socket is a socketpair whose far end the thread serves by a fixed
 * script the tests rely on:
 *   - TCP: bytes are echoed; "reset" makes the host shut its end both ways
 *     with TS_OP_STATUS then saying ECONNRESET; "timeout" the same with
 *     ETIMEDOUT. CONNECT by port: 1 refused at once, 2 in progress then
 *     SO_ERROR ECONNREFUSED, 3 in progress then SO_ERROR 0, else done.
 *     LISTEN queues one connection from 10.9.9.9:4242 (v4-mapped on an
 *     AF_INET6 socket). BIND to port 1: EACCES.
 *   - UDP: each datagram comes back from the address it was sent to (the
 *     connected peer for none); payload "err" comes back as an error
 *     report (ECONNREFUSED).
 *   - GETOPT answers SO_ERROR, SO_ACCEPTCONN, SO_RCVBUF (4242); SETOPT
 *     takes everything but SO_PRIORITY (ENOPROTOOPT); an unknown
 *     descriptor gets TS_CTL_NOT_OURS; op PH_OP_GARBAGE gets a 3-byte
 *     reply (a broken host).
 * Counters (connections, requests per op) let the tests see what the
 * library did.
 *
 * ph_spawn() runs a program with a chosen environment and descriptors,
 * bounded in time, capturing its stdout and stderr; ph_probe() runs this
 * very test binary as one of the probes of preload_probe.c with the
 * library preloaded.
 *
 * Entry points: ph_start, ph_stop, ph_make, ph_ops, ph_conns, ph_spawn,
 * ph_probe, ph_build_path.
 */
#ifndef TS_TESTS_UNIT_PRELOAD_HOST_H
#define TS_TESTS_UNIT_PRELOAD_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "socket_api/ts_ctl_proto.h"

#define PH_MAX_SOCKS 256
#define PH_MAX_CONNS 32
#define PH_OP_GARBAGE 200

struct ph_sock {
    bool used;
    bool eof;                   /* stop reading: EOF or shut down */
    int kind, family;
    int end;                    /* the host's end of the pair */
    uint64_t ino;               /* the program's end */
    int status_rc, so_error;
    struct sockaddr_storage local, peer;
    socklen_t locallen, peerlen;
};

struct ph_host {
    char name[64];
    int lfd, stop[2];
    pthread_t thr;
    pthread_mutex_t lock;
    int nconn;                  /* connections accepted, ever */
    int conns[PH_MAX_CONNS];
    struct ph_sock socks[PH_MAX_SOCKS];
    int nops[16];               /* requests by op (PH_OP_GARBAGE: 0) */
    int last_family;            /* of the last TS_OP_SOCKET */
    int last_setopt[3];         /* level, name, int value */
    uint32_t last_dest_len;     /* header addrlen of the last datagram */
};

int ph_start(struct ph_host *h);
void ph_stop(struct ph_host *h);
/* A stack socket made without a request (as if an ancestor had made it):
 * the program's end, FD_CLOEXEC set. */
int ph_make(struct ph_host *h, int kind, int family);
int ph_ops(struct ph_host *h, int op);
int ph_conns(struct ph_host *h);

/* "DIR/name" for a file next to this test binary (the build directory). */
void ph_build_path(char *out, size_t size, const char *name);

struct ph_result {
    int code;                   /* exit code; -1 killed or signalled */
    char out[8192], err[8192];
};

/* Run argv[0] (a path) with environ minus the names in unset and plus the
 * NAME=VALUE strings in set; map[i][0] is dup2'ed onto map[i][1] in the
 * child. At most 20 s. */
void ph_spawn(const char *const *argv, const char *const *set,
              const char *const *unset, const int (*map)[2], int nmap,
              struct ph_result *res);

/* Run probe NAME of preload_probe.c in a fresh copy of this binary with
 * libtapstack-preload.so preloaded and TAPSTACK_CTL=ctl (NULL: unset). */
void ph_probe(const char *name, const char *ctl, const int (*map)[2],
              int nmap, struct ph_result *res);

#endif
