"""Where things are looked for: the plan file (SPEC §3), the state, the system's zone."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path


def local_zone_name() -> str:
    """The system's IANA zone: $TZ, then /etc/localtime, then /etc/timezone, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and not tz.startswith("/"):
        return tz
    try:
        target = os.path.realpath(tz or "/etc/localtime")
        if "/zoneinfo/" in target:
            return target.split("/zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        return Path("/etc/timezone").read_text(encoding="utf-8").strip() or "UTC"
    except OSError:
        return "UTC"


class ConfigNotFound(Exception):
    """No configuration file anywhere it is looked for."""

    def __init__(self, tried: Sequence[Path]) -> None:
        self.tried = tuple(tried)
        super().__init__("no configuration found; tried: " + ", ".join(map(str, tried)))


def config_candidates(environ: Mapping[str, str]) -> list[Path]:
    """Where a configuration is looked for when no -c is given, in order (SPEC §3)."""
    if environ.get("MGREMIND_CONFIG"):
        return [Path(environ["MGREMIND_CONFIG"])]
    candidates = []
    if environ.get("CONFIGURATION_DIRECTORY"):
        # systemd may pass several directories separated by ":"; the first is ours.
        candidates.append(Path(environ["CONFIGURATION_DIRECTORY"].split(":")[0]) / "config.toml")
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    candidates.append(Path(xdg) / "mgremind" / "config.toml")
    candidates.append(Path("/etc/mgremind/config.toml"))
    return candidates


# The shipped system unit (mgremind/units/mgremind.service): ConfigurationDirectory=mgremind and
# StateDirectory=mgremind, i.e. this configuration and this state (under DynamicUser=, a link into
# /var/lib/private). systemd tells the daemon with $STATE_DIRECTORY; `sudo mgremind taken` is told
# nothing, so the configuration it uses says which daemon's state it means.
SYSTEM_CONFIG = Path("/etc/mgremind/config.toml")
SYSTEM_STATE = Path("/var/lib/mgremind")


def state_directory(environ: Mapping[str, str], config: Path | None = None) -> Path:
    """$STATE_DIRECTORY (systemd), else the system service's /var/lib/mgremind when `config` (the
    configuration in use, absolute) is the system one, else $XDG_STATE_HOME/mgremind, else
    ~/.local/state/mgremind. Decided from the names only: nothing is looked up on disk."""
    if environ.get("STATE_DIRECTORY"):
        return Path(environ["STATE_DIRECTORY"].split(":")[0])
    if config is not None and os.path.normpath(config) == str(SYSTEM_CONFIG):
        return SYSTEM_STATE
    base = environ.get("XDG_STATE_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".local" / "state")
    return Path(base) / "mgremind"


def state_file(environ: Mapping[str, str], config: Path | None = None) -> Path:
    """The SQLite file the daemon and the commands share (`config`: see state_directory)."""
    return state_directory(environ, config) / "state.sqlite3"


def find_config(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """The configuration file to use: -c, else $MGREMIND_CONFIG, else the first that exists."""
    if explicit:
        return Path(explicit)
    candidates = config_candidates(environ)
    if environ.get("MGREMIND_CONFIG"):
        return candidates[0]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise ConfigNotFound(candidates)
