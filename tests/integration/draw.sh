#!/bin/bash
# tests/integration/draw.sh - tapstack-draw on real captures (issue 9,
# "Pictures"), in a private namespace:
#  1. a capture of its own: tapstack with --http-root and a 2% loss on what
#     it sends (the fault injector), curl fetches 1 MiB over HTTP (so there
#     are retransmissions) and tries a closed port (RST); with --trace
#     when tapstack has it;
#  2. list, ladder and tseq of it: every SVG passes xmllint --noout; the
#     ladder of the HTTP connection has the handshake's arrows and state
#     labels, the retransmissions marked, and the 1 MiB folded into a few
#     bands so it fits a page; the refused connection's SYN and RST; the
#     tseq has a bar per data segment;
#  3. the HTML page opens in headless Chromium (run inside the namespace:
#     no network) and the screenshot is not blank (png_ink.py counts the
#     pixels that are not white);
#  4. the captures the other integration scripts kept ($BUILD/integration*.pcap,
#     when present) draw to valid SVG too;
#  5. hostile input: a garbage file exits 2 with one line; a capture cut
#     mid-frame still draws.
# Without chromium the page check is a SKIP, except in CI (CI=true), where
# tools/install-deps.sh has installed it and a missing one is a failure.
#
#   BUILD=build tests/integration/draw.sh     on its own (or sourced by run.sh)
set -u

TD_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    TD_STANDALONE=1
    # shellcheck source=tests/integration/lib.sh
    . "$TD_HERE/lib.sh"
    ts_require_env
else
    TD_STANDALONE=0
fi

TD_DRAW="$BUILD/tapstack-draw"

# count FILE STRING: occurrences of STRING in FILE.
td_count() {
    grep -o -F -- "$2" "$1" 2>/dev/null | wc -l
}

td_xml_ok() {
    local out
    out=$(xmllint --noout "$1" 2>&1) && return 0
    head -n 3 <<<"$out" | sed 's/^/#   /'
    return 1
}

# The capture of section 1 into $TD_PCAP (and $TD_TRACE when supported).
td_capture() {
    local ns=$1 root="$TS_TMP/draw-www" trace_args=()
    mkdir -p "$root" && head -c 1048576 /dev/urandom >"$root/one.bin"
    TD_PCAP="$TS_TMP/draw.pcap"
    TD_TRACE=""
    if "$BUILD/tapstack" --help 2>/dev/null | grep -q -- '--trace'; then
        TD_TRACE="$TS_TMP/draw.jsonl"
        trace_args=(--trace "$TD_TRACE")
    fi
    if ! ts_stack_start "$ns" draw --iface tap0 --host-addr 10.0.0.1/24 \
        --addr 10.0.0.2/24 --http-root "$root" --pcap "$TD_PCAP" \
        --loss 0.02 --fault-dir tx --seed 5 "${trace_args[@]}"; then
        check "draw: tapstack starts with --pcap and --loss" false
        return 1
    fi
    ts_nsrun "$ns" 120 curl -sf --retry 3 -o "$TS_TMP/one.got" http://10.0.0.2/one.bin
    check "draw: curl fetched 1 MiB through 2% loss, byte-exact" \
        cmp -s "$root/one.bin" "$TS_TMP/one.got"
    ts_nsrun "$ns" 10 curl -s -o /dev/null http://10.0.0.2:81/ 2>/dev/null
    ts_stack_stop TERM
    check_eq "draw: tapstack exits 0 on SIGTERM" "$TS_STACK_RC" 0
    [ -s "$TD_PCAP" ]
}

td_ladder() {
    local svg="$TS_TMP/ladder80.svg" h rows
    check "draw: ladder --port 80 exits 0" \
        "$TD_DRAW" ladder --port 80 ${TD_TRACE:+--trace "$TD_TRACE"} -o "$svg" "$TD_PCAP"
    check "draw: ladder --port 80 is valid XML (xmllint)" td_xml_ok "$svg"
    for st in SYN-SENT SYN-RECEIVED ESTABLISHED; do
        check_ge "draw: ladder labels $st" "$(td_count "$svg" ">$st<")" 1
    done
    check_ge "draw: ladder has a SYN arrow" "$(td_count "$svg" '>SYN seq=0 ')" 1
    check_ge "draw: ladder has the SYN,ACK" "$(td_count "$svg" '>SYN,ACK seq=0 ack=1 ')" 1
    check_ge "draw: ladder has a FIN" "$(td_count "$svg" 'FIN,')" 1
    check_ge "draw: ladder marks retransmissions (2% loss), one by one or in a band" \
        "$(( $(td_count "$svg" 'RETRANSMIT ') + $(td_count "$svg" 'resent (→') ))" 1
    check_ge "draw: ladder folds the bulk data into bands" \
        "$(td_count "$svg" 'segments folded')" 1
    h=$(sed -n 's/.*<svg [^>]*height="\([0-9]*\)".*/\1/p' "$svg" | head -n 1)
    rows=$(td_count "$svg" 'class="seg')
    echo "#   ladder of the 1 MiB connection: ${h:-?} px high, $rows arrows"
    check "draw: 1 MiB ladder fits a few pages (< 20000 px)" test "${h:-99999}" -lt 20000
    svg="$TS_TMP/ladder81.svg"
    check "draw: ladder --port 81 (refused) exits 0" \
        "$TD_DRAW" ladder --port 81 -o "$svg" "$TD_PCAP"
    check "draw: ladder --port 81 is valid XML" td_xml_ok "$svg"
    check_ge "draw: refused connection: SYN then RST" "$(td_count "$svg" '>RST,ACK seq=0 ack=1 ')" 1
    check_ge "draw: refused connection: CLOSED" "$(td_count "$svg" '>CLOSED<')" 1
    svg="$TS_TMP/ladder-all.svg"
    check "draw: ladder of every connection" "$TD_DRAW" ladder -o "$svg" "$TD_PCAP"
    check "draw: ladder of every connection is valid XML" td_xml_ok "$svg"
}

td_tseq() {
    local svg="$TS_TMP/tseq.svg"
    check "draw: tseq --port 80 exits 0" \
        "$TD_DRAW" tseq --port 80 ${TD_TRACE:+--trace "$TD_TRACE"} -o "$svg" "$TD_PCAP"
    check "draw: tseq is valid XML (xmllint)" td_xml_ok "$svg"
    check_ge "draw: tseq has a bar per data segment (>= 719 for 1 MiB)" \
        "$(td_count "$svg" '<line x1=')" 719
    check_ge "draw: tseq marks resent data" "$(td_count "$svg" 'class="rx"')" 1
    check_eq "draw: tseq has the ACK line" "$(td_count "$svg" 'class="ack"')" 1
    check "draw: list shows the HTTP connection with 1 MiB from the server" \
        awk '$3 == "10.0.0.2:80" && $6 >= 1048576 { found = 1 } END { exit !found }' \
        <<<"$("$TD_DRAW" list "$TD_PCAP")"
}

# Screenshot OUT.html in headless Chromium (inside namespace NS: it cannot
# reach any network); prints png_ink.py's line.
td_screenshot() {
    local ns=$1 html=$2 png=$3 browser
    browser=$(command -v chromium || command -v chromium-browser)
    ts_nsrun "$ns" 90 "$browser" --headless --no-sandbox --disable-gpu \
        --no-first-run --hide-scrollbars --user-data-dir="$TS_TMP/chromium" \
        --window-size=1600,1000 --screenshot="$png" "file://$html" \
        >"$TS_TMP/chromium.log" 2>&1
    [ -s "$png" ] && python3 "$TD_HERE/png_ink.py" "$png"
}

td_html() {
    local ns=$1 html="$TS_TMP/draw.html" png="$TS_TMP/draw.png" ink
    check "draw: --html exits 0" \
        "$TD_DRAW" --html "$html" ${TD_TRACE:+--trace "$TD_TRACE"} "$TD_PCAP"
    check_ge "draw: the page lists every frame" \
        "$(td_count "$html" '<tr id="f')" "$(tshark -r "$TD_PCAP" 2>/dev/null | wc -l)"
    if [ -n "$TD_TRACE" ]; then
        check_ge "draw: frames link to trace lines" "$(td_count "$html" 'href="#t')" 1
    fi
    if ! ts_have chromium && ! ts_have chromium-browser; then
        if [ "${CI:-}" = true ]; then
            check "draw: chromium installed (tools/install-deps.sh)" false
        else
            check_skip "draw: HTML page in headless Chromium" "chromium not installed"
        fi
        return 0
    fi
    ink=$(td_screenshot "$ns" "$html" "$png")
    echo "#   screenshot 'WIDTH HEIGHT INK COLOURED': ${ink:-none}; log: $(grep -c . "$TS_TMP/chromium.log") lines"
    check "draw: Chromium wrote a screenshot of the page" test -s "$png"
    check "draw: screenshot is not blank (> 2% ink, > 0.2% colour)" \
        awk -v l="${ink:-0 0 0 0}" 'BEGIN { split(l, a, " "); exit !(a[3] > 0.02 && a[4] > 0.002) }'
}

td_other_captures() {
    local p n=0 name
    for p in "$BUILD"/integration*.pcap; do
        [ -s "$p" ] || continue
        name=$(basename "$p" .pcap)
        n=$((n + 1))
        check "draw: ladder of $name.pcap is valid XML" \
            sh -c "\"$TD_DRAW\" ladder -o \"$TS_TMP/$name.svg\" \"$p\" && xmllint --noout \"$TS_TMP/$name.svg\""
        if "$TD_DRAW" list "$p" | grep -q '^[0-9]'; then
            check "draw: tseq of $name.pcap is valid XML" \
                sh -c "\"$TD_DRAW\" tseq -o \"$TS_TMP/$name-t.svg\" \"$p\" && xmllint --noout \"$TS_TMP/$name-t.svg\""
        fi
        check "draw: --html of $name.pcap" "$TD_DRAW" --html "$TS_TMP/$name.html" "$p"
    done
    [ "$n" -gt 0 ] || echo "#   no \$BUILD/integration*.pcap kept yet: section 4 has nothing to draw"
}

td_hostile() {
    local out rc size
    head -c 4096 /dev/urandom >"$TS_TMP/garbage.pcap"
    out=$("$TD_DRAW" ladder "$TS_TMP/garbage.pcap" 2>&1 >/dev/null)
    rc=$?
    echo "#   garbage: exit $rc: $out"
    check_eq "draw: a garbage file exits 2" "$rc" 2
    check_eq "draw: with one line on stderr" "$(grep -c . <<<"$out")" 1
    size=$(stat -c %s "$TD_PCAP")
    head -c $((size / 2 + 7)) "$TD_PCAP" >"$TS_TMP/cut.pcap"
    check "draw: a capture cut mid-frame still draws valid SVG" \
        sh -c "\"$TD_DRAW\" ladder -o \"$TS_TMP/cut.svg\" \"$TS_TMP/cut.pcap\" 2>/dev/null && xmllint --noout \"$TS_TMP/cut.svg\""
    out=$("$TD_DRAW" ladder --conn 0 "$TD_PCAP" 2>&1 >/dev/null)
    rc=$?
    check_eq "draw: --conn 0 exits 2" "$rc" 2
    check_eq "draw: --conn 0: one line on stderr" "$(grep -c . <<<"$out")" 1
}

td_run() {
    local ns
    ts_section "tapstack-draw (draw.sh)"
    if [ ! -x "$TD_DRAW" ] || ! ts_have xmllint || ! ts_have curl; then
        check_skip "tapstack-draw" "build/tapstack-draw, xmllint or curl missing"
        return 0
    fi
    ts_netns_create ts-idraw || return 0
    ns=$TS_NS
    td_capture "$ns" || return 0
    echo "#   capture: $(tshark -r "$TD_PCAP" 2>/dev/null | wc -l) frames${TD_TRACE:+, trace: $(grep -c . "$TD_TRACE") lines}"
    td_ladder
    td_tseq
    td_html "$ns"
    td_other_captures
    td_hostile
}

td_run
if [ "$TD_STANDALONE" = 1 ]; then
    ts_summary
fi
