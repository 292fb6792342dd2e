"""First contact (issue 11, SPEC §3 v2): no command, -V, a misspelt command, `init`, `undo`,
`history --csv`, `completion`; run in this process (conftest.mgremind) unless a shell or a fresh
interpreter is the point."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO, Mgremind
from daemon_harness import STATE_FILE

import mgremind as package
from mgremind.cli import COMMANDS
from mgremind.config.files import parse_toml
from mgremind.state import State

PACKAGED_EXAMPLE = REPO / "mgremind" / "config.example.toml"


def plan(tmp_path: Path) -> Path:
    """Three meals in UTC, a citrate capsule each."""
    from plans import citrate_with_calcium, meal, timezone

    text = timezone("UTC") + meal("breakfast", "08:00") + meal("lunch", "13:00") + meal("dinner", "19:00")
    path = tmp_path / "plan.toml"
    path.write_text(text + citrate_with_calcium(300), encoding="utf-8")
    return path


def yesterday() -> str:
    return (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)).isoformat()


# ---------------------------------------------------------------------------- no command, -V, misspellings, help


@pytest.mark.parametrize("args", [(), ("-c", str(EXAMPLE))])
def test_no_command_lists_every_command_and_is_bad_usage(mgremind: Mgremind, args: tuple[str, ...]) -> None:
    result = mgremind(*args)
    assert result.returncode == 2  # SPEC §3 v2: "(no command) … exit 2"
    assert result.stdout == ""
    assert result.stderr.startswith("usage: mgremind")
    for name, (summary, _) in COMMANDS.items():
        line = next(line for line in result.stderr.splitlines() if line.strip().startswith(name + " "))
        assert summary.split()[0] in line


def test_dash_capital_v_is_the_version(mgremind: Mgremind) -> None:
    for option in ("-V", "--version"):
        result = mgremind(option)
        assert (result.returncode, result.stdout) == (0, f"mgremind {package.__version__}\n")


@pytest.mark.parametrize(
    ("typed", "meant"), [("hitsory", "history"), ("tkaen", "taken"), ("instal-service", "install-service")]
)
def test_a_misspelt_command_gets_a_suggestion(mgremind: Mgremind, typed: str, meant: str) -> None:
    result = mgremind("-c", str(EXAMPLE), typed, "--days", "3")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"did you mean `{meant}`?" in result.stderr
    assert result.stderr.startswith("usage: mgremind")


def test_a_word_like_no_command_gets_the_list(mgremind: Mgremind) -> None:
    result = mgremind("xyzzy")
    assert result.returncode == 2
    assert "did you mean" not in result.stderr
    assert "mgremind --help" in result.stderr


def test_no_help_points_to_the_spec(mgremind: Mgremind) -> None:
    texts = [mgremind("--help").stdout] + [mgremind(name, "--help").stdout for name in COMMANDS]
    for text in texts:
        assert text
        assert "SPEC" not in text
    assert "mgremind init" in texts[0]
    assert str(PACKAGED_EXAMPLE) in texts[0].replace("\n", " ") or "config.example.toml" in texts[0]


def test_no_configuration_names_init_and_the_installed_example(mgremind: Mgremind) -> None:
    result = mgremind("check")
    assert result.returncode == 2
    assert "mgremind init" in result.stderr
    assert str(PACKAGED_EXAMPLE) in result.stderr


# ---------------------------------------------------------------------------- the example, installed


def test_the_example_is_package_data_and_the_top_level_one_is_the_same() -> None:
    assert PACKAGED_EXAMPLE.is_file()
    assert EXAMPLE.read_bytes() == PACKAGED_EXAMPLE.read_bytes()
    settings = parse_toml((REPO / "pyproject.toml").read_text(encoding="utf-8"), "pyproject.toml")
    assert "config.example.toml" in settings["tool"]["setuptools"]["package-data"]["mgremind"]


# ---------------------------------------------------------------------------- init


def test_init_writes_the_example_where_mgremind_looks_and_check_accepts_it(mgremind: Mgremind, user_home: Path) -> None:
    result = mgremind("init")
    assert result.returncode == 0, result.stderr
    written = user_home.parent / "xdg" / "mgremind" / "config.toml"  # $XDG_CONFIG_HOME (user_home)
    assert written.read_bytes() == PACKAGED_EXAMPLE.read_bytes()
    assert str(written) in result.stdout
    for step in ("edit", "mgremind check", "mgremind plan --days 7"):
        assert step in result.stdout  # found without -c: the next steps need none
    assert mgremind("check").returncode == 0


def test_init_follows_mgremind_config(mgremind: Mgremind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "deep" / "er" / "mine.toml"
    monkeypatch.setenv("MGREMIND_CONFIG", str(target))
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(tmp_path / "systemd"))  # a service's, not the user's
    assert mgremind("init").returncode == 0
    assert target.read_bytes() == PACKAGED_EXAMPLE.read_bytes()
    assert not (tmp_path / "systemd").exists()


def test_init_never_overwrites_without_force(mgremind: Mgremind, tmp_path: Path) -> None:
    target = tmp_path / "mine.toml"
    target.write_text("# mine\n", encoding="utf-8")
    result = mgremind("init", str(target))
    assert result.returncode == 1
    assert result.stdout == ""
    assert str(target) in result.stderr and "--force" in result.stderr
    assert target.read_text(encoding="utf-8") == "# mine\n"
    forced = mgremind("init", "--force", str(target))
    assert forced.returncode == 0, forced.stderr
    assert target.read_bytes() == PACKAGED_EXAMPLE.read_bytes()
    assert f"mgremind -c {target} check" in forced.stdout  # not where mgremind looks: the steps say -c


def test_init_refuses_a_directory(mgremind: Mgremind, tmp_path: Path) -> None:
    result = mgremind("init", str(tmp_path))
    assert result.returncode == 1
    assert "directory" in result.stderr


def test_init_writes_the_file_of_dash_c(mgremind: Mgremind, tmp_path: Path) -> None:
    target = tmp_path / "by-c.toml"
    assert mgremind("-c", str(target), "init").returncode == 0
    assert target.is_file()


# ---------------------------------------------------------------------------- undo


def test_undo_takes_back_the_latest_acknowledgement(mgremind: Mgremind, tmp_path: Path) -> None:
    config = str(plan(tmp_path))
    day = yesterday()
    assert mgremind("-c", config, "taken", f"{day}/breakfast").returncode == 0
    assert mgremind("-c", config, "skip", f"{day}/lunch").returncode == 0
    result = mgremind("-c", config, "undo")
    assert result.returncode == 0, result.stderr
    assert f"{day}/lunch" in result.stdout and "skipped" in result.stdout
    assert acknowledgements(tmp_path) == {f"{day}/breakfast": "taken"}
    named = mgremind("-c", config, "undo", f"{day}/breakfast")
    assert named.returncode == 0
    assert f"{day}/breakfast" in named.stdout and "taken" in named.stdout
    assert acknowledgements(tmp_path) == {}
    nothing = mgremind("-c", config, "undo")
    assert nothing.returncode == 2
    assert "nothing to take back" in nothing.stderr


def test_undo_of_a_reminder_not_acknowledged_names_those_that_are(mgremind: Mgremind, tmp_path: Path) -> None:
    config = str(plan(tmp_path))
    day = yesterday()
    assert mgremind("-c", config, "taken", f"{day}/dinner").returncode == 0
    result = mgremind("-c", config, "undo", f"{day}/lunch")
    assert result.returncode == 2
    assert f"{day}/dinner" in result.stderr


def acknowledgements(tmp_path: Path) -> dict[str, str]:
    return records(tmp_path)[0]


def records(tmp_path: Path) -> tuple[dict[str, str], dict[dt.date, list[str]], dict[str, tuple[float, dt.datetime]]]:
    """The acknowledgements, reports and stock counts of user_home's state."""
    state = State.open(tmp_path / "state" / STATE_FILE, dt.datetime.now(dt.timezone.utc))
    try:
        return state.acknowledgements(), state.reports(), state.stock_counts()
    finally:
        state.close()


def write_records(tmp_path: Path, *records: tuple[str, int]) -> None:
    """Records written `minutes` ago: ("ack", m), ("report", m), ("stock", m), as `taken`, `report`
    and `stock` write them (the commands of one test run within a second: their order is not the
    order of their times)."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    state = State.open(tmp_path / "state" / STATE_FILE, now - dt.timedelta(days=1))
    try:
        for kind, minutes in records:
            at = now - dt.timedelta(minutes=minutes)
            if kind == "ack":
                state.acknowledge(f"{yesterday()}/breakfast+{minutes}", "taken", at)
            elif kind == "report":
                state.add_report(dt.date.fromisoformat(yesterday()), f"cramps-{minutes}", at)
            else:
                state.add_stock_count("citrate", minutes, at)
    finally:
        state.close()


def test_undo_takes_back_the_latest_record_of_any_kind(mgremind: Mgremind, tmp_path: Path) -> None:
    """SPEC §3 v2: "everything a command records can be taken back", the latest first, by the time
    it was recorded, whatever its kind and whatever the order of the tables."""
    config = str(plan(tmp_path))
    write_records(tmp_path, ("report", 30), ("ack", 40), ("stock", 20), ("ack", 10), ("report", 50), ("stock", 45))
    undone = []
    for _ in range(6):
        result = mgremind("-c", config, "undo")
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 1  # one line: what was taken back
        undone.append(result.stdout)
    assert f"{yesterday()}/breakfast+10" in undone[0] and "taken" in undone[0]
    assert "stock#1," in undone[1] and "20 capsules of citrate" in undone[1]
    assert "report#1," in undone[2] and "cramps-30" in undone[2]
    assert f"{yesterday()}/breakfast+40" in undone[3]
    assert "stock#2," in undone[4] and "45 capsules" in undone[4]
    assert "report#2," in undone[5] and "cramps-50" in undone[5]
    assert records(tmp_path) == ({}, {}, {})
    nothing = mgremind("-c", config, "undo")
    assert nothing.returncode == 2
    assert "nothing to take back" in nothing.stderr


def test_undo_of_records_of_the_same_second_takes_the_count_then_the_report_then_the_ack(
    mgremind: Mgremind, tmp_path: Path
) -> None:
    config = str(plan(tmp_path))
    write_records(tmp_path, ("ack", 5), ("report", 5), ("stock", 5))
    outputs = [mgremind("-c", config, "undo").stdout for _ in range(3)]
    assert ["stock#" in outputs[0], "report#" in outputs[1], "/breakfast+5" in outputs[2]] == [True] * 3


def test_undo_takes_back_what_report_and_stock_recorded(mgremind: Mgremind, tmp_path: Path) -> None:
    config = str(plan(tmp_path))
    assert mgremind("-c", config, "report", "nausea", "--date", yesterday()).returncode == 0
    result = mgremind("-c", config, "undo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("undone: report#1, nausea on " + yesterday())
    assert records(tmp_path)[1] == {}
    assert mgremind("-c", config, "stock", "citrate", "12").returncode == 0
    result = mgremind("-c", config, "undo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("undone: stock#1, 12 capsules of citrate on hand")
    assert records(tmp_path)[2] == {}


def test_undo_takes_back_a_report_or_a_count_by_the_name_undo_prints(mgremind: Mgremind, tmp_path: Path) -> None:
    config = str(plan(tmp_path))
    write_records(tmp_path, ("report", 30), ("report", 20), ("stock", 25), ("stock", 15), ("ack", 10))
    result = mgremind("-c", config, "undo", "report#1")  # not the latest: the one named
    assert result.returncode == 0, result.stderr
    assert "report#1," in result.stdout and "cramps-30" in result.stdout
    assert records(tmp_path)[1] == {dt.date.fromisoformat(yesterday()): ["cramps-20"]}
    result = mgremind("-c", config, "undo", "stock#2")
    assert result.returncode == 0, result.stderr
    assert "stock#2," in result.stdout and "15 capsules" in result.stdout
    assert records(tmp_path)[2]["citrate"][0] == 25  # the count before is the latest again
    again = mgremind("-c", config, "undo", "report#1")
    assert again.returncode == 2
    # What there is to take back, by the names `undo` takes, the latest first.
    assert again.stderr.rstrip().endswith(f"recorded last: {yesterday()}/breakfast+10, report#2, stock#1")
    for name in ("stock#", "report#x", "stock#-1", "report#2x"):
        refused = mgremind("-c", config, "undo", name)
        assert refused.returncode == 2, name  # not a name undo prints: a reminder id not acknowledged
    assert len(records(tmp_path)[0]) == 1


def test_undo_help_says_what_id_may_be(mgremind: Mgremind) -> None:
    text = " ".join(mgremind("undo", "--help").stdout.split())
    assert "report#N" in text and "stock#N" in text


def json_history(mgremind: Mgremind, config: str) -> list[dict[str, object]]:
    result = mgremind("-c", config, "history", "--json", "--days", "3")
    assert result.returncode == 0, result.stderr
    days: list[dict[str, object]] = json.loads(result.stdout)["days"]
    return days


# ---------------------------------------------------------------------------- history --csv


def test_history_csv_is_the_json_rows_a_line_a_reminder(mgremind: Mgremind, tmp_path: Path) -> None:
    config = str(plan(tmp_path))
    day = yesterday()
    mgremind("-c", config, "taken", f"{day}/breakfast")
    mgremind("-c", config, "skip", f"{day}/dinner")
    mgremind("-c", config, "report", "cramps", "--date", day)
    result = mgremind("-c", config, "history", "--csv", "--days", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "date,id,status,magnesium_mg,symptoms"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    days = json_history(mgremind, config)
    expected = [(d["date"], r["id"], r["status"]) for d in days for r in d["reminders"]]  # type: ignore[attr-defined]
    assert [(row["date"], row["id"], row["status"]) for row in rows] == expected
    assert {row["status"] for row in rows if row["date"] == day} >= {"taken", "skipped"}
    assert all(row["symptoms"] == "cramps" for row in rows if row["date"] == day)
    assert all(float(row["magnesium_mg"]) == 100 for row in rows)


def test_history_csv_and_json_are_exclusive(mgremind: Mgremind, tmp_path: Path) -> None:
    assert mgremind("-c", str(plan(tmp_path)), "history", "--csv", "--json").returncode == 2


# ---------------------------------------------------------------------------- completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_names_every_command(mgremind: Mgremind, shell: str) -> None:
    result = mgremind("completion", shell)  # no configuration needed
    assert result.returncode == 0, result.stderr
    for name in COMMANDS:
        assert name in result.stdout
    assert "days" in result.stdout.replace("--days", "days")


def test_completion_of_an_unknown_shell_is_bad_usage(mgremind: Mgremind) -> None:
    assert mgremind("completion", "tcsh").returncode == 2


def _bash_complete(script: str, *words: str) -> list[str]:
    """What bash offers for `mgremind WORDS` (the last being completed), through the function the
    script registers; `mgremind` is this environment's (for the ids it prints)."""
    line = " ".join(f"'{word}'" for word in words)
    program = (
        f"{script}\nfunction=$(complete -p mgremind | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')\n"
        "[[ -n $function ]] || exit 9\n"
        f'COMP_WORDS=(mgremind {line}); COMP_CWORD={len(words)}; "$function"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "--norc", "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "PATH": path},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_the_bash_script_completes_commands_and_options(mgremind: Mgremind) -> None:
    script = mgremind("completion", "bash").stdout
    assert _bash_complete(script, "hi") == ["history"]
    assert set(_bash_complete(script, "")) >= set(COMMANDS)
    assert _bash_complete(script, "-c", "x.toml", "history", "--cs") == ["--csv"]
    assert set(_bash_complete(script, "completion", "")) >= {"bash", "zsh", "fish"}


def today_ids(mgremind: Mgremind, config: str) -> list[str]:
    result = mgremind("-c", config, "plan", "--json")
    assert result.returncode == 0, result.stderr
    return [reminder["id"] for reminder in json.loads(result.stdout)["days"][0]["reminders"]]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_the_bash_script_completes_todays_ids_and_the_supplement_ids(mgremind: Mgremind, tmp_path: Path) -> None:
    """SPEC §3 v2: the script completes "supplement ids, today's reminder ids", which mgremind
    prints from the configuration of the command line being completed."""
    assert shutil.which("mgremind", path=str(Path(sys.executable).parent)), "mgremind is not installed here"
    config = str(plan(tmp_path))
    ids = today_ids(mgremind, config)
    assert len(ids) == 3 and ids[0].endswith("/breakfast")
    script = mgremind("completion", "bash").stdout
    for command in ("taken", "skip", "undo"):
        assert _bash_complete(script, "-c", config, command, "") == ids
    assert _bash_complete(script, command, "--config", config, ids[1][:-3]) == [ids[1]]  # -c after the command
    assert _bash_complete(script, "-c", config, "stock", "") == ["citrate", "calcium"]
    assert _bash_complete(script, "-c", config, "stock", "ci") == ["citrate"]
    assert "citrate" not in _bash_complete(script, "-c", config, "stock", "citrate", "")  # UNITS: not an id
    assert _bash_complete(script, "-c", config, "taken", "--") == ["--help", "--config"]  # options stay
    assert ids[0] not in _bash_complete(script, "-c", config, "plan", "")  # no ID there
    assert _bash_complete(script, "-c", str(tmp_path / "none.toml"), "taken", "") == []  # nothing, no error


def test_complete_prints_todays_ids_and_the_supplement_ids(mgremind: Mgremind, tmp_path: Path) -> None:
    config = str(plan(tmp_path))
    ids = mgremind("__complete", "ids", "-c", config)
    assert (ids.returncode, ids.stderr) == (0, "")
    assert ids.stdout.splitlines() == today_ids(mgremind, config)
    supplements = mgremind("-c", config, "__complete", "supplements")
    assert (supplements.returncode, supplements.stdout) == (0, "citrate\ncalcium\n")


def test_complete_is_silent_without_a_usable_configuration(mgremind: Mgremind, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")
    for args in (("__complete", "ids"), ("__complete", "supplements", "-c", str(broken)), ("__complete", "what")):
        result = mgremind(*args)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), args
    assert "__complete" not in mgremind("--help").stdout  # not a command anyone types


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_the_zsh_and_fish_scripts_ask_mgremind_for_the_ids(mgremind: Mgremind) -> None:
    """zsh and fish are not installed here: their scripts, by text (zsh's runs bash's code through
    bashcompinit, so bash checks its syntax)."""
    zsh = mgremind("completion", "zsh").stdout
    assert zsh.startswith("#compdef mgremind\n") and "bashcompinit" in zsh
    assert zsh.rstrip().splitlines()[-1] == "complete -o default -F _mgremind_complete_words mgremind"
    assert '__complete $kind "${config[@]}"' in zsh
    assert "taken|skip|undo) kind=ids ;;" in zsh and "stock) kind=supplements ;;" in zsh
    checked = subprocess.run(["bash", "-n"], input=zsh, capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    fish = mgremind("completion", "fish").stdout
    assert "function __mgremind_words" in fish and "__complete $argv $config" in fish
    ids = next(line for line in fish.splitlines() if "(__mgremind_words ids)" in line)
    assert all(f'"{name} 0"' in ids for name in ("taken", "skip", "undo"))
    supplements = next(line for line in fish.splitlines() if "(__mgremind_words supplements)" in line)
    assert '"stock 0"' in supplements
    # Blocks closed: each function, for and if (not else if) has its end.
    words = [line.split()[0] for line in fish.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert words.count("function") + words.count("for") + words.count("if") == words.count("end")


# ---------------------------------------------------------------------------- a misspelt option


@pytest.mark.parametrize(
    ("args", "meant"),
    [
        (("plan", "--dasy", "3"), "--days"),
        (("history", "--jsn"), "--json"),
        (("next", "--cuont=3"), "--count"),
        (("history", "--week", "--dyas", "3"), "--days"),
        (("export", "--ics", "-", "--dyas", "3"), "--days"),
    ],
)
def test_a_misspelt_option_gets_a_suggestion_from_its_command(
    mgremind: Mgremind, args: tuple[str, ...], meant: str
) -> None:
    result = mgremind("-c", str(EXAMPLE), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"usage: mgremind {args[0]} ")  # the command's usage
    assert f"did you mean `{meant}`?" in result.stderr
    assert len(result.stderr.splitlines()) == 2  # no traceback, no second message


def test_a_misspelt_option_is_matched_against_the_options_of_the_command_typed(mgremind: Mgremind) -> None:
    result = mgremind("-c", str(EXAMPLE), "next", "--dasy", "3")  # --days is plan's and history's, not next's
    assert result.returncode == 2
    assert "--days" not in result.stderr.replace("--dasy", "")
    assert "`mgremind next --help` lists the options" in result.stderr


def test_an_option_like_no_other_points_to_help_and_other_usage_errors_are_argparses(mgremind: Mgremind) -> None:
    unknown = mgremind("-c", str(EXAMPLE), "plan", "--xyzzy")
    assert unknown.returncode == 2 and "did you mean" not in unknown.stderr
    assert "mgremind plan --help" in unknown.stderr
    extra = mgremind("-c", str(EXAMPLE), "plan", "extra")
    assert extra.returncode == 2 and "unrecognized arguments: extra\n" in extra.stderr
    bad = mgremind("-c", str(EXAMPLE), "plan", "--days", "0")
    assert bad.returncode == 2 and "did you mean" not in bad.stderr and "--days" in bad.stderr


# ---------------------------------------------------------------------------- start-up


@pytest.mark.e2e
def test_the_new_code_is_not_imported_on_the_fast_path() -> None:
    probe = "import sys, mgremind.cli; print(sorted({'difflib', 'csv', 'shlex'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.e2e
def test_plan_and_next_import_none_of_it(tmp_path: Path) -> None:
    probe = (
        "import contextlib, io, sys, mgremind.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    codes = [mgremind.cli.main(['-c', {str(EXAMPLE)!r}, command]) for command in ('plan', 'next')]\n"
        "print(codes, sorted({'difflib', 'csv', 'shlex'} & set(sys.modules)))"
    )
    environment = {**os.environ, "STATE_DIRECTORY": str(tmp_path / "state")}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True, env=environment
    )
    assert done.stdout.strip() == "[0, 0] []"
