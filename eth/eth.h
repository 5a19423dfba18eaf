/* eth/eth.h - the Ethernet layer: filter, dispatch, and framing.
 *
 * Input: accept frames addressed to our MAC or broadcast, drop the rest
 * (counted), and hand the payload to the handler registered for the
 * EtherType. The stack fills the handler table at start-up, so this layer
 * never names ARP or IPv4 (DESIGN.md §2). Output: prepend the header, pad to
 * the 60-byte minimum, and send on the netdev. One eth_layer per interface:
 * the TAP's, and the loopback device's (MAC 00:00:00:00:00:00 at both ends,
 * as Linux's lo frames carry; no padding there, and our own source is not a
 * loop there).
 * Entry points: eth_init, eth_register, eth_input, eth_output,
 * eth_counters_print.
 */
#ifndef TS_ETH_ETH_H
#define TS_ETH_ETH_H

#include <stdint.h>
#include <stdio.h>

#include "core/counters.h"
#include "core/event.h"
#include "core/log.h"
#include "core/pbuf.h"
#include "eth/eth_wire.h"
#include "eth/netdev.h"

#define ETH_MAX_HANDLERS 4

/* Receives pb with data at the Ethernet payload; consumes pb. */
typedef void (*eth_rx_fn)(void *ctx, struct pbuf *pb, const struct eth_hdr *h,
                          uint64_t now);

/* The layer's counters, one line each: X(name, event, RFC, help); a
 * count with an event name is also an event on the stack's event path
 * (ETH_COUNT). */
#define ETH_COUNTERS(X) \
    X(rx_frames, NULL, NULL, "frames read from the device") \
    X(rx_bytes, NULL, NULL, "bytes read from the device") \
    X(tx_frames, NULL, NULL, "frames written to the device") \
    X(tx_bytes, NULL, NULL, "bytes written to the device") \
    X(drop_runt, "drop", NULL, "dropped: shorter than an Ethernet header") \
    X(drop_not_for_us, "drop", NULL, "dropped: destination neither our MAC nor broadcast") \
    X(drop_own_source, "drop", NULL, "dropped: source is our own MAC (a loop)") \
    X(drop_unknown_type, "drop", NULL, "dropped: EtherType we do not speak") \
    X(tx_error, "drop", NULL, "frames the device refused to send")

struct eth_stats { ETH_COUNTERS(TS_CTR_FIELD) };

#define ETH_REASON(n, e, r, h) ETH_R_##n,
enum eth_reason { ETH_COUNTERS(ETH_REASON) ETH_R_COUNT };
#define ETH_COUNT(eth, name) TS_COUNT((eth)->ev, TS_EVL_ETH, (eth)->stats, \
                                      eth_counter_desc, ETH_R_##name, name)

extern const struct ts_counter_desc eth_counter_desc[];
extern const size_t eth_counter_count;

struct eth_layer {
    struct netdev *dev;
    uint8_t mac[ETH_ALEN];
    struct {
        uint16_t type;
        eth_rx_fn fn;
        void *ctx;
    } handlers[ETH_MAX_HANDLERS];
    unsigned nhandlers;
    const struct ts_log *log;
    struct eth_stats stats;
    struct ts_events *ev;       /* the stack's event path, or NULL */
};

void eth_init(struct eth_layer *eth, struct netdev *dev,
              const uint8_t mac[ETH_ALEN], const struct ts_log *log);
/* 0, or -ENOSPC when the table is full. */
int eth_register(struct eth_layer *eth, uint16_t type, eth_rx_fn fn, void *ctx);
/* A received frame at pb->data. Consumes pb. */
void eth_input(struct eth_layer *eth, struct pbuf *pb, uint64_t now);
/* Send payload pb->data with an Ethernet header. Consumes pb. 0 or -errno. */
int eth_output(struct eth_layer *eth, struct pbuf *pb,
               const uint8_t dst[ETH_ALEN], uint16_t type);

#endif
