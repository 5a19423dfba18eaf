/* eth/faultdev.h - a netdev wrapper that injects faults: loss, duplication,
 * reordering, corruption and delay, like a small netem inside the process.
 *
 * Wraps any netdev (TAP, memdev, pcapdev) and applies the faults to frames
 * received from it (FAULTDEV_RX), sent to it (FAULTDEV_TX), or both. Each
 * direction draws from its own struct ts_rand seeded from cfg->seed, and
 * draws the same number of values for every frame whatever the rates, so a
 * run replays exactly from the seed and the loss pattern of a seed does not
 * shift when another rate changes.
 *
 * Per frame, in an affected direction:
 *   loss     dropped (an RX drop makes recv read the next frame);
 *   dup      goes through twice; the copy is taken before corruption;
 *   corrupt  one random bit flipped in one random byte past the 14-byte
 *            Ethernet header (the header stays deliverable, so the IP/TCP/UDP
 *            checksums must catch it); PBUF_F_CSUM_VALID is cleared, and a
 *            partial checksum is finished first;
 *   reorder  held back and released right after the next frame that passes
 *            in the same direction, or FAULTDEV_REORDER_HOLD_MS after it
 *            would otherwise have been due, whichever comes first;
 *   delay    held delay_ms + a uniform 0..jitter_ms (so jitter alone
 *            reorders, as in netem).
 *
 * Super-frames (TAP offloads). Received ones take their fate whole, like
 * any frame. With any fault on the TX direction the wrapper does not offer
 * NETDEV_F_TSO4, so TCP sends plain segments and the faults fall on what a
 * wire would carry (a lost super-frame would be dozens of segments lost at
 * once, and the kernel would sum a corrupted one after the flip).
 *
 * Time. Netdev ops take no `now`, so the wrapper stamps frames with the last
 * `now` given to faultdev_poll() (0 before the first call). The event loop
 * calls faultdev_poll() every iteration before its receive pass, includes
 * faultdev_next_deadline() in its sleep, and runs its receive pass when that
 * deadline has come even if the device fd is not readable: held RX frames do
 * not make the fd readable. A frame that needs no holding (nothing but loss
 * or dup at zero delay) passes at once without a copy.
 *
 * Memory. Held frames are copies in FAULTDEV_SLOTS slots per affected
 * direction, each as large as the inner device's largest frame (at least
 * FAULTDEV_SLOT_CAP; 64 KB super-frames with TAP offloads), allocated at
 * wrap time; nothing is allocated per frame. A frame's pbuf flags and
 * offload fields travel with it. When the slots are full the frame (or the duplicate) is dropped
 * and counted in queue_full; a frame longer than a slot that would need one is
 * dropped and counted in too_big. Closing drops what is still held.
 *
 * Counters are kept per direction: struct faultdev_stats holds one struct
 * faultdev_dir_stats for rx and one for tx, named "rx.dropped", ... in
 * faultdev_counter_desc. A direction not affected counts nothing.
 *
 * Entry points: faultdev_wrap, faultdev_poll, faultdev_next_deadline,
 * faultdev_stats, faultdev_held, faultdev_counter_desc.
 */
#ifndef TS_ETH_FAULTDEV_H
#define TS_ETH_FAULTDEV_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"
#include "eth/netdev.h"

#define FAULTDEV_RX 0x1u
#define FAULTDEV_TX 0x2u
#define FAULTDEV_BOTH (FAULTDEV_RX | FAULTDEV_TX)

#define FAULTDEV_SLOTS 256u                 /* held frames per direction */
#define FAULTDEV_SLOT_CAP PBUF_SMALL_CAP    /* smallest slot (see Memory) */
#define FAULTDEV_MAX_DELAY_MS 10000u        /* bound on delay_ms and jitter_ms */
/* How long a reordered frame waits for a successor before it goes anyway:
 * long enough to land behind the rest of a burst, short next to any RTO. */
#define FAULTDEV_REORDER_HOLD_MS 20u

/* A zeroed config is valid: no faults, both directions, seed 0. */
struct faultdev_config {
    double loss, dup, reorder, corrupt;     /* probabilities in [0, 1] */
    uint32_t delay_ms;                      /* <= FAULTDEV_MAX_DELAY_MS */
    uint32_t jitter_ms;                     /* <= FAULTDEV_MAX_DELAY_MS */
    uint64_t seed;
    unsigned dir;                           /* FAULTDEV_RX|TX; 0 means both */
};

struct faultdev_dir_stats {
    uint64_t frames;        /* frames the faults were applied to */
    uint64_t dropped;       /* lost on purpose (loss) */
    uint64_t duplicated;    /* extra copies made (dup) */
    uint64_t reordered;     /* held back to go out after a later frame */
    uint64_t corrupted;     /* one bit flipped past the Ethernet header */
    uint64_t delayed;       /* held for delay_ms + jitter (> 0 ms) */
    uint64_t queue_full;    /* frames or copies lost: every slot in use */
    uint64_t too_big;       /* frames lost: longer than a slot, needed one */
    uint64_t send_error;    /* held TX frames the inner device refused */
};

struct faultdev_stats {
    struct faultdev_dir_stats rx;
    struct faultdev_dir_stats tx;
};

extern const struct ts_counter_desc faultdev_counter_desc[];
extern const size_t faultdev_counter_count;

/* Wrap inner. NULL with *err = -EINVAL for a bad config (a rate outside
 * [0, 1] or NaN, delay or jitter over FAULTDEV_MAX_DELAY_MS, an unknown dir
 * bit, NULL inner or cfg) or -ENOMEM; inner is then left open. err may be
 * NULL. Closing the wrapper closes inner; name and MTU carry over. */
struct netdev *faultdev_wrap(struct netdev *inner,
                             const struct faultdev_config *cfg, int *err);

/* Remember now (time never goes back: an older value is ignored), send the
 * TX frames due by now to the inner device, and make the RX frames due by
 * now available to recv. dev must come from faultdev_wrap (so for the
 * functions below). */
void faultdev_poll(struct netdev *dev, uint64_t now);
/* When the earliest held frame is due (possibly already past: RX frames wait
 * for recv); TS_NEVER when nothing is held. */
uint64_t faultdev_next_deadline(const struct netdev *dev);
const struct faultdev_stats *faultdev_stats(const struct netdev *dev);
/* Frames held right now, both directions. */
unsigned faultdev_held(const struct netdev *dev);

#endif
