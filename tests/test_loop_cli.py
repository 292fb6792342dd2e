"""Closing the loop on the command line (SPEC §6): taken, skip, report, stock, history, and the
refill warnings of check and next, run as a user runs them (mgremind.cli.main in this process, as the
console script runs it: conftest.mgremind), the state in a tmp STATE_DIRECTORY. Commands that write
while another process holds the state run in a process of their own (marked e2e).

The plans are in UTC. Tests that depend on the time of day compute what they expect from the
clock (a meal is due when its time of day has passed) and keep clear of midnight and of a meal's
exact time, so that the test and the command agree on "now". Every run is checked for a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import HISTORY_DAY_KEYS, Mgremind, Result
from daemon_harness import STATE_FILE, mgremind_process
from plans import citrate, citrate_with_calcium, magnesium, meal, timezone
from plans import table as toml_table

from mgremind.state import State

UTC = dt.timezone.utc


def plan_text(
    meals: Mapping[str, str] | None = None,
    *,
    stock: Mapping[str, str] | None = None,
    days: str = "",
    daily_mg: int = 300,
) -> str:
    """A plan in UTC: by default three meals every day (breakfast 08:00, lunch 13:00, dinner 19:00);
    magnesium citrate 100 mg a capsule, `daily_mg` a day (300: one capsule a meal), calcium carbonate
    250 mg a tablet in halves paired 1:1. `stock` goes into the citrate's table, `days` (TOML array
    text) into each meal's."""
    meals = meals if meals is not None else {"breakfast": "08:00", "lunch": "13:00", "dinner": "19:00"}
    meal_tables = "".join(meal(name, at, days=days) for name, at in meals.items())
    return timezone("UTC") + meal_tables + citrate_with_calcium(daily_mg, **(stock or {}))


MEAL_TIMES = (dt.time(8), dt.time(13), dt.time(19))


# ---------------------------------------------------------------------------- helpers


class Cli:
    """`mgremind -c CONFIG ...` with the state in STATE_DIRECTORY (tmp_path/"state"), run by `run`."""

    def __init__(self, tmp_path: Path, text: str, run: Callable[..., Result]) -> None:
        self.config = tmp_path / "config.toml"
        self.config.write_text(text, encoding="utf-8")
        self.state_dir = tmp_path / "state"
        self.run = run

    def __call__(self, *args: str) -> Result:
        return self.run("-c", str(self.config), *args)  # each run is checked for a traceback

    def ok(self, *args: str) -> str:
        """Runs a command that must succeed; its standard output."""
        result = self(*args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args))

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    def acks(self) -> dict[str, str]:
        state = State.open(self.state_file, dt.datetime.now(UTC))
        try:
            return state.acknowledgements()
        finally:
            state.close()


MakeCli = Callable[[str], Cli]


def in_a_process_of_its_own(state_dir: Path) -> Callable[..., Result]:
    """Runs `mgremind -c CONFIG ARGS` as Cli does, but in a process of its own (the console script)."""

    def run(option: str, config: str, *args: str) -> Result:
        assert option == "-c"
        done = mgremind_process(Path(config), state_dir, *args)  # checked for a traceback
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def make_cli(tmp_path: Path, mgremind: Mgremind) -> MakeCli:
    """A Cli on a plan (TOML text), run in this process."""
    return lambda text: Cli(tmp_path, text, mgremind)


def clear_of(times: Iterable[dt.time], margin: float) -> dt.datetime:
    """Now (UTC), after waiting past any of `times` (and midnight) due within `margin` seconds:
    the test and the commands it runs then see the same reminders as due."""
    while True:
        now = dt.datetime.now(UTC)
        soon = [
            instant
            for day in (now.date(), now.date() + dt.timedelta(days=1))
            for time_of_day in (dt.time(0), *times)
            if 0 <= ((instant := dt.datetime.combine(day, time_of_day, UTC)) - now).total_seconds() <= margin
        ]
        if not soon:
            return now
        time.sleep((min(soon) - now).total_seconds() + 1.0)


def stock_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "left, about" in line or "none left" in line]


# ---------------------------------------------------------------------------- taken / skip


def test_taken_and_skip_with_an_id_record_it_and_say_what_changed(make_cli: MakeCli) -> None:
    cli = make_cli(plan_text())
    today = clear_of((), 30).date()
    lunch = f"{today}/lunch"

    out = cli.ok("taken", lunch)
    # One capsule (100 mg) a meal; calcium nearest to 1.0 * 100 mg in 125 mg steps: 125 mg = 0.5 tablet.
    assert out.strip() == (
        f"taken: {lunch} at 13:00: Magnesium citrate: 1 capsule (100 mg); Calcium carbonate: 0.5 tablet (125 mg)"
    )
    assert cli.acks() == {lunch: "taken"}

    out = cli.ok("skip", lunch)
    assert out.startswith(f"skipped: {lunch} at 13:00")
    assert "(was taken)" in out
    assert cli.acks() == {lunch: "skipped"}

    out = cli.ok("taken", lunch)
    assert "(was skipped)" in out
    assert cli.acks() == {lunch: "taken"}

    out = cli.ok("taken", lunch)  # the same again: nothing changed, nothing to say about it
    assert "(was" not in out
    assert cli.acks() == {lunch: "taken"}


def test_taken_without_an_id_takes_the_latest_due_unacknowledged(make_cli: MakeCli) -> None:
    now = clear_of((), 30).replace(microsecond=0)
    early, late, ahead = now - dt.timedelta(hours=2), now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    text = plan_text({name: f"{at:%H:%M:%S}" for name, at in (("early", early), ("late", late), ("ahead", ahead))})
    cli = make_cli(text)

    # Due: today's "late" (1 h ago), then "early" (2 h ago), then yesterday's "ahead" (23 h ago);
    # today's "ahead" is not due yet. Each id carries the date of its instant (UTC).
    expected = [
        ("taken", f"{late.date()}/late"),
        ("skipped", f"{early.date()}/early"),
        ("taken", f"{(ahead - dt.timedelta(days=1)).date()}/ahead"),
    ]
    for status, rid in expected:
        out = cli.ok("taken" if status == "taken" else "skip")
        assert out.startswith(f"{status}: {rid} at "), out
    assert cli.acks() == {rid: status for status, rid in expected}


def test_taken_without_an_id_when_none_is_due_is_bad_usage(make_cli: MakeCli) -> None:
    today = clear_of((), 30).date()
    # The only meal is on a weekday that is neither today nor yesterday: nothing is due.
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(today.weekday() + 3) % 7]
    cli = make_cli(plan_text({"breakfast": "08:00"}, days=f'["{weekday}"]', daily_mg=100))
    for command in ("taken", "skip"):
        result = cli(command)
        assert result.returncode == 2
        assert "no reminder is due" in result.stderr
        assert result.stdout == ""
    assert cli.acks() == {}


@pytest.mark.parametrize(
    ("wanted", "says"),
    [
        ("brunch", "is not a reminder id"),
        ("", "is not a reminder id"),
        ("2026-02-30/lunch", "is not a reminder id"),
        ("{today}/brunch", "no reminder"),
        ("{today}", "no reminder"),
        ("{today}/lunch+delay", "no reminder"),
    ],
)
def test_taken_and_skip_of_an_id_not_in_the_plan_is_bad_usage(make_cli: MakeCli, wanted: str, says: str) -> None:
    cli = make_cli(plan_text())
    today = clear_of((), 30).date()
    wanted = wanted.format(today=today)
    for command in ("taken", "skip"):
        result = cli(command, wanted)
        assert result.returncode == 2, result.stdout
        assert says in result.stderr
        assert f'"{wanted}"' in result.stderr  # it names what it did not understand
        if says == "no reminder":  # a valid date: the reminders of that day are listed
            assert f"{today}/breakfast, {today}/lunch, {today}/dinner" in result.stderr
    assert cli.acks() == {}


# ---------------------------------------------------------------------------- report and titration


# Titration from START_OFFSET days ago: 100 mg, +50 mg every 3 days, to 400 mg; two meals, capsules of
# 50 mg, at most 200 mg a reminder, so every target up to 400 mg is placed in full.
def titration(start: str) -> str:
    """Titration from `start` (TOML date): 100 mg, +50 mg every 3 days, to 400 mg; two meals, capsules of
    50 mg, at most 200 mg a reminder, so every target up to 400 mg is placed in full."""
    return (
        timezone("UTC")
        + meal("lunch", "13:00")
        + meal("dinner", "19:00")
        + citrate(50)
        + magnesium(400)
        + toml_table("titration", start=start, start_mg="100", step_mg="50", every_days="3")
    )


START_OFFSET = 10
# The plain ramp by day index i from start: 100 + 50 * floor(i / 3):
# i 0-2: 100, 3-5: 150, 6-8: 200, 9-11: 250, 12-14: 300.


def targets(cli: Cli, first: dt.date, days: int) -> list[float]:
    plan = cli.json("plan", "--json", "--from", first.isoformat(), "--days", str(days))
    return [day["magnesium_target_mg"] for day in plan["days"]]


def test_report_today_lowers_tomorrow_and_plan_says_why(make_cli: MakeCli) -> None:
    today = clear_of((), 60).date()
    start = today - dt.timedelta(days=START_OFFSET)
    cli = make_cli(titration(start.isoformat()))
    # Today is i = 10, tomorrow i = 11: both 250 on the plain ramp.
    assert targets(cli, today, 2) == [250, 250]

    out = cli.ok("report", "diarrhea")
    assert f"diarrhea on {today}" in out
    # Reported on R = today (i 10): blamed on R-1 (i 9, level 250); from R+1 the level is 250 - 50 = 200.
    # Today itself keeps its 250.
    assert targets(cli, today, 2) == [250, 200]
    tomorrow = today + dt.timedelta(days=1)
    assert f"target on {tomorrow}: 200 mg" in out

    table = cli.ok("plan", "--from", tomorrow.isoformat())
    lines = table.splitlines()
    (heading,) = [index for index, line in enumerate(lines) if line.startswith(f"{tomorrow:%a} {tomorrow}")]
    assert "magnesium 200 of 200 mg" in lines[heading]
    why = lines[heading + 1]  # the reason, under the day's heading
    assert "200 mg instead of 250 mg" in why
    assert "diarrhea" in why
    assert str(today) in why
    # The table of today has no such reason: its target is the plain ramp's.
    assert "instead of" not in cli.ok("plan", "--from", today.isoformat())


def test_report_with_a_date_lowers_from_the_next_day_and_holds(make_cli: MakeCli) -> None:
    today = clear_of((), 60).date()
    start = today - dt.timedelta(days=START_OFFSET)
    cli = make_cli(titration(start.isoformat()))
    reported = start + dt.timedelta(days=6)  # i 6, four days ago

    out = cli.ok("report", "cramps", "--date", reported.isoformat())
    assert f"cramps on {reported}" in out
    # Report on R = i 6, blamed on i 5 (level 150): from i 7 the level is max(100, 150 - 50) = 100;
    # the next increase is hold_days (default 3) after R+1: i 10 -> 150, then every 3 days.
    # A report lowers from the next day on: i 6 keeps its 200.
    assert targets(cli, reported, 5) == [200, 100, 100, 100, 150]
    # i 11, 12, 13: 150, 150, 200 (increase on i 13 = 10 + 3).
    assert targets(cli, reported + dt.timedelta(days=5), 3) == [150, 150, 200]

    table = cli.ok("plan", "--from", (reported + dt.timedelta(days=1)).isoformat())
    assert "100 mg instead of 200 mg" in table
    assert f"cramps reported on {reported}" in table

    # The report is in the state database, by the day it was noticed.
    state = State.open(cli.state_file, dt.datetime.now(UTC))
    try:
        assert state.reports() == {reported: ["cramps"]}
    finally:
        state.close()


@pytest.mark.parametrize(
    "args",
    [
        ("report", "headache"),
        ("report", "Diarrhea"),
        ("report",),
        ("report", "cramps", "--date", "2026-02-30"),
        ("report", "cramps", "--date", "yesterday"),
    ],
)
def test_report_bad_input_is_bad_usage_and_records_nothing(make_cli: MakeCli, args: tuple[str, ...]) -> None:
    cli = make_cli(plan_text())
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.strip()
    assert not cli.state_file.exists()  # refused before anything was recorded


def test_unknown_symptom_lists_the_known_ones(make_cli: MakeCli) -> None:
    cli = make_cli(plan_text())
    result = cli("report", "headache")
    assert result.returncode == 2
    for symptom in ("loose-stool", "diarrhea", "cramps", "nausea", "bloating"):
        assert symptom in result.stderr


# ---------------------------------------------------------------------------- stock and refills


def test_stock_command_prints_the_supply_and_unknown_ids_are_listed(make_cli: MakeCli) -> None:
    cli = make_cli(plan_text())
    clear_of(MEAL_TIMES, 20)
    # 3 capsules a day over the next 7 days: 30 capsules last 30 / 3 = 10 days.
    assert cli.ok("stock", "citrate", "30").strip() == "Magnesium citrate: 30 capsules left, about 10 days"
    # 4 capsules: 4 / 3 = 1.33 -> about 1 day.
    assert cli.ok("stock", "citrate", "4").strip() == "Magnesium citrate: 4 capsules left, about 1 day"
    # Nothing left: says so, whatever the days.
    assert cli.ok("stock", "citrate", "0").strip() == "Magnesium citrate: none left, refill now"

    result = cli("stock", "magnesium", "10")
    assert result.returncode == 2
    assert '"magnesium"' in result.stderr
    assert "citrate, calcium" in result.stderr  # the ids of the plan


@pytest.mark.parametrize("units", ["many", "-1", "nan", "1e9"])
def test_stock_bad_units_is_bad_usage(make_cli: MakeCli, units: str) -> None:
    cli = make_cli(plan_text())
    result = cli("stock", "citrate", units)
    assert result.returncode == 2
    assert result.stderr.strip()


def test_low_supply_shows_in_check_and_next_until_a_count_says_otherwise(make_cli: MakeCli) -> None:
    now = clear_of(MEAL_TIMES, 20)
    today = now.date()
    yesterday = today - dt.timedelta(days=1)
    cli = make_cli(plan_text(stock={"stock": "20", "stock_date": str(yesterday)}))
    cli.ok("skip", f"{yesterday}/lunch")
    # 20 capsules at 00:00 yesterday; since then yesterday's 3 reminders (1 capsule each) less the
    # skipped lunch, and today's already due ones (n): 20 - 2 - n. At 3 a day: (18 - n) / 3 days,
    # below refill_days (default 7) for every n in 0..3: n 0 -> 6, 1 -> 5.7 ~ 6, 2 -> 5.3 ~ 5, 3 -> 5.
    due_today = sum(1 for meal in MEAL_TIMES if now.time() >= meal)
    left = 18 - due_today
    days = {18: 6, 17: 6, 16: 5, 15: 5}[left]
    warning = f"Magnesium citrate: {left} capsules left, about {days} days"

    check = cli.ok("check")
    assert [line.strip() for line in stock_lines(check)] == [f"! supplement[0]: {warning}"]
    upcoming = cli.ok("next")
    assert [line.strip() for line in stock_lines(upcoming)] == [f"! {warning}"]
    assert cli.json("next", "--json")["warnings"] == [warning]

    # A count of 30 now: 30 / 3 = 10 days, not below 7: no warning any more.
    assert cli.ok("stock", "citrate", "30").strip() == "Magnesium citrate: 30 capsules left, about 10 days"
    assert stock_lines(cli.ok("check")) == []
    assert stock_lines(cli.ok("next")) == []
    # A count of 6: 2 days.
    cli.ok("stock", "citrate", "6")
    assert "Magnesium citrate: 6 capsules left, about 2 days" in cli.ok("check")
    assert "Magnesium citrate: 6 capsules left, about 2 days" in cli.ok("next")


# ---------------------------------------------------------------------------- history


def backdate_state(cli: Cli, since: dt.datetime) -> None:
    """The records began at `since` (as if the daemon had run since then)."""
    with sqlite3.connect(cli.state_file) as db:
        changed = db.execute("UPDATE meta SET value = ? WHERE key = 'created_at'", (since.isoformat(),)).rowcount
    db.close()
    assert changed == 1


def recorded_three_days(make_cli: MakeCli) -> tuple[Cli, dt.date]:
    """Three days of records, ending today:
    D-2: breakfast taken, lunch skipped, dinner not marked (missed: its day is over);
    D-1: breakfast and lunch taken, dinner not marked (missed), cramps reported;
    D:   breakfast skipped, lunch taken, dinner not marked (pending all day: it is missed only at
         the end of the day, the last of its day).
    """
    today = clear_of((), 120).date()
    d2, d1 = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    cli = make_cli(plan_text())
    cli.ok("taken", f"{d2}/breakfast")
    cli.ok("skip", f"{d2}/lunch")
    cli.ok("taken", f"{d1}/breakfast")
    cli.ok("taken", f"{d1}/lunch")
    cli.ok("report", "cramps", "--date", d1.isoformat())
    cli.ok("skip", f"{today}/breakfast")
    cli.ok("taken", f"{today}/lunch")
    backdate_state(cli, dt.datetime.combine(d2, dt.time(0), UTC))
    return cli, today


def test_history_json(make_cli: MakeCli) -> None:
    cli, today = recorded_three_days(make_cli)
    d2, d1 = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    history = cli.json("history", "--json", "--days", "3")

    assert list(history) == ["days"]
    for day in history["days"]:
        assert sorted(day) == sorted(HISTORY_DAY_KEYS)
        for reminder in day["reminders"]:
            assert sorted(reminder) == ["id", "status"]

    def reminders(day: dt.date, *statuses: str) -> list[dict[str, str]]:
        return [
            {"id": f"{day}/{meal}", "status": status}
            for meal, status in zip(("breakfast", "lunch", "dinner"), statuses, strict=True)
        ]

    # 100 mg a reminder, 300 mg planned a day. Adherence: taken of those decided (taken, skipped or
    # missed): D-2 1 of 3 = 33.3 %, D-1 2 of 3 = 66.7 %, D 1 of 2 = 50 % (dinner still pending).
    assert history["days"] == [
        {
            "date": str(d2),
            "planned": 3,
            "taken": 1,
            "skipped": 1,
            "missed": 1,
            "magnesium_planned_mg": 300,
            "magnesium_taken_mg": 100,
            "symptoms": [],
            "adherence_pct": 33.3,
            "reminders": reminders(d2, "taken", "skipped", "missed"),
        },
        {
            "date": str(d1),
            "planned": 3,
            "taken": 2,
            "skipped": 0,
            "missed": 1,
            "magnesium_planned_mg": 300,
            "magnesium_taken_mg": 200,
            "symptoms": ["cramps"],
            "adherence_pct": 66.7,
            "reminders": reminders(d1, "taken", "taken", "missed"),
        },
        {
            "date": str(today),
            "planned": 3,
            "taken": 1,
            "skipped": 1,
            "missed": 0,
            "magnesium_planned_mg": 300,
            "magnesium_taken_mg": 100,
            "symptoms": [],
            "adherence_pct": 50,
            "reminders": reminders(today, "skipped", "taken", "pending"),
        },
    ]

    # Default: 7 days, oldest first, ending today.
    week = cli.json("history", "--json")["days"]
    assert [day["date"] for day in week] == [str(today - dt.timedelta(days=offset)) for offset in range(6, -1, -1)]
    assert week[-3:] == history["days"]


def test_history_table_and_week(make_cli: MakeCli) -> None:
    cli, today = recorded_three_days(make_cli)
    d2, d1 = today - dt.timedelta(days=2), today - dt.timedelta(days=1)

    table = cli.ok("history").splitlines()
    weekdays = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    rows = {line.split()[1]: line.split()[2:] for line in table if line.split()[:1] and line.split()[0] in weekdays}
    assert len(rows) == 7
    # planned, taken, skipped, missed, "taken of planned" mg, adherence %, symptoms
    assert rows[str(d2)] == ["3", "1", "1", "1", "100", "of", "300", "33.3", "%"]
    assert rows[str(d1)] == ["3", "2", "0", "1", "200", "of", "300", "66.7", "%", "cramps"]
    assert rows[str(today)] == ["3", "1", "1", "0", "100", "of", "300", "50", "%"]

    grid = cli.ok("history", "--week").splitlines()
    assert grid[0].split() == ["breakfast", "lunch", "dinner"]
    marks = {line.split()[1]: line.split()[2:] for line in grid[1:8]}
    assert len(marks) == 7
    assert marks[f"{d2:%m-%d}"] == ["✓", "–", "✗"]
    assert marks[f"{d1:%m-%d}"] == ["✓", "✓", "✗"]
    assert marks[f"{today:%m-%d}"] == ["–", "✓", "·"]
    assert [line.split()[0] for line in grid[1:8]] == [
        f"{today - dt.timedelta(days=offset):%a}" for offset in range(6, -1, -1)
    ]
    assert "taken" in grid[-1] and "missed" in grid[-1]  # a legend


def test_reminders_due_together_are_pending_until_the_next_one(make_cli: MakeCli) -> None:
    # Keep 40 s clear of midnight on both sides, so that the meals 20 s ago and 20 s ahead are today's.
    now = clear_of((), 60)
    since_midnight = (now - dt.datetime.combine(now.date(), dt.time(0), UTC)).total_seconds()
    if since_midnight < 40:
        time.sleep(40 - since_midnight)
        now = dt.datetime.now(UTC)
    now = now.replace(microsecond=0)
    past, ahead = now - dt.timedelta(seconds=20), now + dt.timedelta(seconds=20)
    # Tea and a snack at the same time, due 20 s ago; dinner 20 s ahead. Neither of the first two is
    # missed before dinner is due (SPEC §6: missed when not taken nor skipped by the time the next
    # reminder is due): both are pending.
    cli = make_cli(plan_text({"tea": f"{past:%H:%M:%S}", "snack": f"{past:%H:%M:%S}", "dinner": f"{ahead:%H:%M:%S}"}))
    cli.ok("taken", f"{now.date()}/dinner")  # creates the records; dinner is taken ahead of time
    backdate_state(cli, now - dt.timedelta(hours=1))
    (today,) = cli.json("history", "--json", "--days", "1")["days"]
    assert {reminder["id"]: reminder["status"] for reminder in today["reminders"]} == {
        f"{now.date()}/tea": "pending",
        f"{now.date()}/snack": "pending",
        f"{now.date()}/dinner": "taken",
    }
    assert dt.datetime.now(UTC) < ahead, "too slow to test this"


# ---------------------------------------------------------------------------- while another process holds the state


@pytest.mark.e2e
def test_commands_write_while_another_process_holds_the_state(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    cli = Cli(tmp_path, plan_text(), in_a_process_of_its_own(state_dir))
    today = clear_of(MEAL_TIMES, 30).date()
    held = State.open(cli.state_file, dt.datetime.now(UTC))  # as the daemon holds it
    reader = sqlite3.connect(cli.state_file, isolation_level=None)
    writer = sqlite3.connect(cli.state_file, isolation_level=None, timeout=10, check_same_thread=False)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM ack").fetchone() == (0,)  # a read transaction stays open
        writer.execute("BEGIN IMMEDIATE")  # and another writer is busy for a moment
        release = threading.Timer(1.0, lambda: writer.execute("COMMIT"))
        release.start()
        cli.ok("taken", f"{today}/lunch")  # waits for the writer, then records
        release.join()
        cli.ok("skip", f"{today}/dinner")
        cli.ok("report", "bloating")
        cli.ok("stock", "citrate", "12")
        history = cli.json("history", "--json", "--days", "1")["days"][0]
        statuses = {reminder["id"]: reminder["status"] for reminder in history["reminders"]}
        assert statuses[f"{today}/lunch"] == "taken"
        assert statuses[f"{today}/dinner"] == "skipped"
        assert history["symptoms"] == ["bloating"]
        # The process that held it open sees what the commands wrote.
        assert held.acknowledgements() == {f"{today}/lunch": "taken", f"{today}/dinner": "skipped"}
        assert held.reports() == {today: ["bloating"]}
        assert held.stock_counts()["citrate"][0] == 12
        reader.execute("COMMIT")
    finally:
        reader.close()
        writer.close()
        held.close()


# ---------------------------------------------------------------------------- dates at the edge


@pytest.mark.parametrize(
    "args",
    [
        ("report", "cramps", "--date", "9999-12-31"),
        ("taken", "9999-12-31/lunch"),
        ("skip", "9999-12-31/dinner"),
    ],
)
def test_the_last_representable_day_gives_no_traceback(make_cli: MakeCli, args: tuple[str, ...]) -> None:
    # Titration from 9999-12-01: an increase falls on 9999-12-31 (index 30), the next one would be past the
    # last date Python knows.
    cli = make_cli(titration("9999-12-01"))
    result = cli(*args)  # Cli asserts there is no traceback
    assert result.returncode in (0, 2), result.stderr
