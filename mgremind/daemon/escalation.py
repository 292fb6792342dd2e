"""Escalation (SPEC §6): after `escalate_after` missed reminders in a row, one message to the caregivers.

A reminder becomes missed only when the next later one falls due (or its day ends), so the
check runs after each reminder is sent — after, so that a slow caregiver channel never holds
the reminder up — and at the midnight roll-over, for the day's last reminder. The caregivers'
channels are sent to like the others (sending.py): each on its own, with a time limit.

Told once: the state records that the caregivers were told, and the record is claimed before
anything is sent, because two reminders due together run in two worker threads and both may
find the same streak. When every caregiver channel fails the claim is released, and the
next reminder tries again. When the state cannot be read or written, no one is told: the
check runs again with the next reminder.
"""

from __future__ import annotations

import datetime as dt
import logging

from mgremind.daemon.current import Setup
from mgremind.daemon.sending import Sends
from mgremind.history import missed_in_a_row
from mgremind.model import StateError
from mgremind.render import escalation_text
from mgremind.state import ESCALATED, State

UTC = dt.timezone.utc
log = logging.getLogger("mgremind")

STREAK_DAYS = 7  # how far back a streak of missed reminders is looked for


class Escalation:
    def __init__(self, state: State, sends: Sends) -> None:
        self._state = state
        self._sends = sends

    def check(self, setup: Setup, now: dt.datetime) -> None:
        """Tells `setup`'s caregivers, once, when `escalate_after` reminders in a row are missed at `now`."""
        try:
            self._check(setup, now)
        except StateError as error:
            log.warning("missed doses not checked: %s", error)

    def _check(self, setup: Setup, now: dt.datetime) -> None:
        config = setup.config
        if not config.reminders.escalate_after or self._state.get_meta(ESCALATED) is not None:
            return
        today = now.astimezone(config.zone).date()
        # The acknowledgements of the days looked at, not the whole table: the same cost after years.
        acks = self._state.acknowledgements_since(today - dt.timedelta(days=STREAK_DAYS))
        reports = self._state.reports()
        streak = missed_in_a_row(config, acks, reports, now, since=self._state.created_at, days=STREAK_DAYS)
        if len(streak) < config.reminders.escalate_after:
            return
        # Claimed before sending: two reminders due together (two threads) must tell once.
        if not self._state.claim_meta(ESCALATED, now.astimezone(UTC).isoformat(timespec="seconds")):
            return
        title, body = escalation_text(config.notify.title, streak)
        caregivers = setup.caregivers

        def answered(errors: list[str | None]) -> None:
            failures = [f"{channel.label}: {error}" for channel, error in zip(caregivers, errors, strict=True) if error]
            if failures and len(failures) == len(caregivers):
                log.error("could not tell the caregivers about %d missed doses: %s", len(streak), "; ".join(failures))
                try:
                    self._state.set_meta(ESCALATED, None)  # tried again when the next reminder is due
                except StateError as error:
                    log.error("%s", error)
                return
            log.warning("told the caregivers: %d doses missed in a row (since %s)", len(streak), streak[0].id)

        self._sends.start_all(caregivers, title, body, answered)
