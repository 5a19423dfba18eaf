#!/bin/bash
# tools/walkthrough.sh - write docs/walkthrough.md from a real run: one
# `curl` from the host to tapstack's HTTP server and back, through every
# layer, Ethernet to TCP to the socket call, the way a networking course
# walks the OSI model.
#
#   make walkthrough             (builds first; needs root, tshark, curl)
#   BUILD=build WALK_OUT=/tmp/w.md tools/walkthrough.sh
#
# In a private network namespace (ts-walk-<pid>) it starts tapstack with
# only its HTTP service (--services http --http-root DIR), capturing every
# frame (--pcap) and, when this tapstack has it, writing the JSON-lines
# trace (--trace; detected from --help). The host's curl fetches one small
# file. Then the capture is explained frame by frame: the tshark summary,
# a tshark -V excerpt of each kind of frame, the trace lines that name it,
# and the function in our code and the RFC section that handled it (the
# table KINDS below maps each kind of frame to them); the ladder diagram
# comes from tapstack-draw (docs/walkthrough-ladder.svg). Nothing outside
# the namespace is touched; every wait is bounded. Exits 1 on failure.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
: "${BUILD:=build}"
OUT=${WALK_OUT:-$ROOT/docs/walkthrough.md}
SVG=$(dirname "$OUT")/walkthrough-ladder.svg
TAP=walk0
HOST_IP=10.0.0.1
STACK_IP=10.0.0.2

# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

die() {
    echo "walkthrough: $*" >&2
    exit 1
}

# kind|title|who sends it|what handles it in tapstack|RFC
# The functions are the path through our code, outermost first.
KINDS='arp-announce|ARP announcement|tapstack, at start|arp_announce() (arp/arp.c) -> eth_output() (eth/eth.c) -> the TAP|RFC 5227 §2.3 (announcing an address), RFC 826
arp-request|ARP request: who has 10.0.0.2?|the host kernel, before its first IP packet to the stack|tap_recv() (eth/tap.c) -> stack_rx() (socket_api/stack.c) -> eth_input() (eth/eth.c) -> arp_input() -> arp_process() (arp/arp.c): learns the sender, answers|RFC 826 "Packet Reception"
arp-reply|ARP reply: 10.0.0.2 is at 02:00:0a:00:00:02|tapstack|arp_process() -> arp_send() (arp/arp.c) -> eth_output() (eth/eth.c)|RFC 826 "Packet Reception" (swap, set opcode to reply, send)
syn|TCP SYN: the host opens the connection|curl, through the host kernel (connect())|eth_input() -> ipv4_input() (ipv4/ipv4.c) -> tcp_input() (tcp/tcp_in.c) -> tcp_listen_input() -> tcp_listen_syn() (tcp/tcp_listen.c): a new TCB in SYN-RECEIVED|RFC 791 §3.2 and RFC 1122 §3.2.1 (IP input); RFC 9293 §3.10.7.2 (LISTEN, "If the SYN bit is set")
synack|TCP SYN,ACK: tapstack answers|tapstack|tcp_listen_syn() -> tcp_output() -> tcp_xmit() (tcp/tcp_out.c) -> ipv4_output() (ipv4/ipv4.c) -> arp_output() (arp/arp.c) -> eth_output()|RFC 9293 §3.10.7.2 (send SYN,ACK) and §3.7.1 (MSS option); RFC 7323 §2 (window scale); RFC 2018 §2 (SACK permitted)
ack-handshake|TCP ACK: the handshake completes|the host kernel|tcp_input() -> tcp_listen_input() -> tcp_listen_ack() -> tcp_establish() (tcp/tcp_in.c), tcp_listener_enqueue(): ts_accept() in the HTTP server (tools/lib/ts_http.c via socket_api/ts_server.c) returns the new socket|RFC 9293 §3.10.7.4 (SYN-RECEIVED: an acceptable ACK enters ESTABLISHED) and §3.10.3 (ACCEPT, the OPEN call'"'"'s passive side)
data-host|TCP data from the host: the HTTP request|curl (send())|tcp_input() -> tcp_conn_input() -> tcp_in_sync() -> tcp_in_data() (tcp/tcp_in.c): queued in the receive buffer; ts_recv() in http_read_head() (tools/lib/ts_http.c) reads it|RFC 9293 §3.10.7.4 "seventh, process the segment text"; §3.10.5 (RECEIVE call); RFC 9112 (the request)
ack-stack|TCP ACK from tapstack|tapstack|tcp_in_data() -> tcp_ack_schedule() (tcp/tcp_in.c) -> tcp_send_ack() (tcp/tcp_out.c)|RFC 9293 §3.8.6.3 and RFC 1122 §4.2.3.2 (when to send an ACK); RFC 5681 §4.2
data-stack|TCP data from tapstack: the HTTP response|the HTTP server (ts_send() in http_send_all(), tools/lib/ts_http.c)|ts_send() (socket_api/ts_socket.c) -> tcp_output() -> tcp_output_one() -> tcp_xmit() (tcp/tcp_out.c) -> ipv4_output() -> eth_output()|RFC 9293 §3.10.2 (SEND call) and §3.8.6 (window management); RFC 5681 §3.1 (congestion window)
ack-host|TCP ACK from the host|the host kernel|tcp_input() -> tcp_conn_input() -> tcp_in_sync() -> tcp_in_ack() -> tcp_ack_new() (tcp/tcp_in.c): frees acknowledged bytes, samples the RTT (tcp_rtt_sample(), tcp/tcp_timer.c)|RFC 9293 §3.10.7.4 "fifth, check the ACK field"; RFC 6298 §2 and §5 (RTT, RTO)
fin-stack|TCP FIN from tapstack: the server closes its side|the HTTP server: ts_close() when curl closed first (ts_recv() returned 0), or ts_shutdown(SHUT_WR) in http_linger() (tools/lib/ts_http.c) when it closes first|ts_close() or ts_shutdown() (socket_api/ts_socket.c) -> tcp_output() (tcp/tcp_out.c): a FIN after the last byte; CLOSE-WAIT becomes LAST-ACK (or ESTABLISHED becomes FIN-WAIT-1)|RFC 9293 §3.10.4 (CLOSE call) and §3.6 (closing a connection); RFC 9112 §9.6 (lingering close)
fin-host|TCP FIN from the host: curl is done|curl (close())|tcp_input() -> tcp_conn_input() -> tcp_in_sync() -> tcp_in_fin() (tcp/tcp_in.c): ts_recv() returns 0 (end of file) to the server|RFC 9293 §3.10.7.4 "eighth, check the FIN bit"
rst|TCP RST|either side|tcp_in_rst() (tcp/tcp_in.c) on arrival, tcp_send_rst() / tcp_reply_rst() (tcp/tcp_out.c) on sending|RFC 9293 §3.10.7 and §3.5.2 (reset generation); RFC 5961 §3 (blind reset)
other|Another frame|-|-|-'

kind_field() {
    awk -F'|' -v k="$1" -v f="$2" '$1 == k { print $f; exit }' <<<"$KINDS"
}

if [ "$(id -u)" != 0 ] && ! ts_has_cap 12; then
    die "needs root or CAP_NET_ADMIN for a namespace and a TAP (try: sudo make walkthrough)"
fi
[ -c /dev/net/tun ] || die "/dev/net/tun is missing (no TUN/TAP support here)"
for t in ip timeout tshark curl python3; do
    ts_have "$t" || die "$t is not installed (make deps)"
done
for b in tapstack tapstack-draw; do
    [ -x "$BUILD/$b" ] || die "$BUILD/$b is not built (make)"
done
TS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ts-walk.$$.XXXXXX") || die "mktemp failed"
trap ts_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
PCAP=$TS_TMP/walk.pcap
TRACE=""
TRACE_ARGS=()
if "$BUILD/tapstack" --help 2>/dev/null | grep -q -- '--trace'; then
    TRACE=$TS_TMP/walk.jsonl
    TRACE_ARGS=(--trace "$TRACE")
fi

# ---- the run ----------------------------------------------------------------
run() {
    local www=$TS_TMP/www
    mkdir -p "$www" && printf 'Hello from tapstack!\n' >"$www/hello.txt"
    TS_NS=ts-walk-$$
    timeout 10 ip netns add "$TS_NS" || die "cannot create network namespace $TS_NS"
    TS_NAMESPACES=$TS_NS
    timeout 10 ip -n "$TS_NS" link set lo up
    STACK_CMD="tapstack --iface $TAP --addr $STACK_IP/24 --host-addr $HOST_IP/24 --services http --http-root DIR --pcap walk.pcap${TRACE:+ --trace walk.jsonl}"
    ts_stack_start "$TS_NS" walk --iface "$TAP" --addr "$STACK_IP/24" \
        --host-addr "$HOST_IP/24" --services http --http-root "$www" \
        --pcap "$PCAP" "${TRACE_ARGS[@]}" || die "tapstack did not start"
    ts_nsrun "$TS_NS" 20 curl -s -o "$TS_TMP/body" "http://$STACK_IP/hello.txt" ||
        die "curl failed"
    cmp -s "$TS_TMP/body" "$www/hello.txt" || die "curl got the wrong bytes"
    sleep 0.3       # let the last ACK of the close reach the capture
    ts_stack_stop TERM
    [ "$TS_STACK_RC" = 0 ] || die "tapstack exited with status $TS_STACK_RC"
}

# One line per frame: number kind. The first pure ACK from the host after
# the SYN,ACK completes the handshake.
classify() {
    timeout 60 tshark -n -r "$PCAP" -T fields -E separator=' ' -E occurrence=f \
        -e frame.number -e arp.opcode -e arp.src.proto_ipv4 -e ip.src \
        -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.reset \
        -e tcp.len 2>/dev/null |
    awk -v host="$HOST_IP" '
        NF == 3 && $2 == 1 { print $1, ($3 == host ? "arp-request" : "arp-announce"); next }
        NF == 3 && $2 == 2 { print $1, "arp-reply"; next }
        NF == 7 {
            from = ($2 == host) ? "host" : "stack"
            if ($6 == 1) k = "rst"
            else if ($3 == 1 && $4 == 0) k = "syn"
            else if ($3 == 1) { k = "synack"; synack = 1 }
            else if ($5 == 1) k = "fin-" from
            else if ($7 > 0) k = "data-" from
            else if (from == "host" && synack == 1) { k = "ack-handshake"; synack = 2 }
            else k = "ack-" from
            print $1, k; next
        }
        { print $1, "other" }'
}

# ---- the document -----------------------------------------------------------
fence() {
    echo '```'"${1:-}"
    cat
    echo '```'
}

# The tshark -V excerpt of frame N: details of the layers we implement.
excerpt() {
    timeout 60 tshark -n -r "$PCAP" -Y "frame.number == $1" -O eth,arp,ip,tcp,http \
        2>/dev/null | grep -v -e "^$" -e "= LG bit" -e "= IG bit" | head -n 80
}

# The trace lines that name frame N (frame_in or frame_out).
trace_lines() {
    python3 - "$TRACE" "$1" <<'PY'
import json, sys
n = int(sys.argv[2])
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    out = o.get("frame_out", [])
    out = out if isinstance(out, list) else [out]
    if o.get("frame_in") == n or n in out:
        print(line.rstrip())
PY
}

frame_section() {
    local no=$1 kind=$2 others=$3 tl
    echo "### Frame $no: $(kind_field "$kind" 2)"
    echo
    echo "**Sent by:** $(kind_field "$kind" 3)."
    [ -n "$others" ] && echo "Frames of the same kind later in the capture: $others."
    echo
    excerpt "$no" | fence
    echo
    echo "**In tapstack:** $(kind_field "$kind" 4)."
    echo
    echo "**RFC:** $(kind_field "$kind" 5)."
    echo
    if [ -n "$TRACE" ]; then
        tl=$(trace_lines "$no")
        if [ -n "$tl" ]; then
            echo "**The trace lines that name frame $no:**"
            echo
            fence json <<<"$tl"
        else
            echo "**The trace** names no event for frame $no."
        fi
        echo
    fi
}

# The socket calls the trace recorded for connections (layer sock): they
# name no frame, so they are listed on their own.
sock_lines() {
    python3 - "$TRACE" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("layer") == "sock" and o.get("conn"):
        print(line.rstrip())
PY
}

document() {
    local classes=$1 kinds k first others
    cat <<HEAD
# A walk through the layers: one curl, frame by frame

*Generated by \`tools/walkthrough.sh\` (\`make walkthrough\`) from a real run on
$(date -u +%Y-%m-%d); run it again and this page is rewritten from a new
capture, so it never describes code that is gone.*

One \`curl\` on the host fetches \`/hello.txt\` from tapstack's HTTP server.
The request goes down the host kernel's stack and onto a TAP device; tapstack
reads the Ethernet frame from the TAP and carries it up through its own
layers, Ethernet, ARP or IPv4, TCP, to the socket call in its HTTP server,
and the answer comes back down the same way. Below, every frame of that
exchange as \`tshark\` shows it, and beside each kind of frame the function
in our code that handled it and the RFC section that rules what it did.

## The run

In a private network namespace (nothing leaves it):

\`\`\`
$STACK_CMD
curl -s http://$STACK_IP/hello.txt        # from the host side of the TAP
\`\`\`

The host kernel is $HOST_IP; tapstack is $STACK_IP (MAC 02:00:0a:00:00:02).
HEAD
    if [ -z "$TRACE" ]; then
        cat <<'NOTRACE'

The JSON-lines trace (`tapstack --trace FILE`, issue 9) is not in this
build of tapstack yet: once it is, `make walkthrough` detects it and puts
beside each frame the trace lines that name it (state changes, RTT and
window updates, each with its RFC section).
NOTRACE
    fi
    echo
    echo "## Every frame (tshark)"
    echo
    timeout 60 tshark -n -r "$PCAP" 2>/dev/null | fence
    echo
    echo "## The ladder diagram"
    echo
    echo "Drawn by \`tapstack-draw ladder --port 80${TRACE:+ --trace walk.jsonl} walk.pcap\`:"
    echo "one arrow per segment, the state each side entered beside its line"
    echo "(italic: inferred from the segments; upright: reported by the trace)."
    echo
    echo "![ladder diagram of the connection](walkthrough-ladder.svg)"
    echo
    echo "## Frame by frame, layer by layer"
    echo
    echo "Each kind of frame once, in the order it first appears."
    echo
    kinds=$(awk '!seen[$2]++ { print $2 }' <<<"$classes")
    for k in $kinds; do
        first=$(awk -v k="$k" '$2 == k { print $1; exit }' <<<"$classes")
        others=$(awk -v k="$k" -v f="$first" '$2 == k && $1 != f { printf "%s%s", sep, $1; sep = ", " }' <<<"$classes")
        frame_section "$first" "$k" "$others"
    done
    echo "## The map: frame kind, function, RFC"
    echo
    echo "| frame | handled by | RFC |"
    echo "| --- | --- | --- |"
    for k in $kinds; do
        echo "| $(kind_field "$k" 2) | $(kind_field "$k" 4) | $(kind_field "$k" 5) |"
    done
    echo
    cat <<'TAIL'
## Up to the socket call and back

The HTTP server (tools/lib/ts_http.c) is an ordinary program on tapstack's
BSD-like API (socket_api/tapstack.h): `ts_server` accepts the connection
(`ts_accept`), `http_read_head` reads the request with `ts_recv`,
`http_send_all` answers with `ts_send`, and `http_linger` half-closes with
`ts_shutdown(SHUT_WR)` then reads until curl closes. Each of those calls
takes the stack's lock and moves bytes between the application and the TCP
connection's buffers; the segments above are what the TCP layer made of them.
TAIL
    if [ -n "$TRACE" ]; then
        echo
        echo "The socket calls on the connection, as the trace recorded them:"
        echo
        sock_lines | fence json
    fi
    cat <<'END'

To see it yourself: `sudo make walkthrough`, or run the commands of "The run"
in a namespace and open the capture with `tshark -V -r walk.pcap` and the
pictures with `tapstack-draw --html walk.html walk.pcap`.
END
}

run
CLASSES=$(classify)
[ -n "$CLASSES" ] || die "tshark read no frames from the capture"
"$BUILD/tapstack-draw" ladder --port 80 ${TRACE:+--trace "$TRACE"} -o "$SVG.tmp" "$PCAP" ||
    die "tapstack-draw failed"
mv -f "$SVG.tmp" "$SVG"
document "$CLASSES" >"$OUT.tmp" || die "writing $OUT failed"
mv -f "$OUT.tmp" "$OUT"
echo "walkthrough: wrote $OUT and $SVG ($(grep -c '^### Frame' "$OUT") kinds of frame, $(wc -l <<<"$CLASSES") frames)"
