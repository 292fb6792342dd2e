"""The day plans a delivery needs, each made once while the configuration and the reports stay.

A delivery plans its reminder's day, and, when a supplement is counted, the days since the
running stock total and the week ahead (the units a day at the current plan). With many
reminders a day, planning those ten days again at every delivery would cost milliseconds
each time; the plans are the same until a reload replaces the configuration or a symptom
report changes the ramp, so they are kept until then.
"""

import datetime as dt
import threading

from mgremind.history import Plans
from mgremind.model import Config, DayPlan
from mgremind.plan import plan_day
from mgremind.titration import Ramp, Reports

KEPT_DAYS = 32  # more than a delivery asks for (10 days): made again from scratch past this


class DayPlans:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: Config | None = None  # held, so that the identity compared below stays its own
        self._reports: tuple[tuple[dt.date, tuple[str, ...]], ...] = ()
        self._plans: dict[dt.date, DayPlan] = {}

    def of(self, config: Config, reports: Reports) -> Plans:
        """A day's plan of `config` with `reports`, made once (plan_day)."""
        key = tuple(sorted((day, tuple(symptoms)) for day, symptoms in reports.items()))
        with self._lock:
            if config is not self._config or key != self._reports or len(self._plans) > KEPT_DAYS:
                self._config, self._reports, self._plans = config, key, {}
            plans = self._plans
        ramp = Ramp(config, reports)

        def plan(day: dt.date) -> DayPlan:
            found = plans.get(day)
            if found is None:
                found = plans[day] = plan_day(config, day, ramp)  # a race makes the same plan twice
            return found

        return plan
