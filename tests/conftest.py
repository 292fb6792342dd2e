"""Shared test helpers: configurations from TOML text, the installed console script."""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from pathlib import Path

import pytest

from mgremind.config.files import parse_toml
from mgremind.loader import parse_config
from mgremind.model import Config

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"
MGREMIND = Path(sys.executable).parent / "mgremind"  # the console script installed beside this interpreter


def config_from(text: str, *, source: str = "config.toml", zone: str = "UTC") -> Config:
    """A validated Config from TOML text (dedented); `zone` stands for the system's zone."""
    return parse_config(parse_toml(textwrap.dedent(text), source), source, Path("/nonexistent"), zone)


@pytest.fixture
def example_config() -> Config:
    return config_from(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE))


def monday(year: int = 2026, month: int = 11, day: int = 23) -> dt.date:
    """A Monday (2026-11-23 by default), for tests that care about the weekday."""
    date = dt.date(year, month, day)
    assert date.weekday() == 0
    return date


# One file, five different mistakes: each must be reported, all at once (SPEC §2).
FIVE_MISTAKES = """timezone = "Mars/Olympus"

[reminders]
led = "5m"

[[meal]]
name = "breakfast"
time = "08:00"

[[meal]]
name = "dinner"
time = "7:75"

[[supplement]]
id = "vitd"
nutrient = "vitamin D"
unit = "capsule"
with = ["dinnr"]
units = 1

[[supplement]]
id = "citrate"
nutrient = "magnesium"
unit = "capsule"
mg_per_unit = 50

[magnesium]
daily_mg = "lots"
"""
