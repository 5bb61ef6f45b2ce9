"""Idempotency and "nothing lost" as properties, over random stores and credential sets.

For any store of a supported era and any credentials in the home: migrating twice equals
migrating once; only the rows docs/agentmux-store.md §7 names change, in the ways it names; undo restores
the exact prior content.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.migration.undo import undo_last
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import explicit_locations
from tests.helpers.stores import (
    HOUR_MS,
    NOW_MS,
    OAUTH_PROVIDERS,
    SUPPORTED_SHAPES,
    StoreSpec,
    accounts_table,
    build_store,
    claude_creds,
    dump_store,
    generic_creds,
    has_db_agents,
    has_instances,
    has_migrations_table,
    isolated,
    store_file_name,
    write_creds,
)

REGISTRY = load_registry()
IDENTITIES = ["", "blank", "default", "b1", "b2", "gone"]
CREDENTIAL_KINDS = ["absent", "valid", "expired", "needs_reauth", "invalid", "directory"]


@st.composite
def stores(draw: st.DrawFn) -> tuple[StoreShape, StoreSpec]:
    shape = draw(st.sampled_from(SUPPORTED_SHAPES))
    default = draw(st.sampled_from(["none", "default", "other-id-named-Default"]))
    bundles = [(b, b.upper()) for b in draw(st.lists(st.sampled_from(["b1", "b2"]), unique=True))]
    if default == "default":
        bundles.append(("default", "Default"))
    elif default == "other-id-named-Default":
        bundles.append(("user-default", "Default"))
    accounts, bindings = [], []
    for bundle_id, _name in bundles:
        for provider in draw(st.lists(st.sampled_from([*OAUTH_PROVIDERS, "gemini"]), unique=True, max_size=3)):
            account = f"acc-{bundle_id}-{provider}"
            accounts.append((account, provider, "oauth" if provider != "gemini" else "api_key"))
            bindings.append((bundle_id, provider, account))
    instances = draw(st.lists(st.sampled_from(IDENTITIES), max_size=12))
    agents = [
        (f"agent-{i}", template, definition, identity)
        for i, (template, definition, identity) in enumerate(draw(st.lists(
            st.tuples(st.sampled_from([0, 1]), st.sampled_from(["", "def-1"]), st.sampled_from(IDENTITIES)),
            max_size=8)))
    ]
    spec = StoreSpec(bundles=bundles, accounts=accounts, bindings=bindings, instances=instances, agents=agents,
                     migration_recorded=draw(st.booleans()))
    return shape, spec


def write_home(home: Path, kinds: dict[str, str]) -> None:
    for provider, kind in kinds.items():
        maker = claude_creds if provider == "claude" else generic_creds
        if kind == "valid":
            write_creds(home, provider, maker(NOW_MS + HOUR_MS))
        elif kind == "expired":
            write_creds(home, provider, maker(NOW_MS - HOUR_MS))
        elif kind == "needs_reauth":
            write_creds(home, provider, maker(NOW_MS - HOUR_MS, refresh=None))
        elif kind == "invalid":
            write_creds(home, provider, "{oops")
        elif kind == "directory":
            (home / f".{provider}" / ".credentials.json").mkdir(parents=True)


def migrate(home: Path, store: Path) -> Any:
    paths = AppPaths.resolve(home)
    plan = build_plan(paths, REGISTRY, explicit_locations([store]), NOW_MS)
    [result] = apply_plan(plan, paths, REGISTRY)
    return result


def check_only_contract_rows_changed(shape: StoreShape, spec: StoreSpec, kinds: dict[str, str],
                                     before: dict[str, Any], after: dict[str, Any]) -> None:
    assert after["schema"] == before["schema"]
    assert after["user_version"] == before["user_version"]
    covered = {provider for _b, provider, _a in spec.bindings}
    seedable = [p for p in OAUTH_PROVIDERS if p not in covered and kinds[p] != "absent"]
    # Under copy-once semantics a login that is not a readable file cannot be copied: that
    # provider is skipped with a warning, though it still makes the Default bundle (§7b).
    bound = [p for p in seedable if not (isolated(shape) and kinds[p] == "directory")]
    bundle_ids = {b for b, _n in spec.bundles}
    named_default_taken = "user-default" in bundle_ids
    if seedable and "default" not in bundle_ids and named_default_taken:
        assert after == before  # docs/agentmux-store.md §7 3c: nothing written at all
        return
    default_after = "default" in bundle_ids or bool(seedable)
    accounts = accounts_table(shape)
    for table, rows in before["tables"].items():
        new = after["tables"][table]
        if table == "db_identity_bundles":
            extra = [r for r in new if r not in rows]
            assert all(r in new for r in rows)
            assert extra == ([("default", "Default", "Seeded from ambient OAuth credentials on first launch.",
                               0, NOW_MS, NOW_MS)] if seedable and "default" not in bundle_ids else [])
        elif table == accounts:
            assert all(r in new for r in rows)
            extra = sorted(r[2] for r in new if r not in rows)
            assert extra == sorted(bound)
        elif table == "db_identity_bindings":
            assert all(r in new for r in rows)
            assert sorted(r[1] for r in new if r not in rows) == sorted(bound)
            assert all(r[0] == "default" for r in new if r not in rows)
        elif table in ("db_agent_instances", "db_agents"):
            assert len(new) == len(rows)
            index = 7 if table == "db_agent_instances" else 6
            by_id = {r[0]: r for r in new}
            for row in rows:
                legacy = row[index] in ("", "blank")
                if table == "db_agents":
                    legacy = legacy and row[2] == 0 and row[5] != ""
                expected = "default" if legacy and default_after else row[index]
                assert by_id[row[0]] == (*row[:index], expected, *row[index + 1:])
        elif table == "db_migrations":
            assert all(r in new for r in rows)
            extra = [r for r in new if r not in rows]
            assert [r[0] for r in extra] == ([] if spec.migration_recorded else ["0008_default_bundle"])
        else:
            assert new == rows, table


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(store=stores(), kinds=st.fixed_dictionaries({p: st.sampled_from(CREDENTIAL_KINDS) for p in OAUTH_PROVIDERS}))
def test_migrate_twice_equals_once_nothing_lost_and_undo_restores(
    store: tuple[StoreShape, StoreSpec], kinds: dict[str, str]
) -> None:
    # The autouse private home is shared by the examples; each example makes its own folder.
    shape, spec = store
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        home.mkdir()
        write_home(home, kinds)
        path = build_store(Path(folder) / store_file_name(shape), shape, spec)
        before = dump_store(path)

        first = migrate(home, path)
        once = dump_store(path)
        check_only_contract_rows_changed(shape, spec, kinds, before, once)
        if first.outcome == "migrated":
            assert first.stats.providers_examined == 3
            default_after = any(r[0] == "default" for r in once["tables"]["db_identity_bundles"])
            assert first.stats.instances_backfilled == sum(
                1 for r in before["tables"].get("db_agent_instances", []) if r[7] in ("", "blank")
            ) * (1 if has_instances(shape) and default_after else 0)

        second = migrate(home, path)
        assert second.outcome in ("nothing_to_do", "refused")
        assert second.outcome == first.outcome or first.outcome == "migrated"
        assert dump_store(path) == once

        if first.outcome == "migrated":
            undo_last(AppPaths.resolve(home), path)
            assert dump_store(path) == before
            # The copies (§7b) went with the undo, and every folder the run made for them.
            assert not (home / ".agentmux").exists()
        # Tables the era lacks stay absent; the credentials were only read.
        assert ("db_agents" in before["tables"]) == has_db_agents(shape)
        assert ("db_migrations" in before["tables"]) == has_migrations_table(shape)
        for provider, kind in kinds.items():
            if kind in ("valid", "expired", "needs_reauth"):
                json.loads((home / f".{provider}" / ".credentials.json").read_text(encoding="utf-8"))
