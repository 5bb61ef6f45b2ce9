"""GUI bootstrap: ``agentmux-companion gui`` and the ``agentmux-companion-gui`` launcher.

Order matters here. Arguments and paths first (no Qt); then, on a machine without a display, the
CLI's plan instead of a Qt abort; then the single-instance check (a second launch leaves before
paying for the GUI); then logging, the crash hook, the QApplication, and the controller, which
shows the tray icon and scans in the background. Heavy or optional imports (keyring) are not on
this path at all.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from agentmux_companion import __version__
from agentmux_companion.core import store as st
from agentmux_companion.core.errors import UsageError
from agentmux_companion.core.log import redact, setup_logging
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths

log = logging.getLogger("agentmux_companion.app")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
SMOKE_TIMEOUT_MS = 60_000
_AGENTMUX_ENV = ("AGENTMUX_HOME_OVERRIDE", "AGENTMUX_SHARED_DIR", "AGENTMUX_CHANNEL")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="agentmux-companion gui", description=(
        "The AgentMux Companion tray app: finds AI-CLI logins, shows the migration plan, migrates "
        "and undoes."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--home", type=Path, help="where ambient credentials are looked for")
    parser.add_argument("--agentmux-root", type=Path, help="AgentMux's root (default <home>/.agentmux)")
    parser.add_argument("--store", type=Path, action="append", default=None, metavar="PATH",
                        help="a store to use instead of discovery (repeatable)")
    parser.add_argument("--demo", action="store_true",
                        help="run against a throwaway demo sandbox (made-up logins, a sample store)")
    parser.add_argument("--demo-if-no-store", action="store_true",
                        help="run the demo when no AgentMux store is found on this machine")
    parser.add_argument("--smoke", action="store_true",
                        help="start, scan, show the tray or window, print 'ready <state>' and exit")
    parser.add_argument("--busy-timeout-ms", type=int, default=st.BUSY_TIMEOUT_MS, help=argparse.SUPPRESS)
    return parser


@dataclass
class Launch:
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
    from agentmux_companion.core.plan import now_ms
    from agentmux_companion.core.sandbox import build_demo_sandbox

    root = Path(tempfile.mkdtemp(prefix="agentmux-companion-demo-"))
    sandbox = build_demo_sandbox(root, now_ms())
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


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _plan_without_display(launch: Launch) -> int:
    """No display: say so and print the CLI's plan, the same words ``agentmux-companion plan`` gives."""
    from agentmux_companion import cli

    then = (
        "This is the demo sandbox, removed on exit; `agentmux-companion demo` walks the whole flow "
        "in one from the command line."
        if launch.demo_root is not None
        else "Run `agentmux-companion migrate` to apply it from the command line."
    )
    sys.stderr.write(
        "agentmux-companion gui: no display here (DISPLAY and WAYLAND_DISPLAY are unset), so the "
        f"window cannot open; here is the migration plan instead. {then}\n")
    argv = ["plan", f"--home={launch.paths.home}", f"--agentmux-root={launch.paths.agentmux_root}"]
    argv += [f"--store={store_path}" for store_path in launch.args.store or []]
    with _environ(launch.env):
        cli.main(argv)
    return EXIT_OK


def _install_quit_signals(app: Any) -> Any:
    """Let Ctrl+C in the terminal (SIGINT) and a session logout (SIGTERM) quit cleanly, without a
    polling timer, so the demo sandbox and the single-instance socket are cleaned up.

    Python runs signal handlers only when the interpreter gets control; a socket pair wakes the Qt
    event loop through a QSocketNotifier when a signal arrives.
    """
    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for quit_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(quit_signal, lambda *_: app.quit())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)

    notifier.activated.connect(drain)
    return reader, writer, notifier


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tray companion; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    try:
        args = build_parser().parse_args(argv)
        launch = _resolve(args, env, sys.stdout)
    except UsageError as exc:
        sys.stderr.write(f"{exc.message}\n")
        return EXIT_USAGE
    try:
        if not has_display(env):
            if not args.smoke:
                return _plan_without_display(launch)
            # The self-test still exercises Qt: offscreen needs no display and never aborts.
            sys.stderr.write("agentmux-companion gui --smoke: no display here; running offscreen\n")
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return _run_gui(launch)
    finally:
        if launch.demo_root is not None:
            shutil.rmtree(launch.demo_root, ignore_errors=True)


def _run_gui(launch: Launch) -> int:
    from agentmux_companion.ui.single_instance import ask_running_instance_to_activate, server_name

    args, paths = launch.args, launch.paths
    # One instance per user and (real, not demo) data folder: a demo and a real run are one app.
    instance_name = server_name(AppPaths.resolve(env=launch.base_env).data_dir)
    if not args.smoke and ask_running_instance_to_activate(instance_name):
        sys.stderr.write("AgentMux Companion is already running; it was asked to come forward.\n")
        return EXIT_OK

    setup_logging(paths.log_file)
    log.info("gui %s starting (demo: %s, smoke: %s)", __version__, launch.demo_root, args.smoke)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from agentmux_companion.core.providers import load_registry
    from agentmux_companion.ui.controller import Controller, ControllerOptions
    from agentmux_companion.ui.icons import app_icon
    from agentmux_companion.ui.messages import MessageFunnel
    from agentmux_companion.ui.single_instance import SingleInstance

    QApplication.setApplicationName("AgentMux Companion")
    QApplication.setOrganizationName("AgentMux")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("agentmux-companion")
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "agentmux-companion"])
    assert isinstance(app, QApplication)
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the controller decides: with a tray, closing never quits

    funnel = MessageFunnel()
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous_hook(kind, error, tb)
            return
        funnel.crash(f"{kind.__name__}: {error}", "".join(traceback.format_exception(kind, error, tb)))

    sys.excepthook = excepthook
    keep_alive = _install_quit_signals(app) if sys.platform != "win32" else None

    instance = None
    if not args.smoke:
        instance = SingleInstance(instance_name)
        instance.listen()

    options = ControllerOptions(
        demo_dir=launch.demo_root,
        stores=list(args.store) if args.store else None,
        busy_timeout_ms=args.busy_timeout_ms,
        first_launch_window=not args.smoke,
    )
    controller = Controller(paths, load_registry(), options, funnel)
    controller.quit_requested.connect(app.quit)
    if instance is not None:
        instance.activation_requested.connect(controller.show_window)

    exit_code = EXIT_OK
    if args.smoke:
        def ready(_plan: object) -> None:
            sys.stdout.write(f"ready {controller.state.value}\n")
            sys.stdout.flush()
            app.quit()

        def fail(why: str) -> None:
            nonlocal exit_code
            sys.stderr.write(f"agentmux-companion gui --smoke: {why}\n")
            exit_code = EXIT_ERROR
            app.quit()

        controller.scan_finished.connect(ready)
        controller.funnel.crashed.connect(lambda report: fail(redact(report.details)))
        QTimer.singleShot(SMOKE_TIMEOUT_MS, lambda: fail("the first scan did not finish in time"))

    controller.start()
    app.exec()
    controller.shutdown()
    if instance is not None:
        instance.close()
    sys.excepthook = previous_hook
    del keep_alive
    log.info("gui exiting (%d)", exit_code)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
