/* socket_api/ts_inspect.h - a running stack described as records for
 * tapstack-ctl (the record format is in ts_inspect.c's head comment; what
 * to describe is enum ts_inspect_what in ts_ctl_proto.h).
 * Entry point: ts_inspect_dump.
 */
#ifndef TS_SOCKET_API_TS_INSPECT_H
#define TS_SOCKET_API_TS_INSPECT_H

#include <stdio.h>

#include "socket_api/stack.h"
#include "socket_api/ts_ctl_proto.h"

/* Write the records of `what` to out (lock held). 0, or -1 for an unknown
 * what. */
int ts_inspect_dump(const struct stack *s, int what, FILE *out);
/* Counter tables as records: a stack_counters_fn over a walk. With zero
 * set it only records every value into base (`stats -z`); otherwise each
 * counter is printed less its base, if any (levels such as conns_now and
 * in_use are never zeroed). i counts the counters walked. */
struct ts_inspect_ctx {
    FILE *out;
    uint64_t *base;
    size_t nbase, i;
    int zero;
};
void ts_inspect_counters(void *ctx, const char *section,
                         const struct ts_counter_desc *d, size_t n,
                         const void *stats, int more);

#endif
