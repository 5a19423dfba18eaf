#!/bin/bash
# tools/bench-http.sh - HTTP requests per second and memory per connection
# (issue 4's benchmark; `make bench` runs it after tools/bench.sh).
#
#  1. wrk (bounded by -d) against tapstack's HTTP service on a TAP, and
#     against the SAME server code built on the kernel's sockets
#     (build/ts-httpd-kernel, tools/lib/ts_kernel.h) in a second namespace
#     reached over veth: one source, two stacks, so the ratio is fair.
#  2. 1,000 TCP connections held open to tapstack's echo service: the
#     stack's resident memory before and after, per connection.
# Everything runs in namespaces named tsbh-PID-*, removed at the end.
# A benchmark: it prints figures, never a verdict. Needs root and wrk
# (apt-get install wrk); prints SKIP and exits 0 without them.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
: "${BUILD:=build}"
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
WRK_TIME=${BENCH_TIME:-5}
CONNS=1000

[ "$(id -u)" = 0 ] || ts_skip "bench-http needs root (network namespaces)"
ts_have wrk || ts_skip "wrk is not installed (apt-get install wrk)"
ts_have python3 || ts_skip "python3 is not installed"
TS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tsbh.$$.XXXXXX") || exit 1
trap ts_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$TS_TMP/www"
head -c 1024 /dev/urandom | base64 > "$TS_TMP/www/index.html"

rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }

# (a) tapstack on a TAP
ts_netns_create tsbh-s || exit 1
NS_S=$TS_NS
ts_stack_start "$NS_S" http --iface tsbh0 --host-addr 10.0.0.1/24 \
    --addr 10.0.0.2/24 --services http,echo --http-root "$TS_TMP/www" ||
    { echo "bench-http: tapstack did not start" >&2; exit 1; }
CMD_TS="ip netns exec $NS_S wrk -t2 -c32 -d${WRK_TIME}s http://10.0.0.2/index.html"
ts_nsrun "$NS_S" $((WRK_TIME + 20)) wrk -t2 -c32 -d"${WRK_TIME}s" \
    http://10.0.0.2/index.html > "$TS_TMP/wrk-ts" 2>&1

# 1,000 connections held open to echo: resident memory per connection.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$TS_STACK_PID/status"; }
before=$(rss)
ts_nsrun "$NS_S" 60 python3 - "$CONNS" > "$TS_TMP/held" 2>&1 <<'PY'
import socket, sys, time
n = int(sys.argv[1]); socks = []
for i in range(n):
    s = socket.create_connection(("10.0.0.2", 7), timeout=5)
    s.sendall(b"x"); s.recv(1); socks.append(s)
print("held", len(socks), flush=True)
time.sleep(3)
PY
after=$(rss)
ts_stack_stop TERM

# (b) the same server on kernel sockets, client and server over veth
ts_netns_create tsbh-a || exit 1
NS_A=$TS_NS
ts_netns_create tsbh-b || exit 1
NS_B=$TS_NS
timeout 10 ip -n "$NS_A" link add tsbhv0 type veth peer name tsbhv1 netns "$NS_B"
for ns in "$NS_A:tsbhv0:10.0.1.1" "$NS_B:tsbhv1:10.0.1.2"; do
    IFS=: read -r n dev addr <<< "$ns"
    timeout 10 ip netns exec "$n" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    timeout 10 ip -n "$n" addr add "$addr/24" dev "$dev"
    timeout 10 ip -n "$n" link set "$dev" up
done
ip netns exec "$NS_B" timeout $((WRK_TIME + 30)) "$BUILD/ts-httpd-kernel" \
    --port 8080 "$TS_TMP/www" > "$TS_TMP/httpd-k.out" 2>&1 &
ts_track_pid $!
sleep 0.5
CMD_K="ip netns exec $NS_A wrk -t2 -c32 -d${WRK_TIME}s http://10.0.1.2:8080/index.html"
ts_nsrun "$NS_A" $((WRK_TIME + 20)) wrk -t2 -c32 -d"${WRK_TIME}s" \
    http://10.0.1.2:8080/index.html > "$TS_TMP/wrk-k" 2>&1

a=$(rps "$TS_TMP/wrk-ts")
b=$(rps "$TS_TMP/wrk-k")
echo
echo "== HTTP: wrk -t2 -c32 -d${WRK_TIME}s, 1.4 KB page, same server source (ts_http)"
printf '%-36s %14s %14s %8s\n' measurement "tapstack (TAP)" "kernel (veth)" ratio
printf '%-36s %14s %14s %8s\n' "HTTP requests/s" "${a:-?}" "${b:-?}" \
    "$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "?" }')"
echo "   $CMD_TS"
echo "   $CMD_K"
echo
echo "== $CONNS TCP connections held open to echo (:7): $(head -n1 "$TS_TMP/held")"
if [ -n "$before" ] && [ -n "$after" ]; then
    echo "   tapstack VmRSS ${before} kB -> ${after} kB: $(( (after - before) / CONNS )) kB per connection resident"
    echo "   (each connection reserves 256 KiB + 256 KiB of ring buffers, touched only as data arrives, and one server thread)"
fi
