/* core/counters.h - named counters, printed like `netstat -s`.
 *
 * Every layer keeps a struct of uint64_t counters (DESIGN.md §3.7: every drop
 * is counted) and a table naming each field; ts_counters_print() walks the
 * table so printing never drifts from the struct.
 * Entry points: TS_COUNTER, TS_CTR_FIELD, TS_CTR_DESC, ts_counters_print, ts_counter_get.
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
    const char *ev;         /* the event a count is ("drop"...), or NULL */
    const char *rfc;        /* the RFC section that rules it, or NULL */
};

#define TS_COUNTER(type, field, help) { #field, offsetof(type, field), help, \
                                        NULL, NULL }

/* A layer's counters from one X-macro list, X(name, ev, rfc, help) per
 * counter (ev: the event name when a count is an event, else NULL), so
 * that a new counter is one line: TS_CTR_FIELD makes the struct's fields,
 * TS_CTR_DESC(type, ...) the table's entries, and the layer's own enum of
 * reasons indexes that table in the same order. */
#define TS_CTR_FIELD(name, ev, rfc, help) uint64_t name;
#define TS_CTR_DESC(type, name, ev, rfc, help) \
    { #name, offsetof(type, name), help, ev, rfc },
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
