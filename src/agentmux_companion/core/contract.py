"""Constants and exact formats of AgentMux's store that the migration writes or reads.

The migration's result must be byte-compatible with what AgentMux's own start-up migration
(``0008_default_bundle``) writes, so the fixed texts and formats live here, in one place, next to
the rule that says which build's migration a store gets (pointer-to-ambient or copy-once).
"""

from __future__ import annotations

import enum
import json
import os
from pathlib import Path

#: The store's tables the migration reads or writes (docs/agentmux-store.md §3).
BUNDLES = "db_identity_bundles"
BINDINGS = "db_identity_bindings"
ACCOUNTS_OLD = "db_identity_accounts"
ACCOUNTS_NEW = "db_accounts"
INSTANCES = "db_agent_instances"
AGENTS = "db_agents"
MIGRATIONS = "db_migrations"

#: Columns the migration reads or writes, per table: a bundle-era store lacking one of them does
#: not match the contract and is refused rather than half-migrated.
REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    BUNDLES: frozenset({"id", "name", "description", "is_blank", "created_at", "updated_at"}),
    BINDINGS: frozenset({"identity_id", "provider", "account_id"}),
    "accounts": frozenset(
        {"id", "name", "provider", "kind", "display_name", "secret_ref", "context", "status",
         "created_at", "updated_at"}
    ),
    INSTANCES: frozenset({"id", "identity_id"}),
    AGENTS: frozenset({"id", "identity_id", "is_template", "definition_id"}),
    MIGRATIONS: frozenset({"id", "applied_at", "duration_ms", "scope"}),
}


#: ``user_version`` of bundle-era stores (§3): a number beyond these was written by a build the
#: companion does not know, whatever the tables look like.
BUNDLE_ERA_USER_VERSIONS = {"objects.db": range(1, 12), "store.db": range(1, 4)}

#: Which rows the back-fill rewrites, per table (§3, §7 step 4): legacy identity_ids, and in
#: db_agents only instance rows (not templates, and with a definition).
BACKFILL_CONDITIONS = {
    INSTANCES: "identity_id IN ('', 'blank')",
    AGENTS: "identity_id IN ('', 'blank') AND is_template = 0 AND definition_id <> ''",
}

DEFAULT_BUNDLE_ID = "default"
DEFAULT_BUNDLE_NAME = "Default"
DEFAULT_BUNDLE_DESCRIPTION = "Seeded from ambient OAuth credentials on first launch."
BLANK_BUNDLE_ID = "blank"
MIGRATION_ID = "0008_default_bundle"

#: The columns of the rows the migration writes, in the order it writes them.
ACCOUNT_COLUMNS = (
    "id", "name", "provider", "kind", "display_name", "secret_ref", "context", "status",
    "created_at", "updated_at",
)
BUNDLE_COLUMNS = ("id", "name", "description", "is_blank", "created_at", "updated_at")

#: The ``secret_ref`` tag every bundle-era AgentMux build writes and reads for an OAuth config
#: dir: serde's ``rename_all = "snake_case"`` of ``OAuthConfigDir``. Builds from Jul 25 on (after
#: the bundle tables were dropped) write ``oauth_config_dir`` and read both, so the companion
#: writes only the first and recognises both.
OAUTH_TAG = "o_auth_config_dir"
OAUTH_TAG_LATER = "oauth_config_dir"
OAUTH_TAGS = (OAUTH_TAG, OAUTH_TAG_LATER)

#: Copy-once (isolation) semantics: AgentMux's own copy of a provider's login lives in
#: ``<home>/.agentmux/shared/providers/<auth dir>``, marked as imported by this empty file.
ISOLATION_PARTS = (".agentmux", "shared", "providers")
SEEDED_SENTINEL = ".agentmux-cred-seeded"

#: objects.db's ``user_version`` from which AgentMux's migration copies logins (provider isolation
#: landed with version 10; version 9 landed the same day and still points at the ambient folder).
ISOLATION_USER_VERSION = 10


def oauth_secret_ref(config_dir: Path | str) -> str:
    r"""The exact ``secret_ref`` text of an OAuth config-dir account.

    Compact JSON, the tag first, non-ASCII as raw UTF-8 (never ``\u`` escapes), backslashes of
    Windows paths JSON-escaped: AgentMux later deduplicates accounts by comparing this text.
    """
    return json.dumps({"backend": OAUTH_TAG, "dir": str(config_dir)}, separators=(",", ":"), ensure_ascii=False)


def oauth_dir_of(secret_ref: str) -> str | None:
    """The ``dir`` of an OAuth config-dir ``secret_ref`` under either tag, else None."""
    try:
        ref = json.loads(secret_ref)
    except (ValueError, TypeError):
        return None
    if not isinstance(ref, dict) or ref.get("backend") not in OAUTH_TAGS:
        return None
    folder = ref.get("dir")
    return folder if isinstance(folder, str) else None


def isolation_dir(home: Path, auth_dir: str) -> Path:
    """Where copy-once semantics keep AgentMux's own copy of a provider's login.

    Built from the home folder with a literal ``.agentmux``, as AgentMux builds it: neither
    ``AGENTMUX_HOME_OVERRIDE`` nor ``--agentmux-root`` moves it.
    """
    return home.joinpath(*ISOLATION_PARTS, auth_dir)


class Semantics(enum.StrEnum):
    """Which build's migration a store gets."""

    AMBIENT = "ambient"
    """Accounts point at the CLI's own folder (builds before provider isolation, Jun 20)."""
    ISOLATED = "isolated"
    """The login is copied once into AgentMux's own folder and the account points there."""


def semantics_for(is_shared: bool, user_version: int, has_migrations: bool) -> tuple[Semantics, str]:
    """The semantics a bundle-era store gets, and why, in words a user can follow."""
    if is_shared:
        return Semantics.ISOLATED, (
            "this is AgentMux's shared store, used only by builds that keep their own copy of each login"
        )
    if user_version >= ISOLATION_USER_VERSION:
        return Semantics.ISOLATED, (
            f"this store is at version {user_version}, written by a build that keeps its own copy of each login"
        )
    if has_migrations:
        return Semantics.ISOLATED, (
            "this store records its migrations, which only builds that keep their own copy of each login do"
        )
    return Semantics.AMBIENT, (
        f"this store is at version {user_version}, written by a build that uses each CLI's own login folder"
    )


def uuid4_text(sixteen_bytes: bytes) -> str:
    """The id form AgentMux mints (lowercase, hyphenated, version 4) made from 16 bytes.

    The same text as ``str(uuid.UUID(bytes=sixteen_bytes, version=4))``: the version nibble set
    to 4 and the variant bits to ``10``. Written out because the ``uuid`` module loads
    ``platform`` and more (about 3 ms) on the way to the first plan that mints an account.
    """
    if len(sixteen_bytes) != 16:
        raise ValueError(f"a UUID takes 16 bytes, not {len(sixteen_bytes)}")
    octets = bytearray(sixteen_bytes)
    octets[6] = (octets[6] & 0x0F) | 0x40
    octets[8] = (octets[8] & 0x3F) | 0x80
    text = octets.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def new_uuid4() -> str:
    """A fresh random id in the form AgentMux mints (as ``uuid.uuid4()``: 16 bytes of ``os.urandom``)."""
    return uuid4_text(os.urandom(16))
