"""The plan page: stores, the providers of the chosen store, what will happen, the keyring option.

A view: it lays out the :class:`MigrationPlan` it is given, keeps its widgets to itself, and
reports the user's choices through signals. No key in its list or table writes anything: the
window's buttons never become the default, and Enter there does nothing. It is built and
filled on the way to the first plan, so it never names PySide6's ``Qt`` namespace
(:mod:`.qt_values`) but where a store cannot be migrated.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agentmux_companion.core.migration.plan import MigrationPlan, ProviderPlan, StorePlan
from agentmux_companion.ui.keyring_health import CHECKING, BackendHealth, Health, health_words, reason_words
from agentmux_companion.ui.messages import escape
from agentmux_companion.ui.qt_values import (
    ACCESSIBLE_TEXT_ROLE,
    CHECK_STATE_ROLE,
    CHECKED,
    SIZE_HINT_ROLE,
    UNCHECKED,
    USER_ROLE,
    set_enum_property,
)
from agentmux_companion.ui.widgets import (
    UNCHECKED_BOX_STYLE,
    Disclosure,
    PathLabel,
    StatusBadge,
    badge_cell,
    set_shown,
    table_item,
    wrapped_label,
)
from agentmux_companion.ui.words import (
    action_words,
    agent_records,
    bundle_words,
    relevant_notes,
    semantics_words,
    status_words,
    store_details,
    store_line,
    why_words,
)

PATH_ROLE = USER_ROLE + 1
COLUMNS = 4  # provider, login, what happens, why (files and fingerprints are under Details)

#: What the keyring copy is for, and that it goes stale, in one sentence (the option's words).
KEYRING_OPTION_NOTE = (
    "A copy in the keyring lets AgentMux's keychain option find the login; it is a snapshot that goes "
    "stale when the tool renews its token, while AgentMux keeps using the tool's own folder.")


class PlanPage(QWidget):
    """The migration preview.

    Signals:
        choice_changed(): the checked stores changed (the window re-evaluates Migrate).
    """

    choice_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan: MigrationPlan | None = None
        self._checked: dict[Path, bool] = {}

        self.stores_list = QListWidget()
        self.stores_list.setAccessibleName(self.tr("AgentMux stores"))
        self.stores_list.setAccessibleDescription(self.tr(
            "Checked stores are migrated. Use the arrow keys to choose a store and Space to check it."))
        self.stores_list.currentItemChanged.connect(self._on_current_store_changed)
        self.stores_list.itemChanged.connect(self._on_store_item_changed)
        self.refused_label = wrapped_label("", self.tr("Why this store cannot be migrated"))
        self.refused_label.hide()
        stores_box = QGroupBox(self.tr("&Stores"))
        stores_layout = QVBoxLayout(stores_box)
        stores_layout.addWidget(self.stores_list)
        stores_layout.addWidget(self.refused_label)

        self.providers_table = QTableWidget(0, COLUMNS)
        self.providers_table.setHorizontalHeaderLabels(
            [self.tr("Tool"), self.tr("Login"), self.tr("What happens"), self.tr("Why")])
        self.providers_table.setAccessibleName(self.tr("Logins in this store"))
        self.providers_table.setAccessibleDescription(self.tr(
            "One row per AI coding tool: whether its login was found and what the migration does with it."))
        self.providers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.providers_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.providers_table.setTabKeyNavigation(False)
        self.providers_table.setWordWrap(True)
        set_enum_property(self.providers_table, "textElideMode", "ElideMiddle")
        self.providers_table.verticalHeader().setVisible(False)
        header = self.providers_table.horizontalHeader()
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # The wrapped "Why" column stretches with the page: when it (or any column) changes width,
        # the rows and the backup path fit again (_fit_to_width). A signal, not a resize handler
        # (widgets.PathLabel.refit says why).
        header.sectionResized.connect(self._on_section_resized)
        self._fit_pending = False
        providers_box = QGroupBox(self.tr("&Logins in this store"))
        QVBoxLayout(providers_box).addWidget(self.providers_table)

        self.bundle_value = wrapped_label("", self.tr("Default bundle"))
        self.agents_value = wrapped_label("", self.tr("Agents that will use it"))
        self.backup_value = PathLabel(self.tr("Backup folder"))
        self.semantics_value = wrapped_label("", self.tr("How AgentMux will use the logins"))
        summary = QFormLayout()
        summary.addRow(self.tr("Logins:"), self.semantics_value)
        summary.addRow(self.tr("Default bundle:"), self.bundle_value)
        summary.addRow(self.tr("Agents that will use it:"), self.agents_value)
        summary.addRow(self.tr("Backup goes to:"), self.backup_value)
        self.notes_label = wrapped_label("", self.tr("Notes"))
        self.details = Disclosure(self.tr("&Details"))

        # The keyring copy: explicit and off by default; health arrives from a background check.
        self.keyring_checkbox = QCheckBox(self.tr("Also copy the logins into the system &keyring"))
        self.keyring_checkbox.setAccessibleName(self.tr("Also copy the logins into the system keyring"))
        self.keyring_checkbox.setAccessibleDescription(self.tr(KEYRING_OPTION_NOTE))
        self.keyring_note = wrapped_label(self.tr(KEYRING_OPTION_NOTE), self.tr("What the keyring copy is for"))
        self.keyring_status = wrapped_label("", self.tr("Keyring"))
        self.keyring_reason = wrapped_label("", self.tr("Keyring health"))
        keyring_box = QVBoxLayout()
        keyring_box.setSpacing(2)
        keyring_box.addWidget(self.keyring_checkbox)
        keyring_box.addWidget(self.keyring_note)
        keyring_box.addWidget(self.keyring_status)
        keyring_box.addWidget(self.keyring_reason)
        self.keyring_backend: BackendHealth = CHECKING
        self.show_keyring_backend(CHECKING)
        self.style_check_boxes()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(stores_box)
        layout.addWidget(providers_box, 1)
        layout.addLayout(summary)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.details)
        layout.addLayout(keyring_box)

    # ------------------------------------------------------------------------------------------
    # What the window calls

    def focus_chain(self) -> list[QWidget]:
        """This page's focusable controls in reading order (the window links them in its tab order)."""
        return [self.stores_list, self.providers_table, self.backup_value.copy_button, self.details.toggle,
                self.keyring_checkbox]

    def show_plan(self, plan: MigrationPlan) -> None:
        """Show a (new) plan; the user's store choices survive a rescan."""
        self.plan = plan
        current = self.current_store_path()
        self.stores_list.blockSignals(True)
        self.stores_list.clear()
        for store_plan in plan.stores:
            item = QListWidgetItem(store_line(store_plan))
            item.setData(PATH_ROLE, str(store_plan.path))
            item.setToolTip(str(store_plan.path))
            if store_plan.will_write:  # a new item is user-checkable: it needs only its state
                checked = self._checked.get(store_plan.path, store_plan.location.default_target)
                item.setData(CHECK_STATE_ROLE, CHECKED if checked else UNCHECKED)
            else:
                from PySide6.QtCore import Qt  # only here: a store that cannot be migrated is rare

                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            self.stores_list.addItem(item)
        paths = [s.path for s in plan.stores]
        row = paths.index(current) if current in paths else 0
        if plan.stores:
            # Chosen with the signals still held, then shown once below: the current-item signal
            # would fill the table a first time, only for it to be filled again.
            self.stores_list.setCurrentRow(row)
        self.stores_list.blockSignals(False)
        rows = max(1, min(self.stores_list.count(), 3))
        frame = 2 * self.stores_list.frameWidth()
        self.stores_list.setFixedHeight(rows * max(self.stores_list.sizeHintForRow(0), 18) + frame + 4)
        self._show_store(plan.stores[row] if plan.stores else None)
        self.choice_changed.emit()

    def show_keyring_backend(self, backend: BackendHealth) -> None:
        """The keyring in use and its health; the option is offered only for a secure one."""
        self.keyring_backend = backend
        self.keyring_status.setText(health_words(backend))
        self.keyring_reason.setText(reason_words(backend))
        set_shown(self.keyring_reason, bool(self.keyring_reason.text()))
        unusable = backend.health in (Health.INSECURE, Health.UNAVAILABLE)
        if unusable:
            self.keyring_checkbox.setChecked(False)
        self.keyring_checkbox.setEnabled(not unusable)

    def disable_keyring(self, why: str) -> None:
        """The demo: the option is off and says why."""
        self.keyring_checkbox.setChecked(False)
        self.keyring_checkbox.setEnabled(False)
        self.keyring_status.setText(escape(why))
        self.keyring_reason.hide()

    def wants_keyring_copy(self) -> bool:
        """Whether the keyring copy option is available and checked."""
        return self.keyring_checkbox.isEnabled() and self.keyring_checkbox.isChecked()

    def checked_store_paths(self) -> list[Path]:
        """The stores the user left checked (stores that cannot be migrated have no check box)."""
        paths = []
        for row in range(self.stores_list.count()):
            item = self.stores_list.item(row)
            if item.data(CHECK_STATE_ROLE) == CHECKED:
                paths.append(Path(item.data(PATH_ROLE)))
        return paths

    def current_store_path(self) -> Path | None:
        """The store selected in the list, whose logins the table shows, or None."""
        item = self.stores_list.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None

    def provider_rows(self) -> list[tuple[str, str, str, str]]:
        """The table's content row by row, the core's full reason for "Why" (the tests read it)."""
        rows = []
        for row in range(self.providers_table.rowCount()):
            cells = [table_item(self.providers_table, row, c).text() for c in range(COLUMNS)]
            cells[1] = str(table_item(self.providers_table, row, 1).data(ACCESSIBLE_TEXT_ROLE))
            cells[3] = table_item(self.providers_table, row, 3).toolTip()
            rows.append((cells[0], cells[1], cells[2], cells[3]))
        return rows

    def style_check_boxes(self) -> None:
        """Style the unchecked boxes so they stay visible, again after a palette switch."""
        # A widget with a style sheet keeps the palette it was polished with: set again on a switch.
        for widget, kind in ((self.stores_list, "QListWidget"), (self.keyring_checkbox, "QCheckBox")):
            widget.setStyleSheet("")
            widget.setStyleSheet(UNCHECKED_BOX_STYLE.format(kind))

    # ------------------------------------------------------------------------------------------
    # Internals

    def _show_store(self, store_plan: StorePlan | None) -> None:
        table = self.providers_table
        table.setRowCount(0)
        if store_plan is None or self.plan is None:
            for label in (self.bundle_value, self.agents_value, self.semantics_value):
                label.setText("—")
            self.backup_value.set_path("—", copyable=False)
            for widget in (self.refused_label, self.notes_label, self.details):
                widget.hide()
            return
        for line in store_plan.providers:
            self._add_provider_row(line)
        table.resizeRowsToContents()
        self.refused_label.setText(self.tr("<b>Cannot be migrated:</b> {0}").format(escape(store_plan.refused or "")))
        set_shown(self.refused_label, bool(store_plan.refused))
        self.bundle_value.setText(bundle_words(store_plan.bundle))
        self.semantics_value.setText(semantics_words(store_plan) or "—")
        self.agents_value.setText(agent_records(store_plan.instances_to_backfill, store_plan.agents_to_backfill))
        if store_plan.will_write:
            self.backup_value.set_path(str(self.plan.backups_dir))
        else:
            self.backup_value.set_path(self.tr("no backup needed (nothing is written)"), copyable=False)
        notes = relevant_notes(self.plan, store_plan)
        self.notes_label.setText("\n".join(notes))
        set_shown(self.notes_label, bool(notes))
        self.details.set_text(store_details(self.plan, store_plan))
        set_shown(self.details, True)

    def _add_provider_row(self, line: ProviderPlan) -> None:
        table = self.providers_table
        row = table.rowCount()
        table.insertRow(row)
        status = line.credential.status.value if line.credential.status else "missing"
        cells = [line.display_name, status_words(status), action_words(line.action),
                 self._home_relative(why_words(line))]
        full = [cells[0], cells[1], cells[2], line.reason]
        items = [QTableWidgetItem(text) for text in cells]
        for column, item in enumerate(items):
            item.setToolTip(full[column])
            table.setItem(row, column, item)
        # The badge draws the status; the item keeps it for screen readers, not painted twice.
        badge_item = items[1]
        badge_item.setData(ACCESSIBLE_TEXT_ROLE, cells[1])
        badge_item.setText("")
        badge = StatusBadge(status)
        badge_item.setData(SIZE_HINT_ROLE, badge.sizeHint() + QSize(16, 10))
        table.setCellWidget(row, 1, badge_cell(badge))

    def _home_relative(self, text: str) -> str:
        """Paths under the scanned home shown as ``~/...``: shorter, and the same for everyone."""
        if self.plan is None:
            return text
        home = str(self.plan.home).rstrip("/\\")
        return text.replace(home + "/", "~/").replace(home + "\\", "~\\")

    @Slot(int, int, int)
    def _on_section_resized(self, _column: int, _old: int, _new: int) -> None:
        if not self._fit_pending:  # one fit for the sections a resize changes together
            self._fit_pending = True
            # After this turn: the header is still laying out its sections when it says so. The
            # page is the call's context: a page deleted meanwhile drops it.
            QTimer.singleShot(0, self, self._fit_to_width)

    @Slot()
    def _fit_to_width(self) -> None:
        self._fit_pending = False
        self.providers_table.resizeRowsToContents()
        self.backup_value.refit()

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_store_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if self.plan is None or current is None:
            return
        self._show_store(self.plan.store(Path(current.data(PATH_ROLE))))

    @Slot(QListWidgetItem)
    def _on_store_item_changed(self, item: QListWidgetItem) -> None:
        state = item.data(CHECK_STATE_ROLE)
        if state is not None:  # a store that can be migrated: it has a check box
            self._checked[Path(item.data(PATH_ROLE))] = state == CHECKED
        self.choice_changed.emit()
