"""Files that hold secrets: the urls_file (or its systemd credential), read safely (a regular
file of at most 1 MB, never a FIFO or a device), and a judgement of which URLs carry
credentials, to warn when a file holding them is readable by others."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from mgremind.config.files import NotReadable, read_small_bytes
from mgremind.model import Config, Problem


def urls_file_path(configured: Path, environ: Mapping[str, str]) -> Path:
    """The configured urls_file, or the systemd credential of that name (LoadCredential=)."""
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        credential = Path(credentials) / configured.name
        if credential.is_file():
            return credential
    return configured


def url_lines(text: str) -> list[str]:
    """The URLs of a urls_file: one a line; blank lines and # comments skipped."""
    return [line for _, line in numbered_url_lines(text)]


def numbered_url_lines(text: str) -> list[tuple[int, str]]:
    """The URLs of a urls_file with their line numbers (from 1), to report a bad one by its number."""
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


class UnreadableFile(Exception):
    """A file that holds URLs cannot be used; the message names it and says why (no content)."""


def read_small_file(path: Path, what: str) -> str:
    """The UTF-8 text of a urls_file or an apprise configuration (config.files.read_small_bytes:
    a regular file of at most 1 MB, never a FIFO or a device). Raises UnreadableFile."""
    try:
        data = read_small_bytes(path)
    except NotReadable as error:
        raise UnreadableFile(f"{path}: the {what} {error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableFile(f"{path}: the {what} is not UTF-8 text") from None


def url_has_credentials(url: str) -> bool:
    """A user or password, or a token-like part (8+ characters with a digit, or 16+), in a URL.

    Without apprise (which `check` must not import) this is a judgement: hosts and short
    words are not secrets; bot tokens, API keys and passwords are.
    """
    location, _, query = url.split("://", 1)[-1].partition("?")
    authority, _, path = location.partition("/")
    pairs = [pair.partition("=") for pair in query.split("&")]
    if "@" in authority or any(key.lower() in _CREDENTIAL_KEYS and value for key, _, value in pairs):
        return True
    # HOST[:PORT] and [IPV6]:PORT are no secret; HOST:TOKEN (a bot token) is.
    rest = authority.partition("]")[2] if authority.startswith("[") else authority.partition(":")[2]
    rest = rest.removeprefix(":")
    parts = [] if rest.isdigit() else [rest]
    parts += path.split("/") + [value for _, _, value in pairs]
    return any(len(part) >= 16 or (len(part) >= 8 and any(char.isdigit() for char in part)) for part in parts)


# Query keys (and apprise YAML keys) that carry a login, whatever their value looks like.
_CREDENTIAL_KEYS = frozenset({"user", "pass", "password", "token", "apikey", "key", "secret"})
# Spaces and tabs only, and a bounded scheme: `\s*` spanning lines, or an unbounded scheme, made
# these quadratic (a minute for 200 KB of blank lines or of letters).
_CREDENTIAL_KEY_IN_YAML = re.compile(r"^[ \t]*(?:pass|password|token|apikey|key|secret)[ \t]*:", re.MULTILINE)


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s\"',]+")


def exposed_secret_files(config: Config, environ: Mapping[str, str]) -> list[Problem]:
    """Files holding notification URLs with credentials that the group or others can read."""
    main_file = Path(config.source)
    holders: list[tuple[Path, bool]] = [
        (main_file, any(map(url_has_credentials, [*config.notify.urls, *config.notify.caregiver_urls])))
    ]
    if config.notify.urls_file is not None:
        path = urls_file_path(config.notify.urls_file, environ)
        holders.append((path, any(map(url_has_credentials, url_lines(_text_or_empty(path))))))
    if config.notify.config is not None:
        text = _text_or_empty(config.notify.config)
        secret = any(map(url_has_credentials, _URL_IN_TEXT.findall(text))) or bool(_CREDENTIAL_KEY_IN_YAML.search(text))
        holders.append((config.notify.config, secret))
    warnings = []
    for path, holds_secrets in holders:
        if not holds_secrets:
            continue
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue  # a file that cannot be read is reported by whoever reads it
        if mode & 0o077:
            who = " and ".join(name for bits, name in ((0o070, "its group"), (0o007, "others")) if mode & bits)
            # The main file must stay readable by a service's own user (DynamicUser=): move the
            # URLs out of it rather than lock it.
            fix = (
                "move them to a urls_file only you can read (chmod 600; under systemd, LoadCredential=)"
                if path == main_file
                else f"chmod 600 {path}"
            )
            warnings.append(
                Problem(
                    str(path),
                    f"holds notification URLs with credentials and is readable by {who} (mode {mode:04o}): {fix}",
                )
            )
    return warnings


def _text_or_empty(path: Path) -> str:
    try:
        return read_small_file(path, "file")
    except UnreadableFile:
        return ""  # reported by whoever needs the file (`check`, `run`)
