"""Screenshots of the tray and the plan window, in light and dark palettes, on a real X display.

Run by ``test_screenshots.py`` in a subprocess with ``DISPLAY`` set (the pytest process itself is
offscreen), or by hand to refresh ``docs/screenshots``::

    python -m tests.ui.screenshot_scenario OUT_DIR X,Y,W,H

where X,Y,W,H is the tray host's panel on the screen. Writes ``tray-{light,dark}.png``, the plan
window at 1024×700 in each state — ``plan``, ``error`` (a busy store's message over the plan),
``working`` and ``result`` — as ``<state>-{light,dark}.png``, and ``keyring-{light,dark}.png`` (the
keyring panel after a migration with the keyring option checked), and prints their names. A
private gnome-keyring (``tests/helpers/secret_service.py``) is the session's keyring, so the
pictures show a real, secure backend whatever machine makes them.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from agentmux_companion.core.errors import StoreBusy
from agentmux_companion.core.migration.plan import now_ms
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import build_demo_sandbox
from agentmux_companion.ui.controller import Controller, ControllerOptions
from agentmux_companion.ui.keyring_health import Health
from agentmux_companion.ui.messages import message_for_error
from tests.helpers.secret_service import start_secret_service

PLAN_SIZE = (1024, 700)  # the smallest screen the window is made for (issue #12)
STATES = ("plan", "error", "working", "result")
KEYRING_SIZE = (900, 460)
TRAY_SHOT = (380, 300)  # the top-right corner: the tray panel and its open menu


def _exposed(widget: QWidget) -> bool:
    handle = widget.windowHandle()
    return widget.isVisible() and handle is not None and handle.isExposed()


def _keyring_checked(plan_window: Any) -> bool:
    return bool(plan_window.plan_page.keyring_backend.health is not Health.CHECKING)


def _pump(app: QApplication, until: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshot scenario: {what} did not happen in {timeout_s:.0f} s")
        app.processEvents()
        time.sleep(0.01)


def _settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def dark_palette() -> QPalette:
    """A dark palette like the desktops' dark themes (Qt's own Fusion colours for dark mode)."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2d30", QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#1f2023", QPalette.ColorRole.AlternateBase: "#2b2d30",
        QPalette.ColorRole.ToolTipBase: "#3a3d41", QPalette.ColorRole.ToolTipText: "#e8e8e8",
        QPalette.ColorRole.Text: "#e8e8e8", QPalette.ColorRole.Button: "#35373b",
        QPalette.ColorRole.ButtonText: "#e8e8e8", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#3d6fb4", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#8ab4f8", QPalette.ColorRole.PlaceholderText: "#9a9a9a",
        QPalette.ColorRole.Mid: "#444649", QPalette.ColorRole.Dark: "#1a1b1d",
        QPalette.ColorRole.Light: "#4a4d52", QPalette.ColorRole.Shadow: "#000000",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8a8a8a"))
    return palette


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0])
    tray_x, tray_y, tray_w, tray_h = (int(v) for v in argv[1].split(","))
    out_dir.mkdir(parents=True, exist_ok=True)

    app = QApplication(["agentmux-companion"])
    app.setStyle("Fusion")  # the same look on every machine the screenshots are made on
    app.setQuitOnLastWindowClosed(False)
    _pump(app, QSystemTrayIcon.isSystemTrayAvailable, "a system tray appearing")

    with tempfile.TemporaryDirectory(prefix="agentmux-companion-shots-") as tmp:
        service = start_secret_service(Path(tmp) / "secret-service")
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = service.address
        try:
            _shoot(app, Path(tmp), out_dir, (tray_x, tray_y, tray_w, tray_h))
        finally:
            service.stop()
    for name in sorted(p.name for p in out_dir.glob("*.png")):
        print(name)
    return 0


def _shoot(app: QApplication, tmp: Path, out_dir: Path, tray: tuple[int, int, int, int]) -> None:
    """The demo in the tray: menu and plan window in both palettes, then migrate and the panel."""
    tray_x, tray_y, tray_w, tray_h = tray
    sandbox = build_demo_sandbox(tmp / "demo", now_ms())
    paths = AppPaths.resolve(home=sandbox.home, agentmux_root=sandbox.agentmux_root,
                             env={COMPANION_DIR_ENV: str(sandbox.companion_dir)})
    options = ControllerOptions(use_tray=True, first_launch_window=False)
    controller = Controller(paths, load_registry(), options)
    scanned: list[object] = []
    controller.scan_finished.connect(scanned.append)
    controller.start()
    _pump(app, lambda: bool(scanned), "the first scan")
    assert controller.tray is not None
    screen = QGuiApplication.primaryScreen()

    for scheme, palette in (("light", app.style().standardPalette()), ("dark", dark_palette())):
        app.setPalette(palette)
        _settle(app)

        # Qt's own notification balloon (no notification daemon on Xvfb) would cover the menu.
        for widget in app.topLevelWidgets():
            if widget.metaObject().className() == "QBalloonTip":
                widget.hide()
        menu = controller.tray.menu
        menu.popup(QPoint(tray_x + tray_w - 260, tray_y + tray_h + 2))
        _pump(app, menu.isVisible, "the tray menu opening")
        _settle(app)
        geometry = screen.geometry()
        shot = screen.grabWindow(0, geometry.width() - TRAY_SHOT[0], 0, *TRAY_SHOT)
        shot.save(str(out_dir / f"tray-{scheme}.png"))
        menu.hide()

        window = controller.ensure_window()
        window.resize(*PLAN_SIZE)
        window.move(0, 40)
        controller.show_window()
        _pump(app, functools.partial(_exposed, window), "the plan window showing")
        _pump(app, functools.partial(_keyring_checked, window), "the keyring check")
        window.plan_page.providers_table.setFocus(Qt.FocusReason.OtherFocusReason)
        window.plan_page.providers_table.selectRow(0)
        _settle(app)
        window.grab().save(str(out_dir / f"plan-{scheme}.png"))
        controller.funnel.post(message_for_error(StoreBusy("database is locked")))
        _settle(app)
        window.grab().save(str(out_dir / f"error-{scheme}.png"))
        window.banner.clear()
        window.show_working(controller.tr("Migrating…"))
        window.show_progress("Backing up stable 0.33.4…")
        _settle(app)
        window.grab().save(str(out_dir / f"working-{scheme}.png"))
        window.show_idle()
        window.hide()
        _settle(app, 0.1)

    # Migrate with the keyring option checked, then the keyring panel from the tray's menu.
    app.setPalette(app.style().standardPalette())
    window = controller.ensure_window()
    controller.show_window()
    window.plan_page.keyring_checkbox.setChecked(True)
    copied: list[object] = []
    controller.keyring_copy_finished.connect(copied.append)
    controller.migrate(window.checked_store_paths())
    _pump(app, lambda: bool(copied) and not controller.runner.busy, "the migration and the keyring copy")
    for scheme, palette in (("light", app.style().standardPalette()), ("dark", dark_palette())):
        app.setPalette(palette)
        _settle(app)
        window.grab().save(str(out_dir / f"result-{scheme}.png"))
    app.setPalette(app.style().standardPalette())
    window.hide()
    controller.show_keyring_panel()
    panel = controller.keyring_panel
    assert panel is not None
    panel.resize(*KEYRING_SIZE)
    panel.move(20, 40)
    _pump(app, lambda: panel.overview is not None and not panel.progress_box.isVisible(), "the keyring panel")
    for scheme, palette in (("light", app.style().standardPalette()), ("dark", dark_palette())):
        app.setPalette(palette)
        panel.table.setFocus(Qt.FocusReason.OtherFocusReason)
        panel.table.selectRow(0)
        _settle(app)
        panel.grab().save(str(out_dir / f"keyring-{scheme}.png"))
    panel.hide()
    controller.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
