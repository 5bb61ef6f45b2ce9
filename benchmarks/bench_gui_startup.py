"""GUI start-up against a bare PySide6 window, and the idle CPU of a running companion.

Measured: launch to the plan window visible, and to its plan shown; then the idle CPU.

Each program is started as a fresh process on the offscreen platform (no tray there, so the
companion opens its plan window directly) and timed by when its lines arrive on stdout:

- baseline: a bare PySide6 program that shows an empty QWidget and prints ``ready`` once the
  event loop has run (the window is shown);
- beside it, references (reported, never the baseline): the same window showing one label
  with the ``Qt`` namespace imported, and that window with every PySide6 class the companion's
  start path names imported too (the list is read from a ``--smoke`` run): the part of the
  companion's start that is PySide6's, not the companion's; and the bare window with PySide6's
  support code kept from an earlier start, as the companion keeps it (pyside_support_code.py):
  the companion's own part of the start read against that window too;
- ``agentmux-companion-gui --smoke`` (the launcher desktops and start-at-login use) against a
  prebuilt demo sandbox, started once before the timed rounds, so each timed start is a user's
  later one: its cache folder holds the support code its first start kept. It prints ``window
  shown`` once the event loop has shown the plan window (still saying "Looking for AgentMux
  stores and logins…") and ``ready <state>`` once the background scan's plan is in it: the two
  figures reported, "window visible" and "plan shown";
- a normal launch, as a user's (no ``--smoke``): it also claims the single instance, which the
  smoke check skips so that it can run beside a running companion. A small driver starts it
  through the same entry point and prints ``ready`` once its first plan is in the window (the
  moment the smoke check prints its own), then ends the process;
- the same through ``agentmux-companion gui`` (the CLI's dispatch adds its own imports);
- ``agentmux-companion gui --demo --smoke``: plus building the demo sandbox (two SQLite stores),
  whose cache folder is new at each start (the demo writes nothing outside it).

Runs alternate so machine noise hits all programs alike; the table reports medians and the ratios
to the baseline (target: the plan shown within 1.5× of the bare window), and a second table the
ratios paired by round (the machine's speed drifts within a run).

Python's bytecode cache is allowed for every program (``PYTHONDONTWRITEBYTECODE`` is dropped for
the children), as on an installed copy: pip compiles the modules at install and frozen builds
carry bytecode; compiling the companion's sources at every launch would measure neither.

Idle CPU: the companion runs normally (not ``--smoke``) on the same sandbox, offscreen with no
tray, so its window stays open; after start-up settles, the CPU time it uses over a few seconds
is read from ``/proc/<pid>/stat`` (Linux). It watches files through notifications and has no
polling timer, so this should be close to zero.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentmux_companion.core.migration.plan import now_ms
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.sandbox import build_demo_sandbox
from agentmux_companion.pyside_support_code import CACHE_FILE
from benchmarks.common import ratio_text, table, verdict

#: The bare program: an empty window, shown; ``ready`` once the event loop has shown it.
#: ``{before_window}`` and ``{in_window}`` are empty here; the references below fill them.
#: ``{then}`` is what follows ``ready``: quitting (here), or ending the process on the spot
#: (``bench_gui_instructions.py``, which counts up to that line).
WINDOW_PROGRAM = """
import os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
{before_window}
app = QApplication(sys.argv)
window = QWidget()
window.resize(760, 560)
{in_window}
window.show()
def ready():
    print("ready", flush=True)
    {then}
QTimer.singleShot(0, ready)
app.exec()
"""
QUIT = "app.quit()"
BARE = WINDOW_PROGRAM.format(before_window="", in_window="", then=QUIT)

#: What a PySide6 window pays beyond the bare one before any code of ours runs, in steps.
#: Showing a line of text: the first text loads the font database and lays it out. Then the Qt
#: classes the companion's start path uses: PySide6 creates each class, with its enums, the
#: first time it is named. Beside them, the label's window naming the ``Qt`` namespace, whose 94
#: enums PySide6 creates all at once when it is first named: what any window that aligns a label
#: the usual way pays, and the companion's first window does without (ui/qt_values.py).
#: Reported beside the baseline, never instead of it: they show how much of the 0.5x allowance
#: any window built from those widgets spends on PySide6 itself.
TEXT_IMPORTS = """
from PySide6.QtWidgets import QLabel, QVBoxLayout
"""
ONE_LABEL = """
label = QLabel("Looking for AgentMux stores and logins...")
QVBoxLayout(window).addWidget(label)
"""
QT_NAMESPACE_IMPORTS = TEXT_IMPORTS + "from PySide6.QtCore import Qt\n"

#: The bare program with PySide6's support code kept, as the companion keeps it from one start to
#: the next (src/agentmux_companion/pyside_support_code.py; the cache folder is the companion's,
#: given as its argument): how much of the companion's start that saves. Reported beside the
#: baseline, never instead of it, so that the companion's own part can be read against either.
KEPT_SUPPORT_CODE = """
import sys
from pathlib import Path
from agentmux_companion.pyside_support_code import SupportCode
support_code = SupportCode(Path(sys.argv[1]))
with support_code.serving():
    import PySide6.QtCore
support_code.save()
"""
ONE_ALIGNED_LABEL = ONE_LABEL + "label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)\n"

#: Prints, after a ``--smoke`` start on the sandbox, one ``from PySide6.<module> import <class>``
#: line per PySide6 class that a module of the companion has imported by then.
LIST_QT_CLASSES = """
import contextlib, io, sys
from agentmux_companion import app
with contextlib.redirect_stdout(io.StringIO()):
    app.main(sys.argv[1:])
found = set()
for name, module in list(sys.modules.items()):
    if name.startswith("agentmux_companion"):
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__.startswith("PySide6."):
                found.add((value.__module__, value.__name__))
print("\\n".join(f"from {module} import {name}" for module, name in sorted(found)))
"""


def companion_qt_classes(smoke: list[str], env: dict[str, str]) -> str:
    """The import lines of the PySide6 classes the companion's start path uses (found by running it)."""
    result = subprocess.run([sys.executable, "-c", LIST_QT_CLASSES, *smoke], env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    return result.stdout.strip()


TARGET = 1.5
BASELINE = "bare PySide6 window (baseline)"
KEPT_FLOOR = "the bare window with PySide6's support code kept, as the companion keeps it"
TEXT_FLOOR = "the same window showing one label (any window with text)"
QT_NAMESPACE = "the label aligned through PySide6's `Qt` namespace (what the companion's window does without)"
CLASSES_FLOOR = "… and the {count} PySide6 classes the companion's start path names, imported"
MAIN = "`agentmux-companion-gui --smoke` on a prebuilt demo sandbox"
NORMAL = "the same launched normally (claims the single instance), to its first plan"

#: A normal launch of ``agentmux-companion-gui`` (its entry point, its arguments), which prints
#: ``ready`` once the first plan is in the window, when the smoke check would, and ends there.
NORMAL_LAUNCH = """
import os, sys
from agentmux_companion.core.collector import pause_for_start_up
pause_for_start_up()  # the entry point's first step (entry_points.tray_companion), before app loads
from agentmux_companion import app
when_started = app._when_started
def also_report_ready(controller, *rest):
    when_started(controller, *rest)
    def ready(_plan):
        print("ready", flush=True)
        os._exit(0)
    controller.scan_finished.connect(ready)
app._when_started = also_report_ready
sys.exit(app.main(sys.argv[1:]))
"""
WINDOW, READY = "window", "ready"


def arrival_times(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds from starting the process to its first ``window``/``tray`` line and its ``ready`` line.

    A program that prints no separate window line (the baseline) has its window shown when it is
    ready.
    """
    started = time.perf_counter()
    seen: dict[str, float] = {}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.perf_counter() - started
            if line.startswith(("window shown", "tray shown")):
                seen.setdefault(WINDOW, now)
            elif line.startswith("ready"):
                seen[READY] = now
                seen.setdefault(WINDOW, now)
                break
        else:
            raise SystemExit(f"{command}: exited without a ready line")
        proc.wait(30)
    if proc.returncode != 0:
        raise SystemExit(f"{command}: exit {proc.returncode}")
    return seen


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (Linux ``/proc/<pid>/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def idle_cpu(command: list[str], env: dict[str, str], settle_s: float, measure_s: float) -> tuple[float, float]:
    """CPU seconds used during start-up plus ``settle_s``, then during the next ``measure_s``."""
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            time.sleep(settle_s)
            if proc.poll() is not None:
                raise SystemExit(f"{command}: exited early ({proc.returncode})")
            at_start = cpu_seconds(proc.pid)
            time.sleep(measure_s)
            at_end = cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)  # quits cleanly, like a logout
            proc.wait(30)
    return at_start, at_end - at_start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONDONTWRITEBYTECODE")}
    base_env["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        sandbox = build_demo_sandbox(Path(tmp) / "demo", now_ms())
        env = {**base_env, "HOME": str(Path(tmp) / "user"), COMPANION_DIR_ENV: str(sandbox.companion_dir),
               # The background keyring check must not reach the developer's real keyring.
               "DBUS_SESSION_BUS_ADDRESS": f"unix:path={Path(tmp) / 'no-session-bus'}",
               # The normal launch's single-instance socket (left by its os._exit) goes with the folder.
               "TMPDIR": tmp}
        bin_dir = Path(sys.executable).parent
        gui_script = [str(bin_dir / "agentmux-companion-gui")]
        cli_gui = [str(bin_dir / "agentmux-companion"), "gui"]
        on_sandbox = [f"--home={sandbox.home}", f"--agentmux-root={sandbox.agentmux_root}"]
        qt_classes = companion_qt_classes(["--smoke", *on_sandbox], env)
        classes_floor = CLASSES_FLOOR.format(count=len(qt_classes.splitlines()))
        cache_dir = AppPaths.resolve(env=env).cache_dir
        commands = {
            BASELINE: [sys.executable, "-c", BARE],
            KEPT_FLOOR: [sys.executable, "-c", KEPT_SUPPORT_CODE + BARE, str(cache_dir)],
            TEXT_FLOOR: [sys.executable, "-c",
                         WINDOW_PROGRAM.format(before_window=TEXT_IMPORTS, in_window=ONE_LABEL, then=QUIT)],
            QT_NAMESPACE: [sys.executable, "-c", WINDOW_PROGRAM.format(
                before_window=QT_NAMESPACE_IMPORTS, in_window=ONE_ALIGNED_LABEL, then=QUIT)],
            classes_floor: [sys.executable, "-c", WINDOW_PROGRAM.format(before_window=TEXT_IMPORTS + qt_classes,
                                                                         in_window=ONE_LABEL, then=QUIT)],
            MAIN: [*gui_script, "--smoke", *on_sandbox],
            NORMAL: [sys.executable, "-c", NORMAL_LAUNCH, *on_sandbox],
            "`agentmux-companion gui --smoke`, same sandbox (through the CLI)": [*cli_gui, "--smoke", *on_sandbox],
            "`agentmux-companion gui --demo --smoke` (builds the sandbox too)": [*cli_gui, "--demo", "--smoke"],
        }
        for command in commands.values():  # warm the OS file cache and write Python's bytecode cache
            arrival_times(command, env)
        if not (cache_dir / CACHE_FILE).is_file():  # the companion keeps it after its first start
            raise SystemExit(f"the companion kept no compiled support code in {cache_dir}")
        times: dict[str, dict[str, list[float]]] = {name: {WINDOW: [], READY: []} for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                for what, seconds in arrival_times(command, env).items():
                    times[name][what].append(seconds)
        startup_cpu, idle = idle_cpu([*gui_script, *on_sandbox], env, settle_s=2.0, measure_s=args.idle_seconds)

    medians = {name: {what: statistics.median(v) for what, v in got.items()} for name, got in times.items()}
    base = medians[BASELINE][READY]
    references = (BASELINE, KEPT_FLOOR, TEXT_FLOOR, QT_NAMESPACE, classes_floor)
    print("## GUI start-up: launch to the plan window visible, and to its plan shown\n")
    print(f"Offscreen, median of {args.runs} runs each, alternating; time until each line arrives.\n")
    print(table(
        ["program", "window visible (ms)", "plan shown (ms)", "window vs baseline", "plan vs baseline"],
        [[name, f"{m[WINDOW] * 1000:.0f}", "—" if name in references else f"{m[READY] * 1000:.0f}",
          f"{m[WINDOW] / base:.2f}×", "—" if name in references else ratio_text(m[READY] / base, TARGET)]
         for name, m in medians.items()],
    ))
    ratio = medians[MAIN][READY] / base
    normal = medians[NORMAL][READY] / base

    print(f"\nThe companion shows its window at {medians[MAIN][WINDOW] / base:.2f}× and its plan at "
          f"{ratio_text(ratio, TARGET)} the bare window's start ({verdict(ratio, TARGET)} the {TARGET}× target); "
          f"launched normally, claiming the single instance, its plan at {ratio_text(normal, TARGET)} "
          f"({verdict(normal, TARGET)}). Of the companion's "
          f"{(medians[MAIN][READY] - base) * 1000:.0f} ms beyond the bare window, a window showing one label "
          f"spends {(medians[TEXT_FLOOR][READY] - base) * 1000:.0f} ms, and with the PySide6 classes the "
          f"companion uses {(medians[classes_floor][READY] - base) * 1000:.0f} ms "
          f"({medians[classes_floor][READY] / base:.2f}×), before any code of ours runs. Naming PySide6's "
          f"`Qt` namespace, which the companion's first window does without, would add "
          f"{(medians[QT_NAMESPACE][READY] - medians[TEXT_FLOOR][READY]) * 1000:.0f} ms.\n")
    kept = medians[KEPT_FLOOR][READY]
    print(f"PySide6's support code, compiled at the companion's first start and kept for the next, "
          f"takes {(base - kept) * 1000:.0f} ms off PySide6's import: the bare window with it kept starts "
          f"in {kept * 1000:.0f} ms. Against that window, the companion's plan comes at "
          f"{medians[MAIN][READY] / kept:.2f}× (launched normally {medians[NORMAL][READY] / kept:.2f}×): "
          f"its own part of the start, {(medians[MAIN][READY] - kept) * 1000:.0f} ms.\n")
    # The machine's speed drifts within a run (a bare window of 100 ms in one round, 150 ms a few
    # rounds later), and a ratio of medians can pair a fast stretch's baseline with a slow
    # stretch's program. Each round runs every program back to back, so the ratio within a round
    # compares like with like: reported beside the ratio of medians, which the target is read on.
    print("Paired by round (each program's time over the bare window's in the same round):\n")
    print(table(
        ["program", "median ratio", "middle half of the rounds"],
        [[name, f"{statistics.median(r):.2f}×", f"{q[0]:.2f}–{q[2]:.2f}×"]
         for name in (MAIN, NORMAL)
         for r in [[t / b for t, b in zip(times[name][READY], times[BASELINE][READY], strict=True)]]
         for q in [statistics.quantiles(r, n=4)]],
    ))
    print()
    print("## GUI idle CPU\n")
    print("`agentmux-companion-gui` on the same sandbox, offscreen, no tray (the window stays open); "
          "CPU time from /proc/<pid>/stat.\n")
    print(table(
        ["phase", "wall (s)", "CPU (s)"],
        [["start-up and the first 2 s", "2.0", f"{startup_cpu:.2f}"],
         ["idle afterwards", f"{args.idle_seconds:.1f}", f"{idle:.3f}"]],
    ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
