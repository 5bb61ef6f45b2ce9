"""Which logins the keyring snapshot is about: the OAuth accounts bound in AgentMux's stores.

Copy, status and the GUI's keyring rows all start from the same question, "which CLI logins does
AgentMux bind, and where do their files live", so the answer is read here once, from the stores
themselves, read-only (``mode=ro``): it works as well after an earlier migration as right after
one, and never changes a store. A binding counts when its ``secret_ref`` points at a CLI's
config dir (``oauth_config_dir``, or ``o_auth_config_dir`` as AgentMux's own migration spelled
it, docs/agentmux-store.md §4); its keyring entry is named the way AgentMux names it (§8).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from agentmux_companion.core import store as st
from agentmux_companion.core.contract import oauth_dir_of
from agentmux_companion.core.providers import CREDENTIALS_FILE_NAME


def keyring_account(account_id: str) -> str:
    """AgentMux's keyring account name for an account id (docs/agentmux-store.md §8)."""
    return f"acct:{account_id}"


class BoundAccount(NamedTuple):
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
        """The CLI's credentials file in ``config_dir``, where the login the copy reads lives."""
        return self.config_dir / CREDENTIALS_FILE_NAME

    @property
    def keyring_account(self) -> str:
        """The keyring account the copy is stored under, ``acct:<account_id>``, as AgentMux reads it."""
        return keyring_account(self.account_id)


class BoundAccounts(NamedTuple):
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
                found[account_id] = known._replace(bundles=(*known.bundles, str(bundle)))
    return BoundAccounts(tuple(found.values()), tuple(skipped))
