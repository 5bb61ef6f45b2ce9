"""Ambient credential detection and the status probe (docs/agentmux-store.md §5, §6).

The files belong to the CLIs: they are only ever read, never written, moved or deleted. Reading
is defensive because these paths are in the user's home and can be anything: a symlink, a FIFO
(opening one for reading blocks forever), a device, a huge file, bytes that are not UTF-8.
Every case ends in a status and a reason, never a hang or a crash.
"""

from __future__ import annotations

import enum
import errno
import json
import math
import os
import stat
import sys
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core.log import register_secret
from agentmux_companion.core.providers import CREDENTIALS_FILE_NAME, Provider
from agentmux_companion.core.sha256 import sha256_hex

#: Bigger than any real OAuth credentials file by three orders of magnitude; bigger files are not
#: read (AgentMux would, but a multi-megabyte "credentials" file is not one to trust).
MAX_CREDENTIALS_BYTES = 1024 * 1024

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


class Status(enum.StrEnum):
    """Status strings as AgentMux writes them in ``db_identity_accounts.status``."""

    VALID = "valid"
    EXPIRED = "expired"
    NEEDS_REAUTH = "needs_reauth"
    UNKNOWN = "unknown"


class FileKind(enum.StrEnum):
    """What is at the credentials path."""

    MISSING = "missing"
    DANGLING_SYMLINK = "dangling_symlink"
    REGULAR = "regular"
    DIRECTORY = "directory"
    FIFO = "fifo"
    DEVICE = "device"
    SOCKET = "socket"
    OTHER = "other"


class AmbientCredential(NamedTuple):
    """What was found at one provider's ambient credentials path.

    Attributes:
        provider: the provider id.
        config_dir: ``<home>/.<auth_dir>``, what a binding points at.
        path: ``<config_dir>/.credentials.json``.
        present: AgentMux's existence test (follows symlinks): True also for a directory or FIFO.
        kind: what the path is, after following symlinks.
        symlink_target: where the path points when it is a symlink, else None.
        status: the contract's status, or None when nothing is present.
        reason: why, in words.
        fingerprint: a masked identifier of the file's content (never the token), or None.
        expires_at_ms: the expiry the probe used, if any.
        has_refresh_token: whether a refresh token was found.
        warnings: things the user should know (odd file, unexpected shape).
    """

    provider: str
    config_dir: Path
    path: Path
    present: bool
    kind: FileKind
    symlink_target: str | None
    status: Status | None
    reason: str
    fingerprint: str | None
    expires_at_ms: int | None = None
    has_refresh_token: bool = False
    warnings: tuple[str, ...] = ()


def fingerprint(data: bytes) -> str:
    """A short, one-way identifier of a credentials file's content, safe to print.

    It changes whenever the CLI refreshes its token, which is what makes it useful to tell a
    stale keyring snapshot from a current one.
    """
    return "sha256:" + sha256_hex(data)[:12]


def read_credentials_bytes(path: Path, limit: int = MAX_CREDENTIALS_BYTES) -> bytes:
    """Read a credentials file without ever blocking on a FIFO or device.

    Raises:
        OSError: the file cannot be opened or is not a regular file (``errno.EINVAL``), or is
            larger than ``limit`` (``errno.EFBIG``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        # Checked on the open descriptor, so a path swapped for a FIFO after an earlier stat()
        # still cannot make us block.
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(65536, remaining))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return data
    finally:
        os.close(fd)


def _kind_of(mode: int) -> FileKind:
    if stat.S_ISREG(mode):
        return FileKind.REGULAR
    if stat.S_ISDIR(mode):
        return FileKind.DIRECTORY
    if stat.S_ISFIFO(mode):
        return FileKind.FIFO
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return FileKind.DEVICE
    if stat.S_ISSOCK(mode):
        return FileKind.SOCKET
    return FileKind.OTHER


def _json_int(value: Any) -> int | None:
    # serde_json's as_i64(): integers in i64 range only; bool is an int in Python, not in JSON.
    if isinstance(value, int) and not isinstance(value, bool) and _I64_MIN <= value <= _I64_MAX:
        return value
    return None


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _reject_constant(name: str) -> Any:
    # NaN/Infinity are not JSON; AgentMux's parser rejects them, so must we.
    raise ValueError(f"{name} is not valid JSON")


#: AgentMux reads these files with serde_json, whose recursion limit rejects 128 nested levels.
MAX_JSON_DEPTH = 127


def _is_lone_surrogate(text: str) -> bool:
    # Python decodes an unpaired "\ud800" escape into a lone surrogate; serde_json refuses it.
    return any("\ud800" <= char <= "\udfff" for char in text)


def _check_document(document: Any) -> int:
    """Nesting depth of ``document``; raises ValueError on a string serde_json would refuse."""
    deepest = 0
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _is_lone_surrogate(value):
                raise ValueError("holds an unpaired surrogate escape, which AgentMux cannot read")
            continue
        if isinstance(value, dict):
            if any(_is_lone_surrogate(key) for key in value):
                raise ValueError("holds an unpaired surrogate escape, which AgentMux cannot read")
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _parse_float(text: str) -> float:
    # serde_json refuses a number that overflows a double ("number out of range", e.g. 1e400)
    # where Python would give infinity.
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _parse_int(text: str) -> int:
    # serde_json reads an integer beyond u64 as a double, and refuses one that overflows it too
    # (a 400-digit integer); Python would keep it exactly.
    value = int(text)
    if abs(value) > sys.float_info.max:
        raise ValueError("number out of range")
    return value


def parse_credentials(data: bytes) -> Any:
    """Parse a credentials file exactly as strictly as AgentMux's reader (``serde_json``).

    Python's ``json`` is more lenient; every difference is closed here: a byte-order mark,
    ``NaN``/``Infinity``, numbers that overflow a double, unpaired surrogate escapes, and nesting
    beyond serde_json's recursion limit are all refused. (Raw control characters in strings and
    trailing characters are refused by ``json`` already; duplicate keys keep the last, as in
    serde_json.)

    Raises:
        ValueError: not UTF-8, not JSON, or not JSON that AgentMux's reader accepts.
        RecursionError: nested far deeper still (Python's own parser gives up).
    """
    text = data.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if text.startswith("\ufeff"):
        raise ValueError("starts with a byte-order mark")
    document = json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float, parse_int=_parse_int)
    if _check_document(document) > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep, which AgentMux cannot read")
    return document


def status_of_document(document: Any, now_ms: int) -> tuple[Status, int | None, bool, str]:
    """Contract §6 steps 3-5 on a parsed credentials document.

    Returns:
        (status, expiry used, has refresh token, reason in words)
    """
    oauth = _get(document, "claudeAiOauth")
    expiry = None
    for candidate in (_get(oauth, "expiresAt"), _get(document, "expiresAt"), _get(document, "expires_at")):
        expiry = _json_int(candidate)
        if expiry is not None:
            break
    refresh_values = (_get(oauth, "refreshToken"), _get(document, "refresh_token"))
    has_refresh = any(isinstance(v, str) and v != "" for v in refresh_values)
    if expiry is None:
        return Status.VALID, None, has_refresh, "no expiry recorded; treated as valid"
    if expiry <= now_ms:
        if has_refresh:
            return Status.EXPIRED, expiry, True, "expired; the CLI can refresh it with its refresh token"
        return Status.NEEDS_REAUTH, expiry, False, "expired and no refresh token; sign in again"
    return Status.VALID, expiry, has_refresh, "valid"


def _register_token_values(document: Any, depth: int = 0) -> None:
    # Teach the log redactor this file's secrets, so no log line can ever carry one.
    if depth > 8:
        return
    items: Any = ()
    if isinstance(document, dict):
        items = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    for key, value in items:
        if isinstance(value, str) and any(w in str(key).lower() for w in ("token", "secret", "key", "password")):
            register_secret(value)
        elif isinstance(value, (dict, list)):
            _register_token_values(value, depth + 1)


def probe_provider(provider: Provider, home: Path, now_ms: int) -> AmbientCredential:
    """Find and probe one provider's ambient credentials under ``home`` (docs/agentmux-store.md §5, §6)."""
    return probe_config_dir(provider, provider.config_dir(home), now_ms)


def probe_config_dir(provider: Provider, config_dir: Path, now_ms: int) -> AmbientCredential:
    """Find and probe the credentials file in ``config_dir`` (the CLI's folder, or AgentMux's copy)."""
    path = config_dir / CREDENTIALS_FILE_NAME
    symlink_target = None
    try:
        if path.is_symlink():
            symlink_target = os.readlink(path)
    except OSError:
        symlink_target = None

    try:
        info = os.stat(path)  # follows symlinks, like AgentMux's exists()
    except OSError as exc:
        if symlink_target is not None:
            kind, reason = FileKind.DANGLING_SYMLINK, f"symlink to {symlink_target}, which does not exist"
        elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
            kind, reason = FileKind.MISSING, f"{path} does not exist"
        else:
            # Exists but cannot even be looked at (a folder without search permission): AgentMux's
            # exists() says no too, so it is treated as absent; say why.
            kind, reason = FileKind.MISSING, f"cannot be looked at ({exc.strerror})"
        return AmbientCredential(
            provider.id, config_dir, path, False, kind, symlink_target, None, reason, None
        )

    kind = _kind_of(info.st_mode)
    warnings: list[str] = []
    if symlink_target is not None:
        warnings.append(f"{path} is a symlink to {symlink_target}")
    if not provider.oauth:
        # Contract §6 step 1: not an OAuth provider of the bundle era.
        return AmbientCredential(
            provider.id, config_dir, path, True, kind, symlink_target, Status.UNKNOWN,
            "not an OAuth provider in this AgentMux era", None, warnings=tuple(warnings),
        )
    if kind is not FileKind.REGULAR:
        warnings.append(
            f"{path} is a {kind.value.replace('_', ' ')}, not a file; AgentMux counts it as present "
            "and will ask you to sign in again"
        )
        return AmbientCredential(
            provider.id, config_dir, path, True, kind, symlink_target, Status.NEEDS_REAUTH,
            f"not a readable file ({kind.value})", None, warnings=tuple(warnings),
        )

    try:
        data = read_credentials_bytes(path)
    except OSError as exc:
        detail = exc.strerror or str(exc)
        warnings.append(f"{path} cannot be read ({detail})")
        return AmbientCredential(
            provider.id, config_dir, path, True, kind, symlink_target, Status.NEEDS_REAUTH,
            f"unreadable ({detail}); sign in again", None, warnings=tuple(warnings),
        )
    fp = fingerprint(data)
    try:
        document = parse_credentials(data)
    except (ValueError, RecursionError) as exc:
        # RecursionError: absurdly deep nesting, which AgentMux's parser rejects as well.
        what = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        warnings.append(f"{path} is {what}")
        return AmbientCredential(
            provider.id, config_dir, path, True, kind, symlink_target, Status.NEEDS_REAUTH,
            f"{what}; sign in again", fp, warnings=tuple(warnings),
        )
    _register_token_values(document)
    if not isinstance(document, dict):
        warnings.append(f"{path} holds JSON that is not an object")
    status, expiry, has_refresh, reason = status_of_document(document, now_ms)
    return AmbientCredential(
        provider.id, config_dir, path, True, kind, symlink_target, status, reason, fp,
        expires_at_ms=expiry, has_refresh_token=has_refresh, warnings=tuple(warnings),
    )
