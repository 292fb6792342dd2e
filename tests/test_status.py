"""`mgremind status` (SPEC §3 v2): whether a daemon runs on this state (its PID), the next reminder,
the reminders due and not yet acknowledged, each channel's last result and when; exit 3 when no
daemon runs, 1 when one runs and a channel's last delivery failed, else 0.

In this process (conftest.mgremind) on records written with State and the command line, the daemon
stood in for by its lock (held here as `run` holds it); and one end-to-end test with the real daemon.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Mgremind, Start, WritePlan
from daemon_harness import mgremind_process, outcome_is
from plans import citrate, magnesium, meal, table, timezone
from receivers import JsonReceiver
from timing import LEAD, ahead, reminder_id, wait_until

from mgremind.lockfile import DAEMON_LOCK
from mgremind.notify import channel_key
from mgremind.state import State

UTC = dt.timezone.utc
SECRET = "s3cr3tpassw0rd"
URL = f"json://user:{SECRET}@127.0.0.1:9/notify"  # port 9: nothing listens (nothing is sent here)
LABEL = f"json://127.0.0.1:9 #{channel_key(URL)[:6]}"  # as the daemon's log and notify-test show it


def plan() -> str:
    """Lunch at 12:00 UTC every day: one reminder a day, always one ahead."""
    return timezone("UTC") + table("notify", urls=f'["{URL}"]') + meal("lunch", "12:00") + citrate(100) + magnesium(100)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(plan(), encoding="utf-8")
    return path


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "state.sqlite3"  # conftest.user_home: STATE_DIRECTORY is tmp_path/"state"


def days_ago(days: int) -> dt.datetime:
    return dt.datetime.now(UTC) - dt.timedelta(days=days)


def yesterdays_lunch() -> str:
    return f"{(dt.datetime.now(UTC) - dt.timedelta(days=1)).date().isoformat()}/lunch"


def record_delivery(state_path: Path, rid: str, key: str, at: dt.datetime, error: str | None) -> None:
    state = State.open(state_path, days_ago(3))  # the records began three days ago
    try:
        state.begin_delivery(rid, key, at)
        state.finish_delivery(rid, key, at, error)
    finally:
        state.close()


@pytest.fixture
def daemon_lock(state_path: Path) -> Iterator[int]:
    """The lock a running daemon holds (as lock_for_daemon takes it), with this process's PID in it."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_path.parent / DAEMON_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, f"{os.getpid()}\n".encode())
    yield os.getpid()
    os.close(fd)


def test_without_a_daemon_or_records_it_says_so_exits_3_and_creates_nothing(
    mgremind: Mgremind, config: Path, state_path: Path
) -> None:
    result = mgremind("-c", str(config), "status")

    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"daemon: not running on {state_path.parent}"), lines[0]
    assert lines[1].startswith("next: lunch at 12:00 on "), lines[1]
    assert "due, not acknowledged: nothing recorded yet" in result.stdout
    assert f"  -       {LABEL}: nothing sent yet" in lines
    assert SECRET not in result.stdout + result.stderr
    assert not state_path.parent.exists()  # neither the database nor the lock file


def test_each_channel_shows_its_last_result_and_when_by_its_label_never_a_secret(
    mgremind: Mgremind, config: Path, state_path: Path
) -> None:
    earlier, later = days_ago(2).replace(microsecond=0), days_ago(1).replace(microsecond=0)
    key = channel_key(URL)
    record_delivery(state_path, f"{earlier.date()}/lunch", key, earlier, None)
    record_delivery(state_path, f"{later.date()}/lunch", key, later, "HTTP 500")  # the latest: failed
    gone = channel_key("json://old.example")  # a channel the configuration no longer has
    record_delivery(state_path, f"{earlier.date()}/lunch", gone, earlier, None)

    result = mgremind("-c", str(config), "status")

    assert result.returncode == 3  # no daemon: that comes first
    lines = result.stdout.splitlines()
    when = later.strftime("%a %Y-%m-%d %H:%M:%S")  # the plan's zone is UTC
    assert f"  FAILED  {LABEL}: failed {when} ({later.date()}/lunch): HTTP 500" in lines, result.stdout
    assert f"  ok      channel {gone[:8]} (not in this configuration): sent " in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_the_reminders_due_and_not_acknowledged_until_one_is_taken(
    mgremind: Mgremind, config: Path, state_path: Path
) -> None:
    State.open(state_path, days_ago(3)).close()  # the records began before yesterday's lunch
    rid = yesterdays_lunch()

    before = mgremind("-c", str(config), "status")
    assert "due, not acknowledged: " in before.stdout
    assert f"  {rid}  " in before.stdout
    assert "Magnesium citrate: 1 capsule (100 mg)" in before.stdout

    assert mgremind("-c", str(config), "taken", rid).returncode == 0
    after = mgremind("-c", str(config), "status")
    assert f"  {rid}  " not in after.stdout
    assert mgremind("-c", str(config), "undo", rid).returncode == 0
    assert f"  {rid}  " in mgremind("-c", str(config), "status").stdout


def test_reminders_before_the_records_began_are_not_due(mgremind: Mgremind, config: Path, state_path: Path) -> None:
    State.open(state_path, dt.datetime.now(UTC)).close()  # the records begin now: nobody could mark those

    result = mgremind("-c", str(config), "status")

    assert f"  {yesterdays_lunch()}  " not in result.stdout
    assert "due, not acknowledged: none" in result.stdout.splitlines()


def test_a_running_daemon_is_named_by_its_pid_and_the_lock_is_left_alone(
    mgremind: Mgremind, config: Path, state_path: Path, daemon_lock: int
) -> None:
    result = mgremind("-c", str(config), "status")

    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[0] == f"daemon: running (PID {daemon_lock}) on {state_path.parent}"
    assert not state_path.exists()  # only read: no database made


def test_status_never_holds_the_lock_a_daemon_needs(mgremind: Mgremind, config: Path, state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    (state_path.parent / DAEMON_LOCK).write_text("999999999\n", encoding="ascii")  # a daemon gone

    result = mgremind("-c", str(config), "status")

    assert result.returncode == 3
    fd = os.open(state_path.parent / DAEMON_LOCK, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: status let go of it
    finally:
        os.close(fd)


def test_a_running_daemon_with_a_failing_channel_exits_1(
    mgremind: Mgremind, config: Path, state_path: Path, daemon_lock: int
) -> None:
    at = days_ago(1).replace(microsecond=0)
    record_delivery(state_path, f"{at.date()}/lunch", channel_key(URL), at, "connection refused")

    result = mgremind("-c", str(config), "status")

    assert result.returncode == 1
    assert f"running (PID {daemon_lock})" in result.stdout
    assert "FAILED" in result.stdout


def test_channels_that_cannot_be_set_up_are_said_and_the_rest_still_shown(
    mgremind: Mgremind, tmp_path: Path, state_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(plan().replace(f'urls = ["{URL}"]', 'urls_file = "missing-urls.txt"'), encoding="utf-8")
    at = days_ago(1).replace(microsecond=0)
    record_delivery(state_path, f"{at.date()}/lunch", channel_key(URL), at, None)

    result = mgremind("-c", str(path), "status")

    assert result.returncode == 3
    assert "  ! cannot set up the configured channels: " in result.stdout
    assert "missing-urls.txt" in result.stdout
    assert f"  ok      channel {channel_key(URL)[:8]}: sent " in result.stdout
    assert result.stdout.splitlines()[1].startswith("next: lunch at 12:00")


# ---------------------------------------------------------------------------- the real daemon


@pytest.mark.e2e
def test_status_names_the_running_daemon_and_its_delivery_then_not_running_after_it_stops(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver
) -> None:
    lunch = ahead(LEAD)
    rid = reminder_id("lunch", lunch)
    config = write_plan([json_receiver.url()], {"lunch": lunch})
    daemon = start(config).ready()
    wait_until(outcome_is(state_dir, rid, "delivered"), LEAD + 10, "lunch delivered")

    running = mgremind_process(config, state_dir, "status")
    assert running.returncode == 0, running.stdout + running.stderr
    lines = running.stdout.splitlines()
    assert lines[0] == f"daemon: running (PID {daemon.process.pid}) on {state_dir}"
    label = f"json://127.0.0.1:{json_receiver.port} #{channel_key(json_receiver.url())[:6]}"
    assert any(line.startswith(f"  ok      {label}: sent ") and line.endswith(f"({rid})") for line in lines), lines
    assert f"  {rid}  " in running.stdout  # delivered, due, not acknowledged

    assert daemon.stop() == 0
    stopped = mgremind_process(config, state_dir, "status")
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    assert stopped.stdout.startswith(f"daemon: not running on {state_dir}")
    assert f"{label}: sent " in stopped.stdout  # the record outlives the daemon
