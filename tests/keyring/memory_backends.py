"""In-memory ``keyring`` backends for tests where the OS keyring is not the point.

Their ``priority`` raises, so keyring's own detection never picks them: they are used only
where a test selects them with ``keyring.set_keyring()``.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

#: ``CRED_MAX_CREDENTIAL_BLOB_SIZE``: Windows refuses a credential blob over 5 * 512 bytes.
WINDOWS_BLOB_LIMIT = 2560


class CredWriteError(OSError):
    """What pywin32-ctypes raises from ``CredWrite`` for an oversize blob (WinError 1783)."""

    winerror = 1783
    funcname = "CredWrite"

    def __init__(self) -> None:
        super().__init__(1783, "The stub received bad data.")


class MemoryKeyring(KeyringBackend):
    """A dict keyed by (service, username)."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("a test backend: selected only with keyring.set_keyring()")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("No such password!")

    def accounts(self, service: str) -> set[str]:
        return {user for svc, user in self.entries if svc == service}


class WindowsLikeKeyring(MemoryKeyring):
    """Enforces Windows Credential Manager's limit the way it does.

    keyring writes the blob as UTF-16-LE, and a blob over 2,560 bytes makes ``CredWrite`` fail.
    """

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > WINDOWS_BLOB_LIMIT:
            raise CredWriteError()
        super().set_password(service, username, password)


class BlockingKeyring(MemoryKeyring):
    """Every read waits until ``release`` is set: a keyring stuck behind a prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait()
        return super().get_password(service, username)


class ForgetfulKeyring(MemoryKeyring):
    """Accepts writes and returns something else: what a broken backend would do."""

    def get_password(self, service: str, username: str) -> str | None:
        value = super().get_password(service, username)
        return None if value is None else value[::-1] + "?"
