"""`mgremind run` end to end (SPEC §4): the installed console script as a subprocess, real apprise
deliveries to local receivers (json:// over HTTP, mailto:// over SMTP), state in a tmp STATE_DIRECTORY.

Meal times are a few seconds ahead (HH:MM:SS, timezone UTC). Each reminder id is DATE/MEAL with the
date of its instant, so a test that runs across midnight expects the right ids. Waits poll with a
deadline; deadlines are generous (they only bound a hang), except the few checks that a reminder
arrives at (not before) its time and soon after it.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import Channels, Start, WritePlan
from daemon_harness import (
    ONE_CAPSULE,
    STATE_FILE,
    NotifySocket,
    delivery_rows,
    mgremind_process,
    outcome_is,
    plan_toml,
    reminder_rows,
)
from receivers import JsonReceiver, Received
from timing import LEAD, ahead, flat, reminder_id, wait_until

pytestmark = pytest.mark.e2e

UTC = dt.timezone.utc
# A reminder must reach the local receivers this soon after its time. Generous (SPEC's budget is 10 ms):
# this checks that it is sent at its time, not at some later wake-up, and is no benchmark.
NEAR = 2.0
# More than apprise waits between two messages through one mailto:// service (5.5 s, its throttle):
# two reminders this far apart are each mailed at their time.
MAIL_GAP = dt.timedelta(seconds=6)

SECRET = "s3cr3t"


# ---------------------------------------------------------------------------- helpers


def with_title(messages: list[Received], text: str) -> list[Received]:
    return [message for message in messages if message.title == text]


def assert_near(message: Received, due: dt.datetime) -> None:
    """Not before its time, and soon after it."""
    late = message.at - due.timestamp()
    assert 0 <= late <= NEAR, f"{message.title!r} arrived {late:+.3f} s from its time"


# ---------------------------------------------------------------------------- 1. delivery


def test_each_reminder_reaches_json_and_mail_once_at_its_time(
    write_plan: WritePlan, state_dir: Path, start: Start, channels: Channels
) -> None:
    # Two reminders MAIL_GAP apart: both mails are sent at their time.
    brunch = ahead(LEAD)
    tea = brunch + MAIL_GAP
    config = write_plan(channels.urls(), {"brunch": brunch, "tea": tea}, daily_mg=300)
    daemon = start(config).ready()
    wait_until(
        lambda: len(channels.json.messages()) >= 2 and len(channels.mail.messages()) >= 2,
        tea.timestamp() - time.time() + 10,
        "both reminders on both channels",
    )
    wait_until(outcome_is(state_dir, reminder_id("tea", tea), "delivered"), 10, "tea recorded as delivered")
    assert daemon.stop() == 0  # with what it had in flight (a second send of either) drained

    # daily_mg 300 in steps of 100 mg (1 capsule): 3 steps, each to the slot with the least so far,
    # ties to the earlier slot: earlier 100, later 100, earlier 200. So the meal earlier in the day
    # (by time of day: near midnight "tea" may come first) takes 2 capsules, the other 1.
    # Calcium for 200 mg at 1:1 in 125 mg steps: 125 (off by 75) or 250 (off by 50) -> 250 mg = 1 tablet.
    two_capsules = "Magnesium citrate: 2 capsules (200 mg)\nCalcium carbonate: 1 tablet (250 mg)"
    first_of_day = min(("brunch", brunch), ("tea", tea), key=lambda meal: meal[1].time())[0]
    expected = {
        "brunch": two_capsules if first_of_day == "brunch" else ONE_CAPSULE,
        "tea": two_capsules if first_of_day == "tea" else ONE_CAPSULE,
    }
    rows = reminder_rows(state_dir)
    assert rows[reminder_id("brunch", brunch)] == ("delivered", 0)
    assert rows[reminder_id("tea", tea)] == ("delivered", 0)
    # Two channels, two reminders: four deliveries, each sent at the first attempt.
    assert sorted(delivery_rows(state_dir)) == sorted(
        [(reminder_id(meal, due), "sent", 1) for meal, due in (("brunch", brunch), ("tea", tea)) for _ in range(2)]
    )
    for receiver in (channels.json, channels.mail):
        messages = receiver.messages()
        assert len(messages) == 2, messages
        for meal, due in (("brunch", brunch), ("tea", tea)):
            received = with_title(messages, f"Magnesium: {meal}")
            assert len(received) == 1, (meal, messages)
            assert_near(received[0], due)
            assert flat(received[0].body) == flat(expected[meal])
    # What to take reads one item a line, in the mail as in the json message.
    for receiver in (channels.json, channels.mail):
        for message in receiver.messages():
            assert message.body.strip() == expected[message.title.removeprefix("Magnesium: ")], type(receiver)


# ---------------------------------------------------------------------------- 2. crash


def test_kill_9_after_a_delivery_then_restart_sends_no_duplicate(
    write_plan: WritePlan, state_dir: Path, start: Start, channels: Channels
) -> None:
    first = ahead(LEAD)
    second = first + dt.timedelta(seconds=4)
    config = write_plan(channels.urls(), {"first": first, "second": second})
    daemon = start(config).ready()
    wait_until(
        outcome_is(state_dir, reminder_id("first", first), "delivered"),
        first.timestamp() - time.time() + 10,
        "the first reminder recorded as delivered",
    )
    daemon.process.kill()  # SIGKILL: no clean-up of any kind
    daemon.process.wait(timeout=10)
    assert time.time() < second.timestamp() - 1, "too slow to restart before the second reminder"

    restarted = start(config).ready()
    wait_until(
        outcome_is(state_dir, reminder_id("second", second), "delivered"),
        second.timestamp() - time.time() + 10,
        "the second reminder recorded as delivered",
    )
    assert restarted.stop() == 0  # a resent first reminder would have come before the second

    for receiver in (channels.json, channels.mail):
        messages = receiver.messages()
        assert [message.title for message in messages] == ["Magnesium: first", "Magnesium: second"]
        for message, due in zip(messages, (first, second), strict=True):
            assert flat(message.body) == flat(ONE_CAPSULE)  # no "may repeat" or "late" text either
            assert_near(message, due)


# ---------------------------------------------------------------------------- 3. catch-up


def test_reminder_missed_while_down_is_sent_late_once_and_an_older_one_is_recorded_missed(
    write_plan: WritePlan, state_dir: Path, start: Start, channels: Channels
) -> None:
    now = dt.datetime.now(UTC).replace(microsecond=0)
    recent = now - dt.timedelta(seconds=20)  # younger than catch_up = 1h: sent once, late
    old = now - dt.timedelta(hours=2)  # older than catch_up: missed, not sent
    later = now + dt.timedelta(hours=3)  # keeps the plan going; not due during the test
    config = write_plan(
        channels.urls(),
        {"recent": recent, "old": old, "later": later},
        reminders={"catch_up": '"1h"'},
    )
    # A first, short run creates the state. Reminders before the state began are none of its
    # business: it sends neither of the two that fell due before it.
    first = start(config).ready()
    assert first.stop() == 0
    assert channels.json.messages() == []
    assert channels.mail.messages() == []
    # The daemon had been running for hours when it went down: the state began 3 h ago.
    with sqlite3.connect(state_dir / STATE_FILE) as db:
        changed = db.execute(
            "UPDATE meta SET value = ? WHERE key = 'created_at'", ((now - dt.timedelta(hours=3)).isoformat(),)
        ).rowcount
    db.close()
    assert changed == 1

    daemon = start(config).ready()
    recent_id, old_id = reminder_id("recent", recent), reminder_id("old", old)
    wait_until(outcome_is(state_dir, recent_id, "delivered"), 10, "the recent reminder delivered on start")
    assert daemon.stop() == 0

    for receiver in (channels.json, channels.mail):
        messages = receiver.messages()
        assert len(messages) == 1, messages  # the recent one only, once; nothing for "old"
        (message,) = messages
        assert message.title.startswith("Magnesium: recent")
        assert re.search(r"\blate\b", f"{message.title}\n{message.body}", re.IGNORECASE), message
        assert flat(ONE_CAPSULE) in flat(message.body)
    rows = reminder_rows(state_dir)
    assert rows[recent_id] == ("delivered", 1)  # late = 1: sent after its time, on catch-up
    assert rows[old_id][0] == "missed"
    assert f"missed {old_id}" in daemon.stderr


# ---------------------------------------------------------------------------- 4. a channel down


def test_failing_channel_gets_the_reminder_once_by_retry_and_the_other_exactly_once(
    write_plan: WritePlan, state_dir: Path, start: Start, channels: Channels
) -> None:
    lunch = ahead(LEAD)
    config = write_plan(channels.urls(), {"lunch": lunch}, reminders={"retry_for": '"2m"'})
    channels.json.failing = True
    daemon = start(config).ready()
    wait_until(lambda: channels.json.refused >= 2, lunch.timestamp() - time.time() + 15, "two refused attempts")
    channels.json.failing = False  # the channel is back
    wait_until(lambda: len(channels.json.messages()) >= 1, 30, "the retry to reach the json receiver")
    rid = reminder_id("lunch", lunch)
    wait_until(outcome_is(state_dir, rid, "delivered"), 10, "lunch recorded as delivered")
    assert daemon.stop() == 0

    (mail,) = channels.mail.messages()  # exactly once: the retries never went to the channel that took it
    assert mail.title == "Magnesium: lunch"
    assert flat(mail.body) == flat(ONE_CAPSULE)
    assert_near(mail, lunch)
    (posted,) = channels.json.messages()
    assert posted.title.startswith("Magnesium: lunch")
    assert flat(ONE_CAPSULE) in flat(posted.body)
    assert "may repeat" not in posted.body  # the refused attempts did not arrive: nothing to repeat
    # The json channel: refused at least twice, then accepted on a later attempt; the mail channel: once.
    assert sorted(status for _, status, _ in delivery_rows(state_dir)) == ["sent", "sent"]
    attempts = sorted(count for _, _, count in delivery_rows(state_dir))
    assert attempts[0] == 1
    assert attempts[1] == channels.json.refused + 1
    assert f"failed for {rid} (attempt 1)" in daemon.stderr


# ---------------------------------------------------------------------------- 5. SIGHUP


def test_sighup_with_a_broken_config_keeps_the_old_plan_and_a_valid_one_adds_a_meal(
    write_plan: WritePlan, state_dir: Path, start: Start, channels: Channels
) -> None:
    urls = channels.urls()
    lunch, dinner = ahead(LEAD + 1), ahead(4 * 3600)
    config = write_plan(urls, {"lunch": lunch, "dinner": dinner})
    daemon = start(config).ready()

    # A broken edit: an impossible time for meal[1] and a misspelt key. Both errors are logged.
    broken = plan_toml(urls, {"lunch": lunch, "dinner": dinner}, reminders={"retry_fro": '"1h"'})
    broken = broken.replace(f'time = "{dinner:%H:%M:%S}"', 'time = "7:75"')
    config.write_text(broken, encoding="utf-8")
    daemon.send(signal.SIGHUP)
    daemon.wait_for_log("keeping the previous plan")
    assert f'{config}: meal[1].time: "7:75" is not a time of day (HH:MM)' in daemon.stderr
    assert f"{config}: reminders.retry_fro: " in daemon.stderr
    assert time.time() < lunch.timestamp(), "too slow to reload before lunch"
    # The old plan still delivers its next reminder.
    wait_until(
        lambda: len(channels.json.messages()) >= 1 and len(channels.mail.messages()) >= 1,
        lunch.timestamp() - time.time() + 10,
        "lunch, from the old plan",
    )

    # A valid edit: a new meal a few seconds ahead.
    snack = ahead(LEAD)
    config.write_text(plan_toml(urls, {"lunch": lunch, "snack": snack, "dinner": dinner}), encoding="utf-8")
    daemon.send(signal.SIGHUP)
    daemon.wait_for_log("reloaded: ")
    rid = reminder_id("snack", snack)
    wait_until(outcome_is(state_dir, rid, "delivered"), snack.timestamp() - time.time() + 10, "the new snack")
    assert daemon.stop() == 0

    for receiver in (channels.json, channels.mail):
        messages = receiver.messages()
        assert [message.title for message in messages] == ["Magnesium: lunch", "Magnesium: snack"]
        assert_near(messages[0], lunch)
        assert_near(messages[1], snack)
        assert flat(messages[1].body) == flat(ONE_CAPSULE)  # 300 mg for three meals: 100 mg each


# ---------------------------------------------------------------------------- 6. SIGTERM, SIGINT


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_exits_0_promptly(
    write_plan: WritePlan, start: Start, json_receiver: JsonReceiver, signum: int
) -> None:
    soonest = ahead(30)  # the next reminder: the daemon must not wait for it to stop
    config = write_plan([json_receiver.url()], {"soonest": soonest})
    daemon = start(config).ready()
    asked = time.monotonic()
    daemon.send(signum)
    status = daemon.process.wait(timeout=10)
    took = time.monotonic() - asked
    assert status == 0
    assert took < 2.0, f"took {took:.2f} s to stop (SPEC: within a second)"
    daemon.wait()
    assert f"stopping on {signal.Signals(signum).name}" in daemon.stderr
    assert json_receiver.messages() == []


# ---------------------------------------------------------------------------- 7. systemd notify


def test_systemd_notify_protocol(
    tmp_path: Path, write_plan: WritePlan, start: Start, json_receiver: JsonReceiver
) -> None:
    lunch, dinner = ahead(3600), ahead(7200)
    config = write_plan([json_receiver.url()], {"lunch": lunch, "dinner": dinner})
    notify = NotifySocket(tmp_path / "notify.sock")
    try:
        daemon = start(config, {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"})
        ready = notify.wait_for("READY")
        assert notify.messages[ready]["READY"] == "1"
        status = notify.messages[ready]["STATUS"]  # the next reminder: lunch, in an hour
        assert "lunch" in status
        assert f"{lunch:%H:%M}" in status
        assert lunch.date().isoformat() in status

        # WATCHDOG=1 at half of WATCHDOG_USEC (0.2 s): several while the daemon idles.
        def pings() -> int:
            notify.collect()
            return sum(message.get("WATCHDOG") == "1" for message in notify.messages)

        wait_until(lambda: pings() >= 4, 5, "WATCHDOG=1 pings")

        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        mark = len(notify.messages)
        daemon.send(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING", after=mark)
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert notify.messages[reloading]["RELOADING"] == "1"
        # MONOTONIC_USEC is CLOCK_MONOTONIC in µs, taken when the reload began.
        assert before <= int(notify.messages[reloading]["MONOTONIC_USEC"]) <= after
        ready_again = notify.wait_for("READY", after=reloading + 1)
        assert notify.messages[ready_again]["READY"] == "1"
        assert "lunch" in notify.messages[ready_again]["STATUS"]

        mark = len(notify.messages)
        daemon.send(signal.SIGTERM)
        stopping = notify.wait_for("STOPPING", after=mark)
        assert notify.messages[stopping]["STOPPING"] == "1"
        assert daemon.wait() == 0
        notify.collect()
        assert not any("READY" in message for message in notify.messages[stopping:])
    finally:
        notify.close()


# ---------------------------------------------------------------------------- 8. secrets


def secret_url(receiver: JsonReceiver) -> str:
    """The receiver's json:// URL with a password and a token in its path (the receiver takes any path)."""
    return f"json://user:{SECRET}-pass@127.0.0.1:{receiver.port}/{SECRET}-token/notify"


def test_no_secret_in_the_log_of_a_run_with_a_failing_channel_and_reloads(
    write_plan: WritePlan, state_dir: Path, start: Start, channels: Channels
) -> None:
    urls = [secret_url(channels.json), channels.mail.url()]
    lunch, dinner = ahead(LEAD), ahead(4 * 3600)
    config = write_plan(urls, {"lunch": lunch, "dinner": dinner}, reminders={"retry_for": '"2m"'})
    channels.json.failing = True
    daemon = start(config).ready()
    wait_until(lambda: channels.json.refused >= 1, lunch.timestamp() - time.time() + 10, "a refused attempt")
    channels.json.failing = False
    # A valid reload, then one whose new URL apprise does not understand (it holds another secret).
    daemon.send(signal.SIGHUP)
    daemon.wait_for_log("reloaded: ")
    bad_urls = [f"jsno://user:{SECRET}-other@127.0.0.1/{SECRET}-path", channels.mail.url()]
    config.write_text(plan_toml(bad_urls, {"lunch": lunch, "dinner": dinner}), encoding="utf-8")
    daemon.send(signal.SIGHUP)
    daemon.wait_for_log("reload failed")
    wait_until(outcome_is(state_dir, reminder_id("lunch", lunch), "delivered"), 30, "lunch delivered")
    assert daemon.stop() == 0

    assert len(channels.json.messages()) == 1
    assert len(channels.mail.messages()) == 1
    log = daemon.stderr
    assert "failed for" in log  # the failure was logged...
    leaks = [line for line in log.splitlines() if SECRET in line]
    assert leaks == [], "\n".join(leaks)  # ...and no line holds a secret


def test_notify_test_reports_each_channel_redacted(write_plan: WritePlan, state_dir: Path, channels: Channels) -> None:
    config = write_plan([secret_url(channels.json), channels.mail.url()], {"lunch": ahead(3600)})

    reached = mgremind_process(config, state_dir, "notify-test")
    assert reached.returncode == 0, reached.stdout + reached.stderr
    lines = reached.stdout.splitlines()
    channel_lines = [line for line in lines if "json://" in line or "mailto://" in line]
    assert len(channel_lines) == 2, lines  # one line per channel
    assert all(line.startswith("ok") for line in channel_lines), lines
    assert len(channels.json.messages()) == 1
    assert len(channels.mail.messages()) == 1

    channels.json.failing = True
    failed = mgremind_process(config, state_dir, "notify-test")
    assert failed.returncode == 1
    lines = failed.stdout.splitlines()
    (json_line,) = [line for line in lines if "json://" in line]
    (mail_line,) = [line for line in lines if "mailto://" in line]
    assert json_line.startswith("FAILED")
    assert mail_line.startswith("ok")
    assert channels.json.refused == 1
    assert len(channels.mail.messages()) == 2

    for result in (reached, failed):
        leaks = [line for line in (result.stdout + result.stderr).splitlines() if SECRET in line]
        assert leaks == [], "\n".join(leaks)


# ---------------------------------------------------------------------------- 9. corrupt state


def test_corrupt_state_file_stops_run_with_status_1_naming_the_file(
    write_plan: WritePlan, state_dir: Path, json_receiver: JsonReceiver
) -> None:
    due = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=10)
    config = write_plan([json_receiver.url()], {"lunch": due, "dinner": ahead(2)})
    state_dir.mkdir()
    garbage = bytes(range(256)) * 64  # 16 KiB that are no SQLite database
    (state_dir / STATE_FILE).write_bytes(garbage)
    result = mgremind_process(config, state_dir, "run")
    assert result.returncode == 1, result.stderr
    assert str(state_dir / STATE_FILE) in result.stderr
    assert "Traceback" not in result.stderr
    assert json_receiver.messages() == []
    assert json_receiver.refused == 0
    assert (state_dir / STATE_FILE).read_bytes() == garbage  # the user's file is left for them to look at


# ---------------------------------------------------------------------------- a reload mid-delivery


def test_reload_while_a_retry_is_in_flight_sends_no_duplicate(
    write_plan: WritePlan, state_dir: Path, start: Start, channels: Channels
) -> None:
    # The json channel refuses the reminder, then is back but slow: it has the retried message and
    # answers 1.5 s later. A SIGHUP in that window reschedules the reminder (due, not yet recorded as
    # delivered): it must not reach either channel a second time.
    lunch = ahead(LEAD)
    config = write_plan(
        channels.urls(),
        {"lunch": lunch, "dinner": ahead(4 * 3600)},
        reminders={"retry_for": '"2m"'},
    )
    channels.json.failing = True
    daemon = start(config).ready()
    wait_until(lambda: channels.json.refused >= 1, lunch.timestamp() - time.time() + 10, "a refused attempt")
    channels.json.delay = 1.5
    channels.json.failing = False
    wait_until(lambda: len(channels.json.messages()) >= 1, 15, "the retry arriving")
    daemon.send(signal.SIGHUP)  # the same configuration, reloaded while the json channel has not answered
    daemon.wait_for_log("reloaded: ")
    rid = reminder_id("lunch", lunch)
    wait_until(outcome_is(state_dir, rid, "delivered"), 15, "lunch recorded as delivered")
    assert daemon.stop() == 0  # a second send in flight would have been drained first

    for receiver in (channels.json, channels.mail):
        messages = receiver.messages()
        assert [message.title for message in messages] == ["Magnesium: lunch"], messages
        assert "may repeat" not in messages[0].body
