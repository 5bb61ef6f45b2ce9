"""Entry point of the frozen windowed executable ``agentmux-companion-gui`` (the tray app).

A windowed executable on Windows starts without console streams: ``sys.stdout`` and
``sys.stderr`` are None, and the app's first message (a usage error, "already running") would
raise instead of being dropped. They are pointed at the null device then; the log file still
records everything.

``agentmux-companion-gui gui …`` is accepted as ``agentmux-companion-gui …``: the app's start-at-
login entry runs the frozen executable with the CLI's ``gui`` subcommand, whichever of the two
executables wrote it.
"""

import os
import sys


def ensure_std_streams() -> None:
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115  (lives as long as the process)


if __name__ == "__main__":
    ensure_std_streams()
    from agentmux_companion.entry_points import tray_companion

    argv = sys.argv[1:]
    sys.exit(tray_companion(argv[1:] if argv[:1] == ["gui"] else argv))
