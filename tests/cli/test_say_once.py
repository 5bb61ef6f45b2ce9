"""Say it once (issue 13).

A refusal appears once and instead of a provider table; notes only when relevant; ``-q`` prints
only errors; a declined prompt writes nothing and exits 6; progress on a terminal only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentmux_companion.core.errors import ExitCode
from agentmux_companion.core.sandbox import StoreShape
from tests.cli.terminal import demo_sandbox, run_with_tty
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    build_store,
    channel_store_path,
    claude_creds,
    file_state,
    generic_creds,
    run_cli,
    write_all_creds,
    write_creds,
)

CODEX_NOTE = "Codex keeps its own login in ~/.codex/auth.json"


def test_a_missing_store_is_refused_once_without_a_provider_table(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    missing = tmp_path / "nonexistent"
    result = run_cli("plan", "--home", private_home, "--store", missing)
    assert result.code == ExitCode.REFUSED
    both = result.out + result.err
    assert both.count(f"no store at {missing}") == 1
    assert "PROVIDER" not in result.out
    assert "claude" not in result.out


@pytest.mark.parametrize("command", [["plan"], ["migrate", "--yes"]])
def test_a_refused_store_says_why_once(tmp_path: Path, private_home: Path, command: list[str]) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "old" / "objects.db", StoreShape.PRE_BUNDLE)
    result = run_cli(*command, "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == ExitCode.REFUSED
    refusal = json.loads(run_cli("plan", "--json", "--home", private_home, "--store", store).out)[
        "stores"][0]["refused"]
    assert refusal
    assert (result.out + result.err).count(refusal) == 1
    assert "PROVIDER" not in result.out


def test_the_refusal_reaches_stderr_once_with_json(tmp_path: Path, private_home: Path) -> None:
    missing = tmp_path / "nonexistent"
    result = run_cli("plan", "--json", "--home", private_home, "--store", missing)
    assert result.code == ExitCode.REFUSED
    assert json.loads(result.out)["stores"][0]["refused"] == f"no store at {missing}"
    assert result.err.count(f"no store at {missing}") == 1


def test_the_codex_note_only_with_a_codex_login(private_home: Path) -> None:
    store = build_store(channel_store_path(private_home / ".agentmux", "0.33.4"), StoreShape.WITH_MIGRATIONS,
                        LEGACY_SPEC)
    write_creds(private_home, "claude", claude_creds())
    without = run_cli("plan", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert without.code == ExitCode.OK
    assert CODEX_NOTE not in without.out
    write_creds(private_home, "codex", generic_creds())
    with_codex = run_cli("plan", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert with_codex.out.count(CODEX_NOTE) == 1


def test_quiet_prints_only_errors(tmp_path: Path) -> None:
    sandbox = demo_sandbox(tmp_path / "demo")
    for argv in (["plan"], ["scan"], ["stores"], ["migrate", "--yes"], ["undo", "--yes"]):
        result = run_cli(*argv, "-q", "--home", sandbox.home, "--now-ms", NOW_MS)
        assert (result.code, result.out, result.err) == (0, "", ""), argv
    document = run_cli("-q", "plan", "--json", "--home", sandbox.home, "--now-ms", NOW_MS)
    assert document.code == 0
    assert json.loads(document.out)["stores"]
    assert document.err == ""
    refused = run_cli("-q", "plan", "--home", sandbox.home, "--store", tmp_path / "nowhere")
    assert refused.code == ExitCode.REFUSED
    assert refused.out == ""
    assert refused.err.count("no store at") == 1


def test_declining_the_prompt_writes_nothing_and_exits_6(tmp_path: Path, private_home: Path) -> None:
    sandbox = demo_sandbox(tmp_path / "demo")
    before = file_state(sandbox.store)
    companion = Path(private_home / ".local" / "share")
    backups_before = sorted(companion.rglob("*.db*")) if companion.exists() else []
    result = run_with_tty("migrate", "--home", sandbox.home, "--store", sandbox.store, tty="stdin", answer="n\n")
    assert result.code == ExitCode.DECLINED, result.err
    assert "Migrate 1 store(s)? [y/N]" in result.err
    assert "declined; nothing was written" in result.err
    assert file_state(sandbox.store) == before
    assert (sorted(companion.rglob("*.db*")) if companion.exists() else []) == backups_before


def test_progress_shows_on_a_terminal_stderr(tmp_path: Path) -> None:
    sandbox = demo_sandbox(tmp_path / "demo")
    result = run_with_tty("migrate", "--yes", "--home", sandbox.home, "--store", sandbox.store, tty="stderr")
    assert result.code == ExitCode.OK, result.err
    assert "\r\x1b[KBacking up" in result.err
    assert "\r\x1b[KVerifying" in result.err
    assert "Backing up" not in result.out


def test_no_progress_with_json_even_on_a_terminal(tmp_path: Path) -> None:
    sandbox = demo_sandbox(tmp_path / "demo")
    result = run_with_tty("migrate", "--yes", "--json", "--home", sandbox.home, "--store", sandbox.store,
                          tty="stderr")
    assert result.code == ExitCode.OK, result.err
    assert "Backing up" not in result.err + result.out
    assert "\r" not in result.err
    assert json.loads(result.out)["stores"][0]["outcome"] == "migrated"


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    sandbox = demo_sandbox(tmp_path / "demo")
    result = run_cli("migrate", "--yes", "--home", sandbox.home, "--store", sandbox.store)
    assert result.code == ExitCode.OK
    assert "Backing up" not in result.err + result.out


def test_verbose_prints_the_log_on_stderr(private_home: Path) -> None:
    result = run_cli("-v", "stores", "--home", private_home)
    assert result.code == ExitCode.OK
    assert "INFO agentmux_companion.cli: command stores" in result.err
    assert "command stores" not in run_cli("stores", "--home", private_home).err
