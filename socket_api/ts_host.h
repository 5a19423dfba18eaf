/* socket_api/ts_host.h - the shared host: a running stack serving other
 * programs over its control socket (ts_stack_serve in tapstack.h), for the
 * stack thread's loop (ts_stack.c).
 * Entry points: ts_host_run, ts_host_stop, ts_host_counters.
 */
#ifndef TS_SOCKET_API_TS_HOST_H
#define TS_SOCKET_API_TS_HOST_H

#include <stdio.h>

struct ts_host;

/* Serve the sockets whose state changed since the last call (stack thread,
 * lock held). Returns 1 when work is left for the next round (the thread
 * then does not sleep), else 0. */
int ts_host_run(struct ts_host *h);
/* Stop serving: close the control socket, every program connection and
 * every pair end; the stack sockets stay for ts_stack_close (lock held). */
void ts_host_stop(struct ts_host *h);
/* The host's counters, a `host` section like the layers' (lock held). */
void ts_host_counters(const struct ts_host *h, FILE *out);

#endif
