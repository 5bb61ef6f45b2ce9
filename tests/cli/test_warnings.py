"""Exit 5 ("done with warnings") is about the providers the run binds, not every odd file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.stores import StoreSpec, build_store, channel_store_path, claude_creds, run_cli, write_creds


def test_odd_file_of_an_already_bound_provider_is_not_a_warning(private_home: Path) -> None:
    store = build_store(
        channel_store_path(private_home / ".agentmux", "1.0.0"), StoreShape.WITH_MIGRATIONS,
        StoreSpec(bundles=[("b-work", "Work")], accounts=[("acc-codex", "codex", "oauth")],
                  bindings=[("b-work", "codex", "acc-codex")]),
    )
    write_creds(private_home, "claude", claude_creds())
    (private_home / ".codex" / ".credentials.json").mkdir(parents=True)  # odd, but codex is bound

    result = run_cli("migrate", "--yes", "--json", "--store", store, "--home", private_home)
    assert result.code == 0, result.err
    assert result.json()["stores"][0]["warnings"] == []


@pytest.mark.linux_only
@pytest.mark.parametrize(("shape", "seeded"), [(StoreShape.WITH_AGENTS, 1), (StoreShape.WITH_MIGRATIONS, 0)])
def test_odd_file_of_a_provider_being_bound_is_a_warning(private_home: Path, shape: StoreShape, seeded: int) -> None:
    """A FIFO where the login should be: a warning and exit 5, and nothing blocks.

    Bound as needs_reauth under pointer semantics (AgentMux only tests existence), skipped under
    copy-once semantics (it cannot be copied; §7b), though the Default bundle is still made.
    """
    store = build_store(channel_store_path(private_home / ".agentmux", "1.0.0"), shape)
    fifo = private_home / ".claude" / ".credentials.json"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)

    result = run_cli("migrate", "--yes", "--json", "--store", store, "--home", private_home)
    assert result.code == 5, result.err
    [entry] = result.json()["stores"]
    assert entry["stats"]["providers_seeded"] == seeded
    assert entry["stats"]["default_bundle_created"] is True
    assert any("claude" in w and "fifo" in w.lower() for w in entry["warnings"]), entry["warnings"]
    assert not (private_home / ".agentmux" / "shared" / "providers" / "claude" / ".credentials.json").exists()
