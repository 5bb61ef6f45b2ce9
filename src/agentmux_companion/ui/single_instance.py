"""One companion per user and data folder: a second launch brings the first one forward.

The first instance listens on a local socket (a Unix socket or a Windows named pipe) whose name is
derived from the user and the companion's data folder, so two users on one machine, or two test
runs with private homes, never see each other. A later launch connects, says ``activate`` and exits.
"""

from __future__ import annotations

import getpass
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from agentmux_companion.core.sha256 import sha256_hex

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
_CONNECT_TIMEOUT_MS = 500


def server_name(data_dir: Path) -> str:
    """The local socket name for this user and data folder (short: Unix socket paths are limited)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the data folder still separates
        user = "unknown"
    digest = sha256_hex(f"{user}\0{data_dir.resolve()}".encode())[:16]
    return f"agentmux-companion-{digest}"


def ask_running_instance_to_activate(name: str) -> bool:
    """Tell a running instance to come forward; False when none answers.

    Uses blocking socket calls, so it works before any QApplication exists (a second launch
    exits without paying for the GUI's start-up).
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(_CONNECT_TIMEOUT_MS):
        return False
    socket.write(ACTIVATE)
    socket.flush()  # usually writes everything at once; otherwise wait for the rest
    if socket.bytesToWrite():
        socket.waitForBytesWritten(_CONNECT_TIMEOUT_MS)
    delivered = socket.bytesToWrite() == 0
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(_CONNECT_TIMEOUT_MS)
    return bool(delivered)


class SingleInstance(QObject):
    """The primary instance's listening end.

    Signals:
        activation_requested(): another launch asked this one to come forward.
    """

    activation_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        # Only this user may connect (on Unix the socket file is 0700-like).
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)

    def listen(self) -> bool:
        """Start listening; a socket file left by a crashed instance is removed first."""
        if self._server.listen(self.name):
            return True
        # Only reached after ask_running_instance_to_activate found nobody answering: the name
        # is a stale socket file from a killed instance.
        QLocalServer.removeServer(self.name)
        ok = self._server.listen(self.name)
        if not ok:
            log.warning("single instance: cannot listen on %s: %s", self.name, self._server.errorString())
        return bool(ok)

    def close(self) -> None:
        """Stop listening for other launches."""
        self._server.close()

    @Slot()
    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    @Slot()
    def _on_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data())
            if line == ACTIVATE:
                log.info("another launch asked this instance to come forward")
                self.activation_requested.emit()
