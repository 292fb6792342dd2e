"""mgremind: reminders for a magnesium dosing plan, written in one TOML file."""

__version__ = "0.1.0"
