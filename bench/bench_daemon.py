"""Benchmarks for `mgremind run`: delivery latency, idle cost and start-up of the real daemon.

Run: .venv/bin/python bench/bench_daemon.py [--quick]    (about 4 minutes; --quick about 3)

Stdlib, mgremind and tests/receivers.py (a local HTTP receiver for apprise's json://). Every
daemon is the installed console script, with its state in a temporary directory and a plan in
UTC. Prints figures and a table with the goal next to each and PASS/MISS (SPEC §4 budgets).
A benchmark reports, it does not assert: the exit status is 0 whatever the figures.

1. Start-up: the time from spawning `mgremind run` to READY=1 on a NOTIFY_SOCKET bound here
   (median of 5 starts after a warm-up start), and from SIGTERM to exit.
2. Delivery latency: a plan of 100 meals one second apart (times with whole seconds, each meal
   its own name, one fixed supplement with all of them) starting a few seconds ahead; each
   reminder's arrival at the receiver minus its planned instant. Median, p99 and max.
3. What a cron job would do instead: sleep until each of 30 instants one second apart, then
   spawn the `apprise` command-line tool with the same title and body to the same receiver,
   measured the same way; and the ratio of the two.
4. The idle daemon (its only reminder 6 hours away) over 60 s (10 s with --quick): resident
   memory (VmRSS, VmHWM), CPU time (utime + stime) in ms a minute, and its wake-ups (voluntary
   context switches of all its threads), which show that it sleeps instead of polling.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mgremind.config.files import parse_toml
from mgremind.loader import parse_config
from mgremind.model import Config
from mgremind.plan import plan_day, upcoming
from mgremind.render import notification

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from receivers import JsonReceiver, Received  # noqa: E402 - the tests' receiver, found through sys.path

MGREMIND = Path(sys.executable).parent / "mgremind"  # the console script installed beside this interpreter
APPRISE = Path(sys.executable).parent / "apprise"  # apprise's command-line tool, installed with it

UTC = dt.timezone.utc
TITLE = "Bench"

STARTUP_WARMUP, STARTUP_RUNS = 1, 5
REMINDERS = 100  # the daemon's, one SPACING apart: enough for a p99 that is not just the maximum
SPAWNS = 30  # the CLI's, one SPACING apart (each costs a third of a second of CPU)
SPACING = dt.timedelta(seconds=1)  # meal times have whole seconds: one second is the closest spacing
LEAD_IN = dt.timedelta(seconds=5)  # from the daemon's spawn to its first reminder
SETTLE = 2.0  # seconds after the last instant for late deliveries to arrive
IDLE_SECONDS, QUICK_IDLE_SECONDS = 60.0, 10.0
IDLE_AHEAD = dt.timedelta(hours=6)  # the idle daemon's only reminder
READY_TIMEOUT = 10.0

LATENCY_GOAL_MS = 10.0  # p99, SPEC §4
SPEEDUP_GOAL = 20.0  # spawned CLI / daemon, by median
RSS_GOAL_MB = 40.0  # SPEC §4 v2, with one ntfy or JSON channel (§4 itself: 60)
IDLE_CPU_GOAL_MS = 50.0  # a minute
READY_GOAL_S = 1.0
STOP_GOAL_S = 1.0  # SPEC §4: SIGTERM stops cleanly within a second

Row = tuple[str, str, str, str]  # (measure, value, goal, PASS/MISS/info)


# ---------------------------------------------------------------------------- helpers


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class Summary:
    count: int
    median: float
    p99: float
    max: float


def summarise(values: Sequence[float]) -> Summary | None:
    if not values:
        return None
    return Summary(len(values), statistics.median(values), percentile(values, 99), max(values))


def _clear_of_midnight(span: dt.timedelta) -> None:
    """Waits past midnight UTC if a schedule of `span` from now would cross it (times of day wrap)."""
    now = dt.datetime.now(UTC)
    if (now + span).date() == now.date():
        return
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 0, 2), UTC)
    print(f"  (waiting {(midnight - now).total_seconds():.0f} s for midnight UTC to pass: times of day wrap)")
    time.sleep((midnight - now).total_seconds())


def _sleep_until(instant: dt.datetime) -> None:
    remaining = instant.timestamp() - time.time()
    if remaining > 0:
        time.sleep(remaining)


def _instants(count: int, lead_in: dt.timedelta) -> list[dt.datetime]:
    """`count` whole-second instants SPACING apart, the first at least `lead_in` from now."""
    first = (dt.datetime.now(UTC) + lead_in + dt.timedelta(seconds=1)).replace(microsecond=0)
    return [first + index * SPACING for index in range(count)]


def _supplement(meals: Sequence[str]) -> str:
    names = ", ".join(f'"{meal}"' for meal in meals)
    return f"""
[[supplement]]
id = "vitd"
name = "Vitamin D3"
nutrient = "vitamin D"
unit = "capsule"
with = [{names}]
units = 1
"""


def plan_toml(url: str, meals: dict[str, dt.time]) -> str:
    """A plan in UTC: each meal its own name at its time (with seconds), one supplement with all."""
    lines = ['timezone = "UTC"', "", "[notify]", f'urls = ["{url}"]', f'title = "{TITLE}"', ""]
    lines += ["[reminders]", 'lead = "0m"', 'catch_up = "2h"', 'retry_for = "30m"']
    for name, at in meals.items():
        lines += ["", "[[meal]]", f'name = "{name}"', f'time = "{at.isoformat()}"']
    return "\n".join(lines) + "\n" + _supplement(list(meals))


def parse_plan(text: str, path: Path) -> Config:
    return parse_config(parse_toml(text, str(path)), str(path), path.parent, "UTC")


def daemon_env(pycache: str, state: Path, notify_socket: Path | None) -> dict[str, str]:
    """The daemon's environment: bytecode cached as installed (see bench_plan), its own state, no systemd."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONDONTWRITEBYTECODE", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}
    }
    env["PYTHONPYCACHEPREFIX"] = pycache
    env["STATE_DIRECTORY"] = str(state)
    env["TZ"] = "UTC"
    if notify_socket is not None:
        env["NOTIFY_SOCKET"] = str(notify_socket)
    return env


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET, read at once as systemd does.

    A reader that falls behind fills the socket's queue (net.unix.max_dgram_qlen, often 10), and
    the daemon's next notification then blocks: a thread here reads every datagram as it comes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(path))
        self._socket.settimeout(0.1)  # how often the reader looks whether it was closed
        self._fields: list[tuple[float, str]] = []  # (time.monotonic() at arrival, e.g. "READY=1")
        self._arrived = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closed:
            try:
                data = self._socket.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            arrived = time.monotonic()
            with self._arrived:
                self._fields.extend((arrived, line) for line in data.decode(errors="replace").splitlines())
                self._arrived.notify_all()

    def wait_for(self, wanted: str, timeout: float) -> float | None:
        """time.monotonic() when `wanted` (e.g. "READY=1") arrived, or None after `timeout`."""

        def found() -> float | None:
            return next((arrived for arrived, field_ in self._fields if field_ == wanted), None)

        with self._arrived:
            self._arrived.wait_for(lambda: found() is not None, timeout)
            return found()

    def close(self) -> None:
        self._closed = True
        self._reader.join()
        self._socket.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


@dataclass(frozen=True)
class Daemon:
    process: subprocess.Popen[bytes]
    spawned: float  # time.monotonic() just before the spawn


@contextlib.contextmanager
def daemon(config: Path, env: dict[str, str], log: Path) -> Iterator[Daemon]:
    """`mgremind -c CONFIG run`, stopped (SIGTERM, then SIGKILL) on leaving, whatever happened."""
    with log.open("ab") as stderr:
        spawned = time.monotonic()
        process = subprocess.Popen(
            [str(MGREMIND), "-c", str(config), "run"], stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=REPO
        )
    try:
        yield Daemon(process, spawned)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stop(process: subprocess.Popen[bytes]) -> tuple[float, int | None]:
    """SIGTERM and wait: (seconds to exit, exit status; None if it had to be killed after 5 s)."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        status: int | None = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        status = None
    return time.monotonic() - began, status


def log_problems(log: Path) -> list[str]:
    """The daemon's log lines that are not routine (warnings, errors, tracebacks)."""
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if not (" INFO " in line and line[:4].isdigit())]


def _print_problems(log: Path) -> None:
    problems = log_problems(log)
    for line in problems[:10]:
        print(f"    daemon log: {line}")
    if len(problems) > 10:
        print(f"    daemon log: … {len(problems) - 10} more in {log}")


# ---------------------------------------------------------------------------- /proc


@dataclass(frozen=True)
class ProcSample:
    at: float  # time.monotonic()
    rss_kb: int
    hwm_kb: int
    cpu_ticks: int  # utime + stime of the whole process, in clock ticks
    run_ns: int  # time on a CPU, all threads (schedstat), in ns
    voluntary: dict[str, int]  # voluntary context switches by thread ("TID name")
    involuntary: int  # all threads


def _status_fields(path: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def sample(pid: int) -> ProcSample:
    proc = Path(f"/proc/{pid}")
    status = _status_fields(proc / "status")
    # The command name in stat may hold spaces and parentheses: the fields start after the last ")".
    stat = (proc / "stat").read_text().rpartition(")")[2].split()
    utime, stime = int(stat[11]), int(stat[12])  # fields 14 and 15 of proc(5), counted from 1
    voluntary: dict[str, int] = {}
    involuntary = run_ns = 0
    for task in sorted((proc / "task").iterdir(), key=lambda path: int(path.name)):
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            task_status = _status_fields(task / "status")
            name = f"{task.name} {task_status['Name']}"
            voluntary[name] = int(task_status["voluntary_ctxt_switches"])
            involuntary += int(task_status["nonvoluntary_ctxt_switches"])
            run_ns += int((task / "schedstat").read_text().split()[0])
    return ProcSample(
        time.monotonic(),
        int(status["VmRSS"].split()[0]),
        int(status["VmHWM"].split()[0]),
        utime + stime,
        run_ns,
        voluntary,
        involuntary,
    )


# ---------------------------------------------------------------------------- the benchmark


def startup_rows(work: Path, pycache: str, receiver: JsonReceiver) -> list[Row]:
    """1. Spawn to READY=1 on our NOTIFY_SOCKET, and SIGTERM to exit."""
    at = (dt.datetime.now(UTC) + IDLE_AHEAD).time().replace(microsecond=0)
    config = work / "startup.toml"
    config.write_text(plan_toml(receiver.url(), {"snack": at}), encoding="utf-8")
    ready_s: list[float] = []
    stop_s: list[float] = []
    failed = False
    print(f"\nstart-up to READY=1: {STARTUP_WARMUP} warm-up start, then {STARTUP_RUNS}")
    for run in range(STARTUP_WARMUP + STARTUP_RUNS):
        notify = NotifySocket(work / f"notify-{run}.sock")
        log = work / f"startup-{run}.log"
        try:
            with daemon(config, daemon_env(pycache, work / f"state-start-{run}", notify.path), log) as started:
                ready = notify.wait_for("READY=1", READY_TIMEOUT)
                took, status = stop(started.process)
                stopping = notify.wait_for("STOPPING=1", 0.5)
        finally:
            notify.close()
        if ready is None or status != 0 or stopping is None:
            failed = True
            print(
                f"  FAILED start {run}: READY=1 {'sent' if ready else 'not sent'}, exit status {status}, "
                f"STOPPING=1 {'sent' if stopping else 'not sent'}"
            )
            _print_problems(log)
        elif run >= STARTUP_WARMUP:
            ready_s.append(ready - started.spawned)
            stop_s.append(took)
    rows: list[Row] = []
    if ready_s:
        ready_ms = [value * 1000 for value in ready_s]
        print("  READY=1 after (ms): " + ", ".join(f"{value:.0f}" for value in ready_ms))
        print("  exit after SIGTERM (ms): " + ", ".join(f"{value * 1000:.0f}" for value in stop_s))
        median_ready = statistics.median(ready_s)
        rows.append(
            (
                "spawn to READY=1 (median)",
                f"{median_ready * 1000:.0f} ms (min {min(ready_ms):.0f}, max {max(ready_ms):.0f})",
                f"< {READY_GOAL_S * 1000:.0f} ms",
                _verdict(median_ready < READY_GOAL_S and not failed),
            )
        )
        rows.append(
            (
                "SIGTERM to exit (max)",
                f"{max(stop_s) * 1000:.0f} ms",
                f"< {STOP_GOAL_S * 1000:.0f} ms",
                _verdict(max(stop_s) < STOP_GOAL_S and not failed),
            )
        )
    else:
        rows.append(("spawn to READY=1 (median)", "no READY=1", f"< {READY_GOAL_S * 1000:.0f} ms", "MISS"))
    return rows


def arrival_ms(
    instants: Sequence[dt.datetime], titles: Sequence[str], received: Sequence[Received]
) -> list[float | None]:
    """Milliseconds from each instant to the first arrival of its title (None: it never came)."""
    first: dict[str, float] = {}
    for message in received:
        first.setdefault(message.title, message.at)
    return [
        (first[title] - instant.timestamp()) * 1000 if title in first else None
        for instant, title in zip(instants, titles, strict=True)
    ]


@dataclass(frozen=True)
class LatencyRun:
    each: list[float | None]  # ms, in time order; None: never arrived
    body: str  # the body the daemon sent, for the CLI to send the same

    @property
    def summary(self) -> Summary | None:
        return summarise([value for value in self.each if value is not None])

    @property
    def complete(self) -> bool:
        return bool(self.each) and None not in self.each

    def describe(self, label: str) -> None:
        summary = self.summary
        if summary is None:
            print(f"  {label}: nothing arrived")
            return
        print(
            f"  {label}: {summary.count}/{len(self.each)} arrived; median {summary.median:.1f} ms, "
            f"p99 {summary.p99:.1f} ms, max {summary.max:.1f} ms"
        )
        print("    each (ms): " + " ".join("never" if value is None else f"{value:.1f}" for value in self.each))


def daemon_latency(work: Path, pycache: str, receiver: JsonReceiver) -> LatencyRun:
    """2. Each reminder's arrival at the receiver minus its planned instant, from the real daemon."""
    _clear_of_midnight(LEAD_IN + REMINDERS * SPACING + dt.timedelta(minutes=1))
    instants = _instants(REMINDERS, LEAD_IN)
    meals = {f"meal-{index:03}": instant.time() for index, instant in enumerate(instants)}
    config_path = work / "latency.toml"
    text = plan_toml(receiver.url(), meals)
    config_path.write_text(text, encoding="utf-8")
    config = parse_plan(text, config_path)
    # The planner's own instants and titles: what the daemon schedules, and what the receiver sees.
    reminders = [r for r in plan_day(config, instants[0].date()).reminders if r.at >= instants[0]]
    if [r.at for r in reminders] != instants:
        print(f"  note: the planner put {len(reminders)} reminders at other instants than the meal times written")
    if not reminders:
        return LatencyRun([], "")
    texts = [notification(config, reminder) for reminder in reminders]
    print(
        f"\ndaemon latency: {len(reminders)} reminders {SPACING.total_seconds():g} s apart, "
        f"the first {LEAD_IN.total_seconds():g}-{LEAD_IN.total_seconds() + 1:g} s after the spawn"
    )
    notify = NotifySocket(work / "notify-latency.sock")
    log = work / "latency.log"
    try:
        with daemon(config_path, daemon_env(pycache, work / "state-latency", notify.path), log) as started:
            ready = notify.wait_for("READY=1", READY_TIMEOUT)
            if ready is None:
                print(f"  the daemon sent no READY=1 within {READY_TIMEOUT:g} s")
            else:
                ready_wall = time.time() - (time.monotonic() - ready)
                print(
                    f"  READY=1 {(ready - started.spawned) * 1000:.0f} ms after the spawn, "
                    f"{reminders[0].at.timestamp() - ready_wall:.1f} s before the first reminder"
                )
            _sleep_until(reminders[-1].at + dt.timedelta(seconds=SETTLE))
            took, status = stop(started.process)
            if status != 0:
                print(f"  the daemon exited with status {status} after SIGTERM ({took * 1000:.0f} ms)")
    finally:
        notify.close()
    _print_problems(log)
    run = LatencyRun(
        arrival_ms([r.at for r in reminders], [title for title, _ in texts], receiver.messages()),
        texts[0][1] if texts else "",
    )
    run.describe("daemon")
    return run


def spawn_apprise(work: Path, pycache: str, url: str, title: str, body: str) -> subprocess.Popen[bytes]:
    """`apprise -t TITLE -b BODY URL`, bytecode cached as the daemon's is (the CLI keeps no state)."""
    return subprocess.Popen(
        [str(APPRISE), "-t", title, "-b", body, url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=daemon_env(pycache, work / "state-cli", None),
        cwd=work,
    )


def cli_latency(work: Path, pycache: str, receiver: JsonReceiver, body: str) -> LatencyRun:
    """3. What a cron job would do: at each instant, spawn `apprise -t TITLE -b BODY json://…`."""
    print(f"\nspawned apprise CLI: {SPAWNS} spawns {SPACING.total_seconds():g} s apart (after the warm-up spawn)")
    _clear_of_midnight(SPAWNS * SPACING + dt.timedelta(minutes=1))
    instants = _instants(SPAWNS, dt.timedelta(seconds=1))
    titles = [f"{TITLE} cron: meal-{index:03}" for index in range(SPAWNS)]
    processes: list[subprocess.Popen[bytes]] = []
    spawn_lag_ms: list[float] = []
    for instant, title in zip(instants, titles, strict=True):
        _sleep_until(instant)
        spawn_lag_ms.append((time.time() - instant.timestamp()) * 1000)
        processes.append(spawn_apprise(work, pycache, receiver.url(), title, body))
    failed = sum(process.wait() != 0 for process in processes)
    if failed:
        print(f"  {failed} of the spawns exited with a failure status")
    print(f"  each spawn began {statistics.median(spawn_lag_ms):.2f} ms after its instant (median)")
    run = LatencyRun(arrival_ms(instants, titles, receiver.messages()), body)
    run.describe("spawned CLI")
    return run


def latency_rows(daemon_run: LatencyRun, cli_run: LatencyRun) -> list[Row]:
    rows: list[Row] = []
    ours, theirs = daemon_run.summary, cli_run.summary
    goal = f"< {LATENCY_GOAL_MS:g} ms"
    if ours is None:
        return [("daemon latency (p99)", "nothing arrived", goal, "MISS")]
    arrived = "" if daemon_run.complete else f", {ours.count}/{len(daemon_run.each)} arrived"
    rows.append(("daemon latency (median)", f"{ours.median:.1f} ms", "", "info"))
    rows.append(
        (
            f"daemon latency (p99 of {ours.count}, nearest rank)",
            f"{ours.p99:.1f} ms (max {ours.max:.1f}){arrived}",
            goal,
            _verdict(ours.p99 < LATENCY_GOAL_MS and daemon_run.complete),
        )
    )
    # Apart, for information: the first delivery after a start makes its channel's first request.
    first, rest = daemon_run.each[0], summarise([value for value in daemon_run.each[1:] if value is not None])
    if first is not None and rest is not None:
        rows.append(("daemon latency: first after start", f"{first:.1f} ms", "", "info"))
        rows.append(
            (f"daemon latency: p99 of the other {rest.count}", f"{rest.p99:.1f} ms (max {rest.max:.1f})", "", "info")
        )
    if theirs is None:
        rows.append(("spawned apprise CLI latency", "nothing arrived", "", "info"))
        return rows
    rows.append(("spawned apprise CLI latency (median)", f"{theirs.median:.0f} ms", "", "info"))
    rows.append(("spawned apprise CLI latency (p99)", f"{theirs.p99:.0f} ms (max {theirs.max:.0f})", "", "info"))
    median_ratio = theirs.median / ours.median
    rows.append(
        (
            "spawned CLI / daemon",
            f"{median_ratio:.0f}x median, {theirs.p99 / ours.p99:.0f}x p99",
            f">= {SPEEDUP_GOAL:g}x median",
            _verdict(median_ratio >= SPEEDUP_GOAL and daemon_run.complete),
        )
    )
    return rows


def idle_rows(work: Path, pycache: str, receiver: JsonReceiver, seconds: float) -> list[Row]:
    """4. Memory, CPU time and wake-ups of the idle daemon (its only reminder IDLE_AHEAD away)."""
    _clear_of_midnight(dt.timedelta(seconds=seconds + 30))
    now = dt.datetime.now(UTC)
    config_path = work / "idle.toml"
    text = plan_toml(receiver.url(), {"snack": (now + IDLE_AHEAD).time().replace(microsecond=0)})
    config_path.write_text(text, encoding="utf-8")
    following = upcoming(parse_plan(text, config_path), now, 1)
    hours = (following[0].at - now).total_seconds() / 3600 if following else math.inf
    print(f"\nidle daemon: next reminder in {hours:.1f} h; measured for {seconds:g} s from 1 s after READY=1")
    notify = NotifySocket(work / "notify-idle.sock")
    log = work / "idle.log"
    try:
        with daemon(config_path, daemon_env(pycache, work / "state-idle", notify.path), log) as started:
            if notify.wait_for("READY=1", READY_TIMEOUT) is None:
                print(f"  the daemon sent no READY=1 within {READY_TIMEOUT:g} s")
                _print_problems(log)
                return [("idle daemon", "no READY=1", "", "MISS")]
            time.sleep(1.0)
            before = sample(started.process.pid)
            time.sleep(seconds)
            after = sample(started.process.pid)
            stop(started.process)
    finally:
        notify.close()
    _print_problems(log)

    ticks = os.sysconf("SC_CLK_TCK")
    elapsed = after.at - before.at
    per_minute = 60 / elapsed
    cpu_ms = (after.cpu_ticks - before.cpu_ticks) * 1000 / ticks
    run_ms = (after.run_ns - before.run_ns) / 1e6
    wakeups = {name: count - before.voluntary.get(name, 0) for name, count in after.voluntary.items()}
    total = sum(wakeups.values())
    rss_mb, hwm_mb = after.rss_kb / 1024, after.hwm_kb / 1024
    print(f"  CPU until the window (start-up): {before.cpu_ticks * 1000 / ticks:.0f} ms")
    print(f"  VmRSS {rss_mb:.1f} MB, VmHWM {hwm_mb:.1f} MB, {len(after.voluntary)} threads")
    print(
        f"  CPU over {elapsed:.1f} s: utime+stime {cpu_ms:.0f} ms (in {1000 / ticks:g} ms ticks), "
        f"schedstat {run_ms:.2f} ms; {cpu_ms * per_minute:.0f} ms a minute"
    )
    print(
        f"  wake-ups (voluntary context switches, all threads): {total}; involuntary: "
        f"{after.involuntary - before.involuntary}; by thread: "
        + ", ".join(f"{name} {count}" for name, count in wakeups.items())
    )
    return [
        ("idle VmRSS", f"{rss_mb:.1f} MB", f"< {RSS_GOAL_MB:g} MB", _verdict(rss_mb < RSS_GOAL_MB)),
        ("idle VmHWM (peak RSS)", f"{hwm_mb:.1f} MB", "", "info"),
        (
            f"idle CPU, utime+stime over {elapsed:.0f} s",
            f"{cpu_ms * per_minute:.0f} ms/min (schedstat {run_ms * per_minute:.2f})",
            f"< {IDLE_CPU_GOAL_MS:g} ms/min",
            _verdict(cpu_ms * per_minute < IDLE_CPU_GOAL_MS),
        ),
        (f"idle wake-ups over {elapsed:.0f} s", f"{total} ({total * per_minute:.1f} a minute)", "", "info"),
    ]


def warm_up(work: Path, pycache: str, receiver: JsonReceiver) -> None:
    """Before anything is measured: one request to the receiver, so its own first-request costs
    measure nothing; and one apprise CLI spawn, which compiles into the bytecode cache what a
    first send imports lazily (requests' netrc and shlex), as an installed system has it compiled."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{receiver.port}/notify",
        data=json.dumps({"title": f"{TITLE}: receiver warm-up", "message": ""}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()
    if (status := spawn_apprise(work, pycache, receiver.url(), f"{TITLE}: CLI warm-up", "warm-up").wait()) != 0:
        print(f"  the apprise CLI warm-up spawn exited with status {status}")


def print_table(rows: Sequence[Row]) -> None:
    headers = ("measure", "value", "goal", "")
    widths = [max([len(header), *(len(row[column]) for row in rows)]) for column, header in enumerate(headers)]
    print()
    print("  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Latency, idle cost and start-up of `mgremind run`.")
    parser.add_argument(
        "--quick", action="store_true", help=f"idle window of {QUICK_IDLE_SECONDS:g} s instead of {IDLE_SECONDS:g} s"
    )
    args = parser.parse_args(argv)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"mgremind daemon benchmark: Python {sys.version.split()[0]} ({sys.executable}), "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    for tool in (MGREMIND, APPRISE):
        if not tool.exists():
            print(f"\n{tool} is not installed: run `make test` (or pip install -e .) first")
            return 0

    rows: list[Row] = []
    receiver = JsonReceiver().start()
    # As in bench_plan: a private bytecode cache (nothing written into the tree), filled by warm-up runs,
    # so the daemon and the CLI start as installed packages do, whatever PYTHONDONTWRITEBYTECODE says.
    with (
        tempfile.TemporaryDirectory(prefix="mgremind-bench-pyc-") as pycache,
        tempfile.TemporaryDirectory(prefix="mgremind-bench-daemon-") as directory,
    ):
        work = Path(directory)
        try:
            warm_up(work, pycache, receiver)
            rows += startup_rows(work, pycache, receiver)
            daemon_run = daemon_latency(work, pycache, receiver)
            cli_run = cli_latency(work, pycache, receiver, daemon_run.body)
            rows += latency_rows(daemon_run, cli_run)
            rows += idle_rows(work, pycache, receiver, QUICK_IDLE_SECONDS if args.quick else IDLE_SECONDS)
        finally:
            receiver.stop()
    print_table(rows)
    return 0  # a benchmark reports; it never fails the build


if __name__ == "__main__":
    raise SystemExit(main())
