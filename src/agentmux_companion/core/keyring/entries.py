"""What the keyring holds under one ``acct:<id>`` entry: read it, read it back, delete its chunks.

A copy may be one entry or a manifest plus chunks (:mod:`.chunks`), so "what is there now" is a
question copy, status and removal all ask, and they must answer it the same way: a fingerprint
for a manifest is the manifest's, a torn set of chunks reads back as nothing, and deleting walks
past the chunks a record knows of to any left by a copy whose record was lost. Every call goes
through :class:`~.backend.KeyringAdapter`, so it is time-bounded and its failures typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from agentmux_companion.core.credentials import fingerprint
from agentmux_companion.core.keyring.backend import SERVICE, KeyringAdapter
from agentmux_companion.core.keyring.chunks import MAX_CHUNKS, Manifest, chunk_account, parse_manifest

#: Called with a line of text before each account a copy or a removal handles (the GUI's status line).
Progress = Callable[[str], None]


class Held(NamedTuple):
    """What the keyring holds under ``acct:<id>``: nothing, a whole text, or a chunk manifest."""

    value: str | None
    manifest: Manifest | None

    @property
    def fingerprint(self) -> str | None:
        """The masked fingerprint of the secret held (a manifest's is its whole text's), or None."""
        if self.manifest is not None:
            return self.manifest.fingerprint
        return fingerprint(self.value.encode("utf-8")) if self.value is not None else None


def held(adapter: KeyringAdapter, account: str) -> Held:
    """What the keyring holds under ``account`` (one call: the entry itself, not its chunks)."""
    value = adapter.get(SERVICE, account)
    return Held(value, parse_manifest(value))


def read_back(adapter: KeyringAdapter, account: str) -> str | None:
    """The whole secret stored for ``account``, chunks joined and checked; None if absent or torn."""
    entry = held(adapter, account)
    if entry.manifest is None:
        return entry.value
    pieces = []
    for index in range(entry.manifest.chunk_count):
        piece = adapter.get(SERVICE, chunk_account(account, index))
        if piece is None:
            return None
        pieces.append(piece)
    text = "".join(pieces)
    return text if entry.manifest.matches(text) else None


def delete_chunks(adapter: KeyringAdapter, account: str, start: int, known_end: int) -> int:
    """Delete chunks ``start``.. of ``account``, including ones no record knows of.

    Chunks below ``known_end`` are deleted without looking first; past it, deleting goes
    on while chunks are found (left by a copy whose record was lost).

    Returns:
        How many entries were deleted.
    """
    deleted = 0
    index = start
    while index < MAX_CHUNKS:
        if index >= known_end and adapter.get(SERVICE, chunk_account(account, index)) is None:
            break
        if adapter.delete(SERVICE, chunk_account(account, index)):
            deleted += 1
        index += 1
    return deleted
