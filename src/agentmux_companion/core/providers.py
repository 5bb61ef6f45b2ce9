"""The provider registry, loaded from ``resources/providers.toml`` (docs/agentmux-store.md §5).

The registry is data: adding an OAuth provider means adding an entry to the TOML file. Loading
validates it, so a malformed entry fails at start-up with a message naming the entry rather than
misbehaving later.

The package reads the shipped registry from ``resources/providers.json``, the same document
written as JSON by ``scripts/gen_registry_json.py`` (``make registry-json``; a test fails when
the two differ): importing Python's TOML parser and parsing the file were some 14 million
instructions, 2 ms, of every start of the command line and the window, and the JSON reader is
loaded already (the credentials files are JSON). The TOML file stays the one people edit, and a
registry given by path is read as TOML.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.errors import CompanionError

_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_ENV_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
CREDENTIALS_FILE_NAME = ".credentials.json"
# Read as plain files beside the package (a frozen build keeps that layout, packaging/*.spec):
# importlib.resources would load its readers and zipfile on the way to the first window.
SHIPPED_REGISTRY = Path(__file__).parents[1] / "resources" / "providers.toml"
#: :data:`SHIPPED_REGISTRY` as JSON, which the package reads (the module's docstring says why).
SHIPPED_REGISTRY_JSON = SHIPPED_REGISTRY.with_suffix(".json")


class Provider(NamedTuple):
    """One provider of the registry.

    Attributes:
        id: provider id as AgentMux stores it (``claude``).
        display_name: the name shown to people (``Claude Code``).
        oauth: whether the bundle-era migration seeds it from ambient credentials.
        auth_dir: the CLI's folder is ``<home>/.<auth_dir>``.
        config_env: the variable AgentMux sets to point the CLI at that folder ('' if none).
        note: a known reality to show next to the provider ('' if none).
        note_macos: like ``note``, shown only on macOS.
    """

    id: str
    display_name: str
    oauth: bool
    auth_dir: str
    config_env: str = ""
    note: str = ""
    note_macos: str = ""

    def config_dir(self, home: Path) -> Path:
        """The CLI's own folder under ``home``: what an account's secret_ref points at."""
        return home / f".{self.auth_dir}"

    def credentials_path(self, home: Path) -> Path:
        """The ambient credentials file AgentMux's rule looks at."""
        return self.config_dir(home) / CREDENTIALS_FILE_NAME

    def notes(self, platform: str = sys.platform) -> tuple[str, ...]:
        """Known realities to show for this provider on ``platform``."""
        found = [self.note] if self.note else []
        if platform == "darwin" and self.note_macos:
            found.append(self.note_macos)
        return tuple(found)


class ProviderRegistry(NamedTuple):
    """All providers, in registry order (the migration's order for OAuth ones)."""

    providers: tuple[Provider, ...]

    @property
    def oauth_providers(self) -> tuple[Provider, ...]:
        """The providers that log in with OAuth, the only ones the migration handles."""
        return tuple(p for p in self.providers if p.oauth)

    def get(self, provider_id: str) -> Provider | None:
        """The provider with id ``provider_id``, or None if the registry has none."""
        return next((p for p in self.providers if p.id == provider_id), None)

    @classmethod
    def from_toml(cls, text: str, source: str = "providers.toml") -> ProviderRegistry:
        """Parse and validate a registry document.

        Raises:
            CompanionError: the document is not valid TOML or an entry is malformed.
        """
        import tomllib  # only for a registry given by path (and the JSON's generator)

        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CompanionError(f"{source}: not valid TOML ({exc})") from exc
        return cls.from_document(document, source)

    @classmethod
    def from_document(cls, document: Any, source: str) -> ProviderRegistry:
        """Validate a parsed registry document (from TOML or its JSON twin).

        Raises:
            CompanionError: an entry is malformed.
        """
        entries = document.get("provider") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise CompanionError(f"{source}: expected at least one [[provider]] entry")
        providers = tuple(_parse_entry(entry, index, source) for index, entry in enumerate(entries))
        seen: set[str] = set()
        for provider in providers:
            if provider.id in seen:
                raise CompanionError(f"{source}: provider {provider.id!r} is listed twice")
            seen.add(provider.id)
        return cls(providers)


def _parse_entry(entry: Any, index: int, source: str) -> Provider:
    where = f"{source}: provider #{index + 1}"
    if not isinstance(entry, dict):
        raise CompanionError(f"{where}: expected a table")
    known = {"id", "display_name", "oauth", "auth_dir", "config_env", "note", "note_macos"}
    unknown = set(entry) - known
    if unknown:
        raise CompanionError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    provider_id = entry.get("id")
    if not isinstance(provider_id, str) or not _ID_RE.match(provider_id):
        raise CompanionError(f"{where}: 'id' must be a lowercase identifier")
    where = f"{source}: provider {provider_id!r}"
    oauth = entry.get("oauth")
    if not isinstance(oauth, bool):
        raise CompanionError(f"{where}: 'oauth' must be true or false")
    auth_dir = entry.get("auth_dir", provider_id)
    if not isinstance(auth_dir, str) or not _ID_RE.match(auth_dir):
        raise CompanionError(f"{where}: 'auth_dir' must be a plain folder name")
    config_env = entry.get("config_env", "")
    if not isinstance(config_env, str) or (config_env and not _ENV_RE.match(config_env)):
        raise CompanionError(f"{where}: 'config_env' must be an environment variable name")
    if oauth and not config_env:
        raise CompanionError(f"{where}: an OAuth provider needs 'config_env'")
    texts = {}
    for field in ("display_name", "note", "note_macos"):
        value = entry.get(field, provider_id if field == "display_name" else "")
        if not isinstance(value, str):
            raise CompanionError(f"{where}: '{field}' must be text")
        texts[field] = value
    return Provider(
        id=provider_id,
        display_name=texts["display_name"],
        oauth=oauth,
        auth_dir=auth_dir,
        config_env=config_env,
        note=texts["note"],
        note_macos=texts["note_macos"],
    )


def load_registry(path: Path | None = None) -> ProviderRegistry:
    """Load the registry shipped with the package (:data:`SHIPPED_REGISTRY`), or the TOML one at ``path``."""
    if path is not None:
        return ProviderRegistry.from_toml(path.read_text(encoding="utf-8"), str(path))
    source = str(SHIPPED_REGISTRY_JSON)
    try:
        document = json.loads(SHIPPED_REGISTRY_JSON.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CompanionError(f"{source}: not valid JSON ({exc})") from exc
    return ProviderRegistry.from_document(document, source)
