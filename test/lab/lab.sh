#!/bin/sh
# Ferry's lab: a real two-node Corosync + Pacemaker cluster and a client, all on this one machine, as root.
#
#   lab.sh up              tear down leftovers, then build everything and wait until both nodes are online
#   lab.sh exec N cmd...   run cmd inside node N (1|2): its network, mount and UTS namespaces
#   lab.sh exec cl cmd...  run cmd in the client's network namespace
#   lab.sh down            stop and remove everything the lab made (idempotent)
#   lab.sh status          what is up
#   lab.sh logs N [LINES]  tail of node N's pacemaker log
#   lab.sh helper N start|stop   (re)start or SIGKILL node N's `ferry serve`
#   lab.sh power-off N     node N dies as if its power were cut: every process of its namespaces (its containers
#                          too) SIGKILLed, its links down; the lab's fence agent does this for Pacemaker
#   lab.sh power-on N      node N boots again: fresh /run, corosync, pacemaker and ferry serve, rejoins the cluster
#   lab.sh power-state N   on | off
#
# With FERRY_LAB_REMOTES=1, `up` adds two Pacemaker Remote nodes, remote1 and remote2 (lab nodes 3 and 4: exec 3
# and exec 4): pacemaker-remoted (test/lab/install-remoted.sh) in their own namespaces, connected by
# ocf:pacemaker:remote resources, each with its `ferry serve`. remote1's bridge joins node1's, remote2's joins
# node2's (10.78.0.3 and .4, the same segment); their migration network is a link of their own between the two
# (10.79.0.3 and .4, remoteN.mn): between a remote node and a full one Ferry falls back to the back-channel.
#
# Layout. Netns ferry-n1 / ferry-n2 are the nodes, ferry-cl the client. Each node has a bridge br0 (its
# containers plug in there); veth bc0<->bc0 joins the two bridges into one L2 segment 10.78.0.0/24 (node1 .1,
# node2 .2, client eth0 .100 on node1's bridge), which also carries corosync. veth mn0<->mn0 is the dedicated
# migration network 10.79.0.0/24 (nodeN.mn in /etc/hosts). Each node runs `ferry serve` on both its addresses
# (key $LAB/authkey) with a private /var/lib/ferry, the local state_dir of storage=none resources.
# A node is more than a netns: every command run "on" it must share one mount namespace, or CRIU cannot dump in
# one call what another call started (mounts with unreachable sharing). So each node has an anchor process that
# holds a private mount + UTS namespace inside the node's netns, with its own /run, /dev/shm, Pacemaker and
# Corosync state, /etc/hosts and OCF tree; everything for the node is entered with nsenter -t ANCHOR -n -m -u
# (never `ip netns exec`, which makes a fresh mount namespace per call).
#
# Fencing: with FERRY_LAB_FENCING=1, `up` makes a real fence device (test/lab/fence_ferrylab, stonith:fence_ferrylab
# in the CIB, seen by each node through an overlay on /usr/sbin) and sets stonith-enabled=true: a node that is
# lost is powered off by the survivor's fencer before Pacemaker recovers its resources.
#
# Environment: FERRY_LAB_DIR (default /tmp/ferry-lab), FERRY_LAB_NS (namespace prefix, default ferry),
# FERRY_LAB_UP_TIMEOUT (s, default 60),
# FERRY_LAB_STOP_TIMEOUT (s, default 60: pacemaker stops its resources before it exits).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
B=${FERRY_LAB_DIR:-/tmp/ferry-lab}
UP_TIMEOUT=${FERRY_LAB_UP_TIMEOUT:-60}
STOP_TIMEOUT=${FERRY_LAB_STOP_TIMEOUT:-60}
FENCING=${FERRY_LAB_FENCING:-0}
REMOTES=${FERRY_LAB_REMOTES:-0}
REMOTED=${FERRY_LAB_REMOTED:-/opt/ferry/pacemaker-remote/root/usr/sbin/pacemaker-remoted}
# FERRY_LAB_NS: a prefix of the lab's namespace names, so two labs (two checkouts) can run side by side
NS_PREFIX=${FERRY_LAB_NS:-ferry}
NS1=$NS_PREFIX-n1 NS2=$NS_PREFIX-n2 NSC=$NS_PREFIX-cl NS3=$NS_PREFIX-r1 NS4=$NS_PREFIX-r2
ALL_NODES='1 2 3 4'   # what `down` looks for; `up` makes 1 and 2, and 3 and 4 with FERRY_LAB_REMOTES=1
MARK=.ferry-lab
# daemons get a clean environment: a caller's NODE_OPTIONS (tap's loader) must not reach the agents they run
DAEMON_ENV="PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root"

say()  { echo "lab: $*" >&2; }
die()  { say "$*"; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
node_ns() { case $1 in 1) echo $NS1 ;; 2) echo $NS2 ;; 3) echo $NS3 ;; 4) echo $NS4 ;; esac; }
node_name() { case $1 in 1|2) echo "node$1" ;; *) echo "remote$(($1 - 2))" ;; esac; }

# pids of live processes whose namespace KIND (net|mnt) is ID ("net:[4026532...]"); zombies have no ns links
ns_pids() {
  pat=$(printf '%s' "$2" | sed 's/\[/\\[/; s/\]/\\]/')
  find /proc/[0-9]*/ns -maxdepth 1 -name "$1" -lname "$pat" 2>/dev/null | cut -d/ -f3
}
netns_id() { [ -e "/run/netns/$1" ] && echo "net:[$(stat -L -c %i "/run/netns/$1")]"; }

# The anchor of node N, only if it is still the process that holds the recorded mount namespace (pid reuse).
anchor() {
  a=$(cat "$B/node$1/anchor.pid" 2>/dev/null) && [ -n "$a" ] || return 1
  m=$(readlink "/proc/$a/ns/mnt" 2>/dev/null) && [ -n "$m" ] || return 1
  [ "$m" = "$(cat "$B/node$1/mntns" 2>/dev/null)" ] && echo "$a"
}
# why node N's anchor is not usable: for the message of a command that needed it
anchor_gone() {
  a=$(cat "$B/node$1/anchor.pid" 2>/dev/null) || { echo "no $B/node$1/anchor.pid"; return; }
  [ -e "/proc/$a" ] || { echo "its anchor (pid $a) is gone"; return; }
  echo "pid $a is in mount namespace $(readlink "/proc/$a/ns/mnt" 2>/dev/null), the node's is $(cat "$B/node$1/mntns" 2>/dev/null || echo unrecorded) (comm $(cat "/proc/$a/comm" 2>/dev/null))"
}
on_node() { n=$1; shift; a=$(anchor "$n") || return 125; nsenter -t "$a" -n -m -u --wd=/ "$@"; }

# wait_until SECONDS cmd...: retries cmd every 0.2 s, bounded
wait_until() {
  tries=$(( $1 * 5 )); shift
  while [ "$tries" -gt 0 ]; do "$@" && return 0; tries=$((tries - 1)); sleep 0.2; done
  return 1
}

# ---------------------------------------------------------------------------------------------------- down
# Mount namespaces of the lab: the recorded one of each node, or, if the record is lost, any non-host one found
# in that node's netns. Containers started by the agent have their own netns but share their node's mount ns.
lab_mntns() {
  host=$(readlink /proc/$$/ns/mnt)
  for n in $ALL_NODES; do
    if [ -s "$B/node$n/mntns" ]; then cat "$B/node$n/mntns"; continue; fi
    id=$(netns_id "$(node_ns $n)") || continue
    for p in $(ns_pids net "$id"); do readlink "/proc/$p/ns/mnt" 2>/dev/null; done
  done | grep -vxF "$host" | sort -u
}
lab_netns() { for ns in $NS1 $NS2 $NS3 $NS4 $NSC; do netns_id $ns; done; }

# ourselves and our callers are never killed, whatever namespace they run in
ancestors() {
  p=$$ i=0
  while [ "$p" -gt 1 ] && [ $i -lt 64 ]; do
    echo "$p"; p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 1); i=$((i + 1))
  done
}
# $@ and every live descendant of them: an LXC or podman container's processes have mount and network namespaces
# of their own, but descend from the node's (LXC's monitor, podman's conmon)
with_descendants() {
  [ $# -gt 0 ] || return 0
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v seeds="$*" '
    { pid = $1; rest = $0; sub(/.*\) /, "", rest); split(rest, f, " "); parent[pid] = f[2]; state[pid] = f[1] }
    END {
      n = split(seeds, s, " "); for (i = 1; i <= n; i++) mark[s[i]] = 1
      for (grew = 1; grew;) { grew = 0; for (p in parent) if (!(p in mark) && (parent[p] in mark)) { mark[p] = 1; grew = 1 } }
      for (p in mark) if ((p in parent) && state[p] != "Z" && state[p] != "X") print p   # zombies are gone already
    }'
}
lab_pids() { # every live process in a lab mount or network namespace, and what descends from one
  # shellcheck disable=SC2046
  with_descendants $({ for m in $MNTNS; do ns_pids mnt "$m"; done
    for n in $NETNS; do ns_pids net "$n"; done; } | sort -u) | sort -u | grep -vxF "$SPARE"
}
comm_in() { # lab pids whose command name matches the ERE $1
  for p in $(lab_pids); do grep -qxE "$1" "/proc/$p/comm" 2>/dev/null && echo "$p"; done
}
all_reaped() { for p; do [ -e "/proc/$p" ] && return 1; done; return 0; }
no_lab_pids() { [ -z "$(lab_pids)" ]; }
none_left() { [ -z "$(comm_in "$1")" ]; }
# TERM processes by name, bounded wait for them to go
stop_named() {
  pids=$(comm_in "$1"); [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null
  wait_until "$2" none_left "$1" || say "$3 did not stop within $2 s; killing it"
}

cmd_down() {
  MNTNS=$(lab_mntns); NETNS=$(lab_netns)
  SPARE=$(ancestors)
  # pacemaker stops its resources (the agent's containers) on the way down; both nodes at once so that neither
  # tries to take over what the other is stopping
  stop_named 'pacemakerd' "$STOP_TIMEOUT" pacemaker
  stop_named 'pacemaker-.*|pacemakerd' 5 'pacemaker daemons'
  stop_named 'corosync' 10 corosync
  # the rest: anchors, containers, CRIU helpers, clients. pid-namespace inits ignore TERM, so KILL
  left=$(lab_pids); [ -z "$left" ] || kill -KILL $left 2>/dev/null
  # anything else running from the lab dir (e.g. a workload started outside a node); match list from a file so
  # that grep's own command line does not match
  if [ -d "$B" ]; then
    pf=$(mktemp /tmp/ferry-lab-down.XXXXXX); printf '%s/\n' "$B" > "$pf"
    for f in $(grep -laFf "$pf" /proc/[0-9]*/cmdline 2>/dev/null); do
      p=$(echo "$f" | cut -d/ -f3)
      echo "$SPARE" | grep -qxF "$p" || kill -KILL "$p" 2>/dev/null
    done
    rm -f "$pf"
  fi
  wait_until 5 no_lab_pids || say "some lab processes are still alive: $(lab_pids | tr '\n' ' ')"
  # loop devices whose backing file lives in the lab dir (single-owner storage tests)
  losetup -n -O NAME,BACK-FILE -l 2>/dev/null | while read -r dev file; do
    case $file in "$B"/*) losetup -d "$dev" 2>/dev/null;; esac
  done
  for ns in $NS1 $NS2 $NS3 $NS4; do
    [ -e "/run/netns/$ns" ] || continue
    nsenter --net="/run/netns/$ns" nft list tables 2>/dev/null | while read -r _ fam name; do
      case $name in CRIU*) nsenter --net="/run/netns/$ns" nft delete table "$fam" "$name";; esac
    done
  done
  for ns in $NS1 $NS2 $NS3 $NS4 $NSC; do [ -e "/run/netns/$ns" ] && ip netns del "$ns"; done
  # killed daemons linger as zombies until init reaps them; wait a little so `pgrep corosync` is clean after us
  recorded=$(cat "$B"/node[1-4]/*.pid 2>/dev/null)
  [ -z "$recorded" ] || wait_until 3 all_reaped $recorded || true
  if [ -d "$B" ]; then
    # a mount left under the lab dir in this namespace must not have its contents deleted: unmount, and never
    # let rm cross into another filesystem
    awk -v b="$B/" 'index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null
    done
    if [ -e "$B/$MARK" ]; then rm -rf --one-file-system "$B"
    else say "$B was not made by the lab (no $MARK); left alone"; fi
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------------- up
make_net() { # every step must succeed (set -e does not apply inside a function called with ||)
  for ns in $NS1 $NS2 $NSC; do ip netns add $ns && ip -n $ns link set lo up || return 1; done
  for ns in $NS1 $NS2; do
    ip -n $ns link add br0 type bridge stp_state 0 forward_delay 0 && ip -n $ns link set br0 up || return 1
  done
  ip -n $NS1 link add bc0 type veth peer name bc0 netns $NS2 &&
  ip -n $NS1 link set bc0 master br0 up && ip -n $NS2 link set bc0 master br0 up &&
  ip -n $NS1 addr add 10.78.0.1/24 dev br0 && ip -n $NS2 addr add 10.78.0.2/24 dev br0 &&
  ip -n $NS1 link add cl0 type veth peer name eth0 netns $NSC &&
  ip -n $NS1 link set cl0 master br0 up &&
  ip -n $NSC addr add 10.78.0.100/24 dev eth0 && ip -n $NSC link set eth0 up &&
  ip -n $NS1 link add mn0 type veth peer name mn0 netns $NS2 &&
  ip -n $NS1 addr add 10.79.0.1/24 dev mn0 && ip -n $NS2 addr add 10.79.0.2/24 dev mn0 &&
  ip -n $NS1 link set mn0 up && ip -n $NS2 link set mn0 up || return 1
  [ "$REMOTES" = 1 ] || return 0
  for n in 3 4; do
    ns=$(node_ns $n) full=$(node_ns $((n - 2)))
    ip netns add $ns && ip -n $ns link set lo up &&
    ip -n $ns link add br0 type bridge stp_state 0 forward_delay 0 && ip -n $ns link set br0 up &&
    ip -n $full link add rb$n type veth peer name bc0 netns $ns &&
    ip -n $full link set rb$n master br0 up && ip -n $ns link set bc0 master br0 up &&
    ip -n $ns addr add 10.78.0.$n/24 dev br0 || return 1
  done
  ip -n $NS3 link add mn0 type veth peer name mn0 netns $NS4 &&
  ip -n $NS3 addr add 10.79.0.3/24 dev mn0 && ip -n $NS4 addr add 10.79.0.4/24 dev mn0 &&
  ip -n $NS3 link set mn0 up && ip -n $NS4 link set mn0 up
}

make_ocf_tree() { # the system's providers, with ferry/container pointing at this checkout
  mkdir -p "$B/resource.d/ferry"
  for p in /usr/lib/ocf/resource.d/*; do
    [ "$(basename "$p")" = ferry ] || cp -a "$p" "$B/resource.d/"
  done
  ln -s "$REPO/ocf/ferry/container" "$B/resource.d/ferry/container"
}

make_node_files() {
  N=$1 D=$B/node$1
  mkdir -p "$D/log-pacemaker/bundles" "$D/lib-corosync" "$D/log-corosync" "$D/log-cluster"
  mkdir -m 0700 "$D/lib-ferry"
  mkdir -p "$D/lib-lxc" "$D/lib-containers"
  for d in cib pengine blackbox cores; do mkdir -p "$D/lib-pacemaker/$d"; done
  chown -R hacluster:haclient "$D/lib-pacemaker" "$D/log-pacemaker"
  chmod 750 "$D"/lib-pacemaker/*; chmod 770 "$D/log-pacemaker" "$D/log-pacemaker/bundles"
  cp -a /etc/corosync "$D/etc-corosync"
  printf '10.78.0.1 node1\n10.78.0.2 node2\n10.79.0.1 node1.mn\n10.79.0.2 node2.mn\n127.0.0.1 localhost\n::1 localhost\n' \
    > "$D/hosts"
  if [ "$REMOTES" = 1 ]; then
    printf '10.78.0.3 remote1\n10.78.0.4 remote2\n10.79.0.3 remote1.mn\n10.79.0.4 remote2.mn\n' >> "$D/hosts"
  fi
  cat > "$D/etc-corosync/corosync.conf" <<EOC
totem {
  version: 2
  cluster_name: ferrylab
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 3000
}
nodelist {
  node {
    ring0_addr: 10.78.0.1
    name: node1
    nodeid: 1
  }
  node {
    ring0_addr: 10.78.0.2
    name: node2
    nodeid: 2
  }
}
quorum {
  provider: corosync_votequorum
  two_node: 1
}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_syslog: no
  to_stderr: no
  timestamp: on
}
EOC
  # Seeded CIB: the first DC election otherwise waits the default 20 s dc-deadtime; fencing only with a device
  # (FERRY_LAB_FENCING=1); and a two-node lab must keep running resources when one node is gone. An unsigned
  # cib.xml is accepted.
  STONITH=false FENCE_DEVICE=''
  if [ "$FENCING" = 1 ]; then
    STONITH=true
    FENCE_DEVICE="<primitive id=\"fence-lab\" class=\"stonith\" type=\"fence_ferrylab\"><instance_attributes id=\"fence-lab-params\">\
<nvpair id=\"fence-lab-hosts\" name=\"pcmk_host_list\" value=\"node1 node2\"/>\
<nvpair id=\"fence-lab-sh\" name=\"lab_sh\" value=\"$HERE/lab.sh\"/>\
<nvpair id=\"fence-lab-dir\" name=\"lab_dir\" value=\"$B\"/>\
<nvpair id=\"fence-lab-ns\" name=\"lab_ns\" value=\"$NS_PREFIX\"/></instance_attributes>\
<operations><op id=\"fence-lab-monitor\" name=\"monitor\" interval=\"60s\"/></operations></primitive>"
  fi
  cat > "$D/lib-pacemaker/cib/cib.xml" <<EOX
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.8" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="$STONITH"/>
        <nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="ignore"/>
      </cluster_property_set>
    </crm_config>
    <nodes/><resources>$FENCE_DEVICE</resources><constraints/>
  </configuration>
  <status/>
</cib>
EOX
  chown hacluster:haclient "$D/lib-pacemaker/cib/cib.xml"; chmod 600 "$D/lib-pacemaker/cib/cib.xml"
}

# Runs as the anchor, already in the node's netns and in a fresh mount + UTS namespace: private mounts, then
# it becomes `sleep` and stays as the holder of the namespaces. /var/log/cluster is made private only if the
# host has it (Debian's corosync logs to /var/log/corosync; creating host directories is not the lab's business).
# A fresh /sys shows the node's own network devices (LXC reads /sys/class/net); the host's cgroup mounts are kept
# under it. Container runtimes keep their state per node, as on separate machines: /var/lib/lxc (the containers'
# configs), /var/lib/containers (podman's images and containers); /run and /dev/shm are private anyway. Where
# test/lab/install-runtimes.sh made a containers.conf for this host, the node's podman reads it.
ANCHOR='set -e
N=$1 D=$2 B=$3 RUNTIMES=$4 NAME=$5
hostname "$NAME"
mkdir -p "$D/cgroup-hold" && mount --rbind /sys/fs/cgroup "$D/cgroup-hold"
mount -t sysfs sysfs /sys && mount --rbind "$D/cgroup-hold" /sys/fs/cgroup && umount -l "$D/cgroup-hold"
mkdir -p /var/lib/lxc /var/lib/containers
mount --bind "$D/lib-lxc" /var/lib/lxc
mount --bind "$D/lib-containers" /var/lib/containers
if [ -f "$RUNTIMES/containers.conf" ] && [ -d /etc/containers ]; then
  mkdir -p "$D/etc-containers" && cp -a /etc/containers/. "$D/etc-containers/" && cp "$RUNTIMES/containers.conf" "$D/etc-containers/containers.conf"
  mount --bind "$D/etc-containers" /etc/containers
fi
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -m 1777 /run/lock
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount --bind "$D/lib-pacemaker" /var/lib/pacemaker
mount --bind "$D/lib-corosync" /var/lib/corosync
mount --bind "$D/etc-corosync" /etc/corosync
mount --bind "$D/log-pacemaker" /var/log/pacemaker
mount --bind "$D/log-corosync" /var/log/corosync
if [ -d /var/log/cluster ]; then mount --bind "$D/log-cluster" /var/log/cluster; fi
mount --bind "$B/resource.d" /usr/lib/ocf/resource.d
mount --bind "$D/hosts" /etc/hosts
mount --bind "$D/lib-ferry" /var/lib/ferry
if [ -d "$B/etc-pacemaker" ]; then mount --bind "$B/etc-pacemaker" /etc/pacemaker; fi
if [ -d "$B/sbin" ]; then mount -t overlay overlay -o "lowerdir=$B/sbin:/usr/sbin" /usr/sbin; fi
readlink /proc/$$/ns/mnt > "$D/mntns"
readlink /proc/$$/ns/net > "$D/netns"
echo $$ > "$D/anchor.pid"
exec sleep infinity'

start_anchor() {
  N=$1 D=$B/node$1
  setsid nsenter --net="/run/netns/$(node_ns "$N")" unshare --mount --uts --propagation private \
    sh -c "$ANCHOR" anchor "$N" "$D" "$B" "${FERRY_RUNTIMES_PREFIX:-/opt/ferry/runtimes}" "$(node_name "$N")" </dev/null >"$D/anchor.out" 2>&1 &
}

# daemon N NAME cmd...: start a node daemon detached from the caller (its own session, no inherited stdio)
daemon() {
  N=$1 name=$2; shift 2; a=$(anchor "$N") || return 1
  # shellcheck disable=SC2086
  # appended: a node powered on again keeps its earlier log
  setsid env -i $DAEMON_ENV "$@" </dev/null >>"$B/node$N/$name.out" 2>&1 &
  echo $! > "$B/node$N/$name.pid"
}

# the node's helper; the CRIU it reports is the tests' (prepare-host.sh exports it), else the system's
helper_start() {
  N=$1
  # a remote node is in no corosync nodelist: its name is given
  named=''; [ "$N" -le 2 ] || named="--node $(node_name "$N")"
  # shellcheck disable=SC2086
  daemon "$N" ferry-serve nsenter -t "$(anchor "$N")" -n -m -u --wd=/ "$REPO/bin/ferry" serve \
    --listen "10.78.0.$N,10.79.0.$N" --authkey "$B/authkey" --dir /var/lib/ferry --criu "${FERRY_TEST_CRIU:-criu}" $named
}
helper_stop() {
  pid=$(cat "$B/node$1/ferry-serve.pid" 2>/dev/null) || return 0
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$B/node$1/ferry-serve.pid"
}
helper_ready() { on_node "$1" sh -c "ss -Htln | grep -q '10.78.0.$1:7787'"; }

corosync_ready() { on_node "$1" corosync-cfgtool -s >/dev/null 2>&1; }
# both nodes online and a DC elected, as node1's crm_mon sees it
cluster_online() {
  x=$(on_node 1 timeout 10 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  for n in node1 node2; do
    echo "$x" | grep -qE "<node name=\"$n\"[^>]* online=\"true\"" || return 1
  done
  echo "$x" | grep -q '<current_dc present="true"'
}

tails() {
  for n in 1 2; do
    for f in "$B/node$n/log-corosync/corosync.log" "$B/node$n/log-pacemaker/pacemaker.log" \
             "$B/node$n/corosync.out" "$B/node$n/pacemakerd.out" "$B/node$n/anchor.out"; do
      [ -s "$f" ] && { echo "---- tail $f"; tail -n 20 "$f"; }
    done
  done >&2
}
fail_up() { say "up failed: $*"; tails; say "the lab is left as is for inspection; run: $0 down"; exit 1; }

cmd_up() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  for c in ip nsenter unshare setsid find corosync corosync-cfgtool pacemakerd crm_mon nft losetup; do
    command -v $c >/dev/null 2>&1 || die "missing command: $c (run test/lab/install-host-packages.sh)"
  done
  [ -e "$REPO/ocf/ferry/container" ] || say "note: $REPO/ocf/ferry/container does not exist (yet)"
  t0=$(now_ms)
  cmd_down
  [ -e "$B" ] && die "$B exists and is not the lab's; set FERRY_LAB_DIR elsewhere"
  mkdir -p "$B" && touch "$B/$MARK" || die "cannot create $B"
  mkdir -m 0700 "$B/shared"
  mkdir -p /var/lib/ferry   # the mount point of each node's private one (a real install has it too)
  [ -e "$REPO/dist/src/cli/main.js" ] || die "the project is not built (npm run build)"
  "$REPO/bin/ferry" keygen --authkey "$B/authkey" >/dev/null || die "ferry keygen failed"
  make_net || fail_up "network setup failed"
  make_ocf_tree || fail_up "OCF tree copy failed"
  if [ "$FENCING" = 1 ]; then mkdir -p "$B/sbin" && install -m 0755 "$HERE/fence_ferrylab" "$B/sbin/fence_ferrylab" || fail_up "fence agent"; fi
  if [ "$REMOTES" = 1 ]; then
    # Pacemaker's own key between full and remote nodes (not Ferry's)
    mkdir -p "$B/etc-pacemaker" && dd if=/dev/urandom of="$B/etc-pacemaker/authkey" bs=4096 count=1 2>/dev/null &&
      chown root:haclient "$B/etc-pacemaker/authkey" && chmod 0640 "$B/etc-pacemaker/authkey" || fail_up "Pacemaker's authkey"
  fi
  nodes='1 2'; [ "$REMOTES" = 1 ] && nodes='1 2 3 4'
  for n in $nodes; do make_node_files $n || fail_up "$(node_name $n) files"; start_anchor $n; done
  for n in 1 2; do wait_until 10 anchor $n >/dev/null || fail_up "node$n anchor did not come up"; done
  for n in 1 2; do daemon $n corosync nsenter -t "$(anchor $n)" -n -m -u --wd=/ corosync -f; done
  for n in 1 2; do wait_until 20 corosync_ready $n || fail_up "corosync on node$n did not start"; done
  for n in 1 2; do
    daemon $n pacemakerd env PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none \
      nsenter -t "$(anchor $n)" -n -m -u --wd=/ pacemakerd
  done
  for n in 1 2; do helper_start $n; done
  wait_until "$UP_TIMEOUT" cluster_online || fail_up "both nodes not online after ${UP_TIMEOUT} s"
  for n in 1 2; do wait_until 10 helper_ready $n || fail_up "ferry serve on node$n did not start"; done
  [ "$REMOTES" = 1 ] && { remotes_up || fail_up "the remote nodes did not come up"; }
  t1=$(now_ms)
  echo "lab up in $(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 )) s ($B)"
}

# Pacemaker Remote nodes 3 and 4: their executor, their helper, the connection resources on the full nodes
remote_online() {
  x=$(on_node 1 timeout 10 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  for n in remote1 remote2; do
    echo "$x" | grep -qE "<node name=\"$n\"[^>]* online=\"true\"" || return 1
  done
}
remotes_up() {
  [ -x "$REMOTED" ] || { say "no pacemaker-remoted at $REMOTED (test/lab/install-remoted.sh)"; return 1; }
  for n in 3 4; do wait_until 10 anchor $n >/dev/null || { say "$(node_name $n) anchor did not come up"; return 1; }; done
  for n in 3 4; do
    daemon $n pacemaker-remoted env PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none \
      nsenter -t "$(anchor $n)" -n -m -u --wd=/ "$REMOTED"
    helper_start $n
  done
  for n in 3 4; do
    r=$(node_name $n)
    on_node 1 cibadmin --create -o resources --xml-text "<primitive id=\"$r\" class=\"ocf\" provider=\"pacemaker\" type=\"remote\">\
<instance_attributes id=\"$r-params\"><nvpair id=\"$r-server\" name=\"server\" value=\"10.78.0.$n\"/></instance_attributes>\
<operations><op id=\"$r-monitor\" name=\"monitor\" interval=\"10s\" timeout=\"15s\"/></operations></primitive>" || return 1
  done
  wait_until "$UP_TIMEOUT" remote_online || { say "remote1 and remote2 not online after ${UP_TIMEOUT} s"; return 1; }
  for n in 3 4; do wait_until 10 helper_ready $n || { say "ferry serve on $(node_name $n) did not start"; return 1; }; done
}

# ---------------------------------------------------------------------------------------------------- power
# The node's own addresses go and come back; its bridge stays up, because node1's bridge is also the lab's switch
# (the client and node2 reach each other through it), as a switch port stays up when the host behind it dies.
# Down is done through the node's anchor, so that the fencer can run it from inside the other node (whose /run,
# private, has no /run/netns); up only ever runs on the host.
node_links() {
  if [ "$2" = down ]; then
    a=$(anchor "$1") || return 0
    nsenter -t "$a" -n ip addr flush dev br0; nsenter -t "$a" -n ip link set mn0 down
  else
    ns=$(node_ns "$1"); ip -n "$ns" addr add "10.78.0.$1/24" dev br0 2>/dev/null; ip -n "$ns" link set mn0 up
  fi
  true
}

# Node N's power cut: its addresses gone first (nothing more leaves it), then every process of its mount or network
# namespace SIGKILLed (its anchor too: the mount namespace, /run with it, is gone as after a reboot)
power_off() {
  N=$1
  node_links "$N" down
  MNTNS=$(cat "$B/node$N/mntns" 2>/dev/null); NETNS=$(cat "$B/node$N/netns" 2>/dev/null); SPARE=$(ancestors)
  for round in 1 2 3; do
    left=$(lab_pids); [ -z "$left" ] && break
    kill -KILL $left 2>/dev/null; sleep 0.2
  done
  wait_until 5 no_lab_pids || { say "node$N: processes left after power-off: $(lab_pids | tr '\n' ' ')"; return 1; }
  rm -f "$B/node$N/anchor.pid" "$B/node$N/mntns"
  say "node$N powered off"
}

power_on() {
  N=$1
  anchor "$N" >/dev/null && { say "node$N is on"; return 0; }
  node_links "$N" up
  start_anchor "$N"
  wait_until 10 anchor "$N" >/dev/null || fail_up "node$N anchor did not come up"
  daemon "$N" corosync nsenter -t "$(anchor "$N")" -n -m -u --wd=/ corosync -f
  wait_until 20 corosync_ready "$N" || fail_up "corosync on node$N did not start"
  daemon "$N" pacemakerd env PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none \
    nsenter -t "$(anchor "$N")" -n -m -u --wd=/ pacemakerd
  helper_start "$N"
  wait_until "$UP_TIMEOUT" cluster_online || fail_up "node$N did not rejoin within ${UP_TIMEOUT} s"
  wait_until 10 helper_ready "$N" || fail_up "ferry serve on node$N did not start"
  say "node$N powered on, back in the cluster"
}

# ---------------------------------------------------------------------------------------------------- misc
cmd_status() {
  if [ -e "$B/$MARK" ]; then echo "lab dir: $B"; else echo "lab dir: $B (absent)"; fi
  for ns in $NS1 $NS2 $NSC; do
    if [ -e "/run/netns/$ns" ]; then echo "netns $ns: present"; else echo "netns $ns: absent"; fi
  done
  up=0
  for n in 1 2; do
    if a=$(anchor $n); then
      up=$((up + 1))
      m=$(cat "$B/node$n/mntns")
      d=$(for p in $(ns_pids mnt "$m"); do c=$(cat /proc/$p/comm 2>/dev/null) && echo "$c[$p]"; done |
          grep -E '^(corosync|pacemakerd)\[' | tr '\n' ' ')
      echo "node$n: anchor $a, ${d:-no cluster daemons}"
    else
      echo "node$n: down"
    fi
  done
  [ $up = 2 ] && { echo "crm_mon (node1):"; on_node 1 timeout 10 crm_mon -1; }
  return 0
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
  up) cmd_up ;;
  down) [ "$(id -u)" = 0 ] || die "must run as root"; cmd_down ;;
  status) cmd_status ;;
  exec)
    [ $# -ge 2 ] || die "usage: $0 exec 1|2|cl cmd [args...]"
    n=$1; shift
    case $n in
      1|2|3|4) a=$(anchor "$n") || { say "$(node_name "$n") is not up: $(anchor_gone "$n")"; exit 125; }
           # keep the caller's working directory: entering a mount namespace resets it to /
           exec nsenter -t "$a" -n -m -u --wd="$(pwd)" "$@" ;;
      cl)  [ -e "/run/netns/$NSC" ] || { say "client netns is not up"; exit 125; }
           exec nsenter --net="/run/netns/$NSC" "$@" ;;
      *) die "exec: node must be 1, 2 or cl" ;;
    esac ;;
  helper)
    [ $# -eq 2 ] || die "usage: $0 helper N start|stop"
    case $2 in
      start) helper_stop "$1"; helper_start "$1"; wait_until 10 helper_ready "$1" || die "ferry serve on node$1 did not start" ;;
      stop) helper_stop "$1" ;;
      *) die "usage: $0 helper N start|stop" ;;
    esac ;;
  power-off|power-on|power-state)
    case ${1:-} in 1|2) ;; *) die "usage: $0 $cmd 1|2" ;; esac
    [ "$(id -u)" = 0 ] || die "must run as root"
    case $cmd in
      power-off) power_off "$1" ;;
      power-on) power_on "$1" ;;
      power-state) if anchor "$1" >/dev/null; then echo on; else echo off; fi ;;
    esac ;;
  logs)
    case ${1:-} in 1|2|3|4) ;; *) die "usage: $0 logs 1|2|3|4 [LINES]" ;; esac
    f=$B/node$1/log-pacemaker/pacemaker.log
    [ -e "$f" ] || die "no pacemaker log for node$1 ($f)"
    tail -n "${2:-100}" "$f" ;;
  *) die "usage: $0 up|down|status|exec 1|2|cl cmd...|logs 1|2 [LINES]" ;;
esac
