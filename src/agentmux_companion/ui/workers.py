"""The one worker abstraction: run blocking core calls off the GUI thread.

Scans, applies and undos touch SQLite (which can wait up to its busy timeout on a locked store)
and the file system, so they never run on the GUI thread. A :class:`Job` wraps a plain callable
that receives a ``progress(str)`` function; a :class:`JobRunner` runs it on a thread pool and
reports back through signals. Workers never touch widgets: everything they produce travels as
signal arguments, which Qt queues to the receiver's (GUI) thread.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, NamedTuple

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

#: A unit of work: called on a worker thread with a progress reporter; returns the result.
JobFunction = Callable[[Callable[[str], None]], Any]


class JobFailure(NamedTuple):
    """Why a job failed: the exception and its formatted traceback (captured on the worker thread).

    Attributes:
        error: the exception raised by the job.
        details: the traceback text, for the crash dialog and the log (not yet redacted).
    """

    error: BaseException
    details: str


class Job(QObject):
    """One piece of background work and its outcome.

    Signals:
        progress(str): a step of the work, in words (from the core's progress callbacks).
        finished(object): the callable's return value.
        failed(object): a :class:`JobFailure`.
        done(): emitted last, after finished or failed.
    """

    progress = Signal(str)
    finished = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, name: str, function: JobFunction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._function = function
        self.running = False

    def run_here(self) -> None:
        """Run the callable on the calling thread and emit the outcome (the runner calls this)."""
        try:
            result = self._function(self.progress.emit)
        except Exception as exc:
            # Not running any more by the time the GUI thread handles the outcome, so a handler
            # may start the next job right away.
            self.running = False
            self.failed.emit(JobFailure(exc, traceback.format_exc()))
        else:
            self.running = False
            self.finished.emit(result)
        finally:
            self.running = False
            self.done.emit()


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job
        # The runner keeps the Python wrapper alive; Qt must not delete it behind our back.
        self.setAutoDelete(False)

    def run(self) -> None:
        self._job.run_here()


class JobRunner(QObject):
    """Starts jobs on a private thread pool and keeps them alive until they are done.

    Signals:
        busy_changed(bool): whether any job is running (drives the "working" state).
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._active: dict[Job, _Runnable] = {}

    @property
    def busy(self) -> bool:
        """Whether a job's work is still under way (its outcome not yet delivered)."""
        return any(job.running for job in self._active)

    def is_running(self, *names: str) -> bool:
        """Whether a job with one of ``names`` is still at work (its outcome not yet delivered)."""
        return any(job.running and job.name in names for job in self._active)

    def start(self, job: Job) -> Job:
        """Run ``job`` in the background; connect to its signals before or right after calling."""
        was_busy = bool(self._active)
        runnable = _Runnable(job)
        self._active[job] = runnable
        job.running = True
        # A bound slot of this (GUI-thread) object, not a lambda: Qt then queues the call to the
        # GUI thread instead of running it on the worker thread that emits ``done``.
        job.done.connect(self._on_job_done)
        log.debug("job %s started", job.name)
        self._pool.start(runnable)
        if not was_busy:
            self.busy_changed.emit(True)
        return job

    @Slot()
    def _on_job_done(self) -> None:
        job = self.sender()
        if not isinstance(job, Job):
            return
        self._active.pop(job, None)
        log.debug("job %s done", job.name)
        if not self._active:
            self.busy_changed.emit(False)

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until every job has returned (used at shutdown so no thread outlives the app)."""
        return bool(self._pool.waitForDone(msecs))
