"""The keyring snapshot against a real Secret Service (gnome-keyring in a private D-Bus session)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import keyring
import pytest

from agentmux_companion.core import sandbox as sb
from agentmux_companion.core.keyring.accounts import bound_oauth_accounts
from agentmux_companion.core.keyring.backend import SERVICE, KeyringAdapter
from agentmux_companion.core.keyring.copy import Outcome, copy_bound_accounts
from agentmux_companion.core.keyring.failures import KeyringLockedError, KeyringTimeout, NoSessionBus
from agentmux_companion.core.keyring.ledger import all_copies
from agentmux_companion.core.keyring.removal import Removal, remove_copies
from agentmux_companion.core.keyring.status import Freshness, InKeyring, snapshot_status
from tests.helpers import schema
from tests.helpers.schema import Era, create_store
from tests.helpers.secret_service import SecretService
from tests.keyring.conftest import NOW_MS, Scenario, migrated_scenario, planted

pytestmark = pytest.mark.keyring_real


def stored(account_id: str) -> str | None:
    return keyring.get_password(SERVICE, f"acct:{account_id}")


def assert_no_token_in(path: Path, tokens: list[str]) -> None:
    data = path.read_bytes()
    for token in tokens:
        assert token.encode() not in data, f"a planted token is in {path}"


@pytest.mark.usefixtures("real_keyring")
def test_copy_stores_the_exact_text_reads_it_back_and_records_no_secret(
    scenario: Scenario
) -> None:
    report = copy_bound_accounts(scenario.paths, [scenario.store], at_ms=NOW_MS)

    assert report.backend is not None
    assert report.backend.class_path == "keyring.backends.SecretService.Keyring"
    assert [(c.account.provider, c.outcome) for c in report.copies] == [
        ("claude", Outcome.COPIED), ("codex", Outcome.COPIED)]
    for provider in ("claude", "codex"):
        assert stored(scenario.account_id(provider)) == scenario.credentials(provider).read_text(encoding="utf-8")
    records = all_copies(scenario.ledger)
    assert {(r.provider, r.account, r.state, r.copied_at_ms, r.chunks) for r in records} == {
        ("claude", f"acct:{scenario.account_id('claude')}", "copied", NOW_MS, 0),
        ("codex", f"acct:{scenario.account_id('codex')}", "copied", NOW_MS, 0),
    }
    assert all(r.store_path == str(scenario.store) and r.fingerprint.startswith("sha256:") for r in records)
    assert stat.S_IMODE(os.stat(scenario.ledger).st_mode) == 0o600
    assert_no_token_in(scenario.ledger, scenario.tokens)


@pytest.mark.usefixtures("real_keyring")
def test_the_binding_keeps_pointing_at_the_cli_folder(scenario: Scenario) -> None:
    with closing(sqlite3.connect(scenario.store)) as conn:
        before = conn.execute("SELECT id, secret_ref FROM db_identity_accounts ORDER BY id").fetchall()
    copy_bound_accounts(scenario.paths, [scenario.store], at_ms=NOW_MS)
    with closing(sqlite3.connect(scenario.store)) as conn:
        after = conn.execute("SELECT id, secret_ref FROM db_identity_accounts ORDER BY id").fetchall()
    assert after == before
    assert all(json.loads(ref)["backend"] == "o_auth_config_dir" for _, ref in after)


@pytest.mark.usefixtures("real_keyring")
def test_status_is_current_then_stale_after_the_cli_refreshes(scenario: Scenario) -> None:
    copy_bound_accounts(scenario.paths, [scenario.store], at_ms=NOW_MS)
    fresh = snapshot_status(scenario.paths)
    assert fresh.keyring_error is None
    assert {(c.record.provider, c.freshness, c.in_keyring) for c in fresh.copies} == {
        ("claude", Freshness.CURRENT, InKeyring.PRESENT), ("codex", Freshness.CURRENT, InKeyring.PRESENT)}

    scenario.refresh("claude")
    stale = {c.record.provider: c for c in snapshot_status(scenario.paths).copies}
    assert stale["claude"].freshness is Freshness.STALE
    assert "refreshed" in stale["claude"].message
    assert stale["claude"].current_fingerprint != stale["claude"].record.fingerprint
    assert stale["claude"].in_keyring is InKeyring.PRESENT  # the old snapshot is still there
    assert stale["codex"].freshness is Freshness.CURRENT

    # Copying again takes a new snapshot of the refreshed file; the unchanged one is left as it is.
    again = {c.account.provider: c.outcome for c in copy_bound_accounts(scenario.paths, [scenario.store]).copies}
    assert again == {"claude": Outcome.COPIED, "codex": Outcome.UNCHANGED}
    assert stored(scenario.account_id("claude")) == scenario.credentials("claude").read_text(encoding="utf-8")
    assert {c.freshness for c in snapshot_status(scenario.paths).copies} == {Freshness.CURRENT}


@pytest.mark.usefixtures("real_keyring")
def test_status_without_keyring_access_still_reports_from_the_ledger(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_bound_accounts(scenario.paths, [scenario.store], at_ms=NOW_MS)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={scenario.home / 'no-bus'}")
    status = snapshot_status(scenario.paths)
    assert status.keyring_error is not None
    assert "D-Bus" in status.keyring_error
    assert {c.in_keyring for c in status.copies} == {InKeyring.NOT_CHECKED}
    assert {c.freshness for c in status.copies} == {Freshness.CURRENT}


@pytest.mark.usefixtures("real_keyring")
def test_remove_deletes_exactly_what_was_added(scenario: Scenario) -> None:
    neighbour = f"acct:{planted('Neighbour')}"
    keyring.set_password(SERVICE, neighbour, "AgentMux's own secret")
    keyring.set_password("some-other-app", f"acct:{scenario.account_id('claude')}", "not ours either")
    copy_bound_accounts(scenario.paths, [scenario.store], at_ms=NOW_MS)

    report = remove_copies(scenario.paths)

    assert {(c.record.provider, c.outcome, c.entries_deleted) for c in report.copies} == {
        ("claude", Removal.REMOVED, 1), ("codex", Removal.REMOVED, 1)}
    assert stored(scenario.account_id("claude")) is None
    assert stored(scenario.account_id("codex")) is None
    assert keyring.get_password(SERVICE, neighbour) == "AgentMux's own secret"
    assert keyring.get_password("some-other-app", f"acct:{scenario.account_id('claude')}") == "not ours either"
    assert all_copies(scenario.ledger) == []
    assert remove_copies(scenario.paths).copies == ()  # nothing left to remove


@pytest.mark.usefixtures("real_keyring")
def test_a_value_someone_else_wrote_is_never_overwritten_or_deleted(
    scenario: Scenario
) -> None:
    claude = f"acct:{scenario.account_id('claude')}"
    keyring.set_password(SERVICE, claude, "written by AgentMux itself")

    report = {c.account.provider: c for c in copy_bound_accounts(scenario.paths, [scenario.store]).copies}

    assert report["claude"].outcome is Outcome.CONFLICT
    assert "did not write" in report["claude"].message
    assert report["codex"].outcome is Outcome.COPIED
    assert keyring.get_password(SERVICE, claude) == "written by AgentMux itself"
    assert [r.provider for r in all_copies(scenario.ledger)] == ["codex"]

    # The same after a copy: a value changed since is left in place by remove, and said so.
    codex = f"acct:{scenario.account_id('codex')}"
    keyring.set_password(SERVICE, codex, "replaced by someone else")
    [removed] = remove_copies(scenario.paths).copies
    assert removed.outcome is Removal.LEFT_CHANGED
    assert "left in place" in removed.message
    assert keyring.get_password(SERVICE, codex) == "replaced by someone else"
    [status] = snapshot_status(scenario.paths).copies
    assert status.in_keyring is InKeyring.CHANGED


@pytest.mark.usefixtures("real_keyring")
def test_a_ten_kilobyte_secret_round_trips_exactly(tmp_path: Path) -> None:
    token = planted("Large")
    text = json.dumps({"claudeAiOauth": {"accessToken": token, "refreshToken": planted("R"),
                                         "expiresAt": NOW_MS + 3_600_000, "padding": "é€𝄞" * 700 + "x" * 5000}},
                      ensure_ascii=False, indent=2)
    assert len(text.encode("utf-8")) > 10_000
    scenario = migrated_scenario(tmp_path, claude_text=text)

    report = {c.account.provider: c for c in copy_bound_accounts(scenario.paths, [scenario.store]).copies}

    assert report["claude"].outcome is Outcome.COPIED
    assert report["claude"].chunks == 0
    assert stored(scenario.account_id("claude")) == text
    assert_no_token_in(scenario.ledger, [token])


@pytest.mark.usefixtures("real_keyring")
def test_accounts_bound_with_the_legacy_spelling_are_copied(tmp_path: Path) -> None:
    home = tmp_path / "home"
    text = sb.claude_credentials(planted("A"), planted("R"), NOW_MS + 3_600_000)
    sb.write_credentials(home, "claude", text)
    store = create_store(tmp_path / "objects.db", Era.ACCOUNTS_RENAMED)
    with closing(sqlite3.connect(store)) as conn:
        schema.add_bundle(conn, "default", "Default")
        schema.add_bundle(conn, "b-work", "Work")
        schema.add_account(conn, "acc-claude", "claude", json.dumps(
            {"backend": "o_auth_config_dir", "dir": str(home / ".claude")}, separators=(",", ":")))
        schema.add_account(conn, "acc-gemini", "gemini", '{"backend":"env","env_var":"GEMINI_API_KEY"}', kind="api_key")
        schema.bind(conn, "default", "claude", "acc-claude")
        schema.bind(conn, "b-work", "claude", "acc-claude")
        schema.bind(conn, "b-work", "gemini", "acc-gemini")
        conn.commit()
    from agentmux_companion.core.paths import AppPaths

    paths = AppPaths.resolve(home, None, {"HOME": str(home), "AGENTMUX_COMPANION_DIR": str(tmp_path / "c")})

    [account] = bound_oauth_accounts([store]).accounts
    assert (account.account_id, account.bundles) == ("acc-claude", ("Default", "Work"))
    [copied] = copy_bound_accounts(paths, [store]).copies
    assert copied.outcome is Outcome.COPIED
    assert keyring.get_password(SERVICE, "acct:acc-claude") == text
    remove_copies(paths)


def test_a_locked_keyring_is_a_clear_error_and_nothing_is_recorded(
    private_secret_service: SecretService, scenario: Scenario
) -> None:
    private_secret_service.lock_collections()
    with pytest.raises(KeyringLockedError) as caught:
        copy_bound_accounts(scenario.paths, [scenario.store], timeout_s=5)
    assert "locked" in caught.value.message
    assert caught.value.exit_code == 3
    assert all_copies(scenario.ledger) == []


def test_a_keyring_never_unlocked_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import SecretService as SecretServiceBackend

    from tests.helpers.secret_service import start_secret_service
    from tests.keyring.conftest import using_keyring

    service = start_secret_service(tmp_path / "never-unlocked", unlock=False)
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
        scenario = migrated_scenario(tmp_path / "s")
        with using_keyring(SecretServiceBackend.Keyring()), pytest.raises(KeyringLockedError) as caught:
            copy_bound_accounts(scenario.paths, [scenario.store], timeout_s=5)
        assert "prompt" in caught.value.message
        assert all_copies(scenario.ledger) == []
    finally:
        service.stop()


def test_a_keyring_that_never_answers_times_out_and_nothing_is_recorded(
    private_secret_service: SecretService, scenario: Scenario
) -> None:
    adapter = KeyringAdapter.open(timeout_s=0.5)
    with private_secret_service.frozen():
        with pytest.raises(KeyringTimeout) as caught:
            copy_bound_accounts(scenario.paths, [scenario.store], adapter=adapter)
        assert "did not answer within 0.5 s" in caught.value.message
        # The adapter knows its backend is stuck: it refuses at once instead of queueing calls.
        with pytest.raises(KeyringTimeout):
            adapter.get(SERVICE, "acct:anything")
    assert all_copies(scenario.ledger) == []


@pytest.mark.usefixtures("real_keyring")
def test_no_session_bus_is_a_clear_error_and_nothing_is_recorded(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={scenario.home / 'nothing-here'}")
    with pytest.raises(NoSessionBus) as caught:
        copy_bound_accounts(scenario.paths, [scenario.store], timeout_s=5)
    assert "D-Bus session bus" in caught.value.message
    assert caught.value.exit_code == 3
    assert all_copies(scenario.ledger) == []
    assert not scenario.ledger.exists()
