"""The log file rotates by size into .1, .2, .3, each 0600, without logging.handlers.

And the CLI's start loads only what ``plan --json`` needs.
"""

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


#: Loaded by none of `plan --json`'s steps on a home without logins: each costs start-up time
#: (logging.handlers: socket and pickle; hashlib: OpenSSL; uuid: platform; dataclasses: inspect
#: and compiled methods, CONTRIBUTING.md; tomllib: the registry is read as JSON, core/providers.py;
#: the other commands).
NOT_ON_THE_WAY_TO_A_PLAN = ("logging.handlers", "hashlib", "uuid", "difflib", "importlib.resources",
                            "dataclasses", "inspect", "tomllib",
                            "agentmux_companion.core.migration.apply", "agentmux_companion.core.migration.ledger",
                            "agentmux_companion.cli.keyring_snapshot",
                            "agentmux_companion.cli.doctor", "agentmux_companion.cli.demo")


def test_plan_json_start_loads_only_what_it_needs(tmp_path: Path) -> None:
    code = ("import contextlib, io, sys\nfrom agentmux_companion.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main(['plan', '--json', '--home', {str(tmp_path)!r}])\n"
            f"print(','.join(m for m in {NOT_ON_THE_WAY_TO_A_PLAN!r} if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
