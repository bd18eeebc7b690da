#!/bin/sh
# `npm run demo`: installs what the lab needs, builds Ferry, and runs the live-migration demo (test/lab/demo.ts).
set -eu
cd "$(dirname "$0")/../.."
. test/lab/prepare-host.sh
exec node dist/test/lab/demo.js
