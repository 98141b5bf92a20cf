#!/bin/bash
# run-fuzz.sh SECONDS FUZZER...: run each libFuzzer target for SECONDS on a scratch copy of its
# committed corpus (tests/fuzz/corpus/<name>/), so new inputs do not litter the tree. A crash
# stops the run: the reproducer is saved as build/fuzz/crash-<name>-*, to be added to the corpus
# once the bug is fixed. Prints one line per target and a summary.
set -u
cd "$(dirname "$0")/.."
seconds=$1; shift
failed=0
for fuzzer in "$@"; do
    name=${fuzzer##*/fuzz_}
    scratch=$(mktemp -d /tmp/pylon-fuzz-XXXXXX)
    cp tests/fuzz/corpus/"$name"/* "$scratch"/ 2>/dev/null
    log=build/fuzz/fuzz_$name.log
    if "$fuzzer" -max_total_time="$seconds" -max_len=65536 -artifact_prefix="build/fuzz/crash-$name-" \
            "$scratch" >"$log" 2>&1; then
        printf '%-28s ok   %s\n' "fuzz_$name" "$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -1)"
    else
        failed=$((failed + 1))
        printf '%-28s FAIL see %s\n' "fuzz_$name" "$log"
    fi
    rm -rf "$scratch"
done
echo "$(( $# - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
