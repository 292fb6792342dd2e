"""Shared test helpers: configurations from TOML text, the command line run in this process, the
fixtures of the end-to-end tests (daemons, receivers; the harness itself is tests/daemon_harness.py),
and the order the tests run in."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from daemon_harness import MGREMIND_ENVIRONMENT, Daemon, plan_toml, write_config
from receivers import JsonReceiver, SmtpReceiver

from mgremind.cli import main
from mgremind.config.files import parse_toml
from mgremind.loader import parse_config
from mgremind.model import Config

REPO = Path(__file__).resolve().parent.parent
# Hypothesis: MGREMIND_PROPERTY_SCALE multiplies every property's max_examples (e.g. 10 for a long
# run); the suite runs at 1, its numbers chosen to keep it within its time.
PROPERTY_SCALE = float(os.environ.get("MGREMIND_PROPERTY_SCALE", "1"))


def examples(count: int) -> int:
    """`count` examples, scaled by MGREMIND_PROPERTY_SCALE."""
    return max(1, round(count * PROPERTY_SCALE))


EXAMPLE = REPO / "config.example.toml"


def config_from(text: str, *, source: str = "config.toml", zone: str = "UTC") -> Config:
    """A validated Config from TOML text (dedented); `zone` stands for the system's zone."""
    return parse_config(parse_toml(textwrap.dedent(text), source), source, Path("/nonexistent"), zone)


@pytest.fixture
def example_config() -> Config:
    return config_from(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE))


def monday(year: int = 2026, month: int = 11, day: int = 23) -> dt.date:
    """A Monday (2026-11-23 by default), for tests that care about the weekday."""
    date = dt.date(year, month, day)
    assert date.weekday() == 0
    return date


# The keys of a day in `history --json`, in order (SPEC §6).
HISTORY_DAY_KEYS = [
    "date",
    "planned",
    "taken",
    "skipped",
    "missed",
    "magnesium_planned_mg",
    "magnesium_taken_mg",
    "symptoms",
    "adherence_pct",
    "reminders",
]


# One file, five different mistakes: each must be reported, all at once (SPEC §2).
FIVE_MISTAKES = """timezone = "Mars/Olympus"

[reminders]
led = "5m"

[[meal]]
name = "breakfast"
time = "08:00"

[[meal]]
name = "dinner"
time = "7:75"

[[supplement]]
id = "vitd"
nutrient = "vitamin D"
unit = "capsule"
with = ["dinnr"]
units = 1

[[supplement]]
id = "citrate"
nutrient = "magnesium"
unit = "capsule"
mg_per_unit = 50

[magnesium]
daily_mg = "lots"
"""


# ---------------------------------------------------------------------------- the command line, in this process


@dataclass(frozen=True)
class Result:
    """What a command did: like subprocess.CompletedProcess, for `mgremind.cli.main` run here."""

    returncode: int
    stdout: str
    stderr: str


Mgremind = Callable[..., Result]


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process's environment as that of a user with no configuration anywhere: HOME and
    XDG_CONFIG_HOME are empty directories, the state goes to tmp_path/"state", the working directory
    is tmp_path; no systemd variables."""
    for key in MGREMIND_ENVIRONMENT:
        monkeypatch.delenv(key, raising=False)
    home, xdg = tmp_path / "home", tmp_path / "xdg"
    home.mkdir()
    xdg.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def mgremind(user_home: Path, capsys: pytest.CaptureFixture[str]) -> Mgremind:
    """`mgremind ARGS` run in this process (mgremind.cli.main, as the console script runs it): its
    exit status (argparse's exits included) and output. No command ever answers with a traceback."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            status = main(list(args))
        except SystemExit as exit:  # argparse: --version, --help, bad usage
            status = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, err
        return Result(status, out, err)

    return run


# ---------------------------------------------------------------------------- the end-to-end tests


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


Start = Callable[..., Daemon]


@pytest.fixture
def start(state_dir: Path) -> Iterator[Start]:
    """Starts daemons on a configuration file and the test's state directory (more environment,
    arguments after `run`, JOURNAL_STREAM: see Daemon); kills any still running at the end."""
    started: list[Daemon] = []

    def launch(
        config: Path, env: Mapping[str, str] | None = None, args: Sequence[str] = (), journal: str | None = None
    ) -> Daemon:
        daemon = Daemon(config, state_dir, env=env, args=args, journal=journal)
        started.append(daemon)
        return daemon

    yield launch
    for daemon in started:
        daemon.kill()


WritePlan = Callable[..., Path]


@pytest.fixture
def write_plan(tmp_path: Path) -> WritePlan:
    """Writes daemon_harness.plan_toml(URLS, MEALS, ...) as tmp_path/"config.toml"; returns its path."""
    return lambda urls, meals, **options: write_config(tmp_path, plan_toml(urls, meals, **options))


class _Server(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> None: ...


ServerT = TypeVar("ServerT", bound=_Server)


def _serving(receiver: ServerT) -> Iterator[ServerT]:
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def json_receiver() -> Iterator[JsonReceiver]:
    yield from _serving(JsonReceiver())


@pytest.fixture
def caregiver() -> Iterator[JsonReceiver]:
    """Another json:// receiver: the caregiver's channel."""
    yield from _serving(JsonReceiver())


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    yield from _serving(SmtpReceiver())


@dataclass(frozen=True)
class Channels:
    """A json:// and a mailto:// receiver: the two channels of a plan."""

    json: JsonReceiver
    mail: SmtpReceiver

    def urls(self) -> list[str]:
        return [self.json.url(), self.mail.url()]


@pytest.fixture
def channels(json_receiver: JsonReceiver, smtp_receiver: SmtpReceiver) -> Channels:
    return Channels(json_receiver, smtp_receiver)


# ---------------------------------------------------------------------------- the order of the tests

# pytest's cache: how long each test took when it last ran (seconds), to start the longest first.
DURATIONS = "mgremind/durations"
_took: dict[str, float] = {}


def _waits(item: pytest.Item) -> bool:
    """It runs the real daemon (the `start` fixture): it waits seconds on end for the clock."""
    return "start" in getattr(item, "fixturenames", ())


def _computes(item: pytest.Item) -> bool:
    """A Hypothesis property: it keeps a core busy for a few seconds."""
    return hasattr(getattr(item, "obj", None), "hypothesis")


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected: the order of what runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long tests first: those that run the real daemon, then the properties, each group the
    longest first (as long as they took the last time); each long test followed by a quick one.
    Run in parallel (-n, addopts), the daemons' waits overlap with one another and with the
    computing from the start, and no long test is left to run last on a worker. xdist hands a
    worker its next test while it runs one (--maxschedchunk 1: one at a time): the quick one behind
    each long one keeps two long ones from queueing on one worker while another is idle."""
    cache = getattr(config, "cache", None)
    took: dict[str, float] = cache.get(DURATIONS, {}) if cache is not None else {}

    def longest_first(group: list[pytest.Item]) -> list[pytest.Item]:
        return sorted(group, key=lambda item: -took.get(item.nodeid, 0.0))

    waiting = [item for item in items if _waits(item)]
    computing = [item for item in items if _computes(item) and not _waits(item)]
    long = longest_first(waiting) + longest_first(computing)
    chosen = set(long)
    quick = iter([item for item in items if item not in chosen])
    ordered: list[pytest.Item] = []
    for item in long:
        ordered.append(item)
        ordered.extend(itertools.islice(quick, 1))
    ordered.extend(quick)
    items[:] = ordered


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _took[report.nodeid] = round(report.duration, 2)


def pytest_sessionfinish(session: pytest.Session) -> None:
    cache = getattr(session.config, "cache", None)
    if cache is not None and _took and not hasattr(session.config, "workerinput"):  # xdist's workers: no
        cache.set(DURATIONS, {**cache.get(DURATIONS, {}), **_took})
