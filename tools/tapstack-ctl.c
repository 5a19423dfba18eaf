/* tools/tapstack-ctl.c - look inside a running tapstack: its sockets like
 * `ss -tuan` (and `-i`), its counters like `netstat -s`, its ARP cache,
 * routes and interface, as text or (--json) as JSON for scripts.
 *
 * It asks the stack over its control socket (TS_OP_INSPECT): the stack
 * writes the records into a memfd and hands it over, so the tool reads a
 * consistent snapshot at its own pace. Records are "kind<TAB>key=value..."
 * lines (socket_api/ts_inspect.c); this file only selects and prints them.
 * JSON goes through jansson, so every string is escaped correctly.
 *
 * `watch` subscribes instead (TS_OP_WATCH): the stack hands over a socket
 * on which each event of its event path comes as one JSON line, filtered
 * by the stack itself (layer, event, port); printed as they come, in the
 * trace's JSON (--json) or one line for people (socket_api/ts_trace.c).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/event.h"
#include "socket_api/ts_ctl_proto.h"
#include "socket_api/ts_trace.h"

#define CTL_MAX_FIELDS 48

struct ctl_rec {
    char *kind;
    int n;
    char *key[CTL_MAX_FIELDS], *val[CTL_MAX_FIELDS];
};

struct ctl_opts {
    const char *ctl;
    char ctl_buf[64];
    int json, info, listening, all, tcp, udp, port, zero;
    const char *state;
    unsigned layers;            /* watch --layer (bits), 0: all */
    const char *event;          /* watch --event */
    long count;                 /* watch --count: stop after so many */
};

static void ctl_usage(FILE *out)
{
    fprintf(out,
"Usage: tapstack-ctl [--ctl NAME] [--iface IF] [--json] COMMAND [OPTION]...\n"
"Look inside a running tapstack through its control socket.\n"
"\n"
"Commands:\n"
"  ss [-t] [-u] [-l|-a] [-i] [--state S] [--port N]\n"
"                  sockets like `ss -tuan`: TCP connections and listeners,\n"
"                  UDP sockets; -l listening only, -a all (default: all but\n"
"                  listening and unconnected), -i congestion control\n"
"                  (cubic, reno), rtt/rttvar, rto, mss, cwnd,\n"
"                  ssthresh, windows, bytes, retransmissions, SACK blocks\n"
"                  and the timers running; --state ESTABLISHED (any state\n"
"                  name), --port N (either end)\n"
"  stats [-z] [SECTION]...\n"
"                  every counter like `netstat -s` (sections eth, tap, lo,\n"
"                  arp, ipv4, icmp, tcp, udp, pbuf, stack, host); -z counts\n"
"                  from zero again from now on (levels such as conns_now\n"
"                  stay)\n"
"  arp             the ARP cache: address, MAC, state, expiry, queued packets\n"
"  route           the routes\n"
"  ifconfig        the interface: address, MAC, MTU, frames and bytes\n"
"  watch [--layer L]... [--event E] [--port N] [--count N]\n"
"                  the live event stream (the trace of README \"Trace\" as it\n"
"                  happens): drops, state changes, retransmissions and their\n"
"                  cause, cwnd/RTO/window changes, ARP, ICMP; --layer eth,\n"
"                  arp, ipv4, icmp, udp, tcp or sock (repeat or comma-list),\n"
"                  --event state (any event name), --count N: exit after N;\n"
"                  --json: the trace's JSON lines; ends when the stack does\n"
"\n"
"Options:\n"
"      --ctl NAME   the control socket (default @tapstack/IF; @NAME is an\n"
"                   abstract socket, else a path)\n"
"  -I, --iface IF   the stack's interface, for the default name (tap0)\n"
"  -j, --json       print JSON (an array of objects) instead of text\n"
"  -h, --help       print this help and exit\n"
"\n"
"Only the user who started tapstack, and root, may ask. Exit status: 0,\n"
"1 when the stack fails the request, 2 on bad arguments, when no tapstack\n"
"answers, or when permission is denied.\n");
}

static int ctl_fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "tapstack-ctl: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

static int ctl_connect(const char *name)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    size_t n = strlen(name);
    if (n < 2 || n >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    memcpy(sun.sun_path, name, n);
    if (name[0] == '@')
        sun.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                                (name[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sun, len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* Send rq; the descriptor of the reply, or -errno (-EACCES: refused by
 * the stack). */
static int ctl_request(int c, struct ts_ctl_req *rq)
{
    struct ts_ctl_rep rep;
    rq->magic = TS_CTL_MAGIC;
    rq->version = TS_CTL_VERSION;
    if (send(c, rq, sizeof *rq, MSG_NOSIGNAL) != (ssize_t)sizeof *rq)
        return -EACCES;
    char cb[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &rep, sizeof rep };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                        .msg_controllen = sizeof cb };
    ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return -EACCES;             /* the stack closed: not our stack */
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (n != (ssize_t)sizeof rep || rep.magic != TS_CTL_MAGIC)
        return -EPROTO;
    if (rep.rc < 0)
        return rep.rc;
    int fd = -1;
    if (h && h->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd >= 0 ? fd : -EPROTO;
}

/* Ask for a dump; the memfd, or -errno. */
static int ctl_inspect(int c, int what)
{
    struct ts_ctl_req rq;
    memset(&rq, 0, sizeof rq);
    rq.op = TS_OP_INSPECT;
    rq.arg[0] = what;
    return ctl_request(c, &rq);
}

/* Subscribe to the event stream; its socket, or -errno. */
static int ctl_watch_open(int c, const struct ctl_opts *o)
{
    struct ts_ctl_req rq;
    memset(&rq, 0, sizeof rq);
    rq.op = TS_OP_WATCH;
    rq.arg[0] = (int32_t)o->layers;
    rq.arg[1] = o->port > 0 ? o->port : 0;
    if (o->event) {
        rq.optlen = (uint32_t)strlen(o->event);
        memcpy(rq.opt, o->event, rq.optlen);
    }
    return ctl_request(c, &rq);
}

/* Print each event as it comes, until the stack goes or --count is met. */
static int ctl_watch(int fd, const struct ctl_opts *o)
{
    static char msg[65536];
    setvbuf(stdout, NULL, _IOLBF, 0);   /* a reader sees each event at once */
    for (long n = 0; o->count <= 0 || n < o->count; n++) {
        ssize_t len = recv(fd, msg, sizeof msg - 1, 0);
        if (len <= 0)
            return len < 0 ? ctl_fail("%s", strerror(errno)) : 0;
        msg[len] = '\0';
        if (o->json) {
            printf("%s\n", msg);
            continue;
        }
        json_t *ev = json_loads(msg, 0, NULL);
        char line[1024];
        if (!ev)
            continue;
        ts_trace_human(ev, line, sizeof line);
        printf("%s\n", line);
        json_decref(ev);
    }
    return 0;
}

/* --layer tcp,arp: bits of enum ts_ev_layer. 0, or an exit code. */
static int ctl_layers(struct ctl_opts *o, const char *arg)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", arg);
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int l = ts_ev_layer_parse(w);
        if (l < 0)
            return ctl_fail("invalid --layer '%s' (eth, arp, ipv4, icmp, udp,"
                            " tcp, sock)", w);
        o->layers |= 1u << l;
    }
    return 0;
}

/* Split one line in place. 0, or -1 for a malformed one (skipped). */
static int ctl_parse(char *line, struct ctl_rec *r)
{
    char *save = NULL;
    r->kind = strtok_r(line, "\t\n", &save);
    r->n = 0;
    if (!r->kind)
        return -1;
    char *f;
    while ((f = strtok_r(NULL, "\t\n", &save)) && r->n < CTL_MAX_FIELDS) {
        char *eq = strchr(f, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        r->key[r->n] = f;
        r->val[r->n++] = eq + 1;
    }
    return 0;
}

static const char *ctl_get(const struct ctl_rec *r, const char *key)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->key[i], key) == 0)
            return r->val[i];
    return "";
}

static json_t *ctl_json_rec(const struct ctl_rec *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(r->kind));
    for (int i = 0; i < r->n; i++) {
        char *end;
        long long v = strtoll(r->val[i], &end, 10);
        json_object_set_new(o, r->key[i], *r->val[i] && !*end
                                              ? json_integer(v)
                                              : json_string(r->val[i]));
    }
    return o;
}

static int ctl_port_of(const char *ap)
{
    const char *c = strrchr(ap, ':');
    return c ? atoi(c + 1) : -1;
}

/* Does an ss record pass the command line's filters? */
static int ctl_ss_wanted(const struct ctl_opts *o, const struct ctl_rec *r)
{
    const char *st = ctl_get(r, "state");
    int idle = !strcmp(st, "LISTEN") || !strcmp(st, "UNCONN");
    if ((o->tcp || o->udp) && !(o->tcp && !strcmp(r->kind, "tcp")) &&
        !(o->udp && !strcmp(r->kind, "udp")))
        return 0;
    if (o->listening ? !idle : (!o->all && idle))
        return 0;
    if (o->state && strcasecmp(o->state, st) != 0)
        return 0;
    return o->port < 0 || ctl_port_of(ctl_get(r, "local")) == o->port ||
           ctl_port_of(ctl_get(r, "peer")) == o->port;
}

static void ctl_ss_text(const struct ctl_opts *o, const struct ctl_rec *r)
{
    printf("%-5s %-12s %7s %7s %-21s %-21s\n", r->kind, ctl_get(r, "state"),
           ctl_get(r, "recvq"), ctl_get(r, "sendq"), ctl_get(r, "local"),
           ctl_get(r, "peer"));
    if (!o->info || strcmp(r->kind, "tcp") || !*ctl_get(r, "rtt_us"))
        return;
    printf("\t %s rtt:%s/%s us rto:%s ms mss:%s cwnd:%s ssthresh:%s snd_wnd:%s"
           " rcv_wnd:%s in_flight:%s\n", ctl_get(r, "cc"), ctl_get(r, "rtt_us"),
           ctl_get(r, "rttvar_us"), ctl_get(r, "rto_ms"), ctl_get(r, "mss"),
           ctl_get(r, "cwnd"), ctl_get(r, "ssthresh"), ctl_get(r, "snd_wnd"),
           ctl_get(r, "rcv_wnd"), ctl_get(r, "in_flight"));
    printf("\t bytes_sent:%s bytes_received:%s retrans:%s sack_blocks:%s"
           " ooo_ranges:%s timers: rto %s delack %s keepalive %s timewait %s"
           " (ms, -1 off)\n", ctl_get(r, "bytes_sent"),
           ctl_get(r, "bytes_received"), ctl_get(r, "retrans"),
           ctl_get(r, "sack_blocks"), ctl_get(r, "ooo_ranges"),
           ctl_get(r, "timer_rto_ms"), ctl_get(r, "timer_delack_ms"),
           ctl_get(r, "timer_keepalive_ms"), ctl_get(r, "timer_timewait_ms"));
}

static int ctl_in_sections(char **secs, int nsecs, const char *s)
{
    for (int i = 0; i < nsecs; i++)
        if (strcmp(secs[i], s) == 0)
            return 1;
    return nsecs == 0;
}

/* Print one record of command cmd as text. */
static void ctl_text(const char *cmd, const struct ctl_opts *o,
                     const struct ctl_rec *r, char last_section[32])
{
    if (!strcmp(cmd, "ss")) {
        ctl_ss_text(o, r);
    } else if (!strcmp(cmd, "stats")) {
        const char *sec = ctl_get(r, "section");
        if (strcmp(last_section, sec) != 0)
            printf("%s:\n", sec);
        snprintf(last_section, 32, "%s", sec);
        printf("    %-28s %14s  %s\n", ctl_get(r, "name"), ctl_get(r, "value"),
               ctl_get(r, "help"));
    } else if (!strcmp(cmd, "arp")) {
        printf("%-15s %-17s %-10s %10s %6s\n", ctl_get(r, "ip"), ctl_get(r, "mac"),
               ctl_get(r, "state"), ctl_get(r, "expires_ms"), ctl_get(r, "queued"));
    } else if (!strcmp(cmd, "route")) {
        printf("%-18s %-15s %-8s %s\n", ctl_get(r, "dest"), ctl_get(r, "gateway"),
               ctl_get(r, "dev"), ctl_get(r, "src"));
    } else {
        printf("%s: inet %s mtu %s ether %s\n    RX frames %s bytes %s\n"
               "    TX frames %s bytes %s\n", ctl_get(r, "name"),
               ctl_get(r, "addr"), ctl_get(r, "mtu"), ctl_get(r, "mac"),
               ctl_get(r, "rx_frames"), ctl_get(r, "rx_bytes"),
               ctl_get(r, "tx_frames"), ctl_get(r, "tx_bytes"));
    }
}

static void ctl_header(const char *cmd, const struct ctl_opts *o)
{
    if (o->json)
        return;
    if (!strcmp(cmd, "ss"))
        printf("%-5s %-12s %7s %7s %-21s %-21s\n", "Netid", "State", "Recv-Q",
               "Send-Q", "Local Address:Port", "Peer Address:Port");
    else if (!strcmp(cmd, "arp"))
        printf("%-15s %-17s %-10s %10s %6s\n", "Address", "HWaddress", "State",
               "Expires-ms", "Queued");
    else if (!strcmp(cmd, "route"))
        printf("%-18s %-15s %-8s %s\n", "Destination", "Gateway", "Iface",
               "Source");
}

/* Read the dump and print what the command and filters select. */
static int ctl_print(FILE *f, const char *cmd, const struct ctl_opts *o,
                     char **secs, int nsecs)
{
    char line[4096];
    json_t *arr = o->json ? json_array() : NULL;
    char last[32] = "";
    ctl_header(cmd, o);
    while (fgets(line, sizeof line, f)) {
        struct ctl_rec r;
        if (ctl_parse(line, &r) < 0)
            continue;
        if (!strcmp(cmd, "ss") && !ctl_ss_wanted(o, &r))
            continue;
        if (!strcmp(cmd, "stats") &&
            !ctl_in_sections(secs, nsecs, ctl_get(&r, "section")))
            continue;
        if (arr) {
            json_array_append_new(arr, ctl_json_rec(&r));
            continue;
        }
        ctl_text(cmd, o, &r, last);
    }
    if (arr) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(arr);
    }
    return 0;
}

static int ctl_what(const char *cmd)
{
    static const struct { const char *name; int what; } cmds[] = {
        { "ss", TS_INSPECT_SOCKETS }, { "stats", TS_INSPECT_STATS },
        { "arp", TS_INSPECT_ARP }, { "route", TS_INSPECT_ROUTES },
        { "ifconfig", TS_INSPECT_IFACES },
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].what;
    return 0;
}

/* Options before and after the command share one getopt loop. */
static int ctl_parse_args(struct ctl_opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        { "ctl", required_argument, NULL, 'C' },
        { "iface", required_argument, NULL, 'I' },
        { "json", no_argument, NULL, 'j' },
        { "state", required_argument, NULL, 'S' },
        { "port", required_argument, NULL, 'P' },
        { "layer", required_argument, NULL, 'L' },
        { "event", required_argument, NULL, 'E' },
        { "count", required_argument, NULL, 'N' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *iface = "tap0";
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:I:jhtulaiz", lo, NULL)) != -1) {
        switch (c) {
        case 'C': o->ctl = optarg; break;
        case 'I': iface = optarg; break;
        case 'j': o->json = 1; break;
        case 'S': o->state = optarg; break;
        case 'P':
            o->port = atoi(optarg);
            if (o->port <= 0 || o->port > 65535)
                return ctl_fail("invalid --port '%s' (1..65535)", optarg);
            break;
        case 'L':
            if (ctl_layers(o, optarg))
                return 2;
            break;
        case 'E':
            if (!*optarg || strlen(optarg) > 31)
                return ctl_fail("invalid --event '%s' (1 to 31 characters)", optarg);
            o->event = optarg;
            break;
        case 'N':
            o->count = atol(optarg);
            if (o->count <= 0)
                return ctl_fail("invalid --count '%s' (1 or more)", optarg);
            break;
        case 't': o->tcp = 1; break;
        case 'u': o->udp = 1; break;
        case 'l': o->listening = 1; break;
        case 'a': o->all = 1; break;
        case 'i': o->info = 1; break;
        case 'z': o->zero = 1; break;
        case 'h': ctl_usage(stdout); return -1;
        default:
            return ctl_fail("unknown option or missing argument '%s' (try --help)",
                            argv[optind - 1]);
        }
    }
    if (!o->ctl) {
        snprintf(o->ctl_buf, sizeof o->ctl_buf, TS_CTL_DEFAULT_FMT, iface);
        o->ctl = o->ctl_buf;
    }
    return 0;
}

static int ctl_watch_run(int c, const struct ctl_opts *o)
{
    int fd = ctl_watch_open(c, o);
    close(c);
    if (fd < 0) {
        fprintf(stderr, "tapstack-ctl: %s\n", fd == -EACCES
                ? "permission denied: only the user who started tapstack, and "
                  "root, may ask it" : fd == -EBUSY
                ? "too many watch streams open on this stack" : strerror(-fd));
        return fd == -EACCES ? 2 : 1;
    }
    int rc = ctl_watch(fd, o);
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    struct ctl_opts o = { .port = -1 };
    int rc = ctl_parse_args(&o, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (optind >= argc)
        return ctl_fail("%s", "no command (ss, stats, arp, route, ifconfig, watch; try --help)");
    const char *cmd = argv[optind++];
    int what = ctl_what(cmd);
    if (!what && strcmp(cmd, "watch") != 0)
        return ctl_fail("unknown command '%s' (try --help)", cmd);
    rc = ctl_parse_args(&o, argc, argv);     /* the command's own options */
    if (rc)
        return rc < 0 ? 0 : rc;
    if (optind < argc && strcmp(cmd, "stats") != 0)
        return ctl_fail("unexpected argument '%s' (try --help)", argv[optind]);
    int c = ctl_connect(o.ctl);
    if (c < 0) {
        fprintf(stderr, "tapstack-ctl: no tapstack answers on %s: %s\n", o.ctl,
                strerror(-c));
        return 2;
    }
    if (!what)
        return ctl_watch_run(c, &o);
    if (o.zero && what == TS_INSPECT_STATS) {
        int zfd = ctl_inspect(c, TS_INSPECT_ZERO);
        if (zfd >= 0)
            close(zfd);
    }
    int fd = ctl_inspect(c, what);
    close(c);
    if (fd < 0) {
        fprintf(stderr, "tapstack-ctl: %s\n", fd == -EACCES
                ? "permission denied: only the user who started tapstack, and "
                  "root, may ask it" : strerror(-fd));
        return fd == -EACCES ? 2 : 1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return ctl_fail("%s", strerror(errno));
    }
    rc = ctl_print(f, cmd, &o, argv + optind, argc - optind);
    fclose(f);
    return rc;
}
