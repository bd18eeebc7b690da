#!/bin/sh
# The whole test suite, from a clean clone on a fresh Debian 12 machine, as root:
# installs what it needs (Debian packages, a CRIU that works on this kernel, npm packages), builds, installs
# the agent, then runs unit, agent-contract and two-node lab tests against real CRIU, namespaces and Pacemaker.
# Ends with the line "N passed, N failed" taken from tap's own results.
set -eu
cd "$(dirname "$0")/.."

. test/lab/prepare-host.sh
# LXC, podman and runc for the lxc and podman drivers (no iptables), with a criu wrapper first in PATH for the
# tools that exec criu themselves, and the containers' cached Debian root filesystem (path, then its tar)
FERRY_RUNTIMES_BIN=$(sh test/lab/install-runtimes.sh)
# (not in a pipe: a build that fails must stop the run here, not leave the path empty for the tests to trip on)
rootfs_paths=$(sh test/lab/build-rootfs.sh)
FERRY_TEST_ROOTFS=$(echo "$rootfs_paths" | head -1)
export FERRY_RUNTIMES_BIN FERRY_TEST_ROOTFS
# Debian 12's own Node.js 18, unpacked privately (its three JavaScript packages from apt): test/agent/node18/ runs the agent contract tests on it
FERRY_NODE18_BIN=$(sh test/lab/install-node18.sh)
export FERRY_NODE18_BIN
# Pacemaker Remote's executor for the lab's remote nodes (its package conflicts with pacemaker: unpacked privately)
sh test/lab/install-remoted.sh >/dev/null
# the QEMU guest lab (stock Debian kernel: soft-dirty, DRBD): host packages, kernel, image (cached after the first run)
sh test/guests/install-host.sh >/dev/null
sh test/guests/build-image.sh >/dev/null
npx --no-install tsc -p tsconfig.test.json   # the tests themselves are type-checked too (tap only transpiles)
npm run --silent install-agent

out=$(mktemp /tmp/ferry-tap.XXXXXX)
trap 'rm -f "$out"' EXIT
set +e
npx tap --reporter=tap ${FERRY_TESTS:-} 2>&1 | tee "$out"
status=$?
set -e
# tap's closing summary looks like: # { total: 12, pass: 11, fail: 1 }   (skip/todo when present)
summary=$(grep -E '^# \{ total: ' "$out" | tail -1)
count() { echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
total=$(count total); pass=$(count pass); fail=$(count fail); skip=$(count skip); todo=$(count todo)
[ -n "$summary" ] || { echo "0 passed, 1 failed (tap printed no summary)"; exit 1; }
[ "$skip" = 0 ] && [ "$todo" = 0 ] || echo "($skip skipped and $todo todo, not counted as passed)"
failed=$((total - pass - skip - todo))   # a todo or skip is neither passed (said above) nor a failure
if [ "$failed" != 0 ] || [ "$status" != 0 ]; then
  # the log's end is what a reader of CI sees first: repeat each failure (the innermost assertion with its
  # diagnostics, then the subtests and the file it sits in) so it need not be searched for in an hour's output
  echo "# failures:"
  awk '/^ *not ok / { print; grab = 1; n = 0; next }
       grab && /^ *---$/ { inyaml = 1 }
       grab && inyaml { if (n++ < 40) print; if ($0 ~ /^ *\.\.\.$/) { inyaml = 0; grab = 0 } next }
       { grab = 0 }' "$out" | head -300
fi
echo "$pass passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
