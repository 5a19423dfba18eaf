/* arp/arp_cache.c - fixed-size neighbour table with earliest-deadline eviction.
 *
 * A linear scan of 64 entries costs less than a hash and keeps eviction
 * trivially correct; the table is bounded, so the scan is too.
 */
#include "arp/arp_cache.h"

#include <string.h>

#include "core/clock.h"

void arp_cache_init(struct arp_cache *c)
{
    memset(c, 0, sizeof *c);
}

struct arp_entry *arp_cache_find(struct arp_cache *c, uint32_t ip)
{
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
        if (c->e[i].state != ARP_FREE && c->e[i].ip == ip)
            return &c->e[i];
    return NULL;
}

/* A free slot, else the REACHABLE entry nearest expiry, else the INCOMPLETE
 * entry nearest its next retry: learned entries go before pending ones, so
 * a flood cannot strand packets we are already waiting to send. */
static struct arp_entry *arp_cache_victim(struct arp_cache *c)
{
    struct arp_entry *best = NULL;
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
        struct arp_entry *e = &c->e[i];
        if (e->state == ARP_FREE)
            return e;
        if (!best || (e->state == ARP_REACHABLE && best->state != ARP_REACHABLE) ||
            (e->state == best->state && e->deadline < best->deadline))
            best = e;
    }
    return best;
}

int arp_cache_add(struct arp_cache *c, uint32_t ip, enum arp_state state,
                  uint64_t deadline, struct arp_entry **out,
                  struct pbuf **evicted_queue)
{
    struct arp_entry *e = arp_cache_victim(c);
    int evicted = e->state != ARP_FREE;
    *evicted_queue = arp_cache_remove(e);
    e->ip = ip;
    e->state = (uint8_t)state;
    e->deadline = deadline;
    *out = e;
    return evicted;
}

struct pbuf *arp_cache_remove(struct arp_entry *e)
{
    struct pbuf *q = e->queue;
    memset(e, 0, sizeof *e);
    return q;
}

struct pbuf *arp_cache_enqueue(struct arp_entry *e, struct pbuf *pb)
{
    struct pbuf *out = NULL;
    if (e->nqueued == ARP_QUEUE_MAX) {
        out = e->queue;
        e->queue = out->next;
        out->next = NULL;
        e->nqueued--;
    }
    pb->next = NULL;
    struct pbuf **tail = &e->queue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = pb;
    e->nqueued++;
    return out;
}

struct pbuf *arp_cache_take_queue(struct arp_entry *e)
{
    struct pbuf *q = e->queue;
    e->queue = NULL;
    e->nqueued = 0;
    return q;
}

uint64_t arp_cache_next_deadline(const struct arp_cache *c)
{
    uint64_t d = TS_NEVER;
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
        if (c->e[i].state != ARP_FREE)
            d = ts_min_deadline(d, c->e[i].deadline);
    return d;
}

unsigned arp_cache_count(const struct arp_cache *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
        n += c->e[i].state != ARP_FREE;
    return n;
}
