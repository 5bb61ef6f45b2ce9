"""Ctrl+C and a session logout quit the tray companion cleanly (Unix)."""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C half: importing signal builds three enums
import contextlib
import os

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication


class QuitSignals:
    """Let Ctrl+C (SIGINT) and a session logout (SIGTERM) quit cleanly, without a polling timer.

    So the demo sandbox and the single-instance socket are cleaned up (Unix only).

    Python runs signal handlers only when the interpreter gets control; a pipe wakes the Qt event
    loop through a QSocketNotifier when a signal arrives (``signal.set_wakeup_fd`` writes to it).
    """

    def __init__(self, app: QApplication) -> None:
        self._reader, self._writer = os.pipe()
        os.set_blocking(self._reader, False)
        os.set_blocking(self._writer, False)
        self._previous_fd = _signal.set_wakeup_fd(self._writer)
        self._previous = {s: _signal.signal(s, lambda *_: app.quit()) for s in (_signal.SIGINT, _signal.SIGTERM)}
        self._notifier = QSocketNotifier(self._reader, QSocketNotifier.Type.Read, app)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self._reader, 64)

    def close(self) -> None:
        """Give the signals back to their previous handlers and close the pipe."""
        self._notifier.setEnabled(False)
        _signal.set_wakeup_fd(self._previous_fd)
        for quit_signal, handler in self._previous.items():
            if handler is not None:  # None: set from outside Python, nothing to give back
                _signal.signal(quit_signal, handler)
        os.close(self._reader)
        os.close(self._writer)
