"""Every key of the plan file, in one declarative table: name, type, default, one line of doc.

The table is the one place a key is declared. The readers take each key's parser and
default from it; a key missing here is an "unknown key", with a suggestion from the keys
of its table; and the README's key reference is generated from it (`python -m
mgremind.config.keys`), which a test compares with the README and config.example.toml,
so a key cannot be undocumented.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple

from mgremind.config import values
from mgremind.model import format_duration

REQUIRED: Any = object()  # the default of a key that must be given
TABLE = "table"  # the parse of a key that holds a table ([notify]) or an array of tables ([[meal]])
HOUR = dt.timedelta(hours=1)
PATH = "path (relative to the plan file)"


class Key(NamedTuple):
    name: str
    parse: Callable[[object], Any] | str  # one value (each item of an array), or TABLE
    default: Any  # the value when absent, or REQUIRED
    doc: str
    array: bool = False  # an array of values, each read by `parse`
    default_text: str = ""  # how the default is found, when it depends on other keys
    type_text: str = ""  # the type as the docs say it, where the parser alone does not tell


def _keys(*keys: Key) -> dict[str, Key]:
    return {key.name: key for key in keys}


# The sections: "" is the top level of the file; an array of tables ([[meal]]) is named once.
SECTIONS: dict[str, dict[str, Key]] = {
    "": _keys(
        Key("timezone", values.string, None, "IANA time zone of the meal times", default_text="the system's zone"),
        Key("notify", TABLE, None, "where reminders go"),
        Key("reminders", TABLE, None, "when reminders go out, and what happens when they are not acknowledged"),
        Key("meal", TABLE, REQUIRED, "a meal: [[meal]], one table each"),
        Key("supplement", TABLE, REQUIRED, "a supplement: [[supplement]], one table each"),
        Key("magnesium", TABLE, None, "how the day's magnesium is planned"),
        Key("titration", TABLE, None, "start low and raise the daily amount slowly"),
        Key("keep_apart", TABLE, None, "a medicine magnesium binds in the gut: [[keep_apart]], one table each"),
    ),
    "notify": _keys(
        Key("urls", values.apprise_url, (), "apprise URLs of the channels (ntfy://…, mailto://…)", array=True),
        Key("config", values.string, None, "an apprise configuration file (YAML or TEXT)", type_text=PATH),
        Key(
            "urls_file",
            values.string,
            None,
            "a file of apprise URLs, one a line; under systemd, a credential of that name",
            type_text=PATH,
        ),
        Key(
            "console",
            values.boolean,
            None,
            "also print each reminder on standard output",
            default_text="true when no urls, config or urls_file",
        ),
        Key("title", values.line, "Magnesium", "title of every notification"),
        Key("caregiver_urls", values.apprise_url, (), "apprise URLs told about missed doses in a row", array=True),
    ),
    "reminders": _keys(
        Key("lead", values.day_duration, dt.timedelta(0), "remind this long before each meal"),
        Key("catch_up", values.parse_duration, 2 * HOUR, "after downtime, send a reminder this young, marked late"),
        Key("retry_for", values.parse_duration, HOUR / 2, "keep retrying a failing channel this long"),
        Key("repeat", values.positive_duration, HOUR / 4, "repeat an unacknowledged reminder this often"),
        Key("repeat_max", values.count, 0, "at most this many repeats (0: never)"),
        Key("escalate_after", values.count, 0, "this many missed in a row: tell caregiver_urls (0: never)"),
    ),
    "meal": _keys(
        Key("name", values.meal_name, REQUIRED, "the meal's name, part of each reminder id"),
        Key("time", values.time_of_day, REQUIRED, 'the time of the meal, "HH:MM" or "HH:MM:SS"'),
        Key("days", values.weekday, tuple(range(7)), "the days of the week it is eaten", array=True),
        Key("foods", values.string, (), "what it holds; a phytate food makes it phytate-rich", array=True),
        Key("phytate", values.boolean, None, "phytate-rich or not, whatever its foods", default_text="from foods"),
    ),
    "supplement": _keys(
        Key("id", values.string, REQUIRED, "short and unique: used in the state and on the command line"),
        Key("name", values.line, None, "the name reminders show", default_text="the id"),
        Key("nutrient", values.string, REQUIRED, '"magnesium", "calcium", or any other word'),
        Key("form", values.string, None, "the compound (citrate, oxide, …): notes, compound_mg_per_unit"),
        Key("unit", values.string, REQUIRED, "capsule, tablet, ml, scoop, …"),
        Key("mg_per_unit", values.positive, None, "elemental mg per unit, as on the label"),
        Key("compound_mg_per_unit", values.positive, None, "mg of the compound per unit, with a known form"),
        Key(
            "release",
            values.choice("immediate", "slow"),
            "immediate",
            "slow: time-released, its doses slow_release_gap apart",
            type_text='"immediate" or "slow"',
        ),
        Key("step", values.positive, 1.0, "the smallest amount one can take: 1, 0.5 for a scored tablet"),
        Key("doses_per_day", values.positive_integer, 2, "slow release: doses a day"),
        Key("units_per_dose", values.positive, 1.0, "slow release: units a dose"),
        Key("with", values.meal_name, (), "fixed placement: taken with these meals", array=True),
        Key("units", values.positive, None, "fixed placement: this many units each time"),
        Key("stock", values.non_negative, None, "units on hand at the start of stock_date"),
        Key("stock_date", values.date, None, "the day of the stock count"),
        Key("refill_days", values.positive_integer, 7, "say so when fewer days of supply remain"),
    ),
    "magnesium": _keys(
        Key(
            "daily_mg",
            values.positive,
            None,
            "elemental magnesium a day from supplements (titration's goal)",
            default_text="required with a magnesium supplement",
        ),
        Key("max_dose_mg", values.positive, 200.0, "no single reminder carries more magnesium than this"),
        Key("slow_release_gap", values.positive_duration, 8 * HOUR, "least time between two slow-release doses"),
        Key(
            "phytate",
            values.choice("move", "delay"),
            "move",
            "a phytate-rich meal's magnesium: moved to the other meals, or taken phytate_gap later",
            type_text='"move" or "delay"',
        ),
        Key("phytate_gap", values.day_duration, 2 * HOUR, "under delay: the dose comes this long after the meal"),
        Key("phytate_foods", values.string, (), "foods added to the built-in phytate list", array=True),
        Key("calcium_ratio", values.non_negative, 0.0, "mg calcium per mg magnesium at each dose; 0: no pairing"),
    ),
    "titration": _keys(
        Key("start", values.date, REQUIRED, "the first day of the ramp"),
        Key("start_mg", values.non_negative, REQUIRED, "magnesium a day at the start"),
        Key("step_mg", values.positive, REQUIRED, "raise by this much…"),
        Key("every_days", values.positive_integer, REQUIRED, "…every this many days, up to daily_mg"),
        Key("hold_days", values.positive_integer, 3, "after a reported symptom, hold the lowered amount this long"),
    ),
    "keep_apart": _keys(
        Key("name", values.meal_name, REQUIRED, "the medicine; a known one or class sets before/after"),
        Key("times", values.time_of_day, (), "its own times of day", array=True),
        Key("with", values.meal_name, (), "or the meals it is taken with", array=True),
        Key("supplement", values.string, None, "or a supplement of this plan taken with meals"),
        Key("days", values.weekday, tuple(range(7)), "the days of the week it is taken", array=True),
        Key("before", values.day_duration, None, "no magnesium this long before it", default_text="its label, or 2h"),
        Key("after", values.day_duration, None, "no magnesium this long after it", default_text="its label, or 2h"),
        Key("remind", values.boolean, False, "also remind to take it, at its own times"),
    ),
}


# ---------------------------------------------------------------------------- the reference in the README

_TYPE_NAMES: dict[object, str] = {
    values.string: "string",
    values.line: "string, one line",
    values.apprise_url: "apprise URL",
    values.boolean: "boolean",
    values.positive: "number > 0",
    values.non_negative: "number ≥ 0",
    values.count: "whole number ≥ 0",
    values.positive_integer: "whole number ≥ 1",
    values.parse_duration: "duration",
    values.positive_duration: "duration > 0",
    values.day_duration: "duration < 24h",
    values.time_of_day: "time of day",
    values.date: "date",
    values.weekday: "day of the week",
    values.meal_name: "name",
}


def type_text(key: Key) -> str:
    if key.type_text:
        return key.type_text
    if key.parse == TABLE:
        return "array of tables" if key.name in ARRAYS_OF_TABLES else "table"
    name = _TYPE_NAMES[key.parse]
    return f"array of {name}s" if key.array else name


def default_text(key: Key) -> str:
    default = key.default
    if key.default_text:
        return key.default_text
    if default is REQUIRED:
        return "required"
    if default is None or default == ():
        return "none"
    if key.parse == values.weekday:
        return "every day"
    if isinstance(default, dt.timedelta):
        return f'"{format_duration(default)}"'
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, float):
        return f"{default:g}"
    return f'"{default}"' if isinstance(default, str) else str(default)


ARRAYS_OF_TABLES = frozenset({"meal", "supplement", "keep_apart"})


def reference_markdown() -> str:
    """The README's key reference: a table per section, a row per key."""
    lines: list[str] = []
    for section, keys in SECTIONS.items():
        heading = "top level" if not section else f"[[{section}]]" if section in ARRAYS_OF_TABLES else f"[{section}]"
        lines += ["", f"**{heading}**", "", "| key | type | default | what it is |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{key.name}` | {type_text(key)} | {default_text(key)} | {key.doc} |"
            for key in keys.values()
            if key.parse != TABLE
        ]
    return "\n".join(lines[1:]) + "\n"


if __name__ == "__main__":
    print(reference_markdown(), end="")
