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
from collections.abc import Iterator, Sequence
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
)
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


# ---------------------------------------------------------------------------- the day, step by step


def plan_day(config: Config, day: dt.date, ramp: Ramp | None = None) -> DayPlan:
    """The reminders of one day (SPEC §2); `ramp` carries the reported symptoms (SPEC §6)."""
    meals = _meals_of_the_day(config, day)  # SPEC §2.1
    target = _target(config, day, ramp)  # SPEC §2.2
    return _plan_meals(config, day, meals, target, config.zone)  # SPEC §2.3 to §2.8


def plan_days(config: Config, start: dt.date, count: int, reports: Reports | None = None) -> list[DayPlan]:
    """`count` days from `start`, sharing one ramp: its replay of the titration is done once."""
    ramp = Ramp(config, reports)
    return [plan_day(config, start + dt.timedelta(days=offset), ramp) for offset in range(count)]


def _plan_meals(config: Config, day: dt.date, meals: Sequence[Meal], target: Target, zone: ZoneInfo) -> DayPlan:
    """SPEC §2.3 to §2.8: the day's slots, filled step by step up to `target`.

    `check` calls this directly for a plain week at the full daily amount (see `plan_problems`).
    """
    warnings: list[str] = []  # in the order the steps find them
    slots = _slots_and_windows(config, meals, day, zone, warnings)  # SPEC §2.3
    target_ug = _ug(target.mg)
    room = _Room(target.mg, target_ug, target_ug)
    _place_fixed_doses(config, meals, slots, room, warnings)  # SPEC §2.4
    _place_slow_release(config, slots.for_magnesium, room, warnings)  # SPEC §2.5
    _warn_over_max_dose(config, slots.ordered, zone, warnings)  # SPEC §2.6, on what 4. and 5. placed
    _place_small_doses(config, slots.for_magnesium, room, warnings)  # SPEC §2.6
    _pair_calcium(config, slots.ordered)  # SPEC §2.7
    reminders = _reminders(config, day, slots.ordered, zone)  # SPEC §2.8
    magnesium_ug = sum(slot.magnesium_ug for slot in slots.ordered)
    calcium_ug = sum(slot.calcium_ug for slot in slots.ordered)
    return DayPlan(day, target.mg, target.note, _mg(magnesium_ug), _mg(calcium_ug), reminders, tuple(warnings))


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

    __slots__ = ("amounts", "at", "calcium_ug", "delayed", "magnesium_ug", "meal", "notes", "order", "takes_magnesium")

    def __init__(self, meal: Meal, at: dt.datetime, delayed: bool, takes_magnesium: bool, order: int) -> None:
        self.meal = meal
        self.at = at  # UTC
        self.delayed = delayed
        self.takes_magnesium = takes_magnesium  # the splitting and slow-release magnesium may go here
        self.order = order  # 2 × the meal's place in the day, + 1 for its delayed slot: breaks ties of `at`
        self.magnesium_ug = 0
        self.calcium_ug = 0  # paired or fixed: the day's total counts both
        self.amounts: dict[int, _Amount] = {}  # by supplement index
        self.notes: list[str] = []

    def add(self, index: int, supplement: Supplement, units: float, ug: int) -> None:
        amount = self.amounts.setdefault(index, _Amount())
        amount.units += units
        amount.ug += ug
        if supplement.is_magnesium:
            self.magnesium_ug += ug
        elif supplement.is_calcium:
            self.calcium_ug += ug


class _Reason(NamedTuple):
    """Why a meal takes no magnesium: its phytate foods, or a medicine's window that holds it."""

    phytate: bool
    text: str  # "lentil", or "levothyroxine 06:30, keep 4 h apart"


class _Slots(NamedTuple):
    meal_slots: dict[str, _Slot]  # by meal name
    delayed_slots: dict[str, _Slot]  # by meal name, for the blocked meals whose magnesium comes later
    ordered: list[_Slot]  # every slot, in time order
    for_magnesium: list[_Slot]  # those the splitting and slow magnesium may use
    # meal → why no magnesium goes with it: its phytate first, then the medicines that keep it away
    blocked: dict[str, list[_Reason]]


class Window(NamedTuple):
    """No magnesium strictly between `start` and `end` (UTC): a medicine it binds (SPEC §7)."""

    start: dt.datetime
    end: dt.datetime
    reason: str  # "levothyroxine 06:30, keep 4 h apart"

    def holds(self, instant: dt.datetime) -> bool:
        return self.start < instant < self.end


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
    """The windows that reach into `day`, from the medicines of the day and of the days beside it."""
    windows = []
    for medicine in config.keep_apart:
        for offset in (-1, 0, 1):
            for taken in medicine_times(config, medicine, day + dt.timedelta(days=offset), zone):
                reason = f"{medicine.name} {taken.astimezone(zone).strftime('%H:%M')}, {medicine.spacing}"
                windows.append(Window(taken - medicine.before, taken + medicine.after, reason))
    return windows


class _Windows(NamedTuple):
    """The day's windows no magnesium enters (SPEC §2.3 v2, §7), and the day they lie in."""

    medicine: list[Window]  # open: (taken - before, taken + after)
    phytate: list[Window]  # half-open: [meal, meal + phytate_gap)
    day: dt.date
    zone: ZoneInfo

    def first_free(self, instant: dt.datetime) -> tuple[dt.datetime, list[str]]:
        """The first instant from `instant` on outside every window, and the reasons of the medicine
        windows passed on the way."""
        passed: list[str] = []
        moved = True
        while moved:  # leaving one window may land in another, of either kind
            moved = False
            for window in self.medicine:
                if window.holds(instant):
                    instant, moved = window.end, True
                    passed.append(window.reason)
            for window in self.phytate:
                if window.start <= instant < window.end:
                    instant, moved = window.end, True
        return instant, passed

    def after_today(self, instant: dt.datetime) -> bool:
        # Asked only for a dose a medicine moved: computed then, not for every day.
        return instant >= wall_clock_instant(self.day + dt.timedelta(days=1), dt.time(0), self.zone)


def _slots_and_windows(
    config: Config, meals: Sequence[Meal], day: dt.date, zone: ZoneInfo, warnings: list[str]
) -> _Slots:
    """SPEC §2.3 and §7: a slot per meal; the magnesium of a phytate-rich meal, or of a meal too
    close to a medicine magnesium binds, is dropped ("move") or taken at the first instant after
    it clear of every window ("delay")."""
    instants = {meal.name: wall_clock_instant(day, meal.time, zone) for meal in meals}
    gap = config.magnesium.phytate_gap
    windows = _Windows(
        medicine_windows(config, day, zone) if config.keep_apart else [],
        [Window(instants[m.name], instants[m.name] + gap, "") for m in meals if m.phytate_rich],
        day,
        zone,
    )
    blocked = _blocked_meals(meals, instants, windows.medicine)
    delay = _delays_blocked_magnesium(config, meals, blocked, warnings)
    meal_slots: dict[str, _Slot] = {}
    delayed_slots: dict[str, _Slot] = {}
    for order, meal in enumerate(meals):
        slot = meal_slots[meal.name] = _Slot(meal, instants[meal.name], False, meal.name not in blocked, 2 * order)
        if meal.name not in blocked:
            continue
        if config.has_magnesium:
            slot.notes = [f"no magnesium with this meal: {reason.text}" for reason in blocked[meal.name]]
        delayed = _delayed_slot(slot, blocked[meal.name], windows, gap, delay)
        if delayed is not None:
            delayed_slots[meal.name] = delayed
        elif delay:
            why = "; ".join(reason.text for reason in blocked[meal.name])
            warnings.append(f"no time left today for the magnesium of {meal.name}: {why}")
    ordered = sorted([*meal_slots.values(), *delayed_slots.values()], key=lambda s: (s.at, s.order))
    for_magnesium = [slot for slot in ordered if slot.takes_magnesium]
    return _Slots(meal_slots, delayed_slots, ordered, for_magnesium, blocked)


def _phytate_reason(meal: Meal) -> str:
    return ", ".join(meal.phytate_foods) if meal.phytate_foods else "phytate-rich"


def _blocked_meals(
    meals: Sequence[Meal], instants: dict[str, dt.datetime], medicine: Sequence[Window]
) -> dict[str, list[_Reason]]:
    """SPEC §2.3 and §7: the meals no magnesium goes with, each with why: its phytate (first),
    then the medicines whose windows hold it."""
    blocked: dict[str, list[_Reason]] = {}
    for meal in meals:
        reasons = [_Reason(True, _phytate_reason(meal))] if meal.phytate_rich else []
        reasons += [_Reason(False, window.reason) for window in medicine if window.holds(instants[meal.name])]
        if reasons:
            blocked[meal.name] = reasons
    return blocked


def _delays_blocked_magnesium(
    config: Config, meals: Sequence[Meal], blocked: dict[str, list[_Reason]], warnings: list[str]
) -> bool:
    """SPEC §2.3: whether blocked meals' magnesium is taken later today (`delay`) rather than dropped
    (`move`); a `move` that would leave no slot falls back to `delay`, with a warning."""
    if config.magnesium.phytate == "delay":
        return True
    if meals and len(blocked) == len(meals):
        why = "phytate-rich" if all(meal.phytate_rich for meal in meals) else "phytate-rich or close to a medicine"
        warnings.append(f"every meal today is {why}: magnesium is taken after them instead")
        return True
    return False


def _delayed_slot(
    meal_slot: _Slot, reasons: list[_Reason], windows: _Windows, gap: dt.timedelta, delay: bool
) -> _Slot | None:
    """SPEC §2.3 and §7: the later slot of a blocked meal, or None when no time is left today.

    Adds to `reasons` the medicines whose windows pushed the slot on.
    """
    meal = meal_slot.meal
    # A phytate-rich meal's magnesium comes phytate_gap after it (SPEC §2.3); pushed on only
    # by a medicine's window (§7), and then clear of every window, phytate ones included.
    later = meal_slot.at + gap if meal.phytate_rich else meal_slot.at
    kept_by_medicine = any(not reason.phytate for reason in reasons)
    if kept_by_medicine or any(window.holds(later) for window in windows.medicine):
        later, passed = windows.first_free(later)
        # Say every medicine that moved it, also those whose window held only the later time.
        known = {reason.text for reason in reasons}
        reasons += [_Reason(False, text) for text in dict.fromkeys(passed) if text not in known]
        # Kept from a medicine, the dose stays on its day (SPEC §7); phytate_gap alone may cross midnight (§2).
        if windows.after_today(later):
            return None
    # Under "move" the later slot only takes fixed magnesium of this meal (SPEC §2.4).
    delayed = _Slot(meal, later, True, delay, meal_slot.order + 1)
    delayed.notes = [
        f"not with this meal: {reason.text}" if reason.phytate else f"not with {meal.name}: {reason.text}"
        for reason in reasons
    ]
    return delayed


# ---------------------------------------------------------------------------- 4. fixed doses


class _Room:
    """How much more magnesium the day may take: T less what §2.4 and §2.5 placed (SPEC §2.6: R)."""

    __slots__ = ("left_ug", "target_mg", "target_ug")

    def __init__(self, target_mg: float, target_ug: int, left_ug: int) -> None:
        self.target_mg = target_mg  # T as the ramp gave it, for messages
        self.target_ug = target_ug
        self.left_ug = left_ug


def _place_fixed_doses(config: Config, meals: Sequence[Meal], slots: _Slots, room: _Room, warnings: list[str]) -> None:
    """SPEC §2.4: supplements with `with` and `units` go into their meals' slots. Fixed magnesium
    counts toward T, placed in time order while it fits, and obeys the phytate rule: where its
    meal's slot was dropped it goes to the later slot. Other nutrients stay at their meal."""
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
                warnings.append(f"{supplement.name} with {meal.name} left out: no time for it clear of the windows")
    for slot, index, supplement, units, ug in sorted(magnesium, key=lambda dose: (dose[0].at, dose[0].order)):
        if ug <= room.left_ug:
            slot.add(index, supplement, units, ug)
            room.left_ug -= ug
        elif room.target_ug > 0:
            warnings.append(
                f"{supplement.name} with {slot.meal.name} left out: its {_mg(ug):g} mg would pass "
                f"today's target of {room.target_mg:g} mg"
            )


# ---------------------------------------------------------------------------- 5. slow release


def _place_slow_release(config: Config, slots: list[_Slot], room: _Room, warnings: list[str]) -> None:
    """SPEC §2.5: each slow-release magnesium supplement gets up to `doses_per_day` doses of
    `units_per_dose` units, `slow_release_gap` apart, while the day stays within T."""
    gap = config.magnesium.slow_release_gap
    for index, supplement in enumerate(config.supplements):
        if not supplement.is_slow_magnesium or supplement.mg_per_unit is None:
            continue
        dose_ug = _ug(supplement.units_per_dose * supplement.mg_per_unit)
        chosen, by_target = _spaced_slots(slots, dose_ug, supplement.doses_per_day, gap, room.left_ug)
        for slot in chosen:
            slot.add(index, supplement, supplement.units_per_dose, dose_ug)
            room.left_ug -= dose_ug
        # Stopped by the target is the titration working; stopped by the spacing deserves a word.
        if len(chosen) < supplement.doses_per_day and not by_target and room.target_ug > 0:
            warnings.append(
                f"only {len(chosen)} of {supplement.doses_per_day} doses of {supplement.name} fit "
                f"{format_duration(gap)} apart today"
            )


def _spaced_slots(
    slots: list[_Slot], dose_ug: int, doses: int, gap: dt.timedelta, room_ug: int
) -> tuple[list[_Slot], bool]:
    """SPEC §2.5: greedy in time order, each dose `gap` after the last, while the target allows.

    Returns the slots chosen and whether the target (not the spacing) stopped the placement.
    """
    chosen: list[_Slot] = []
    for slot in slots:
        if len(chosen) == doses:
            break
        if chosen and slot.at - chosen[-1].at < gap:
            continue
        if dose_ug > room_ug:
            return chosen, True
        chosen.append(slot)
        room_ug -= dose_ug
    return chosen, False


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


def _place_small_doses(config: Config, slots: list[_Slot], room: _Room, warnings: list[str]) -> None:
    """SPEC §2.6: the remainder R in steps of the splitting supplement, each step to the slot with
    the least magnesium so far (ties: the earlier), never past `max_dose_mg`; steps that fit
    nowhere are dropped with a warning."""
    splitting = config.splitting_supplement
    if splitting is None or splitting.mg_per_unit is None or room.left_ug <= 0:
        return
    settings = config.magnesium
    index = config.supplement_index[splitting.id]
    max_ug = _ug(settings.max_dose_mg)
    step_ug = _ug(splitting.step * splitting.mg_per_unit)
    steps = room.left_ug // step_ug if step_ug > 0 else 0
    for placed in range(steps):
        best: _Slot | None = None
        for slot in slots:  # strictly less: a tie keeps the earlier slot
            if slot.magnesium_ug + step_ug <= max_ug and (best is None or slot.magnesium_ug < best.magnesium_ug):
                best = slot
        if best is None:
            planned = room.target_ug - room.left_ug + placed * step_ug
            where = (
                f"without passing max_dose_mg {settings.max_dose_mg:g} mg per reminder"
                if slots
                else "because no meal today can take magnesium"
            )
            warnings.append(f"target not reached {where}: {_mg(planned):g} mg planned of {room.target_mg:g} mg")
            return
        best.add(index, splitting, splitting.step, step_ug)


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
        (*slot.notes, *notes),
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
                    (f"no magnesium near it: {medicine.spacing}",),
                )
            )
    return found


def _slot_label(slot: _Slot, zone: ZoneInfo) -> str:
    time = slot.at.astimezone(zone).strftime("%H:%M")
    return f"{slot.meal.name} {time}" + (" (delayed)" if slot.delayed else "")


# ---------------------------------------------------------------------------- looking ahead


def upcoming(
    config: Config, now: dt.datetime, count: int, reports: Reports | None = None, horizon_days: int = 400
) -> list[Reminder]:
    """The next `count` reminders at or after `now` (an aware datetime), within the horizon."""
    today = now.astimezone(config.zone).date()
    ramp = Ramp(config, reports)
    found: list[Reminder] = []
    # A delayed reminder may fall on the next day, so a day is planned beyond the one that
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
    reminder at all."""
    problems = _slow_release_spacing_problems(config)
    if not _plans_any_reminder(config):
        problems.append(
            Problem(
                "",
                "the plan has no reminder on any day: place a supplement with a meal "
                '("with"/"units") or give a magnesium supplement and daily_mg',
            )
        )
    return problems


def _plain_week() -> Iterator[tuple[int, dt.date]]:
    """Each weekday (0 = Monday) and a date on it in a week of no DST change: planned in UTC, the
    checks are about the meals, not about one day's clock change."""
    monday = dt.date(2001, 1, 1)
    for weekday in range(7):
        yield weekday, monday + dt.timedelta(days=weekday)


def _plans_any_reminder(config: Config) -> bool:
    """SPEC §2, errors: does some weekday, at the full `daily_mg`, get a reminder at all?"""
    target = Target(config.magnesium.daily_mg or 0.0, "")
    zone = ZoneInfo("UTC")
    return any(
        _plan_meals(config, day, _meals_of_the_day(config, day), target, zone).reminders for _, day in _plain_week()
    )


def _slow_release_spacing_problems(config: Config) -> list[Problem]:
    """SPEC §2.5: a slow-release supplement whose doses the meals of some weekday cannot hold
    `slow_release_gap` apart; one problem for all the weekdays that fail alike."""
    gap = config.magnesium.slow_release_gap
    zone = ZoneInfo("UTC")
    weekdays: dict[tuple[str, str], list[str]] = {}  # (key, what) → weekdays
    for weekday, day in _plain_week():
        slots = _slots_and_windows(config, _meals_of_the_day(config, day), day, zone, [])
        for supplement in config.supplements:
            if not supplement.is_slow_magnesium:
                continue
            chosen, _ = _spaced_slots(slots.for_magnesium, 0, supplement.doses_per_day, gap, _UNLIMITED)
            if len(chosen) < supplement.doses_per_day:
                what = (
                    f"cannot hold {supplement.doses_per_day} doses of {supplement.name} "
                    f"{format_duration(gap)} apart; the slots that can take magnesium: "
                    f"{', '.join(_slot_label(slot, zone) for slot in slots.for_magnesium) or 'none'}"
                    f"{_kept_from_magnesium(slots.blocked)}"
                )
                weekdays.setdefault((f"{supplement.key}.doses_per_day", what), []).append(WEEKDAY_NAMES[weekday])
    return [Problem(key, f"on {', '.join(days)} the meals {what}") for (key, what), days in weekdays.items()]


def _kept_from_magnesium(blocked: dict[str, list[_Reason]]) -> str:
    """ "; dinner is kept from magnesium by <medicines>" for each meal a medicine blocks (SPEC §7)."""
    return "".join(
        f"; {name} is kept from magnesium by {', '.join(reason.text for reason in reasons if not reason.phytate)}"
        for name, reasons in blocked.items()
        if not all(reason.phytate for reason in reasons)
    )
