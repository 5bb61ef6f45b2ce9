r"""Start at login: the real OS entry, read and written where each OS looks for it.

- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/agentmux-companion.desktop``.
- macOS: a LaunchAgent, ``~/Library/LaunchAgents/<label>.plist``.
- Windows: the ``HKCU\...\CurrentVersion\Run`` value, through QSettings' native format.

The menu's check mark is read from that entry each time the menu opens, so turning the option off
in the OS's own settings is reflected here. This module is the one OS dispatch point.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QSettings

ENTRY_NAME = "agentmux-companion"
MAC_LABEL = "dev.agentmux.companion"
WINDOWS_RUN_KEY = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"
WINDOWS_VALUE = "AgentMux Companion"


def launch_command() -> list[str]:
    """How the OS should start the companion: the frozen binary, the GUI script, or the module."""
    executable = Path(sys.executable)
    if getattr(sys, "frozen", False):
        return [str(executable), "gui"]
    script = executable.with_name("agentmux-companion-gui" + (".exe" if os.name == "nt" else ""))
    if script.is_file():
        return [str(script)]
    return [str(executable), "-m", "agentmux_companion", "gui"]


class Autostart(Protocol):
    """A start-at-login entry."""

    def is_enabled(self) -> bool:
        """Whether the entry exists and is switched on."""
        ...

    def set_enabled(self, enabled: bool) -> None:
        """Create the entry (starting this companion at login) or remove it."""
        ...

    @property
    def location(self) -> str:
        """Where the entry lives, for the user to find it."""
        ...


def _desktop_exec(command: Sequence[str]) -> str:
    # The Desktop Entry spec quotes arguments with double quotes and escapes ", `, $ and \.
    def quote(arg: str) -> str:
        if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
            return arg
        escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
        return f'"{escaped}"'

    return " ".join(quote(a) for a in command)


class XdgAutostart:
    """An XDG autostart ``.desktop`` file (GNOME, KDE, Xfce, ... read it at login)."""

    def __init__(self, config_home: Path, command: Sequence[str]) -> None:
        self.path = config_home / "autostart" / f"{ENTRY_NAME}.desktop"
        self.command = list(command)

    @property
    def location(self) -> str:
        """The ``.desktop`` file's path."""
        return str(self.path)

    def is_enabled(self) -> bool:
        """Whether the ``.desktop`` file exists and is not hidden or switched off by the desktop."""
        # Desktops treat Hidden=true (and X-GNOME-Autostart-enabled=false) as "switched off".
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("Hidden", "X-GNOME-Autostart-enabled"):
                off = value.strip().lower() == ("true" if key.strip() == "Hidden" else "false")
                if off:
                    return False
        return True

    def set_enabled(self, enabled: bool) -> None:
        """Write the ``.desktop`` file (through a temporary file and a rename), or remove it."""
        if not enabled:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=AgentMux Companion\n"
            "Comment=Moves AI-CLI logins into AgentMux's Default identity bundle\n"
            f"Exec={_desktop_exec(self.command)}\n"
            "Icon=agentmux-companion\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)


class MacLaunchAgent:
    """A per-user LaunchAgent that runs the companion at login."""

    def __init__(self, home: Path, command: Sequence[str]) -> None:
        self.path = home / "Library" / "LaunchAgents" / f"{MAC_LABEL}.plist"
        self.command = list(command)

    @property
    def location(self) -> str:
        """The LaunchAgent plist's path."""
        return str(self.path)

    def is_enabled(self) -> bool:
        """Whether the LaunchAgent plist exists, runs at load and is not disabled."""
        try:
            with self.path.open("rb") as handle:
                document = plistlib.load(handle)
        except (OSError, plistlib.InvalidFileException, ValueError):
            return False
        return bool(document.get("RunAtLoad", False)) and not document.get("Disabled", False)

    def set_enabled(self, enabled: bool) -> None:
        """Write the LaunchAgent plist, or remove it."""
        if not enabled:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "Label": MAC_LABEL,
            "ProgramArguments": self.command,
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }
        with self.path.open("wb") as handle:
            plistlib.dump(document, handle)


class WindowsRunKey:
    """The ``Run`` value under HKEY_CURRENT_USER, written through QSettings' registry format."""

    def __init__(self, command: Sequence[str], key: str = WINDOWS_RUN_KEY) -> None:
        self.key = key
        self.command = list(command)

    @property
    def location(self) -> str:
        """The registry key and value name."""
        return f"{self.key}\\{WINDOWS_VALUE}"

    def _settings(self) -> QSettings:
        return QSettings(self.key, QSettings.Format.NativeFormat)

    def is_enabled(self) -> bool:
        """Whether the ``Run`` value exists (and is not empty)."""
        return bool(self._settings().value(WINDOWS_VALUE, ""))

    def set_enabled(self, enabled: bool) -> None:
        """Write the ``Run`` value with the quoted command, or remove it."""
        settings = self._settings()
        if enabled:
            import subprocess

            settings.setValue(WINDOWS_VALUE, subprocess.list2cmdline(self.command))
        else:
            settings.remove(WINDOWS_VALUE)
        settings.sync()


def for_this_platform(
    home: Path,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
    platform: str = sys.platform,
) -> Autostart:
    """The start-at-login entry of this OS."""
    env = os.environ if env is None else env
    command = launch_command() if command is None else command
    if platform.startswith("win"):
        return WindowsRunKey(command)
    if platform == "darwin":
        return MacLaunchAgent(home, command)
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return XdgAutostart(config_home, command)


def describe(command: Sequence[str]) -> str:
    """The command as one shell-readable line (for the About box and the log)."""
    return shlex.join(command)
