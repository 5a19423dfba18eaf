/* tools/lib/ts_app.h - what every tapstack app shares: the stack options,
 * --help, argument checks, opening the stack, and SIGINT/SIGTERM.
 *
 * Each app opens a stack of its own on a TAP. The options that say how
 * (long only, so they never take an app's letters) and -v, -h:
 *
 *     --iface NAME  --addr A.B.C.D/N  --host-addr A.B.C.D/N
 *     --gateway A.B.C.D  --pcap FILE  --pcap-lo FILE  -v, --verbose
 *     -h, --help
 *
 * An app lists them in its getopt_long table and hands back whatever is
 * not its own:
 *
 *     struct ts_app app = { .name = "ts-foo", .synopsis = "[OPTION]... HOST",
 *                           .help = "Do foo.\n\n  -p, --port PORT ...\n" };
 *     static const struct option opts[] = {
 *         { "port", required_argument, NULL, 'p' }, TS_APP_LONGOPTS, { 0 } };
 *     ts_app_init(&app);
 *     while ((c = getopt_long(argc, argv, "p:" TS_APP_SHORTOPTS, opts, NULL)) != -1)
 *         if (c == 'p')
 *             port = ts_app_port(&app, "--port", optarg);
 *         else
 *             ts_app_option(&app, c, optarg);   // stack option, -h or error
 *     struct ts_stack *st = ts_app_open(&app);  // exits 2 on failure
 *     ... while (!ts_app_stopped()) ...
 *     ts_app_close(&app, st);
 *
 * Errors in arguments print one line, "ts-foo: invalid --port 'x' (try
 * --help)", and exit with status 2; so does a stack that cannot be opened.
 * --help prints "Usage:", the app's help, the shared stack options
 * (ts_app_stack_usage) and the app's epilog, and exits 0.
 * Built for the kernel backend (the *-kernel programs) the options are
 * accepted and ignored, and --help says so.
 * It lives in tools/lib, not in libtapstack: it calls exit() and installs
 * signal handlers, which nothing linked into a user's program may do.
 * Entry points: ts_app_init, ts_app_option, ts_app_usage, ts_app_usage_error,
 * ts_app_port, ts_app_number, ts_app_ipv4, ts_app_open, ts_app_close,
 * ts_app_stopped, ts_app_wait, ts_app_fmt_addr.
 */
#ifndef TS_TOOLS_LIB_TS_APP_H
#define TS_TOOLS_LIB_TS_APP_H

#include <getopt.h>

#include "socket_api/tapstack.h"

struct ts_app {
    const char *name;           /* for messages: "ts-nc" */
    const char *synopsis;       /* after "Usage: NAME ": "[OPTION]... HOST PORT" */
    const char *help;           /* what it does and its own options */
    const char *epilog;         /* examples, exit status (after the stack
                                   options), or NULL */
    int verbose;                /* how many -v */
    struct ts_stack_config cfg; /* filled by ts_app_init and the options */
};

/* getopt_long values of the long-only stack options. */
enum {
    TS_APP_OPT_IFACE = 0x1000,
    TS_APP_OPT_ADDR,
    TS_APP_OPT_HOST_ADDR,
    TS_APP_OPT_GATEWAY,
    TS_APP_OPT_PCAP,
    TS_APP_OPT_PCAP_LO,
};

/* Append to the app's short option string and to its long option table
 * (before the terminating { 0 }). */
#define TS_APP_SHORTOPTS "hv"
#define TS_APP_LONGOPTS                                                  \
    { "iface", required_argument, NULL, TS_APP_OPT_IFACE },              \
    { "addr", required_argument, NULL, TS_APP_OPT_ADDR },                \
    { "host-addr", required_argument, NULL, TS_APP_OPT_HOST_ADDR },      \
    { "gateway", required_argument, NULL, TS_APP_OPT_GATEWAY },          \
    { "pcap", required_argument, NULL, TS_APP_OPT_PCAP },                \
    { "pcap-lo", required_argument, NULL, TS_APP_OPT_PCAP_LO },          \
    { "verbose", no_argument, NULL, 'v' },                               \
    { "help", no_argument, NULL, 'h' }

/* The stack options' part of --help. */
extern const char ts_app_stack_usage[];

/* Fill app->cfg with the stack's defaults (ts_stack_config_init). */
void ts_app_init(struct ts_app *app);
/* Handle getopt_long's result c (arg: optarg) when it is not one of the
 * app's own options: a stack option or -v is stored in app->cfg; -h prints
 * the help and exits 0; '?' (getopt already said what) or any other value
 * exits 2. Returns only when the option was stored. */
void ts_app_option(struct ts_app *app, int c, const char *arg);
/* The whole --help text. */
void ts_app_usage(const struct ts_app *app, FILE *out);
/* "NAME: <message> (try --help)" on stderr, exit 2. */
void ts_app_usage_error(const struct ts_app *app, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Argument checks: the value, or ts_app_usage_error naming `what`. */
uint16_t ts_app_port(const struct ts_app *app, const char *what,
                     const char *arg);                  /* 1..65535 */
long ts_app_number(const struct ts_app *app, const char *what, const char *arg,
                   long min, long max);
struct sockaddr_in ts_app_ipv4(const struct ts_app *app, const char *what,
                               const char *arg, uint16_t port);

/* Open the stack of app->cfg, or print why not and exit 2. Also catches
 * SIGINT and SIGTERM with SA_RESTART (see ts_app_stopped; a second SIGINT
 * kills), and ignores SIGPIPE. */
struct ts_stack *ts_app_open(struct ts_app *app);
/* With -v, print the stack's counters on stderr; then close it. */
void ts_app_close(const struct ts_app *app, struct ts_stack *st);
/* Has SIGINT or SIGTERM arrived? Loops check it between bounded waits. */
int ts_app_stopped(void);
/* Sleep until SIGINT or SIGTERM. */
void ts_app_wait(void);

/* "A.B.C.D:PORT" of sin into buf. */
#define TS_APP_ADDRSTRLEN 22
const char *ts_app_fmt_addr(const struct sockaddr_in *sin,
                            char buf[TS_APP_ADDRSTRLEN]);

#endif
