"""A timer on the wall clock that survives suspend and clock changes (Linux timerfd).

Python's own sleeps (Event.wait, select timeouts, APScheduler's wait) count monotonic
time, which stops while the machine is suspended: a daemon that fell asleep at 22:00
waiting 9 h for 07:00 would, after a night in suspend, wake in the afternoon. A
CLOCK_REALTIME timerfd armed at an absolute time fires as soon as the machine is awake
past that time, and with TFD_TIMER_CANCEL_ON_SET it also wakes when the clock is set.
Where timerfd is missing (not Linux), `enabled` is False and the daemon relies on the
scheduler alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import os

CLOCK_REALTIME = 0
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC
TFD_TIMER_ABSTIME = 1
TFD_TIMER_CANCEL_ON_SET = 2


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.timerfd_create  # noqa: B018 - raises AttributeError where there is none
    except (OSError, AttributeError):
        return None
    return libc


class WallClockTimer:
    """One absolute wall-clock deadline; select() on it (it has fileno()) to wait."""

    def __init__(self) -> None:
        self._libc = _libc()
        self._fd = -1
        if self._libc is not None:
            self._fd = self._libc.timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC)
        self._armed_for: dt.datetime | None = None

    @property
    def enabled(self) -> bool:
        return self._fd >= 0

    def fileno(self) -> int:
        return self._fd

    def arm(self, when: dt.datetime | None) -> None:
        """Fire at `when` (aware), or never (None). Re-arming for the same instant is free."""
        if not self.enabled or self._libc is None or when == self._armed_for:
            return
        spec = _Itimerspec()
        if when is not None:
            nanoseconds = int(when.timestamp() * 1_000_000_000)
            spec.it_value.tv_sec, spec.it_value.tv_nsec = divmod(max(nanoseconds, 1), 1_000_000_000)
        flags = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
        if self._libc.timerfd_settime(self._fd, flags, ctypes.byref(spec), None) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        self._armed_for = when

    def drain(self) -> None:
        """Acknowledges an expiry or a clock change; the timer must then be armed again."""
        with contextlib.suppress(OSError):  # EAGAIN: nothing to read; ECANCELED: the clock was set
            os.read(self._fd, 8)
        self._armed_for = None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
