#!/usr/bin/env bash
# tests/fuzz/cov.sh - the coverage the fuzz corpora reach (make fuzz-cov).
#
#   tests/fuzz/cov.sh TARGET...      (FUZZ_DIR=build/fuzz)
#
# Runs build/fuzz/cov/fuzz_TARGET (built with -fprofile-instr-generate
# -fcoverage-mapping) once over every input of tests/fuzz/corpus/TARGET/
# and build/fuzz/corpus/TARGET/, then reports with llvm-cov the coverage of
# the stack's own sources (core, eth, arp, ipv4, udp, tcp, socket_api and
# the HTTP parser; not the harness): one line per target, one for all
# targets together, and the per-file table in build/fuzz/cov/report.txt.
set -u
cd "$(dirname "$0")/../.." || exit 2
dir=${FUZZ_DIR:-build/fuzz}/cov
prof=$(command -v llvm-profdata-14 || command -v llvm-profdata)
cov=$(command -v llvm-cov-14 || command -v llvm-cov)
if [ -z "$prof" ] || [ -z "$cov" ]; then
    echo "fuzz-cov: SKIP (no llvm-profdata/llvm-cov: apt-get install llvm-14)"
    exit 0
fi
ignore='tests/|tools/lib/ts_(http|services|app)\.c'
objs=()
raws=()
for t in "$@"; do
    bin=$dir/fuzz_$t
    mkdir -p "build/fuzz/corpus/$t"
    rm -f "$dir/$t.profraw"
    LLVM_PROFILE_FILE="$dir/$t.profraw" "$bin" -runs=0 \
        "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$dir/$t.log" 2>&1
    "$prof" merge -sparse "$dir/$t.profraw" -o "$dir/$t.profdata"
    total=$("$cov" report "$bin" -instr-profile="$dir/$t.profdata" \
        -ignore-filename-regex="$ignore" | grep '^TOTAL')
    read -r _ _ _ rcov _ _ fcov _ _ lcov _ <<<"$total"
    printf 'fuzz_%s: lines %s, functions %s, regions %s (%s inputs)\n' "$t" \
        "$lcov" "$fcov" "$rcov" "$(grep -oE 'INITED.*corp: [0-9]+' "$dir/$t.log" | grep -oE '[0-9]+$')"
    objs+=(-object "$bin")
    raws+=("$dir/$t.profraw")
done
"$prof" merge -sparse "${raws[@]}" -o "$dir/all.profdata"
"$cov" report "${objs[@]}" -instr-profile="$dir/all.profdata" \
    -ignore-filename-regex="$ignore" >"$dir/report.txt"
read -r _ _ _ rcov _ _ fcov _ _ lcov _ <<<"$(grep '^TOTAL' "$dir/report.txt")"
echo "all targets: lines $lcov, functions $fcov, regions $rcov (per file: $dir/report.txt)"
# Lines per directory (layer), all targets together.
awk '$1 ~ /\// { d = $1; sub(/\/[^\/]*$/, "", d); l[d] += $8; m[d] += $9 }
     END { for (d in l) printf "  %-11s lines %6.2f%% (%d of %d)\n", d,
           100 * (l[d] - m[d]) / l[d], l[d] - m[d], l[d] }' "$dir/report.txt" | sort
