"""Property tests of the day planner (SPEC §2) over generated valid configurations.

A strategy writes a configuration as TOML text together with what it means (the oracle:
meal times, which meals are phytate-rich, the gaps, the limits, the medicines kept apart), then
the properties check plan_day against SPEC rules computed from that oracle, not from the parsed
Config. Zones include DST changes of one hour (New York, Berlin), of 30 minutes (Lord Howe), a
negative DST (Dublin) and a skipped day (Apia, 2011-12-30); dates include the days
around every transition of those zones.

The v2 invariants (SPEC §2 v2: no magnesium nor its paired calcium inside any window; any two
slow-release reminders slow_release_gap apart, across days; every meal a rule keeps from magnesium
named in the day's notes; the day never above T) are checked over DAYS consecutive days of each
generated plan: most of the suite's generated plans are theirs. MGREMIND_PROPERTY_SCALE multiplies
every max_examples (e.g. 10 for a long run); the suite runs at 1.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from zoneinfo import ZoneInfo

from conftest import config_from, examples
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from plans import citrate, magnesium, meal, timezone

from mgremind.model import WEEKDAYS, Config, ConfigError, DayPlan, Reminder
from mgremind.plan import exact_wall_clock_instant, plan_day, plan_days, wall_clock_instant

UTC = dt.timezone.utc
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Apia", "Europe/Dublin", "UTC")
FULL_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Foods on the built-in phytate list (whole words, plural allowed; v2: spaces and hyphens inside a
# compound do not matter, synonyms count) and foods that are not.
RICH_FOODS = (
    "lentil soup",
    "black beans",
    "oatmeal",
    "whole wheat bread",
    "Brown Rice",
    "hummus",
    "almonds",
    "wholewheat toast",
    "whole-wheat pasta",
    "wholemeal bread",
    "soya milk",
    "soybeans",
    "flaxseed",
    "spelt bread",
)
PLAIN_FOODS = ("peach", "goat cheese", "fish", "white toast", "yoghurt", "banana", "scrambled eggs", "goat-cheese")
CUSTOM_FOOD = "kale chips"  # phytate-rich only when [magnesium] phytate_foods names it

MEAL_NAMES = ("breakfast", "lunch", "dinner", "snack", "late supper", "brunch")
DURATIONS = {  # duration text → its length
    "90s": dt.timedelta(seconds=90),
    "0m": dt.timedelta(0),
    "15m": dt.timedelta(minutes=15),
    "30m": dt.timedelta(minutes=30),
    "45m": dt.timedelta(minutes=45),
    "1h": dt.timedelta(hours=1),
    "1h30m": dt.timedelta(hours=1, minutes=30),
    "2h": dt.timedelta(hours=2),
    "2h20m": dt.timedelta(hours=2, minutes=20),
    "3h": dt.timedelta(hours=3),
    "4h": dt.timedelta(hours=4),
    "6h": dt.timedelta(hours=6),
    "7h30m": dt.timedelta(hours=7, minutes=30),
    "8h": dt.timedelta(hours=8),
    "10h": dt.timedelta(hours=10),
}
LEADS = ("0m", "90s", "15m", "30m", "1h", "1h30m", "2h")
PHYTATE_GAPS = ("30m", "45m", "1h", "1h30m", "2h", "2h20m", "3h")
SLOW_GAPS = ("90s", "1h", "4h", "6h", "7h30m", "8h", "10h")
MEDICINE_WINDOWS = ("30m", "1h", "2h", "4h", "6h")


# ---------------------------------------------------------------------------- DST dates


def _noon_offset(day: dt.date, zone: ZoneInfo) -> dt.timedelta | None:
    return dt.datetime.combine(day, dt.time(12), tzinfo=zone).utcoffset()


@functools.cache
def transition_dates(zone_name: str) -> tuple[dt.date, ...]:
    """The days around every change of the zone's UTC offset, 2010–2035."""
    zone = ZoneInfo(zone_name)
    found: set[dt.date] = set()
    day = dt.date(2010, 1, 1)
    offset = _noon_offset(day, zone)
    while day < dt.date(2036, 1, 1):
        following = day + dt.timedelta(days=1)
        next_offset = _noon_offset(following, zone)
        if next_offset != offset:
            found.update(day + dt.timedelta(days=k) for k in (-1, 0, 1, 2))
        day, offset = following, next_offset
    return tuple(sorted(found))


@functools.cache
def changes(zone_name: str) -> tuple[tuple[dt.date, int], ...]:
    """Each change of the zone's offset, 2010–2035, as the date and hour of the wall clock just before it."""
    zone = ZoneInfo(zone_name)

    def offset(timestamp: int) -> dt.timedelta | None:
        return dt.datetime.fromtimestamp(timestamp, zone).utcoffset()

    found = set()
    for day in transition_dates(zone_name):
        noon = int(dt.datetime.combine(day, dt.time(12), tzinfo=UTC).timestamp())
        low, high = noon - 36 * 3600, noon + 12 * 3600
        if offset(low) == offset(high):
            continue
        before = offset(low)
        while low < high:  # the first second of the new offset
            middle = (low + high) // 2
            if offset(middle) == before:
                low = middle + 1
            else:
                high = middle
        wall_before = dt.datetime.fromtimestamp(high - 1, zone)
        found.add((wall_before.date(), wall_before.hour))
    return tuple(sorted(found))


def test_transition_dates_hold_the_known_changes() -> None:
    # The strategy relies on these: US DST 2026 starts Mar 8 and ends Nov 1; the EU's
    # starts Mar 29 and ends Oct 25; Lord Howe's (30 min) ends Apr 5 and starts Oct 4;
    # Samoa skipped 2011-12-30; UTC never changes.
    assert {dt.date(2026, 3, 8), dt.date(2026, 11, 1)} <= set(transition_dates("America/New_York"))
    assert {dt.date(2026, 3, 29), dt.date(2026, 10, 25)} <= set(transition_dates("Europe/Berlin"))
    assert {dt.date(2026, 4, 5), dt.date(2026, 10, 4)} <= set(transition_dates("Australia/Lord_Howe"))
    assert {dt.date(2011, 12, 29), dt.date(2011, 12, 30), dt.date(2011, 12, 31)} <= set(
        transition_dates("Pacific/Apia")
    )
    assert transition_dates("UTC") == ()
    # Clocks change at 02:00 EDT in New York (the last wall second before it is 01:59:59), at 03:00 CEST
    # in Berlin, at 02:00 LHDT on Lord Howe; Samoa's last second of 2011-12-29 was 23:59:59 -10:00.
    assert {(dt.date(2026, 3, 8), 1), (dt.date(2026, 11, 1), 1)} <= set(changes("America/New_York"))
    assert {(dt.date(2026, 3, 29), 1), (dt.date(2026, 10, 25), 2)} <= set(changes("Europe/Berlin"))
    assert (dt.date(2026, 4, 5), 1) in changes("Australia/Lord_Howe")
    assert (dt.date(2011, 12, 29), 23) in changes("Pacific/Apia")


# ---------------------------------------------------------------------------- the strategy


@dataclass(frozen=True)
class MealSpec:
    name: str
    time: dt.time
    days: frozenset[int]  # 0 = Monday
    rich: bool  # phytate-rich, by SPEC §2.1 from what was written


@dataclass(frozen=True)
class SlowSpec:
    id: str
    mg: Fraction  # per unit
    units_per_dose: Fraction
    doses: int


@dataclass(frozen=True)
class CalciumSpec:
    id: str
    step: Fraction  # units
    step_mg: Fraction
    ratio: Fraction


@dataclass(frozen=True)
class FixedSpec:
    id: str
    magnesium: bool
    with_meals: tuple[str, ...]
    units: Fraction
    slow: bool = False  # slow-release magnesium taken with meals


@dataclass(frozen=True)
class MedicineSpec:
    """A [[keep_apart]] medicine: its own times, every day; no magnesium in (t − before, t + after)."""

    name: str
    times: tuple[dt.time, ...]
    before: dt.timedelta
    after: dt.timedelta


@dataclass(frozen=True)
class Titration:
    start: dt.date
    start_mg: int
    step_mg: int
    every_days: int


@dataclass(frozen=True)
class Case:
    """A configuration's text and what it means, and the date to plan."""

    text: str
    zone: str
    date: dt.date
    meals: tuple[MealSpec, ...]
    lead: dt.timedelta
    delay: bool  # phytate = "delay"
    phytate_gap: dt.timedelta
    slow_gap: dt.timedelta
    max_dose_ug: int
    daily_mg: Fraction | None
    titration: Titration | None
    slow: tuple[SlowSpec, ...]
    splitting: str | None
    calcium: CalciumSpec | None
    fixed: tuple[FixedSpec, ...]
    medicines: tuple[MedicineSpec, ...] = ()

    def meals_of_day(self, day: dt.date | None = None) -> dict[str, MealSpec]:
        weekday = (day or self.date).weekday()
        return {meal.name: meal for meal in self.meals if weekday in meal.days}

    def target_mg(self, day: dt.date | None = None) -> Fraction:
        """SPEC §2.2."""
        day = day or self.date
        daily = self.daily_mg or Fraction(0)
        ramp = self.titration
        if ramp is None:
            return daily
        if day < ramp.start:
            return Fraction(0)
        return min(daily, Fraction(ramp.start_mg + ramp.step_mg * ((day - ramp.start).days // ramp.every_days)))

    @property
    def has_magnesium(self) -> bool:
        return bool(self.slow or self.splitting or any(fixed.magnesium for fixed in self.fixed))

    @property
    def slow_ids(self) -> frozenset[str]:
        """The supplements that carry slow-release magnesium: placed by §2.5, or taken with meals."""
        return frozenset({slow.id for slow in self.slow} | {fixed.id for fixed in self.fixed if fixed.slow})


def _q(text: str) -> str:
    return json.dumps(text)  # ASCII text only: a JSON string is a TOML basic string


# Strategies are built once: building them inside the composite costs more than drawing from them.
_BOOL = st.booleans()
_pick = functools.cache(st.sampled_from)
_int = functools.cache(st.integers)
_DATES = st.dates(dt.date(2010, 1, 1), dt.date(2035, 12, 31))
_DAY_SETS = st.frozensets(st.integers(0, 6), min_size=1, max_size=6)
_FOODS = st.lists(st.sampled_from((*RICH_FOODS, *PLAIN_FOODS, CUSTOM_FOOD)), max_size=3)
_HOURS = st.integers(0, 23)

_MINUTES = st.one_of(st.sampled_from([0, 15, 30, 45]), st.integers(0, 59))


@functools.cache
def _dates_of(zone: str) -> st.SearchStrategy[dt.date]:
    transitions = transition_dates(zone)
    return st.one_of(st.sampled_from(transitions), _DATES) if transitions else _DATES


def _decimal(draw: st.DrawFn, choices: tuple[str, ...]) -> tuple[str, Fraction]:
    text = draw(_pick(choices))
    return text, Fraction(text)


def _optional(draw: st.DrawFn, choices: tuple[str, ...]) -> str | None:
    return draw(_pick(choices)) if draw(_BOOL) else None


def _meal_time(draw: st.DrawFn, hours: st.SearchStrategy[int]) -> tuple[dt.time, str]:
    """A time of day and how it is written: "HH:MM", "H:MM", "HH:MM:SS" or a TOML local time."""
    hour, minute = draw(hours), draw(_MINUTES)
    style = draw(_pick(("HH:MM", "H:MM", "HH:MM:SS", "toml")))
    second = draw(_int(0, 59)) if style in ("HH:MM:SS", "toml") else 0
    time = dt.time(hour, minute, second)
    if style == "HH:MM":
        return time, _q(f"{hour:02d}:{minute:02d}")
    if style == "H:MM":
        return time, _q(f"{hour}:{minute:02d}")
    if style == "HH:MM:SS":
        return time, _q(time.isoformat())
    return time, time.isoformat()


def _days_text(draw: st.DrawFn, days: frozenset[int]) -> str:
    style = draw(_pick(("short", "full", "upper")))
    words = [
        WEEKDAYS[day] if style == "short" else FULL_DAY_NAMES[day] if style == "full" else WEEKDAYS[day].upper()
        for day in sorted(days)
    ]
    return "[" + ", ".join(map(_q, words)) + "]"


_CHANGING_ZONES = tuple(zone for zone in ZONES if zone != "UTC")


@st.composite
def cases(draw: st.DrawFn, around_change: bool = False) -> Case:
    """A configuration and a date; `around_change`: always the day the clocks change, meals close to it."""
    zone = draw(_pick(_CHANGING_ZONES if around_change else ZONES))
    hours = _HOURS
    if changes(zone) and (around_change or draw(_BOOL)):
        # Around a change of the clocks: the day of it, with the meals within hours of it.
        date, hour = draw(_pick(changes(zone)))
        hours = _int(max(0, hour - 2), min(23, hour + 1))
    else:
        date = draw(_dates_of(zone))
    custom_listed = draw(_BOOL)
    lines = [f"timezone = {_q(zone)}"]

    # Meals: groups of one name, every group on some days; a split group has the same name on
    # complementary days (breakfast on weekdays, another time at weekends). The first group
    # covers every day, so that no weekday is without a meal.
    group_count = draw(_int(1, 4))
    names = draw(st.permutations(MEAL_NAMES))[:group_count]
    meal_entries: list[tuple[str, frozenset[int] | None]] = []  # (name, days written or None)
    for position, name in enumerate(names):
        if draw(_BOOL):
            first_days = draw(_DAY_SETS)
            meal_entries.append((name, first_days))
            if position == 0 or draw(_BOOL):
                meal_entries.append((name, frozenset(range(7)) - first_days))
        elif position == 0:
            meal_entries.append((name, None if draw(_BOOL) else frozenset(range(7))))
        else:
            meal_entries.append((name, None if draw(_BOOL) else draw(_DAY_SETS)))
    meals: list[MealSpec] = []
    for name, days in meal_entries[:6]:
        time, time_text = _meal_time(draw, hours)
        foods = draw(_FOODS)
        explicit = draw(_pick((None, None, True, False)))
        from_foods = any(food in RICH_FOODS or (food == CUSTOM_FOOD and custom_listed) for food in foods)
        rich = explicit if explicit is not None else from_foods
        lines += ["", "[[meal]]", f"name = {_q(name)}", f"time = {time_text}"]
        if days is not None:
            lines.append(f"days = {_days_text(draw, days)}")
        if foods:
            lines.append("foods = [" + ", ".join(map(_q, foods)) + "]")
        if explicit is not None:
            lines.append(f"phytate = {str(explicit).lower()}")
        meals.append(MealSpec(name, time, days if days is not None else frozenset(range(7)), rich))
    meal_names = tuple(sorted({meal.name for meal in meals}))

    # Supplements.
    slow: list[SlowSpec] = []
    for number in range(draw(_pick((0, 0, 1, 1, 2)))):
        mg = draw(_int(20, 150))
        units_text, units = _decimal(draw, ("1", "2", "0.5"))
        doses = draw(_pick((None, 1, 1, 2, 3)))
        sid = f"slow{number}"
        lines += ["", "[[supplement]]", f'id = "{sid}"', f'name = "Slow {number}"', 'nutrient = "magnesium"']
        lines += ['unit = "tablet"', 'release = "slow"', f"mg_per_unit = {mg}", f"units_per_dose = {units_text}"]
        if doses is not None:
            lines.append(f"doses_per_day = {doses}")
        slow.append(SlowSpec(sid, Fraction(mg), units, doses if doses is not None else 2))

    splitting: str | None = None
    if draw(_BOOL):
        splitting = "citrate"
        lines += ["", "[[supplement]]", 'id = "citrate"', 'nutrient = "Magnesium"', 'unit = "capsule"']
        if draw(_BOOL):
            lines += ['form = "citrate"', f"compound_mg_per_unit = {draw(_pick(('250', '500', '625')))}"]
        else:
            lines.append(f"mg_per_unit = {draw(_pick(('25', '40.5', '50', '81', '100', '120')))}")
        step = _optional(draw, ("1", "0.5", "2"))
        if step is not None:
            lines.append(f"step = {step}")

    calcium: CalciumSpec | None = None
    ratio_line = ""
    if draw(_BOOL):
        mg_text, mg_value = _decimal(draw, ("250", "200", "300", "125.5"))
        step_text, step_value = _decimal(draw, ("1", "0.5", "0.25"))
        ratio_text, ratio = _decimal(draw, ("0.5", "0.8", "1.0", "1.25", "2", "0.333", "2.5"))
        calcium = CalciumSpec("calcium", step_value, step_value * mg_value, ratio)
        ratio_line = f"calcium_ratio = {ratio_text}"
        lines += ["", "[[supplement]]", 'id = "calcium"', 'nutrient = "calcium"', 'unit = "tablet"']
        lines += [f"mg_per_unit = {mg_text}", f"step = {step_text}"]

    fixed: list[FixedSpec] = []
    for number in range(draw(_int(0, 3))):
        magnesium = draw(_BOOL)
        with_meals = tuple(draw(st.permutations(meal_names))[: draw(_int(1, 3))])
        units_text, units = _decimal(draw, ("1", "0.5", "2"))
        fid = f"fixed{number}"
        nutrient = "magnesium" if magnesium else draw(_pick(("vitamin D", "zinc", "B complex", "calcium")))
        # Slow-release magnesium taken with meals (v2: it keeps the gap too): one in four fixed magnesium.
        slow_fixed = magnesium and draw(_pick((False, False, False, True)))
        lines += ["", "[[supplement]]", f'id = "{fid}"', f"nutrient = {_q(nutrient)}", 'unit = "capsule"']
        lines += ["with = [" + ", ".join(map(_q, with_meals)) + "]", f"units = {units_text}"]
        if slow_fixed:
            lines.append('release = "slow"')
        if magnesium or nutrient == "calcium" or draw(_BOOL):
            lines.append(f"mg_per_unit = {draw(_int(10, 200))}")
        fixed.append(FixedSpec(fid, magnesium, with_meals, units, slow_fixed))
    if not (slow or splitting or calcium or fixed):
        lines += ["", "[[supplement]]", 'id = "vitd"', 'nutrient = "vitamin D"', 'unit = "drop"']
        lines += [f"with = [{_q(meals[0].name)}]", "units = 2"]
        fixed.append(FixedSpec("vitd", False, (meals[0].name,), Fraction(2)))

    has_magnesium = bool(slow or splitting or any(f.magnesium for f in fixed))

    # [magnesium]
    lines += ["", "[magnesium]"]
    daily_mg: Fraction | None = None
    if has_magnesium:
        daily_text, daily_mg = _decimal(draw, ("30", "100", "150", "200", "250.5", "330", "400", "600"))
        lines.append(f"daily_mg = {daily_text}")
    max_dose = draw(_int(30, 400)) if draw(_BOOL) else None
    if max_dose is not None:
        lines.append(f"max_dose_mg = {max_dose}")
    slow_gap = _optional(draw, SLOW_GAPS)
    if slow_gap is not None:
        lines.append(f"slow_release_gap = {_q(slow_gap)}")
    phytate = draw(_pick((None, "move", "delay", "Delay")))
    if phytate is not None:
        lines.append(f"phytate = {_q(phytate)}")
    phytate_gap = _optional(draw, PHYTATE_GAPS)
    if phytate_gap is not None:
        lines.append(f"phytate_gap = {_q(phytate_gap)}")
    if custom_listed:
        lines.append(f"phytate_foods = [{_q(CUSTOM_FOOD)}]")
    if ratio_line:
        lines.append(ratio_line)

    lead = _optional(draw, LEADS)
    if lead is not None:
        lines += ["", "[reminders]", f"lead = {_q(lead)}"]

    # Medicines kept apart (SPEC §7), in one plan of three; their windows are given outright.
    medicines: list[MedicineSpec] = []
    for number in range(draw(_pick((0, 0, 1, 2)))):
        times = tuple(sorted({dt.time(draw(_HOURS), draw(_MINUTES)) for _ in range(draw(_int(1, 2)))}))
        before, after = draw(_pick(MEDICINE_WINDOWS)), draw(_pick(MEDICINE_WINDOWS))
        name = f"medicine{number}"
        lines += ["", "[[keep_apart]]", f"name = {_q(name)}"]
        lines += ["times = [" + ", ".join(_q(time.strftime("%H:%M")) for time in times) + "]"]
        lines += [f"before = {_q(before)}", f"after = {_q(after)}"]
        medicines.append(MedicineSpec(name, times, DURATIONS[before], DURATIONS[after]))

    titration: Titration | None = None
    if has_magnesium and draw(_BOOL):
        titration = Titration(
            start=date + dt.timedelta(days=draw(_int(-40, 5))),
            start_mg=draw(_int(0, 200)),
            step_mg=draw(_int(10, 100)),
            every_days=draw(_int(1, 7)),
        )
        lines += ["", "[titration]", f"start = {titration.start.isoformat()}", f"start_mg = {titration.start_mg}"]
        lines += [f"step_mg = {titration.step_mg}", f"every_days = {titration.every_days}"]

    return Case(
        text="\n".join(lines) + "\n",
        zone=zone,
        date=date,
        meals=tuple(meals),
        lead=DURATIONS[lead or "0m"],
        delay=(phytate or "move").lower() == "delay",
        phytate_gap=DURATIONS[phytate_gap or "2h"],
        slow_gap=DURATIONS[slow_gap or "8h"],
        max_dose_ug=(max_dose if max_dose is not None else 200) * 1000,
        daily_mg=daily_mg,
        titration=titration,
        slow=tuple(slow),
        splitting=splitting,
        calcium=calcium,
        fixed=tuple(fixed),
        medicines=tuple(medicines),
    )


def configure(case: Case) -> Config:
    """The case's configuration; cases the loader rejects (impossible slow-release spacing) are assumed away."""
    try:
        config = config_from(case.text)
    except ConfigError as error:
        spacing = any(problem.key.endswith((".doses_per_day", ".with")) for problem in error.problems)
        event("rejected: " + ("slow-release spacing" if spacing else "no reminder"))
        # Only the planner's checks may reject a generated configuration (slow-release doses that cannot be
        # spaced, a plan without any reminder); anything else is a mistake of the generator.
        assert all(
            ".doses_per_day:" in line or (".with:" in line and "slow_release_gap" in line) or "no reminder" in line
            for line in error.lines()
        ), str(error)
        assume(False)
        raise
    event("valid")
    return config


def test_most_generated_configurations_are_valid() -> None:
    """The properties below see mostly valid configurations, not only the few that pass."""
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=150, database=None, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(cases())
    def count(case: Case) -> None:
        try:
            config_from(case.text)
            outcomes["valid"] += 1
        except ConfigError:
            outcomes["rejected"] += 1

    count()
    assert outcomes["valid"] > 0.5 * sum(outcomes.values()), outcomes


# ---------------------------------------------------------------------------- helpers


def ug(mg: float | None) -> int:
    """Planner amounts are exact to the microgram."""
    return round((mg or 0) * 1000)


def item_ug(reminder: Reminder, supplement_ids: set[str] | frozenset[str] | tuple[str, ...]) -> int:
    return sum(ug(item.mg) for item in reminder.items if item.supplement.id in supplement_ids)


def magnesium_ug(reminder: Reminder) -> int:
    return sum(ug(item.mg) for item in reminder.items if item.supplement.nutrient == "magnesium")


def utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(UTC)


def wall(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The wall clock in `zone` at an instant (through UTC: astimezone to an aware datetime's own zone is a no-op)."""
    return instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


def meal_instant(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime | None:
    """The first instant (UTC) whose wall clock reads `time` on `day`; None if there is none (a gap)."""
    local = dt.datetime.combine(day, time)
    readings = [
        candidate.astimezone(UTC)
        for candidate in (local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1))
        if wall(candidate, zone) == local
    ]
    return min(readings) if readings else None


def instant_of(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """When a meal or medicine of `day` is taken: its first reading, or after a gap the first instant past
    it (SPEC §2.8; the exact search is pinned by test_plan.py's hand-computed cases)."""
    return meal_instant(day, time, zone) or exact_wall_clock_instant(day, time, zone)


def dose_instant(case: Case, reminder: Reminder) -> dt.datetime:
    """When the dose is taken: at the meal (the reminder came `lead` before it), or at a delayed reminder."""
    return utc(reminder.at) if reminder.delayed else utc(reminder.at) + case.lead


SETTINGS = settings(
    max_examples=examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ---------------------------------------------------------------------------- the oracle's windows (SPEC §2.3 v2, §7)


@dataclass(frozen=True)
class OracleWindow:
    start: dt.datetime  # UTC
    end: dt.datetime
    phytate: bool  # [start, end) after a phytate-rich meal; a medicine's is (start, end)
    meal: tuple[dt.date, str] | None  # the phytate-rich meal that opens it
    medicine: str | None

    def holds(self, instant: dt.datetime) -> bool:
        return (self.start <= instant if self.phytate else self.start < instant) and instant < self.end


def windows_around(case: Case, day: dt.date) -> list[OracleWindow]:
    """Every window that may reach into `day` or just past it: the phytate windows of the meals of the
    day before, the day and the day after, and the medicines' windows of those days."""
    zone = ZoneInfo(case.zone)
    found = []
    for offset in (-1, 0, 1):
        near = day + dt.timedelta(days=offset)
        for spec in case.meals_of_day(near).values():
            if spec.rich:
                start = instant_of(near, spec.time, zone)
                found.append(OracleWindow(start, start + case.phytate_gap, True, (near, spec.name), None))
        for medicine in case.medicines:
            for time in medicine.times:
                taken = instant_of(near, time, zone)
                found.append(OracleWindow(taken - medicine.before, taken + medicine.after, False, None, medicine.name))
    return found


def blocked_meals(case: Case, day: dt.date) -> dict[str, list[OracleWindow | None]]:
    """SPEC §2.3 v2, §7: the meals of `day` no magnesium goes with, and why: None for the meal's own
    phytate, else the windows (another meal's phytate window, a medicine's) that hold it."""
    zone = ZoneInfo(case.zone)
    windows = windows_around(case, day)
    blocked: dict[str, list[OracleWindow | None]] = {}
    for name, spec in case.meals_of_day(day).items():
        at = instant_of(day, spec.time, zone)
        why: list[OracleWindow | None] = [None] if spec.rich else []
        why += [w for w in windows if w.holds(at) and w.meal != (day, name)]
        if why:
            blocked[name] = why
    return blocked


def carries_magnesium_or_its_calcium(case: Case, reminder: Reminder) -> bool:
    paired = {case.calcium.id} if case.calcium is not None else set()
    return magnesium_ug(reminder) > 0 or item_ug(reminder, paired) > 0


# Consecutive days planned for each generated plan of the v2 invariants: a day costs a tenth of
# generating and checking a configuration, so the plans come mostly from here.
DAYS = 14


# ---------------------------------------------------------------------------- v2 invariants, over consecutive days


@settings(SETTINGS, max_examples=examples(750))
@given(cases())
def test_v2_invariants_hold_over_consecutive_days(case: Case) -> None:
    """SPEC §2 v2, stated directly, on each of DAYS consecutive days of a generated plan."""
    config = configure(case)
    # A calendar day a zone skips whole (Pacific/Apia, 2011-12-30) has no wall-clock time: its
    # plan's times all fall on the next day's first instant. Left out: no one takes a dose then.
    plans = [plan for plan in plan_days(config, case.date, DAYS) if day_exists(config.zone, plan.date)]
    event(f"plans: {len(plans)}")
    for plan in plans:
        no_magnesium_nor_its_calcium_inside_any_window(case, plan)
        every_meal_a_rule_keeps_from_magnesium_is_named_in_the_notes(case, plan)
        the_day_never_exceeds_its_target(case, plan)
    any_two_slow_release_reminders_keep_the_gap(case, plans)


def day_exists(zone: ZoneInfo, day: dt.date) -> bool:
    """Whether the day has any wall-clock time in the zone (its midnight is not the next one's)."""
    return wall_clock_instant(day, dt.time(0), zone) != wall_clock_instant(day + dt.timedelta(days=1), dt.time(0), zone)


def no_magnesium_nor_its_calcium_inside_any_window(case: Case, plan: DayPlan) -> None:
    """SPEC §2.3 v2: no magnesium (nor the calcium paired with it) is ever placed inside a window."""
    windows = windows_around(case, plan.date)
    for reminder in plan.reminders:
        if "@" in reminder.id or not carries_magnesium_or_its_calcium(case, reminder):
            continue  # a medicine's own reminder, or vitamins alone
        taken = dose_instant(case, reminder)
        inside = [w for w in windows if w.holds(taken)]
        assert not inside, (reminder.id, taken, inside)


def every_meal_a_rule_keeps_from_magnesium_is_named_in_the_notes(case: Case, plan: DayPlan) -> None:
    """SPEC §2 v2: a meal of the day that gets no magnesium because of a rule (phytate-rich, inside another
    meal's phytate window, inside a medicine's window) is named with that rule in the day's notes, even
    when nothing else is taken at it; and the notes name no other meal."""
    if not case.has_magnesium or case.target_mg(plan.date) <= 0:
        return
    blocked = blocked_meals(case, plan.date)
    named = {note.split(": no magnesium — ", 1)[0]: note for note in plan.notes if ": no magnesium — " in note}
    assert set(named) == set(blocked), (named, blocked)
    for name, why in blocked.items():
        for window in why:
            if window is None:
                assert "phytate-rich" in named[name], named[name]
            elif window.phytate:
                assert window.meal is not None and f"{window.meal[1]}'s phytate window" in named[name], named[name]
            else:
                assert f"{window.medicine} at " in named[name], named[name]
    for reminder in plan.reminders:  # and its own reminder carries none of it
        if not reminder.delayed and reminder.meal in blocked:
            assert not carries_magnesium_or_its_calcium(case, reminder), reminder


def the_day_never_exceeds_its_target(case: Case, plan: DayPlan) -> None:
    """SPEC §2.6: the day never exceeds T (§2.2, from the values written)."""
    target = case.target_mg(plan.date)
    assert Fraction(plan.magnesium_target_mg) == target
    assert ug(plan.magnesium_mg) <= target * 1000
    assert ug(plan.magnesium_mg) == sum(magnesium_ug(reminder) for reminder in plan.reminders)


def any_two_slow_release_reminders_keep_the_gap(case: Case, plans: list[DayPlan]) -> None:
    """SPEC §2.5 v2: any two reminders that carry slow-release magnesium, of one product or several, of one
    day or the next, are at least slow_release_gap apart (in real time)."""
    slow = case.slow_ids
    taken = sorted(
        (dose_instant(case, reminder), reminder.id)
        for plan in plans
        for reminder in plan.reminders
        if item_ug(reminder, slow) > 0
    )
    for (earlier, first), (later, second) in itertools.pairwise(taken):
        assert later - earlier >= case.slow_gap, (first, second, later - earlier)


# ---------------------------------------------------------------------------- properties of one day


@SETTINGS
@given(cases())
def test_the_day_reaches_its_target_within_a_step_or_says_why(case: Case) -> None:
    # SPEC §2.6: floor(R / step) steps are placed, so less than one step stays unplanned, unless
    # steps fit nowhere (max_dose_mg, blocked slots): then the day gets a warning that says why (v2).
    assume(case.splitting is not None)
    config = configure(case)
    splitting = config.splitting_supplement
    assert splitting is not None and splitting.mg_per_unit is not None
    step_ug = ug(splitting.step * splitting.mg_per_unit)
    plan = plan_day(config, case.date)
    short_ug = case.target_mg() * 1000 - ug(plan.magnesium_mg)
    reasons = [w for w in plan.warnings if w.startswith("target not reached: ")]
    if short_ug >= step_ug:
        (warning,) = reasons
        assert f"{number(plan.magnesium_mg)} of {number(float(case.target_mg()))} mg planned — " in warning
        assert "max_dose_mg" in warning or "no meal today can take magnesium" in warning, warning
    else:
        assert not reasons, (short_ug, plan.warnings)  # less than a step is rounding: "249 of 250 mg" only


def number(value: float) -> str:
    return f"{value:g}"


@SETTINGS
@given(cases())
def test_max_dose_binds_what_the_splitting_supplement_adds(case: Case) -> None:
    config = configure(case)
    plan = plan_day(config, case.date)
    fixed_or_slow = {f.id for f in case.fixed if f.magnesium} | {s.id for s in case.slow}
    for reminder in plan.reminders:
        base = item_ug(reminder, fixed_or_slow)
        split = item_ug(reminder, (case.splitting,)) if case.splitting else 0
        assert magnesium_ug(reminder) == base + split
        if magnesium_ug(reminder) > case.max_dose_ug:
            # Only fixed and slow-release doses, taken as configured, may pass the limit…
            assert base > case.max_dose_ug, reminder
            assert split == 0, reminder
        if base > case.max_dose_ug:
            # …and then the day says so (SPEC §2.6).
            assert any("max_dose_mg" in warning and reminder.meal in warning for warning in plan.warnings), (
                reminder,
                plan.warnings,
            )


@SETTINGS
@given(cases())
def test_only_blocked_meals_have_later_doses_and_move_keeps_only_fixed_ones(case: Case) -> None:
    config = configure(case)
    plan = plan_day(config, case.date)
    meals = case.meals_of_day()
    blocked = blocked_meals(case, case.date)
    fell_back = not case.delay and bool(meals) and set(blocked) == set(meals)
    fixed_magnesium = {f.id for f in case.fixed if f.magnesium}
    for reminder in plan.reminders:
        if "@" in reminder.id:
            continue
        if reminder.delayed:
            assert reminder.meal in blocked, reminder  # only a blocked meal's magnesium is taken later
            if not case.delay and not fell_back:
                # "move": the share goes to the other meals; only fixed magnesium of this meal is taken later.
                taken = {item.supplement.id for item in reminder.items if item.supplement.nutrient == "magnesium"}
                assert taken <= fixed_magnesium, reminder
    if fell_back and case.has_magnesium:
        assert any(warning.startswith("every meal today is ") for warning in plan.warnings), plan.warnings


@SETTINGS
@given(cases())
def test_slow_release_products_take_their_doses_as_configured(case: Case) -> None:
    config = configure(case)
    plan = plan_day(config, case.date)
    for slow in case.slow:
        taken = [reminder for reminder in plan.reminders if item_ug(reminder, (slow.id,)) > 0]
        assert len(taken) <= slow.doses
        for reminder in taken:
            (item,) = (item for item in reminder.items if item.supplement.id == slow.id)
            assert Fraction(item.units) == slow.units_per_dose


@SETTINGS
@given(cases())
def test_ids_are_unique_and_plans_stable(case: Case) -> None:
    config = configure(case)
    plan = plan_day(config, case.date)
    ids = [reminder.id for reminder in plan.reminders]
    assert len(ids) == len(set(ids))
    assert all(reminder.items for reminder in plan.reminders)  # a reminder for a slot that holds something
    for reminder in plan.reminders:
        if "@" not in reminder.id:
            assert reminder.id == f"{case.date.isoformat()}/{reminder.meal}" + ("+delay" if reminder.delayed else "")

    def instants(day_plan: DayPlan) -> list[tuple[str, dt.datetime]]:
        return [(reminder.id, utc(reminder.at)) for reminder in day_plan.reminders]

    again = plan_day(config, case.date)
    assert again == plan and instants(again) == instants(plan)
    reparsed = plan_day(config_from(case.text), case.date)
    assert reparsed == plan and instants(reparsed) == instants(plan)
    yesterday = case.date - dt.timedelta(days=1)
    ranged = plan_days(config, yesterday, 3)
    alone = [plan_day(config, yesterday + dt.timedelta(days=k)) for k in range(3)]
    assert ranged == alone
    assert [instants(day) for day in ranged] == [instants(day) for day in alone]


@settings(SETTINGS, max_examples=examples(600))
@given(cases(around_change=True))
def test_reminders_are_in_time_order(case: Case) -> None:
    # Days the clocks change, meals close to the change: a delayed reminder may land in the repeated
    # hour's second pass while a meal's reminder is in its first (one case in a hundred or so).
    config = configure(case)
    plan = plan_day(config, case.date)
    instants = [utc(reminder.at) for reminder in plan.reminders]
    assert instants == sorted(instants), [(reminder.id, reminder.at.isoformat()) for reminder in plan.reminders]


@SETTINGS
@given(cases())
def test_reminders_are_real_instants_at_the_meal_times_or_the_first_free_one_after(case: Case) -> None:
    config = configure(case)
    plan = plan_day(config, case.date)
    zone = ZoneInfo(case.zone)
    meals = case.meals_of_day()
    windows = windows_around(case, case.date)
    for reminder in plan.reminders:
        assert isinstance(reminder.at.tzinfo, ZoneInfo) and reminder.at.tzinfo.key == case.zone
        back = utc(reminder.at).astimezone(zone)
        assert (back.replace(tzinfo=None), back.utcoffset()) == (
            reminder.at.replace(tzinfo=None),
            reminder.at.utcoffset(),
        ), reminder
        if "@" in reminder.id:
            continue
        meal = meals[reminder.meal]
        expected = meal_instant(case.date, meal.time, zone)
        if reminder.delayed:
            # SPEC §2.3 v2: from the meal + phytate_gap (a phytate-rich meal; one held by windows only, from
            # the meal itself), the first instant that lies outside every window.
            free = instant_of(case.date, meal.time, zone) + (case.phytate_gap if meal.rich else dt.timedelta(0))
            holding = [w for w in windows if w.holds(free)]
            while holding:
                free = max(w.end for w in holding)
                holding = [w for w in windows if w.holds(free)]
            assert utc(reminder.at) <= free, (reminder, free)
            assert not [w for w in windows if w.holds(utc(reminder.at))], reminder
            assert utc(reminder.at) >= instant_of(case.date, meal.time, zone), reminder
            continue
        at_meal = utc(reminder.at) + case.lead
        if expected is not None:
            # The wall clock reads the meal time (its first occurrence when clocks fall back).
            assert at_meal == expected, (reminder, expected)
        else:
            # Clocks sprang over the meal time: the first instant after the gap.
            local = dt.datetime.combine(case.date, meal.time)
            assert wall(at_meal, zone) > local, reminder
            assert wall(at_meal - dt.timedelta(seconds=1), zone) < local, reminder


@SETTINGS
@given(cases())
def test_paired_calcium_is_the_nearest_step(case: Case) -> None:
    assume(case.calcium is not None)
    assert case.calcium is not None
    config = configure(case)
    plan = plan_day(config, case.date)
    calcium = case.calcium
    for reminder in plan.reminders:
        magnesium = Fraction(magnesium_ug(reminder), 1000)
        wanted_steps = calcium.ratio * magnesium / calcium.step_mg
        steps = int(wanted_steps)  # floor: both are non-negative
        if wanted_steps - steps > Fraction(1, 2):  # ties go to the lower amount
            steps += 1
        items = [item for item in reminder.items if item.supplement.id == calcium.id]
        if steps == 0:
            assert items == [], reminder
        else:
            (item,) = items
            assert Fraction(ug(item.mg), 1000) == steps * calcium.step_mg, (reminder, steps)
            assert abs(Fraction(item.units) - steps * calcium.step) < Fraction(1, 10**6)


@SETTINGS
@given(cases())
def test_fixed_supplements_of_other_nutrients_stay_at_their_meals(case: Case) -> None:
    config = configure(case)
    plan = plan_day(config, case.date)
    by_slot = {(reminder.meal, reminder.delayed): reminder for reminder in plan.reminders}
    for fixed in case.fixed:
        if fixed.magnesium:
            continue
        for name in fixed.with_meals:
            if name in case.meals_of_day():
                (item,) = (item for item in by_slot[name, False].items if item.supplement.id == fixed.id)
                assert Fraction(item.units) == fixed.units


# ---------------------------------------------------------------------------- a worked example


def test_reminders_in_the_repeated_hour_are_in_real_time_order() -> None:
    """New York, 2026-11-01: at 02:00 EDT (06:00 UTC) clocks go back to 01:00 EST.

    snack at 00:40: 00:40 EDT = 04:40 UTC, before lunch (outside its phytate window).
    lunch (oat bran, phytate-rich) at 00:50 EDT = 04:50 UTC, delayed 1h30m → 06:20 UTC = 01:20 EST
    (the second 01:20 of the day). dinner at 01:50: its first occurrence, 01:50 EDT = 05:50 UTC, inside
    lunch's window [04:50, 06:20) → blocked ("delay": its dose goes to 06:20 UTC, the window's end).
    Magnesium 300 mg in 100 mg steps, at most 100 mg a reminder: one step each to the snack (04:40),
    lunch+delay and dinner+delay (both 06:20 UTC). In real time the snack comes first, although its wall
    clock (00:40) reads later than neither; lunch+delay (01:20 EST) comes after the snack (00:40 EDT).
    """
    config = config_from(
        timezone("America/New_York")
        + meal("snack", "00:40")
        + meal("lunch", "00:50", foods=("oat bran",))
        + meal("dinner", "01:50")
        + citrate(100)
        + magnesium(300, max_dose_mg="100", phytate='"delay"', phytate_gap='"1h30m"')
    )
    plan = plan_day(config, dt.date(2026, 11, 1))
    assert [(reminder.id, utc(reminder.at), reminder.magnesium_mg) for reminder in plan.reminders] == [
        ("2026-11-01/snack", dt.datetime(2026, 11, 1, 4, 40, tzinfo=UTC), 100),
        ("2026-11-01/lunch+delay", dt.datetime(2026, 11, 1, 6, 20, tzinfo=UTC), 100),
        ("2026-11-01/dinner+delay", dt.datetime(2026, 11, 1, 6, 20, tzinfo=UTC), 100),
    ]
    assert plan.reminders[1].at.strftime("%H:%M %Z") == "01:20 EST"


# ---------------------------------------------------------------------------- wall-clock instants, fast and exact

ALL_ZONES = sorted(zoneinfo.available_timezones())


@settings(max_examples=3000, deadline=None)
@given(
    zone=st.sampled_from(ALL_ZONES),
    day=st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
    time=st.times(),
)
def test_the_fast_wall_clock_instant_is_the_exact_one(zone: str, day: dt.date, time: dt.time) -> None:
    """wall_clock_instant takes a day's one UTC offset when the clocks do not change that day;
    in every zone of the system's database, on any day, it is what the exact search gives."""
    assert wall_clock_instant(day, time, ZoneInfo(zone)) == exact_wall_clock_instant(day, time, ZoneInfo(zone))
