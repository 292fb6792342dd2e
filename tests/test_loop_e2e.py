"""Repeats and caregiver escalation end to end (SPEC §6): the installed console script runs the daemon
in a subprocess with real apprise deliveries to local json:// receivers, one for the main channel and
one for the caregiver channel (notify.caregiver_urls); `mgremind taken` runs beside it on the same
SQLite state.

Meal times are a few seconds ahead (HH:MM:SS, timezone UTC) and repeats come every 1 or 2 s. A test
waits until its reminders all fall on one UTC day (a reminder's repeats and its "missed" moment end
with its day). Waits poll with a deadline that only bounds a hang; that a message does not come is
shown by a later one that does, and by the daemon's "stopped" line (deliveries in flight drained).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from conftest import Start, WritePlan
from daemon_harness import ONE_CAPSULE, acks, meta, mgremind_process
from plans import strings
from receivers import JsonReceiver, Received
from timing import LEAD, ahead, flat, reminder_id, wait_until

pytestmark = pytest.mark.e2e

UTC = dt.timezone.utc
SECRET = "s3cr3t"
S = dt.timedelta(seconds=1)


# ---------------------------------------------------------------------------- helpers


def first_meal(span: float) -> dt.datetime:
    """The time of a test's first meal, LEAD seconds ahead; first waits, if need be, until that and
    the `span` seconds after it all fall on one UTC day."""
    now = dt.datetime.now(UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), UTC)
    if (midnight - now).total_seconds() < LEAD + 1 + span:
        time.sleep((midnight - now).total_seconds() + 1.0)
    return ahead(LEAD)


def repeats(every: int, most: int) -> dict[str, str]:
    """[reminders] keys: a repeat every `every` seconds, `most` of them at most."""
    return {"repeat": f'"{every}s"', "repeat_max": str(most)}


def titles(messages: list[Received]) -> list[str]:
    return [message.title for message in messages]


def arrived(receiver: JsonReceiver, title: str) -> bool:
    return title in titles(receiver.messages())


# ---------------------------------------------------------------------------- repeats


def test_taken_while_the_daemon_runs_stops_the_repeats(
    state_dir: Path, start: Start, json_receiver: JsonReceiver, write_plan: WritePlan
) -> None:
    lunch = first_meal(12)
    tea = lunch + 7 * S
    rid = reminder_id("lunch", lunch)
    config = write_plan([json_receiver.url()], {"lunch": lunch, "tea": tea}, reminders=repeats(2, 3))
    daemon = start(config).ready()
    # Unacknowledged, lunch repeats at +2 s, +4 s and +6 s (3 at most, all before tea at +7 s, its
    # deadline); the first repeat comes, then `taken` (the latest due reminder: lunch) is recorded
    # while the daemon runs.
    first_repeat = "Magnesium: lunch (again, 1 of 3)"
    wait_until(
        lambda: arrived(json_receiver, first_repeat), lunch.timestamp() + 2 - time.time() + 10, "the first repeat"
    )
    taken = mgremind_process(config, state_dir, "taken")
    recorded = time.time()
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"taken: {rid} at "), taken.stdout
    assert acks(state_dir) == {rid: "taken"}
    # Precondition of what follows: the second repeat was not yet due when `taken` had been recorded.
    assert recorded < lunch.timestamp() + 4, "`mgremind taken` took too long to test this"
    # Tea comes after the time of the last repeat.
    wait_until(lambda: arrived(json_receiver, "Magnesium: tea"), tea.timestamp() - time.time() + 10, "tea")
    assert daemon.stop() == 0

    messages = json_receiver.messages()
    assert titles(messages) == ["Magnesium: lunch", first_repeat, "Magnesium: tea"]
    assert flat(messages[0].body) == flat(ONE_CAPSULE)
    repeat = messages[1]
    assert flat(ONE_CAPSULE) in flat(repeat.body)  # the repeat says again what to take...
    assert "mgremind taken" in repeat.body  # ...and how to stop it
    assert repeat.at >= lunch.timestamp() + 2  # not before its time


def test_repeat_max_bounds_the_repeats(
    state_dir: Path, start: Start, json_receiver: JsonReceiver, write_plan: WritePlan
) -> None:
    lunch = first_meal(10)
    tea = lunch + 4 * S
    # Nothing acknowledged. Lunch repeats every 1 s at most twice: +1 s and +2 s; a third would be due at
    # +3 s, still before tea (+4 s, lunch's deadline), so only repeat_max stops it.
    config = write_plan([json_receiver.url()], {"lunch": lunch, "tea": tea}, reminders=repeats(1, 2))
    daemon = start(config).ready()
    wait_until(lambda: arrived(json_receiver, "Magnesium: tea"), tea.timestamp() - time.time() + 10, "tea")
    assert daemon.stop() == 0

    messages = json_receiver.messages()
    lunch_messages = [message for message in messages if message.title.startswith("Magnesium: lunch")]
    assert titles(lunch_messages) == [
        "Magnesium: lunch",
        "Magnesium: lunch (again, 1 of 2)",
        "Magnesium: lunch (again, 2 of 2)",
    ]
    for number, message in enumerate(lunch_messages):
        assert message.at >= lunch.timestamp() + number  # each at (not before) its time
    # Every lunch message came before tea: no repeat of lunch after its deadline either.
    (tea_message,) = [message for message in messages if message.title == "Magnesium: tea"]
    assert all(message.at <= tea_message.at for message in lunch_messages)
    assert acks(state_dir) == {}


# ---------------------------------------------------------------------------- escalation


def caregiver_url(receiver: JsonReceiver) -> str:
    """The caregiver receiver's json:// URL with a password and a token in its path."""
    return f"json://carer:{SECRET}-pass@127.0.0.1:{receiver.port}/{SECRET}-token/notify"


def escalating(write_plan: WritePlan, url: str, meals: dict[str, dt.datetime], caregiver: str) -> Path:
    """The plan, each reminder repeated once 1 s after it; two missed in a row tell the caregiver."""
    return write_plan(
        [url],
        meals,
        reminders={**repeats(1, 1), "escalate_after": "2"},
        notify={"caregiver_urls": strings([caregiver])},
    )


def test_missed_doses_escalate_once_to_the_caregiver_and_taken_says_back_on_track(
    state_dir: Path, start: Start, json_receiver: JsonReceiver, caregiver: JsonReceiver, write_plan: WritePlan
) -> None:
    first = first_meal(15)
    meals = {name: first + 2 * index * S for index, name in enumerate(("one", "two", "three", "four"))}
    ids = {name: reminder_id(name, at) for name, at in meals.items()}
    config = escalating(write_plan, json_receiver.url(), meals, caregiver_url(caregiver))
    daemon = start(config).ready()
    # "one" is missed when "two" is due (+2 s), "two" when "three" is due (+4 s): two missed in a row,
    # so the caregiver hears of it once, when "three" is due. "three", missed at +6 s, changes nothing.
    wait_until(
        lambda: len(caregiver.messages()) >= 1,
        meals["three"].timestamp() - time.time() + 10,
        "the message to the caregiver",
    )
    (told,) = caregiver.messages()
    assert told.at >= meals["three"].timestamp()  # not before "two" was missed
    assert "2 doses missed" in told.title
    assert "one" in told.body and "two" in told.body
    wait_until(lambda: "escalated_at" in meta(state_dir), 10, "the escalation recorded in the state")
    # Every reminder and its one repeat (+1 s, before the next reminder) reach the main channel. The
    # repeat of "four" comes after the third miss was looked at (when "four" was due).
    wait_until(
        lambda: arrived(json_receiver, "Magnesium: four (again, 1 of 1)"),
        meals["four"].timestamp() + 1 - time.time() + 10,
        "the repeat of the fourth reminder",
    )
    assert len(caregiver.messages()) == 1  # nothing more on the third miss

    # Taken again: the caregiver hears it once, from the command (the daemon runs on).
    taken = mgremind_process(config, state_dir, "taken", ids["four"])
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"taken: {ids['four']} at ")
    messages = caregiver.messages()
    assert len(messages) == 2
    assert "back on track" in messages[1].title.lower() + messages[1].body.lower()
    assert "escalated_at" not in meta(state_dir)
    # Taken again: nothing more for the caregiver.
    again = mgremind_process(config, state_dir, "taken", ids["four"])
    assert again.returncode == 0
    assert len(caregiver.messages()) == 2
    assert daemon.stop() == 0
    assert caregiver.messages() == messages  # nor from the daemon, up to its last delivery

    # The main channel got the reminders and their repeats, never a word meant for the caregiver.
    assert titles(json_receiver.messages()) == [
        title for name in meals for title in (f"Magnesium: {name}", f"Magnesium: {name} (again, 1 of 1)")
    ]
    # No secret of the caregiver's URL in a reminder, a repeat, the daemon's log or a command's output.
    texts = [f"{m.title}\n{m.body}" for m in json_receiver.messages()]
    texts += [daemon.stderr, taken.stdout, taken.stderr, again.stdout, again.stderr]
    leaks = [line for text in texts for line in text.splitlines() if SECRET in line]
    assert leaks == [], "\n".join(leaks)


def test_reminders_due_together_and_a_slow_caregiver(
    state_dir: Path, start: Start, json_receiver: JsonReceiver, caregiver: JsonReceiver, write_plan: WritePlan
) -> None:
    first = first_meal(10)
    # "one" (+0 s) and "two" (+2 s) are missed; "tea" and "snack" fall due together (+4 s), each
    # delivered by its own worker. Neither of the two is missed at its own time: the next reminder of
    # the day is none (end of day). So each of the four repeats once, 1 s after it (before the next
    # reminder), and the caregiver hears once of two doses missed.
    meals = {"one": first, "two": first + 2 * S, "tea": first + 4 * S, "snack": first + 4 * S}
    # The caregiver's channel is slow (it answers 1 s after taking the message): telling the caregiver
    # must not hold up the reminders due at that moment (SPEC §4: a reminder reaches a local receiver
    # within 10 ms of its time; 0.7 s here, to leave no doubt).
    caregiver.delay = 1.0
    config = escalating(write_plan, json_receiver.url(), meals, caregiver.url())
    daemon = start(config).ready()
    expected_main = [f"Magnesium: {name}" for name in meals]
    expected_main += [f"Magnesium: {name} (again, 1 of 1)" for name in meals]
    # The repeats of tea and snack come last, after the caregiver was told (when they fell due).
    wait_until(
        lambda: len(json_receiver.messages()) >= len(expected_main) and len(caregiver.messages()) >= 1,
        meals["tea"].timestamp() + 1 - time.time() + 10,
        "the reminders, their repeats and the message to the caregiver",
    )
    assert daemon.stop() == 0
    late = sorted(
        f"{name} +{message.at - at.timestamp():.2f} s"
        for name, at in meals.items()
        for message in json_receiver.messages()
        if message.title == f"Magnesium: {name}" and message.at - at.timestamp() > 0.7
    )
    # All at once, to see every difference.
    found = {"main": sorted(titles(json_receiver.messages())), "caregiver": titles(caregiver.messages()), "late": late}
    expected = {"main": sorted(expected_main), "caregiver": ["Magnesium: 2 doses missed"], "late": []}
    assert found == expected, f"found {found}"
