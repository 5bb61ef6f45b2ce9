"""Contract §6, the status probe, and §7 3b, what counts as "present".

Every rule and every odd file a home folder can hold. Each case ends in a status and a reason,
never a hang or a crash.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from agentmux_companion.core.credentials import (
    MAX_CREDENTIALS_BYTES,
    AmbientCredential,
    FileKind,
    Status,
    probe_provider,
    read_credentials_bytes,
)
from agentmux_companion.core.providers import Provider, load_registry
from tests.helpers.stores import HOUR_MS as HOUR
from tests.helpers.stores import NOW_MS, PLANTED_TOKENS, claude_creds, generic_creds, write_creds

FINGERPRINT_RE = re.compile(r"^sha256:[0-9a-f]{12}$")
REGISTRY = load_registry()


def provider(provider_id: str) -> Provider:
    found = REGISTRY.get(provider_id)
    assert found is not None
    return found


def probe(home: Path, provider_id: str = "claude", now_ms: int = NOW_MS) -> AmbientCredential:
    """Probe with a hang guard: a probe that blocks (on a FIFO, say) fails the test instead."""
    result: list[AmbientCredential] = []
    worker = threading.Thread(target=lambda: result.append(probe_provider(provider(provider_id), home, now_ms)),
                              daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the probe blocked"
    return result[0]


def probe_json(home: Path, provider_id: str, document: Any) -> AmbientCredential:
    write_creds(home, provider_id, json.dumps(document))
    return probe(home, provider_id)


def assert_masked(credential: AmbientCredential) -> None:
    if credential.fingerprint is not None:
        assert FINGERPRINT_RE.match(credential.fingerprint)
        for token in PLANTED_TOKENS:
            assert token not in credential.fingerprint
            assert token not in credential.reason
            assert all(token not in w for w in credential.warnings)


# --------------------------------------------------------------------------------------------
# Step 3: the expiry, the first JSON integer among three fields


@pytest.mark.parametrize(
    ("document", "expected_expiry"),
    [
        ({"claudeAiOauth": {"expiresAt": NOW_MS + 1}}, NOW_MS + 1),
        ({"expiresAt": NOW_MS + 2}, NOW_MS + 2),
        ({"expires_at": NOW_MS + 3}, NOW_MS + 3),
        # claudeAiOauth.expiresAt wins over both top-level fields...
        ({"claudeAiOauth": {"expiresAt": NOW_MS + 1}, "expiresAt": 5, "expires_at": 6}, NOW_MS + 1),
        # ...and top-level expiresAt over expires_at.
        ({"expiresAt": NOW_MS + 2, "expires_at": 6}, NOW_MS + 2),
        # Strings, floats, booleans and integers beyond i64 do not count: the next field is used.
        ({"claudeAiOauth": {"expiresAt": str(NOW_MS + 1)}, "expiresAt": NOW_MS + 2}, NOW_MS + 2),
        ({"claudeAiOauth": {"expiresAt": float(NOW_MS + 1)}, "expires_at": NOW_MS + 3}, NOW_MS + 3),
        ({"expiresAt": True, "expires_at": NOW_MS + 3}, NOW_MS + 3),
        ({"expiresAt": 2**63, "expires_at": NOW_MS + 3}, NOW_MS + 3),
        ({"expiresAt": None, "expires_at": NOW_MS + 3}, NOW_MS + 3),
        ({"claudeAiOauth": "not an object", "expiresAt": NOW_MS + 2}, NOW_MS + 2),
        # The largest i64 still counts, as do negative integers.
        ({"expires_at": 2**63 - 1}, 2**63 - 1),
        ({"expires_at": -5}, -5),
        # Nothing usable anywhere: no expiry.
        ({"expiresAt": "soon", "expires_at": 1.5e12, "claudeAiOauth": {"expiresAt": False}}, None),
        ({"expiry": NOW_MS - 1, "claudeAiOauth": {"expires_at": NOW_MS - 1}}, None),
        ({}, None),
    ],
)
def test_expiry_is_the_first_json_integer(private_home: Path, document: dict[str, Any],
                                          expected_expiry: int | None) -> None:
    found = probe_json(private_home, "claude", document)
    assert found.expires_at_ms == expected_expiry


def test_huge_integer_written_literally_does_not_count(private_home: Path) -> None:
    # Written as text so the number is exactly as a file would hold it (beyond i64).
    write_creds(private_home, "claude", '{"expiresAt": 99999999999999999999999, "expires_at": 7}')
    found = probe(private_home)
    assert found.expires_at_ms == 7
    write_creds(private_home, "claude", '{"expires_at": 1780000000000.0}')
    assert probe(private_home).expires_at_ms is None


# --------------------------------------------------------------------------------------------
# Step 4: the refresh token


@pytest.mark.parametrize(
    ("document", "has_refresh"),
    [
        ({"claudeAiOauth": {"refreshToken": "r"}}, True),
        ({"refresh_token": "r"}, True),
        ({"claudeAiOauth": {"refreshToken": ""}, "refresh_token": "r"}, True),
        ({"claudeAiOauth": {"refreshToken": ""}}, False),
        ({"refresh_token": ""}, False),
        ({"refresh_token": 12345}, False),
        ({"refresh_token": ["r"]}, False),
        ({"claudeAiOauth": {"refreshToken": True}}, False),
        # Other spellings are not AgentMux's fields.
        ({"refreshToken": "r"}, False),
        ({"claudeAiOauth": {"refresh_token": "r"}}, False),
        ({}, False),
    ],
)
def test_refresh_token_rules(private_home: Path, document: dict[str, Any], has_refresh: bool) -> None:
    expired = {**document, "expires_at": NOW_MS - 1}
    found = probe_json(private_home, "claude", expired)
    assert found.has_refresh_token is has_refresh
    assert found.status is (Status.EXPIRED if has_refresh else Status.NEEDS_REAUTH)


# --------------------------------------------------------------------------------------------
# Step 5: the status


@pytest.mark.parametrize(
    ("expires_at", "refresh", "status"),
    [
        (NOW_MS + 1, PLANTED_TOKENS[1], Status.VALID),
        (NOW_MS + 1, None, Status.VALID),
        (NOW_MS, PLANTED_TOKENS[1], Status.EXPIRED),  # "<= now" is expired
        (NOW_MS, None, Status.NEEDS_REAUTH),
        (NOW_MS - HOUR, PLANTED_TOKENS[1], Status.EXPIRED),
        (NOW_MS - HOUR, None, Status.NEEDS_REAUTH),
        (None, None, Status.VALID),  # no expiry = valid
        (None, PLANTED_TOKENS[1], Status.VALID),
    ],
)
def test_status_claude_shape(private_home: Path, expires_at: int | None, refresh: str | None,
                             status: Status) -> None:
    write_creds(private_home, "claude", claude_creds(expires_at, refresh))
    found = probe(private_home)
    assert (found.present, found.kind, found.status) == (True, FileKind.REGULAR, status)
    assert found.reason
    assert_masked(found)



@pytest.mark.parametrize("provider_id", ["codex", "openclaw"])
@pytest.mark.parametrize(
    ("expires_at", "refresh", "status"),
    [
        (NOW_MS + HOUR, PLANTED_TOKENS[3], Status.VALID),
        (NOW_MS - HOUR, PLANTED_TOKENS[3], Status.EXPIRED),
        (NOW_MS - HOUR, None, Status.NEEDS_REAUTH),
        (None, None, Status.VALID),
    ],
)
def test_status_generic_shape(private_home: Path, provider_id: str, expires_at: int | None,
                              refresh: str | None, status: Status) -> None:
    write_creds(private_home, provider_id, generic_creds(expires_at, refresh))
    found = probe(private_home, provider_id)
    assert found.status is status
    assert found.config_dir == private_home / f".{provider_id}"
    assert found.path == private_home / f".{provider_id}" / ".credentials.json"
    assert_masked(found)


def test_access_token_itself_is_not_checked(private_home: Path) -> None:
    found = probe_json(private_home, "claude", {"claudeAiOauth": {"accessToken": "", "expiresAt": NOW_MS + 1}})
    assert found.status is Status.VALID


def test_json_that_is_not_an_object_has_no_expiry(private_home: Path) -> None:
    found = probe_json(private_home, "claude", [{"expiresAt": NOW_MS - 1}])
    assert found.status is Status.VALID
    assert found.warnings  # an odd file is worth saying


# --------------------------------------------------------------------------------------------
# Step 1 and step 2: non-OAuth providers; unreadable and invalid files


@pytest.mark.parametrize("provider_id", ["gemini", "kimi", "pi", "qwen", "copilot", "muxcode", "antigravity"])
def test_non_oauth_provider_is_unknown(private_home: Path, provider_id: str) -> None:
    write_creds(private_home, provider_id, generic_creds(NOW_MS - HOUR, None))
    found = probe(private_home, provider_id)
    assert (found.present, found.status, found.fingerprint) == (True, Status.UNKNOWN, None)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b'{"claudeAiOauth": {"accessToken": "' + PLANTED_TOKENS[0].encode() + b'"', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b'{"expiresAt": 1, "x": "\xc3\x28"}', "not UTF-8 text"),
        (b'\xef\xbb\xbf{"expiresAt": 1780000003600000}', "not valid JSON"),  # a UTF-8 BOM
        (b'{"expiresAt": NaN}', "not valid JSON"),
        (b'{"expires_at": Infinity}', "not valid JSON"),
        (b'{"expires_at": -Infinity}', "not valid JSON"),
        (b"[" * 200_000 + b"]" * 200_000, "not valid JSON"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "not valid JSON"),
        (b'{"expiresAt": 1}{"expiresAt": 2}', "not valid JSON"),
    ],
    ids=["empty", "truncated", "truncated-with-token", "utf16-bytes", "bad-utf8", "bom", "nan", "inf",
         "minus-inf", "deep-arrays", "deep-objects", "two-documents"],
)
def test_invalid_content_needs_reauth(private_home: Path, content: bytes, what: str) -> None:
    write_creds(private_home, "claude", content)
    found = probe(private_home)
    assert (found.present, found.kind, found.status) == (True, FileKind.REGULAR, Status.NEEDS_REAUTH)
    assert what in found.reason
    assert any(what in w for w in found.warnings)
    assert found.fingerprint is not None  # the file was read: it can still be told apart
    assert_masked(found)


@pytest.mark.parametrize(("depth", "readable"), [(127, True), (128, False), (900, False)])
def test_nesting_limit_is_serde_jsons(private_home: Path, depth: int, readable: bool) -> None:
    # AgentMux parses with serde_json, whose recursion limit accepts 127 nested levels and
    # rejects 128: a file AgentMux cannot read needs re-auth here too, even if Python could.
    nested = '{"a":' * (depth - 1) + "1" + "}" * (depth - 1)
    write_creds(private_home, "claude", ('{"expiresAt": 1780000003600000, "x": ' + nested + "}").encode())
    found = probe(private_home)
    assert found.status is (Status.VALID if readable else Status.NEEDS_REAUTH), found.reason


def test_oversize_file_is_not_read(private_home: Path) -> None:
    path = write_creds(private_home, "claude", claude_creds())
    with path.open("ab") as handle:
        handle.truncate(MAX_CREDENTIALS_BYTES + 1)  # sparse: cheap to make
    found = probe(private_home)
    assert (found.present, found.status, found.fingerprint) == (True, Status.NEEDS_REAUTH, None)
    assert "larger than" in found.reason
    with pytest.raises(OSError, match="larger than") as raised:
        read_credentials_bytes(path)
    assert raised.value.errno == errno.EFBIG


def test_file_of_exactly_the_cap_is_read(private_home: Path) -> None:
    text = claude_creds(NOW_MS - HOUR, None)
    path = write_creds(private_home, "claude", text + " " * (MAX_CREDENTIALS_BYTES - len(text)))
    assert path.stat().st_size == MAX_CREDENTIALS_BYTES
    assert probe(private_home).status is Status.NEEDS_REAUTH  # expired, no refresh: it was parsed


def test_directory_counts_as_present(private_home: Path) -> None:
    (private_home / ".claude" / ".credentials.json").mkdir(parents=True)
    found = probe(private_home)
    assert (found.present, found.kind, found.status, found.fingerprint) == (
        True, FileKind.DIRECTORY, Status.NEEDS_REAUTH, None)
    assert found.warnings


@pytest.mark.linux_only
def test_fifo_counts_as_present_and_never_blocks(private_home: Path) -> None:
    path = private_home / ".codex" / ".credentials.json"
    path.parent.mkdir()
    os.mkfifo(path)
    found = probe(private_home, "codex")
    assert (found.present, found.kind, found.status) == (True, FileKind.FIFO, Status.NEEDS_REAUTH)
    assert found.warnings
    # The safe reader refuses it on the open descriptor rather than blocking on a read.
    with pytest.raises(OSError, match="not a regular file") as raised:
        read_credentials_bytes(path)
    assert raised.value.errno == errno.EINVAL


@pytest.mark.linux_only
def test_symlink_to_a_device_counts_as_present(private_home: Path) -> None:
    path = private_home / ".claude" / ".credentials.json"
    path.parent.mkdir()
    path.symlink_to("/dev/null")
    found = probe(private_home)
    assert (found.present, found.kind, found.status) == (True, FileKind.DEVICE, Status.NEEDS_REAUTH)
    assert found.symlink_target == "/dev/null"
    assert any("/dev/null" in w for w in found.warnings)


def test_symlink_to_a_regular_file_probes_the_target(private_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "creds.json"
    target.parent.mkdir()
    target.write_text(claude_creds(NOW_MS - HOUR, PLANTED_TOKENS[1]), encoding="utf-8")
    path = private_home / ".claude" / ".credentials.json"
    path.parent.mkdir()
    path.symlink_to(target)
    found = probe(private_home)
    assert (found.present, found.kind, found.status) == (True, FileKind.REGULAR, Status.EXPIRED)
    assert found.symlink_target == str(target)
    assert any(str(target) in w for w in found.warnings)
    # The binding points at the CLI's folder, not at the link's target.
    assert found.config_dir == private_home / ".claude"
    assert_masked(found)


def test_dangling_symlink_is_absent(private_home: Path, tmp_path: Path) -> None:
    path = private_home / ".claude" / ".credentials.json"
    path.parent.mkdir()
    path.symlink_to(tmp_path / "gone.json")
    found = probe(private_home)
    assert (found.present, found.kind, found.status, found.fingerprint) == (
        False, FileKind.DANGLING_SYMLINK, None, None)
    assert found.symlink_target == str(tmp_path / "gone.json")
    assert "does not exist" in found.reason


def test_missing_file_and_file_in_place_of_the_folder(private_home: Path) -> None:
    found = probe(private_home)
    assert (found.present, found.kind, found.status) == (False, FileKind.MISSING, None)
    (private_home / ".codex").write_text("not a folder", encoding="utf-8")
    found = probe(private_home, "codex")
    assert (found.present, found.kind, found.status) == (False, FileKind.MISSING, None)


#: Run a child as root *without* the capabilities that let root ignore file permissions, so a
#: mode-000 file is really unreadable to it (as it is to any normal user).
WITHOUT_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.linux_only
def test_unreadable_file_needs_reauth(private_home: Path) -> None:
    """A file its reader has no permission to read: ``needs_reauth``, with the reason.

    The suite runs as root in CI, and root reads a mode-000 file regardless of its bits (its
    CAP_DAC_OVERRIDE), so a chmod alone would prove nothing there. The probe then runs in a child
    that drops those capabilities (``setpriv``), for which the permission really applies; run by
    a normal user, the child needs no such help.
    """
    path = write_creds(private_home, "claude", claude_creds())
    path.chmod(0o000)
    script = (
        "import json, sys; from pathlib import Path\n"
        "from agentmux_companion.core.credentials import probe_provider\n"
        "from agentmux_companion.core.providers import load_registry\n"
        "p = probe_provider(load_registry().get('claude'), Path(sys.argv[1]), int(sys.argv[2]))\n"
        "print(json.dumps({'present': p.present, 'status': p.status and p.status.value,\n"
        "                  'reason': p.reason, 'fingerprint': p.fingerprint}))\n"
    )
    prefix = WITHOUT_DAC_OVERRIDE if os.geteuid() == 0 else []
    completed = subprocess.run(
        [*prefix, sys.executable, "-c", script, str(private_home), str(NOW_MS)], capture_output=True,
        text=True, timeout=60, check=True,
    )
    found = json.loads(completed.stdout)
    assert (found["present"], found["status"], found["fingerprint"]) == (True, "needs_reauth", None)
    assert "unreadable" in found["reason"]
    assert "ermission denied" in found["reason"]


def test_root_reads_a_mode_000_file(private_home: Path) -> None:
    """The other half of the previous test: to root, a mode-000 file is readable.

    As to AgentMux running as root, so the probe reports its real status, not needs_reauth.
    """
    path = write_creds(private_home, "claude", claude_creds(NOW_MS - HOUR, PLANTED_TOKENS[1]))
    path.chmod(0o000)
    found = probe(private_home)
    if os.geteuid() == 0:
        assert found.status is Status.EXPIRED
    else:
        assert found.status is Status.NEEDS_REAUTH


def test_fingerprint_identifies_content_never_the_token(private_home: Path) -> None:
    write_creds(private_home, "claude", claude_creds(access=PLANTED_TOKENS[0]))
    first = probe(private_home)
    write_creds(private_home, "claude", claude_creds(access=PLANTED_TOKENS[0] + "x"))
    second = probe(private_home)
    assert first.fingerprint != second.fingerprint
    for found in (first, second):
        assert_masked(found)
        assert found.fingerprint not in (PLANTED_TOKENS[0], PLANTED_TOKENS[0] + "x")
    # A token that is itself short hex must not be echoed either.
    write_creds(private_home, "claude", '{"access_token": "abcdef123456"}')
    found = probe(private_home)
    assert found.fingerprint is not None
    assert "abcdef123456" not in found.fingerprint


def test_probe_only_reads(private_home: Path) -> None:
    path = write_creds(private_home, "claude", claude_creds())
    before = (path.read_bytes(), path.stat().st_mtime_ns, oct(path.stat().st_mode))
    probe(private_home)
    assert (path.read_bytes(), path.stat().st_mtime_ns, oct(path.stat().st_mode)) == before


# --------------------------------------------------------------------------------------------
# Parity with AgentMux's reader (serde_json), where Python's json is more lenient (§6)


@pytest.mark.parametrize(
    "content",
    [
        b'{"expiresAt": 1e400}',
        b'{"expiresAt": -1e400}',
        b'{"other": 2.5e999, "expiresAt": 1780000003600000}',
        b'{"expiresAt": 1' + b"0" * 400 + b"}",
        b'{"expiresAt": -1' + b"0" * 400 + b"}",
        b'{"refresh_token": "\\ud800", "expiresAt": 1780000003600000}',
        b'{"\\udfff": 1}',
        b'{"refresh_token": "a\x01b"}',
        b'{"refresh_token": "tab\there"}',
        b'{"expiresAt": 1} x',
        b'{"expiresAt": 1},',
    ],
    ids=["float-overflow", "negative-float-overflow", "overflow-in-another-field", "400-digit-integer",
         "negative-400-digit-integer", "lone-high-surrogate", "lone-low-surrogate-in-key", "raw-control-char",
         "raw-tab", "trailing-word", "trailing-comma"],
)
def test_what_serde_json_refuses_needs_reauth(private_home: Path, content: bytes) -> None:
    write_creds(private_home, "claude", content)
    found = probe(private_home)
    assert (found.present, found.status) == (True, Status.NEEDS_REAUTH), found.reason
    assert "not valid JSON" in found.reason


@pytest.mark.parametrize(
    ("content", "status", "expiry"),
    [
        # A surrogate pair is a real character: accepted by both readers.
        (b'{"note": "\\ud83d\\ude00", "expiresAt": 1780000003600000}', Status.VALID, 1780000003600000),
        # Duplicate keys: the last one wins, as in serde_json.
        (b'{"expiresAt": 1, "expiresAt": 1780000003600000}', Status.VALID, 1780000003600000),
        (b'{"expiresAt": 1780000003600000, "expiresAt": 1, "refresh_token": "r"}', Status.EXPIRED, 1),
        # Beyond i64 but within u64: no usable expiry (as_i64 is None), so valid.
        (b'{"expiresAt": 18446744073709551615}', Status.VALID, None),
        # Beyond u64: serde_json reads a double, which is no expiry either; still a valid file.
        (b'{"expiresAt": 123456789012345678901234567890}', Status.VALID, None),
        (b'{"expiresAt": 1e300}', Status.VALID, None),
        # Trailing white space is allowed by both.
        (b'{"expiresAt": 1780000003600000} \n\t\r', Status.VALID, 1780000003600000),
    ],
    ids=["surrogate-pair", "duplicate-last-wins", "duplicate-last-wins-expired", "u64-max", "beyond-u64",
         "large-double", "trailing-whitespace"],
)
def test_what_serde_json_accepts_is_read_the_same(
    private_home: Path, content: bytes, status: Status, expiry: int | None
) -> None:
    write_creds(private_home, "claude", content)
    found = probe(private_home)
    assert (found.status, found.expires_at_ms) == (status, expiry), found.reason
