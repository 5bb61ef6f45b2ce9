"""``keyring copy|status|remove`` and ``doctor`` end to end.

The real CLI in child processes, talking to the private gnome-keyring through the bus address in
their environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentmux_companion.core.keyring.ledger import all_copies
from tests.helpers.secret_service import SecretService
from tests.helpers.stores import CliRun, run_cli_process
from tests.keyring.conftest import NOW_MS, Scenario

pytestmark = pytest.mark.keyring_real


def run(scenario: Scenario, service: SecretService | None, *argv: Any, env: dict[str, str] | None = None) -> CliRun:
    result = run_cli_process(*argv, "--home", scenario.home, env=env or scenario.cli_env(service))
    assert "Traceback" not in result.err, result.err
    return result


def assert_no_token(scenario: Scenario, *texts: str) -> None:
    for text in texts:
        for token in scenario.tokens:
            assert token not in text


def test_copy_status_stale_and_remove_end_to_end(secret_service: SecretService, scenario: Scenario) -> None:
    copied = run(scenario, secret_service, "keyring", "copy", "--json", "--now-ms", NOW_MS)
    assert copied.code == 0, copied.err
    document = json.loads(copied.out)
    assert document["backend"]["class"] == "keyring.backends.SecretService.Keyring"
    assert document["backend"]["secure"]
    assert [(c["provider"], c["outcome"], c["account"]) for c in document["copies"]] == [
        ("claude", "copied", f"acct:{scenario.account_id('claude')}"),
        ("codex", "copied", f"acct:{scenario.account_id('codex')}")]

    human = run(scenario, secret_service, "keyring", "status")
    assert human.code == 0
    assert "current" in human.out
    assert "present" in human.out
    scenario.refresh("claude")
    status = run(scenario, secret_service, "keyring", "status", "--json")
    by_provider = {c["provider"]: c for c in json.loads(status.out)["copies"]}
    assert (by_provider["claude"]["freshness"], by_provider["claude"]["in_keyring"]) == ("stale", "present")
    assert "refreshed its login" in by_provider["claude"]["message"]
    assert by_provider["codex"]["freshness"] == "current"
    assert by_provider["claude"]["copied_at_ms"] == NOW_MS

    refused = run(scenario, secret_service, "keyring", "remove")
    assert refused.code == 2
    assert "--yes" in refused.err
    assert len(all_copies(scenario.ledger)) == 2
    removed = run(scenario, secret_service, "keyring", "remove", "--yes", "--json")
    assert removed.code == 0, removed.err
    assert {c["outcome"] for c in json.loads(removed.out)["copies"]} == {"removed"}
    assert all_copies(scenario.ledger) == []
    after = run(scenario, secret_service, "keyring", "status", "--json")
    assert json.loads(after.out)["copies"] == []

    assert_no_token(scenario, copied.out, copied.err, human.out, status.out, removed.out, after.out)
    for written in (scenario.ledger, scenario.paths.log_file):
        data = written.read_bytes()
        assert all(token.encode() not in data for token in scenario.tokens), written


def test_human_copy_output_says_it_is_a_snapshot(secret_service: SecretService, scenario: Scenario) -> None:
    result = run(scenario, secret_service, "keyring", "copy")
    assert result.code == 0, result.err
    assert "snapshot" in result.out
    assert "agentmux/acct:" in result.out
    assert_no_token(scenario, result.out, result.err)
    run(scenario, secret_service, "keyring", "remove", "--yes")


def test_doctor_shows_the_backend_and_a_passing_probe(secret_service: SecretService, scenario: Scenario) -> None:
    result = run(scenario, secret_service, "doctor", "--json")
    assert result.code == 0, result.err
    section = json.loads(result.out)["keyring"]
    assert section["secure"]
    assert section["name"] == "SecretService Keyring"
    assert section["probe"] == {"write": "ok", "read": "ok", "delete": "ok", "error": None}
    human = run(scenario, secret_service, "doctor")
    assert "keyring probe      write ok, read ok, delete ok" in human.out


@pytest.mark.parametrize("bus", ["unset", "dead socket"])
def test_no_session_bus_is_a_clear_error_and_nothing_is_recorded(scenario: Scenario, bus: str) -> None:
    env = scenario.cli_env(None)
    if bus == "dead socket":
        env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={scenario.home / 'no-bus-here'}"
    copy = run(scenario, None, "keyring", "copy", env=env)
    assert copy.code == 3
    assert "D-Bus" in copy.err
    assert copy.out == ""
    as_json = run(scenario, None, "keyring", "copy", "--json", env=env)
    assert as_json.code == 3
    assert json.loads(as_json.out)["error"]["exit_code"] == 3
    assert not scenario.ledger.exists()
    doctor = run(scenario, None, "doctor", "--json", env=env)
    assert doctor.code == 0  # the snapshot is optional: no keyring is reported, not a failure
    section = json.loads(doctor.out)["keyring"]
    assert not section["secure"]
    assert "D-Bus" in section["reason"]
    assert section["probe"] is None


def test_a_locked_keyring_is_a_clear_error(private_secret_service: SecretService, scenario: Scenario) -> None:
    private_secret_service.lock_collections()
    result = run(scenario, private_secret_service, "keyring", "copy", "--timeout", "5")
    assert result.code == 3
    assert "keyring is locked" in result.err
    assert not scenario.ledger.exists()
    doctor = run(scenario, private_secret_service, "doctor", "--json", "--keyring-timeout", "5")
    assert doctor.code == 5  # a secure keyring that cannot be used is a failure of doctor
    assert "locked" in json.loads(doctor.out)["keyring"]["probe"]["error"]


def test_a_keyring_that_never_answers_is_cut_off_by_the_timeout(
    private_secret_service: SecretService, scenario: Scenario
) -> None:
    with private_secret_service.frozen():
        result = run(scenario, private_secret_service, "keyring", "copy", "--timeout", "1")
    assert result.code == 3
    assert "did not answer within 1 s" in result.err
    assert not scenario.ledger.exists()


def test_nothing_to_copy_before_a_migration(secret_service: SecretService, tmp_path: Path) -> None:
    from agentmux_companion.core.paths import AppPaths
    from tests.helpers.schema import Era, create_store

    home = tmp_path / "home"
    store = create_store(home / ".agentmux" / "channels" / "stable" / "versions" / "0.33.4" / "data" / "db"
                         / "objects.db", Era.WITH_AGENTS)
    scenario = Scenario(home, store, AppPaths.resolve(home, None, {"AGENTMUX_COMPANION_DIR": str(tmp_path / "c")}),
                        [])
    result = run(scenario, secret_service, "keyring", "copy")
    assert result.code == 0
    assert "Nothing to copy" in result.out
    assert "migrate" in result.out
    bad = run(scenario, secret_service, "keyring", "copy", "--timeout", "0")
    assert bad.code == 2
