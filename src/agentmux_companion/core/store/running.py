"""Whether AgentMux runs, or has a store open (best effort, shown to the user, never relied on)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# --------------------------------------------------------------------------------------------
# Is AgentMux running?

_AGENTMUX_PROCESS = re.compile(r"^agentmux(srv)?([-_.]?rs)?(\.exe)?$", re.IGNORECASE)


def agentmux_process_running() -> bool:
    """Whether an AgentMux app or server process runs (best effort; Linux reads /proc)."""
    if sys.platform.startswith("linux"):
        return any(_AGENTMUX_PROCESS.match(name) for name in _linux_process_names())
    return _process_list_mentions_agentmux()


def _linux_process_names() -> list[str]:
    """The short name (``comm``) of every process in /proc that can still be read."""
    # os.scandir and raw reads: this runs in every plan, and a pathlib.Path per process cost
    # about as much as the rest of the store's inspection.
    names: list[str] = []
    try:
        entries = [entry.name for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return names
    for pid in entries:
        try:
            fd = os.open(f"/proc/{pid}/comm", os.O_RDONLY)
        except OSError:  # the process ended, or is not ours to read
            continue
        try:
            names.append(os.read(fd, 256).decode("utf-8", "replace").strip())
        except OSError:
            continue
        finally:
            os.close(fd)
    return names


def _process_list_mentions_agentmux() -> bool:
    import subprocess

    command = ["tasklist", "/FO", "CSV", "/NH"] if os.name == "nt" else ["ps", "-axo", "comm="]
    try:
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=3, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    for line in output.splitlines():
        name = Path(line.strip().strip('"').split('","')[0]).name
        if _AGENTMUX_PROCESS.match(name):
            return True
    return False


def store_in_use(path: Path) -> bool:
    """Whether some connection appears to have the store open (a non-empty WAL file beside it).

    SQLite removes the WAL file when the last connection closes, so a live one means a program
    (normally AgentMux's server) has the store open, or crashed with it open.
    """
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False

