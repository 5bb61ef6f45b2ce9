"""The provider registry (docs/agentmux-store.md §5): data, loaded and validated; a new provider needs no code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentmux_companion.core import providers
from agentmux_companion.core.errors import CompanionError
from agentmux_companion.core.migration.plan import Action, build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import SHIPPED_REGISTRY, ProviderRegistry, load_registry
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.stores import NOW_MS, build_store, generic_creds, rows, write_creds

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_json_is_the_toml_registry_as_generated() -> None:
    # The package reads providers.json (no TOML parser at start-up); people edit providers.toml.
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_registry_json.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert load_registry() == ProviderRegistry.from_toml(SHIPPED_REGISTRY.read_text(encoding="utf-8"))


def test_a_damaged_shipped_registry_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = tmp_path / "providers.json"
    damaged.write_text('{"provider": [', encoding="utf-8")
    monkeypatch.setattr(providers, "SHIPPED_REGISTRY_JSON", damaged)
    with pytest.raises(CompanionError, match=r"providers\.json: not valid JSON"):
        load_registry()
    damaged.write_text('{"provider": [{"id": "claude", "oauth": "yes"}]}', encoding="utf-8")
    with pytest.raises(CompanionError, match=r"providers\.json: provider 'claude': 'oauth' must be true or false"):
        load_registry()


def test_shipped_registry_order_and_classes() -> None:
    registry = load_registry()
    assert [p.id for p in registry.oauth_providers] == ["claude", "codex", "openclaw"]
    assert [p.id for p in registry.providers][:3] == ["claude", "codex", "openclaw"]
    non_oauth = {p.id for p in registry.providers if not p.oauth}
    assert {"gemini", "kimi", "pi", "qwen", "copilot", "muxcode", "antigravity"} <= non_oauth
    envs = {p.id: p.config_env for p in registry.oauth_providers}
    assert envs == {"claude": "CLAUDE_CONFIG_DIR", "codex": "CODEX_HOME", "openclaw": "OPENCLAW_HOME"}
    claude = registry.get("claude")
    assert claude is not None
    assert claude.credentials_path(Path("/h")) == Path("/h/.claude/.credentials.json")
    assert claude.notes("darwin")
    assert not claude.notes("linux")
    assert registry.get("nope") is None


NEW_PROVIDER = """
[[provider]]
id = "claude"
oauth = true
config_env = "CLAUDE_CONFIG_DIR"

[[provider]]
id = "newcli"
display_name = "New CLI"
oauth = true
auth_dir = "newcli-auth"
config_env = "NEWCLI_HOME"
"""


def test_a_new_oauth_provider_needs_only_an_entry(tmp_path: Path, private_home: Path) -> None:
    toml = tmp_path / "providers.toml"
    toml.write_text(NEW_PROVIDER, encoding="utf-8")
    registry = load_registry(toml)
    assert [p.id for p in registry.oauth_providers] == ["claude", "newcli"]
    newcli = registry.get("newcli")
    assert newcli is not None
    assert newcli.display_name == "New CLI"
    assert newcli.credentials_path(private_home) == private_home / ".newcli-auth" / ".credentials.json"

    # And the whole plan/apply path takes it as it is.
    write_creds(private_home, "newcli-auth", generic_creds())
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS)
    paths = AppPaths.resolve(private_home)
    from agentmux_companion.core.migration.apply import apply_plan
    from agentmux_companion.core.store import explicit_locations

    plan = build_plan(paths, registry, explicit_locations([store]), NOW_MS)
    assert [(p.provider, p.action) for p in plan.stores[0].providers] == [
        ("claude", Action.SKIP_NO_AMBIENT), ("newcli", Action.BIND)]
    [result] = apply_plan(plan, paths, registry)
    assert result.outcome == "migrated"
    assert result.stats.providers_seeded == 1
    assert rows(store, "SELECT name, provider, secret_ref FROM db_identity_accounts") == [
        ("newcli-oauth", "newcli",
         '{"backend":"o_auth_config_dir","dir":"' + str(private_home / ".newcli-auth") + '"}')]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[provider]\nid = ", "not valid TOML"),
        ("title = 'x'", "expected at least one [[provider]] entry"),
        ("provider = 3", "expected at least one [[provider]] entry"),
        ("[[provider]]\noauth = false", "provider #1: 'id' must be a lowercase identifier"),
        ("[[provider]]\nid = 'Claude'\noauth = false", "'id' must be a lowercase identifier"),
        ("[[provider]]\nid = 'x'", "provider 'x': 'oauth' must be true or false"),
        ("[[provider]]\nid = 'x'\noauth = 'yes'", "'oauth' must be true or false"),
        ("[[provider]]\nid = 'x'\noauth = true", "provider 'x': an OAuth provider needs 'config_env'"),
        ("[[provider]]\nid = 'x'\noauth = true\nconfig_env = 'x_home'", "'config_env' must be"),
        ("[[provider]]\nid = 'x'\noauth = false\nauth_dir = '../etc'", "'auth_dir' must be a plain folder name"),
        ("[[provider]]\nid = 'x'\noauth = false\ndisplay_name = 3", "'display_name' must be text"),
        ("[[provider]]\nid = 'x'\noauth = false\ncolour = 'red'", "unknown field(s) colour"),
        ("[[provider]]\nid = 'x'\noauth = false\n[[provider]]\nid = 'x'\noauth = false",
         "provider 'x' is listed twice"),
    ],
)
def test_invalid_entries_give_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(CompanionError) as raised:
        load_registry(toml)
    assert message in raised.value.message
    assert str(toml) in raised.value.message  # the file is named
