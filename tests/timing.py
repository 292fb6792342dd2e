"""Helpers of the end-to-end tests that run the real daemon against real time."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable

UTC = dt.timezone.utc
# Seconds from writing a plan to its first meal: the daemon starts (its "started" line, which a test
# waits for) in about 0.6 s, a few times that on a busy machine.
LEAD = 2.0


def ahead(seconds: float) -> dt.datetime:
    """The first whole second (UTC) at least `seconds` from now: meal times have whole seconds."""
    return dt.datetime.fromtimestamp(math.ceil(time.time() + seconds), UTC)


def reminder_id(meal: str, at: dt.datetime) -> str:
    return f"{at.date().isoformat()}/{meal}"  # SPEC §3: DATE/MEAL, the date in the plan's zone (UTC here)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Polls `condition` (every 20 ms) until it holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def flat(text: str) -> str:
    """Text with every run of whitespace one space: compares what a message says, not its layout."""
    return " ".join(text.split())
