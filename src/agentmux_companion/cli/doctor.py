"""``doctor``: paths, versions, the keyring backend with a probe, the stores found."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from agentmux_companion import __version__
from agentmux_companion.cli.keyring_snapshot import (
    doctor_keyring,
    doctor_keyring_failed,
    doctor_keyring_lines,
    key_value_lines,
    keyring_timeout,
)
from agentmux_companion.cli.output import elide_middle
from agentmux_companion.core import store as st
from agentmux_companion.core.errors import ExitCode

if TYPE_CHECKING:
    from agentmux_companion.cli.context import Context


def cmd_doctor(ctx: Context) -> ExitCode:
    """Everything worth knowing when something does not work."""
    import platform
    import sqlite3

    import platformdirs

    paths = ctx.paths
    locations = ctx.explicit or st.discover_stores(paths)
    document: dict[str, Any] = {
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "sqlite": sqlite3.sqlite_version,
        "platformdirs": platformdirs.__version__,
        "paths": {
            "home": str(paths.home), "agentmux_root": str(paths.agentmux_root),
            "shared_dir": str(paths.shared_dir), "channel": paths.channel,
            "config_dir": str(paths.config_dir), "data_dir": str(paths.data_dir),
            "log_file": str(paths.log_file), "backups_dir": str(paths.backups_dir),
        },
        "providers": [p.id for p in ctx.registry.oauth_providers],
        "agentmux_running": st.agentmux_process_running(),
        "stores": [
            {"path": str(loc.path), "era": st.inspect_store(loc.path).era.value,
             "default_target": loc.default_target}
            for loc in locations
        ],
    }
    document["keyring"] = doctor_keyring(keyring_timeout(ctx.args.timeout))
    if ctx.json:
        ctx.console.emit_json(document)
    else:
        _render(ctx, document)
    return ExitCode.WARNINGS if doctor_keyring_failed(document["keyring"]) else ExitCode.OK


def _render(ctx: Context, document: dict[str, Any]) -> None:
    console = ctx.console
    pairs = [(key, str(document[key])) for key in
             ("version", "python", "platform", "sqlite", "platformdirs", "frozen", "agentmux_running")]
    key_width = 19  # the key padded to 18, a space: what scripts and tests have read
    path_width = max(16, console.width - key_width)

    def path(value: str) -> str:
        return value if console.wide else elide_middle(value, path_width)

    pairs += [(key, path(value)) for key, value in document["paths"].items()]
    pairs.append(("providers", ", ".join(document["providers"])))
    for entry in document["stores"]:
        suffix = f" ({entry['era']})"
        shown = entry["path"] if console.wide else elide_middle(entry["path"], path_width - len(suffix))
        pairs.append(("store", shown + suffix))
    pairs += doctor_keyring_lines(document["keyring"])
    key_value_lines(console, [(k.ljust(key_width - 2), v) for k, v in pairs])
