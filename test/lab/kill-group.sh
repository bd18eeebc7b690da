#!/bin/sh
# Runs a command in a new process group and SIGKILLs the whole group, as Pacemaker does to an agent at its
# operation timeout: once FILE contains PATTERN (polled every 20 ms), plus DELAY seconds; or after 30 s.
#   usage: kill-group.sh FILE PATTERN DELAY cmd args...
file=$1 pattern=$2 delay=$3; shift 3
exec setsid --wait sh -c '
  file=$1 pattern=$2 delay=$3; shift 3
  "$@" &
  i=0
  while [ $i -lt 1500 ] && ! grep -q "$pattern" "$file" 2>/dev/null; do sleep 0.02; i=$((i + 1)); done
  sleep "$delay"
  kill -KILL 0' sh "$file" "$pattern" "$delay" "$@"
