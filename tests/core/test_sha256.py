"""core/sha256.py: the same digests as hashlib's, from CPython's own SHA-256 (no OpenSSL loaded)."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from agentmux_companion.core import sha256
from agentmux_companion.core.credentials import fingerprint


@pytest.mark.parametrize("data", [b"", b"abc", b"\0" * 1000, "ümlaut/路径".encode(), bytes(range(256)) * 300])
def test_the_digests_are_hashlibs(data: bytes) -> None:
    assert sha256.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    assert sha256.sha256_digest(data) == hashlib.sha256(data).digest()


def test_a_fingerprint_is_unchanged_by_the_implementation() -> None:
    # Fingerprints are stored (the keyring ledger) and compared later: they must not change.
    content = b'{"claudeAiOauth": {}}'
    assert fingerprint(content) == "sha256:" + hashlib.sha256(content).hexdigest()[:12]


def test_cpythons_own_sha256_is_used_and_openssl_is_not_loaded() -> None:
    code = (
        "import sys\n"
        "from agentmux_companion.core.sha256 import sha256_hex, _new\n"
        "sha256_hex(b'x')\n"
        "print(_new.__module__, 'hashlib' in sys.modules, '_hashlib' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    module, hashlib_loaded, openssl_loaded = result.stdout.split()
    assert module in ("_sha256", "_sha2")  # 3.11, 3.12 and later
    assert (hashlib_loaded, openssl_loaded) == ("False", "False")
