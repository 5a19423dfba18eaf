#!/bin/bash
# tests/integration/ctl.sh - tapstack-ctl against a running tapstack in a
# private namespace:
#  1. arguments: --help exits 0; an unknown command or option, and a
#     control socket nobody serves, exit 2 with one line;
#  2. `ss -i` during a transfer lists the connection with its congestion
#     control (cubic), and its bytes_received moves between two looks;
#     `--json` parses;
#  3. `stats --json` equals the counters tapstack prints at exit (taken
#     when nothing moves any more);
#  4. with 1,000 connections held open to echo, `ss -t` lists them all;
#  5. another user is refused: exit 2, "permission denied";
#  6. `stats -z` on a fresh stack: events count from zero again (two pings
#     later, 2), levels (pbuf in_use) stay;
#  7. `tapstack --cc newreno`: `ss -i` names reno for a connection.
#
#   BUILD=build tests/integration/ctl.sh      on its own (or sourced by run.sh)
set -u

TC_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TC_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TC_HERE/lib.sh"
    ts_require_env
else
    TC_STANDALONE=0
fi
TC_CTL=$BUILD/tapstack-ctl

# tc_lines FILE: how many lines FILE has.
tc_lines() { wc -l < "$1" | tr -d ' '; }

tc_args() {
    "$TC_CTL" --help > "$TS_TMP/ctl.help" 2>&1
    check_eq "tapstack-ctl --help: exit 0" "$?" 0
    local args
    for args in "bogus" "ss --bogus" "--ctl @ts-nobody-$$ ss" ""; do
        # shellcheck disable=SC2086 # the words are the arguments
        ts_nsrun "$1" 5 "$TC_CTL" $args > "$TS_TMP/ctl.out" 2> "$TS_TMP/ctl.err"
        check_eq "tapstack-ctl ${args:-(no command)}: exit 2" "$?" 2
        check_eq "tapstack-ctl ${args:-(no command)}: one line on stderr" \
            "$(tc_lines "$TS_TMP/ctl.err")" 1
    done
}

# bytes_received of the connection to port 9 in an `ss -i` listing.
tc_received() {
    tr ' \t' '\n\n' < "$1" | sed -n 's/^bytes_received://p' | head -n 1
}

tc_transfer() {
    local ns=$1 pid a b
    timeout 20 ip netns exec "$ns" /usr/bin/python3 -c '
import socket, time
s = socket.create_connection(("10.0.0.2", 9))
for i in range(30):
    s.sendall(b"x" * 50000)
    time.sleep(0.1)
' &
    pid=$!
    ts_track_pid "$pid"
    sleep 0.8
    ts_nsrun "$ns" 5 "$TC_CTL" ss -i --port 9 > "$TS_TMP/ss1" 2>&1
    sleep 0.6
    ts_nsrun "$ns" 5 "$TC_CTL" ss -i --port 9 > "$TS_TMP/ss2" 2>&1
    check "ss -i lists the transfer's connection (ESTABLISHED, port 9)" \
        grep -q "ESTABLISHED.*10.0.0.2:9 " "$TS_TMP/ss1"
    check "ss -i names its congestion control first (cubic, the default)" \
        grep -q "^[[:space:]]*cubic rtt:" "$TS_TMP/ss1"
    a=$(tc_received "$TS_TMP/ss1")
    b=$(tc_received "$TS_TMP/ss2")
    echo "#   bytes_received $a, then $b"
    check "ss -i: bytes_received moves during the transfer" \
        test "${a:-0}" -gt 0 -a "${b:-0}" -gt "${a:-0}"
    ts_nsrun "$ns" 5 "$TC_CTL" --json ss -i > "$TS_TMP/ss.json" 2>&1
    check "ss --json: valid JSON with the connection's rtt_us" \
        /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any("rtt_us" in r for r in d) else 1)' "$TS_TMP/ss.json"
    wait "$pid" 2>/dev/null
    ts_untrack_pid "$pid"
}

# Hold N connections to echo open from the host for a few seconds.
tc_many() {
    local ns=$1 pid n
    timeout 30 ip netns exec "$ns" /usr/bin/python3 -c '
import socket, sys, time
socks = [socket.create_connection(("10.0.0.2", 7)) for _ in range(1000)]
print("held", len(socks), flush=True)
time.sleep(8)
' > "$TS_TMP/many.out" 2>&1 &
    pid=$!
    ts_track_pid "$pid"
    for ((n = 0; n < 200; n++)); do
        grep -q held "$TS_TMP/many.out" && break
        sleep 0.1
    done
    ts_nsrun "$ns" 10 "$TC_CTL" ss -t --port 7 > "$TS_TMP/ss.many" 2>&1
    n=$(grep -c ESTABLISHED "$TS_TMP/ss.many")
    check_ge "1,000 connections held: ss -t lists them all" "$n" 1000
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    ts_untrack_pid "$pid"
}

# `stats --json` just before SIGTERM against the dump printed at exit.
tc_stats_vs_exit() {
    local ns=$1 diff
    sleep 1        # the closes above settle (TIME-WAIT stays, unchanged)
    ts_nsrun "$ns" 5 "$TC_CTL" --json stats > "$TS_TMP/stats.json" 2>&1
    ts_stack_stop TERM
    check_eq "tapstack: SIGTERM exit status" "$TS_STACK_RC" 0
    diff=$(/usr/bin/python3 - "$TS_TMP/stats.json" "$TS_STACK_OUT" <<'EOF'
import json, re, sys
live = {(r["section"], r["name"]): r["value"] for r in json.load(open(sys.argv[1]))}
dumps, sec = [], None
for line in open(sys.argv[2]):
    if line.startswith("eth:"):
        dumps.append({})
    m = re.match(r"^(\w+):$", line)
    if m:
        sec = m.group(1)
        continue
    m = re.match(r"^\s+(\w+)\s+(\d+)", line)
    if m and dumps:
        dumps[-1][(sec, m.group(1))] = int(m.group(2))
last = dumps[-1] if dumps else {}
# Nothing is open any more (the host closed first, so TIME-WAIT is its):
# every counter must match, the tcp section too.
# (host programs_now counts tapstack-ctl's own connection while it asks.)
bad = [k for k, v in live.items()
       if last.get(k) != v and k != ("host", "programs_now")]
print(len(live), len(bad), " ".join("%s.%s" % k for k in bad[:5]))
EOF
)
    echo "#   counters compared, differing: $diff"
    check "stats --json equals the counters printed at exit (every one)" \
        test "${diff#* }" = "0 " -o "${diff#* }" = "0"
}

# The value of counter SECTION NAME in a `stats --json` file.
tc_json_counter() {
    /usr/bin/python3 -c 'import json, sys
print(next((r["value"] for r in json.load(open(sys.argv[1]))
            if r["section"] == sys.argv[2] and r["name"] == sys.argv[3]), -1))' "$@"
}

# stats -z on a fresh stack: events count from zero again, levels stay.
tc_zero() {
    local ns=$1
    if ! ts_stack_start "$ns" ctl-zero --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --no-services; then
        check "stats -z: tapstack starts again" false
        return
    fi
    ts_nsrun "$ns" 10 ping -n -q -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null 2>&1
    ts_nsrun "$ns" 5 "$TC_CTL" --json stats icmp > "$TS_TMP/z0.json" 2>&1
    check_eq "before stats -z: the 3 echo requests" \
        "$(tc_json_counter "$TS_TMP/z0.json" icmp rx_echo_requests)" 3
    ts_nsrun "$ns" 5 "$TC_CTL" --json stats -z > "$TS_TMP/z1.json" 2>&1
    check_eq "stats -z: icmp rx_echo_requests from zero" \
        "$(tc_json_counter "$TS_TMP/z1.json" icmp rx_echo_requests)" 0
    check_eq "stats -z: pbuf in_use (a level) left as it is" \
        "$(tc_json_counter "$TS_TMP/z1.json" pbuf in_use)" 0
    ts_nsrun "$ns" 10 ping -n -q -c 2 -i 0.2 -W 2 10.0.0.2 >/dev/null 2>&1
    ts_nsrun "$ns" 5 "$TC_CTL" --json stats icmp > "$TS_TMP/z2.json" 2>&1
    check_eq "stats after -z: the 2 echo requests since" \
        "$(tc_json_counter "$TS_TMP/z2.json" icmp rx_echo_requests)" 2
    ts_stack_stop TERM
}

# tapstack --cc newreno: its connections run NewReno ("reno" in ss -i).
tc_cc() {
    local ns=$1 pid
    if ! ts_stack_start "$ns" ctl-cc --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --services discard --cc newreno; then
        check "--cc newreno: tapstack starts" false
        return
    fi
    timeout 10 ip netns exec "$ns" /usr/bin/python3 -c '
import socket, time
s = socket.create_connection(("10.0.0.2", 9))
for i in range(20):
    s.sendall(b"x" * 20000)
    time.sleep(0.1)
' &
    pid=$!
    ts_track_pid "$pid"
    sleep 0.6
    ts_nsrun "$ns" 5 "$TC_CTL" ss -i --port 9 > "$TS_TMP/ss.cc" 2>&1
    check "--cc newreno: ss -i shows reno for the connection" \
        grep -q "^[[:space:]]*reno rtt:" "$TS_TMP/ss.cc"
    wait "$pid" 2>/dev/null
    ts_untrack_pid "$pid"
    ts_stack_stop TERM
}

tc_run() {
    local ns
    ts_section "tapstack-ctl (ctl.sh)"
    if ! [ -x "$TC_CTL" ]; then
        check_skip "tapstack-ctl" "$TC_CTL not built"
        return 0
    fi
    ts_netns_create ts-ictl || return 0
    ns=$TS_NS
    tc_args "$ns"
    if ! ts_stack_start "$ns" ctl-stack --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --max-sockets 4096; then
        check "tapstack-ctl: tapstack starts" false
        return 0
    fi
    tc_transfer "$ns"
    tc_many "$ns"
    if ts_have setpriv; then
        ts_nsrun "$ns" 5 setpriv --reuid=65534 --regid=65534 --clear-groups \
            "$TC_CTL" ss > "$TS_TMP/ctl.out" 2> "$TS_TMP/ctl.err"
        check_eq "another user: exit 2" "$?" 2
        check "another user: 'permission denied'" grep -q "permission denied" \
            "$TS_TMP/ctl.err"
    fi
    tc_stats_vs_exit "$ns"
    tc_zero "$ns"
    tc_cc "$ns"
}

tc_run
if [ "$TC_STANDALONE" = 1 ]; then
    ts_summary
fi
