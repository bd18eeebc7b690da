#!/bin/sh
# Builds (or finds cached) the guest lab's boot files and prints their directory:
#   CACHE/images/HASH/{vmlinuz, initrd.gz, root.img, kernel-release, manifest}
# root.img: ext4 (mkfs.ext4 -d) of a Debian bookworm minbase root with CRIU, DRBD, corosync/Pacemaker, the stock
# 6.1 kernel's modules, Debian's own nodejs (18.20: Ferry runs in the guests on the Node.js admins' nodes have),
# and the guest side of the lab (test/guests/image/). initrd.gz: busybox + the modules needed to mount root.
# HASH covers this script, test/guests/packages, test/guests/image/*, the kernel package and the busybox binary:
# nothing of Ferry itself, which guests.sh copies into each guest at boot.
#   build-image.sh [--force]       progress on stderr, the directory on stdout
# Environment: FERRY_GUESTS_CACHE (default /var/cache/ferry-guests), FERRY_GUESTS_MIRROR (the Debian archive;
# default: the one this system's apt sources take bookworm from, test/lab/apt-mirror.sh).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${FERRY_GUESTS_CACHE:-/var/cache/ferry-guests}
MIRROR=${FERRY_GUESTS_MIRROR:-$(sh "$HERE/../lab/apt-mirror.sh" bookworm || true)}
# module trees a virtio guest never loads
TRIM_MODULES="sound drivers/gpu drivers/media drivers/infiniband drivers/net/wireless drivers/net/ethernet
 drivers/staging drivers/scsi drivers/usb drivers/hid drivers/bluetooth drivers/isdn drivers/iio drivers/input
 drivers/platform drivers/video drivers/mtd drivers/net/can drivers/net/usb drivers/hwmon drivers/thunderbolt
 net/bluetooth net/wireless net/mac80211"
INITRD_MODULES="virtio_pci virtio_blk ext4 crc32c_generic"

say() { echo "build-image: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, file ownership in the image)"

KERNEL=$(sh "$HERE/install-host.sh")
KREL=$(ls "$KERNEL/lib/modules")
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "no $BUSYBOX (busybox-static)"

[ -n "$MIRROR" ] || die "no Debian archive for bookworm in this system's apt sources; set FERRY_GUESTS_MIRROR"
PACKAGES=$(grep -v '^#' "$HERE/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')

# Two cache levels: the debootstrapped root (slow: downloads) only depends on the package list; the image on
# everything else too, so editing the guest's init or agent rebuilds in seconds.
base_hash=$(printf '%s\n%s\n' "$PACKAGES" "$MIRROR" | sha256sum | cut -c1-16)
hash=$({
  cat "$0" "$HERE/packages"
  for f in "$HERE"/image/*; do echo "== $(basename "$f")"; cat "$f"; done
  echo "kernel $(basename "$KERNEL") $KREL base $base_hash"
  sha256sum "$BUSYBOX" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
OUT=$CACHE/images/$hash
if [ -e "$OUT/.complete" ] && [ "${1:-}" != --force ]; then
  echo "$OUT"
  exit 0
fi

mkdir -p "$CACHE/images" "$CACHE/base" "$CACHE/debs"
exec 9>"$CACHE/.build.lock"
flock -w 3600 9 || die "another build holds $CACHE/.build.lock"
if [ -e "$OUT/.complete" ] && [ "${1:-}" != --force ]; then echo "$OUT"; exit 0; fi   # built while we waited

t0=$(now)
BASE=$CACHE/base/$base_hash
if [ ! -e "$BASE/.complete" ] || [ "${1:-}" = --force ]; then
  rm -rf "$BASE"
  mkdir -p "$BASE"
  say "debootstrap bookworm into $BASE/root (debs cached in $CACHE/debs)"
  debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PACKAGES" \
    bookworm "$BASE/root" "$MIRROR" > "$BASE/debootstrap.log" 2>&1 || {
    tail -n 30 "$BASE/debootstrap.log" >&2; die "debootstrap failed"; }
  touch "$BASE/.complete"
  say "debootstrap done in $(($(now) - t0)) s ($(du -sm "$BASE/root" | cut -f1) MB)"
  # only the newest base is kept
  for old in "$CACHE"/base/*/; do [ "${old%/}" = "$BASE" ] || rm -rf "$old"; done
fi

WORK=$CACHE/images/.build-$hash
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
cp -a "$BASE/root" "$ROOT"

# the stock kernel's modules, trimmed, with fresh dependency data
mkdir -p "$ROOT/lib/modules"
cp -a "$KERNEL/lib/modules/$KREL" "$ROOT/lib/modules/"
for d in $TRIM_MODULES; do rm -rf "$ROOT/lib/modules/$KREL/kernel/$d"; done
depmod -b "$ROOT" "$KREL"

install -m 0755 "$HERE/image/init" "$ROOT/usr/local/sbin/ferry-guest-init"
install -m 0755 "$HERE/image/agent.py" "$ROOT/usr/local/sbin/ferry-guest-agent"
install -m 0644 "$HERE/image/inittab" "$ROOT/etc/inittab"
# never phone home (drbd-utils' default), and no prompt about it in create-md
sed -i 's/usage-count[[:space:]]*yes/usage-count no/' "$ROOT/etc/drbd.d/global_common.conf"
mkdir -p "$ROOT/var/lib/ferry" "$ROOT/etc/ferry"

# what only an installed system would use (Python's __pycache__ stays: without it every import compiles, slow
# under emulation)
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/* \
  "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* \
  "$ROOT"/var/log/*.log "$ROOT"/var/cache/debconf/*-old
chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}\n' > "$WORK/manifest"
echo "kernel $(basename "$KERNEL") ($KREL)" >> "$WORK/manifest"
echo "node $(chroot "$ROOT" node --version)" >> "$WORK/manifest"

# root image: sparse, room to spare (the per-guest qcow2 overlays take the writes)
used=$(du -sm "$ROOT" | cut -f1)
truncate -s "$((used + 2048))M" "$WORK/root.img"
mkfs.ext4 -q -F -L ferry-guest -E root_owner=0:0 -d "$ROOT" "$WORK/root.img"

# initramfs: busybox, the modules to mount root in dependency order, the init in image/initramfs-init
I=$WORK/initrd
mkdir -p "$I/bin" "$I/proc" "$I/sys" "$I/dev" "$I/newroot" "$I/modules"
cp "$BUSYBOX" "$I/bin/busybox"
install -m 0755 "$HERE/image/initramfs-init" "$I/init"
# shellcheck disable=SC2086
modprobe -d "$ROOT" -S "$KREL" -a --show-depends $INITRD_MODULES | awk '$1 == "insmod" {print $2}' |
  while read -r ko; do
    name=$(basename "$ko")
    grep -qxF "$name" "$I/modules/order" 2>/dev/null && continue
    cp "$ROOT$ko" "$I/modules/" 2>/dev/null || cp "$ko" "$I/modules/"
    echo "$name" >> "$I/modules/order"
  done
[ -s "$I/modules/order" ] || die "no initramfs modules found for: $INITRD_MODULES"
(cd "$I" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) > "$WORK/initrd.gz"

cp "$KERNEL/boot/vmlinuz-$KREL" "$WORK/vmlinuz"
echo "$KREL" > "$WORK/kernel-release"
rm -rf "$ROOT" "$I"
rm -rf "$OUT"
mv "$WORK" "$OUT"
trap - EXIT
touch "$OUT/.complete"
say "image $OUT built in $(($(now) - t0)) s (root.img $(du -m --apparent-size "$OUT/root.img" | cut -f1) MB, $(du -m "$OUT/root.img" | cut -f1) MB on disk)"

# keep this image and the one before it; older ones only take disk space
ls -dt "$CACHE"/images/*/ 2>/dev/null | tail -n +3 | while read -r old; do
  if [ -e "$old/.complete" ]; then rm -rf "$old"; fi   # an if: a failed test must not be this script's status
done
echo "$OUT"
