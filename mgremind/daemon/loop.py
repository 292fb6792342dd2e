"""The main loop of `mgremind run`: sleeps until something is due, then wakes the parts that act.

The main thread sleeps in `select` on two things. One is a self-pipe (`Wakeup`): signals
arrive on it through `signal.set_wakeup_fd`, so a handler never runs amid other work, and
the worker threads poke it when a job has run or the jobs have changed. The other is a
timerfd on the wall clock (mgremind/wallclock.py) armed for the next job: after a suspend
or a clock jump it fires at once and nudges the scheduler, whose own sleep counts monotonic
time and would oversleep. No polling: the only periodic wake-up is systemd's watchdog, when
asked for (mgremind/systemd.py).

Whenever the next reminder changes (start, reload, midnight, a delivery), one INFO line says
which it is: the text of the STATUS= line.

Only one daemon runs on a state: `run` locks the state directory (lock_for_daemon) before
it schedules anything, and a second one leaves with the PID of the first.

SIGHUP re-reads the configuration; a bad one is logged and the old plan keeps running.
SIGTERM and SIGINT stop within a second: deliveries in flight get a short grace, and one
stuck in a channel is left to the next start (it stays "sending" in the state, and is
resent saying it may repeat).
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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mgremind.config.paths import state_file
from mgremind.config.secrets import exposed_secret_files
from mgremind.daemon.current import Current, Setup
from mgremind.daemon.delivery import Delivery
from mgremind.daemon.escalation import Escalation
from mgremind.daemon.records import Records
from mgremind.daemon.schedule import FLUSH, STOCK_TOTALS, Jobs, Schedule
from mgremind.daemon.sending import SEND_LIMIT_SECONDS, Sends
from mgremind.loader import load_config
from mgremind.lockfile import lock_for_daemon, publish
from mgremind.logs import SecretFilter
from mgremind.model import Config, ConfigError
from mgremind.notify import Channel, ChannelError, setup_channels
from mgremind.render import daemon_status, state_trouble
from mgremind.state import State
from mgremind.systemd import Notifier
from mgremind.wallclock import WallClockTimer

UTC = dt.timezone.utc
log = logging.getLogger("mgremind")

# How long SIGTERM waits for deliveries in flight before the process leaves without them.
STOP_GRACE_SECONDS = 0.6
# While the state cannot be written, the records waiting in memory are tried again this often.
FLUSH_EVERY = dt.timedelta(seconds=30)


class Wakeup:
    """The self-pipe that wakes the main loop: signal numbers, and a NUL byte for each poke."""

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()

    def fileno(self) -> int:
        return self._reader.fileno()

    def install(self) -> None:
        """Routes SIGHUP, SIGTERM and SIGINT here (main thread only)."""
        for sock in (self._reader, self._writer):
            sock.setblocking(False)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)  # the wakeup fd carries the signal number

    def poke(self) -> None:
        """Asks the main loop to re-arm its timer and refresh the status (from any thread)."""
        with contextlib.suppress(OSError):  # the buffer is full: a wake-up is pending anyway
            self._writer.send(b"\0")

    def read(self) -> bytes | None:
        """What has arrived since the last read (signal numbers and pokes), or None when nothing has."""
        try:
            return self._reader.recv(4096)
        except BlockingIOError:
            return None

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


class Daemon:
    """The parts put together, and the loop that drives them."""

    def __init__(  # noqa: PLR0917 - the daemon's parts, each passed in so tests can swap them
        self,
        config_path: Path,
        config: Config,
        channels: Sequence[Channel],
        state: State,
        notifier: Notifier,
        secrets: SecretFilter,
        *,
        caregivers: Sequence[Channel] = (),
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC),
        publish: Callable[[str], None] = lambda note: None,
        send_limit: float = SEND_LIMIT_SECONDS,
    ) -> None:
        self._config_path = config_path
        self._state = state
        self._notifier = notifier
        self._secrets = secrets
        self._now = now
        self._publish = publish  # what `mgremind status` shows of the daemon (lockfile.publish)
        self._published = ""
        self._logged_next = ""  # the next reminder as last logged: a change is logged once
        self._current = Current(Setup(config, tuple(channels), tuple(caregivers)))
        self.wakeup = Wakeup()
        self.jobs = Jobs()
        self.records = Records(state, now, on_trouble=self._flush_later)
        sends = Sends(send_limit)
        escalation = Escalation(state, sends)
        self.delivery = Delivery(
            self._current, self.records, sends, self.jobs, escalation, now=now, poke=self.wakeup.poke
        )
        self.schedule = Schedule(
            self._current, self.records, self.jobs, self.delivery, escalation, now=now, poke=self.wakeup.poke
        )

    def run(self) -> int:
        """The main loop: returns the exit status when SIGTERM or SIGINT arrives."""
        threading.excepthook = _log_thread_failure
        self.wakeup.install()
        timer = WallClockTimer()
        self.jobs.start()
        self.schedule.rebuild()
        channels = self._current.get().channels
        log.info("started: %d channel(s): %s", len(channels), ", ".join(c.label for c in channels))
        self._notifier.ready(self.status())
        # After READY=1, in a worker: the first time after an upgrade or a new count it plans every
        # day since the count (about 2 s for 3 years at 200 reminders a day), once.
        self.jobs.call_at(STOCK_TOTALS, self._now(), self._after_start)
        try:
            while True:
                due = self.jobs.next_due()
                timer.arm(due if due is not None and due > self._now() else None)
                readers: list[Wakeup | WallClockTimer] = [self.wakeup, *([timer] if timer.enabled else [])]
                ready, _, _ = select.select(readers, [], [], self._notifier.watchdog_interval)
                if timer in ready:
                    timer.drain()
                    self.jobs.wakeup()
                if self.wakeup in ready and self._handle_wakeups():
                    break
                if self._notifier.watchdog_interval is not None:
                    self._notifier.watchdog()
        finally:
            timer.close()
        return self._stop()

    def status(self, reload_failed: bool = False) -> str:
        """The STATUS= line: the next reminder, after what is wrong. The next reminder is logged
        too, when it is not the one logged last; what is wrong is published for `status`."""
        upcoming = self.schedule.next_pending()
        text = daemon_status(upcoming)
        if text != self._logged_next:
            self._logged_next = text
            log.info("%s", text)
        trouble = self.records.trouble
        note = "" if trouble is None else state_trouble(trouble.since, trouble.waiting, self._current.get().config.zone)
        if note != self._published:
            self._published = note
            self._publish(note)
        return daemon_status(upcoming, reload_failed, note) if reload_failed or note else text

    def _after_start(self) -> None:
        """In a worker, after READY=1: the running stock totals, then what every delivery reads."""
        self.schedule.keep_stock_totals()
        self.delivery.warm()

    def _flush_later(self) -> None:
        """While the state cannot be written: try again every FLUSH_EVERY (and with each record)."""
        self.jobs.call_at(FLUSH, self._now() + FLUSH_EVERY, self._flush)

    def _flush(self) -> None:
        if not self.records.flush():
            self._flush_later()
        self.wakeup.poke()  # STATUS= and `status` say it

    def reload(self) -> None:
        """SIGHUP: read the configuration again; a bad one is logged and the old plan runs on."""
        self._notifier.reloading()
        log.info("reloading %s", self._config_path)
        try:
            config = load_config(self._config_path)
            channels, caregivers, _ = setup_channels(config, os.environ, self._secrets)
        except ConfigError as error:
            for line in error.lines():
                log.error("reload failed: %s", line)
            log.error("reload failed: keeping the previous plan")
            self._notifier.ready(self.status(reload_failed=True))
            return
        except ChannelError as error:
            log.error("reload failed: %s; keeping the previous plan", error)
            self._notifier.ready(self.status(reload_failed=True))
            return
        self._current.replace(Setup(config, tuple(channels), tuple(caregivers)))
        self.schedule.rebuild()
        log.info("reloaded: %d channel(s)", len(channels))
        for problem in exposed_secret_files(config, os.environ):
            log.warning("%s: %s", problem.key, problem.message)
        self._notifier.ready(self.status())

    def _handle_wakeups(self) -> bool:
        """Signals and pokes from the worker threads; True when it is time to stop. Everything that
        has arrived is read first: SIGHUPs in a burst make one reload, and a SIGTERM among them
        makes none (it stops within a second however many SIGHUPs came before it)."""
        arrived = b""
        while (data := self.wakeup.read()) is not None:
            arrived += data
        if not arrived:
            return False
        stop = next((signum for signum in arrived if signum in (signal.SIGTERM, signal.SIGINT)), None)
        if stop is not None:
            log.info("stopping on %s", signal.Signals(stop).name)
            return True
        if signal.SIGHUP in arrived:
            self.reload()
        else:
            self._notifier.status(self.status())
        return False

    def _stop(self) -> int:
        self._notifier.stopping()
        self.jobs.shutdown()
        unfinished = self.delivery.wait_idle(STOP_GRACE_SECONDS)
        if self.records.trouble is not None and not self.records.flush():  # a last try: then lost
            trouble = self.records.trouble
            log.error(
                "stopping with %d record(s) unwritten: their reminders may be sent again after the restart",
                trouble.waiting if trouble else 0,
            )
        log.info("stopped" + (f" with {unfinished} delivery(ies) unfinished" if unfinished else ""))
        if unfinished:
            # A delivery stuck in a channel must not hold up the exit: it stays "sending" in the
            # state and is retried on the next start, marked as a possible repeat.
            logging.shutdown()
            sys.stdout.flush()
            os._exit(0)
        self._state.close()
        return 0


def _log_thread_failure(args: threading.ExceptHookArgs) -> None:
    """A thread's uncaught exception as one log line (scrubbed of secrets like every line), not a
    traceback on standard error: a library's thread (APScheduler's, apprise's) may quote a URL."""
    if args.exc_type is SystemExit:
        return
    thread = args.thread.name if args.thread is not None else "a thread"
    log.error("%s failed: %s: %s", thread, args.exc_type.__name__, args.exc_value)


def run(config_path: Path, config: Config, environ: Mapping[str, str], secrets: SecretFilter) -> int:
    """`mgremind run` once the configuration is valid: returns the exit status."""
    state_path = state_file(environ, config_path.absolute())  # the system config: the system service's state
    # First of all, and held until the process ends: a second daemon on this state leaves at once.
    lock = lock_for_daemon(state_path.parent)  # StateError: the caller reports it
    try:
        # As check and notify-test build them, the log filter learning the secrets first.
        # ChannelError: the caller reports it.
        channels, caregivers, _ = setup_channels(config, environ, secrets)
        for problem in exposed_secret_files(config, environ):
            log.warning("%s: %s", problem.key, problem.message)
        state = State.open(state_path, dt.datetime.now(UTC))  # StateError: the caller reports it
        # Damage is found before anything is scheduled, not delivery by delivery (StateError: exit 1).
        state.verify()
        log.info("state in %s", state_path)
        daemon = Daemon(
            config_path,
            config,
            channels,
            state,
            Notifier(environ),
            secrets,
            caregivers=caregivers,
            publish=lambda note: publish(lock, note),
        )
        return daemon.run()
    finally:
        os.close(lock)
