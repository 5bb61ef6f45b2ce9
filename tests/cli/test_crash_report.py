"""A hard crash of a command leaves a report, and the next command says so once (on stderr)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.stores import run_cli_process


def test_the_next_command_reports_a_hard_crash_once(tmp_path: Path) -> None:
    env = {**os.environ, "AGENTMUX_COMPANION_DIR": str(tmp_path / "companion")}
    crash = (
        "import faulthandler\n"
        "from agentmux_companion.cli import main\n"
        "main(['stores', '--agentmux-root', '" + str(tmp_path / "none") + "'])\n"
        "faulthandler._sigsegv()\n"
    )
    crashed = subprocess.run([sys.executable, "-c", crash], env=env, capture_output=True, text=True, timeout=60,
                             check=False)
    assert crashed.returncode != 0
    first = run_cli_process("stores", "--json", "--agentmux-root", tmp_path / "none", env=env)
    assert "previous run crashed (Fatal Python error: Segmentation fault)" in first.err
    assert "previous run crashed" not in first.out  # stdout stays one JSON document
    second = run_cli_process("stores", "--agentmux-root", tmp_path / "none", env=env)
    assert "previous run crashed" not in second.err
