"""SHA-256 of small inputs on the way to the first plan, without loading OpenSSL.

``hashlib`` loads OpenSSL before anything else: libcrypto, its configuration and providers, about
4 ms of the tray companion's start (measured against ``hashlib``, ``make bench``'s machine), for
one credentials file's fingerprint. CPython ships SHA-256 of its own, as ``_sha256`` (3.11) and
``_sha2`` (3.12 on); the digest is the same, and where neither module is there, hashlib's is
used. Hashing off that path keeps ``hashlib`` (backups, whose OpenSSL digest is faster on their
size, and keyring chunks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class _Hash(Protocol):
    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


def _builtin_sha256() -> Callable[[bytes], _Hash]:
    # Static imports, so that PyInstaller's analysis bundles the module; typeshed has no stubs for them.
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # CPython 3.12 and later
        except ImportError:
            from hashlib import sha256
    constructor: Callable[[bytes], _Hash] = sha256
    return constructor


_new = _builtin_sha256()


def sha256_digest(data: bytes) -> bytes:
    """The SHA-256 digest of ``data`` (32 bytes)."""
    return _new(data).digest()


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of ``data`` in lowercase hex."""
    return _new(data).hexdigest()
