"""CLI start-up: `agentmux-companion plan --json` on an empty sandbox against a bare Python.

The baseline is `python -c "import sqlite3, json"` — the interpreter plus the two standard modules
the CLI cannot do without — measured in the same run, alternating with the CLI. The sandbox is a
home without credentials and one empty bundle-era store, so the command does its whole job
(discovery, probe, era detection, plan) on nothing.

The package's modules are byte-compiled first, as pip does at install time and PyInstaller does
in a build: without that (``PYTHONDONTWRITEBYTECODE`` set, a fresh checkout) every run would pay
for compiling the sources, which no installed copy does. A third line, importing only
``core.plan``, shows how much of the difference is the migration engine's import and how much the
command line's own (parser, output, running the command).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentmux_companion.core import sandbox
from benchmarks.common import table


def run(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    cli = Path(sys.executable).with_name("agentmux-companion")
    import agentmux_companion

    compileall.compile_dir(Path(agentmux_companion.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        home = Path(tmp) / "home"
        store = home / ".agentmux" / "channels" / "stable" / "versions" / "1.0.0" / "data" / "db" / "objects.db"
        sandbox.create_store(store, sandbox.StoreShape.WITH_MIGRATIONS)
        env = {**os.environ, "HOME": str(home), "AGENTMUX_COMPANION_DIR": str(Path(tmp) / "companion")}
        commands = {
            "python -c \"import sqlite3, json\" (baseline)": [sys.executable, "-c", "import sqlite3, json"],
            "python -c \"import agentmux_companion.core.migration.plan\" (the engine's import)": [
                sys.executable, "-c", "import agentmux_companion.core.migration.plan"],
            "agentmux-companion plan --json": [str(cli), "plan", "--json", "--home", str(home)],
        }
        for command in commands.values():  # warm the OS file cache
            run(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(run(command, env))
    base, _, cli_s = (statistics.median(v) for v in times.values())
    print("## CLI start-up\n")
    print(f"Median of {args.runs} runs each, alternating.\n")
    print(table(
        ["command", "ms", "vs baseline"],
        [[f"`{n}`", f"{statistics.median(v) * 1000:.0f}", f"{statistics.median(v) / base:.2f}×"]
         for n, v in times.items()],
    ))
    print(f"\nThe CLI costs {1000 * (cli_s - base):.0f} ms more than the bare interpreter.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
