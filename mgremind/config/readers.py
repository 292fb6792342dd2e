"""The readers: one TOML table each, into its part of the model, every error with its key path.

A `Table` reads the keys of one table through the key table (`keys.SECTIONS`): each value
is parsed by its key's parser, a wrong one is recorded with its path ("meal[1].time") and
replaced by the default, so that one reading finds every mistake. Whatever is left over is
an unknown key, with a suggestion.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mgremind import reference
from mgremind.config.keys import SECTIONS, Key
from mgremind.config.values import Invalid, suggestion, type_name
from mgremind.model import (
    Form,
    KeepApart,
    Magnesium,
    Meal,
    Notify,
    Problem,
    Reminders,
    Supplement,
    Titration,
    hours_text,
)

_SUPPLEMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_UNSET: Any = object()


class Problems:
    """The errors and warnings found so far in one file."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append(Problem(key, message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Problem(key, message))


def key_path(parent: str, key: str) -> str:
    if "://" in key:  # a URL written as a key (a slip in [notify]) may hold a secret: never echo it
        key = "<a URL>"
    name = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'
    return f"{parent}.{name}" if parent else name


class Table:
    """One TOML table being read: its keys parsed through the key table, errors recorded."""

    def __init__(self, data: Mapping[str, Any], path: str, section: str, problems: Problems) -> None:
        self.data = data
        self.path = path
        self.section = section
        self.problems = problems

    def key(self, name: str) -> str:
        return key_path(self.path, name)

    def _declared(self, name: str) -> Key:
        return SECTIONS[self.section][name]  # a KeyError here is a reader asking for an undeclared key

    def has(self, name: str) -> bool:
        return name in self.data

    def given_empty(self, name: str) -> bool:
        """The key is given as an empty array."""
        value = self.data.get(name)
        return isinstance(value, list) and not value

    def get(self, name: str, default: Any = _UNSET) -> Any:
        """The value of `name` parsed; the default (the key table's, or `default`) when absent or invalid."""
        declared = self._declared(name)
        if default is _UNSET:
            default = declared.default
        if name not in self.data:
            return default
        if declared.array:
            return self._array(name, declared, default)
        try:
            return declared.parse(self.data[name])  # type: ignore[operator]
        except Invalid as problem:
            self.problems.error(self.key(name), str(problem))
            return default

    def require(self, name: str, placeholder: Any, why: str = "") -> Any:
        if name not in self.data:
            self.problems.error(self.key(name), f"is required{why}")
            return placeholder
        return self.get(name, placeholder)

    def _array(self, name: str, declared: Key, default: Any) -> tuple[Any, ...]:
        """An array whose items are each parsed; errors name the item's index."""
        value = self.data[name]
        if not isinstance(value, list):
            self.problems.error(self.key(name), f"must be an array, not {type_name(value)}")
            return tuple(default)
        items = []
        for index, item in enumerate(value):
            try:
                items.append(declared.parse(item))  # type: ignore[operator]
            except Invalid as problem:
                self.problems.error(f"{self.key(name)}[{index}]", str(problem))
        return tuple(items)

    def table(self, name: str) -> Table:
        """The table `name` (empty when absent, or when it is not a table)."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.problems.error(self.key(name), f"must be a table ([{name}]), not {type_name(value)}")
            value = {}
        return Table(value, self.key(name), name, self.problems)

    def tables(self, name: str) -> list[Table]:
        """The tables of the array of tables `name` ([[meal]])."""
        value = self.data.get(name, [])
        if not isinstance(value, list):
            self.problems.error(self.key(name), f"must be an array of tables ([[{name}]]), not {type_name(value)}")
            return []
        found = []
        for index, item in enumerate(value):
            key = f"{self.key(name)}[{index}]"
            if isinstance(item, dict):
                found.append(Table(item, key, name, self.problems))
            else:
                self.problems.error(key, f"must be a table, not {type_name(item)}")
        return found

    def finish(self) -> None:
        """Unknown keys are errors: a typo must never be silently ignored."""
        known = sorted(SECTIONS[self.section])
        for name in self.data:
            if name not in known:
                self.problems.error(self.key(name), f"unknown key{suggestion(name.lower(), known)}")


# ---------------------------------------------------------------------------- sections


def phytate_matcher(foods: Iterable[str]) -> re.Pattern[str]:
    """Matches a list entry as whole words, case-insensitive, plural "s"/"es" allowed."""
    entries = sorted({food.strip().lower() for food in foods if food.strip()}, key=len, reverse=True)
    alternatives = "|".join(r"[\s-]+".join(map(re.escape, entry.split())) for entry in entries)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?:e?s)?(?!\w)", re.IGNORECASE)


def peek_phytate_foods(table: Table) -> list[str]:
    """The user's extra phytate foods, for matching meal foods; they are validated with their table."""
    foods = table.data.get("phytate_foods", [])
    return [food for food in foods if isinstance(food, str)] if isinstance(foods, list) else []


def read_meal(table: Table, matcher: re.Pattern[str]) -> Meal:
    name = table.require("name", "?")
    time = table.require("time", dt.time(0))
    days = frozenset(table.get("days"))
    if table.given_empty("days"):
        table.problems.error(table.key("days"), "must name at least one day")
    foods = table.get("foods")
    explicit = table.get("phytate")
    matched = tuple(food for food in foods if matcher.search(food))
    rich = explicit if explicit is not None else bool(matched)
    table.finish()
    return Meal(name, time, days, foods, rich, matched if explicit is None else (), table.path)


def read_supplement(table: Table) -> Supplement:
    sid = table.require("id", "?")
    if sid != "?" and not _SUPPLEMENT_ID.match(sid):
        table.problems.error(
            table.key("id"), f'"{sid}" must be letters, digits, "_", "-" or "." (it is typed on the command line)'
        )
    name = table.get("name", sid)
    nutrient = " ".join(table.require("nutrient", "?").split())
    if nutrient.lower() in ("magnesium", "calcium"):
        nutrient = nutrient.lower()  # the two the planner knows; others keep the user's spelling
    unit = table.require("unit", "unit")
    release = table.get("release")
    step = table.get("step")
    form = _read_form(table, nutrient)
    mg_per_unit, compound_mg_per_unit = _read_strength(table, nutrient, unit, form)
    doses_per_day = table.get("doses_per_day")
    units_per_dose = table.get("units_per_dose")
    if release != "slow":
        for slow_only in ("doses_per_day", "units_per_dose"):
            if table.has(slow_only):
                table.problems.error(
                    table.key(slow_only), 'only applies to a slow-release supplement (release = "slow")'
                )
    with_meals = tuple(dict.fromkeys(table.get("with")))  # a meal named twice counts once
    units = table.get("units")
    _require_together(
        table, "with", "units", 'is required with "with": how many units to take with each of those meals'
    )
    _require_together(table, "units", "with", 'is required with "units": the meals to take them with')
    if table.given_empty("with"):
        table.problems.error(table.key("with"), "must name at least one meal")
    stock = table.get("stock")
    stock_date = table.get("stock_date")
    refill_days = table.get("refill_days")
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
        keep_refrigerated=_keep_refrigerated(nutrient, form, unit),
        compound_mg_per_unit=compound_mg_per_unit,
    )


def _require_together(table: Table, given: str, missing: str, why: str) -> None:
    if table.has(given) and not table.has(missing):
        table.problems.error(table.key(missing), f'is required with "{given}": {why}')


def _keep_refrigerated(nutrient: str, form: Form | None, unit: str) -> bool:
    """Liquid magnesium chloride must be kept refrigerated (SEED)."""
    return nutrient == "magnesium" and form is not None and form.name == "chloride" and reference.is_liquid_unit(unit)


def _read_form(table: Table, nutrient: str) -> Form | None:
    form_name = table.get("form")
    if form_name is None:
        return None
    form = reference.find_form(nutrient, form_name)
    if form is None and nutrient in reference.FORMS_BY_NUTRIENT:
        known = sorted(reference.FORMS_BY_NUTRIENT[nutrient])
        words = re.findall(r"[\w-]+", form_name)
        named = next((found for word in words if (found := reference.find_form(nutrient, word)) is not None), None)
        if named is not None:  # "citrate nonahydrate": a hydrate of a known form that the reference does not give
            known_as = reference.form_text(nutrient, named)
            table.problems.warn(
                table.key("form"),
                f'"{form_name}": mgremind knows {nutrient} {named.name} only as {known_as}, so it adds no notes '
                "nor converts compound_mg_per_unit; give mg_per_unit (elemental mg, as on the label)",
            )
            return None
        table.problems.warn(
            table.key("form"),
            f'"{form_name}" is not a known {nutrient} form, so it adds no notes'
            f"{suggestion(form_name.lower(), known)}; known: {', '.join(known)}",
        )
    return form


def _read_strength(table: Table, nutrient: str, unit: str, form: Form | None) -> tuple[float | None, float | None]:
    """Elemental mg per unit: as given, or converted from the compound's mg by the form; and the
    compound's mg when that is what the plan gives (`check` shows both)."""
    mg_per_unit: float | None = table.get("mg_per_unit")
    converted: float | None = None
    if table.has("compound_mg_per_unit"):
        compound = table.get("compound_mg_per_unit")
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
            converted = compound
    mineral = nutrient in reference.FORMS_BY_NUTRIENT
    if mineral and mg_per_unit is None and not table.has("mg_per_unit") and not table.has("compound_mg_per_unit"):
        table.problems.error(
            table.key("mg_per_unit"), f"is required for {nutrient} (elemental mg per {unit}, as on the label)"
        )
    return mg_per_unit, converted


def read_notify(table: Table, base_dir: Path) -> Notify:
    urls = table.get("urls")
    config = table.get("config")
    urls_file = table.get("urls_file")
    console = table.get("console", not (urls or config or urls_file))
    notify = Notify(
        urls,
        None if config is None else base_dir / config,
        None if urls_file is None else base_dir / urls_file,
        console,
        table.get("title"),
        table.get("caregiver_urls"),
    )
    table.finish()
    return notify


def read_reminders(table: Table) -> Reminders:
    reminders = Reminders(
        lead=table.get("lead"),
        catch_up=table.get("catch_up"),
        retry_for=table.get("retry_for"),
        repeat=table.get("repeat"),
        repeat_max=table.get("repeat_max"),
        escalate_after=table.get("escalate_after"),
    )
    table.finish()
    return reminders


def read_magnesium(table: Table, needs_daily: Supplement | None) -> Magnesium:
    if needs_daily is not None:
        why = f" when a magnesium supplement is configured ({needs_daily.key})"
        daily_mg = table.require("daily_mg", None, why)
    else:
        daily_mg = table.get("daily_mg")
    magnesium = Magnesium(
        daily_mg=daily_mg,
        max_dose_mg=table.get("max_dose_mg"),
        slow_release_gap=table.get("slow_release_gap"),
        phytate=table.get("phytate"),
        phytate_gap=table.get("phytate_gap"),
        phytate_foods=tuple(food.lower() for food in table.get("phytate_foods")),
        calcium_ratio=table.get("calcium_ratio"),
    )
    table.finish()
    return magnesium


def read_keep_apart(table: Table, meals: Sequence[Meal], supplements: Sequence[Supplement]) -> KeepApart:
    name = table.require("name", "?")
    times = tuple(dict.fromkeys(table.get("times")))  # a time twice is one dose
    with_meals = tuple(dict.fromkeys(table.get("with")))
    supplement = table.get("supplement")
    given = [key for key in ("times", "with", "supplement") if table.has(key)]
    if len(given) != 1:
        what = "none" if not given else " and ".join(given)
        table.problems.error(table.path, f'give exactly one of "times", "with" or "supplement" (it has {what})')
    for key in ("times", "with"):
        if table.given_empty(key):
            table.problems.error(table.key(key), "must not be empty")
    meal_names = sorted({meal.name for meal in meals})
    for index, meal in enumerate(with_meals):
        if meal not in meal_names:
            table.problems.error(
                f"{table.key('with')}[{index}]", f'no meal named "{meal}"{suggestion(meal, meal_names)}'
            )
    if supplement is not None:
        _check_medicine_supplement(table, supplement, supplements)
    days = frozenset(table.get("days"))
    if table.given_empty("days"):
        table.problems.error(table.key("days"), "must name at least one day")
    interval = reference.find_interval(name)
    default_hours = (
        (interval.before_hours, interval.after_hours) if interval else (reference.DEFAULT_INTERVAL_HOURS,) * 2
    )
    before = table.get("before", dt.timedelta(hours=default_hours[0]))
    after = table.get("after", dt.timedelta(hours=default_hours[1]))
    remind = table.get("remind")
    if remind and supplement is not None:
        table.problems.error(
            table.key("remind"), f'"{supplement}" is a supplement of this plan: it has reminders already'
        )
    if interval is None and name != "?":
        _warn_unknown_medicine(table, name)
    table.finish()
    source = _interval_source(table, interval)
    return KeepApart(name, times, with_meals, supplement, days, before, after, remind, source, table.path)


def _warn_unknown_medicine(table: Table, name: str) -> None:
    """SPEC §7 v2: a name that matches nothing is never silent, unless the user set both sides."""
    defaulted = [side for side in ("before", "after") if not table.has(side)]
    if not defaulted:
        return
    hours = hours_text(dt.timedelta(hours=reference.DEFAULT_INTERVAL_HOURS))
    kept = f"{hours} before and after" if len(defaulted) == 2 else f"{hours} {defaulted[0]} it (the default)"
    fix = f"set {'/'.join(defaulted)} from its leaflet"
    unknown = "not in mgremind's table"
    group = reference.class_members(name)
    if group is not None:  # "quinolone": its members' windows differ, so none of them is assumed
        members = group[1]
        listed = " and ".join([", ".join(members[:-1]), members[-1]] if len(members) > 1 else members)
        unknown = f"a class, not one medicine (mgremind's table has {listed}, each with its own window)"
        fix = "name the medicine, or " + fix
    table.problems.warn(table.key("name"), f"{name}: {unknown}; keeping magnesium {kept} — {fix}")


def _check_medicine_supplement(table: Table, supplement: str, supplements: Sequence[Supplement]) -> None:
    found = next((s for s in supplements if s.id == supplement), None)
    if found is None:
        ids = [s.id for s in supplements]
        table.problems.error(table.key("supplement"), f'no supplement "{supplement}"{suggestion(supplement, ids)}')
    elif found.is_magnesium or not found.is_fixed:
        table.problems.error(
            table.key("supplement"),
            f'"{supplement}" must be a supplement taken with meals ("with"/"units") that is not magnesium',
        )


def _interval_source(table: Table, interval: reference.Interval | None) -> str:
    """Where a medicine's window comes from, as `check` shows it."""
    if table.has("before") and table.has("after"):
        return "configured"
    if interval is not None:
        one_side = " (one side configured)" if table.has("before") or table.has("after") else ""
        return f"{interval.cited}{one_side}"
    return reference.DEFAULT_INTERVAL_SOURCE


def read_titration(table: Table) -> Titration:
    titration = Titration(
        start=table.require("start", dt.date(2000, 1, 1)),
        start_mg=table.require("start_mg", 0.0),
        step_mg=table.require("step_mg", 1.0),
        every_days=table.require("every_days", 1),
        hold_days=table.get("hold_days"),
    )
    table.finish()
    return titration
