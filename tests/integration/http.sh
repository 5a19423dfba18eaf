#!/bin/bash
# tests/integration/http.sh - tapstack's HTTP server and UDP services
# against the host's curl and nc -u, in a private namespace (issue 4):
#  1. curl fetches a 50 MiB file from --http-root byte-exact (SHA-256);
#  2. 100 concurrent curl requests all succeed with the right bytes;
#  3. path traversal (.., %2e%2e) never returns a file outside the root;
#  4. nc -u round-trips datagrams through UDP echo, 8,000-byte ones too
#     (IP fragments both ways);
#  5. a closed UDP port draws ICMP port unreachable (counted by the stack,
#     seen by nc -u as a refused connection).
#
#   BUILD=build tests/integration/http.sh     on its own (or sourced by run.sh)
set -u

TH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TH_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TH_HERE/lib.sh"
    ts_require_env
else
    TH_STANDALONE=0
fi

th_run() {
    local root="$TS_TMP/www" ns
    ts_section "HTTP and UDP services (http.sh)"
    if ! ts_have curl || ! ts_have nc; then
        check_skip "HTTP and UDP services" "curl or nc missing"
        return 0
    fi
    ts_netns_create ts-ihttp || return 0
    ns=$TS_NS
    mkdir -p "$root/sub" && echo "secret" > "$TS_TMP/outside.txt"
    head -c 52428800 /dev/urandom > "$root/big.bin"
    echo "hello from tapstack" > "$root/index.html"
    ln -s "$TS_TMP/outside.txt" "$root/sub/escape"
    if ! ts_stack_start "$ns" http --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --http-root "$root"; then
        check "HTTP: tapstack starts with --http-root" false
        return 0
    fi
    local before="$TS_TMP/http-before" after="$TS_TMP/http-after"
    ts_counters "$before"
    # 1. 50 MiB byte-exact.
    ts_nsrun "$ns" 120 curl -sf -o "$TS_TMP/got.bin" http://10.0.0.2/big.bin
    check "HTTP: curl 50 MiB exit 0" [ $? -eq 0 ]
    check "HTTP: 50 MiB byte-exact (SHA-256)" \
        [ "$(sha256sum < "$root/big.bin")" = "$(sha256sum < "$TS_TMP/got.bin" 2>/dev/null)" ]
    # 2. 100 concurrent requests.
    local i ok=0 pids=""
    for i in $(seq 1 100); do
        ts_nsrun "$ns" 60 curl -sf -o "$TS_TMP/c$i" http://10.0.0.2/index.html &
        pids="$pids $!"
    done
    # shellcheck disable=SC2086 # one PID a word; a bare wait would also
    # wait for the stack and its watchdog
    wait $pids
    for i in $(seq 1 100); do
        cmp -s "$TS_TMP/c$i" "$root/index.html" && ok=$((ok + 1))
    done
    check_eq "HTTP: 100 concurrent curl requests answered byte-exact" "$ok" 100
    # 3. traversal.
    local leaked=0 p code
    for p in "/../outside.txt" "/%2e%2e/outside.txt" "/sub/..%2f..%2foutside.txt" \
             "/sub/escape" "/%2E%2E/%2E%2E/etc/passwd"; do
        code=$(ts_nsrun "$ns" 10 curl -s --path-as-is -o "$TS_TMP/t" -w '%{http_code}' "http://10.0.0.2$p")
        grep -q secret "$TS_TMP/t" 2>/dev/null && leaked=$((leaked + 1))
        grep -q root: "$TS_TMP/t" 2>/dev/null && leaked=$((leaked + 1))
        case "$code" in 4*) ;; *) leaked=$((leaked + 1)) ;; esac
    done
    check_eq "HTTP: traversal attempts all refused with 4xx, nothing leaked" "$leaked" 0
    # 4. UDP echo, small and 8,000 bytes.
    echo "udp hello" > "$TS_TMP/u1"
    head -c 8000 /dev/urandom | base64 -w0 | head -c 8000 > "$TS_TMP/u2"
    local f
    for f in u1 u2; do
        ts_nsrun "$ns" 5 nc -u -w 1 10.0.0.2 7 < "$TS_TMP/$f" > "$TS_TMP/$f.back"
        check "UDP echo: $(stat -c %s "$TS_TMP/$f")-byte datagram back intact" \
            cmp -s "$TS_TMP/$f" "$TS_TMP/$f.back"
    done
    # 5. closed port: ICMP port unreachable.
    echo x | ts_nsrun "$ns" 5 nc -u -w 1 10.0.0.2 5555 > /dev/null 2>&1
    ts_counters "$after"
    check_ge "UDP: closed port counted (udp drop_no_port)" \
        "$(ts_delta "$before" "$after" udp drop_no_port)" 1
    check_ge "UDP: ICMP port unreachable sent (icmp tx_errors)" \
        "$(ts_delta "$before" "$after" icmp tx_errors)" 1
    ts_stack_stop TERM
    check_eq "HTTP: SIGTERM exit status" "$TS_STACK_RC" 0
}

th_run
if [ "$TH_STANDALONE" = 1 ]; then
    ts_summary
fi
