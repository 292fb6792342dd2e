"""A state of months of records, as bench/make_state.py writes it for the benchmarks of cost at any
age (SPEC §4 v2): what the generator promises, and the commands on such a state giving the answers
a state without the daemon's running totals gives (the days added up one by one)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Mgremind

from mgremind.config.paths import state_file

sys.path.insert(0, str(REPO / "bench"))  # the generator is a script of bench/, not a package
from make_state import make_state

UTC = dt.timezone.utc


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.execute(sql).fetchall())
    finally:
        connection.close()


@pytest.fixture
def aged(tmp_path: Path, user_home: Path) -> tuple[Path, Path]:
    """Half a year at 4 reminders a day and 2 channels, ending now, in the mgremind fixture's state directory."""
    config, state_directory = make_state(
        tmp_path, years=0.5, per_day=4, channels=2, now=dt.datetime.now(UTC), titration=True
    )
    assert state_directory == tmp_path / "state"
    return config, state_file({"STATE_DIRECTORY": str(state_directory)})


def test_the_generator_writes_what_a_daemon_and_its_user_leave_behind(aged: tuple[Path, Path]) -> None:
    _, path = aged
    (reminders,) = rows(path, "SELECT count(*) FROM reminder WHERE outcome = 'delivered'")[0]
    assert 4 * 180 <= reminders <= 4 * 184
    assert rows(path, "SELECT count(*) FROM reminder WHERE outcome != 'delivered'") == [(0,)]
    # One 'sent' row per channel of every reminder.
    assert rows(path, "SELECT count(*), count(DISTINCT channel) FROM delivery WHERE status = 'sent'") == [
        (2 * reminders, 2)
    ]
    statuses = dict(rows(path, "SELECT status, count(*) FROM ack GROUP BY status"))
    assert 0.85 < statuses["taken"] / reminders < 0.95
    assert 0.01 < statuses["skipped"] / reminders < 0.08
    assert len(rows(path, "SELECT * FROM report")) >= 5
    # Two `mgremind stock` counts, the latest long ago, and the daemon's running total of it.
    counts = rows(path, "SELECT at FROM stock_count ORDER BY at")
    assert len(counts) == 2
    (total,) = rows(path, "SELECT counted_at, through FROM stock_total")
    assert total[0] == counts[-1][0]
    assert total[1] == (dt.datetime.now(UTC).date() - dt.timedelta(days=2)).isoformat()


def test_commands_on_an_aged_state_answer_as_if_every_day_were_added_up(
    aged: tuple[Path, Path], mgremind: Mgremind
) -> None:
    config, path = aged
    with_totals = [mgremind("-c", str(config), *args) for args in (("next", "--json"), ("check",))]
    assert [result.returncode for result in with_totals] == [0, 0]
    assert "warnings" in json.loads(with_totals[0].stdout)
    connection = sqlite3.connect(path)
    try:
        connection.execute("DELETE FROM stock_total")
        connection.commit()
    finally:
        connection.close()
    replayed = [mgremind("-c", str(config), *args) for args in (("next", "--json"), ("check",))]
    assert [result.stdout for result in replayed] == [result.stdout for result in with_totals]


def test_history_of_an_aged_state_shows_every_acknowledgement(aged: tuple[Path, Path], mgremind: Mgremind) -> None:
    config, path = aged
    result = mgremind("-c", str(config), "history", "--days", "60", "--json")
    assert result.returncode == 0, result.stderr
    days = json.loads(result.stdout)["days"]
    assert len(days) == 60
    first = days[0]["date"]
    acks = dict(rows(path, f"SELECT reminder_id, status FROM ack WHERE reminder_id >= '{first}'"))
    shown = {entry["id"]: entry["status"] for day in days for entry in day["reminders"]}
    assert {rid: status for rid, status in shown.items() if status in ("taken", "skipped")} == acks
    assert "missed" in shown.values()


@pytest.mark.e2e
def test_the_generator_runs_from_the_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "make_state.py"),
            str(tmp_path / "s"),
            "--years",
            "0.05",
            "--per-day",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"STATE_DIRECTORY={tmp_path / 's' / 'state'}" in result.stdout
    assert (tmp_path / "s" / "config.toml").is_file()
