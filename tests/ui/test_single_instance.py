"""ui/single_instance.py: the name is taken at once, answered once the first plan is shown (Unix).

Real sockets throughout: the standard library's on the asking side and while the name is held,
Qt's ``QLocalServer`` once it serves, and a ``QLocalServer`` listening by name as a companion of
an earlier version does.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalServer
from pytestqt.qtbot import QtBot

from agentmux_companion.ui.single_instance import SingleInstance, ask_running_instance_to_activate, socket_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets; Windows uses Qt's named pipes")


@pytest.fixture
def name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A socket name of this test's own, in a private temporary folder (QDir::tempPath() follows TMPDIR)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return "agentmux-companion-test"


def test_the_socket_is_where_qlocalserver_puts_it(name: str, tmp_path: Path) -> None:
    assert socket_path(name) == tmp_path / name


def test_nobody_answers_before_anyone_listens(name: str) -> None:
    assert not ask_running_instance_to_activate(name)


def test_a_launch_that_asks_before_the_first_plan_is_answered_once_it_is_served(qtbot: QtBot, name: str) -> None:
    instance = SingleInstance(name)
    assert instance.listen()
    try:
        # Held but not served yet: the launch is let in and its line waits in the socket.
        assert ask_running_instance_to_activate(name)
        with qtbot.waitSignal(instance.activation_requested, timeout=5_000):
            instance.serve()
        # Served: a later launch is answered as it comes.
        with qtbot.waitSignal(instance.activation_requested, timeout=5_000):
            assert ask_running_instance_to_activate(name)
    finally:
        instance.close()
    assert not socket_path(name).exists()
    assert not ask_running_instance_to_activate(name)


def test_only_this_user_may_connect(name: str) -> None:
    instance = SingleInstance(name)
    assert instance.listen()
    try:
        mode = os.stat(socket_path(name)).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) & 0o077 == 0
    finally:
        instance.close()


def test_a_socket_left_by_a_killed_instance_is_taken_over(qtbot: QtBot, name: str) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_path(name)))
    stale.close()  # the file stays, nobody listens: what a killed companion leaves
    assert socket_path(name).exists()
    assert not ask_running_instance_to_activate(name)
    instance = SingleInstance(name)
    assert instance.listen()
    try:
        instance.serve()
        with qtbot.waitSignal(instance.activation_requested, timeout=5_000):
            assert ask_running_instance_to_activate(name)
    finally:
        instance.close()


def test_closed_before_serving_leaves_no_socket_behind(name: str) -> None:
    instance = SingleInstance(name)
    assert instance.listen()
    instance.close()
    assert not socket_path(name).exists()


def test_a_running_companion_of_an_earlier_version_is_found(qtbot: QtBot, name: str) -> None:
    # Earlier versions listened with QLocalServer by name; this version's launch must still find them.
    earlier = QLocalServer()
    earlier.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
    assert earlier.listen(name), earlier.errorString()
    try:
        with qtbot.waitSignal(earlier.newConnection, timeout=5_000):
            assert ask_running_instance_to_activate(name)
        connection = earlier.nextPendingConnection()
        qtbot.waitUntil(lambda: connection.canReadLine() or connection.waitForReadyRead(50), timeout=5_000)
        assert bytes(connection.readLine().data()) == b"activate\n"
    finally:
        earlier.close()


def test_the_socket_of_an_instance_that_started_meanwhile_is_never_taken(name: str) -> None:
    # Two launches that both found nobody: the second to bind leaves the first one's socket alone.
    first = SingleInstance(name)
    assert first.listen()
    try:
        second = SingleInstance(name)
        assert not second.listen()
        assert ask_running_instance_to_activate(name)  # still the first one's, and live
    finally:
        first.close()
