#!/bin/bash
# cli_daemon.sh: the pylon command as an operator uses it, against the real binary:
# init, start, status, double start, stop, SIGTERM, kill -9 and a stale pidfile, wrong
# passphrase, --json outputs. Prints TAP.
set -u
build=${PYLON_BUILD:-build/san}
pylon="$PWD/$build/pylon"
export PYLON_CONFIG_DIR=$(mktemp -d /tmp/pylon-cli-XXXXXX)
export PYLON_RELAYS=ws://127.0.0.1:9   # nothing listens there: the node must cope
trap 'pkill -f "$pylon" 2>/dev/null; rm -rf "$PYLON_CONFIG_DIR"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
json_ok() { node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))'; }

# init: a protected identity, its npub, config written, files owner-only
out=$(PYLON_PASSPHRASE=correct-horse "$pylon" init --words 12 2>&1)
check "init prints an npub" grep -q '^npub: npub1' <<<"$out"
check "init shows the mnemonic once, with a warning" grep -q 'Write it down' <<<"$out"
check "identity and config are owner-only" test "$(stat -c %a "$PYLON_CONFIG_DIR/identity.enc" "$PYLON_CONFIG_DIR/config.toml" | sort -u)" = 600
PYLON_PASSPHRASE=other "$pylon" init >/dev/null 2>&1
check "init refuses to replace an identity without --force" test $? -eq 1
"$pylon" --json init 2>/dev/null | json_ok
check "init --json error output parses" test "${PIPESTATUS[0]}" -eq 1

# the books before any start: no ledger yet, said once, as an error
"$pylon" --json wallet > "$PYLON_CONFIG_DIR/wallet.json" 2>/dev/null
check "wallet --json with no ledger exits 1" test $? -eq 1
check "wallet --json with no ledger prints one JSON error" node -e '
  const w = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!/no ledger/.test(w.error)) process.exit(1);' "$PYLON_CONFIG_DIR/wallet.json"

# start with the wrong passphrase, then the right one
err=$(PYLON_PASSPHRASE=wrong "$pylon" start 2>&1)
check "a wrong passphrase is refused with a clear error" grep -q 'wrong passphrase' <<<"$err"
check "nothing runs after a wrong passphrase" test ! -e "$PYLON_CONFIG_DIR/pylon.pid"
PYLON_PASSPHRASE=correct-horse "$pylon" start >/dev/null
check "start detaches and returns 0" test $? -eq 0
"$pylon" status >/dev/null
check "status says online (exit 0)" test $? -eq 0
"$pylon" --json status | json_ok
check "status --json parses" test $? -eq 0
PYLON_PASSPHRASE=correct-horse "$pylon" start >/dev/null 2>&1
check "a second start is refused" test $? -eq 1
grep -q 'all actors answered' "$PYLON_CONFIG_DIR/pylon.log"
check "the actors answered the control actor's ping" test $? -eq 0
"$pylon" stop >/dev/null
check "stop returns 0" test $? -eq 0
"$pylon" status >/dev/null
check "status says offline after stop (exit 3)" test $? -eq 3
check "no pidfile, control or tap socket left" test ! -e "$PYLON_CONFIG_DIR/pylon.pid" -a ! -e "$PYLON_CONFIG_DIR/control.sock" -a ! -e "$PYLON_CONFIG_DIR/tap.sock"
out=$("$pylon" stop)
check "stop with nothing running says so and exits 0" grep -q 'not running' <<<"$out"

# SIGTERM is an ordered stop too
PYLON_PASSPHRASE=correct-horse "$pylon" start >/dev/null
pid=$(cat "$PYLON_CONFIG_DIR/pylon.pid")
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops the daemon" test ! -d "/proc/$pid"
grep -q 'signal Terminated: stopping' "$PYLON_CONFIG_DIR/pylon.log" && grep -q 'pylon stopped' "$PYLON_CONFIG_DIR/pylon.log"
check "SIGTERM became an ordered stop" test $? -eq 0

# kill -9: the pidfile stays behind, stale; status is still right, and start takes over
PYLON_PASSPHRASE=correct-horse "$pylon" start >/dev/null
pid=$(cat "$PYLON_CONFIG_DIR/pylon.pid")
kill -9 "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
"$pylon" --json status > "$PYLON_CONFIG_DIR/status.json"
check "status after kill -9 says offline (exit 3)" test $? -eq 3
check "status after kill -9 is valid JSON with online false" node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (s.online !== false) process.exit(1);' "$PYLON_CONFIG_DIR/status.json"
echo "$pid" > "$PYLON_CONFIG_DIR/pylon.pid"    # stale, as kill -9 left it
PYLON_PASSPHRASE=correct-horse "$pylon" start >/dev/null
check "start takes over a stale pidfile" test $? -eq 0
"$pylon" stop >/dev/null

# doctor: nothing answers at the configured backend and relay, so checks fail, clearly
PYLON_LLAMA_SERVER_URL=http://127.0.0.1:9 "$pylon" --json doctor > "$PYLON_CONFIG_DIR/doctor.json" 2>/dev/null
check "doctor exits 1 when a check fails" test $? -eq 1
check "doctor --json lists failing backend and relay checks" node -e '
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const fail = n => d.checks.some(c => c.check.startsWith(n) && c.result === "fail");
  const pass = n => d.checks.some(c => c.check === n && c.result === "pass");
  if (!fail("backend llamacpp:") || !fail("relay ws://127.0.0.1:9") || !pass("configuration")) process.exit(1);' "$PYLON_CONFIG_DIR/doctor.json"

# init --import on a terminal: the words typed are not echoed (script gives a terminal; the
# words are sent once the prompt shows, which is after echo is off)
tty_dir=$(mktemp -d /tmp/pylon-tty-XXXXXX)
words="legal winner thank year wave sausage worth useful legal winner thank yellow"
mkfifo "$tty_dir/in"
PYLON_CONFIG_DIR=$tty_dir script -qfec "'$pylon' init --import --no-passphrase" "$tty_dir/typescript" \
    <"$tty_dir/in" >/dev/null 2>&1 &
script_pid=$!
exec 3>"$tty_dir/in"
for _ in $(seq 300); do grep -q 'Enter the mnemonic' "$tty_dir/typescript" 2>/dev/null && break; sleep 0.1; done
echo "$words" >&3
for _ in $(seq 300); do kill -0 "$script_pid" 2>/dev/null || break; sleep 0.1; done
exec 3>&-
wait "$script_pid"
check "init --import on a terminal imports the words" grep -q '^npub: npub1' "$tty_dir/typescript"
check "init --import on a terminal does not echo the words" bash -c '! grep -q "$1" "$2"' _ "$words" "$tty_dir/typescript"
rm -rf "$tty_dir"

# help and usage
"$pylon" status --help | grep -q 'usage: pylon status'
check "every command has --help" test $? -eq 0
"$pylon" frobnicate >/dev/null 2>&1
check "an unknown command is a usage error (exit 2)" test $? -eq 2

echo "1..$n"
[ "$failed" -eq 0 ]
