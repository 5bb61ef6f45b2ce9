"""The tray companion's Qt side: windows, tray, dialogs and the controllers that drive them.

Only this package and ``app.py`` import PySide6; long work runs in :mod:`workers`, never on the GUI thread.

Importing this package loads PySide6 and tells it up front that none of the companion's modules
use its ``__feature__`` switches (:func:`skip_pyside_feature_scan`).
"""

from __future__ import annotations

import os
import sys

import PySide6.QtCore  # noqa: F401  (installs PySide6's import hook; skip_pyside_feature_scan fills its table)

# What PySide6's table of per-module ``__feature__`` selections holds (shibokensupport/feature.py):
# 0 for a module that uses PySide6 and selects no feature, -1 for a module it should ignore.
_USES_PYSIDE_WITHOUT_FEATURES = 0
_IGNORED = -1


def skip_pyside_feature_scan() -> None:
    """Fill PySide6's table of ``__feature__`` selections for the modules it would otherwise read.

    Once imported, PySide6 reads the whole source of every module imported after it, and of every
    earlier one the first time an ``import`` statement names it, to find the text "PySide6"
    (PYSIDE-2029). At start-up that is some fifty files and about 10 ms, on the way to the first
    window (``make bench``). The answer is known here: the companion selects no feature anywhere
    (``from __feature__ import`` appears nowhere), so its modules get the value a PySide6 module
    without features gets; the modules already loaded (the standard library, the Qt-free core)
    and every other top-level module of the standard library get the value of a module that does
    not use PySide6. A module entered here is never read; every other one still is, as before.
    With a PySide6 that keeps no such table this does nothing (start-up is slower, nothing else
    changes).
    """
    feature = sys.modules.get("__feature__")
    selections = getattr(feature, "pyside_feature_dict", None)
    if not isinstance(selections, dict):
        return
    for name in list(sys.modules):
        if not name.startswith(("PySide6", "shiboken", "agentmux_companion")):
            selections.setdefault(name, _IGNORED)
    # And the standard library's modules not loaded yet (signal, for the quit signals, on the way
    # to the first window; subprocess when a folder is opened): none of them uses PySide6.
    for name in sys.stdlib_module_names:
        selections.setdefault(name, _IGNORED)
    package = __name__.rpartition(".")[0]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder, _dirs, files in os.walk(root):  # a frozen build has no folder here: PySide6 finds no source either
        relative = os.path.relpath(folder, root)
        prefix = package if relative == os.curdir else f"{package}.{relative.replace(os.sep, '.')}"
        if "__pycache__" in prefix:
            continue
        selections.setdefault(prefix, _USES_PYSIDE_WITHOUT_FEATURES)
        for file in files:
            if file.endswith(".py") and file != "__init__.py":
                selections.setdefault(f"{prefix}.{file[:-3]}", _USES_PYSIDE_WITHOUT_FEATURES)


skip_pyside_feature_scan()
