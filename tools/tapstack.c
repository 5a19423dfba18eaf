/* tools/tapstack.c - the program people run: the stack on a TAP device.
 *
 * Parses options, opens (or creates) the TAP, optionally configures the
 * kernel's side of it, wraps it in a pcap capture, and runs the event loop:
 * wait on the TAP fd until the next timer deadline, read frames, run timers.
 * SIGINT/SIGTERM stop it (capture flushed, counters printed); SIGUSR1 prints
 * the counters and carries on. Signals are blocked except inside ppoll(), so
 * one arriving between a check and the wait cannot be lost.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/clock.h"
#include "eth/faultdev.h"
#include "eth/pcapdev.h"
#include "eth/tap.h"
#include "socket_api/services.h"
#include "socket_api/stack.h"

#include <sys/random.h>

#define TAPSTACK_VERSION "0.1.0"
#define TAPSTACK_RX_BUDGET 64       /* frames per wake-up before timers run */
#define TAPSTACK_FLUSH_MS 1000      /* capture flushed at least this often */
#define TAPSTACK_MTU_MAX 9000

struct tapstack_opts {
    const char *iface;
    const char *pcap;
    int have_host;
    uint32_t host_addr;
    uint8_t host_prefix;
    int have_mac;
    unsigned services;          /* SERVICES_* mask */
    int have_faults;
    struct faultdev_config faults;
    struct stack_config cfg;
};

static volatile sig_atomic_t tapstack_stop, tapstack_dump;

static void tapstack_on_signal(int sig)
{
    if (sig == SIGUSR1)
        tapstack_dump = 1;
    else
        tapstack_stop = 1;
}

static void tapstack_usage(FILE *out)
{
    fprintf(out,
"Usage: tapstack [OPTION]...\n"
"Run the tapstack TCP/IP stack as a host on a Linux TAP device.\n"
"\n"
"It answers ARP, ICMP echo (ping) and TCP for its address and runs the TCP\n"
"services echo (7), discard (9), daytime (13) and chargen (19) until SIGINT\n"
"or SIGTERM, then flushes the capture and prints its counters (like\n"
"`netstat -s`).\n"
"SIGUSR1 prints the counters without stopping. Needs CAP_NET_ADMIN.\n"
"\n"
"  -i, --iface NAME         TAP device to attach to or create (default tap0)\n"
"  -a, --addr A.B.C.D/N     the stack's address and subnet (default 10.0.0.2/24)\n"
"  -H, --host-addr A.B.C.D/N\n"
"                           give the kernel's side of the TAP this address, set\n"
"                           its MTU, turn IPv6 off on it and bring it up\n"
"  -g, --gateway A.B.C.D    default route for off-link destinations\n"
"  -m, --mac XX:XX:XX:XX:XX:XX\n"
"                           the stack's MAC (default 02:00 + the IPv4 address)\n"
"  -M, --mtu N              largest IP datagram per frame, 68..%d (default 1500)\n"
"  -w, --pcap FILE          capture every frame in and out to FILE (pcap)\n"
"  -s, --services LIST      TCP services to run: comma-separated names from\n"
"                           echo, discard, daytime, chargen; or all, none\n"
"                           (default all)\n"
"      --no-services        the same as --services none\n"
"\n"
"Fault injection (a seeded netem inside the stack; the capture shows what\n"
"the stack sent and what it received after the faults):\n"
"      --loss P             drop each frame with probability P (0..1)\n"
"      --dup P              duplicate each frame with probability P\n"
"      --reorder P          hold a frame back behind the next one, probability P\n"
"      --corrupt P          flip one bit past the Ethernet header, probability P\n"
"      --delay MS           delay every frame MS milliseconds (0..10000)\n"
"      --jitter MS          add a random 0..MS to each delay\n"
"      --fault-dir DIR      rx, tx or both (default both)\n"
"      --seed N             seed of the fault injector (default 1)\n"
"  -v, --verbose            more log output on stderr (repeat for debug)\n"
"  -V, --version            print the version and exit\n"
"  -h, --help               print this help and exit\n"
"\n"
"Example, in a private network namespace (as root):\n"
"  ip netns add demo\n"
"  ip netns exec demo tapstack --iface tap0 --host-addr 10.0.0.1/24 \\\n"
"      --addr 10.0.0.2/24 --pcap demo.pcap &\n"
"  ip netns exec demo ping -c 3 10.0.0.2\n"
"\n"
"Exit status: 0 after a signal, 1 on a device error, 2 on bad arguments or\n"
"when the TAP cannot be opened.\n", TAPSTACK_MTU_MAX);
}

static int tapstack_bad(const char *what, const char *arg)
{
    fprintf(stderr, "tapstack: invalid %s '%s' (try --help)\n", what, arg);
    return 2;
}

static int tapstack_parse_mtu(const char *s, uint16_t *mtu)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < IPV4_MIN_MTU || v > TAPSTACK_MTU_MAX)
        return -EINVAL;
    *mtu = (uint16_t)v;
    return 0;
}

/* "echo,discard", "all" or "none" into a SERVICES_* mask. */
static int tapstack_parse_services(const char *arg, unsigned *mask)
{
    static const char *const names[] = { "echo", "discard", "daytime", "chargen" };
    char buf[128];
    if (strlen(arg) >= sizeof buf)
        return -EINVAL;
    snprintf(buf, sizeof buf, "%s", arg);
    *mask = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned bit = 0;
        if (strcmp(w, "all") == 0)
            bit = SERVICES_ALL;
        else if (strcmp(w, "none") == 0)
            bit = 0;
        for (unsigned i = 0; i < 4; i++)
            if (strcmp(w, names[i]) == 0)
                bit = 1u << i;
        if (!bit && strcmp(w, "none") != 0)
            return -EINVAL;
        *mask |= bit;
    }
    return 0;
}

static int tapstack_parse_prob(const char *s, double *p)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0))
        return -EINVAL;
    *p = v;
    return 0;
}

static int tapstack_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > max)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* Fault-injection options (long only); 0 or an exit code. */
static int tapstack_fault_option(struct tapstack_opts *o, int c, const char *arg)
{
    struct faultdev_config *f = &o->faults;
    uint32_t v;
    o->have_faults = 1;
    switch (c) {
    case 1: return tapstack_parse_prob(arg, &f->loss) < 0 ? tapstack_bad("--loss (0..1)", arg) : 0;
    case 2: return tapstack_parse_prob(arg, &f->dup) < 0 ? tapstack_bad("--dup (0..1)", arg) : 0;
    case 3: return tapstack_parse_prob(arg, &f->reorder) < 0 ? tapstack_bad("--reorder (0..1)", arg) : 0;
    case 4: return tapstack_parse_prob(arg, &f->corrupt) < 0 ? tapstack_bad("--corrupt (0..1)", arg) : 0;
    case 5: return tapstack_parse_u32(arg, FAULTDEV_MAX_DELAY_MS, &f->delay_ms) < 0
                       ? tapstack_bad("--delay (0..10000 ms)", arg) : 0;
    case 6: return tapstack_parse_u32(arg, FAULTDEV_MAX_DELAY_MS, &f->jitter_ms) < 0
                       ? tapstack_bad("--jitter (0..10000 ms)", arg) : 0;
    case 7:
        if (tapstack_parse_u32(arg, UINT32_MAX, &v) < 0)
            return tapstack_bad("--seed", arg);
        f->seed = v;
        return 0;
    default:
        if (strcmp(arg, "rx") == 0)
            f->dir = FAULTDEV_RX;
        else if (strcmp(arg, "tx") == 0)
            f->dir = FAULTDEV_TX;
        else if (strcmp(arg, "both") == 0)
            f->dir = FAULTDEV_BOTH;
        else
            return tapstack_bad("--fault-dir (rx, tx, both)", arg);
        return 0;
    }
}

/* One option; 0 to go on, -1 to exit 0 (help/version), else an exit code. */
static int tapstack_option(struct tapstack_opts *o, int c, const char *arg)
{
    struct ipv4_config *ip = &o->cfg.ip;
    switch (c) {
    case 'i':
        if (!*arg || strlen(arg) >= NETDEV_NAMELEN)
            return tapstack_bad("interface name", arg);
        o->iface = arg;
        return 0;
    case 'a':
        return ts_ip4_prefix_parse(arg, &ip->addr, &ip->prefix, 1) < 0
                   ? tapstack_bad("--addr (want A.B.C.D/N)", arg) : 0;
    case 'H':
        o->have_host = 1;
        return ts_ip4_prefix_parse(arg, &o->host_addr, &o->host_prefix, 1) < 0
                   ? tapstack_bad("--host-addr (want A.B.C.D/N)", arg) : 0;
    case 'g':
        return ts_ip4_parse(arg, &ip->gateway) < 0
                   ? tapstack_bad("--gateway", arg) : 0;
    case 'm':
        o->have_mac = 1;
        return ts_mac_parse(arg, o->cfg.mac) < 0 ? tapstack_bad("--mac", arg) : 0;
    case 'M':
        return tapstack_parse_mtu(arg, &ip->mtu) < 0
                   ? tapstack_bad("--mtu (68..9000)", arg) : 0;
    case 'w':
        o->pcap = arg;
        return 0;
    case 's':
        return tapstack_parse_services(arg, &o->services) < 0
                   ? tapstack_bad("--services", arg) : 0;
    case 'S':
        o->services = 0;
        return 0;
    case 'v':
        o->cfg.log_level++;
        return 0;
    case 'V':
        printf("tapstack " TAPSTACK_VERSION "\n");
        return -1;
    case 'h':
        tapstack_usage(stdout);
        return -1;
    default:
        if (c >= 1 && c <= 8)
            return tapstack_fault_option(o, c, arg);
        fprintf(stderr, "tapstack: unknown option (try --help)\n");
        return 2;
    }
}

/* Cross-option checks: what each option alone cannot see. */
static int tapstack_check(struct tapstack_opts *o)
{
    struct ipv4_config *ip = &o->cfg.ip;
    char a[TS_IP4_STRLEN];
    uint32_t top = ip->addr >> 24;
    if (top == 0 || top == 127 || top >= 224 || ip->prefix > 30 ||
        (ip->addr & ~ts_ip4_mask(ip->prefix)) == 0 ||
        (ip->addr | ts_ip4_mask(ip->prefix)) == 0xffffffffu)
        return tapstack_bad("--addr (not a usable host address)",
                            ts_ip4_fmt(ip->addr, a));
    if (o->have_host && o->host_addr == ip->addr) {
        fprintf(stderr, "tapstack: --host-addr must differ from --addr\n");
        return 2;
    }
    if (ip->gateway && (ip->gateway & ts_ip4_mask(ip->prefix)) !=
                           (ip->addr & ts_ip4_mask(ip->prefix)))
        return tapstack_bad("--gateway (not on the --addr subnet)",
                            ts_ip4_fmt(ip->gateway, a));
    if (!o->have_mac) {     /* locally administered, unicast: 02:00:a.b.c.d */
        o->cfg.mac[0] = 0x02;
        o->cfg.mac[1] = 0x00;
        for (int i = 0; i < 4; i++)
            o->cfg.mac[2 + i] = (uint8_t)(ip->addr >> (24 - 8 * i));
    }
    if (o->cfg.mac[0] & 1)
        return tapstack_bad("--mac (multicast)", "");
    return 0;
}

static int tapstack_parse(struct tapstack_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "iface", required_argument, NULL, 'i' },
        { "addr", required_argument, NULL, 'a' },
        { "host-addr", required_argument, NULL, 'H' },
        { "gateway", required_argument, NULL, 'g' },
        { "mac", required_argument, NULL, 'm' },
        { "mtu", required_argument, NULL, 'M' },
        { "pcap", required_argument, NULL, 'w' },
        { "services", required_argument, NULL, 's' },
        { "no-services", no_argument, NULL, 'S' },
        { "loss", required_argument, NULL, 1 },
        { "dup", required_argument, NULL, 2 },
        { "reorder", required_argument, NULL, 3 },
        { "corrupt", required_argument, NULL, 4 },
        { "delay", required_argument, NULL, 5 },
        { "jitter", required_argument, NULL, 6 },
        { "seed", required_argument, NULL, 7 },
        { "fault-dir", required_argument, NULL, 8 },
        { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->iface = "tap0";
    o->services = SERVICES_ALL;
    o->faults.seed = 1;
    stack_config_default(&o->cfg);
    /* RFC 6528: the ISN secret must be unpredictable; tests fix theirs. */
    if (getrandom(&o->cfg.secret, sizeof o->cfg.secret, 0) !=
        (ssize_t)sizeof o->cfg.secret)
        o->cfg.secret.k1 ^= (uint64_t)ts_clock_ms() ^ (uint64_t)getpid() << 32;
    getrandom(&o->cfg.seed, sizeof o->cfg.seed, GRND_NONBLOCK);
    o->cfg.log_out = stderr;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":i:a:H:g:m:M:w:s:vVh", longopts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            fprintf(stderr, "tapstack: %s '%s' (try --help)\n",
                    c == ':' ? "missing argument for" : "unknown option",
                    argv[optind - 1]);
            return 2;
        }
        int rc = tapstack_option(o, c, optarg);
        if (rc)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "tapstack: unexpected argument '%s' (try --help)\n",
                argv[optind]);
        return 2;
    }
    return tapstack_check(o);
}

static const char *tapstack_open_hint(int err)
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

/* The device stack: TAP, then the fault injector, then the capture on top,
 * so the capture shows what the stack sent and what it really received. */
struct tapstack_devs {
    struct netdev *top;         /* what the stack uses */
    struct netdev *cap;         /* pcap wrapper, or NULL */
    struct netdev *fault;       /* fault injector, or NULL */
};

static int tapstack_wrap_faults(const struct tapstack_opts *o,
                                struct tapstack_devs *d)
{
    if (!o->have_faults)
        return 0;
    int err = 0;
    struct netdev *f = faultdev_wrap(d->top, &o->faults, &err);
    if (!f) {
        fprintf(stderr, "tapstack: cannot set up fault injection: %s\n",
                strerror(-err));
        return -1;
    }
    d->top = d->fault = f;
    return 0;
}

/* Open the TAP, configure the host side, wrap faults and capture.
 * -1: exit 2 (the message is printed). */
static int tapstack_open_dev(const struct tapstack_opts *o,
                             struct tapstack_devs *d)
{
    int err = 0;
    memset(d, 0, sizeof *d);
    d->top = tap_open(o->iface, o->cfg.ip.mtu, &err);
    if (!d->top) {
        fprintf(stderr, "tapstack: cannot open TAP %s: %s%s\n", o->iface,
                strerror(-err), tapstack_open_hint(err));
        return -1;
    }
    if (o->have_host) {
        err = tap_configure_host(d->top->name, o->host_addr, o->host_prefix,
                                 o->cfg.ip.mtu);
        if (err < 0) {
            fprintf(stderr, "tapstack: cannot configure %s: %s\n",
                    d->top->name, strerror(-err));
            goto fail;
        }
    }
    if (tapstack_wrap_faults(o, d) < 0)
        goto fail;
    if (o->pcap) {
        char errbuf[256];
        struct netdev *cap = pcapdev_wrap(d->top, o->pcap, errbuf, sizeof errbuf);
        if (!cap) {
            fprintf(stderr, "tapstack: cannot write capture %s: %s\n", o->pcap,
                    errbuf);
            goto fail;
        }
        d->top = d->cap = cap;
    }
    return 0;
fail:
    netdev_close(d->top);
    return -1;
}

static void tapstack_signals(sigset_t *waitmask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tapstack_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, waitmask);
    sigdelset(waitmask, SIGINT);
    sigdelset(waitmask, SIGTERM);
    sigdelset(waitmask, SIGUSR1);
}

static void tapstack_print(struct stack *s, const struct tapstack_devs *d)
{
    stack_counters_print(s, stdout);
    if (d->fault)
        ts_counters_print(stdout, "faults", faultdev_counter_desc,
                          faultdev_counter_count, faultdev_stats(d->fault));
    fflush(stdout);
}

static int tapstack_run(struct stack *s, const struct tapstack_devs *d)
{
    sigset_t waitmask;
    tapstack_signals(&waitmask);
    struct pollfd pfd = { .fd = netdev_fd(s->dev), .events = POLLIN };
    uint64_t now = ts_clock_ms(), next_flush = now + TAPSTACK_FLUSH_MS;
    stack_start(s, now);
    while (!tapstack_stop) {
        if (d->fault)
            faultdev_poll(d->fault, now);
        uint64_t wake = ts_min_deadline(stack_next_deadline(s), next_flush);
        if (d->fault)
            wake = ts_min_deadline(wake, faultdev_next_deadline(d->fault));
        uint64_t wait = wake > now ? wake - now : 0;
        struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };
        int n = ppoll(&pfd, 1, &ts, &waitmask);
        now = ts_clock_ms();
        if (n < 0 && errno != EINTR) {
            perror("tapstack: ppoll");
            return 1;
        }
        if (d->fault)
            faultdev_poll(d->fault, now);
        /* Frames the injector held back do not make the fd readable. */
        int held_due = d->fault && faultdev_next_deadline(d->fault) <= now;
        if (((n > 0 && (pfd.revents & POLLIN)) || held_due) &&
            stack_rx(s, TAPSTACK_RX_BUDGET, now) < 0) {
            fprintf(stderr, "tapstack: the TAP device failed\n");
            return 1;
        }
        stack_poll(s, now);
        if (d->cap && now >= next_flush)
            pcapdev_flush(d->cap);
        if (now >= next_flush)
            next_flush = now + TAPSTACK_FLUSH_MS;
        if (tapstack_dump) {
            tapstack_dump = 0;
            tapstack_print(s, d);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct tapstack_opts o;
    int rc = tapstack_parse(&o, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct tapstack_devs devs;
    if (tapstack_open_dev(&o, &devs) < 0)
        return 2;
    struct netdev *dev = devs.top;
    struct stack *s = malloc(sizeof *s);
    if (!s || stack_init(s, &o.cfg, dev) < 0) {
        fprintf(stderr, "tapstack: out of memory for the buffer pool\n");
        if (!s)
            netdev_close(dev);
        free(s);
        return 1;
    }
    int err = 0;
    struct services *sv = NULL;
    if (o.services && !(sv = services_start(s, o.services, &err))) {
        fprintf(stderr, "tapstack: cannot start services: %s\n", strerror(-err));
        stack_destroy(s);
        free(s);
        return 1;
    }
    char a[TS_IP4_STRLEN], m[TS_MAC_STRLEN];
    printf("tapstack: ready on %s: %s/%u mac %s mtu %u%s%s\n", dev->name,
           ts_ip4_fmt(o.cfg.ip.addr, a), o.cfg.ip.prefix,
           ts_mac_fmt(o.cfg.mac, m), o.cfg.ip.mtu, o.pcap ? ", capture " : "",
           o.pcap ? o.pcap : "");
    fflush(stdout);
    rc = tapstack_run(s, &devs);
    tapstack_print(s, &devs);
    services_stop(sv);
    stack_destroy(s);       /* closes the capture: the file is complete */
    free(s);
    return rc;
}
