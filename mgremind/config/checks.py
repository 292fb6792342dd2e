"""Cross-checks: what no single table can see (a meal named twice on a day, a second
splitting magnesium, a supplement with no placement) and warnings about the plan as a whole."""

from __future__ import annotations

from collections.abc import Sequence

from mgremind import reference
from mgremind.config.readers import Problems
from mgremind.config.values import suggestion
from mgremind.model import WEEKDAYS, Magnesium, Meal, Supplement


def check_meals(meals: Sequence[Meal], problems: Problems) -> None:
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


def check_supplements(
    supplements: Sequence[Supplement], meals: Sequence[Meal], magnesium: Magnesium, problems: Problems
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
                    f"{supplement.key}.with[{index}]", f'no meal named "{meal}"{suggestion(meal, meal_names)}'
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
            check_step_count(supplement, magnesium, problems)
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


def check_step_count(supplement: Supplement, magnesium: Magnesium, problems: Problems) -> None:
    if supplement.mg_per_unit is None or magnesium.daily_mg is None:
        return
    step_mg = supplement.step * supplement.mg_per_unit
    if magnesium.daily_mg > MAX_STEPS_A_DAY * step_mg:  # multiplied, not divided: step_mg may underflow to 0
        problems.error(
            f"{supplement.key}.step",
            f"a step of {supplement.step:g} {supplement.unit} ({step_mg:g} mg) splits daily_mg "
            f"{magnesium.daily_mg:g} mg into more than {MAX_STEPS_A_DAY} doses; use a larger step",
        )


def warn_about_supplements(supplements: Sequence[Supplement], magnesium: Magnesium, problems: Problems) -> None:
    oxide_said = False  # a form's note is said once (SPEC §2 v2), at the first supplement of that form
    for supplement in supplements:
        if supplement.is_magnesium and supplement.form is not None and supplement.form.name == "oxide":
            if not oxide_said:
                problems.warn(supplement.key, f"magnesium oxide is {supplement.form.note} (SEED)")
            oxide_said = True
        if supplement.keep_refrigerated:  # each liquid: the unit is why it is one (readers._keep_refrigerated)
            problems.warn(
                supplement.key,
                f"liquid magnesium chloride ({supplement.unit}): {reference.LIQUID_CHLORIDE_NOTE} (SEED)",
            )
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
            f"a calcium:magnesium ratio of {ratio:g} is outside {low:g}–{high:g}, the range mgremind warns "
            f"outside of ({reference.CALCIUM_RATIO_SOURCE})",
        )
    if ratio > 0 and not any(s.is_calcium and not s.is_fixed for s in supplements):
        problems.warn("magnesium.calcium_ratio", 'has no effect: no calcium supplement without "with" to pair')


def _mg(value: float) -> str:
    return f"{value:g}"


def warn_about_steps(supplements: Sequence[Supplement], magnesium: Magnesium, problems: Problems) -> None:
    """SPEC §2 v2: a step of the splitting magnesium larger than daily_mg or max_dose_mg is never
    taken. With nothing else planned that is an error (plan.plan_problems names it); beside other
    reminders each day only shows "0 of 300 mg", so `check` says why, once."""
    daily = magnesium.daily_mg
    for supplement in supplements:
        if not (supplement.is_magnesium and supplement.release == "immediate" and not supplement.is_fixed):
            continue
        if supplement.mg_per_unit is None or daily is None:
            return
        step_mg = supplement.step * supplement.mg_per_unit
        if round(step_mg * 1000) > round(daily * 1000):
            limit = f"daily_mg {_mg(daily)} mg"
        elif round(step_mg * 1000) > round(magnesium.max_dose_mg * 1000):
            limit = f"max_dose_mg {_mg(magnesium.max_dose_mg)} mg"
        else:
            return
        problems.warn(
            f"{supplement.key}.step",
            f"one step of {supplement.name} is {_mg(step_mg)} mg, more than {limit}: it is never taken; "
            "use a smaller step (e.g. 0.5 of a scored tablet) or unit",
        )
        return  # one splitting magnesium (a second is an error of check_supplements)
