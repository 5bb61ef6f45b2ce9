"""The command line's contract (README.md "Command line").

One JSON document with ``--json``, its shape and types, exit codes 0/2/3/4/5, ``--yes`` without a
terminal, ``--now-ms``, and ``demo``.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    PLANTED_TOKENS,
    StoreSpec,
    build_store,
    channel_store_path,
    dump_store,
    file_state,
    run_cli,
    run_cli_process,
    write_all_creds,
    write_creds,
)

STATS_FIELDS = {"providers_examined": int, "providers_skipped_existing": int, "providers_skipped_no_ambient": int,
                "providers_seeded": int, "providers_repointed": int, "instances_backfilled": int,
                "default_bundle_created": bool}


def legacy_store(home: Path, shape: StoreShape = StoreShape.WITH_MIGRATIONS) -> Path:
    return build_store(channel_store_path(home / ".agentmux", "0.33.4"), shape, LEGACY_SPEC)


def only_json(text: str) -> Any:
    """The whole of stdout must be exactly one JSON document."""
    decoder = json.JSONDecoder()
    document, end = decoder.raw_decode(text.lstrip())
    assert text.lstrip()[end:].strip() == "", "something besides the JSON document on stdout"
    return document


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.mark.parametrize("command", ["stores", "scan", "plan", "doctor"])
def test_every_json_command_prints_one_document(private_home: Path, command: str) -> None:
    write_all_creds(private_home)
    write_creds(private_home, "gemini", '{"api_key": "' + PLANTED_TOKENS[4] + '"}')
    legacy_store(private_home)
    result = run_cli(command, "--json", "--home", private_home, "--now-ms", NOW_MS)
    assert result.code == 0, result.err
    document = only_json(result.out)
    assert isinstance(document, dict)


def test_plan_json_shape(private_home: Path) -> None:
    write_all_creds(private_home, ["claude", "codex"])
    store = legacy_store(private_home)
    result = run_cli("plan", "--json", "--home", private_home, "--now-ms", NOW_MS)
    assert result.code == 0
    document = only_json(result.out)
    [entry] = document["stores"]
    assert entry["path"] == str(store)
    assert entry["era"] == "bundle"
    assert entry["bundle"] == "create"
    assert is_int(entry["instances_to_backfill"])
    assert entry["instances_to_backfill"] == 3
    assert isinstance(entry["agentmux_running"], bool)
    assert entry["refused"] is None
    assert [p["provider"] for p in entry["providers"]] == ["claude", "codex", "openclaw"]
    for line in entry["providers"]:
        assert {"provider", "action", "reason", "status", "credentials_path", "fingerprint"} <= set(line)
        assert line["action"] in {"bind", "skip_existing", "skip_no_ambient", "blocked"}
        assert isinstance(line["reason"], str)
        assert line["reason"]
    claude, codex, openclaw = entry["providers"]
    assert (claude["action"], claude["status"]) == ("bind", "valid")
    assert claude["credentials_path"] == str(private_home / ".claude" / ".credentials.json")
    assert claude["fingerprint"].startswith("sha256:")
    assert (openclaw["action"], openclaw["status"], openclaw["fingerprint"]) == ("skip_no_ambient", None, None)
    assert codex["action"] == "bind"


def test_plan_is_reproducible_with_now_ms(private_home: Path) -> None:
    write_all_creds(private_home)
    legacy_store(private_home)
    first = run_cli("plan", "--json", "--home", private_home, "--now-ms", NOW_MS)
    second = run_cli("plan", "--json", "--home", private_home, "--now-ms", NOW_MS)
    assert first.out == second.out
    assert json.loads(first.out)["now_ms"] == NOW_MS
    later = run_cli("plan", "--json", "--home", private_home, "--now-ms", NOW_MS + 10 * 3_600_000)
    statuses = [p["status"] for p in json.loads(later.out)["stores"][0]["providers"]]
    assert statuses == ["expired", "expired", "expired"]  # the clock decides the status


def test_migrate_json_shape_and_backup(private_home: Path) -> None:
    write_all_creds(private_home)
    store = legacy_store(private_home)
    result = run_cli("migrate", "--yes", "--json", "--home", private_home, "--now-ms", NOW_MS)
    assert result.code == 0, result.err
    document = only_json(result.out)
    [entry] = document["stores"]
    assert entry["path"] == str(store)
    assert entry["era"] == "bundle"
    assert set(entry["stats"]) == set(STATS_FIELDS)
    for name, kind in STATS_FIELDS.items():
        value = entry["stats"][name]
        assert (isinstance(value, bool) if kind is bool else is_int(value)), name
    assert entry["stats"]["instances_backfilled"] == 3
    assert entry["stats"]["default_bundle_created"] is True
    assert entry["warnings"] == []
    backup = Path(entry["backup"])
    assert backup.is_file()
    assert backup.is_relative_to(AppPaths.resolve(private_home).backups_dir)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
    # ...and the companion's data dir, which holds the backups and the ledger, is private too.
    assert stat.S_IMODE(AppPaths.resolve(private_home).data_dir.stat().st_mode) == 0o700
    # The backup is the store as it was before the run.
    assert dump_store(backup)["tables"]["db_agent_instances"] == sorted(
        dump_store(backup)["tables"]["db_agent_instances"])
    assert ("",) in {(r[7],) for r in dump_store(backup)["tables"]["db_agent_instances"]}

    again = run_cli("migrate", "--yes", "--json", "--home", private_home, "--now-ms", NOW_MS)
    assert again.code == 0
    [entry] = only_json(again.out)["stores"]
    assert entry["outcome"] == "nothing_to_do"
    assert entry["backup"] is None
    assert entry["stats"]["providers_skipped_existing"] == 3


def test_migrate_without_yes_and_without_a_terminal_refuses(private_home: Path) -> None:
    write_all_creds(private_home)
    store = legacy_store(private_home)
    before = file_state(store)
    result = run_cli_process("migrate", "--home", private_home, "--now-ms", NOW_MS)
    assert result.code == 2
    assert "--yes" in result.err
    assert "Traceback" not in result.err
    assert file_state(store) == before
    # undo likewise (after a real migration, so there is something to undo).
    assert run_cli("migrate", "--yes", "--home", private_home).code == 0
    migrated = dump_store(store)
    result = run_cli_process("undo", "--home", private_home)
    assert result.code == 2
    assert "--yes" in result.err
    assert dump_store(store) == migrated


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["plan", "--no-such-option"], ["plan", "--now-ms", "soon"], ["migrate", "--store"]],
)
def test_usage_errors_exit_2_without_traceback(argv: list[str]) -> None:
    result = run_cli(*argv)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert result.out == ""


def test_exit_codes_for_refused_busy_and_warnings_are_distinct(private_home: Path, tmp_path: Path) -> None:
    write_all_creds(private_home)
    refused = build_store(tmp_path / "pre" / "objects.db", StoreShape.POST_BUNDLE)
    assert run_cli("migrate", "--yes", "--store", refused, "--home", private_home).code == 3
    taken = build_store(tmp_path / "taken" / "objects.db", StoreShape.FLAT,
                        StoreSpec(bundles=[("mine", "Default")]))
    result = run_cli("migrate", "--yes", "--json", "--store", taken, "--home", private_home)
    assert result.code == 3
    assert "Default" in result.err
    assert only_json(result.out)["stores"][0]["outcome"] == "refused"
    write_creds(private_home, "openclaw", "[1, 2")
    odd = build_store(tmp_path / "odd" / "objects.db", StoreShape.FLAT)
    assert run_cli("migrate", "--yes", "--store", odd, "--home", private_home).code == 5


def test_two_stores_one_refused_the_other_migrated(private_home: Path, tmp_path: Path) -> None:
    write_all_creds(private_home)
    good = build_store(tmp_path / "good" / "objects.db", StoreShape.FLAT, LEGACY_SPEC)
    bad = build_store(tmp_path / "bad" / "objects.db", StoreShape.PRE_BUNDLE)
    result = run_cli("migrate", "--yes", "--json", "--store", good, "--store", bad, "--home", private_home)
    assert result.code == 3
    outcomes = {e["path"]: e["outcome"] for e in only_json(result.out)["stores"]}
    assert outcomes == {str(good): "migrated", str(bad): "refused"}


def test_demo_runs_the_whole_flow(private_home: Path, tmp_path: Path) -> None:
    result = run_cli("demo", "--now-ms", NOW_MS)
    assert result.code == 0, result.err
    assert "After undo the plan is the same as before the migration." in result.out
    assert "DEMO-not-a-real-token" not in result.out + result.err

    kept = tmp_path / "demo"
    result = run_cli("demo", "--json", "--now-ms", NOW_MS, "--dir", kept)
    assert result.code == 0, result.err
    document = only_json(result.out)
    assert document["undo_restored_plan"] is True
    assert document["kept"] is True
    assert [s["step"] for s in document["steps"]] == ["plan", "migrate", "migrate_again", "undo"]
    [migrated] = document["steps"][1]["stores"]
    assert migrated["outcome"] == "migrated"
    assert migrated["stats"]["providers_seeded"] == 2
    assert all(e["outcome"] == "nothing_to_do" for e in document["steps"][2]["stores"])
    assert (kept / "home").is_dir()
    # The demo never touches the user's own folders.
    assert not (private_home / ".agentmux").exists()
    assert not AppPaths.resolve(private_home).ledger_path.exists()
    # An existing, non-empty --dir is refused.
    assert run_cli("demo", "--dir", kept).code == 2
