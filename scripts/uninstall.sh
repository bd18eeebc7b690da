#!/bin/sh
# Removes what scripts/install.sh installed (same variables). Leaves state_dir, /var/lib/ferry and /etc/ferry alone.
set -eu
PREFIX=${PREFIX:-/usr/lib/ferry}
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
SBINDIR=${SBINDIR:-/usr/sbin}
MANDIR=${MANDIR:-/usr/share/man}
D=${DESTDIR:-}
rm -f "$D$OCF_ROOT/resource.d/ferry/container" "$D$SBINDIR/ferry" "$D$MANDIR/man7/ocf_ferry_container.7" "$D$MANDIR/man8/ferry.8" "$D/usr/share/bash-completion/completions/ferry" "$D/lib/systemd/system/ferry-serve.service"
rmdir "$D$OCF_ROOT/resource.d/ferry" 2>/dev/null || true
rm -rf "$D$PREFIX"
rm -rf "$D/var/cache/ferry"   # the agent's compiled-code cache
echo "removed ferry from $PREFIX, $OCF_ROOT/resource.d/ferry, $SBINDIR/ferry"
