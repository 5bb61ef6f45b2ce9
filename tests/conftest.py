"""Suite-wide settings: every test runs in a private home, never the developer's.

Qt is told to render offscreen before any QApplication can exist (without a display Qt would
abort the process); tests that need a real X display start Xvfb themselves
(``tests/helpers/xvfb.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Variables of AgentMux and of the companion that would point a test at real data.
_LEAKY = (
    "AGENTMUX_HOME_OVERRIDE",
    "AGENTMUX_SHARED_DIR",
    "AGENTMUX_CHANNEL",
    "AGENTMUX_COMPANION_DIR",
)


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $HOME and XDG dirs for each test, so nothing reads or writes the real ones."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    for name, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(name, str(home / sub))
    for name in _LEAKY:
        monkeypatch.delenv(name, raising=False)
    return home
