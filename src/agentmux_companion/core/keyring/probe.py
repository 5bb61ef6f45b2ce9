"""The write / read / delete probe of ``doctor``: proof that the keyring works, with a throwaway entry.

A backend can be secure on paper and still fail in use (locked, prompt dismissed, a service that
accepts writes and loses them). ``doctor`` finds out by a round trip under its own service name,
:data:`PROBE_SERVICE`, never under AgentMux's: a random account and value, each step within the
adapter's time bound, and the entry deleted again even when only the read failed. Kept apart
from the backend because only ``doctor`` uses it.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any, NamedTuple

from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.keyring.backend import KeyringAdapter
from agentmux_companion.core.keyring.failures import KeyringTimeout

#: The throwaway entry ``doctor`` writes, reads and deletes to prove the keyring works.
PROBE_SERVICE = "agentmux-companion-probe"


class ProbeResult(NamedTuple):
    """One write/read/delete round trip with a throwaway entry (service ``agentmux-companion-probe``).

    Attributes:
        write, read, delete: ``ok``, ``mismatch`` (read returned something else), ``skipped``
            (an earlier step failed) or ``failed``.
        error: the failure in words, or None.
    """

    write: str
    read: str
    delete: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether all three steps worked, so the keyring can be written to."""
        return self.write == self.read == self.delete == "ok"

    def to_json(self) -> dict[str, Any]:
        """The steps' results as JSON (the throwaway value is never included)."""
        return {"write": self.write, "read": self.read, "delete": self.delete, "error": self.error}


def probe(adapter: KeyringAdapter) -> ProbeResult:
    """Write, read back and delete a random throwaway value, each step within the time bound."""
    account = f"probe-{secrets.token_hex(6)}"
    value = secrets.token_urlsafe(18)
    steps = {"write": "skipped", "read": "skipped", "delete": "skipped"}
    error: str | None = None
    try:
        adapter.set(PROBE_SERVICE, account, value)
        steps["write"] = "ok"
        steps["read"] = "ok" if adapter.get(PROBE_SERVICE, account) == value else "mismatch"
        steps["delete"] = "ok" if adapter.delete(PROBE_SERVICE, account) else "failed"
        if steps["delete"] != "ok":
            error = "the probe entry could not be deleted after writing it"
        elif steps["read"] != "ok":
            error = "the keyring returned a different value than the one written"
    except KeyringUnavailable as exc:
        failed = next(name for name, state in steps.items() if state == "skipped")
        steps[failed] = "failed"
        error = exc.message
        if steps["write"] == "ok" and not isinstance(exc, KeyringTimeout):
            # Best effort: leave no probe entry behind when only the read failed.
            with contextlib.suppress(KeyringUnavailable):
                adapter.delete(PROBE_SERVICE, account)
    return ProbeResult(steps["write"], steps["read"], steps["delete"], error)
