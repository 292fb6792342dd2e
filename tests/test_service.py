"""Running mgremind as a systemd service (issue 4, SPEC §5): `install-service`, the shipped units under
`systemd-analyze`, journald priority prefixes on the daemon's log lines, and the warning about
world-readable files that hold notification URLs with credentials.

Nothing here writes to /etc/systemd (the tests may run as root): every `install-service` run uses
--user with a temporary XDG_CONFIG_HOME, --output, or --print.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Start
from daemon_harness import MGREMIND, Daemon, child_environ, write_config
from plans import citrate, magnesium, meal, strings, table, timezone
from timing import LEAD, ahead

from mgremind.cli import main
from mgremind.config.secrets import url_has_credentials
from mgremind.logs import JournalFormatter, stderr_is_journal
from mgremind.systemd import exec_start, render_unit

UTC = dt.timezone.utc
SYSTEM_UNIT_FILE = Path("/etc/systemd/system/mgremind.service")
# A URL with a user and a password (port 9 is "discard": nothing ever listens there in these tests).
SECRET_URL = "json://user:pw@127.0.0.1:9/x"
EXPOSED = "holds notification URLs with credentials"
# The plain (non-journal) log format: "2026-11-25T14:08:00.123+01:00 INFO message".
TIMESTAMPED = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S"
)
STARTS_WITH_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
JOURNAL_LINE = re.compile(r"<([0-7])>(.*)")

# ---------------------------------------------------------------------------- helpers


def plan_toml(
    meal_time: str, *, urls: Sequence[str] = (), notify_extra: Mapping[str, str] | None = None, console: bool = True
) -> str:
    """A valid plan in UTC: one meal a day at `meal_time` (HH:MM:SS), one magnesium capsule.
    `notify_extra`: more keys of [notify], as TOML value text."""
    return (
        timezone("UTC")
        + table("notify", console="true" if console else "false", urls=strings(urls), **(notify_extra or {}))
        + table("reminders", catch_up='"1m"')
        + meal("breakfast", meal_time)
        + citrate(100)
        + magnesium(100)
    )


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def capture(command: Sequence[str], cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs a command to its end; its status is for the caller to judge."""
    return subprocess.run(list(command), cwd=cwd, check=False, capture_output=True, text=True, timeout=60)


def clean_env(tmp_path: Path) -> dict[str, str]:
    """This environment without systemd's and mgremind's variables; HOME and XDG_CONFIG_HOME in tmp."""
    return child_environ(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "xdg"))


def install(
    args: Sequence[str], tmp_path: Path, *, python_m: bool = False, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`mgremind ARGS` (the console script, or `python -m mgremind`) with a tmp XDG_CONFIG_HOME."""
    # Never the system unit directory: the tests may run as root.
    assert {"--user", "--output", "--print"} & set(args), f"install-service {args} would write to /etc/systemd"
    command = [sys.executable, "-m", "mgremind"] if python_m else [str(MGREMIND)]
    return subprocess.run(
        [*command, *args],
        env=clean_env(tmp_path),
        cwd=cwd or tmp_path,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def user_unit_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "systemd" / "user" / "mgremind.service"


def printed_unit(tmp_path: Path, *args: str, python_m: bool = False) -> str:
    result = install(["install-service", "--print", *args], tmp_path, python_m=python_m)
    assert result.returncode == 0, result.stderr
    return result.stdout


def setting(unit: str, key: str) -> list[str]:
    """Every value of KEY= in the unit's text (comments are not settings)."""
    return [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(f"{key}=")]


def exec_words(unit: str) -> list[str]:
    """ExecStart= split into words (systemd's quoting of these paths is shell-like)."""
    values = setting(unit, "ExecStart")
    assert len(values) == 1, unit
    return shlex.split(values[0])


def home_path(path: str) -> bool:
    """True for a path that ProtectHome=yes hides from a system service (systemd.exec(5))."""
    return path in ("/home", "/root", "/run/user") or path.startswith(("/home/", "/root/", "/run/user/"))


def files_the_service_reads(words: Sequence[str]) -> list[str]:
    """Real paths the service's ExecStart needs: the program, the interpreter that runs it (the
    shebang's, for a console script), the interpreter's import path and mgremind's package, the config."""
    program = words[0]
    if list(words[1:3]) == ["-m", "mgremind"]:
        interpreter = program
    else:
        head = Path(program).read_bytes()[:1000].decode(errors="replace")
        assert head.startswith("#!"), f"{program} is neither a script nor run with -m"
        interpreter = head[2:].split()[0]
        # pip's launcher when the interpreter's path is too long for "#!": #!/bin/sh, then 'exec' "PYTHON" "$0" "$@"
        trampoline = re.search(r"'exec' \"?([^\"\s]+)", head)
        if trampoline is not None:
            interpreter = trampoline.group(1)
    probe = (
        "import importlib.util, os, sys\n"
        "print(os.path.realpath(sys.executable))\n"
        "for entry in sys.path:\n"
        "    if entry and os.path.exists(entry): print(os.path.realpath(entry))\n"
        "spec = importlib.util.find_spec('mgremind')\n"
        "if spec is not None and spec.origin: print(os.path.realpath(os.path.dirname(spec.origin)))\n"
    )
    result = capture([interpreter, "-c", probe])
    assert result.returncode == 0, result.stderr
    paths = [os.path.realpath(program), os.path.realpath(interpreter), *result.stdout.splitlines()]
    if "-c" in words:
        paths.append(os.path.realpath(words[list(words).index("-c") + 1]))
    return paths


def real_home() -> Path:
    """The real home directory of the user running the tests (under /home or /root), not $HOME."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    if not home_path(str(home)):
        pytest.fail(f"this test needs a home directory under /home or /root; {home} is not")
    return home


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail(
            "systemd-analyze is missing: the shipped units cannot be checked. Install Debian's systemd "
            "package (apt-get install systemd; .ci/run does this) and run the tests again."
        )
    return found


# ---------------------------------------------------------------------------- install-service: content


@pytest.mark.e2e
def test_exec_start_is_the_real_path_of_the_console_script(tmp_path: Path) -> None:
    for user in (False, True):
        unit = printed_unit(tmp_path, *(["--user"] if user else []))
        assert exec_words(unit) == [str(MGREMIND.resolve()), "run"]
        assert "@PROTECT_HOME@" not in unit and "@EXEC_START@" not in unit


@pytest.mark.e2e
def test_exec_start_carries_the_absolute_config_path(tmp_path: Path) -> None:
    config = write(tmp_path / "plans" / "config.toml", plan_toml("08:00:00"))
    expected = [str(MGREMIND.resolve()), "-c", str(config.resolve()), "run"]
    # -c before or after the command, relative to the working directory: the unit holds the absolute path.
    for args in (["-c", "plans/config.toml", "install-service"], ["install-service", "-c", "plans/config.toml"]):
        for user in ([], ["--user"]):
            result = install([*args, "--print", *user], tmp_path, cwd=tmp_path)
            assert result.returncode == 0, result.stderr
            assert exec_words(result.stdout) == expected


@pytest.mark.e2e
def test_exec_start_of_the_console_script_starts_this_installation(tmp_path: Path) -> None:
    words = exec_words(printed_unit(tmp_path))
    version = capture([*words[:-1], "--version"], cwd="/")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("mgremind ")


@pytest.mark.e2e
def test_python_m_form_when_run_as_python_m_mgremind(tmp_path: Path) -> None:
    """`python -m mgremind install-service`: ExecStart runs `INTERPRETER -m mgremind run` with an
    interpreter that has this mgremind (a venv's python, not the base interpreter it links to)."""
    words = exec_words(printed_unit(tmp_path, python_m=True))
    assert words[1:] == ["-m", "mgremind", "run"]
    assert Path(words[0]).is_absolute()
    # systemd starts a service in / (WorkingDirectory= unset): no package found in the working directory.
    version = capture([words[0], "-m", "mgremind", "--version"], cwd="/")
    assert version.returncode == 0, f"ExecStart={' '.join(words)} cannot start mgremind: {version.stderr.strip()}"
    assert version.stdout.startswith("mgremind ")
    prefix = capture([words[0], "-c", "import sys; print(sys.prefix)"], cwd="/")
    assert prefix.stdout.strip() == sys.prefix, "ExecStart's interpreter is not this installation's"


@pytest.mark.e2e
@pytest.mark.parametrize("python_m", [False, True], ids=["console-script", "python-m"])
def test_protect_home_lets_the_system_service_read_its_program(tmp_path: Path, python_m: bool) -> None:
    """ProtectHome=yes hides /home, /root and /run/user: it is right only if nothing the service runs
    (script, interpreter, import path, package, config) lives there; otherwise read-only."""
    config = write(tmp_path / "config.toml", plan_toml("08:00:00"))
    unit = printed_unit(tmp_path, "-c", str(config), python_m=python_m)
    needed = files_the_service_reads(exec_words(unit))
    in_home = [path for path in needed if home_path(path)]
    expected = "read-only" if in_home else "yes"
    assert setting(unit, "ProtectHome") == [expected], f"files under a home directory: {in_home}"


@pytest.mark.e2e
def test_protect_home_is_read_only_for_a_config_in_a_home_directory(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=real_home(), prefix=".mgremind-test-") as directory:
        config = write(Path(directory) / "config.toml", plan_toml("08:00:00"))
        unit = printed_unit(tmp_path, "-c", str(config))
        assert exec_words(unit)[1:] == ["-c", str(config.resolve()), "run"]
        assert setting(unit, "ProtectHome") == ["read-only"]


@pytest.mark.parametrize(
    ("command", "protect_home"),
    [
        ("/usr/local/bin/mgremind run", "yes"),
        ("/opt/mgremind/bin/mgremind -c /etc/mgremind/config.toml run", "yes"),
        ("/home/ann/.local/bin/mgremind run", "read-only"),
        ("/usr/local/bin/mgremind -c /home/ann/plan.toml run", "read-only"),
        ("/root/.venv/bin/mgremind run", "read-only"),
        ("/usr/bin/python3 -m mgremind -c /run/user/1000/plan.toml run", "read-only"),
        # Directories merely named "home" are not home directories.
        ("/usr/local/bin/mgremind -c /srv/home/plan.toml run", "yes"),
        ("/opt/home/bin/mgremind run", "yes"),
    ],
)
def test_protect_home_of_a_rendered_system_unit(command: str, protect_home: str) -> None:
    unit = render_unit(False, command)
    assert setting(unit, "ExecStart") == [command]
    assert setting(unit, "ProtectHome") == [protect_home]


def test_user_unit_has_no_placeholders() -> None:
    unit = render_unit(True, "/usr/local/bin/mgremind run")
    assert setting(unit, "ExecStart") == ["/usr/local/bin/mgremind run"]
    assert "@" not in "\n".join(line for line in unit.splitlines() if not line.startswith("#"))


def test_exec_start_quotes_paths_for_systemd() -> None:
    """systemd.service(5), "Command lines": a word with spaces is double-quoted, "$$" is a literal
    "$" and "%%" a literal "%" (specifiers), inside quotes as well."""
    script = str(MGREMIND.resolve())
    assert exec_start(str(MGREMIND), sys.executable, Path("/srv/my plans/config.toml")) == (
        f'{script} -c "/srv/my plans/config.toml" run'
    )
    assert exec_start(str(MGREMIND), sys.executable, Path("/srv/100%/a$b.toml")) == (
        f'{script} -c "/srv/100%%/a$$b.toml" run'
    )


# ---------------------------------------------------------------------------- install-service: writing


@pytest.mark.e2e
def test_user_unit_is_written_to_xdg_config_home(tmp_path: Path) -> None:
    result = install(["install-service", "--user"], tmp_path)
    assert result.returncode == 0, result.stderr
    path = user_unit_file(tmp_path)
    assert path.read_text(encoding="utf-8") == printed_unit(tmp_path, "--user")
    assert f"Wrote {path}" in result.stdout
    assert sorted(p.name for p in path.parent.iterdir()) == ["mgremind.service"], "a temporary file was left"


@pytest.mark.e2e
def test_output_writes_the_unit_there(tmp_path: Path) -> None:
    """--output with the user unit: the system unit of this very virtualenv may be refused (its
    interpreter pyenv's under a 0700 /root, issue 11); tests/test_install_service.py writes the
    system unit with --output from an installation its service can run."""
    target = tmp_path / "out" / "sub" / "mgremind.service"
    result = install(["install-service", "--user", "--output", str(target)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == printed_unit(tmp_path, "--user")
    assert f"Wrote {target}" in result.stdout
    assert not user_unit_file(tmp_path).exists()


@pytest.mark.e2e
def test_second_identical_run_is_up_to_date(tmp_path: Path) -> None:
    assert install(["install-service", "--user"], tmp_path).returncode == 0
    path = user_unit_file(tmp_path)
    written = path.read_text(encoding="utf-8")
    again = install(["install-service", "--user"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert path.read_text(encoding="utf-8") == written


@pytest.mark.e2e
def test_changed_unit_is_refused_without_force_and_replaced_with_force(tmp_path: Path) -> None:
    target = tmp_path / "mgremind.service"
    # --user: the system unit of this very virtualenv may be refused (issue 11); the same code writes both.
    assert install(["install-service", "--user", "--output", str(target)], tmp_path).returncode == 0
    fresh = target.read_text(encoding="utf-8")
    edited = fresh.replace("RestartSec=10s", "RestartSec=30s")
    assert edited != fresh
    target.write_text(edited, encoding="utf-8")

    refused = install(["install-service", "--user", "--output", str(target)], tmp_path)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert target.read_text(encoding="utf-8") == edited, "a changed unit was touched without --force"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".service") or ".new" in p.name) == [
        "mgremind.service"
    ]

    forced = install(["install-service", "--user", "--output", str(target), "--force"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert target.read_text(encoding="utf-8") == fresh


@pytest.mark.e2e
def test_changed_user_unit_is_refused_without_force(tmp_path: Path) -> None:
    path = write(user_unit_file(tmp_path), "[Service]\nExecStart=/usr/bin/true\n", 0o644)
    refused = install(["install-service", "--user"], tmp_path)
    assert refused.returncode == 1
    assert path.read_text(encoding="utf-8") == "[Service]\nExecStart=/usr/bin/true\n"
    forced = install(["install-service", "--user", "--force"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert path.read_text(encoding="utf-8") == printed_unit(tmp_path, "--user")


@pytest.mark.e2e
def test_print_writes_nothing(tmp_path: Path) -> None:
    system_unit_existed = SYSTEM_UNIT_FILE.exists()
    for args in (["--user"], [], ["--output", str(tmp_path / "out.service")]):
        result = install(["install-service", "--print", *args], tmp_path)
        assert result.returncode == 0, result.stderr
        assert setting(result.stdout, "ExecStart"), "--print must print the unit"
        assert "Next:" not in result.stdout, "--print prints the unit only"
    assert not user_unit_file(tmp_path).exists()
    assert not (tmp_path / "out.service").exists()
    assert not (tmp_path / "xdg").exists()
    assert SYSTEM_UNIT_FILE.exists() == system_unit_existed


@pytest.mark.e2e
def test_next_steps_for_a_user_service(tmp_path: Path) -> None:
    result = install(["install-service", "--user"], tmp_path)
    assert result.returncode == 0, result.stderr
    for command in (
        "systemctl --user daemon-reload",
        "systemctl --user enable --now mgremind",
        "loginctl enable-linger",
        f"{MGREMIND.resolve()} check",
        "~/.config/mgremind/config.toml",
        "secret-urls.txt",
    ):
        assert command in result.stdout, f"{command!r} missing from:\n{result.stdout}"


@pytest.mark.e2e
def test_next_steps_check_the_config_the_unit_reads(tmp_path: Path) -> None:
    """With --config the unit runs `-c PATH`: the printed check command must check that file, not
    ~/.config/mgremind/config.toml that the service never reads. (The system unit: in
    tests/test_install_service.py, from a config and an installation outside /tmp.)"""
    config = write(tmp_path / "plans" / "config.toml", plan_toml("08:00:00"))
    result = install(["-c", str(config), "install-service", "--user"], tmp_path)
    assert result.returncode == 0, result.stderr
    check_lines = [line for line in result.stdout.splitlines() if line.rstrip().endswith(" check")]
    assert check_lines, result.stdout
    assert all(f"-c {config.resolve()} check" in line for line in check_lines), result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize(
    "config_text", ["this is = not TOML =", plan_toml("25:00:00")], ids=["not-toml", "invalid-plan"]
)
def test_invalid_config_exits_2_and_writes_nothing(tmp_path: Path, config_text: str) -> None:
    config = write(tmp_path / "config.toml", config_text)
    for args in (["-c", str(config), "install-service", "--user"], ["install-service", "--user", "-c", str(config)]):
        result = install(args, tmp_path)
        assert result.returncode == 2, result.stderr
        assert str(config) in result.stderr
    missing = install(["-c", str(tmp_path / "nowhere.toml"), "install-service", "--user"], tmp_path)
    assert missing.returncode == 2
    assert not user_unit_file(tmp_path).exists()


# ---------------------------------------------------------------------------- systemd-analyze


def rendered_units(tmp_path: Path) -> tuple[Path, Path]:
    """Both units for the installed console script, each as mgremind.service in its own directory."""
    # --print, not --output: the system unit of this very virtualenv may be refused (its interpreter
    # pyenv's under a 0700 /root, issue 11); --print shows it all the same, with a warning.
    system = write(tmp_path / "system" / "mgremind.service", printed_unit(tmp_path), 0o644)
    user = write(tmp_path / "user" / "mgremind.service", printed_unit(tmp_path, "--user"), 0o644)
    return system, user


@pytest.mark.e2e
def test_both_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    for unit in rendered_units(tmp_path):
        # The user unit is verified in system mode: `--user verify` needs a running user manager.
        result = capture([analyze, "verify", str(unit)])
        about_unit = [line for line in result.stderr.splitlines() if "mgremind" in line]
        assert result.returncode == 0, f"{unit.parent.name} unit: {result.stderr}"
        assert about_unit == [], f"{unit.parent.name} unit: {about_unit}"


def exposure(analyze: str, unit: Path) -> float:
    result = capture([analyze, "security", "--offline=true", str(unit)])
    assert result.returncode == 0, result.stdout + result.stderr
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", plain)
    assert found is not None, f"no exposure level in:\n{plain}"
    return float(found.group(1))


@pytest.mark.e2e
def test_system_unit_exposure_is_at_most_2(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    system, _ = rendered_units(tmp_path)
    level = exposure(analyze, system)
    assert level <= 2.0, f"systemd-analyze security: exposure {level} > 2.0"


@pytest.mark.e2e
def test_system_unit_for_a_home_config_is_still_hardened(tmp_path: Path) -> None:
    """A config under a home directory relaxes ProtectHome to read-only; the unit stays <= 2.0."""
    analyze = systemd_analyze()
    with tempfile.TemporaryDirectory(dir=real_home(), prefix=".mgremind-test-") as directory:
        config = write(Path(directory) / "config.toml", plan_toml("08:00:00"))
        unit = write(tmp_path / "home" / "mgremind.service", printed_unit(tmp_path, "-c", str(config)), 0o644)
    assert setting(unit.read_text(encoding="utf-8"), "ProtectHome") == ["read-only"]
    level = exposure(analyze, unit)
    assert level <= 2.0, f"systemd-analyze security: exposure {level} > 2.0"


# ---------------------------------------------------------------------------- journald prefixes: unit level


@pytest.mark.parametrize(
    ("level", "priority"),
    # sd-daemon(3) / syslog(3): 2 crit, 3 err, 4 warning, 6 info, 7 debug.
    [(logging.DEBUG, 7), (logging.INFO, 6), (logging.WARNING, 4), (logging.ERROR, 3), (logging.CRITICAL, 2)],
)
def test_journal_formatter_priorities(level: int, priority: int) -> None:
    record = logging.LogRecord("mgremind", level, __file__, 1, "sent %s to %s", ("2026-11-25/lunch", "console"), None)
    assert JournalFormatter("%(message)s").format(record) == f"<{priority}>sent 2026-11-25/lunch to console"


def test_stderr_is_journal_only_for_the_named_stream(tmp_path: Path) -> None:
    with (tmp_path / "journal").open("w") as journal, (tmp_path / "other").open("w") as other:
        status = os.fstat(journal.fileno())
        stream = {"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}
        assert stderr_is_journal(stream, journal.fileno())
        assert not stderr_is_journal(stream, other.fileno())
        assert not stderr_is_journal({}, journal.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": "garbage"}, journal.fileno())


# ---------------------------------------------------------------------------- journald prefixes: the daemon


@dataclass(frozen=True)
class Run:
    daemon: Daemon  # exited
    reminder_id: str  # the reminder it sent to the console


def reminded(tmp_path: Path, start: Start, *, journal: str | None, log_level: str | None = None) -> Run:
    """A daemon on a plan whose one reminder, to the console, falls due LEAD seconds ahead: it sends it,
    then gets SIGHUP with a broken config (the reload fails, the old plan runs on), then SIGTERM.
    journal: "stderr" (JOURNAL_STREAM names its stderr), "stdout" (another stream), None (unset)."""
    at = ahead(LEAD)
    config = write_config(tmp_path, plan_toml(f"{at:%H:%M:%S}"))
    daemon = start(config, args=["--log-level", log_level] if log_level else [], journal=journal)
    reminder_id = f"{at.date().isoformat()}/breakfast"  # SPEC §3: DATE/MEAL, the date in UTC here
    if log_level is None:
        daemon.wait_for_log(f"sent {reminder_id} to console", 20)
    else:  # no info lines: the console channel's output says it
        daemon.wait_for_log("Magnesium: breakfast", 20, stream="stdout")
    daemon.config.write_text("this is = not TOML =", encoding="utf-8")
    daemon.send(signal.SIGHUP)
    daemon.wait_for_log("keeping the previous plan", 20)
    if log_level is None:
        assert daemon.stop() == 0
    else:  # nor the "stopped" line
        daemon.send(signal.SIGTERM)
        assert daemon.wait() == 0
    return Run(daemon, reminder_id)


def started_with_a_secret(tmp_path: Path, start: Start, config_mode: int) -> Daemon:
    """A daemon (JOURNAL_STREAM names its stderr) on a config at `config_mode` with a URL holding a
    password; its reminder six hours away (neither due nor within catch_up of now). Started, stopped."""
    config = write_config(tmp_path, plan_toml(f"{ahead(6 * 3600):%H:%M:%S}", urls=[SECRET_URL]), config_mode)
    daemon = start(config, journal="stderr").ready()
    assert daemon.stop() == 0
    return daemon


def journal_lines(text: str) -> list[tuple[int, str]]:
    """(priority, message) of each line; fails on a line without a priority prefix."""
    parsed = []
    for line in text.splitlines():
        found = JOURNAL_LINE.fullmatch(line)
        assert found is not None, f"a line without a priority prefix: {line!r}"
        parsed.append((int(found.group(1)), found.group(2)))
    return parsed


@pytest.mark.e2e
def test_journal_lines_carry_the_priority_and_no_timestamp(tmp_path: Path, start: Start) -> None:
    run = reminded(tmp_path, start, journal="stderr")
    lines = journal_lines(run.daemon.stderr)
    assert (6, f"sent {run.reminder_id} to console") in lines, run.daemon.stderr
    assert any(priority == 6 and message.startswith("started: ") for priority, message in lines)
    stamped = [message for _, message in lines if STARTS_WITH_DATE.match(message)]
    assert stamped == [], "journald adds the time: the daemon must not"
    assert "Magnesium: breakfast" in run.daemon.stdout


@pytest.mark.e2e
def test_journal_error_lines_have_priority_3(tmp_path: Path, start: Start) -> None:
    """SIGHUP with a broken config: the reload failure is an error (<3>), the old plan keeps running."""
    run = reminded(tmp_path, start, journal="stderr")
    lines = journal_lines(run.daemon.stderr)
    failures = [(priority, message) for priority, message in lines if message.startswith("reload failed")]
    assert failures, run.daemon.stderr
    assert all(priority == 3 for priority, _ in failures), failures
    assert (3, "reload failed: keeping the previous plan") in failures


def assert_timestamped(stderr: str) -> None:
    lines = stderr.splitlines()
    assert lines
    for line in lines:
        assert TIMESTAMPED.match(line), f"a line without a timestamp: {line!r}"
        assert not line.startswith("<"), line


@pytest.mark.e2e
def test_without_journal_stream_lines_carry_a_timestamp(tmp_path: Path, start: Start) -> None:
    run = reminded(tmp_path, start, journal=None)
    stderr = run.daemon.stderr
    assert_timestamped(stderr)
    assert re.search(rf"^\S+ INFO sent {re.escape(run.reminder_id)} to console$", stderr, re.MULTILINE)
    assert re.search(r"^\S+ ERROR reload failed: keeping the previous plan$", stderr, re.MULTILINE)


@pytest.mark.e2e
def test_journal_stream_of_another_file_means_timestamps(tmp_path: Path, start: Start) -> None:
    """A child of a service inherits $JOURNAL_STREAM with another stderr: it counts only for its stream."""
    run = reminded(tmp_path, start, journal="stdout")
    stderr = run.daemon.stderr
    assert_timestamped(stderr)
    assert f"INFO sent {run.reminder_id} to console" in stderr


@pytest.mark.e2e
def test_log_level_warning_hides_info_lines(tmp_path: Path, start: Start) -> None:
    run = reminded(tmp_path, start, journal="stderr", log_level="warning")
    lines = journal_lines(run.daemon.stderr)
    assert [message for priority, message in lines if priority > 4] == []
    assert (3, "reload failed: keeping the previous plan") in lines
    assert "Magnesium: breakfast" in run.daemon.stdout, "the reminder itself is still delivered"


@pytest.mark.e2e
def test_daemon_warns_at_start_about_an_exposed_config(tmp_path: Path, start: Start) -> None:
    exposed = started_with_a_secret(tmp_path, start, 0o644)
    lines = journal_lines(exposed.stderr)
    config = exposed.config
    warnings = [message for priority, message in lines if EXPOSED in message]
    assert len(warnings) == 1, exposed.stderr
    assert (4, warnings[0]) in lines, "the exposure warning is a warning (<4>)"
    assert str(config) in warnings[0] and "urls_file" in warnings[0]
    assert "user:pw" not in exposed.stderr, "the secret itself never appears in the log"
    started_at = next(i for i, (_, message) in enumerate(lines) if message.startswith("started: "))
    assert lines.index((4, warnings[0])) < started_at, "the warning comes at start"


@pytest.mark.e2e
def test_daemon_says_nothing_about_a_private_config(tmp_path: Path, start: Start) -> None:
    private = started_with_a_secret(tmp_path, start, 0o600)
    assert "started: " in private.stderr
    assert EXPOSED not in private.stderr
    assert "chmod" not in private.stderr


# ---------------------------------------------------------------------------- permission warning: check


@pytest.fixture
def no_credentials_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CREDENTIALS_DIRECTORY", "MGREMIND_CONFIG"):
        monkeypatch.delenv(key, raising=False)


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """`mgremind -c CONFIG check`: the warning lines about exposed secret files."""
    status = main(["-c", str(config), "check"])
    output = capsys.readouterr().out
    assert status == 0, output
    return [line for line in output.splitlines() if EXPOSED in line or "chmod" in line]


def assert_names(warnings: list[str], path: Path) -> None:
    assert len(warnings) == 1, warnings
    assert str(path) in warnings[0]
    assert f"chmod 600 {path}" in warnings[0]


@pytest.mark.usefixtures("no_credentials_directory")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_check_warns_about_a_config_readable_by_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int
) -> None:
    config = write(tmp_path / "config.toml", plan_toml("08:00:00", urls=[SECRET_URL]), mode)
    warnings = check(config, capsys)
    # The main file must stay readable by a service's own user: the advice is to move the URLs out.
    assert len(warnings) == 1, warnings
    assert str(config) in warnings[0]
    assert "urls_file" in warnings[0]
    assert "pw@" not in "\n".join(warnings)


@pytest.mark.usefixtures("no_credentials_directory")
@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_check_is_quiet_about_a_private_config(tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int) -> None:
    config = write(tmp_path / "config.toml", plan_toml("08:00:00", urls=[SECRET_URL]), mode)
    assert check(config, capsys) == []


@pytest.mark.usefixtures("no_credentials_directory")
def test_check_warns_about_an_exposed_urls_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The main config holds no secret: readable by all, that is fine.
    config = write(
        tmp_path / "config.toml", plan_toml("08:00:00", notify_extra={"urls_file": '"secret-urls.txt"'}), 0o644
    )
    urls = write(tmp_path / "secret-urls.txt", f"# my channels\n\n{SECRET_URL}\n", 0o644)
    assert_names(check(config, capsys), urls)
    urls.chmod(0o600)
    assert check(config, capsys) == []


def test_check_warns_about_an_exposed_credential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under systemd, urls_file is read from $CREDENTIALS_DIRECTORY (LoadCredential=): that file counts."""
    monkeypatch.delenv("MGREMIND_CONFIG", raising=False)
    config = write(
        tmp_path / "config.toml", plan_toml("08:00:00", notify_extra={"urls_file": '"secret-urls.txt"'}), 0o644
    )
    credential = write(tmp_path / "credentials" / "secret-urls.txt", f"{SECRET_URL}\n", 0o644)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credential.parent))
    assert_names(check(config, capsys), credential)
    credential.chmod(0o400)  # what systemd gives a credential
    assert check(config, capsys) == []


@pytest.mark.usefixtures("no_credentials_directory")
@pytest.mark.parametrize(
    "apprise_text",
    [f"{SECRET_URL}\n", f"urls:\n  - {SECRET_URL}\n", f"reminders={SECRET_URL}\n"],
    ids=["text", "yaml", "tagged-text"],
)
def test_check_warns_about_an_exposed_apprise_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], apprise_text: str
) -> None:
    config = write(tmp_path / "config.toml", plan_toml("08:00:00", notify_extra={"config": '"apprise.yml"'}), 0o644)
    apprise_config = write(tmp_path / "apprise.yml", apprise_text, 0o644)
    assert_names(check(config, capsys), apprise_config)
    apprise_config.chmod(0o600)
    assert check(config, capsys) == []


@pytest.mark.usefixtures("no_credentials_directory")
def test_check_warns_about_credentials_given_as_apprise_yaml_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """apprise's YAML config may give the password as a key of the URL's entry (apprise reads
    user "bob", password "hunter2" from this file): the file holds a credential all the same."""
    config = write(tmp_path / "config.toml", plan_toml("08:00:00", notify_extra={"config": '"apprise.yml"'}), 0o644)
    apprise_config = write(
        tmp_path / "apprise.yml",
        "urls:\n  - json://example.com/notify:\n      - user: bob\n        pass: hunter2\n",
        0o644,
    )
    assert_names(check(config, capsys), apprise_config)


@pytest.mark.usefixtures("no_credentials_directory")
def test_check_is_quiet_about_urls_without_credentials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = ["ntfy://mytopic", "json://127.0.0.1:8080/notify"]
    config = write(
        tmp_path / "config.toml",
        plan_toml("08:00:00", urls=plain, notify_extra={"urls_file": '"urls.txt"', "config": '"apprise.yml"'}),
        0o644,
    )
    write(tmp_path / "urls.txt", "\n".join(plain) + "\n", 0o644)
    write(tmp_path / "apprise.yml", "urls:\n" + "".join(f"  - {url}\n" for url in plain), 0o644)
    assert check(config, capsys) == []


# ---------------------------------------------------------------------------- url_has_credentials


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        # user and password
        (SECRET_URL, True),
        ("mailto://ann:app-password@gmail.com", True),
        ("json://bob:hunter2@example.com:8443/notify", True),
        # apprise takes ?user= and ?pass= as the URL's credentials (json://, xml://, form://, ...)
        ("json://example.com/notify?user=bob&pass=hunter2", True),
        # a Telegram bot token (BOTID:SECRET) in the host position, the chat id in the path
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321", True),
        # a webhook id and token, an app token in the path, an API key in the query
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", True),
        ("gotify://gotify.example.com/AbCdEf123456", True),
        ("json://example.com/notify?apikey=3f9a1c7e5b2d8f40", True),
        # plain hosts, IPs, ports, topics and options: no secret
        ("ntfy://mytopic", False),
        ("ntfys://ntfy.sh/mytopic?priority=high&tags=pill", False),
        ("json://127.0.0.1:8080/notify", False),
        ("json://192.168.1.20:8123/api/reminders", False),
        ("json://localhost:8080/notify", False),
        ("json://nas.local/notify", False),
        ("json://[::1]:8080/notify", False),
        ("json://[2001:db8::1]:8080/notify", False),
        ("json://homeassistant:8123/api/notify", False),
        ("json://server01:8080/notify", False),
        ("json://example.com:8443/notify?format=text", False),
    ],
)
def test_url_has_credentials(url: str, secret: bool) -> None:
    assert url_has_credentials(url) is secret
