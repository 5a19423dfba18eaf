/* tests/unit/draw_fixture.h - captures and traces for the draw suite,
 * written by the test: a pcap of hand-made TCP segments (the stack's own
 * emitters, correct checksums) and JSON-lines trace files.
 * Entry points: dfx_open, dfx_tcp, dfx_raw, dfx_close, dfx_session,
 * dfx_session_pcap,
 * dfx_write_file, dfx_tmpname.
 */
#ifndef TS_TESTS_UNIT_DRAW_FIXTURE_H
#define TS_TESTS_UNIT_DRAW_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define DFX_CLIENT TS_IP4(10, 0, 0, 1)
#define DFX_SERVER TS_IP4(10, 0, 0, 2)
#define DFX_CPORT 41234
#define DFX_SPORT 80
#define DFX_CISN 1000000u
#define DFX_SISN 5000u

struct dfx;

/* A new capture at path (LINKTYPE_ETHERNET); NULL on failure. */
struct dfx *dfx_open(const char *path);
/* One TCP segment at time t_us; c2s: client to server (else back).
 * A SYN carries MSS 1460 and window scale 7. */
void dfx_tcp(struct dfx *w, int64_t t_us, int c2s, uint32_t seq,
             uint32_t ack, uint8_t flags, uint16_t win, size_t len);
/* Any bytes as a frame. */
void dfx_raw(struct dfx *w, int64_t t_us, const void *buf, size_t len);
void dfx_close(struct dfx *w);

/* The known session, 11 frames: handshake (1-3), 100 bytes from the
 * client (4) resent 200 ms later (5), the server's ACK (6) and 50 bytes
 * back (7), the client's FIN (8), the server's ACK (9) and FIN (10), the
 * last ACK (11). Returns the number of frames written. */
unsigned dfx_session(struct dfx *w);

/* The known session in a new capture at a fresh name (into path); 0 or -1. */
int dfx_session_pcap(char *path, size_t cap);

/* Write text to a new file; 0 or -1. */
int dfx_write_file(const char *path, const char *text);
/* A fresh name in $TMPDIR (or /tmp) ending in suffix, into buf. */
void dfx_tmpname(char *buf, size_t cap, const char *suffix);

#endif
