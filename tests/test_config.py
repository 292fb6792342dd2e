"""The configuration file (SPEC §1) and its error rules (SPEC §2, "Errors block…"; SPEC §3, discovery).

Configurations are written as TOML text, as a user would write them. Error lines are checked in the
SPEC's form `FILE: KEY.PATH: message`, indexes counting from 0.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import EXAMPLE, FIVE_MISTAKES, config_from
from plans import WEEKDAYS, calcium, magnesium, meal, timezone

from mgremind.config.paths import ConfigNotFound, config_candidates, find_config
from mgremind.loader import load_config
from mgremind.model import Config, ConfigError, Problem

ETC_CONFIG = Path("/etc/mgremind/config.toml")

# ---------------------------------------------------------------------------- building blocks (TOML text)

BREAKFAST = """
[[meal]]
name = "breakfast"
time = "08:00"
"""

DINNER = """
[[meal]]
name = "dinner"
time = "19:00"
"""

# A non-magnesium supplement with a fixed placement: the smallest plan that has a reminder.
VITAMIN_D = """
[[supplement]]
id = "vitd"
name = "Vitamin D3"
nutrient = "vitamin D"
unit = "capsule"
with = ["breakfast"]
units = 1
"""

CITRATE = """
[[supplement]]
id = "citrate"
name = "Magnesium citrate"
nutrient = "magnesium"
unit = "capsule"
mg_per_unit = 50
"""

MINIMAL = 'timezone = "UTC"\n' + BREAKFAST + VITAMIN_D

SLOW = """
[[supplement]]
id = "slowmag"
name = "Mag-Tab SR"
nutrient = "magnesium"
unit = "tablet"
mg_per_unit = 84
release = "slow"
"""


def magnesium_plan(supplement_extra: str = "", magnesium: str = "daily_mg = 200", top: str = "") -> str:
    """Breakfast and dinner, one splitting magnesium (with `supplement_extra` keys), a [magnesium] table."""
    return f'timezone = "UTC"\n{top}\n{BREAKFAST}{DINNER}{CITRATE}{supplement_extra}\n[magnesium]\n{magnesium}\n'


def errors(text: str, zone: str = "UTC") -> list[str]:
    """The error lines a configuration gets; fails the test if it loads."""
    with pytest.raises(ConfigError) as caught:
        config_from(text, zone=zone)
    return caught.value.lines()


def warning_keys(config: Config) -> list[str]:
    return [problem.key for problem in config.warnings]


def warning_texts(config: Config) -> list[str]:
    return [problem.render(config.source) for problem in config.warnings]


# ---------------------------------------------------------------------------- defaults (SPEC §2, last paragraph)


def test_magnesium_defaults_when_keys_are_left_out() -> None:
    config = config_from(magnesium_plan())
    magnesium = config.magnesium
    assert magnesium.daily_mg == 200
    assert magnesium.max_dose_mg == 200
    assert magnesium.slow_release_gap == dt.timedelta(hours=8)
    assert magnesium.phytate == "move"
    assert magnesium.phytate_gap == dt.timedelta(hours=2)
    assert magnesium.calcium_ratio == 0
    assert magnesium.phytate_foods == ()


def test_supplement_defaults_when_keys_are_left_out() -> None:
    slow = """
[[supplement]]
id = "slowmag"
nutrient = "magnesium"
unit = "tablet"
mg_per_unit = 84
release = "slow"
"""
    config = config_from(magnesium_plan(slow, magnesium="daily_mg = 300"))
    citrate, slowmag = config.supplements
    assert citrate.step == 1
    assert citrate.release == "immediate"
    assert citrate.with_meals == ()
    assert citrate.units is None
    # slow-release only: doses_per_day default 2, units_per_dose default 1 (SPEC §1)
    assert slowmag.doses_per_day == 2
    assert slowmag.units_per_dose == 1


def test_meal_days_default_to_every_day() -> None:
    config = config_from(MINIMAL)
    assert config.meals[0].days == frozenset(range(7))


def test_reminders_defaults_when_table_is_absent() -> None:
    reminders = config_from(MINIMAL).reminders
    assert reminders.lead == dt.timedelta(0)
    assert reminders.catch_up == dt.timedelta(hours=2)
    assert reminders.retry_for == dt.timedelta(minutes=30)


def test_reminders_defaults_when_table_is_empty() -> None:
    reminders = config_from(MINIMAL + "\n[reminders]\n").reminders
    assert (reminders.lead, reminders.catch_up, reminders.retry_for) == (
        dt.timedelta(0),
        dt.timedelta(hours=2),
        dt.timedelta(minutes=30),
    )


def test_reminders_values_are_read() -> None:
    text = MINIMAL + '\n[reminders]\nlead = "5m"\ncatch_up = "1h30m"\nretry_for = "90s"\n'
    reminders = config_from(text).reminders
    assert reminders.lead == dt.timedelta(minutes=5)
    assert reminders.catch_up == dt.timedelta(hours=1, minutes=30)
    assert reminders.retry_for == dt.timedelta(seconds=90)


@pytest.mark.parametrize(
    ("notify", "console"),
    [
        ("", True),
        ("[notify]\n", True),
        ('[notify]\ntitle = "Mg"\n', True),
        ("[notify]\nurls = []\n", True),
        ('[notify]\nurls = ["ntfy://my-topic"]\n', False),
        ('[notify]\nconfig = "apprise.yml"\n', False),
        ('[notify]\nurls_file = "secret-urls.txt"\n', False),
        ('[notify]\nurls = ["ntfy://my-topic"]\nconsole = true\n', True),
        ("[notify]\nconsole = false\n", False),
    ],
)
def test_console_defaults_to_true_exactly_when_no_channel_is_given(notify: str, console: bool) -> None:
    assert config_from(MINIMAL + "\n" + notify).notify.console is console


def test_timezone_defaults_to_the_local_zone() -> None:
    text = BREAKFAST + VITAMIN_D  # no timezone key
    config = config_from(text, zone="America/New_York")
    assert config.timezone == "America/New_York"
    assert config.zone.key == "America/New_York"


def test_configured_timezone_wins_over_the_local_zone() -> None:
    config = config_from('timezone = "Asia/Tokyo"\n' + BREAKFAST + VITAMIN_D, zone="America/New_York")
    assert config.timezone == "Asia/Tokyo"
    assert config.zone.key == "Asia/Tokyo"


def test_relative_paths_are_relative_to_the_configuration_file(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(MINIMAL + '\n[notify]\nconfig = "apprise.yml"\nurls_file = "secrets/urls.txt"\n', encoding="utf-8")
    config = load_config(path, "UTC")
    assert config.notify.config == folder / "apprise.yml"
    assert config.notify.urls_file == folder / "secrets" / "urls.txt"


# ---------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", dt.timedelta(seconds=90)),
        ("15m", dt.timedelta(minutes=15)),
        ("2h", dt.timedelta(hours=2)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("3d", dt.timedelta(days=3)),
        ("0m", dt.timedelta(0)),
    ],
)
def test_durations(text: str, expected: dt.timedelta) -> None:
    config = config_from(MINIMAL + f'\n[reminders]\ncatch_up = "{text}"\n')
    assert config.reminders.catch_up == expected


@pytest.mark.parametrize("text", ["", "15", "1.5h", "2 h", "15min", "1m1h", "-5m", "h", "2H", "soon"])
def test_bad_duration_strings_are_errors_naming_the_key_and_value(text: str) -> None:
    lines = errors(MINIMAL + f'\n[reminders]\ncatch_up = "{text}"\n')
    assert len(lines) == 1
    assert lines[0].startswith(f'config.toml: reminders.catch_up: "{text}" ')
    assert "is not a duration" in lines[0]


def test_a_duration_that_is_not_a_string_is_an_error() -> None:
    lines = errors(MINIMAL + "\n[reminders]\nretry_for = 30\n")
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: reminders.retry_for: ")
    assert "duration" in lines[0]


def test_slow_release_gap_of_zero_is_an_error() -> None:
    lines = errors(magnesium_plan(magnesium='daily_mg = 200\nslow_release_gap = "0m"'))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: magnesium.slow_release_gap: ")


# ---------------------------------------------------------------------------- times of day


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"07:30"', dt.time(7, 30)),
        ('"00:00"', dt.time(0, 0)),
        ('"23:59"', dt.time(23, 59)),
        ('"19:00:30"', dt.time(19, 0, 30)),
        ("07:30:00", dt.time(7, 30)),  # a TOML local time
        ("21:15:45", dt.time(21, 15, 45)),
    ],
)
def test_times_of_day(value: str, expected: dt.time) -> None:
    config = config_from(f'timezone = "UTC"\n[[meal]]\nname = "breakfast"\ntime = {value}\n' + VITAMIN_D)
    assert config.meals[0].time == expected


def test_impossible_time_gives_the_spec_message_for_the_second_meal() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + '\n[[meal]]\nname = "lunch"\ntime = "7:75"\n' + VITAMIN_D
    assert errors(text) == ['config.toml: meal[1].time: "7:75" is not a time of day (HH:MM)']


@pytest.mark.parametrize("value", ['"24:00"', '"12:60"', '"07:30:60"', '"noon"', '"0730"', '"7h30"', '""'])
def test_impossible_times_are_errors(value: str) -> None:
    text = f'timezone = "UTC"\n[[meal]]\nname = "breakfast"\ntime = {value}\n' + VITAMIN_D
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0] == f"config.toml: meal[0].time: {value} is not a time of day (HH:MM)"


@pytest.mark.parametrize("value", ["7", "7.5", "2026-11-20T07:30:00", "2026-11-20", "true", '["07:30"]'])
def test_a_time_of_the_wrong_type_is_an_error(value: str) -> None:
    text = f'timezone = "UTC"\n[[meal]]\nname = "breakfast"\ntime = {value}\n' + VITAMIN_D
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: meal[0].time: must be a time of day")


def test_meal_time_is_required() -> None:
    text = 'timezone = "UTC"\n[[meal]]\nname = "breakfast"\n' + VITAMIN_D
    assert errors(text) == ["config.toml: meal[0].time: is required"]


# ---------------------------------------------------------------------------- unknown keys


def test_unknown_top_level_key_with_suggestion() -> None:
    text = 'timezon = "UTC"\n' + BREAKFAST + VITAMIN_D
    assert errors(text) == ['config.toml: timezon: unknown key (did you mean "timezone"?)']


def test_misspelt_top_level_table_with_suggestion() -> None:
    text = MINIMAL + '\n[notfy]\ntitle = "Mg"\n'
    assert errors(text) == ['config.toml: notfy: unknown key (did you mean "notify"?)']


def test_misspelt_titration_table_gets_a_suggestion() -> None:
    # [titration] is an optional table: a typo in its name must still point at it.
    text = magnesium_plan(top="") + "\n[titraton]\nstart = 2026-11-20\nstart_mg = 100\nstep_mg = 50\nevery_days = 3\n"
    assert errors(text) == ['config.toml: titraton: unknown key (did you mean "titration"?)']


def test_unknown_key_in_a_table_with_suggestion() -> None:
    text = MINIMAL + '\n[reminders]\nled = "5m"\n'
    assert errors(text) == ['config.toml: reminders.led: unknown key (did you mean "lead"?)']


def test_unknown_key_in_magnesium_table_with_suggestion() -> None:
    lines = errors(magnesium_plan(magnesium="daily_mg = 200\nmax_dose = 100"))
    assert lines == ['config.toml: magnesium.max_dose: unknown key (did you mean "max_dose_mg"?)']


def test_unknown_key_in_the_second_meal_with_suggestion() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + '\n[[meal]]\nname = "lunch"\ntme = "12:00"\n' + VITAMIN_D
    lines = errors(text)
    assert sorted(lines) == sorted(
        [
            'config.toml: meal[1].tme: unknown key (did you mean "time"?)',
            "config.toml: meal[1].time: is required",
        ]
    )


def test_unknown_key_in_a_supplement_with_suggestion() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + VITAMIN_D.replace("units = 1", "units = 1\nmg_per_units = 2")
    assert errors(text) == ['config.toml: supplement[0].mg_per_units: unknown key (did you mean "mg_per_unit"?)']


def test_misspelt_compound_mg_per_unit_suggests_compound_mg_per_unit() -> None:
    # compound_mg_per_unit is a key of [[supplement]] (SPEC §1): its misspelling must point at it.
    lines = errors(magnesium_plan('form = "citrate"\n').replace("mg_per_unit = 50", "compound_mg_per_unt = 625"))
    assert 'config.toml: supplement[0].compound_mg_per_unt: unknown key (did you mean "compound_mg_per_unit"?)' in lines


def test_unknown_key_without_a_close_match_has_no_suggestion() -> None:
    assert errors("xyzzy = 1\n" + MINIMAL) == ["config.toml: xyzzy: unknown key"]


# ---------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("timezone = 5\n" + BREAKFAST + VITAMIN_D, "timezone"),
        (MINIMAL + "\n[notify]\nconsole = 1\n", "notify.console"),
        (MINIMAL + "\n[notify]\ntitle = 5\n", "notify.title"),
        (MINIMAL + '\n[notify]\nurls = "ntfy://topic"\n', "notify.urls"),
        ('timezone = "UTC"\nnotify = 5\n' + BREAKFAST + VITAMIN_D, "notify"),
        (magnesium_plan(magnesium='daily_mg = "300"'), "magnesium.daily_mg"),
        (magnesium_plan(magnesium="daily_mg = 200\nmax_dose_mg = true"), "magnesium.max_dose_mg"),
        (magnesium_plan(magnesium="daily_mg = 200\ncalcium_ratio = [1]"), "magnesium.calcium_ratio"),
        (magnesium_plan(magnesium='daily_mg = 200\nphytate = "later"'), "magnesium.phytate"),
        (magnesium_plan('step = "half"\n'), "supplement[0].step"),
        ('timezone = "UTC"\n' + BREAKFAST + '[[meal]]\nname = 5\ntime = "12:00"\n' + VITAMIN_D, "meal[1].name"),
        ('timezone = "UTC"\n[[meal]]\nname = "breakfast"\ntime = "08:00"\ndays = "mon"\n' + VITAMIN_D, "meal[0].days"),
        (
            'timezone = "UTC"\n[[meal]]\nname = "breakfast"\ntime = "08:00"\nphytate = "yes"\n' + VITAMIN_D,
            "meal[0].phytate",
        ),
        ('timezone = "UTC"\n' + BREAKFAST + VITAMIN_D.replace("units = 1", 'units = "one"'), "supplement[0].units"),
    ],
)
def test_wrong_types_are_errors_at_their_key(text: str, key: str) -> None:
    lines = errors(text)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"config.toml: {key}: ")


def test_an_unknown_weekday_is_an_error_with_suggestion() -> None:
    text = 'timezone = "UTC"\n[[meal]]\nname = "breakfast"\ntime = "08:00"\ndays = ["mon", "tues"]\n' + VITAMIN_D
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith('config.toml: meal[0].days[1]: "tues" is not a day of the week')
    assert '(did you mean "tue"?)' in lines[0]


def test_negative_and_zero_amounts_are_errors() -> None:
    lines = errors(magnesium_plan("step = 0\n", magnesium="daily_mg = -5"))
    assert sorted(line.split(": ")[1] for line in lines) == ["magnesium.daily_mg", "supplement[0].step"]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300"])
def test_non_finite_or_huge_numbers_are_errors(value: str) -> None:
    lines = errors(magnesium_plan(magnesium=f"daily_mg = {value}"))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: magnesium.daily_mg: ")


def test_daily_mg_is_required_when_the_magnesium_table_is_absent() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + CITRATE
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: magnesium.daily_mg: is required")


def test_two_calcium_supplements_to_pair_is_an_error() -> None:
    calcium = '\n[[supplement]]\nid = "ca{n}"\nnutrient = "calcium"\nunit = "tablet"\nmg_per_unit = 250\n'
    text = magnesium_plan(calcium.format(n=1) + calcium.format(n=2), magnesium="daily_mg = 200\ncalcium_ratio = 1")
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[2]: ")
    assert "supplement[1]" in lines[0]


# ---------------------------------------------------------------------------- time zone


@pytest.mark.parametrize("zone", ["Europe/Berln", "Mars/Olympus", "../../etc/passwd", "UTC+1"])
def test_unknown_timezone_is_an_error(zone: str) -> None:
    lines = errors(f'timezone = "{zone}"\n' + BREAKFAST + VITAMIN_D)
    assert len(lines) == 1
    assert lines[0].startswith(f'config.toml: timezone: "{zone}" is not a known IANA time zone')


# ---------------------------------------------------------------------------- TOML syntax


def test_toml_syntax_error_gives_line_and_column() -> None:
    # line 3 is `name = ` (7 characters): the value is missing at column 8 (both counted from 1).
    text = 'timezone = "UTC"\n[[meal]]\nname = \ntime = "08:00"\n'
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: line 3, column 8: invalid TOML")


def test_toml_syntax_error_for_a_duplicated_key() -> None:
    # line 2 is `timezone = "UTC"`; TOML forbids defining a key twice.
    text = 'timezone = "UTC"\ntimezone = "UTC"\n' + BREAKFAST + VITAMIN_D
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: line 2, ")
    assert "invalid TOML" in lines[0]


def test_toml_syntax_error_uses_the_source_name() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from("meal = [\n", source="/home/me/.config/mgremind/config.toml")
    (line,) = caught.value.lines()
    assert line.startswith("/home/me/.config/mgremind/config.toml: ")
    assert "invalid TOML" in line


# ---------------------------------------------------------------------------- all errors at once


def test_five_different_mistakes_give_five_lines() -> None:
    text = FIVE_MISTAKES
    lines = errors(text)
    assert len(lines) == 5, lines
    by_key = {line.split(": ")[1]: line for line in lines}
    assert set(by_key) == {
        "timezone",
        "reminders.led",
        "meal[1].time",
        "supplement[0].with[0]",
        "magnesium.daily_mg",
    }
    assert by_key["meal[1].time"] == 'config.toml: meal[1].time: "7:75" is not a time of day (HH:MM)'
    assert by_key["reminders.led"] == 'config.toml: reminders.led: unknown key (did you mean "lead"?)'
    assert by_key["supplement[0].with[0]"] == (
        'config.toml: supplement[0].with[0]: no meal named "dinnr" (did you mean "dinner"?)'
    )
    assert by_key["magnesium.daily_mg"].startswith("config.toml: magnesium.daily_mg: must be a number")


def test_planner_errors_are_reported_with_the_other_errors() -> None:
    # SPEC §2: errors "are all reported at once", impossible slow-release spacing among them. One meal a
    # day cannot hold two slow-release doses 8 h apart; the typo in [notify] has nothing to do with it.
    text = f"""
timezone = "UTC"
[notify]
titel = "Mg"
{BREAKFAST}
{SLOW}
[magnesium]
daily_mg = 300
"""
    lines = errors(text)
    assert 'config.toml: notify.titel: unknown key (did you mean "title"?)' in lines
    assert any(line.startswith("config.toml: supplement[0].") and "Monday" in line for line in lines), lines
    assert len(lines) == 2


def test_error_message_of_the_exception_holds_every_line() -> None:
    text = 'timezon = "UTC"\n' + BREAKFAST.replace('"08:00"', '"8:61"') + VITAMIN_D
    with pytest.raises(ConfigError) as caught:
        config_from(text)
    assert len(caught.value.problems) == 2
    for line in caught.value.lines():
        assert line in str(caught.value)


# ---------------------------------------------------------------------------- cross-checks


def test_duplicate_supplement_ids() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + VITAMIN_D + VITAMIN_D.replace("Vitamin D3", "Other D3")
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith('config.toml: supplement[1].id: duplicate id "vitd"')
    assert "supplement[0]" in lines[0]


def test_overlapping_days_of_one_meal_name() -> None:
    text = (
        """
timezone = "UTC"
[[meal]]
name = "breakfast"
time = "07:00"
days = ["mon", "tue", "wed", "thu", "fri", "sat"]
[[meal]]
name = "breakfast"
time = "09:30"
days = ["sat", "sun"]
"""
        + VITAMIN_D
    )
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: meal[1].days: ")
    message = lines[0].split(": ", 2)[2]
    assert "sat" in message
    assert "sun" not in message and "mon" not in message
    assert "meal[0]" in message


def test_one_meal_name_on_separate_days_is_fine() -> None:
    text = (
        """
timezone = "UTC"
[[meal]]
name = "breakfast"
time = "07:00"
days = ["mon", "tue", "wed", "thu", "fri"]
[[meal]]
name = "breakfast"
time = "09:30"
days = ["sat", "sun"]
"""
        + VITAMIN_D
    )
    config = config_from(text)
    assert [meal.time for meal in config.meals] == [dt.time(7), dt.time(9, 30)]


def test_with_naming_an_unknown_meal_with_suggestion() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + DINNER + VITAMIN_D.replace('["breakfast"]', '["breakfast", "diner"]')
    assert errors(text) == ['config.toml: supplement[0].with[1]: no meal named "diner" (did you mean "dinner"?)']


def test_with_naming_an_unknown_meal_without_close_match() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + VITAMIN_D.replace('["breakfast"]', '["supper"]')
    assert errors(text) == ['config.toml: supplement[0].with[0]: no meal named "supper"']


def test_more_than_one_splitting_magnesium_is_an_error() -> None:
    second = CITRATE.replace('"citrate"', '"glycinate"', 1)
    lines = errors(magnesium_plan(second))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[1]: ")
    assert "supplement[0]" in lines[0]


def test_a_second_immediate_magnesium_with_fixed_placement_is_fine() -> None:
    second = CITRATE.replace('"citrate"', '"glycinate"', 1) + 'with = ["dinner"]\nunits = 1\n'
    config = config_from(magnesium_plan(second))
    assert config.splitting_supplement is not None
    assert config.splitting_supplement.id == "citrate"


def test_a_supplement_with_no_placement_is_an_error() -> None:
    zinc = '\n[[supplement]]\nid = "zinc"\nnutrient = "zinc"\nunit = "tablet"\n'
    lines = errors(magnesium_plan(zinc))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[1]: ")
    assert "placement" in lines[0]


def test_calcium_without_ratio_has_no_placement() -> None:
    lines = errors(magnesium_plan(calcium(250)))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[1]: ")
    assert "placement" in lines[0]


def test_calcium_with_a_ratio_is_the_paired_calcium() -> None:
    config = config_from(magnesium_plan(calcium(250), magnesium="daily_mg = 200\ncalcium_ratio = 1.0"))
    assert config.paired_calcium is not None
    assert config.paired_calcium.id == "calcium"
    assert config.warnings == ()


def test_impossible_slow_release_spacing_names_the_weekdays() -> None:
    # Breakfast 07:00 every day; dinner 19:00 (12 h later) only on weekdays: two doses 8 h apart
    # fit Monday to Friday, but not on Saturday and Sunday, which have one meal.
    text = timezone("UTC") + meal("breakfast", "07:00") + meal("dinner", "19:00", days=WEEKDAYS) + SLOW + magnesium(300)
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[0].")
    for named in ("Saturday", "Sunday", "8h", "breakfast"):
        assert named in lines[0]
    for weekday in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        assert weekday not in lines[0]


def test_slow_release_spacing_uses_the_configured_gap() -> None:
    # Meals 07:00 and 13:00 are 6 h apart: enough for slow_release_gap = "6h", not for the 8 h default.
    meals = '[[meal]]\nname = "breakfast"\ntime = "07:00"\n[[meal]]\nname = "lunch"\ntime = "13:00"\n'
    fits = f'timezone = "UTC"\n{meals}{SLOW}\n[magnesium]\ndaily_mg = 300\nslow_release_gap = "6h"\n'
    assert config_from(fits).magnesium.slow_release_gap == dt.timedelta(hours=6)
    lines = errors(f'timezone = "UTC"\n{meals}{SLOW}\n[magnesium]\ndaily_mg = 300\n')
    assert len(lines) == 1
    for weekday in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert weekday in lines[0]


def test_daily_mg_is_required_with_a_magnesium_supplement() -> None:
    lines = errors(magnesium_plan(magnesium=""))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: magnesium.daily_mg: is required")


def test_daily_mg_is_not_required_without_magnesium() -> None:
    assert config_from(MINIMAL).magnesium.daily_mg is None


def test_a_plan_without_any_reminder_is_an_error() -> None:
    # daily_mg 40 is less than one 50 mg step: floor(40 / 50) = 0 steps on every day, and nothing
    # else is configured, so no day ever has a reminder.
    lines = errors(magnesium_plan(magnesium="daily_mg = 40"))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: ")
    assert "no reminder" in lines[0]


# ---------------------------------------------------------------------------- forms and compound mg


@pytest.mark.parametrize(
    ("nutrient", "form", "compound", "elemental"),
    [
        ("magnesium", "citrate", 625, 101.25),  # 625 × 0.162 = 101.25
        ("magnesium", "oxide", 500, 301.5),  # 500 × 0.603 = 301.5
        ("magnesium", "glycinate", 1000, 141),  # alias of bisglycinate: 1000 × 0.141 = 141
        ("magnesium", "Citrate", 500, 81),  # case-insensitive: 500 × 0.162 = 81
        ("calcium", "carbonate", 1250, 500),  # 1250 × 0.400 = 500
    ],
)
def test_compound_mg_per_unit_converts_to_elemental_mg(
    nutrient: str, form: str, compound: float, elemental: float
) -> None:
    supplement = f"""
[[supplement]]
id = "x"
nutrient = "{nutrient}"
form = "{form}"
unit = "capsule"
compound_mg_per_unit = {compound}
"""
    text = 'timezone = "UTC"\n' + BREAKFAST + VITAMIN_D + supplement
    if nutrient == "magnesium":
        text += "\n[magnesium]\ndaily_mg = 1000\n"
    else:
        text += CITRATE + "\n[magnesium]\ndaily_mg = 200\ncalcium_ratio = 1\n"
    config = config_from(text)
    converted = config.supplements[1]
    assert converted.mg_per_unit == pytest.approx(elemental)


def test_compound_mg_per_unit_without_form_is_an_error() -> None:
    text = magnesium_plan().replace("mg_per_unit = 50", "compound_mg_per_unit = 625")
    lines = errors(text)
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[0].compound_mg_per_unit: ")


def test_mg_per_unit_and_compound_mg_per_unit_together_is_an_error() -> None:
    lines = errors(magnesium_plan('form = "citrate"\ncompound_mg_per_unit = 625\n'))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[0].compound_mg_per_unit: ")


def test_magnesium_needs_mg_per_unit() -> None:
    lines = errors(magnesium_plan().replace("mg_per_unit = 50\n", ""))
    assert lines == [lines[0]]
    assert lines[0].startswith("config.toml: supplement[0].mg_per_unit: is required")


def test_unknown_form_is_a_warning_with_suggestion() -> None:
    config = config_from(magnesium_plan('form = "citrat"\n'))
    assert warning_keys(config) == ["supplement[0].form"]
    (text,) = warning_texts(config)
    assert text.startswith('config.toml: supplement[0].form: "citrat" is not a known magnesium form')
    assert '(did you mean "citrate"?)' in text
    assert config.supplements[0].form is None
    assert config.supplements[0].mg_per_unit == 50


def test_unknown_form_with_compound_mg_cannot_convert() -> None:
    lines = errors(magnesium_plan('form = "citrat"\n').replace("mg_per_unit = 50", "compound_mg_per_unit = 625"))
    assert len(lines) == 1
    assert lines[0].startswith("config.toml: supplement[0].compound_mg_per_unit: ")


def test_form_of_another_nutrient_is_not_checked() -> None:
    text = 'timezone = "UTC"\n' + BREAKFAST + VITAMIN_D.replace('unit = "capsule"', 'unit = "capsule"\nform = "D3"')
    assert config_from(text).warnings == ()


# ---------------------------------------------------------------------------- warnings never block


def test_magnesium_oxide_is_a_warning() -> None:
    config = config_from(magnesium_plan('form = "oxide"\n'))
    assert warning_keys(config) == ["supplement[0]"]
    assert "oxide" in config.warnings[0].message


def test_liquid_magnesium_chloride_is_a_warning() -> None:
    text = magnesium_plan('form = "chloride"\n').replace(
        'unit = "capsule"\nmg_per_unit = 50', 'unit = "ml"\nmg_per_unit = 10'
    )
    config = config_from(text)
    assert warning_keys(config) == ["supplement[0]"]
    assert "refrigerat" in config.warnings[0].message


def test_magnesium_chloride_tablets_are_not_a_liquid() -> None:
    config = config_from(magnesium_plan('form = "chloride"\n'))
    assert config.warnings == ()


CALCIUM = '\n[[supplement]]\nid = "calcium"\nnutrient = "calcium"\nunit = "tablet"\nmg_per_unit = 250\nstep = 0.5\n'


@pytest.mark.parametrize("ratio", ["0.25", "0.49", "2.01", "3"])
def test_calcium_ratio_outside_half_to_two_is_a_warning(ratio: str) -> None:
    config = config_from(magnesium_plan(CALCIUM, magnesium=f"daily_mg = 200\ncalcium_ratio = {ratio}"))
    assert warning_keys(config) == ["magnesium.calcium_ratio"]


@pytest.mark.parametrize("ratio", ["0", "0.5", "1", "2"])
def test_calcium_ratio_inside_half_to_two_is_no_warning(ratio: str) -> None:
    calcium = CALCIUM if ratio != "0" else ""
    config = config_from(magnesium_plan(calcium, magnesium=f"daily_mg = 200\ncalcium_ratio = {ratio}"))
    assert config.warnings == ()


def test_daily_mg_above_350_is_a_warning() -> None:
    config = config_from(magnesium_plan(magnesium="daily_mg = 400"))
    assert warning_keys(config) == ["magnesium.daily_mg"]
    assert "350" in config.warnings[0].message


def test_daily_mg_of_350_is_no_warning() -> None:
    assert config_from(magnesium_plan(magnesium="daily_mg = 350")).warnings == ()


def medicine(name: str, sides: str = "") -> str:
    """A [[keep_apart]] taken at 12:00; `sides` holds its before/after lines, if any."""
    return f'\n[[keep_apart]]\nname = "{name}"\ntimes = ["12:00"]\n{sides}'


def test_an_unknown_medicine_is_a_warning_at_its_name_in_the_spec_text() -> None:
    # SPEC §7 v2: "metformin: not in mgremind's table; keeping magnesium 2 h before and after — set
    # before/after from its leaflet"; the second entry is keep_apart[1].
    config = config_from(magnesium_plan() + medicine("Synthroid") + medicine("metformin"))
    assert warning_texts(config) == [
        "config.toml: keep_apart[1].name: metformin: not in mgremind's table; "
        "keeping magnesium 2 h before and after — set before/after from its leaflet"
    ]
    # The window is the 2 h default on both sides.
    assert (config.keep_apart[1].before, config.keep_apart[1].after) == (dt.timedelta(hours=2),) * 2


def test_an_unknown_medicine_with_one_side_set_is_warned_about_the_other() -> None:
    config = config_from(magnesium_plan() + medicine("metformin", 'before = "1h"\n'))
    assert warning_texts(config) == [
        "config.toml: keep_apart[0].name: metformin: not in mgremind's table; "
        "keeping magnesium 2 h after it (the default) — set after from its leaflet"
    ]
    config = config_from(magnesium_plan() + medicine("metformin", 'after = "30m"\n'))
    assert "keeping magnesium 2 h before it (the default) — set before from its leaflet" in warning_texts(config)[0]


def test_an_unknown_medicine_with_both_sides_set_is_no_warning() -> None:
    config = config_from(magnesium_plan() + medicine("metformin", 'before = "1h"\nafter = "0m"\n'))
    assert config.warnings == ()
    assert config.keep_apart[0].source == "configured"


@pytest.mark.parametrize("name", ["levothyroxine", "Euthyrox", "L-thyroxine", "Cipro", "ferrous sulfate", "zinc"])
def test_a_known_medicine_brand_or_synonym_is_no_warning(name: str) -> None:
    assert config_from(magnesium_plan() + medicine(name)).warnings == ()


def test_a_class_word_without_an_interval_asks_for_the_medicine() -> None:
    # The quinolones' labels differ (ciprofloxacin 6/2, levofloxacin 2/2, moxifloxacin 8/4): none is
    # assumed; the default 2 h holds until the user names one or sets the window.
    config = config_from(magnesium_plan() + medicine("quinolone"))
    assert warning_texts(config) == [
        "config.toml: keep_apart[0].name: quinolone: a class, not one medicine (mgremind's table has "
        "ciprofloxacin, levofloxacin and moxifloxacin, each with its own window); keeping magnesium "
        "2 h before and after — name the medicine, or set before/after from its leaflet"
    ]


def test_all_warnings_together_still_load() -> None:
    oxide = 'form = "oxide"\n'
    chloride = """
[[supplement]]
id = "liquid"
nutrient = "magnesium"
form = "chloride"
unit = "ml"
mg_per_unit = 10
with = ["dinner"]
units = 5
"""
    config = config_from(magnesium_plan(oxide + chloride + CALCIUM, magnesium="daily_mg = 900\ncalcium_ratio = 3"))
    assert sorted(warning_keys(config)) == sorted(
        ["supplement[0]", "supplement[1]", "magnesium.daily_mg", "magnesium.calcium_ratio"]
    )


# ---------------------------------------------------------------------------- secrets


SECRET = "s3cr3t"


@pytest.mark.parametrize(
    "notify",
    [
        f'urls = ["{SECRET}-token"]',
        f'urls = ["json://user:{SECRET}@127.0.0.1:9/x", "{SECRET}"]',
        f'urls = "json://user:{SECRET}@127.0.0.1:9/x"',
        f'url = ["json://user:{SECRET}@127.0.0.1:9/x"]',
        f'urls = ["json://user:{SECRET}@127.0.0.1:9/x"]\nconsole = "{SECRET}"',
        f'urls = [["json://user:{SECRET}@h/x"]]',
        f'config = ["{SECRET}.yml"]',
        f'urls_file = {{ path = "{SECRET}" }}',
        f'title = ["{SECRET}"]',
    ],
)
def test_a_bad_notify_value_is_never_echoed(notify: str) -> None:
    lines = errors(MINIMAL + f"\n[notify]\n{notify}\n")
    assert lines
    assert all(line.startswith("config.toml: notify.") for line in lines), lines
    for line in lines:
        assert SECRET not in line


def test_a_toml_syntax_error_in_notify_does_not_echo_the_url() -> None:
    text = MINIMAL + f'\n[notify]\nurls = ["json://user:{SECRET}@127.0.0.1:9/x" "json://other:{SECRET}@h/y"]\n'
    with pytest.raises(ConfigError) as caught:
        config_from(text)
    assert SECRET not in str(caught.value)
    assert "invalid TOML" in str(caught.value)


def test_notify_urls_do_not_show_in_warnings() -> None:
    text = magnesium_plan('form = "oxide"\n', magnesium="daily_mg = 400") + (
        f'\n[notify]\nurls = ["json://user:{SECRET}@127.0.0.1:9/x"]\n'
    )
    config = config_from(text)
    assert config.notify.urls == (f"json://user:{SECRET}@127.0.0.1:9/x",)
    assert config.warnings
    for problem in config.warnings:
        assert SECRET not in problem.render(config.source)


# ---------------------------------------------------------------------------- the example


def test_the_example_loads_without_warnings() -> None:
    config = load_config(EXAMPLE, "UTC")
    assert config.warnings == ()
    assert config.timezone == "Europe/Berlin"
    assert [supplement.id for supplement in config.supplements] == ["slowmag", "citrate", "calcium", "bcomplex", "vitd"]
    assert sorted({meal.name for meal in config.meals}) == ["breakfast", "dinner", "lunch"]
    # citrate: compound_mg_per_unit = 500 with form citrate → 500 × 0.162 = 81 mg elemental
    assert config.supplements[1].mg_per_unit == pytest.approx(81)


def test_a_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    assert load_config(path, "UTC").meals[0].name == "breakfast"


# ---------------------------------------------------------------------------- Problem rendering


def test_problem_renders_file_key_message() -> None:
    assert Problem("meal[1].time", "bad").render("config.toml") == "config.toml: meal[1].time: bad"
    assert Problem("", "is empty").render("/etc/x.toml") == "/etc/x.toml: is empty"


# ---------------------------------------------------------------------------- finding the file (SPEC §3)


def test_explicit_file_wins_over_everything(tmp_path: Path) -> None:
    environ = {"MGREMIND_CONFIG": str(tmp_path / "env.toml"), "CONFIGURATION_DIRECTORY": str(tmp_path)}
    assert find_config("mine.toml", environ) == Path("mine.toml")


def test_mgremind_config_is_used_even_when_missing(tmp_path: Path) -> None:
    # The user named a file: an error about that file beats silently reading another one.
    xdg = tmp_path / "xdg"
    (xdg / "mgremind").mkdir(parents=True)
    (xdg / "mgremind" / "config.toml").write_text(MINIMAL, encoding="utf-8")
    environ = {"MGREMIND_CONFIG": str(tmp_path / "missing.toml"), "XDG_CONFIG_HOME": str(xdg)}
    assert config_candidates(environ) == [tmp_path / "missing.toml"]
    assert find_config(None, environ) == tmp_path / "missing.toml"


def test_empty_mgremind_config_counts_as_unset(tmp_path: Path) -> None:
    environ = {"MGREMIND_CONFIG": "", "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    assert config_candidates(environ) == [tmp_path / "xdg" / "mgremind" / "config.toml", ETC_CONFIG]


def test_candidates_in_spec_order(tmp_path: Path) -> None:
    environ = {
        "CONFIGURATION_DIRECTORY": str(tmp_path / "systemd"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path / "home"),
    }
    assert config_candidates(environ) == [
        tmp_path / "systemd" / "config.toml",
        tmp_path / "xdg" / "mgremind" / "config.toml",
        ETC_CONFIG,
    ]


def test_xdg_config_home_defaults_to_home_dot_config(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path / "home")}
    assert config_candidates(environ) == [tmp_path / "home" / ".config" / "mgremind" / "config.toml", ETC_CONFIG]


def test_configuration_directory_is_used_before_xdg(tmp_path: Path) -> None:
    systemd = tmp_path / "systemd"
    systemd.mkdir()
    (systemd / "config.toml").write_text(MINIMAL, encoding="utf-8")
    xdg = tmp_path / "xdg"
    (xdg / "mgremind").mkdir(parents=True)
    (xdg / "mgremind" / "config.toml").write_text(MINIMAL, encoding="utf-8")
    environ = {"CONFIGURATION_DIRECTORY": str(systemd), "XDG_CONFIG_HOME": str(xdg)}
    assert find_config(None, environ) == systemd / "config.toml"


def test_configuration_directory_without_the_file_falls_through_to_xdg(tmp_path: Path) -> None:
    systemd = tmp_path / "systemd"
    systemd.mkdir()
    xdg = tmp_path / "xdg"
    (xdg / "mgremind").mkdir(parents=True)
    (xdg / "mgremind" / "config.toml").write_text(MINIMAL, encoding="utf-8")
    environ = {"CONFIGURATION_DIRECTORY": str(systemd), "XDG_CONFIG_HOME": str(xdg)}
    assert find_config(None, environ) == xdg / "mgremind" / "config.toml"


def test_home_dot_config_is_found(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "mgremind").mkdir(parents=True)
    (home / ".config" / "mgremind" / "config.toml").write_text(MINIMAL, encoding="utf-8")
    assert find_config(None, {"HOME": str(home)}) == home / ".config" / "mgremind" / "config.toml"


def test_config_not_found_lists_the_paths_tried(tmp_path: Path) -> None:
    if ETC_CONFIG.exists():
        pytest.skip(f"{ETC_CONFIG} exists on this machine: a configuration is always found")
    environ = {
        "CONFIGURATION_DIRECTORY": str(tmp_path / "systemd"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path / "home"),
    }
    with pytest.raises(ConfigNotFound) as caught:
        find_config(None, environ)
    expected = [tmp_path / "systemd" / "config.toml", tmp_path / "xdg" / "mgremind" / "config.toml", ETC_CONFIG]
    assert list(caught.value.tried) == expected
    for path in expected:
        assert str(path) in str(caught.value)


# ---------------------------------------------------------------------------- amounts say what they are (SPEC §2 v2)


def liquid_chloride(unit: str) -> str:
    """The splitting citrate, and a magnesium chloride at breakfast in `unit`."""
    chloride = (
        f'\n[[supplement]]\nid = "liquid"\nnutrient = "magnesium"\nform = "chloride"\nunit = "{unit}"\n'
        'mg_per_unit = 10\nwith = ["breakfast"]\nunits = 1\n'
    )
    return magnesium_plan(chloride)


@pytest.mark.parametrize(
    "unit",
    [
        "ml",
        "mL",
        "millilitre",
        "millilitres",
        "milliliter",
        "milliliters",
        "teaspoon",
        "teaspoons",
        "tsp",
        "tablespoon",
        "Tablespoons",
        "tbsp",
        "fl oz",
        "fl. oz",
        "fluid ounces",
        "cc",
        "drop",
        "drops",
    ],
)
def test_liquid_units_in_singular_and_plural_keep_the_refrigeration_warning(unit: str) -> None:
    config = config_from(liquid_chloride(unit))
    assert config.supplements[1].keep_refrigerated
    assert warning_texts(config) == [
        f"config.toml: supplement[1]: liquid magnesium chloride ({unit}): keep the liquid form refrigerated (SEED)"
    ]


@pytest.mark.parametrize("unit", ["capsule", "tablets", "scoop", "g", "oz", "sachets"])
def test_other_units_are_not_liquids(unit: str) -> None:
    config = config_from(liquid_chloride(unit))
    assert not config.supplements[1].keep_refrigerated
    assert config.warnings == ()


def test_the_compound_amount_is_kept_where_the_plan_gives_it() -> None:
    compound = magnesium_plan('form = "citrate"\n').replace("mg_per_unit = 50", "compound_mg_per_unit = 500")
    (citrate,) = config_from(compound).supplements
    # 500 mg magnesium citrate × 0.162 (Mg3(C6H5O7)2, anhydrous: formula) = 81 mg Mg.
    assert (citrate.compound_mg_per_unit, citrate.mg_per_unit) == (500, 81)
    (elemental,) = config_from(magnesium_plan('form = "citrate"\n')).supplements
    assert (elemental.compound_mg_per_unit, elemental.mg_per_unit) == (None, 50)


@pytest.mark.parametrize(
    "written", ["citrate anhydrous", "anhydrous citrate", "trimagnesium dicitrate", "Trimagnesium Dicitrate"]
)
def test_the_hydrate_the_reference_gives_names_its_form(written: str) -> None:
    text = magnesium_plan(f'form = "{written}"\n').replace("mg_per_unit = 50", "compound_mg_per_unit = 500")
    config = config_from(text)
    assert config.warnings == ()
    assert config.supplements[0].form is not None and config.supplements[0].form.name == "citrate"
    assert config.supplements[0].mg_per_unit == 81  # 500 × 0.162


def test_a_hydrate_the_reference_does_not_give_is_not_guessed() -> None:
    # Citrate nonahydrate holds 11.9 % Mg by its formula, the anhydrous citrate of the reference 16.2 %:
    # mgremind knows only the latter, so it converts nothing and says which one it knows.
    config = config_from(magnesium_plan('form = "citrate nonahydrate"\n'))
    assert config.supplements[0].form is None
    assert warning_texts(config) == [
        'config.toml: supplement[0].form: "citrate nonahydrate": mgremind knows magnesium citrate only as '
        "Mg3(C6H5O7)2, anhydrous, 16.2 % Mg (formula), so it adds no notes nor converts compound_mg_per_unit; "
        "give mg_per_unit (elemental mg, as on the label)"
    ]
    compound = magnesium_plan('form = "citrate nonahydrate"\n').replace("mg_per_unit =", "compound_mg_per_unit =")
    (line,) = errors(compound)
    assert line.startswith("config.toml: supplement[0].compound_mg_per_unit: needs a known form")


def test_the_oxide_note_is_said_once_for_two_oxide_supplements() -> None:
    second = (
        '\n[[supplement]]\nid = "ox2"\nnutrient = "magnesium"\nform = "oxide"\nunit = "tablet"\n'
        'mg_per_unit = 100\nwith = ["dinner"]\nunits = 1\n'
    )
    config = config_from(magnesium_plan('form = "oxide"\n' + second))
    assert warning_texts(config) == [
        "config.toml: supplement[0]: magnesium oxide is poorly absorbed, low solubility, strong laxative effect (SEED)"
    ]


def test_the_calcium_ratio_warning_cites_what_seed_gives_and_owns_its_range() -> None:
    # SEED gives two ratios, 2:1 (traditional, the ratio of the RDAs) and 1:1 (many doctors), no range:
    # the 0.5–2 range is mgremind's, and the warning does not cite SEED for it.
    config = config_from(magnesium_plan(CALCIUM, magnesium="daily_mg = 200\ncalcium_ratio = 2.5"))
    assert warning_texts(config) == [
        "config.toml: magnesium.calcium_ratio: a calcium:magnesium ratio of 2.5 is outside 0.5–2, the range "
        "mgremind warns outside of (SEED: traditionally 2:1, the ratio of their RDAs; many doctors suggest "
        "closer to 1:1)"
    ]


# Standard atomic weights (IUPAC), as magnesium-facts.md gives them for its "formula" source.
ATOMIC_WEIGHTS = {
    "Mg": 24.305,
    "Ca": 40.078,
    "C": 12.011,
    "H": 1.008,
    "N": 14.007,
    "O": 15.999,
    "S": 32.06,
    "Cl": 35.45,
}


def formula_mass(formula: str) -> float:
    """The molar mass of "Mg(C3H5O3)2·2H2O": groups in parentheses with a count, a hydrate after "·"."""
    import re

    total = 0.0
    for part in formula.split("·"):
        count = part[: len(part) - len(part.lstrip("0123456789"))]  # "2" of "2H2O"
        stack = [0.0]
        for token, number in re.findall(r"([A-Z][a-z]?|\(|\))(\d*)", part[len(count) :]):
            if token == "(":
                stack.append(0.0)
            elif token == ")":
                inner = stack.pop()
                stack[-1] += inner * int(number or 1)
            else:
                stack[-1] += ATOMIC_WEIGHTS[token] * int(number or 1)
        total += int(count or 1) * stack[0]
    return total


def test_every_elemental_fraction_is_its_formula_with_its_source() -> None:
    """Each form's share, recomputed from its formula: the element's atoms over the molar mass, to the
    0.1 % the reference table gives (e.g. citrate Mg3(C6H5O7)2: 3 × 24.305 / 451.11 = 16.2 %)."""
    from mgremind import reference

    for nutrient, forms in reference.FORMS_BY_NUTRIENT.items():
        symbol = reference.ELEMENT_SYMBOLS[nutrient]
        for form in forms.values():
            atoms = form.compound.split("·")[0]
            count = int(atoms[len(symbol)]) if atoms[len(symbol) : len(symbol) + 1].isdigit() else 1
            share = count * ATOMIC_WEIGHTS[symbol] / formula_mass(form.compound)
            assert share == pytest.approx(form.elemental_fraction, abs=0.0005), form  # to the 0.1 % given
            assert form.source.split(";")[0] == "formula", form
            assert ("SEED" in form.source) == bool(form.note), form  # a note says it is SEED's


# ---------------------------------------------------------------------------- v2: errors that name their cause


def test_a_plan_without_any_reminder_names_the_step_that_removed_every_dose() -> None:
    # SPEC §2 v2: one 50 mg step over daily_mg 40 is the cause; the line says so, at the step's key.
    lines = errors(magnesium_plan(magnesium="daily_mg = 40"))
    assert lines == [
        "config.toml: supplement[0].step: one step of Magnesium citrate is 50 mg, more than the day's target "
        "of 40 mg (daily_mg), so the plan has no reminder on any day"
    ]


def test_slow_release_taken_with_meals_closer_than_the_gap_is_an_error_line() -> None:
    text = (
        timezone("UTC")
        + meal("breakfast", "07:00")
        + meal("lunch", "12:00", days=WEEKDAYS)
        + '[[supplement]]\nid = "sr"\nname = "Mag-Tab SR"\nnutrient = "magnesium"\nunit = "tablet"\n'
        'mg_per_unit = 84\nrelease = "slow"\nwith = ["breakfast", "lunch"]\nunits = 1\n\n' + magnesium(168)
    )
    # Weekdays: breakfast 07:00 and lunch 12:00, 5 h apart < 8h; the weekend has breakfast only.
    assert errors(text) == [
        "config.toml: supplement[0].with: on Monday, Tuesday, Wednesday, Thursday, Friday Mag-Tab SR is taken "
        "with lunch 12:00, 5 h from the slow-release dose at breakfast 07:00, less than slow_release_gap 8h"
    ]
