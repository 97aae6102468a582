#!/usr/bin/env bash
# Makes this machine able to load TorchSharp 0.107's native library.
#
# libLibTorchSharp.so is built against GCC 13's libstdc++ (symbol version GLIBCXX_3.4.32); Debian 12 ships
# GCC 12's (3.4.30), so `torch` fails to initialise there. The fix pulls libstdc++6 alone from Debian 13
# (trixie), pinned at priority 100 so that nothing else is upgraded from trixie unless asked. The trixie source
# reuses the mirror URI and Signed-By keyring of the machine's own Debian 12 (bookworm) source, because machines
# behind a mirror or an apt proxy cannot reach any other host.
#
# Idempotent: when the symbol is already present it does nothing and returns at once.
#
#   build/setup-native.sh                          install if needed (as root)
#   build/setup-native.sh --print-source [APT_DIR] only print the trixie source it would write (APT_DIR: /etc/apt)
set -euo pipefail

needed=GLIBCXX_3.4.32
default_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

has_symbol() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    [ -r "$lib" ] && grep -aq "$needed" "$lib" && return 0
  done
  return 1
}

fail() { echo "setup-native: $*" >&2; exit 1; }

# Prints the deb822 trixie stanza built from the first enabled bookworm source in $1 (an apt directory), reading
# files in apt's order: sources.list, then sources.list.d/*.list and *.sources by name. Returns 1 if there is none.
trixie_source() {
  local dir=$1 file files=() LC_ALL=C
  [ -f "$dir/sources.list" ] && files+=("$dir/sources.list")
  for file in "$dir"/sources.list.d/*; do
    case $file in *.list | *.sources) [ -f "$file" ] && files+=("$file") ;; esac
  done
  [ ${#files[@]} -gt 0 ] || return 1
  awk -v default_keyring="$default_keyring" '
    function has(list, word,   n, items, i) {
      n = split(list, items, /[ \t\n]+/)
      for (i = 1; i <= n; i++) if (items[i] == word) return 1
      return 0
    }
    # Only the suite "bookworm" itself: "bookworm-security" lives on the security archive, not on the mirror.
    function consider(types, suites, uris, keyring,   n, u, i) {
      if (found || !has(types, "deb") || !has(suites, "bookworm")) return
      gsub(/cdrom:\[[^]]*\][^ \t]*/, "", uris)
      n = split(uris, u, /[ \t\n]+/)
      for (i = 1; i <= n; i++) if (u[i] != "") break
      if (i > n) return
      out = "Types: deb\nURIs: " u[i] "\nSuites: trixie\nComponents: main\nSigned-By: " (keyring == "" ? default_keyring : keyring)
      found = 1
    }
    function flush_stanza() {
      if (tolower(field["enabled"]) !~ /^(no|false|0)$/)
        consider(field["types"], field["suites"], field["uris"], field["signed-by"])
      split("", field); key = ""
    }
    FILENAME != current { if (deb822) flush_stanza(); current = FILENAME; deb822 = FILENAME ~ /\.sources$/ }
    found { exit }
    deb822 && /^#/ { next }
    deb822 && /^[ \t]*$/ { flush_stanza(); next }
    # A continuation line, e.g. of a Signed-By that embeds its key.
    deb822 && /^[ \t]/ { if (key != "") field[key] = field[key] "\n" $0; next }
    deb822 {
      i = index($0, ":"); if (i == 0) next
      key = tolower(substr($0, 1, i - 1)); value = substr($0, i + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", value); field[key] = value
      next
    }
    {
      # One-line format: deb [option=value ...] uri suite component...
      line = $0; sub(/#.*/, "", line); gsub(/cdrom:\[[^]]*\]/, "cdrom:", line)
      n = split(line, t, /[ \t]+/); i = (t[1] == "") ? 2 : 1
      type = t[i++]; keyring = ""
      if (substr(t[i], 1, 1) == "[") {
        for (; i <= n; i++) {
          option = t[i]; gsub(/[][]/, "", option)
          if (tolower(option) ~ /^signed-by=/) keyring = substr(option, 11)
          if (t[i] ~ /\]$/) { i++; break }
        }
      }
      if (t[i] !~ /^cdrom:/) consider(type, t[i + 1], t[i], keyring)
    }
    END {
      if (!found && deb822) flush_stanza()
      if (!found) exit 1
      print out
    }
  ' "${files[@]}"
}

no_source() {
  fail "found no enabled Debian 12 (bookworm) apt source to take the mirror from: looked for a 'deb' line with suite 'bookworm' in $1/sources.list and $1/sources.list.d/*.list, and a stanza with 'Types: deb' and 'Suites: bookworm' in $1/sources.list.d/*.sources (comments, deb-src, 'Enabled: no', cdrom and bookworm-security do not count)."
}

case "${1:-}" in
  --print-source)
    apt_dir=${2:-/etc/apt}
    trixie_source "$apt_dir" || no_source "$apt_dir"
    exit 0
    ;;
  "") ;;
  *) fail "usage: build/setup-native.sh [--print-source [APT_DIR]]" ;;
esac

has_symbol && exit 0

[ "$(uname -s)" = Linux ] || fail "TorchSharp's CPU build needs Linux x64 here; found $(uname -s)."
[ -r /etc/os-release ] || fail "cannot read /etc/os-release to identify the distribution."
. /etc/os-release
if [ "${ID:-}" != debian ]; then
  fail "libstdc++ lacks $needed and this is ${PRETTY_NAME:-an unknown distribution}, not Debian: install GCC 13's libstdc++ (or newer) yourself."
fi
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || fail "libstdc++ lacks $needed; run this script as root (or install sudo) to add it from Debian 13."
  exec sudo -E "$0" "$@"
fi

source_stanza=$(trixie_source /etc/apt) || no_source /etc/apt
if [[ $source_stanza == *"Signed-By: $default_keyring" ]]; then
  [ -r "$default_keyring" ] || fail "missing $default_keyring (package debian-archive-keyring) needed to trust the trixie archive."
fi
echo "setup-native: libstdc++ lacks $needed; installing libstdc++6 from Debian 13 (trixie), pinned at priority 100..."

printf '%s\n' "$source_stanza" > /etc/apt/sources.list.d/invertibleml-trixie.sources
cat > /etc/apt/preferences.d/invertibleml-trixie <<PIN
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || fail "apt-get update failed (network or mirror problem); see the output above."
apt-get install -y -qq -t trixie libstdc++6 >/dev/null || fail "apt-get install -t trixie libstdc++6 failed; see the output above."
has_symbol || fail "libstdc++6 from trixie was installed but $needed is still missing."
echo "setup-native: done."
