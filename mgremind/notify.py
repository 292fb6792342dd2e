"""Channels: apprise, one service at a time so each one's result is known, and the console.

Every URL is known here only as a `Channel` with a redacted label (apprise renders a URL
with its secrets hidden) and a key (a hash) for the state database. `SecretFilter`
scrubs the raw URLs and their secret parts out of every log record, apprise's included.
Imported by `run` and `notify-test` only: apprise is slow to import.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import apprise

from mgremind.config.secrets import url_lines, urls_file_path
from mgremind.model import Config
from mgremind.render import redact_url


class ChannelError(Exception):
    """A channel could not be set up; the message is safe to show (no secret in it)."""


class Channel(NamedTuple):
    key: str  # stable id in the state database: a hash of the URL, or "console"
    label: str  # what logs and `notify-test` show: never a secret
    send: Callable[[str, str], bool]  # (title, body) → accepted
    secrets: frozenset[str] = frozenset()  # what a log line must never show: the URL and its secret parts


def send_safely(channel: Channel, title: str, body: str) -> str | None:
    """None when the channel accepted the message, else what went wrong (no secret in it)."""
    try:
        return None if channel.send(title, body) else "not accepted"
    except Exception as error:  # a plugin's bug must not stop the other channels
        return type(error).__name__


def channel_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def console_channel(stream: TextIO | None = None) -> Channel:
    def send(title: str, body: str) -> bool:
        out = stream or sys.stdout
        indented = "\n".join(f"  {line}" for line in body.splitlines())
        out.write(f"{title}\n{indented}\n")
        out.flush()
        return True

    return Channel("console", "console", send)


def _apprise_channel(service: Any, raw_url: str) -> Channel:
    # apprise waits up to 5.5 s between two messages of one service (rate limits of public
    # services); a reminder daemon sends a few a day, and a held-back reminder is a late one.
    service.request_rate_per_sec = 0

    def send(title: str, body: str) -> bool:
        # Plain text: the body is lines of doses and notes, not HTML or markdown.
        return bool(service.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))

    label = channel_label(service)
    return Channel(channel_key(raw_url), label, send, frozenset(_fragments(raw_url, label)))


def channel_label(service: Any) -> str:
    """How a channel is shown: apprise's privacy rendering (passwords hidden), less its path
    and query, where tokens and addresses often sit: "json://user:****@host:8080/…"."""
    scheme, _, rest = shown_url(service).partition("://")
    location, slash, _ = rest.split("?", 1)[0].partition("/")
    return f"{scheme}://{location}" + ("/…" if slash else "")


def shown_url(service: Any, privacy: bool = True) -> str:
    """A service's URL as apprise renders it; with privacy, passwords and tokens are hidden."""
    return str(service.url(privacy=privacy))


def read_urls_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ChannelError(f"{path}: cannot read the URL file: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ChannelError(f"{path}: the URL file is not UTF-8 text") from None
    return url_lines(text)


def configured_urls(config: Config, environ: Mapping[str, str]) -> list[str]:
    """Every apprise URL of the configuration: `urls`, then the lines of `urls_file`."""
    urls = list(config.notify.urls)
    if config.notify.urls_file is not None:
        urls.extend(read_urls_file(urls_file_path(config.notify.urls_file, environ)))
    return urls


def load_channels(config: Config, environ: Mapping[str, str] | None = None) -> list[Channel]:
    """The channels of a configuration, each apprise service on its own. Raises ChannelError."""
    environ = os.environ if environ is None else environ
    channels = _url_channels(configured_urls(config, environ), "notification")
    if config.notify.config is not None:
        channels.extend(_config_channels(config.notify.config))
    if config.notify.console:
        channels.append(console_channel())
    return channels


def caregiver_channels(config: Config) -> list[Channel]:
    """The channels of `caregiver_urls`, told about missed doses. Raises ChannelError."""
    return _url_channels(config.notify.caregiver_urls, "caregiver")


def tell_caregivers(config: Config, title: str, body: str) -> list[str]:
    """Sends one message to every caregiver channel; what failed, each with its label."""
    failures = []
    for channel in caregiver_channels(config):
        error = send_safely(channel, title, body)
        if error is not None:
            failures.append(f"{channel.label}: {error}")
    return failures


def _url_channels(urls: Iterable[str], kind: str) -> list[Channel]:
    channels: list[Channel] = []
    for index, url in enumerate(urls):
        services = apprise.Apprise()
        if not services.add(url):
            raise ChannelError(f"{kind} URL {index + 1} ({redact_url(url)}) is not one apprise understands")
        channels.extend(_apprise_channel(service, url) for service in services)
    return channels


def _config_channels(path: Path) -> list[Channel]:
    if not path.is_file():
        raise ChannelError(f"{path}: the apprise configuration file does not exist")
    document = apprise.AppriseConfig()
    if not document.add(str(path)):
        raise ChannelError(f"{path}: apprise cannot read this configuration file")
    services = apprise.Apprise()
    services.add(document)
    channels = [_apprise_channel(service, shown_url(service, privacy=False)) for service in services]
    if not channels:
        raise ChannelError(f"{path}: the apprise configuration file names no service apprise understands")
    return channels


# ---------------------------------------------------------------------------- secrets in logs


def secret_fragments(urls: Iterable[str]) -> list[str]:
    """The parts of each URL that its label hides: passwords, tokens, keys, and the whole URL."""
    fragments: set[str] = set()
    for url in urls:
        services = apprise.Apprise()
        shown = " ".join(channel_label(service) for service in services) if services.add(url) else ""
        fragments |= _fragments(url, shown)
    return sorted(fragments, key=len, reverse=True)


def channel_secrets(channels: Iterable[Channel]) -> list[str]:
    """Every secret of these channels, the longest first (so a URL goes before its parts)."""
    return sorted({fragment for channel in channels for fragment in channel.secrets}, key=len, reverse=True)


def _fragments(url: str, shown: str) -> set[str]:
    """The URL and each part of it that its label does not show: user, password, path
    segments, query values. Short lower-case words ("notify", "hooks") are left out: scrubbing
    them would garble ordinary log lines, and tokens have digits, capitals or length."""
    fragments = {url}
    location, _, query = url.split("://", 1)[-1].partition("?")
    parts = re.split(r"[/:@#,]", location) + [
        value for _, _, value in (pair.partition("=") for pair in query.split("&"))
    ]
    for part in parts:
        word = part.isascii() and part.isalpha() and part.islower() and len(part) < 12
        if len(part) >= 4 and part not in shown and not word:
            fragments.add(part)
    return fragments
