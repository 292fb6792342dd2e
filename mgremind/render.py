"""Plans → what people and programs read: tables, JSON (SPEC §3), notification text.

Pure: every function takes the plan and returns text or plain data. Apprise URLs are
shown only through `redact_url`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mgremind import __version__, reference
from mgremind.history import DayHistory, Supply
from mgremind.model import (
    WEEKDAYS,
    Config,
    DayPlan,
    Item,
    KeepApart,
    Meal,
    Problem,
    Reminder,
    Supplement,
    format_duration,
)
from mgremind.reference import window_text

if TYPE_CHECKING:
    from mgremind.state import ChannelResult, Report, StockCount

# Units written the same in the plural.
_INVARIANT_UNITS = frozenset({"ml", "mg", "g", "l", "iu", "mcg", "µg", "ug", "tsp", "tbsp"})


def number(value: float) -> int | float:
    """84.0 → 84, 0.5 → 0.5: whole amounts print without a fraction."""
    return int(value) if float(value).is_integer() else value


def amount(units: float, unit: str) -> str:
    """1 tablet, 2 tablets, 0.5 tablet, 5 ml; a liquid's unit written in the plural reads in the
    singular for one unit or less (1 teaspoon, of "teaspoons")."""
    if units <= 1 and unit.endswith("s") and reference.is_liquid_unit(unit[:-1]):
        return f"{number(units):g} {unit[:-1]}"
    plural = units > 1 and unit.lower() not in _INVARIANT_UNITS and not unit.endswith("s") and unit[-1:].isalpha()
    return f"{number(units):g} {unit}{'s' if plural else ''}"


def item_text(item: Item) -> str:
    """ "Mag-Tab SR: 1 tablet (84 mg)"."""
    mg = f" ({number(item.mg):g} mg)" if item.mg is not None else ""
    return f"{item.supplement.name}: {amount(item.units, item.supplement.unit)}{mg}"


def clock(at: dt.datetime) -> str:
    return at.strftime("%H:%M:%S" if at.second else "%H:%M")


def redact_url(url: str) -> str:
    """An apprise URL with everything after the scheme hidden: hosts, tokens and passwords alike."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return f"{match.group(1)}://***" if match else "***"


# ---------------------------------------------------------------------------- JSON


def item_json(item: Item) -> dict[str, Any]:
    supplement = item.supplement
    data: dict[str, Any] = {
        "supplement": supplement.id,
        "name": supplement.name,
        "nutrient": supplement.nutrient,
        "release": supplement.release,
        "units": number(item.units),
        "unit": supplement.unit,
    }
    if item.mg is not None:
        data["mg"] = number(item.mg)
    return data


def reminder_json(reminder: Reminder) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "at": reminder.at.isoformat(),
        "meal": reminder.meal,
        "delayed": reminder.delayed,
        "magnesium_mg": number(reminder.magnesium_mg),
        "items": [item_json(item) for item in reminder.items],
        "notes": list(reminder.notes),
    }


def plan_json(config: Config, days: Sequence[DayPlan]) -> dict[str, Any]:
    """The `plan --json` object of SPEC §3."""
    return {
        "timezone": config.timezone,
        "days": [
            {
                "date": day.date.isoformat(),
                "magnesium_target_mg": number(day.magnesium_target_mg),
                "magnesium_mg": number(day.magnesium_mg),
                "calcium_mg": number(day.calcium_mg),
                "reminders": [reminder_json(reminder) for reminder in day.reminders],
                "warnings": list(day.warnings),
                "notes": list(day.notes),  # SPEC §2 v2: why the target is what it is, meals kept from magnesium
            }
            for day in days
        ],
    }


def upcoming_json(config: Config, reminders: Sequence[Reminder]) -> dict[str, Any]:
    return {"timezone": config.timezone, "reminders": [reminder_json(reminder) for reminder in reminders]}


# ---------------------------------------------------------------------------- tables


def _day_heading(day: DayPlan) -> str:
    totals = f"magnesium {number(day.magnesium_mg):g} of {number(day.magnesium_target_mg):g} mg"
    if day.calcium_mg:
        totals += f", calcium {number(day.calcium_mg):g} mg"
    return f"{day.date.strftime('%a')} {day.date.isoformat()}   {totals}"


def _reminder_rows(reminder: Reminder, with_date: bool = False) -> list[tuple[str, str, str, str, str]]:
    """(when, meal, supplement, amount, mg) rows: the first row names the reminder."""
    when = (reminder.at.strftime("%a %Y-%m-%d ") if with_date else "") + clock(reminder.at)
    meal = reminder.meal + (" (delayed)" if reminder.delayed else "")
    rows = []
    for index, item in enumerate(reminder.items):
        mg = f"{number(item.mg):g} mg" if item.mg is not None else ""
        first = index == 0
        rows.append(
            (
                when if first else "",
                meal if first else "",
                item.supplement.name,
                amount(item.units, item.supplement.unit),
                mg,
            )
        )
    return rows


def _table(rows: Sequence[tuple[str, ...]], indent: str = "  ", amounts_last: bool = False) -> list[str]:
    """Rows as aligned columns; with `amounts_last` the last column (mg) is right-aligned."""
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(len(rows[0]))] if rows else []
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if amounts_last and column == len(row) - 1 else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _reminder_block(reminders: Iterable[Reminder], with_date: bool = False) -> list[str]:
    """Reminders as aligned rows, each reminder's notes under it."""
    reminders = list(reminders)
    rows = [row for reminder in reminders for row in _reminder_rows(reminder, with_date)]
    lines = _table(rows, amounts_last=True)
    out: list[str] = []
    cursor = 0
    pad = len(lines[0]) - len(lines[0].lstrip()) if lines else 2
    indent = " " * pad + " " * (max((len(row[0]) for row in rows), default=0) + 2)
    for reminder in reminders:
        out.extend(lines[cursor : cursor + len(reminder.items)])
        cursor += len(reminder.items)
        out.extend(f"{indent}↳ {note}" for note in reminder.notes)
    return out


def plan_table(config: Config, days: Sequence[DayPlan]) -> str:
    """`plan` for a person: one block per day, a row per supplement, totals and warnings."""
    if not days:
        return ""
    span = days[0].date.isoformat() if len(days) == 1 else f"{days[0].date.isoformat()} to {days[-1].date.isoformat()}"
    lines = [f"Plan for {span} ({config.timezone})"]
    for day in days:
        lines.append("")
        lines.append(_day_heading(day))
        lines.extend(f"  {note}" for note in day.notes)  # the target's reason first, then meals kept from magnesium
        lines.extend(_reminder_block(day.reminders) or ["  no reminders"])
        lines.extend(f"  ! {warning}" for warning in day.warnings)
    return "\n".join(lines) + "\n"


def upcoming_table(config: Config, reminders: Sequence[Reminder]) -> str:
    if not reminders:
        return "No reminders ahead.\n"
    lines = [f"Next {len(reminders)} reminder{'s' if len(reminders) != 1 else ''} ({config.timezone})"]
    lines.extend(_reminder_block(reminders, with_date=True))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- check


def days_text(days: frozenset[int]) -> str:
    """{0..6} → "every day"; {0..4} → "mon–fri"; else "sat, sun"."""
    if days == frozenset(range(7)):
        return "every day"
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0]]}–{WEEKDAYS[ordered[-1]]}"
    return ", ".join(WEEKDAYS[day] for day in ordered)


def _meal_line(meal: Meal) -> tuple[str, str, str, str]:
    phytate = ""
    if meal.phytate_rich:
        phytate = "phytate-rich" + (f": {', '.join(meal.phytate_foods)}" if meal.phytate_foods else "")
    return (meal.name, clock(dt.datetime.combine(dt.date(2001, 1, 1), meal.time)), days_text(meal.days), phytate)


def _role(config: Config, supplement: Supplement) -> str:
    if supplement.is_fixed:
        meals = ", ".join(supplement.with_meals)
        return f"{amount(supplement.units or 0, supplement.unit)} with {meals}"
    if supplement is config.splitting_supplement:
        return f"small doses at each meal, {amount(supplement.step, supplement.unit)} a step"
    if supplement.is_slow_magnesium:
        return (
            f"slow release, {supplement.doses_per_day} × {amount(supplement.units_per_dose, supplement.unit)} "
            f"at least {format_duration(config.magnesium.slow_release_gap)} apart"
        )
    if supplement is config.paired_calcium:
        return f"paired with magnesium at {config.magnesium.calcium_ratio:g}:1"
    return ""


def _keep_apart_line(medicine: KeepApart) -> tuple[str, str, str, str, str]:
    if medicine.times:
        when = ", ".join(clock(dt.datetime.combine(dt.date(2001, 1, 1), time)) for time in medicine.times)
    elif medicine.with_meals:
        when = "with " + ", ".join(medicine.with_meals)
    else:
        when = f"with {medicine.supplement}"
    window = window_text(medicine.before, medicine.after, "it")  # the medicine is the row's first column
    reminded = "reminded" if medicine.remind else ""
    return (medicine.name, f"{when} {days_text(medicine.days)}", window, f"({medicine.source})", reminded)


def _strength(supplement: Supplement) -> str:
    """What a unit holds: "81 mg Mg per capsule", elemental mg of magnesium or calcium (SPEC §2 v2),
    after the compound's mg where the plan gives that: "500 mg magnesium citrate = 81 mg Mg per capsule"."""
    if supplement.mg_per_unit is None:
        return ""
    symbol = reference.ELEMENT_SYMBOLS.get(supplement.nutrient)
    held = f"{number(supplement.mg_per_unit):g} mg" + (f" {symbol}" if symbol else "")
    if supplement.compound_mg_per_unit is not None and supplement.form is not None:
        compound = f"{number(supplement.compound_mg_per_unit):g} mg {supplement.nutrient} {supplement.form.name}"
        held = f"{compound} = {held}"
    return f"{held} per {supplement.unit}"


def _forms_lines(config: Config) -> list[str]:
    """`check`: each known form of the plan once: the compound its elemental share is of (the
    hydrate assumed where the name leaves it open), the share, and its notes (SEED) but those a
    warning already says (magnesium oxide, liquid chloride): every note once (SPEC §2 v2)."""
    warned = " ".join(problem.message for problem in config.warnings)
    rows, seen = [], set()
    for supplement in config.supplements:
        form = supplement.form
        if form is None or (supplement.nutrient, form.name) in seen:
            continue
        seen.add((supplement.nutrient, form.name))
        notes = "; ".join(note for note in form.note.split("; ") if note and note not in warned)
        name = form.name if supplement.is_magnesium else f"{supplement.nutrient} {form.name}"
        rows.append((name, reference.form_text(supplement.nutrient, form), f"{notes} (SEED)" if notes else ""))
    if not rows:
        return []
    return ["", "Forms (the share of each compound that is the element; notes)", *_table(rows)]


def channels_text(config: Config) -> list[str]:
    notify = config.notify
    channels = [redact_url(url) for url in notify.urls]
    if notify.config:
        channels.append(f"apprise config {notify.config}")
    if notify.urls_file:
        channels.append(f"URLs from {notify.urls_file}")
    if notify.console:
        channels.append("console (standard output)")
    channels.extend(f"caregiver {redact_url(url)}" for url in notify.caregiver_urls)
    return channels


def check_summary(config: Config, week: Sequence[DayPlan], exposed: Sequence[Problem] = ()) -> str:
    """`check`: the plan on one screen: meals, supplements, the next days' totals, warnings."""
    magnesium = config.magnesium
    lines = [
        f"{config.source}: OK (mgremind {__version__})",
        "",
        f"Time zone    {config.timezone}",
        f"Channels     {'; '.join(channels_text(config)) or 'none'}",
        "",
        "Meals",
    ]
    lines.extend(_table([_meal_line(meal) for meal in sorted(config.meals, key=lambda m: (m.time, m.name))]))
    lines += ["", "Supplements"]
    lines.extend(_table([(s.id, s.name, _strength(s), _role(config, s)) for s in config.supplements]))
    lines.extend(_forms_lines(config))
    if magnesium.daily_mg is not None:
        lines += [
            "",
            f"Magnesium    {magnesium.daily_mg:g} mg Mg a day, at most {magnesium.max_dose_mg:g} mg Mg a reminder; "
            f"phytate-rich meals: {magnesium.phytate}"
            + (f" ({format_duration(magnesium.phytate_gap)} after)" if magnesium.phytate == "delay" else ""),
        ]
    if config.keep_apart:
        lines += ["", "Keep apart (no magnesium or paired calcium in these windows)"]
        lines.extend(_table([_keep_apart_line(medicine) for medicine in config.keep_apart]))
    if config.titration is not None:
        ramp = config.titration
        lines.append(
            f"Titration    from {ramp.start.isoformat()}: {ramp.start_mg:g} mg, +{ramp.step_mg:g} mg "
            f"every {ramp.every_days} day{'s' if ramp.every_days != 1 else ''}"
        )
    if week:
        lines += ["", "Next days"]
        rows = [
            (
                f"{day.date.strftime('%a')} {day.date.isoformat()}",
                f"{len(day.reminders)} reminder{'s' if len(day.reminders) != 1 else ''}",
                f"magnesium {number(day.magnesium_mg):g} of {number(day.magnesium_target_mg):g} mg",
                f"calcium {number(day.calcium_mg):g} mg" if day.calcium_mg else "",
            )
            for day in week
        ]
        lines.extend(_table(rows))
    warnings = warnings_text([*config.warnings, *exposed], week)
    if warnings:
        lines += ["", "Warnings"] + [f"  ! {warning}" for warning in warnings]
    return "\n".join(lines) + "\n"


def warnings_text(config_warnings: Sequence[Problem], days: Sequence[DayPlan]) -> list[str]:
    """The configuration's warnings, then each distinct day warning with the days it applies to."""
    lines = [f"{problem.key}: {problem.message}" if problem.key else problem.message for problem in config_warnings]
    by_warning: dict[str, list[str]] = {}
    for day in days:
        for warning in day.warnings:
            by_warning.setdefault(warning, []).append(day.date.strftime("%a %m-%d"))
    lines.extend(f"{', '.join(dates)}: {warning}" for warning, dates in by_warning.items())
    return lines


# ---------------------------------------------------------------------------- notifications


def notification(config: Config, reminder: Reminder, supplies: Sequence[Supply] = ()) -> tuple[str, str]:
    """(title, body) of a reminder: what to take, in units and mg, with notes (SPEC §4), and
    a line for each supplement of it that runs low (SPEC §6)."""
    title = f"{config.notify.title}: {reminder.meal}" + (" (after the meal)" if reminder.delayed else "")
    body = [item_text(item) for item in reminder.items]
    body.extend(reminder.notes)
    in_reminder = {item.supplement.id for item in reminder.items}
    body.extend(supply_text(supply) for supply in supplies if supply.low and supply.supplement.id in in_reminder)
    return title, "\n".join(body)


# ---------------------------------------------------------------------------- history and supplies

_MARKS = {"taken": "✓", "skipped": "–", "missed": "✗", "pending": "·"}


def history_json(days: Sequence[DayHistory]) -> dict[str, Any]:
    """The `history --json` object of SPEC §6."""
    return {
        "days": [
            {
                "date": day.date.isoformat(),
                "planned": len(day.reminders),
                "taken": day.tally("taken"),
                "skipped": day.tally("skipped"),
                "missed": day.tally("missed"),
                "magnesium_planned_mg": number(day.magnesium_planned_mg),
                "magnesium_taken_mg": number(day.magnesium_taken_mg),
                "symptoms": list(day.symptoms),
                "adherence_pct": None if day.adherence_pct is None else number(day.adherence_pct),
                "reminders": [{"id": entry.reminder.id, "status": entry.status} for entry in day.reminders],
            }
            for day in days
        ]
    }


def history_table(config: Config, days: Sequence[DayHistory]) -> str:
    """One row a day: planned, taken, skipped, missed, magnesium, adherence, symptoms."""
    rows = [("day", "planned", "taken", "skipped", "missed", "magnesium mg", "adherence", "symptoms")]
    for day in days:
        adherence = "" if day.adherence_pct is None else f"{number(day.adherence_pct):g} %"
        rows.append(
            (
                f"{day.date.strftime('%a')} {day.date.isoformat()}",
                str(len(day.reminders)),
                str(day.tally("taken")),
                str(day.tally("skipped")),
                str(day.tally("missed")),
                f"{number(day.magnesium_taken_mg):g} of {number(day.magnesium_planned_mg):g}",
                adherence,
                ", ".join(day.symptoms),
            )
        )
    span = f"{days[0].date.isoformat()} to {days[-1].date.isoformat()}" if days else ""
    return "\n".join([f"History {span} ({config.timezone})", *_table(rows)]) + "\n"


def week_grid(days: Sequence[DayHistory]) -> str:
    """A week at a glance: a row a day, a column a meal, ✓ taken, – skipped, ✗ missed, · pending."""
    columns: list[str] = []
    for day in days:
        for entry in day.reminders:
            slot = entry.reminder.id.split("/", 1)[1].replace("+delay", " (after)")
            if slot not in columns:
                columns.append(slot)
    rows = [("", *columns)]
    for day in days:
        marks = {
            entry.reminder.id.split("/", 1)[1].replace("+delay", " (after)"): _MARKS[entry.status]
            for entry in day.reminders
        }
        rows.append((day.date.strftime("%a %m-%d"), *(marks.get(column, "") for column in columns)))
    legend = "✓ taken  – skipped  ✗ missed  · pending"
    return "\n".join([*_table(rows), legend]) + "\n"


def supply_text(supply: Supply) -> str:
    """ "Mag-Tab SR: 9 tablets left, about 4 days"; "…, less than a day" where they would round to 0."""
    supplement = supply.supplement
    if supply.units_left <= 0:
        return f"{supplement.name}: none left, refill now"
    left = f"{supplement.name}: {amount(supply.units_left, supplement.unit)} left"
    if supply.days_left is None:
        return left
    days = round(supply.days_left)
    return f"{left}, less than a day" if days < 1 else f"{left}, about {days_count(days)}"


def days_count(days: int) -> str:
    """1 day, 4 days."""
    return f"{days} day{'' if days == 1 else 's'}"


# ---------------------------------------------------------------------------- the daemon's texts (SPEC §4, §6)


def late_text(reminder: Reminder, title: str, body: str, late: bool) -> tuple[str, str]:
    """A reminder sent late says so, naming the local time it was due (though it goes out past midnight)."""
    if not late:
        return title, body
    return f"{title} (late)", f"Late: this reminder was due at {clock(reminder.at)}.\n{body}"


def repeat_text(title: str, body: str, number: int, most: int) -> tuple[str, str]:
    """The n-th repeat of a reminder not yet acknowledged, and how to stop the repeats."""
    return (
        f"{title} (again, {number} of {most})",
        body + "\nNot yet marked taken: `mgremind taken` (or `skip`) stops these.",
    )


def maybe_repeated(body: str) -> str:
    """A message whose previous sending was interrupted before its outcome was recorded."""
    return body + "\n(This may repeat a message sent just before a restart.)"


def unrecorded(body: str) -> str:
    """A message sent while the state cannot be written: a restart may send it again."""
    return body + "\n(mgremind cannot write its records just now: this message may come again.)"


def counted(count: int, noun: str) -> str:
    """ "1 reminder", "2 reminders", "0 days": a count and its noun, plural when it is not 1."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def export_text(reminders: int, days: int, path: object) -> str:
    """What `export --ics` says it wrote."""
    return f"wrote {counted(reminders, 'reminder')} of {counted(days, 'day')} to {path}"


def escalation_text(title: str, streak: Sequence[Reminder]) -> tuple[str, str]:
    """The caregivers' message: how many doses were missed in a row, and which."""
    body = "Not taken nor skipped:\n" + "\n".join(
        f"{r.meal} at {clock(r.at)} on {r.at.strftime('%a %Y-%m-%d')}" for r in streak
    )
    return f"{title}: {counted(len(streak), 'dose')} missed", body


def daemon_status(upcoming: Reminder | None, reload_failed: bool = False, trouble: str = "") -> str:
    """The daemon's STATUS= line for systemd: its next reminder, after what is wrong (state_trouble)."""
    prefix = (f"{trouble}; " if trouble else "") + ("reload failed, previous plan kept; " if reload_failed else "")
    if upcoming is None:
        return f"{prefix}no reminder until tomorrow"
    return f"{prefix}next: {upcoming.meal} at {clock(upcoming.at)} on {upcoming.at.strftime('%a %Y-%m-%d')}"


# ---------------------------------------------------------------------------- init, undo, history --csv, completion


def init_next_steps(path: object, found_without_c: bool) -> str:
    """What to do after `mgremind init` wrote `path`; `found_without_c`: mgremind finds it without -c."""
    option = "" if found_without_c else f"-c {shell_word(str(path))} "
    return (
        f"Wrote {path}: a commented example plan.\n"
        "Next:\n"
        f"  1. edit it: your meals, your supplements, your daily magnesium (every key is explained in it)\n"
        f"  2. mgremind {option}check           # what mgremind understood, and any mistakes\n"
        f"  3. mgremind {option}plan --days 7   # the week's reminders\n"
    )


def shell_word(text: str) -> str:
    """`text` as one word for a POSIX shell (as shlex.quote, without importing it)."""
    if text and re.fullmatch(r"[\w@%+=:,./-]+", text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def acknowledge_ahead_text(reminder: Reminder, ahead: dt.timedelta) -> str:
    """Why `taken`/`skip` refuses a reminder not yet due (SPEC §6 v2): when it is due, and from when
    it can be marked (`ahead` before), in the plan's zone."""
    due = reminder.at
    early = (reminder.instant - ahead).astimezone(due.tzinfo)
    hours = int(ahead.total_seconds() // 3600)
    return (
        f"{reminder.id} is due on {due.strftime('%a %Y-%m-%d')} at {clock(due)}, more than {hours} hours "
        f"from now; it can be marked from {early.strftime('%a %Y-%m-%d')} {clock(early)}"
    )


def report_future_text(day: dt.date, today: dt.date) -> str:
    """Why `report` refuses a date to come (SPEC §6 v2)."""
    return (
        f"{day.isoformat()} is in the future (today is {today.isoformat()}): "
        "a symptom is reported on the day it was noticed, today or before"
    )


def undo_text(reminder_id: str, status: str, at: dt.datetime) -> str:
    """What `undo` took back."""
    return f"undone: {reminder_id} is no longer {status} (recorded {at.strftime('%Y-%m-%d %H:%M')})"


HISTORY_CSV_COLUMNS = ("date", "id", "status", "magnesium_mg", "symptoms")


def history_csv(days: Sequence[DayHistory]) -> str:
    """`history --csv` (SPEC §3 v2): the reminders of `history --json`, a line each, after one header
    line; a day's symptoms on each of its lines (a day with symptoms and no reminder: one line)."""
    import csv  # only for --csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_CSV_COLUMNS)
    for day in days:
        symptoms = "; ".join(day.symptoms)
        for entry in day.reminders:
            mg = number(entry.reminder.magnesium_mg)
            writer.writerow((day.date.isoformat(), entry.reminder.id, entry.status, f"{mg:g}", symptoms))
        if not day.reminders and symptoms:
            writer.writerow((day.date.isoformat(), "", "", "", symptoms))
    return out.getvalue()


# ---------------------------------------------------------------------------- status


def daemon_line(running: bool, pid: int | None, state_directory: object, note: str = "") -> str:
    """`status`: whether a daemon runs on this state, its PID, and what it says is wrong."""
    if not running:
        return f"daemon: not running on {state_directory} (start it: systemctl start mgremind, or mgremind run)"
    line = f"daemon: running{f' (PID {pid})' if pid is not None else ''} on {state_directory}"
    return line + (f"\n  ! {note}" if note else "")


def state_trouble(since: dt.datetime, waiting: int, zone: dt.tzinfo) -> str:
    """What the daemon says, in STATUS= and to `status`, while it cannot write its state."""
    local = since.astimezone(zone)
    return f"cannot write its state since {local:%Y-%m-%d %H:%M}: {waiting} record(s) wait; reminders still go out"


def status_text(
    config: Config,
    daemon: str,
    upcoming: Reminder | None,
    due: Sequence[Reminder] | None,
    channels: Sequence[tuple[str, ChannelResult | None]],
    *,
    channel_problem: str | None = None,
) -> str:
    """`status` (SPEC §3 v2): the daemon (daemon_line), the next reminder, the reminders due and not
    yet acknowledged (None: nothing is recorded yet), and each channel's last result and when, in
    the plan's zone. `channel_problem`: why the configured channels could not be listed."""
    lines = [daemon, daemon_status(upcoming) if upcoming is not None else "next: no reminder ahead"]
    if due is None:
        lines.append("due, not acknowledged: nothing recorded yet (no state database)")
    elif not due:
        lines.append("due, not acknowledged: none")
    else:
        lines.append(f"due, not acknowledged: {len(due)} (`mgremind taken ID` or `skip ID`)")
        for reminder in due:
            what = "; ".join(item_text(item) for item in reminder.items)
            lines.append(f"  {reminder.id}  {_status_time(config, reminder.at)}  {what}")
    lines.append("channels:")
    if channel_problem is not None:
        lines.append(f"  ! cannot set up the configured channels: {channel_problem}")
    for label, result in channels:
        if result is None:
            lines.append(f"  -       {label}: nothing sent yet")
            continue
        mark = {"sent": "ok", "failed": "FAILED"}.get(result.status, result.status)
        tries = f", {result.attempts} attempts" if result.attempts > 1 else ""
        why = f": {result.error}" if result.error else ""
        when = _status_time(config, result.at)
        lines.append(f"  {mark:<7} {label}: {result.status} {when} ({result.reminder_id}{tries}){why}")
    if not channels and channel_problem is None:
        lines.append("  none")
    return "\n".join(lines) + "\n"


def _status_time(config: Config, at: dt.datetime) -> str:
    return at.astimezone(config.zone).strftime("%a %Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------------------- undo of every record (SPEC §3 v2)

# How `undo` names a report and a stock count (a reminder id names an acknowledgement), and reads them back.
REPORT_PREFIX, COUNT_PREFIX = "report#", "stock#"


def report_name(report_id: int) -> str:
    return f"{REPORT_PREFIX}{report_id}"


def count_name(count_id: int) -> str:
    return f"{COUNT_PREFIX}{count_id}"


def undo_report_text(report: Report, at: dt.datetime) -> str:
    """What `undo` took back: a symptom report; `at`: when it was recorded, in the plan's zone."""
    return (
        f"undone: {report_name(report.id)}, {report.symptom} on {report.date.isoformat()} "
        f"(recorded {at.strftime('%Y-%m-%d %H:%M')})"
    )


def undo_count_text(count: StockCount, unit: str | None, at: dt.datetime) -> str:
    """What `undo` took back: a stock count (`unit`: the supplement's, None when the plan has it no more)."""
    units = amount(count.units, unit) if unit else f"{number(count.units):g}"
    return (
        f"undone: {count_name(count.id)}, {units} of {count.supplement} on hand "
        f"(recorded {at.strftime('%Y-%m-%d %H:%M')})"
    )


def undo_nothing_text(wanted: str | None, recent: Sequence[str]) -> str:
    """Why `undo` took nothing back: nothing recorded, or not the record `wanted` (`recent`: the
    names of the records written last, the last first)."""
    if wanted is None:
        return "nothing to take back (`taken`, `skip`, `report` and `stock` record what `undo` takes back)"
    latest = f"; recorded last: {', '.join(recent)}" if recent else "; nothing is recorded"
    if wanted.startswith((REPORT_PREFIX, COUNT_PREFIX)):
        return f'no record "{wanted}"{latest}'
    return f'"{wanted}" is not acknowledged{latest}'


# ---------------------------------------------------------------------------- completion of the configuration's ids
