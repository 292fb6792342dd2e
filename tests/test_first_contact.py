"""First contact (issue 11, SPEC §3 v2): no command, -V, a misspelt command, `init`, `undo`,
`history --csv`, `completion`; run in this process (conftest.mgremind) unless a shell or a fresh
interpreter is the point."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
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
    assert "no acknowledgement" in nothing.stderr


def test_undo_of_a_reminder_not_acknowledged_names_those_that_are(mgremind: Mgremind, tmp_path: Path) -> None:
    config = str(plan(tmp_path))
    day = yesterday()
    assert mgremind("-c", config, "taken", f"{day}/dinner").returncode == 0
    result = mgremind("-c", config, "undo", f"{day}/lunch")
    assert result.returncode == 2
    assert f"{day}/dinner" in result.stderr


def acknowledgements(tmp_path: Path) -> dict[str, str]:
    state = State.open(tmp_path / "state" / STATE_FILE, dt.datetime.now(dt.timezone.utc))  # user_home's
    try:
        return state.acknowledgements()
    finally:
        state.close()


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
    line = " ".join(f"'{word}'" for word in words)
    program = (
        f"{script}\ncomplete -p mgremind >/dev/null || exit 9\n"
        f"COMP_WORDS=(mgremind {line}); COMP_CWORD={len(words)}; _mgremind_complete\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, timeout=30, check=False)
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


# ---------------------------------------------------------------------------- start-up


@pytest.mark.e2e
def test_the_new_code_is_not_imported_on_the_fast_path() -> None:
    probe = "import sys, mgremind.cli; print(sorted({'difflib', 'csv', 'shlex'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.strip() == "[]"
