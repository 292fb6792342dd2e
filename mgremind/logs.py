"""Logging: one line per event on standard error, never a secret in it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable


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


def setup_logging(level: int = logging.INFO) -> SecretFilter:
    """One line per event on standard error, every record scrubbed of secrets.

    Returns the filter: its fragments are set once the URLs are known (and on reload).
    """
    secrets = SecretFilter()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(secrets)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # apprise reports each send at INFO; ours say more, and its DEBUG lines may quote URLs.
    logging.getLogger("apprise").setLevel(max(level, logging.WARNING))
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    return secrets
