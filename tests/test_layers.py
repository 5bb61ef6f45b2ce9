"""The layering of CONTRIBUTING.md "Layers", checked on the real modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import agentmux_companion
from tests.helpers.module_graph import import_cycles, import_graph, module_sizes

PACKAGE = Path(agentmux_companion.__file__).parent


def test_core_and_cli_never_load_qt_or_keyring() -> None:
    # The CLI must start fast and run without a display: importing it and every core module
    # loads neither PySide6 nor keyring (the keyring snapshot imports it only when used).
    modules = sorted(f"agentmux_companion.core.{p.stem}" for p in (PACKAGE / "core").glob("*.py"))
    code = (
        "import importlib, sys\n"
        f"for name in {[*modules, 'agentmux_companion.cli']!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'keyring'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_core_sources_do_not_mention_qt() -> None:
    offenders = [p.name for p in (PACKAGE / "core").glob("*.py") if "PySide6" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_version_matches_pyproject() -> None:
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert agentmux_companion.__version__ == pyproject["project"]["version"]


# --------------------------------------------------------------------------------------------
# No import cycles, no module over the size limit (CONTRIBUTING.md "Layers")

MAX_MODULE_LINES = 400


def test_no_import_cycles() -> None:
    assert set(import_cycles(import_graph(PACKAGE))) == set(), "import cycle(s): break them"


def test_no_module_over_the_size_limit() -> None:
    over = {name: lines for name, lines in module_sizes(PACKAGE).items() if lines > MAX_MODULE_LINES}
    assert over == {}, f"modules over {MAX_MODULE_LINES} lines: split them along their seams"


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_the_cycle_check_sees_lazy_relative_and_dynamic_imports(tmp_path: Path) -> None:
    # The checks above could pass by seeing nothing: each kind of import must show as an edge.
    package = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": "def later():\n    from pkg import b\n",  # lazy, inside a function
        "b.py": "from .sub import c\n",  # relative
        "sub/__init__.py": "",
        "sub/c.py": "import importlib\nimportlib.import_module('pkg.a')\n",  # by name
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.c import x\n",
        "e.py": "import pkg.d\n",
    })
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg", "pkg.b"}  # importing pkg.b runs pkg first
    assert graph["pkg.b"] == {"pkg.sub", "pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert graph["pkg.d"] == {"pkg.sub.c"}
    assert import_cycles(graph) == [("pkg.a", "pkg.b", "pkg.sub.c")]
    assert module_sizes(package)["pkg.d"] == 3
