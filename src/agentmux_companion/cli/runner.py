"""Running a parsed command: its context, logging, and what a failure prints and exits with.

Shared by ``agentmux-companion`` (:func:`agentmux_companion.cli.main`) and the GUI launcher's
no-display fallback, which runs ``plan`` with the launch's paths (``app`` imports this module and
:mod:`.options`, never the ``cli`` package, so the two do not import each other).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from agentmux_companion.cli.output import Console
from agentmux_companion.core.errors import CompanionError, ExitCode, known_error

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

    from agentmux_companion.cli.context import Context

log = logging.getLogger("agentmux_companion.cli")


#: The commands; each one's module loads only when it runs.
COMMAND_NAMES = ("stores", "scan", "plan", "migrate", "undo", "backups", "doctor", "keyring", "demo")


def command_function(name: str) -> Callable[[Context], ExitCode]:
    """The function that runs command ``name`` (``cmd_<name>`` of its command group's module).

    Plain imports in branches, not import by name: PyInstaller follows these into the frozen CLI.
    """
    module: ModuleType
    if name in ("stores", "scan"):
        import agentmux_companion.cli.discovery as module
    elif name in ("plan", "migrate", "undo"):
        import agentmux_companion.cli.migration as module
    elif name == "backups":
        import agentmux_companion.cli.backups as module
    elif name == "doctor":
        import agentmux_companion.cli.doctor as module
    elif name == "keyring":
        import agentmux_companion.cli.keyring_snapshot as module
    elif name == "demo":
        import agentmux_companion.cli.demo as module
    else:
        raise KeyError(name)
    found: Callable[[Context], ExitCode] = getattr(module, f"cmd_{name}")
    return found


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    """Run the command ``args`` name, parsed by :func:`build_parser`; returns the exit code.

    ``env`` stands in for ``os.environ`` when resolving paths (the GUI launcher's demo sandbox).
    """
    from agentmux_companion.cli.context import Context

    console: Console | None = None
    try:
        ctx = Context(args, env)
        console = ctx.console
        _setup_logging(ctx)
        _report_previous_crash(ctx)
        log.info("command %s", args.command)
        from agentmux_companion.cli.backups import after_backup_checks, sweep_partial_backups

        sweep_partial_backups(ctx.paths)
        return after_backup_checks(ctx, int(command_function(args.command)(ctx)))
    except BrokenPipeError:  # an OSError: before the clause below
        # The reader went away (`| head`): say nothing more, like other command-line tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # SIGPIPE, as a shell reports it
    except (CompanionError, OSError, sqlite3.Error) as failure:
        # An OSError or SQLite error with a known cause (no room, a path too long, ...) is a
        # known error too; any other is a bug and goes on to the traceback below.
        exc = known_error(failure, "the companion's own files")
        if exc is None:
            return _unexpected(console)
        console = console or Console()
        console.error(exc.message)
        log.info("refused (%d): %s", exc.exit_code, exc.message)
        if console.json and not console.emitted_json:
            # Scripts parse stdout: even a refusal is one JSON document there.
            console.emit_json({"error": {"exit_code": int(exc.exit_code), "message": exc.message}})
        return int(exc.exit_code)
    except KeyboardInterrupt:
        if console is not None:
            console.end_progress()
        sys.stderr.write("interrupted; nothing further was written\n")
        return 130
    except Exception:
        return _unexpected(console)


def _unexpected(console: Console | None) -> int:
    log.exception("unexpected error")
    import traceback

    from agentmux_companion.core.log import redact

    if console is not None:
        console.end_progress()
    sys.stderr.write("agentmux-companion: unexpected error (a bug); details follow and are in the log\n")
    sys.stderr.write(redact(traceback.format_exc()))
    return ExitCode.UNEXPECTED


def _report_previous_crash(ctx: Context) -> None:
    # A hard crash (a fault in native code) leaves a report; the next start says so once, on
    # stderr (never stdout: --json output stays one document).
    from agentmux_companion.core.crashlog import enable_crash_log

    previous = enable_crash_log(ctx.paths)
    if previous is not None:
        log.warning("%s", previous.message)
        ctx.console.err.write(f"agentmux-companion: {previous.message}\n")


def _setup_logging(ctx: Context) -> None:
    from agentmux_companion.core.log import RedactingFilter, setup_logging

    setup_logging(ctx.paths.log_file)
    if getattr(ctx.args, "verbose", False):
        handler = logging.StreamHandler(ctx.console.err)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        handler._companion = True  # type: ignore[attr-defined]  # replaced by the next setup_logging
        logging.getLogger("agentmux_companion").addHandler(handler)
