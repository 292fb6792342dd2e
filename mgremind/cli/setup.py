"""The commands that set mgremind up and run it: run, notify-test, install-service, init.

`run` and `notify-test` import apprise and APScheduler: only here, so the other commands start fast.
"""

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mgremind import __version__
from mgremind.cli.arguments import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, _example
from mgremind.config.paths import ConfigNotFound, find_config
from mgremind.model import Config, printable
from mgremind.render import (
    init_next_steps,
)

if TYPE_CHECKING:
    pass


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
