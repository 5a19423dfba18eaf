/* tests/fuzz/fuzz_frame.c - libFuzzer target: one Ethernet frame, as
 * received from the wire, into a fresh stack with a TCP listener (port 80)
 * and a bound UDP socket (port 53) open, its peer's MAC already learned.
 * Then the timers run for a while (delayed ACKs, SYN-ACK retransmission,
 * reassembly time-out) before everything is torn down. Checked: no
 * sanitizer report, every frame the stack sends is well formed, the
 * invariants of fz_check.c, no leak. */
#include <stdint.h>
#include <stddef.h>

#include "tests/fuzz/fz.h"
#include "tcp/tcp.h"
#include "udp/udp.h"

static void fzf_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    (void)ctx;
    (void)c;
    (void)ev;
}

static void fzf_udp_event(void *ctx, struct udp_sock *s, unsigned ev)
{
    (void)ctx;
    (void)s;
    (void)ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FZ_FRAME_MAX)
        return -1;                  /* not a frame: keep it out of the corpus */
    static struct fz_env e;         /* big: off the stack */
    fz_env_init(&e, 16384, 1, 0);
    int err = 0;
    struct tcp_listener *l = tcp_listen(&e.s.tcp, 0, 80, 4, fzf_event, NULL,
                                        &err);
    struct udp_sock *u = udp_open(&e.s.udp, 4096, fzf_udp_event, NULL);
    if (!l || !u || udp_bind(u, 0, 53) < 0)
        fz_fail("fuzz_frame: setup", err, 0);
    fz_send(&e, data, size);
    fz_check(&e);
    fz_advance(&e, 200);
    fz_check(&e);
    fz_advance(&e, 40000);
    fz_check(&e);
    udp_close(u);
    tcp_unlisten(l);
    fz_env_free(&e);
    return 0;
}
