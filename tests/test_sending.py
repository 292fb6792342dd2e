"""Each channel on its own (mgremind/daemon/sending.py, SPEC §4 v2 "channels are isolated"): a send
that hangs never holds up another, is answered "no answer" at its time limit, and a channel
with too many sends stuck is not sent to until they return. Real threads, waits on events."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from timing import wait_until

from mgremind.daemon.sending import HANGING_MAX, Sends
from mgremind.notify import Channel


class Answers:
    """What a send's callback receives, and an event per answer."""

    def __init__(self) -> None:
        self.got: list[tuple[str | None, bool]] = []
        self.arrived = threading.Semaphore(0)

    def __call__(self, error: str | None, unknown: bool) -> None:
        self.got.append((error, unknown))
        self.arrived.release()

    def wait(self, timeout: float = 10.0) -> tuple[str | None, bool]:
        assert self.arrived.acquire(timeout=timeout), "no answer came"
        return self.got[-1]


class Blocked:
    """A channel whose sends wait until released, as a receiver that never answers."""

    def __init__(self, key: str = "stuck") -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.calls = 0
        self.channel = Channel(key, key, self.send)

    def send(self, title: str, body: str) -> bool:
        self.calls += 1
        self.started.release()
        self.release.wait(30)
        return True


@pytest.fixture
def blocked() -> Iterator[Blocked]:
    channel = Blocked()
    yield channel
    channel.release.set()  # lets its threads end


def healthy(received: list[str]) -> Channel:
    def send(title: str, body: str) -> bool:
        received.append(title)
        return True

    return Channel("healthy", "healthy", send)


def test_a_hanging_channel_does_not_hold_up_another(blocked: Blocked) -> None:
    sends = Sends(limit=30)
    stuck, answered = Answers(), Answers()
    received: list[str] = []
    sends.start(blocked.channel, "Magnesium: lunch", "body", stuck)
    assert blocked.started.acquire(timeout=10)  # the stuck send is under way…
    sends.start(healthy(received), "Magnesium: lunch", "body", answered)
    assert answered.wait() == (None, False)  # …and the healthy one is answered meanwhile
    assert received == ["Magnesium: lunch"]
    assert stuck.got == []
    assert sends.wait_idle(0) == 1  # what SIGTERM's grace sees: the stuck one


def test_a_send_past_its_limit_is_answered_once_as_no_answer(blocked: Blocked) -> None:
    sends = Sends(limit=0.2)
    answers = Answers()
    sends.start(blocked.channel, "t", "b", answers)
    assert answers.wait() == ("no answer within 0.2 s", True)  # it may have arrived: a retry says it may repeat
    assert sends.wait_idle(0) == 0
    blocked.release.set()  # the channel answers after all: too late, and not a second answer
    other = Answers()
    sends.start(Channel("other", "other", lambda title, body: True), "t", "b", other)
    assert other.wait() == (None, False)
    assert answers.got == [("no answer within 0.2 s", True)]


def test_no_more_sends_start_to_a_channel_with_too_many_stuck(blocked: Blocked) -> None:
    sends = Sends(limit=0.05)
    for _ in range(HANGING_MAX):
        answers = Answers()
        sends.start(blocked.channel, "t", "b", answers)
        assert answers.wait()[1] is True
    refused = Answers()
    sends.start(blocked.channel, "t", "b", refused)
    error, unknown = refused.wait()
    assert error == f"not tried: {HANGING_MAX} earlier sends to it have given no answer yet"
    assert unknown is False  # nothing was sent: a clean failure
    assert blocked.calls == HANGING_MAX
    # Another channel is not affected by this one's stuck sends.
    received: list[str] = []
    answers = Answers()
    sends.start(healthy(received), "Magnesium: dinner", "b", answers)
    assert answers.wait() == (None, False)


def test_a_stuck_channel_is_sent_to_again_once_its_sends_return(blocked: Blocked) -> None:
    sends = Sends(limit=0.05)
    for _ in range(HANGING_MAX):
        answers = Answers()
        sends.start(blocked.channel, "t", "b", answers)
        answers.wait()
    assert sends.stuck("stuck") == HANGING_MAX
    blocked.release.set()  # the receiver answers at last: the stuck sends return
    wait_until(lambda: sends.stuck("stuck") == 0, 10, "the stuck sends to return")
    answers = Answers()
    sends.start(blocked.channel, "t", "b", answers)
    assert answers.wait() == (None, False)


def test_start_all_answers_once_with_every_channel_in_order(blocked: Blocked) -> None:
    sends = Sends(limit=0.2)
    done = threading.Event()
    found: list[list[str | None]] = []

    def answers(errors: list[str | None]) -> None:
        found.append(errors)
        done.set()

    failing = Channel("failing", "failing", lambda title, body: False)
    sends.start_all([failing, blocked.channel, healthy([])], "t", "b", answers)
    assert done.wait(10)
    assert found == [["not accepted", "no answer within 0.2 s", None]]


def test_a_plugin_that_raises_is_an_answer_not_a_crash() -> None:
    def broken(title: str, body: str) -> bool:
        raise RuntimeError("json://user:Hunter2Secret@host")

    sends = Sends(limit=5)
    answers = Answers()
    sends.start(Channel("broken", "broken", broken), "t", "b", answers)
    assert answers.wait() == ("RuntimeError", False)  # the type only: a message may quote a URL
