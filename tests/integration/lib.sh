# shellcheck shell=bash disable=SC2034 # TS_NS, TS_STACK_* are for callers
# tests/integration/lib.sh - shared functions for the integration tests.
#
# Sourced by run.sh (and usable by other test scripts). Everything that moves
# packets happens in private network namespaces this file creates, named
# with the PID of the run (ts-itest-$$, ...): the TAP, the kernel-side
# address and the stack's address all live there; the machine's own
# interfaces are never touched. Every wait is bounded; an EXIT trap kills
# the processes we started (by PID) and deletes the namespaces.
#
# Entry points:
#   ts_require_env                 SKIP (exit 0) without root/CAP_NET_ADMIN,
#                                  /dev/net/tun, ip(8) or timeout(1); makes
#                                  TS_TMP and sets the EXIT trap (ts_cleanup)
#   ts_have TOOL                   is TOOL installed?
#   ts_netns_create PREFIX         make namespace PREFIX-$$ (name in TS_NS)
#   ts_tap_setup NS TAP ADDR/N     pre-create and configure the kernel side
#   ts_nsrun NS SECONDS CMD..      run CMD in NS under timeout
#   ts_stack_start NS NAME ARGS..  run $BUILD/tapstack ARGS in NS, wait for
#                                  "tapstack: ready" (TS_STACK_PID/_OUT/_ERR)
#   ts_stack_stop [SIGNAL]         signal the stack, wait; TS_STACK_RC
#   ts_stack_running               is it alive (and not a zombie)?
#   ts_counters FILE               SIGUSR1 the stack, save the dump in FILE
#   ts_dump_complete FILE          does FILE hold every counter section?
#   ts_counter FILE SECTION NAME   one value from a dump
#   ts_delta BEFORE AFTER SEC NAME difference between two dumps
#   check NAME CMD [ARGS..]        run CMD: "ok - NAME" or "FAIL - NAME"
#   check_eq / check_ge NAME GOT WANT   numbers, both shown on failure
#   check_skip NAME REASON         a check that could not run here
#   ts_section TITLE, ts_elapsed   headers with the time since the start
#   ts_summary                     "N passed, N failed"; status 1 on failure

: "${BUILD:=build}"
TS_PASS=0
TS_FAIL=0
TS_SKIPPED=0
TS_PIDS=""
TS_NAMESPACES=""
TS_TMP=""
TS_STACK_PID=""
TS_STACK_OUT=""
TS_STACK_ERR=""
TS_STACK_RC=""
TS_WATCHDOG_PID=""
TS_READY_TIMEOUT=${TS_READY_TIMEOUT:-10}    # seconds
TS_STACK_LIFETIME=${TS_STACK_LIFETIME:-300} # watchdog, seconds

ts_skip() {
    echo "SKIP: $*"
    exit 0
}

ts_have() {
    command -v "$1" >/dev/null 2>&1
}

# Is capability bit $1 in our effective set?
ts_has_cap() {
    local hex
    hex=$(awk '/^CapEff:/ { print $2 }' /proc/self/status 2>/dev/null)
    [ -n "$hex" ] || return 1
    (( (16#$hex >> $1) & 1 ))
}

ts_require_env() {
    if [ "$(id -u)" != 0 ] && ! ts_has_cap 12; then
        ts_skip "integration tests need root or CAP_NET_ADMIN (run: sudo make integration)"
    fi
    [ -c /dev/net/tun ] || ts_skip "/dev/net/tun is missing (no TUN/TAP support here)"
    ts_have ip || ts_skip "ip(8) from iproute2 is not installed"
    ts_have timeout || ts_skip "timeout(1) from coreutils is not installed"
    TS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ts-itest.$$.XXXXXX") ||
        ts_skip "cannot make a temporary directory"
    trap ts_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Kill what we started (by PID, TERM then KILL), delete our namespaces.
ts_cleanup() {
    local pid ns i
    for pid in $TS_PIDS; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $TS_PIDS; do
        for i in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    TS_PIDS=""
    for ns in $TS_NAMESPACES; do
        timeout 10 ip netns del "$ns" 2>/dev/null
    done
    TS_NAMESPACES=""
    [ -n "$TS_TMP" ] && [ -z "${TS_KEEP_TMP:-}" ] && rm -rf "$TS_TMP"
}

ts_track_pid() {
    TS_PIDS="$TS_PIDS $1"
}

ts_untrack_pid() {
    local p out=""
    for p in $TS_PIDS; do
        [ "$p" = "$1" ] || out="$out $p"
    done
    TS_PIDS=$out
}

# Make namespace PREFIX-$$ with lo up; TS_NS names it. When the first one
# cannot be made, namespaces are not available here: SKIP. A later failure
# is an error (status 1) for the caller to report.
ts_netns_create() {
    TS_NS="$1-$$"
    if ! timeout 10 ip netns add "$TS_NS" 2>"$TS_TMP/netns.err"; then
        [ -n "$TS_NAMESPACES" ] || ts_skip "cannot create a network namespace: $(head -n1 "$TS_TMP/netns.err")"
        echo "# cannot create namespace $TS_NS: $(head -n1 "$TS_TMP/netns.err")"
        return 1
    fi
    TS_NAMESPACES="$TS_NAMESPACES $TS_NS"
    timeout 10 ip -n "$TS_NS" link set lo up
}

# The kernel side of TAP in NS: created persistent, IPv6 off before it
# comes up (no router solicitations or MLD in the capture), ADDR/N, up.
ts_tap_setup() {
    local ns=$1 tap=$2 addr=$3
    timeout 10 ip -n "$ns" tuntap add dev "$tap" mode tap &&
    timeout 10 ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" &&
    timeout 10 ip -n "$ns" addr add "$addr" dev "$tap" &&
    timeout 10 ip -n "$ns" link set "$tap" up
}

# Run COMMAND in NS, bounded by SECONDS: ts_nsrun NS SECONDS COMMAND...
ts_nsrun() {
    local ns=$1 secs=$2
    shift 2
    timeout -k 2 "$secs" ip netns exec "$ns" "$@"
}

# Kill PID after TS_STACK_LIFETIME seconds if it is still a tapstack. The
# watchdog exits (killing its sleep) when cleanup sends it TERM.
ts_watchdog() {
    local pid=$1
    (
        sp=""
        trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; exit 0' TERM
        sleep "$TS_STACK_LIFETIME" &
        sp=$!
        wait "$sp"
        grep -qx tapstack "/proc/$pid/comm" 2>/dev/null && kill -KILL "$pid"
    ) &
    TS_WATCHDOG_PID=$!
    ts_track_pid "$TS_WATCHDOG_PID"
}

# Start the stack in NS with ARGS; NAME labels its output files. `ip netns
# exec` execs the program, so $! is the stack itself (signals reach it). A
# watchdog bounds its life should this script be killed without its trap.
ts_stack_start() {
    local ns=$1 name=$2 i
    shift 2
    TS_STACK_OUT="$TS_TMP/$name.out"
    TS_STACK_ERR="$TS_TMP/$name.err"
    ip netns exec "$ns" "$BUILD/tapstack" "$@" >"$TS_STACK_OUT" 2>"$TS_STACK_ERR" &
    TS_STACK_PID=$!
    ts_track_pid "$TS_STACK_PID"
    ts_watchdog "$TS_STACK_PID"
    for ((i = 0; i < TS_READY_TIMEOUT * 20; i++)); do
        grep -q '^tapstack: ready' "$TS_STACK_OUT" 2>/dev/null && return 0
        if ! ts_stack_running; then
            echo "# tapstack exited before it was ready; stderr:"
            sed 's/^/#   /' "$TS_STACK_ERR" | head -n 20
            return 1
        fi
        sleep 0.05
    done
    echo "# tapstack did not print 'tapstack: ready' within ${TS_READY_TIMEOUT}s"
    return 1
}

# Send SIGNAL (default TERM) and wait up to 5 s; TS_STACK_RC is its exit
# status (or "timeout", after which it is killed).
ts_stack_stop() {
    local sig=${1:-TERM} i
    TS_STACK_RC=""
    [ -n "$TS_STACK_PID" ] || return 1
    kill -"$sig" "$TS_STACK_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        ts_stack_running || break
        sleep 0.05
    done
    if ts_stack_running; then
        kill -KILL "$TS_STACK_PID" 2>/dev/null
        wait "$TS_STACK_PID" 2>/dev/null
        TS_STACK_RC=timeout
    else
        wait "$TS_STACK_PID"
        TS_STACK_RC=$?
    fi
    ts_untrack_pid "$TS_STACK_PID"
    TS_STACK_PID=""
    if [ -n "$TS_WATCHDOG_PID" ]; then
        kill -TERM "$TS_WATCHDOG_PID" 2>/dev/null
        wait "$TS_WATCHDOG_PID" 2>/dev/null
        ts_untrack_pid "$TS_WATCHDOG_PID"
        TS_WATCHDOG_PID=""
    fi
}

# Is the stack still running (not gone, not a zombie)?
ts_stack_running() {
    local st
    [ -n "$TS_STACK_PID" ] || return 1
    st=$(cat "/proc/$TS_STACK_PID/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

# Does dump FILE hold every section?
ts_dump_complete() {
    awk '/^(eth|arp|ipv4|icmp|pbuf):$/ { seen[$0] = 1 }
         END { exit length(seen) == 5 ? 0 : 1 }' "$1"
}

# SIGUSR1 the stack; the dump it prints (everything it writes to stdout
# from the signal on, once the output has stopped growing and holds every
# section) goes to FILE. Bounded to 5 s.
ts_counters() {
    local file=$1 off size last=-1 i
    off=$(stat -c %s "$TS_STACK_OUT")
    kill -USR1 "$TS_STACK_PID" 2>/dev/null || return 1
    for ((i = 0; i < 250; i++)); do
        sleep 0.02
        ts_stack_running || break
        size=$(stat -c %s "$TS_STACK_OUT")
        [ "$size" -gt "$off" ] || continue
        if [ "$size" = "$last" ]; then
            tail -c +"$((off + 1))" "$TS_STACK_OUT" >"$file"
            ts_dump_complete "$file" && return 0
        fi
        last=$size
    done
    if ts_stack_running; then
        echo "# no complete counter dump within 5 s of SIGUSR1"
    else
        echo "# no counter dump: tapstack is not running"
    fi
    return 1
}

# Print the value of counter NAME in SECTION of dump FILE (nothing if absent).
ts_counter() {
    awk -v s="$2" -v n="$3" '
        /^[A-Za-z0-9_]+:$/ { sec = substr($0, 1, length($0) - 1); next }
        sec == s && $1 == n { print $2; exit }' "$1"
}

# AFTER - BEFORE for SECTION NAME; "missing" when either has no such counter.
ts_delta() {
    local a b
    a=$(ts_counter "$1" "$3" "$4")
    b=$(ts_counter "$2" "$3" "$4")
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo missing
    else
        echo $((b - a))
    fi
}

check() {
    local name=$1
    shift
    if "$@"; then
        TS_PASS=$((TS_PASS + 1))
        echo "ok   - $name"
    else
        TS_FAIL=$((TS_FAIL + 1))
        echo "FAIL - $name"
    fi
}

# Integer equality; "missing" or any non-number fails.
check_eq() {
    local name=$1 got=$2 want=$3
    if [[ "$got" =~ ^-?[0-9]+$ ]] && [ "$got" -eq "$want" ]; then
        TS_PASS=$((TS_PASS + 1))
        echo "ok   - $name ($got)"
    else
        TS_FAIL=$((TS_FAIL + 1))
        echo "FAIL - $name (got $got, want $want)"
    fi
}

# got >= want.
check_ge() {
    local name=$1 got=$2 want=$3
    if [[ "$got" =~ ^-?[0-9]+$ ]] && [ "$got" -ge "$want" ]; then
        TS_PASS=$((TS_PASS + 1))
        echo "ok   - $name ($got)"
    else
        TS_FAIL=$((TS_FAIL + 1))
        echo "FAIL - $name (got $got, want >= $want)"
    fi
}

check_skip() {
    TS_SKIPPED=$((TS_SKIPPED + 1))
    echo "skip - $1 ($2)"
}

TS_T0=$(date +%s.%N)

# Seconds since this file was sourced, one decimal.
ts_elapsed() {
    awk -v a="$TS_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

ts_section() {
    echo "# --- $* --- (at $(ts_elapsed) s)"
}

ts_summary() {
    [ "$TS_SKIPPED" -gt 0 ] && echo "($TS_SKIPPED checks skipped)"
    echo "$TS_PASS passed, $TS_FAIL failed"
    [ "$TS_FAIL" -eq 0 ]
}
