/* udp/udp.h - UDP for a host (RFC 768, RFC 1122 §4.1): bindings, datagram
 * delivery with a bounded receive queue per socket, and sending.
 *
 * A datagram arriving for no socket draws ICMP port unreachable (unicast
 * only; ICMP's own rules and rate limit apply). Broadcasts reach only
 * sockets that asked for them (udp_set_broadcast, like SO_BROADCAST), and
 * every such socket on the port gets a copy. Each socket queues datagrams
 * in its own byte ring of rcvbuf bytes: a full queue drops (counted), so a
 * socket nobody reads cannot take the stack's buffers.
 * Entry points: udp_init, udp_destroy, udp_input, udp_open, udp_bind,
 * udp_connect, udp_sendto, udp_recvfrom, udp_close, udp_set_broadcast,
 * udp_next_len, udp_counter_desc.
 */
#ifndef TS_UDP_UDP_H
#define TS_UDP_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/counters.h"
#include "core/event.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "core/rand.h"
#include "ipv4/ipv4.h"
#include "udp/udp_wire.h"

#define UDP_MAX_PAYLOAD (IPV4_MAX_LEN - IPV4_HLEN - UDP_HLEN)   /* 65,507 */
#define UDP_BUCKETS 256

#define UDP_EV_READABLE 0x1

struct udp_sock;
typedef void (*udp_event_fn)(void *ctx, struct udp_sock *s, unsigned events);

/* The layer's counters, one line each: X(name, event, RFC, help); a
 * count with an event name is also an event on the stack's event path
 * (UDP_COUNT). */
#define UDP_COUNTERS(X) \
    X(rx_datagrams, NULL, NULL, "datagrams received") \
    X(rx_delivered, NULL, NULL, "datagrams queued to a socket (copies for broadcasts)") \
    X(tx_datagrams, NULL, NULL, "datagrams sent") \
    X(drop_truncated, "drop", "768", "dropped: shorter than the 8-byte header") \
    X(drop_bad_len, "drop", "768", "dropped: length field < 8 or past the datagram") \
    X(drop_bad_cksum, "drop", "1122 4.1.3.4", "dropped: checksum does not verify") \
    X(drop_no_port, "drop", "1122 4.1.3.1", "dropped: no socket on the port (ICMP unreachable)") \
    X(drop_queue_full, "drop", NULL, "dropped: the socket's receive queue was full") \
    X(drop_broadcast_unwanted, "drop", NULL, "dropped: broadcast and no socket asked for it") \
    X(tx_no_buffer, "drop", NULL, "not sent: buffer pool empty") \
    X(tx_error, "drop", NULL, "not sent: no route or too big")

struct udp_stats { UDP_COUNTERS(TS_CTR_FIELD) };

#define UDP_REASON(n, e, r, h) UDP_R_##n,
enum udp_reason { UDP_COUNTERS(UDP_REASON) UDP_R_COUNT };
#define UDP_COUNT(u, name) TS_COUNT((u)->ev, TS_EVL_UDP, (u)->stats, \
                                    udp_counter_desc, UDP_R_##name, name)

extern const struct ts_counter_desc udp_counter_desc[];
extern const size_t udp_counter_count;

struct udp_layer {
    struct ipv4_layer *ip;
    struct pbuf_pool *pool;
    struct ts_rand *rand;
    struct udp_sock *bucket[UDP_BUCKETS];   /* bound sockets by port */
    uint64_t now;
    struct udp_stats stats;
    struct ts_events *ev;       /* the stack's event path, or NULL */
};

void udp_init(struct udp_layer *u, struct ipv4_layer *ip, struct pbuf_pool *pool,
              struct ts_rand *rand);
/* Close every socket still open. */
void udp_destroy(struct udp_layer *u);
/* IPv4 handler for IPV4_PROTO_UDP (ctx is the struct udp_layer). */
void udp_input(void *ctx, struct pbuf *pb, const struct ipv4_hdr *h,
               uint64_t now);

/* A new, unbound socket whose queue holds rcvbuf bytes. NULL: -ENOMEM. */
struct udp_sock *udp_open(struct udp_layer *u, uint32_t rcvbuf,
                          udp_event_fn fn, void *ctx);
/* Bind to addr (0: any of ours) and port (0: a free ephemeral port).
 * 0, -EADDRINUSE, -EINVAL (already bound, or addr not ours). */
int udp_bind(struct udp_sock *s, uint32_t addr, uint16_t port);
/* Default destination, and only datagrams from it are received; binds an
 * ephemeral port first if needed. addr 0 undoes it. 0 or -errno. */
int udp_connect(struct udp_sock *s, uint32_t addr, uint16_t port);
/* Send one datagram (to the connected peer when dst is 0). Binds an
 * ephemeral port if needed. len, or -EMSGSIZE, -EDESTADDRREQ, -EACCES
 * (broadcast without udp_set_broadcast), -ENETUNREACH, -ENOBUFS. */
ssize_t udp_sendto(struct udp_sock *s, const void *buf, size_t len,
                   uint32_t dst, uint16_t dport, uint64_t now);
/* Take the next datagram: copies up to len bytes (the rest of a longer
 * datagram is discarded, as recv(2) does) and returns the datagram's full
 * length, or -EAGAIN when none is queued. src/sport may be NULL. */
ssize_t udp_recvfrom(struct udp_sock *s, void *buf, size_t len,
                     uint32_t *src, uint16_t *sport);
/* Length of the next queued datagram, or -1 if none. */
long udp_next_len(const struct udp_sock *s);
void udp_set_broadcast(struct udp_sock *s, int on);
/* IP_TTL (0: 64) and IP_TOS of what it sends. */
void udp_set_ip_opts(struct udp_sock *s, uint8_t ttl, uint8_t tos);
void udp_close(struct udp_sock *s);
void udp_sock_addr(const struct udp_sock *s, uint32_t *addr, uint16_t *port);
/* Walk the bound sockets: the next after prev (NULL: the first). */
const struct udp_sock *udp_sock_next(const struct udp_layer *u,
                                     const struct udp_sock *prev);
/* Bound and peer address (0 when none) and the bytes queued. */
void udp_sock_info(const struct udp_sock *s, uint32_t *laddr, uint16_t *lport,
                   uint32_t *raddr, uint16_t *rport, uint32_t *queued);

#endif
