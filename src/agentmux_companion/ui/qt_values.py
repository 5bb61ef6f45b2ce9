"""The few ``Qt`` enum values the first window needs, without PySide6's ``Qt`` namespace.

PySide6 builds the ``Qt`` namespace the first time anything names it, all of it at once: 94
Python enums with 1,199 members, about 21 ms on this project's CI machine, an eighth of a bare
PySide6 window's whole start (docs/benchmarks.md). It is the largest single cost on the way to the
first plan, and that window needs only a handful of its values. So the modules that build and fill
it (:mod:`.plan_window`, :mod:`.plan_page`, :mod:`.widgets`, :mod:`.window_wiring`) take them from
here:

- item data roles and check states as the integers Qt defines them to be (``QListWidgetItem``
  and ``QTableWidgetItem`` take a role as an ``int``, and keep a check state as one);
- enum and flag properties set by their keys through Qt's property system
  (:func:`set_enum_property`), as Designer's ``.ui`` files do.

Everything else, and whatever runs only after the first plan (dialogs, the keyring panel, a
restore from minimized), names ``Qt`` as usual. ``tests/ui/test_qt_values.py`` checks each value
against the real enum, ``tests/ui/test_app.py`` that showing the first plan leaves the namespace
unbuilt.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

# Qt::ItemDataRole
CHECK_STATE_ROLE = 10
ACCESSIBLE_TEXT_ROLE = 11
SIZE_HINT_ROLE = 13
USER_ROLE = 256

# Qt::CheckState, as an item keeps it under CHECK_STATE_ROLE
UNCHECKED = 0
CHECKED = 2


def set_enum_property(target: QObject, name: str, keys: str) -> None:
    """Set the enum or flags property ``name`` of ``target`` by its keys, e.g. ``"AlignLeft|AlignTop"``.

    Raises:
        ValueError: Qt refused it (no such property, or keys it does not have), so a typo fails
            the first time the code runs instead of leaving a default in place.
    """
    if not target.setProperty(name, keys):
        raise ValueError(f"{type(target).__name__} has no enum property {name!r} taking {keys!r}")
