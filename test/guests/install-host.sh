#!/bin/sh
# Host side of the guest lab (idempotent, quiet): QEMU, debootstrap, a static busybox for the initramfs, and
# the stock Debian bookworm kernel (6.1: soft-dirty, drbd.ko 8.4), unpacked but never installed on the host, and
# the iptables packages for the guests.
#   install-host.sh [--refresh]     prints the unpacked kernel's directory on stdout
# --refresh asks apt for a newer 6.1 kernel even when one is already unpacked (a new one changes the image hash).
# Environment: FERRY_GUESTS_CACHE (default /var/cache/ferry-guests).
set -eu
CACHE=${FERRY_GUESTS_CACHE:-/var/cache/ferry-guests}
KDIR=$CACHE/kernel
# e2fsprogs: mkfs.ext4 -d; socat: the guests' serial console, interactively (guests.sh console)
PKGS="qemu-system-x86 qemu-utils debootstrap busybox-static e2fsprogs socat"

say() { echo "install-host: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "must run as root"; exit 1; }

updated=no
apt_update() {
  [ $updated = yes ] && return 0
  apt-get update -qq >/dev/null
  updated=yes
}

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing$missing"
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# the newest unpacked kernel, if any ("linux-image-6.1.0-56-amd64", sorted by ABI number)
newest_unpacked() {
  ls -d "$KDIR"/linux-image-6.1.0-*-amd64/.complete 2>/dev/null | sed 's|/\.complete$||; s|.*/||' | sort -V | tail -n 1
}

have=$(newest_unpacked)
if [ -z "$have" ] || [ "${1:-}" = --refresh ]; then
  apt_update
  want=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | cut -d' ' -f1 | sort -V | tail -n 1)
  [ -n "$want" ] || { say "apt knows no linux-image-6.1.0-*-amd64 (is bookworm in the sources?)"; exit 1; }
  if [ ! -e "$KDIR/$want/.complete" ]; then
    say "fetching $want (unpacked under $KDIR, not installed)"
    rm -rf "$KDIR/$want" "$KDIR/$want.debs"
    mkdir -p "$KDIR/$want.debs"
    (cd "$KDIR/$want.debs" && apt-get download -qq -o APT::Sandbox::User=root "$want" >/dev/null)
    dpkg -x "$KDIR/$want.debs/${want}_"*.deb "$KDIR/$want"
    rm -rf "$KDIR/$want.debs"
    touch "$KDIR/$want/.complete"
  fi
  have=$want
fi

# iptables and its libraries, for the guest scenario that installs them (CRIU's network lock is iptables where its
# tools exist, nftables otherwise): fetched once, never installed on the host (the lab must stay without them)
IPT=$CACHE/iptables-debs
IPT_PKGS="iptables libip4tc2 libip6tc2 libxtables12 libnetfilter-conntrack3 libnfnetlink0 libnftnl11 libmnl0 netbase"
ipt_missing=""
for p in $IPT_PKGS; do ls "$IPT/${p}_"*.deb >/dev/null 2>&1 || ipt_missing="$ipt_missing $p"; done
if [ -n "$ipt_missing" ]; then
  apt_update
  say "fetching$ipt_missing for the guests into $IPT (not installed here)"
  mkdir -p "$IPT"
  # shellcheck disable=SC2086
  (cd "$IPT" && apt-get download -qq -o APT::Sandbox::User=root $ipt_missing >/dev/null)
fi
echo "$KDIR/$have"
