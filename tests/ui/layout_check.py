"""Does the plan window's layout hold at 1024×700 in every state?

Used in-process by ``test_layout.py`` and, for 2× scale, in a subprocess run as
``python -m tests.ui.layout_check`` with ``QT_SCALE_FACTOR=2`` (the scale factor is fixed when the
QApplication starts).

Prints one line per problem (nothing when the layout holds) and exits 1 if there is any.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QWidget

from agentmux_companion.core.migration.plan import now_ms
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import build_demo_sandbox
from agentmux_companion.ui.controller import Controller, ControllerOptions
from agentmux_companion.ui.messages import Level, UserMessage
from agentmux_companion.ui.plan_window import PlanWindow

SIZE = (1024, 700)


def pump(until: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout_s:.0f} s")
        QApplication.processEvents()
        time.sleep(0.01)


def settle() -> None:
    end = time.monotonic() + 0.15
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def inside(window: QWidget, widget: QWidget) -> bool:
    """Whether ``widget`` is drawn whole inside the window (not clipped off its edge)."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return window.rect().contains(QRect(top_left, widget.size()))


def problems_in(window: PlanWindow, state: str) -> list[str]:
    found = []
    table = window.plan_page.providers_table
    if state in ("plan", "error"):
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        if table.rowCount() == 0 or table.viewport().height() < rows:
            found.append(f"{state}: the logins table shows {table.viewport().height()} px of its {rows} px of rows")
        for widget in (window.plan_page.stores_list, table, window.migrate_button):
            if not inside(window, widget):
                found.append(f"{state}: {widget.accessibleName()} is cut off")
        path = window.plan_page.backup_value
        if path.label.text() != path.full_text() and "…" not in path.label.text():
            found.append(f"{state}: the backup path is cut, not elided")
    if state == "working" and not (window.progress.isVisible() and inside(window, window.progress)):
        found.append("working: the progress is not shown whole")
    if state == "result":
        page = window.result_page
        for widget in (page.finish_button, page.undo_button, page.open_backup_button):
            if not widget.isVisible() or not inside(window, widget):
                found.append(f"result: {widget.accessibleName()} is not shown whole")
        if not page.result_label.isVisible() or page.result_label.height() < page.result_label.heightForWidth(
                page.result_label.width()):
            found.append("result: the result text is cut off")
    return found


def check(controller: Controller, store: Path) -> list[str]:
    """Walk the window through plan, error, working and result at 1024×700; the problems found."""
    window = controller.ensure_window()
    controller.show_window()
    window.resize(*SIZE)
    pump(lambda: controller.plan is not None and not controller.runner.busy, "the first scan")
    settle()
    found = problems_in(window, "plan")
    controller.funnel.post(UserMessage(Level.ERROR, "The AgentMux store is busy", "database is locked\n"
                                       "Another program (usually AgentMux itself) is writing to it. Close AgentMux "
                                       "or wait a moment, then try again."))
    settle()
    found += problems_in(window, "error")
    window.show_working("Migrating…")
    settle()
    found += problems_in(window, "working")
    window.show_idle()
    controller.migrate([store])
    pump(lambda: window.result_page.isVisible() and not controller.runner.busy, "the migration")
    settle()
    found += problems_in(window, "result")
    return found


def main() -> int:
    app = QApplication(["layout-check"])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory(prefix="layout-check-") as tmp:
        sandbox = build_demo_sandbox(Path(tmp) / "a-rather-long-folder-name-for-the-demo" / "demo", now_ms())
        paths = AppPaths.resolve(home=sandbox.home, agentmux_root=sandbox.agentmux_root,
                                 env={COMPANION_DIR_ENV: str(sandbox.companion_dir)})
        controller = Controller(paths, load_registry(), ControllerOptions(use_tray=False))
        controller.start()
        found = check(controller, sandbox.store)
        controller.shutdown()
    print(f"scale {app.devicePixelRatio()}")
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
