"""What happened to the plan: taken, skipped, missed; symptoms; supplies left (SPEC §6).

Pure: the configuration, the recorded acknowledgements, reports and stock counts, and the
time `now` in; statuses, day summaries and supplies out. The commands and the daemon read
the records from the state database and hand them in.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import NamedTuple, TypeVar

from mgremind.model import Config, DayPlan, Reminder, Supplement
from mgremind.plan import plan_day, wall_clock_instant
from mgremind.titration import Ramp, Reports

UTC = dt.timezone.utc
# Acknowledgements: "taken" or "skipped" by reminder id.
Acks = Mapping[str, str]
# The latest stock count of each supplement id: (units, when).
Counts = Mapping[str, tuple[float, dt.datetime]]


class Status(NamedTuple):
    reminder: Reminder
    status: str  # "taken", "skipped", "missed", "pending"


class DayHistory(NamedTuple):
    date: dt.date
    reminders: tuple[Status, ...]
    magnesium_planned_mg: float
    magnesium_taken_mg: float
    symptoms: tuple[str, ...]

    def tally(self, status: str) -> int:
        return sum(1 for entry in self.reminders if entry.status == status)

    @property
    def adherence_pct(self) -> float | None:
        """Taken of those already decided (taken, skipped or missed); None before any is."""
        decided = len(self.reminders) - self.tally("pending")
        return round(100 * self.tally("taken") / decided, 1) if decided else None


def deadlines(config: Config, plan: DayPlan) -> list[dt.datetime]:
    """When each reminder of a day counts as missed if not acknowledged: when the next one of
    its day is due (reminders due together share the next), or at the end of the day it falls on
    (a dose delayed past midnight has that next day)."""
    found = []
    for reminder in plan.reminders:
        later = [other.instant for other in plan.reminders if other.instant > reminder.instant]
        if later:
            found.append(min(later))
        else:
            day = reminder.at.astimezone(config.zone).date()
            found.append(wall_clock_instant(day + dt.timedelta(days=1), dt.time(0), config.zone))
    return found


def repeats(config: Config, plan: DayPlan) -> list[tuple[Reminder, int, dt.datetime]]:
    """(reminder, n, when) of each repeat: every `repeat` after the reminder, at most
    `repeat_max` times, and only while it is not yet missed."""
    every, most = config.reminders.repeat, config.reminders.repeat_max
    found = []
    for reminder, deadline in zip(plan.reminders, deadlines(config, plan), strict=True):
        for number in range(1, most + 1):
            when = reminder.instant + number * every
            if when >= deadline:
                break
            found.append((reminder, number, when))
    return found


def day_statuses(config: Config, plan: DayPlan, acks: Acks, now: dt.datetime) -> tuple[Status, ...]:
    """A reminder is missed when neither taken nor skipped by its deadline; until then pending."""
    statuses = []
    for reminder, deadline in zip(plan.reminders, deadlines(config, plan), strict=True):
        if reminder.id in acks:
            status = acks[reminder.id]
        elif now >= deadline:
            status = "missed"
        else:
            status = "pending"
        statuses.append(Status(reminder, status))
    return tuple(statuses)


def history(
    config: Config,
    today: dt.date,
    days: int,
    *,
    acks: Acks,
    reports: Reports,
    now: dt.datetime,
    since: dt.datetime | None = None,
) -> list[DayHistory]:
    """The last `days` days, oldest first, ending today. Reminders before `since` (when the
    records began) are left out: nobody could have marked them."""
    ramp = Ramp(config, reports)
    found = []
    for offset in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=offset)
        plan = plan_day(config, day, ramp)
        statuses = tuple(
            entry
            for entry in day_statuses(config, plan, acks, now)
            if since is None or entry.reminder.instant >= since or entry.reminder.id in acks
        )
        planned = sum(entry.reminder.magnesium_mg for entry in statuses)
        taken = sum(entry.reminder.magnesium_mg for entry in statuses if entry.status == "taken")
        found.append(DayHistory(day, statuses, round(planned, 3), round(taken, 3), tuple(reports.get(day, ()))))
    return found


def due_unacknowledged(config: Config, acks: Acks, reports: Reports, now: dt.datetime) -> list[Reminder]:
    """Reminders already due and not yet taken or skipped, newest first (today and yesterday)."""
    today = now.astimezone(config.zone).date()
    ramp = Ramp(config, reports)
    due = [
        reminder
        for day in (today - dt.timedelta(days=1), today)
        for reminder in plan_day(config, day, ramp).reminders
        if reminder.instant <= now and reminder.id not in acks
    ]
    return sorted(due, key=lambda reminder: reminder.instant, reverse=True)


def missed_in_a_row(
    config: Config, acks: Acks, reports: Reports, now: dt.datetime, *, since: dt.datetime, days: int = 7
) -> list[Reminder]:
    """The missed reminders since the last one taken or skipped (and since `since`), oldest first."""
    streak: list[Reminder] = []
    today = now.astimezone(config.zone).date()
    for day in history(config, today, days, acks=acks, reports=reports, now=now, since=since):
        for entry in day.reminders:
            if entry.status == "missed":
                streak.append(entry.reminder)
            elif entry.status in ("taken", "skipped"):
                streak = []
    return streak


# ---------------------------------------------------------------------------- supplies


class Supply(NamedTuple):
    supplement: Supplement
    units_left: float
    days_left: float | None  # at the current plan; None when it uses none

    @property
    def low(self) -> bool:
        return self.units_left <= 0 or (self.days_left is not None and self.days_left < self.supplement.refill_days)


def supplies(config: Config, counts: Counts, acks: Acks, reports: Reports, now: dt.datetime) -> list[Supply]:
    """Units on hand of each counted supplement: the latest count (stock/stock_date, or a later
    `stock` command) less the units of the reminders since then that were not skipped."""
    ramp = Ramp(config, reports)
    today = now.astimezone(config.zone).date()
    found = []
    for supplement in config.supplements:
        count = _latest_count(config, supplement, counts)
        if count is None:
            continue
        units, counted_at = count
        first = counted_at.astimezone(config.zone).date()
        used = sum(
            _units_of(supplement, reminder)
            for day in _days(first, today)
            for reminder in plan_day(config, day, ramp).reminders
            if counted_at <= reminder.instant <= now and acks.get(reminder.id) != "skipped"
        )
        week = [plan_day(config, today + dt.timedelta(days=offset), ramp) for offset in range(7)]
        per_day = sum(_units_of(supplement, r) for plan in week for r in plan.reminders) / len(week)
        left = round(units - used, 6)
        found.append(Supply(supplement, left, round(left / per_day, 1) if per_day else None))
    return found


def _latest_count(config: Config, supplement: Supplement, counts: Counts) -> tuple[float, dt.datetime] | None:
    configured = None
    if supplement.stock is not None and supplement.stock_date is not None:
        configured = (supplement.stock, wall_clock_instant(supplement.stock_date, dt.time(0), config.zone))
    recorded = counts.get(supplement.id)
    if recorded is None or (configured is not None and configured[1] > recorded[1]):
        return configured
    return recorded


def _units_of(supplement: Supplement, reminder: Reminder) -> float:
    return sum(item.units for item in reminder.items if item.supplement.id == supplement.id)


def _days(first: dt.date, last: dt.date) -> Sequence[dt.date]:
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


# ---------------------------------------------------------------------------- `status`

R = TypeVar("R")


def channel_results(
    channels: Sequence[tuple[str, str]], results: Mapping[str, R], *, known: bool = True
) -> list[tuple[str, R | None]]:
    """(label, latest result or None) of each configured channel, given as (key, label), in
    order; then the recorded channels the configuration no longer has (all of them when the
    configured ones are not `known`), by a short fingerprint of their key (the state holds no more
    of them), the latest first."""
    labels: dict[str, list[str]] = {}
    for key, label in channels:  # one URL of several services: one key, one result, its labels joined
        labels.setdefault(key, []).append(label)
    found: list[tuple[str, R | None]] = [(", ".join(names), results.get(key)) for key, names in labels.items()]
    found.extend(
        (f"channel {key[:8]}" + ("" if not known else " (not in this configuration)"), result)
        for key, result in results.items()
        if key not in labels
    )
    return found
