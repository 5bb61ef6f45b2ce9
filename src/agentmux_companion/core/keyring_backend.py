"""One small adapter over the ``keyring`` library: which backend, is it secure, time-bounded calls.

Everything the keyring snapshot does to the OS keyring goes through :class:`KeyringAdapter`, so
three rules hold everywhere:

* The ``keyring`` library is imported only when a keyring is actually used (inside functions):
  the CLI's ``plan`` and the tray's start-up never pay for it, and never touch D-Bus.
* A backend that is not a secure OS store (``fail``, ``null``, a plaintext file, an empty
  chainer, anything the companion does not know) is refused with an explanation; a copy never
  "succeeds" into nothing or into a file.
* Every call runs in a daemon thread joined with a time bound. A locked Linux keyring waiting
  for a password prompt that cannot be shown can block forever; the caller gets
  :class:`KeyringTimeout` instead and the stuck thread is abandoned (it dies with the process).

Known failures become subclasses of :class:`~agentmux_companion.core.errors.KeyringUnavailable`
(exit code 3) with a message written for the user; nothing here ever puts a secret in one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.log import redact

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

#: AgentMux's own service name for secrets it keeps in the OS keyring (docs/agentmux-store.md §8).
SERVICE = "agentmux"
#: The throwaway entry ``doctor`` writes, reads and deletes to prove the keyring works.
PROBE_SERVICE = "agentmux-companion-probe"
#: Seconds a single keyring call may take. Generous for a healthy keyring (calls take
#: milliseconds), short enough that a hung one is reported while the user still waits.
DEFAULT_TIMEOUT_S = 10.0

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# Typed errors


class NoSessionBus(KeyringUnavailable):
    """Linux: there is no D-Bus session to reach a Secret Service through (SSH, headless, cron)."""


class NoKeyringService(KeyringUnavailable):
    """There is a session, but no keyring service answers on it (nothing to store secrets in)."""


class KeyringLockedError(KeyringUnavailable):
    """The keyring is locked and stayed locked: the unlock prompt was dismissed or the password
    was wrong (the Secret Service does not tell the two apart)."""


class InsecureBackend(KeyringUnavailable):
    """The backend in use is not a secure OS store (null, fail, a plaintext file, unknown)."""


class SecretTooLarge(KeyringUnavailable):
    """The secret exceeds what the backend stores, and cannot be (or may not be) chunked."""


class KeyringTimeout(KeyringUnavailable):
    """A keyring call did not return within the time bound (typically a prompt nobody can see)."""


class KeyringFailure(KeyringUnavailable):
    """The backend failed in a way the companion has no better words for; its message is kept."""


# --------------------------------------------------------------------------------------------
# What is known about backends


@dataclass(frozen=True)
class SizeLimit:
    """How much one keyring entry holds, measured the way the backend measures it.

    Attributes:
        max_bytes: the largest value, in bytes of ``encoding``.
        encoding: how the backend encodes the text it stores; Windows stores UTF-16, so its
            2,560-byte blob limit is 1,280 UTF-16 code units, not 2,560 characters.
    """

    max_bytes: int
    encoding: str = "utf-16-le"

    def size_of(self, text: str) -> int:
        return len(text.encode(self.encoding, "surrogatepass"))

    def fits(self, text: str) -> bool:
        return self.size_of(text) <= self.max_bytes


#: ``CRED_MAX_CREDENTIAL_BLOB_SIZE`` (5 * 512 bytes); ``keyring`` writes the blob as UTF-16-LE.
WINDOWS_CREDENTIAL_LIMIT = SizeLimit(2560, "utf-16-le")

#: Backends that keep secrets in the operating system's protected store, by class path, with
#: the words shown to the user. Everything else is refused.
_SECURE_BACKENDS: dict[str, str] = {
    "keyring.backends.SecretService.Keyring": "the Secret Service (GNOME Keyring, KWallet or KeePassXC)",
    "keyring.backends.libsecret.Keyring": "the Secret Service through libsecret",
    "keyring.backends.kwallet.DBusKeyring": "KDE Wallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KDE Wallet 4",
    "keyring.backends.macOS.Keyring": "the macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
}

#: Per-entry size limits of secure backends, detected by class path.
_SIZE_LIMITS: dict[str, SizeLimit] = {
    "keyring.backends.Windows.WinVaultKeyring": WINDOWS_CREDENTIAL_LIMIT,
}


def class_path(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class BackendReport:
    """The backend in use and whether the companion will use it; immutable, safe to show.

    Attributes:
        name: keyring's display name (``SecretService Keyring``), or '' when none was found.
        class_path: the backend's module and class, the stable identifier kept in the ledger.
        secure: whether it is a secure OS store the companion will write to.
        reason: in words: what the store is, or why it is refused.
        size_limit: the per-entry limit, when the backend has one (Windows).
        chained: for keyring's chainer, the class paths of the backends it chains.
    """

    name: str
    class_path: str
    secure: bool
    reason: str
    size_limit: SizeLimit | None = None
    chained: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "class": self.class_path,
            "secure": self.secure,
            "reason": self.reason,
            "size_limit_bytes": self.size_limit.max_bytes if self.size_limit else None,
            "chained": list(self.chained),
        }


def classify(backend: KeyringBackend, size_limit: SizeLimit | None = None, trusted: bool = False) -> BackendReport:
    """Decide whether ``backend`` is a secure OS store, without calling it.

    Args:
        backend: a ``keyring`` backend instance.
        size_limit: overrides the detected per-entry limit (tests and embedders).
        trusted: vouch for a backend the companion does not know (tests' in-memory backends).
    """
    path = class_path(backend)
    name = str(getattr(backend, "name", type(backend).__name__))
    limit = size_limit if size_limit is not None else _SIZE_LIMITS.get(path)
    if trusted:
        return BackendReport(name, path, True, "trusted by the caller", limit)
    if path in _SECURE_BACKENDS:
        return BackendReport(name, path, True, f"a secure OS store: {_SECURE_BACKENDS[path]}", limit)
    if path == "keyring.backends.chainer.ChainerBackend":
        chained = tuple(class_path(b) for b in getattr(backend, "backends", ()))
        if not chained:
            return BackendReport(name, path, False, "keyring found no backend to chain: there is no keyring to "
                                 "store secrets in", None, chained)
        insecure = [c for c in chained if c not in _SECURE_BACKENDS]
        if insecure:
            # Reads go through every chained backend, so one file-based backend among them could
            # serve (or receive) the secret.
            return BackendReport(name, path, False, "the chained backends include ones that are not a secure OS "
                                 f"store: {', '.join(insecure)}", None, chained)
        limits = [_SIZE_LIMITS[c] for c in chained if c in _SIZE_LIMITS]
        chain_limit = size_limit or (min(limits, key=lambda x: x.max_bytes) if limits else None)
        return BackendReport(name, path, True, "a chain of secure OS stores", chain_limit, chained)
    if path == "keyring.backends.null.Keyring":
        return BackendReport(name, path, False, "the null keyring silently stores nothing (it is chosen by a "
                             "keyringrc.cfg or PYTHON_KEYRING_BACKEND setting)")
    if path == "keyring.backends.fail.Keyring":
        return BackendReport(name, path, False, _no_backend_reason())
    if path.startswith("keyrings.alt."):
        return BackendReport(name, path, False, "keyrings.alt keeps secrets in a file (plaintext or weakly "
                             "encrypted), not in a secure OS store")
    return BackendReport(name, path, False, f"{path} is not a backend the companion knows to be a secure OS store")


# --------------------------------------------------------------------------------------------
# Why there is no backend (Linux: the usual reasons are about D-Bus)


def _is_freedesktop() -> bool:
    return sys.platform not in ("darwin", "win32", "cygwin")


def _no_backend_reason() -> str:
    return _diagnose_missing_backend().message


def _diagnose_missing_backend() -> KeyringUnavailable:
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


# --------------------------------------------------------------------------------------------
# Time-bounded calls


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


def _translate(exc: BaseException, what: str, backend_name: str) -> KeyringUnavailable:
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
        return _diagnose_missing_backend()
    if kind == "SecretServiceNotAvailableException" or isinstance(exc, (ConnectionError, FileNotFoundError)):
        # The bus or the service went away after the backend was chosen: say which.
        return _diagnose_missing_backend()
    return KeyringFailure(f"the keyring ({backend_name}) failed while {what}: {kind}: {detail}")


# --------------------------------------------------------------------------------------------
# The adapter


class KeyringAdapter:
    """A secure keyring backend with time-bounded get/set/delete; built by :meth:`open`.

    Calls return plain values or raise a :class:`KeyringUnavailable` subclass. After a timeout
    the adapter refuses further calls at once: the backend is stuck, and queueing more calls
    behind it would only multiply the wait.
    """

    def __init__(self, backend: KeyringBackend, report: BackendReport, timeout_s: float) -> None:
        self.backend = backend
        self.report = report
        self.timeout_s = timeout_s
        self._stuck: KeyringTimeout | None = None

    @classmethod
    def open(
        cls,
        backend: KeyringBackend | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        size_limit: SizeLimit | None = None,
        trusted: bool = False,
    ) -> KeyringAdapter:
        """The backend to use, refused unless it is a secure OS store.

        Args:
            backend: a ``keyring`` backend; None means keyring's own choice (``get_keyring()``,
                which honours ``keyring.set_keyring()``, keyringrc.cfg and PYTHON_KEYRING_BACKEND).
            timeout_s: the bound on every call, detection included.
            size_limit: overrides the per-entry limit detected from the class.
            trusted: vouch for a backend the companion does not know (tests, embedders).

        Raises:
            InsecureBackend, NoSessionBus, NoKeyringService: no secure store to write to.
            KeyringTimeout: detecting the backend hung.
        """
        if backend is None:
            backend = detect_backend(timeout_s)
        report = classify(backend, size_limit, trusted)
        if not report.secure:
            if report.class_path in ("keyring.backends.fail.Keyring",) or (
                report.class_path == "keyring.backends.chainer.ChainerBackend" and not report.chained
            ):
                raise _diagnose_missing_backend()
            raise InsecureBackend(
                f"the keyring backend in use ({report.name}) is not a secure OS store: {report.reason}. "
                "Nothing was copied: the companion does not put tokens where they are not protected"
            )
        return cls(backend, report, timeout_s)

    @property
    def size_limit(self) -> SizeLimit | None:
        return self.report.size_limit

    def _call(self, function: Callable[[], _T], what: str) -> _T:
        if self._stuck is not None:
            raise self._stuck
        try:
            return call_with_timeout(function, self.timeout_s, what)
        except KeyringTimeout as exc:
            self._stuck = exc
            raise
        except Exception as exc:  # translated into the typed error with words for the user
            raise _translate(exc, what, self.report.name) from None

    def get(self, service: str, account: str) -> str | None:
        """The value stored under (service, account), or None."""
        return self._call(lambda: self.backend.get_password(service, account), f"reading {service}/{account}")

    def set(self, service: str, account: str, value: str) -> None:
        """Store ``value``; a backend refusing it for its size raises :class:`SecretTooLarge`."""
        limit = self.size_limit
        if limit is not None and not limit.fits(value):
            raise SecretTooLarge(
                f"{service}/{account}: {limit.size_of(value)} bytes exceed the {limit.max_bytes}-byte limit "
                f"of {self.report.name}"
            )
        self._call(lambda: self.backend.set_password(service, account, value), f"writing {service}/{account}")

    def delete(self, service: str, account: str) -> bool:
        """Delete the entry; False when there was none (keyring raises PasswordDeleteError then)."""
        def run() -> bool:
            from keyring.errors import PasswordDeleteError

            try:
                self.backend.delete_password(service, account)
            except PasswordDeleteError:
                return False
            return True

        return self._call(run, f"deleting {service}/{account}")


def detect_backend(timeout_s: float = DEFAULT_TIMEOUT_S) -> KeyringBackend:
    """keyring's choice of backend, found within the time bound (detection talks to D-Bus)."""

    def run() -> KeyringBackend:
        import keyring

        return keyring.get_keyring()

    try:
        return call_with_timeout(run, timeout_s, "looking for a keyring backend")
    except KeyringUnavailable:
        raise
    except Exception as exc:  # the library loads a backend named in the environment or a config file
        named = os.environ.get("PYTHON_KEYRING_BACKEND")
        where = f"PYTHON_KEYRING_BACKEND={named}" if named else "the keyring configuration (keyringrc.cfg)"
        raise KeyringFailure(
            f"the keyring backend chosen by {where} cannot be used ({type(exc).__name__}: {redact(str(exc))}); "
            "name an installed backend there, or remove the setting to let the companion pick the system keyring"
        ) from exc


def backend_report(
    timeout_s: float = DEFAULT_TIMEOUT_S,
    backend: KeyringBackend | None = None,
    size_limit: SizeLimit | None = None,
    trusted: bool = False,
) -> BackendReport:
    """The backend in use and its health, for display; never raises a keyring error.

    A detection that times out or fails is reported as a refused backend with the reason.
    """
    try:
        found = backend if backend is not None else detect_backend(timeout_s)
    except KeyringUnavailable as exc:
        return BackendReport("", "", False, exc.message)
    return classify(found, size_limit, trusted)


# --------------------------------------------------------------------------------------------
# The write / read / delete probe of ``doctor``


@dataclass(frozen=True)
class ProbeResult:
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
        return self.write == self.read == self.delete == "ok"

    def to_json(self) -> dict[str, Any]:
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
