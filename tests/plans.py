"""TOML builders and plan views shared by the tests.

Each builder returns one TOML table as text, ending in a blank line, so that a plan is the sum of
its tables. Values passed as `**extra` are TOML value text: '"delay"' for a string, "1.0" for a number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from mgremind.model import DayPlan, Reminder

Layout = list[tuple[str, str, dict[str, float | None]]]
# `days` of a meal, as TOML array text.
WEEKDAYS = '["mon", "tue", "wed", "thu", "fri"]'
WEEKEND = '["sat", "sun"]'


def layout(plan: DayPlan) -> Layout:
    """Each reminder as (id, local HH:MM, {supplement id: mg}), in the plan's order."""
    return [
        (reminder.id, reminder.at.strftime("%H:%M"), {item.supplement.id: item.mg for item in reminder.items})
        for reminder in plan.reminders
    ]


def only(plan: DayPlan, rid: str) -> Reminder:
    found = [r for r in plan.reminders if r.id == rid]
    assert len(found) == 1, [r.id for r in plan.reminders]
    return found[0]


def timezone(name: str) -> str:
    """The plan's zone: the first line of a plan."""
    return f'timezone = "{name}"\n\n'


def meal(name: str, time: str, *, days: str = "", foods: tuple[str, ...] = (), phytate: bool | None = None) -> str:
    """A [[meal]] table; `days` is TOML array text such as '["sat", "sun"]'."""
    text = f'[[meal]]\nname = "{name}"\ntime = "{time}"\n'
    if days:
        text += f"days = {days}\n"
    if foods:
        text += f"foods = {json.dumps(list(foods))}\n"
    if phytate is not None:
        text += f"phytate = {'true' if phytate else 'false'}\n"
    return text + "\n"


def citrate(mg: float = 100, **extra: str) -> str:
    """The splitting magnesium: immediate release, no `with`, step 1 → one step = `mg`."""
    return (
        '[[supplement]]\nid = "citrate"\nname = "Magnesium citrate"\nnutrient = "magnesium"\n'
        f'unit = "capsule"\nmg_per_unit = {mg}\n' + _lines(extra) + "\n"
    )


def slow(mg: float = 84, doses: int = 2, *, sid: str = "sr", **extra: str) -> str:
    """Slow-release magnesium, Mag-Tab SR: `doses` a day, spaced."""
    return (
        f'[[supplement]]\nid = "{sid}"\nname = "Mag-Tab SR"\nnutrient = "magnesium"\nunit = "tablet"\n'
        f'release = "slow"\nmg_per_unit = {mg}\ndoses_per_day = {doses}\n' + _lines(extra) + "\n"
    )


def fixed(
    sid: str,
    nutrient: str,
    with_: str,
    *,
    mg: float | None = None,
    units: float = 1,
    name: str | None = None,
    unit: str = "tablet",
) -> str:
    """A supplement taken with fixed meals (`with`/`units`); its name is its id unless given."""
    text = f'[[supplement]]\nid = "{sid}"\nname = "{name or sid}"\nnutrient = "{nutrient}"\nunit = "{unit}"\n'
    if mg is not None:
        text += f"mg_per_unit = {mg}\n"
    return text + f'with = ["{with_}"]\nunits = {units}\n\n'


def magnesium(daily: float, **extra: str) -> str:
    """The [magnesium] table; `extra` values are TOML value text, e.g. phytate='"delay"'."""
    return f"[magnesium]\ndaily_mg = {daily}\n" + _lines(extra) + "\n"


def calcium(mg: float = 100, *, name: str = "Calcium", step: float | None = None) -> str:
    """The paired calcium: no `with`; one step = `step` (default 1) × `mg`."""
    return (
        f'[[supplement]]\nid = "calcium"\nname = "{name}"\nnutrient = "calcium"\nunit = "tablet"\n'
        f"mg_per_unit = {mg}\n" + (f"step = {step}\n" if step is not None else "") + "\n"
    )


def citrate_with_calcium(daily: float, **stock: str) -> str:
    """Magnesium citrate, 100 mg a capsule, `daily` mg a day, and calcium carbonate, 250 mg a tablet
    in halves, paired 1:1: one capsule with 0.5 tablet (125 mg, the step nearest to 100 mg) at a
    meal that gets 100 mg. `stock` goes into the citrate's table (stock, stock_date)."""
    return (
        citrate(100, **stock) + calcium(250, name="Calcium carbonate", step=0.5) + magnesium(daily, calcium_ratio="1.0")
    )


def table(name: str, **values: str) -> str:
    """A [name] table, nothing but `values` (TOML value text) in it."""
    return f"[{name}]\n" + _lines(values) + "\n"


def strings(values: Iterable[str]) -> str:
    """A TOML array of strings (a JSON array of strings is one)."""
    return json.dumps(list(values))


def _lines(values: dict[str, str]) -> str:
    return "".join(f"{key} = {value}\n" for key, value in values.items())
