"""Stopping the helper daemons the tests start (Xvfb, trayer, D-Bus, gnome-keyring)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_process(process: subprocess.Popen[Any] | None, timeout_s: float = 5) -> None:
    """Terminate ``process`` if it still runs; kill it if it does not go within the timeout."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout_s)
