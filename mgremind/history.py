"""What happened to the plan: taken, skipped, missed; symptoms; supplies left (SPEC §6).

Pure: the configuration, the recorded acknowledgements, reports and stock counts, and the
time `now` in; statuses, day summaries and supplies out. The commands and the daemon read
the records from the state database and hand them in.
"""

import bisect
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple, TypeVar

from mgremind.model import Config, DayPlan, Item, Reminder, Supplement
from mgremind.plan import plan_day, wall_clock_instant
from mgremind.titration import Ramp, Reports

UTC = dt.timezone.utc
# A day's plan, by its date (plan_day with the configuration and the reports at hand).
Plans = Callable[[dt.date], DayPlan]
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
        return [entry.status for entry in self.reminders].count(status)

    @property
    def adherence_pct(self) -> float | None:
        """Taken of those already decided (taken, skipped or missed); None before any is."""
        decided = len(self.reminders) - self.tally("pending")
        return round(100 * self.tally("taken") / decided, 1) if decided else None


def deadlines(config: Config, plan: DayPlan) -> list[dt.datetime]:
    """When each reminder of a day counts as missed if not acknowledged: when the next one of
    its day is due (reminders due together share the next), or at the end of the day it falls on
    (a dose delayed past midnight has that next day). The day's instants are sorted once: a day
    of many reminders costs n log n, not n²."""
    return _deadlines(config, plan, [reminder.instant for reminder in plan.reminders])


def _deadlines(config: Config, plan: DayPlan, instants: Sequence[dt.datetime]) -> list[dt.datetime]:
    """deadlines, given the instant of each reminder."""
    ordered = sorted(set(instants))
    found = []
    for reminder, instant in zip(plan.reminders, instants, strict=True):
        later = bisect.bisect_right(ordered, instant)  # the first instant after this one
        if later < len(ordered):
            found.append(ordered[later])
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
    # Each content's magnesium worked out once: a day's slots of one content share their items
    # (plan._reminders); by id(), the items held so that no other tuple can take that id.
    magnesium_of: dict[int, tuple[tuple[Item, ...], float]] = {}
    for offset in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=offset)
        plan = plan_day(config, day, ramp)
        instants = [reminder.instant for reminder in plan.reminders]  # each worked out once: days may be long
        statuses, planned, taken = [], 0.0, 0.0
        for reminder, instant, deadline in zip(
            plan.reminders, instants, _deadlines(config, plan, instants), strict=True
        ):
            status = acks.get(reminder.id)
            if status is None:
                if since is not None and instant < since:
                    continue
                status = "missed" if now >= deadline else "pending"
            statuses.append(Status(reminder, status))
            known = magnesium_of.get(id(reminder.items))
            if known is None:
                known = magnesium_of[id(reminder.items)] = (reminder.items, reminder.magnesium_mg)
            magnesium = known[1]
            planned += magnesium
            taken += magnesium if status == "taken" else 0.0
        found.append(DayHistory(day, tuple(statuses), round(planned, 3), round(taken, 3), tuple(reports.get(day, ()))))
    return found


def records_begin(
    config: Config, created_at: dt.datetime, acknowledged: Iterable[str], reports: Reports
) -> dt.datetime:
    """When the records began (SPEC §6 v2): the earlier of the state's creation and the earliest
    reminder ever acknowledged, so that a day backfilled with `taken` shows its other reminders as
    missed. An acknowledged reminder is placed at its instant in the plan; one the plan has no
    more (a meal renamed since) at the start of its day."""
    by_day: dict[dt.date, list[str]] = {}
    for reminder_id in acknowledged:
        try:
            day = dt.date.fromisoformat(reminder_id.split("/", 1)[0])
        except ValueError:
            continue  # not a reminder id of ours: nothing to place in time
        by_day.setdefault(day, []).append(reminder_id)
    if not by_day:
        return created_at
    first = min(by_day)
    ramp = Ramp(config, reports)
    earliest = created_at
    # The first day's and the next one's: a lead may bring a reminder of the next day before one
    # of the first (a breakfast at 00:10 reminded at 23:40 the evening before).
    for day in (first, first + dt.timedelta(days=1)):
        if day not in by_day:
            continue
        instants = {reminder.id: reminder.instant for reminder in plan_day(config, day, ramp).reminders}
        start = wall_clock_instant(day, dt.time(0), config.zone)
        earliest = min(earliest, *(instants.get(reminder_id, start) for reminder_id in by_day[day]))
    return earliest


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


class StockTotal(NamedTuple):
    """A running total of a supplement's use since its latest count, kept as days pass (by the
    daemon, mgremind.daemon.stock) so that the units on hand never need every day since the
    count planned again: the supplies plan only the days after it."""

    counted_at: dt.datetime  # the count it runs from: worth nothing once another count is the latest
    through: dt.date  # the last local day it covers (its reminders all past when it was made)
    used: float  # units of the reminders from the count through that day that were not skipped


# The running totals by supplement id, as the state holds them: (counted_at, through, used).
Totals = Mapping[str, tuple[dt.datetime, dt.date, float]]

# A stock total covers the days up to the day before yesterday. Every reminder of those days is
# past (a dose delayed past midnight falls on the next day, at most), and acknowledging a
# reminder that old is rare: the state drops the totals such a late skip (or symptom report)
# changes (mgremind.state), and each drop costs one replay from the count.
SETTLED = dt.timedelta(days=2)


def settled_day(config: Config, now: dt.datetime) -> dt.date:
    """The last day a stock total made at `now` covers."""
    return now.astimezone(config.zone).date() - SETTLED


def supplies(
    config: Config,
    counts: Counts,
    acks: Acks,
    reports: Reports,
    now: dt.datetime,
    *,
    totals: Totals | None = None,
    plans: Plans | None = None,
) -> list[Supply]:
    """Units on hand of each counted supplement: the latest count (stock/stock_date, or a later
    `stock` command) less the units of the reminders since then that were not skipped. Where a
    running total of that count is given, only the days after it are planned; `acks` must hold
    the acknowledgements from `supplies_since` on. `plans` gives a day's plan (with `reports`);
    the daemon's keeps the plans it made (the same days, delivery after delivery)."""
    if plans is None:
        ramp = Ramp(config, reports)
        plans = functools.partial(plan_day, config, ramp=ramp)
    today = now.astimezone(config.zone).date()
    week: list[DayPlan] = []  # planned once, for the first counted supplement: none when nothing is
    found = []
    for supplement in config.supplements:
        start = _start(config, supplement, counts, totals or {}, settled_day(config, now))
        if start is None:
            continue
        week = week or [plans(today + dt.timedelta(days=offset)) for offset in range(7)]
        reminders = (reminder for day in _days(start.first, today) for reminder in plans(day).reminders)
        used = _use(supplement, reminders, start, acks, now=now)
        per_day = sum(_units_of(supplement, r) for plan in week for r in plan.reminders) / len(week)
        left = round(start.units - used, 6)
        found.append(Supply(supplement, left, round(left / per_day, 1) if per_day else None))
    return found


def supplies_since(config: Config, counts: Counts, totals: Totals, now: dt.datetime) -> dt.date | None:
    """The first day whose acknowledgements `supplies` (and `stock_totals`) need: the day after
    a running total, else the day of the count; None when no supplement is counted."""
    settled = settled_day(config, now)
    starts = (_start(config, supplement, counts, totals, settled) for supplement in config.supplements)
    return min((start.first for start in starts if start is not None), default=None)


def stock_totals(
    config: Config, counts: Counts, totals: Totals, *, acks: Acks, reports: Reports, now: dt.datetime
) -> dict[str, StockTotal]:
    """The running totals of the counted supplements brought up to the settled day (see
    SETTLED), each from the one given when that still runs from the latest count, else from the
    count itself. Pure, like `supplies`; `acks` from `supplies_since` on. A supplement counted
    after the settled day has no total (yet)."""
    through = settled_day(config, now)
    ramp = Ramp(config, reports)
    found = {}
    for supplement in config.supplements:
        start = _start(config, supplement, counts, totals, through)
        if start is None or (start.first > through and start.carried is None):
            continue  # not counted, or counted after the settled day: nothing to add up yet
        # Every reminder of these days is past: none is left out as being after now.
        used = _use(supplement, _reminders(config, ramp, start.first, through), start, acks, now=None)
        found[supplement.id] = StockTotal(start.counted_at, through, used)
    return found


class _Start(NamedTuple):
    """Where adding up a supplement's use begins."""

    units: float  # of the latest count
    counted_at: dt.datetime  # its instant
    first: dt.date  # the first day still to add up
    carried: float | None  # the units used before `first`, from a running total (None: from the count)


def _start(config: Config, supplement: Supplement, counts: Counts, totals: Totals, settled: dt.date) -> _Start | None:
    """Where a counted supplement's use is added up from: after its running total when that runs
    from the latest count and covers only settled days (a total from a clock ahead of this one
    may not), else from the count's day; None when it is not counted."""
    count = _latest_count(config, supplement, counts)
    if count is None:
        return None
    units, counted_at = count
    total = totals.get(supplement.id)
    if total is not None:
        total_counted_at, through, used = total
        if total_counted_at == counted_at and through <= settled:
            return _Start(units, counted_at, through + dt.timedelta(days=1), used)
    return _Start(units, counted_at, counted_at.astimezone(config.zone).date(), None)


def _reminders(config: Config, ramp: Ramp, first: dt.date, last: dt.date) -> Iterator[Reminder]:
    for day in _days(first, last):
        yield from plan_day(config, day, ramp).reminders


def _use(
    supplement: Supplement, reminders: Iterable[Reminder], start: _Start, acks: Acks, *, now: dt.datetime | None
) -> float:
    """The units used before the reminders (`start`) plus theirs since the count (and up to `now`)
    not skipped. Added one by one, in the days' order: a total carried over and added to later
    gives the very float that adding up every day since the count at once gives (sum() may
    compensate its rounding, and would not)."""
    used = start.carried or 0.0
    for reminder in reminders:
        instant = reminder.instant
        if start.counted_at <= instant and (now is None or instant <= now) and acks.get(reminder.id) != "skipped":
            for item in reminder.items:
                if item.supplement.id == supplement.id:
                    used += item.units
    return used


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
