"""Entry point of the frozen console executable ``agentmux-companion``.

The CLI executable is built without Qt (it starts fast and runs where there is no display), so
``agentmux-companion gui ...`` hands over to the windowed executable beside it, keeping the
command-line contract of the installed package (README.md "Command line": the GUI is ``agentmux-companion gui``).
"""

import os
import subprocess
import sys
from pathlib import Path

GUI_EXECUTABLE = "agentmux-companion-gui.exe" if sys.platform == "win32" else "agentmux-companion-gui"


def run_gui(argv: list[str]) -> int:
    """Runs the GUI executable that sits next to this one with ``argv``; returns its exit code."""
    gui = Path(sys.executable).with_name(GUI_EXECUTABLE)
    if not gui.is_file():
        sys.stderr.write(f"agentmux-companion: the GUI executable is missing from this installation: {gui}\n")
        return 1
    if sys.platform == "win32":  # no exec on Windows: wait for it and pass its exit code on
        # Hand it this console's streams explicitly: a windowed executable gets none otherwise.
        return subprocess.call([str(gui), *argv], stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
    os.execv(gui, [str(gui), *argv])  # the GUI takes over this process: signals reach it directly


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["gui"] and getattr(sys, "frozen", False):
        return run_gui(argv[1:])
    from agentmux_companion.entry_points import command_line

    exit_code: int = command_line(argv)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
