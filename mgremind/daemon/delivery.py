"""Delivery: one reminder (or one repeat of it) through every channel, recorded in the state.

The state database, not a job store, decides what was sent. Each channel's attempt is begun
in the state before apprise is asked and finished after it answers, so a reminder reaches a
channel at most once across restarts and crashes: only a crash between a channel taking a
message and its record can repeat it, and the repeat then says that it may be one. A
reminder is closed once (delivered, failed or missed); a job that runs again for it, or a
catch-up scheduled after it, finds it closed and sends nothing.

A failing channel is retried with backoff (decisions.retry_delay) for `retry_for`, as a job
on the schedule, without resending to the channels that took the message. `catch_up` bounds
how late a first attempt may be; retries are bounded by `retry_for` alone.

The text is made when the job runs, from the plan as it is then: a symptom reported since
the reminder was scheduled may have lowered the dose.

Jobs run in APScheduler's worker threads: one delivery of a reminder at a time (a reload may
schedule a catch-up of a reminder whose delivery or retry is under way in another thread),
and the deliveries in flight are counted, so that SIGTERM can give them a moment to finish.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from mgremind.daemon.current import Current, Setup
from mgremind.daemon.decisions import is_late, retry_delay, split_repeat_id
from mgremind.daemon.escalation import Escalation
from mgremind.history import supplies
from mgremind.model import Config, Reminder
from mgremind.notify import Channel, send_safely
from mgremind.plan import plan_day
from mgremind.render import late_text, maybe_repeated, notification, repeat_text
from mgremind.state import Delivery as Attempt
from mgremind.state import State
from mgremind.titration import Ramp, Reports

log = logging.getLogger("mgremind")

Deliver = Callable[[str, bool], None]  # (delivery id, caught up after downtime)


class Retries(Protocol):
    """Where a retry goes: a job on the schedule (schedule.Jobs)."""

    def retry(
        self, delivery_id: str, when: dt.datetime, deliver: Deliver, caught_up: bool, grace: dt.timedelta
    ) -> None:
        """Runs deliver(delivery_id, caught_up) at `when`, at most `grace` late."""


class Delivery:
    def __init__(
        self,
        current: Current,
        state: State,
        retries: Retries,
        escalation: Escalation,
        *,
        now: Callable[[], dt.datetime],
        poke: Callable[[], None],
    ) -> None:
        self._current = current
        self._state = state
        self._retries = retries
        self._escalation = escalation
        self._now = now
        self._poke = poke  # tells the main loop that a job has run
        self._lock = threading.Lock()  # guards _delivering
        self._delivering: set[str] = set()
        self._in_flight = 0
        self._idle = threading.Condition()

    def deliver(self, delivery_id: str, caught_up: bool = False) -> None:
        """The jobs' function: sends a reminder (or a "#repeatN" of it) to every channel that lacks it."""
        with self._idle:
            self._in_flight += 1
        try:
            self._deliver_once(delivery_id, caught_up)
        except Exception:
            log.exception("delivery of %s failed unexpectedly", delivery_id)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
            self._poke()

    def wait_idle(self, timeout: float) -> int:
        """Waits at most `timeout` seconds for the deliveries in flight; returns how many are unfinished."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)
            return self._in_flight

    def close_missed(self, reminder_id: str, due: dt.datetime, now: dt.datetime) -> None:
        """Records a reminder that was never sent, as it is now too late to be."""
        log.warning("missed %s (due %s, more than catch_up ago)", reminder_id, due.isoformat())
        self._state.close_reminder(reminder_id, due, "missed", now)

    def _deliver_once(self, delivery_id: str, caught_up: bool) -> None:
        # One delivery of a reminder at a time: a reload may schedule a catch-up of a
        # reminder whose delivery (or retry) is under way in another thread.
        with self._lock:
            if delivery_id in self._delivering:
                return
            self._delivering.add(delivery_id)
        setup = self._current.get()
        try:
            self._deliver_to_channels(setup, delivery_id, caught_up)
        finally:
            with self._lock:
                self._delivering.discard(delivery_id)
        if "#repeat" not in delivery_id:
            # The reminder before this one may have just become missed. After the reminder
            # itself: a slow caregiver channel must not hold it up.
            self._escalation.check(setup, self._now())

    def _deliver_to_channels(self, setup: Setup, delivery_id: str, caught_up: bool) -> None:
        config = setup.config
        base_id, repeat = split_repeat_id(delivery_id)
        now = self._now()
        acks, reports = self._state.acknowledgements(), self._state.reports()
        # From the plan as it is now: a symptom reported since scheduling may have lowered the dose.
        reminder = _find(config, base_id, reports)
        if reminder is None:
            log.info("%s is no longer in the plan: not sent", delivery_id)
            return
        if self._state.outcome(delivery_id) is not None:
            return
        if repeat and (base_id in acks or self._state.outcome(base_id) != "delivered"):
            return  # acknowledged (or never sent): no repeat
        done = self._state.deliveries(delivery_id)
        # catch_up bounds how late a first attempt may be; retries are bounded by retry_for.
        if not done and now - reminder.at > config.reminders.catch_up:
            self.close_missed(delivery_id, reminder.at, now)
            return
        late = not repeat and is_late(reminder, now, caught_up)
        counts = self._state.stock_counts()
        stock = supplies(config, counts, acks, reports, now) if _counted(config, counts) else []
        title, body = late_text(reminder, *notification(config, reminder, stock), late)
        if repeat:
            title, body = repeat_text(title, body, repeat, config.reminders.repeat_max)
        failed = self._send(setup.channels, delivery_id, done, (title, body), late)
        if not failed:
            self._state.close_reminder(delivery_id, reminder.at, "delivered", self._now(), late=late)
            return
        self._retry_or_give_up(config, reminder, delivery_id, failed, caught_up)

    def _send(
        self,
        channels: Sequence[Channel],
        delivery_id: str,
        done: Mapping[str, Attempt],
        message: tuple[str, str],
        late: bool,
    ) -> list[tuple[Channel, int]]:
        """Sends to each channel that has not taken the message yet; returns the failures and their attempts."""
        title, body = message
        failed: list[tuple[Channel, int]] = []
        for channel in channels:
            previous = done.get(channel.key)
            if previous is not None and previous.status == "sent":
                continue
            maybe_repeat = self._state.begin_delivery(delivery_id, channel.key, self._now())
            error = send_safely(channel, title, maybe_repeated(body) if maybe_repeat else body)
            self._state.finish_delivery(delivery_id, channel.key, self._now(), error)
            if error is None:
                log.info("sent %s to %s%s", delivery_id, channel.label, " (late)" if late else "")
            else:
                attempts = (previous.attempts if previous else 0) + 1
                log.warning("channel %s failed for %s (attempt %d): %s", channel.label, delivery_id, attempts, error)
                failed.append((channel, attempts))
        return failed

    def _retry_or_give_up(
        self,
        config: Config,
        reminder: Reminder,
        delivery_id: str,
        failed: Sequence[tuple[Channel, int]],
        caught_up: bool,
    ) -> None:
        now = self._now()
        deliveries = self._state.deliveries(delivery_id)
        first_attempt = min(deliveries[channel.key].first_attempt_at for channel, _ in failed)
        attempts = max(count for _, count in failed)
        when = now + retry_delay(attempts)
        in_force = self._current.get()  # the setup now, which a reload may have replaced since the attempt
        if when - first_attempt <= config.reminders.retry_for:
            self._retries.retry(delivery_id, when, self.deliver, caught_up, in_force.config.reminders.catch_up)
            return
        labels = ", ".join(channel.label for channel, _ in failed)
        log.error("giving up on %s for %s after %s of retries", labels, delivery_id, config.reminders.retry_for)
        outcome = "delivered" if len(failed) < len(in_force.channels) else "failed"
        self._state.close_reminder(delivery_id, reminder.at, outcome, now)


def _find(config: Config, reminder_id: str, reports: Reports) -> Reminder | None:
    """A reminder by id from its day's plan (a retry may outlive the horizon it was scheduled in)."""
    try:
        day = dt.date.fromisoformat(reminder_id.split("/", 1)[0])
    except ValueError:
        return None
    return next((r for r in plan_day(config, day, Ramp(config, reports)).reminders if r.id == reminder_id), None)


def _counted(config: Config, counts: Mapping[str, object]) -> bool:
    """Whether any supplement has a stock count: only then are supplies worth working out."""
    return bool(counts) or any(supplement.stock is not None for supplement in config.supplements)
