/* arp/arp_cache.h - the bounded neighbour cache, with a fake-clock API.
 *
 * A fixed table of entries, each INCOMPLETE (a request is out, packets wait
 * in its queue) or REACHABLE (MAC known until `expires`). When full, a new
 * entry evicts the entry closest to expiry, so a flood of senders cannot grow
 * memory; queued packets of an evicted entry are handed back to be freed.
 * Pure data structure: no I/O, time comes in as `now` (ms).
 * Entry points: arp_cache_init, arp_cache_find, arp_cache_add,
 * arp_cache_remove, arp_cache_enqueue, arp_cache_take_queue,
 * arp_cache_next_deadline.
 */
#ifndef TS_ARP_ARP_CACHE_H
#define TS_ARP_ARP_CACHE_H

#include <stdint.h>

#include "core/pbuf.h"

#define ARP_CACHE_SIZE 64
/* Packets held per unresolved address: enough for the fragments of an
 * 8,000-byte UDP datagram or a 16 KiB ping (RFC 1122 2.3.2.2 asks for at
 * least one). With 64 entries the worst case is 1,024 held buffers. */
#define ARP_QUEUE_MAX 16
#define ARP_REACHABLE_MS 60000  /* how long a learned MAC is trusted */
#define ARP_RETRY_MS 1000       /* at most one request per second (RFC 1122) */
#define ARP_MAX_TRIES 3         /* requests before giving up */

enum arp_state { ARP_FREE = 0, ARP_INCOMPLETE, ARP_REACHABLE };

struct arp_entry {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;          /* enum arp_state */
    uint8_t tries;          /* requests sent while INCOMPLETE */
    uint8_t nqueued;
    uint64_t deadline;      /* INCOMPLETE: next retry; REACHABLE: expiry */
    struct pbuf *queue;     /* oldest first, linked by ->next */
};

struct arp_cache {
    struct arp_entry e[ARP_CACHE_SIZE];
};

void arp_cache_init(struct arp_cache *c);
struct arp_entry *arp_cache_find(struct arp_cache *c, uint32_t ip);
/* A fresh entry for ip in `state` with `deadline`, evicting when full.
 * Returns 1 when an entry was evicted for it (its queue, possibly empty, is
 * stored in *evicted_queue for the caller to free), else 0. */
int arp_cache_add(struct arp_cache *c, uint32_t ip, enum arp_state state,
                  uint64_t deadline, struct arp_entry **out,
                  struct pbuf **evicted_queue);
/* Free the slot; returns its queue for the caller to free or send. */
struct pbuf *arp_cache_remove(struct arp_entry *e);
/* Queue pb on an INCOMPLETE entry. When the queue is full the oldest packet
 * is pushed out (RFC 1122 2.3.2.2: keep the latest) and returned. */
struct pbuf *arp_cache_enqueue(struct arp_entry *e, struct pbuf *pb);
/* Detach and return the queue (oldest first). */
struct pbuf *arp_cache_take_queue(struct arp_entry *e);
uint64_t arp_cache_next_deadline(const struct arp_cache *c);
unsigned arp_cache_count(const struct arp_cache *c);

#endif
