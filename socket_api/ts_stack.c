/* socket_api/ts_stack.c - opening and closing a stack behind the API, and
 * the stack thread: epoll on the device and an eventfd, with the next timer
 * deadline (and the fault injector's next held frame) as the time-out.
 *
 * The device is built bottom up: the TAP (or the caller's netdev), then the
 * fault injector when faults are asked for, then the capture on top, so the
 * capture shows what the stack sent and what it really received. The
 * loopback device has no descriptor to wait on: whoever holds the lock
 * takes its frames back in before letting go (ts_lo_run), and the thread
 * does not sleep while any wait there. */
#include "socket_api/ts_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/clock.h"
#include "eth/faultdev.h"
#include "eth/pcapdev.h"
#include "eth/tap.h"
#include "socket_api/ts_host.h"
#include "socket_api/ts_trace.h"

#define TS_RX_BUDGET 64
#define TS_LO_BUDGET 64         /* lo frames taken in per ts_lo_run */
#define TS_EPOLL_BATCH 64
#define TS_FLUSH_MS 1000
#define TS_CLOSE_DRAIN_MS 2000      /* ts_stack_close waits this long at most */

void ts_stack_config_init(struct ts_stack_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->iface = "tap0";
    cfg->addr = "10.0.0.2/24";
    cfg->mtu = 1500;
    cfg->log_level = TS_LOG_WARN;
    cfg->max_sockets = 1024;
    cfg->max_conns = 4096;
    cfg->sndbuf = cfg->rcvbuf = 256 * 1024;
    cfg->fault_seed = 1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void ts_open_error(const struct ts_stack_config *c, const char *fmt, ...)
{
    if (!c->errbuf || c->errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errbuf, c->errlen, fmt, ap);
    va_end(ap);
}

/* The earliest timer of the stack and of the fault injector's held frames
 * (lock held). */
static uint64_t ts_timers_deadline(struct ts_stack *st)
{
    uint64_t d = stack_next_deadline(&st->s);
    if (st->fault && !st->dev_err)
        d = ts_min_deadline(d, faultdev_next_deadline(st->fault));
    return d;
}

/* A call from an application thread arms timers (a retransmission, a
 * delayed ACK, ...) while the stack thread sleeps: waking it for each call
 * would cost two context switches a call, so the thread is only woken
 * early when a deadline now comes before its planned wake, and then by a
 * timerfd at that deadline. A stale arming only causes one spare loop. */
static void ts_wake_thread(struct ts_stack *st)
{
    uint64_t one = 1;
    st->sleeping = 0;
    if (write(st->efd, &one, sizeof one) < 0) {
        /* Cannot fail short of a full counter: the thread wakes anyway. */
    }
}

/* The thread sleeping means the caller is an application thread. It wakes
 * the thread when frames are left over (more than one call's share), and
 * when the shared host runs: a frame taken in may have been for a socket
 * a program holds, which only the stack thread serves (ts_host_run). */
unsigned ts_lo_run(struct ts_stack *st)
{
    if (!stack_lo_pending(&st->s))
        return 0;
    unsigned n = stack_rx_lo(&st->s, TS_LO_BUDGET, ts_clock_ms());
    if (st->sleeping && (st->host || stack_lo_pending(&st->s)))
        ts_wake_thread(st);
    return n;
}

void ts_kick(struct ts_stack *st)
{
    ts_lo_run(st);
    if (ts_ev_on(&st->s.ev))
        ts_ev_step(&st->s.ev, 0);   /* what the call said, and sent */
    if (!st->sleeping)
        return;                     /* it looks at the deadlines before sleeping */
    if (st->stop) {
        ts_wake_thread(st);
        return;
    }
    uint64_t d = ts_timers_deadline(st);
    if (d >= st->wake_at)
        return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(d / 1000);
    its.it_value.tv_nsec = (long)(d % 1000) * 1000000L;
    if (d == 0)
        its.it_value.tv_nsec = 1;   /* all zero would disarm it */
    if (timerfd_settime(st->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        st->wake_at = d;
}

static void ts_drain(struct ts_watch *w, uint32_t events)
{
    (void)events;
    uint64_t v;
    if (read(w->fd, &v, sizeof v) < 0) {
        /* EAGAIN: nothing left to drain. */
    }
}

static void ts_dev_ready(struct ts_watch *w, uint32_t events)
{
    (void)events;
    struct ts_stack *st = (struct ts_stack *)((char *)w - offsetof(struct ts_stack, w_dev));
    st->rx_ready = 1;
}

int ts_watch_add(struct ts_stack *st, struct ts_watch *w, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = w };
    if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0)
        return 0;
    if (errno == EEXIST && epoll_ctl(st->epfd, EPOLL_CTL_MOD, w->fd, &ev) == 0)
        return 0;
    return -errno;
}

void ts_watch_del(struct ts_stack *st, struct ts_watch *w)
{
    epoll_ctl(st->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* Sleep until a descriptor is ready or the next deadline, then run the
 * watches of what is ready (the device's only notes rx_ready). */
static void ts_thread_wait(struct ts_stack *st)
{
    uint64_t now = ts_clock_ms();
    uint64_t wake = ts_min_deadline(ts_timers_deadline(st), st->next_flush);
    int busy = st->host_busy || stack_lo_pending(&st->s);
    int timeout = wake <= now || busy ? 0
                : wake - now > 1000 ? 1000 : (int)(wake - now);
    struct epoll_event ev[TS_EPOLL_BATCH];
    st->wake_at = now + (uint64_t)timeout;
    st->sleeping = 1;
    unsigned gen = st->watch_gen;
    pthread_mutex_unlock(&st->lock);
    int n = epoll_wait(st->epfd, ev, TS_EPOLL_BATCH, timeout);
    pthread_mutex_lock(&st->lock);
    st->sleeping = 0;
    st->rx_ready = 0;
    if (gen != st->watch_gen) {     /* watches were freed meanwhile (the */
        st->rx_ready = 1;           /* host stopped): the batch may name */
        return;                     /* them; look again next round */
    }
    for (int i = 0; i < n; i++) {
        struct ts_watch *w = ev[i].data.ptr;
        w->fn(w, ev[i].events);
    }
}

/* A device that fails a read is not read again: record why, say so, and
 * take its fd out of the wait set (it would poll ready for ever). */
static void ts_thread_rx(struct ts_stack *st, uint64_t now)
{
    int rc = stack_rx(&st->s, TS_RX_BUDGET, now);
    if (rc >= 0)
        return;
    st->dev_err = -rc;
    ts_logf(&st->s.log, TS_LOG_ERROR, "the device %s failed: %s",
            st->s.dev->name, strerror(-rc));
    if (st->w_dev.fd >= 0)
        ts_watch_del(st, &st->w_dev);
}

static void *ts_thread(void *arg)
{
    struct ts_stack *st = arg;
    st->rx_ready = 1;
    pthread_mutex_lock(&st->lock);
    stack_start(&st->s, ts_clock_ms());
    while (!st->stop) {
        uint64_t now = ts_clock_ms();
        if (st->fault && !st->dev_err) {
            faultdev_poll(st->fault, now);
            /* Held RX frames that are due do not make the fd readable. */
            if (faultdev_next_deadline(st->fault) <= now)
                st->rx_ready = 1;
        }
        if (st->rx_ready && !st->dev_err)
            ts_thread_rx(st, now);
        stack_poll(&st->s, now);
        /* What calls and timers sent to ourselves, before the programs are
         * served: it may be for them. What they send waits in lo, which
         * keeps the thread from sleeping (ts_thread_wait). */
        ts_lo_run(st);
        st->host_busy = st->host ? ts_host_run(st->host) : 0;
        if (now >= st->next_flush) {
            if (st->cap)
                pcapdev_flush(st->cap);
            if (st->cap_lo)
                pcapdev_flush(st->s.lo_dev);
            ts_trace_flush(st->trace);
            st->next_flush = now + TS_FLUSH_MS;
        }
        ts_thread_wait(st);
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
    if (c->max_conns)
        sc->tcp.max_conns = c->max_conns;
    if (c->sndbuf)
        sc->tcp.sndbuf = c->sndbuf;
    if (c->congestion && !(sc->tcp.cc = tcp_cc_find(c->congestion)))
        return -EINVAL;
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

static const char *ts_open_hint(int err)
{
    switch (-err) {
    case ENOENT: return " (no /dev/net/tun: load the tun module)";
    case EPERM:
    case EACCES: return " (needs root or CAP_NET_ADMIN)";
    case EBUSY: return " (another program holds this TAP)";
    case EINVAL: return " (the name exists and is not a TAP)";
    default: return "";
    }
}

static int ts_faults_on(const struct ts_stack_config *c)
{
    return c->loss != 0.0 || c->dup != 0.0 || c->reorder != 0.0 ||
           c->corrupt != 0.0 || c->delay_ms || c->jitter_ms;
}

/* Wrap *dev in the fault injector when faults are asked for. 0 or -errno
 * (*dev is then left open). */
static int ts_wrap_faults(const struct ts_stack_config *c, struct netdev **dev,
                          struct netdev **fault)
{
    if (!ts_faults_on(c))
        return 0;
    struct faultdev_config fc;
    memset(&fc, 0, sizeof fc);
    fc.loss = c->loss;
    fc.dup = c->dup;
    fc.reorder = c->reorder;
    fc.corrupt = c->corrupt;
    fc.delay_ms = c->delay_ms;
    fc.jitter_ms = c->jitter_ms;
    fc.seed = c->fault_seed;
    if (c->fault_dir & ~TS_FAULT_BOTH)
        fc.dir = ~0u;               /* faultdev_wrap refuses it */
    else
        fc.dir = ((c->fault_dir & TS_FAULT_RX) ? FAULTDEV_RX : 0) |
                 ((c->fault_dir & TS_FAULT_TX) ? FAULTDEV_TX : 0);
    int err = 0;
    struct netdev *f = faultdev_wrap(*dev, &fc, &err);
    if (!f) {
        ts_open_error(c, "cannot set up fault injection: %s", strerror(-err));
        return err ? err : -EINVAL;
    }
    *dev = *fault = f;
    return 0;
}

/* The device: the caller's, or the TAP (with the host side configured),
 * then the fault injector and the capture when asked. NULL and *err on
 * failure (a reason in c->errbuf). */
static struct netdev *ts_open_dev(const struct ts_stack_config *c,
                                  const struct stack_config *sc,
                                  struct ts_stack *st, struct netdev **tap,
                                  int *err)
{
    struct netdev *dev = c->dev;
    unsigned tflags = c->no_offload ? 0 : TAP_OFFLOAD;
    if (!dev && !(dev = *tap = tap_open(c->iface, sc->ip.mtu, tflags, err))) {
        ts_open_error(c, "cannot open TAP %s: %s%s", c->iface,
                      strerror(-*err), ts_open_hint(*err));
        return NULL;
    }
    if (!c->dev && c->host_addr) {
        uint32_t a;
        uint8_t p;
        if (ts_ip4_prefix_parse(c->host_addr, &a, &p, 1) < 0 ||
            a == sc->ip.addr) {
            *err = -EINVAL;
            ts_open_error(c, "invalid host address '%s'", c->host_addr);
        } else if ((*err = tap_configure_host(dev->name, a, p, sc->ip.mtu)) < 0) {
            ts_open_error(c, "cannot configure %s: %s", dev->name,
                          strerror(-*err));
        }
        if (*err < 0) {
            netdev_close(dev);
            return NULL;
        }
    }
    if ((*err = ts_wrap_faults(c, &dev, &st->fault)) < 0) {
        netdev_close(dev);
        return NULL;
    }
    if (c->pcap) {
        char errbuf[256];
        struct netdev *w = pcapdev_wrap(dev, c->pcap, errbuf, sizeof errbuf);
        if (!w) {
            ts_open_error(c, "cannot write capture %s: %s", c->pcap, errbuf);
            netdev_close(dev);
            st->fault = NULL;
            *err = -EIO;
            return NULL;
        }
        dev = st->cap = w;
    }
    return dev;
}

static int ts_start_thread(struct ts_stack *st)
{
    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    st->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (st->efd < 0 || st->tfd < 0 || st->epfd < 0)
        return -errno;
    st->w_efd = (struct ts_watch){ st->efd, ts_drain };
    st->w_tfd = (struct ts_watch){ st->tfd, ts_drain };
    st->w_dev = (struct ts_watch){ netdev_fd(st->s.dev), ts_dev_ready };
    int err;
    if ((err = ts_watch_add(st, &st->w_efd, EPOLLIN)) < 0 ||
        (err = ts_watch_add(st, &st->w_tfd, EPOLLIN)) < 0)
        return err;
    if (st->w_dev.fd >= 0 && (err = ts_watch_add(st, &st->w_dev, EPOLLIN)) < 0)
        return err;
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
    if (st->tfd >= 0)
        close(st->tfd);
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
    st->efd = st->epfd = st->tfd = -1;
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

/* --trace: the JSON-lines trace as a sink of the event path; the capture
 * numbers the frames it names. 0 or -errno. */
static int ts_open_trace(const struct ts_stack_config *c, struct ts_stack *st)
{
    if (st->cap)
        pcapdev_set_events(st->cap, &st->s.ev);
    if (!c->trace)
        return 0;
    uint64_t max = (uint64_t)(c->trace_max_mb ? c->trace_max_mb : 100) << 20;
    st->trace = ts_trace_open(c->trace, max);
    if (!st->trace) {
        int err = errno;
        ts_open_error(c, "cannot write trace %s: %s", c->trace, strerror(err));
        return -err;
    }
    ts_ev_sink_add(&st->s.ev, ts_trace_sink, st->trace);
    return 0;
}

/* The sink goes before the file: removing it flushes what is pending into
 * the file, and no later flush may write into a closed one. */
static void ts_stack_trace_stop(struct ts_stack *st)
{
    if (!st->trace)
        return;
    ts_ev_sink_remove(&st->s.ev, ts_trace_sink, st->trace);
    ts_trace_close(st->trace);
    st->trace = NULL;
}

/* The TAP's offloads, in the log: one line when the kernel refused them
 * (the stack then runs plain, one frame per read and write). */
static void ts_note_offloads(struct ts_stack *st, struct netdev *tap)
{
    st->s.tap = tap;
    if (!tap)
        return;
    int why = tap_offload_error(tap);
    if (why)
        ts_logf(&st->s.log, TS_LOG_WARN, "TAP %s: the kernel refused the "
                "offloads (%s): running without them", tap->name,
                strerror(-why));
    else if (tap->flags & NETDEV_F_TSO4)
        TS_INFO(&st->s.log, "TAP %s: offloads on (partial checksums, TCP "
                "super-frames up to %u bytes)", tap->name, tap->gso_max);
}

/* --pcap-lo: lo's frames in a capture of their own. 0 or -EIO. */
static int ts_open_lo_capture(const struct ts_stack_config *c,
                              struct ts_stack *st)
{
    char errbuf[256];
    if (stack_capture_lo(&st->s, c->pcap_lo, errbuf, sizeof errbuf) < 0) {
        ts_open_error(c, "cannot write capture %s: %s", c->pcap_lo, errbuf);
        return -EIO;
    }
    st->cap_lo = 1;
    return 0;
}

struct ts_stack *ts_stack_open(const struct ts_stack_config *c)
{
    struct stack_config sc;
    int err = ts_parse_config(c, &sc);
    if (err)
        ts_open_error(c, "invalid address, gateway, MAC or MTU");
    struct ts_stack *st = err ? NULL : calloc(1, sizeof *st);
    if (!st) {
        if (!err)
            ts_open_error(c, "out of memory");
        errno = err ? -err : ENOMEM;
        if (c->dev)
            netdev_close(c->dev);
        return NULL;
    }
    unsigned nsocks = c->max_sockets ? c->max_sockets : 1024;
    if ((err = ts_stack_init_sync(st, nsocks)) < 0) {
        ts_open_error(c, "out of memory for %u sockets", nsocks);
        if (c->dev)
            netdev_close(c->dev);
        ts_stack_free(st);
        errno = -err;
        return NULL;
    }
    struct netdev *tap = NULL;
    struct netdev *dev = ts_open_dev(c, &sc, st, &tap, &err);
    if (dev && (err = stack_init(&st->s, &sc, dev)) < 0)
        ts_open_error(c, "out of memory for the buffer pool");
    else if (dev && (ts_note_offloads(st, tap), 0))
        ;
    else if (dev && c->pcap_lo && (err = ts_open_lo_capture(c, st)) < 0)
        ;
    else if (dev && (err = ts_open_trace(c, st)) < 0)
        ;
    else if (dev && (err = ts_start_thread(st)) < 0)
        ts_open_error(c, "cannot start the stack thread: %s", strerror(-err));
    if (err < 0) {
        ts_stack_trace_stop(st);
        if (dev)
            stack_destroy(&st->s);
        ts_stack_free(st);
        errno = -err;
        return NULL;
    }
    return st;
}

/* Connections the application closed just before may still hold data or
 * a FIN the peer has not acknowledged (close(2) returns before delivery).
 * Keep the stack running, for at most TS_CLOSE_DRAIN_MS, until it is
 * delivered: a program that sends, closes and exits loses nothing. */
static void ts_stack_drain(struct ts_stack *st)
{
    uint64_t deadline = ts_clock_ms() + TS_CLOSE_DRAIN_MS;
    for (;;) {
        pthread_mutex_lock(&st->lock);
        unsigned n = st->running && !st->dev_err ? tcp_draining(&st->s.tcp) : 0;
        pthread_mutex_unlock(&st->lock);
        if (n == 0 || ts_clock_ms() >= deadline)
            return;
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

void ts_stack_close(struct ts_stack *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    if (st->host)
        ts_host_stop(st->host);
    for (unsigned i = 0; i < st->nsocks; i++) {
        struct ts_sock *s = &st->socks[i];
        if (s->kind == TS_CONN && s->c)
            tcp_abort(s->c, ts_clock_ms());
        else if (s->kind == TS_UDP && s->u)
            udp_close(s->u);    /* udp_destroy frees bound sockets only */
        s->kind = TS_FREE;
        s->gen++;
        pthread_cond_broadcast(s->cond);
    }
    pthread_cond_broadcast(&st->poll_cond);
    pthread_mutex_unlock(&st->lock);
    ts_stack_drain(st);
    pthread_mutex_lock(&st->lock);
    st->stop = 1;
    ts_kick(st);
    pthread_mutex_unlock(&st->lock);
    if (st->running)
        pthread_join(st->thread, NULL);
    ts_ev_flush(&st->s.ev);
    ts_stack_trace_stop(st);
    stack_destroy(&st->s);
    ts_stack_free(st);
}

void ts_stack_counters(struct ts_stack *st, FILE *out)
{
    pthread_mutex_lock(&st->lock);
    stack_counters_print(&st->s, out);
    if (st->host)
        ts_host_counters(st->host, out);
    if (st->fault)
        ts_counters_print(out, "faults", faultdev_counter_desc,
                          faultdev_counter_count, faultdev_stats(st->fault));
    pthread_mutex_unlock(&st->lock);
}

const char *ts_stack_ifname(const struct ts_stack *st)
{
    return st->s.dev ? st->s.dev->name : "";
}

int ts_stack_error(struct ts_stack *st)
{
    pthread_mutex_lock(&st->lock);
    int err = st->dev_err;
    pthread_mutex_unlock(&st->lock);
    return err;
}
