"""Copy-once (isolation) semantics: AgentMux's own copy of a provider's login.

From Jun 20 AgentMux's migration no longer points an account at the CLI's folder: it copies the
CLI's ``.credentials.json`` once into ``<home>/.agentmux/shared/providers/<auth dir>``, marks the
folder with an empty sentinel file, and points the account there (docs/agentmux-store.md §7b).

The companion does the same, and because it must be able to undo, it journals every file and
folder it is about to create in the ledger *before* creating it (``companion_files``). Whatever
happens next (an error, a kill), the journal names everything the run may have left behind, and
:func:`remove_run_files` takes away exactly that, keeping a copy whose bytes changed since (the
CLI or AgentMux renewed the login there: deleting it could throw away the only live refresh token,
and removing only its sentinel would make AgentMux copy the stale ambient file over it).

The ambient file is only read, through the same non-blocking reader as the probe; nothing in the
CLI's own folder is ever written, moved or deleted.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
from contextlib import closing, suppress
from pathlib import Path
from typing import NamedTuple

from agentmux_companion.core.contract import SEEDED_SENTINEL, isolation_dir, oauth_dir_of
from agentmux_companion.core.credentials import (
    AmbientCredential,
    FileKind,
    Status,
    probe_config_dir,
    read_credentials_bytes,
)
from agentmux_companion.core.providers import CREDENTIALS_FILE_NAME, Provider
from agentmux_companion.core.sha256 import sha256_hex

FILES_SCHEMA = """
CREATE TABLE IF NOT EXISTS companion_files (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order
    run_id   TEXT NOT NULL,              -- the run that owns it (a live run may take it over)
    kind     TEXT NOT NULL,              -- dir | copy | sentinel | temp
    path     TEXT NOT NULL,
    sha256   TEXT NOT NULL DEFAULT '',   -- for copy: the bytes written (a hash, never the bytes)
    settled  INTEGER NOT NULL DEFAULT 0  -- 1 once removed or deliberately kept
);
CREATE INDEX IF NOT EXISTS companion_files_run ON companion_files(run_id, settled);
"""


class IsolationTarget(NamedTuple):
    """What copy-once semantics will do for one provider, as seen before writing.

    Attributes:
        dest: AgentMux's own folder for the provider's login.
        already_seeded: the sentinel exists, so nothing will be copied.
        will_copy: the ambient file will be copied into ``dest``.
        failure: why the import would fail (the provider is then skipped with a warning), or None.
        credential: the probe the account's status comes from: the copy when it exists already,
            else the ambient file that will be copied.
    """

    dest: Path
    already_seeded: bool
    will_copy: bool
    failure: str | None
    credential: AmbientCredential

    @property
    def status(self) -> Status:
        """The status the account will get (a missing copy reads as unreadable: needs_reauth)."""
        return self.credential.status or Status.NEEDS_REAUTH


def _readable_regular(credential: AmbientCredential) -> bool:
    # A regular file the probe could read (it hashed it): the only thing the import copies.
    return credential.kind is FileKind.REGULAR and credential.fingerprint is not None


def isolation_target(
    provider: Provider, home: Path, ambient: AmbientCredential, now_ms: int, leftovers: frozenset[Path] = frozenset()
) -> IsolationTarget:
    """Predict the import of one provider's login (reads only; the same rule the import follows).

    ``leftovers`` are files a companion run that never committed left behind; the write path removes
    them before it imports (:func:`settle_finished_runs`), so they count as absent here.
    """
    dest = isolation_dir(home, provider.auth_dir)
    if os.path.exists(dest / SEEDED_SENTINEL) and dest / SEEDED_SENTINEL not in leftovers:
        return IsolationTarget(dest, True, False, None, probe_config_dir(provider, dest, now_ms))
    if ambient.present and not _readable_regular(ambient):
        failure = (
            f"the login at {ambient.path} is not a readable file ({ambient.reason}), so AgentMux's own "
            "copy cannot be made"
        )
        return IsolationTarget(dest, False, False, failure, ambient)
    copy = dest / CREDENTIALS_FILE_NAME
    if ambient.present and os.path.lexists(copy) and copy not in leftovers:
        failure = (
            f"{dest} already holds a login but not AgentMux's marker that it was imported; the "
            "companion never overwrites a login, so it leaves that folder alone"
        )
        return IsolationTarget(dest, False, False, failure, ambient)
    if ambient.present:
        return IsolationTarget(dest, False, True, None, ambient)
    # Nothing to copy (the sweep of an account whose CLI login is gone): the sentinel is still
    # written, and the account reads whatever the folder holds.
    return IsolationTarget(dest, False, False, None, probe_config_dir(provider, dest, now_ms))


class ImportFailed(Exception):
    """The import of one provider's login failed; the provider is skipped with this warning."""


class FileJournal:
    """The run's record of the files and folders it creates, written ahead of their creation."""

    def __init__(self, ledger_path: Path, run_id: str) -> None:
        self.ledger_path = ledger_path
        self.run_id = run_id

    def note(self, entries: list[tuple[str, Path, str]]) -> None:
        """Commit intents ``(kind, path, sha256)`` to the ledger in one transaction, before any is created.

        So a kill leaves a record of what may exist; an intent whose file never appeared is simply settled.
        """
        with closing(_open_files_ledger(self.ledger_path)) as conn:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO companion_files (run_id, kind, path, sha256) VALUES (?, ?, ?, ?)",
                [(self.run_id, kind, str(path), sha256) for kind, path, sha256 in entries],
            )
            conn.execute("COMMIT")


def _open_files_ledger(ledger_path: Path) -> sqlite3.Connection:
    # The ledger's module loads with the write path: a plan reads targets and leftovers only, and
    # the GUI's first plan does without it (one module and a record class: 1.8 million instructions).
    from agentmux_companion.core.migration import ledger

    conn = ledger.open_ledger(ledger_path)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'companion_files'").fetchone() is None:
        conn.executescript(FILES_SCHEMA)
    return conn


def import_once(provider: Provider, home: Path, journal: FileJournal) -> Path:
    """Contract §7b's import of one provider's login; returns AgentMux's folder for it.

    Raises:
        ImportFailed: the ambient path is not a readable regular file, or AgentMux's folder
            already holds a login without its marker; nothing of this provider was created.
    """
    dest = isolation_dir(home, provider.auth_dir)
    sentinel = dest / SEEDED_SENTINEL
    if os.path.exists(sentinel):
        return dest
    source = provider.credentials_path(home)
    data: bytes | None = None
    mode = 0o600
    try:
        data = read_credentials_bytes(source)
        mode = stat.S_IMODE(os.stat(source).st_mode)
    except FileNotFoundError:
        data = None  # missing, or a dangling link (AgentMux's exists() says no): nothing to copy
    except OSError as exc:
        raise ImportFailed(
            f"{provider.id}: the login at {source} is not a readable file ({exc.strerror or exc}), so "
            "AgentMux's own copy could not be made; skipped"
        ) from exc
    target = dest / CREDENTIALS_FILE_NAME
    if data is not None and os.path.lexists(target):
        raise ImportFailed(
            f"{provider.id}: {dest} already holds a login without AgentMux's marker; the companion "
            "never overwrites a login, so it was left alone; skipped"
        )
    # Everything this import may create is journaled first, in creation order, in one commit.
    missing = _missing_folders(home, dest)
    temp = target.with_name(f"{target.name}.{journal.run_id[:8]}.companion-tmp")
    intents = [("dir", folder, "") for folder in missing]
    if data is not None:
        intents += [("temp", temp, ""), ("copy", target, sha256_hex(data))]
    journal.note([*intents, ("sentinel", sentinel, "")])
    for folder in missing:
        try:
            folder.mkdir(mode=0o700)  # the login inside is a secret
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    if data is not None:
        _write_copy(temp, target, data, mode)
    # The marker is empty and says only "imported": no sync (lost in a power cut, AgentMux copies
    # the same login again).
    _create_new(sentinel, b"", 0o644, sync=False)
    return dest


def _missing_folders(home: Path, dest: Path) -> list[Path]:
    """The folders from ``home`` down to ``dest`` that do not exist yet, outermost first."""
    missing = []
    folder = dest
    while not folder.exists() and folder != home and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def _create_new(path: Path, data: bytes, mode: int, sync: bool = True) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_copy(temp: Path, target: Path, data: bytes, mode: int) -> None:
    # Written under a temporary name and renamed, so the copy is never seen half-written.
    try:
        _create_new(temp, data, 0o600)
        os.chmod(temp, mode)  # the source's permission bits, as AgentMux's copy keeps them
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise


# --------------------------------------------------------------------------------------------
# Taking the files away again (undo, or a run that never committed)


class _Entry(NamedTuple):
    seq: int
    kind: str
    path: Path
    sha256: str


def _unsettled(conn: sqlite3.Connection, run_id: str) -> list[_Entry]:
    return [
        _Entry(seq, kind, Path(path), sha)
        for seq, kind, path, sha in conn.execute(
            "SELECT seq, kind, path, sha256 FROM companion_files WHERE run_id = ? AND settled = 0 ORDER BY seq",
            (run_id,),
        )
    ]


def _file_sha256(path: Path) -> str | None:
    try:
        return sha256_hex(read_credentials_bytes(path, limit=16 * 1024 * 1024))
    except OSError:
        return None


def _live_user(conn: sqlite3.Connection, folder: Path, run_id: str) -> str | None:
    """Another migration run, not undone, whose accounts point at ``folder`` (it needs the copy).

    A second store migrated after the first finds AgentMux's marker and copies nothing; undoing
    the first must then leave the copy to the second.
    """
    rows = conn.execute(
        "SELECT id, changes FROM companion_runs WHERE id <> ? AND kind = 'migrate' "
        "AND state IN ('committed', 'started', 'undoing') ORDER BY started_at_ms DESC",
        (run_id,),
    ).fetchall()
    for other, changes in rows:
        for account in json.loads(changes).get("accounts", []):
            after = account.get("after") or {}
            if oauth_dir_of(str(after.get("secret_ref", ""))) == str(folder):
                return str(other)
    return None


def _hand_over_in_use(conn: sqlite3.Connection, run_id: str, entries: list[_Entry]) -> list[_Entry]:
    """Give the files of copies another live run uses to that run; returns the rest."""
    folders = {e.path.parent for e in entries if e.kind in ("copy", "sentinel")}
    handed: set[int] = set()
    for folder in folders:
        user = _live_user(conn, folder, run_id)
        if user is None:
            continue
        for entry in entries:
            if entry.path.parent == folder or (entry.kind == "dir" and entry.path in (folder, *folder.parents)):
                conn.execute("UPDATE companion_files SET run_id = ? WHERE seq = ?", (user, entry.seq))
                handed.add(entry.seq)
    return [e for e in entries if e.seq not in handed]


def remove_run_files(ledger_path: Path, run_id: str) -> list[str]:
    """Remove what a run created outside the store, as far as it is unchanged; returns warnings.

    A copy whose bytes differ from what the run wrote is kept, with its sentinel, and said so; a
    copy another live run's accounts point at is handed over to that run. Folders are removed only
    when empty. Every entry is settled, so a later run that creates the same files again is never
    affected by this one.
    """
    if not ledger_path.exists():
        return []
    warnings: list[str] = []
    with closing(_open_files_ledger(ledger_path)) as conn:
        entries = _hand_over_in_use(conn, run_id, _unsettled(conn, run_id))
        if not entries:
            return []
        kept_folders: set[Path] = set()
        for entry in entries:
            if entry.kind == "copy" and entry.path.exists() and _file_sha256(entry.path) != entry.sha256:
                kept_folders.add(entry.path.parent)
                warnings.append(
                    f"kept {entry.path}: the login there changed since the migration copied it (it was "
                    "renewed), and removing it could sign you out; delete it yourself if you don't need it"
                )
        for entry in reversed(entries):
            _remove_entry(entry, kept_folders)
            conn.execute("UPDATE companion_files SET settled = 1 WHERE seq = ?", (entry.seq,))
    return warnings


def _remove_entry(entry: _Entry, kept_folders: set[Path]) -> None:
    try:
        if entry.kind == "dir":
            entry.path.rmdir()  # only when empty: anything else in it is not ours to take
        elif entry.kind in ("copy", "sentinel") and entry.path.parent in kept_folders:
            return
        elif entry.kind == "copy":
            if _file_sha256(entry.path) == entry.sha256:
                entry.path.unlink()
        else:  # sentinel or temp: ours by construction (created with O_EXCL)
            if entry.path.is_file() and not entry.path.is_symlink():
                entry.path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise


def leftover_paths(ledger_path: Path) -> frozenset[Path]:
    """Files that runs which never committed, or were undone, left behind (read only).

    A run ``started`` with nothing recorded is counted too: it died before its COMMIT, or it is
    still waiting for the store's lock and has created nothing yet.
    """
    if not ledger_path.exists():
        return frozenset()
    uri = ledger_path.resolve().as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=5)) as conn:
            found = conn.execute(
                "SELECT f.path FROM companion_files f JOIN companion_runs r ON r.id = f.run_id "
                "WHERE f.settled = 0 AND (r.state IN ('abandoned', 'undone') "
                "OR (r.state = 'started' AND r.stats = '{}'))"
            ).fetchall()
    except sqlite3.DatabaseError:
        # No such table yet (no run has imported anything), or a ledger the write path will
        # refuse with its own message: a preview reads nothing from it.
        return frozenset()
    return frozenset(Path(p) for (p,) in found)


def runs_with_unsettled_files(ledger_path: Path) -> list[str]:
    """Run ids whose created files have not been removed or kept yet."""
    if not ledger_path.exists():
        return []
    with closing(_open_files_ledger(ledger_path)) as conn:
        return [row[0] for row in conn.execute("SELECT DISTINCT run_id FROM companion_files WHERE settled = 0")]


def settle_finished_runs(ledger_path: Path, locked_store: Path | None = None) -> list[str]:
    """Remove the files of runs that ended without a live migration; returns warnings.

    Called on the write path: a run killed before its store committed, or an undo killed after
    its store committed, leaves files that nothing uses. Runs ``abandoned`` or ``undone`` (of any
    store) are final. A ``locked_store`` is one whose write transaction the caller holds: a run of
    it still ``started`` without recorded changes died before its COMMIT, and its files go too.
    """
    from agentmux_companion.core.migration import ledger  # the write path's (see _open_files_ledger)

    pending = set(runs_with_unsettled_files(ledger_path))
    if not pending:
        return []
    warnings: list[str] = []
    dead: set[str] = set()
    if locked_store is not None:
        dead = {r.id for r in ledger.runs_for_store(ledger_path, locked_store) if r.state == "started" and not r.stats}
    for run_id in sorted(pending):
        if run_id in dead or ledger.state_of(ledger_path, run_id) in ("abandoned", "undone"):
            warnings += remove_run_files(ledger_path, run_id)
    return warnings

