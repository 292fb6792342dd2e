"""The daemon's lock file: one daemon per state, and who holds it.

`mgremind run` holds an exclusive `flock` on DAEMON_LOCK in the state directory and writes its
PID there (lock_for_daemon). The commands learn who holds it from here, without APScheduler or
apprise: `status` tests the lock with a non-blocking shared
attempt on a read-only descriptor (it never creates the file, and lets go at once; a shared
attempt never gets in the way of another `status`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path
from typing import NamedTuple

from mgremind.model import StateError

# In the state directory, beside the database: held (flock) by the one daemon running on it.
DAEMON_LOCK = "daemon.lock"


# The lock file's size, allocated when the daemon takes it: its note is written inside it, in
# place, so it can be written when the disk is full (the moment it matters most).
LOCK_FILE_SIZE = 4096


class Holder(NamedTuple):
    running: bool  # a daemon holds the lock
    pid: int | None  # its PID, when the file names a live one
    path: Path  # the lock file
    note: str = ""  # what the daemon says is wrong (publish): e.g. it cannot write its state


def daemon_holder(directory: Path) -> Holder:
    """Whether a daemon runs on the state in `directory`, and its PID. StateError naming the
    file when it cannot be told (the file or its directory cannot be read)."""
    path = directory / DAEMON_LOCK
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    except FileNotFoundError:  # no daemon ever ran here (or the directory is not there)
        return Holder(False, None, path)
    except OSError as error:
        raise StateError(f"{path}: cannot read the daemon's lock file: {error.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StateError(f"{path}: cannot test the daemon's lock file: {error.strerror}") from None
            return Holder(True, holder_pid(path), path, _note(path))
        return Holder(False, None, path)  # closing the descriptor lets go of the shared lock
    finally:
        os.close(fd)


def holder_pid(path: Path, tries: int = 20) -> int | None:
    """The PID written in a held lock file, when it is that of a live process. The holder writes
    it just after it took the lock: until then the file may hold none, or that of a daemon gone
    (as it does for good when the holder could not write it), so this waits a moment (10 ms a try)."""
    for attempt in range(tries):
        pid = 0
        with contextlib.suppress(OSError, ValueError):
            pid = int(_lines(path)[0])
        if pid > 0 and alive(pid):
            return pid
        if attempt + 1 < tries:
            time.sleep(0.01)
    return None


def _lines(path: Path) -> list[str]:
    """The lock file's lines: the PID, then the daemon's note (the rest is empty lines)."""
    return path.read_bytes()[:LOCK_FILE_SIZE].decode("utf-8", "replace").splitlines() or [""]


def _note(path: Path) -> str:
    try:
        return " ".join(_lines(path)[1:2])
    except OSError:
        return ""


def publish(fd: int, note: str) -> None:
    """Writes the daemon's PID and `note` (one line; "" when all is well) into its lock file, in
    the place allocated for it: `status` shows the note. Best effort: the lock holds all the same."""
    data = f"{os.getpid()}\n{' '.join(note.split())}\n".encode()[: LOCK_FILE_SIZE - 1]
    with contextlib.suppress(OSError):
        os.pwrite(fd, data + b"\n" * (LOCK_FILE_SIZE - len(data)), 0)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


LOCK_TRIES = 20  # 10 ms apart


def lock_for_daemon(directory: Path) -> int:
    """Makes this process the one daemon on the state in `directory`: an exclusive `flock` on
    DAEMON_LOCK there, which holds this process's PID. The lock lasts as long as the file
    descriptor returned (not inherited by the programs it runs); the kernel releases it when the
    process dies, however it dies. The file stays: removing it would let a second daemon lock a
    new file while the first still holds the old one. Only `run` takes it: the commands that read
    or record share the database with the daemon (SQLite's own locks), not this file.

    StateError, naming the file: another process holds it (with its PID), or it cannot be opened.
    """
    path = directory / DAEMON_LOCK
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # Readable by all (it holds a PID, nothing else): a daemon of another user than the one
            # who made it (root, by `sudo mgremind run`) can still open it to lock.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:  # left by another user (e.g. root): a read-only descriptor locks as well
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        raise StateError(f"{path}: cannot open the daemon's lock file: {error.strerror}") from None
    # `mgremind status` tests the lock with a shared flock for an instant: a daemon starting just
    # then tries again for a moment rather than take it for another daemon.
    for attempt in range(LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise StateError(f"{path}: cannot lock the daemon's lock file: {error.strerror}") from None
            if attempt == LOCK_TRIES - 1:
                os.close(fd)
                raise StateError(_held_by(path)) from None
            time.sleep(0.01)
    with contextlib.suppress(OSError):  # read-only: the lock holds all the same, without the PID
        os.ftruncate(fd, 0)
        os.posix_fallocate(fd, 0, LOCK_FILE_SIZE)
    publish(fd, "")
    return fd


def _held_by(path: Path) -> str:
    """Who holds the daemon's lock, and what to do about it."""
    pid = holder_pid(path)
    if pid is not None:
        return (
            f"another mgremind (PID {pid}) is running on {path.parent} (it holds {path}): "
            f"stop it first (systemctl stop mgremind, or kill {pid})"
        )
    return f"another mgremind is running on {path.parent} (it holds {path}): stop it first (systemctl stop mgremind)"
