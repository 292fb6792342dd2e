"""The daemon's decisions, pure: what to schedule, what to catch up, when to retry, what is late.

Each function takes the configuration, instants and what the state says, and answers; no
clock, no I/O, no scheduler, so the tests pin them to hand-computed instants across DST
changes and midnight. schedule.py and delivery.py act on the answers.

Every instant is the planner's: it already resolved DST, and the day boundaries here (the
next midnight, the end of tomorrow) are resolved the same way, so a skipped or repeated
midnight is no special case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from mgremind.history import repeats
from mgremind.model import Config, DayPlan, Reminder
from mgremind.plan import plan_day, wall_clock_instant
from mgremind.titration import Ramp

# A reminder sent more than this after its time says it is late.
LATE_AFTER = dt.timedelta(seconds=60)
# Retries of a failing channel: 1 s, 2 s, 4 s, … at most 5 minutes apart.
RETRY_FIRST = dt.timedelta(seconds=1)
RETRY_LONGEST = dt.timedelta(minutes=5)


def reminders_between(config: Config, start: dt.datetime, end: dt.datetime, ramp: Ramp | None = None) -> list[Reminder]:
    """Every reminder with start <= at < end, in time order (delayed ones may cross midnight)."""
    return sorted(
        (r for plan in _plans_around(config, start, end, ramp) for r in plan.reminders if start <= r.at < end),
        key=lambda reminder: reminder.instant,
    )


def repeats_between(
    config: Config, start: dt.datetime, end: dt.datetime, ramp: Ramp | None = None
) -> list[tuple[Reminder, int, dt.datetime]]:
    """The repeats (reminder, n, when) due with start <= when < end (SPEC §6)."""
    if not config.reminders.repeat_max:
        return []
    return [
        (reminder, number, when)
        for plan in _plans_around(config, start, end, ramp)
        for reminder, number, when in repeats(config, plan)
        if start <= when < end
    ]


def _plans_around(config: Config, start: dt.datetime, end: dt.datetime, ramp: Ramp | None) -> list[DayPlan]:
    """The plans of the days from the one before `start` to the one of `end`."""
    first = start.astimezone(config.zone).date() - dt.timedelta(days=1)
    days = (end.astimezone(config.zone).date() - first).days + 1
    ramp = ramp or Ramp(config)
    return [plan_day(config, first + dt.timedelta(days=offset), ramp) for offset in range(days)]


def repeat_id(reminder_id: str, number: int) -> str:
    return f"{reminder_id}#repeat{number}"


def split_repeat_id(job_id: str) -> tuple[str, int]:
    """ "2026-11-25/lunch#repeat2" → ("2026-11-25/lunch", 2); a plain id → (id, 0)."""
    base, _, number = job_id.partition("#repeat")
    return base, int(number) if number.isdigit() else 0


def next_midnight(config: Config, now: dt.datetime) -> dt.datetime:
    """The instant the next local day begins (the first instant after a gap, if midnight is skipped)."""
    tomorrow = now.astimezone(config.zone).date() + dt.timedelta(days=1)
    return wall_clock_instant(tomorrow, dt.time(0), config.zone)


def horizon_end(config: Config, now: dt.datetime) -> dt.datetime:
    """The end of tomorrow: the scheduler holds today's and tomorrow's reminders."""
    day_after = now.astimezone(config.zone).date() + dt.timedelta(days=2)
    return wall_clock_instant(day_after, dt.time(0), config.zone)


def lookback_start(config: Config, now: dt.datetime, created_at: dt.datetime) -> dt.datetime:
    """How far back to look for reminders that fell due while the daemon was down."""
    window = max(dt.timedelta(days=2), config.reminders.catch_up + dt.timedelta(days=1))
    return max(created_at, now - window)


class CatchUp(NamedTuple):
    late: tuple[Reminder, ...]  # send now, marked late
    missed: tuple[Reminder, ...]  # too old: record as missed


def catch_up(overdue: Iterable[Reminder], now: dt.datetime, window: dt.timedelta) -> CatchUp:
    """Reminders that fell due unsent: younger than `catch_up` go out late, older are missed."""
    late: list[Reminder] = []
    missed: list[Reminder] = []
    for reminder in overdue:
        (late if now - reminder.at <= window else missed).append(reminder)
    return CatchUp(tuple(late), tuple(missed))


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff after the given number of failed attempts."""
    return min(RETRY_FIRST * (1 << min(max(attempts - 1, 0), 20)), RETRY_LONGEST)


def is_late(reminder: Reminder, now: dt.datetime, caught_up: bool = False) -> bool:
    """A reminder caught up after downtime is late; one the scheduler fires is late past LATE_AFTER."""
    return caught_up or now - reminder.at > LATE_AFTER
