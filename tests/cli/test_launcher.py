"""One launcher path (issue 9).

``gui`` and ``agentmux-companion-gui`` share the parser, exit codes flow through, no
``os.environ`` swapping, no import cycle between ``app`` and ``cli``; the CLI package's modules
stay small.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import agentmux_companion
from agentmux_companion.core.errors import ExitCode
from tests.helpers.entry_point_run import counting_collections

PACKAGE = Path(agentmux_companion.__file__).parent
CLI_MODULES = sorted((PACKAGE / "cli").glob("*.py"))


def headless_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


LAUNCHERS = {
    "agentmux-companion gui": [sys.executable, "-m", "agentmux_companion", "gui"],
    "agentmux-companion-gui": [sys.executable, "-c",
                               "import sys; from agentmux_companion.app import main; sys.exit(main())"],
}


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_headless_gui_on_a_refused_store_exits_with_the_refusal(tmp_path: Path, launcher: str) -> None:
    missing = tmp_path / "nowhere" / "objects.db"
    result = subprocess.run([*LAUNCHERS[launcher], "--store", str(missing)], env=headless_env(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == ExitCode.REFUSED, result.stderr
    assert "no display here" in result.stderr
    assert result.stderr.count(f"no store at {missing}") == 1


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_headless_gui_plan_uses_the_launch_options_without_touching_os_environ(launcher: str) -> None:
    # The demo's paths reach the plan as arguments: the printed plan is the demo sandbox's.
    result = subprocess.run([*LAUNCHERS[launcher], "--demo"], env=headless_env(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == ExitCode.OK, result.stderr
    assert "Store: stable 0.33.4 (bundle)" in result.stdout


def test_both_launchers_take_the_same_options() -> None:
    from agentmux_companion.cli.options import build_gui_parser, build_parser

    def options(parser: object) -> set[str]:
        return {s for a in parser._actions for s in a.option_strings} - {"-h", "--help"}  # type: ignore[attr-defined]

    gui_command = next(a for a in build_parser()._actions if a.dest == "command").choices["gui"]  # type: ignore[index]
    assert options(build_gui_parser()) == options(gui_command) | {"--version"}


def test_gui_usage_errors_exit_2_once() -> None:
    for launcher in LAUNCHERS.values():
        result = subprocess.run([*launcher, "--demo-if-no-stor"], env=headless_env(),
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == ExitCode.USAGE
        assert result.stderr.count("did you mean '--demo-if-no-store'?") == 1


def _module_level_imports(path: Path) -> set[str]:
    """Modules a file imports at module level (lazy imports inside functions are not these)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _all_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_no_import_cycle_between_app_and_cli() -> None:
    assert CLI_MODULES, "no cli package"
    # cli never imports app (the gui command loads it by name, once, to start the GUI)...
    for module in CLI_MODULES:
        assert not {m for m in _all_imports(module) if m.startswith("agentmux_companion.app")}, module.name
    # ...and app imports only the parser from cli at module level.
    app_imports = _module_level_imports(PACKAGE / "app.py")
    assert {m for m in app_imports if m.startswith("agentmux_companion.cli")} == {"agentmux_companion.cli.options"}
    # Counting lazy imports and imports by name too: app reaches cli's parser and runner, never the
    # package that starts the GUI, so nothing leads back.
    from tests.helpers.module_graph import import_cycles, import_graph

    graph = import_graph(PACKAGE)
    assert "agentmux_companion.cli" not in graph["agentmux_companion.app"]
    assert not [c for c in import_cycles(graph) if "agentmux_companion.app" in c]


def test_importing_the_cli_never_loads_app_or_qt() -> None:
    names = [f"agentmux_companion.cli.{p.stem}" for p in CLI_MODULES if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'agentmux_companion.app' or m.startswith('PySide6'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_app_does_not_swap_os_environ() -> None:
    source = (PACKAGE / "app.py").read_text(encoding="utf-8")
    assert "os.environ.clear" not in source
    assert "os.environ.update" not in source


@pytest.mark.parametrize("module", CLI_MODULES, ids=lambda p: p.name)
def test_cli_modules_stay_small(module: Path) -> None:
    assert len(module.read_text(encoding="utf-8").splitlines()) <= 400


def test_entry_points() -> None:
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["agentmux-companion"] == "agentmux_companion.entry_points:command_line"
    assert (pyproject["project"]["gui-scripts"]["agentmux-companion-gui"]
            == "agentmux_companion.entry_points:tray_companion")
    for command in ([sys.executable, "-m", "agentmux_companion", "--version"],
                    [str(Path(sys.executable).with_name("agentmux-companion")), "--version"]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert (result.returncode, result.stdout) == (0, f"agentmux-companion {agentmux_companion.__version__}\n")


def test_busy_timeout_default_is_the_stores() -> None:
    from agentmux_companion.cli.options import build_parser
    from agentmux_companion.core.store import BUSY_TIMEOUT_MS

    assert build_parser().parse_args(["migrate"]).busy_timeout_ms == BUSY_TIMEOUT_MS


def test_the_command_line_loads_and_parses_without_a_cycle_collection(tmp_path: Path) -> None:
    # core/collector.py: the entry point pauses the collector before the command line's modules load
    # (their imports made some twenty collections, a tenth of the import); the command itself runs
    # with it on again, and the program never leaves it off.
    code = counting_collections("console_scripts", "agentmux-companion") + (
        "try:\n"
        "    program(['--version'])\n"
        "except SystemExit as done:\n"
        "    print('version', done.code, len(collections))\n"
        f"rc = program(['plan', '--json', '--home', {str(tmp_path)!r}])\n"
        "print('plan', rc, gc.isenabled())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=headless_env(), capture_output=True, text=True,
                            timeout=60, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith(("version", "plan"))]
    assert lines == ["version 0 0", f"plan {int(ExitCode.REFUSED)} True"], result.stderr
