"""What goes into a frozen build of the companion, shared by every spec in this folder.

The app spec (``agentmux-companion.spec``) and the reference spec the size benchmark compares it
with (``reference/bare-window.spec``) both take their Qt trimming from here, so the benchmark's
ratio measures the companion's own weight and never a difference in trimming.

Why trim at all: a default PyInstaller build of a PySide6 app collects every plugin of every Qt
module it touches. On a Linux build machine with gnome-keyring installed, Qt's ``gtk3`` platform
theme then drags the whole GTK3 stack (libgtk-3, cairo, pango, atk, …) into the folder: 189 MB
instead of 128 MB (``docs/testing.md`` §4). Plugins are filtered in the Qt hooks
(``hooks/``), before PyInstaller's binary dependency analysis runs, so the libraries only a
dropped plugin needs are never collected in the first place.

This module is imported by the specs and hooks inside PyInstaller's process; it needs nothing but
the standard library (and PyInstaller, for the Windows version resource).
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

PACKAGING_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGING_DIR.parent
HOOKS_DIR = PACKAGING_DIR / "hooks"

#: Shown to people (Windows file properties, the macOS bundle, the Linux menu).
DISPLAY_NAME = "AgentMux Companion"
#: Reverse-DNS id of the macOS bundle. It must belong to the Apple developer team that signs the
#: app (packaging/README.md, "Signing"): change it here, in one place, before the first release.
MACOS_BUNDLE_ID = "dev.agentmux.companion"
CLI_EXE = "agentmux-companion"
GUI_EXE = "agentmux-companion-gui"

#: The Qt modules the companion imports (the GUI and its single-instance socket). Every other
#: PySide6 module is excluded, so no hook can pull it in as a hidden import. QtSvg and QtDBus are
#: not imported: the SVG plugins and QtGui link their libraries, which come along as libraries.
QT_MODULES_USED = frozenset({"QtCore", "QtGui", "QtWidgets", "QtNetwork"})

#: Plugins kept, by plugin type (the folder under ``Qt/plugins``) and the plugin's short name
#: (``libqxcb.so`` / ``qxcb.dll`` / ``libqxcb.dylib`` -> ``xcb``). A type not listed is dropped
#: whole: platform themes (``gtk3`` links GTK3; ``xdgdesktopportal`` is for sandboxed file
#: dialogs, which the companion has none of), GL integrations (the widgets paint in software),
#: TLS backends and network information (the only socket is a local one), input devices, EGL.
QT_PLUGINS_KEPT: dict[str, frozenset[str]] = {
    # offscreen: headless runs and CI. xcb: X11 (and XWayland). wayland: native Wayland sessions,
    # with the xdg-shell protocol every desktop speaks and client-side decorations (GNOME draws
    # none itself); about 2 MB. cocoa and windows: the native platforms of the other two OSes.
    "platforms": frozenset({"offscreen", "xcb", "wayland", "cocoa", "windows"}),
    "wayland-shell-integration": frozenset({"xdg-shell"}),
    "wayland-decoration-client": frozenset({"adwaita", "bradient"}),
    # The app's icons are SVG: QIcon needs the svg icon engine, QImage/QPixmap the svg reader.
    "iconengines": frozenset({"svgicon"}),
    "imageformats": frozenset({"svg"}),
    # Dead keys / compose sequences and IBus input methods in the window's text (both tiny).
    "platforminputcontexts": frozenset({"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"}),
    # Widget styles exist on Windows (the native look) and macOS only; keep whatever is there.
    "styles": frozenset({"*"}),
}

#: Standard-library packages no part of the companion (nor keyring, nor PySide6) imports. ``ssl``
#: comes in only through modules that import it optionally (urllib, http.client, smtplib); the
#: companion never opens a network connection, so TLS (libssl) stays out and would fail loudly.
STDLIB_EXCLUDES = (
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "pydoc_data",
    "ensurepip", "venv", "distutils", "unittest", "doctest", "xmlrpc", "curses", "ssl", "_ssl",
)


def read_project(pyproject: Path = PROJECT_DIR / "pyproject.toml") -> tuple[str, str]:
    """The distribution's name and version, from ``pyproject.toml``: the one place they live."""
    with pyproject.open("rb") as handle:
        project = tomllib.load(handle)["project"]
    return str(project["name"]), str(project["version"])


def all_qt_modules() -> set[str]:
    """Names of the Qt modules (``QtCore``, …) this PySide6 installation provides."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("PySide6 is not installed in the Python that runs PyInstaller")
    names: set[str] = set()
    for location in spec.submodule_search_locations:
        for path in Path(location).iterdir():
            stem = path.name.split(".", 1)[0]
            if stem.startswith("Qt") and path.suffix in (".so", ".pyd"):
                names.add(stem)
    return names


def module_excludes(include_qt: bool = True) -> list[str]:
    """Modules the Analysis must never collect: unused Qt modules and unused stdlib packages.

    Args:
        include_qt: False for an executable that must not contain Qt at all (the CLI).
    """
    excludes = list(STDLIB_EXCLUDES)
    if include_qt:
        excludes += [f"PySide6.{name}" for name in sorted(all_qt_modules() - QT_MODULES_USED)]
    else:
        excludes += ["PySide6", "shiboken6"]
    return excludes


def plugin_short_name(filename: str) -> str:
    """``libqxcb.so`` / ``qxcb.dll`` / ``libqsvgicon.dylib`` -> ``xcb`` / ``xcb`` / ``svgicon``."""
    stem = filename.split(".", 1)[0]
    stem = stem.removeprefix("lib")
    return stem[1:] if stem.startswith("q") else stem


def keep_qt_plugin(dest_dir: str, filename: str) -> bool:
    """Whether a Qt plugin collected into ``dest_dir`` (``…/plugins/<type>``) stays in the build."""
    parts = PurePosixPath(dest_dir.replace("\\", "/")).parts
    if "plugins" not in parts:
        return True  # not a plugin: a Qt library or an extension module
    plugin_type = parts[parts.index("plugins") + 1] if parts.index("plugins") + 1 < len(parts) else ""
    kept = QT_PLUGINS_KEPT.get(plugin_type)
    if kept is None:
        return False
    return "*" in kept or plugin_short_name(filename) in kept


def filter_hook_binaries(binaries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A Qt hook's ``binaries`` (``(source, dest_dir)`` pairs) without the dropped plugins."""
    return [(src, dest) for src, dest in binaries if keep_qt_plugin(dest, Path(src).name)]


def is_qt_translation(dest_name: str) -> bool:
    """Qt's own translations (its standard dialogs in some 30 languages, 7 MB): the app loads none."""
    parts = PurePosixPath(dest_name.replace("\\", "/")).parts
    return len(parts) >= 2 and parts[0] == "PySide6" and "translations" in parts


def without_translations(datas: Any) -> Any:
    """An Analysis' ``datas`` TOC without Qt's translations (the TOC's type is PyInstaller's)."""
    return [entry for entry in datas if not is_qt_translation(entry[0])]


#: Libraries that only the dropped GTK platform theme links; the build fails if one is collected
#: (``build.py`` checks), because their presence means a plugin filter stopped working.
FORBIDDEN_LIBRARY_PREFIXES = ("libgtk-3", "libgdk-3", "libatk-", "libcairo", "libpango", "libgdk_pixbuf")


@dataclass(frozen=True)
class WindowsVersion:
    """The fixed four-part file version Windows wants, from a PEP 440 version like ``0.1.0``."""

    parts: tuple[int, int, int, int]

    @classmethod
    def parse(cls, version: str) -> WindowsVersion:
        numbers: list[int] = []
        for piece in version.split("."):
            digits = ""
            for char in piece:
                if not char.isdigit():
                    break
                digits += char
            numbers.append(int(digits or 0))
            if len(numbers) == 4:
                break
        while len(numbers) < 4:
            numbers.append(0)
        return cls((numbers[0], numbers[1], numbers[2], numbers[3]))


def windows_version_info(exe_name: str, description: str, version: str) -> Any:
    """The version resource shown in the executable's Properties > Details on Windows."""
    from PyInstaller.utils.win32 import versioninfo as vi

    fixed = WindowsVersion.parse(version).parts
    strings = [
        vi.StringStruct("CompanyName", "AgentMux"),
        vi.StringStruct("FileDescription", description),
        vi.StringStruct("FileVersion", version),
        vi.StringStruct("InternalName", exe_name),
        vi.StringStruct("OriginalFilename", f"{exe_name}.exe"),
        vi.StringStruct("ProductName", DISPLAY_NAME),
        vi.StringStruct("ProductVersion", version),
        vi.StringStruct("LegalCopyright", "Licensed under the Apache License 2.0"),
    ]
    return vi.VSVersionInfo(
        ffi=vi.FixedFileInfo(filevers=fixed, prodvers=fixed, mask=0x3F, flags=0x0, OS=0x40004,
                             fileType=0x1, subtype=0x0, date=(0, 0)),
        kids=[
            vi.StringFileInfo([vi.StringTable("040904B0", strings)]),  # U.S. English, Unicode
            vi.VarFileInfo([vi.VarStruct("Translation", [0x0409, 1200])]),
        ],
    )


def platform_tag() -> str:
    """``linux-x86_64``, ``macos-arm64``, ``windows-amd64``: names the archives."""
    import platform

    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform.rstrip("0123456789"))
    return f"{system}-{platform.machine().lower()}"
