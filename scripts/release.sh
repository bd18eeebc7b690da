#!/bin/sh
# Side-by-side releases of Ferry under PREFIX (default /usr/lib/ferry), so that an install or an upgrade never
# leaves the agent's path missing or half-copied while Pacemaker runs monitors every few seconds:
#
#   PREFIX/releases/NAME/     one complete copy of the package per release, never written to once made
#   PREFIX/current  -> releases/NAME     what the agent, /usr/sbin/ferry and the hooks resolve through
#   PREFIX/previous -> releases/OLD      the release `current` replaced: kept, so that an agent or a helper
#                                        started from it a moment ago still finds its files
#
# A release appears under its final name by one rename(2) of a complete directory, and `current` is switched by
# rename(2) of a new symlink over the old one: at every instant it names a complete release. An agent process
# resolves its own path once at start (ocf/ferry/container, then agent.cjs: realpath) and loads its lazily required files from
# that release, which is kept until the switch after next. Used by scripts/install.sh and, embedded in them,
# by the .deb's maintainer scripts (scripts/build-deb.sh): one logic for both.
#
#   release.sh activate PREFIX NAME SRC [copy|move]   make releases/NAME from SRC (copy: hard links, the files of
#                                                     SRC must never be written in place, as dpkg never does;
#                                                     move: SRC is a finished staging dir on the same filesystem)
#                                                     and switch current to it
#   release.sh adopt-legacy PREFIX                    an install of the old flat layout (PREFIX/ocf, PREFIX/dist...)
#                                                     without `current`: hard-link it into releases/legacy-*, make
#                                                     that current (the old paths stay until the switch after next)
#   release.sh prune PREFIX                           remove every release but current and previous (and the old
#                                                     flat layout, once previous is not it)
#   release.sh remove PREFIX                          current, previous, every release (package removal)
set -eu

# the top-level names of the old flat layout (scripts/install.sh before releases)
LEGACY_NAMES="package.json package-lock.json heartbeat-meta.xml LICENSE dist ocf bin contrib node_modules"

release_say() { echo "ferry release: $*" >&2; }

# release_link TARGET LINK: LINK -> TARGET, replacing an existing LINK (a symlink or file) by one rename(2)
release_link() {
  tmp="$2.new.$$"
  rm -f "$tmp"
  ln -s "$1" "$tmp"
  mv -T "$tmp" "$2"
}

# the release name a link points at (releases/NAME -> NAME), empty if none
release_target() {
  t=$(readlink "$1" 2>/dev/null) || { echo ""; return 0; }
  echo "${t#releases/}"
}

release_activate() {
  prefix=$1 name=$2 src=$3 how=${4:-copy}
  case $name in */*|.*|'') release_say "bad release name '$name'"; return 1 ;; esac
  mkdir -p "$prefix/releases"
  dest=$prefix/releases/$name
  [ ! -e "$dest" ] || { release_say "$dest exists already"; return 1; }
  if [ "$how" = move ]; then
    mv -T "$src" "$dest"
  else
    tmp=$prefix/releases/.tmp-$name
    rm -rf "$tmp"
    # hard links cost no space and no time; a copy where they cannot be made (another filesystem)
    cp -al "$src" "$tmp" 2>/dev/null || { rm -rf "$tmp"; cp -a "$src" "$tmp"; }
    mv -T "$tmp" "$dest"
  fi
  old=$(release_target "$prefix/current")
  if [ -n "$old" ] && [ "$old" != "$name" ]; then release_link "releases/$old" "$prefix/previous"; fi
  release_link "releases/$name" "$prefix/current"
  release_say "current is $name${old:+ (was $old)}"
}

release_adopt_legacy() {
  prefix=$1
  [ -e "$prefix/ocf/ferry/container" ] && [ ! -L "$prefix/ocf" ] && [ ! -e "$prefix/current" ] || return 0
  name=legacy-$(date -u +%Y%m%d%H%M%S)
  tmp=$prefix/releases/.tmp-$name
  mkdir -p "$prefix/releases"
  rm -rf "$tmp"
  mkdir "$tmp"
  for f in $LEGACY_NAMES; do
    if [ -e "$prefix/$f" ] && [ ! -L "$prefix/$f" ]; then cp -al "$prefix/$f" "$tmp/$f" 2>/dev/null || cp -a "$prefix/$f" "$tmp/$f"; fi
  done
  mv -T "$tmp" "$prefix/releases/$name"
  release_link "releases/$name" "$prefix/current"
  release_say "adopted the flat install in $prefix as release $name"
}

release_prune() {
  prefix=$1
  cur=$(release_target "$prefix/current")
  prev=$(release_target "$prefix/previous")
  [ -n "$cur" ] || return 0
  for d in "$prefix"/releases/* "$prefix"/releases/.tmp-*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    [ "$n" = "$cur" ] || [ "$n" = "$prev" ] || rm -rf "$d"
  done
  # the flat layout's own paths may still be what an agent started before the adoption runs from: they go one
  # switch later, like any previous release
  case $prev in legacy-*) return 0 ;; esac
  for f in $LEGACY_NAMES; do
    if [ -e "$prefix/$f" ] && [ ! -L "$prefix/$f" ]; then rm -rf "$prefix/$f"; fi
  done
}

release_remove() {
  prefix=$1
  rm -f "$prefix/current" "$prefix/previous"
  rm -rf "$prefix/releases"
}

# -- main --
case ${1:-} in
  activate) shift; release_activate "$@" ;;
  adopt-legacy) release_adopt_legacy "$2" ;;
  prune) release_prune "$2" ;;
  remove) release_remove "$2" ;;
  *) release_say "usage: release.sh activate PREFIX NAME SRC [copy|move] | adopt-legacy PREFIX | prune PREFIX | remove PREFIX"; exit 2 ;;
esac
