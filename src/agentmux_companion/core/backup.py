"""Online backups of stores, taken with SQLite's backup API (never a file copy of a live WAL db).

Backups live in the companion's data dir: files 0600 in 0700 folders, one file per written store
and run, named so that a person can tell which store and when.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from agentmux_companion.core.paths import ensure_private_dir
from agentmux_companion.core.store import open_readonly


def store_slug(store_path: Path) -> str:
    """A folder name for one store's backups: readable, and unique per absolute path."""
    resolved = str(store_path.resolve())
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:10]
    parts = [p for p in store_path.resolve().parts[-6:] if p not in ("data", "db", os.sep)]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-")[-60:]
    return f"{readable}-{digest}"


def backup_path_for(backups_dir: Path, store_path: Path, at_ms: int) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(at_ms / 1000)) + f"{at_ms % 1000:03d}Z"
    return backups_dir / store_slug(store_path) / f"{stamp}-{store_path.name}"


def backup_store(store_path: Path, destination: Path) -> Path:
    """Copy the store at ``store_path`` to ``destination`` (0600, in a 0700 folder).

    Reads through its own read-only connection. SQLite's backup refuses a source connection that
    holds a write transaction (``SQLITE_LOCKED``, which Python's ``backup`` retries forever), so
    ``apply`` takes ``BEGIN IMMEDIATE`` on its writing connection first and then calls this: no
    other writer can commit in between, so the copy is exactly the state the migration starts from.
    """
    ensure_private_dir(destination.parent)
    partial = destination.with_name(destination.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        with closing(open_readonly(store_path)) as source, closing(sqlite3.connect(str(partial))) as target:
            source.backup(target)
            # The copy must not depend on a -wal file beside it: one self-contained file.
            target.execute("PRAGMA journal_mode = DELETE")
        os.chmod(partial, 0o600)
        os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return destination


def list_backups(backups_dir: Path, store_path: Path) -> list[Path]:
    """This store's backups, newest first."""
    folder = backups_dir / store_slug(store_path)
    try:
        return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".partial")), reverse=True)
    except OSError:
        return []
