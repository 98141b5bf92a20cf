#!/bin/bash
# farm_paid.sh: a paid job end to end through a farm, against the real binary: a local Nostr
# relay, a node in farm mode (pylon start, [farm] listen), two `pylon worker` processes with
# their own backend stubs, and a buyer (pylon ask --pay demo). Checks that the result comes
# back, that pylon status lists the workers with their backends, slots in use and jobs done,
# and that a worker killed while the node runs is dropped from the status. Prints TAP.
set -u
build=${PYLON_BUILD:-build/san}
pylon="$PWD/$build/pylon"
work=$(mktemp -d /tmp/pylon-farm-paid-XXXXXX)
export PYLON_CONFIG_DIR=$work/node
pids=()
cleanup() {
    "$pylon" stop >/dev/null 2>&1
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
wait_line() {     # wait_line FILE PATTERN: up to 15 s
    for _ in $(seq 150); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

node tests/node/relay.mjs --port 0 --quiet > "$work/relay.out" 2>&1 &
pids+=($!)
wait_line "$work/relay.out" '^LISTENING' || { echo "Bail out! no relay"; exit 1; }
relay_port=$(sed -n 's/^LISTENING \([0-9]*\).*/\1/p' "$work/relay.out" | head -1)
farm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The node: its farm key, two workers allowed in.
"$pylon" init --no-passphrase --words 12 > "$work/init.out" 2>/dev/null
npub=$(sed -n 's/^npub: //p' "$work/init.out")
node_key=$("$pylon" --json farm keygen | sed -n 's/.*"public_key":"\([^"]*\)".*/\1/p')
check "farm keygen prints the node's public key" test ${#node_key} -eq 40
for w in w1 w2; do
    key=$("$pylon" --config-dir "$work/$w" --json worker keygen | sed -n 's/.*"public_key":"\([^"]*\)".*/\1/p')
    "$pylon" farm allow "$w" "$key" >/dev/null
done
check "farm list shows both workers" test "$("$pylon" farm list | wc -l)" -eq 2
cat > "$PYLON_CONFIG_DIR/config.toml" <<TOML
[relays]
urls = ["ws://127.0.0.1:$relay_port"]
[backends.llamacpp]
models = ["gpt_oss_20b"]
[wallet]
backend = "demo"
[farm]
listen = "tcp://127.0.0.1:$farm_port"
heartbeat_ms = 250
liveness_ms = 1500
TOML
"$pylon" start >/dev/null
check "the node starts in farm mode" grep -q "farm broker on tcp://127.0.0.1:$farm_port" "$PYLON_CONFIG_DIR/pylon.log"

# Two workers, each with its own stub.
for w in w1 w2; do
    node tests/stubs/backend_stub.mjs --api llama --slots 2 --token-delay 20 > "$work/$w.stub" 2>&1 &
    pids+=($!)
    wait_line "$work/$w.stub" '^LISTENING' || { echo "Bail out! no stub"; exit 1; }
    port=$(sed -n 's/^LISTENING \([0-9]*\).*/\1/p' "$work/$w.stub" | head -1)
    cat > "$work/$w/config.toml" <<TOML
[backends.llamacpp]
url = "http://127.0.0.1:$port"
models = ["gpt_oss_20b"]
[farm]
node = "tcp://127.0.0.1:$farm_port"
node_key = "$node_key"
heartbeat_ms = 250
liveness_ms = 1500
TOML
    "$pylon" --config-dir "$work/$w" worker --name "$w" > "$work/$w.out" 2> "$work/$w.log" &
    pids+=($!)
done
check "worker w1 joins the node" wait_line "$work/w1.out" 'joined the node'
check "worker w2 joins the node" wait_line "$work/w2.out" 'joined the node'
for _ in $(seq 100); do
    "$pylon" --json status 2>/dev/null | grep -q '"slots":4' && break
    sleep 0.1
done

# A paid job through the farm.
out=$("$pylon" ask --to "$npub" --pay demo --max-tokens 32 --timeout 60 "Say hello." 2>&1)
check "a paid job is delivered through a worker" test $? -eq 0
status=$("$pylon" status)
echo "$status" | sed 's/^/# /'
check "pylon status lists both workers" bash -c 'grep -q "\"name\":\"w1\"" <<<"$1" && grep -q "\"name\":\"w2\"" <<<"$1"' _ "$status"
check "pylon status shows slots in use and jobs done" bash -c 'grep -q "\"in_use\":0" <<<"$1" && grep -Eq "\"done\":1" <<<"$1"' _ "$status"
check "the job router sees the farm's backend with both workers' slots" \
    bash -c 'grep -q "\"slots\":4" <<<"$1"' _ "$status"

# A worker killed: the node drops it within a few seconds.
kill -9 "${pids[-1]}"
for _ in $(seq 60); do
    "$pylon" status | grep -q '"name":"w2"' || break
    sleep 0.1
done
check "a killed worker leaves pylon status within 6 s" bash -c '! "$1" status | grep -q "\"name\":\"w2\""' _ "$pylon"
check "the node logged the worker as gone" grep -q "worker w2 (127.0.0.1) is gone" "$PYLON_CONFIG_DIR/pylon.log"
"$pylon" stop >/dev/null
check "the other worker outlives the node" kill -0 "${pids[-3]}"
check "... and says it lost the node" wait_line "$work/w1.out" 'lost the node'

echo "1..$n"
[ "$failed" -eq 0 ]
