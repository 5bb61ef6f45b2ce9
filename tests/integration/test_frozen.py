"""The PyInstaller build behaves like the installed package: the product most users get.

One build per session (``conftest.frozen_build``), then its executables are run for real: the
CLI's demo against the installed package's, the GUI offscreen against the demo sandbox, the
hand-over from ``agentmux-companion gui`` to the windowed executable, a clean quit of a running
GUI, and the Linux archive with its desktop entry and install script.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.schema import create_store
from tests.integration.conftest import PROJECT_DIR, RUN_TIMEOUT_S, FrozenBuild, run

pytestmark = [pytest.mark.frozen, pytest.mark.slow]

INSTALLED_CLI = Path(sys.executable).with_name("agentmux-companion")
#: A fixed clock for both demo runs, so their plans are comparable field by field.
DEMO_NOW_MS = 1_790_000_000_000
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
READY = re.compile(r"^ready (\S+)$", re.MULTILINE)


def load_packaging_module(name: str) -> ModuleType:
    """A module of ``packaging/`` (a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, PROJECT_DIR / "packaging" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pyproject_version() -> str:
    with (PROJECT_DIR / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


# ------------------------------------------------------------------------------------------
# The folder


def test_one_folder_holds_both_executables_over_one_set_of_libraries(frozen_build: FrozenBuild) -> None:
    folder = frozen_build.folder
    assert frozen_build.cli.parent == folder
    assert frozen_build.gui.parent == folder
    for exe in (frozen_build.cli, frozen_build.gui):
        assert exe.is_file(), exe
        assert os.access(exe, os.X_OK), exe
    assert [p.name for p in folder.rglob("_internal")] == ["_internal"]
    internal = folder / "_internal"
    assert (internal / "agentmux_companion" / "resources" / "providers.toml").is_file()
    assert (internal / "agentmux_companion" / "resources" / "providers.json").is_file()  # what it reads
    assert (internal / "agentmux_companion" / "resources" / "icons" / "agentmux-companion.svg").is_file()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the plugin and library names are Linux's")
def test_qt_is_trimmed_and_gtk_is_not_bundled(frozen_build: FrozenBuild) -> None:
    plugins = frozen_build.folder / "_internal" / "PySide6" / "Qt" / "plugins"
    kept = {f"{p.parent.name}/{p.name}" for p in plugins.rglob("*.so")}
    for needed in ("platforms/libqoffscreen.so", "platforms/libqxcb.so", "platforms/libqwayland.so",
                   "iconengines/libqsvgicon.so", "imageformats/libqsvg.so"):
        assert needed in kept
    assert not any(name.startswith(("platformthemes/", "tls/", "xcbglintegrations/")) for name in kept)
    assert "imageformats/libqjpeg.so" not in kept
    libraries = [p.name for p in (frozen_build.folder / "_internal").rglob("*.so*")]
    assert not [name for name in libraries if name.startswith(("libgtk-3", "libgdk-3", "libcairo", "libpango"))]
    assert not list(frozen_build.folder.rglob("translations"))


def test_cli_executable_carries_no_qt_and_the_gui_executable_does(frozen_build: FrozenBuild) -> None:
    # PyInstaller's PySide6 run-time hook imports QtCore at start: the CLI must not have it, so
    # `agentmux-companion plan` stays fast and runs where Qt could not load.
    from PyInstaller.archive.readers import CArchiveReader

    def contents(exe: Path) -> tuple[set[str], set[str]]:
        archive = CArchiveReader(str(exe))
        return set(archive.toc), set(archive.open_embedded_archive("PYZ.pyz").toc)

    cli_scripts, cli_modules = contents(frozen_build.cli)
    gui_scripts, gui_modules = contents(frozen_build.gui)
    assert "pyi_rth_pyside6" not in cli_scripts
    assert "pyi_rth_pyside6" in gui_scripts
    assert not {m for m in cli_modules if m.split(".")[0] in ("PySide6", "shiboken6")}
    assert {"agentmux_companion.cli", "agentmux_companion.core.keyring.copy"} <= cli_modules
    # keyring finds its backends by name at run time; PyInstaller's keyring hook collects them.
    assert {"keyring.backends.SecretService", "keyring.backends.macOS", "keyring.backends.Windows",
            "secretstorage"} <= cli_modules
    assert {"agentmux_companion.app", "agentmux_companion.ui.tray", "PySide6"} <= gui_modules


def test_both_executables_report_the_version_from_pyproject(frozen_build: FrozenBuild,
                                                            frozen_env: dict[str, str]) -> None:
    version = pyproject_version()
    assert frozen_build.version == version
    for exe in (frozen_build.cli, frozen_build.gui):
        completed = run([exe, "--version"], frozen_env)
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.split()[-1] == version, completed.stdout


# ------------------------------------------------------------------------------------------
# The CLI


SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"


@pytest.mark.keyring_real
def test_cli_doctor_finds_the_secret_service_and_its_probe_passes(frozen_build: FrozenBuild,
                                                                 frozen_env: dict[str, str], tmp_path: Path) -> None:
    # PyInstaller's keyring hook must have collected the backends (they are found through entry
    # points and imported by name), and SecretStorage's crypto must work frozen.
    from tests.helpers.secret_service import start_secret_service

    service = start_secret_service(tmp_path / "secret-service")
    try:
        env = {**frozen_env, "DBUS_SESSION_BUS_ADDRESS": service.address}
        sections = {}
        for label, cli in (("installed", INSTALLED_CLI), ("frozen", frozen_build.cli)):
            completed = run([cli, "doctor", "--json"], env)
            assert completed.returncode == 0, f"{label}: {completed.stderr}"
            document = json.loads(completed.stdout)
            assert document["frozen"] is (label == "frozen")
            sections[label] = document["keyring"]
    finally:
        service.stop()
    frozen = sections["frozen"]
    assert frozen["class"] == SECRET_SERVICE_BACKEND, frozen
    assert frozen["secure"] is True, frozen
    assert frozen["probe"] == {"write": "ok", "read": "ok", "delete": "ok", "error": None}
    assert frozen == sections["installed"]


def normalized(value: Any, root: Path) -> Any:
    """A demo document without what legitimately differs between two runs.

    That is the sandbox folder, run ids and backup file names (made from the store path's digest and
    the wall clock).
    """
    if isinstance(value, dict):
        return {key: ("<run id>" if key == "run_id" and item else normalized(item, root))
                for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item, root) for item in value]
    if isinstance(value, str):
        value = value.replace(str(root), "<sandbox>")
        value = re.sub(r"/backups/.+$", "/backups/<file>", value)
        return UUID.sub("<uuid>", value)
    return value


def test_demo_of_the_frozen_cli_matches_the_installed_package(frozen_build: FrozenBuild, frozen_env: dict[str, str],
                                                              tmp_path: Path) -> None:
    documents = []
    for label, cli in (("installed", INSTALLED_CLI), ("frozen", frozen_build.cli)):
        sandbox = tmp_path / f"demo-{label}"
        completed = run([cli, "demo", "--json", "--now-ms", str(DEMO_NOW_MS), "--dir", sandbox], frozen_env)
        assert completed.returncode == 0, f"{label}: {completed.stderr}"
        documents.append(normalized(json.loads(completed.stdout), sandbox))
    installed, frozen = documents
    # The demo really ran: it migrated, found nothing left the second time, and undo restored the plan.
    assert [step["step"] for step in installed["steps"]] == ["plan", "migrate", "migrate_again", "undo"]
    assert {store["outcome"] for store in installed["steps"][1]["stores"]} == {"migrated"}
    assert installed["undo_restored_plan"] is True
    assert frozen == installed


# ------------------------------------------------------------------------------------------
# The GUI


def installed_smoke_state(env: dict[str, str]) -> str:
    completed = run([INSTALLED_CLI, "gui", "--demo", "--smoke"], env)
    assert completed.returncode == 0, completed.stderr
    match = READY.search(completed.stdout)
    assert match, completed.stdout
    return match.group(1)


@pytest.mark.parametrize("how", ["gui executable", "cli gui subcommand", "gui executable gui (start at login)"])
def test_gui_reaches_ready_offscreen_against_the_demo_and_exits_cleanly(
        frozen_build: FrozenBuild, frozen_env: dict[str, str], how: str) -> None:
    commands: dict[str, list[str | Path]] = {
        "gui executable": [frozen_build.gui],
        "cli gui subcommand": [frozen_build.cli, "gui"],
        # The start-at-login entry runs `<frozen executable> gui`, whichever executable wrote it.
        "gui executable gui (start at login)": [frozen_build.gui, "gui"],
    }
    command = commands[how]
    completed = run([*command, "--demo", "--smoke"], frozen_env)
    assert completed.returncode == 0, completed.stderr
    match = READY.search(completed.stdout)
    assert match, f"no ready line in {completed.stdout!r}; stderr: {completed.stderr}"
    assert match.group(1) == installed_smoke_state(frozen_env)
    assert "Traceback" not in completed.stderr
    # The demo sandbox lives in the temp folder and goes away with the app.
    assert list(Path(frozen_env["TMPDIR"]).iterdir()) == []


def test_the_frozen_gui_loads_pysides_support_code_compiled_when_it_was_built(
        frozen_build: FrozenBuild, frozen_env: dict[str, str], tmp_path: Path) -> None:
    # PyInstaller's PySide6 run-time hook imports PySide6 before any code of ours, so the cache an
    # installed companion keeps cannot help here: the build ships the support package compiled
    # (packaging/shiboken_support.py), where PySide6 loads it from instead of compiling its copy.
    files_dir = (frozen_build.folder / "_internal" / "shiboken6" / "files.dir").resolve()
    sources = sorted(files_dir.rglob("*.py"))
    assert files_dir / "shibokensupport" / "signature" / "loader.py" in sources
    assert all(Path(importlib.util.cache_from_source(str(source))).is_file() for source in sources)

    store = create_store(tmp_path / "s" / "objects.db", StoreShape.WITH_AGENTS)
    completed = run([frozen_build.gui, "--smoke", f"--store={store}"], frozen_env)
    assert (completed.returncode, completed.stdout) == (0, "window shown\nready nothing_to_do\n"), completed.stderr
    log = AppPaths.resolve(env=frozen_env).log_file.read_text(encoding="utf-8")
    origin = files_dir / "shibokensupport" / "__init__.py"
    assert f"PySide6's support code: 0 modules compiled, 0 kept from an earlier start; loaded from {origin}" in log


@pytest.mark.xvfb
def test_gui_reaches_ready_on_a_real_x_display_with_a_tray(frozen_build: FrozenBuild,
                                                          frozen_env: dict[str, str]) -> None:
    # The xcb platform plugin and the X libraries it needs made it into the trimmed folder.
    from tests.helpers.xvfb import xvfb_with_tray

    with xvfb_with_tray() as display:
        env = display.env(frozen_env)
        states = []
        for command in ([frozen_build.gui], [INSTALLED_CLI, "gui"]):
            completed = run([*command, "--demo", "--smoke"], env)
            assert completed.returncode == 0, completed.stderr
            match = READY.search(completed.stdout)
            assert match, f"no ready line in {completed.stdout!r}; stderr: {completed.stderr}"
            assert "Traceback" not in completed.stderr
            assert "could not load the Qt platform plugin" not in (
                completed.stderr.lower())
            states.append(match.group(1))
    assert states[0] == states[1]


def wait_for(condition: Any, what: str, timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout} s")
        time.sleep(0.1)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and Unix sockets")
@pytest.mark.parametrize("quit_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "logout"])
def test_running_gui_quits_cleanly_when_asked(frozen_build: FrozenBuild, frozen_env: dict[str, str],
                                              tmp_path: Path, quit_signal: signal.Signals) -> None:
    tmpdir = Path(frozen_env["TMPDIR"])
    output = (tmp_path / "gui.out").open("w")
    gui = subprocess.Popen([str(frozen_build.gui), "--demo"], env=frozen_env, stdout=output, stderr=subprocess.STDOUT)
    try:
        # Up: its single-instance socket exists (QLocalServer puts it in the temp folder) ...
        wait_for(lambda: any(p.name.startswith("agentmux-companion-") and stat.S_ISSOCK(p.stat().st_mode)
                             for p in tmpdir.iterdir()), "the single-instance socket")
        # ... and its event loop runs: a second launch is answered and logged by the first.
        second = run([frozen_build.gui, "--demo"], frozen_env)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr, second.stderr

        def logged_activation() -> bool:
            return any("asked this instance to come forward" in log.read_text(errors="replace")
                       for log in tmpdir.rglob("*.log"))

        wait_for(logged_activation, "the running instance to answer the second launch")
        gui.send_signal(quit_signal)
        assert gui.wait(timeout=RUN_TIMEOUT_S) == 0, (tmp_path / "gui.out").read_text()
    finally:
        if gui.poll() is None:
            gui.kill()
            gui.wait()
        output.close()
    assert "Traceback" not in (tmp_path / "gui.out").read_text()
    # Clean means nothing left behind: the socket is closed and the demo sandbox removed.
    assert list(tmpdir.iterdir()) == []


# ------------------------------------------------------------------------------------------
# Per-OS files


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the .tar.gz and desktop entry are Linux's")
def test_linux_archive_holds_the_folder_with_its_desktop_entry(frozen_build: FrozenBuild) -> None:
    name = frozen_build.folder.name
    assert frozen_build.archive.name == f"{name}-{frozen_build.version}-linux-{os.uname().machine.lower()}.tar.gz"
    with tarfile.open(frozen_build.archive) as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert {m.split("/")[0] for m in members} == {name}
    for executable in ("agentmux-companion", "agentmux-companion-gui", "install.sh"):
        member = members[f"{name}/{executable}"]
        assert member.isfile(), executable
        assert member.mode & 0o111 == 0o111, executable
        assert member.uid == 0
        assert member.uname == ""
    for extra in ("agentmux-companion.desktop", "agentmux-companion.svg", "agentmux-companion.png"):
        assert members[f"{name}/{extra}"].isfile()
    assert len(members) == len(list(frozen_build.folder.rglob("*"))) + 1  # + the folder itself

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(frozen_build.folder / "agentmux-companion.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Terminal"] == "false"
    assert desktop["Exec"] == frozen_build.gui.name
    assert desktop["Icon"] == "agentmux-companion"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="install.sh is for XDG desktops")
def test_install_script_adds_the_menu_entry_and_command_and_removes_them(
        frozen_build: FrozenBuild, frozen_env: dict[str, str], private_home: Path, tmp_path: Path) -> None:
    # Unpacked the way a user does it, into a folder whose name needs quoting in a desktop entry.
    target = tmp_path / "Apps & $tuff"
    target.mkdir()
    with tarfile.open(frozen_build.archive) as tar:
        tar.extractall(target, filter="tar")
    folder = target / frozen_build.folder.name
    completed = run([folder / "install.sh"], frozen_env)
    assert completed.returncode == 0, completed.stderr

    data = Path(frozen_env["XDG_DATA_HOME"])
    entry = (data / "applications" / "agentmux-companion.desktop").read_text()
    gui = str(folder / "agentmux-companion-gui").replace("$", "\\$")
    assert f'Exec="{gui}"\n' in entry
    assert "TryExec" not in entry
    assert (data / "icons/hicolor/scalable/apps/agentmux-companion.svg").is_file()
    assert (data / "icons/hicolor/256x256/apps/agentmux-companion.png").is_file()
    command = private_home / ".local" / "bin" / "agentmux-companion"
    assert command.is_symlink()
    # The frozen CLI runs through the link (it finds its libraries beside the real file).
    version = run([command, "--version"], frozen_env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.split()[-1] == frozen_build.version, version.stderr

    completed = run([folder / "install.sh", "--uninstall"], frozen_env)
    assert completed.returncode == 0, completed.stderr
    assert not (data / "applications" / "agentmux-companion.desktop").exists()
    assert not (data / "icons/hicolor/scalable/apps/agentmux-companion.svg").exists()
    assert not command.exists()
    assert not command.is_symlink()
    assert (folder / "agentmux-companion").is_file()  # the program itself is left alone


@pytest.mark.usefixtures("qapp")
def test_windows_and_macos_icons_are_rendered_at_every_size(frozen_build: FrozenBuild) -> None:
    # Built on every OS, so the Linux CI proves the .ico and .icns writers: Qt reads them back.
    from PySide6.QtGui import QImageReader

    icons = load_packaging_module("icons")
    expected = {"ico": sorted(icons.ICO_SIZES), "icns": sorted(size for _, size in icons.ICNS_TYPES)}
    for suffix, sizes in expected.items():
        reader = QImageReader(str(frozen_build.icon_dir / f"agentmux-companion.{suffix}"))
        found = []
        for index in range(reader.imageCount()):
            assert reader.jumpToImage(index)
            image = reader.read()
            assert not image.isNull(), (suffix, index)
            assert image.width() == image.height(), (suffix, index)
            found.append(image.width())
        assert sorted(found) == sizes, suffix
