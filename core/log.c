/* core/log.c - formatting of log lines: "tapstack: LEVEL message". */
#include "core/log.h"

#include <stdarg.h>

void ts_log_init(struct ts_log *log, int level, FILE *out)
{
    log->level = level;
    log->out = out;
}

void ts_logf(const struct ts_log *log, int level, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    if (!TS_LOG_ON(log, level))
        return;
    if (level < 0)
        level = 0;
    if (level > TS_LOG_DEBUG)
        level = TS_LOG_DEBUG;
    va_list ap;
    va_start(ap, fmt);
    fprintf(log->out, "tapstack: %-5s ", names[level]);
    vfprintf(log->out, fmt, ap);
    fputc('\n', log->out);
    va_end(ap);
}
