"""The adapter: which backends are refused and why, time bounds, error words, the probe."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from keyring.backends import SecretService, fail, null

from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.keyring.backend import KeyringAdapter, backend_report, classify
from agentmux_companion.core.keyring.calls import call_with_timeout
from agentmux_companion.core.keyring.failures import InsecureBackend, KeyringTimeout, NoSessionBus
from agentmux_companion.core.keyring.probe import PROBE_SERVICE, probe
from tests.keyring.conftest import using_keyring
from tests.keyring.memory_backends import BlockingKeyring, ForgetfulKeyring, MemoryKeyring


def test_the_secret_service_is_a_secure_store_without_a_size_limit() -> None:
    report = classify(SecretService.Keyring())
    assert report.secure
    assert report.size_limit is None
    assert "Secret Service" in report.reason


def test_the_null_keyring_is_refused_with_an_explanation() -> None:
    with pytest.raises(InsecureBackend) as caught:
        KeyringAdapter.open(null.Keyring())
    assert "stores nothing" in caught.value.message
    assert "Nothing was copied" in caught.value.message
    assert caught.value.exit_code == 3


def test_an_unknown_backend_is_not_trusted_unless_vouched_for() -> None:
    report = classify(MemoryKeyring())
    assert not report.secure
    assert "not a backend the companion knows" in report.reason
    with pytest.raises(InsecureBackend):
        KeyringAdapter.open(MemoryKeyring())
    assert KeyringAdapter.open(MemoryKeyring(), trusted=True).report.secure


def test_without_a_session_bus_the_fail_backend_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with pytest.raises(NoSessionBus) as caught:
        KeyringAdapter.open(fail.Keyring())
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in caught.value.message

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'gone'}")
    with pytest.raises(NoSessionBus) as caught:
        KeyringAdapter.open(fail.Keyring())
    assert "cannot reach the D-Bus session bus" in caught.value.message
    report = backend_report(backend=fail.Keyring())
    assert not report.secure
    assert "D-Bus" in report.reason


def test_a_call_that_never_returns_is_cut_off_with_a_typed_error() -> None:
    release = threading.Event()
    try:
        with pytest.raises(KeyringTimeout) as caught:
            call_with_timeout(release.wait, 0.2, "reading agentmux/acct:x")
        assert isinstance(caught.value, KeyringUnavailable)
        assert "did not answer within 0.2 s while reading agentmux/acct:x" in caught.value.message
    finally:
        release.set()


def test_after_a_timeout_the_adapter_refuses_at_once() -> None:
    backend = BlockingKeyring()
    adapter = KeyringAdapter.open(backend, timeout_s=0.2, trusted=True)
    try:
        with pytest.raises(KeyringTimeout):
            adapter.get("s", "u")
        with pytest.raises(KeyringTimeout):
            adapter.set("s", "u", "v")  # not queued behind the stuck call
        assert backend.entries == {}
    finally:
        backend.release.set()


def test_errors_of_the_backend_keep_their_words_but_never_a_value() -> None:
    class Exploding(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            del service, username  # keyring's backend interface; this one refuses every write
            raise RuntimeError(f"refused {password}")

    adapter = KeyringAdapter.open(Exploding(), trusted=True)
    with pytest.raises(KeyringUnavailable) as caught:
        adapter.set("agentmux", "acct:x", '{"accessToken": "PLANTEDsecretvalue123"}')
    assert "failed while writing agentmux/acct:x: RuntimeError" in caught.value.message
    assert "PLANTEDsecretvalue123" not in caught.value.message


def test_the_probe_writes_reads_and_deletes_a_throwaway_entry() -> None:
    backend = MemoryKeyring()
    result = probe(KeyringAdapter.open(backend, trusted=True))
    assert result.ok
    assert result.to_json() == {"write": "ok", "read": "ok", "delete": "ok", "error": None}
    assert backend.entries == {}


def test_the_probe_reports_a_keyring_that_returns_something_else() -> None:
    backend = ForgetfulKeyring()
    result = probe(KeyringAdapter.open(backend, trusted=True))
    assert (result.write, result.read, result.delete) == ("ok", "mismatch", "ok")
    assert result.error is not None
    assert not result.ok
    assert backend.accounts(PROBE_SERVICE) == set()


def test_backend_report_follows_set_keyring() -> None:
    with using_keyring(null.Keyring()):
        report = backend_report()
    assert report.class_path == "keyring.backends.null.Keyring"
    assert not report.secure
