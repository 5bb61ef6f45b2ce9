"""Minimize the plan window under a real window manager, then bring it back three ways.

Run by ``test_bring_forward_xvfb.py`` in a subprocess on an Xvfb display with openbox and trayer
(``DISPLAY`` set, a private ``HOME``). For each way — the tray's "Review…", a click on the tray
icon, and a real second launch of ``agentmux-companion gui`` — the window is first iconified by the
window manager (its ``WM_STATE`` says Iconic), then must be mapped again (``WM_STATE`` Normal) and
be the active window. Prints one ``restored <way>`` line per way; exits 1 with the reason otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from agentmux_companion.core.migration.plan import now_ms
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import build_demo_sandbox
from agentmux_companion.ui.controller import Controller, ControllerOptions
from agentmux_companion.ui.single_instance import SingleInstance, server_name


def pump(app: QApplication, until: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit(f"bring-forward scenario: {what} did not happen in {timeout_s:.0f} s")
        app.processEvents()
        time.sleep(0.02)


def wm_state(window_id: int) -> str:
    """The window manager's ICCCM state of a client window: Normal, Iconic, Withdrawn or ''."""
    output = subprocess.run(["xprop", "-id", str(window_id), "WM_STATE"], capture_output=True, text=True,
                            check=False).stdout
    for line in output.splitlines():
        if "window state:" in line:
            return line.split(":", 1)[1].strip()
    return ""


def main() -> int:
    app = QApplication(["agentmux-companion"])
    app.setQuitOnLastWindowClosed(False)
    pump(app, QSystemTrayIcon.isSystemTrayAvailable, "a system tray appearing")
    with tempfile.TemporaryDirectory(prefix="agentmux-companion-forward-") as tmp:
        sandbox = build_demo_sandbox(Path(tmp) / "demo", now_ms())
        paths = AppPaths.resolve(home=sandbox.home, agentmux_root=sandbox.agentmux_root,
                                 env={COMPANION_DIR_ENV: str(sandbox.companion_dir)})
        controller = Controller(paths, load_registry(), ControllerOptions(use_tray=True))
        # The second launch's way in: the single instance of this user's real data folder, as app.py sets it up.
        instance = SingleInstance(server_name(AppPaths.resolve(env=dict(os.environ)).data_dir))
        if not instance.listen():
            raise SystemExit("bring-forward scenario: cannot listen for a second launch")
        instance.serve()
        instance.activation_requested.connect(controller.show_window)
        controller.start()
        pump(app, lambda: controller.plan is not None and controller.window is not None
             and controller.window.isVisible(), "the first launch's window")
        window = controller.window
        assert window is not None
        assert controller.tray is not None
        window_id = int(window.winId())
        pump(app, lambda: wm_state(window_id) == "Normal", "the window mapped by the window manager")

        def review() -> None:
            assert controller.tray is not None
            controller.tray.rebuild_menu()
            action = controller.tray.action("review")
            assert action is not None
            action.trigger()

        def icon() -> None:
            assert controller.tray is not None
            controller.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)

        def second_launch() -> None:
            second = subprocess.Popen([sys.executable, "-m", "agentmux_companion", "gui"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            pump(app, lambda: second.poll() is not None, "the second launch exiting")
            _out, err = second.communicate()
            if second.returncode != 0 or "asked to come forward" not in err:
                raise SystemExit(f"bring-forward scenario: second launch: {second.returncode} {err}")

        def minimize(name: str) -> None:
            # The setup of each round, not what is tested: a window manager may drop an iconify
            # request that comes while it is still settling the window it has just mapped or
            # raised (seen once in CI: no Iconic state in 15 s), so the request is repeated.
            deadline = time.monotonic() + 15.0
            while time.monotonic() < deadline:
                window.showMinimized()
                try:
                    pump(app, lambda: wm_state(window_id) == "Iconic", f"{name}: the window iconified", 3.0)
                except SystemExit:
                    continue
                return
            raise SystemExit(f"bring-forward scenario: {name}: the window iconified did not happen in 15 s")

        for name, bring in (("review", review), ("icon", icon), ("second-launch", second_launch)):
            minimize(name)
            bring()
            pump(app, lambda: wm_state(window_id) == "Normal" and not window.isMinimized()
                 and window.isActiveWindow(), f"{name}: the window restored and active")
            print(f"restored {name}", flush=True)
        instance.close()
        controller.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
