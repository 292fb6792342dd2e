"""Cost at any age (SPEC §4 v2): the commands on a fresh state and on 3 years of records, side by side.

Run: .venv/bin/python bench/bench_age.py [--years 3] [--per-day 200] [--rounds 7]    (about 3 minutes)

Two states of the same plan (bench/make_state.py: `per_day` reminders a day in UTC, one channel, a
counted supplement): a fresh one (created now, its stock counted today, no records) and an aged one
(`years` of records, the latest stock count long ago, the daemon's running totals up to date).
The installed `.venv/bin/mgremind` runs as a user runs it (a subprocess, STATE_DIRECTORY set), in
interleaved rounds (one of each a round, the order rotating, so a slow patch of the machine hits
all alike): `check`, `next`, `status`, `taken` (the latest due, on a fresh copy of the state each
time), `history --days 1000` and `history --days 7`. It prints each median, the ratio aged/fresh,
and the goals with PASS/MISS: `check`, `next`, `status` and `taken` within 10 % of fresh, `history
--days 1000` under 2 s.

Then the file: its size per year at `per_day` reminders a day with one channel, and at 4 a day
with two channels (a realistic plan), each beside the same records in the schema of mgremind 2
(MIGRATIONS[:2], rowid tables), and how long the migration of that v2 file takes (once, at the
first start after an upgrade: the tables rebuilt, then VACUUM). And what the daemon pays for its
running stock totals (mgremind.daemon.stock): the first time (every day since the count) and at a
midnight (one day). A benchmark reports; it always exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from make_state import make_state

from mgremind.config.paths import state_file
from mgremind.daemon.stock import keep_stock_totals
from mgremind.loader import load_config
from mgremind.state import MIGRATIONS, State

REPO = Path(__file__).resolve().parent.parent
MGREMIND = REPO / ".venv" / "bin" / "mgremind"
UTC = dt.timezone.utc
WARMUP = 1
RATIO_GOAL = 1.10
HISTORY_GOAL_S = 2.0
COMMANDS: dict[str, tuple[str, ...]] = {
    "check": ("check",),
    "next": ("next",),
    "status": ("status",),  # exit 3: no daemon runs on these states
    "taken": ("taken",),
    "history --days 1000": ("history", "--days", "1000"),
    "history --days 7": ("history", "--days", "7"),
}
RATIO_GOALS = ("check", "next", "status", "taken")


def run(config: Path, state_directory: Path, args: Sequence[str], home: Path) -> tuple[float, int]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MGREMIND", "PYTHON"))}
    env |= {"STATE_DIRECTORY": str(state_directory), "HOME": str(home)}
    began = time.perf_counter()
    completed = subprocess.run(
        [str(MGREMIND), "-c", str(config), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=home,
        check=False,
    )
    elapsed = time.perf_counter() - began
    if completed.returncode not in (0, 3):
        print(f"  {' '.join(args)}: exit {completed.returncode}: {completed.stderr.decode().strip()[:200]}")
    return elapsed, completed.returncode


def time_commands(states: dict[str, tuple[Path, Path]], rounds: int, work: Path) -> dict[tuple[str, str], list[float]]:
    """Seconds of each (command, state), interleaved; `taken` each time on a copy of the state."""
    home = work / "home"
    home.mkdir(exist_ok=True)
    jobs = [(name, label) for name in COMMANDS for label in states]
    samples: dict[tuple[str, str], list[float]] = {job: [] for job in jobs}
    for number in range(WARMUP + rounds):
        shift = number % len(jobs)
        for name, label in jobs[shift:] + jobs[:shift]:
            config, state_directory = states[label]
            if name == "taken":  # it writes: a copy of the state as it was, each time
                state_directory = fresh_copy(state_directory, work / "scratch")
            elapsed, _ = run(config, state_directory, COMMANDS[name], home)
            if number >= WARMUP:
                samples[name, label].append(elapsed)
        print(f"  round {number + 1} of {WARMUP + rounds}", flush=True)
    return samples


def fresh_copy(source: Path, target: Path) -> Path:
    """A copy of a state directory, on disk: SQLite's first fsync would otherwise write out the
    whole copy still in the page cache, and time the copy rather than the command."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    for path in target.iterdir():
        with path.open("rb+") as file:
            os.fsync(file.fileno())
    return target


def report_commands(samples: dict[tuple[str, str], list[float]], years: float) -> None:
    print(f"\n  {'command':22} {'fresh':>9} {f'{years:g} years':>9} {'ratio':>7}   goal")
    for name in COMMANDS:
        fresh, aged = statistics.median(samples[name, "fresh"]), statistics.median(samples[name, "aged"])
        ratio = aged / fresh
        if name in RATIO_GOALS:
            goal, ok = f"<= {RATIO_GOAL:.2f}x", ratio <= RATIO_GOAL
        elif name == "history --days 1000":
            goal, ok = f"aged <= {HISTORY_GOAL_S:g} s", aged <= HISTORY_GOAL_S
        else:
            goal, ok = "", None
        verdict = "" if ok is None else "PASS" if ok else "MISS"
        print(f"  {name:22} {fresh * 1000:7.0f} ms {aged * 1000:6.0f} ms {ratio:6.2f}x   {goal:14} {verdict}")


def v2_copy(source: Path, target: Path) -> None:
    """The records of the state at `source`, in a new file in the schema of mgremind 2."""
    target.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(target, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript("".join(MIGRATIONS[:2]) + "PRAGMA user_version = 2;")
        db.execute("ATTACH DATABASE ? AS new", (str(source),))
        db.execute("BEGIN")
        for table in ("meta", "reminder", "delivery", "ack", "report", "stock_count"):
            db.execute(f"INSERT INTO main.{table} SELECT * FROM new.{table}")  # in the order of their keys
        db.execute("COMMIT")
        db.execute("DETACH DATABASE new")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def megabytes(path: Path) -> float:
    """The file and its -wal and -shm."""
    return sum(found.stat().st_size for found in path.parent.glob(path.name + "*")) / 1e6


def report_sizes(work: Path, years: float, states: Sequence[tuple[str, Path]], now: dt.datetime) -> None:
    print(f"\nthe state file, {years:g} years of records (its -wal and -shm included):")
    print(f"  {'plan':32} {'mgremind 2':>12} {'this tree':>12} {'per year':>10}   migration 2 -> this tree")
    for plan, state_directory in states:
        path = state_file({"STATE_DIRECTORY": str(state_directory)})
        old = work / "v2" / plan.replace(" ", "-") / "state.sqlite3"
        v2_copy(path, old)
        before = megabytes(old)
        began = time.perf_counter()
        State.open(old, now).close()  # the migration, as the first start after an upgrade makes it
        migration = time.perf_counter() - began
        size = megabytes(path)
        print(
            f"  {plan:32} {before:9.2f} MB {size:9.2f} MB {size / years:7.2f} MB"
            f"   {migration:.2f} s, {before:.2f} -> {megabytes(old):.2f} MB"
        )


def report_totals(config: Path, state_directory: Path, now: dt.datetime) -> None:
    """The daemon's running stock totals: from the count (its first start), then one day on (a midnight)."""
    path = state_file({"STATE_DIRECTORY": str(state_directory)})
    plan = load_config(config)
    state = State.open(path, now)
    try:
        counted_at = state.stock_counts()["glycinate"][1]
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM stock_total")
        began = time.perf_counter()
        keep_stock_totals(state, plan, now)
        first = time.perf_counter() - began
        began = time.perf_counter()
        keep_stock_totals(state, plan, now + dt.timedelta(days=1))
        midnight = time.perf_counter() - began
    finally:
        state.close()
    print("\nthe daemon's running stock totals (mgremind.daemon.stock.keep_stock_totals):")
    print(f"  made from a count {(now - counted_at).days} days old (once): {first * 1000:7.0f} ms")
    print(f"  a midnight later (one day):                {midnight * 1000:7.1f} ms")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"mgremind at any age: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    if not MGREMIND.exists():
        print(f"no {MGREMIND}: run `make test` (or `make run`) once to install it")
        return 0
    now = dt.datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="mgremind-bench-age-") as temporary:
        work = Path(temporary)
        print(f"writing a fresh state and one of {args.years:g} years at {args.per_day} reminders a day…")
        began = time.perf_counter()
        states = {
            "fresh": make_state(work / "fresh", years=0, per_day=args.per_day, channels=1, now=now),
            "aged": make_state(work / "aged", years=args.years, per_day=args.per_day, channels=1, now=now),
        }
        print(f"  ({time.perf_counter() - began:.0f} s); {WARMUP} warm-up round, then {args.rounds}, interleaved")
        report_commands(time_commands(states, args.rounds, work), args.years)
        _, realistic = make_state(work / "realistic", years=args.years, per_day=4, channels=2, now=now)
        sizes = [(f"{args.per_day} reminders a day, 1 channel", states["aged"][1]), ("4 a day, 2 channels", realistic)]
        report_sizes(work, args.years, sizes, now)
        report_totals(*states["aged"], now)
    return 0  # a benchmark reports; it never fails the build


if __name__ == "__main__":
    raise SystemExit(main())
