"""Where AgentMux's stores are (docs/agentmux-store.md §2): discovery, and stores named by path."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from agentmux_companion.core.paths import AppPaths


class StoreKind(enum.StrEnum):
    """How a store was found: a release channel, a legacy versions folder, a dev build, shared, or ``--store``."""
    CHANNEL = "channel"
    LEGACY_VERSIONS = "versions"
    DEV = "dev"
    SHARED = "shared"
    EXPLICIT = "explicit"


class StoreLocation(NamedTuple):
    """A store file found on disk (or named with ``--store``).

    Attributes:
        path: the SQLite file.
        kind: which layout it was found in.
        channel: the channel for channel stores, else ''.
        version: the AgentMux version for versioned stores, else ''.
        default_target: migrated unless the user picks otherwise (newest of the channel in use,
            and the shared store; explicit ``--store`` paths are always targets).
    """

    path: Path
    kind: StoreKind
    channel: str = ""
    version: str = ""
    default_target: bool = False

    @property
    def label(self) -> str:
        """How people know the store in the plan (its channel and version, or its path when given)."""
        if self.kind is StoreKind.SHARED:
            return "shared store"
        if self.kind is StoreKind.DEV:
            return f"dev build {self.version}"
        if self.kind is StoreKind.EXPLICIT:
            return str(self.path)
        return f"{self.channel} {self.version}".strip()

    @property
    def is_shared(self) -> bool:
        """Whether this is the store shared by every AgentMux build (``store.db``)."""
        return self.kind is StoreKind.SHARED or self.path.name == "store.db"



# --------------------------------------------------------------------------------------------
# Discovery (docs/agentmux-store.md §2)

_VERSION_PART = re.compile(r"(\d+)|([A-Za-z]+)")


def version_key(version: str) -> tuple[tuple[int, ...], int, tuple[str, ...]]:
    """Sort key comparing versions as version numbers: 0.10.2 > 0.9.0; 1.0.0 > 1.0.0-beta.1.

    Args:
        version: a folder name such as ``0.33.1`` or ``v0.34.0-rc.2``.
    """
    text = version.lstrip("vV")
    release, _, pre = text.partition("-")
    numbers = tuple(int(n) for n in re.findall(r"\d+", release))
    # A release sorts after its pre-releases. Pre-release parts compare as semver does: numbers
    # numerically (zero-padded), words as written (alpha < beta < rc), numbers before words.
    return numbers, (0 if pre else 1), tuple(
        m.group(1).zfill(12) if m.group(1) else m.group(2) for m in _VERSION_PART.finditer(pre)
    )


def _objects_db(data_parent: Path) -> Path:
    return data_parent / "data" / "db" / "objects.db"


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir())
    except OSError:
        return []


def discover_stores(paths: AppPaths) -> list[StoreLocation]:
    """Every AgentMux store under the root, newest of the channel in use first.

    Channel stores of every channel and version, the older ``<root>/versions`` layout, developer
    builds and the shared store. Default targets: the newest version of the channel in use (the
    older layout counts as the ``stable`` channel it was) plus the shared store; whether the shared
    store is of the bundle era is decided later by inspection.
    """
    root = paths.agentmux_root
    found: list[StoreLocation] = []
    for channel_dir in _subdirs(root / "channels"):
        for version_dir in _subdirs(channel_dir / "versions"):
            db = _objects_db(version_dir)
            if db.is_file():
                found.append(StoreLocation(db, StoreKind.CHANNEL, channel_dir.name, version_dir.name))
    for version_dir in _subdirs(root / "versions"):
        db = _objects_db(version_dir)
        if db.is_file():
            found.append(StoreLocation(db, StoreKind.LEGACY_VERSIONS, "stable", version_dir.name))
    for branch_dir in _subdirs(root / "dev"):
        db = _objects_db(branch_dir)
        if db.is_file():
            found.append(StoreLocation(db, StoreKind.DEV, "dev", branch_dir.name))
        for clone_dir in _subdirs(branch_dir):
            db = _objects_db(clone_dir)
            if db.is_file():
                found.append(
                    StoreLocation(db, StoreKind.DEV, "dev", f"{branch_dir.name}/{clone_dir.name}")
                )

    in_channel = [s for s in found if s.kind is not StoreKind.DEV and s.channel == paths.channel]
    # Newest version first; on a tie the channels layout (the newer one) wins.
    in_channel.sort(key=lambda s: (version_key(s.version), s.kind is StoreKind.CHANNEL), reverse=True)
    newest = in_channel[0] if in_channel else None
    ordered: list[StoreLocation] = []
    if newest is not None:
        ordered.append(_with_default(newest))
    shared = paths.shared_dir / "store.db"
    if shared.is_file():
        ordered.append(StoreLocation(shared, StoreKind.SHARED, default_target=True))
    rest = [s for s in found if s is not newest]
    # Channel in use first, then other channels, developer builds last; newest version first.
    rest.sort(key=lambda s: version_key(s.version), reverse=True)
    rest.sort(key=lambda s: (s.kind is StoreKind.DEV, s.channel != paths.channel, s.channel))
    ordered.extend(rest)
    return ordered


def _with_default(location: StoreLocation) -> StoreLocation:
    return StoreLocation(
        location.path, location.kind, location.channel, location.version, default_target=True
    )


def explicit_locations(store_paths: Iterable[Path | str]) -> list[StoreLocation]:
    """Locations for ``--store`` paths: always targets, existing or not (inspection says).

    The same file named twice (or through a link) is one store: migrating it twice in one run
    would report the second as changed although the first wrote it.
    """
    seen: set[Path] = set()
    found = []
    for given in store_paths:
        path = Path(given).expanduser()
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        found.append(StoreLocation(path, StoreKind.EXPLICIT, default_target=True))
    return found

