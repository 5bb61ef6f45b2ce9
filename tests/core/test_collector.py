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
    gc.unfreeze()
    gc.enable()


class _Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    me: _Node | None = None


@pytest.mark.usefixtures("collector_restored")
def test_paused_then_resumed_with_start_ups_survivors_frozen() -> None:
    gc.unfreeze()
    was_on = pause_for_start_up()
    assert was_on
    assert not gc.isenabled()
    survivor = [1, 2]  # made during start-up and kept
    node = _Node()
    node.me = node  # a cycle: only a collection frees it
    cycle = weakref.ref(node)
    del node
    assert cycle() is not None  # paused: nothing collected it
    resume_after_start_up(was_on)
    assert gc.isenabled()
    assert cycle() is None  # the one collection freed the start-up's garbage
    assert not any(o is survivor for o in gc.get_objects())  # the survivors are frozen out of collections
    assert gc.get_freeze_count() > 0
    resume_after_start_up(was_on)  # again: nothing more
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_a_collector_that_was_off_stays_off() -> None:
    gc.unfreeze()
    gc.disable()
    was_on = pause_for_start_up()
    resume_after_start_up(was_on)
    assert not gc.isenabled()
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
