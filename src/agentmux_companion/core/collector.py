"""When Python's cycle collector runs: not while the program starts, not again as it exits.

Start-up creates tens of thousands of objects that live as long as the process (modules,
classes, functions, the GUI toolkit's wrappers) and almost no cyclic garbage, yet the collector runs
every 700 new objects and walks the older ones again and again: about a tenth of the tray
companion's time to its first plan (``make bench``). And at exit, Python runs it over every object
once more. So the programs pause it from their first line (:func:`pause_for_start_up`, called by
:mod:`agentmux_companion.entry_points` before anything is imported): the command line until its
command is parsed, the GUI until its first plan is on screen (:func:`resume_after_start_up`); then
what start-up made is frozen, so later collections skip it (the GUI collects once first). And the
command-line program freezes everything before its exit (:func:`skip_collections_at_exit`).
Reference counting frees everything else as usual the whole time; only cycles wait.
"""

from __future__ import annotations

import gc

#: Whether :func:`pause_for_start_up` turned the collector off (and :func:`resume_after_start_up`
#: has not turned it back on yet). The collector is the process's; so is this.
_paused_for_start_up = False


def pause_for_start_up() -> None:
    """Stop automatic collections until :func:`resume_after_start_up`.

    The programs' entry points call it before anything else loads (:mod:`agentmux_companion.entry_points`),
    the GUI launcher again for a start that came another way; a second call does nothing, and
    neither does a call while collections are off (someone else's choice, left as it is).
    """
    global _paused_for_start_up
    if gc.isenabled():
        gc.disable()
        _paused_for_start_up = True


def resume_after_start_up(*, collect: bool = True) -> None:
    """Resume the collections :func:`pause_for_start_up` stopped, with what start-up made frozen out of them.

    ``collect``: collect start-up's garbage first, for a program with nothing urgent to do (the
    GUI, once its first plan is painted). Without it (a command about to run) the little garbage
    start-up made is frozen with the rest. Does nothing if the collections were not paused here.
    """
    global _paused_for_start_up
    if not _paused_for_start_up:
        return
    _paused_for_start_up = False
    if collect:
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
