"""A parser that forgives (issue 13).

Options before or after the command, one "did you mean", one timeout name, help that teaches,
``--version``.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from agentmux_companion import __version__
from agentmux_companion.cli import main
from agentmux_companion.core.errors import ExitCode
from tests.helpers.stores import NOW_MS, run_cli


def printed(*argv: str) -> tuple[int, str]:
    """Run an argv that prints and exits (``--help``, ``--version``): its code and stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(exited.value.code or 0), out.getvalue()


def test_a_mistyped_command_says_did_you_mean_once() -> None:
    result = run_cli("migrat")
    assert result.code == ExitCode.USAGE
    assert result.out == ""
    assert result.err.count("invalid choice: 'migrat'") == 1
    assert result.err.count("did you mean 'migrate'?") == 1
    assert "agentmux-companion: agentmux-companion:" not in result.err
    assert result.err.startswith("agentmux-companion: argument COMMAND: invalid choice")


def test_a_mistyped_option_says_did_you_mean(private_home: Path) -> None:
    result = run_cli("plan", "--jsn", "--home", private_home)
    assert result.code == ExitCode.USAGE
    assert result.err.count("unrecognized arguments: --jsn; did you mean '--json'?") == 1
    result = run_cli("doctor", "--timout", "3")
    assert result.code == ExitCode.USAGE
    assert "did you mean '--timeout'?" in result.err


def test_a_mistyped_keyring_action_says_did_you_mean() -> None:
    result = run_cli("keyring", "stauts")
    assert result.code == ExitCode.USAGE
    assert result.err.count("did you mean 'status'?") == 1


def test_nonsense_gets_no_suggestion() -> None:
    result = run_cli("xyzzy")
    assert result.code == ExitCode.USAGE
    assert "did you mean" not in result.err


@pytest.mark.parametrize("argv", [
    ["--json", "--home", "{home}", "plan"],
    ["--json", "plan", "--home", "{home}"],
    ["plan", "--json", "--home", "{home}"],
    ["--home", "{home}", "--now-ms", str(NOW_MS), "plan", "--json"],
])
def test_common_options_go_before_or_after_the_command(private_home: Path, argv: list[str]) -> None:
    store = private_home / ".agentmux" / "channels" / "stable" / "versions" / "1.0.0" / "data" / "db"
    store.mkdir(parents=True)
    from agentmux_companion.core.sandbox import StoreShape, create_store

    create_store(store / "objects.db", StoreShape.WITH_AGENTS)
    result = run_cli(*(a.replace("{home}", str(private_home)) for a in argv))
    assert result.code == ExitCode.OK, result.err
    document = json.loads(result.out)
    assert [s["path"] for s in document["stores"]] == [str(store / "objects.db")]


def test_an_option_before_the_command_is_not_lost_after_it(private_home: Path) -> None:
    result = run_cli("--now-ms", str(NOW_MS), "scan", "--json", "--home", private_home)
    assert result.code == ExitCode.OK
    assert json.loads(result.out)["now_ms"] == NOW_MS


@pytest.mark.parametrize("name", ["--timeout", "--keyring-timeout"])
@pytest.mark.parametrize("command", [["doctor"], ["keyring", "status"]])
def test_one_keyring_timeout_name_and_a_hidden_alias(command: list[str], name: str) -> None:
    result = run_cli(*command, name, "0")
    assert result.code == ExitCode.USAGE
    assert "the keyring timeout must be between 0 and 600 seconds" in result.err


@pytest.mark.parametrize("command", [["doctor"], ["keyring", "copy"], ["keyring", "status"], ["keyring", "remove"]])
def test_help_names_only_timeout(command: list[str]) -> None:
    _, text = printed(*command, "--help")
    assert "--timeout SECONDS" in text
    assert "--keyring-timeout" not in text


COMMAND_NAMES = ["backups", "demo", "doctor", "gui", "keyring", "migrate", "plan", "scan", "stores", "undo"]


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_each_command_help_teaches(name: str) -> None:
    from agentmux_companion.cli.options import COMMANDS

    assert sorted(COMMANDS) == COMMAND_NAMES
    _, description, examples = COMMANDS[name]
    code, text = printed(name, "--help")
    assert code == 0
    assert " ".join(description.split()) in " ".join(text.split())
    assert f"options of {name}:" in text or name in ("stores", "scan", "keyring", "backups")
    assert "common options:" in text
    assert "--home DIR" in text
    assert "\nexamples:\n" in text
    assert 2 <= len(examples) <= 3
    for example in examples:
        assert f"  agentmux-companion {example}\n" in text


@pytest.mark.parametrize("action", ["copy", "remove", "status"])
def test_each_keyring_action_help_teaches(action: str) -> None:
    _, text = printed("keyring", action, "--help")
    assert f"options of keyring {action}:" in text
    assert "common options:" in text
    assert f"  agentmux-companion keyring {action}\n" in text


def test_main_help_lists_commands_and_the_exit_codes() -> None:
    from agentmux_companion.cli.options import COMMANDS

    _, text = printed("--help")
    flat = " ".join(text.split())
    for name, (words, _, _) in COMMANDS.items():
        assert f"{name} {words}" in flat
    for code in ExitCode:
        assert f"{int(code)} {code.meaning}" in flat
    assert "Common options may go before or after the command." in flat


def test_version() -> None:
    code, text = printed("--version")
    assert code == 0
    assert text == f"agentmux-companion {__version__}\n"


def test_no_command_prints_help_and_exits_usage() -> None:
    result = run_cli()
    assert result.code == ExitCode.USAGE
    assert "COMMAND" in result.err
