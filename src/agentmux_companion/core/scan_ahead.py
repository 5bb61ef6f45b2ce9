"""The GUI's first scan, run before the window's modules load, so its plan is ready when the window is.

Every scan runs off the GUI thread. The first one used to start beside the window's
construction, and both were slower for it: a scan is a few hundred small file reads and SQLite
calls, each of which lets go of Python's interpreter lock, and each time the worker wants the
lock back it waits for the busy GUI thread to give it up. Measured (``make bench``'s sandbox, a
timeline of the launch), the window took about 8 ms longer to build and the plan came 5-8 ms
after it. Run on its own, the same scan takes 3-8 ms. So the launcher starts it on a thread
before the window's modules load and waits for it (:meth:`ScanAhead.wait`), with a bound: a
store held by a writer can keep a scan waiting for its busy timeout, and the window must not
wait for that. Past the bound the launcher goes on, and the first scan's job waits for the rest
(:meth:`ScanAhead.result`), as any scan would have.

Qt-free (a plain thread): Qt's core is loaded when it starts (app.py loads it first, for the
single-instance check), none of the window's modules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: How long the launcher waits for the first scan before going on without it. A scan of a few
#: stores takes milliseconds; this only bounds a slow one (a busy store, a slow disk).
WAIT_S = 0.25


class ScanAhead(Generic[T]):
    """``work`` running on its own thread from construction; its result (or error) collected once."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._result: T | None = None
        self._error: BaseException | None = None
        # A daemon: a scan stuck on a dead network mount must not keep the process alive at exit.
        self._thread = threading.Thread(target=self._run, name="first scan", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:  # handed to whoever collects the result, with its traceback
            self._error = exc

    def wait(self, timeout_s: float = WAIT_S) -> bool:
        """Wait up to ``timeout_s`` for the work to finish; whether it has."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def result(self) -> T:
        """The work's result, waiting for it if needed; its exception is raised here instead."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]  # set by _run when no error was
