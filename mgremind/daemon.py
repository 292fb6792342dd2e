"""`mgremind run`: APScheduler fires the planner's instants, apprise delivers, SQLite remembers.

The decisions (what to schedule, what to catch up, when to retry) are pure functions at
the top of this module, tested with an injected clock. `Daemon` is the shell around them:

- every reminder of today and tomorrow is a `DateTrigger` job at the planner's instant
  (never a cron rule: the planner already resolved DST); a job at local midnight rolls
  the horizon on; SIGHUP rebuilds it;
- the main thread sleeps in `select` on a self-pipe (signals, job pokes) and a timerfd on
  the wall clock armed for the next reminder: after a suspend or a clock jump it wakes
  at once and nudges the scheduler, whose own sleep counts monotonic time and would
  oversleep. No polling: the only periodic wake-up is systemd's watchdog, when asked for;
- the state database, not a job store, decides what was sent: a reminder is delivered at
  most once per channel, and one missed while the daemon was down is sent late once if it
  is younger than `catch_up`, else recorded as missed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import select
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from mgremind.config.paths import state_file
from mgremind.config.secrets import exposed_secret_files
from mgremind.history import missed_in_a_row, repeats, supplies
from mgremind.loader import load_config
from mgremind.logs import SecretFilter
from mgremind.model import Config, ConfigError, DayPlan, Reminder
from mgremind.notify import (
    Channel,
    ChannelError,
    caregiver_channels,
    channel_secrets,
    configured_urls,
    load_channels,
    secret_fragments,
    send_safely,
)
from mgremind.plan import plan_day, wall_clock_instant
from mgremind.render import clock, notification
from mgremind.state import ESCALATED, State
from mgremind.systemd import Notifier
from mgremind.titration import Ramp, Reports
from mgremind.wallclock import WallClockTimer

UTC = dt.timezone.utc
log = logging.getLogger("mgremind")

# A reminder sent more than this after its time says it is late.
LATE_AFTER = dt.timedelta(seconds=60)
# Retries of a failing channel: 1 s, 2 s, 4 s, … at most 5 minutes apart.
RETRY_FIRST = dt.timedelta(seconds=1)
RETRY_LONGEST = dt.timedelta(minutes=5)
# How long SIGTERM waits for deliveries in flight before the process leaves without them.
STOP_GRACE_SECONDS = 0.6


# ---------------------------------------------------------------------------- pure decisions


def reminders_between(config: Config, start: dt.datetime, end: dt.datetime, ramp: Ramp | None = None) -> list[Reminder]:
    """Every reminder with start <= at < end, in time order (delayed ones may cross midnight)."""
    return sorted(
        (r for plan in _plans_around(config, start, end, ramp) for r in plan.reminders if start <= r.at < end),
        key=lambda reminder: reminder.instant,
    )


def repeats_between(
    config: Config, start: dt.datetime, end: dt.datetime, ramp: Ramp | None = None
) -> list[tuple[Reminder, int, dt.datetime]]:
    """The repeats (reminder, n, when) due with start <= when < end (SPEC §6)."""
    if not config.reminders.repeat_max:
        return []
    return [
        (reminder, number, when)
        for plan in _plans_around(config, start, end, ramp)
        for reminder, number, when in repeats(config, plan)
        if start <= when < end
    ]


def _plans_around(config: Config, start: dt.datetime, end: dt.datetime, ramp: Ramp | None) -> list[DayPlan]:
    """The plans of the days from the one before `start` to the one of `end`."""
    first = start.astimezone(config.zone).date() - dt.timedelta(days=1)
    days = (end.astimezone(config.zone).date() - first).days + 1
    ramp = ramp or Ramp(config)
    return [plan_day(config, first + dt.timedelta(days=offset), ramp) for offset in range(days)]


def repeat_id(reminder_id: str, number: int) -> str:
    return f"{reminder_id}#repeat{number}"


def split_repeat_id(job_id: str) -> tuple[str, int]:
    """ "2026-11-25/lunch#repeat2" → ("2026-11-25/lunch", 2); a plain id → (id, 0)."""
    base, _, number = job_id.partition("#repeat")
    return base, int(number) if number.isdigit() else 0


def next_midnight(config: Config, now: dt.datetime) -> dt.datetime:
    """The instant the next local day begins (the first instant after a gap, if midnight is skipped)."""
    tomorrow = now.astimezone(config.zone).date() + dt.timedelta(days=1)
    return wall_clock_instant(tomorrow, dt.time(0), config.zone)


def horizon_end(config: Config, now: dt.datetime) -> dt.datetime:
    """The end of tomorrow: the scheduler holds today's and tomorrow's reminders."""
    day_after = now.astimezone(config.zone).date() + dt.timedelta(days=2)
    return wall_clock_instant(day_after, dt.time(0), config.zone)


def lookback_start(config: Config, now: dt.datetime, created_at: dt.datetime) -> dt.datetime:
    """How far back to look for reminders that fell due while the daemon was down."""
    window = max(dt.timedelta(days=2), config.reminders.catch_up + dt.timedelta(days=1))
    return max(created_at, now - window)


@dataclass(frozen=True)
class CatchUp:
    late: tuple[Reminder, ...]  # send now, marked late
    missed: tuple[Reminder, ...]  # too old: record as missed


def catch_up(overdue: Iterable[Reminder], now: dt.datetime, window: dt.timedelta) -> CatchUp:
    """Reminders that fell due unsent: younger than `catch_up` go out late, older are missed."""
    late: list[Reminder] = []
    missed: list[Reminder] = []
    for reminder in overdue:
        (late if now - reminder.at <= window else missed).append(reminder)
    return CatchUp(tuple(late), tuple(missed))


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff after the given number of failed attempts."""
    return min(RETRY_FIRST * (1 << min(max(attempts - 1, 0), 20)), RETRY_LONGEST)


def is_late(reminder: Reminder, now: dt.datetime, caught_up: bool = False) -> bool:
    """A reminder caught up after downtime is late; one the scheduler fires is late past LATE_AFTER."""
    return caught_up or now - reminder.at > LATE_AFTER


def late_text(reminder: Reminder, title: str, body: str, late: bool) -> tuple[str, str]:
    if not late:
        return title, body
    return f"{title} (late)", f"Late: this reminder was due at {clock(reminder.at)}.\n{body}"


# ---------------------------------------------------------------------------- the shell


@dataclass
class _Plan:
    config: Config
    channels: list[Channel]
    caregivers: list[Channel] = field(default_factory=list)  # told about missed doses, never reminded
    jobs: dict[str, Reminder] = field(default_factory=dict)  # scheduled reminders by id


class Daemon:
    def __init__(  # noqa: PLR0917 - the daemon's parts, each passed in so tests can swap them
        self,
        config_path: Path,
        config: Config,
        channels: list[Channel],
        state: State,
        notifier: Notifier,
        secrets: SecretFilter,
        *,
        caregivers: Sequence[Channel] = (),
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC),
    ) -> None:
        self.config_path = config_path
        self.plan = _Plan(config, channels, list(caregivers))
        self.state = state
        self.notifier = notifier
        self.secrets = secrets
        self.now = now
        self._lock = threading.RLock()  # guards self.plan against a reload during a delivery
        self._in_flight = 0
        self._delivering: set[str] = set()
        self._idle = threading.Condition()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=8)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        """The main loop: returns the exit status when SIGTERM or SIGINT arrives."""
        for sock in (self._wake_reader, self._wake_writer):
            sock.setblocking(False)
        signal.set_wakeup_fd(self._wake_writer.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)  # the wakeup fd carries the signal number
        timer = WallClockTimer()
        self.scheduler.start()
        self._schedule()
        log.info("started: %d channel(s): %s", len(self.plan.channels), ", ".join(c.label for c in self.plan.channels))
        self.notifier.ready(self._status())
        try:
            while True:
                due = self._next_due()
                timer.arm(due if due is not None and due > self.now() else None)
                readers = [self._wake_reader] + ([timer] if timer.enabled else [])
                ready, _, _ = select.select(readers, [], [], self.notifier.watchdog_interval)
                if timer in ready:
                    timer.drain()
                    self.scheduler.wakeup()
                if self._wake_reader in ready and self._handle_wakeups():
                    break
                if self.notifier.watchdog_interval is not None:
                    self.notifier.watchdog()
        finally:
            timer.close()
        return self._stop()

    def _handle_wakeups(self) -> bool:
        """Signals and pokes from the worker threads; True when it is time to stop."""
        try:
            data = self._wake_reader.recv(4096)
        except BlockingIOError:
            return False
        stop = False
        for signum in data:
            if signum == signal.SIGHUP:
                self.reload()
            elif signum in (signal.SIGTERM, signal.SIGINT):
                log.info("stopping on %s", signal.Signals(signum).name)
                stop = True
        if not stop:
            self.notifier.status(self._status())
        return stop

    def poke(self) -> None:
        """Asks the main loop to re-arm its timer and refresh the status (from any thread)."""
        with contextlib.suppress(OSError):  # the buffer is full: a wake-up is pending anyway
            self._wake_writer.send(b"\0")

    def _stop(self) -> int:
        self.notifier.stopping()
        self.scheduler.shutdown(wait=False)
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=STOP_GRACE_SECONDS)
            unfinished = self._in_flight
        log.info("stopped" + (f" with {unfinished} delivery(ies) unfinished" if unfinished else ""))
        if unfinished:
            # A delivery stuck in a channel must not hold up the exit: it stays "sending" in the
            # state and is retried on the next start, marked as a possible repeat.
            logging.shutdown()
            sys.stdout.flush()
            os._exit(0)
        self.state.close()
        return 0

    def reload(self) -> None:
        """SIGHUP: read the configuration again; a bad one is logged and the old plan runs on."""
        self.notifier.reloading()
        log.info("reloading %s", self.config_path)
        try:
            config = load_config(self.config_path)
            secrets = secret_fragments([*configured_urls(config, os.environ), *config.notify.caregiver_urls])
            channels = load_channels(config)
            caregivers = caregiver_channels(config)
            secrets = sorted({*secrets, *channel_secrets([*channels, *caregivers])}, key=len, reverse=True)
        except ConfigError as error:
            for line in error.lines():
                log.error("reload failed: %s", line)
            log.error("reload failed: keeping the previous plan")
            self.notifier.ready(self._status("reload failed, previous plan kept; "))
            return
        except ChannelError as error:
            log.error("reload failed: %s; keeping the previous plan", error)
            self.notifier.ready(self._status("reload failed, previous plan kept; "))
            return
        self.secrets.fragments = sorted({*self.secrets.fragments, *secrets}, key=len, reverse=True)
        with self._lock:
            self.plan = _Plan(config, channels, caregivers)
        self._schedule()
        log.info("reloaded: %d channel(s)", len(channels))
        for problem in exposed_secret_files(config, os.environ):
            log.warning("%s: %s", problem.key, problem.message)
        self.notifier.ready(self._status())

    # ------------------------------------------------------------------ scheduling

    def _schedule(self) -> None:
        """(Re)builds the jobs: today's and tomorrow's reminders, catch-up, the midnight roll."""
        # Under the lock: the midnight job (a worker thread) and SIGHUP (the main thread) may meet.
        with self._lock:
            now = self.now()
            config = self.plan.config
            ramp = Ramp(config, self.state.reports())
            end = horizon_end(config, now)
            overdue = [
                r
                for r in reminders_between(config, lookback_start(config, now, self.state.created_at), now, ramp)
                if self.state.outcome(r.id) is None
            ]
            upcoming = reminders_between(config, now, end, ramp)
            jobs = self.scheduler.get_jobs()
            # A reminder with a retry pending is not overdue: its retries decide when to give up.
            retrying = {job.id.removesuffix("#retry") for job in jobs if job.id.endswith("#retry")}
            overdue = [r for r in overdue if r.id not in retrying]
            for job in jobs:
                if not job.id.endswith("#retry"):
                    with contextlib.suppress(JobLookupError):  # it fired and went meanwhile
                        job.remove()
            decision = catch_up(overdue, now, config.reminders.catch_up)
            for reminder in decision.missed:
                log.warning("missed %s (due %s, more than catch_up ago)", reminder.id, reminder.at.isoformat())
                self.state.close_reminder(reminder.id, reminder.at, "missed", now)
            self.plan.jobs = {r.id: r for r in (*decision.late, *upcoming)}
            for reminder in decision.late:
                self._add_job(reminder, now, caught_up=True)
            for reminder in upcoming:
                self._add_job(reminder, reminder.at)
            for reminder, number, when in repeats_between(config, now, end, ramp):
                self._add_job(reminder, when, job_id=repeat_id(reminder.id, number))
            self.scheduler.add_job(
                self._roll_over, DateTrigger(next_midnight(config, now)), id="midnight", misfire_grace_time=None
            )
        self.poke()

    def _add_job(
        self, reminder: Reminder, when: dt.datetime, job_id: str | None = None, caught_up: bool = False
    ) -> None:
        self.scheduler.add_job(
            self._deliver,
            DateTrigger(when),
            args=[(job_id or reminder.id).removesuffix("#retry"), caught_up],
            id=job_id or reminder.id,  # "#retry" and "#repeatN" jobs deliver the same reminder
            replace_existing=True,
            # Late is better than lost: the job may run up to catch_up late (suspend, slow start).
            misfire_grace_time=max(int(self.plan.config.reminders.catch_up.total_seconds()), 1),
        )

    def _roll_over(self) -> None:
        log.info("new day: scheduling through tomorrow")
        self._escalate_if_missed(self.plan, self.now())  # yesterday's last reminder is missed now, if at all
        self._schedule()

    def _escalate_if_missed(self, plan: _Plan, now: dt.datetime) -> None:
        """After `escalate_after` missed reminders in a row: one message to the caregivers."""
        config = plan.config
        if not config.reminders.escalate_after or self.state.get_meta(ESCALATED) is not None:
            return
        acks, reports = self.state.acknowledgements(), self.state.reports()
        streak = missed_in_a_row(config, acks, reports, now, since=self.state.created_at)
        if len(streak) < config.reminders.escalate_after:
            return
        # Claimed before sending: two reminders due together (two threads) must tell once.
        if not self.state.claim_meta(ESCALATED, now.astimezone(UTC).isoformat(timespec="seconds")):
            return
        title = f"{config.notify.title}: {len(streak)} doses missed"
        body = "Not taken nor skipped:\n" + "\n".join(
            f"{r.meal} at {clock(r.at)} on {r.at.strftime('%a %Y-%m-%d')}" for r in streak
        )
        failures = [f"{c.label}: {e}" for c in plan.caregivers if (e := send_safely(c, title, body)) is not None]
        if failures and len(failures) == len(plan.caregivers):
            log.error("could not tell the caregivers about %d missed doses: %s", len(streak), "; ".join(failures))
            self.state.set_meta(ESCALATED, None)  # tried again when the next reminder is due
            return
        log.warning("told the caregivers: %d doses missed in a row (since %s)", len(streak), streak[0].id)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        """APScheduler skipped a job more than catch_up late (e.g. a long suspend)."""
        reminder = self.plan.jobs.get(event.job_id)
        if reminder is not None and self.state.outcome(reminder.id) is None:
            log.warning("missed %s (due %s, more than catch_up ago)", reminder.id, reminder.at.isoformat())
            self.state.close_reminder(reminder.id, reminder.at, "missed", self.now())
        self.poke()

    def _next_due(self) -> dt.datetime | None:
        times = [job.next_run_time for job in self.scheduler.get_jobs() if job.next_run_time is not None]
        return min(times, default=None)

    def _status(self, prefix: str = "") -> str:
        now = self.now()
        pending = sorted(
            (r for r in self.plan.jobs.values() if r.at >= now and self.state.outcome(r.id) is None),
            key=lambda r: r.instant,
        )
        if not pending:
            return f"{prefix}no reminder until tomorrow"
        first = pending[0]
        day = first.at.strftime("%a %Y-%m-%d")
        return f"{prefix}next: {first.meal} at {clock(first.at)} on {day}"

    # ------------------------------------------------------------------ delivery

    def _deliver(self, reminder_id: str, caught_up: bool = False) -> None:
        with self._idle:
            self._in_flight += 1
        try:
            self._deliver_once(reminder_id, caught_up)
        except Exception:
            log.exception("delivery of %s failed unexpectedly", reminder_id)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
            self.poke()

    def _deliver_once(self, reminder_id: str, caught_up: bool) -> None:
        # One delivery of a reminder at a time: a reload may schedule a catch-up of a
        # reminder whose delivery (or retry) is under way in another thread.
        with self._lock:
            if reminder_id in self._delivering:
                return
            self._delivering.add(reminder_id)
            plan = self.plan
        try:
            self._deliver_to_channels(plan, reminder_id, caught_up)
        finally:
            with self._lock:
                self._delivering.discard(reminder_id)
        if "#repeat" not in reminder_id:
            # The reminder before this one may have just become missed. After the reminder
            # itself: a slow caregiver channel must not hold it up.
            self._escalate_if_missed(plan, self.now())

    def _deliver_to_channels(self, plan: _Plan, reminder_id: str, caught_up: bool) -> None:
        base_id, repeat = split_repeat_id(reminder_id)
        now = self.now()
        acks, reports = self.state.acknowledgements(), self.state.reports()
        # From the plan as it is now: a symptom reported since scheduling may have lowered the dose.
        reminder = _find(plan.config, base_id, reports)
        if reminder is None:
            log.info("%s is no longer in the plan: not sent", reminder_id)
            return
        if self.state.outcome(reminder_id) is not None:
            return
        if repeat and (base_id in acks or self.state.outcome(base_id) != "delivered"):
            return  # acknowledged (or never sent): no repeat
        done = self.state.deliveries(reminder_id)
        # catch_up bounds how late a first attempt may be; retries are bounded by retry_for.
        if not done and now - reminder.at > plan.config.reminders.catch_up:
            log.warning("missed %s (due %s, more than catch_up ago)", reminder_id, reminder.at.isoformat())
            self.state.close_reminder(reminder_id, reminder.at, "missed", now)
            return
        late = not repeat and is_late(reminder, now, caught_up)
        counts = self.state.stock_counts()
        stock = supplies(plan.config, counts, acks, reports, now) if _counted(plan.config, counts) else []
        title, body = late_text(reminder, *notification(plan.config, reminder, stock), late)
        if repeat:
            title += f" (again, {repeat} of {plan.config.reminders.repeat_max})"
            body += "\nNot yet marked taken: `mgremind taken` (or `skip`) stops these."
        failed: list[tuple[Channel, int]] = []
        for channel in plan.channels:
            previous = done.get(channel.key)
            if previous is not None and previous.status == "sent":
                continue
            maybe_repeat = self.state.begin_delivery(reminder_id, channel.key, self.now())
            text = body + ("\n(This may repeat a message sent just before a restart.)" if maybe_repeat else "")
            error = send_safely(channel, title, text)
            self.state.finish_delivery(reminder_id, channel.key, self.now(), error)
            if error is None:
                log.info("sent %s to %s%s", reminder_id, channel.label, " (late)" if late else "")
            else:
                attempts = (previous.attempts if previous else 0) + 1
                log.warning("channel %s failed for %s (attempt %d): %s", channel.label, reminder_id, attempts, error)
                failed.append((channel, attempts))
        if not failed:
            self.state.close_reminder(reminder_id, reminder.at, "delivered", self.now(), late=late)
            return
        self._retry_or_give_up(plan.config, reminder, reminder_id, failed, caught_up)

    def _retry_or_give_up(
        self,
        config: Config,
        reminder: Reminder,
        delivery_id: str,
        failed: Sequence[tuple[Channel, int]],
        caught_up: bool,
    ) -> None:
        now = self.now()
        deliveries = self.state.deliveries(delivery_id)
        first_attempt = min(deliveries[channel.key].first_attempt_at for channel, _ in failed)
        attempts = max(count for _, count in failed)
        when = now + retry_delay(attempts)
        if when - first_attempt <= config.reminders.retry_for:
            self._add_job(reminder, when, job_id=f"{delivery_id}#retry", caught_up=caught_up)
            return
        labels = ", ".join(channel.label for channel, _ in failed)
        log.error("giving up on %s for %s after %s of retries", labels, delivery_id, config.reminders.retry_for)
        outcome = "delivered" if len(failed) < len(self.plan.channels) else "failed"
        self.state.close_reminder(delivery_id, reminder.at, outcome, now)


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


def run(config_path: Path, config: Config, environ: Mapping[str, str], secrets: SecretFilter) -> int:
    """`mgremind run` once the configuration is valid: returns the exit status."""
    # The URLs' secrets are known to the log filter before apprise first sees them.
    secrets.fragments = secret_fragments([*configured_urls(config, environ), *config.notify.caregiver_urls])
    channels = load_channels(config, environ)  # ChannelError: the caller reports it
    caregivers = caregiver_channels(config)
    secrets.fragments = sorted({*secrets.fragments, *channel_secrets([*channels, *caregivers])}, key=len, reverse=True)
    for problem in exposed_secret_files(config, environ):
        log.warning("%s: %s", problem.key, problem.message)
    state_path = state_file(environ)
    state = State.open(state_path, dt.datetime.now(UTC))  # StateError: the caller reports it
    log.info("state in %s", state_path)
    daemon = Daemon(config_path, config, channels, state, Notifier(environ), secrets, caregivers=caregivers)
    return daemon.run()
