"""``core.keyring_view``: one row per login for every front end, against a real Secret Service.

The GUI used to fingerprint files and merge the ledger itself; these rows are what the keyring
panel now shows and what ``keyring status`` can print, so both see the same states.
"""

from __future__ import annotations

import pytest

from agentmux_companion.core.keyring.copy import copy_bound_accounts
from agentmux_companion.core.keyring.view import CopyState, keyring_view
from agentmux_companion.core.providers import load_registry
from tests.keyring.conftest import NOW_MS, Scenario


def states(scenario: Scenario, *, check_keyring: bool = True) -> dict[str, CopyState]:
    view = keyring_view(scenario.paths, load_registry(), [scenario.store], check_keyring=check_keyring)
    return {row.provider: row.state for row in view.rows}


@pytest.mark.usefixtures("real_keyring")
def test_rows_follow_the_copy_from_not_copied_to_current_to_stale(
    scenario: Scenario
) -> None:
    view = keyring_view(scenario.paths, load_registry(), [scenario.store])
    assert [(r.provider, r.state, r.bound) for r in view.rows] == [
        ("Claude Code", CopyState.NOT_COPIED, True), ("Codex", CopyState.NOT_COPIED, True)]
    assert all(r.fingerprint.startswith("sha256:") and r.copied_at_ms is None for r in view.rows)
    assert view.rows[0].keyring_entry == f"agentmux/acct:{scenario.account_id('claude')}"

    copy_bound_accounts(scenario.paths, [scenario.store], at_ms=NOW_MS)
    assert states(scenario) == {"Claude Code": CopyState.CURRENT, "Codex": CopyState.CURRENT}
    scenario.refresh("claude")
    assert states(scenario) == {"Claude Code": CopyState.STALE, "Codex": CopyState.CURRENT}
    # The rows never carry a token.
    text = repr(keyring_view(scenario.paths, load_registry(), [scenario.store]).rows)
    assert not any(token in text for token in scenario.tokens)


@pytest.mark.usefixtures("real_keyring")
def test_without_the_keyring_the_rows_come_from_the_ledger_and_say_why(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_bound_accounts(scenario.paths, [scenario.store], at_ms=NOW_MS)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={scenario.home / 'no-bus'}")
    view = keyring_view(scenario.paths, load_registry(), [scenario.store])
    assert view.keyring_error is not None
    assert "D-Bus" in view.keyring_error
    assert {r.state for r in view.rows} == {CopyState.CURRENT}
    assert view.recorded_count == 2
