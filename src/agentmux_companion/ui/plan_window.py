"""The plan window: the migration preview, the Migrate button, progress and the result.

A view only: it lays out what the controller gives it (the same :class:`MigrationPlan` object the
CLI prints, results of ``apply_plan``) and reports what the user asks for through signals. It
never calls the core and never decides what happens next.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agentmux_companion.core.credentials import FileKind, Status
from agentmux_companion.core.migration.plan import Action, BundleAction, MigrationPlan, ProviderPlan, StorePlan
from agentmux_companion.ui.keyring_health import (
    CHECKING,
    BackendHealth,
    Health,
    health_words,
    reason_words,
    snapshot_words,
)
from agentmux_companion.ui.messages import Level, UserMessage, escape

if TYPE_CHECKING:
    from agentmux_companion.core.migration.apply import StoreResult

PATH_ROLE = Qt.ItemDataRole.UserRole + 1

# Badge colours: saturated mid-tones with white text read well on light and dark palettes alike.
# These are the only fixed colours in the UI; everything else follows the system palette.
BADGE_COLOURS = {
    "valid": "#1e7b34",
    "expired": "#9a5b00",
    "needs_reauth": "#b3261e",
    "unknown": "#5b6470",
    "missing": "#5b6470",
}


#: An unchecked box drawn with a border in the palette's text colour. Fusion (the style on most
#: Linux desktops without a Qt theme) borders it with a shade of the window colour, which all but
#: vanishes on a dark palette; the text colour always stands out from the base it is drawn on. The
#: checked state keeps the style's own drawing.
UNCHECKED_BOX_STYLE = (
    "{0}::indicator:unchecked {{ border: 1px solid palette(text); background: palette(base);"
    " border-radius: 2px; }}"
)


def status_words(status: str) -> str:
    """The login status as shown in the badge."""
    words = {
        "valid": QCoreApplication.translate("PlanWindow", "valid"),
        "expired": QCoreApplication.translate("PlanWindow", "expired"),
        "needs_reauth": QCoreApplication.translate("PlanWindow", "sign in again"),
        "unknown": QCoreApplication.translate("PlanWindow", "unknown"),
        "missing": QCoreApplication.translate("PlanWindow", "not found"),
    }
    return words.get(status, status)


def action_words(action: Action) -> str:
    """What happens to a provider, in plain words."""
    return {
        Action.BIND: QCoreApplication.translate("PlanWindow", "Will be added to the Default bundle"),
        Action.SKIP_EXISTING: QCoreApplication.translate("PlanWindow", "Already set up, left as it is"),
        Action.SKIP_NO_AMBIENT: QCoreApplication.translate("PlanWindow", "Nothing to add"),
        Action.BLOCKED: QCoreApplication.translate("PlanWindow", "Cannot be added"),
    }[action]


def why_words(line: ProviderPlan) -> str:
    """Why the action, in words that add to the row: not the action, the status or the path, which
    have columns of their own (the core's full reason, as the CLI prints it, is the tooltip)."""
    def tr(text: str) -> str:
        return QCoreApplication.translate("PlanWindow", text)

    credential = line.credential
    if line.action is Action.BIND:
        why = (tr("The Default bundle already has an account for it; that account is kept.")
               if line.reuse_account_id else tr("A login was found and no bundle uses it yet."))
        if credential.status is Status.EXPIRED:
            why += " " + (tr("Its token has expired; the CLI renews it with its refresh token on next use.")
                          if credential.has_refresh_token
                          else tr("Its token has expired and cannot be renewed: sign in to the CLI again."))
        elif credential.status is Status.NEEDS_REAUTH:
            why += " " + tr("Sign in to the CLI again so AgentMux can use it.")
        elif credential.status is Status.UNKNOWN:
            why += " " + tr("When it expires could not be read.")
        return why
    if line.action is Action.SKIP_EXISTING:
        names = ", ".join(f"“{name}”" for name in line.bound_in)
        return tr("Bundle {0} already has a login for it.").format(names)
    if line.action is Action.SKIP_NO_AMBIENT and credential.kind is FileKind.MISSING \
            and str(credential.path) in credential.reason:
        return tr("Not signed in to this CLI on this computer.")
    return line.reason  # an odd login file, or why the store cannot take it: the core's words say it


def era_words(store_plan: StorePlan) -> str:
    if store_plan.era.migratable:
        return QCoreApplication.translate("PlanWindow", "identity-bundle era")
    return QCoreApplication.translate("PlanWindow", "era: {0}").format(store_plan.era.value)


class Badge(QLabel):
    """A state as colour plus text (the text carries the meaning; colour only helps)."""

    def __init__(self, text: str, colour: str, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(
            f"QLabel {{ background-color: {colour}; color: #ffffff; border-radius: 8px;"
            " padding: 2px 8px; font-weight: 600; margin: 3px 6px; }"
        )
        self.setAccessibleName(accessible_name)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)


class StatusBadge(Badge):
    """A login status as a badge."""

    def __init__(self, status: str, parent: QWidget | None = None) -> None:
        words = status_words(status)
        super().__init__(words, BADGE_COLOURS.get(status, BADGE_COLOURS["unknown"]),
                         QCoreApplication.translate("PlanWindow", "Login status: {0}").format(words), parent)


def table_item(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    """The item in a cell; the views put one in every cell of their tables."""
    item = table.item(row, column)
    if item is None:
        raise LookupError(f"no item at row {row}, column {column}")
    return item


def badge_cell(badge: QLabel) -> QWidget:
    """A table cell widget holding ``badge`` centred (the cell's item keeps the text for screen readers)."""
    holder = QWidget()
    holder_layout = QHBoxLayout(holder)
    holder_layout.setContentsMargins(0, 0, 0, 0)
    holder_layout.addWidget(badge, 0, Qt.AlignmentFlag.AlignCenter)
    return holder


class ProgressStrip(QWidget):
    """A busy bar and the words of the current step, shown while a job runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setAccessibleName(self.tr("Progress"))
        self.label = QLabel()
        self.label.setAccessibleName(self.tr("Current step"))
        row = QHBoxLayout(self)
        row.addWidget(self.bar, 1)
        row.addWidget(self.label, 2)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def step(self, text: str) -> None:
        self.label.setText(text)

    def stop(self) -> None:
        self.hide()


class MessageBanner(QFrame):
    """The place where the message funnel's messages appear inside the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Message"))
        self.icon = QLabel()
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss = QPushButton(self.tr("&Dismiss"))
        self.dismiss.setAccessibleName(self.tr("Dismiss message"))
        self.dismiss.clicked.connect(self.hide)
        texts = QVBoxLayout()
        texts.addWidget(self.title)
        texts.addWidget(self.text)
        row = QHBoxLayout(self)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(texts, 1)
        row.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, message: UserMessage) -> None:
        from PySide6.QtWidgets import QStyle  # its ~80 enums cost more than the window's first paint

        pixmap = {
            Level.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
            Level.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
            Level.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
        }[message.level]
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(32, 32))
        self.title.setText(f"<b>{escape(message.title)}</b>")
        self.text.setText(message.text)
        self.setAccessibleDescription(f"{message.title}. {message.text}")
        self.show()


class PlanWindow(QDialog):
    """The migration preview and its outcome.

    Signals:
        migrate_requested(list): the store paths the user chose to migrate.
        undo_requested(list): the store paths whose migration just shown to undo.
        open_backup_requested(object): the backup file whose folder to show.
        rescan_requested(): look again.
        closed(): the window was closed (Esc, Close, or the title bar).
    """

    migrate_requested = Signal(list)
    undo_requested = Signal(list)
    open_backup_requested = Signal(object)
    rescan_requested = Signal()
    closed = Signal()

    #: The size at which a plan of three providers shows every column without scrolling.
    DEFAULT_SIZE = (1000, 800)

    def _fit_default_size(self) -> None:
        # Qt would open a top-level window at its size hint, which leaves the providers table
        # cramped (rows cut, columns scrolled away); open at the size the table needs instead,
        # within the screen's free area.
        from PySide6.QtGui import QGuiApplication

        width, height = self.DEFAULT_SIZE
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            free = screen.availableGeometry()
            width, height = min(width, int(free.width() * 0.92)), min(height, int(free.height() * 0.92))
        self.resize(max(width, self.minimumWidth()), max(height, self.minimumHeight()))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("AgentMux Companion"))
        self.setAccessibleName(self.tr("Migration plan"))
        self.setMinimumSize(760, 560)
        self._fit_default_size()
        self.plan: MigrationPlan | None = None
        self._busy = False
        self._scanning = False
        self._checked: dict[Path, bool] = {}
        self._results: list[StoreResult] = []

        self.demo_label = QLabel()
        self.demo_label.setWordWrap(True)
        self.demo_label.setAccessibleName(self.tr("Demo notice"))
        self.demo_label.hide()
        self.banner = MessageBanner()
        self.status_label = QLabel(self.tr("Looking for AgentMux stores and logins…"))
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Status"))

        # Stores: one checkable line each; the selected one's details show below.
        self.stores_list = QListWidget()
        self.stores_list.setAccessibleName(self.tr("AgentMux stores"))
        self.stores_list.setAccessibleDescription(self.tr(
            "Checked stores are migrated. Use the arrow keys to choose a store and Space to check it."))
        self.stores_list.currentItemChanged.connect(self._on_current_store_changed)
        self.stores_list.itemChanged.connect(self._on_store_item_changed)
        stores_box = QGroupBox(self.tr("&Stores"))
        stores_layout = QVBoxLayout(stores_box)
        stores_layout.addWidget(self.stores_list)
        self.refused_label = QLabel()
        self.refused_label.setWordWrap(True)
        self.refused_label.setAccessibleName(self.tr("Why this store cannot be migrated"))
        self.refused_label.hide()
        stores_layout.addWidget(self.refused_label)

        self.providers_table = QTableWidget(0, 6)
        self.providers_table.setHorizontalHeaderLabels([
            self.tr("Provider"), self.tr("Login"), self.tr("What happens"), self.tr("Why"),
            self.tr("Credentials file"), self.tr("Fingerprint"),
        ])
        self.providers_table.setAccessibleName(self.tr("Providers"))
        self.providers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.providers_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.providers_table.setTabKeyNavigation(False)
        self.providers_table.setWordWrap(True)
        self.providers_table.verticalHeader().setVisible(False)
        header = self.providers_table.horizontalHeader()
        for column in (0, 1, 2, 4, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        providers_box = QGroupBox(self.tr("&Providers in this store"))
        QVBoxLayout(providers_box).addWidget(self.providers_table)

        self.bundle_value = QLabel()
        self.backfill_value = QLabel()
        self.backup_value = QLabel()
        self.backup_value.setWordWrap(True)
        self.backup_value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for label, name in ((self.bundle_value, self.tr("Default bundle")),
                            (self.backfill_value, self.tr("Agent rows to back-fill")),
                            (self.backup_value, self.tr("Backup location"))):
            label.setAccessibleName(name)
        self.running_warning = QLabel(self.tr(
            "⚠ AgentMux appears to be running. It caches its state: close it before migrating, "
            "or restart it afterwards."))
        self.running_warning.setWordWrap(True)
        self.running_warning.setAccessibleName(self.tr("AgentMux is running"))
        self.running_warning.hide()
        summary = QFormLayout()
        summary.addRow(self.tr("Default bundle:"), self.bundle_value)
        summary.addRow(self.tr("Agent rows to back-fill:"), self.backfill_value)
        summary.addRow(self.tr("Backup goes to:"), self.backup_value)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.setAccessibleName(self.tr("Notes"))
        self.notes_label.setEnabled(False)  # drawn in the palette's secondary text colour

        # The keyring snapshot: explicit and off by default. The backend's health arrives from a
        # background check after the window is up (detection talks to D-Bus and may be slow).
        self.keyring_checkbox = QCheckBox(self.tr("Also copy the logins into the OS &keyring (snapshot)"))
        self.keyring_checkbox.setAccessibleName(self.tr("Also copy the logins into the OS keyring"))
        self.keyring_checkbox.setAccessibleDescription(snapshot_words())
        self.keyring_checkbox.setToolTip(snapshot_words())
        self.keyring_status = QLabel()
        self.keyring_status.setWordWrap(True)
        self.keyring_status.setAccessibleName(self.tr("Keyring backend"))
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setAccessibleName(self.tr("Keyring backend health"))
        self.keyring_note.setEnabled(False)  # secondary text, like the notes
        keyring_layout = QVBoxLayout()
        keyring_layout.setSpacing(2)
        keyring_layout.addWidget(self.keyring_checkbox)
        keyring_details = QVBoxLayout()
        keyring_details.setContentsMargins(24, 0, 0, 0)  # under the check box's text
        keyring_details.addWidget(self.keyring_status)
        keyring_details.addWidget(self.keyring_note)
        keyring_layout.addLayout(keyring_details)
        self.keyring_backend: BackendHealth = CHECKING
        self.show_keyring_backend(CHECKING)
        self._style_check_boxes()

        self.progress_box = ProgressStrip()

        self.result_box = QGroupBox(self.tr("Result"))
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleName(self.tr("Migration result"))
        self.keyring_result_label = QLabel()
        self.keyring_result_label.setWordWrap(True)
        self.keyring_result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.keyring_result_label.setAccessibleName(self.tr("Keyring copy result"))
        self.keyring_result_label.hide()
        self.open_backup_button = QPushButton(self.tr("Open &backup folder"))
        self.open_backup_button.setAccessibleName(self.tr("Open backup folder"))
        self.undo_button = QPushButton(self.tr("&Undo this migration"))
        self.undo_button.setAccessibleName(self.tr("Undo this migration"))
        self.open_backup_button.clicked.connect(self._on_open_backup_clicked)
        self.undo_button.clicked.connect(self._on_undo_clicked)
        result_buttons = QHBoxLayout()
        result_buttons.addWidget(self.open_backup_button)
        result_buttons.addWidget(self.undo_button)
        result_buttons.addStretch(1)
        result_layout = QVBoxLayout(self.result_box)
        result_layout.addWidget(self.result_label)
        result_layout.addWidget(self.keyring_result_label)
        result_layout.addLayout(result_buttons)
        self.result_box.hide()

        self.buttons = QDialogButtonBox()
        self.migrate_button = QPushButton(self.tr("&Migrate"))
        self.migrate_button.setAccessibleName(self.tr("Migrate"))
        self.migrate_button.setEnabled(False)
        self.rescan_button = QPushButton(self.tr("&Rescan"))
        self.rescan_button.setAccessibleName(self.tr("Rescan"))
        self.close_button = QPushButton(self.tr("&Close"))
        self.close_button.setAccessibleName(self.tr("Close"))
        # Without a tray icon, the tray's menu (log, start at login, about, quit) lives here.
        self.more_button = QPushButton(self.tr("Mor&e"))
        self.more_button.setAccessibleName(self.tr("More actions"))
        self.more_button.setAutoDefault(False)
        self.buttons.addButton(self.more_button, QDialogButtonBox.ButtonRole.HelpRole)
        self.buttons.addButton(self.migrate_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.rescan_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.migrate_button.clicked.connect(self._on_migrate_clicked)
        self.rescan_button.clicked.connect(self.rescan_requested)
        self.close_button.clicked.connect(self.reject)
        self.migrate_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.demo_label)
        layout.addWidget(self.banner)
        layout.addWidget(self.status_label)
        layout.addWidget(stores_box)
        layout.addWidget(providers_box, 1)
        layout.addLayout(summary)
        layout.addWidget(self.running_warning)
        layout.addWidget(self.notes_label)
        layout.addLayout(keyring_layout)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.result_box)
        layout.addWidget(self.buttons)

        # Keyboard order follows reading order; Enter migrates (default button), Esc closes.
        QWidget.setTabOrder(self.stores_list, self.providers_table)
        QWidget.setTabOrder(self.providers_table, self.keyring_checkbox)
        QWidget.setTabOrder(self.keyring_checkbox, self.open_backup_button)
        QWidget.setTabOrder(self.open_backup_button, self.undo_button)
        QWidget.setTabOrder(self.undo_button, self.migrate_button)
        QWidget.setTabOrder(self.migrate_button, self.rescan_button)
        QWidget.setTabOrder(self.rescan_button, self.close_button)
        QWidget.setTabOrder(self.close_button, self.more_button)
        QWidget.setTabOrder(self.more_button, self.banner.dismiss)

    # ------------------------------------------------------------------------------------------
    # What the controller calls

    def set_demo(self, sandbox_dir: str | None) -> None:
        if sandbox_dir is None:
            self.demo_label.hide()
            self.setWindowTitle(self.tr("AgentMux Companion"))
            return
        self.setWindowTitle(self.tr("AgentMux Companion (demo)"))
        self.demo_label.setText(self.tr(
            "<b>Demo:</b> this is a sandbox in {0} with made-up logins and a sample AgentMux store. "
            "Your real files are not touched.").format(escape(sandbox_dir)))
        self.demo_label.show()

    def show_scanning(self) -> None:
        # The plan on screen may be about to change: no migrating it until the new one is shown.
        self._scanning = True
        self.status_label.setText(self.tr("Looking for AgentMux stores and logins…"))
        self._update_migrate_enabled()

    def show_message(self, message: UserMessage) -> None:
        self.banner.show_message(message)

    def show_plan(self, plan: MigrationPlan) -> None:
        """Show a (new) plan; the user's store choices survive a rescan."""
        self.plan = plan
        self._scanning = False
        current = self.current_store_path()
        self.stores_list.blockSignals(True)
        self.stores_list.clear()
        for store_plan in plan.stores:
            item = QListWidgetItem(self._store_line(store_plan))
            item.setData(PATH_ROLE, str(store_plan.path))
            item.setToolTip(str(store_plan.path))
            if store_plan.will_write:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = self._checked.get(store_plan.path, store_plan.location.default_target)
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            else:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            self.stores_list.addItem(item)
        self.stores_list.blockSignals(False)
        rows = max(1, min(self.stores_list.count(), 4))
        frame = 2 * self.stores_list.frameWidth()
        self.stores_list.setFixedHeight(rows * max(self.stores_list.sizeHintForRow(0), 18) + frame + 4)
        paths = [s.path for s in plan.stores]
        row = paths.index(current) if current in paths else 0
        if plan.stores:
            self.stores_list.setCurrentRow(row)
            self._show_store(plan.stores[row])
        else:
            self._show_store(None)
        self.status_label.setText(self._plan_status(plan))
        self._update_migrate_enabled()

    def show_working(self, text: str) -> None:
        self._busy = True
        self.progress_box.start(text)
        self._update_migrate_enabled()

    def show_progress(self, text: str) -> None:
        self.progress_box.step(text)

    def show_idle(self) -> None:
        self._busy = False
        self.progress_box.stop()
        self._update_migrate_enabled()

    def show_results(self, results: Sequence[StoreResult], undoable: Iterable[Path]) -> None:
        """The outcome of a migration: counts per store, and Open backup / Undo when it wrote."""
        self._results = list(results)
        undoable_paths = set(undoable)
        lines = []
        for result in results:
            name = self._label_for(result.path)
            if result.outcome == "migrated":
                s = result.stats
                lines.append(self.tr(
                    "<b>{0}: migrated.</b> {1} provider(s) added to the Default bundle, {2} already set "
                    "up, {3} without a login; Default bundle {4}; {5} agent row(s) back-filled.").format(
                    escape(name), s.providers_seeded, s.providers_skipped_existing,
                    s.providers_skipped_no_ambient,
                    self.tr("created") if s.default_bundle_created else self.tr("kept"),
                    s.instances_backfilled))
                lines.append(self.tr("Backup: {0}").format(escape(result.backup)))
            elif result.outcome == "nothing_to_do":
                lines.append(self.tr("<b>{0}:</b> nothing to do.").format(escape(name)))
            else:
                lines.append(self.tr("<b>{0}: not migrated.</b> {1}").format(
                    escape(name), escape(result.message)))
            lines.extend(escape(self.tr("warning: {0}").format(w)) for w in result.warnings)
        if any(r.outcome == "migrated" for r in results):
            lines.append(self.tr("If AgentMux is running, restart it so it picks up the Default bundle."))
        self.result_label.setText("<br>".join(lines))
        self.keyring_result_label.hide()
        self.open_backup_button.setEnabled(any(r.backup for r in results))
        self.undo_button.setEnabled(bool(undoable_paths & {r.path for r in results}))
        self.result_box.show()
        if self.undo_button.isEnabled():
            self.undo_button.setFocus()

    def show_keyring_backend(self, backend: BackendHealth) -> None:
        """The keyring in use and its health; the option is offered only for a secure one."""
        self.keyring_backend = backend
        self.keyring_status.setText(health_words(backend))
        reason = reason_words(backend)
        self.keyring_note.setText(reason)
        self.keyring_note.setVisible(bool(reason))
        unusable = backend.health in (Health.INSECURE, Health.UNAVAILABLE)
        if unusable:
            self.keyring_checkbox.setChecked(False)
        self.keyring_checkbox.setEnabled(not unusable)

    def wants_keyring_copy(self) -> bool:
        """Whether the user asked for the keyring snapshot after the migration."""
        return self.keyring_checkbox.isEnabled() and self.keyring_checkbox.isChecked()

    def show_keyring_copying(self, text: str) -> None:
        self.keyring_result_label.setText(text)
        self.keyring_result_label.show()
        self.result_box.show()

    def show_keyring_result(self, html: str) -> None:
        self.keyring_result_label.setText(html)
        self.keyring_result_label.show()
        self.result_box.show()

    def show_undone(self, text: str) -> None:
        self.result_label.setText(text)
        self.undo_button.setEnabled(False)
        self.result_box.show()

    def checked_store_paths(self) -> list[Path]:
        paths = []
        for row in range(self.stores_list.count()):
            item = self.stores_list.item(row)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable and item.checkState() == Qt.CheckState.Checked:
                paths.append(Path(item.data(PATH_ROLE)))
        return paths

    def current_store_path(self) -> Path | None:
        item = self.stores_list.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None

    def provider_rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """The table's content row by row, paths in full (the tests compare it with the plan)."""
        rows = []
        for row in range(self.providers_table.rowCount()):
            cells = [table_item(self.providers_table, row, c).text() for c in range(6)]
            holder = self.providers_table.cellWidget(row, 1)
            badge = holder.findChild(StatusBadge) if holder is not None else None
            cells[1] = badge.text() if badge is not None else cells[1]
            cells[3] = table_item(self.providers_table, row, 3).toolTip()
            cells[4] = table_item(self.providers_table, row, 4).toolTip()
            rows.append((cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]))
        return rows

    # ------------------------------------------------------------------------------------------
    # Internals

    def setVisible(self, visible: bool) -> None:
        super().setVisible(visible)
        if visible:
            # QDialog hands "default" to the first auto-default button it meets when shown; Enter
            # should migrate (unless the focus is on another button, which Enter then presses).
            self.migrate_button.setDefault(True)

    def done(self, result: int) -> None:  # Esc, Close and the title bar's close all end here
        super().done(result)
        self.closed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_rows_after_layout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_rows_after_layout()

    def _fit_rows_after_layout(self) -> None:
        # The wrapped "Why" column takes its width from the layout, which settles after this
        # event: fit the rows' heights to their text once it has.
        QTimer.singleShot(0, self.providers_table.resizeRowsToContents)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            # A widget with a style sheet keeps the palette it was polished with: set the sheets
            # again so the boxes follow a switch between light and dark.
            self._style_check_boxes()

    def _style_check_boxes(self) -> None:
        for widget, kind in ((self.stores_list, "QListWidget"), (self.keyring_checkbox, "QCheckBox")):
            widget.setStyleSheet("")
            widget.setStyleSheet(UNCHECKED_BOX_STYLE.format(kind))

    def _store_line(self, store_plan: StorePlan) -> str:
        line = f"{store_plan.location.label} — {era_words(store_plan)}"
        if store_plan.refused:
            line += " — " + self.tr("cannot be migrated")
        elif not store_plan.will_write:
            line += " — " + self.tr("nothing to do")
        elif not store_plan.location.default_target:
            line += " — " + self.tr("older version, not chosen by default")
        return line

    def _label_for(self, path: Path) -> str:
        if self.plan is not None:
            store_plan = self.plan.store(path)
            if store_plan is not None:
                return store_plan.location.label
        return str(path)

    def _plan_status(self, plan: MigrationPlan) -> str:
        if not plan.stores:
            return self.tr("No AgentMux store was found, so there is nothing to migrate.")
        binding = {p.display_name for s in plan.stores if s.location.default_target and not s.refused
                   for p in s.to_bind}
        if any(s.will_write for s in plan.stores if s.location.default_target):
            if binding:
                return self.tr("{0} login(s) can be added to AgentMux's Default bundle: {1}.").format(
                    len(binding), ", ".join(sorted(binding)))
            return self.tr("AgentMux's legacy agent rows can be moved to the Default bundle.")
        if any(s.refused for s in plan.stores if s.location.default_target):
            return self.tr("The AgentMux store cannot be migrated; see below.")
        return self.tr("Nothing to do: AgentMux already uses these logins.")

    def _show_store(self, store_plan: StorePlan | None) -> None:
        table = self.providers_table
        table.setRowCount(0)
        if store_plan is None:
            for label in (self.bundle_value, self.backfill_value, self.backup_value):
                label.setText("—")
            self.refused_label.hide()
            self.running_warning.hide()
            self.notes_label.hide()
            return
        for line in store_plan.providers:
            self._add_provider_row(line)
        table.resizeRowsToContents()
        if store_plan.refused:
            self.refused_label.setText(self.tr("<b>Cannot be migrated:</b> {0}").format(escape(store_plan.refused)))
            self.refused_label.show()
        else:
            self.refused_label.hide()
        bundle = {
            BundleAction.CREATE: self.tr("will be created"),
            BundleAction.REUSE: self.tr("exists and is reused as it is"),
            BundleAction.NONE: self.tr("not needed"),
        }[store_plan.bundle]
        self.bundle_value.setText(bundle)
        backfill = str(store_plan.instances_to_backfill)
        if store_plan.agents_to_backfill:
            backfill += self.tr(" (and {0} mirrored in db_agents)").format(store_plan.agents_to_backfill)
        self.backfill_value.setText(backfill)
        assert self.plan is not None
        self.backup_value.setText(
            str(self.plan.backups_dir) if store_plan.will_write else self.tr("no backup needed (nothing is written)"))
        self.running_warning.setVisible(store_plan.agentmux_running)
        notes = [f"{provider}: {note}" for provider, items in self.plan.notes.items() for note in items]
        notes.extend(store_plan.warnings)
        self.notes_label.setText("\n".join(notes))
        self.notes_label.setVisible(bool(notes))

    def _add_provider_row(self, line: ProviderPlan) -> None:
        table = self.providers_table
        row = table.rowCount()
        table.insertRow(row)
        credential = line.credential
        status = credential.status.value if credential.status else "missing"
        cells = [
            line.display_name,
            status_words(status),
            action_words(line.action),
            self._home_relative(why_words(line)),
            self._home_relative(str(credential.path)),
            credential.fingerprint or "—",
        ]
        full = [cells[0], cells[1], cells[2], line.reason, str(credential.path), cells[5]]
        items = [QTableWidgetItem(text) for text in cells]
        for column, item in enumerate(items):
            item.setToolTip(full[column])
            table.setItem(row, column, item)
        # The badge draws the status; the item keeps it for screen readers, not painted twice.
        badge_item = items[1]
        badge_item.setData(Qt.ItemDataRole.AccessibleTextRole, cells[1])
        badge_item.setText("")
        badge = StatusBadge(status)
        # The item has no text, so it tells the view how much room the badge needs: otherwise
        # resizing columns and rows to their contents would clip it.
        badge_item.setData(Qt.ItemDataRole.SizeHintRole, badge.sizeHint() + QSize(16, 10))
        table.setCellWidget(row, 1, badge_cell(badge))

    def _home_relative(self, text: str) -> str:
        """Paths under the scanned home shown as ``~/...``: shorter, and the same for everyone."""
        if self.plan is None:
            return text
        home = str(self.plan.home).rstrip("/\\")
        return text.replace(home + "/", "~/").replace(home + "\\", "~\\")

    def _update_migrate_enabled(self) -> None:
        can = False
        if self.plan is not None and not self._busy and not self._scanning:
            chosen = set(self.checked_store_paths())
            can = any(s.will_write for s in self.plan.stores if s.path in chosen)
        self.migrate_button.setEnabled(can)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_store_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if self.plan is None or current is None:
            return
        self._show_store(self.plan.store(Path(current.data(PATH_ROLE))))

    @Slot(QListWidgetItem)
    def _on_store_item_changed(self, item: QListWidgetItem) -> None:
        if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            self._checked[Path(item.data(PATH_ROLE))] = item.checkState() == Qt.CheckState.Checked
        self._update_migrate_enabled()

    @Slot()
    def _on_migrate_clicked(self) -> None:
        paths = self.checked_store_paths()
        if paths:
            self.migrate_requested.emit(paths)

    @Slot()
    def _on_undo_clicked(self) -> None:
        migrated = [r.path for r in self._results if r.outcome == "migrated"]
        if migrated:
            self.undo_requested.emit(migrated)

    @Slot()
    def _on_open_backup_clicked(self) -> None:
        for result in self._results:
            if result.backup:
                self.open_backup_requested.emit(Path(result.backup))
                return
