"""Logging to the platform log dir, with secrets redacted on the way out.

Nothing in the companion logs a credentials file's content, but a redacting filter sits on every
handler anyway: token-shaped values and any secret registered at run time are masked, so a
mistake elsewhere cannot put a token in a log file.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from pathlib import Path

from agentmux_companion.core.paths import check_private_file, ensure_private_dir, open_private_file

_LOCK = threading.Lock()
# Before setup_logging (or when it refuses a planted link), records go nowhere rather than to
# Python's last-resort stderr handler: the CLI has already said what matters there.
logging.getLogger("agentmux_companion").addHandler(logging.NullHandler())
_KNOWN_SECRETS: set[str] = set()

_PATTERNS = [
    # JSON or key=value fields whose name says token/secret/password.
    re.compile(
        r'(?i)("?(?:access|refresh|id)?_?token"?|"?(?:accessToken|refreshToken|idToken)"?|'
        r'"?(?:client_)?secret"?|"?password"?)(\s*[:=]\s*)"?([^",\s}]+)"?'
    ),
    # Well-known token prefixes (Anthropic, OpenAI, GitHub), whatever surrounds them.
    re.compile(r"\b(sk-(?:ant-)?[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{16,})"),
]


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it would appear in a log record from now on."""
    if len(value) >= 6:
        with _LOCK:
            _KNOWN_SECRETS.add(value)


def redact(text: str) -> str:
    """``text`` with secrets masked as ``***``."""
    with _LOCK:
        known = sorted(_KNOWN_SECRETS, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, "***")
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _PATTERNS[1].sub("***", text)


class RedactingFilter(logging.Filter):
    """Masks secrets in every record, its message and its traceback, before any handler writes it."""
    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message and traceback text by their redacted form; never drops a record."""
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class SizeRotatingFileHandler(logging.FileHandler):
    """logging.handlers.RotatingFileHandler's size rotation, without that module.

    logging.handlers loads socket, pickle, queue and more (several ms of every CLI start); this
    needs none of them. Each file is opened 0600 and without following a link, the first when
    logging starts and the next after a rotation (rotation renames files, which replaces a link at
    the destination rather than writing through it; only opening needs care).
    """

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, encoding="utf-8")
        self.max_bytes, self.backups = max_bytes, backups

    def _open(self) -> io.TextIOWrapper:
        fd = open_private_file(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        return io.open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: UP020

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record``, first moving the file to ``.1`` (and so on) if it would grow too big."""
        try:
            if self.stream is not None and self.stream.tell() + len(self.format(record)) + 1 >= self.max_bytes:
                self._rotate()
        except Exception:
            self.handleError(record)
            return
        super().emit(record)

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
        base = self.baseFilename
        for index in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{index}"):
                os.replace(f"{base}.{index}", f"{base}.{index + 1}")
        if os.path.exists(base):
            os.replace(base, f"{base}.1")
        self.stream = self._open()
        if os.name == "posix":
            os.chmod(base, 0o600)


def setup_logging(log_file: Path, level: int = logging.INFO) -> Path:
    """Send the package's log records to ``log_file`` (rotated, 0600 in a 0700 folder).

    The log file and its rotated copies are opened without following a link (a link planted
    where the log goes is refused: :class:`~agentmux_companion.core.errors.UnsafePath`), and a
    new file after a rotation is 0600 like the first.
    """
    ensure_private_dir(log_file.parent)
    for index in range(BACKUP_COUNT + 1):
        check_private_file(log_file.with_name(log_file.name + (f".{index}" if index else "")), "log file")
    logger = logging.getLogger("agentmux_companion")
    logger.setLevel(level)
    for handler in list(logger.handlers):
        if getattr(handler, "_companion", False):
            logger.removeHandler(handler)
            handler.close()
    handler = SizeRotatingFileHandler(log_file, max_bytes=1_000_000, backups=BACKUP_COUNT)
    handler._companion = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    return log_file


BACKUP_COUNT = 3
