"""The keyring snapshot in the GUI: the plan window's option, the tray's Copy to keyring…, the panel.

Real components throughout: the demo sandbox's SQLite store migrated by the real engine, the real
controller and widgets (offscreen), and a real gnome-keyring in a private D-Bus session
(``tests/helpers/secret_service.py``), found by keyring's own backend detection. Without a session
bus, the address points at a socket that does not exist (``tests/ui/conftest.py``).

Every test plants its own token strings in the credential files and checks that none of them
appears in any text the windows show, nor in the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QLabel, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from agentmux_companion.core import sandbox as sb
from agentmux_companion.core.keyring.backend import SERVICE
from agentmux_companion.core.keyring.ledger import all_copies, ledger_path
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui.controller import Controller, ControllerOptions
from agentmux_companion.ui.keyring_health import Health
from tests.helpers.secret_service import SecretService, start_secret_service
from tests.ui.conftest import MakeController, answer, start_and_scan

HOUR_MS = 3_600_000


def planted(label: str) -> str:
    """A token string unique to this run, shaped so no redaction pattern would catch it."""
    return f"PLANTED{label}{uuid.uuid4().hex}"


@pytest.fixture
def tokens(sandbox: DemoSandbox) -> list[str]:
    """Replace the demo's logins with ones holding planted tokens."""
    values = [planted("ClaudeAccess"), planted("ClaudeRefresh"), planted("CodexAccess"), planted("CodexRefresh")]
    sb.write_credentials(sandbox.home, "claude", sb.claude_credentials(values[0], values[1], sb.DEMO_NOW_MS + HOUR_MS))
    sb.write_credentials(sandbox.home, "codex", sb.generic_credentials(values[2], values[3], sb.DEMO_NOW_MS))
    return values


@pytest.fixture(scope="module")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretService]:
    service = start_secret_service(tmp_path_factory.mktemp("gui-secret-service"))
    yield service
    service.stop()


@pytest.fixture
def session_bus(secret_service: SecretService, monkeypatch: pytest.MonkeyPatch) -> SecretService:
    """This process's D-Bus session is the private one; keyring detects its backend by itself."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    return secret_service


def visible_texts(*widgets: QWidget | None) -> list[str]:
    """Every text a user (or a screen reader) can get from these windows."""
    texts: list[str] = []
    for top in widgets:
        if top is None:
            continue
        texts += [top.windowTitle(), top.accessibleName(), top.accessibleDescription()]
        for widget in [top, *top.findChildren(QWidget)]:
            texts += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription()]
            if isinstance(widget, (QLabel, QAbstractButton)):
                texts.append(widget.text())
            if isinstance(widget, QTableWidget):
                for row in range(widget.rowCount()):
                    for column in range(widget.columnCount()):
                        item = widget.item(row, column)
                        if item is not None:
                            texts += [item.text(), item.toolTip(),
                                      str(item.data(Qt.ItemDataRole.AccessibleTextRole) or "")]
    return texts


def assert_no_secret(tokens: list[str], controller: Controller, paths: AppPaths) -> None:
    shown = "\n".join(visible_texts(controller.window, controller.keyring_panel, controller.dialog,
                                    controller.keyring.dialog))
    log_text = paths.log_file.read_text(encoding="utf-8")
    for token in tokens:
        assert token not in shown, "a planted token is shown in the GUI"
        assert token not in log_text, "a planted token is in the log"
    ledger = ledger_path(paths)
    if ledger.exists():
        data = ledger.read_bytes()
        assert not any(token.encode() in data for token in tokens)


def stored(account: str) -> str | None:
    import keyring

    return keyring.get_password(SERVICE, account)


def open_panel_from_the_tray(qtbot: QtBot, controller: Controller) -> None:
    tray = controller.tray
    assert tray is not None
    tray.rebuild_menu()
    action = tray.action("keyring")
    assert action is not None
    assert action.isEnabled()
    assert action.text() == "&Copy to keyring…"
    action.trigger()
    panel = controller.keyring_panel
    assert panel is not None
    assert panel.isVisible()
    qtbot.waitUntil(lambda: panel.overview is not None and not panel.progress_box.isVisible(), timeout=20_000)


@pytest.mark.keyring_real
@pytest.mark.usefixtures("session_bus")
def test_migrate_with_the_option_copies_then_the_panel_shows_current_stale_and_removes(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, paths: AppPaths,
    tokens: list[str],
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True, debounce_ms=50, keyring_timeout_s=10))
    start_and_scan(qtbot, controller)
    window = controller.window  # the first launch opens it by itself
    assert window is not None
    assert window.isVisible()

    # The option is off by default; the real backend and its health arrive after the window is up.
    assert not window.plan_page.keyring_checkbox.isChecked()
    qtbot.waitUntil(lambda: window.plan_page.keyring_backend.health is Health.SECURE, timeout=20_000)
    assert window.plan_page.keyring_status.text() == "<b>Keyring:</b> SecretService Keyring — secure"
    assert "Secret Service" in window.plan_page.keyring_reason.text()
    assert window.plan_page.keyring_checkbox.isEnabled()
    assert window.plan_page.keyring_checkbox.text() == "Also copy the logins into the system &keyring"
    # One sentence says what a copy is for and that it goes stale.
    purpose = window.plan_page.keyring_note.text()
    assert purpose.count(". ") == 0
    assert "keychain" in purpose
    assert "goes stale" in purpose
    assert window.plan_page.keyring_checkbox.accessibleDescription() == purpose

    # Keyboard: Tab from the providers reaches the option; Space checks it.
    window.plan_page.providers_table.setFocus()
    qtbot.keyClick(window.plan_page.providers_table, Qt.Key.Key_Tab)
    for _ in range(4):  # past the backup folder's Copy and Details
        if window.focusWidget() is window.plan_page.keyring_checkbox:
            break
        qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
    assert window.focusWidget() is window.plan_page.keyring_checkbox
    qtbot.keyClick(window.plan_page.keyring_checkbox, Qt.Key.Key_Space)
    assert window.wants_keyring_copy()
    with qtbot.waitSignal(controller.keyring_copy_finished, timeout=30_000) as copied:
        qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
        box = answer(qtbot, controller)
    assert "then copy the bound logins into the system keyring" in box.changes_label.text()
    report = copied.args[0].report
    assert [(c.account.provider, c.outcome.value) for c in report.copies] == [
        ("claude", "copied"), ("codex", "copied")]

    # Recorded, and in the keyring exactly as the files are.
    records = all_copies(ledger_path(paths))
    assert sorted(r.provider for r in records) == ["claude", "codex"]
    for record in records:
        assert stored(record.account) == Path(record.credentials_path).read_text(encoding="utf-8")
    result = window.result_page.keyring_label.text()
    assert window.result_page.keyring_label.isVisible()
    assert "Claude Code: copied and verified (sha256:" in result
    assert "Codex: copied and verified" in result
    assert "snapshot" in result
    assert "goes stale" in result

    # The tray's Copy to keyring… opens the panel: both copies current.
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)
    open_panel_from_the_tray(qtbot, controller)
    panel = controller.keyring_panel
    assert panel is not None
    rows = panel.rows()
    assert [(r[0], r[3]) for r in rows] == [("Claude Code", "current"), ("Codex", "current")]
    claude_account = next(r.account for r in records if r.provider == "claude")
    assert rows[0][1] == f"agentmux/{claude_account}"
    assert rows[0][2].startswith("sha256:")
    assert len(rows[0][2]) == len("sha256:") + 12
    assert panel.backend_label.text() == "<b>Keyring:</b> SecretService Keyring — secure"
    assert "snapshot" in panel.intro_label.text()
    assert "CLI's own folder" in panel.intro_label.text()
    assert panel.copy_button.text() == "Copy &again"
    assert panel.remove_button.isEnabled()

    # The CLI refreshes its token: the copy is stale, and the panel says what to do.
    refreshed = planted("RefreshedAccess")
    tokens.append(refreshed)
    new_login = sb.claude_credentials(refreshed, tokens[1], sb.DEMO_NOW_MS + 9 * HOUR_MS)
    sb.write_credentials(sandbox.home, "claude", new_login)
    qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.rows()[0][3] == "stale", timeout=20_000)
    assert panel.rows()[0][4] == "The CLI refreshed its token since; copy again."
    assert panel.rows()[1][3] == "current"

    # Copy again: current again, the keyring holds the new text.
    with qtbot.waitSignal(controller.keyring_copy_finished, timeout=30_000):
        qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
        box = answer(qtbot, controller.keyring)
    assert box.proceed_button.accessibleName() == "Copy 2 logins"
    assert [r[3] for r in panel.rows()] == ["current", "current"]
    assert stored(claude_account) == (sandbox.home / ".claude" / ".credentials.json").read_text(encoding="utf-8")
    assert_no_secret(tokens, controller, paths)

    # Remove copies… asks first; Yes removes exactly what was added.
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(controller.keyring.remove_finished, timeout=30_000):
        box = answer(qtbot, controller.keyring)
    assert box.parent() is panel
    assert box.proceed_button.accessibleName() == "Remove 2 copies"
    assert all_copies(ledger_path(paths)) == []
    assert all(stored(r.account) is None for r in records)
    assert [r[3] for r in panel.rows()] == ["not copied", "not copied"]
    assert panel.copy_button.text() == "&Copy"
    assert not panel.remove_button.isEnabled()
    assert "Removed 2 keyring entr" in panel.result_label.text()
    assert_no_secret(tokens, controller, paths)

    # Keyboard: Esc closes the panel; the tray (and the app) live on.
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    assert not panel.isVisible()


@pytest.mark.keyring_real
def test_a_keyring_that_does_not_answer_gives_a_clear_message_and_the_ui_stays_responsive(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, paths: AppPaths,
    tokens: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = start_secret_service(tmp_path / "frozen-keyring")  # its own: this one gets frozen
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
        for name in ("DISPLAY", "WAYLAND_DISPLAY"):
            monkeypatch.delenv(name, raising=False)
        controller = make_controller(options=ControllerOptions(use_tray=True, debounce_ms=50, keyring_timeout_s=1))
        start_and_scan(qtbot, controller)
        with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
            controller.migrate([sandbox.store])
        qtbot.waitUntil(lambda: controller.keyring_accounts == 2 and not controller.runner.busy, timeout=20_000)
        open_panel_from_the_tray(qtbot, controller)
        panel = controller.keyring_panel
        assert panel is not None

        ticks: list[int] = []
        ticker = QTimer()
        ticker.setInterval(5)
        ticker.timeout.connect(lambda: ticks.append(1))
        with service.frozen():  # every call to the keyring daemon now blocks, like a hidden prompt
            ticker.start()
            qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
            answer(qtbot, controller.keyring)
            qtbot.waitUntil(lambda: panel.progress_box.label.text().startswith("Copying claude"), timeout=20_000)
            start = len(ticks)
            qtbot.waitUntil(lambda: len(ticks) >= start + 10)
            # The worker is stuck in the keyring; the GUI thread keeps handling timers and input.
            assert controller.keyring.busy
            assert panel.progress_box.isVisible()
            assert not panel.copy_button.isEnabled()
            assert not panel.remove_button.isEnabled()
            with qtbot.waitSignal(controller.keyring.failed, timeout=20_000):
                pass
            ticker.stop()
        message = controller.funnel.last_message
        assert message is not None
        assert message.title == "The keyring cannot be used"
        assert message.text.startswith("the keyring did not answer within 1 s")
        assert panel.banner.isVisible()
        assert panel.banner.title.text() == "<b>The keyring cannot be used</b>"
        assert not panel.progress_box.isVisible()
        assert panel.copy_button.isEnabled()
        assert_no_secret(tokens, controller, paths)
    finally:
        service.stop()


def test_without_a_session_bus_the_option_says_unavailable_and_copy_gives_a_clear_message(
    qtbot: QtBot, make_controller: MakeController, paths: AppPaths, tokens: list[str],
    no_session_bus: str,
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True, debounce_ms=50))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    assert window.isVisible()

    qtbot.waitUntil(lambda: window.plan_page.keyring_backend.health is Health.UNAVAILABLE, timeout=20_000)
    assert window.plan_page.keyring_status.text() == "<b>Keyring:</b> unavailable"
    why = window.plan_page.keyring_reason.text()
    assert why.startswith("Why: cannot reach the D-Bus session bus at " + no_session_bus)
    assert not window.plan_page.keyring_checkbox.isEnabled()
    assert not window.wants_keyring_copy()

    # Migrating still works; nothing is copied without a keyring.
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
        answer(qtbot, controller)
    assert not window.result_page.keyring_label.isVisible()
    qtbot.waitUntil(lambda: controller.keyring_accounts == 2 and not controller.runner.busy, timeout=20_000)

    # The panel lists the bound logins (read from the store, no keyring needed) and says why not.
    open_panel_from_the_tray(qtbot, controller)
    panel = controller.keyring_panel
    assert panel is not None
    assert [(r[0], r[3]) for r in panel.rows()] == [("Claude Code", "not copied"), ("Codex", "not copied")]
    assert panel.backend_label.text() == "<b>Keyring:</b> unavailable"
    assert panel.backend_reason.text().startswith("Why: cannot reach the D-Bus session bus")

    # Enter in the panel's table presses nothing: no button is the default, nothing is asked or copied.
    assert panel.copy_button.isEnabled()
    assert not panel.copy_button.isDefault()
    panel.table.setFocus()
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        qtbot.keyClick(panel.table, key)
    assert controller.keyring.dialog is None
    assert not controller.keyring.busy

    # Copy: a clear message in the panel, nothing recorded, and the panel is ready again.
    with qtbot.waitSignal(controller.keyring.failed, timeout=20_000):
        qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
        answer(qtbot, controller.keyring)
    message = controller.funnel.last_message
    assert message is not None
    assert message.title == "The keyring cannot be used"
    assert message.text.startswith("cannot reach the D-Bus session bus")
    assert panel.banner.isVisible()
    assert message.text in panel.banner.text.text()
    assert controller.crash_dialog is None  # a known condition, not a bug
    assert not panel.progress_box.isVisible()
    assert panel.copy_button.isEnabled()
    assert all_copies(ledger_path(paths)) == []
    # Still responsive: the panel reads the state again on request.
    with qtbot.waitSignal(controller.keyring.overview_changed, timeout=20_000):
        qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    assert_no_secret(tokens, controller, paths)
