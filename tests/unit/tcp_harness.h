/* tests/unit/tcp_harness.h - two whole stacks back to back, for TCP tests.
 *
 * Stack A (10.0.0.1, 02:00:0a:00:00:01) and stack B (10.0.0.2,
 * 02:00:0a:00:00:02) run on the two ends of a memdev pair with a fake clock:
 * `h->now` is a plain number the test moves forward (th_advance,
 * th_run_until), never the wall clock. th_pump() moves frames both ways and
 * runs both stacks' timers at the current time until nothing moves.
 *
 * Every TCP segment either stack sends passes a filter that logs it (time,
 * flags, numbers, length) and applies the test's rules: drop, duplicate, or
 * hold back for reordering (a held copy is put back on the wire after a given
 * number of later segments in the same direction, or when the wire is
 * otherwise quiet). A test can also write raw frames into either stack as
 * an attacker on the wire would (th_build + th_inject).
 *
 * Connections are wrapped in struct th_conn, which records every event and,
 * as events arrive, reads what is readable (checking each byte against a
 * position-dependent pattern, so loss, duplication or misordering shows as
 * a mismatch) and writes a pattern stream of a chosen length.
 * Entry points: th_config_default, th_new, th_free, th_pump, th_advance,
 * th_run_until, th_all_done, th_connect, th_listen, th_unlisten, th_peer,
 * th_established_pair, th_close, th_send_stream, th_read, th_rule_add,
 * th_rules_clear, th_build, th_fix_cksum, th_inject, th_find_seg, th_dump,
 * th_pattern.
 *
 * A stack's side of the wire may also pass the fault injector
 * (eth/faultdev.h, th_opts.fault): seeded loss, duplication, reordering and
 * delay between the stack and the filter, run on the fake clock. A delay
 * gives the wire a round-trip time.
 */
#ifndef TS_TESTS_UNIT_TCP_HARNESS_H
#define TS_TESTS_UNIT_TCP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "eth/faultdev.h"
#include "socket_api/stack.h"
#include "tcp/tcp_conn.h"

#define TH_A 0
#define TH_B 1
#define TH_A_IP TS_IP4(10, 0, 0, 1)
#define TH_B_IP TS_IP4(10, 0, 0, 2)
#define TH_T0 1000000u          /* default start time, ms */
#define TH_BUF (64u * 1024u)    /* default send and receive buffers */

#define TH_MAX_CONNS 8
#define TH_MAX_RULES 8
#define TH_MAX_HELD 1024
#define TH_LOG_MAX 16384        /* segments logged per direction */
#define TH_CAPTURE 4096         /* bytes kept by a non-checking reader */

/* Directions of the wire, named by the sender. */
#define TH_A_TO_B 0
#define TH_B_TO_A 1
#define TH_ANY (-1)

enum th_act { TH_PASS = 0, TH_DROP, TH_DUP, TH_HOLD };

/* One TCP segment seen on the wire. */
struct th_seg {
    uint64_t t;                 /* h->now when it was sent */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;               /* as on the wire, unscaled */
    uint32_t len;               /* payload bytes */
    uint8_t hlen;               /* TCP header bytes, options included */
    uint8_t nsack;              /* SACK blocks carried */
    enum th_act act;            /* what the filter did with it */
};

/* A rule matches TCP segments in one direction (or TH_ANY) whose
 * (flags & flags_mask) == flags_val, whose payload is empty (data 0),
 * non-empty (1) or either (-1), and whose destination port lies in
 * [dport_lo, dport_hi] (both 0: any). It lets `skip` matches pass, then acts
 * on the next `count` (0: on every one after that). */
struct th_rule {
    int dir;
    uint8_t flags_mask, flags_val;
    int data;
    uint16_t dport_lo, dport_hi;
    unsigned skip, count;
    enum th_act act;
    unsigned hold;              /* TH_HOLD: segments to let pass first */
    unsigned seen, done;        /* the rule's own state */
};

struct th;

/* A test's own filter, consulted before the rules: return an action, or -1
 * to leave the segment to the rules. */
typedef int (*th_hook_fn)(struct th *h, int dir, const struct th_seg *s);

struct th_conn {
    struct th *h;
    int side;                   /* TH_A or TH_B */
    struct tcp_conn *c;         /* NULL once the test gave it back */
    unsigned ev_all;            /* union of every event delivered */
    unsigned n_events, n_connected, n_error, n_eof, n_readable, n_writable;
    int err_seen;               /* tcp_conn_error() at the ERROR event */
    uint64_t connected_at, error_at;
    /* Reader: on READABLE, read everything when auto_read is set. */
    int auto_read;
    int rx_check;               /* compare with the pattern (else capture) */
    uint32_t rx_seed;
    uint64_t rx_bytes;
    uint64_t rx_bad;            /* 1 + offset of the first wrong byte, or 0 */
    int rx_eof;                 /* tcp_recv returned 0 */
    int rx_err;                 /* last negative tcp_recv other than EAGAIN */
    uint8_t capture[TH_CAPTURE];
    /* Writer: tx_total pattern bytes, written as room appears. */
    uint32_t tx_seed;
    uint64_t tx_total, tx_done;
    int tx_shutdown;            /* shut down the write side when done */
    int tx_shut;
    /* An application that owns several sockets: on ERROR, abort this one
     * too (like a proxy dropping the other half of a pair). */
    struct th_conn *abort_on_error;
};

struct th_listen {
    struct th *h;
    int side;
    struct tcp_listener *l;
    unsigned accepted;
    int auto_read;              /* given to accepted connections */
    int hold;                   /* leave connections on the accept queue */
};

struct th_held {
    uint8_t *frame;
    size_t len;
    int dir;
    uint64_t release_at;        /* after this many segments in dir */
};

struct th_opts {
    struct stack_config cfg[2];
    uint64_t t0;
    unsigned wire_depth;
    /* Put the fault injector between stack i and the wire (NULL: none). */
    const struct faultdev_config *fault[2];
};

struct th {
    struct stack s[2];
    struct netdev *mem[2];      /* the wire's two ends (memdev) */
    struct netdev *fault[2];    /* the fault injectors, or NULL */
    uint64_t now;
    int bypass;                 /* frames the harness itself puts on the wire */
    struct th_conn conns[TH_MAX_CONNS];
    unsigned nconns;
    struct th_listen lis[2];
    struct th_rule rules[TH_MAX_RULES];
    unsigned nrules;
    th_hook_fn hook;
    void *hook_ctx;
    unsigned hook_hold;         /* when the hook says TH_HOLD: for how long */
    struct th_held held[TH_MAX_HELD];
    unsigned nheld;
    struct th_seg *log[2];      /* per direction, TH_LOG_MAX entries */
    uint64_t nseg[2];           /* segments seen per direction (all, not only logged) */
    uint64_t ndropped[2];
    uint64_t nfrag[2];          /* IPv4 fragments seen (TCP never needs them) */
    uint64_t max_iters;         /* bound of th_advance/th_run_until steps */
    int check_pool;             /* th_free asserts no buffer is in use */
};

/* Defaults: addresses as above, 64 KiB buffers, fixed distinct secrets and
 * seeds, small pools, start at TH_T0. */
void th_config_default(struct th_opts *o);
/* Build both stacks on a memdev pair (o may be NULL: defaults). */
struct th *th_new(const struct th_opts *o);
/* Check that no buffer is in use (unless h->check_pool was cleared),
 * destroy both stacks, free everything. */
void th_free(struct th *h);

/* Move frames and run timers at h->now until nothing moves. */
void th_pump(struct th *h);
/* Move the clock ms forward, from deadline to deadline, pumping. */
void th_advance(struct th *h, uint64_t ms);
/* Advance until pred(h) is true or max_ms have passed; returns pred(h). */
int th_run_until(struct th *h, int (*pred)(struct th *), uint64_t max_ms);
/* Every connection's writer finished and every reader got its bytes. */
int th_all_done(struct th *h);

/* Active open from side (lport 0: ephemeral). Fails the test on error. */
struct th_conn *th_connect(struct th *h, int side, uint16_t lport,
                           uint32_t dst, uint16_t dport);
/* Listener on side:port that accepts every connection as it arrives. */
struct tcp_listener *th_listen(struct th *h, int side, uint16_t port,
                               unsigned backlog);
/* tcp_unlisten the listener of side. */
void th_unlisten(struct th *h, int side);
/* The connection on the other side with the same ports, or NULL. */
struct th_conn *th_peer(struct th *h, const struct th_conn *tc);
/* A listener on B:port, a connection from A, both ESTABLISHED. */
void th_established_pair(struct th *h, uint16_t port, struct th_conn **a,
                         struct th_conn **b);
/* tcp_close and forget the handle. */
void th_close(struct th_conn *tc);
/* Write n more pattern bytes (then shut down if shutdown is set). */
void th_send_stream(struct th_conn *tc, uint64_t n, int shutdown);
/* Read everything readable now (as on a READABLE event). */
void th_read(struct th_conn *tc);

/* Add a rule (rules are tried in order; the first that acts wins). */
struct th_rule *th_rule_add(struct th *h, int dir, uint8_t flags_mask,
                            uint8_t flags_val, int data, unsigned skip,
                            unsigned count, enum th_act act);
void th_rules_clear(struct th *h);

/* A raw segment as an attacker would write it. */
struct th_raw {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    struct tcp_opts opts;
    const void *data;
    size_t len;
};
#define TH_FRAME_MAX 1600
#define TH_TCP_OFF (ETH_HLEN + IPV4_HLEN)   /* where the TCP header starts */
/* Ethernet + IPv4 + TCP into frame (TH_FRAME_MAX bytes), checksums right,
 * addressed to the stack that owns r->dst. Returns the frame length. */
size_t th_build(uint8_t *frame, const struct th_raw *r);
/* Recompute the TCP checksum of a built frame after editing it. */
void th_fix_cksum(uint8_t *frame, size_t len);
/* Put frame on the wire towards side `to` (no filter, no pump). */
void th_inject(struct th *h, int to, const uint8_t *frame, size_t len);

/* The first segment in dir logged at or after index from that matches
 * (flags & mask) == val; its index, or -1. */
long th_find_seg(const struct th *h, int dir, long from, uint8_t mask,
                 uint8_t val);

/* Print the logged segments of dir to stderr (for debugging a test). */
void th_dump(const struct th *h, int dir);

/* The byte at offset off of the stream with this seed. */
uint8_t th_pattern(uint32_t seed, uint64_t off);

#endif
