/* tests/fuzz/fuzz_reass.c - libFuzzer target: IPv4 fragments of one or
 * several datagrams, in any order, with any overlap, and time steps, into
 * a stack (4 large buffers for the reassembly slots; a UDP socket on port
 * 53 and a listener on 80 for what completes). Records:
 *   0 a fragment: which datagram (4 ids x 2 sources x 3 protocols), offset
 *     in 8-byte units, MF, DF, payload length, a byte that fills the
 *     payload (so duplicates may or may not be identical), and maybe IP
 *     options (IHL > 5) in its header;
 *   1 a time step (up to 65 s: the 30-second reassembly time-out and its
 *     ICMP time exceeded);
 *   2 a whole raw frame.
 * After every record the invariants of fz_check.c (pool accounting against
 * the slots' buffers, each slot's bounds, no slot older than the time-out
 * once the timers ran); the frames the stack sends (ICMP errors, echo
 * replies from reassembled pings, fragmented) must be well formed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"
#include "core/cksum.h"
#include "eth/eth_wire.h"
#include "ipv4/ipv4_wire.h"
#include "tcp/tcp.h"
#include "tests/fuzz/fz.h"
#include "udp/udp.h"

#define FR_RECORDS 200

static const uint8_t fr_protos[3] = { IPV4_PROTO_UDP, IPV4_PROTO_ICMP,
                                      IPV4_PROTO_TCP };

static void fr_tcp_event(void *ctx, struct tcp_conn *c, unsigned ev)
{
    (void)ctx;
    (void)c;
    (void)ev;
}

static void fr_udp_event(void *ctx, struct udp_sock *s, unsigned ev)
{
    (void)ctx;
    (void)s;
    (void)ev;
}

/* One fragment with an IHL of its own: a header of 20 + 4 * nopt bytes
 * (option bytes from the input), then n payload bytes of value fill. */
static void fr_fragment(struct fz_env *e, struct fz_in *in)
{
    uint8_t which = fz_u8(in), flags = fz_u8(in);
    uint16_t off = fz_u16(in) & IPV4_OFF_MASK;
    size_t n = fz_u16(in) % 1481;
    uint8_t fill = fz_u8(in);
    size_t hl = IPV4_HLEN + 4 * (size_t)((flags >> 4) % 11);
    uint8_t f[FZ_FRAME_MAX + 64];
    if (ETH_HLEN + hl + n > FZ_FRAME_MAX)
        n = FZ_FRAME_MAX - ETH_HLEN - hl;
    struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
    memcpy(eh.dst, fz_my_mac, 6);
    memcpy(eh.src, fz_peer_mac, 6);
    eth_emit(&eh, f);
    uint8_t *ip = f + ETH_HLEN;
    memset(ip, 0, hl);
    ip[0] = (uint8_t)(0x40 | hl / 4);
    store_be16(ip + 2, (uint16_t)(hl + n));
    store_be16(ip + 4, (uint16_t)(0x100 + (which & 3)));
    store_be16(ip + 6, (uint16_t)(off | ((flags & 1) ? IPV4_MF : 0) |
                                  ((flags & 2) ? IPV4_DF : 0)));
    ip[8] = 64;
    ip[9] = fr_protos[(which >> 2) % 3];
    store_be32(ip + 12, (which & 0x80) ? TS_IP4(10, 0, 0, 9) : FZ_PEER_IP);
    store_be32(ip + 16, FZ_MY_IP);
    if (hl > IPV4_HLEN)
        fz_bytes(in, ip + IPV4_HLEN, hl - IPV4_HLEN);
    store_be16(ip + 10, inet_cksum(ip, hl));
    memset(ip + hl, fill, n);
    if (off == 0 && n >= 8 && (flags & 4)) {
        ip[hl] = 8;                 /* an echo request, when ICMP */
        ip[hl + 1] = 0;
    }
    fz_send(e, f, ETH_HLEN + hl + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz_env e;
    struct fz_in in = { data, size };
    uint8_t raw[FZ_FRAME_MAX];
    int err = 0;
    fz_env_init(&e, 4096, 4, 0);
    struct tcp_listener *l = tcp_listen(&e.s.tcp, 0, 80, 4, fr_tcp_event,
                                        NULL, &err);
    struct udp_sock *u = udp_open(&e.s.udp, 65536, fr_udp_event, NULL);
    if (!l || !u || udp_bind(u, 0, 53) < 0)
        fz_fail("fuzz_reass: setup", err, 0);
    for (int r = 0; r < FR_RECORDS && in.n > 0; r++) {
        uint8_t op = fz_u8(&in);
        if (op % 8 < 6)
            fr_fragment(&e, &in);
        else if (op % 8 == 6)
            fz_advance(&e, fz_u16(&in));
        else
            fz_send(&e, raw, fz_bytes(&in, raw, fz_u16(&in) % sizeof raw));
        fz_check(&e);
    }
    udp_close(u);
    tcp_unlisten(l);
    fz_env_free(&e);
    return 0;
}
