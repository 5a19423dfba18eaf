# tools/bench/lib.sh - helpers of tools/bench.sh (sourced): namespaces and
# shellcheck shell=bash
# processes it owns (tracked by PID, removed by the EXIT trap), bounded
# waits, and the one place a figure is recorded (bench_emit).
#
#   bench_ns NS                  create namespace NS (IPv6 off, lo up)
#   bench_start VAR NS LIFE CPU OUT CMD...
#                                run CMD in NS under timeout(1), pinned to
#                                CPU ("" = not pinned); VAR gets the PID of
#                                CMD itself (for signals and VmRSS)
#   bench_stop PID               TERM, wait up to 3 s, KILL; forget it
#   bench_wait_line FILE RE PID [SECS]
#                                wait (10 s) for a line matching RE
#   bench_run NS SECS CPU CMD... a bounded command in NS (a client run)
#   bench_rss PID                VmRSS in kB
#   bench_kv LINE KEY            value of KEY=... in a "tool key=value" line
#   bench_emit ROW TARGET VALUE [NOTE]
#                                one figure for the report (VALUE "-" when
#                                the run failed, "SKIP" when it could not run)
#   bench_want ROW               is ROW in BENCH_ONLY (or BENCH_ONLY empty)?
#   bench_repeat N ROW TARGET CMD...
#                                CMD N times, the median of its figures

BENCH_PIDS=""
declare -A BENCH_TPID=()            # command PID -> its timeout(1) PID
BENCH_NAMESPACES=""
BENCH_FAILED=0

bench_cleanup() {
    local pid ns i
    for pid in $BENCH_PIDS; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $BENCH_PIDS; do
        for ((i = 0; i < 30; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    BENCH_PIDS=""
    for ns in $BENCH_NAMESPACES; do
        timeout 20 ip netns del "$ns" 2>/dev/null
    done
    BENCH_NAMESPACES=""
}

bench_ns() {
    timeout 10 ip netns add "$1" || return 1
    BENCH_NAMESPACES="$BENCH_NAMESPACES $1"
    timeout 10 ip -n "$1" link set lo up
    timeout 10 ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
    # Room for 100,000 connections from a few source addresses.
    timeout 10 ip netns exec "$1" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
        2>/dev/null
    return 0
}

bench_ns_del() {
    local ns out=""
    timeout 20 ip netns del "$1" 2>/dev/null
    for ns in $BENCH_NAMESPACES; do
        [ "$ns" = "$1" ] || out="$out $ns"
    done
    BENCH_NAMESPACES=$out
}

bench_pin() {   # bench_pin CPU: the taskset prefix, or nothing
    [ -n "$1" ] && echo "taskset -c $1"
}

bench_start() {
    local var=$1 ns=$2 life=$3 cpu=$4 out=$5 tpid child i pin
    shift 5
    # Expanded here, not in the background command: a command substitution
    # there would be a short-lived child of it, taken for the command.
    pin=$(bench_pin "$cpu")
    # shellcheck disable=SC2086 # the pin prefix is words on purpose
    timeout -k 2 "$life" ip netns exec "$ns" $pin "$@" >"$out" 2>"$out.err" &
    tpid=$!
    BENCH_PIDS="$BENCH_PIDS $tpid"
    # ip netns exec and taskset exec the command: timeout's child is it.
    for ((i = 0; i < 50; i++)); do
        child=$(awk '{ print $1 }' "/proc/$tpid/task/$tpid/children" 2>/dev/null)
        [ -n "$child" ] && break
        sleep 0.02
    done
    printf -v "$var" '%s' "${child:-$tpid}"
    BENCH_TPID[${child:-$tpid}]=$tpid
}

bench_stop() {
    local pid=$1 tpid i p out=""
    [ -n "$pid" ] || return 0
    tpid=${BENCH_TPID[$pid]:-$pid}
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" "$tpid" 2>/dev/null
    wait "$tpid" 2>/dev/null
    for p in $BENCH_PIDS; do
        [ "$p" = "$tpid" ] || out="$out $p"
    done
    BENCH_PIDS=$out
}

bench_wait_line() {     # FILE RE PID [SECONDS, default 10]
    local file=$1 re=$2 pid=$3 n=$((${4:-10} * 20)) i
    for ((i = 0; i < n; i++)); do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

bench_run() {
    local ns=$1 secs=$2 cpu=$3
    shift 3
    # shellcheck disable=SC2046
    timeout -k 2 "$secs" ip netns exec "$ns" $(bench_pin "$cpu") "$@"
}

bench_rss() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

bench_kv() {
    local w
    for w in $1; do
        case $w in "$2="*) echo "${w#*=}"; return ;; esac
    done
}

bench_emit() {
    local row=$1 target=$2 value=${3:--} note=${4:-}
    if [ -n "${BENCH_COLLECT:-}" ]; then        # inside bench_repeat
        BENCH_SAMPLES+=("$value")
        [ -n "$note" ] && BENCH_SNOTE=$note
        printf '    %-10s %-9s %s%s (sample)\n' "$row" "$target" "$value" "${note:+  ($note)}"
        return
    fi
    printf '%s\t%s\t%s\t%s\n' "$row" "$target" "$value" "$note" >>"$BENCH_RAW"
    [ "$value" = "-" ] && BENCH_FAILED=$((BENCH_FAILED + 1))
    printf '    %-10s %-9s %s%s\n' "$row" "$target" "$value" "${note:+  ($note)}"
}

bench_want() {
    [ -z "${BENCH_ONLY:-}" ] && return 0
    case ",$BENCH_ONLY," in *",$1,"*) return 0 ;; esac
    return 1
}

# CPU time (user + system, clock ticks) of the processes PIDS together.
bench_ticks() {
    local p st f sum=0
    for p in "$@"; do
        st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        st=${st##*) }
        read -r -a f <<<"$st"
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}

# SIGUSR1 tapstack (PID) and copy the counter dump it prints to its stdout
# (OUT) into FILE, once the dump holds the last section and stops growing.
bench_snap() {          # bench_snap PID OUT FILE
    local pid=$1 out=$2 file=$3 off size last=-1 i
    off=$(stat -c %s "$out")
    kill -USR1 "$pid" 2>/dev/null || return 1
    for ((i = 0; i < 100; i++)); do
        sleep 0.05
        size=$(stat -c %s "$out")
        if [ "$size" -gt "$off" ] && [ "$size" = "$last" ]; then
            tail -c +"$((off + 1))" "$out" >"$file"
            grep -q '^stack:$' "$file" && return 0
        fi
        last=$size
    done
    : >"$file"
    return 1
}

# Counters that moved between dumps A and B and say something about a run:
# the segments each way, and any sign of loss, reordering or pressure.
bench_counter_delta() {
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

# bench_repeat N ROW TARGET CMD...: run CMD (which emits one figure for ROW
# and TARGET) N times and emit the median of the figures it gave; every
# sample goes to samples.tsv (the report puts them in results.json).
bench_repeat() {
    local n=$1 row=$2 target=$3 i med ok
    shift 3
    if [ "$n" -le 1 ]; then
        "$@"
        return
    fi
    BENCH_COLLECT=1 BENCH_SAMPLES=() BENCH_SNOTE=""
    for ((i = 0; i < n; i++)); do
        "$@"
    done
    BENCH_COLLECT=""
    printf '%s\t%s\t%s\n' "$row" "$target" "${BENCH_SAMPLES[*]}" >>"$BENCH_SAMPLES_FILE"
    ok=$(printf '%s\n' "${BENCH_SAMPLES[@]}" | grep -cE '^[0-9.]+$')
    if [ "$ok" = 0 ]; then
        bench_emit "$row" "$target" "${BENCH_SAMPLES[0]}" "$BENCH_SNOTE"
        return
    fi
    med=$(printf '%s\n' "${BENCH_SAMPLES[@]}" | grep -E '^[0-9.]+$' | sort -g |
          awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    bench_emit "$row" "$target" "$med" \
        "$( [ "$ok" -lt "$n" ] && echo "median of the $ok of $n runs that gave a figure; ")${BENCH_SNOTE}"
}
