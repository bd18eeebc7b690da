#!/bin/sh
# The guest-lab stage, from a clean Debian 12 machine, as root: host packages and the stock 6.1 kernel, the guest
# image (built once, then cached under /var/cache/ferry-guests), Ferry built, then the guest test with tap.
# Cold (image built): about 4 min on 2 cores; cached: about 3 min. Exits with tap's status.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the guest lab needs root" >&2; exit 1; }
sh test/guests/install-host.sh >/dev/null
sh test/guests/build-image.sh >/dev/null
[ -d node_modules/tap ] || npm ci --no-audit --no-fund
npm run --silent build
npx --no-install tsc -p tsconfig.test.json   # the test is type-checked too (tap only transpiles)
exec npx --no-install tap --reporter=tap --timeout=1800 test/guests/guest-lab.guest.ts
