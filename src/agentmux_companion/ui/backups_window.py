"""The "Backups…" window: the catalog in plain words, Restore with a confirmation, Show in folder.

Reached from the tray menu. Reading the catalog and restoring both run as jobs on the runner it is
given (the controller's, so a restore counts as work under way and cannot overlap a migration);
the window only shows what the jobs return. A restore asks first, naming the backup, the store
and what will change, and says afterwards what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agentmux_companion.core import backup_catalog as catalog
from agentmux_companion.core.errors import CompanionError
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.ui.workers import Job, JobFailure, JobRunner

if TYPE_CHECKING:
    from agentmux_companion.ui.dialogs import ConfirmDialog

ENTRY_ROLE = Qt.ItemDataRole.UserRole


class _Funnel(Protocol):
    def error(self, error: BaseException, details: str = "") -> None: ...


class BackupsOwner(Protocol):
    """What the window needs from the controller that opens it."""

    @property
    def paths(self) -> AppPaths:
        """Where the companion keeps its ledger and backups."""
        ...

    @property
    def runner(self) -> JobRunner:
        """The job runner that reads and restores off the GUI thread."""
        ...

    @property
    def funnel(self) -> _Funnel:
        """Where a failed read or restore is reported."""
        ...

    def request_rescan_after_work(self) -> None:
        """Rescan once the restore is done: it changed a store."""
        ...


class ListedBackup(NamedTuple):
    """One catalogued backup and what restoring it would take back (read on a worker)."""

    entry: catalog.CatalogEntry
    runs_taken_back: int
    exists: bool


def load_backups(paths: AppPaths) -> list[ListedBackup]:
    """The catalog, newest first, with what each restore would undo (blocking: run it in a job)."""
    from agentmux_companion.core.migration.restore import runs_taken_back

    return [
        ListedBackup(entry, len(runs_taken_back(paths, entry)), Path(entry.path).is_file())
        for entry in catalog.entries(paths.ledger_path)
    ]


class BackupsWindow(QDialog):
    """Every backup the companion took, with Restore… and Show in folder.

    Signals:
        restored(object): a restore finished (its :class:`~agentmux_companion.core.migration.undo.UndoResult`).
        failed_unexpectedly(object): a job failed with a bug (a :class:`JobFailure`), for the
            crash dialog; known refusals are shown in the window itself.
    """

    restored = Signal(object)
    failed_unexpectedly = Signal(object)

    def __init__(self, paths: AppPaths, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.runner = runner
        self.listed: list[ListedBackup] = []
        self.dialog: ConfirmDialog | None = None
        self.setWindowTitle(self.tr("Backups — AgentMux Companion"))
        self.setAccessibleName(self.tr("Backups"))

        intro = QLabel(self.tr(
            "Copies of AgentMux's stores that the companion took before changing them. Restoring one "
            "puts a store's whole content back as it was then; a copy of the store as it is now is taken "
            "first, so a restore can be restored away too."))
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Backups, newest first"))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(self._on_selection_changed)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName(self.tr("Status"))
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setAccessibleName(self.tr("Outcome of the last restore"))

        buttons = QDialogButtonBox()
        self.restore_button = QPushButton(self.tr("&Restore…"))
        self.restore_button.setAccessibleName(self.tr("Restore the selected backup"))
        self.show_button = QPushButton(self.tr("&Show in folder"))
        self.show_button.setAccessibleName(self.tr("Show the selected backup in its folder"))
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.close)
        for button in (self.restore_button, self.show_button, close):
            button.setAutoDefault(False)  # Enter in the list presses nothing: every write is asked for
        self.restore_button.clicked.connect(self.confirm_restore)
        self.show_button.clicked.connect(self.show_in_folder)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.outcome)
        layout.addWidget(buttons)
        self.resize(640, 420)
        self._update_buttons()

    # ------------------------------------------------------------------------------------------
    # Reading the catalog

    def refresh(self) -> None:
        """Read the catalog again (in a job)."""
        paths = self.paths
        self.status.setText(self.tr("Reading the catalog…"))
        self._run(Job("backups-list", lambda _progress: load_backups(paths), self), self._on_loaded)

    @Slot(object)
    def _on_loaded(self, listed: object) -> None:
        assert isinstance(listed, list)
        self.listed = listed
        self.list.clear()
        for item in listed:
            entry = item.entry
            words = entry.describe() if item.exists else self.tr("{0} — the file is gone").format(entry.describe())
            row = QListWidgetItem(f"{words}\n{entry.store_path}")
            row.setData(ENTRY_ROLE, entry.id)
            row.setToolTip(entry.path)
            self.list.addItem(row)
        if listed:
            self.list.setCurrentRow(0)
            self.status.setText(self.tr("{0} backup(s), in {1}").format(len(listed), self.paths.backups_dir))
        else:
            self.status.setText(self.tr("No backups yet: one is taken before every migration, undo or restore."))
        self._update_buttons()

    def selected(self) -> ListedBackup | None:
        """The backup selected in the list, or None when nothing is selected."""
        row = self.list.currentRow()
        return self.listed[row] if 0 <= row < len(self.listed) else None

    @Slot()
    def _on_selection_changed(self) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected()
        idle = not self.runner.busy
        self.restore_button.setEnabled(chosen is not None and chosen.exists and idle)
        self.show_button.setEnabled(chosen is not None and chosen.exists)

    # ------------------------------------------------------------------------------------------
    # Actions

    @Slot()
    def show_in_folder(self) -> None:
        """Open the folder holding the selected backup in the desktop's file manager."""
        chosen = self.selected()
        if chosen is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(chosen.entry.path).parent)))

    def restore_question(self, chosen: ListedBackup) -> str:
        """The confirmation's text: which backup, which store, and what will change."""
        entry = chosen.entry
        text = self.tr(
            "Restore “{0}”?\n\nThe store {1} gets back the whole content it had then: anything AgentMux or "
            "the companion changed in it since is lost.").format(entry.describe(), entry.store_path)
        if chosen.runs_taken_back:
            text += " " + self.tr("{0} migration(s) made since will count as undone.").format(chosen.runs_taken_back)
        if entry.reason == "undo":
            text += " " + self.tr("The migration that undo reversed comes back.")
        return text + "\n\n" + self.tr(
            "A copy of the store as it is now is taken first. Close AgentMux before restoring.")

    @Slot()
    def confirm_restore(self) -> None:
        """Ask before restoring the selected backup, naming what will change; restores on yes."""
        chosen = self.selected()
        if chosen is None or self.runner.busy:
            return
        from agentmux_companion.ui.dialogs import Confirmation, WriteKind, ask

        # The one confirmation every write uses: verb button, Cancel the default.
        confirmation = Confirmation(WriteKind.RESTORE, self.tr("Restore a backup?"), self.tr("&Restore the backup"),
                                    tuple(self.restore_question(chosen).split("\n\n")))
        self.dialog = ask(confirmation, self, lambda: self.restore(chosen))

    def restore(self, chosen: ListedBackup) -> None:
        """Restore ``chosen`` over its store (in a job); the catalog is read again afterwards."""
        paths = self.paths
        store, backup = Path(chosen.entry.store_path), Path(chosen.entry.path)

        def restore_job(_progress: Callable[[str], None]) -> object:
            from agentmux_companion.core.migration.undo import undo_from_backup

            return undo_from_backup(paths, store, backup)

        self.outcome.setText(self.tr("Restoring {0}…").format(chosen.entry.describe()))
        self._run(Job("restore", restore_job, self), self._on_restored)

    @Slot(object)
    def _on_restored(self, result: object) -> None:
        describe = getattr(result, "describe", None)
        self.outcome.setText(self.tr("Restored: {0}").format(describe() if callable(describe) else result))
        self.restored.emit(result)
        self.refresh()

    # ------------------------------------------------------------------------------------------

    def _run(self, job: Job, on_finished: Callable[[object], None]) -> None:
        job.finished.connect(on_finished)
        job.failed.connect(self._on_failed)
        job.done.connect(self._update_buttons)
        self.runner.start(job)
        self._update_buttons()

    @Slot(object)
    def _on_failed(self, failure: JobFailure) -> None:
        if isinstance(failure.error, CompanionError):
            self.outcome.setText(self.tr("Nothing was changed: {0}").format(failure.error.message))
        else:
            self.outcome.setText(self.tr("Unexpected error (a bug); see the details"))
            self.failed_unexpectedly.emit(failure)


def show_backups_window(window: BackupsWindow | None, controller: BackupsOwner) -> BackupsWindow:
    """Show (creating it on first use) the window for the tray menu's "Backups…".

    Restores count as the controller's work (its runner), a finished one makes it look again at
    the stores, and a bug reaches its crash dialog.
    """
    if window is None:
        window = BackupsWindow(controller.paths, controller.runner)
        window.restored.connect(lambda _result: controller.request_rescan_after_work())
        window.failed_unexpectedly.connect(lambda f: controller.funnel.error(f.error, f.details))
    window.refresh()
    window.show()
    window.raise_()
    return window
