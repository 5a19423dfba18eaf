#!/bin/bash
# tests/integration/run.sh - the real stack on a real TAP, driven by the host
# kernel's own tools, inside private network namespaces (DESIGN.md §6).
#
#   BUILD=build tests/integration/run.sh      (make integration / make check)
#
# Needs root or CAP_NET_ADMIN and /dev/net/tun; prints "SKIP: ..." and exits
# 0 without them. Ends with "N passed, N failed" and exits 1 on any failure.
#
# What it checks, in order:
#  1. arguments: bad ones (--mtu 0, --addr 1.2.3, unknown option, ...) exit 2
#     with a one-line error; --help and --version exit 0. Run inside a
#     namespace, so a stack that wrongly started would make its TAP there.
#  2. basics, with --pcap: ping -c 20 -i 0.05 with no loss; 4,000-byte pings
#     with no loss, reassembled by the stack and fragmented in reply (its
#     counters); arping gets 3 replies; an unknown protocol (253) draws ICMP
#     protocol unreachable back to the kernel; ping -R and ping -T tsonly
#     get their options back with the stack's address and timestamp.
#  3. the hostile battery: build/inject sends each kind of malformed frame;
#     the drop counter for each group rises by exactly what was sent (one
#     per frame, one per datagram for overlapping fragments); the stack
#     answers none of them, stays up, and still answers ping; then all kinds
#     again back to back. Malformed IP options (ip-options) are the one kind
#     answered: each by ICMP Parameter Problem or counted as rate-limited.
#  4. limits: 200 never-completed fragmented datagrams make the stack evict
#     old reassemblies (8 slots) instead of holding more, and a 64 KiB ping
#     (65,507 bytes, 45 fragments each way) still gets through; echo to the
#     subnet broadcast is ignored; a burst of 300 unknown-protocol
#     datagrams is answered only up to the ICMP rate limit.
#  5. ARP flood: 10,000 requests from distinct sender MACs (addresses cycle
#     through the namespace's /24; inject(1) --help); all counted and
#     answered, the cache evicts instead of growing, ping still works.
#  6. stop (SIGTERM): exit 0 with the counters printed; the capture is
#     readable and, for the frames the stack SENT (eth.src = its MAC), tshark
#     finds nothing malformed, no expert error and no bad IP/ICMP checksum
#     (among them the echo replies with options and the Parameter Problems).
#     The frames we injected are malformed on purpose, so they are excluded.
#  7. --host-addr: the stack configures the kernel side of a fresh TAP
#     itself (address, IPv6 off, up) and answers ping.
#  8. TCP: tests/integration/tcp.sh (echo, discard, chargen, 200
#     connections, RST storm and SYN flood, loss/dup/reorder, the -v trace
#     and the capture), sourced here so one summary counts every check;
#     it also runs on its own.
#  9. loopback: tests/integration/loop.sh (127/8 from the wire dropped and
#     never answered, --pcap-lo, an in-process server and client over lo
#     with tcpdump seeing nothing on the wire); then apps.sh (the demo
#     apps), http.sh (the HTTP and UDP services), programs.sh (unmodified
#     programs on the stack through tapstack-run), ctl.sh (tapstack-ctl
#     against a running stack), trace.sh (the --trace file against the
#     capture and the counters, tapstack-ctl watch) and cpython.sh
#     (CPython's own socket test suites on tapstack against the kernel),
#     sourced the same way; last draw.sh (tapstack-draw on a lossy 1 MiB HTTP capture and on the
#     captures kept above: valid SVG, the expected arrows and states, the
#     HTML page rendered by headless Chromium).
#
# The capture of the main run is copied to $BUILD/integration.pcap for a look
# after a failure.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

TAP=tap0
HOST_IP=10.0.0.1
STACK_IP=10.0.0.2
STACK_MAC=02:00:0a:00:00:02
PCAP_KEEP=$BUILD/integration.pcap
FLOOD=${FLOOD:-10000}

ts_require_env
PCAP=$TS_TMP/integration.pcap     # private: parallel runs must not share it

# TS_PARTS="main tcp" runs only those parts (default: all of them): args,
# main (sections 2-6), hostaddr, tcp, loop, apps, http, programs, ctl,
# trace, cpython, draw. tests/integration/asan.sh runs a few against a sanitized build.
ts_part() {
    [ -z "${TS_PARTS:-}" ] || [[ " $TS_PARTS " == *" $1 "* ]]
}

missing=""
for b in tapstack inject; do
    [ -x "$BUILD/$b" ] || missing="$missing $BUILD/$b"
done
if [ -n "$missing" ]; then
    echo "FAIL - not built:$missing (run make first)"
    TS_FAIL=$((TS_FAIL + 1))
    ts_summary
    exit 1
fi

SNAP_N=0
# Take a counter dump; its file name goes to $SNAP.
snap() {
    SNAP_N=$((SNAP_N + 1))
    SNAP="$TS_TMP/counters.$SNAP_N"
    ts_counters "$SNAP" || : >"$SNAP"
}

# True while the stack runs; else one FAIL line with its exit status and
# the tail of its stderr (a crash report, a sanitizer trace), and false.
stack_or_fail() {
    local rc
    ts_stack_running && return 0
    [ -n "$TS_STACK_PID" ] || return 1
    wait "$TS_STACK_PID" 2>/dev/null
    rc=$?
    ts_untrack_pid "$TS_STACK_PID"
    TS_STACK_PID=""
    check "tapstack is still running (it exited with status $rc; the rest is skipped)" false
    tail -n 20 "$TS_STACK_ERR" | sed 's/^/#   stderr: /'
    return 1
}

# ping_ok COUNT ARGS...: ping the stack from the namespace; all COUNT answered.
ping_ok() {
    local n=$1 out
    shift
    out=$(ts_nsrun "$TS_NS" 60 ping -n -c "$n" -W 2 "$@" "$STACK_IP" 2>&1)
    echo "$out" | grep -E 'transmitted|rtt' | sed 's/^/#   /'
    echo "$out" | grep -qE "^$n packets transmitted, $n received, 0% packet loss"
}

# ---- 1. arguments -------------------------------------------------------

# bad_arg_case ARGS...: exit 2, exactly one line of output, no TAP made.
bad_arg_case() {
    local out rc lines
    out=$(ts_nsrun "$TS_NS" 5 "$BUILD/tapstack" "$@" 2>&1 </dev/null)
    rc=$?
    lines=$(printf '%s\n' "$out" | grep -c .)
    echo "#   tapstack $*: exit $rc: $(printf '%s' "$out" | head -n 3 | tr '\n' '|')"
    [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ]
}

test_args() {
    local out rc
    ts_section "arguments"
    ts_netns_create ts-itest-args
    check "--mtu 0: exit 2, one-line error" bad_arg_case --mtu 0
    check "--mtu 70000: exit 2, one-line error" bad_arg_case --mtu 70000
    check "--addr 1.2.3: exit 2, one-line error" bad_arg_case --addr 1.2.3
    check "--addr 10.0.0.2/33: exit 2, one-line error" bad_arg_case --addr 10.0.0.2/33
    check "--mac 02:00:0a:00:00: exit 2, one-line error" bad_arg_case --mac 02:00:0a:00:00
    check "--gateway 10.0.0.300: exit 2, one-line error" bad_arg_case --gateway 10.0.0.300
    check "unknown option: exit 2, one-line error" bad_arg_case --no-such-option
    check "stray argument: exit 2, one-line error" bad_arg_case stray
    out=$(ts_nsrun "$TS_NS" 5 "$BUILD/tapstack" --help 2>&1 </dev/null)
    rc=$?
    check_eq "--help exits 0" "$rc" 0
    check "--help prints a usage text" grep -qi usage <<<"$out"
    out=$(ts_nsrun "$TS_NS" 5 "$BUILD/tapstack" --version 2>&1 </dev/null)
    rc=$?
    check_eq "--version exits 0" "$rc" 0
    echo "#   tapstack --version: $(head -n 1 <<<"$out")"
    check "--version prints a version" test -n "$out"
    check "no TAP was created by any of these" \
        test -z "$(ip -n "$TS_NS" -o link show type tun 2>/dev/null)"
}

# ---- 2. basics ----------------------------------------------------------

# An IP datagram of protocol 253 from the kernel; wait for the ICMP
# protocol unreachable (type 3 code 2) that quotes it.
proto_unreach_ok() {
    ts_nsrun "$TS_NS" 10 python3 - "$STACK_IP" <<'EOF'
import socket, sys, time
dst = sys.argv[1]
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
icmp.settimeout(0.5)
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
raw.sendto(b"tapstack integration test", (dst, 0))
end = time.time() + 3
while time.time() < end:
    try:
        pkt, (src, _) = icmp.recvfrom(2048)
    except socket.timeout:
        continue
    ihl = (pkt[0] & 15) * 4
    t, c = pkt[ihl], pkt[ihl + 1]
    quoted = pkt[ihl + 8:]
    if src == dst and t == 3 and c == 2 and len(quoted) >= 20 and quoted[9] == 253:
        print("#   got ICMP protocol unreachable quoting protocol 253")
        sys.exit(0)
print("#   no ICMP protocol unreachable within 3 s")
sys.exit(1)
EOF
}

test_basics() {
    local a b out
    ts_section "basics (ping, fragmented ping, arping, protocol unreachable)"
    check "ping -c 20 -i 0.05: 0% loss" ping_ok 20 -i 0.05
    snap; a=$SNAP
    check "ping -c 5 -s 4000: 0% loss" ping_ok 5 -s 4000 -i 0.2
    snap; b=$SNAP
    check_eq "4000-byte pings reassembled by the stack" \
        "$(ts_delta "$a" "$b" ipv4 reassembled)" 5
    check_ge "4000-byte replies sent in fragments (ipv4 tx_fragments)" \
        "$(ts_delta "$a" "$b" ipv4 tx_fragments)" 10
    if ts_have arping; then
        out=$(ts_nsrun "$TS_NS" 15 arping -I "$TAP" -c 3 -w 10 "$STACK_IP" 2>&1)
        echo "$out" | grep -iE 'reply|received' | sed 's/^/#   /'
        check "arping -c 3: 3 replies" grep -q 'Received 3 response' <<<"$out"
        check "arping: replies carry the stack's MAC" \
            grep -qi "\[$STACK_MAC\]" <<<"$out"
    else
        check_skip "arping -c 3" "arping not installed"
    fi
    if ts_have python3; then
        snap; a=$SNAP
        check "unknown protocol 253: ICMP protocol unreachable" proto_unreach_ok
        snap; b=$SNAP
        check_eq "ipv4 drop_unknown_proto counted it" \
            "$(ts_delta "$a" "$b" ipv4 drop_unknown_proto)" 1
    else
        check_skip "ICMP protocol unreachable" "python3 not installed"
    fi
}

# ---- 2b. IP options -------------------------------------------------------

# ping -R and ping -T tsonly from the kernel: each reply carries the
# option back with the stack's entry added (RFC 1122 3.2.2.6).
test_ip_options() {
    local a b out
    ts_section "IP options (ping -R, ping -T tsonly)"
    snap; a=$SNAP
    out=$(ts_nsrun "$TS_NS" 20 ping -n -c 3 -i 0.2 -W 2 -R "$STACK_IP" 2>&1)
    grep -E 'transmitted|^RR:|^[[:space:]]+[0-9.]+$' <<<"$out" | head -n 8 | sed 's/^/#   /'
    check "ping -R -c 3: all answered" \
        grep -qE '^3 packets transmitted, 3 received' <<<"$out"
    check "ping -R: the recorded route holds the stack's address" \
        grep -qE "^(RR:)?[[:space:]]+${STACK_IP//./\\.}\$" <<<"$out"
    # 3,000 bytes: reassembled with the options of its first fragment, the
    # reply fragmented with Record Route in its first fragment only.
    out=$(ts_nsrun "$TS_NS" 20 ping -n -c 2 -i 0.2 -W 2 -R -s 3000 "$STACK_IP" 2>&1)
    grep -E 'transmitted' <<<"$out" | sed 's/^/#   -s 3000: /'
    check "ping -R -s 3000 -c 2 (fragments both ways): all answered" \
        grep -qE '^2 packets transmitted, 2 received' <<<"$out"
    check "ping -R -s 3000: the recorded route holds the stack's address" \
        grep -qE "^(RR:)?[[:space:]]+${STACK_IP//./\\.}\$" <<<"$out"
    out=$(ts_nsrun "$TS_NS" 20 ping -n -c 2 -i 0.2 -W 2 -T tsonly "$STACK_IP" 2>&1)
    grep -E 'transmitted|^TS:|^[[:space:]]+[0-9]' <<<"$out" | head -n 6 | sed 's/^/#   /'
    check "ping -T tsonly -c 2: all answered" \
        grep -qE '^2 packets transmitted, 2 received' <<<"$out"
    check "ping -T tsonly: the replies carry timestamps" grep -q '^TS:' <<<"$out"
    # The stack's clock is not milliseconds since midnight UT: its stamp
    # has the high-order bit set, which ping shows as "not-standard".
    check "ping -T tsonly: the stack added its own (not-standard) timestamp" \
        grep -q 'not-standard' <<<"$out"
    snap; b=$SNAP
    check_eq "icmp tx_echo_options +7 (options reflected)" \
        "$(ts_delta "$a" "$b" icmp tx_echo_options)" 7
    check_ge "ipv4 rx_options +7 or more (Linux leaves NOPs in later fragments: each counts)" \
        "$(ts_delta "$a" "$b" ipv4 rx_options)" 7
}


# ---- 3. hostile battery -------------------------------------------------

# The stack counter that must count each group of inject(1) output.
group_counter() {
    case $1 in
    runt-sub14) echo "eth drop_runt" ;;
    runt-no-ip-header) echo "ipv4 drop_truncated" ;;
    bad-version) echo "ipv4 drop_version" ;;
    bad-ihl | ihl-past-end) echo "ipv4 drop_bad_hlen" ;;
    short-totlen | long-totlen) echo "ipv4 drop_bad_totlen" ;;
    bad-cksum) echo "ipv4 drop_bad_cksum" ;;
    overlap) echo "ipv4 drop_frag_overlap" ;;
    ping-of-death) echo "ipv4 drop_frag_too_big" ;;
    frag-flood) echo "ipv4 rx_fragments" ;;
    arp-flood) echo "arp rx_requests" ;;
    bad-arp-format) echo "arp drop_bad_format" ;;
    bad-arp-truncated) echo "arp drop_truncated" ;;
    bad-arp-op) echo "arp drop_bad_op" ;;
    martian) echo "ipv4 drop_martian_src" ;;
    martian-dst) echo "ipv4 drop_martian_dst" ;;
    ipopt-bad-len) echo "ipv4 drop_opt_bad_len" ;;
    ipopt-bad-rr) echo "ipv4 drop_opt_bad_rr" ;;
    ipopt-bad-srr) echo "ipv4 drop_opt_bad_srr" ;;
    ipopt-bad-ts) echo "ipv4 drop_opt_bad_ts" ;;
    ipopt-srcroute) echo "ipv4 drop_srcroute" ;;
    *) echo "" ;;
    esac
}

# field LINE KEY: the value of KEY=value in an inject(1) line.
field() {
    sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"
}

# Run inject --kind KIND [ARGS]; output in $INJ_OUT, status in $INJ_RC.
inject() {
    local kind=$1
    shift
    INJ_OUT=$(ts_nsrun "$TS_NS" 60 "$BUILD/inject" --iface "$TAP" \
        --dst-mac "$STACK_MAC" --src-ip "$HOST_IP" --dst-ip "$STACK_IP" \
        --kind "$kind" "$@" 2>&1)
    INJ_RC=$?
    printf '%s\n' "$INJ_OUT" | sed 's/^/#   /'
}

# Check every group of the last inject run against the dumps $1 and $2.
check_groups() {
    local before=$1 after=$2 line group sent expect refused counter
    while read -r line; do
        group=$(awk '{ print $2 }' <<<"$line")
        [ "$group" = total ] && continue
        sent=$(field "$line" sent)
        expect=$(field "$line" expect)
        refused=$(field "$line" refused)
        counter=$(group_counter "$group")
        if [ "$group" = runt-sub14 ] && [ "$sent" = 0 ]; then
            echo "#   note: the kernel refused all $refused frames shorter than" \
                 "14 bytes (packet sockets cannot send a runt), so eth" \
                 "drop_runt is covered by the unit tests only"
            continue
        fi
        if [ -z "$counter" ]; then
            check "$group: known group" false
            continue
        fi
        # shellcheck disable=SC2086 # counter is "section name"
        check_eq "$group: $counter +$expect" \
            "$(ts_delta "$before" "$after" $counter)" "$expect"
    done < <(grep -E '^inject: [^ ]+ +sent=' <<<"$INJ_OUT")
}

hostile_kind() {
    local kind=$1 a b sent bad
    snap; a=$SNAP
    inject "$kind"
    snap; b=$SNAP
    check_eq "$kind: injector sent every frame (exit status)" "$INJ_RC" 0
    check_groups "$a" "$b"
    sent=$(field "$(grep 'inject: total' <<<"$INJ_OUT")" sent)
    check_ge "$kind: eth rx_frames +$sent (all reached the stack)" \
        "$(ts_delta "$a" "$b" eth rx_frames)" "${sent:-1}"
    case $kind in
    bad-arp)
        check_eq "$kind: no ARP reply" "$(ts_delta "$a" "$b" arp tx_replies)" 0 ;;
    ip-options)
        # Malformed options draw Parameter Problem (RFC 1122 3.2.2.5) up to
        # the ICMP rate limit; unfinished source routes draw nothing.
        bad=$(grep -E '^inject: ipopt-bad-' <<<"$INJ_OUT" |
            sed -n 's/.* sent=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
        check_eq "$kind: no echo reply" \
            "$(ts_delta "$a" "$b" icmp tx_echo_replies)" 0
        check_eq "$kind: each malformed one answered by Parameter Problem or rate-limited" \
            "$(delta_sum "$a" "$b" icmp tx_param_problems err_rate_limited)" "$bad"
        check_ge "$kind: Parameter Problems sent (icmp tx_param_problems)" \
            "$(ts_delta "$a" "$b" icmp tx_param_problems)" 1
        check_eq "$kind: no other ICMP error" \
            "$(( $(ts_delta "$a" "$b" icmp tx_errors) - $(ts_delta "$a" "$b" icmp tx_param_problems) ))" 0 ;;
    *)
        check_eq "$kind: no echo reply" \
            "$(ts_delta "$a" "$b" icmp tx_echo_replies)" 0
        check_eq "$kind: no ICMP error" "$(ts_delta "$a" "$b" icmp tx_errors)" 0 ;;
    esac
    check "$kind: stack still running" ts_stack_running
}

test_hostile() {
    local k
    ts_section "hostile battery (build/inject)"
    for k in runt bad-version bad-ihl ihl-past-end short-totlen long-totlen \
             bad-cksum overlap ping-of-death bad-arp martian martian-dst \
             ip-options; do
        hostile_kind "$k"
        stack_or_fail || return
    done
    check "after the battery: ping -c 5 -i 0.1 0% loss" ping_ok 5 -i 0.1
    inject all --count 3
    check_eq "all kinds x3 back to back: every frame sent" "$INJ_RC" 0
    check "all kinds x3: stack still running" ts_stack_running
    check "all kinds x3: ping -c 5 -i 0.1 0% loss" ping_ok 5 -i 0.1
}

# ---- 4. limits -----------------------------------------------------------

# delta_sum BEFORE AFTER SECTION NAME...: the sum of the deltas, or
# "missing" when a counter is absent.
delta_sum() {
    local a=$1 b=$2 sec=$3 sum=0 d name
    shift 3
    for name in "$@"; do
        d=$(ts_delta "$a" "$b" "$sec" "$name")
        [ "$d" = missing ] && { echo missing; return; }
        sum=$((sum + d))
    done
    echo "$sum"
}

# N datagrams of protocol 253 from the kernel, as fast as it will send them.
proto253_burst() {
    ts_nsrun "$TS_NS" 20 python3 - "$STACK_IP" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
for i in range(int(sys.argv[2])):
    s.sendto(b"rate limit test", (sys.argv[1], 0))
EOF
}

test_limits() {
    local a b sent n
    ts_section "limits (reassembly slots, 64 KiB ping, broadcast echo, ICMP rate)"
    snap; a=$SNAP
    inject frag-flood --count 200
    snap; b=$SNAP
    sent=$(field "$(grep 'inject: frag-flood' <<<"$INJ_OUT")" sent)
    check_eq "frag-flood: injector sent every frame" "$INJ_RC" 0
    check_eq "frag-flood: ipv4 rx_fragments +200" \
        "$(ts_delta "$a" "$b" ipv4 rx_fragments)" 200
    check_ge "frag-flood: old reassemblies evicted (ipv4 drop_frag_evicted)" \
        "$(ts_delta "$a" "$b" ipv4 drop_frag_evicted)" $(( ${sent:-200} - 8 ))
    check "after frag-flood: ping -c 2 -s 65507 (64 KiB, 45 fragments) 0% loss" \
        ping_ok 2 -s 65507 -i 0.3
    snap; a=$SNAP
    n=$(ts_nsrun "$TS_NS" 10 ping -n -b -c 3 -i 0.2 -W 1 10.0.0.255 2>&1 |
        grep -c 'bytes from 10.0.0.2')
    snap; b=$SNAP
    check_eq "echo to the subnet broadcast: no reply from the stack" "$n" 0
    check_eq "echo to the subnet broadcast: icmp drop_broadcast_echo +3" \
        "$(ts_delta "$a" "$b" icmp drop_broadcast_echo)" 3
    if ! ts_have python3; then
        check_skip "ICMP error rate limit" "python3 not installed"
        return
    fi
    snap; a=$SNAP
    proto253_burst 300
    sleep 0.2
    snap; b=$SNAP
    n=$(delta_sum "$a" "$b" icmp tx_errors err_rate_limited err_suppressed)
    echo "#   300 unknown-protocol datagrams: $(ts_delta "$a" "$b" icmp tx_errors) errors sent, $(ts_delta "$a" "$b" icmp err_rate_limited) rate-limited"
    check_eq "burst of 300: each unknown protocol counted" \
        "$(ts_delta "$a" "$b" ipv4 drop_unknown_proto)" 300
    check_eq "burst of 300: every error sent or counted as limited" "$n" 300
    check_ge "burst of 300: ICMP errors rate-limited (icmp err_rate_limited)" \
        "$(ts_delta "$a" "$b" icmp err_rate_limited)" 1
    check "after the burst: stack still running" ts_stack_running
}

# ---- 5. ARP flood -------------------------------------------------------

rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$TS_STACK_PID/status" 2>/dev/null
}

test_flood() {
    local a b rss0 rss1
    ts_section "ARP flood ($FLOOD distinct senders)"
    rss0=$(rss_kb)
    snap; a=$SNAP
    inject arp-flood --count "$FLOOD"
    snap; b=$SNAP
    rss1=$(rss_kb)
    check_eq "flood: injector sent every frame" "$INJ_RC" 0
    check_eq "flood: arp rx_requests +$FLOOD" \
        "$(ts_delta "$a" "$b" arp rx_requests)" "$FLOOD"
    check_eq "flood: arp tx_replies +$FLOOD" \
        "$(ts_delta "$a" "$b" arp tx_replies)" "$FLOOD"
    check_ge "flood: cache evicted instead of growing (arp evicted)" \
        "$(ts_delta "$a" "$b" arp evicted)" 1
    echo "#   resident memory: ${rss0:-?} kB before, ${rss1:-?} kB after"
    if [ -n "$rss0" ] && [ -n "$rss1" ]; then
        check "flood: resident memory grew by less than 8 MB" \
            test $((rss1 - rss0)) -lt 8192
    fi
    check "flood: stack still running" ts_stack_running
    check "after the flood: ping -c 5 -i 0.1 0% loss" ping_ok 5 -i 0.1
}

# ---- 6. stop and the capture --------------------------------------------

tshark_clean() {
    local bad
    bad=$(timeout 60 tshark -n -r "$PCAP" -o ip.check_checksum:TRUE \
        -Y "eth.src == $STACK_MAC && (_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == \"Bad\" || icmp.checksum.status == \"Bad\")" 2>&1 |
        grep -v '^Running as user')
    [ -z "$bad" ] && return 0
    head -n 20 <<<"$bad" | sed 's/^/#   /'
    return 1
}

test_stop_and_capture() {
    local off types err
    ts_section "stop (SIGTERM) and the capture"
    off=$(stat -c %s "$TS_STACK_OUT")
    ts_stack_stop TERM
    check_eq "SIGTERM: exit status 0" "$TS_STACK_RC" 0
    tail -c +"$((off + 1))" "$TS_STACK_OUT" >"$TS_TMP/final"
    check "SIGTERM: counters printed" ts_dump_complete "$TS_TMP/final"
    if ! ts_have tshark; then
        check_skip "capture checks" "tshark not installed"
        return
    fi
    # One pass lists the ICMP type of every frame the stack sent.
    types=$(timeout 60 tshark -n -r "$PCAP" -Y "eth.src == $STACK_MAC" \
        -T fields -e icmp.type 2>"$TS_TMP/tshark.err")
    err=$(grep -v '^Running as user' "$TS_TMP/tshark.err")
    [ -n "$err" ] && head -n 5 <<<"$err" | sed 's/^/#   /'
    check "capture readable by tshark" test -z "$err"
    check_ge "capture holds frames the stack sent" "$(grep -c '' <<<"$types")" 30
    check_ge "capture holds its echo replies" "$(grep -cx 0 <<<"$types")" 25
    check_ge "capture holds its Parameter Problems (ip-options x4)" \
        "$(grep -cE "^12(,|$)" <<<"$types")" 20
    check "tshark: stack's frames not malformed, no expert error, checksums good" \
        tshark_clean
}

# Keep the capture for a look after the run (renamed into place, so a
# parallel run never sees half a file).
keep_capture() {
    [ -f "$PCAP" ] || return 0
    cp "$PCAP" "$PCAP_KEEP.$$" && mv -f "$PCAP_KEEP.$$" "$PCAP_KEEP" &&
        echo "# capture of the main run: $PCAP_KEEP"
}

# ---- 7. --host-addr -----------------------------------------------------

test_host_addr() {
    local tap=tsh0 out
    ts_section "--host-addr (the stack configures the kernel side)"
    check "namespace for the --host-addr test" ts_netns_create ts-itest-ha ||
        return
    if ! check "tapstack --host-addr starts" ts_stack_start "$TS_NS" hostaddr \
        --iface "$tap" --addr "$STACK_IP/24" --host-addr "$HOST_IP/24"; then
        return
    fi
    out=$(ip -n "$TS_NS" -4 -o addr show dev "$tap" 2>&1)
    check "kernel side has $HOST_IP/24" grep -q "inet $HOST_IP/24" <<<"$out"
    check "kernel side is up" grep -q 'state UP\|,UP' \
        <<<"$(ip -n "$TS_NS" -o link show dev "$tap")"
    check_eq "IPv6 off on the kernel side" \
        "$(ts_nsrun "$TS_NS" 5 sysctl -n "net.ipv6.conf.$tap.disable_ipv6" 2>&1)" 1
    check "ping -c 3 -i 0.1: 0% loss" ping_ok 3 -i 0.1
    ts_stack_stop TERM
    check_eq "SIGTERM: exit status 0" "$TS_STACK_RC" 0
}

# ---- main ---------------------------------------------------------------

ts_part args && test_args

if ts_part main; then
    ts_section "start"
    if check "namespace ts-itest-$$" ts_netns_create ts-itest &&
       check "TAP $TAP set up in namespace $TS_NS" ts_tap_setup "$TS_NS" "$TAP" "$HOST_IP/24" &&
       check "tapstack starts and prints 'tapstack: ready'" \
           ts_stack_start "$TS_NS" main --iface "$TAP" --addr "$STACK_IP/24" \
           --pcap "$PCAP"; then
        sed 's/^/#   /' "$TS_STACK_OUT"
        for t in test_basics test_ip_options test_hostile test_limits test_flood \
                 test_stop_and_capture; do
            stack_or_fail || break
            "$t"
        done
    fi
    keep_capture
fi
ts_part hostaddr && test_host_addr

# shellcheck source=tests/integration/tcp.sh
ts_part tcp && . "$HERE/tcp.sh"
# shellcheck source=tests/integration/loop.sh
ts_part loop && . "$HERE/loop.sh"
# shellcheck source=tests/integration/apps.sh
ts_part apps && . "$HERE/apps.sh"
# shellcheck source=tests/integration/http.sh
ts_part http && . "$HERE/http.sh"
# shellcheck source=tests/integration/programs.sh
ts_part programs && . "$HERE/programs.sh"
# shellcheck source=tests/integration/ctl.sh
ts_part ctl && . "$HERE/ctl.sh"
# shellcheck source=tests/integration/trace.sh
ts_part trace && . "$HERE/trace.sh"
# shellcheck source=tests/integration/cpython.sh
ts_part cpython && . "$HERE/cpython.sh"
# shellcheck source=tests/integration/draw.sh
ts_part draw && . "$HERE/draw.sh"

echo "# took $(ts_elapsed) s"
ts_summary
