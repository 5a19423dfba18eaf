/* core/log.h - leveled logging to a stream owned by the stack instance.
 *
 * No global logger (DESIGN.md §3.3): each layer keeps a pointer to the
 * stack's struct ts_log. Levels follow syslog's order; -v raises the level.
 * Entry points: ts_log_init, ts_logf, and the TS_LOG_* macros that skip the
 * formatting work when the level is off.
 */
#ifndef TS_CORE_LOG_H
#define TS_CORE_LOG_H

#include <stdio.h>

enum ts_log_level {
    TS_LOG_ERROR = 0,
    TS_LOG_WARN = 1,
    TS_LOG_INFO = 2,
    TS_LOG_DEBUG = 3,
};

struct ts_log {
    int level;      /* messages above this level are dropped */
    FILE *out;      /* NULL: silent */
};

void ts_log_init(struct ts_log *log, int level, FILE *out);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void ts_logf(const struct ts_log *log, int level, const char *fmt, ...);

#define TS_LOG_ON(log, lvl) ((log) && (log)->out && (lvl) <= (log)->level)
#define TS_LOG(log, lvl, ...) \
    do { if (TS_LOG_ON(log, lvl)) ts_logf(log, lvl, __VA_ARGS__); } while (0)
#define TS_INFO(log, ...) TS_LOG(log, TS_LOG_INFO, __VA_ARGS__)
#define TS_DEBUG(log, ...) TS_LOG(log, TS_LOG_DEBUG, __VA_ARGS__)
#define TS_WARN(log, ...) TS_LOG(log, TS_LOG_WARN, __VA_ARGS__)

#endif
