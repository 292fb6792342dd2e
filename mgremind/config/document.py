"""A parsed TOML document → the model: every table read, then the cross-checks.

Pure: the document, its name for messages, the folder relative paths start from and the
system's zone in; the Config and every error found out (the Config holds placeholders where
a value was wrong). The planner's own checks come on top, in `mgremind.loader`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mgremind import reference
from mgremind.config.checks import check_meals, check_supplements, warn_about_steps, warn_about_supplements
from mgremind.config.readers import (
    Problems,
    Table,
    peek_phytate_foods,
    read_keep_apart,
    read_magnesium,
    read_meal,
    read_notify,
    read_reminders,
    read_supplement,
    read_titration,
)
from mgremind.config.values import Invalid, zone
from mgremind.model import Config, KeepApart, Problem


def read_document(
    data: Mapping[str, Any], source: str, base_dir: Path, local_zone: str
) -> tuple[Config, list[Problem]]:
    """The document's Config and every error in it (none: the file is sound)."""
    problems = Problems()
    root = Table(data, "", "", problems)
    timezone = root.get("timezone", local_zone)
    config_zone = _read_zone(root, timezone)
    notify = read_notify(root.table("notify"), base_dir)
    reminders = read_reminders(root.table("reminders"))
    magnesium_table = root.table("magnesium")
    matcher = phytate_matcher(
        [*reference.PHYTATE_FOODS, *reference.PHYTATE_SYNONYMS, *peek_phytate_foods(magnesium_table)]
    )
    meals = tuple(read_meal(table, matcher) for table in root.tables("meal"))
    supplements = tuple(read_supplement(table) for table in root.tables("supplement"))
    first_magnesium = next((s for s in supplements if s.is_magnesium), None)
    magnesium = read_magnesium(magnesium_table, first_magnesium)
    titration = None
    if root.has("titration"):
        titration = read_titration(root.table("titration"))
        if first_magnesium is None:
            problems.error("titration", "raises the magnesium dose, but no magnesium supplement is configured")
    keep_apart = tuple(read_keep_apart(table, meals, supplements) for table in root.tables("keep_apart"))
    _check_reminded_once(keep_apart, problems)
    root.finish()

    if reminders.escalate_after and not notify.caregiver_urls:
        problems.error("reminders.escalate_after", "needs notify.caregiver_urls: whom to tell about missed doses")
    if not meals and not root.has("meal"):
        problems.error("meal", "no meals: add at least one [[meal]] with a name and a time")
    if not supplements and not root.has("supplement"):
        problems.error("supplement", "no supplements: add at least one [[supplement]]")
    check_meals(meals, problems)
    check_supplements(supplements, meals, magnesium, problems)
    warn_about_supplements(supplements, magnesium, problems)
    warn_about_steps(supplements, magnesium, problems)
    config = Config(
        source,
        timezone,
        config_zone,
        notify,
        reminders,
        meals,
        supplements,
        magnesium,
        titration,
        tuple(problems.warnings),
        keep_apart,
    )
    return config, problems.errors


def phytate_matcher(foods: Iterable[str]) -> re.Pattern[str]:
    """Matches an entry of `foods` as whole words, case-insensitive, a plural "s"/"es" allowed
    (SPEC §2.1): "bean" matches "black beans", "pea" not "peach", "oat" not "goat cheese".
    Spaces and hyphens inside an entry may be written as one, several or none (v2): "whole wheat"
    matches "whole-wheat", "wholewheat" and "Whole  Wheat"; the ends of an entry stay word ends."""
    entries = {tuple(part for part in re.split(r"[\s-]+", food.lower()) if part) for food in foods}
    ordered = sorted((parts for parts in entries if parts), key=lambda parts: (-len("".join(parts)), parts))
    alternatives = "|".join(r"[\s-]*".join(map(re.escape, parts)) for parts in ordered) or "(?!)"
    return re.compile(rf"(?<!\w)(?:{alternatives})(?:e?s)?(?!\w)", re.IGNORECASE)


def _read_zone(root: Table, timezone: str) -> ZoneInfo:
    try:
        return zone(timezone)
    except Invalid as problem:
        if root.has("timezone"):
            root.problems.error("timezone", str(problem))
        else:
            root.problems.error(
                "",
                f'the system\'s time zone "{timezone}" is not an IANA name: set timezone = "…" '
                'in the file (e.g. "Europe/Berlin")',
            )
        return ZoneInfo("UTC")


def _check_reminded_once(keep_apart: tuple[KeepApart, ...], problems: Problems) -> None:
    """Two entries that both remind of one medicine would send two reminders with one id."""
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
