#!/bin/bash
# tests/integration/asan.sh - the integration hostile battery and a short
# TCP suite against tapstack built with AddressSanitizer + UBSan (issue 10).
#
#   make asan-integration        (part of make check; builds build/asan-int/
#                                 with clang and make asan's flags)
#   BUILD=build/asan-int tests/integration/asan.sh
#
# Runs tests/integration/run.sh with TS_PARTS="main tcp": the main instance
# (ping, fragments, IP options, the whole hostile battery of build/inject,
# the limits, an ARP flood of ASAN_FLOOD frames, the capture) and the TCP
# suite in its short form (TT_QUICK=1: echo, the trace, refused, TT_CONNS
# connections, the RST storm and SYN flood at reduced counts, 1 MiB under
# loss/dup/reorder; no 100 MiB bulk instance). Every program of $BUILD
# (tapstack, inject) runs with
#   ASAN_OPTIONS  halt_on_error=1, detect_leaks=1, log_path=<temp dir>/asan
#   UBSAN_OPTIONS halt_on_error=1, print_stacktrace=1, log_path=<temp dir>/ubsan
# so the first report stops the program, and the run fails when run.sh
# fails or when any report file was written (its head is printed). Host
# tools (ping, nc, tshark) are not instrumented and ignore these settings.
# Needs what run.sh needs; without root it prints SKIP and passes.
set -u

: "${BUILD:=build/asan-int}"
HERE=$(cd "$(dirname "$0")" && pwd)

for b in tapstack inject; do
    if [ ! -x "$BUILD/$b" ]; then
        echo "FAIL - not built: $BUILD/$b (run make asan-integration)"
        exit 1
    fi
done
if ! nm "$BUILD/tapstack" 2>/dev/null | grep -q __asan_init; then
    echo "FAIL - $BUILD/tapstack is not built with AddressSanitizer"
    exit 1
fi

SAN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ts-asan.$$.XXXXXX") || exit 1
trap 'rm -rf "$SAN_DIR"' EXIT
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$SAN_DIR/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SAN_DIR/ubsan"

echo "# sanitizer reports go to $SAN_DIR (kept only on failure)"
BUILD=$BUILD TS_PARTS="main tcp" FLOOD=${ASAN_FLOOD:-5000} TT_QUICK=1 \
    TT_CONNS=${TT_CONNS:-100} TT_SYNS=${TT_SYNS:-2000} TT_RSTS=${TT_RSTS:-1000} \
    "$HERE/run.sh"
rc=$?

reports=$(find "$SAN_DIR" -type f 2>/dev/null)
if [ -n "$reports" ]; then
    for f in $reports; do
        echo "# --- sanitizer report $f:"
        head -n 40 "$f" | sed 's/^/#   /'
    done
    echo "FAIL - sanitizer reports: $(grep -c '' <<<"$reports") file(s)"
    trap - EXIT
    exit 1
fi
echo "ok   - no AddressSanitizer or UBSan report from $BUILD/tapstack or $BUILD/inject"
exit "$rc"
