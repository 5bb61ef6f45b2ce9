"""The tray icon, its menu's actions, start at login, and the single instance."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from agentmux_companion import __version__
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui import autostart
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.dialogs import HOMEPAGE
from agentmux_companion.ui.icons import TrayState, icon_path
from agentmux_companion.ui.single_instance import SingleInstance, server_name
from tests.ui.conftest import MakeController, UrlRecorder, answer, bundles, start_and_scan


def test_tray_menu_actions(
    qtbot: QtBot, make_controller: MakeController, paths: AppPaths, sandbox: DemoSandbox,
    private_home: Path, opened_urls: UrlRecorder,
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True, first_launch_window=False))
    start_and_scan(qtbot, controller)
    tray = controller.tray
    assert tray is not None
    assert controller.window is None
    assert tray.state is TrayState.ACTION_NEEDED

    tray.menu.aboutToShow.emit()  # what opening the menu does: rebuilt from the current state
    keys = [a.objectName() for a in tray.menu.actions() if not a.isSeparator()]
    assert keys == ["status", "review", "keyring", "undo", "backups", "open_log", "open_agentmux", "autostart",
                    "about", "quit"]
    status = tray.action("status")
    # The status line is readable (not the disabled grey) and opens the window.
    assert status is not None
    assert status.text() == controller.status_line
    assert status.isEnabled()
    undo = tray.action("undo")
    assert undo is not None
    assert not undo.isEnabled()  # nothing migrated yet
    copy_to_keyring = tray.action("keyring")
    assert copy_to_keyring is not None
    assert not copy_to_keyring.isEnabled()  # no OAuth login bound yet

    # Review migration… opens the plan window.
    review = tray.action("review")
    assert review is not None
    review.trigger()
    assert controller.window is not None
    assert controller.window.isVisible()

    # Open log / Open AgentMux folder ask the desktop to open those places.
    for key, expected in (("open_log", paths.log_file), ("open_agentmux", sandbox.agentmux_root)):
        action = tray.action(key)
        assert action is not None
        action.trigger()
        assert opened_urls.urls[-1].toLocalFile() == str(expected)

    # Start at login writes the real XDG autostart entry; the check mark is read back from it.
    entry = private_home / ".config" / "autostart" / "agentmux-companion.desktop"
    toggle = tray.action("autostart")
    assert toggle is not None
    assert toggle.isCheckable()
    assert not toggle.isChecked()
    toggle.trigger()
    assert entry.is_file()
    assert "Exec=" in entry.read_text(encoding="utf-8")
    tray.rebuild_menu()
    toggle = tray.action("autostart")
    assert toggle is not None
    assert toggle.isChecked()
    toggle.trigger()
    assert not entry.exists()

    about = tray.action("about")
    assert about is not None
    about.trigger()
    about_dialog = controller.desktop.about_dialog
    assert about_dialog is not None
    assert about_dialog.isVisible()
    about_text = about_dialog.label.text()
    for fact in (__version__, HOMEPAGE, "Apache-2.0", str(paths.log_dir)):
        assert fact in about_text
    about_dialog.accept()

    # After a migration, Undo last migration… asks, then undoes.
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    qtbot.waitUntil(lambda: not controller.runner.busy)
    assert tray.state is TrayState.DONE
    # The rescan after the migration finds the two logins now bound: Copy to keyring… has work.
    qtbot.waitUntil(lambda: controller.keyring_accounts == 2, timeout=20_000)
    tray.rebuild_menu()
    copy_to_keyring = tray.action("keyring")
    assert copy_to_keyring is not None
    assert copy_to_keyring.isEnabled()
    undo = tray.action("undo")
    assert undo is not None
    assert undo.isEnabled()
    undo.trigger()
    with qtbot.waitSignal(controller.undo_finished, timeout=20_000):
        box = answer(qtbot, controller)
    assert "stable 0.33.4" in box.changes_label.text()
    assert box.proceed_button.accessibleName() == "Undo 1 store"
    assert ("default", "Default") not in bundles(sandbox.store)

    quit_action = tray.action("quit")
    assert quit_action is not None
    with qtbot.waitSignal(controller.quit_requested, timeout=5_000):
        quit_action.trigger()


def test_tray_icon_follows_the_state(qtbot: QtBot, make_controller: MakeController) -> None:
    for state in TrayState:
        assert icon_path(state).is_file()
    controller = make_controller(options=ControllerOptions(use_tray=True, first_launch_window=False))
    states: list[str] = []
    controller.state_changed.connect(lambda state, _line: states.append(state))
    start_and_scan(qtbot, controller)
    assert states == ["working", "action_needed"]
    assert controller.tray is not None
    assert not controller.tray.icon.icon().isNull()
    assert controller.tray.icon.toolTip().startswith("AgentMux Companion: Ready to add")


def test_xdg_autostart_entry(tmp_path: Path) -> None:
    entry = autostart.XdgAutostart(tmp_path / "config", ["/opt/Agent Mux/bin/agentmux-companion-gui", "--x=$HOME"])
    assert not entry.is_enabled()
    entry.set_enabled(True)
    text = entry.path.read_text(encoding="utf-8")
    assert 'Exec="/opt/Agent Mux/bin/agentmux-companion-gui" "--x=\\$HOME"' in text
    assert entry.is_enabled()
    # Switched off in the desktop's own settings: the entry stays but says Hidden=true.
    entry.path.write_text(text + "Hidden=true\n", encoding="utf-8")
    assert not entry.is_enabled()
    entry.set_enabled(False)
    assert not entry.path.exists()
    assert not entry.is_enabled()


def test_macos_launch_agent_file(tmp_path: Path) -> None:
    agent = autostart.MacLaunchAgent(tmp_path, ["/Applications/AgentMux Companion.app/Contents/MacOS/x", "gui"])
    agent.set_enabled(True)
    with agent.path.open("rb") as handle:
        document = plistlib.load(handle)
    assert document["RunAtLoad"] is True
    assert document["ProgramArguments"][1] == "gui"
    assert agent.is_enabled()
    agent.set_enabled(False)
    assert not agent.is_enabled()


def test_platform_dispatch(tmp_path: Path) -> None:
    linux = autostart.for_this_platform(tmp_path, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, ["x"], "linux")
    assert linux.location == str(tmp_path / "xdg" / "autostart" / "agentmux-companion.desktop")
    mac = autostart.for_this_platform(tmp_path, {}, ["x"], "darwin")
    assert mac.location.endswith("Library/LaunchAgents/dev.agentmux.companion.plist")
    windows = autostart.for_this_platform(tmp_path, {}, ["x"], "win32")
    assert windows.location.endswith("CurrentVersion\\Run\\AgentMux Companion")


def test_second_launch_brings_the_first_forward_and_exits_0(qtbot: QtBot) -> None:
    # The primary: listening under the name this user's companion uses.
    name = server_name(AppPaths.resolve().data_dir)
    primary = SingleInstance(name)
    assert primary.listen()
    primary.serve()
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["QT_QPA_PLATFORM"] = "offscreen"
        with qtbot.waitSignal(primary.activation_requested, timeout=30_000):
            second = subprocess.Popen(
                [sys.executable, "-m", "agentmux_companion", "gui", "--demo"], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=30_000)
        _out, err = second.communicate()
        assert second.returncode == 0
        assert "already running" in err
    finally:
        primary.close()


def test_instances_of_different_data_dirs_do_not_collide(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a")
