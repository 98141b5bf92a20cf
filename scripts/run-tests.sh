#!/bin/bash
# run-tests.sh BUILD: run every test program of a build and print one summary line.
#
# Every test speaks TAP ("ok N - name" / "not ok N - name" at the start of a line): the cmocka
# unit tests (CMOCKA_MESSAGE_OUTPUT=TAP), the corpus replays, and the integration tests in
# tests/integration (shell or node scripts that start real processes). A program that exits
# non-zero without a failing line (a crash, a sanitizer report, a timeout) counts as one failure.
# Logs: BUILD/test-logs/<program>.log.
set -u
cd "$(dirname "$0")/.."
build=${1:-build/san}
logs=$build/test-logs
mkdir -p "$logs"
export PYLON_BUILD=$build CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 failed_programs=()

run() {  # run NAME TIMEOUT COMMAND...
    local name=$1 limit=$2; shift 2
    local log=$logs/$name.log
    timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
    local rc=$?
    local ok bad
    ok=$(grep -c '^ok ' "$log")
    bad=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    if [ "$rc" -eq 0 ] && [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then ok=1; fi  # a replay: ran clean
    passed=$((passed + ok)) failed=$((failed + bad))
    if [ "$bad" -gt 0 ]; then
        failed_programs+=("$name")
        printf '%-34s %4d passed %4d failed (exit %d)  see %s\n' "$name" "$ok" "$bad" "$rc" "$log"
        grep -E '^not ok |ERROR: |runtime error' "$log" | head -5 | sed 's/^/    /'
    else
        printf '%-34s %4d passed\n' "$name" "$ok"
    fi
}

for t in "$build"/tests/test_*; do
    [ -x "$t" ] && run "$(basename "$t")" 600 "$t"
done
for r in "$build"/tests/replay_*; do
    [ -x "$r" ] || continue
    name=${r##*/replay_}
    [ -d "tests/fuzz/corpus/$name" ] || { echo "replay_$name: no corpus in tests/fuzz/corpus/$name"; failed=$((failed + 1)); continue; }
    run "replay_$name" 600 "$r" "tests/fuzz/corpus/$name"
done
for i in tests/integration/*; do
    case $i in
        *.sh) run "$(basename "$i")" 900 bash "$i" ;;
        *.mjs) run "$(basename "$i")" 900 node "$i" ;;
    esac
done

echo
if [ "$failed" -gt 0 ]; then echo "failed: ${failed_programs[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
