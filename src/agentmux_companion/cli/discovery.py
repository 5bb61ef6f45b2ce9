"""``stores`` and ``scan``: what is on this machine, before any plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentmux_companion.cli.output import Column, Fit
from agentmux_companion.core import store as st
from agentmux_companion.core.errors import ExitCode

if TYPE_CHECKING:
    from agentmux_companion.cli.context import Context

STORE_COLUMNS = (Column("TARGET", min_width=6), Column("STORE", Fit.WRAP, min_width=10), Column("ERA", min_width=7),
                 Column("MIGRATABLE", min_width=10), Column("PATH", Fit.PATH, min_width=16))
SCAN_COLUMNS = (Column("PROVIDER", min_width=8), Column("OAUTH", min_width=5), Column("PRESENT", min_width=7),
                Column("STATUS", min_width=7), Column("FINGERPRINT", Fit.PATH, min_width=11),
                Column("CREDENTIALS", Fit.PATH, min_width=16))


def cmd_stores(ctx: Context) -> ExitCode:
    """List the stores found, each with its era."""
    locations = ctx.explicit or st.discover_stores(ctx.paths)
    entries = []
    for loc in locations:
        inspection = st.inspect_store(loc.path)
        entries.append({
            "path": str(loc.path), "kind": loc.kind.value, "channel": loc.channel,
            "version": loc.version, "default_target": loc.default_target,
            "era": inspection.era.value, "migratable": inspection.era.migratable,
            "refused": inspection.refusal, "user_version": inspection.user_version,
        })
    console = ctx.console
    if ctx.json:
        console.emit_json({"agentmux_root": str(ctx.paths.agentmux_root), "stores": entries})
        return ExitCode.OK
    if not entries:
        console.line(f"No AgentMux store found under {ctx.paths.agentmux_root}.", hang="  ")
        return ExitCode.OK
    rows = [["yes" if e["default_target"] else "", loc.label, str(e["era"]), "yes" if e["migratable"] else "no",
             str(e["path"])] for e, loc in zip(entries, locations, strict=True)]
    console.table(STORE_COLUMNS, rows)
    for e in entries:
        if e["refused"] and e["default_target"]:
            console.line()
            console.path_line(e["path"])
            console.line(str(e["refused"]), indent="  ", hang="  ")
    return ExitCode.OK


def cmd_scan(ctx: Context) -> ExitCode:
    """List every provider and its ambient credentials."""
    from agentmux_companion.core.migration.plan import now_ms, probe_all

    at = ctx.now_ms if ctx.now_ms is not None else now_ms()
    found = probe_all(ctx.registry, ctx.paths.home, at)
    entries: list[dict[str, Any]] = []
    for cred in found:
        provider = ctx.registry.get(cred.provider)
        assert provider is not None
        entries.append({
            "provider": cred.provider, "display_name": provider.display_name, "oauth": provider.oauth,
            "credentials_path": str(cred.path), "present": cred.present, "kind": cred.kind.value,
            "symlink_target": cred.symlink_target,
            "status": cred.status.value if cred.status else None, "reason": cred.reason,
            "fingerprint": cred.fingerprint, "expires_at_ms": cred.expires_at_ms,
            "has_refresh_token": cred.has_refresh_token, "warnings": list(cred.warnings),
            "notes": list(provider.notes()),
        })
    console = ctx.console
    if ctx.json:
        console.emit_json({"home": str(ctx.paths.home), "now_ms": at, "providers": entries})
    else:
        rows = [[e["provider"], "yes" if e["oauth"] else "no", "yes" if e["present"] else "no",
                 e["status"] or "-", e["fingerprint"] or "-", e["credentials_path"]] for e in entries]
        console.table(SCAN_COLUMNS, rows, detail_below=True)
        for e in entries:
            for w in e["warnings"]:
                console.line(f"warning: {w}", hang="  ")
            if e["oauth"] and e["present"]:
                console.line(f"{e['provider']}: {e['reason']}", hang="  ")
    return ExitCode.WARNINGS if any(e["warnings"] for e in entries if e["oauth"]) else ExitCode.OK
