/* tests/unit/fixtures.c - a stack end on a memdev pair, played by the test. */
#include "tests/unit/fixtures.h"

#include <stdlib.h>
#include <string.h>

#include "eth/memdev.h"

/* Locally administered unicast addresses: never a real NIC's. */
const uint8_t fx_my_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t fx_peer_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* Bound on every receive loop: far more than a ring can hold. */
#define FX_LOOP_MAX 1000

int fx_link_init(struct fx_link *l, unsigned nsmall)
{
    memset(l, 0, sizeof *l);
    int rc = pbuf_pool_init(&l->pool, nsmall, 0);
    if (rc < 0)
        return rc;
    rc = memdev_pair(&l->dev, &l->peer, FX_DEPTH, 1500);
    if (rc < 0) {
        pbuf_pool_destroy(&l->pool);
        return rc;
    }
    l->log_out = fopen("/dev/null", "w");
    ts_log_init(&l->log, TS_LOG_DEBUG, l->log_out);
    eth_init(&l->eth, l->dev, fx_my_mac, &l->log);
    return 0;
}

uint64_t fx_link_destroy(struct fx_link *l)
{
    uint64_t in_use = l->pool.stats.in_use;
    netdev_close(l->dev);
    netdev_close(l->peer);
    pbuf_pool_destroy(&l->pool);
    if (l->log_out)
        fclose(l->log_out);
    memset(l, 0, sizeof *l);
    return in_use;
}

size_t fx_frame(uint8_t *buf, const uint8_t dst[ETH_ALEN],
                const uint8_t src[ETH_ALEN], uint16_t type,
                const void *payload, size_t plen)
{
    struct eth_hdr h;
    memcpy(h.dst, dst, ETH_ALEN);
    memcpy(h.src, src, ETH_ALEN);
    h.type = type;
    eth_emit(&h, buf);
    if (plen)
        memcpy(buf + ETH_HLEN, payload, plen);
    return ETH_HLEN + plen;
}

void fx_peer_send(struct fx_link *l, const void *frame, size_t len)
{
    /* A descriptor over a stack copy keeps the pool's statistics about the
     * stack's own buffers only. */
    uint8_t copy[PBUF_SMALL_CAP];
    if (len > sizeof copy)
        len = sizeof copy;
    memcpy(copy, frame, len);
    struct pbuf pb = { .data = copy, .base = copy, .len = len,
                       .cap = sizeof copy };
    netdev_send(l->peer, &pb);
}

unsigned fx_pump(struct fx_link *l, uint64_t now)
{
    unsigned n = 0;
    for (int i = 0; i < FX_LOOP_MAX; i++) {
        struct pbuf *pb = pbuf_alloc(&l->pool, 0, 0);
        if (!pb)
            break;
        if (netdev_recv(l->dev, pb) != 1) {
            pbuf_free(pb);
            break;
        }
        eth_input(&l->eth, pb, now);
        n++;
    }
    return n;
}

size_t fx_peer_recv(struct fx_link *l, uint8_t *buf, size_t cap)
{
    struct pbuf pb = { .data = buf, .base = buf, .len = 0, .cap = cap };
    if (netdev_recv(l->peer, &pb) != 1)
        return 0;
    return pb.len;
}

unsigned fx_peer_drain(struct fx_link *l)
{
    uint8_t buf[PBUF_SMALL_CAP];
    unsigned n = 0;
    while (n < FX_LOOP_MAX && fx_peer_recv(l, buf, sizeof buf) > 0)
        n++;
    return n;
}

uint8_t *fx_dup(const void *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, src, len);
    return p;
}
