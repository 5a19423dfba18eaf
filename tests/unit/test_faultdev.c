/* tests/unit/test_faultdev.c - the fault-injection netdev wrapper.
 *
 * One end of a memdev pair is wrapped; the test sends numbered frames through
 * it (TX: wrapper -> inner -> peer) or into it (RX: peer -> inner -> wrapper)
 * and checks what comes out, in both directions: a clean wrapper changes
 * nothing; loss at 1.0 and at 0.3 (rate, exact replay from the seed, pattern
 * independent of the other rates); dup; corruption of exactly one bit past
 * the Ethernet header; reordering that loses and duplicates nothing and
 * never lets a frame out sooner than its own delay; delay and jitter
 * against faultdev_poll/faultdev_next_deadline; the bounded hold
 * queue; config validation; one direction only; the counter table; a replay
 * of every fault at once. Time is a plain number; nothing reads a clock.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "eth/eth_wire.h"
#include "eth/faultdev.h"
#include "eth/memdev.h"
#include "tests/unit/unit.h"

#define FDT_T0 1000000u         /* an arbitrary start time, ms */
#define FDT_DEPTH 512u          /* memdev ring: more than the hold slots */
#define FDT_LOOP_MAX 100000     /* bound on every receive loop */
#define FDT_ETHERTYPE 0x88b5    /* IEEE local experimental */
/* Later than anything can be held: releases everything. */
#define FDT_LATE (2u * FAULTDEV_MAX_DELAY_MS + FAULTDEV_REORDER_HOLD_MS + 1u)

enum fdt_dir { FDT_TX, FDT_RX };
static const enum fdt_dir fdt_dirs[] = { FDT_TX, FDT_RX };

struct fdt {
    struct netdev *dev;         /* the wrapper */
    struct netdev *inner;       /* the wrapped memdev end (owned by dev) */
    struct netdev *peer;        /* the other end of the wire */
    uint64_t now;
};

/* What came out, in order. */
struct fdt_log {
    uint32_t num[4 * 10000 + 64];
    uint64_t when[4 * 10000 + 64];  /* the time each came out */
    size_t n;
    unsigned bad;               /* frames whose bytes were not as sent */
    uint64_t hash;              /* FNV-1a over every byte, in order */
};

static void fdt_open(struct fdt *t, const struct faultdev_config *cfg)
{
    CU_ASSERT_FATAL(memdev_pair(&t->inner, &t->peer, FDT_DEPTH, 1500) == 0);
    int err = 1;
    t->dev = faultdev_wrap(t->inner, cfg, &err);
    CU_ASSERT_FATAL(t->dev != NULL);
    CU_ASSERT_EQUAL(err, 0);
    t->now = FDT_T0;
    faultdev_poll(t->dev, t->now);
}

static void fdt_close(struct fdt *t)
{
    netdev_close(t->dev);
    netdev_close(t->peer);
}

static void fdt_advance(struct fdt *t, uint64_t now)
{
    t->now = now;
    faultdev_poll(t->dev, now);
}

/* Frame n: lengths vary from 60 to 123, number at byte 14, then a pattern. */
static size_t fdt_frame(uint8_t *buf, uint32_t n)
{
    static const uint8_t dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
    static const uint8_t src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
    size_t len = 60 + n % 64;
    memcpy(buf, dst, ETH_ALEN);
    memcpy(buf + ETH_ALEN, src, ETH_ALEN);
    store_be16(buf + 12, FDT_ETHERTYPE);
    store_be32(buf + ETH_HLEN, n);
    for (size_t i = ETH_HLEN + 4; i < len; i++)
        buf[i] = (uint8_t)(n * 7 + i);
    return len;
}

static int fdt_send_raw(struct fdt *t, enum fdt_dir dir, uint8_t *buf,
                        size_t len)
{
    struct pbuf pb = { .data = buf, .base = buf, .len = len,
                       .cap = PBUF_SMALL_CAP };
    return netdev_send(dir == FDT_TX ? t->dev : t->peer, &pb);
}

static void fdt_put(struct fdt *t, enum fdt_dir dir, uint32_t n)
{
    uint8_t buf[PBUF_SMALL_CAP];
    CU_ASSERT_EQUAL(fdt_send_raw(t, dir, buf, fdt_frame(buf, n)), 0);
}

/* The next frame out of the far side into buf; its length, 0 when none.
 * *flags: the pbuf flags it came with (the caller's buffer starts with
 * in_flags, which memdev leaves alone). */
static size_t fdt_get_flags(struct fdt *t, enum fdt_dir dir, uint8_t *buf,
                            uint32_t in_flags, uint32_t *flags)
{
    struct pbuf pb = { .data = buf, .base = buf, .cap = PBUF_SMALL_CAP,
                       .flags = in_flags };
    int rc = netdev_recv(dir == FDT_TX ? t->peer : t->dev, &pb);
    CU_ASSERT(rc == 0 || rc == 1);
    if (flags)
        *flags = pb.flags;
    return rc == 1 ? pb.len : 0;
}

static size_t fdt_get(struct fdt *t, enum fdt_dir dir, uint8_t *buf)
{
    return fdt_get_flags(t, dir, buf, 0, NULL);
}

/* Receive everything that is out; returns how many frames. */
static size_t fdt_drain(struct fdt *t, enum fdt_dir dir, struct fdt_log *log)
{
    uint8_t buf[PBUF_SMALL_CAP], want[PBUF_SMALL_CAP];
    size_t got = 0;
    for (int i = 0; i < FDT_LOOP_MAX; i++) {
        size_t len = fdt_get(t, dir, buf);
        if (len == 0)
            break;
        got++;
        CU_ASSERT_FATAL(len >= ETH_HLEN + 4);
        uint32_t n = load_be32(buf + ETH_HLEN);
        if (log->n < sizeof log->num / sizeof log->num[0]) {
            log->when[log->n] = t->now;
            log->num[log->n++] = n;
        }
        if (fdt_frame(want, n) != len || memcmp(want, buf, len) != 0)
            log->bad++;
        for (size_t k = 0; k < len; k++)
            log->hash = (log->hash ^ buf[k]) * 0x100000001b3ull;
    }
    return got;
}

static struct fdt_log *fdt_log_new(void)
{
    struct fdt_log *log = calloc(1, sizeof *log);
    CU_ASSERT_FATAL(log != NULL);
    log->hash = 0xcbf29ce484222325ull;
    return log;
}

/* Put frames 0..count-1 one at a time, draining after each, time moving by
 * step_ms per frame; then let everything held go and drain again. */
static void fdt_run(struct fdt *t, enum fdt_dir dir, uint32_t count,
                    uint32_t step_ms, struct fdt_log *log)
{
    for (uint32_t n = 0; n < count; n++) {
        fdt_put(t, dir, n);
        fdt_drain(t, dir, log);
        if (step_ms)
            fdt_advance(t, t->now + step_ms);
    }
    fdt_advance(t, t->now + FDT_LATE);
    fdt_drain(t, dir, log);
    CU_ASSERT_EQUAL(faultdev_held(t->dev), 0);
    CU_ASSERT_EQUAL(faultdev_next_deadline(t->dev), TS_NEVER);
}

static const struct faultdev_dir_stats *fdt_stats(const struct fdt *t,
                                                  enum fdt_dir dir)
{
    const struct faultdev_stats *s = faultdev_stats(t->dev);
    return dir == FDT_TX ? &s->tx : &s->rx;
}

static int fdt_stats_zero(const struct faultdev_dir_stats *s)
{
    static const struct faultdev_dir_stats zero;
    return memcmp(s, &zero, sizeof zero) == 0;
}

/* ---- tests ------------------------------------------------------------- */

/* All rates 0 (a zeroed config: both directions): every frame unchanged and
 * in order; name and MTU carry over. */
static void fdt_test_clean(void)
{
    struct faultdev_config cfg = { 0 };
    for (int d = 0; d < 2; d++) {
        struct fdt t;
        fdt_open(&t, &cfg);
        CU_ASSERT_STRING_EQUAL(t.dev->name, "mem0");
        CU_ASSERT_EQUAL(t.dev->mtu, 1500);
        CU_ASSERT_EQUAL(netdev_fd(t.dev), netdev_fd(t.inner));   /* carried over */
        struct fdt_log *log = fdt_log_new();
        fdt_run(&t, fdt_dirs[d], 1000, 0, log);
        CU_ASSERT_EQUAL(log->n, 1000);
        CU_ASSERT_EQUAL(log->bad, 0);
        for (size_t i = 0; i < log->n; i++)
            CU_ASSERT_EQUAL(log->num[i], i);
        const struct faultdev_dir_stats *s = fdt_stats(&t, fdt_dirs[d]);
        CU_ASSERT_EQUAL(s->frames, 1000);
        struct faultdev_dir_stats rest = *s;
        rest.frames = 0;
        CU_ASSERT(fdt_stats_zero(&rest));
        free(log);
        fdt_close(&t);
    }
}

static void fdt_test_loss_all(void)
{
    struct faultdev_config cfg = { .loss = 1.0, .seed = 1 };
    for (int d = 0; d < 2; d++) {
        struct fdt t;
        fdt_open(&t, &cfg);
        struct fdt_log *log = fdt_log_new();
        fdt_run(&t, fdt_dirs[d], 100, 0, log);
        CU_ASSERT_EQUAL(log->n, 0);
        CU_ASSERT_EQUAL(fdt_stats(&t, fdt_dirs[d])->dropped, 100);
        CU_ASSERT_EQUAL(memdev_pending(t.inner), 0);    /* RX read them all */
        free(log);
        fdt_close(&t);
    }
    /* A burst waiting on RX: one recv consumes a bounded number, returns 0,
     * and the next calls carry on until the inner device is empty. */
    struct fdt t;
    fdt_open(&t, &cfg);
    for (uint32_t n = 0; n < 200; n++)
        fdt_put(&t, FDT_RX, n);
    uint8_t buf[PBUF_SMALL_CAP];
    int calls = 0;
    while (memdev_pending(t.inner) > 0 && calls < 1000) {
        CU_ASSERT_EQUAL(fdt_get(&t, FDT_RX, buf), 0);
        calls++;
    }
    CU_ASSERT(calls > 1);
    CU_ASSERT_EQUAL(fdt_stats(&t, FDT_RX)->dropped, 200);
    fdt_close(&t);
}

/* Which of count frames arrive (seen[n]), time moving 1 ms per frame;
 * returns the number dropped. */
static uint64_t fdt_pattern(const struct faultdev_config *cfg,
                            enum fdt_dir dir, uint32_t count, uint8_t *seen)
{
    struct fdt t;
    fdt_open(&t, cfg);
    struct fdt_log *log = fdt_log_new();
    fdt_run(&t, dir, count, 1, log);
    memset(seen, 0, count);
    for (size_t i = 0; i < log->n; i++)
        if (log->num[i] < count)
            seen[log->num[i]] = 1;
    uint64_t dropped = fdt_stats(&t, dir)->dropped;
    free(log);
    fdt_close(&t);
    return dropped;
}

/* 30% loss over 10,000 frames: 30% +- 2%, and the seed fixes the pattern,
 * whatever the other rates are. */
static void fdt_test_loss_rate(void)
{
    enum { N = 10000 };
    static uint8_t a[N], b[N];
    for (int d = 0; d < 2; d++) {
        struct faultdev_config cfg = { .loss = 0.3, .seed = 42 };
        uint64_t dropped = fdt_pattern(&cfg, fdt_dirs[d], N, a);
        CU_ASSERT(dropped >= N * 28 / 100 && dropped <= N * 32 / 100);
        size_t arrived = 0;
        for (size_t i = 0; i < N; i++)
            arrived += a[i];
        CU_ASSERT_EQUAL(arrived + dropped, N);
        CU_ASSERT_EQUAL(fdt_pattern(&cfg, fdt_dirs[d], N, b), dropped);
        CU_ASSERT_EQUAL(memcmp(a, b, N), 0);
        cfg.dup = 0.5;          /* draws stay aligned: same losses */
        cfg.reorder = 0.5;
        cfg.jitter_ms = 3;
        CU_ASSERT_EQUAL(fdt_pattern(&cfg, fdt_dirs[d], N, b), dropped);
        CU_ASSERT_EQUAL(memcmp(a, b, N), 0);
        struct faultdev_config other = { .loss = 0.3, .seed = 43 };
        fdt_pattern(&other, fdt_dirs[d], N, b);
        CU_ASSERT_NOT_EQUAL(memcmp(a, b, N), 0);
    }
}

static void fdt_test_dup_all(void)
{
    struct faultdev_config cfg = { .dup = 1.0, .seed = 2 };
    for (int d = 0; d < 2; d++) {
        struct fdt t;
        fdt_open(&t, &cfg);
        struct fdt_log *log = fdt_log_new();
        fdt_run(&t, fdt_dirs[d], 500, 0, log);
        CU_ASSERT_EQUAL_FATAL(log->n, 1000);
        CU_ASSERT_EQUAL(log->bad, 0);
        for (size_t i = 0; i < 500; i++) {
            CU_ASSERT_EQUAL(log->num[2 * i], i);
            CU_ASSERT_EQUAL(log->num[2 * i + 1], i);
        }
        CU_ASSERT_EQUAL(fdt_stats(&t, fdt_dirs[d])->duplicated, 500);
        free(log);
        fdt_close(&t);
    }
}

/* Bits that differ between a and b; *at: the byte of the last difference. */
static unsigned fdt_bit_diff(const uint8_t *a, const uint8_t *b, size_t len,
                             size_t *at)
{
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t x = a[i] ^ b[i];
        if (x)
            *at = i;
        for (; x; x &= (uint8_t)(x - 1))
            bits++;
    }
    return bits;
}

/* Every frame arrives with exactly one bit flipped, never in the Ethernet
 * header, at positions spread over the payload; RX drops the device's
 * checksum-valid flag. A bare header cannot be corrupted. */
static void fdt_test_corrupt_all(void)
{
    struct faultdev_config cfg = { .corrupt = 1.0, .seed = 3 };
    for (int d = 0; d < 2; d++) {
        enum fdt_dir dir = fdt_dirs[d];
        struct fdt t;
        fdt_open(&t, &cfg);
        uint8_t want[PBUF_SMALL_CAP], buf[PBUF_SMALL_CAP];
        size_t lo = SIZE_MAX, hi = 0;
        for (uint32_t n = 0; n < 1000; n++) {
            size_t len = fdt_frame(want, n);
            fdt_put(&t, dir, n);
            uint32_t flags = 0;
            CU_ASSERT_EQUAL_FATAL(fdt_get_flags(&t, dir, buf,
                                                PBUF_F_CSUM_VALID, &flags),
                                  len);
            size_t at = 0;
            CU_ASSERT_EQUAL(fdt_bit_diff(want, buf, len, &at), 1);
            CU_ASSERT(at >= ETH_HLEN && at < len);
            lo = at < lo ? at : lo;
            hi = at > hi ? at : hi;
            if (dir == FDT_RX)
                CU_ASSERT_EQUAL(flags & PBUF_F_CSUM_VALID, 0);
        }
        CU_ASSERT(lo <= ETH_HLEN + 2 && hi >= 100);
        CU_ASSERT_EQUAL(fdt_stats(&t, dir)->corrupted, 1000);
        memset(buf, 0x5a, ETH_HLEN);
        CU_ASSERT_EQUAL(fdt_send_raw(&t, dir, buf, ETH_HLEN), 0);
        CU_ASSERT_EQUAL(fdt_get(&t, dir, want), ETH_HLEN);
        CU_ASSERT_EQUAL(memcmp(want, buf, ETH_HLEN), 0);
        CU_ASSERT_EQUAL(fdt_stats(&t, dir)->corrupted, 1000);
        fdt_close(&t);
    }
    /* No corruption: the device's flag survives the wrapper. */
    struct faultdev_config clean = { 0 };
    struct fdt t;
    fdt_open(&t, &clean);
    uint8_t buf[PBUF_SMALL_CAP];
    uint32_t flags = 0;
    fdt_put(&t, FDT_RX, 0);
    CU_ASSERT(fdt_get_flags(&t, FDT_RX, buf, PBUF_F_CSUM_VALID, &flags) > 0);
    CU_ASSERT_EQUAL(flags, PBUF_F_CSUM_VALID);
    fdt_close(&t);
}

/* Reordering at 30%: out-of-order delivery, while the clock stands still
 * (a held frame goes right after its successor), and every frame exactly
 * once. The last held frames go when their hold time passes. */
static void fdt_test_reorder(void)
{
    enum { N = 1000 };
    struct faultdev_config cfg = { .reorder = 0.3, .seed = 7 };
    for (int d = 0; d < 2; d++) {
        enum fdt_dir dir = fdt_dirs[d];
        struct fdt t;
        fdt_open(&t, &cfg);
        struct fdt_log *log = fdt_log_new();
        for (uint32_t n = 0; n < N; n++) {
            fdt_put(&t, dir, n);
            fdt_drain(&t, dir, log);
        }
        size_t inversions = 0;
        for (size_t i = 1; i < log->n; i++)
            inversions += log->num[i] < log->num[i - 1];
        CU_ASSERT(inversions > 100);
        CU_ASSERT_EQUAL(log->n + faultdev_held(t.dev), N);
        if (faultdev_held(t.dev) > 0) {
            CU_ASSERT_EQUAL(faultdev_next_deadline(t.dev),
                            FDT_T0 + FAULTDEV_REORDER_HOLD_MS);
            fdt_advance(&t, FDT_T0 + FAULTDEV_REORDER_HOLD_MS - 1);
            CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);
        }
        fdt_advance(&t, FDT_T0 + FAULTDEV_REORDER_HOLD_MS);
        fdt_drain(&t, dir, log);
        CU_ASSERT_EQUAL_FATAL(log->n, N);
        CU_ASSERT_EQUAL(log->bad, 0);
        static uint8_t seen[N];
        memset(seen, 0, sizeof seen);
        for (size_t i = 0; i < N; i++)
            seen[log->num[i]]++;
        for (size_t i = 0; i < N; i++)
            CU_ASSERT_EQUAL(seen[i], 1);
        const struct faultdev_dir_stats *s = fdt_stats(&t, dir);
        CU_ASSERT(s->reordered >= N * 25 / 100 && s->reordered <= N * 35 / 100);
        CU_ASSERT_EQUAL(s->dropped + s->duplicated + s->queue_full, 0);
        free(log);
        fdt_close(&t);
    }
}

/* Reordering at 1.0: nothing ever passes to release a frame, so each waits
 * its hold time, and they leave in the order they came. */
static void fdt_test_reorder_hold(void)
{
    struct faultdev_config cfg = { .reorder = 1.0, .seed = 8 };
    for (int d = 0; d < 2; d++) {
        enum fdt_dir dir = fdt_dirs[d];
        struct fdt t;
        fdt_open(&t, &cfg);
        struct fdt_log *log = fdt_log_new();
        for (uint32_t n = 0; n < 3; n++)
            fdt_put(&t, dir, n);
        CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);
        CU_ASSERT_EQUAL(faultdev_held(t.dev), 3);
        CU_ASSERT_EQUAL(faultdev_next_deadline(t.dev),
                        FDT_T0 + FAULTDEV_REORDER_HOLD_MS);
        fdt_advance(&t, FDT_T0 + FAULTDEV_REORDER_HOLD_MS - 1);
        CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);
        fdt_advance(&t, FDT_T0 + FAULTDEV_REORDER_HOLD_MS);
        CU_ASSERT_EQUAL_FATAL(fdt_drain(&t, dir, log), 3);
        for (uint32_t i = 0; i < 3; i++)
            CU_ASSERT_EQUAL(log->num[i], i);
        CU_ASSERT_EQUAL(faultdev_next_deadline(t.dev), TS_NEVER);
        free(log);
        fdt_close(&t);
    }
}

/* With jitter, a reordered frame released by its successor still waits out
 * its own delay: since the draws are aligned, the same seed without reorder
 * gives each frame the same jitter, and no frame may come out sooner with
 * reordering than without. */
static void fdt_test_reorder_keeps_delay(void)
{
    enum { N = 2000 };
    static uint64_t first[2][N];
    for (int d = 0; d < 2; d++) {
        for (int r = 0; r < 2; r++) {
            struct faultdev_config cfg = { .reorder = r ? 0.5 : 0.0,
                                           .delay_ms = 5, .jitter_ms = 20,
                                           .seed = 14 };
            struct fdt t;
            fdt_open(&t, &cfg);
            struct fdt_log *log = fdt_log_new();
            fdt_run(&t, fdt_dirs[d], N, 1, log);
            CU_ASSERT_EQUAL_FATAL(log->n, N);
            for (size_t i = 0; i < N; i++)
                first[r][log->num[i]] = log->when[i];
            free(log);
            fdt_close(&t);
        }
        size_t later = 0;
        for (size_t i = 0; i < N; i++) {
            CU_ASSERT(first[1][i] >= first[0][i]);
            later += first[1][i] > first[0][i];
        }
        CU_ASSERT(later > N / 10);
    }
}

/* A frame held delay_ms comes out at t0 + delay, not a millisecond sooner,
 * and the deadline says so. */
static void fdt_test_delay(void)
{
    struct faultdev_config cfg = { .delay_ms = 50, .seed = 9 };
    for (int d = 0; d < 2; d++) {
        enum fdt_dir dir = fdt_dirs[d];
        struct fdt t;
        fdt_open(&t, &cfg);
        CU_ASSERT_EQUAL(faultdev_next_deadline(t.dev), TS_NEVER);
        struct fdt_log *log = fdt_log_new();
        fdt_put(&t, dir, 0);
        CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);
        CU_ASSERT_EQUAL(memdev_pending(t.inner), 0);
        CU_ASSERT_EQUAL(faultdev_held(t.dev), 1);
        CU_ASSERT_EQUAL(faultdev_next_deadline(t.dev), FDT_T0 + 50);
        fdt_advance(&t, FDT_T0 + 49);
        CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);
        fdt_advance(&t, FDT_T0 + 50);
        CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 1);
        CU_ASSERT_EQUAL(log->bad, 0);
        CU_ASSERT_EQUAL(faultdev_next_deadline(t.dev), TS_NEVER);
        CU_ASSERT_EQUAL(fdt_stats(&t, dir)->delayed, 1);
        /* Time does not go back: a frame after an older now is stamped
         * with the newest. */
        faultdev_poll(t.dev, FDT_T0);
        fdt_put(&t, dir, 1);
        CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);   /* RX: now held */
        CU_ASSERT_EQUAL(faultdev_next_deadline(t.dev), FDT_T0 + 100);
        free(log);
        fdt_close(&t);
    }
}

/* delay 10 + jitter 0..20: every frame comes out once, between t0 + 10 and
 * t0 + 30, never before its deadline. */
static void fdt_test_jitter(void)
{
    enum { N = 200 };
    struct faultdev_config cfg = { .delay_ms = 10, .jitter_ms = 20,
                                   .seed = 10 };
    for (int d = 0; d < 2; d++) {
        enum fdt_dir dir = fdt_dirs[d];
        struct fdt t;
        fdt_open(&t, &cfg);
        struct fdt_log *log = fdt_log_new();
        for (uint32_t n = 0; n < N; n++) {
            fdt_put(&t, dir, n);
            CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);
        }
        uint64_t first = faultdev_next_deadline(t.dev);
        CU_ASSERT(first >= FDT_T0 + 10 && first <= FDT_T0 + 30);
        for (uint64_t now = FDT_T0; now <= FDT_T0 + 30; now++) {
            fdt_advance(&t, now);
            size_t got = fdt_drain(&t, dir, log);
            CU_ASSERT(got == 0 || now >= first);
            CU_ASSERT(faultdev_next_deadline(t.dev) > now);
        }
        CU_ASSERT_EQUAL_FATAL(log->n, N);
        CU_ASSERT_EQUAL(log->bad, 0);
        CU_ASSERT_EQUAL(faultdev_held(t.dev), 0);
        CU_ASSERT_EQUAL(fdt_stats(&t, dir)->delayed, N);
        free(log);
        fdt_close(&t);
    }
}

/* With every slot in use the next frames are dropped and counted; the held
 * ones still come out, in order. A frame longer than a slot is refused. */
static void fdt_test_queue_full(void)
{
    struct faultdev_config cfg = { .delay_ms = 100, .seed = 11 };
    for (int d = 0; d < 2; d++) {
        enum fdt_dir dir = fdt_dirs[d];
        struct fdt t;
        fdt_open(&t, &cfg);
        struct fdt_log *log = fdt_log_new();
        for (uint32_t n = 0; n < FAULTDEV_SLOTS + 10; n++) {
            fdt_put(&t, dir, n);
            CU_ASSERT_EQUAL(fdt_drain(&t, dir, log), 0);
        }
        CU_ASSERT_EQUAL(faultdev_held(t.dev), FAULTDEV_SLOTS);
        CU_ASSERT_EQUAL(fdt_stats(&t, dir)->queue_full, 10);
        fdt_advance(&t, FDT_T0 + 100);
        CU_ASSERT_EQUAL_FATAL(fdt_drain(&t, dir, log), FAULTDEV_SLOTS);
        for (uint32_t i = 0; i < FAULTDEV_SLOTS; i++)
            CU_ASSERT_EQUAL(log->num[i], i);
        free(log);
        fdt_close(&t);
    }
    struct fdt t;
    fdt_open(&t, &cfg);
    static uint8_t big[FAULTDEV_SLOT_CAP + 100];
    fdt_frame(big, 0);
    struct pbuf pb = { .data = big, .base = big, .len = sizeof big,
                       .cap = sizeof big };
    CU_ASSERT_EQUAL(netdev_send(t.dev, &pb), 0);
    CU_ASSERT_EQUAL(fdt_stats(&t, FDT_TX)->too_big, 1);
    CU_ASSERT_EQUAL(faultdev_held(t.dev), 0);
    fdt_close(&t);
}

/* Every bad config is refused with -EINVAL and leaves inner open; the
 * limits themselves are accepted. */
static void fdt_test_bad_config(void)
{
    struct faultdev_config bad[] = {
        { .loss = -0.1 }, { .loss = 1.0001 }, { .loss = NAN },
        { .dup = 2.0 }, { .reorder = -1.0 }, { .corrupt = 1.5 },
        { .corrupt = INFINITY }, { .delay_ms = FAULTDEV_MAX_DELAY_MS + 1 },
        { .jitter_ms = FAULTDEV_MAX_DELAY_MS + 1 }, { .jitter_ms = UINT32_MAX },
        { .dir = 4 },
    };
    struct netdev *a, *b;
    CU_ASSERT_FATAL(memdev_pair(&a, &b, 4, 1500) == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int err = 0;
        CU_ASSERT_PTR_NULL(faultdev_wrap(a, &bad[i], &err));
        CU_ASSERT_EQUAL(err, -EINVAL);
    }
    int err = 0;
    struct faultdev_config ok = { 0 };
    CU_ASSERT_PTR_NULL(faultdev_wrap(NULL, &ok, &err));
    CU_ASSERT_EQUAL(err, -EINVAL);
    CU_ASSERT_PTR_NULL(faultdev_wrap(a, NULL, &err));
    CU_ASSERT_EQUAL(err, -EINVAL);
    CU_ASSERT_PTR_NULL(faultdev_wrap(a, &bad[0], NULL));
    /* inner is still open and works. */
    uint8_t buf[PBUF_SMALL_CAP];
    struct pbuf pb = { .data = buf, .base = buf, .len = fdt_frame(buf, 1),
                       .cap = sizeof buf };
    CU_ASSERT_EQUAL(netdev_send(a, &pb), 0);
    CU_ASSERT_EQUAL(memdev_pending(b), 1);
    struct faultdev_config edge = {
        .loss = 1.0, .dup = 0.0, .reorder = 1.0, .corrupt = 1.0,
        .delay_ms = FAULTDEV_MAX_DELAY_MS, .jitter_ms = FAULTDEV_MAX_DELAY_MS,
        .seed = UINT64_MAX, .dir = FAULTDEV_BOTH,
    };
    struct netdev *dev = faultdev_wrap(a, &edge, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
    CU_ASSERT_EQUAL(err, 0);
    netdev_close(dev);
    netdev_close(b);
}

/* Faults apply to the chosen direction only; the other passes untouched
 * and counts nothing. */
static void fdt_test_one_direction(void)
{
    for (int d = 0; d < 2; d++) {
        enum fdt_dir hit = fdt_dirs[d], spared = fdt_dirs[1 - d];
        struct faultdev_config cfg = {
            .loss = 1.0, .seed = 12,
            .dir = hit == FDT_TX ? FAULTDEV_TX : FAULTDEV_RX,
        };
        struct fdt t;
        fdt_open(&t, &cfg);
        struct fdt_log *lhit = fdt_log_new(), *lspared = fdt_log_new();
        fdt_run(&t, hit, 100, 0, lhit);
        fdt_run(&t, spared, 100, 0, lspared);
        CU_ASSERT_EQUAL(lhit->n, 0);
        CU_ASSERT_EQUAL(lspared->n, 100);
        CU_ASSERT_EQUAL(lspared->bad, 0);
        CU_ASSERT_EQUAL(fdt_stats(&t, hit)->dropped, 100);
        CU_ASSERT(fdt_stats_zero(fdt_stats(&t, spared)));
        free(lhit);
        free(lspared);
        fdt_close(&t);
    }
}

/* The table names every field once, as "rx.x" / "tx.x", and reads them. */
static void fdt_test_counters(void)
{
    CU_ASSERT_EQUAL(faultdev_counter_count,
                    sizeof(struct faultdev_stats) / sizeof(uint64_t));
    for (size_t i = 0; i < faultdev_counter_count; i++) {
        const char *name = faultdev_counter_desc[i].name;
        CU_ASSERT(strncmp(name, "rx.", 3) == 0 || strncmp(name, "tx.", 3) == 0);
        for (size_t j = 0; j < i; j++)
            CU_ASSERT(strcmp(name, faultdev_counter_desc[j].name) != 0);
    }
    struct faultdev_config cfg = { .loss = 0.5, .dup = 0.5, .seed = 13 };
    struct fdt t;
    fdt_open(&t, &cfg);
    struct fdt_log *log = fdt_log_new();
    fdt_run(&t, FDT_TX, 200, 0, log);
    const struct faultdev_stats *s = faultdev_stats(t.dev);
    CU_ASSERT_EQUAL(ts_counter_get(faultdev_counter_desc,
                                   faultdev_counter_count, s, "tx.dropped"),
                    (long long)s->tx.dropped);
    CU_ASSERT_EQUAL(ts_counter_get(faultdev_counter_desc,
                                   faultdev_counter_count, s, "tx.duplicated"),
                    (long long)s->tx.duplicated);
    CU_ASSERT_EQUAL(ts_counter_get(faultdev_counter_desc,
                                   faultdev_counter_count, s, "rx.frames"), 0);
    CU_ASSERT(s->tx.dropped > 0 && s->tx.duplicated > 0);
    CU_ASSERT_EQUAL(log->n, 200 - s->tx.dropped + s->tx.duplicated);
    free(log);
    fdt_close(&t);
}

/* Everything at once, time moving: the same seed gives the same bytes in
 * the same order; every frame is accounted for. */
static uint64_t fdt_replay_once(uint64_t seed, enum fdt_dir dir, size_t *n)
{
    struct faultdev_config cfg = {
        .loss = 0.1, .dup = 0.1, .reorder = 0.1, .corrupt = 0.1,
        .delay_ms = 5, .jitter_ms = 5, .seed = seed,
    };
    struct fdt t;
    fdt_open(&t, &cfg);
    struct fdt_log *log = fdt_log_new();
    fdt_run(&t, dir, 2000, 1, log);
    const struct faultdev_dir_stats *s = fdt_stats(&t, dir);
    CU_ASSERT_EQUAL(s->frames, 2000);
    CU_ASSERT_EQUAL(s->queue_full, 0);
    CU_ASSERT_EQUAL(log->n, 2000 - s->dropped + s->duplicated);
    CU_ASSERT(s->dropped && s->duplicated && s->reordered && s->corrupted);
    CU_ASSERT(log->bad >= s->corrupted * 9 / 10 && log->bad <= s->corrupted);
    uint64_t hash = log->hash;
    *n = log->n;
    free(log);
    fdt_close(&t);
    return hash;
}

static void fdt_test_replay(void)
{
    for (int d = 0; d < 2; d++) {
        size_t n1, n2, n3;
        uint64_t h1 = fdt_replay_once(99, fdt_dirs[d], &n1);
        uint64_t h2 = fdt_replay_once(99, fdt_dirs[d], &n2);
        uint64_t h3 = fdt_replay_once(100, fdt_dirs[d], &n3);
        CU_ASSERT_EQUAL(h1, h2);
        CU_ASSERT_EQUAL(n1, n2);
        CU_ASSERT_NOT_EQUAL(h1, h3);
    }
}

TS_SUITE(faultdev,
         TS_TEST(fdt_test_clean),
         TS_TEST(fdt_test_loss_all),
         TS_TEST(fdt_test_loss_rate),
         TS_TEST(fdt_test_dup_all),
         TS_TEST(fdt_test_corrupt_all),
         TS_TEST(fdt_test_reorder),
         TS_TEST(fdt_test_reorder_hold),
         TS_TEST(fdt_test_reorder_keeps_delay),
         TS_TEST(fdt_test_delay),
         TS_TEST(fdt_test_jitter),
         TS_TEST(fdt_test_queue_full),
         TS_TEST(fdt_test_bad_config),
         TS_TEST(fdt_test_one_direction),
         TS_TEST(fdt_test_counters),
         TS_TEST(fdt_test_replay))
