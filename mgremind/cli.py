"""The command line (SPEC §3): parses arguments, reads the clock and the config, prints.

No domain logic here. Exit status: 0 success, 1 runtime failure, 2 bad usage or bad
configuration. Nothing here may import apprise or APScheduler: `check`, `plan` and
`next` must start as fast as a bare interpreter, give or take.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mgremind import __version__
from mgremind.config import Config, ConfigError, ConfigNotFound, exposed_secret_files, find_config, load_config
from mgremind.logs import LEVELS
from mgremind.plan import plan_days, upcoming
from mgremind.render import check_summary, plan_json, plan_table, upcoming_json, upcoming_table

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" is not a date (YYYY-MM-DD)') from None


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


def build_parser() -> argparse.ArgumentParser:
    # -c works before or after the command: both spellings are common in service files.
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="configuration file (default: $MGREMIND_CONFIG, "
        "$CONFIGURATION_DIRECTORY/config.toml, ~/.config/mgremind/config.toml, "
        "/etc/mgremind/config.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="mgremind",
        parents=[config_option],
        description="Reminders for a magnesium dosing plan written in one TOML file.",
    )
    parser.add_argument("--version", action="version", version=f"mgremind {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser("check", parents=[config_option], help="validate the configuration and summarise the plan")

    plan = commands.add_parser("plan", parents=[config_option], help="the reminders of N days from a date")
    plan.add_argument("--from", dest="start", type=_date, metavar="DATE", help="first day (default: today)")
    plan.add_argument("--days", type=_count(3660), default=1, metavar="N", help="number of days (default 1)")
    plan.add_argument("--json", action="store_true", help="print JSON (SPEC §3) instead of a table")

    upcoming = commands.add_parser("next", parents=[config_option], help="the next N reminders from now")
    upcoming.add_argument("--count", type=_count(1000), default=5, metavar="N", help="how many (default 5)")
    upcoming.add_argument("--json", action="store_true", help="print JSON instead of a table")

    logging_option = argparse.ArgumentParser(add_help=False)
    logging_option.add_argument("--log-level", choices=LEVELS, default="info", help="least important events logged")
    commands.add_parser(
        "run", parents=[config_option, logging_option], help="the daemon, in the foreground (what systemd starts)"
    )
    commands.add_parser(
        "notify-test",
        parents=[config_option, logging_option],
        help="send one test notification to every channel, report each",
    )

    install = commands.add_parser(
        "install-service", parents=[config_option], help="write a systemd unit for this installation"
    )
    install.add_argument("--user", action="store_true", help="a user service (systemctl --user), not a system one")
    install.add_argument("--print", action="store_true", help="print the unit instead of writing it")
    install.add_argument("--force", action="store_true", help="replace a unit that differs from this one")
    install.add_argument("--output", metavar="FILE", type=Path, help="write here instead of systemd's unit directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "install-service" and not getattr(args, "config", None):
        return _install_service(None, args)  # the unit may come before the configuration
    try:
        args.config_file = find_config(getattr(args, "config", None), os.environ)
        config = load_config(args.config_file)
    except ConfigNotFound as missing:
        tried = "\n".join(f"  {path}" for path in missing.tried)
        print(
            f"mgremind: no configuration found; tried:\n{tried}\nGive one with -c FILE (see config.example.toml).",
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
    handler = {"check": _check, "plan": _plan, "next": _next, "run": _run, "notify-test": _notify_test}[args.command]
    try:
        return handler(config, args, now)
    except BrokenPipeError:  # `mgremind plan --days 365 | head`
        sys.stderr.close()
        return EXIT_OK


def _check(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    exposed = exposed_secret_files(config, os.environ)
    print(check_summary(config, plan_days(config, now.date(), 7), exposed), end="")
    return EXIT_OK


def _plan(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    days = plan_days(config, args.start or now.date(), args.days)
    if args.json:
        print(json.dumps(plan_json(config, days), indent=2, ensure_ascii=False))
    else:
        print(plan_table(config, days), end="")
    return EXIT_OK


def _next(config: Config, args: argparse.Namespace, now: dt.datetime) -> int:
    reminders = upcoming(config, now, args.count)
    if args.json:
        print(json.dumps(upcoming_json(config, reminders), indent=2, ensure_ascii=False))
    else:
        print(upcoming_table(config, reminders), end="")
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
    from mgremind.notify import (
        ChannelError,
        channel_secrets,
        configured_urls,
        load_channels,
        secret_fragments,
        send_safely,
    )

    secrets = setup_logging(max(_level(args), logging.WARNING))
    try:
        secrets.fragments = secret_fragments(configured_urls(config, os.environ))
        channels = load_channels(config, os.environ)
        secrets.fragments = sorted({*secrets.fragments, *channel_secrets(channels)}, key=len, reverse=True)
    except ChannelError as error:
        print(f"mgremind: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    title = f"{config.notify.title}: test"
    body = f"mgremind {__version__} can reach this channel ({now.strftime('%Y-%m-%d %H:%M %Z')})."
    failed = 0
    for channel in channels:
        problem = send_safely(channel, title, body)
        failed += problem is not None
        print(f"{'ok    ' if problem is None else 'FAILED'}  {channel.label}" + (f"  ({problem})" if problem else ""))
    print(f"{len(channels) - failed} of {len(channels)} channel(s) reached")
    return EXIT_FAILURE if failed else EXIT_OK


def _level(args: argparse.Namespace) -> int:
    return int(getattr(logging, str(args.log_level).upper()))


def _install_service(config_file: Path | None, args: argparse.Namespace) -> int:
    from mgremind.systemd import exec_start, next_steps, render_unit, unit_path

    unit = render_unit(args.user, exec_start(sys.argv[0], sys.executable, config_file))
    if args.print:
        print(unit, end="")
        return EXIT_OK
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
    print(next_steps(args.user, path, exec_start(sys.argv[0], sys.executable, None).removesuffix(" run")), end="")
    return EXIT_OK
