"""A state directory with years of records, for the benchmarks of cost at any age (SPEC §4 v2).

Run: .venv/bin/python bench/make_state.py DIR [--years 3] [--per-day 200] [--channels 1] [--titration]

Writes DIR/config.toml and DIR/state/ (the STATE_DIRECTORY to run mgremind with). The plan, in
UTC: `per_day` meals a day, each with one magnesium tablet (the counted supplement: `stock` and
`stock_date` at the first day of the records, then two `mgremind stock` counts in the first
months, so the latest count is long ago); with --titration, a ramp from the first day and a
vitamin D companion at every meal (so that each meal still has a reminder on low days).

The records are what a daemon and its user leave behind: every reminder before the last hour
closed 'delivered', one 'sent' delivery row per channel, about 90 % acknowledged taken and 4 %
skipped (the rest missed), a symptom report every few weeks. The schema is mgremind's own (the
state is opened once with mgremind.state, which creates or migrates it), the rows are inserted
in bulk in one transaction, and the stock totals are brought up to date as the daemon does at
each midnight (mgremind.daemon.stock.keep_stock_totals). With years = 0 the state is a fresh one
(created now, no records) and `stock_date` is today: the first day of an installation.
"""

import argparse
import datetime as dt
import random
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from mgremind.config.paths import state_file
from mgremind.daemon.stock import keep_stock_totals
from mgremind.loader import load_config
from mgremind.model import Config
from mgremind.notify import channel_key
from mgremind.plan import plan_days
from mgremind.state import State

UTC = dt.timezone.utc
TABLET_MG = 50
SYMPTOMS = ("loose-stool", "cramps", "bloating", "nausea")
REPORT_EVERY_DAYS = 25  # about: one symptom report every few weeks
COUNTS_AFTER_DAYS = (30, 120)  # the `mgremind stock` counts, this many days after the first day


def channel_urls(channels: int) -> list[str]:
    """Distinct JSON endpoints on this machine: parsed by `check`, never sent to by the commands."""
    return [f"json://127.0.0.1:{9000 + number}/mgremind" for number in range(channels)]


def meal_times(per_day: int) -> list[dt.time]:
    """A few meals between 07:00 and 21:00; many spread over the whole day, seconds apart if need be."""
    first, span = (7 * 3600, 14 * 3600) if per_day <= 12 else (1800, 23 * 3600)
    step = span / max(per_day - 1, 1)
    return [(dt.datetime.min + dt.timedelta(seconds=int(first + n * step))).time() for n in range(per_day)]


def config_text(per_day: int, channels: int, stock_date: dt.date, stock: int, *, titration: bool) -> str:
    names = [f"meal-{number:03}" for number in range(per_day)]
    urls = ", ".join(f'"{url}"' for url in channel_urls(channels))
    lines = ['timezone = "UTC"', "", "[notify]", 'title = "Magnesium"', f"urls = [{urls}]", ""]
    for name, at in zip(names, meal_times(per_day), strict=True):
        lines += ["[[meal]]", f'name = "{name}"', f'time = "{at.isoformat()}"', ""]
    every = ", ".join(f'"{name}"' for name in names)
    lines += [
        "[[supplement]]",
        'id = "glycinate"',
        'name = "Magnesium glycinate"',
        'nutrient = "magnesium"',
        'unit = "tablet"',
        f"mg_per_unit = {TABLET_MG}",
        f"with = [{every}]",
        "units = 1",
        f"stock = {stock}",
        f"stock_date = {stock_date.isoformat()}",
        "refill_days = 7",
        "",
    ]
    if titration:
        lines += ["[[supplement]]", 'id = "vitd"', 'name = "Vitamin D3"', 'nutrient = "vitamin D"']
        lines += ['unit = "capsule"', f"with = [{every}]", "units = 1", ""]
    daily = per_day * TABLET_MG
    lines += ["[magnesium]", f"daily_mg = {daily}", f"max_dose_mg = {TABLET_MG}", ""]
    if titration:
        lines += ["[titration]", f"start = {stock_date.isoformat()}", f"start_mg = {max(daily // 2, TABLET_MG)}"]
        lines += [f"step_mg = {TABLET_MG}", "every_days = 3", ""]
    return "\n".join(lines)


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds")


def make_state(
    directory: Path,
    *,
    years: float,
    per_day: int,
    channels: int,
    now: dt.datetime,
    titration: bool = False,
    seed: int = 12,
) -> tuple[Path, Path]:
    """Writes the configuration and a state of `years` of records ending at `now` under
    `directory` (made if need be); returns (configuration file, state directory)."""
    now = now.astimezone(UTC).replace(microsecond=0)
    began = now - dt.timedelta(days=365.25 * years)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "config.toml"
    stock = per_day * int(366 * max(years, 1) + 30)  # enough never to run out
    config_path.write_text(config_text(per_day, channels, began.date(), stock, titration=titration), encoding="utf-8")
    config = load_config(config_path)
    state_directory = directory / "state"
    path = state_file({"STATE_DIRECTORY": str(state_directory)})
    State.open(path, began).close()  # mgremind's own schema, created_at = the first day
    if years > 0:
        insert(path, records(config, began=began, now=now, channels=channels, stock=stock, rng=random.Random(seed)))
        state = State.open(path, now)
        try:
            keep_stock_totals(state, config, now)  # as the daemon does at each midnight
        finally:
            state.close()
    return config_path, state_directory


class Rows(NamedTuple):
    """The rows of each table, as mgremind writes them."""

    reminders: list[tuple[str, str, str, int, str]]
    deliveries: list[tuple[str, str, str, int, str, str, None]]
    acks: list[tuple[str, str, str]]
    reports: list[tuple[str, str, str]]
    counts: list[tuple[str, float, str]]


def records(
    config: Config, *, began: dt.datetime, now: dt.datetime, channels: int, stock: int, rng: random.Random
) -> Rows:
    """What a daemon and its user leave behind from `began` to `now` (see the module's docstring)."""
    first, today = began.date(), now.date()
    reports = {
        first + dt.timedelta(days=offset): [rng.choice(SYMPTOMS)]
        for offset in range(REPORT_EVERY_DAYS // 2, (today - first).days, REPORT_EVERY_DAYS)
    }
    keys = [channel_key(url) for url in channel_urls(channels)]
    closed_before = now - dt.timedelta(hours=1)
    rows = Rows([], [], [], [], [])
    for plan in plan_days(config, first, (today - first).days + 1, reports):
        for reminder in plan.reminders:
            due = reminder.instant
            if not began <= due < closed_before:
                continue
            sent = due + dt.timedelta(seconds=1)
            rows.reminders.append((reminder.id, _iso(due), "delivered", 0, _iso(sent)))
            rows.deliveries.extend((reminder.id, key, "sent", 1, _iso(due), _iso(sent), None) for key in keys)
            draw = rng.random()
            if draw < 0.94:
                at = min(due + dt.timedelta(seconds=rng.randint(60, 3600)), now)
                rows.acks.append((reminder.id, "taken" if draw < 0.90 else "skipped", _iso(at)))
    rows.acks.sort(key=lambda row: row[2])  # in the order `taken` would have written them
    rows.reports.extend(
        (day.isoformat(), symptom, _iso(dt.datetime.combine(day, dt.time(20), UTC)))
        for day, symptoms in reports.items()
        for symptom in symptoms
    )
    for after, fewer in zip(COUNTS_AFTER_DAYS, (10, 20), strict=True):
        counted = began + dt.timedelta(days=after, hours=9)
        if counted < now:
            rows.counts.append(("glycinate", float(stock - fewer), _iso(counted)))
    return rows


def insert(path: Path, rows: Rows) -> None:
    """The rows in bulk, in one transaction."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO reminder (id, due_at, outcome, late, recorded_at) VALUES (?, ?, ?, ?, ?)", rows.reminders
        )
        connection.executemany(
            "INSERT INTO delivery (reminder_id, channel, status, attempts, first_attempt_at, updated_at, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows.deliveries,
        )
        connection.executemany("INSERT INTO ack (reminder_id, status, at) VALUES (?, ?, ?)", rows.acks)
        connection.executemany("INSERT INTO report (date, symptom, recorded_at) VALUES (?, ?, ?)", rows.reports)
        connection.executemany("INSERT INTO stock_count (supplement, units, at) VALUES (?, ?, ?)", rows.counts)
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--titration", action="store_true")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    config, state_directory = make_state(
        args.directory,
        years=args.years,
        per_day=args.per_day,
        channels=args.channels,
        now=dt.datetime.now(UTC),
        titration=args.titration,
    )
    path = state_file({"STATE_DIRECTORY": str(state_directory)})
    size = path.stat().st_size / 1e6
    print(f"{config}\nSTATE_DIRECTORY={state_directory}  ({size:.1f} MB, {time.perf_counter() - began:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
