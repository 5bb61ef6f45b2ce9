"""AgentMux's stores: where they are, which era they are of, how to open them.

Callers use the package as one namespace (``from agentmux_companion.core import store as st``);
the parts live in :mod:`.locations`, :mod:`.connect`, :mod:`.inspect` and :mod:`.running`, and the
store's table names in :mod:`agentmux_companion.core.contract`.
"""

from __future__ import annotations

from agentmux_companion.core.contract import (
    ACCOUNTS_NEW,
    ACCOUNTS_OLD,
    AGENTS,
    BINDINGS,
    BUNDLES,
    INSTANCES,
    MIGRATIONS,
    REQUIRED_COLUMNS,
)
from agentmux_companion.core.store.connect import (
    BUSY_TIMEOUT_MS,
    LOCK_FILE_NAME,
    fetch_row,
    is_busy_error,
    migrations_lock,
    open_for_write,
    open_readonly,
    readonly_uri,
)
from agentmux_companion.core.store.inspect import (
    HOT_JOURNAL_REASON,
    POST_BUNDLE_REASON,
    PRE_BUNDLE_REASON,
    Era,
    StoreInspection,
    inspect_store,
    table_columns,
    write_refusal,
)
from agentmux_companion.core.store.locations import (
    StoreKind,
    StoreLocation,
    discover_stores,
    explicit_locations,
    version_key,
)
from agentmux_companion.core.store.running import agentmux_process_running, store_in_use

__all__ = [
    "ACCOUNTS_NEW", "ACCOUNTS_OLD", "AGENTS", "BINDINGS", "BUNDLES", "BUSY_TIMEOUT_MS", "HOT_JOURNAL_REASON",
    "INSTANCES", "LOCK_FILE_NAME", "MIGRATIONS", "POST_BUNDLE_REASON", "PRE_BUNDLE_REASON", "REQUIRED_COLUMNS",
    "Era", "StoreInspection", "StoreKind", "StoreLocation", "agentmux_process_running", "discover_stores",
    "explicit_locations", "fetch_row", "inspect_store", "is_busy_error", "migrations_lock", "open_for_write",
    "open_readonly", "readonly_uri", "store_in_use", "table_columns", "version_key", "write_refusal",
]
