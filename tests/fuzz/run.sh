#!/usr/bin/env bash
# tests/fuzz/run.sh - run libFuzzer targets one after the other (make fuzz).
#
#   tests/fuzz/run.sh TARGET...      (FUZZ_DIR=build/fuzz FUZZ_TIME=30)
#
# Each target, build/fuzz/fuzz_TARGET, runs for FUZZ_TIME seconds (or, with
# FUZZ_RUNS=N, for N executions, however long they take), one process,
# niced, from two corpus directories: build/fuzz/corpus/TARGET/
# (where new inputs go, kept between runs) and tests/fuzz/corpus/TARGET/
# (the committed seeds and regression inputs: every one is replayed first,
# so an input that once crashed fails the run if the bug comes back).
# A crash, leak, time-out (FUZZ_TIMEOUT s for one input) or out-of-memory
# fails the target; libFuzzer writes the input to
# build/fuzz/artifacts/TARGET-crash-..., -leak-, -timeout-, -oom-.
# One line per target: result, executions, coverage (cov: edges, ft:
# features) and corpus size; the full log is build/fuzz/TARGET.log. The
# last line is "fuzz: N passed, N failed"; the exit status is 1 when any
# failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
dir=${FUZZ_DIR:-build/fuzz}
secs=${FUZZ_TIME:-30}
limit=(-max_total_time="$secs")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
tmo=${FUZZ_TIMEOUT:-10}
pass=0
fail=0

# The largest input worth trying, per target (a frame for the one-frame
# targets; a program of records for the others).
max_len() {
    case "$1" in
    frame|arp) echo 1514 ;;
    http) echo 9000 ;;
    *) echo 8192 ;;
    esac
}

# "key: value" of libFuzzer's last status line (#N DONE cov: ...).
field() {
    grep -E '^#[0-9]+' "$2" | tail -1 | sed -n "s/.* $1: \([0-9]*\).*/\1/p"
}

mkdir -p "$dir/artifacts"
for t in "$@"; do
    bin=$dir/fuzz_$t
    log=$dir/$t.log
    work=$dir/corpus/$t
    seeds=tests/fuzz/corpus/$t
    mkdir -p "$work" "$seeds"
    if [ ! -x "$bin" ]; then
        echo "fuzz_$t: FAIL (no $bin: make fuzz-build)"
        fail=$((fail + 1))
        continue
    fi
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
    start=$SECONDS
    nice -n 10 "$bin" "${limit[@]}" -timeout="$tmo" \
        -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/$t-" "${dict[@]}" \
        "$work" "$seeds" >"$log" 2>&1
    rc=$?
    took=$((SECONDS - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(field cov "$log")
    ft=$(field ft "$log")
    corp=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    what=PASS
    if [ "$rc" -ne 0 ]; then
        what="FAIL ($(grep -m1 -oE 'ERROR: [A-Za-z]+: [^ ]+( [^ ]+)?|fuzz invariant broken: [^(]*|ALARM: working on the last Unit for [0-9]+ seconds|out-of-memory' "$log" || echo "exit $rc"))"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
    printf 'fuzz_%s: %s, %s runs in %s s, cov: %s ft: %s, corpus %s\n' \
        "$t" "$what" "${execs:-0}" "$took" "${cov:-?}" "${ft:-?}" "${corp:-?}"
    if [ "$rc" -ne 0 ]; then
        grep -m1 -E 'Test unit written to' "$log"
        echo "  (log: $log)"
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
