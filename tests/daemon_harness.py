"""The real daemon as a user runs it, for the end-to-end tests: `mgremind -c CONFIG run` (the installed
console script) in a subprocess with real signals; commands beside it on the same state; the plan
they run on; the state's rows read back with sqlite3. The fixtures that start and clean up all
this are in conftest.py.

Waits poll with a deadline (timing.wait_until) that only bounds a hang. A test never sleeps to show
that something does not happen: it waits for an event that would come after it (a later reminder, or
the daemon's "stopped" line, which it writes once the deliveries in flight are done).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from plans import citrate_with_calcium, meal, strings, table, timezone
from timing import wait_until

MGREMIND = Path(sys.executable).parent / "mgremind"  # the console script installed beside this interpreter
# Variables that would change which configuration, state, unit directory or log format a child uses.
MGREMIND_ENVIRONMENT = (
    "MGREMIND_CONFIG",
    "CONFIGURATION_DIRECTORY",
    "CREDENTIALS_DIRECTORY",
    "STATE_DIRECTORY",
    "XDG_CONFIG_HOME",
    "JOURNAL_STREAM",
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
)
STATE_FILE = "state.sqlite3"
REMINDERS = "SELECT id, outcome, late FROM reminder"
DELIVERIES = "SELECT reminder_id, status, attempts FROM delivery ORDER BY attempts"
# What the plan below has at a meal that gets 100 mg (plans.citrate_with_calcium).
ONE_CAPSULE = "Magnesium citrate: 1 capsule (100 mg)\nCalcium carbonate: 0.5 tablet (125 mg)"
# The daemon's last line when it leaves with no delivery unfinished ("stopped with 1 delivery(ies)
# unfinished" otherwise), with or without a timestamp or a journal priority before it.
STOPPED = re.compile(r"(?:^|[\s>])stopped$", re.MULTILINE)


def child_environ(**values: str) -> dict[str, str]:
    """The environment for a child mgremind: this one without MGREMIND_ENVIRONMENT, plus `values`."""
    environ = {key: value for key, value in os.environ.items() if key not in MGREMIND_ENVIRONMENT}
    environ.update(values)
    return environ


def plan_toml(
    urls: Sequence[str],
    meals: Mapping[str, dt.datetime],
    *,
    daily_mg: int | None = None,
    reminders: Mapping[str, str] | None = None,
    notify: Mapping[str, str] | None = None,
) -> str:
    """A plan in UTC: every day, one meal per entry at the instant's time of day (HH:MM:SS); the
    title "Magnesium"; magnesium citrate splitting `daily_mg` (default 100 a meal: one capsule each)
    with calcium carbonate paired 1:1 (plans.citrate_with_calcium). `reminders` and `notify` are more
    keys of those tables, as TOML value text."""
    return (
        timezone("UTC")
        + table("notify", title='"Magnesium"', urls=strings(urls), **(notify or {}))
        + table("reminders", **(reminders or {}))
        + "".join(meal(name, f"{at:%H:%M:%S}") for name, at in meals.items())
        + citrate_with_calcium(daily_mg if daily_mg is not None else 100 * len(meals))
    )


def write_config(directory: Path, text: str, mode: int = 0o600) -> Path:
    path = directory / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


class Daemon:
    """`mgremind -c CONFIG run [ARGS]` in a subprocess, its stdout and stderr collected line by line.

    `journal` makes $JOURNAL_STREAM name the daemon's "stderr" (as systemd's journal does) or its
    "stdout" (as a child of a service inherits it, naming another stream); None leaves it unset.
    `command` replaces the console script (e.g. setpriv … /usr/bin/python3 -m mgremind, as another user).
    """

    def __init__(
        self,
        config: Path,
        state_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        journal: str | None = None,
        command: Sequence[str] = (),
    ) -> None:
        self.config = config
        environ = child_environ(STATE_DIRECTORY=str(state_dir), **(env or {}))
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        if journal is not None:
            named = os.fstat({"stderr": err_write, "stdout": out_write}[journal])
            environ["JOURNAL_STREAM"] = f"{named.st_dev}:{named.st_ino}"
        try:
            self.process = subprocess.Popen(
                [*(command or [str(MGREMIND)]), "-c", str(config), "run", *args],
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=out_write,
                stderr=err_write,
            )
        finally:
            os.close(out_write)
            os.close(err_write)
        self._lock = threading.Lock()
        self._lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._readers = [
            threading.Thread(target=self._read, args=(os.fdopen(fd, encoding="utf-8", errors="replace"), name))
            for fd, name in ((out_read, "stdout"), (err_read, "stderr"))
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    def _read(self, stream: IO[str], name: str) -> None:
        with stream:
            for line in iter(stream.readline, ""):
                with self._lock:
                    self._lines[name].append(line)

    def _text(self, name: str) -> str:
        with self._lock:
            return "".join(self._lines[name])

    @property
    def stderr(self) -> str:
        """The log so far."""
        return self._text("stderr")

    @property
    def stdout(self) -> str:
        """What the console channel printed so far."""
        return self._text("stdout")

    def wait_for_log(self, text: str, timeout: float = 10.0, *, stream: str = "stderr") -> None:
        """Waits for `text` in the log (or on stdout); fails at once if the daemon exits without it."""

        def seen() -> bool:
            if text in self._text(stream):
                return True
            if self.process.poll() is not None:
                self._join()
                if text not in self._text(stream):
                    raise AssertionError(f"the daemon exited ({self.process.returncode}) without {text!r}")
            return text in self._text(stream)

        try:
            wait_until(seen, timeout, f"{text!r} on the daemon's {stream}")
        except AssertionError as error:
            raise AssertionError(f"{error}; its log:\n{self.stderr}") from None

    def ready(self) -> Daemon:
        """Waits for the start-up line: the plan is scheduled."""
        self.wait_for_log("started: ")
        return self

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signals the daemon and waits for it to exit; returns its status. Its last line says it
        stopped with no delivery unfinished: whatever it had in flight has reached the receivers."""
        self.send(signum)
        status = self.wait(timeout)
        assert STOPPED.search(self.stderr), f"no plain 'stopped' line:\n{self.stderr}"
        return status

    def wait(self, timeout: float = 10.0) -> int:
        """Waits for the daemon to exit (by itself or on a signal sent before); its status."""
        status = self.process.wait(timeout=timeout)
        self._join()
        assert "Traceback" not in self.stderr, self.stderr
        return status

    def kill(self) -> None:
        """SIGKILL, if it still runs: no clean-up of any kind."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._join()

    def _join(self) -> None:
        for reader in self._readers:
            reader.join(timeout=5)


def mgremind_process(config: Path, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`mgremind -c CONFIG ARGS` in its own process, on the state of the daemon beside it."""
    result = subprocess.run(
        [str(MGREMIND), "-c", str(config), *args],
        env=child_environ(STATE_DIRECTORY=str(state_dir)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


# ---------------------------------------------------------------------------- the state, read back


def rows(state_dir: Path, query: str) -> list[tuple[Any, ...]]:
    """The rows of a query on the state database (none before it exists)."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return []
    db = sqlite3.connect(path, timeout=10)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def reminder_rows(state_dir: Path) -> dict[str, tuple[str, int]]:
    """The reminder table: id -> (outcome, late)."""
    return {rid: (outcome, late) for rid, outcome, late in rows(state_dir, REMINDERS)}


def delivery_rows(state_dir: Path) -> list[tuple[str, str, int]]:
    """The delivery table: (reminder id, status, attempts), a row per channel."""
    return [(rid, status, attempts) for rid, status, attempts in rows(state_dir, DELIVERIES)]


def acks(state_dir: Path) -> dict[str, str]:
    return dict(rows(state_dir, "SELECT reminder_id, status FROM ack"))


def meta(state_dir: Path) -> dict[str, str]:
    return dict(rows(state_dir, "SELECT key, value FROM meta"))


def outcome_is(state_dir: Path, rid: str, outcome: str) -> Callable[[], bool]:
    return lambda: reminder_rows(state_dir).get(rid, ("", 0))[0] == outcome


class NotifySocket:
    """What systemd's side of $NOTIFY_SOCKET receives: one datagram per notification."""

    def __init__(self, path: Path) -> None:
        assert len(str(path)) < 100, "AF_UNIX paths are limited to 108 bytes"
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.socket.settimeout(0.05)
        self.messages: list[dict[str, str]] = []

    def collect(self) -> None:
        while True:
            try:
                data = self.socket.recv(4096)
            except TimeoutError:
                return
            self.messages.append(dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line))

    def wait_for(self, key: str, after: int = 0, timeout: float = 10.0) -> int:
        """The index of the first message from index `after` on that holds `key`."""

        def found() -> bool:
            self.collect()
            return any(key in message for message in self.messages[after:])

        wait_until(found, timeout, f"{key} on the notify socket: {self.messages}")
        return next(index for index in range(after, len(self.messages)) if key in self.messages[index])

    def close(self) -> None:
        self.socket.close()
