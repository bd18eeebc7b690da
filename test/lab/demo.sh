#!/bin/sh
# `npm run demo`: installs what the lab needs, builds Ferry, and runs the live-migration demo (test/lab/demo.ts).
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the demo needs root (namespaces, CRIU, Pacemaker)" >&2; exit 1; }
sh test/lab/install-host-packages.sh
FERRY_TEST_CRIU=$(sh test/lab/install-criu.sh)
export FERRY_TEST_CRIU
[ -d node_modules/execa ] || npm ci --no-audit --no-fund
npm run --silent build
exec node dist/test/lab/demo.js
