"""The daemon's SQLite state (SPEC §4), on real files in tmp_path.

What a user relies on: each reminder id is delivered once per channel across restarts and
crashes, an interrupted delivery is reported as a possible repeat, the record survives a
restart, and a file that cannot be used is refused with a message naming it.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mgremind.config.paths import state_directory
from mgremind.state import SCHEMA_VERSION, Delivery, State, StateError

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)  # whole seconds: the file keeps seconds
ID = "2026-11-23/breakfast"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "state.sqlite3"


@pytest.fixture
def state(path: Path) -> Iterator[State]:
    opened = State.open(path, T0)
    yield opened
    opened.close()


def raw(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Reads the file with a connection of its own, as another program would."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.execute(sql, params).fetchall())
    finally:
        connection.close()


# ---------------------------------------------------------------------------- opening


def test_open_creates_a_wal_database_with_the_schema_version(state: State, path: Path) -> None:
    assert path.is_file()
    assert raw(path, "PRAGMA journal_mode") == [("wal",)]
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    tables = {row[0] for row in raw(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "reminder", "delivery"} <= tables
    assert state.created_at == T0


def test_state_file_and_new_directory_are_private(state: State, path: Path) -> None:
    # Channel keys and reminder history are nobody else's business: 0600 file, 0700 directory.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


def test_reopen_keeps_deliveries_outcomes_and_created_at(path: Path) -> None:
    first = State.open(path, T0)
    first.begin_delivery(ID, "console", T0)
    first.finish_delivery(ID, "console", T0 + dt.timedelta(seconds=1), None)
    first.close_reminder(ID, T0, "delivered", T0 + dt.timedelta(seconds=1))
    first.close()

    later = T0 + dt.timedelta(days=3)
    second = State.open(path, later)
    try:
        assert second.created_at == T0  # the first start, not this one
        assert second.outcome(ID) == "delivered"
        assert second.deliveries(ID) == {"console": Delivery("sent", 1, T0)}
    finally:
        second.close()


def test_created_at_is_stored_in_utc_whole_seconds(tmp_path: Path) -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    opened = State.open(tmp_path / "s.sqlite3", dt.datetime(2026, 11, 23, 13, 0, 0, 750_000, tzinfo=berlin))
    try:
        # 13:00:00.75 at +01:00 is 12:00:00.75 UTC; the file keeps whole seconds.
        assert opened.created_at == T0
        assert opened.created_at.utcoffset() == dt.timedelta(0)
    finally:
        opened.close()


def test_migrates_an_empty_version_0_file(path: Path) -> None:
    path.parent.mkdir()
    path.touch()  # an empty file is an SQLite database with user_version 0
    assert raw(path, "PRAGMA user_version") == [(0,)]
    opened = State.open(path, T0)
    try:
        assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        opened.close_reminder(ID, T0, "missed", T0)
        assert opened.outcome(ID) == "missed"
    finally:
        opened.close()


def test_newer_schema_version_is_refused(path: Path) -> None:
    path.parent.mkdir()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(StateError) as caught:
        State.open(path, T0)
    message = str(caught.value)
    assert str(path) in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert "upgrade mgremind" in message


def test_garbage_file_is_refused_naming_the_file(path: Path) -> None:
    path.parent.mkdir()
    path.write_bytes(b"this is not an SQLite database\n" * 200)
    with pytest.raises(StateError) as caught:
        State.open(path, T0)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "move it aside" in message
    assert path.read_bytes() == b"this is not an SQLite database\n" * 200  # left as it was


def test_state_directory_under_a_regular_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory\n", encoding="utf-8")
    target = blocker / "mgremind" / "state.sqlite3"
    with pytest.raises(StateError) as caught:
        State.open(target, T0)
    assert str(target) in str(caught.value)


_OPEN_AS_NOBODY = textwrap.dedent(
    """
    import datetime as dt, os, sys
    from pathlib import Path
    from mgremind.state import State, StateError  # imported while the interpreter is still readable
    os.setgid(65534)
    os.setuid(65534)
    try:
        State.open(Path(sys.argv[1]), dt.datetime(2026, 11, 23, 12, tzinfo=dt.timezone.utc))
    except StateError as error:
        print("StateError:", error)
    else:
        print("opened")
    """
)


def test_unwritable_directory_is_refused() -> None:
    directory = Path(tempfile.mkdtemp(prefix="mgremind-ro-"))
    target = directory / "state.sqlite3"
    try:
        if os.geteuid() == 0:
            # root writes anywhere: open it as "nobody", for whom this 0755 root directory is read-only.
            directory.chmod(0o755)
            result = subprocess.run(
                [sys.executable, "-c", _OPEN_AS_NOBODY, str(target)],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            output = result.stdout
        else:
            directory.chmod(0o500)
            try:
                State.open(target, T0)
            except StateError as error:
                output = f"StateError: {error}"
            else:
                output = "opened"
        assert output.startswith(f"StateError: {target}: "), output
        assert "Traceback" not in output
        assert not target.exists()
    finally:
        directory.chmod(0o700)
        for leftover in directory.iterdir():
            leftover.unlink()
        directory.rmdir()


# ---------------------------------------------------------------------------- deliveries


def test_begin_and_finish_delivery(state: State) -> None:
    assert state.deliveries(ID) == {}
    assert state.begin_delivery(ID, "console", T0) is False  # nothing before: no repeat
    assert state.deliveries(ID) == {"console": Delivery("sending", 1, T0)}
    state.finish_delivery(ID, "console", T0 + dt.timedelta(seconds=1), None)
    assert state.deliveries(ID) == {"console": Delivery("sent", 1, T0)}
    assert state.outcome(ID) is None  # a delivery is not yet the reminder's outcome


def test_failed_attempts_count_up_and_keep_the_first_attempt_time(state: State, path: Path) -> None:
    state.begin_delivery(ID, "abc123", T0)
    state.finish_delivery(ID, "abc123", T0, "not accepted")
    later = T0 + dt.timedelta(seconds=3)
    assert state.begin_delivery(ID, "abc123", later) is False  # it failed cleanly: not a possible repeat
    state.finish_delivery(ID, "abc123", later, None)
    assert state.deliveries(ID) == {"abc123": Delivery("sent", 2, T0)}
    assert raw(path, "SELECT error FROM delivery WHERE reminder_id = ?", ID) == [(None,)]


def test_error_of_a_failed_delivery_is_recorded(state: State, path: Path) -> None:
    state.begin_delivery(ID, "abc123", T0)
    state.finish_delivery(ID, "abc123", T0, "not accepted")
    assert raw(path, "SELECT status, error FROM delivery") == [("failed", "not accepted")]


def test_channels_of_one_reminder_are_kept_apart(state: State) -> None:
    state.begin_delivery(ID, "console", T0)
    state.finish_delivery(ID, "console", T0, None)
    state.begin_delivery(ID, "abc123", T0)
    state.finish_delivery(ID, "abc123", T0, "not accepted")
    state.begin_delivery("2026-11-23/lunch", "console", T0)
    assert state.deliveries(ID) == {"console": Delivery("sent", 1, T0), "abc123": Delivery("failed", 1, T0)}
    assert state.deliveries("2026-11-23/lunch") == {"console": Delivery("sending", 1, T0)}


def test_interrupted_delivery_is_a_possible_repeat_after_a_restart(path: Path) -> None:
    crashed = State.open(path, T0)
    crashed.begin_delivery(ID, "console", T0)  # the channel is asked … and the process dies
    crashed.close()

    restarted = State.open(path, T0 + dt.timedelta(minutes=1))
    try:
        assert restarted.deliveries(ID)["console"].status == "sending"
        assert restarted.begin_delivery(ID, "console", T0 + dt.timedelta(minutes=1)) is True
        restarted.finish_delivery(ID, "console", T0 + dt.timedelta(minutes=1), None)
        # Once recorded as sent, a further attempt is no longer a possible repeat of a lost record.
        assert restarted.deliveries(ID) == {"console": Delivery("sent", 2, T0)}
    finally:
        restarted.close()


def test_close_reminder_is_idempotent_first_outcome_wins(state: State, path: Path) -> None:
    due = dt.datetime(2026, 11, 23, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 06:30 UTC
    state.close_reminder(ID, due, "delivered", T0, late=True)
    state.close_reminder(ID, due, "missed", T0 + dt.timedelta(hours=1))
    state.close_reminder(ID, due, "delivered", T0 + dt.timedelta(hours=2), late=False)
    assert state.outcome(ID) == "delivered"
    assert raw(path, "SELECT id, due_at, outcome, late, recorded_at FROM reminder") == [
        (ID, "2026-11-23T06:30:00+00:00", "delivered", 1, "2026-11-23T12:00:00+00:00")
    ]


def test_outcome_of_an_unknown_reminder_is_none(state: State) -> None:
    assert state.outcome("2026-11-23/nothing") is None


# ---------------------------------------------------------------------------- two users of one file


def test_two_state_objects_on_one_file_see_each_others_writes(path: Path) -> None:
    daemon = State.open(path, T0)
    cli = State.open(path, T0 + dt.timedelta(hours=1))  # e.g. a later CLI command while the daemon runs
    try:
        assert cli.created_at == T0
        cli.close_reminder(ID, T0, "delivered", T0)
        assert daemon.outcome(ID) == "delivered"
        daemon.begin_delivery("2026-11-23/lunch", "console", T0)
        assert cli.begin_delivery("2026-11-23/lunch", "console", T0) is True  # it sees the "sending" row
    finally:
        daemon.close()
        cli.close()


def test_concurrent_writes_from_two_state_objects_all_land(path: Path) -> None:
    daemon = State.open(path, T0)
    cli = State.open(path, T0)
    errors: list[BaseException] = []

    def write(state: State, prefix: str) -> None:
        try:
            for number in range(60):
                rid = f"2026-11-23/{prefix}{number}"
                state.begin_delivery(rid, "console", T0)
                state.finish_delivery(rid, "console", T0, None)
                state.close_reminder(rid, T0, "delivered", T0)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    # A reader holding a snapshot open must not block the writers (WAL).
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM reminder").fetchone() == (0,)
    threads = [threading.Thread(target=write, args=(daemon, "a")), threading.Thread(target=write, args=(cli, "b"))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert reader.execute("SELECT count(*) FROM reminder").fetchone() == (0,)  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM reminder").fetchone() == (120,)
        assert daemon.outcome("2026-11-23/b59") == "delivered"
        assert cli.outcome("2026-11-23/a59") == "delivered"
        assert raw(path, "SELECT count(*) FROM delivery WHERE status = 'sent' AND attempts = 1") == [(120,)]
    finally:
        reader.close()
        daemon.close()
        cli.close()


def test_two_first_starts_on_a_fresh_file_at_once_both_open(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon and a CLI command starting together on a new state file: both must get a usable state.

    Deterministic: a third connection holds the write lock, so both openers read the schema version
    (0) and then wait for the lock; the holder lets go once both are waiting.
    """
    path.parent.mkdir()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")

    waiting = threading.Semaphore(0)
    connect = sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.set_trace_callback(lambda sql: waiting.release() if sql.startswith("BEGIN IMMEDIATE") else None)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    results: list[State | BaseException] = []
    lock = threading.Lock()

    def open_state() -> None:
        try:
            opened: State | BaseException = State.open(path, T0)
        except BaseException as error:
            opened = error
        with lock:
            results.append(opened)

    threads = [threading.Thread(target=open_state) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for _ in threads:
            assert waiting.acquire(timeout=30)  # each opener is at its BEGIN IMMEDIATE
        holder.execute("ROLLBACK")
        for thread in threads:
            thread.join(timeout=60)
        problems = [str(result) for result in results if isinstance(result, BaseException)]
        assert problems == []
        assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    finally:
        holder.close()
        for result in results:
            if isinstance(result, State):
                result.close()


# ---------------------------------------------------------------------------- where the file lives


def test_state_directory_follows_systemd_then_xdg_then_home(tmp_path: Path) -> None:
    # systemd may pass several directories separated by ":"; the first is ours.
    assert state_directory({"STATE_DIRECTORY": "/var/lib/mgremind:/var/lib/other"}) == Path("/var/lib/mgremind")
    assert state_directory({"STATE_DIRECTORY": "/var/lib/mgremind", "XDG_STATE_HOME": "/x"}) == Path(
        "/var/lib/mgremind"
    )
    assert state_directory({"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}) == Path("/x/state/mgremind")
    assert state_directory({"HOME": str(tmp_path)}) == tmp_path / ".local" / "state" / "mgremind"
    assert state_directory({"STATE_DIRECTORY": "", "XDG_STATE_HOME": "", "HOME": "/home/u"}) == Path(
        "/home/u/.local/state/mgremind"
    )


# ---------------------------------------------------------------------------- years of records (SPEC §4 v2)

# The schema of mgremind 2 (schema version 2), as it shipped: what a state of years is migrated from.
V2_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE reminder (id TEXT PRIMARY KEY, due_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'missed', 'failed')),
    late INTEGER NOT NULL DEFAULT 0, recorded_at TEXT NOT NULL);
CREATE TABLE delivery (reminder_id TEXT NOT NULL, channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')), attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt_at TEXT NOT NULL, updated_at TEXT NOT NULL, error TEXT, PRIMARY KEY (reminder_id, channel));
CREATE TABLE ack (reminder_id TEXT PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('taken', 'skipped')),
    at TEXT NOT NULL);
CREATE TABLE report (id INTEGER PRIMARY KEY, date TEXT NOT NULL, symptom TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE stock_count (id INTEGER PRIMARY KEY, supplement TEXT NOT NULL, units REAL NOT NULL, at TEXT NOT NULL);
PRAGMA user_version = 2;
"""
TABLES = {  # each table and its key: the rows compared in key order
    "meta": "key",
    "reminder": "id",
    "delivery": "reminder_id, channel",
    "ack": "reminder_id",
    "report": "id",
    "stock_count": "id",
}


def iso(instant: dt.datetime) -> str:
    return instant.isoformat(timespec="seconds")


def write_v2_state(path: Path, days: int) -> None:
    """A state of mgremind 2 with `days` days of three reminders, two channels, and all kinds of
    records; three acknowledgements recorded in the same second, in the order c, a, b."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(V2_SCHEMA)
        db.execute("BEGIN")
        db.execute("INSERT INTO meta VALUES ('created_at', ?), ('escalated_at', ?)", (iso(T0), iso(T0)))
        for day in range(days):
            date = (T0 + dt.timedelta(days=day)).date().isoformat()
            for number, meal in enumerate(("breakfast", "lunch", "dinner")):
                due = T0 + dt.timedelta(days=day, hours=number * 5)
                rid = f"{date}/{meal}"
                outcome = "missed" if day % 17 == 0 else "delivered"
                db.execute("INSERT INTO reminder VALUES (?, ?, ?, ?, ?)", (rid, iso(due), outcome, day % 2, iso(due)))
                for channel, status, error in (("console", "sent", None), ("abc123", "failed", "HTTP 503")):
                    db.execute(
                        "INSERT INTO delivery VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (rid, channel, status, 1 + day % 3, iso(due), iso(due + dt.timedelta(seconds=2)), error),
                    )
                if number != 2:
                    status = "skipped" if day % 5 == 0 else "taken"
                    db.execute("INSERT INTO ack VALUES (?, ?, ?)", (rid, status, iso(due + dt.timedelta(minutes=9))))
        last = iso(T0 + dt.timedelta(days=days + 1))
        for rid in ("c", "a", "b"):
            db.execute("INSERT INTO ack VALUES (?, 'taken', ?)", (f"2030-01-01/{rid}", last))
        db.execute("INSERT INTO report (date, symptom, recorded_at) VALUES ('2026-11-24', 'cramps', ?)", (iso(T0),))
        db.execute("INSERT INTO stock_count (supplement, units, at) VALUES ('citrate', 60.5, ?)", (iso(T0),))
        db.execute("COMMIT")
    finally:
        db.close()


def table_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {table: raw(path, f"SELECT * FROM {table} ORDER BY {key}") for table, key in TABLES.items()}


def test_a_v2_state_of_years_is_migrated_keeping_every_record(path: Path) -> None:
    write_v2_state(path, 400)
    before = table_rows(path)
    assert len(before["reminder"]) == 1200 and len(before["delivery"]) == 2400 and len(before["ack"]) == 803
    opened = State.open(path, T0 + dt.timedelta(days=500))
    try:
        assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert table_rows(path) == before  # every record, every column, as it was
        assert opened.outcome("2026-11-24/lunch") == "delivered"
        assert opened.deliveries("2026-11-24/lunch")["abc123"] == Delivery("failed", 2, T0 + dt.timedelta(hours=29))
        assert opened.acknowledgement("2026-11-28/breakfast") == "skipped"
        assert opened.stock_counts() == {"citrate": (60.5, T0)}
        # undo's order is kept: of the records of one second, the one written last first.
        assert [record.reminder_id for record in opened.take_back.latest(3)] == [  # type: ignore[union-attr]
            "2030-01-01/b",
            "2030-01-01/a",
            "2030-01-01/c",
        ]
    finally:
        opened.close()
    # Kept compact: the largest tables by their key alone, the old pages given back, the log emptied.
    schema = dict(raw(path, "SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    assert "WITHOUT ROWID" in schema["reminder"] and "WITHOUT ROWID" in schema["delivery"]
    assert raw(path, "PRAGMA freelist_count") == [(0,)]
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size < 100_000


def test_the_migration_is_one_transaction(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that fails half-way (here: the disk says no at the last table) leaves the v2 state as it was."""
    write_v2_state(path, 30)
    before = table_rows(path)
    connect = sqlite3.connect

    def failing_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)

        def authorize(action: int, name: str | None, *_: object) -> int:
            refused = action == sqlite3.SQLITE_CREATE_TABLE and name == "stock_total"
            return sqlite3.SQLITE_DENY if refused else sqlite3.SQLITE_OK

        connection.set_authorizer(authorize)
        return connection

    monkeypatch.setattr(sqlite3, "connect", failing_connect)
    with pytest.raises(StateError):
        State.open(path, T0)
    monkeypatch.undo()
    assert raw(path, "PRAGMA user_version") == [(2,)]
    assert table_rows(path) == before
    schema = dict(raw(path, "SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    assert "WITHOUT ROWID" not in schema["reminder"]
    assert "stock_total" not in schema and "reminder_v3" not in schema


def test_one_acknowledgement_and_a_range_of_days(state: State) -> None:
    for day in ("2026-11-21", "2026-11-22", "2026-11-23"):
        state.acknowledge(f"{day}/breakfast", "taken", T0)
    state.acknowledge("2026-11-23/dinner", "skipped", T0)
    assert state.acknowledgement("2026-11-23/dinner") == "skipped"
    assert state.acknowledgement("2026-11-23/lunch") is None
    assert state.acknowledgements_since(dt.date(2026, 11, 22)) == {
        "2026-11-22/breakfast": "taken",
        "2026-11-23/breakfast": "taken",
        "2026-11-23/dinner": "skipped",
    }


def test_reads_of_the_commands_and_deliveries_use_keys_never_scan_a_table(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What costs the same after years (SPEC §4 v2): each read SQLite makes of the large tables is
    a search of a key or an index, never a scan of the whole table."""
    write_v2_state(path, 20)
    statements: list[str] = []
    connect = sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    opened = State.open(path, T0)
    statements.clear()
    try:
        opened.acknowledgement("2026-11-24/lunch")
        opened.acknowledgements_since(dt.date(2026, 12, 1))
        opened.outcome("2026-11-24/lunch")
        opened.deliveries("2026-11-24/lunch")
        opened.channel_results()
        opened.stock_totals()
        opened.take_back.latest(5)
        opened.acknowledge("2026-12-01/lunch", "skipped", T0)
        opened.take_back.last()
    finally:
        opened.close()
    # A scan of a large table is bounded only when it follows an order SQLite keeps (a key, an
    # index: no temporary B-tree to sort) and stops after a LIMIT.
    unbounded = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "DELETE", "INSERT", "UPDATE")):
            continue
        details = [str(row[-1]) for row in raw(path, f"EXPLAIN QUERY PLAN {sql}")]
        scans = any(detail.startswith(("SCAN ack", "SCAN reminder", "SCAN delivery")) for detail in details)
        sorted_by_sqlite = any("TEMP B-TREE" in detail for detail in details)
        if scans and (sorted_by_sqlite or " LIMIT " not in sql.upper()):
            unbounded.append((sql, details))
    assert unbounded == []
    assert len(statements) > 9


# ---------------------------------------------------------------------------- running stock totals


COUNTED_AT = dt.datetime(2026, 10, 1, tzinfo=UTC)
THROUGH = dt.date(2026, 11, 21)


def test_stock_totals_are_kept_as_written(state: State) -> None:
    assert state.stock_totals() == {}
    version = state.stock_records_version()
    used = 0.1 + 0.2  # 0.30000000000000004: kept to the last bit
    assert state.save_stock_totals({"citrate": (COUNTED_AT, THROUGH, used)}, T0, version)
    assert state.stock_totals() == {"citrate": (COUNTED_AT, THROUGH, used)}
    later = (COUNTED_AT, THROUGH + dt.timedelta(days=1), used + 2)
    assert state.save_stock_totals({"citrate": later}, T0, version)
    assert state.stock_totals() == {"citrate": later}


def test_a_total_made_while_a_skip_was_recorded_is_not_saved(state: State) -> None:
    version = state.stock_records_version()  # the daemon reads the records …
    state.acknowledge("2026-11-20/breakfast", "skipped", T0)  # … `skip` is recorded meanwhile …
    assert not state.save_stock_totals({"citrate": (COUNTED_AT, THROUGH, 3.0)}, T0, version)  # … not saved
    assert state.stock_totals() == {}
    version = state.stock_records_version()
    state.acknowledge("2026-11-20/lunch", "taken", T0)  # taken: the units used are the same
    state.add_stock_count("citrate", 30, T0)  # a count: a total of the one before is ignored anyway
    assert state.save_stock_totals({"citrate": (COUNTED_AT, THROUGH, 3.0)}, T0, version)


def saved_totals(state: State) -> None:
    totals = {"early": (COUNTED_AT, THROUGH - dt.timedelta(days=5), 1.0), "late": (COUNTED_AT, THROUGH, 2.0)}
    assert state.save_stock_totals(totals, T0, state.stock_records_version())


def test_a_late_skip_drops_the_totals_that_cover_its_day(state: State) -> None:
    saved_totals(state)
    state.acknowledge("2026-11-22/breakfast", "skipped", T0)  # after both: they stand
    assert set(state.stock_totals()) == {"early", "late"}
    state.acknowledge("2026-11-20/breakfast", "skipped", T0)  # covered by "late" only
    assert set(state.stock_totals()) == {"early"}
    saved_totals(state)
    state.acknowledge("2026-11-22/breakfast", "taken", T0)  # skipped → taken, after both
    state.acknowledge("2026-11-10/breakfast", "taken", T0)  # never skipped: nothing changes
    assert set(state.stock_totals()) == {"early", "late"}
    state.acknowledge("2026-11-20/breakfast", "taken", T0)  # skipped → taken, covered by "late"
    assert set(state.stock_totals()) == {"early"}


def test_taking_back_a_skip_or_a_report_drops_the_totals_that_cover_it(state: State) -> None:
    state.acknowledge("2026-11-10/lunch", "taken", T0)
    state.acknowledge("2026-11-10/dinner", "skipped", T0)
    saved_totals(state)
    assert state.take_back.acknowledgement("2026-11-10/lunch") is not None  # taken: the units stay used
    assert set(state.stock_totals()) == {"early", "late"}
    assert state.take_back.last() is not None  # the skip of 11-10: its units count again
    assert state.stock_totals() == {}
    # A report on R may lower the plan from R+1 on: the totals that cover R+1.
    saved_totals(state)
    state.add_report(THROUGH, "cramps", T0)  # R+1 is after both
    assert set(state.stock_totals()) == {"early", "late"}
    state.add_report(THROUGH - dt.timedelta(days=3), "cramps", T0)
    assert set(state.stock_totals()) == {"early"}
    saved_totals(state)
    assert state.take_back.last() is not None  # that report, taken back
    assert set(state.stock_totals()) == {"early"}
