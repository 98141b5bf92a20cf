#!/bin/bash
# run-bench.sh BUILD: run every benchmark of an optimised build, one after the other (they
# would disturb each other on two cores), and keep what they print in BUILD/bench-results.txt.
# Each benchmark prints the command that produced its figures; docs/benchmarks.md and the
# README quote them.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
out=$build/bench-results.txt
: > "$out"
{
    echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -m), $(git rev-parse --short HEAD 2>/dev/null)"
    for b in "$build"/bench/bench_*; do
        [ -x "$b" ] || continue
        echo
        echo "== ${b##*/}"
        "$b" || echo "(${b##*/} failed: exit $?)"
    done
} 2>&1 | tee "$out"
echo
echo "figures kept in $out"
