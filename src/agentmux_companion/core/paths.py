"""Every path the companion uses, resolved once.

:class:`AppPaths` is built from arguments and the environment at start-up and passed down; no
module reads ``$HOME`` at import time, so tests (and ``demo``) can point everything at a sandbox.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import platformdirs

from agentmux_companion.core.errors import UnsafePath

APP_NAME = "agentmux-companion"
APP_AUTHOR = "AgentMux"

#: Replaces the companion's own config/data/log/cache folders with ``<dir>/{config,data,log,cache}``.
#: Used by the demo sandbox and the tests so they never touch the user's real app folders.
COMPANION_DIR_ENV = "AGENTMUX_COMPANION_DIR"


class AppPaths(NamedTuple):
    """Where things are.

    Attributes:
        home: where ambient credentials are looked for (``<home>/.claude/...``).
        agentmux_root: AgentMux's root folder (``<home>/.agentmux`` or AGENTMUX_HOME_OVERRIDE).
        shared_dir: the shared store's folder (``<root>/shared`` or AGENTMUX_SHARED_DIR).
        channel: the AgentMux channel in use (AGENTMUX_CHANNEL or ``stable``).
        config_dir, data_dir, log_dir: the companion's own folders (platformdirs).
        cache_dir: the companion's cache (platformdirs): what it can rebuild, never data.
    """

    home: Path
    agentmux_root: Path
    shared_dir: Path
    channel: str
    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path

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
        """The companion's log file (rotated beside it as .1, .2, .3)."""
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
            cache_dir = base / "cache"
        else:
            config_dir = Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))
            data_dir = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
            log_dir = Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
            cache_dir = Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))
        return cls(
            home=home_path,
            agentmux_root=root,
            shared_dir=shared,
            channel=channel,
            config_dir=config_dir,
            data_dir=data_dir,
            log_dir=log_dir,
            cache_dir=cache_dir,
        )


def _user_home(env: Mapping[str, str]) -> Path:
    # AgentMux resolves the home as $HOME, or %USERPROFILE% on Windows; do the same so we look
    # where it looks rather than where Python's expanduser() might (it consults pwd on POSIX).
    for name in ("HOME", "USERPROFILE"):
        value = env.get(name)
        if value:
            return Path(value)
    return Path.home()


#: Flags that make ``os.open`` refuse a symbolic link in the last position (0 where unknown).
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_BINARY = getattr(os, "O_BINARY", 0)


def _link_words(path: Path) -> str:
    try:
        return f"{path} is a link (to {os.readlink(path)})"
    except OSError:
        return f"{path} is a link"


def _refuse(problem: str, what: str) -> UnsafePath:
    return UnsafePath(
        f"{problem}, where the companion keeps its own {what}. Nothing was written through it; "
        f"move it away (or remove it) and run again"
    )


def _check_folder(folder: Path) -> None:
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(_link_words(folder), "folder")
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(f"{folder} is not a folder", "folder")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise _refuse(f"{folder} belongs to another user (uid {info.st_uid})", "folder")


def ensure_private_dir(path: Path, top: Path | None = None) -> Path:
    """Create ``path`` (0700), check it is a real folder of the user, and return it.

    Every folder from ``top`` down to ``path`` is a companion folder: each must be a real folder
    (not a link, not a file) owned by the user, and is made 0700. Folders created on the way
    above ``top`` are made 0700 too; folders that already existed above it are the user's and
    are left as they are.

    Args:
        path: the folder wanted.
        top: the companion's folder ``path`` lives in (e.g. the data dir); ``path`` alone if None.

    Raises:
        UnsafePath: a link, a non-folder or another user's folder is in the way; nothing was
            created below it and nothing was changed through it.
    """
    top = path if top is None or not path.is_relative_to(top) else top
    ours = [path, *[p for p in path.parents if p.is_relative_to(top)]]
    missing: list[Path] = []
    parent = top
    while not os.path.lexists(parent) and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for folder in dict.fromkeys([*reversed(missing), *reversed(ours)]):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        _check_folder(folder)
        if os.name == "posix" and stat.S_IMODE(os.lstat(folder).st_mode) != 0o700:
            os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    return path


def check_private_file(path: Path, what: str = "file") -> None:
    """Refuse a link, a non-regular file or another user's file where a companion file goes.

    A missing file is fine (it will be created). Raises :class:`UnsafePath`.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(_link_words(path), what)
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(f"{path} is not a regular file", what)
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise _refuse(f"{path} belongs to another user (uid {info.st_uid})", what)


def check_sqlite_files(db: Path, what: str = "database") -> None:
    """:func:`check_private_file` on a SQLite file and the side files SQLite opens beside it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        check_private_file(db.with_name(db.name + suffix), what)


def create_private_file(path: Path) -> int:
    """Create ``path`` new (0600), never through a link and never over an existing file.

    Returns the open file descriptor (write-only). Raises :class:`UnsafePath` when anything,
    a link included, is already there.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_BINARY, 0o600)
    except FileExistsError as exc:
        problem = _link_words(path) if path.is_symlink() else f"{path} already exists"
        raise _refuse(problem, "file") from exc
    if os.name == "posix":
        os.fchmod(fd, 0o600)
    return fd


def open_private_file(path: Path, flags: int) -> int:
    """Open (or create, 0600) a companion file without following a link in its place."""
    check_private_file(path)
    try:
        fd = os.open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_BINARY, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise _refuse(_link_words(path), "file") from exc
        raise
    if os.name == "posix" and flags & os.O_CREAT:
        os.fchmod(fd, 0o600)
    return fd
