"""Builds AgentMux Companion for the OS this runs on, checks the result and says where it is.

``make dist`` runs it. Steps: PyInstaller with ``agentmux-companion.spec`` (one folder, two
executables), a check of the folder (both executables, the package's resources, no GTK), the
per-OS extras, and an archive:

- Linux: the desktop entry, the icon (SVG and a 256 px PNG) and ``install.sh`` at the top of
  the folder; ``agentmux-companion-<version>-linux-<arch>.tar.gz`` of the folder.
- macOS: ``AgentMux Companion.app`` (made by the spec) zipped with ``ditto`` the way notarization
  wants it (packaging/README.md).
- Windows: a ``.zip`` of the folder.

Usage: ``python packaging/build.py [--dist DIR] [--work DIR] [--clean] [--no-archive] [--json]``.
With ``--json`` stdout carries one JSON document describing the result (the tests use it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import freeze_policy as fp  # the folder above is not a package

SPEC = fp.PACKAGING_DIR / "agentmux-companion.spec"
LINUX_FILES = fp.PACKAGING_DIR / "linux"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


@dataclass(frozen=True)
class BuildResult:
    """Where a build put things; paths are absolute, sizes in bytes."""

    name: str
    version: str
    platform: str
    folder: str
    cli: str
    gui: str
    app_bundle: str | None
    archive: str | None
    folder_bytes: int
    archive_bytes: int | None
    seconds: float


class BuildError(Exception):
    """The build ran but its result is wrong (a missing file, a library that must not be there)."""


def run_pyinstaller(spec: Path, dist_dir: Path, work_dir: Path, *, clean: bool, quiet: bool) -> None:
    """Runs PyInstaller in a child process (the tests and benchmarks import this module)."""
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(dist_dir),
               "--workpath", str(work_dir), "--log-level", "WARN" if quiet else "INFO"]
    if clean:
        command.append("--clean")
    command.append(str(spec))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    completed = subprocess.run(command, env=env, stdout=subprocess.PIPE if quiet else None,
                               stderr=subprocess.STDOUT if quiet else None, text=True)
    if completed.returncode != 0:
        raise BuildError(f"PyInstaller failed (exit {completed.returncode}):\n{completed.stdout or ''}")


def tree_size(path: Path) -> int:
    """Bytes in the files under ``path`` (symlinks counted as links, not as their targets)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def check_folder(folder: Path) -> None:
    """Raises BuildError unless the folder holds a complete, trimmed build."""
    problems: list[str] = []
    for exe in (fp.CLI_EXE, fp.GUI_EXE):
        path = folder / f"{exe}{EXE_SUFFIX}"
        if not path.is_file() or not os.access(path, os.X_OK):
            problems.append(f"executable missing: {path}")
    internal = folder / "_internal"
    for resource in ("agentmux_companion/resources/providers.toml",
                     "agentmux_companion/resources/icons/agentmux-companion.svg"):
        if not (internal / resource).is_file():
            problems.append(f"package resource missing: {resource}")
    for path in internal.rglob("*"):
        if path.name.startswith(fp.FORBIDDEN_LIBRARY_PREFIXES):
            problems.append(f"GTK library collected (a Qt plugin filter stopped working): {path.name}")
        if path.is_dir() and path.name == "platformthemes":
            problems.append(f"Qt platform themes collected: {path}")
        if path.is_dir() and path.name == "translations" and "PySide6" in path.parts:
            problems.append(f"Qt translations collected: {path}")
    if problems:
        raise BuildError("the build is incomplete or untrimmed:\n  " + "\n  ".join(problems))


def add_linux_desktop_files(folder: Path, icon_dir: Path) -> None:
    """Puts the desktop entry, the icon and ``install.sh`` at the top of the folder."""
    svg = fp.PROJECT_DIR / "src" / "agentmux_companion" / "resources" / "icons" / "agentmux-companion.svg"
    shutil.copy2(LINUX_FILES / "agentmux-companion.desktop", folder / "agentmux-companion.desktop")
    shutil.copy2(LINUX_FILES / "install.sh", folder / "install.sh")
    shutil.copy2(svg, folder / "agentmux-companion.svg")
    shutil.copy2(icon_dir / "agentmux-companion.png", folder / "agentmux-companion.png")


def _normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Whoever unpacks the archive owns the files; the builder's account names mean nothing there.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def make_archive(folder: Path, archive_base: Path) -> Path:
    """``<archive_base>.tar.gz`` of ``folder`` (on Windows a ``.zip``), the folder at its top."""
    if sys.platform == "win32":
        return Path(shutil.make_archive(str(archive_base), "zip", folder.parent, folder.name))
    archive = archive_base.with_name(archive_base.name + ".tar.gz")
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=folder.name, filter=_normalized)
    return archive


def zip_app_bundle(bundle: Path, archive_base: Path) -> Path:
    """The ``.app`` zipped by ``ditto`` (keeps symlinks, extended attributes and signatures)."""
    archive = archive_base.with_name(archive_base.name + ".zip")
    subprocess.run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent", str(bundle), str(archive)], check=True)
    return archive


def build(dist_dir: Path, work_dir: Path, *, clean: bool = False, archive: bool = True,
          quiet: bool = True) -> BuildResult:
    """Builds, checks and packs the app for this OS; raises BuildError if anything is wrong."""
    started = time.monotonic()
    name, version = fp.read_project()
    dist_dir, work_dir = dist_dir.resolve(), work_dir.resolve()
    run_pyinstaller(SPEC, dist_dir, work_dir, clean=clean, quiet=quiet)
    folder = dist_dir / name
    check_folder(folder)
    icon_dir = work_dir / SPEC.stem / "icons"
    bundle = dist_dir / f"{fp.DISPLAY_NAME}.app" if sys.platform == "darwin" else None
    if sys.platform.startswith("linux"):
        add_linux_desktop_files(folder, icon_dir)
    packed: Path | None = None
    if archive:
        base = dist_dir / f"{name}-{version}-{fp.platform_tag()}"
        packed = zip_app_bundle(bundle, base) if bundle else make_archive(folder, base)
    return BuildResult(
        name=name, version=version, platform=fp.platform_tag(), folder=str(folder),
        cli=str(folder / f"{fp.CLI_EXE}{EXE_SUFFIX}"), gui=str(folder / f"{fp.GUI_EXE}{EXE_SUFFIX}"),
        app_bundle=str(bundle) if bundle else None, archive=str(packed) if packed else None,
        folder_bytes=tree_size(folder), archive_bytes=packed.stat().st_size if packed else None,
        seconds=round(time.monotonic() - started, 1),
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=fp.PROJECT_DIR / "dist", help="output folder (default dist/)")
    parser.add_argument("--work", type=Path, default=fp.PROJECT_DIR / "build",
                        help="PyInstaller's work folder (default build/)")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--no-archive", action="store_true", help="skip the .tar.gz / .zip")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document")
    parser.add_argument("--verbose", action="store_true", help="show PyInstaller's own log")
    args = parser.parse_args(argv)
    try:
        result = build(args.dist, args.work, clean=args.clean, archive=not args.no_archive, quiet=not args.verbose)
    except BuildError as exc:
        sys.stderr.write(f"build.py: {exc}\n")
        return 1
    if args.json:
        print(json.dumps(asdict(result), indent=2))
        return 0
    print(f"Built {fp.DISPLAY_NAME} {result.version} for {result.platform} in {result.seconds:.0f} s")
    print(f"  folder:   {result.folder}  ({_mb(result.folder_bytes)})")
    if result.app_bundle:
        print(f"  app:      {result.app_bundle}")
    if result.archive and result.archive_bytes is not None:
        print(f"  archive:  {result.archive}  ({_mb(result.archive_bytes)})")
    print(f"  GUI:      {result.gui}")
    print(f"  CLI:      {result.cli}")
    if sys.platform.startswith("linux"):
        print(f"  menu entry and `agentmux-companion` on PATH: {Path(result.folder) / 'install.sh'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
