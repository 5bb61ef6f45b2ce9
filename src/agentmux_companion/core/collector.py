"""When Python's cycle collector runs: not while the program starts, not again as it exits.

Start-up creates tens of thousands of objects that live as long as the process (modules,
classes, functions, the GUI toolkit's wrappers) and almost no cyclic garbage, yet the collector runs
every 700 new objects and walks the older ones again and again: about a tenth of the tray
companion's time to its first plan (``make bench``). And at exit, Python runs it over every object
once more. So the GUI pauses it until the first plan is on screen (:func:`pause_for_start_up`,
:func:`resume_after_start_up`), then collects once and freezes what start-up made, so later
collections skip it; and the command-line program freezes everything before its exit
(:func:`skip_collections_at_exit`). Reference counting frees everything else as usual the whole
time; only cycles wait.
"""

from __future__ import annotations

import gc


def pause_for_start_up() -> bool:
    """Stop automatic collections until :func:`resume_after_start_up`; whether they were on."""
    was_enabled = gc.isenabled()
    gc.disable()
    return was_enabled


def resume_after_start_up(was_enabled: bool) -> None:
    """Collect the start-up's garbage once, keep what survives out of later collections, and resume.

    Call it when the program has nothing urgent to do (after the first plan is painted); once
    collections are on again, calling it does nothing.
    """
    if not was_enabled or gc.isenabled():
        return
    gc.collect()
    gc.freeze()
    gc.enable()


def skip_collections_at_exit() -> None:
    """Keep every object out of the collections Python runs as it exits.

    Only for a program about to exit whose files, stores and connections are closed by the code
    that opened them: finalizers of objects in cycles will not run (exit hooks, such as logging's
    flush, and reference-counted clean-ups still do).
    """
    gc.freeze()
