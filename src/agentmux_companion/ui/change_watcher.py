"""Watching for changes: file-system notifications, debounced; nothing runs while nothing changes.

Credential files and their folders, the stores and their folders, AgentMux's root. A notification
that leaves everything as it was (our own read-only scans make SQLite touch ``-shm`` files beside a
store, which the folder watch reports) is ignored, or every scan would trigger the next one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

from agentmux_companion.core.migration.plan import MigrationPlan
from agentmux_companion.core.paths import AppPaths

log = logging.getLogger(__name__)

_IGNORED_SUFFIXES = ("-shm", "-journal")


def watch_paths(paths: AppPaths, plan: MigrationPlan, extra: Iterable[Path], *, discovery: bool) -> list[Path]:
    """Credential files and their folders, the stores and their folders, AgentMux's root."""
    wanted: list[Path] = [paths.home, paths.agentmux_root, *extra]
    for credential in plan.credentials:
        wanted += [credential.config_dir, credential.path]
    for store_plan in plan.stores:
        wanted += [store_plan.path, store_plan.path.parent]
    if discovery:
        wanted.append(paths.shared_dir)
    return wanted


class ChangeWatcher(QObject):
    """Says when watched things really changed.

    Signals:
        changed(): something watched changed and has settled for the debounce interval.
    """

    changed = Signal()

    def __init__(self, debounce_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._on_path_changed)
        self.watcher.directoryChanged.connect(self._on_path_changed)
        # A single-shot timer that only runs after a change notification: debouncing, not polling.
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(debounce_ms)
        self.debounce.timeout.connect(self.check)
        self._signature: tuple[tuple[str, int, int], ...] = ()

    def files(self) -> list[str]:
        """The files watched now (directories not included)."""
        return list(self.watcher.files())

    def watch(self, paths: Iterable[Path]) -> None:
        """Watch exactly ``paths`` (those that exist) from now on."""
        wanted = {str(p) for p in dict.fromkeys(paths) if p.exists()}
        current = set(self.watcher.files()) | set(self.watcher.directories())
        stale = sorted(current - wanted)
        if stale:
            self.watcher.removePaths(stale)
        new = sorted(wanted - current)
        if new:
            self.watcher.addPaths(new)
        self._signature = self.signature()

    def stop(self) -> None:
        """Stop watching everything and drop a pending debounced check."""
        self.debounce.stop()
        paths = self.watcher.files() + self.watcher.directories()
        if paths:
            self.watcher.removePaths(paths)

    @Slot()
    def check(self) -> None:
        """Emit :attr:`changed` if the watched things look different from the last :meth:`watch`."""
        if self.signature() == self._signature:
            return
        log.info("credentials or stores changed; rescanning")
        self.changed.emit()

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """What the watched things look like now (name, size, modification time)."""
        entries: list[tuple[str, int, int]] = []
        for name in sorted(self.watcher.files()) + sorted(self.watcher.directories()):
            path = Path(name)
            candidates = [path]
            if path.is_dir():
                with contextlib.suppress(OSError):
                    candidates += sorted(p for p in path.iterdir() if not p.name.endswith(_IGNORED_SUFFIXES))
            for candidate in candidates:
                try:
                    info = candidate.stat()
                except OSError:
                    entries.append((str(candidate), -1, -1))
                    continue
                size = 0 if candidate.is_dir() else info.st_size
                mtime = 0 if candidate.is_dir() else info.st_mtime_ns
                entries.append((str(candidate), size, mtime))
        return tuple(entries)

    @Slot(str)
    def _on_path_changed(self, path: str) -> None:
        log.debug("changed: %s", path)
        self.debounce.start()
