"""Start-up of the commands people type often, against a bare interpreter of the same venv.

Run: .venv/bin/python bench/bench_startup.py [--baseline REV]    (or `make bench`; about a minute)

mgremind is installed, not editable, into a new venv in a temporary directory, as a user installs
it: an editable install's .pth hooks run in every interpreter of the venv, a bare `python -c pass`
included, and make "bare" look twice as slow as it is. Then, interleaved (one of each a round, the
order rotating, so a slow patch of the machine hits all alike): `python -c pass`, and
`mgremind -c config.example.toml` `next`, `taken ID`, `plan --days 7` and `check` (the example has
no channel), with the state in a temporary STATE_DIRECTORY that holds a few records, as an
installation in use does. Prints min and median of each, their ratio to the bare interpreter
(goal: within 3.5x, both), and from `python -X importtime` whether a command imports the daemon's
libraries (goal: none) and its slowest imports. With `--baseline REV` (a git revision, e.g. the
commit before a change) that revision is installed into a second venv and timed in the same
rounds, so before and after are compared side by side. A benchmark reports; it always exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"
WARMUP, RUNS = 3, 25
GOAL_RATIO = 3.5
HEAVY_MODULES = ("apprise", "apscheduler", "icalendar")  # what `run`/`export` need, and only they


def copy_working_tree(source: Path) -> None:
    shutil.copytree(REPO / "mgremind", source / "mgremind", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)


def export_revision(revision: str, source: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "mgremind", "pyproject.toml", "README.md"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(source, filter="data")


def install(target: Path, revision: str | None = None) -> Path:
    """A new venv in `target` with mgremind installed from the working tree (or a revision); its bin/."""
    source = target / "source"
    if revision is None:
        copy_working_tree(source)
    else:
        export_revision(revision, source)
    venv = target / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        check=True,
        env={**os.environ, "PIP_NO_WARN_SCRIPT_LOCATION": "1"},
    )
    return venv / "bin"


BARE = "python -c pass"
FLOOR = "stdlib floor"
# What any implementation of these commands pays before its own code runs: the standard library
# they need (argparse, tomllib, zoneinfo, pathlib, sqlite3), the TOML parsed, the zone loaded,
# the state opened and read. mgremind's start-up is this plus its own imports and work.
FLOOR_CODE = """
import argparse, datetime, pathlib, sqlite3, sys, zoneinfo
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
argparse.ArgumentParser(prog="x").parse_args([])
document = tomllib.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
datetime.datetime.now(zoneinfo.ZoneInfo(document["timezone"]))
state = pathlib.Path(sys.argv[2])
if state.exists():
    sqlite3.connect(state).execute("SELECT count(*) FROM sqlite_master").fetchall()
"""


def commands(bin_dir: Path, today: dt.date, state: Path, prefix: str = "") -> dict[str, list[str]]:
    mgremind = [str(bin_dir / "mgremind"), "-c", str(EXAMPLE)]
    named = {
        BARE: [str(bin_dir / "python"), "-c", "pass"],
        FLOOR: [str(bin_dir / "python"), "-c", FLOOR_CODE, str(EXAMPLE), str(state / "state.sqlite3")],
        "next": [*mgremind, "next"],
        "taken": [*mgremind, "taken", f"{today.isoformat()}/breakfast"],
        "plan --days 7": [*mgremind, "plan", "--days", "7"],
        "check": [*mgremind, "check"],
    }
    return {prefix + name: command for name, command in named.items()}


def run_quietly(command: Sequence[str], env: dict[str, str]) -> tuple[float, int]:
    began = time.perf_counter()
    status = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False, cwd=env["HOME"]
    )
    return time.perf_counter() - began, status.returncode


def time_interleaved(named: dict[str, list[str]], env: dict[str, str]) -> dict[str, list[float]]:
    names = list(named)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(WARMUP + RUNS):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed, status = run_quietly(named[name], env)
            if status != 0:
                print(f"  {name}: exit {status} (its times are not meaningful)")
            if round_ >= WARMUP:
                samples[name].append(elapsed * 1000)
    return samples


def import_report(
    python: Path, command: Sequence[str], env: dict[str, str]
) -> tuple[list[str], list[tuple[float, str]]]:
    """The daemon's libraries a command imports, and its five slowest imports (self ms)."""
    script, *args = command
    code = f"import sys; sys.argv = {[script, *args]!r}; from mgremind.cli import main; main()"
    completed = subprocess.run(
        [str(python), "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=env["HOME"],
    )
    rows = []
    for line in completed.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(fields) == 3 and fields[0].strip().isdigit():
            rows.append((int(fields[0]) / 1000, fields[2].strip()))
    heavy = sorted({name.split(".")[0] for _, name in rows if name.split(".")[0] in HEAVY_MODULES})
    return heavy, sorted(rows, reverse=True)[:5]


def report(samples: dict[str, list[float]], prefix: str) -> None:
    """Min and median of each command of one installation, and their ratio to its bare interpreter."""
    bare = samples[prefix + BARE]
    bare_min, bare_median = min(bare), statistics.median(bare)
    for name, values in samples.items():
        if not name.startswith(prefix) or (not prefix and ": " in name):
            continue
        low, middle = min(values), statistics.median(values)
        ratio = max(low / bare_min, middle / bare_median)
        verdict = "" if name.endswith((BARE, FLOOR)) else "PASS" if ratio <= GOAL_RATIO else "MISS"
        ratios = f"{low / bare_min:5.2f}x {middle / bare_median:5.2f}x"
        print(f"  {name:28} {low:6.1f} ms {middle:6.1f} ms   {ratios}   {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", metavar="REV", help="also time this git revision, side by side")
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"mgremind start-up: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    with tempfile.TemporaryDirectory(prefix="mgremind-bench-startup-") as temporary:
        print("installing mgremind (not editable) into a new venv…")
        bin_dir = install(Path(temporary) / "current")
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "MGREMIND"))}
        env["STATE_DIRECTORY"] = str(Path(temporary) / "state")
        # An empty home and working directory: `python -c` puts the working directory first on
        # sys.path, and from the repository it would import the source tree, not the install.
        env["HOME"] = str(Path(temporary) / "home")
        Path(env["HOME"]).mkdir()
        today = dt.date.today()
        state = Path(env["STATE_DIRECTORY"])
        named = commands(bin_dir, today, state)
        if args.baseline:
            print(f"installing {args.baseline} into a second venv…")
            named |= commands(install(Path(temporary) / "baseline", args.baseline), today, state, f"{args.baseline}: ")
        run_quietly(named["taken"], env)  # the state exists and holds a record, as in use
        print(f"{WARMUP} warm-up rounds, then {RUNS} rounds, interleaved")
        samples = time_interleaved(named, env)
        print(f"\n  {'command':28} {'min':>9} {'median':>9}   ratio to bare (min, median); goal <= {GOAL_RATIO}x")
        report(samples, "")
        if args.baseline:
            report(samples, f"{args.baseline}: ")
            print(f"\n  {'median, this tree / ' + args.baseline:42}")
            for name in named:
                if ": " not in name:
                    before = statistics.median(samples[f"{args.baseline}: {name}"])
                    print(f"  {name:28} {statistics.median(samples[name]) / before:5.2f}x")
        for name, command in named.items():
            if name in (BARE, FLOOR) or ": " in name:
                continue
            heavy, slowest = import_report(bin_dir / "python", command, env)
            print(f"\n{name}: imports of {'/'.join(HEAVY_MODULES)}: {', '.join(heavy) or 'none'}; slowest (self):")
            for self_ms, module in slowest:
                print(f"  {self_ms:5.2f} ms  {module}")
    return 0  # a benchmark reports; it never fails the build


if __name__ == "__main__":
    raise SystemExit(main())
