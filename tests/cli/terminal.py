"""Helpers of the terminal tests: the demo sandbox and a process with a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.stores import NOW_MS, cli_command, run_cli


@dataclass(frozen=True)
class Sandbox:
    """The demo sandbox built by ``agentmux-companion demo --dir``."""

    root: Path
    home: Path
    store: Path


def demo_sandbox(root: Path) -> Sandbox:
    """Build the demo sandbox with the product's own ``demo --dir`` (its store ends as it began)."""
    result = run_cli("demo", "--dir", root, "--now-ms", NOW_MS)
    assert result.code == 0, result.err
    [store] = (root / "home" / ".agentmux").rglob("0.33.4/data/db/objects.db")
    return Sandbox(root, root / "home", store)


@dataclass(frozen=True)
class TtyRun:
    """A process run with a pseudo-terminal on stdin or stderr."""

    code: int
    out: str
    err: str


def run_with_tty(*argv: str | os.PathLike[str], tty: str, answer: str = "", columns: int = 80) -> TtyRun:
    """Run the CLI as a real process with a pseudo-terminal as its ``tty`` ("stdin" or "stderr").

    ``answer`` is typed on the terminal (for a prompt). What the process writes on the terminal is
    returned as ``err`` when the terminal is its stderr.
    """
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns)}
    stdin = slave if tty == "stdin" else subprocess.DEVNULL
    stderr = slave if tty == "stderr" else subprocess.PIPE
    with subprocess.Popen(cli_command(*argv), stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=env) as proc:
        os.close(slave)
        if answer:
            os.write(master, answer.encode())
        seen = b""
        while True:  # drain the terminal so the process never blocks on it
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the last writer closed: EIO on Linux
                    chunk = b""
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        out = proc.stdout.read().decode() if proc.stdout else ""
        err = proc.stderr.read().decode() if proc.stderr else seen.decode(errors="replace")
        code = proc.wait(timeout=60)
    os.close(master)
    return TtyRun(code, out, err)
