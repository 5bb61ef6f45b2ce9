"""The cycle collector paused for start-up, resumed with start-up's objects frozen, and skipped at exit."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentmux_companion.core.collector import pause_for_start_up, resume_after_start_up


@pytest.fixture
def collector_restored() -> Iterator[None]:
    yield
    resume_after_start_up(collect=False)  # never leave a pause of these tests behind
    gc.unfreeze()
    gc.enable()


class _Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    me: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle nothing else holds (only a collection frees it), watched through a weak reference."""
    node = _Node()
    node.me = node
    return weakref.ref(node)


@pytest.mark.usefixtures("collector_restored")
def test_paused_then_resumed_with_start_ups_survivors_frozen() -> None:
    gc.unfreeze()
    pause_for_start_up()
    assert not gc.isenabled()
    pause_for_start_up()  # a second pause (the GUI launcher after the entry point) changes nothing
    survivor = [1, 2]  # made during start-up and kept
    cycle = _cycle()
    assert cycle() is not None  # paused: nothing collected it
    resume_after_start_up()
    assert gc.isenabled()
    assert cycle() is None  # the one collection freed the start-up's garbage
    assert not any(o is survivor for o in gc.get_objects())  # the survivors are frozen out of collections
    assert gc.get_freeze_count() > 0
    resume_after_start_up()  # again: nothing more
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_a_command_resumes_without_collecting_its_start_up_frozen() -> None:
    gc.unfreeze()
    pause_for_start_up()
    survivor = [3, 4]
    cycle = _cycle()
    resume_after_start_up(collect=False)  # the command line, about to run its command
    assert gc.isenabled()
    assert cycle() is not None  # not collected: frozen with the rest
    assert not any(o is survivor for o in gc.get_objects())
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("collector_restored")
def test_a_collector_that_was_off_stays_off() -> None:
    gc.unfreeze()
    gc.disable()
    pause_for_start_up()
    resume_after_start_up()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("collector_restored")
def test_resuming_without_a_pause_does_nothing() -> None:
    gc.unfreeze()
    resume_after_start_up()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_exit_hooks_still_run_after_collections_are_skipped(tmp_path: Path) -> None:
    marker = tmp_path / "marks"
    code = (
        "import atexit, sys\n"
        "from agentmux_companion.core.collector import skip_collections_at_exit\n"
        f"out = open({str(marker)!r}, 'w')\n"
        "atexit.register(lambda: out.write('exit hook ran\\n') or out.flush())\n"
        "skip_collections_at_exit()\n"
        "print('done')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "done\n"), result.stderr
    assert marker.read_text() == "exit hook ran\n"
