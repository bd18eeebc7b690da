#!/bin/sh
# A CRIU wrapper for fault tests: runs the real CRIU ($FERRY_REAL_CRIU, or the path in the file next to this
# script) unchanged, unless a fault file in the calling node's private /run names this operation:
#   /run/ferry-fault/restore-fails   restore exits 1 before doing anything (as a CRIU failure would)
#   /run/ferry-fault/dump-fails      dump exits 1 before doing anything (a dump CRIU refuses: the tree never froze)
#   /run/ferry-fault/dump-killed     the real dump is SIGKILLed 40 ms after it starts (CRIU killed mid-dump)
#   /run/ferry-fault/dump-slow       the dump starts after a 30 s pause (for deadline tests; dump-slow.reached
#                                    appears when the pause begins, for tests that act during it)
#   /run/ferry-fault/restore-slow    the restore starts after a 30 s pause (restore-slow.reached appears when it
#                                    begins: a test can kill the restoring node's agent then, as a crash would)
#   /run/ferry-fault/swrk-restore-fails, swrk-checkpoint-fails
#                                    for runtimes that drive CRIU through its RPC (runc runs `criu swrk 3`, the
#                                    operation is in the request, not in argv): the swrk of a `runc restore` or
#                                    `runc checkpoint` exits 1 without answering, but only the second one of that
#                                    runc process (the first is runc's CRIU version query): the real request fails
#                                    before CRIU touches the container. podman's own swrk (its version check) passes.
#                                    swrk-KIND.refused appears when it struck.
# Each lab node has its own /run, so a fault hits only the node it was set on.
set -u
# through links too: a driver may link this wrapper as `criu` in a PATH directory of its own
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
REAL=${FERRY_REAL_CRIU:-$(cat "$HERE/.real-criu" 2>/dev/null || echo criu)}
F=/run/ferry-fault
op=${1:-}
if [ "$op" = restore ] && [ -e "$F/restore-fails" ]; then
  echo "Error (fault injection): restore refused by $F/restore-fails" >&2
  exit 1
fi
if [ "$op" = swrk ] && [ "$(cat /proc/$PPID/comm 2>/dev/null)" = runc ]; then
  parent=" $(tr '\0' ' ' < /proc/$PPID/cmdline 2>/dev/null) "
  for kind in restore checkpoint; do
    case "$parent" in *" $kind "*) ;; *) continue ;; esac
    [ -e "$F/swrk-$kind-fails" ] || continue
    if [ -e "$F/swrk-$kind.$PPID" ]; then
      echo "Error (fault injection): criu swrk for runc $kind refused by $F/swrk-$kind-fails" >&2
      : > "$F/swrk-$kind.refused"
      exit 1
    fi
    : > "$F/swrk-$kind.$PPID"
  done
fi
if [ "$op" = dump ] && [ -e "$F/dump-fails" ]; then
  echo "Error (fault injection): dump refused by $F/dump-fails" >&2
  exit 1
fi
if [ "$op" = restore ] && [ -e "$F/restore-slow" ]; then
  : > "$F/restore-slow.reached"
  sleep 30
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
