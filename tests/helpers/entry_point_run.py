"""Running an installed program's entry point in a fresh Python, as its script does, and watching the collector."""

from __future__ import annotations


def counting_collections(group: str, name: str, prepare: str = "") -> str:
    """The start of a program that loads the entry point ``name`` of ``group`` from the installed metadata.

    It defines ``program`` (the entry point's function, loaded) and ``collections`` (the generation
    of every cycle collection from just before the entry point's module loads); the caller's code
    follows. ``prepare`` runs before the counting starts (what the caller defines there cannot
    trigger a collection that would be counted).
    """
    return (
        "import gc, sys\n"
        "from importlib.metadata import entry_points\n"
        "collections = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and collections.append(info['generation']))\n"
        f"(script,) = entry_points(group={group!r}, name={name!r})\n"
        f"{prepare}"
        # A collection now empties the youngest generation: loading the entry point's small module
        # (some 200 new objects) then cannot reach the 700 that start the next one on its own.
        "gc.collect()\n"
        "collections.clear()\n"
        "program = script.load()\n"
    )
