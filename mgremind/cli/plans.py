"""The commands that show the plan: check, plan, next, export."""

import argparse
import datetime as dt
import os
import sys
from typing import TYPE_CHECKING

from mgremind.cli.arguments import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK
from mgremind.cli.records import _json, _records
from mgremind.config.secrets import exposed_secret_files
from mgremind.model import Config, Problem, printable
from mgremind.plan import plan_days, upcoming
from mgremind.render import (
    check_summary,
    export_text,
    plan_json,
    plan_table,
    supply_text,
    upcoming_json,
    upcoming_table,
)

if TYPE_CHECKING:
    pass


def _check(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    # What `run` refuses, `check` refuses: the very channels `run` builds. The console alone cannot
    # fail, and then check starts without logging, hashlib and apprise.
    if not config.notify.console_only and _channels_refused(config):
        return EXIT_BAD_INPUT
    records = _records(config, now, stock=True)
    warnings = exposed_secret_files(config, os.environ)
    warnings += [Problem(s.supplement.key, supply_text(s)) for s in records.supplies(config, now) if s.low]
    print(check_summary(config, plan_days(config, now.date(), 7, records.reports), warnings), end="")
    return EXIT_OK


def _channels_refused(config: Config) -> bool:
    """Builds the channels as `run` does (apprise's log lines scrubbed); True when that fails, said."""
    import logging

    from mgremind.logs import setup_logging
    from mgremind.notify import ChannelError, setup_channels

    try:
        setup_channels(config, os.environ, setup_logging(logging.WARNING))
    except ChannelError as error:
        print(f"mgremind: {printable(str(error))}", file=sys.stderr)
        return True
    return False


def _plan(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    days = plan_days(config, args.start or now.date(), args.days, _records(config, now).reports)
    if args.json:
        print(_json(plan_json(config, days)))
    else:
        print(plan_table(config, days), end="")
    return EXIT_OK


def _next(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    records = _records(config, now, stock=True)
    reminders = upcoming(config, now, args.count, records.reports)
    low = [supply_text(supply) for supply in records.supplies(config, now) if supply.low]
    if args.json:
        print(_json({**upcoming_json(config, reminders), "warnings": low}))
    else:
        print(upcoming_table(config, reminders), end="")
        print("".join(f"  ! {line}\n" for line in low), end="")
    return EXIT_OK


def _export(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    from mgremind.ics import calendar

    days = plan_days(config, args.start or now.date(), args.days, _records(config, now).reports)
    data = calendar(config, days, now)
    try:
        if str(args.ics) == "-":
            sys.stdout.buffer.write(data)
        else:
            temporary = args.ics.with_name(f".{args.ics.name}.new")
            temporary.write_bytes(data)
            temporary.replace(args.ics)
    except OSError as error:
        print(f"mgremind: cannot write {args.ics}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILURE
    if str(args.ics) != "-":
        count = sum(len(day.reminders) for day in days)
        print(export_text(count, len(days), args.ics))
    return EXIT_OK
