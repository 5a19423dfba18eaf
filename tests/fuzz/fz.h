/* tests/fuzz/fz.h - what the libFuzzer targets of the input path share.
 *
 * A struct fz_env is one stack (10.0.0.2, the defaults of
 * stack_config_default) on one end of a memdev pair, with a virtual clock:
 * `now` is a number the target moves (fz_advance), never the wall clock.
 * The target plays the peer, 10.0.0.1 with fz_peer_mac, on the other end:
 * fz_send puts a frame on the wire and runs the stack's receive path,
 * fz_drain takes everything the stack sent and checks that each frame is
 * well formed (lengths, every checksum: the stack must never emit garbage,
 * whatever it was fed). fz_check runs the stack-wide invariants
 * (fz_check.c) and abort()s, with a line on stderr, when one breaks, so
 * libFuzzer records the input as a crash.
 *
 * A struct fz_in reads the fuzzer's bytes: past the end every read gives 0,
 * so any input is a valid program.
 * Entry points: fz_u8, fz_u16, fz_u32, fz_bytes, fz_env_init, fz_env_free,
 * fz_send, fz_drain, fz_advance, fz_check, fz_check_stack, fz_check_reset,
 * fz_check_frame,
 * fz_fail, fz_ip_frame,
 * fz_tcp_frame, fz_arp_frame.
 */
#ifndef TS_TESTS_FUZZ_FZ_H
#define TS_TESTS_FUZZ_FZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "socket_api/stack.h"

#define FZ_MY_IP TS_IP4(10, 0, 0, 2)
#define FZ_PEER_IP TS_IP4(10, 0, 0, 1)
#define FZ_FRAME_MAX 1514           /* MTU 1500 + Ethernet header */
#define FZ_T0 1000000u              /* the virtual clock's start, ms */

extern const uint8_t fz_my_mac[6];
extern const uint8_t fz_peer_mac[6];

/* ---- the fuzzer's bytes ---------------------------------------------- */

struct fz_in {
    const uint8_t *p;
    size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
/* Up to max bytes into buf (fewer at the end); returns how many. */
size_t fz_bytes(struct fz_in *in, uint8_t *buf, size_t max);

/* ---- the stack under test -------------------------------------------- */

struct fz_env {
    struct stack s;
    struct netdev *peer;            /* the target's end of the wire */
    uint64_t now;
    uint64_t frames_out;            /* frames the stack sent (checked) */
    /* Called with every frame the stack sends, after the checks: a
     * target's own oracle (NULL: none). */
    void (*tap)(void *ctx, const uint8_t *frame, size_t len);
    void *tap_ctx;
};

/* A stack with 24 small and nlarge large buffers and TCP rings of bufsize
 * bytes; seeds the peer's ARP entry (a request from the peer, as any real
 * peer would send) unless no_arp. Aborts on failure (nothing here may
 * fail). */
void fz_env_init(struct fz_env *e, uint32_t bufsize, unsigned nlarge,
                 int no_arp);
/* Destroy the stack: every byte it held must be freed (LeakSanitizer). */
void fz_env_free(struct fz_env *e);
/* The frame (len <= FZ_FRAME_MAX) into the stack, then drain. */
void fz_send(struct fz_env *e, const uint8_t *frame, size_t len);
/* Take and check every frame the stack sent; returns how many. */
unsigned fz_drain(struct fz_env *e);
/* Move the clock ms on, running the timers at each deadline on the way
 * (at most a bounded number of steps) and draining after each. */
void fz_advance(struct fz_env *e, uint64_t ms);
/* Every invariant of fz_check.c; abort()s when one breaks. */
void fz_check(struct fz_env *e);
/* The same for any stack whose timers last ran at now. */
void fz_check_stack(struct stack *s, uint64_t now);
/* Forget what earlier checks saw (a new stack: fz_env_init calls it). */
void fz_check_reset(void);
/* Check one frame a stack sent (fz_drain does it for each); aborts. */
void fz_check_frame(const uint8_t *frame, size_t len);
/* Report a broken invariant and abort(). */
void fz_fail(const char *what, long a, long b);

/* ---- frames from the peer --------------------------------------------- */

/* Ethernet + a 20-byte IPv4 header (src -> dst, proto, id, frag field:
 * flags and offset) + n payload bytes: the frame's length, or 0 when it
 * would exceed FZ_FRAME_MAX. Checksum right. */
size_t fz_ip_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto,
                   uint16_t id, uint16_t frag, const uint8_t *payload,
                   size_t n);

/* A TCP segment from the peer (10.0.0.1) to us. */
struct fz_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd, urp;
    const uint8_t *opts;            /* raw option bytes, padded here to 4 */
    size_t optlen;                  /* <= 40 */
    const uint8_t *data;            /* NULL: each byte the low byte of its
                                       own sequence number */
    size_t len;
};
/* The frame (checksums right); 0 when it would not fit. */
size_t fz_tcp_frame(uint8_t *f, const struct fz_tcp *t);
/* An ARP packet from the peer's MAC: op, sender and target. */
size_t fz_arp_frame(uint8_t *f, uint16_t op, const uint8_t sha[6],
                    uint32_t spa, const uint8_t tha[6], uint32_t tpa);

#endif
