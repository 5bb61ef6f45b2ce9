"""``keyring copy|status|remove`` and doctor's keyring section: the optional keyring snapshot.

The keyring library itself loads only in these (core/keyring_*.py), never on the way to a plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentmux_companion.cli.output import Column, Console, Fit
from agentmux_companion.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from agentmux_companion.cli.context import Context

COPY_COLUMNS = (Column("PROVIDER", min_width=8), Column("KEYRING ENTRY", Fit.PATH, min_width=16),
                Column("OUTCOME", min_width=7), Column("FINGERPRINT", Fit.PATH, min_width=11),
                Column("CHUNKS", min_width=6))
STATUS_COLUMNS = (Column("PROVIDER", min_width=8), Column("KEYRING ENTRY", Fit.PATH, min_width=14),
                  Column("COPIED", Fit.WRAP, min_width=10), Column("FRESHNESS", min_width=9),
                  Column("IN KEYRING", Fit.WRAP, min_width=10), Column("FINGERPRINT", Fit.PATH, min_width=11),
                  Column("BACKEND", Fit.PATH, min_width=8))


def keyring_timeout(seconds: float | None) -> float:
    """``--timeout`` checked (0 < s <= 600), or the default."""
    from agentmux_companion.core.keyring.backend import DEFAULT_TIMEOUT_S

    if seconds is None:
        return DEFAULT_TIMEOUT_S
    if not 0 < seconds <= 600:
        raise UsageError("the keyring timeout must be between 0 and 600 seconds")
    return seconds


def _when(at_ms: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(at_ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cmd_keyring(ctx: Context) -> ExitCode:
    """Dispatch ``keyring ACTION``."""
    timeout = keyring_timeout(ctx.args.timeout)
    action = ctx.args.keyring_action
    if action == "copy":
        return _keyring_copy(ctx, timeout)
    if action == "status":
        return _keyring_status(ctx, timeout)
    return _keyring_remove(ctx, timeout)


def _keyring_copy(ctx: Context, timeout: float) -> ExitCode:
    from agentmux_companion.core.keyring.copy import copy_bound_accounts

    stores = [loc.path for loc in ctx.default_targets()]
    report = copy_bound_accounts(ctx.paths, stores, timeout_s=timeout, at_ms=ctx.now_ms)
    console = ctx.console
    if ctx.json:
        console.emit_json(report.to_json())
        return ExitCode.OK if report.all_ok else ExitCode.WARNINGS
    for path, reason in report.skipped_stores:
        console.line(f"store skipped: {path}: {reason}", hang="  ")
    if not report.copies:
        console.line("Nothing to copy: no OAuth provider account is bound in these stores (run `migrate` first).",
                     hang="  ")
        return ExitCode.OK
    assert report.backend is not None
    console.line(f"Keyring: {report.backend.name} ({report.backend.reason})", hang="  ")
    console.table(COPY_COLUMNS, [[c.account.provider, f"agentmux/{c.account.keyring_account}", c.outcome.value,
                                  c.fingerprint or "-", str(c.chunks) if c.chunks else "-"] for c in report.copies])
    for c in report.copies:
        console.line(f"{c.account.provider}: {c.message}", hang="  ")
    console.line()
    console.line("The copy is a snapshot: the bindings still point at each CLI's own folder, and the next token "
                 "refresh by the CLI makes the copy stale (see `keyring status`).")
    return ExitCode.OK if report.all_ok else ExitCode.WARNINGS


def _keyring_status(ctx: Context, timeout: float) -> ExitCode:
    from agentmux_companion.core.keyring.status import snapshot_status

    status = snapshot_status(ctx.paths, timeout_s=timeout)
    console = ctx.console
    if ctx.json:
        console.emit_json(status.to_json())
        return ExitCode.OK
    if not status.copies:
        console.line("No keyring copies are recorded.")
        return ExitCode.OK
    if status.backend is not None:
        console.line(f"Keyring: {status.backend.name}", hang="  ")
    if status.keyring_error:
        console.line(f"The keyring was not checked: {status.keyring_error}", hang="  ")
    rows = []
    for c in status.copies:
        r = c.record
        rows.append([r.provider, f"{r.service}/{r.account}", _when(r.copied_at_ms), c.freshness.value,
                     c.in_keyring.value.replace("_", " "), r.fingerprint, r.backend_name])
    console.table(STATUS_COLUMNS, rows)
    for c in status.copies:
        console.line(f"{c.record.provider}: {c.message}", hang="  ")
    return ExitCode.OK


def _keyring_remove(ctx: Context, timeout: float) -> ExitCode:
    from agentmux_companion.core.keyring.ledger import all_copies, ledger_path
    from agentmux_companion.core.keyring.removal import remove_copies

    recorded = all_copies(ledger_path(ctx.paths))
    console = ctx.console
    if not recorded:
        if ctx.json:
            console.emit_json({"backend": None, "ledger": str(ledger_path(ctx.paths)), "copies": []})
        else:
            console.line("No keyring copies are recorded; nothing to remove.")
        return ExitCode.OK
    ctx.confirm(f"Delete {len(recorded)} keyring cop{'y' if len(recorded) == 1 else 'ies'} made by the companion?",
                ctx.args.yes)
    report = remove_copies(ctx.paths, timeout_s=timeout)
    if ctx.json:
        console.emit_json(report.to_json())
    else:
        for c in report.copies:
            console.line(f"{c.record.provider} {c.record.service}/{c.record.account}: "
                         f"{c.outcome.value.replace('_', ' ')} ({c.message})", hang="  ")
    return ExitCode.OK if report.all_removed else ExitCode.WARNINGS


def doctor_keyring(timeout: float) -> dict[str, Any]:
    """The keyring section of ``doctor``: the backend, and a write/read/delete probe of a secure one."""
    from agentmux_companion.core.errors import KeyringUnavailable
    from agentmux_companion.core.keyring.backend import KeyringAdapter, backend_report
    from agentmux_companion.core.keyring.probe import probe

    report = backend_report(timeout)
    section: dict[str, Any] = report.to_json()
    section["probe"] = None
    if report.secure:
        try:
            section["probe"] = probe(KeyringAdapter.open(timeout_s=timeout)).to_json()
        except KeyringUnavailable as exc:
            section["probe"] = {"write": "failed", "read": "skipped", "delete": "skipped", "error": exc.message}
    return section


def doctor_keyring_lines(section: dict[str, Any]) -> list[tuple[str, str]]:
    """The keyring section of ``doctor`` as (key, value) lines."""
    verdict = section["reason"] if section["secure"] else f"NOT secure: {section['reason']}"
    lines = [("keyring", f"{section['name'] or 'none'} ({verdict})")]
    probe = section["probe"]
    if probe is None:
        lines.append(("keyring probe", "not run (the backend is not one the companion writes to)"))
    else:
        lines.append(("keyring probe", f"write {probe['write']}, read {probe['read']}, delete {probe['delete']}"
                      + (f": {probe['error']}" if probe["error"] else "")))
    return lines


def doctor_keyring_failed(section: dict[str, Any]) -> bool:
    """A secure keyring whose probe fails is a failure (``keyring copy`` would hit it); none is not."""
    probe = section["probe"]
    return probe is not None and probe["error"] is not None


def key_value_lines(console: Console, pairs: list[tuple[str, str]]) -> None:
    """``key   value`` lines, the values wrapped under themselves (paths elided)."""
    key_width = max(len(k) for k, _ in pairs) + 2
    for key, value in pairs:
        console.line(key.ljust(key_width) + value, hang=" " * key_width)
