#!/bin/sh
# Provides a CRIU that can checkpoint a process holding a TCP socket on this kernel, and prints its path.
#   1. the system's `criu`, if `criu check` passes and it can dump a process with an IPv4 socket;
#   2. else CRIU from Debian sid unpacked into PREFIX (default /opt/ferry/criu) with sid's own glibc and
#      libraries, run through sid's dynamic loader by the wrapper PREFIX/criu. The system libc is untouched.
# Why: bookworm's criu 3.17 fails `criu check` on 6.x kernels with a newer vDSO layout, and criu < 4.2
# cannot dump IPv4/IPv6 sockets on kernels >= 6.16 ("Can't get 1:16 opt").
# usage: install-criu.sh [PREFIX]      progress on stderr, the chosen binary's path on stdout
set -eu
PREFIX=${1:-/opt/ferry/criu}
HERE=$(cd "$(dirname "$0")" && pwd)

can_dump_tcp() { # $1 = criu binary
  "$1" check >/dev/null 2>&1 || return 1
  sh "$HERE/criu-socket-probe.sh" "$1" >/dev/null 2>&1
}

if command -v criu >/dev/null 2>&1 && can_dump_tcp "$(command -v criu)"; then
  command -v criu; exit 0
fi
if [ -x "$PREFIX/criu" ] && can_dump_tcp "$PREFIX/criu"; then
  echo "$PREFIX/criu"; exit 0
fi

echo "install-criu: installing CRIU from Debian sid into $PREFIX" >&2
rm -rf "$PREFIX"
mkdir -p "$PREFIX/apt/lists/partial" "$PREFIX/debs" "$PREFIX/root"
chmod 0755 "$PREFIX"
printf 'deb http://deb.debian.org/debian sid main\n' > "$PREFIX/apt/sources.list"
set -- -o "Dir::Etc::SourceList=$PREFIX/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
       -o "Dir::State::Lists=$PREFIX/apt/lists" -o Dir::Cache=$PREFIX/apt/cache -o APT::Sandbox::User=root
apt-get "$@" update >/dev/null
# criu and every shared library it loads, at sid's versions (sid's criu needs sid's glibc)
LIBS="criu libcompel1 libc6 libgnutls30t64 libnftables1 libprotobuf-c1 libnl-3-200 libnet9 libbsd0 libuuid1 libmd0
 libp11-kit0 libidn2-0 libunistring5 libtasn1-6 libnettle8t64 libhogweed6t64 libgmp10 libmnl0 libnftnl11 libjansson4
 libxtables12 libedit2 libffi8 libtinfo6 libbpf1 libelf1t64 zlib1g libzstd1"
(cd "$PREFIX/debs" && apt-get "$@" download $LIBS >/dev/null)
for deb in "$PREFIX"/debs/*.deb; do dpkg -x "$deb" "$PREFIX/root"; done
rm -rf "$PREFIX/debs" "$PREFIX/apt"
LIB="$PREFIX/root/usr/lib/x86_64-linux-gnu"
cat > "$PREFIX/criu" <<WRAP
#!/bin/sh
exec $LIB/ld-linux-x86-64.so.2 --library-path $LIB:$PREFIX/root/lib/x86_64-linux-gnu $PREFIX/root/usr/sbin/criu "\$@"
WRAP
chmod 0755 "$PREFIX/criu"
if ! can_dump_tcp "$PREFIX/criu"; then
  echo "install-criu: the installed CRIU cannot dump a process with a socket here:" >&2
  "$PREFIX/criu" check >&2 || true
  exit 1
fi
echo "$PREFIX/criu"
