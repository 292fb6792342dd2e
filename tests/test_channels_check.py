"""Reminders must reach someone (SPEC §4, v2): `check` refuses exactly what `run` refuses.

A configuration without a channel (no URL, an empty urls_file, console = false), a urls_file or
apprise configuration that is missing, a FIFO, a device or over 1 MB, a URL apprise cannot parse:
`check` and `run` exit 2 with one line naming the file, never a traceback, never a secret;
`notify-test` exits 1 without a channel, and tells each failure's reason, caregivers included.
Real apprise against real local receivers (tests/receivers.py).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import Mgremind
from daemon_harness import MGREMIND, MGREMIND_ENVIRONMENT
from plans import citrate, magnesium, meal
from receivers import JsonReceiver, free_port

PLAN = meal("breakfast", "07:30") + citrate(100) + magnesium(100)
TOKEN = "Tok3nSecretAbcdef"  # what must never be shown
PASSWORD = "Passw0rdSecret"


def write_config(folder: Path, notify: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f"[notify]\n{notify}\n\n{PLAN}", encoding="utf-8")
    return path


def secret_file(folder: Path, name: str, text: str) -> Path:
    """A urls_file as the README makes it: `install -m 600 /dev/null FILE`, then the URLs."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def in_subprocess(
    config: Path, command: str, state: Path, timeout: float = 30, options: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`mgremind -c CONFIG COMMAND [OPTIONS]` in its own process, with a time limit: a FIFO must
    not hang it, and `run` must leave before it starts the daemon."""
    env = {key: value for key, value in os.environ.items() if key not in MGREMIND_ENVIRONMENT}
    env["STATE_DIRECTORY"] = str(state)
    result = subprocess.run(
        [str(MGREMIND), "-c", str(config), command, *options],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def one_line(stderr: str) -> str:
    """mgremind's own error line (apprise's scrubbed log lines may come before it)."""
    lines = [line for line in stderr.splitlines() if line.startswith("mgremind: ")]
    assert len(lines) == 1, stderr
    return lines[0]


# ---------------------------------------------------------------------------- no channel at all


def no_channel_configs(folder: Path) -> dict[str, Path]:
    empty = folder / "secret-urls.txt"
    empty.touch(mode=0o600)  # the README's `install -m 600 /dev/null secret-urls.txt`
    comments = secret_file(folder, "comments.txt", "# my phone, later\n\n   \n")
    configs = {}
    for name, notify in [
        ("empty urls_file", f'urls_file = "{empty}"'),
        ("urls_file of comments", f'urls_file = "{comments}"'),
        ("console = false", "console = false"),
        ("urls = [] and console = false", "urls = []\nconsole = false"),
    ]:
        sub = folder / name.replace(" ", "_").replace("=", "").replace("[]", "")
        sub.mkdir()
        configs[name] = write_config(sub, notify)
    return configs


@pytest.mark.parametrize(
    "case", ["empty urls_file", "urls_file of comments", "console = false", "urls = [] and console = false"]
)
def test_no_channel_is_an_error_of_check_and_notify_test(mgremind: Mgremind, tmp_path: Path, case: str) -> None:
    config = no_channel_configs(tmp_path)[case]
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "OK" not in checked.stdout
    line = one_line(checked.stderr)
    assert "no channel" in line and "console = true" in line
    named = {"empty urls_file": tmp_path / "secret-urls.txt", "urls_file of comments": tmp_path / "comments.txt"}
    assert str(named.get(case, config)) in line  # the file to fix
    tested = mgremind("-c", str(config), "notify-test")
    assert tested.returncode == 1, tested.stdout + tested.stderr
    assert "no channel" in one_line(tested.stderr)


def test_run_without_a_channel_exits_2_before_the_daemon_starts(tmp_path: Path) -> None:
    for config in no_channel_configs(tmp_path).values():
        ran = in_subprocess(config, "run", tmp_path / "state")
        assert ran.returncode == 2, ran.stderr
        assert "no channel" in one_line(ran.stderr)
        assert "started" not in ran.stderr


# ---------------------------------------------------------------------------- what run refuses, check refuses


def test_missing_urls_file(mgremind: Mgremind, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    config = write_config(tmp_path, f'urls_file = "{missing}"')
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 2
    assert one_line(checked.stderr) == f"mgremind: {missing}: the urls_file does not exist"
    ran = in_subprocess(config, "run", tmp_path / "state")
    assert (ran.returncode, one_line(ran.stderr)) == (2, one_line(checked.stderr))


def test_unknown_scheme_in_urls(mgremind: Mgremind, tmp_path: Path) -> None:
    config = write_config(tmp_path, f'urls = ["foo://user:{PASSWORD}@bar/{TOKEN}"]')
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 2
    assert "notification URL 1 (foo://***)" in one_line(checked.stderr)
    assert PASSWORD not in checked.stderr and TOKEN not in checked.stderr
    ran = in_subprocess(config, "run", tmp_path / "state")
    assert (ran.returncode, one_line(ran.stderr)) == (2, one_line(checked.stderr))
    assert PASSWORD not in ran.stderr and TOKEN not in ran.stderr


def test_a_urls_file_line_that_is_no_url_is_named_by_its_number_never_shown(
    mgremind: Mgremind, tmp_path: Path, json_receiver: JsonReceiver
) -> None:
    urls = secret_file(tmp_path, "urls.txt", f"# mine\n{json_receiver.url()}\n\n{TOKEN}\n")
    config = write_config(tmp_path, f'urls_file = "{urls}"')
    for command in ("check", "notify-test"):
        result = mgremind("-c", str(config), command)
        assert result.returncode == 2
        assert one_line(result.stderr) == (
            f"mgremind: {urls}: line 4 is not a URL apprise understands; see `apprise --details` for its services"
        )
        assert TOKEN not in result.stdout + result.stderr  # apprise's own "Unsupported URL" line scrubbed too
    assert json_receiver.messages() == []  # notify-test sent nothing: the configuration is refused whole


def test_a_urls_file_with_an_unknown_scheme(mgremind: Mgremind, tmp_path: Path) -> None:
    urls = secret_file(tmp_path, "urls.txt", f"foo://user:{PASSWORD}@bar/{TOKEN}\n")
    config = write_config(tmp_path, f'urls_file = "{urls}"')
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 2
    assert f"{urls}: line 1 is not a URL" in one_line(checked.stderr)
    assert PASSWORD not in checked.stderr and TOKEN not in checked.stderr


def test_a_caregiver_url_apprise_cannot_parse(mgremind: Mgremind, tmp_path: Path) -> None:
    config = write_config(tmp_path, f'console = true\ncaregiver_urls = ["nosuch://{TOKEN}@host"]')
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 2
    assert "caregiver URL 1 (nosuch://***)" in one_line(checked.stderr)
    assert TOKEN not in checked.stderr


# A URL with its "://" mistyped: apprise cannot tell its scheme and logs it whole ("Unsupported URL:
# json//alice:Hunter2Secret@…"). In the configuration file it is refused by key, before apprise.
MISTYPED = "json//alice:Hunter2Secret@127.0.0.1:9/TOKENAAA111"


@pytest.mark.parametrize(
    ("where", "named"),
    [
        ("urls", "config.toml: notify.urls[1]: is not an apprise URL (expected SCHEME://…"),
        ("caregiver_urls", "config.toml: notify.caregiver_urls[0]: is not an apprise URL (expected SCHEME://…"),
        ("urls_file", "urls.txt: line 3 is not a URL apprise understands; see `apprise --details`"),
    ],
)
def test_a_mistyped_url_is_refused_by_every_command_and_its_secrets_never_shown(
    tmp_path: Path, json_receiver: JsonReceiver, where: str, named: str
) -> None:
    urls = secret_file(tmp_path, "urls.txt", f"# mine\n{json_receiver.url()}\n{MISTYPED}\n")
    notify = {
        "urls": f'urls = ["{json_receiver.url()}", "{MISTYPED}"]',
        "urls_file": f'urls_file = "{urls}"',
        "caregiver_urls": f'urls = ["{json_receiver.url()}"]\ncaregiver_urls = ["{MISTYPED}"]',
    }[where]
    config = write_config(tmp_path, notify)
    for command, options in [("check", ()), ("notify-test", ()), ("run", ()), ("run", ("--log-level", "debug"))]:
        result = in_subprocess(config, command, tmp_path / "state", options=options)
        shown = result.stdout + result.stderr
        assert result.returncode == 2, (command, shown)
        assert named in result.stderr, (command, shown)  # the key or the line to fix
        assert "Hunter2Secret" not in shown and "TOKENAAA111" not in shown, (command, shown)  # apprise's lines too
        assert "started" not in shown  # `run` left before the daemon began
    assert json_receiver.messages() == []  # notify-test sent nothing: the configuration is refused whole


@pytest.mark.parametrize("key", ["urls_file", "config"])
def test_a_fifo_is_refused_without_hanging(tmp_path: Path, key: str) -> None:
    fifo = tmp_path / "urls.fifo"
    os.mkfifo(fifo)
    config = write_config(tmp_path, f'{key} = "{fifo}"')
    for command, status in (("check", 2), ("notify-test", 2), ("run", 2)):
        result = in_subprocess(config, command, tmp_path / "state", timeout=20)  # a hang fails here
        assert result.returncode == status, result.stderr
        assert f"{fifo}:" in one_line(result.stderr) and "FIFO" in one_line(result.stderr)


@pytest.mark.parametrize("key", ["urls_file", "config"])
def test_a_device_is_refused(mgremind: Mgremind, tmp_path: Path, key: str) -> None:
    config = write_config(tmp_path, f'{key} = "/dev/zero"')
    checked = mgremind("-c", str(config), "check")  # /dev/zero read whole: a MemoryError, once
    assert checked.returncode == 2
    assert one_line(checked.stderr).startswith("mgremind: /dev/zero: ")
    assert "character device" in checked.stderr


def test_a_directory_is_refused(mgremind: Mgremind, tmp_path: Path) -> None:
    config = write_config(tmp_path, f'urls_file = "{tmp_path}"')
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 2
    assert "a directory" in one_line(checked.stderr)


@pytest.mark.parametrize("key", ["urls_file", "config"])
def test_a_file_over_1_mb_is_refused(mgremind: Mgremind, tmp_path: Path, key: str) -> None:
    big = secret_file(tmp_path, "big.txt", f"json://127.0.0.1:9/{TOKEN}\n" + "#" * (1024 * 1024))
    config = write_config(tmp_path, f'{key} = "{big}"')
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 2
    assert (
        one_line(checked.stderr) == f"mgremind: {big}: the {_what(key)} is larger than 1 MB; it should hold a few lines"
    )
    assert TOKEN not in checked.stderr


def _what(key: str) -> str:
    return "urls_file" if key == "urls_file" else "apprise configuration file"


def test_check_of_a_large_apprise_configuration_is_quick(mgremind: Mgremind, tmp_path: Path) -> None:
    """200 KB of blank lines and one long word made `check` take a minute (two quadratic regexes)."""
    document = secret_file(tmp_path, "apprise.txt", " \n" * 50_000 + "a" * 100_000 + "\njson://127.0.0.1:9/x\n")
    config = write_config(tmp_path, f'config = "{document}"')
    finished = threading.Event()
    outcome: list[int] = []

    def check() -> None:
        outcome.append(mgremind("-c", str(config), "check").returncode)
        finished.set()

    worker = threading.Thread(target=check, daemon=True)
    worker.start()
    assert finished.wait(15), "check took more than 15 s"
    assert outcome == [2]  # apprise reads no service in it: refused, as `run` refuses it


def test_valid_channels_pass_check(mgremind: Mgremind, tmp_path: Path, json_receiver: JsonReceiver) -> None:
    urls = secret_file(tmp_path, "urls.txt", f"# phone\n{json_receiver.url(f'user:{PASSWORD}@')}\n")
    document = secret_file(tmp_path, "apprise.yml", f"version: 1\nurls:\n  - {json_receiver.url()}\n")
    config = write_config(
        tmp_path, f'urls_file = "{urls}"\nconfig = "{document}"\ncaregiver_urls = ["{json_receiver.url()}"]'
    )
    checked = mgremind("-c", str(config), "check")
    assert checked.returncode == 0, checked.stderr
    assert ": OK " in checked.stdout
    assert PASSWORD not in checked.stdout + checked.stderr
    assert json_receiver.messages() == []  # check sends nothing


# ---------------------------------------------------------------------------- notify-test tells why


class _Failing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(500)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_500() -> Iterator[int]:
    """A port whose HTTP server answers every POST with 500."""
    server = HTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_notify_test_tells_each_failure_and_tests_the_caregivers(
    mgremind: Mgremind, tmp_path: Path, json_receiver: JsonReceiver, caregiver: JsonReceiver, http_500: int
) -> None:
    refused = free_port()  # nothing listens there
    failing = f"json://user:{PASSWORD}@127.0.0.1:{http_500}/{TOKEN}"
    config = write_config(
        tmp_path,
        f'urls = ["{json_receiver.url()}", "{failing}"]\n'
        f'caregiver_urls = ["{caregiver.url()}", "json://127.0.0.1:{refused}/{TOKEN}"]',
    )
    result = mgremind("-c", str(config), "notify-test")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "2 of 4 channel(s) reached"
    ok_patient, failed_500, ok_caregiver, failed_refused = [line for line in lines if "json://" in line]
    assert ok_patient.startswith("ok ") and "caregiver" not in ok_patient
    assert failed_500.startswith("FAILED") and "caregiver" not in failed_500
    assert "HTTP 500" in failed_500
    assert ok_caregiver.startswith("ok ") and "caregiver" in ok_caregiver
    assert failed_refused.startswith("FAILED") and "caregiver" in failed_refused
    assert "connection refused" in failed_refused
    assert PASSWORD not in result.stdout + result.stderr and TOKEN not in result.stdout + result.stderr
    assert len(json_receiver.messages()) == 1 and len(caregiver.messages()) == 1
