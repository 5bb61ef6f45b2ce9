"""What each write's confirmation says: the stores, logins and agents it changes, in plain words.

Built from the same plan the window shows, so the confirmation's counts are the window's counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agentmux_companion.core.migration.plan import MigrationPlan
from agentmux_companion.ui.dialogs import Confirmation, WriteKind
from agentmux_companion.ui.words import agent_records, plural, tr


def migrate(plan: MigrationPlan, chosen: Sequence[Path], *, keyring_copy: bool) -> Confirmation:
    """Migrating the chosen stores."""
    stores = [s for s in plan.stores if s.path in set(chosen) and s.will_write]
    changes = []
    for store_plan in stores:
        logins = sorted(p.display_name for p in store_plan.to_bind)
        what = (tr("{0}: add your {1} login(s) to the Default bundle").format(
            store_plan.location.label, ", ".join(logins)) if logins
            else tr("{0}: set up the Default bundle").format(store_plan.location.label))
        records = store_plan.instances_to_backfill + store_plan.agents_to_backfill
        if records:
            what += "; " + tr("{0} will use it").format(
                agent_records(store_plan.instances_to_backfill, store_plan.agents_to_backfill))
        changes.append(what)
    if keyring_copy:
        changes.append(tr("then copy the bound logins into the system keyring"))
    count = len(stores)
    return Confirmation(
        WriteKind.MIGRATE,
        plural(count, tr("Migrate {0} store?"), tr("Migrate {0} stores?")),
        plural(count, tr("&Migrate {0} store"), tr("&Migrate {0} stores")),
        tuple(changes),
        tr("A backup of each store is taken first, and the migration can be undone."),
        agentmux_running=any(s.agentmux_running for s in stores),
    )


def undo(labels: Sequence[str], *, agentmux_running: bool,
         counts: Sequence[tuple[int, int] | None] = ()) -> Confirmation:
    """Undoing the last migration of these stores.

    Args:
        labels: the stores' names.
        agentmux_running: whether AgentMux has one of them open.
        counts: per store, when this session migrated it, (logins added, agent records moved).
    """
    count = len(labels)
    known_counts = [*counts, *([None] * (count - len(counts)))]
    changes = []
    for label, known in zip(labels, known_counts, strict=True):
        line = tr("{0}: put back as it was before the migration").format(label)
        if known is not None:
            logins, records = known
            line += " (" + plural(logins, tr("{0} login leaves the Default bundle"),
                                  tr("{0} logins leave the Default bundle"))
            line += "; " + agent_records(records, 0) + " " + tr("get their former bundle back") + ")"
        changes.append(line)
    return Confirmation(
        WriteKind.UNDO,
        tr("Undo the last migration?"),
        plural(count, tr("&Undo {0} store"), tr("&Undo {0} stores")),
        tuple(changes),
        tr("A safety backup of the store as it is now is taken first."),
        agentmux_running=agentmux_running,
    )


def keyring_copy(logins: int) -> Confirmation:
    """Copying the bound logins into the keyring."""
    return Confirmation(
        WriteKind.KEYRING_COPY,
        tr("Copy logins into the keyring?"),
        plural(logins, tr("&Copy {0} login"), tr("&Copy {0} logins")),
        (plural(logins, tr("{0} login is copied into your system keyring"),
                tr("{0} logins are copied into your system keyring")),),
        tr("The copy is a snapshot: it goes stale when the tool renews its token. AgentMux keeps using the "
           "tool's own folder."),
    )


def keyring_remove(copies: int) -> Confirmation:
    """Removing the keyring copies the companion made."""
    return Confirmation(
        WriteKind.KEYRING_REMOVE,
        tr("Remove the keyring copies?"),
        plural(copies, tr("&Remove {0} copy"), tr("&Remove {0} copies")),
        (plural(copies, tr("{0} keyring copy made by the companion is deleted"),
                tr("{0} keyring copies made by the companion are deleted")),),
        tr("Only entries still holding the companion's copy are deleted; your logins keep working."),
    )
