/* tests/scripts/tsr_env.h - the runner's world while it plays one script:
 * the stack on a memdev pair, the virtual clock, the segments the stack
 * sent that no '>' line has taken yet, and the script's file descriptors.
 * Entry points: tsr_env_new, tsr_env_free, tsr_env_configure,
 * tsr_advance, tsr_drain, tsr_settle, tsr_inject, tsr_run_line (tsr_run.c),
 * tsr_call (tsr_call.c), tsr_report.
 */
#ifndef TS_TESTS_SCRIPTS_TSR_ENV_H
#define TS_TESTS_SCRIPTS_TSR_ENV_H

#include <stdint.h>

#include "socket_api/stack.h"
#include "tests/scripts/tsr.h"

#define TSR_T0 1000000u         /* the stack's clock at script time 0, ms */
#define TSR_MAX_FDS 16
#define TSR_FIRST_FD 3
#define TSR_QUEUE 64            /* sent segments waiting for '>' lines */

enum tsr_fd_kind { TSR_FD_FREE = 0, TSR_FD_SOCKET, TSR_FD_LISTENER,
                   TSR_FD_CONN };

struct tsr_fd {
    enum tsr_fd_kind kind;
    uint16_t port;              /* bound port (0: none) */
    struct tcp_listener *l;
    struct tcp_conn *c;
    unsigned events;            /* every event delivered */
    uint32_t sndbuf, rcvbuf;    /* SO_SNDBUF/SO_RCVBUF (0: the stack's) */
    int nodelay, keepalive, linger0;
    uint32_t ka_idle, ka_intvl; /* ms */
    unsigned ka_count;
    uint64_t rd, wr;            /* bytes read and written */
};

struct tsr_out {
    uint64_t t;                 /* when the stack sent it */
    uint8_t frame[TSR_FRAME_MAX];
    struct tsr_sent seg;
};

struct tsr_env {
    struct stack s;
    struct stack_config cfg;
    struct netdev *peer;
    int started;                /* stack built (config lines come first) */
    uint64_t now, last;         /* clock, time of the previous line (ms) */
    struct tsr_isn isn;
    struct tsr_fd fds[TSR_MAX_FDS];
    struct tsr_out q[TSR_QUEUE];
    unsigned qhead, qlen;
    int verbose;
    int failed;
    const char *file;
    unsigned lineno;
    const char *text;           /* the line being played */
};

struct tsr_env *tsr_env_new(int verbose);
void tsr_env_free(struct tsr_env *e);
/* A config KEY=VALUE line: -1 for an unknown key or after the start. */
int tsr_env_configure(struct tsr_env *e, const char *key, uint64_t val);
/* Move the clock to the absolute time t (ms), running timers. */
void tsr_advance(struct tsr_env *e, uint64_t t);
/* Take every frame the stack sent into the queue. */
void tsr_drain(struct tsr_env *e);
/* After a line's action: run timers already due, then drain. */
void tsr_settle(struct tsr_env *e);
/* Play one parsed line; 0, or -1 after reporting the failure. */
int tsr_run_line(struct tsr_env *e, const struct tsr_line *ln);
/* A socket call line (tsr_call.c); 0 or -1 after reporting. */
int tsr_call(struct tsr_env *e, const struct tsr_call *k);
/* Report a failure of the current line (printf-like); returns -1. */
int tsr_report(struct tsr_env *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Fail when the stack sent something no line expected. */
int tsr_check_quiet(struct tsr_env *e);

#endif
