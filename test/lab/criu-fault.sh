#!/bin/sh
# A CRIU wrapper for fault tests: runs the real CRIU ($FERRY_REAL_CRIU, or the path in the file next to this
# script) unchanged, unless a fault file in the calling node's private /run names this operation:
#   /run/ferry-fault/restore-fails   restore exits 1 before doing anything (as a CRIU failure would)
#   /run/ferry-fault/dump-killed     the real dump is SIGKILLed 40 ms after it starts (CRIU killed mid-dump)
#   /run/ferry-fault/dump-slow       the dump starts after a 30 s pause (for deadline tests; dump-slow.reached
#                                    appears when the pause begins, for tests that act during it)
# Each lab node has its own /run, so a fault hits only the node it was set on.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REAL=${FERRY_REAL_CRIU:-$(cat "$HERE/.real-criu" 2>/dev/null || echo criu)}
F=/run/ferry-fault
op=${1:-}
if [ "$op" = restore ] && [ -e "$F/restore-fails" ]; then
  echo "Error (fault injection): restore refused by $F/restore-fails" >&2
  exit 1
fi
if [ "$op" = dump ] && [ -e "$F/dump-slow" ]; then
  : > "$F/dump-slow.reached"
  sleep 30
fi
if [ "$op" = dump ] && [ -e "$F/dump-killed" ]; then
  "$REAL" "$@" &
  pid=$!
  sleep 0.04
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"
  exit $?
fi
exec "$REAL" "$@"
