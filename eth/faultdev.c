/* eth/faultdev.c - fault injection: a seeded fate per frame, and the frames
 * that must wait kept in fixed slots on a list ordered by due time.
 *
 * The held list is sorted by due time, first-in first-out among equal times,
 * so releasing is taking the head and the next deadline is the head's due.
 * Insertion scans from the tail, which is O(1) when every frame gets the
 * same delay (the common case) and at worst FAULTDEV_SLOTS steps.
 * Entry points: faultdev_wrap, faultdev_poll, faultdev_next_deadline,
 * faultdev_stats, faultdev_held (see eth/faultdev.h).
 */
#include "eth/faultdev.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/cksum.h"
#include "core/clock.h"
#include "core/rand.h"
#include "eth/eth_wire.h"

#define FAULTDEV_NIL UINT16_MAX
/* Frames one recv may consume (lost or held) before it gives up with 0:
 * bounds the work of one call; a TAP fd stays readable for the rest. */
#define FAULTDEV_RX_TRIES 32u
/* Salt for the TX stream, so seed s's TX stream is not seed s+1's RX. */
#define FAULTDEV_TX_SALT 0x9e3779b97f4a7c15ull

_Static_assert(FAULTDEV_SLOTS < FAULTDEV_NIL, "slot index must fit uint16_t");

#define FAULTDEV_C(f, h) TS_COUNTER(struct faultdev_stats, f, h)
#define FAULTDEV_DIR_COUNTERS(d)                                             \
    FAULTDEV_C(d.frames, "frames the faults were applied to"),               \
    FAULTDEV_C(d.dropped, "dropped on purpose (loss)"),                      \
    FAULTDEV_C(d.duplicated, "extra copies sent (dup)"),                     \
    FAULTDEV_C(d.reordered, "held back to go after a later frame"),          \
    FAULTDEV_C(d.corrupted, "one bit flipped past the Ethernet header"),     \
    FAULTDEV_C(d.delayed, "held for delay + jitter"),                        \
    FAULTDEV_C(d.queue_full, "dropped: every hold slot in use"),             \
    FAULTDEV_C(d.too_big, "dropped: longer than a hold slot"),               \
    FAULTDEV_C(d.send_error, "held frames the inner device refused")
const struct ts_counter_desc faultdev_counter_desc[] = {
    FAULTDEV_DIR_COUNTERS(rx),
    FAULTDEV_DIR_COUNTERS(tx),
};
const size_t faultdev_counter_count = TS_COUNTERS_LEN(faultdev_counter_desc);

struct faultdev_slot {
    uint64_t due;
    uint32_t flags;         /* the frame's pbuf flags travel with it */
    struct pbuf_offload off;    /* and its offload fields, csum_start
                                   counted from the frame's first byte */
    uint32_t len;
    uint16_t prev, next;    /* held list, or free list (next only) */
    bool waiting;           /* reordered: waits for a successor to pass */
};

struct faultdev_dir {
    uint8_t *mem;           /* FAULTDEV_SLOTS frames; NULL: not affected */
    size_t cap;             /* bytes per slot: the inner's largest frame */
    struct faultdev_slot slot[FAULTDEV_SLOTS];
    uint16_t head, tail, free;
    unsigned held, waiting;
    struct ts_rand rng;
    struct faultdev_dir_stats *stats;
};

struct faultdev_priv {
    struct netdev *inner;
    struct faultdev_config cfg;
    uint64_t now;           /* last time given to faultdev_poll */
    struct faultdev_dir rx, tx;
    struct faultdev_stats stats;
};

/* What happens to one frame. Every field is drawn for every frame. */
struct faultdev_fate {
    bool drop, dup, corrupt, reorder;
    uint32_t hold;          /* delay + jitter, ms */
    uint32_t where;         /* scaled to the byte to corrupt */
    uint8_t bit;
};

/* Always draws, even for p == 0 (unlike ts_rand_chance): the stream then
 * advances by the same amount per frame whatever the rates. */
static bool faultdev_chance(struct ts_rand *r, double p)
{
    uint64_t v = ts_rand_u64(r);
    return (double)(v >> 11) * 0x1.0p-53 < p;
}

static struct faultdev_fate faultdev_draw(const struct faultdev_config *c,
                                          struct ts_rand *r)
{
    struct faultdev_fate f;
    f.drop = faultdev_chance(r, c->loss);
    f.dup = faultdev_chance(r, c->dup);
    f.corrupt = faultdev_chance(r, c->corrupt);
    f.reorder = faultdev_chance(r, c->reorder);
    f.hold = c->delay_ms + ts_rand_below(r, c->jitter_ms + 1);
    uint64_t v = ts_rand_u64(r);
    f.where = (uint32_t)(v >> 32);
    f.bit = (uint8_t)(v & 7);
    return f;
}

static uint8_t *faultdev_data(struct faultdev_dir *d, uint16_t i)
{
    return d->mem + (size_t)i * d->cap;
}

/* Flip one bit past the Ethernet header, so the frame still reaches its
 * protocol and only a checksum can tell; and drop any device's word that the
 * checksum is good. A partial checksum (TAP offloads) is finished first, as
 * on a wire, where bits flip after the sum is made. A frame with no payload
 * cannot be corrupted. off->csum_start counts from frame. */
static void faultdev_corrupt(struct faultdev_dir *d, uint8_t *frame,
                             size_t len, uint32_t *flags,
                             const struct pbuf_offload *off,
                             const struct faultdev_fate *f)
{
    if (len <= ETH_HLEN)
        return;
    if (*flags & PBUF_F_CSUM_PARTIAL) {
        cksum_finish(frame, len, off->csum_start, off->csum_off);
        *flags &= ~PBUF_F_CSUM_PARTIAL;
    }
    size_t at = ETH_HLEN + (size_t)(((uint64_t)f->where * (len - ETH_HLEN))
                                    >> 32);
    frame[at] ^= (uint8_t)(1u << f->bit);
    *flags &= ~PBUF_F_CSUM_VALID;
    d->stats->corrupted++;
}

/* Insert after every frame due no later, so equal times stay in order. */
static void faultdev_link(struct faultdev_dir *d, uint16_t i)
{
    struct faultdev_slot *s = &d->slot[i];
    uint16_t after = d->tail;
    while (after != FAULTDEV_NIL && d->slot[after].due > s->due)
        after = d->slot[after].prev;
    s->prev = after;
    s->next = after == FAULTDEV_NIL ? d->head : d->slot[after].next;
    if (after == FAULTDEV_NIL)
        d->head = i;
    else
        d->slot[after].next = i;
    if (s->next == FAULTDEV_NIL)
        d->tail = i;
    else
        d->slot[s->next].prev = i;
}

static void faultdev_unlink(struct faultdev_dir *d, uint16_t i)
{
    struct faultdev_slot *s = &d->slot[i];
    if (s->prev == FAULTDEV_NIL)
        d->head = s->next;
    else
        d->slot[s->prev].next = s->next;
    if (s->next == FAULTDEV_NIL)
        d->tail = s->prev;
    else
        d->slot[s->next].prev = s->prev;
}

/* Copy a frame into a free slot, due at `due`. Its index, or FAULTDEV_NIL
 * (counted) when it cannot be held: bounded memory, never growth. */
static uint16_t faultdev_hold(struct faultdev_dir *d, const struct pbuf *pb,
                              uint64_t due, bool waiting)
{
    if (pb->len > d->cap) {
        d->stats->too_big++;
        return FAULTDEV_NIL;
    }
    if (d->free == FAULTDEV_NIL) {
        d->stats->queue_full++;
        return FAULTDEV_NIL;
    }
    uint16_t i = d->free;
    struct faultdev_slot *s = &d->slot[i];
    d->free = s->next;
    memcpy(faultdev_data(d, i), pb->data, pb->len);
    s->len = (uint32_t)pb->len;
    s->flags = pb->flags;
    s->off = pb->off;
    s->off.csum_start -= (uint32_t)pbuf_headroom(pb);
    s->due = due;
    s->waiting = waiting;
    faultdev_link(d, i);
    d->held++;
    d->waiting += waiting;
    return i;
}

/* Take the head off the list if it is due by now; the caller delivers it
 * and gives the slot back with faultdev_release. */
static uint16_t faultdev_take_due(struct faultdev_dir *d, uint64_t now)
{
    uint16_t i = d->head;
    if (i == FAULTDEV_NIL || d->slot[i].due > now)
        return FAULTDEV_NIL;
    faultdev_unlink(d, i);
    d->held--;
    d->waiting -= d->slot[i].waiting;
    return i;
}

static void faultdev_release(struct faultdev_dir *d, uint16_t i)
{
    d->slot[i].next = d->free;
    d->free = i;
}

/* A frame due at `due` has passed: every frame waiting for a successor goes
 * right after it, though never before its own delay is over. */
static void faultdev_follow(struct faultdev_dir *d, uint64_t due)
{
    uint16_t pick[FAULTDEV_SLOTS];
    unsigned n = 0;
    if (d->waiting == 0)
        return;
    for (uint16_t i = d->head; i != FAULTDEV_NIL; i = d->slot[i].next)
        if (d->slot[i].waiting)
            pick[n++] = i;
    for (unsigned k = 0; k < n; k++) {      /* in list order: stays FIFO */
        struct faultdev_slot *s = &d->slot[pick[k]];
        uint64_t own = s->due - FAULTDEV_REORDER_HOLD_MS;
        faultdev_unlink(d, pick[k]);
        s->waiting = false;
        s->due = own > due ? own : due;
        faultdev_link(d, pick[k]);
    }
    d->waiting = 0;
}

/* A frame that must wait (delay, reorder) or, on TX, be changed (corrupt):
 * the duplicate goes in first and clean, as netem clones before corrupting. */
static void faultdev_hold_frame(struct faultdev_dir *d, const struct pbuf *pb,
                                const struct faultdev_fate *f, uint64_t now)
{
    uint64_t due = now + f->hold;
    if (f->dup && faultdev_hold(d, pb, due, false) != FAULTDEV_NIL)
        d->stats->duplicated++;
    uint16_t i = faultdev_hold(d, pb,
                               f->reorder ? due + FAULTDEV_REORDER_HOLD_MS
                                          : due, f->reorder);
    if (i == FAULTDEV_NIL)
        return;
    struct faultdev_slot *s = &d->slot[i];
    if (f->hold > 0)
        d->stats->delayed++;
    if (f->corrupt)
        faultdev_corrupt(d, faultdev_data(d, i), s->len, &s->flags, &s->off,
                         f);
    if (f->reorder)
        d->stats->reordered++;
    else
        faultdev_follow(d, due);
}

/* Send every TX frame due by now. Bounded: nothing is held meanwhile. */
static void faultdev_flush_tx(struct faultdev_priv *fp)
{
    struct faultdev_dir *d = &fp->tx;
    uint16_t i;
    while ((i = faultdev_take_due(d, fp->now)) != FAULTDEV_NIL) {
        uint8_t *data = faultdev_data(d, i);
        struct pbuf pb = { .data = data, .base = data, .len = d->slot[i].len,
                           .cap = d->cap, .flags = d->slot[i].flags,
                           .off = d->slot[i].off };
        if (netdev_send(fp->inner, &pb) < 0)
            d->stats->send_error++;
        faultdev_release(d, i);
    }
}

static int faultdev_send(struct netdev *dev, const struct pbuf *pb)
{
    struct faultdev_priv *fp = dev->priv;
    struct faultdev_dir *d = &fp->tx;
    if (!d->mem)
        return netdev_send(fp->inner, pb);
    /* No held frame is due here: poll flushes whenever time moves, and each
     * path below that makes one due now flushes at once. */
    struct faultdev_fate f = faultdev_draw(&fp->cfg, &d->rng);
    d->stats->frames++;
    if (f.drop) {
        d->stats->dropped++;
        return 0;
    }
    if (f.corrupt || f.hold > 0 || f.reorder) {
        faultdev_hold_frame(d, pb, &f, fp->now);
        faultdev_flush_tx(fp);  /* a frame due now leaves now */
        return 0;               /* accepted, like a qdisc */
    }
    /* Nothing to wait for or change: no copy. */
    int rc = netdev_send(fp->inner, pb);
    if (f.dup) {
        d->stats->duplicated++;
        (void)netdev_send(fp->inner, pb);
    }
    faultdev_follow(d, fp->now);
    faultdev_flush_tx(fp);
    return rc;
}

/* Fill pb with the RX frame due first, if one is due by now. */
static int faultdev_rx_due(struct faultdev_priv *fp, struct pbuf *pb)
{
    struct faultdev_dir *d = &fp->rx;
    uint16_t i = faultdev_take_due(d, fp->now);
    if (i == FAULTDEV_NIL)
        return 0;
    size_t len = d->slot[i].len;
    if (len > pbuf_tailroom(pb))
        len = pbuf_tailroom(pb);    /* as memdev: never past the buffer */
    memcpy(pb->data, faultdev_data(d, i), len);
    pb->len = len;
    pb->flags = d->slot[i].flags;
    pb->off = d->slot[i].off;
    pb->off.csum_start += (uint32_t)pbuf_headroom(pb);
    faultdev_release(d, i);
    return 1;
}

/* Apply the faults to the frame just read into pb. 1: deliver pb now;
 * 0: it was lost or held. */
static int faultdev_rx_frame(struct faultdev_priv *fp, struct pbuf *pb)
{
    struct faultdev_dir *d = &fp->rx;
    struct faultdev_fate f = faultdev_draw(&fp->cfg, &d->rng);
    d->stats->frames++;
    if (f.drop) {
        d->stats->dropped++;
        return 0;
    }
    if (f.hold > 0 || f.reorder) {
        faultdev_hold_frame(d, pb, &f, fp->now);
        return 0;
    }
    /* The copy is due now: the next recv returns it. */
    if (f.dup && faultdev_hold(d, pb, fp->now, false) != FAULTDEV_NIL)
        d->stats->duplicated++;
    if (f.corrupt) {
        struct pbuf_offload off = pb->off;
        off.csum_start -= (uint32_t)pbuf_headroom(pb);
        faultdev_corrupt(d, pb->data, pb->len, &pb->flags, &off, &f);
    }
    faultdev_follow(d, fp->now);
    return 1;
}

static int faultdev_recv(struct netdev *dev, struct pbuf *pb)
{
    struct faultdev_priv *fp = dev->priv;
    if (!fp->rx.mem)
        return netdev_recv(fp->inner, pb);
    uint8_t *start = pb->data;
    uint32_t flags = pb->flags;
    for (unsigned n = 0; n < FAULTDEV_RX_TRIES; n++) {
        if (faultdev_rx_due(fp, pb))
            return 1;
        /* Each read starts from the buffer as the caller gave it. */
        pb->data = start;
        pb->len = 0;
        pb->flags = flags;
        int rc = netdev_recv(fp->inner, pb);
        if (rc <= 0)
            return rc;
        if (faultdev_rx_frame(fp, pb))
            return 1;
    }
    pb->data = start;
    pb->len = 0;
    pb->flags = flags;
    return faultdev_rx_due(fp, pb);
}

static int faultdev_fd(struct netdev *dev)
{
    return netdev_fd(((struct faultdev_priv *)dev->priv)->inner);
}

static void faultdev_close(struct netdev *dev)
{
    struct faultdev_priv *fp = dev->priv;
    free(fp->rx.mem);       /* held frames are lost, as on a pulled cable */
    free(fp->tx.mem);
    netdev_close(fp->inner);
    free(dev);
}

static const struct netdev_ops faultdev_ops = {
    .send = faultdev_send, .recv = faultdev_recv, .fd = faultdev_fd,
    .close = faultdev_close,
};

static int faultdev_check(const struct netdev *inner,
                          const struct faultdev_config *cfg)
{
    if (!inner || !cfg)
        return -EINVAL;
    const double rate[] = { cfg->loss, cfg->dup, cfg->reorder, cfg->corrupt };
    for (size_t i = 0; i < sizeof rate / sizeof rate[0]; i++)
        if (!(rate[i] >= 0.0 && rate[i] <= 1.0))    /* NaN fails too */
            return -EINVAL;
    if (cfg->delay_ms > FAULTDEV_MAX_DELAY_MS ||
        cfg->jitter_ms > FAULTDEV_MAX_DELAY_MS)
        return -EINVAL;
    if (cfg->dir & ~FAULTDEV_BOTH)
        return -EINVAL;
    return 0;
}

/* Slots as large as the inner device's largest frame (64 KB super-frames
 * on a TAP with offloads: about 17 MB per direction, of which only the
 * pages of slots in use are ever touched). */
static int faultdev_dir_init(struct faultdev_dir *d,
                             struct faultdev_dir_stats *stats, uint64_t seed,
                             size_t cap)
{
    d->cap = cap > FAULTDEV_SLOT_CAP ? cap : FAULTDEV_SLOT_CAP;
    d->mem = malloc((size_t)FAULTDEV_SLOTS * d->cap);
    if (!d->mem)
        return -ENOMEM;
    d->stats = stats;
    ts_rand_seed(&d->rng, seed);
    d->head = d->tail = FAULTDEV_NIL;
    for (unsigned i = 0; i < FAULTDEV_SLOTS; i++)
        d->slot[i].next = (uint16_t)(i + 1 < FAULTDEV_SLOTS ? i + 1
                                                             : FAULTDEV_NIL);
    d->free = 0;
    return 0;
}

static int fp_faults_tx(const struct faultdev_config *cfg)
{
    return (cfg->loss > 0.0 || cfg->dup > 0.0 || cfg->reorder > 0.0 ||
            cfg->corrupt > 0.0 || cfg->delay_ms || cfg->jitter_ms) &&
           (!cfg->dir || (cfg->dir & FAULTDEV_TX));
}

struct netdev *faultdev_wrap(struct netdev *inner,
                             const struct faultdev_config *cfg, int *err)
{
    int rc = faultdev_check(inner, cfg);
    struct {
        struct netdev dev;
        struct faultdev_priv priv;
    } *both = rc < 0 ? NULL : calloc(1, sizeof *both);
    if (rc == 0 && !both)
        rc = -ENOMEM;
    if (rc == 0) {
        struct faultdev_priv *fp = &both->priv;
        unsigned dir = cfg->dir ? cfg->dir : FAULTDEV_BOTH;
        fp->inner = inner;
        fp->cfg = *cfg;
        if (dir & FAULTDEV_RX)
            rc = faultdev_dir_init(&fp->rx, &fp->stats.rx, cfg->seed,
                                   netdev_frame_max(inner));
        if (rc == 0 && (dir & FAULTDEV_TX))
            rc = faultdev_dir_init(&fp->tx, &fp->stats.tx,
                                   cfg->seed ^ FAULTDEV_TX_SALT,
                                   netdev_frame_max(inner));
        if (rc < 0) {
            free(fp->rx.mem);
            free(both);
        }
    }
    if (err)
        *err = rc;
    if (rc < 0)
        return NULL;
    both->dev = *inner;         /* name, MTU and capabilities carry over */
    /* Faults on sent frames stand for a lossy wire, which sees the
     * segments the kernel cuts a super-frame into, not the super-frame:
     * one lost frame must not be 45 lost segments, and the kernel would
     * make a super-frame's checksums after a corrupting bit flipped (no
     * one could catch it). So with TX faults, TCP sends plain segments;
     * super-frames received from the kernel still come through. */
    if (fp_faults_tx(cfg))
        both->dev.flags &= ~NETDEV_F_TSO4;
    both->dev.ops = &faultdev_ops;
    both->dev.priv = &both->priv;
    return &both->dev;
}

void faultdev_poll(struct netdev *dev, uint64_t now)
{
    struct faultdev_priv *fp = dev->priv;
    if (now > fp->now)
        fp->now = now;
    if (fp->tx.mem)
        faultdev_flush_tx(fp);
}

static uint64_t faultdev_dir_deadline(const struct faultdev_dir *d)
{
    return d->mem && d->head != FAULTDEV_NIL ? d->slot[d->head].due
                                              : TS_NEVER;
}

uint64_t faultdev_next_deadline(const struct netdev *dev)
{
    const struct faultdev_priv *fp = dev->priv;
    return ts_min_deadline(faultdev_dir_deadline(&fp->rx),
                           faultdev_dir_deadline(&fp->tx));
}

const struct faultdev_stats *faultdev_stats(const struct netdev *dev)
{
    const struct faultdev_priv *fp = dev->priv;
    return &fp->stats;
}

unsigned faultdev_held(const struct netdev *dev)
{
    const struct faultdev_priv *fp = dev->priv;
    return fp->rx.held + fp->tx.held;
}
