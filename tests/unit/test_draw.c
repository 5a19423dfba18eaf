/* tests/unit/test_draw.c - tapstack-draw's drawings (tools/draw/):
 * connection grouping and state inference, the ladder of a known session
 * (its arrows and state labels), folding, the trace (load, errors, tie to
 * the frames), the time-sequence graph and the HTML page's links. The
 * emitter's escaping and the capture reader on hostile input are
 * test_draw_input.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcp/tcp_wire.h"
#include "tests/unit/draw_fixture.h"
#include "tests/unit/unit.h"
#include "tools/draw/dcap.h"
#include "tools/draw/dconn.h"
#include "tools/draw/dhtml.h"
#include "tools/draw/dtrace.h"
#include "tools/draw/ladder.h"
#include "tools/draw/svg.h"
#include "tools/draw/tseq.h"

/* Run fn on a memory stream; the text it wrote (free it). */
#define CAPTURE_TEXT(out, stmt)                                              \
    do {                                                                     \
        size_t cap_len_;                                                     \
        FILE *mf = open_memstream(&(out), &cap_len_);                        \
        CU_ASSERT_PTR_NOT_NULL_FATAL(mf);                                    \
        stmt;                                                                \
        fclose(mf);                                                          \
    } while (0)

static unsigned count_of(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The known session, loaded and grouped. */
struct sess {
    struct dcap cap;
    struct dconns cs;
};

static void sess_load(struct sess *s)
{
    char path[256], err[256];
    CU_ASSERT_EQUAL_FATAL(dfx_session_pcap(path, sizeof path), 0);
    CU_ASSERT_EQUAL_FATAL(dcap_load(path, &s->cap, 1000, err, sizeof err), 0);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(dconn_build(&s->cap, &s->cs), 0);
}

static void sess_free(struct sess *s)
{
    dconn_free(&s->cs);
    dcap_free(&s->cap);
}

static void test_conn_states(void)
{
    struct sess s;
    sess_load(&s);
    CU_ASSERT_EQUAL_FATAL(s.cs.n, 1);
    struct dconn *c = &s.cs.c[0];
    CU_ASSERT_EQUAL_FATAL(c->n, 11);
    CU_ASSERT_EQUAL(c->side[0].port, DFX_CPORT);       /* the opener */
    CU_ASSERT_EQUAL(c->seg[0].state[0], DS_SYN_SENT);
    CU_ASSERT_EQUAL(c->seg[1].state[1], DS_SYN_RCVD);
    CU_ASSERT_EQUAL(c->seg[1].state[0], DS_ESTAB);
    CU_ASSERT_EQUAL(c->seg[2].state[1], DS_ESTAB);
    CU_ASSERT_EQUAL(c->seg[7].state[0], DS_FIN_WAIT_1);
    CU_ASSERT_EQUAL(c->seg[7].state[1], DS_CLOSE_WAIT);
    CU_ASSERT_EQUAL(c->seg[8].state[0], DS_FIN_WAIT_2);
    CU_ASSERT_EQUAL(c->seg[9].state[1], DS_LAST_ACK);
    CU_ASSERT_EQUAL(c->seg[9].state[0], DS_TIME_WAIT);
    CU_ASSERT_EQUAL(c->seg[10].state[1], DS_CLOSED);
    CU_ASSERT_FALSE(c->seg[3].retrans);
    CU_ASSERT_TRUE(c->seg[4].retrans);
    CU_ASSERT_EQUAL(c->side[0].nretrans, 1);
    CU_ASSERT_EQUAL(c->side[0].bytes, 100);
    CU_ASSERT_EQUAL(c->side[1].bytes, 50);
    CU_ASSERT_EQUAL(c->seg[6].rseq, 1);
    CU_ASSERT_EQUAL(c->seg[6].rack, 101);
    CU_ASSERT_EQUAL(c->seg[2].rwin, 502u << 7);         /* scaled */
    CU_ASSERT_EQUAL(c->seg[0].rwin, 64240);             /* a SYN's never */
    struct dconn_seg *seg;
    CU_ASSERT_PTR_EQUAL(dconn_of_frame(&s.cs, 5, &seg), c);
    CU_ASSERT_PTR_EQUAL(seg, &c->seg[4]);
    CU_ASSERT_PTR_NULL(dconn_of_frame(&s.cs, 12, &seg));
    CU_ASSERT_PTR_NULL(dconn_of_frame(&s.cs, 0, &seg));
    sess_free(&s);
}

/* A second SYN with a new ISN on the same 4-tuple is a new connection. */
static void test_conn_reuse(void)
{
    char path[256], err[256];
    struct dcap cap;
    struct dconns cs;
    dfx_tmpname(path, sizeof path, ".pcap");
    struct dfx *w = dfx_open(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    dfx_session(w);
    dfx_tcp(w, 300000, 1, 7777, 0, TCP_SYN, 64240, 0);
    dfx_tcp(w, 300100, 0, 0, 7778, TCP_RST | TCP_ACK, 0, 0);
    dfx_close(w);
    CU_ASSERT_EQUAL_FATAL(dcap_load(path, &cap, 100, err, sizeof err), 0);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(dconn_build(&cap, &cs), 0);
    CU_ASSERT_EQUAL(cs.n, 2);
    if (cs.n == 2) {
        CU_ASSERT_EQUAL(cs.c[1].n, 2);
        CU_ASSERT_EQUAL(cs.c[1].seg[1].state[0], DS_CLOSED);    /* refused */
    }
    dconn_free(&cs);
    dcap_free(&cap);
}

static char *ladder_text(struct sess *s, int links)
{
    char *out;
    struct dconn *sel = &s->cs.c[0];
    struct ladder_opts o = { .links = links };
    CAPTURE_TEXT(out, CU_ASSERT_EQUAL(ladder_draw(mf, &s->cap, &sel, 1, &o, 1), 0));
    return out;
}

static void test_ladder_session(void)
{
    struct sess s;
    sess_load(&s);
    char *o = ladder_text(&s, 0);
    /* One arrow per segment: 6 from the client, one of them the resent
     * one (dashed red), 5 from the server. */
    CU_ASSERT_EQUAL(count_of(o, "class=\"seg\""), 5);
    CU_ASSERT_EQUAL(count_of(o, "class=\"rx\""), 1);
    CU_ASSERT_EQUAL(count_of(o, "class=\"seg1\""), 5);
    CU_ASSERT_EQUAL(count_of(o, "RETRANSMIT PSH,ACK seq=1 ack=1 len=100"), 1);
    CU_ASSERT_EQUAL(count_of(o, ">SYN seq=0 len=0 win=64240 mss=1460 ws=7<"), 1);
    CU_ASSERT_EQUAL(count_of(o, ">SYN,ACK seq=0 ack=1 len=0 win=65535"), 1);
    CU_ASSERT_EQUAL(count_of(o, ">PSH,ACK seq=1 ack=101 len=50 win=65536<"), 1);
    /* Without a trace every state is inferred (italic class "st inf"). */
    const char *states[] = { "SYN-SENT", "SYN-RECEIVED", "FIN-WAIT-1",
                             "CLOSE-WAIT", "FIN-WAIT-2", "LAST-ACK",
                             "TIME-WAIT", "CLOSED" };
    char want[64];
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        snprintf(want, sizeof want, "class=\"st inf\">%s<", states[i]);
        CU_ASSERT_EQUAL(count_of(o, want), 1);
    }
    CU_ASSERT_EQUAL(count_of(o, "class=\"st inf\">ESTABLISHED<"), 2);
    CU_ASSERT_EQUAL(count_of(o, "class=\"st inf\""), 10);
    CU_ASSERT_EQUAL(count_of(o, "10.0.0.1:41234"), 2);  /* title, end label */
    CU_ASSERT_PTR_NULL(strstr(o, "<a href"));
    free(o);
    o = ladder_text(&s, 1);
    CU_ASSERT_EQUAL(count_of(o, "<a href=\"#f"), 11);
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "<a href=\"#f5\">"));
    free(o);
    sess_free(&s);
}

/* 60 data segments with their ACKs fold into one band; the handshake and
 * the teardown stay arrows. */
static void test_ladder_fold(void)
{
    char path[256], err[256];
    struct dcap cap;
    struct dconns cs;
    dfx_tmpname(path, sizeof path, ".pcap");
    struct dfx *w = dfx_open(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    uint32_t c = DFX_CISN + 1, s = DFX_SISN + 1;
    dfx_tcp(w, 0, 1, c - 1, 0, TCP_SYN, 64240, 0);
    dfx_tcp(w, 10, 0, s - 1, c, TCP_SYN | TCP_ACK, 65535, 0);
    dfx_tcp(w, 20, 1, c, s, TCP_ACK, 502, 0);
    for (int i = 0; i < 60; i++) {
        dfx_tcp(w, 100 + i * 10, 1, c + (uint32_t)i * 1000, s, TCP_ACK, 502, 1000);
        if (i % 2)
            dfx_tcp(w, 105 + i * 10, 0, s, c + (uint32_t)(i + 1) * 1000, TCP_ACK,
                    512, 0);
    }
    dfx_tcp(w, 2000, 1, c + 60000, s, TCP_FIN | TCP_ACK, 502, 0);
    dfx_close(w);
    CU_ASSERT_EQUAL_FATAL(dcap_load(path, &cap, 1000, err, sizeof err), 0);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(dconn_build(&cap, &cs), 0);
    struct ladder_row rows[200];
    struct ladder_opts o = { 0 };
    size_t n = ladder_rows(&cs.c[0], &cap, &o, rows, 200);
    unsigned bands = 0;
    for (size_t i = 0; i < n; i++)
        bands += rows[i].band;
    CU_ASSERT_EQUAL(bands, 1);
    CU_ASSERT_EQUAL(n, 3 + 2 + 1 + 2 + 1);
    CU_ASSERT_EQUAL(rows[n - 1].last, cs.c[0].n - 1);
    char *out;
    struct dconn *sel = &cs.c[0];
    CAPTURE_TEXT(out, ladder_draw(mf, &cap, &sel, 1, &o, 1));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "86 segments folded"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "→ 57 segs (57 data, 57000 B)  ← 29 segs (0 data, 0 B)"));
    free(out);
    dconn_free(&cs);
    dcap_free(&cap);
}

/* A trace of the known session as tapstack would write it with the
 * client as the stack (its local address 10.0.0.1:41234): t_us runs 5 ms
 * ahead of the capture's clock. */
#define CONN "\"conn\": {\"id\": 7, \"local\": \"10.0.0.1:41234\", " \
             "\"remote\": \"10.0.0.2:80\"}"
static const char session_trace[] =
    "{\"t_us\": 5000, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
    "\"changed\": {\"state\": [\"CLOSED\", \"SYN-SENT\"]}, \"rfc\": \"9293 3.10.1\", "
    "\"frame_out\": [1]}\n"
    "{\"t_us\": 5100, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
    "\"changed\": {\"state\": [\"SYN-SENT\", \"ESTABLISHED\"]}, "
    "\"rfc\": \"9293 3.10.7.3\", \"frame_in\": 2, \"frame_out\": [3]}\n"
    "{\"t_us\": 6000, \"layer\": \"tcp\", \"ev\": \"cc\", " CONN ", "
    "\"changed\": {\"cwnd\": [14600, 14600], \"ssthresh\": [4294967295, 4294967295]}}\n"
    "{\"t_us\": 205300, \"layer\": \"tcp\", \"ev\": \"retransmit\", " CONN ", "
    "\"cause\": \"rto\", \"changed\": {\"cwnd\": [14600, 1460], "
    "\"rto_ms\": [200, 400]}, \"rfc\": \"6298 5.5\", \"frame_out\": [5]}\n"
    "{\"t_us\": 205500, \"layer\": \"tcp\", \"ev\": \"drop\", " CONN ", "
    "\"reason\": \"bad checksum <&> \\\"x\\\"\", \"frame_in\": 7}\n"
    "\n"
    "{\"t_us\": 205600, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
    "\"changed\": {\"state\": [\"ESTABLISHED\", \"FIN-WAIT-1\"]}, \"frame_out\": [8], "
    "\"future_member\": {\"ignored\": true}}\n"
    "{\"t_us\": 205700, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
    "\"changed\": {\"state\": [\"FIN-WAIT-1\", \"FIN-WAIT-2\"]}, \"frame_in\": 9}\n"
    "{\"t_us\": 205800, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
    "\"changed\": {\"state\": [\"FIN-WAIT-2\", \"TIME-WAIT\"]}, \"frame_in\": 10, "
    "\"frame_out\": [11]}\n"
    "{\"t_us\": 205900, \"layer\": \"arp\", \"ev\": \"resolved\"}\n"
    "{\"t_us\": 60205900, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
    "\"changed\": {\"state\": [\"TIME-WAIT\", \"CLOSED\"]}, \"reason\": \"2msl\"}\n"
    "{\"ev\": \"trace_truncated\", \"max_bytes\": 4096, \"lines\": 11}\n"
    "{\"t_us\": 206000, \"layer\": \"tcp\", \"ev\": \"sta";   /* cut short */

static void trace_load(struct dtrace *t, const char *text)
{
    char path[256], err[256];
    dfx_tmpname(path, sizeof path, ".jsonl");
    CU_ASSERT_EQUAL_FATAL(dfx_write_file(path, text), 0);
    CU_ASSERT_EQUAL_FATAL(dtrace_load(path, t, 1000, err, sizeof err), 0);
    unlink(path);
}

static void test_trace_load(void)
{
    struct dtrace t;
    trace_load(&t, session_trace);
    CU_ASSERT_EQUAL_FATAL(t.n, 11);    /* the blank and the cut line skipped */
    const struct dtrace_ev *e = &t.e[1];
    CU_ASSERT_EQUAL(e->line, 2);
    CU_ASSERT_EQUAL(e->t_us, 5100);
    CU_ASSERT_STRING_EQUAL(e->layer, "tcp");
    CU_ASSERT_STRING_EQUAL(e->state_to, "ESTABLISHED");
    CU_ASSERT_EQUAL(e->frame_in, 2);
    CU_ASSERT_EQUAL(e->nframe_out, 1);
    CU_ASSERT_EQUAL(e->conn_id, 7);
    CU_ASSERT_EQUAL(e->lport, DFX_CPORT);
    CU_ASSERT_EQUAL(e->rip, DFX_SERVER);
    CU_ASSERT_STRING_EQUAL(e->rfc, "9293 3.10.7.3");
    CU_ASSERT_TRUE(dtrace_names_frame(e, 2));
    CU_ASSERT_TRUE(dtrace_names_frame(e, 3));
    CU_ASSERT_FALSE(dtrace_names_frame(e, 4));
    e = &t.e[3];
    CU_ASSERT_STRING_EQUAL(e->cause, "rto");
    CU_ASSERT(e->cwnd.has && e->cwnd.from == 14600 && e->cwnd.to == 1460);
    CU_ASSERT(e->rto_ms.has && e->rto_ms.to == 400);
    CU_ASSERT_FALSE(e->srtt_us.has);
    CU_ASSERT_STRING_EQUAL(t.e[4].reason, "bad checksum <&> \"x\"");
    CU_ASSERT_EQUAL(t.e[5].line, 7);
    CU_ASSERT_FALSE(t.e[8].has_conn);
    /* The last line is about the trace: no time, no layer, kept. */
    CU_ASSERT_STRING_EQUAL(t.e[10].ev, "trace_truncated");
    CU_ASSERT_EQUAL(t.e[10].t_us, 60205900);
    CU_ASSERT_STRING_EQUAL(t.e[10].layer, "");
    dtrace_free(&t);
}

static void test_trace_errors(void)
{
    static const char *const bad[] = {
        "{\"t_us\": 1, \"layer\": \"tcp\", \"ev\": \"x\"}\nnot json\n",
        "[1, 2]\n",
        "{\"layer\": \"tcp\", \"ev\": \"x\"}\n",
        "{\"t_us\": 1, \"layer\": \"tcp\"}\n",
        "{\"t_us\": \"soon\", \"layer\": \"tcp\", \"ev\": \"x\"}\n",
        "{\"t_us\": 1, \"layer\": 5, \"ev\": \"x\"}\n",
        "{\"t_us\": 9223372036854775807, \"layer\": \"tcp\", \"ev\": \"x\"}\n",
    };
    static const char *const where[] = { ":2: not a JSON object", ":1: not a JSON",
                                         ":1: not a trace line: no \"t_us\"",
                                         ":1: not a trace line: no string \"ev\"",
                                         ":1: not a trace", ":1: not a trace",
                                         ":1: not a trace line: \"t_us\" out of range" };
    char path[256], err[256];
    struct dtrace t;
    dfx_tmpname(path, sizeof path, ".jsonl");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL_FATAL(dfx_write_file(path, bad[i]), 0);
        err[0] = '\0';
        CU_ASSERT_EQUAL(dtrace_load(path, &t, 100, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, where[i]));
        CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    }
    /* A real where an integer belongs is ignored, never converted. */
    CU_ASSERT_EQUAL_FATAL(dfx_write_file(path, "{\"t_us\": 1, \"layer\": "
        "\"tcp\", \"ev\": \"cc\", \"changed\": {\"cwnd\": [1e300, 2]}}\n"), 0);
    CU_ASSERT_EQUAL_FATAL(dtrace_load(path, &t, 100, err, sizeof err), 0);
    CU_ASSERT_EQUAL(t.n, 1);
    CU_ASSERT_FALSE(t.e[0].cwnd.has);
    dtrace_free(&t);
    unlink(path);
    CU_ASSERT_EQUAL(dtrace_load(path, &t, 100, err, sizeof err), -1);
}

static void test_trace_apply(void)
{
    struct sess s;
    struct dtrace t;
    sess_load(&s);
    trace_load(&t, session_trace);
    dtrace_apply(&t, &s.cap, &s.cs);
    struct dconn *c = &s.cs.c[0];
    CU_ASSERT_EQUAL(t.offset_us, -5000);
    CU_ASSERT_EQUAL(dtrace_time(&t, &t.e[3]), 200300);
    CU_ASSERT_EQUAL(c->stack_side, 0);
    CU_ASSERT_EQUAL(c->ntstates, 6);
    CU_ASSERT_STRING_EQUAL(c->seg[0].tstate[0], "SYN-SENT");
    CU_ASSERT_STRING_EQUAL(c->seg[1].tstate[0], "ESTABLISHED");
    CU_ASSERT_STRING_EQUAL(c->seg[4].note, "rto");
    CU_ASSERT_TRUE(c->seg[6].dropped);
    char *o = ladder_text(&s, 0);
    /* The stack's states are upright (from the trace), the far side's
     * still inferred; the drop is crossed out with its escaped reason. */
    CU_ASSERT_EQUAL(count_of(o, "class=\"st\""), 6);
    CU_ASSERT_EQUAL(count_of(o, "class=\"st\">TIME-WAIT<"), 1);
    /* The 2MSL timer's CLOSED has no frame: drawn at the last segment. */
    CU_ASSERT_STRING_EQUAL(c->seg[10].tstate[0], "CLOSED");
    CU_ASSERT_EQUAL(count_of(o, "class=\"st inf\""), 5);
    CU_ASSERT_EQUAL(count_of(o, "class=\"drop\""), 1);
    CU_ASSERT_EQUAL(count_of(o, "class=\"x\""), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o, ">DROPPED (bad checksum &lt;&amp;&gt; &quot;x&quot;) "
                                     "PSH,ACK seq=1 ack=101 len=50"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, ">RETRANSMIT (rto) PSH,ACK seq=1 ack=1 len=100"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "10.0.0.1:41234 (tapstack)"));
    free(o);
    /* The graph of the client's data draws cwnd and the RTO from it. */
    CAPTURE_TEXT(o, CU_ASSERT_EQUAL(tseq_draw(mf, &s.cap, c, 0, &t, NULL, 1), 0));
    CU_ASSERT_EQUAL(count_of(o, "class=\"cw\""), 1);
    CU_ASSERT_EQUAL(count_of(o, "class=\"rto\""), 1);
    CU_ASSERT_EQUAL(count_of(o, "class=\"ack\""), 1);
    CU_ASSERT_EQUAL(count_of(o, "class=\"win\""), 1);
    CU_ASSERT(count_of(o, "class=\"rx\"") >= 1);
    free(o);
    dtrace_free(&t);
    sess_free(&s);
}

/* Two states of the stack on one segment are both shown, in order. */
static void test_trace_chain(void)
{
    static const char chain[] =
        "{\"t_us\": 1, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
        "\"changed\": {\"state\": [\"FIN-WAIT-1\", \"FIN-WAIT-2\"]}, \"frame_in\": 9}\n"
        "{\"t_us\": 2, \"layer\": \"tcp\", \"ev\": \"state\", " CONN ", "
        "\"changed\": {\"state\": [\"FIN-WAIT-2\", \"TIME-WAIT\"]}, \"frame_in\": 9}\n";
    struct sess s;
    struct dtrace t;
    sess_load(&s);
    trace_load(&t, chain);
    dtrace_apply(&t, &s.cap, &s.cs);
    CU_ASSERT_STRING_EQUAL(s.cs.c[0].seg[8].tstate[0], "FIN-WAIT-2 → TIME-WAIT");
    char *o = ladder_text(&s, 0);
    CU_ASSERT_EQUAL(count_of(o, "class=\"st\">FIN-WAIT-2 → TIME-WAIT<"), 1);
    free(o);
    dtrace_free(&t);
    sess_free(&s);
}

/* Resent data folds too: the band counts it and, from the trace, the
 * causes. 20 segments, every fifth one resent. */
static void test_ladder_fold_resent(void)
{
    char path[256], err[256], line[400], trace[4000] = "";
    struct dcap cap;
    struct dconns cs;
    struct dtrace t;
    dfx_tmpname(path, sizeof path, ".pcap");
    struct dfx *w = dfx_open(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    uint32_t c = DFX_CISN + 1, s = DFX_SISN + 1;
    dfx_tcp(w, 0, 1, c - 1, 0, TCP_SYN, 64240, 0);
    dfx_tcp(w, 10, 0, s - 1, c, TCP_SYN | TCP_ACK, 65535, 0);
    dfx_tcp(w, 20, 1, c, s, TCP_ACK, 502, 0);
    for (int i = 0; i < 20; i++) {
        int again = i % 5 == 4;
        uint32_t seq = c + (uint32_t)(again ? i - 1 : i) * 100;
        dfx_tcp(w, 100 + i * 10, 1, seq, s, TCP_ACK, 502, 100);
        if (again) {
            snprintf(line, sizeof line, "{\"t_us\": %d, \"layer\": \"tcp\", "
                     "\"ev\": \"retransmit\", " CONN ", \"cause\": \"%s\", "
                     "\"frame_out\": [%d]}\n", 100 + i * 10,
                     i < 10 ? "rto" : "sack", 4 + i);
            strcat(trace, line);
        }
    }
    dfx_close(w);
    CU_ASSERT_EQUAL_FATAL(dcap_load(path, &cap, 1000, err, sizeof err), 0);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(dconn_build(&cap, &cs), 0);
    trace_load(&t, trace);
    dtrace_apply(&t, &cap, &cs);
    CU_ASSERT_EQUAL(cs.c[0].side[0].nretrans, 4);
    char *out;
    struct dconn *sel = &cs.c[0];
    struct ladder_opts o = { 0 };
    CAPTURE_TEXT(out, ladder_draw(mf, &cap, &sel, 1, &o, 1));
    /* Kept: 3 handshake rows, 2 + 2 around the band; frame 23 (the 20th
     * segment, resent) is one of the last two, so the band holds 3. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "16 segments folded"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "3 resent (→ 3, ← 0)<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ">causes (trace): rto 2, sack 1<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "class=\"band rxb\""));
    CU_ASSERT_EQUAL(count_of(out, "RETRANSMIT (sack) ACK seq=1801 "), 1);
    free(out);
    dtrace_free(&t);
    dconn_free(&cs);
    dcap_free(&cap);
}

/* --from/--to: the ladder keeps the segments of the window only, the
 * graph's axis spans it. */
static void test_window(void)
{
    struct sess s;
    sess_load(&s);
    struct dconn *c = &s.cs.c[0];
    struct ladder_row rows[20];
    struct ladder_opts o = { .from_us = 200000, .to_us = 200700 };
    size_t n = ladder_rows(c, &s.cap, &o, rows, 20);
    CU_ASSERT_EQUAL(n, 5);                      /* frames 5 to 9 */
    CU_ASSERT_EQUAL(rows[0].first, 4);
    CU_ASSERT_EQUAL(rows[n - 1].last, 8);
    struct tseq_opts w = { 200000, 200700 };
    char *out;
    CAPTURE_TEXT(out, CU_ASSERT_EQUAL(tseq_draw(mf, &s.cap, c, 0, NULL, &w, 1), 0));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ">0.20000 s<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ">0.20070 s<"));
    free(out);
    sess_free(&s);
}

static void test_tseq_no_trace(void)
{
    struct sess s;
    sess_load(&s);
    struct dconn *c = &s.cs.c[0];
    char *o;
    CU_ASSERT_EQUAL(tseq_pick_dir(c), 0);              /* 100 bytes vs 50 */
    CAPTURE_TEXT(o, CU_ASSERT_EQUAL(tseq_draw(mf, &s.cap, c, 1, NULL, NULL, 1), 0));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "data 10.0.0.2:80 → 10.0.0.1:41234 (50 bytes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "come from the trace (--trace FILE)"));
    CU_ASSERT_EQUAL(count_of(o, "class=\"cw\""), 0);
    CU_ASSERT_EQUAL(count_of(o, "class=\"fl\""), 1);
    free(o);
    sess_free(&s);
}

static void test_html_links(void)
{
    struct sess s;
    struct dtrace t;
    sess_load(&s);
    trace_load(&t, session_trace);
    dtrace_apply(&t, &s.cap, &s.cs);
    struct ladder_opts lo = { 0 };
    char *o;
    CAPTURE_TEXT(o, CU_ASSERT_EQUAL(dhtml_write(mf, "run <1>.pcap", &s.cap,
                                                &s.cs, &t, &lo), 0));
    CU_ASSERT_EQUAL(strncmp(o, "<!DOCTYPE html>", 15), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "<title>tapstack-draw: run &lt;1&gt;.pcap</title>"));
    CU_ASSERT_EQUAL(count_of(o, "<tr id=\"f"), 11);
    /* Frame 5 is named by trace line 4 (the retransmission) and back. */
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "<a href=\"#t4\">4</a>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "<li id=\"t4\" value=\"4\"><a href=\"#f5\">#5</a>"));
    /* Frame 2 by line 2 only; frame 3 by line 2 too. */
    CU_ASSERT_EQUAL(count_of(o, "<a href=\"#t2\">2</a>"), 2);
    CU_ASSERT_EQUAL(count_of(o, "<li id=\"t"), 11);
    CU_ASSERT_EQUAL(count_of(o, "<svg "), 2);          /* ladder, tseq */
    CU_ASSERT_PTR_NULL(strstr(o, "<?xml"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o, "bad checksum &lt;&amp;&gt;"));
    free(o);
    dtrace_free(&t);
    sess_free(&s);
}

TS_SUITE(draw,
         TS_TEST(test_conn_states),
         TS_TEST(test_conn_reuse),
         TS_TEST(test_ladder_session),
         TS_TEST(test_ladder_fold),
         TS_TEST(test_trace_load),
         TS_TEST(test_trace_errors),
         TS_TEST(test_trace_apply),
         TS_TEST(test_trace_chain),
         TS_TEST(test_ladder_fold_resent),
         TS_TEST(test_window),
         TS_TEST(test_tseq_no_trace),
         TS_TEST(test_html_links))
