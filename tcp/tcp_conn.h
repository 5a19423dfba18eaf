/* tcp/tcp_conn.h - the TCB and what the files of tcp/ share among themselves.
 *
 * Not part of the interface: the socket API uses tcp/tcp.h only.
 * Files: tcp_table.c (lookup, create, free), tcp_in.c (SEGMENT ARRIVES),
 * tcp_out.c (building and sending segments), tcp_timer.c (RTO, persist,
 * delayed ACK, keepalive, TIME-WAIT), tcp_cookie.c (ISN and SYN cookies),
 * tcp_api.c (the application's calls), tcp_cc*.c (congestion control,
 * tcp_cc.h), tcp_event.c (the event path).
 */
#ifndef TS_TCP_TCP_CONN_H
#define TS_TCP_TCP_CONN_H

#include "tcp/tcp.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_seq.h"

#include <errno.h>

#include "core/bytes.h"
#include "core/clock.h"

#define TCP_MSS_DEFAULT 536     /* RFC 9293 §3.7.1: when the peer sends none */
#define TCP_MSS_MIN 64          /* a peer's tiny or zero MSS is clamped up */
#define TCP_WS_MAX 14           /* RFC 7323 §2.3 */
#define TCP_DUPACK_THRESH 3     /* RFC 5681 §3.2 */
#define TCP_IW_SEGS 10          /* RFC 6928 initial window */
#define TCP_RING_IDLE_MS 1000   /* an empty ring is freed after this long */

/* Bits of tcp_conn.flags. */
#define TCP_F_FIN_QUEUED 0x0001     /* application shut down the write side */
#define TCP_F_FIN_SENT 0x0002       /* our FIN went out once: fin_seq is set */
#define TCP_F_ACK_NOW 0x0004        /* send an ACK on the next output */
#define TCP_F_NODELAY 0x0008        /* Nagle off */
#define TCP_F_KEEPALIVE 0x0010
#define TCP_F_USER_CLOSED 0x0020    /* the application gave the handle back */
#define TCP_F_PASSIVE 0x0040        /* opened by a listener */
#define TCP_F_EOF 0x0080            /* the peer's FIN has been received */
#define TCP_F_WS_OK 0x0100          /* window scaling negotiated */
#define TCP_F_IN_RECOVERY 0x0200    /* fast recovery (RFC 6582) */
#define TCP_F_RTT_TIMING 0x0400     /* rtt_seq is being timed */
#define TCP_F_PERSIST 0x0800        /* zero window: probing */
#define TCP_F_COOKIE 0x1000         /* made from a SYN cookie */
#define TCP_F_RELEASE 0x2000        /* free at the next settle */
#define TCP_F_NOTIFY_ACCEPT 0x4000  /* tell the listener at the next settle */
#define TCP_F_FIN_ACKED 0x8000      /* the peer acknowledged our FIN */
#define TCP_F_SACK_OK 0x10000       /* SACK permitted both ways (RFC 2018) */
#define TCP_F_NO_CSUM 0x20000       /* its route's device vouches for
                                       checksums (lo): none computed */
#define TCP_F_SETTLE_Q 0x40000      /* on the layer's settle queue */
/* High bits, out of the way of the protocol's own. */
#define TCP_F_ACK_AT_ONCE 0x40000000u   /* this ACK may not wait for the
                                           end of the receive batch */
#define TCP_F_OUT_PENDING 0x80000000u   /* output waits for the batch end */

struct tcp_conn {
    struct tcp_layer *t;
    struct tcp_conn *hnext;         /* hash bucket chain */
    struct tcp_conn *next, *prev;   /* every TCB */
    struct ts_heap_node tnode;      /* key: tcp_conn_deadline() when armed */
    struct tcp_conn *snext, *sprev; /* the layer's settle queue */
    uint32_t sgen;                  /* poll_gen when it was queued */
    struct tcp_conn *twnext, *twprev;   /* the layer's TIME-WAIT list */
    struct tcp_conn *qnext;         /* listener's accept queue */
    struct tcp_listener *listener;  /* passive opens until accepted */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    const struct ipv4_if *ifp;      /* the interface its route uses */
    uint8_t state;                  /* enum tcp_state */
    uint8_t snd_ws, rcv_ws;         /* window scale shifts */
    uint32_t flags;
    int err;                        /* 0 or -errno for the application */
    /* RFC 9293 §3.3.1 send sequence variables. */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
    uint32_t max_snd_wnd;           /* largest window the peer offered */
    uint32_t fin_seq;               /* our FIN's number (TCP_F_FIN_SENT) */
    /* Receive sequence variables. */
    uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
    uint32_t rcv_wup;               /* RCV.NXT when we last sent an ACK */
    uint16_t mss;                   /* what we send per segment */
    uint16_t ack_pending;           /* full segments received, not ACKed */
    /* RFC 6298 state. */
    /* srtt, rttvar in 1/8 ms (RFC 6298 gains); rto in ms; srtt 0: no sample */
    uint32_t srtt, rttvar, rto;
    uint32_t rtt_seq;
    uint64_t rtt_start;
    unsigned retries;               /* consecutive RTO expiries; in persist:
                                       zero-window probes unanswered */
    /* Congestion control (tcp_cc.h): bytes; recovery per RFC 6582. */
    uint32_t cwnd, ssthresh, recover;
    unsigned dupacks;
    const struct tcp_cc_ops *cc;    /* the algorithm (TCP_CONGESTION) */
    union tcp_cc_state ccs;         /* and its own state */
    /* Timers: absolute deadlines, TS_NEVER when off. */
    uint64_t rto_at, delack_at, keep_at, tw_at;
    uint64_t idle_at;               /* give empty rings' memory back */
    unsigned probes;                /* persist or keepalive probes unanswered */
    uint64_t last_rx;               /* keepalive idle reference */
    /* RFC 5961 §7 challenge ACK limit. */
    uint64_t chal_window;
    unsigned chal_count;
    uint32_t sndbuf, rcvbuf;        /* ring sizes, set before allocation */
    /* Per-socket settings (0: the layer's): TCP_KEEPIDLE/INTVL/CNT in ms
     * and probes, IP_TTL and IP_TOS of what it sends. */
    uint32_t ka_idle, ka_intvl;
    unsigned ka_count;
    uint8_t ttl, tos;
    uint32_t total_retrans;         /* segments sent again (TCP_INFO) */
    uint64_t bytes_sent, bytes_received;    /* data, for `ss -i` */
    struct tcp_ring snd, rcv;
    struct tcp_ooo ooo;             /* receiver: data held past a gap */
    uint32_t ooo_recent;            /* start of the last such segment */
    struct tcp_ooo sacked;          /* sender: SACK scoreboard (RFC 6675) */
    uint32_t rexmit_next;           /* recovery: next hole to resend from */
    tcp_event_fn fn;
    void *ctx;
    unsigned pending_ev;            /* events to deliver at the next settle */
    unsigned busy;                  /* inside the application's callback */
    unsigned id;                    /* short id in events (1, 2, ...) */
    struct {                        /* last reported to the event path */
        uint32_t cc[2], rtt[3], wnd[1];
    } ev_snap;
};

struct tcp_listener {
    struct tcp_layer *t;
    struct tcp_listener *next;
    uint32_t addr;
    uint16_t port;
    unsigned backlog;               /* accept queue bound */
    unsigned syn_max;               /* SYN-RECEIVED bound before cookies */
    unsigned nsyn, naccept;
    uint32_t sndbuf, rcvbuf;        /* for the connections it accepts */
    const struct tcp_cc_ops *cc;    /* and their algorithm (NULL: layer's) */
    struct tcp_conn *accept_head, *accept_tail;
    tcp_event_fn fn;
    void *ctx;
};

/* A parsed, checksummed incoming segment. */
struct tcp_seg {
    struct tcp_hdr h;
    uint32_t src, dst;              /* IP addresses, host order */
    const uint8_t *data;
    uint32_t len;                   /* data bytes */
    uint32_t seq_len;               /* len + SYN + FIN */
};

/* tcp_table.c */
struct tcp_conn *tcp_conn_find(struct tcp_layer *t, uint32_t laddr,
                               uint16_t lport, uint32_t raddr, uint16_t rport);
struct tcp_listener *tcp_listener_find(struct tcp_layer *t, uint32_t addr,
                                       uint16_t port);
struct tcp_conn *tcp_conn_new(struct tcp_layer *t, uint32_t laddr,
                              uint16_t lport, uint32_t raddr, uint16_t rport);
int tcp_conn_alloc_buffers(struct tcp_conn *c);
void tcp_conn_free(struct tcp_conn *c);
/* Take c off its listener's SYN or accept queue (c->listener = NULL). */
void tcp_unqueue(struct tcp_conn *c);
void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
/* The connection is over for the application with err (0: orderly). */
void tcp_conn_done(struct tcp_conn *c, int err);
void tcp_conn_event(struct tcp_conn *c, unsigned ev);
/* After a segment, a timer or a call: deliver the events collected, tell
 * the listener about a new connection, and free a released TCB. Nothing may
 * touch c after it. This is the only place a TCB is freed during
 * operation, so no code ever holds a pointer to freed memory. */
void tcp_conn_settle(struct tcp_conn *c);

/* tcp_out.c */
int tcp_output(struct tcp_conn *c);
void tcp_send_ack(struct tcp_conn *c);
void tcp_send_challenge_ack(struct tcp_conn *c);
void tcp_send_rst(struct tcp_conn *c);
void tcp_send_syn(struct tcp_conn *c);
void tcp_send_probe(struct tcp_conn *c);
void tcp_retransmit_first(struct tcp_conn *c);
void tcp_output_force(struct tcp_conn *c);
void tcp_xmit_keepalive(struct tcp_conn *c);
uint32_t tcp_pipe(const struct tcp_conn *c);
void tcp_sack_retransmit(struct tcp_conn *c);
void tcp_reply_rst(struct tcp_layer *t, const struct tcp_seg *s);
/* tcp_output now, or at the end of the receive batch (tcp_batch_begin). */
void tcp_output_batched(struct tcp_conn *c);
uint32_t tcp_rcv_window(struct tcp_conn *c);
/* The MSS we offer to raddr: its route's MTU less 40 (65,495 on lo). */
uint16_t tcp_our_mss(const struct tcp_layer *t, uint32_t raddr);

/* tcp_timer.c */
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_ms);
void tcp_timer_rearm(struct tcp_conn *c);
void tcp_conn_poll(struct tcp_conn *c, uint64_t now);
uint64_t tcp_conn_deadline(const struct tcp_conn *c);
/* Put c in the timer heap at its earliest deadline (or out of it): after
 * anything that may have changed a deadline, outside a settle. */
void tcp_timer_sync(struct tcp_conn *c);
/* Ask tcp_poll to settle c (pending events, a release). */
void tcp_settle_enqueue(struct tcp_conn *c);
void tcp_settle_dequeue(struct tcp_conn *c);
void tcp_enter_time_wait(struct tcp_conn *c);
/* Arm or stop the timer that frees rings left empty (at each settle). */
void tcp_rings_watch(struct tcp_conn *c);

/* tcp_event.c: called only when a sink listens, but for
 * tcp_ev_retransmit, which counts too. */
void tcp_ev_count(struct tcp_layer *t, enum tcp_reason r,
                  const struct tcp_conn *c);
void tcp_ev_state(const struct tcp_conn *c, enum tcp_state to);
void tcp_ev_retransmit(struct tcp_conn *c, const char *cause, uint32_t seq,
                       uint32_t len, int sent);
void tcp_ev_settle(struct tcp_conn *c);
void tcp_ev_snap_init(struct tcp_conn *c);

/* Count reason `name` (a field of struct tcp_stats) for connection c (or
 * NULL) and, when a sink listens, put it on the event path. */
#define TCP_COUNT(t, name, c)                                   \
    do {                                                        \
        (t)->stats.name++;                                      \
        if (ts_ev_on((t)->ev))                                  \
            tcp_ev_count((t), TCP_R_##name, (c));               \
    } while (0)

/* tcp_cookie.c */
uint32_t tcp_isn(struct tcp_layer *t, uint32_t laddr, uint16_t lport,
                 uint32_t raddr, uint16_t rport);
uint32_t tcp_cookie_make(struct tcp_layer *t, const struct tcp_seg *s,
                         uint16_t mss);
/* The MSS encoded in a valid cookie for this ACK, or 0 if it is not one. */
uint16_t tcp_cookie_check(struct tcp_layer *t, const struct tcp_seg *s);

/* tcp_listen.c */
void tcp_listener_enqueue(struct tcp_conn *c);

/* tcp_in.c */
void tcp_take_syn_opts(struct tcp_conn *c, const struct tcp_seg *s,
                       int we_offered_ws);
void tcp_conn_input(struct tcp_conn *c, struct tcp_seg *s);
void tcp_listen_input(struct tcp_listener *l, struct tcp_seg *s);
/* Both handshakes end here: buffers, windows, congestion state. */
int tcp_establish(struct tcp_conn *c, const struct tcp_seg *s);

static inline uint32_t tcp_flight(const struct tcp_conn *c)
{
    return c->snd_nxt - c->snd_una;
}

#endif
