/* eth/eth.c - Ethernet input filter/dispatch and output framing. */
#include "eth/eth.h"

#include <errno.h>
#include <string.h>

#define ETH_DESC(n, e, r, h) TS_CTR_DESC(struct eth_stats, n, e, r, h)
const struct ts_counter_desc eth_counter_desc[] = { ETH_COUNTERS(ETH_DESC) };
const size_t eth_counter_count = TS_COUNTERS_LEN(eth_counter_desc);

void eth_init(struct eth_layer *eth, struct netdev *dev,
              const uint8_t mac[ETH_ALEN], const struct ts_log *log)
{
    memset(eth, 0, sizeof *eth);
    eth->dev = dev;
    eth->log = log;
    memcpy(eth->mac, mac, ETH_ALEN);
}

int eth_register(struct eth_layer *eth, uint16_t type, eth_rx_fn fn, void *ctx)
{
    if (eth->nhandlers == ETH_MAX_HANDLERS)
        return -ENOSPC;
    eth->handlers[eth->nhandlers].type = type;
    eth->handlers[eth->nhandlers].fn = fn;
    eth->handlers[eth->nhandlers].ctx = ctx;
    eth->nhandlers++;
    return 0;
}

static int eth_accepts(const struct eth_layer *eth, const struct eth_hdr *h)
{
    return memcmp(h->dst, eth->mac, ETH_ALEN) == 0 || eth_is_broadcast(h->dst);
}

void eth_input(struct eth_layer *eth, struct pbuf *pb, uint64_t now)
{
    struct eth_hdr h;
    eth->stats.rx_frames++;
    eth->stats.rx_bytes += pb->len;
    if (eth_parse(pb->data, pb->len, &h) < 0) {
        ETH_COUNT(eth, drop_runt);
        goto drop;
    }
    if (!eth_accepts(eth, &h)) {
        ETH_COUNT(eth, drop_not_for_us);
        goto drop;
    }
    /* Our own source means a loop on a wire; on loopback it is the rule. */
    if (memcmp(h.src, eth->mac, ETH_ALEN) == 0 &&
        !(eth->dev->flags & NETDEV_F_LOOPBACK)) {
        ETH_COUNT(eth, drop_own_source);
        goto drop;
    }
    for (unsigned i = 0; i < eth->nhandlers; i++) {
        if (eth->handlers[i].type == h.type) {
            pbuf_pull(pb, ETH_HLEN);
            eth->handlers[i].fn(eth->handlers[i].ctx, pb, &h, now);
            return;
        }
    }
    ETH_COUNT(eth, drop_unknown_type);
drop:
    pbuf_free(pb);
}

int eth_output(struct eth_layer *eth, struct pbuf *pb,
               const uint8_t dst[ETH_ALEN], uint16_t type)
{
    uint8_t *p = pbuf_push(pb, ETH_HLEN);
    if (!p) {
        ETH_COUNT(eth, tx_error);
        pbuf_free(pb);
        return -ENOBUFS;
    }
    struct eth_hdr h;
    memcpy(h.dst, dst, ETH_ALEN);
    memcpy(h.src, eth->mac, ETH_ALEN);
    h.type = type;
    eth_emit(&h, p);
    if (pb->len < ETH_ZLEN && !(eth->dev->flags & NETDEV_F_LOOPBACK)) {
        /* Pad short frames with zeros, as a real NIC would, when the
         * buffer has the room (it always does for pool buffers). No wire,
         * no minimum: loopback frames go as they are, as on Linux's lo. */
        size_t pad = ETH_ZLEN - pb->len;
        uint8_t *tail = pbuf_put(pb, pad);
        if (tail)
            memset(tail, 0, pad);
    }
    size_t len = pb->len;
    int rc = netdev_xmit(eth->dev, pb);     /* consumes pb */
    if (rc < 0) {
        ETH_COUNT(eth, tx_error);
    } else {
        eth->stats.tx_frames++;
        eth->stats.tx_bytes += len;
    }
    return rc;
}
