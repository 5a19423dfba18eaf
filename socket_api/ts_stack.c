/* socket_api/ts_stack.c - opening and closing a stack behind the API, and
 * the stack thread: epoll on the device and an eventfd, with the next timer
 * deadline as the time-out. */
#include "socket_api/ts_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/clock.h"
#include "eth/pcapdev.h"
#include "eth/tap.h"

#define TS_RX_BUDGET 64
#define TS_FLUSH_MS 1000

void ts_stack_config_init(struct ts_stack_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->iface = "tap0";
    cfg->addr = "10.0.0.2/24";
    cfg->mtu = 1500;
    cfg->log_level = TS_LOG_WARN;
    cfg->max_sockets = 1024;
    cfg->sndbuf = cfg->rcvbuf = 256 * 1024;
}

void ts_kick(struct ts_stack *st)
{
    if (st->sleeping) {
        uint64_t one = 1;
        st->sleeping = 0;
        if (write(st->efd, &one, sizeof one) < 0) {
            /* Cannot fail short of a full counter: the thread wakes anyway. */
        }
    }
}

static void ts_thread_wait(struct ts_stack *st, int *rx_ready)
{
    uint64_t now = ts_clock_ms();
    uint64_t wake = ts_min_deadline(stack_next_deadline(&st->s), st->next_flush);
    int timeout = wake <= now ? 0 : wake - now > 1000 ? 1000 : (int)(wake - now);
    struct epoll_event ev[4];
    st->sleeping = 1;
    pthread_mutex_unlock(&st->lock);
    int n = epoll_wait(st->epfd, ev, 4, timeout);
    pthread_mutex_lock(&st->lock);
    st->sleeping = 0;
    *rx_ready = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == st->efd) {
            uint64_t v;
            if (read(st->efd, &v, sizeof v) < 0) {
                /* EAGAIN: someone else drained it. */
            }
        } else {
            *rx_ready = 1;
        }
    }
}

static void *ts_thread(void *arg)
{
    struct ts_stack *st = arg;
    int rx_ready = 1;
    pthread_mutex_lock(&st->lock);
    stack_start(&st->s, ts_clock_ms());
    while (!st->stop) {
        uint64_t now = ts_clock_ms();
        if (rx_ready)
            stack_rx(&st->s, TS_RX_BUDGET, now);
        stack_poll(&st->s, now);
        if (now >= st->next_flush) {
            if (st->cap)
                pcapdev_flush(st->cap);
            st->next_flush = now + TS_FLUSH_MS;
        }
        ts_thread_wait(st, &rx_ready);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

/* Strings of the public config into the internal one. 0 or -EINVAL. */
static int ts_parse_config(const struct ts_stack_config *c,
                           struct stack_config *sc)
{
    stack_config_default(sc);
    if (ts_ip4_prefix_parse(c->addr, &sc->ip.addr, &sc->ip.prefix, 1) < 0)
        return -EINVAL;
    if (c->gateway && ts_ip4_parse(c->gateway, &sc->ip.gateway) < 0)
        return -EINVAL;
    if (c->mtu < IPV4_MIN_MTU || c->mtu > 9000)
        return -EINVAL;
    sc->ip.mtu = (uint16_t)c->mtu;
    if (c->mac) {
        if (ts_mac_parse(c->mac, sc->mac) < 0 || (sc->mac[0] & 1))
            return -EINVAL;
    } else {
        sc->mac[0] = 0x02;
        sc->mac[1] = 0x00;
        for (int i = 0; i < 4; i++)
            sc->mac[2 + i] = (uint8_t)(sc->ip.addr >> (24 - 8 * i));
    }
    sc->log_level = c->log_level;
    sc->log_out = c->log ? c->log : stderr;
    if (c->sndbuf)
        sc->tcp.sndbuf = c->sndbuf;
    if (c->rcvbuf)
        sc->tcp.rcvbuf = c->rcvbuf;
    if (c->seed) {
        sc->seed = c->seed;
        sc->secret.k0 = c->seed * 0x9e3779b97f4a7c15ull;
        sc->secret.k1 = ~c->seed;
    } else if (getrandom(&sc->secret, sizeof sc->secret, 0) < 0 ||
               getrandom(&sc->seed, sizeof sc->seed, 0) < 0) {
        sc->seed = ts_clock_ms();
    }
    return 0;
}

/* The device: the caller's, or the TAP (with the host side configured),
 * wrapped in a capture when asked. NULL and *err on failure. */
static struct netdev *ts_open_dev(const struct ts_stack_config *c,
                                  const struct stack_config *sc,
                                  struct netdev **cap, int *err)
{
    struct netdev *dev = c->dev;
    if (!dev && !(dev = tap_open(c->iface, sc->ip.mtu, err)))
        return NULL;
    if (!c->dev && c->host_addr) {
        uint32_t a;
        uint8_t p;
        if (ts_ip4_prefix_parse(c->host_addr, &a, &p, 1) < 0 ||
            a == sc->ip.addr) {
            *err = -EINVAL;
        } else {
            *err = tap_configure_host(dev->name, a, p, sc->ip.mtu);
        }
        if (*err < 0) {
            netdev_close(dev);
            return NULL;
        }
    }
    if (c->pcap) {
        char errbuf[256];
        struct netdev *w = pcapdev_wrap(dev, c->pcap, errbuf, sizeof errbuf);
        if (!w) {
            netdev_close(dev);
            *err = -EIO;
            return NULL;
        }
        dev = *cap = w;
    }
    return dev;
}

static int ts_start_thread(struct ts_stack *st)
{
    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (st->efd < 0 || st->epfd < 0)
        return -errno;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = st->efd };
    if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->efd, &ev) < 0)
        return -errno;
    int dfd = netdev_fd(st->s.dev);
    ev.data.fd = dfd;
    if (dfd >= 0 && epoll_ctl(st->epfd, EPOLL_CTL_ADD, dfd, &ev) < 0)
        return -errno;
    int rc = pthread_create(&st->thread, NULL, ts_thread, st);
    if (rc)
        return -rc;
    st->running = 1;
    return 0;
}

static void ts_stack_free(struct ts_stack *st)
{
    for (unsigned i = 0; st->conds && i < st->nsocks; i++)
        pthread_cond_destroy(&st->conds[i]);
    free(st->conds);
    free(st->socks);
    if (st->efd >= 0)
        close(st->efd);
    if (st->epfd >= 0)
        close(st->epfd);
    pthread_cond_destroy(&st->poll_cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static int ts_stack_init_sync(struct ts_stack *st, unsigned nsocks)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->poll_cond, &ca);
    st->efd = st->epfd = -1;
    st->socks = calloc(nsocks, sizeof *st->socks);
    st->conds = calloc(nsocks, sizeof *st->conds);
    if (!st->socks || !st->conds) {
        pthread_condattr_destroy(&ca);
        return -ENOMEM;
    }
    st->nsocks = nsocks;
    for (unsigned i = 0; i < nsocks; i++) {
        st->socks[i].st = st;
        st->socks[i].cond = &st->conds[i];
        pthread_cond_init(&st->conds[i], &ca);
    }
    pthread_condattr_destroy(&ca);
    return 0;
}

struct ts_stack *ts_stack_open(const struct ts_stack_config *c)
{
    struct stack_config sc;
    int err = ts_parse_config(c, &sc);
    struct ts_stack *st = err ? NULL : calloc(1, sizeof *st);
    if (!st) {
        errno = err ? -err : ENOMEM;
        if (c->dev)
            netdev_close(c->dev);
        return NULL;
    }
    unsigned nsocks = c->max_sockets ? c->max_sockets : 1024;
    if ((err = ts_stack_init_sync(st, nsocks)) < 0) {
        if (c->dev)
            netdev_close(c->dev);
        ts_stack_free(st);
        errno = -err;
        return NULL;
    }
    struct netdev *dev = ts_open_dev(c, &sc, &st->cap, &err);
    if (!dev || (err = stack_init(&st->s, &sc, dev)) < 0 ||
        (err = ts_start_thread(st)) < 0) {
        if (dev)
            stack_destroy(&st->s);
        ts_stack_free(st);
        errno = -err;
        return NULL;
    }
    return st;
}

void ts_stack_close(struct ts_stack *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < st->nsocks; i++) {
        struct ts_sock *s = &st->socks[i];
        if (s->kind == TS_CONN && s->c)
            tcp_abort(s->c, ts_clock_ms());
        s->kind = TS_FREE;
        s->gen++;
        pthread_cond_broadcast(s->cond);
    }
    pthread_cond_broadcast(&st->poll_cond);
    st->stop = 1;
    ts_kick(st);
    pthread_mutex_unlock(&st->lock);
    if (st->running)
        pthread_join(st->thread, NULL);
    stack_destroy(&st->s);
    ts_stack_free(st);
}

void ts_stack_counters(struct ts_stack *st, FILE *out)
{
    pthread_mutex_lock(&st->lock);
    stack_counters_print(&st->s, out);
    pthread_mutex_unlock(&st->lock);
}
