"""The ``agentmux-companion`` command line: a contract that installers and scripts depend on.

Imports only ``core`` (never Qt), and of it only what the command needs, so it starts fast and
runs where there is no display. With ``--json`` stdout carries exactly one JSON document; messages
go to stderr. Exit codes are :class:`~agentmux_companion.core.errors.ExitCode`.

The package: :mod:`.options` (the parser, shared with the GUI launcher), :mod:`.runner` (running
a parsed command, also for the GUI launcher's no-display plan), :mod:`.output` (width-aware
tables, JSON, progress), :mod:`.context`, and one module per command group (:mod:`.discovery`,
:mod:`.migration`, :mod:`.plan_text`, :mod:`.keyring_snapshot`, :mod:`.doctor`, :mod:`.demo`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from agentmux_companion.cli.options import build_parser, parse
from agentmux_companion.core.collector import resume_after_start_up
from agentmux_companion.core.errors import CompanionError, ExitCode

if TYPE_CHECKING:
    import argparse

__all__ = ["build_parser", "console_main", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``agentmux-companion``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse(argv)
    except CompanionError as exc:
        from agentmux_companion.cli.output import Console

        Console().error(exc.message)
        return int(exc.exit_code)
    # The program's entry point paused the cycle collector while the command line loaded
    # (entry_points.py): the command runs with it on, and what start-up made kept out of it.
    resume_after_start_up(collect=False)
    if not args.command:
        build_parser().print_help(sys.stderr)
        return ExitCode.USAGE
    if args.command == "gui":
        return _gui(args)
    # Loaded here, not with the package: the GUI launcher imports cli.options through this
    # package and needs neither the runner nor the console on its way to the first window.
    from agentmux_companion.cli.runner import run

    return run(args)


def console_main(argv: Sequence[str] | None = None) -> int:
    """The ``agentmux-companion`` program (called by its entry point): :func:`main`, then a quick exit.

    Python's shutdown runs its cycle collector over every object the run made (some 15,000 once
    the engine is loaded), and on a short command that was a seventh of its time: about 7 ms of
    ``plan --json`` (``make bench``). There is nothing left for it to find: stores, the ledger
    and every file are closed by the code that opened them, and logging flushes and closes its
    handlers in its own exit hook, which still runs, as do the rest of the shutdown and every
    reference-counted clean-up. So the objects are frozen out of those last collections
    (:mod:`agentmux_companion.core.collector`). Only the program does this: :func:`main` called
    in-process (tests, the GUI launcher) leaves the collector alone.
    """
    from agentmux_companion.core.collector import skip_collections_at_exit

    exit_code = main(argv)
    skip_collections_at_exit()  # the streams are still flushed by the shutdown, as before
    return exit_code


def _gui(args: argparse.Namespace) -> int:
    # The GUI lives behind this one import by name, so the command line never loads Qt (and the
    # frozen, Qt-free CLI does not pull app in); app takes the options this parser already read
    # (the same parser as agentmux-companion-gui's). app imports only cli.options and cli.runner,
    # never this package: no cycle.
    launch: Callable[[argparse.Namespace], int] = importlib.import_module("agentmux_companion.app").launch
    return launch(args)
