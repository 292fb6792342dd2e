"""One daemon per state (SPEC §4 v2), and the next reminder in the log: the installed console script as
subprocesses on one STATE_DIRECTORY, delivering to a local json:// receiver.

A second `run` on a state that a daemon holds leaves at once, exit status 1, with one line naming the
state and the PID of the first; the first goes on delivering. The lock is the kernel's (flock): a daemon
killed with SIGKILL leaves nothing that stops the next one. The commands that read or record are not
held up by it. Waits poll with a deadline that only bounds a hang (timing.wait_until).
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path

import pytest
from conftest import Start, WritePlan
from daemon_harness import acks, mgremind_process, outcome_is
from receivers import JsonReceiver
from timing import LEAD, ahead, reminder_id, wait_until

from mgremind.lockfile import DAEMON_LOCK
from mgremind.render import clock

pytestmark = pytest.mark.e2e

# SPEC §4 v2: a second `run` on the same state exits within a second. The test shows that it does
# not wait for the lock (it leaves while the first daemon runs on); how fast is the machine's
# business, not an assertion (measured by hand: ~0.15 s from spawn to exit).


def next_line(meal: str, at: dt.datetime) -> str:
    """The log line (and STATUS=) naming `meal` at `at` (UTC, as the plans here are) as the next reminder."""
    return f"next: {meal} at {clock(at)} on {at:%a %Y-%m-%d}"


def lines_ending(log: str, text: str) -> list[str]:
    """The log's lines that end with `text` (with or without a timestamp and level before it)."""
    return [line for line in log.splitlines() if line.endswith(text)]


def test_a_second_daemon_exits_1_at_once_naming_the_first_which_keeps_delivering(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver
) -> None:
    lunch = ahead(LEAD + 4)  # the second daemon comes and goes before it (a few times LEAD on a busy machine)
    config = write_plan([json_receiver.url()], {"lunch": lunch})
    first = start(config).ready()

    second = start(config)
    status = second.wait()  # it does not wait for the lock: the first never lets go; no traceback
    left = time.time()

    assert status == 1, second.stderr
    lines = second.stderr.splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("mgremind: another mgremind "), lines[0]
    assert f"(PID {first.process.pid})" in lines[0]
    assert f"kill {first.process.pid}" in lines[0]
    assert str(state_dir) in lines[0]
    assert second.stdout == ""  # it scheduled nothing, printed no reminder

    # The first goes on: lunch reaches the receiver at its time, after the second has left.
    wait_until(outcome_is(state_dir, reminder_id("lunch", lunch), "delivered"), LEAD + 11, "lunch delivered")
    messages = json_receiver.messages()
    assert [message.title for message in messages] == ["Magnesium: lunch"]
    assert messages[0].at >= max(left, lunch.timestamp())
    assert first.process.poll() is None
    assert first.stop() == 0


def test_after_sigkill_the_next_daemon_starts_and_holds_the_state(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver
) -> None:
    config = write_plan([json_receiver.url()], {"lunch": ahead(3600)})
    killed = start(config).ready()
    killed.kill()  # SIGKILL: no clean-up of any kind; the lock file stays, the kernel drops the lock
    assert (state_dir / DAEMON_LOCK).exists()

    restarted = start(config).ready()
    assert "another mgremind" not in restarted.stderr
    assert (state_dir / DAEMON_LOCK).read_text(encoding="ascii").strip() == str(restarted.process.pid)
    # ...and it holds it in turn.
    third = start(config)
    assert third.wait() == 1
    assert f"(PID {restarted.process.pid})" in third.stderr
    assert restarted.stop() == 0


def test_commands_that_read_or_record_are_not_held_up_by_the_daemon(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver
) -> None:
    lunch = ahead(LEAD)
    rid = reminder_id("lunch", lunch)
    config = write_plan([json_receiver.url()], {"lunch": lunch})
    daemon = start(config).ready()
    wait_until(outcome_is(state_dir, rid, "delivered"), LEAD + 10, "lunch delivered")

    taken = mgremind_process(config, state_dir, "taken", rid)
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"taken: {rid} at "), taken.stdout
    assert acks(state_dir) == {rid: "taken"}
    for command in (("history", "--days", "1"), ("next",), ("check",)):
        result = mgremind_process(config, state_dir, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert "another mgremind" not in result.stderr
    assert daemon.process.poll() is None
    assert daemon.stop() == 0


def test_the_next_reminder_is_logged_at_start_and_when_it_changes_once_each(
    write_plan: WritePlan, state_dir: Path, start: Start, json_receiver: JsonReceiver
) -> None:
    lunch = ahead(LEAD + 1)
    dinner = lunch + dt.timedelta(hours=1)  # at 23:xx UTC, the next day's date: next_line says which
    config = write_plan([json_receiver.url()], {"lunch": lunch, "dinner": dinner})
    daemon = start(config).ready()
    daemon.wait_for_log(next_line("lunch", lunch))
    # A reload of the same plan rebuilds the schedule: the next reminder is the same, and not logged again.
    daemon.send(signal.SIGHUP)
    daemon.wait_for_log("reloaded: ")
    wait_until(outcome_is(state_dir, reminder_id("lunch", lunch), "delivered"), LEAD + 11, "lunch delivered")
    daemon.wait_for_log(next_line("dinner", dinner))
    assert daemon.stop() == 0

    log = daemon.stderr
    assert len(lines_ending(log, next_line("lunch", lunch))) == 1, log
    assert len(lines_ending(log, next_line("dinner", dinner))) == 1, log
    # In order: started, the next reminder, the reload, the delivery, then the one after it.
    lines = log.splitlines()
    order = [
        next(i for i, line in enumerate(lines) if text in line)
        for text in ("started: ", next_line("lunch", lunch), "reloaded: ", next_line("dinner", dinner))
    ]
    assert order == sorted(order), log
    assert len([line for line in lines if " next: " in line or line.startswith("next: ")]) == 2, log
