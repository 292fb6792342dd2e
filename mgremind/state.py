"""The daemon's memory: which reminder went to which channel, in one SQLite file (WAL).

This file, not a scheduler job store, is the record of what was sent (SPEC §4): a
reminder id is delivered at most once per channel across restarts and crashes. A
delivery is written as "sending" before the channel is asked and "sent" after it
accepted; a "sending" row found later means the process died in between, so the
message may already have arrived and the retry says so. Channels are stored by a
hash of their URL, never by the URL: the file may be read by other users.

The fsync policy follows from that promise. The "sending" rows of a reminder are on disk
(synchronous=FULL: the write-ahead log fsynced) before the first channel is asked: lost in a
power cut, a resend after it would not say that it may be a repeat. The rows written after a
send ("sent", "failed", the reminder closed) are not waited for (synchronous=NORMAL: they
survive the process dying, and reach the disk with the next fsync): lost in a power cut, they
leave the row "sending", and the resend says that it may be a repeat, which is the truth. One
fsync a delivery (about 3 ms of its 6 on a 2-core machine), before the send; none after.
The commands' records (taken, report, stock…) are durable: a user said them once.

Every mgremind state carries APPLICATION_ID; a file that carries another, or tables of another
program, is never written to (not even switched to WAL). `verify` checks the whole file before
the daemon schedules anything.
"""

import contextlib
import datetime as dt
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple, TypeAlias, TypeVar

from mgremind.model import StateError

__all__ = [
    "SCHEMA_VERSION",
    "Acknowledgement",
    "ChannelResult",
    "Delivery",
    "Record",
    "Report",
    "State",
    "StateError",
    "StockCount",
]

SCHEMA_VERSION = 3

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
    # Compact and bounded reads at any age (SPEC §4 v2). reminder and delivery are kept by their
    # text key alone (WITHOUT ROWID): a rowid table holds that key twice, in the table and in its
    # index, a quarter of the file. ack keeps its rowid (undo orders the records of one second by
    # it) and gains an index on when each was recorded, so undo finds the latest without a scan.
    # stock_total: the running total of each counted supplement since its count (see history.py).
    """
    CREATE TABLE reminder_v3 (
        id TEXT PRIMARY KEY,
        due_at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'missed', 'failed')),
        late INTEGER NOT NULL DEFAULT 0,
        recorded_at TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO reminder_v3 (id, due_at, outcome, late, recorded_at)
        SELECT id, due_at, outcome, late, recorded_at FROM reminder ORDER BY id;
    DROP TABLE reminder;
    ALTER TABLE reminder_v3 RENAME TO reminder;
    CREATE TABLE delivery_v3 (
        reminder_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (reminder_id, channel)
    ) WITHOUT ROWID;
    INSERT INTO delivery_v3 (reminder_id, channel, status, attempts, first_attempt_at, updated_at, error)
        SELECT reminder_id, channel, status, attempts, first_attempt_at, updated_at, error FROM delivery
        ORDER BY reminder_id, channel;
    DROP TABLE delivery;
    ALTER TABLE delivery_v3 RENAME TO delivery;
    CREATE INDEX ack_recorded ON ack (at);
    CREATE TABLE stock_total (
        supplement TEXT PRIMARY KEY,
        counted_at TEXT NOT NULL,         -- the count it runs from (ISO 8601, UTC)
        through TEXT NOT NULL,            -- the last local day it covers
        used REAL NOT NULL,               -- units of the reminders since the count through that day, not skipped
        updated_at TEXT NOT NULL
    );
    """,
)


# The schema version whose migration rebuilt the largest tables: a state migrated to it is compacted.
COMPACT_VERSION = 3

# meta key: set while the caregivers have been told of missed doses and not yet that they were taken again.
ESCALATED = "escalated_at"
# meta key: counts the changes to the records a running stock total rests on (a skip recorded or
# taken back, a symptom report): a total made from the records as they were before is not saved.
STOCK_RECORDS = "stock_records_version"


class Delivery(NamedTuple):
    status: str  # "sending", "sent", "failed"
    attempts: int
    first_attempt_at: dt.datetime


class Acknowledgement(NamedTuple):
    reminder_id: str
    status: str  # "taken", "skipped"
    at: dt.datetime  # when it was recorded


class Report(NamedTuple):
    """A symptom report as recorded (`mgremind report`)."""

    id: int
    date: dt.date  # the day it was noticed
    symptom: str
    at: dt.datetime  # when it was recorded


class StockCount(NamedTuple):
    """A count of a supplement on hand as recorded (`mgremind stock`)."""

    id: int
    supplement: str
    units: float
    at: dt.datetime  # when it was recorded


# What a command records, and `undo` takes back.
Record: TypeAlias = Acknowledgement | Report | StockCount
R = TypeVar("R", Report, StockCount)  # what `undo` takes back by its number


class ChannelResult(NamedTuple):
    """A channel's latest delivery: what became of it, and when."""

    reminder_id: str  # the reminder (or "#repeatN" of it) last sent to the channel
    status: str  # "sending", "sent", "failed"
    error: str | None  # why it failed (no secret in it)
    at: dt.datetime  # when that was recorded
    attempts: int


# How many of the latest deliveries `channel_results` looks through: a day's reminders on every
# channel many times over, and a bound that keeps `status` as fast after years as on the first day.
RECENT_DELIVERIES = 2000


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


# prctl(2) and its securebits (linux/prctl.h, linux/securebits.h).
PR_GET_SECUREBITS, PR_SET_SECUREBITS = 27, 28
SECBIT_NO_SETUID_FIXUP = 1 << 2


def create_as_owner(directory: Path) -> None:
    """For a one-shot command run as root (`sudo mgremind taken`) on a state directory that belongs
    to another user, the service's (dynamic or not): every file this process creates from now on
    (the database, its -wal and -shm, which SQLite makes and removes as it goes) belongs to that
    user, so the daemon can still write them. A root-owned -wal in the service's directory is
    otherwise the classic trap. The daemon never calls this: its files are its own.

    Why not setgroups/setgid/setuid and the database opened through /proc/self/fd/N: SQLite turns
    every name into a canonical one, following links, magic ones included, so it would open
    /var/lib/private/mgremind/…, and /var/lib/private (0700 root, DynamicUser=) cannot be entered
    by the service's user. Instead the filesystem ids alone become the owner's (setfsgid,
    setfsuid: what new files are owned by) while root keeps the capability to enter directories:
    SECBIT_NO_SETUID_FIXUP stops the kernel from dropping it with the filesystem uid. Both are
    per thread: the commands use the database from their one thread. Fails with a StateError."""
    if os.geteuid() != 0:
        return  # a user's command on a user's state: it is already the owner, or is refused
    try:
        owner = os.stat(directory)  # through the link /var/lib/mgremind -> private/mgremind
    except FileNotFoundError:
        return  # made below, by root (systemd gives StateDirectory= to the service on its start)
    except OSError as error:
        raise StateError(f"{directory}: cannot open the state directory: {error}") from None
    if owner.st_uid == 0:
        return
    import ctypes  # only here: root acting on a service's state

    libc = ctypes.CDLL(None, use_errno=True)
    bits: int = libc.prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)
    if bits < 0 or libc.prctl(PR_SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) != 0:
        reason = os.strerror(ctypes.get_errno())
        raise StateError(f"{directory}: cannot act as its owner (uid {owner.st_uid}): {reason}")
    libc.setfsgid(owner.st_gid)
    libc.setfsuid(owner.st_uid)
    # setfsuid answers the previous id, never an error: an invalid id (-1) asks for the current one.
    if libc.setfsgid(-1) != owner.st_gid or libc.setfsuid(-1) != owner.st_uid:
        raise StateError(f"{directory}: cannot act as its owner (uid {owner.st_uid}): setfsuid refused")


class Database:
    """The SQLite file under the records: opened in WAL mode, its schema brought up to date, and
    one connection shared by the daemon's threads, serialised by a lock."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection
        self._lock = threading.Lock()
        self._durable = True  # PRAGMA synchronous = FULL, set by _prepare

    @classmethod
    def open(cls, path: Path, now: dt.datetime, *, as_owner: bool = False) -> "Database":
        """`as_owner`: a one-shot command's opening, never the daemon's (see create_as_owner)."""
        try:
            if as_owner:
                create_as_owner(path.parent)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise StateError(f"{path}: cannot open the state database: {error}") from None
        database = cls(path, connection)
        try:
            database._prepare(now)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:  # a garbled file's text, too
            connection.close()
            raise StateError(
                f"{path}: not a usable mgremind state database ({error}); "
                "move it aside to start afresh (delivery history is then forgotten)"
            ) from None
        return database

    def _prepare(self, now: dt.datetime) -> None:
        db = self._connection
        db.execute("PRAGMA busy_timeout = 10000")
        # Read before anything is written (switching to WAL writes the file's header): another
        # program's file is left exactly as it was.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        _refuse_foreign(db, version)
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this mgremind knows ({SCHEMA_VERSION}); upgrade mgremind"
            )
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.DatabaseError(f"cannot use write-ahead logging (journal mode {mode})")
        db.execute("PRAGMA synchronous = FULL")  # a delivery recorded is a delivery on disk
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.access(transaction=True) as locked:
                # Another process (the daemon and a command, started together) may have migrated
                # between the read above and this lock: read again under the lock.
                if locked.execute("PRAGMA user_version").fetchone()[0] < target:
                    for statement in _statements(MIGRATIONS[target - 1]):
                        locked.execute(statement)
                    locked.execute(f"PRAGMA user_version = {target}")
        if 0 < version < COMPACT_VERSION:
            self._compact()
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # ours from now on (states before v2 had none)
        db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (_iso(now),))
        with contextlib.suppress(OSError):  # not ours to change (e.g. a shared directory): keep going
            os.chmod(self.path, 0o600)

    def _compact(self) -> None:
        """After the migration that rebuilt the largest tables: their old pages go back to the file
        system (VACUUM) and the write-ahead log the copy went through is emptied. Once, at the first
        start after an upgrade (about a second for 3 years at 200 reminders a day). Best effort: a
        file left larger (no room for the copy, another process reading) is as good a state."""
        with contextlib.suppress(sqlite3.Error):
            self._connection.execute("VACUUM")
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def verify(self) -> None:
        """What `run` checks before it schedules anything (SPEC §4 v2, damage is found at start):
        SQLite's own check of every page and index (quick_check: the structure, not the
        cross-checks of integrity_check, which costs several times more on years of records) and
        every table and column the schema should have. StateError naming the file otherwise."""
        with self.access() as db:
            problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("damaged: " + "; ".join(problems)[:300])
            found = _tables(db)
        for table, columns in _expected_tables().items():
            if table not in found:
                raise StateError(f"{self.path}: the state database has no table {table!r}: {_MOVE_ASIDE}")
            if missing := [column for column in columns if column not in found[table]]:
                raise StateError(
                    f"{self.path}: the state database's table {table!r} lacks {', '.join(missing)}: {_MOVE_ASIDE}"
                )

    @contextlib.contextmanager
    def access(self, transaction: bool = False, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """The connection, one thread at a time; with `transaction`, inside BEGIN IMMEDIATE …
        COMMIT, rolled back on any error. Every SQLite error leaves as a StateError naming the
        file: no command answers a damaged, locked or read-only state with a traceback.

        `durable`: the writes are on disk when this returns (an fsync of the write-ahead log);
        not `durable`, they survive the process dying but may be lost with the machine (power
        loss), which the daemon accepts for the records written after a send (see State)."""
        db = self._connection
        with self._lock:
            try:
                if durable != self._durable:
                    db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                    self._durable = durable
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
            except (sqlite3.Error, UnicodeDecodeError) as error:  # a garbled file's text, too
                raise StateError(_failure(self.path, error)) from None


class State:
    """What was delivered, acknowledged, reported and counted: the records of SPEC §4 and §6."""

    ESCALATED = ESCALATED

    def __init__(self, database: Database) -> None:
        self.path = database.path
        self._database = database
        self._access = database.access
        self.take_back = TakeBack(database)

    @classmethod
    def open(cls, path: Path, now: dt.datetime, *, as_owner: bool = False) -> "State":
        return cls(Database.open(path, now, as_owner=as_owner))

    def close(self) -> None:
        self._database.close()

    def verify(self) -> None:
        """The database's structure (Database.verify), and the values every delivery reads: the
        time the state began, the symptom reports and the stock counts. StateError naming the file."""
        self._database.verify()
        _ = self.created_at, self.reports(), self.stock_counts()

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

    def outcomes_since(self, day: dt.date) -> dict[str, str]:
        """The outcome of each closed reminder (and repeat) of `day` and later, by id: a range of the
        primary key (ids begin with their date), one query however old the state."""
        with self._access() as db:
            rows = db.execute("SELECT id, outcome FROM reminder WHERE id >= ?", (day.isoformat(),)).fetchall()
        return {str(reminder_id): str(outcome) for reminder_id, outcome in rows}

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

    def begin_deliveries(self, reminder_id: str, channels: Iterable[str], now: dt.datetime) -> set[str]:
        """begin_delivery for several channels in one write, on disk before any is asked (the one
        fsync of a delivery); returns the channels whose earlier attempt was interrupted."""
        interrupted = set()
        with self._access(transaction=True) as db:
            for channel in channels:
                row = db.execute(
                    "SELECT status FROM delivery WHERE reminder_id = ? AND channel = ?", (reminder_id, channel)
                ).fetchone()
                if row and row[0] == "sending":
                    interrupted.add(channel)
                db.execute(
                    "INSERT INTO delivery (reminder_id, channel, status, attempts, first_attempt_at, updated_at) "
                    "VALUES (?, ?, 'sending', 1, ?, ?) ON CONFLICT (reminder_id, channel) DO UPDATE SET "
                    "status = 'sending', attempts = attempts + 1, updated_at = excluded.updated_at",
                    (reminder_id, channel, _iso(now), _iso(now)),
                )
        return interrupted

    def finish_delivery(
        self, reminder_id: str, channel: str, now: dt.datetime, error: str | None, *, unknown: bool = False
    ) -> None:
        """The channel accepted the message (error None) or refused it; `unknown`: it gave no answer
        in time, so the message may have arrived: the row stays "sending" (a resend says it may
        repeat) with the error. Not durable: lost with the machine, the row says "sending", and the
        resend after the restart says that it may be a repeat, which is the truth."""
        status = "sending" if unknown else "sent" if error is None else "failed"
        with self._access(durable=False) as db:
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
            before = row[0] if row else None
            if (before == "skipped") != (status == "skipped"):  # the units used since a count change
                _stock_records_changed(db, _day_of(reminder_id))
        return before

    def acknowledgement(self, reminder_id: str) -> str | None:
        """ "taken", "skipped", or None: one reminder's acknowledgement, one lookup of the key."""
        with self._access() as db:
            row = db.execute("SELECT status FROM ack WHERE reminder_id = ?", (reminder_id,)).fetchone()
        return None if row is None else str(row[0])

    def acknowledgements(self) -> dict[str, str]:
        """ "taken" or "skipped" by reminder id, every one ever recorded: a read that grows with
        the years. What needs a few days reads `acknowledgements_since`, one reminder `acknowledgement`."""
        with self._access() as db:
            rows = db.execute("SELECT reminder_id, status FROM ack").fetchall()
        return dict(rows)

    def add_report(self, day: dt.date, symptom: str, now: dt.datetime) -> None:
        with self._access(transaction=True) as db:
            db.execute(
                "INSERT INTO report (date, symptom, recorded_at) VALUES (?, ?, ?)",
                (day.isoformat(), symptom, _iso(now)),
            )
            _stock_records_changed(db, _day_after(day))  # the titration may plan less from the next day

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

    # ------------------------------------------------------------------ running stock totals (history.StockTotal)

    def stock_totals(self) -> dict[str, tuple[dt.datetime, dt.date, float]]:
        """The running total of each supplement by id: (the instant of the count it runs from, the
        last local day it covers, the units used from the count through that day, not skipped).
        Whether one still runs from the latest count is for history.supplies to decide."""
        with self._access() as db:
            rows = db.execute("SELECT supplement, counted_at, through, used FROM stock_total").fetchall()
            return {str(name): (_instant(at), _date(through), _units(used)) for name, at, through, used in rows}

    def stock_records_version(self) -> int:
        """Changes whenever a record the running totals rest on changes: read it before the records
        a new total is made from, and hand it to save_stock_totals."""
        with self._access() as db:
            return _stock_records_version(db)

    def save_stock_totals(
        self, totals: Mapping[str, tuple[dt.datetime, dt.date, float]], now: dt.datetime, version: int
    ) -> bool:
        """Keeps the running totals (see stock_totals) unless the records they rest on changed since
        `version` was read (False: then none is saved, and the caller may make them again). Not
        durable: a total lost with the machine is made again from the records."""
        with self._access(transaction=True, durable=False) as db:
            if _stock_records_version(db) != version:
                return False
            db.executemany(
                "INSERT INTO stock_total (supplement, counted_at, through, used, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (supplement) DO UPDATE SET counted_at = excluded.counted_at, "
                "through = excluded.through, used = excluded.used, updated_at = excluded.updated_at",
                [
                    (supplement, _iso(counted_at), through.isoformat(), used, _iso(now))
                    for supplement, (counted_at, through, used) in totals.items()
                ],
            )
        return True

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

    # ------------------------------------------------------------------ reads for `status`

    def acknowledgements_since(self, day: dt.date) -> dict[str, str]:
        """ "taken" or "skipped" by reminder id, of the reminders of `day` and later: a range of
        the primary key (ids begin with their date), not the whole table."""
        with self._access() as db:
            rows = db.execute(
                "SELECT reminder_id, status FROM ack WHERE reminder_id >= ?", (day.isoformat(),)
            ).fetchall()
        return dict(rows)  # TEXT columns: str already (a thousand days at 200 a day: 200,000 rows)

    def channel_results(self, recent: int = RECENT_DELIVERIES) -> dict[str, ChannelResult]:
        """Each channel's latest delivery, by channel key, among the `recent` deliveries of the
        latest reminders (read backwards along the primary key: ids begin with their date)."""
        with self._access() as db:
            rows = db.execute(
                "SELECT channel, reminder_id, status, error, updated_at, attempts FROM delivery "
                "ORDER BY reminder_id DESC LIMIT ?",
                (recent,),
            ).fetchall()
            found: dict[str, ChannelResult] = {}
            for channel, reminder_id, status, error, updated_at, attempts in rows:
                result = ChannelResult(
                    str(reminder_id), str(status), None if error is None else str(error), _instant(updated_at), attempts
                )
                if channel not in found or result.at > found[channel].at:
                    found[str(channel)] = result
            return found

    def close_reminder(
        self, reminder_id: str, due_at: dt.datetime, outcome: str, now: dt.datetime, late: bool = False
    ) -> None:
        """Records that a reminder is done with: delivered everywhere it could be, or missed. Not
        durable (see finish_delivery): lost with the machine, the reminder is looked at again."""
        with self._access(durable=False) as db:
            db.execute(
                "INSERT INTO reminder (id, due_at, outcome, late, recorded_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (reminder_id, _iso(due_at), outcome, int(late), _iso(now)),
            )


class TakeBack:
    """`mgremind undo` (SPEC §3 v2): everything a command records can be taken back, the record
    written last or one named: an acknowledgement, a symptom report, a stock count."""

    def __init__(self, database: Database) -> None:
        self._access = database.access

    def acknowledgement(self, reminder_id: str | None) -> Acknowledgement | None:
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
            acknowledgement = Acknowledgement(str(row[0]), str(row[1]), _instant(row[2]))
            _delete(db, acknowledgement)
            return acknowledgement

    def latest(self, count: int) -> list[Record]:
        """The `count` records written last by a command (acknowledgements, reports, stock
        counts), the last first. Records of the same second: a count before a report before an
        acknowledgement (the tables keep no common order finer than the second)."""
        with self._access() as db:
            return _latest(db, count)

    def last(self) -> Record | None:
        """Deletes the record written last (see `latest`); returns it, or None when there is none."""
        with self._access(transaction=True) as db:
            found = _latest(db, 1)
            if not found:
                return None
            _delete(db, found[0])
            return found[0]

    def report(self, report_id: int) -> Report | None:
        """Deletes the report of that id; returns it, or None when there is none."""
        return self._by_id("SELECT id, date, symptom, recorded_at FROM report WHERE id = ?", report_id, _report)

    def stock_count(self, count_id: int) -> StockCount | None:
        """Deletes the stock count of that id; returns it, or None when there is none."""
        return self._by_id("SELECT id, supplement, units, at FROM stock_count WHERE id = ?", count_id, _stock_count)

    def _by_id(self, query: str, record_id: int, read: Callable[[tuple[object, ...]], R]) -> R | None:
        """Deletes the record that `query` finds by `record_id`; returns it (made by `read`), or None."""
        with self._access(transaction=True) as db:
            row = db.execute(query, (record_id,)).fetchone()
            if row is None:
                return None
            record = read(row)
            _delete(db, record)
            return record


def _latest(db: sqlite3.Connection, count: int) -> list[Record]:
    """The `count` records written last, of the three tables (each read backwards, then merged)."""
    acks = db.execute("SELECT rowid, reminder_id, status, at FROM ack ORDER BY at DESC, rowid DESC LIMIT ?", (count,))
    found: list[tuple[dt.datetime, int, int, Record]] = []
    for rowid, reminder_id, status, at in acks.fetchall():
        found.append((_instant(at), 0, int(rowid), Acknowledgement(str(reminder_id), str(status), _instant(at))))
    reports = db.execute(
        "SELECT id, date, symptom, recorded_at FROM report ORDER BY recorded_at DESC, id DESC LIMIT ?", (count,)
    )
    for row in reports.fetchall():
        report = _report(row)
        found.append((report.at, 1, report.id, report))
    counts = db.execute("SELECT id, supplement, units, at FROM stock_count ORDER BY at DESC, id DESC LIMIT ?", (count,))
    for row in counts.fetchall():
        stock = _stock_count(row)
        found.append((stock.at, 2, stock.id, stock))
    found.sort(key=lambda entry: entry[:3], reverse=True)  # the same second: the kind, then the row
    return [record for _, _, _, record in found[:count]]


def _delete(db: sqlite3.Connection, record: Record) -> None:
    """Takes a record back, inside the caller's transaction. A stock count needs nothing more: a
    running total of it no longer runs from the latest count, and is ignored."""
    if isinstance(record, Acknowledgement):
        db.execute("DELETE FROM ack WHERE reminder_id = ?", (record.reminder_id,))
        if record.status == "skipped":  # its units count as used again
            _stock_records_changed(db, _day_of(record.reminder_id))
    elif isinstance(record, Report):
        db.execute("DELETE FROM report WHERE id = ?", (record.id,))
        _stock_records_changed(db, _day_after(record.date))
    else:
        db.execute("DELETE FROM stock_count WHERE id = ?", (record.id,))


def _stock_records_changed(db: sqlite3.Connection, first: str) -> None:
    """A record the running stock totals rest on changed, from the local day `first` (ISO) on:
    inside the caller's transaction, the totals that cover that day are dropped (the next are made
    from the count again: a skip recorded late is counted as a replay would) and the version is
    bumped, so that a total being made from the records as they were is not saved."""
    db.execute("DELETE FROM stock_total WHERE through >= ?", (first,))
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        (STOCK_RECORDS,),
    )


def _stock_records_version(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (STOCK_RECORDS,)).fetchone()
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        raise _Garbled(f"a version is garbled: {str(row[0])[:40]!r}") from None


def _day_of(reminder_id: str) -> str:
    """The local day a reminder id belongs to, as ISO text (ids begin with their date)."""
    return reminder_id.split("/", 1)[0]


def _day_after(day: dt.date) -> str:
    return (day + dt.timedelta(days=1)).isoformat()


def _report(row: tuple[object, ...]) -> Report:
    report_id, day, symptom, at = row
    return Report(int(str(report_id)), _date(day), str(symptom), _instant(at))


def _stock_count(row: tuple[object, ...]) -> StockCount:
    count_id, supplement, units, at = row
    return StockCount(int(str(count_id)), str(supplement), _units(units), _instant(at))


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


# `PRAGMA application_id` of an mgremind state ("MgRm"): a file that carries another is never touched.
APPLICATION_ID = 0x4D67526D
_MOVE_ASIDE = "move it aside to start afresh (delivery history is then forgotten)"


def _tables(db: sqlite3.Connection) -> dict[str, set[str]]:
    """The tables of a database and their columns."""
    names = [str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: {str(row[1]) for row in db.execute(f'PRAGMA table_info("{name}")')} for name in names}


@functools.cache
def _expected_tables() -> dict[str, set[str]]:
    """The tables and columns of a state at SCHEMA_VERSION: the migrations applied to an empty database."""
    db = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS:
            for statement in _statements(script):
                db.execute(statement)
        return _tables(db)
    finally:
        db.close()


def _refuse_foreign(db: sqlite3.Connection, version: int) -> None:
    """Never migrates another program's database in place: an SQLite file is mgremind's when it
    carries mgremind's application id, or (a state from before the id) is empty, or has a schema
    version and mgremind's first tables."""
    application = db.execute("PRAGMA application_id").fetchone()[0]
    if application == APPLICATION_ID:
        return
    if application != 0:
        raise sqlite3.DatabaseError(f"it is another program's database (application id {application:#x})")
    tables = _tables(db)
    if not tables:
        return
    if version == 0 or not {"meta", "reminder", "delivery"} <= tables.keys():
        raise sqlite3.DatabaseError(f"it is another program's database (tables: {', '.join(sorted(tables)[:5])})")


def _failure(path: Path, error: sqlite3.Error | UnicodeDecodeError) -> str:
    """One line: the file, what SQLite said, and what to do."""
    text = str(error)
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(error, sqlite3.OperationalError) and "readonly" in text:
        fix = "it cannot be written: check its owner and permissions (and those of its directory)"
    elif isinstance(error, sqlite3.OperationalError) and "locked" in text:
        fix = "another process holds it locked; try again"
    elif code == sqlite3.SQLITE_FULL or "disk is full" in text:
        fix = f"free some space on the disk of {path.parent} (or raise the limit that stops the file growing)"
    elif code is not None and code & 0xFF == sqlite3.SQLITE_IOERR:
        fix = f"the disk of {path.parent} fails to read or write: check it (dmesg) and its free space"
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
