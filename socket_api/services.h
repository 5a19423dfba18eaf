/* socket_api/services.h - the classic small TCP services, run inside the
 * stack on its internal TCP interface: echo (RFC 862, port 7), discard
 * (RFC 863, port 9), daytime (RFC 867, port 13), chargen (RFC 864, port 19),
 * and echo and daytime over UDP on the same ports.
 *
 * Each is a few event handlers: they read and write only when TCP says a
 * connection is readable or writable, so they never block the stack and
 * never buffer more than one chunk of their own.
 * Entry points: services_start, services_stop.
 */
#ifndef TS_SOCKET_API_SERVICES_H
#define TS_SOCKET_API_SERVICES_H

#include "socket_api/stack.h"

#define SERVICES_ECHO 0x1
#define SERVICES_DISCARD 0x2
#define SERVICES_DAYTIME 0x4
#define SERVICES_CHARGEN 0x8
#define SERVICES_ALL 0xf

struct services;

/* Listen for the services in mask on the stack's address. NULL and *err on
 * failure. */
struct services *services_start(struct stack *s, unsigned mask, int *err);
void services_stop(struct services *sv);

#endif
