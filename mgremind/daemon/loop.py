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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mgremind.config.paths import state_file
from mgremind.config.secrets import exposed_secret_files
from mgremind.daemon.current import Current, Setup
from mgremind.daemon.delivery import Delivery
from mgremind.daemon.escalation import Escalation
from mgremind.daemon.schedule import Jobs, Schedule
from mgremind.loader import load_config
from mgremind.lockfile import lock_for_daemon
from mgremind.logs import SecretFilter
from mgremind.model import Config, ConfigError
from mgremind.notify import Channel, ChannelError, setup_channels
from mgremind.render import daemon_status
from mgremind.state import State
from mgremind.systemd import Notifier
from mgremind.wallclock import WallClockTimer

UTC = dt.timezone.utc
log = logging.getLogger("mgremind")

# How long SIGTERM waits for deliveries in flight before the process leaves without them.
STOP_GRACE_SECONDS = 0.6


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
    ) -> None:
        self._config_path = config_path
        self._state = state
        self._notifier = notifier
        self._secrets = secrets
        self._now = now
        self._logged_next = ""  # the next reminder as last logged: a change is logged once
        self._current = Current(Setup(config, tuple(channels), tuple(caregivers)))
        self.wakeup = Wakeup()
        self.jobs = Jobs()
        escalation = Escalation(state)
        self.delivery = Delivery(self._current, state, self.jobs, escalation, now=now, poke=self.wakeup.poke)
        self.schedule = Schedule(
            self._current, state, self.jobs, self.delivery, escalation, now=now, poke=self.wakeup.poke
        )

    def run(self) -> int:
        """The main loop: returns the exit status when SIGTERM or SIGINT arrives."""
        self.wakeup.install()
        timer = WallClockTimer()
        self.jobs.start()
        self.schedule.rebuild()
        channels = self._current.get().channels
        log.info("started: %d channel(s): %s", len(channels), ", ".join(c.label for c in channels))
        self._notifier.ready(self.status())
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
        """The STATUS= line: the next reminder. It is logged too, when it is not the one logged last."""
        upcoming = self.schedule.next_pending()
        text = daemon_status(upcoming)
        if text != self._logged_next:
            self._logged_next = text
            log.info("%s", text)
        return daemon_status(upcoming, reload_failed) if reload_failed else text

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
        """Signals and pokes from the worker threads; True when it is time to stop."""
        data = self.wakeup.read()
        if data is None:
            return False
        stop = False
        for signum in data:
            if signum == signal.SIGHUP:
                self.reload()
            elif signum in (signal.SIGTERM, signal.SIGINT):
                log.info("stopping on %s", signal.Signals(signum).name)
                stop = True
        if not stop:
            self._notifier.status(self.status())
        return stop

    def _stop(self) -> int:
        self._notifier.stopping()
        self.jobs.shutdown()
        unfinished = self.delivery.wait_idle(STOP_GRACE_SECONDS)
        log.info("stopped" + (f" with {unfinished} delivery(ies) unfinished" if unfinished else ""))
        if unfinished:
            # A delivery stuck in a channel must not hold up the exit: it stays "sending" in the
            # state and is retried on the next start, marked as a possible repeat.
            logging.shutdown()
            sys.stdout.flush()
            os._exit(0)
        self._state.close()
        return 0


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
        log.info("state in %s", state_path)
        daemon = Daemon(config_path, config, channels, state, Notifier(environ), secrets, caregivers=caregivers)
        return daemon.run()
    finally:
        os.close(lock)
