"""Human and JSON output: tables that fit the terminal, one JSON document, quiet and progress.

The width is ``$COLUMNS``, else the terminal's, else 80. Tables shrink their flexible columns to
fit: paths lose their middle (the file name and the root stay), prose wraps; ``--wide`` prints
every value in full on one line. With ``--json`` stdout carries exactly one JSON document and
everything else goes to stderr; ``-q`` silences everything but errors.
"""

from __future__ import annotations

import enum
import io
import json
import os
import sys
from collections.abc import Sequence
from itertools import zip_longest
from typing import Any, NamedTuple, TextIO

from agentmux_companion.core.log import redact

DEFAULT_WIDTH = 80
MIN_WIDTH = 40  # below this, tables would be unreadable anyway: render as if this wide
GAP = "  "
ELLIPSIS = "…"


def terminal_width(stream: TextIO | None = None) -> int:
    """``$COLUMNS`` if set, else the terminal's width (``stream``, default stdout), else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(MIN_WIDTH, int(columns))
    stream = stream or sys.stdout
    try:
        if stream.isatty():
            return max(MIN_WIDTH, os.get_terminal_size(stream.fileno()).columns)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    return DEFAULT_WIDTH


def elide_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its middle replaced by ``…`` (for paths)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    tail = (width - 1) // 2 + (width - 1) % 2
    head = width - 1 - tail
    return text[:head] + ELLIPSIS + text[len(text) - tail:]


def elide_end(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut at the end with ``…``."""
    return text if len(text) <= width else text[: max(0, width - 1)] + ELLIPSIS[: max(0, width)]


def wrap_text(text: str, width: int, indent: str = "", hang: str = "") -> list[str]:
    """``text`` wrapped at spaces; a word too long for a line (a path) keeps its ends, not its middle."""
    import textwrap  # only human output wraps: not on the way to a JSON document

    lines = textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=hang,
                          break_long_words=False, break_on_hyphens=False) or [indent]
    fitted = []
    for line in lines:
        if len(line) > width:
            lead = len(line) - len(line.lstrip())
            line = line[:lead] + elide_middle(line[lead:], width - lead)
        fitted.append(line)
    return fitted


class Fit(enum.Enum):
    """How a column gives up width when the table is too wide."""

    KEEP = "keep"  # short codes (actions, statuses): shrink last, cut at the end
    PATH = "path"  # elide the middle
    WRAP = "wrap"  # prose: wrap onto more lines


class Column(NamedTuple):
    """One column of a :func:`render_table`: its header, how it shrinks, its narrowest width."""

    header: str
    fit: Fit = Fit.KEEP
    min_width: int = 12


def fit_widths(columns: Sequence[Column], natural: list[int], available: int) -> list[int]:
    """Shrink the widest flexible column, one character at a time, until the row fits."""
    widths = list(natural)
    for fits in ((Fit.WRAP, Fit.PATH), (Fit.KEEP,)):
        while sum(widths) > available:
            flexible = [i for i, c in enumerate(columns)
                        if c.fit in fits and widths[i] > min(c.min_width, natural[i])]
            if not flexible:
                break
            widest = max(flexible, key=lambda i: widths[i])
            widths[widest] -= 1
    while sum(widths) > available and max(widths) > 1:  # last resort: nothing may overflow
        widths[widths.index(max(widths))] -= 1
    return widths


def _cell_lines(text: str, column: Column, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    if column.fit is Fit.WRAP:
        return wrap_text(text, width)
    if column.fit is Fit.PATH:
        return [elide_middle(text, width)]
    return [elide_end(text, width)]


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, wide: bool = False,
                 indent: str = "", detail_below: bool = False) -> list[str]:
    """The table's lines: a header, its underline, then the rows, in at most ``width`` columns.

    With ``detail_below``, a table too wide for ``width`` moves its last column (prose, such as a
    reason) under each row, wrapped and indented to the second column, instead of squeezing it.
    """
    table = [[c.header for c in columns], *[list(r) for r in rows]]
    natural = [max(len(r[i]) for r in table) for i in range(len(columns))]
    available = width - len(indent) - len(GAP) * (len(columns) - 1)
    if detail_below and not wide and sum(natural) > available and len(columns) > 2:
        return _table_with_details(columns, table, width, indent)
    widths = natural if wide else fit_widths(columns, natural, available)
    lines = []
    for index, row in enumerate(table):
        cells = [_cell_lines(cell, col, w) for cell, col, w in zip(row, columns, widths, strict=True)]
        for parts in zip_longest(*cells, fillvalue=""):
            lines.append(indent + GAP.join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip())
        if index == 0:
            lines.append(indent + GAP.join("-" * w for w in widths))
    return lines


def _table_with_details(columns: Sequence[Column], table: list[list[str]], width: int, indent: str) -> list[str]:
    head = render_table(columns[:-1], [row[:-1] for row in table[1:]], width, indent=indent)
    detail_indent = indent + " " * (len(head[1].split(GAP)[0]) + len(GAP))
    lines = head[:2]
    for row, line in zip(table[1:], head[2:], strict=True):
        lines.append(line)
        lines += wrap_text(row[-1], width, detail_indent, detail_indent)
    return lines


class Console:
    """Where a command writes: stdout for its answer, stderr for messages, both width-aware."""

    def __init__(self, json_mode: bool = False, quiet: bool = False, wide: bool = False,
                 out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.json = json_mode
        self.quiet = quiet
        self.wide = wide
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.width = terminal_width(self.out)
        self.emitted_json = False
        self._progress_shown = False

    # -- the answer (stdout) -----------------------------------------------------------------

    def line(self, text: str = "", indent: str = "", hang: str = "") -> None:
        """A line of human output on stdout, wrapped to the width (``hang``: indent of later lines)."""
        if self.quiet or self.json:
            return
        self._write(self.out, self.fit(text, indent, hang))

    def path_line(self, path: object, indent: str = "") -> None:
        """A path on a line of its own, its middle elided if it would not fit."""
        if self.quiet or self.json:
            return
        text = str(path) if self.wide else elide_middle(str(path), self.width - len(indent))
        self._write(self.out, [indent + text])

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]], indent: str = "",
              detail_below: bool = False) -> None:
        """A table on stdout that fits the width (or full values with ``--wide``)."""
        if self.quiet or self.json or not rows:
            return
        self._write(self.out, render_table(columns, rows, self.width, self.wide, indent, detail_below))

    def emit_json(self, document: Any) -> None:
        """The command's one JSON document (``--json``), secrets redacted in its strings."""
        self.out.write(json.dumps(_redact_strings(document), indent=2, ensure_ascii=False) + "\n")
        self.emitted_json = True

    # -- messages (stderr) -------------------------------------------------------------------

    def note(self, text: str, indent: str = "") -> None:
        """A message for a person: stdout in human mode, stderr with ``--json``; silent with ``-q``."""
        if self.quiet:
            return
        self._write(self.err if self.json else self.out, self.fit(text, indent, indent))

    def error(self, text: str) -> None:
        """An error, always shown (stderr), prefixed once with the program's name."""
        self.end_progress()
        self.flush()
        self._write(self.err, [f"agentmux-companion: {line}" if i == 0 else line
                               for i, line in enumerate(redact(text).splitlines())])

    def progress(self, text: str) -> None:
        """A transient progress line on a terminal's stderr; never with ``--json`` or ``-q``."""
        if self.json or self.quiet or not _isatty(self.err):
            return
        self.err.write("\r\x1b[K" + elide_end(text, self.width - 1))
        self.err.flush()
        self._progress_shown = True

    def end_progress(self) -> None:
        """Clear the progress line, if one is shown."""
        if self._progress_shown:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._progress_shown = False

    # -- helpers -----------------------------------------------------------------------------

    def fit(self, text: str, indent: str = "", hang: str = "") -> list[str]:
        """``text`` (may hold newlines) wrapped to the width, unless ``--wide``."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            if self.wide or len(indent + paragraph) <= self.width:
                lines.append(indent + paragraph)
            else:
                lines += wrap_text(paragraph, self.width, indent, hang)
        return lines

    def message(self, text: str, indent: str = "", hang: str = "") -> None:
        """A message on stderr, wrapped only on a terminal: piped, one message is one line to grep."""
        self.flush()
        lines = self.fit(text, indent, hang) if _isatty(self.err) else [indent + text]
        self._write(self.err, lines)

    def flush(self) -> None:
        """Flush stdout, so what follows on stderr appears after it on a terminal."""
        self.out.flush()

    def _write(self, stream: TextIO, lines: list[str]) -> None:
        self.end_progress()
        stream.write("".join(line + "\n" for line in lines))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _redact_strings(value: Any) -> Any:
    # Redact string values, not the serialized text: the redactor's ``key: value`` pattern would
    # otherwise rewrite ``"has_refresh_token": true`` into ``***`` and break the JSON.
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_strings(item) for item in value]
    return value
