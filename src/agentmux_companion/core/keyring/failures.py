"""Why the keyring cannot be used: the typed errors, and the words for a missing backend.

Every keyring failure the companion knows reaches the user as a subclass of
:class:`~agentmux_companion.core.errors.KeyringUnavailable` (exit code 3) with a message written
for them; nothing here ever puts a secret in one. They live apart from the backend and the calls
because both raise them, and the copy, status, probe, CLI and GUI all catch them by type.

"There is no keyring" has several causes on Linux (no D-Bus session under SSH or cron, a session
with no keyring service, keyring configured away from the Secret Service);
:func:`diagnose_missing_backend` tells them apart so the message says which.
"""

from __future__ import annotations

import os
import sys

from agentmux_companion.core.errors import KeyringUnavailable


class NoSessionBus(KeyringUnavailable):
    """Linux: there is no D-Bus session to reach a Secret Service through (SSH, headless, cron)."""


class NoKeyringService(KeyringUnavailable):
    """There is a session, but no keyring service answers on it (nothing to store secrets in)."""


class KeyringLockedError(KeyringUnavailable):
    """The keyring is locked and stayed locked.

    The unlock prompt was dismissed or the password was wrong: the Secret Service does not tell
    the two apart.
    """


class InsecureBackend(KeyringUnavailable):
    """The backend in use is not a secure OS store (null, fail, a plaintext file, unknown)."""


class SecretTooLarge(KeyringUnavailable):
    """The secret exceeds what the backend stores, and cannot be (or may not be) chunked."""


class KeyringTimeout(KeyringUnavailable):
    """A keyring call did not return within the time bound (typically a prompt nobody can see)."""


class KeyringFailure(KeyringUnavailable):
    """The backend failed in a way the companion has no better words for; its message is kept."""


# --------------------------------------------------------------------------------------------
# Why there is no backend (Linux: the usual reasons are about D-Bus)


def _is_freedesktop() -> bool:
    return sys.platform not in ("darwin", "win32", "cygwin")


def no_backend_reason() -> str:
    """Why keyring found no backend, in words (the refusal reason of keyring's ``fail`` backend)."""
    return diagnose_missing_backend().message


def diagnose_missing_backend() -> KeyringUnavailable:
    """The typed error for "keyring found no backend", with the most likely cause in words."""
    if not _is_freedesktop():
        return NoKeyringService("keyring found no secure keyring backend on this system")
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        return NoSessionBus(
            "no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set, so the Secret Service (GNOME "
            "Keyring, KWallet, KeePassXC) cannot be reached. Run this from a desktop session, or start "
            "one (for example with dbus-run-session) with a keyring daemon in it"
        )
    try:
        from keyring.backends import SecretService

        SecretService.Keyring.priority  # noqa: B018 - raises with the reason when not viable
    except Exception as exc:  # the library reports every cause as some exception; classify it
        detail = str(exc) or type(exc).__name__
        if "neither running nor activatable" in detail:
            return NoKeyringService(
                "no keyring service is running on the D-Bus session (nothing owns "
                "org.freedesktop.secrets): start GNOME Keyring, KWallet or KeePassXC's Secret Service"
            )
        return NoSessionBus(
            f"cannot reach the D-Bus session bus at {address} ({detail}): is the desktop session "
            "still running?"
        )
    return NoKeyringService("keyring found no secure keyring backend (the Secret Service answers, but "
                            "keyring is configured not to use it: check keyringrc.cfg and PYTHON_KEYRING_BACKEND)")
