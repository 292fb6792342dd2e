"""The running stock totals (SPEC §6 refills, §4 v2 cost at any age), kept by the daemon as days pass.

Units on hand are the latest count less the units of the reminders since then that were not
skipped. Adding up every day since a count a year old would cost a year of planning in every
delivery and every `check`; instead the daemon keeps, for each counted supplement, a running
total from its count through the day before yesterday (history.SETTLED): at its start and at
each midnight roll-over, planning only the days the total does not cover yet (one day at a
midnight; every day since the count once, the first time). Deliveries and the commands (`check`,
`next`, `stock`) plan only the days after it; the commands read the totals, never write them.

A total runs from one count. Another count becoming the latest (`stock`, an edited `stock_date`,
an `undo` of the count) leaves it ignored, and the readers add up from the count, until the next
roll-over makes one from that count. A skip recorded (or taken back) for a day a total covers, or
a symptom report that may change the plan of such a day, drops the totals in the same
transaction (mgremind.state), so the units on hand are always what adding up every day since the
count would give. A total is made from the configuration in force: a plan edited later changes
the days after the total, never the days it covers (they were reminded as they were planned).
"""

import datetime as dt
import logging

from mgremind.history import Plans, Supply, stock_totals, supplies, supplies_since
from mgremind.model import Config
from mgremind.state import State
from mgremind.titration import Reports

log = logging.getLogger("mgremind")

# Making totals again when a record they rest on changed meanwhile (a `skip` while they were made).
ATTEMPTS = 3


def keep_stock_totals(state: State, config: Config, now: dt.datetime) -> None:
    """Brings the running totals up to the day before yesterday (at `now`), saving those that
    changed. The daemon calls it at its start and at each midnight roll-over, outside any lock
    of its own (the first call after an upgrade, or after a new count, plans every day since the
    count once). StateError when the state cannot be read or written."""
    for _ in range(ATTEMPTS):
        version = state.stock_records_version()  # before the records: a change after it is seen
        counts, totals = state.stock_counts(), state.stock_totals()
        first = supplies_since(config, counts, totals, now)
        if first is None:
            return  # no supplement is counted
        made = stock_totals(
            config, counts, totals, acks=state.acknowledgements_since(first), reports=state.reports(), now=now
        )
        changed = {supplement: total for supplement, total in made.items() if totals.get(supplement) != total}
        if not changed or state.save_stock_totals(changed, now, version):
            return
    log.info("stock totals not kept: the acknowledgements kept changing; the next roll-over tries again")


def current_supplies(
    state: State, config: Config, reports: Reports, now: dt.datetime, plans: Plans | None = None
) -> list[Supply]:
    """The units on hand of each counted supplement at `now`, as a reminder says them: the stock
    counts and running totals, and the acknowledgements of the days after the totals only (a
    range of the key). [] at once when nothing is counted. `plans`: see history.supplies."""
    counts = state.stock_counts()
    if not counts and all(supplement.stock is None for supplement in config.supplements):
        return []
    totals = state.stock_totals()
    first = supplies_since(config, counts, totals, now)
    acks = state.acknowledgements_since(first) if first is not None else {}
    return supplies(config, counts, acks, reports, now, totals=totals, plans=plans)
