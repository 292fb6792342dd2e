"""Channels: apprise, one service at a time so each one's result is known, and the console.

Every URL is known here only as a `Channel` with a label (scheme, host and a fingerprint of
its key: no secret) and a key (a hash) for the state database. `SecretFilter` scrubs the raw
URLs and their secret parts out of every log record, apprise's included.

`setup_channels` is what `check`, `run` and `notify-test` build, so `check` refuses exactly what
`run` refuses: every URL parsed by apprise, `urls_file` and `config` regular files of at most
1 MB, at least one channel. Imported by those three only; apprise itself is imported only when a
URL is to be parsed (a console-only `check` stays fast), and of its ~216 plugin modules only those
of the URLs' schemes (`load_plugins`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from mgremind.config.secrets import UnreadableFile, numbered_url_lines, read_small_file, urls_file_path
from mgremind.logs import SecretFilter
from mgremind.model import Config
from mgremind.render import redact_url


class ChannelError(Exception):
    """A channel could not be set up; the message is safe to show (no secret in it)."""


class NoChannel(ChannelError):
    """The configuration leaves no channel at all: no reminder would reach anyone."""


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


def _apprise_channel(service: Any, raw_url: str, key: str | None = None) -> Channel:
    """A channel of one apprise service, keyed by `key` (by default the hash of `raw_url`)."""
    import apprise

    # apprise waits up to 5.5 s between two messages of one service (rate limits of public
    # services); a reminder daemon sends a few a day, and a held-back reminder is a late one.
    service.request_rate_per_sec = 0

    text = apprise.NotifyFormat.TEXT

    def send(title: str, body: str) -> bool:
        # Plain text: the body is lines of doses and notes, not HTML or markdown.
        return bool(service.notify(body=body, title=title, body_format=text))

    key = channel_key(raw_url) if key is None else key
    label = channel_label(service, key)
    return Channel(key, label, send, frozenset(_fragments(raw_url, label)))


def channel_label(service: Any, key: str) -> str:
    """How a channel is shown, in logs, `notify-test` and `status`: its scheme, its host and port,
    and the first 6 hex digits of its key, which tell two channels to one host apart:
    "json://127.0.0.1:8080 #3fa9c1". Never a user name, password, path or query; and no host
    where apprise's privacy rendering hides it or it is no network name (telegram's bot id,
    pushover's token, an ntfy.sh topic, which apprise 1.9 takes for a host): "tgram:// #5be01d"."""
    scheme, _, rest = shown_url(service).partition("://")
    location = rest.split("?", 1)[0].split("/", 1)[0].rpartition("@")[2]
    host = str(getattr(service, "host", None) or "")
    # Shown: the location as apprise renders it with privacy on, if that is the service's host
    # (with or without a port) and the host is a domain name, an address or localhost.
    network = host == "localhost" or host.startswith("[") or "." in host
    matches = network and re.fullmatch(re.escape(host) + r"(:\d+)?", location, re.IGNORECASE)
    return f"{scheme}://{location if matches else ''} #{key[:6]}"


def shown_url(service: Any, privacy: bool = True) -> str:
    """A service's URL as apprise renders it; with privacy, passwords and tokens are hidden."""
    return str(service.url(privacy=privacy))


def read_urls_file(path: Path) -> list[str]:
    return [url for _, url in _numbered_urls(path)]


def _numbered_urls(path: Path) -> list[tuple[int, str]]:
    """The URLs of a urls_file with their line numbers. Raises ChannelError (a FIFO, a device,
    more than 1 MB, not UTF-8, missing or unreadable)."""
    try:
        return numbered_url_lines(read_small_file(path, "urls_file"))
    except UnreadableFile as error:
        raise ChannelError(str(error)) from None


def configured_urls(config: Config, environ: Mapping[str, str]) -> list[str]:
    """Every apprise URL of the configuration: `urls`, then the lines of `urls_file`."""
    urls = list(config.notify.urls)
    if config.notify.urls_file is not None:
        urls.extend(read_urls_file(urls_file_path(config.notify.urls_file, environ)))
    return urls


def load_channels(config: Config, environ: Mapping[str, str] | None = None) -> list[Channel]:
    """The channels of a configuration, each apprise service on its own. Raises ChannelError,
    NoChannel when there is none at all (no URL, an empty urls_file, console = false)."""
    environ = os.environ if environ is None else environ
    notify = config.notify
    channels = _url_channels(notify.urls, "notification")
    urls_file = None if notify.urls_file is None else urls_file_path(notify.urls_file, environ)
    if urls_file is not None:
        for number, url in _numbered_urls(urls_file):
            # A line that is not a URL may be a secret (a token pasted alone): never shown.
            channels.extend(_url_channels([url], f"{urls_file}: line {number}", shown=False))
    if notify.config is not None:
        channels.extend(_config_channels(notify.config))
    if notify.console:
        channels.append(console_channel())
    if not channels:
        raise NoChannel(_no_channel_message(config, urls_file))
    return channels


def _no_channel_message(config: Config, urls_file: Path | None) -> str:
    set_console = f"or set console = true in [notify] of {config.source}"
    if urls_file is not None:
        return (
            f"{urls_file}: no channel: the urls_file holds no URL and console = false; "
            f"put an apprise URL in it (one a line, e.g. ntfy://ntfy.sh/your-topic) {set_console}"
        )
    return (
        f"{config.source}: no channel: [notify] has no URL and console = false; add an apprise URL "
        f'(urls = ["ntfy://ntfy.sh/your-topic"], or a urls_file) {set_console}'
    )


def caregiver_channels(config: Config) -> list[Channel]:
    """The channels of `caregiver_urls`, told about missed doses. Raises ChannelError."""
    return _url_channels(config.notify.caregiver_urls, "caregiver")


class ChannelSetup(NamedTuple):
    channels: list[Channel]  # the reminders' channels: never empty
    caregivers: list[Channel]  # told about missed doses
    secrets: list[str]  # what no log line may show, the longest first


def setup_channels(config: Config, environ: Mapping[str, str], log_filter: SecretFilter) -> ChannelSetup:
    """Every channel of a configuration, as `run` builds them at start: what `check` checks and
    `notify-test` sends to. The log filter learns the URLs' secrets before apprise parses them
    (it logs a URL it cannot parse), and every channel's once they are built.
    Raises ChannelError (NoChannel when there is none)."""
    secrets = secret_fragments([*configured_urls(config, environ), *config.notify.caregiver_urls])
    log_filter.fragments = sorted({*log_filter.fragments, *secrets}, key=len, reverse=True)
    channels = load_channels(config, environ)
    caregivers = caregiver_channels(config)
    every = sorted({*secrets, *channel_secrets([*channels, *caregivers])}, key=len, reverse=True)
    log_filter.fragments = sorted({*log_filter.fragments, *every}, key=len, reverse=True)
    return ChannelSetup(channels, caregivers, every)


def tell_caregivers(config: Config, title: str, body: str) -> list[str]:
    """Sends one message to every caregiver channel; what failed, each with its label."""
    failures = []
    for channel in caregiver_channels(config):
        error = send_safely(channel, title, body)
        if error is not None:
            failures.append(f"{channel.label}: {error}")
    return failures


def _url_channels(urls: Iterable[str], kind: str, shown: bool = True) -> list[Channel]:
    """A channel per apprise service of each URL; `kind` names a URL in an error ("caregiver" →
    "caregiver URL 2 (json://***)"), or, not `shown`, is the whole name of the one URL given."""
    urls = list(urls)
    if not urls:
        return []
    import apprise

    load_plugins(urls)
    channels: list[Channel] = []
    for index, url in enumerate(urls):
        services = apprise.Apprise()
        if not services.add(url):
            where = f"{kind} URL {index + 1} ({redact_url(url)})" if shown else kind
            raise ChannelError(f"{where} is not a URL apprise understands; see `apprise --details` for its services")
        # apprise reads several URLs in one string ("json://a json://b"): each service its own
        # key, the first the URL's (as when it was the only one: its records stay its own).
        channels.extend(
            _apprise_channel(service, url, channel_key(url if number == 0 else f"{url}\0{number}"))
            for number, service in enumerate(services)
        )
    return channels


def _config_channels(path: Path) -> list[Channel]:
    import apprise

    try:
        # Read here, safely, and handed over as text: apprise would open a FIFO or a device.
        text = read_small_file(path, "apprise configuration file")
    except UnreadableFile as error:
        raise ChannelError(str(error)) from None
    # Its URLs are known only once apprise has read the file (includes, YAML, its own URLs of
    # services): every plugin is loaded first, as apprise would.
    load_all_plugins()
    document = apprise.AppriseConfig()
    if not document.add_config(text):
        raise ChannelError(f"{path}: apprise cannot read this configuration file")
    services = apprise.Apprise()
    services.add(document)
    channels = [_apprise_channel(service, shown_url(service, privacy=False)) for service in services]
    if not channels:
        raise ChannelError(f"{path}: the apprise configuration file names no service apprise understands")
    return channels


# ---------------------------------------------------------------------------- apprise's plugins, only those needed

# apprise's plugin modules that are not named after their schemes (nor after a scheme less its
# final "s", as ntfy for ntfys), from apprise 1.9.6 to 2.3.0. A scheme found neither way has
# apprise load all of its modules, as it would by itself: slower and larger, never wrong.
_PLUGIN_MODULES = {
    "africas_talking": "atalk",
    "apprise_api": "apprise apprises",
    "bluesky": "bsky",
    "burstsms": "kudosity",
    "cliq": "zcliq zohocliq",
    "custom_form": "form forms",
    "custom_json": "json jsons",
    "custom_xml": "xml xmls",
    "d7networks": "d7sms",
    "dbus": "kde qt",
    "email": "mailto mailtos",
    "fortysixelks": "46elks elks",
    "glib": "gio",
    "google_chat": "gchat",
    "home_assistant": "hassio hassios",
    "kakaotalk": "kakao",
    "kaleyra": "klr",
    "kodi": "xbmc xbmcs",  # apprise 2: kodi.py
    "lfgalarm": "lfg",
    "mastodon": "toot toots",
    "mattermost": "mmost mmosts",
    "messagebird": "msgbird",
    "mobilemessage": "mobilemsg",
    "nextcloud": "ncloud nclouds",
    "nextcloudtalk": "nctalk nctalks",
    "notificationapi": "napi",
    "office365": "azure o365",
    "one_signal": "onesignal",
    "parseplatform": "parsep parseps",
    "popcorn_notify": "popcorn",
    "pushbullet": "pbul",
    "pushjet": "pjet pjets",
    "pushover": "pover",
    "pushplus": "wecom",
    "pushsafer": "psafer psafers",
    "ringcentral": "ringc",
    "rocketchat": "rocket rockets",
    "serverchan": "schan",
    "signal_api": "signal signals",
    "simplepush": "spush",
    "smsmanager": "smsmgr",
    "sogs": "session sessions",
    "splunk": "victorops",
    "streamlabs": "strmlabs",
    "techuluspush": "push",
    "telegram": "tgram",
    "twitter": "tweet x",
    "vonage": "nexmo",
    "webexteams": "webex wxteams",
    "workflows": "workflow",
    "xbmc": "kodi kodis",  # apprise 1.9: xbmc.py
}

_plugins_lock = threading.Lock()
# The plugin modules this process had apprise load one by one; empty when apprise has loaded
# none yet, or all of them (itself, on its first use, or here).
_selected: set[str] = set()


def plugin_modules(scheme: str) -> list[str]:
    """The installed apprise's plugin modules that may hold the plugin of `scheme` ("json" →
    ["custom_json"]); none when it is not known here."""
    named = [module for module, schemes in _PLUGIN_MODULES.items() if scheme in schemes.split()]
    names = dict.fromkeys([*named, scheme, scheme.removesuffix("s")])
    return [name for name in names if _is_plugin_module(name)]


def _is_plugin_module(name: str) -> bool:
    import importlib.util

    # The names apprise's plugin manager loads (no "base…", no "_…").
    if not re.fullmatch(r"(?!base|_)[a-z0-9_]+", name):
        return False
    return importlib.util.find_spec(f"apprise.plugins.{name}") is not None


def load_plugins(urls: Iterable[str]) -> None:
    """Makes apprise ready to parse these URLs, loading the plugin modules of their schemes only.

    On its first use apprise imports all of its plugin modules (~216, 470 modules in all: ~10 MB
    and 40 % of `run`'s time to READY); its plugin manager (`apprise.plugins.N_MGR.load_modules`)
    loads the modules a directory names, and looks for no other once it holds some. A scheme no
    loaded module claims (a misspelling, a service's own https:// URL, a module renamed by a newer
    apprise) has every module loaded, as apprise would have: a channel matters more than memory.
    """
    try:
        from apprise.plugins import N_MGR
        from apprise.utils.parse import GET_SCHEMA_RE, parse_urls
    except ImportError:
        return  # an apprise without these: it loads its plugins as it does
    manager: Any = N_MGR  # the one plugin manager of every apprise object
    with _plugins_lock:
        if manager and not _selected:
            return  # all loaded
        # The schemes as apprise reads them: it splits a string of several URLs, and it rejects
        # a URL without a scheme before it looks for a plugin.
        found = (GET_SCHEMA_RE.match(url) for url in parse_urls(list(urls)))  # type: ignore[no-untyped-call]
        schemes = {match.group("schema").lower() for match in found if match}
        if manager:  # (asking an empty manager has apprise load everything)
            schemes = {scheme for scheme in schemes if scheme not in manager}
        if not schemes:
            return
        candidates = {scheme: plugin_modules(scheme) for scheme in schemes}
        wanted = {module for modules in candidates.values() for module in modules} - _selected
        if all(candidates.values()) and wanted:
            with contextlib.suppress(OSError):  # no temporary directory: all are loaded below
                _load_modules(manager, wanted)
        if manager and all(scheme in manager for scheme in schemes):
            return
        _load_all(manager)


def load_all_plugins() -> None:
    """Has apprise load all of its plugin modules (for an apprise configuration file, whose URLs
    are known only once apprise has read it)."""
    try:
        from apprise.plugins import N_MGR
    except ImportError:
        return
    manager: Any = N_MGR
    with _plugins_lock:
        if not manager or _selected:
            _load_all(manager)


def _load_modules(manager: Any, modules: set[str]) -> None:
    """Has apprise's plugin manager load these plugin modules, as it loads each of its own.

    It imports `apprise.plugins.NAME` for each NAME a directory lists: a temporary directory of
    empty directories names them (directories, not files: where an import fails, apprise runs the
    listed file itself, and a directory has nothing to run)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mgremind-plugins-") as listing:
        for name in modules:
            os.mkdir(os.path.join(listing, name))
        _selected.update(modules)
        manager.load_modules(path=listing, name=manager.module_name_prefix)


def _load_all(manager: Any) -> None:
    if _selected:
        # Forgets the modules loaded one by one; they stay imported, and the channels built on
        # them keep working.
        manager.unload_modules()
        _selected.clear()
    manager.load_modules()


# ---------------------------------------------------------------------------- secrets in logs


def secret_fragments(urls: Iterable[str]) -> list[str]:
    """The parts of each URL that its label hides: passwords, tokens, keys, and the whole URL."""
    urls = list(urls)
    if not urls:
        return []
    import apprise

    fragments: set[str] = set()
    load_plugins(urls)
    # apprise logs a URL it cannot parse, secrets and all, and these fragments are what the log
    # filter does not know yet: it is told nothing here (the channels, built next, tell it again).
    with _apprise_silenced():
        for url in urls:
            services = apprise.Apprise()
            key = channel_key(url)
            shown = " ".join(channel_label(service, key) for service in services) if services.add(url) else ""
            fragments |= _fragments(url, shown)
    return sorted(fragments, key=len, reverse=True)


@contextlib.contextmanager
def _apprise_silenced() -> Iterator[None]:
    logger = logging.getLogger("apprise")
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


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


# ---------------------------------------------------------------------------- why a send failed


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def send_explained(channel: Channel, title: str, body: str, secrets: Iterable[str] = ()) -> str | None:
    """send_safely, and on a failure why, as apprise logged it: the HTTP status, connection
    refused, a timeout... Every line of apprise's is scrubbed of the channel's secrets and of
    `secrets`. For `notify-test`: apprise's logger is taken over for the one send (one thread)."""
    logger = logging.getLogger("apprise")
    collected = _Records()
    saved = logger.level, logger.propagate
    logger.addHandler(collected)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # its lines are told below, not logged: they would say it twice
    try:
        problem = send_safely(channel, title, body)
    finally:
        logger.removeHandler(collected)
        logger.level, logger.propagate = saved
    if problem is None:
        return None
    scrub = SecretFilter(sorted({*secrets, *channel.secrets}, key=len, reverse=True))
    messages = []
    for record in collected.records:
        scrub.filter(record)
        messages.append((record.levelno, " ".join(record.getMessage().split())))
    return failure_reason(messages) or problem


_STATUS = re.compile(r"\berror=(\d{3})\b")
_CAUSES = (
    (re.compile(r"connection refused|errno 111\b", re.IGNORECASE), "connection refused"),
    (re.compile(r"timed? ?out|timeout", re.IGNORECASE), "timeout"),
    (re.compile(r"name or service not known|nodename nor servname|getaddrinfo|name resolution", re.I), "unknown host"),
    (re.compile(r"certificate|ssl", re.IGNORECASE), "TLS error"),
    (re.compile(r"network is unreachable|no route to host", re.IGNORECASE), "network unreachable"),
)


def failure_reason(messages: Iterable[tuple[int, str]]) -> str:
    """One line from apprise's (scrubbed) log lines of a failed send: what kind of failure
    ("HTTP 500", "connection refused", "timeout"), then apprise's own warning."""
    messages = list(messages)
    # Warnings, and the exception apprise logs at DEBUG; not its other DEBUG lines (the payload).
    text = " ".join(message for level, message in messages if level >= logging.WARNING or "Exception" in message)
    kind = next((f"HTTP {match.group(1)}" for match in [_STATUS.search(text)] if match), "")
    kind = kind or next((cause for pattern, cause in _CAUSES if pattern.search(text)), "")
    said = next((message for level, message in messages if level >= logging.WARNING), "")
    said = said if len(said) <= 200 else said[:199] + "…"
    return ": ".join(part for part in (kind, said) if part)
