"""GUI bootstrap: ``agentmux-companion gui`` and the ``agentmux-companion-gui`` launcher.

Order matters here. Arguments and paths first (no Qt); then, on a machine without a display, the
CLI's plan instead of a Qt abort; then the core modules the scan needs and the provider registry;
PySide6's core; the single-instance check (a second launch leaves before paying for the GUI);
logging and the first scan; then the crash hook, the QApplication, and the controller, which
shows the tray icon (or the window) and scans in the background.

Only what the first window with its plan needs is imported on the way there: the keyring
snapshot, undo, autostart, the tray menu's dialogs and the crash dialog load on first use.
``--smoke`` prints ``window shown`` (or ``tray shown``) once the event loop has shown it, then
``ready <state>`` once the first scan's plan is on screen, as its last line.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from agentmux_companion import __version__
from agentmux_companion.cli.options import GUI_PROG, build_gui_parser
from agentmux_companion.core import store as st
from agentmux_companion.core.collector import pause_for_start_up, resume_after_start_up
from agentmux_companion.core.errors import CompanionError, ExitCode
from agentmux_companion.core.log import redact, setup_logging
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.pyside_support_code import SupportCode

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from agentmux_companion.core.crashlog import PreviousCrash
    from agentmux_companion.ui.controller import Controller
    from agentmux_companion.ui.messages import MessageFunnel
    from agentmux_companion.ui.single_instance import SingleInstance

log = logging.getLogger("agentmux_companion.app")

SMOKE_TIMEOUT_MS = 60_000
START_UP_LIMIT_MS = 5_000
_AGENTMUX_ENV = ("AGENTMUX_HOME_OVERRIDE", "AGENTMUX_SHARED_DIR", "AGENTMUX_CHANNEL")


class Launch(NamedTuple):
    """What this launch runs against."""

    args: argparse.Namespace
    paths: AppPaths
    env: dict[str, str]
    base_env: dict[str, str]
    demo_root: Path | None = None


def has_display(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt can open windows here; on Linux without one, Qt would abort the process."""
    if not platform.startswith("linux"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def _wants_demo(args: argparse.Namespace, paths: AppPaths) -> bool:
    if args.demo:
        return True
    if args.demo_if_no_store and not args.store:
        return not st.discover_stores(paths)
    return False


def _prepare_demo(args: argparse.Namespace, env: dict[str, str]) -> Launch:
    from agentmux_companion.core.migration.plan import now_ms
    from agentmux_companion.core.sandbox import build_demo_sandbox

    root = Path(tempfile.mkdtemp(prefix="agentmux-companion-demo-"))
    sandbox = build_demo_sandbox(root, now_ms(), args.demo_era)
    demo_env = {k: v for k, v in env.items() if k not in _AGENTMUX_ENV}
    demo_env[COMPANION_DIR_ENV] = str(sandbox.companion_dir)
    paths = AppPaths.resolve(home=sandbox.home, agentmux_root=sandbox.agentmux_root, env=demo_env)
    args.store = None
    return Launch(args, paths, demo_env, dict(env), demo_root=root)


def _resolve(args: argparse.Namespace, env: dict[str, str], out: Any) -> Launch:
    paths = AppPaths.resolve(args.home, args.agentmux_root, env)
    if not _wants_demo(args, paths):
        return Launch(args, paths, env, env)
    launch = _prepare_demo(args, env)
    if not args.demo:
        out.write(f"No AgentMux store found on this machine: running the demo sandbox in {launch.demo_root}\n")
        out.flush()
    return launch


def _plan_without_display(launch: Launch) -> int:
    """No display: say so and print the CLI's plan, the same words and exit code ``plan`` gives."""
    then = (
        "This is the demo sandbox, removed on exit; `agentmux-companion demo` walks the whole flow "
        "in one from the command line."
        if launch.demo_root is not None
        else "Run `agentmux-companion migrate` to apply it from the command line."
    )
    sys.stderr.write(
        "agentmux-companion gui: no display here (DISPLAY and WAYLAND_DISPLAY are unset), so the "
        f"window cannot open; here is the migration plan instead. {then}\n")
    from agentmux_companion.cli.options import build_parser
    from agentmux_companion.cli.runner import run

    argv = ["plan", f"--home={launch.paths.home}", f"--agentmux-root={launch.paths.agentmux_root}"]
    argv += [f"--store={store_path}" for store_path in launch.args.store or []]
    return run(build_parser().parse_args(argv), env=launch.env)


def main(argv: Sequence[str] | None = None) -> int:
    """``agentmux-companion-gui``: parse the options (the ``gui`` command's), then :func:`launch`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_gui_parser().parse_args(argv)
    except CompanionError as exc:
        sys.stderr.write(f"{GUI_PROG}: {exc.message}\n")
        return int(exc.exit_code)
    return launch(args)


def launch(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    """Run the tray companion with already-parsed options; returns the process exit code.

    ``args`` come from :func:`agentmux_companion.cli.options.build_gui_parser` or the ``gui``
    command of the CLI's parser (the same options); ``env`` stands in for ``os.environ``.
    """
    env = dict(os.environ if env is None else env)
    try:
        resolved = _resolve(args, env, sys.stdout)
    except CompanionError as exc:
        sys.stderr.write(f"{GUI_PROG}: {exc.message}\n")
        return int(exc.exit_code)
    try:
        if not has_display(env):
            if not args.smoke:
                return _plan_without_display(resolved)
            # The self-test still exercises Qt: offscreen needs no display and never aborts.
            sys.stderr.write("agentmux-companion gui --smoke: no display here; running offscreen\n")
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return _run_gui(resolved)
    finally:
        if resolved.demo_root is not None:
            shutil.rmtree(resolved.demo_root, ignore_errors=True)


def _run_gui(launch: Launch) -> int:
    """Start the tray companion and run Qt's event loop until it quits; returns the exit code."""
    # No cycle collections on the way to the first plan (core/collector.py; the program's entry
    # point paused them already): resumed once it is on screen, or a few seconds in whatever
    # happens, and in any case when this returns.
    pause_for_start_up()
    try:
        return _start_and_run(launch, resume_after_start_up)
    finally:
        resume_after_start_up()


def _start_and_run(launch: Launch, start_up_done: Callable[[], None]) -> int:
    args, paths = launch.args, launch.paths
    # The Qt-free part first: the core modules the scan needs and the registry (a bad registry
    # fails here, before any window); then PySide6's core, the first scan, the GUI's modules.
    from agentmux_companion.core.migration.plan import plan_every_store
    from agentmux_companion.core.providers import load_registry
    from agentmux_companion.core.scan_ahead import ScanAhead

    registry = load_registry()
    support_code = SupportCode(paths.cache_dir)
    with support_code.serving():  # PySide6's first import (ui/__init__.py): its support code kept
        import agentmux_companion.ui  # noqa: F401

    instance_name = _claim_single_instance(launch)
    if instance_name is None:
        return ExitCode.OK

    try:  # a link planted where the log goes is refused (exit 3), never written through
        setup_logging(paths.log_file)
    except CompanionError as exc:
        sys.stderr.write(f"agentmux-companion: {exc.message}\n")
        return int(exc.exit_code)
    previous_crash = _sweep_and_enable_crash_log(launch)
    # Run alone, before the window's modules load, the scan takes a few milliseconds; beside the
    # window's construction, both were slower (core/scan_ahead.py). A slow one is not waited for
    # past a bound: the first scan's job collects it.
    stores = list(args.store) if args.store else None
    first_scan = ScanAhead(lambda: plan_every_store(paths, registry, stores))
    first_scan.wait()

    from agentmux_companion.ui.controller import Controller, ControllerOptions
    from agentmux_companion.ui.messages import MessageFunnel

    app = _make_application()
    funnel = MessageFunnel()
    if previous_crash is not None:
        from agentmux_companion.ui.messages import Level, UserMessage

        funnel.post(UserMessage(Level.WARNING, "AgentMux Companion stopped unexpectedly last time",
                                previous_crash.message))
    previous_hook = sys.excepthook
    sys.excepthook = _crash_hook(funnel, previous_hook)
    quit_signals = None
    if sys.platform != "win32":
        from agentmux_companion.ui.quit_signals import QuitSignals

        quit_signals = QuitSignals(app)

    instance = None
    if instance_name:
        from agentmux_companion.ui.single_instance import SingleInstance

        instance = SingleInstance(instance_name)
        instance.listen()

    options = ControllerOptions(
        demo_dir=launch.demo_root,
        stores=stores,
        busy_timeout_ms=args.busy_timeout_ms,
        first_launch_window=not args.smoke,
    )
    controller = Controller(paths, registry, options, funnel)
    controller.quit_requested.connect(app.quit)
    if instance is not None:
        instance.activation_requested.connect(controller.show_window)

    smoke = _SmokeCheck(app, controller) if args.smoke else None
    _when_started(controller, start_up_done, instance, support_code)
    controller.start(first_scan)
    if smoke is not None:
        smoke.started()
    app.exec()
    support_code.save()  # when the start did not get to it (``--smoke`` quits at its plan)
    controller.shutdown()
    if instance is not None:
        instance.close()
    if quit_signals is not None:
        quit_signals.close()
    sys.excepthook = previous_hook
    exit_code = smoke.exit_code if smoke is not None else ExitCode.OK
    log.info("gui exiting (%d)", exit_code)
    return exit_code


def _when_started(controller: Controller, start_up_done: Callable[[], None], instance: SingleInstance | None,
                  support_code: SupportCode) -> None:
    """Once the first plan is painted (after START_UP_LIMIT_MS at the latest): the start is done.

    The application gets its icon, ``start_up_done`` runs, then ``instance`` answers the launches
    that asked meanwhile: QIcon and QtNetwork load then, not on the way to the plan. PySide6's
    support code compiled at this start is kept for the next.
    """
    from PySide6.QtCore import QTimer

    def started() -> None:
        # The icon only now: nothing draws it on the way to the first plan (the tray loads its
        # own), and PySide6's QIcon class with the SVG icon engine were some 14 million
        # instructions there (2-3 ms). The plan window has no icon of its own: it takes this one.
        from PySide6.QtWidgets import QApplication

        from agentmux_companion.ui.icons import app_icon

        QApplication.setWindowIcon(app_icon())
        start_up_done()
        support_code.save()
        if instance is not None:
            instance.serve()

    def first_plan_shown(_plan: object) -> None:
        controller.scan_finished.disconnect(first_plan_shown)
        QTimer.singleShot(0, started)  # after this turn of the event loop has painted it

    controller.scan_finished.connect(first_plan_shown)
    QTimer.singleShot(START_UP_LIMIT_MS, started)  # a first scan that fails or takes long


def _claim_single_instance(launch: Launch) -> str | None:
    """The single-instance server name to listen on, or None when another companion already runs.

    That other companion is asked to bring its window forward. ``--smoke`` never asks and gets
    ``""`` (no server): the self-test runs beside a running companion (installers, CI).
    """
    if launch.args.smoke:
        return ""
    from agentmux_companion.ui.single_instance import ask_running_instance_to_activate, server_name

    # One instance per user and (real, not demo) data folder: a demo and a real run are one app.
    instance_name = server_name(AppPaths.resolve(env=launch.base_env).data_dir)
    if ask_running_instance_to_activate(instance_name):
        sys.stderr.write("AgentMux Companion is already running; it was asked to come forward.\n")
        return None
    return instance_name


def _sweep_and_enable_crash_log(launch: Launch) -> PreviousCrash | None:
    """Clear what a killed run left behind and start the crash log; returns a previous crash to report."""
    from agentmux_companion.core.backup_sweep import sweep
    from agentmux_companion.core.crashlog import enable_crash_log

    sweep(launch.paths)  # what a killed run left while writing a backup
    # A hard crash (a fault in Qt, say) leaves a report; the next start says so once.
    previous_crash = enable_crash_log(launch.paths)
    log.info("gui %s starting (demo: %s, smoke: %s)", __version__, launch.demo_root, launch.args.smoke)
    if previous_crash is not None:
        log.warning("%s", previous_crash.message)
        sys.stderr.write(previous_crash.message + "\n")
    return previous_crash


def _make_application() -> QApplication:
    """The QApplication with the companion's names, which a closed last window never quits.

    Its icon comes once the first plan is shown (:func:`_when_started`).
    """
    from PySide6.QtWidgets import QApplication

    QApplication.setApplicationName("AgentMux Companion")
    QApplication.setOrganizationName("AgentMux")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("agentmux-companion")
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "agentmux-companion"])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the controller decides: with a tray, closing never quits
    return app


def _crash_hook(funnel: MessageFunnel, previous_hook: Callable[..., Any]) -> Callable[..., None]:
    """A ``sys.excepthook`` that shows an uncaught error in the GUI; Ctrl+C goes to ``previous_hook``."""

    def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous_hook(kind, error, tb)
            return
        funnel.crash(f"{kind.__name__}: {error}", "".join(traceback.format_exception(kind, error, tb)))

    return excepthook


class _SmokeCheck:
    """``--smoke``: report what is on screen, then quit once the first plan is shown.

    Prints ``window shown`` (or ``tray shown``) when the event loop has shown the window or the
    tray icon, then ``ready <state>`` once the first scan's plan is in it (always the last line:
    installers' post-install checks read it), or a reason on stderr and exit code 1.
    """

    def __init__(self, app: QApplication, controller: Controller) -> None:
        from PySide6.QtCore import QTimer

        self.app = app
        self.controller = controller
        self.exit_code = ExitCode.OK
        self._shown_reported = False
        self._ready = False
        controller.scan_finished.connect(self._on_scan_finished)
        controller.funnel.crashed.connect(lambda report: self._fail(redact(report.details)))
        QTimer.singleShot(SMOKE_TIMEOUT_MS, lambda: self._fail("the first scan did not finish in time"))

    def started(self) -> None:
        """After the controller's start: report the window or tray once the event loop has shown it."""
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self._report_shown)

    def _report_shown(self) -> None:
        if self._shown_reported:
            return
        self._shown_reported = True
        what = "tray" if self.controller.has_tray else "window"
        self._print(f"{what} shown")

    def _on_scan_finished(self, _plan: object) -> None:
        if self._ready:  # a rescan can finish before the event loop stops
            return
        self._ready = True
        self._report_shown()  # the scan can beat the first turn of the event loop
        self._print(f"ready {self.controller.state.value}")
        self.app.quit()

    def _fail(self, why: str) -> None:
        sys.stderr.write(f"agentmux-companion gui --smoke: {why}\n")
        self.exit_code = ExitCode.UNEXPECTED
        self.app.quit()

    @staticmethod
    def _print(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
