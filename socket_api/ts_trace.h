/* socket_api/ts_trace.h - the sinks of the event path that format: the
 * JSON-lines trace (--trace FILE), the `-v` log, and the JSON and human
 * forms that tapstack-ctl watch shows.
 *
 * One JSON object per event, written with jansson (never hand-escaped):
 *   {"t_us":..., "layer":"tcp", "ev":"state",
 *    "conn":{"id":1,"local":"10.0.0.2:80","remote":"10.0.0.1:41234"},
 *    "changed":{"state":["SYN-RECEIVED","ESTABLISHED"]},
 *    "reason":"segment", "rfc":"9293 3.3.2", "frame_in":5, "frame_out":[6]}
 * "conn" is left out when no connection is concerned, "frame_in" when no
 * captured frame caused the event; "frame_out" is always a list. A trace
 * file is bounded: past its limit it ends with one line
 * {"t_us":...,"ev":"trace_truncated","max_bytes":N,"lines":N}.
 *
 * Entry points: ts_trace_json, ts_trace_human, ts_trace_open,
 * ts_trace_sink, ts_trace_flush, ts_trace_close, ts_trace_log_sink.
 */
#ifndef TS_SOCKET_API_TS_TRACE_H
#define TS_SOCKET_API_TS_TRACE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/event.h"

/* The event as a new JSON object (NULL: out of memory). */
json_t *ts_trace_json(const struct ts_event *e);
/* One line for people from such an object ("+1.234567 tcp state #1 ..."),
 * no newline; truncated to n bytes. */
void ts_trace_human(const json_t *o, char *buf, size_t n);

struct ts_trace;
/* path "-": standard output. max_bytes 0: no limit. NULL and errno set
 * when the file cannot be made. */
struct ts_trace *ts_trace_open(const char *path, uint64_t max_bytes);
/* The sink (ctx: a struct ts_trace). */
void ts_trace_sink(void *ctx, const struct ts_event *e);
void ts_trace_flush(struct ts_trace *tr);
void ts_trace_close(struct ts_trace *tr);
/* The `-v` log as a sink (ctx: a struct ts_log): state changes,
 * retransmissions, errors, ARP and ICMP at INFO, the rest at DEBUG. */
void ts_trace_log_sink(void *ctx, const struct ts_event *e);

#endif
