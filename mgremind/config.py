"""TOML → typed, validated configuration.

`parse_config` is pure: a parsed TOML document in, a `Config` or a `ConfigError` listing
every problem (with its key path) out. `load_config` and `find_config` are the thin I/O
around it. Values of the [notify] table are never echoed in a message: they may hold secrets.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mgremind import reference
from mgremind.reference import Form

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

T = TypeVar("T")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))

# Reminder ids are DATE/MEAL, DATE/MEAL+delay: these characters would make them ambiguous.
_RESERVED_IN_NAMES = re.compile(r"[/+@\x00-\x1f\x7f]")
_SUPPLEMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_DURATION = re.compile(r"(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?\Z")
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\Z")
_APPRISE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Meal:
    name: str
    time: dt.time
    days: frozenset[int]  # 0 = Monday, as date.weekday()
    foods: tuple[str, ...]
    phytate_rich: bool
    # Why the meal is phytate-rich: the foods that matched the list, or () when set explicitly.
    phytate_foods: tuple[str, ...]
    key: str  # "meal[0]", for messages


@dataclass(frozen=True)
class Supplement:
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

    @property
    def is_liquid(self) -> bool:
        return self.unit.lower() in reference.LIQUID_UNITS

    @cached_property
    def keep_refrigerated(self) -> bool:
        """Liquid magnesium chloride must be kept refrigerated (SEED)."""
        return self.is_magnesium and self.form is not None and self.form.name == "chloride" and self.is_liquid


@dataclass(frozen=True)
class Notify:
    urls: tuple[str, ...]
    config: Path | None
    urls_file: Path | None
    console: bool
    title: str
    caregiver_urls: tuple[str, ...] = ()  # told once about missed doses in a row


@dataclass(frozen=True)
class Reminders:
    lead: dt.timedelta
    catch_up: dt.timedelta
    retry_for: dt.timedelta
    repeat: dt.timedelta = dt.timedelta(minutes=15)  # repeat an unacknowledged reminder this often…
    repeat_max: int = 0  # …at most this many times
    escalate_after: int = 0  # this many missed in a row → the caregiver channels (0: never)


@dataclass(frozen=True)
class Magnesium:
    daily_mg: float | None
    max_dose_mg: float
    slow_release_gap: dt.timedelta
    phytate: str  # "move" or "delay"
    phytate_gap: dt.timedelta
    phytate_foods: tuple[str, ...]
    calcium_ratio: float


@dataclass(frozen=True)
class KeepApart:
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

    @cached_property
    def as_supplement(self) -> Supplement:
        """The medicine as an item of its own reminders (remind = true)."""
        return Supplement(
            self.name, self.name, "medicine", None, "dose", None, "immediate", 1.0, 1, 1.0, (), 1.0, self.key
        )

    @property
    def spacing(self) -> str:
        """ "keep 4 h apart", "keep 6 h before and 2 h after"."""
        before, after = _hours(self.before), _hours(self.after)
        return f"keep {before} apart" if before == after else f"keep {before} before and {after} after"


def _hours(duration: dt.timedelta) -> str:
    """4 h, 1 h 30 min, 45 min."""
    hours, minutes = divmod(int(duration.total_seconds()) // 60, 60)
    return (
        " ".join(part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part)
        or "0 min"
    )


@dataclass(frozen=True)
class Titration:
    start: dt.date
    start_mg: float
    step_mg: float
    every_days: int
    hold_days: int = 3  # after a reported symptom, hold the lowered amount this long


@dataclass(frozen=True)
class Problem:
    """One error or warning about the configuration, at a key path ("" for the whole file)."""

    key: str
    message: str

    def render(self, source: str) -> str:
        line = f"{source}: {self.key}: {self.message}" if self.key else f"{source}: {self.message}"
        return printable(line)


def printable(text: str) -> str:
    """Control characters and line breaks a value may carry, escaped: one problem, one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


@dataclass(frozen=True)
class Config:
    source: str  # the file as the user named it, for messages
    timezone: str
    zone: ZoneInfo = field(compare=False)
    notify: Notify
    reminders: Reminders
    meals: tuple[Meal, ...]
    supplements: tuple[Supplement, ...]
    magnesium: Magnesium
    titration: Titration | None
    warnings: tuple[Problem, ...]
    keep_apart: tuple[KeepApart, ...] = ()

    # Derived once per configuration (the planner asks for them every day it plans).

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


class ConfigError(Exception):
    """Every problem found in one configuration file."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [problem.render(self.source) for problem in self.problems]


# ---------------------------------------------------------------------------- value parsers


class Invalid(ValueError):
    """A value is wrong; the message says how, without the key path."""


def _type_name(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
        dt.date: "a date",
        dt.time: "a time",
        dt.datetime: "a date-time",
    }
    return names.get(type(value), type(value).__name__)


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {_type_name(value)}")
    if not value.strip():
        raise Invalid("must not be empty")
    return value.strip()


def _apprise_url(value: object) -> str:
    url = _string(value)
    if not _APPRISE_URL.match(url):
        raise Invalid("is not an apprise URL (expected SCHEME://…, e.g. ntfy://topic)")
    return url


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {_type_name(value)}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"must be a number, not {_type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Invalid("must be a finite number")
    if abs(value) > 1e9:  # an int of any size compares with a float exactly, without overflow
        raise Invalid(f"{value} is too large")
    return float(value)


def _positive(value: object) -> float:
    number = _number(value)
    if number <= 0:
        raise Invalid(f"must be greater than 0, not {value}")
    return number


def _non_negative(value: object) -> float:
    number = _number(value)
    if number < 0:
        raise Invalid(f"must not be negative, not {value}")
    return number


def _count(value: object) -> int:
    """A whole number, 0 allowed (0 means "never" for repeat_max and escalate_after)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be a whole number, not {_type_name(value)}")
    if not 0 <= value <= 1000:
        raise Invalid(f"must be between 0 and 1000, not {value}")
    return value


def _positive_integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be a whole number, not {_type_name(value)}")
    if not 1 <= value <= 10_000:
        raise Invalid(f"must be between 1 and 10000, not {value}")
    return value


def parse_duration(value: object) -> dt.timedelta:
    """ "90s", "15m", "2h", "1h30m", "3d" → timedelta."""
    if not isinstance(value, str):
        raise Invalid(f'must be a duration string like "15m" or "1h30m", not {_type_name(value)}')
    match = _DURATION.match(value.strip())
    if not value.strip() or match is None:
        raise Invalid(f'"{value}" is not a duration (e.g. "90s", "15m", "2h", "1h30m", "3d")')
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if max(days, hours, minutes, seconds) > 100_000:
        raise Invalid(f'"{value}" is too long')
    return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _positive_duration(value: object) -> dt.timedelta:
    duration = parse_duration(value)
    if duration <= dt.timedelta(0):
        raise Invalid(f'must be longer than 0, not "{value}"')
    return duration


def _day_duration(value: object) -> dt.timedelta:
    """A duration within a day: lead times and gaps after a meal."""
    duration = parse_duration(value)
    if duration >= dt.timedelta(days=1):
        raise Invalid(f'"{value}" is a day or longer; it must be shorter than 24h')
    return duration


def _time_of_day(value: object) -> dt.time:
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise Invalid("must be a local time of day, without a UTC offset")
        return value.replace(microsecond=0)
    if not isinstance(value, str):
        raise Invalid(f'must be a time of day like "07:30", not {_type_name(value)}')
    match = _TIME_OF_DAY.match(value.strip())
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise Invalid(f'"{value}" is not a time of day (HH:MM)')


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        raise Invalid(f"must be a TOML date without quotes, e.g. start = {value.strip() or '2026-11-20'}")
    raise Invalid(f"must be a date like 2026-11-20, not {_type_name(value)}")


def _choice(*choices: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = _string(value)
        if text.lower() not in choices:
            options = " or ".join(f'"{choice}"' for choice in choices)
            raise Invalid(f'"{text}" is not one of {options}{_suggestion(text.lower(), choices)}')
        return text.lower()

    return parse


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    import difflib  # only on the error path: keeps start-up fast

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{matches[0]}"?)' if matches else ""


# ---------------------------------------------------------------------------- reading tables


def _key_path(parent: str, key: str) -> str:
    if "://" in key:  # a URL written as a key (a slip in [notify]) may hold a secret: never echo it
        key = "<a URL>"
    name = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'
    return f"{parent}.{name}" if parent else name


class _Problems:
    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append(Problem(key, message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Problem(key, message))


class _Table:
    """One TOML table being read: typed getters that record errors, then unknown keys."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: _Problems) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.read: set[str] = set()

    def key(self, name: str) -> str:
        return _key_path(self.path, name)

    def has(self, name: str) -> bool:
        self.read.add(name)  # a key asked about is a known key, for "did you mean"
        return name in self.data

    def get(self, name: str, parse: Callable[[object], T], default: T) -> T:
        """The value of `name` parsed, `default` when absent or invalid (the error is recorded)."""
        self.read.add(name)
        if name not in self.data:
            return default
        try:
            return parse(self.data[name])
        except Invalid as problem:
            self.problems.error(self.key(name), str(problem))
            return default

    def require(self, name: str, parse: Callable[[object], T], placeholder: T, why: str = "") -> T:
        if name not in self.data:
            self.read.add(name)
            self.problems.error(self.key(name), f"is required{why}")
            return placeholder
        return self.get(name, parse, placeholder)

    def get_list(self, name: str, parse: Callable[[object], T], default: tuple[T, ...]) -> tuple[T, ...]:
        """An array whose items are each parsed; errors name the item's index."""
        self.read.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        if not isinstance(value, list):
            self.problems.error(self.key(name), f"must be an array, not {_type_name(value)}")
            return default
        items: list[T] = []
        for index, item in enumerate(value):
            try:
                items.append(parse(item))
            except Invalid as problem:
                self.problems.error(f"{self.key(name)}[{index}]", str(problem))
        return tuple(items)

    def finish(self) -> None:
        """Unknown keys are errors: a typo must never be silently ignored."""
        allowed = sorted(self.read)
        for name in self.data:
            if name not in self.read:
                hint = _suggestion(name.lower(), allowed)
                self.problems.error(self.key(name), f"unknown key{hint}")


def _sub_table(parent: _Table, name: str) -> _Table:
    """The table `name` of `parent` (empty when absent, or when it is not a table)."""
    parent.read.add(name)
    value = parent.data.get(name, {})
    if not isinstance(value, dict):
        parent.problems.error(parent.key(name), f"must be a table ([{name}]), not {_type_name(value)}")
        value = {}
    return _Table(value, parent.key(name), parent.problems)


def _array_of_tables(parent: _Table, name: str) -> list[_Table]:
    parent.read.add(name)
    value = parent.data.get(name, [])
    if not isinstance(value, list):
        parent.problems.error(parent.key(name), f"must be an array of tables ([[{name}]]), not {_type_name(value)}")
        return []
    tables = []
    for index, item in enumerate(value):
        key = f"{parent.key(name)}[{index}]"
        if isinstance(item, dict):
            tables.append(_Table(item, key, parent.problems))
        else:
            parent.problems.error(key, f"must be a table, not {_type_name(item)}")
    return tables


# ---------------------------------------------------------------------------- sections


def _weekday(value: object) -> int:
    text = _string(value).lower()
    if text in WEEKDAYS:
        return WEEKDAYS.index(text)
    for index in range(7):  # "monday", "Tuesday"…
        if len(text) > 3 and dt.date(2024, 1, 1 + index).strftime("%A").lower() == text:
            return index
    raise Invalid(f'"{text}" is not a day of the week (mon, tue, wed, thu, fri, sat, sun){_suggestion(text, WEEKDAYS)}')


def _meal_name(value: object) -> str:
    name = _string(value)
    if _RESERVED_IN_NAMES.search(name) or not name.isprintable():
        raise Invalid(f'"{name}" must not contain "/", "+", "@" or control characters (they separate reminder ids)')
    return name


def phytate_matcher(foods: Iterable[str]) -> re.Pattern[str]:
    """Matches a list entry as whole words, case-insensitive, plural "s"/"es" allowed."""
    entries = sorted({food.strip().lower() for food in foods if food.strip()}, key=len, reverse=True)
    alternatives = "|".join(r"[\s-]+".join(map(re.escape, entry.split())) for entry in entries)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?:e?s)?(?!\w)", re.IGNORECASE)


def _read_meal(table: _Table, matcher: re.Pattern[str]) -> Meal:
    name = table.require("name", _meal_name, "?")
    time = table.require("time", _time_of_day, dt.time(0))
    days = frozenset(table.get_list("days", _weekday, tuple(ALL_DAYS)))
    if table.has("days") and not days and isinstance(table.data["days"], list) and not table.data["days"]:
        table.problems.error(table.key("days"), "must name at least one day")
    foods = table.get_list("foods", _string, ())
    explicit = table.get("phytate", _boolean, None)
    matched = tuple(food for food in foods if matcher.search(food))
    rich = explicit if explicit is not None else bool(matched)
    table.finish()
    return Meal(name, time, days, foods, rich, matched if explicit is None else (), table.path)


def _read_supplement(table: _Table) -> Supplement:
    sid = table.require("id", _string, "?")
    if sid != "?" and not _SUPPLEMENT_ID.match(sid):
        table.problems.error(
            table.key("id"), f'"{sid}" must be letters, digits, "_", "-" or "." (it is typed on the command line)'
        )
    name = table.get("name", _string, sid)
    nutrient = " ".join(table.require("nutrient", _string, "?").split())
    if nutrient.lower() in ("magnesium", "calcium"):
        nutrient = nutrient.lower()  # the two the planner knows; others keep the user's spelling
    unit = table.require("unit", _string, "unit")
    release = table.get("release", _choice("immediate", "slow"), "immediate")
    step = table.get("step", _positive, 1.0)
    mineral = nutrient in reference.FORMS_BY_NUTRIENT

    form: Form | None = None
    form_name = table.get("form", _string, None)
    if form_name is not None:
        form = reference.find_form(nutrient, form_name)
        if form is None and mineral:
            known = sorted(reference.FORMS_BY_NUTRIENT[nutrient])
            table.problems.warn(
                table.key("form"),
                f'"{form_name}" is not a known {nutrient} form, so it adds no notes'
                f"{_suggestion(form_name.lower(), known)}; known: {', '.join(known)}",
            )

    mg_per_unit = table.get("mg_per_unit", _positive, None)
    if table.has("compound_mg_per_unit"):
        compound = table.get("compound_mg_per_unit", _positive, None)
        if table.has("mg_per_unit"):
            table.problems.error(
                table.key("compound_mg_per_unit"), "give either mg_per_unit or compound_mg_per_unit, not both"
            )
        elif form is None:
            table.problems.error(
                table.key("compound_mg_per_unit"),
                'needs a known form (e.g. form = "citrate") to convert to elemental mg; or give mg_per_unit',
            )
        elif compound is not None:
            mg_per_unit = round(compound * form.elemental_fraction, 3)
    if mineral and mg_per_unit is None and not table.has("mg_per_unit") and not table.has("compound_mg_per_unit"):
        table.problems.error(
            table.key("mg_per_unit"), f"is required for {nutrient} (elemental mg per {unit}, as on the label)"
        )

    slow_only = ("doses_per_day", "units_per_dose")
    doses_per_day = table.get("doses_per_day", _positive_integer, 2)
    units_per_dose = table.get("units_per_dose", _positive, 1.0)
    if release != "slow":
        for name_ in slow_only:
            if table.has(name_):
                table.problems.error(table.key(name_), 'only applies to a slow-release supplement (release = "slow")')

    with_meals = tuple(dict.fromkeys(table.get_list("with", _meal_name, ())))  # a meal named twice counts once
    units = table.get("units", _positive, None)
    if table.has("with") and not table.has("units"):
        table.problems.error(
            table.key("units"), 'is required with "with": how many units to take with each of those meals'
        )
    if table.has("units") and not table.has("with"):
        table.problems.error(table.key("with"), 'is required with "units": the meals to take them with')
    if table.has("with") and isinstance(table.data["with"], list) and not table.data["with"]:
        table.problems.error(table.key("with"), "must name at least one meal")
    stock = table.get("stock", _non_negative, None)
    stock_date = table.get("stock_date", _date, None)
    refill_days = table.get("refill_days", _positive_integer, 7)
    if table.has("stock") != table.has("stock_date"):
        missing, given = ("stock_date", "stock") if table.has("stock") else ("stock", "stock_date")
        table.problems.error(table.key(missing), f'is required with "{given}": the count and the day it was taken')
    table.finish()
    return Supplement(
        sid,
        name,
        nutrient,
        form,
        unit,
        mg_per_unit,
        release,
        step,
        doses_per_day,
        units_per_dose,
        with_meals,
        units,
        table.path,
        stock,
        stock_date,
        refill_days,
    )


def _read_notify(table: _Table, base_dir: Path) -> Notify:
    def path(value: object) -> Path:
        return base_dir / _string(value)

    urls = table.get_list("urls", _apprise_url, ())
    config = table.get("config", path, None)
    urls_file = table.get("urls_file", path, None)
    console = table.get("console", _boolean, not (urls or config or urls_file))
    title = table.get("title", _string, "Magnesium")
    caregiver_urls = table.get_list("caregiver_urls", _apprise_url, ())
    table.finish()
    return Notify(urls, config, urls_file, console, title, caregiver_urls)


def _read_reminders(table: _Table) -> Reminders:
    reminders = Reminders(
        lead=table.get("lead", _day_duration, dt.timedelta(0)),
        catch_up=table.get("catch_up", parse_duration, dt.timedelta(hours=2)),
        retry_for=table.get("retry_for", parse_duration, dt.timedelta(minutes=30)),
        repeat=table.get("repeat", _positive_duration, dt.timedelta(minutes=15)),
        repeat_max=table.get("repeat_max", _count, 0),
        escalate_after=table.get("escalate_after", _count, 0),
    )
    table.finish()
    return reminders


def _read_magnesium(table: _Table, needs_daily: Supplement | None) -> Magnesium:
    if needs_daily is not None:
        daily_mg: float | None = table.require(
            "daily_mg", _positive, None, f" when a magnesium supplement is configured ({needs_daily.key})"
        )
    else:
        daily_mg = table.get("daily_mg", _positive, None)
    magnesium = Magnesium(
        daily_mg=daily_mg,
        max_dose_mg=table.get("max_dose_mg", _positive, 200.0),
        slow_release_gap=table.get("slow_release_gap", _positive_duration, dt.timedelta(hours=8)),
        phytate=table.get("phytate", _choice("move", "delay"), "move"),
        phytate_gap=table.get("phytate_gap", _day_duration, dt.timedelta(hours=2)),
        phytate_foods=tuple(food.lower() for food in table.get_list("phytate_foods", _string, ())),
        calcium_ratio=table.get("calcium_ratio", _non_negative, 0.0),
    )
    table.finish()
    return magnesium


def _read_keep_apart(table: _Table, meals: Sequence[Meal], supplements: Sequence[Supplement]) -> KeepApart:
    name = table.require("name", _meal_name, "?")
    times = tuple(dict.fromkeys(table.get_list("times", _time_of_day, ())))  # a time twice is one dose
    with_meals = tuple(dict.fromkeys(table.get_list("with", _meal_name, ())))
    supplement = table.get("supplement", _string, None)
    given = [key for key in ("times", "with", "supplement") if table.has(key)]
    if len(given) != 1:
        what = "none" if not given else " and ".join(given)
        table.problems.error(table.path, f'give exactly one of "times", "with" or "supplement" (it has {what})')
    for key in ("times", "with"):
        if table.has(key) and isinstance(table.data[key], list) and not table.data[key]:
            table.problems.error(table.key(key), "must not be empty")
    meal_names = sorted({meal.name for meal in meals})
    for index, meal in enumerate(with_meals):
        if meal not in meal_names:
            table.problems.error(
                f"{table.key('with')}[{index}]", f'no meal named "{meal}"{_suggestion(meal, meal_names)}'
            )
    if supplement is not None:
        found = next((s for s in supplements if s.id == supplement), None)
        if found is None:
            ids = [s.id for s in supplements]
            table.problems.error(table.key("supplement"), f'no supplement "{supplement}"{_suggestion(supplement, ids)}')
        elif found.is_magnesium or not found.is_fixed:
            table.problems.error(
                table.key("supplement"),
                f'"{supplement}" must be a supplement taken with meals ("with"/"units") that is not magnesium',
            )
    days = frozenset(table.get_list("days", _weekday, tuple(ALL_DAYS)))
    if table.has("days") and isinstance(table.data["days"], list) and not table.data["days"]:
        table.problems.error(table.key("days"), "must name at least one day")
    interval = reference.find_interval(name)
    default = dt.timedelta(hours=interval.before_hours if interval else reference.DEFAULT_INTERVAL_HOURS)
    before = table.get("before", _day_duration, default)
    default = dt.timedelta(hours=interval.after_hours if interval else reference.DEFAULT_INTERVAL_HOURS)
    after = table.get("after", _day_duration, default)
    remind = table.get("remind", _boolean, False)
    if remind and supplement is not None:
        table.problems.error(
            table.key("remind"), f'"{supplement}" is a supplement of this plan: it has reminders already'
        )
    if table.has("before") and table.has("after"):
        source = "configured"
    elif interval is not None:
        source = f"{interval.source}: {interval.label}" + (
            " (one side configured)" if table.has("before") or table.has("after") else ""
        )
    else:
        source = reference.DEFAULT_INTERVAL_SOURCE
    table.finish()
    return KeepApart(name, times, with_meals, supplement, days, before, after, remind, source, table.path)


def _read_titration(table: _Table) -> Titration:
    titration = Titration(
        start=table.require("start", _date, dt.date(2000, 1, 1)),
        start_mg=table.require("start_mg", _non_negative, 0.0),
        step_mg=table.require("step_mg", _positive, 1.0),
        every_days=table.require("every_days", _positive_integer, 1),
        hold_days=table.get("hold_days", _positive_integer, 3),
    )
    table.finish()
    return titration


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(f'"{name}" is not a known IANA time zone (e.g. "Europe/Berlin", "America/New_York")') from None


# ---------------------------------------------------------------------------- cross-checks


def _check_meals(meals: Sequence[Meal], problems: _Problems) -> None:
    seen: dict[str, list[Meal]] = {}
    for meal in meals:
        for earlier in seen.get(meal.name, []):
            overlap = meal.days & earlier.days
            if overlap:
                days = ", ".join(WEEKDAYS[day] for day in sorted(overlap))
                problems.error(
                    f"{meal.key}.days",
                    f'"{meal.name}" is already on {days} ({earlier.key}); the days of one meal name must not overlap',
                )
        seen.setdefault(meal.name, []).append(meal)


def _check_supplements(
    supplements: Sequence[Supplement], meals: Sequence[Meal], magnesium: Magnesium, problems: _Problems
) -> None:
    ids: dict[str, Supplement] = {}
    meal_names = sorted({meal.name for meal in meals})
    splitting: Supplement | None = None
    paired: Supplement | None = None
    for supplement in supplements:
        if supplement.id in ids:
            problems.error(f"{supplement.key}.id", f'duplicate id "{supplement.id}" (also {ids[supplement.id].key})')
        ids.setdefault(supplement.id, supplement)
        for index, meal in enumerate(supplement.with_meals):
            if meal not in meal_names:
                problems.error(
                    f"{supplement.key}.with[{index}]", f'no meal named "{meal}"{_suggestion(meal, meal_names)}'
                )
        if supplement.is_fixed:
            continue
        if supplement.is_magnesium and supplement.release == "immediate":
            if splitting is not None:
                problems.error(
                    supplement.key,
                    f'a second immediate-release magnesium without "with" ({splitting.key} '
                    'already takes the small doses at each meal); give this one "with" and "units"',
                )
            splitting = splitting or supplement
            _check_step_count(supplement, magnesium, problems)
        elif supplement.is_slow_magnesium:
            pass
        elif supplement.is_calcium and magnesium.calcium_ratio > 0:
            if paired is not None:
                problems.error(
                    supplement.key,
                    f'a second calcium without "with" ({paired.key} is already paired '
                    'with magnesium); give this one "with" and "units"',
                )
            paired = paired or supplement
        else:
            why = (
                "a calcium supplement is placed by magnesium.calcium_ratio > 0, or by " if supplement.is_calcium else ""
            )
            problems.error(supplement.key, f'has no placement: {why}give "with" (meals) and "units"')


# More small doses a day than anyone takes: a step this fine is a typo, and would slow the planner.
MAX_STEPS_A_DAY = 1000


def _check_step_count(supplement: Supplement, magnesium: Magnesium, problems: _Problems) -> None:
    if supplement.mg_per_unit is None or magnesium.daily_mg is None:
        return
    step_mg = supplement.step * supplement.mg_per_unit
    if magnesium.daily_mg > MAX_STEPS_A_DAY * step_mg:  # multiplied, not divided: step_mg may underflow to 0
        problems.error(
            f"{supplement.key}.step",
            f"a step of {supplement.step:g} {supplement.unit} ({step_mg:g} mg) splits daily_mg "
            f"{magnesium.daily_mg:g} mg into more than {MAX_STEPS_A_DAY} doses; use a larger step",
        )


def _warn_about_supplements(supplements: Sequence[Supplement], magnesium: Magnesium, problems: _Problems) -> None:
    for supplement in supplements:
        if supplement.is_magnesium and supplement.form is not None and supplement.form.name == "oxide":
            problems.warn(supplement.key, f"magnesium oxide is {supplement.form.note} (SEED)")
        if supplement.keep_refrigerated:
            problems.warn(supplement.key, "liquid magnesium chloride: keep refrigerated (SEED)")
    if magnesium.daily_mg is not None and magnesium.daily_mg > reference.SUPPLEMENTAL_MAGNESIUM_UL_MG:
        problems.warn(
            "magnesium.daily_mg",
            f"{_mg(magnesium.daily_mg)} mg a day is above "
            f"{reference.SUPPLEMENTAL_MAGNESIUM_UL_MG} mg, the adult Tolerable Upper Intake Level "
            f"for supplemental magnesium ({reference.UL_SOURCE})",
        )
    low, high = reference.CALCIUM_RATIO_RANGE
    ratio = magnesium.calcium_ratio
    if ratio > 0 and not low <= ratio <= high:
        problems.warn(
            "magnesium.calcium_ratio",
            f"a calcium:magnesium ratio of {ratio:g} is outside "
            f"{low:g}–{high:g} (traditionally 2:1, often 1:1; {reference.CALCIUM_RATIO_SOURCE})",
        )
    if ratio > 0 and not any(s.is_calcium and not s.is_fixed for s in supplements):
        problems.warn("magnesium.calcium_ratio", 'has no effect: no calcium supplement without "with" to pair')


def _mg(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------------------- entry points


def parse_config(data: Mapping[str, Any], source: str, base_dir: Path, local_zone: str) -> Config:
    """A parsed TOML document → a validated Config, or ConfigError with every problem found."""
    problems = _Problems()
    root = _Table(data, "", problems)

    timezone = root.get("timezone", _string, local_zone)
    zone = ZoneInfo("UTC")
    try:
        zone = _zone(timezone)
    except Invalid as problem:
        if root.has("timezone"):
            problems.error("timezone", str(problem))
        else:
            problems.error(
                "",
                f'the system\'s time zone "{timezone}" is not an IANA name: set timezone = "…" '
                'in the file (e.g. "Europe/Berlin")',
            )

    notify = _read_notify(_sub_table(root, "notify"), base_dir)
    reminders = _read_reminders(_sub_table(root, "reminders"))
    magnesium_table = _sub_table(root, "magnesium")
    matcher = phytate_matcher([*reference.PHYTATE_FOODS, *_peek_phytate_foods(magnesium_table.data)])
    meals = tuple(_read_meal(table, matcher) for table in _array_of_tables(root, "meal"))
    supplements = tuple(_read_supplement(table) for table in _array_of_tables(root, "supplement"))
    first_magnesium = next((s for s in supplements if s.is_magnesium), None)
    magnesium = _read_magnesium(magnesium_table, first_magnesium)
    titration = None
    if root.has("titration"):
        titration = _read_titration(_sub_table(root, "titration"))
        if first_magnesium is None:
            problems.error("titration", "raises the magnesium dose, but no magnesium supplement is configured")
    keep_apart = tuple(_read_keep_apart(table, meals, supplements) for table in _array_of_tables(root, "keep_apart"))
    reminded: dict[str, KeepApart] = {}
    for medicine in keep_apart:
        if medicine.remind and medicine.name in reminded:
            problems.error(
                f"{medicine.key}.name",
                f'"{medicine.name}" is reminded of already ({reminded[medicine.name].key}); '
                "give its times in one entry, or another name",
            )
        if medicine.remind:
            reminded.setdefault(medicine.name, medicine)
    root.finish()

    if reminders.escalate_after and not notify.caregiver_urls:
        problems.error("reminders.escalate_after", "needs notify.caregiver_urls: whom to tell about missed doses")
    if not meals and not root.has("meal"):
        problems.error("meal", "no meals: add at least one [[meal]] with a name and a time")
    if not supplements and not root.has("supplement"):
        problems.error("supplement", "no supplements: add at least one [[supplement]]")
    _check_meals(meals, problems)
    _check_supplements(supplements, meals, magnesium, problems)
    _warn_about_supplements(supplements, magnesium, problems)

    config = Config(
        source,
        timezone,
        zone,
        notify,
        reminders,
        meals,
        supplements,
        magnesium,
        titration,
        tuple(problems.warnings),
        keep_apart,
    )
    # The planner's own checks (slow-release spacing, a plan with no reminder) need a sound
    # model of what it plans: they run, and report with the rest, unless an error touches it.
    if not any(_section(problem.key) in _PLANNER_INPUTS for problem in problems.errors):
        from mgremind.plan import plan_problems

        problems.errors.extend(plan_problems(config))
    if problems.errors:
        raise ConfigError(source, problems.errors)
    return config


_PLANNER_INPUTS = frozenset({"", "timezone", "meal", "supplement", "magnesium", "titration", "keep_apart"})


def _section(key: str) -> str:
    """ "meal[1].time" → "meal", "notify.urls[0]" → "notify"."""
    return re.split(r"[.\[]", key, maxsplit=1)[0]


def _peek_phytate_foods(table: Mapping[str, Any]) -> list[str]:
    """The user's extra phytate foods, for matching meal foods; they are validated with their table."""
    foods = table.get("phytate_foods", [])
    return [food for food in foods if isinstance(food, str)] if isinstance(foods, list) else []


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, [_syntax_problem(str(error))]) from None
    except ValueError as error:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise ConfigError(source, [Problem("", f"invalid TOML: {error}")]) from None
    return document


def _syntax_problem(message: str) -> Problem:
    """tomllib says "Unclosed array (at line 3, column 9)": put the place first."""
    match = re.match(r"(.*) \(at (line \d+, column \d+)\)\Z", message, re.DOTALL)
    if match:
        return Problem(match.group(2), f"invalid TOML: {match.group(1)}")
    match = re.match(r"(.*) \(at end of document\)\Z", message, re.DOTALL)
    if match:
        return Problem("end of file", f"invalid TOML: {match.group(1)}")
    return Problem("", f"invalid TOML: {message}")


def read_config_text(path: Path) -> str:
    """The file's text, or a ConfigError saying plainly why it cannot be read."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(source, [Problem("", "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError(source, [Problem("", "is a directory, not a configuration file")]) from None
    except PermissionError:
        raise ConfigError(source, [Problem("", "cannot be read: permission denied")]) from None
    except OSError as error:
        raise ConfigError(source, [Problem("", f"cannot be read: {error.strerror or error}")]) from None
    if not raw.strip():
        raise ConfigError(source, [Problem("", "is empty: see config.example.toml for a plan to start from")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            source,
            [
                Problem(
                    "",
                    f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                    f"{error.start}); a configuration is a TOML text file",
                )
            ],
        ) from None
    if "\x00" in text:
        raise ConfigError(source, [Problem("", "is a binary file (it contains NUL bytes), not TOML text")])
    return text.removeprefix("\ufeff")


def load_config(path: Path, local_zone: str | None = None) -> Config:
    """Read, parse and validate one configuration file."""
    source = str(path)
    data = parse_toml(read_config_text(path), source)
    return parse_config(data, source, path.parent, local_zone or local_zone_name())


def local_zone_name() -> str:
    """The system's IANA zone: $TZ, then /etc/localtime, then /etc/timezone, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and not tz.startswith("/"):
        return tz
    try:
        target = os.path.realpath(tz or "/etc/localtime")
        if "/zoneinfo/" in target:
            return target.split("/zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        return Path("/etc/timezone").read_text(encoding="utf-8").strip() or "UTC"
    except OSError:
        return "UTC"


class ConfigNotFound(Exception):
    """No configuration file anywhere it is looked for."""

    def __init__(self, tried: Sequence[Path]) -> None:
        self.tried = tuple(tried)
        super().__init__("no configuration found; tried: " + ", ".join(map(str, tried)))


def config_candidates(environ: Mapping[str, str]) -> list[Path]:
    """Where a configuration is looked for when no -c is given, in order (SPEC §3)."""
    if environ.get("MGREMIND_CONFIG"):
        return [Path(environ["MGREMIND_CONFIG"])]
    candidates = []
    if environ.get("CONFIGURATION_DIRECTORY"):
        # systemd may pass several directories separated by ":"; the first is ours.
        candidates.append(Path(environ["CONFIGURATION_DIRECTORY"].split(":")[0]) / "config.toml")
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    candidates.append(Path(xdg) / "mgremind" / "config.toml")
    candidates.append(Path("/etc/mgremind/config.toml"))
    return candidates


def state_directory(environ: Mapping[str, str]) -> Path:
    """$STATE_DIRECTORY (systemd), else $XDG_STATE_HOME/mgremind, else ~/.local/state/mgremind."""
    if environ.get("STATE_DIRECTORY"):
        return Path(environ["STATE_DIRECTORY"].split(":")[0])
    base = environ.get("XDG_STATE_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".local" / "state")
    return Path(base) / "mgremind"


def state_file(environ: Mapping[str, str]) -> Path:
    """The SQLite file the daemon and the commands share."""
    return state_directory(environ) / "state.sqlite3"


def find_config(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """The configuration file to use: -c, else $MGREMIND_CONFIG, else the first that exists."""
    if explicit:
        return Path(explicit)
    candidates = config_candidates(environ)
    if environ.get("MGREMIND_CONFIG"):
        return candidates[0]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise ConfigNotFound(candidates)


# ---------------------------------------------------------------------------- files that hold secrets


def urls_file_path(configured: Path, environ: Mapping[str, str]) -> Path:
    """The configured urls_file, or the systemd credential of that name (LoadCredential=)."""
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        credential = Path(credentials) / configured.name
        if credential.is_file():
            return credential
    return configured


def url_lines(text: str) -> list[str]:
    """The URLs of a urls_file: one a line; blank lines and # comments skipped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def url_has_credentials(url: str) -> bool:
    """A user or password, or a token-like part (8+ characters with a digit, or 16+), in a URL.

    Without apprise (which `check` must not import) this is a judgement: hosts and short
    words are not secrets; bot tokens, API keys and passwords are.
    """
    location, _, query = url.split("://", 1)[-1].partition("?")
    authority, _, path = location.partition("/")
    pairs = [pair.partition("=") for pair in query.split("&")]
    if "@" in authority or any(key.lower() in _CREDENTIAL_KEYS and value for key, _, value in pairs):
        return True
    # HOST[:PORT] and [IPV6]:PORT are no secret; HOST:TOKEN (a bot token) is.
    rest = authority.partition("]")[2] if authority.startswith("[") else authority.partition(":")[2]
    rest = rest.removeprefix(":")
    parts = [] if rest.isdigit() else [rest]
    parts += path.split("/") + [value for _, _, value in pairs]
    return any(len(part) >= 16 or (len(part) >= 8 and any(char.isdigit() for char in part)) for part in parts)


# Query keys (and apprise YAML keys) that carry a login, whatever their value looks like.
_CREDENTIAL_KEYS = frozenset({"user", "pass", "password", "token", "apikey", "key", "secret"})
_CREDENTIAL_KEY_IN_YAML = re.compile(r"^\s*(?:pass|password|token|apikey|key|secret)\s*:", re.MULTILINE)


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"',]+")


def exposed_secret_files(config: Config, environ: Mapping[str, str]) -> list[Problem]:
    """Files holding notification URLs with credentials that the group or others can read."""
    main_file = Path(config.source)
    holders: list[tuple[Path, bool]] = [
        (main_file, any(map(url_has_credentials, [*config.notify.urls, *config.notify.caregiver_urls])))
    ]
    if config.notify.urls_file is not None:
        path = urls_file_path(config.notify.urls_file, environ)
        holders.append((path, any(map(url_has_credentials, url_lines(_text_or_empty(path))))))
    if config.notify.config is not None:
        text = _text_or_empty(config.notify.config)
        secret = any(map(url_has_credentials, _URL_IN_TEXT.findall(text))) or bool(_CREDENTIAL_KEY_IN_YAML.search(text))
        holders.append((config.notify.config, secret))
    warnings = []
    for path, holds_secrets in holders:
        if not holds_secrets:
            continue
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue  # a file that cannot be read is reported by whoever reads it
        if mode & 0o077:
            who = " and ".join(name for bits, name in ((0o070, "its group"), (0o007, "others")) if mode & bits)
            # The main file must stay readable by a service's own user (DynamicUser=): move the
            # URLs out of it rather than lock it.
            fix = (
                "move them to a urls_file only you can read (chmod 600; under systemd, LoadCredential=)"
                if path == main_file
                else f"chmod 600 {path}"
            )
            warnings.append(
                Problem(
                    str(path),
                    f"holds notification URLs with credentials and is readable by {who} (mode {mode:04o}): {fix}",
                )
            )
    return warnings


def _text_or_empty(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
