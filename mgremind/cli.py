"""The command line (SPEC §3): parses arguments, reads the clock and the config, prints.

No domain logic here. Exit status: 0 success, 1 runtime failure, 2 bad usage or bad
configuration. Nothing here may import apprise or APScheduler: `check`, `plan` and
`next` must start as fast as a bare interpreter, give or take.
"""

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from mgremind import __version__
from mgremind.config.paths import ConfigNotFound, find_config, state_file
from mgremind.config.secrets import exposed_secret_files
from mgremind.history import Supply, channel_results, due_unacknowledged, history, supplies
from mgremind.loader import load_config
from mgremind.model import FIRST_YEAR, LAST_YEAR, Config, ConfigError, Problem, Reminder, StateError, printable
from mgremind.plan import plan_days, upcoming
from mgremind.render import (
    check_summary,
    clock,
    daemon_line,
    history_json,
    history_table,
    init_next_steps,
    item_text,
    plan_json,
    plan_table,
    status_text,
    supply_text,
    undo_text,
    upcoming_json,
    upcoming_table,
    week_grid,
)
from mgremind.titration import SYMPTOMS

if TYPE_CHECKING:
    from mgremind.state import ChannelResult, Record, State

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
LEVELS = ("debug", "info", "warning", "error")


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" is not a date (YYYY-MM-DD)') from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"{text} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    return day


def _count(limit: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'"{text}" is not a whole number') from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"must be between 1 and {limit}, not {value}")
        return value

    return parse


def _units(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" is not a number') from None
    if not 0 <= value <= 1e6:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1000000, not {text}")
    return value


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=_date, metavar="DATE", help="first day (default: today)")
    parser.add_argument("--days", type=_count(3660), default=1, metavar="N", help="number of days (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON (described in the README) instead of a table")


def _next_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=_count(1000), default=5, metavar="N", help="how many (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _logging_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", choices=LEVELS, default="info", help="least important events logged")


def _acknowledge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", nargs="?", metavar="ID", help="reminder id (default: the latest due)")


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symptom", choices=SYMPTOMS, metavar="SYMPTOM", help=", ".join(SYMPTOMS))
    parser.add_argument("--date", type=_date, metavar="DATE", help="the day it was noticed (default: today)")


def _stock_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="supplement id")
    parser.add_argument("units", type=_units, metavar="UNITS", help="units on hand")


def _history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=_count(3660), default=7, metavar="N", help="number of days (default 7)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--csv", action="store_true", help="print CSV: a line a reminder, for a spreadsheet")
    output.add_argument("--week", action="store_true", help="a week at a glance: a row a day, a column a meal")


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ics", type=Path, required=True, metavar="FILE", help="the file to write (- for stdout)")
    parser.add_argument("--from", dest="start", type=_date, metavar="DATE", help="first day (default: today)")
    parser.add_argument("--days", type=_count(3660), default=30, metavar="N", help="number of days (default 30)")


def _install_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", action="store_true", help="a user service (systemctl --user), not a system one")
    parser.add_argument("--print", action="store_true", help="print the unit instead of writing it")
    parser.add_argument("--force", action="store_true", help="replace a unit that differs from this one")
    parser.add_argument("--output", metavar="FILE", type=Path, help="write here instead of systemd's unit directory")


def _init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="where to write it (default: -c, else the first user path)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file")


def _undo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "id",
        nargs="?",
        metavar="ID",
        help="a reminder id (its acknowledgement), or report#N or stock#N as undo prints them "
        "(default: the record written last)",
    )


def _completion_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS, metavar="SHELL", help=", ".join(SHELLS))


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    pass


# Each command: its help line and its own arguments.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "check": ("validate the configuration and summarise the plan", _no_arguments),
    "plan": ("the reminders of N days from a date", _plan_arguments),
    "next": ("the next N reminders from now", _next_arguments),
    "run": ("the daemon, in the foreground (what systemd starts)", _logging_arguments),
    "notify-test": ("send one test notification to every channel, report each", _logging_arguments),
    "taken": ("a reminder was taken; its repeats stop", _acknowledge_arguments),
    "skip": ("a reminder was not taken (skipped); its repeats stop", _acknowledge_arguments),
    "report": ("record a digestive symptom", _report_arguments),
    "stock": ("record the units of a supplement on hand now", _stock_arguments),
    "history": ("taken, skipped, missed, per day", _history_arguments),
    "export": ("the plan as an iCalendar file", _export_arguments),
    "install-service": ("write a systemd unit for this installation", _install_arguments),
    "init": ("write a commented starting configuration (the shipped example)", _init_arguments),
    "undo": ("take back the latest acknowledgement, report or stock count, or the one of ID", _undo_arguments),
    "completion": ("print a completion script for bash, zsh or fish", _completion_arguments),
    "status": ("is the daemon running; the next reminder, those due, each channel's last result", _no_arguments),
}
# Commands that need no configuration (install-service: only without -c).
WITHOUT_CONFIG = ("init", "completion")
SHELLS = ("bash", "zsh", "fish")


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, told the terminal's width. Left to find it, it imports shutil,
    and shutil zlib, bz2 and lzma (~2 ms, a fifth of a bare interpreter's start), for every
    command: argparse makes a formatter to check each argument it is given."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_columns() - 2)  # argparse's own margin


def _terminal_columns() -> int:
    """As shutil.get_terminal_size(): $COLUMNS, else the terminal of standard output, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's (argparse spends ~0.5 ms on each command
    it sets up, a tenth of a bare interpreter's start)."""
    # -c works before or after the command: both spellings are common in service files.
    config_option = argparse.ArgumentParser(add_help=False, formatter_class=_Formatter)
    config_option.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="configuration file (default: $MGREMIND_CONFIG, "
        "$CONFIGURATION_DIRECTORY/config.toml, ~/.config/mgremind/config.toml, "
        "/etc/mgremind/config.toml)",
    )
    parser = _Parser(
        prog="mgremind",
        parents=[config_option],
        formatter_class=_Formatter,
        description="Reminders for a magnesium dosing plan written in one TOML file.",
        epilog=f"Start with `mgremind init`: it writes a commented plan (a copy of {_example()}) and says "
        "what to do next. `mgremind COMMAND --help` tells more of a command; the README (the package's "
        "description) describes every key.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"mgremind {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=argparse.ArgumentParser)
    for name, (summary, add_arguments) in COMMANDS.items():
        if only is None or name == only:
            command = commands.add_parser(
                name, parents=[config_option], help=summary, description=summary, formatter_class=_Formatter
            )
            add_arguments(command)
            parser.typed = command if name == only else None
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose "unrecognized arguments" error names the nearest options of the
    command typed (`typed`, set by build_parser), as a misspelt command gets the nearest commands."""

    typed: argparse.ArgumentParser | None = None

    def error(self, message: str) -> NoReturn:
        unknown = "unrecognized arguments: "
        if not message.startswith(unknown):
            super().error(message)
        import difflib  # only on this path: the commands that work start without it

        scope = self.typed or self
        actions = self._actions + (scope._actions if scope is not self else [])
        options = [option for action in actions for option in action.option_strings]
        typed = [word.split("=", 1)[0] for word in message.removeprefix(unknown).split() if word.startswith("-")]
        near = [match for word in typed for match in difflib.get_close_matches(word, options, n=1, cutoff=0.6)]
        hint = f"; did you mean {' or '.join(f'`{option}`' for option in dict.fromkeys(near))}?" if near else ""
        if typed and not near:
            hint = f"; `{scope.prog} --help` lists the options"
        scope.print_usage(sys.stderr)
        scope.exit(EXIT_BAD_INPUT, f"{scope.prog}: error: {printable(message)}{hint}\n")


def _requested_command(argv: Sequence[str]) -> str | None:
    """The command named in argv, if it is one (skipping the value of -c)."""
    first = _first_word(argv)
    return first if first in COMMANDS else None


def _first_word(argv: Sequence[str]) -> str | None:
    """The first argument that is neither an option nor the value of -c: the command, or a misspelling."""
    skip = False
    for argument in argv:
        if skip:
            skip = False
        elif argument in ("-c", "--config"):
            skip = True
        elif argument == "--":
            return None
        elif not argument.startswith("-"):
            return argument
    return None


def _no_such_command(word: str) -> int:
    """A misspelt command: the usage, and the nearest commands."""
    import difflib  # only on this path: the commands that work start without it

    near = difflib.get_close_matches(word, COMMANDS, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(f'`{name}`' for name in near)}?" if near else "; `mgremind --help` lists them"
    print(f"{build_parser('').format_usage()}mgremind: no command {printable(word)!r}{hint}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _example() -> Path:
    """The example configuration installed with the package (what `init` writes)."""
    return Path(__file__).with_name("config.example.toml")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if _first_word(argv) == COMPLETE:  # hidden: what the completion scripts ask of the configuration
        return _complete_words(argv)
    requested = _requested_command(argv)
    word = _first_word(argv)
    if requested is None and word is not None and not {"-h", "--help", "-V", "--version"} & set(argv):
        return _no_such_command(word)
    parser = build_parser(requested)
    args = parser.parse_args(argv)
    if args.command is None:  # no command: what there is to do (SPEC §3: exit 2, as a usage error)
        print(parser.format_help(), end="", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "install-service" and not getattr(args, "config", None):
        return _install_service(None, args)  # the unit may come before the configuration
    if args.command in WITHOUT_CONFIG:
        return _init(args) if args.command == "init" else _completion(args)
    try:
        args.config_file = find_config(getattr(args, "config", None), os.environ)
        config = load_config(args.config_file)
    except ConfigNotFound as missing:
        tried = "\n".join(f"  {path}" for path in missing.tried)
        print(
            f"mgremind: no configuration found; tried:\n{tried}\n"
            f"Give one with -c FILE, or write one with `mgremind init` (a copy of {_example()}).",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except ConfigError as error:
        print("\n".join(error.lines()), file=sys.stderr)
        print(
            f"mgremind: {len(error.problems)} error{'s' if len(error.problems) != 1 else ''} in {error.source}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    now = dt.datetime.now(config.zone)
    if args.command == "install-service":
        return _install_service(args.config_file, args)
    handler = {
        "check": _check,
        "plan": _plan,
        "next": _next,
        "run": _run,
        "notify-test": _notify_test,
        "taken": _acknowledge("taken"),
        "skip": _acknowledge("skipped"),
        "report": _report,
        "stock": _stock,
        "history": _history,
        "export": _export,
        "undo": _undo,
        "status": _status,
    }[args.command]
    try:
        return handler(config, args, now)
    except BrokenPipeError:  # `mgremind plan --days 365 | head`
        sys.stderr.close()
        return EXIT_OK
    except StateError as error:  # damaged, locked, unreadable or foreign: one line, never a traceback
        print(f"mgremind: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILURE


def _check(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    # What `run` refuses, `check` refuses: the very channels `run` builds. The console alone cannot
    # fail, and then check starts without logging, hashlib and apprise.
    if not config.notify.console_only and _channels_refused(config):
        return EXIT_BAD_INPUT
    records = _records(config)
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
    days = plan_days(config, args.start or now.date(), args.days, _records(config).reports)
    if args.json:
        print(_json(plan_json(config, days)))
    else:
        print(plan_table(config, days), end="")
    return EXIT_OK


def _next(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    records = _records(config)
    reminders = upcoming(config, now, args.count, records.reports)
    low = [supply_text(supply) for supply in records.supplies(config, now) if supply.low]
    if args.json:
        print(_json({**upcoming_json(config, reminders), "warnings": low}))
    else:
        print(upcoming_table(config, reminders), end="")
        print("".join(f"  ! {line}\n" for line in low), end="")
    return EXIT_OK


def _json(data: object) -> str:
    import json  # only for --json: the tables need it not

    return json.dumps(data, indent=2, ensure_ascii=False)


# ---------------------------------------------------------------------------- closing the loop (SPEC §6)


class _Records(NamedTuple):
    """What the state database holds about the plan; empty before the first write."""

    acks: dict[str, str]
    reports: dict[dt.date, list[str]]
    counts: dict[str, tuple[float, dt.datetime]]
    since: dt.datetime | None = None  # when the records began (None: they have not)

    def supplies(self, config: Config, now: dt.datetime) -> list[Supply]:
        return supplies(config, self.counts, self.acks, self.reports, now)


def _state_file(config: Config) -> Path:
    """The state of the daemon that runs this configuration: /etc/mgremind/config.toml means the
    system service's (config.paths.state_directory)."""
    return state_file(os.environ, Path(config.source).absolute())


def _open_state(config: Config, now: dt.datetime) -> "State":
    """The state, opened as its directory's owner when root runs a command on a service's state:
    what SQLite creates stays the daemon's to write (state.create_as_owner)."""
    from mgremind.state import State  # sqlite3: only for the commands that use the records

    return State.open(_state_file(config), now, as_owner=True)


def _records(config: Config) -> _Records:
    """The records, read without creating a state database that does not exist yet."""
    if not _state_file(config).exists():
        return _Records({}, {}, {})
    state = _open_state(config, dt.datetime.now(dt.timezone.utc))
    try:
        return _Records(state.acknowledgements(), state.reports(), state.stock_counts(), state.created_at)
    finally:
        state.close()


def _acknowledge(status: str) -> Callable[[Config, argparse.Namespace, dt.datetime], int]:
    def command(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
        state = _open_state(config, now)
        try:
            records = _Records(state.acknowledgements(), state.reports(), state.stock_counts())
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


def _reminder_to_acknowledge(
    config: Config, wanted: str | None, records: _Records, now: dt.datetime
) -> Reminder | None:
    """The reminder named, or the latest one already due and not yet acknowledged."""
    if wanted is None:
        due = due_unacknowledged(config, records.acks, records.reports, now)
        if not due:
            print("mgremind: no reminder is due and unacknowledged; name one (see `mgremind plan`)", file=sys.stderr)
            return None
        return due[0]
    try:
        day = _date(wanted.split("/", 1)[0])
    except argparse.ArgumentTypeError:
        print(
            f'mgremind: "{printable(wanted)}" is not a reminder id (DATE/MEAL, e.g. 2026-11-25/breakfast)',
            file=sys.stderr,
        )
        return None
    plan = plan_days(config, day, 1, records.reports)[0]
    found = next((reminder for reminder in plan.reminders if reminder.id == wanted), None)
    if found is None:
        ids = ", ".join(reminder.id for reminder in plan.reminders) or "none"
        print(f'mgremind: no reminder "{printable(wanted)}" in the plan; that day has: {ids}', file=sys.stderr)
    return found


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
    day = args.date or now.date()
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
        records = _Records(state.acknowledgements(), state.reports(), state.stock_counts())
    finally:
        state.close()
    supply = next(s for s in records.supplies(config, now) if s.supplement.id == args.id)
    print(supply_text(supply))
    return EXIT_OK


def _history(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    records = _records(config)
    days = history(
        config, now.date(), args.days, acks=records.acks, reports=records.reports, now=now, since=records.since or now
    )
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


def _export(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    from mgremind.ics import calendar

    days = plan_days(config, args.start or now.date(), args.days, _records(config).reports)
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
        print(f"wrote {count} reminders of {len(days)} days to {args.ics}")
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


# ---------------------------------------------------------------------------- commands without a configuration


def _init(args: argparse.Namespace) -> int:
    from mgremind.config.paths import config_candidates

    # The first path a user's configuration is looked for in (not systemd's, not /etc).
    user_environ = {key: value for key, value in os.environ.items() if key != "CONFIGURATION_DIRECTORY"}
    default = config_candidates(user_environ)[0]
    path: Path = args.file or (Path(args.config) if getattr(args, "config", None) else default)
    try:
        text = _example().read_bytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.force:
            temporary = path.with_name(f".{path.name}.new")
            temporary.write_bytes(text)
            temporary.replace(path)
        else:
            with path.open("xb") as file:  # never overwrites, even a file written just now by another
                file.write(text)
    except FileExistsError:
        kind = "is a directory" if path.is_dir() else "exists"
        print(f"mgremind: {path} {kind}; not overwritten (--force replaces a file)", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:
        print(f"mgremind: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILURE
    print(init_next_steps(path, _found_without_c(path)), end="")
    return EXIT_OK


def _found_without_c(path: Path) -> bool:
    """Whether mgremind, given no -c, would read `path`."""
    try:
        return find_config(None, os.environ).absolute() == path.absolute()
    except ConfigNotFound:
        return False


def _completion(args: argparse.Namespace) -> int:
    from mgremind.render import completion_script, completion_words_script

    parser = build_parser()
    options = [option for action in parser._actions for option in action.option_strings]
    commands = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, (summary, _) in COMMANDS.items():
                sub = action.choices[name]
                own = [o for a in sub._actions for o in a.option_strings if o.startswith("--") or o == "-c"]
                own += [str(c) for a in sub._actions if not a.option_strings and a.choices for c in a.choices]
                commands.append((name, summary, own))
    print(completion_script(args.shell, options, commands), end="")
    print(completion_words_script(args.shell, COMPLETE, ("taken", "skip", "undo"), ("stock",)), end="")
    return EXIT_OK


COMPLETE = "__complete"  # `mgremind __complete ids|supplements [-c FILE]`: not a command anyone types


def _complete_words(argv: Sequence[str]) -> int:
    """For the completion scripts: today's reminder ids (`ids`) or the supplement ids
    (`supplements`), one a line; nothing, and exit 0, without a usable configuration."""
    given = next((argv[i + 1] for i in range(len(argv) - 1) if argv[i] in ("-c", "--config")), None)
    kind = _first_word(argv[argv.index(COMPLETE) + 1 :])
    try:
        config = load_config(find_config(given, os.environ))
        if kind == "ids":
            today = dt.datetime.now(config.zone).date()
            words = [reminder.id for reminder in plan_days(config, today, 1, _records(config).reports)[0].reminders]
        else:
            words = [supplement.id for supplement in config.supplements] if kind == "supplements" else []
    except (ConfigNotFound, ConfigError, StateError, OSError):
        return EXIT_OK
    print("".join(f"{word}\n" for word in words), end="")
    return EXIT_OK


# `run` and `notify-test` import apprise and APScheduler: only here, so the commands above start fast.


def _run(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    from mgremind.daemon import run
    from mgremind.logs import setup_logging
    from mgremind.notify import ChannelError
    from mgremind.state import StateError

    secrets = setup_logging(_level(args))
    try:
        return run(args.config_file, config, os.environ, secrets)
    except ChannelError as error:
        print(f"mgremind: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StateError as error:
        print(f"mgremind: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _notify_test(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    from mgremind.logs import setup_logging
    from mgremind.notify import ChannelError, NoChannel, send_explained, setup_channels

    secrets = setup_logging(max(_level(args), 30))  # warnings and errors only: the results are printed
    try:
        setup = setup_channels(config, os.environ, secrets)
    except ChannelError as error:
        print(f"mgremind: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILURE if isinstance(error, NoChannel) else EXIT_BAD_INPUT  # no channel: nothing reached
    title = f"{config.notify.title}: test"
    body = f"mgremind {__version__} can reach this channel ({now.strftime('%Y-%m-%d %H:%M %Z')})."
    tested = [("", channel) for channel in setup.channels] + [("caregiver  ", c) for c in setup.caregivers]
    failed = 0
    for role, channel in tested:
        problem = send_explained(channel, title, body, setup.secrets)
        failed += problem is not None
        outcome = f"  ({printable(problem)})" if problem else ""
        print(f"{'ok    ' if problem is None else 'FAILED'}  {role}{channel.label}{outcome}")
    print(f"{len(tested) - failed} of {len(tested)} channel(s) reached")
    return EXIT_FAILURE if failed else EXIT_OK


def _level(args: argparse.Namespace) -> int:
    import logging

    return int(getattr(logging, str(args.log_level).upper()))


def _install_service(config_file: Path | None, args: argparse.Namespace) -> int:
    from mgremind.systemd import (
        exec_start,
        next_steps,
        render_unit,
        runtime_paths,
        unit_path,
        unreachable_lines,
        unstartable,
    )

    reads = runtime_paths(sys.executable, [sys.prefix, sys.base_prefix])
    unit = render_unit(args.user, exec_start(sys.argv[0], sys.executable, config_file), reads)
    # A unit whose service could not reach its program, interpreter or configuration (a 0700 home
    # on the way, a private /tmp) is refused; --print still shows it, with the same lines as warnings.
    problems = unreachable_lines(unstartable(unit, sys.argv[0], sys.executable, config_file), args.user)
    if args.print:
        print("".join(f"mgremind: warning: {line}\n" for line in problems), end="", file=sys.stderr)
        print(unit, end="")
        return EXIT_OK
    if problems:
        print("".join(f"mgremind: no unit written: {line}\n" for line in problems), end="", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = args.output or unit_path(args.user, os.environ)
    try:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == unit:
            print(f"{path} is up to date.")
        elif current is not None and not args.force:
            print(
                f"mgremind: {path} exists and differs from the unit of this installation; "
                "--print shows the new one, --force replaces the old one",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.new")
            temporary.write_text(unit, encoding="utf-8")
            temporary.chmod(0o644)
            temporary.replace(path)  # atomic: systemd never reads half a unit
            print(f"Wrote {path}.")
    except OSError as error:
        hint = "" if args.user else " (a system unit needs root: sudo, or --user for a user service)"
        print(f"mgremind: cannot write {path}: {error.strerror or error}{hint}", file=sys.stderr)
        return EXIT_FAILURE
    program = exec_start(sys.argv[0], sys.executable, None).removesuffix(" run")
    print(next_steps(args.user, path, program, config_file.resolve() if config_file else None), end="")
    return EXIT_OK


# ---------------------------------------------------------------------------- status (SPEC §3 v2)

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
    daemon = daemon_line(holder.running, holder.pid, path.parent)
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
