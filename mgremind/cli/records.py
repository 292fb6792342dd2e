"""The commands that read and write the records (SPEC §6): taken, skip, undo, report, stock, history, status."""

import argparse
import datetime as dt
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from mgremind.cli.arguments import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, _date
from mgremind.config.paths import state_file
from mgremind.history import (
    Supply,
    channel_results,
    due_unacknowledged,
    history,
    records_begin,
    supplies,
    supplies_since,
)
from mgremind.model import Config, Reminder, printable
from mgremind.plan import plan_days, upcoming
from mgremind.render import (
    acknowledge_ahead_text,
    clock,
    daemon_line,
    history_json,
    history_table,
    item_text,
    report_future_text,
    status_text,
    supply_text,
    undo_text,
    week_grid,
)

if TYPE_CHECKING:
    from mgremind.state import ChannelResult, Record, State


class _Records(NamedTuple):
    """What the state database holds about the plan; empty before the first write. The
    acknowledgements only of the days a command needs (see _read)."""

    acks: dict[str, str]
    reports: dict[dt.date, list[str]]
    counts: dict[str, tuple[float, dt.datetime]]
    totals: dict[str, tuple[dt.datetime, dt.date, float]]  # the running stock totals the daemon keeps
    since: dt.datetime | None = None  # when the records began (None: they have not; see _records_begin)

    def supplies(self, config: Config, now: dt.datetime) -> list[Supply]:
        return supplies(config, self.counts, self.acks, self.reports, now, totals=self.totals)


def _state_file(config: Config) -> Path:
    """The state of the daemon that runs this configuration: /etc/mgremind/config.toml means the
    system service's (config.paths.state_directory)."""
    return state_file(os.environ, Path(config.source).absolute())


def _open_state(config: Config, now: dt.datetime) -> "State":
    """The state, opened as its directory's owner when root runs a command on a service's state:
    what SQLite creates stays the daemon's to write (state.create_as_owner)."""
    from mgremind.state import State  # sqlite3: only for the commands that use the records

    return State.open(_state_file(config), now, as_owner=True)


def _records(
    config: Config, now: dt.datetime | None = None, *, days: int = 0, stock: bool = False, begin: bool = False
) -> _Records:
    """The records, read without creating a state database that does not exist yet (see _read)."""
    if not _state_file(config).exists():
        return _Records({}, {}, {}, {})
    now = now or dt.datetime.now(config.zone)
    state = _open_state(config, now)
    try:
        return _read(config, state, now, days=days, stock=stock, begin=begin)
    finally:
        state.close()


def _read(
    config: Config, state: "State", now: dt.datetime, *, days: int = 0, stock: bool = False, begin: bool = False
) -> _Records:
    """The reports, stock counts and running totals (a few rows each), and the acknowledgements of
    the last `days` days and, with `stock`, of the days the supplies still add up (after the
    daemon's running totals): ranges of the key, so that a command costs the same after years.
    `since` is when the state was created, or with `begin` when the records began (_records_begin)."""
    reports, counts, totals = state.reports(), state.stock_counts(), state.stock_totals()
    firsts = [now.astimezone(config.zone).date() - dt.timedelta(days=days - 1)] if days > 0 else []
    if stock and (first := supplies_since(config, counts, totals, now)) is not None:
        firsts.append(first)
    acks = state.acknowledgements_since(min(firsts)) if firsts else {}
    since = state.created_at
    if begin and firsts:
        since = _records_begin(config, state, reports, min(firsts))
    return _Records(acks, reports, counts, totals, since)


def _records_begin(config: Config, state: "State", reports: dict[dt.date, list[str]], first: dt.date) -> dt.datetime:
    """When the records began (history.records_begin), as far as the days from `first` on can
    tell: a state created before them began before them, whatever it holds. A younger one's
    acknowledgements were all written since it was created: few, and read whole (a backfilled
    `taken` may name any day before)."""
    created = state.created_at
    if created.astimezone(config.zone).date() < first - dt.timedelta(days=1):  # a lead: the evening before
        return created
    return records_begin(config, created, state.acknowledgements(), reports)


def _acknowledge(status: str) -> Callable[[Config, argparse.Namespace, dt.datetime], int]:
    def command(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
        state = _open_state(config, now)
        try:
            # Without an id: the latest due of today and yesterday (history.due_unacknowledged).
            records = _read(config, state, now, days=0 if args.id else 2)
            reminder = _reminder_to_acknowledge(config, args.id, records, now)
            if reminder is None:
                return EXIT_BAD_INPUT
            before = state.acknowledge(reminder.id, status, now)
            changed = f" (was {before})" if before and before != status else ""
            what = "; ".join(item_text(item) for item in reminder.items)
            print(f"{status}: {reminder.id} at {clock(reminder.at)}{changed}: {what}")
            if status == "taken" and state.get_meta(state.ESCALATED) is not None:
                _back_on_track(config, state, reminder)
        finally:
            state.close()
        return EXIT_OK

    return command


# A reminder can be marked this long before it is due (SPEC §6 v2): tonight's dinner skipped in
# the morning, but not a day of next week taken by a slip of the date.
ACKNOWLEDGE_AHEAD = dt.timedelta(hours=12)


def _reminder_to_acknowledge(
    config: Config, wanted: str | None, records: _Records, now: dt.datetime
) -> Reminder | None:
    """The reminder named (an id, or a meal of today: `dinner`, `dinner+delay`), or the latest one
    already due and not yet acknowledged; None, said, when there is none or it is not due within
    ACKNOWLEDGE_AHEAD."""
    if wanted is None:
        due = due_unacknowledged(config, records.acks, records.reports, now)
        if not due:
            print("mgremind: no reminder is due and unacknowledged; name one (see `mgremind plan`)", file=sys.stderr)
            return None
        return due[0]
    try:
        day = _date(wanted.split("/", 1)[0])
    except argparse.ArgumentTypeError:
        if "/" in wanted:
            print(f'mgremind: "{printable(wanted)}" is not a reminder id ({_ID_EXAMPLE})', file=sys.stderr)
            return None
        found = _meal_of_today(config, wanted, records, now)
    else:
        plan = plan_days(config, day, 1, records.reports)[0]
        found = next((reminder for reminder in plan.reminders if reminder.id == wanted), None)
        if found is None:
            ids = ", ".join(reminder.id for reminder in plan.reminders) or "none"
            print(f'mgremind: no reminder "{printable(wanted)}" in the plan; that day has: {ids}', file=sys.stderr)
    if found is not None and found.instant - now > ACKNOWLEDGE_AHEAD:
        print(f"mgremind: {acknowledge_ahead_text(found, ACKNOWLEDGE_AHEAD)}", file=sys.stderr)
        return None
    return found


_ID_EXAMPLE = "DATE/MEAL, e.g. 2026-11-25/breakfast, or a meal of today, e.g. dinner"


def _meal_of_today(config: Config, wanted: str, records: _Records, now: dt.datetime) -> Reminder | None:
    """Today's reminder of the meal `wanted` (SPEC §6 v2): DATE/MEAL, else its delayed form
    DATE/MEAL+delay; `dinner+delay` names the delayed one alone. Case does not matter."""
    today = now.astimezone(config.zone).date()
    reminders = plan_days(config, today, 1, records.reports)[0].reminders
    name = wanted.strip().casefold()
    for candidate in (name,) if name.endswith("+delay") else (name, f"{name}+delay"):
        found = next((r for r in reminders if r.id.split("/", 1)[1].casefold() == candidate), None)
        if found is not None:
            return found
    meals = {meal.name.casefold() for meal in config.meals}
    ids = ", ".join(reminder.id for reminder in reminders) or "none"
    if name.removesuffix("+delay") in meals:
        print(f'mgremind: no reminder "{printable(wanted)}" today ({today}); today has: {ids}', file=sys.stderr)
    else:
        print(
            f'mgremind: "{printable(wanted)}" is not a reminder id ({_ID_EXAMPLE}); today has: {ids}', file=sys.stderr
        )
    return None


def _back_on_track(config: Config, state: "State", reminder: Reminder) -> None:
    """After an escalation, the caregivers hear once that a dose was taken again."""
    from mgremind.logs import setup_logging
    from mgremind.notify import ChannelError, secret_fragments, tell_caregivers

    secrets = setup_logging(30)  # warnings and errors only (logging.WARNING)
    secrets.fragments = secret_fragments(config.notify.caregiver_urls)
    body = f"{reminder.meal} on {reminder.at.strftime('%a %Y-%m-%d')} was taken: back on track."
    try:
        failures = tell_caregivers(config, f"{config.notify.title}: back on track", body)
    except ChannelError as error:
        failures = [str(error)]
    if failures:
        print(f"mgremind: could not tell the caregivers: {'; '.join(failures)}", file=sys.stderr)
    else:
        state.set_meta(state.ESCALATED, None)


def _report(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    today = now.astimezone(config.zone).date()
    day = args.date or today
    if day > today:  # SPEC §6 v2: a symptom not yet noticed would lower the ramp from a day to come
        print(f"mgremind: {report_future_text(day, today)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    state = _open_state(config, now)
    try:
        state.add_report(day, args.symptom, now)
        reports = state.reports()
    finally:
        state.close()
    print(f"recorded {args.symptom} on {day.isoformat()}")
    if config.titration is not None:
        tomorrow = plan_days(config, day + dt.timedelta(days=1), 1, reports)[0]
        note = f" ({tomorrow.target_note})" if tomorrow.target_note else ""
        print(f"target on {tomorrow.date.isoformat()}: {tomorrow.magnesium_target_mg:g} mg{note}")
    return EXIT_OK


def _stock(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    ids = [supplement.id for supplement in config.supplements]
    if args.id not in ids:
        print(f'mgremind: no supplement "{printable(args.id)}"; the plan has: {", ".join(ids)}', file=sys.stderr)
        return EXIT_BAD_INPUT
    state = _open_state(config, now)
    try:
        state.add_stock_count(args.id, args.units, now)
        records = _read(config, state, now, stock=True)
    finally:
        state.close()
    supply = next(s for s in records.supplies(config, now) if s.supplement.id == args.id)
    print(supply_text(supply))
    return EXIT_OK


def _history(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    records = _records(config, now, days=args.days, begin=True)
    # Years of days hold hundreds of thousands of reminders and statuses, none in a reference
    # cycle: the cyclic collector would walk them again and again as they pile up (a third of
    # `history --days 1000` at 200 reminders a day). Reference counting frees them all the same.
    collecting = gc.isenabled()
    gc.disable()
    try:
        days = history(
            config,
            now.date(),
            args.days,
            acks=records.acks,
            reports=records.reports,
            now=now,
            since=records.since or now,
        )
    finally:
        if collecting:
            gc.enable()
    if args.json:
        print(_json(history_json(days)))
    elif args.csv:
        from mgremind.render import history_csv  # the csv module: only for --csv

        print(history_csv(days), end="")
    elif args.week:
        print(week_grid(days[-7:]), end="")
    else:
        print(history_table(config, days), end="")
    return EXIT_OK


def _undo(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    """Takes back the record written last (an acknowledgement, a report, a stock count), or the
    one of ID: a reminder id's acknowledgement, or report#N / stock#N as `undo` prints them."""
    from mgremind.render import COUNT_PREFIX, REPORT_PREFIX, undo_nothing_text

    wanted: str | None = args.id
    state = _open_state(config, now)
    try:
        undone: Record | None
        if wanted is None:
            undone = state.take_back.last()
        elif (number := _record_number(wanted, REPORT_PREFIX)) is not None:
            undone = state.take_back.report(number)
        elif (number := _record_number(wanted, COUNT_PREFIX)) is not None:
            undone = state.take_back.stock_count(number)
        else:
            undone = state.take_back.acknowledgement(wanted)
        recent = [] if undone or wanted is None else state.take_back.latest(5)
    finally:
        state.close()
    if undone is None:
        names = [_record_name(record) for record in recent]
        print(f"mgremind: {undo_nothing_text(None if wanted is None else printable(wanted), names)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(_undone_text(config, undone))
    return EXIT_OK


def _record_number(wanted: str, prefix: str) -> int | None:
    """N of `prefix`N (report#12), else None."""
    digits = wanted.removeprefix(prefix)
    return int(digits) if digits != wanted and digits.isascii() and digits.isdigit() else None


def _record_name(record: "Record") -> str:
    """How `undo` names a record: the reminder id of an acknowledgement, else report#N or stock#N."""
    from mgremind.render import count_name, report_name
    from mgremind.state import Acknowledgement, Report

    if isinstance(record, Acknowledgement):
        return record.reminder_id
    return report_name(record.id) if isinstance(record, Report) else count_name(record.id)


def _undone_text(config: Config, record: "Record") -> str:
    from mgremind.render import undo_count_text, undo_report_text
    from mgremind.state import Acknowledgement, Report

    at = record.at.astimezone(config.zone)
    if isinstance(record, Acknowledgement):
        return undo_text(record.reminder_id, record.status, at)
    if isinstance(record, Report):
        return undo_report_text(record, at)
    unit = next((s.unit for s in config.supplements if s.id == record.supplement), None)
    return undo_count_text(record, unit, at)


EXIT_NO_DAEMON = 3  # `status`: no daemon runs on this state (SPEC §3 v2)


def _status(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    """Exit 3 when no daemon runs on this state; else 1 when a channel's last delivery failed; else 0.
    Loads apprise (as `notify-test` does) to label the channels as the daemon's log does."""
    from mgremind.lockfile import daemon_holder

    path = _state_file(config)
    holder = daemon_holder(path.parent)  # StateError: main reports it
    due: list[Reminder] | None = None
    results: dict[str, ChannelResult] = {}
    reports: dict[dt.date, list[str]] = {}
    if path.exists():  # never creates a state database
        state = _open_state(config, now)
        try:
            reports = state.reports()
            since = state.created_at
            yesterday = now.astimezone(config.zone).date() - dt.timedelta(days=1)
            acks = state.acknowledgements_since(yesterday)
            results = state.channel_results()
        finally:
            state.close()
        due = [r for r in due_unacknowledged(config, acks, reports, now) if r.instant >= since or r.id in acks]
    following = upcoming(config, now, 1, reports)
    configured, problem = _status_channels(config)
    rows = channel_results(configured, results, known=problem is None)
    daemon = daemon_line(holder.running, holder.pid, path.parent, holder.note)
    print(status_text(config, daemon, following[0] if following else None, due, rows, channel_problem=problem), end="")
    if not holder.running:
        return EXIT_NO_DAEMON
    return EXIT_FAILURE if any(result is not None and result.status == "failed" for _, result in rows) else EXIT_OK


def _status_channels(config: Config) -> tuple[list[tuple[str, str]], str | None]:
    """(key, label) of each configured channel as `run` builds them (apprise's own lines scrubbed),
    or none and why they cannot be built."""
    import logging

    from mgremind.logs import setup_logging
    from mgremind.notify import ChannelError, setup_channels

    try:
        setup = setup_channels(config, os.environ, setup_logging(logging.WARNING))
    except ChannelError as error:
        return [], printable(str(error))
    return [(channel.key, channel.label) for channel in setup.channels], None


def _json(data: object) -> str:
    import json  # only for --json: the tables need it not

    return json.dumps(data, indent=2, ensure_ascii=False)
