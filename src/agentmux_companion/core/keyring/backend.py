"""Which keyring backend is in use, whether the companion will write to it, and the adapter over it.

Everything the keyring snapshot does to the OS keyring goes through :class:`KeyringAdapter`, so
three rules hold everywhere:

* The ``keyring`` library is imported only when a keyring is actually used (inside functions):
  the CLI's ``plan`` and the tray's start-up never pay for it, and never touch D-Bus.
* A backend that is not a secure OS store (``fail``, ``null``, a plaintext file, an empty
  chainer, anything the companion does not know) is refused with an explanation; a copy never
  "succeeds" into nothing or into a file.
* Every call is time-bounded and its failures typed (:mod:`.calls`, :mod:`.failures`): a locked
  keyring waiting for a prompt nobody can see becomes a :class:`~.failures.KeyringTimeout`.

This module is the backend's choice and health (:func:`classify`, :func:`detect_backend`,
:func:`backend_report`) and the adapter built on them; the doctor's round trip is :mod:`.probe`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.keyring.calls import call_with_timeout, translate_error
from agentmux_companion.core.keyring.failures import (
    InsecureBackend,
    KeyringFailure,
    KeyringTimeout,
    SecretTooLarge,
    diagnose_missing_backend,
    no_backend_reason,
)
from agentmux_companion.core.log import redact

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

#: AgentMux's own service name for secrets it keeps in the OS keyring (docs/agentmux-store.md §8).
SERVICE = "agentmux"
#: Seconds a single keyring call may take. Generous for a healthy keyring (calls take
#: milliseconds), short enough that a hung one is reported while the user still waits.
DEFAULT_TIMEOUT_S = 10.0

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# What is known about backends


class SizeLimit(NamedTuple):
    """How much one keyring entry holds, measured the way the backend measures it.

    Attributes:
        max_bytes: the largest value, in bytes of ``encoding``.
        encoding: how the backend encodes the text it stores; Windows stores UTF-16, so its
            2,560-byte blob limit is 1,280 UTF-16 code units, not 2,560 characters.
    """

    max_bytes: int
    encoding: str = "utf-16-le"

    def size_of(self, text: str) -> int:
        """The size of ``text`` in bytes as the backend stores it (lone surrogates included)."""
        return len(text.encode(self.encoding, "surrogatepass"))

    def fits(self, text: str) -> bool:
        """Whether ``text`` fits in one entry, or must be chunked."""
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
    """The backend's ``module.Class``: stable across versions, unlike its display name."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


class BackendReport(NamedTuple):
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
        """The report as JSON, as ``doctor`` and the ``keyring`` commands print it (no secret in it)."""
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
        return BackendReport(name, path, False, no_backend_reason())
    if path.startswith("keyrings.alt."):
        return BackendReport(name, path, False, "keyrings.alt keeps secrets in a file (plaintext or weakly "
                             "encrypted), not in a secure OS store")
    return BackendReport(name, path, False, f"{path} is not a backend the companion knows to be a secure OS store")


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
                raise diagnose_missing_backend()
            raise InsecureBackend(
                f"the keyring backend in use ({report.name}) is not a secure OS store: {report.reason}. "
                "Nothing was copied: the companion does not put tokens where they are not protected"
            )
        return cls(backend, report, timeout_s)

    @property
    def size_limit(self) -> SizeLimit | None:
        """The backend's per-entry limit (a longer secret is chunked), or None when it has none."""
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
            raise translate_error(exc, what, self.report.name) from None

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
    """The ``keyring`` library's choice of backend, found within the time bound (detection talks to D-Bus)."""

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
