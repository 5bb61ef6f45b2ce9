"""The tests' own schema (tests/helpers/schema.py) against the demo's (core/sandbox.py) and the contract.

The suite builds its stores from its own copy of docs/agentmux-store.md §3 so that the product
is not its own oracle. The two copies must still describe the same stores: for every era both
know, the tables, columns (type, NOT NULL, default, key), indexes, foreign keys, rows and
``user_version`` must be equal. A change to either side that the other does not follow fails here.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from agentmux_companion.core import sandbox
from agentmux_companion.core.store import Era as DetectedEra
from agentmux_companion.core.store import inspect_store
from tests.helpers import schema
from tests.helpers.schema import Era

#: The eras the demo's builder knows too (the isolation-era fixtures are the tests' alone).
SHARED_ERAS = [era for era in Era if era.value in {shape.value for shape in sandbox.StoreShape}]


def shape_of(path: Path) -> dict[str, Any]:
    """Everything about a store's schema that matters to AgentMux and the migration.

    Name-free where SQLite lets names vary (index names, whitespace of the DDL).
    """
    with closing(sqlite3.connect(str(path))) as conn:
        tables = sorted(row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        described: dict[str, Any] = {}
        for table in tables:
            columns = [tuple(row[1:]) for row in conn.execute(f'PRAGMA table_xinfo("{table}")')]
            indexes = sorted(
                (bool(unique), origin, tuple(col[2] for col in conn.execute(f'PRAGMA index_info("{name}")')))
                for _seq, name, unique, origin, _partial in conn.execute(f'PRAGMA index_list("{table}")')
            )
            foreign_keys = sorted(
                (row[2], row[3], row[4], row[6]) for row in conn.execute(f'PRAGMA foreign_key_list("{table}")'))
            rows = sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall())
            described[table] = {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys, "rows": rows}
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    return {"tables": described, "user_version": user_version, "journal_mode": journal}


def test_every_demo_shape_has_a_test_side_era() -> None:
    assert sorted(era.value for era in SHARED_ERAS) == sorted(shape.value for shape in sandbox.StoreShape)


@pytest.mark.parametrize("era", SHARED_ERAS, ids=lambda era: era.value)
def test_test_side_schema_matches_the_demo_schema(tmp_path: Path, era: Era) -> None:
    ours = schema.create_store(tmp_path / "tests" / era.shape.file_name, era)
    demos = sandbox.create_store(tmp_path / "demo" / era.shape.file_name, sandbox.StoreShape(era.value))
    assert shape_of(ours) == shape_of(demos)


def test_the_comparison_sees_a_difference(tmp_path: Path) -> None:
    # The check above could pass by comparing nothing: one column more must show.
    store = schema.create_store(tmp_path / "objects.db", Era.FLAT)
    before = shape_of(store)
    with closing(sqlite3.connect(str(store))) as conn:
        conn.execute("ALTER TABLE db_agent_instances ADD COLUMN extra TEXT NOT NULL DEFAULT ''")
        conn.commit()
    assert shape_of(store) != before


#: What the product's era detection must make of each test-side era (§1).
DETECTED = {
    Era.PRE_BUNDLE: DetectedEra.PRE_BUNDLE,
    Era.EARLY_CHAIN: DetectedEra.EARLY_CHAIN,
    Era.FLAT: DetectedEra.BUNDLE,
    Era.WITH_AGENTS: DetectedEra.BUNDLE,
    Era.WITH_AGENTS_V9: DetectedEra.BUNDLE,
    Era.WITH_MIGRATIONS: DetectedEra.BUNDLE,
    Era.ISOLATION_V10: DetectedEra.BUNDLE,
    Era.ACCOUNTS_RENAMED: DetectedEra.BUNDLE_ACCOUNTS_RENAMED,
    Era.SHARED: DetectedEra.BUNDLE,
    Era.SHARED_RENAMED: DetectedEra.BUNDLE_ACCOUNTS_RENAMED,
    Era.POST_BUNDLE: DetectedEra.POST_BUNDLE,
}


@pytest.mark.parametrize("era", list(Era), ids=lambda era: era.value)
def test_each_era_is_detected_as_the_contract_says(tmp_path: Path, era: Era) -> None:
    inspection = inspect_store(schema.create_store(tmp_path / era.shape.file_name, era))
    assert inspection.era is DETECTED[era]
    assert inspection.era.migratable is era.supported
    assert inspection.user_version == era.shape.user_version


def test_semantics_per_era_follow_section_7b() -> None:
    assert {era: era.semantics for era in Era} == {
        Era.PRE_BUNDLE: None,
        Era.EARLY_CHAIN: None,
        Era.POST_BUNDLE: None,
        Era.FLAT: "ambient",  # user_version 1, no db_migrations
        Era.WITH_AGENTS: "ambient",  # 4
        Era.WITH_AGENTS_V9: "ambient",  # 9 landed with isolation, but without db_migrations
        Era.WITH_MIGRATIONS: "isolated",  # has db_migrations
        Era.ISOLATION_V10: "isolated",  # 10
        Era.ACCOUNTS_RENAMED: "isolated",  # 11
        Era.SHARED: "isolated",  # every store.db
        Era.SHARED_RENAMED: "isolated",
    }


def test_isolation_era_fixtures_have_the_contract_shape(tmp_path: Path) -> None:
    v9 = schema.create_store(tmp_path / "v9" / "objects.db", Era.WITH_AGENTS_V9)
    v10 = schema.create_store(tmp_path / "v10" / "objects.db", Era.ISOLATION_V10)
    shared = schema.create_store(tmp_path / "shared" / "store.db", Era.SHARED)
    assert shape_of(v9)["user_version"] == 9
    assert "db_migrations" not in shape_of(v9)["tables"]
    assert shape_of(v10)["user_version"] == 10
    assert "db_migrations" in shape_of(v10)["tables"]
    assert {"db_agent_instances", "db_agents"} <= set(shape_of(v10)["tables"])
    assert "db_agent_instances" not in shape_of(shared)["tables"]
    assert "db_migrations" in shape_of(shared)["tables"]
    # The blank bundle of §3, em dash included.
    blank = shape_of(v10)["tables"]["db_identity_bundles"]["rows"]
    assert blank == [("blank", "__blank__", "No credentials \u2014 use ambient", 1, 0, 0)]
