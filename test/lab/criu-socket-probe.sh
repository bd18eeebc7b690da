#!/bin/sh
# Proves a CRIU binary can checkpoint and restore a process that holds an IPv4 listening socket.
# usage: criu-socket-probe.sh CRIU      exit 0 when it can
set -u
CRIU=$1
dir=$(mktemp -d /tmp/ferry-criu-probe.XXXXXX)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
# the process says when its socket listens (a loaded machine may take longer than any fixed pause to start python)
setsid python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1)
open(sys.argv[1], "w").close()
time.sleep(60)' "$dir/listening" </dev/null >/dev/null 2>&1 &
pid=$!
i=0
while [ ! -e "$dir/listening" ]; do
  i=$((i + 1)); [ $i -le 300 ] || { echo "criu-socket-probe: the probe process did not listen within 30 s" >&2; exit 1; }
  sleep 0.1
done
rm -f "$dir/listening"
"$CRIU" dump -t "$pid" -D "$dir" --shell-job -o dump.log >/dev/null 2>&1 || { tail -5 "$dir/dump.log" >&2; exit 1; }
