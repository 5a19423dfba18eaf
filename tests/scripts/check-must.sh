#!/bin/bash
# tests/scripts/check-must.sh - keep docs/rfc9293-must.md honest: every
# test the matrix names must exist. A CUnit test is written `suite/test_x`
# in backticks (a tests/unit/ file with TS_SUITE(suite, ...) and
# TS_TEST(test_x); arp_test_x and the like too); a
# script is written `name.pkt` (tests/scripts/name.pkt). Exits 1 and names
# each missing one; prints how many references it checked.
set -u
cd "$(dirname "$0")/../.." || exit 2
doc=docs/rfc9293-must.md
[ -f "$doc" ] || { echo "check-must: $doc missing"; exit 1; }
bad=0 n=0
for s in $(grep -o '[A-Za-z0-9_.-]*\.pkt' "$doc" | sort -u); do
    n=$((n + 1))
    [ -f "tests/scripts/$s" ] || { echo "check-must: no script tests/scripts/$s"; bad=1; }
done
for ref in $(grep -oE '`[a-z0-9_]+/[a-z0-9_]*test_[A-Za-z0-9_]+`' "$doc" | tr -d '`' | sort -u); do
    n=$((n + 1))
    suite=${ref%%/*} test=${ref#*/}
    files=$(grep -lE "TS_SUITE\(${suite}," tests/unit/*.c)
    if [ -z "$files" ] || ! grep -qE "TS_TEST\(${test}\)" $files; then
        echo "check-must: no CUnit test $ref"; bad=1
    fi
done
[ "$n" -gt 0 ] || { echo "check-must: $doc names no test"; exit 1; }
echo "check-must: $n references checked, $([ $bad = 0 ] && echo all exist || echo some missing)"
exit $bad
