/* socket_api/stack.h - the stack instance: every layer's state in one struct.
 *
 * No globals (DESIGN.md §3.3): a struct stack owns its buffer pool, its
 * random source, its log, its devices and every layer, so two instances can
 * run side by side in one process (joined by a memdev pair in tests). The
 * instance is driven from outside: stack_rx() reads frames waiting on the
 * devices, stack_poll() runs timers, stack_next_deadline() says when to call
 * stack_poll() again. Time is always passed in (`now`, milliseconds).
 *
 * Two interfaces: the device given to stack_init (the TAP) and the loopback
 * device `lo` the stack makes itself (127.0.0.1/8, eth/loopdev.c). What the
 * stack sends to itself waits in lo's bounded queue until stack_rx_lo() (or
 * stack_rx()) takes it back in: output never runs input, so no protocol
 * re-enters itself. Whoever drives the stack calls stack_rx_lo() after
 * anything that may have sent (a socket call, a timer, a received frame)
 * and before sleeping, while stack_lo_pending() says frames wait.
 *
 * Events: every layer reports to s->ev (core/event.h); stack_input and
 * stack_poll each make one step of it, so that an event names the frame
 * that caused it and the frames sent after it. With log_level INFO or
 * more, the log is one of its sinks (state changes, retransmissions...
 * at INFO, every other event at DEBUG).
 *
 * Entry points: stack_config_default, stack_init, stack_destroy, stack_start,
 * stack_capture_lo, stack_rx, stack_rx_lo, stack_lo_pending, stack_input,
 * stack_poll, stack_next_deadline, stack_counters_print.
 */
#ifndef TS_SOCKET_API_STACK_H
#define TS_SOCKET_API_STACK_H

#include <stdint.h>
#include <stdio.h>

#include "arp/arp.h"
#include "core/event.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "core/rand.h"
#include "eth/eth.h"
#include "eth/netdev.h"
#include "ipv4/ipv4.h"
#include "tcp/tcp.h"
#include "udp/udp.h"

struct stack_config {
    uint8_t mac[ETH_ALEN];
    struct ipv4_config ip;
    unsigned pool_small;        /* frame-sized buffers */
    unsigned pool_large;        /* 64 KiB buffers (reassembly, loopback
                                   segments, offloads) */
    unsigned lo_depth;          /* frames lo holds before it drops */
    uint64_t seed;              /* the random source's seed */
    struct tcp_key secret;      /* ISNs, SYN cookies (RFC 6528): a program
                                   fills it from getrandom(), tests fix it */
    struct tcp_config tcp;
    int log_level;
    FILE *log_out;              /* NULL: silent */
};

struct stack_stats {
    uint64_t rx_no_buffer;      /* reads put off: pool empty */
    uint64_t rx_dev_error;      /* reads the device failed */
};

extern const struct ts_counter_desc stack_counter_desc[];
extern const size_t stack_counter_count;

struct stack {
    struct stack_config cfg;
    struct netdev *dev;
    struct netdev *lo_dev;      /* the loopback device (perhaps captured) */
    struct netdev *lo_raw;      /* the loopdev itself, under any wrapper */
    struct netdev *tap;         /* the TAP under any wrapper (its counters),
                                   or NULL: set by the caller after init */
    struct pbuf_pool pool;
    struct ts_log log;
    struct ts_rand rand;
    struct eth_layer eth;
    struct eth_layer lo_eth;
    struct arp_layer arp;
    struct ipv4_layer ip;
    struct tcp_layer tcp;
    struct udp_layer udp;
    struct stack_stats stats;
    struct ts_events ev;        /* the event path every layer reports to */
};

/* 10.0.0.2/24, MAC 02:00:0a:00:00:02, MTU 1500, a pool for a busy host. */
void stack_config_default(struct stack_config *cfg);
/* Build the layers on dev and on a loopback device of its own; the stack
 * owns dev from now on (closed by stack_destroy, even on failure). 0 or
 * -ENOMEM. */
int stack_init(struct stack *s, const struct stack_config *cfg,
               struct netdev *dev);
void stack_destroy(struct stack *s);
/* Capture lo's frames to the pcap file path (each frame once). 0, or
 * -EIO with libpcap's reason in errbuf. */
int stack_capture_lo(struct stack *s, const char *path, char *errbuf,
                     size_t errlen);
/* Name the interfaces in the log; announce our address (gratuitous ARP). */
void stack_start(struct stack *s, uint64_t now);
/* Read and process up to budget frames from the device, then up to budget
 * from lo. Returns the number processed, or -errno from the device. */
int stack_rx(struct stack *s, unsigned budget, uint64_t now);
/* Take up to budget frames back in from lo (what processing them sends to
 * ourselves waits for the next call). Returns the number processed. */
unsigned stack_rx_lo(struct stack *s, unsigned budget, uint64_t now);
/* Frames waiting in lo. */
unsigned stack_lo_pending(const struct stack *s);
/* Process one received frame (data at the Ethernet header); consumes pb. */
void stack_input(struct stack *s, struct pbuf *pb, uint64_t now);
void stack_poll(struct stack *s, uint64_t now);
uint64_t stack_next_deadline(const struct stack *s);
/* Every counter table of the stack in order: section name, its table and
 * stats (more: a second table of the same section). */
typedef void (*stack_counters_fn)(void *ctx, const char *section,
                                  const struct ts_counter_desc *desc,
                                  size_t n, const void *stats, int more);
void stack_counters_walk(const struct stack *s, stack_counters_fn fn,
                         void *ctx);
/* Every layer's counters, like `netstat -s`. */
void stack_counters_print(const struct stack *s, FILE *out);

#endif
