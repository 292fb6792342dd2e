"""The daemon on a state of years against a fresh one, side by side in one run (SPEC §4 v2: cost does
not grow with age).

Run: .venv/bin/python bench/bench_daemon_age.py [--reminders 100]    (about 5 minutes)

Two state directories from bench/make_state.py: a fresh one (created now, no records, the stock
counted today) and one of 3 years at 200 reminders a day (every reminder closed, one delivery
row each, 90 % acknowledged, symptom reports, a stock count 3 years old with its running
total). On each, the installed `mgremind run` (bench_daemon.py's harness: a private bytecode
cache, a NOTIFY_SOCKET read at once, a JsonReceiver on 127.0.0.1) is measured for:

1. Start-up: spawn to READY=1, the integrity check of the state included (median of 3).
2. Delivery latency: --reminders meals one second apart, the counted supplement with every one
   (so each delivery works out the supplies left: the running total and the days after it),
   each arrival at the receiver minus its planned instant: median, p99 (nearest rank) and max.
3. SIGTERM after a burst of 50 SIGHUPs: from SIGTERM to exit (the SIGHUPs are coalesced), max
   of 3.

Prints each figure for both states, the ratio aged/fresh, and the goals: p99 ≤ 10 ms and ≤ 2x
fresh, READY ≤ 1 s, SIGTERM ≤ 1 s. A benchmark reports, it does not assert: exit status 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench_daemon import (
    MGREMIND,
    READY_TIMEOUT,
    SPACING,
    TITLE,
    LatencyRun,
    NotifySocket,
    Row,
    Summary,
    _clear_of_midnight,
    _instants,
    _print_problems,
    _sleep_until,
    _verdict,
    arrival_ms,
    daemon,
    daemon_env,
    print_table,
    stop,
    warm_up,
)
from make_state import make_state

from mgremind.config.paths import state_file
from mgremind.loader import load_config

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from receivers import JsonReceiver  # noqa: E402 - the tests' receiver, found through sys.path

UTC = dt.timezone.utc
YEARS, PER_DAY = 3, 200
STARTS = 3
SIGHUPS = 50
LEAD_IN = dt.timedelta(seconds=5)
SETTLE = dt.timedelta(seconds=2)

LATENCY_GOAL_MS = 10.0
LATENCY_RATIO_GOAL = 2.0
READY_GOAL_S = 1.0
STOP_GOAL_S = 1.0


def latency_plan(url: str, meals: dict[str, dt.time], stock: int, stock_date: dt.date) -> str:
    """A plan in UTC: each meal its own name at its time; one tablet of the counted magnesium with all."""
    names = ", ".join(f'"{name}"' for name in meals)
    lines = ['timezone = "UTC"', "", "[notify]", f'urls = ["{url}"]', f'title = "{TITLE}"', ""]
    lines += ["[reminders]", 'lead = "0m"', 'catch_up = "2h"', 'retry_for = "30m"']
    for name, at in meals.items():
        lines += ["", "[[meal]]", f'name = "{name}"', f'time = "{at.isoformat()}"']
    lines += [
        "",
        "[[supplement]]",
        'id = "glycinate"',
        'name = "Magnesium glycinate"',
        'nutrient = "magnesium"',
        'unit = "tablet"',
        "mg_per_unit = 50",
        f"with = [{names}]",
        "units = 1",
        f"stock = {stock}",
        f"stock_date = {stock_date.isoformat()}",
        "",
        "[magnesium]",
        f"daily_mg = {50 * len(meals)}",
        "max_dose_mg = 50",
    ]
    return "\n".join(lines) + "\n"


class Subject:
    """A state directory and the stock its plan counts from."""

    def __init__(self, label: str, directory: Path, years: float) -> None:
        began = time.monotonic()
        config_path, self.state_dir = make_state(
            directory, years=years, per_day=PER_DAY, channels=1, now=dt.datetime.now(UTC)
        )
        [counted] = [s for s in load_config(config_path).supplements if s.stock is not None]
        assert counted.stock is not None and counted.stock_date is not None
        self.label, self.stock, self.stock_date = label, int(counted.stock), counted.stock_date
        path = state_file({"STATE_DIRECTORY": str(self.state_dir)})
        size = sum(file.stat().st_size for file in path.parent.iterdir() if file.name.startswith(path.name))
        print(f"  {label}: {size / 1e6:.1f} MB of state, made in {time.monotonic() - began:.1f} s")


def ready_and_stop(work: Path, pycache: str, subject: Subject, url: str) -> tuple[list[float], list[float]]:
    """Spawn to READY=1, then 50 SIGHUPs and SIGTERM to exit; STARTS times (seconds)."""
    at = (dt.datetime.now(UTC) + dt.timedelta(hours=6)).time().replace(microsecond=0)
    config = work / f"idle-{subject.label}.toml"
    config.write_text(latency_plan(url, {"later": at}, subject.stock, subject.stock_date), encoding="utf-8")
    ready_s, stop_s = [], []
    for run in range(STARTS):
        notify = NotifySocket(work / f"notify-{subject.label}-{run}.sock")
        log = work / f"start-{subject.label}-{run}.log"
        try:
            with daemon(config, daemon_env(pycache, subject.state_dir, notify.path), log) as started:
                ready = notify.wait_for("READY=1", READY_TIMEOUT)
                if ready is None:
                    print(f"  {subject.label}: no READY=1 within {READY_TIMEOUT:g} s")
                    _print_problems(log)
                    continue
                ready_s.append(ready - started.spawned)
                for _ in range(SIGHUPS):
                    started.process.send_signal(signal.SIGHUP)
                took, status = stop(started.process)
                if status == 0:
                    stop_s.append(took)
                else:
                    print(f"  {subject.label}: exit status {status} after SIGTERM")
                    _print_problems(log)
        finally:
            notify.close()
    return ready_s, stop_s


def latency(work: Path, pycache: str, subject: Subject, receiver: JsonReceiver, count: int) -> LatencyRun:
    _clear_of_midnight(LEAD_IN + count * SPACING + dt.timedelta(minutes=1))
    instants = _instants(count, LEAD_IN)
    # Names no record of the state has (the generated records are of meal-000 … meal-199), and
    # titles of this run only: the receiver is shared.
    meals = {f"{subject.label}-{index:03}": instant.time() for index, instant in enumerate(instants)}
    config = work / f"latency-{subject.label}.toml"
    config.write_text(latency_plan(receiver.url(), meals, subject.stock, subject.stock_date), encoding="utf-8")
    log = work / f"latency-{subject.label}.log"
    notify = NotifySocket(work / f"notify-latency-{subject.label}.sock")
    try:
        with daemon(config, daemon_env(pycache, subject.state_dir, notify.path), log) as started:
            if notify.wait_for("READY=1", READY_TIMEOUT) is None:
                print(f"  {subject.label}: no READY=1 within {READY_TIMEOUT:g} s")
            _sleep_until(instants[-1] + SETTLE)
            stop(started.process)
    finally:
        notify.close()
    _print_problems(log)
    run = LatencyRun(arrival_ms(instants, [f"{TITLE}: {name}" for name in meals], receiver.messages()), "")
    run.describe(subject.label)
    return run


def _ms(values: Sequence[float]) -> str:
    return ", ".join(f"{value * 1000:.0f}" for value in values)


def rows_for(
    fresh: tuple[LatencyRun, list[float], list[float]], aged: tuple[LatencyRun, list[float], list[float]]
) -> list[Row]:
    rows: list[Row] = []
    (fresh_run, fresh_ready, fresh_stop), (aged_run, aged_ready, aged_stop) = fresh, aged
    ours: dict[str, Summary | None] = {"fresh": fresh_run.summary, "aged": aged_run.summary}
    for label, summary, run in (("fresh", ours["fresh"], fresh_run), (f"{YEARS} years", ours["aged"], aged_run)):
        if summary is None:
            rows.append((f"delivery p99, {label}", "nothing arrived", f"< {LATENCY_GOAL_MS:g} ms", "MISS"))
            continue
        rows.append(
            (
                f"delivery p99, {label} (median, max)",
                f"{summary.p99:.1f} ms ({summary.median:.1f}, {summary.max:.1f})",
                f"< {LATENCY_GOAL_MS:g} ms",
                _verdict(summary.p99 < LATENCY_GOAL_MS and run.complete),
            )
        )
    fresh_summary, aged_summary = ours["fresh"], ours["aged"]
    if fresh_summary is not None and aged_summary is not None:
        ratio = aged_summary.p99 / fresh_summary.p99
        rows.append(
            (
                "delivery p99, aged / fresh",
                f"{ratio:.2f}x (median {aged_summary.median / fresh_summary.median:.2f}x)",
                f"<= {LATENCY_RATIO_GOAL:g}x",
                _verdict(ratio <= LATENCY_RATIO_GOAL),
            )
        )
    for label, ready, stopped in (("fresh", fresh_ready, fresh_stop), (f"{YEARS} years", aged_ready, aged_stop)):
        if ready:
            rows.append(
                (
                    f"spawn to READY=1, {label} (median)",
                    f"{statistics.median(ready) * 1000:.0f} ms",
                    f"< {READY_GOAL_S * 1000:.0f} ms",
                    _verdict(statistics.median(ready) < READY_GOAL_S),
                )
            )
        if stopped:
            rows.append(
                (
                    f"SIGTERM after {SIGHUPS} SIGHUPs to exit, {label} (max)",
                    f"{max(stopped) * 1000:.0f} ms",
                    f"< {STOP_GOAL_S * 1000:.0f} ms",
                    _verdict(max(stopped) < STOP_GOAL_S and len(stopped) == STARTS),
                )
            )
    if fresh_ready and aged_ready:
        rows.append(
            (
                "READY=1, aged / fresh",
                f"{statistics.median(aged_ready) / statistics.median(fresh_ready):.2f}x",
                "",
                "info",
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The daemon on a state of years against a fresh one.")
    parser.add_argument("--reminders", type=int, default=100, help="reminders one second apart in each latency run")
    args = parser.parse_args(argv)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"mgremind daemon on an aged state: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load}")
    if not MGREMIND.exists():
        print(f"\n{MGREMIND} is not installed: run `make test` (or pip install -e .) first")
        return 0
    receiver = JsonReceiver().start()
    with (
        tempfile.TemporaryDirectory(prefix="mgremind-bench-pyc-") as pycache,
        tempfile.TemporaryDirectory(prefix="mgremind-bench-age-") as directory,
    ):
        work = Path(directory)
        try:
            warm_up(work, pycache, receiver)
            print(f"\nstates ({YEARS} years x {PER_DAY} reminders a day, and a fresh one):")
            subjects = [Subject("fresh", work / "fresh", 0), Subject("aged", work / "aged", YEARS)]
            results = {}
            for subject in subjects:
                print(f"\n{subject.label}: READY=1, then {SIGHUPS} SIGHUPs and SIGTERM, {STARTS} times")
                ready, stopped = ready_and_stop(work, pycache, subject, receiver.url())
                print(f"  READY=1 after (ms): {_ms(ready)}; exit after SIGTERM (ms): {_ms(stopped)}")
                print(
                    f"{subject.label}: delivery latency, {args.reminders} reminders {SPACING.total_seconds():g} s apart"
                )
                results[subject.label] = (latency(work, pycache, subject, receiver, args.reminders), ready, stopped)
        finally:
            receiver.stop()
    print_table(rows_for(results["fresh"], results["aged"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
