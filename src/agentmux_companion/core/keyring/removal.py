"""Remove the companion's keyring copies: exactly the entries the copy ledger records, no others.

Removal is the copy's undo, and it has to be as careful as the copy: an entry that holds a value
the companion did not write (changed since, or someone else's) is left in place and reported,
copies recorded for another backend are kept, and the manifest goes before its chunks so a torn
removal never leaves chunks that form a secret. Kept apart from the copy so each reads on its own
and the two share only what the keyring holds (:mod:`.entries`) and the ledger.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.keyring import ledger
from agentmux_companion.core.keyring.backend import DEFAULT_TIMEOUT_S, SERVICE, BackendReport, KeyringAdapter
from agentmux_companion.core.keyring.entries import Progress, delete_chunks, held
from agentmux_companion.core.paths import AppPaths

log = logging.getLogger(__name__)


class Removal(enum.StrEnum):
    """What removing one recorded copy did; only REMOVED deleted keyring entries."""

    REMOVED = "removed"
    ALREADY_GONE = "already_gone"  # nothing of the copy was left in the keyring
    LEFT_CHANGED = "left_changed"  # the entry holds a value the companion did not write: kept
    OTHER_BACKEND = "other_backend"  # the copy is in a backend that is not the one in use


class RemovedCopy(NamedTuple):
    """One recorded copy, what removing it did, and how many keyring entries went."""

    record: ledger.CopyRecord
    outcome: Removal
    entries_deleted: int
    message: str

    def to_json(self) -> dict[str, Any]:
        """The copy's record as JSON, with the outcome added."""
        document = self.record.to_json()
        document.update({"outcome": self.outcome.value, "entries_deleted": self.entries_deleted,
                         "message": self.message})
        return document


class RemoveReport(NamedTuple):
    """The result of :func:`remove_copies` (``backend`` is None when nothing was recorded)."""

    backend: BackendReport | None
    copies: tuple[RemovedCopy, ...]
    ledger: Path

    @property
    def all_removed(self) -> bool:
        """Whether no recorded copy was left in a keyring (the exit status follows it)."""
        return all(c.outcome in (Removal.REMOVED, Removal.ALREADY_GONE) for c in self.copies)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON, as ``keyring remove --json`` prints it."""
        return {
            "backend": self.backend.to_json() if self.backend else None,
            "ledger": str(self.ledger),
            "copies": [c.to_json() for c in self.copies],
        }


def _remove_one(adapter: KeyringAdapter, record: ledger.CopyRecord, ledger_file: Path) -> RemovedCopy:
    key = record.account
    entry = held(adapter, key)
    deleted = 0
    if entry.value is not None:
        if not record.owns(entry.fingerprint or ""):
            return RemovedCopy(
                record, Removal.LEFT_CHANGED, 0,
                f"{SERVICE}/{key} now holds a value the companion did not write (changed since the copy); "
                "it was left in place",
            )
        if adapter.delete(SERVICE, key):  # the manifest first: the chunks stop forming a secret
            deleted += 1
    known = max(record.max_chunks, entry.manifest.chunk_count if entry.manifest else 0)
    deleted += delete_chunks(adapter, key, 0, known)
    ledger.forget(ledger_file, record.backend, record.service, key)
    if deleted:
        entries = "1 keyring entry" if deleted == 1 else f"{deleted} keyring entries"
        return RemovedCopy(record, Removal.REMOVED, deleted, f"deleted {entries}")
    return RemovedCopy(record, Removal.ALREADY_GONE, 0, "was no longer in the keyring")


def remove_copies(
    paths: AppPaths,
    *,
    adapter: KeyringAdapter | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    account_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> RemoveReport:
    """Delete from the keyring exactly the entries the ledger records (manifest, then chunks).

    An entry that now holds something the companion did not write is left in place and
    reported; copies recorded for another backend are reported and kept.

    Args:
        paths: where the companion keeps its data (the keyring ledger among it).
        adapter: the keyring to use; default: the backend detected, opened when there is
            something to remove.
        timeout_s: the bound on each keyring call when opening the keyring here.
        account_ids: only these accounts (default: every recorded copy).
        progress: told about each account before it is removed (the GUI's status line).

    Raises:
        KeyringUnavailable: the keyring cannot be used; nothing was deleted after the failure.
    """
    ledger_file = ledger.ledger_path(paths)
    records = [r for r in ledger.all_copies(ledger_file) if account_ids is None or r.account_id in account_ids]
    if not records:
        return RemoveReport(None, (), ledger_file)
    if adapter is None:
        adapter = KeyringAdapter.open(timeout_s=timeout_s)
    results: list[RemovedCopy] = []
    for record in records:
        if record.backend != adapter.report.class_path:
            results.append(RemovedCopy(record, Removal.OTHER_BACKEND, 0,
                                       f"copied into {record.backend_name}, which is not the keyring in use now "
                                       f"({adapter.report.name}); left in place"))
            continue
        if progress is not None:
            progress(f"Removing {record.provider} ({record.account}) from {adapter.report.name}")
        result = _remove_one(adapter, record, ledger_file)
        log.info("keyring remove %s/%s: %s (%s)", record.service, record.account, result.outcome.value, result.message)
        results.append(result)
    return RemoveReport(adapter.report, tuple(results), ledger_file)
