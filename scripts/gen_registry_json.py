"""Write resources/providers.json, the provider registry as the package reads it, from providers.toml.

The TOML file is the one people edit (docs/agentmux-store.md §5); the package reads its JSON
twin, which needs no TOML parser at start-up (``core/providers.py`` says why). Run it after
changing providers.toml; ``--check`` (run by the tests) fails when the JSON is out of date.

    python scripts/gen_registry_json.py          # rewrite providers.json
    python scripts/gen_registry_json.py --check  # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib

from agentmux_companion.core.providers import SHIPPED_REGISTRY, SHIPPED_REGISTRY_JSON, ProviderRegistry


def render() -> str:
    """The JSON text for the TOML registry, validated first (a bad entry is reported, not written)."""
    text = SHIPPED_REGISTRY.read_text(encoding="utf-8")
    ProviderRegistry.from_toml(text, str(SHIPPED_REGISTRY))
    return json.dumps(tomllib.loads(text), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if providers.json is out of date")
    args = parser.parse_args()
    wanted = render()
    current = SHIPPED_REGISTRY_JSON.read_text(encoding="utf-8") if SHIPPED_REGISTRY_JSON.exists() else ""
    if args.check:
        if current != wanted:
            sys.stderr.write(f"{SHIPPED_REGISTRY_JSON} is out of date: run `make registry-json`\n")
            return 1
        return 0
    if current != wanted:
        SHIPPED_REGISTRY_JSON.write_text(wanted, encoding="utf-8")
        print(f"wrote {SHIPPED_REGISTRY_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
