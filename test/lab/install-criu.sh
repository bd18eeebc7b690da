#!/bin/sh
# Provides a CRIU that can checkpoint a process holding a TCP socket on this kernel, and prints its path.
#   1. the system's `criu`, if `criu check` passes and it can dump a process with an IPv4 socket;
#   2. else CRIU from Debian sid unpacked into PREFIX (default /opt/ferry/criu) with sid's own glibc and
#      libraries, run through sid's dynamic loader by the wrapper PREFIX/criu. The system libc is untouched.
# Why: bookworm's criu 3.17 fails `criu check` on 6.x kernels with a newer vDSO layout, and criu < 4.2
# cannot dump IPv4/IPv6 sockets on kernels >= 6.16 ("Can't get 1:16 opt").
# Pinned: whatever it takes must be CRIU FERRY_CRIU_MIN (default 4.2) or later, and FERRY_CRIU_VERSION (a Debian
# version of sid's criu, e.g. 4.2.1-1) installs exactly that one, or fails if sid no longer carries it. The
# version is printed and recorded in PREFIX/VERSION (CRIU's own, then every unpacked package's Debian version):
# give every node the same one, e.g. by copying PREFIX to the same path on each (it is self-contained) or by
# FERRY_CRIU_VERSION set to the first node's. `ferry check` warns when two nodes' CRIU versions differ.
# usage: install-criu.sh [PREFIX]      progress on stderr, the chosen binary's path on stdout
set -eu
PREFIX=${1:-/opt/ferry/criu}
HERE=$(cd "$(dirname "$0")" && pwd)
MIN=${FERRY_CRIU_MIN:-4.2}
PIN=${FERRY_CRIU_VERSION:-}

can_dump_tcp() { # $1 = criu binary
  "$1" check >/dev/null 2>&1 || return 1
  sh "$HERE/criu-socket-probe.sh" "$1" >/dev/null 2>&1
}
criu_version() { "$1" --version 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }
# at_least VERSION MIN: dotted numeric comparison
at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }
# usable BINARY: new enough, and dumps a TCP socket on this kernel; says why not
usable() {
  v=$(criu_version "$1")
  [ -n "$v" ] || { echo "install-criu: $1 --version says no version" >&2; return 1; }
  at_least "$v" "$MIN" || { echo "install-criu: $1 is CRIU $v, older than $MIN" >&2; return 1; }
  can_dump_tcp "$1" || { echo "install-criu: $1 (CRIU $v) cannot dump a process with a TCP socket on $(uname -r)" >&2; return 1; }
}
# the Debian version of sid's criu unpacked into PREFIX (from the VERSION record)
pinned_ok() { [ -z "$PIN" ] || grep -qx "criu $PIN" "$PREFIX/VERSION" 2>/dev/null; }

if [ -z "$PIN" ] && command -v criu >/dev/null 2>&1 && usable "$(command -v criu)" 2>/dev/null; then
  echo "install-criu: the system's $(command -v criu), CRIU $(criu_version "$(command -v criu)")" >&2
  command -v criu; exit 0
fi
if [ -x "$PREFIX/criu" ] && pinned_ok && usable "$PREFIX/criu" 2>/dev/null; then
  echo "install-criu: $PREFIX/criu, CRIU $(criu_version "$PREFIX/criu") ($(grep '^criu ' "$PREFIX/VERSION" 2>/dev/null || echo 'no record'))" >&2
  echo "$PREFIX/criu"; exit 0
fi

echo "install-criu: installing CRIU from Debian sid into $PREFIX" >&2
# staged beside PREFIX and swapped in only once it works: a failed or refused install leaves the old one alone
S=$PREFIX.new.$$
trap 'rm -rf "$S"' EXIT
rm -rf "$S"
mkdir -p "$S/apt/lists/partial" "$S/debs" "$S/root"
chmod 0755 "$S"
# sid from the archive this system's apt sources take bookworm from (or FERRY_CRIU_MIRROR): a local mirror too
mirror=${FERRY_CRIU_MIRROR:-$(sh "$HERE/apt-mirror.sh" bookworm || true)}
[ -n "$mirror" ] || { echo "install-criu: no Debian archive in this system's apt sources; set FERRY_CRIU_MIRROR" >&2; exit 1; }
printf 'deb %s sid main\n' "$mirror" > "$S/apt/sources.list"
set -- -o "Dir::Etc::SourceList=$S/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
       -o "Dir::State::Lists=$S/apt/lists" -o Dir::Cache=$S/apt/cache -o APT::Sandbox::User=root
apt-get "$@" update >/dev/null
# criu and every shared library it loads, at sid's versions (sid's criu needs sid's glibc)
LIBS="criu libcompel1 libc6 libgnutls30t64 libnftables1 libprotobuf-c1 libnl-3-200 libnet9 libbsd0 libuuid1 libmd0
 libp11-kit0 libidn2-0 libunistring5 libtasn1-6 libnettle8t64 libhogweed6t64 libgmp10 libmnl0 libnftnl11 libjansson4
 libxtables12 libedit2 libffi8 libtinfo6 libbpf1 libelf1t64 zlib1g libzstd1"
if [ -n "$PIN" ]; then
  LIBS=$(echo "$LIBS" | sed "s/^criu /criu=$PIN /")
  apt-cache "$@" madison criu | awk -F'|' -v v="$PIN" '{gsub(/ /, "", $2)} $2 == v {found = 1} END {exit !found}' || {
    echo "install-criu: sid has no criu $PIN (it has: $(apt-cache "$@" madison criu | awk -F'|' '{gsub(/ /,"",$2); print $2}' | tr '\n' ' '))" >&2; exit 1; }
fi
(cd "$S/debs" && apt-get "$@" download $LIBS >/dev/null)
for deb in "$S"/debs/*.deb; do dpkg -x "$deb" "$S/root"; done
record=$(for deb in "$S"/debs/*.deb; do dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb"; done | sort)
rm -rf "$S/debs" "$S/apt"
# relocatable: the wrapper finds its libraries beside itself, so the directory can be copied to other nodes
cat > "$S/criu" <<'WRAP'
#!/bin/sh
d=$(dirname "$(readlink -f "$0")")
L=$d/root/usr/lib/x86_64-linux-gnu
exec "$L/ld-linux-x86-64.so.2" --library-path "$L:$d/root/lib/x86_64-linux-gnu" "$d/root/usr/sbin/criu" "$@"
WRAP
chmod 0755 "$S/criu"
if ! usable "$S/criu"; then
  echo "install-criu: the CRIU from sid is not usable here (the one in $PREFIX, if any, is left as it was):" >&2
  "$S/criu" check >&2 || true
  exit 1
fi
{ echo "CRIU $(criu_version "$S/criu")"; echo "$record"; } > "$S/VERSION"
rm -rf "$PREFIX.old.$$"
[ ! -e "$PREFIX" ] || mv -T "$PREFIX" "$PREFIX.old.$$"
mv -T "$S" "$PREFIX"
rm -rf "$PREFIX.old.$$"
trap - EXIT
echo "install-criu: installed CRIU $(criu_version "$PREFIX/criu") ($(grep '^criu ' "$PREFIX/VERSION")) into $PREFIX, recorded in $PREFIX/VERSION" >&2
echo "$PREFIX/criu"
