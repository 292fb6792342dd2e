"""Each channel on its own: every send runs in a thread of its own, with a time limit (SPEC §4 v2).

apprise sends synchronously, and a receiver that trickles one byte every two seconds defeats
its socket timeouts: such a send may never return. So no one waits for a send. A send's
thread reports its answer through a callback, and a monitor thread reports "no answer within
30 s" in its place when the time limit passes first; whichever comes first is the answer, the
other is dropped. A healthy channel's message therefore leaves as soon as it is made,
whatever the others do, and the jobs' threads are never held by a channel.

A thread cannot be stopped from outside, so a send past its limit is left to finish (or not)
on its own. To bound what a dead channel costs, no new send to a channel starts while
HANGING_MAX earlier ones to it are still stuck: it fails at once, and its retries try again
later.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

from mgremind.notify import Channel, send_safely

log = logging.getLogger("mgremind")

SEND_LIMIT_SECONDS = 30.0  # SPEC §4 v2: a channel's send has this long
HANGING_MAX = 2  # sends to one channel past their limit and still running: no more start meanwhile

Answer = Callable[[str | None, bool], None]  # (None when accepted, else why not; whether it may have arrived)


class _Send:
    __slots__ = ("answer", "answered", "channel", "deadline")

    def __init__(self, channel: Channel, answer: Answer, deadline: float) -> None:
        self.channel = channel
        self.answer = answer
        self.deadline = deadline
        self.answered = False  # by the channel, or by the monitor at the deadline: the first wins


class Sends:
    """The sends in flight, each in its thread, and the monitor that answers for those past their limit."""

    def __init__(self, limit: float = SEND_LIMIT_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._limit_text = f"{limit:g} s"
        self._clock = clock
        self._changed = threading.Condition()  # guards everything below
        self._deadlines: list[tuple[float, int, _Send]] = []  # a heap
        self._order = itertools.count()  # ties of the heap
        self._in_flight = 0  # sends not yet answered
        self._stuck: Counter[str] = Counter()  # by channel key: sends past their limit, still running
        self._monitor: threading.Thread | None = None

    def start(self, channel: Channel, title: str, body: str, answer: Answer) -> None:
        """Sends in a thread of its own; `answer` is called once, from another thread (or at once,
        when the channel still has HANGING_MAX sends stuck), with the error (None: accepted) and
        whether the message may have arrived all the same (no answer in time)."""
        with self._changed:
            stuck = self._stuck[channel.key]
            if stuck < HANGING_MAX:
                send = _Send(channel, answer, self._clock() + self.limit)
                heapq.heappush(self._deadlines, (send.deadline, next(self._order), send))
                self._in_flight += 1
                self._start_monitor()
                self._changed.notify_all()
        if stuck >= HANGING_MAX:
            answer(f"not tried: {stuck} earlier sends to it have given no answer yet", False)
            return
        thread = threading.Thread(target=self._run, args=(send, title, body), name="send", daemon=True)
        thread.start()

    def start_all(
        self, channels: Sequence[Channel], title: str, body: str, answers: Callable[[list[str | None]], None]
    ) -> None:
        """One message to several channels; `answers` gets each one's answer, in order, once all have one."""
        found: list[str | None] = [None] * len(channels)
        left = [len(channels)]
        lock = threading.Lock()

        def one(index: int) -> Answer:
            def answered(error: str | None, _: bool) -> None:
                with lock:
                    found[index] = error
                    left[0] -= 1
                    last = left[0] == 0
                if last:
                    answers(found)

            return answered

        if not channels:
            answers([])
        for index, channel in enumerate(channels):
            self.start(channel, title, body, one(index))

    def stuck(self, channel_key: str) -> int:
        """How many sends to the channel are past their limit and still running."""
        with self._changed:
            return self._stuck[channel_key]

    def wait_idle(self, timeout: float) -> int:
        """Waits at most `timeout` seconds for the sends in flight to be answered; returns how many are not."""
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight == 0, timeout=timeout)
            return self._in_flight

    def _run(self, send: _Send, title: str, body: str) -> None:
        error = send_safely(send.channel, title, body)
        with self._changed:
            late = send.answered
            send.answered = True
            if late:
                self._stuck[send.channel.key] -= 1
        if late:
            outcome = "accepted it" if error is None else f"failed ({error})"
            log.info("channel %s %s after the time limit", send.channel.label, outcome)
            return
        self._answer(send, error, False)

    def _answered(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def _start_monitor(self) -> None:
        if self._monitor is None:
            self._monitor = threading.Thread(target=self._watch, name="send limits", daemon=True)
            self._monitor.start()

    def _watch(self) -> None:
        """The monitor: answers "no answer" for each send still running at its deadline."""
        while True:
            with self._changed:
                while self._deadlines and self._deadlines[0][2].answered:
                    heapq.heappop(self._deadlines)  # answered in time
                wait = self._deadlines[0][0] - self._clock() if self._deadlines else None
                if wait is None or wait > 0:
                    self._changed.wait(wait)
                    continue
                _, _, send = heapq.heappop(self._deadlines)
                send.answered = True
                self._stuck[send.channel.key] += 1
            log.warning("channel %s gave no answer within %s", send.channel.label, self._limit_text)
            self._answer(send, f"no answer within {self._limit_text}", True)

    def _answer(self, send: _Send, error: str | None, unknown: bool) -> None:
        try:
            send.answer(error, unknown)
        except Exception:  # the callback's bug: logged (scrubbed), and the send still counts as answered
            log.exception("handling the answer of %s failed", send.channel.label)
        finally:
            self._answered()
