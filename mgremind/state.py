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
from pathlib import Path
from typing import NamedTuple

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


class StateError(Exception):
    """The state file cannot be used; the message says which file and why."""


class Delivery(NamedTuple):
    status: str  # "sending", "sent", "failed"
    attempts: int
    first_attempt_at: dt.datetime


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


class State:
    """One connection shared by the daemon's threads, serialised by a lock."""

    ESCALATED = ESCALATED

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, now: dt.datetime) -> "State":
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise StateError(f"{path}: cannot open the state database: {error}") from None
        state = cls(path, connection)
        try:
            state._prepare(now)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise StateError(
                f"{path}: not a usable mgremind state database ({error}); "
                "move it aside to start afresh (delivery history is then forgotten)"
            ) from None
        return state

    def _prepare(self, now: dt.datetime) -> None:
        db = self._db
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
        for target in range(version + 1, SCHEMA_VERSION + 1):
            db.execute("BEGIN IMMEDIATE")
            # Another process (the daemon and a command, started together) may have migrated
            # between the read above and this lock: read again under the lock.
            if db.execute("PRAGMA user_version").fetchone()[0] >= target:
                db.execute("COMMIT")
                continue
            try:
                for statement in _statements(MIGRATIONS[target - 1]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (_iso(now),))
        with contextlib.suppress(OSError):  # not ours to change (e.g. a shared directory): keep going
            os.chmod(self.path, 0o600)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ reads

    @property
    def created_at(self) -> dt.datetime:
        """When this state began: reminders before it are nobody's business."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()
        return dt.datetime.fromisoformat(row[0])

    def outcome(self, reminder_id: str) -> str | None:
        """ "delivered", "missed", or None while the reminder is still open."""
        with self._lock:
            row = self._db.execute("SELECT outcome FROM reminder WHERE id = ?", (reminder_id,)).fetchone()
        return row[0] if row else None

    def deliveries(self, reminder_id: str) -> dict[str, Delivery]:
        """Each channel's delivery of a reminder, by channel key."""
        with self._lock:
            rows = self._db.execute(
                "SELECT channel, status, attempts, first_attempt_at FROM delivery WHERE reminder_id = ?",
                (reminder_id,),
            ).fetchall()
        return {row[0]: Delivery(row[1], row[2], dt.datetime.fromisoformat(row[3])) for row in rows}

    # ------------------------------------------------------------------ writes

    def begin_delivery(self, reminder_id: str, channel: str, now: dt.datetime) -> bool:
        """Records an attempt before the channel is asked. True when an earlier attempt was
        interrupted between sending and recording, so the message may already be there."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT status FROM delivery WHERE reminder_id = ? AND channel = ?", (reminder_id, channel)
                ).fetchone()
                self._db.execute(
                    "INSERT INTO delivery (reminder_id, channel, status, attempts, first_attempt_at, updated_at) "
                    "VALUES (?, ?, 'sending', 1, ?, ?) ON CONFLICT (reminder_id, channel) DO UPDATE SET "
                    "status = 'sending', attempts = attempts + 1, updated_at = excluded.updated_at",
                    (reminder_id, channel, _iso(now), _iso(now)),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return bool(row and row[0] == "sending")

    def finish_delivery(self, reminder_id: str, channel: str, now: dt.datetime, error: str | None) -> None:
        """The channel accepted the message (error None) or refused it."""
        status = "sent" if error is None else "failed"
        with self._lock:
            self._db.execute(
                "UPDATE delivery SET status = ?, error = ?, updated_at = ? WHERE reminder_id = ? AND channel = ?",
                (status, error, _iso(now), reminder_id, channel),
            )

    def acknowledge(self, reminder_id: str, status: str, now: dt.datetime) -> str | None:
        """Records "taken" or "skipped"; returns what was recorded before, if anything."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT status FROM ack WHERE reminder_id = ?", (reminder_id,)).fetchone()
                self._db.execute(
                    "INSERT INTO ack (reminder_id, status, at) VALUES (?, ?, ?) "
                    "ON CONFLICT (reminder_id) DO UPDATE SET status = excluded.status, at = excluded.at",
                    (reminder_id, status, _iso(now)),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return row[0] if row else None

    def acknowledgements(self) -> dict[str, str]:
        """ "taken" or "skipped" by reminder id."""
        with self._lock:
            rows = self._db.execute("SELECT reminder_id, status FROM ack").fetchall()
        return dict(rows)

    def add_report(self, day: dt.date, symptom: str, now: dt.datetime) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO report (date, symptom, recorded_at) VALUES (?, ?, ?)",
                (day.isoformat(), symptom, _iso(now)),
            )

    def reports(self) -> dict[dt.date, list[str]]:
        """The reported symptoms by the day they were noticed."""
        with self._lock:
            rows = self._db.execute("SELECT date, symptom FROM report ORDER BY date, id").fetchall()
        found: dict[dt.date, list[str]] = {}
        for day, symptom in rows:
            found.setdefault(dt.date.fromisoformat(day), []).append(symptom)
        return found

    def add_stock_count(self, supplement: str, units: float, now: dt.datetime) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO stock_count (supplement, units, at) VALUES (?, ?, ?)", (supplement, units, _iso(now))
            )

    def stock_counts(self) -> dict[str, tuple[float, dt.datetime]]:
        """The latest count of each supplement: (units, when)."""
        with self._lock:
            rows = self._db.execute("SELECT supplement, units, at FROM stock_count ORDER BY at, id").fetchall()
        return {supplement: (units, dt.datetime.fromisoformat(at)) for supplement, units, at in rows}

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def claim_meta(self, key: str, value: str) -> bool:
        """Sets `key` if it is not set; True when this call set it (across threads and processes)."""
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
        return cursor.rowcount == 1

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    def close_reminder(
        self, reminder_id: str, due_at: dt.datetime, outcome: str, now: dt.datetime, late: bool = False
    ) -> None:
        """Records that a reminder is done with: delivered everywhere it could be, or missed."""
        with self._lock:
            self._db.execute(
                "INSERT INTO reminder (id, due_at, outcome, late, recorded_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (reminder_id, _iso(due_at), outcome, int(late), _iso(now)),
            )


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
