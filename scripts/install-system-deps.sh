#!/bin/sh
# System packages the product and its tests need on Debian/Ubuntu (docs/testing.md §1):
# Xvfb and the xcb libraries for real windows, trayer as a tray host (x11-utils: xwininfo tells when
# it is up), D-Bus and gnome-keyring for
# a real Secret Service, binutils so PyInstaller can strip binaries, util-linux (setpriv, unshare)
# and e2fsprogs (chattr) for the tests that make files truly unreadable or read-only even as root;
# zsh and fish to check that the generated shell completions load.
# openbox, a light window manager, so the tests can minimize and restore real windows.
# With --bench, also valgrind: `make bench` counts the GUI's start-up in instructions.
# Installs what is missing when run as root; otherwise says what to install and fails.
set -eu
PKGS="xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxkbcommon0
libegl1 libgl1 libfontconfig1 libglib2.0-0 libdbus-1-3 trayer x11-utils dbus gnome-keyring binutils
util-linux e2fsprogs zsh fish openbox"
if [ "${1:-}" = --bench ]; then
  PKGS="$PKGS valgrind"
fi
command -v dpkg-query >/dev/null 2>&1 || { echo "not a Debian-like system: install the equivalents of: $PKGS" >&2; exit 0; }
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages:$missing"
  apt-get update -qq
  # $missing is a list of package names: split on purpose.
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "missing system packages:$missing" >&2
  echo "install them with: sudo apt-get install$missing" >&2
  exit 1
fi
