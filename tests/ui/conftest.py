"""Fixtures for the GUI tests: a demo sandbox per test and a controller wired to it.

Everything is real: SQLite stores built by ``core.sandbox``, the real controller and widgets
driven by pytest-qt on the offscreen platform (``tests/conftest.py`` sets it).
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agentmux_companion.core.log import setup_logging
from agentmux_companion.core.migration.plan import now_ms
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.providers import ProviderRegistry, load_registry
from agentmux_companion.core.sandbox import DemoSandbox, build_demo_sandbox
from agentmux_companion.ui.controller import Controller, ControllerOptions, PlanBuilder
from agentmux_companion.ui.dialogs import ConfirmDialog
from agentmux_companion.ui.plan_window import PlanWindow


@pytest.fixture(autouse=True)
def no_session_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """No D-Bus session for the GUI (a socket that does not exist), and keyring's choice forgotten.

    The window checks the keyring in the background once it is up; without this, that check
    would ask the developer's (or CI's) real session bus. Tests of the keyring snapshot point
    the bus at a private gnome-keyring instead (``tests/ui/test_keyring_ui.py``). keyring caches
    its backend and the list of viable backends for the process: both are reset, so each test
    detects afresh, and put back afterwards.
    """
    import keyring.core

    address = f"unix:path={tmp_path / 'no-such-bus'}"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    previous = keyring.core._keyring_backend
    keyring.core._keyring_backend = None
    _forget_viable_backends()
    yield address
    keyring.core._keyring_backend = previous
    _forget_viable_backends()
    with warnings.catch_warnings():
        # keyring's SecretService backend leaves a D-Bus socket to the garbage collector when it
        # fails; collect it here so its ResourceWarning cannot fail a later, unrelated test.
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _forget_viable_backends() -> None:
    import keyring.backend

    # jaraco.functools.once keeps the result in the wrapper's ``saved_result`` attribute.
    vars(keyring.backend.get_all_keyring).pop("saved_result", None)


@pytest.fixture
def sandbox(tmp_path: Path) -> DemoSandbox:
    return build_demo_sandbox(tmp_path / "demo", now_ms())


@pytest.fixture
def paths(sandbox: DemoSandbox) -> AppPaths:
    return AppPaths.resolve(
        home=sandbox.home, agentmux_root=sandbox.agentmux_root,
        env={COMPANION_DIR_ENV: str(sandbox.companion_dir)},
    )


@pytest.fixture
def registry() -> ProviderRegistry:
    return load_registry()


MakeController = Callable[..., Controller]


@pytest.fixture
def make_controller(qtbot: QtBot, paths: AppPaths, registry: ProviderRegistry) -> Iterator[MakeController]:
    """Build (not start) controllers; each is shut down and its windows closed at teardown."""
    del qtbot  # requested for its effect: the QApplication, and pytest-qt's per-test checks
    made: list[Controller] = []
    setup_logging(paths.log_file)  # as app.main does before building the controller

    def make(
        *, options: ControllerOptions | None = None, plan_builder: PlanBuilder | None = None,
        app_paths: AppPaths | None = None,
    ) -> Controller:
        controller = Controller(app_paths or paths, registry, options or ControllerOptions(debounce_ms=50),
                                plan_builder=plan_builder)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        controller.shutdown()
        for widget in (controller.window, controller.crash_dialog, controller.dialog):
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        if controller.tray is not None:
            controller.tray.menu.deleteLater()
        controller.deleteLater()
    QApplication.processEvents()
    logger = logging.getLogger("agentmux_companion")
    for handler in [h for h in logger.handlers if getattr(h, "_companion", False)]:
        logger.removeHandler(handler)
        handler.close()


def start_and_scan(qtbot: QtBot, controller: Controller) -> None:
    with qtbot.waitSignal(controller.scan_finished, timeout=20_000):
        controller.start()
    # The first plan's messages, news and watch follow it a turn of the event loop later.
    qtbot.waitUntil(lambda: controller.scanning.plans_followed > 0)


def window_with_plan(qtbot: QtBot, make_controller: MakeController) -> tuple[Controller, PlanWindow]:
    """A controller without a tray that has scanned (so its window shows the plan), and that window."""
    controller = make_controller(options=ControllerOptions(use_tray=False, debounce_ms=50))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    return controller, window


def bundles(store: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(str(store))) as conn:
        return conn.execute("SELECT id, name FROM db_identity_bundles ORDER BY id").fetchall()


class UrlRecorder(QObject):
    """Receives the URLs the app asks the desktop to open (QDesktopServices' own hook)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened_urls() -> Iterator[UrlRecorder]:
    recorder = UrlRecorder()
    # The stubs ask for bytes, but PySide6 6.12 refuses b"open" at run time and takes the str.
    QDesktopServices.setUrlHandler("file", recorder, "open")  # type: ignore[arg-type]
    yield recorder
    QDesktopServices.unsetUrlHandler("file")


def answer(qtbot: QtBot, owner: object, proceed: bool = True) -> ConfirmDialog:
    """Wait for ``owner``'s confirmation (``owner.dialog``) and click its verb button or Cancel."""
    def shown() -> bool:
        dialog = getattr(owner, "dialog", None)
        return isinstance(dialog, ConfirmDialog) and dialog.isVisible()

    qtbot.waitUntil(shown, timeout=10_000)
    dialog = owner.dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, ConfirmDialog)
    qtbot.mouseClick(dialog.proceed_button if proceed else dialog.cancel_button, Qt.MouseButton.LeftButton)
    return dialog
