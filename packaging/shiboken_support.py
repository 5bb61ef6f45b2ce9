"""PySide6's support code, compiled at build time into the frozen folder (``shiboken6/files.dir``).

PySide6 (``shiboken6``) runs the Python sources of its support package (``shibokensupport``,
embedded in ``libshiboken6`` as a zip) through ``compile`` at every start, 20-30 ms that Python's
bytecode cache never sees. An installed companion keeps that code in its cache folder
(``src/agentmux_companion/pyside_support_code.py``), but in a frozen build PyInstaller's PySide6
run-time hook imports PySide6 before any code of ours runs. PySide6 itself loads the package
from files instead when a ``files.dir`` folder is beside ``shiboken6`` (what its ``SBK_EMBED=0``
switch writes into an installation): this writes that folder for the frozen build, the sources as
PySide6 would and their bytecode in ``__pycache__``, so each start imports it as compiled code.
The folder is the build's own; the build environment's ``shiboken6`` is never written to.

Run as a script by the spec (``python shiboken_support.py OUT_DIR``) in a child process, so
PySide6 loads outside PyInstaller's own process. Prints the files written, one per line.
"""

from __future__ import annotations

import importlib.util
import py_compile
import sys
from pathlib import Path, PurePosixPath

#: Where PySide6 looks for the folder, relative to the frozen app's ``_internal``.
FILES_DIR = PurePosixPath("shiboken6") / "files.dir"


def embedded_sources() -> dict[str, bytes]:
    """The support package's sources as PySide6 embeds them: path in its zip -> bytes."""
    import PySide6.QtCore  # noqa: F401  (loads shiboken6, which unpacks its support package)

    loader = getattr(sys.modules.get("shibokensupport"), "__loader__", None)
    archive = getattr(loader, "zfile", None)  # shiboken6's EmbeddableZipImporter keeps the zip here
    if archive is None:
        raise SystemExit("shiboken6 no longer embeds its support package as before: "
                         "packaging/shiboken_support.py needs a look")
    return {name: archive.read(name) for name in archive.namelist()
            if name.startswith("shibokensupport/") and name.endswith(".py")}


def write_support_files(out_dir: Path) -> list[Path]:
    """Writes ``files.dir`` under ``out_dir``: each source, and its bytecode for this Python."""
    written: list[Path] = []
    for name, source in sorted(embedded_sources().items()):
        target = out_dir / FILES_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source)
        cached = Path(importlib.util.cache_from_source(str(target)))
        # Unchecked: PyInstaller need not keep the sources' times, and the pair never changes
        # apart (a new PySide6 means a new build).
        py_compile.compile(str(target), cfile=str(cached), dfile=name, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        written += [target, cached]
    return written


def main(argv: list[str]) -> int:
    for path in write_support_files(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
