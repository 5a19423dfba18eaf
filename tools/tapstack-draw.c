/* tools/tapstack-draw.c - pictures of a capture (and of tapstack's trace):
 * a ladder diagram, a time-sequence graph, an HTML page.
 *
 * Reads the capture with libpcap and the stack's wire parsers
 * (tools/draw/dcap.c), groups TCP segments into connections (dconn.c),
 * ties the JSON-lines trace to the frames it names (dtrace*.c), and draws
 * through one SVG emitter (svg.c). The capture and the trace are untrusted
 * input: every length is checked, every string escaped, memory bounded by
 * --max-frames and the trace's event cap. Errors are one line on stderr
 * and exit status 2; a failed write exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "tools/draw/dcap.h"
#include "tools/draw/dconn.h"
#include "tools/draw/dhtml.h"
#include "tools/draw/dtrace.h"
#include "tools/draw/ladder.h"
#include "tools/draw/tseq.h"

#define TRACE_MAX_EVENTS 500000

static const char usage_text[] =
"Usage: tapstack-draw ladder [OPTIONS] CAPTURE.pcap\n"
"       tapstack-draw tseq [OPTIONS] CAPTURE.pcap\n"
"       tapstack-draw list [OPTIONS] CAPTURE.pcap\n"
"       tapstack-draw --html OUT.html [OPTIONS] CAPTURE.pcap\n"
"\n"
"Draw what a capture of tapstack (tapstack --pcap FILE) shows, and what its\n"
"trace (tapstack --trace FILE) says about it, as SVG or one HTML page.\n"
"\n"
"Commands:\n"
"  ladder   a ladder (sequence) diagram: two time lines per connection, one\n"
"           arrow per segment with its flags, relative seq and ack, length\n"
"           and window; the state each side entered beside its line\n"
"           (upright: from the trace; italic: inferred from the segments);\n"
"           retransmissions red and dashed, drops (from the trace) crossed;\n"
"           long runs of data and ACKs folded into one band. Every\n"
"           connection, or the ones --conn or --port pick.\n"
"  tseq     a time-sequence graph (Stevens/tcptrace style) of one direction\n"
"           of one connection: data segments as bars of sequence numbers\n"
"           over time, the ACK and receive-window lines, SACK blocks,\n"
"           retransmissions in red; below, bytes in flight and, from the\n"
"           trace, cwnd, ssthresh and the RTO. The connection is --conn N,\n"
"           or the one (of --port P) that carried the most data; the\n"
"           direction is the one that carried more, or the other with\n"
"           --reverse.\n"
"  list     the capture's TCP connections, one a line: number, endpoints,\n"
"           segments, bytes each way, retransmissions, last states.\n"
"  --html OUT.html\n"
"           one page: the ladder and the time-sequence graphs beside the\n"
"           frame list; each arrow links to its frame, each frame to the\n"
"           trace lines that name it. Opens in any browser, no network.\n"
"\n"
"Options:\n"
"  -o, --output FILE   write the SVG (or the list) to FILE, not stdout\n"
"  -t, --trace FILE    tapstack's JSON-lines trace of the same run\n"
"  -c, --conn N        connection N, as `tapstack-draw list` numbers them\n"
"  -p, --port P        connections with P as either port\n"
"  -r, --reverse       tseq: draw the direction that carried less data\n"
"      --max-rows N    ladder: stop after N rows in all (600)\n"
"      --fold N        ladder: fold runs of N or more segments (8; 0: never)\n"
"      --from S, --to S\n"
"                      ladder, tseq: only the segments between S and S\n"
"                      seconds after the first frame (the times the ladder's\n"
"                      left column and tshark show): zoom in on a loss\n"
"      --max-frames N  read at most N frames of the capture (200000)\n"
"  -h, --help          this text\n"
"\n"
"Examples:\n"
"  tapstack --pcap run.pcap --trace run.jsonl ...   (make a capture)\n"
"  tapstack-draw list run.pcap\n"
"  tapstack-draw ladder --port 80 -t run.jsonl -o ladder.svg run.pcap\n"
"  tapstack-draw tseq --conn 2 -o tseq.svg run.pcap\n"
"  tapstack-draw --html run.html -t run.jsonl run.pcap\n"
"\n"
"Exit status: 0 on success, 2 on a bad argument or an unreadable or\n"
"corrupt capture or trace (one line on stderr), 1 when writing failed.\n";

struct draw_args {
    const char *cmd, *capture, *out, *trace, *html;
    long conn, port, max_rows, fold, max_frames;
    int64_t from_us, to_us;
    int reverse;
};

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "tapstack-draw: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(2);
}

static long num_arg(const char *opt, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        die("%s: bad number '%s'", opt, s);
    return v;
}

/* Seconds on the capture's clock (as the ladder's left column and
 * tshark's frame.time_relative show them) into microseconds. */
static int64_t sec_arg(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v < 1e9))
        die("%s: bad time '%s' (seconds since the first frame)", opt, s);
    return (int64_t)(v * 1e6 + 0.5);
}

static void parse_args(int argc, char **argv, struct draw_args *a)
{
    static const struct option opts[] = {
        { "output", required_argument, 0, 'o' },
        { "trace", required_argument, 0, 't' },
        { "conn", required_argument, 0, 'c' },
        { "port", required_argument, 0, 'p' },
        { "reverse", no_argument, 0, 'r' },
        { "html", required_argument, 0, 'H' },
        { "max-rows", required_argument, 0, 'R' },
        { "fold", required_argument, 0, 'F' },
        { "max-frames", required_argument, 0, 'M' },
        { "from", required_argument, 0, 'f' },
        { "to", required_argument, 0, 'T' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    *a = (struct draw_args){ .conn = -1, .port = -1, .max_rows = 600,
                             .fold = 8, .max_frames = 200000 };
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:t:c:p:rh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 't': a->trace = optarg; break;
        case 'c': a->conn = num_arg("--conn", optarg, 1, 1L << 30); break;
        case 'p': a->port = num_arg("--port", optarg, 0, 65535); break;
        case 'r': a->reverse = 1; break;
        case 'H': a->html = optarg; break;
        case 'R': a->max_rows = num_arg("--max-rows", optarg, 1, 100000); break;
        case 'F': a->fold = num_arg("--fold", optarg, 0, 1000000); break;
        case 'M': a->max_frames = num_arg("--max-frames", optarg, 1, 10000000); break;
        case 'f': a->from_us = sec_arg("--from", optarg); break;
        case 'T': a->to_us = sec_arg("--to", optarg); break;
        case 'h': fputs(usage_text, stdout); exit(0);
        case ':':
            die("option '%s' needs a value (see --help)%s", argv[optind - 1], "");
            break;
        default:
            die("unknown option '%s' (see --help)%s", argv[optind - 1], "");
        }
    }
    int npos = argc - optind;
    if (!a->html) {
        if (npos < 1)
            die("no command: ladder, tseq, list or --html OUT (see --help)%s%s",
                "", "");
        a->cmd = argv[optind++];
        npos--;
        if (strcmp(a->cmd, "ladder") && strcmp(a->cmd, "tseq") &&
            strcmp(a->cmd, "list"))
            die("unknown command '%s' (ladder, tseq, list or --html OUT)%s",
                a->cmd, "");
    }
    if (npos < 1)
        die("no capture file given (see --help)%s%s", "", "");
    if (npos > 1)
        die("one capture file only; '%s' is one too many%s", argv[optind + 1], "");
    a->capture = argv[optind];
    if (a->conn >= 0 && a->port >= 0)
        die("--conn and --port pick connections two ways: give one%s%s", "", "");
    if (a->to_us > 0 && a->to_us <= a->from_us)
        die("--to must be later than --from%s%s", "", "");
}

/* The connections the arguments pick, in capture order. */
static size_t pick(struct dconns *cs, const struct draw_args *a,
                   struct dconn **sel)
{
    size_t n = 0;
    for (size_t i = 0; i < cs->n; i++) {
        struct dconn *c = &cs->c[i];
        if (a->conn >= 0 && c->id != (uint32_t)a->conn)
            continue;
        if (a->port >= 0 && c->side[0].port != a->port &&
            c->side[1].port != a->port)
            continue;
        sel[n++] = c;
    }
    return n;
}

static void list_conns(FILE *f, struct dconn *const *sel, size_t n)
{
    char a[TS_IP4_STRLEN], b[TS_IP4_STRLEN];
    fprintf(f, "%-5s %-21s %-21s %6s %10s %10s %7s  %s\n", "conn", "opener",
            "other", "segs", "bytes->", "bytes<-", "rexmit", "last states");
    for (size_t i = 0; i < n; i++) {
        const struct dconn *c = sel[i];
        char ea[32], eb[32];
        snprintf(ea, sizeof ea, "%s:%u", ts_ip4_fmt(c->side[0].ip, a),
                 c->side[0].port);
        snprintf(eb, sizeof eb, "%s:%u", ts_ip4_fmt(c->side[1].ip, b),
                 c->side[1].port);
        fprintf(f, "%-5u %-21s %-21s %6zu %10llu %10llu %7u  %s / %s\n", c->id,
                ea, eb, c->n, (unsigned long long)c->side[0].bytes,
                (unsigned long long)c->side[1].bytes,
                c->side[0].nretrans + c->side[1].nretrans,
                c->side[0].state ? dconn_state_name(c->side[0].state) : "?",
                c->side[1].state ? dconn_state_name(c->side[1].state) : "?");
    }
}

/* tseq draws one connection: --conn's, or the busiest of the picked. */
static struct dconn *busiest(struct dconn *const *sel, size_t n)
{
    struct dconn *best = NULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = sel[i]->side[0].bytes + sel[i]->side[1].bytes;
        if (!best || b > best->side[0].bytes + best->side[1].bytes)
            best = sel[i];
    }
    return best;
}

static int draw(FILE *f, const struct draw_args *a, const struct dcap *cap,
                struct dconns *cs, const struct dtrace *t)
{
    struct ladder_opts lo = { .links = 0, .max_rows = (size_t)a->max_rows,
                              .fold_min = a->fold ? (size_t)a->fold : SIZE_MAX,
                              .from_us = a->from_us, .to_us = a->to_us };
    struct tseq_opts to = { a->from_us, a->to_us };
    if (a->html)
        return dhtml_write(f, a->capture, cap, cs, t, &lo);
    struct dconn **sel = malloc((cs->n + 1) * sizeof *sel);
    if (!sel)
        die("out of memory%s%s", "", "");
    size_t n = pick(cs, a, sel);
    if (n == 0 && (a->conn >= 0 || a->port >= 0)) {
        char what[32];
        snprintf(what, sizeof what, "%ld", a->conn >= 0 ? a->conn : a->port);
        die(a->conn >= 0 ? "no connection %s in this capture%s (see list)"
                         : "no connection on port %s in this capture%s",
            what, "");
    }
    int rc = 0;
    if (strcmp(a->cmd, "list") == 0) {
        list_conns(f, sel, n);
    } else if (strcmp(a->cmd, "ladder") == 0) {
        rc = ladder_draw(f, cap, sel, n, &lo, 1);
    } else {
        struct dconn *c = busiest(sel, n);
        if (!c)
            die("no TCP connection in this capture%s%s", "", "");
        int dir = tseq_pick_dir(c);
        rc = tseq_draw(f, cap, c, a->reverse ? !dir : dir, t, &to, 1);
    }
    free(sel);
    return rc;
}

int main(int argc, char **argv)
{
    struct draw_args a;
    struct dcap cap;
    struct dconns cs;
    struct dtrace tr, *t = NULL;
    char err[512];
    parse_args(argc, argv, &a);
    if (dcap_load(a.capture, &cap, (size_t)a.max_frames, err, sizeof err) != 0)
        die("%s%s", err, "");
    if (cap.truncated)
        fprintf(stderr, "tapstack-draw: warning: %s ends inside a frame; "
                "drawing the %zu frames before it\n", a.capture, cap.n);
    if (cap.skipped)
        fprintf(stderr, "tapstack-draw: warning: only the first %zu frames "
                "are drawn (--max-frames)\n", cap.n);
    if (dconn_build(&cap, &cs) != 0)
        die("out of memory%s%s", "", "");
    if (a.trace) {
        if (dtrace_load(a.trace, &tr, TRACE_MAX_EVENTS, err, sizeof err) != 0)
            die("%s%s", err, "");
        dtrace_apply(&tr, &cap, &cs);
        t = &tr;
    }
    const char *out = a.html ? a.html : a.out;
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f)
        die("%s: %s", out, strerror(errno));
    int rc = draw(f, &a, &cap, &cs, t);
    if (fflush(f) != 0 || ferror(f))
        rc = -1;
    if (out && fclose(f) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "tapstack-draw: writing %s failed\n",
                out ? out : "standard output");
        return 1;
    }
    if (a.html)
        fprintf(stderr, "tapstack-draw: wrote %s\n", a.html);
    if (t)
        dtrace_free(t);
    dconn_free(&cs);
    dcap_free(&cap);
    return 0;
}
