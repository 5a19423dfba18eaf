#!/bin/bash
# tools/bench.sh - `make bench`: the one place tapstack's performance is
# read. One run measures every figure on every stack that can serve it and
# prints one table with ratios; tools/bench/report.py also writes
# $BUILD/bench/results.json and $BUILD/bench/ratios.svg and compares with
# the previous results.json ("vs last").
#
#   BUILD=build tools/bench.sh       (make bench)
#   BENCH_TIME=N       seconds per run, 1..30 (default 5)
#   BENCH_REPEAT=N     run each of the rows bulk_up..cps N times (1..9) and
#                      report the median (default 1; all samples in the JSON)
#   BENCH_ONLY=a,b     only these rows (ids: bulk_up bulk_down ping rr64
#                      http cps iperf_up iperf_down loop_bulk loop_rr loop_iperf
#                      mem_1k mem_10k mem_100k; a mem_* id runs its held_*,
#                      mem_* and rr_* rows)
#   BENCH_TARGETS=a,b  only these stacks (ts ts_nooff kernel lwip floor;
#                      ts also gives the ts_run column)
#   BENCH_PIN=0        do not pin (default: servers on CPU 0, clients on 1)
#   BENCH_HOLD_TIME=S  seconds the memory rows may spend opening their
#                      connections (default 60; "held" counts what was open)
#
# The stacks ("targets"), each in namespaces of its own named tsb-PID-*:
#   ts        $BUILD/tapstack on a TAP, its built-in services;
#   ts_nooff  the same with --no-offload (when tapstack has the option);
#   ts_run    on the ts stack, the kernel-socket tcpbench servers and
#             iperf3 -s run unmodified under tapstack-run (the preload path);
#   kernel    the kernel's TCP between two namespaces over a veth pair:
#             tcpbench servers, connbench serve, ts-httpd-kernel (the same
#             HTTP server source as tapstack's, on kernel sockets);
#   lwip      lwIP 2.1 (Debian's liblwip) on a TAP, $BUILD/lwip-bench;
#   floor     $BUILD/tapfloor on a TAP: ICMP echo and a do-nothing UDP
#             endpoint, the least a stack on a TAP can cost.
# Loopback rows: ts-loop (a server and a client in one program on one
# stack) against ts-loop-kernel on the kernel's lo.
# The client is always the kernel on the host side. A benchmark, not a
# test: no threshold anywhere. It exits 0 with "SKIP: ..." without root,
# /dev/net/tun or ip(8); a missing wrk or lwIP gives SKIP rows; a run that
# fails gives "-" in its cell and exit status 1. Every command is bounded
# by timeout(1); the EXIT trap stops what was started (by PID) and deletes
# the namespaces. Logs stay in $BUILD/bench/.
# The m_* measurements are called through rep() and bench_repeat:
# shellcheck disable=SC2317
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:=build}"
BENCH_TIME=${BENCH_TIME:-5}
if ! [[ "$BENCH_TIME" =~ ^[1-9][0-9]?$ ]] || [ "$BENCH_TIME" -gt 30 ]; then
    echo "bench: BENCH_TIME must be whole seconds, 1..30 (got '$BENCH_TIME')" >&2
    exit 2
fi
BT=$BENCH_TIME
REPEAT=${BENCH_REPEAT:-1}
if ! [[ "$REPEAT" =~ ^[1-9]$ ]]; then
    echo "bench: BENCH_REPEAT must be 1..9 (got '$REPEAT')" >&2
    exit 2
fi
if ! [[ "${BENCH_HOLD_TIME:-60}" =~ ^[1-9][0-9]{0,3}$ ]]; then
    echo "bench: BENCH_HOLD_TIME must be whole seconds (got '$BENCH_HOLD_TIME')" >&2
    exit 2
fi
LOG=$BUILD/bench
BENCH_RAW=$LOG/raw.tsv
BENCH_SAMPLES_FILE=$LOG/samples.tsv
RUN_BOUND=$((BT + 30))
LIFE=$((BT * 60 + 900))             # bound on every server we start
MEM_LEVELS="1k:1000 10k:10000 100k:100000"
HOLD_MAX=19000                      # connections per holder process
HOLD_TIME=${BENCH_HOLD_TIME:-60}    # seconds to open them, at most
# shellcheck source=tools/bench/lib.sh
. "$HERE/bench/lib.sh"
# shellcheck source=tools/bench/more.sh
. "$HERE/bench/more.sh"

skip() { echo "SKIP: $*"; exit 0; }

[ "$(id -u)" = 0 ] || skip "make bench needs root for its network namespaces (sudo make bench)"
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (no TUN/TAP support here)"
command -v ip >/dev/null 2>&1 || skip "ip(8) from iproute2 is not installed"
for b in tapstack tcpbench connbench tapfloor ts-httpd-kernel; do
    [ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b is not built (make all)" >&2; exit 1; }
done
mkdir -p "$LOG" || exit 1
# Keep the last run's results for "vs last"; clear the rest.
[ -f "$LOG/results.json" ] && mv -f "$LOG/results.json" "$LOG/results.prev.json"
find "$LOG" -maxdepth 1 -type f ! -name results.prev.json -delete
: >"$BENCH_RAW"

SRV_CPU="" CLI_CPU=""
if [ "${BENCH_PIN:-1}" != 0 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SRV_CPU=0 CLI_CPU=1
fi
HAVE_NOOFF=""
"$BUILD/tapstack" --help 2>/dev/null | grep -q -- --no-offload && HAVE_NOOFF=1
HAVE_MAXSOCK=""
"$BUILD/tapstack" --help 2>/dev/null | grep -q -- --max-sockets && HAVE_MAXSOCK=1
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
HAVE_WRK=""
command -v wrk >/dev/null 2>&1 && HAVE_WRK=1
WWW=$LOG/www
mkdir -p "$WWW" && head -c 1024 /dev/urandom | base64 >"$WWW/index.html"

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
T0=$(date +%s)

# --- targets: start one, set T_* ----------------------------------------------
# T_NS client namespace, T_SNS server namespace, T_HOST server address, T_PID the server
# process(es) whose VmRSS is the stack's memory, T_SRC extra client source addresses, ports T_DISCARD T_CHARGEN
# T_ECHO (one connection) T_MANY (any number) T_HTTP ("" if none).
T_NS="" T_SNS="" T_HOST="" T_PID="" T_PIDS="" T_NSS="" T_SRC="" T_HTTP=""

target_add_srcs() {     # NS DEV PREFIX: four more host addresses for hold
    local i
    T_SRC=""
    for i in 11 12 13 14; do
        timeout 10 ip -n "$1" addr add "$3.$i/24" dev "$2" 2>/dev/null
        T_SRC="$T_SRC${T_SRC:+,}$3.$i"
    done
}

target_tap_host() {     # NS DEV: the host side of a TAP a program made
    timeout 10 ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" 2>/dev/null
    timeout 10 ip -n "$1" link set "$2" mtu 1500 up &&
        timeout 10 ip -n "$1" addr add 10.0.0.1/24 dev "$2"
}

start_ts() {            # start_ts NAME [MAX-SOCKETS]: tapstack (ts or ts_nooff)
    local ns=tsb-$$-$1 extra=() pid
    [ "$1" = ts_nooff ] && extra+=(--no-offload)
    [ -n "${2:-}" ] && [ -n "$HAVE_MAXSOCK" ] && extra+=(--max-sockets "$2")
    bench_ns "$ns" || return 1
    T_NSS=$ns T_NS=$ns T_SNS=$ns T_HOST=10.0.0.2
    bench_start pid "$ns" "$LIFE" "$SRV_CPU" "$LOG/$1.out" "$BUILD/tapstack" \
        --iface tsb0 --host-addr 10.0.0.1/24 --addr 10.0.0.2/24 --mtu 1500 \
        --services echo,discard,chargen,http --http-root "$WWW" "${extra[@]}"
    T_PID=$pid T_PIDS=$pid
    bench_wait_line "$LOG/$1.out" '^tapstack: ready' "$pid" || return 1
    target_add_srcs "$ns" tsb0 10.0.0
    T_DISCARD=9 T_CHARGEN=19 T_ECHO=7 T_MANY=7 T_HTTP=80
}

start_kernel() {
    local a=tsb-$$-ka b=tsb-$$-kb pid spec name port i n dev addr
    bench_ns "$a" && bench_ns "$b" || return 1
    T_NSS="$a $b" T_NS=$a T_SNS=$b T_HOST=10.0.1.2
    timeout 10 ip -n "$a" link add tsbv0 mtu 1500 type veth peer name tsbv1 netns "$b" \
        2>>"$LOG/start.log" || return 1
    for spec in "$a tsbv0 10.0.1.1" "$b tsbv1 10.0.1.2"; do
        read -r n dev addr <<<"$spec"
        timeout 10 ip netns exec "$n" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null
        timeout 10 ip -n "$n" addr add "$addr/24" dev "$dev" 2>>"$LOG/start.log"
        timeout 10 ip -n "$n" link set "$dev" up 2>>"$LOG/start.log"
        timeout 10 ip -n "$n" -4 addr show dev "$dev" | grep -q "inet $addr/" ||
            { echo "kernel: $addr is not on $dev in $n" >>"$LOG/start.log"; return 1; }
    done
    T_PIDS=""
    for spec in "discard 9" "chargen 19" "echo 7"; do
        read -r name port <<<"$spec"
        bench_start pid "$b" "$LIFE" "$SRV_CPU" "$LOG/k-$name.out" "$BUILD/tcpbench" \
            "serve-$name" "$port" --bind 10.0.1.2 --lifetime "$LIFE"
        T_PIDS="$T_PIDS $pid"
        bench_wait_line "$LOG/k-$name.out" 'listening=' "$pid" ||
            { echo "kernel: tcpbench serve-$name did not start" >>"$LOG/start.log"; return 1; }
    done
    # A process holds at most RLIMIT_NOFILE connections (20,000 where
    # the limit cannot be raised): seven share the port (SO_REUSEPORT).
    T_PID=""
    for i in 1 2 3 4 5 6 7; do
        bench_start pid "$b" "$LIFE" "$SRV_CPU" "$LOG/k-many$i.out" "$BUILD/connbench" \
            serve 7007 --bind 10.0.1.2 --lifetime "$LIFE"
        T_PID="$T_PID $pid" T_PIDS="$T_PIDS $pid"
        bench_wait_line "$LOG/k-many$i.out" 'listening=' "$pid" || return 1
    done
    bench_start pid "$b" "$LIFE" "$SRV_CPU" "$LOG/k-httpd.out" \
        "$BUILD/ts-httpd-kernel" --port 8080 "$WWW"
    T_PIDS="$T_PIDS $pid"
    sleep 0.3
    target_add_srcs "$a" tsbv0 10.0.1
    T_DISCARD=9 T_CHARGEN=19 T_ECHO=7 T_MANY=7007 T_HTTP=8080
}

start_lwip() {
    local ns=tsb-$$-lw pid
    [ -x "$LWIP" ] || return 2
    bench_ns "$ns" || return 1
    T_NSS=$ns T_NS=$ns T_HOST=10.0.0.2
    bench_start pid "$ns" "$LIFE" "$SRV_CPU" "$LOG/lwip.out" "$LWIP" \
        --iface tsbl0 --addr 10.0.0.2 --lifetime "$LIFE"
    T_PID=$pid T_PIDS=$pid
    bench_wait_line "$LOG/lwip.out" 'ready' "$pid" || return 1
    target_tap_host "$ns" tsbl0 || return 1
    target_add_srcs "$ns" tsbl0 10.0.0
    T_DISCARD=9 T_CHARGEN=19 T_ECHO=7 T_MANY=7 T_HTTP=""
}

start_floor() {
    local ns=tsb-$$-fl pid
    bench_ns "$ns" || return 1
    T_NSS=$ns T_NS=$ns T_HOST=10.0.0.2
    bench_start pid "$ns" "$LIFE" "$SRV_CPU" "$LOG/floor.out" "$BUILD/tapfloor" \
        --iface tsbf0 --addr 10.0.0.2 --blast "$BT" --lifetime "$LIFE"
    T_PID=$pid T_PIDS=$pid
    bench_wait_line "$LOG/floor.out" 'ready' "$pid" || return 1
    target_tap_host "$ns" tsbf0 || return 1
    T_HTTP=""
}

target_start() {        # target_start NAME [MAX-SOCKETS]
    local rc
    case $1 in
    ts | ts_nooff) start_ts "$@" ;;
    kernel) start_kernel ;;
    lwip) start_lwip ;;
    floor) start_floor ;;
    esac
    rc=$?
    # Warm ARP so the first run does not pay for it.
    [ $rc = 0 ] && bench_run "$T_NS" 5 "" ping -n -q -c 1 -W 2 "$T_HOST" >/dev/null 2>&1
    return $rc
}

target_stop() {
    local pid ns
    for pid in $T_PIDS; do
        bench_stop "$pid"
    done
    for ns in $T_NSS; do
        bench_ns_del "$ns"
    done
    T_PIDS="" T_NSS="" T_PID=""
}

# --- measurements: each emits its figure -------------------------------------

client() {              # client LABEL CMD...: a bounded client run -> its line
    local label=$1 line
    shift
    line=$(bench_run "$T_NS" "$RUN_BOUND" "$CLI_CPU" "$@" 2>"$LOG/$label.err" |
           grep -E '^(tcpbench|connbench) ' | tail -n1)
    [ -n "$line" ] || line="error=no-output($(head -c 120 "$LOG/$label.err" | tr '\n ' '__'))"
    echo "$line" >>"$LOG/$label.line"
    echo "$line"
}

emit_kv() {             # emit_kv ROW TARGET LINE KEY
    local v
    case $3 in
    *error=*) bench_emit "$1" "$2" - "$(bench_kv "$3" error)" ;;
    *) v=$(bench_kv "$3" "$4"); bench_emit "$1" "$2" "${v:--}" ;;
    esac
}

m_bulk() {              # m_bulk ROW TARGET send|recv PORT
    emit_kv "$1" "$2" "$(client "$2-$1" "$BUILD/tcpbench" "$3" --host "$T_HOST" \
        --port "$4" --time "$BT")" gbps
}

m_ping() {
    local out avg
    out=$(bench_run "$T_NS" "$RUN_BOUND" "$CLI_CPU" ping -n -A -q -c 10000000 \
        -w "$BT" "$T_HOST" 2>&1)
    echo "$out" >"$LOG/$1-ping.out"
    avg=$(echo "$out" | awk -F'[/ ]+' '/^rtt/ { printf "%.1f", $8 * 1000 }')
    bench_emit ping "$1" "${avg:--}"
}

m_rr() {                # m_rr ROW TARGET [PORT]
    emit_kv "$1" "$2" "$(client "$2-$1" "$BUILD/tcpbench" rr --host "$T_HOST" \
        --port "${3:-$T_ECHO}" --time "$BT" --size 64)" rps
}

# The kernel's memory for its TCP sockets, kB: the slab caches one socket
# takes objects from (the socket, its inode, its file, its epoll entry,
# its port binding). Machine-wide, but far less noisy than all of Slab:
# dentries (192 bytes a socket) are left out, file system work moves them.
kmem_kb() {
    awk '$1 ~ /^(TCP|sock_inode_cache|filp|eventpoll_epi|tcp_bind_bucket|tcp_bind2_bucket)$/ {
        s += $2 * $4 } END { printf "%d\n", s / 1024 }' /proc/slabinfo 2>/dev/null
}

# m_mem TARGET LEVEL N: a fresh stack, N connections held to it: how many,
# the resident memory each, and the 64-byte RR with them held. The holders
# are several processes when N is above what one may open (RLIMIT_NOFILE).
m_mem() {
    local t=$1 lvl=$2 n=$3 pid pids="" r0 r1 s0 s1 held=0 per err="" k i c f line
    target_stop
    target_start "$t" $((n + 64)) ||
        { bench_emit "held_$lvl" "$t" - "did not start (see $LOG/start.log)"; return; }
    sleep 0.5
    r0=$(rss_sum) s0=$(kmem_kb)
    k=$(( (n + HOLD_MAX - 1) / HOLD_MAX ))
    for ((i = 1; i <= k; i++)); do
        c=$(( n / k + (i == k ? n % k : 0) ))
        bench_start pid "$T_NS" $((LIFE + 60)) "$CLI_CPU" "$LOG/$t-hold-$lvl.$i" \
            "$BUILD/connbench" hold --host "$T_HOST" --port "$T_MANY" --count "$c" \
            --src "$T_SRC" --timeout 1 --time "$HOLD_TIME" \
            --lifetime $((HOLD_TIME + BT + 120))
        pids="$pids $pid"
    done
    i=1
    for pid in $pids; do
        f=$LOG/$t-hold-$lvl.$i
        bench_wait_line "$f" 'held=' "$pid" $((HOLD_TIME + 30))
        line=$(grep 'held=' "$f")
        c=$(bench_kv "$line" held)
        held=$((held + ${c:-0}))
        [ -z "$err" ] && err=$(bench_kv "$line" error)
        [ -z "$line" ] && err="no answer from holder $i"
        i=$((i + 1))
    done
    sleep 1
    r1=$(rss_sum) s1=$(kmem_kb)
    bench_emit "held_$lvl" "$t" "$held" "$err"
    per=-
    if [ "$held" -gt 0 ] && [ -n "$r0" ] && [ -n "$r1" ]; then
        if [ "$t" = kernel ]; then
            # Both ends are this kernel's sockets: half the growth of their
            # slab caches, plus the servers' VmRSS. Only roughly right.
            per=$(( ((s1 - s0) / 2 + r1 - r0) * 1024 / held ))
        else
            per=$(( (r1 - r0) * 1024 / held ))
        fi
    fi
    bench_emit "mem_$lvl" "$t" "$per"
    m_rr "rr_$lvl" "$t"
    for pid in $pids; do
        bench_stop "$pid"
    done
}

rss_sum() {             # VmRSS of the stack's processes together, kB
    local p s=0 r
    for p in $T_PID; do
        r=$(bench_rss "$p")
        [ -n "$r" ] || return 1
        s=$((s + r))
    done
    echo "$s"
}

# --- the run ------------------------------------------------------------------

LWIP=$BUILD/lwip-bench
TARGETS="ts${HAVE_NOOFF:+ ts_nooff} kernel lwip floor"
[ -n "${BENCH_TARGETS:-}" ] && TARGETS=$(echo "$BENCH_TARGETS" | tr ',' ' ')
echo "== tapstack benchmark: ${BT} s per run, MTU 1500, $(nproc) CPUs," \
     "${SRV_CPU:+servers on CPU $SRV_CPU, clients on CPU $CLI_CPU, }load $(cut -d' ' -f1-3 /proc/loadavg)"

rows_of() {             # the rows each target can serve
    case $1 in
    ts | kernel) echo "bulk_up bulk_down ping rr64 http cps preload loop mem" ;;
    ts_nooff) echo "bulk_up bulk_down ping rr64 http cps" ;;
    lwip) echo "bulk_up bulk_down ping rr64 cps mem" ;;
    floor) echo "bulk_up bulk_down ping" ;;
    esac
}

# Around one row's runs on a stack of ours: the CPU its process used (100%
# = one core busy; to cpu.tsv, for the report) and, for tapstack, the
# counters that moved (printed, and kept in $LOG/TARGET-ROW.counters).
probe_begin() {         # probe_begin TARGET ROW
    P_TICKS="" P_SNAP=""
    case $1 in ts | ts_nooff | lwip | floor) ;; *) return ;; esac
    if [ "$1" != lwip ] && [ "$1" != floor ]; then
        bench_snap "$T_PID" "$LOG/$1.out" "$LOG/$1-$2.c0" && P_SNAP=1
    fi
    P_TICKS=$(bench_ticks "$T_PID") P_WALL=$(date +%s%N)
}

probe_end() {           # probe_end TARGET ROW
    local t=$1 row=$2 ticks wall cpu moved
    [ -n "$P_TICKS" ] || return 0
    ticks=$(( $(bench_ticks "$T_PID") - P_TICKS )) wall=$(( $(date +%s%N) - P_WALL ))
    cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v ns="$wall" \
        'BEGIN { printf "%.0f", (ns > 0 ? 100 * t / hz / (ns / 1e9) : 0) }')
    printf '%s\t%s\t%s\n' "$row" "$t" "$cpu" >>"$LOG/cpu.tsv"
    if [ -n "$P_SNAP" ] && bench_snap "$T_PID" "$LOG/$t.out" "$LOG/$t-$row.c1"; then
        moved=$(bench_counter_delta "$LOG/$t-$row.c0" "$LOG/$t-$row.c1")
        echo "$moved" >"$LOG/$t-$row.counters"
        printf '               cpu %s%%, counters: %s\n' "$cpu" "$moved"
    else
        printf '               cpu %s%%\n' "$cpu"
    fi
}

rep() {                 # rep ROW CMD...: CMD BENCH_REPEAT times, the median
    local row=$1
    shift
    bench_repeat "$REPEAT" "$row" "$t" "$@"
}

run_target() {
    local t=$1 r lvl n rc
    echo "  $t"
    target_start "$t"
    rc=$?
    if [ $rc != 0 ]; then
        local why="did not start (see $LOG/start.log)" v=-
        [ $rc = 2 ] && v=SKIP why="lwIP harness not built (apt-get install liblwip-dev; make bench)"
        echo "$t: start failed (status $rc)" >>"$LOG/start.log"
        for r in $(rows_of "$t"); do
            case $r in mem | preload | loop) continue ;; esac
            bench_want "$r" && bench_emit "$r" "$t" "$v" "$why"
        done
        target_stop
        return
    fi
    for r in $(rows_of "$t"); do
        case $r in
        bulk_up | bulk_down | ping | rr64 | http | cps)
            bench_want "$r" || continue
            probe_begin "$t" "$r" ;;
        esac
        case $r in
        bulk_up)
            if [ "$t" = floor ]; then rep bulk_up m_floor_up
            else rep bulk_up m_bulk bulk_up "$t" send "$T_DISCARD"; fi ;;
        bulk_down)
            if [ "$t" = floor ]; then rep bulk_down m_floor_down
            else rep bulk_down m_bulk bulk_down "$t" recv "$T_CHARGEN"; fi ;;
        ping) rep ping m_ping "$t" ;;
        rr64) rep rr64 m_rr rr64 "$t" ;;
        http) rep http m_http "$t" ;;
        cps) rep cps m_cps "$t" ;;
        preload) m_preload "$t" ;;
        loop) m_loop "$t" ;;
        mem)
            for lvl in $MEM_LEVELS; do
                n=${lvl#*:} lvl=${lvl%%:*}
                bench_want "mem_$lvl" && m_mem "$t" "$lvl" "$n"
            done ;;
        esac
        case $r in
        bulk_up | bulk_down | ping | rr64 | http | cps) probe_end "$t" "$r" ;;
        esac
    done
    target_stop
}

# The floor's bulk: UDP datagrams the host sends and the floor reads and
# drops; then frames the floor writes to the host (SIGUSR2), payload bytes.
m_floor_up() {
    local a b line
    kill -USR1 "$T_PID"; sleep 0.2
    a=$(grep -c '^tapfloor rx_' "$LOG/floor.out")
    line=$(client floor-up "$BUILD/connbench" usend --host "$T_HOST" --port 9 --time "$BT")
    kill -USR1 "$T_PID"; sleep 0.2
    b=$(awk '/^tapfloor rx_/' "$LOG/floor.out" | sed -n "$((a + 1))p")
    a=$(awk '/^tapfloor rx_/' "$LOG/floor.out" | sed -n "${a}p")
    bench_emit bulk_up floor "$(awk -v a="$(bench_kv "$a" rx_bytes)" \
        -v b="$(bench_kv "$b" rx_bytes)" -v s="$(bench_kv "$line" secs)" \
        'BEGIN { if (s > 0 && b > a) printf "%.3f", (b - a) * 8 / s / 1e9; else print "-" }')" \
        "UDP payload read"
}

m_floor_down() {
    kill -USR2 "$T_PID"
    bench_wait_line "$LOG/floor.out" 'blast frames=' "$T_PID" $((BT + 10))
    emit_kv bulk_down floor "$(grep 'blast frames=' "$LOG/floor.out" | tail -n1)" gbps
}

echo "runs (row, stack, figure):"
for t in $TARGETS; do
    run_target "$t"
done

# --- the report -----------------------------------------------------------------

echo
META=(--meta "bench_time=$BT" --meta "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
      --meta "git=$(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo unknown)"
      --meta "cpus=$(nproc)" --meta "load=$(cut -d' ' -f1-3 /proc/loadavg)"
      --meta "pinned=${SRV_CPU:+yes}" --meta "seconds=$(( $(date +%s) - T0 ))")
if command -v python3 >/dev/null 2>&1; then
    python3 "$HERE/bench/report.py" --raw "$BENCH_RAW" --cpu "$LOG/cpu.tsv" \
        --samples "$BENCH_SAMPLES_FILE" --meta "repeat=$REPEAT" \
        --json "$LOG/results.json" \
        --svg "$LOG/ratios.svg" --prev "$LOG/results.prev.json" "${META[@]}" ||
        BENCH_FAILED=$((BENCH_FAILED + 1))
    if command -v xmllint >/dev/null 2>&1 && [ -f "$LOG/ratios.svg" ] &&
        ! xmllint --noout "$LOG/ratios.svg"; then
        echo "bench: $LOG/ratios.svg is not well-formed XML"
        BENCH_FAILED=$((BENCH_FAILED + 1))
    fi
else
    echo "(python3 missing: raw figures only)"
    cat "$BENCH_RAW"
fi
echo "logs: $LOG/   bench time: $(( $(date +%s) - T0 )) s"
if [ "$BENCH_FAILED" -gt 0 ]; then
    echo "bench: $BENCH_FAILED figure(s) could not be measured (\"-\" above)"
    exit 1
fi
exit 0
