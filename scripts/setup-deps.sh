#!/bin/sh
# setup-deps.sh: install what Pylon needs to build, test and run, and nothing that is already
# there. Debian packages through apt-get (as root, or with sudo), the pinned npm test tools
# (tests/node/package-lock.json) through npm ci. Safe to run again: it checks before it installs.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential pkg-config clang libclang-rt-14-dev
  libczmq-dev libzmq3-dev libsecp256k1-dev libsodium-dev libmsgpack-dev libsqlite3-dev sqlite3
  libcurl4-openssl-dev libwebsockets-dev libjson-c-dev libcmocka-dev libssl-dev
  nodejs npm ca-certificates iproute2 procps curl openssl"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm may come from elsewhere than Debian (the machine's own Node.js): a working npm is enough.
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
fi
missing=$(echo $missing)
if [ -n "$missing" ]; then
    echo "setup-deps: installing Debian packages: $missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# The npm test tools: independent implementations and a real relay, pinned by the lock file.
stamp=tests/node/node_modules/.pylon-installed
if [ ! -f "$stamp" ] || [ tests/node/package-lock.json -nt "$stamp" ]; then
    echo "setup-deps: installing the pinned npm test tools (tests/node)"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
fi
