"""The command line's words: the commands, their arguments, the parser and its messages."""

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mgremind import __version__
from mgremind.model import FIRST_YEAR, LAST_YEAR, printable
from mgremind.titration import SYMPTOMS

if TYPE_CHECKING:
    pass


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
    return Path(__file__).parent.parent / "config.example.toml"
