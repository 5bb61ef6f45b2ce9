"""Splitting a secret over several keyring entries, for backends with a per-entry limit.

Windows Credential Manager holds at most 2,560 bytes per entry (UTF-16, so 1,280 code units);
an OAuth credentials file is often larger. Such a secret is stored as chunks under
``acct:<id>#chunk<n>`` plus a *manifest* under ``acct:<id>`` itself, written last: until the
manifest is there, nothing claims the chunks form a secret, and the manifest names the chunk
count and the SHA-256 of the whole text, so a reader can tell a complete set from a torn one.

Pure functions only; the keyring calls live in :mod:`.copy`, :mod:`.entries` and :mod:`.removal`.
"""

from __future__ import annotations

import hashlib
import json
from typing import NamedTuple

from agentmux_companion.core.keyring.backend import SizeLimit

#: The manifest's marker key: no credentials file has it, so a manifest cannot be mistaken for one.
MANIFEST_MARK = "agentmux-companion-chunks"
MANIFEST_VERSION = 1
#: A credentials file needing more entries than this is not an OAuth login (on Windows this is
#: ~80,000 characters); refusing it keeps a mistake from filling the user's credential store.
MAX_CHUNKS = 64


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the text's UTF-8 bytes (the credentials file's exact bytes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_account(account: str, index: int) -> str:
    """The keyring account of chunk ``index`` (0-based) of ``account``."""
    return f"{account}#chunk{index}"


class Manifest(NamedTuple):
    """What the entry under ``acct:<id>`` says when the secret is chunked.

    Attributes:
        chunk_count: number of chunks, ``#chunk0`` to ``#chunk<chunk_count-1>`` (``count`` in the entry).
        sha256: hex SHA-256 of the whole text (UTF-8), checked after joining the chunks.
        chars: length of the whole text in characters, a cheap first check.
    """

    chunk_count: int
    sha256: str
    chars: int

    def encode(self) -> str:
        """The manifest as the compact JSON stored in the ``acct:<id>`` entry."""
        return json.dumps(
            {MANIFEST_MARK: MANIFEST_VERSION, "count": self.chunk_count, "sha256": self.sha256, "chars": self.chars},
            separators=(",", ":"),
        )

    @property
    def fingerprint(self) -> str:
        """The masked fingerprint of the whole text, as :func:`credentials.fingerprint` makes it."""
        return "sha256:" + self.sha256[:12]

    def matches(self, text: str) -> bool:
        """Whether the joined chunks are the whole text the manifest describes (not torn or stale)."""
        return len(text) == self.chars and text_sha256(text) == self.sha256

    @classmethod
    def for_text(cls, text: str, count: int) -> Manifest:
        """The manifest for ``text`` split into ``count`` chunks."""
        return cls(count, text_sha256(text), len(text))


def parse_manifest(value: str | None) -> Manifest | None:
    """The manifest in ``value``, or None when it is not one of ours (a whole secret, say)."""
    if not value or MANIFEST_MARK not in value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {MANIFEST_MARK, "count", "sha256", "chars"}:
        return None
    count, digest, chars = data["count"], data["sha256"], data["chars"]
    if (
        data[MANIFEST_MARK] != MANIFEST_VERSION
        or not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_CHUNKS
        or not isinstance(digest, str) or len(digest) != 64
        or not isinstance(chars, int) or isinstance(chars, bool) or chars < 0
    ):
        return None
    return Manifest(count, digest, chars)


def split_text(text: str, limit: SizeLimit) -> list[str]:
    """``text`` cut into pieces that each fit ``limit``, joined back they are ``text`` again.

    Cuts fall between characters (code points), so a character never straddles two chunks,
    whatever its size in the backend's encoding.

    Raises:
        ValueError: a single character does not fit the limit (a limit under 4 bytes).
    """
    pieces: list[str] = []
    start = 0
    size = 0
    for index, char in enumerate(text):
        char_size = limit.size_of(char)
        if char_size > limit.max_bytes:
            raise ValueError(f"a limit of {limit.max_bytes} bytes cannot hold one character")
        if size + char_size > limit.max_bytes:
            pieces.append(text[start:index])
            start, size = index, 0
        size += char_size
    pieces.append(text[start:])
    return pieces
