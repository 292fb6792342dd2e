"""No command answers a damaged, foreign or newer state file, or an extreme configuration, with a
traceback (SPEC §4 v2 "Damage is found at start", §3): exit 1 for the state, 2 for the
configuration, one line naming the file and what to do. The commands run in this process
(the `mgremind` fixture fails on any traceback in their output, and an exception escaping
`main` fails the test)."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLE, Mgremind, Result

# Every command that reads or writes the state, as a user types it.
COMMANDS: list[tuple[str, ...]] = [
    ("check",),
    ("plan", "--days", "3"),
    ("next",),
    ("taken",),
    ("skip", "2026-11-23/dinner"),
    ("report", "loose-stool"),
    ("stock", "citrate", "40"),
    ("history", "--days", "5"),
    ("history", "--json"),
    ("export", "--ics", "-"),
]


def state_path(home: Path) -> Path:
    return home.parent / "state" / "state.sqlite3"


def make_used_state(mgremind: Mgremind) -> None:
    """A state with every kind of record: an acknowledgement, a report, a stock count."""
    for args in (
        ("taken", "2026-11-23/breakfast"),
        ("report", "cramps", "--date", "2026-11-22"),
        ("stock", "slowmag", "9"),
    ):
        assert mgremind("-c", str(EXAMPLE), *args).returncode == 0


def _truncate(size: int) -> Callable[[Path], None]:
    def fault(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[:size])

    return fault


def _garble(seed: int) -> Callable[[Path], None]:
    """Random bytes over a random stretch past the 100-byte header, or in it."""

    def fault(path: Path) -> None:
        data = bytearray(path.read_bytes())
        chance = random.Random(seed)
        start = chance.randrange(0, len(data) - 64)
        data[start : start + 64] = chance.randbytes(64)
        path.write_bytes(bytes(data))

    return fault


def _sql(*statements: str) -> Callable[[Path], None]:
    def fault(path: Path) -> None:
        with sqlite3.connect(path) as db:
            for statement in statements:
                db.execute(statement)
        db.close()

    return fault


def _replace_with(make: Callable[[Path], None]) -> Callable[[Path], None]:
    def fault(path: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        make(path)

    return fault


def _foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (name TEXT)")
        db.execute("INSERT INTO users VALUES ('alice')")
    db.close()


def _text_file(path: Path) -> None:
    path.write_text("not a database\n" * 100, encoding="utf-8")


FAULTS: dict[str, Callable[[Path], None]] = {
    **{f"truncated to {size} bytes": _truncate(size) for size in (10, 100, 1000, 4096, 5000)},
    **{f"garbled #{seed}": _garble(seed) for seed in range(12)},
    "a newer schema": _sql("PRAGMA user_version = 99"),
    "the acknowledgements dropped": _sql("DROP TABLE ack"),
    "the meta table dropped": _sql("DROP TABLE meta"),
    "a garbled acknowledgement time": _sql("INSERT INTO ack VALUES ('2026-11-20/dinner', 'taken', 'yesterday')"),
    "a garbled report date": _sql("INSERT INTO report (date, symptom, recorded_at) VALUES ('11/22', 'x', 'y')"),
    "a garbled stock count": _sql("INSERT INTO stock_count (supplement, units, at) VALUES ('citrate', 'many', 'now')"),
    "a garbled creation time": _sql("UPDATE meta SET value = 'long ago' WHERE key = 'created_at'"),
    "another program's database": _replace_with(_foreign_database),
    "a text file": _replace_with(_text_file),
    "a directory": _replace_with(lambda path: path.mkdir()),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_no_command_answers_a_damaged_state_with_a_traceback(fault: str, mgremind: Mgremind, user_home: Path) -> None:
    make_used_state(mgremind)
    path = state_path(user_home)
    FAULTS[fault](path)
    for args in COMMANDS:
        result = mgremind("-c", str(EXAMPLE), *args)
        assert result.returncode in (0, 1), (args, result)
        if result.returncode == 1:
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("mgremind: "), (args, result.stderr)
            assert str(path) in lines[0] or "no reminder" in lines[0], (args, lines[0])


def test_a_foreign_database_is_refused_and_left_as_it_was(mgremind: Mgremind, user_home: Path) -> None:
    path = state_path(user_home)
    path.parent.mkdir(parents=True)
    _foreign_database(path)
    result = mgremind("-c", str(EXAMPLE), "taken", "2026-11-23/breakfast")
    assert result.returncode == 1
    assert f"mgremind: {path}: " in result.stderr and "another program's database (tables: users)" in result.stderr
    with sqlite3.connect(path) as db:
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["users"]
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()


def test_a_newer_schema_says_to_upgrade(mgremind: Mgremind, user_home: Path) -> None:
    make_used_state(mgremind)
    _sql("PRAGMA user_version = 99")(state_path(user_home))
    result = mgremind("-c", str(EXAMPLE), "history")
    assert result.returncode == 1
    assert "schema version 99 is newer than this mgremind knows" in result.stderr
    assert "upgrade mgremind" in result.stderr


# ---------------------------------------------------------------------------- configurations

PLAN = """
[notify]
title = {title}

[[meal]]
name = "breakfast"
time = "08:00"

[[supplement]]
id = "calcium"
nutrient = "calcium"
unit = "tablet"
mg_per_unit = 250
with = ["breakfast"]
units = 1
stock = 30
stock_date = {stock_date}
"""


@pytest.mark.parametrize(
    ("title", "stock_date", "expected"),
    [
        ('"Mag\\nnesium"', "2026-11-20", "notify.title: must be one line, without line breaks"),
        ('"Mag\\u0007"', "2026-11-20", "notify.title: must be one line, without line breaks"),
        ('"Magnesium"', "0001-01-01", "stock_date: 0001-01-01 is outside the years 1900–9000"),
        ('"Magnesium"', "9999-12-31", "stock_date: 9999-12-31 is outside the years 1900–9000"),
    ],
)
def test_extreme_values_are_configuration_errors(
    title: str, stock_date: str, expected: str, mgremind: Mgremind, tmp_path: Path
) -> None:
    config = tmp_path / "plan.toml"
    config.write_text(PLAN.format(title=title, stock_date=stock_date), encoding="utf-8")
    for args in (("check",), ("next",), ("export", "--ics", "-")):
        result = mgremind("-c", str(config), *args)
        assert result.returncode == 2, result
        assert expected in result.stderr


def test_deeply_nested_arrays_are_a_configuration_error(mgremind: Mgremind, tmp_path: Path) -> None:
    config = tmp_path / "plan.toml"
    config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    result = mgremind("-c", str(config), "check")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == f"{config}: invalid TOML: arrays or tables nested too deeply"


def test_the_example_still_plans_a_day(mgremind: Mgremind) -> None:
    day = dt.date(2026, 11, 23)
    assert mgremind("-c", str(EXAMPLE), "plan", "--from", day.isoformat()).returncode == 0


def _check_into(mgremind: Mgremind, path: Path, results: list[Result]) -> None:
    results.append(mgremind("-c", str(path), "check"))


def test_a_plan_file_that_is_a_fifo_or_a_device_is_refused_without_blocking(mgremind: Mgremind, tmp_path: Path) -> None:
    fifo = tmp_path / "plan.toml"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO (named pipe)"), (Path("/dev/zero"), "a character device")):
        results: list[Result] = []
        worker = threading.Thread(target=_check_into, args=(mgremind, path, results), daemon=True)
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), f"check blocked on {path}"
        assert results[0].returncode == 2
        assert f"{path}: must be a regular file, and this is {kind}" in results[0].stderr
