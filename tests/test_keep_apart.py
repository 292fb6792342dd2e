"""Keeping magnesium apart from other medicines (SPEC §7), pinned to hand-computed cases.

Every expected time and amount is derived from SPEC §2 and §7 by hand; the arithmetic is in the
comment beside it. The rule: a slot at time t is blocked when m − before < t < m + after for a
time m of the medicine on that day or the days beside it (the window is open: its ends are free).
Blocked slots are handled like phytate-rich meals: "move" gives them no magnesium (nor its paired
calcium); "delay" takes their magnesium at the first instant after t outside every window and
every phytate window [meal, meal + phytate_gap), the same day, else drops it with a warning.

Dates: 2026-11-22 is a Sunday, 2026-11-23 a Monday, 2026-11-28 a Saturday. Configurations
without `timezone` use UTC (conftest's stand-in system zone). Defaults used throughout:
max_dose_mg 200, slow_release_gap 8h, phytate_gap 2h, step 1, lead 0m.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Mgremind, Result, config_from
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from plans import calcium, citrate, fixed, layout, magnesium, meal, only, slow

from mgremind import reference
from mgremind.model import Config, ConfigError
from mgremind.plan import plan_day
from mgremind.reference import find_interval
from mgremind.render import notification

UTC = dt.timezone.utc
SUN = dt.date(2026, 11, 22)
MON = dt.date(2026, 11, 23)
TUE = dt.date(2026, 11, 24)
WED = dt.date(2026, 11, 25)
SAT = dt.date(2026, 11, 28)
H = dt.timedelta(hours=1)


# ---------------------------------------------------------------------------- helpers


def keep_apart(name: str, **fields: str) -> str:
    """A [[keep_apart]] table; `fields` values are TOML value text, e.g. times='["06:30"]'."""
    return f'[[keep_apart]]\nname = "{name}"\n' + "".join(f"{key} = {value}\n" for key, value in fields.items()) + "\n"


THREE_MEALS = meal("breakfast", "07:00") + meal("lunch", "12:30") + meal("dinner", "18:30")
LEVOTHYROXINE = keep_apart("levothyroxine", times='["06:30"]')  # reference: 4 h before, 4 h after
# Read from the magnesium's side (SPEC §7 v2): no magnesium within 4 h before 06:30 nor 4 h after it.
LEVO_NOTE = "levothyroxine 06:30, take magnesium at least 4 h before or after it"


def errors_of(text: str) -> dict[str, str]:
    """Problem key → message of a configuration that must not load."""
    with pytest.raises(ConfigError) as raised:
        config_from(text)
    keys = [problem.key for problem in raised.value.problems]
    assert len(keys) == len(set(keys)), keys
    return {problem.key: problem.message for problem in raised.value.problems}


def run_cli(tmp_path: Path, mgremind: Mgremind, text: str, *args: str) -> Result:
    """`mgremind -c CONFIG ARGS` (in this process) on `text` as tmp_path/config.toml."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return mgremind("-c", str(path), *args)


# ---------------------------------------------------------------------------- the reference intervals


def test_reference_intervals_by_name_and_class() -> None:
    # magnesium-facts.md: tetracyclines (doxycycline, minocycline, tetracycline) 3 h, SMPC.
    doxycycline = find_interval("doxycycline")
    assert doxycycline is not None
    assert (doxycycline.label, doxycycline.before_hours, doxycycline.after_hours) == ("tetracyclines", 3, 3)
    assert doxycycline.source == "SMPC"
    # Ciprofloxacin label: "take X at least 2 h before or 6 h after Mg" → no Mg 6 h before X, 2 h after it.
    # Matched as a word inside what people write on the box, case-insensitive.
    cipro = find_interval("Ciprofloxacin 500 mg")
    assert cipro is not None
    assert (cipro.before_hours, cipro.after_hours, cipro.source) == (6, 2, "LABEL")
    # Moxifloxacin: "at least 4 h before and 8 h after" → 8 h before, 4 h after.
    moxi = find_interval("Moxifloxacin")
    assert moxi is not None
    assert (moxi.before_hours, moxi.after_hours) == (8, 4)
    # Bisphosphonates (alendronate, risedronate, ibandronate): 4 h (SMPC).
    alendronate = find_interval("alendronate")
    assert alendronate is not None
    assert (alendronate.label, alendronate.before_hours, alendronate.after_hours) == ("bisphosphonates", 4, 4)
    levo = find_interval("Levothyroxine sodium 50 mcg")
    assert levo is not None
    assert (levo.before_hours, levo.after_hours, levo.source) == (4, 4, "LABEL")
    iron = find_interval("Ferrous sulfate")
    assert iron is not None
    assert (iron.label, iron.before_hours) == ("iron", 4)
    # Anything unknown: 2 h each, SMPC "2–3 h where possible".
    assert find_interval("Vitamin B12") is None
    assert reference.DEFAULT_INTERVAL_HOURS == 2


def test_window_defaults_come_from_the_reference_and_say_where_from() -> None:
    config = config_from(
        THREE_MEALS
        + citrate()
        + fixed("zinc", "zinc", "dinner")
        + magnesium(300, phytate='"delay"')
        + keep_apart("Doxycycline 100 mg", times='["23:00"]')
        + keep_apart("zinc", supplement='"zinc"')
        + keep_apart("Ciprofloxacin", times='["12:00"]', before='"1h"')
        + keep_apart("levothyroxine", times='["06:30"]', before='"3h"', after='"1h30m"')
    )
    doxy, zinc, cipro, levo = config.keep_apart
    assert (doxy.before, doxy.after, doxy.source) == (3 * H, 3 * H, "SMPC: tetracyclines")
    # Zinc: no published interval; 2 h each by convention, and said to be one (magnesium-facts.md).
    assert (zinc.before, zinc.after, zinc.source) == (2 * H, 2 * H, "convention: zinc, no published interval")
    # One side configured: before 1 h as written, after from the label (2 h).
    assert (cipro.before, cipro.after) == (1 * H, 2 * H)
    assert "LABEL" in cipro.source
    assert "ciprofloxacin" in cipro.source
    assert (levo.before, levo.after, levo.source) == (3 * H, dt.timedelta(hours=1, minutes=30), "configured")


def test_check_shows_the_windows_in_force_and_where_they_came_from(tmp_path: Path, mgremind: Mgremind) -> None:
    text = (
        'timezone = "UTC"\n'
        + THREE_MEALS
        + citrate()
        + fixed("zinc", "zinc", "dinner")
        + magnesium(300, phytate='"delay"')
        + keep_apart("levothyroxine", times='["06:30"]', remind="true")
        + keep_apart("Doxycycline 100 mg", times='["23:00"]', days='["sun"]')
        + keep_apart("zinc", supplement='"zinc"')
        + keep_apart("my pills", **{"with": '["lunch"]'})
    )
    result = run_cli(tmp_path, mgremind, text, "check")
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("Keep apart", 1)[1].split("\n\n", 1)[0]
    lines = {line.split()[0]: line for line in section.splitlines()[1:]}
    assert set(lines) == {"levothyroxine", "Doxycycline", "zinc", "my"}
    # levothyroxine: 4 h / 4 h from its label (LABEL).
    assert "06:30" in lines["levothyroxine"]
    assert "take magnesium at least 4 h before or after it" in lines["levothyroxine"]
    assert "LABEL" in lines["levothyroxine"]
    # doxycycline: the tetracyclines' 3 h (SMPC), on Sundays only.
    assert "take magnesium at least 3 h before or after it" in lines["Doxycycline"]
    assert "SMPC: tetracyclines" in lines["Doxycycline"]
    assert "sun" in lines["Doxycycline"]
    # zinc: 2 h each by convention (no published interval); an unknown name: the general SMPC advice.
    for name in ("zinc", "my"):
        assert "take magnesium at least 2 h before or after it" in lines[name]
    assert "(convention: zinc, no published interval)" in lines["zinc"]
    assert reference.DEFAULT_INTERVAL_SOURCE in lines["my"]
    assert "lunch" in lines["my"]


# ---------------------------------------------------------------------------- names as people write them (SPEC §7 v2)


# written → (the medicine it stands for, before h, after h). The names: SPEC §7 v2 and the "Names
# people write" table of magnesium-facts.md; the hours: its LABEL table (ciprofloxacin 6/2,
# levofloxacin 2/2, moxifloxacin 8/4, levothyroxine 4/4, dolutegravir 6/2) and the SMPC classes
# (bisphosphonates 4 h, tetracyclines 3 h, iron 4 h).
WRITTEN_NAMES = {
    "Synthroid": ("levothyroxine", 4, 4),
    "Euthyrox": ("levothyroxine", 4, 4),
    "Levoxyl": ("levothyroxine", 4, 4),
    "Tirosint": ("levothyroxine", 4, 4),
    "Eltroxin": ("levothyroxine", 4, 4),
    "L-thyroxine": ("levothyroxine", 4, 4),
    "Cipro": ("ciprofloxacin", 6, 2),
    "Ciproxin": ("ciprofloxacin", 6, 2),
    "Levaquin": ("levofloxacin", 2, 2),
    "Tavanic": ("levofloxacin", 2, 2),
    "Avelox": ("moxifloxacin", 8, 4),
    "Tivicay": ("dolutegravir", 6, 2),
    "Triumeq": ("dolutegravir", 6, 2),
    "Dovato": ("dolutegravir", 6, 2),
    "Juluca": ("dolutegravir", 6, 2),
    "Fosamax": ("alendronate", 4, 4),
    "alendronic acid": ("alendronate", 4, 4),
    "Actonel": ("risedronate", 4, 4),
    "Vibramycin": ("doxycycline", 3, 3),
    "Minocin": ("minocycline", 3, 3),
    "ferrous fumarate": ("iron", 4, 4),
    "ferric maltol": ("iron", 4, 4),
    "ferric": ("iron", 4, 4),  # SPEC: "ferrous or ferric salts → iron"
}


@pytest.mark.parametrize("written", sorted(WRITTEN_NAMES))
def test_brand_names_and_synonyms_take_their_medicines_interval(written: str) -> None:
    medicine, before, after = WRITTEN_NAMES[written]
    interval = find_interval(written)
    assert interval is not None, written
    assert (interval.before_hours, interval.after_hours) == (before, after)
    # check says what the name was read as, and where that reading comes from.
    assert f"{written} = {medicine}" in interval.source
    assert interval.source.startswith(("NAMES: ", "SPEC §7: "))


def test_every_brand_stands_for_a_medicine_of_the_table_and_names_its_source() -> None:
    names = {name for interval in reference.INTERVALS for name in interval.names}
    for entry in reference.MEDICINE_NAMES:
        assert entry.means in names, entry
        assert entry.source in ("NAMES", "SPEC §7"), entry


@pytest.mark.parametrize(
    ("written", "medicine"),
    [
        ("l thyroxine", "levothyroxine"),
        ("LTHYROXINE", "levothyroxine"),
        ("L - Thyroxine 50 mcg", "levothyroxine"),
        ("levo-thyroxine", "levothyroxine"),
        ("Alendronic-Acid", "alendronate"),
        ("alendronicacid 70mg", "alendronate"),
        ("CIPRO 500 mg", "ciprofloxacin"),
        ("Doxycycline100mg", "doxycycline"),
    ],
)
def test_matching_ignores_case_spaces_and_hyphens(written: str, medicine: str) -> None:
    interval = find_interval(written)
    assert interval is not None, written
    expected = find_interval(medicine)
    assert expected is not None
    assert (interval.before_hours, interval.after_hours) == (expected.before_hours, expected.after_hours)


@st.composite
def written_differently(draw: st.DrawFn) -> tuple[str, str]:
    """A name of WRITTEN_NAMES with each letter's case drawn, and spaces or hyphens put between letters."""
    name = draw(st.sampled_from(sorted(WRITTEN_NAMES)))
    letters = [char for char in name if char not in " -"]
    text = ""
    for index, char in enumerate(letters):
        text += char.upper() if draw(st.booleans()) else char.lower()
        if index < len(letters) - 1:
            text += draw(st.sampled_from(["", "", "", " ", "-", " - "]))
    return name, text


@settings(max_examples=300, deadline=None)
@given(written_differently())
def test_any_case_spacing_or_hyphenation_of_a_name_finds_the_same_medicine(case: tuple[str, str]) -> None:
    name, text = case
    _, before, after = WRITTEN_NAMES[name]
    interval = find_interval(text)
    assert interval is not None, text
    assert (interval.before_hours, interval.after_hours) == (before, after), text


def test_a_known_name_inside_a_longer_word_is_not_that_medicine() -> None:
    # "iron" in spironolactone, "Cipro" in ciprofibrate: other medicines, which the table does not hold.
    assert find_interval("spironolactone") is None
    assert find_interval("Ciprofibrate") is None


def test_a_class_word_the_reference_gives_no_interval_is_not_mapped() -> None:
    # magnesium-facts.md gives each quinolone its own label row (6/2, 2/2, 8/4) and no interval for
    # the class: "quinolone" is not guessed as any of them.
    assert find_interval("quinolone") is None
    assert find_interval("Quinolones") is None
    # Classes the SMPC gives an interval do map: tetracyclines 3 h, bisphosphonates 4 h.
    tetracyclines = find_interval("tetracyclines")
    assert tetracyclines is not None
    assert (tetracyclines.before_hours, tetracyclines.after_hours) == (3, 3)


def test_a_name_holding_two_medicines_keeps_the_longer_side_of_each() -> None:
    # Cipro (ciprofloxacin: 6 h before, 2 h after) and iron (4 h, 4 h):
    # before = max(6, 4) = 6 h, after = max(2, 4) = 4 h.
    interval = find_interval("Cipro + iron")
    assert interval is not None
    assert (interval.before_hours, interval.after_hours) == (6, 4)


def test_zincs_two_hours_are_shown_as_a_convention_not_a_label() -> None:
    # magnesium-facts.md: "No published interval between magnesium and zinc was found; 2 h is a
    # convention, not a label."
    zinc = find_interval("Zinc picolinate")
    assert zinc is not None
    assert (zinc.before_hours, zinc.after_hours) == (2, 2)
    assert zinc.cited == "convention: zinc, no published interval"
    assert "LABEL" not in zinc.cited
    assert "SMPC" not in zinc.cited


def test_cipro_by_its_brand_name_keeps_magnesium_6_h_before_it() -> None:
    config = config_from(
        meal("breakfast", "07:00")
        + meal("lunch", "12:30")
        + meal("dinner", "18:00")
        + citrate(100)
        + magnesium(300, phytate='"delay"')
        + keep_apart("Cipro", times='["20:00"]')
    )
    # Cipro = ciprofloxacin: 6 h before, 2 h after → window (14:00, 22:00), which holds dinner 18:00.
    # (Read as unknown, 2 h each, the window (18:00, 22:00) would leave dinner on its open edge:
    # magnesium at 18:00, 2 h before the dose.) Delay: dinner's magnesium at the window's end, 22:00.
    # Slots breakfast 07:00, lunch 12:30, dinner+delay 22:00; T = 300 → 100 each.
    plan = plan_day(config, MON)
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100}),
        ("2026-11-23/dinner+delay", "22:00", {"citrate": 100}),
    ]
    assert only(plan, "2026-11-23/dinner+delay").notes == (
        "not with dinner: Cipro 20:00, take magnesium at least 6 h before or 2 h after it",
    )
    assert config.warnings == ()


def test_check_warns_about_a_name_it_does_not_know(tmp_path: Path, mgremind: Mgremind) -> None:
    text = (
        'timezone = "UTC"\n'
        + THREE_MEALS
        + citrate()
        + magnesium(300)
        + keep_apart("Synthroid", times='["06:30"]')
        + keep_apart("metformin", times='["15:00"]')  # (13:00, 17:00) holds no meal
    )
    result = run_cli(tmp_path, mgremind, text, "check")
    assert result.returncode == 0, result.stderr
    warnings = result.stdout.split("\nWarnings\n", 1)[1].splitlines()
    # SPEC §7 v2's text, at the key of the name; Synthroid is known (levothyroxine) and says nothing.
    assert warnings == [
        "  ! keep_apart[1].name: metformin: not in mgremind's table; keeping magnesium 2 h before and after"
        " — set before/after from its leaflet"
    ]
    assert "(NAMES: Synthroid = levothyroxine; LABEL: levothyroxine)" in result.stdout


# ---------------------------------------------------------------------------- windows read from the magnesium's side


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # SPEC §7 v2's own example: ciprofloxacin, before 6 h, after 2 h.
        (6 * H, 2 * H, "take magnesium at least 6 h before or 2 h after ciprofloxacin"),
        (4 * H, 4 * H, "take magnesium at least 4 h before or after ciprofloxacin"),
        # before 0: magnesium may come right up to the dose; after 1 h 30 min.
        (
            dt.timedelta(0),
            dt.timedelta(hours=1, minutes=30),
            "take magnesium any time before ciprofloxacin, or at least 1 h 30 min after it",
        ),
        (
            dt.timedelta(minutes=45),
            dt.timedelta(0),
            "take magnesium at least 45 min before ciprofloxacin, or any time after it",
        ),
        (dt.timedelta(0), dt.timedelta(0), "magnesium is not kept apart from ciprofloxacin (before and after are 0)"),
        # Given in seconds ("90s", "30s"): 90 s = 1 min 30 s; never "0 min".
        (
            dt.timedelta(seconds=90),
            dt.timedelta(seconds=30),
            "take magnesium at least 1 min 30 s before or 30 s after ciprofloxacin",
        ),
    ],
)
def test_a_window_reads_from_the_magnesiums_side(before: dt.timedelta, after: dt.timedelta, expected: str) -> None:
    assert reference.window_text(before, after, "ciprofloxacin") == expected


def test_check_shows_one_sided_and_empty_windows_without_a_zero(tmp_path: Path, mgremind: Mgremind) -> None:
    text = (
        'timezone = "UTC"\n'
        + THREE_MEALS
        + citrate()
        + magnesium(300)
        + keep_apart("eye drops", times='["09:00"]', before='"0m"', after='"0m"')
        + keep_apart("my pills", times='["12:00"]', before='"0m"', after='"1h30m"')
    )
    result = run_cli(tmp_path, mgremind, text, "check")
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("Keep apart", 1)[1].split("\n\n", 1)[0]
    assert "magnesium is not kept apart from it (before and after are 0)" in section
    assert "take magnesium any time before it, or at least 1 h 30 min after it" in section
    assert " 0 min" not in section
    assert "0m" not in section
    # Both sides set by the user: no warning about the unknown names.
    assert "Warnings" not in result.stdout


# ---------------------------------------------------------------------------- move and delay


def test_a_window_blocks_breakfast_under_move() -> None:
    config = config_from(
        THREE_MEALS + citrate(100) + fixed("vitd", "vitamin D", "breakfast") + magnesium(300) + LEVOTHYROXINE
    )
    plan = plan_day(config, MON)
    # Window: 06:30 − 4h = 02:30 < t < 06:30 + 4h = 10:30 (Sunday's and Tuesday's windows end/start
    # on those days). Breakfast 07:00 is inside → no magnesium; lunch 12:30 and dinner 18:30 are not.
    # T = 300, steps of 100 over lunch, dinner: l 100, d 100, tie → l 200 (= max 200).
    # Vitamin D is not magnesium: it stays at breakfast.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"vitd": None}),
        ("2026-11-23/lunch", "12:30", {"citrate": 200}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    assert plan.magnesium_mg == 300
    assert plan.warnings == ()
    breakfast = only(plan, "2026-11-23/breakfast")
    assert breakfast.magnesium_mg == 0
    assert any(LEVO_NOTE in note for note in breakfast.notes), breakfast.notes


def test_a_window_blocks_breakfast_under_delay() -> None:
    config = config_from(
        '[reminders]\nlead = "15m"\n\n'
        + THREE_MEALS
        + citrate(100)
        + fixed("vitd", "vitamin D", "breakfast")
        + magnesium(300, phytate='"delay"')
        + LEVOTHYROXINE
    )
    plan = plan_day(config, MON)
    # Window (02:30, 10:30) holds breakfast 07:00; the first instant after 07:00 outside it is its
    # end, 10:30 (the window is open). Slots: breakfast+delay 10:30, lunch 12:30, dinner 18:30 →
    # 3 steps, 100 each. Meal reminders at time − 15m (06:45, 12:15, 18:15), the delayed one at 10:30.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "06:45", {"vitd": None}),
        ("2026-11-23/breakfast+delay", "10:30", {"citrate": 100}),
        ("2026-11-23/lunch", "12:15", {"citrate": 100}),
        ("2026-11-23/dinner", "18:15", {"citrate": 100}),
    ]
    delayed = only(plan, "2026-11-23/breakfast+delay")
    assert delayed.delayed is True
    assert delayed.meal == "breakfast"
    assert delayed.notes == (f"not with breakfast: {LEVO_NOTE}",)
    assert plan.warnings == ()


def test_fixed_magnesium_of_a_blocked_meal_under_move_is_taken_clear_of_the_window() -> None:
    config = config_from(
        THREE_MEALS
        + fixed("glycinate", "magnesium", "breakfast", mg=100)
        + citrate(100)
        + magnesium(300)
        + LEVOTHYROXINE
    )
    # Like a phytate-rich meal's: the glycinate leaves breakfast (07:00, inside (02:30, 10:30)) for the
    # first free instant, 10:30. R = 300 − 100 = 200 → 2 steps over lunch and dinner (under move the
    # delayed slot takes no small doses): 100 each.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast+delay", "10:30", {"glycinate": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]


def test_before_and_after_are_asymmetric() -> None:
    config = config_from(
        meal("early", "06:00")
        + meal("breakfast", "07:00")
        + meal("afternoon", "15:00")
        + meal("dinner", "19:00")
        + citrate(100)
        + magnesium(400, phytate='"delay"')
        + keep_apart("ciprofloxacin", times='["12:00"]')
    )
    assert (config.keep_apart[0].before, config.keep_apart[0].after) == (6 * H, 2 * H)
    plan = plan_day(config, MON)
    # Window: 12:00 − 6h = 06:00 < t < 12:00 + 2h = 14:00. early 06:00 is on the edge → free;
    # breakfast 07:00 (5 h before) is inside → delayed to 14:00; afternoon 15:00 (3 h after) is free.
    # (Sides swapped, (10:00, 18:00), breakfast would be free and the afternoon blocked.)
    # Slots early, breakfast+delay, afternoon, dinner; T = 400 → 4 steps, 100 each.
    assert layout(plan) == [
        ("2026-11-23/early", "06:00", {"citrate": 100}),
        ("2026-11-23/breakfast+delay", "14:00", {"citrate": 100}),
        ("2026-11-23/afternoon", "15:00", {"citrate": 100}),
        ("2026-11-23/dinner", "19:00", {"citrate": 100}),
    ]
    assert only(plan, "2026-11-23/breakfast+delay").notes == (
        # before 6 h, after 2 h: magnesium at least 6 h before the dose or 2 h after it.
        "not with breakfast: ciprofloxacin 12:00, take magnesium at least 6 h before or 2 h after it",
    )


def test_a_window_from_the_previous_evening_reaches_past_midnight() -> None:
    meals = meal("night", "01:00") + meal("breakfast", "08:00") + meal("dinner", "19:00")
    doxycycline = keep_apart("doxycycline", times='["23:00"]', days='["sun"]')  # tetracyclines: 3 h
    delay = config_from(meals + citrate(100) + magnesium(300, phytate='"delay"') + doxycycline)
    # Sunday 23:00 dose: window (Sun 20:00, Mon 02:00). Monday's night meal at 01:00 is inside →
    # delayed to 02:00. Slots night+delay 02:00, breakfast 08:00, dinner 19:00 → 100 each.
    monday = plan_day(delay, MON)
    assert layout(monday) == [
        ("2026-11-23/night+delay", "02:00", {"citrate": 100}),
        ("2026-11-23/breakfast", "08:00", {"citrate": 100}),
        ("2026-11-23/dinner", "19:00", {"citrate": 100}),
    ]
    assert only(monday, "2026-11-23/night+delay").notes == (
        "not with night: doxycycline 23:00, take magnesium at least 3 h before or after it",
    )
    # Tuesday: no dose on Monday → the night meal is free again.
    assert layout(plan_day(delay, TUE)) == [
        ("2026-11-24/night", "01:00", {"citrate": 100}),
        ("2026-11-24/breakfast", "08:00", {"citrate": 100}),
        ("2026-11-24/dinner", "19:00", {"citrate": 100}),
    ]
    # Sunday itself: no dose on Saturday (night free); the 23:00 window starts at 20:00, after dinner 19:00.
    assert layout(plan_day(delay, SUN)) == [
        ("2026-11-22/night", "01:00", {"citrate": 100}),
        ("2026-11-22/breakfast", "08:00", {"citrate": 100}),
        ("2026-11-22/dinner", "19:00", {"citrate": 100}),
    ]
    # Under move Monday's night meal gets nothing: b 100, d 100, tie → b 200.
    move = config_from(meals + citrate(100) + magnesium(300) + doxycycline)
    assert layout(plan_day(move, MON)) == [
        ("2026-11-23/breakfast", "08:00", {"citrate": 200}),
        ("2026-11-23/dinner", "19:00", {"citrate": 100}),
    ]


def test_a_window_from_the_next_morning_reaches_back_before_midnight_and_drops_the_delayed_dose() -> None:
    config = config_from(
        meal("breakfast", "08:00")
        + meal("dinner", "18:00")
        + meal("late", "22:00")
        + citrate(100)
        + magnesium(300, phytate='"delay"')
        + keep_apart("iron", times='["00:30"]', days='["tue"]')  # iron: 4 h (SMPC)
    )
    monday = plan_day(config, MON)
    # Tuesday 00:30 dose: window (Mon 20:30, Tue 04:30) holds Monday's late meal at 22:00. The first
    # free instant after it is Tue 04:30: not the same day → dropped with a warning. Slots breakfast,
    # dinner: b 100, d 100, tie → b 200 (T = 300 still reached).
    assert layout(monday) == [
        ("2026-11-23/breakfast", "08:00", {"citrate": 200}),
        ("2026-11-23/dinner", "18:00", {"citrate": 100}),
    ]
    assert monday.magnesium_mg == 300
    assert len(monday.warnings) == 1
    assert "late" in monday.warnings[0]
    assert "iron 00:30" in monday.warnings[0]
    # Tuesday: its own dose's window ended at 04:30, Wednesday has none: three free slots, 100 each.
    assert layout(plan_day(config, TUE)) == [
        ("2026-11-24/breakfast", "08:00", {"citrate": 100}),
        ("2026-11-24/dinner", "18:00", {"citrate": 100}),
        ("2026-11-24/late", "22:00", {"citrate": 100}),
    ]


def test_overlapping_windows_push_the_delayed_dose_past_all_of_them_and_move_falls_back_to_delay() -> None:
    config = config_from(
        THREE_MEALS
        + citrate(100)
        + magnesium(300)  # move
        + LEVOTHYROXINE  # (02:30, 10:30)
        + keep_apart("doxycycline", times='["08:00", "20:00"]')  # (05:00, 11:00), (17:00, 23:00)
        + keep_apart("iron", **{"with": '["lunch"]'})  # lunch 12:30 ± 4h: (08:30, 16:30)
    )
    plan = plan_day(config, MON)
    # Every meal is blocked (b 07:00 by three windows, l 12:30 by iron, d 18:30 by doxycycline 20:00):
    # move would leave no slot → delay, with a warning.
    # breakfast: 07:00 → 10:30 (levo end) → inside doxy (05:00, 11:00) → 11:00 → inside iron → 16:30,
    #   outside (17:00, 23:00) → 16:30.  lunch: 12:30 → 16:30.  dinner: 18:30 → 23:00 (same day).
    # 3 steps of 100 → one each.
    assert layout(plan) == [
        ("2026-11-23/breakfast+delay", "16:30", {"citrate": 100}),
        ("2026-11-23/lunch+delay", "16:30", {"citrate": 100}),
        ("2026-11-23/dinner+delay", "23:00", {"citrate": 100}),
    ]
    assert len(plan.warnings) == 1
    assert "every meal" in plan.warnings[0]


def test_a_blocked_slot_that_is_also_phytate_rich() -> None:
    meals = meal("breakfast", "07:00", foods=("oatmeal",)) + meal("lunch", "12:30") + meal("dinner", "18:30")
    config = config_from(meals + citrate(100) + magnesium(300, phytate='"delay"') + LEVOTHYROXINE)
    plan = plan_day(config, MON)
    # Delay: meal + phytate_gap = 09:00 lies in the levothyroxine window (02:30, 10:30) → 10:30
    # (outside the phytate window [07:00, 09:00) too). Slots 10:30, 12:30, 18:30 → 100 each.
    assert layout(plan) == [
        ("2026-11-23/breakfast+delay", "10:30", {"citrate": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    notes = only(plan, "2026-11-23/breakfast+delay").notes
    assert any("oatmeal" in note for note in notes), notes
    assert f"not with breakfast: {LEVO_NOTE}" in notes
    # A gap of 4h: meal + gap = 11:00 is past the window → 11:00 (not pulled back to 10:30).
    longer = config_from(meals + citrate(100) + magnesium(300, phytate='"delay"', phytate_gap='"4h"') + LEVOTHYROXINE)
    assert layout(plan_day(longer, MON))[0] == ("2026-11-23/breakfast+delay", "11:00", {"citrate": 100})
    # Move: breakfast takes nothing; l 100, d 100, tie → l 200.
    move = config_from(meals + citrate(100) + magnesium(300) + LEVOTHYROXINE)
    assert layout(plan_day(move, MON)) == [
        ("2026-11-23/lunch", "12:30", {"citrate": 200}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]


def test_a_delayed_dose_also_stays_out_of_phytate_windows() -> None:
    config = config_from(
        meal("early", "05:00", foods=("muesli",))
        + meal("breakfast", "07:00")
        + meal("dinner", "18:00")
        + citrate(100)
        + magnesium(300, phytate='"delay"', phytate_gap='"6h"')
        + keep_apart("levothyroxine", times='["06:30"]', before='"1h"', after='"4h"')
    )
    plan = plan_day(config, MON)
    # Medicine window (05:30, 10:30); early (05:00, muesli) is outside it, its phytate window is
    # [05:00, 11:00) and its delayed slot 05:00 + 6h = 11:00 (outside the medicine window).
    # Breakfast 07:00 is blocked: 10:30 ends the medicine window but lies in early's phytate
    # window → 11:00. Slots early+delay 11:00, breakfast+delay 11:00, dinner 18:00 → 100 each.
    assert sorted(layout(plan)) == [
        ("2026-11-23/breakfast+delay", "11:00", {"citrate": 100}),
        ("2026-11-23/dinner", "18:00", {"citrate": 100}),
        ("2026-11-23/early+delay", "11:00", {"citrate": 100}),
    ]


def test_a_phytate_delayed_dose_pushed_on_by_a_medicine_window_says_so() -> None:
    config = config_from(
        meal("breakfast", "07:00", foods=("oatmeal",))
        + meal("dinner", "18:30")
        + citrate(100)
        + magnesium(200, phytate='"delay"')
        + keep_apart("doxycycline", times='["11:00"]')  # 3 h: (08:00, 14:00)
    )
    plan = plan_day(config, MON)
    # Breakfast 07:00 is outside the window; its phytate-delayed slot 09:00 is inside → 14:00.
    assert layout(plan) == [
        ("2026-11-23/breakfast+delay", "14:00", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    # SPEC §7: the reminder says why it is where it is: the oatmeal moved it to 09:00, and the
    # doxycycline on to 14:00; a person told only "oatmeal" would take it at 09:00.
    notes = only(plan, "2026-11-23/breakfast+delay").notes
    assert any("oatmeal" in note for note in notes), notes
    assert any("doxycycline 11:00" in note for note in notes), notes


# ---------------------------------------------------------------------------- slow release


def test_slow_release_skips_a_blocked_slot() -> None:
    meals = meal("breakfast", "07:00") + meal("lunch", "11:00") + meal("dinner", "19:00")
    # Without a medicine: 07:00, then the first slot ≥ 15:00 → dinner 19:00.
    plain = config_from(meals + slow(84) + magnesium(168))
    assert layout(plan_day(plain, MON)) == [
        ("2026-11-23/breakfast", "07:00", {"sr": 84}),
        ("2026-11-23/dinner", "19:00", {"sr": 84}),
    ]
    # Move: breakfast (inside (02:30, 10:30)) is skipped: lunch 11:00, then ≥ 19:00 → dinner 19:00.
    move = config_from(meals + slow(84) + magnesium(168) + LEVOTHYROXINE)
    assert layout(plan_day(move, MON)) == [
        ("2026-11-23/lunch", "11:00", {"sr": 84}),
        ("2026-11-23/dinner", "19:00", {"sr": 84}),
    ]
    # Delay: slots breakfast+delay 10:30, lunch 11:00, dinner 19:00: 10:30, then ≥ 18:30 → 19:00.
    delay = config_from(meals + slow(84) + magnesium(168, phytate='"delay"') + LEVOTHYROXINE)
    assert layout(plan_day(delay, MON)) == [
        ("2026-11-23/breakfast+delay", "10:30", {"sr": 84}),
        ("2026-11-23/dinner", "19:00", {"sr": 84}),
    ]


def test_a_weekday_that_cannot_hold_the_slow_release_doses_fails_check() -> None:
    meals = meal("breakfast", "07:00") + meal("dinner", "16:00")  # 9 h apart: room for 8h
    wednesday_pill = keep_apart("levothyroxine", times='["15:00"]', days='["wed"]')
    problems = errors_of(meals + slow(84) + magnesium(168) + wednesday_pill)
    # Wednesday's window (11:00, 19:00) holds dinner 16:00; under move only breakfast remains:
    # one slot for two doses 8h apart. No other day is touched: the window lies within Wednesday.
    assert list(problems) == ["supplement[0].doses_per_day"]
    message = problems["supplement[0].doses_per_day"]
    assert "Wednesday" in message
    for other in ("Monday", "Tuesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert other not in message
    assert "8h" in message  # the gap
    assert "levothyroxine 15:00, take magnesium at least 4 h before or after it" in message  # the window
    assert "dinner" in message
    # Under delay dinner's magnesium goes to 19:00: 07:00 → 19:00 is 12 h ≥ 8h, so Wednesday holds both.
    delay = config_from(meals + slow(84) + magnesium(168, phytate='"delay"') + wednesday_pill)
    assert layout(plan_day(delay, WED)) == [
        ("2026-11-25/breakfast", "07:00", {"sr": 84}),
        ("2026-11-25/dinner+delay", "19:00", {"sr": 84}),
    ]


def test_check_names_the_weekday_that_cannot_hold_the_slow_release_doses(tmp_path: Path, mgremind: Mgremind) -> None:
    text = (
        meal("breakfast", "07:00")
        + meal("dinner", "16:00")
        + slow(84)
        + magnesium(168)
        + keep_apart("levothyroxine", times='["15:00"]', days='["wed"]')
    )
    result = run_cli(tmp_path, mgremind, 'timezone = "UTC"\n' + text, "check")
    assert result.returncode == 2
    assert "supplement[0].doses_per_day" in result.stderr
    assert "Wednesday" in result.stderr
    assert "levothyroxine 15:00" in result.stderr


# ---------------------------------------------------------------------------- calcium, kinds, days


def test_the_paired_calcium_moves_with_the_magnesium() -> None:
    text = THREE_MEALS + citrate(100) + calcium(100) + LEVOTHYROXINE
    # Ratio 1.0, calcium steps of 100 mg: 100 mg Mg → 1 tablet (100 mg), 200 → 2 tablets (200 mg).
    delay = config_from(text + magnesium(300, phytate='"delay"', calcium_ratio="1.0"))
    plan = plan_day(delay, MON)
    # Delay: magnesium 100 at 10:30, 12:30, 18:30 and the calcium with it; none at 07:00.
    assert layout(plan) == [
        ("2026-11-23/breakfast+delay", "10:30", {"citrate": 100, "calcium": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100, "calcium": 100}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100, "calcium": 100}),
    ]
    assert plan.calcium_mg == 300
    # Move: l 200 → calcium 200, d 100 → 100; breakfast carries neither.
    move = config_from(text + magnesium(300, calcium_ratio="1.0"))
    assert layout(plan_day(move, MON)) == [
        ("2026-11-23/lunch", "12:30", {"citrate": 200, "calcium": 200}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100, "calcium": 100}),
    ]


def test_a_medicine_taken_with_a_meal_follows_that_meal_on_each_weekday() -> None:
    config = config_from(
        meal("breakfast", "08:00")
        + meal("lunch", "12:00", days='["mon", "tue", "wed", "thu", "fri"]')
        + meal("lunch", "11:00", days='["sat", "sun"]')
        + meal("dinner", "18:00")
        + citrate(100)
        + magnesium(200)
        + keep_apart("iron", **{"with": '["lunch"]'})  # 4 h
    )
    # Monday: lunch 12:00 → window (08:00, 16:00): breakfast 08:00 on the edge (free), lunch blocked,
    # dinner free. b 100, d 100.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/breakfast", "08:00", {"citrate": 100}),
        ("2026-11-23/dinner", "18:00", {"citrate": 100}),
    ]
    # Saturday: lunch 11:00 → window (07:00, 15:00) also holds breakfast 08:00. Only dinner: d 100, d 200.
    assert layout(plan_day(config, SAT)) == [("2026-11-28/dinner", "18:00", {"citrate": 200})]


def test_a_medicine_that_is_a_supplement_of_the_plan_keeps_its_meal() -> None:
    config = config_from(
        THREE_MEALS + citrate(100) + fixed("zinc", "zinc", "dinner") + magnesium(300, phytate='"delay"')
        + keep_apart("zinc", supplement='"zinc"')
    )  # fmt: skip
    plan = plan_day(config, MON)
    # Zinc with dinner 18:30, 2 h each (no reference interval): window (16:30, 20:30) holds dinner.
    # Zinc stays at dinner (not magnesium); dinner's magnesium goes to 20:30. 3 steps → 100 each.
    assert layout(plan) == [
        ("2026-11-23/breakfast", "07:00", {"citrate": 100}),
        ("2026-11-23/lunch", "12:30", {"citrate": 100}),
        ("2026-11-23/dinner", "18:30", {"zinc": None}),
        ("2026-11-23/dinner+delay", "20:30", {"citrate": 100}),
    ]
    zinc_note = "zinc 18:30, take magnesium at least 2 h before or after it"
    assert only(plan, "2026-11-23/dinner+delay").notes == (f"not with dinner: {zinc_note}",)
    assert any(zinc_note in note for note in only(plan, "2026-11-23/dinner").notes)


def test_days_limit_a_medicine_to_its_weekdays() -> None:
    config = config_from(
        THREE_MEALS + citrate(100) + magnesium(300) + keep_apart("levothyroxine", times='["06:30"]', days='["mon"]')
    )
    # Monday: breakfast blocked (move) → l 200, d 100.
    assert layout(plan_day(config, MON)) == [
        ("2026-11-23/lunch", "12:30", {"citrate": 200}),
        ("2026-11-23/dinner", "18:30", {"citrate": 100}),
    ]
    # Tuesday and Sunday: no window reaches 07:00 (Monday's is (Mon 02:30, Mon 10:30)) → 100 each.
    for day in (SUN, TUE):
        assert [(at, mg) for _, at, mg in layout(plan_day(config, day))] == [
            ("07:00", {"citrate": 100}),
            ("12:30", {"citrate": 100}),
            ("18:30", {"citrate": 100}),
        ]


# ---------------------------------------------------------------------------- what people see


DELAY_TEXT = (
    'timezone = "Europe/Berlin"\n'
    + THREE_MEALS
    + citrate(100)
    + fixed("vitd", "vitamin D", "breakfast")
    + magnesium(300, phytate='"delay"')
    + LEVOTHYROXINE
)


def test_the_reason_is_in_the_notification_text() -> None:
    config = config_from(DELAY_TEXT)
    plan = plan_day(config, MON)
    title, body = notification(config, only(plan, "2026-11-23/breakfast+delay"))
    assert "breakfast" in title
    assert body.splitlines() == ["Magnesium citrate: 1 capsule (100 mg)", f"not with breakfast: {LEVO_NOTE}"]
    # Under move the meal's own reminder (vitamin D) says why it carries no magnesium.
    move = config_from(DELAY_TEXT.replace('phytate = "delay"\n', ""))
    _, body = notification(move, only(plan_day(move, MON), "2026-11-23/breakfast"))
    assert body.splitlines()[0] == "vitd: 1 tablet"
    assert any(LEVO_NOTE in line for line in body.splitlines()[1:]), body


def test_the_reason_is_in_plan_json(tmp_path: Path, mgremind: Mgremind) -> None:
    result = run_cli(tmp_path, mgremind, DELAY_TEXT, "plan", "--from", "2026-11-23", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    reminders = {r["id"]: r for r in data["days"][0]["reminders"]}
    # Berlin in November is at +01:00; the window (02:30, 10:30) local, so 10:30 local.
    delayed = reminders["2026-11-23/breakfast+delay"]
    assert delayed["at"] == "2026-11-23T10:30:00+01:00"
    assert delayed["delayed"] is True
    assert delayed["notes"] == [f"not with breakfast: {LEVO_NOTE}"]
    assert delayed["magnesium_mg"] == 100
    assert reminders["2026-11-23/breakfast"]["magnesium_mg"] == 0


def test_remind_true_adds_reminders_for_the_medicine_at_its_own_times() -> None:
    config = config_from(
        '[reminders]\nlead = "15m"\n\n'
        + THREE_MEALS
        + citrate(100)
        + fixed("zinc", "zinc", "dinner")
        + magnesium(300)
        + keep_apart("levothyroxine", times='["06:30"]', remind="true")
        + keep_apart("doxycycline", times='["08:00", "20:00"]', days='["mon"]', remind="true")
        + keep_apart("iron", remind="true", **{"with": '["lunch"]'})
        + keep_apart("zinc", supplement='"zinc"')  # not reminded: zinc has its own reminders
        + keep_apart("calcitriol", times='["09:00"]')  # remind defaults to false
    )
    monday = {r.id: r for r in plan_day(config, MON).reminders if "@" in r.id}
    # At the medicine's own times (lead is for meals): 06:30; 08:00 and 20:00 on Mondays; with lunch 12:30.
    assert {rid: r.at.strftime("%H:%M") for rid, r in monday.items()} == {
        "2026-11-23/levothyroxine@06:30": "06:30",
        "2026-11-23/doxycycline@08:00": "08:00",
        "2026-11-23/doxycycline@20:00": "20:00",
        "2026-11-23/iron@12:30": "12:30",
    }
    for reminder in monday.values():
        assert reminder.magnesium_mg == 0
        assert [item.supplement.name for item in reminder.items] == [reminder.id.split("/")[1].split("@")[0]]
    # Each says the window from the magnesium's side: levothyroxine 4 h / 4 h (LABEL), doxycycline
    # 3 h / 3 h and iron 4 h / 4 h (SMPC).
    assert monday["2026-11-23/levothyroxine@06:30"].notes == (
        "take magnesium at least 4 h before or after levothyroxine",
    )
    assert monday["2026-11-23/doxycycline@20:00"].notes == ("take magnesium at least 3 h before or after doxycycline",)
    tuesday = {r.id for r in plan_day(config, TUE).reminders if "@" in r.id}
    assert tuesday == {"2026-11-24/levothyroxine@06:30", "2026-11-24/iron@12:30"}


def test_a_medicine_reminder_id_is_never_given_twice_in_one_day() -> None:
    """Reminder ids are the daemon's key (SPEC §3): a time written twice, or one medicine written as
    two entries with the same time, must not give two reminders "DATE/iron@12:30". Rejecting the
    configuration (an error at the key) is as good as planning the reminder once."""
    texts = [
        keep_apart("levothyroxine", times='["06:30", "06:30"]', remind="true"),
        keep_apart("iron", times='["12:30"]', remind="true")
        + keep_apart("iron", remind="true", **{"with": '["lunch"]'}),
    ]
    for text in texts:
        try:
            config = config_from(THREE_MEALS + citrate(100) + magnesium(300) + text)
        except ConfigError as error:
            assert all(problem.key.startswith("keep_apart[") for problem in error.problems), error.lines()
            continue
        ids = [r.id for r in plan_day(config, MON).reminders]
        assert len(ids) == len(set(ids)), ids


# ---------------------------------------------------------------------------- validation


def test_keep_apart_errors_are_all_reported_with_their_key_paths() -> None:
    text = (
        meal("breakfast", "07:00")
        + citrate(100)
        + fixed("zinc", "zinc", "breakfast")
        + magnesium(100)
        + keep_apart("a")  # [0] none of times/with/supplement
        + keep_apart("b", times='["08:00"]', **{"with": '["breakfast"]'})  # [1] two of them
        + keep_apart("c", **{"with": '["brekfast"]'})  # [2] unknown meal
        + keep_apart("d", supplement='"zink"')  # [3] unknown supplement
        + keep_apart("e", supplement='"citrate"')  # [4] a magnesium supplement
        + keep_apart("f", times='["08:00"]', before='"4 hours"', after='"24h"')  # [5] bad durations
        + keep_apart("g", supplement='"zinc"', remind="true")  # [6] remind with supplement
        + keep_apart("h", times='["25:00"]')  # [7] not a time of day
        + keep_apart("i", times="[]")  # [8] empty
        + keep_apart("j", times='["08:00"]', befor='"1h"')  # [9] misspelt key
    )
    problems = errors_of(text)
    assert set(problems) == {
        "keep_apart[0]",
        "keep_apart[1]",
        "keep_apart[2].with[0]",
        "keep_apart[3].supplement",
        "keep_apart[4].supplement",
        "keep_apart[5].before",
        "keep_apart[5].after",
        "keep_apart[6].remind",
        "keep_apart[7].times[0]",
        "keep_apart[8].times",
        "keep_apart[9].befor",
    }
    assert "none" in problems["keep_apart[0]"]
    assert "times" in problems["keep_apart[1]"]
    assert "with" in problems["keep_apart[1]"]
    assert 'did you mean "breakfast"' in problems["keep_apart[2].with[0]"]
    assert 'did you mean "zinc"' in problems["keep_apart[3].supplement"]
    assert "magnesium" in problems["keep_apart[4].supplement"]
    assert "4 hours" in problems["keep_apart[5].before"]
    assert "24h" in problems["keep_apart[5].after"]
    assert "25:00" in problems["keep_apart[7].times[0]"]
    assert 'did you mean "before"' in problems["keep_apart[9].befor"]


def test_a_medicine_taken_on_no_day_is_an_error_like_a_meal_on_no_day() -> None:
    # days = [] would silently switch the window off (magnesium then lands next to the medicine);
    # a [[meal]] with days = [] is an error ("must name at least one day"), validated the same way.
    problems = errors_of(THREE_MEALS + citrate(100) + magnesium(300) + keep_apart("iron", times='["12:30"]', days="[]"))
    assert list(problems) == ["keep_apart[0].days"]


def test_keep_apart_errors_render_as_file_key_message_lines() -> None:
    with pytest.raises(ConfigError) as raised:
        config_from(
            meal("breakfast", "07:00") + citrate(100) + magnesium(100) + keep_apart("iron", **{"with": '["brekfast"]'})
        )
    assert raised.value.lines() == [
        'config.toml: keep_apart[0].with[0]: no meal named "brekfast" (did you mean "breakfast"?)'
    ]


# ---------------------------------------------------------------------------- properties


MEDICINES = {  # name → (before, after) in hours, from magnesium-facts.md (not from the code's table)
    "levothyroxine": (4, 4),
    "doxycycline": (3, 3),
    "ciprofloxacin": (6, 2),
    "moxifloxacin": (8, 4),
    "iron": (4, 4),
    "zinc": (2, 2),
    "methotrexate": (2, 2),
}
WINDOW_DURATIONS = {"0m": 0, "30m": 30, "1h": 60, "2h": 120, "3h": 180, "6h": 360, "10h": 600}  # minutes
MEAL_NAMES = ("breakfast", "brunch", "lunch", "tea", "dinner", "supper")
PHYTATE_GAPS = {"30m": 30, "2h": 120, "5h": 300}


@dataclass
class Medicine:
    name: str
    kind: str  # "times", "with" or "supplement"
    times: list[int]  # minutes after midnight (kind "times")
    meals: list[str]  # (kind "with")
    days: list[int]
    before: int  # minutes
    after: int


@dataclass
class Generated:
    text: str
    zone: ZoneInfo
    meals: dict[str, int]  # name → minutes after midnight (every meal every day)
    zinc_meal: str | None
    medicines: list[Medicine]
    daily_mg: int
    day: dt.date


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def generated(draw: st.DrawFn) -> Generated:
    count = draw(st.integers(1, 4))
    names = draw(st.permutations(MEAL_NAMES))[:count]
    minutes = draw(st.lists(st.integers(0, 287).map(lambda k: 5 * k), min_size=count, max_size=count, unique=True))
    meals = dict(zip(names, minutes, strict=True))
    zone = draw(st.sampled_from(["UTC", "Asia/Tokyo", "America/Sao_Paulo"]))  # no DST in 2026
    text = f'timezone = "{zone}"\n\n'
    text += f'[reminders]\nlead = "{draw(st.sampled_from(["0m", "20m"]))}"\n\n'
    for name, minute in meals.items():
        text += meal(name, _clock(minute), foods=("lentil soup",) if draw(st.booleans()) else ())
    text += citrate(draw(st.sampled_from([50, 100])))
    if draw(st.booleans()):
        text += slow(84, draw(st.integers(1, 2)))
    if draw(st.booleans()):
        text += fixed("glycinate", "magnesium", draw(st.sampled_from(names)), mg=60)
    zinc_meal = draw(st.sampled_from(names)) if draw(st.booleans()) else None
    if zinc_meal is not None:
        text += fixed("zinc", "zinc", zinc_meal)
    paired = draw(st.booleans())
    if paired:
        text += calcium(50)
    daily = draw(st.sampled_from([100, 200, 300, 450, 600]))
    text += magnesium(
        daily,
        phytate=f'"{draw(st.sampled_from(["move", "delay"]))}"',
        phytate_gap=f'"{draw(st.sampled_from(sorted(PHYTATE_GAPS)))}"',
        slow_release_gap='"4h"',
        calcium_ratio="1.0" if paired else "0",
    )
    medicines = []
    medicine_names = draw(st.lists(st.sampled_from(sorted(MEDICINES)), min_size=1, max_size=3, unique=True))
    for name in medicine_names:
        kinds = ["times", "with"] + (["supplement"] if zinc_meal is not None else [])
        kind = draw(st.sampled_from(kinds))
        fields: dict[str, str] = {}
        times: list[int] = []
        with_meals: list[str] = []
        if kind == "times":
            times = draw(st.lists(st.integers(0, 95).map(lambda k: 15 * k), min_size=1, max_size=2, unique=True))
            fields["times"] = json.dumps([_clock(m) for m in times])
        elif kind == "with":
            with_meals = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
            fields["with"] = json.dumps(with_meals)
        else:
            fields["supplement"] = '"zinc"'
            with_meals = [zinc_meal] if zinc_meal is not None else []
        days = list(range(7))
        if draw(st.booleans()):
            days = sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
            fields["days"] = json.dumps([("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in days])
        before, after = (60 * hours for hours in MEDICINES[name])
        if draw(st.booleans()):
            key = draw(st.sampled_from(sorted(WINDOW_DURATIONS)))
            fields["before"], before = f'"{key}"', WINDOW_DURATIONS[key]
        if draw(st.booleans()):
            key = draw(st.sampled_from(sorted(WINDOW_DURATIONS)))
            fields["after"], after = f'"{key}"', WINDOW_DURATIONS[key]
        if kind != "supplement" and draw(st.booleans()):
            fields["remind"] = "true"
        text += keep_apart(name, **fields)
        medicines.append(Medicine(name, kind, times, with_meals, days, before, after))
    day = dt.date(2026, 11, 23) + dt.timedelta(days=draw(st.integers(0, 6)))
    return Generated(text, ZoneInfo(zone), meals, zinc_meal, medicines, daily, day)


def oracle_windows(case: Generated) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every window (m − before, m + after) of a medicine taken the day before, that day or after.
    The zones have no DST in 2026, so a wall-clock time is one instant."""
    windows = []
    for medicine in case.medicines:
        for offset in (-1, 0, 1):
            day = case.day + dt.timedelta(days=offset)
            if day.weekday() not in medicine.days:
                continue
            minutes = medicine.times or [case.meals[name] for name in medicine.meals]
            for minute in minutes:
                taken = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=case.zone)
                windows.append(
                    (taken - dt.timedelta(minutes=medicine.before), taken + dt.timedelta(minutes=medicine.after))
                )
    return windows


def _config_or_reject(case: Generated) -> Config:
    try:
        return config_from(case.text)
    except ConfigError as error:
        # Only the planner's own checks may refuse a generated plan: a weekday too crowded for the
        # slow-release doses, or windows that leave no free instant on any day (no reminder at all).
        assert all(
            problem.key.endswith(".doses_per_day") or (problem.key == "" and "no reminder" in problem.message)
            for problem in error.problems
        ), error.lines()
        assume(False)
        raise  # unreachable: assume(False) raises


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(generated())
def test_no_magnesium_is_taken_inside_a_window_and_the_day_never_exceeds_its_target(case: Generated) -> None:
    config = _config_or_reject(case)
    plan = plan_day(config, case.day)
    windows = oracle_windows(case)
    for reminder in plan.reminders:
        if "@" in reminder.id:  # a medicine's own reminder carries no magnesium
            assert reminder.magnesium_mg == 0
            continue
        # When it is taken: a delayed reminder at its time, a meal reminder with its meal.
        minute = case.meals[reminder.meal]
        taken = (
            reminder.at
            if reminder.delayed
            else dt.datetime.combine(case.day, dt.time(minute // 60, minute % 60), tzinfo=case.zone)
        )
        carries = [item for item in reminder.items if item.supplement.nutrient in ("magnesium", "calcium")]
        carries = [item for item in carries if item.supplement.nutrient == "magnesium" or not item.supplement.is_fixed]
        if carries:
            inside = [(start, end) for start, end in windows if start < taken < end]
            assert not inside, (reminder.id, taken, inside)
        # Moved by a medicine, a dose stays on its day (SPEC §7); phytate_gap alone may cross midnight (§2).
        moved_by_medicine = any(not note.startswith("not with this meal") for note in reminder.notes)
        if reminder.delayed and moved_by_medicine:
            assert reminder.at.astimezone(case.zone).date() == case.day
    magnesium_ug = sum(round(r.magnesium_mg * 1000) for r in plan.reminders)
    assert magnesium_ug <= case.daily_mg * 1000
    assert plan.magnesium_mg <= case.daily_mg
