/* tcp/tcp.h - TCP (RFC 9293): the layer, its connections, and the internal
 * interface the socket API wraps.
 *
 * A struct tcp_layer holds a hash table of connections keyed by the 4-tuple
 * (SipHash with the stack's secret, so no peer can aim at one bucket), the
 * listeners, counters and settings. A struct tcp_conn is one TCB. The
 * application side never blocks inside tcp/: calls return at once
 * (-EAGAIN when they would wait) and readiness arrives as events through the
 * callback given at connect/listen/accept time.
 *
 * Lifetime: the application owns a connection handle from tcp_connect() or
 * tcp_accept() until it calls tcp_close() or tcp_abort(); after that the
 * layer owns it and frees it when the connection is fully closed (after
 * TIME-WAIT). A connection that dies while the application still holds it
 * (reset, time-out) stays, in CLOSED with its error, until tcp_close().
 *
 * Entry points: tcp_init, tcp_destroy, tcp_input, tcp_poll,
 * tcp_next_deadline, and the internal interface: tcp_listen, tcp_connect,
 * tcp_connect_sized, tcp_connect_from, tcp_accept, tcp_send, tcp_recv,
 * tcp_send_room/commit, tcp_recv_data/consume, tcp_shutdown, tcp_close,
 * tcp_abort, tcp_set_nodelay, tcp_set_keepalive, tcp_state_name,
 * tcp_counter_desc, tcp_conn_id; the counters (TCP_COUNTERS) and their
 * events on the stack's event path (tcp_event.c, TCP_COUNT in tcp_conn.h);
 * congestion control: tcp_cc_find, tcp_cc_set, tcp_cc_name,
 * tcp_listener_set_cc.
 */
#ifndef TS_TCP_TCP_H
#define TS_TCP_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <sys/types.h>

#include "core/counters.h"
#include "core/event.h"
#include "core/heap.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "core/rand.h"
#include "ipv4/ipv4.h"
#include "tcp/tcp_buf.h"
#include "tcp/tcp_hash.h"
#include "tcp/tcp_wire.h"

enum tcp_state {
    TCP_CLOSED = 0, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECEIVED,
    TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT,
    TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
};

/* Events delivered to the application (a bit set). */
#define TCP_EV_CONNECTED 0x01   /* handshake done (active open) */
#define TCP_EV_READABLE 0x02    /* data waiting, or end of stream */
#define TCP_EV_WRITABLE 0x04    /* send buffer has room again */
#define TCP_EV_ACCEPT 0x08      /* listener: a connection is ready */
#define TCP_EV_ERROR 0x10       /* reset or time-out: see tcp_conn_error */
#define TCP_EV_EOF 0x20         /* the peer sent FIN (also READABLE) */

struct tcp_conn;
struct tcp_cc_ops;
typedef void (*tcp_event_fn)(void *ctx, struct tcp_conn *c, unsigned events);

/* Settings with good defaults (tcp_config_default). Times in ms. */
struct tcp_config {
    uint32_t sndbuf, rcvbuf;        /* per-connection ring sizes */
    unsigned max_conns;             /* every TCB, TIME-WAIT included */
    uint32_t rto_init, rto_min, rto_max, rto_syn;
    unsigned max_retries;           /* data retransmissions before ETIMEDOUT */
    unsigned max_syn_retries;
    uint32_t delack_ms;             /* delayed ACK at most this long */
    uint32_t msl_ms;                /* TIME-WAIT lasts 2 * MSL */
    uint32_t keepalive_idle, keepalive_intvl;
    unsigned keepalive_count;
    unsigned challenge_ack_per_sec; /* RFC 5961 §7, per connection */
    const struct tcp_cc_ops *cc;    /* congestion control of new
                                       connections (tcp_cc.h; NULL: CUBIC) */
};

/* The layer's counters, one line each: X(name, event, RFC, help). A count
 * with an event name is also an event on the stack's event path
 * (TCP_COUNT); the others (totals, gauges) are counts only. Names and
 * meanings are what `tapstack-ctl stats` and the tests read. */
#define TCP_COUNTERS(X) \
    X(rx_segments, NULL, NULL, "segments received") \
    X(tx_segments, NULL, NULL, "segments sent") \
    X(rx_bytes, NULL, NULL, "data bytes received in order") \
    X(tx_bytes, NULL, NULL, "data bytes sent (retransmissions included)") \
    X(drop_truncated, "drop", "9293 3.1", "dropped: shorter than a 20-byte header") \
    X(drop_bad_offset, "drop", "9293 3.1", "dropped: data offset < 5 or past the segment") \
    X(drop_bad_cksum, "drop", "9293 3.1", "dropped: checksum does not verify") \
    X(drop_bad_addr, "drop", "1122 4.2.3.10", "dropped: to a broadcast address, or port 0") \
    X(opt_malformed, "bad_options", "9293 3.2", "segments whose options ended early (rest ignored)") \
    X(rst_sent_no_conn, "rst_sent", "9293 3.10.7.1", "resets sent for segments to no connection") \
    X(rx_rst, "rst_rcvd", "5961 3.2", "resets received in the window (acted on or challenged)") \
    X(rst_ignored, "drop", "5961 3.2", "resets dropped: outside the window, no connection, listener") \
    X(active_opens, NULL, NULL, "connections opened by us (SYN-SENT)") \
    X(passive_opens, NULL, NULL, "connections opened by a peer (SYN-RECEIVED)") \
    X(established, NULL, NULL, "connections that reached ESTABLISHED") \
    X(closed, NULL, NULL, "connections released") \
    X(conn_refused, "error", "9293 3.10.7.3", "active opens refused (RST to our SYN)") \
    X(conn_reset, "error", "9293 3.10.7.4", "connections reset by the peer") \
    X(conn_timeout, "error", "9293 3.8.3", "connections given up after retransmissions") \
    X(retransmits, "retransmit", "6298 5", "segments retransmitted") \
    X(rto_expired, "rto", "6298 5.4", "retransmission time-outs") \
    X(fast_retransmits, "recovery", "5681 3.2", "fast retransmits (three duplicate ACKs)") \
    X(dup_acks, "dupack", "5681 3.2", "duplicate ACKs received") \
    X(out_of_window, "drop", "9293 3.10.7.4", "segments outside the receive window (ACKed, dropped)") \
    X(rx_ooo_segments, "ooo", "9293 3.10.7.4", "segments received out of order and kept") \
    X(drop_ooo_full, "drop", NULL, "dropped: too many out-of-order gaps") \
    X(drop_syn_queue_full, "syn_cookie", "4987 3.6", "SYNs answered with a cookie: SYN queue full") \
    X(drop_accept_queue_full, "drop", NULL, "dropped: accept queue full") \
    X(drop_no_tcb, "drop", NULL, "dropped: connection limit reached") \
    X(syn_cookies_sent, NULL, NULL, "SYN-ACKs carrying a SYN cookie") \
    X(syn_cookies_ok, "syn_cookie", "4987 3.6", "connections made from a valid cookie") \
    X(syn_cookies_bad, "drop", "4987 3.6", "ACKs to a listener with no valid cookie (RST)") \
    X(challenge_acks, "challenge_ack", "5961 3.2", "challenge ACKs sent (RFC 5961)") \
    X(challenge_acks_limited, "drop", "5961 7", "challenge ACKs not sent: rate limit") \
    X(rst_ignored_time_wait, "drop", "1337", "resets ignored in TIME-WAIT (RFC 1337)") \
    X(drop_ack_unacceptable, "drop", "9293 3.10.7.4", "dropped: ACK of data never sent (ACKed back)") \
    X(drop_no_ack, "drop", "9293 3.10.7.4", "dropped: ACK flag off in a synchronized state") \
    X(zero_window_probes, "probe", "9293 3.8.6.1", "zero-window probes sent") \
    X(keepalive_probes, "probe", "1122 4.2.3.6", "keepalive probes sent") \
    X(tx_no_buffer, "drop", NULL, "segments not sent: buffer pool empty") \
    X(abort_on_data, "rst_sent", "1122 4.2.2.13", "reset: data arrived after the application closed (RFC 1122 4.2.2.13)") \
    X(drop_no_memory, "drop", NULL, "dropped: no memory to grow the receive ring") \
    X(rings_released, NULL, NULL, "rings given back after being empty for a while") \
    X(tx_super_segments, NULL, NULL, "super-segments sent for the device to cut (TSO)") \
    X(output_deferred, NULL, NULL, "outputs put off to the end of a receive batch") \
    X(conns_now, NULL, NULL, "connections in the table now") \
    X(conns_time_wait, NULL, NULL, "of which in TIME-WAIT") \
    X(mem_tcb, NULL, NULL, "bytes held by connection blocks and their timer slots now") \
    X(mem_rings, NULL, NULL, "bytes held by send and receive rings now")

struct tcp_stats { TCP_COUNTERS(TS_CTR_FIELD) };

#define TCP_REASON(n, e, r, h) TCP_R_##n,
enum tcp_reason { TCP_COUNTERS(TCP_REASON) TCP_R_COUNT };

extern const struct ts_counter_desc tcp_counter_desc[];
extern const size_t tcp_counter_count;

struct tcp_listener;

#define TCP_BATCH_MAX 64        /* connections whose output one batch defers */

/* A connection named by its 4-tuple: what a batch remembers, so that a
 * connection freed meanwhile is simply not found at the batch's end. */
struct tcp_tuple {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
};

struct tcp_layer {
    struct tcp_config cfg;
    struct ipv4_layer *ip;
    struct pbuf_pool *pool;
    struct ts_rand *rand;
    const struct ts_log *log;
    struct tcp_key key;             /* ISN, cookie and table secret */
    struct tcp_conn **buckets;
    uint32_t nbuckets;              /* a power of two */
    struct tcp_conn *all;           /* every TCB (inspection) */
    uint32_t *port_refs;            /* TCBs per local port (65,536): a port
                                       in use is found without a walk */
    struct tcp_listener *listeners;
    /* Every TCB with a timer armed, by its earliest deadline: tcp_poll and
     * tcp_next_deadline never walk the table (tcp_timer.c). */
    struct ts_heap timers;
    /* TCBs tcp_poll must settle: events not yet delivered (an accepted
     * connection's first news, a callback's late events) or a release. */
    struct tcp_conn *settle_head, *settle_tail;
    /* TCBs in TIME-WAIT, oldest first: the first to go when the table is
     * full (tcp_make_room), found without a walk. */
    struct tcp_conn *tw_head, *tw_tail;
    uint32_t poll_gen;
    uint64_t timer_visits;          /* TCBs tcp_poll looked at (work counter) */
    uint64_t now;                   /* time of the current event */
    int batching;                   /* inside tcp_batch_begin/end */
    unsigned nbatch;
    struct tcp_tuple batch[TCP_BATCH_MAX];  /* output deferred to the end */
    struct tcp_stats stats;
    struct ts_events *ev;           /* the stack's event path, or NULL */
    const struct tcp_seg *ev_seg;   /* the segment being processed */
    const char *ev_why;             /* "segment", "timer", NULL: a call */
    unsigned next_id;               /* the short id of the next TCB */
};

void tcp_config_default(struct tcp_config *cfg);
/* 0 or -ENOMEM. The key seeds ISNs and cookies (RFC 6528: keep it secret). */
int tcp_init(struct tcp_layer *t, const struct tcp_config *cfg,
             struct ipv4_layer *ip, struct pbuf_pool *pool,
             struct ts_rand *rand, const struct tcp_key *key,
             const struct ts_log *log);
/* Free every connection and listener. */
void tcp_destroy(struct tcp_layer *t);
/* IPv4 handler for IPV4_PROTO_TCP (ctx is the struct tcp_layer). */
void tcp_input(void *ctx, struct pbuf *pb, const struct ipv4_hdr *h,
               uint64_t now);
/* A receive batch (the frames of one wake-up): between begin and end, an
 * ACK a segment calls for waits for the end when it is all that would go,
 * so the segments a batch brings a connection draw one ACK. An ACK the
 * RFCs want at once (a duplicate ACK for out-of-order data, the ACK of a
 * filled gap: RFC 5681 §4.2) still goes at once, and so does data the
 * ACKs make room for (the ACK rides on it; holding data back stretches
 * the ACK clock that loss recovery runs on). */
void tcp_batch_begin(struct tcp_layer *t);
void tcp_batch_end(struct tcp_layer *t);
/* Timers due by now: retransmission, delayed ACK, persist, keepalive,
 * TIME-WAIT, the release of rings left empty. Looks only at the TCBs due
 * (a heap) and those with news to deliver, never at the whole table;
 * tcp_next_deadline is the heap's top. */
void tcp_poll(struct tcp_layer *t, uint64_t now);
uint64_t tcp_next_deadline(const struct tcp_layer *t);
/* For tests: TCBs whose place in the timer heap disagrees with their
 * deadlines (0 when all is well). Walks the table: never on a fast path. */
unsigned tcp_timer_check(const struct tcp_layer *t);

/* Passive open on addr (0: any of ours):port with an accept queue of
 * backlog. The listener's events are TCP_EV_ACCEPT. NULL and *err set
 * (-EADDRINUSE, -ENOMEM, -EINVAL) on failure. */
struct tcp_listener *tcp_listen(struct tcp_layer *t, uint32_t addr,
                                uint16_t port, unsigned backlog,
                                tcp_event_fn fn, void *ctx, int *err);
void tcp_unlisten(struct tcp_listener *l);
/* Ring sizes for the connections l accepts from now on (0: keep). */
void tcp_listener_set_buffers(struct tcp_listener *l, uint32_t sndbuf,
                              uint32_t rcvbuf);
/* Is port in use by a listener / by anything (TIME-WAIT included)? */
int tcp_port_in_use_by_listener(struct tcp_layer *t, uint16_t port);
int tcp_port_in_use(struct tcp_layer *t, uint16_t port);
/* Connections the application has closed whose data or FIN the peer has
 * not yet acknowledged (FIN-WAIT-1, CLOSING, LAST-ACK): what would be lost
 * if the stack stopped now. */
unsigned tcp_draining(const struct tcp_layer *t);
/* Connections waiting in l's accept queue. */
unsigned tcp_listener_pending(const struct tcp_listener *l);
/* Take an established connection off the accept queue; NULL if none
 * (EAGAIN). Its events go to fn/ctx from now on. */
struct tcp_conn *tcp_accept(struct tcp_listener *l, tcp_event_fn fn,
                            void *ctx);
/* Active open to dst:dport from a random ephemeral port (lport 0) or lport.
 * Events: CONNECTED, or ERROR with ECONNREFUSED/ETIMEDOUT. */
struct tcp_conn *tcp_connect(struct tcp_layer *t, uint16_t lport, uint32_t dst,
                             uint16_t dport, tcp_event_fn fn, void *ctx,
                             uint64_t now, int *err);
/* The same with ring sizes of its own (0: the layer's default). */
struct tcp_conn *tcp_connect_sized(struct tcp_layer *t, uint16_t lport,
                                   uint32_t dst, uint16_t dport,
                                   uint32_t sndbuf, uint32_t rcvbuf,
                                   tcp_event_fn fn, void *ctx, uint64_t now,
                                   int *err);
/* The same from laddr (a bound address of ours; 0: the route's source).
 * dst 0.0.0.0 is this host, as on Linux. *err -ENETUNREACH (no route),
 * -EINVAL (laddr 127/8 toward a wire, a broadcast or multicast dst). */
struct tcp_conn *tcp_connect_from(struct tcp_layer *t, uint32_t laddr,
                                  uint16_t lport, uint32_t dst, uint16_t dport,
                                  uint32_t sndbuf, uint32_t rcvbuf,
                                  tcp_event_fn fn, void *ctx, uint64_t now,
                                  int *err);
/* Queue up to len bytes; returns bytes queued (maybe fewer), or -EAGAIN
 * (buffer full), -EPIPE (after shutdown/close, or peer reset), -ENOTCONN. */
ssize_t tcp_send(struct tcp_conn *c, const void *buf, size_t len, uint64_t now);
/* Read up to len bytes; returns bytes, 0 at end of stream, or -EAGAIN,
 * -ENOTCONN, or the connection's error (-ECONNRESET...). */
ssize_t tcp_recv(struct tcp_conn *c, void *buf, size_t len, uint64_t now);
/* The same without a copy through a buffer of the caller's: the free room
 * of the send ring as 1 or 2 spans to fill (readv), or what tcp_send would
 * report (-EAGAIN when full); then tcp_send_commit(n) queues the n bytes
 * written there. */
int tcp_send_room(struct tcp_conn *c, struct iovec iov[2]);
void tcp_send_commit(struct tcp_conn *c, uint32_t n, uint64_t now);
/* The bytes waiting to be read as 1 or 2 spans (writev), or what tcp_recv
 * would return when there are none (0 at end of stream, -EAGAIN, error);
 * then tcp_recv_consume(n) takes the first n. */
int tcp_recv_data(const struct tcp_conn *c, struct iovec iov[2]);
void tcp_recv_consume(struct tcp_conn *c, uint32_t n, uint64_t now);
/* Half-close: FIN after the queued data. 0 or -ENOTCONN. */
int tcp_shutdown(struct tcp_conn *c, uint64_t now);
/* Give the handle back: FIN after queued data (RST if unread data is left,
 * RFC 9293 §3.10.4 / RFC 2525). The layer frees it when done. */
void tcp_close(struct tcp_conn *c, uint64_t now);
/* RST now and give the handle back. */
void tcp_abort(struct tcp_conn *c, uint64_t now);

/* Congestion control (tcp_cc.h). The algorithm called name ("cubic",
 * "reno"; "newreno" is taken for "reno"), or NULL. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* Run c with ops (NULL: the layer's) from now on; its window is kept, the
 * algorithm's own state starts afresh unless ops is c's already. */
void tcp_cc_set(struct tcp_conn *c, const struct tcp_cc_ops *ops);
/* Linux's name of c's algorithm ("cubic", "reno"). */
const char *tcp_cc_name(const struct tcp_conn *c);
/* The algorithm of the connections l accepts from now on (NULL: the
 * layer's). */
void tcp_listener_set_cc(struct tcp_listener *l, const struct tcp_cc_ops *ops);

void tcp_set_nodelay(struct tcp_conn *c, int on);
void tcp_set_keepalive(struct tcp_conn *c, int on);
/* TCP_KEEPIDLE/TCP_KEEPINTVL (ms) and TCP_KEEPCNT; 0: the layer's. */
void tcp_set_keepalive_params(struct tcp_conn *c, uint32_t idle_ms,
                              uint32_t intvl_ms, unsigned count);
/* IP_TTL (0: 64) and IP_TOS of the segments it sends. */
void tcp_set_ip_opts(struct tcp_conn *c, uint8_t ttl, uint8_t tos);
/* The segment size it sends (TCP_MAXSEG). */
uint16_t tcp_conn_mss(const struct tcp_conn *c);

/* Introspection for the socket API and tools. */
enum tcp_state tcp_conn_state(const struct tcp_conn *c);
int tcp_conn_error(const struct tcp_conn *c);     /* 0 or -errno */
uint32_t tcp_conn_readable(const struct tcp_conn *c);
uint32_t tcp_conn_writable(const struct tcp_conn *c);
/* The peer sent FIN and every byte before it has been read. */
int tcp_conn_at_eof(const struct tcp_conn *c);
/* The connection's short id in events (1, 2, ...). */
unsigned tcp_conn_id(const struct tcp_conn *c);
void tcp_conn_addrs(const struct tcp_conn *c, uint32_t *laddr, uint16_t *lport,
                    uint32_t *raddr, uint16_t *rport);
const char *tcp_state_name(enum tcp_state s);

/* What `ss -i` and TCP_INFO show of a connection. Times in microseconds,
 * windows in bytes. */
struct tcp_conn_info {
    enum tcp_state state;
    unsigned retries, probes;       /* consecutive RTOs, probes unanswered */
    uint32_t rto_us, ato_us, rtt_us, rttvar_us;
    uint32_t mss, peer_mss_seen, cwnd, ssthresh;
    uint32_t snd_wnd, rcv_wnd, in_flight, total_retrans;
    uint8_t snd_ws, rcv_ws;
    int sack, wscale;
    uint32_t snd_queued, rcv_queued;    /* bytes in the rings */
    uint64_t bytes_sent, bytes_received;
    unsigned sack_blocks, ooo_ranges;   /* held: scoreboard, receive gaps */
    const char *cc;                     /* congestion control ("cubic") */
    uint8_t ca_state;                   /* Linux's numbers: 0 open, 1
                                           duplicate ACKs seen, 3 fast
                                           recovery, 4 after an RTO */
    /* Timers: absolute deadlines in ms, TS_NEVER when off. */
    uint64_t rto_at, delack_at, keep_at, tw_at;
};
void tcp_conn_info(const struct tcp_conn *c, struct tcp_conn_info *out);
/* Walk every connection (TIME-WAIT and closing ones too) and listener:
 * the next after prev (NULL: the first), NULL at the end. */
const struct tcp_conn *tcp_conn_next(const struct tcp_layer *t,
                                     const struct tcp_conn *prev);
const struct tcp_listener *tcp_listener_next(const struct tcp_layer *t,
                                             const struct tcp_listener *prev);
void tcp_listener_info(const struct tcp_listener *l, uint32_t *addr,
                       uint16_t *port, unsigned *pending, unsigned *backlog);

#endif
