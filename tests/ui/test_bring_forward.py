"""Bring forward a minimized or hidden window (issue #12).

A second launch, the tray's "Review…" and a click on the icon restore it and raise it. Offscreen
here; under Xvfb with a real window manager in ``test_bring_forward_xvfb.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from agentmux_companion.ui.controller import Controller, ControllerOptions
from agentmux_companion.ui.single_instance import SingleInstance, ask_running_instance_to_activate
from tests.ui.conftest import MakeController, start_and_scan


def review(controller: Controller) -> None:
    assert controller.tray is not None
    controller.tray.rebuild_menu()
    action = controller.tray.action("review")
    assert action is not None
    action.trigger()


def click_icon(controller: Controller) -> None:
    assert controller.tray is not None
    controller.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)


@pytest.mark.parametrize("bring", [review, click_icon], ids=["review", "icon"])
@pytest.mark.parametrize("away", ["minimized", "hidden"])
def test_tray_brings_the_window_back(
    qtbot: QtBot, make_controller: MakeController, bring: Callable[[Controller], None], away: str
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    assert window.isVisible()
    if away == "minimized":
        window.showMinimized()
        qtbot.waitUntil(window.isMinimized)
    else:
        window.reject()
        assert not window.isVisible()
    bring(controller)
    qtbot.waitUntil(lambda: window.isVisible() and not window.isMinimized(), timeout=5_000)


def test_a_second_launch_restores_a_minimized_window(qtbot: QtBot, make_controller: MakeController) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    instance = SingleInstance(f"agentmux-companion-test-{id(controller):x}")
    assert instance.listen()
    instance.serve()
    instance.activation_requested.connect(controller.show_window)
    try:
        window.showMinimized()
        qtbot.waitUntil(window.isMinimized)
        with qtbot.waitSignal(instance.activation_requested, timeout=5_000):
            assert ask_running_instance_to_activate(instance.name)
        qtbot.waitUntil(lambda: window.isVisible() and not window.isMinimized(), timeout=5_000)
    finally:
        instance.close()
