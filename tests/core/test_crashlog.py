"""The crash log: a real segfault in a child process, then the next start reports it (core/crashlog.py)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agentmux_companion.core.crashlog import CRASH_LOG_NAME, enable_crash_log
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths

#: A start of the companion as far as the crash log goes: enable it, say what it reported, then
#: either exit normally or crash hard (faulthandler's own test helper raises a real SIGSEGV).
START = """
import sys
from agentmux_companion.core.crashlog import enable_crash_log
from agentmux_companion.core.paths import AppPaths
previous = enable_crash_log(AppPaths.resolve())
print(previous.message if previous else "no previous crash", flush=True)
if sys.argv[1] == "crash":
    import faulthandler
    faulthandler._sigsegv()
"""


def start(companion_dir: Path, then: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, COMPANION_DIR_ENV: str(companion_dir)}
    return subprocess.run([sys.executable, "-c", START, then], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_a_segfault_is_reported_by_the_next_start_once(tmp_path: Path) -> None:
    companion = tmp_path / "companion"
    log_dir = companion / "log"

    first = start(companion, "crash")
    assert first.stdout.strip() == "no previous crash"
    assert first.returncode == (-signal.SIGSEGV if os.name == "posix" else first.returncode)
    assert first.returncode != 0
    report = (log_dir / CRASH_LOG_NAME).read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in report
    assert "<string>" in report  # the crashing frame, from faulthandler's stack dump

    second = start(companion, "exit")
    assert second.returncode == 0, second.stderr
    rotated = log_dir / f"{CRASH_LOG_NAME}.1"
    assert second.stdout.strip() == (
        f"The previous run crashed (Fatal Python error: Segmentation fault); its report is in {rotated}")
    assert rotated.read_text(encoding="utf-8") == report
    assert (log_dir / CRASH_LOG_NAME).read_bytes() == b""  # this run's, still empty

    third = start(companion, "exit")
    assert third.stdout.strip() == "no previous crash"
    assert rotated.read_text(encoding="utf-8") == report


#: Five starts, each finding a report left by a crash: what each start said, as JSON.
ROTATE = """
import json, sys
from pathlib import Path
from agentmux_companion.core.crashlog import enable_crash_log
from agentmux_companion.core.paths import AppPaths
paths = AppPaths.resolve()
said = []
for number in range(5):
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    (paths.log_dir / "crash.log").write_text(f"Fatal Python error: crash {number}\\n", encoding="utf-8")
    previous = enable_crash_log(paths)
    said.append([previous.headline, previous.text])
print(json.dumps(said))
"""


def test_older_reports_are_rotated_and_the_oldest_dropped(tmp_path: Path) -> None:
    # In a child process: enabling the crash log in pytest's own would take faulthandler from it.
    env = {**os.environ, COMPANION_DIR_ENV: str(tmp_path)}
    child = subprocess.run([sys.executable, "-c", ROTATE], env=env, capture_output=True, text=True, timeout=60,
                           check=True)
    said = json.loads(child.stdout)
    assert [headline for headline, _text in said] == [f"Fatal Python error: crash {n}" for n in range(5)]
    log_dir = tmp_path / "log"
    kept = sorted(p.name for p in log_dir.iterdir() if p.name.startswith(CRASH_LOG_NAME))
    assert kept == [CRASH_LOG_NAME, f"{CRASH_LOG_NAME}.1", f"{CRASH_LOG_NAME}.2", f"{CRASH_LOG_NAME}.3"]
    assert [(log_dir / f"{CRASH_LOG_NAME}.{n}").read_text(encoding="utf-8") for n in (1, 2, 3)] == [
        f"Fatal Python error: crash {n}\n" for n in (4, 3, 2)]
    assert (log_dir / CRASH_LOG_NAME).read_bytes() == b""


@pytest.mark.linux_only
def test_the_crash_log_is_private(tmp_path: Path) -> None:
    assert start(tmp_path / "c", "exit").returncode == 0
    assert stat.S_IMODE((tmp_path / "c" / "log" / CRASH_LOG_NAME).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "c" / "log").stat().st_mode) == 0o700


@pytest.mark.linux_only
def test_a_link_where_the_crash_log_should_be_is_not_followed(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    paths = AppPaths.resolve(env={COMPANION_DIR_ENV: str(tmp_path / "c")})
    paths.log_dir.mkdir(parents=True)
    elsewhere = tmp_path / "someone-elses-file"
    elsewhere.write_text("not the companion's\n", encoding="utf-8")
    (paths.log_dir / CRASH_LOG_NAME).symlink_to(elsewhere)
    assert enable_crash_log(paths) is None
    assert elsewhere.read_text(encoding="utf-8") == "not the companion's\n"
    assert (paths.log_dir / CRASH_LOG_NAME).is_symlink()
    assert "crash log not enabled" in caplog.text
    assert "symbolic link" in caplog.text


@pytest.mark.linux_only
def test_a_fifo_where_the_crash_log_should_be_never_blocks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = AppPaths.resolve(env={COMPANION_DIR_ENV: str(tmp_path / "c")})
    paths.log_dir.mkdir(parents=True)
    os.mkfifo(paths.log_dir / CRASH_LOG_NAME)
    assert enable_crash_log(paths) is None  # returns at once: nothing opened the FIFO for reading
    assert "crash log not enabled" in caplog.text
    assert "not a regular file" in caplog.text
