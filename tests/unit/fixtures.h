/* tests/unit/fixtures.h - helpers shared by the link-layer suites.
 *
 * A struct fx_link is one stack end on a memdev pair: a pbuf pool, the
 * stack's netdev with an Ethernet layer on it, and the test's "peer" netdev
 * on the other end of the wire. The test plays the peer: it injects frames
 * with fx_peer_send(), runs the stack's receive path with fx_pump(), and
 * reads what the stack sent with fx_peer_recv(). Nothing here reads a clock:
 * every `now` is the caller's.
 * Entry points: fx_link_init, fx_link_destroy, fx_frame, fx_peer_send,
 * fx_pump, fx_peer_recv, fx_peer_drain, fx_dup, fx_my_mac, fx_peer_mac.
 */
#ifndef TS_TESTS_UNIT_FIXTURES_H
#define TS_TESTS_UNIT_FIXTURES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "eth/eth.h"
#include "eth/netdev.h"

#define FX_MY_IP TS_IP4(10, 0, 0, 1)
#define FX_PEER_IP TS_IP4(10, 0, 0, 2)
#define FX_DEPTH 32             /* frames each direction of the wire holds */
#define FX_FRAME_MAX 1514

extern const uint8_t fx_my_mac[ETH_ALEN];
extern const uint8_t fx_peer_mac[ETH_ALEN];

struct fx_link {
    struct pbuf_pool pool;
    struct netdev *dev;         /* the stack's end of the wire */
    struct netdev *peer;        /* the test's end */
    struct eth_layer eth;
    struct ts_log log;
    FILE *log_out;
};

/* Pool of nsmall small buffers (no large), a memdev pair, an Ethernet layer
 * with fx_my_mac, and a debug-level log to /dev/null so the log formatting
 * paths run too. 0 or -errno. */
int fx_link_init(struct fx_link *l, unsigned nsmall);
/* Tear everything down; returns the buffers still in use (a leak if > 0). */
uint64_t fx_link_destroy(struct fx_link *l);

/* Write an Ethernet frame into buf; returns its length (no padding). */
size_t fx_frame(uint8_t *buf, const uint8_t dst[ETH_ALEN],
                const uint8_t src[ETH_ALEN], uint16_t type,
                const void *payload, size_t plen);
/* Put a frame on the wire towards the stack (uses no pool buffer). */
void fx_peer_send(struct fx_link *l, const void *frame, size_t len);
/* Receive and eth_input every frame waiting for the stack; returns how many. */
unsigned fx_pump(struct fx_link *l, uint64_t now);
/* Take the next frame the stack sent into buf; its length, or 0 if none. */
size_t fx_peer_recv(struct fx_link *l, uint8_t *buf, size_t cap);
/* Discard every frame the stack sent; returns how many. */
unsigned fx_peer_drain(struct fx_link *l);

/* An exact-size heap copy, so a read past len trips AddressSanitizer.
 * Never NULL for len 0 (one byte is allocated but must not be read).
 * Free with free(). */
uint8_t *fx_dup(const void *src, size_t len);

#endif
