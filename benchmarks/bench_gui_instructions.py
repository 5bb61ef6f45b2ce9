"""GUI start-up counted in instructions: the programs of ``bench_gui_startup.py``, under valgrind.

The timed benchmark's figures move by a tenth or more from run to run on a shared machine, and
its ratio with them (docs/benchmarks.md lists a day of runs): a change worth 2 % of the start is
lost in that. valgrind's callgrind counts the instructions a program executes instead, the same
count run after run (Python's hash seed fixed), whatever else the machine does. So this tells
such changes apart, and says where the companion's part goes: its stages are programs that
import what the companion has imported by then.

It is not the target's measure (that is wall-clock time, ``bench_gui_startup.py``).
Instructions weigh Python's own work fully and waiting on memory or on the disk not at all, so
the loading of Qt's native libraries, a large part of the bare window's time, counts for less
here, and the ratios come out higher than the timed ones.

Every program ends its process the moment it prints ``ready`` (``os._exit``): what comes after,
quitting and Python's shutdown, is not start-up. The companion is ``agentmux-companion-gui
--smoke`` on a prebuilt demo sandbox, as in the timed benchmark, through a small driver that ends
it right after its ``ready`` line; the background scan's instructions count too. As in the timed
benchmark, its cache folder holds PySide6's support code kept by an earlier start (one whole
``--smoke`` start runs first), and the stages after PySide6's import read it as the companion does.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agentmux_companion.core.migration.plan import now_ms
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.sandbox import build_demo_sandbox
from agentmux_companion.pyside_support_code import CACHE_FILE
from benchmarks.bench_gui_startup import (
    KEPT_FLOOR,
    KEPT_SUPPORT_CODE,
    ONE_ALIGNED_LABEL,
    ONE_LABEL,
    QT_NAMESPACE,
    QT_NAMESPACE_IMPORTS,
    TEXT_IMPORTS,
    WINDOW_PROGRAM,
    companion_qt_classes,
)
from benchmarks.common import table

#: Ends the process on the spot (no quitting, no shutdown): the count stops at ``ready``.
EXIT = "os._exit(0)"

#: ``agentmux-companion-gui``'s entry point, ended right after the smoke check's ``ready`` line.
#: The entry point pauses the cycle collector before it loads ``app``; the driver does that
#: first too, as it needs ``app`` loaded to end the run there.
COMPANION_TO_PLAN = """
import os, sys
from agentmux_companion.core.collector import pause_for_start_up
from agentmux_companion.entry_points import tray_companion
pause_for_start_up()
from agentmux_companion import app
print_ready = app._SmokeCheck._on_scan_finished
def end_once_shown(self, plan):
    print_ready(self, plan)  # prints "ready <state>", as the timed benchmark reads it
    os._exit(0)
app._SmokeCheck._on_scan_finished = end_once_shown
sys.exit(tray_companion(sys.argv[1:]))
"""


#: In a list of modules for :func:`importing`: PySide6's core imported here as the companion
#: imports it, its support code kept from an earlier start (the cache folder is ``argv[1]``).
PYSIDE_KEPT = "PySide6 with its support code kept"


def importing(*modules: str, collector_paused: bool = False) -> str:
    """A program that imports ``modules`` in order, then ends (``collector_paused``: as the entry points do)."""
    pause = "import gc\ngc.disable()\n" if collector_paused else ""
    steps = "".join(KEPT_SUPPORT_CODE if m == PYSIDE_KEPT else f"import {m}\n" for m in modules)
    return "import os\n" + pause + steps + EXIT + "\n"


BARE = "bare PySide6 window (baseline)"
TEXT_FLOOR = "the same window showing one label"
CLASSES_FLOOR = "… and the {count} PySide6 classes the companion's start path names"
COMPANION = "`agentmux-companion-gui --smoke` to its plan shown"

ENGINE = ("agentmux_companion.app", "agentmux_companion.core.migration.plan")
CONTROLLER = (*ENGINE, PYSIDE_KEPT, "agentmux_companion.ui.controller")
WINDOW_MODULES = (*CONTROLLER, "agentmux_companion.ui.window_wiring")
INTERPRETER = "the interpreter alone (`python -c` that ends at once)"
PYSIDE = "PySide6 imported as the bare window imports it (for scale)"
PYSIDE_WITH_KEPT = "… and with its support code kept, as the companion imports it"
#: The companion's stages, in order: each imports what the companion has imported by then, with
#: the cycle collector paused as the companion's entry point pauses it.
STAGES = {
    "the companion's launcher and engine imported (no Qt yet)": importing(*ENGINE, collector_paused=True),
    "… and PySide6 with the controller's modules": importing(*CONTROLLER, collector_paused=True),
    "… and the plan window's modules": importing(*WINDOW_MODULES, collector_paused=True),
}


def instructions(command: list[str], env: dict[str, str]) -> int:
    """The instructions ``command`` executes under callgrind (all its threads), as valgrind reports them."""
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"{command[:3]}: under valgrind, exit {result.returncode}:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: `make bench` installs it (scripts/install-system-deps.sh --bench)")
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONDONTWRITEBYTECODE")}
    base_env.update(QT_QPA_PLATFORM="offscreen", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix="bench-gui-instructions-") as tmp:
        sandbox = build_demo_sandbox(Path(tmp) / "demo", now_ms())
        env = {**base_env, "HOME": str(Path(tmp) / "user"), COMPANION_DIR_ENV: str(sandbox.companion_dir),
               # The background keyring check must not reach the developer's real keyring.
               "DBUS_SESSION_BUS_ADDRESS": f"unix:path={Path(tmp) / 'no-session-bus'}"}
        smoke = ["--smoke", f"--home={sandbox.home}", f"--agentmux-root={sandbox.agentmux_root}"]
        qt_classes = companion_qt_classes(smoke, env)
        classes_floor = CLASSES_FLOOR.format(count=len(qt_classes.splitlines()))
        programs = {
            BARE: WINDOW_PROGRAM.format(before_window="", in_window="", then=EXIT),
            KEPT_FLOOR: KEPT_SUPPORT_CODE + WINDOW_PROGRAM.format(before_window="", in_window="", then=EXIT),
            TEXT_FLOOR: WINDOW_PROGRAM.format(before_window=TEXT_IMPORTS, in_window=ONE_LABEL, then=EXIT),
            QT_NAMESPACE: WINDOW_PROGRAM.format(before_window=QT_NAMESPACE_IMPORTS, in_window=ONE_ALIGNED_LABEL,
                                                then=EXIT),
            classes_floor: WINDOW_PROGRAM.format(before_window=TEXT_IMPORTS + qt_classes, in_window=ONE_LABEL,
                                                 then=EXIT),
            COMPANION: COMPANION_TO_PLAN,
            INTERPRETER: importing(),
            PYSIDE: importing("PySide6.QtCore", "PySide6.QtWidgets"),
            PYSIDE_WITH_KEPT: importing(PYSIDE_KEPT, "PySide6.QtWidgets"),
            **STAGES,
        }
        cache_dir = AppPaths.resolve(env=env).cache_dir
        commands = {name: [sys.executable, "-c", text, *(smoke if text is COMPANION_TO_PLAN else [str(cache_dir)])]
                    for name, text in programs.items()}
        for command in commands.values():  # Python's bytecode cache, written once, as on an installed copy
            subprocess.run(command, env=env, capture_output=True, timeout=120, check=True)
        # A whole start, which keeps PySide6's support code for the next (the driver above ends first).
        subprocess.run([sys.executable, "-m", "agentmux_companion", "gui", *smoke], env=env, capture_output=True,
                       timeout=120, check=True)
        if not (cache_dir / CACHE_FILE).is_file():
            raise SystemExit(f"the companion kept no compiled support code in {cache_dir}")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counts = dict(zip(commands, pool.map(lambda c: instructions(c, env), commands.values()), strict=True))

    base = counts[BARE]
    print("## GUI start-up in instructions (callgrind)\n")
    print("Each program ends at its `ready` line; the same counts run after run (`PYTHONHASHSEED=0`).\n")
    print(table(["program", "instructions (millions)", "vs baseline"],
                [[name, f"{counts[name] / 1e6:,.0f}", f"{counts[name] / base:.2f}×"]
                 for name in (BARE, KEPT_FLOOR, TEXT_FLOOR, QT_NAMESPACE, classes_floor, COMPANION)]))
    print("\nThe companion's start by stage (each a program importing what the companion has by then):\n")
    rows = [[name, f"{counts[name] / 1e6:,.0f}", "—"] for name in (INTERPRETER, PYSIDE, PYSIDE_WITH_KEPT)]
    previous = counts[INTERPRETER]
    for name in STAGES:
        rows.append([name, f"{counts[name] / 1e6:,.0f}", f"+{(counts[name] - previous) / 1e6:,.0f}"])
        previous = counts[name]
    rows.append(["… and the window built, shown, the scan done, its plan shown (the whole start)",
                 f"{counts[COMPANION] / 1e6:,.0f}", f"+{(counts[COMPANION] - previous) / 1e6:,.0f}"])
    print(table(["stage", "instructions (millions)", "added by the stage"], rows))
    imports_beyond = counts[list(STAGES)[1]] - counts[PYSIDE_WITH_KEPT]
    print(f"\nUp to the controller, the companion's imports execute {imports_beyond / 1e6:,.0f} million "
          "instructions more than PySide6's own import with its support code kept.")
    # The references with PySide6's classes are counted without the kept support code (they are
    # PySide6 alone); the companion's own part is read against them as if they kept it too.
    kept_saves = base - counts[KEPT_FLOOR]
    own = counts[COMPANION] - (counts[classes_floor] - kept_saves)
    print(f"\nThe companion executes {counts[COMPANION] / base:.2f}× the bare window's instructions, PySide6's "
          f"support code kept from its first start ({kept_saves / 1e6:,.0f} million less; the bare window with it "
          f"kept: {counts[KEPT_FLOOR] / base:.2f}×, and against that window the companion is "
          f"{counts[COMPANION] / counts[KEPT_FLOOR]:.2f}×). The window with the PySide6 classes it names, without "
          f"that: {counts[classes_floor] / base:.2f}×. Beyond that window with the support code kept too, "
          f"{own / 1e6:,.0f} million ({own / base:.2f}× the bare window) are the companion's own: its modules, "
          "its window's widgets, the scan and showing the plan.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
