#!/bin/sh
# Sourced by the demo and the test runner: makes a fresh Debian 12 machine ready (root checked, Debian
# packages, a CRIU that works on this kernel exported as FERRY_TEST_CRIU, npm packages, a build).
[ "$(id -u)" = 0 ] || { echo "this needs root (namespaces, CRIU, Pacemaker)" >&2; exit 1; }
sh test/lab/install-host-packages.sh
FERRY_TEST_CRIU=$(sh test/lab/install-criu.sh)
export FERRY_TEST_CRIU
echo "CRIU: $FERRY_TEST_CRIU ($("$FERRY_TEST_CRIU" --version | head -1))"
[ -d node_modules/tap ] || npm ci --no-audit --no-fund
npm run --silent build
# Lazy migration streams pages through CRIU's page server, whose pipes outgrow the default 1 MiB limit; root here
# lacks CAP_SYS_RESOURCE to exceed it, so the limit itself is raised (src/criu/pipe-limit.ts explains).
[ "$(cat /proc/sys/fs/pipe-max-size)" -ge 4194304 ] || sysctl -qw fs.pipe-max-size=4194304
