"""``demo``: the whole flow in a throwaway sandbox (plan, migrate, a second run, undo)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentmux_companion.cli.migration import migrate_json
from agentmux_companion.cli.plan_text import render_plan, render_results
from agentmux_companion.core.errors import ExitCode, UsageError
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths

if TYPE_CHECKING:
    from agentmux_companion.cli.context import Context


def cmd_demo(ctx: Context) -> ExitCode:
    """Build a sandbox and walk the flow in it, printing each step."""
    from agentmux_companion.core.migration.apply import apply_plan
    from agentmux_companion.core.migration.plan import build_plan, now_ms
    from agentmux_companion.core.migration.undo import undo_last
    from agentmux_companion.core.sandbox import build_demo_sandbox

    at = ctx.now_ms if ctx.now_ms is not None else now_ms()
    keep = ctx.args.dir is not None
    root = ctx.args.dir.resolve() if keep else Path(tempfile.mkdtemp(prefix="agentmux-companion-demo-"))
    # Only what the sandbox is built from must be new; the folder may hold other things (this
    # run's own log, when AGENTMUX_COMPANION_DIR points inside it).
    taken = [p for p in (root / "home", root / "companion") if p.exists()] if keep else []
    if taken:
        raise UsageError(f"{taken[0]} already exists; give --dir a new or empty folder")
    sandbox = build_demo_sandbox(root, at, ctx.args.era)
    env = {k: v for k, v in os.environ.items()
           if k not in ("AGENTMUX_HOME_OVERRIDE", "AGENTMUX_SHARED_DIR", "AGENTMUX_CHANNEL")}
    env[COMPANION_DIR_ENV] = str(sandbox.companion_dir)
    paths = AppPaths.resolve(sandbox.home, sandbox.agentmux_root, env)
    registry = ctx.registry
    console = ctx.console
    steps: list[dict[str, Any]] = []
    console.note(f"Demo sandbox: {root}")
    console.note(f"home with claude (valid) and codex (expired) logins: {sandbox.home}", indent="  ")
    console.note(f"AgentMux store (bundle era, legacy agent rows, a user bundle 'Work'): {sandbox.store}",
                 indent="  ")
    if sandbox.shared_store is not None:
        console.note(f"AgentMux's shared store (copy-once era): {sandbox.shared_store}", indent="  ")

    def step(title: str) -> None:
        rule = "=" * min(72, console.width)
        console.note(f"\n{rule}\n{title}\n{rule}")

    step("1. Plan (dry run): nothing is written")
    plan = build_plan(paths, registry, None, at)
    render_plan(plan, console)
    steps.append({"step": "plan", "plan": plan.to_json()})

    step("2. Migrate: backup, then one transaction")
    results = apply_plan(plan, paths, registry, progress=console.progress)
    console.end_progress()
    render_results(results, console, plan)
    steps.append({"step": "migrate", "stores": [migrate_json(r) for r in results]})

    step("3. Run again: the migration is idempotent, so nothing is left to do")
    again = build_plan(paths, registry, None, at)
    second = apply_plan(again, paths, registry)
    render_plan(again, console)
    render_results(second, console, again)
    steps.append({"step": "migrate_again", "plan": again.to_json(), "stores": [migrate_json(r) for r in second]})

    step("4. Undo: reverse exactly what step 2 changed")
    undone = [undo_last(paths, r.path) for r in results if r.outcome == "migrated"]
    for u in undone:
        console.path_line(u.path)
        console.line(f"undone: {u.describe()}", indent="  ", hang="    ")
    after_undo = build_plan(paths, registry, None, at)
    steps.append({"step": "undo", "stores": [u.to_json() for u in undone], "plan_after": after_undo.to_json()})
    same = [s.to_json(minted_ids=False) for s in after_undo.stores] == [
        s.to_json(minted_ids=False) for s in plan.stores]
    verdict = "the same as before the migration" if same else "DIFFERENT from the first one"
    console.note(f"\nAfter undo the plan is {verdict}.")
    if not keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        console.note("The sandbox was removed (use --dir to keep one).")
    if ctx.json:
        console.emit_json({"sandbox": str(root), "kept": keep, "steps": steps, "undo_restored_plan": same})
    ok = all(r.outcome == "migrated" for r in results) and all(r.outcome == "nothing_to_do" for r in second) and same
    return ExitCode.OK if ok else ExitCode.UNEXPECTED
