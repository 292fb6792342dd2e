"""The daemon's delivery records: the state database, and what could not be written to it yet.

A full disk, an I/O error or a state made read-only must not silence the reminders (SPEC §4
v2: a state write that fails loses no reminder). Every record of a delivery goes through
here. When a write fails, the record waits in memory, in order, and the reads of the
delivery records see it as if it were written; the reminders keep going out, each saying it
may be a repeat (after a restart, the state would not know it was sent). The trouble is
logged at once and then once a minute at most, shown in STATUS= and `mgremind status`, and
the records are written, in their order, as soon as a write works again: at the next
record, or at the next `flush` (the daemon asks every 30 s while in trouble).

A read that fails (an I/O error) answers as an empty state would, so the reminder is sent,
saying it may repeat, rather than held back.
"""

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple, TypeVar

from mgremind.model import StateError, format_duration
from mgremind.state import Delivery, State

log = logging.getLogger("mgremind")

LOG_EVERY_SECONDS = 60.0  # the trouble is logged at most this often

T = TypeVar("T")
Write = Callable[[State], object]


class Trouble(NamedTuple):
    """The state cannot be written (or read): since when, what failed, how many records wait."""

    since: dt.datetime
    error: str  # the StateError's line: the file, what SQLite said, what to do
    waiting: int


class Begun(NamedTuple):
    interrupted: set[str]  # channels whose earlier attempt ended between sending and its record
    recorded: bool  # False: the attempt waits in memory, and a restart would send it again


class Records:
    def __init__(self, state: State, now: Callable[[], dt.datetime], on_trouble: Callable[[], None] = lambda: None):
        self.state = state
        self._now = now
        self._on_trouble = on_trouble  # told when the trouble begins (the daemon then flushes every 30 s)
        self._lock = threading.RLock()  # the backlog and the overlay; held across a write
        self._backlog: list[Write] = []  # waiting to be written, in order
        self._outcomes: dict[str, str] = {}  # what the backlog closes, by reminder id
        self._deliveries: dict[tuple[str, str], Delivery] = {}  # what it records, by (reminder id, channel)
        self._since: dt.datetime | None = None
        self._error = ""
        self._shown: Trouble | None = None  # `trouble`, made under the lock
        self._logged_at = 0.0

    @property
    def trouble(self) -> Trouble | None:
        """What is wrong, as of the last record or read; read without waiting for a write under
        way (the main loop asks, and must not wait on a disk)."""
        return self._shown

    def _show(self) -> None:
        self._shown = None if self._since is None else Trouble(self._since, self._error, len(self._backlog))

    # ------------------------------------------------------------------ reads

    def outcome(self, reminder_id: str) -> str | None:
        """ "delivered", "missed", "failed", or None while the reminder is open."""
        with self._lock:
            if reminder_id in self._outcomes:
                return self._outcomes[reminder_id]
        return self.read(lambda state: state.outcome(reminder_id))

    def outcomes_since(self, day: dt.date) -> dict[str, str]:
        """The outcome of each closed reminder of `day` and later, by id (one query)."""
        found = self.read(lambda state: state.outcomes_since(day)) or {}
        with self._lock:
            found.update((rid, outcome) for rid, outcome in self._outcomes.items() if rid >= day.isoformat())
        return found

    def deliveries(self, reminder_id: str) -> dict[str, Delivery]:
        """Each channel's delivery of a reminder, by channel key."""
        found = self.read(lambda state: state.deliveries(reminder_id)) or {}
        with self._lock:
            found.update((key, delivery) for (rid, key), delivery in self._deliveries.items() if rid == reminder_id)
        return found

    def acknowledged(self, reminder_id: str) -> bool:
        """Whether the reminder was taken or skipped (acknowledgements are the commands' to write)."""
        return self.read(lambda state: state.acknowledgement(reminder_id)) is not None

    # ------------------------------------------------------------------ writes

    def begin(self, reminder_id: str, channels: Iterable[str], now: dt.datetime) -> Begun:
        """Records an attempt on each channel before it is asked: the channels whose earlier
        attempt was interrupted, and whether it is on disk (the messages then say they may repeat)."""
        keys = list(channels)
        with self._lock:
            before = self.deliveries(reminder_id)
            interrupted = {key for key in keys if key in before and before[key].status == "sending"}
            written = self._write(lambda state: state.begin_deliveries(reminder_id, keys, now))
            if not written:
                for key in keys:
                    earlier = before.get(key)
                    attempts = earlier.attempts + 1 if earlier else 1
                    first = earlier.first_attempt_at if earlier else now
                    self._deliveries[reminder_id, key] = Delivery("sending", attempts, first)
            return Begun(interrupted, written)

    def finish(self, reminder_id: str, channel: str, now: dt.datetime, error: str | None, *, unknown: bool) -> None:
        """The channel's answer (State.finish_delivery)."""
        with self._lock:
            if not self._write(lambda state: state.finish_delivery(reminder_id, channel, now, error, unknown=unknown)):
                earlier = self._deliveries.get((reminder_id, channel)) or self.deliveries(reminder_id).get(channel)
                status = "sending" if unknown else "sent" if error is None else "failed"
                attempts, first = (earlier.attempts, earlier.first_attempt_at) if earlier else (1, now)
                self._deliveries[reminder_id, channel] = Delivery(status, attempts, first)

    def close(self, reminder_id: str, due_at: dt.datetime, outcome: str, now: dt.datetime, late: bool = False) -> None:
        """Records that a reminder is done with (State.close_reminder): the first outcome stays."""
        with self._lock:
            if not self._write(lambda state: state.close_reminder(reminder_id, due_at, outcome, now, late=late)):
                self._outcomes.setdefault(reminder_id, outcome)

    def flush(self) -> bool:
        """Writes what waits, in order, as far as it goes; True when nothing waits any more."""
        with self._lock:
            while self._backlog:
                try:
                    self._backlog[0](self.state)
                except StateError as error:
                    self._failed(error)
                    return False
                finally:
                    self._show()
                self._backlog.pop(0)
            self._recovered()
            self._show()
            return True

    # ------------------------------------------------------------------ inside

    def _write(self, write: Write) -> bool:
        """Writes now, after what waits; False when it had to wait in memory."""
        with self._lock:
            if self.flush():
                try:
                    write(self.state)
                    return True
                except StateError as error:
                    self._failed(error)
            self._backlog.append(write)
            self._show()
            return False

    def read(self, read: Callable[[State], T]) -> T | None:
        """A read of the state; None when it fails (the trouble noted): the caller answers as an
        empty state would."""
        try:
            return read(self.state)
        except StateError as error:
            with self._lock:
                self._failed(error)
                self._show()
            return None

    def _failed(self, error: StateError) -> None:
        """Logs the trouble at once, then once a minute at most."""
        first = self._since is None
        if first:
            self._since = self._now()
        self._error = str(error)
        clock = time.monotonic()
        if first or clock - self._logged_at >= LOG_EVERY_SECONDS:
            self._logged_at = clock
            log.error(
                "%s: reminders still go out, each saying it may repeat; %d record(s) wait to be written",
                self._error,
                len(self._backlog) + 1,
            )
        if first:
            self._on_trouble()

    def _recovered(self) -> None:
        if self._since is None:
            return
        waited = self._now() - self._since
        log.info("the state is written again: the records that waited %s are in it", format_duration(waited))
        self._since = None
        self._outcomes.clear()
        self._deliveries.clear()
