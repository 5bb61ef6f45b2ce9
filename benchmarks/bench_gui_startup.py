"""GUI start-up: launch to the plan window visible with its plan, against a bare PySide6 window.

Each program is started as a fresh process on the offscreen platform (no tray there, so the
companion opens its plan window directly) and timed until it prints its ready line:

- baseline: a bare PySide6 program that shows an empty QWidget and prints ``ready`` once the
  event loop has run (the window is shown);
- ``agentmux-companion-gui --smoke`` (the launcher desktops and start-at-login use) against a
  prebuilt demo sandbox: the companion's whole start (imports, logging, QApplication, the window,
  the background scan, the plan shown) until ``ready <state>``;
- the same through ``agentmux-companion gui`` (the CLI's dispatch adds its own imports);
- ``agentmux-companion gui --demo --smoke``: plus building the demo sandbox (two SQLite stores).

Runs alternate so machine noise hits all three alike; the table reports medians and the ratio to
the baseline (target: within 1.5×).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentmux_companion.core.paths import COMPANION_DIR_ENV
from agentmux_companion.core.plan import now_ms
from agentmux_companion.core.sandbox import build_demo_sandbox
from benchmarks.common import table

BARE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
window = QWidget()
window.resize(760, 560)
window.show()
def ready():
    print("ready", flush=True)
    app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""

TARGET = 1.5
BASELINE = "bare PySide6 window (baseline)"
MAIN = "`agentmux-companion-gui --smoke` on a prebuilt demo sandbox"


def time_to_ready(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting the process to its first stdout line starting with ``ready``."""
    started = time.perf_counter()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ready"):
                elapsed = time.perf_counter() - started
                break
        else:
            raise SystemExit(f"{command}: exited without a ready line")
        proc.wait(30)
    if proc.returncode != 0:
        raise SystemExit(f"{command}: exit {proc.returncode}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    base_env["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        sandbox = build_demo_sandbox(Path(tmp) / "demo", now_ms())
        env = {**base_env, "HOME": str(Path(tmp) / "user"), COMPANION_DIR_ENV: str(sandbox.companion_dir)}
        bin_dir = Path(sys.executable).parent
        gui_script = [str(bin_dir / "agentmux-companion-gui")]
        cli_gui = [str(bin_dir / "agentmux-companion"), "gui"]
        commands = {
            BASELINE: [sys.executable, "-c", BARE],
            MAIN: [*gui_script, "--smoke", f"--home={sandbox.home}", f"--agentmux-root={sandbox.agentmux_root}"],
            "`agentmux-companion gui --smoke`, same sandbox (through the CLI)": [
                *cli_gui, "--smoke", f"--home={sandbox.home}", f"--agentmux-root={sandbox.agentmux_root}"],
            "`agentmux-companion gui --demo --smoke` (builds the sandbox too)": [*cli_gui, "--demo", "--smoke"],
        }
        for command in commands.values():  # warm the OS file cache and Python's bytecode cache
            time_to_ready(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(time_to_ready(command, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians[BASELINE]
    print("## GUI start-up: launch to the plan window visible\n")
    print(f"Offscreen, median of {args.runs} runs each, alternating; time until the ready line.\n")
    print(table(
        ["program", "ms", "vs baseline"],
        [[name, f"{m * 1000:.0f}", f"{m / base:.2f}×"] for name, m in medians.items()],
    ))
    ratio = medians[MAIN] / base
    verdict = "within" if ratio <= TARGET else "over"
    print(f"\nThe companion's start is {ratio:.2f}× the bare window's ({verdict} the {TARGET}× target).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
