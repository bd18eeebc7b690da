#!/bin/sh
# Builds (or finds cached) the root filesystem of the lab's LXC and podman containers and prints, one a line:
#   CACHE/HASH/rootfs        Debian bookworm minbase + python3 (minimal + stdlib), with the lab's workload in /srv/ferry
#   CACHE/HASH/rootfs.tar    the same tree as a tar, for `podman import` (built once: importing the same tar with
#                            the same --change gives the same image ID on every node, which a restore requires)
# /srv/ferry/server.py is test/lab/workload/server.py (the echo-counter server); /srv/ferry/init is the
# container's init: `exec python3 /srv/ferry/server.py COUNTER [PORT [BALLAST_MIB [DIRTY_MIB_PER_S]]]` with
# COUNTER=$FERRY_COUNTER or /srv/ferry/counter, the other arguments passed through (python's SIGTERM handler
# makes it stop on TERM even as pid 1).
# The directory is shared and read-only by convention: copy it (cp -a) before a container writes into it.
#
#   build-rootfs.sh [--force]        progress on stderr, the two paths on stdout
#
# Cache: two levels, as test/guests/build-image.sh: the debootstrapped base (slow: downloads) depends only on the
# package list and the mirror; the final tree on this script and the workload too.  The newest base and the
# newest two trees are kept.
# Mirror: the Debian archive of this system's apt sources (deb822 /etc/apt/sources.list.d/*.sources or
# one-line /etc/apt/sources.list; the entry that carries the "bookworm" suite), or FERRY_ROOTFS_MIRROR.
# Environment: FERRY_ROOTFS_CACHE (default /var/cache/ferry-rootfs), FERRY_ROOTFS_MIRROR.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${FERRY_ROOTFS_CACHE:-/var/cache/ferry-rootfs}
SUITE=bookworm
# python3-minimal + libpython3-stdlib (secrets, json: the workload's imports beyond the minimal set)
PACKAGES=python3-minimal,libpython3-stdlib

say() { echo "build-rootfs: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, file ownership in the tree)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"

MIRROR=${FERRY_ROOTFS_MIRROR:-$(sh "$HERE/apt-mirror.sh" "$SUITE" || true)}
[ -n "$MIRROR" ] || die "no Debian mirror for $SUITE in /etc/apt/sources.list{,.d/*.sources,.d/*.list}; set FERRY_ROOTFS_MIRROR"

base_hash=$(printf '%s\n%s\n%s\n' "$SUITE" "$PACKAGES" "$MIRROR" | sha256sum | cut -c1-16)
hash=$({ cat "$0" "$HERE/workload/server.py"; echo "base $base_hash"; } | sha256sum | cut -c1-16)
OUT=$CACHE/$hash
done_out() { echo "$OUT/rootfs"; echo "$OUT/rootfs.tar"; exit 0; }
if [ -e "$OUT/.complete" ] && [ "${1:-}" != --force ]; then done_out; fi

mkdir -p "$CACHE/base" "$CACHE/debs"
exec 9>"$CACHE/.build.lock"
flock -w 1800 9 || die "another build holds $CACHE/.build.lock"
if [ -e "$OUT/.complete" ] && [ "${1:-}" != --force ]; then done_out; fi   # built while we waited

t0=$(now)
BASE=$CACHE/base/$base_hash
if [ ! -e "$BASE/.complete" ] || [ "${1:-}" = --force ]; then
  rm -rf "$BASE"
  mkdir -p "$BASE"
  say "debootstrap $SUITE from $MIRROR into $BASE/root (debs cached in $CACHE/debs)"
  debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PACKAGES" \
    "$SUITE" "$BASE/root" "$MIRROR" > "$BASE/debootstrap.log" 2>&1 || {
    tail -n 30 "$BASE/debootstrap.log" >&2; die "debootstrap failed"; }
  touch "$BASE/.complete"
  say "debootstrap done in $(($(now) - t0)) s ($(du -sm "$BASE/root" | cut -f1) MB)"
  for old in "$CACHE"/base/*/; do [ "${old%/}" = "$BASE" ] || rm -rf "$old"; done
fi

WORK=$CACHE/.build-$hash
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
R=$WORK/rootfs
cp -a "$BASE/root" "$R"

# what a container never uses, and the host's files debootstrap copied in
rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/* \
  "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* \
  "$R"/var/log/*.log "$R"/var/cache/debconf/*-old
: > "$R/etc/resolv.conf"
echo ferry-ct > "$R/etc/hostname"

mkdir -p "$R/srv/ferry"
install -m 0755 "$HERE/workload/server.py" "$R/srv/ferry/server.py"
cat > "$R/srv/ferry/init" <<'EOF'
#!/bin/sh
# container init of Ferry's lab: the echo-counter server as pid 1 (it exits on SIGTERM)
exec /usr/bin/python3 /srv/ferry/server.py "${FERRY_COUNTER:-/srv/ferry/counter}" "$@"
EOF
chmod 0755 "$R/srv/ferry/init"
# the workload must import with what is in the tree
chroot "$R" /usr/bin/python3 -c 'import socket, threading, signal, secrets, json' ||
  die "python3 in the tree cannot import the workload's modules"

chroot "$R" dpkg-query -W -f='${Package} ${Version}\n' > "$WORK/manifest"
echo "mirror $MIRROR" >> "$WORK/manifest"
# a stable tar: sorted names, numeric owners, one mtime, so that a rebuild of the same inputs gives the same bytes
tar -C "$R" --sort=name --numeric-owner --mtime=@0 --xattrs -cf "$WORK/rootfs.tar" .

rm -rf "$OUT"
mv "$WORK" "$OUT"
trap - EXIT
touch "$OUT/.complete"
say "rootfs $OUT built in $(($(now) - t0)) s ($(du -sm "$OUT/rootfs" | cut -f1) MB)"
# (only the built trees: base/ and debs/ are caches of their own; an if, not a && list: under set -e a last test
# that fails would end this script with status 1 after a good build, as it did once debs/ was third newest)
ls -dt "$CACHE"/*/ 2>/dev/null | grep -Ev "/(base|debs)/$" | tail -n +3 | while read -r old; do
  if [ -e "$old/.complete" ]; then rm -rf "$old"; fi
done
done_out
