"""Channels, secrets in logs, systemd's notify protocol and the wall-clock timer (SPEC §4).

Deliveries are real: apprise's json:// posts to a JsonReceiver (tests/receivers.py) on 127.0.0.1.
Which of apprise's plugins a configuration loads is seen in a fresh interpreter's sys.modules.
The systemd side is a datagram socket bound here, read back as systemd would read it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import config_from
from plans import citrate, magnesium, meal
from receivers import JsonReceiver, SmtpReceiver

from mgremind.logs import LocalTimeFormatter, SecretFilter, setup_logging
from mgremind.model import Config
from mgremind.notify import (
    Channel,
    ChannelError,
    channel_key,
    configured_urls,
    console_channel,
    load_channels,
    plugin_modules,
    secret_fragments,
    send_safely,
)
from mgremind.systemd import Notifier
from mgremind.wallclock import WallClockTimer

PASSWORD = "hunter2pass"

PLAN = meal("breakfast", "07:30") + citrate(100) + magnesium(100)


def with_notify(notify: str) -> Config:
    """The one-meal plan above with the given [notify] table body."""
    return config_from(f"[notify]\n{notify}\n{PLAN}")


def toml_string(value: str | Path) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[JsonReceiver, JsonReceiver]]:
    """Two receivers for the whole module (stopping one takes half a second)."""
    first, second = JsonReceiver().start(), JsonReceiver().start()
    yield first, second
    first.stop()
    second.stop()


def fresh(receiver: JsonReceiver) -> JsonReceiver:
    with receiver._lock:
        receiver.received.clear()
        receiver.refused = 0
        receiver.failing = False
    return receiver


@pytest.fixture
def receiver(receivers: tuple[JsonReceiver, JsonReceiver]) -> JsonReceiver:
    return fresh(receivers[0])


@pytest.fixture
def other_receiver(receivers: tuple[JsonReceiver, JsonReceiver]) -> JsonReceiver:
    return fresh(receivers[1])


# ---------------------------------------------------------------------------- channels from the configuration


def test_console_channel_is_on_when_nothing_is_configured() -> None:
    channels = load_channels(config_from(PLAN), {})
    assert [(channel.key, channel.label) for channel in channels] == [("console", "console")]


def test_console_channel_writes_title_and_indented_body() -> None:
    stream = io.StringIO()
    assert console_channel(stream).send("Magnesium: breakfast", "Magnesium citrate: 1 capsule (100 mg)\nnote") is True
    assert stream.getvalue() == "Magnesium: breakfast\n  Magnesium citrate: 1 capsule (100 mg)\n  note\n"


def test_urls_send_to_a_json_receiver(receiver: JsonReceiver) -> None:
    url = receiver.url(f"user:{PASSWORD}@")
    channels = load_channels(with_notify(f"urls = [{toml_string(url)}]"), {})
    assert len(channels) == 1  # console defaults to off once a URL is given
    channel = channels[0]
    assert PASSWORD not in channel.label and PASSWORD not in channel.key
    assert channel.label.startswith("json://")
    assert channel.key == channel_key(url)  # stable across restarts: the state is keyed on it
    assert send_safely(channel, "Magnesium: breakfast", "Magnesium citrate: 1 capsule (100 mg)") is None
    [message] = receiver.messages()
    assert (message.title, message.body) == ("Magnesium: breakfast", "Magnesium citrate: 1 capsule (100 mg)")


def test_console_can_be_added_to_urls(receiver: JsonReceiver) -> None:
    channels = load_channels(with_notify(f"urls = [{toml_string(receiver.url())}]\nconsole = true"), {})
    assert [channel.key for channel in channels][-1] == "console"
    assert len(channels) == 2


def test_urls_file_skips_comments_and_blank_lines(
    tmp_path: Path, receiver: JsonReceiver, other_receiver: JsonReceiver
) -> None:
    urls_file = tmp_path / "secret-urls.txt"
    urls_file.write_text(
        f"# my channels\n\n{receiver.url()}\n   \n   # {other_receiver.url('x:commented@')}\n"
        f"  {other_receiver.url(f'user:{PASSWORD}@')}  \n",
        encoding="utf-8",
    )
    config = with_notify(f"urls_file = {toml_string(urls_file)}")
    assert configured_urls(config, {}) == [receiver.url(), other_receiver.url(f"user:{PASSWORD}@")]
    channels = load_channels(config, {})
    assert len(channels) == 2
    for channel in channels:
        assert send_safely(channel, "t", "b") is None
    assert [m.title for m in receiver.messages()] == ["t"]
    assert [m.title for m in other_receiver.messages()] == ["t"]


def test_credential_of_the_same_name_takes_precedence(
    tmp_path: Path, receiver: JsonReceiver, other_receiver: JsonReceiver
) -> None:
    urls_file = tmp_path / "conf" / "secret-urls.txt"
    urls_file.parent.mkdir()
    urls_file.write_text(f"{receiver.url()}\n", encoding="utf-8")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    config = with_notify(f"urls_file = {toml_string(urls_file)}")

    # No credential of that name: the configured file is read.
    assert configured_urls(config, {"CREDENTIALS_DIRECTORY": str(credentials)}) == [receiver.url()]

    (credentials / "secret-urls.txt").write_text(f"# from LoadCredential=\n{other_receiver.url()}\n", encoding="utf-8")
    [channel] = load_channels(config, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert send_safely(channel, "via credential", "b") is None
    assert [m.title for m in other_receiver.messages()] == ["via credential"]
    assert receiver.messages() == []


def test_credential_is_used_even_when_the_configured_file_is_absent(tmp_path: Path, receiver: JsonReceiver) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "urls").write_text(f"{receiver.url()}\n", encoding="utf-8")
    config = with_notify(f"urls_file = {toml_string(tmp_path / 'nowhere' / 'urls')}")
    assert configured_urls(config, {"CREDENTIALS_DIRECTORY": str(credentials)}) == [receiver.url()]


def test_unreadable_urls_file_is_a_channel_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing-urls.txt"
    with pytest.raises(ChannelError) as caught:
        load_channels(with_notify(f"urls_file = {toml_string(missing)}"), {})
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "template"),
    [
        ("apprise.txt", "# a TEXT apprise configuration\n{url}\n"),
        ("apprise.yml", "version: 1\nurls:\n  - {url}\n"),
    ],
)
def test_apprise_config_file(tmp_path: Path, receiver: JsonReceiver, name: str, template: str) -> None:
    document = tmp_path / name
    url = receiver.url(f"user:{PASSWORD}@")
    document.write_text(template.format(url=url), encoding="utf-8")
    channels = load_channels(with_notify(f"config = {toml_string(document)}"), {})
    assert len(channels) == 1
    assert PASSWORD not in channels[0].label
    assert send_safely(channels[0], "from the config file", "body") is None
    assert [(m.title, m.body) for m in receiver.messages()] == [("from the config file", "body")]


def test_missing_apprise_config_file_is_a_channel_error(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match="does not exist"):
        load_channels(with_notify(f"config = {toml_string(tmp_path / 'apprise.yml')}"), {})


def test_apprise_config_file_without_a_service_is_a_channel_error(tmp_path: Path) -> None:
    document = tmp_path / "apprise.txt"
    document.write_text("# nothing here yet\n", encoding="utf-8")
    with pytest.raises(ChannelError) as caught:
        load_channels(with_notify(f"config = {toml_string(document)}"), {})
    assert str(document) in str(caught.value)


def test_invalid_url_is_a_channel_error_without_the_secret() -> None:
    config = with_notify(f'urls = ["json://127.0.0.1/ok", "nosuchservice://user:{PASSWORD}@example.com/x"]')
    with pytest.raises(ChannelError) as caught:
        load_channels(config, {})
    message = str(caught.value)
    assert "notification URL 2" in message
    assert PASSWORD not in message and "example.com" not in message


# ---------------------------------------------------------------------------- labels


def test_labels_tell_channels_to_one_host_apart_and_hold_no_secret() -> None:
    first = f"json://alice:{PASSWORD}@127.0.0.1:8080/notify/TOKENAAA111?key=QueryValue99"
    second = f"json://alice:{PASSWORD}@127.0.0.1:8080/notify/TOKENBBB222"
    channels = load_channels(with_notify(f"urls = [{toml_string(first)}, {toml_string(second)}]"), {})
    assert (
        [channel.label for channel in channels]
        == [
            f"json://127.0.0.1:8080 #{channel_key(first)[:6]}",  # a fingerprint of the key the state knows
            f"json://127.0.0.1:8080 #{channel_key(second)[:6]}",
        ]
    )
    assert channels[0].label != channels[1].label
    for channel in channels:
        for secret in ("alice", PASSWORD, "notify", "TOKENAAA111", "TOKENBBB222", "QueryValue99"):
            assert secret not in channel.label


def test_several_urls_in_one_string_are_channels_of_their_own() -> None:
    """apprise splits "json://a json://b": each service its own key, so its own label and records."""
    both = "json://127.0.0.1:8080/TOKENAAA111 json://127.0.0.1:8080/TOKENBBB222"
    first, second = load_channels(with_notify(f"urls = [{toml_string(both)}]"), {})
    assert first.key == channel_key(both)  # the key it had alone: its records stay its own
    assert second.key != first.key and second.label != first.label


@pytest.mark.parametrize(
    ("url", "label", "secrets"),
    [
        # The host is a token (bot id, user key, webhook id) or a topic: the scheme alone.
        ("tgram://123456789:AAEabcdefghijklmnopqrstuvwxyz01234/987654", "tgram://", ["123456789", "AAEabcdefgh"]),
        ("pover://UserKeyAbc123@AppTokenXyz789", "pover://", ["UserKeyAbc123", "AppTokenXyz789"]),
        ("ntfy://MyPrivateTopic42", "ntfys://", ["MyPrivateTopic42"]),  # ntfy.sh: the topic is the key
        (
            "https://discord.com/api/webhooks/4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
            "discord://",
            ["4174216298", "JHMHI8qBe7bk2ZwO5U711o3dV_js"],
        ),
        (
            "ntfys://alice:pw@ntfy.example.com/MyPrivateTopic42",
            "ntfys://ntfy.example.com",
            ["alice", "MyPrivateTopic42"],
        ),
        (
            "mailto://bob:Hunter2Secret@smtp.example.com:2525?to=me@example.com",
            "mailto://smtp.example.com:2525",
            ["bob"],
        ),
        ("json://[::1]:9000/TOKENAAA111", "json://[::1]:9000", ["TOKENAAA111"]),
    ],
)
def test_a_label_shows_a_host_only_where_it_is_one(url: str, label: str, secrets: list[str]) -> None:
    [channel] = load_channels(with_notify(f"urls = [{toml_string(url)}]"), {})
    assert channel.label == f"{label} #{channel_key(url)[:6]}"
    for secret in [*secrets, "Hunter2Secret"]:
        assert secret not in channel.label


# ---------------------------------------------------------------------------- only the plugins needed

SETUP_IN_A_FRESH_INTERPRETER = """
import json, sys
from pathlib import Path
from mgremind.config.files import parse_toml
from mgremind.loader import parse_config
from mgremind.logs import SecretFilter
from mgremind.notify import send_safely, setup_channels

config = parse_config(parse_toml(sys.stdin.read(), "config.toml"), "config.toml", Path("/nonexistent"), "UTC")
setup = setup_channels(config, {}, SecretFilter())
sent = [send_safely(channel, "Magnesium: lunch", channel.label) for channel in setup.channels]
plugins = sorted({name.split(".")[2] for name in sys.modules if name.startswith("apprise.plugins.")})
print(json.dumps({"plugins": plugins, "labels": [channel.label for channel in setup.channels], "sent": sent}))
"""


def fresh_setup(notify: str) -> tuple[set[str], list[str], list[str | None]]:
    """`setup_channels`, then a send to each channel, in a new interpreter (apprise not yet loaded):
    apprise's plugin modules it imported ("custom_json", "email"...), the channels' labels, and
    send_safely's answer for each."""
    result = subprocess.run(
        [sys.executable, "-c", SETUP_IN_A_FRESH_INTERPRETER],
        input=f"[notify]\n{notify}\n{PLAN}",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return set(data["plugins"]), data["labels"], data["sent"]


SOME_PLUGINS = {"telegram", "email", "ntfy", "discord", "slack", "pushover", "custom_json"}  # of apprise's ~216


def test_a_json_channel_loads_apprise_json_plugin_alone(receiver: JsonReceiver) -> None:
    plugins, labels, sent = fresh_setup(f"urls = [{toml_string(receiver.url(f'user:{PASSWORD}@'))}]")
    assert "custom_json" in plugins
    assert not plugins & (SOME_PLUGINS - {"custom_json"})
    assert len(plugins) < 5, plugins  # base and json: not apprise's ~216
    assert sent == [None]
    assert [message.body for message in receiver.messages()] == labels  # delivered through it


def test_an_ntfy_channel_loads_the_ntfy_plugin(receiver: JsonReceiver) -> None:
    plugins, labels, sent = fresh_setup(f'urls = ["ntfy://127.0.0.1:{receiver.port}/MyTopic42"]')
    assert "ntfy" in plugins
    assert not plugins & (SOME_PLUGINS - {"ntfy"})
    assert sent == [None]
    assert [(message.title, message.body) for message in receiver.messages()] == [("Magnesium: lunch", labels[0])]


def test_a_mailto_channel_loads_the_email_plugin_of_another_name(smtp_receiver: SmtpReceiver) -> None:
    plugins, _, sent = fresh_setup(f"urls = [{toml_string(smtp_receiver.url())}]")
    assert "email" in plugins
    assert not plugins & (SOME_PLUGINS - {"email"})
    assert sent == [None]
    assert [message.title for message in smtp_receiver.messages()] == ["Magnesium: lunch"]


def test_several_schemes_load_their_plugins_and_caregivers_theirs(
    receiver: JsonReceiver, smtp_receiver: SmtpReceiver
) -> None:
    plugins, _, _ = fresh_setup(
        f'urls = ["{receiver.url()}", "tgram://123456789:AAEabcdefghijklmnopqrstuvwxyz01234/987654"]\n'
        f"caregiver_urls = [{toml_string(smtp_receiver.url())}]"
    )
    assert plugins >= {"custom_json", "telegram", "email"}
    assert not plugins & {"ntfy", "discord", "slack", "pushover"}


def test_a_scheme_no_module_is_named_after_has_apprise_load_every_plugin(receiver: JsonReceiver) -> None:
    """A service's own https:// URL is apprise's to recognise, by asking every plugin."""
    webhook = "https://discord.com/api/webhooks/4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"
    plugins, labels, sent = fresh_setup(f'urls = ["{receiver.url()}", "{webhook}"]')
    assert plugins >= SOME_PLUGINS  # all of them
    assert labels[1].startswith("discord:// #")
    assert sent[0] is None and len(receiver.messages()) == 1


def test_channels_built_before_an_apprise_configuration_file_still_deliver(
    tmp_path: Path, receiver: JsonReceiver, other_receiver: JsonReceiver
) -> None:
    """The URLs of an apprise configuration file are known once apprise has read it: every plugin
    is loaded then, after the json:// channel of `urls` was built on its plugin alone."""
    document = tmp_path / "apprise.yml"
    document.write_text(f"version: 1\nurls:\n  - {other_receiver.url()}\n", encoding="utf-8")
    plugins, _, sent = fresh_setup(f'urls = ["{receiver.url()}"]\nconfig = {toml_string(document)}')
    assert plugins >= SOME_PLUGINS
    assert sent == [None, None]
    assert len(receiver.messages()) == 1 and len(other_receiver.messages()) == 1


# The services people name for reminders (README, SPEC §4 and §8), each scheme with and without TLS.
COMMON_SCHEMES = [
    "ntfy",
    "ntfys",
    "mailto",
    "mailtos",
    "tgram",
    "matrix",
    "matrixs",
    "json",
    "jsons",
    "form",
    "forms",
    "xml",
    "xmls",
    "gotify",
    "gotifys",
    "discord",
    "slack",
    "pover",
    "pbul",
    "signal",
    "signals",
    "hassio",
    "hassios",
    "mmost",
    "mmosts",
    "rocket",
    "rockets",
    "toot",
    "toots",
]


def test_the_common_schemes_of_the_installed_apprise_are_loaded_alone() -> None:
    """Each scheme of the services people use is found with its own module, not by loading them
    all. (A scheme of another service that a newer apprise names otherwise only costs memory:
    apprise then loads every plugin, as it would by itself; this test does not pin apprise.)"""
    listing = (
        "import json; from apprise.plugins import N_MGR; "
        "print(json.dumps({scheme: N_MGR[scheme].__module__.split('.')[2] for scheme in N_MGR.schemas()}))"
    )
    result = subprocess.run([sys.executable, "-c", listing], capture_output=True, text=True, timeout=60, check=True)
    modules = json.loads(result.stdout)
    assert set(COMMON_SCHEMES) <= modules.keys()
    missed = {scheme: modules[scheme] for scheme in COMMON_SCHEMES if modules[scheme] not in plugin_modules(scheme)}
    assert missed == {}


# ---------------------------------------------------------------------------- sending


def test_send_safely_reports_a_failing_receiver(receiver: JsonReceiver) -> None:
    [channel] = load_channels(with_notify(f"urls = [{toml_string(receiver.url(f'user:{PASSWORD}@'))}]"), {})
    receiver.failing = True
    error = send_safely(channel, "t", "b")
    assert error == "not accepted"
    assert receiver.refused == 1
    receiver.failing = False
    assert send_safely(channel, "t", "again") is None
    assert [m.body for m in receiver.messages()] == ["again"]


def test_send_safely_turns_a_plugin_exception_into_its_type_name() -> None:
    def explode(title: str, body: str) -> bool:
        raise RuntimeError(f"cannot reach json://user:{PASSWORD}@host")

    assert send_safely(Channel("k", "broken", explode), "t", "b") == "RuntimeError"


# ---------------------------------------------------------------------------- secrets out of the logs


def scrubbing_logger(fragments: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(SecretFilter(fragments))
    logger = logging.getLogger(f"mgremind-test-{len(fragments)}-{id(stream)}")
    logger.propagate = False
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_secret_fragments_hold_the_url_and_its_password() -> None:
    url = f"json://user:{PASSWORD}@127.0.0.1:8080/notify"
    fragments = secret_fragments([url])
    assert url in fragments
    assert PASSWORD in fragments
    assert "user" not in fragments and "notify" not in fragments  # shown by apprise with privacy on
    assert fragments == sorted(fragments, key=len, reverse=True)  # the whole URL is replaced first


def test_secret_fragments_hold_a_token_in_the_path() -> None:
    token = "abcdefghijklmnopqrstuvwxyz0123456"
    fragments = secret_fragments([f"tgram://123456789:{token}/"])
    assert token in fragments


def test_secret_filter_scrubs_message_args_and_exceptions() -> None:
    url = f"json://user:{PASSWORD}@127.0.0.1:8080/notify"
    logger, stream = scrubbing_logger(secret_fragments([url]))
    logger.info("sending to %s now", url)
    logger.warning(f"password {PASSWORD} refused")
    logger.info("mapping %(where)s", {"where": url})
    try:
        raise ConnectionError(f"cannot connect to {url}")
    except ConnectionError:
        logger.exception("delivery failed")
    text = stream.getvalue()
    assert PASSWORD not in text
    assert url not in text
    lines = text.splitlines()
    assert lines[0] == "INFO sending to *** now"
    assert lines[1] == "WARNING password *** refused"
    assert lines[2] == "INFO mapping ***"
    assert lines[3] == "ERROR delivery failed (ConnectionError: cannot connect to ***)"
    assert "Traceback" not in text
    assert len(lines) == 4


def test_secret_filter_leaves_other_records_alone() -> None:
    logger, stream = scrubbing_logger([PASSWORD])
    logger.info("sent %s to %s", "2026-11-23/breakfast", "console")
    assert stream.getvalue() == "INFO sent 2026-11-23/breakfast to console\n"


def test_setup_logging_scrubs_apprise_records_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("apprise").level)
    try:
        secrets = setup_logging()
        secrets.fragments = secret_fragments([f"json://user:{PASSWORD}@127.0.0.1/notify"])
        logging.getLogger("apprise").warning("Failed to send to json://user:%s@127.0.0.1/notify", PASSWORD)
        logging.getLogger("apprise").info("apprise INFO lines are not shown: %s", PASSWORD)
        logging.getLogger("mgremind").info("started")
    finally:
        root.handlers[:], level, apprise_level = saved
        root.setLevel(level)
        logging.getLogger("apprise").setLevel(apprise_level)
    err = capsys.readouterr().err
    assert PASSWORD not in err
    assert "WARNING Failed to send to ***" in err
    assert "INFO started" in err
    assert len(err.splitlines()) == 2


# ---------------------------------------------------------------------------- log lines: when, in which zone

LOG_ONE_LINE = """
import logging, sys
from mgremind.logs import setup_logging
setup_logging()
logger = logging.getLogger("mgremind")
arguments = ("2026-11-29/dinner", "console")
record = logger.makeRecord("mgremind", logging.INFO, "test", 1, "sent %s to %s", arguments, None)
record.created = float(sys.argv[1])
logger.handle(record)
"""

WINTER = dt.datetime(2026, 11, 29, 17, 50, 10, 123000, tzinfo=dt.timezone.utc).timestamp()
SUMMER = dt.datetime(2026, 7, 1, 4, 5, 6, 789000, tzinfo=dt.timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("zone", "created", "stamp"),
    [
        ("Europe/Paris", WINTER, "2026-11-29T18:50:10.123+01:00"),
        ("Europe/Paris", SUMMER, "2026-07-01T06:05:06.789+02:00"),
        ("America/New_York", WINTER, "2026-11-29T12:50:10.123-05:00"),
        ("Asia/Kolkata", WINTER, "2026-11-29T23:20:10.123+05:30"),
        ("UTC", SUMMER, "2026-07-01T04:05:06.789+00:00"),
    ],
)
def test_log_lines_begin_with_the_local_time_and_its_utc_offset(zone: str, created: float, stamp: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "JOURNAL_STREAM"} | {"TZ": zone}
    result = subprocess.run(
        [sys.executable, "-c", LOG_ONE_LINE, repr(created)], capture_output=True, text=True, env=env, check=True
    )
    assert result.stderr == f"{stamp} INFO sent 2026-11-29/dinner to console\n"


def test_log_lines_to_the_journal_carry_no_timestamp(tmp_path: Path) -> None:
    """journald stamps each line itself: a priority prefix and the message, nothing before."""
    log = tmp_path / "journal"
    with log.open("w") as stderr:
        status = os.fstat(stderr.fileno())
        env = os.environ | {"TZ": "Europe/Paris", "JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}
        subprocess.run([sys.executable, "-c", LOG_ONE_LINE, repr(WINTER)], stderr=stderr, env=env, check=True)
    assert log.read_text(encoding="utf-8") == "<6>sent 2026-11-29/dinner to console\n"


def test_local_time_formatter_in_this_process_names_its_offset() -> None:
    record = logging.LogRecord("mgremind", logging.WARNING, __file__, 1, "channel %s failed", ("x",), None)
    line = LocalTimeFormatter().format(record)
    stamp, level, message = line.split(" ", 2)
    assert dt.datetime.fromisoformat(stamp).utcoffset() is not None  # an offset, whatever the zone here
    assert abs(dt.datetime.fromisoformat(stamp).timestamp() - record.created) < 0.001
    assert (level, message) == ("WARNING", "channel x failed")


# ---------------------------------------------------------------------------- systemd's notify protocol


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound as systemd's would be (a short path: AF_UNIX allows 108 bytes)."""
    directory = tempfile.mkdtemp(prefix="mgn-")
    address = os.path.join(directory, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    yield sock, address
    sock.close()
    os.unlink(address)
    os.rmdir(directory)


def received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_notifier_speaks_the_protocol(notify_socket: tuple[socket.socket, str]) -> None:
    sock, address = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": address})
    try:
        assert notifier.enabled
        notifier.ready("next: breakfast at 07:30 on Tue 2026-11-24")
        assert received(sock) == ["READY=1", "STATUS=next: breakfast at 07:30 on Tue 2026-11-24"]
        notifier.status("no reminder until tomorrow")
        assert received(sock) == ["STATUS=no reminder until tomorrow"]
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        notifier.reloading()
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        reloading, monotonic = received(sock)
        assert reloading == "RELOADING=1"
        assert monotonic.startswith("MONOTONIC_USEC=")
        assert before <= int(monotonic.removeprefix("MONOTONIC_USEC=")) <= after
        notifier.watchdog()
        assert received(sock) == ["WATCHDOG=1"]
        notifier.stopping()
        assert received(sock) == ["STOPPING=1"]
    finally:
        notifier.close()


def test_notifier_reaches_an_abstract_socket() -> None:
    name = f"mgremind-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
    try:
        notifier.ready("up")
        assert received(sock) == ["READY=1", "STATUS=up"]
    finally:
        notifier.close()
        sock.close()


def test_notifier_without_a_socket_does_nothing() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    notifier.ready("x")
    notifier.watchdog()
    notifier.stopping()
    assert notifier.watchdog_interval is None


def test_notifier_survives_a_vanished_socket(caplog: pytest.LogCaptureFixture) -> None:
    directory = tempfile.mkdtemp(prefix="mgn-")
    try:
        notifier = Notifier({"NOTIFY_SOCKET": os.path.join(directory, "gone")})
        with caplog.at_level(logging.WARNING, logger="mgremind"):
            notifier.ready("x")  # must not raise: reminders go on without systemd
        notifier.close()
    finally:
        os.rmdir(directory)
    assert any("cannot notify systemd" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("environ", "interval"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),  # half of 30 s
        ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid())}, 1.5),  # half of 3 s, meant for us
        ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),  # for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(environ: dict[str, str], interval: float | None) -> None:
    assert Notifier(environ).watchdog_interval == interval


# ---------------------------------------------------------------------------- the wall-clock timer


def readable(timer: WallClockTimer, timeout: float) -> bool:
    ready, _, _ = select.select([timer], [], [], timeout)
    return timer in ready


def test_wall_clock_timer_fires_when_armed() -> None:
    timer = WallClockTimer()
    try:
        assert timer.enabled
        timer.arm(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=0.2))
        assert readable(timer, 5.0)
        timer.drain()
        assert not readable(timer, 0)  # acknowledged: quiet until armed again
        timer.arm(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=10))  # already past: at once
        assert readable(timer, 5.0)
        timer.drain()
    finally:
        timer.close()
    assert not timer.enabled


def test_wall_clock_timer_disarmed_stays_quiet() -> None:
    timer = WallClockTimer()
    try:
        timer.arm(None)
        assert not readable(timer, 0.3)
        timer.arm(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=0.2))
        timer.arm(None)  # disarmed before it fires
        assert not readable(timer, 0.4)
    finally:
        timer.close()
