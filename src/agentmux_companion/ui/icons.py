"""The tray states and their icons (SVG files in ``resources/icons``).

QIcon is imported where an icon is made: the controller needs :class:`TrayState` on the way to
the first plan, and PySide6 creates the QIcon class (its ThemeIcon enum has 151 members) the
first time a module names it; the first plan needs no icon (``app.py`` sets it afterwards).
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

APP_ICON_NAME = "agentmux-companion.svg"


class TrayState(enum.StrEnum):
    """What the tray icon says at a glance; the value is also what ``gui --smoke`` prints."""

    NOTHING_TO_DO = "nothing_to_do"
    ACTION_NEEDED = "action_needed"
    WORKING = "working"
    DONE = "done"
    ERROR = "error"


def icons_dir() -> Path:
    """The folder of the packaged icons (beside the modules, in the wheel and in the frozen build)."""
    # Package data lives beside the modules (also in the PyInstaller build, which collects it);
    # read as plain files, as the provider registry is (importlib.resources costs start-up time).
    return Path(__file__).parents[1] / "resources" / "icons"


def icon_path(state: TrayState) -> Path:
    """The SVG file of the tray icon for ``state``."""
    return icons_dir() / f"tray-{state.value.replace('_', '-')}.svg"


_cache: dict[str, QIcon] = {}


def state_icon(state: TrayState) -> QIcon:
    """The tray icon for ``state``, loaded once and cached."""
    from PySide6.QtGui import QIcon

    key = state.value
    if key not in _cache:
        _cache[key] = QIcon(str(icon_path(state)))
    return _cache[key]


def app_icon() -> QIcon:
    """The application's icon for windows and the task bar, loaded once and cached."""
    from PySide6.QtGui import QIcon

    if "app" not in _cache:
        _cache["app"] = QIcon(str(icons_dir() / APP_ICON_NAME))
    return _cache["app"]
