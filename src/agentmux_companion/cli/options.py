"""The parser of ``agentmux-companion`` and of the GUI launcher: one source for both.

Imports no Qt and no command module, so ``--help`` and the GUI launcher start fast. The
parser forgives: the common options go before or after the command, a typo gets one "did you
mean", and the keyring timeout has one name (``--timeout``; ``--keyring-timeout`` still works).
docs/cli.md and the shell completions are generated from :func:`build_parser`
(``scripts/gen_cli_docs.py``), so they never drift from it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from agentmux_companion import __version__
from agentmux_companion.core.errors import ExitCode, UsageError
from agentmux_companion.core.store import BUSY_TIMEOUT_MS

PROG = "agentmux-companion"
GUI_PROG = "agentmux-companion-gui"


def exit_code_lines() -> list[str]:
    """The exit-code table as text lines, from :class:`ExitCode` (the one source)."""
    return [f"  {int(code)}  {code.meaning}" for code in ExitCode]


class HelpFormatter(argparse.HelpFormatter):
    """Prose paragraphs wrapped to the width; indented lines (examples, exit codes) kept, hanging."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        paragraphs = []
        for paragraph in text.split("\n\n"):
            lines = paragraph.splitlines()
            if not any(line.startswith("  ") for line in lines):
                paragraphs.append(textwrap.fill(" ".join(lines), width, initial_indent=indent,
                                                subsequent_indent=indent, break_on_hyphens=False))
                continue
            kept = []
            for line in lines:
                hang = " " * (len(line) - len(line.lstrip()) + 3)
                kept.append(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent + hang,
                                          break_on_hyphens=False, drop_whitespace=True)
                            if len(indent + line) > width else indent + line)
            paragraphs.append("\n".join(kept))
        return "\n\n".join(paragraphs)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`UsageError` with one "did you mean" suggestion."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        # No prefixes: a script's `--st` would change meaning when an option is added; a typo
        # gets a "did you mean" instead.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing and exiting: the caller prints it once, with its prefix."""
        raise UsageError(f"{message}\nRun `{self.prog} --help` for the commands and options.")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is not None and value not in choices:
            names = [str(c) for c in choices]
            message = f"invalid choice: {value!r} (choose from {', '.join(names)})"
            raise argparse.ArgumentError(action, message + _suggestion(str(value), names))

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        """Parse, naming an unknown option's closest known spelling."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            known = _option_strings(self, getattr(parsed, "command", None), getattr(parsed, "keyring_action", None))
            hint = next((_suggestion(e.split("=")[0], known) for e in extras if e.startswith("-")), "")
            self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed


def _suggestion(word: str, candidates: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _option_strings(parser: argparse.ArgumentParser, *path: str | None) -> list[str]:
    """Every option string visible to the command named by ``path`` (and the main parser)."""
    found: list[str] = []
    current: argparse.ArgumentParser | None = parser
    for name in (*path, None):
        if current is None:
            break
        subparsers = None
        for action in current._actions:
            if action.help is not argparse.SUPPRESS:
                found += [s for s in action.option_strings if s.startswith("--")]
            if isinstance(action, argparse._SubParsersAction):
                subparsers = action
        current = subparsers.choices.get(name) if subparsers is not None and name else None
    return found


# --------------------------------------------------------------------------------------------
# Option groups, each added to the main parser (real defaults) and to every subcommand
# (defaults suppressed, so a value given before the command is not overwritten after it).


def _default(value: Any, suppress: bool) -> Any:
    return argparse.SUPPRESS if suppress else value


def add_location_options(group: Any, suppress: bool = False) -> None:
    """``--home``, ``--agentmux-root``, ``--store``: where to look (CLI and GUI)."""
    group.add_argument("--home", type=Path, default=_default(None, suppress), metavar="DIR",
                       help="where ambient credentials are looked for (default: your home)")
    group.add_argument("--agentmux-root", type=Path, default=_default(None, suppress), metavar="DIR",
                       help="AgentMux's root (default <home>/.agentmux, or $AGENTMUX_HOME_OVERRIDE)")
    group.add_argument("--store", type=Path, action="append", default=_default(None, suppress), metavar="PATH",
                       help="a store to use instead of discovery (repeatable)")


def add_output_options(group: Any, suppress: bool = False) -> None:
    """``--json``, ``--now-ms``, ``--wide``, ``-v``, ``-q``: how to answer (CLI only)."""
    group.add_argument("--json", action="store_true", default=_default(False, suppress),
                       help="print exactly one JSON document on stdout (messages go to stderr)")
    group.add_argument("--now-ms", type=int, default=_default(None, suppress), metavar="MS",
                       help="fixed clock in ms since the epoch (reproducible previews)")
    group.add_argument("--wide", action="store_true", default=_default(False, suppress),
                       help="full values, one line each, whatever the terminal's width")
    group.add_argument("-v", "--verbose", action="store_true", default=_default(False, suppress),
                       help="also print the log's records on stderr")
    group.add_argument("-q", "--quiet", action="store_true", default=_default(False, suppress),
                       help="print only errors (and the JSON document with --json)")


def add_gui_options(group: Any) -> None:
    """The tray companion's own options (``gui`` and ``agentmux-companion-gui``)."""
    group.add_argument("--demo", action="store_true",
                       help="run against a throwaway demo sandbox (made-up logins, a sample store)")
    group.add_argument("--demo-if-no-store", action="store_true",
                       help="run the demo when no AgentMux store is found on this machine")
    group.add_argument("--demo-era", choices=("ambient", "isolated"), default="ambient",
                       help="the demo's store: ambient (default, a May store whose accounts point at the CLIs' "
                            "folders) or isolated (a July store and the shared store: each login copied once)")
    group.add_argument("--smoke", action="store_true",
                       help="start, show the tray or window, scan, print 'window shown' (or 'tray shown') "
                            "then 'ready <state>', and exit")
    group.add_argument("--busy-timeout-ms", type=int, default=BUSY_TIMEOUT_MS, help=argparse.SUPPRESS)


def _add_timeout(group: Any) -> None:
    group.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                       help="bound on each keyring call (default 10)")
    # doctor's old name, kept working but out of the help: one name to learn.
    group.add_argument("--keyring-timeout", dest="timeout", type=float, default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)


def _epilog(examples: Sequence[str]) -> str:
    return "examples:\n" + "\n".join(f"  {PROG} {e}" for e in examples)


#: name -> (one-line help, description, examples); the order is the one --help lists.
COMMANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "gui": ("the tray companion",
            "Start the tray companion: it finds AI-CLI logins, shows the migration plan, migrates and undoes.",
            ("gui", "gui --demo", "gui --smoke --store ~/objects.db")),
    "stores": ("list the AgentMux stores found",
               "List the AgentMux stores found, each with its era and whether it can be migrated.",
               ("stores", "stores --agentmux-root /opt/agentmux --json")),
    "scan": ("list providers and their ambient credentials",
             "List every provider and its ambient credentials: path, present, status, masked fingerprint.",
             ("scan", "scan --home /home/alice --wide")),
    "plan": ("the dry run: what migrate would do",
             "The dry run: per store and provider the action and its reason, the Default bundle, the agent "
             "rows to back-fill. Nothing is written.",
             ("plan", "plan --json", "plan --store ~/objects.db --all")),
    "migrate": ("back up, then apply the plan",
                "Show the plan, ask, back up each store, then apply the plan in one transaction per store.",
                ("migrate", "migrate --yes --json", "migrate --store ~/objects.db --yes")),
    "undo": ("revert the last migration of a store",
             "Reverse the last migration of each store exactly, or restore its backup (--from-backup).",
             ("undo", "undo --yes --store ~/objects.db", "undo --from-backup --store ~/objects.db")),
    "backups": ("the backups the companion took: list, prune",
                "The catalog of backups (store, why, run, when, size, verified), and pruning it by an explicit "
                "policy: the pre-migration backup of every run not undone and of each store's last run stay, "
                "plus the newest --keep others per store.",
                ("backups list", "backups list --json --store ~/objects.db", "backups prune --keep 2 --yes")),
    "doctor": ("paths, versions, keyring, stores found",
               "Print paths, versions, the keyring backend with a write/read/delete probe, and the stores found.",
               ("doctor", "doctor --json --timeout 3")),
    "keyring": ("the optional keyring snapshot: copy, status, remove",
                "The optional keyring snapshot: copy each bound OAuth login into the OS keyring, see its "
                "status, remove it.",
                ("keyring copy", "keyring status --json", "keyring remove --yes")),
    "demo": ("run the whole flow in a sandbox",
             "Build a sandbox and walk plan, migrate, a second run (nothing to do) and undo, printing each step.",
             ("demo", "demo --era isolated", "demo --dir /tmp/agentmux-demo")),
}

KEYRING_ACTIONS = {
    "copy": "copy each bound OAuth login into the OS keyring, verified",
    "status": "what was copied, when, and whether each copy is still current",
    "remove": "delete from the keyring exactly what copy added",
}


def _subcommand(sub: Any, name: str, cli_options: bool = True) -> tuple[Parser, Any]:
    words, description, examples = COMMANDS[name]
    parser: Parser = sub.add_parser(name, help=words, description=description, epilog=_epilog(examples))
    own = parser.add_argument_group(f"options of {name}")
    common = parser.add_argument_group("common options")
    add_location_options(common, suppress=True)
    if cli_options:
        add_output_options(common, suppress=True)
    return parser, own


def _gui_options(own: Any) -> None:
    add_gui_options(own)


def _plan_options(own: Any) -> None:
    own.add_argument("--all", action="store_true", help="also plan stores that are not default targets")


def _migrate_options(own: Any) -> None:
    own.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    own.add_argument("--all", action="store_true", help="also migrate stores that are not default targets")
    own.add_argument("--busy-timeout-ms", type=int, default=BUSY_TIMEOUT_MS, help=argparse.SUPPRESS)


def _undo_options(own: Any) -> None:
    own.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    own.add_argument("--from-backup", nargs="?", const="", default=None, metavar="FILE",
                     help="restore the backup instead (default: the last run's backup)")


def _demo_options(own: Any) -> None:
    own.add_argument("--dir", type=Path, help="build the sandbox here and keep it (default: a temp dir)")
    own.add_argument("--era", choices=("ambient", "isolated"), default="ambient",
                     help="ambient (default): a May store whose accounts point at the CLIs' folders; "
                          "isolated: a July store and the shared store, where each login is copied once")


def _no_options(own: Any) -> None:
    del own


_OWN_OPTIONS = {"gui": _gui_options, "stores": _no_options, "scan": _no_options, "plan": _plan_options,
                "migrate": _migrate_options, "undo": _undo_options, "backups": _no_options,
                "doctor": _add_timeout, "keyring": _no_options, "demo": _demo_options}

BACKUPS_ACTIONS = {
    "list": "every backup: store, why, run, when, size, verified",
    "prune": "delete old backups by the policy (asks first)",
}


def _add_actions(command: Parser, name: str, actions: dict[str, str], own_options: Any) -> None:
    """The actions of a command group (``keyring copy``, ``backups prune``, ...).

    Args:
        command: the group's parser.
        name: the group's name, for ``<name>_action`` and the help texts.
        actions: each action's one-line help.
        own_options: ``own_options(action, group)`` adds the action's own options.
    """
    sub = command.add_subparsers(dest=f"{name}_action", metavar="ACTION", parser_class=Parser,
                                 required=True, title="actions")
    for action, words in actions.items():
        parser = sub.add_parser(action, help=words, description=words[0].upper() + words[1:] + ".",
                                epilog=_epilog((f"{name} {action}", f"{name} {action} --json")))
        own_options(action, parser.add_argument_group(f"options of {name} {action}"))
        common = parser.add_argument_group("common options")
        add_location_options(common, suppress=True)
        add_output_options(common, suppress=True)


def _backups_action_options(action: str, own: Any) -> None:
    if action == "prune":
        from agentmux_companion.core.backup_prune import DEFAULT_KEEP

        own.add_argument("--keep", type=int, default=DEFAULT_KEEP, metavar="N",
                         help=f"other backups to keep per store (default {DEFAULT_KEEP})")
        own.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _keyring_action_options(action: str, own: Any) -> None:
    _add_timeout(own)
    if action == "remove":
        own.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def build_parser(only: str | None = None) -> Parser:
    """The whole command line: common options, one subcommand per command group.

    Args:
        only: build just this command's subparser (start-up: argparse pays for every parser it
            builds); the parser then knows no other command, so only :func:`parse` uses it.
    """
    parser = Parser(prog=PROG, description=(
        "Move legacy AI-CLI logins into AgentMux's Default identity bundle.\n\n"
        "Common options may go before or after the command."),
        epilog="exit codes:\n" + "\n".join(exit_code_lines()) + "\n\n" + _epilog(("plan", "migrate --yes", "demo")))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = parser.add_argument_group("common options")
    add_location_options(common)
    add_output_options(common)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, title="commands")
    for name, add_own in _OWN_OPTIONS.items():
        if only is not None and name != only:
            continue
        command, own = _subcommand(sub, name, cli_options=name != "gui")
        add_own(own)
        if name == "keyring":
            _add_actions(command, name, KEYRING_ACTIONS, _keyring_action_options)
        elif name == "backups":
            _add_actions(command, name, BACKUPS_ACTIONS, _backups_action_options)
    return parser


#: Common options that take a value: their value is not the command.
_VALUE_OPTIONS = ("--home", "--agentmux-root", "--store", "--now-ms")


def command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, if it names a known one before any help or version request."""
    expect_value = False
    for token in argv:
        if expect_value:
            expect_value = False
        elif token in ("-h", "--help", "--version", "--"):
            return None
        elif token in _VALUE_OPTIONS:
            expect_value = True
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` (raises :class:`UsageError`); builds only the named command's parser when it can."""
    argv = list(argv)
    command = command_in(argv)
    if command is not None:
        try:
            fast: argparse.Namespace = build_parser(only=command).parse_args(argv)
            return fast
        except UsageError:
            pass  # the whole parser says what is wrong, with every command to suggest from
    parsed: argparse.Namespace = build_parser().parse_args(argv)
    return parsed


def build_gui_parser(prog: str = GUI_PROG) -> Parser:
    """The GUI launcher's parser: the ``gui`` command's options, the same as ``agentmux-companion gui``."""
    _, description, _ = COMMANDS["gui"]
    parser = Parser(prog=prog, description=description,
                    epilog="exit codes:\n" + "\n".join(exit_code_lines()))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_gui_options(parser.add_argument_group("options of gui"))
    add_location_options(parser.add_argument_group("common options"))
    return parser


if __name__ == "__main__":  # pragma: no cover - a convenience for looking at the help
    build_parser().print_help(sys.stdout)
