"""Channels, secrets in logs, systemd's notify protocol and the wall-clock timer (SPEC §4).

Deliveries are real: apprise's json:// posts to a JsonReceiver (tests/receivers.py) on 127.0.0.1.
The systemd side is a datagram socket bound here, read back as systemd would read it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import select
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import config_from
from plans import citrate, magnesium, meal
from receivers import JsonReceiver

from mgremind.logs import SecretFilter, setup_logging
from mgremind.model import Config
from mgremind.notify import (
    Channel,
    ChannelError,
    channel_key,
    configured_urls,
    console_channel,
    load_channels,
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
