"""The ``agentmux-companion`` command line: a contract that installers and scripts depend on.

Imports only ``core`` (never Qt), and of it only what the command needs, so it starts fast and
runs where there is no display. With ``--json`` stdout carries exactly one JSON document; messages
go to stderr. Exit codes are :class:`~agentmux_companion.core.errors.ExitCode`.

The package: :mod:`.options` (the parser, shared with the GUI launcher), :mod:`.output`
(width-aware tables, JSON, progress), :mod:`.context`, and one module per command group
(:mod:`.discovery`, :mod:`.migration`, :mod:`.keyring_snapshot`, :mod:`.doctor`, :mod:`.demo`).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from agentmux_companion.cli.options import build_parser, parse
from agentmux_companion.cli.output import Console
from agentmux_companion.core.errors import CompanionError, ExitCode

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

    from agentmux_companion.cli.context import Context

__all__ = ["build_parser", "main", "run"]

log = logging.getLogger("agentmux_companion.cli")

#: The commands; each one's module loads only when it runs.
COMMAND_NAMES = ("stores", "scan", "plan", "migrate", "undo", "doctor", "keyring", "demo")


def command_function(name: str) -> Callable[[Context], ExitCode]:
    """The function that runs command ``name`` (``cmd_<name>`` of its command group's module).

    Plain imports in branches, not import by name: PyInstaller follows these into the frozen CLI.
    """
    module: ModuleType
    if name in ("stores", "scan"):
        from agentmux_companion.cli import discovery as module
    elif name in ("plan", "migrate", "undo"):
        from agentmux_companion.cli import migration as module
    elif name == "doctor":
        from agentmux_companion.cli import doctor as module
    elif name == "keyring":
        from agentmux_companion.cli import keyring_snapshot as module
    elif name == "demo":
        from agentmux_companion.cli import demo as module
    else:
        raise KeyError(name)
    found: Callable[[Context], ExitCode] = getattr(module, f"cmd_{name}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``agentmux-companion``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse(argv)
    except CompanionError as exc:
        Console().error(exc.message)
        return int(exc.exit_code)
    if not args.command:
        build_parser().print_help(sys.stderr)
        return ExitCode.USAGE
    if args.command == "gui":
        return _gui(args)
    return run(args)


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
        log.info("command %s", args.command)
        return int(command_function(args.command)(ctx))
    except CompanionError as exc:
        console = console or Console()
        console.error(exc.message)
        log.info("refused (%d): %s", exc.exit_code, exc.message)
        if console.json and not console.emitted_json:
            # Scripts parse stdout: even a refusal is one JSON document there.
            console.emit_json({"error": {"exit_code": int(exc.exit_code), "message": exc.message}})
        return int(exc.exit_code)
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more, like other command-line tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # SIGPIPE, as a shell reports it
    except KeyboardInterrupt:
        if console is not None:
            console.end_progress()
        sys.stderr.write("interrupted; nothing further was written\n")
        return 130
    except Exception:
        log.exception("unexpected error")
        import traceback

        from agentmux_companion.core.log import redact

        if console is not None:
            console.end_progress()
        sys.stderr.write("agentmux-companion: unexpected error (a bug); details follow and are in the log\n")
        sys.stderr.write(redact(traceback.format_exc()))
        return ExitCode.UNEXPECTED


def _gui(args: argparse.Namespace) -> int:
    # The GUI lives behind this one import by name, so the command line never loads Qt (and the
    # frozen, Qt-free CLI does not pull app in); app takes the options this parser already read
    # (the same parser as agentmux-companion-gui's).
    launch: Callable[[argparse.Namespace], int] = importlib.import_module("agentmux_companion.app").launch
    return launch(args)


def _setup_logging(ctx: Context) -> None:
    from agentmux_companion.core.log import RedactingFilter, setup_logging

    setup_logging(ctx.paths.log_file)
    if getattr(ctx.args, "verbose", False):
        handler = logging.StreamHandler(ctx.console.err)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        handler._companion = True  # type: ignore[attr-defined]  # replaced by the next setup_logging
        logging.getLogger("agentmux_companion").addHandler(handler)
