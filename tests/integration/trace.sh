#!/bin/bash
# tests/integration/trace.sh - the event trace (--trace) and tapstack-ctl
# watch against a running tapstack in a private namespace:
#  1. a scripted session: nc sends 300 KB to echo (port 7) and reads it back
#     while the fault injector drops 10% of what the stack sends (--loss 0.1
#     --fault-dir tx --seed 3), then closes. Every trace line is JSON of the
#     schema (trace_check.py schema); the echo connection's states come in
#     the textbook order; every frame the trace names is a frame tshark
#     shows, going the right way, with the connection's ports and the flags
#     the state change needs; each retransmission names the segment it
#     resent and its cause agrees with the frame that caused it
#     (trace_check.py frames);
#     the echo service's accept of it is a "sock" "call" event with the
#     same connection id;
#     a 4,000-byte ping shows reassembly (ipv4 reass_done), a datagram to a
#     closed UDP port one udp drop_no_port and one icmp_sent (3/3) naming
#     the same frame;
#  2. the trace and the counters read one path: for each TCP counter the
#     trace names as a reason, the events equal the count printed at exit;
#     the retransmissions too, and the entries into ESTABLISHED;
#  3. tapstack-ctl watch --json, started before the transfer, receives the
#     session's events as they happen (the same schema, the state changes
#     of the connection), and --event retransmit passes only those;
#  4. with the TAP's offloads on, 2 MB echoed: super-frames both ways in
#     the capture, and every frame the trace names is still tshark's
#     (trace_check.py frames);
#  5. watch with no stack running, or a bad --layer: exit 2, one line;
#     --trace-max-mb 1 stops the trace near 1 MiB with one last line
#     {"ev":"trace_truncated",...}; --trace-max-mb 0 is refused (exit 2).
#
#   BUILD=build tests/integration/trace.sh    on its own (or sourced by run.sh)
set -u

TR_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TR_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TR_HERE/lib.sh"
    ts_require_env
else
    TR_STANDALONE=0
fi
TR_CHECK="/usr/bin/python3 $TR_HERE/trace_check.py"
TR_CTL=$BUILD/tapstack-ctl

# tr_echo NS BYTES: send BYTES random bytes to echo, read them back; 0 when
# what came back is what was sent.
tr_echo() {
    head -c "$2" /dev/urandom > "$TS_TMP/tr.in"
    ts_nsrun "$1" 60 nc -q 2 10.0.0.2 7 < "$TS_TMP/tr.in" > "$TS_TMP/tr.back"
    cmp -s "$TS_TMP/tr.in" "$TS_TMP/tr.back"
}

# The trace's events against the counters printed at exit (TS_STACK_OUT).
tr_counters_agree() {
    /usr/bin/python3 - "$1" "$TS_STACK_OUT" <<'EOF'
import json, re, sys
tcp, sec = {}, None
for line in open(sys.argv[2]):
    m = re.match(r"^(\w+):$", line)
    if m:
        sec = m.group(1)
        continue
    m = re.match(r"^\s+(\w+)\s+(\d+)", line)
    if m and sec == "tcp":
        tcp[m.group(1)] = int(m.group(2))
reasons, est = {}, 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("layer") != "tcp":
        continue
    if o.get("ev") == "state" and o["changed"]["state"][1] == "ESTABLISHED":
        est += 1
    r = o.get("reason")
    if r in tcp:
        reasons[r] = reasons.get(r, 0) + 1
reasons.setdefault("retransmits", 0)
bad = ["%s: %d events, %d counted" % (r, n, tcp[r])
       for r, n in reasons.items() if tcp[r] != n]
if est != tcp.get("established"):
    bad.append("ESTABLISHED: %d events, %s counted" % (est, tcp.get("established")))
print("%d reasons compared (%s); %s" % (len(reasons), " ".join(
    "%s=%d" % kv for kv in sorted(reasons.items())), "; ".join(bad) or "all equal"))
sys.exit(1 if bad or reasons["retransmits"] == 0 else 0)
EOF
}

tr_session() {
    local ns=$1 trace=$TS_TMP/tr.trace pcap=$TS_TMP/tr.pcap wpid wpid2 got
    if ! ts_stack_start "$ns" tr-stack --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --ctl "@ts-trace-$$" --pcap "$pcap" \
        --trace "$trace" --loss 0.1 --fault-dir tx --seed 3; then
        check "trace: tapstack starts with --trace" false
        return 1
    fi
    timeout 60 ip netns exec "$ns" "$TR_CTL" --ctl "@ts-trace-$$" watch --json \
        > "$TS_TMP/tr.watch" 2> "$TS_TMP/tr.watch.err" &
    wpid=$!
    ts_track_pid "$wpid"
    timeout 60 ip netns exec "$ns" "$TR_CTL" --ctl "@ts-trace-$$" watch \
        --layer tcp --event retransmit > "$TS_TMP/tr.watch2" 2>&1 &
    wpid2=$!
    ts_track_pid "$wpid2"
    for ((i = 0; i < 50; i++)); do      # both streams open before traffic
        ts_nsrun "$ns" 5 "$TR_CTL" --ctl "@ts-trace-$$" stats host \
            > "$TS_TMP/tr.host" 2>&1
        grep -qE "watchers_now +2 " "$TS_TMP/tr.host" && break
        sleep 0.1
    done
    check "watch: two streams open (host watchers_now 2)" \
        grep -qE "watchers_now +2 " "$TS_TMP/tr.host"
    check "session: 300 KB echoed intact under 10% loss of what the stack sends" \
        tr_echo "$ns" 300000
    # Other layers: fragments both ways, and a datagram to a closed port.
    ts_nsrun "$ns" 10 ping -c 2 -i 0.2 -W 2 -s 4000 10.0.0.2 > /dev/null 2>&1
    echo probe | ts_nsrun "$ns" 5 nc -u -w 1 10.0.0.2 5555 > /dev/null 2>&1
    sleep 0.5                           # the last ACK of the close
    ts_stack_stop TERM
    check_eq "session: tapstack exit status" "$TS_STACK_RC" 0
    for p in "$wpid" "$wpid2"; do       # they end with the stack
        wait "$p" 2>/dev/null
        ts_untrack_pid "$p"
    done
    check "trace: every line is JSON of the schema" $TR_CHECK schema "$trace"
    got=$($TR_CHECK states "$trace" 7 | tr '\n' ' ')
    echo "#   states of the echo connection: $got"
    check "trace: echo's states LISTEN->SYN-RECEIVED->ESTABLISHED->CLOSE-WAIT->LAST-ACK->CLOSED" \
        test "$got" = "LISTEN->SYN-RECEIVED SYN-RECEIVED->ESTABLISHED ESTABLISHED->CLOSE-WAIT CLOSE-WAIT->LAST-ACK LAST-ACK->CLOSED "
    echo "#   retransmissions by cause: $($TR_CHECK causes "$trace" | tr '\n' ' ')"
    if ts_have tshark; then
        check "trace: each frame named is tshark's, right way, ports, flags; retransmissions and causes agree" \
            $TR_CHECK frames "$trace" "$pcap" 10.0.0.2
    else
        check_skip "trace: frames against the capture" "tshark not installed"
    fi
    check "trace: the echo service's accept of the connection (layer sock, call accept, same id)" \
        /usr/bin/python3 -c 'import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ids = {o["conn"]["id"] for o in ev if o["ev"] == "state" and o["conn"]["local"].endswith(":7")}
sys.exit(not any(o["layer"] == "sock" and o["ev"] == "call" and o["reason"] == "accept"
                 and o["rc"] >= 0 and o["conn"]["id"] in ids for o in ev))' "$trace"
    check "trace: fragmented pings reassembled (ipv4 reass_done from 10.0.0.1)" \
        grep -q '"layer":"ipv4","ev":"reass_done".*"src":"10.0.0.1"' "$trace"
    check "trace: closed UDP port: udp drop_no_port and icmp_sent 3/3 for the same frame" \
        /usr/bin/python3 -c 'import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
udp = [o.get("frame_in") for o in ev if o["layer"] == "udp" and o.get("reason") == "drop_no_port"]
icmp = [o.get("frame_in") for o in ev if o["ev"] == "icmp_sent" and o["type"] == 3 and o["code"] == 3]
sys.exit(not (len(udp) == 1 and udp == icmp and udp[0]))' "$trace"
    check "trace: events equal the counters printed at exit (tcp reasons, retransmits, ESTABLISHED)" \
        tr_counters_agree "$trace"
    check "watch --json: the stream is JSON of the schema" \
        $TR_CHECK schema "$TS_TMP/tr.watch"
    got=$($TR_CHECK states "$TS_TMP/tr.watch" 7 | tr '\n' ' ')
    check "watch --json: saw the echo connection's states" \
        test "$got" = "LISTEN->SYN-RECEIVED SYN-RECEIVED->ESTABLISHED ESTABLISHED->CLOSE-WAIT CLOSE-WAIT->LAST-ACK LAST-ACK->CLOSED "
    check "watch --event retransmit: only retransmissions, at least one" \
        awk '!/ tcp +retransmit #/ { bad = 1 } END { exit bad || NR == 0 }' \
        "$TS_TMP/tr.watch2"
    cp "$trace" "$BUILD/integration-trace.jsonl" 2>/dev/null  # for a look
    cp "$pcap" "$BUILD/integration-trace.pcap" 2>/dev/null     # after a failure
}

tr_truncate() {
    local ns=$1 trace=$TS_TMP/tr.small last size
    ts_nsrun "$ns" 5 "$BUILD/tapstack" --trace-max-mb 0 > /dev/null 2>&1
    check_eq "--trace-max-mb 0: exit 2" "$?" 2
    # Without the offloads: a TCP super-frame and a receive batch's one ACK
    # make few events for many bytes, and this wants many.
    if ! ts_stack_start "$ns" tr-small --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --no-ctl --no-offload --trace "$trace" \
        --trace-max-mb 1; then
        check "trace: tapstack starts with --trace-max-mb 1" false
        return 1
    fi
    # Bounded: at most 24 rounds of 4 MB of echo, or 90 s, fill it.
    local t0=$SECONDS rounds=0
    while ((rounds < 24 && SECONDS - t0 < 90)); do
        tr_echo "$ns" 4000000
        rounds=$((rounds + 1))
        grep -q trace_truncated "$trace" 2>/dev/null && break
    done
    echo "#   $rounds rounds of 4 MB echoed"
    ts_stack_stop TERM
    last=$(tail -n 1 "$trace")
    size=$(($(wc -c < "$trace") - ${#last} - 1))
    echo "#   $(wc -l < "$trace") lines, $size bytes before the last"
    check "--trace-max-mb 1: the last line is trace_truncated" \
        grep -q '"ev":"trace_truncated"' <<< "$last"
    check "--trace-max-mb 1: at most 1 MiB before it" test "$size" -le 1048576
    check "--trace-max-mb 1: every line JSON of the schema" \
        $TR_CHECK schema "$trace"
}

# With the TAP's offloads on (no fault injector): super-frames cross the
# device both ways, each one frame of the capture, and the trace's frame
# numbers still name them (trace_check.py frames).
tr_offload() {
    local ns=$1 trace=$TS_TMP/tr.tso pcap=$TS_TMP/tr.tso.pcap sent recv
    if ! ts_have tshark; then
        check_skip "offloads: frames against the capture" "tshark not installed"
        return 0
    fi
    if ! ts_stack_start "$ns" tr-tso --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --no-ctl --pcap "$pcap" --trace "$trace"; then
        check "offloads: tapstack starts" false
        return 1
    fi
    check "offloads: 2 MB echoed intact" tr_echo "$ns" 2000000
    sleep 0.5                           # the last ACK of the close
    ts_stack_stop TERM
    sent=$(tshark -r "$pcap" -Y 'frame.len > 1514 && ip.src == 10.0.0.2' 2>/dev/null | wc -l)
    recv=$(tshark -r "$pcap" -Y 'frame.len > 1514 && ip.src == 10.0.0.1' 2>/dev/null | wc -l)
    echo "#   super-frames in the capture: $sent sent, $recv received"
    if [ "$sent" -eq 0 ] && [ "$recv" -eq 0 ]; then
        check_skip "offloads: super-frames in the trace" "no super-frame (offloads refused?)"
        return 0
    fi
    check "offloads: every line is JSON of the schema" $TR_CHECK schema "$trace"
    check "offloads: each frame named is tshark's (super-frames one frame each)" \
        $TR_CHECK frames "$trace" "$pcap" 10.0.0.2
}

tr_run() {
    local ns
    ts_section "the event trace and tapstack-ctl watch (trace.sh)"
    if ! [ -x "$TR_CTL" ] || ! [ -x /usr/bin/python3 ]; then
        check_skip "trace" "tapstack-ctl or python3 missing"
        return 0
    fi
    ts_netns_create ts-itrace || return 0
    ns=$TS_NS
    ts_nsrun "$ns" 5 "$TR_CTL" --ctl "@ts-nobody-$$" watch > /dev/null \
        2> "$TS_TMP/tr.nobody"
    check_eq "watch with no stack: exit 2" "$?" 2
    check_eq "watch with no stack: one line on stderr" \
        "$(wc -l < "$TS_TMP/tr.nobody" | tr -d ' ')" 1
    ts_nsrun "$ns" 5 "$TR_CTL" watch --layer bogus > /dev/null 2>&1
    check_eq "watch --layer bogus: exit 2" "$?" 2
    tr_session "$ns"
    tr_offload "$ns"
    tr_truncate "$ns"
}

tr_run
if [ "$TR_STANDALONE" = 1 ]; then
    ts_summary
fi
