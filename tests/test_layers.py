"""The layering of CONTRIBUTING.md "Layers", checked on the real modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import agentmux_companion

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
