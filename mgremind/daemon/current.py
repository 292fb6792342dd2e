"""The setup in force: the configuration and the channels made from it, replaced whole by a reload.

SIGHUP reloads in the main thread while deliveries run in APScheduler's worker threads. A
`Setup` is immutable and swapped as one reference, so a delivery takes it once and keeps it
to the end: it never sends a text made from the old configuration to the new channels, nor
the other way round. A reload that fails leaves the old setup in force.
"""

from __future__ import annotations

from typing import NamedTuple

from mgremind.model import Config
from mgremind.notify import Channel


class Setup(NamedTuple):
    config: Config
    channels: tuple[Channel, ...]
    caregivers: tuple[Channel, ...] = ()  # told about missed doses, never reminded


class Current:
    """The one `Setup` in force, shared by the parts; reading or replacing it is one step."""

    def __init__(self, setup: Setup) -> None:
        self._setup = setup

    def get(self) -> Setup:
        return self._setup

    def replace(self, setup: Setup) -> None:
        self._setup = setup
