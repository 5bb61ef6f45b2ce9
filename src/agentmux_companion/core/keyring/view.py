"""One view of the keyring snapshot per bound login, for every front end (CLI and GUI alike).

Joins three sources into one row per account: the OAuth accounts the stores bind, the copy
ledger compared with the files and the keyring now (:func:`~.status.snapshot_status`), and
the last copy attempt of this session (conflicts and logins too large for the keyring are only
reported by the attempt, never recorded). Fingerprints of the CLIs' files are read here, so a
front end never hashes a credentials file itself, and both show the same states.

Plain functions returning immutable values; they read files and may ask the keyring, so the GUI
calls them from a worker thread. No Qt here (``core`` never imports it).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from agentmux_companion.core.credentials import fingerprint, read_credentials_bytes
from agentmux_companion.core.keyring.accounts import BoundAccount, bound_oauth_accounts
from agentmux_companion.core.keyring.backend import DEFAULT_TIMEOUT_S, SERVICE
from agentmux_companion.core.keyring.copy import AccountCopy, Outcome
from agentmux_companion.core.keyring.status import (
    CopyStatus,
    Freshness,
    InKeyring,
    SnapshotStatus,
    snapshot_status,
)

if TYPE_CHECKING:
    from agentmux_companion.core.paths import AppPaths
    from agentmux_companion.core.providers import ProviderRegistry


class CopyState(enum.StrEnum):
    """One account's keyring copy, as every front end lists it."""

    NOT_COPIED = "not_copied"
    CURRENT = "current"
    STALE = "stale"  # the CLI refreshed its token since the copy
    INCOMPLETE = "incomplete"  # interrupted before it was verified
    CONFLICT = "conflict"  # something the companion did not write holds the entry
    SOURCE_GONE = "source_gone"  # the CLI's credentials file is missing now
    TOO_LARGE = "too_large"  # the last copy attempt found the login too large for the keyring


class AccountRow(NamedTuple):
    """One login and its keyring copy; holds no secret (fingerprints are masked).

    Attributes:
        provider: the provider's display name.
        keyring_entry: where the copy lives, ``agentmux/acct:<account id>``.
        fingerprint: the masked fingerprint of the copy (or of the file when nothing is copied).
        state: the copy's state.
        copied_at_ms: when the copy was made, or None.
        bound: whether a store still binds the account (False: only the copy is left).
        in_keyring_missing: the copy was recorded, but the keyring no longer holds it.
        note: why a conflict or an uncopyable login, in words, else ''.
    """

    provider: str
    keyring_entry: str
    fingerprint: str
    state: CopyState
    copied_at_ms: int | None
    bound: bool
    in_keyring_missing: bool = False
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """The row as JSON; the fingerprint is masked, as everywhere."""
        return {
            "provider": self.provider, "keyring_entry": self.keyring_entry, "fingerprint": self.fingerprint,
            "state": self.state.value, "copied_at_ms": self.copied_at_ms, "bound": self.bound,
            "in_keyring_missing": self.in_keyring_missing, "note": self.note,
        }


class KeyringView(NamedTuple):
    """Every login's copy, and why the keyring could not be asked (None when it could).

    Attributes:
        rows: bound accounts first (store order), then copies of accounts no longer bound.
        keyring_error: why the keyring was not asked about the copies, or None.
        status: the ledger's own status the rows were made from (``keyring status --json``).
    """

    rows: tuple[AccountRow, ...]
    keyring_error: str | None
    status: SnapshotStatus

    @property
    def bound_count(self) -> int:
        """How many rows are accounts a store binds now."""
        return sum(1 for r in self.rows if r.bound)

    @property
    def recorded_count(self) -> int:
        """How many rows have a copy recorded in the ledger."""
        return sum(1 for r in self.rows if r.copied_at_ms is not None)


class BoundLogin(NamedTuple):
    """A bound account and its credentials file's fingerprint now ('' when unreadable)."""

    account: BoundAccount
    current_fingerprint: str


def bound_logins(store_paths: Sequence[Path]) -> tuple[BoundLogin, ...]:
    """The OAuth accounts the stores bind, each with its file's fingerprint now."""
    logins = []
    for account in bound_oauth_accounts(store_paths).accounts:
        try:
            current = fingerprint(read_credentials_bytes(account.credentials_path))
        except OSError:
            current = ""
        logins.append(BoundLogin(account, current))
    return tuple(logins)


def keyring_view(
    paths: AppPaths,
    registry: ProviderRegistry,
    store_paths: Sequence[Path],
    *,
    check_keyring: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    last_copies: Mapping[str, AccountCopy] | None = None,
) -> KeyringView:
    """Read the bound logins, the ledger and (with ``check_keyring``) the keyring into rows.

    Args:
        paths: where the copy ledger is.
        registry: for the providers' display names.
        store_paths: the stores whose bindings count (the migration's targets).
        check_keyring: ask the keyring whether each copy is still there (False when the backend
            is known to be unusable: asking would only wait for the same failure).
        timeout_s: the bound on each keyring call.
        last_copies: this session's last copy attempt per account id.
    """
    status = snapshot_status(paths, check_keyring=check_keyring, timeout_s=timeout_s)
    rows = account_rows(registry, bound_logins(store_paths), status, last_copies or {})
    return KeyringView(rows, status.keyring_error, status)


def account_rows(
    registry: ProviderRegistry,
    bound: Sequence[BoundLogin],
    status: SnapshotStatus,
    last_copies: Mapping[str, AccountCopy],
) -> tuple[AccountRow, ...]:
    """Join the bound logins, the recorded copies and the last copy attempt into rows."""
    def name(provider_id: str) -> str:
        provider = registry.get(provider_id)
        return provider.display_name if provider is not None else provider_id

    by_account = {c.record.account_id: c for c in status.copies}
    rows: list[AccountRow] = []
    for login in bound:
        account = login.account
        copy = by_account.pop(account.account_id, None)
        entry = f"{SERVICE}/{account.keyring_account}"
        if copy is None:
            state, note = _not_recorded_state(last_copies.get(account.account_id))
            rows.append(AccountRow(name(account.provider), entry, login.current_fingerprint or "—", state, None,
                                   True, note=note))
            continue
        rows.append(_recorded_row(name(copy.record.provider), entry, copy, bound=True))
    for copy in by_account.values():  # copies whose account no store binds any more (after an undo)
        entry = f"{copy.record.service}/{copy.record.account}"
        rows.append(_recorded_row(name(copy.record.provider), entry, copy, bound=False))
    return tuple(rows)


def _not_recorded_state(attempt: AccountCopy | None) -> tuple[CopyState, str]:
    if attempt is None:
        return CopyState.NOT_COPIED, ""
    if attempt.outcome is Outcome.CONFLICT:
        return CopyState.CONFLICT, attempt.message
    if attempt.outcome is Outcome.TOO_LARGE:
        return CopyState.TOO_LARGE, attempt.message
    if attempt.outcome is Outcome.SKIPPED:
        return CopyState.NOT_COPIED, attempt.message
    return CopyState.NOT_COPIED, ""


def _recorded_row(provider: str, entry: str, copy: CopyStatus, *, bound: bool) -> AccountRow:
    record = copy.record
    missing = copy.in_keyring == InKeyring.MISSING
    note = ""
    if copy.in_keyring == InKeyring.CHANGED:
        state = CopyState.CONFLICT
        note = f"{entry} now holds a value the companion did not write; it is left alone."
    elif copy.freshness == Freshness.INCOMPLETE:
        state = CopyState.INCOMPLETE
    elif missing:
        state = CopyState.NOT_COPIED
    elif copy.freshness == Freshness.STALE:
        state = CopyState.STALE
    elif copy.freshness == Freshness.SOURCE_GONE:
        state = CopyState.SOURCE_GONE
    else:
        state = CopyState.CURRENT
    if copy.in_keyring == InKeyring.OTHER_BACKEND:
        note = f"Copied into {record.backend_name}, which is not the keyring in use now."
    return AccountRow(provider, entry, record.fingerprint, state, record.copied_at_ms, bound,
                      in_keyring_missing=missing, note=note)
