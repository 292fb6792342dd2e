"""The data every layer shares: the validated plan (Config and its parts) and the day plans.

Imports nothing of mgremind's: config/ builds these, plan.py fills a DayPlan from them, and
history, render, state and the daemon read them. Everything here is immutable and pure.

Records are `typing.NamedTuple`s, not dataclasses: the commands people type (`next`, `taken`,
`plan`, `check`) build all of them at every start, and a frozen dataclass costs ~0.5 ms to
create (its methods are compiled from source) on top of ~6 ms to import `dataclasses` and
`inspect`, while a NamedTuple costs ~0.07 ms and `typing` is imported by tomllib anyway.
"""

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))
# The years a plan can be about: far enough from date.min and date.max that a day before or
# N days after, in any zone, still exist.
FIRST_YEAR, LAST_YEAR = 1900, 9000


# ---------------------------------------------------------------------------- problems


class Problem(NamedTuple):
    """One error or warning about the configuration, at a key path ("" for the whole file)."""

    key: str
    message: str

    def render(self, source: str) -> str:
        line = f"{source}: {self.key}: {self.message}" if self.key else f"{source}: {self.message}"
        return printable(line)


class ConfigError(Exception):
    """Every problem found in one configuration file."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [problem.render(self.source) for problem in self.problems]


class StateError(Exception):
    """The state file cannot be used; the message says which file, why, and what to do."""


def printable(text: str) -> str:
    """Control characters and line breaks a value may carry, escaped: one problem, one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


# ---------------------------------------------------------------------------- the plan file


class Form(NamedTuple):
    """A compound a mineral is sold as, with the share of it that is the element itself."""

    name: str
    compound: str
    elemental_fraction: float
    note: str
    source: str


class Meal(NamedTuple):
    name: str
    time: dt.time
    days: frozenset[int]  # 0 = Monday, as date.weekday()
    foods: tuple[str, ...]
    phytate_rich: bool
    # Why the meal is phytate-rich: the foods that matched the list, or () when set explicitly.
    phytate_foods: tuple[str, ...]
    key: str  # "meal[0]", for messages


class Supplement(NamedTuple):
    id: str
    name: str
    nutrient: str  # "magnesium", "calcium" (always lower case), or as written: "vitamin D", …
    form: Form | None
    unit: str
    mg_per_unit: float | None  # elemental mg (magnesium, calcium) or as on the label
    release: str  # "immediate" or "slow"
    step: float
    doses_per_day: int
    units_per_dose: float
    with_meals: tuple[str, ...]
    units: float | None
    key: str  # "supplement[0]", for messages
    stock: float | None = None  # units on hand at the start of stock_date
    stock_date: dt.date | None = None
    refill_days: int = 7  # warn when fewer days of supply remain
    keep_refrigerated: bool = False  # liquid magnesium chloride (SEED): the reader decides
    compound_mg_per_unit: float | None = None  # mg of the compound (form) a unit, when the plan gives it

    @property
    def is_magnesium(self) -> bool:
        return self.nutrient == "magnesium"

    @property
    def is_calcium(self) -> bool:
        return self.nutrient == "calcium"

    @property
    def is_fixed(self) -> bool:
        return bool(self.with_meals)

    @property
    def is_slow_magnesium(self) -> bool:
        return self.is_magnesium and self.release == "slow" and not self.is_fixed


class Notify(NamedTuple):
    urls: tuple[str, ...]
    config: Path | None
    urls_file: Path | None
    console: bool
    title: str
    caregiver_urls: tuple[str, ...] = ()  # told once about missed doses in a row

    @property
    def console_only(self) -> bool:
        """Reminders go to standard output and nowhere else: no URL, file or apprise config to check."""
        return self.console and not (self.urls or self.config or self.urls_file or self.caregiver_urls)


class Reminders(NamedTuple):
    lead: dt.timedelta
    catch_up: dt.timedelta
    retry_for: dt.timedelta
    repeat: dt.timedelta = dt.timedelta(minutes=15)  # repeat an unacknowledged reminder this often…
    repeat_max: int = 0  # …at most this many times
    escalate_after: int = 0  # this many missed in a row → the caregiver channels (0: never)


class Magnesium(NamedTuple):
    daily_mg: float | None
    max_dose_mg: float
    slow_release_gap: dt.timedelta
    phytate: str  # "move" or "delay"
    phytate_gap: dt.timedelta
    phytate_foods: tuple[str, ...]
    calcium_ratio: float


class KeepApart(NamedTuple):
    """A medicine magnesium binds in the gut: no magnesium from `before` it until `after` it (SPEC §7)."""

    name: str
    times: tuple[dt.time, ...]  # exactly one of times, with_meals, supplement
    with_meals: tuple[str, ...]
    supplement: str | None
    days: frozenset[int]
    before: dt.timedelta
    after: dt.timedelta
    remind: bool
    source: str  # where before/after come from: "configured", "LABEL: levothyroxine", …
    key: str

    @property
    def as_supplement(self) -> Supplement:
        """The medicine as an item of its own reminders (remind = true)."""
        return Supplement(
            self.name, self.name, "medicine", None, "dose", None, "immediate", 1.0, 1, 1.0, (), 1.0, self.key
        )


class Titration(NamedTuple):
    start: dt.date
    start_mg: float
    step_mg: float
    every_days: int
    hold_days: int = 3  # after a reported symptom, hold the lowered amount this long


class ConfigFields(NamedTuple):
    source: str  # the file as the user named it, for messages
    timezone: str
    zone: ZoneInfo
    notify: Notify
    reminders: Reminders
    meals: tuple[Meal, ...]
    supplements: tuple[Supplement, ...]
    magnesium: Magnesium
    titration: Titration | None
    warnings: tuple[Problem, ...]
    keep_apart: tuple[KeepApart, ...] = ()


class Config(ConfigFields):
    """The validated plan file. Its fields are a NamedTuple's; what is derived from them is
    worked out once per configuration (the planner asks for it every day it plans)."""

    @cached_property
    def splitting_supplement(self) -> Supplement | None:
        """The one immediate-release magnesium without `with`: it takes the small doses."""
        return next(
            (s for s in self.supplements if s.is_magnesium and s.release == "immediate" and not s.is_fixed), None
        )

    @cached_property
    def paired_calcium(self) -> Supplement | None:
        """The calcium supplement without `with`, paired with each magnesium dose."""
        if self.magnesium.calcium_ratio <= 0:
            return None
        return next((s for s in self.supplements if s.is_calcium and not s.is_fixed), None)

    @cached_property
    def meals_by_weekday(self) -> tuple[tuple[Meal, ...], ...]:
        """The meals of each weekday (0 = Monday) in time order; config order breaks ties."""
        return tuple(
            tuple(sorted((meal for meal in self.meals if weekday in meal.days), key=lambda meal: meal.time))
            for weekday in range(7)
        )

    @cached_property
    def supplement_index(self) -> dict[str, int]:
        """Each supplement's position by id: the order items are listed in a reminder."""
        return {supplement.id: index for index, supplement in enumerate(self.supplements)}

    @cached_property
    def has_magnesium(self) -> bool:
        return any(s.is_magnesium for s in self.supplements)


# ---------------------------------------------------------------------------- a day's plan


class Item(NamedTuple):
    """An amount of one supplement in one reminder."""

    supplement: Supplement
    units: float
    mg: float | None  # elemental mg for magnesium and calcium; label mg for others when known


class Reminder(NamedTuple):
    id: str  # DATE/MEAL or DATE/MEAL+delay: stable, the daemon keys its state on it
    at: dt.datetime  # aware, in the configured zone
    meal: str
    delayed: bool
    items: tuple[Item, ...]
    notes: tuple[str, ...]

    @property
    def magnesium_mg(self) -> float:
        # Summed in whole micrograms, as the planner counts: 0.1 + 0.2 mg must not print 0.30000000000000004.
        return round(sum(round((item.mg or 0) * 1000) for item in self.items if item.supplement.is_magnesium) / 1000, 3)

    @property
    def instant(self) -> dt.datetime:
        """`at` in UTC: sort and compare by this. Python compares two datetimes of one zone by
        their wall clocks, so in a fall-back hour 01:15 EST would come before 01:30 EDT."""
        return self.at.astimezone(UTC)


class DayPlan(NamedTuple):
    date: dt.date
    magnesium_target_mg: float
    target_note: str  # why the target is what it is, when titration sets it ("" otherwise)
    magnesium_mg: float
    calcium_mg: float
    reminders: tuple[Reminder, ...]
    warnings: tuple[str, ...]
    # Why the day is as it is (SPEC §2 v2): the target's reason, then each meal a rule keeps from magnesium.
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- durations as people read them


def format_duration(duration: dt.timedelta) -> str:
    """timedelta → "8h", "1h30m", "90s": the config's own duration strings."""
    seconds = int(duration.total_seconds())
    if seconds == 0:
        return "0m"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def hours_text(duration: dt.timedelta) -> str:
    """4 h, 1 h 30 min, 45 min."""
    hours, minutes = divmod(int(duration.total_seconds()) // 60, 60)
    return (
        " ".join(part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part)
        or "0 min"
    )
