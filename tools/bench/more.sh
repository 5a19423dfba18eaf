# tools/bench/more.sh - rows of tools/bench.sh (sourced) that reuse the
# stacks it starts: the preload path (tcpbench servers and iperf3 -s
# unmodified under tapstack-run, column ts_run), iperf3 over veth, and the
# loopback rows (ts-loop on a stack of its own against ts-loop-kernel on
# the kernel's lo). They use bench.sh's T_* (the running stack), LOG, BT,
# RUN_BOUND, LIFE and the helpers of lib.sh.
# shellcheck shell=bash
# shellcheck disable=SC2154 # T_*, LOG, BT ... are bench.sh's

# iperf3 -c for BT seconds (ARGS: -R), the receiver's Gbit/s; IPERF_PRE
# goes before iperf3 (tapstack-run ... --), IPERF_TO is the server.
m_iperf() {             # m_iperf ROW TARGET [ARGS]
    local row=$1 t=$2 v
    shift 2
    # shellcheck disable=SC2086 # IPERF_PRE is words (no spaces inside)
    bench_run "$T_NS" "$RUN_BOUND" "$CLI_CPU" ${IPERF_PRE:-} iperf3 -c \
        "${IPERF_TO:-$T_HOST}" -p "${IPERF_PORT:-5201}" -t "$BT" -J "$@" \
        >"$LOG/$t-$row.json" 2>&1
    v=$(python3 -c 'import json,sys
try: print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("-")' "$LOG/$t-$row.json" 2>/dev/null)
    bench_emit "$row" "$t" "${v:--}"
}

want_any() {            # want_any ROW...: is any of them wanted?
    local r
    for r in "$@"; do bench_want "$r" && return 0; done
    return 1
}

# The preload path: the kernel-socket tcpbench servers and iperf3 -s run
# unmodified on the ts stack under tapstack-run (column "ts_run"), not
# pinned (on the stack's CPU, the two processes' hand-offs crawl); on the
# kernel, iperf3 -s in the server namespace.
m_preload() {           # m_preload TARGET
    local t=$1 pid pids="" spec name port
    want_any bulk_up bulk_down rr64 iperf_up iperf_down loop_iperf || return 0
    if [ "$t" = kernel ]; then
        want_any iperf_up iperf_down loop_iperf || return 0
        if ! command -v iperf3 >/dev/null 2>&1; then
            bench_emit iperf_up kernel SKIP "iperf3 is not installed"
            return
        fi
        bench_start pid "$T_SNS" "$LIFE" "" "$LOG/k-iperf.out" iperf3 -s \
            -B "$T_HOST" -p 5201 --forceflush
        bench_wait_line "$LOG/k-iperf.out" listening "$pid" || return
        bench_want iperf_up && m_iperf iperf_up kernel
        bench_want iperf_down && m_iperf iperf_down kernel -R
        bench_stop "$pid"
        if bench_want loop_iperf; then
            bench_start pid "$T_NS" "$LIFE" "" "$LOG/k-iperf-lo.out" iperf3 -s \
                -B 127.0.0.1 -p 5202 --forceflush
            bench_wait_line "$LOG/k-iperf-lo.out" listening "$pid" &&
                IPERF_TO=127.0.0.1 IPERF_PORT=5202 m_iperf loop_iperf kernel
            bench_stop "$pid"
        fi
        return
    fi
    if ! [ -x "$BUILD/tapstack-run" ] || ! [ -e "$BUILD/libtapstack-preload.so" ]; then
        bench_emit rr64 ts_run SKIP "tapstack-run is not built"
        return
    fi
    local run=("$BUILD/tapstack-run" --ctl @tapstack/tsb0 --)
    for spec in "discard 2009" "chargen 2019" "echo 2007"; do
        read -r name port <<<"$spec"
        bench_start pid "$T_NS" "$LIFE" "" "$LOG/run-$name.out" "${run[@]}" \
            "$BUILD/tcpbench" "serve-$name" "$port" --bind "$T_HOST" --lifetime "$LIFE"
        pids="$pids $pid"
        bench_wait_line "$LOG/run-$name.out" 'listening=' "$pid" ||
            echo "ts_run: serve-$name did not start" >>"$LOG/start.log"
    done
    bench_want bulk_up && m_bulk bulk_up ts_run send 2009
    bench_want bulk_down && m_bulk bulk_down ts_run recv 2019
    bench_want rr64 && m_rr rr64 ts_run 2007
    if want_any iperf_up iperf_down && command -v iperf3 >/dev/null 2>&1; then
        bench_start pid "$T_NS" "$LIFE" "" "$LOG/run-iperf.out" "${run[@]}" \
            iperf3 -s -p 5201 --forceflush
        pids="$pids $pid"
        if bench_wait_line "$LOG/run-iperf.out" listening "$pid"; then
            bench_want iperf_up && m_iperf iperf_up ts_run
            bench_want iperf_down && m_iperf iperf_down ts_run -R
        fi
    fi
    # Both ends of iperf3 under tapstack-run: the stack's loopback.
    if bench_want loop_iperf && command -v iperf3 >/dev/null 2>&1; then
        bench_start pid "$T_NS" "$LIFE" "" "$LOG/run-iperf-lo.out" "${run[@]}" \
            iperf3 -s -B 127.0.0.1 -p 5202 --forceflush
        pids="$pids $pid"
        bench_wait_line "$LOG/run-iperf-lo.out" listening "$pid" &&
            IPERF_PRE="${run[*]}" IPERF_TO=127.0.0.1 IPERF_PORT=5202 \
                m_iperf loop_iperf ts_run
    fi
    for pid in $pids; do
        bench_stop "$pid"
    done
}

# Loopback (issue 12): ts-loop, a server and a client in one program on a
# stack of its own (its own TAP), against the same source on the kernel's
# lo (ts-loop-kernel): bulk Gbit/s and 64-byte round trips/s.
m_loop() {              # m_loop TARGET
    local t=$1 prog=ts-loop args=(--iface tsblo0 --host-addr 10.9.0.1/24 --addr 10.9.0.2/24)
    want_any loop_bulk loop_rr || return 0
    [ "$t" = kernel ] && prog=ts-loop-kernel args=()
    if ! [ -x "$BUILD/$prog" ]; then
        bench_emit loop_bulk "$t" SKIP "$prog is not built"
        return
    fi
    bench_run "$T_NS" "$RUN_BOUND" "$SRV_CPU" "$BUILD/$prog" "${args[@]}" \
        -n $((BT * 400 * 1048576)) -r $((BT * 10000)) -u 0 >"$LOG/$t-loop.out" 2>&1
    bench_want loop_bulk && bench_emit loop_bulk "$t" "$(loop_kv "$LOG/$t-loop.out" bulk)"
    bench_want loop_rr && bench_emit loop_rr "$t" "$(loop_kv "$LOG/$t-loop.out" rr)"
}

loop_kv() {             # loop_kv FILE WHAT: the figure of ts-loop's WHAT line
    local v
    v=$(awk -v w="$2" '$2 == w { for (i = 1; i <= NF; i++) if ($i ~ /Gbit\/s|\/s,$/) {
        v = $(i - (w == "bulk")); sub(/\/s,$/, "", v); gsub(/,/, "", v); print v; exit } }' "$1")
    echo "${v:--}"
}

m_cps() {
    emit_kv cps "$1" "$(client "$1-cps" "$BUILD/connbench" cps --host "$T_HOST" \
        --port "$T_MANY" --time "$BT")" cps
}

m_http() {
    local rps
    if [ -z "$HAVE_WRK" ]; then
        bench_emit http "$1" SKIP "wrk is not installed (apt-get install wrk)"
        return
    fi
    bench_run "$T_NS" "$RUN_BOUND" "$CLI_CPU" wrk -t2 -c32 -d"${BT}s" \
        "http://$T_HOST:$T_HTTP/index.html" >"$LOG/$1-wrk.out" 2>&1
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$LOG/$1-wrk.out")
    bench_emit http "$1" "${rps:--}"
}

