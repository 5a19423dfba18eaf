#!/bin/bash
# tests/integration/cpython.sh - CPython's own socket test suites, unmodified
# (Debian's libpython3.11-testsuite), on tapstack through tapstack-run, held
# against the same selection on the kernel in the same namespace:
#  - test_socketserver and test_selectors, whole;
#  - the IPv4 TCP/UDP classes of test_socket (TS_PY_CLASSES below).
# The namespace's kernel has only lo (IPv6 off: tapstack serves IPv4, so
# the IPv6 tests skip on both sides alike); tapstack runs on a TAP whose
# kernel side has no address, so every socket the tests open on the stack
# talks to the stack's own loopback (127.0.0.1). The check fails unless every
# test that passes on the kernel passes on tapstack too; a test tapstack
# skips where the kernel does not is a failure, not a skip. Both counts are
# printed, and the tests that differ are named.
#
#   BUILD=build tests/integration/cpython.sh   on its own (or sourced by run.sh)
set -u

TY_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TY_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TY_HERE/lib.sh"
    ts_require_env
else
    TY_STANDALONE=0
fi

TY_PY=/usr/bin/python3
TY_CLASSES="BasicTCPTest BasicUDPTest NonBlockingTCPTests *FileObjectClassTestCase
    NetworkConnection* TCPTimeoutTest UDPTimeoutTest TCPCloserTest SendmsgTCPTest
    SendmsgUDPTest RecvmsgTCPTest RecvmsgUDPTest RecvmsgIntoTCPTest
    RecvmsgIntoUDPTest SendfileUsing* CreateServer* Interrupted*TimeoutTest
    ContextManagersTest InheritanceTest"

# ty_suite LABEL WRAPPER...: run the selection with `python3 -m test -v`,
# each test's verdict into $TS_TMP/py.LABEL ("id verdict" lines).
ty_suite() {
    local label=$1 m=() c
    shift
    for c in $TY_CLASSES; do
        m+=(-m "$c")
    done
    {
        ts_nsrun "$TY_NS" 300 "$@" "$TY_PY" -m test -u network -v \
            test_socketserver test_selectors
        ts_nsrun "$TY_NS" 300 "$@" "$TY_PY" -m test -u network -v test_socket \
            "${m[@]}"
    } > "$TS_TMP/py.$label.log" 2>&1
    # A verdict may come lines after its test's name (a thread's warning
    # printed in between): keep the test pending until it shows up.
    /usr/bin/python3 - "$TS_TMP/py.$label.log" > "$TS_TMP/py.$label" <<'PY'
import re, sys
out, pending = {}, None
verdict = re.compile(r"(ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$")
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\n")
    m = re.match(r"^(\w+) \(([\w.]+)\) \.\.\. ?(.*)$", line)
    if m:
        pending = m.group(2)
        line = m.group(3)
    if pending and verdict.match(line.strip()):
        v = line.strip().split()[0]
        out[pending] = {"expected": "ok"}.get(v, v)
        pending = None
for k in sorted(out):
    print(k, out[k])
PY
}

ty_count() {    # ty_count LABEL VERDICT
    awk -v v="$2" '$2 == v { n++ } END { print n + 0 }' "$TS_TMP/py.$1"
}

ty_run() {
    ts_section "CPython's socket test suites on tapstack (cpython.sh)"
    if ! [ -f /usr/lib/python3.11/test/test_socket.py ]; then
        check_skip "CPython test suites" "libpython3.11-testsuite is not installed"
        return 0
    fi
    if ! [ -x "$BUILD/tapstack-run" ]; then
        check_skip "CPython test suites" "$BUILD/tapstack-run not built"
        return 0
    fi
    ts_netns_create ts-ipy || return 0
    TY_NS=$TS_NS
    # IPv4 is what tapstack serves: IPv6 is off in this namespace, so the
    # suites skip their IPv6 tests on both sides alike.
    ts_nsrun "$TY_NS" 5 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ts_nsrun "$TY_NS" 5 sysctl -qw net.ipv6.conf.lo.disable_ipv6=1
    ts_nsrun "$TY_NS" 5 sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ty_suite kernel
    timeout 10 ip -n "$TY_NS" tuntap add dev typy0 mode tap
    ts_nsrun "$TY_NS" 5 sysctl -qw net.ipv6.conf.typy0.disable_ipv6=1
    timeout 10 ip -n "$TY_NS" link set typy0 up
    if ! ts_stack_start "$TY_NS" py --iface typy0 --addr 10.0.0.2/24 \
        --no-services --max-sockets 4096; then
        check "CPython suites: tapstack starts" false
        return 0
    fi
    ty_suite tapstack "$BUILD/tapstack-run" --iface typy0 --
    local k t
    k=$(ty_count kernel ok)
    t=$(ty_count tapstack ok)
    echo "#   kernel: $k passed, $(ty_count kernel skipped) skipped, $(wc -l < "$TS_TMP/py.kernel") run"
    echo "#   tapstack: $t passed, $(ty_count tapstack skipped) skipped, $(wc -l < "$TS_TMP/py.tapstack") run"
    check_ge "CPython suites: tests run on the kernel" "$k" 200
    # Every kernel pass must be a tapstack pass.
    join <(awk '$2 == "ok"' "$TS_TMP/py.kernel") "$TS_TMP/py.tapstack" |
        awk '$3 != "ok" { print "#   differs: " $1 " (kernel ok, tapstack " $3 ")" }' \
        > "$TS_TMP/py.diff"
    awk '$2 == "ok"' "$TS_TMP/py.kernel" | cut -d' ' -f1 > "$TS_TMP/py.kok"
    cut -d' ' -f1 "$TS_TMP/py.tapstack" > "$TS_TMP/py.tall"
    comm -23 "$TS_TMP/py.kok" "$TS_TMP/py.tall" |
        sed 's/^/#   differs: /; s/$/ (kernel ok, tapstack: not run)/' >> "$TS_TMP/py.diff"
    head -n 40 "$TS_TMP/py.diff"
    check_eq "CPython suites: every test that passes on the kernel passes on tapstack" \
        "$(wc -l < "$TS_TMP/py.diff")" 0
    ts_stack_stop TERM
    check_eq "CPython suites: tapstack's SIGTERM exit status" "$TS_STACK_RC" 0
    cp "$TS_TMP/py.tapstack.log" "$BUILD/cpython-tapstack.log" 2>/dev/null
}

ty_run
if [ "$TY_STANDALONE" = 1 ]; then
    ts_summary
fi
