"""Small widgets the windows share: badges, the progress strip, the message banner, paths, Details.

Views only: each lays out its own children and reports what the user does through signals.
Information is never drawn in the disabled grey (it fails contrast on light palettes): hints use
the palette's normal text roles, which :func:`contrast_ratio` lets the tests check. The first
window is built from these, so they never name PySide6's ``Qt`` namespace (:mod:`.qt_values`).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Slot
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agentmux_companion.core.log import redact
from agentmux_companion.ui.messages import Level, UserMessage, escape
from agentmux_companion.ui.qt_values import set_enum_property
from agentmux_companion.ui.words import status_words

# Badge colours: saturated mid-tones with white text read well on light and dark palettes alike.
# These are the only fixed colours in the UI; everything else follows the system palette.
BADGE_COLOURS = {
    "valid": "#1e7b34",
    "expired": "#9a5b00",
    "needs_reauth": "#b3261e",
    "unknown": "#5b6470",
    "missing": "#5b6470",
}

#: An unchecked box drawn with a border in the palette's text colour. Fusion borders it with a
#: shade of the window colour, which all but vanishes on a dark palette.
UNCHECKED_BOX_STYLE = (
    "{0}::indicator:unchecked {{ border: 1px solid palette(text); background: palette(base);"
    " border-radius: 2px; }}"
)


def relative_luminance(colour: QColor) -> float:
    """WCAG 2 relative luminance of an opaque colour."""
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast_ratio(foreground: QColor, background: QColor) -> float:
    """WCAG 2 contrast ratio (1 to 21) of two colours."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class Badge(QLabel):
    """A state as colour plus text (the text carries the meaning; colour only helps)."""

    def __init__(self, text: str, colour: str, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        set_enum_property(self, "alignment", "AlignCenter")
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
    # Centred by stretches on both sides; the badge's Maximum size policy centres it vertically.
    holder_layout.addStretch()
    holder_layout.addWidget(badge)
    holder_layout.addStretch()
    return holder


def set_shown(widget: QWidget, shown: bool) -> None:
    """``widget.setVisible(shown)``, skipped when the widget is on screen already and ``shown``.

    Qt lays out the whole window again, there and then, each time a child of a shown window is
    shown, even one on screen already: a plan's fill made it five times, 9 million instructions
    of the 25 million the first fill took.
    """
    if not (shown and widget.isVisible()):
        widget.setVisible(shown)


def wrapped_label(text: str = "", accessible_name: str = "") -> QLabel:
    """A word-wrapped label in the palette's normal text colour, named for screen readers."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAccessibleName(accessible_name)
    return label


class ProgressStrip(QWidget):
    """A busy bar and the words of the current step, shown while a job runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setAccessibleName(self.tr("Progress"))
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setAccessibleName(self.tr("Current step"))
        row = QHBoxLayout(self)
        row.addWidget(self.bar, 1)
        row.addWidget(self.label, 2)
        self.hide()

    def start(self, text: str) -> None:
        """Show the busy bar with ``text`` as the current step."""
        self.label.setText(text)
        self.show()

    def step(self, text: str) -> None:
        """Show ``text`` as the current step."""
        self.label.setText(text)

    def stop(self) -> None:
        """Hide the busy bar."""
        self.hide()


class MessageBanner(QFrame):
    """The place where the message funnel's messages appear inside a window, with Copy details."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Message"))
        self.message: UserMessage | None = None
        self.icon = QLabel()
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        set_enum_property(self.text, "textInteractionFlags", "TextSelectableByMouse")
        self.copy_button = QPushButton(self.tr("Copy &details"))
        self.copy_button.setAccessibleName(self.tr("Copy details"))
        self.copy_button.setAccessibleDescription(self.tr("Copies the message, with secrets masked, to the clipboard"))
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.dismiss = QPushButton(self.tr("&Dismiss"))
        self.dismiss.setAccessibleName(self.tr("Dismiss message"))
        self.dismiss.setAutoDefault(False)
        self.dismiss.clicked.connect(self.clear)
        texts = QVBoxLayout()
        texts.addWidget(self.title)
        texts.addWidget(self.text)
        buttons = QVBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.dismiss)
        icon_column = QVBoxLayout()  # the icon at the top, a stretch below it
        icon_column.addWidget(self.icon)
        icon_column.addStretch()
        row = QHBoxLayout(self)
        row.addLayout(icon_column)
        row.addLayout(texts, 1)
        row.addLayout(buttons)
        self.hide()

    def show_message(self, message: UserMessage) -> None:
        """Show ``message`` with its level's icon, title and text, and offer to copy it."""
        from PySide6.QtWidgets import QStyle  # its ~80 enums cost more than the window's first paint

        self.message = message
        pixmap = {
            Level.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
            Level.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
            Level.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
        }[message.level]
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(32, 32))
        self.title.setText(f"<b>{escape(message.title)}</b>")
        self.text.setText(escape(message.text).replace("\n", "<br>"))
        self.setAccessibleDescription(f"{message.title}. {message.text}")
        self.copy_button.setText(self.tr("Copy &details"))
        self.show()

    @Slot()
    def clear(self) -> None:
        """Forget the message (a new state of the window makes an old message stale)."""
        self.message = None
        self.hide()

    def copyable_text(self) -> str:
        """The message's title and text, redacted, for the clipboard; empty when none is shown."""
        if self.message is None:
            return ""
        return redact(f"{self.message.title}\n{self.message.text}")

    @Slot()
    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.copyable_text())
        self.copy_button.setText(self.tr("Copied"))


def elided_in_the_middle(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` shortened in the middle with "…" to fit ``width`` pixels.

    What ``QFontMetrics.elidedText`` does with ``Qt.TextElideMode.ElideMiddle``, naming which
    would build the whole ``Qt`` namespace (:mod:`.qt_values`). Keeps as many characters as fit,
    the extra one at the start when their number is odd.
    """
    if metrics.horizontalAdvance(text) <= width:
        return text

    def keeping(count: int) -> str:
        head = (count + 1) // 2
        return text[:head] + "…" + text[len(text) - (count - head):]

    fits, too_many = 0, len(text)  # keeping `fits` characters fits; keeping all of them does not
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        if metrics.horizontalAdvance(keeping(middle)) <= width:
            fits = middle
        else:
            too_many = middle
    return keeping(fits) if fits or metrics.horizontalAdvance("…") <= width else ""


class PathLabel(QWidget):
    """A path that fits: elided in the middle, the full path in the tooltip and a Copy button."""

    def __init__(self, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.label = QLabel()
        self.label.setAccessibleName(accessible_name)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        set_enum_property(self.label, "textInteractionFlags", "TextSelectableByMouse")
        self.copy_button = QToolButton()
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setAccessibleName(self.tr("Copy {0}").format(accessible_name.lower()))
        self.copy_button.clicked.connect(self._on_copy_clicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.copy_button)

    def set_path(self, path: str, copyable: bool = True) -> None:
        """Show ``path``, elided in the middle to fit, with the full path in the tooltip.

        Args:
            path: The path to show.
            copyable: Whether to offer the Copy button (hidden anyway when ``path`` is empty).
        """
        self._full = path
        self.label.setToolTip(path)
        self.label.setAccessibleDescription(path)
        set_shown(self.copy_button, copyable and bool(path))
        self.refit()

    def full_text(self) -> str:
        """The full path, not elided."""
        return self._full

    def refit(self) -> None:
        """Elide the path again to the label's width; its owner calls this when the width changes.

        Not a resize handler: the first window has no Python event handler, because PySide6
        builds its QEvent class (an enum of 179 event types) and, for a handler taking any event, every
        event subclass the first time one is called: some 20 million instructions on the way to
        the first plan. The plan page refits its path when its table's width changes.
        """
        self.label.setText(elided_in_the_middle(self._full, self.label.fontMetrics(), max(40, self.label.width())))

    @Slot()
    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self._full)


class Disclosure(QWidget):
    """A "Details" toggle over selectable plain text, closed by default (for the technical facts)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton()
        self.toggle.setText(title)
        self.toggle.setCheckable(True)
        set_enum_property(self.toggle, "toolButtonStyle", "ToolButtonTextBesideIcon")
        set_enum_property(self.toggle, "arrowType", "RightArrow")
        self.toggle.setAccessibleName(title)
        self.toggle.setAccessibleDescription(self.tr("Shows the technical details: table names, ids and files"))
        self.toggle.toggled.connect(self._on_toggled)
        self.body = QLabel()
        self.body.setWordWrap(True)
        set_enum_property(self.body, "textFormat", "PlainText")
        set_enum_property(self.body, "textInteractionFlags", "TextSelectableByMouse")
        self.body.setAccessibleName(title)
        self.body.hide()
        toggle_row = QHBoxLayout()  # the toggle at its own width on the left
        toggle_row.addWidget(self.toggle)
        toggle_row.addStretch()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(toggle_row)
        column.addWidget(self.body)

    def set_text(self, text: str) -> None:
        """Set the details' text (plain text, shown when the section is expanded)."""
        self.body.setText(text)

    @Slot(bool)
    def _on_toggled(self, shown: bool) -> None:
        set_enum_property(self.toggle, "arrowType", "DownArrow" if shown else "RightArrow")
        set_shown(self.body, shown)


class VerbButton(QPushButton):
    """A button that never becomes the default by itself: Enter in a list or table presses nothing."""

    def __init__(self, text: str, accessible_name: str, description: str = "", parent: QWidget | None = None) -> None:
        # The text is set, not passed: PySide6 weighs QPushButton(text, parent) against its
        # (icon, text) overload, which creates the QIcon class (app.py sets the icon later).
        super().__init__(parent)
        self.setText(text)
        self.setAutoDefault(False)
        self.setDefault(False)
        self.setAccessibleName(accessible_name)
        if description:
            self.setAccessibleDescription(description)

