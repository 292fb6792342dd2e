"""The day planner: configuration + date → the day's reminders (SPEC §2).

Pure: no clock, no I/O. Amounts are kept in whole micrograms while planning so that
sums and comparisons with the target are exact (0.1 + 0.2 must not pass a limit).
Instants are kept in UTC while planning: Python compares and subtracts aware datetimes
of one zone by their wall clocks, which is wrong across a DST change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
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
from mgremind.titration import Ramp, Reports

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
    """The UTC instant of a wall-clock time in `zone` on `day`.

    A time that occurs twice (clocks fall back) is its first occurrence; a time that does
    not exist (clocks spring forward) is the first instant after the gap.
    """
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


# ---------------------------------------------------------------------------- target


# ---------------------------------------------------------------------------- slots


@dataclass
class _Amount:
    units: float = 0.0
    ug: int = 0


@dataclass
class _Slot:
    meal: Meal
    at: dt.datetime  # UTC
    delayed: bool
    takes_magnesium: bool  # the splitting and slow-release magnesium may go here
    order: int
    magnesium_ug: int = 0
    amounts: dict[int, _Amount] = field(default_factory=dict)  # by supplement index
    notes: list[str] = field(default_factory=list)

    def add(self, index: int, supplement: Supplement, units: float, ug: int) -> None:
        amount = self.amounts.setdefault(index, _Amount())
        amount.units += units
        amount.ug += ug
        if supplement.is_magnesium:
            self.magnesium_ug += ug


def _phytate_reason(meal: Meal) -> str:
    return ", ".join(meal.phytate_foods) if meal.phytate_foods else "phytate-rich"


@dataclass(frozen=True)
class Window:
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


def _first_free(
    instant: dt.datetime, windows: Sequence[Window], phytate: Sequence[Window]
) -> tuple[dt.datetime, list[str]]:
    """The first instant from `instant` on outside every medicine window and every phytate window
    (a phytate window runs from the meal, inclusive, to phytate_gap after it), and the reasons of
    the medicine windows passed on the way."""
    passed: list[str] = []
    moved = True
    while moved:
        moved = False
        for window in windows:
            if window.holds(instant):
                instant, moved = window.end, True
                passed.append(window.reason)
        for window in phytate:
            if window.start <= instant < window.end:
                instant, moved = window.end, True
    return instant, passed


@dataclass
class _Slots:
    meal_slots: dict[str, _Slot]
    delayed_slots: dict[str, _Slot]
    warnings: list[str]
    ordered: list[_Slot] = field(default_factory=list)  # every slot, in time order
    for_magnesium: list[_Slot] = field(default_factory=list)  # those the splitting and slow magnesium may use
    # meal → why no magnesium goes with it: (True, its phytate foods) or (False, a medicine's window)
    blocked: dict[str, list[tuple[bool, str]]] = field(default_factory=dict)


def _build_slots(config: Config, meals: Sequence[Meal], day: dt.date, zone: ZoneInfo) -> _Slots:
    """SPEC §2.3 and §7: a slot per meal; the magnesium of a phytate-rich meal, or of a meal too
    close to a medicine magnesium binds, is dropped ("move") or taken at the first instant after
    it clear of every window ("delay")."""
    settings = config.magnesium
    windows = medicine_windows(config, day, zone) if config.keep_apart else []
    instants = {meal.name: wall_clock_instant(day, meal.time, zone) for meal in meals}
    phytate = [Window(instants[m.name], instants[m.name] + settings.phytate_gap, "") for m in meals if m.phytate_rich]
    # Why a meal takes no magnesium: its phytate (first), the medicines whose windows hold it.
    blocked: dict[str, list[tuple[bool, str]]] = {}
    for meal in meals:
        reasons = [(True, _phytate_reason(meal))] if meal.phytate_rich else []
        reasons += [(False, w.reason) for w in windows if w.holds(instants[meal.name])]
        if reasons:
            blocked[meal.name] = reasons
    delay = settings.phytate == "delay"
    warnings = []
    if not delay and meals and len(blocked) == len(meals):
        delay = True
        why = "phytate-rich" if all(meal.phytate_rich for meal in meals) else "phytate-rich or close to a medicine"
        warnings.append(f"every meal today is {why}: magnesium is taken after them instead")
    slots = _Slots({}, {}, warnings, blocked=blocked)
    for order, meal in enumerate(meals):
        at = instants[meal.name]
        slot = slots.meal_slots[meal.name] = _Slot(meal, at, False, meal.name not in blocked, 2 * order)
        if meal.name not in blocked:
            continue
        if config.has_magnesium:
            slot.notes = [f"no magnesium with this meal: {text}" for _, text in blocked[meal.name]]
        # A phytate-rich meal's magnesium comes phytate_gap after it (SPEC §2.3); pushed on only
        # by a medicine's window (§7), and then clear of every window, phytate ones included.
        later = at + settings.phytate_gap if meal.phytate_rich else at
        kept_by_medicine = any(not is_phytate for is_phytate, _ in blocked[meal.name])
        by_medicine = kept_by_medicine or any(window.holds(later) for window in windows)
        if by_medicine:
            later, passed = _first_free(later, windows, phytate)
            # Say every medicine that moved it, also those whose window held only the later time.
            known = {text for _, text in blocked[meal.name]}
            blocked[meal.name] += [(False, reason) for reason in dict.fromkeys(passed) if reason not in known]
        # Kept from a medicine, the dose stays on its day (SPEC §7); phytate_gap alone may cross midnight (§2).
        if by_medicine and later >= wall_clock_instant(day + dt.timedelta(days=1), dt.time(0), zone):
            if delay:
                why = "; ".join(text for _, text in blocked[meal.name])
                warnings.append(f"no time left today for the magnesium of {meal.name}: {why}")
            continue
        # Under "move" the later slot only takes fixed magnesium of this meal (SPEC §2.4).
        delayed = slots.delayed_slots[meal.name] = _Slot(meal, later, True, delay, 2 * order + 1)
        delayed.notes = [
            f"not with this meal: {text}" if is_phytate else f"not with {meal.name}: {text}"
            for is_phytate, text in blocked[meal.name]
        ]
    slots.ordered = sorted([*slots.meal_slots.values(), *slots.delayed_slots.values()], key=lambda s: (s.at, s.order))
    slots.for_magnesium = [slot for slot in slots.ordered if slot.takes_magnesium]
    return slots


def _place_slow(
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


# ---------------------------------------------------------------------------- the day


def plan_day(config: Config, day: dt.date, ramp: Ramp | None = None) -> DayPlan:
    """The reminders of one day (SPEC §2); `ramp` carries the reported symptoms (SPEC §6)."""
    target = (ramp or Ramp(config)).target(day)
    meals = config.meals_by_weekday[day.weekday()]
    return _plan(config, day, meals, target_mg=target.mg, target_note=target.note, zone=config.zone)


def plan_days(config: Config, start: dt.date, count: int, reports: Reports | None = None) -> list[DayPlan]:
    ramp = Ramp(config, reports)
    return [plan_day(config, start + dt.timedelta(days=offset), ramp) for offset in range(count)]


def _plan(
    config: Config, day: dt.date, meals: Sequence[Meal], *, target_mg: float, target_note: str, zone: ZoneInfo
) -> DayPlan:
    settings = config.magnesium
    slots = _build_slots(config, meals, day, zone)
    warnings = slots.warnings
    target_ug = _ug(target_mg)
    room_ug = target_ug
    supplements = list(enumerate(config.supplements))

    # 4. Fixed doses. Magnesium among them counts toward T, placed in time order while it fits.
    fixed_magnesium: list[tuple[_Slot, int, Supplement, float, int]] = []
    for index, supplement in supplements:
        if not supplement.is_fixed or supplement.units is None:
            continue
        for meal in meals:
            if meal.name not in supplement.with_meals:
                continue
            ug = _ug(supplement.units * supplement.mg_per_unit) if supplement.mg_per_unit else 0
            if supplement.is_magnesium:
                if meal.name not in slots.blocked:
                    fixed_magnesium.append((slots.meal_slots[meal.name], index, supplement, supplement.units, ug))
                elif meal.name in slots.delayed_slots:
                    fixed_magnesium.append((slots.delayed_slots[meal.name], index, supplement, supplement.units, ug))
                elif target_ug > 0:
                    warnings.append(f"{supplement.name} with {meal.name} left out: no time for it clear of the windows")
            else:
                slots.meal_slots[meal.name].add(index, supplement, supplement.units, ug)
    for slot, index, supplement, units, ug in sorted(fixed_magnesium, key=lambda entry: (entry[0].at, entry[0].order)):
        if ug <= room_ug:
            slot.add(index, supplement, units, ug)
            room_ug -= ug
        elif target_ug > 0:
            warnings.append(
                f"{supplement.name} with {slot.meal.name} left out: its {_mg(ug):g} mg would pass "
                f"today's target of {target_mg:g} mg"
            )

    # 5. Slow release.
    magnesium_slots = slots.for_magnesium
    for index, supplement in supplements:
        if not supplement.is_slow_magnesium or supplement.mg_per_unit is None:
            continue
        dose_ug = _ug(supplement.units_per_dose * supplement.mg_per_unit)
        chosen, by_target = _place_slow(
            magnesium_slots, dose_ug, supplement.doses_per_day, settings.slow_release_gap, room_ug
        )
        for slot in chosen:
            slot.add(index, supplement, supplement.units_per_dose, dose_ug)
            room_ug -= dose_ug
        if len(chosen) < supplement.doses_per_day and not by_target and target_ug > 0:
            warnings.append(
                f"only {len(chosen)} of {supplement.doses_per_day} doses of {supplement.name} fit "
                f"{format_duration(settings.slow_release_gap)} apart today"
            )

    max_ug = _ug(settings.max_dose_mg)
    for slot in slots.ordered:
        if slot.magnesium_ug > max_ug:
            warnings.append(
                f"{_slot_label(slot, zone)} carries {_mg(slot.magnesium_ug):g} mg of fixed and "
                f"slow-release magnesium, more than max_dose_mg {settings.max_dose_mg:g} mg"
            )

    # 6. Small doses: each step to the slot with the least magnesium so far (ties: earlier).
    splitting = config.splitting_supplement
    if splitting is not None and splitting.mg_per_unit is not None and room_ug > 0:
        index = config.supplement_index[splitting.id]
        step_ug = _ug(splitting.step * splitting.mg_per_unit)
        steps = room_ug // step_ug if step_ug > 0 else 0
        for placed in range(steps):
            best: _Slot | None = None
            for slot in magnesium_slots:
                if slot.magnesium_ug + step_ug <= max_ug and (best is None or slot.magnesium_ug < best.magnesium_ug):
                    best = slot
            if best is None:
                planned = target_ug - room_ug + placed * step_ug
                where = (
                    f"without passing max_dose_mg {settings.max_dose_mg:g} mg per reminder"
                    if magnesium_slots
                    else "because no meal today can take magnesium"
                )
                warnings.append(f"target not reached {where}: {_mg(planned):g} mg planned of {target_mg:g} mg")
                break
            best.add(index, splitting, splitting.step, step_ug)

    # 7. Calcium paired with each magnesium dose, nearest in its steps (ties: the lower).
    calcium = config.paired_calcium
    if calcium is not None and calcium.mg_per_unit is not None:
        index = config.supplement_index[calcium.id]
        step_ug = _ug(calcium.step * calcium.mg_per_unit)
        ratio_milli = round(settings.calcium_ratio * 1000)
        for slot in slots.ordered:
            if slot.magnesium_ug <= 0 or step_ug <= 0:
                continue
            wanted_milli = ratio_milli * slot.magnesium_ug  # calcium ug × 1000
            steps = wanted_milli // (1000 * step_ug)
            if 2 * wanted_milli > (2 * steps + 1) * 1000 * step_ug:
                steps += 1
            if steps:
                slot.add(index, calcium, steps * calcium.step, steps * step_ug)

    reminders = tuple(_reminder(config, day, slot, zone) for slot in slots.ordered if slot.amounts)
    reminders += tuple(_medicine_reminders(config, day, zone))
    reminders = tuple(sorted(reminders, key=lambda reminder: reminder.instant))
    magnesium_mg = _mg(sum(slot.magnesium_ug for slot in slots.ordered))
    calcium_ug = sum(
        amount.ug
        for slot in slots.ordered
        for index, amount in slot.amounts.items()
        if config.supplements[index].is_calcium
    )
    return DayPlan(day, target_mg, target_note, magnesium_mg, _mg(calcium_ug), reminders, tuple(warnings))


def _slot_label(slot: _Slot, zone: ZoneInfo) -> str:
    time = slot.at.astimezone(zone).strftime("%H:%M")
    return f"{slot.meal.name} {time}" + (" (delayed)" if slot.delayed else "")


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


def _reminder(config: Config, day: dt.date, slot: _Slot, zone: ZoneInfo) -> Reminder:
    at = slot.at if slot.delayed else slot.at - config.reminders.lead
    items = []
    notes = list(slot.notes)
    for index in sorted(slot.amounts):
        supplement = config.supplements[index]
        amount = slot.amounts[index]
        mg = _mg(amount.ug) if supplement.mg_per_unit is not None else None
        items.append(Item(supplement, _units(amount.units), mg))
        if supplement.keep_refrigerated:
            notes.append(f"{supplement.name}: keep refrigerated")
    suffix = "+delay" if slot.delayed else ""
    return Reminder(
        f"{day.isoformat()}/{slot.meal.name}{suffix}",
        at.astimezone(zone),
        slot.meal.name,
        slot.delayed,
        tuple(items),
        tuple(notes),
    )


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
    """Errors only the planner can see: impossible slow-release spacing, no reminder at all."""
    problems: list[Problem] = []
    daily = config.magnesium.daily_mg or 0.0
    any_reminder = False
    spacing: dict[tuple[str, str], list[str]] = {}  # (key, what) → weekdays
    for weekday in range(7):
        meals = config.meals_by_weekday[weekday]
        # A plain week in UTC: the check is about the meals, not about one day's DST change.
        day = dt.date(2001, 1, 1) + dt.timedelta(days=weekday)
        any_reminder = any_reminder or bool(
            _plan(config, day, meals, target_mg=daily, target_note="", zone=ZoneInfo("UTC")).reminders
        )
        built = _build_slots(config, meals, day, ZoneInfo("UTC"))
        slots = built.for_magnesium
        kept_from = "".join(
            f"; {name} is kept from magnesium by {', '.join(text for phytate, text in why if not phytate)}"
            for name, why in built.blocked.items()
            if not all(phytate for phytate, _ in why)
        )
        for supplement in config.supplements:
            if not supplement.is_slow_magnesium:
                continue
            chosen, _ = _place_slow(slots, 0, supplement.doses_per_day, config.magnesium.slow_release_gap, _UNLIMITED)
            if len(chosen) < supplement.doses_per_day:
                offered = (
                    ", ".join(
                        f"{slot.meal.name} {slot.at.strftime('%H:%M')}" + (" (delayed)" if slot.delayed else "")
                        for slot in slots
                    )
                    or "none"
                )
                what = (
                    f"cannot hold {supplement.doses_per_day} doses of {supplement.name} "
                    f"{format_duration(config.magnesium.slow_release_gap)} apart; the slots that can take "
                    f"magnesium: {offered}{kept_from}"
                )
                spacing.setdefault((f"{supplement.key}.doses_per_day", what), []).append(WEEKDAY_NAMES[weekday])
    for (key, what), weekdays in spacing.items():
        problems.append(Problem(key, f"on {', '.join(weekdays)} the meals {what}"))
    if not any_reminder:
        problems.append(
            Problem(
                "",
                "the plan has no reminder on any day: place a supplement with a meal "
                '("with"/"units") or give a magnesium supplement and daily_mg',
            )
        )
    return problems
