"""What every command gets: its parsed options, the paths, the registry, the console."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from agentmux_companion.cli.output import Console
from agentmux_companion.core import store as st
from agentmux_companion.core.errors import CompanionError, ExitCode, StoreRefused, UsageError
from agentmux_companion.core.paths import AppPaths

if TYPE_CHECKING:
    from agentmux_companion.core.migration.plan import MigrationPlan
    from agentmux_companion.core.providers import ProviderRegistry


class Declined(CompanionError):
    """The user answered no at a confirmation prompt; nothing was written."""

    exit_code = ExitCode.DECLINED


class Context:
    """A command's options, paths (``env`` stands in for ``os.environ``), registry and console."""

    def __init__(self, args: argparse.Namespace, env: Mapping[str, str] | None = None,
                 console: Console | None = None) -> None:
        self.args = args
        self.paths = AppPaths.resolve(args.home, args.agentmux_root, dict(env) if env is not None else None)
        self.console = console or Console(json_mode=bool(getattr(args, "json", False)),
                                          quiet=bool(getattr(args, "quiet", False)),
                                          wide=bool(getattr(args, "wide", False)))

    @property
    def json(self) -> bool:
        """Whether the answer is one JSON document."""
        return self.console.json

    @cached_property
    def registry(self) -> ProviderRegistry:
        """The provider registry shipped with the package (resources/providers.toml)."""
        from agentmux_companion.core.providers import load_registry

        return load_registry()

    @property
    def now_ms(self) -> int | None:
        """The fixed clock of ``--now-ms``, if given."""
        value: int | None = getattr(self.args, "now_ms", None)
        return value

    @property
    def explicit(self) -> list[st.StoreLocation] | None:
        """The stores named with ``--store``, or None to discover them."""
        return st.explicit_locations(self.args.store) if self.args.store else None

    def default_targets(self) -> list[st.StoreLocation]:
        """The ``--store`` stores, else the discovered default targets; refused when there are none."""
        locations = self.explicit or [loc for loc in st.discover_stores(self.paths) if loc.default_target]
        if not locations:
            raise self.no_stores()
        return locations

    def plan(self, include_all: bool = False) -> MigrationPlan:
        """The migration plan for the chosen stores."""
        from agentmux_companion.core.migration.plan import build_plan

        return build_plan(self.paths, self.registry, self.explicit, self.now_ms, include_all)

    def no_stores(self) -> CompanionError:
        """The refusal for "no store here", with what to do about it."""
        return StoreRefused(
            f"no AgentMux store found under {self.paths.agentmux_root} (is AgentMux installed, and has it "
            "run once?). Use --store PATH or --agentmux-root DIR to point at one"
        )

    def confirm(self, question: str, assume_yes: bool) -> None:
        """Ask ``question`` on the terminal; raise :class:`Declined` on anything but yes.

        Without a terminal (and without ``--yes``) it refuses as a usage error instead of waiting.
        """
        if assume_yes:
            return
        if not sys.stdin or not sys.stdin.isatty():
            raise UsageError(f"{question} needs confirmation: run again with --yes (no terminal to ask on)")
        self.console.end_progress()
        self.console.err.write(f"{question} [y/N] ")
        self.console.err.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise Declined("declined; nothing was written")
