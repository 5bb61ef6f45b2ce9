"""Generated docs and completions stay in sync with the parser (issue 13).

docs/cli.md, README's exit-code table and the shell completions are generated from the parser;
the completions load in bash, zsh and fish.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPLETIONS = ROOT / "completions"


def test_generated_files_are_in_sync_with_the_parser() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_docs_cli_md_holds_every_commands_help() -> None:
    from agentmux_companion.cli.options import COMMANDS, KEYRING_ACTIONS

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"## `agentmux-companion {name}`" in text
        assert f"usage: agentmux-companion {name} " in text
    for action in KEYRING_ACTIONS:
        assert f"usage: agentmux-companion keyring {action} " in text
    assert "usage: agentmux-companion-gui " in text


def test_readme_command_line_section_matches_the_parser() -> None:
    from agentmux_companion.cli.options import COMMANDS
    from agentmux_companion.core.errors import ExitCode

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Command line"):readme.index("## How the migration behaves")]
    listed = re.findall(r"^\| `(\w+)", section, flags=re.MULTILINE)
    assert listed == [*COMMANDS]
    for option in ("--home", "--agentmux-root", "--store", "--now-ms", "--json", "--wide", "-q", "-v"):
        assert f"`{option}" in section, option
    for code in ExitCode:
        assert f"| {int(code)} | {code.meaning} |" in section


@pytest.mark.parametrize(("shell", "name"), [("bash", "agentmux-companion.bash"), ("zsh", "_agentmux-companion"),
                                             ("fish", "agentmux-companion.fish")])
def test_completion_scripts_parse(shell: str, name: str) -> None:
    executable = shutil.which(shell)
    assert executable, f"{shell} is not installed (scripts/install-system-deps.sh installs it)"
    result = subprocess.run([executable, "-n", str(COMPLETIONS / name)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_bash_completion_completes_commands_and_options() -> None:
    script = COMPLETIONS / "agentmux-companion.bash"
    code = (f"source {script}\n"
            "COMP_WORDS=(agentmux-companion mig); COMP_CWORD=1\n"
            "_shtab_agentmux_companion agentmux-companion mig agentmux-companion; echo \"${COMPREPLY[@]}\"\n"
            "COMP_WORDS=(agentmux-companion doctor --ti); COMP_CWORD=2\n"
            "_shtab_agentmux_companion agentmux-companion --ti doctor; echo \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["migrate", "--timeout"]


def test_fish_completion_completes_commands() -> None:
    fish = shutil.which("fish")
    assert fish, "fish is not installed (scripts/install-system-deps.sh installs it)"
    code = f"source {COMPLETIONS / 'agentmux-companion.fish'}; complete -C 'agentmux-companion mig'"
    result = subprocess.run([fish, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("migrate\t")
