#!/bin/bash
# tests/integration/programs.sh - programs that were not written for
# tapstack, run unmodified on it through tapstack-run, against the host
# kernel's side of the TAP (issue 7; DESIGN.md §4 "shared host", §6).
#
#   BUILD=build tests/integration/programs.sh                 on tapstack
#   PROGS_ON=kernel tests/integration/programs.sh             the reference
#   PROGS_TESTS="kill ctl" tests/integration/programs.sh      some of them
#   (run.sh sources it, like tcp.sh, so one summary counts every check)
#
# Two modes, one script:
#   PROGS_ON=tapstack (the default): one namespace; tapstack runs on tap0 as
#     10.0.0.2 (--host-addr 10.0.0.1/24 --ctl @tapstack/tap0 --no-services
#     -v), and "on the stack" means build/tapstack-run --ctl @tapstack/tap0
#     -- PROGRAM. Without build/tapstack-run: one "SKIP:" line.
#   PROGS_ON=kernel: the stack side is a second namespace joined to the
#     first by a veth pair (10.0.0.2 there, 10.0.0.1 here), and "on the
#     stack" means plain `ip netns exec`. Every program must pass this way
#     first: it proves the programs and the checks, so a failure on tapstack
#     is tapstack's. The checks that only mean something on tapstack (its
#     counters, its control socket) say "skip" here.
# Either way "the host" is the first namespace's kernel, at 10.0.0.1; IPv6
# is off on the TAP/veth; nothing touches the machine's own interfaces.
#
# The programs (tests/integration/progs/, Python 3 standard library only,
# run with /usr/bin/python3) are written the way tutorials write them. On
# the stack, each against the host kernel, every transfer byte-exact
# (SHA-256):
#  1. TCP echo server and client (socket, bind, listen, accept, recv,
#     sendall), 1 MiB, each side in turn on the stack;
#  2. UDP echo server and client, one 6,000-byte datagram (IP fragments),
#     each side in turn on the stack;
#  3. socketserver.ThreadingTCPServer: 50 clients at once, 64 KiB each;
#  4. socketserver.ForkingTCPServer + StreamRequestHandler (rfile/wfile):
#     5 nc clients at once, 1 MiB of lines each, answered upper-cased;
#  5. socketserver.UDPServer: a 6,000-byte datagram answered upper-cased;
#  6. a selectors (epoll) echo server: 3 clients at once, 1 MiB each;
#  7. asyncio: a server on the stack with 20 concurrent host connections,
#     and a client on the stack with 20 concurrent connections to the host;
#  8. socket.create_connection with a time-out (connects; a silent recv
#     times out in ~1 s; an address nobody answers times out in ~1 s); a
#     closed port raises ConnectionRefusedError (both directions);
#  9. socket.sendfile: 10 MiB to a host receiver;
# 10. python3 -m http.server on the stack (its default bind, --bind :: for
#     a dual-stack socket, --bind 0.0.0.0) serving 10 MiB to the host's
#     curl; curl on the stack downloading 10 MiB from the host's
#     python3 -m http.server;
# 11. nc (OpenBSD) on the stack, listening and connecting, 4 MiB each;
# 12. iperf3 -s on the stack with the host's iperf3 -c (plain and -R), and
#     iperf3 -c on the stack against the host's iperf3 -s: -t 2 -J, exit 0
#     and more than 0 bytes each way in the JSON;
# 13. two programs at once on the stack, both receiving a paced stream from
#     the host; one is killed with SIGKILL mid-transfer: its sender sees
#     the reset (ConnectionResetError or BrokenPipeError), the other
#     transfer finishes intact, and (tapstack) tcp conns_now (less those in
#     TIME-WAIT) and pbuf in_use are back to their baseline within 10 s;
# 14. (tapstack) hostile input on the control socket from
#     progs/ctl_hostile.py: garbage, a truncated request, 8 KiB, a wrong
#     version, op or length, 50 descriptors, half a request and gone, a
#     user who is not root (setpriv --reuid=65534): each refused (connection
#     closed or rc < 0), each logged on tapstack's stderr (-v), tapstack up
#     throughout, its descriptors back to where they were, and a program
#     receiving 8 MiB at the same time gets every byte;
# 15. (tapstack) two programs on one stack: a Python TCP echo server and
#     client (10 MiB) and a UDP pair, over 127.0.0.1 and over the stack's
#     own address, byte-exact, while tcpdump on the kernel's side of the
#     TAP sees none of it (only the 2 frames of one ping sent to prove it
#     captures).
# 16. TCP_CONGESTION from progs/congestion.py on the stack: the default
#     read, "reno" set and read back (after connect too), an unknown name
#     ENOENT, 1 MiB through the host's echo server intact.
#
# Needs root or CAP_NET_ADMIN and /usr/bin/python3; a check whose tool
# (curl, nc, iperf3, setpriv/runuser) is missing says "skip". Every program
# runs under timeout(1); every background one is tracked by PID and stopped.
set -u

TP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TP_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TP_HERE/lib.sh"
    ts_require_env
else
    TP_STANDALONE=0         # sourced by run.sh: lib.sh and the trap are set
fi

TP_MODE=${PROGS_ON:-tapstack}
TP_PY=/usr/bin/python3      # never a pyenv python3 from PATH
TP_PROGS=$TP_HERE/progs
TP_RUN=$BUILD/tapstack-run
TP_TAP=tap0
TP_CTL=@tapstack/$TP_TAP
TP_HOST_IP=10.0.0.1
TP_STACK_IP=10.0.0.2
TP_SILENT_IP=10.0.0.3       # on the subnet, nobody there: ARP goes unanswered
TP_LIFETIME=60              # seconds: the bound on every background program
TP_MIB=1048576
TP_NS=""                    # the host's namespace (both modes)
TP_SNS=""                   # the stack's namespace (kernel mode)
TP_PRE=()
TP_TESTS="tcp_echo udp threading forking udpserver selectors asyncio connect"
TP_TESTS="$TP_TESTS sendfile http nc iperf kill ctl local congestion"

# ---- helpers ------------------------------------------------------------

# The words that run a command on SIDE (host or stack): TP_PRE.
tp_prefix() {
    if [ "$1" = host ]; then
        TP_PRE=(ip netns exec "$TP_NS")
    elif [ "$TP_MODE" = kernel ]; then
        TP_PRE=(ip netns exec "$TP_SNS")
    else
        TP_PRE=(ip netns exec "$TP_NS" "$TP_RUN" --ctl "$TP_CTL" --)
    fi
}

# tp_run SIDE SECONDS CMD...: run CMD on SIDE in the foreground, bounded.
tp_run() {
    local secs=$2
    tp_prefix "$1"
    shift 2
    timeout -k 2 "$secs" "${TP_PRE[@]}" "$@"
}

# tp_bg SIDE NAME CMD...: run CMD on SIDE in the background, bounded by
# TP_LIFETIME, stdin from TP_IN (default /dev/null), stdout and stderr to
# $TS_TMP/NAME.out and NAME.err; its PID (timeout's) in TP_BG, tracked.
tp_bg() {
    local name=$2
    tp_prefix "$1"
    shift 2
    timeout -k 2 "$TP_LIFETIME" "${TP_PRE[@]}" "$@" <"${TP_IN:-/dev/null}" \
        >"$TS_TMP/$name.out" 2>"$TS_TMP/$name.err" &
    TP_BG=$!
    ts_track_pid "$TP_BG"
}

# Stop a background program: TERM (timeout passes it on to the program's
# process group), wait up to 5 s, KILL; its status in TP_RC.
tp_stop() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    TP_RC=$?
    ts_untrack_pid "$pid"
}

# Wait up to SECONDS for PID to end by itself; its status in TP_RC, or
# "running" (then it is stopped and the result is false).
tp_wait() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        tp_stop "$pid"
        TP_RC=running
        return 1
    fi
    wait "$pid" 2>/dev/null
    TP_RC=$?
    ts_untrack_pid "$pid"
}

# Wait up to SECONDS (default 10) for the output of background program
# NAME (stdout or stderr) to hold the fixed string TEXT at least N times
# (default 1), while PID (optional) is alive.
tp_wait_text() {
    local name=$1 text=$2 secs=${3:-10} n=${4:-1} pid=${5:-} i got
    for ((i = 0; i < secs * 20; i++)); do
        got=$(cat "$TS_TMP/$name.out" "$TS_TMP/$name.err" 2>/dev/null | grep -cF -- "$text")
        [ "$got" -ge "$n" ] && return 0
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
        sleep 0.05
    done
    return 1
}

# Show the last lines of background program NAME's output as "#" lines.
tp_show() {
    local name=$1 f
    for f in "$TS_TMP/$name.out" "$TS_TMP/$name.err"; do
        [ -s "$f" ] || continue
        tail -n "${2:-4}" "$f" | cut -c1-200 | sed "s/^/#   $name: /"
    done
}

# tp_server SIDE NAME READY CMD...: start a server, wait up to 10 s for
# READY in its output; its PID in TP_SRV. One check either way.
tp_server() {
    local side=$1 name=$2 ready=$3
    shift 3
    tp_bg "$side" "$name" "$@"
    TP_SRV=$TP_BG
    if check "$name on the $side is ready ('$ready')" \
        tp_wait_text "$name" "$ready" 10 1 "$TP_SRV"; then
        return 0
    fi
    tp_stop "$TP_SRV"
    echo "#   $name: exit status $TP_RC"
    tp_show "$name" 10
    return 1
}

tp_sha() {
    sha256sum <"$1" | cut -d' ' -f1
}

# Same bytes in both files? One "#" line with both digests.
tp_same() {
    local a b
    [ -f "$2" ] || { echo "#   $2 is missing"; return 1; }
    a=$(tp_sha "$1")
    b=$(tp_sha "$2")
    echo "#   sha256 $(cut -c1-16 <<<"$a")... sent, $(cut -c1-16 <<<"$b")... received ($(stat -c %s "$2") bytes)"
    [ "$a" = "$b" ]
}

# Run a Python program of progs/ on SIDE in the foreground: tp_py SIDE
# SECONDS PROG ARGS...; its output as "#" lines; status in TP_RC.
tp_py() {
    local side=$1 secs=$2 prog=$3 out
    shift 3
    out=$(tp_run "$side" "$secs" "$TP_PY" "$TP_PROGS/$prog" "$@" 2>&1)
    TP_RC=$?
    [ -n "$out" ] && tail -n 8 <<<"$out" | cut -c1-200 | sed "s/^/#   $prog: /"
    return "$TP_RC"
}

# tp_tool_or_skip NAME TOOL...: true when every TOOL is installed, else one
# skip line for NAME.
tp_tool_or_skip() {
    local name=$1 t
    shift
    for t in "$@"; do
        if ! ts_have "$t"; then
            check_skip "$name" "$t is not installed"
            return 1
        fi
    done
}

# ---- tapstack's counters (tapstack mode) ----------------------------------

TP_SNAP_N=0
tp_snap() {
    TP_SNAP_N=$((TP_SNAP_N + 1))
    TP_SNAP="$TS_TMP/progs-counters.$TP_SNAP_N"
    ts_counters "$TP_SNAP" || : >"$TP_SNAP"
}

# Connections that are not in TIME-WAIT (those expire on their own, 2 MSL
# after an earlier test), and packet buffers in use, from dump FILE:
# "CONNS INUSE".
tp_usage() {
    local now tw inuse
    now=$(ts_counter "$1" tcp conns_now)
    tw=$(ts_counter "$1" tcp conns_time_wait)
    inuse=$(ts_counter "$1" pbuf in_use)
    if [ -z "$now" ] || [ -z "$tw" ] || [ -z "$inuse" ]; then
        echo "missing missing"
    else
        echo "$((now - tw)) $inuse"
    fi
}

tp_alive() {
    local rc
    [ "$TP_MODE" = kernel ] && return 0
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

# ---- the two sides ------------------------------------------------------

# Kernel mode: a second namespace for the "stack", a veth pair between.
tp_setup_kernel() {
    check "namespace ts-iprog-$$ (the host)" ts_netns_create ts-iprog || return 1
    TP_NS=$TS_NS
    check "namespace ts-iprogs-$$ (the stack side: a kernel)" \
        ts_netns_create ts-iprogs || return 1
    TP_SNS=$TS_NS
    check "veth pair with 10.0.0.1/24 and 10.0.0.2/24, IPv6 off" tp_veth || return 1
}

tp_veth() {
    timeout 10 ip -n "$TP_NS" link add "$TP_TAP" type veth peer name "$TP_TAP" \
        netns "$TP_SNS" &&
    timeout 10 ip netns exec "$TP_NS" sysctl -qw "net.ipv6.conf.$TP_TAP.disable_ipv6=1" &&
    timeout 10 ip netns exec "$TP_SNS" sysctl -qw "net.ipv6.conf.$TP_TAP.disable_ipv6=1" &&
    timeout 10 ip -n "$TP_NS" addr add "$TP_HOST_IP/24" dev "$TP_TAP" &&
    timeout 10 ip -n "$TP_SNS" addr add "$TP_STACK_IP/24" dev "$TP_TAP" &&
    timeout 10 ip -n "$TP_NS" link set "$TP_TAP" up &&
    timeout 10 ip -n "$TP_SNS" link set "$TP_TAP" up
}

# tapstack mode: tapstack on tap0, its control socket answering.
tp_setup_tapstack() {
    local i
    check "namespace ts-iprog-$$" ts_netns_create ts-iprog || return 1
    TP_NS=$TS_NS
    check "tapstack starts with --ctl $TP_CTL and prints 'tapstack: ready'" \
        ts_stack_start "$TP_NS" progs --iface "$TP_TAP" --addr "$TP_STACK_IP/24" \
        --host-addr "$TP_HOST_IP/24" --ctl "$TP_CTL" --no-services -v || return 1
    for ((i = 0; i < 50; i++)); do
        tp_run stack 5 true 2>"$TS_TMP/progs-probe.err" && break
        sleep 0.1
    done
    if ! check "tapstack-run --ctl $TP_CTL -- true: exit 0 (the control socket answers)" \
        test "$i" -lt 50; then
        sed 's/^/#   /' "$TS_TMP/progs-probe.err" | head -n 3
        return 1
    fi
    check_eq "IPv6 off on the kernel side of $TP_TAP" \
        "$(ts_nsrun "$TP_NS" 5 sysctl -n "net.ipv6.conf.$TP_TAP.disable_ipv6" 2>&1)" 1
}

# ---- 1. TCP echo server and client ---------------------------------------

tp_t_tcp_echo() {
    ts_section "TCP echo server and client (socket example), 1 MiB"
    if tp_server stack echo-s "listening on" \
        "$TP_PY" "$TP_PROGS/tcp_echo_server.py" 0.0.0.0 5001 1; then
        tp_py host 30 tcp_echo_client.py "$TP_STACK_IP" 5001 "$TS_TMP/r1m" "$TS_TMP/echo1.got"
        check_eq "echo server on the stack: host client exit status" "$TP_RC" 0
        check "echo server on the stack: 1 MiB back byte-exact" \
            tp_same "$TS_TMP/r1m" "$TS_TMP/echo1.got"
        tp_wait "$TP_SRV" 5
        check_eq "echo server on the stack: exits 0 after its one client" "$TP_RC" 0
    fi
    if tp_server host echo-h "listening on" \
        "$TP_PY" "$TP_PROGS/tcp_echo_server.py" "$TP_HOST_IP" 5002 1; then
        tp_py stack 30 tcp_echo_client.py "$TP_HOST_IP" 5002 "$TS_TMP/r1m" "$TS_TMP/echo2.got"
        check_eq "echo client on the stack: exit status" "$TP_RC" 0
        check "echo client on the stack: 1 MiB back byte-exact" \
            tp_same "$TS_TMP/r1m" "$TS_TMP/echo2.got"
        tp_wait "$TP_SRV" 5
        check_eq "echo client on the stack: the host's server exits 0" "$TP_RC" 0
    fi
}

# ---- 2. UDP echo server and client ---------------------------------------

tp_t_udp() {
    ts_section "UDP echo server and client, one 6,000-byte datagram"
    if tp_server stack udp-s "listening on" \
        "$TP_PY" "$TP_PROGS/udp_echo_server.py" 0.0.0.0 5003 3; then
        tp_py host 15 udp_client.py "$TP_STACK_IP" 5003 "$TS_TMP/d6000" "$TS_TMP/udp1.got"
        check_eq "UDP server on the stack: host client got an answer (exit status)" "$TP_RC" 0
        check "UDP server on the stack: 6,000 bytes back byte-exact" \
            tp_same "$TS_TMP/d6000" "$TS_TMP/udp1.got"
        tp_stop "$TP_SRV"
    fi
    if tp_server host udp-h "listening on" \
        "$TP_PY" "$TP_PROGS/udp_echo_server.py" "$TP_HOST_IP" 5004 3; then
        tp_py stack 15 udp_client.py "$TP_HOST_IP" 5004 "$TS_TMP/d6000" "$TS_TMP/udp2.got"
        check_eq "UDP client on the stack: got an answer (exit status)" "$TP_RC" 0
        check "UDP client on the stack: 6,000 bytes back byte-exact" \
            tp_same "$TS_TMP/d6000" "$TS_TMP/udp2.got"
        tp_stop "$TP_SRV"
    fi
}

# ---- 3-6. socketserver and selectors --------------------------------------

tp_t_threading() {
    ts_section "socketserver.ThreadingTCPServer: 50 clients at once"
    tp_server stack threading "serving on" \
        "$TP_PY" "$TP_PROGS/threading_server.py" 0.0.0.0 5005 || return
    tp_py host 60 many_clients.py "$TP_STACK_IP" 5005 50 65536
    check_eq "ThreadingTCPServer on the stack: 50 of 50 clients got 64 KiB back intact" "$TP_RC" 0
    tp_stop "$TP_SRV"
}

tp_t_forking() {
    local i pids=() ok=0
    ts_section "socketserver.ForkingTCPServer + StreamRequestHandler: 5 nc clients at once"
    tp_tool_or_skip "ForkingTCPServer with nc clients" nc || return
    tp_server stack forking "serving on" \
        "$TP_PY" "$TP_PROGS/forking_server.py" 0.0.0.0 5006 || return
    for ((i = 1; i <= 5; i++)); do
        ts_nsrun "$TP_NS" 30 nc -N "$TP_STACK_IP" 5006 <"$TS_TMP/lines" \
            >"$TS_TMP/fork$i.got" 2>"$TS_TMP/fork$i.err" &
        pids+=($!)
        ts_track_pid "$!"
    done
    for ((i = 1; i <= 5; i++)); do
        wait "${pids[i - 1]}" && cmp -s "$TS_TMP/lines.upper" "$TS_TMP/fork$i.got" &&
            ok=$((ok + 1))
        ts_untrack_pid "${pids[i - 1]}"
    done
    echo "#   $(stat -c %s "$TS_TMP/lines") bytes of lines each; sizes back:" \
        "$(for ((i = 1; i <= 5; i++)); do stat -c %s "$TS_TMP/fork$i.got"; done | tr '\n' ' ')"
    check_eq "ForkingTCPServer on the stack: clients whose lines came back upper-cased, intact" "$ok" 5
    tp_stop "$TP_SRV"
}

tp_t_udpserver() {
    ts_section "socketserver.UDPServer: a 6,000-byte datagram upper-cased"
    tp_server stack udpserver "serving on" \
        "$TP_PY" "$TP_PROGS/udpserver.py" 0.0.0.0 5007 || return
    tp_py host 15 udp_client.py "$TP_STACK_IP" 5007 "$TS_TMP/a6000" "$TS_TMP/udpserver.got"
    check_eq "UDPServer on the stack: host client got an answer (exit status)" "$TP_RC" 0
    check "UDPServer on the stack: the datagram came back upper-cased, intact" \
        tp_same "$TS_TMP/a6000.upper" "$TS_TMP/udpserver.got"
    tp_stop "$TP_SRV"
}

tp_t_selectors() {
    local i pids=() ok=0
    ts_section "selectors (epoll) echo server: 3 clients at once, 1 MiB each"
    tp_server stack selectors "listening on" \
        "$TP_PY" "$TP_PROGS/selectors_server.py" 0.0.0.0 5008 || return
    tp_show selectors 1
    check "selectors on the stack: DefaultSelector is EpollSelector" \
        grep -q EpollSelector "$TS_TMP/selectors.out"
    for ((i = 1; i <= 3; i++)); do
        tp_run host 30 "$TP_PY" "$TP_PROGS/tcp_echo_client.py" "$TP_STACK_IP" 5008 \
            "$TS_TMP/r1m" "$TS_TMP/sel$i.got" >/dev/null 2>"$TS_TMP/sel$i.err" &
        pids+=($!)
        ts_track_pid "$!"
    done
    for ((i = 1; i <= 3; i++)); do
        wait "${pids[i - 1]}" && cmp -s "$TS_TMP/r1m" "$TS_TMP/sel$i.got" && ok=$((ok + 1))
        ts_untrack_pid "${pids[i - 1]}"
    done
    check_eq "selectors server on the stack: clients echoed 1 MiB intact" "$ok" 3
    tp_stop "$TP_SRV"
}

# ---- 7. asyncio ------------------------------------------------------------

tp_t_asyncio() {
    ts_section "asyncio server and client, 20 concurrent connections, 256 KiB each"
    if tp_server stack asyncio-s "serving on" \
        "$TP_PY" "$TP_PROGS/asyncio_server.py" 0.0.0.0 5009; then
        tp_py host 60 asyncio_client.py "$TP_STACK_IP" 5009 20 262144
        check_eq "asyncio server on the stack: 20 of 20 host connections echoed intact" "$TP_RC" 0
        tp_stop "$TP_SRV"
    fi
    if tp_server host asyncio-h "serving on" \
        "$TP_PY" "$TP_PROGS/asyncio_server.py" "$TP_HOST_IP" 5010; then
        tp_py stack 60 asyncio_client.py "$TP_HOST_IP" 5010 20 262144
        check_eq "asyncio client on the stack: 20 of 20 connections echoed intact" "$TP_RC" 0
        tp_stop "$TP_SRV"
    fi
}

# ---- 8. time-outs and refusals ----------------------------------------------

tp_t_connect() {
    ts_section "create_connection with a time-out; ConnectionRefusedError"
    if tp_server host timeout-h "listening on" \
        "$TP_PY" "$TP_PROGS/tcp_echo_server.py" "$TP_HOST_IP" 5011 1; then
        tp_py stack 20 connect_timeout.py "$TP_HOST_IP" 5011 "$TP_SILENT_IP"
        check_eq "create_connection(timeout) on the stack: connects, recv and connect time out in ~1 s" "$TP_RC" 0
        tp_stop "$TP_SRV"
    fi
    tp_py stack 10 connect_refused.py "$TP_HOST_IP" 5012
    check_eq "on the stack, to a closed host port: ConnectionRefusedError" "$TP_RC" 0
    tp_py host 10 connect_refused.py "$TP_STACK_IP" 5012
    check_eq "from the host, to a closed stack port: ConnectionRefusedError" "$TP_RC" 0
}

# ---- TCP_CONGESTION -----------------------------------------------------------

tp_t_congestion() {
    ts_section "TCP_CONGESTION: read, choose reno, ENOENT, 1 MiB echoed"
    if tp_server host echo-cc "listening on" \
        "$TP_PY" "$TP_PROGS/tcp_echo_server.py" "$TP_HOST_IP" 5013 1; then
        tp_py stack 30 congestion.py "$TP_HOST_IP" 5013
        check_eq "TCP_CONGESTION on the stack: reno set and read, unknown name ENOENT, 1 MiB intact" "$TP_RC" 0
        tp_wait "$TP_SRV" 5
    fi
}

# ---- 9. sendfile -------------------------------------------------------------

tp_t_sendfile() {
    ts_section "socket.sendfile: 10 MiB to the host"
    tp_server host sendfile-r "listening on" \
        "$TP_PY" "$TP_PROGS/recv_file.py" "$TP_HOST_IP" 5013 "$TS_TMP/sendfile.got" || return
    tp_py stack 60 send_file.py "$TP_HOST_IP" 5013 "$TS_TMP/www/big.bin"
    check_eq "sendfile on the stack: exit status" "$TP_RC" 0
    tp_wait "$TP_SRV" 10
    check_eq "sendfile: the host's receiver saw a clean end (exit status)" "$TP_RC" 0
    check "sendfile: 10 MiB received byte-exact" tp_same "$TS_TMP/www/big.bin" "$TS_TMP/sendfile.got"
}

# ---- 10. http.server and curl ----------------------------------------------

# tp_http_case LABEL PORT [--bind ADDR]: http.server on the stack, curl from
# the host.
tp_http_case() {
    local label=$1 port=$2 rc
    shift 2
    tp_server stack "http-$port" "Serving HTTP on" \
        "$TP_PY" -u -m http.server "$port" --directory "$TS_TMP/www" "$@" || return
    tp_show "http-$port" 1
    if [ "${2:-}" = "::" ]; then
        check "http.server $label: a dual-stack socket (Serving HTTP on ::)" \
            grep -q 'Serving HTTP on :: ' "$TS_TMP/http-$port.out"
    fi
    ts_nsrun "$TP_NS" 60 curl -sS -f -o "$TS_TMP/http-$port.got" \
        "http://$TP_STACK_IP:$port/big.bin"
    rc=$?
    check_eq "http.server $label on the stack: host curl exit status" "$rc" 0
    check "http.server $label on the stack: 10 MiB byte-exact" \
        tp_same "$TS_TMP/www/big.bin" "$TS_TMP/http-$port.got"
    tp_stop "$TP_SRV"
}

tp_t_http() {
    ts_section "python3 -m http.server on the stack, curl on the stack, 10 MiB"
    tp_tool_or_skip "http.server and curl" curl || return
    # With no --bind it binds the first address getaddrinfo(None, port,
    # AI_PASSIVE) gives: "::" on some machines, "0.0.0.0" where glibc sorts
    # IPv4 first (here, once lo is up). --bind :: makes the dual-stack
    # socket (IPV6_V6ONLY 0) whatever the machine.
    tp_http_case "(default bind)" 8000
    tp_http_case "--bind ::" 8003 --bind ::
    tp_http_case "--bind 0.0.0.0" 8001 --bind 0.0.0.0
    if tp_server host http-h "Serving HTTP on" \
        "$TP_PY" -u -m http.server 8002 --bind "$TP_HOST_IP" --directory "$TS_TMP/www"; then
        tp_run stack 60 curl -sS -f -o "$TS_TMP/curl.got" "http://$TP_HOST_IP:8002/big.bin"
        check_eq "curl on the stack: exit status" "$?" 0
        check "curl on the stack: 10 MiB from the host's http.server byte-exact" \
            tp_same "$TS_TMP/www/big.bin" "$TS_TMP/curl.got"
        tp_stop "$TP_SRV"
    fi
}

# ---- 11. nc ------------------------------------------------------------------

tp_t_nc() {
    local rc
    ts_section "nc on the stack: listening, then connecting, 4 MiB each"
    tp_tool_or_skip "nc on the stack" nc || return
    if tp_server stack nc-l "Listening on" nc -l -n -v 5020; then
        ts_nsrun "$TP_NS" 30 nc -N "$TP_STACK_IP" 5020 <"$TS_TMP/r4m"
        check_eq "nc -l on the stack: the host's nc -N exit status" "$?" 0
        tp_wait "$TP_SRV" 10
        check_eq "nc -l on the stack: exits 0 at the end of the stream" "$TP_RC" 0
        check "nc -l on the stack: 4 MiB received byte-exact" \
            tp_same "$TS_TMP/r4m" "$TS_TMP/nc-l.out"
    fi
    if tp_server host nc-h "Listening on" nc -l -n -v "$TP_HOST_IP" 5021; then
        tp_run stack 30 nc -N "$TP_HOST_IP" 5021 <"$TS_TMP/r4m"
        rc=$?
        check_eq "nc -N on the stack: exit status" "$rc" 0
        tp_wait "$TP_SRV" 10
        check_eq "nc -N on the stack: the host's nc -l exits 0" "$TP_RC" 0
        check "nc -N on the stack: 4 MiB received by the host byte-exact" \
            tp_same "$TS_TMP/r4m" "$TS_TMP/nc-h.out"
    fi
}

# ---- 12. iperf3 --------------------------------------------------------------

# Bytes sent and received in iperf3 -J output FILE: "SENT RECEIVED".
tp_iperf_bytes() {
    "$TP_PY" - "$1" <<'EOF' 2>/dev/null || echo "none none"
import json, sys
end = json.load(open(sys.argv[1]))["end"]
print(int(end["sum_sent"]["bytes"]), int(end["sum_received"]["bytes"]))
EOF
}

# tp_iperf_check LABEL RC FILE
tp_iperf_check() {
    local label=$1 rc=$2 sent recv
    read -r sent recv <<<"$(tp_iperf_bytes "$3")"
    echo "#   $label: sent $sent bytes, received $recv bytes"
    check_eq "$label: exit status" "$rc" 0
    check_ge "$label: JSON sum_sent bytes > 0" "$sent" 1
    check_ge "$label: JSON sum_received bytes > 0" "$recv" 1
}

tp_t_iperf() {
    local rc
    ts_section "iperf3 -t 2, both ways"
    tp_tool_or_skip "iperf3" iperf3 || return
    if tp_server stack iperf-s "Server listening on 5201" \
        iperf3 -s -p 5201 --forceflush; then
        ts_nsrun "$TP_NS" 30 iperf3 -c "$TP_STACK_IP" -p 5201 -t 2 -J >"$TS_TMP/iperf1.json"
        tp_iperf_check "iperf3 -s on the stack, host iperf3 -c" "$?" "$TS_TMP/iperf1.json"
        # Ready for the next test once it says so again.
        tp_wait_text iperf-s "Server listening on 5201" 10 2 "$TP_SRV"
        ts_nsrun "$TP_NS" 30 iperf3 -c "$TP_STACK_IP" -p 5201 -t 2 -J -R >"$TS_TMP/iperf2.json"
        tp_iperf_check "iperf3 -s on the stack, host iperf3 -c -R" "$?" "$TS_TMP/iperf2.json"
        tp_stop "$TP_SRV"
    fi
    if tp_server host iperf-h "Server listening on 5202" \
        iperf3 -s -1 -p 5202 -B "$TP_HOST_IP" --forceflush; then
        tp_run stack 30 iperf3 -c "$TP_HOST_IP" -p 5202 -t 2 -J >"$TS_TMP/iperf3.json"
        rc=$?
        tp_iperf_check "iperf3 -c on the stack, host iperf3 -s" "$rc" "$TS_TMP/iperf3.json"
        tp_wait "$TP_SRV" 10
    fi
}

# ---- 13. two programs, one killed ------------------------------------------

# Has send_paced.py NAME not finished yet (no "done" line)?
tp_not_done() {
    ! grep -q '^done' "$TS_TMP/$1.out" 2>/dev/null
}

# Both senders of the kill test under way: 2 MiB to A, 1 MiB to B.
tp_both_under_way() {
    tp_wait_text send-a progress 10 2 "$1" && tp_wait_text send-b progress 10 1 "$2"
}

tp_t_kill() {
    local base="" now="" a b sa sb i pid
    ts_section "two programs at once; one killed with SIGKILL mid-transfer"
    if [ "$TP_MODE" = tapstack ]; then
        tp_snap
        base=$(tp_usage "$TP_SNAP")
        echo "#   baseline: connections (not TIME-WAIT) and pbuf in_use: $base"
    fi
    rm -f "$TS_TMP/kill-a.pid"
    tp_server stack kill-a "listening on" "$TP_PY" "$TP_PROGS/recv_file.py" \
        0.0.0.0 5030 /dev/null "$TS_TMP/kill-a.pid" || return
    a=$TP_SRV
    if ! tp_server stack kill-b "listening on" "$TP_PY" "$TP_PROGS/recv_file.py" \
        0.0.0.0 5031 "$TS_TMP/kill-b.got"; then
        tp_stop "$a"
        return
    fi
    b=$TP_SRV
    # A: endless, 64 KiB every 5 ms; B: 12 MiB, 64 KiB every 10 ms (~2 s).
    tp_bg host send-a "$TP_PY" "$TP_PROGS/send_paced.py" "$TP_STACK_IP" 5030 /dev/zero 65536 5
    sa=$TP_BG
    tp_bg host send-b "$TP_PY" "$TP_PROGS/send_paced.py" "$TP_STACK_IP" 5031 "$TS_TMP/r12m" 65536 10
    sb=$TP_BG
    check "both transfers under way (2 MiB to A, 1 MiB to B)" tp_both_under_way "$sa" "$sb"
    check "B is mid-transfer when A is killed" tp_not_done send-b
    pid=$(cat "$TS_TMP/kill-a.pid" 2>/dev/null)
    check "A's process ID is known ($pid)" test -n "$pid"
    [ -n "$pid" ] && kill -KILL "$pid"
    # timeout(1) dies of the signal that killed its program: bash's "Killed"
    # notice for it goes to /dev/null.
    tp_wait "$a" 5 2>/dev/null
    check_eq "A died of SIGKILL (timeout's status 128 + 9)" "$TP_RC" 137
    tp_wait "$sa" 15
    tp_show send-a 1
    check_eq "A's peer, the host's sender, sees the reset (exit 3: ConnectionResetError or BrokenPipeError)" \
        "$TP_RC" 3
    tp_wait "$sb" 30
    tp_show send-b 1
    check_eq "B's sender finished (exit status)" "$TP_RC" 0
    tp_wait "$b" 10
    tp_show kill-b 1
    check_eq "B, on the stack, saw a clean end (exit status)" "$TP_RC" 0
    check "B: 12 MiB received byte-exact" tp_same "$TS_TMP/r12m" "$TS_TMP/kill-b.got"
    if [ "$TP_MODE" = kernel ]; then
        check_skip "stack counters back to their baseline" "PROGS_ON=kernel: no tapstack counters"
        return
    fi
    for ((i = 0; i < 50; i++)); do
        tp_snap
        now=$(tp_usage "$TP_SNAP")
        [ "${now% *}" = "${base% *}" ] && [ "${now#* }" -le "${base#* }" ] && break
        sleep 0.2
    done
    echo "#   after: connections (not TIME-WAIT) and pbuf in_use: $now"
    check_eq "tcp conns_now (less TIME-WAIT) back to the baseline within 10 s" \
        "${now% *}" "${base% *}"
    # The baseline may catch a frame in flight: at most that many now.
    check_ge "pbuf in_use back to (at most) the baseline within 10 s" \
        "${base#* }" "${now#* }"
}

# ---- 14. hostile control-socket input (tapstack) ----------------------------

tp_fds() {
    find "/proc/$TS_STACK_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# New lines on tapstack's stderr since byte OFF that are not TCP state
# changes: what it logged about the control socket.
tp_new_log() {
    tail -c +"$(($1 + 1))" "$TS_STACK_ERR" | grep -vE ' tcp [0-9.]+:[0-9]+ -> ' | grep .
}

# Does a log line say something was wrong (not just "connected")? The
# wording is tapstack's; these words cover the usual ones.
TP_LOG_WORDS='bad|invalid|malformed|refus|reject|drop|wrong|truncat|short|long|large|big|many|oversize|unknown|unexpected|proto|denied|permission|not allowed|uid|cred|owner|error|fail'

# tp_ctl_case CASE [WRAPPER...]: run ctl_hostile.py CASE (through WRAPPER,
# e.g. setpriv, reading the program from stdin); checks its verdict, the
# log line (hostile cases) and that tapstack is up.
tp_ctl_case() {
    local case=$1 off out rc i log=""
    shift
    off=$(stat -c %s "$TS_STACK_ERR")
    out=$(ts_nsrun "$TP_NS" 10 "$@" "$TP_PY" - "$TP_CTL" "$case" \
        <"$TP_PROGS/ctl_hostile.py" 2>&1)
    rc=$?
    tail -n 3 <<<"$out" | sed 's/^/#   /'
    case $case in
    valid)
        check_eq "control socket, a valid TS_OP_SOCKET: rc 0 and one descriptor" "$rc" 0 ;;
    half-vanish)
        check_eq "control socket, $case: sent half a request and went away" "$rc" 0 ;;
    *)
        check_eq "control socket, $case: refused (closed, or rc < 0)" "$rc" 0 ;;
    esac
    if [ "$case" != valid ]; then
        for ((i = 0; i < 20; i++)); do
            log=$(tp_new_log "$off" | grep -iE "$TP_LOG_WORDS") && break
            sleep 0.05
        done
        tp_new_log "$off" | head -n 3 | cut -c1-200 | sed 's/^/#   stderr: /'
        check "control socket, $case: tapstack logged it (a new line on stderr saying what was wrong)" \
            test -n "$log"
    fi
    check "control socket, $case: tapstack still running" ts_stack_running
}

tp_t_ctl() {
    local fd0 fd1 c s i case as_other=()
    ts_section "hostile input on the control socket, a transfer going on"
    if [ "$TP_MODE" = kernel ]; then
        check_skip "hostile control-socket input" "PROGS_ON=kernel: no control socket"
        return
    fi
    fd0=$(tp_fds)
    tp_server stack ctl-c "listening on" "$TP_PY" "$TP_PROGS/recv_file.py" \
        0.0.0.0 5040 "$TS_TMP/ctl-c.got" || return
    c=$TP_SRV
    # 8 MiB, 64 KiB every 30 ms: ~4 s, longer than the cases below.
    tp_bg host ctl-send "$TP_PY" "$TP_PROGS/send_paced.py" "$TP_STACK_IP" 5040 \
        "$TS_TMP/r8m" 65536 30
    s=$TP_BG
    check "a transfer to a program on the stack is under way" \
        tp_wait_text ctl-send progress 10 1 "$s"
    for case in valid garbage truncated oversized bad-version bad-op bad-addrlen \
                bad-optlen bad-getopt fds-50 half-vanish; do
        tp_ctl_case "$case"
        tp_alive || return
    done
    if ts_have setpriv; then
        as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    elif ts_have runuser; then
        as_other=(runuser -u nobody --)
    fi
    if [ ${#as_other[@]} -gt 0 ]; then
        tp_ctl_case other-user "${as_other[@]}"
        tp_alive || return
    else
        check_skip "control socket, another user" "neither setpriv nor runuser is installed"
    fi
    check "the transfer was still going on after the hostile cases" tp_not_done ctl-send
    tp_wait "$s" 30
    check_eq "the transfer's sender finished (exit status)" "$TP_RC" 0
    tp_wait "$c" 10
    check_eq "the program on the stack saw a clean end (exit status)" "$TP_RC" 0
    check "the transfer: 8 MiB received byte-exact" tp_same "$TS_TMP/r8m" "$TS_TMP/ctl-c.got"
    tp_ctl_case valid
    for ((i = 0; i < 25; i++)); do
        fd1=$(tp_fds)
        [ "$fd1" -le "$fd0" ] && break
        sleep 0.2
    done
    check "tapstack's open descriptors back to $fd0 within 5 s (now $fd1: nothing leaked)" \
        test "$fd1" -le "$fd0"
}

# ---- 15. two programs on one stack, over lo (tapstack, issue 12) ----------

# IPv4 frames tcpdump saw on the kernel's side of the TAP (file of -w).
tp_v4_frames() {
    timeout 10 tcpdump -n -r "$1" ip 2>/dev/null | wc -l
}

# Server and client both under tapstack-run, to DEST: 10 MiB TCP echo and a
# 6,000-byte UDP datagram, byte-exact.
tp_local_pair() {
    local dest=$1 port=$2
    if tp_server stack "lecho-$port" "listening on" \
        "$TP_PY" "$TP_PROGS/tcp_echo_server.py" 0.0.0.0 "$port" 1; then
        tp_py stack 60 tcp_echo_client.py "$dest" "$port" "$TS_TMP/r10m" \
            "$TS_TMP/lecho-$port.got"
        check "two programs on the stack over $dest: 10 MiB TCP echo byte-exact" \
            tp_same "$TS_TMP/r10m" "$TS_TMP/lecho-$port.got"
        tp_wait "$TP_SRV" 5
    fi
    if tp_server stack "ludp-$port" "listening on" \
        "$TP_PY" "$TP_PROGS/udp_echo_server.py" 0.0.0.0 "$port" 3; then
        tp_py stack 15 udp_client.py "$dest" "$port" "$TS_TMP/d6000" \
            "$TS_TMP/ludp-$port.got"
        check "two programs on the stack over $dest: UDP 6,000 bytes back byte-exact" \
            tp_same "$TS_TMP/d6000" "$TS_TMP/ludp-$port.got"
        tp_stop "$TP_SRV"
    fi
}

tp_t_local() {
    local cap pid i
    ts_section "two programs on one stack, over 127.0.0.1 and over its own address"
    if [ "$TP_MODE" = kernel ]; then
        check_skip "programs over the stack's loopback" "PROGS_ON=kernel"
        return
    fi
    tp_tool_or_skip "programs over the stack's loopback" tcpdump || return
    [ -f "$TS_TMP/r10m" ] || head -c $((10 * TP_MIB)) /dev/urandom >"$TS_TMP/r10m"
    cap=$TS_TMP/local.pcap
    timeout -k 2 120 ip netns exec "$TP_NS" tcpdump -n -i "$TP_TAP" -w "$cap" \
        -U ip 2>"$TS_TMP/local.tcpdump" &
    pid=$!
    ts_track_pid "$pid"
    for ((i = 0; i < 100; i++)); do     # it says so once it captures
        grep -q "listening on" "$TS_TMP/local.tcpdump" 2>/dev/null && break
        sleep 0.1
    done
    tp_local_pair 127.0.0.1 5301
    tp_local_pair "$TP_STACK_IP" 5302
    # One ping across the TAP proves the capture works: its two frames
    # must be all it holds.
    ts_nsrun "$TP_NS" 5 ping -n -q -c 1 -W 2 "$TP_STACK_IP" >/dev/null 2>&1
    sleep 1
    kill -INT "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    ts_untrack_pid "$pid"
    check_eq "the kernel's side of the TAP saw none of it (IPv4 frames: one ping's 2)" \
        "$(tp_v4_frames "$cap")" 2
}

# ---- main ----------------------------------------------------------------

tp_make_files() {
    mkdir -p "$TS_TMP/www" &&
    head -c "$TP_MIB" /dev/urandom >"$TS_TMP/r1m" &&
    head -c $((4 * TP_MIB)) /dev/urandom >"$TS_TMP/r4m" &&
    head -c $((8 * TP_MIB)) /dev/urandom >"$TS_TMP/r8m" &&
    head -c $((12 * TP_MIB)) /dev/urandom >"$TS_TMP/r12m" &&
    head -c $((10 * TP_MIB)) /dev/urandom >"$TS_TMP/www/big.bin" &&
    head -c 6000 /dev/urandom >"$TS_TMP/d6000" &&
    head -c 4500 /dev/urandom | base64 -w 0 | head -c 6000 >"$TS_TMP/a6000" &&
    LC_ALL=C tr '[:lower:]' '[:upper:]' <"$TS_TMP/a6000" >"$TS_TMP/a6000.upper" &&
    head -c $((3 * TP_MIB / 4)) /dev/urandom | base64 -w 76 >"$TS_TMP/lines" &&
    LC_ALL=C tr '[:lower:]' '[:upper:]' <"$TS_TMP/lines" >"$TS_TMP/lines.upper"
}

tp_main() {
    local t
    ts_section "unmodified programs on the stack (tests/integration/programs.sh, PROGS_ON=$TP_MODE)"
    case $TP_MODE in
    kernel | tapstack) ;;
    *)
        check "PROGS_ON is kernel or tapstack (not '$TP_MODE')" false
        return ;;
    esac
    if [ ! -x "$TP_PY" ]; then
        check_skip "programs" "$TP_PY is not installed"
        return
    fi
    if [ "$TP_MODE" = tapstack ]; then
        if [ ! -x "$TP_RUN" ]; then
            # On its own: this line and exit 0; sourced: this line, counted.
            [ "$TP_STANDALONE" = 1 ] && ts_skip "$TP_RUN not built"
            echo "SKIP: $TP_RUN not built (the programs.sh checks)"
            TS_SKIPPED=$((TS_SKIPPED + 1))
            return
        fi
        if [ ! -x "$BUILD/tapstack" ]; then
            check "built: $BUILD/tapstack (run make first)" false
            return
        fi
    fi
    check "test files made" tp_make_files || return
    if [ "$TP_MODE" = kernel ]; then
        tp_setup_kernel || return
    else
        tp_setup_tapstack || return
    fi
    for t in ${PROGS_TESTS:-$TP_TESTS}; do
        tp_alive || break
        if [ "$(type -t "tp_t_$t")" != function ]; then
            check "PROGS_TESTS: '$t' is one of: $TP_TESTS" false
            continue
        fi
        "tp_t_$t"
    done
    if [ "$TP_MODE" = tapstack ] && tp_alive; then
        ts_stack_stop TERM
        check_eq "tapstack: SIGTERM, exit status 0" "$TS_STACK_RC" 0
    fi
}

tp_main
if [ "$TP_STANDALONE" = 1 ]; then
    echo "# took $(ts_elapsed) s"
    ts_summary
fi
