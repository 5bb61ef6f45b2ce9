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
        proc = Path("/proc")
        try:
            entries = list(proc.iterdir())
        except OSError:
            return False
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                name = (entry / "comm").read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue
            if _AGENTMUX_PROCESS.match(name):
                return True
        return False
    return _process_list_mentions_agentmux()


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

