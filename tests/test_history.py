"""What happened to the plan (SPEC §6): statuses, history, repeats, escalation streaks, refills.

The functions under test are pure (mgremind/history.py), so the records are handed in as
plain dicts and `now` is a fixed instant. Every expected value is derived by hand from SPEC §6;
the arithmetic is in the comments. 2026-11-23 is a Monday.

THREE_MEALS (UTC): breakfast 08:00, lunch 12:00, dinner 18:00, a 100 mg citrate, daily_mg 300:
SPEC §2.6 gives each meal one 100 mg step (300 / 100 = 3 steps, each to the emptiest slot).
Deadlines (SPEC §6 "missed"): breakfast → 12:00 (lunch due), lunch → 18:00, dinner → 24:00.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from zoneinfo import ZoneInfo

from conftest import HISTORY_DAY_KEYS, config_from
from hypothesis import given, settings
from hypothesis import strategies as st
from plans import WEEKDAYS, WEEKEND, citrate, fixed, magnesium, meal, slow, table, timezone

from mgremind.history import (
    Status,
    StockTotal,
    Supply,
    day_statuses,
    deadlines,
    due_unacknowledged,
    history,
    missed_in_a_row,
    records_begin,
    repeats,
    stock_totals,
    supplies,
    supplies_since,
)
from mgremind.model import Config, DayPlan, Reminder
from mgremind.plan import plan_day, plan_days, wall_clock_instant
from mgremind.render import history_json, notification, supply_text, week_grid
from mgremind.titration import Ramp

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
MON = dt.date(2026, 11, 23)
TUE = dt.date(2026, 11, 24)


def three_meals_text(*, lunch: str = "12:00", dinner: str = "18:00", repeat: str = "15m", repeat_max: int = 3) -> str:
    """THREE_MEALS (above), with other times of lunch and dinner or other repeats."""
    return (
        timezone("UTC")
        + table("reminders", repeat=f'"{repeat}"', repeat_max=str(repeat_max))
        + meal("breakfast", "08:00")
        + meal("lunch", lunch)
        + meal("dinner", dinner)
        + citrate(100)
        + magnesium(300)
    )


THREE_MEALS = three_meals_text()


def utc(day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


def berlin(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=BERLIN)


def rid(day: dt.date, meal: str) -> str:
    return f"{day.isoformat()}/{meal}"


def three_meals() -> Config:
    return config_from(THREE_MEALS)


def statuses(found: tuple[Status, ...]) -> list[tuple[str, str]]:
    return [(entry.reminder.id, entry.status) for entry in found]


# ---------------------------------------------------------------------------- day_statuses


def test_the_plan_of_the_fixture_is_what_the_module_docstring_says() -> None:
    plan = plan_day(three_meals(), MON)
    assert [(r.id, r.instant, r.magnesium_mg) for r in plan.reminders] == [
        (rid(MON, "breakfast"), utc(MON, 8), 100),
        (rid(MON, "lunch"), utc(MON, 12), 100),
        (rid(MON, "dinner"), utc(MON, 18), 100),
    ]


def test_taken_and_skipped_come_from_the_acknowledgements_whatever_the_time() -> None:
    config = three_meals()
    plan = plan_day(config, MON)
    acks = {rid(MON, "breakfast"): "taken", rid(MON, "dinner"): "skipped"}
    # Before anything is due: acknowledged ahead of time still counts.
    assert statuses(day_statuses(config, plan, acks, utc(MON, 7))) == [
        (rid(MON, "breakfast"), "taken"),
        (rid(MON, "lunch"), "pending"),
        (rid(MON, "dinner"), "skipped"),
    ]
    # Long after the day: still taken/skipped, never missed.
    assert statuses(day_statuses(config, plan, acks, utc(MON, 23) + dt.timedelta(days=30))) == [
        (rid(MON, "breakfast"), "taken"),
        (rid(MON, "lunch"), "missed"),
        (rid(MON, "dinner"), "skipped"),
    ]


def test_missed_once_the_next_reminder_of_the_day_is_due() -> None:
    config = three_meals()
    plan = plan_day(config, MON)
    # breakfast (08:00): pending until lunch is due at 12:00, missed from 12:00 on.
    just_before = day_statuses(config, plan, {}, utc(MON, 11, 59, 59))
    assert statuses(just_before)[0] == (rid(MON, "breakfast"), "pending")
    at_lunch = day_statuses(config, plan, {}, utc(MON, 12))
    assert statuses(at_lunch) == [
        (rid(MON, "breakfast"), "missed"),
        (rid(MON, "lunch"), "pending"),  # due now, not yet missed: dinner is at 18:00
        (rid(MON, "dinner"), "pending"),  # not yet due
    ]


def test_the_last_reminder_of_the_day_is_missed_when_the_day_ends() -> None:
    config = three_meals()
    plan = plan_day(config, MON)
    assert statuses(day_statuses(config, plan, {}, utc(MON, 23, 59, 59)))[2] == (rid(MON, "dinner"), "pending")
    assert statuses(day_statuses(config, plan, {}, utc(TUE, 0)))[2] == (rid(MON, "dinner"), "missed")


def test_the_end_of_the_day_is_local_midnight() -> None:
    # Europe/Berlin in November is UTC+1: the end of 2026-11-24 is 2026-11-25 00:00 CET = 2026-11-24 23:00 UTC.
    config = refill_config()
    plan = plan_day(config, TUE)  # target 168: breakfast 08:00 and dinner 18:00 (see refill_config)
    assert [r.id for r in plan.reminders] == [rid(TUE, "breakfast"), rid(TUE, "dinner")]
    assert statuses(day_statuses(config, plan, {}, utc(TUE, 22, 59, 59)))[1][1] == "pending"
    assert statuses(day_statuses(config, plan, {}, utc(TUE, 23)))[1][1] == "missed"


# ---------------------------------------------------------------------------- history


ACKS = {
    rid(MON, "breakfast"): "taken",
    rid(MON, "lunch"): "skipped",
    rid(TUE, "breakfast"): "taken",
}
REPORTS = {MON: ["bloating"], TUE: ["cramps", "nausea"]}


def test_history_counts_a_day_at_a_time_oldest_first() -> None:
    # now = Tue 13:00 UTC, 3 days ending today: Sun 22, Mon 23, Tue 24.
    # Sun: nothing acknowledged, all deadlines past → 3 missed; 0 of 300 mg; adherence 0/3 = 0 %.
    # Mon: breakfast taken, lunch skipped, dinner missed (deadline Tue 00:00); 100 of 300 mg; 1/3 = 33.3 %.
    # Tue: breakfast taken; lunch due at 12:00 but its deadline is 18:00 → pending; dinner pending.
    #      100 of 300 mg; adherence counts the decided ones only: 1/1 = 100 %.
    days = history(three_meals(), TUE, 3, acks=ACKS, reports=REPORTS, now=utc(TUE, 13))
    assert [day.date for day in days] == [dt.date(2026, 11, 22), MON, TUE]
    table = [
        (
            len(day.reminders),
            day.tally("taken"),
            day.tally("skipped"),
            day.tally("missed"),
            day.tally("pending"),
            day.magnesium_planned_mg,
            day.magnesium_taken_mg,
            day.adherence_pct,
            day.symptoms,
        )
        for day in days
    ]
    assert table == [
        (3, 0, 0, 3, 0, 300, 0, 0.0, ()),
        (3, 1, 1, 1, 0, 300, 100, 33.3, ("bloating",)),
        (3, 1, 0, 0, 2, 300, 100, 100.0, ("cramps", "nausea")),
    ]


def test_adherence_is_none_before_any_reminder_is_decided() -> None:
    (day,) = history(three_meals(), TUE, 1, acks={}, reports={}, now=utc(TUE, 9))
    assert day.tally("pending") == 3
    assert day.adherence_pct is None


def test_history_leaves_out_what_came_before_the_records_unless_acknowledged() -> None:
    since = utc(MON, 10)  # the state was created Mon 10:00, after Monday's breakfast
    now = utc(TUE, 13)
    # Sun: every reminder before `since` and none acknowledged → nothing planned, adherence None.
    # Mon: breakfast (08:00) left out; lunch skipped; dinner missed → planned 2, 200 mg, adherence 0/2 = 0 %.
    days = history(three_meals(), TUE, 3, acks={rid(MON, "lunch"): "skipped"}, reports={}, now=now, since=since)
    assert [len(day.reminders) for day in days] == [0, 2, 3]
    assert days[0].adherence_pct is None
    assert statuses(days[1].reminders) == [(rid(MON, "lunch"), "skipped"), (rid(MON, "dinner"), "missed")]
    assert days[1].magnesium_planned_mg == 200
    assert days[1].adherence_pct == 0
    # Acknowledged although before `since` (marked afterwards): kept.
    acks = {rid(MON, "breakfast"): "taken", rid(MON, "lunch"): "skipped"}
    monday = history(three_meals(), TUE, 3, acks=acks, reports={}, now=now, since=since)[1]
    assert statuses(monday.reminders) == [
        (rid(MON, "breakfast"), "taken"),
        (rid(MON, "lunch"), "skipped"),
        (rid(MON, "dinner"), "missed"),
    ]
    assert (monday.magnesium_planned_mg, monday.magnesium_taken_mg) == (300, 100)


def test_history_plans_with_the_reports_so_magnesium_planned_follows_the_titration() -> None:
    # Ramp from Mon: 100 mg, +100 every 1 day, daily 300 → Mon 100, Tue 200, Wed 300.
    # A report on Tue (R) is blamed on Mon (100 mg) → Wed's level = max(100, 100 - 100) = 100.
    ramp = "\n[titration]\nstart = 2026-11-23\nstart_mg = 100\nstep_mg = 100\nevery_days = 1\n"
    config = config_from(THREE_MEALS + ramp)
    wed = dt.date(2026, 11, 25)
    days = history(config, wed, 3, acks={}, reports={TUE: ["diarrhea"]}, now=utc(wed, 23, 59))
    assert [day.magnesium_planned_mg for day in days] == [100, 200, 100]
    assert [day.symptoms for day in days] == [(), ("diarrhea",), ()]


def test_history_json_is_the_spec_object() -> None:
    days = history(three_meals(), TUE, 2, acks=ACKS, reports=REPORTS, now=utc(TUE, 13))
    data = json.loads(json.dumps(history_json(days)))
    assert list(data) == ["days"]
    assert [list(day) for day in data["days"]] == [HISTORY_DAY_KEYS] * 2
    assert data == {
        "days": [
            {
                "date": "2026-11-23",
                "planned": 3,
                "taken": 1,
                "skipped": 1,
                "missed": 1,
                "magnesium_planned_mg": 300,
                "magnesium_taken_mg": 100,
                "symptoms": ["bloating"],
                "adherence_pct": 33.3,
                "reminders": [
                    {"id": "2026-11-23/breakfast", "status": "taken"},
                    {"id": "2026-11-23/lunch", "status": "skipped"},
                    {"id": "2026-11-23/dinner", "status": "missed"},
                ],
            },
            {
                "date": "2026-11-24",
                "planned": 3,
                "taken": 1,
                "skipped": 0,
                "missed": 0,
                "magnesium_planned_mg": 300,
                "magnesium_taken_mg": 100,
                "symptoms": ["cramps", "nausea"],
                "adherence_pct": 100,
                "reminders": [
                    {"id": "2026-11-24/breakfast", "status": "taken"},
                    {"id": "2026-11-24/lunch", "status": "pending"},
                    {"id": "2026-11-24/dinner", "status": "pending"},
                ],
            },
        ]
    }
    # Whole numbers print without a fraction.
    assert '"magnesium_planned_mg": 300,' in json.dumps(history_json(days))


# ---------------------------------------------------------------------------- due, streaks, repeats


def test_due_unacknowledged_newest_first_today_and_yesterday() -> None:
    acks = {rid(MON, "breakfast"): "taken", rid(MON, "lunch"): "taken", rid(TUE, "breakfast"): "skipped"}
    # now = Tue 12:00 exactly: Tue lunch is due (at ≤ now); Tue dinner is not. Sun is too old.
    due = due_unacknowledged(three_meals(), acks, {}, utc(TUE, 12))
    assert [r.id for r in due] == [rid(TUE, "lunch"), rid(MON, "dinner")]
    everything = {**acks, rid(MON, "dinner"): "taken", rid(TUE, "lunch"): "skipped"}
    assert due_unacknowledged(three_meals(), everything, {}, utc(TUE, 12)) == []
    assert [r.id for r in due_unacknowledged(three_meals(), acks, {}, utc(TUE, 11, 59, 59))] == [rid(MON, "dinner")]


def test_missed_in_a_row_is_reset_by_taken_or_skipped() -> None:
    config = three_meals()
    now = utc(TUE, 12, 30)  # Tue breakfast's deadline (12:00) has passed; Tue lunch is pending
    since = utc(dt.date(2026, 11, 20), 0)
    # Fri…Sun all missed, then Mon breakfast taken resets: Mon lunch, Mon dinner, Tue breakfast.
    streak = missed_in_a_row(config, {rid(MON, "breakfast"): "taken"}, {}, now, since=since)
    assert [r.id for r in streak] == [rid(MON, "lunch"), rid(MON, "dinner"), rid(TUE, "breakfast")]
    # A skip resets it too: only Tue breakfast remains.
    acks = {rid(MON, "breakfast"): "taken", rid(MON, "dinner"): "skipped"}
    assert [r.id for r in missed_in_a_row(config, acks, {}, now, since=since)] == [rid(TUE, "breakfast")]
    # Everything acknowledged up to now: no streak.
    acks = {**acks, rid(MON, "lunch"): "taken", rid(TUE, "breakfast"): "taken"}
    assert missed_in_a_row(config, acks, {}, now, since=since) == []


def test_missed_in_a_row_counts_only_since_the_records_began() -> None:
    # Nothing acknowledged ever; the records began Mon 15:00 → Mon dinner, Tue breakfast.
    streak = missed_in_a_row(three_meals(), {}, {}, utc(TUE, 12, 30), since=utc(MON, 15))
    assert [r.id for r in streak] == [rid(MON, "dinner"), rid(TUE, "breakfast")]


def test_repeats_every_repeat_at_most_repeat_max_never_at_or_after_the_deadline() -> None:
    config = config_from(three_meals_text(lunch="08:45", dinner="23:30"))
    plan = plan_day(config, MON)
    # repeat 15m, repeat_max 3.
    # breakfast 08:00, deadline 08:45 (lunch): 08:15, 08:30; 08:45 is the deadline → not repeated.
    # lunch 08:45, deadline 23:30: 09:00, 09:15, 09:30 (3 = repeat_max).
    # dinner 23:30, deadline 24:00 (end of day): 23:45; 00:00 is the deadline.
    assert [(r.id, n, when) for r, n, when in repeats(config, plan)] == [
        (rid(MON, "breakfast"), 1, utc(MON, 8, 15)),
        (rid(MON, "breakfast"), 2, utc(MON, 8, 30)),
        (rid(MON, "lunch"), 1, utc(MON, 9, 0)),
        (rid(MON, "lunch"), 2, utc(MON, 9, 15)),
        (rid(MON, "lunch"), 3, utc(MON, 9, 30)),
        (rid(MON, "dinner"), 1, utc(MON, 23, 45)),
    ]
    never = config_from(three_meals_text(lunch="08:45", dinner="23:30", repeat_max=0))
    assert repeats(never, plan_day(never, MON)) == []
    hourly = config_from(three_meals_text(repeat="1h30m"))
    # repeat 1h30m: breakfast 08:00 → 09:30, 11:00; the 3rd, 12:30, is past its deadline 12:00.
    # lunch 12:00 → 13:30, 15:00, 16:30 (repeat_max 3). dinner 18:00 → 19:30, 21:00, 22:30.
    assert [when for _, _, when in repeats(hourly, plan_day(hourly, MON))] == [
        utc(MON, 9, 30),
        utc(MON, 11),
        utc(MON, 13, 30),
        utc(MON, 15),
        utc(MON, 16, 30),
        utc(MON, 19, 30),
        utc(MON, 21),
        utc(MON, 22, 30),
    ]


# ---------------------------------------------------------------------------- week grid


def test_week_grid_marks_each_meal_of_each_day() -> None:
    config = config_from(
        timezone("UTC")
        + meal("breakfast", "08:00", days=WEEKDAYS)
        + meal("brunch", "10:00", days=WEEKEND)
        + meal("dinner", "18:00")
        + citrate(100)
        + magnesium(200)
    )
    fri, sat = dt.date(2026, 11, 27), dt.date(2026, 11, 28)
    acks = {rid(fri, "breakfast"): "taken", rid(fri, "dinner"): "skipped"}
    # now Sat 19:00: Sat brunch (deadline 18:00) missed, Sat dinner (deadline 24:00) pending.
    days = history(config, sat, 2, acks=acks, reports={}, now=utc(sat, 19))
    lines = week_grid(days).splitlines()
    header, friday, saturday = lines[0], lines[1], lines[2]

    def mark(row: str, column: str) -> str:
        position = header.index(column)
        return row[position] if position < len(row) else " "

    assert friday.split()[:2] == ["Fri", "11-27"] and saturday.split()[:2] == ["Sat", "11-28"]
    assert [mark(friday, column) for column in ("breakfast", "brunch", "dinner")] == ["✓", " ", "–"]
    assert [mark(saturday, column) for column in ("breakfast", "brunch", "dinner")] == [" ", "✗", "·"]
    assert any("✓" in line and "taken" in line and "✗" in line and "missed" in line for line in lines[3:])


# ---------------------------------------------------------------------------- refills


def refill_config() -> Config:
    """Europe/Berlin (UTC+1 in November). Breakfast 08:00 and dinner 18:00, both with a
    slow-release tablet of 84 mg (2 doses, 10 h apart ≥ 8 h), and a B complex with breakfast
    (no stock: not counted). The ramp from 2026-11-18: 84 mg for 6 days (Wed 18 … Mon 23: one
    tablet, at breakfast: the second dose would pass T), then 168 mg (two tablets) from Tue 24."""
    return config_from(
        timezone("Europe/Berlin")
        + meal("breakfast", "08:00")
        + meal("dinner", "18:00")
        + slow(84, 2, sid="slowmag", units_per_dose="1", stock="20", stock_date="2026-11-20", refill_days="7")
        + fixed("bcomplex", "B complex", "breakfast", name="B complex")
        + magnesium(168)
        + table("titration", start="2026-11-18", start_mg="84", step_mg="84", every_days="6")
    )


def tablets(config: Config, day: dt.date) -> list[tuple[str, float]]:
    return [
        (r.id, item.units)
        for r in plan_day(config, day).reminders
        for item in r.items
        if item.supplement.id == "slowmag"
    ]


def test_the_refill_fixture_is_what_its_docstring_says() -> None:
    config = refill_config()
    assert tablets(config, dt.date(2026, 11, 19)) == [("2026-11-19/breakfast", 1)]
    assert tablets(config, MON) == [("2026-11-23/breakfast", 1)]
    assert tablets(config, TUE) == [("2026-11-24/breakfast", 1), ("2026-11-24/dinner", 1)]


def test_units_left_from_the_configured_stock_less_reminders_not_skipped() -> None:
    config = refill_config()
    now = berlin(dt.date(2026, 11, 22), 20)  # Sun 20:00 CET
    acks = {"2026-11-20/breakfast": "taken", "2026-11-21/breakfast": "skipped"}  # 22/breakfast not acknowledged
    # stock 20 at 2026-11-20 00:00 CET. Reminders since then, up to now: 20/breakfast (1 tablet, taken),
    # 21/breakfast (skipped: not counted), 22/breakfast (unacknowledged: counted). 19/breakfast is before.
    # Left: 20 - 2 = 18.
    # Next 7 days from today, Sun 22 … Sat 28: 1 + 1 + 2*5 = 12 tablets → 12/7 a day;
    # days_left = 18 / (12/7) = 126/12 = 10.5 ≥ refill_days 7 → not low.
    (supply,) = supplies(config, {}, acks, {}, now)  # only the counted supplement: no B complex
    assert supply.supplement.id == "slowmag"
    assert supply.units_left == 18
    assert supply.days_left == 10.5
    assert not supply.low
    # A count older than the configured stock_date does not supersede it.
    older = {"slowmag": (5.0, berlin(dt.date(2026, 11, 19), 12))}
    assert supplies(config, older, acks, {}, now)[0].units_left == 18


def test_a_later_stock_count_supersedes_and_low_below_refill_days() -> None:
    config = refill_config()
    counts = {"slowmag": (8.0, berlin(MON, 7))}  # `stock slowmag 8` on Mon 07:00 CET
    now = berlin(MON, 12)
    # Since Mon 07:00: Mon breakfast 08:00 (1 tablet) → 8 - 1 = 7 left.
    # Next 7 days Mon 23 … Sun 29: 1 + 2*6 = 13 → days_left = 7 / (13/7) = 49/13 = 3.77 → 3.8 < 7 → low.
    (supply,) = supplies(config, counts, {}, {}, now)
    assert supply.units_left == 7
    assert supply.days_left == 3.8
    assert supply.low
    assert supply_text(supply) == "Mag-Tab SR: 7 tablets left, about 4 days"
    # Every reminder that contains the supplement says so (SPEC §6).
    _title, body = notification(config, plan_day(config, TUE).reminders[0], [supply])
    assert "Mag-Tab SR: 7 tablets left, about 4 days" in body.splitlines()


def test_low_is_strictly_fewer_days_than_refill_days() -> None:
    config = refill_config()
    now = berlin(TUE, 20)  # after Tue's breakfast and dinner (2 tablets)
    # From Tue on, every day takes 2 tablets → 2 a day.
    # Count 16 at Tue 07:00: 16 - 2 = 14 → 14/2 = 7.0 days: not fewer than 7 → not low.
    # Count 15: 13 → 6.5 days → low.
    (enough,) = supplies(config, {"slowmag": (16.0, berlin(TUE, 7))}, {}, {}, now)
    assert (enough.units_left, enough.days_left, enough.low) == (14, 7.0, False)
    (short,) = supplies(config, {"slowmag": (15.0, berlin(TUE, 7))}, {}, {}, now)
    assert (short.units_left, short.days_left, short.low) == (13, 6.5, True)


def test_none_left_is_low() -> None:
    config = refill_config()
    # Count 1 at Sun 07:00; Sun and Mon breakfast take one each → 1 - 2 = -1.
    (supply,) = supplies(config, {"slowmag": (1.0, berlin(dt.date(2026, 11, 22), 7))}, {}, {}, berlin(MON, 12))
    assert supply.units_left == -1
    assert supply.low
    assert "Mag-Tab SR" in supply_text(supply)


def test_supply_text_reads_like_the_spec_example() -> None:
    supplement = refill_config().supplements[0]
    assert supply_text(Supply(supplement, 9, 4.2)) == "Mag-Tab SR: 9 tablets left, about 4 days"
    assert supply_text(Supply(supplement, 1, 0.9)) == "Mag-Tab SR: 1 tablet left, about 1 day"
    assert supply_text(Supply(supplement, 12, None)) == "Mag-Tab SR: 12 tablets left"


# ---------------------------------------------------------------------------- deadlines, sorted once


def _deadlines_all_pairs(config: Config, plan: DayPlan) -> list[dt.datetime]:
    """The definition, literally (SPEC §6 "missed"): each reminder against every other of its day."""
    found = []
    for reminder in plan.reminders:
        later = [other.instant for other in plan.reminders if other.instant > reminder.instant]
        if later:
            found.append(min(later))
        else:
            day = reminder.at.astimezone(config.zone).date()
            found.append(wall_clock_instant(day + dt.timedelta(days=1), dt.time(0), config.zone))
    return found


DEADLINE_ZONES = ("UTC", "Europe/Berlin", "America/New_York")
# Days of a plain week, of the spring and the autumn changes of Berlin and New York.
DEADLINE_DAYS = (MON, dt.date(2027, 3, 14), dt.date(2027, 3, 28), dt.date(2027, 10, 31), dt.date(2027, 11, 7))


@functools.cache
def _zone_config(zone: str) -> Config:
    return config_from(timezone(zone) + meal("breakfast", "08:00") + citrate(100) + magnesium(100))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.sampled_from(DEADLINE_ZONES),
    st.sampled_from(DEADLINE_DAYS),
    # Minutes from the day's local midnight: some share an instant, some fall after midnight (delayed).
    st.lists(st.integers(min_value=0, max_value=26 * 60), max_size=40),
)
def test_deadlines_sorted_once_are_the_next_later_instant_of_the_day(
    zone: str, day: dt.date, minutes: list[int]
) -> None:
    config = _zone_config(zone)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=config.zone).astimezone(UTC)
    reminders = tuple(
        Reminder(f"{day}/meal{number}", (start + dt.timedelta(minutes=m)).astimezone(config.zone), "m", False, (), ())
        for number, m in enumerate(minutes)
    )
    plan = DayPlan(day, 0.0, "", 0.0, 0.0, reminders, ())
    assert deadlines(config, plan) == _deadlines_all_pairs(config, plan)


def test_reminders_due_together_share_the_next_deadline() -> None:
    config = config_from(three_meals_text(lunch="08:00"))  # breakfast and lunch both at 08:00
    plan = plan_day(config, MON)
    assert [r.instant for r in plan.reminders] == [utc(MON, 8), utc(MON, 8), utc(MON, 18)]
    assert deadlines(config, plan) == [utc(MON, 18), utc(MON, 18), utc(TUE, 0)]


def test_two_hundred_reminders_a_day_each_missed_when_the_next_is_due() -> None:
    meals = "".join(meal(f"m{number:03}", f"{number // 10:02}:{number % 10 * 6:02}") for number in range(200))
    names = json.dumps([f"m{number:03}" for number in range(200)])
    text = timezone("UTC") + meals + '[[supplement]]\nid = "d"\nname = "D"\nnutrient = "vitamin D"\n'
    config = config_from(text + f'unit = "drop"\nwith = {names}\nunits = 1\n')
    plan = plan_day(config, MON)
    assert len(plan.reminders) == 200
    found = deadlines(config, plan)
    assert found[:-1] == [r.instant for r in plan.reminders[1:]]
    assert found[-1] == utc(TUE, 0)


# ---------------------------------------------------------------------------- running stock totals


def totals_config_text(base: dt.date) -> str:
    """Europe/Berlin; breakfast, lunch, and a late supper of lentils whose magnesium is delayed 2 h,
    past midnight (to the next day: the day a running total ends must not lose it). Four counted
    supplements from `base`: slow-release magnesium (2 doses), a splitting citrate, calcium in half
    tablets, and 0.1 ml of fish oil at breakfast and supper (0.1 has no exact binary float: the
    total carried over must add up to the very same float). A ramp from 3 days before `base`."""
    stock = {"stock": "500", "stock_date": base.isoformat()}
    fish_oil = (
        '[[supplement]]\nid = "fishoil"\nname = "Fish oil"\nnutrient = "omega-3"\nunit = "ml"\n'
        f'with = ["breakfast", "late supper"]\nunits = 0.1\nstock = 40\nstock_date = {base.isoformat()}\n\n'
    )
    calcium_counted = (
        '[[supplement]]\nid = "calcium"\nname = "Calcium carbonate"\nnutrient = "calcium"\nunit = "tablet"\n'
        f"mg_per_unit = 250\nstep = 0.5\nstock = 300\nstock_date = {base.isoformat()}\n\n"
    )
    return (
        timezone("Europe/Berlin")
        + meal("breakfast", "07:30")
        + meal("lunch", "12:30")
        + meal("late supper", "23:30", foods=("lentil soup",))
        + slow(84, 2, sid="slowmag", units_per_dose="1", **stock)
        + citrate(100, **stock)
        + calcium_counted
        + fish_oil
        + magnesium(500, calcium_ratio="1.0", phytate='"delay"', phytate_gap='"2h"')
        + table(
            "titration", start=(base - dt.timedelta(days=3)).isoformat(), start_mg="100", step_mg="100", every_days="2"
        )
    )


# A plain November, and the spring and autumn changes of Berlin (2027-03-28, 2027-10-31).
TOTALS_BASES = (dt.date(2026, 11, 20), dt.date(2027, 3, 24), dt.date(2027, 10, 27))


@functools.cache
def totals_config(base: dt.date) -> Config:
    return config_from(totals_config_text(base))


def test_the_totals_fixture_delays_the_supper_dose_past_midnight() -> None:
    config = totals_config(TOTALS_BASES[0])
    plan = plan_day(config, dt.date(2026, 11, 25))
    delayed = plan.reminders[-1]
    assert (delayed.id, delayed.at) == ("2026-11-25/late supper+delay", berlin(dt.date(2026, 11, 26), 1, 30))
    counted = {item.supplement.id for reminder in plan.reminders for item in reminder.items}
    assert counted == {"slowmag", "citrate", "calcium", "fishoil"}


def _ids(config: Config, first: dt.date, days: int) -> list[str]:
    return [r.id for plan in plan_days(config, first, days) for r in plan.reminders]


def _hours(base: dt.date, hours: int) -> dt.datetime:
    return dt.datetime.combine(base, dt.time(0), tzinfo=BERLIN) + dt.timedelta(hours=hours)


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(
    base=st.sampled_from(TOTALS_BASES),
    skipped=st.sets(st.integers(min_value=0, max_value=120)),
    reported=st.sets(st.integers(min_value=-3, max_value=30), max_size=3),
    # A `stock` count, in hours from `base` (before it: the configured stock_date is the latest).
    counted=st.one_of(st.none(), st.integers(min_value=-48, max_value=30 * 24)),
    # When the daemon made its totals (one or two midnights) and when they are read, hours from `base`.
    made=st.lists(st.integers(min_value=0, max_value=30 * 24), min_size=1, max_size=3),
    later=st.integers(min_value=0, max_value=10 * 24),
    newer_count=st.booleans(),
)
def test_supplies_from_running_totals_are_those_of_every_day_added_up(
    *,
    base: dt.date,
    skipped: set[int],
    reported: set[int],
    counted: int | None,
    made: list[int],
    later: int,
    newer_count: bool,
) -> None:
    config = totals_config(base)
    ids = _ids(config, base - dt.timedelta(days=3), 40)
    acks = {ids[n % len(ids)]: "skipped" for n in skipped} | {ids[0]: "taken"}
    reports = {base + dt.timedelta(days=offset): ["cramps"] for offset in reported}
    counts = {} if counted is None else {"citrate": (7.0, _hours(base, counted))}
    totals: dict[str, StockTotal] = {}
    for instant in sorted(_hours(base, hours) for hours in made):  # the daemon, at each midnight
        first = supplies_since(config, counts, totals, instant)
        assert first is not None
        # The range of acknowledgements a reader asks for is all it needs.
        ranged = {rid: status for rid, status in acks.items() if rid >= first.isoformat()}
        totals = stock_totals(config, counts, totals, acks=ranged, reports=reports, now=instant)
        assert all(total.through == instant.date() - dt.timedelta(days=2) for total in totals.values())
        # Carried over from midnight to midnight, or added up at once from the count: the same floats.
        assert totals == stock_totals(config, counts, {}, acks=acks, reports=reports, now=instant)
    now = _hours(base, max(made) + later)
    if newer_count:  # `stock citrate 3` after the totals were made: the citrate's is not its count
        counts = {**counts, "citrate": (3.0, now - dt.timedelta(minutes=1))}
    first = supplies_since(config, counts, totals, now)
    assert first is not None
    ranged = {rid: status for rid, status in acks.items() if rid >= first.isoformat()}
    from_totals = supplies(config, counts, ranged, reports, now, totals=totals)
    assert from_totals == supplies(config, counts, acks, reports, now)
    assert [s.supplement.id for s in from_totals] == ["slowmag", "citrate", "calcium", "fishoil"]


def test_a_running_total_covers_the_day_before_yesterday_and_spares_the_replay() -> None:
    config = totals_config(TOTALS_BASES[0])
    base = TOTALS_BASES[0]
    now = berlin(base + dt.timedelta(days=10), 9)
    totals = stock_totals(config, {}, {}, acks={}, reports={}, now=now)
    # stock_date 2026-11-20 00:00 CET; the totals end 2026-11-28, two days before 11-30.
    assert {total.through for total in totals.values()} == {dt.date(2026, 11, 28)}
    assert {total.counted_at for total in totals.values()} == {berlin(base, 0)}
    # With them, the acknowledgements needed begin on 11-29; without, on the day of the count.
    assert supplies_since(config, {}, totals, now) == dt.date(2026, 11, 29)
    assert supplies_since(config, {}, {}, now) == base
    # Brought up to date a day later: only that day is added (the others are carried over).
    again = stock_totals(config, {}, totals, acks={}, reports={}, now=now + dt.timedelta(days=1))
    day = plan_day(config, dt.date(2026, 11, 29), Ramp(config, {}))
    fish_oil = sum(item.units for r in day.reminders for item in r.items if item.supplement.id == "fishoil")
    assert again["fishoil"].used == totals["fishoil"].used + fish_oil


def test_a_running_total_of_another_count_is_ignored() -> None:
    config = totals_config(TOTALS_BASES[0])
    base = TOTALS_BASES[0]
    now = berlin(base + dt.timedelta(days=10), 9)
    made = stock_totals(config, {}, {}, acks={}, reports={}, now=now)
    # A count recorded since (`stock`), or an older one back in force (`undo` of it, an edited
    # stock_date): the totals of the configured count are not the supplies of that one.
    for counts in ({"slowmag": (30.0, now - dt.timedelta(hours=1))}, {"slowmag": (30.0, berlin(base, 12))}):
        assert supplies(config, counts, {}, {}, now, totals=made) == supplies(config, counts, {}, {}, now)
        assert supplies_since(config, counts, made, now) == min(
            dt.date(2026, 11, 29), counts["slowmag"][1].astimezone(BERLIN).date()
        )
    # A total that claims days not yet settled (made by a clock ahead of this one) is not trusted.
    ahead = {"slowmag": StockTotal(berlin(base, 0), now.date(), 0.0)}
    assert supplies(config, {}, {}, {}, now, totals=ahead) == supplies(config, {}, {}, {}, now)


def test_no_running_total_for_a_count_after_the_settled_day() -> None:
    config = totals_config(TOTALS_BASES[0])
    now = berlin(TOTALS_BASES[0] + dt.timedelta(days=10), 9)
    counts = {"citrate": (12.0, now - dt.timedelta(days=1))}  # yesterday: not settled
    assert "citrate" not in stock_totals(config, counts, {}, acks={}, reports={}, now=now)


# ---------------------------------------------------------------------------- when the records begin (SPEC §6 v2)


def test_the_records_begin_at_the_state_creation_without_acknowledgements() -> None:
    created = utc(TUE, 10)
    assert records_begin(three_meals(), created, [], {}) == created
    # Acknowledgements after the creation change nothing: the earlier of the two is the creation.
    assert records_begin(three_meals(), created, [rid(TUE, "lunch"), rid(TUE, "dinner")], {}) == created


def test_the_records_begin_at_the_earliest_reminder_acknowledged_before_the_state() -> None:
    # A new state (Tue 10:00); Monday's breakfast (08:00) taken and lunch (12:00) skipped afterwards:
    # the records begin at Mon 08:00, the earlier of the two reminders and of the creation.
    acks = {rid(MON, "breakfast"): "taken", rid(MON, "lunch"): "skipped"}
    since = records_begin(three_meals(), utc(TUE, 10), acks, {})
    assert since == utc(MON, 8)
    # …so Monday's dinner (18:00), unmarked, is missed once Monday ends (SPEC §6: no later reminder that day).
    (monday,) = history(three_meals(), MON, 1, acks=acks, reports={}, now=utc(TUE, 10), since=since)
    assert statuses(monday.reminders) == [
        (rid(MON, "breakfast"), "taken"),
        (rid(MON, "lunch"), "skipped"),
        (rid(MON, "dinner"), "missed"),
    ]
    # With the creation as the beginning (before v2), Monday's dinner was left out.
    (before_v2,) = history(three_meals(), MON, 1, acks=acks, reports={}, now=utc(TUE, 10), since=utc(TUE, 10))
    assert [entry.reminder.id for entry in before_v2.reminders] == [rid(MON, "breakfast"), rid(MON, "lunch")]


def test_the_records_begin_at_the_reminder_acknowledged_not_at_the_start_of_its_day() -> None:
    # Only Monday's lunch (12:00) acknowledged: the records begin at it; breakfast (08:00) came before them.
    acks = {rid(MON, "lunch"): "taken"}
    since = records_begin(three_meals(), utc(TUE, 10), acks, {})
    assert since == utc(MON, 12)
    (monday,) = history(three_meals(), MON, 1, acks=acks, reports={}, now=utc(TUE, 10), since=since)
    assert statuses(monday.reminders) == [(rid(MON, "lunch"), "taken"), (rid(MON, "dinner"), "missed")]


def test_an_acknowledged_reminder_the_plan_has_no_more_begins_the_records_at_its_day() -> None:
    # "brunch" is no meal of this plan (renamed since): Sunday 00:00 UTC, the start of its day. Ids that are
    # not ours are left out.
    sunday = MON - dt.timedelta(days=1)
    acks = [rid(sunday, "brunch"), rid(MON, "breakfast"), "garbled", "2026-02-30/lunch"]
    assert records_begin(three_meals(), utc(TUE, 10), acks, {}) == utc(sunday, 0)


def test_a_reminder_of_the_next_day_due_the_evening_before_can_begin_the_records() -> None:
    # Meals at 00:10 ("early") and 21:50 ("late", phytate-rich, its dose delayed 2 h: 23:50, no lead), reminded
    # 30 min before: Tuesday's early at Mon 23:40, Monday's late+delay at Mon 23:50.
    config = config_from(
        timezone("UTC")
        + table("reminders", lead='"30m"')
        + meal("early", "00:10")
        + meal("late", "21:50", phytate=True)
        + citrate(100)
        + magnesium(200, phytate='"delay"', phytate_gap='"2h"')
    )
    assert [(r.id, r.at) for r in plan_day(config, MON).reminders] == [
        (rid(MON, "early"), utc(MON - dt.timedelta(days=1), 23, 40)),
        (rid(MON, "late+delay"), utc(MON, 23, 50)),
    ]
    # The earliest acknowledged day is Monday, but Tuesday's early reminder came before Monday's late one.
    assert records_begin(config, utc(TUE, 12), [rid(MON, "late+delay"), rid(TUE, "early")], {}) == utc(MON, 23, 40)
    assert records_begin(config, utc(TUE, 12), [rid(MON, "late+delay")], {}) == utc(MON, 23, 50)


def test_supply_text_says_less_than_a_day_never_about_0_days() -> None:
    supplement = refill_config().supplements[0]
    # 1 tablet at 2 a day: 0.5 days, which rounds to 0 → "less than a day"; 1.4 days rounds to 1 → "1 day".
    assert supply_text(Supply(supplement, 1, 0.5)) == "Mag-Tab SR: 1 tablet left, less than a day"
    assert supply_text(Supply(supplement, 0.5, 0.2)) == "Mag-Tab SR: 0.5 tablet left, less than a day"
    assert supply_text(Supply(supplement, 3, 1.4)) == "Mag-Tab SR: 3 tablets left, about 1 day"
    assert supply_text(Supply(supplement, 3, 1.6)) == "Mag-Tab SR: 3 tablets left, about 2 days"
    # A liquid's unit written in the plural reads in the singular for one unit or less.
    drops = supplement._replace(name="Magnesium chloride", unit="teaspoons")
    assert supply_text(Supply(drops, 1, 0.4)) == "Magnesium chloride: 1 teaspoon left, less than a day"
    assert supply_text(Supply(drops, 6, 3)) == "Magnesium chloride: 6 teaspoons left, about 3 days"


def test_the_caregivers_message_counts_one_dose_in_the_singular() -> None:
    from mgremind.render import escalation_text

    plan = plan_day(three_meals(), MON)
    assert escalation_text("Magnesium", plan.reminders[:1])[0] == "Magnesium: 1 dose missed"
    assert escalation_text("Magnesium", plan.reminders[:2])[0] == "Magnesium: 2 doses missed"
