"""The daemon's decisions (SPEC §4) with an injected clock: nothing sleeps, nothing is started.

The pure functions of mgremind/daemon/decisions.py are pinned to hand-computed instants,
across DST changes and midnight. The `Daemon` itself is driven through its parts' public
methods, without its scheduler thread or main loop: `schedule.rebuild()` fills the (stopped)
scheduler's pending jobs, which are read back, and a due job is "fired" the way APScheduler
fires a DateTrigger job (taken off, then run).

Offsets used in the comments: New York EST = UTC-5, EDT = UTC-4 (2026: EDT from 03-08 02:00
to 11-01 02:00 local); Berlin CET = UTC+1, CEST = UTC+2 (2026: CEST from 03-29 02:00 to
10-25 03:00 local); Havana CST = UTC-5, CDT = UTC-4.
2026-11-23 is a Monday.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.triggers.date import DateTrigger
from conftest import config_from

from mgremind.daemon.decisions import (
    LATE_AFTER,
    CatchUp,
    catch_up,
    horizon_end,
    is_late,
    lookback_start,
    next_midnight,
    reminders_between,
    retry_delay,
)
from mgremind.daemon.loop import Daemon
from mgremind.daemon.records import Begun, Records
from mgremind.logs import SecretFilter
from mgremind.model import Config, Reminder
from mgremind.notify import Channel, console_channel
from mgremind.plan import plan_day
from mgremind.render import daemon_status, late_text
from mgremind.state import Database, Delivery, State
from mgremind.systemd import Notifier

UTC = dt.timezone.utc
NY = "America/New_York"
BERLIN = "Europe/Berlin"
CITRATE = "Magnesium citrate: 1 capsule (100 mg)"  # each slot's share below: 100 mg = 1 capsule of 100 mg
CAREGIVER = 'caregiver_urls = ["json://localhost:9/"]'  # configured; the tests pass the caregivers' channels in


def utc(year: int, month: int, day: int, *time: int) -> dt.datetime:
    """A UTC instant: utc(2026, 11, 24, 4, 59, 30) is 2026-11-24T04:59:30Z."""
    hour, minute, second = (*time, 0, 0, 0)[:3]
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def meal(name: str, time: str, extra: str = "") -> str:
    return f'[[meal]]\nname = "{name}"\ntime = "{time}"\n{extra}\n'


def plan_text(
    zone: str, *meals: str, daily_mg: int = 200, reminders: str = "", magnesium: str = "", notify: str = ""
) -> str:
    """Meals every day; one citrate capsule is 100 mg, so `daily_mg` / 100 capsules are spread one a slot."""
    return (
        f'timezone = "{zone}"\n[notify]\n{notify}\n[reminders]\n{reminders}\n'
        + "".join(meals)
        + '[[supplement]]\nid = "citrate"\nname = "Magnesium citrate"\nnutrient = "magnesium"\n'
        'unit = "capsule"\nmg_per_unit = 100\n'
        f"[magnesium]\ndaily_mg = {daily_mg}\n{magnesium}\n"
    )


def plan(
    zone: str, *meals: str, daily_mg: int = 200, reminders: str = "", magnesium: str = "", notify: str = ""
) -> Config:
    return config_from(
        plan_text(zone, *meals, daily_mg=daily_mg, reminders=reminders, magnesium=magnesium, notify=notify)
    )


def two_meals(zone: str = NY, reminders: str = "", notify: str = "") -> Config:
    # daily 200 mg in two slots: 100 mg = 1 capsule at each.
    return plan(zone, meal("breakfast", "07:30"), meal("dinner", "19:00"), reminders=reminders, notify=notify)


def night_and_dinner(zone: str) -> Config:
    # 02:30 lies in the spring-forward gap and in the fall-back hour of both New York and Berlin.
    return plan(zone, meal("night", "02:30"), meal("dinner", "19:00"))


def ids(reminders: list[Reminder]) -> list[str]:
    return [reminder.id for reminder in reminders]


def instants(reminders: list[Reminder]) -> list[tuple[str, dt.datetime]]:
    """(id, UTC instant): UTC, because Python compares two times of one zone by their wall clocks."""
    return [(reminder.id, reminder.at.astimezone(UTC)) for reminder in reminders]


def reminder_of(config: Config, rid: str) -> Reminder:
    day = dt.date.fromisoformat(rid.split("/", maxsplit=1)[0])
    [found] = [r for r in plan_day(config, day).reminders if r.id == rid]
    return found


# ---------------------------------------------------------------------------- reminders_between


def test_reminders_between_is_half_open() -> None:
    config = two_meals()
    # 2026-11-23 breakfast 07:30 EST = 12:30Z; dinner 19:00 EST = 2026-11-24 00:00Z.
    assert instants(reminders_between(config, utc(2026, 11, 23, 12, 30), utc(2026, 11, 24))) == [
        ("2026-11-23/breakfast", utc(2026, 11, 23, 12, 30))
    ]
    assert ids(reminders_between(config, utc(2026, 11, 23, 12, 30, 1), utc(2026, 11, 24, 0, 0, 1))) == [
        "2026-11-23/dinner"
    ]
    assert reminders_between(config, utc(2026, 11, 23, 12, 30, 1), utc(2026, 11, 24)) == []


def test_reminders_between_includes_yesterdays_delayed_reminder_after_midnight() -> None:
    config = plan(
        NY,
        meal("breakfast", "07:30"),
        meal("supper", "23:00", "phytate = true"),
        magnesium='phytate = "delay"\nphytate_gap = "2h"',
    )
    # 2026-11-23 supper 23:00 EST + 2h = 2026-11-24 01:00 EST = 06:00Z: on the 24th, planned on the 23rd.
    # The 24th runs from 00:00 EST (05:00Z) to 2026-11-25 00:00 EST (05:00Z); its own supper+delay is
    # at 2026-11-25 01:00 EST, outside.
    assert instants(reminders_between(config, utc(2026, 11, 24, 5), utc(2026, 11, 25, 5))) == [
        ("2026-11-23/supper+delay", utc(2026, 11, 24, 6)),
        ("2026-11-24/breakfast", utc(2026, 11, 24, 12, 30)),
    ]


def test_reminders_between_across_midnight_with_seconds() -> None:
    config = plan(NY, meal("early", "00:00:10"), meal("nightcap", "23:59:30"))
    # 2026-11-23 23:59:00 EST = 2026-11-24 04:59:00Z; the window runs two minutes past it.
    found = reminders_between(config, utc(2026, 11, 24, 4, 59), utc(2026, 11, 24, 5, 1))
    assert instants(found) == [
        ("2026-11-23/nightcap", utc(2026, 11, 24, 4, 59, 30)),  # 23:59:30 EST
        ("2026-11-24/early", utc(2026, 11, 24, 5, 0, 10)),  # 00:00:10 EST the next day
    ]


def test_reminders_between_on_new_york_spring_forward_day() -> None:
    config = night_and_dinner(NY)
    # 2026-03-08 runs from 00:00 EST (05:00Z) to 2026-03-09 00:00 EDT (04:00Z): 23 hours.
    # 02:30 does not exist: the first instant after the gap is 03:00 EDT = 07:00Z. Dinner 19:00 EDT = 23:00Z.
    found = reminders_between(config, utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
    assert instants(found) == [
        ("2026-03-08/night", utc(2026, 3, 8, 7)),
        ("2026-03-08/dinner", utc(2026, 3, 8, 23)),
    ]
    assert found[0].at.astimezone(ZoneInfo(NY)).strftime("%H:%M") == "03:00"


def test_reminders_between_on_new_york_fall_back_day() -> None:
    config = night_and_dinner(NY)
    # 2026-11-01 runs from 00:00 EDT (04:00Z) to 2026-11-02 00:00 EST (05:00Z): 25 hours.
    # 01:00-02:00 occurs twice, 02:30 once (EST, 07:30Z). Dinner 19:00 EST = 2026-11-02 00:00Z.
    found = reminders_between(config, utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))
    assert instants(found) == [
        ("2026-11-01/night", utc(2026, 11, 1, 7, 30)),
        ("2026-11-01/dinner", utc(2026, 11, 2)),
    ]


def test_reminders_between_is_in_real_time_order_in_a_fall_back_hour() -> None:
    config = plan(
        NY,
        meal("night", "01:30"),
        meal("later", "01:40", "phytate = true"),
        magnesium='phytate = "delay"\nphytate_gap = "35m"',
    )
    # 2026-11-01: night 01:30 is its first occurrence, EDT: 05:30Z, before later's phytate window.
    # later 01:40 EDT = 05:40Z, + 35m = 06:15Z, which reads 01:15 EST (the second 01:xx hour).
    # In time, night (05:30Z) comes first, although its wall clock (01:30) reads later than 01:15.
    found = reminders_between(config, utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))
    assert instants(found) == [
        ("2026-11-01/night", utc(2026, 11, 1, 5, 30)),
        ("2026-11-01/later+delay", utc(2026, 11, 1, 6, 15)),
    ]


def test_reminders_between_on_berlin_spring_forward_day() -> None:
    config = night_and_dinner(BERLIN)
    # 2026-03-29 runs from 00:00 CET (2026-03-28 23:00Z) to 2026-03-30 00:00 CEST (2026-03-29 22:00Z).
    # 02:30 does not exist: 03:00 CEST = 01:00Z. Dinner 19:00 CEST = 17:00Z.
    found = reminders_between(config, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert instants(found) == [
        ("2026-03-29/night", utc(2026, 3, 29, 1)),
        ("2026-03-29/dinner", utc(2026, 3, 29, 17)),
    ]


def test_reminders_between_on_berlin_fall_back_day() -> None:
    config = night_and_dinner(BERLIN)
    # 2026-10-25 runs from 00:00 CEST (2026-10-24 22:00Z) to 2026-10-26 00:00 CET (2026-10-25 23:00Z).
    # 02:30 occurs twice: once, at the first (CEST, 00:30Z). Dinner 19:00 CET = 18:00Z.
    found = reminders_between(config, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    assert instants(found) == [
        ("2026-10-25/night", utc(2026, 10, 25, 0, 30)),
        ("2026-10-25/dinner", utc(2026, 10, 25, 18)),
    ]


# ---------------------------------------------------------------------------- next_midnight, horizon_end


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # 2026-11-23 15:00 EST -> 2026-11-24 00:00 EST = 05:00Z
        (NY, utc(2026, 11, 23, 20), utc(2026, 11, 24, 5)),
        # 23:59:59 EST -> one second later
        (NY, utc(2026, 11, 24, 4, 59, 59), utc(2026, 11, 24, 5)),
        # exactly at midnight: the next one, a day later (never "now" again)
        (NY, utc(2026, 11, 24, 5), utc(2026, 11, 25, 5)),
        # 2026-03-07 12:00 EST -> 2026-03-08 00:00 EST = 05:00Z (the change comes at 02:00)
        (NY, utc(2026, 3, 7, 17), utc(2026, 3, 8, 5)),
        # 2026-03-08 12:00 EDT -> 2026-03-09 00:00 EDT = 04:00Z: a 23-hour day
        (NY, utc(2026, 3, 8, 16), utc(2026, 3, 9, 4)),
        # 2026-10-31 12:00 EDT -> 2026-11-01 00:00 EDT = 04:00Z
        (NY, utc(2026, 10, 31, 16), utc(2026, 11, 1, 4)),
        # 2026-11-01 01:30 EST (the second 01:30) -> 2026-11-02 00:00 EST = 05:00Z
        (NY, utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 5)),
        # 2026-03-28 12:00 CET -> 2026-03-29 00:00 CET = 2026-03-28 23:00Z
        (BERLIN, utc(2026, 3, 28, 11), utc(2026, 3, 28, 23)),
        # 2026-03-29 12:00 CEST -> 2026-03-30 00:00 CEST = 2026-03-29 22:00Z
        (BERLIN, utc(2026, 3, 29, 10), utc(2026, 3, 29, 22)),
        # 2026-10-25 02:30 CEST (first) and 02:30 CET (second) -> 2026-10-26 00:00 CET = 2026-10-25 23:00Z
        (BERLIN, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 23)),
        (BERLIN, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 23)),
    ],
)
def test_next_midnight(zone: str, now: dt.datetime, expected: dt.datetime) -> None:
    result = next_midnight(two_meals(zone), now)
    assert result == expected
    assert result > now


def skipped_midnights(zone: ZoneInfo, year: int) -> list[dt.date]:
    """Days of `year` whose 00:00 does not exist in `zone` (clocks jump forward at midnight)."""
    found = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            found.append(day)
        day += dt.timedelta(days=1)
    return found


@pytest.mark.parametrize("zone_name", ["America/Havana", "America/Santiago"])
def test_next_midnight_when_midnight_is_skipped(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    days = skipped_midnights(zone, 2026)
    assert days, f"{zone_name} skips midnight at least once in 2026 (Havana: 03-08, Santiago: 09-06)"
    config = two_meals(zone_name)
    for day in days:
        before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), tzinfo=zone)
        # The gap begins at 00:00 read with the offset in force before it: that instant is the
        # transition, the first instant of the new day (its wall clock reads 01:00 after a 1-hour jump).
        old_offset = before.utcoffset()
        assert old_offset is not None
        gap_start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.timezone(old_offset))
        result = next_midnight(config, before)
        assert result == gap_start
        assert result.astimezone(zone).date() == day
        assert result.astimezone(zone).time() == dt.time(1)
        assert (result - dt.timedelta(microseconds=1)).astimezone(zone).date() == day - dt.timedelta(days=1)


def test_next_midnight_when_midnight_occurs_twice() -> None:
    zone = ZoneInfo("America/Havana")
    config = two_meals("America/Havana")
    # 2026-11-01 01:00 CDT falls back to 00:00 CST: 00:00-01:00 occurs twice. The day begins at
    # the first 00:00 (CDT, 04:00Z); during the second pass (e.g. 00:30 CST = 05:30Z) the next
    # midnight is the following day's, 2026-11-02 00:00 CST = 05:00Z, not the repeated one.
    assert next_midnight(config, utc(2026, 10, 31, 16)) == utc(2026, 11, 1, 4)
    assert next_midnight(config, utc(2026, 11, 1, 4)) == utc(2026, 11, 2, 5)
    assert next_midnight(config, utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 2, 5)
    assert utc(2026, 11, 1, 5, 30).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") == "2026-11-01 00:30 CST"


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # 2026-11-23 15:00 EST -> end of the 24th: 2026-11-25 00:00 EST = 05:00Z
        (NY, utc(2026, 11, 23, 20), utc(2026, 11, 25, 5)),
        # 2026-03-07 12:00 EST -> 2026-03-09 00:00 EDT = 04:00Z (tomorrow is the 23-hour day)
        (NY, utc(2026, 3, 7, 17), utc(2026, 3, 9, 4)),
        # 2026-10-24 12:00 CEST -> 2026-10-26 00:00 CET = 2026-10-25 23:00Z (tomorrow has 25 hours)
        (BERLIN, utc(2026, 10, 24, 10), utc(2026, 10, 25, 23)),
    ],
)
def test_horizon_end_is_the_end_of_tomorrow(zone: str, now: dt.datetime, expected: dt.datetime) -> None:
    assert horizon_end(two_meals(zone), now) == expected


def test_horizon_holds_a_reminder_in_tomorrows_last_minute() -> None:
    config = plan(NY, meal("nightcap", "23:59:30"))  # daily 200 mg -> 2 capsules, within max_dose_mg 200
    now = utc(2026, 11, 23, 20)  # 15:00 EST on the 23rd
    found = reminders_between(config, now, horizon_end(config, now))
    # 23rd 23:59:30 EST = 24th 04:59:30Z; 24th 23:59:30 EST = 25th 04:59:30Z.
    assert instants(found) == [
        ("2026-11-23/nightcap", utc(2026, 11, 24, 4, 59, 30)),
        ("2026-11-24/nightcap", utc(2026, 11, 25, 4, 59, 30)),
    ]


# ---------------------------------------------------------------------------- lookback, catch_up, retries, late text


def test_lookback_start() -> None:
    now = utc(2026, 11, 23, 12)
    long_ago = utc(2026, 1, 1)
    # catch_up 2h: the window is max(2 days, 2h + 1 day) = 2 days.
    assert lookback_start(two_meals(), now, long_ago) == utc(2026, 11, 21, 12)
    # catch_up 3d: max(2 days, 3d + 1 day) = 4 days.
    assert lookback_start(two_meals(reminders='catch_up = "3d"'), now, long_ago) == utc(2026, 11, 19, 12)
    # A state created an hour ago: nothing before it is looked at.
    assert lookback_start(two_meals(), now, utc(2026, 11, 23, 11)) == utc(2026, 11, 23, 11)


def test_catch_up_splits_late_and_missed_at_the_window() -> None:
    config = plan(
        NY,
        meal("a", "08:00"),
        meal("b", "09:59:59"),
        meal("c", "10:00"),
        meal("d", "11:59"),
        daily_mg=400,  # 4 slots, 100 mg each
    )
    day = plan_day(config, dt.date(2026, 11, 23)).reminders
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo(NY))
    decision = catch_up(day, now, dt.timedelta(hours=2))
    # Ages at 12:00: a 4h, b 2h00m01s -> missed; c exactly 2h, d 1 min -> late (age <= catch_up).
    assert ids(list(decision.missed)) == ["2026-11-23/a", "2026-11-23/b"]
    assert ids(list(decision.late)) == ["2026-11-23/c", "2026-11-23/d"]
    assert catch_up([], now, dt.timedelta(hours=2)) == CatchUp((), ())


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (9, 256), (10, 300), (11, 300), (1000, 300)],
)
def test_retry_delay_doubles_up_to_five_minutes(attempts: int, seconds: int) -> None:
    # 1 s after the first failure, doubling: 2^(n-1) s, at most 300 s (2^9 = 512 > 300 from the 10th).
    assert retry_delay(attempts) == dt.timedelta(seconds=seconds)


def test_late_text() -> None:
    config = plan(NY, meal("nightcap", "23:59:30"))
    reminder = reminder_of(config, "2026-11-23/nightcap")  # 23:59:30 EST = 2026-11-24 04:59:30Z
    assert dt.timedelta(seconds=60) == LATE_AFTER
    assert not is_late(reminder, utc(2026, 11, 24, 5, 0, 30))  # fired 60 s after its time: on time
    assert is_late(reminder, utc(2026, 11, 24, 5, 0, 31))  # 61 s after
    assert is_late(reminder, utc(2026, 11, 24, 4, 59, 40), caught_up=True)  # 10 s, but due while the daemon was down
    assert late_text(reminder, "Magnesium: nightcap", "body", late=False) == ("Magnesium: nightcap", "body")
    # The text names the local time it was due, though it goes out past midnight.
    late = late_text(reminder, "Magnesium: nightcap", "body", late=True)
    assert late == ("Magnesium: nightcap (late)", "Late: this reminder was due at 23:59:30.\nbody")


# ---------------------------------------------------------------------------- the Daemon, driven by hand


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Scripted:
    """A channel whose answers are scripted: each send pops the next answer (then `otherwise`)."""

    answers: list[bool] = field(default_factory=list)
    otherwise: bool = False
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, title: str, body: str) -> bool:
        self.sent.append((title, body))
        return self.answers.pop(0) if self.answers else self.otherwise

    def channel(self, key: str = "scripted") -> Channel:
        return Channel(key, key, self.send)


@dataclass
class Rig:
    daemon: Daemon
    clock: Clock
    state: State
    console: io.StringIO
    path: Path

    def jobs(self) -> dict[str, dt.datetime]:
        """The scheduler's jobs by id, with their run times; one job per id, each a DateTrigger."""
        found: dict[str, dt.datetime] = {}
        for job in self.daemon.jobs.pending():
            assert job.id not in found, f"two jobs named {job.id}"
            assert isinstance(job.trigger, DateTrigger)
            # In UTC: an instant in a repeated hour never equals one of another zone (PEP 495).
            found[job.id] = job.trigger.run_date.astimezone(UTC)
        return found

    def fire(self, job_id: str, at: dt.datetime | None = None) -> None:
        """Runs a job as the scheduler would when it is due: taken off the schedule, then called."""
        if at is not None:
            self.clock.now = at
        [job] = [job for job in self.daemon.jobs.pending() if job.id == job_id]
        job.remove()
        job.func(*job.args)
        self.settle()

    def settle(self) -> None:
        """Waits for the channels' answers: each channel is sent to in a thread of its own."""
        assert self.daemon.delivery.wait_idle(10) == 0

    def messages(self) -> list[str]:
        """Titles of the console channel's messages, in order."""
        return [line for line in self.console.getvalue().splitlines() if line and not line.startswith("  ")]

    def rows(self) -> list[tuple[Any, ...]]:
        """The reminder table, as another program reading the file sees it."""
        connection = sqlite3.connect(self.path)
        try:
            return list(connection.execute("SELECT id, due_at, outcome, late FROM reminder ORDER BY due_at, id"))
        finally:
            connection.close()


RigFactory = Callable[..., Rig]


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[RigFactory]:
    made: list[Rig] = []

    def make(
        config: Config,
        now: dt.datetime,
        *,
        created_at: dt.datetime | None = None,
        channels: list[Channel] | None = None,
        console: bool = True,
        caregivers: list[Channel] | None = None,
        notifier: Notifier | None = None,
        state: State | None = None,
    ) -> Rig:
        path = state.path if state is not None else tmp_path / f"state{len(made)}.sqlite3"
        state = state or State.open(path, created_at or now)
        stream = io.StringIO()
        clock = Clock(now)
        daemon = Daemon(
            tmp_path / "config.toml",
            config,
            [*([console_channel(stream)] if console else []), *(channels or [])],
            state,
            notifier or Notifier({}),
            SecretFilter(),
            caregivers=caregivers or [],
            now=clock,
        )
        rig = Rig(daemon, clock, state, stream, path)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.state.close()
        rig.daemon.wakeup.close()


def test_schedule_holds_today_and_tomorrow_and_the_midnight_roll(make_rig: RigFactory) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17))  # 12:00 EST on Monday 2026-11-23
    rig.daemon.schedule.rebuild()
    assert rig.jobs() == {
        "2026-11-23/dinner": utc(2026, 11, 24, 0),  # 19:00 EST
        "2026-11-24/breakfast": utc(2026, 11, 24, 12, 30),  # 07:30 EST
        "2026-11-24/dinner": utc(2026, 11, 25, 0),
        "midnight": utc(2026, 11, 24, 5),  # 2026-11-24 00:00 EST
    }
    # Breakfast at 07:30 was before the state existed: not caught up, not recorded as missed.
    assert rig.state.outcome("2026-11-23/breakfast") is None
    for job in rig.daemon.jobs.pending():
        if job.id == "midnight":
            assert job.func == rig.daemon.schedule.roll_over
            assert job.misfire_grace_time is None  # the roll-over runs however late (after a suspend)
            continue
        assert job.func == rig.daemon.delivery.deliver
        assert job.args == (job.id, False, None)  # (reminder id, caught up after downtime, every channel)
        # SPEC §4 pitfall: a job late by less than catch_up (2h) must still run.
        assert job.misfire_grace_time == 2 * 3600
    assert rig.daemon.status() == "next: dinner at 19:00 on Mon 2026-11-23"


def test_delivered_once_and_recorded(make_rig: RigFactory) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17))
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24, 0))
    assert rig.console.getvalue() == f"Magnesium: dinner\n  {CITRATE}\n"
    rig.daemon.delivery.deliver("2026-11-23/dinner")  # a second run of the same reminder sends nothing
    rig.settle()
    assert rig.console.getvalue() == f"Magnesium: dinner\n  {CITRATE}\n"
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "delivered", 0)]
    assert rig.state.deliveries("2026-11-23/dinner") == {"console": Delivery("sent", 1, utc(2026, 11, 24))}
    assert rig.daemon.status() == "next: breakfast at 07:30 on Tue 2026-11-24"


def test_delivery_after_a_restart_is_not_repeated(make_rig: RigFactory, tmp_path: Path) -> None:
    first = make_rig(two_meals(), utc(2026, 11, 23, 17))
    first.daemon.schedule.rebuild()
    first.fire("2026-11-23/dinner", at=utc(2026, 11, 24, 0))
    first.state.close()
    # The same state file, a new daemon one minute later: the dinner is done, not caught up.
    state = State.open(first.path, utc(2026, 11, 24, 0, 1))
    console = io.StringIO()
    daemon = Daemon(
        tmp_path / "config.toml", two_meals(), [console_channel(console)], state, Notifier({}), SecretFilter(),
        now=lambda: utc(2026, 11, 24, 0, 1),
    )  # fmt: skip
    try:
        daemon.schedule.rebuild()
        assert "2026-11-23/dinner" not in {job.id for job in daemon.jobs.pending()}
        daemon.delivery.deliver("2026-11-23/dinner")
        assert console.getvalue() == ""
    finally:
        state.close()
        daemon.wakeup.close()


@pytest.mark.parametrize(
    ("delay", "late"),
    [
        (dt.timedelta(seconds=30), False),
        (dt.timedelta(seconds=60), False),  # LATE_AFTER is "more than 60 s"
        (dt.timedelta(seconds=90), True),
        (dt.timedelta(hours=2), True),  # exactly catch_up: still sent
    ],
)
def test_late_delivery_is_marked(make_rig: RigFactory, delay: dt.timedelta, late: bool) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17))
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24) + delay)
    if late:
        assert (
            rig.console.getvalue()
            == f"Magnesium: dinner (late)\n  Late: this reminder was due at 19:00.\n  {CITRATE}\n"
        )
    else:
        assert rig.console.getvalue() == f"Magnesium: dinner\n  {CITRATE}\n"
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "delivered", int(late))]


def test_run_more_than_catch_up_late_is_missed(make_rig: RigFactory) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17))
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24, 2, 0, 1))  # 2h 1s after 19:00 EST
    assert rig.console.getvalue() == ""
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "missed", 0)]


def test_scheduler_reported_miss_is_recorded(make_rig: RigFactory) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17))
    rig.daemon.schedule.rebuild()
    rig.clock.now = utc(2026, 11, 24, 3)  # e.g. after a long suspend; APScheduler reports the miss
    rig.daemon.schedule.on_missed(
        JobExecutionEvent(EVENT_JOB_MISSED, "2026-11-23/dinner", "default", utc(2026, 11, 24))
    )
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "missed", 0)]
    rig.daemon.delivery.deliver("2026-11-23/dinner")
    assert rig.console.getvalue() == ""


def test_catch_up_on_start(make_rig: RigFactory) -> None:
    config = two_meals()
    # The state began 2026-11-21 12:00Z; the daemon starts again on 2026-11-23 at 08:30 EST (13:30Z).
    rig = make_rig(config, utc(2026, 11, 23, 13, 30), created_at=utc(2026, 11, 21, 12))
    rig.state.close_reminder("2026-11-22/breakfast", utc(2026, 11, 22, 12, 30), "delivered", utc(2026, 11, 22, 12, 30))
    rig.daemon.schedule.rebuild()
    # Looked back 2 days, to 2026-11-21 13:30Z: the 21st's breakfast (12:30Z) is before that, left alone.
    # 21st dinner (22nd 00:00Z) and 22nd dinner (23rd 00:00Z) are 37.5 h and 13.5 h old: missed.
    # 23rd breakfast (12:30Z) is 1 h old, within catch_up 2h: sent now, marked late.
    assert rig.rows() == [
        ("2026-11-21/dinner", "2026-11-22T00:00:00+00:00", "missed", 0),
        ("2026-11-22/breakfast", "2026-11-22T12:30:00+00:00", "delivered", 0),
        ("2026-11-22/dinner", "2026-11-23T00:00:00+00:00", "missed", 0),
    ]
    assert rig.jobs() == {
        "2026-11-23/breakfast": utc(2026, 11, 23, 13, 30),  # now
        "2026-11-23/dinner": utc(2026, 11, 24, 0),
        "2026-11-24/breakfast": utc(2026, 11, 24, 12, 30),
        "2026-11-24/dinner": utc(2026, 11, 25, 0),
        "midnight": utc(2026, 11, 24, 5),
    }
    rig.fire("2026-11-23/breakfast")
    assert rig.console.getvalue() == (
        f"Magnesium: breakfast (late)\n  Late: this reminder was due at 07:30.\n  {CITRATE}\n"
    )
    assert ("2026-11-23/breakfast", "2026-11-23T12:30:00+00:00", "delivered", 1) in rig.rows()
    assert rig.state.outcome("2026-11-21/breakfast") is None


def test_interrupted_delivery_is_resent_saying_it_may_repeat(make_rig: RigFactory) -> None:
    # The last run asked the console at 07:30 EST (12:30Z) and died before recording the answer.
    rig = make_rig(two_meals(), utc(2026, 11, 23, 12, 30, 40), created_at=utc(2026, 11, 22))
    rig.state.begin_delivery("2026-11-23/breakfast", "console", utc(2026, 11, 23, 12, 30))
    rig.daemon.schedule.rebuild()
    assert rig.jobs()["2026-11-23/breakfast"] == utc(2026, 11, 23, 12, 30, 40)
    rig.fire("2026-11-23/breakfast")
    # Caught up on start (due while the daemon was down), so late, though only 40 s; and it may be a repeat.
    assert rig.console.getvalue() == (
        "Magnesium: breakfast (late)\n  Late: this reminder was due at 07:30.\n"
        f"  {CITRATE}\n  (This may repeat a message sent just before a restart.)\n"
    )
    assert rig.state.deliveries("2026-11-23/breakfast") == {"console": Delivery("sent", 2, utc(2026, 11, 23, 12, 30))}


# ---------------------------------------------------------------------------- retries


def test_failing_channel_is_retried_without_resending_to_the_others(make_rig: RigFactory) -> None:
    flaky = Scripted([False, True])
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17), channels=[flaky.channel("flaky")])
    rig.daemon.schedule.rebuild()
    due = utc(2026, 11, 24)  # 2026-11-23 dinner, 19:00 EST
    rig.fire("2026-11-23/dinner", at=due)
    assert rig.messages() == ["Magnesium: dinner"]
    assert flaky.sent == [("Magnesium: dinner", CITRATE)]
    assert rig.state.outcome("2026-11-23/dinner") is None  # not done yet
    assert rig.jobs()["2026-11-23/dinner#retry:flaky"] == due + dt.timedelta(seconds=1)  # first backoff: 1 s
    assert rig.state.deliveries("2026-11-23/dinner") == {
        "console": Delivery("sent", 1, due),
        "flaky": Delivery("failed", 1, due),
    }

    rig.fire("2026-11-23/dinner#retry:flaky", at=due + dt.timedelta(seconds=1))
    assert flaky.sent == [("Magnesium: dinner", CITRATE)] * 2
    assert rig.messages() == ["Magnesium: dinner"]  # the console got it once
    assert "2026-11-23/dinner#retry:flaky" not in rig.jobs()
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "delivered", 0)]
    assert rig.state.deliveries("2026-11-23/dinner")["flaky"] == Delivery("sent", 2, due)


def test_retries_back_off_and_give_up_after_retry_for(make_rig: RigFactory) -> None:
    dead = Scripted(otherwise=False)
    rig = make_rig(two_meals(reminders='retry_for = "30s"'), utc(2026, 11, 23, 17), channels=[dead.channel("dead")])
    rig.daemon.schedule.rebuild()
    due = utc(2026, 11, 24)
    rig.fire("2026-11-23/dinner", at=due)
    # Attempt n fails -> next one retry_delay(n) later: 1, 2, 4, 8 s -> attempts at +0, +1, +3, +7, +15 s.
    # After the 5th, the next would be at +15 + 16 = +31 s, past retry_for (30 s) from the first: give up.
    retries = []
    for _ in range(4):
        when = rig.jobs()["2026-11-23/dinner#retry:dead"]
        retries.append(when - due)
        rig.fire("2026-11-23/dinner#retry:dead", at=when)
    assert retries == [dt.timedelta(seconds=s) for s in (1, 3, 7, 15)]
    assert "2026-11-23/dinner#retry:dead" not in rig.jobs()
    assert len(dead.sent) == 5
    assert rig.messages() == ["Magnesium: dinner"]
    # The console got it, so the reminder is delivered; the dead channel's record says it failed.
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "delivered", 0)]
    assert rig.state.deliveries("2026-11-23/dinner")["dead"] == Delivery("failed", 5, due)
    rig.daemon.delivery.deliver("2026-11-23/dinner")  # given up: nothing more
    assert len(dead.sent) == 5


def test_give_up_with_every_channel_failing_is_recorded_as_failed(make_rig: RigFactory) -> None:
    dead = Scripted(otherwise=False)
    # No console: nothing reaches the user.
    rig = make_rig(
        two_meals(reminders='retry_for = "2s"'), utc(2026, 11, 23, 17), channels=[dead.channel("dead")], console=False
    )
    rig.daemon.schedule.rebuild()
    due = utc(2026, 11, 24)
    rig.fire("2026-11-23/dinner", at=due)
    rig.fire("2026-11-23/dinner#retry:dead", at=due + dt.timedelta(seconds=1))
    # Attempts at +0 and +1 s; the next would be +1 + 2 = +3 s > retry_for 2 s.
    assert "2026-11-23/dinner#retry:dead" not in rig.jobs()
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "failed", 0)]


def test_retry_job_scheduled_past_the_horizon_still_finds_its_reminder(make_rig: RigFactory) -> None:
    flaky = Scripted([False, True])
    config = plan(NY, meal("nightcap", "23:59:30"))
    rig = make_rig(config, utc(2026, 11, 24, 4, 59), channels=[flaky.channel("flaky")])
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/nightcap", at=utc(2026, 11, 24, 4, 59, 30))
    rig.fire("midnight", at=utc(2026, 11, 24, 5))  # the 23rd's plan is behind the new horizon
    rig.fire("2026-11-23/nightcap#retry:flaky", at=utc(2026, 11, 24, 5, 0, 1))
    assert len(flaky.sent) == 2
    assert rig.state.outcome("2026-11-23/nightcap") == "delivered"


def test_pending_retry_is_not_doubled_by_a_reschedule(make_rig: RigFactory) -> None:
    """A reload (SIGHUP) or the midnight roll while a channel is being retried must not start a
    second delivery of the same reminder besides the retry job that already owns it."""
    flaky = Scripted([False, True])
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17), channels=[flaky.channel("flaky")])
    rig.daemon.schedule.rebuild()
    due = utc(2026, 11, 24)
    rig.fire("2026-11-23/dinner", at=due)
    rig.clock.now = due + dt.timedelta(milliseconds=500)
    rig.daemon.schedule.rebuild()  # e.g. SIGHUP half a second later
    jobs = rig.jobs()
    assert jobs["2026-11-23/dinner#retry:flaky"] == due + dt.timedelta(seconds=1)
    assert "2026-11-23/dinner" not in jobs


def test_reload_during_a_long_retry_keeps_retrying(make_rig: RigFactory) -> None:
    """retry_for longer than catch_up: a reschedule mid-retry must neither stop the retries nor
    record as "missed" a reminder the console already showed."""
    flaky = Scripted([False, False, False, False, False, False, False, False, False, False, False, True])
    config = two_meals(reminders='catch_up = "10m"\nretry_for = "30m"')
    rig = make_rig(config, utc(2026, 11, 23, 17), channels=[flaky.channel("flaky")])
    rig.daemon.schedule.rebuild()
    due = utc(2026, 11, 24)
    rig.fire("2026-11-23/dinner", at=due)
    # Retries at +1, +3, +7, +15, +31, +63, +127, +255, +511 s (8.5 min), +811 s (13.5 min: capped 5 min).
    for _ in range(9):
        rig.fire("2026-11-23/dinner#retry:flaky", at=rig.jobs()["2026-11-23/dinner#retry:flaky"])
    assert rig.jobs()["2026-11-23/dinner#retry:flaky"] == due + dt.timedelta(seconds=811)
    rig.clock.now = due + dt.timedelta(minutes=12)  # 2 minutes past catch_up: a SIGHUP
    rig.daemon.schedule.rebuild()
    assert rig.state.outcome("2026-11-23/dinner") is None
    rig.fire("2026-11-23/dinner#retry:flaky", at=due + dt.timedelta(seconds=811))
    rig.fire("2026-11-23/dinner#retry:flaky", at=rig.jobs()["2026-11-23/dinner#retry:flaky"])  # +1111 s, the 12th try
    assert len(flaky.sent) == 12
    assert rig.messages() == ["Magnesium: dinner"]
    assert rig.state.outcome("2026-11-23/dinner") == "delivered"


# ---------------------------------------------------------------------------- the clock moves on


def test_roll_over_at_midnight(make_rig: RigFactory) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17))
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24))
    rig.fire("midnight", at=utc(2026, 11, 24, 5))  # 00:00 EST on the 24th
    assert rig.jobs() == {
        "2026-11-24/breakfast": utc(2026, 11, 24, 12, 30),
        "2026-11-24/dinner": utc(2026, 11, 25, 0),
        "2026-11-25/breakfast": utc(2026, 11, 25, 12, 30),
        "2026-11-25/dinner": utc(2026, 11, 26, 0),
        "midnight": utc(2026, 11, 25, 5),
    }
    assert rig.rows() == [("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "delivered", 0)]


def midnight_config() -> Config:
    # Slots in a day: early 00:45, nightcap 23:59:30 and supper's delayed slot 21:30 + 3h = 00:30
    # the next day. Supper's phytate window [21:30, 00:30) holds nightcap (SPEC §2.3 v2): no
    # magnesium there, only its vitamin D; 200 mg -> 1 capsule at early and 1 after supper.
    vitamin_d = (
        '[[supplement]]\nid = "vitd"\nname = "Vitamin D3"\nnutrient = "vitamin D"\nunit = "capsule"\n'
        'with = ["nightcap"]\nunits = 1\n'
    )
    text = plan_text(
        NY,
        meal("early", "00:45"),
        meal("supper", "21:30", "phytate = true"),
        meal("nightcap", "23:59:30"),
        daily_mg=200,
        magnesium='phytate = "delay"\nphytate_gap = "3h"',
    )
    return config_from(text + vitamin_d)


def test_reminders_on_both_sides_of_midnight(make_rig: RigFactory) -> None:
    rig = make_rig(midnight_config(), utc(2026, 11, 24, 4, 59))  # 2026-11-23 23:59:00 EST
    rig.daemon.schedule.rebuild()
    # Horizon: until 2026-11-25 00:00 EST = 05:00Z, so the 24th's supper+delay (25th 00:30 EST) waits.
    assert rig.jobs() == {
        "2026-11-23/nightcap": utc(2026, 11, 24, 4, 59, 30),  # 23:59:30 EST
        "2026-11-23/supper+delay": utc(2026, 11, 24, 5, 30),  # 21:30 + 3h = 00:30 EST on the 24th
        "2026-11-24/early": utc(2026, 11, 24, 5, 45),  # 00:45 EST on the 24th
        "2026-11-24/nightcap": utc(2026, 11, 25, 4, 59, 30),
        "midnight": utc(2026, 11, 24, 5),
    }
    rig.fire("2026-11-23/nightcap", at=utc(2026, 11, 24, 4, 59, 30))
    rig.fire("midnight", at=utc(2026, 11, 24, 5))
    assert rig.jobs() == {
        "2026-11-23/supper+delay": utc(2026, 11, 24, 5, 30),  # yesterday's, still to come
        "2026-11-24/early": utc(2026, 11, 24, 5, 45),
        "2026-11-24/nightcap": utc(2026, 11, 25, 4, 59, 30),
        "2026-11-24/supper+delay": utc(2026, 11, 25, 5, 30),
        "2026-11-25/early": utc(2026, 11, 25, 5, 45),
        "2026-11-25/nightcap": utc(2026, 11, 26, 4, 59, 30),  # the horizon is now 2026-11-26 00:00 EST
        "midnight": utc(2026, 11, 25, 5),
    }
    rig.fire("2026-11-23/supper+delay", at=utc(2026, 11, 24, 5, 30))
    rig.fire("2026-11-24/early", at=utc(2026, 11, 24, 5, 45))
    assert rig.messages() == ["Magnesium: nightcap", "Magnesium: supper (after the meal)", "Magnesium: early"]
    assert "not with this meal: phytate-rich" in rig.console.getvalue()
    assert [(row[0], row[2], row[3]) for row in rig.rows()] == [
        ("2026-11-23/nightcap", "delivered", 0),
        ("2026-11-23/supper+delay", "delivered", 0),
        ("2026-11-24/early", "delivered", 0),
    ]


def test_reminder_left_behind_at_midnight_goes_out_late(make_rig: RigFactory) -> None:
    rig = make_rig(midnight_config(), utc(2026, 11, 24, 4, 59))
    rig.daemon.schedule.rebuild()
    # The 23:59:30 job has not run when the midnight roll rebuilds the schedule (a busy machine).
    rig.fire("midnight", at=utc(2026, 11, 24, 5))
    assert rig.jobs()["2026-11-23/nightcap"] == utc(2026, 11, 24, 5)  # caught up: now
    rig.fire("2026-11-23/nightcap", at=utc(2026, 11, 24, 5, 1))  # 90 s after 23:59:30
    assert rig.console.getvalue().startswith("Magnesium: nightcap (late)\n  Late: this reminder was due at 23:59:30.\n")
    assert ("2026-11-23/nightcap", "2026-11-24T04:59:30+00:00", "delivered", 1) in rig.rows()


def test_berlin_spring_forward(make_rig: RigFactory) -> None:
    rig = make_rig(night_and_dinner(BERLIN), utc(2026, 3, 28, 11))  # 12:00 CET
    rig.daemon.schedule.rebuild()
    assert rig.jobs() == {
        "2026-03-28/dinner": utc(2026, 3, 28, 18),  # 19:00 CET
        "2026-03-29/night": utc(2026, 3, 29, 1),  # 02:30 does not exist: 03:00 CEST
        "2026-03-29/dinner": utc(2026, 3, 29, 17),  # 19:00 CEST
        "midnight": utc(2026, 3, 28, 23),  # 00:00 CET
    }
    rig.fire("2026-03-28/dinner", at=utc(2026, 3, 28, 18))
    rig.fire("midnight", at=utc(2026, 3, 28, 23))
    assert rig.jobs() == {
        "2026-03-29/night": utc(2026, 3, 29, 1),
        "2026-03-29/dinner": utc(2026, 3, 29, 17),
        "2026-03-30/night": utc(2026, 3, 30, 0, 30),  # 02:30 CEST
        "2026-03-30/dinner": utc(2026, 3, 30, 17),
        "midnight": utc(2026, 3, 29, 22),  # 2026-03-30 00:00 CEST: a 23-hour day
    }
    rig.fire("2026-03-29/night", at=utc(2026, 3, 29, 1))
    assert rig.messages() == ["Magnesium: dinner", "Magnesium: night"]
    assert ("2026-03-29/night", "2026-03-29T01:00:00+00:00", "delivered", 0) in rig.rows()


def test_berlin_fall_back_fires_once(make_rig: RigFactory) -> None:
    rig = make_rig(night_and_dinner(BERLIN), utc(2026, 10, 24, 10))  # 12:00 CEST
    rig.daemon.schedule.rebuild()
    assert rig.jobs() == {
        "2026-10-24/dinner": utc(2026, 10, 24, 17),  # 19:00 CEST
        "2026-10-25/night": utc(2026, 10, 25, 0, 30),  # the first 02:30, CEST
        "2026-10-25/dinner": utc(2026, 10, 25, 18),  # 19:00 CET
        "midnight": utc(2026, 10, 24, 22),  # 00:00 CEST
    }
    rig.fire("2026-10-24/dinner", at=utc(2026, 10, 24, 17))
    rig.fire("midnight", at=utc(2026, 10, 24, 22))
    assert rig.jobs()["midnight"] == utc(2026, 10, 25, 23)  # 2026-10-26 00:00 CET: a 25-hour day
    rig.fire("2026-10-25/night", at=utc(2026, 10, 25, 0, 30))
    # The second 02:30 (CET, 01:30Z): a reload now finds nothing more to send for the night.
    rig.clock.now = utc(2026, 10, 25, 1, 30)
    rig.daemon.schedule.rebuild()
    assert rig.jobs() == {
        "2026-10-25/dinner": utc(2026, 10, 25, 18),
        "2026-10-26/night": utc(2026, 10, 26, 1, 30),  # 02:30 CET
        "2026-10-26/dinner": utc(2026, 10, 26, 18),
        "midnight": utc(2026, 10, 25, 23),
    }
    assert rig.messages() == ["Magnesium: dinner", "Magnesium: night"]


def test_new_york_spring_forward_and_fall_back(make_rig: RigFactory) -> None:
    rig = make_rig(night_and_dinner(NY), utc(2026, 3, 7, 17))  # 12:00 EST
    rig.daemon.schedule.rebuild()
    assert rig.jobs()["2026-03-08/night"] == utc(2026, 3, 8, 7)  # 02:30 skipped: 03:00 EDT
    assert rig.jobs()["midnight"] == utc(2026, 3, 8, 5)  # 00:00 EST
    rig.fire("2026-03-07/dinner", at=utc(2026, 3, 8, 0))  # 19:00 EST
    rig.fire("midnight", at=utc(2026, 3, 8, 5))
    assert rig.jobs()["midnight"] == utc(2026, 3, 9, 4)  # 00:00 EDT

    rig.clock.now = utc(2026, 10, 31, 16)  # months later, 12:00 EDT (a reload, say)
    rig.daemon.schedule.rebuild()
    assert rig.jobs()["2026-11-01/night"] == utc(2026, 11, 1, 7, 30)  # 02:30 EST, after the repeated hour
    assert rig.jobs()["midnight"] == utc(2026, 11, 1, 4)  # 00:00 EDT


def test_skipped_midnight_roll(make_rig: RigFactory) -> None:
    config = plan("America/Havana", meal("snack", "00:30"), meal("dinner", "19:00"))
    rig = make_rig(config, utc(2026, 3, 7, 17))  # 12:00 CST on the 7th
    rig.daemon.schedule.rebuild()
    # Havana skips 2026-03-08 00:00-01:00: the day begins at 01:00 CDT = 00:00 CST = 05:00Z,
    # and the snack at 00:30 (in the gap) is at that instant too.
    assert rig.jobs()["midnight"] == utc(2026, 3, 8, 5)
    assert rig.jobs()["2026-03-08/snack"] == utc(2026, 3, 8, 5)
    rig.fire("2026-03-07/dinner", at=utc(2026, 3, 8, 0))  # 19:00 CST
    rig.fire("midnight", at=utc(2026, 3, 8, 5))
    assert rig.jobs()["midnight"] == utc(2026, 3, 9, 4)  # 2026-03-09 00:00 CDT
    assert rig.jobs()["2026-03-08/snack"] == utc(2026, 3, 8, 5)
    assert rig.jobs()["2026-03-09/snack"] == utc(2026, 3, 9, 4, 30)  # 00:30 CDT


# ---------------------------------------------------------------------------- repeats, escalation


def test_repeats_until_acknowledged(make_rig: RigFactory) -> None:
    rig = make_rig(two_meals(reminders='repeat = "15m"\nrepeat_max = 2'), utc(2026, 11, 23, 17))
    rig.daemon.schedule.rebuild()
    # 2026-11-23 dinner 19:00 EST = 2026-11-24 00:00Z; repeats 15 and 30 minutes later.
    jobs = rig.jobs()
    assert jobs["2026-11-23/dinner#repeat1"] == utc(2026, 11, 24, 0, 15)
    assert jobs["2026-11-23/dinner#repeat2"] == utc(2026, 11, 24, 0, 30)
    assert jobs["2026-11-24/breakfast#repeat1"] == utc(2026, 11, 24, 12, 45)  # 07:45 EST
    for job in rig.daemon.jobs.pending():
        if "#repeat" in job.id:
            assert job.func == rig.daemon.delivery.deliver
            assert job.args == (job.id, False, None)
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24))
    rig.fire("2026-11-23/dinner#repeat1", at=utc(2026, 11, 24, 0, 15))
    assert rig.messages() == ["Magnesium: dinner", "Magnesium: dinner (again, 1 of 2)"]
    assert rig.console.getvalue().endswith(
        f"  {CITRATE}\n  Not yet marked taken: `mgremind taken` (or `skip`) stops these.\n"
    )
    rig.state.acknowledge("2026-11-23/dinner", "taken", utc(2026, 11, 24, 0, 20))
    rig.fire("2026-11-23/dinner#repeat2", at=utc(2026, 11, 24, 0, 30))
    assert rig.messages() == ["Magnesium: dinner", "Magnesium: dinner (again, 1 of 2)"]  # taken: no more
    assert rig.state.outcome("2026-11-23/dinner#repeat1") == "delivered"
    assert rig.state.outcome("2026-11-23/dinner#repeat2") is None


def test_escalation_after_missed_in_a_row_is_sent_once(make_rig: RigFactory) -> None:
    caregiver = Scripted(otherwise=True)
    config = two_meals(reminders="escalate_after = 2", notify=CAREGIVER)
    rig = make_rig(config, utc(2026, 11, 23, 12), caregivers=[caregiver.channel("caregiver")])  # 07:00 EST
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/breakfast", at=utc(2026, 11, 23, 12, 30))
    # At dinner, breakfast (not taken) is missed: one in a row. Dinner is missed at the end of its day.
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24))
    assert caregiver.sent == []
    rig.fire("midnight", at=utc(2026, 11, 24, 5))
    assert caregiver.sent == [
        (
            "Magnesium: 2 doses missed",
            "Not taken nor skipped:\nbreakfast at 07:30 on Mon 2026-11-23\ndinner at 19:00 on Mon 2026-11-23",
        )
    ]
    rig.fire("2026-11-24/breakfast", at=utc(2026, 11, 24, 12, 30))
    assert len(caregiver.sent) == 1  # told once
    assert rig.messages() == ["Magnesium: breakfast", "Magnesium: dinner", "Magnesium: breakfast"]


def test_escalation_that_reaches_no_caregiver_is_tried_again_at_the_next_reminder(make_rig: RigFactory) -> None:
    caregiver = Scripted([False], otherwise=True)
    rig = make_rig(
        two_meals(reminders="escalate_after = 2", notify=CAREGIVER),
        utc(2026, 11, 23, 12),
        caregivers=[caregiver.channel("caregiver")],
    )
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/breakfast", at=utc(2026, 11, 23, 12, 30))
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24))
    rig.fire("midnight", at=utc(2026, 11, 24, 5))  # fails
    assert len(caregiver.sent) == 1
    rig.fire("2026-11-24/breakfast", at=utc(2026, 11, 24, 12, 30))  # tried again, after the reminder
    assert len(caregiver.sent) == 2
    assert caregiver.sent[0] == caregiver.sent[1]
    rig.fire("2026-11-24/dinner", at=utc(2026, 11, 25))
    assert len(caregiver.sent) == 2


# ---------------------------------------------------------------------------- reload, status, stop


class Systemd:
    """A NOTIFY_SOCKET that collects what the daemon tells systemd (an abstract socket: no file)."""

    def __init__(self) -> None:
        self.address = f"@mgremind-test-{os.getpid()}-{threading.get_ident()}-{id(self)}"
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind("\0" + self.address[1:])
        self._socket.setblocking(False)

    def notifier(self) -> Notifier:
        return Notifier({"NOTIFY_SOCKET": self.address})

    def messages(self) -> list[str]:
        """The datagrams sent since the last call."""
        found = []
        with contextlib.suppress(BlockingIOError):
            while True:
                found.append(self._socket.recv(4096).decode())
        return found

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def systemd() -> Iterator[Systemd]:
    listener = Systemd()
    yield listener
    listener.close()


def test_a_failed_reload_keeps_the_plan_and_says_so(make_rig: RigFactory, systemd: Systemd, tmp_path: Path) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17), notifier=systemd.notifier())
    rig.daemon.schedule.rebuild()
    before = rig.jobs()
    (tmp_path / "config.toml").write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")
    rig.daemon.reload()
    assert rig.jobs() == before
    reloading, ready = systemd.messages()
    assert reloading.startswith("RELOADING=1\nMONOTONIC_USEC=")
    assert ready == "READY=1\nSTATUS=reload failed, previous plan kept; next: dinner at 19:00 on Mon 2026-11-23"
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24))
    assert rig.messages() == ["Magnesium: dinner"]  # the old plan, to the old channels


def test_reload_reschedules_from_the_new_file(make_rig: RigFactory, systemd: Systemd, tmp_path: Path) -> None:
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17), notifier=systemd.notifier())
    rig.daemon.schedule.rebuild()
    (tmp_path / "config.toml").write_text(
        plan_text(NY, meal("breakfast", "07:30"), meal("dinner", "18:30"), reminders='catch_up = "3h"'),
        encoding="utf-8",
    )
    rig.daemon.reload()
    assert rig.jobs() == {
        "2026-11-23/dinner": utc(2026, 11, 23, 23, 30),  # 18:30 EST
        "2026-11-24/breakfast": utc(2026, 11, 24, 12, 30),
        "2026-11-24/dinner": utc(2026, 11, 24, 23, 30),
        "midnight": utc(2026, 11, 24, 5),
    }
    assert all(job.misfire_grace_time == 3 * 3600 for job in rig.daemon.jobs.pending() if job.id != "midnight")
    assert systemd.messages()[1:] == ["READY=1\nSTATUS=next: dinner at 18:30 on Mon 2026-11-23"]


def test_status_line() -> None:
    config = two_meals()
    dinner = reminder_of(config, "2026-11-23/dinner")
    assert daemon_status(dinner) == "next: dinner at 19:00 on Mon 2026-11-23"
    assert daemon_status(None) == "no reminder until tomorrow"
    assert daemon_status(None, reload_failed=True) == "reload failed, previous plan kept; no reminder until tomorrow"


def test_stop_waits_for_a_delivery_in_flight_and_one_runs_at_a_time(make_rig: RigFactory) -> None:
    sending, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def stuck(title: str, body: str) -> bool:
        calls.append(title)
        sending.set()
        return release.wait(10)

    rig = make_rig(two_meals(), utc(2026, 11, 23, 17), channels=[Channel("stuck", "stuck", stuck)], console=False)
    rig.daemon.schedule.rebuild()
    assert rig.daemon.delivery.wait_idle(0) == 0
    rig.clock.now = utc(2026, 11, 24)
    [job] = [job for job in rig.daemon.jobs.pending() if job.id == "2026-11-23/dinner"]
    worker = threading.Thread(target=job.func, args=job.args)
    worker.start()
    try:
        assert sending.wait(10)
        assert rig.daemon.delivery.wait_idle(0.05) == 1  # what SIGTERM's grace sees: one unfinished
        rig.daemon.delivery.deliver("2026-11-23/dinner", True)  # e.g. a catch-up: the first one owns it
        assert calls == ["Magnesium: dinner"]
    finally:
        release.set()
        worker.join(10)
    assert rig.daemon.delivery.wait_idle(10) == 0
    assert rig.state.outcome("2026-11-23/dinner") == "delivered"


# ---------------------------------------------------------------------------- a state that cannot be written


class Unwritable:
    """A real state file, opened by a connection that SQLite refuses to let write (query_only), as
    a read-only or full state refuses: every write fails with SQLite's own error until `heal`."""

    def __init__(self, path: Path, now: dt.datetime) -> None:
        State.open(path, now).close()  # the schema, as any daemon finds it
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA query_only = ON")
        self.state = State(Database(path, self.connection))

    def heal(self) -> None:
        self.connection.execute("PRAGMA query_only = OFF")


def test_records_wait_in_memory_and_are_written_once_writing_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(utc(2026, 11, 24))
    broken = Unwritable(tmp_path / "state.sqlite3", clock.now)
    troubles: list[str] = []
    records = Records(broken.state, clock, on_trouble=lambda: troubles.append("began"))
    rid, due = "2026-11-23/dinner", utc(2026, 11, 24)
    with caplog.at_level(logging.INFO, logger="mgremind"):
        assert records.begin(rid, ["console", "json"], clock.now) == Begun(set(), recorded=False)
        clock.now += dt.timedelta(seconds=1)
        records.finish(rid, "console", clock.now, None, unknown=False)
        records.finish(rid, "json", clock.now, "HTTP 503", unknown=False)
        records.close(rid, due, "delivered", clock.now)
        # The daemon's reads see what waits, as if it were written.
        assert records.deliveries(rid) == {"console": Delivery("sent", 1, due), "json": Delivery("failed", 1, due)}
        assert records.outcome(rid) == "delivered"
        assert records.outcomes_since(dt.date(2026, 11, 23)) == {rid: "delivered"}
        trouble = records.trouble
        assert trouble is not None and trouble.since == due and trouble.waiting == 4
        assert str(tmp_path / "state.sqlite3") in trouble.error and "readonly" in trouble.error
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1, errors  # once a minute at most, not once a record
        assert "reminders still go out" in errors[0]
        assert troubles == ["began"]
        assert records.flush() is False  # still refused

        broken.heal()
        assert records.flush() is True
    assert records.trouble is None
    assert any("the state is written again" in r.getMessage() for r in caplog.records)
    # Another reader of the file finds every record, in the order they were made.
    again = State.open(tmp_path / "state.sqlite3", clock.now)
    try:
        assert again.deliveries(rid) == {"console": Delivery("sent", 1, due), "json": Delivery("failed", 1, due)}
        assert again.outcome(rid) == "delivered"
    finally:
        again.close()


def test_an_unwritable_state_loses_no_reminder(make_rig: RigFactory, tmp_path: Path) -> None:
    broken = Unwritable(tmp_path / "broken.sqlite3", utc(2026, 11, 23, 17))
    rig = make_rig(two_meals(), utc(2026, 11, 23, 17), state=broken.state)
    rig.daemon.schedule.rebuild()
    rig.fire("2026-11-23/dinner", at=utc(2026, 11, 24))
    # Sent all the same, saying that it may come again (a restart would not know it went out).
    assert rig.console.getvalue() == (
        f"Magnesium: dinner\n  {CITRATE}\n"
        "  (mgremind cannot write its records just now: this message may come again.)\n"
    )
    status = rig.daemon.status()
    assert status.startswith("cannot write its state since 2026-11-23 19:00: 3 record(s) wait;")
    assert status.endswith("next: breakfast at 07:30 on Tue 2026-11-24")
    rig.daemon.delivery.deliver("2026-11-23/dinner")  # e.g. a catch-up: what waits says it went out
    rig.settle()
    assert rig.messages() == ["Magnesium: dinner"]

    broken.heal()
    rig.fire("2026-11-24/breakfast", at=utc(2026, 11, 24, 12, 30))  # the next record writes what waits
    assert rig.console.getvalue().endswith(f"Magnesium: breakfast\n  {CITRATE}\n")  # no note: recorded
    assert rig.daemon.records.trouble is None
    assert [row[:3] for row in rig.rows()] == [
        ("2026-11-23/dinner", "2026-11-24T00:00:00+00:00", "delivered"),
        ("2026-11-24/breakfast", "2026-11-24T12:30:00+00:00", "delivered"),
    ]
    assert rig.daemon.status() == "next: dinner at 19:00 on Tue 2026-11-24"
