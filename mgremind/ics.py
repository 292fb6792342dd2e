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
from mgremind.model import Config, DayPlan
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
            # A wall time that occurs twice reads as its first occurrence (RFC 5545): the second
            # one is written in UTC to keep its instant.
            start = reminder.instant if reminder.at.fold else reminder.at
            end = (reminder.instant + EVENT_LENGTH).astimezone(config.zone)
            event.add("dtstart", start)
            event.add("dtend", end.astimezone(dt.timezone.utc) if end.fold or reminder.at.fold else end)
            event.add("summary", title)
            event.add("description", body)
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", title)
            alarm.add("trigger", dt.timedelta(0))
            event.add_component(alarm)
            document.add_component(event)
    if days:  # the zone's rules for the days exported (the default range ends in 2038)
        document.add_missing_timezones(days[0].date - dt.timedelta(days=1), days[-1].date + dt.timedelta(days=2))
    return bytes(document.to_ical())
