"""Tolerance-driven titration (SPEC §6): the ramp replayed with the reported symptoms.

Every expected target is derived by hand from the rules of SPEC §6; the day-by-day table
below is the expectation itself (the tests parse it). The base ramp: start 2026-03-02,
start_mg 100, step_mg 50, every_days 3, hold_days 3, daily_mg 400; timezone UTC.

Rules used (SPEC §6), with i = days since start and L(i) the level of day i:
- L(0) = start_mg; the first increase is due on day every_days.
- report on day R (R > start, T(R-1) > 0: a report on the start day, or after a day planned at 0 mg, has
  nothing to blame and changes nothing):
  the blamed amount b = T(R-1), the target planned that day (v2), not the level L(R-1);
  L from R+1 = max(start_mg, min(L, b - step)) (v2: a report never raises the level);
  next increase due on (R+1) + hold_days — or, when the report lowers L by less than a step
  (start_mg is the floor), the later of that and the increase already due: a report never
  brings an increase forward.
  The second report blamed on the same b sets ceiling = max(start_mg, b - step).
- otherwise on a day the increase is due: if L < daily and L < ceiling, L += step; next due every_days later.
- T = min(L, daily, ceiling).
"""

from __future__ import annotations

import datetime as dt
import math
import random

from conftest import config_from, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plans import citrate, magnesium, meal, table, timezone

from mgremind.model import Config
from mgremind.plan import plan_day, plan_days
from mgremind.titration import Ramp, Reports

START = dt.date(2026, 3, 2)


def ramp_config(
    *,
    start: dt.date = START,
    start_mg: float = 100,
    step_mg: float = 50,
    every_days: int = 3,
    hold_days: int | None = 3,
    daily_mg: float = 400,
) -> Config:
    """Two meals, a 1 mg-a-step citrate (any target splits exactly), the given ramp."""
    hold = {"hold_days": str(hold_days)} if hold_days is not None else {}
    ramp = table(
        "titration",
        start=start.isoformat(),
        start_mg=str(start_mg),
        step_mg=str(step_mg),
        every_days=str(every_days),
        **hold,
    )
    meals = meal("breakfast", "08:00") + meal("dinner", "18:00")
    return config_from(timezone("UTC") + meals + citrate(1) + magnesium(daily_mg, max_dose_mg="1000") + ramp)


def day(index: int) -> dt.date:
    return START + dt.timedelta(days=index)


def reports_on(*indexes: int, symptom: str = "loose-stool") -> Reports:
    return {day(index): [symptom] for index in indexes}


# ---------------------------------------------------------------------------- the table
#
# Columns: the day index i, its date, the plain ramp of SPEC §2 (min(400, 100 + 50*floor(i/3))),
# and the hand-replayed target of each scenario. "r" marks a day with a report in that column.
#
#   A  report on 7                (lowers from 8, holds 3 days, resumes)
#      7: b = T(6) = 200 → L = 150 from 8; next increase 8+3 = 11 → 200; 14 → 250; 17 → 300;
#      20 → 350; 23 → 400 (= daily; no more increases).
#   B  reports on 7 and 13        (second report blamed on the same level → ceiling)
#      7 as in A; 11 → 200 (next 14); 13: b = T(12) = 200, the second at 200 → ceiling 150,
#      L = 150 from 14; 17, 20, …: L is not below the ceiling → no increase. 150 for ever.
#   C  reports on 13, 19, 25      (increases below a ceiling resume, never pass it)
#      12 → 300; 13: b = T(12) = 300 → 250 from 14 (next 17); 17 → 300 (next 20);
#      19: b = T(18) = 300, second at 300 → ceiling 250, L = 250 from 20 (next 23);
#      23: at the ceiling → no increase (next 26); 25: b = T(24) = 250 (first at 250) → 200 from 26
#      (next 29); 29: 200 < 250 → 250 (next 32); 32, 35, …: at the ceiling.
#   D  report on 1                (never below start_mg)
#      1: b = T(0) = 100 → max(100, min(100, 100 - 50)) = 100 from 2; lowered by less than a step: next
#      increase the later of 2+3 = 5 and the one due (3): 5 → 150; 8 → 200; 11 → 250;
#      14 → 300; 17 → 350; 20 → 400.
#   E  reports on 7 and 8         (consecutive days)
#      7: b = T(6) = 200 → 150 from 8 (next 11); 8: b = T(7) = 200 (still the old target: the
#      lowering starts on 8), L = min(150, 200 - 50) = 150 from 9, the second at 200 → ceiling 150.
#      150 for ever.
#   F  reports on 1 and 3         (a ceiling is never below start_mg either)
#      1: b = 100 → 100 from 2 (next 5); 3: b = T(2) = 100, second at 100 → ceiling max(100, 50) = 100.
#   G  reports on -1 and 0        (before start and on the start day: ignored) → the plain ramp.
#
TABLE = """
 i  date        plain  A     B     C     D     E     F     G
 0  2026-03-02  100    100   100   100   100   100   100   100r
 1  2026-03-03  100    100   100   100   100r  100   100r  100
 2  2026-03-04  100    100   100   100   100   100   100   100
 3  2026-03-05  150    150   150   150   100   150   100r  150
 4  2026-03-06  150    150   150   150   100   150   100   150
 5  2026-03-07  150    150   150   150   150   150   100   150
 6  2026-03-08  200    200   200   200   150   200   100   200
 7  2026-03-09  200    200r  200r  200   150   200r  100   200
 8  2026-03-10  200    150   150   200   200   150r  100   200
 9  2026-03-11  250    150   150   250   200   150   100   250
10  2026-03-12  250    150   150   250   200   150   100   250
11  2026-03-13  250    200   200   250   250   150   100   250
12  2026-03-14  300    200   200   300   250   150   100   300
13  2026-03-15  300    200   200r  300r  250   150   100   300
14  2026-03-16  300    250   150   250   300   150   100   300
15  2026-03-17  350    250   150   250   300   150   100   350
16  2026-03-18  350    250   150   250   300   150   100   350
17  2026-03-19  350    300   150   300   350   150   100   350
18  2026-03-20  400    300   150   300   350   150   100   400
19  2026-03-21  400    300   150   300r  350   150   100   400
20  2026-03-22  400    350   150   250   400   150   100   400
21  2026-03-23  400    350   150   250   400   150   100   400
22  2026-03-24  400    350   150   250   400   150   100   400
23  2026-03-25  400    400   150   250   400   150   100   400
24  2026-03-26  400    400   150   250   400   150   100   400
25  2026-03-27  400    400   150   250r  400   150   100   400
26  2026-03-28  400    400   150   200   400   150   100   400
27  2026-03-29  400    400   150   200   400   150   100   400
28  2026-03-30  400    400   150   200   400   150   100   400
29  2026-03-31  400    400   150   250   400   150   100   400
30  2026-04-01  400    400   150   250   400   150   100   400
31  2026-04-02  400    400   150   250   400   150   100   400
32  2026-04-03  400    400   150   250   400   150   100   400
33  2026-04-04  400    400   150   250   400   150   100   400
34  2026-04-05  400    400   150   250   400   150   100   400
35  2026-04-06  400    400   150   250   400   150   100   400
36  2026-04-07  400    400   150   250   400   150   100   400
37  2026-04-08  400    400   150   250   400   150   100   400
38  2026-04-09  400    400   150   250   400   150   100   400
39  2026-04-10  400    400   150   250   400   150   100   400
40  2026-04-11  400    400   150   250   400   150   100   400
"""
# G's report on day -1 (2026-03-01) is before the table; it is added in `scenario`.
DAYS = 41


def scenario(column: str) -> tuple[Reports, list[float]]:
    """The reports ("r" marks) and the expected targets of one column of TABLE."""
    lines = TABLE.strip().splitlines()
    index = lines[0].split().index(column)
    reports: dict[dt.date, list[str]] = {}
    expected: list[float] = []
    for number, line in enumerate(lines[1:]):
        cells = line.split()
        assert int(cells[0]) == number and dt.date.fromisoformat(cells[1]) == day(number)
        cell = cells[index]
        if cell.endswith("r"):
            reports[day(number)] = ["loose-stool"]
        expected.append(float(cell.rstrip("r")))
    if column == "G":
        reports[day(-1)] = ["cramps"]
    assert len(expected) == DAYS
    return reports, expected


def targets(config: Config, reports: Reports | None, count: int = DAYS) -> list[float]:
    ramp = Ramp(config, reports)
    return [ramp.target(day(index)).mg for index in range(count)]


# ---------------------------------------------------------------------------- the hand-computed scenarios


def test_the_table_plain_column_is_the_spec_formula() -> None:
    """Guards the table itself: its `plain` column is SPEC §2's min(daily, start + step*floor(i/every))."""
    _, plain = scenario("plain")
    assert plain == [min(400, 100 + 50 * (i // 3)) for i in range(DAYS)]


def test_without_reports_the_target_is_the_plain_ramp() -> None:
    _, plain = scenario("plain")
    assert targets(ramp_config(), None) == plain
    assert targets(ramp_config(), {}) == plain


def test_a_report_lowers_from_the_next_day_holds_then_resumes() -> None:
    reports, expected = scenario("A")
    got = targets(ramp_config(), reports)
    assert got == expected
    assert got[7] == 200  # the report day itself keeps its amount: it was planned before the report
    assert got[8:11] == [150, 150, 150]  # lowered to L(6) - step for hold_days = 3 days
    assert got[11] == 200  # resumes on (R+1) + hold_days, then every_days


def test_hold_days_sets_how_long_the_lowered_level_is_held() -> None:
    # hold_days = 5: report on 7 → 150 from 8; next increase 8+5 = 13 → 200; 16 → 250; 19 → 300;
    # 22 → 350; 25 → 400.
    got = targets(ramp_config(hold_days=5), reports_on(7))
    assert got[6:30] == [200, 200] + [150] * 5 + [200] * 3 + [250] * 3 + [300] * 3 + [350] * 3 + [400] * 5
    # hold_days left out: 3 (SPEC §6 default), as in scenario A.
    assert targets(ramp_config(hold_days=None), reports_on(7)) == scenario("A")[1]


def test_a_second_report_blamed_on_one_level_sets_a_ceiling() -> None:
    reports, expected = scenario("B")
    assert targets(ramp_config(), reports) == expected


def test_increases_resume_below_a_ceiling_but_never_pass_it() -> None:
    reports, expected = scenario("C")
    assert targets(ramp_config(), reports) == expected


def test_the_level_never_goes_below_start_mg() -> None:
    reports, expected = scenario("D")
    got = targets(ramp_config(), reports)
    assert got == expected
    assert min(got) == 100


def test_reports_on_consecutive_days_are_each_blamed_on_the_day_before_them() -> None:
    reports, expected = scenario("E")
    assert targets(ramp_config(), reports) == expected


def test_a_ceiling_is_never_below_start_mg() -> None:
    reports, expected = scenario("F")
    assert targets(ramp_config(), reports) == expected


def test_reports_on_the_start_day_or_before_it_are_ignored() -> None:
    reports, expected = scenario("G")
    assert day(0) in reports and day(-1) in reports
    assert targets(ramp_config(), reports) == expected == scenario("plain")[1]


def test_a_report_is_blamed_on_the_target_planned_not_on_a_level_above_daily_mg() -> None:
    # start_mg 80, step 50, every 2, daily 300: plain 80, 80, 130, 130, 180, 180, 230, 230, 280, 280, 300 (330→300).
    # Report on 3: b = T(2) = 130 → max(80, min(130, 80)) = 80 from 4; next 4+3 = 7 → 130; 9 → 180; 11 → 230;
    # 13 → 280; 15 → L 330, T = min(330, 300) = 300.
    # Report on 16: b = T(15) = 300 (the level 330 was never planned) → min(330, 300 - 50) = 250 from 17 (T 250);
    # next 20 → 300 (T 300); 22 → 350 (T 300).
    config = ramp_config(start_mg=80, step_mg=50, every_days=2, daily_mg=300)
    got = targets(config, reports_on(3, 16), 24)
    assert (
        got == [80, 80, 130, 130, 80, 80, 80, 130, 130, 180, 180, 230, 230, 280, 280, 300, 300] + [250] * 3 + [300] * 4
    )


def test_a_report_above_daily_mg_lowers_below_the_amount_taken() -> None:
    """SPEC §6 v2, the case of the issue: the level stands above daily_mg, so the day's target is
    daily_mg; the report is blamed on that target, and the next days get less than it."""
    # start 100, step 50, every 2, hold 3, daily 220: 0-1: 100, 2-3: 150, 4-5: 200, 6: L 250 (T 220), 7: T 220.
    # Report on 7: b = T(6) = 220 → max(100, min(250, 220 - 50)) = 170 from 8 — not 250 - 50 = 200 (a level
    # never planned, less one step); lowered by 80, a whole step → next increase 8 + 3 = 11 → 220 (T 220);
    # 13: no increase (L 220 is not below daily_mg).
    config = ramp_config(step_mg=50, every_days=2, daily_mg=220)
    assert targets(config, reports_on(7), 14) == [100, 100, 150, 150, 200, 200, 220, 220, 170, 170, 170, 220, 220, 220]
    note = plan_day(config, day(8), Ramp(config, reports_on(7))).target_note
    assert "blamed on the 220 mg planned on 2026-03-08" in note, note  # day 6; never "250 mg"
    assert "250" not in note


def test_a_second_report_the_next_day_never_raises_the_level() -> None:
    """SPEC §6 v2: from R+1 the level is min(current level, T(R-1) - step_mg)."""
    # The base ramp (start 100, step 50, every 3, hold 3, daily 400): 0-2: 100, 3-5: 150, 6: 200.
    # Report on 6: b = T(5) = 150 → min(200, 100) = 100 from 7; a whole step → next increase 7 + 3 = 10.
    # Report on 7: b = T(6) = 200 → min(100, 200 - 50) = 100 (150 before v2: a raise); lowered by 0, so the
    # next increase is the later of 8 + 3 = 11 and 10: 11 → 150; 14 → 200; 17 → 250; 20 → 300; 23 → 350; 26 → 400.
    # b = 150 and b = 200 were each blamed once: no ceiling.
    got = targets(ramp_config(), reports_on(6, 7), 28)
    expected = [100] * 3 + [150] * 3 + [200] + [100] * 4 + [150] * 3 + [200] * 3 + [250] * 3 + [300] * 3
    assert got == expected + [350] * 3 + [400] * 2
    note = plan_day(ramp_config(), day(8), Ramp(ramp_config(), reports_on(6, 7))).target_note
    # Day 8: 100 instead of the plain 200, kept (not raised) after the report of day 7 (2026-03-09).
    assert note.startswith("100 mg instead of 200 mg: kept at 100 mg after loose-stool reported on 2026-03-09"), note
    assert "blamed on the 200 mg planned on 2026-03-08; already at or below 150 mg" in note, note
    assert note.endswith("held until 2026-03-13"), note


def test_a_report_that_cannot_lower_never_brings_the_next_increase_forward() -> None:
    # start 100, step 50, every 7, hold 2, daily 400: plain 0-6: 100, 7-13: 150, 14-20: 200.
    # Report on 1: b = T(0) = 100 → max(100, min(100, 50)) = 100, lowered by 0: the next increase stays on 7
    # (the later of 7 and 2 + 2 = 4): the plain ramp, unchanged. At start_mg a symptom never hastens a step.
    config = ramp_config(every_days=7, hold_days=2)
    plain = [min(400, 100 + 50 * (i // 7)) for i in range(21)]
    assert targets(config, reports_on(1), 21) == plain
    # Report on 8: b = T(7) = 150 → min(150, 100) = 100 from 9, a whole step → SPEC's hold: next 9 + 2 = 11 → 150;
    # 18 → 200.
    got = targets(config, reports_on(1, 8), 21)
    assert got == [100] * 7 + [150, 150, 100, 100] + [150] * 7 + [200] * 3


def test_a_report_after_a_day_planned_at_0_mg_blames_nothing() -> None:
    # start_mg 0, step 50, every 2, hold 3, daily 200: plain 0, 0, 50, 50, 100, 100, 150, 150, 200, …
    # Reports on 1 and 2: T(0) = T(1) = 0 mg, nothing was planned → nothing to blame, no hold, and no
    # ceiling of 0 mg (two reports "blamed on" 0 mg would otherwise end the plan for good): the plain ramp.
    config = ramp_config(start_mg=0, every_days=2, daily_mg=200)
    plain = [min(200, 50 * (i // 2)) for i in range(16)]
    assert targets(config, reports_on(1, 2), 16) == plain
    # Report on 3: b = T(2) = 50 → max(0, min(50, 0)) = 0 from 4, a whole step → next 4 + 3 = 7 → 50; 9 → 100;
    # 11 → 150; 13 → 200.
    assert targets(config, reports_on(1, 2, 3), 16) == [0, 0, 50, 50, 0, 0, 0, 50, 50, 100, 100, 150, 150] + [200] * 3


def test_reports_after_the_day_planned_have_no_effect() -> None:
    """Purity: the target of day D depends only on the reports up to D-1."""
    config = ramp_config()
    every = reports_on(1, 7, 8, 13, 19, 25, 26, 33)
    full = targets(config, every)
    for index in range(DAYS):
        earlier = {date: symptoms for date, symptoms in every.items() if date < day(index)}
        assert Ramp(config, earlier).target(day(index)).mg == full[index], index
    # …and through the planner: a report on the day planned changes nothing that day.
    assert plan_day(config, day(7), Ramp(config, reports_on(7))).magnesium_target_mg == 200
    assert plan_day(config, day(8), Ramp(config, reports_on(7))).magnesium_target_mg == 150


def test_an_empty_symptom_list_is_no_report() -> None:
    assert targets(ramp_config(), {day(7): []}) == scenario("plain")[1]


def test_the_planner_plans_the_replayed_target() -> None:
    reports, expected = scenario("C")
    plans = plan_days(ramp_config(), START, DAYS, reports)
    assert [plan.magnesium_target_mg for plan in plans] == expected
    # 1 mg steps split every target exactly over the two meals.
    assert [plan.magnesium_mg for plan in plans] == expected


# ---------------------------------------------------------------------------- the note of `plan`


def test_the_note_says_a_target_was_lowered_and_why() -> None:
    config = ramp_config()
    ramp = Ramp(config, scenario("A")[0])
    assert "lowered" not in plan_day(config, day(7), ramp).target_note  # the report day keeps 200 = plain
    note = plan_day(config, day(8), ramp).target_note
    assert plan_day(config, day(8), ramp).magnesium_target_mg == 150
    assert "lowered" in note
    assert "loose-stool" in note
    assert "2026-03-09" in note  # the day of the report
    assert "150 mg" in note and "200 mg" in note  # the target and what the ramp alone would give


def test_the_note_says_a_target_is_capped_and_why() -> None:
    config = ramp_config()
    ramp = Ramp(config, scenario("B")[0])
    note = plan_day(config, day(30), ramp).target_note  # 150 instead of the plain 400
    assert "capped" in note
    assert "150 mg" in note
    assert "2026-03-09" in note and "2026-03-15" in note  # both reports blamed on 200 mg


def test_the_note_keeps_naming_the_ceiling_after_a_later_single_report() -> None:
    """Scenario C from day 29 on: 250 mg instead of 400 mg because of the ceiling set by the reports
    of 2026-03-15 and 2026-03-21; the report of 2026-03-27 lowered the level only until day 29."""
    config = ramp_config()
    ramp = Ramp(config, scenario("C")[0])
    assert plan_day(config, day(35), ramp).magnesium_target_mg == 250
    note = plan_day(config, day(35), ramp).target_note
    assert "capped" in note, note


def test_without_reports_no_note_speaks_of_lowering_or_capping() -> None:
    config = ramp_config()
    ramp = Ramp(config)
    for index in range(DAYS):
        note = plan_day(config, day(index), ramp).target_note
        assert "lowered" not in note and "capped" not in note
    assert plan_day(config, day(40), ramp).target_note == ""  # at the full daily amount: nothing to explain


# ---------------------------------------------------------------------------- SPEC §2 formula


def test_without_reports_the_target_is_the_spec_2_formula_for_several_ramps() -> None:
    cases = [
        (100, 50, 3, 400),
        (100, 150, 3, 300),  # the last step passes daily_mg: min(daily, …) caps it
        (0, 25, 1, 200),
        (84, 84, 7, 336),
        (500, 50, 2, 400),  # start_mg above daily_mg: daily_mg from the first day
    ]
    for start_mg, step_mg, every_days, daily_mg in cases:
        config = ramp_config(start_mg=start_mg, step_mg=step_mg, every_days=every_days, daily_mg=daily_mg)
        ramp = Ramp(config)
        for index in range(-5, 60):
            expected = 0 if index < 0 else min(daily_mg, start_mg + step_mg * math.floor(index / every_days))
            assert ramp.target(day(index)).mg == expected, (start_mg, step_mg, every_days, daily_mg, index)
    before = plan_day(ramp_config(), day(-1))
    assert before.magnesium_target_mg == 0 and before.reminders == ()


# ---------------------------------------------------------------------------- property


@st.composite
def ramps(draw: st.DrawFn) -> tuple[dict[str, int], set[int], list[int]]:
    setting = {
        "start_mg": draw(st.integers(0, 200)),
        "step_mg": draw(st.integers(1, 150)),
        "every_days": draw(st.integers(1, 6)),
        "hold_days": draw(st.integers(1, 6)),
        "daily_mg": draw(st.integers(1, 600)),
    }
    report_days = draw(st.sets(st.integers(-3, 45), max_size=12))
    order = draw(st.permutations(list(range(-3, 46))))
    return setting, report_days, order


def reference(setting: dict[str, int], report_days: set[int], count: int) -> list[tuple[float, float]]:
    """(T, ceiling) of days 0..count-1, replayed from the rules of SPEC §6 as written in this module's docstring."""
    start_mg, step = setting["start_mg"], setting["step_mg"]
    level: float = start_mg
    next_increase = setting["every_days"]
    ceiling = math.inf
    blamed_count: dict[float, int] = {}
    found: list[tuple[float, float]] = []
    for index in range(count):
        if index > 0:
            reported = index - 1
            if reported in report_days and reported > 0 and found[reported - 1][0] > 0:
                blamed = found[reported - 1][0]  # T(R-1)
                lowered = max(start_mg, min(level, blamed - step))
                held = index + setting["hold_days"]
                next_increase = held if level - lowered >= step else max(next_increase, held)
                level = lowered
                blamed_count[blamed] = blamed_count.get(blamed, 0) + 1
                if blamed_count[blamed] >= 2:
                    ceiling = min(ceiling, max(start_mg, blamed - step))
            elif index >= next_increase:
                if level < setting["daily_mg"] and level < ceiling:
                    level += step
                next_increase = index + setting["every_days"]
        found.append((min(level, setting["daily_mg"], ceiling), ceiling))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ramps())
def test_property_the_target_stays_within_daily_mg_the_ceiling_and_start_mg(
    case: tuple[dict[str, int], set[int], list[int]],
) -> None:
    setting, report_days, order = case
    config = ramp_config(
        start_mg=setting["start_mg"],
        step_mg=setting["step_mg"],
        every_days=setting["every_days"],
        hold_days=setting["hold_days"],
        daily_mg=setting["daily_mg"],
    )
    reports = reports_on(*report_days, symptom="diarrhea")
    expected = reference(setting, report_days, 46)

    ascending = Ramp(config, reports)
    in_order = {index: ascending.target(day(index)).mg for index in range(-3, 46)}
    ramp = Ramp(config, reports)
    out_of_order = {index: ramp.target(day(index)).mg for index in order}
    assert out_of_order == in_order

    for index in range(-3, 46):
        target = in_order[index]
        if index < 0:
            assert target == 0
            continue
        _, ceiling = expected[index]
        assert target <= setting["daily_mg"]
        assert target <= ceiling
        assert target >= min(setting["start_mg"], setting["daily_mg"])
    assert [in_order[index] for index in range(46)] == [t for t, _ in expected]


def test_ramp_answers_the_same_in_any_order_of_days() -> None:
    config = ramp_config()
    reports, expected = scenario("C")
    shuffled = list(range(DAYS))
    random.Random(5).shuffle(shuffled)
    ramp = Ramp(config, reports)
    got = {index: ramp.target(day(index)).mg for index in shuffled}
    assert [got[index] for index in range(DAYS)] == expected


# ---------------------------------------------------------------------------- property: a report never raises


@st.composite
def reported_ramps(draw: st.DrawFn) -> tuple[Config, dict[str, float], frozenset[int]]:
    """Any ramp (amounts in half milligrams, start_mg above daily_mg included) and any reports, dense
    enough that reports on consecutive days, on the start day and before it are common."""
    setting = {
        "start_mg": draw(st.integers(0, 800)) / 2,
        "step_mg": draw(st.integers(1, 400)) / 2,
        "every_days": draw(st.integers(1, 10)),
        "hold_days": draw(st.integers(1, 10)),
        "daily_mg": draw(st.integers(2, 1600)) / 2,
    }
    config = ramp_config(
        start_mg=setting["start_mg"],
        step_mg=setting["step_mg"],
        every_days=int(setting["every_days"]),
        hold_days=int(setting["hold_days"]),
        daily_mg=setting["daily_mg"],
    )
    report_days = draw(st.frozensets(st.integers(-2, REPORTED_DAYS - 2), max_size=24))
    return config, setting, report_days


REPORTED_DAYS = 40


@settings(max_examples=examples(2_500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reported_ramps())
def test_property_a_report_never_raises_the_next_days_target(
    case: tuple[Config, dict[str, float], frozenset[int]],
) -> None:
    """SPEC §6 v2, stated directly: for every day R with a report, the target of R+1 is
    - no higher than it would be without that report (a report never raises the next day's target);
    and, where the report blames an amount (R after start, T(R-1) > 0):
    - no higher than the target of R itself;
    - no higher than the blamed amount less a step, T(R-1) - step_mg, unless start_mg (never gone
      below) is the higher: T(R+1) <= max(min(start_mg, daily_mg), T(R-1) - step_mg).
    """
    config, setting, report_days = case
    reports = reports_on(*report_days, symptom="nausea")
    ramp = Ramp(config, reports)
    start_floor = min(setting["start_mg"], setting["daily_mg"])
    for reported in sorted(report_days):
        after = ramp.target(day(reported + 1)).mg
        without = {date: symptoms for date, symptoms in reports.items() if date != day(reported)}
        assert after <= Ramp(config, without).target(day(reported + 1)).mg, reported
        blamed = ramp.target(day(reported - 1)).mg
        if reported > 0 and blamed > 0:
            assert after <= ramp.target(day(reported)).mg, reported
            assert after <= max(start_floor, blamed - setting["step_mg"]), reported
