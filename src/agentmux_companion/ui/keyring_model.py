"""What the keyring controller hands its views: immutable values, no widgets, no jobs.

Split from :mod:`.keyring_controller` so the keyring panel (a view) can name them without
importing the controller that owns it.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

from agentmux_companion.core.keyring.view import AccountRow
from agentmux_companion.ui.keyring_health import BackendHealth

if TYPE_CHECKING:
    from agentmux_companion.core.keyring.copy import CopyReport
    from agentmux_companion.core.keyring.removal import RemoveReport


class KeyringOverview(NamedTuple):
    """Everything the keyring panel shows, gathered by one job.

    Attributes:
        backend: the keyring in use and its health.
        rows: bound accounts first (store order), then copies of accounts no longer bound.
        keyring_error: why the keyring could not be asked about the copies, or None.
    """

    backend: BackendHealth
    rows: tuple[AccountRow, ...]
    keyring_error: str | None = None

    @property
    def bound_count(self) -> int:
        """How many accounts are bound in a store to a CLI login (the ones a copy would cover)."""
        return sum(1 for r in self.rows if r.bound)

    @property
    def recorded_count(self) -> int:
        """How many accounts have a copy recorded in the ledger."""
        return sum(1 for r in self.rows if r.copied_at_ms is not None)


class CopyOrigin(enum.Enum):
    """Who asked for a keyring copy: the result is shown there."""

    PLAN = "plan"  # the plan window's option, right after a migration
    PANEL = "panel"  # the keyring panel's Copy


class CopyOutcome(NamedTuple):
    """A copy's report and the overview read right after it (the panel shows both)."""

    report: CopyReport
    overview: KeyringOverview
    origin: CopyOrigin


class RemoveOutcome(NamedTuple):
    """A removal's report and the overview read right after it (the panel shows both)."""
    report: RemoveReport
    overview: KeyringOverview
