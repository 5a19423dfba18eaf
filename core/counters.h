/* core/counters.h - named counters, printed like `netstat -s`.
 *
 * Every layer keeps a struct of uint64_t counters (DESIGN.md §3.7: every drop
 * is counted) and a table naming each field; ts_counters_print() walks the
 * table so printing never drifts from the struct.
 * Entry points: TS_COUNTER, ts_counters_print, ts_counter_get.
 */
#ifndef TS_CORE_COUNTERS_H
#define TS_CORE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ts_counter_desc {
    const char *name;
    size_t offset;
    const char *help;
};

#define TS_COUNTER(type, field, help) { #field, offsetof(type, field), help }
#define TS_COUNTERS_LEN(table) (sizeof(table) / sizeof((table)[0]))

/* Print "section:" then one "  name  value  help" line per counter; with
 * section NULL, only the lines (more of the section printed before). */
void ts_counters_print(FILE *out, const char *section,
                       const struct ts_counter_desc *desc, size_t n,
                       const void *stats);

/* Value of the counter called name, or -1 when there is none. */
long long ts_counter_get(const struct ts_counter_desc *desc, size_t n,
                         const void *stats, const char *name);

#endif
