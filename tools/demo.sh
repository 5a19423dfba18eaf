#!/bin/bash
# tools/demo.sh - show tapstack answering the host kernel, with a capture.
#
#   make demo                 (builds first)
#   BUILD=build DEMO_PCAP=/tmp/x.pcap tools/demo.sh
#
# Makes a private network namespace (ts-demo-<pid>), starts the stack there
# on a new TAP with --host-addr (the kernel side gets 10.0.0.1/24, the stack
# is 10.0.0.2/24), and captures every frame to $DEMO_PCAP (default
# $BUILD/demo.pcap). Then: ping -c 5, ping -c 3 -s 4000 (fragments both
# ways), arping -c 3, a line through the TCP echo service and the TCP
# daytime service with nc (the stack logs every state change with -v); a
# tutorial Python echo server run unmodified on the stack with tapstack-run
# and reached from the host with nc; tapstack-ctl ss -a;
# stops the stack with SIGTERM so it prints its
# counters; prints a tshark (or tcpdump) listing of the capture; tears the
# namespace down; last, draws the capture with tapstack-draw into one HTML
# page ($DEMO_HTML, default $BUILD/demo.html: ladder diagrams, time-sequence
# graphs, the frame list, and the trace when tapstack writes one with
# --trace) and says where it is. The machine's own interfaces are never
# touched. Needs root (or CAP_NET_ADMIN and CAP_NET_RAW). Exits 1 when a
# step failed.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
: "${BUILD:=build}"
PCAP=${DEMO_PCAP:-$BUILD/demo.pcap}
HTML=${DEMO_HTML:-$BUILD/demo.html}
TRACE=""
TRACE_ARGS=()
# The JSON-lines trace, when this tapstack has it: the page links each
# frame to the trace lines that name it.
if "$BUILD/tapstack" --help 2>/dev/null | grep -q -- '--trace'; then
    TRACE=${DEMO_TRACE:-$BUILD/demo.jsonl}
    TRACE_ARGS=(--trace "$TRACE")
fi
TAP=tsdemo0
HOST_IP=10.0.0.1
STACK_IP=10.0.0.2

# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

header() {
    echo
    echo "=== $* ==="
}

die() {
    echo "demo: $*" >&2
    exit 1
}

if [ "$(id -u)" != 0 ] && ! ts_has_cap 12; then
    die "needs root or CAP_NET_ADMIN to make a namespace and a TAP (try: sudo make demo)"
fi
[ -c /dev/net/tun ] || die "/dev/net/tun is missing (no TUN/TAP support here)"
for t in ip timeout ping; do
    ts_have "$t" || die "$t is not installed (make deps)"
done
[ -x "$BUILD/tapstack" ] || die "$BUILD/tapstack is not built (make)"
TS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ts-demo.$$.XXXXXX") || die "mktemp failed"
trap ts_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$(dirname "$PCAP")"
failed=""
rm -f "$PCAP"

header "namespace and stack"
TS_NS=ts-demo-$$
timeout 10 ip netns add "$TS_NS" || die "cannot create network namespace $TS_NS"
TS_NAMESPACES=$TS_NS
timeout 10 ip -n "$TS_NS" link set lo up
echo "namespace $TS_NS; $BUILD/tapstack --iface $TAP --addr $STACK_IP/24 --host-addr $HOST_IP/24 --pcap $PCAP ${TRACE_ARGS[*]} -v"
if ! ts_stack_start "$TS_NS" demo --iface "$TAP" --addr "$STACK_IP/24" \
    --host-addr "$HOST_IP/24" --pcap "$PCAP" "${TRACE_ARGS[@]}" -v; then
    die "tapstack did not start"
fi
cat "$TS_STACK_OUT"
ip -n "$TS_NS" -4 -br addr show dev "$TAP"

header "ping -c 5 $STACK_IP"
ts_nsrun "$TS_NS" 30 ping -n -c 5 -i 0.2 -W 2 "$STACK_IP" || failed="$failed ping"

header "ping -c 3 -s 4000 $STACK_IP (each way: 3 IP fragments)"
ts_nsrun "$TS_NS" 30 ping -n -c 3 -i 0.2 -W 2 -s 4000 "$STACK_IP" ||
    failed="$failed ping-4000"

header "arping -c 3 $STACK_IP"
if ts_have arping; then
    ts_nsrun "$TS_NS" 15 arping -I "$TAP" -c 3 -w 10 "$STACK_IP" ||
        failed="$failed arping"
else
    echo "(arping not installed: skipped)"
fi

header "TCP: echo 'hello, tapstack' | nc -N $STACK_IP 7"
if ts_have nc; then
    echo "hello, tapstack" | ts_nsrun "$TS_NS" 10 nc -N "$STACK_IP" 7 ||
        failed="$failed tcp-echo"
    header "TCP: nc -d $STACK_IP 13 (daytime)"
    ts_nsrun "$TS_NS" 10 nc -d "$STACK_IP" 13 || failed="$failed tcp-daytime"
else
    echo "(nc not installed: skipped)"
fi

header "an unmodified program on the stack: tapstack-run python3 (echo server, port 9999)"
if [ -x "$BUILD/tapstack-run" ] && [ -x /usr/bin/python3 ] && ts_have nc; then
    cat > "$TS_TMP/echo_server.py" <<'PY'
import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("", 9999))
    s.listen()
    conn, addr = s.accept()
    with conn:
        print("echo_server.py: connected by", addr, flush=True)
        while data := conn.recv(1024):
            conn.sendall(data)
PY
    echo "$BUILD/tapstack-run python3 echo_server.py &   then, from the host: nc $STACK_IP 9999"
    timeout 20 ip netns exec "$TS_NS" "$BUILD/tapstack-run" --iface "$TAP" /usr/bin/python3 \
        "$TS_TMP/echo_server.py" &
    srv=$!
    ts_track_pid "$srv"
    for ((i = 0; i < 50; i++)); do
        ts_nsrun "$TS_NS" 5 "$BUILD/tapstack-ctl" --iface "$TAP" ss -l --port 9999 2>/dev/null |
            grep -q LISTEN && break
        sleep 0.1
    done
    echo "hello through a Python program on tapstack" |
        ts_nsrun "$TS_NS" 10 nc -N "$STACK_IP" 9999 || failed="$failed tapstack-run"
    wait "$srv" || failed="$failed tapstack-run"
    ts_untrack_pid "$srv"
    header "tapstack-ctl ss -a (every socket now: the services, TIME-WAIT)"
    ts_nsrun "$TS_NS" 5 "$BUILD/tapstack-ctl" --iface "$TAP" ss -a || failed="$failed tapstack-ctl"
else
    echo "(build/tapstack-run, /usr/bin/python3 or nc missing: skipped)"
fi

header "stop the stack (SIGTERM): its counters"
off=$(stat -c %s "$TS_STACK_OUT")
ts_stack_stop TERM
tail -c +"$((off + 1))" "$TS_STACK_OUT"
echo "(tapstack exit status: $TS_STACK_RC)"
[ "$TS_STACK_RC" = 0 ] || failed="$failed stop"
if [ -s "$TS_STACK_ERR" ]; then
    echo "stderr (-v: every TCP state change):"
    sed 's/^/  /' "$TS_STACK_ERR"
fi

header "the capture: $PCAP"
if ts_have tshark; then
    timeout 60 tshark -n -r "$PCAP" 2>&1 | grep -v '^Running as user'
elif ts_have tcpdump; then
    timeout 60 tcpdump -n -e -r "$PCAP"
else
    echo "(neither tshark nor tcpdump is installed)"
fi

header "tear down"
ts_cleanup
echo "namespace $TS_NS deleted"
echo "capture kept at $PCAP (open it with wireshark, tshark -r or tcpdump -r)"

header "pictures: tapstack-draw"
if [ -x "$BUILD/tapstack-draw" ]; then
    echo "$BUILD/tapstack-draw --html $HTML ${TRACE:+--trace $TRACE }$PCAP"
    if "$BUILD/tapstack-draw" --html "$HTML" ${TRACE:+--trace "$TRACE"} "$PCAP"; then
        echo "the HTML page of this capture is at $HTML (open it in a browser:"
        echo "ladder diagrams and time-sequence graphs beside the frame list)"
    else
        failed="$failed draw"
    fi
else
    echo "($BUILD/tapstack-draw is not built: no pictures)"
fi
if [ -n "$failed" ]; then
    echo "demo: these steps failed:$failed" >&2
    exit 1
fi
