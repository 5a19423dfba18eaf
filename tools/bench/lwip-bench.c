/* tools/bench/lwip-bench.c - lwIP 2.1 (Debian's liblwip, NO_SYS=0 with
 * core locking) on a TAP, serving what `make bench` measures: discard (9),
 * chargen (19, the RFC 864 pattern tcpbench checks) and echo (7, for RR,
 * connections/s and held connections); lwIP answers ping itself.
 *
 * Built only by `make bench` (CI needs no lwIP). The TAP glue is our own:
 * Debian's tapif corrupts frames larger than about 590 bytes. One thread
 * reads the TAP and feeds frames to ethernet_input() under the lwIP core
 * lock; lwIP's own tcpip thread runs the timers; netif linkoutput writes one
 * frame per write(2). The services use the raw API (callbacks in the core).
 *   lwip-bench --iface NAME --addr A.B.C.D [--lifetime SECS]
 * The host side of the TAP is configured by the caller (bench.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#define LB_PERIOD (74 * 95)         /* chargen: 95 lines of 72 chars + CRLF */
#define LB_CHUNK 0x4000u

enum lb_kind { LB_DISCARD, LB_CHARGEN, LB_ECHO };

struct lb_conn {                    /* one accepted connection */
    enum lb_kind kind;
    unsigned long pos;              /* chargen: stream position */
};

static int lb_fd = -1;
static struct netif lb_netif;
static unsigned char lb_pattern[LB_PERIOD + LB_CHUNK];
static unsigned char lb_txbuf[65536];   /* used under the core lock only */
static volatile sig_atomic_t lb_stop;

static void lb_on_term(int sig)
{
    (void)sig;
    lb_stop = 1;
}

/* Same pattern as tcpbench's check: col 72 CR, col 73 LF, else
 * ' ' + (line + col) % 95, 74 characters a line. */
static void lb_pattern_init(void)
{
    for (size_t p = 0; p < sizeof lb_pattern; p++) {
        size_t q = p % LB_PERIOD, line = q / 74, col = q % 74;
        lb_pattern[p] = col == 72 ? '\r' : col == 73 ? '\n'
                                         : (unsigned char)(' ' + (line + col) % 95);
    }
}

static err_t lb_linkoutput(struct netif *nif, struct pbuf *p)
{
    (void)nif;
    u16_t n = pbuf_copy_partial(p, lb_txbuf, p->tot_len, 0);
    return write(lb_fd, lb_txbuf, n) == (ssize_t)n ? ERR_OK : ERR_IF;
}

static err_t lb_netif_init(struct netif *nif)
{
    static const u8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x1e, 0x01 };
    nif->name[0] = 't', nif->name[1] = 'p';
    nif->output = etharp_output;
    nif->linkoutput = lb_linkoutput;
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    memcpy(nif->hwaddr, mac, 6);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                 NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

static void lb_forget(struct tcp_pcb *pcb, struct lb_conn *c)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    free(c);
}

/* Chargen: queue pattern bytes (by reference, no copy) while lwIP takes. */
static void lb_chargen_fill(struct tcp_pcb *pcb, struct lb_conn *c)
{
    while (tcp_sndbuf(pcb) > 0 && tcp_sndqueuelen(pcb) < TCP_SND_QUEUELEN - 2) {
        u16_t n = tcp_sndbuf(pcb) < LB_CHUNK ? tcp_sndbuf(pcb) : LB_CHUNK;
        if (tcp_write(pcb, lb_pattern + c->pos % LB_PERIOD, n,
                      TCP_WRITE_FLAG_MORE) != ERR_OK)
            break;
        c->pos += n;
    }
    tcp_output(pcb);
}

static err_t lb_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)len;
    if (arg)
        lb_chargen_fill(pcb, arg);
    return ERR_OK;
}

static err_t lb_echo(struct tcp_pcb *pcb, struct pbuf *p)
{
    /* No room: refuse; lwIP keeps the pbuf and offers it again. */
    if (tcp_sndbuf(pcb) < p->tot_len)
        return ERR_MEM;
    for (struct pbuf *q = p; q; q = q->next)
        if (tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY) != ERR_OK)
            return ERR_MEM;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    tcp_output(pcb);
    return ERR_OK;
}

static err_t lb_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct lb_conn *c = arg;
    if (p == NULL || err != ERR_OK || c == NULL) {
        if (p)
            pbuf_free(p);
        lb_forget(pcb, c);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    if (c->kind == LB_ECHO)
        return lb_echo(pcb, p);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void lb_err(void *arg, err_t err)
{
    (void)err;
    free(arg);                      /* the pcb is already gone */
}

static err_t lb_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct lb_conn *c;
    if (err != ERR_OK || pcb == NULL || (c = calloc(1, sizeof *c)) == NULL)
        return ERR_MEM;
    c->kind = (enum lb_kind)(long)arg;
    tcp_arg(pcb, c);
    tcp_recv(pcb, lb_recv);
    tcp_err(pcb, lb_err);
    tcp_nagle_disable(pcb);
    if (c->kind == LB_CHARGEN) {
        tcp_sent(pcb, lb_sent);
        lb_chargen_fill(pcb, c);
    }
    return ERR_OK;
}

static int lb_listen(u16_t port, enum lb_kind kind)
{
    struct tcp_pcb *pcb = tcp_new();
    if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK)
        return -1;
    pcb = tcp_listen_with_backlog(pcb, 255);
    if (pcb == NULL)
        return -1;
    tcp_arg(pcb, (void *)(long)kind);
    tcp_accept(pcb, lb_accept);
    return 0;
}

static int lb_tap_open(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The receive side of the glue: read frames (up to 64 per wake-up) and hand
 * each to lwIP in a heap pbuf, under the core lock. */
static void lb_rx_loop(double lifetime)
{
    static unsigned char f[65536];
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!lb_stop) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) > lifetime)
            break;
        struct pollfd p = { .fd = lb_fd, .events = POLLIN };
        if (poll(&p, 1, 200) <= 0)
            continue;
        LOCK_TCPIP_CORE();
        for (int i = 0; i < 64; i++) {
            ssize_t n = read(lb_fd, f, sizeof f);
            if (n <= 0)
                break;
            /* PBUF_RAM, one block of the frame's size: Debian's pool
             * buffers are smaller than lwIP believes (616 bytes), which is
             * what corrupts tapif's larger frames. */
            struct pbuf *pb = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
            if (pb == NULL)
                continue;
            pbuf_take(pb, f, (u16_t)n);
            if (lb_netif.input(pb, &lb_netif) != ERR_OK)
                pbuf_free(pb);
        }
        UNLOCK_TCPIP_CORE();
    }
}

int main(int argc, char **argv)
{
    const char *iface = NULL, *addr = NULL;
    double lifetime = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--iface"))
            iface = argv[i + 1];
        else if (!strcmp(argv[i], "--addr"))
            addr = argv[i + 1];
        else if (!strcmp(argv[i], "--lifetime"))
            lifetime = atof(argv[i + 1]);
    }
    ip4_addr_t ip, mask, gw;
    if (!iface || !addr || !ip4addr_aton(addr, &ip) || lifetime <= 0) {
        fputs("usage: lwip-bench --iface NAME --addr A.B.C.D [--lifetime SECS]\n",
              stderr);
        return 2;
    }
    if ((lb_fd = lb_tap_open(iface)) < 0) {
        fprintf(stderr, "lwip-bench: %s: %s\n", iface, strerror(errno));
        return 1;
    }
    struct sigaction sa = { .sa_handler = lb_on_term };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    lb_pattern_init();
    tcpip_init(NULL, NULL);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    LOCK_TCPIP_CORE();
    netif_add(&lb_netif, &ip, &mask, &gw, NULL, lb_netif_init, ethernet_input);
    netif_set_default(&lb_netif);
    netif_set_up(&lb_netif);
    int ok = lb_listen(9, LB_DISCARD) == 0 && lb_listen(19, LB_CHARGEN) == 0 &&
             lb_listen(7, LB_ECHO) == 0;
    UNLOCK_TCPIP_CORE();
    if (!ok) {
        fputs("lwip-bench: cannot listen on 7, 9, 19\n", stderr);
        return 1;
    }
    printf("lwip-bench: ready iface=%s addr=%s lwip=%s\n", iface, addr,
           LWIP_VERSION_STRING);
    fflush(stdout);
    lb_rx_loop(lifetime);
    return 0;
}
