"""The plan as an iCalendar file (RFC 5545): one event with a display alarm per reminder.

Pure: plans in, bytes out. Times are written in the configured zone with its VTIMEZONE, so
a calendar program shows them at the planner's instants, DST days included; the UID of each
event is the reminder id, so a later export of the same days updates rather than duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import icalendar

from mgremind import __version__
from mgremind.config import Config
from mgremind.plan import DayPlan
from mgremind.render import notification

EVENT_LENGTH = dt.timedelta(minutes=5)


def calendar(config: Config, days: Sequence[DayPlan], now: dt.datetime) -> bytes:
    document = icalendar.Calendar()
    document.add("prodid", f"-//mgremind//mgremind {__version__}//EN")
    document.add("version", "2.0")
    document.add("calscale", "GREGORIAN")
    document.add("x-wr-calname", config.notify.title)
    document.add("x-wr-timezone", config.timezone)
    stamp = now.astimezone(dt.timezone.utc)
    for day in days:
        for reminder in day.reminders:
            title, body = notification(config, reminder)
            event = icalendar.Event()
            event.add("uid", reminder.id)
            event.add("dtstamp", stamp)
            event.add("dtstart", reminder.at)
            event.add("dtend", (reminder.instant + EVENT_LENGTH).astimezone(config.zone))
            event.add("summary", title)
            event.add("description", body)
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", title)
            alarm.add("trigger", dt.timedelta(0))
            event.add_component(alarm)
            document.add_component(event)
    document.add_missing_timezones()
    return bytes(document.to_ical())
