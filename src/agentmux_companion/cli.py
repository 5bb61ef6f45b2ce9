"""The ``agentmux-companion`` command line: a contract that installers and scripts depend on.

Imports only ``core`` (never Qt), so it starts fast and runs where there is no display. With
``--json`` stdout carries exactly one JSON document; messages go to stderr. Exit codes:
0 done or nothing to do, 2 usage, 3 refused (nothing written), 4 store busy (nothing written),
5 done with warnings, 1 unexpected error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from agentmux_companion import __version__, cli_backups
from agentmux_companion.core import store as st
from agentmux_companion.core.contract import Semantics
from agentmux_companion.core.errors import CompanionError, StoreRefused, UsageError, known_error
from agentmux_companion.core.log import redact, setup_logging
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.plan import MigrationPlan, StorePlan, build_plan, probe_all
from agentmux_companion.core.providers import load_registry

if TYPE_CHECKING:
    from agentmux_companion.core.apply import StoreResult
    from agentmux_companion.core.undo import UndoResult

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED, EXIT_BUSY, EXIT_WARNINGS = 0, 1, 2, 3, 4, 5

log = logging.getLogger("agentmux_companion.cli")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 by itself; keep its message
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--home", type=Path, help="where ambient credentials are looked for")
    common.add_argument("--agentmux-root", type=Path, help="AgentMux's root (default <home>/.agentmux)")
    common.add_argument("--store", type=Path, action="append", default=None, metavar="PATH",
                        help="a store to use instead of discovery (repeatable)")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    common.add_argument("--now-ms", type=int, help="fixed clock in ms since the epoch")

    parser = _Parser(prog="agentmux-companion", description=(
        "Move legacy AI-CLI logins into AgentMux's Default identity bundle."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # `gui` is dispatched before parsing (main); listed here so --help shows it.
    sub.add_parser("gui", help="the tray companion (options: agentmux-companion gui --help)")
    sub.add_parser("stores", parents=[common], help="list the AgentMux stores found")
    sub.add_parser("scan", parents=[common], help="list providers and their ambient credentials")
    p = sub.add_parser("plan", parents=[common], help="the dry run: what migrate would do")
    p.add_argument("--all", action="store_true", help="also plan stores that are not default targets")
    p = sub.add_parser("migrate", parents=[common], help="back up, then apply the plan")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--all", action="store_true", help="also migrate stores that are not default targets")
    p.add_argument("--busy-timeout-ms", type=int, default=st.BUSY_TIMEOUT_MS, help=argparse.SUPPRESS)
    p = sub.add_parser("undo", parents=[common], help="revert the last migration of a store")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--from-backup", nargs="?", const="", default=None, metavar="FILE",
                   help="restore the backup instead (default: the last run's backup)")
    p = sub.add_parser("doctor", parents=[common], help="paths, versions, keyring backend and probe, stores found")
    p.add_argument("--keyring-timeout", type=float, default=None, metavar="SECONDS",
                   help="bound on each keyring call of the probe (default 10)")
    p = sub.add_parser("keyring", help="the optional keyring snapshot: copy, status, remove")
    keyring_sub = p.add_subparsers(dest="keyring_action", metavar="ACTION", parser_class=_Parser, required=True)
    for action, words in (("copy", "copy each bound OAuth login into the OS keyring, verified"),
                          ("status", "what was copied, when, and whether each copy is still current"),
                          ("remove", "delete from the keyring exactly what copy added")):
        kp = keyring_sub.add_parser(action, parents=[common], help=words)
        kp.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="bound on each keyring call (default 10)")
        if action == "remove":
            kp.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    cli_backups.add_parser(sub, common, _Parser)
    p = sub.add_parser("demo", parents=[common], help="run the whole flow in a sandbox")
    p.add_argument("--dir", type=Path, help="build the sandbox here and keep it (default: a temp dir)")
    p.add_argument("--era", choices=("ambient", "isolated"), default="ambient",
                   help="ambient (default): a May store whose accounts point at the CLIs' folders; "
                        "isolated: a July store and the shared store, where each login is copied once")
    return parser


# --------------------------------------------------------------------------------------------
# Output helpers


def _table(rows: Sequence[Sequence[str]], out: TextIO, indent: str = "") -> None:
    """Columns padded to their widest cell, the header underlined."""
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        out.write(indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
        if index == 0:
            out.write(indent + "  ".join("-" * w for w in widths) + "\n")


def _emit_json(document: Any, out: TextIO) -> None:
    # Redact string values, not the serialized text: the redactor's ``key: value`` pattern would
    # otherwise rewrite ``"has_refresh_token": true`` into ``***`` and break the JSON.
    out.write(json.dumps(_redact_strings(document), indent=2, ensure_ascii=False) + "\n")


def _redact_strings(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_strings(item) for item in value]
    return value


def _confirm(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"{question} needs confirmation: run again with --yes (no terminal to ask on)")
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise UsageError("cancelled; nothing was written")


# --------------------------------------------------------------------------------------------
# Context


class Context:
    """What every command needs: paths, registry, the chosen stores, output mode."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.paths = AppPaths.resolve(args.home, args.agentmux_root, env)
        self.registry = load_registry()
        self.json = bool(args.json)
        self.out = sys.stdout
        self.err = sys.stderr
        self.emitted_json = False

    def emit_json(self, document: Any) -> None:
        """Print the command's one JSON document (``--json``)."""
        _emit_json(document, self.out)
        self.emitted_json = True

    @property
    def explicit(self) -> list[st.StoreLocation] | None:
        return st.explicit_locations(self.args.store) if self.args.store else None

    def plan(self, include_all: bool = False) -> MigrationPlan:
        return build_plan(self.paths, self.registry, self.explicit, self.args.now_ms, include_all)

    def say(self, text: str) -> None:
        (self.err if self.json else self.out).write(text + "\n")


def _no_stores(ctx: Context) -> CompanionError:
    return StoreRefused(
        f"no AgentMux store found under {ctx.paths.agentmux_root} (is AgentMux installed, and has it "
        "run once?). Use --store PATH or --agentmux-root DIR to point at one"
    )


# --------------------------------------------------------------------------------------------
# Commands


def cmd_stores(ctx: Context) -> int:
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
    if ctx.json:
        ctx.emit_json({"agentmux_root": str(ctx.paths.agentmux_root), "stores": entries})
    elif not entries:
        ctx.out.write(f"No AgentMux store found under {ctx.paths.agentmux_root}.\n")
    else:
        rows = [["TARGET", "STORE", "ERA", "MIGRATABLE", "PATH"]]
        for e, loc in zip(entries, locations, strict=True):
            rows.append(["yes" if e["default_target"] else "", loc.label, str(e["era"]),
                         "yes" if e["migratable"] else "no", str(e["path"])])
        _table(rows, ctx.out)
        for e in entries:
            if e["refused"] and e["default_target"]:
                ctx.out.write(f"\n{e['path']}: {e['refused']}\n")
    return EXIT_OK


def cmd_scan(ctx: Context) -> int:
    from agentmux_companion.core.plan import now_ms

    at = ctx.args.now_ms if ctx.args.now_ms is not None else now_ms()
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
    if ctx.json:
        ctx.emit_json({"home": str(ctx.paths.home), "now_ms": at, "providers": entries})
    else:
        rows = [["PROVIDER", "OAUTH", "PRESENT", "STATUS", "FINGERPRINT", "CREDENTIALS"]]
        for e in entries:
            rows.append([e["provider"], "yes" if e["oauth"] else "no", "yes" if e["present"] else "no",
                         e["status"] or "-", e["fingerprint"] or "-", e["credentials_path"]])
        _table(rows, ctx.out)
        for e in entries:
            for w in e["warnings"]:
                ctx.out.write(f"warning: {w}\n")
            if e["oauth"] and e["present"]:
                ctx.out.write(f"{e['provider']}: {e['reason']}\n")
    return EXIT_WARNINGS if any(e["warnings"] for e in entries if e["oauth"]) else EXIT_OK


def semantics_words(store_plan: StorePlan) -> str:
    """What the store's semantics mean for the user, in one or two sentences (§7b)."""
    if store_plan.semantics is Semantics.ISOLATED:
        return (f"Copy-once: {store_plan.semantics_reason}. AgentMux will use its own copy of each login; "
                "whichever side renews a login first may leave the other asking you to sign in again.")
    return (f"Pointer: {store_plan.semantics_reason}. AgentMux will use each CLI's own login folder, "
            "as that build expects.")


def render_plan(plan: MigrationPlan, out: TextIO) -> None:
    """The human form of the plan, shared by ``plan``, ``migrate`` and ``demo``."""
    out.write(f"Ambient credentials looked for in {plan.home}\n")
    for store_plan in plan.stores:
        out.write(f"\nStore: {store_plan.location.label} ({store_plan.era.value})\n  {store_plan.path}\n")
        if store_plan.agentmux_running:
            out.write("  ! AgentMux appears to be running and caches its state: close it first, "
                      "or restart it afterwards.\n")
        if store_plan.semantics is not None and not store_plan.refused:
            out.write(f"  {semantics_words(store_plan)}\n")
        rows = [["PROVIDER", "ACTION", "STATUS", "FINGERPRINT", "REASON"]]
        for line in store_plan.providers:
            status = line.status.value if line.status else "-"
            rows.append([line.provider, line.action.value, status,
                         line.credential.fingerprint or "-", line.reason])
        _table(rows, out, indent="  ")
        if store_plan.refused:
            out.write(f"  Refused: {store_plan.refused}\n")
            continue
        bundle_words = {"create": "will be created", "reuse": "exists and is reused as it is",
                        "none": "not needed"}[store_plan.bundle.value]
        out.write(f"  Default bundle: {bundle_words}\n")
        out.write(f"  Agent rows to back-fill: {store_plan.instances_to_backfill}"
                  + (f" (+ {store_plan.agents_to_backfill} db_agents rows)" if store_plan.agents_to_backfill else "")
                  + "\n")
        if store_plan.record_migration:
            out.write("  Records migration 0008_default_bundle in db_migrations\n")
        if store_plan.will_write:
            out.write(f"  A backup is taken first, into {plan.backups_dir}\n")
        else:
            out.write("  Nothing to do.\n")
        for w in store_plan.warnings:
            out.write(f"  warning: {w}\n")
    for provider, notes in plan.notes.items():
        for note in notes:
            out.write(f"\nnote ({provider}): {note}\n")


def cmd_plan(ctx: Context) -> int:
    plan = ctx.plan(include_all=ctx.args.all)
    if not plan.stores:
        raise _no_stores(ctx)
    if ctx.json:
        ctx.emit_json(plan.to_json())
    else:
        render_plan(plan, ctx.out)
    return EXIT_REFUSED if any(s.refused for s in plan.stores) else EXIT_OK


def migrate_exit_code(results: Sequence[StoreResult]) -> int:
    from agentmux_companion.core.apply import exit_code_for

    return int(exit_code_for(results))


def _render_result(result: StoreResult, out: TextIO) -> None:
    out.write(f"\n{result.path}: {result.outcome.replace('_', ' ')}\n")
    if result.message:
        out.write(f"  {result.message}\n")
    if result.outcome == "migrated":
        s = result.stats
        out.write(f"  providers examined {s.providers_examined}, seeded {s.providers_seeded}, "
                  f"already bound {s.providers_skipped_existing}, no credentials "
                  f"{s.providers_skipped_no_ambient}, repointed {s.providers_repointed}\n")
        out.write(f"  Default bundle created: {'yes' if s.default_bundle_created else 'no'}; "
                  f"agent rows back-filled: {s.instances_backfilled}\n")
        out.write(f"  backup: {result.backup}\n")
    for w in result.warnings:
        out.write(f"  warning: {w}\n")


def cmd_migrate(ctx: Context) -> int:
    from agentmux_companion.core.apply import apply_plan  # the write path loads only when used

    plan = ctx.plan(include_all=ctx.args.all)
    if not plan.stores:
        raise _no_stores(ctx)
    if not ctx.json:
        render_plan(plan, ctx.out)
    if plan.will_write:
        writing = [s for s in plan.stores if s.will_write]
        _confirm(f"Migrate {len(writing)} store(s)?", ctx.args.yes)
    results = apply_plan(plan, ctx.paths, ctx.registry, ctx.args.busy_timeout_ms,
                         progress=lambda m: log.info("%s", m))
    for r in results:
        log.info("migrate %s: %s %s", r.path, r.outcome, r.stats.to_json())
    if ctx.json:
        ctx.emit_json({"stores": [_migrate_json(r) for r in results]})
    else:
        for r in results:
            _render_result(r, ctx.out)
        if any(r.outcome == "migrated" for r in results):
            ctx.out.write("\nIf AgentMux is running, restart it so it picks up the Default bundle.\n")
    for r in results:
        if r.outcome in ("refused", "changed", "busy"):
            ctx.err.write(f"{r.path}: {r.message}\n")
    return migrate_exit_code(results)


def _migrate_json(result: StoreResult) -> dict[str, Any]:
    document = result.to_json()
    document["backup"] = result.backup or None
    return document


def cmd_undo(ctx: Context) -> int:
    from agentmux_companion.core.undo import last_undoable_run, undo_from_backup, undo_last

    locations = ctx.explicit or [loc for loc in st.discover_stores(ctx.paths) if loc.default_target]
    from_backup = ctx.args.from_backup
    candidates = []
    for loc in locations:
        if from_backup is not None or last_undoable_run(ctx.paths, loc.path) is not None:
            candidates.append(loc)
    if not candidates:
        raise StoreRefused("nothing to undo: no migration by the companion is recorded for these stores")
    if from_backup and len(candidates) > 1:
        raise UsageError("--from-backup FILE restores one store: name it with --store PATH")
    what = "Restore the backup of" if from_backup is not None else "Undo the last migration of"
    _confirm(f"{what} {len(candidates)} store(s)?", ctx.args.yes)
    results: list[UndoResult] = []
    failures: list[CompanionError] = []
    for loc in candidates:
        try:
            if from_backup is not None:
                results.append(undo_from_backup(ctx.paths, loc.path, Path(from_backup) if from_backup else None))
            else:
                results.append(undo_last(ctx.paths, loc.path))
        except CompanionError as exc:
            failures.append(exc)
            ctx.err.write(f"{loc.path}: {exc.message}\n")
    if ctx.json:
        ctx.emit_json({"stores": [r.to_json() for r in results], "errors": [f.message for f in failures]})
    else:
        for r in results:
            ctx.out.write(f"{r.path}: undone ({r.method})\n")
            ctx.out.write(f"  {r.describe()}\n")
            before = "the restore" if r.method == "backup" else "undo"  # a restore's copy is before it
            ctx.out.write(f"  safety backup of the state before {before}: {r.safety_backup}\n")
            for w in r.warnings:
                ctx.out.write(f"  warning: {w}\n")
    if failures:
        return max(f.exit_code for f in failures)
    return EXIT_WARNINGS if any(r.warnings for r in results) else EXIT_OK


def cmd_doctor(ctx: Context) -> int:
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
    _doctor_keyring(ctx, document)
    if ctx.json:
        ctx.emit_json(document)
    else:
        for key in ("version", "python", "platform", "sqlite", "platformdirs", "frozen", "agentmux_running"):
            ctx.out.write(f"{key:18} {document[key]}\n")
        for key, value in document["paths"].items():
            ctx.out.write(f"{key:18} {value}\n")
        ctx.out.write(f"{'providers':18} {', '.join(document['providers'])}\n")
        for entry in document["stores"]:
            ctx.out.write(f"{'store':18} {entry['path']} ({entry['era']})\n")
        _render_doctor_keyring(document, ctx.out)
    return EXIT_WARNINGS if _doctor_keyring_failed(document) else EXIT_OK


# --------------------------------------------------------------------------------------------
# The keyring snapshot (core/keyring_*.py; the keyring library itself loads only in these)


def _keyring_timeout(seconds: float | None) -> float:
    from agentmux_companion.core.keyring_backend import DEFAULT_TIMEOUT_S

    if seconds is None:
        return DEFAULT_TIMEOUT_S
    if not 0 < seconds <= 600:
        raise UsageError("the keyring timeout must be between 0 and 600 seconds")
    return seconds


def _keyring_store_paths(ctx: Context) -> list[Path]:
    locations = ctx.explicit or [loc for loc in st.discover_stores(ctx.paths) if loc.default_target]
    if not locations:
        raise _no_stores(ctx)
    return [loc.path for loc in locations]


def _when(at_ms: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(at_ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cmd_keyring(ctx: Context) -> int:
    action = ctx.args.keyring_action
    timeout = _keyring_timeout(ctx.args.timeout)
    if action == "copy":
        return _keyring_copy(ctx, timeout)
    if action == "status":
        return _keyring_status(ctx, timeout)
    return _keyring_remove(ctx, timeout)


def _keyring_copy(ctx: Context, timeout: float) -> int:
    from agentmux_companion.core.keyring_copy import copy_bound_accounts

    report = copy_bound_accounts(ctx.paths, _keyring_store_paths(ctx), timeout_s=timeout, at_ms=ctx.args.now_ms)
    if ctx.json:
        ctx.emit_json(report.to_json())
    else:
        for path, reason in report.skipped_stores:
            ctx.out.write(f"store skipped: {path}: {reason}\n")
        if not report.copies:
            ctx.out.write("Nothing to copy: no OAuth provider account is bound in these stores "
                          "(run `migrate` first).\n")
            return EXIT_OK
        assert report.backend is not None
        ctx.out.write(f"Keyring: {report.backend.name} ({report.backend.reason})\n")
        rows = [["PROVIDER", "KEYRING ENTRY", "OUTCOME", "FINGERPRINT", "CHUNKS"]]
        for c in report.copies:
            rows.append([c.account.provider, f"agentmux/{c.account.keyring_account}", c.outcome.value,
                         c.fingerprint or "-", str(c.chunks) if c.chunks else "-"])
        _table(rows, ctx.out)
        for c in report.copies:
            ctx.out.write(f"{c.account.provider}: {c.message}\n")
        ctx.out.write("\nThe copy is a snapshot: the bindings still point at each CLI's own folder, and the "
                      "next token refresh by the CLI makes the copy stale (see `keyring status`).\n")
    return EXIT_OK if report.all_ok else EXIT_WARNINGS


def _keyring_status(ctx: Context, timeout: float) -> int:
    from agentmux_companion.core.keyring_copy import snapshot_status

    status = snapshot_status(ctx.paths, timeout_s=timeout)
    if ctx.json:
        ctx.emit_json(status.to_json())
        return EXIT_OK
    if not status.copies:
        ctx.out.write("No keyring copies are recorded.\n")
        return EXIT_OK
    if status.backend is not None:
        ctx.out.write(f"Keyring: {status.backend.name}\n")
    if status.keyring_error:
        ctx.out.write(f"The keyring was not checked: {status.keyring_error}\n")
    rows = [["PROVIDER", "KEYRING ENTRY", "COPIED", "FRESHNESS", "IN KEYRING", "FINGERPRINT", "BACKEND"]]
    for c in status.copies:
        r = c.record
        rows.append([r.provider, f"{r.service}/{r.account}", _when(r.copied_at_ms), c.freshness.value,
                     c.in_keyring.value.replace("_", " "), r.fingerprint, r.backend_name])
    _table(rows, ctx.out)
    for c in status.copies:
        ctx.out.write(f"{c.record.provider}: {c.message}\n")
    return EXIT_OK


def _keyring_remove(ctx: Context, timeout: float) -> int:
    from agentmux_companion.core.keyring_copy import remove_copies
    from agentmux_companion.core.keyring_ledger import all_copies, ledger_path

    recorded = all_copies(ledger_path(ctx.paths))
    if not recorded:
        if ctx.json:
            ctx.emit_json({"backend": None, "ledger": str(ledger_path(ctx.paths)), "copies": []})
        else:
            ctx.out.write("No keyring copies are recorded; nothing to remove.\n")
        return EXIT_OK
    _confirm(f"Delete {len(recorded)} keyring cop{'y' if len(recorded) == 1 else 'ies'} made by the companion?",
             ctx.args.yes)
    report = remove_copies(ctx.paths, timeout_s=timeout)
    if ctx.json:
        ctx.emit_json(report.to_json())
    else:
        for c in report.copies:
            ctx.out.write(f"{c.record.provider} {c.record.service}/{c.record.account}: "
                          f"{c.outcome.value.replace('_', ' ')} ({c.message})\n")
    return EXIT_OK if report.all_removed else EXIT_WARNINGS


def _doctor_keyring(ctx: Context, document: dict[str, Any]) -> None:
    from agentmux_companion.core.errors import KeyringUnavailable
    from agentmux_companion.core.keyring_backend import KeyringAdapter, backend_report, probe

    timeout = _keyring_timeout(ctx.args.keyring_timeout)
    report = backend_report(timeout)
    section: dict[str, Any] = report.to_json()
    section["probe"] = None
    if report.secure:
        try:
            section["probe"] = probe(KeyringAdapter.open(timeout_s=timeout)).to_json()
        except KeyringUnavailable as exc:
            section["probe"] = {"write": "failed", "read": "skipped", "delete": "skipped", "error": exc.message}
    document["keyring"] = section


def _render_doctor_keyring(document: dict[str, Any], out: TextIO) -> None:
    section = document["keyring"]
    verdict = section["reason"] if section["secure"] else f"NOT secure: {section['reason']}"
    out.write(f"{'keyring':18} {section['name'] or 'none'} ({verdict})\n")
    probe = section["probe"]
    if probe is None:
        out.write(f"{'keyring probe':18} not run (the backend is not one the companion writes to)\n")
    else:
        out.write(f"{'keyring probe':18} write {probe['write']}, read {probe['read']}, delete {probe['delete']}"
                  + (f": {probe['error']}" if probe["error"] else "") + "\n")


def _doctor_keyring_failed(document: dict[str, Any]) -> bool:
    # The snapshot is optional: no secure keyring (a headless box) is reported, not a failure.
    # A secure keyring whose probe fails is one: the user would hit it on `keyring copy`.
    probe = document["keyring"]["probe"]
    return probe is not None and probe["error"] is not None


def cmd_demo(ctx: Context) -> int:
    from agentmux_companion.core.apply import apply_plan
    from agentmux_companion.core.plan import now_ms
    from agentmux_companion.core.sandbox import build_demo_sandbox
    from agentmux_companion.core.undo import undo_last

    at = ctx.args.now_ms if ctx.args.now_ms is not None else now_ms()
    keep = ctx.args.dir is not None
    root = ctx.args.dir.resolve() if keep else Path(tempfile.mkdtemp(prefix="agentmux-companion-demo-"))
    # Only what the sandbox is built from must be new; the folder may hold other things (this
    # run's own log, when AGENTMUX_COMPANION_DIR points inside it).
    taken = [p for p in (root / "home", root / "companion") if p.exists()] if keep else []
    if taken:
        raise UsageError(f"{taken[0]} already exists; give --dir a new or empty folder")
    sandbox = build_demo_sandbox(root, at, ctx.args.era)
    env = dict(os.environ)
    env[COMPANION_DIR_ENV] = str(sandbox.companion_dir)
    env.pop("AGENTMUX_HOME_OVERRIDE", None)
    env.pop("AGENTMUX_SHARED_DIR", None)
    env.pop("AGENTMUX_CHANNEL", None)
    paths = AppPaths.resolve(sandbox.home, sandbox.agentmux_root, env)
    registry = ctx.registry
    steps: list[dict[str, Any]] = []
    say = ctx.say
    say(f"Demo sandbox: {root}")
    say(f"  home with claude (valid) and codex (expired) logins: {sandbox.home}")
    say(f"  AgentMux store (bundle era, legacy agent rows, a user bundle 'Work'): {sandbox.store}")
    if sandbox.shared_store is not None:
        say(f"  AgentMux's shared store (copy-once era): {sandbox.shared_store}")

    def step(title: str) -> None:
        say("\n" + "=" * 72 + f"\n{title}\n" + "=" * 72)

    step("1. Plan (dry run): nothing is written")
    plan = build_plan(paths, registry, None, at)
    if not ctx.json:
        render_plan(plan, ctx.out)
    steps.append({"step": "plan", "plan": plan.to_json()})

    step("2. Migrate: backup, then one transaction")
    results = apply_plan(plan, paths, registry)
    if not ctx.json:
        for r in results:
            _render_result(r, ctx.out)
    steps.append({"step": "migrate", "stores": [_migrate_json(r) for r in results]})

    step("3. Run again: the migration is idempotent, so nothing is left to do")
    again = build_plan(paths, registry, None, at)
    second = apply_plan(again, paths, registry)
    if not ctx.json:
        render_plan(again, ctx.out)
        for r in second:
            _render_result(r, ctx.out)
    steps.append({"step": "migrate_again", "plan": again.to_json(), "stores": [_migrate_json(r) for r in second]})

    step("4. Undo: reverse exactly what step 2 changed")
    undone = [undo_last(paths, r.path) for r in results if r.outcome == "migrated"]
    if not ctx.json:
        for u in undone:
            ctx.out.write(f"{u.path}: undone: {u.describe()}\n")
    after_undo = build_plan(paths, registry, None, at)
    steps.append({"step": "undo", "stores": [u.to_json() for u in undone], "plan_after": after_undo.to_json()})
    same = [s.to_json(minted_ids=False) for s in after_undo.stores] == [
        s.to_json(minted_ids=False) for s in plan.stores]
    say(f"\nAfter undo the plan is {'the same as before the migration' if same else 'DIFFERENT from the first one'}.")
    if not keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        say("The sandbox was removed (use --dir to keep one).")
    if ctx.json:
        ctx.emit_json({"sandbox": str(root), "kept": keep, "steps": steps, "undo_restored_plan": same})
    ok = all(r.outcome == "migrated" for r in results) and all(r.outcome == "nothing_to_do" for r in second) and same
    return EXIT_OK if ok else EXIT_ERROR


COMMANDS: dict[str, Callable[[Context], int]] = {
    "backups": lambda ctx: cli_backups.run(ctx, _confirm),
    "stores": cmd_stores,
    "scan": cmd_scan,
    "plan": cmd_plan,
    "migrate": cmd_migrate,
    "undo": cmd_undo,
    "doctor": cmd_doctor,
    "keyring": cmd_keyring,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``agentmux-companion``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["gui"]:
        # The GUI lives behind this one import, so the CLI never loads Qt.
        import importlib

        gui_main: Callable[[list[str]], int] = importlib.import_module("agentmux_companion.app").main
        return gui_main(argv[1:])
    parser = build_parser()
    ctx: Context | None = None
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        ctx = Context(args)
        setup_logging(ctx.paths.log_file)
        log.info("command %s", args.command)
        cli_backups.sweep_partial_backups(ctx.paths)
        return cli_backups.after_backup_checks(ctx.err, COMMANDS[args.command](ctx))
    except (CompanionError, OSError, sqlite3.Error) as failure:
        # An OSError or SQLite error with a known cause (no room, a path too long, ...) is a
        # known error too; any other is a bug and goes on to the traceback below.
        exc = known_error(failure, "the companion's own files")
        if exc is None:
            return _unexpected()
        sys.stderr.write(f"agentmux-companion: {redact(exc.message)}\n")
        log.warning("refused: %s", exc.message)
        if ctx is not None and ctx.json and not ctx.emitted_json:
            # Scripts parse stdout: even a refusal is one JSON document there.
            ctx.emit_json({"error": {"exit_code": exc.exit_code, "message": exc.message}})
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing further was written\n")
        return 130
    except Exception:
        return _unexpected()


def _unexpected() -> int:
    log.exception("unexpected error")
    import traceback

    sys.stderr.write("agentmux-companion: unexpected error (a bug); details follow and are in the log\n")
    sys.stderr.write(redact(traceback.format_exc()))
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
