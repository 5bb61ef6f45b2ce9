"""Planted tokens never leave their credentials files.

Not on stdout or stderr, not in the log, the ledger, the backups or any other file the companion
writes, for every command, including the error paths (a broken credentials file holding a token,
a refused store, a usage error).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    PLANTED_TOKENS,
    build_store,
    channel_store_path,
    claude_creds,
    run_cli,
    run_cli_process,
    write_creds,
)

#: Token-shaped strings in files that are *not* valid credentials: error paths must not echo them.
BROKEN_TOKEN = "sk-ant-oat01-PLANTED-in-broken-json-44aa"
NON_OAUTH_TOKEN = "PLANTED-gemini-api-key-91bc"
ALL_SECRETS = (*PLANTED_TOKENS, BROKEN_TOKEN, NON_OAUTH_TOKEN)


def plant(home: Path, tmp_path: Path) -> None:
    write_creds(home, "claude", claude_creds())
    # codex: a symlink to a file elsewhere holding tokens
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"access_token": PLANTED_TOKENS[2], "refresh_token": PLANTED_TOKENS[3],
                                  "expires_at": NOW_MS - 1}), encoding="utf-8")
    (home / ".codex").mkdir()
    (home / ".codex" / ".credentials.json").symlink_to(target)
    # openclaw: invalid JSON around a token-like string
    write_creds(home, "openclaw", '{"access_token": "' + BROKEN_TOKEN + '", "refresh_token": "' + PLANTED_TOKENS[4])
    write_creds(home, "gemini", json.dumps({"api_key": NON_OAUTH_TOKEN}))


def files_written(paths: AppPaths) -> list[Path]:
    found = []
    for folder in {paths.config_dir, paths.data_dir, paths.log_dir}:
        if folder.exists():
            found += [p for p in folder.rglob("*") if p.is_file()]
    return found


def assert_no_secret(text: str | bytes, where: str) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    for secret in ALL_SECRETS:
        assert secret.encode() not in data, f"{secret} leaked into {where}"


def test_no_command_leaks_a_token(private_home: Path, tmp_path: Path) -> None:
    plant(private_home, tmp_path)
    store = build_store(channel_store_path(private_home / ".agentmux", "0.33.4"), StoreShape.WITH_MIGRATIONS,
                        LEGACY_SPEC)
    refused = build_store(tmp_path / "post" / "objects.db", StoreShape.POST_BUNDLE)
    home = ("--home", private_home)
    runs = {
        "stores": run_cli("stores", *home),
        "stores --json": run_cli("stores", "--json", *home),
        "scan": run_cli("scan", *home),
        "scan --json": run_cli("scan", "--json", *home),
        "plan": run_cli("plan", *home),
        "plan --json": run_cli("plan", "--json", *home),
        "doctor": run_cli("doctor", *home),
        "doctor --json": run_cli("doctor", "--json", *home),
        "migrate refused": run_cli("migrate", "--yes", "--store", refused, *home),
        "migrate --json": run_cli("migrate", "--yes", "--json", *home),
        "migrate again": run_cli("migrate", "--yes", *home),
        "undo --json": run_cli("undo", "--yes", "--json", *home),
        "migrate (after undo)": run_cli("migrate", "--yes", *home),
        "undo": run_cli("undo", "--yes", *home),
        "undo nothing": run_cli("undo", "--yes", *home),
        "undo --from-backup": run_cli("undo", "--yes", "--from-backup", "--store", store, *home),
        "usage error": run_cli("plan", "--bogus", *home),
        "demo": run_cli("demo", "--now-ms", NOW_MS),
        "demo --json": run_cli("demo", "--json"),
        "migrate without --yes (process)": run_cli_process("migrate", *home),
        "scan --json (process)": run_cli_process("scan", "--json", *home),
    }
    assert runs["migrate --json"].code == 5  # the broken openclaw file: done with warnings
    assert runs["migrate refused"].code == 3
    assert runs["usage error"].code == 2
    for name, result in runs.items():
        assert "Traceback" not in result.err, name
        assert_no_secret(result.out, f"stdout of {name}")
        assert_no_secret(result.err, f"stderr of {name}")
        if "--json" in name and result.out:
            json.loads(result.out)
    # The demo's own fake tokens are not printed either.
    for name in ("demo", "demo --json"):
        assert "DEMO-not-a-real-token" not in runs[name].out + runs[name].err

    paths = AppPaths.resolve(private_home)
    written = files_written(paths)
    assert paths.log_file in written
    assert paths.ledger_path in written
    assert any(p.is_relative_to(paths.backups_dir) for p in written)
    for path in written:
        assert_no_secret(path.read_bytes(), str(path))
    assert_no_secret(store.read_bytes(), "the store")
    # The credentials files themselves are untouched (only ever read).
    assert PLANTED_TOKENS[0] in (private_home / ".claude" / ".credentials.json").read_text(encoding="utf-8")
    assert os.path.islink(private_home / ".codex" / ".credentials.json")
