/* core/clock.h - the monotonic clock, read only by event loops.
 *
 * Protocol code never reads the clock (DESIGN.md §3.2): the loop reads it once
 * per wake-up and passes `now` (milliseconds) down. Tests pass a fake time.
 * TS_NEVER is the deadline of a layer with no timer pending.
 * Entry points: ts_clock_ms, ts_clock_us, TS_NEVER.
 */
#ifndef TS_CORE_CLOCK_H
#define TS_CORE_CLOCK_H

#include <stdint.h>

#define TS_NEVER UINT64_MAX

uint64_t ts_clock_ms(void);
/* The same clock in microseconds (event time stamps). */
uint64_t ts_clock_us(void);

static inline uint64_t ts_min_deadline(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

#endif
