"""The schedule: which reminders are jobs, and when. The only module that touches APScheduler.

Every reminder of today and tomorrow is a `DateTrigger` job at the planner's instant, never a
cron rule: the planner already resolved DST, and a `CronTrigger` at a wall-clock time in a
fall-back hour can fire twice. A job at local midnight rolls the horizon on by a day; SIGHUP
rebuilds it all. Repeats ("#repeatN") and retries ("#retry") are jobs too, each delivering
its reminder's repeat or the reminder itself.

APScheduler 3.x never runs a job later than its `misfire_grace_time`, so a delivery job may
run up to `catch_up` late (a suspend, a slow start) and the midnight roll-over however late.
A job skipped all the same is reported by the missed-job event, and recorded as missed.

The jobs live in memory only: the state database, not a job store, decides what was sent. A
rebuild looks back for reminders that fell due unsent (while the daemon was down, or left
behind at midnight by a busy machine) and sends those younger than `catch_up` now, marked
late; older ones are recorded as missed. A reminder with a retry pending is not overdue: the
retry job survives the rebuild, and its retries decide when to give up.

`Jobs` holds APScheduler at arm's length (jobs by id, each at an instant); `Schedule` decides
which jobs there are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from mgremind.daemon.current import Current
from mgremind.daemon.decisions import (
    catch_up,
    horizon_end,
    lookback_start,
    next_midnight,
    reminders_between,
    repeat_id,
    repeats_between,
)
from mgremind.daemon.delivery import Deliver, Delivery
from mgremind.daemon.escalation import Escalation
from mgremind.daemon.records import Records
from mgremind.daemon.stock import keep_stock_totals
from mgremind.model import Config, Reminder, StateError
from mgremind.state import State
from mgremind.titration import Ramp

UTC = dt.timezone.utc
log = logging.getLogger("mgremind")

RETRY = "#retry"  # a retry's job id: "ID#retry:CHANNEL", the id it delivers and the channel's key
MIDNIGHT = "midnight"
FLUSH = "flush records"  # while the state cannot be written: try again (records.Records.flush)
STOCK_TOTALS = "stock totals"  # at start, after READY=1: the running totals brought up to date
KEPT = frozenset({FLUSH, STOCK_TOTALS})  # jobs a rebuild leaves alone


class Jobs:
    """APScheduler's `BackgroundScheduler`: one `DateTrigger` job per id, run by worker threads."""

    def __init__(self) -> None:
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=8)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.stopped = False  # shutdown() was called: the jobs still running are leftovers

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        """No job starts any more; those running finish in their threads (Delivery.wait_idle).

        Paused and emptied first: APScheduler marks itself stopped before it takes its lock, and
        its thread, in the midst of submitting a due job, then fails to remove that job and dies
        with a traceback. Emptying takes the lock, so it waits for that round to end."""
        self.stopped = True
        self._scheduler.pause()
        self._scheduler.remove_all_jobs()
        self._scheduler.shutdown(wait=False)

    def wakeup(self) -> None:
        """Has the scheduler look at the clock again: its own sleep counts monotonic time."""
        self._scheduler.wakeup()

    def next_due(self) -> dt.datetime | None:
        times = [job.next_run_time for job in self._scheduler.get_jobs() if job.next_run_time is not None]
        return min(times, default=None)

    def on_missed(self, listener: Callable[[JobExecutionEvent], None]) -> None:
        """Calls `listener` with each job the scheduler skips as more than its grace time late."""
        self._scheduler.add_listener(listener, EVENT_JOB_MISSED)

    def deliver_at(
        self,
        job_id: str,
        when: dt.datetime,
        deliver: Deliver,
        caught_up: bool,
        grace: dt.timedelta,
        *,
        channel: str | None = None,
    ) -> None:
        """The job `job_id`: deliver(delivery id, caught_up, channel) at `when`, at most `grace` late."""
        self._scheduler.add_job(
            deliver,
            DateTrigger(when),
            args=[job_id.partition(RETRY)[0], caught_up, channel],
            id=job_id,  # "#retry…" and "#repeatN" jobs deliver the same reminder
            replace_existing=True,
            # Late is better than lost: the job may run up to catch_up late (suspend, slow start).
            misfire_grace_time=max(int(grace.total_seconds()), 1),
        )

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
        """The retry of one channel's delivery (delivery.Retries): a job of its own, each channel's
        apart, replacing the one before, and surviving `clear`."""
        self.deliver_at(f"{delivery_id}{RETRY}:{channel}", when, deliver, caught_up, grace, channel=channel)

    def call_at(self, job_id: str, when: dt.datetime, call: Callable[[], None]) -> None:
        """Any other job: `call()` at `when`, however late (replaces the job of that id)."""
        self._scheduler.add_job(call, DateTrigger(when), id=job_id, replace_existing=True, misfire_grace_time=None)

    def roll_over_at(self, when: dt.datetime, roll_over: Callable[[], None]) -> None:
        """The midnight job: it runs however late (after a suspend)."""
        self.call_at(MIDNIGHT, when, roll_over)

    def clear(self) -> set[str]:
        """Removes every reminder's job but the pending retries; returns the ids those retries deliver."""
        jobs = self._scheduler.get_jobs()
        retrying = {job.id.partition(RETRY)[0] for job in jobs if RETRY in job.id}
        for job in jobs:
            if RETRY not in job.id and job.id not in KEPT:
                with contextlib.suppress(JobLookupError):  # it fired and went meanwhile
                    job.remove()
        return retrying

    def pending(self) -> list[Any]:
        """The jobs as APScheduler holds them (`apscheduler.job.Job`), to inspect."""
        return list(self._scheduler.get_jobs())


class Schedule:
    """Today's and tomorrow's reminders as jobs, the catch-up, the repeats and the midnight roll-over."""

    def __init__(
        self,
        current: Current,
        records: Records,
        jobs: Jobs,
        delivery: Delivery,
        escalation: Escalation,
        *,
        now: Callable[[], dt.datetime],
        poke: Callable[[], None],
    ) -> None:
        self._current = current
        self._records = records
        self._jobs = jobs
        self._delivery = delivery
        self._escalation = escalation
        self._now = now
        self._poke = poke  # tells the main loop to re-arm its timer and refresh the status
        # The midnight job (a worker thread) and SIGHUP (the main thread) may meet.
        self._lock = threading.Lock()
        self._reminders: dict[str, Reminder] = {}  # scheduled reminders (not repeats) by id, replaced whole
        jobs.on_missed(self.on_missed)

    def rebuild(self) -> None:
        """(Re)builds the jobs: today's and tomorrow's reminders, catch-up, repeats, the midnight roll."""
        with self._lock:
            now = self._now()
            config = self._current.get().config
            ramp = Ramp(config, self._records.read(State.reports) or {})
            end = horizon_end(config, now)
            created_at = self._records.read(lambda state: state.created_at) or now
            overdue = self._unsent(config, lookback_start(config, now, created_at), now, ramp)
            upcoming = reminders_between(config, now, end, ramp)
            # A reminder with a retry pending is not overdue: its retries decide when to give up.
            retrying = self._jobs.clear()
            decision = catch_up([r for r in overdue if r.id not in retrying], now, config.reminders.catch_up)
            for reminder in decision.missed:
                self._delivery.close_missed(reminder.id, reminder.at, now)
            self._reminders = {r.id: r for r in (*decision.late, *upcoming)}
            grace, deliver = config.reminders.catch_up, self._delivery.deliver
            for reminder in decision.late:
                self._jobs.deliver_at(reminder.id, now, deliver, True, grace)
            for reminder in upcoming:
                self._jobs.deliver_at(reminder.id, reminder.at, deliver, False, grace)
            for reminder, number, when in repeats_between(config, now, end, ramp):
                self._jobs.deliver_at(repeat_id(reminder.id, number), when, deliver, False, grace)
            self._jobs.roll_over_at(next_midnight(config, now), self.roll_over)
        self._poke()

    def roll_over(self) -> None:
        """The midnight job: yesterday's last reminder is missed now, if at all; then a day further."""
        log.info("new day: scheduling through tomorrow")
        self._escalation.check(self._current.get(), self._now())
        self.rebuild()
        self.keep_stock_totals()

    def keep_stock_totals(self) -> None:
        """The running stock totals brought up to the day before yesterday (daemon/stock.py), so a
        delivery works out the supplies left from them: at start and at each midnight roll-over."""
        try:
            keep_stock_totals(self._records.state, self._current.get().config, self._now())
        except StateError as error:
            if not self._jobs.stopped:  # else the daemon closed the state under it: the next start does it
                log.warning("stock totals not brought up to date: %s", error)

    def on_missed(self, event: JobExecutionEvent) -> None:
        """APScheduler skipped a job more than catch_up late (e.g. a long suspend)."""
        if RETRY in event.job_id:  # a retry is bounded by retry_for alone: it runs now, late
            delivery_id, _, channel = event.job_id.partition(RETRY)
            self._delivery.deliver(delivery_id, True, channel.removeprefix(":"))
            return
        reminder = self._reminders.get(event.job_id)
        if reminder is not None and self._records.outcome(reminder.id) is None:
            self._delivery.close_missed(reminder.id, reminder.at, self._now())
        self._poke()

    def next_pending(self) -> Reminder | None:
        """The next scheduled reminder not yet sent (for the status line): one query, however many
        reminders a day and however old the state."""
        now = self._now()
        upcoming = [r for r in self._reminders.values() if r.at >= now]
        if not upcoming:
            return None
        closed = self._records.outcomes_since(min(_day(r) for r in upcoming))
        return min((r for r in upcoming if r.id not in closed), key=lambda r: r.instant, default=None)

    def _unsent(self, config: Config, start: dt.datetime, end: dt.datetime, ramp: Ramp) -> list[Reminder]:
        """The reminders due from `start` to `end` that the state has no outcome for."""
        due = reminders_between(config, start, end, ramp)
        closed = self._records.outcomes_since(min(_day(r) for r in due)) if due else {}
        return [r for r in due if r.id not in closed]


def _day(reminder: Reminder) -> dt.date:
    """The day a reminder's id begins with (its plan's day: a delayed one may fall on the next)."""
    return dt.date.fromisoformat(reminder.id[:10])
