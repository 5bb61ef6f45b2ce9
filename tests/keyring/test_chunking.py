"""Chunking for backends with a per-entry limit.

Against an in-memory backend that enforces Windows Credential Manager's 2,560-byte limit the way
Windows does (the write fails).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentmux_companion.core.keyring.backend import (
    SERVICE,
    WINDOWS_CREDENTIAL_LIMIT,
    KeyringAdapter,
    SizeLimit,
    classify,
)
from agentmux_companion.core.keyring.chunks import (
    MAX_CHUNKS,
    Manifest,
    chunk_account,
    parse_manifest,
    split_text,
    text_sha256,
)
from agentmux_companion.core.keyring.copy import Outcome, copy_bound_accounts
from agentmux_companion.core.keyring.failures import KeyringFailure, SecretTooLarge
from agentmux_companion.core.keyring.ledger import all_copies
from agentmux_companion.core.keyring.removal import Removal, remove_copies
from agentmux_companion.core.keyring.status import Freshness, InKeyring, snapshot_status
from tests.keyring.conftest import NOW_MS, Scenario, planted, using_keyring
from tests.keyring.memory_backends import WINDOWS_BLOB_LIMIT, CredWriteError, WindowsLikeKeyring


def credentials_of_size(chars: int) -> str:
    """A Claude credentials file of about ``chars`` characters, non-ASCII included."""
    body = {"claudeAiOauth": {"accessToken": planted("Access"), "refreshToken": planted("Refresh"),
                              "expiresAt": NOW_MS + 3_600_000, "note": ""}}
    text = json.dumps(body, ensure_ascii=False)
    filler = ("é€𝄞" + "abcdefghij") * (chars // 13 + 1)
    body["claudeAiOauth"]["note"] = filler[: max(0, chars - len(text))]
    return json.dumps(body, ensure_ascii=False)


@pytest.fixture
def windows() -> Iterator[WindowsLikeKeyring]:
    with using_keyring(WindowsLikeKeyring()) as backend:
        yield backend


def adapter() -> KeyringAdapter:
    # keyring's default (set_keyring above); the test backend is not one the companion knows,
    # so the test vouches for it and gives it Windows' limit, as detection does for WinVault.
    return KeyringAdapter.open(trusted=True, size_limit=WINDOWS_CREDENTIAL_LIMIT)


def chunks_in(backend: WindowsLikeKeyring, account: str) -> list[str]:
    return sorted(a for a in backend.accounts(SERVICE) if a.startswith(account + "#chunk"))


# --------------------------------------------------------------------------------------------
# Pure parts


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=4, max_value=600))
def test_split_text_fits_the_limit_and_joins_back(text: str, max_bytes: int) -> None:
    limit = SizeLimit(max_bytes, "utf-16-le")
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(limit.fits(piece) for piece in pieces)
    assert all(piece for piece in pieces) or pieces == [""]


def test_the_windows_limit_counts_utf16_bytes() -> None:
    assert WINDOWS_CREDENTIAL_LIMIT.fits("a" * 1280)
    assert not WINDOWS_CREDENTIAL_LIMIT.fits("a" * 1281)
    assert not WINDOWS_CREDENTIAL_LIMIT.fits("𝄞" * 641)  # 4 bytes each in UTF-16


def test_manifest_round_trip_and_refusals() -> None:
    text = credentials_of_size(4000)
    manifest = Manifest.for_text(text, 3)
    assert parse_manifest(manifest.encode()) == manifest
    assert manifest.matches(text)
    assert not manifest.matches(text + " ")
    assert manifest.fingerprint == "sha256:" + text_sha256(text)[:12]
    for not_one in (None, "", text, '{"count": 3}', manifest.encode().replace('"count":3', '"count":0'),
                    manifest.encode().replace('"count":3', f'"count":{MAX_CHUNKS + 1}'),
                    manifest.encode()[:-1]):
        assert parse_manifest(not_one) is None


def test_windows_backend_is_detected_by_class_with_its_limit() -> None:
    from keyring.backends.Windows import WinVaultKeyring

    report = classify(WinVaultKeyring())
    assert report.secure
    assert report.size_limit == WINDOWS_CREDENTIAL_LIMIT
    assert "Windows Credential Manager" in report.reason


# --------------------------------------------------------------------------------------------
# Copy, status and remove through the chunks


def test_the_in_memory_backend_refuses_like_windows(windows: WindowsLikeKeyring) -> None:
    windows.set_password("s", "u", "a" * 1280)
    with pytest.raises(CredWriteError):
        windows.set_password("s", "u", "a" * 1281)


def test_a_large_secret_is_chunked_with_the_manifest_written_last(
    windows: WindowsLikeKeyring, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = credentials_of_size(6000)
    scenario.credentials("claude").write_text(text, encoding="utf-8")
    account = f"acct:{scenario.account_id('claude')}"
    order: list[str] = []
    original = windows.set_password

    def recording_set_password(service: str, username: str, password: str) -> None:
        order.append(username)
        original(service, username, password)

    monkeypatch.setattr(windows, "set_password", recording_set_password)

    report = {c.account.provider: c for c in copy_bound_accounts(
        scenario.paths, [scenario.store], adapter=adapter(), at_ms=NOW_MS).copies}

    claude = report["claude"]
    assert claude.outcome is Outcome.COPIED
    assert claude.chunks >= 5
    assert report["codex"].outcome is Outcome.COPIED
    assert report["codex"].chunks == 0
    claude_writes = [u for u in order if u.startswith(account)]
    assert claude_writes == [chunk_account(account, i) for i in range(claude.chunks)] + [account]
    manifest = parse_manifest(windows.get_password(SERVICE, account))
    assert manifest is not None
    assert manifest.chunk_count == claude.chunks
    joined = "".join(windows.get_password(SERVICE, chunk_account(account, i)) or ""
                     for i in range(manifest.chunk_count))
    assert joined == text
    assert manifest.matches(joined)
    assert all(len(v.encode("utf-16-le")) <= WINDOWS_BLOB_LIMIT for v in windows.entries.values())
    [status] = [c for c in snapshot_status(scenario.paths, adapter=adapter()).copies if c.record.provider == "claude"]
    assert (status.freshness, status.in_keyring, status.record.chunks) == (
        Freshness.CURRENT, InKeyring.PRESENT, claude.chunks)


def test_stale_chunks_of_a_longer_copy_are_cleaned_up(windows: WindowsLikeKeyring, scenario: Scenario) -> None:
    account = f"acct:{scenario.account_id('claude')}"
    sizes_and_chunks = []
    for size in (9000, 4000, 1000):
        scenario.credentials("claude").write_text(credentials_of_size(size), encoding="utf-8")
        [claude] = [c for c in copy_bound_accounts(scenario.paths, [scenario.store], adapter=adapter()).copies
                    if c.account.provider == "claude"]
        assert claude.outcome is Outcome.COPIED
        sizes_and_chunks.append((claude.chunks, len(chunks_in(windows, account)), claude.stale_chunks_removed))
        assert windows.get_password(SERVICE, account) is not None
    (big, big_left, _), (mid, mid_left, mid_removed), (small, small_left, small_removed) = sizes_and_chunks
    assert big > mid > small == 0
    assert (big_left, mid_left, small_left) == (big, mid, 0)
    assert (mid_removed, small_removed) == (big - mid, mid)
    # Whole again: the entry is the text itself, where AgentMux would look for it.
    assert windows.get_password(SERVICE, account) == scenario.credentials("claude").read_text(encoding="utf-8")


def test_remove_deletes_the_manifest_and_every_chunk(windows: WindowsLikeKeyring, scenario: Scenario) -> None:
    scenario.credentials("claude").write_text(credentials_of_size(7000), encoding="utf-8")
    windows.set_password(SERVICE, "acct:someone-else", "theirs")
    copy_bound_accounts(scenario.paths, [scenario.store], adapter=adapter())
    copied = len(windows.accounts(SERVICE)) - 1

    report = remove_copies(scenario.paths, adapter=adapter())

    assert sum(c.entries_deleted for c in report.copies) == copied
    assert {c.outcome for c in report.copies} == {Removal.REMOVED}
    assert windows.accounts(SERVICE) == {"acct:someone-else"}
    assert all_copies(scenario.ledger) == []


def test_without_chunking_a_large_secret_is_refused_and_nothing_is_written(
    windows: WindowsLikeKeyring, scenario: Scenario
) -> None:
    scenario.credentials("claude").write_text(credentials_of_size(3000), encoding="utf-8")
    report = {c.account.provider: c for c in copy_bound_accounts(
        scenario.paths, [scenario.store], adapter=adapter(), chunking=False).copies}
    assert report["claude"].outcome is Outcome.TOO_LARGE
    assert "2560-byte limit" in report["claude"].message
    assert f"acct:{scenario.account_id('claude')}" not in windows.accounts(SERVICE)
    assert [r.provider for r in all_copies(scenario.ledger)] == ["codex"]
    with pytest.raises(SecretTooLarge):
        adapter().set(SERVICE, "acct:x", "a" * 1281)


def test_a_secret_beyond_the_chunk_cap_is_refused(windows: WindowsLikeKeyring, scenario: Scenario) -> None:
    scenario.credentials("claude").write_text(credentials_of_size(MAX_CHUNKS * 1280 + 10), encoding="utf-8")
    [claude] = [c for c in copy_bound_accounts(scenario.paths, [scenario.store], adapter=adapter()).copies
                if c.account.provider == "claude"]
    assert claude.outcome is Outcome.TOO_LARGE
    assert "more than 64 keyring entries" in claude.message
    assert chunks_in(windows, f"acct:{scenario.account_id('claude')}") == []


@pytest.mark.usefixtures("windows")
def test_without_knowing_the_limit_the_write_fails_and_remove_cleans_up(
    scenario: Scenario
) -> None:
    # What keyring alone does on Windows with a large login: CredWrite fails. The copy stops with
    # the backend's error; the interrupted copy is recorded as such, and remove tidies it.
    scenario.credentials("claude").write_text(credentials_of_size(3000), encoding="utf-8")
    with pytest.raises(KeyringFailure) as caught:
        copy_bound_accounts(scenario.paths, [scenario.store], adapter=KeyringAdapter.open(trusted=True))
    assert "CredWriteError" in caught.value.message
    assert "stub received bad data" in caught.value.message
    [record] = all_copies(scenario.ledger)
    assert record.state == "writing"
    [status] = snapshot_status(scenario.paths, adapter=adapter()).copies
    assert status.freshness is Freshness.INCOMPLETE
    assert status.in_keyring is InKeyring.MISSING
    [removed] = remove_copies(scenario.paths, adapter=adapter()).copies
    assert removed.outcome is Removal.ALREADY_GONE
    assert all_copies(scenario.ledger) == []

