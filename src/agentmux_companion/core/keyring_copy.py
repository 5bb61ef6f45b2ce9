"""The keyring snapshot: copy each bound OAuth login into the OS keyring, verified, and undo that.

For every provider account bound in a store whose ``secret_ref`` points at a CLI's config dir
(``oauth_config_dir``, or ``o_auth_config_dir`` as AgentMux's own migration spelled it), the
credentials file's exact text is stored under service ``agentmux``, account ``acct:<account
id>`` — AgentMux's own naming, so the copy sits where AgentMux would look for a ``keychain``
secret. It is then read back and compared, and recorded in the copy ledger.

What this module never does (docs/agentmux-store.md §8): switch a binding to the copy, or refresh a token
from it. The binding keeps pointing at the CLI's folder, the CLI keeps refreshing its own file,
and the copy is a *snapshot* that goes stale at the CLI's next refresh; :func:`snapshot_status`
says when. Stores are only read (``mode=ro``).

Plain functions returning immutable results, meant to be called from a worker thread (the GUI)
or the CLI. Keyring failures that stop everything (no session bus, locked, insecure backend,
timeout) raise a :class:`~agentmux_companion.core.errors.KeyringUnavailable` subclass; per-account
problems (file missing, someone else's value in the way, too large) are outcomes.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agentmux_companion.core import keyring_ledger as ledger
from agentmux_companion.core import store as st
from agentmux_companion.core.contract import oauth_dir_of
from agentmux_companion.core.credentials import (
    _register_token_values,
    fingerprint,
    parse_credentials,
    read_credentials_bytes,
)
from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.keyring_backend import (
    DEFAULT_TIMEOUT_S,
    SERVICE,
    BackendReport,
    KeyringAdapter,
    SecretTooLarge,
)
from agentmux_companion.core.keyring_chunks import (
    MAX_CHUNKS,
    Manifest,
    chunk_account,
    parse_manifest,
    split_text,
)
from agentmux_companion.core.log import register_secret
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import CREDENTIALS_FILE_NAME

log = logging.getLogger(__name__)


Progress = Callable[[str], None]


def keyring_account(account_id: str) -> str:
    """AgentMux's keyring account name for an account id (docs/agentmux-store.md §8)."""
    return f"acct:{account_id}"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# --------------------------------------------------------------------------------------------
# Which accounts: the bound OAuth accounts of the stores, read-only


@dataclass(frozen=True)
class BoundAccount:
    """An OAuth account bound in a store, whose login lives in a CLI's config dir.

    Attributes:
        store_path: the store the binding was read from.
        provider: the provider id (``claude``).
        account_id: the account row's id; the keyring account is ``acct:<account_id>``.
        config_dir: the ``dir`` of its ``secret_ref`` (the CLI's own folder).
        bundles: names of the bundles binding it.
    """

    store_path: Path
    provider: str
    account_id: str
    config_dir: Path
    bundles: tuple[str, ...]

    @property
    def credentials_path(self) -> Path:
        return self.config_dir / CREDENTIALS_FILE_NAME

    @property
    def keyring_account(self) -> str:
        return keyring_account(self.account_id)


@dataclass(frozen=True)
class BoundAccounts:
    """The accounts found, and stores that could not be read for them (path, reason)."""

    accounts: tuple[BoundAccount, ...]
    skipped_stores: tuple[tuple[Path, str], ...]


def _oauth_dir(secret_ref: str) -> Path | None:
    folder = oauth_dir_of(secret_ref)  # either tag (docs/agentmux-store.md §4)
    return Path(folder) if folder else None


def bound_oauth_accounts(store_paths: Sequence[Path]) -> BoundAccounts:
    """Every OAuth account bound in the given stores, once per account id, in store order.

    A store that is missing or not of the bundle era is skipped with the reason; the stores are
    opened read-only, so this works as well after an earlier migration as right after one.
    """
    found: dict[str, BoundAccount] = {}
    skipped: list[tuple[Path, str]] = []
    for path in store_paths:
        inspection = st.inspect_store(path)
        if not inspection.era.migratable:
            skipped.append((path, inspection.refusal or f"not a store of the bundle era ({inspection.era.value})"))
            continue
        try:
            with closing(st.open_readonly(path)) as conn:
                rows = conn.execute(
                    f"SELECT b.provider, a.id, a.kind, a.secret_ref, COALESCE(u.name, b.identity_id) "
                    f"FROM {st.BINDINGS} b JOIN {inspection.accounts_table} a ON a.id = b.account_id "
                    f"LEFT JOIN {st.BUNDLES} u ON u.id = b.identity_id "
                    "ORDER BY b.identity_id <> 'default', b.identity_id, b.provider"
                ).fetchall()
        except sqlite3.Error as exc:  # locked or damaged since inspection: report it, go on with the others
            skipped.append((path, f"cannot be read ({exc})"))
            continue
        for provider, account_id, kind, secret_ref, bundle in rows:
            folder = _oauth_dir(str(secret_ref))
            if kind != "oauth" or folder is None:
                continue
            known = found.get(account_id)
            if known is None:
                found[account_id] = BoundAccount(path, str(provider), str(account_id), folder, (str(bundle),))
            elif known.store_path == path and bundle not in known.bundles:
                found[account_id] = replace(known, bundles=(*known.bundles, str(bundle)))
    return BoundAccounts(tuple(found.values()), tuple(skipped))


# --------------------------------------------------------------------------------------------
# Reading back what the keyring holds for an entry


@dataclass(frozen=True)
class _Held:
    """What the keyring holds under ``acct:<id>``: nothing, a whole text, or a chunk manifest."""

    value: str | None
    manifest: Manifest | None

    @property
    def fingerprint(self) -> str | None:
        if self.manifest is not None:
            return self.manifest.fingerprint
        return fingerprint(self.value.encode("utf-8")) if self.value is not None else None


def _held(adapter: KeyringAdapter, account: str) -> _Held:
    value = adapter.get(SERVICE, account)
    return _Held(value, parse_manifest(value))


def _read_back(adapter: KeyringAdapter, account: str) -> str | None:
    """The whole secret stored for ``account``, chunks joined and checked; None if absent or torn."""
    held = _held(adapter, account)
    if held.manifest is None:
        return held.value
    pieces = []
    for index in range(held.manifest.count):
        piece = adapter.get(SERVICE, chunk_account(account, index))
        if piece is None:
            return None
        pieces.append(piece)
    text = "".join(pieces)
    return text if held.manifest.matches(text) else None


def _delete_chunks(adapter: KeyringAdapter, account: str, start: int, known_end: int) -> int:
    """Delete chunks ``start``.. of ``account``: those a record knows of, then any further ones
    found (a copy whose record was lost). Returns how many entries were deleted."""
    deleted = 0
    index = start
    while index < MAX_CHUNKS:
        if index >= known_end and adapter.get(SERVICE, chunk_account(account, index)) is None:
            break
        if adapter.delete(SERVICE, chunk_account(account, index)):
            deleted += 1
        index += 1
    return deleted


# --------------------------------------------------------------------------------------------
# Copy


class Outcome(enum.StrEnum):
    """What happened to one account in :func:`copy_bound_accounts`."""

    COPIED = "copied"
    UNCHANGED = "unchanged"  # the keyring already held this exact copy, verified
    CONFLICT = "conflict"  # a value the companion did not write is in the way; left untouched
    SKIPPED = "skipped"  # no readable credentials file, or not text
    TOO_LARGE = "too_large"
    FAILED = "failed"  # written, but the read-back did not match


@dataclass(frozen=True)
class AccountCopy:
    """The result for one account. ``fingerprint`` is masked; ``chunks`` is 0 for a whole value."""

    account: BoundAccount
    outcome: Outcome
    message: str
    fingerprint: str | None = None
    chunks: int = 0
    stale_chunks_removed: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.COPIED, Outcome.UNCHANGED)

    def to_json(self) -> dict[str, Any]:
        a = self.account
        return {
            "provider": a.provider, "account_id": a.account_id, "service": SERVICE,
            "account": a.keyring_account, "store": str(a.store_path), "bundles": list(a.bundles),
            "credentials_path": str(a.credentials_path), "outcome": self.outcome.value,
            "message": self.message, "fingerprint": self.fingerprint, "chunks": self.chunks,
            "stale_chunks_removed": self.stale_chunks_removed,
        }


@dataclass(frozen=True)
class CopyReport:
    """The result of :func:`copy_bound_accounts`.

    Attributes:
        backend: the keyring used (None when there was nothing to copy and it was not opened).
        copies: one entry per bound OAuth account.
        skipped_stores: stores that could not be read, with the reason.
        ledger: where the copies are recorded.
        at_ms: the time recorded for the copies.
    """

    backend: BackendReport | None
    copies: tuple[AccountCopy, ...]
    skipped_stores: tuple[tuple[Path, str], ...]
    ledger: Path
    at_ms: int

    @property
    def all_ok(self) -> bool:
        return all(c.ok for c in self.copies)

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend.to_json() if self.backend else None,
            "copies": [c.to_json() for c in self.copies],
            "skipped_stores": [{"path": str(p), "reason": r} for p, r in self.skipped_stores],
            "ledger": str(self.ledger),
            "at_ms": self.at_ms,
        }


def _read_text(account: BoundAccount) -> tuple[str | None, str]:
    """The credentials file's exact text, or None and why not."""
    path = account.credentials_path
    try:
        data = read_credentials_bytes(path)
    except FileNotFoundError:
        return None, f"no credentials file at {path} (signed out?); nothing to copy"
    except OSError as exc:
        return None, f"{path} cannot be read ({exc.strerror or exc}); nothing copied"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{path} is not UTF-8 text, and the keyring stores text; nothing copied"
    # Teach the log redactor this file's secrets before anything could mention them.
    register_secret(text)
    # Not JSON: copied as it is all the same (the exact text is the point); the whole text is registered.
    with contextlib.suppress(ValueError, RecursionError):
        _register_token_values(parse_credentials(data))
    return text, ""


def _copy_one(
    adapter: KeyringAdapter, account: BoundAccount, ledger_file: Path, at_ms: int, chunking: bool
) -> AccountCopy:
    text, why_not = _read_text(account)
    if text is None:
        return AccountCopy(account, Outcome.SKIPPED, why_not)
    fp = fingerprint(text.encode("utf-8"))
    key = account.keyring_account
    backend = adapter.report.class_path

    pieces: list[str] | None = None
    limit = adapter.size_limit
    try:
        if limit is not None and not limit.fits(text):
            size = limit.size_of(text)
            if not chunking:
                raise SecretTooLarge(
                    f"{account.credentials_path} is {size} bytes in {adapter.report.name}'s encoding, over its "
                    f"{limit.max_bytes}-byte limit per entry, and chunking is off"
                )
            if size > MAX_CHUNKS * limit.max_bytes:
                raise SecretTooLarge(
                    f"{account.credentials_path} would need more than {MAX_CHUNKS} keyring entries of "
                    f"{limit.max_bytes} bytes; that is not an OAuth login file, so it is not copied"
                )
            pieces = split_text(text, limit)
    except SecretTooLarge as exc:
        return AccountCopy(account, Outcome.TOO_LARGE, exc.message, fp)
    manifest = Manifest.for_text(text, len(pieces)) if pieces else None

    record = ledger.find(ledger_file, backend, SERVICE, key)
    held = _held(adapter, key)
    ours = held.value is None or held.fingerprint == fp or (record is not None and record.owns(held.fingerprint or ""))
    if not ours:
        return AccountCopy(
            account, Outcome.CONFLICT,
            f"the keyring already holds a different value under {SERVICE}/{key} that the companion did not "
            "write (AgentMux or another tool may keep it there); it was left untouched and nothing was copied. "
            "Delete that entry yourself if you want the companion's copy there",
            fp,
        )
    old_chunks = max(record.max_chunks if record else 0, held.manifest.count if held.manifest else 0)
    new_chunks = len(pieces) if pieces else 0

    already = record is not None and record.complete and held.fingerprint == fp and record.chunks == new_chunks
    if already and _read_back(adapter, key) == text:
        return AccountCopy(account, Outcome.UNCHANGED, "already in the keyring, identical to the file", fp, new_chunks)

    ledger.begin(ledger_file, ledger.CopyRecord(
        backend=backend, service=SERVICE, account=key, account_id=account.account_id,
        provider=account.provider, store_path=str(account.store_path),
        credentials_path=str(account.credentials_path), backend_name=adapter.report.name,
        fingerprint=fp, chunks=new_chunks,
        previous_fingerprint=held.fingerprint or (record.fingerprint if record else ""),
        previous_chunks=old_chunks, state=ledger.WRITING, copied_at_ms=at_ms,
    ))
    if pieces and manifest is not None:
        for index, piece in enumerate(pieces):
            adapter.set(SERVICE, chunk_account(key, index), piece)
        adapter.set(SERVICE, key, manifest.encode())  # last: only now do the chunks form a secret
    else:
        adapter.set(SERVICE, key, text)
    if _read_back(adapter, key) != text:
        return AccountCopy(
            account, Outcome.FAILED,
            f"the keyring returned something else when {SERVICE}/{key} was read back; the copy is not "
            "trusted (it is recorded as incomplete, so `keyring remove` can clean it up)",
            fp, new_chunks,
        )
    removed = _delete_chunks(adapter, key, new_chunks, old_chunks)
    ledger.commit(ledger_file, backend, SERVICE, key)
    how = f"in {new_chunks} chunks plus a manifest" if new_chunks else "as one entry"
    return AccountCopy(account, Outcome.COPIED, f"copied {how} and verified by reading it back", fp,
                       new_chunks, removed)


def copy_bound_accounts(
    paths: AppPaths,
    store_paths: Sequence[Path],
    *,
    adapter: KeyringAdapter | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    at_ms: int | None = None,
    chunking: bool = True,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy the credentials of every OAuth account bound in ``store_paths`` into the keyring.

    Args:
        paths: the companion's paths (the ledger lives in ``paths.data_dir``).
        store_paths: the stores whose bindings say which accounts to copy; only read.
        adapter: the keyring to use; None opens keyring's default backend (refused unless secure).
        timeout_s: bound on each keyring call when ``adapter`` is None.
        at_ms: the time to record (the CLI's ``--now-ms``); now when None.
        chunking: split secrets over a backend's per-entry limit (off: such a secret is
            reported ``too_large``).
        progress: called with a line of text before each account (GUI status line).

    Raises:
        KeyringUnavailable: a subclass saying why the keyring cannot be used (no session bus,
            locked, not secure, timed out). Accounts finished before it are recorded; when the
            very first call fails, nothing is.
    """
    at = _now_ms() if at_ms is None else at_ms
    found = bound_oauth_accounts(store_paths)
    ledger_file = ledger.ledger_path(paths)
    if not found.accounts:
        return CopyReport(None, (), found.skipped_stores, ledger_file, at)
    if adapter is None:
        adapter = KeyringAdapter.open(timeout_s=timeout_s)
    results: list[AccountCopy] = []
    for account in found.accounts:
        if progress is not None:
            progress(f"Copying {account.provider} ({account.keyring_account}) to {adapter.report.name}")
        result = _copy_one(adapter, account, ledger_file, at, chunking)
        log.info("keyring copy %s %s/%s: %s %s (%s)", account.provider, SERVICE, account.keyring_account,
                 result.outcome.value, result.fingerprint or "-", result.message)
        results.append(result)
    return CopyReport(adapter.report, tuple(results), found.skipped_stores, ledger_file, at)


# --------------------------------------------------------------------------------------------
# Status


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


@dataclass(frozen=True)
class CopyStatus:
    """One recorded copy and how it stands."""

    record: ledger.CopyRecord
    current_fingerprint: str | None
    freshness: Freshness
    in_keyring: InKeyring
    message: str

    def to_json(self) -> dict[str, Any]:
        document = self.record.to_json()
        document.update({
            "current_fingerprint": self.current_fingerprint, "freshness": self.freshness.value,
            "in_keyring": self.in_keyring.value, "message": self.message,
        })
        return document


@dataclass(frozen=True)
class SnapshotStatus:
    """The result of :func:`snapshot_status`."""

    copies: tuple[CopyStatus, ...]
    backend: BackendReport | None
    keyring_error: str | None
    ledger: Path

    def to_json(self) -> dict[str, Any]:
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
    held = _held(adapter, record.account)
    if held.value is None:
        return InKeyring.MISSING
    if held.fingerprint != record.fingerprint:
        return InKeyring.CHANGED
    text = _read_back(adapter, record.account)
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


# --------------------------------------------------------------------------------------------
# Remove


class Removal(enum.StrEnum):
    REMOVED = "removed"
    ALREADY_GONE = "already_gone"  # nothing of the copy was left in the keyring
    LEFT_CHANGED = "left_changed"  # the entry holds a value the companion did not write: kept
    OTHER_BACKEND = "other_backend"  # the copy is in a backend that is not the one in use


@dataclass(frozen=True)
class RemovedCopy:
    record: ledger.CopyRecord
    outcome: Removal
    entries_deleted: int
    message: str

    def to_json(self) -> dict[str, Any]:
        document = self.record.to_json()
        document.update({"outcome": self.outcome.value, "entries_deleted": self.entries_deleted,
                         "message": self.message})
        return document


@dataclass(frozen=True)
class RemoveReport:
    backend: BackendReport | None
    copies: tuple[RemovedCopy, ...]
    ledger: Path

    @property
    def all_removed(self) -> bool:
        return all(c.outcome in (Removal.REMOVED, Removal.ALREADY_GONE) for c in self.copies)

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend.to_json() if self.backend else None,
            "ledger": str(self.ledger),
            "copies": [c.to_json() for c in self.copies],
        }


def _remove_one(adapter: KeyringAdapter, record: ledger.CopyRecord, ledger_file: Path) -> RemovedCopy:
    key = record.account
    held = _held(adapter, key)
    deleted = 0
    if held.value is not None:
        if not record.owns(held.fingerprint or ""):
            return RemovedCopy(
                record, Removal.LEFT_CHANGED, 0,
                f"{SERVICE}/{key} now holds a value the companion did not write (changed since the copy); "
                "it was left in place",
            )
        if adapter.delete(SERVICE, key):  # the manifest first: the chunks stop forming a secret
            deleted += 1
    known = max(record.max_chunks, held.manifest.count if held.manifest else 0)
    deleted += _delete_chunks(adapter, key, 0, known)
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
        account_ids: only these accounts (default: every recorded copy).

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
