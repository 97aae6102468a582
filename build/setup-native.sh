#!/usr/bin/env bash
# Makes this machine able to load TorchSharp 0.107's native library.
#
# libLibTorchSharp.so is built against GCC 13's libstdc++ (symbol version GLIBCXX_3.4.32); Debian 12 ships
# GCC 12's (3.4.30), so `torch` fails to initialise there. The fix pulls libstdc++6 alone from Debian 13
# (trixie), pinned at priority 100 so that nothing else is upgraded from trixie unless asked.
#
# Idempotent: when the symbol is already present it does nothing and returns at once.
set -euo pipefail

needed=GLIBCXX_3.4.32

has_symbol() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    [ -r "$lib" ] && grep -aq "$needed" "$lib" && return 0
  done
  return 1
}

fail() { echo "setup-native: $*" >&2; exit 1; }

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

echo "setup-native: libstdc++ lacks $needed; installing libstdc++6 from Debian 13 (trixie), pinned at priority 100..."
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || fail "missing $keyring (package debian-archive-keyring) needed to trust the trixie archive."

cat > /etc/apt/sources.list.d/invertibleml-trixie.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: $keyring
SRC
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
