"""``agentmux-companion gui`` as a process: flags, no display, the smoke check, lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.entry_point_run import counting_collections
from tests.helpers.schema import create_store


def run_gui(*args: str, display: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if display:
        env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run(
        [sys.executable, "-m", "agentmux_companion", "gui", *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_smoke_says_window_shown_then_ready_last() -> None:
    result = run_gui("--demo", "--smoke")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "window shown\nready action_needed\n"


def test_smoke_on_a_store_with_nothing_to_do(tmp_path: Path) -> None:
    store = create_store(tmp_path / "s" / "objects.db", StoreShape.WITH_AGENTS)
    result = run_gui("--smoke", f"--store={store}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "window shown\nready nothing_to_do\n"


def test_smoke_without_a_display_runs_offscreen() -> None:
    result = run_gui("--demo", "--smoke", display=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ready action_needed"
    assert "no display" in result.stderr


def test_no_display_shows_the_cli_plan_instead_of_aborting() -> None:
    result = run_gui("--demo", display=False)
    assert result.returncode == 0, result.stderr
    assert "no display here" in result.stderr
    assert "Store: stable 0.33.4 (bundle)" in result.stdout
    assert "claude    bind" in result.stdout
    assert "DEMO-not-a-real-token" not in result.stdout + result.stderr


def test_the_gui_demo_offers_the_copy_once_era_too() -> None:
    """Issue #8: the GUI's demo shows the copy-once flow with --demo-era isolated.

    Its plan is printed here because there is no display; by default it stays the pointer-era store.
    """
    isolated = run_gui("--demo", "--demo-era", "isolated", display=False)
    assert isolated.returncode == 0, isolated.stderr
    assert "Store: stable 0.36.2 (bundle)" in isolated.stdout
    assert "Store: shared store (bundle)" in isolated.stdout
    assert isolated.stdout.count("Copy-once:") == 2
    assert "copies the login once into" in isolated.stdout
    default = run_gui("--demo", display=False)
    assert "Pointer:" in default.stdout
    assert "Copy-once:" not in default.stdout
    smoke = run_gui("--demo", "--demo-era", "isolated", "--smoke")
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout == "window shown\nready action_needed\n"


def test_demo_if_no_store_says_so() -> None:
    result = run_gui("--demo-if-no-store", "--smoke")
    assert result.returncode == 0, result.stderr
    first, second, third = result.stdout.splitlines()
    assert first.startswith("No AgentMux store found on this machine: running the demo sandbox in ")
    demo_dir = Path(first.rsplit(" in ", 1)[1])
    assert (second, third) == ("window shown", "ready action_needed")
    assert not demo_dir.exists()  # the sandbox is removed at exit


def test_demo_if_no_store_uses_the_real_store_when_there_is_one(private_home: Path) -> None:
    create_store(private_home / ".agentmux" / "channels" / "stable" / "versions" / "1.0.0" / "data" / "db"
                 / "objects.db", StoreShape.WITH_AGENTS)
    result = run_gui("--demo-if-no-store", "--smoke")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ready nothing_to_do"  # the empty real store, not the demo


def test_bad_arguments_are_a_usage_error() -> None:
    result = run_gui("--no-such-flag")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in result.stderr
    assert "Traceback" not in result.stderr


def run_python_offscreen(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Python on the offscreen platform (start-up is what these tests watch)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("module", [
    "keyring", "secretstorage",
    # The GUI's own modules for things first used later: the keyring snapshot, its panel, the
    # crash dialog, start at login.
    "agentmux_companion.ui.keyring_controller", "agentmux_companion.ui.keyring_panel",
    "agentmux_companion.ui.crash_dialog", "agentmux_companion.ui.autostart",
    # Writes, their confirmation and the desktop actions load when first asked for.
    "agentmux_companion.ui.writes", "agentmux_companion.ui.dialogs", "agentmux_companion.ui.desktop_actions",
    "agentmux_companion.core.migration.apply", "agentmux_companion.core.migration.undo",
    # The run ledger's module is the write path's (a plan reads the files' leftovers without it).
    "agentmux_companion.core.migration.ledger",
    # Without a tray, the tray menu's module loads when the window's More menu first opens.
    "agentmux_companion.ui.tray_menu",
    # The standard library's costlier modules the first plan does without (uuid loads platform;
    # hashlib loads OpenSSL: core/sha256.py; the registry is read as JSON: core/providers.py;
    # signal builds three enums: ui/quit_signals.py uses _signal).
    "uuid", "importlib.resources", "dataclasses", "hashlib", "tomllib", "signal",
])
def test_heavy_imports_stay_off_the_start_path(module: str) -> None:
    code = (
        "import sys\n"
        "from agentmux_companion import app\n"
        "rc = app.main(['--demo', '--smoke'])\n"
        f"print(rc, {module!r} in sys.modules)\n"
    )
    result = run_python_offscreen(code)
    assert result.stdout.splitlines()[-1] == "0 False", result.stderr


def probed_at_the_first_plan(argv: list[str], probe: str, *, again_a_turn_later: bool) -> str:
    """A launch's exit code and the values of ``probe`` once its first plan is in the window.

    ``again_a_turn_later``: probed again a turn of the event loop later (painted, the keyring
    check and menu facts under way), then the launch quits; otherwise it quits at once.
    """
    then = "    QtCore.QCoreApplication.quit()\n"
    if again_a_turn_later:
        then = ("    def later():\n"
                f"        found.append({probe})\n"
                "        QtCore.QCoreApplication.quit()\n"
                "    QtCore.QTimer.singleShot(0, later)\n")
    code = (
        "import sys\n"
        "from PySide6 import QtCore\n"
        "from agentmux_companion import app\n"
        "from agentmux_companion.ui.controller import Controller\n"
        "found = []\n"
        "original_on_plan = Controller.on_plan\n"
        "def on_plan(self, plan):\n"
        "    original_on_plan(self, plan)\n"
        f"    found.append({probe})\n"
        f"{then}"
        "Controller.on_plan = on_plan\n"
        f"rc = app.main({argv!r})\n"
        "print(rc, found[:2])\n"
    )
    result = run_python_offscreen(code)
    assert result.stdout, result.stderr
    return result.stdout.splitlines()[-1]


@pytest.mark.parametrize("smoke", [True, False], ids=["smoke", "a normal start"])
def test_the_first_plan_is_shown_without_building_pysides_qt_namespace(smoke: bool) -> None:
    # ui/qt_values.py: PySide6 builds all 94 enums of its Qt namespace the first time anything
    # names it, about an eighth of a bare window's start; the first window needs none of them.
    # On a normal start, still not a turn later (--smoke quits at once).
    argv = ["--demo", "--smoke"] if smoke else ["--demo"]
    found = probed_at_the_first_plan(argv, "'Qt' in vars(QtCore)", again_a_turn_later=not smoke)
    assert found == ("0 [False]" if smoke else "0 [False, False]")


def test_the_first_plan_is_shown_without_pysides_event_classes() -> None:
    # widgets.PathLabel.refit: the first Python event handler called makes PySide6 build its
    # QEvent class (179 event types) and, for one taking any event, all 50 subclasses: some 20
    # million instructions. The first window has none; the palette watch comes a turn later.
    probe = ("(sorted(n for m in (QtCore, sys.modules['PySide6.QtGui']) for n in vars(m) if n.endswith('Event')), "
             "getattr(self.window, '_palette_watch', None) is not None)")
    found = probed_at_the_first_plan(["--demo"], probe, again_a_turn_later=True)
    assert found.startswith("0 [([], False), ([")
    assert found.endswith("True)]")


def test_the_window_gets_its_icon_once_the_first_plan_is_shown() -> None:
    # PySide6's QIcon class (its ThemeIcon enum alone has 151 members) and the SVG icon engine
    # were some 14 million instructions on the way to the first plan, where nothing draws an
    # icon. The application's icon is set once the plan is painted, and the window, which has
    # none of its own, takes it then.
    probe = "('QIcon' in vars(sys.modules['PySide6.QtGui']), self.window.windowIcon().isNull())"
    found = probed_at_the_first_plan(["--demo"], probe, again_a_turn_later=True)
    assert found == "0 [(False, True), (True, False)]"


def test_the_first_plan_is_shown_before_its_files_are_watched_and_the_settings_read() -> None:
    # What the first plan does not show follows it a turn later (Scanning.follow): the
    # watch on its files (a stat and a notification per file) and its news, which reads the
    # settings file (PySide6's QSettings class, its 19-member Format enum): about 2 ms.
    probe = ("('QSettings' in vars(QtCore), self.scanning._settings is not None, len(self.watcher.files()) > 0, "
             "self.scanning.plans_followed)")
    found = probed_at_the_first_plan(["--demo"], probe, again_a_turn_later=True)
    assert found == "0 [(False, False, False, 0), (True, True, True, 1)]"


def test_the_first_plan_is_shown_without_building_the_result_page() -> None:
    # The result page (a scroll area, six buttons) waits for the first result: the window's
    # pages at the first plan are the plan's and the work's (tests/ui/test_flow.py has the rest).
    found = probed_at_the_first_plan(["--demo", "--smoke"], "self.window.pages.count()", again_a_turn_later=False)
    assert found == "0 [2]"


def test_the_first_scan_runs_alone_before_the_windows_modules_load_and_is_the_first_plan_shown() -> None:
    # core/scan_ahead.py: run beside the window's construction, the scan and the build took turns
    # at the interpreter lock and both were slower. It runs before the window's modules load now
    # (after PySide6's core, app.py), on its own thread, once: the first scan's job collects that
    # plan rather than scanning again.
    code = (
        "import sys, threading\n"
        "from agentmux_companion.core.migration import plan as plan_module\n"
        "from agentmux_companion import app\n"
        "scans, shown = [], []\n"
        "build_plan = plan_module.build_plan\n"
        "def recorded(*args, **kwargs):\n"
        "    plan = build_plan(*args, **kwargs)\n"
        "    scans.append(('agentmux_companion.ui.controller' in sys.modules, threading.current_thread().name, plan))\n"
        "    return plan\n"
        "plan_module.build_plan = recorded\n"
        "when_started = app._when_started\n"
        "def also_record(controller, *rest):\n"
        "    when_started(controller, *rest)\n"
        "    controller.scan_finished.connect(shown.append)\n"
        "app._when_started = also_record\n"
        "rc = app.main(['--demo', '--smoke'])\n"
        "print(rc, [(window, thread) for window, thread, _plan in scans], shown[0] is scans[0][2])\n"
    )
    result = run_python_offscreen(code)
    assert result.stdout.splitlines()[-1] == "0 [(False, 'first scan')] True", result.stderr


def test_a_normal_launch_loads_neither_openssl_nor_qtnetwork_before_its_first_plan() -> None:
    # Unlike --smoke, a normal launch claims the single instance: its socket name is a digest
    # (core/sha256.py, as the scan's fingerprints: no OpenSSL), and on Unix the socket is the
    # standard library's until the first plan is shown (no QtNetwork: ui/single_instance.py),
    # made by _socket (the socket module's import builds four enums).
    modules = "{'hashlib', '_hashlib', 'socket', 'PySide6.QtNetwork', 'agentmux_companion.ui.single_instance'}"
    watched = f"sorted({modules} & set(sys.modules))"
    found = probed_at_the_first_plan(["--demo"], watched, again_a_turn_later=False)
    assert found == "0 [['agentmux_companion.ui.single_instance']]"


def test_a_second_launch_brings_the_first_forward_once_its_first_plan_is_shown() -> None:
    # The whole way, as app.py wires it: the first launch holds the name from its start and
    # answers once its plan is shown; the second launch, started then, says so and exits 0.
    code = (
        "import subprocess, sys\n"
        "from PySide6 import QtCore\n"
        "from agentmux_companion import app\n"
        "from agentmux_companion.ui.controller import Controller\n"
        "from agentmux_companion.ui.single_instance import SingleInstance\n"
        "seen = []\n"
        "original_serve, original_show = SingleInstance.serve, Controller.show_window\n"
        "def serve(self):\n"
        "    original_serve(self)\n"
        "    second = subprocess.run([sys.executable, '-m', 'agentmux_companion', 'gui', '--demo'],\n"
        "                            capture_output=True, text=True, timeout=60)\n"
        "    seen.append((second.returncode, 'already running' in second.stderr))\n"
        "    QtCore.QTimer.singleShot(20_000, QtCore.QCoreApplication.quit)  # if nothing comes\n"
        "def show_window(self):\n"
        "    original_show(self)\n"
        "    if seen:\n"
        "        seen.append('brought forward')\n"
        "        QtCore.QCoreApplication.quit()\n"
        "SingleInstance.serve, Controller.show_window = serve, show_window\n"
        "rc = app.main(['--demo'])\n"
        "print(rc, seen)\n"
    )
    result = run_python_offscreen(code)
    assert result.stdout.splitlines()[-1] == "0 [(0, True), 'brought forward']", result.stderr


def test_pyside_never_reads_the_companions_sources() -> None:
    # PySide6 reads the source of each module imported after it unless its table already knows
    # the module (agentmux_companion.ui.skip_pyside_feature_scan); on the way to the window that
    # was about 10 ms. Recorded here: which modules it still reads while the window is built.
    code = (
        "import sys\n"
        "import agentmux_companion.ui\n"
        "feature = sys.modules['__feature__']\n"
        "read = []\n"
        "original = feature._mod_uses_pyside\n"
        "feature._mod_uses_pyside = lambda module: read.append(module.__name__) or original(module)\n"
        "from agentmux_companion.ui import controller, window_wiring\n"
        "from agentmux_companion.core.migration import apply\n"
        "print(sorted(n for n in read if n.startswith('agentmux_companion') or n in ('logging', 'pathlib')))\n"
        "print(feature.pyside_feature_dict['agentmux_companion.ui.plan_window'], "
        "feature.pyside_feature_dict['logging'])\n"
    )
    result = run_python_offscreen(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "0 -1"]


def test_pyside_reads_no_source_but_its_own_on_the_way_to_the_first_plan() -> None:
    # The whole start as a user's launch makes it (the entry point, --demo --smoke), recorded from
    # the moment PySide6 installs its import hook: a module imported after the table was filled
    # (the standard library's signal, for the quit signals) was still read, line by line.
    code = (
        "import os, sys\n"
        "read = []\n"
        "def hook(event, args):\n"
        "    feature = sys.modules.get('__feature__')\n"
        "    if event == 'import' and feature is not None and not hasattr(feature, 'recorded'):\n"
        "        original = feature._mod_uses_pyside\n"
        "        feature._mod_uses_pyside = lambda module: read.append(module.__name__) or original(module)\n"
        "        feature.recorded = True\n"
        "sys.addaudithook(hook)\n"
        "from agentmux_companion import app\n"
        "from agentmux_companion.entry_points import tray_companion\n"
        "on_scan_finished = app._SmokeCheck._on_scan_finished\n"
        "def at_the_first_plan(self, plan):\n"
        "    on_scan_finished(self, plan)\n"
        "    print(sorted(name for name in read if not name.startswith('PySide6')))\n"
        "app._SmokeCheck._on_scan_finished = at_the_first_plan\n"
        "sys.exit(tray_companion(['--demo', '--smoke']))\n"
    )
    result = run_python_offscreen(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]", result.stdout


def test_the_installed_program_runs_no_cycle_collection_before_its_first_plan() -> None:
    # The tray companion's entry point as its installed script calls it (read from the installed
    # metadata): the collector is paused before the launcher and the engine load, not only once
    # Qt loads (their imports made some twenty collections on the way to the window).
    count_at_ready = (  # the smoke check writes "ready <state>" once the plan is shown
        "class CountAtReady:\n"
        "    def __init__(self, out):\n"
        "        self.out, self.at_ready = out, None\n"
        "    def write(self, text):\n"
        "        if text.startswith('ready') and self.at_ready is None:\n"
        "            self.at_ready = len(collections)\n"
        "        return self.out.write(text)\n"
        "    def flush(self):\n"
        "        self.out.flush()\n"
        "watch = CountAtReady(sys.stdout)\n"
    )
    code = counting_collections("gui_scripts", "agentmux-companion-gui", prepare=count_at_ready) + (
        "sys.stdout = watch\n"
        "rc = program(['--demo', '--smoke'])\n"
        "sys.stdout = watch.out\n"
        "print(rc, watch.at_ready, gc.isenabled())\n"
    )
    result = run_python_offscreen(code)
    assert result.stdout.splitlines()[-1] == "0 0 True", result.stderr


def test_no_cycle_collections_until_the_first_plan_then_start_ups_objects_frozen() -> None:
    # core/collector.py: paused on the way to the first plan, resumed (with one collection and the
    # survivors frozen) once it is shown, and never left paused when the launcher returns.
    code = (
        "import gc, sys\n"
        "from agentmux_companion import app\n"
        "from agentmux_companion.ui.controller import Controller\n"
        "seen = []\n"
        "original_start, original_on_plan = Controller.start, Controller.on_plan\n"
        "Controller.start = lambda self, *args: seen.append(('start', gc.isenabled())) or original_start(self, *args)\n"
        "Controller.on_plan = lambda self, plan: (seen.append(('plan', gc.isenabled()))\n"
        "                                         or original_on_plan(self, plan))\n"
        "rc = app.main(['--demo', '--smoke'])\n"
        "print(rc, seen[:2], gc.isenabled(), gc.get_freeze_count() > 10_000)\n"
    )
    result = run_python_offscreen(code)
    assert result.stdout.splitlines()[-1] == "0 [('start', False), ('plan', False)] True True", result.stderr
