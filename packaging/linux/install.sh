#!/bin/sh
# Adds AgentMux Companion from this unpacked folder to your desktop's application menu and puts
# the command `agentmux-companion` on your PATH (~/.local/bin), for the current user only.
#   ./install.sh              install (run it again after moving the folder)
#   ./install.sh --uninstall  remove the menu entry, the icons and the command link
# Nothing here needs root, and the folder itself is never changed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
apps="$data_home/applications"
icons="$data_home/icons/hicolor"
bin="$HOME/.local/bin"
entry="$apps/agentmux-companion.desktop"

refresh() {
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$entry" "$icons/scalable/apps/agentmux-companion.svg" "$icons/256x256/apps/agentmux-companion.png"
  # The command link goes only if it is ours: a pip-installed agentmux-companion stays.
  if [ "$(readlink "$bin/agentmux-companion" 2>/dev/null)" = "$here/agentmux-companion" ]; then
    rm -f "$bin/agentmux-companion"
  fi
  refresh
  echo "AgentMux Companion removed from the menu; delete $here to remove the program itself."
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--uninstall]" >&2; exit 2; }
[ -x "$here/agentmux-companion-gui" ] || { echo "$here/agentmux-companion-gui is missing" >&2; exit 1; }

# The Desktop Entry spec quotes an Exec argument with double quotes and escapes ", `, $ and \
# inside them with a backslash; a literal % is written %%.
quoted=$(printf '%s' "$here/agentmux-companion-gui" | sed -e 's/[\\"`$]/\\&/g' -e 's/%/%%/g')
mkdir -p "$apps" "$icons/scalable/apps" "$icons/256x256/apps" "$bin"
cp "$here/agentmux-companion.svg" "$icons/scalable/apps/agentmux-companion.svg"
cp "$here/agentmux-companion.png" "$icons/256x256/apps/agentmux-companion.png"
sed -e "s|^Exec=.*|Exec=\"$(printf '%s' "$quoted" | sed 's/[|&\\]/\\&/g')\"|" -e '/^TryExec=/d' \
  "$here/agentmux-companion.desktop" > "$entry.tmp"
mv "$entry.tmp" "$entry"
ln -sfn "$here/agentmux-companion" "$bin/agentmux-companion"
refresh
echo "AgentMux Companion is in your application menu; the command is $bin/agentmux-companion."
case ":$PATH:" in *":$bin:"*) ;; *) echo "(add $bin to your PATH to call it by name)";; esac
