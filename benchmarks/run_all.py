"""`make bench`: run every ``benchmarks/bench_*.py`` and gather their figures.

Each benchmark prints a markdown section with its own baseline measured in the same run; this
prints them one after another and keeps a copy in ``benchmarks/out/results.md`` (not tracked) for
updating ``docs/benchmarks.md``.
"""

from __future__ import annotations

import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if len(sys.argv) > 1:
        names = [n for n in names if any(arg in n for arg in sys.argv[1:])]
    header = (
        f"# Benchmarks, {time.strftime('%Y-%m-%d')}\n\n"
        f"{platform.platform()}, {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}\n"
    )
    sections = [header]
    print(header, flush=True)
    failed = []
    for name in names:
        result = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent, capture_output=True, text=True
        )
        text = result.stdout.strip() + "\n"
        if result.returncode != 0:
            failed.append(name)
            text += f"\n**{name} failed** (exit {result.returncode}):\n\n```\n{result.stderr.strip()}\n```\n"
        print(text, flush=True)
        sections.append(text)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "results.md").write_text("\n".join(sections), encoding="utf-8")
    print(f"written to {out / 'results.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
