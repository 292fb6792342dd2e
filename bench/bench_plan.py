"""Benchmark of the planner (stdlib only); start-up is bench_startup.py's.

Run: .venv/bin/python bench/bench_plan.py    (or `make bench`)

Prints figures and a table with the goal next to each and PASS/MISS. A benchmark reports, it does
not assert: the exit status is 0 whatever the figures (tests assert behaviour, never time).

1. plan_days(config, start, 365) for config.example.toml, min/median of repeated runs.
2. The same for a generated large plan (20 meals, 20 supplements), and its ratio to 1.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mgremind.config.files import parse_toml
from mgremind.loader import load_config, parse_config
from mgremind.model import DayPlan
from mgremind.plan import plan_days

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"
START = dt.date(2026, 11, 20)  # the example's titration start; 365 days from it cross both DST changes
DAYS = 365
PLAN_WARMUP, PLAN_RUNS = 5, 30
PLAN_GOAL_MS = 20.0
Row = tuple[str, str, str, str]  # (measure, value, goal, PASS/MISS/info)

# A large plan: 20 meals over the day (some phytate-rich, some on some weekdays only) and 20
# supplements (4 slow-release magnesium that fit the 8 h spacing on every weekday, one splitting
# magnesium with a small step, a paired calcium, 14 fixed supplements of several nutrients).
# Every weekday has a non-phytate meal before 08:00 and one at least 8 h later (15:30 tea,
# 18:30 dinner), so `check` accepts the slow-release spacing.
LARGE_TOML = """\
timezone = "Europe/Berlin"

[notify]
title = "Magnesium"

[reminders]
lead = "10m"
catch_up = "2h"
retry_for = "30m"

[[meal]]
name = "wake"
time = "06:00"
days = ["mon", "tue", "wed", "thu", "fri"]
foods = ["coffee", "white toast"]

[[meal]]
name = "wake"
time = "08:00"
days = ["sat", "sun"]
foods = ["tea"]

[[meal]]
name = "breakfast"
time = "07:00"
days = ["mon", "tue", "wed", "thu", "fri"]
foods = ["yoghurt", "banana"]

[[meal]]
name = "breakfast"
time = "09:30"
days = ["sat", "sun"]
foods = ["scrambled eggs", "white toast"]

[[meal]]
name = "elevenses"
time = "09:00"
days = ["mon", "tue", "wed", "thu", "fri"]
foods = ["bran muffin"]                      # phytate: bran

[[meal]]
name = "snack"
time = "10:30"
foods = ["apple"]

[[meal]]
name = "brunch"
time = "11:00"
days = ["sun"]
foods = ["whole wheat pancakes"]             # phytate: whole wheat

[[meal]]
name = "lunch"
time = "12:30"
days = ["mon", "tue", "wed", "thu", "fri"]
foods = ["lentil soup", "white bread"]       # phytate: lentil

[[meal]]
name = "lunch"
time = "13:00"
days = ["sat", "sun"]
foods = ["grilled fish", "rice"]

[[meal]]
name = "nuts"
time = "14:00"
foods = ["almonds"]                          # phytate: almond

[[meal]]
name = "tea"
time = "15:30"
foods = ["biscuits"]

[[meal]]
name = "fruit"
time = "16:30"
days = ["mon", "wed", "fri"]
foods = ["peach"]

[[meal]]
name = "shake"
time = "17:00"
days = ["tue", "thu"]
foods = ["protein shake", "chia seeds"]      # phytate: chia

[[meal]]
name = "tacos"
time = "17:45"
days = ["sat"]
foods = ["black beans", "tortilla"]          # phytate: bean

[[meal]]
name = "dinner"
time = "18:30"
foods = ["fish", "potatoes", "salad"]

[[meal]]
name = "supper"
time = "20:00"
days = ["mon", "tue", "wed", "thu"]
foods = ["salad"]

[[meal]]
name = "supper"
time = "21:00"
days = ["fri", "sat", "sun"]
foods = ["pizza"]

[[meal]]
name = "dessert"
time = "20:30"
foods = ["hummus"]
phytate = false                              # explicit, wins over the foods

[[meal]]
name = "late snack"
time = "22:00"
foods = ["oatmeal cookie"]                   # phytate: oatmeal

[[meal]]
name = "night"
time = "23:00"
days = ["mon", "tue", "wed", "thu", "fri"]
foods = ["warm milk"]
phytate = true

[[supplement]]
id = "slow-lactate"
name = "Mag-Tab SR"
nutrient = "magnesium"
form = "lactate"
unit = "tablet"
mg_per_unit = 42
release = "slow"
doses_per_day = 2

[[supplement]]
id = "slow-chloride"
name = "Slow-Mag"
nutrient = "magnesium"
form = "chloride"
unit = "tablet"
mg_per_unit = 40
release = "slow"
doses_per_day = 2
units_per_dose = 1

[[supplement]]
id = "slow-once"
name = "Magnesium SR once daily"
nutrient = "magnesium"
unit = "capsule"
mg_per_unit = 30
release = "slow"
doses_per_day = 1

[[supplement]]
id = "slow-half"
name = "Magnesium SR scored"
nutrient = "magnesium"
unit = "tablet"
mg_per_unit = 12.5
release = "slow"
doses_per_day = 2
units_per_dose = 2

[[supplement]]
id = "citrate"
name = "Magnesium citrate powder"
nutrient = "magnesium"
form = "citrate"
unit = "scoop"
mg_per_unit = 40
step = 0.5                                   # 20 mg steps

[[supplement]]
id = "calcium"
name = "Calcium carbonate"
nutrient = "calcium"
form = "carbonate"
unit = "tablet"
mg_per_unit = 250
step = 0.5

[[supplement]]
id = "glycinate"
name = "Magnesium bisglycinate"
nutrient = "magnesium"
form = "glycinate"
unit = "capsule"
mg_per_unit = 50
with = ["breakfast"]
units = 1

[[supplement]]
id = "calcium-d"
name = "Calcium with D"
nutrient = "calcium"
unit = "tablet"
mg_per_unit = 200
with = ["supper"]
units = 1

[[supplement]]
id = "vitd"
name = "Vitamin D3"
nutrient = "vitamin D"
unit = "capsule"
with = ["dinner"]
units = 1

[[supplement]]
id = "bcomplex"
name = "B complex"
nutrient = "B complex"
unit = "tablet"
with = ["breakfast"]
units = 1

[[supplement]]
id = "omega3"
name = "Fish oil"
nutrient = "omega-3"
unit = "capsule"
mg_per_unit = 1000
with = ["lunch"]
units = 2

[[supplement]]
id = "zinc"
name = "Zinc picolinate"
nutrient = "zinc"
unit = "tablet"
mg_per_unit = 15
with = ["supper"]
units = 1

[[supplement]]
id = "iron"
name = "Iron bisglycinate"
nutrient = "iron"
unit = "capsule"
mg_per_unit = 18
with = ["lunch"]
units = 1

[[supplement]]
id = "vitc"
name = "Vitamin C"
nutrient = "vitamin C"
unit = "tablet"
mg_per_unit = 500
with = ["breakfast", "snack"]
units = 0.5

[[supplement]]
id = "k2"
name = "Vitamin K2"
nutrient = "vitamin K2"
unit = "drop"
with = ["dinner"]
units = 3

[[supplement]]
id = "multi"
name = "Multivitamin"
nutrient = "multivitamin"
unit = "tablet"
with = ["breakfast"]
units = 1

[[supplement]]
id = "probiotic"
name = "Probiotic"
nutrient = "probiotic"
unit = "capsule"
with = ["wake"]
units = 1

[[supplement]]
id = "iodine"
name = "Kelp iodine"
nutrient = "iodine"
unit = "tablet"
with = ["lunch"]
units = 1

[[supplement]]
id = "selenium"
name = "Selenium"
nutrient = "selenium"
unit = "tablet"
with = ["dinner"]
units = 1

[[supplement]]
id = "coq10"
name = "Coenzyme Q10"
nutrient = "coenzyme Q10"
unit = "softgel"
mg_per_unit = 100
with = ["breakfast", "dinner"]
units = 1

[magnesium]
daily_mg = 400
max_dose_mg = 200
slow_release_gap = "8h"
phytate = "move"
phytate_gap = "2h"
phytate_foods = ["muesli bar"]
calcium_ratio = 1.0

[titration]
start = 2026-11-20
start_mg = 100
step_mg = 25
every_days = 7
"""


# ---------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Timing:
    min_ms: float
    median_ms: float


def _timing(samples_s: Sequence[float]) -> Timing:
    return Timing(min(samples_s) * 1000, statistics.median(samples_s) * 1000)


def time_calls(calls: dict[str, Callable[[], object]], warmup: int, runs: int) -> dict[str, Timing]:
    """Times the calls in turn, one of each a round, so a slow patch of the machine hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(warmup + runs):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            elapsed = time.perf_counter() - began
            if round_ >= warmup:
                samples[name].append(elapsed)
    return {name: _timing(values) for name, values in samples.items()}


def _reminder_count(days: Sequence[DayPlan]) -> int:
    return sum(len(day.reminders) for day in days)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# ---------------------------------------------------------------------------- the benchmark


def main() -> int:
    rows: list[Row] = []
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"mgremind benchmark: Python {sys.version.split()[0]} ({sys.executable}), "
        f"{os.cpu_count()} CPUs, load average {load}"
    )

    # 1. and 2. The planner, in process.
    example = load_config(EXAMPLE)
    large = parse_config(parse_toml(LARGE_TOML, "large.toml"), "large.toml", REPO, "UTC")
    meals = len(large.meals)
    supplements = len(large.supplements)
    print(f"\nplan_days(config, {START}, {DAYS}): {PLAN_WARMUP} warm-up rounds, then {PLAN_RUNS}, interleaved")
    configs = {"example": example, "large": large}
    results = time_calls(
        {label: functools.partial(plan_days, config, START, DAYS) for label, config in configs.items()},
        PLAN_WARMUP,
        PLAN_RUNS,
    )
    for label, config in configs.items():
        days = plan_days(config, START, DAYS)
        timing = results[label]
        warnings = sum(len(day.warnings) for day in days)
        print(
            f"  {label:8} {len(config.meals):2} meals, {len(config.supplements):2} supplements: "
            f"{_reminder_count(days)} reminders, {warnings} day warnings; "
            f"min {timing.min_ms:.1f} ms, median {timing.median_ms:.1f} ms"
        )
    ratio = results["large"].median_ms / results["example"].median_ms
    print(f"  large / example (median): {ratio:.1f}x")
    rows.append(
        (
            f"plan {DAYS} d, example (median)",
            f"{results['example'].median_ms:.1f} ms",
            f"< {PLAN_GOAL_MS:g} ms",
            _verdict(results["example"].median_ms < PLAN_GOAL_MS),
        )
    )
    rows.append((f"plan {DAYS} d, example (min)", f"{results['example'].min_ms:.1f} ms", "", "info"))
    rows.append(
        (
            f"plan {DAYS} d, large {meals}+{supplements} (median)",
            f"{results['large'].median_ms:.1f} ms",
            "",
            "info",
        )
    )
    rows.append(("large / example", f"{ratio:.1f}x", "", "info"))

    # The table.
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    headers = ("measure", "value", "goal", "")
    widths = [max(width, len(header)) for width, header in zip(widths, headers, strict=True)]
    print()
    print("  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0  # a benchmark reports; it never fails the build


if __name__ == "__main__":
    raise SystemExit(main())
