#!/bin/bash
# tests/integration/soak.sh - make soak: a running stack under mixed load,
# faults and hostile frames for SOAK_MIN minutes, then checked for leaks
# and for every byte it carried (issue 10). Not part of make check.
#
#   make soak                    10 minutes
#   make soak SOAK_MIN=2         2 minutes (any whole number, 1..1440)
#   BUILD=build SOAK_MIN=2 tests/integration/soak.sh
#
# In a private network namespace (soak-$$), one tapstack with the fault
# injector at 2% loss, 2% duplication and 2% reordering (--seed SOAK_SEED,
# default 10) serves, until the time is up:
#  - tests/integration/soak_client.py: 3 threads of TCP echo (random 1 KiB
#    to 256 KiB each way, SHA-256 compared), one of discard, one of chargen
#    (RFC 864 pattern checked), one of UDP echo (1 in 8 datagrams 4,000 to
#    8,000 bytes, so fragmented both ways), every connection opened,
#    used and closed;
#  - ping -s 4000 twice a second (fragments both ways);
#  - build/inject --kind all every SOAK_INJECT_EVERY (20) seconds: every
#    malformed frame kind of the hostile battery, an ARP flood of 1,000
#    senders and 100 never-completed fragmented datagrams per round.
# A progress line every SOAK_PROGRESS (10) seconds. Afterwards, and every
# one is a check ("ok"/"FAIL", then "N passed, N failed"):
#  - no transfer corrupted, no TCP operation failed, none left unfinished;
#    tcp rx_bytes rose by exactly the bytes the echo and discard clients
#    sent; UDP replies (fragmented ones too) equal what was sent;
#  - the faults really happened, and the stack answered pings throughout;
#  - no leak: within 90 s of the end (reassemblies time out after 30 s)
#    tcp conns_now and pbuf in_use are back to their values before the
#    load, and the resident memory (VmRSS) after the warm-up (the first
#    fifth, at least 30 s) never rose more than SOAK_RSS_SLACK_KB (4096)
#    above its value at the end of the warm-up;
#  - SIGTERM: exit 0, every packet buffer back in the pool;
# and one summary line, "soak: PASS ..." or "soak: FAIL ...", with the
# totals. Needs root (else SKIP), python3 and ping; every process it starts
# is bounded in time and stopped by PID, the namespace deleted.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

SOAK_MIN=${SOAK_MIN:-10}
if ! [[ "$SOAK_MIN" =~ ^[0-9]+$ ]] || [ "$SOAK_MIN" -lt 1 ] || [ "$SOAK_MIN" -gt 1440 ]; then
    echo "soak: SOAK_MIN must be a whole number of minutes, 1..1440 (got '$SOAK_MIN')"
    exit 2
fi
SOAK_SECS=$((SOAK_MIN * 60))
SOAK_SEED=${SOAK_SEED:-10}
SOAK_PROGRESS=${SOAK_PROGRESS:-10}
SOAK_INJECT_EVERY=${SOAK_INJECT_EVERY:-20}
SOAK_RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-4096}
SOAK_WARM=$((SOAK_SECS / 5 > 30 ? SOAK_SECS / 5 : 30))
TS_STACK_LIFETIME=$((SOAK_SECS + 400))      # the watchdog of lib.sh
TAP=tap0
HOST_IP=10.0.0.1
STACK_IP=10.0.0.2
STACK_MAC=02:00:0a:00:00:02

ts_require_env
for t in python3 ping; do
    ts_have "$t" || ts_skip "soak needs $t"
done
for b in tapstack inject; do
    [ -x "$BUILD/$b" ] || { echo "soak: $BUILD/$b is not built (run make)"; exit 1; }
done

SNAP_N=0
snap() {
    SNAP_N=$((SNAP_N + 1))
    SNAP="$TS_TMP/counters.$SNAP_N"
    ts_counters "$SNAP" || : >"$SNAP"
}

# cs KEY: a total of the client (0 when it has none yet).
cs() {
    local v
    v=$(sed -n "s/^$1=//p" "$TS_TMP/client.stats" 2>/dev/null)
    echo "${v:-0}"
}

rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$TS_STACK_PID/status" 2>/dev/null
}

mmss() {
    printf '%d:%02d' $(($1 / 60)) $(($1 % 60))
}

mib() {
    awk -v n="$1" 'BEGIN { printf "%.1f", n / 1048576 }'
}

# ---- the load ------------------------------------------------------------

INJ_ROUNDS=0
INJ_FRAMES=0
RSS_WARM=""
RSS_MAX=0

hostile_round() {
    local out n
    out=$(ts_nsrun "$TS_NS" 120 "$BUILD/inject" --iface "$TAP" \
        --dst-mac "$STACK_MAC" --src-ip "$HOST_IP" --dst-ip "$STACK_IP" \
        --kind all 2>&1)
    n=$(sed -n 's/^inject: total *sent=\([0-9]*\).*/\1/p' <<<"$out")
    INJ_ROUNDS=$((INJ_ROUNDS + 1))
    INJ_FRAMES=$((INJ_FRAMES + ${n:-0}))
}

progress() {
    local el=$1 rss tcp
    snap
    rss=$(rss_kb)
    if [ "$el" -ge "$SOAK_WARM" ] && [ -n "$rss" ]; then
        [ -n "$RSS_WARM" ] || RSS_WARM=$rss
        [ "$rss" -gt "$RSS_MAX" ] && RSS_MAX=$rss
    fi
    tcp=$(($(cs echo_bytes) + $(cs discard_bytes) + $(cs chargen_bytes)))
    printf '# soak %s/%s  tcp echo %d discard %d chargen %d (%s MiB) err %d bad %d | udp %d/%d (%d fragmented) bad %d | hostile %d rounds | conns %s pbuf %s rss %s kB%s\n' \
        "$(mmss "$el")" "$(mmss "$SOAK_SECS")" "$(cs echo_ok)" \
        "$(cs discard_ok)" "$(cs chargen_ok)" "$(mib "$tcp")" \
        $(($(cs echo_error) + $(cs discard_error) + $(cs chargen_error))) \
        $(($(cs echo_corrupt) + $(cs discard_corrupt) + $(cs chargen_corrupt))) \
        "$(cs udp_ok)" "$(cs udp_sent)" "$(cs udp_frag_ok)" \
        "$(cs udp_corrupt)" "$INJ_ROUNDS" \
        "$(ts_counter "$SNAP" tcp conns_now)" "$(ts_counter "$SNAP" pbuf in_use)" \
        "${rss:-?}" "$([ "$el" -lt "$SOAK_WARM" ] && echo ' (warm-up)')"
}

run_load() {
    local t0 el next_p=0 next_i=$SOAK_INJECT_EVERY
    ts_nsrun "$TS_NS" $((SOAK_SECS + 120)) python3 "$HERE/soak_client.py" \
        --dst "$STACK_IP" --seconds "$SOAK_SECS" --seed "$SOAK_SEED" \
        --out "$TS_TMP/client.stats" >"$TS_TMP/client.out" 2>&1 &
    CLIENT_PID=$!
    ts_track_pid "$CLIENT_PID"
    ts_nsrun "$TS_NS" $((SOAK_SECS + 30)) ping -n -q -i 0.5 -s 4000 -W 2 \
        -w "$SOAK_SECS" "$STACK_IP" >"$TS_TMP/ping.out" 2>&1 &
    PING_PID=$!
    ts_track_pid "$PING_PID"
    t0=$(date +%s)
    while :; do
        el=$(($(date +%s) - t0))
        [ "$el" -ge "$SOAK_SECS" ] && break
        ts_stack_running || break
        if [ "$el" -ge "$next_i" ] && [ "$el" -lt $((SOAK_SECS - 5)) ]; then
            hostile_round
            next_i=$((el + SOAK_INJECT_EVERY))
        fi
        if [ "$el" -ge "$next_p" ]; then
            progress "$el"
            next_p=$((el + SOAK_PROGRESS))
        fi
        sleep 1
    done
    progress "$(($(date +%s) - t0))"
    # The client stops by itself (its last operation at most 60 s late),
    # ping at its -w deadline; their timeouts bound both.
    wait "$CLIENT_PID" 2>/dev/null
    ts_untrack_pid "$CLIENT_PID"
    wait "$PING_PID" 2>/dev/null
    ts_untrack_pid "$PING_PID"
}

# Wait up to 90 s for conns_now and pbuf in_use to be back at $1 and $2.
drain() {
    local conns0=$1 pbuf0=$2 i
    for ((i = 0; i < 90; i++)); do
        snap
        DRAIN_CONNS=$(ts_counter "$SNAP" tcp conns_now)
        DRAIN_PBUF=$(ts_counter "$SNAP" pbuf in_use)
        [ "$DRAIN_CONNS" = "$conns0" ] && [ "$DRAIN_PBUF" = "$pbuf0" ] && break
        sleep 1
    done
    DRAIN_SECS=$i
}

# ---- main ------------------------------------------------------------------

ts_section "soak: $SOAK_MIN min, faults 2% loss/dup/reorder (seed $SOAK_SEED)"
check "namespace soak-$$" ts_netns_create soak || exit 1
check "TAP $TAP in $TS_NS" ts_tap_setup "$TS_NS" "$TAP" "$HOST_IP/24" || exit 1
if ! check "tapstack starts" ts_stack_start "$TS_NS" soak --iface "$TAP" \
    --addr "$STACK_IP/24" --loss 0.02 --dup 0.02 --reorder 0.02 \
    --seed "$SOAK_SEED"; then
    ts_summary
    exit 1
fi
STACK_PID=$TS_STACK_PID
snap; BASE=$SNAP
CONNS0=$(ts_counter "$BASE" tcp conns_now)
PBUF0=$(ts_counter "$BASE" pbuf in_use)
RSS0=$(rss_kb)
echo "# before the load: conns_now $CONNS0, pbuf in_use $PBUF0, VmRSS ${RSS0:-?} kB; warm-up ${SOAK_WARM} s"

run_load
check "the stack ran throughout (pid $STACK_PID)" ts_stack_running || {
    tail -n 20 "$TS_STACK_ERR" | sed 's/^/#   stderr: /'
    ts_summary
    exit 1
}
drain "$CONNS0" "$PBUF0"
END=$SNAP
RSS_END=$(rss_kb)

ts_section "soak: the checks"
TCP_OPS=$(($(cs echo_ok) + $(cs discard_ok) + $(cs chargen_ok)))
TCP_ERR=$(($(cs echo_error) + $(cs discard_error) + $(cs chargen_error)))
TCP_BAD=$(($(cs echo_corrupt) + $(cs discard_corrupt) + $(cs chargen_corrupt)))
TCP_BYTES=$(($(cs echo_bytes) + $(cs discard_bytes) + $(cs chargen_bytes)))
check_ge "TCP transfers completed" "$TCP_OPS" 1
check_eq "TCP transfers corrupted (SHA-256 / RFC 864 pattern)" "$TCP_BAD" 0
check_eq "TCP operations failed (refused, reset, timed out)" "$TCP_ERR" 0
check_eq "client threads left unfinished" "$(cs unfinished)" 0
check_eq "tcp rx_bytes rose by exactly the echo and discard bytes sent" \
    "$(ts_delta "$BASE" "$END" tcp rx_bytes)" \
    $(($(cs echo_bytes) + $(cs discard_bytes)))
check_ge "UDP datagrams echoed" "$(cs udp_ok)" 1
check_ge "fragmented UDP datagrams echoed" "$(cs udp_frag_ok)" 1
check_eq "UDP replies that differ from what was sent" "$(cs udp_corrupt)" 0
PING_LINE=$(grep 'packets transmitted' "$TS_TMP/ping.out")
echo "#   ping -s 4000: $PING_LINE"
PING_RX=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$PING_LINE")
check_ge "4,000-byte pings answered" "${PING_RX:-0}" 1
check_ge "hostile rounds (inject --kind all)" "$INJ_ROUNDS" 1
FDROP=$(($(ts_delta "$BASE" "$END" faults rx.dropped) + $(ts_delta "$BASE" "$END" faults tx.dropped)))
FDUP=$(($(ts_delta "$BASE" "$END" faults rx.duplicated) + $(ts_delta "$BASE" "$END" faults tx.duplicated)))
FREO=$(($(ts_delta "$BASE" "$END" faults rx.reordered) + $(ts_delta "$BASE" "$END" faults tx.reordered)))
check_ge "faults: frames dropped" "$FDROP" 1
check_ge "faults: frames duplicated" "$FDUP" 1
check_ge "faults: frames reordered" "$FREO" 1
echo "#   drained in ${DRAIN_SECS} s"
check_eq "no leak: tcp conns_now back to $CONNS0" "$DRAIN_CONNS" "$CONNS0"
check_eq "no leak: pbuf in_use back to $PBUF0" "$DRAIN_PBUF" "$PBUF0"
echo "#   VmRSS: ${RSS0:-?} kB before, ${RSS_WARM:-?} kB after the warm-up, at most $RSS_MAX kB after it, ${RSS_END:-?} kB at the end"
check "resident memory flat after the warm-up (max - warm-up value <= $SOAK_RSS_SLACK_KB kB)" \
    test -n "$RSS_WARM" -a "$((RSS_MAX - ${RSS_WARM:-0}))" -le "$SOAK_RSS_SLACK_KB"
off=$(stat -c %s "$TS_STACK_OUT")
ts_stack_stop TERM
check_eq "SIGTERM: exit status 0" "$TS_STACK_RC" 0
tail -c +"$((off + 1))" "$TS_STACK_OUT" >"$TS_TMP/final"
check_eq "SIGTERM: pbuf in_use at exit" "$(ts_counter "$TS_TMP/final" pbuf in_use)" 0

verdict=PASS
[ "$TS_FAIL" -eq 0 ] || verdict=FAIL
printf 'soak: %s %d min: %d TCP transfers (%d echo, %d discard, %d chargen; %s MiB) byte-exact, %d failed, %d corrupt; %d/%d UDP datagrams echoed exact (%d fragmented), %d corrupt; %s big pings answered; %d hostile rounds (%d frames); faults %d dropped, %d duplicated, %d reordered; after %d s conns_now %s, pbuf in_use %s; VmRSS %s kB after warm-up, max %s, end %s\n' \
    "$verdict" "$SOAK_MIN" "$TCP_OPS" "$(cs echo_ok)" "$(cs discard_ok)" \
    "$(cs chargen_ok)" "$(mib "$TCP_BYTES")" "$TCP_ERR" "$TCP_BAD" \
    "$(cs udp_ok)" "$(cs udp_sent)" "$(cs udp_frag_ok)" \
    "$(cs udp_corrupt)" "${PING_RX:-0}/$(sed -n 's/^\([0-9]*\) packets.*/\1/p' <<<"$PING_LINE")" \
    "$INJ_ROUNDS" "$INJ_FRAMES" "$FDROP" "$FDUP" "$FREO" "$DRAIN_SECS" \
    "$DRAIN_CONNS" "$DRAIN_PBUF" "${RSS_WARM:-?}" "$RSS_MAX" "${RSS_END:-?}"
ts_summary
