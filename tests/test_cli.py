"""The command line (SPEC §3) as a user runs it: mgremind.cli.main in this process, as the console
script runs it, in the environment of a user with no configuration anywhere (conftest.mgremind); and
the console script itself in a subprocess (marked e2e) for what needs a process of its own: the
script and `python -m mgremind`, exit statuses, a closed pipe.

Every run is checked for a traceback: no command ever answers bad input with one (SPEC §2).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE, FIVE_MISTAKES, Mgremind
from daemon_harness import MGREMIND
from plans import calcium, citrate, fixed, magnesium, meal, table, timezone

import mgremind as package
from mgremind.model import WEEKDAYS

ETC_CONFIG = Path("/etc/mgremind/config.toml")
SECRET = "s3cr3t"


def console(*args: str, command: tuple[str, ...] = (str(MGREMIND),)) -> subprocess.CompletedProcess[str]:
    """The console script (or another command) in its own process, in this process's environment."""
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=30, check=False)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def write(folder: Path, text: str, name: str = "config.toml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def every_day(zone: str | None = "Asia/Tokyo", *, daily_mg: int = 150, **citrate_extra: str) -> str:
    """Three meals every day (07:00, 12:00, 19:00) in a zone without DST: there is always a reminder
    ahead. Magnesium citrate, 50 mg a capsule, `daily_mg` a day. `zone` None: no timezone key."""
    return (
        (timezone(zone) if zone else "")
        + meal("breakfast", "07:00")
        + meal("lunch", "12:00")
        + meal("dinner", "19:00")
        + citrate(50, **citrate_extra)
        + magnesium(daily_mg)
    )


EVERY_DAY = every_day()


# ---------------------------------------------------------------------------- basics


@pytest.mark.e2e
@pytest.mark.usefixtures("user_home")
def test_version() -> None:
    result = console("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mgremind {package.__version__}"


@pytest.mark.e2e
@pytest.mark.usefixtures("user_home")
def test_python_dash_m_runs_the_same_command_line() -> None:
    args = ("-c", str(EXAMPLE), "plan", "--from", "2026-11-25", "--days", "2", "--json")
    as_module = console(*args, command=(sys.executable, "-m", "mgremind"))
    as_script = console(*args)
    assert as_module.returncode == 0
    assert as_module.stdout == as_script.stdout
    assert json.loads(as_module.stdout)["timezone"] == "Europe/Berlin"


@pytest.mark.e2e
@pytest.mark.usefixtures("user_home")
def test_no_command_is_bad_usage() -> None:
    result = console("-c", str(EXAMPLE))
    assert result.returncode == 2
    assert "usage" in result.stderr


@pytest.mark.e2e
@pytest.mark.usefixtures("user_home")
def test_a_closed_pipe_ends_the_output_quietly() -> None:
    """`mgremind plan --days 365 | head -1`: the reader goes away; no traceback, status 0."""
    with subprocess.Popen(
        [str(MGREMIND), "-c", str(EXAMPLE), "plan", "--days", "365", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        status = process.wait(timeout=30)
        error = process.stderr.read().decode()
    assert first.strip() == b"{"
    assert status == 0, error
    assert error == ""


def test_unknown_command_is_bad_usage(mgremind: Mgremind) -> None:
    result = mgremind("-c", str(EXAMPLE), "frobnicate")
    assert result.returncode == 2
    assert result.stdout == ""


# ---------------------------------------------------------------------------- check


def test_check_on_the_example(mgremind: Mgremind) -> None:
    result = mgremind("-c", str(EXAMPLE), "check")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    for name in ("breakfast", "lunch", "dinner"):
        assert name in out
    for name in ("Mag-Tab SR", "Magnesium citrate", "Calcium carbonate", "B complex", "Vitamin D3"):
        assert name in out
    for sid in ("slowmag", "citrate", "calcium", "bcomplex", "vitd"):
        assert re.search(rf"\b{sid}\b", out)
    assert "Europe/Berlin" in out
    assert "Warning" not in out  # the example has none (SPEC: it is the plan users start from)


def test_check_accepts_c_after_the_command(mgremind: Mgremind) -> None:
    result = mgremind("check", "-c", str(EXAMPLE))
    assert result.returncode == 0, result.stderr


def test_check_with_warnings_succeeds_and_shows_them(tmp_path: Path, mgremind: Mgremind) -> None:
    # daily_mg 400 is above the 350 mg UL and the citrate is declared as oxide: warnings, not errors.
    path = write(tmp_path, every_day(daily_mg=400, form='"oxide"'))
    result = mgremind("-c", str(path), "check")
    assert result.returncode == 0, result.stderr
    assert "350" in result.stdout
    assert "poorly absorbed" in result.stdout  # SPEC §2: "magnesium oxide (poorly absorbed, laxative)"


def test_timezone_defaults_to_the_system_zone(
    tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, every_day(None))
    monkeypatch.setenv("TZ", "America/New_York")
    data = json.loads(mgremind("-c", str(path), "plan", "--from", "2026-11-25", "--json").stdout)
    assert data["timezone"] == "America/New_York"
    # 2026-11-25 is in EST (DST ended on 2026-11-01): -05:00
    assert data["days"][0]["reminders"][0]["at"] == "2026-11-25T07:00:00-05:00"


def test_an_unknown_system_zone_is_bad_configuration(
    tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, every_day(None))
    monkeypatch.setenv("TZ", "Nowhere/Land")
    result = mgremind("-c", str(path), "check")
    assert result.returncode == 2
    assert "Nowhere/Land" in result.stderr


BROKEN = FIVE_MISTAKES


def test_check_on_a_broken_file_lists_every_error(tmp_path: Path, mgremind: Mgremind) -> None:
    path = write(tmp_path, BROKEN)
    result = mgremind("-c", str(path), "check")
    assert result.returncode == 2
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith(f"{path}: ")]
    assert len(errors) == 5, result.stderr
    assert f'{path}: meal[1].time: "7:75" is not a time of day (HH:MM)' in errors
    assert f'{path}: reminders.led: unknown key (did you mean "lead"?)' in errors
    assert f'{path}: supplement[0].with[0]: no meal named "dinnr" (did you mean "dinner"?)' in errors
    keys = sorted(line.split(": ")[1] for line in errors)
    assert keys == sorted(["timezone", "reminders.led", "meal[1].time", "supplement[0].with[0]", "magnesium.daily_mg"])


def test_check_on_a_toml_syntax_error_gives_line_and_column(tmp_path: Path, mgremind: Mgremind) -> None:
    # line 3 is `name = ` (7 characters): the value is missing at column 8.
    path = write(tmp_path, 'timezone = "UTC"\n[[meal]]\nname = \ntime = "08:00"\n')
    result = mgremind("-c", str(path), "check")
    assert result.returncode == 2
    assert f"{path}: line 3, column 8: invalid TOML" in result.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"  \n\n\t\n", "empty"),
        (b"\x00\x01\x02\x03binary", "binary"),
        (b"\xff\xfe\x00t\x00i\x00m\x00e", "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "UTF-8"),
    ],
)
def test_unusable_files_are_bad_configuration(tmp_path: Path, mgremind: Mgremind, content: bytes, words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    for command in ("check", "plan", "next"):
        result = mgremind("-c", str(path), command)
        assert result.returncode == 2
        assert result.stdout == ""
        assert str(path) in result.stderr
        assert words in result.stderr


def test_a_directory_is_bad_configuration(tmp_path: Path, mgremind: Mgremind) -> None:
    result = mgremind("-c", str(tmp_path), "check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{tmp_path}: " in result.stderr
    assert "directory" in result.stderr


def test_a_missing_file_is_bad_configuration(tmp_path: Path, mgremind: Mgremind) -> None:
    path = tmp_path / "nope.toml"
    result = mgremind("-c", str(path), "check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{path}: " in result.stderr
    assert f"{path}: does not exist" in result.stderr


# ---------------------------------------------------------------------------- finding the configuration


def test_no_configuration_anywhere_lists_the_paths_tried(tmp_path: Path, mgremind: Mgremind) -> None:
    if ETC_CONFIG.exists():
        pytest.skip(f"{ETC_CONFIG} exists on this machine: a configuration is always found")
    result = mgremind("check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert str(tmp_path / "xdg" / "mgremind" / "config.toml") in result.stderr
    assert str(ETC_CONFIG) in result.stderr


def test_no_configuration_without_xdg_lists_home_dot_config(
    tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ETC_CONFIG.exists():
        pytest.skip(f"{ETC_CONFIG} exists on this machine: a configuration is always found")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(tmp_path / "systemd"))
    result = mgremind("plan")
    assert result.returncode == 2
    tried = result.stderr
    paths = [
        str(tmp_path / "systemd" / "config.toml"),
        str(tmp_path / "home" / ".config" / "mgremind" / "config.toml"),
        str(ETC_CONFIG),
    ]
    for path in paths:
        assert path in tried
    assert [tried.index(path) for path in paths] == sorted(tried.index(path) for path in paths)  # in SPEC order


def test_mgremind_config_is_read(tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "elsewhere", EVERY_DAY, "mine.toml")
    monkeypatch.setenv("MGREMIND_CONFIG", str(path))
    result = mgremind("check")
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout
    assert "Asia/Tokyo" in result.stdout


def test_mgremind_config_naming_a_missing_file_is_bad_configuration(
    tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "xdg" / "mgremind", EVERY_DAY)  # exists, but the user asked for another file
    monkeypatch.setenv("MGREMIND_CONFIG", str(tmp_path / "missing.toml"))
    result = mgremind("check")
    assert result.returncode == 2
    assert str(tmp_path / "missing.toml") in result.stderr


def test_dash_c_wins_over_mgremind_config(tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MGREMIND_CONFIG", str(write(tmp_path, BROKEN, "broken.toml")))
    good = write(tmp_path, EVERY_DAY, "good.toml")
    result = mgremind("-c", str(good), "check")
    assert result.returncode == 0, result.stderr
    assert str(good) in result.stdout


def test_configuration_directory_is_read(tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "systemd", EVERY_DAY)
    write(tmp_path / "xdg" / "mgremind", BROKEN)  # later in the order: never read
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(tmp_path / "systemd"))
    result = mgremind("check")
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout


def test_xdg_config_home_is_read(tmp_path: Path, mgremind: Mgremind) -> None:
    path = write(tmp_path / "xdg" / "mgremind", EVERY_DAY)
    result = mgremind("check")
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout


def test_mgremind_config_wins_over_configuration_directory(
    tmp_path: Path, mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "systemd", BROKEN)
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(tmp_path / "systemd"))
    monkeypatch.setenv("MGREMIND_CONFIG", str(write(tmp_path, EVERY_DAY, "mine.toml")))
    result = mgremind("check")
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------- plan --json

SMALL = (
    timezone("Europe/Berlin")
    + table("reminders", lead='"10m"')
    + meal("breakfast", "08:00")
    + meal("lunch", "13:00", foods=("lentil soup",))
    + meal("dinner", "19:00")
    + citrate(50)
    + calcium(200, name="Calcium carbonate", step=0.5)
    + fixed("vitd", "vitamin D", "dinner", name="Vitamin D3", unit="capsule")
    + magnesium(250, max_dose_mg="100", phytate='"delay"', calcium_ratio="1.0")
)


def plan_json(tmp_path: Path, mgremind: Mgremind, text: str, *args: str) -> dict[str, Any]:
    path = write(tmp_path, text)
    result = mgremind("-c", str(path), "plan", *args, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object, nothing else on stdout
    assert isinstance(data, dict)
    return data


def test_plan_json_is_the_hand_computed_plan(tmp_path: Path, mgremind: Mgremind) -> None:
    """2026-11-25 is a Wednesday in winter: Berlin is at +01:00.

    Meals: breakfast 08:00; lunch 13:00 is phytate-rich ("lentil" in "lentil soup"), and phytate = "delay",
    so its magnesium goes to 13:00 + 2h = 15:00 ("lunch+delay"); dinner 19:00.
    Target T = daily_mg = 250 (no titration). Small doses: step = 1 × 50 mg; floor(250 / 50) = 5 steps,
    each to the slot with the least magnesium (ties: earlier): breakfast 50, lunch+delay 50, dinner 50,
    breakfast 100, lunch+delay 100; none above max_dose_mg 100. Day: 100 + 100 + 50 = 250 mg.
    Calcium (ratio 1.0, steps of 0.5 × 200 = 100 mg): 100 mg Mg → 100 mg (0.5 tablet);
    50 mg Mg → 0 or 100 are equally near, ties take the lower: none. Day calcium: 200 mg.
    Vitamin D: 1 capsule with dinner (no mg: not magnesium or calcium, no mg_per_unit).
    Reminders at slot − lead (10m) for meal slots; the delayed slot has no lead:
    07:50, 15:00, 18:50. The lunch slot itself holds nothing: no reminder.
    """
    data = plan_json(tmp_path, mgremind, SMALL, "--from", "2026-11-25")

    def citrate(units: int) -> dict[str, Any]:
        return {
            "supplement": "citrate",
            "name": "Magnesium citrate",
            "nutrient": "magnesium",
            "release": "immediate",
            "units": units,
            "unit": "capsule",
            "mg": 50 * units,
        }

    calcium = {
        "supplement": "calcium",
        "name": "Calcium carbonate",
        "nutrient": "calcium",
        "release": "immediate",
        "units": 0.5,
        "unit": "tablet",
        "mg": 100,
    }
    vitamin_d = {
        "supplement": "vitd",
        "name": "Vitamin D3",
        "nutrient": "vitamin D",
        "release": "immediate",
        "units": 1,
        "unit": "capsule",
    }
    expected_reminders = [
        {
            "id": "2026-11-25/breakfast",
            "at": "2026-11-25T07:50:00+01:00",
            "meal": "breakfast",
            "delayed": False,
            "magnesium_mg": 100,
            "items": [citrate(2), calcium],
            "notes": [],
        },
        {
            "id": "2026-11-25/lunch+delay",
            "at": "2026-11-25T15:00:00+01:00",
            "meal": "lunch",
            "delayed": True,
            "magnesium_mg": 100,
            "items": [citrate(2), calcium],
            "notes": ["not with this meal: lentil soup"],  # SPEC §4: "not with this meal: whole wheat"
        },
        {
            "id": "2026-11-25/dinner",
            "at": "2026-11-25T18:50:00+01:00",
            "meal": "dinner",
            "delayed": False,
            "magnesium_mg": 50,
            "items": [citrate(1), vitamin_d],
            "notes": [],
        },
    ]
    # nutrient is "any other word" (SPEC §1): compared without regard to case
    dinner_items = data["days"][0]["reminders"][2]["items"]
    assert dinner_items[1]["nutrient"].lower() == "vitamin d"
    vitamin_d["nutrient"] = dinner_items[1]["nutrient"]
    assert data == {
        "timezone": "Europe/Berlin",
        "days": [
            {
                "date": "2026-11-25",
                "magnesium_target_mg": 250,
                "magnesium_mg": 250,
                "calcium_mg": 200,
                "reminders": expected_reminders,
                "warnings": [],
                # SPEC §2 v2: the phytate-rich lunch is named, with where its magnesium went (lunch+delay, 100 mg).
                "notes": ["lunch: no magnesium — phytate-rich (lentil soup); 100 mg at 15:00 instead"],
            }
        ],
    }


def test_plan_json_types(tmp_path: Path, mgremind: Mgremind) -> None:
    data = plan_json(tmp_path, mgremind, SMALL, "--from", "2026-11-25", "--days", "2")
    assert set(data) == {"timezone", "days"}
    for day in data["days"]:
        assert set(day) == {
            "date",
            "magnesium_target_mg",
            "magnesium_mg",
            "calcium_mg",
            "reminders",
            "warnings",
            "notes",
        }
        assert all(isinstance(note, str) for note in day["notes"])
        assert isinstance(day["date"], str)
        dt.date.fromisoformat(day["date"])
        for key in ("magnesium_target_mg", "magnesium_mg", "calcium_mg"):
            assert isinstance(day[key], (int, float)) and not isinstance(day[key], bool)
        assert isinstance(day["warnings"], list)
        for reminder in day["reminders"]:
            assert set(reminder) == {"id", "at", "meal", "delayed", "magnesium_mg", "items", "notes"}
            at = dt.datetime.fromisoformat(reminder["at"])
            assert at.utcoffset() is not None  # ISO with an offset
            assert isinstance(reminder["delayed"], bool)
            suffix = "+delay" if reminder["delayed"] else ""
            assert reminder["id"] == f"{day['date']}/{reminder['meal']}{suffix}"
            assert isinstance(reminder["notes"], list)
            for item in reminder["items"]:
                assert {"supplement", "name", "nutrient", "release", "units", "unit"} <= set(item)
                assert set(item) <= {"supplement", "name", "nutrient", "release", "units", "unit", "mg"}
                assert item["release"] in ("immediate", "slow")
                assert ("mg" in item) == (item["nutrient"] in ("magnesium", "calcium"))


def test_plan_json_in_summer_has_the_summer_offset(tmp_path: Path, mgremind: Mgremind) -> None:
    # 2026-07-01: Berlin is on CEST, +02:00; the wall-clock times stay those of the meals (minus lead).
    data = plan_json(tmp_path, mgremind, SMALL, "--from", "2026-07-01")
    assert [reminder["at"] for reminder in data["days"][0]["reminders"]] == [
        "2026-07-01T07:50:00+02:00",
        "2026-07-01T15:00:00+02:00",
        "2026-07-01T18:50:00+02:00",
    ]


def test_plan_days_three(tmp_path: Path, mgremind: Mgremind) -> None:
    data = plan_json(tmp_path, mgremind, SMALL, "--from", "2026-12-30", "--days", "3")
    assert [day["date"] for day in data["days"]] == ["2026-12-30", "2026-12-31", "2027-01-01"]
    for day in data["days"]:
        # every day has the same meals: the same three reminders, on that day
        assert [reminder["id"] for reminder in day["reminders"]] == [
            f"{day['date']}/breakfast",
            f"{day['date']}/lunch+delay",
            f"{day['date']}/dinner",
        ]
        assert all(reminder["at"].startswith(day["date"] + "T") for reminder in day["reminders"])
        assert day["magnesium_mg"] == 250

    path = tmp_path / "config.toml"
    table = mgremind("-c", str(path), "plan", "--from", "2026-12-30", "--days", "3")
    assert table.returncode == 0
    for date in ("2026-12-30", "2026-12-31", "2027-01-01"):
        assert date in table.stdout
    assert "2027-01-02" not in table.stdout


def test_plan_default_is_one_day(tmp_path: Path, mgremind: Mgremind) -> None:
    data = plan_json(tmp_path, mgremind, SMALL, "--from", "2026-11-25")
    assert len(data["days"]) == 1


# ---------------------------------------------------------------------------- plan (table)

TWO_MEALS = (
    timezone("Europe/Berlin")
    + meal("breakfast", "08:00")
    + meal("dinner", "19:15")
    + citrate(50)
    + calcium(200, name="Calcium carbonate", step=0.5)
    + magnesium(250, max_dose_mg="100", calcium_ratio="1.0")
)


def test_plan_table(tmp_path: Path, mgremind: Mgremind) -> None:
    """Two meals, T = 250, steps of 50 mg, max_dose_mg 100: breakfast 50, dinner 50, breakfast 100,
    dinner 100; the fifth step fits nowhere (100 + 50 > 100), so the day plans 200 of 250 mg and warns.
    Calcium: 100 mg Mg → 100 mg (0.5 tablet) at each meal: 200 mg."""
    path = write(tmp_path, TWO_MEALS)
    result = mgremind("-c", str(path), "plan", "--from", "2026-11-25")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("2026-11-25", "08:00", "19:15", "breakfast", "dinner", "Magnesium citrate", "Calcium carbonate"):
        assert text in out
    assert "Europe/Berlin" in out
    # each meal's row: 2 capsules of citrate, 100 mg
    rows = [line for line in out.splitlines() if "Magnesium citrate" in line]
    assert len(rows) == 2
    for row in rows:
        assert re.search(r"\b2 capsules?\b", row)
        assert re.search(r"\b100 mg\b", row)
    # the day's totals: magnesium 200 planned of 250, calcium 200
    heading = next(line for line in out.splitlines() if "2026-11-25" in line and "250" in line)
    assert "200" in heading

    data = plan_json(tmp_path, mgremind, TWO_MEALS, "--from", "2026-11-25")
    (day,) = data["days"]
    assert (day["magnesium_target_mg"], day["magnesium_mg"], day["calcium_mg"]) == (250, 200, 200)
    assert len(day["warnings"]) == 1
    assert "200" in day["warnings"][0] and "250" in day["warnings"][0]
    for warning in day["warnings"]:
        assert warning in out  # the table shows the day's warnings


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "2026-02-30"),
        ("--from", "tomorrow"),
        ("--from", "25.11.2026"),
        ("--from", ""),
        ("--days", "0"),
        ("--days", "-1"),
        ("--days", "x"),
        ("--days", "1.5"),
        ("--days", "99999999999999999999"),
    ],
)
def test_plan_bad_arguments_are_bad_usage(mgremind: Mgremind, args: tuple[str, str]) -> None:
    result = mgremind("-c", str(EXAMPLE), "plan", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert args[0] in result.stderr


# ---------------------------------------------------------------------------- next


def test_next_count_three(tmp_path: Path, mgremind: Mgremind) -> None:
    path = write(tmp_path, EVERY_DAY)
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    result = mgremind("-c", str(path), "next", "--count", "3", "--json")
    assert result.returncode == 0, result.stderr
    reminders = json.loads(result.stdout)["reminders"]
    assert len(reminders) == 3
    instants = [dt.datetime.fromisoformat(reminder["at"]) for reminder in reminders]
    assert all(at >= before for at in instants)  # in the future of the moment the command started
    assert instants == sorted(instants)
    assert len({reminder["id"] for reminder in reminders}) == 3
    # three meals a day: the next three reminders lie within one day of now
    assert instants[-1] - before <= dt.timedelta(days=1, hours=1)
    for at in instants:
        assert at.utcoffset() == dt.timedelta(hours=9)  # Asia/Tokyo
        assert at.strftime("%H:%M") in ("07:00", "12:00", "19:00")


def test_next_table_respects_count(tmp_path: Path, mgremind: Mgremind) -> None:
    path = write(tmp_path, EVERY_DAY)
    for count in (1, 3, 7):
        result = mgremind("-c", str(path), "next", "--count", str(count))
        assert result.returncode == 0, result.stderr
        stamps = re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", result.stdout)
        assert len(stamps) == count
        assert stamps == sorted(stamps)


@pytest.mark.parametrize("count", ["0", "-3", "three"])
def test_next_bad_count_is_bad_usage(mgremind: Mgremind, count: str) -> None:
    result = mgremind("-c", str(EXAMPLE), "next", "--count", count)
    assert result.returncode == 2
    assert "--count" in result.stderr


# ---------------------------------------------------------------------------- secrets


def test_notify_urls_never_show(tmp_path: Path, mgremind: Mgremind) -> None:
    path = write(tmp_path, EVERY_DAY + f'\n[notify]\nurls = ["json://user:{SECRET}@127.0.0.1:9/x"]\n')
    check = mgremind("-c", str(path), "check")
    assert check.returncode == 0, check.stderr
    assert "json://" in check.stdout  # the channel is listed, redacted
    commands = [
        ("check",),
        ("plan", "--from", "2026-11-25"),
        ("plan", "--from", "2026-11-25", "--json"),
        ("next", "--count", "3"),
        ("next", "--count", "3", "--json"),
    ]
    for command in commands:
        result = mgremind("-c", str(path), *command)
        assert result.returncode == 0, result.stderr
        assert SECRET not in result.stdout + result.stderr


def test_notify_urls_never_show_in_errors(tmp_path: Path, mgremind: Mgremind) -> None:
    text = every_day("Asia/Tokio") + (
        f'\n[notify]\nurls = ["json://user:{SECRET}@127.0.0.1:9/x", "{SECRET}-not-a-url"]\nconsole = "{SECRET}"\n'
    )
    path = write(tmp_path, text)
    result = mgremind("-c", str(path), "check")
    assert result.returncode == 2
    assert f"{path}: notify.urls[1]: " in result.stderr
    assert f"{path}: notify.console: " in result.stderr
    assert SECRET not in result.stdout + result.stderr


# ---------------------------------------------------------------------------- supplies at any age (SPEC §4 v2, §6)


def counted_plan(folder: Path, today: dt.date) -> Path:
    """Three meals in UTC, a 100 mg citrate capsule at each, on the five weekdays other than today's
    and tomorrow's: no reminder falls due while a test runs. 40 capsules counted 12 days ago; a
    refill warning below 30 days, so that `next` always says how many are left."""
    quiet = {today.weekday(), (today.weekday() + 1) % 7}
    days = json.dumps([name for number, name in enumerate(WEEKDAYS) if number not in quiet])
    stock = {"stock": "40", "stock_date": (today - dt.timedelta(days=12)).isoformat(), "refill_days": "30"}
    text = timezone("UTC") + "".join(meal(name, at, days=days) for name, at in MEALS) + citrate(100, **stock)
    return write(folder, text + magnesium(300))


MEALS = (("breakfast", "08:00"), ("lunch", "13:00"), ("dinner", "19:00"))


def units_left(mgremind: Mgremind, config: Path) -> float:
    result = mgremind("-c", str(config), "next", "--json")
    assert result.returncode == 0, result.stderr
    (warning,) = json.loads(result.stdout)["warnings"]
    found = re.fullmatch(r"Magnesium citrate: ([\d.]+) capsules? left, about \d+ days?", warning)
    assert found, warning
    return float(found.group(1))


def keep_totals(config: Path, state: Path) -> dict[str, tuple[dt.datetime, dt.date, float]]:
    """What the daemon does at its start and at each midnight; the totals it keeps."""
    from mgremind.daemon.stock import keep_stock_totals
    from mgremind.loader import load_config
    from mgremind.state import State

    opened = State.open(state / "state.sqlite3", dt.datetime.now(dt.timezone.utc))
    try:
        keep_stock_totals(opened, load_config(config), dt.datetime.now(dt.timezone.utc))
        return opened.stock_totals()
    finally:
        opened.close()


def test_the_daemons_running_total_gives_the_units_adding_up_every_day_gives(
    tmp_path: Path, mgremind: Mgremind
) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    config = counted_plan(tmp_path, today)
    assert mgremind("-c", str(config), "taken", f"{today - dt.timedelta(days=1)}/breakfast").returncode == 0
    replayed = units_left(mgremind, config)  # no total yet: every day since the count, planned
    totals = keep_totals(config, tmp_path / "state")
    assert [through for _, through, _ in totals.values()] == [today - dt.timedelta(days=2)]
    assert units_left(mgremind, config) == replayed  # the days after the total only
    check = mgremind("-c", str(config), "check")
    assert f"Magnesium citrate: {replayed:g} capsules left" in check.stdout

    # A skip recorded late, for a day the total covers: its capsule counts as not used, at once.
    quiet = {today.weekday(), (today.weekday() + 1) % 7}
    day = next(day for back in range(3, 12) if (day := today - dt.timedelta(days=back)).weekday() not in quiet)
    assert mgremind("-c", str(config), "skip", f"{day}/lunch").returncode == 0
    assert units_left(mgremind, config) == replayed + 1
    assert mgremind("-c", str(config), "undo").returncode == 0
    assert units_left(mgremind, config) == replayed


def test_a_newer_count_and_its_undo_are_what_the_units_follow(tmp_path: Path, mgremind: Mgremind) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    config = counted_plan(tmp_path, today)
    replayed = units_left(mgremind, config)
    assert keep_totals(config, tmp_path / "state")
    counted = mgremind("-c", str(config), "stock", "citrate", "25")  # no reminder due since: 25 left
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.startswith("Magnesium citrate: 25 capsules left")
    assert units_left(mgremind, config) == 25
    assert mgremind("-c", str(config), "undo").returncode == 0  # the configured count is the latest again
    assert units_left(mgremind, config) == replayed
    # A stock_date edited in the configuration: the total of the old date is ignored.
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(str(today - dt.timedelta(days=12)), str(today)), encoding="utf-8")
    assert units_left(mgremind, config) == 40


# ---------------------------------------------------------------------------- acknowledgements and reports (SPEC §6 v2)


def midday() -> tuple[str, dt.date]:
    """A zone where it is about noon now (12:MM, or 13:MM should the hour turn while a test runs), and
    today's date there: reminders at 09:00 and 15:00 are within 12 hours either way, and no midnight
    passes during the test. Etc/GMT+H is UTC−H hours (POSIX signs)."""
    now = dt.datetime.now(dt.timezone.utc)
    offset = now.hour - 12  # local = UTC − offset = 12
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{'+' if offset > 0 else '-'}{abs(offset)}"
    return name, (now - dt.timedelta(hours=offset)).date()


def acknowledged(tmp_path: Path) -> dict[str, str]:
    from mgremind.state import State

    path = tmp_path / "state" / "state.sqlite3"
    if not path.exists():
        return {}
    state = State.open(path, dt.datetime.now(dt.timezone.utc))
    try:
        return state.acknowledgements()
    finally:
        state.close()


def two_meals(zone: str, *, delayed_lunch: bool = False) -> str:
    """Breakfast 09:00 and dinner 15:00, 100 mg of citrate each; with `delayed_lunch` a phytate-rich
    lunch at 11:00 whose dose is taken 2 h later (13:00, id DATE/lunch+delay)."""
    lunch = meal("lunch", "11:00", phytate=True) if delayed_lunch else ""
    daily = 300 if delayed_lunch else 200
    extra = {"phytate": '"delay"', "phytate_gap": '"2h"'} if delayed_lunch else {}
    return (
        timezone(zone)
        + meal("breakfast", "09:00")
        + lunch
        + meal("dinner", "15:00")
        + citrate(100)
        + magnesium(daily, **extra)
    )


def test_taken_and_skip_accept_a_meal_of_today(tmp_path: Path, mgremind: Mgremind) -> None:
    zone, today = midday()
    config = str(write(tmp_path, two_meals(zone, delayed_lunch=True)))
    # Dinner at 15:00, three hours ahead: within the 12 hours a reminder can be marked before it is due.
    taken = mgremind("-c", config, "taken", "dinner")
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"taken: {today}/dinner at 15:00: Magnesium citrate: 1 capsule (100 mg)")
    assert mgremind("-c", config, "skip", "Breakfast").returncode == 0  # case does not matter
    # The lunch's dose is delayed: "lunch" names it, and so does its id's own form "lunch+delay".
    lunch = mgremind("-c", config, "taken", "lunch")
    assert lunch.returncode == 0, lunch.stderr
    assert lunch.stdout.startswith(f"taken: {today}/lunch+delay at 13:00")
    assert mgremind("-c", config, "skip", "lunch+delay").stdout.startswith(f"skipped: {today}/lunch+delay at 13:00")
    assert acknowledged(tmp_path) == {
        f"{today}/dinner": "taken",
        f"{today}/breakfast": "skipped",
        f"{today}/lunch+delay": "skipped",
    }


@pytest.mark.parametrize(
    ("wanted", "says"),
    [
        ("supper", '"supper" is not a reminder id'),  # no meal of that name
        ("breakfast+delay", 'no reminder "breakfast+delay" today'),  # a meal, but not delayed
    ],
)
def test_a_meal_without_a_reminder_today_is_refused_with_the_days_reminders(
    tmp_path: Path, mgremind: Mgremind, wanted: str, says: str
) -> None:
    zone, today = midday()
    config = str(write(tmp_path, two_meals(zone)))
    for command in ("taken", "skip"):
        result = mgremind("-c", config, command, wanted)
        assert result.returncode == 2
        assert says in result.stderr
        assert f"today has: {today}/breakfast, {today}/dinner" in result.stderr
    assert acknowledged(tmp_path) == {}


def test_a_reminder_more_than_12_hours_ahead_is_refused_naming_when_it_is_due(
    tmp_path: Path, mgremind: Mgremind
) -> None:
    zone, today = midday()
    config = str(write(tmp_path, two_meals(zone)))
    tomorrow = today + dt.timedelta(days=1)
    # Tomorrow's breakfast (09:00) is about 21 hours ahead (now about 12:00): refused. It can be marked from
    # 09:00 − 12 h = 21:00 today.
    for command in ("taken", "skip"):
        result = mgremind("-c", config, command, f"{tomorrow}/breakfast")
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"mgremind: {tomorrow}/breakfast is due on {tomorrow:%a} {tomorrow} at 09:00, more than 12 hours "
            f"from now; it can be marked from {today:%a} {today} 21:00"
        )
    far = mgremind("-c", config, "taken", "2999-01-01/dinner")
    assert far.returncode == 2
    assert "2999-01-01/dinner is due on Tue 2999-01-01 at 15:00, more than 12 hours from now" in far.stderr
    assert acknowledged(tmp_path) == {}
    # Today's dinner (15:00), about 3 hours ahead, and a past one are accepted.
    assert mgremind("-c", config, "skip", f"{today}/dinner").returncode == 0
    assert mgremind("-c", config, "taken", f"{today - dt.timedelta(days=400)}/dinner").returncode == 0


def test_report_refuses_a_date_to_come(tmp_path: Path, mgremind: Mgremind) -> None:
    zone, today = midday()
    ramp = table("titration", start=(today - dt.timedelta(days=10)).isoformat(), start_mg="100", step_mg="50")
    config = str(write(tmp_path, two_meals(zone) + ramp.replace("\n\n", "\nevery_days = 3\n\n")))
    tomorrow = today + dt.timedelta(days=1)
    before = mgremind("-c", config, "plan", "--json", "--from", str(tomorrow), "--days", "3").stdout
    result = mgremind("-c", config, "report", "cramps", "--date", str(tomorrow))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"mgremind: {tomorrow} is in the future (today is {today}): "
        "a symptom is reported on the day it was noticed, today or before"
    )
    assert not (tmp_path / "state" / "state.sqlite3").exists()  # refused before anything was recorded
    assert mgremind("-c", config, "plan", "--json", "--from", str(tomorrow), "--days", "3").stdout == before
    assert mgremind("-c", config, "report", "cramps", "--date", str(today)).returncode == 0  # today is no future


def test_history_after_backfilling_a_new_state_shows_the_days_other_reminders_as_missed(
    tmp_path: Path, mgremind: Mgremind
) -> None:
    """SPEC §6 v2: the records begin at the earlier of the state's creation and the earliest reminder
    acknowledged; yesterday's breakfast taken and lunch skipped in a new state, its dinner is missed."""
    zone, today = midday()
    config = str(write(tmp_path, two_meals(zone, delayed_lunch=True)))
    yesterday = today - dt.timedelta(days=1)
    assert mgremind("-c", config, "taken", f"{yesterday}/breakfast").returncode == 0
    assert mgremind("-c", config, "skip", f"{yesterday}/lunch+delay").returncode == 0
    result = mgremind("-c", config, "history", "--days", "3", "--json")
    assert result.returncode == 0, result.stderr
    days = json.loads(result.stdout)["days"]
    # The day before yesterday: before the records (no reminder acknowledged, the state is new).
    assert days[0]["reminders"] == []
    # Yesterday: breakfast taken, lunch skipped, dinner (15:00, the last of its day) missed when the day ended.
    assert days[1]["reminders"] == [
        {"id": f"{yesterday}/breakfast", "status": "taken"},
        {"id": f"{yesterday}/lunch+delay", "status": "skipped"},
        {"id": f"{yesterday}/dinner", "status": "missed"},
    ]
    assert (days[1]["planned"], days[1]["taken"], days[1]["skipped"], days[1]["missed"]) == (3, 1, 1, 1)
    # Today (about 12:00): every reminder is there, none marked: breakfast (09:00) is missed from 13:00 on, when
    # lunch's dose is due; the others are pending.
    assert [entry["id"] for entry in days[2]["reminders"]] == [
        f"{today}/{m}" for m in ("breakfast", "lunch+delay", "dinner")
    ]
    assert {entry["status"] for entry in days[2]["reminders"]} <= {"pending", "missed"}


# ---------------------------------------------------------------------------- check: what amounts are (SPEC §2 v2)

LABELS = """timezone = "UTC"

[[meal]]
name = "breakfast"
time = "08:00"

[[meal]]
name = "dinner"
time = "18:00"

[[supplement]]
id = "citrate"
name = "Magnesium citrate"
nutrient = "magnesium"
form = "citrate"
unit = "capsule"
compound_mg_per_unit = 500

[[supplement]]
id = "citrate2"
name = "Citrate powder"
nutrient = "magnesium"
form = "citrate"
unit = "scoop"
mg_per_unit = 150
with = ["dinner"]
units = 1

[[supplement]]
id = "oxide"
name = "Magnesium oxide"
nutrient = "magnesium"
form = "oxide"
unit = "tablet"
compound_mg_per_unit = 250
with = ["dinner"]
units = 1

[[supplement]]
id = "chloride"
name = "Liquid magnesium chloride"
nutrient = "magnesium"
form = "chloride"
unit = "teaspoons"
mg_per_unit = 20
with = ["breakfast"]
units = 1

[[supplement]]
id = "calcium"
name = "Calcium carbonate"
nutrient = "calcium"
form = "carbonate"
unit = "tablet"
mg_per_unit = 250
step = 0.5

[magnesium]
daily_mg = 700
max_dose_mg = 400
calcium_ratio = 1
"""


def test_check_says_what_each_amount_is_and_each_form_note_once(tmp_path: Path, mgremind: Mgremind) -> None:
    result = mgremind("-c", str(write(tmp_path, LABELS)), "check")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    first = lines.index("Supplements") + 1
    supplements = lines[first : lines.index("", first)]
    rows = {line.split()[0]: line for line in supplements}
    # Elemental mg as "mg Mg"; where the compound's mg is given, both: 500 × 0.162 = 81, 250 × 0.603 = 150.75.
    assert "500 mg magnesium citrate = 81 mg Mg per capsule" in rows["citrate"]
    assert "150 mg Mg per scoop" in rows["citrate2"]
    assert "250 mg magnesium oxide = 150.75 mg Mg per tablet" in rows["oxide"]
    assert "20 mg Mg per teaspoons" in rows["chloride"]
    assert "250 mg Ca per tablet" in rows["calcium"]
    assert "mg citrate/" not in out and "mg oxide/" not in out  # read as compound amounts before v2
    assert "Magnesium    700 mg Mg a day, at most 400 mg Mg a reminder" in out
    # Each form once, with the compound its share is of (citrate: anhydrous, the reference's), and its notes.
    assert "Mg3(C6H5O7)2, anhydrous, 16.2 % Mg (formula)" in out
    assert "CaCO3, 40.0 % Ca (formula)" in out
    for note in (
        "better absorbed than oxide; common liquid form (SEED)",  # citrate: two supplements, said once
        "poorly absorbed, low solubility, strong laxative effect",  # oxide: the warning says it
        "keep the liquid form refrigerated",  # liquid chloride: the warning says it
        "well absorbed; time-released tablets exist (SEED)",  # chloride's other notes, in its row
        "offsets some of magnesium's laxative effect (SEED)",  # calcium carbonate
    ):
        assert out.count(note) == 1, note
    assert "! supplement[3]: liquid magnesium chloride (teaspoons): keep the liquid form refrigerated (SEED)" in out
