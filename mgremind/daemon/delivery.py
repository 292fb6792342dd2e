"""Delivery: one reminder (or one repeat of it) through every channel, recorded in the state.

The state database, not a job store, decides what was sent. Each channel's attempt is begun
in the state before apprise is asked and finished after it answers, so a reminder reaches a
channel at most once across restarts and crashes: only a crash between a channel taking a
message and its record can repeat it, and the repeat then says that it may be one. A
reminder is closed once (delivered, failed or missed); a job that runs again for it, or a
catch-up scheduled after it, finds it closed and sends nothing.

Each channel is sent to on its own (sending.py): the job hands the message to every channel
that lacks it and returns; each channel's answer comes back in its own time, at most 30 s
later. A failing channel is retried with backoff (decisions.retry_delay) for `retry_for`, as
a job of its own on the schedule, so a slow or dead channel never holds up another channel,
another reminder or another channel's retries. The reminder is closed when no channel has a
send in flight or a retry pending. `catch_up` bounds how late a first attempt may be;
retries are bounded by `retry_for` alone.

The records go through records.py: when the state cannot be written, the messages still go
out, saying they may repeat, and the records wait in memory until it can.

The text is made when the job runs, from the plan as it is then: a symptom reported since
the reminder was scheduled may have lowered the dose.

Jobs run in APScheduler's worker threads: one send of a reminder to a channel at a time (a
reload may schedule a catch-up of a reminder whose send or retry is under way), and the jobs
and sends in flight are counted, so that SIGTERM can give them a moment to finish.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple, Protocol

from mgremind.daemon.current import Current, Setup
from mgremind.daemon.decisions import is_late, retry_delay, split_repeat_id
from mgremind.daemon.escalation import Escalation
from mgremind.daemon.plans import DayPlans
from mgremind.daemon.records import Records
from mgremind.daemon.sending import Answer, Sends
from mgremind.daemon.stock import current_supplies
from mgremind.history import Plans
from mgremind.model import Config, Reminder
from mgremind.notify import Channel
from mgremind.render import late_text, maybe_repeated, notification, repeat_text, unrecorded
from mgremind.state import Delivery as Recorded
from mgremind.state import State
from mgremind.titration import Reports

log = logging.getLogger("mgremind")

Deliver = Callable[[str, bool, "str | None"], None]  # (delivery id, caught up after downtime, only this channel)


class Retries(Protocol):
    """Where a retry goes: a job on the schedule (schedule.Jobs)."""

    def retry(
        self,
        delivery_id: str,
        channel: str,
        when: dt.datetime,
        deliver: Deliver,
        *,
        caught_up: bool,
        grace: dt.timedelta,
    ) -> None:
        """Runs deliver(delivery_id, caught_up, channel) at `when`, at most `grace` late."""


class _Attempt(NamedTuple):
    """One send of a reminder (or a repeat of it) to one channel, as its answer needs it."""

    delivery_id: str
    reminder: Reminder
    channel: Channel
    late: bool
    caught_up: bool


class Delivery:
    def __init__(
        self,
        current: Current,
        records: Records,
        sends: Sends,
        retries: Retries,
        escalation: Escalation,
        *,
        now: Callable[[], dt.datetime],
        poke: Callable[[], None],
    ) -> None:
        self._current = current
        self._records = records
        self._sends = sends
        self._retries = retries
        self._escalation = escalation
        self._now = now
        self._poke = poke  # tells the main loop that a job has run
        self._lock = threading.Lock()  # guards _busy and _retrying
        self._busy: set[tuple[str, str]] = set()  # (delivery id, channel key): a send in flight
        self._retrying: set[tuple[str, str]] = set()  # (delivery id, channel key): a retry job pending
        self._running = 0  # jobs in deliver()
        self._plans = DayPlans()
        self._idle = threading.Condition()

    def deliver(self, delivery_id: str, caught_up: bool = False, only: str | None = None) -> None:
        """The jobs' function: sends a reminder (or a "#repeatN" of it) to every channel that lacks
        it, or, for a retry, to the one channel `only`. Returns once the sends are under way."""
        with self._idle:
            self._running += 1
        try:
            self._start(delivery_id, caught_up, only)
        except Exception:
            log.exception("delivery of %s failed unexpectedly", delivery_id)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
            self._poke()

    def wait_idle(self, timeout: float) -> int:
        """Waits at most `timeout` seconds for the jobs and sends in flight; returns how many are unfinished."""
        deadline = time.monotonic() + timeout
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout=timeout)
            running = self._running
        return running + self._sends.wait_idle(max(deadline - time.monotonic(), 0))

    def warm(self) -> None:
        """Makes, once after the start, what every delivery reads: the day plans around today and
        the supplies left (the state's pages for them read in), so that the first reminder after a
        start is not the slow one."""
        config = self._current.get().config
        reports = self._records.read(State.reports) or {}
        plans = self._plans.of(config, reports)
        now = self._now()
        today = now.astimezone(config.zone).date()
        for offset in range(-1, 8):
            plans(today + dt.timedelta(days=offset))
        self._records.read(lambda state: current_supplies(state, config, reports, now, plans))

    def close_missed(self, reminder_id: str, due: dt.datetime, now: dt.datetime) -> None:
        """Records a reminder that was never sent, as it is now too late to be."""
        log.warning("missed %s (due %s, more than catch_up ago)", reminder_id, due.isoformat())
        self._records.close(reminder_id, due, "missed", now)

    def _start(self, delivery_id: str, caught_up: bool, only: str | None) -> None:
        setup = self._current.get()
        config = setup.config
        base_id, repeat = split_repeat_id(delivery_id)
        now = self._now()
        if only is not None:
            with self._lock:
                self._retrying.discard((delivery_id, only))
        reports = self._records.read(State.reports) or {}
        plans = self._plans.of(config, reports)
        # From the plan as it is now: a symptom reported since scheduling may have lowered the dose.
        reminder = _find(base_id, plans)
        if reminder is None:
            log.info("%s is no longer in the plan: not sent", delivery_id)
            return
        if self._records.outcome(delivery_id) is not None:
            return
        if repeat and (self._records.acknowledged(base_id) or self._records.outcome(base_id) != "delivered"):
            return  # acknowledged (or never sent): no repeat
        done = self._records.deliveries(delivery_id)
        # catch_up bounds how late a first attempt may be; retries are bounded by retry_for.
        if not done and now - reminder.at > config.reminders.catch_up:
            self.close_missed(delivery_id, reminder.at, now)
            return
        late = not repeat and is_late(reminder, now, caught_up)
        targets = self._claim(setup, delivery_id, done, only)
        if targets:
            title, body = self._message(config, reminder, reports, plans, now, late=late, repeat=repeat)
            begun = self._records.begin(delivery_id, [channel.key for channel in targets], now)
            for channel in targets:
                text = maybe_repeated(body) if channel.key in begun.interrupted else body
                text = text if begun.recorded else unrecorded(text)
                self._sends.start(
                    channel, title, text, self._answer_to(_Attempt(delivery_id, reminder, channel, late, caught_up))
                )
        else:
            self._settle(delivery_id, reminder, late)  # e.g. every channel took it before a crash
        if not repeat and only is None:
            # The reminder before this one may have just become missed. After the sends began: a
            # slow caregiver channel must not hold the reminder up.
            self._escalation.check(setup, self._now())

    def _claim(self, setup: Setup, delivery_id: str, done: Mapping[str, Recorded], only: str | None) -> list[Channel]:
        """The channels to send to now, marked busy: those that lack the message, with no send in
        flight and (but for the retry itself) no retry pending."""
        targets = []
        with self._lock:
            for channel in setup.channels:
                key = (delivery_id, channel.key)
                previous = done.get(channel.key)
                sent = previous is not None and previous.status == "sent"
                if (only is not None and channel.key != only) or sent or key in self._busy:
                    continue
                if only is None and key in self._retrying:
                    continue
                self._busy.add(key)
                targets.append(channel)
        return targets

    def _message(
        self,
        config: Config,
        reminder: Reminder,
        reports: Reports,
        plans: Plans,
        now: dt.datetime,
        *,
        late: bool,
        repeat: int,
    ) -> tuple[str, str]:
        # The running totals and the days after them: the same cost after years (daemon/stock.py).
        stock = self._records.read(lambda state: current_supplies(state, config, reports, now, plans)) or []
        title, body = late_text(reminder, *notification(config, reminder, stock), late)
        if repeat:
            title, body = repeat_text(title, body, repeat, config.reminders.repeat_max)
        return title, body

    def _answer_to(self, attempt: _Attempt) -> Answer:
        return lambda error, unknown: self._answered(attempt, error, unknown)

    def _answered(self, attempt: _Attempt, error: str | None, unknown: bool) -> None:
        """A channel's answer (from its send's thread, or the time limit's): recorded, then a retry
        of that channel or the end of the reminder."""
        delivery_id, channel = attempt.delivery_id, attempt.channel
        now = self._now()
        self._records.finish(delivery_id, channel.key, now, error, unknown=unknown)
        with self._lock:
            self._busy.discard((delivery_id, channel.key))
        if error is None:
            log.info("sent %s to %s%s", delivery_id, channel.label, " (late)" if attempt.late else "")
        else:
            self._retry_or_give_up(attempt, error, now)
        self._settle(delivery_id, attempt.reminder, attempt.late)
        self._poke()

    def _retry_or_give_up(self, attempt: _Attempt, error: str, now: dt.datetime) -> None:
        delivery_id, channel = attempt.delivery_id, attempt.channel
        delivery = self._records.deliveries(delivery_id).get(channel.key)
        attempts, first_attempt = (delivery.attempts, delivery.first_attempt_at) if delivery else (1, now)
        log.warning("channel %s failed for %s (attempt %d): %s", channel.label, delivery_id, attempts, error)
        config = self._current.get().config  # the setup now, which a reload may have replaced since the attempt
        when = now + retry_delay(attempts)
        if when - first_attempt > config.reminders.retry_for:
            log.error(
                "giving up on %s for %s after %s of retries", channel.label, delivery_id, config.reminders.retry_for
            )
            return
        with self._lock:
            self._retrying.add((delivery_id, channel.key))
        self._retries.retry(
            delivery_id, channel.key, when, self.deliver, caught_up=attempt.caught_up, grace=config.reminders.catch_up
        )

    def _settle(self, delivery_id: str, reminder: Reminder, late: bool) -> None:
        """Closes the reminder once no channel has a send in flight or a retry pending: delivered
        when a channel took it, else failed."""
        with self._lock:
            if any(rid == delivery_id for rid, _ in (*self._busy, *self._retrying)):
                return
        deliveries = self._records.deliveries(delivery_id)
        if not deliveries:
            return  # nothing was tried (no channel lacked it): nothing to close
        sent = any(delivery.status == "sent" for delivery in deliveries.values())
        self._records.close(delivery_id, reminder.at, "delivered" if sent else "failed", self._now(), late=late)


def _find(reminder_id: str, plans: Plans) -> Reminder | None:
    """A reminder by id from its day's plan (a retry may outlive the horizon it was scheduled in)."""
    try:
        day = dt.date.fromisoformat(reminder_id.split("/", 1)[0])
    except ValueError:
        return None
    return next((r for r in plans(day).reminders if r.id == reminder_id), None)
