#!/bin/bash
# demo.sh BUILD: one full local job, end to end, on embedded defaults, with nothing to set up.
#
# It starts a real Nostr relay (tests/node/relay.mjs) and an inference backend on this machine:
# a real llama.cpp server if PYLON_LLAMA_SERVER_URL points at one that answers /health, else the
# test stub of llama-server's API (tests/stubs/backend_stub.mjs, which answers with canned text:
# it is labelled as such below). Then a Pylon node with the demo wallet (regtest, no real money)
# in a fresh config dir, and a buyer (`pylon ask`) that sends a job, pays the invoice with the
# demo wallet and prints the answer; `pylon earnings` shows the sats booked. Everything it
# started is stopped at the end, whatever happens.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
pylon="$PWD/$build/pylon"
work=$(mktemp -d /tmp/pylon-demo-XXXXXX)
export PYLON_CONFIG_DIR=$work/node
pids=()
cleanup() {
    "$pylon" stop >/dev/null 2>&1
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

wait_listening() {     # wait_listening FILE: the port a child printed as "LISTENING <port>"
    for _ in $(seq 150); do
        port=$(sed -n 's/^LISTENING \([0-9]*\).*/\1/p' "$1" | head -1)
        [ -n "$port" ] && { echo "$port"; return 0; }
        sleep 0.1
    done
    echo "no LISTENING line in $1:" >&2; cat "$1" >&2; return 1
}

step "a local Nostr relay"
node tests/node/relay.mjs --port 0 --quiet > "$work/relay.out" 2>&1 &
pids+=($!)
relay_port=$(wait_listening "$work/relay.out") || exit 1
echo "relay: ws://127.0.0.1:$relay_port (@nostr-relay/core, SQLite in memory)"

step "an inference backend"
backend_url=${PYLON_LLAMA_SERVER_URL:-}
if [ -n "$backend_url" ] && curl -sf "$backend_url/health" >/dev/null 2>&1; then
    echo "llama.cpp server at $backend_url (a real model)"
else
    node tests/stubs/backend_stub.mjs --api llama --model gpt-oss-20b-STUB --slots 2 --token-delay 40 \
        --tokens "This answer ,comes from ,Pylon's test stub ,of llama-server: ,no model ran." \
        > "$work/stub.out" 2>&1 &
    pids+=($!)
    stub_port=$(wait_listening "$work/stub.out") || exit 1
    backend_url=http://127.0.0.1:$stub_port
    echo "TEST STUB of llama-server's API at $backend_url (canned text, not a model):"
    echo "set PYLON_LLAMA_SERVER_URL to a running llama-server to use a real one"
fi

step "a Pylon node (demo wallet: regtest, no real money moves)"
"$pylon" init --no-passphrase --words 12 > "$work/init.out" 2>/dev/null || { cat "$work/init.out"; exit 1; }
npub=$(sed -n 's/^npub: //p' "$work/init.out")
cat > "$PYLON_CONFIG_DIR/config.toml" <<TOML
[provider]
name = "Pylon demo node"
network = "regtest"

[relays]
urls = ["ws://127.0.0.1:$relay_port"]

[pricing]
base_price_sats = 10
price_per_1k_tokens = 1.0

[backends.llamacpp]
url = "$backend_url"
models = ["gpt_oss_20b"]

[wallet]
backend = "demo"
TOML
"$pylon" start || exit 1
echo "node: $npub"
for _ in $(seq 100); do     # until the backend's first probe says it is available
    "$pylon" --json status 2>/dev/null | grep -q '"available":true' && break
    sleep 0.1
done

step "a buyer asks: pylon ask --to $npub --pay demo --stream ..."
"$pylon" ask --to "$npub" --pay demo --stream --max-tokens 64 --timeout 60 \
    "In one sentence: what does a Nostr compute provider do?"
ask=$?

step "pylon earnings"
"$pylon" earnings
step "pylon jobs"
"$pylon" jobs
step "pylon status"
"$pylon" status
if [ "$ask" -ne 0 ]; then
    echo; echo "the job did not complete: the node's log follows"; cat "$PYLON_CONFIG_DIR/pylon.log"
fi
exit "$ask"
