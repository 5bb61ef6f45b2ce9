"""The programs' entry points: ``agentmux-companion`` (and ``python -m``), ``agentmux-companion-gui``.

Each pauses Python's cycle collector before anything else is imported (:mod:`.core.collector`):
loading the command line or the tray companion makes tens of thousands of objects that live as
long as the process and next to no garbage, and the collections they triggered were a tenth of
the time the imports took (``make bench``). So this module imports nothing but the collector's,
and the programs' own modules load inside the functions, after the pause. The command line turns
the collector back on once its command is parsed, the tray companion once its first plan is shown.
"""

from __future__ import annotations

from agentmux_companion.core.collector import pause_for_start_up


def command_line(argv: list[str] | None = None) -> int:
    """``agentmux-companion``: :func:`agentmux_companion.cli.console_main`, loaded with collections paused."""
    pause_for_start_up()
    from agentmux_companion.cli import console_main

    return console_main(argv)


def tray_companion(argv: list[str] | None = None) -> int:
    """``agentmux-companion-gui``: :func:`agentmux_companion.app.main`, collections paused until its first plan."""
    pause_for_start_up()
    from agentmux_companion.app import main

    return main(argv)
