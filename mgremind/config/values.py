"""Value parsers: one TOML value in, a typed value out, or `Invalid` saying what is wrong.

Each parser knows nothing of where the value stands; the readers add the key path. Values
of [notify] are never echoed in a message: they may hold secrets.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mgremind.model import FIRST_YEAR, LAST_YEAR, WEEKDAYS

# Reminder ids are DATE/MEAL, DATE/MEAL+delay: these characters would make them ambiguous.
RESERVED_IN_NAMES = re.compile(r"[/+@\x00-\x1f\x7f]")
DURATION_PATTERN = re.compile(r"(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?\Z")
TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\Z")
APPRISE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class Invalid(ValueError):
    """A value is wrong; the message says how, without the key path."""


def type_name(value: object) -> str:
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


def string(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {type_name(value)}")
    if not value.strip():
        raise Invalid("must not be empty")
    return value.strip()


def line(value: object) -> str:
    """A string shown as one line (a title, a name): no line breaks or other control characters.
    A notification title becomes an e-mail subject and a calendar's name: a line break there
    would start another header."""
    text = string(value)
    if not text.isprintable():
        raise Invalid("must be one line, without line breaks or other control characters")
    return text


def apprise_url(value: object) -> str:
    url = string(value)
    if not APPRISE_URL.match(url):
        raise Invalid("is not an apprise URL (expected SCHEME://…, e.g. ntfy://topic)")
    return url


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {type_name(value)}")
    return value


def number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"must be a number, not {type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Invalid("must be a finite number")
    if abs(value) > 1e9:  # an int of any size compares with a float exactly, without overflow
        raise Invalid(f"{value} is too large")
    return float(value)


def positive(value: object) -> float:
    parsed = number(value)
    if parsed <= 0:
        raise Invalid(f"must be greater than 0, not {value}")
    return parsed


def non_negative(value: object) -> float:
    parsed = number(value)
    if parsed < 0:
        raise Invalid(f"must not be negative, not {value}")
    return parsed


def count(value: object) -> int:
    """A whole number, 0 allowed (0 means "never" for repeat_max and escalate_after)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be a whole number, not {type_name(value)}")
    if not 0 <= value <= 1000:
        raise Invalid(f"must be between 0 and 1000, not {value}")
    return value


def positive_integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be a whole number, not {type_name(value)}")
    if not 1 <= value <= 10_000:
        raise Invalid(f"must be between 1 and 10000, not {value}")
    return value


def parse_duration(value: object) -> dt.timedelta:
    """ "90s", "15m", "2h", "1h30m", "3d" → timedelta."""
    if not isinstance(value, str):
        raise Invalid(f'must be a duration string like "15m" or "1h30m", not {type_name(value)}')
    match = DURATION_PATTERN.match(value.strip())
    if not value.strip() or match is None:
        raise Invalid(f'"{value}" is not a duration (e.g. "90s", "15m", "2h", "1h30m", "3d")')
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if max(days, hours, minutes, seconds) > 100_000:
        raise Invalid(f'"{value}" is too long')
    return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def positive_duration(value: object) -> dt.timedelta:
    duration = parse_duration(value)
    if duration <= dt.timedelta(0):
        raise Invalid(f'must be longer than 0, not "{value}"')
    return duration


def day_duration(value: object) -> dt.timedelta:
    """A duration within a day: lead times and gaps after a meal."""
    duration = parse_duration(value)
    if duration >= dt.timedelta(days=1):
        raise Invalid(f'"{value}" is a day or longer; it must be shorter than 24h')
    return duration


def time_of_day(value: object) -> dt.time:
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise Invalid("must be a local time of day, without a UTC offset")
        return value.replace(microsecond=0)
    if not isinstance(value, str):
        raise Invalid(f'must be a time of day like "07:30", not {type_name(value)}')
    match = TIME_OF_DAY.match(value.strip())
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise Invalid(f'"{value}" is not a time of day (HH:MM)')


def date(value: object) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise Invalid(f"{value.isoformat()} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
        return value
    if isinstance(value, str):
        raise Invalid(f"must be a TOML date without quotes, e.g. start = {value.strip() or '2026-11-20'}")
    raise Invalid(f"must be a date like 2026-11-20, not {type_name(value)}")


def choice(*choices: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = string(value)
        if text.lower() not in choices:
            options = " or ".join(f'"{choice}"' for choice in choices)
            raise Invalid(f'"{text}" is not one of {options}{suggestion(text.lower(), choices)}')
        return text.lower()

    return parse


def suggestion(word: str, candidates: Iterable[str]) -> str:
    import difflib  # only on the error path: keeps start-up fast

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{matches[0]}"?)' if matches else ""


def weekday(value: object) -> int:
    text = string(value).lower()
    if text in WEEKDAYS:
        return WEEKDAYS.index(text)
    for index in range(7):  # "monday", "Tuesday"…
        if len(text) > 3 and dt.date(2024, 1, 1 + index).strftime("%A").lower() == text:
            return index
    raise Invalid(f'"{text}" is not a day of the week (mon, tue, wed, thu, fri, sat, sun){suggestion(text, WEEKDAYS)}')


def meal_name(value: object) -> str:
    name = string(value)
    if RESERVED_IN_NAMES.search(name) or not name.isprintable():
        raise Invalid(f'"{name}" must not contain "/", "+", "@" or control characters (they separate reminder ids)')
    return name


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(f'"{name}" is not a known IANA time zone (e.g. "Europe/Berlin", "America/New_York")') from None
