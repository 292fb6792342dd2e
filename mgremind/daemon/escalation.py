"""Escalation (SPEC §6): after `escalate_after` missed reminders in a row, one message to the caregivers.

A reminder becomes missed only when the next later one falls due (or its day ends), so the
check runs after each reminder is sent — after, so that a slow caregiver channel never holds
the reminder up — and at the midnight roll-over, for the day's last reminder.

Told once: the state records that the caregivers were told, and the record is claimed before
anything is sent, because two reminders due together run in two worker threads and both may
find the same streak. When every caregiver channel fails the claim is released, and the
next reminder tries again.
"""

from __future__ import annotations

import datetime as dt
import logging

from mgremind.daemon.current import Setup
from mgremind.history import missed_in_a_row
from mgremind.notify import send_safely
from mgremind.render import escalation_text
from mgremind.state import ESCALATED, State

UTC = dt.timezone.utc
log = logging.getLogger("mgremind")


class Escalation:
    def __init__(self, state: State) -> None:
        self._state = state

    def check(self, setup: Setup, now: dt.datetime) -> None:
        """Tells `setup`'s caregivers, once, when `escalate_after` reminders in a row are missed at `now`."""
        config = setup.config
        if not config.reminders.escalate_after or self._state.get_meta(ESCALATED) is not None:
            return
        acks, reports = self._state.acknowledgements(), self._state.reports()
        streak = missed_in_a_row(config, acks, reports, now, since=self._state.created_at)
        if len(streak) < config.reminders.escalate_after:
            return
        # Claimed before sending: two reminders due together (two threads) must tell once.
        if not self._state.claim_meta(ESCALATED, now.astimezone(UTC).isoformat(timespec="seconds")):
            return
        title, body = escalation_text(config.notify.title, streak)
        failures = [f"{c.label}: {e}" for c in setup.caregivers if (e := send_safely(c, title, body)) is not None]
        if failures and len(failures) == len(setup.caregivers):
            log.error("could not tell the caregivers about %d missed doses: %s", len(streak), "; ".join(failures))
            self._state.set_meta(ESCALATED, None)  # tried again when the next reminder is due
            return
        log.warning("told the caregivers: %d doses missed in a row (since %s)", len(streak), streak[0].id)
