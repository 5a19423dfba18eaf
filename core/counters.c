/* core/counters.c - printing and lookup of counter tables. */
#include "core/counters.h"

#include <string.h>

static uint64_t counter_at(const void *stats, size_t offset)
{
    uint64_t v;
    memcpy(&v, (const char *)stats + offset, sizeof v);
    return v;
}

void ts_counters_print(FILE *out, const char *section,
                       const struct ts_counter_desc *desc, size_t n,
                       const void *stats)
{
    if (section)
        fprintf(out, "%s:\n", section);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "    %-22s %12llu  %s\n", desc[i].name,
                (unsigned long long)counter_at(stats, desc[i].offset),
                desc[i].help);
}

long long ts_counter_get(const struct ts_counter_desc *desc, size_t n,
                         const void *stats, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(desc[i].name, name) == 0)
            return (long long)counter_at(stats, desc[i].offset);
    return -1;
}
