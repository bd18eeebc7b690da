#!/bin/sh
# Ferry's guest lab: two QEMU guests, guest1 and guest2, running Debian bookworm's stock 6.1 kernel (soft-dirty
# memory tracking, drbd.ko 8.4: what this host's kernel lacks), as a two-node corosync + Pacemaker cluster with
# Ferry installed.
#
#   guests.sh up [--no-cluster]   tear down leftovers, boot both guests, install Ferry in them, start the cluster
#   guests.sh down                stop and remove everything the lab made (idempotent, also after a crash)
#   guests.sh status              what is up
#   guests.sh exec [-i] N CMD...  run CMD (an argument vector, no shell) as root in guest N; its output and exit
#                                 code (124: timed out); -i passes this command's stdin to it (else /dev/null)
#   guests.sh exec cl CMD...      run CMD on the host inside the lab's network (10.81.0.100 on the back-channel)
#   guests.sh cluster-up          start corosync + Pacemaker in both guests, wait until both nodes are online
#   guests.sh drbd-up             DRBD r0 on both guests' second disks: create-md, up, initial sync, ext4
#   guests.sh console N           interactive root shell on guest N's console (socat; Ctrl-C leaves)
#   guests.sh logs N [LINES]      tail of guest N's console log
#
# Layout. Boot files come from build-image.sh (cached under /var/cache/ferry-guests, Ferry not in them). Each guest:
# a qcow2 overlay over the cached root image, a raw second disk for DRBD (/dev/vdb, serial ferry-drbd), and a
# read-only third disk that is a tar holding Ferry's .deb (/dev/vdc, serial ferry-project), unpacked at boot and
# installed with `apt-get install` from the file alone: code changes never touch the image cache.
# Network: netns fgl-net holds bridges fgl-bc (back-channel 10.81.0.0/24: guestN .N, client .100; corosync, DRBD)
# and fgl-mn (migration network 10.82.0.0/24, guestN.mn), each guest plugged in by taps fgl-gN-bc/fgl-gN-mn.
# Nothing leaves the machine: the namespace has no other link. Inside a guest the back-channel NIC is in bridge
# br0 (which has the address; containers plug in there) and the migration NIC is mn0. A 9p share ($B/shared)
# is mounted at /shared in both guests. ttyS0 is the console (log + socket), ttyS1 the control channel: a
# JSON-lines agent in the guest, one mux per guest on the host (ctl/).
#
# Environment: FERRY_GUESTS_DIR (default /tmp/ferry-guests), FERRY_GUESTS_CACHE, FERRY_GUESTS_MEM_MB (2048),
# FERRY_GUESTS_DRBD_MB (64), FERRY_GUESTS_BOOT_TIMEOUT (s, 240), FERRY_GUESTS_CLUSTER_TIMEOUT (s, 180),
# FERRY_GUESTS_EXEC_TIMEOUT (s, 600: `exec`'s bound), FERRY_GUESTS_HOST_CRIU (a directory copied into the
# guests at the same path, e.g. /opt/ferry/criu from test/lab/install-criu.sh; default: none).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
B=${FERRY_GUESTS_DIR:-/tmp/ferry-guests}
MEM=${FERRY_GUESTS_MEM_MB:-2048}
DRBD_MB=${FERRY_GUESTS_DRBD_MB:-64}
BOOT_TIMEOUT=${FERRY_GUESTS_BOOT_TIMEOUT:-240}
CLUSTER_TIMEOUT=${FERRY_GUESTS_CLUSTER_TIMEOUT:-180}
EXEC_TIMEOUT=${FERRY_GUESTS_EXEC_TIMEOUT:-600}
HOST_CRIU=${FERRY_GUESTS_HOST_CRIU:-}
NS=fgl-net
MARK=.ferry-guests
GUESTS="1 2"
IN_GUEST=/usr/local/lib/ferry-guests   # where test/guests/in-guest/ lands in the guests
GUEST_DEBS=/var/cache/ferry-debs       # where Ferry's .deb lands in the guests, installed from there

say() { echo "guests: $*" >&2; }
die() { say "$*"; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { echo "$(( $1 / 1000 )).$(( $1 % 1000 / 100 ))"; }
G() { echo "$B/guest$1"; }
bc_ip() { echo "10.81.0.$1"; }
mn_ip() { echo "10.82.0.$1"; }
mac() { printf '52:54:00:%s:00:%02x' "$1" "$2"; }   # mac 81|82 N

# node with a clean environment: a caller's NODE_OPTIONS (tap's loader) must not reach the mux
ctl() { env -u NODE_OPTIONS node "$B/ctl.mjs" "$@"; }
gexec() { n=$1; t=$2; shift 2; ctl exec "$(G "$n")/exec.sock" "$t" -- "$@"; }

# wait_until SECONDS cmd...: retries cmd every 0.5 s, bounded
wait_until() {
  tries=$(( $1 * 2 )); shift
  while [ "$tries" -gt 0 ]; do "$@" && return 0; tries=$((tries - 1)); sleep 0.5; done
  return 1
}

# a pid from FILE, only if that process still runs something of this lab (its command line names $B)
lab_pid() {
  p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] || return 1
  tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$B/" && echo "$p"
}

# ---------------------------------------------------------------------------------------------------- down
# ourselves and our callers are never killed, whatever their command lines say
ancestors() {
  p=$$ i=0
  while [ "$p" -gt 1 ] && [ $i -lt 64 ]; do
    echo "$p"; p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 1); i=$((i + 1))
  done
}
# every process whose command line names the lab dir: QEMU, the muxes, waits (pidfiles may be gone after a crash);
# the patterns come from a file so that grep's own command line does not match
lab_pids() {
  spare=$(ancestors)
  pf=$(mktemp /tmp/ferry-guests-down.XXXXXX)
  printf '%s/\n' "$B" > "$pf"
  for f in $(grep -laFf "$pf" /proc/[0-9]*/cmdline 2>/dev/null); do
    p=$(echo "$f" | cut -d/ -f3)
    echo "$spare" | grep -qxF "$p" || echo "$p"
  done
  rm -f "$pf"
}
none_alive() { for p; do [ -e "/proc/$p" ] && return 1; done; return 0; }

cmd_down() {
  pids=""
  for n in $GUESTS; do
    p=$(lab_pid "$(G "$n")/qemu.pid") && pids="$pids $p"
  done
  # shellcheck disable=SC2086
  [ -z "$pids" ] || kill -TERM $pids 2>/dev/null
  # shellcheck disable=SC2086
  [ -z "$pids" ] || wait_until 5 none_alive $pids || say "QEMU did not stop on TERM; killing it"
  left=$(lab_pids)
  # shellcheck disable=SC2086
  [ -z "$left" ] || kill -KILL $left 2>/dev/null
  # shellcheck disable=SC2086
  [ -z "$left" ] || wait_until 5 none_alive $left || say "still alive: $left"
  [ -e "/run/netns/$NS" ] && ip netns del "$NS"
  if [ -d "$B" ]; then
    if [ -e "$B/$MARK" ]; then rm -rf --one-file-system "$B"
    else say "$B was not made by the guest lab (no $MARK); left alone"; fi
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------------- up
make_net() {
  ip netns add $NS && ip -n $NS link set lo up || return 1
  for net in bc mn; do
    ip -n $NS link add fgl-$net type bridge stp_state 0 forward_delay 0 && ip -n $NS link set fgl-$net up || return 1
    for n in $GUESTS; do
      ip -n $NS tuntap add fgl-g$n-$net mode tap && ip -n $NS link set fgl-g$n-$net master fgl-$net up || return 1
    done
  done
  ip -n $NS addr add 10.81.0.100/24 dev fgl-bc && ip -n $NS addr add 10.82.0.100/24 dev fgl-mn
}

# The guests' third disk: a tar holding Ferry's .deb (scripts/build-deb.sh) at $GUEST_DEBS, which each guest
# installs with apt from the file alone (the guests have no network beyond the lab and no package lists: apt
# succeeds only if Debian's packages in the image satisfy every dependency), the in-guest helpers, a host CRIU
make_project_disk() {
  [ -e "$REPO/dist/src/ocf/main.js" ] || { say "the project is not built (npm run build)"; return 1; }
  st=$B/stage
  rm -rf "$st"
  mkdir -p "$st$GUEST_DEBS"
  deb=$(sh "$REPO/scripts/build-deb.sh" "$st$GUEST_DEBS" 2>"$B/build-deb.log") || { cat "$B/build-deb.log" >&2; return 1; }
  mkdir -p "$st$IN_GUEST"
  cp "$HERE"/in-guest/* "$st$IN_GUEST/"
  if [ -n "$HOST_CRIU" ]; then
    [ -d "$HOST_CRIU" ] || { say "FERRY_GUESTS_HOST_CRIU=$HOST_CRIU is not a directory"; return 1; }
    mkdir -p "$st$(dirname "$HOST_CRIU")"
    cp -a "$HOST_CRIU" "$st$(dirname "$HOST_CRIU")/"
  fi
  tar -C "$st" -cf "$B/project.tar" . && rm -rf "$st" && echo "$(basename "$deb")" > "$B/deb-name"
}

start_guest() {
  n=$1 d=$(G "$1")
  mkdir -p "$d"
  qemu-img create -q -f qcow2 -b "$IMAGE/root.img" -F raw "$d/root.qcow2" || return 1
  truncate -s "${DRBD_MB}M" "$d/drbd.img" || return 1
  hosts=""
  for m in $GUESTS; do hosts="$hosts,$(bc_ip "$m"):guest$m,$(mn_ip "$m"):guest$m.mn"; done
  append="console=ttyS0 panic=-1 quiet ferry.name=guest$n ferry.bc=$(mac 81 "$n"),$(bc_ip "$n")/24"
  append="$append ferry.mn=$(mac 82 "$n"),$(mn_ip "$n")/24 ferry.hosts=${hosts#,} ferry.shared=shared"
  # -nodefaults: no default serial/monitor/VGA, so ttyS0 and ttyS1 are exactly the two -serial below
  nsenter --net="/run/netns/$NS" qemu-system-x86_64 -name "guest$n" -nodefaults -accel tcg -cpu max -smp 1 \
    -m "$MEM" -display none -no-reboot \
    -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.gz" -append "$append" \
    -drive "file=$d/root.qcow2,if=none,id=root,format=qcow2,cache=unsafe" -device virtio-blk-pci,drive=root,serial=ferry-root \
    -drive "file=$d/drbd.img,if=none,id=drbd,format=raw,cache=unsafe" -device virtio-blk-pci,drive=drbd,serial=ferry-drbd \
    -drive "file=$B/project.tar,if=none,id=project,format=raw,readonly=on" \
    -device virtio-blk-pci,drive=project,serial=ferry-project \
    -netdev "tap,id=bc,ifname=fgl-g$n-bc,script=no,downscript=no" -device "virtio-net-pci,netdev=bc,mac=$(mac 81 "$n")" \
    -netdev "tap,id=mn,ifname=fgl-g$n-mn,script=no,downscript=no" -device "virtio-net-pci,netdev=mn,mac=$(mac 82 "$n")" \
    -virtfs "local,path=$B/shared,mount_tag=shared,security_model=passthrough,id=shared" \
    -chardev "socket,id=con,path=$d/console.sock,server=on,wait=off,logfile=$d/console.log" -serial chardev:con \
    -chardev "socket,id=ctl,path=$d/ctl.sock,server=on,wait=off" -serial chardev:ctl \
    -monitor "unix:$d/monitor.sock,server=on,wait=off" \
    -pidfile "$d/qemu.pid" -daemonize 2>"$d/qemu.err" || { cat "$d/qemu.err" >&2; return 1; }
  setsid env -u NODE_OPTIONS node "$B/ctl.mjs" mux "$d/ctl.sock" "$d/exec.sock" </dev/null >"$d/mux.log" 2>&1 &
  echo $! > "$d/mux.pid"
}

# on_each_guest FUNCTION: FUNCTION N for every guest, in parallel; fails if any failed
on_each_guest() {
  pids=""
  for n in $GUESTS; do "$1" "$n" & pids="$pids $!"; done
  rc=0
  for p in $pids; do wait "$p" || rc=1; done   # these only: a bare wait would also wait for the muxes
  return $rc
}

# both guests answer on their control channel (in parallel: boot is CPU-bound per guest, one core each)
wait_guests() { on_each_guest wait_guest; }
wait_guest() {
  ms=$(ctl wait "$(G "$1")/exec.sock" "$BOOT_TIMEOUT" "$(cat "$(G "$1")/qemu.pid")") || return 1
  echo "$ms" > "$(G "$1")/ready-ms"
}

install_project() {
  n=$1
  gexec "$n" 900 sh -c "
    [ \"\$(cat /sys/block/vdc/serial)\" = ferry-project ] || { echo '/dev/vdc is not the project disk' >&2; exit 1; }
    tar -x --keep-directory-symlink --no-overwrite-dir -f /dev/vdc -C / &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $GUEST_DEBS/$(cat "$B/deb-name") >/var/log/ferry-install.log 2>&1 || { tail -n 20 /var/log/ferry-install.log >&2; exit 1; }
    dpkg-query -W -f='\${Status}' ferry | grep -q 'install ok installed' && crm_resource --show-metadata ocf:ferry:container >/dev/null && ferry --help >/dev/null"
}

tails() {
  for n in $GUESTS; do
    for f in "$(G "$n")/console.log" "$(G "$n")/mux.log"; do
      [ -s "$f" ] && { echo "---- tail $f"; tail -n 25 "$f"; }
    done
  done >&2
}
fail_up() { say "up failed: $*"; tails; say "the lab is left as is for inspection; run: $0 down"; exit 1; }

cmd_up() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  for c in qemu-system-x86_64 qemu-img ip nsenter node tar; do
    command -v $c >/dev/null 2>&1 || die "missing command: $c (run test/guests/install-host.sh)"
  done
  # two guests of $MEM MiB each, plus QEMU's own and the host side: said up front, not found out by the OOM killer
  avail=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
  need=$(( ${MEM} * 2 + 512 ))
  [ "${avail:-0}" -ge "$need" ] || die "this machine has ${avail:-?} MiB of memory available; two guests of $MEM MiB need about $need MiB (set FERRY_GUESTS_MEM_MB lower, at your own risk for the 256 MiB workloads)"
  t0=$(now_ms)
  cmd_down
  [ -e "$B" ] && die "$B exists and is not the guest lab's; set FERRY_GUESTS_DIR elsewhere"
  IMAGE=$(sh "$HERE/build-image.sh") || die "no guest image (build-image.sh failed)"
  mkdir -p "$B/shared" && touch "$B/$MARK" || die "cannot create $B"
  echo "$IMAGE" > "$B/image"
  esbuild=$REPO/node_modules/.bin/esbuild
  [ -x "$esbuild" ] || die "no $esbuild (npm ci)"
  "$esbuild" "$HERE/ctl/main.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --outfile="$B/ctl.mjs" || die "cannot bundle the control tool"
  make_project_disk || fail_up "cannot stage Ferry for the guests"
  t1=$(now_ms)
  make_net || fail_up "network setup failed"
  for n in $GUESTS; do start_guest "$n" || fail_up "cannot start guest$n"; done
  wait_guests || fail_up "the guests did not answer within $BOOT_TIMEOUT s"
  t2=$(now_ms)
  on_each_guest install_project || fail_up "cannot install Ferry in the guests"
  t3=$(now_ms)
  echo "guests up: prepared in $(secs $((t1 - t0))) s, booted in $(secs $((t2 - t1))) s, Ferry installed in $(secs $((t3 - t2))) s ($B, image $IMAGE)"
  if [ "${1:-}" != --no-cluster ]; then cmd_cluster_up || exit 1; fi
}

# ---------------------------------------------------------------------------------------------------- cluster
cluster_online() {
  x=$(gexec 1 30 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  for n in $GUESTS; do echo "$x" | grep -qE "<node name=\"guest$n\"[^>]* online=\"true\"" || return 1; done
  echo "$x" | grep -q '<current_dc present="true"'
}

cluster_start() {
  nodes=""
  for m in $GUESTS; do nodes="$nodes guest$m=$(bc_ip "$m")"; done
  # shellcheck disable=SC2086
  gexec "$1" 60 "$IN_GUEST/cluster-start" $nodes
}

cmd_cluster_up() {
  t0=$(now_ms)
  on_each_guest cluster_start || fail_up "cannot start the cluster"
  wait_until "$CLUSTER_TIMEOUT" cluster_online || {
    for n in $GUESTS; do gexec "$n" 30 tail -n 30 /var/log/pacemaker/pacemaker.log >&2; done
    die "both nodes not online after $CLUSTER_TIMEOUT s"
  }
  echo "cluster online in $(secs $(( $(now_ms) - t0 ))) s"
}

# ---------------------------------------------------------------------------------------------------- DRBD
drbd_state() { gexec "$1" 30 cat /proc/drbd 2>/dev/null | grep -q "$2"; }

cmd_drbd_up() {
  t0=$(now_ms)
  # down everywhere first: a peer still running an old r0 would confuse the new one's handshake
  for n in $GUESTS; do gexec "$n" 60 sh -c 'drbdadm down r0 2>/dev/null; true'; done
  for n in $GUESTS; do gexec "$n" 120 "$IN_GUEST/drbd-prepare" || die "DRBD r0 setup failed on guest$n"; done
  wait_until 60 drbd_state 1 'cs:Connected' || die "r0 did not connect within 60 s"
  t1=$(now_ms)
  gexec 1 60 drbdadm primary --force r0 || die "cannot make guest1 primary"
  wait_until 300 drbd_state 2 'ds:UpToDate/UpToDate' || die "initial sync did not finish within 300 s"
  t2=$(now_ms)
  gexec 1 120 mkfs.ext4 -q /dev/drbd0 || die "mkfs.ext4 on /dev/drbd0 failed"
  gexec 1 60 drbdadm secondary r0 || die "cannot demote guest1"
  echo "DRBD r0 up: connected in $(secs $((t1 - t0))) s, initial sync of $DRBD_MB MiB in $(secs $((t2 - t1))) s, ext4, both Secondary"
}

# ---------------------------------------------------------------------------------------------------- misc
cmd_status() {
  if [ -e "$B/$MARK" ]; then echo "lab dir: $B (image $(cat "$B/image" 2>/dev/null))"; else echo "lab dir: $B (absent)"; fi
  if [ -e "/run/netns/$NS" ]; then echo "netns $NS: present"; else echo "netns $NS: absent"; fi
  for n in $GUESTS; do
    if q=$(lab_pid "$(G "$n")/qemu.pid"); then
      up=$(gexec "$n" 10 cut -d' ' -f1 /proc/uptime 2>/dev/null) && up="answers, uptime $up s" || up="does not answer"
      echo "guest$n: qemu $q, $up"
    else
      echo "guest$n: down"
    fi
  done
  left=$(lab_pids | tr '\n' ' ')
  [ -z "$left" ] || echo "lab processes: $left"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
  up) cmd_up "$@" ;;
  down) [ "$(id -u)" = 0 ] || die "must run as root"; cmd_down ;;
  status) cmd_status ;;
  cluster-up) cmd_cluster_up ;;
  drbd-up) cmd_drbd_up ;;
  exec)
    stdin=""
    [ "${1:-}" = -i ] && { stdin=--stdin; shift; }
    [ $# -ge 2 ] || die "usage: $0 exec [-i] 1|2|cl CMD..."
    n=$1; shift
    case $n in
      1|2) [ -S "$(G "$n")/exec.sock" ] || { say "guest$n is not up"; exit 125; }
           ctl exec "$(G "$n")/exec.sock" "$EXEC_TIMEOUT" $stdin -- "$@"; exit $? ;;
      cl)  [ -e "/run/netns/$NS" ] || { say "the lab's network is not up"; exit 125; }
           exec nsenter --net="/run/netns/$NS" "$@" ;;
      *) die "exec: guest must be 1, 2 or cl" ;;
    esac ;;
  console)
    case ${1:-} in 1|2) ;; *) die "usage: $0 console 1|2" ;; esac
    exec socat -,rawer,escape=0x03 "UNIX-CONNECT:$(G "$1")/console.sock" ;;
  logs)
    case ${1:-} in 1|2) ;; *) die "usage: $0 logs 1|2 [LINES]" ;; esac
    tail -n "${2:-100}" "$(G "$1")/console.log" ;;
  *) die "usage: $0 up [--no-cluster]|down|status|exec 1|2|cl CMD...|cluster-up|drbd-up|console N|logs N [LINES]" ;;
esac
