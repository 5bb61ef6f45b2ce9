"""How each recorded keyring copy stands now: current or stale, and still in the keyring or not.

The copy is a snapshot: the CLI keeps refreshing its own file, and the keyring's copy goes stale
at its next refresh (docs/agentmux-store.md §8). This is where the companion says so, by
comparing the copy ledger's fingerprint with the credentials file now and, when it can, with what
the keyring holds. It is kept apart from the copy because it is asked far more often (every
``keyring status``, every GUI refresh) and must never fail the way a copy may: a keyring that
cannot be asked is reported in the result, not raised.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.credentials import fingerprint, read_credentials_bytes
from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.keyring import ledger
from agentmux_companion.core.keyring.backend import DEFAULT_TIMEOUT_S, BackendReport, KeyringAdapter
from agentmux_companion.core.keyring.entries import held, read_back
from agentmux_companion.core.paths import AppPaths


class Freshness(enum.StrEnum):
    """The copy compared with the credentials file now."""

    CURRENT = "current"  # same fingerprint: the copy is what the CLI has now
    STALE = "stale"  # the file changed since (the CLI refreshed its token): the copy is old
    SOURCE_GONE = "source_gone"  # the file is missing or unreadable now
    INCOMPLETE = "incomplete"  # the copy was interrupted before it was verified


class InKeyring(enum.StrEnum):
    """The copy compared with what the keyring holds now."""

    PRESENT = "present"
    MISSING = "missing"
    CHANGED = "changed"  # something else is there now
    NOT_CHECKED = "not_checked"  # the keyring could not be asked (see keyring_error)
    OTHER_BACKEND = "other_backend"  # copied into a backend that is not the one in use


class CopyStatus(NamedTuple):
    """One recorded copy and how it stands."""

    record: ledger.CopyRecord
    current_fingerprint: str | None
    freshness: Freshness
    in_keyring: InKeyring
    message: str

    def to_json(self) -> dict[str, Any]:
        """The copy's record as JSON, with how it stands added."""
        document = self.record.to_json()
        document.update({
            "current_fingerprint": self.current_fingerprint, "freshness": self.freshness.value,
            "in_keyring": self.in_keyring.value, "message": self.message,
        })
        return document


class SnapshotStatus(NamedTuple):
    """The result of :func:`snapshot_status`."""

    copies: tuple[CopyStatus, ...]
    backend: BackendReport | None
    keyring_error: str | None
    ledger: Path

    def to_json(self) -> dict[str, Any]:
        """The status as JSON, as ``keyring status --json`` prints it."""
        return {
            "backend": self.backend.to_json() if self.backend else None,
            "keyring_error": self.keyring_error,
            "ledger": str(self.ledger),
            "copies": [c.to_json() for c in self.copies],
        }


def _current_fingerprint(path: Path) -> str | None:
    try:
        return fingerprint(read_credentials_bytes(path))
    except OSError:
        return None


def _freshness(record: ledger.CopyRecord, current: str | None) -> tuple[Freshness, str]:
    if not record.complete:
        return Freshness.INCOMPLETE, ("the copy was interrupted before it was verified; run `keyring copy` "
                                      "again, or `keyring remove` to clean it up")
    if current is None:
        return Freshness.SOURCE_GONE, f"{record.credentials_path} is missing or unreadable now"
    if current == record.fingerprint:
        return Freshness.CURRENT, "matches the credentials file"
    return Freshness.STALE, (
        "stale: the credentials file changed since the copy (the CLI refreshed its login). The copy is a "
        "snapshot and is never refreshed by itself; run `keyring copy` again to take a new one"
    )


def _in_keyring(adapter: KeyringAdapter, record: ledger.CopyRecord) -> InKeyring:
    entry = held(adapter, record.account)
    if entry.value is None:
        return InKeyring.MISSING
    if entry.fingerprint != record.fingerprint:
        return InKeyring.CHANGED
    text = read_back(adapter, record.account)
    return InKeyring.PRESENT if text is not None else InKeyring.CHANGED


def snapshot_status(
    paths: AppPaths,
    *,
    check_keyring: bool = True,
    adapter: KeyringAdapter | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SnapshotStatus:
    """What was copied, when, into which backend, and whether each copy is still current.

    Freshness compares the recorded fingerprint with the credentials file now. With
    ``check_keyring`` the keyring is also asked whether the copy is still there; when it cannot
    be asked (locked, no session), the status still comes back, with ``keyring_error`` saying
    why and the copies ``not_checked``. Never raises a keyring error.
    """
    ledger_file = ledger.ledger_path(paths)
    records = ledger.all_copies(ledger_file)
    backend: BackendReport | None = None
    error: str | None = None
    if check_keyring and records:
        try:
            if adapter is None:
                adapter = KeyringAdapter.open(timeout_s=timeout_s)
            backend = adapter.report
        except KeyringUnavailable as exc:
            error, adapter = exc.message, None
    statuses: list[CopyStatus] = []
    for record in records:
        current = _current_fingerprint(Path(record.credentials_path))
        freshness, message = _freshness(record, current)
        place = InKeyring.NOT_CHECKED
        if adapter is not None and error is None:
            if record.backend != adapter.report.class_path:
                place = InKeyring.OTHER_BACKEND
            else:
                try:
                    place = _in_keyring(adapter, record)
                except KeyringUnavailable as exc:
                    error = exc.message
        statuses.append(CopyStatus(record, current, freshness, place, message))
    return SnapshotStatus(tuple(statuses), backend, error, ledger_file)
