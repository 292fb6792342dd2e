"""`export --ics` (SPEC §6, issue 5): the plan as an RFC 5545 calendar, parsed back with icalendar.

Europe/Berlin: clocks spring forward on 2026-03-29 (02:00 CET → 03:00 CEST) and fall back on
2026-10-25 (03:00 CEST → 02:00 CET). The plan (hand-computed from SPEC §2; lead 0):
- breakfast 02:30 with 100 mg citrate. On 2026-03-29 02:30 does not exist → the first instant
  after the gap, 03:00 CEST = 01:00 UTC. On 2026-10-25 02:30 occurs twice → the first, CEST = 00:30 UTC.
- lunch 12:30, phytate-rich (lentils), phytate = "delay", gap 2h → its magnesium at 14:30 ("lunch+delay").
- dinner 19:00 with 100 mg citrate and a vitamin D capsule (fixed with dinner).
daily_mg 300 = three 100 mg steps, one to each slot that may take magnesium (SPEC §2.6).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import icalendar
import pytest
from conftest import Mgremind, config_from
from plans import citrate, fixed, magnesium, meal, table, timezone

from mgremind.ics import calendar
from mgremind.loader import load_config
from mgremind.model import Config, DayPlan
from mgremind.plan import plan_days

UTC = dt.timezone.utc
SPRING = dt.date(2026, 3, 29)
AUTUMN = dt.date(2026, 10, 25)

PLAN = (
    timezone("Europe/Berlin")
    + table("notify", title='"Magnesium"')
    + meal("breakfast", "02:30")
    + meal("lunch", "12:30", foods=("lentil soup",))
    + meal("dinner", "19:00")
    + citrate(100)
    + fixed("vitd", "vitamin D", "dinner", name="Vitamin D3", unit="capsule")
    + magnesium(300, phytate='"delay"', phytate_gap='"2h"')
)


def utc(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


def plan_config() -> Config:
    return config_from(PLAN)


def parse(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def events(document: icalendar.Calendar) -> list[Any]:
    return list(document.walk("VEVENT"))


def start_utc(event: Any) -> dt.datetime:
    start = event.decoded("DTSTART")
    assert isinstance(start, dt.datetime) and start.tzinfo is not None
    return start.astimezone(UTC)


def by_uid(document: icalendar.Calendar) -> dict[str, Any]:
    found = {str(event["UID"]): event for event in events(document)}
    assert len(found) == len(events(document)), "UIDs must be unique"
    return found


def dst_days(config: Config) -> list[DayPlan]:
    return plan_days(config, SPRING - dt.timedelta(days=1), 3) + plan_days(config, AUTUMN - dt.timedelta(days=1), 3)


NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------- ics.calendar


def test_one_event_per_reminder_with_the_reminder_id_as_uid_at_the_plans_instant() -> None:
    config = plan_config()
    days = dst_days(config)
    found = by_uid(parse(calendar(config, days, NOW)))
    reminders = [reminder for day in days for reminder in day.reminders]
    assert len(reminders) == 18  # 6 days × (breakfast, lunch+delay, dinner)
    assert sorted(found) == sorted(reminder.id for reminder in reminders)
    for reminder in reminders:
        assert start_utc(found[reminder.id]) == reminder.instant, reminder.id


def test_dst_days_hand_computed() -> None:
    found = by_uid(parse(calendar(plan_config(), dst_days(plan_config()), NOW)))
    # Spring: 02:30 does not exist → 03:00 CEST = 01:00 UTC; 14:30 and 19:00 CEST = 12:30 and 17:00 UTC.
    assert start_utc(found["2026-03-29/breakfast"]) == utc(SPRING, 1)
    assert start_utc(found["2026-03-29/lunch+delay"]) == utc(SPRING, 12, 30)
    assert start_utc(found["2026-03-29/dinner"]) == utc(SPRING, 17)
    # The day before, still CET (UTC+1): 02:30 → 01:30 UTC.
    assert start_utc(found["2026-03-28/breakfast"]) == utc(dt.date(2026, 3, 28), 1, 30)
    # Autumn: 02:30 occurs twice → the first, CEST (UTC+2) = 00:30 UTC; 19:00 CET = 18:00 UTC.
    assert start_utc(found["2026-10-25/breakfast"]) == utc(AUTUMN, 0, 30)
    assert start_utc(found["2026-10-25/lunch+delay"]) == utc(AUTUMN, 13, 30)
    assert start_utc(found["2026-10-25/dinner"]) == utc(AUTUMN, 18)
    # The day after, CET: 02:30 → 01:30 UTC.
    assert start_utc(found["2026-10-26/breakfast"]) == utc(dt.date(2026, 10, 26), 1, 30)


def test_a_reminder_in_the_second_occurrence_of_a_repeated_hour_keeps_its_instant() -> None:
    """A snack at 02:40 (phytate-rich, delayed 50 min) on 2026-10-25: the first 02:40, CEST, is 00:40
    UTC, + 50 min = 01:30 UTC = 02:30 CET, the SECOND 02:30 of that night. The breakfast at the
    first 02:30 (00:30 UTC, before the snack's window) is an hour earlier; the calendar must keep
    them an hour apart."""
    snack_meal = '[[meal]]\nname = "snack"\ntime = "02:40"\nphytate = true\n\n'
    text = PLAN.replace("[[supplement]]", snack_meal + "[[supplement]]", 1)
    snack = config_from(text.replace('phytate_gap = "2h"', 'phytate_gap = "50m"'))
    days = plan_days(snack, AUTUMN, 1)
    delayed = [reminder for reminder in days[0].reminders if reminder.id == "2026-10-25/snack+delay"]
    assert len(delayed) == 1 and delayed[0].instant == utc(AUTUMN, 1, 30)  # the planner has it right
    found = by_uid(parse(calendar(snack, days, NOW)))
    assert start_utc(found["2026-10-25/breakfast"]) == utc(AUTUMN, 0, 30)
    assert start_utc(found["2026-10-25/snack+delay"]) == utc(AUTUMN, 1, 30)


def test_each_event_has_a_display_alarm_at_the_reminder() -> None:
    config = plan_config()
    for event in events(parse(calendar(config, dst_days(config), NOW))):
        alarms = list(event.walk("VALARM"))
        assert len(alarms) == 1
        alarm = alarms[0]
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert str(alarm["DESCRIPTION"])  # RFC 5545: a DISPLAY alarm needs a DESCRIPTION
        assert alarm.decoded("TRIGGER") == dt.timedelta(0)  # at the event's start: the reminder's instant


def test_the_calendar_carries_a_vtimezone_that_gives_the_plans_instants() -> None:
    """Calendar programs read local times through the file's VTIMEZONE, not through their own
    database: interpret each DTSTART with the VTIMEZONE alone (dateutil's tzical)."""
    config = plan_config()
    days = dst_days(config)
    document = parse(calendar(config, days, NOW))
    zones = {str(zone["TZID"]): zone for zone in document.walk("VTIMEZONE")}
    assert "Europe/Berlin" in zones
    berlin = zones["Europe/Berlin"]
    assert isinstance(berlin, icalendar.Timezone)
    own = berlin.to_tz(lookup_tzid=False)
    instants = {reminder.id: reminder.instant for day in days for reminder in day.reminders}
    for event in events(document):
        prop = event["DTSTART"]
        zone_id = prop.params.get("TZID")
        if zone_id is None:  # written in UTC
            assert prop.to_ical().decode().endswith("Z")
            continue
        assert zone_id in zones
        wall = dt.datetime.strptime(prop.to_ical().decode(), "%Y%m%dT%H%M%S")
        assert wall.replace(tzinfo=own).astimezone(UTC) == instants[str(event["UID"])], str(event["UID"])


def test_the_vtimezone_covers_days_long_after_today() -> None:
    # 2040-07-01, summer time (CEST, UTC+2): breakfast 02:30 CEST = 00:30 UTC.
    config = plan_config()
    days = plan_days(config, dt.date(2040, 7, 1), 1)
    document = parse(calendar(config, days, NOW))
    (zone,) = [zone for zone in document.walk("VTIMEZONE") if str(zone["TZID"]) == "Europe/Berlin"]
    assert isinstance(zone, icalendar.Timezone)
    own = zone.to_tz(lookup_tzid=False)
    event = by_uid(document)["2040-07-01/breakfast"]
    wall = dt.datetime.strptime(event["DTSTART"].to_ical().decode(), "%Y%m%dT%H%M%S")
    assert wall.replace(tzinfo=own).astimezone(UTC) == utc(dt.date(2040, 7, 1), 0, 30)


def test_summary_and_description_name_the_meal_and_the_doses() -> None:
    config = plan_config()
    found = by_uid(parse(calendar(config, plan_days(config, dt.date(2026, 6, 1), 1), NOW)))
    breakfast, lunch, dinner = (found[f"2026-06-01/{meal}"] for meal in ("breakfast", "lunch+delay", "dinner"))
    assert "breakfast" in str(breakfast["SUMMARY"]) and "Magnesium" in str(breakfast["SUMMARY"])
    assert "lunch" in str(lunch["SUMMARY"])
    assert "dinner" in str(dinner["SUMMARY"])
    assert "Magnesium citrate: 1 capsule (100 mg)" in str(breakfast["DESCRIPTION"])
    assert "Magnesium citrate: 1 capsule (100 mg)" in str(lunch["DESCRIPTION"])
    assert "lentil" in str(lunch["DESCRIPTION"])  # why it is after the meal
    assert "Magnesium citrate: 1 capsule (100 mg)" in str(dinner["DESCRIPTION"])
    assert "Vitamin D3: 1 capsule" in str(dinner["DESCRIPTION"])
    assert "Vitamin D3" not in str(breakfast["DESCRIPTION"])


def test_a_second_export_of_the_same_days_gives_the_same_uids() -> None:
    config = plan_config()
    first = [str(event["UID"]) for event in events(parse(calendar(config, dst_days(config), NOW)))]
    later = NOW + dt.timedelta(days=3, hours=5)
    second = [str(event["UID"]) for event in events(parse(calendar(plan_config(), dst_days(plan_config()), later)))]
    assert first == second
    assert len(set(first)) == len(first) == 18


# ---------------------------------------------------------------------------- the command line


@pytest.fixture
def run_cli(tmp_path: Path, mgremind: Mgremind) -> Mgremind:
    """`mgremind -c tmp_path/config.toml ARGS`, in this process, the state in tmp_path/state."""
    return lambda *args: mgremind("-c", str(tmp_path / "config.toml"), *args)


def test_cli_export_writes_the_plan_dst_days_included(tmp_path: Path, run_cli: Mgremind) -> None:
    (tmp_path / "config.toml").write_text(PLAN, encoding="utf-8")
    (tmp_path / "state").mkdir()
    config = load_config(tmp_path / "config.toml")
    for first in (SPRING - dt.timedelta(days=1), AUTUMN - dt.timedelta(days=1)):
        out = tmp_path / f"{first.isoformat()}.ics"
        result = run_cli("export", "--ics", str(out), "--from", first.isoformat(), "--days", "3")
        assert result.returncode == 0, result.stderr
        found = by_uid(parse(out.read_bytes()))
        reminders = [reminder for day in plan_days(config, first, 3) for reminder in day.reminders]
        assert sorted(found) == sorted(reminder.id for reminder in reminders)
        for reminder in reminders:
            assert start_utc(found[reminder.id]) == reminder.instant, reminder.id
        assert all(len(list(event.walk("VALARM"))) == 1 for event in found.values())
    spring = by_uid(parse((tmp_path / "2026-03-28.ics").read_bytes()))
    assert start_utc(spring["2026-03-29/breakfast"]) == utc(SPRING, 1)  # 03:00 CEST
    autumn = by_uid(parse((tmp_path / "2026-10-24.ics").read_bytes()))
    assert start_utc(autumn["2026-10-25/breakfast"]) == utc(AUTUMN, 0, 30)  # the first 02:30, CEST

    # Exported again (another `now`, same days): the same UIDs, so calendars update rather than duplicate.
    again = tmp_path / "again.ics"
    result = run_cli("export", "--ics", str(again), "--from", "2026-03-28", "--days", "3")
    assert result.returncode == 0, result.stderr
    assert [str(e["UID"]) for e in events(parse(again.read_bytes()))] == [
        str(e["UID"]) for e in events(parse((tmp_path / "2026-03-28.ics").read_bytes()))
    ]


def test_cli_export_plans_with_the_recorded_symptoms(tmp_path: Path, run_cli: Mgremind) -> None:
    # Ramp from 2026-06-01: 100 mg, +100 every day, daily 300 → 06-01 100, 06-02 200, 06-03 300.
    # `report diarrhea --date 2026-06-02`: blamed on 06-01 (100 mg) → from 06-03 max(100, 0) = 100 mg:
    # one 100 mg step, at breakfast (the earliest of the emptiest slots).
    ramp = "\n[titration]\nstart = 2026-06-01\nstart_mg = 100\nstep_mg = 100\nevery_days = 1\n"
    (tmp_path / "config.toml").write_text(PLAN + ramp, encoding="utf-8")
    (tmp_path / "state").mkdir()
    before = tmp_path / "before.ics"
    assert run_cli("export", "--ics", str(before), "--from", "2026-06-03", "--days", "1").returncode == 0
    assert sorted(by_uid(parse(before.read_bytes()))) == [
        "2026-06-03/breakfast",
        "2026-06-03/dinner",
        "2026-06-03/lunch+delay",
    ]
    reported = run_cli("report", "diarrhea", "--date", "2026-06-02")
    assert reported.returncode == 0, reported.stderr
    after = tmp_path / "after.ics"
    assert run_cli("export", "--ics", str(after), "--from", "2026-06-03", "--days", "1").returncode == 0
    found = by_uid(parse(after.read_bytes()))
    assert sorted(found) == ["2026-06-03/breakfast", "2026-06-03/dinner"]  # dinner stays: vitamin D
    assert "Magnesium citrate: 1 capsule (100 mg)" in str(found["2026-06-03/breakfast"]["DESCRIPTION"])
    assert "Magnesium citrate" not in str(found["2026-06-03/dinner"]["DESCRIPTION"])


def test_cli_export_to_an_unwritable_place_fails_without_a_traceback(tmp_path: Path, run_cli: Mgremind) -> None:
    (tmp_path / "config.toml").write_text(PLAN, encoding="utf-8")
    result = run_cli("export", "--ics", str(tmp_path / "missing" / "dir" / "plan.ics"), "--days", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "missing" in result.stderr
