#!/bin/sh
# Unpacks Debian 12's own Node.js 18 (the `nodejs` package admins' nodes run) into a private prefix, beside the
# host's newer node, and prints the directory to put first in PATH for a program that must run on it.
# Idempotent and quiet.
#
#   install-node18.sh [PREFIX]     progress on stderr, PREFIX/bin on stdout (default PREFIX /opt/ferry/node18)
#
# The packages come from the system's apt sources (whatever mirror they name): nodejs and libnode108 at the
# newest 18.x version apt offers, with what this host lacks of their run-time libraries (c-ares), unpacked with
# `dpkg -x` into PREFIX/root: nothing of node itself goes into the system. Debian's node loads three JavaScript
# packages from /usr/share/nodejs at every start and aborts without them (cjs-module-lexer, undici, acorn): those
# are installed with apt where missing, as Debian's nodejs would pull them in (plain JavaScript that no other
# node reads).
#
# PREFIX/bin/node runs that node with PREFIX's libraries first; any user may run it (the agent's tests run
# meta-data as nobody).
set -eu
PREFIX=${1:-/opt/ferry/node18}
ROOT=$PREFIX/root
PKGS_JS="node-cjs-module-lexer node-undici node-acorn"

say() { echo "install-node18: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing_js=""
for p in $PKGS_JS; do installed "$p" || missing_js="$missing_js $p"; done

if [ -z "$missing_js" ] && [ -x "$PREFIX/bin/node" ] && ! grep -q unshare "$PREFIX/bin/node" \
  && "$PREFIX/bin/node" -e 'process.exit(process.versions.node.startsWith("18.") ? 0 : 1)' 2>/dev/null; then
  echo "$PREFIX/bin"; exit 0
fi

version() { apt-cache madison "$1" 2>/dev/null | awk -v want="$2" '$3 ~ want { print $3; exit }'; }
v=$(version nodejs '^18[.]')
if [ -z "$v" ]; then
  apt-get update -qq >/dev/null
  v=$(version nodejs '^18[.]')
fi
[ -n "$v" ] || die "apt offers no nodejs 18.x (the system's sources are not Debian 12's?)"

work=$(mktemp -d /tmp/install-node18.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -n "$missing_js" ]; then
  say "installing$missing_js (what Debian's node reads from /usr/share/nodejs)"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing_js >"$work/apt.log" 2>&1 || {
    tail -n 20 "$work/apt.log" >&2; die "apt-get install$missing_js failed"; }
fi
extra=""
installed libc-ares2 || extra="libc-ares2"
say "unpacking nodejs $v from the system's apt sources into $PREFIX"
# shellcheck disable=SC2086
(cd "$work" && apt-get download -q "nodejs=$v" "libnode108=$v" $extra >"$work/download.log" 2>&1) || {
  tail -n 20 "$work/download.log" >&2; die "apt-get download failed"; }
rm -rf "$PREFIX.new" && mkdir -p "$PREFIX.new/root" "$PREFIX.new/bin"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$PREFIX.new/root"; done

printf '#!/bin/sh\n# Debian'"'"'s nodejs %s unpacked by test/lab/install-node18.sh (see there)\nLD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu exec %s/usr/bin/node "$@"\n' \
  "$v" "$ROOT" "$ROOT" > "$PREFIX.new/bin/node"
chmod 0755 "$PREFIX.new/bin/node"
chmod 0755 "$PREFIX.new" "$PREFIX.new/bin"
rm -rf "$PREFIX" && mv "$PREFIX.new" "$PREFIX"
got=$("$PREFIX/bin/node" --version) || die "the unpacked node does not run"
case $got in v18.*) ;; *) die "the unpacked node says $got, not 18.x" ;; esac
say "node $got at $PREFIX/bin/node"
echo "$PREFIX/bin"
