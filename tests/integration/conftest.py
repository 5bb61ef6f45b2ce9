"""The frozen build, made once per test session, and a way to run its executables in isolation.

The build is always made fresh in the session's temporary folder (never reused from ``dist/``), so
a change to the code, the spec or the trimming policy cannot hide behind an old build. A build
that fails fails the tests that need it: a missing component is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = PROJECT_DIR / "packaging" / "build.py"
#: A cold build on 2 cores takes about 30 s; this bound only stops a hung PyInstaller.
BUILD_TIMEOUT_S = 600
#: Bound for one run of a frozen executable (the demo and the GUI's smoke run take 1-3 s).
RUN_TIMEOUT_S = 60


@dataclass(frozen=True)
class FrozenBuild:
    """What ``packaging/build.py --json`` reported, with paths as Paths."""

    version: str
    folder: Path
    cli: Path
    gui: Path
    archive: Path
    work_dir: Path

    @property
    def icon_dir(self) -> Path:
        return self.work_dir / "agentmux-companion" / "icons"


@pytest.fixture(scope="session")
def frozen_build(tmp_path_factory: pytest.TempPathFactory) -> FrozenBuild:
    """Builds the app with ``packaging/build.py`` into a fresh folder, once per session."""
    root = tmp_path_factory.mktemp("frozen")
    dist, work = root / "dist", root / "work"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        completed = subprocess.run(
            [sys.executable, str(BUILD_SCRIPT), "--dist", str(dist), "--work", str(work), "--json"],
            capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, env=env, cwd=PROJECT_DIR,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the frozen build did not finish in {BUILD_TIMEOUT_S} s")
    if completed.returncode != 0:
        pytest.fail(f"the frozen build failed (exit {completed.returncode}):\n{completed.stderr[-6000:]}")
    result = json.loads(completed.stdout)
    return FrozenBuild(
        version=result["version"], folder=Path(result["folder"]), cli=Path(result["cli"]),
        gui=Path(result["gui"]), archive=Path(result["archive"]), work_dir=work,
    )


@pytest.fixture
def frozen_env(tmp_path: Path) -> dict[str, str]:
    """The environment a frozen executable runs in: this test's private home (autouse), TMPDIR, offscreen Qt.

    Its own TMPDIR so what the app leaves in the temp folder can be checked; no display.
    """
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = dict(os.environ)  # already points HOME and the XDG dirs at private_home
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env.update(TMPDIR=str(tmpdir), QT_QPA_PLATFORM="offscreen")
    return env


def run(command: list[str | Path], env: Mapping[str, str], *, timeout: float = RUN_TIMEOUT_S,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs a command to completion; its output is captured as text."""
    return subprocess.run([str(part) for part in command], env=dict(env), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)
