"""One companion per user and data folder: a second launch brings the first one forward.

The first instance listens on a local socket (a Unix socket or a Windows named pipe) whose name is
derived from the user and the companion's data folder, so two users on one machine, or two test
runs with private homes, never see each other. A later launch connects, says ``activate`` and exits.

On Unix the asking and the binding are the standard library's: a launch then loads no QtNetwork
on its way to the first plan (its libraries, about 7 ms, docs/benchmarks.md). The socket is bound
at once, where Qt's ``QLocalServer`` puts a socket of that name (so a companion of an earlier
version still finds it), and handed to a ``QLocalServer`` once the first plan is shown
(:meth:`SingleInstance.serve`); a launch in between waits in the socket's backlog and is answered
then. On Windows, ``QLocalSocket`` and ``QLocalServer`` do all of it (named pipes).
"""

from __future__ import annotations

import _socket
import contextlib
import errno
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from agentmux_companion.core.sha256 import sha256_hex

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
_CONNECT_TIMEOUT_MS = 500
_BACKLOG = 8  # launches that may wait while the first plan is shown
_WINDOWS = sys.platform == "win32"


def server_name(data_dir: Path) -> str:
    """The local socket name for this user and data folder (short: Unix socket paths are limited)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the data folder still separates
        user = "unknown"
    digest = sha256_hex(f"{user}\0{data_dir.resolve()}".encode())[:16]
    return f"agentmux-companion-{digest}"


def socket_path(name: str) -> Path:
    """Where the Unix socket of ``name`` lives: where ``QLocalServer.listen(name)`` puts it (``QDir::tempPath()``)."""
    return Path(os.path.normpath(os.environ.get("TMPDIR") or "/tmp")) / name


def ask_running_instance_to_activate(name: str) -> bool:
    """Tell a running instance to come forward; False when none answers.

    Blocking calls, so it works before any QApplication exists (a second launch exits without
    paying for the GUI's start-up).
    """
    if _WINDOWS:
        return _ask_through_named_pipe(name)
    return _connect_and_send(str(socket_path(name)), ACTIVATE)


def _someone_listens(path: str) -> bool:
    return _connect_and_send(path, b"")


def _unix_stream_socket() -> _socket.socket:
    # The standard library's own _socket, which the socket module wraps: importing socket builds
    # four enums from _socket's constants (some 17 million instructions, 3 ms, on a normal
    # launch's way to its first plan), and these few calls need none of them.
    return _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)


def _connect_and_send(path: str, message: bytes) -> bool:
    """Connect to the Unix socket at ``path`` and send ``message``; False when nobody listens there."""
    client = _unix_stream_socket()
    try:
        client.settimeout(_CONNECT_TIMEOUT_MS / 1000)
        client.connect(path)
        client.sendall(message)
    except OSError:  # no socket, a stale one nobody listens on (refused), or no answer in time
        return False
    finally:
        client.close()
    return True


def _ask_through_named_pipe(name: str) -> bool:
    from PySide6.QtNetwork import QLocalSocket

    client = QLocalSocket()
    client.connectToServer(name)
    if not client.waitForConnected(_CONNECT_TIMEOUT_MS):
        return False
    client.write(ACTIVATE)
    client.flush()  # usually writes everything at once; otherwise wait for the rest
    if client.bytesToWrite():
        client.waitForBytesWritten(_CONNECT_TIMEOUT_MS)
    delivered = client.bytesToWrite() == 0
    client.disconnectFromServer()
    if client.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        client.waitForDisconnected(_CONNECT_TIMEOUT_MS)
    return bool(delivered)


class SingleInstance(QObject):
    """The primary instance's listening end: :meth:`listen` takes the name, :meth:`serve` answers.

    Signals:
        activation_requested(): another launch asked this one to come forward.
    """

    activation_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None
        self._bound: _socket.socket | None = None  # Unix: bound and listening, not yet served

    def listen(self) -> bool:
        """Take the name: later launches find this instance (and wait until :meth:`serve`).

        A socket file left by a killed instance is replaced: this runs only after
        :func:`ask_running_instance_to_activate` found nobody answering on it.
        """
        if _WINDOWS:
            return self._serve_named_pipe()
        path = str(socket_path(self.name))
        bound = _unix_stream_socket()
        try:
            try:
                self._bind_for_this_user_only(bound, path)
            except OSError as exc:
                # Taken: a file left by a killed instance is replaced, but never the socket of one
                # that started since the question was asked (both launches would then run).
                if exc.errno != errno.EADDRINUSE or _someone_listens(path):
                    raise
                os.unlink(path)
                self._bind_for_this_user_only(bound, path)
            bound.listen(_BACKLOG)
        except OSError as exc:
            bound.close()
            log.warning("single instance: cannot listen on %s: %s", path, exc)
            return False
        self._bound = bound
        return True

    def serve(self) -> None:
        """Answer the launches that asked since :meth:`listen`, and every later one (loads QtNetwork)."""
        if self._bound is None:
            return
        from PySide6.QtNetwork import QLocalServer

        server = QLocalServer(self)
        server.newConnection.connect(self._on_new_connection)
        if server.listen(self._bound.fileno()):
            self._bound.detach()  # Qt owns the socket now, and removes its file on close
            self._server = server
        else:
            log.warning("single instance: cannot serve on %s: %s", self.name, server.errorString())
            self.close()
        self._bound = None

    @staticmethod
    def _bind_for_this_user_only(bound: _socket.socket, path: str) -> None:
        # The socket file is created with the process's umask: only this user may connect, as
        # QLocalServer's UserAccessOption makes it. No other thread runs yet to see the umask.
        previous = os.umask(0o077)
        try:
            bound.bind(path)
        finally:
            os.umask(previous)

    def _serve_named_pipe(self) -> bool:
        from PySide6.QtNetwork import QLocalServer

        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self._on_new_connection)
        ok = server.listen(self.name)
        if not ok:  # a name left by a crashed instance (nobody answered on it): take it over
            QLocalServer.removeServer(self.name)
            ok = server.listen(self.name)
        if not ok:
            log.warning("single instance: cannot listen on %s: %s", self.name, server.errorString())
            return False
        self._server = server
        return True

    def close(self) -> None:
        """Stop listening for other launches (the socket file goes with it)."""
        if self._server is not None:
            self._server.close()
        if self._bound is not None:
            with contextlib.suppress(OSError):
                self._bound.close()
            with contextlib.suppress(OSError):
                os.unlink(socket_path(self.name))
            self._bound = None

    @Slot()
    def _on_new_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            connection = self._server.nextPendingConnection()
            connection.readyRead.connect(self._on_ready_read)
            connection.disconnected.connect(connection.deleteLater)
            if connection.bytesAvailable():
                self._read(connection)

    @Slot()
    def _on_ready_read(self) -> None:
        from PySide6.QtNetwork import QLocalSocket

        connection = self.sender()
        if isinstance(connection, QLocalSocket):
            self._read(connection)

    def _read(self, connection: QLocalSocket) -> None:
        while connection.canReadLine():
            line = bytes(connection.readLine().data())
            if line == ACTIVATE:
                log.info("another launch asked this instance to come forward")
                self.activation_requested.emit()
