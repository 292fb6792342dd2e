"""systemd's notify protocol (sd_notify(3)): READY, STATUS, WATCHDOG, RELOADING, STOPPING.

Stdlib only: a datagram to $NOTIFY_SOCKET. Outside systemd (no socket) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shlex
import socket
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger("mgremind")


class Notifier:
    def __init__(self, environ: Mapping[str, str]) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        # "@name" is an abstract socket: its name starts with a NUL byte.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._socket: socket.socket | None = None
        if self._address:
            # Non-blocking: a reader that falls behind must cost a status line, never stall the
            # main loop (and with it SIGTERM) on a full socket queue.
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
        self.watchdog_interval = _watchdog_interval(environ)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, *fields: str) -> None:
        if self._socket is None:
            return
        message = "\n".join(fields).encode()
        try:
            self._socket.sendto(message, self._address)
        except OSError as error:  # systemd gone or socket unwritable: keep reminding regardless
            log.warning("cannot notify systemd: %s", error.strerror or error)

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def reloading(self) -> None:
        # MONOTONIC_USEC lets systemd order this against the READY=1 that ends the reload.
        self.send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Seconds between WATCHDOG=1 pings: half of $WATCHDOG_USEC, if it is meant for this process."""
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2 / 1_000_000


# ---------------------------------------------------------------------------- unit files

SYSTEM_UNIT = "mgremind.service"
USER_UNIT = "mgremind-user.service"
# Paths a system service cannot see with ProtectHome=yes.
_HOME_PREFIXES = ("/home/", "/root/", "/run/user/")


def unit_template(user: bool) -> str:
    from importlib.resources import files

    return (files("mgremind") / "units" / (USER_UNIT if user else SYSTEM_UNIT)).read_text(encoding="utf-8")


def exec_argv(argv0: str, executable: str, config: Path | None) -> list[str]:
    """The words of the command that starts this installation: its console script, else
    `python -m mgremind`; `-c CONFIG` (absolute) when given; then `run`."""
    # absolute(), not resolve(): a virtualenv's python is a symlink out of the virtualenv, and
    # the interpreter it points at would not find mgremind.
    script = Path(argv0)
    if script.name == "mgremind" and script.is_file():
        command = [str(script.absolute())]
    else:
        command = [str(Path(executable).absolute()), "-m", "mgremind"]
    if config is not None:
        command += ["-c", str(config.resolve())]
    return [*command, "run"]


def exec_start(argv0: str, executable: str, config: Path | None) -> str:
    """ExecStart= for this installation (see exec_argv), quoted for systemd."""
    return " ".join(_quote(part) for part in exec_argv(argv0, executable, config))


def runtime_paths(executable: str, prefixes: Sequence[str]) -> list[Path]:
    """What the service reads besides its command line: the real interpreter and the Python
    installations (a pyenv interpreter under /root, say, behind a virtualenv in /opt)."""
    return [Path(os.path.realpath(executable)), *(Path(prefix) for prefix in prefixes)]


def _quote(part: str) -> str:
    """systemd's quoting for one ExecStart= word (systemd.service(5), "Command lines")."""
    if part and not any(char in part for char in " \t\"'\\;$%"):
        return part
    escaped = part.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$").replace("%", "%%")
    return f'"{escaped}"'


def render_unit(user: bool, command: str, reads: Sequence[Path] = ()) -> str:
    """The unit file for this installation. A system service whose program, interpreter or
    configuration lives under a home directory needs to read it there: ProtectHome=read-only."""
    text = unit_template(user).replace("@EXEC_START@", command)
    if not user:
        paths = [word for word in shlex.split(command) if word.startswith("/")]
        # What the words point at, too: /usr/local/bin/mgremind may link into a home directory.
        paths += [os.path.realpath(path) for path in [*paths, *map(str, reads)]]
        in_home = any(path.startswith(_HOME_PREFIXES) for path in paths)
        text = text.replace("@PROTECT_HOME@", "read-only" if in_home else "yes")
    return text


# ---------------------------------------------------------------------------- can its user start it? (issue 11)

Mode = Callable[[str], "int | None"]
"""A path's st_mode, symlinks followed (os.stat's), or None where there is nothing to stat."""

# The directories a private /tmp replaces (systemd.exec(5), PrivateTmp=).
_TMP_DIRECTORIES = ("/tmp", "/var/tmp")
_HOME_DIRECTORIES = ("/home", "/root", "/run/user")
_NO = ("no", "false", "off", "0", "")


class Sandbox(NamedTuple):
    """What a unit lets its service see and enter, read from the unit's own settings."""

    anyone: bool  # DynamicUser=yes: an arbitrary uid, in no group of the files: only "others" bits count
    hidden: tuple[tuple[str, str], ...] = ()  # (directory, the setting that hides it from the service)


class Unreachable(NamedTuple):
    """A file the service needs that it cannot reach."""

    what: str  # "program", "interpreter", "configuration"
    named: str  # the path as the unit (or the installation) names it
    path: str  # the path on the way to it that is out of reach: `named`, a link it leads through, or its target
    directory: str  # the directory the service cannot enter, or the one hidden from it
    reason: str  # "mode 0700", or the setting that hides the directory: "PrivateTmp=yes"

    @property
    def hidden(self) -> bool:
        return not self.reason.startswith("mode ")


def sandbox(unit: str) -> Sandbox:
    """The service's view, from the unit: DynamicUser= (which implies PrivateTmp=), PrivateTmp=, ProtectHome=."""
    settings: dict[str, str] = {}
    for line in unit.splitlines():
        key, equals, value = line.partition("=")
        if equals and not line.startswith(("#", ";")):
            settings[key.strip()] = value.strip()  # the last one counts
    anyone = settings.get("DynamicUser", "").lower() not in _NO
    hidden: list[tuple[str, str]] = []
    private_tmp = settings.get("PrivateTmp", "")
    if private_tmp.lower() not in _NO:
        hidden += [(directory, f"PrivateTmp={private_tmp}") for directory in _TMP_DIRECTORIES]
    elif anyone:
        hidden += [(directory, "DynamicUser=yes") for directory in _TMP_DIRECTORIES]
    protect_home = settings.get("ProtectHome", "")
    if protect_home.lower() not in (*_NO, "read-only"):  # yes, tmpfs: hidden or empty
        hidden += [(directory, f"ProtectHome={protect_home}") for directory in _HOME_DIRECTORIES]
    return Sandbox(anyone, tuple(hidden))


def unreachable(view: Sandbox, needed: Sequence[tuple[str, Sequence[str]]], mode: Mode) -> list[Unreachable]:
    """The files the service cannot reach, at most one problem a file. `needed`: (what, paths), the
    paths being the one the unit names, each symlink it leads through, and where it ends (all must
    be reachable: the kernel walks each of them). A missing path is not this check's to report."""
    found: list[Unreachable] = []
    for what, paths in needed:
        for path in paths:
            problem = _out_of_reach(view, path, mode)
            if problem is not None:
                directory, reason = problem
                found.append(Unreachable(what, paths[0], path, directory, reason))
                break
    return found


def _out_of_reach(view: Sandbox, path: str, mode: Mode) -> tuple[str, str] | None:
    clean = posixpath.normpath(path)
    for directory, setting in view.hidden:
        if clean == directory or clean.startswith(directory + "/"):
            return directory, setting
    if view.anyone:
        parents = [str(parent) for parent in reversed(Path(clean).parents)]
        for directory in parents:  # from / down: the first one it cannot enter is the one to name
            status = mode(directory)
            if status is not None and stat.S_ISDIR(status) and not status & stat.S_IXOTH:
                return directory, f"mode {stat.S_IMODE(status):04o}"
    return None


def needed_paths(argv0: str, executable: str, config: Path | None) -> list[tuple[str, list[str]]]:
    """What ExecStart= needs, each with the symlinks it leads through and its real path: the
    program, the interpreter that runs it (a virtualenv's python links to the real one), the
    configuration."""
    words = exec_argv(argv0, executable, config)
    if words[1:3] == ["-m", "mgremind"]:
        needed = [("interpreter", followed(words[0]))]
    else:
        needed = [("program", followed(words[0])), ("interpreter", followed(str(Path(executable).absolute())))]
    if "-c" in words:
        needed.append(("configuration", followed(words[words.index("-c") + 1])))
    return needed


def followed(path: str) -> list[str]:
    """The path, each symlink its last component leads through, and its real path."""
    chain = [path]
    for _ in range(40):  # the kernel's limit (ELOOP)
        try:
            target = os.readlink(chain[-1])
        except OSError:  # not a link (or not there)
            break
        chain.append(os.path.join(os.path.dirname(chain[-1]), target))
    chain.append(os.path.realpath(path))
    return list(dict.fromkeys(chain))


def file_mode(path: str) -> int | None:
    try:
        return os.stat(path).st_mode
    except OSError:
        return None


def unstartable(unit: str, argv0: str, executable: str, config: Path | None) -> list[Unreachable]:
    """What the unit's service could not reach of this installation (the real files' modes)."""
    return unreachable(sandbox(unit), needed_paths(argv0, executable, config), file_mode)


# How to install mgremind where a system service can run it (README, "Run as a service").
GLOBAL_INSTALL = "sudo pipx install --global --python /usr/bin/python3 ."


def unreachable_lines(problems: Sequence[Unreachable], user: bool) -> list[str]:
    """One line for each directory out of reach: which files the service could not reach there,
    why, and the fix (the program and its interpreter in one virtualenv share a line)."""
    groups: dict[tuple[str, str, bool], list[Unreachable]] = {}
    for problem in problems:
        groups.setdefault((problem.directory, problem.reason, problem.what == "configuration"), []).append(problem)
    return [_unreachable_text(group, user) for group in groups.values()]


def _unreachable_text(problems: Sequence[Unreachable], user: bool) -> str:
    first = problems[0]
    service = "user service" if user else "system service"
    files = " and ".join(
        f"its {p.what} {p.named}" + (f" (a link to {p.path})" if p.path != p.named else "") for p in problems
    )
    it = "it is" if len(problems) == 1 else "they are"
    if first.hidden:
        why = f"{it} under {first.directory}, which the service does not see ({first.reason})"
    else:
        why = f"{it} inside {first.directory} ({first.reason}), which the service's dynamic user cannot enter"
    if first.what == "configuration":
        target = "~/.config/mgremind/config.toml" if user else "/etc/mgremind/config.toml"
        copy = f"{'' if user else 'sudo '}install -D -m 644 {shlex.quote(first.named)} {target}"
        fix = f"install it as {target} ({copy}) and run install-service without -c"
    elif user:
        fix = "install mgremind elsewhere (pipx install . in the checkout) and run install-service from there"
    else:
        fix = (
            f"install mgremind where any user can run it ({GLOBAL_INSTALL} in the checkout; see the README, "
            '"Run as a service") and run `sudo mgremind install-service` from there, or use --user'
        )
    return f"the {service} could not start: {files}: {why}; {fix}"


def unit_path(user: bool, environ: Mapping[str, str]) -> Path:
    if not user:
        return Path("/etc/systemd/system/mgremind.service")
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    return Path(config_home) / "systemd" / "user" / "mgremind.service"


def next_steps(user: bool, path: Path, program: str, config: Path | None = None) -> str:
    """What to do after the unit is written: copy-pasteable commands, for the configuration
    the unit reads (the one given to install-service, else the one systemd's directories hold)."""
    sudo = "" if user else "sudo "
    if config is not None:
        prepare = f"  {sudo}{program} -c {shlex.quote(str(config))} check"
    elif user:
        prepare = (
            "  mkdir -p ~/.config/mgremind && cp config.example.toml ~/.config/mgremind/config.toml   # then edit it\n"
            f"  {program} check"
        )
    else:
        prepare = (
            "  sudo install -d -m 755 /etc/mgremind\n"
            "  sudo install -m 644 config.example.toml /etc/mgremind/config.toml   # then edit it\n"
            f"  sudo {program} -c /etc/mgremind/config.toml check"
        )
    if user:
        return f"""Next:
{prepare}
  systemctl --user daemon-reload
  systemctl --user enable --now mgremind
  loginctl enable-linger "$USER"     # reminders also while you are logged out
  systemctl --user status mgremind   # the STATUS line names the next reminder
  journalctl --user -u mgremind -f
Secrets: put notification URLs in ~/.config/mgremind/secret-urls.txt (chmod 600) and set
urls_file = "secret-urls.txt" in config.toml.
"""
    return f"""Next:
{prepare}
  sudo systemctl daemon-reload
  sudo systemctl enable --now mgremind
  systemctl status mgremind          # the STATUS line names the next reminder
  journalctl -u mgremind -f
Secrets: put notification URLs in /etc/mgremind/secret-urls.txt (sudo chmod 600), set
urls_file = "secret-urls.txt" in config.toml, and uncomment LoadCredential= in {path}.
"""
