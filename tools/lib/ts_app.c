/* tools/lib/ts_app.c - the options, help, checks and signals every tapstack
 * app shares (see ts_app.h). Written on the public API only, so it builds
 * for the kernel backend too. */
#include "tools/lib/ts_app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char ts_app_stack_usage[] =
"Stack options (every tapstack app runs a TCP/IP stack of its own on a TAP):\n"
"      --iface NAME         TAP device to attach to or create (default tap0)\n"
"      --addr A.B.C.D/N     this program's address and subnet\n"
"                           (default 10.0.0.2/24)\n"
"      --host-addr A.B.C.D/N\n"
"                           give the kernel's side of the TAP this address, turn\n"
"                           IPv6 off on it and bring it up; without it, attach\n"
"                           to a TAP configured already\n"
"      --gateway A.B.C.D    default route for off-link destinations\n"
"      --pcap FILE          capture every frame in and out to FILE (pcap)\n"
"      --pcap-lo FILE       capture the loopback interface (127.0.0.1/8, the\n"
"                           program talking to itself) to FILE\n"
"  -v, --verbose            say more on stderr: the program's progress, the\n"
"                           stack's log (TCP state changes; -vv: debug) and\n"
"                           its counters on exit\n"
"  -h, --help               print this help and exit\n"
#ifdef TS_BACKEND_KERNEL
"\n"
"This is the -kernel build of the program: the same source on the kernel's\n"
"own sockets (tools/lib/ts_kernel.h). It accepts the stack options and\n"
"ignores them, and needs no privilege.\n"
#else
"\n"
"Opening the TAP needs root or CAP_NET_ADMIN. Run it in a network namespace\n"
"of your own to leave the machine's interfaces alone.\n"
#endif
;

static volatile sig_atomic_t ts_app_signalled;

void ts_app_init(struct ts_app *app)
{
    ts_stack_config_init(&app->cfg);
    app->verbose = 0;
}

void ts_app_usage(const struct ts_app *app, FILE *out)
{
    fprintf(out, "Usage: %s %s\n%s\n%s", app->name, app->synopsis,
            app->help ? app->help : "", ts_app_stack_usage);
    if (app->epilog)
        fprintf(out, "\n%s", app->epilog);
}

void ts_app_usage_error(const struct ts_app *app, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", app->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try --help)\n");
    exit(2);
}

/* "A.B.C.D" alone (prefix NULL) or "A.B.C.D/N" (*prefix = N). */
static int ts_app_parse_ip(const char *arg, struct in_addr *a, int *prefix)
{
    char buf[INET_ADDRSTRLEN + 4];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    char *slash = strchr(buf, '/');
    if (!prefix != !slash)
        return -1;
    if (slash) {
        char *end;
        *slash = '\0';
        errno = 0;
        long n = strtol(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || n < 0 || n > 32)
            return -1;
        *prefix = (int)n;
    }
    return inet_pton(AF_INET, buf, a) == 1 ? 0 : -1;
}

static const char *ts_app_ip_arg(const struct ts_app *app, const char *what,
                                 const char *arg, int with_prefix)
{
    struct in_addr a;
    int prefix;
    if (ts_app_parse_ip(arg, &a, with_prefix ? &prefix : NULL) < 0)
        ts_app_usage_error(app, "invalid %s '%s': want %s", what, arg,
                           with_prefix ? "A.B.C.D/N" : "A.B.C.D");
    return arg;
}

void ts_app_option(struct ts_app *app, int c, const char *arg)
{
    struct ts_stack_config *cfg = &app->cfg;
    switch (c) {
    case TS_APP_OPT_IFACE:
        if (!*arg || strlen(arg) >= 16)
            ts_app_usage_error(app, "invalid --iface '%s': want 1 to 15 characters",
                               arg);
        cfg->iface = arg;
        return;
    case TS_APP_OPT_ADDR:
        cfg->addr = ts_app_ip_arg(app, "--addr", arg, 1);
        return;
    case TS_APP_OPT_HOST_ADDR:
        cfg->host_addr = ts_app_ip_arg(app, "--host-addr", arg, 1);
        return;
    case TS_APP_OPT_GATEWAY:
        cfg->gateway = ts_app_ip_arg(app, "--gateway", arg, 0);
        return;
    case TS_APP_OPT_PCAP:
        cfg->pcap = arg;
        return;
    case TS_APP_OPT_PCAP_LO:
        cfg->pcap_lo = arg;
        return;
    case 'v':
        app->verbose++;
        cfg->log_level++;
        return;
    case 'h':
        ts_app_usage(app, stdout);
        exit(0);
    case '?':       /* getopt_long printed "unrecognized option" or the like */
        fprintf(stderr, "Try '%s --help' for more information.\n", app->name);
        exit(2);
    default:
        ts_app_usage_error(app, "option '%c' is not handled", c);
    }
}

long ts_app_number(const struct ts_app *app, const char *what, const char *arg,
                   long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max)
        ts_app_usage_error(app, "invalid %s '%s': want %ld..%ld", what, arg,
                           min, max);
    return v;
}

uint16_t ts_app_port(const struct ts_app *app, const char *what,
                     const char *arg)
{
    return (uint16_t)ts_app_number(app, what, arg, 1, 65535);
}

struct sockaddr_in ts_app_ipv4(const struct ts_app *app, const char *what,
                               const char *arg, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (ts_app_parse_ip(arg, &sin.sin_addr, NULL) < 0)
        ts_app_usage_error(app, "invalid %s '%s': want an IPv4 address "
                           "A.B.C.D, there is no DNS", what, arg);
    return sin;
}

static void ts_app_on_signal(int sig)
{
    (void)sig;
    ts_app_signalled = 1;
}

struct ts_stack *ts_app_open(struct ts_app *app)
{
    struct ts_stack_config *cfg = &app->cfg;
    struct in_addr a, h;
    int pa, ph;
    if (cfg->host_addr && ts_app_parse_ip(cfg->addr, &a, &pa) == 0 &&
        ts_app_parse_ip(cfg->host_addr, &h, &ph) == 0 && a.s_addr == h.s_addr)
        ts_app_usage_error(app, "--host-addr must differ from --addr");
    char why[256] = "";
    cfg->errbuf = why;
    cfg->errlen = sizeof why;
    struct ts_stack *st = ts_stack_open(cfg);
    cfg->errbuf = NULL;
    if (!st) {
        int err = errno;
        const char *hint = err == EPERM || err == EACCES ? " (needs root or CAP_NET_ADMIN)"
                         : err == ENOENT ? " (is /dev/net/tun there?)"
                         : err == EINVAL ? " (check --addr, --host-addr, --gateway)"
                         : "";
        if (why[0])
            fprintf(stderr, "%s: %s%s\n", app->name, why, hint);
        else
            fprintf(stderr, "%s: cannot open the stack on %s: %s%s\n",
                    app->name, cfg->iface, strerror(err), hint);
        exit(2);
    }
    /* SA_RESTART: on the kernel backend a signal must not fail blocking
     * calls in other threads. A second SIGINT (Ctrl-C) kills; SIGTERM may
     * come twice at once (timeout(1) signals the process and its group). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ts_app_on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
#ifdef TS_BACKEND_KERNEL
    if (app->verbose)
        fprintf(stderr, "%s: on the kernel's sockets (stack options ignored)\n",
                app->name);
#else
    if (app->verbose)
        fprintf(stderr, "%s: stack %s on %s%s%s\n", app->name, cfg->addr,
                cfg->iface, cfg->host_addr ? ", kernel side " : "",
                cfg->host_addr ? cfg->host_addr : "");
#endif
    return st;
}

void ts_app_close(const struct ts_app *app, struct ts_stack *st)
{
    if (app->verbose) {
        fflush(stdout);
        ts_stack_counters(st, stderr);
    }
    ts_stack_close(st);
}

int ts_app_stopped(void)
{
    return ts_app_signalled != 0;
}

void ts_app_wait(void)
{
    const struct timespec tick = { 0, 100 * 1000 * 1000 };
    while (!ts_app_signalled)
        nanosleep(&tick, NULL);
}

const char *ts_app_fmt_addr(const struct sockaddr_in *sin,
                            char buf[TS_APP_ADDRSTRLEN])
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    snprintf(buf, TS_APP_ADDRSTRLEN, "%s:%u", ip, ntohs(sin->sin_port));
    return buf;
}
