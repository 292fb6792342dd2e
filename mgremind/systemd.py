"""systemd's notify protocol (sd_notify(3)): READY, STATUS, WATCHDOG, RELOADING, STOPPING.

Stdlib only: a datagram to $NOTIFY_SOCKET. Outside systemd (no socket) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

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


def exec_start(argv0: str, executable: str, config: Path | None) -> str:
    """The command that starts this installation: its console script, else `python -m mgremind`."""
    # absolute(), not resolve(): a virtualenv's python is a symlink out of the virtualenv, and
    # the interpreter it points at would not find mgremind.
    script = Path(argv0)
    if script.name == "mgremind" and script.is_file():
        command = [str(script.absolute())]
    else:
        command = [str(Path(executable).absolute()), "-m", "mgremind"]
    if config is not None:
        command += ["-c", str(config.resolve())]
    return " ".join(_quote(part) for part in [*command, "run"])


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
        paths += [os.path.realpath(path) for path in reads]
        in_home = any(path.startswith(_HOME_PREFIXES) for path in paths)
        text = text.replace("@PROTECT_HOME@", "read-only" if in_home else "yes")
    return text


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
