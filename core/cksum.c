/* core/cksum.c - the internet checksum, 32 bits at a time.
 *
 * The one's-complement sum is independent of byte order (RFC 1071 §2(B)), so
 * we add native-order 32-bit words and swap once at the end. memcpy() makes
 * unaligned reads safe and compiles to plain loads.
 */
#include "core/cksum.h"

#include <string.h>

static uint32_t cksum_load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

uint64_t cksum_partial(const void *buf, size_t len, uint64_t sum)
{
    const uint8_t *p = buf;

    /* Four independent loads per round keep the adder busy; the 64-bit
     * accumulator cannot overflow before 2^32 words, far beyond 64 KiB. */
    while (len >= 16) {
        sum += (uint64_t)cksum_load32(p) + cksum_load32(p + 4) +
               cksum_load32(p + 8) + cksum_load32(p + 12);
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        sum += cksum_load32(p);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        /* A trailing byte is the high-order byte of a zero-padded word. */
        uint8_t pad[2] = { p[0], 0 };
        uint16_t w;
        memcpy(&w, pad, 2);
        sum += w;
    }
    return sum;
}

uint16_t cksum_fold(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    uint16_t native = (uint16_t)~sum;
    /* Convert the native-order result to host order of a big-endian field. */
    uint8_t b[2];
    memcpy(b, &native, 2);
    return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

uint16_t inet_cksum(const void *buf, size_t len)
{
    return cksum_fold(cksum_partial(buf, len, 0));
}

uint16_t cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                      const void *seg, size_t len)
{
    uint8_t ph[12] = {
        (uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8),
        (uint8_t)src, (uint8_t)(dst >> 24), (uint8_t)(dst >> 16),
        (uint8_t)(dst >> 8), (uint8_t)dst, 0, proto, (uint8_t)(len >> 8),
        (uint8_t)len,
    };
    return cksum_fold(cksum_partial(seg, len, cksum_partial(ph, sizeof ph, 0)));
}

uint16_t cksum_pseudo_partial(uint32_t src, uint32_t dst, uint8_t proto,
                              size_t len)
{
    uint8_t ph[12] = {
        (uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8),
        (uint8_t)src, (uint8_t)(dst >> 24), (uint8_t)(dst >> 16),
        (uint8_t)(dst >> 8), (uint8_t)dst, 0, proto, (uint8_t)(len >> 8),
        (uint8_t)len,
    };
    return (uint16_t)~cksum_fold(cksum_partial(ph, sizeof ph, 0));
}

int cksum_finish(uint8_t *buf, size_t len, size_t start, size_t off)
{
    if (start > len || off > len - start || len - start - off < 2)
        return -1;
    uint16_t c = cksum_fold(cksum_partial(buf + start, len - start, 0));
    buf[start + off] = (uint8_t)(c >> 8);
    buf[start + off + 1] = (uint8_t)c;
    return 0;
}
