"""Every path the companion uses, resolved once.

:class:`AppPaths` is built from arguments and the environment at start-up and passed down; no
module reads ``$HOME`` at import time, so tests (and ``demo``) can point everything at a sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "agentmux-companion"
APP_AUTHOR = "AgentMux"

#: Replaces the companion's own config/data/log folders with ``<dir>/{config,data,log}``.
#: Used by the demo sandbox and the tests so they never touch the user's real app folders.
COMPANION_DIR_ENV = "AGENTMUX_COMPANION_DIR"


@dataclass(frozen=True)
class AppPaths:
    """Where things are.

    Attributes:
        home: where ambient credentials are looked for (``<home>/.claude/...``).
        agentmux_root: AgentMux's root folder (``<home>/.agentmux`` or AGENTMUX_HOME_OVERRIDE).
        shared_dir: the shared store's folder (``<root>/shared`` or AGENTMUX_SHARED_DIR).
        channel: the AgentMux channel in use (AGENTMUX_CHANNEL or ``stable``).
        config_dir, data_dir, log_dir: the companion's own folders (platformdirs).
    """

    home: Path
    agentmux_root: Path
    shared_dir: Path
    channel: str
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def backups_dir(self) -> Path:
        """Online backups of stores, one file per migrated store and run."""
        return self.data_dir / "backups"

    @property
    def ledger_path(self) -> Path:
        """The record of every run: what it changed, so ``undo`` can reverse exactly that."""
        return self.data_dir / "ledger.db"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "agentmux-companion.log"

    @classmethod
    def resolve(
        cls,
        home: Path | str | None = None,
        agentmux_root: Path | str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> AppPaths:
        """Build the paths from explicit arguments, then the environment, then OS defaults.

        Args:
            home: overrides the user's home (``--home``).
            agentmux_root: overrides AgentMux's root (``--agentmux-root``).
            env: the environment to read; ``os.environ`` when omitted.
        """
        env = os.environ if env is None else env
        home_path = Path(home).expanduser() if home is not None else _user_home(env)
        if agentmux_root is not None:
            root = Path(agentmux_root).expanduser()
        elif env.get("AGENTMUX_HOME_OVERRIDE"):
            root = Path(env["AGENTMUX_HOME_OVERRIDE"]).expanduser()
        else:
            root = home_path / ".agentmux"
        shared = Path(env["AGENTMUX_SHARED_DIR"]) if env.get("AGENTMUX_SHARED_DIR") else root / "shared"
        channel = env.get("AGENTMUX_CHANNEL") or "stable"

        companion_dir = env.get(COMPANION_DIR_ENV)
        if companion_dir:
            base = Path(companion_dir).expanduser()
            config_dir, data_dir, log_dir = base / "config", base / "data", base / "log"
        else:
            config_dir = Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))
            data_dir = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
            log_dir = Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
        return cls(
            home=home_path,
            agentmux_root=root,
            shared_dir=shared,
            channel=channel,
            config_dir=config_dir,
            data_dir=data_dir,
            log_dir=log_dir,
        )


def _user_home(env: Mapping[str, str]) -> Path:
    # AgentMux resolves the home as $HOME, or %USERPROFILE% on Windows; do the same so we look
    # where it looks rather than where Python's expanduser() might (it consults pwd on POSIX).
    for name in ("HOME", "USERPROFILE"):
        value = env.get(name)
        if value:
            return Path(value)
    return Path.home()


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and make it 0700, and any folder created on the way: backups and the
    ledger live there. Folders that already existed above it are left as they are."""
    missing = []
    parent = path
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    if os.name == "posix":
        for folder in {path, *missing}:
            os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    return path
