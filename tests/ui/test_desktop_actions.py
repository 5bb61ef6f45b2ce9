"""The tray's desktop actions say when they fail, and About says what and where (issue #12).

Every message in the window offers "Copy details", redacted.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from agentmux_companion import __version__
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.dialogs import HOMEPAGE
from agentmux_companion.ui.messages import Level, UserMessage
from tests.ui.conftest import MakeController, start_and_scan


def test_open_without_an_opener_says_so_with_the_path(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    # Offscreen Qt has no desktop services and no URL handler is installed: nothing can open a folder,
    # as on a desktop without xdg-open.
    controller = make_controller(options=ControllerOptions(use_tray=True, first_launch_window=False))
    start_and_scan(qtbot, controller)
    assert controller.tray is not None
    controller.tray.rebuild_menu()
    action = controller.tray.action("open_agentmux")
    assert action is not None
    with qtbot.waitSignal(controller.funnel.message_posted, timeout=5_000) as posted:
        action.trigger()
    message = posted.args[0]
    assert message.title == "Could not open AgentMux's folder"
    assert str(sandbox.agentmux_root) in message.text


def test_about_shows_version_homepage_licence_and_log_folder(
    qtbot: QtBot, make_controller: MakeController, paths: AppPaths
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    controller.show_about()
    dialog = controller.desktop.about_dialog
    assert dialog is not None
    assert dialog.isVisible()
    text = dialog.label.text()
    for fact in (f"AgentMux Companion {__version__}", HOMEPAGE, "Licence: Apache-2.0", str(paths.log_dir)):
        assert fact in text


def test_every_message_offers_copy_details_redacted(qtbot: QtBot, make_controller: MakeController) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    secret = "sk-ant-oat01-" + "x" * 40
    controller.funnel.post(UserMessage(Level.ERROR, "The AgentMux store is busy", f"token {secret} in the way"))
    banner = window.banner
    assert banner.isVisible()
    assert banner.copy_button.isVisible()
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(banner.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("The AgentMux store is busy\n")
    assert "in the way" in copied
    assert secret not in copied
