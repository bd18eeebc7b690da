#!/bin/sh
# Proves a CRIU binary can checkpoint and restore a process that holds an IPv4 listening socket.
# usage: criu-socket-probe.sh CRIU      exit 0 when it can
set -u
CRIU=$1
dir=$(mktemp -d /tmp/ferry-criu-probe.XXXXXX)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
setsid python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1)
time.sleep(60)' </dev/null >/dev/null 2>&1 &
pid=$!
sleep 0.3
"$CRIU" dump -t "$pid" -D "$dir" --shell-job -o dump.log >/dev/null 2>&1 || { tail -5 "$dir/dump.log" >&2; exit 1; }
