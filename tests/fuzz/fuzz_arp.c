/* tests/fuzz/fuzz_arp.c - libFuzzer target: address resolution under any
 * sequence of ARP packets, outgoing traffic that needs resolving, and time.
 * The stack starts with no neighbour known. Records:
 *   0 an ARP packet: op (request, reply, or any 16-bit value), sender MAC
 *     (one of a few, broadcast, or ours), sender and target IP (the peer,
 *     other hosts of the subnet, ours: a conflict, zero: a probe, off the
 *     subnet), to us or broadcast;
 *   1 a UDP datagram of ours to a host of the subnet (queued on its
 *     INCOMPLETE entry while a request is out: the queue's bound);
 *   2 a time step (retries each second, give-up after three, expiry of a
 *     learned MAC after 60 s);
 *   3 a raw frame (any ethertype, any length).
 * After every record fz_check.c's invariants (each queue's length, the
 * pool's accounting against the queued frames); every frame the stack
 * sends must be well formed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arp/arp_wire.h"
#include "core/bytes.h"
#include "eth/eth_wire.h"
#include "tests/fuzz/fz.h"
#include "udp/udp.h"

#define FA_RECORDS 300

static void fa_udp_event(void *ctx, struct udp_sock *s, unsigned ev)
{
    (void)ctx;
    (void)s;
    (void)ev;
}

static uint32_t fa_ip(uint8_t b)
{
    switch (b % 8) {
    case 0: return FZ_PEER_IP;
    case 1: return FZ_MY_IP;                    /* a conflict */
    case 2: return 0;                           /* a probe (RFC 5227) */
    case 3: return TS_IP4(10, 0, 0, 255);       /* the subnet's broadcast */
    case 4: return TS_IP4(192, 168, 1, b);      /* off the subnet */
    default: return TS_IP4(10, 0, 0, b);        /* a neighbour */
    }
}

static void fa_mac(uint8_t b, uint8_t mac[6])
{
    memcpy(mac, fz_peer_mac, 6);
    if (b % 8 == 6)
        memset(mac, 0xff, 6);                   /* broadcast as a sender */
    else if (b % 8 == 7)
        memcpy(mac, fz_my_mac, 6);
    else
        mac[5] = (uint8_t)(b % 8 + 1);
}

static void fa_packet(struct fz_env *e, struct fz_in *in)
{
    uint8_t how = fz_u8(in), sm = fz_u8(in), sb = fz_u8(in), tb = fz_u8(in);
    uint8_t f[FZ_FRAME_MAX], sha[6], tha[6];
    fa_mac(sm, sha);
    fa_mac(sm >> 3, tha);
    uint16_t op = (how & 0x80) ? fz_u16(in) : (uint16_t)(1 + (how & 1));
    uint32_t tpa = (how & 0x40) ? fa_ip(tb) : FZ_MY_IP;
    size_t n = fz_arp_frame(f, op, sha, fa_ip(sb), tha, tpa);
    if (how & 0x20)
        memcpy(f, fz_my_mac, 6);                /* unicast to us */
    if (how & 0x10)
        store_be16(f + ETH_HLEN, fz_u16(in));   /* hardware type */
    if (how & 0x08)
        n = ETH_HLEN + fz_u8(in) % (ARP_LEN + 1);   /* truncated */
    fz_send(e, f, n);
}

static void fa_send(struct fz_env *e, struct udp_sock *u, struct fz_in *in)
{
    uint8_t b = fz_u8(in), buf[3000];
    size_t n = fz_u16(in) % sizeof buf;        /* > MTU: fragments queue */
    memset(buf, 'a', n);
    udp_sendto(u, buf, n, fa_ip(b), 9, e->now);
    fz_drain(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz_env e;
    struct fz_in in = { data, size };
    uint8_t raw[FZ_FRAME_MAX];
    fz_env_init(&e, 4096, 1, 1);
    struct udp_sock *u = udp_open(&e.s.udp, 4096, fa_udp_event, NULL);
    if (!u || udp_bind(u, 0, 53) < 0)
        fz_fail("fuzz_arp: setup", 0, 0);
    udp_set_broadcast(u, 1);
    stack_start(&e.s, e.now);
    fz_drain(&e);
    for (int r = 0; r < FA_RECORDS && in.n > 0; r++) {
        switch (fz_u8(&in) % 4) {
        case 0: fa_packet(&e, &in); break;
        case 1: fa_send(&e, u, &in); break;
        case 2: fz_advance(&e, (uint64_t)fz_u16(&in) * 2); break;
        default:
            fz_send(&e, raw, fz_bytes(&in, raw, fz_u16(&in) % sizeof raw));
            break;
        }
        fz_check(&e);
    }
    udp_close(u);
    fz_env_free(&e);
    return 0;
}
