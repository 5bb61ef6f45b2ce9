"""The crash dialog: a bug reached the top; show what happened with details people can copy.

Details are redacted (``core.log.redact``) before they get here: the report may be pasted into an
issue tracker, so it must never carry a token.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agentmux_companion.ui.messages import CrashReport


class CrashDialog(QDialog):
    """Shows a :class:`CrashReport`: a summary, the details, Copy details, Open log and Close.

    Signals:
        open_log_requested(): the user wants to see the log file.
    """

    open_log_requested = Signal()

    def __init__(self, report: CrashReport, log_location: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setWindowTitle(self.tr("AgentMux Companion: unexpected error"))
        self.setAccessibleName(self.tr("Unexpected error"))
        self.resize(640, 420)

        intro = QLabel(self.tr(
            "Something went wrong that the companion did not expect. This is a bug; nothing was "
            "written beyond what any finished step reports. Copy the details below into a bug "
            "report. Secrets are masked in them. The log is in {0}."
        ).format(log_location))
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        summary = QLabel(f"<b>{_escape(report.summary)}</b>")
        summary.setWordWrap(True)
        summary.setAccessibleName(self.tr("Error summary"))

        self.details = QPlainTextEdit(report.details)
        self.details.setReadOnly(True)
        self.details.setAccessibleName(self.tr("Error details"))
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setTabChangesFocus(True)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton(self.tr("&Copy details"))
        self.copy_button.setAccessibleName(self.tr("Copy details"))
        self.open_log_button = QPushButton(self.tr("Open &log"))
        self.open_log_button.setAccessibleName(self.tr("Open log"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_log_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.open_log_button.clicked.connect(self.open_log_requested)
        self.copy_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(summary)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def copyable_text(self) -> str:
        """The report's summary and details as one text, for the clipboard."""
        return f"{self.report.summary}\n\n{self.report.details}"

    @Slot()
    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.copyable_text())
        self.copy_button.setText(self.tr("Copied"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
