/* core/addr.c - strict parsers and formatters for address text. */
#include "core/addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ts_ip4_fmt(uint32_t a, char *buf)
{
    snprintf(buf, TS_IP4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
             (a >> 8) & 255, a & 255);
    return buf;
}

/* Parse a decimal number <= max at *s, advancing *s; -1 if none. */
static long addr_number(const char **s, long max)
{
    const char *p = *s;
    long v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || digits > 3 || v > max)
        return -1;
    *s = p;
    return v;
}

static int addr_ip4_prefix(const char **s, uint32_t *addr)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *(*s)++ != '.')
            return -EINVAL;
        long v = addr_number(s, 255);
        if (v < 0)
            return -EINVAL;
        a = a << 8 | (uint32_t)v;
    }
    *addr = a;
    return 0;
}

int ts_ip4_parse(const char *s, uint32_t *addr)
{
    if (!s || addr_ip4_prefix(&s, addr) < 0 || *s != '\0')
        return -EINVAL;
    return 0;
}

int ts_ip4_prefix_parse(const char *s, uint32_t *addr, uint8_t *prefix,
                        int need_prefix)
{
    if (!s || addr_ip4_prefix(&s, addr) < 0)
        return -EINVAL;
    if (*s == '\0' && !need_prefix)
        return 0;
    if (*s++ != '/')
        return -EINVAL;
    long p = addr_number(&s, 32);
    if (p < 0 || *s != '\0')
        return -EINVAL;
    *prefix = (uint8_t)p;
    return 0;
}

char *ts_mac_fmt(const uint8_t m[6], char *buf)
{
    snprintf(buf, TS_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
             m[2], m[3], m[4], m[5]);
    return buf;
}

static int addr_hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ts_mac_parse(const char *s, uint8_t mac[6])
{
    if (!s || strlen(s) != 17)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        int hi = addr_hexdigit(s[i * 3]), lo = addr_hexdigit(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return -EINVAL;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
