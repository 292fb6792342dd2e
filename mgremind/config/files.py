"""Reading the plan file: its bytes to TOML text, the text to a document, each failure one
clear problem (missing, a directory, not UTF-8, binary, a TOML syntax error with its place)."""

from __future__ import annotations

import re
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


def read_config_text(path: Path) -> str:
    """The file's text, or a ConfigError saying plainly why it cannot be read."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(source, [Problem("", "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError(source, [Problem("", "is a directory, not a configuration file")]) from None
    except PermissionError:
        raise ConfigError(source, [Problem("", "cannot be read: permission denied")]) from None
    except OSError as error:
        raise ConfigError(source, [Problem("", f"cannot be read: {error.strerror or error}")]) from None
    if not raw.strip():
        raise ConfigError(source, [Problem("", "is empty: see config.example.toml for a plan to start from")])
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
