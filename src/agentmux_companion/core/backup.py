"""Backups of stores: the one module that names, writes, checks, catalogues and removes them.

Online backups with SQLite's backup API (never a file copy of a live WAL database), into the
companion's data dir: files 0600 in 0700 folders, one folder per store. Migrate, undo and restore
all take theirs through :func:`plan_backup`:

- **Unique by construction.** A backup's name carries its own id (a migration's backup: the run
  id), never only the clock, and it is created with ``O_EXCL``/``O_NOFOLLOW``: nothing is ever
  overwritten, and a link planted where it goes is refused, not followed.
- **Partial files carry the id and a lock.** The backup is written as ``<name>.partial`` while
  the writer holds an exclusive ``flock`` on it; only after ``PRAGMA integrity_check`` passed is
  it hard-linked to its final name (which fails if anything is there). A partial file whose lock
  is free belongs to a dead run: :func:`agentmux_companion.core.backup_sweep.sweep`, run at the start of every command,
  removes it (and its catalog row); a live run's partial file is left alone.
- **Checked.** ``PRAGMA integrity_check`` of the copy runs beside the caller's own writes, and
  its verdict is awaited before the caller commits (:meth:`PlannedBackup.wait_verified`); the
  catalog's ``verified`` flag records it.
- **Room first.** Before writing, the free space of the backups folder must hold the store plus a
  margin; otherwise :class:`BackupRefused` (exit 3) says how much is needed and where. A disk
  that fills up during the write is refused the same way, and the partial file removed.
- **Only the run that made a backup removes it** (:meth:`PlannedBackup.discard`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
from contextlib import closing, suppress
from pathlib import Path

from agentmux_companion.core import backup_catalog as catalog
from agentmux_companion.core.backup_sweep import PARTIAL_SUFFIX, SIDE_SUFFIXES
from agentmux_companion.core.contract import new_uuid4
from agentmux_companion.core.errors import BackupRefused, NoRoom, UnsafePath
from agentmux_companion.core.paths import (
    O_CLOEXEC,
    AppPaths,
    check_sqlite_files,
    create_private_file,
    ensure_private_dir,
)
from agentmux_companion.core.store import open_readonly

try:  # POSIX: the partial file's lock tells a live writer from a dead one
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted, which tells the same
    fcntl = None  # type: ignore[assignment]

#: Room kept free beyond the backup's own size: SQLite's journal, the ledger, the log.
MIN_MARGIN_BYTES = 8 * 1024 * 1024
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def store_slug(store_path: Path) -> str:
    """A folder name for one store's backups: readable, and unique per absolute path."""
    resolved = str(store_path.resolve())
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:10]
    parts = [p for p in store_path.resolve().parts[-6:] if p not in ("data", "db", os.sep)]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-")[-60:]
    return f"{readable}-{digest}"


def store_identity(db: Path) -> str:
    """A fingerprint of a store that survives renaming it: its kind and its user bundles.

    The kind is the file's role in AgentMux (the shared ``store.db`` or a channel's
    ``objects.db``); the user bundles (id, name, created_at; not the blank singleton nor the
    Default bundle the migration creates) are what restoring another store's backup would make
    vanish. '' when the file has no bundle table.
    """
    kind = "shared" if db.name == "store.db" else "channel"
    try:
        with closing(open_readonly(db)) as conn:
            bundles = conn.execute(
                "SELECT id, name, created_at FROM db_identity_bundles "
                "WHERE is_blank = 0 AND id <> 'default' ORDER BY id"
            ).fetchall()
    except sqlite3.DatabaseError:
        return ""
    text = json.dumps([kind, [list(b) for b in bundles]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's content as hex, read in 1 MiB blocks so a large store never sits in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def integrity_problem(db: Path, pragma: str = "integrity_check") -> str | None:
    """None when ``PRAGMA integrity_check`` (or ``quick_check``) says ok, else its first complaint."""
    try:
        with closing(open_readonly(db)) as conn:
            result = str(conn.execute(f"PRAGMA {pragma}").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return f"not a readable SQLite database ({exc})"
    return None if result == "ok" else result


def _megabytes(count: int) -> str:
    return f"{max(count, 0) / 1_000_000:.1f} MB"


def _store_bytes(store_path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with suppress(OSError):
            total += store_path.with_name(store_path.name + suffix).stat().st_size
    return total


class PlannedBackup:
    """One backup to be taken: its name is fixed when planned, the file made by :meth:`write`.

    It stands for its path where one is expected (``str()``, ``os.fspath``), so callers that
    record or show the path need not know more.
    """

    def __init__(self, paths: AppPaths, store_path: Path, reason: str, run_id: str = "") -> None:
        if reason not in catalog.REASONS:
            raise ValueError(f"unknown backup reason {reason!r}")
        self.paths = paths
        self.store_path = store_path
        self.reason = reason
        self.run_id = run_id
        self.backup_id = run_id if reason == "migrate" and run_id else new_uuid4()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.folder = paths.backups_dir / store_slug(store_path)
        self.path = self.folder / f"{stamp}-{reason}-{self.backup_id}.db"
        self.partial_path = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self._made = False
        self._verifier: threading.Thread | None = None
        self._problem: str | None = None  # quick_check's complaint: stops the caller's write
        self.check_problem: str | None = None  # integrity_check's, known later: a warning
        self._gate = threading.Event()  # set once quick_check has spoken
        self._go = threading.Event()  # set when the caller's lock is (about to be) released

    @property
    def parent(self) -> Path:
        """The folder the backup goes into (as a path's ``parent``)."""
        return self.folder

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def write(self, store_path: Path | None = None) -> Path:
        """Copy the store into this backup; returns its path.

        Reads through its own read-only connection. SQLite's backup refuses a source connection
        that holds a write transaction (``SQLITE_LOCKED``, which Python's ``backup`` retries
        forever), so a writer takes ``BEGIN IMMEDIATE`` on its own connection first and then
        calls this: no other writer can commit in between, so the copy is exactly the state the
        write starts from.

        The copy is then checked on a thread of its own while the caller goes on with its writes:
        ``PRAGMA quick_check``, whose verdict :meth:`wait_verified` awaits (call it before the
        caller's COMMIT); then ``PRAGMA integrity_check`` and the SHA-256, which set the catalog's
        ``verified`` flag (:func:`finish_checks` collects that verdict).

        Raises:
            NoRoom: no room for the backup, or the disk filled up while writing it.
            UnsafePath: a link or another file is where the backup or its folder goes.
        """
        source = store_path or self.store_path
        ensure_private_dir(self.folder, top=self.paths.data_dir)
        check_sqlite_files(self.partial_path, "backup")
        self._check_room(source)
        ledger_path = self.paths.ledger_path
        fd = create_private_file(self.partial_path)
        linked = False
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            catalog.begin(ledger_path, self.backup_id, self.path, source, self.reason, self.run_id,
                          int(time.time() * 1000))
            try:
                self._copy(source)
                os.fsync(fd)
                size = os.fstat(fd).st_size
                identity = store_identity(self.partial_path)
                _publish(self.partial_path, self.path)
                linked = True
                self._made = True
                catalog.finish(ledger_path, self.backup_id, size, False, "", identity)
            except BaseException:
                if linked:
                    with suppress(OSError):
                        os.unlink(self.path)
                    self._made = False
                catalog.drop(ledger_path, self.backup_id)
                raise
        finally:
            with suppress(OSError):
                os.unlink(self.partial_path)
            for suffix in SIDE_SUFFIXES:
                with suppress(OSError):
                    os.unlink(str(self.partial_path) + suffix)
            os.close(fd)
        _sync_folder(self.folder)
        # The checks read only the finished file, beside the caller's own writes (which hold
        # AgentMux's store locked): quick_check first, whose verdict wait_verified() awaits before
        # the caller's COMMIT; the whole integrity_check and the digest after that, when the
        # store is no longer held for them.
        self._verifier = threading.Thread(target=self._verify, name=f"verify {self.path.name}", daemon=False)
        _PENDING.append(self)
        self._verifier.start()
        return self.path

    def _verify(self) -> None:
        try:
            self._problem = integrity_problem(self.path, "quick_check")
        finally:
            self._gate.set()
        # Not started until the caller's writes are done, so as not to slow them (bounded, so a
        # caller that never says so cannot keep the process from ending).
        self._go.wait(timeout=CHECK_DELAY_LIMIT_S)
        if self._made:
            try:
                self.check_problem = self._problem or integrity_problem(self.path)
                digest = file_sha256(self.path)
            except OSError as exc:
                self.check_problem, digest = f"could not be read back ({exc})", ""
            with suppress(Exception):  # the flag stays 0 if even the catalog cannot be written
                catalog.record_check(self.paths.ledger_path, self.backup_id, self.check_problem is None, digest)

    def wait_verified(self) -> None:
        """Wait for the backup's ``quick_check``; call before the caller's COMMIT.

        The full ``PRAGMA integrity_check`` (the catalog's ``verified`` flag) starts then and ends
        after the COMMIT: :func:`finish_checks` collects its verdict.

        Raises:
            BackupRefused: the copy failed the check (the store itself is damaged): the caller
                rolls back, and nothing is written.
        """
        self._gate.wait()
        self._go.set()
        if self._problem:
            raise BackupRefused(
                f"the backup of {self.store_path} failed SQLite's integrity check ({self._problem}): the "
                "store itself is damaged. Nothing was written; let AgentMux repair it first"
            )

    def finish_check(self) -> str | None:
        """Wait for the whole check; its complaint, or None when the backup is verified."""
        self._go.set()
        if self._verifier is not None:
            self._verifier.join()
        return self.check_problem

    def _check_room(self, source: Path) -> None:
        needed = _store_bytes(source)
        needed += max(MIN_MARGIN_BYTES, needed // 10)
        free = shutil.disk_usage(self.folder).free
        if free < needed:
            raise NoRoom(
                f"there is no room for the backup of {source}: it needs about {_megabytes(needed)} in "
                f"{self.folder}, and only {_megabytes(free)} are free there. Nothing was written; free some "
                "space there (old backups: agentmux-companion backups prune) and run again"
            )

    def _copy(self, source: Path) -> None:
        try:
            with closing(open_readonly(source)) as reader, closing(sqlite3.connect(str(self.partial_path))) as target:
                reader.backup(target)
                # The copy must not depend on a -wal file beside it: one self-contained file.
                target.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "full" in text or "i/o" in text:
                raise self._full(source, exc) from exc
            raise
        except OSError as exc:
            if exc.errno in _FULL_ERRNOS:
                raise self._full(source, exc) from exc
            raise

    def _full(self, source: Path, exc: BaseException) -> NoRoom:
        return NoRoom(
            f"there is no room for the backup of {source} in {self.folder} ({exc}: the disk is full or a "
            f"file-size limit was reached); it needs about {_megabytes(_store_bytes(source))} there. Nothing "
            "was written; free some space and run again"
        )

    def discard(self) -> None:
        """Remove this backup and its catalog row, if (and only if) this object made it."""
        if not self._made:
            return
        self._made = False  # first: the check, if it has not started, then skips the file
        self._go.set()
        if self._verifier is not None:
            self._verifier.join()
        with suppress(FileNotFoundError):
            os.unlink(self.path)
        catalog.drop(self.paths.ledger_path, self.backup_id)

    def unlink(self, missing_ok: bool = False) -> None:
        """:meth:`discard`, under the name a path's removal has (callers treat this as a path).

        Args:
            missing_ok: Accepted for ``Path.unlink``'s signature; a backup that is already gone is
                always fine here.
        """
        del missing_ok  # the signature is Path.unlink's, so callers can treat the backup as a path
        self.discard()


#: Backups written by this process whose whole check may still be running.
_PENDING: list[PlannedBackup] = []
#: How long a written backup's full check waits for its writer's go-ahead before starting anyway.
CHECK_DELAY_LIMIT_S = 30.0


def finish_checks() -> list[str]:
    """Wait for the checks of every backup this process wrote; returns warnings for failures.

    The CLI calls this before it exits, so a backup that failed ``integrity_check`` is reported
    (and recorded as not verified) rather than found out when it is needed.
    """
    warnings = []
    while _PENDING:
        planned = _PENDING.pop()
        problem = planned.finish_check()
        if problem and planned._made:
            warnings.append(
                f"the backup {planned.path} failed SQLite's integrity check after it was written ({problem}); "
                "it is kept but marked not verified. The store was probably damaged already"
            )
    return warnings


def plan_backup(paths: AppPaths, store_path: Path, reason: str, run_id: str = "") -> PlannedBackup:
    """Name the backup a write to ``store_path`` will take (nothing is written yet).

    Args:
        paths: Where the companion keeps its backups and their catalog.
        store_path: The store the backup will be a copy of.
        reason: ``migrate``, ``undo`` or ``restore``: what the backup is taken before.
        run_id: the migration run it belongs to (a migration's backup is named by it).
    """
    return PlannedBackup(paths, store_path, reason, run_id)


def backup_store(store_path: Path, planned: PlannedBackup) -> Path:
    """Take the backup ``planned`` of ``store_path`` (see :meth:`PlannedBackup.write`)."""
    return planned.write(store_path)


def _publish(partial: Path, final: Path) -> None:
    """Give the finished file its final name, never replacing anything already there."""
    try:
        if hasattr(os, "link") and os.name == "posix":
            os.link(partial, final, follow_symlinks=False)
        else:
            os.rename(partial, final)  # on Windows rename fails when the target exists
    except FileExistsError as exc:
        what = f"{final} is a link" if final.is_symlink() else f"{final} already exists"
        raise UnsafePath(f"{what}, where the companion was to put a new backup; nothing was written "
                         "through it. Move it away and run again") from exc


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
