"""Time-bounded keyring calls, and the library's exceptions turned into the companion's typed errors.

A locked Linux keyring waiting for a password prompt that cannot be shown can block forever, so
every call runs in a daemon thread joined with a time bound (:func:`call_with_timeout`); the
caller gets :class:`~.failures.KeyringTimeout` instead and the stuck thread is abandoned (it
dies with the process). Whatever the ``keyring`` library or D-Bus raises instead is translated
(:func:`translate_error`) into a :mod:`.failures` error with words for the user, redacted so no
secret can ride along. The adapter (:mod:`.backend`) and backend detection both call through here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.keyring.failures import (
    KeyringFailure,
    KeyringLockedError,
    KeyringTimeout,
    diagnose_missing_backend,
)
from agentmux_companion.core.log import redact

_T = TypeVar("_T")


def call_with_timeout(function: Callable[[], _T], timeout_s: float, what: str) -> _T:
    """Run ``function`` in a daemon thread and wait at most ``timeout_s`` seconds for it.

    Raises:
        KeyringTimeout: it did not return in time; the thread is abandoned, not killed (Python
            cannot kill a thread), and being a daemon it never keeps the process alive.
        BaseException: whatever ``function`` raised, unchanged.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"keyring: {what}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise KeyringTimeout(
            f"the keyring did not answer within {timeout_s:g} s while {what}. It may be locked and "
            "waiting for a password prompt that cannot be shown here; unlock it (for example by "
            "opening your keyring app) and try again"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def translate_error(exc: BaseException, what: str, backend_name: str) -> KeyringUnavailable:
    """A library or D-Bus exception as the companion's typed error (never with a secret in it)."""
    if isinstance(exc, KeyringUnavailable):
        return exc
    kind = type(exc).__name__
    detail = redact(str(exc)) or kind
    if kind in ("KeyringLocked", "LockedException", "PromptDismissedException") or "Prompt dismissed" in detail:
        if "create the collection" in detail:
            return KeyringLockedError(
                f"the keyring has no default collection and creating one needs a prompt that was dismissed "
                f"(while {what}); open your keyring app once to set it up"
            )
        return KeyringLockedError(
            f"the keyring is locked (while {what}): the unlock prompt was dismissed or the password was "
            "wrong. Unlock it (log in to the desktop, or open your keyring app) and try again"
        )
    if kind == "NoKeyringError":
        return diagnose_missing_backend()
    if kind == "SecretServiceNotAvailableException" or isinstance(exc, (ConnectionError, FileNotFoundError)):
        # The bus or the service went away after the backend was chosen: say which.
        return diagnose_missing_backend()
    return KeyringFailure(f"the keyring ({backend_name}) failed while {what}: {kind}: {detail}")
