"""Replaces PyInstaller's QtGui hook: the same collection, minus the Qt plugins we drop.

Filtering here, rather than in the spec afterwards, matters: the plugins left out never reach
PyInstaller's binary dependency analysis, so the libraries only they link (GTK3 for the gtk3
platform theme) are never collected. The policy lives in ``freeze_policy``.
"""

from freeze_policy import filter_hook_binaries
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = filter_hook_binaries(binaries)
