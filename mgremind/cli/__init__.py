"""The command line (SPEC §3): parses arguments, reads the clock and the config, runs one command.

No domain logic here: each command is a few lines in plans.py (check, plan, next, export),
records.py (taken, skip, undo, report, stock, history, status), setup.py (run, notify-test,
install-service, init) or completion.py. Exit status: 0 success, 1 runtime failure, 2 bad
usage or bad configuration. Nothing on the path of check, plan and next imports apprise or
APScheduler: they must start fast.
"""

import datetime as dt
import os
import sys
from collections.abc import Sequence

from mgremind.cli.arguments import (
    COMMANDS,
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    EXIT_OK,
    WITHOUT_CONFIG,
    _example,
    _first_word,
    _no_such_command,
    _requested_command,
    build_parser,
)
from mgremind.cli.completion import COMPLETE, _complete_words, _completion
from mgremind.cli.plans import _check, _export, _next, _plan
from mgremind.cli.records import _acknowledge, _history, _report, _status, _stock, _undo
from mgremind.cli.setup import _init, _install_service, _notify_test, _run
from mgremind.config.paths import ConfigNotFound, find_config
from mgremind.loader import load_config
from mgremind.model import ConfigError, StateError, printable

__all__ = ["COMMANDS", "main"]


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
