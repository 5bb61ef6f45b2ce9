"""PySide6's support code kept from one start to the next (src/agentmux_companion/pyside_support_code.py).

The real PySide6 runs in fresh processes (this one has loaded it already); the rules of the
cache itself (what is reused, what is compiled anew, what is never read) with ``compile`` calls
made the way PySide6's loader makes them.
"""

from __future__ import annotations

import builtins
import json
import marshal
import os
import re
import subprocess
import sys
from pathlib import Path
from types import CodeType
from typing import Any

import pytest

from agentmux_companion.core.paths import COMPANION_DIR_ENV, AppPaths
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.pyside_support_code import CACHE_FILE, PYTHON_KEY, SupportCode
from tests.helpers.schema import create_store

#: A fresh Python imports PySide6 through the cache in argv[1], reports what happened and what
#: PySide6's support code made of a few of its functions (their signatures come from it).
IMPORT_PYSIDE = """
import json, sys
from pathlib import Path
from agentmux_companion.pyside_support_code import SupportCode
support_code = SupportCode(Path(sys.argv[1]))
with support_code.serving():
    from PySide6 import QtCore, QtWidgets
from shibokensupport.signature import get_signature
def wrong_call():
    try:
        QtCore.QObject().setObjectName(1)
    except TypeError as exc:  # the message is the support code's
        return str(exc)
support_code.save()
print(json.dumps({
    "reused": support_code.reused, "compiled": support_code.compiled,
    "support": sorted(m for m in sys.modules if m.startswith("shibokensupport")),
    "signatures": [str(get_signature(f)) for f in (QtCore.QObject.setObjectName, QtWidgets.QLabel.setText)],
    "wrong call": wrong_call(),
}))
"""


def import_pyside(cache_dir: Path) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-c", IMPORT_PYSIDE, str(cache_dir)], capture_output=True, text=True,
                            timeout=60, check=True)
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_the_second_start_reuses_all_of_pysides_support_code_compiled_at_the_first(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    first = import_pyside(cache_dir)
    assert first["reused"] == 0
    assert first["compiled"] == len(first["support"]) + 1  # and PySide6's bootstrap
    assert (cache_dir / CACHE_FILE).is_file()
    if os.name == "posix":
        assert (cache_dir.stat().st_mode & 0o777, (cache_dir / CACHE_FILE).stat().st_mode & 0o777) == (0o700, 0o600)
    written = (cache_dir / CACHE_FILE).read_bytes()

    second = import_pyside(cache_dir)
    assert (second["reused"], second["compiled"]) == (first["compiled"], 0)
    assert second["support"] == first["support"]
    assert second["signatures"] == first["signatures"]
    assert first["signatures"] == ["(self, name: str, /) -> None", "(self, arg__1: str, /) -> None"]
    assert second["wrong call"] == first["wrong call"]
    assert "setObjectName" in str(first["wrong call"])
    assert (cache_dir / CACHE_FILE).read_bytes() == written  # nothing new: not written again


def support_compile(source: bytes | str, filename: str = "shibokensupport/example.py") -> CodeType:
    """``compile`` called as PySide6's loader calls it (from a module with postponed annotations)."""
    return compile(source, filename, "exec")


def test_the_same_source_gets_the_kept_code_and_a_changed_one_is_compiled_anew(tmp_path: Path) -> None:
    first = SupportCode(tmp_path)
    with first.serving():
        kept = support_compile(b"x = 1\n")
    first.save()

    second = SupportCode(tmp_path)
    with second.serving():
        same = support_compile(b"x = 1\n")
        changed = support_compile(b"x = 2\n")
    assert (second.reused, second.changed) == (1, True)
    assert same == kept
    namespace: dict[str, object] = {}
    exec(changed, namespace)  # the code compiled from the changed source
    assert namespace["x"] == 2
    second.save()
    third = SupportCode(tmp_path)
    with third.serving():
        support_compile(b"x = 2\n")
    assert (third.reused, third.changed) == (1, False)


def caller_without_future_flags(source: bytes | str) -> CodeType:
    """``compile`` called from a function compiled without this module's ``__future__`` import."""
    namespace: dict[str, object] = {}
    exec(compile("def call(source): return compile(source, 'shibokensupport/example.py', 'exec')",
                 "<caller>", "exec", dont_inherit=True), namespace)
    return namespace["call"](source)  # type: ignore[operator, no-any-return]


def test_any_other_compile_call_still_inherits_its_callers_future_flags_not_the_caches(tmp_path: Path) -> None:
    # Text is not PySide6's (it is compiled as before, never kept): from a caller without the
    # __future__ import, annotations are evaluated, as without the cache in place.
    with SupportCode(tmp_path).serving():
        evaluated = caller_without_future_flags("def f(a: undefined_name) -> None: pass\n")
        postponed = support_compile("def f(a: undefined_name) -> None: pass\n")
    with pytest.raises(NameError):
        exec(evaluated, {})
    exec(postponed, {})


def test_the_callers_future_flags_are_kept_with_the_code(tmp_path: Path) -> None:
    # PySide6's loader has `from __future__ import annotations`, which compile inherits: the code
    # must be what Python's own compile gives that caller, and kept apart from another caller's.
    source = b"def f(a: undefined_name) -> None: pass\n"
    support_code = SupportCode(tmp_path)
    with support_code.serving():
        postponed = support_compile(source)
        evaluated = caller_without_future_flags(source)
    assert support_code.reused == 0
    namespace: dict[str, object] = {}
    exec(postponed, namespace)  # annotations postponed: the name is never looked up
    with pytest.raises(NameError):
        exec(evaluated, {})
    assert namespace["f"].__annotations__ == {"a": "undefined_name", "return": "None"}
    assert postponed == compile(source, "shibokensupport/example.py", "exec")


@pytest.mark.parametrize("call", [
    lambda: compile("x = 1", "shibokensupport/example.py", "exec"),  # text, not PySide6's bytes
    lambda: compile(b"x = 1", "shibokensupport/example.py", "exec", dont_inherit=True),
    lambda: compile(b"x = 1", "shibokensupport/example.py", "exec", optimize=2),
    lambda: compile(b"x + 1", "<expression>", "eval", 0x400),  # other flags (PyCF_ONLY_AST is 0x400)
], ids=["text", "dont_inherit", "optimize", "flags"])
def test_other_compile_calls_are_pythons_own_and_never_kept(tmp_path: Path, call: object) -> None:
    support_code = SupportCode(tmp_path)
    with support_code.serving():
        call()  # type: ignore[operator]
    assert not support_code.changed
    support_code.save()
    assert not (tmp_path / CACHE_FILE).exists()


def test_compile_is_pythons_own_again_after_the_block_even_after_an_error(tmp_path: Path) -> None:
    original = builtins.compile
    replaced = []

    def failing_import() -> None:
        with SupportCode(tmp_path).serving():
            replaced.append(builtins.compile is not original)
            raise ImportError("PySide6 failed to load")

    with pytest.raises(ImportError):
        failing_import()
    assert replaced == [True]
    assert builtins.compile is original


@pytest.mark.parametrize("content", [
    b"",
    b"not marshal data at all",
    marshal.dumps((PYTHON_KEY, {("shibokensupport/example.py", "exec", 0x1000000): (b"x = 1\n", b"no code")})),
    marshal.dumps((("cpython-00", 0, 0), {})),  # another Python's
], ids=["empty", "garbage", "not code", "another python"])
def test_a_bad_cache_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    (tmp_path / CACHE_FILE).write_bytes(content)
    support_code = SupportCode(tmp_path)
    with support_code.serving():
        support_compile(b"x = 1\n")
    assert (support_code.reused, support_code.changed) == (0, True)
    support_code.save()
    again = SupportCode(tmp_path)
    with again.serving():
        support_compile(b"x = 1\n")
    assert again.reused == 1


def test_a_cut_cache_is_ignored(tmp_path: Path) -> None:
    first = SupportCode(tmp_path)
    with first.serving():
        support_compile(b"x = 1\n" * 1000)
    first.save()
    data = (tmp_path / CACHE_FILE).read_bytes()
    (tmp_path / CACHE_FILE).write_bytes(data[: len(data) // 2])
    second = SupportCode(tmp_path)
    with second.serving():
        support_compile(b"x = 1\n" * 1000)
    assert second.reused == 0


@pytest.mark.skipif(os.name != "posix", reason="links and modes: the POSIX case")
def test_a_link_in_the_caches_place_is_never_read_nor_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    first = SupportCode(elsewhere)
    with first.serving():
        support_compile(b"x = 1\n")
    first.save()
    planted = (elsewhere / CACHE_FILE).read_bytes()
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    (cache_dir / CACHE_FILE).symlink_to(elsewhere / CACHE_FILE)

    support_code = SupportCode(cache_dir)
    with support_code.serving():
        support_compile(b"x = 1\n")
        support_compile(b"y = 2\n")
    assert support_code.reused == 0
    support_code.save()  # refused, and says so in the log only: a cache is not worth an error
    assert (cache_dir / CACHE_FILE).is_symlink()
    assert (elsewhere / CACHE_FILE).read_bytes() == planted


def test_a_cache_folder_it_cannot_use_leaves_the_start_as_it_was(tmp_path: Path) -> None:
    in_the_way = tmp_path / "cache"
    in_the_way.write_text("a file where the cache folder goes")
    support_code = SupportCode(in_the_way)
    with support_code.serving():
        code = support_compile(b"x = 1\n")
    support_code.save()  # refused, and said in the log only
    assert in_the_way.read_text() == "a file where the cache folder goes"
    namespace: dict[str, object] = {}
    exec(code, namespace)
    assert namespace["x"] == 1


def test_the_cache_folder_is_the_companions_and_the_sandboxs_when_one_is_given(tmp_path: Path) -> None:
    assert AppPaths.resolve(env={COMPANION_DIR_ENV: str(tmp_path)}).cache_dir == tmp_path / "cache"
    real = AppPaths.resolve(env={"HOME": str(tmp_path)})
    assert real.cache_dir != real.data_dir
    assert "agentmux-companion" in str(real.cache_dir)


def test_the_companion_keeps_it_from_its_first_start_in_the_users_cache_folder(tmp_path: Path) -> None:
    # A real start (--smoke, on a store) in a private profile: the first writes the cache in the
    # companion's cache folder, the second finds everything in it and writes nothing.
    store = create_store(tmp_path / "s" / "objects.db", StoreShape.WITH_AGENTS)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cache = AppPaths.resolve(env=env).cache_dir / CACHE_FILE

    def start() -> None:
        result = subprocess.run([sys.executable, "-m", "agentmux_companion", "gui", "--smoke", f"--store={store}"],
                                env=env, capture_output=True, text=True, timeout=60, check=False)
        assert (result.returncode, result.stdout) == (0, "window shown\nready nothing_to_do\n"), result.stderr

    start()
    written = cache.stat()
    start()
    assert (cache.stat().st_mtime_ns, cache.stat().st_ino) == (written.st_mtime_ns, written.st_ino)
    assert str(cache).startswith(os.environ["XDG_CACHE_HOME"])
    said = re.findall(r"PySide6's support code: (\d+) modules compiled, (\d+) kept from an earlier start; "
                      r"loaded from (.*)", AppPaths.resolve(env=env).log_file.read_text(encoding="utf-8"))
    compiled = int(said[0][0])
    assert compiled > 10
    assert said == [(str(compiled), "0", "PySide6's embedded copy"), ("0", str(compiled), "PySide6's embedded copy")]


def test_an_oversized_cache_is_never_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = SupportCode(tmp_path)
    with first.serving():
        support_compile(b"x = 1\n")
    first.save()
    monkeypatch.setattr("agentmux_companion.pyside_support_code.MAX_CACHE_BYTES",
                        (tmp_path / CACHE_FILE).stat().st_size - 1)
    second = SupportCode(tmp_path)
    with second.serving():
        support_compile(b"x = 1\n")
    assert (second.reused, second.compiled) == (0, 1)
