"""Fixtures of the keyring snapshot tests: a real Secret Service, in-memory backends, stores.

``secret_service`` is one private gnome-keyring for the session (tests use fresh account ids,
so they never see each other's entries); tests that lock or freeze the keyring get their own
(``private_secret_service``), which starts in well under a second.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import uuid
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentmux_companion.core import sandbox as sb
from agentmux_companion.core.keyring.ledger import ledger_path
from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.providers import load_registry
from tests.helpers.schema import Era, create_store
from tests.helpers.secret_service import SecretService, start_secret_service

NOW_MS = sb.DEMO_NOW_MS
HOUR_MS = 3_600_000


@contextmanager
def using_keyring(backend: Any) -> Iterator[Any]:
    """Make ``backend`` keyring's default (``keyring.set_keyring``), restoring the previous one."""
    import keyring
    import keyring.core

    previous = keyring.core._keyring_backend
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.core._keyring_backend = previous  # set_keyring() refuses None, "not chosen yet"


@pytest.fixture(autouse=True)
def _collect_keyring_library_leaks() -> Iterator[None]:
    """Collect D-Bus sockets that keyring's SecretService backend leaves open on failure.

    When unlocking fails (``KeyringLocked``, ``InitError``) the backend raises before its
    ``closing(collection.connection)``, so the socket is only closed by the garbage collector,
    with a ResourceWarning that the suite's "warnings are errors" would turn into an error in
    whichever later test happens to trigger a collection. Collect them here, on purpose.
    """
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretService]:
    service = start_secret_service(tmp_path_factory.mktemp("secret-service"))
    yield service
    service.stop()


def _point_at(service: SecretService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def real_keyring(secret_service: SecretService, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """This process talks to the session's gnome-keyring through keyring's SecretService backend."""
    from keyring.backends import SecretService as SecretServiceBackend

    _point_at(secret_service, monkeypatch)
    with using_keyring(SecretServiceBackend.Keyring()):
        yield secret_service


@pytest.fixture
def private_secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """A gnome-keyring of this test alone (to lock or freeze), selected like ``real_keyring``."""
    from keyring.backends import SecretService as SecretServiceBackend

    service = start_secret_service(tmp_path / "private-secret-service")
    _point_at(service, monkeypatch)
    try:
        with using_keyring(SecretServiceBackend.Keyring()):
            yield service
    finally:
        service.stop()


# --------------------------------------------------------------------------------------------
# Homes and stores with bound accounts


def planted(label: str) -> str:
    """A token string unique to one test, shaped so no redaction pattern would catch it."""
    return f"PLANTED{label}{uuid.uuid4().hex}"


@dataclass
class Scenario:
    """A home with credentials, a migrated store binding them, and the companion's paths."""

    home: Path
    store: Path
    paths: AppPaths
    tokens: list[str]

    def credentials(self, provider: str) -> Path:
        return self.home / f".{provider}" / ".credentials.json"

    def account_id(self, provider: str) -> str:
        with closing(sqlite3.connect(self.store)) as conn:
            row = conn.execute(
                "SELECT account_id FROM db_identity_bindings WHERE identity_id = 'default' AND provider = ?",
                (provider,),
            ).fetchone()
        assert row is not None, f"{provider} is not bound"
        return str(row[0])

    def refresh(self, provider: str) -> str:
        """What the CLI does on a token refresh: rewrite its file with new tokens."""
        access, refresh = planted("RefreshedAccess"), planted("RefreshedRefresh")
        self.tokens += [access, refresh]
        self.credentials(provider).write_text(
            sb.claude_credentials(access, refresh, NOW_MS + 8 * HOUR_MS), encoding="utf-8")
        return access

    @property
    def ledger(self) -> Path:
        return ledger_path(self.paths)

    def cli_env(self, service: SecretService | None) -> dict[str, str]:
        """Environment for the CLI as a child process: this home, this companion dir, that bus."""
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env[COMPANION_DIR_ENV] = str(self.paths.data_dir.parent)
        env["HOME"] = str(self.home)
        if service is not None:
            env["DBUS_SESSION_BUS_ADDRESS"] = service.address
        else:
            env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return env


def migrated_scenario(root: Path, claude_text: str | None = None) -> Scenario:
    """Claude and codex logged in, a bundle-era store migrated by the real engine."""
    home = root / "home"
    tokens = [planted("ClaudeAccess"), planted("ClaudeRefresh"), planted("CodexAccess"), planted("CodexRefresh")]
    sb.write_credentials(home, "claude", claude_text or sb.claude_credentials(tokens[0], tokens[1], NOW_MS + HOUR_MS))
    sb.write_credentials(home, "codex", sb.generic_credentials(tokens[2], tokens[3], NOW_MS - HOUR_MS))
    root_dir = home / ".agentmux"
    store = root_dir / "channels" / "stable" / "versions" / "0.33.4" / "data" / "db" / "objects.db"
    create_store(store, Era.WITH_AGENTS)  # pointer semantics: accounts on the CLI folders
    env = {"HOME": str(home), COMPANION_DIR_ENV: str(root / "companion")}
    paths = AppPaths.resolve(home, None, env)
    registry = load_registry()
    results = apply_plan(build_plan(paths, registry, None, NOW_MS), paths, registry)
    assert [r.outcome for r in results] == ["migrated"]
    return Scenario(home, store, paths, tokens)


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return migrated_scenario(tmp_path)
