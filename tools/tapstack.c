/* tools/tapstack.c - the program people run: the stack on a TAP device,
 * with its services, all on the public API.
 *
 * Parses and checks the options, fills a struct ts_stack_config (TAP, host
 * side, fault injection, capture), opens the stack (ts_stack_open: the
 * stack runs in a thread of its own), starts the services (ts_services:
 * echo, discard, daytime, chargen, UDP echo and daytime, HTTP) and then
 * only waits for signals: SIGINT/SIGTERM stop it (services stopped,
 * counters printed, capture flushed by ts_stack_close); SIGUSR1 prints the
 * counters and carries on. The signals are blocked in every thread (the
 * mask is set before any thread starts) and taken with sigtimedwait(), so
 * none is lost and no handler runs in the middle of anything.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/addr.h"
#include "socket_api/tapstack.h"
#include "tools/lib/ts_services.h"

#define TAPSTACK_VERSION "0.1.0"
#define TAPSTACK_MTU_MIN 68
#define TAPSTACK_MTU_MAX 9000
#define TAPSTACK_DELAY_MAX 10000u   /* ms, for --delay and --jitter */
#define TAPSTACK_CHECK_MS 200       /* how often the device's health is read */

struct tapstack_opts {
    const char *iface;
    const char *pcap;
    const char *pcap_lo;
    uint32_t addr;
    uint8_t prefix;
    uint32_t gateway;
    int have_host;
    uint32_t host_addr;
    uint8_t host_prefix;
    int have_mac;
    uint8_t mac[6];
    uint16_t mtu;
    int log_level;
    unsigned services;          /* TS_SERVICE_* mask */
    const char *http_root;
    const char *ctl;            /* control socket name, NULL: none */
    char ctl_buf[64];           /* the default "@tapstack/IFACE" */
    struct ts_stack_config cfg; /* the fault options go straight here */
};

static void tapstack_usage(FILE *out)
{
    fprintf(out,
"Usage: tapstack [OPTION]...\n"
"Run the tapstack TCP/IP stack as a host on a Linux TAP device.\n"
"\n"
"It answers ARP, ICMP echo (ping), TCP and UDP for its address and runs the\n"
"services echo (TCP and UDP 7), discard (9), daytime (TCP and UDP 13),\n"
"chargen (19) and HTTP (80) on its own socket API until SIGINT or SIGTERM,\n"
"then flushes the capture and prints its counters (like `netstat -s`).\n"
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
"      --no-offload         open the TAP without its offloads (virtio-net\n"
"                           header, partial checksums, 64 KB TCP super-frames\n"
"                           both ways): one 1,500-byte frame per read/write\n"
"  -w, --pcap FILE          capture every frame in and out to FILE (pcap)\n"
"      --trace FILE         write every event (drops, state changes,\n"
"                           retransmissions and their cause, cwnd/RTO/window\n"
"                           changes, ARP, ICMP...) to FILE as JSON lines, each\n"
"                           naming the --pcap frames involved; - for stdout\n"
"      --trace-max-mb N     stop the trace at N MiB, 1..65536 (default 100)\n"
"      --pcap-lo FILE       capture the loopback interface (lo, 127.0.0.1/8:\n"
"                           the stack's programs talking to each other) to\n"
"                           FILE, each frame once; no checksums there\n"
"  -s, --services LIST      services to run: comma-separated names from\n"
"                           echo, discard, daytime, chargen (TCP), udp (UDP\n"
"                           echo and daytime), http; or all, none (default all)\n"
"      --no-services        the same as --services none\n"
"      --http-root DIR      the HTTP server serves the files of DIR (default:\n"
"                           a built-in page at /)\n"
"      --ctl NAME           serve programs started with tapstack-run on the\n"
"                           control socket NAME: @NAME is an abstract socket,\n"
"                           private to the network namespace; else a file\n"
"                           path, made with mode 0600 (default @tapstack/IFACE)\n"
"      --no-ctl             serve no programs\n"
"      --max-sockets N      sockets of the services and programs together,\n"
"                           16..1048576 (default 1024)\n"
"      --max-conns N        TCP connections in the table, TIME-WAIT included,\n"
"                           16..1048576 (default 4096; about 1 KiB each when\n"
"                           idle)\n"
"      --cc NAME            TCP congestion control: cubic (RFC 9438, the\n"
"                           default) or newreno (RFC 5681/6582, \"reno\");\n"
"                           a program may change its own with TCP_CONGESTION\n"
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
"  ip netns exec demo curl http://10.0.0.2/\n"
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
    if (errno || end == s || *end || v < TAPSTACK_MTU_MIN || v > TAPSTACK_MTU_MAX)
        return -EINVAL;
    *mtu = (uint16_t)v;
    return 0;
}

/* "echo,discard", "all" or "none" into a TS_SERVICE_* mask. */
static int tapstack_parse_services(const char *arg, unsigned *mask)
{
    /* In the order of the TS_SERVICE_* bits. */
    static const char *const names[] = { "echo", "discard", "daytime",
                                         "chargen", "udp", "http" };
    char buf[128];
    if (strlen(arg) >= sizeof buf)
        return -EINVAL;
    snprintf(buf, sizeof buf, "%s", arg);
    *mask = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned bit = 0;
        if (strcmp(w, "all") == 0)
            bit = TS_SERVICE_ALL;
        else if (strcmp(w, "none") == 0)
            bit = 0;
        for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
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
    struct ts_stack_config *f = &o->cfg;
    uint32_t v;
    switch (c) {
    case 1: return tapstack_parse_prob(arg, &f->loss) < 0 ? tapstack_bad("--loss (0..1)", arg) : 0;
    case 2: return tapstack_parse_prob(arg, &f->dup) < 0 ? tapstack_bad("--dup (0..1)", arg) : 0;
    case 3: return tapstack_parse_prob(arg, &f->reorder) < 0 ? tapstack_bad("--reorder (0..1)", arg) : 0;
    case 4: return tapstack_parse_prob(arg, &f->corrupt) < 0 ? tapstack_bad("--corrupt (0..1)", arg) : 0;
    case 5:
    case 6:
        if (tapstack_parse_u32(arg, TAPSTACK_DELAY_MAX, &v) < 0)
            return tapstack_bad(c == 5 ? "--delay (0..10000 ms)"
                                       : "--jitter (0..10000 ms)", arg);
        *(c == 5 ? &f->delay_ms : &f->jitter_ms) = v;
        return 0;
    case 7:
        if (tapstack_parse_u32(arg, UINT32_MAX, &v) < 0)
            return tapstack_bad("--seed", arg);
        f->fault_seed = v;
        return 0;
    default:
        if (strcmp(arg, "rx") == 0)
            f->fault_dir = TS_FAULT_RX;
        else if (strcmp(arg, "tx") == 0)
            f->fault_dir = TS_FAULT_TX;
        else if (strcmp(arg, "both") == 0)
            f->fault_dir = TS_FAULT_BOTH;
        else
            return tapstack_bad("--fault-dir (rx, tx, both)", arg);
        return 0;
    }
}

/* One option; 0 to go on, -1 to exit 0 (help/version), else an exit code. */
static int tapstack_option(struct tapstack_opts *o, int c, const char *arg)
{
    struct stat sb;
    switch (c) {
    case 'i':
        if (!*arg || strlen(arg) >= IFNAMSIZ)
            return tapstack_bad("interface name", arg);
        o->iface = arg;
        return 0;
    case 'a':
        return ts_ip4_prefix_parse(arg, &o->addr, &o->prefix, 1) < 0
                   ? tapstack_bad("--addr (want A.B.C.D/N)", arg) : 0;
    case 'H':
        o->have_host = 1;
        return ts_ip4_prefix_parse(arg, &o->host_addr, &o->host_prefix, 1) < 0
                   ? tapstack_bad("--host-addr (want A.B.C.D/N)", arg) : 0;
    case 'g':
        return ts_ip4_parse(arg, &o->gateway) < 0
                   ? tapstack_bad("--gateway", arg) : 0;
    case 'm':
        o->have_mac = 1;
        return ts_mac_parse(arg, o->mac) < 0 ? tapstack_bad("--mac", arg) : 0;
    case 'M':
        return tapstack_parse_mtu(arg, &o->mtu) < 0
                   ? tapstack_bad("--mtu (68..9000)", arg) : 0;
    case 'w':
        o->pcap = arg;
        return 0;
    case 14:
        o->cfg.no_offload = 1;
        return 0;
    case 13:
        o->pcap_lo = arg;
        return 0;
    case 16:
        o->cfg.trace = arg;
        return 0;
    case 17:
        return tapstack_parse_u32(arg, 65536, &o->cfg.trace_max_mb) < 0 ||
                       o->cfg.trace_max_mb == 0
                   ? tapstack_bad("--trace-max-mb (1..65536)", arg) : 0;
    case 's':
        return tapstack_parse_services(arg, &o->services) < 0
                   ? tapstack_bad("--services", arg) : 0;
    case 'S':
        o->services = 0;
        return 0;
    case 'v':
        o->log_level++;
        return 0;
    case 9:
        if (stat(arg, &sb) < 0 || !S_ISDIR(sb.st_mode))
            return tapstack_bad("--http-root (not a directory)", arg);
        o->http_root = arg;
        return 0;
    case 10:
        if (strlen(arg) < 2 || strlen(arg) >= 100)
            return tapstack_bad("--ctl (2 to 99 characters)", arg);
        o->ctl = arg;
        return 0;
    case 11:
        o->ctl = NULL;
        return 0;
    case 12:
        return tapstack_parse_u32(arg, 1u << 20, &o->cfg.max_sockets) < 0 ||
                       o->cfg.max_sockets < 16
                   ? tapstack_bad("--max-sockets (16..1048576)", arg) : 0;
    case 15:
        return tapstack_parse_u32(arg, 1u << 20, &o->cfg.max_conns) < 0 ||
                       o->cfg.max_conns < 16
                   ? tapstack_bad("--max-conns (16..1048576)", arg) : 0;
    case 30:
        if (strcmp(arg, "cubic") && strcmp(arg, "newreno") && strcmp(arg, "reno"))
            return tapstack_bad("--cc (cubic, newreno or reno)", arg);
        o->cfg.congestion = arg;
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
    char a[TS_IP4_STRLEN];
    uint32_t top = o->addr >> 24;
    if (top == 0 || top == 127 || top >= 224 || o->prefix > 30 ||
        (o->addr & ~ts_ip4_mask(o->prefix)) == 0 ||
        (o->addr | ts_ip4_mask(o->prefix)) == 0xffffffffu)
        return tapstack_bad("--addr (not a usable host address)",
                            ts_ip4_fmt(o->addr, a));
    if (o->have_host && o->host_addr == o->addr) {
        fprintf(stderr, "tapstack: --host-addr must differ from --addr\n");
        return 2;
    }
    if (o->gateway && (o->gateway & ts_ip4_mask(o->prefix)) !=
                          (o->addr & ts_ip4_mask(o->prefix)))
        return tapstack_bad("--gateway (not on the --addr subnet)",
                            ts_ip4_fmt(o->gateway, a));
    if (!o->have_mac) {     /* locally administered, unicast: 02:00:a.b.c.d */
        o->mac[0] = 0x02;
        o->mac[1] = 0x00;
        for (int i = 0; i < 4; i++)
            o->mac[2 + i] = (uint8_t)(o->addr >> (24 - 8 * i));
    }
    if (o->mac[0] & 1)
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
        { "no-offload", no_argument, NULL, 14 },
        { "pcap-lo", required_argument, NULL, 13 },
        { "trace", required_argument, NULL, 16 },
        { "trace-max-mb", required_argument, NULL, 17 },
        { "services", required_argument, NULL, 's' },
        { "no-services", no_argument, NULL, 'S' },
        { "http-root", required_argument, NULL, 9 },
        { "ctl", required_argument, NULL, 10 },
        { "no-ctl", no_argument, NULL, 11 },
        { "max-sockets", required_argument, NULL, 12 },
        { "max-conns", required_argument, NULL, 15 },
        { "cc", required_argument, NULL, 30 },
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
    o->addr = 0x0a000002u;          /* 10.0.0.2/24 */
    o->prefix = 24;
    o->mtu = 1500;
    o->log_level = 1;               /* warnings */
    o->services = TS_SERVICE_ALL;
    ts_stack_config_init(&o->cfg);  /* fault injection off, seed 1 */
    o->ctl = "";                    /* the default, once --iface is known */
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
    if (o->ctl && !*o->ctl) {
        snprintf(o->ctl_buf, sizeof o->ctl_buf, "@tapstack/%s", o->iface);
        o->ctl = o->ctl_buf;
    }
    return tapstack_check(o);
}

/* The checked options as the stack's configuration. The strings are
 * written back from the parsed values into bufs, which must outlive
 * ts_stack_open. The ISN secret and the stack's seed are random (seed 0). */
struct tapstack_bufs {
    char addr[TS_IP4_STRLEN + 4], host[TS_IP4_STRLEN + 4];
    char gateway[TS_IP4_STRLEN], mac[TS_MAC_STRLEN];
    char err[256];
};

static void tapstack_config(const struct tapstack_opts *o,
                            struct ts_stack_config *cfg, struct tapstack_bufs *b)
{
    char a[TS_IP4_STRLEN];
    *cfg = o->cfg;                  /* the defaults and the fault options */
    cfg->iface = o->iface;
    snprintf(b->addr, sizeof b->addr, "%s/%u", ts_ip4_fmt(o->addr, a), o->prefix);
    cfg->addr = b->addr;
    if (o->gateway)
        cfg->gateway = ts_ip4_fmt(o->gateway, b->gateway);
    if (o->have_host) {
        snprintf(b->host, sizeof b->host, "%s/%u", ts_ip4_fmt(o->host_addr, a),
                 o->host_prefix);
        cfg->host_addr = b->host;
    }
    cfg->mac = ts_mac_fmt(o->mac, b->mac);
    cfg->mtu = o->mtu;
    cfg->pcap = o->pcap;
    cfg->pcap_lo = o->pcap_lo;
    cfg->log_level = o->log_level;
    cfg->log = stderr;
    cfg->seed = 0;
    b->err[0] = '\0';
    cfg->errbuf = b->err;
    cfg->errlen = sizeof b->err;
}

/* SIGINT, SIGTERM and SIGUSR1, blocked in this thread and so in every
 * thread started after: they wait for sigtimedwait(). */
static void tapstack_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void tapstack_print(struct ts_stack *st)
{
    ts_stack_counters(st, stdout);
    fflush(stdout);
}

/* Wait for a stop signal (0) or a failed device (1); SIGUSR1 prints the
 * counters on the way. */
static int tapstack_wait(struct ts_stack *st, const sigset_t *set)
{
    for (;;) {
        struct timespec ts = { 0, TAPSTACK_CHECK_MS * 1000000L };
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGUSR1) {
            tapstack_print(st);
        } else if (sig == SIGINT || sig == SIGTERM) {
            return 0;
        } else if (ts_stack_error(st)) {
            fprintf(stderr, "tapstack: the TAP device failed\n");
            return 1;
        }
    }
}

int main(int argc, char **argv)
{
    struct tapstack_opts o;
    int rc = tapstack_parse(&o, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct ts_stack_config cfg;
    struct tapstack_bufs bufs;
    tapstack_config(&o, &cfg, &bufs);
    sigset_t set;
    tapstack_block_signals(&set);
    struct ts_stack *st = ts_stack_open(&cfg);
    if (!st) {
        int err = errno;
        fprintf(stderr, "tapstack: %s\n", bufs.err[0] ? bufs.err : strerror(err));
        return err == ENOMEM ? 1 : 2;
    }
    if (o.ctl && ts_stack_serve(st, o.ctl) < 0) {
        fprintf(stderr, "tapstack: cannot serve programs on %s: %s%s\n", o.ctl,
                strerror(errno), errno == EADDRINUSE
                    ? " (another tapstack serves it: pick another --ctl)" : "");
        ts_stack_close(st);
        return 2;
    }
    struct ts_services *sv = NULL;
    if (o.services && !(sv = ts_services_start(st, o.services, o.http_root))) {
        fprintf(stderr, "tapstack: cannot start services: %s\n", strerror(errno));
        ts_stack_close(st);
        return 1;
    }
    char a[TS_IP4_STRLEN], m[TS_MAC_STRLEN];
    printf("tapstack: ready on %s: %s/%u mac %s mtu %u, lo 127.0.0.1/8%s%s%s%s"
           "%s%s\n",
           ts_stack_ifname(st), ts_ip4_fmt(o.addr, a), o.prefix,
           ts_mac_fmt(o.mac, m), o.mtu, o.pcap ? ", capture " : "",
           o.pcap ? o.pcap : "", o.pcap_lo ? ", lo capture " : "",
           o.pcap_lo ? o.pcap_lo : "", o.ctl ? ", programs on " : "",
           o.ctl ? o.ctl : "");
    fflush(stdout);
    rc = tapstack_wait(st, &set);
    ts_services_stop(sv);
    tapstack_print(st);
    ts_stack_close(st);     /* closes the capture: the file is complete */
    return rc;
}
