#!/bin/sh
# Installs the container runtimes the lxc and podman drivers are tested with, and the files they need on this
# host, then prints the directory to put first in PATH (it holds the `criu` wrapper).  Idempotent and quiet.
#
#   install-runtimes.sh [PREFIX]      progress on stderr, PREFIX/bin on stdout (default PREFIX /opt/ferry/runtimes)
#
# What it makes:
#   PREFIX/bin/criu        wrapper: execs the CRIU that install-criu.sh chose (4.2.1 from sid here: bookworm's
#                          3.17 fails on this kernel) with CRIU_CONFIG_FILE=PREFIX/criu.conf unless the caller set
#                          one.  podman (via runc), runc and lxc-checkpoint all exec `criu` from PATH; the system's
#                          /usr/sbin/criu (if any) is never touched.
#   PREFIX/criu.conf       options every CRIU run gets (CRIU has one config file for all actions, and runc/podman
#                          run `criu swrk`, so the wrapper cannot tell dump from restore):
#                            network-lock nftables  there is no iptables here; restore reads the method from the
#                                                   image, so the same line is right for both sides
#   PREFIX/containers.conf podman settings for this host; the lab exports CONTAINERS_CONF=PREFIX/containers.conf
#                          inside its nodes, the host's /etc/containers stays as the package made it
#   PREFIX/env             `. PREFIX/env` sets PATH and CONTAINERS_CONF for a shell that runs the runtimes
#
# Packages: lxc podman runc netavark conmon with --no-install-recommends.  The iptables package must NOT come
# with them (the lab has to run with and without it, and installing it changes CRIU's network lock): the
# install is simulated first and refused if apt would pull iptables.  The CNI plugins package depends on
# iptables and is not installed; podman's containers join a network namespace made by the agent (--network ns:).
#
# Environment: FERRY_RUNTIMES_CRIU  the CRIU binary for the wrapper (default: what install-criu.sh prints)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${1:-/opt/ferry/runtimes}
PKGS="lxc podman runc netavark conmon"

say() { echo "install-runtimes: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

# ------------------------------------------------------------------------------------------------ packages
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  sim=$(apt-get -s install --no-install-recommends $missing) || { echo "$sim" >&2; die "apt-get cannot install:$missing"; }
  if echo "$sim" | grep -qE '^Inst (iptables|arptables|ebtables) '; then
    echo "$sim" | grep -E '^Inst ' >&2
    die "installing$missing would pull the iptables package (see above); refusing: the lab must run without it"
  fi
  # keep package scripts from starting services (lxc-net, lxc) on the host itself; a policy-rc.d that
  # someone else put there is left alone
  own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  say "installing$missing"
  # shellcheck disable=SC2086
  log=$(mktemp /tmp/install-runtimes.XXXXXX)
  apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1 || { tail -n 30 "$log" >&2; rm -f "$log"; die "apt-get install failed"; }
  rm -f "$log"
  [ -z "$own_policy" ] || { rm -f /usr/sbin/policy-rc.d; trap - EXIT; }
fi
for c in lxc-start lxc-checkpoint lxc-info podman runc conmon; do
  command -v $c >/dev/null 2>&1 || die "missing command after install: $c"
done
# the check again, for a host where iptables came some other way: not an error, but CRIU's lock differs
if dpkg-query -W -f='${Status}' iptables 2>/dev/null | grep -q "install ok installed"; then
  say "note: the iptables package is installed on this host"
fi

# ------------------------------------------------------------------------------------------------ host facts
# cgroups: this host is v1 ("hybrid": the v2 hierarchy at /sys/fs/cgroup/unified holds no controller), so
# lxc.cgroup2.* keys do nothing and crun refuses to run (and Debian's crun is built without CRIU): podman uses
# runc.  The guests with a stock kernel may mount a unified hierarchy; nothing here depends on which.
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then cg=v2
elif [ -d /sys/fs/cgroup/memory ]; then cg=v1
else cg=unknown; fi
[ "$cg" != unknown ] || say "note: no memory cgroup controller found under /sys/fs/cgroup"

# ------------------------------------------------------------------------------------------------ files
CRIU=${FERRY_RUNTIMES_CRIU:-$(sh "$HERE/install-criu.sh")} || die "no usable CRIU (install-criu.sh failed)"
[ -x "$CRIU" ] || die "CRIU binary $CRIU is not executable"
mkdir -p "$PREFIX/bin"
chmod 0755 "$PREFIX" "$PREFIX/bin"

# write_if_changed FILE MODE: stdin to FILE, untouched (mtime kept) when the content is the same
write_if_changed() {
  tmp="$1.tmp.$$"
  cat > "$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else chmod "$2" "$tmp"; mv -f "$tmp" "$1"; fi
}

write_if_changed "$PREFIX/criu.conf" 0644 <<EOF
# written by test/lab/install-runtimes.sh: options for every CRIU run through $PREFIX/bin/criu
# no iptables on the lab hosts: lock the container's network with nftables during dump (restore reads the
# method from the image)
network-lock nftables
EOF

# FERRY_CRIU_LOG: if set, each call's argv is appended there (to see what a runtime asks CRIU for)
write_if_changed "$PREFIX/bin/criu" 0755 <<EOF
#!/bin/sh
# written by test/lab/install-runtimes.sh: CRIU for runtimes that exec \`criu\` from PATH
export CRIU_CONFIG_FILE="\${CRIU_CONFIG_FILE:-$PREFIX/criu.conf}"
if [ -n "\${FERRY_CRIU_LOG:-}" ]; then echo "\$(date +%s.%N) \$\$ criu \$*" >> "\$FERRY_CRIU_LOG"; fi
exec "$CRIU" "\$@"
EOF

# podman 4.3.1 here: no systemd (so cgroupfs and a file for events, not journald), runc (see above), and
# root lacks CAP_SYS_RESOURCE, so podman's default rlimits (nofile 1048576, nproc 4194304) cannot be set
write_if_changed "$PREFIX/containers.conf" 0644 <<'EOF'
# written by test/lab/install-runtimes.sh; used through CONTAINERS_CONF (the host's /etc/containers is untouched)
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF

write_if_changed "$PREFIX/env" 0644 <<EOF
# written by test/lab/install-runtimes.sh: . this file to run lxc/podman/runc with the lab's CRIU and podman config
PATH="$PREFIX/bin:\$PATH"
CONTAINERS_CONF="$PREFIX/containers.conf"
export PATH CONTAINERS_CONF
EOF

v=$("$PREFIX/bin/criu" --version 2>/dev/null | awk '/^Version:/ {print $2}')
[ -n "$v" ] || die "$PREFIX/bin/criu --version failed"
echo "$PREFIX/bin"
