#!/bin/bash
# tools/bench.sh - `make bench`: tapstack's TCP against the kernel's own TCP,
# measured in the same run and printed side by side with the ratio.
#
#   BUILD=build tools/bench.sh            (make bench; BENCH_TIME=5 per run)
#
# A benchmark, not a test: nothing is compared with a threshold. It exits 0
# with its table, 0 with "SKIP: ..." without root/CAP_NET_ADMIN, /dev/net/tun
# or ip(8), and 1 when a run could not produce its figure (the table still
# shows what happened, with the error).
#
# Two set-ups, both in private network namespaces named tsb-$$-*:
#  (a) tsb-$$-s: $BUILD/tapstack on TAP tsb0, kernel side 10.0.0.1, stack
#      10.0.0.2, its discard (9), chargen (19) and echo (7) services;
#  (b) tsb-$$-a and tsb-$$-b joined by a veth pair, 10.0.1.1 -> 10.0.1.2,
#      with $BUILD/tcpbench serve-discard/-chargen/-echo on kernel sockets
#      in tsb-$$-b: the reference.
#  (c) in (a), the same tcpbench servers run unmodified under
#      $BUILD/tapstack-run on the stack (ports 2009, 2019, 2007): the cost of
#      the preload path (a program sharing the stack through its control
#      socket) against the in-process services; and iperf3 -s under
#      tapstack-run against iperf3 -s on the veth reference.
# Three measurements, each BENCH_TIME seconds, one connection, MTU 1500 on
# both links, tapstack run, tapstack-run run, kernel run back to back:
#  1. bulk host -> stack: `tcpbench send` to discard (bytes the server read);
#  2. bulk stack -> host: `tcpbench recv` from chargen (pattern checked);
#  3. request/response: `tcpbench rr`, 64-byte messages to echo, one
#     outstanding at a time (round trips/s, latency).
# Around each tapstack run the stack's counters are read (SIGUSR1) and the
# retransmission and drop counters that moved are printed, with the kernel's
# own RetransSegs (and how many of them the receiver reported as needless by
# DSACK: over veth most are, from reordering) from /proc/net/snmp and
# /proc/net/netstat of each namespace. The 64 KB GSO/GRO super-packets of
# veth against one frame per syscall on the TAP explain much of the bulk
# ratio (DESIGN.md §7, TAP offloads, comes later). IPv6 is off in every
# namespace; no capture (it would slow the stack). Nothing outside the
# namespaces is touched; every command is bounded by timeout(1); an EXIT
# trap kills what was started (by PID) and deletes the namespaces. Logs
# (tapstack's output and final counters, the servers' lines) are kept in
# $BUILD/bench/.
set -u

: "${BUILD:=build}"
BENCH_TIME=${BENCH_TIME:-5}
if ! [[ "$BENCH_TIME" =~ ^[1-9][0-9]?$ ]] || [ "$BENCH_TIME" -gt 30 ]; then
    echo "bench: BENCH_TIME must be whole seconds, 1..30 (got '$BENCH_TIME')" >&2
    exit 2
fi
RR_SIZE=64
MTU=1500
TAP=tsb0
HOST_IP=10.0.0.1
STACK_IP=10.0.0.2
VA_IP=10.0.1.1
VB_IP=10.0.1.2
NS_S=tsb-$$-s
NS_A=tsb-$$-a
NS_B=tsb-$$-b
LIFETIME=$((BENCH_TIME * 6 + 90))       # bound on every process we start
RUN_BOUND=$((BENCH_TIME + 30))          # bound on one client run
LOG=$BUILD/bench

PIDS=""
NAMESPACES=""
CMDS=()
FAILED=0
STACK_PID=""

skip() {
    echo "SKIP: $*"
    exit 0
}

has_cap() {
    local hex
    hex=$(awk '/^CapEff:/ { print $2 }' /proc/self/status 2>/dev/null)
    [ -n "$hex" ] && (( (16#$hex >> $1) & 1 ))
}

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
    local pid ns i
    for pid in $PIDS; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $PIDS; do
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    PIDS=""
    for ns in $NAMESPACES; do
        timeout 10 ip netns del "$ns" 2>/dev/null
    done
    NAMESPACES=""
}

untrack() {
    local p out=""
    for p in $PIDS; do
        [ "$p" = "$1" ] || out="$out $p"
    done
    PIDS=$out
}

# A command as it would be typed (these never hold spaces or quotes).
show() {
    local IFS=' '
    echo "$*"
}

# Record a command for the "commands" list, then run it.
logged() {
    CMDS+=("$(show "$@")")
    "$@"
}

nsrun() {       # nsrun NS SECONDS CMD...: bounded command inside NS
    local ns=$1 secs=$2
    shift 2
    timeout -k 2 "$secs" ip netns exec "$ns" "$@"
}

netns_new() {
    logged timeout 10 ip netns add "$1" 2>"$LOG/netns.err" ||
        skip "cannot create a network namespace: $(head -n1 "$LOG/netns.err")"
    NAMESPACES="$NAMESPACES $1"
    timeout 10 ip -n "$1" link set lo up
    # No IPv6 on any link made here from now on (no RS/MLD/DAD traffic).
    nsrun "$1" 10 sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
    nsrun "$1" 10 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
    return 0
}

# Wait (bounded) until FILE has a line matching RE while PID lives.
wait_line() {
    local file=$1 re=$2 pid=$3 i
    for ((i = 0; i < 200; i++)); do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# SIGUSR1 the stack and copy the counter dump it prints into FILE (what its
# stdout gained, once it holds the last section and stops growing; 5 s).
stack_snap() {
    local file=$1 off size last=-1 i
    off=$(stat -c %s "$LOG/tapstack.out")
    kill -USR1 "$STACK_PID" 2>/dev/null || return 1
    for ((i = 0; i < 100; i++)); do
        sleep 0.05
        size=$(stat -c %s "$LOG/tapstack.out")
        if [ "$size" -gt "$off" ] && [ "$size" = "$last" ]; then
            tail -c +"$((off + 1))" "$LOG/tapstack.out" >"$file"
            grep -q '^stack:$' "$file" && return 0
        fi
        last=$size
    done
    : >"$file"
    return 1
}

counter() {     # counter FILE SECTION NAME
    awk -v s="$2" -v n="$3" '
        /^[A-Za-z0-9_]+:$/ { sec = substr($0, 1, length($0) - 1); next }
        sec == s && $1 == n { print $2; exit }' "$1"
}

# The kernel's TCP counters in namespace NS: "RetransSegs DSACKRecvSegs"
# (DSACK: segments the receiver reports it got twice, i.e. retransmitted
# for nothing, as after reordering).
# shellcheck disable=SC2016 # $0 is awk's
kretrans() {
    nsrun "$1" 5 awk '
        $1 == "Tcp:" || $1 == "TcpExt:" {
            if (!(($1) in hdr)) { hdr[$1] = $0; next }
            n = split(hdr[$1], k); split($0, v)
            for (i = 2; i <= n; i++) val[k[i]] = v[i]
        }
        END { printf "%d %d\n", val["RetransSegs"], val["TCPDSACKRecvSegs"] }' \
        /proc/net/snmp /proc/net/netstat
}

# kdelta "R0 D0" "R1 D1" ["R0' D0'" "R1' D1'"]: retransmits (n DSACKed)
kdelta() {
    local r=0 d=0 a b
    while [ $# -ge 2 ]; do
        read -r a b <<<"$1"
        r=$((r - a)) d=$((d - b))
        read -r a b <<<"$2"
        r=$((r + a)) d=$((d + b))
        shift 2
    done
    echo "$r (DSACKed as needless: $d)"
}

# Stack counters that moved between dumps A and B, worth a look in a
# benchmark: the segments each way, and every sign of loss, reordering or
# pressure (drops, retransmissions, time-outs, duplicate ACKs, out-of-order
# data, SACK, probes, resets, buffer shortage), whatever the layer.
stack_delta() {
    awk '
        /^[A-Za-z0-9_]+:$/ { sec = substr($0, 1, length($0) - 1); next }
        NF >= 2 && $2 ~ /^[0-9]+$/ {
            k = sec "." $1
            if (FILENAME == ARGV[1]) { a[k] = $2; next }
            if (!(k in a)) next
            d = $2 - a[k]
            if (k == "tcp.rx_segments" || k == "tcp.tx_segments")
                out = out " " $1 "=" d
            else if (d != 0 && k !~ /conns_|in_use/ &&
                     $1 ~ /drop|retrans|rto|dup|ooo|sack|probe|rst|reset|timeout|no_buffer|fail|error|window|challenge/)
                out = out " " (sec == "tcp" ? "" : sec ".") $1 "=" d
        }
        END { print substr(out, 2) }' "$1" "$2"
}

# CPU time (user + system, in clock ticks) the stack has used so far.
stack_ticks() {
    local st f
    st=$(cat "/proc/$STACK_PID/stat" 2>/dev/null) || { echo 0; return; }
    st=${st##*) }
    read -r -a f <<<"$st"
    echo $((f[11] + f[12]))
}

kv() {          # kv LINE KEY: the value of KEY=... in a tcpbench line
    local w
    for w in $1; do
        case $w in "$2="*) echo "${w#*=}"; return ;; esac
    done
}

# run_client LABEL NS CLIENT-ARGS...: one tcpbench run; its line -> R_<LABEL>.
run_client() {
    local label=$1 ns=$2 line
    shift 2
    CMDS+=("$(show ip netns exec "$ns" "$BUILD/tcpbench" "$@")")
    line=$(nsrun "$ns" "$RUN_BOUND" "$BUILD/tcpbench" "$@" 2>"$LOG/$label.err" |
           grep '^tcpbench ')
    [ -n "$line" ] || line="tcpbench error=no-output($(head -c 200 "$LOG/$label.err" | tr '\n' ' '))"
    echo "    $line"
    case $line in *error=*) FAILED=$((FAILED + 1)) ;; esac
    printf -v "R_$label" '%s' "$line"
}

# One measurement on both set-ups. MODE tapstack-port kernel-port ARGS...
measure() {
    local mode=$1 sport=$2 kport=$3 kns0 kns1 ka0 ka1 kb0 kb1 t0 t1 w0 w1 cpu
    shift 3
    echo "  $mode (tapstack ${STACK_IP}:$sport, then kernel ${VB_IP}:$kport)"
    stack_snap "$LOG/snap.$mode.0" || echo "    (no counter dump before the run)"
    # The kernel that sends data is the one whose retransmissions say
    # something: the host in send and rr, none of ours in recv (the stack).
    kns0=$(kretrans "$NS_S")
    t0=$(stack_ticks)
    w0=$(date +%s%N)
    run_client "s_$mode" "$NS_S" "$mode" --host "$STACK_IP" --port "$sport" "$@"
    t1=$(stack_ticks)
    [ -n "$PRELOAD" ] &&
        run_client "p_$mode" "$NS_S" "$mode" --host "$STACK_IP" \
            --port "$((sport + 2000))" "$@"
    w1=$(date +%s%N)
    kns1=$(kretrans "$NS_S")
    stack_snap "$LOG/snap.$mode.1" || echo "    (no counter dump after the run)"
    cpu=$(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v ns="$((w1 - w0))" \
        'BEGIN { printf "%.0f%%", (ns > 0 ? 100 * t / hz / (ns / 1e9) : 0) }')
    printf -v "C_$mode" '%s' "cpu=$cpu $(stack_delta "$LOG/snap.$mode.0" "$LOG/snap.$mode.1")"
    printf -v "KS_$mode" '%s' "$(kdelta "$kns0" "$kns1")"
    ka0=$(kretrans "$NS_A")
    kb0=$(kretrans "$NS_B")
    run_client "k_$mode" "$NS_A" "$mode" --host "$VB_IP" --port "$kport" "$@"
    ka1=$(kretrans "$NS_A")
    kb1=$(kretrans "$NS_B")
    printf -v "KK_$mode" '%s' "$(kdelta "$ka0" "$ka1" "$kb0" "$kb1")"
}

# Figure for a result line: throughput in Gbit/s or round trips/s.
fig() {
    local line=$1 key=$2 v
    v=$(kv "$line" "$key")
    [ -n "$v" ] || { echo "-"; return; }
    echo "$v"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3f", a / b }'
}

row() {         # row TITLE UNIT KEY MODE
    local title=$1 unit=$2 key=$3 mode=$4 s p k sl pl kl
    sl=R_s_$mode
    pl=R_p_$mode
    kl=R_k_$mode
    s=$(fig "${!sl}" "$key")
    p=$(fig "${!pl:-}" "$key")
    k=$(fig "${!kl}" "$key")
    printf '%-34s %10s %10s %-7s %10s %-7s %8s %8s\n' "$title" "$s" "$p" "$unit" \
        "$k" "$unit" "$(ratio "$s" "$k")" "$(ratio "$p" "$s")"
}

# iperf3 -c from NS to HOST for BENCH_TIME s (extra args: -R); prints the
# receiver's Gbit/s, or "-".
iperf_run() {
    local ns=$1 host=$2 label=$3 pre=() a args=()
    shift 3
    for a in "$@"; do
        if [ "$a" = --tapstack-run ]; then
            pre=("$BUILD/tapstack-run" --ctl "@tapstack/$TAP" --)
        else
            args+=("$a")
        fi
    done
    CMDS+=("$(show ip netns exec "$ns" "${pre[@]}" iperf3 -c "$host" -t "$BENCH_TIME" -J "${args[@]}")")
    nsrun "$ns" "$RUN_BOUND" "${pre[@]}" iperf3 -c "$host" -t "$BENCH_TIME" -J \
        "${args[@]}" >"$LOG/iperf-$label.json" 2>&1
    python3 -c 'import json,sys
try: print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("-")' "$LOG/iperf-$label.json"
}

# A server under tapstack-run on the stack (or, with NS_B, on the kernel):
# started through timeout(1) so a TERM reaches it; waits for READY in OUT.
start_server() {
    local ns=$1 out=$2 ready=$3 pid
    shift 3
    CMDS+=("$(show ip netns exec "$ns" "$@") &")
    timeout -k 2 "$((LIFETIME + 5))" ip netns exec "$ns" "$@" >"$out" 2>&1 &
    pid=$!
    PIDS="$PIDS $pid"
    wait_line "$out" "$ready" "$pid"
}

# --- preconditions -----------------------------------------------------------

if [ "$(id -u)" != 0 ] && ! has_cap 12; then
    skip "make bench needs root or CAP_NET_ADMIN for its network namespaces (run: sudo make bench)"
fi
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (no TUN/TAP support here)"
command -v ip >/dev/null 2>&1 || skip "ip(8) from iproute2 is not installed"
command -v timeout >/dev/null 2>&1 || skip "timeout(1) from coreutils is not installed"
for b in tapstack tcpbench; do
    if ! [ -x "$BUILD/$b" ]; then
        echo "bench: $BUILD/$b is not built (run: make BUILD=$BUILD all)" >&2
        exit 1
    fi
done
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
mkdir -p "$LOG" || exit 1
rm -f "$LOG"/*

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
T0=$(date +%s.%N)


# --- (a) tapstack on a TAP -------------------------------------------------

netns_new "$NS_S"
CMDS+=("$(show ip netns exec "$NS_S" "$BUILD/tapstack" --iface "$TAP" \
    --host-addr "$HOST_IP/24" --addr "$STACK_IP/24" --mtu "$MTU" --services echo,discard,chargen) &")
ip netns exec "$NS_S" timeout -s KILL "$LIFETIME" "$BUILD/tapstack" --iface "$TAP" \
    --host-addr "$HOST_IP/24" --addr "$STACK_IP/24" --mtu "$MTU" \
    --services echo,discard,chargen >"$LOG/tapstack.out" 2>"$LOG/tapstack.err" &
TIMEOUT_PID=$!
PIDS="$PIDS $TIMEOUT_PID"
# timeout(1) runs the stack as its child: signals go to the stack itself.
if wait_line "$LOG/tapstack.out" '^tapstack: ready' "$TIMEOUT_PID"; then
    STACK_PID=$(cat /proc/"$TIMEOUT_PID"/task/*/children 2>/dev/null | awk '{ print $1 }')
    [ -n "$STACK_PID" ] || STACK_PID=$(pgrep -P "$TIMEOUT_PID" -x tapstack | head -n1)
fi
if [ -z "$STACK_PID" ]; then
    echo "bench: tapstack did not start; its stderr:" >&2
    sed 's/^/    /' "$LOG/tapstack.err" >&2
    exit 1
fi
PIDS="$STACK_PID $PIDS"
nsrun "$NS_S" 10 sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null

# --- (b) two namespaces over veth, kernel servers --------------------------

netns_new "$NS_A"
netns_new "$NS_B"
logged timeout 10 ip -n "$NS_A" link add tsbv0 mtu "$MTU" type veth peer name tsbv1 netns "$NS_B" ||
    { echo "bench: cannot create the veth pair" >&2; exit 1; }
for side in "$NS_A tsbv0 $VA_IP" "$NS_B tsbv1 $VB_IP"; do
    read -r ns dev addr <<<"$side"
    nsrun "$ns" 10 sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null
    logged timeout 10 ip -n "$ns" link set "$dev" mtu "$MTU"
    logged timeout 10 ip -n "$ns" addr add "$addr/24" dev "$dev"
    logged timeout 10 ip -n "$ns" link set "$dev" up
done
for srv in "discard 9" "chargen 19" "echo 7"; do
    read -r name port <<<"$srv"
    CMDS+=("$(show ip netns exec "$NS_B" "$BUILD/tcpbench" "serve-$name" \
        "$port" --bind "$VB_IP" --lifetime "$LIFETIME") &")
    # Started directly (not through a shell function) so that $! is
    # timeout(1) itself, which passes our TERM on to the server.
    timeout -k 2 "$((LIFETIME + 5))" ip netns exec "$NS_B" "$BUILD/tcpbench" \
        "serve-$name" "$port" --bind "$VB_IP" --lifetime "$LIFETIME" \
        >"$LOG/serve-$name.out" 2>&1 &
    pid=$!
    PIDS="$PIDS $pid"
    if ! wait_line "$LOG/serve-$name.out" 'listening=' "$pid"; then
        echo "bench: tcpbench serve-$name did not start:" >&2
        sed 's/^/    /' "$LOG/serve-$name.out" >&2
        exit 1
    fi
done
# --- (c) the same servers, and iperf3, as unmodified programs on the stack -----

PRELOAD=""
if [ -x "$BUILD/tapstack-run" ] && [ -e "$BUILD/libtapstack-preload.so" ]; then
    PRELOAD=1
    for srv in "discard 2009" "chargen 2019" "echo 2007"; do
        read -r name port <<<"$srv"
        start_server "$NS_S" "$LOG/run-$name.out" 'listening=' \
            "$BUILD/tapstack-run" --ctl "@tapstack/$TAP" -- "$BUILD/tcpbench" \
            "serve-$name" "$port" --bind "$STACK_IP" --lifetime "$LIFETIME" ||
            { echo "bench: serve-$name under tapstack-run did not start:" >&2
              sed 's/^/    /' "$LOG/run-$name.out" >&2; PRELOAD=""; }
    done
fi
HAVE_IPERF=""
if [ -n "$PRELOAD" ] && command -v iperf3 >/dev/null 2>&1; then
    start_server "$NS_S" "$LOG/iperf-s-stack.out" 'listening' \
        "$BUILD/tapstack-run" --ctl "@tapstack/$TAP" -- iperf3 -s -p 5201 --forceflush &&
    start_server "$NS_B" "$LOG/iperf-s-kernel.out" 'listening' \
        iperf3 -s -B "$VB_IP" -p 5201 --forceflush && HAVE_IPERF=1
fi

# One ping each way warms ARP so the first run does not pay for it.
nsrun "$NS_S" 5 ping -n -q -c 1 -W 2 "$STACK_IP" >/dev/null 2>&1
nsrun "$NS_A" 5 ping -n -q -c 1 -W 2 "$VB_IP" >/dev/null 2>&1

# --- the runs ----------------------------------------------------------------

CC_ALGO=$(nsrun "$NS_A" 5 sysctl -n net.ipv4.tcp_congestion_control 2>/dev/null)
echo "== tapstack benchmark: ${BENCH_TIME} s per run, 1 connection, MTU $MTU," \
     "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
     "kernel congestion control ${CC_ALGO:-unknown}"

echo "runs:"
measure send 9 9 --time "$BENCH_TIME"
measure recv 19 19 --time "$BENCH_TIME"
measure rr 7 7 --time "$BENCH_TIME" --size "$RR_SIZE"
# Loopback (issue 12): one stack talking to itself. ts-loop is a server and
# a client in one program on one stack (its own TAP, in NS_A), against the
# same source on the kernel's lo (ts-loop-kernel); then iperf3 -s and -c
# both under tapstack-run on the running stack over 127.0.0.1, against
# iperf3 on the kernel's lo.
loop_kv() {     # loop_kv FILE WHAT: the figure of ts-loop's WHAT line
    awk -v w="$2" '$2 == w { for (i = 1; i <= NF; i++) if ($i ~ /Gbit\/s|\/s,$/) {
        v = $(i - (w == "bulk")); sub(/\/s,$/, "", v); print v; exit } }' "$1"
}
if [ -x "$BUILD/ts-loop" ] && [ -x "$BUILD/ts-loop-kernel" ]; then
    echo "  loopback (ts-loop on a stack of its own, then on the kernel's lo)"
    CMDS+=("$(show ip netns exec "$NS_A" "$BUILD/ts-loop" --iface tsbl0 --host-addr 10.9.0.1/24 --addr 10.9.0.2/24 -n 4294967296 -r 50000 -u 0)")
    nsrun "$NS_A" "$RUN_BOUND" "$BUILD/ts-loop" --iface tsbl0 \
        --host-addr 10.9.0.1/24 --addr 10.9.0.2/24 -n 4294967296 -r 50000 -u 0 \
        >"$LOG/loop-ts.out" 2>&1
    CMDS+=("$(show ip netns exec "$NS_A" "$BUILD/ts-loop-kernel" -n 4294967296 -r 50000 -u 0)")
    nsrun "$NS_A" "$RUN_BOUND" "$BUILD/ts-loop-kernel" -n 4294967296 -r 50000 -u 0 \
        >"$LOG/loop-k.out" 2>&1
    sed 's/^/    /' "$LOG/loop-ts.out" "$LOG/loop-k.out"
    L_bulk_ts=$(loop_kv "$LOG/loop-ts.out" bulk)
    L_bulk_k=$(loop_kv "$LOG/loop-k.out" bulk)
    L_rr_ts=$(loop_kv "$LOG/loop-ts.out" rr)
    L_rr_k=$(loop_kv "$LOG/loop-k.out" rr)
fi
if [ -n "$HAVE_IPERF" ]; then
    start_server "$NS_S" "$LOG/iperf-s-lo.out" 'listening' \
        "$BUILD/tapstack-run" --ctl "@tapstack/$TAP" -- iperf3 -s -B 127.0.0.1 \
        -p 5202 --forceflush &&
    start_server "$NS_A" "$LOG/iperf-s-klo.out" 'listening' \
        iperf3 -s -B 127.0.0.1 -p 5202 --forceflush && HAVE_IPERF_LO=1
    if [ -n "${HAVE_IPERF_LO:-}" ]; then
        echo "  iperf3 over 127.0.0.1 (both ends under tapstack-run, then the kernel's lo)"
        I_lo=$(iperf_run "$NS_S" 127.0.0.1 lo-stack -p 5202 --tapstack-run)
        I_klo=$(iperf_run "$NS_A" 127.0.0.1 lo-kernel -p 5202)
        echo "    tapstack-run $I_lo, kernel lo $I_klo Gbit/s"
    fi
fi
if [ -n "$HAVE_IPERF" ]; then
    echo "  iperf3 (tapstack-run iperf3 -s on the stack, then kernel over veth)"
    I_ps=$(iperf_run "$NS_S" "$STACK_IP" stack-up)
    I_pr=$(iperf_run "$NS_S" "$STACK_IP" stack-down -R)
    I_ks=$(iperf_run "$NS_A" "$VB_IP" kernel-up)
    I_kr=$(iperf_run "$NS_A" "$VB_IP" kernel-down -R)
    echo "    host->stack $I_ps, stack->host $I_pr; kernel $I_ks, $I_kr Gbit/s"
fi

# Stop the stack: its final counters go to its log.
kill -TERM "$STACK_PID" 2>/dev/null
for ((i = 0; i < 100; i++)); do
    kill -0 "$STACK_PID" 2>/dev/null || break
    sleep 0.05
done
wait "$TIMEOUT_PID" 2>/dev/null
STACK_RC=$?
untrack "$STACK_PID"
untrack "$TIMEOUT_PID"

# --- the table ---------------------------------------------------------------

echo
printf '%-34s %10s %10s %-7s %10s %-7s %8s %8s\n' "measurement" "tapstack" \
    "tapstack-run" "" "kernel" "" "ts/kern" "run/ts"
row "1. bulk host->stack (discard :9)" Gbit/s gbps send
row "2. bulk stack->host (chargen :19)" Gbit/s gbps recv
row "3. rr ${RR_SIZE} B, 1 outstanding (echo :7)" trips/s rps rr
row "   rr mean round-trip latency" us lat_avg_us rr
row "   rr 99th percentile latency" us lat_p99_us rr
if [ -n "$HAVE_IPERF" ]; then
    printf '%-34s %10s %10s %-7s %10s %-7s %8s %8s\n' "4. iperf3 host->stack" - \
        "$I_ps" Gbit/s "$I_ks" Gbit/s "$(ratio "$I_ps" "$I_ks")" -
    printf '%-34s %10s %10s %-7s %10s %-7s %8s %8s\n' "5. iperf3 stack->host (-R)" - \
        "$I_pr" Gbit/s "$I_kr" Gbit/s "$(ratio "$I_pr" "$I_kr")" -
fi
if [ -n "${L_bulk_ts:-}" ]; then
    printf '%-34s %10s %10s %-7s %10s %-7s %8s %8s\n' "6. loopback bulk (ts-loop)" \
        "$L_bulk_ts" - Gbit/s "$L_bulk_k" Gbit/s "$(ratio "$L_bulk_ts" "$L_bulk_k")" -
    printf '%-34s %10s %10s %-7s %10s %-7s %8s %8s\n' "7. loopback rr 64 B (ts-loop)" \
        "$L_rr_ts" - trips/s "$L_rr_k" trips/s "$(ratio "$L_rr_ts" "$L_rr_k")" -
fi
if [ -n "${HAVE_IPERF_LO:-}" ]; then
    printf '%-34s %10s %10s %-7s %10s %-7s %8s %8s\n' "8. loopback iperf3 127.0.0.1" - \
        "$I_lo" Gbit/s "$I_klo" Gbit/s "$(ratio "$I_lo" "$I_klo")" -
fi
echo "(tapstack: its in-process services; tapstack-run: the same tcpbench server"
echo "as the kernel's, run unmodified on the stack; run/ts: tapstack-run over"
echo "tapstack, the cost of the preload path; in the iperf3 rows ts/kern is"
echo "tapstack-run over the kernel; loopback rows: the stack talking to itself"
echo "against the kernel's lo, ts-loop in-process and iperf3 under tapstack-run)"
echo
echo "tapstack during each run: its CPU use (100% = one core busy), the counters"
echo "that moved (SIGUSR1 before/after), and the kernel's own TCP retransmissions"
echo "(RetransSegs) in the same run:"
for m in send recv rr; do
    c=C_$m
    ks=KS_$m
    kk=KK_$m
    printf '  %-5s tapstack: %s\n' "$m" "${!c:-(no counters)}"
    printf '  %-5s kernel retransmits: host side of the TAP %s\n' "" "${!ks}"
    printf '  %-5s                     veth reference %s\n' "" "${!kk}"
done
echo "  (recv: the client leaves by closing with chargen data unread, so one"
echo "  reset to the stack is expected there: rx_rst=1, maybe conn_reset=1)"
# The last dump in the log is the one printed at exit.
awk '/^eth:$/ { n++ } { if (n) last[n] = last[n] $0 "\n" }
     END { printf "%s", last[n] }' "$LOG/tapstack.out" >"$LOG/final"
exitline="exit status $STACK_RC"
for sec_name in tcp.retransmits tcp.rto_expired tcp.fast_retransmits \
    tcp.dup_acks tcp.rx_ooo_segments tcp.drop_ooo_full tcp.tx_no_buffer \
    pbuf.alloc_fail stack.rx_no_buffer pbuf.in_use_max pbuf.in_use tcp.conns_now; do
    v=$(counter "$LOG/final" "${sec_name%%.*}" "${sec_name#*.}")
    exitline="$exitline $sec_name=${v:-?}"
done
echo "tapstack at exit: $exitline"
echo
echo "commands (each client run bounded by timeout $RUN_BOUND s):"
for c in "${CMDS[@]}"; do
    echo "  $c"
done
echo
echo "logs: $LOG/ (tapstack.out holds its final counters)"
echo "bench time: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
if [ "$FAILED" -gt 0 ]; then
    echo "bench: $FAILED run(s) did not complete (see error= above)"
    exit 1
fi
exit 0
