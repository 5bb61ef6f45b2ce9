"""A real X display with a system tray host, for tests that need real windows (screenshots).

Starts ``Xvfb :N -screen 0 1024x768x24 -nolisten tcp`` on a free display number and ``trayer``
(a small panel that hosts tray icons) on it, waits until both are up, and stops both at the end.
Optionally openbox, a light window manager, for minimize and restore. A missing binary is an
error, not a skip: CI installs them (``scripts/install-system-deps.sh``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.processes import stop_process

SCREEN = (1024, 768)
TRAY_WIDTH, TRAY_HEIGHT = 120, 32
_START_TIMEOUT_S = 20.0
_X_SOCKETS = Path("/tmp/.X11-unix")


class XvfbError(RuntimeError):
    """The display or the tray host could not be started."""


@dataclass(frozen=True)
class TrayDisplay:
    """A running display.

    Attributes:
        display: the ``DISPLAY`` value (``:N``).
        tray_geometry: the tray host's panel as (x, y, width, height) on the screen.
    """

    display: str
    tray_geometry: tuple[int, int, int, int]

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for a Qt program on this display (xcb, not offscreen)."""
        env = dict(os.environ if base is None else base)
        env.pop("WAYLAND_DISPLAY", None)
        env["DISPLAY"] = self.display
        env["QT_QPA_PLATFORM"] = "xcb"
        return env


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise XvfbError(f"{binary} is not installed; run scripts/install-system-deps.sh")
    return path


def _free_display_number() -> int:
    for number in range(90, 300):
        if not Path(f"/tmp/.X{number}-lock").exists() and not (_X_SOCKETS / f"X{number}").exists():
            return number
    raise XvfbError("no free X display number between :90 and :299")


def _wait(condition_name: str, check: object, process: subprocess.Popen[bytes]) -> object:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise XvfbError(f"{condition_name}: the process exited with {process.returncode}")
        value = check() if callable(check) else None
        if value:
            return value
        time.sleep(0.05)
    raise XvfbError(f"{condition_name}: not ready after {_START_TIMEOUT_S:.0f} s")


_PANEL = re.compile(r'"panel": \("panel" "trayer"\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)')


def _tray_panel(display: str) -> tuple[int, int, int, int] | None:
    result = subprocess.run(
        [_require("xwininfo"), "-root", "-tree"], env={**os.environ, "DISPLAY": display},
        capture_output=True, text=True, check=False,
    )
    match = _PANEL.search(result.stdout)
    if not match:
        return None
    width, height, x, y = (int(g) for g in match.groups())
    return (x, y, width, height)


def _answers(display: str) -> bool:
    result = subprocess.run([_require("xdpyinfo")], env={**os.environ, "DISPLAY": display},
                            capture_output=True, check=False)
    return result.returncode == 0


def _window_manager_running(display: str) -> bool:
    # An EWMH window manager announces itself on the root window (_NET_SUPPORTING_WM_CHECK).
    result = subprocess.run([_require("xprop"), "-root", "_NET_SUPPORTING_WM_CHECK"],
                            env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, check=False)
    return "window id #" in result.stdout


def _start_window_manager(binary: str, display: str) -> subprocess.Popen[bytes]:
    """Start openbox on ``display``; one retry, since it can lose a race with the server's start."""
    for attempt in (1, 2):
        with tempfile.TemporaryFile() as errors:
            manager = subprocess.Popen([binary, "--sm-disable"], env={**os.environ, "DISPLAY": display},
                                       stdout=subprocess.DEVNULL, stderr=errors)
            try:
                _wait("openbox", lambda: _window_manager_running(display), manager)
                return manager
            except XvfbError:
                stop_process(manager)
                if attempt == 2:
                    errors.seek(0)
                    raise XvfbError(f"openbox did not start: {errors.read().decode(errors='replace')}") from None
    raise AssertionError("unreachable")


@contextmanager
def xvfb_with_tray(window_manager: bool = False) -> Iterator[TrayDisplay]:
    """Run Xvfb and trayer (and with ``window_manager``, openbox) for the ``with`` block.

    A window manager is what minimizes (iconifies) and restores windows on X11; without one a
    window can never be minimized, so the bring-forward tests need it.
    """
    xvfb_binary, trayer_binary = _require("Xvfb"), _require("trayer")
    _require("xwininfo")
    _require("xdpyinfo")
    openbox_binary = _require("openbox") if window_manager else ""
    xvfb = trayer = manager = None
    try:
        number = _free_display_number()
        display = f":{number}"
        xvfb = subprocess.Popen(
            [xvfb_binary, display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        # The socket appears before the server answers; a client that connects succeeds only then.
        _wait("Xvfb", lambda: (_X_SOCKETS / f"X{number}").exists() and _answers(display), xvfb)
        if window_manager:
            manager = _start_window_manager(openbox_binary, display)
        trayer = subprocess.Popen(
            [trayer_binary, "--edge", "top", "--align", "right", "--widthtype", "pixel",
             "--width", str(TRAY_WIDTH), "--height", str(TRAY_HEIGHT), "--transparent", "false",
             "--SetDockType", "true"],
            env={**os.environ, "DISPLAY": display}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        geometry = _wait("trayer", lambda: _tray_panel(display), trayer)
        assert isinstance(geometry, tuple)
        yield TrayDisplay(display, geometry)
    finally:
        stop_process(trayer)
        stop_process(manager)
        stop_process(xvfb)
