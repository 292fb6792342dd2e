"""TOML builders and plan views shared by the planner tests (test_plan, test_keep_apart)."""

from __future__ import annotations

import json

from mgremind.model import DayPlan, Reminder

Layout = list[tuple[str, str, dict[str, float | None]]]


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


def citrate(mg: float = 100) -> str:
    """The splitting magnesium: immediate release, no `with`, step 1 → one step = `mg`."""
    return (
        '[[supplement]]\nid = "citrate"\nname = "Magnesium citrate"\nnutrient = "magnesium"\n'
        f'unit = "capsule"\nmg_per_unit = {mg}\n\n'
    )


def slow(mg: float = 84, doses: int = 2) -> str:
    return (
        '[[supplement]]\nid = "sr"\nname = "Mag-Tab SR"\nnutrient = "magnesium"\nunit = "tablet"\n'
        f'release = "slow"\nmg_per_unit = {mg}\ndoses_per_day = {doses}\n\n'
    )


def fixed(sid: str, nutrient: str, with_: str, *, mg: float | None = None, units: float = 1) -> str:
    """A supplement taken with fixed meals (`with`/`units`)."""
    text = f'[[supplement]]\nid = "{sid}"\nname = "{sid}"\nnutrient = "{nutrient}"\nunit = "tablet"\n'
    if mg is not None:
        text += f"mg_per_unit = {mg}\n"
    return text + f'with = ["{with_}"]\nunits = {units}\n\n'


def magnesium(daily: float, **extra: str) -> str:
    """The [magnesium] table; `extra` values are TOML value text, e.g. phytate='"delay"'."""
    return f"[magnesium]\ndaily_mg = {daily}\n" + "".join(f"{key} = {value}\n" for key, value in extra.items()) + "\n"


def calcium(mg: float = 100) -> str:
    """The paired calcium: no `with`, step 1 → one step = `mg`."""
    return (
        '[[supplement]]\nid = "calcium"\nname = "Calcium"\nnutrient = "calcium"\nunit = "tablet"\n'
        f"mg_per_unit = {mg}\n\n"
    )
