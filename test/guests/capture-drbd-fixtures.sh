#!/bin/sh
# Captures what DRBD's tools really print in the guest lab (DRBD 8.4.11 module, drbd-utils 9), state by state,
# into test/unit/fixtures/drbd/ for the parser tests:
#   CASE.COMMAND.txt          the command's stdout, byte for byte
#   CASE.COMMAND.stderr.txt   its stderr, when it printed any
#   index.json                [{case, guest, command, exitCode, stdout, stderr}] for every capture
# Needs the guests up (guests.sh up [--no-cluster]); recreates r0 from scratch (its data is lost) and leaves it
# Connected, UpToDate, Secondary on both.
#   capture-drbd-fixtures.sh [OUTDIR]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../unit/fixtures/drbd}
GS="sh $HERE/guests.sh"
# COMMAND slug and its arguments after "drbdadm"/"drbdsetup"; RES is replaced by the resource name
COMMANDS="proc-drbd drbdadm-role drbdadm-cstate drbdadm-dstate drbdadm-status drbdsetup-status drbdsetup-status-json"

say() { echo "capture: $*" >&2; }
die() { say "$*"; exit 1; }
on() { n=$1; shift; $GS exec "$n" "$@"; }
quiet() { n=$1; shift; $GS exec "$n" "$@" >/dev/null 2>&1; }

argv() { # slug resource -> the command, one word a line
  case $1 in
    proc-drbd) printf '%s\n' cat /proc/drbd ;;
    drbdadm-role) printf '%s\n' drbdadm role "$2" ;;
    drbdadm-cstate) printf '%s\n' drbdadm cstate "$2" ;;
    drbdadm-dstate) printf '%s\n' drbdadm dstate "$2" ;;
    drbdadm-status) printf '%s\n' drbdadm status "$2" ;;
    drbdsetup-status) printf '%s\n' drbdsetup status ;;
    drbdsetup-status-json) printf '%s\n' drbdsetup status --json ;;
  esac
}

first=yes
capture() { # CASE GUEST [RESOURCE]
  case=$1 n=$2 res=${3:-r0}
  for slug in $COMMANDS; do
    base=$case.$slug
    # shellcheck disable=SC2046
    set +e; $GS exec "$n" $(argv "$slug" "$res") > "$OUT/$base.txt" 2> "$OUT/$base.stderr.txt"; rc=$?; set -e
    [ "$rc" -lt 124 ] || die "$base: no answer from guest$n (exit $rc)"
    stderr=null
    if [ -s "$OUT/$base.stderr.txt" ]; then stderr="\"$base.stderr.txt\""; else rm -f "$OUT/$base.stderr.txt"; fi
    cmd=$(argv "$slug" "$res" | sed 's/.*/"&"/' | paste -sd, -)
    [ $first = yes ] && first=no || printf ',\n' >> "$OUT/index.json"
    printf '  {"case": "%s", "guest": "guest%s", "command": [%s], "exitCode": %s, "stdout": "%s", "stderr": %s}' \
      "$case" "$n" "$cmd" "$rc" "$base.txt" "$stderr" >> "$OUT/index.json"
  done
  say "$case (guest$n): $(head -n 3 "$OUT/$case.proc-drbd.txt" | tail -n 1 | sed 's/^ *//')"
}

cstate_is() { # GUEST STATE
  [ "$(on "$1" drbdadm cstate r0 2>/dev/null)" = "$2" ]
}
wait_for() { # SECONDS what cmd...
  s=$1 what=$2; shift 2
  i=0
  until "$@"; do
    i=$((i + 1)); [ $i -le $((s * 2)) ] || die "timed out after $s s waiting for $what"
    sleep 0.5
  done
}
synced() { on 2 cat /proc/drbd | grep -q 'cs:Connected .* ds:UpToDate/UpToDate'; }

mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT/index.json"
printf '[\n' > "$OUT/index.json"

say "fresh r0 on both guests (down everywhere first: a peer's old r0 would confuse the new one's handshake)"
for n in 1 2; do quiet "$n" drbdadm down r0 || true; done
for n in 1 2; do on "$n" /usr/local/lib/ferry-guests/drbd-prepare || die "drbd-prepare failed on guest$n"; done
wait_for 60 "r0 connected" cstate_is 1 Connected
capture fresh-inconsistent 1

# the initial sync, slowed down (fixed 1 MiB/s, no dynamic controller) so that it is caught half-way
for n in 1 2; do on "$n" drbdadm disk-options --c-plan-ahead=0 --resync-rate=1M r0; done
on 1 drbdadm primary --force r0
wait_for 30 "the initial sync to start" cstate_is 1 SyncSource
sleep 3
capture initial-sync--source 1
capture initial-sync--target 2
for n in 1 2; do on "$n" drbdadm adjust r0; done   # back to the configured (default) resync rate
wait_for 300 "the initial sync to finish" synced

capture primary-secondary--primary 1
capture primary-secondary--secondary 2

on 2 drbdadm disconnect r0
wait_for 30 "guest1 to wait for its peer" cstate_is 1 WFConnection
capture peer-disconnected--primary-waiting 1
capture peer-disconnected--secondary-standalone 2
on 2 drbdadm connect r0
wait_for 60 "r0 reconnected" synced

on 1 drbdadm secondary r0
capture secondary-secondary 1

on 2 drbdadm down r0
wait_for 30 "guest1 to wait for its peer" cstate_is 1 WFConnection
capture down--peer-waiting 1
capture down--unconfigured 2
capture unknown-resource 1 nosuch
on 2 drbdadm up r0
wait_for 60 "r0 reconnected" synced

say "split brain: disconnect, promote and write on both, reconnect"
for n in 1 2; do on "$n" drbdadm disconnect r0; done
for n in 1 2; do
  on "$n" drbdadm primary r0
  on "$n" dd if=/dev/urandom of=/dev/drbd0 bs=4k count=16 oflag=direct status=none
done
for n in 1 2; do on "$n" drbdadm connect r0; done
wait_for 30 "split brain to be detected (StandAlone on both)" cstate_is 1 StandAlone
wait_for 30 "split brain to be detected (StandAlone on both)" cstate_is 2 StandAlone
sleep 1
capture split-brain--guest1 1
capture split-brain--guest2 2
on 1 sh -c 'dmesg | grep -i "split-brain" | tail -n 3' > "$OUT/split-brain--guest1.dmesg.txt"

say "resolving: guest2 discards its changes"
on 2 drbdadm secondary r0
on 2 drbdadm connect --discard-my-data r0
on 1 drbdadm connect r0
wait_for 120 "r0 resynced after the split brain" synced
on 1 drbdadm secondary r0

printf '\n]\n' >> "$OUT/index.json"
{
  echo "module: $(on 1 head -n 1 /proc/drbd)"
  on 1 sh -c 'drbdadm --version 2>/dev/null | grep -E "DRBDADM_VERSION=|DRBD_KERNEL_VERSION="'
  on 1 sh -c 'dpkg-query -W -f="drbd-utils \${Version}\n" drbd-utils; echo "kernel $(uname -r)"'
} > "$OUT/versions.txt"
say "done: $(grep -c '"case"' "$OUT/index.json") captures in $OUT"
