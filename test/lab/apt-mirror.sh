#!/bin/sh
# Prints the Debian archive this system's apt sources take SUITE from (default bookworm): the first URI of a
# source of type deb that lists the suite, deb822 stanzas (/etc/apt/sources.list.d/*.sources) first, then
# one-line entries ("deb [options] URI SUITE COMPONENTS..."). Exits 1, printing nothing, if there is none.
# The scripts that debootstrap or fetch packages take their mirror from here, so they work behind a local one.
#   apt-mirror.sh [SUITE]
set -eu
SUITE=${1:-bookworm}
found=$(
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v suite="$SUITE" '
      function flush() { if (deb && hit && uri != "") { print uri; found = 1; exit } deb = hit = 0; uri = "" }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:"  { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:"   { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
      tolower($1) == "enabled:" && tolower($2) == "no" { deb = 0 }
      END { if (!found) flush() }' "$f"
  done | head -n 1
)
if [ -z "$found" ]; then
  found=$(
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -r "$f" ] || continue
      # drop "[ ... ]" options, then: deb URI SUITE ...
      sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }'
    done | head -n 1
  )
fi
[ -n "$found" ] || exit 1
echo "$found"
