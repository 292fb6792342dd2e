"""The day planner (SPEC §2) pinned to hand-computed cases, one or more per rule.

Every expected number is derived from the SPEC rules by hand; the arithmetic is in the
comment beside it. Dates: 2026-11-23 is a Monday, 2026-11-25 a Wednesday, 2026-11-28 a
Saturday. Configurations without `timezone` use UTC (conftest's stand-in system zone).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from conftest import config_from, monday
from plans import Layout, citrate, fixed, layout, magnesium, meal, slow
from plans import only as reminder

from mgremind.model import Config, ConfigError
from mgremind.plan import plan_day, plan_problems, upcoming, wall_clock_instant

UTC = dt.timezone.utc
MON = monday()  # 2026-11-23
WED = dt.date(2026, 11, 25)
SAT = dt.date(2026, 11, 28)


# ---------------------------------------------------------------------------- helpers


def in_utc(at: dt.datetime) -> dt.datetime:
    """`at` as a UTC instant. Reminder times are aware in the plan's zone, and Python compares an
    instant in a repeated hour as never equal to any other zone's (PEP 495) and subtracts two times
    of one zone by their wall clocks; UTC is the safe way to compare and measure them."""
    return at.astimezone(UTC)


THREE_MEALS = meal("breakfast", "07:00") + meal("lunch", "12:30") + meal("dinner", "18:30")
LENTIL_LUNCH = meal("breakfast", "07:00") + meal("lunch", "12:30", foods=("lentil soup",)) + meal("dinner", "18:30")


# ---------------------------------------------------------------------------- 1. meals of the day


def test_meals_of_the_day_follow_the_weekday_and_a_meal_name_may_repeat_on_other_days() -> None:
    config = config_from(
        meal("breakfast", "07:00", days='["mon", "tue", "wed", "thu", "fri"]')
        + meal("breakfast", "09:30", days='["sat", "sun"]')
        + meal("dinner", "18:30")
        + citrate(100)
        + magnesium(200)
    )
    # T = 200, step 100 → floor(200/100) = 2 steps: breakfast (0, earlier of the tie), then dinner (0 < 100).
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    # Saturday: the weekend breakfast at 09:30, same name and so the same id scheme.
    assert layout(plan_day(config, SAT)) == [
        ("2026-11-28/breakfast", "09:30", {"citrate": 100}),
        ("2026-11-28/dinner", "18:30", {"citrate": 100}),
    ]


def test_a_meal_limited_to_one_weekday_only_gets_a_share_that_day() -> None:
    config = config_from(
        meal("breakfast", "07:00") + meal("snack", "15:00", days='["wed"]') + meal("dinner", "18:30")
        + citrate(100) + magnesium(300)
    )  # fmt: skip
    # Monday: slots breakfast, dinner; 3 steps: b 0→100, d 0→100, tie 100/100 → earlier b → 200 (≤ max 200).
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 200}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    # Wednesday: slots breakfast, snack, dinner; 3 steps: one each (each time the earliest empty slot).
    assert layout(plan_day(config, WED)) == [
        ("2026-11-25/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-25/snack", "15:00", {"citrate": 100}),
        ("2026-11-25/dinner", "18:30", {"citrate": 100}),
    ]


def test_reminders_are_in_time_order_with_ids_date_slash_meal_whatever_the_config_order() -> None:
    config = config_from(
        meal("dinner", "18:30") + meal("breakfast", "07:00") + meal("lunch", "12:30") + citrate(100) + magnesium(300)
    )
    plan = plan_day(config, MON)
    # 3 steps over the slots in time order (breakfast, lunch, dinner): 100 each.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    assert [in_utc(r.at) for r in plan.reminders] == sorted(in_utc(r.at) for r in plan.reminders)
    assert [r.meal for r in plan.reminders] == ["breakfast", "lunch", "dinner"]
    assert not any(r.delayed for r in plan.reminders)


def test_a_slot_that_holds_nothing_gets_no_reminder() -> None:
    config = config_from(THREE_MEALS + citrate(100) + magnesium(100))
    # T = 100 → 1 step → breakfast (earliest of the three empty slots); lunch and dinner hold nothing.
    assert layout(plan_day(config, MON)) == [("2026-11-23/breakfast", "07:00", {"citrate": 100})]


# ---------------------------------------------------------------------------- 1. phytate-rich meals


@pytest.mark.parametrize(
    ("food", "rich"),
    [
        ("black beans", True),  # "bean" + plural "s"
        ("bean", True),
        ("lentil soup", True),
        ("chickpeas", True),  # "chickpea" + "s"
        ("pea soup", True),
        ("peas", True),
        ("peach", False),  # "pea" is not a whole word in "peach"
        ("peaches", False),
        ("pear", False),
        ("oat", True),
        ("Oats", True),  # case-insensitive, plural
        ("goat cheese", False),  # "oat" is not a whole word in "goat"
        ("Whole Wheat toast", True),  # a multi-word entry, case-insensitive
        ("white toast", False),
        ("rice", False),
        ("brown rice", True),
        ("peanut butter", True),
    ],
)
def test_phytate_rich_by_foods_as_whole_words_with_plural(food: str, rich: bool) -> None:
    config = config_from(
        meal("breakfast", "07:00", foods=(food,)) + meal("dinner", "19:00") + citrate() + magnesium(100)
    )
    assert config.meals[0].phytate_rich is rich


def test_configured_phytate_foods_extend_the_built_in_list() -> None:
    meals = (
        meal("breakfast", "07:00", foods=("kamut bread",))  # not on the reference's list
        + meal("lunch", "12:00", foods=("potato knishes",))  # "knish" + plural "es"
        + meal("dinner", "19:00", foods=("lentil stew",))  # the built-in list still applies
        + meal("supper", "21:00", foods=("cheese",))
    )
    plain = config_from(meals + citrate() + magnesium(100))
    assert [m.phytate_rich for m in plain.meals] == [False, False, True, False]
    extended = config_from(meals + citrate() + magnesium(100, phytate_foods='["Kamut", "knish"]'))
    assert [m.phytate_rich for m in extended.meals] == [True, True, True, False]


def test_explicit_phytate_wins_over_foods() -> None:
    config = config_from(
        meal("breakfast", "07:00", foods=("white toast",), phytate=True)
        + meal("lunch", "12:30", foods=("lentil soup",), phytate=False)
        + meal("dinner", "18:30")
        + citrate(100)
        + magnesium(300)
    )
    assert [m.phytate_rich for m in config.meals] == [True, False, False]
    # move: breakfast gets no magnesium; 3 steps over lunch, dinner: l 100, d 100, tie → l 200.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/lunch", "12:30", {"citrate": 200}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]


# ---------------------------------------------------------------------------- 2. titration


TITRATION = """
[titration]
start = 2026-11-20
start_mg = 100
step_mg = 50
every_days = 3
"""


@pytest.mark.parametrize(
    ("day", "target"),
    [
        (dt.date(2026, 11, 20), 100),  # D - start = 0 → 100 + 50*0
        (dt.date(2026, 11, 22), 100),  # 2 days → floor(2/3) = 0 → 100
        (dt.date(2026, 11, 23), 150),  # 3 → floor(3/3) = 1 → 150
        (dt.date(2026, 11, 28), 200),  # 8 → floor(8/3) = 2 → 200
        (dt.date(2026, 12, 2), 300),  # 12 → 4 → 300
        (dt.date(2026, 12, 4), 300),  # 14 → floor(14/3) = 4 → 300
        (dt.date(2026, 12, 5), 330),  # 15 → 5 → 350, min(330, 350) = 330
        (dt.date(2027, 6, 1), 330),  # long after: daily_mg
    ],
)
def test_titration_target(day: dt.date, target: float) -> None:
    # Steps of 10 mg divide every target, so the day's magnesium is exactly T.
    config = config_from(THREE_MEALS + citrate(10) + magnesium(330) + TITRATION)
    plan = plan_day(config, day)
    assert plan.magnesium_target_mg == target
    assert plan.magnesium_mg == target
    assert sum(r.magnesium_mg for r in plan.reminders) == target


def test_no_magnesium_at_all_before_titration_start_but_other_fixed_supplements_stay() -> None:
    config = config_from(
        meal("breakfast", "07:00")
        + meal("dinner", "19:00")
        + fixed("glycinate", "magnesium", "breakfast", mg=100)
        + fixed("vitd", "vitamin D", "dinner")
        + citrate(100)
        + magnesium(300)
        + TITRATION
    )
    before = plan_day(config, dt.date(2026, 11, 19))  # one day before start → T = 0
    assert before.magnesium_target_mg == 0
    assert before.magnesium_mg == 0
    assert layout(before) == [("2026-11-19/dinner", "19:00", {"vitd": None})]
    assert before.warnings == ()
    # On start: T = 100; the fixed 100 mg glycinate counts toward T → R = 0, no citrate.
    assert layout(plan_day(config, dt.date(2026, 11, 20))) == [
        ("2026-11-20/breakfast", "07:00", {"glycinate": 100}),
        ("2026-11-20/dinner", "19:00", {"vitd": None}),
    ]


# ---------------------------------------------------------------------------- 3. phytate: move / delay


def test_move_gives_a_phytate_rich_meal_no_magnesium_and_its_share_to_the_others() -> None:
    config = config_from(LENTIL_LUNCH + citrate(100) + magnesium(300))
    plan = plan_day(config, MON)
    # Slots: breakfast, dinner (lunch dropped). 3 steps: b 100, d 100, tie → b 200 (= max 200).
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 200}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    assert plan.magnesium_mg == 300
    assert plan.warnings == ()


def test_delay_moves_the_magnesium_to_meal_plus_gap_and_lead_skips_the_delayed_reminder() -> None:
    config = config_from(
        '[reminders]\nlead = "15m"\n\n' + LENTIL_LUNCH + citrate(100) + magnesium(300, phytate='"delay"')
    )
    plan = plan_day(config, MON)
    # Slots: breakfast 07:00, lunch+delay 12:30 + 2h = 14:30, dinner 18:30; 3 steps → 100 each.
    # Reminders: meal slots at time - 15m (06:45, 18:15); the delayed one at its time (14:30).
    assert layout(plan) == [
        ("2026-11-23/breakfast", "06:45", {"citrate": 100}),
        ("2026-11-23/lunch+delay", "14:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:15", {"citrate": 100}),
    ]
    delayed = reminder(plan, "2026-11-23/lunch+delay")
    assert delayed.delayed is True
    assert delayed.meal == "lunch"
    assert any("not with this meal" in note and "lentil soup" in note for note in delayed.notes)
    assert reminder(plan, "2026-11-23/breakfast").delayed is False


def test_move_falls_back_to_delay_on_a_day_whose_meals_are_all_phytate_rich() -> None:
    config = config_from(
        meal("breakfast", "07:00", foods=("oatmeal",))
        + meal("lunch", "12:00", days='["sat"]', foods=("cheese sandwich",))
        + meal("dinner", "19:00", foods=("bean chili",))
        + citrate(100)
        + magnesium(200)
    )
    monday_plan = plan_day(config, MON)
    # Monday: breakfast, dinner, both phytate-rich → delay: slots 07:00+2h = 09:00, 19:00+2h = 21:00;
    # 2 steps → 100 each; a warning says so.
    assert layout(monday_plan) == [
        ("2026-11-23/breakfast+delay", "09:00", {"citrate": 100}),
        ("2026-11-23/dinner+delay", "21:00", {"citrate": 100}),
    ]
    assert all(r.delayed for r in monday_plan.reminders)
    assert len(monday_plan.warnings) == 1
    assert "phytate-rich" in monday_plan.warnings[0]
    # Saturday has a plain lunch: move keeps working; 2 steps → lunch 100, then 200 (≤ max 200).
    saturday = plan_day(config, SAT)
    assert layout(saturday) == [("2026-11-28/lunch", "12:00", {"citrate": 200})]
    assert saturday.warnings == ()


# ---------------------------------------------------------------------------- 4. fixed doses


def test_fixed_non_magnesium_stays_at_a_phytate_rich_meal_under_move() -> None:
    config = config_from(LENTIL_LUNCH + fixed("vitd", "vitamin D", "lunch") + citrate(100) + magnesium(300))
    plan = plan_day(config, MON)
    # Magnesium as without vitamin D: b 200, d 100 (see the move test); vitamin D at lunch 12:30.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 200}),
        ("2026-11-23/lunch", "12:30", {"vitd": None}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    lunch = reminder(plan, "2026-11-23/lunch")
    assert lunch.delayed is False
    assert lunch.magnesium_mg == 0
    assert any("no magnesium with this meal" in note and "lentil soup" in note for note in lunch.notes)


def test_fixed_non_magnesium_stays_at_a_phytate_rich_meal_under_delay() -> None:
    config = config_from(
        LENTIL_LUNCH + fixed("vitd", "vitamin D", "lunch") + citrate(100) + magnesium(300, phytate='"delay"')
    )
    # Vitamin D at lunch 12:30; magnesium slots b 07:00, lunch+delay 14:30, d 18:30 → 100 each.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-23/lunch", "12:30", {"vitd": None}),
        ("2026-11-23/lunch+delay", "14:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]


def test_fixed_magnesium_counts_toward_the_target() -> None:
    config = config_from(
        meal("breakfast", "07:00") + meal("dinner", "19:00")
        + fixed("glycinate", "magnesium", "breakfast", mg=100) + citrate(100) + magnesium(300)
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Fixed 100 at breakfast → R = 300 - 100 = 200 → 2 steps: d (0 < 100) → 100; tie 100/100 → b → 200.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"glycinate": 100, "citrate": 100}),
        ("2026-11-23/dinner", "19:00", {"citrate": 100}),
    ]
    assert plan.magnesium_mg == 300


def test_fixed_magnesium_at_a_phytate_meal_under_move_is_taken_phytate_gap_after_it() -> None:
    config = config_from(
        '[reminders]\nlead = "10m"\n\n'
        + LENTIL_LUNCH
        + fixed("glycinate", "magnesium", "lunch", mg=100)
        + citrate(100)
        + magnesium(300)
    )
    plan = plan_day(config, MON)
    # Glycinate 100 at lunch 12:30 + 2h = 14:30 (delayed: no lead); R = 200 → 2 steps over the
    # magnesium slots b, d (the delayed slot does not take the small doses under move): 100 each.
    # Meal reminders at time - 10m: 06:50, 18:20. Lunch itself holds nothing → no reminder.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "06:50", {"citrate": 100}),
        ("2026-11-23/lunch+delay", "14:30", {"glycinate": 100}),
        ("2026-11-23/dinner", "18:20", {"citrate": 100}),
    ]
    assert reminder(plan, "2026-11-23/lunch+delay").delayed is True
    assert plan.magnesium_mg == 300


def test_fixed_magnesium_at_a_phytate_meal_under_delay_goes_to_the_delayed_slot() -> None:
    config = config_from(
        LENTIL_LUNCH + fixed("glycinate", "magnesium", "lunch", mg=100) + citrate(100)
        + magnesium(400, phytate='"delay"')
    )  # fmt: skip
    # Glycinate 100 at 14:30; R = 300 → 3 steps over b (0), l+delay (100), d (0):
    # b → 100; d → 100; all 100, tie → b → 200.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 200}),
        ("2026-11-23/lunch+delay", "14:30", {"glycinate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]


# ---------------------------------------------------------------------------- 5. slow release


def test_slow_release_is_placed_greedily_at_least_the_gap_apart() -> None:
    config = config_from(
        meal("breakfast", "06:00") + meal("brunch", "10:00") + meal("lunch", "14:00")
        + meal("tea", "18:00") + meal("supper", "22:00") + slow(50, doses=3) + magnesium(150)
    )  # fmt: skip
    plan = plan_day(config, MON)
    # 06:00 (earliest); then the earliest ≥ 8h later: 10:00 is 4h, 14:00 is exactly 8h → 14:00;
    # then 18:00 is 4h, 22:00 is 8h → 22:00. 3 × 50 = 150 = T.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "06:00", {"sr": 50}),
        ("2026-11-23/lunch", "14:00", {"sr": 50}),
        ("2026-11-23/supper", "22:00", {"sr": 50}),
    ]
    assert plan.warnings == ()


def test_slow_release_is_placed_only_while_the_day_stays_within_the_target() -> None:
    config = config_from(meal("breakfast", "07:00") + meal("dinner", "19:00") + slow(84) + citrate(50) + magnesium(150))
    plan = plan_day(config, MON)
    # Slow: 84 ≤ 150 placed at breakfast; a second 84 would make 168 > 150 → not placed.
    # R = 150 - 84 = 66 → floor(66/50) = 1 step → least so far: dinner (0) → 50. Total 134;
    # the 16 mg left is less than one step: no warning.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"sr": 84}),
        ("2026-11-23/dinner", "19:00", {"citrate": 50}),
    ]
    assert plan.magnesium_mg == 134
    assert plan.warnings == ()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # move: slots b 07:00, d 19:00 (lunch dropped) → b, then d (12h ≥ 8h).
        ("move", [("2026-11-23/breakfast", "07:00", {"sr": 84}), ("2026-11-23/dinner", "19:00", {"sr": 84})]),
        # delay: slots b 07:00, lunch+delay 15:00 + 2h = 17:00, d 19:00 → b, then 17:00 (10h ≥ 8h).
        ("delay", [("2026-11-23/breakfast", "07:00", {"sr": 84}), ("2026-11-23/lunch+delay", "17:00", {"sr": 84})]),
    ],
)
def test_slow_release_obeys_the_phytate_rule(mode: str, expected: Layout) -> None:
    config = config_from(
        meal("breakfast", "07:00") + meal("lunch", "15:00", foods=("lentil soup",)) + meal("dinner", "19:00")
        + slow(84) + magnesium(168, phytate=f'"{mode}"')
    )  # fmt: skip
    assert layout(plan_day(config, MON)) == expected


# ---------------------------------------------------------------------------- 6. small doses


def test_spec_section_3_example_day() -> None:
    config = config_from(
        'timezone = "Europe/Berlin"\n\n'
        + meal("breakfast", "07:30") + meal("lunch", "12:30") + meal("dinner", "18:30")
        + slow(84).replace('id = "sr"', 'id = "slowmag"')
        + citrate(100)
        + '[[supplement]]\nid = "calcium"\nname = "Calcium carbonate"\nnutrient = "calcium"\n'
        'unit = "tablet"\nmg_per_unit = 250\nstep = 0.5\n\n'
        + magnesium(400, calcium_ratio="1.0")
    )  # fmt: skip
    plan = plan_day(config, WED)
    # Slow 84 at breakfast 07:30 and dinner 18:30 (11h ≥ 8h; lunch is only 5h after breakfast).
    # R = 400 - 168 = 232 → floor(232/100) = 2 steps: lunch (0) → 100; then b 84, d 84 tie → b 184.
    # 368 of 400: the 32 mg left is under one step.
    # Calcium (step 0.5 × 250 = 125 mg, ratio 1): b 184 → |184-125| = 59 < |184-250| = 66 → 125;
    # lunch 100 → 125 (25 away, 0 is 100 away); dinner 84 → 125 (41 away, 0 is 84 away). 3 × 125 = 375.
    assert plan.magnesium_target_mg == 400
    assert plan.magnesium_mg == 368
    assert plan.calcium_mg == 375
    assert layout(plan) == [
        ("2026-11-25/breakfast", "07:30", {"slowmag": 84, "citrate": 100, "calcium": 125}),
        ("2026-11-25/lunch", "12:30", {"citrate": 100, "calcium": 125}),
        ("2026-11-25/dinner", "18:30", {"slowmag": 84, "calcium": 125}),
    ]
    breakfast = reminder(plan, "2026-11-25/breakfast")
    assert breakfast.at.isoformat() == "2026-11-25T07:30:00+01:00"
    assert breakfast.magnesium_mg == 184
    assert [(i.supplement.id, i.units, i.mg) for i in breakfast.items] == [
        ("slowmag", 1, 84),
        ("citrate", 1, 100),
        ("calcium", 0.5, 125),
    ]
    # SPEC §3 shows "warnings": [] for this day: the 350 mg UL is a warning about daily_mg (`check`).
    assert plan.warnings == ()


def test_a_remainder_smaller_than_one_step_gives_no_warning() -> None:
    config = config_from(meal("breakfast", "07:00") + meal("dinner", "19:00") + citrate(100) + magnesium(250))
    plan = plan_day(config, MON)
    # R = 250 → floor(250/100) = 2 steps → 100 + 100 = 200; 50 left < one step of 100.
    assert plan.magnesium_mg == 200
    assert plan.magnesium_target_mg == 250
    assert plan.warnings == ()


def test_each_step_goes_to_the_slot_with_least_magnesium_so_far() -> None:
    config = config_from(
        meal("breakfast", "07:00") + meal("lunch", "12:00") + meal("dinner", "18:00")
        + fixed("glycinate", "magnesium", "breakfast", mg=150) + citrate(50) + magnesium(300)
    )  # fmt: skip
    # Fixed 150 at breakfast → R = 150 → 3 steps of 50 over b 150, l 0, d 0:
    # l (0, earlier than d) → 50; d (0) → 50; l/d tie at 50 → l → 100. Breakfast keeps 150.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"glycinate": 150}),
        ("2026-11-23/lunch", "12:00", {"citrate": 100}),
        ("2026-11-23/dinner", "18:00", {"citrate": 50}),
    ]


def test_steps_that_would_pass_max_dose_are_dropped_with_a_warning() -> None:
    config = config_from(THREE_MEALS + citrate(100) + magnesium(400, max_dose_mg="150"))
    plan = plan_day(config, MON)
    # 4 steps: b, l, d get 100 each; the 4th would make 200 > 150 anywhere → dropped.
    # Planned 300 of 400; the day never exceeds T.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    assert plan.magnesium_mg == 300
    # 400 - 300 = 100 = one step short: more than rounding, so the warning says why (SPEC §2 v2).
    assert plan.warnings == (
        "target not reached: 300 of 400 mg planned — another step of 100 mg would pass "
        "max_dose_mg 150 mg at every slot that takes magnesium (breakfast, lunch, dinner)",
    )


def test_fixed_and_slow_magnesium_above_max_dose_warn_and_are_not_changed() -> None:
    config = config_from(
        meal("breakfast", "07:00") + meal("dinner", "19:00") + slow(250) + citrate(100) + magnesium(500)
    )
    plan = plan_day(config, MON)
    # Slow 250 at 07:00 and at 19:00 (12h ≥ 8h): 500 = T → R = 0, no citrate.
    # Each slot's 250 > max_dose_mg 200 (the default) → one warning per slot, the dose stays 1 tablet.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"sr": 250}),
        ("2026-11-23/dinner", "19:00", {"sr": 250}),
    ]
    assert all(item.units == 1 for r in plan.reminders for item in r.items)
    over = [w for w in plan.warnings if "max_dose_mg" in w]
    assert len(over) == 2
    assert "breakfast" in over[0]
    assert "dinner" in over[1]
    assert all("250" in w for w in over)


def test_example_config_at_full_target_with_fractional_elemental_steps(example_config: Config) -> None:
    day = dt.date(2026, 12, 5)  # a Saturday: breakfast 09:30
    plan = plan_day(example_config, day)
    # T: 15 days after start → 100 + 50*floor(15/3) = 350 → min(330, 350) = 330.
    # Lunch (lentil soup) is phytate-rich → move: slots breakfast 09:30, dinner 18:30.
    # Slow 84 at 09:30 and at 18:30 (9h ≥ 8h) → 168; R = 162; citrate 500 mg × 0.162 = 81 mg a capsule
    # → floor(162/81) = 2 steps: b 84 / d 84 tie → b 165; then d 165. Total 330.
    # Calcium: 165 → 125 (40 away) rather than 250 (85 away) at each → 250.
    assert plan.magnesium_target_mg == 330
    assert plan.magnesium_mg == 330
    assert plan.calcium_mg == 250
    assert layout(plan) == [
        ("2026-12-05/breakfast", "09:30", {"slowmag": 84, "citrate": 81, "calcium": 125, "bcomplex": None}),
        ("2026-12-05/dinner", "18:30", {"slowmag": 84, "citrate": 81, "calcium": 125, "vitd": None}),
    ]
    assert plan.warnings == ()


def test_example_config_early_in_the_ramp(example_config: Config) -> None:
    plan = plan_day(example_config, MON)  # 2026-11-23, a weekday: breakfast 07:00
    # T: 3 days after start → 100 + 50*1 = 150. Slow 84 at breakfast (room 66); a second 84 would
    # pass 150 → not placed. R = 66 < one 81 mg capsule → no small dose, no warning. Total 84.
    # Calcium: 84 → 125 (41 away) rather than 0 (84 away).
    assert plan.magnesium_target_mg == 150
    assert plan.magnesium_mg == 84
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"slowmag": 84, "calcium": 125, "bcomplex": None}),
        ("2026-11-23/dinner", "18:30", {"vitd": None}),
    ]
    assert plan.warnings == ()


# ---------------------------------------------------------------------------- 7. calcium


@pytest.mark.parametrize(
    ("ratio", "mg", "units", "calcium"),
    [
        (1.0, 150, 0.5, 100),  # wanted 150: 100 and 200 both 50 away → tie → the lower, 100
        (1.0, 160, 1.0, 200),  # wanted 160: 200 is 40 away, 100 is 60 → 200
        (2.0, 100, 1.0, 200),  # wanted 200 exactly
        (0.5, 140, 0.5, 100),  # wanted 70: 100 is 30 away, 0 is 70 → 100
        (1.5, 100, 0.5, 100),  # wanted 150 → tie → 100
        (1.0, 260, 1.5, 300),  # wanted 260: 300 is 40 away, 200 is 60 → 300
        (1.0, 40, 0.0, 0),  # wanted 40: 0 is 40 away, 100 is 60 → no calcium
    ],
)
def test_calcium_is_nearest_to_ratio_times_magnesium_in_its_steps(
    ratio: float, mg: float, units: float, calcium: float
) -> None:
    # One meal, one step of `mg` magnesium; calcium tablet 200 mg with step 0.5 → steps of 100 mg.
    config = config_from(
        meal("breakfast", "08:00")
        + citrate(mg)
        + '[[supplement]]\nid = "calcium"\nnutrient = "calcium"\nunit = "tablet"\nmg_per_unit = 200\nstep = 0.5\n\n'
        + magnesium(mg, calcium_ratio=str(ratio), max_dose_mg="400")
    )
    plan = plan_day(config, MON)
    (only,) = plan.reminders
    assert only.magnesium_mg == mg
    paired = [(item.units, item.mg) for item in only.items if item.supplement.id == "calcium"]
    assert paired == ([(units, calcium)] if units else [])
    assert plan.calcium_mg == calcium


# ---------------------------------------------------------------------------- 8. reminders


def test_lead_moves_meal_reminders_earlier() -> None:
    config = config_from(
        "[reminders]\nlead = \"30m\"\n\n" + meal("breakfast", "07:00") + meal("dinner", "18:30")
        + citrate(100) + magnesium(200)
    )  # fmt: skip
    # 07:00 - 30m = 06:30; 18:30 - 30m = 18:00.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "06:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:00", {"citrate": 100}),
    ]


def test_a_delayed_reminder_is_ordered_by_its_own_time() -> None:
    config = config_from(
        meal("breakfast", "07:00", foods=("oatmeal",)) + meal("lunch", "11:30") + meal("dinner", "18:00")
        + fixed("vitd", "vitamin D", "breakfast") + citrate(100) + magnesium(300, phytate='"delay"', phytate_gap='"4h"')
    )  # fmt: skip
    # Slots: breakfast 07:00 (vitamin D only), breakfast+delay 07:00 + 4h = 11:00, lunch 11:30 (after the
    # window [07:00, 11:00)), dinner 18:00; 3 steps → breakfast+delay, lunch, dinner: 100 each.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"vitd": None}),
        ("2026-11-23/breakfast+delay", "11:00", {"citrate": 100}),
        ("2026-11-23/lunch", "11:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:00", {"citrate": 100}),
    ]


@pytest.mark.parametrize(
    ("daily", "warned"),
    [
        (350, False),  # 35 steps of 10 → 350: not above 350
        (360, True),  # 36 steps of 10 → 360 > 350
    ],
)
def test_a_daily_amount_above_the_350_mg_upper_limit_warns_once_for_the_plan(daily: float, warned: bool) -> None:
    # A day never exceeds T <= daily_mg, so the UL is a warning about daily_mg, shown by `check`;
    # the day's own warnings stay empty, as in the SPEC §3 example (368 mg, "warnings": []).
    config = config_from(THREE_MEALS + citrate(10) + magnesium(daily))
    plan = plan_day(config, MON)
    assert plan.magnesium_mg == daily
    ul = [w for w in config.warnings if "350" in w.message]
    assert len(ul) == (1 if warned else 0)
    assert plan.warnings == ()


# ---------------------------------------------------------------------------- 8. time zones, DST


@pytest.mark.parametrize(
    ("zone", "day", "time", "utc", "local"),
    [
        # New York springs forward 02:00 EST → 03:00 EDT (07:00 UTC): 02:30 does not exist → 03:00 EDT.
        ("America/New_York", dt.date(2026, 3, 8), "02:30", dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
         "2026-03-08T03:00:00-04:00"),
        # Falls back 02:00 EDT → 01:00 EST: 01:30 occurs twice → the first, 01:30 EDT = 05:30 UTC.
        ("America/New_York", dt.date(2026, 11, 1), "01:30", dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
         "2026-11-01T01:30:00-04:00"),
        # Berlin springs forward 02:00 CET → 03:00 CEST (01:00 UTC): 02:30 → 03:00 CEST = 01:00 UTC.
        ("Europe/Berlin", dt.date(2026, 3, 29), "02:30", dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
         "2026-03-29T03:00:00+02:00"),
        # Falls back 03:00 CEST → 02:00 CET: 02:30 first occurrence is CEST (+2) = 00:30 UTC.
        ("Europe/Berlin", dt.date(2026, 10, 25), "02:30", dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
         "2026-10-25T02:30:00+02:00"),
    ],
)  # fmt: skip
def test_meal_reminders_on_dst_change_days(zone: str, day: dt.date, time: str, utc: dt.datetime, local: str) -> None:
    config = config_from(f'timezone = "{zone}"\n\n' + meal("snack", time) + citrate(100) + magnesium(100))
    plan = plan_day(config, day)
    (only,) = plan.reminders  # fires once, also in a repeated hour
    assert only.id == f"{day.isoformat()}/snack"
    assert in_utc(only.at) == utc
    assert only.at.isoformat() == local


NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("zone", "day", "time", "utc"),
    [
        # An ordinary instant, and a zone without DST (Kolkata, +05:30).
        (ZoneInfo("UTC"), dt.date(2026, 6, 1), dt.time(12, 0), dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),
        (ZoneInfo("Asia/Kolkata"), dt.date(2026, 3, 8), dt.time(2, 30), dt.datetime(2026, 3, 7, 21, 0, tzinfo=UTC)),
        # New York, 2026-03-08: EST (-5) until 07:00 UTC, then EDT (-4); 02:00-02:59:59 do not exist.
        (NY, dt.date(2026, 3, 8), dt.time(1, 59), dt.datetime(2026, 3, 8, 6, 59, tzinfo=UTC)),  # 01:59 + 5h
        (NY, dt.date(2026, 3, 8), dt.time(2, 0), dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # gap → 03:00 EDT
        (NY, dt.date(2026, 3, 8), dt.time(2, 30, 15), dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # gap → 03:00
        (NY, dt.date(2026, 3, 8), dt.time(3, 0), dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # 03:00 + 4h
        (NY, dt.date(2026, 3, 8), dt.time(3, 30), dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        # New York, 2026-11-01: EDT until 06:00 UTC (02:00 EDT), then EST; 01:00-01:59:59 occur twice.
        (NY, dt.date(2026, 11, 1), dt.time(0, 59), dt.datetime(2026, 11, 1, 4, 59, tzinfo=UTC)),  # + 4h
        (NY, dt.date(2026, 11, 1), dt.time(1, 0), dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC)),  # first: EDT
        (NY, dt.date(2026, 11, 1), dt.time(1, 30), dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # first: EDT
        (NY, dt.date(2026, 11, 1), dt.time(2, 0), dt.datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),  # once, EST + 5h
        # Berlin, 2026-03-29: CET (+1) until 01:00 UTC, then CEST (+2); 02:00-02:59:59 do not exist.
        (BERLIN, dt.date(2026, 3, 29), dt.time(1, 59), dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),
        (BERLIN, dt.date(2026, 3, 29), dt.time(2, 59, 59), dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (BERLIN, dt.date(2026, 3, 29), dt.time(3, 0), dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # Berlin, 2026-10-25: CEST until 01:00 UTC (03:00 CEST), then CET; 02:00-02:59:59 occur twice.
        (BERLIN, dt.date(2026, 10, 25), dt.time(1, 59), dt.datetime(2026, 10, 24, 23, 59, tzinfo=UTC)),  # - 2h
        (BERLIN, dt.date(2026, 10, 25), dt.time(2, 0), dt.datetime(2026, 10, 25, 0, 0, tzinfo=UTC)),  # first: CEST
        (BERLIN, dt.date(2026, 10, 25), dt.time(2, 59), dt.datetime(2026, 10, 25, 0, 59, tzinfo=UTC)),
        (BERLIN, dt.date(2026, 10, 25), dt.time(3, 0), dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),  # CET - 1h
    ],
)
def test_wall_clock_instant(zone: ZoneInfo, day: dt.date, time: dt.time, utc: dt.datetime) -> None:
    instant = wall_clock_instant(day, time, zone)
    assert instant.utcoffset() is not None
    assert instant == utc


SLOW_DST_MEALS = (
    'timezone = "America/New_York"\n\n'
    + meal("night", "00:00") + meal("early", "07:00") + meal("breakfast", "08:00") + meal("late", "09:00")
)  # fmt: skip


@pytest.mark.parametrize(
    ("day", "second"),
    [
        # An ordinary day (EDT all day): 00:00 → 07:00 is 7h, 08:00 is 8h → breakfast.
        (dt.date(2026, 3, 9), "breakfast"),
        # Spring forward: 00:00 EST = 05:00Z; 07:00 EDT = 11:00Z (6h), 08:00 = 12:00Z (7h),
        # 09:00 = 13:00Z (8h) → late.
        (dt.date(2026, 3, 8), "late"),
        # Fall back: 00:00 EDT = 04:00Z; 07:00 EST = 12:00Z (8h) → early.
        (dt.date(2026, 11, 1), "early"),
    ],
)
def test_slow_release_gap_is_real_elapsed_time_across_dst(day: dt.date, second: str) -> None:
    config = config_from(SLOW_DST_MEALS + slow(100) + magnesium(200))
    plan = plan_day(config, day)
    assert [(r.meal, r.magnesium_mg) for r in plan.reminders] == [("night", 100), (second, 100)]
    assert in_utc(plan.reminders[1].at) - in_utc(plan.reminders[0].at) >= dt.timedelta(hours=8)
    assert plan.warnings == ()


@pytest.mark.parametrize(
    ("day", "time", "utc", "local", "offset_h"),
    [
        # 01:30 EST = 06:30Z, + 2h = 08:30Z = 04:30 EDT (a wall-clock sum would say 03:30).
        (dt.date(2026, 3, 8), "01:30", dt.datetime(2026, 3, 8, 8, 30, tzinfo=UTC), "04:30", -4),
        # 00:30 EDT = 04:30Z, + 2h = 06:30Z = 01:30 EST, the second 01:30 (a wall-clock sum: 02:30 EST).
        (dt.date(2026, 11, 1), "00:30", dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "01:30", -5),
    ],
)
def test_phytate_delay_is_real_elapsed_time_across_dst(
    day: dt.date, time: str, utc: dt.datetime, local: str, offset_h: int
) -> None:
    config = config_from(
        'timezone = "America/New_York"\n\n'
        + meal("supper", time, phytate=True)
        + citrate(100)
        + magnesium(100, phytate='"delay"')
    )
    (only,) = plan_day(config, day).reminders
    assert only.id == f"{day.isoformat()}/supper+delay"
    assert only.delayed is True
    assert in_utc(only.at) == utc
    assert only.at.strftime("%H:%M") == local
    assert only.at.utcoffset() == dt.timedelta(hours=offset_h)


def fall_back_hour() -> Config:
    return config_from(
        'timezone = "America/New_York"\n\n'
        + meal("snack", "01:30")
        + meal("supper", "01:40", phytate=True)
        + citrate(100)
        + magnesium(200, phytate='"delay"', phytate_gap='"45m"')
    )


FALL_BACK = dt.date(2026, 11, 1)
# snack 01:30, first occurrence, EDT = 05:30Z (before supper: outside its phytate window);
# supper 01:40 EDT = 05:40Z, delayed 45m → 06:25Z = 01:25 EST (the second pass through 01:xx).
# Magnesium slots in time order: snack, supper+delay; T = 200 → 2 steps → 100 each. In real time
# the snack (05:30Z) comes 55 min before supper+delay (06:25Z), although its wall clock (01:30)
# reads later than 01:25.


def test_reminders_are_in_real_time_order_in_a_repeated_hour() -> None:
    plan = plan_day(fall_back_hour(), FALL_BACK)
    assert [(r.id, in_utc(r.at)) for r in plan.reminders] == [
        ("2026-11-01/snack", dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ("2026-11-01/supper+delay", dt.datetime(2026, 11, 1, 6, 25, tzinfo=UTC)),
    ]
    assert plan.reminders[1].at.strftime("%H:%M %Z") == "01:25 EST"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 05:00Z: the next is the snack at 05:30Z.
        (dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC), "2026-11-01/snack"),
        # 01:45 EDT (= 05:45Z, the clock `next` reads in the plan's zone): the snack is past, the next is
        # supper+delay at 01:25 EST = 06:25Z, 40 min later.
        (
            dt.datetime(2026, 11, 1, 5, 45, tzinfo=UTC).astimezone(ZoneInfo("America/New_York")),
            "2026-11-01/supper+delay",
        ),
    ],
)
def test_upcoming_finds_the_next_reminder_in_a_repeated_hour(now: dt.datetime, expected: str) -> None:
    (first,) = upcoming(fall_back_hour(), now, 1)
    assert first.id == expected


# ---------------------------------------------------------------------------- impossible slow spacing


def test_impossible_slow_release_spacing_names_the_weekdays_meals_and_gap() -> None:
    text = (
        meal("breakfast", "07:00", days='["mon", "tue", "wed", "thu", "fri"]')
        + meal("dinner", "18:00", days='["mon", "tue", "wed", "thu", "fri"]')
        + meal("brunch", "10:00", days='["sat", "sun"]')
        + meal("dinner", "17:00", days='["sat", "sun"]')
        + slow(84)
        + magnesium(168)
    )
    with pytest.raises(ConfigError) as caught:
        config_from(text)
    # Weekdays: 07:00 → 18:00 is 11h ≥ 8h. Weekend: 10:00 → 17:00 is 7h < 8h.
    (problem,) = caught.value.problems
    assert problem.key == "supplement[0].doses_per_day"
    assert "Saturday, Sunday" in problem.message
    assert not any(day in problem.message for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"))
    assert "brunch 10:00" in problem.message
    assert "dinner 17:00" in problem.message
    assert "8h" in problem.message
    assert caught.value.lines()[0].startswith("config.toml: supplement[0].doses_per_day: ")


def test_spacing_counts_only_slots_that_can_take_magnesium() -> None:
    meals = meal("breakfast", "07:00") + meal("dinner", "19:00", foods=("bean chili",))
    # move: dinner takes no magnesium → one slot for two doses, every day.
    with pytest.raises(ConfigError) as caught:
        config_from(meals + slow(84) + magnesium(168))
    (problem,) = caught.value.problems
    assert "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday" in problem.message
    assert "breakfast 07:00" in problem.message
    assert "dinner" not in problem.message
    # delay: dinner+delay at 21:00 is 14h after breakfast → both doses fit.
    config = config_from(meals + slow(84) + magnesium(168, phytate='"delay"'))
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"sr": 84}),
        ("2026-11-23/dinner+delay", "21:00", {"sr": 84}),
    ]


def test_plan_problems_directly() -> None:
    config = config_from(meal("breakfast", "07:00") + meal("dinner", "19:00") + slow(84) + magnesium(168))
    assert plan_problems(config) == []  # 07:00 → 19:00 is 12h ≥ 8h
    wider = config._replace(magnesium=config.magnesium._replace(slow_release_gap=dt.timedelta(hours=13)))
    # 12h < 13h on every weekday.
    (problem,) = plan_problems(wider)
    assert problem.key == "supplement[0].doses_per_day"
    assert "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday" in problem.message
    assert "breakfast 07:00" in problem.message
    assert "dinner 19:00" in problem.message
    assert "13h" in problem.message


# ---------------------------------------------------------------------------- v2: phytate foods as people write them


@pytest.mark.parametrize(
    ("food", "rich"),
    [
        # SPEC §2.1 v2: hyphens and spaces inside a compound do not matter.
        ("wholewheat toast", True),  # "whole wheat", written as one word (the seed's own example)
        ("whole-wheat toast", True),
        ("Whole  Wheat toast", True),
        ("wholemeal bread", True),  # "wholemeal" for whole wheat
        ("whole-meal bread", True),
        ("whole meal bread", True),
        ("wholegrain crackers", True),  # reference: whole grain/wholegrain
        ("whole-grain crackers", True),
        # Synonyms of the reference: soya, soybean (soy), flaxseed (flax), linseed.
        ("soya milk", True),
        ("soybeans", True),  # "soybean" + plural "s"
        ("soy beans", True),
        ("flaxseed", True),
        ("flax-seed", True),
        ("linseed oil", True),
        ("lin seed", True),
        ("hazel nuts", True),  # "hazelnut" written apart, plural
        ("sunflower seeds", True),
        # Reference: "the whole grains spelt, amaranth and teff belong with the grains above".
        ("spelt bread", True),
        ("amaranth porridge", True),  # (porridge is on the list too)
        ("teff injera", True),
        # The ends of an entry stay word ends.
        ("peach", False),  # "pea"
        ("goat cheese", False),  # "oat"
        ("goat-cheese", False),
        ("soyuz", False),  # "soy" is not a whole word in it
        ("spelter", False),
        ("pineapple", False),
    ],
)
def test_phytate_foods_as_people_write_them(food: str, rich: bool) -> None:
    config = config_from(
        meal("breakfast", "07:00", foods=(food,)) + meal("dinner", "19:00") + citrate() + magnesium(100)
    )
    assert config.meals[0].phytate_rich is rich
    assert config.meals[0].phytate_foods == ((food,) if rich else ())


def test_configured_phytate_foods_ignore_spaces_and_hyphens_too() -> None:
    meals = (
        meal("breakfast", "07:00", foods=("kale chips",))
        + meal("lunch", "12:00", foods=("kalechips",))
        + meal("dinner", "19:00", foods=("kale-chips",))
        + meal("supper", "21:00", foods=("kale",))  # only part of the entry
    )
    config = config_from(meals + citrate() + magnesium(100, phytate_foods='["Kale-Chips"]'))
    assert [m.phytate_rich for m in config.meals] == [True, True, True, False]


# ---------------------------------------------------------------------------- v2: windows no magnesium enters


OATMEAL_BREAKFAST = meal("breakfast", "07:00", foods=("oatmeal",))


def test_move_blocks_an_ordinary_meal_inside_another_meals_phytate_window() -> None:
    config = config_from(
        OATMEAL_BREAKFAST + meal("snack", "08:00") + meal("dinner", "18:30") + citrate(100) + calcium_tablets()
        + magnesium(200, calcium_ratio="1.0")
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Phytate window [07:00, 07:00 + 2h) = [07:00, 09:00) holds the snack at 08:00 → blocked like a
    # phytate-rich meal: under move neither magnesium nor its calcium. Slots: dinner only; 2 steps of
    # 100 → dinner 100, then 200 (≤ max 200). Calcium 1:1 in 100 mg steps: 200.
    assert layout(plan) == [("2026-11-23/dinner", "18:30", {"citrate": 200, "calcium": 200})]
    # Both meals are named in the day's notes, with their rule, though no reminder is at them.
    assert plan.notes == (
        "breakfast: no magnesium — phytate-rich (oatmeal)",
        "snack: no magnesium — inside breakfast's phytate window 07:00–09:00 (oatmeal)",
    )
    assert plan.warnings == ()


def test_a_meal_at_the_end_of_a_phytate_window_is_free() -> None:
    config = config_from(OATMEAL_BREAKFAST + meal("snack", "09:00") + meal("dinner", "18:30") + citrate(100)
                         + magnesium(200))  # fmt: skip
    # The window is half-open, [07:00, 09:00): 09:00 is outside. Slots snack, dinner → 100 each.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/snack", "09:00", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]


def test_delay_takes_a_meal_inside_a_phytate_window_to_the_windows_end() -> None:
    config = config_from(
        OATMEAL_BREAKFAST + meal("snack", "08:00") + meal("dinner", "18:30") + citrate(100)
        + magnesium(300, phytate='"delay"')
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Breakfast (oatmeal): 07:00 + 2h = 09:00, outside every window → 09:00.
    # Snack 08:00 lies in [07:00, 09:00): it has no phytate of its own, so its dose goes to the first
    # instant from 08:00 outside every window: 09:00. Dinner 18:30. 3 steps → 100 each.
    assert layout(plan) == [
        ("2026-11-23/breakfast+delay", "09:00", {"citrate": 100}),
        ("2026-11-23/snack+delay", "09:00", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    assert reminder(plan, "2026-11-23/snack+delay").notes == (
        "not with snack: breakfast's phytate window 07:00–09:00 (oatmeal)",
    )
    assert plan.notes == (
        "breakfast: no magnesium — phytate-rich (oatmeal); 100 mg at 09:00 instead",
        "snack: no magnesium — inside breakfast's phytate window 07:00–09:00 (oatmeal); 100 mg at 09:00 instead",
    )


def test_a_delayed_dose_goes_past_another_meals_phytate_window() -> None:
    config = config_from(
        OATMEAL_BREAKFAST + meal("snack", "08:30", foods=("muesli",)) + meal("dinner", "18:30") + citrate(100)
        + magnesium(300, phytate='"delay"')
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Windows: breakfast [07:00, 09:00), snack [08:30, 10:30). Breakfast's dose: 07:00 + 2h = 09:00 lies
    # in the snack's window → 10:30. Snack's: 08:30 + 2h = 10:30, outside both → 10:30. Dinner 18:30.
    # 3 steps → 100 each. (v1 took breakfast's at 09:00, 30 min after the muesli.)
    assert layout(plan) == [
        ("2026-11-23/breakfast+delay", "10:30", {"citrate": 100}),
        ("2026-11-23/snack+delay", "10:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    assert reminder(plan, "2026-11-23/breakfast+delay").notes == (
        "not with this meal: oatmeal",
        "not within snack's phytate window 08:30–10:30 (muesli)",
    )


def test_a_window_never_pushes_a_dose_past_midnight_and_the_warning_names_it() -> None:
    config = config_from(
        meal("breakfast", "08:00") + meal("dinner", "22:30", foods=("oatmeal",)) + meal("nightcap", "23:45")
        + citrate(100) + magnesium(300, phytate='"delay"')
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Dinner's window [22:30, 00:30) holds the nightcap at 23:45: its dose would go to 00:30, past the
    # day's end, pushed there by a window → dropped with a warning naming the window.
    # Dinner's own phytate_gap takes its dose to Tue 00:30 (a delay of its own may cross midnight).
    # Slots: breakfast 08:00, dinner+delay Tue 00:30 → 3 steps: 100, 100, tie → breakfast 200.
    assert [(r.id, in_utc(r.at), r.magnesium_mg) for r in plan.reminders] == [
        ("2026-11-23/breakfast", dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC), 200),
        ("2026-11-23/dinner+delay", dt.datetime(2026, 11, 24, 0, 30, tzinfo=UTC), 100),
    ]
    assert plan.warnings == (
        "no time left today for the magnesium of nightcap: dinner's phytate window 22:30–00:30 (oatmeal)",
    )
    assert plan.notes[-1] == (
        "nightcap: no magnesium — inside dinner's phytate window 22:30–00:30 (oatmeal); "
        "no time left today outside the windows"
    )


def test_a_delay_past_midnight_stays_out_of_the_next_days_phytate_windows() -> None:
    config = config_from(
        meal("early", "00:30", foods=("oats",)) + meal("breakfast", "08:00")
        + meal("supper", "23:00", foods=("lentil soup",)) + citrate(100) + magnesium(200, phytate='"delay"')
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Supper 23:00 + 2h = Tue 01:00, inside Tuesday's early window [00:30, 02:30) → dropped, with a warning.
    # Early (Mon 00:30 + 2h = 02:30) and breakfast 08:00 take the 2 steps: 100 each.
    assert layout(plan) == [
        ("2026-11-23/early+delay", "02:30", {"citrate": 100}),
        ("2026-11-23/breakfast", "08:00", {"citrate": 100}),
    ]
    assert plan.warnings == (
        "no time left today for the magnesium of supper: supper's phytate window 23:00–01:00 (lentil soup); "
        "the next day's early's phytate window 00:30–02:30 (oats)",
    )


def test_a_meal_a_medicine_keeps_from_magnesium_keeps_its_dose_on_its_day() -> None:
    config = config_from(
        meal("breakfast", "08:00") + meal("brunch", "21:00", foods=("lentil soup",)) + citrate(100)
        + magnesium(200, phytate='"delay"', phytate_gap='"5h"')
        + '[[keep_apart]]\nname = "antibiotic"\ntimes = ["00:00"]\nbefore = "6h"\nafter = "2h"\n\n'
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Tuesday's 00:00 dose: window (Mon 18:00, Tue 02:00) holds brunch 21:00. Its own phytate_gap
    # gives 21:00 + 5h = Tue 02:00 (the window's open end: outside it), but a meal a medicine keeps
    # from magnesium keeps its dose on its day (SPEC §7): dropped, naming both windows. Breakfast
    # 08:00 (outside (Sun 18:00, Mon 02:00)) takes both steps: 100, then 200 (≤ max 200).
    assert layout(plan) == [("2026-11-23/breakfast", "08:00", {"citrate": 200})]
    (warning,) = plan.warnings
    assert warning.startswith(
        "no time left today for the magnesium of brunch: brunch's phytate window 21:00–02:00 (lentil soup); "
        "antibiotic 00:00, "
    )


def test_a_late_phytate_window_reaches_into_the_next_day() -> None:
    config = config_from(
        meal("night", "00:30") + meal("breakfast", "08:00") + meal("supper", "23:00", foods=("lentil soup",))
        + citrate(100) + magnesium(200)
    )  # fmt: skip
    plan = plan_day(config, dt.date(2026, 11, 24))
    # Monday's supper 23:00 opens [23:00, Tue 01:00): Tuesday's night meal at 00:30 is inside it →
    # blocked (move). Slots: breakfast 08:00 (supper itself is phytate-rich) → 100, then 200 (≤ max).
    assert layout(plan) == [("2026-11-24/breakfast", "08:00", {"citrate": 200})]
    assert plan.notes == (
        "night: no magnesium — inside the previous day's supper's phytate window 23:00–01:00 (lentil soup)",
        "supper: no magnesium — phytate-rich (lentil soup)",
    )


def calcium_tablets() -> str:
    """Calcium, 100 mg a tablet, paired (ratio given in [magnesium])."""
    return '[[supplement]]\nid = "calcium"\nnutrient = "calcium"\nunit = "tablet"\nmg_per_unit = 100\n\n'


# ---------------------------------------------------------------------------- v2: the slow-release gap everywhere


def slow_fixed(meals: str, mg: float = 84, sid: str = "srfix") -> str:
    """Slow-release magnesium taken with fixed meals (`with`, 1 tablet each)."""
    return (
        f'[[supplement]]\nid = "{sid}"\nname = "Mag-Tab SR"\nnutrient = "magnesium"\nunit = "tablet"\n'
        f'release = "slow"\nmg_per_unit = {mg}\nwith = {meals}\nunits = 1\n\n'
    )


def test_slow_release_keeps_its_gap_from_a_fixed_slow_release_dose() -> None:
    config = config_from(
        meal("breakfast", "07:00") + meal("lunch", "12:00") + meal("dinner", "19:00") + meal("late", "21:00")
        + slow_fixed('["lunch"]') + slow(50) + magnesium(300)
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Fixed: 84 at lunch 12:00. The other slow product, 2 doses, greedy: breakfast 07:00 is 5 h before
    # the lunch dose (< 8h) → skipped; lunch 12:00 is that very reminder → one slow dose → taken;
    # dinner 19:00 is 7 h after it → skipped; late 21:00 is 9 h → taken. 84 + 50 + 50 = 184 ≤ 300.
    # (v1 took 07:00 and 19:00: slow doses 5 h and 7 h from the lunch one.)
    assert layout(plan) == [
        ("2026-11-23/lunch", "12:00", {"srfix": 84, "sr": 50}),
        ("2026-11-23/late", "21:00", {"sr": 50}),
    ]
    assert plan.warnings == ()


def test_a_slow_release_delay_too_close_to_the_next_days_first_dose_is_not_made() -> None:
    config = config_from(
        meal("breakfast", "07:00") + meal("dinner", "23:00", foods=("bean chili",))
        + slow(84) + magnesium(168, phytate='"delay"')
    )  # fmt: skip
    plan = plan_day(config, MON)
    # The case: dinner 23:00 + 2h = Tue 01:00, only 6 h before Tuesday's first slow dose at
    # breakfast 07:00 (< 8h): that delay is not made. Breakfast 07:00 keeps its dose: 84 of 168.
    assert layout(plan) == [("2026-11-23/breakfast", "07:00", {"sr": 84})]
    assert plan.warnings == (
        "only 1 of 2 doses of Mag-Tab SR fit 8h apart today, the last 8h before the next day's first "
        "slow-release dose (breakfast 07:00)",
    )
    # Check accepts the plan: a delay that would land too close is dropped with a warning, no error.
    assert plan_problems(config) == []


def test_the_next_days_first_slow_dose_decides_how_late_today_may_go() -> None:
    meals = (
        meal("breakfast", "07:00", days='["mon", "tue", "wed", "thu", "fri"]')
        + meal("breakfast", "10:00", days='["sat", "sun"]')
        + meal("supper", "22:30")
    )
    config = config_from(meals + slow(84) + magnesium(168, phytate='"delay"'))
    # Friday: 07:00, then supper 22:30 (15 h 30 min later); Saturday's first slow dose is at 10:00,
    # 11 h 30 min after 22:30 ≥ 8h → both doses.
    assert layout(plan_day(config, dt.date(2026, 11, 27))) == [
        ("2026-11-27/breakfast", "07:00", {"sr": 84}),
        ("2026-11-27/supper", "22:30", {"sr": 84}),
    ]
    # But Sunday → Monday: 22:30 is 8 h 30 min before Monday's 07:00: still ≥ 8h, both doses.
    assert len(plan_day(config, dt.date(2026, 11, 29)).reminders) == 2
    # With a 9 h gap a supper dose before a weekday (22:30 → 07:00 is 8 h 30 min) cannot be given: a
    # dose at a meal (no delay) is a weekday's spacing problem, so check fails for Monday to Thursday
    # and Sunday; Friday's supper (11 h 30 min before Saturday's 10:00) and Saturday's fit.
    with pytest.raises(ConfigError) as caught:
        config_from(meals + slow(84) + magnesium(168, slow_release_gap='"9h"'))
    tail = (
        "the last 9h before the next day's first slow-release dose (breakfast 07:00); the slots that can take magnesium"
    )
    assert [(problem.key, problem.message) for problem in caught.value.problems] == [
        (
            "supplement[0].doses_per_day",
            f"on Monday, Tuesday, Wednesday, Thursday the meals cannot hold 2 doses of Mag-Tab SR 9h apart "
            f"with {tail}: breakfast 07:00, supper 22:30",
        ),
        (
            "supplement[0].doses_per_day",
            f"on Sunday the meals cannot hold 2 doses of Mag-Tab SR 9h apart with {tail}: "
            "breakfast 10:00, supper 22:30",
        ),
    ]


def test_a_fixed_slow_release_dose_too_close_to_another_is_a_check_error() -> None:
    meals = meal("breakfast", "07:00") + meal("lunch", "12:00")
    with pytest.raises(ConfigError) as caught:
        config_from(meals + slow_fixed('["breakfast", "lunch"]') + magnesium(168))
    # The case: taken with two meals 5 h apart, less than the 8h gap, on every weekday.
    (problem,) = caught.value.problems
    assert problem.key == "supplement[0].with"
    assert problem.message == (
        "on Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday Mag-Tab SR is taken with lunch 12:00, "
        "5 h from the slow-release dose at breakfast 07:00, less than slow_release_gap 8h"
    )


def test_a_fixed_slow_release_dose_too_close_to_the_next_days_is_a_check_error() -> None:
    meals = meal("breakfast", "07:00") + meal("supper", "23:30")
    with pytest.raises(ConfigError) as caught:
        config_from(meals + slow_fixed('["breakfast", "supper"]') + magnesium(168))
    # 07:00 → 23:30 is 16 h 30 min, but 23:30 → the next 07:00 is 7 h 30 min < 8h.
    (problem,) = caught.value.problems
    assert problem.key == "supplement[0].with"
    assert problem.message.endswith(
        "Mag-Tab SR is taken with supper 23:30, 7 h 30 min before the next day's first slow-release dose "
        "(breakfast 07:00), less than slow_release_gap 8h"
    )


def test_a_fixed_slow_release_dose_left_out_when_the_clocks_shorten_the_gap() -> None:
    config = config_from(
        'timezone = "America/New_York"\n\n' + meal("night", "00:00") + meal("breakfast", "08:00")
        + slow_fixed('["night", "breakfast"]') + magnesium(168)
    )  # fmt: skip
    # On a plain day 00:00 → 08:00 is 8 h. 2026-03-08 springs forward: 00:00 EST = 05:00Z, 08:00 EDT =
    # 12:00Z: 7 h → breakfast's fixed slow dose is left out, with a word (never two doses 7 h apart).
    plan = plan_day(config, dt.date(2026, 3, 8))
    assert [(r.id, in_utc(r.at)) for r in plan.reminders] == [
        ("2026-03-08/night", dt.datetime(2026, 3, 8, 5, 0, tzinfo=UTC))
    ]
    assert plan.warnings == (
        "Mag-Tab SR with breakfast left out: 7 h from the slow-release dose at night 00:00, "
        "less than slow_release_gap 8h",
    )
    assert len(plan_day(config, dt.date(2026, 3, 9)).reminders) == 2


# ---------------------------------------------------------------------------- v2: every message names its cause


METFORMIN = '[[keep_apart]]\nname = "metformin"\ntimes = ["20:00"]\n\n'  # not in the table: 2 h each way


def test_a_shortfall_of_a_step_or_more_says_why_naming_the_window() -> None:
    config = config_from(THREE_MEALS + citrate(50) + magnesium(300, max_dose_mg="100") + METFORMIN)
    plan = plan_day(config, MON)
    # Metformin 20:00 ± 2h: (18:00, 22:00) holds dinner 18:30. Slots breakfast, lunch; 6 steps of 50:
    # b 50, l 50, b 100, l 100; the 5th would pass max_dose_mg 100 anywhere → 200 of 300, short by
    # 100 ≥ one step of 50: the warning says why, and names the window.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100}),
    ]
    (warning,) = plan.warnings
    assert warning.startswith(
        "target not reached: 200 of 300 mg planned — another step of 50 mg would pass max_dose_mg 100 mg "
        "at every slot that takes magnesium (breakfast, lunch); dinner is kept from magnesium: metformin at 20:00, "
    )
    # Dinner has no reminder at all (nothing else is taken with it), and the day still names it.
    assert len(plan.notes) == 1
    assert plan.notes[0].startswith("dinner: no magnesium — metformin at 20:00, ")


def test_a_dose_windows_would_push_past_midnight_is_dropped_and_its_windows_named() -> None:
    config = config_from(
        meal("breakfast", "08:00") + meal("dinner", "19:00") + fixed("vitd", "vitamin D", "dinner") + citrate(100)
        + magnesium(200, phytate='"delay"')
        + '[[keep_apart]]\nname = "iron"\ntimes = ["08:00", "19:00", "23:00"]\n\n'
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Iron (4 h each way): (04:00, 12:00), (15:00, 23:00), (19:00, Tue 03:00). Breakfast's dose from
    # 08:00 → 12:00 (free). Dinner's from 19:00 → 23:00 → 03:00 the next day: pushed past the day's end
    # by windows → dropped. Steps: breakfast+delay 100, then 200 (≤ max 200). Nothing is short.
    assert layout(plan) == [
        ("2026-11-23/breakfast+delay", "12:00", {"citrate": 200}),
        ("2026-11-23/dinner", "19:00", {"vitd": None}),
    ]
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("no time left today for the magnesium of dinner: iron 19:00, ")
    assert "iron 23:00, " in plan.warnings[0]


def test_a_shortfall_under_a_step_is_rounding_and_says_nothing(example_config: Config) -> None:
    # The example on 2026-12-02: T = 100 + 50 × floor(12 / 3) = 300; slow 2 × 84 = 168; R = 132 →
    # floor(132 / 81) = 1 step of 81 → 249 of 300: 51 mg short, less than a step: no warning.
    plan = plan_day(example_config, dt.date(2026, 12, 2))
    assert (plan.magnesium_target_mg, plan.magnesium_mg) == (300, 249)
    assert plan.warnings == ()
    # The notes: why the target is 300 (the titration step), then the lentil lunch.
    assert plan.notes == (
        plan.target_note,
        "lunch: no magnesium — phytate-rich (lentil soup)",
    )
    assert plan.target_note.startswith("titration: 300 mg")


@pytest.mark.parametrize(
    ("mg", "max_dose", "key", "message"),
    [
        # One capsule of 500 mg over a 300 mg target: floor(300 / 500) = 0 steps on every day.
        (500, "600", "supplement[0].step",
         "one step of Magnesium citrate is 500 mg, more than the day's target of 300 mg (daily_mg), "
         "so the plan has no reminder on any day"),
        # 250 mg steps, max_dose_mg 200: every step passes it at every slot.
        (250, "200", "supplement[0].step",
         "one step of Magnesium citrate is 250 mg, more than max_dose_mg 200 mg, "
         "so the plan has no reminder on any day"),
    ],
)  # fmt: skip
def test_a_plan_with_no_reminder_names_the_amount_that_removed_every_dose(
    mg: float, max_dose: str, key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from(THREE_MEALS + citrate(mg) + magnesium(300, max_dose_mg=max_dose))
    assert [(problem.key, problem.message) for problem in caught.value.problems] == [(key, message)]


def test_a_plan_with_no_reminder_names_the_windows_over_every_meal() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from(
            THREE_MEALS + citrate(100) + magnesium(300)
            + '[[keep_apart]]\nname = "iron"\ntimes = ["08:00", "13:00", "19:00", "23:30"]\n\n'
        )  # fmt: skip
    # Iron ± 4h holds breakfast 07:00, lunch 12:30 and dinner 18:30: move falls back to delay; the doses
    # go to 12:00 → inside (09:00, 17:00) → 17:00 → inside (15:00, 23:00) → 23:00 → inside (19:30, Tue
    # 03:30) → 03:30 the next day: pushed past the day's end, dropped, on every day.
    (problem,) = caught.value.problems
    assert problem.key == ""
    assert problem.message.startswith("the plan has no reminder on any day: every meal is kept from magnesium — ")
    for named in ("breakfast (iron at 08:00, ", "lunch (iron at 13:00, ", "dinner (iron at 19:00, "):
        assert named in problem.message
    assert problem.message.endswith("and no time is left after them the same day")


def test_a_step_that_is_never_taken_beside_other_reminders_is_a_check_warning() -> None:
    config = config_from(THREE_MEALS + fixed("vitd", "vitamin D", "dinner") + citrate(500) + magnesium(300))
    # Vitamin D gives a reminder every day, so no error; the 500 mg step never fits 300 mg, and each day
    # shows only "0 of 300 mg": check says why, once.
    assert [(w.key, w.message) for w in config.warnings] == [
        (
            "supplement[1].step",
            "one step of Magnesium citrate is 500 mg, more than daily_mg 300 mg: it is never taken; "
            "use a smaller step (e.g. 0.5 of a scored tablet) or unit",
        )
    ]


def test_the_day_notes_are_in_plan_json_and_in_the_table() -> None:
    from mgremind.render import plan_json, plan_table

    config = config_from(LENTIL_LUNCH + citrate(100) + magnesium(300, phytate='"delay"'))
    plan = plan_day(config, MON)
    # Lunch 12:30 (lentil soup) → 14:30; 3 steps: breakfast, lunch+delay, dinner → 100 each.
    note = "lunch: no magnesium — phytate-rich (lentil soup); 100 mg at 14:30 instead"
    assert plan.notes == (note,)
    assert plan_json(config, [plan])["days"][0]["notes"] == [note]
    assert f"  {note}\n" in plan_table(config, [plan])
