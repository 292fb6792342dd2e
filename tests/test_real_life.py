"""The daemon in real life (SPEC §4 v2 "a daemon that survives real life"), end to end: the real
`mgremind run` beside channels that hang or trickle, on a state whose filesystem fills up, on
damaged or foreign state files, and under a burst of signals.

Every wait is on an event (a message arriving, a record, a log line), bounded only against a
hang. The one bound on time is the promise itself: a healthy channel gets each reminder within a
second of its time whatever the other channels do (normally it is a few milliseconds).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import resource
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Start, WritePlan
from daemon_harness import STATE_FILE, NotifySocket, mgremind_process, outcome_is, reminder_rows
from receivers import JsonReceiver, Received, StuckReceiver
from timing import LEAD, ahead, reminder_id, wait_until

from mgremind.state import State

pytestmark = pytest.mark.e2e

UTC = dt.timezone.utc
UNRECORDED = "(mgremind cannot write its records just now: this message may come again.)"
STEP = dt.timedelta(seconds=1)


def meals(count: int, step: dt.timedelta = STEP) -> dict[str, dt.datetime]:
    """`count` meals `step` apart, the first LEAD from now."""
    first = ahead(LEAD)
    return {f"m{number}": first + number * step for number in range(count)}


def by_title(messages: list[Received]) -> dict[str, Received]:
    found: dict[str, Received] = {}
    for message in messages:
        assert message.title not in found, f"{message.title} arrived twice"
        found[message.title] = message
    return found


# ---------------------------------------------------------------------------- channels that hang


class Dead:
    """Two channels that never answer: one silent, one trickling a byte a second."""

    def __init__(self) -> None:
        self.silent = StuckReceiver().start()
        self.trickling = StuckReceiver(trickle=1.0).start()

    def stop(self) -> None:
        self.silent.stop()
        self.trickling.stop()


@pytest.fixture
def dead() -> Iterator[Dead]:
    channels = Dead()
    yield channels
    channels.stop()


def test_hanging_and_trickling_channels_never_delay_a_healthy_one(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver, dead: Dead
) -> None:
    silent, trickling = dead.silent, dead.trickling
    plan = meals(5)
    # The healthy channel last: sent one after another, it would wait for the two before it.
    config = write_plan([silent.url(), trickling.url(), json_receiver.url()], plan)
    daemon = start(config).ready()
    last = max(plan.values())
    wait_until(
        lambda: len(json_receiver.messages()) >= len(plan), last.timestamp() - time.time() + 10, "every reminder"
    )
    arrived = by_title(json_receiver.messages())
    for name, due in plan.items():
        late = arrived[f"Magnesium: {name}"].at - due.timestamp()
        assert 0 <= late < 1.0, f"{name} reached the healthy channel {late:+.3f} s from its time"
    assert silent.connections >= 1 and trickling.connections >= 1  # both were tried, and neither answered
    # SIGTERM does not wait for the sends stuck in the two dead channels.
    daemon.send(signal.SIGTERM)
    assert daemon.wait() == 0
    assert "stopped with" in daemon.stderr and "unfinished" in daemon.stderr


# ---------------------------------------------------------------------------- a full filesystem


class FullDisk:
    """Makes the daemon's state unwritable for real, and writable again."""

    fill: Callable[[int], None]  # (the daemon's PID)
    free: Callable[[int], None]


class FileSizeLimit(FullDisk):
    """RLIMIT_FSIZE on the running daemon at the size its files have: the next write that would grow
    one fails with EFBIG, as a full disk fails with ENOSPC (any user may lower its own limit)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def fill(self, pid: int) -> None:
        largest = max(path.stat().st_size for path in self.state_dir.iterdir())
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (largest, hard))

    def free(self, pid: int) -> None:
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))


class SmallTmpfs(FullDisk):
    """A 2 MB tmpfs for the state directory (root only), filled up by a file of the test's."""

    def __init__(self, state_dir: Path) -> None:
        """CalledProcessError when this machine does not let mount (a container without CAP_SYS_ADMIN)."""
        state_dir.mkdir(parents=True)
        command = ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(state_dir)]
        subprocess.run(command, check=True, capture_output=True)
        self.state_dir = state_dir
        self.filler = state_dir / "filler"

    def fill(self, pid: int) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with contextlib.suppress(OSError):  # ENOSPC: full
                while True:
                    os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)

    def free(self, pid: int) -> None:
        self.filler.unlink()

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.state_dir)], check=False)


@pytest.fixture(params=["file size limit", "full tmpfs"])
def full_disk(request: pytest.FixtureRequest, state_dir: Path) -> Iterator[FullDisk]:
    if request.param == "file size limit":
        yield FileSizeLimit(state_dir)
        return
    try:
        disk = SmallTmpfs(state_dir)
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot mount a tmpfs here ({error}); the file size limit shows the same without it")
    try:
        yield disk
    finally:
        disk.unmount()


def test_a_state_that_cannot_be_written_loses_no_reminder(
    write_plan: WritePlan,
    state_dir: Path,
    start: Start,
    json_receiver: JsonReceiver,
    full_disk: FullDisk,
) -> None:
    plan = meals(6, step=2 * STEP)  # room to look at the daemon while the disk is full
    names, dues = list(plan), list(plan.values())
    config = write_plan([json_receiver.url()], plan)
    notify = NotifySocket(config.parent / "notify.sock")
    try:
        daemon = start(config, {"NOTIFY_SOCKET": str(notify.path)}).ready()
        wait_until(outcome_is(state_dir, reminder_id(names[0], dues[0]), "delivered"), 10, "m0 recorded")
        full_disk.fill(daemon.process.pid)

        wait_until(lambda: len(json_receiver.messages()) >= 3, dues[2].timestamp() - time.time() + 10, "m1 and m2")
        arrived = by_title(json_receiver.messages())
        assert not arrived["Magnesium: m0"].body.endswith(UNRECORDED)
        for name in names[1:3]:  # sent all the same, saying that they may come again
            assert arrived[f"Magnesium: {name}"].body.endswith(UNRECORDED)
        status_at = notify.wait_for("STATUS")
        while "cannot write its state" not in notify.messages[status_at].get("STATUS", ""):
            status_at = notify.wait_for("STATUS", after=status_at + 1)
        shown = mgremind_process(config, state_dir, "status")
        assert "! cannot write its state since" in shown.stdout, shown.stdout + shown.stderr
        errors = [line for line in daemon.stderr.splitlines() if "reminders still go out" in line]
        assert len(errors) == 1, daemon.stderr  # at once, then once a minute at most
        assert str(state_dir / STATE_FILE) in errors[0]

        full_disk.free(daemon.process.pid)
        wait_until(
            outcome_is(state_dir, reminder_id(names[-1], dues[-1]), "delivered"),
            dues[-1].timestamp() - time.time() + 10,
            "the last reminder recorded",
        )
        daemon.wait_for_log("the state is written again")
        assert daemon.stop() == 0
    finally:
        notify.close()
    arrived = by_title(json_receiver.messages())
    assert sorted(arrived) == sorted(f"Magnesium: {name}" for name in names)  # each once, none lost
    # The reminders sent while the disk was full say so (m1 and m2 at least, more on a slow machine);
    # the first record after it was freed brings the waiting ones in, and no later reminder says it.
    noted = [name for name in names if arrived[f"Magnesium: {name}"].body.endswith(UNRECORDED)]
    assert noted == names[1 : 1 + len(noted)] and len(noted) >= 2 and names[-1] not in noted, noted
    # And every one is in the state: the records that waited were written once it could be.
    assert reminder_rows(state_dir) == {reminder_id(name, due): ("delivered", 0) for name, due in plan.items()}


# ---------------------------------------------------------------------------- damage found at start


def _records(path: Path) -> None:
    """A state with a few records, as a daemon and the commands leave it."""
    state = State.open(path, dt.datetime(2026, 11, 20, tzinfo=UTC))
    try:
        for day in range(20, 25):
            rid = f"2026-11-{day}/lunch"
            at = dt.datetime(2026, 11, day, 12, tzinfo=UTC)
            state.begin_delivery(rid, "console", at)
            state.finish_delivery(rid, "console", at, None)
            state.close_reminder(rid, at, "delivered", at)
            state.acknowledge(rid, "taken", at)
        state.add_stock_count("citrate", 60, dt.datetime(2026, 11, 21, tzinfo=UTC))
    finally:
        state.close()


def _sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            db.execute(statement)
    finally:
        db.close()


def _garble_last_page(path: Path) -> None:
    with open(path, "r+b") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(size - 4096)
        file.write(bytes(range(256)) * 16)


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "a garbled last page": (_garble_last_page, "move it aside"),
    "a dropped table": (lambda path: _sql(path, "DROP TABLE ack"), "has no table 'ack'"),
    "a bad stock row": (
        lambda path: _sql(path, "UPDATE stock_count SET units = 'lots'"),
        "a stock count is garbled: 'lots'",
    ),
    "a bad time": (
        lambda path: _sql(path, "UPDATE meta SET value = 'yesterday' WHERE key = 'created_at'"),
        "a time is garbled",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_state_is_refused_at_start(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver, damage: str
) -> None:
    state_dir.mkdir()
    path = state_dir / STATE_FILE
    _records(path)
    harm, said = DAMAGE[damage]
    harm(path)
    config = write_plan([json_receiver.url()], meals(1))
    daemon = start(config)
    assert daemon.wait() == 1
    lines = [line for line in daemon.stderr.splitlines() if str(path) in line]
    assert len(lines) == 1 and said in lines[0], daemon.stderr
    assert "started" not in daemon.stderr  # nothing was scheduled
    assert json_receiver.messages() == []


FOREIGN = {
    "another application's id": ("PRAGMA application_id = 1234", "CREATE TABLE notes (body TEXT)"),
    "another program's versioned tables": ("PRAGMA user_version = 2", "CREATE TABLE meta (k, v)", "CREATE TABLE t (x)"),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_another_programs_database_is_refused_and_left_untouched(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver, kind: str
) -> None:
    state_dir.mkdir()
    path = state_dir / STATE_FILE
    _sql(path, *FOREIGN[kind])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    config = write_plan([json_receiver.url()], meals(1))
    daemon = start(config)
    assert daemon.wait() == 1
    assert "another program's database" in daemon.stderr and str(path) in daemon.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # never migrated in place
    taken = mgremind_process(config, state_dir, "history")
    assert taken.returncode == 1 and "another program's database" in taken.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


# ---------------------------------------------------------------------------- a burst of signals


def test_sigterm_after_a_burst_of_sighups_stops_without_a_reload_each(
    write_plan: WritePlan, start: Start, json_receiver: JsonReceiver
) -> None:
    config = write_plan([json_receiver.url()], {"later": ahead(3600)})
    daemon = start(config).ready()
    for _ in range(50):
        daemon.send(signal.SIGHUP)
    daemon.send(signal.SIGTERM)
    assert daemon.wait() == 0
    assert "stopping on SIGTERM" in daemon.stderr
    reloads = daemon.stderr.count("reloading ")
    assert reloads < 10, f"{reloads} reloads for a burst of 50 SIGHUPs: they are not coalesced"
