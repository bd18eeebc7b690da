#!/bin/sh
# The guest-lab stage, from a clean Debian 12 machine, as root: host packages and the stock 6.1 kernel, the guest
# image (built once, then cached under /var/cache/ferry-guests), Ferry built, then the guest tests with tap.
#   run.sh [FILE...]    default: test/guests/guest-stage.guest.ts, which boots the guests once and runs every
#                       scenario of test/guests/scenarios/ on them (FERRY_GUEST_SCENARIOS=a,b: only those)
# Measured on 2 cores: image build about 2 min cold (seconds cached); a boot with install and cluster 3 to 4 min.
# Exits with tap's status.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the guest lab needs root" >&2; exit 1; }
sh test/guests/install-host.sh >/dev/null
sh test/guests/build-image.sh >/dev/null
[ -d node_modules/tap ] || npm ci --no-audit --no-fund
npm run --silent build
npx --no-install tsc -p tsconfig.test.json   # the tests are type-checked too (tap only transpiles)
[ $# -gt 0 ] || set -- test/guests/guest-stage.guest.ts
exec npx --no-install tap --reporter=tap --timeout=3600 "$@"
