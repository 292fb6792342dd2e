"""The day's magnesium target: the titration ramp, replayed with the reported symptoms (SPEC §6).

Pure: the configuration, the date and the recorded reports in, the target and the reason out.
The laxative effect of too much magnesium shows about a day later (SEED), so a symptom
reported on day R is blamed on the amount of day R−1: its target T, what was planned that day
(SPEC §6 v2), not the ramp's level, which may lie above daily_mg or a ceiling. A report never
raises the level. The ramp is replayed day by day from `start`; a `Ramp` remembers the days it
has replayed, so planning a year costs one replay.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from mgremind.model import Config

# Reported symptoms by the day they were reported on.
Reports = Mapping[dt.date, Sequence[str]]
SYMPTOMS = ("loose-stool", "diarrhea", "cramps", "nausea", "bloating")


class Target(NamedTuple):
    mg: float
    note: str  # why, when the ramp or a report sets it ("" at the full daily amount)


class _Replay:
    """Where the replay of the ramp stands: changed day by day as it goes."""

    __slots__ = ("ceiling", "ceiling_reason", "held_until", "level", "next_increase", "reason")

    def __init__(self, level: float, next_increase: dt.date) -> None:
        self.level = level
        self.next_increase = next_increase
        self.ceiling: float | None = None
        self.reason = ""  # why the level is lower than the plain ramp would have it ("" when it is not)
        self.ceiling_reason = ""  # why there is a ceiling: it outlasts later reports
        self.held_until: dt.date | None = None  # the end of the hold after the latest report


class Ramp:
    def __init__(self, config: Config, reports: Reports | None = None) -> None:
        self.config = config
        self.reports = {day: tuple(symptoms) for day, symptoms in (reports or {}).items() if symptoms}
        self._targets: list[Target] = []  # the target of each replayed day, from start
        self._blamed: dict[float, list[dt.date]] = {}  # amount → the days whose reports blamed it
        self._state: _Replay | None = None

    def target(self, day: dt.date) -> Target:
        """The target T of `day` (SPEC §2.2 without reports, §6 with them)."""
        daily = self.config.magnesium.daily_mg or 0.0
        ramp = self.config.titration
        if ramp is None:
            return Target(daily, "")
        if day < ramp.start:
            return Target(0.0, f"titration starts on {ramp.start.isoformat()}: no magnesium before")
        index = (day - ramp.start).days
        while len(self._targets) <= index:
            self._replay_next_day()
        return self._targets[index]

    def _target_on(self, day: dt.date) -> float:
        assert self.config.titration is not None
        return self._targets[(day - self.config.titration.start).days].mg

    def _replay_next_day(self) -> None:
        ramp = self.config.titration
        assert ramp is not None
        daily = self.config.magnesium.daily_mg or 0.0
        day = ramp.start + dt.timedelta(days=len(self._targets))
        state = self._state
        if state is None:
            state = self._state = _Replay(ramp.start_mg, ramp.start + dt.timedelta(days=ramp.every_days))
        else:
            reported = day - dt.timedelta(days=1)
            # A report on R is blamed on R−1. Where nothing was planned that day (R the first day:
            # no magnesium before start, SPEC §2.2; or a ramp at 0 mg) there is nothing to blame:
            # the report changes nothing (a ceiling of 0 mg would end the plan for good).
            if reported in self.reports and reported > ramp.start and self._target_on(reported - dt.timedelta(days=1)):
                self._lower(state, reported, day)
            elif day >= state.next_increase:
                below_ceiling = state.ceiling is None or state.level < state.ceiling
                if state.level < daily and below_ceiling:
                    state.level += ramp.step_mg
                state.next_increase = day + dt.timedelta(days=ramp.every_days)
        target = min(state.level, daily, state.ceiling if state.ceiling is not None else daily)
        self._targets.append(Target(target, self._note(day, target)))

    def _lower(self, state: _Replay, reported: dt.date, day: dt.date) -> None:
        """The report of `reported` (R), replayed on `day` (R+1): SPEC §6 v2."""
        ramp = self.config.titration
        assert ramp is not None
        blamed_day = reported - dt.timedelta(days=1)
        blamed = self._target_on(blamed_day)  # what was planned on R−1, not the ramp's level
        # Never raised: a report lowers from the current level, or keeps it (a second report the
        # next day blames the day before the first lowering took hold, whose target was higher).
        lowered = max(ramp.start_mg, min(state.level, blamed - ramp.step_mg))
        held_until = day + dt.timedelta(days=ramp.hold_days)
        if state.level - lowered >= ramp.step_mg:
            state.next_increase = held_until
        else:
            # Lowered by less than a step (start_mg is the floor): an increase after hold_days
            # would pass the level of before the report; it stays due when it was, if later. A
            # report never brings the dose up sooner.
            state.next_increase = max(state.next_increase, held_until)
        symptoms = ", ".join(self.reports[reported])
        blame = f"blamed on the {blamed:g} mg planned on {blamed_day.isoformat()}"
        if lowered < state.level:
            what = f"lowered after {symptoms} reported on {reported.isoformat()} ({blame})"
        else:
            one_step_down = blamed - ramp.step_mg
            floor = (
                f"already at or below {one_step_down:g} mg"
                if state.level <= one_step_down
                else f"never below start_mg {ramp.start_mg:g} mg"
            )
            what = f"kept at {lowered:g} mg after {symptoms} reported on {reported.isoformat()} ({blame}; {floor})"
        state.level = lowered
        state.held_until = state.next_increase
        state.reason = f"{what}; held until {state.next_increase.isoformat()}"
        reports_at_amount = self._blamed.setdefault(blamed, [])
        reports_at_amount.append(reported)
        if len(reports_at_amount) >= 2:
            ceiling = max(ramp.start_mg, blamed - ramp.step_mg)
            state.ceiling = ceiling if state.ceiling is None else min(state.ceiling, ceiling)
            dates = ", ".join(date.isoformat() for date in reports_at_amount)
            state.ceiling_reason = f"capped at {state.ceiling:g} mg: symptoms reported twice at {blamed:g} mg ({dates})"
            state.reason = state.ceiling_reason

    def _note(self, day: dt.date, target: float) -> str:
        """Why the day's target is what it is; first why it is below the plain ramp, if it is."""
        ramp = self.config.titration
        assert ramp is not None and self._state is not None
        daily = self.config.magnesium.daily_mg or 0.0
        plain = min(daily, ramp.start_mg + ramp.step_mg * ((day - ramp.start).days // ramp.every_days))
        state = self._state
        hold_over = state.held_until is not None and day >= state.held_until
        if target < plain and state.ceiling is not None and target == state.ceiling and hold_over:
            return f"{target:g} mg instead of {plain:g} mg: {state.ceiling_reason}"  # the hold is over, the cap is not
        if target < plain and state.reason:
            return f"{target:g} mg instead of {plain:g} mg: {state.reason}"
        if target >= daily:
            return ""
        return (
            f"titration: {target:g} mg, +{ramp.step_mg:g} mg every {ramp.every_days} "
            f"day{'s' if ramp.every_days != 1 else ''} up to {daily:g} mg"
        )
