"""A real, private Secret Service for the keyring tests: gnome-keyring in its own D-Bus session.

:func:`start_secret_service` starts ``dbus-daemon --session`` on a socket in a temp dir, with a
configuration that activates no services (so nothing but our daemon can answer for
``org.freedesktop.secrets``), then ``gnome-keyring-daemon --foreground --components=secrets``,
unlocked with a throwaway password from stdin (the first unlock creates the ``login``
collection), its files under a temp ``XDG_DATA_HOME``. Neither process sees ``DISPLAY`` or
``WAYLAND_DISPLAY``: a locked keyring must fail fast rather than open a prompt nobody answers
(docs/testing.md §2). Both are stopped by :meth:`SecretService.stop`.

Missing binaries are a test failure, never a skip: the suite's promise is a real keyring.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.processes import stop_process

PASSWORD = "ci-throwaway"
READY_TIMEOUT_S = 15.0
SECRETS_BUS_NAME = "org.freedesktop.secrets"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

#: Variables that would let the daemons reach a real desktop (and pop up a real prompt).
_DESKTOP_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL",
                      "SSH_AUTH_SOCK", "XDG_SESSION_TYPE")


def _require(binary: str) -> str:
    found = shutil.which(binary)
    if found is None:
        pytest.fail(f"{binary} is not installed: the keyring tests need a real Secret Service "
                    "(scripts/install-system-deps.sh installs dbus and gnome-keyring)", pytrace=False)
    return found


@dataclass
class SecretService:
    """A running private session bus with gnome-keyring on it.

    Attributes:
        address: the bus address, for ``DBUS_SESSION_BUS_ADDRESS``.
        root: the temp dir holding the socket, the bus config and the keyring's files.
        env: an environment for child processes: the bus address, no display variables.
    """

    address: str
    root: Path
    env: dict[str, str]
    bus: subprocess.Popen[bytes]
    daemon: subprocess.Popen[bytes] | None = None
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop the daemon, then the bus; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for process in (self.daemon, self.bus):
            if process is None or process.poll() is not None:
                continue
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)  # a frozen daemon cannot handle SIGTERM
            stop_process(process)
        if self.bus.stdout is not None:
            self.bus.stdout.close()

    def lock_collections(self) -> None:
        """Lock every collection, as a screen lock or `secret-tool lock` would."""
        import secretstorage

        with _session_env(self.address), closing(secretstorage.dbus_init()) as conn:
            for collection in secretstorage.get_all_collections(conn):
                collection.lock()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """The keyring daemon stopped with SIGSTOP: every call to it blocks, like a hung prompt."""
        assert self.daemon is not None
        os.kill(self.daemon.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.daemon.pid, signal.SIGCONT)


@contextmanager
def _session_env(address: str) -> Iterator[None]:
    previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous


_PR_SET_PDEATHSIG = 1
# Looked up before any fork: the child of a multi-threaded parent should run as little as possible.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to the daemon when the test process dies, even by SIGKILL,
    # so an interrupted run leaves no bus or keyring daemon behind.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney import DBus, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    with closing(open_dbus_connection(bus=address)) as conn:
        reply = conn.send_and_get_reply(new_method_call(DBus(), "NameHasOwner", "s", (name,)), timeout=5)
        return bool(reply.body[0])


def _default_collection_unlocked(address: str) -> bool:
    import secretstorage

    with _session_env(address), closing(secretstorage.dbus_init()) as conn:
        try:
            return not secretstorage.get_default_collection(conn).is_locked()
        except secretstorage.exceptions.SecretStorageException:
            return False


def start_secret_service(root: Path, unlock: bool = True) -> SecretService:
    """Start a private bus and gnome-keyring in ``root``; unlocked unless ``unlock`` is False.

    Without ``unlock`` the daemon has no ``login`` collection and no password: every keyring
    call needs a prompt, which (without a display) is dismissed, the "locked keyring" case.

    Raises:
        pytest.fail: a binary is missing or the service did not come up in time.
    """
    dbus_daemon = _require("dbus-daemon")
    keyring_daemon = _require("gnome-keyring-daemon")
    root.mkdir(parents=True, exist_ok=True)
    runtime = root / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    socket = root / "bus.socket"
    config = root / "session.conf"
    config.write_text(_BUS_CONFIG.format(socket=socket), encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if k not in _DESKTOP_VARIABLES}
    env.update({"XDG_DATA_HOME": str(root / "data"), "XDG_RUNTIME_DIR": str(runtime),
                "XDG_CONFIG_HOME": str(root / "config")})
    bus = subprocess.Popen(
        [dbus_daemon, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, preexec_fn=_die_with_parent,
    )
    assert bus.stdout is not None
    address = bus.stdout.readline().decode().strip()
    if not address:
        bus.kill()
        bus.stdout.close()
        pytest.fail(f"dbus-daemon did not start (exit code {bus.wait(5)})", pytrace=False)
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    service = SecretService(address=address, root=root, env=env, bus=bus)
    try:
        command = [keyring_daemon, "--foreground", "--components=secrets"]
        if unlock:
            command.insert(2, "--unlock")
        service.daemon = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, env=env, preexec_fn=_die_with_parent)
        assert service.daemon.stdin is not None
        if unlock:
            service.daemon.stdin.write(PASSWORD.encode())
        service.daemon.stdin.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not (_name_has_owner(address, SECRETS_BUS_NAME)
                   and (not unlock or _default_collection_unlocked(address))):
            if service.daemon.poll() is not None:
                pytest.fail(f"gnome-keyring-daemon exited with {service.daemon.returncode}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"gnome-keyring did not come up within {READY_TIMEOUT_S:g} s", pytrace=False)
            time.sleep(0.02)
    except BaseException:
        service.stop()
        raise
    return service
