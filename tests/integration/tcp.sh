#!/bin/bash
# shellcheck disable=SC2016 # the bash -c scripts take their values as $1, $2...
# tests/integration/tcp.sh - TCP of the real stack on a real TAP, driven by
# the host kernel's own nc(1), inside a private network namespace (issue 3).
#
#   BUILD=build tests/integration/tcp.sh      on its own
#   BUILD=build tests/integration/run.sh      sources it after its own tests,
#                                             so make check prints one summary
#
# Needs root or CAP_NET_ADMIN, /dev/net/tun and OpenBSD nc (-N, -d); prints
# "SKIP: ..." and exits 0 without them. On its own it ends with "N passed, N
# failed" and exits 1 on any failure.
#
# Three tapstack instances, one after the other, on the TAP of one namespace:
#
# main (--pcap, -v):
#  1. echo: nc sends 1 MiB of random bytes and half-closes (-N); what comes
#     back has the same SHA-256; tcp rx_bytes rose by exactly 1 MiB.
#  8. the -v log holds that connection's textbook passive-open, passive-close
#     trace: LISTEN -> SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT -> LAST-ACK
#     -> CLOSED, in that order, and nothing else for its port.
#     A SYN to port 8 (no listener) is refused with a reset.
#  4. 200 echo connections in a row, each a short line echoed exactly; the
#     host closes first, so none goes to TIME-WAIT in the stack: established
#     and closed +200, conns_now is back to 0 within 5 s, and every packet
#     buffer is back in the pool.
#  6. attacks on a live connection: a long-lived nc to echo says a line every
#     half second throughout. inject rst-storm sends 1,000 RSTs inside its
#     window (never at RCV.NXT), 1,000 with random sequence numbers outside
#     it, 1,000 from other subnet addresses to random ports; each in-window
#     one draws a challenge ACK or is counted as rate-limited (RFC 5961), no
#     reset is answered with a reset, nothing is reset. Then inject syn-flood
#     sends 5,000 SYNs to port 7 from 5,000 distinct (subnet address, port)
#     pairs: each gets a SYN-RECEIVED TCB or a SYN cookie, cookies are sent
#     (the SYN queue overflowed), and a new nc still connects (by cookie, the
#     queue being full) and echoes, its data inside the window from the
#     start. The long-lived connection echoed every line, in order, and
#     closes cleanly.
#  7. after SIGTERM (exit 0; every packet buffer returned but those still
#     waiting for ARP answers about the flood's sources): tshark finds no
#     malformed frame, no expert error and no bad IP or TCP checksum among
#     the frames the stack SENT (eth.src = its MAC), and it did check their
#     checksums. The TAP's offloads are on: the capture holds TCP
#     super-frames (longer than 1,514 bytes) both ways, which tshark reads,
#     their checksums finished (Good) in the capture.
# bulk (no capture), then bulk-plain (--no-offload), the same tests:
#  2. nc sends 100 MiB to discard: exit 0, tcp rx_bytes +104,857,600. With
#     offloads the kernel sent super-frames (tap rx_super_frames) and each
#     was one TCP segment (rx_segments below 100 MiB / 1,448); without,
#     none.
#  3. chargen: the first 100 lines are RFC 864 lines (72 printable characters
#     in a row, CRLF, each line starting one character later); 100 MiB read
#     by the host has the right byte count and the SHA-256 of the pattern.
#     With offloads the stack sent super-frames (tap tx_super_frames);
#     without, none. daytime answers one line and, having closed first, its
#     connection is the one the stack keeps in TIME-WAIT.
# faults (--loss 0.05 --dup 0.02 --reorder 0.05 --seed 7, --pcap):
#  5. 10 MiB (TT_QUICK=1: 1 MiB) echo round trip arrives byte-exact (SHA-256) within 90 s; the
#     stack retransmitted and the faults really happened; the connection is
#     released; in the capture no data segment was sent more than 10 times.
# Rates and times are printed as "#" lines; no check asserts a speed.
set -u

TT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TT_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TT_HERE/lib.sh"
    ts_require_env
else
    TT_STANDALONE=0         # sourced by run.sh: lib.sh and the trap are set
fi

TT_TAP=tap0
TT_HOST_IP=10.0.0.1
TT_STACK_IP=10.0.0.2
TT_STACK_MAC=02:00:0a:00:00:02
TT_PCAP=$TS_TMP/tcp.pcap
TT_PCAP_KEEP=$BUILD/integration-tcp.pcap
TT_FAULTS_PCAP=$TS_TMP/tcp-faults.pcap
TT_MIB=1048576
TT_BULK=$((100 * TT_MIB))
TT_CONNS=${TT_CONNS:-200}
TT_SYNS=${TT_SYNS:-5000}
TT_RSTS=${TT_RSTS:-1000}
# TT_QUICK=1: a short run (tests/integration/asan.sh): no bulk instance,
# and the faults instance echoes TT_FAULTS_MIB (1 instead of 10) MiB.
TT_QUICK=${TT_QUICK:-0}
if [ "$TT_QUICK" = 1 ]; then
    TT_FAULTS_MIB=${TT_FAULTS_MIB:-1}
else
    TT_FAULTS_MIB=${TT_FAULTS_MIB:-10}
fi
TT_NS=""
TT_OFFLOAD=1            # the running instance has the TAP's offloads
# SYN-ACKs to the flood's spoofed sources wait for ARP answers that never
# come: at most 4 packets for each of the 64 ARP cache entries.
TT_ARP_HELD=256

# ---- helpers ------------------------------------------------------------

TT_SNAP_N=0
# Take a counter dump; its file name goes to $TT_SNAP.
tt_snap() {
    TT_SNAP_N=$((TT_SNAP_N + 1))
    TT_SNAP="$TS_TMP/tcp-counters.$TT_SNAP_N"
    ts_counters "$TT_SNAP" || : >"$TT_SNAP"
}

# Wait up to SECONDS for tcp conns_now to be 0: its last value goes to
# TT_LEFT, the last dump to TT_SNAP.
tt_wait_no_conns() {
    local secs=$1 i
    TT_LEFT=""
    for ((i = 0; i < secs * 5; i++)); do
        tt_snap
        TT_LEFT=$(ts_counter "$TT_SNAP" tcp conns_now)
        [ "$TT_LEFT" = 0 ] && break
        sleep 0.2
    done
    TT_LEFT=${TT_LEFT:-missing}
}

tt_sha() {
    sha256sum <"$1" | cut -d' ' -f1
}

tt_same_file() {
    local a b
    a=$(tt_sha "$1")
    b=$(tt_sha "$2")
    echo "#   sha256 sent $(cut -c1-16 <<<"$a")...  received $(cut -c1-16 <<<"$b")... ($(stat -c %s "$2") bytes)"
    [ "$a" = "$b" ]
}

# Seconds since $1 (date +%s.%N), two decimals; and a rate line.
tt_since() {
    awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}

tt_rate() {
    awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.01;
        printf "%.1f MiB/s (%.2f Gbit/s)", n / s / 1048576, n * 8 / s / 1e9 }'
}

# True while the stack runs; else one FAIL line, its status and stderr tail.
tt_alive() {
    local rc
    ts_stack_running && return 0
    [ -n "$TS_STACK_PID" ] || return 1
    wait "$TS_STACK_PID" 2>/dev/null
    rc=$?
    ts_untrack_pid "$TS_STACK_PID"
    TS_STACK_PID=""
    check "tapstack is still running (it exited with status $rc; the rest of this instance is skipped)" false
    tail -n 20 "$TS_STACK_ERR" | grep -v ' tcp .* -> ' | sed 's/^/#   stderr: /'
    return 1
}

# Start instance NAME with ARGS on the namespace's TAP.
tt_start() {
    local name=$1
    shift
    check "tapstack ($name) starts: $*" ts_stack_start "$TT_NS" "tcp-$name" \
        --iface "$TT_TAP" --addr "$TT_STACK_IP/24" "$@"
}

# SIGTERM the stack: exit 0, a full dump, every packet buffer returned.
# With a second argument, in_use may be up to that many: packets still
# waiting for an ARP answer are held when the counters are printed.
tt_stop() {
    local name=$1 held=${2:-0} off n
    off=$(stat -c %s "$TS_STACK_OUT")
    ts_stack_stop TERM
    check_eq "$name: SIGTERM: exit status 0" "$TS_STACK_RC" 0
    tail -c +"$((off + 1))" "$TS_STACK_OUT" >"$TS_TMP/tcp-final-$name"
    check "$name: SIGTERM: counters printed" ts_dump_complete "$TS_TMP/tcp-final-$name"
    n=$(ts_counter "$TS_TMP/tcp-final-$name" pbuf in_use)
    if [ "$held" = 0 ]; then
        check_eq "$name: pbuf in_use at exit" "$n" 0
    else
        check "$name: pbuf in_use at exit ($n) at most $held (waiting for ARP)" \
            test "${n:-99999}" -le "$held"
    fi
}

# nc in the namespace: tt_nc SECONDS ARGS...
tt_nc() {
    local secs=$1
    shift
    ts_nsrun "$TT_NS" "$secs" nc "$@"
}

# ---- 1. echo 1 MiB (main) -----------------------------------------------

test_tcp_echo() {
    local a b in=$TS_TMP/echo.in out=$TS_TMP/echo.out rc t0 secs
    ts_section "TCP echo: 1 MiB round trip"
    head -c "$TT_MIB" /dev/urandom >"$in"
    tt_snap; a=$TT_SNAP
    t0=$(date +%s.%N)
    tt_nc 30 -N "$TT_STACK_IP" 7 <"$in" >"$out" 2>"$TS_TMP/echo.err"
    rc=$?
    secs=$(tt_since "$t0")
    tt_snap; b=$TT_SNAP
    echo "#   1 MiB echoed in $secs s: $(tt_rate $((2 * TT_MIB)) "$secs") both ways"
    check_eq "echo 1 MiB: nc exit status" "$rc" 0
    check "echo 1 MiB: received bytes have the SHA-256 of those sent" \
        tt_same_file "$in" "$out"
    check_eq "echo 1 MiB: tcp rx_bytes +1048576" \
        "$(ts_delta "$a" "$b" tcp rx_bytes)" "$TT_MIB"
    check_ge "echo 1 MiB: tcp tx_bytes +1048576 or more" \
        "$(ts_delta "$a" "$b" tcp tx_bytes)" "$TT_MIB"
}

# ---- 8. the -v trace (main) ---------------------------------------------

# The state changes logged for host port $1 to port 7, one per line.
tt_trace_of() {
    sed -n "s/.* tcp $TT_HOST_IP:$1 -> $TT_STACK_IP:7 \(.*\)$/\1/p" "$TS_STACK_ERR"
}

test_tcp_trace() {
    local port want got i
    ts_section "TCP -v trace of the echo connection"
    port=$(sed -n "s/.* tcp $TT_HOST_IP:\([0-9]*\) -> $TT_STACK_IP:7 LISTEN -> SYN-RECEIVED$/\1/p" \
        "$TS_STACK_ERR" | head -n 1)
    if ! check "-v log names the echo connection (LISTEN -> SYN-RECEIVED)" \
        test -n "$port"; then
        head -n 5 "$TS_STACK_ERR" | sed 's/^/#   stderr: /'
        return
    fi
    want="LISTEN -> SYN-RECEIVED
SYN-RECEIVED -> ESTABLISHED
ESTABLISHED -> CLOSE-WAIT
CLOSE-WAIT -> LAST-ACK
LAST-ACK -> CLOSED"
    for ((i = 0; i < 30; i++)); do      # the last ACK may still be on its way
        got=$(tt_trace_of "$port")
        [ "$got" = "$want" ] && break
        sleep 0.1
    done
    grep -F " tcp $TT_HOST_IP:$port -> " "$TS_STACK_ERR" | sed 's/^/#   /'
    check "-v trace of $TT_HOST_IP:$port: LISTEN -> SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED" \
        test "$got" = "$want"
}

# ---- a port with no listener (main) ---------------------------------------

test_tcp_refused() {
    local a b out rc
    ts_section "TCP: a port with no listener"
    tt_snap; a=$TT_SNAP
    out=$(tt_nc 10 -z -w 5 "$TT_STACK_IP" 8 2>&1)
    rc=$?
    tt_snap; b=$TT_SNAP
    echo "#   nc -z $TT_STACK_IP 8: exit $rc ${out:+($out)}"
    check "port 8 (no listener): nc -z fails (connection refused)" test "$rc" = 1
    check_eq "port 8: refused with a reset (tcp rst_sent_no_conn +1)" \
        "$(ts_delta "$a" "$b" tcp rst_sent_no_conn)" 1
}

# ---- 4. many connections in a row (main) ---------------------------------

# TT_CONNS echo connections, one after the other; prints how many echoed
# their line exactly.
tt_many_conns() {
    ts_nsrun "$TT_NS" 120 bash -c '
        ok=0
        for ((i = 1; i <= $1; i++)); do
            msg="tapstack connection $i of $1"
            got=$(printf "%s\n" "$msg" | timeout 5 nc -N "$2" 7 2>/dev/null)
            [ "$got" = "$msg" ] && ok=$((ok + 1))
        done
        echo "$ok"' tt-many "$TT_CONNS" "$TT_STACK_IP"
}

test_tcp_many() {
    local a b ok t0 secs left
    ts_section "TCP: $TT_CONNS echo connections in a row"
    tt_snap; a=$TT_SNAP
    t0=$(date +%s.%N)
    ok=$(tt_many_conns)
    secs=$(tt_since "$t0")
    tt_wait_no_conns 5
    left=$TT_LEFT b=$TT_SNAP
    echo "#   $TT_CONNS connections in $secs s"
    check_eq "$TT_CONNS connections: each echoed its line" "${ok:-0}" "$TT_CONNS"
    check_eq "$TT_CONNS connections: tcp passive_opens +$TT_CONNS" \
        "$(ts_delta "$a" "$b" tcp passive_opens)" "$TT_CONNS"
    check_eq "$TT_CONNS connections: tcp established +$TT_CONNS" \
        "$(ts_delta "$a" "$b" tcp established)" "$TT_CONNS"
    check_eq "$TT_CONNS connections: tcp closed +$TT_CONNS" \
        "$(ts_delta "$a" "$b" tcp closed)" "$TT_CONNS"
    check_eq "$TT_CONNS connections: none left (conns_now within 5 s)" "$left" 0
    check_eq "$TT_CONNS connections: none in TIME-WAIT (the host closed first)" \
        "$(ts_counter "$b" tcp conns_time_wait)" 0
    check_eq "$TT_CONNS connections: no resets either way" \
        "$(( $(ts_delta "$a" "$b" tcp rx_rst) + $(ts_delta "$a" "$b" tcp rst_sent_no_conn) ))" 0
    echo "#   retransmissions meanwhile: $(ts_delta "$a" "$b" tcp retransmits)"
    check_eq "$TT_CONNS connections: every packet buffer back in the pool (pbuf in_use)" \
        "$(ts_counter "$b" pbuf in_use)" 0
}

# ---- 6. RST storm and SYN flood (main) ------------------------------------

TT_LL_FD=""
TT_LL_PID=""
TT_LL_TICKER=""

# A long-lived nc to echo, fed through a FIFO that this shell holds open.
tt_ll_open() {
    local i
    mkfifo "$TS_TMP/ll.in" || return 1
    : >"$TS_TMP/ll.sent"
    ip netns exec "$TT_NS" timeout -k 2 150 nc -N "$TT_STACK_IP" 7 \
        <"$TS_TMP/ll.in" >"$TS_TMP/ll.out" 2>"$TS_TMP/ll.err" &
    TT_LL_PID=$!
    ts_track_pid "$TT_LL_PID"
    exec {TT_LL_FD}>"$TS_TMP/ll.in"
    for ((i = 0; i < 50; i++)); do
        TT_LL_PORT=$(ts_nsrun "$TT_NS" 5 ss -tnH state established \
            "( dport = :7 )" | awk '{ for (i = 1; i <= NF; i++)
                if ($i ~ /^10\.0\.0\.1:/) { sub(/.*:/, "", $i); print $i; exit } }')
        [ -n "$TT_LL_PORT" ] && return 0
        sleep 0.1
    done
    return 1
}

# Say LINE on the long-lived connection; true when it comes back within 3 s.
tt_ll_say() {
    local i
    printf '%s\n' "$1" >>"$TS_TMP/ll.sent"
    printf '%s\n' "$1" >&"$TT_LL_FD" || return 1
    for ((i = 0; i < 30; i++)); do
        grep -qxF "$1" "$TS_TMP/ll.out" && return 0
        sleep 0.1
    done
    return 1
}

# A line every half second until ll.stop exists (at most 2 minutes).
tt_ll_ticker_start() {
    rm -f "$TS_TMP/ll.stop"
    (
        for ((i = 1; i <= 240; i++)); do
            [ -e "$TS_TMP/ll.stop" ] && break
            printf 'tick %d\n' "$i" >>"$TS_TMP/ll.sent"
            printf 'tick %d\n' "$i" >&"$TT_LL_FD" || break
            sleep 0.5
        done
    ) &
    TT_LL_TICKER=$!
    ts_track_pid "$TT_LL_TICKER"
}

tt_ll_ticker_stop() {
    [ -n "$TT_LL_TICKER" ] || return
    : >"$TS_TMP/ll.stop"
    wait "$TT_LL_TICKER" 2>/dev/null
    ts_untrack_pid "$TT_LL_TICKER"
    TT_LL_TICKER=""
}

# Half-close (nc -N passes the EOF on), wait for nc to end; its status.
tt_ll_close() {
    local i rc
    exec {TT_LL_FD}>&-
    for ((i = 0; i < 50; i++)); do
        kill -0 "$TT_LL_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$TT_LL_PID" 2>/dev/null && kill -TERM "$TT_LL_PID"
    wait "$TT_LL_PID"
    rc=$?
    ts_untrack_pid "$TT_LL_PID"
    return "$rc"
}

# inject --kind KIND ARGS; output in TT_INJ_OUT, status in TT_INJ_RC.
tt_inject() {
    local kind=$1
    shift
    TT_INJ_OUT=$(ts_nsrun "$TT_NS" 60 "$BUILD/inject" --iface "$TT_TAP" \
        --dst-mac "$TT_STACK_MAC" --src-ip "$TT_HOST_IP" --dst-ip "$TT_STACK_IP" \
        --kind "$kind" "$@" 2>&1)
    TT_INJ_RC=$?
    printf '%s\n' "$TT_INJ_OUT" | sed 's/^/#   /'
}

# sent= of GROUP in the last inject output.
tt_inj_sent() {
    sed -n "s/^inject: $1 .* sent=\([0-9]*\).*/\1/p" <<<"$TT_INJ_OUT"
}

tt_rst_storm() {
    local a b inwin
    tt_snap; a=$TT_SNAP
    tt_inject rst-storm --sport "$TT_LL_PORT" --dport 7 --count "$TT_RSTS"
    sleep 0.2
    tt_snap; b=$TT_SNAP
    inwin=$(tt_inj_sent rst-in-window)
    check_eq "RST storm: injector sent every frame (exit status)" "$TT_INJ_RC" 0
    check_eq "RST storm: $TT_RSTS in-window RSTs sent" "${inwin:-0}" "$TT_RSTS"
    check_ge "RST storm: tcp rx_segments +$((3 * TT_RSTS))" \
        "$(ts_delta "$a" "$b" tcp rx_segments)" $((3 * TT_RSTS))
    check_ge "RST storm: tcp rx_rst +$TT_RSTS (the in-window ones)" \
        "$(ts_delta "$a" "$b" tcp rx_rst)" "${inwin:-1}"
    check_ge "RST storm: challenge ACKs sent (tcp challenge_acks)" \
        "$(ts_delta "$a" "$b" tcp challenge_acks)" 1
    check_eq "RST storm: each in-window RST drew a challenge ACK or was rate-limited" \
        "$(( $(ts_delta "$a" "$b" tcp challenge_acks) + $(ts_delta "$a" "$b" tcp challenge_acks_limited) ))" \
        "${inwin:-1}"
    check_eq "RST storm: no connection reset (tcp conn_reset)" \
        "$(ts_delta "$a" "$b" tcp conn_reset)" 0
    check_eq "RST storm: no reset answered with a reset (tcp rst_sent_no_conn)" \
        "$(ts_delta "$a" "$b" tcp rst_sent_no_conn)" 0
}

tt_syn_flood() {
    local a b sent opens cookies n
    tt_snap; a=$TT_SNAP
    tt_inject syn-flood --dport 7 --count "$TT_SYNS"
    sleep 0.2
    tt_snap; b=$TT_SNAP
    sent=$(tt_inj_sent syn-flood)
    opens=$(ts_delta "$a" "$b" tcp passive_opens)
    cookies=$(ts_delta "$a" "$b" tcp syn_cookies_sent)
    echo "#   $opens SYNs got a TCB (SYN queue), $cookies a cookie;" \
         "conns_now $(ts_counter "$b" tcp conns_now);" \
         "arp queue_overflow +$(ts_delta "$a" "$b" arp queue_overflow)," \
         "evicted +$(ts_delta "$a" "$b" arp evicted)"
    check_eq "SYN flood: injector sent every frame (exit status)" "$TT_INJ_RC" 0
    check_eq "SYN flood: $TT_SYNS SYNs sent" "${sent:-0}" "$TT_SYNS"
    check_ge "SYN flood: tcp rx_segments +$TT_SYNS" \
        "$(ts_delta "$a" "$b" tcp rx_segments)" "$TT_SYNS"
    check_ge "SYN flood: SYN queue overflowed into cookies (tcp syn_cookies_sent)" \
        "$cookies" 1
    check_eq "SYN flood: every SYN got a SYN-RECEIVED TCB or a cookie" \
        "$(( ${opens:-0} + ${cookies:-0} ))" "${sent:-1}"
    n=$(ts_counter "$b" tcp conns_now)
    check "SYN flood: tcp conns_now stays bounded ($n <= 1,000)" \
        test "${n:-99999}" -le 1000
    n=$(ts_counter "$b" pbuf in_use)
    check "SYN flood: pbuf in_use bounded by the ARP queues ($n <= $TT_ARP_HELD)" \
        test "${n:-99999}" -le "$TT_ARP_HELD"
}

test_tcp_attacks() {
    local a b msg got rc
    ts_section "TCP: RST storm and SYN flood against a live connection"
    if ! check "long-lived echo connection opens" tt_ll_open; then
        return
    fi
    echo "#   long-lived connection $TT_HOST_IP:$TT_LL_PORT -> $TT_STACK_IP:7"
    check "long-lived connection echoes before the attacks" tt_ll_say "hello before"
    tt_ll_ticker_start
    sleep 1
    tt_rst_storm
    tt_ll_ticker_stop
    tt_alive || return
    check "long-lived connection echoes after the RST storm" tt_ll_say "hello after the RST storm"
    tt_ll_ticker_start
    tt_syn_flood
    tt_ll_ticker_stop
    tt_alive || return
    check "long-lived connection echoes after the SYN flood" tt_ll_say "hello after the SYN flood"
    tt_snap; a=$TT_SNAP
    msg="a new connection after the flood"
    got=$(printf '%s\n' "$msg" | tt_nc 10 -N "$TT_STACK_IP" 7 2>&1)
    tt_snap; b=$TT_SNAP
    check "after the flood: a new nc to echo connects and echoes" test "$got" = "$msg"
    echo "#   the new connection: syn_cookies_ok +$(ts_delta "$a" "$b" tcp syn_cookies_ok) (the SYN queue is still full of half-open flood TCBs)"
    # The window its SYN-ACK offered holds from the handshake on: data
    # right behind the handshake ACK is in the window.
    check_eq "after the flood: its data was inside the window (tcp out_of_window +0)" \
        "$(ts_delta "$a" "$b" tcp out_of_window)" 0
    tt_ll_close
    rc=$?
    check_eq "long-lived connection: nc ends cleanly after its half-close" "$rc" 0
    echo "#   long-lived connection: $(grep -c '' "$TS_TMP/ll.sent") lines sent, $(grep -c '' "$TS_TMP/ll.out") echoed"
    check "long-lived connection: every line echoed, in order (SHA-256)" \
        tt_same_file "$TS_TMP/ll.sent" "$TS_TMP/ll.out"
}

# ---- 7. the capture (main, after stop) -----------------------------------

tt_tshark() {
    timeout 120 tshark -n -r "$TT_PCAP" -o ip.check_checksum:TRUE \
        -o tcp.check_checksum:TRUE "$@" 2>&1 | grep -v '^Running as user'
}

test_tcp_capture() {
    local bad sent good
    ts_section "TCP: the capture, read by tshark"
    if ! ts_have tshark; then
        check_skip "capture checks" "tshark not installed"
        return
    fi
    sent=$(tt_tshark -Y "eth.src == $TT_STACK_MAC && tcp" | grep -c .)
    good=$(tt_tshark -Y "eth.src == $TT_STACK_MAC && tcp.checksum.status == \"Good\"" | grep -c .)
    bad=$(tt_tshark -Y "eth.src == $TT_STACK_MAC && (_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\")")
    [ -n "$bad" ] && head -n 20 <<<"$bad" | sed 's/^/#   /'
    # Only that the capture is not empty of the stack's segments: their
    # number depends on the offloads (the 1 MiB echo is a few dozen
    # super-frames) and on TT_QUICK (the sanitizer run: about 480).
    check_ge "capture holds TCP segments the stack sent" "$sent" 100
    check_eq "tshark verified the TCP checksum of each of them (Good)" "$good" "$sent"
    check "tshark: stack's TCP frames not malformed, no expert error, checksums good" \
        test -z "$bad"
    tt_capture_super
    cp "$TT_PCAP" "$TT_PCAP_KEEP.$$" 2>/dev/null &&
        mv -f "$TT_PCAP_KEEP.$$" "$TT_PCAP_KEEP" &&
        echo "# capture of the TCP run: $TT_PCAP_KEEP"
}

# With offloads (the default) the capture shows the super-frames as they
# crossed the TAP: some longer than a 1,514-byte frame, both ways, read by
# tshark as whole TCP segments with good checksums.
tt_capture_super() {
    local out in
    out=$(tt_tshark -Y "eth.src == $TT_STACK_MAC && tcp && frame.len > 1514 && tcp.checksum.status == \"Good\"" | grep -c .)
    in=$(tt_tshark -Y "eth.dst == $TT_STACK_MAC && tcp && frame.len > 1514" | grep -c .)
    echo "#   super-frames in the capture: $out sent, $in received"
    check_ge "capture: TCP super-frames the stack sent (> 1,514 bytes, checksum Good)" "$out" 1
    check_ge "capture: TCP super-frames the kernel sent (> 1,514 bytes)" "$in" 1
}

tt_mode() {
    [ "$TT_OFFLOAD" = 1 ] && echo " (TAP offloads)" || echo " (--no-offload)"
}

# With offloads (TT_OFFLOAD=1): counter NAME of section tap rose by at
# least 1 between snapshots A and B; without: it stayed 0.
tt_check_super() {
    local what=$1 a=$2 b=$3 name=$4 n
    n=$(ts_delta "$a" "$b" tap "$name")
    if [ "$TT_OFFLOAD" = 1 ]; then
        check_ge "$what: super-frames through the TAP (tap $name +$n)" "$n" 1
    else
        check_eq "$what (--no-offload): no super-frame (tap $name +$n)" "$n" 0
    fi
}

# ---- 2. discard 100 MiB (bulk) --------------------------------------------

test_tcp_discard() {
    local a b rc t0 secs left segs
    ts_section "TCP discard: 100 MiB$(tt_mode)"
    tt_snap; a=$TT_SNAP
    t0=$(date +%s.%N)
    ts_nsrun "$TT_NS" 60 bash -c 'head -c "$1" /dev/zero | nc -N "$2" 9' \
        tt-discard "$TT_BULK" "$TT_STACK_IP"
    rc=$?
    secs=$(tt_since "$t0")
    tt_wait_no_conns 5
    left=$TT_LEFT b=$TT_SNAP
    echo "#   100 MiB to discard in $secs s: $(tt_rate "$TT_BULK" "$secs")"
    check_eq "discard 100 MiB: nc exit status" "$rc" 0
    check_eq "discard 100 MiB: tcp rx_bytes +$TT_BULK" \
        "$(ts_delta "$a" "$b" tcp rx_bytes)" "$TT_BULK"
    check_eq "discard: connection released (conns_now)" "$left" 0
    tt_check_super "discard" "$a" "$b" rx_super_frames
    if [ "$TT_OFFLOAD" = 1 ]; then
        segs=$(ts_delta "$a" "$b" tcp rx_segments)
        check "discard: each super-frame one TCP segment (tcp rx_segments +$segs < $((TT_BULK / 1448)))" \
            test "$segs" -lt $((TT_BULK / 1448))
    fi
}

# ---- 3. chargen 100 MiB (bulk) ---------------------------------------------

# RFC 864: lines of 72 characters then CRLF; within a line each character
# follows the one before in the printable set (32..126, wrapping), and
# each line starts one character later than the one before.
tt_chargen_lines_ok() {
    LC_ALL=C awk -v want="$2" '
        BEGIN { for (i = 32; i < 127; i++) code[sprintf("%c", i)] = i; RS = "\n" }
        {
            if (length($0) != 73 || substr($0, 73, 1) != "\r") { print "#   line " NR ": not 72 characters + CRLF"; bad = 1; exit }
            for (i = 1; i <= 72; i++) {
                c = code[substr($0, i, 1)]
                if (c == "") { print "#   line " NR ": not printable at " i; bad = 1; exit }
                if (i > 1 && c != (prev - 32 + 1) % 95 + 32) { print "#   line " NR ": not in sequence at " i; bad = 1; exit }
                prev = c
            }
            first = code[substr($0, 1, 1)]
            if (NR > 1 && first != (lastfirst - 32 + 1) % 95 + 32) { print "#   line " NR ": does not start one character later"; bad = 1; exit }
            lastfirst = first
            n++
        }
        END { if (!bad && n != want) { print "#   " n " lines, want " want; bad = 1 } exit bad }' "$1"
}

# N bytes of the chargen stream whose first line starts with character
# code START (the pattern repeats every 95 lines, 7,030 bytes): one period,
# doubled ten times into a 7 MB block, repeated.
tt_chargen_expect() {
    local n=$1 start=$2 block=$TS_TMP/chargen.block i
    LC_ALL=C awk -v s="$start" 'BEGIN {
        for (l = 0; l < 95; l++) {
            line = ""
            for (c = 0; c < 72; c++) line = line sprintf("%c", 32 + (s - 32 + l + c) % 95)
            printf "%s\r\n", line
        } }' >"$block"
    for ((i = 0; i < 10; i++)); do
        cat "$block" "$block" >"$block.2" && mv -f "$block.2" "$block"
    done
    for ((i = 0; i <= n / (7030 * 1024); i++)); do cat "$block"; done | head -c "$n"
    rm -f "$block"
}

test_tcp_chargen() {
    local first start want got count rc t0 secs a
    ts_section "TCP chargen: 100 MiB to the host$(tt_mode)"
    first=$TS_TMP/chargen.first
    ts_nsrun "$TT_NS" 10 bash -c 'nc -d "$1" 19 | head -c 7400' tt-chargen \
        "$TT_STACK_IP" >"$first"
    head -n 2 "$first" | tr -d '\r' | sed 's/^/#   /'
    check "chargen: first 100 lines are RFC 864 lines (72 printable in sequence, CRLF, rotating)" \
        tt_chargen_lines_ok "$first" 100
    start=$(od -An -tu1 -N1 "$first" | tr -d ' ')
    [ -n "$start" ] || start=32
    want=$(tt_chargen_expect "$TT_BULK" "$start" | sha256sum | cut -d' ' -f1)
    rm -f "$TS_TMP/chargen.fifo"
    mkfifo "$TS_TMP/chargen.fifo"
    timeout 90 sh -c 'sha256sum <"$1" >"$2"' tt-sha "$TS_TMP/chargen.fifo" \
        "$TS_TMP/chargen.sha" &
    tt_snap; a=$TT_SNAP
    t0=$(date +%s.%N)
    count=$(ts_nsrun "$TT_NS" 60 bash -c \
        'nc -d "$1" 19 | head -c "$2" | tee "$3" | wc -c' tt-chargen \
        "$TT_STACK_IP" "$TT_BULK" "$TS_TMP/chargen.fifo")
    rc=$?
    secs=$(tt_since "$t0")
    wait $!
    got=$(cut -d' ' -f1 "$TS_TMP/chargen.sha")
    echo "#   100 MiB from chargen in $secs s: $(tt_rate "$TT_BULK" "$secs")"
    check_eq "chargen 100 MiB: byte count" "${count:-0}" "$TT_BULK"
    echo "#   sha256 want $(cut -c1-16 <<<"$want")... got $(cut -c1-16 <<<"$got")..."
    check "chargen 100 MiB: SHA-256 of the RFC 864 pattern" test "$got" = "$want"
    check_eq "chargen 100 MiB: pipeline ended within its time limit" "$rc" 0
    tt_snap
    tt_check_super "chargen" "$a" "$TT_SNAP" tx_super_frames
    test_tcp_daytime
}

# daytime: the stack sends a line and closes first, so it is the one left
# in TIME-WAIT (RFC 9293 §3.6), for 2 MSL.
test_tcp_daytime() {
    local got i tw="" now=""
    tt_wait_no_conns 5              # the chargen connections are gone
    got=$(tt_nc 10 -d "$TT_STACK_IP" 13 2>&1 | tr -d '\r')
    echo "#   daytime: $got"
    check "daytime: one line with the date and time" \
        grep -qE '^[A-Z][a-z]+day, [A-Z][a-z]+ [0-9]{2}, [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}' <<<"$got"
    for ((i = 0; i < 15; i++)); do
        tt_snap
        tw=$(ts_counter "$TT_SNAP" tcp conns_time_wait)
        now=$(ts_counter "$TT_SNAP" tcp conns_now)
        [ "$tw" = 1 ] && [ "$now" = 1 ] && break
        sleep 0.2
    done
    check "daytime: the stack closed first: its connection is in TIME-WAIT (conns_now $now, conns_time_wait $tw)" \
        test "$tw" = 1 -a "$now" = 1
}

# ---- 5. echo under loss, duplication, reordering (faults) -------------------

test_tcp_faults() {
    local a b in=$TS_TMP/faults.in out=$TS_TMP/faults.out rc t0 secs left n
    ts_section "TCP echo: $TT_FAULTS_MIB MiB with --loss 0.05 --dup 0.02 --reorder 0.05"
    head -c $((TT_FAULTS_MIB * TT_MIB)) /dev/urandom >"$in"
    tt_snap; a=$TT_SNAP
    t0=$(date +%s.%N)
    tt_nc 90 -N "$TT_STACK_IP" 7 <"$in" >"$out" 2>"$TS_TMP/faults.err"
    rc=$?
    secs=$(tt_since "$t0")
    tt_wait_no_conns 15
    left=$TT_LEFT b=$TT_SNAP
    echo "#   $TT_FAULTS_MIB MiB echoed in $secs s: $(tt_rate $((2 * TT_FAULTS_MIB * TT_MIB)) "$secs") both ways"
    for n in retransmits fast_retransmits rto_expired dup_acks rx_ooo_segments out_of_window; do
        printf '#   tcp %s +%s\n' "$n" "$(ts_delta "$a" "$b" tcp "$n")"
    done
    awk '/^faults:$/ { on = 1; next } /^[a-z]+:$/ { on = 0 }
         on && $2 != 0 { printf "#   faults %s %s\n", $1, $2 }' "$b"
    check_eq "lossy echo $TT_FAULTS_MIB MiB: nc exit status (124 = timed out after 90 s)" "$rc" 0
    check "lossy echo $TT_FAULTS_MIB MiB: received bytes have the SHA-256 of those sent" \
        tt_same_file "$in" "$out"
    check_ge "lossy echo: the stack retransmitted (tcp retransmits)" \
        "$(ts_delta "$a" "$b" tcp retransmits)" 1
    check_ge "lossy echo: frames were really dropped (faults rx.dropped + tx.dropped)" \
        "$(( $(ts_delta "$a" "$b" faults rx.dropped) + $(ts_delta "$a" "$b" faults tx.dropped) ))" 1
    check_eq "lossy echo: connection released (conns_now within 15 s)" "$left" 0
    tt_faults_capture
}

# In the capture (frames as the stack sent them, before the faults), how
# often was each data segment sent? At 5% loss a segment lost more than a
# few times in a row is next to impossible: more than 10 sends of one
# sequence number means the stack resent it without cause.
tt_faults_capture() {
    local top n seq
    if ! ts_have tshark; then
        check_skip "lossy echo: retransmissions per segment" "tshark not installed"
        return
    fi
    top=$(timeout 120 tshark -n -r "$TT_FAULTS_PCAP" \
        -Y "eth.src == $TT_STACK_MAC && tcp.srcport == 7 && tcp.len > 0" \
        -T fields -e tcp.seq_raw 2>/dev/null | sort | uniq -c | sort -rn | head -n 1)
    read -r n seq <<<"$top"
    echo "#   most sent data segment: sequence number ${seq:-?}, ${n:-?} times"
    check "lossy echo: no data segment sent more than 10 times (capture)" \
        test "${n:-99999}" -le 10
}

# ---- main ----------------------------------------------------------------

tt_main() {
    local t
    ts_section "TCP (tests/integration/tcp.sh)"
    for t in nc sha256sum ss; do
        if ! ts_have "$t"; then
            check_skip "TCP tests" "$t is not installed"
            return
        fi
    done
    if ! nc -h 2>&1 | grep -q -- '-N'; then
        check_skip "TCP tests" "nc is not OpenBSD netcat (no -N)"
        return
    fi
    if [ ! -x "$BUILD/tapstack" ] || [ ! -x "$BUILD/inject" ]; then
        check "built: $BUILD/tapstack and $BUILD/inject (run make first)" false
        return
    fi
    check "namespace ts-itcp-$$" ts_netns_create ts-itcp || return
    TT_NS=$TS_NS
    check "TAP $TT_TAP set up in namespace $TT_NS" \
        ts_tap_setup "$TT_NS" "$TT_TAP" "$TT_HOST_IP/24" || return

    if tt_start main --pcap "$TT_PCAP" -v; then
        for t in test_tcp_echo test_tcp_trace test_tcp_refused test_tcp_many \
                 test_tcp_attacks; do
            tt_alive || break
            "$t"
        done
        if tt_alive; then
            tt_stop main "$TT_ARP_HELD"
            test_tcp_capture
        fi
    fi

    TT_OFFLOAD=1
    if [ "$TT_QUICK" != 1 ] && tt_start bulk; then
        for t in test_tcp_discard test_tcp_chargen; do
            tt_alive || break
            "$t"
        done
        tt_alive && tt_stop bulk
    fi
    TT_OFFLOAD=0
    if [ "$TT_QUICK" != 1 ] && tt_start bulk-plain --no-offload; then
        for t in test_tcp_discard test_tcp_chargen; do
            tt_alive || break
            "$t"
        done
        tt_alive && tt_stop bulk-plain
    fi
    TT_OFFLOAD=1

    if tt_start faults --loss 0.05 --dup 0.02 --reorder 0.05 --seed 7 \
        --pcap "$TT_FAULTS_PCAP"; then
        tt_alive && test_tcp_faults
        tt_alive && tt_stop faults
    fi
}

tt_main
if [ "$TT_STANDALONE" = 1 ]; then
    echo "# took $(ts_elapsed) s"
    ts_summary
fi
