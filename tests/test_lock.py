"""The lock files (requirements/) agree with pyproject.toml's pins and carry a hash for everything.

``make venv`` installs requirements/dev.txt with ``--require-hashes`` and then the project with
``--no-deps``, so a pin changed in pyproject.toml but not re-locked (``make lock``) would silently
not be what gets installed. These checks catch that drift before anyone relies on it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
REQUIREMENTS = PROJECT / "requirements"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503's normalised name: ``PySide6-Essentials`` and ``pyside6_essentials`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str]) -> dict[str, str]:
    """``name==version`` strings (as pyproject.toml writes them) as a dict of canonical name -> version."""
    found: dict[str, str] = {}
    for requirement in requirements:
        match = _PIN.match(requirement)
        assert match, f"not an exact pin: {requirement!r}"
        found[canonical(match.group(1))] = match.group(2)
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """The lock's entries: canonical name -> (version, number of hashes)."""
    entries: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            name = canonical(match.group(1))
            entries[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = entries[name]
            entries[name] = (version, hashes + 1)
    return entries


def pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_locked_package_has_a_hash() -> None:
    for lock in ("runtime.txt", "dev.txt"):
        entries = locked(REQUIREMENTS / lock)
        assert entries, f"{lock} lists nothing"
        assert [name for name, (_v, hashes) in entries.items() if hashes == 0] == [], lock


def test_pyproject_pins_are_what_the_locks_hold() -> None:
    project = pyproject()
    runtime = pins(project["project"]["dependencies"])
    dev = pins(project["project"]["optional-dependencies"]["dev"])
    build = pins(project["build-system"]["requires"])
    runtime_lock = {name: version for name, (version, _h) in locked(REQUIREMENTS / "runtime.txt").items()}
    dev_lock = {name: version for name, (version, _h) in locked(REQUIREMENTS / "dev.txt").items()}
    assert {name: runtime_lock.get(name) for name in runtime} == runtime
    assert {name: dev_lock.get(name) for name in {**runtime, **dev, **build}} == {**runtime, **dev, **build}


def test_dev_lock_includes_the_runtime_lock_at_the_same_versions() -> None:
    runtime_lock = {name: version for name, (version, _h) in locked(REQUIREMENTS / "runtime.txt").items()}
    dev_lock = {name: version for name, (version, _h) in locked(REQUIREMENTS / "dev.txt").items()}
    assert {name: dev_lock.get(name) for name in runtime_lock} == runtime_lock


def test_the_lock_covers_the_keyring_backends_of_each_os() -> None:
    # One universal lock: the Secret Service stack on Linux, pywin32-ctypes on Windows, each with
    # its marker (pip skips the others' entries).
    text = (REQUIREMENTS / "runtime.txt").read_text(encoding="utf-8")
    for package, marker in (("secretstorage", "sys_platform == 'linux'"), ("jeepney", "sys_platform == 'linux'"),
                            ("cryptography", "sys_platform == 'linux'"), ("pywin32-ctypes", "sys_platform == 'win32'")):
        line = next((ln for ln in text.splitlines() if ln.startswith(f"{package}==")), "")
        assert marker in line, f"{package}: {line!r}"
