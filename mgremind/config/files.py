"""Reading the plan file: its bytes to TOML text, the text to a document, each failure one
clear problem (missing, a directory, not UTF-8, binary, a TOML syntax error with its place)."""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from mgremind.model import ConfigError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, [_syntax_problem(str(error))]) from None
    except ValueError as error:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise ConfigError(source, [Problem("", f"invalid TOML: {error}")]) from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise ConfigError(source, [Problem("", "invalid TOML: arrays or tables nested too deeply")]) from None
    return document


def _syntax_problem(message: str) -> Problem:
    """tomllib says "Unclosed array (at line 3, column 9)": put the place first."""
    match = re.match(r"(.*) \(at (line \d+, column \d+)\)\Z", message, re.DOTALL)
    if match:
        return Problem(match.group(2), f"invalid TOML: {match.group(1)}")
    match = re.match(r"(.*) \(at end of document\)\Z", message, re.DOTALL)
    if match:
        return Problem("end of file", f"invalid TOML: {match.group(1)}")
    return Problem("", f"invalid TOML: {message}")


MAX_FILE_BYTES = 1024 * 1024  # a plan, a urls_file, an apprise configuration: kilobytes, never megabytes


class NotReadable(Exception):
    """Why a file cannot be read as a small text file: "does not exist", "is larger than 1 MB"…
    (the message completes a sentence that starts with the file's name)."""


def read_small_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES. Never reads a FIFO or a device (it
    would block, or never end, or fill the memory): the kind is checked before opening, and again
    on the open file (O_NONBLOCK, so that a FIFO swapped in between does not block either)."""
    try:
        _require_regular(os.stat(path))
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotReadable("does not exist") from None
    except OSError as error:
        raise NotReadable(f"cannot be read: {error.strerror or error}") from None
    try:
        _require_regular(os.fstat(fd))
        chunks: list[bytes] = []
        left = MAX_FILE_BYTES + 1
        while left > 0 and (chunk := os.read(fd, min(left, 65536))):
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as error:
        raise NotReadable(f"cannot be read: {error.strerror or error}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_FILE_BYTES:
        raise NotReadable("is larger than 1 MB; it should hold a few lines")
    return data


def _require_regular(status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a regular file")
        raise NotReadable(f"must be a regular file, and this is {kind}")
    if status.st_size > MAX_FILE_BYTES:
        raise NotReadable("is larger than 1 MB; it should hold a few lines")


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_config_text(path: Path) -> str:
    """The file's text, or a ConfigError saying plainly why it cannot be read."""
    source = str(path)
    try:
        raw = read_small_bytes(path)
    except NotReadable as error:
        raise ConfigError(source, [Problem("", str(error))]) from None
    if not raw.strip():
        raise ConfigError(source, [Problem("", "is empty: `mgremind init --force` writes a commented plan into it")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            source,
            [
                Problem(
                    "",
                    f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                    f"{error.start}); a configuration is a TOML text file",
                )
            ],
        ) from None
    if "\x00" in text:
        raise ConfigError(source, [Problem("", "is a binary file (it contains NUL bytes), not TOML text")])
    return text.removeprefix("\ufeff")
