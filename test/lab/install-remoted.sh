#!/bin/sh
# Unpacks Pacemaker Remote's executor (pacemaker-remoted) for the lab's remote nodes and prints its path.
# Idempotent and quiet.
#
#   install-remoted.sh [PREFIX]     progress on stderr, the binary's path on stdout (default /opt/ferry/pacemaker-remote)
#
# Debian's pacemaker-remote package Conflicts: pacemaker (a machine is either a full node or a remote one), so it
# is not installed: `apt-get download` of the version matching the installed pacemaker, from the system's apt
# sources, and `dpkg -x` into PREFIX/root. It runs on the libraries pacemaker already brought (libcrmcommon,
# liblrmd, libcrmservice: the same version).
set -eu
PREFIX=${1:-/opt/ferry/pacemaker-remote}
BIN=$PREFIX/root/usr/sbin/pacemaker-remoted

say() { echo "install-remoted: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
want=$(dpkg-query -W -f='${Version}' pacemaker 2>/dev/null) || die "pacemaker is not installed (test/lab/install-host-packages.sh)"
[ -n "$want" ] || die "pacemaker is not installed (test/lab/install-host-packages.sh)"

if [ -x "$BIN" ] && [ "$(cat "$PREFIX/version" 2>/dev/null)" = "$want" ]; then echo "$BIN"; exit 0; fi

work=$(mktemp -d /tmp/install-remoted.XXXXXX)
chmod 0755 "$work"   # apt's download user writes into it
trap 'rm -rf "$work"' EXIT
say "downloading pacemaker-remote $want"
(cd "$work" && apt-get download -qq "pacemaker-remote=$want" >"$work/apt.log" 2>&1) || {
  apt-get update -qq >/dev/null 2>&1 || true
  (cd "$work" && apt-get download -qq "pacemaker-remote=$want" >"$work/apt.log" 2>&1) || { tail -n 20 "$work/apt.log" >&2; die "apt-get download pacemaker-remote=$want failed"; }
}
rm -rf "$PREFIX/root"
mkdir -p "$PREFIX/root"
dpkg -x "$work"/pacemaker-remote_*.deb "$PREFIX/root"
[ -x "$BIN" ] || die "the package holds no usr/sbin/pacemaker-remoted"
echo "$want" > "$PREFIX/version"
echo "$BIN"
