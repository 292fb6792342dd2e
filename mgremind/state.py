"""The daemon's memory: which reminder went to which channel, in one SQLite file (WAL).

This file, not a scheduler job store, is the record of what was sent (SPEC §4): a
reminder id is delivered at most once per channel across restarts and crashes. A
delivery is written as "sending" before the channel is asked and "sent" after it
accepted; a "sending" row found later means the process died in between, so the
message may already have arrived and the retry says so. Channels are stored by a
hash of their URL, never by the URL: the file may be read by other users.
"""

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from mgremind.model import StateError

__all__ = ["SCHEMA_VERSION", "Acknowledgement", "Delivery", "State", "StateError"]

SCHEMA_VERSION = 2

# Each entry brings the schema from version N-1 to N; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE reminder (
        id TEXT PRIMARY KEY,              -- DATE/MEAL, DATE/MEAL+delay
        due_at TEXT NOT NULL,             -- ISO 8601, UTC
        outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'missed', 'failed')),
        late INTEGER NOT NULL DEFAULT 0,  -- sent after its time, on catch-up
        recorded_at TEXT NOT NULL
    );
    CREATE TABLE delivery (
        reminder_id TEXT NOT NULL,
        channel TEXT NOT NULL,            -- a hash of the channel's URL
        status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (reminder_id, channel)
    );
    """,
    """
    CREATE TABLE ack (
        reminder_id TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('taken', 'skipped')),
        at TEXT NOT NULL
    );
    CREATE TABLE report (
        id INTEGER PRIMARY KEY,
        date TEXT NOT NULL,               -- the local day the symptom was noticed
        symptom TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE TABLE stock_count (
        id INTEGER PRIMARY KEY,
        supplement TEXT NOT NULL,
        units REAL NOT NULL,
        at TEXT NOT NULL
    );
    """,
)


# meta key: set while the caregivers have been told of missed doses and not yet that they were taken again.
ESCALATED = "escalated_at"


class Delivery(NamedTuple):
    status: str  # "sending", "sent", "failed"
    attempts: int
    first_attempt_at: dt.datetime


class Acknowledgement(NamedTuple):
    reminder_id: str
    status: str  # "taken", "skipped"
    at: dt.datetime  # when it was recorded


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


class Database:
    """The SQLite file under the records: opened in WAL mode, its schema brought up to date, and
    one connection shared by the daemon's threads, serialised by a lock."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, now: dt.datetime) -> "Database":
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise StateError(f"{path}: cannot open the state database: {error}") from None
        database = cls(path, connection)
        try:
            database._prepare(now)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise StateError(
                f"{path}: not a usable mgremind state database ({error}); "
                "move it aside to start afresh (delivery history is then forgotten)"
            ) from None
        return database

    def _prepare(self, now: dt.datetime) -> None:
        db = self._connection
        db.execute("PRAGMA busy_timeout = 10000")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.DatabaseError(f"cannot use write-ahead logging (journal mode {mode})")
        db.execute("PRAGMA synchronous = FULL")  # a delivery recorded is a delivery on disk
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this mgremind knows ({SCHEMA_VERSION}); upgrade mgremind"
            )
        if version == 0:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            if tables:  # never migrate another program's database in place
                raise sqlite3.DatabaseError(f"it is another program's database (tables: {', '.join(tables[:5])})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.access(transaction=True) as locked:
                # Another process (the daemon and a command, started together) may have migrated
                # between the read above and this lock: read again under the lock.
                if locked.execute("PRAGMA user_version").fetchone()[0] < target:
                    for statement in _statements(MIGRATIONS[target - 1]):
                        locked.execute(statement)
                    locked.execute(f"PRAGMA user_version = {target}")
        db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (_iso(now),))
        with contextlib.suppress(OSError):  # not ours to change (e.g. a shared directory): keep going
            os.chmod(self.path, 0o600)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @contextlib.contextmanager
    def access(self, transaction: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection, one thread at a time; with `transaction`, inside BEGIN IMMEDIATE …
        COMMIT, rolled back on any error. Every SQLite error leaves as a StateError naming the
        file: no command answers a damaged, locked or read-only state with a traceback."""
        db = self._connection
        with self._lock:
            try:
                if transaction:
                    db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    if transaction:
                        db.execute("COMMIT")
                except BaseException:
                    # SQLite may have rolled back already (a full disk, an I/O error): a second
                    # ROLLBACK would raise "no transaction is active" and hide the real error.
                    if transaction and db.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise StateError(_failure(self.path, error)) from None


class State:
    """What was delivered, acknowledged, reported and counted: the records of SPEC §4 and §6."""

    ESCALATED = ESCALATED

    def __init__(self, database: Database) -> None:
        self.path = database.path
        self._database = database
        self._access = database.access

    @classmethod
    def open(cls, path: Path, now: dt.datetime) -> "State":
        return cls(Database.open(path, now))

    def close(self) -> None:
        self._database.close()

    # ------------------------------------------------------------------ reads

    @property
    def created_at(self) -> dt.datetime:
        """When this state began: reminders before it are nobody's business."""
        with self._access() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()
            return _instant(row[0] if row else None)

    def outcome(self, reminder_id: str) -> str | None:
        """ "delivered", "missed", or None while the reminder is still open."""
        with self._access() as db:
            row = db.execute("SELECT outcome FROM reminder WHERE id = ?", (reminder_id,)).fetchone()
        return row[0] if row else None

    def deliveries(self, reminder_id: str) -> dict[str, Delivery]:
        """Each channel's delivery of a reminder, by channel key."""
        with self._access() as db:
            rows = db.execute(
                "SELECT channel, status, attempts, first_attempt_at FROM delivery WHERE reminder_id = ?",
                (reminder_id,),
            ).fetchall()
            return {row[0]: Delivery(row[1], row[2], _instant(row[3])) for row in rows}

    # ------------------------------------------------------------------ writes

    def begin_delivery(self, reminder_id: str, channel: str, now: dt.datetime) -> bool:
        """Records an attempt before the channel is asked. True when an earlier attempt was
        interrupted between sending and recording, so the message may already be there."""
        with self._access(transaction=True) as db:
            row = db.execute(
                "SELECT status FROM delivery WHERE reminder_id = ? AND channel = ?", (reminder_id, channel)
            ).fetchone()
            db.execute(
                "INSERT INTO delivery (reminder_id, channel, status, attempts, first_attempt_at, updated_at) "
                "VALUES (?, ?, 'sending', 1, ?, ?) ON CONFLICT (reminder_id, channel) DO UPDATE SET "
                "status = 'sending', attempts = attempts + 1, updated_at = excluded.updated_at",
                (reminder_id, channel, _iso(now), _iso(now)),
            )
        return bool(row and row[0] == "sending")

    def finish_delivery(self, reminder_id: str, channel: str, now: dt.datetime, error: str | None) -> None:
        """The channel accepted the message (error None) or refused it."""
        status = "sent" if error is None else "failed"
        with self._access() as db:
            db.execute(
                "UPDATE delivery SET status = ?, error = ?, updated_at = ? WHERE reminder_id = ? AND channel = ?",
                (status, error, _iso(now), reminder_id, channel),
            )

    def acknowledge(self, reminder_id: str, status: str, now: dt.datetime) -> str | None:
        """Records "taken" or "skipped"; returns what was recorded before, if anything."""
        with self._access(transaction=True) as db:
            row = db.execute("SELECT status FROM ack WHERE reminder_id = ?", (reminder_id,)).fetchone()
            db.execute(
                "INSERT INTO ack (reminder_id, status, at) VALUES (?, ?, ?) "
                "ON CONFLICT (reminder_id) DO UPDATE SET status = excluded.status, at = excluded.at",
                (reminder_id, status, _iso(now)),
            )
        return row[0] if row else None

    def acknowledgements(self) -> dict[str, str]:
        """ "taken" or "skipped" by reminder id."""
        with self._access() as db:
            rows = db.execute("SELECT reminder_id, status FROM ack").fetchall()
        return dict(rows)

    def unacknowledge(self, reminder_id: str | None) -> Acknowledgement | None:
        """Takes back the acknowledgement of `reminder_id` (None: the one recorded last); returns
        what was taken back, or None when there was none."""
        with self._access(transaction=True) as db:
            if reminder_id is None:
                row = db.execute(
                    "SELECT reminder_id, status, at FROM ack ORDER BY at DESC, rowid DESC LIMIT 1"
                ).fetchone()
            else:
                row = db.execute(
                    "SELECT reminder_id, status, at FROM ack WHERE reminder_id = ?", (reminder_id,)
                ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM ack WHERE reminder_id = ?", (row[0],))
            return Acknowledgement(str(row[0]), str(row[1]), _instant(row[2]))

    def latest_acknowledgements(self, count: int) -> list[Acknowledgement]:
        """The `count` acknowledgements recorded last, the last first."""
        with self._access() as db:
            rows = db.execute(
                "SELECT reminder_id, status, at FROM ack ORDER BY at DESC, rowid DESC LIMIT ?", (count,)
            ).fetchall()
            return [Acknowledgement(str(row[0]), str(row[1]), _instant(row[2])) for row in rows]

    def add_report(self, day: dt.date, symptom: str, now: dt.datetime) -> None:
        with self._access() as db:
            db.execute(
                "INSERT INTO report (date, symptom, recorded_at) VALUES (?, ?, ?)",
                (day.isoformat(), symptom, _iso(now)),
            )

    def reports(self) -> dict[dt.date, list[str]]:
        """The reported symptoms by the day they were noticed."""
        with self._access() as db:
            rows = db.execute("SELECT date, symptom FROM report ORDER BY date, id").fetchall()
            found: dict[dt.date, list[str]] = {}
            for day, symptom in rows:
                found.setdefault(_date(day), []).append(str(symptom))
            return found

    def add_stock_count(self, supplement: str, units: float, now: dt.datetime) -> None:
        with self._access() as db:
            db.execute(
                "INSERT INTO stock_count (supplement, units, at) VALUES (?, ?, ?)", (supplement, units, _iso(now))
            )

    def stock_counts(self) -> dict[str, tuple[float, dt.datetime]]:
        """The latest count of each supplement: (units, when)."""
        with self._access() as db:
            rows = db.execute("SELECT supplement, units, at FROM stock_count ORDER BY at, id").fetchall()
            return {str(supplement): (_units(units), _instant(at)) for supplement, units, at in rows}

    def get_meta(self, key: str) -> str | None:
        with self._access() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def claim_meta(self, key: str, value: str) -> bool:
        """Sets `key` if it is not set; True when this call set it (across threads and processes)."""
        with self._access() as db:
            cursor = db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
        return cursor.rowcount == 1

    def set_meta(self, key: str, value: str | None) -> None:
        with self._access() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    def close_reminder(
        self, reminder_id: str, due_at: dt.datetime, outcome: str, now: dt.datetime, late: bool = False
    ) -> None:
        """Records that a reminder is done with: delivered everywhere it could be, or missed."""
        with self._access() as db:
            db.execute(
                "INSERT INTO reminder (id, due_at, outcome, late, recorded_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (reminder_id, _iso(due_at), outcome, int(late), _iso(now)),
            )


class _Garbled(sqlite3.DatabaseError):
    """A value the state holds is not what mgremind wrote there."""


def _instant(text: object) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise _Garbled(f"a time is garbled: {str(text)[:40]!r}") from None
    if instant.tzinfo is None:
        raise _Garbled(f"a time has no UTC offset: {str(text)[:40]!r}")
    return instant


def _date(text: object) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise _Garbled(f"a date is garbled: {str(text)[:40]!r}") from None


def _units(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1e9:
        raise _Garbled(f"a stock count is garbled: {str(value)[:40]!r}")
    return float(value)


def _failure(path: Path, error: sqlite3.Error) -> str:
    """One line: the file, what SQLite said, and what to do."""
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and "readonly" in text:
        fix = "it cannot be written: check its owner and permissions (and those of its directory)"
    elif isinstance(error, sqlite3.OperationalError) and "locked" in text:
        fix = "another process holds it locked; try again"
    else:
        fix = "it may be damaged: move it aside to start afresh (delivery history is then forgotten)"
    return f"{path}: the state database failed ({text}); {fix}"


def _statements(script: str) -> list[str]:
    """A migration script split into statements (executescript would commit on its own)."""
    statements, current = [], []
    for line in script.splitlines():
        current.append(line.split("--", 1)[0])
        candidate = "\n".join(current)
        if sqlite3.complete_statement(candidate):
            statements.append(candidate.strip())
            current = []
    return [statement for statement in statements if statement.rstrip(";").strip()]
