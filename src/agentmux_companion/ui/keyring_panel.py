"""The keyring panel: which bound logins have a copy in the OS keyring, and how current it is.

Reached from the tray's "Copy to keyring…". A view only: it shows what the
:class:`~.keyring_controller.KeyringController` gathered (backend health, one row per account) and
reports Copy / Remove / Close through signals. It says plainly what the copy is: a snapshot that
goes stale when the CLI refreshes its token, while AgentMux keeps using the CLI's own folder.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agentmux_companion.core.keyring.view import AccountRow, CopyState
from agentmux_companion.ui.keyring_health import BackendHealth, Health, health_words, reason_words, snapshot_words
from agentmux_companion.ui.keyring_model import KeyringOverview
from agentmux_companion.ui.keyring_words import state_details, state_words
from agentmux_companion.ui.messages import UserMessage, escape
from agentmux_companion.ui.widgets import Badge, MessageBanner, ProgressStrip, badge_cell, table_item

COLUMNS = 6
ENTRY_COLUMN = 1
STATE_COLUMN = 3
ENTRY_ID_SHOWN = 8  # characters of the account id shown in the cell (the tooltip has it all)

# The same saturated mid-tones as the login badges: white text reads on light and dark palettes.
STATE_COLOURS = {
    CopyState.CURRENT: "#1e7b34",
    CopyState.STALE: "#9a5b00",
    CopyState.SOURCE_GONE: "#9a5b00",
    CopyState.INCOMPLETE: "#b3261e",
    CopyState.CONFLICT: "#b3261e",
    CopyState.TOO_LARGE: "#b3261e",
    CopyState.NOT_COPIED: "#5b6470",
}


class KeyringPanel(QDialog):
    """The keyring copies of the bound logins, with Copy, Remove copies and Close.

    Signals:
        copy_requested(): copy (again) every bound login.
        remove_requested(): remove the recorded copies (the controller asks for confirmation).
        refresh_requested(): read the state again.
        closed(): the panel was closed.
    """

    copy_requested = Signal()
    remove_requested = Signal()
    refresh_requested = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Copy to keyring — AgentMux Companion"))
        self.setAccessibleName(self.tr("Keyring copies"))
        self.setMinimumSize(720, 420)
        self.overview: KeyringOverview | None = None
        self._busy = False

        self.intro_label = QLabel(self.tr(
            "The companion can copy each login AgentMux uses into your system keyring, where AgentMux's "
            "keychain option looks for it. {0}").format(escape(snapshot_words())))
        self.intro_label.setWordWrap(True)
        self.intro_label.setAccessibleName(self.tr("About the keyring copy"))
        self.backend_label = QLabel(health_words(BackendHealth(Health.CHECKING)))
        self.backend_label.setAccessibleName(self.tr("Keyring backend"))
        self.backend_reason = QLabel()
        self.backend_reason.setWordWrap(True)
        self.backend_reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.backend_reason.setAccessibleName(self.tr("Keyring backend health"))
        self.backend_reason.hide()
        self.banner = MessageBanner()

        self.table = QTableWidget(0, COLUMNS)
        self.table.setHorizontalHeaderLabels([
            self.tr("Provider"), self.tr("Keyring entry"), self.tr("Fingerprint"), self.tr("Copy"),
            self.tr("Details"), self.tr("Copied"),
        ])
        self.table.setAccessibleName(self.tr("Bound logins and their keyring copies"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column in (0, 1, 2, 3, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel(self.tr("Looking for bound logins…"))
        self.empty_label.setWordWrap(True)
        self.empty_label.setAccessibleName(self.tr("Keyring copies status"))

        self.progress_box = ProgressStrip()

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleName(self.tr("Keyring copy result"))
        self.result_label.hide()

        self.copy_button = QPushButton(self.tr("&Copy"))
        self.copy_button.setAccessibleName(self.tr("Copy to keyring"))
        self.copy_button.setEnabled(False)
        self.copy_button.setAutoDefault(False)  # no button is the default: Enter in the table writes nothing
        self.remove_button = QPushButton(self.tr("&Remove copies…"))
        self.remove_button.setAccessibleName(self.tr("Remove keyring copies"))
        self.remove_button.setEnabled(False)
        self.remove_button.setAutoDefault(False)
        self.refresh_button = QPushButton(self.tr("Re&fresh"))
        self.refresh_button.setAccessibleName(self.tr("Refresh"))
        self.refresh_button.setAutoDefault(False)
        self.close_button = QPushButton(self.tr("C&lose"))
        self.close_button.setAccessibleName(self.tr("Close"))
        self.close_button.setAutoDefault(False)
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.copy_button.clicked.connect(self.copy_requested)
        self.remove_button.clicked.connect(self.remove_requested)
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro_label)
        layout.addWidget(self.backend_label)
        layout.addWidget(self.backend_reason)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)

        QWidget.setTabOrder(self.table, self.copy_button)
        QWidget.setTabOrder(self.copy_button, self.remove_button)
        QWidget.setTabOrder(self.remove_button, self.refresh_button)
        QWidget.setTabOrder(self.refresh_button, self.close_button)
        QWidget.setTabOrder(self.close_button, self.banner.dismiss)

    # ------------------------------------------------------------------------------------------
    # What the controller calls

    def show_backend(self, backend: BackendHealth) -> None:
        """Say which keyring backend is in use and, when it cannot be used, why."""
        self.backend_label.setText(health_words(backend))
        self.backend_reason.setText(reason_words(backend))
        self.backend_reason.setVisible(bool(self.backend_reason.text()))

    def show_overview(self, overview: KeyringOverview) -> None:
        """Show one row per account with its copy's state, and update the buttons."""
        self.overview = overview
        self.show_backend(overview.backend)
        if overview.keyring_error and overview.backend.usable:
            self.backend_reason.setText(self.tr("The keyring could not be asked about the copies: {0}").format(
                overview.keyring_error))
            self.backend_reason.show()
        table = self.table
        table.setRowCount(0)
        for row in overview.rows:
            self._add_row(row)
        table.resizeRowsToContents()
        if not overview.rows:
            self.empty_label.setText(self.tr(
                "No AgentMux store binds a CLI login yet, and no copy is recorded. Migrate first."))
        self.empty_label.setVisible(not overview.rows)
        self._update_buttons()

    def show_working(self, text: str) -> None:
        """Enter the busy state with ``text`` as the first step; the buttons wait until it ends."""
        self._busy = True
        self.progress_box.start(text)
        self._update_buttons()

    def show_progress(self, text: str) -> None:
        """Show the next step of the work under way."""
        self.progress_box.step(text)

    def show_idle(self) -> None:
        """Leave the busy state: progress hidden, buttons enabled as the overview allows."""
        self._busy = False
        self.progress_box.stop()
        self._update_buttons()

    def show_result(self, html: str) -> None:
        """Show a copy's or a removal's result (rich text)."""
        self.result_label.setText(html)
        self.result_label.show()

    def show_message(self, message: UserMessage) -> None:
        """Show a message in the panel's banner."""
        self.banner.show_message(message)

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """The table row by row, the keyring entry in full (the tests read it)."""
        rows = []
        for row in range(self.table.rowCount()):
            cells = [table_item(self.table, row, c).text() for c in range(COLUMNS)]
            cells[ENTRY_COLUMN] = table_item(self.table, row, ENTRY_COLUMN).toolTip()
            cells[STATE_COLUMN] = table_item(self.table, row, STATE_COLUMN).data(Qt.ItemDataRole.AccessibleTextRole)
            rows.append((cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]))
        return rows

    # ------------------------------------------------------------------------------------------
    # Internals

    def done(self, result: int) -> None:  # Esc, Close and the title bar's close all end here
        """Close the panel however it was asked (Esc, Close, title bar) and emit ``closed``."""
        super().done(result)
        self.closed.emit()

    def _add_row(self, line: AccountRow) -> None:
        table = self.table
        row = table.rowCount()
        table.insertRow(row)
        words = state_words(line.state)
        copied = ""
        if line.copied_at_ms is not None:
            # Unambiguous in every locale, and the same form the CLI's status uses for times.
            copied = QDateTime.fromMSecsSinceEpoch(line.copied_at_ms).toString("yyyy-MM-dd HH:mm")
        cells = [line.provider, _short_entry(line.keyring_entry), line.fingerprint, words, state_details(line), copied]
        full = [line.provider, line.keyring_entry, line.fingerprint, words, cells[4], copied]
        items = [QTableWidgetItem(text) for text in cells]
        for column, item in enumerate(items):
            item.setToolTip(full[column])
            table.setItem(row, column, item)
        # Screen readers get the whole entry name; the cell shows its start (account ids are long).
        items[ENTRY_COLUMN].setData(Qt.ItemDataRole.AccessibleTextRole, line.keyring_entry)
        state_item = items[STATE_COLUMN]
        state_item.setData(Qt.ItemDataRole.AccessibleTextRole, words)
        state_item.setText("")  # the badge draws it
        badge = Badge(words, STATE_COLOURS[line.state], self.tr("Copy: {0}").format(words))
        table.setCellWidget(row, STATE_COLUMN, badge_cell(badge))

    def _update_buttons(self) -> None:
        overview = self.overview
        recorded = overview is not None and overview.recorded_count > 0
        bound = overview is not None and overview.bound_count > 0
        self.copy_button.setText(self.tr("Copy &again") if recorded else self.tr("&Copy"))
        self.copy_button.setAccessibleName(self.tr("Copy to keyring again") if recorded else self.tr("Copy to keyring"))
        self.copy_button.setEnabled(bound and not self._busy)
        self.remove_button.setEnabled(recorded and not self._busy)
        self.refresh_button.setEnabled(not self._busy)


def _short_entry(entry: str) -> str:
    """``agentmux/acct:2ab387d8…`` for a long account id: enough to tell rows apart."""
    service, _, account = entry.partition("/")
    kind, colon, account_id = account.partition(":")
    if not colon or len(account_id) <= ENTRY_ID_SHOWN + 1:
        return entry
    return f"{service}/{kind}:{account_id[:ENTRY_ID_SHOWN]}…"
