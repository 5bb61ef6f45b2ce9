"""Bring forward under Xvfb with a real window manager (openbox) and tray host (trayer).

The tray's Review…, a click on the icon and a second launch restore a minimized window and make
it active.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.xvfb import xvfb_with_tray

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.xvfb
def test_a_minimized_window_comes_back_three_ways() -> None:
    with xvfb_with_tray(window_manager=True) as display:
        result = subprocess.run([sys.executable, "-m", "tests.ui.bring_forward_scenario"], env=display.env(),
                                cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["restored review", "restored icon", "restored second-launch"]
