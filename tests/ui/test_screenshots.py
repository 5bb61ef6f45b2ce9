"""Screenshots of the tray, the plan window and the keyring panel, light and dark.

The tray with its menu; taken under Xvfb + trayer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from tests.helpers.xvfb import xvfb_with_tray
from tests.ui.screenshot_scenario import KEYRING_SIZE, PLAN_SIZE, STATES, TRAY_SHOT

ROOT = Path(__file__).resolve().parents[2]
ACTION_NEEDED_BADGE = QColor("#e37400")  # from resources/icons/tray-action-needed.svg


def _colours(image: QImage, step: int = 3) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}


def _has_colour_near(image: QImage, colour: QColor, tolerance: int = 40) -> bool:
    for x in range(image.width()):
        for y in range(image.height()):
            pixel = QColor(image.pixel(x, y))
            if (abs(pixel.red() - colour.red()) + abs(pixel.green() - colour.green())
                    + abs(pixel.blue() - colour.blue())) <= tolerance:
                return True
    return False


@pytest.mark.xvfb
def test_screenshots_of_tray_and_plan_window(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    with xvfb_with_tray() as display:
        result = subprocess.run(
            [sys.executable, "-m", "tests.ui.screenshot_scenario", str(out),
             ",".join(str(v) for v in display.tray_geometry)],
            env=display.env(), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )
    assert result.returncode == 0, result.stderr
    expected = {f"{state}-{scheme}.png": PLAN_SIZE for state in STATES for scheme in ("light", "dark")}
    expected |= {"tray-light.png": TRAY_SHOT, "tray-dark.png": TRAY_SHOT,
                "keyring-light.png": KEYRING_SIZE, "keyring-dark.png": KEYRING_SIZE}
    assert sorted(result.stdout.split()) == sorted(expected)
    images = {}
    for name, size in expected.items():
        image = QImage(str(out / name))
        assert not image.isNull(), name
        assert (image.width(), image.height()) == size, name
        assert len(_colours(image)) > 20, f"{name} is (nearly) a single colour"
        images[name] = image
    # The tray host really shows our icon (its "action needed" badge), in both shots.
    for name in ("tray-light.png", "tray-dark.png"):
        corner = images[name].copy(TRAY_SHOT[0] - 120, 0, 120, 32)
        assert _has_colour_near(corner, ACTION_NEEDED_BADGE), name
    # Light and dark really differ: the window follows the palette.
    for kind in (*STATES, "keyring"):
        light, dark = images[f"{kind}-light.png"], images[f"{kind}-dark.png"]
        assert QColor(light.pixel(5, 5)).lightness() > QColor(dark.pixel(5, 5)).lightness(), kind
