/* tools/tapfloor.c - the raw TAP floor of `make bench`: the least any stack
 * on a TAP can cost, measured on the same device set-up in the same run.
 *
 * It answers ARP for --addr and ICMP echo requests (type 8 -> 0, the
 * checksum patched, RFC 1624), and is a do-nothing bulk endpoint: every UDP
 * datagram to --addr is read, counted and dropped (host -> floor), and on
 * SIGUSR2 it writes 1,500-byte UDP frames to the host for --blast seconds
 * (floor -> host), one frame per read(2)/write(2) like a stack without
 * offloads. No TCP: the figures are the device's floor, not a stack's.
 * SIGUSR1 prints the counters (`tapfloor rx_frames=... rx_bytes=...`);
 * SIGTERM or --lifetime ends it. Only libc and the TUN driver.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define TF_FRAME 1514               /* MTU 1500 + Ethernet header */
#define TF_UDP_PAYLOAD (1500 - 20 - 8)

struct tf {
    int fd;
    uint8_t mac[6], host_mac[6];
    uint32_t addr, host_addr;       /* network order */
    int have_host;
    double blast_secs, blast_end;
    unsigned long long rx_frames, rx_bytes, tx_frames, tx_bytes, pings;
    uint8_t out[TF_FRAME];
};

static volatile sig_atomic_t tf_report, tf_blast, tf_stop;

static void tf_sig(int sig)
{
    if (sig == SIGUSR1)
        tf_report = 1;
    else if (sig == SIGUSR2)
        tf_blast = 1;
    else
        tf_stop = 1;
}

static double tf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t tf_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void tf_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int tf_open(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void tf_write(struct tf *t, const uint8_t *f, size_t len)
{
    if (write(t->fd, f, len) == (ssize_t)len)
        t->tx_frames++, t->tx_bytes += len;
}

static void tf_learn(struct tf *t, const uint8_t *mac, const uint8_t *ip)
{
    memcpy(t->host_mac, mac, 6);
    memcpy(&t->host_addr, ip, 4);
    t->have_host = 1;
}

/* ARP request for our address: answer in place. */
static void tf_arp(struct tf *t, uint8_t *f, size_t n)
{
    uint8_t *a = f + 14;
    if (n < 42 || tf_get16(a + 6) != 1 || memcmp(a + 24, &t->addr, 4) != 0)
        return;
    tf_learn(t, a + 8, a + 14);
    memcpy(f, a + 8, 6);
    memcpy(f + 6, t->mac, 6);
    tf_put16(a + 6, 2);
    memcpy(a + 18, a + 8, 10);      /* target = the asker (MAC + IP) */
    memcpy(a + 8, t->mac, 6);
    memcpy(a + 14, &t->addr, 4);
    tf_write(t, f, 42);
}

/* ICMP echo request -> reply: swap addresses, type 8 -> 0 and patch the
 * checksum (RFC 1624: HC' = ~(~HC + ~m + m'), m = 0x0800, m' = 0). */
static void tf_icmp(struct tf *t, uint8_t *f, size_t n, size_t ihl)
{
    uint8_t *ip = f + 14, *ic = ip + ihl, tmp[6];
    if (n < 14 + ihl + 8 || ic[0] != 8)
        return;
    memcpy(tmp, f, 6);
    memcpy(f, f + 6, 6);
    memcpy(f + 6, tmp, 6);
    memcpy(tmp, ip + 12, 4);
    memcpy(ip + 12, ip + 16, 4);
    memcpy(ip + 16, tmp, 4);
    ic[0] = 0;
    uint32_t sum = (uint16_t)~tf_get16(ic + 2) + 0xf7ffu;
    sum = (sum & 0xffff) + (sum >> 16);
    tf_put16(ic + 2, (uint16_t)~sum);
    t->pings++;
    tf_write(t, f, n);
}

static void tf_frame(struct tf *t, uint8_t *f, size_t n)
{
    if (n < 14)
        return;
    uint16_t type = tf_get16(f + 12);
    if (type == 0x0806) {
        tf_arp(t, f, n);
        return;
    }
    uint8_t *ip = f + 14;
    if (type != 0x0800 || n < 34 || (ip[0] >> 4) != 4 || memcmp(ip + 16, &t->addr, 4))
        return;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (ihl < 20 || n < 14 + ihl + 8)
        return;
    if (ip[9] == 1) {
        tf_icmp(t, f, n, ihl);
    } else if (ip[9] == 17) {
        t->rx_frames++;
        t->rx_bytes += tf_get16(ip + ihl + 4) - 8u;
    }
}

static uint16_t tf_cksum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += tf_get16(p + i);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* The frame blasted at the host: UDP 9 -> 9, checksum 0 (none, IPv4). */
static void tf_build_blast(struct tf *t)
{
    uint8_t *f = t->out, *ip = f + 14, *u = ip + 20;
    memset(f, 0, sizeof t->out);
    memcpy(f, t->host_mac, 6);
    memcpy(f + 6, t->mac, 6);
    tf_put16(f + 12, 0x0800);
    ip[0] = 0x45;
    tf_put16(ip + 2, 1500);
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, &t->addr, 4);
    memcpy(ip + 16, &t->host_addr, 4);
    tf_put16(ip + 10, tf_cksum(ip, 20));
    tf_put16(u, 9);
    tf_put16(u + 2, 9);
    tf_put16(u + 4, TF_UDP_PAYLOAD + 8);
}

static void tf_blast_start(struct tf *t)
{
    if (!t->have_host) {
        printf("tapfloor blast error=no-host-yet (ping the floor first)\n");
        return;
    }
    tf_build_blast(t);
    t->tx_frames = t->tx_bytes = 0;
    t->blast_end = tf_now() + t->blast_secs;
    printf("tapfloor blast started secs=%.1f\n", t->blast_secs);
}

/* Write frames for the rest of the blast, reading between bursts. */
static void tf_blast_burst(struct tf *t)
{
    for (int i = 0; i < 64; i++)
        tf_write(t, t->out, TF_FRAME);
    if (tf_now() < t->blast_end)
        return;
    printf("tapfloor blast frames=%llu bytes=%llu secs=%.3f gbps=%.3f status=ok\n",
           t->tx_frames, t->tx_frames * TF_UDP_PAYLOAD, t->blast_secs,
           (double)t->tx_frames * TF_UDP_PAYLOAD * 8 / t->blast_secs / 1e9);
    t->blast_end = 0;
}

static void tf_loop(struct tf *t, double lifetime)
{
    static uint8_t f[65536];
    double end = tf_now() + lifetime;
    while (!tf_stop && tf_now() < end) {
        if (tf_report) {
            tf_report = 0;
            printf("tapfloor rx_frames=%llu rx_bytes=%llu pings=%llu now=%.6f\n",
                   t->rx_frames, t->rx_bytes, t->pings, tf_now());
        }
        if (tf_blast) {
            tf_blast = 0;
            tf_blast_start(t);
        }
        if (t->blast_end > 0)
            tf_blast_burst(t);
        struct pollfd p = { .fd = t->fd, .events = POLLIN };
        if (poll(&p, 1, t->blast_end > 0 ? 0 : 100) <= 0)
            continue;
        for (int i = 0; i < 64; i++) {
            ssize_t n = read(t->fd, f, sizeof f);
            if (n <= 0)
                break;
            tf_frame(t, f, (size_t)n);
        }
    }
}

int main(int argc, char **argv)
{
    static struct tf t;
    const char *iface = NULL, *addr = NULL;
    double lifetime = 300;
    t.blast_secs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--iface"))
            iface = argv[i + 1];
        else if (!strcmp(argv[i], "--addr"))
            addr = argv[i + 1];
        else if (!strcmp(argv[i], "--blast"))
            t.blast_secs = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--lifetime"))
            lifetime = atof(argv[i + 1]);
    }
    if (!iface || !addr || inet_pton(AF_INET, addr, &t.addr) != 1 ||
        t.blast_secs <= 0 || lifetime <= 0) {
        fputs("usage: tapfloor --iface NAME --addr A.B.C.D [--blast SECS]"
              " [--lifetime SECS]\n", stderr);
        return 2;
    }
    t.fd = tf_open(iface);
    if (t.fd < 0) {
        fprintf(stderr, "tapfloor: %s: %s\n", iface, strerror(errno));
        return 1;
    }
    fcntl(t.fd, F_SETFL, O_NONBLOCK);
    memcpy(t.mac, (uint8_t[6]){ 0x02, 0x00, 0x00, 0x00, 0xf1, 0x00 }, 6);
    struct sigaction sa = { .sa_handler = tf_sig };
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("tapfloor: ready iface=%s addr=%s\n", iface, addr);
    tf_loop(&t, lifetime);
    return 0;
}
