"""The log file rotates by size into .1, .2, .3, each 0600, without logging.handlers."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from agentmux_companion.core.log import SizeRotatingFileHandler


def test_the_log_rotates_by_size_and_keeps_three_private_backups(tmp_path: Path) -> None:
    tmp_path = tmp_path / "log"
    tmp_path.mkdir()
    log_file = tmp_path / "companion.log"
    handler = SizeRotatingFileHandler(log_file, max_bytes=200, backups=3)
    logger = logging.getLogger("agentmux_companion.test_rotation")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for index in range(60):
            logger.info("record %03d %s", index, "x" * 20)
    finally:
        logger.removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["companion.log", "companion.log.1", "companion.log.2", "companion.log.3"]
    assert all((tmp_path / n).stat().st_size < 200 for n in names)
    assert all((tmp_path / n).stat().st_mode & 0o777 == 0o600 for n in names[1:]) or sys.platform == "win32"
    assert log_file.read_text(encoding="utf-8").splitlines()[-1] == "record 059 " + "x" * 20
    assert (tmp_path / "companion.log.1").read_text(encoding="utf-8").splitlines()[-1].startswith("record 05")


def test_cli_start_does_not_load_logging_handlers(tmp_path: Path) -> None:
    code = ("import sys\nfrom agentmux_companion.cli import main\n"
            f"main(['plan', '--json', '--home', {str(tmp_path)!r}])\n"
            "print('logging.handlers' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.stdout.strip().splitlines()[-1] == "False"
