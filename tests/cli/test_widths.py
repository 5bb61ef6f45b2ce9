"""Human output fits the terminal: every command on the demo sandbox at 80, 120 and 200 columns.

Issue 13: on main, ``plan`` printed lines of ~140 columns and ``stores``, ``scan``, ``doctor`` up
to ~170, wrapping into unreadable tables.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from agentmux_companion.cli import main
from tests.cli.terminal import Sandbox, demo_sandbox
from tests.helpers.stores import NOW_MS, run_cli

WIDTHS = (80, 120, 200)

#: name -> the commands to run (the last one's output is checked; the ones before set the scene).
HUMAN_COMMANDS: dict[str, list[list[str]]] = {
    "stores": [["stores"]],
    "scan": [["scan"]],
    "plan": [["plan"]],
    "plan --all": [["plan", "--all"]],
    "migrate": [["migrate", "--yes"]],
    "migrate again": [["migrate", "--yes"], ["migrate", "--yes"]],
    "undo": [["migrate", "--yes"], ["undo", "--yes"]],
    "doctor": [["doctor", "--timeout", "5"]],
    "keyring status": [["keyring", "status"]],
    "keyring remove": [["keyring", "remove", "--yes"]],
    "demo": [["demo"]],
    "help": [["--help"]],
    "plan --help": [["plan", "--help"]],
    "keyring copy --help": [["keyring", "copy", "--help"]],
}


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return demo_sandbox(tmp_path / "demo")


def run_human(sandbox: Sandbox, argv: list[str]) -> tuple[int, str, str]:
    if "--help" in argv:  # argparse prints the help and exits
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
            main(argv)
        return int(exited.value.code or 0), out.getvalue(), ""
    result = run_cli(*argv, "--home", sandbox.home, "--now-ms", NOW_MS)
    return result.code, result.out, result.err


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(HUMAN_COMMANDS))
def test_every_line_fits_the_width(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, name: str, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    *scene, checked = HUMAN_COMMANDS[name]
    for argv in scene:
        assert run_human(sandbox, argv)[0] == 0
    code, out, _ = run_human(sandbox, checked)
    assert code == 0, out
    assert out.strip(), "nothing printed"
    too_long = [line for line in out.splitlines() if len(line) > width]
    assert too_long == [], f"{len(too_long)} lines wider than {width}: {too_long[:3]}"


def test_wide_prints_full_values_on_one_line(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_cli("plan", "--home", sandbox.home, "--now-ms", NOW_MS)
    wide = run_cli("plan", "--wide", "--home", sandbox.home, "--now-ms", NOW_MS)
    assert str(sandbox.store) not in narrow.out.splitlines()[3 + 1]  # elided in its middle at 80 columns
    assert f"  {sandbox.store}" in wide.out.splitlines()
    assert max(len(line) for line in wide.out.splitlines()) > 80
    reason = f"bind {sandbox.home / '.claude'} into the Default bundle (login valid)"
    [claude_row] = [line for line in wide.out.splitlines() if line.startswith("  claude ")]
    assert claude_row.rstrip().endswith(reason)  # the reason in its column, whole


def test_paths_lose_their_middle_not_their_ends(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = run_cli("plan", "--home", sandbox.home, "--now-ms", NOW_MS).out
    shown = out.splitlines()[3 + 1].strip()
    assert "…" in shown
    assert len(shown) == 80 - 2
    head, tail = shown.split("…")
    assert str(sandbox.store).startswith(head)
    assert str(sandbox.store).endswith(tail)


def test_reasons_move_under_their_row_when_narrow(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    lines = run_cli("plan", "--home", sandbox.home, "--now-ms", NOW_MS).out.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("  claude "))
    assert lines[row].split() == ["claude", "bind", "valid", lines[row].split()[3]]
    detail = " ".join(line.strip() for line in lines[row + 1:row + 4])
    assert lines[row + 1].startswith("    bind")
    assert "into the Default bundle (login valid)" in detail
