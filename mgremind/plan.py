"""The day planner: configuration + date → the day's reminders (SPEC §2).

`plan_day` follows SPEC §2's list: one function per step, in the SPEC's order, each citing
the paragraph it implements. Pure: no clock, no I/O.

Amounts are kept in whole micrograms while planning so that sums and comparisons with the
target are exact (0.1 + 0.2 must not pass a limit). Instants are kept in UTC while planning:
Python compares and subtracts aware datetimes of one zone by their wall clocks, which is wrong
across a DST change.
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

from mgremind.model import (
    Config,
    DayPlan,
    Item,
    KeepApart,
    Meal,
    Problem,
    Reminder,
    Supplement,
    format_duration,
    hours_text,
)
from mgremind.reference import window_text
from mgremind.titration import Ramp, Reports, Target

UTC = dt.timezone.utc
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNLIMITED = 10**18


def _ug(mg: float) -> int:
    return round(mg * 1000)


def _mg(ug: int) -> float:
    return round(ug / 1000, 3)


def _units(value: float) -> float:
    return round(value, 6)


# ---------------------------------------------------------------------------- time


def wall_clock_instant(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall-clock time in `zone` on `day` (SPEC §2.8).

    A time that occurs twice (clocks fall back) is its first occurrence; a time that does
    not exist (clocks spring forward) is the first instant after the gap.
    """
    offset = _steady_offset(day, zone)
    if offset is not None:  # no clock change that day: the wall time less the day's one offset
        return dt.datetime.combine(day, time, tzinfo=UTC) - offset
    return exact_wall_clock_instant(day, time, zone)


_DAY_ENDS = (dt.time(0), dt.time(23, 59, 59, 999999))


@functools.lru_cache(maxsize=1024)
def _steady_offset(day: dt.date, zone: ZoneInfo) -> dt.timedelta | None:
    """The UTC offset of every wall time of `day`, or None when the clocks change that day. A plan
    of many meals asks for every one of them: one look at the day instead of three per meal."""
    offsets = {
        dt.datetime.combine(day, time, tzinfo=zone).replace(fold=fold).utcoffset()
        for time in _DAY_ENDS
        for fold in (0, 1)
    }
    return offsets.pop() if len(offsets) == 1 else None


def exact_wall_clock_instant(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """wall_clock_instant the long way, for any day: with a clock change in it, or none."""
    local = dt.datetime.combine(day, time, tzinfo=zone)  # fold=0: the earlier offset
    instant = local.astimezone(UTC)
    if local.utcoffset() == local.replace(fold=1).utcoffset():
        return instant  # the usual case: the wall time exists once
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant  # it occurs twice: fold=0 is the first occurrence
    # In a gap: fold=1 reads the wall time with the offset after the change (an instant
    # before the gap), fold=0 with the offset before it (an instant after). Transitions
    # fall on whole seconds: search them for the first instant past the wall time.
    wall = local.replace(tzinfo=None)
    low = int(local.replace(fold=1).astimezone(UTC).timestamp())
    high = int(instant.timestamp())
    while low < high:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle + 1
    return dt.datetime.fromtimestamp(high, UTC)


# ---------------------------------------------------------------------------- what a configuration implies


class _Derived(NamedTuple):
    """Facts of a configuration the planner asks for every day, worked out once for it."""

    slow_fixed: tuple[Supplement, ...]  # slow-release magnesium taken with meals (§2.4, §2.5 v2)
    slow_placed: bool  # some slow-release magnesium is placed by §2.5
    fixed_magnesium_meals: frozenset[str]  # the meals some fixed magnesium is taken with
    late_phytate: tuple[tuple[Meal, ...], ...]  # by weekday: phytate-rich meals whose window may pass midnight
    own_notes: dict[int, str]  # id(meal) → "lunch: no magnesium — phytate-rich (lentil soup)"
    foods: dict[int, str]  # id(meal) → its phytate foods as messages say them, "lentil soup"
    # (whose, id(meal)) → its window as the wall clock reads it on a day of one offset, for reminders and
    # for the day's notes: "lunch's phytate window 12:30–14:30 (lentil soup)", "inside lunch's …"
    phytate_reasons: dict[tuple[str, int], tuple[str, str]]


# Config is immutable but for its cached properties (model.py); the planner's own derived facts are kept
# here, by the configuration's identity. Each entry holds its configuration, so an id is never reused
# while it is cached; a few configurations at a time are ever planned (a reload makes a new one).
_DERIVED: dict[int, tuple[Config, _Derived]] = {}


def _derived(config: Config) -> _Derived:
    cached = _DERIVED.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    slow = [s for s in config.supplements if s.is_magnesium and s.release == "slow"]
    gap = config.magnesium.phytate_gap
    derived = _Derived(
        tuple(s for s in slow if s.is_fixed),
        any(not s.is_fixed for s in slow),
        frozenset(name for s in config.supplements if s.is_magnesium for name in s.with_meals),
        tuple(
            tuple(
                meal
                for meal in meals
                if meal.phytate_rich
                and dt.timedelta(hours=meal.time.hour, minutes=meal.time.minute + 1) + gap > _NEAR_MIDNIGHT
            )
            for meals in config.meals_by_weekday
        ),
        {
            id(meal): f"{meal.name}: no magnesium — {_Reason(_OWN, None, meal, _phytate_reason(meal)).day_text}"
            for meal in config.meals
            if meal.phytate_rich
        },
        {id(meal): _phytate_reason(meal) for meal in config.meals if meal.phytate_rich},
        {
            (whose, id(meal)): _wall_reasons(whose, meal, gap)
            for meal in config.meals
            if meal.phytate_rich
            for whose in ("", "the previous day's ", "the next day's ")
        },
    )
    if len(_DERIVED) >= 16:
        _DERIVED.clear()
    _DERIVED[id(config)] = (config, derived)
    return derived


def _wall_reasons(whose: str, meal: Meal, gap: dt.timedelta) -> tuple[str, str]:
    """A meal's phytate window as a day of one UTC offset reads it, from its wall-clock time to gap
    later: ("lunch's phytate window 12:30–14:30 (lentil soup)", "inside lunch's …")."""
    time = meal.time
    end = (dt.datetime.combine(dt.date(2001, 1, 1), time) + gap).time()
    span = f"{time.hour:02d}:{time.minute:02d}–{end.hour:02d}:{end.minute:02d}"
    reason = f"{whose}{meal.name}'s phytate window {span} ({_phytate_reason(meal)})"
    return reason, f"inside {reason}"


# ---------------------------------------------------------------------------- the day, step by step


def plan_day(config: Config, day: dt.date, ramp: Ramp | None = None) -> DayPlan:
    """The reminders of one day (SPEC §2); `ramp` carries the reported symptoms (SPEC §6)."""
    ramp = ramp or Ramp(config)
    meals = _meals_of_the_day(config, day)  # SPEC §2.1
    target = _target(config, day, ramp)  # SPEC §2.2
    # A later day's target: asked only when a slow-release dose late today may come near its first (§2.5).
    return _plan_meals(config, day, meals, target, config.zone, target_of=lambda later: ramp.target(later).mg)


def plan_days(config: Config, start: dt.date, count: int, reports: Reports | None = None) -> list[DayPlan]:
    """`count` days from `start`, sharing one ramp: its replay of the titration is done once."""
    ramp = Ramp(config, reports)
    return [plan_day(config, start + dt.timedelta(days=offset), ramp) for offset in range(count)]


def _plan_meals(
    config: Config,
    day: dt.date,
    meals: Sequence[Meal],
    target: Target,
    zone: ZoneInfo,
    *,
    target_of: Callable[[dt.date], float],
) -> DayPlan:
    """SPEC §2.3 to §2.8: the day's slots, filled step by step up to `target`. `target_of` gives the
    target of a later day: the slow-release gap reaches into it (§2.5 v2).

    `check` calls this directly for a plain week at the full daily amount (see `plan_problems`).
    """
    warnings: list[str] = []  # in the order the steps find them
    slots = _slots_and_windows(config, meals, day, zone, warnings)  # SPEC §2.3
    target_ug = _ug(target.mg)
    room = _Room(target.mg, target_ug, target_ug)
    bound = _slow_bound(config, day, slots, zone, target_of)
    _place_fixed_doses(config, meals, slots, room, bound=bound, zone=zone, warnings=warnings)  # SPEC §2.4
    _place_slow_release(config, slots.for_magnesium, room, bound, warnings)  # SPEC §2.5
    _warn_over_max_dose(config, slots.ordered, zone, warnings)  # SPEC §2.6, on what 4. and 5. placed
    _place_small_doses(config, slots, room, warnings)  # SPEC §2.6
    _pair_calcium(config, slots.ordered)  # SPEC §2.7
    reminders = _reminders(config, day, slots.ordered, zone)  # SPEC §2.8
    magnesium_ug = sum(slot.magnesium_ug for slot in slots.ordered)
    calcium_ug = sum(slot.calcium_ug for slot in slots.ordered)
    notes = _day_notes(config, meals, slots, target, zone)  # SPEC §2 v2: every message names its cause
    return DayPlan(day, target.mg, target.note, _mg(magnesium_ug), _mg(calcium_ug), reminders, tuple(warnings), notes)


# ---------------------------------------------------------------------------- 1. meals of the day


def _meals_of_the_day(config: Config, day: dt.date) -> Sequence[Meal]:
    """SPEC §2.1: the meals whose `days` include D's weekday, by time.

    Whether a meal is phytate-rich is decided once, when the configuration is read.
    """
    return config.meals_by_weekday[day.weekday()]


# ---------------------------------------------------------------------------- 2. target


def _target(config: Config, day: dt.date, ramp: Ramp | None) -> Target:
    """SPEC §2.2: T is `daily_mg`, or the titration's step of D (lowered after a report, SPEC §6)."""
    return (ramp or Ramp(config)).target(day)


# ---------------------------------------------------------------------------- 3. slots and windows


# The planner's working state is mutable and lives for one day's planning: small classes with
# __slots__. What it hands on is immutable: NamedTuples (see model.py for why not dataclasses).


class _Amount:
    __slots__ = ("ug", "units")

    def __init__(self) -> None:
        self.units = 0.0
        self.ug = 0


class _Slot:
    """A time magnesium and its companions may be taken at: a meal, or the later slot of one."""

    __slots__ = (
        "amounts",
        "at",
        "calcium_ug",
        "delayed",
        "magnesium_ug",
        "meal",
        "moved_by",
        "order",
        "takes_magnesium",
        "why",
    )

    def __init__(self, meal: Meal, at: dt.datetime, delayed: bool, takes_magnesium: bool, order: int) -> None:
        self.meal = meal
        self.at = at  # UTC
        self.delayed = delayed
        self.takes_magnesium = takes_magnesium  # the splitting and slow-release magnesium may go here
        self.order = order  # 2 × the meal's place in the day, + 1 for its delayed slot: breaks ties of `at`
        self.magnesium_ug = 0
        self.calcium_ug = 0  # paired or fixed: the day's total counts both
        self.amounts: dict[int, _Amount] = {}  # by supplement index
        # Why no magnesium goes with its meal, and the windows that moved a delayed slot on: worded
        # into the reminder's notes only when the slot gets a reminder.
        self.why: list[_Reason] = []
        self.moved_by: list[Window] = []

    @property
    def notes(self) -> list[str]:
        """SPEC §2.3, §7: why a meal's reminder carries no magnesium, why a delayed one comes when it does."""
        if not self.delayed:
            return [f"no magnesium with this meal: {reason.text}" for reason in self.why]
        name = self.meal.name
        return [
            f"not with this meal: {reason.text}" if reason.kind == _OWN else f"not with {name}: {reason.text}"
            for reason in self.why
        ] + [
            f"not within {window.reason}" if window.phytate else f"not with {name}: {window.reason}"
            for window in self.moved_by
        ]

    def add(self, index: int, supplement: Supplement, units: float, ug: int) -> None:
        amount = self.amounts.setdefault(index, _Amount())
        amount.units += units
        amount.ug += ug
        if supplement.is_magnesium:
            self.magnesium_ug += ug
        elif supplement.is_calcium:
            self.calcium_ug += ug


class Window(NamedTuple):
    """A span no magnesium (nor its paired calcium) enters (SPEC §2.3 v2, §7): around a medicine it
    binds, open at both ends, (taken − before, taken + after); or after a phytate-rich meal,
    [meal, meal + phytate_gap). Instants in UTC."""

    start: dt.datetime
    end: dt.datetime
    source: str  # the medicine, or the phytate-rich meal
    # As reminders and warnings say it: "levothyroxine 06:30, take magnesium at least 4 h before or after
    # it" (reference.window_text), "lunch's phytate window 12:30–14:30 (lentil soup)".
    reason: str
    # As the day's notes say it (SPEC §2 v2): "metformin at 20:00, take magnesium at least 2 h before or
    # after it", "inside lunch's phytate window 12:30–14:30 (lentil soup)".
    day_text: str
    phytate: bool = False

    def holds(self, instant: dt.datetime) -> bool:
        if self.phytate:
            return self.start <= instant < self.end
        return self.start < instant < self.end


# Why a meal takes no magnesium (_Reason.kind).
_OWN, _PHYTATE_WINDOW, _MEDICINE = "own", "phytate window", "medicine"


class _Reason(NamedTuple):
    """Why a meal takes no magnesium: its own phytate foods, another meal's phytate window, or a
    medicine's window. Worded only when a message needs it."""

    kind: str  # _OWN, _PHYTATE_WINDOW or _MEDICINE
    window: Window | None  # the window that holds the meal (None: its own foods)
    meal: Meal
    foods: str = ""  # its own phytate foods, "lentil soup" (_OWN)

    @property
    def text(self) -> str:
        """For its reminders and warnings: "lentil soup", or the window's reason."""
        return self.foods if self.window is None else self.window.reason

    @property
    def day_text(self) -> str:
        """For the day's notes: "phytate-rich (lentil soup)", or the window's day_text."""
        if self.window is not None:
            return self.window.day_text
        return f"phytate-rich ({self.text})" if self.meal.phytate_foods else self.text


class _Slots(NamedTuple):
    meal_slots: dict[str, _Slot]  # by meal name
    delayed_slots: dict[str, _Slot]  # by meal name, for the blocked meals whose magnesium comes later
    ordered: list[_Slot]  # every slot, in time order
    for_magnesium: list[_Slot]  # those the splitting and slow magnesium may use
    # meal → why no magnesium goes with it: its phytate first, then the windows that hold it
    blocked: dict[str, list[_Reason]]
    # blocked meal → the windows that leave its magnesium no time later the same day
    dropped: dict[str, str]


def medicine_times(config: Config, medicine: KeepApart, day: dt.date, zone: ZoneInfo) -> list[dt.datetime]:
    """The instants (UTC) a medicine is taken on `day`: its times, or its meals, or its supplement's."""
    if day.weekday() not in medicine.days:
        return []
    if medicine.times:
        return [wall_clock_instant(day, time, zone) for time in medicine.times]
    meals = medicine.with_meals
    if medicine.supplement is not None:
        meals = config.supplements[config.supplement_index[medicine.supplement]].with_meals
    return [wall_clock_instant(day, m.time, zone) for m in config.meals_by_weekday[day.weekday()] if m.name in meals]


def medicine_windows(config: Config, day: dt.date, zone: ZoneInfo) -> list[Window]:
    """The windows that reach into `day`, from the medicines of the day and of the days beside it,
    worded from the magnesium's side (reference.window_text, SPEC §7 v2)."""
    windows = []
    for medicine in config.keep_apart:
        for offset in (-1, 0, 1):
            for taken in medicine_times(config, medicine, day + dt.timedelta(days=offset), zone):
                clock = _local_clock(taken, zone)
                spacing = window_text(medicine.before, medicine.after, "it")
                text, note = f"{medicine.name} {clock}, {spacing}", f"{medicine.name} at {clock}, {spacing}"
                windows.append(Window(taken - medicine.before, taken + medicine.after, medicine.name, text, note))
    return windows


def _phytate_windows(
    config: Config,
    meals: Sequence[Meal],
    day: dt.date,
    instants: dict[str, dt.datetime],
    zone: ZoneInfo,
    *,
    whose: str = "",
) -> list[Window]:
    """SPEC §2.3 v2: a phytate-rich meal of `day` at m opens the window [m, m + phytate_gap). `whose`:
    "the previous day's ", "the next day's " for the windows of the days beside."""
    gap, derived = config.magnesium.phytate_gap, _derived(config)
    # On a day whose clocks keep one offset into the next, a window reads as its meal's time and
    # phytate_gap on the wall: worded once for the configuration, not every day (a plan of a year).
    steady = _steady_offset(day, zone)
    walls = steady is not None and steady == _steady_offset(day + dt.timedelta(days=1), zone)
    windows = []
    for meal in meals:
        if not meal.phytate_rich:
            continue
        start = instants[meal.name]
        if walls:
            reason, note = derived.phytate_reasons[whose, id(meal)]
        else:
            span = f"{_local_clock(start, zone)}–{_local_clock(start + gap, zone)}"
            reason = f"{whose}{meal.name}'s phytate window {span} ({derived.foods[id(meal)]})"
            note = f"inside {reason}"
        windows.append(Window(start, start + gap, whose + meal.name, reason, note, True))
    return windows


# A meal whose wall-clock time and phytate_gap pass this may reach past midnight in real time: the
# clocks may change in between (an hour, or half an hour, mostly), so with room to spare.
_NEAR_MIDNIGHT = dt.timedelta(hours=22)


def _late_phytate_windows(config: Config, day: dt.date, zone: ZoneInfo) -> list[Window]:
    """The phytate windows of the previous day's meals that reach past midnight into `day` (a supper
    at 23:00 keeps magnesium away until 01:00)."""
    before = day - dt.timedelta(days=1)
    late = _derived(config).late_phytate[before.weekday()]
    if not late:
        return []
    midnight = wall_clock_instant(day, dt.time(0), zone)
    instants = {meal.name: wall_clock_instant(before, meal.time, zone) for meal in late}
    windows = _phytate_windows(config, late, before, instants, zone, whose="the previous day's ")
    return [window for window in windows if window.end > midnight]


class _Windows:
    """The day's windows no magnesium enters (SPEC §2.3 v2, §7), and the day they lie in."""

    __slots__ = ("config", "day", "medicine", "midnight", "phytate", "zone")

    def __init__(
        self, config: Config, medicine: list[Window], phytate: list[Window], day: dt.date, zone: ZoneInfo
    ) -> None:
        self.config = config
        self.medicine = medicine
        self.phytate = phytate
        self.day = day
        self.zone = zone
        self.midnight: dt.datetime | None = None  # the end of the day, when a delay asks for it

    def next_day_phytate(self) -> list[Window]:
        """The phytate windows of the next day's meals: asked only by a dose delayed past midnight."""
        following = self.day + dt.timedelta(days=1)
        meals = self.config.meals_by_weekday[following.weekday()]
        rich = [meal for meal in meals if meal.phytate_rich]
        instants = {meal.name: wall_clock_instant(following, meal.time, self.zone) for meal in rich}
        return _phytate_windows(self.config, rich, following, instants, self.zone, whose="the next day's ")

    def first_free(self, instant: dt.datetime) -> tuple[dt.datetime, list[Window]]:
        """The first instant from `instant` on outside every window, and the windows passed on the way."""
        passed: list[Window] = []
        moved = True
        while moved:  # leaving one window may land in another, of either kind
            moved = False
            for window in (*self.medicine, *self.phytate):
                if window.holds(instant):
                    instant, moved = window.end, True
                    passed.append(window)
        return instant, passed

    def after_today(self, instant: dt.datetime) -> bool:
        # Asked only for a blocked meal's later dose: computed then, and once, not for every day.
        if self.midnight is None:
            self.midnight = wall_clock_instant(self.day + dt.timedelta(days=1), dt.time(0), self.zone)
        return instant >= self.midnight


def _slots_and_windows(
    config: Config, meals: Sequence[Meal], day: dt.date, zone: ZoneInfo, warnings: list[str]
) -> _Slots:
    """SPEC §2.3 and §7: a slot per meal; the magnesium of a meal that is phytate-rich, inside another
    meal's phytate window or too close to a medicine magnesium binds is dropped ("move") or taken at
    the first instant clear of every window, the same day ("delay")."""
    instants = {meal.name: wall_clock_instant(day, meal.time, zone) for meal in meals}
    gap = config.magnesium.phytate_gap
    derived = _derived(config)
    phytate = _phytate_windows(config, meals, day, instants, zone) if derived.foods else []
    if derived.late_phytate[(day.weekday() - 1) % 7]:
        phytate = [*_late_phytate_windows(config, day, zone), *phytate]
    windows = _Windows(config, medicine_windows(config, day, zone) if config.keep_apart else [], phytate, day, zone)
    blocked = _blocked_meals(meals, instants, windows, derived.foods)
    delay = _delays_blocked_magnesium(config, meals, blocked, warnings)
    meal_slots: dict[str, _Slot] = {}
    delayed_slots: dict[str, _Slot] = {}
    dropped: dict[str, str] = {}
    for order, meal in enumerate(meals):
        slot = meal_slots[meal.name] = _Slot(meal, instants[meal.name], False, meal.name not in blocked, 2 * order)
        if meal.name not in blocked:
            continue
        if config.has_magnesium:
            slot.why = blocked[meal.name]
        if not delay and meal.name not in derived.fixed_magnesium_meals:
            continue  # under "move" a later slot only serves the fixed magnesium of its meal (SPEC §2.4)
        delayed = _delayed_slot(slot, blocked[meal.name], windows, gap, delay=delay, dropped=dropped)
        if delayed is not None:
            delayed_slots[meal.name] = delayed
        elif delay and config.has_magnesium:
            warnings.append(f"no time left today for the magnesium of {meal.name}: {dropped[meal.name]}")
    ordered = sorted([*meal_slots.values(), *delayed_slots.values()], key=lambda s: (s.at, s.order))
    for_magnesium = [slot for slot in ordered if slot.takes_magnesium]
    return _Slots(meal_slots, delayed_slots, ordered, for_magnesium, blocked, dropped)


def _phytate_reason(meal: Meal) -> str:
    return ", ".join(meal.phytate_foods) if meal.phytate_foods else "phytate-rich"


def _blocked_meals(
    meals: Sequence[Meal], instants: dict[str, dt.datetime], windows: _Windows, foods: dict[int, str]
) -> dict[str, list[_Reason]]:
    """SPEC §2.3 v2 and §7: the meals no magnesium goes with, each with why: its own phytate (first),
    then the other meals' phytate windows and the medicines' windows that hold it."""
    blocked: dict[str, list[_Reason]] = {}
    phytate, medicine = windows.phytate, windows.medicine
    for meal in meals:
        at = instants[meal.name]
        reasons = [_Reason(_OWN, None, meal, foods[id(meal)])] if meal.phytate_rich else []
        for window in phytate:  # [start, end), not the meal's own
            if window.start <= at < window.end and not (window.start == at and window.source == meal.name):
                reasons.append(_Reason(_PHYTATE_WINDOW, window, meal))
        for window in medicine:  # (start, end)
            if window.start < at < window.end:
                reasons.append(_Reason(_MEDICINE, window, meal))
        if reasons:
            blocked[meal.name] = reasons
    return blocked


_KIND_WORDS = {
    _OWN: "phytate-rich",
    _PHYTATE_WINDOW: "inside another meal's phytate window",
    _MEDICINE: "close to a medicine",
}


def _delays_blocked_magnesium(
    config: Config, meals: Sequence[Meal], blocked: dict[str, list[_Reason]], warnings: list[str]
) -> bool:
    """SPEC §2.3: whether blocked meals' magnesium is taken later today (`delay`) rather than dropped
    (`move`); a `move` that would leave no slot falls back to `delay`, with a warning."""
    if config.magnesium.phytate == "delay":
        return True
    if meals and len(blocked) == len(meals):
        kinds = {reason.kind for reasons in blocked.values() for reason in reasons}
        why = " or ".join(words for kind, words in _KIND_WORDS.items() if kind in kinds)
        warnings.append(f"every meal today is {why}: magnesium is taken after them instead")
        return True
    return False


def _delayed_slot(
    meal_slot: _Slot,
    reasons: list[_Reason],
    windows: _Windows,
    gap: dt.timedelta,
    *,
    delay: bool,
    dropped: dict[str, str],
) -> _Slot | None:
    """SPEC §2.3 v2 and §7: the later slot of a blocked meal; None when no time is left today, and
    then `dropped` names the windows in the way.

    A phytate-rich meal's dose comes phytate_gap after it (§2.3); a meal held by a window only (of
    a medicine, or of another meal's phytate: "handled like a phytate-rich meal", it has no phytate
    of its own to wait for) from its own time on (§7: "the first instant after t outside every
    window and every phytate window"). Either way the dose goes to the first instant from there
    outside every window, the same day: no window pushes a dose past the day's end. A meal's own
    phytate_gap may (a late supper's dose after midnight, as in v1): then it must also be clear of
    the next day's phytate windows, or it is dropped; the slow-release gap to the next day's first
    dose is §2.5's.
    """
    meal = meal_slot.meal
    start = meal_slot.at + gap if meal.phytate_rich else meal_slot.at
    later, passed = windows.first_free(start)
    # Say every window that moved it on, also those that held only the later time.
    seen = {id(reason.window) for reason in reasons}
    moved_by = []
    for window in passed:
        if id(window) not in seen:
            seen.add(id(window))
            moved_by.append(window)
    if windows.after_today(later):
        # Kept by a window (of a medicine, §7: "the same day"), or moved on by one: it stays on its day.
        held = bool(passed) or any(reason.kind != _OWN for reason in reasons)
        tomorrow = [] if held else [window for window in windows.next_day_phytate() if window.holds(later)]
        if held or tomorrow:
            own = [window.reason for window in windows.phytate if window.source == meal.name]
            others = [reason.text for reason in reasons if reason.kind != _OWN]
            in_the_way = [*own, *others, *(window.reason for window in moved_by)]
            in_the_way += [window.reason for window in tomorrow]
            dropped[meal.name] = "; ".join(dict.fromkeys(in_the_way))
            return None
    # Under "move" the later slot only takes fixed magnesium of this meal (SPEC §2.4).
    delayed = _Slot(meal, later, True, delay, meal_slot.order + 1)
    delayed.why, delayed.moved_by = reasons, moved_by
    return delayed


def _local_clock(instant: dt.datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"  # as strftime("%H:%M"), in a third of its time


# ---------------------------------------------------------------------------- 4. fixed doses


class _Room:
    """How much more magnesium the day may take: T less what §2.4 and §2.5 placed (SPEC §2.6: R),
    and the slots that carry slow-release magnesium so far (§2.5 v2: the gap holds between them)."""

    __slots__ = ("left_ug", "slow", "target_mg", "target_ug")

    def __init__(self, target_mg: float, target_ug: int, left_ug: int) -> None:
        self.target_mg = target_mg  # T as the ramp gave it, for messages
        self.target_ug = target_ug
        self.left_ug = left_ug
        self.slow: list[_Slot] = []


def _place_fixed_doses(
    config: Config,
    meals: Sequence[Meal],
    slots: _Slots,
    room: _Room,
    *,
    bound: "_Bound | None",
    zone: ZoneInfo,
    warnings: list[str],
) -> None:
    """SPEC §2.4: supplements with `with` and `units` go into their meals' slots. Fixed magnesium
    counts toward T, placed in time order while it fits, and obeys the phytate rule: where its
    meal's slot was dropped it goes to the later slot. Other nutrients stay at their meal. A fixed
    slow-release dose keeps slow_release_gap from the others (§2.5 v2), or is left out with a word."""
    magnesium: list[tuple[_Slot, int, Supplement, float, int]] = []
    for index, supplement in enumerate(config.supplements):
        if not supplement.is_fixed or supplement.units is None:
            continue
        with_meals = frozenset(supplement.with_meals)  # a set: plans of many meals stay linear
        for meal in meals:
            if meal.name not in with_meals:
                continue
            ug = _ug(supplement.units * supplement.mg_per_unit) if supplement.mg_per_unit else 0
            if not supplement.is_magnesium:
                slots.meal_slots[meal.name].add(index, supplement, supplement.units, ug)
            elif meal.name not in slots.blocked:
                magnesium.append((slots.meal_slots[meal.name], index, supplement, supplement.units, ug))
            elif meal.name in slots.delayed_slots:
                magnesium.append((slots.delayed_slots[meal.name], index, supplement, supplement.units, ug))
            elif room.target_ug > 0:
                warnings.append(
                    f"{supplement.name} with {meal.name} left out: no time left today outside the windows: "
                    f"{slots.dropped[meal.name]}"
                )
    gap = config.magnesium.slow_release_gap
    for slot, index, supplement, units, ug in sorted(magnesium, key=lambda dose: (dose[0].at, dose[0].order)):
        if ug > room.left_ug:
            if room.target_ug > 0:
                warnings.append(
                    f"{supplement.name} with {slot.meal.name} left out: its {_mg(ug):g} mg would pass "
                    f"today's target of {room.target_mg:g} mg"
                )
            continue
        if supplement.release == "slow":
            clash = _slow_clash(slot, room.slow, gap, bound, zone)
            if clash:
                warnings.append(f"{supplement.name} with {slot.meal.name} left out: {clash}")
                continue
            if slot not in room.slow:
                room.slow.append(slot)
        slot.add(index, supplement, units, ug)
        room.left_ug -= ug


# ---------------------------------------------------------------------------- 5. slow release


class _Bound(NamedTuple):
    """No slow-release dose today after `latest`: slow_release_gap before the next day's first (§2.5 v2)."""

    latest: dt.datetime
    anchor: dt.datetime  # the next day's first slow-release dose
    text: str  # "the next day's first slow-release dose (breakfast 07:00)"


def _has_slow_magnesium(config: Config) -> bool:
    derived = _derived(config)
    return derived.slow_placed or bool(derived.slow_fixed)


def _slow_bound(
    config: Config, day: dt.date, slots: _Slots, zone: ZoneInfo, target_of: Callable[[dt.date], float]
) -> _Bound | None:
    """SPEC §2.5 v2: the last slow dose of a day keeps slow_release_gap from the first of the next.

    The next day's first slow dose stands and today's late doses give way ("a delay that would land
    closer is not made"): each day looks ahead, never back, so a day's plan stays a function of the
    configuration and the date. The first dose of a day is taken as the earliest slot a slow dose
    could go to that day, whatever its other doses: when the next day places it later, today has
    given way for nothing, but the gap never fails. Only a day whose last slot comes within the gap
    of the next day's first meal plans that day's slots.
    """
    last = _last_slow_slot(config, slots)
    if last is None:
        return None
    gap = config.magnesium.slow_release_gap
    following = day
    while True:
        following += dt.timedelta(days=1)
        meals = config.meals_by_weekday[following.weekday()]
        # Every slot of a day lies at or after its first meal (delays only come later).
        first = wall_clock_instant(following, meals[0].time if meals else dt.time(0), zone)
        if first - gap >= last:
            return None  # nothing of that day, nor of any later one, comes within the gap
        if not meals or target_of(following) <= 0:
            continue
        anchor = _first_slow_slot(config, _slots_and_windows(config, meals, following, zone, []))
        if anchor is not None:
            label = _slot_label(anchor, zone)
            return _Bound(anchor.at - gap, anchor.at, f"the next day's first slow-release dose ({label})")


def _slow_slots(config: Config, slots: _Slots, first: bool) -> list[_Slot]:
    """The first (or last) slot each slow-release supplement may go to: a fixed one's meals (or their
    later slots), or the slots that take magnesium for one placed by §2.5."""
    derived = _derived(config)
    candidates = []
    if derived.slow_placed:
        candidates.extend(slots.for_magnesium[:1] if first else slots.for_magnesium[-1:])
    for supplement in derived.slow_fixed:
        for name in supplement.with_meals:
            slot = slots.delayed_slots.get(name) if name in slots.blocked else slots.meal_slots.get(name)
            if slot is not None:
                candidates.append(slot)
    return candidates


def _first_slow_slot(config: Config, slots: _Slots) -> _Slot | None:
    """The earliest slot of a day a slow-release dose may go to."""
    return min(_slow_slots(config, slots, first=True), key=lambda slot: (slot.at, slot.order), default=None)


def _last_slow_slot(config: Config, slots: _Slots) -> dt.datetime | None:
    """The latest instant of a day a slow-release dose may go to."""
    derived = _derived(config)
    if not derived.slow_fixed:  # the usual case, and asked every day: in short
        return slots.for_magnesium[-1].at if derived.slow_placed and slots.for_magnesium else None
    return max((slot.at for slot in _slow_slots(config, slots, first=False)), default=None)


def _slow_clash(slot: _Slot, taken: Sequence[_Slot], gap: dt.timedelta, bound: _Bound | None, zone: ZoneInfo) -> str:
    """Why a slow-release dose may not go to `slot` (SPEC §2.5 v2), or "": closer than the gap to a
    slow dose already placed (the same slot is the same dose), or to the next day's first."""
    for other in taken:
        apart = abs(slot.at - other.at)
        if other is not slot and apart < gap:
            return (
                f"{hours_text(apart)} from the slow-release dose at {_slot_label(other, zone)}, "
                f"less than slow_release_gap {format_duration(gap)}"
            )
    if bound is not None and slot.at > bound.latest:
        return (
            f"{hours_text(bound.anchor - slot.at)} before {bound.text}, "
            f"less than slow_release_gap {format_duration(gap)}"
        )
    return ""


def _place_slow_release(
    config: Config, slots: list[_Slot], room: _Room, bound: _Bound | None, warnings: list[str]
) -> None:
    """SPEC §2.5: each slow-release magnesium supplement gets up to `doses_per_day` doses of
    `units_per_dose` units, `slow_release_gap` apart, while the day stays within T. v2: apart from
    every slow dose placed before it too, of any product, and from the next day's first; several
    products in one slot are one dose."""
    gap = config.magnesium.slow_release_gap
    for index, supplement in enumerate(config.supplements):
        if not supplement.is_slow_magnesium or supplement.mg_per_unit is None:
            continue
        dose_ug = _ug(supplement.units_per_dose * supplement.mg_per_unit)
        chosen, stop = _spaced_slots(
            slots, dose_ug, supplement.doses_per_day, gap, room.left_ug, taken=room.slow, bound=bound
        )
        for slot in chosen:
            slot.add(index, supplement, supplement.units_per_dose, dose_ug)
            room.left_ug -= dose_ug
            if slot not in room.slow:
                room.slow.append(slot)
        # Stopped by the target is the titration working; stopped by the spacing deserves a word.
        if len(chosen) < supplement.doses_per_day and stop != _BY_TARGET and room.target_ug > 0:
            nor = f", the last {format_duration(gap)} before {bound.text}" if stop == _BY_NEXT_DAY and bound else ""
            warnings.append(
                f"only {len(chosen)} of {supplement.doses_per_day} doses of {supplement.name} fit "
                f"{format_duration(gap)} apart today{nor}"
            )


_BY_TARGET, _BY_NEXT_DAY = "target", "next day"


def _too_close(slot: _Slot, taken: Sequence[_Slot], gap: dt.timedelta) -> bool:
    """Is `slot` less than `gap` from a slow dose in `taken`? (Its very slot is the same dose.)"""
    at = slot.at
    return any(other is not slot and -gap < at - other.at < gap for other in taken)


def _spaced_slots(
    slots: list[_Slot],
    dose_ug: int,
    doses: int,
    gap: dt.timedelta,
    room_ug: int,
    *,
    taken: Sequence[_Slot] = (),
    bound: _Bound | None = None,
    delays_exempt: bool = False,
) -> tuple[list[_Slot], str]:
    """SPEC §2.5: greedy in time order, each dose `gap` after the last and from every slow dose in
    `taken` (or in its very slot), before `bound` (`delays_exempt`: but for delayed slots), while the
    target allows.

    Returns the slots chosen and what stopped the placement: _BY_TARGET, _BY_NEXT_DAY (a slot was
    passed over for the bound) or "" (done, or no slot far enough from the others).
    """
    chosen: list[_Slot] = []
    stop = ""
    for slot in slots:
        if len(chosen) == doses:
            break
        if chosen and slot.at - chosen[-1].at < gap:
            continue
        if taken and _too_close(slot, taken, gap):
            continue
        if bound is not None and slot.at > bound.latest and not (delays_exempt and slot.delayed):
            stop = _BY_NEXT_DAY
            continue
        if dose_ug > room_ug:
            return chosen, _BY_TARGET
        chosen.append(slot)
        room_ug -= dose_ug
    return chosen, stop if len(chosen) < doses else ""


# ---------------------------------------------------------------------------- 6. small doses


def _warn_over_max_dose(config: Config, slots: list[_Slot], zone: ZoneInfo, warnings: list[str]) -> None:
    """SPEC §2.6: a slot whose fixed and slow-release magnesium alone exceeds `max_dose_mg` gets a
    warning, never a silent change of dose."""
    settings = config.magnesium
    max_ug = _ug(settings.max_dose_mg)
    for slot in slots:
        if slot.magnesium_ug > max_ug:
            warnings.append(
                f"{_slot_label(slot, zone)} carries {_mg(slot.magnesium_ug):g} mg of fixed and "
                f"slow-release magnesium, more than max_dose_mg {settings.max_dose_mg:g} mg"
            )


def _place_small_doses(config: Config, slots: _Slots, room: _Room, warnings: list[str]) -> None:
    """SPEC §2.6: the remainder R in steps of the splitting supplement, each step to the slot with
    the least magnesium so far (ties: the earlier), never past `max_dose_mg`; steps that fit
    nowhere are dropped with a warning that says why (v2)."""
    splitting = config.splitting_supplement
    if splitting is None or splitting.mg_per_unit is None or room.left_ug <= 0:
        return
    settings = config.magnesium
    index = config.supplement_index[splitting.id]
    max_ug = _ug(settings.max_dose_mg)
    step_ug = _ug(splitting.step * splitting.mg_per_unit)
    steps = room.left_ug // step_ug if step_ug > 0 else 0
    candidates = slots.for_magnesium
    for placed in range(steps):
        best: _Slot | None = None
        for slot in candidates:  # strictly less: a tie keeps the earlier slot
            if slot.magnesium_ug + step_ug <= max_ug and (best is None or slot.magnesium_ug < best.magnesium_ug):
                best = slot
        if best is None:
            # At least one step is left over: more than rounding (SPEC §2 v2).
            planned = room.target_ug - room.left_ug + placed * step_ug
            warnings.append(
                f"target not reached: {_mg(planned):g} of {room.target_mg:g} mg planned — "
                + _why_short(step_ug, settings.max_dose_mg, slots)
            )
            return
        best.add(index, splitting, splitting.step, step_ug)


def _why_short(step_ug: int, max_dose_mg: float, slots: _Slots) -> str:
    """Why steps of the splitting supplement found no slot: max_dose_mg at every slot that takes
    magnesium, and the meals that are kept from it, with their windows."""
    parts = []
    if slots.for_magnesium:
        names = ", ".join(_slot_name(slot) for slot in slots.for_magnesium)
        parts.append(
            f"another step of {_mg(step_ug):g} mg would pass max_dose_mg {max_dose_mg:g} mg "
            f"at every slot that takes magnesium ({names})"
        )
    else:
        parts.append("no meal today can take magnesium")
    for name, reasons in slots.blocked.items():
        if name in slots.delayed_slots and slots.delayed_slots[name].takes_magnesium:
            continue  # its magnesium came later: counted among the slots above
        kept = "; ".join(reason.day_text for reason in reasons)
        gone = f"; no time left today after it: {slots.dropped[name]}" if name in slots.dropped else ""
        parts.append(f"{name} is kept from magnesium: {kept}{gone}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------- 7. calcium


def _pair_calcium(config: Config, slots: list[_Slot]) -> None:
    """SPEC §2.7: each slot with magnesium m gets the paired calcium nearest to `ratio * m` in that
    supplement's steps (ties: the lower amount)."""
    calcium = config.paired_calcium
    if calcium is None or calcium.mg_per_unit is None:
        return
    index = config.supplement_index[calcium.id]
    step_ug = _ug(calcium.step * calcium.mg_per_unit)
    ratio_milli = round(config.magnesium.calcium_ratio * 1000)  # integers: a tie must be seen exactly
    for slot in slots:
        if slot.magnesium_ug <= 0 or step_ug <= 0:
            continue
        wanted_milli = ratio_milli * slot.magnesium_ug  # calcium ug × 1000
        steps = wanted_milli // (1000 * step_ug)
        if 2 * wanted_milli > (2 * steps + 1) * 1000 * step_ug:  # past the half step: round up
            steps += 1
        if steps:
            slot.add(index, calcium, steps * calcium.step, steps * step_ug)


# ---------------------------------------------------------------------------- 8. reminders


def _reminders(config: Config, day: dt.date, slots: list[_Slot], zone: ZoneInfo) -> tuple[Reminder, ...]:
    """SPEC §2.8: one reminder per slot that holds anything, and the medicines' own (§7), by time.
    Slots that hold the same amounts share their items (a day may have hundreds of slots)."""
    day_text = day.isoformat()
    contents: dict[tuple[tuple[int, float, int], ...], tuple[tuple[Item, ...], tuple[str, ...]]] = {}
    timed = []
    for slot in slots:
        if not slot.amounts:
            continue
        amounts = tuple((index, amount.units, amount.ug) for index, amount in sorted(slot.amounts.items()))
        content = contents.get(amounts)
        if content is None:
            content = contents[amounts] = _content(config, amounts)
        at = slot.at if slot.delayed else slot.at - config.reminders.lead  # UTC: the sort key
        timed.append((at, _reminder(day_text, slot, at.astimezone(zone), content)))
    timed += [(reminder.instant, reminder) for reminder in _medicine_reminders(config, day, zone)]
    timed.sort(key=lambda pair: pair[0])
    return tuple(reminder for _, reminder in timed)


def _content(config: Config, amounts: tuple[tuple[int, float, int], ...]) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """The items of (supplement index, units, µg) amounts, in configuration order, and their notes."""
    items, notes = [], []
    for index, units, ug in amounts:
        supplement = config.supplements[index]
        mg = _mg(ug) if supplement.mg_per_unit is not None else None
        items.append(Item(supplement, _units(units), mg))
        if supplement.keep_refrigerated:
            notes.append(f"{supplement.name}: keep refrigerated")
    return tuple(items), tuple(notes)


def _reminder(day: str, slot: _Slot, at: dt.datetime, content: tuple[tuple[Item, ...], tuple[str, ...]]) -> Reminder:
    """SPEC §2.8: a slot's reminder at `at` (`lead` before a meal slot, not before a delayed one),
    local. `day` is the ISO date."""
    items, notes = content
    suffix = "+delay" if slot.delayed else ""
    return Reminder(
        f"{day}/{slot.meal.name}{suffix}",
        at,
        slot.meal.name,
        slot.delayed,
        items,
        (*slot.notes, *notes) if slot.why or slot.moved_by else notes,
    )


def _medicine_reminders(config: Config, day: dt.date, zone: ZoneInfo) -> list[Reminder]:
    """Reminders to take the medicines with remind = true, at their own times (SPEC §7)."""
    found = []
    for medicine in config.keep_apart:
        if not medicine.remind:
            continue
        for taken in medicine_times(config, medicine, day, zone):
            at = taken.astimezone(zone)
            item = Item(medicine.as_supplement, 1.0, None)
            found.append(
                Reminder(
                    f"{day.isoformat()}/{medicine.name}@{at.strftime('%H:%M')}",
                    at,
                    medicine.name,
                    False,
                    (item,),
                    (window_text(medicine.before, medicine.after, medicine.name),),
                )
            )
    return found


def _slot_label(slot: _Slot, zone: ZoneInfo) -> str:
    return f"{slot.meal.name} {_local_clock(slot.at, zone)}" + (" (delayed)" if slot.delayed else "")


def _slot_name(slot: _Slot) -> str:
    return slot.meal.name + (" (delayed)" if slot.delayed else "")


# ---------------------------------------------------------------------------- the day's notes


def _day_notes(config: Config, meals: Sequence[Meal], slots: _Slots, target: Target, zone: ZoneInfo) -> tuple[str, ...]:
    """SPEC §2 v2: why the target is what it is, then each meal of the day a rule keeps from magnesium,
    with the rule, even when nothing else is taken at it ("dinner: no magnesium — metformin at 20:00,
    take magnesium at least 2 h before or after it"), and where its magnesium went instead."""
    notes = [target.note] if target.note else []
    if not slots.blocked or target.mg <= 0 or not config.has_magnesium:
        return tuple(notes)
    own_notes = _derived(config).own_notes
    for meal in meals:
        reasons = slots.blocked.get(meal.name)
        if reasons is None:
            continue
        if len(reasons) == 1 and reasons[0].kind == _OWN:
            note = own_notes[id(meal)]  # the same every day: worded once
        else:
            note = f"{meal.name}: no magnesium — " + "; ".join(reason.day_text for reason in reasons)
        later = slots.delayed_slots.get(meal.name)
        if later is not None and later.magnesium_ug > 0:
            note += f"; {_mg(later.magnesium_ug):g} mg at {_local_clock(later.at, zone)} instead"
        elif meal.name in slots.dropped:
            note += "; no time left today outside the windows"
        notes.append(note)
    return tuple(notes)


# ---------------------------------------------------------------------------- looking ahead


def upcoming(
    config: Config, now: dt.datetime, count: int, reports: Reports | None = None, horizon_days: int = 400
) -> list[Reminder]:
    """The next `count` reminders at or after `now` (an aware datetime), within the horizon."""
    today = now.astimezone(config.zone).date()
    ramp = Ramp(config, reports)
    found: list[Reminder] = []
    # A meal's reminder may come `lead` before midnight, so a day is planned beyond the one that
    # filled the list, and yesterday's plan is looked at too.
    days_after_full = 0
    for offset in range(-1, horizon_days):
        found.extend(r for r in plan_day(config, today + dt.timedelta(days=offset), ramp).reminders if r.instant >= now)
        if len(found) >= count:
            days_after_full += 1
            if days_after_full > 1:
                break
    return sorted(found, key=lambda reminder: reminder.instant)[:count]


# ---------------------------------------------------------------------------- planner checks


def plan_problems(config: Config) -> list[Problem]:
    """Errors only the planner can see (SPEC §2, errors): impossible slow-release spacing, no
    reminder at all (v2: with the cause that removed every dose)."""
    problems = _slow_release_spacing_problems(config)
    if not _plans_any_reminder(config):
        problems += _why_no_reminder(config)
    return problems


def _plain_week() -> Iterator[tuple[int, dt.date]]:
    """Each weekday (0 = Monday) and a date on it in a week of no DST change: planned in UTC, the
    checks are about the meals, not about one day's clock change."""
    monday = dt.date(2001, 1, 1)
    for weekday in range(7):
        yield weekday, monday + dt.timedelta(days=weekday)


_PLAIN_ZONE = ZoneInfo("UTC")


def _full_target(config: Config) -> Callable[[dt.date], float]:
    daily = config.magnesium.daily_mg or 0.0
    return lambda _day: daily


def _plans_any_reminder(config: Config) -> bool:
    """SPEC §2, errors: does some weekday, at the full `daily_mg`, get a reminder at all?"""
    target = Target(config.magnesium.daily_mg or 0.0, "")
    meals_of = functools.partial(_meals_of_the_day, config)
    return any(
        _plan_meals(config, day, meals_of(day), target, _PLAIN_ZONE, target_of=_full_target(config)).reminders
        for _, day in _plain_week()
    )


_NO_REMINDER = "the plan has no reminder on any day"


def _why_no_reminder(config: Config) -> list[Problem]:
    """SPEC §2 v2: "a plan with no reminder at all" names the cause that removed every dose: a
    magnesium amount larger than the day's target or than max_dose_mg, or windows over every meal."""
    if not config.has_magnesium:
        return [
            Problem(
                "",
                f'{_NO_REMINDER}: place a supplement with a meal ("with"/"units") '
                "or give a magnesium supplement and daily_mg",
            )
        ]
    daily = config.magnesium.daily_mg or 0.0
    most = config.magnesium.max_dose_mg
    problems: list[Problem] = []
    blocked_somewhere = False
    for supplement in config.supplements:
        if not supplement.is_magnesium or supplement.mg_per_unit is None:
            continue
        if supplement is config.splitting_supplement:
            key, what, mg = f"{supplement.key}.step", "one step", supplement.step * supplement.mg_per_unit
        elif supplement.is_slow_magnesium:
            key, what, mg = (
                f"{supplement.key}.units_per_dose",
                "one dose",
                supplement.units_per_dose * supplement.mg_per_unit,
            )
        elif supplement.is_fixed and supplement.units is not None:
            key, what, mg = f"{supplement.key}.units", "one dose", supplement.units * supplement.mg_per_unit
        else:
            continue
        if _ug(mg) > _ug(daily):
            problems.append(
                Problem(
                    key,
                    f"{what} of {supplement.name} is {mg:g} mg, more than the day's target of {daily:g} mg "
                    f"(daily_mg), so {_NO_REMINDER}",
                )
            )
        elif supplement is config.splitting_supplement and _ug(mg) > _ug(most):
            problems.append(
                Problem(
                    key,
                    f"{what} of {supplement.name} is {mg:g} mg, more than max_dose_mg {most:g} mg, so {_NO_REMINDER}",
                )
            )
        else:
            blocked_somewhere = True
    if blocked_somewhere or not problems:
        problems.append(Problem("", f"{_NO_REMINDER}: {_every_meal_blocked(config)}"))
    return problems


def _every_meal_blocked(config: Config) -> str:
    """Which windows keep magnesium from every meal, over the plain week (SPEC §2 v2)."""
    kept: dict[str, dict[str, None]] = {}  # meal → its reasons, as the days give them
    dropped: dict[str, dict[str, None]] = {}
    for _, day in _plain_week():
        slots = _slots_and_windows(config, _meals_of_the_day(config, day), day, _PLAIN_ZONE, [])
        for name, reasons in slots.blocked.items():
            kept.setdefault(name, {}).update(dict.fromkeys(reason.day_text for reason in reasons))
        for name, windows in slots.dropped.items():
            dropped.setdefault(name, {})[windows] = None
    if not kept:
        return "no magnesium fits today's target on any day"
    meals = "; ".join(f"{name} ({', '.join(reasons)})" for name, reasons in kept.items())
    return f"every meal is kept from magnesium — {meals} — and no time is left after them the same day"


def _slow_release_spacing_problems(config: Config) -> list[Problem]:
    """SPEC §2.5: slow-release doses the meals of some weekday cannot hold `slow_release_gap` apart,
    from each other (v2: across products, fixed ones included) and, at the meals themselves, from
    the next day's first; one problem for all the weekdays that fail alike. A delayed dose too close
    to the next day's first is no error: "a delay that would land closer is not made: the dose is
    dropped with a warning" (the day's plan says so)."""
    if not _has_slow_magnesium(config):
        return []
    gap = config.magnesium.slow_release_gap
    zone = _PLAIN_ZONE
    weekdays: dict[tuple[str, str], list[str]] = {}  # (key, what) → weekdays
    for weekday, day in _plain_week():
        meals = _meals_of_the_day(config, day)
        slots = _slots_and_windows(config, meals, day, zone, [])
        bound = _slow_bound(config, day, slots, zone, _full_target(config))
        taken: list[_Slot] = []
        for slot, supplement in _fixed_slow_doses(config, meals, slots):
            clash = _slow_clash(slot, taken, gap, None if slot.delayed else bound, zone)
            if clash:
                what = f"{supplement.name} is taken with {_slot_label(slot, zone)}, {clash}"
                weekdays.setdefault((f"{supplement.key}.with", what), []).append(WEEKDAY_NAMES[weekday])
            elif slot not in taken:
                taken.append(slot)
        for supplement in config.supplements:
            if not supplement.is_slow_magnesium:
                continue
            chosen, stop = _spaced_slots(
                slots.for_magnesium,
                0,
                supplement.doses_per_day,
                gap,
                _UNLIMITED,
                taken=taken,
                bound=bound,
                delays_exempt=True,
            )
            taken += [slot for slot in chosen if slot not in taken]
            if len(chosen) < supplement.doses_per_day:
                nor = (
                    f" with the last {format_duration(gap)} before {bound.text}"
                    if stop == _BY_NEXT_DAY and bound
                    else ""
                )
                others = (
                    f"; other slow-release doses at {', '.join(_slot_label(s, zone) for s in taken if s not in chosen)}"
                    if any(s not in chosen for s in taken)
                    else ""
                )
                what = (
                    f"the meals cannot hold {supplement.doses_per_day} doses of {supplement.name} "
                    f"{format_duration(gap)} apart{nor}; the slots that can take magnesium: "
                    f"{', '.join(_slot_label(slot, zone) for slot in slots.for_magnesium) or 'none'}"
                    f"{others}{_kept_from_magnesium(slots)}"
                )
                weekdays.setdefault((f"{supplement.key}.doses_per_day", what), []).append(WEEKDAY_NAMES[weekday])
    return [Problem(key, f"on {', '.join(days)} {what}") for (key, what), days in weekdays.items()]


def _fixed_slow_doses(config: Config, meals: Sequence[Meal], slots: _Slots) -> list[tuple[_Slot, Supplement]]:
    """Where the fixed (`with`) slow-release magnesium of a day goes, in time order (SPEC §2.4)."""
    found = []
    for supplement in config.supplements:
        if not (supplement.is_magnesium and supplement.release == "slow" and supplement.is_fixed):
            continue
        for meal in meals:
            if meal.name not in supplement.with_meals:
                continue
            slot = slots.delayed_slots.get(meal.name) if meal.name in slots.blocked else slots.meal_slots[meal.name]
            if slot is not None:
                found.append((slot, supplement))
    return sorted(found, key=lambda pair: (pair[0].at, pair[0].order))


def _kept_from_magnesium(slots: _Slots) -> str:
    """ "; dinner is kept from magnesium by <windows>" for each meal a window blocks (SPEC §2.3 v2, §7),
    and "; supper's magnesium has no time left that day: <windows>" for each delay that was dropped."""
    kept = "".join(
        f"; {name} is kept from magnesium by {', '.join(reason.text for reason in reasons if reason.kind != _OWN)}"
        for name, reasons in slots.blocked.items()
        if any(reason.kind != _OWN for reason in reasons)
    )
    gone = "".join(f"; {name}'s magnesium has no time left that day: {why}" for name, why in slots.dropped.items())
    return kept + gone
