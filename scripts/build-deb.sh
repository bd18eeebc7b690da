#!/bin/sh
# Builds the Debian package ferry_VERSION_all.deb from the repository with dpkg-deb, for production nodes:
# `apt install ./ferry_VERSION_all.deb` needs no npm and no registry, only Debian's own packages (Depends).
#   build-deb.sh [OUTDIR]        default OUTDIR: build/deb; prints the .deb's path on stdout
# Environment: FERRY_DEB_VERSION (default: package.json's version; the upgrade test builds an older one).
# Needs node_modules (npm ci): the bundles are built, and the run-time node_modules pruned from it (pure
# JavaScript, hence Architecture: all; the package test refuses an ELF file in it).
#
# Layout on the node (scripts/release.sh says why):
#   /usr/lib/ferry/package/             this version as dpkg unpacks it (dpkg's own files)
#   /usr/lib/ferry/releases/NAME/       hard-linked copy made by postinst; current -> it, previous -> the one before
#   /usr/lib/ocf/resource.d/ferry/container -> /usr/lib/ferry/current/ocf/ferry/container
#   /usr/sbin/ferry -> /usr/lib/ferry/current/bin/ferry, /usr/lib/ferry/contrib -> current/contrib (the hooks)
#   /lib/systemd/system/ferry-serve.service, /etc/default/ferry (conffile), man pages, bash completion
# The agent and `ferry` start with #!/usr/bin/node: the path Depends: nodejs guarantees, whatever the PATH
# Pacemaker gives agents, and no exec of env(1) on every monitor.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build/deb}
say() { echo "build-deb: $*" >&2; }
die() { say "$*"; exit 1; }

command -v dpkg-deb >/dev/null || die "no dpkg-deb"
[ -d node_modules/yargs ] || die "no node_modules (npm ci first)"
npm run --silent build >&2 || die "the build failed"
VERSION=${FERRY_DEB_VERSION:-$(node -p "require('./package.json').version")}
case $VERSION in [0-9]*) ;; *) die "bad version '$VERSION'" ;; esac

W=$(mktemp -d /tmp/ferry-deb.XXXXXX)
trap 'rm -rf "$W"' EXIT
R=$W/root
P=$R/usr/lib/ferry/package
mkdir -p "$P" "$R/DEBIAN" "$R/usr/lib/ocf/resource.d/ferry" "$R/usr/sbin" "$R/usr/share/man/man7" \
  "$R/usr/share/man/man8" "$R/usr/share/bash-completion/completions" "$R/lib/systemd/system" "$R/etc/default" \
  "$R/usr/share/doc/ferry" "$R/var/lib/ferry" "$R/etc/ferry"

# ---- the package directory: what install.sh stages, with the run-time node_modules only
cp -R package.json package-lock.json heartbeat-meta.xml LICENSE dist ocf bin contrib "$P/"
rm -rf "$P/dist/bench" "$P/dist/test" "$P/dist/tsconfig.tsbuildinfo"
cp -R node_modules "$P/"
(cd "$P" && npm prune --omit=dev --offline --no-audit --no-fund --silent >/dev/null 2>&1) || die "npm prune failed"
rm -f "$P/node_modules/.package-lock.json"
mkdir -p "$P/scripts" && cp scripts/release.sh "$P/scripts/"
sed -i '1s|.*|#!/usr/bin/node|' "$P/bin/ferry"
# the agent's shell entry starts the node its Depends: names
sed -i 's|^NODE=node |NODE=/usr/bin/node |' "$P/ocf/ferry/container"
grep -q '^NODE=/usr/bin/node ' "$P/ocf/ferry/container" || die "the agent's entry names no node to run"
sed -i 's|^AGENT= |AGENT=/usr/lib/ferry/current/ocf/ferry/agent.cjs |' "$P/ocf/ferry/container"
grep -q '^AGENT=/usr/lib/ferry/current/ocf/ferry/agent.cjs ' "$P/ocf/ferry/container" || die "the agent's entry names no agent.cjs"


# ---- the system's paths
ln -s /usr/lib/ferry/current/ocf/ferry/container "$R/usr/lib/ocf/resource.d/ferry/container"
ln -s /usr/lib/ferry/current/bin/ferry "$R/usr/sbin/ferry"
ln -s current/contrib "$R/usr/lib/ferry/contrib"
gzip -9n < man/ocf_ferry_container.7 > "$R/usr/share/man/man7/ocf_ferry_container.7.gz"
gzip -9n < man/ferry.8 > "$R/usr/share/man/man8/ferry.8.gz"
cp contrib/systemd/ferry-serve.service "$R/lib/systemd/system/"
node "$P/bin/ferry" completion > "$R/usr/share/bash-completion/completions/ferry" || die "ferry completion failed"
if [ -f contrib/default/ferry ]; then
  cp contrib/default/ferry "$R/etc/default/ferry"
else
  say "no contrib/default/ferry: shipping scripts/deb/default-ferry.fallback as /etc/default/ferry"
  cp scripts/deb/default-ferry.fallback "$R/etc/default/ferry"
fi
cp README.md "$R/usr/share/doc/ferry/"
gzip -9n "$R/usr/share/doc/ferry/README.md"
cat > "$R/usr/share/doc/ferry/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ferry

Files: *
License: GPL-2.0-or-later
 On Debian systems the full text of the GNU General Public License version 2 is in
 /usr/share/common-licenses/GPL-2. The bundled node_modules keep their own licences in
 /usr/lib/ferry/package/node_modules/*/LICENSE*.
EOF
chmod 0700 "$R/var/lib/ferry" "$R/etc/ferry"

# ---- modes: nothing writable but by root, executables 0755, the rest 0644
find "$R" -path "$R/DEBIAN" -prune -o -type d ! -path "$R/var/lib/ferry" ! -path "$R/etc/ferry" -exec chmod 0755 {} +
find "$R" -path "$R/DEBIAN" -prune -o -type f -exec chmod 0644 {} +
chmod 0755 "$P/ocf/ferry/container" "$P/bin/ferry" "$P/scripts/release.sh" "$P"/contrib/hooks/*
find "$P/node_modules" -type f -path '*/bin/*' -exec chmod 0755 {} +

# ---- control files
# the maintainer scripts embed scripts/release.sh's functions (preinst runs before anything is unpacked)
lib=$(sed '/^# -- main --$/,$d' scripts/release.sh | sed '1d')
for s in preinst postinst postrm; do
  { echo '#!/bin/sh'; echo "# ferry $s (generated by scripts/build-deb.sh from scripts/release.sh and scripts/deb/$s.tail)"
    echo "$lib"; sed "s/@VERSION@/$VERSION/g" "scripts/deb/$s.tail"; } > "$R/DEBIAN/$s"
  chmod 0755 "$R/DEBIAN/$s"
done
echo /etc/default/ferry > "$R/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$R" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$size/" scripts/deb/control.in > "$R/DEBIAN/control"
chmod 0644 "$R/DEBIAN/control" "$R/DEBIAN/conffiles"

mkdir -p "$OUT"
deb=$OUT/ferry_${VERSION}_all.deb
dpkg-deb --root-owner-group -Zxz --build "$R" "$deb" >/dev/null || die "dpkg-deb failed"
say "$deb: $(du -k "$deb" | cut -f1) KiB, installed $size KiB"
echo "$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
