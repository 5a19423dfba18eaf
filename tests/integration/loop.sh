#!/bin/bash
# tests/integration/loop.sh - the loopback interface of the real stack on a
# real TAP, inside a private network namespace (issue 12).
#
#   BUILD=build tests/integration/loop.sh     on its own
#   BUILD=build tests/integration/run.sh      sources it, one summary
#
# Needs root or CAP_NET_ADMIN and /dev/net/tun; tshark and tcpdump for the
# capture checks (skipped, and said so, without them). On its own it ends
# with "N passed, N failed" and exits 1 on any failure.
#
# tapstack (-v, --pcap-lo) on the namespace's TAP:
#  1. it starts and names both interfaces: the ready line says lo, the -v log
#     has "interface lo: 127.0.0.1/8 mtu 65536 (loopback)", the counters a
#     lo: section.
#  2. 127/8 from the wire (RFC 1122 3.2.1.3): inject martian-dst sends valid
#     echo requests, SYNs and UDP datagrams from the host to 127.0.0.1 and
#     127.1.2.3, inject martian valid ones from 127.0.0.1 (and the other
#     martian sources): ipv4 drop_martian_dst and drop_martian_src rise by
#     exactly what was sent; nothing is answered (eth tx_frames does not
#     move: no reply, no RST, no ICMP error, no ARP); nothing reaches lo;
#     the stack still answers ping.
#  3. SIGTERM: exit 0; the --pcap-lo file is a valid, empty capture (no
#     program of this stack talked to itself).
# build/ts-loop (a server and its client in one program, on a stack of its
# own on a second TAP), while tcpdump captures the kernel's side of it:
#  4. over 127.0.0.1 (10 MiB, round trips, 65,507-byte datagrams, with
#     --pcap-lo) and over the stack's own address: every byte checked;
#  5. tcpdump saw the stack's gratuitous ARP (the capture was live) and not
#     one IPv4 frame: none of the traffic went on the wire;
#  6. the lo capture: tshark reads it with no malformed frame and no expert
#     error; every frame is 127.0.0.1 to 127.0.0.1 with zero MACs; the TCP
#     segments reach 65,495 bytes and the UDP datagrams are 65,507 bytes in
#     one piece (no fragment); TCP and UDP checksums are not computed
#     there (tshark shows them as unverified, or UDP's as zero).
#  7. a figure: 1 GiB over 127.0.0.1 without capture, printed as a "#"
#     line next to build/ts-loop-kernel on the kernel's lo; not asserted.
set -u

TL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TL_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TL_HERE/lib.sh"
    ts_require_env
else
    TL_STANDALONE=0         # sourced by run.sh: lib.sh and the trap are set
fi

TL_TAP=tap0
TL_HOST_IP=10.0.0.1
TL_STACK_IP=10.0.0.2
TL_STACK_MAC=02:00:0a:00:00:02
TL_TAP2=tsl1                # ts-loop's own TAP, in the same namespace
TL_HOST2_IP=10.0.1.1
TL_LOOP_IP=10.0.1.2
TL_STACK_PCAP_LO=$TS_TMP/loop-stack-lo.pcap
TL_LO_PCAP=$TS_TMP/loop-lo.pcap
TL_WIRE_PCAP=$TS_TMP/loop-wire.pcap
TL_MIB=1048576
TL_NS=""

TL_SNAP_N=0
tl_snap() {
    TL_SNAP_N=$((TL_SNAP_N + 1))
    TL_SNAP="$TS_TMP/loop-counters.$TL_SNAP_N"
    ts_counters "$TL_SNAP" || : >"$TL_SNAP"
}

tl_ping_ok() {
    ts_nsrun "$TL_NS" 10 ping -n -q -c 3 -i 0.1 -W 1 "$TL_STACK_IP" >/dev/null 2>&1
}

# inject KIND into the stack; "sent" of the group GROUP goes to TL_SENT.
tl_inject() {
    local kind=$1 group=$2 out
    out=$(ts_nsrun "$TL_NS" 30 "$BUILD/inject" --iface "$TL_TAP" \
        --dst-mac "$TL_STACK_MAC" --src-ip "$TL_HOST_IP" \
        --dst-ip "$TL_STACK_IP" --kind "$kind" 2>&1)
    TL_INJ_RC=$?
    printf '%s\n' "$out" | sed 's/^/#   /'
    TL_SENT=$(sed -n "s/^inject: $group  *sent=\([0-9]*\).*/\1/p" <<<"$out")
}

# ---- 1. the stack names its interfaces ------------------------------------

test_loop_names() {
    ts_section "tapstack: two interfaces, TAP and lo"
    check "ready line names lo" grep -q '^tapstack: ready .*lo 127.0.0.1/8.*lo capture' \
        "$TS_STACK_OUT"
    check "-v log: interface lo: 127.0.0.1/8 mtu 65536 (loopback)" \
        grep -q 'interface lo: 127.0.0.1/8 mtu 65536 (loopback)' "$TS_STACK_ERR"
    check "-v log: interface $TL_TAP: $TL_STACK_IP/24 mtu 1500" \
        grep -q "interface $TL_TAP: $TL_STACK_IP/24 mtu 1500" "$TS_STACK_ERR"
    tl_snap
    check "counters: a lo: section with drop_queue_full" \
        test -n "$(ts_counter "$TL_SNAP" lo drop_queue_full)"
}

# ---- 2. 127/8 from the wire --------------------------------------------------

test_loop_martians() {
    local a b
    ts_section "127/8 arriving on the TAP: dropped, counted, never answered"
    tl_snap; a=$TL_SNAP
    tl_inject martian-dst martian-dst
    local dst_sent=$TL_SENT dst_rc=$TL_INJ_RC
    tl_inject martian martian
    local src_sent=$TL_SENT src_rc=$TL_INJ_RC
    sleep 0.3
    tl_snap; b=$TL_SNAP
    check_eq "inject martian-dst: every frame sent" "$dst_rc" 0
    check_eq "inject martian: every frame sent" "$src_rc" 0
    check_eq "martian-dst: 6 datagrams to 127/8 sent" "${dst_sent:-0}" 6
    check_eq "ipv4 drop_martian_dst +${dst_sent:-?}" \
        "$(ts_delta "$a" "$b" ipv4 drop_martian_dst)" "${dst_sent:-6}"
    check_eq "ipv4 drop_martian_src +${src_sent:-?}" \
        "$(ts_delta "$a" "$b" ipv4 drop_martian_src)" "${src_sent:-6}"
    check_eq "nothing answered: eth tx_frames +0" \
        "$(ts_delta "$a" "$b" eth tx_frames)" 0
    check_eq "nothing reached lo: lo rx_frames +0" \
        "$(ts_delta "$a" "$b" lo rx_frames)" 0
    check_eq "no TCP segment handled: tcp rx_segments +0" \
        "$(ts_delta "$a" "$b" tcp rx_segments)" 0
    check_eq "no UDP datagram handled: udp rx_datagrams +0" \
        "$(ts_delta "$a" "$b" udp rx_datagrams)" 0
    check "after: ping -c 3 0% loss" tl_ping_ok
}

# ---- 3. stop ----------------------------------------------------------------

test_loop_stop() {
    local n
    ts_section "stop: exit 0, the lo capture is a valid empty file"
    ts_stack_stop TERM
    check_eq "SIGTERM: exit status 0" "$TS_STACK_RC" 0
    if ! ts_have tshark; then
        check_skip "lo capture of tapstack" "tshark not installed"
        return
    fi
    n=$(timeout 30 tshark -n -r "$TL_STACK_PCAP_LO" 2>"$TS_TMP/loop-tshark0.err" | grep -c '')
    check "tapstack --pcap-lo: tshark reads it" \
        test -z "$(grep -v '^Running as user' "$TS_TMP/loop-tshark0.err")"
    check_eq "tapstack --pcap-lo: no frame (nobody talked to itself)" "$n" 0
}

# ---- 4..6. ts-loop with tcpdump on the wire ----------------------------------

# tcpdump on the kernel's side of TL_TAP2, in the background; waits (5 s at
# most) until it listens. TL_DUMP_PID is its PID. -Z root: tcpdump would
# otherwise give up root before creating its file in our private TS_TMP.
tl_tcpdump_start() {
    local i
    ip netns exec "$TL_NS" tcpdump -n -U --immediate-mode -Z root -i "$TL_TAP2" \
        -w "$TL_WIRE_PCAP" \
        2>"$TS_TMP/loop-tcpdump.err" &
    TL_DUMP_PID=$!
    ts_track_pid "$TL_DUMP_PID"
    for ((i = 0; i < 100; i++)); do
        grep -q 'listening on' "$TS_TMP/loop-tcpdump.err" && return 0
        sleep 0.05
    done
    return 1
}

tl_tcpdump_stop() {
    kill -INT "$TL_DUMP_PID" 2>/dev/null
    wait "$TL_DUMP_PID" 2>/dev/null
    ts_untrack_pid "$TL_DUMP_PID"
}

# ts-loop on TL_TAP2 (configured already): ts_loop SECONDS ARGS...
tl_ts_loop() {
    local secs=$1
    shift
    ts_nsrun "$TL_NS" "$secs" "$BUILD/ts-loop" --iface "$TL_TAP2" \
        --addr "$TL_LOOP_IP/24" "$@"
}

test_loop_transfers() {
    local out1 out2 rc1 rc2 ip_frames arp_frames
    ts_section "ts-loop: one program talking to itself, tcpdump on the wire"
    if ! check "TAP $TL_TAP2 for ts-loop" ts_tap_setup "$TL_NS" "$TL_TAP2" "$TL_HOST2_IP/24"; then
        return
    fi
    if ! ts_have tcpdump; then
        check_skip "capture of the wire" "tcpdump not installed"
    elif ! check "tcpdump listens on $TL_TAP2" tl_tcpdump_start; then
        return
    fi
    out1=$(tl_ts_loop 60 -n $((10 * TL_MIB)) -r 500 -u 3 --pcap-lo "$TL_LO_PCAP" 2>&1)
    rc1=$?
    out2=$(tl_ts_loop 60 -n $((10 * TL_MIB)) -r 500 -u 3 "$TL_LOOP_IP" 2>&1)
    rc2=$?
    printf '%s\n%s\n' "$out1" "$out2" | sed 's/^/#   /'
    check_eq "ts-loop over 127.0.0.1: every byte checked (exit 0)" "$rc1" 0
    check "ts-loop over 127.0.0.1: 10 MiB bulk, round trips, 3 datagrams" \
        test "$(grep -c 'every byte checked\|all echoed\|3 of 3' <<<"$out1")" = 3
    check_eq "ts-loop over $TL_LOOP_IP (its own address): exit 0" "$rc2" 0
    check "ts-loop over $TL_LOOP_IP: 10 MiB bulk, round trips, 3 datagrams" \
        test "$(grep -c 'every byte checked\|all echoed\|3 of 3' <<<"$out2")" = 3
    ts_have tcpdump || return 0
    sleep 0.2
    tl_tcpdump_stop
    ip_frames=$(timeout 30 tcpdump -n -r "$TL_WIRE_PCAP" ip 2>/dev/null | grep -c '')
    arp_frames=$(timeout 30 tcpdump -n -r "$TL_WIRE_PCAP" arp 2>/dev/null | grep -c '')
    check_ge "tcpdump on $TL_TAP2 was live: the stack's gratuitous ARPs seen" "$arp_frames" 1
    check_eq "tcpdump on $TL_TAP2: not one IPv4 frame of the transfers" "$ip_frames" 0
}

# Print tshark's FIELD for the lo capture's frames that match FILTER.
tl_lo_fields() {
    timeout 60 tshark -n -r "$TL_LO_PCAP" -Y "$1" -T fields -e "$2" 2>/dev/null
}

test_loop_capture() {
    local err bad n others maxlen big frags
    ts_section "the lo capture of ts-loop, read by tshark"
    if ! ts_have tshark; then
        check_skip "lo capture checks" "tshark not installed"
        return
    fi
    n=$(timeout 60 tshark -n -r "$TL_LO_PCAP" 2>"$TS_TMP/loop-tshark.err" | grep -c '')
    err=$(grep -v '^Running as user' "$TS_TMP/loop-tshark.err")
    [ -n "$err" ] && head -n 5 <<<"$err" | sed 's/^/#   /'
    check "lo capture readable by tshark" test -z "$err"
    check_ge "lo capture holds the transfer's frames" "$n" 100
    bad=$(tl_lo_fields '_ws.malformed || _ws.expert.severity >= error' frame.number | grep -c '')
    check_eq "lo capture: malformed frames or expert errors" "$bad" 0
    others=$(tl_lo_fields '!(ip.src == 127.0.0.1 && ip.dst == 127.0.0.1) || eth.src != 00:00:00:00:00:00 || eth.dst != 00:00:00:00:00:00' frame.number | grep -c '')
    check_eq "lo capture: every frame 127.0.0.1 -> 127.0.0.1, MACs zero" "$others" 0
    maxlen=$(tl_lo_fields 'tcp.len > 0' tcp.len | sort -n | tail -n 1)
    check_eq "lo capture: TCP segments of up to 65,495 bytes (MSS on lo)" "${maxlen:-0}" 65495
    big=$(tl_lo_fields 'udp.length == 65515' frame.number | grep -c '')
    check_eq "lo capture: 6 UDP datagrams of 65,507 bytes (3 out, 3 back)" "$big" 6
    frags=$(tl_lo_fields 'ip.flags.mf == 1 || ip.frag_offset > 0' frame.number | grep -c '')
    check_eq "lo capture: no IP fragment" "$frags" 0
    n=$(tl_lo_fields 'udp && udp.checksum != 0' frame.number | grep -c '')
    check_eq "lo capture: UDP checksums zero (none computed on lo)" "$n" 0
    cp "$TL_LO_PCAP" "$BUILD/integration-lo.pcap" 2>/dev/null &&
        echo "# lo capture of ts-loop: $BUILD/integration-lo.pcap"
}

test_loop_figure() {
    local out
    ts_section "a figure (not asserted): 1 GiB over 127.0.0.1, tapstack and the kernel"
    out=$(tl_ts_loop 60 -n $((1024 * TL_MIB)) -r 20000 -u 0 2>&1)
    sed 's/^/#   tapstack: /' <<<"$out"
    [ -x "$BUILD/ts-loop-kernel" ] &&
        ts_nsrun "$TL_NS" 60 "$BUILD/ts-loop-kernel" -n $((1024 * TL_MIB)) -r 20000 -u 0 2>&1 |
        sed 's/^/#   kernel:   /'
    return 0
}

# ---- main -------------------------------------------------------------------

tl_main() {
    ts_section "loopback (issue 12)"
    if [ ! -x "$BUILD/tapstack" ] || [ ! -x "$BUILD/inject" ] ||
       [ ! -x "$BUILD/ts-loop" ]; then
        check "built: $BUILD/tapstack, inject and ts-loop (run make first)" false
        return
    fi
    check "namespace ts-iloop-$$" ts_netns_create ts-iloop || return
    TL_NS=$TS_NS
    check "TAP $TL_TAP set up in namespace $TL_NS" \
        ts_tap_setup "$TL_NS" "$TL_TAP" "$TL_HOST_IP/24" || return
    if check "tapstack starts with --pcap-lo -v" ts_stack_start "$TL_NS" loop \
        --iface "$TL_TAP" --addr "$TL_STACK_IP/24" --no-services --no-ctl \
        --pcap-lo "$TL_STACK_PCAP_LO" -v; then
        test_loop_names
        ts_stack_running && test_loop_martians
        test_loop_stop
    fi
    test_loop_transfers
    [ -s "$TL_LO_PCAP" ] && test_loop_capture
    test_loop_figure
}

tl_main
if [ "$TL_STANDALONE" = 1 ]; then
    echo "# took $(ts_elapsed) s"
    ts_summary
fi
