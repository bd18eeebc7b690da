#!/bin/sh
# Installs Ferry: the compiled package under $PREFIX (default /usr/lib/ferry), the agent as
# $OCF_ROOT/resource.d/ferry/container (default OCF_ROOT /usr/lib/ocf), `ferry` in $SBINDIR, the man pages.
# Honours DESTDIR for packaging. Run from the repository after `npm ci` (builds if needed).
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/lib/ferry}
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
SBINDIR=${SBINDIR:-/usr/sbin}
MANDIR=${MANDIR:-/usr/share/man}
D=${DESTDIR:-}

[ -f dist/src/ocf/main.js ] || npm run --silent build
rm -rf "$D$PREFIX"
mkdir -p "$D$PREFIX" "$D$OCF_ROOT/resource.d/ferry" "$D$SBINDIR" "$D$MANDIR/man7" "$D$MANDIR/man8"
cp -R package.json package-lock.json heartbeat-meta.xml LICENSE dist ocf bin contrib "$D$PREFIX/"
cp -R node_modules "$D$PREFIX/"
# only what runs: development tools (TypeScript, tap) stay behind
(cd "$D$PREFIX" && npm prune --omit=dev --no-audit --no-fund --silent >/dev/null 2>&1)
rm -rf "$D$PREFIX/dist/bench" "$D$PREFIX/dist/test"
chmod -R go-w "$D$PREFIX"
chmod -R a+rX "$D$PREFIX"
# the agent's interpreter as an absolute path: spares every monitor the exec of env(1)
NODE_BIN=$(command -v node)
sed -i "1s|.*|#!$NODE_BIN|" "$D$PREFIX/ocf/ferry/container"
ln -sfn "$PREFIX/ocf/ferry/container" "$D$OCF_ROOT/resource.d/ferry/container"
ln -sfn "$PREFIX/bin/ferry" "$D$SBINDIR/ferry"
cp man/ocf_ferry_container.7 "$D$MANDIR/man7/"
cp man/ferry.8 "$D$MANDIR/man8/"
mkdir -p "$D/usr/share/bash-completion/completions" "$D/lib/systemd/system"
cp contrib/systemd/ferry-serve.service "$D/lib/systemd/system/"
node "$D$PREFIX/bin/ferry" completion > "$D/usr/share/bash-completion/completions/ferry"
echo "installed: $OCF_ROOT/resource.d/ferry/container, $SBINDIR/ferry, $PREFIX"
