"""The demo is a sandbox: nothing outside it is written (issue #12).

Not Start at login, the keyring, the real profile's logs and settings; and the window says which
actions the demo disables.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui.controller import ControllerOptions
from tests.ui.conftest import MakeController, start_and_scan


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a digest of its content."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        found[relative] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


def test_the_demo_writes_nothing_outside_its_sandbox(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, paths: AppPaths, private_home: Path
) -> None:
    # The real profile: the XDG folders of the person at the desktop (private per test, see tests/conftest.py).
    (private_home / ".config").mkdir()
    before = snapshot(private_home)
    controller = make_controller(options=ControllerOptions(use_tray=True, debounce_ms=50, demo_dir=sandbox.root))
    start_and_scan(qtbot, controller)
    tray = controller.tray
    window = controller.window
    assert tray is not None
    assert window is not None

    # It says what the demo disables, in the window and in the menu.
    assert window.demo_label.isVisible()
    assert "Disabled in the demo: Start at login and the keyring copy" in window.demo_label.text()
    tray.rebuild_menu()
    autostart = tray.action("autostart")
    keyring = tray.action("keyring")
    assert autostart is not None
    assert keyring is not None
    assert autostart.text().endswith("(not in the demo)")
    assert not autostart.isEnabled()
    assert keyring.text().endswith("(not in the demo)")
    assert not keyring.isEnabled()
    assert not window.plan_page.keyring_checkbox.isEnabled()

    # Whatever is asked, nothing reaches the real profile: not even through the actions themselves.
    controller.desktop.toggle_autostart()
    assert not controller.desktop.set_autostart(True)
    controller.show_keyring_panel()
    assert controller.keyring_panel is None
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)
    with qtbot.waitSignal(controller.undo_finished, timeout=20_000):
        controller.undo([sandbox.store])
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)
    controller.show_about()
    # The log, the settings and the backups are the sandbox's.
    assert paths.log_file.is_relative_to(sandbox.root)
    assert paths.log_file.is_file()
    assert Path(controller.scanning.settings.fileName()).is_relative_to(sandbox.root)
    assert snapshot(private_home) == before


def test_gui_demo_as_a_process_leaves_the_real_profile_alone(private_home: Path) -> None:
    (private_home / ".config").mkdir()
    before = snapshot(private_home)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    # The font cache is the system font library's, not the companion's: it may appear, nothing else.
    result = subprocess.run([sys.executable, "-m", "agentmux_companion", "gui", "--demo", "--smoke"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    font_cache = (".cache", ".cache/fontconfig")
    after = {k: v for k, v in snapshot(private_home).items() if not k.startswith(font_cache) or k in before}
    assert after == before
