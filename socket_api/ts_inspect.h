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

#endif
