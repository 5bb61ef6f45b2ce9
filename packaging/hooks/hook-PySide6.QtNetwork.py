"""Replaces PyInstaller's QtNetwork hook: no TLS backends, OpenSSL or network-information plugins.

The companion's only socket is the local one that brings a running instance forward
(QLocalServer); it never speaks TLS. The policy lives in ``freeze_policy``.
"""

from freeze_policy import filter_hook_binaries
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = filter_hook_binaries(binaries)
