"""PySide6's support code, compiled at one start and kept for the next: 20-30 ms of every start.

At every start, PySide6 (``shiboken6``) runs the Python sources of its support package
(``shibokensupport``, 13 modules and a bootstrap embedded in ``libshiboken6`` as a zip) through
the built-in ``compile``. They never pass through the import system's file loader, so Python
keeps no bytecode for them, and they are compiled again every time: about 120 million
instructions, 20-30 ms here, about a fifth of PySide6's import (``make bench``,
docs/benchmarks.md). PySide6's own switch for this (``SBK_EMBED=0``) writes the sources into the
installed ``shiboken6`` package, which an application must not do to its environment; this keeps
the compiled code in the companion's own cache folder instead (a frozen build carries it
compiled: packaging/shiboken_support.py).

:func:`SupportCode.serving` wraps the first import of PySide6: while it runs, ``compile`` called
on a source compiled at an earlier start (the same bytes, file name, mode and ``__future__``
flags, on the same Python) returns that code; any other call is Python's own ``compile``, as
before. :meth:`SupportCode.save` writes what was compiled anew for the next start (once the
first plan is shown). The cache is a ``marshal`` file like Python's own ``__pycache__`` files,
in a folder of the user's only (0700), never read through a link or from another user's file; a
missing, unreadable or foreign file is ignored (PySide6 compiles as before) and replaced.

No Qt here: it has to run before PySide6 is imported.
"""

from __future__ import annotations
import __future__

import builtins
import contextlib
import logging
import marshal
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType

log = logging.getLogger(__name__)

#: The cache file's name in the companion's cache folder.
CACHE_FILE = "pyside-support-code.marshal"

#: Bytecode is only valid for the Python that compiled it (and the optimisation level it ran with).
PYTHON_KEY = (sys.implementation.cache_tag, sys.hexversion, sys.flags.optimize)

#: The ``__future__`` flags ``compile`` inherits from its caller when ``dont_inherit`` is false.
FUTURE_FLAGS = sum(getattr(__future__, name).compiler_flag for name in __future__.all_feature_names)

#: Larger files are not PySide6's cache (about 0.4 MB): never read whole.
MAX_CACHE_BYTES = 16 * 1024 * 1024

#: What a cached source is known by: its file name, mode and inherited ``__future__`` flags.
_Key = tuple[str, str, int]

#: Open the file itself, never a link in its place (0 where the platform has no such flag). The
#: same flags as core/paths.py's, not imported from there: reading runs before PySide6's import
#: with nothing but the standard library (so the benchmark's bare-window reference that keeps its
#: support code pays no more than this), and checks the file it opened (``fstat``), not the path
#: before opening it as ``check_private_file`` does. Writing uses core/paths.py's folder checks.
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class SupportCode:
    """The compiled support code kept in ``cache_dir``; see the module's docstring."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.path = cache_dir / CACHE_FILE
        self._kept: dict[_Key, tuple[bytes, CodeType]] = {}
        self._compiled: dict[_Key, tuple[bytes, CodeType]] = {}
        #: How many sources :meth:`serving` found kept, and how many it compiled.
        self.reused = self.compiled = 0
        self._reported = False

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """While in the block, ``compile`` reuses the kept code for a source it has already seen."""
        self._kept = self._read()
        original = builtins.compile

        def compile_or_reuse(source, filename, mode, flags=0, dont_inherit=False, optimize=-1, **kwargs):  # type: ignore[no-untyped-def]
            like_pysides = (isinstance(source, bytes) and isinstance(filename, str) and flags == 0
                            and not dont_inherit and optimize == -1 and not kwargs)
            if not dont_inherit:
                # compile inherits its caller's __future__ flags; called from here it would take
                # this module's: pass the caller's (PySide6's loader's, for its sources; a key).
                flags, dont_inherit = flags | (sys._getframe(1).f_code.co_flags & FUTURE_FLAGS), True
            if not like_pysides:
                return original(source, filename, mode, flags, dont_inherit, optimize, **kwargs)
            key = (filename, mode, flags)
            kept = self._kept.get(key)
            if kept is not None and kept[0] == source:
                self.reused += 1
                return kept[1]
            code = original(source, filename, mode, flags, True)
            self._compiled[key] = (source, code)
            self.compiled += 1
            return code

        builtins.compile = compile_or_reuse
        try:
            yield
        finally:
            builtins.compile = original

    @property
    def changed(self) -> bool:
        """Whether a source was compiled anew (missing from the cache, or changed): worth saving."""
        return bool(self._compiled)

    def save(self) -> None:
        """Write the code compiled in :meth:`serving` for the next start, if any was; never raises.

        Written to a new file beside the cache, then moved over it: a reader sees the old cache
        or the new one, never a part. The first call logs what this start did.
        """
        if not self._reported:
            self._reported = True
            support = getattr(sys.modules.get("shibokensupport"), "__spec__", None)
            log.info("PySide6's support code: %d modules compiled, %d kept from an earlier start; loaded from %s",
                     self.compiled, self.reused, getattr(support, "origin", None) or "PySide6's embedded copy")
        if not self._compiled:
            return
        from agentmux_companion.core.errors import UnsafePath
        from agentmux_companion.core.paths import check_private_file, ensure_private_dir

        entries = {**self._kept, **self._compiled}
        temp = self.path.with_name(f".{CACHE_FILE}.{os.getpid()}.tmp")
        try:
            ensure_private_dir(self.cache_dir)
            check_private_file(self.path, "cache")
            data = marshal.dumps((PYTHON_KEY, entries))
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _OPEN_FLAGS, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, self.path)
        except (OSError, UnsafePath, ValueError) as exc:
            log.info("PySide6's support code not cached: %s", exc)
            with contextlib.suppress(OSError):
                temp.unlink()
            return
        self._kept, self._compiled = entries, {}

    def _read(self) -> dict[_Key, tuple[bytes, CodeType]]:
        try:
            fd = os.open(self.path, os.O_RDONLY | _OPEN_FLAGS)
        except FileNotFoundError:
            return {}
        except OSError as exc:  # a link in its place among them
            log.info("PySide6's support code cache not read: %s", exc)
            return {}
        with os.fdopen(fd, "rb") as cache:
            info = os.fstat(fd)
            # Code is run from it: only a regular file of this user's (the folder is 0700 too).
            if not stat.S_ISREG(info.st_mode) or (hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
                log.info("PySide6's support code cache not read: %s is not a file of this user's", self.path)
                return {}
            data = cache.read(MAX_CACHE_BYTES + 1)
        if len(data) > MAX_CACHE_BYTES:
            return {}
        try:
            python, entries = marshal.loads(data)
        except (EOFError, ValueError, TypeError):  # a cut or foreign file: compiled anew, then replaced
            return {}
        if python != PYTHON_KEY or not isinstance(entries, dict):
            return {}
        return {key: value for key, value in entries.items() if _well_formed(key, value)}


def _well_formed(key: object, value: object) -> bool:
    return (isinstance(key, tuple) and len(key) == 3 and isinstance(key[0], str) and isinstance(key[1], str)
            and isinstance(key[2], int) and isinstance(value, tuple) and len(value) == 2
            and isinstance(value[0], bytes) and isinstance(value[1], CodeType))
