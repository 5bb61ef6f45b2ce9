"""The plan window: one truthful state at a time — the plan, the work in progress, or the result.

A view: it lays out what its controller gives it (the same :class:`MigrationPlan` the CLI prints,
the words of a result) and reports what the user asks for through signals. It never calls the
core and never decides. :class:`WindowState` says which page is shown; changing it clears any
message banner, so an old message never sits above a new state. No button is a default button:
Enter in the Stores list or the table presses nothing, and every write is confirmed by the
controller first. It is built on the way to the first plan, so it never names PySide6's ``Qt``
namespace (:mod:`.qt_values`).
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QMenu,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from agentmux_companion.core.migration.plan import MigrationPlan
from agentmux_companion.ui.keyring_health import BackendHealth
from agentmux_companion.ui.messages import UserMessage, escape
from agentmux_companion.ui.plan_page import PlanPage
from agentmux_companion.ui.qt_values import set_enum_property
from agentmux_companion.ui.widgets import MessageBanner, ProgressStrip, VerbButton, set_shown, wrapped_label
from agentmux_companion.ui.words import plan_status

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent


class WindowState(enum.StrEnum):
    """Which one thing the window shows."""

    PLAN = "plan"
    WORKING = "working"
    RESULT = "result"


class ResultPage(QWidget):
    """The last action's outcome, with what can follow it: open the backup, undo, finish, back."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result_label = wrapped_label("", self.tr("Result"))
        set_enum_property(self.result_label, "textInteractionFlags", "TextSelectableByMouse")
        self.keyring_label = wrapped_label("", self.tr("Keyring copy result"))
        set_enum_property(self.keyring_label, "textInteractionFlags", "TextSelectableByMouse")
        self.keyring_label.hide()
        texts = QWidget()
        column = QVBoxLayout(texts)
        column.addWidget(self.result_label)
        column.addWidget(self.keyring_label)
        column.addStretch(1)
        # Takes the focus (a long result scrolls by keyboard), so it is named for screen readers.
        self.text_area = QScrollArea()
        self.text_area.setAccessibleName(self.tr("Result text"))
        self.text_area.setWidgetResizable(True)
        self.text_area.setWidget(texts)
        self.text_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.open_backup_button = VerbButton(self.tr("Open &backup folder"), self.tr("Open backup folder"))
        self.backups_button = VerbButton(self.tr("Bac&kups…"), self.tr("Backups"),
                                         self.tr("Every backup the companion took, with Restore"))
        self.undo_button = VerbButton(self.tr("&Undo this migration…"), self.tr("Undo this migration"),
                                      self.tr("Asks first, then puts the store back as it was"))
        self.back_button = VerbButton(self.tr("Back to the &plan"), self.tr("Back to the plan"))
        self.finish_button = VerbButton(self.tr("&Finish"), self.tr("Finish"),
                                        self.tr("Quits the companion: the migration is done"))
        self.stop_autostart = QCheckBox(self.tr("Also stop starting the companion at &login"))
        self.stop_autostart.setAccessibleName(self.tr("Also stop starting the companion at login"))
        self.stop_autostart.hide()
        buttons = QHBoxLayout()
        for button in (self.open_backup_button, self.backups_button, self.undo_button, self.back_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_autostart)
        buttons.addWidget(self.finish_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text_area, 1)
        layout.addLayout(buttons)


class PaletteWatch(QObject):
    """Restyles the store check boxes when the window's palette changes (a light/dark switch).

    Their style sheet names palette colours, which a widget keeps from when it was styled.
    """

    def __init__(self, parent: QWidget, restyle: Callable[[], None]) -> None:
        super().__init__(parent)
        self._restyle = restyle

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        """Restyle on a palette change; every event goes on as usual."""
        if event.type() == event.Type.PaletteChange:  # the class through the event: not imported here
            self._restyle()
        return False


class PlanWindow(QDialog):
    """The migration preview, the work in progress and the outcome.

    Signals:
        migrate_requested(list): the store paths the user chose (the controller confirms first).
        undo_requested(): undo the migration just shown (the controller confirms first).
        open_backup_requested(): show the backup's folder.
        backups_requested(): open the Backups window.
        rescan_requested(): look again.
        finish_requested(bool): quit; True: also remove the start-at-login entry.
        closed(): the window was closed (Esc, Close, or the title bar).
    """

    migrate_requested = Signal(list)
    undo_requested = Signal()
    open_backup_requested = Signal()
    backups_requested = Signal()
    rescan_requested = Signal()
    finish_requested = Signal(bool)
    closed = Signal()

    #: The size the window opens at, within the screen's free area.
    DEFAULT_SIZE = (1000, 760)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("AgentMux Companion"))
        self.setAccessibleName(self.tr("Migration plan"))
        self.setMinimumSize(720, 520)
        self.state = WindowState.PLAN
        self._busy = False
        self._scanning = False

        self.demo_label = wrapped_label("", self.tr("Demo notice"))
        self.demo_label.hide()
        self.status_label = wrapped_label(self.tr("Looking for AgentMux stores and logins…"), self.tr("Status"))
        self.banner = MessageBanner()
        self.plan_page = PlanPage()
        self.plan_page.choice_changed.connect(self._update_buttons)
        self.progress = ProgressStrip()
        working = QWidget()
        working_layout = QVBoxLayout(working)
        working_layout.addStretch(1)
        working_layout.addWidget(self.progress)
        working_layout.addStretch(2)
        self._result_page: ResultPage | None = None  # built with the first result (result_page)
        self._palette_watch: PaletteWatch | None = None  # once the first plan is shown
        self.pages = QStackedWidget()
        for page in (self.plan_page, working):
            self.pages.addWidget(page)

        self.more_button = VerbButton(self.tr("Mor&e"), self.tr("More actions"))
        self.migrate_button = VerbButton(self.tr("&Migrate…"), self.tr("Migrate"),
                                         self.tr("Asks first, then migrates the checked stores"))
        self.migrate_button.setEnabled(False)
        self.rescan_button = VerbButton(self.tr("&Rescan"), self.tr("Rescan"))
        self.close_button = VerbButton(self.tr("&Close"), self.tr("Close"))
        # A row, not a QDialogButtonBox: the box reorders Tab by its own layout (More came after
        # Close), and its class was 4 million instructions on the way to the first plan.
        self.buttons = QWidget()
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.more_button)
        row.addStretch(1)
        for button in (self.migrate_button, self.rescan_button, self.close_button):
            row.addWidget(button)

        self.migrate_button.clicked.connect(self._on_migrate_clicked)
        self.rescan_button.clicked.connect(self.rescan_requested)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.demo_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.buttons)
        chain: list[QWidget] = [*self.plan_page.focus_chain(), self.more_button, self.migrate_button,
                                self.rescan_button, self.close_button, self.banner.copy_button, self.banner.dismiss]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)
        self._fit_default_size()

    @property
    def result_page(self) -> ResultPage:
        """The last action's page, built the first time it is needed (not on the way to the first plan)."""
        if self._result_page is None:
            self._result_page = self._build_result_page()
        return self._result_page

    def _build_result_page(self) -> ResultPage:
        # Some 14 million instructions (its scroll area, six buttons and labels) that the first
        # plan does without: a result comes after a migration, which takes longer than that.
        result = ResultPage()
        result.undo_button.clicked.connect(self.undo_requested)
        result.open_backup_button.clicked.connect(self.open_backup_requested)
        result.backups_button.clicked.connect(self.backups_requested)
        result.back_button.clicked.connect(lambda: self.set_state(WindowState.PLAN))
        result.finish_button.clicked.connect(
            lambda: self.finish_requested.emit(result.stop_autostart.isVisible() and result.stop_autostart.isChecked()))
        self.pages.addWidget(result)  # the page of WindowState.RESULT, after the plan's and the work's
        # In the tab order its text and buttons come between the plan page's controls and the window's.
        chain: list[QWidget] = [self.plan_page.focus_chain()[-1], result.text_area, result.open_backup_button,
                                result.backups_button, result.undo_button, result.back_button,
                                result.stop_autostart, result.finish_button, self.more_button]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)
        return result

    # ------------------------------------------------------------------------------------------
    # What the controller calls

    def set_demo(self, sandbox_dir: str | None, disabled: str = "") -> None:
        """Say that this is the demo, where its sandbox is, and which actions it disables."""
        if sandbox_dir is None:
            self.demo_label.hide()
            return
        self.setWindowTitle(self.tr("AgentMux Companion (demo)"))
        self.demo_label.setText(self.tr(
            "<b>Demo:</b> a sandbox in {0} with made-up logins and a sample AgentMux store; nothing outside it "
            "is written. Disabled in the demo: {1}.").format(escape(sandbox_dir), escape(disabled)))
        self.demo_label.show()
        self.plan_page.disable_keyring(self.tr("The keyring copy is disabled in the demo (it would write to "
                                               "your real keyring)."))

    def set_state(self, state: WindowState) -> None:
        """Show one state; a banner from the state before is stale now and goes."""
        if state is not self.state:
            self.banner.clear()
        self.state = state
        if state is WindowState.RESULT and self._result_page is None:  # its page is about to be shown
            self._result_page = self._build_result_page()
        self.pages.setCurrentIndex(list(WindowState).index(state))
        if state is WindowState.PLAN and self.plan_page.plan is not None and not self._scanning:
            self.status_label.setText(plan_status(self.plan_page.plan))
        self._update_buttons()

    def set_more_menu(self, menu: QMenu | None) -> None:
        """Without a tray, the tray's menu lives behind *More*; with one, *More* is hidden."""
        if menu is not None:
            self.more_button.setMenu(menu)
        set_shown(self.more_button, menu is not None)

    def show_status(self, text: str) -> None:
        """The one line above the page (what is going on, in words)."""
        self.status_label.setText(text)

    def show_scanning(self) -> None:
        """Say a scan is under way; Migrate stays disabled until the new plan is shown."""
        # The plan on screen may be about to change: no migrating it until the new one is shown.
        self._scanning = True
        if self.state is WindowState.PLAN:
            self.status_label.setText(self.tr("Looking for AgentMux stores and logins…"))
        self._update_buttons()

    def show_plan(self, plan: MigrationPlan) -> None:
        """A (new) plan; shown at once unless the window shows a result, which stays until left."""
        self._scanning = False
        self.plan_page.show_plan(plan)
        if self._palette_watch is None:
            QTimer.singleShot(0, self, self._watch_the_palette)  # dropped if the window is deleted first
        if self.state is not WindowState.RESULT:
            self.status_label.setText(plan_status(plan))
        self._update_buttons()

    def show_working(self, text: str) -> None:
        """Enter the busy state with ``text`` as the first progress step; actions wait until it ends."""
        self._busy = True
        self.progress.start(text)
        self.status_label.setText(text)
        self.set_state(WindowState.WORKING)

    def show_progress(self, text: str) -> None:
        """Show the next step of the work under way."""
        self.progress.step(text)

    def show_result(self, headline: str, html: str, *, backup: bool, undo: bool, finish: bool,
                    autostart_on: bool = False) -> None:
        """The last action's outcome and what can follow it."""
        self._busy = False
        self.progress.stop()
        page = self.result_page
        self.status_label.setText(headline)
        page.result_label.setText(html)
        page.keyring_label.hide()
        page.open_backup_button.setVisible(backup)
        page.backups_button.setVisible(backup)
        page.undo_button.setVisible(undo)
        page.finish_button.setVisible(finish)
        page.stop_autostart.setVisible(finish and autostart_on)
        page.stop_autostart.setChecked(finish and autostart_on)
        self.set_state(WindowState.RESULT)
        (page.finish_button if finish else page.back_button).setFocus()

    def show_keyring_result(self, html: str) -> None:
        """Show the keyring copy's result (rich text) under the migration's result."""
        self.result_page.keyring_label.setText(html)
        self.result_page.keyring_label.show()

    def show_idle(self) -> None:
        """Work ended without a result to show (a failure: the banner says why): back to the plan."""
        self._busy = False
        self.progress.stop()
        if self.state is WindowState.WORKING:
            message = self.banner.message
            self.set_state(WindowState.PLAN)
            if message is not None:
                self.banner.show_message(message)
        self._update_buttons()

    def show_message(self, message: UserMessage) -> None:
        """Show a message in the window's banner."""
        self.banner.show_message(message)

    def show_keyring_backend(self, backend: BackendHealth) -> None:
        """Show whether a secure keyring is available, beside the keyring copy option."""
        self.plan_page.show_keyring_backend(backend)

    def wants_keyring_copy(self) -> bool:
        """Whether the user asked to copy the logins to the keyring after migrating."""
        return self.plan_page.wants_keyring_copy()

    def checked_store_paths(self) -> list[Path]:
        """The stores the user left checked for migrating."""
        return self.plan_page.checked_store_paths()

    def provider_rows(self) -> list[tuple[str, str, str, str]]:
        """The logins table row by row, with the core's full reason for "Why" (the tests read it)."""
        return self.plan_page.provider_rows()

    @property
    def plan(self) -> MigrationPlan | None:
        """The plan shown in the window, or None before the first scan finishes."""
        return self.plan_page.plan

    # ------------------------------------------------------------------------------------------
    # Internals

    def _fit_default_size(self) -> None:
        from PySide6.QtGui import QGuiApplication

        width, height = self.DEFAULT_SIZE
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            free = screen.availableGeometry()
            width, height = min(width, int(free.width() * 0.92)), min(height, int(free.height() * 0.92))
        self.resize(max(width, self.minimumWidth()), max(height, self.minimumHeight()))

    def done(self, result: int) -> None:  # Esc, Close and the title bar's close all end here
        """Close the window however it was asked (Esc, Close, title bar) and emit ``closed``."""
        super().done(result)
        self.closed.emit()

    def _watch_the_palette(self) -> None:
        # Once the first plan is on screen, not before: an event filter is a Python event handler
        # (widgets.PathLabel.refit says what the first one costs).
        if self._palette_watch is None:
            self._palette_watch = PaletteWatch(self, self.plan_page.style_check_boxes)
            self.installEventFilter(self._palette_watch)

    def _update_buttons(self) -> None:
        plan = self.plan_page.plan
        on_plan = self.state is WindowState.PLAN
        can = False
        if plan is not None and on_plan and not self._busy and not self._scanning:
            chosen = set(self.checked_store_paths())
            can = any(s.will_write for s in plan.stores if s.path in chosen)
        self.migrate_button.setEnabled(can)
        set_shown(self.migrate_button, self.state is not WindowState.RESULT)

    @Slot()
    def _on_migrate_clicked(self) -> None:
        paths = self.checked_store_paths()
        if paths:
            self.migrate_requested.emit(paths)

