"""How one run of the GUI behaves: the controller's options (from the launcher's arguments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from agentmux_companion.core import store as st
from agentmux_companion.core.migration.plan import MigrationPlan

#: Builds the plan on a worker thread; tests substitute a slower or failing one.
PlanBuilder = Callable[[Callable[[str], None]], MigrationPlan]

#: How long after the first plan is shown the tray menu's facts are read (after the first paint).
MENU_FACTS_DELAY_MS = 400

#: How long after the window is up (and the first scan is done) the keyring check starts.
KEYRING_CHECK_DELAY_MS = 300


class ControllerOptions(NamedTuple):
    """How this run of the GUI behaves.

    Attributes:
        demo_dir: the demo sandbox's folder when running ``--demo`` (seals Start at login and the keyring).
        stores: explicit store paths (``--store``), else discovery.
        busy_timeout_ms: how long a write waits for a busy store.
        use_tray: force the tray on or off; None asks Qt whether a tray exists.
        debounce_ms: how long file changes settle before a rescan.
        first_launch_window: open the plan window by itself on the first launch with work to do.
        extra_watch_paths: more paths whose changes trigger a rescan.
        keyring_timeout_s: the bound on each keyring call; None: the keyring adapter's default.
        agentmux_wait_ms: how often to look again while waiting for AgentMux to close.
    """

    demo_dir: Path | None = None
    stores: list[Path] | None = None
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS
    use_tray: bool | None = None
    debounce_ms: int = 400
    first_launch_window: bool = True
    extra_watch_paths: Sequence[Path] = ()
    keyring_timeout_s: float | None = None
    agentmux_wait_ms: int = 2000
