"""Logging: one line per event on standard error, never a secret in it."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Iterable, Mapping


class SecretFilter(logging.Filter):
    """Replaces every secret fragment in a log record's message with ***."""

    def __init__(self, fragments: Iterable[str] = ()) -> None:
        super().__init__()
        self.fragments: list[str] = list(fragments)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.fragments:
            return True
        message = record.getMessage()
        cleaned = message
        for fragment in self.fragments:
            cleaned = cleaned.replace(fragment, "***")
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks of apprise's internals may quote a URL: keep the type and a scrubbed message.
            text = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            for fragment in self.fragments:
                text = text.replace(fragment, "***")
            cleaned += f" ({text})"
            record.exc_info = None
            record.exc_text = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


# sd-daemon(3) priorities: "<3>" error … "<7>" debug, which journald reads off each line.
_SYSLOG_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class JournalFormatter(logging.Formatter):
    """`<6>message`: journald adds the time and keeps the priority."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _SYSLOG_PRIORITY.get(record.levelno, 3 if record.levelno > logging.ERROR else 7)
        return f"<{priority}>{super().format(record)}"


class LocalTimeFormatter(logging.Formatter):
    """`2026-11-29T18:50:10.123+01:00 INFO message`: ISO 8601 in the local zone ($TZ, else the
    system's) with its UTC offset, so that a line read later, elsewhere or across a DST change
    still says when it happened."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        local = dt.datetime.fromtimestamp(record.created, dt.timezone.utc).astimezone()
        return local.isoformat(timespec="milliseconds")


def stderr_is_journal(environ: Mapping[str, str], stderr_fd: int = 2) -> bool:
    """$JOURNAL_STREAM names the journal's device:inode; it counts only if stderr is that stream
    (a child of a service inherits the variable with another stderr)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat(stderr_fd)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


def setup_logging(level: int = logging.INFO, environ: Mapping[str, str] | None = None) -> SecretFilter:
    """One line per event on standard error, every record scrubbed of secrets; to the journal
    with a priority prefix and no timestamp of its own, elsewhere with a timestamp and its UTC
    offset.

    Returns the filter: its fragments are set once the URLs are known (and on reload).
    """
    secrets = SecretFilter()
    handler = logging.StreamHandler(sys.stderr)
    if stderr_is_journal(os.environ if environ is None else environ):
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(LocalTimeFormatter())
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # apprise reports each send at INFO; ours say more, and its DEBUG lines may quote URLs.
    logging.getLogger("apprise").setLevel(max(level, logging.WARNING))
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    return secrets
