"""The frozen build: its size against a bare PySide6 window, its start against the installed package.

Both are built in this run with the same PyInstaller, the same Qt trimming and stripping
(``packaging/freeze_policy.py``): the app with ``packaging/agentmux-companion.spec``, the
yardstick with ``packaging/reference/bare-window.spec``. The ratio is what the companion adds on
top of "a Qt window": its code, keyring and its crypto, SQLite, QtSvg/QtNetwork. Target: 1.15×.

Start-up: ``--demo --smoke`` (build the demo sandbox, start Qt offscreen, first scan, print
``ready``, quit) of the frozen GUI against ``.venv/bin/agentmux-companion gui --demo --smoke``,
median of several runs, alternating; the bare window's ``--smoke`` is shown for scale.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from benchmarks.common import ratio_text, table, verdict

PROJECT_DIR = Path(__file__).resolve().parents[1]
PACKAGING_DIR = PROJECT_DIR / "packaging"
SIZE_TARGET = 1.15


def load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("companion_build", PACKAGING_DIR / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def timed_run(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0 or "ready" not in completed.stdout:
        raise SystemExit(f"{' '.join(command)} failed (exit {completed.returncode}):\n{completed.stderr}")
    return elapsed


def mb(size: int) -> str:
    return f"{size / 1e6:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="start-up runs per program (default 9)")
    args = parser.parse_args()
    build = load_build_module()
    with tempfile.TemporaryDirectory(prefix="bench-frozen-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.monotonic()
        app = build.build(tmp / "dist", tmp / "work", archive=True)
        app_seconds = time.monotonic() - started

        started = time.monotonic()
        build.run_pyinstaller(PACKAGING_DIR / "reference" / "bare-window.spec", tmp / "dist", tmp / "work",
                              clean=False, quiet=True)
        bare_folder = tmp / "dist" / "bare-window"
        bare_archive = build.make_archive(bare_folder, tmp / "dist" / "bare-window")
        bare_seconds = time.monotonic() - started

        sizes = {
            "folder": (app.folder_bytes, build.tree_size(bare_folder)),
            "compressed archive": (app.archive_bytes, bare_archive.stat().st_size),
        }

        home, tmpdir = tmp / "home", tmp / "tmpdir"
        home.mkdir()
        tmpdir.mkdir()
        env = {key: value for key, value in os.environ.items()
               if key not in ("DISPLAY", "WAYLAND_DISPLAY") and not key.startswith(("XDG_", "AGENTMUX_"))}
        env.update(HOME=str(home), TMPDIR=str(tmpdir), QT_QPA_PLATFORM="offscreen")
        installed = str(Path(sys.executable).with_name("agentmux-companion"))
        programs = {
            "installed: `agentmux-companion gui --demo --smoke`": [installed, "gui", "--demo", "--smoke"],
            "frozen: `agentmux-companion-gui --demo --smoke`": [app.gui, "--demo", "--smoke"],
            "frozen bare window `--smoke` (scale)": [str(bare_folder / "bare-window"), "--smoke"],
        }
        for command in programs.values():  # warm the OS file cache once
            timed_run(command, env)
        times: dict[str, list[float]] = {name: [] for name in programs}
        for _ in range(args.runs):
            for name, command in programs.items():
                times[name].append(timed_run(command, env))

    print("## Frozen build (PyInstaller)\n")
    print(f"Built in this run: the app in {app_seconds:.0f} s (with its archive), the bare window in "
          f"{bare_seconds:.0f} s; {app.platform}, gzip level 6.\n")
    rows = []
    for what, (app_size, bare_size) in sizes.items():
        ratio = app_size / bare_size
        rows.append([what, mb(app_size), mb(bare_size), ratio_text(ratio, SIZE_TARGET),
                     verdict(ratio, SIZE_TARGET)])
    print(table(["size", "companion (MB)", "bare PySide6 window (MB)", "ratio",
                 f"target {SIZE_TARGET:.2f}×"], rows))
    print(f"\nStart-up to `ready`, median of {args.runs} runs each, alternating:\n")
    installed_s = statistics.median(next(iter(times.values())))
    print(table(
        ["program", "ms", "vs installed"],
        [[name, f"{statistics.median(v) * 1000:.0f}", f"{statistics.median(v) / installed_s:.2f}×"]
         for name, v in times.items()],
    ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
