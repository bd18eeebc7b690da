#!/bin/sh
# Installs Ferry from the repository (development and test nodes; production nodes install the .deb from
# scripts/build-deb.sh): the compiled package as a new release under $PREFIX (default /usr/lib/ferry), the agent
# as $OCF_ROOT/resource.d/ferry/container (default OCF_ROOT /usr/lib/ocf), `ferry` in $SBINDIR, the man pages,
# the systemd unit, bash completion. Honours DESTDIR for staging. Run from the repository after `npm ci`
# (builds if needed).
#
# Never in place: the release is staged beside the running one, renamed into PREFIX/releases/ when complete, and
# PREFIX/current switched to it by rename(2) (scripts/release.sh). An agent action that runs during the install
# finds either the old release or the new one, whole: a monitor failing half-way through a copy, and worse a
# failed stop, which gets the node fenced, cannot happen.
#
# The agent's shell entry starts `node` from PATH: a development node's node is wherever PATH finds it (nvm,
# /usr/local) and may move or be upgraded after the install; an absolute path baked in here could vanish under
# the agent. The .deb names /usr/bin/node, which its Depends: nodejs guarantees.
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/lib/ferry}
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
SBINDIR=${SBINDIR:-/usr/sbin}
MANDIR=${MANDIR:-/usr/share/man}
D=${DESTDIR:-}
RELEASE="sh scripts/release.sh"

[ -f dist/src/ocf/main.js ] || npm run --silent build
version=$(node -p "require('./package.json').version")
name=$version-$(date -u +%Y%m%d%H%M%S)-$$
mkdir -p "$D$PREFIX/releases" "$D$OCF_ROOT/resource.d/ferry" "$D$SBINDIR" "$D$MANDIR/man7" "$D$MANDIR/man8"
stage=$D$PREFIX/releases/.tmp-$name
rm -rf "$stage"
mkdir "$stage"
cp -R package.json package-lock.json heartbeat-meta.xml LICENSE dist ocf bin contrib "$stage/"
cp -R node_modules "$stage/"
# only what runs: development tools (TypeScript, tap) stay behind
(cd "$stage" && npm prune --omit=dev --offline --no-audit --no-fund --silent >/dev/null 2>&1)
rm -rf "$stage/dist/bench" "$stage/dist/test"
# the agent's entry finds its agent.cjs without a readlink process (every monitor without the helper runs it)
sed -i "s|^AGENT= |AGENT=$PREFIX/current/ocf/ferry/agent.cjs |" "$stage/ocf/ferry/container"
chmod -R go-w "$stage"
chmod -R a+rX "$stage"

$RELEASE adopt-legacy "$D$PREFIX"
$RELEASE activate "$D$PREFIX" "$name" "$stage" move
link() { ln -sfn "$1" "$2.new.$$" && mv -T "$2.new.$$" "$2"; }   # one rename(2): never missing
link "$PREFIX/current/ocf/ferry/container" "$D$OCF_ROOT/resource.d/ferry/container"
link "$PREFIX/current/bin/ferry" "$D$SBINDIR/ferry"
$RELEASE prune "$D$PREFIX"
# the hooks' documented path (/usr/lib/ferry/contrib/hooks/...), once the flat layout's own contrib is gone
[ -e "$D$PREFIX/contrib" ] && [ ! -L "$D$PREFIX/contrib" ] || link current/contrib "$D$PREFIX/contrib"

cp man/ocf_ferry_container.7 "$D$MANDIR/man7/"
cp man/ferry.8 "$D$MANDIR/man8/"
mkdir -p "$D/usr/share/bash-completion/completions" "$D/lib/systemd/system"
cp contrib/systemd/ferry-serve.service "$D/lib/systemd/system/"
node "$D$PREFIX/current/bin/ferry" completion > "$D/usr/share/bash-completion/completions/ferry"
echo "installed: $OCF_ROOT/resource.d/ferry/container, $SBINDIR/ferry, $PREFIX/current -> releases/$name"
