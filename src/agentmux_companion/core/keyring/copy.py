"""The keyring snapshot: copy each bound OAuth login into the OS keyring, verified.

For every provider account bound in a store (:func:`~.accounts.bound_oauth_accounts`), the
credentials file's exact text is stored under service ``agentmux``, account ``acct:<account
id>`` — AgentMux's own naming, so the copy sits where AgentMux would look for a ``keychain``
secret. It is then read back and compared, and recorded in the copy ledger.

What this module never does (docs/agentmux-store.md §8): switch a binding to the copy, or refresh a token
from it. The binding keeps pointing at the CLI's folder, the CLI keeps refreshing its own file,
and the copy is a *snapshot* that goes stale at the CLI's next refresh;
:func:`~.status.snapshot_status` says when, and :func:`~.removal.remove_copies` takes copies
away again. Stores are only read (``mode=ro``).

Plain functions returning immutable results, meant to be called from a worker thread (the GUI)
or the CLI. Keyring failures that stop everything (no session bus, locked, insecure backend,
timeout) raise a :class:`~agentmux_companion.core.errors.KeyringUnavailable` subclass; per-account
problems (file missing, someone else's value in the way, too large) are outcomes.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.credentials import (
    _register_token_values,
    fingerprint,
    parse_credentials,
    read_credentials_bytes,
)
from agentmux_companion.core.keyring import ledger
from agentmux_companion.core.keyring.accounts import BoundAccount, bound_oauth_accounts
from agentmux_companion.core.keyring.backend import DEFAULT_TIMEOUT_S, SERVICE, BackendReport, KeyringAdapter
from agentmux_companion.core.keyring.chunks import (
    MAX_CHUNKS,
    Manifest,
    chunk_account,
    split_text,
)
from agentmux_companion.core.keyring.entries import Progress, delete_chunks, held, read_back
from agentmux_companion.core.keyring.failures import SecretTooLarge
from agentmux_companion.core.log import register_secret
from agentmux_companion.core.paths import AppPaths

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Outcome(enum.StrEnum):
    """What happened to one account in :func:`copy_bound_accounts`."""

    COPIED = "copied"
    UNCHANGED = "unchanged"  # the keyring already held this exact copy, verified
    CONFLICT = "conflict"  # a value the companion did not write is in the way; left untouched
    SKIPPED = "skipped"  # no readable credentials file, or not text
    TOO_LARGE = "too_large"
    FAILED = "failed"  # written, but the read-back did not match


class AccountCopy(NamedTuple):
    """The result for one account. ``fingerprint`` is masked; ``chunks`` is 0 for a whole value."""

    account: BoundAccount
    outcome: Outcome
    message: str
    fingerprint: str | None = None
    chunks: int = 0
    stale_chunks_removed: int = 0

    @property
    def ok(self) -> bool:
        """Whether the keyring now holds the login: copied now, or already there unchanged."""
        return self.outcome in (Outcome.COPIED, Outcome.UNCHANGED)

    def to_json(self) -> dict[str, Any]:
        """The account's result as JSON (masked fingerprint only, never the secret)."""
        a = self.account
        return {
            "provider": a.provider, "account_id": a.account_id, "service": SERVICE,
            "account": a.keyring_account, "store": str(a.store_path), "bundles": list(a.bundles),
            "credentials_path": str(a.credentials_path), "outcome": self.outcome.value,
            "message": self.message, "fingerprint": self.fingerprint, "chunks": self.chunks,
            "stale_chunks_removed": self.stale_chunks_removed,
        }


class CopyReport(NamedTuple):
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
        """Whether every bound account's login is in the keyring (the exit status follows it)."""
        return all(c.ok for c in self.copies)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON, as ``keyring copy --json`` prints it."""
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
    entry = held(adapter, key)
    ours = (entry.value is None or entry.fingerprint == fp
            or (record is not None and record.owns(entry.fingerprint or "")))
    if not ours:
        return AccountCopy(
            account, Outcome.CONFLICT,
            f"the keyring already holds a different value under {SERVICE}/{key} that the companion did not "
            "write (AgentMux or another tool may keep it there); it was left untouched and nothing was copied. "
            "Delete that entry yourself if you want the companion's copy there",
            fp,
        )
    old_chunks = max(record.max_chunks if record else 0, entry.manifest.chunk_count if entry.manifest else 0)
    new_chunks = len(pieces) if pieces else 0

    already = record is not None and record.complete and entry.fingerprint == fp and record.chunks == new_chunks
    if already and read_back(adapter, key) == text:
        return AccountCopy(account, Outcome.UNCHANGED, "already in the keyring, identical to the file", fp, new_chunks)

    ledger.begin(ledger_file, ledger.CopyRecord(
        backend=backend, service=SERVICE, account=key, account_id=account.account_id,
        provider=account.provider, store_path=str(account.store_path),
        credentials_path=str(account.credentials_path), backend_name=adapter.report.name,
        fingerprint=fp, chunks=new_chunks,
        previous_fingerprint=entry.fingerprint or (record.fingerprint if record else ""),
        previous_chunks=old_chunks, state=ledger.WRITING, copied_at_ms=at_ms,
    ))
    if pieces and manifest is not None:
        for index, piece in enumerate(pieces):
            adapter.set(SERVICE, chunk_account(key, index), piece)
        adapter.set(SERVICE, key, manifest.encode())  # last: only now do the chunks form a secret
    else:
        adapter.set(SERVICE, key, text)
    if read_back(adapter, key) != text:
        return AccountCopy(
            account, Outcome.FAILED,
            f"the keyring returned something else when {SERVICE}/{key} was read back; the copy is not "
            "trusted (it is recorded as incomplete, so `keyring remove` can clean it up)",
            fp, new_chunks,
        )
    removed = delete_chunks(adapter, key, new_chunks, old_chunks)
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
