"""The plan file, checked all the way: read (config.files), each table and the cross-checks
(config.document), then what only the planner can see (plan.plan_problems).

It stands above both the config package and the planner, so neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mgremind.config.document import read_document
from mgremind.config.files import parse_toml, read_config_text
from mgremind.config.paths import local_zone_name
from mgremind.model import Config, ConfigError
from mgremind.plan import plan_problems

# The planner's checks need a sound model of what it plans: an error in one of these
# sections keeps them from running (they would report its consequences, not its cause).
_PLANNER_INPUTS = frozenset({"", "timezone", "meal", "supplement", "magnesium", "titration", "keep_apart"})


def parse_config(data: Mapping[str, Any], source: str, base_dir: Path, local_zone: str) -> Config:
    """A parsed TOML document → a validated Config, or ConfigError with every problem found."""
    config, errors = read_document(data, source, base_dir, local_zone)
    if not any(_section(problem.key) in _PLANNER_INPUTS for problem in errors):
        errors += plan_problems(config)
    if errors:
        raise ConfigError(source, errors)
    return config


def load_config(path: Path, local_zone: str | None = None) -> Config:
    """Read, parse and validate one configuration file."""
    source = str(path)
    data = parse_toml(read_config_text(path), source)
    return parse_config(data, source, path.parent, local_zone or local_zone_name())


def _section(key: str) -> str:
    """ "meal[1].time" → "meal", "notify.urls[0]" → "notify"."""
    return re.split(r"[.\[]", key, maxsplit=1)[0]
