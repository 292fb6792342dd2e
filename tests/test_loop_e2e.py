"""Repeats and caregiver escalation end to end (SPEC §6): the installed console script runs the daemon
in a subprocess with real apprise deliveries to local json:// receivers, one for the main channel and
one for the caregiver channel (notify.caregiver_urls); `mgremind taken` runs beside it on the same
SQLite state.

Meal times are a few seconds ahead (HH:MM:SS, timezone UTC) and repeats come every 2 s. A test waits
until its reminders all fall on one UTC day (a reminder's repeats and its "missed" moment end with its
day). Waits poll with a deadline that only bounds a hang.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

import pytest
from conftest import MGREMIND
from receivers import JsonReceiver, Received
from timing import ahead, flat, reminder_id, wait_until

UTC = dt.timezone.utc
STATE_FILE = "state.sqlite3"
# After the last expected message: time for an unwanted one (a repeat too many, a second escalation) to show.
SETTLE = 0.8
SECRET = "s3cr3t"
# One capsule of 100 mg; calcium nearest to 1.0 * 100 mg in 125 mg steps: 125 mg = 0.5 tablet.
ONE_CAPSULE = "Magnesium citrate: 1 capsule (100 mg)\nCalcium carbonate: 0.5 tablet (125 mg)"


# ---------------------------------------------------------------------------- helpers (after test_daemon_e2e.py)


def same_day_for(seconds: float) -> None:
    """Waits, if need be, until the next `seconds` all fall on one UTC day."""
    now = dt.datetime.now(UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), UTC)
    if (midnight - now).total_seconds() < seconds:
        time.sleep((midnight - now).total_seconds() + 1.0)


def plan_toml(urls: list[str], meals: Mapping[str, dt.datetime], *, reminders: str = "", notify: str = "") -> str:
    """A plan in UTC, every day, one meal per entry; 100 mg magnesium (one capsule) and 0.5 tablet of
    calcium at each meal."""
    meal_tables = "".join(f'\n[[meal]]\nname = "{name}"\ntime = "{at:%H:%M:%S}"\n' for name, at in meals.items())
    return f"""
timezone = "UTC"

[notify]
title = "Magnesium"
urls = [{", ".join(json.dumps(url) for url in urls)}]
{notify}

[reminders]
{reminders}
{meal_tables}
[[supplement]]
id = "citrate"
name = "Magnesium citrate"
nutrient = "magnesium"
unit = "capsule"
mg_per_unit = 100

[[supplement]]
id = "calcium"
name = "Calcium carbonate"
nutrient = "calcium"
unit = "tablet"
mg_per_unit = 250
step = 0.5

[magnesium]
daily_mg = {100 * len(meals)}
calcium_ratio = 1.0
"""


def sleep_until(instant: float) -> None:
    time.sleep(max(0.0, instant - time.time()))


def titles(messages: list[Received]) -> list[str]:
    return [message.title for message in messages]


def environment(state_dir: Path) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "MGREMIND_CONFIG", "CREDENTIALS_DIRECTORY")
    }
    environ["STATE_DIRECTORY"] = str(state_dir)
    return environ


class Daemon:
    """`mgremind -c CONFIG run` in a subprocess; its stderr collected line by line."""

    def __init__(self, config: Path, state_dir: Path) -> None:
        self.process = subprocess.Popen(
            [str(MGREMIND), "-c", str(config), "run"],
            env=environment(state_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        self._stderr: list[str] = []
        assert self.process.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._lock:
                self._stderr.append(line)

    @property
    def stderr(self) -> str:
        with self._lock:
            return "".join(self._stderr)

    def ready(self) -> Daemon:
        def started() -> bool:
            if self.process.poll() is not None:
                self._reader.join(timeout=2)
                raise AssertionError(f"the daemon exited ({self.process.returncode}):\n{self.stderr}")
            return " started: " in self.stderr

        wait_until(started, 10, "the daemon to start")
        return self

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        assert "Traceback" not in self.stderr, self.stderr
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def start(tmp_path: Path, state_dir: Path) -> Iterator[Callable[[str], Daemon]]:
    """Writes the configuration and starts the daemon on it; kills it at the end if still running."""
    started: list[Daemon] = []

    def launch(text: str) -> Daemon:
        config = tmp_path / "config.toml"
        config.write_text(text, encoding="utf-8")
        daemon = Daemon(config, state_dir)
        started.append(daemon)
        return daemon.ready()

    yield launch
    for daemon in started:
        daemon.kill()


@pytest.fixture
def main_receiver() -> Iterator[JsonReceiver]:
    receiver = JsonReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def caregiver() -> Iterator[JsonReceiver]:
    receiver = JsonReceiver().start()
    yield receiver
    receiver.stop()


def mgremind(tmp_path: Path, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command beside the running daemon, on the same configuration and state."""
    result = subprocess.run(
        [str(MGREMIND), "-c", str(tmp_path / "config.toml"), *args],
        env=environment(state_dir),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def acks(state_dir: Path) -> dict[str, str]:
    with sqlite3.connect(state_dir / STATE_FILE, timeout=10) as db:
        rows = db.execute("SELECT reminder_id, status FROM ack").fetchall()
    db.close()
    return {row[0]: row[1] for row in rows}


def meta(state_dir: Path) -> dict[str, str]:
    with sqlite3.connect(state_dir / STATE_FILE, timeout=10) as db:
        rows = db.execute("SELECT key, value FROM meta").fetchall()
    db.close()
    return {row[0]: row[1] for row in rows}


# ---------------------------------------------------------------------------- repeats


def test_taken_while_the_daemon_runs_stops_the_repeats(
    tmp_path: Path, state_dir: Path, start: Callable[[str], Daemon], main_receiver: JsonReceiver
) -> None:
    same_day_for(20)
    lunch = ahead(3)
    rid = reminder_id("lunch", lunch)
    daemon = start(plan_toml([main_receiver.url()], {"lunch": lunch}, reminders='repeat = "2s"\nrepeat_max = 3'))
    # Unacknowledged, lunch repeats at +2 s, +4 s and +6 s (3 at most); the first repeat comes, then
    # `taken` (the latest due reminder: lunch) is recorded while the daemon runs.
    first_repeat = "Magnesium: lunch (again, 1 of 3)"
    wait_until(
        lambda: first_repeat in titles(main_receiver.messages()),
        lunch.timestamp() + 2 - time.time() + 10,
        "the first repeat",
    )
    taken = mgremind(tmp_path, state_dir, "taken")
    recorded = time.time()
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"taken: {rid} at "), taken.stdout
    assert acks(state_dir) == {rid: "taken"}
    # Precondition of what follows: the second repeat was not yet due when `taken` had been recorded.
    assert recorded < lunch.timestamp() + 4, "`mgremind taken` took too long to test this"
    sleep_until(lunch.timestamp() + 6 + SETTLE)  # past the time of the last repeat
    assert daemon.stop() == 0

    messages = main_receiver.messages()
    assert titles(messages) == ["Magnesium: lunch", first_repeat]
    assert flat(messages[0].body) == flat(ONE_CAPSULE)
    repeat = messages[1]
    assert flat(ONE_CAPSULE) in flat(repeat.body)  # the repeat says again what to take...
    assert "mgremind taken" in repeat.body  # ...and how to stop it
    assert repeat.at >= lunch.timestamp() + 2  # not before its time


def test_repeat_max_bounds_the_repeats(
    tmp_path: Path, state_dir: Path, start: Callable[[str], Daemon], main_receiver: JsonReceiver
) -> None:
    same_day_for(25)
    lunch = ahead(3)
    tea = lunch + dt.timedelta(seconds=8)
    # Nothing acknowledged. Lunch repeats every 2 s at most twice: +2 s and +4 s; a third would be due at
    # +6 s, still before tea (+8 s, lunch's deadline), so only repeat_max stops it.
    daemon = start(
        plan_toml([main_receiver.url()], {"lunch": lunch, "tea": tea}, reminders='repeat = "2s"\nrepeat_max = 2')
    )
    wait_until(
        lambda: "Magnesium: tea" in titles(main_receiver.messages()),
        tea.timestamp() - time.time() + 10,
        "the tea reminder",
    )
    time.sleep(SETTLE)
    assert daemon.stop() == 0

    messages = main_receiver.messages()
    lunch_messages = [message for message in messages if message.title.startswith("Magnesium: lunch")]
    assert titles(lunch_messages) == [
        "Magnesium: lunch",
        "Magnesium: lunch (again, 1 of 2)",
        "Magnesium: lunch (again, 2 of 2)",
    ]
    for number, message in enumerate(lunch_messages):
        assert message.at >= lunch.timestamp() + 2 * number  # each at (not before) its time
    # Every lunch message came before tea: no repeat of lunch after its deadline either.
    (tea_message,) = [message for message in messages if message.title == "Magnesium: tea"]
    assert all(message.at <= tea_message.at for message in lunch_messages)
    assert acks(state_dir) == {}


# ---------------------------------------------------------------------------- escalation


def caregiver_url(receiver: JsonReceiver) -> str:
    """The caregiver receiver's json:// URL with a password and a token in its path."""
    return f"json://carer:{SECRET}-pass@127.0.0.1:{receiver.port}/{SECRET}-token/notify"


def test_missed_doses_escalate_once_to_the_caregiver_and_taken_says_back_on_track(
    tmp_path: Path,
    state_dir: Path,
    start: Callable[[str], Daemon],
    main_receiver: JsonReceiver,
    caregiver: JsonReceiver,
) -> None:
    same_day_for(30)
    first = ahead(3)
    meals = {
        name: first + dt.timedelta(seconds=3 * index) for index, name in enumerate(("one", "two", "three", "four"))
    }
    ids = {name: reminder_id(name, at) for name, at in meals.items()}
    daemon = start(
        plan_toml(
            [main_receiver.url()],
            meals,
            reminders='repeat = "2s"\nrepeat_max = 1\nescalate_after = 2',
            notify=f"caregiver_urls = [{json.dumps(caregiver_url(caregiver))}]",
        )
    )
    # "one" is missed when "two" is due (+3 s), "two" when "three" is due (+6 s): two missed in a row,
    # so the caregiver hears of it once, when "three" is due. "three", missed at +9 s, changes nothing.
    wait_until(
        lambda: len(caregiver.messages()) >= 1,
        meals["three"].timestamp() - time.time() + 10,
        "the message to the caregiver",
    )
    (told,) = caregiver.messages()
    assert told.at >= meals["three"].timestamp()  # not before "two" was missed
    assert "2 doses missed" in told.title
    assert "one" in told.body and "two" in told.body
    wait_until(lambda: "escalated_at" in meta(state_dir), 10, "the escalation recorded in the state")
    # Every reminder and its one repeat (+2 s, before the next reminder) reach the main channel.
    wait_until(
        lambda: "Magnesium: four (again, 1 of 1)" in titles(main_receiver.messages()),
        meals["four"].timestamp() + 2 - time.time() + 10,
        "the repeat of the fourth reminder",
    )
    time.sleep(SETTLE)
    assert len(caregiver.messages()) == 1  # nothing more on the third miss

    # Taken again: the caregiver hears it once, from the command (the daemon runs on).
    taken = mgremind(tmp_path, state_dir, "taken", ids["four"])
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"taken: {ids['four']} at ")
    messages = caregiver.messages()
    assert len(messages) == 2
    assert "back on track" in messages[1].title.lower() + messages[1].body.lower()
    assert "escalated_at" not in meta(state_dir)
    # Taken again: nothing more for the caregiver.
    again = mgremind(tmp_path, state_dir, "taken", ids["four"])
    assert again.returncode == 0
    time.sleep(SETTLE)
    assert len(caregiver.messages()) == 2
    assert daemon.stop() == 0

    # The main channel got the reminders and their repeats, never a word meant for the caregiver.
    assert titles(main_receiver.messages()) == [
        title for name in meals for title in (f"Magnesium: {name}", f"Magnesium: {name} (again, 1 of 1)")
    ]
    # No secret of the caregiver's URL in a reminder, a repeat, the daemon's log or a command's output.
    texts = [f"{m.title}\n{m.body}" for m in main_receiver.messages()]
    texts += [daemon.stderr, taken.stdout, taken.stderr, again.stdout, again.stderr]
    leaks = [line for text in texts for line in text.splitlines() if SECRET in line]
    assert leaks == [], "\n".join(leaks)


def test_reminders_due_together_and_a_slow_caregiver(
    tmp_path: Path,
    state_dir: Path,
    start: Callable[[str], Daemon],
    main_receiver: JsonReceiver,
    caregiver: JsonReceiver,
) -> None:
    same_day_for(20)
    first = ahead(3)
    # "one" (+0 s) and "two" (+3 s) are missed; "tea" and "snack" fall due together (+6 s), each
    # delivered by its own worker. Neither of the two is missed at its own time: the next reminder of
    # the day is none (end of day). So each of the four repeats once, 2 s after it (before the next
    # reminder), and the caregiver hears once of two doses missed.
    meals = {"one": first, "two": first + dt.timedelta(seconds=3)}
    meals |= {"tea": first + dt.timedelta(seconds=6), "snack": first + dt.timedelta(seconds=6)}
    # The caregiver's channel is slow (it answers 1 s after taking the message): telling the caregiver
    # must not hold up the reminders due at that moment (SPEC §4: a reminder reaches a local receiver
    # within 10 ms of its time; 0.7 s here, to leave no doubt).
    caregiver.delay = 1.0
    daemon = start(
        plan_toml(
            [main_receiver.url()],
            meals,
            reminders='repeat = "2s"\nrepeat_max = 1\nescalate_after = 2',
            notify=f"caregiver_urls = [{json.dumps(caregiver.url())}]",
        )
    )
    sleep_until(meals["tea"].timestamp() + 2 + SETTLE)  # past the repeats of tea and snack
    wait_until(lambda: len(main_receiver.messages()) >= 6, 10, "the reminders")
    time.sleep(SETTLE)
    assert daemon.stop() == 0
    expected_main = [f"Magnesium: {name}" for name in meals]
    expected_main += [f"Magnesium: {name} (again, 1 of 1)" for name in meals]
    late = sorted(
        f"{name} +{message.at - at.timestamp():.2f} s"
        for name, at in meals.items()
        for message in main_receiver.messages()
        if message.title == f"Magnesium: {name}" and message.at - at.timestamp() > 0.7
    )
    # All at once, to see every difference.
    found = {"main": sorted(titles(main_receiver.messages())), "caregiver": titles(caregiver.messages()), "late": late}
    expected = {"main": sorted(expected_main), "caregiver": ["Magnesium: 2 doses missed"], "late": []}
    assert found == expected, f"found {found}"
