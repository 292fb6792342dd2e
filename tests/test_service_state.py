"""The command line on the service's state (SPEC §5, v2; issue 11): which state a command means
(config.paths.state_directory), and what root's `mgremind taken` leaves in a state directory that
belongs to the service's user (state.create_as_owner): nothing that user cannot write.

The end-to-end test runs the daemon as `nobody` (as a DynamicUser= service runs as a user of its
own) with /usr/bin/python3 on a world-readable copy of the package and its dependencies under
/dev/shm (the virtualenv's interpreter is pyenv's under /root, 0700), and `mgremind` as root beside
it on the same state.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO
from daemon_harness import MGREMIND, Daemon, acks, child_environ, mgremind_process, plan_toml, write_config
from receivers import JsonReceiver
from test_loop_e2e import arrived, first_meal, repeats, titles
from timing import reminder_id, wait_until

from mgremind.config.paths import SYSTEM_CONFIG, SYSTEM_STATE, state_directory, state_file

PYTHON = Path("/usr/bin/python3")  # Debian's: every user may run it
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: it acts as another user")

# ---------------------------------------------------------------------------- which state (pure)


def test_the_system_configuration_means_the_system_services_state() -> None:
    assert str(SYSTEM_CONFIG) == "/etc/mgremind/config.toml"  # ConfigurationDirectory=mgremind
    assert str(SYSTEM_STATE) == "/var/lib/mgremind"  # StateDirectory=mgremind
    home = {"HOME": "/home/ann"}
    assert state_directory(home, SYSTEM_CONFIG) == SYSTEM_STATE
    assert state_directory(home, Path("/etc/mgremind/../mgremind/config.toml")) == SYSTEM_STATE
    assert state_file(home, SYSTEM_CONFIG) == SYSTEM_STATE / "state.sqlite3"


def test_units_name_the_system_directories() -> None:
    unit = (REPO / "mgremind" / "units" / "mgremind.service").read_text(encoding="utf-8")
    assert re.search(r"^StateDirectory=mgremind$", unit, re.MULTILINE)
    assert re.search(r"^ConfigurationDirectory=mgremind$", unit, re.MULTILINE)


@pytest.mark.parametrize(
    "config",
    [
        None,
        Path("/home/ann/.config/mgremind/config.toml"),
        Path("/etc/mgremind/other.toml"),
        Path("/srv/etc/mgremind/config.toml"),
    ],
)
def test_any_other_configuration_means_the_users_state(config: Path | None) -> None:
    assert state_directory({"HOME": "/home/ann"}, config) == Path("/home/ann/.local/state/mgremind")
    assert state_directory({"XDG_STATE_HOME": "/x", "HOME": "/home/ann"}, config) == Path("/x/mgremind")


@pytest.mark.parametrize("config", [None, SYSTEM_CONFIG])
def test_state_directory_from_systemd_comes_first(config: Path | None) -> None:
    # The service itself, user or system: systemd says where, whatever the configuration.
    environ = {"STATE_DIRECTORY": "/var/lib/private/mgremind:/other", "HOME": "/home/ann"}
    assert state_directory(environ, config) == Path("/var/lib/private/mgremind")


# ---------------------------------------------------------------------------- as whom (root, subprocesses)


def nobody() -> tuple[int, int]:
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def service_directory(top: Path) -> Path:
    """What DynamicUser= makes: top/mgremind, a link into top/private (0700 root), to a 0700
    directory owned by the service's user (here nobody)."""
    private = top / "private"
    private.mkdir(mode=0o700)
    (private / "mgremind").mkdir(mode=0o700)
    os.chown(private / "mgremind", *nobody())
    (top / "mgremind").symlink_to("private/mgremind")
    return top / "mgremind"


_OPEN_AND_WRITE = textwrap.dedent(
    """
    import datetime as dt, os, sys
    from pathlib import Path
    from mgremind.state import State
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.timezone.utc)
    path = Path(sys.argv[1])
    state = State.open(path, now, as_owner=sys.argv[2] == "command")
    state.acknowledge("2026-11-23/lunch", "taken", now)
    # While it is open: the database, its -wal and its -shm, with their owners.
    print(" ".join(f"{name}:{os.stat(path.parent / name).st_uid}" for name in sorted(os.listdir(path.parent))))
    state.close()
    """
)


@as_root
@pytest.mark.e2e
def test_a_command_as_root_creates_files_as_the_directorys_owner(tmp_path: Path) -> None:
    directory = service_directory(tmp_path)
    uid = nobody()[0]
    result = subprocess.run(
        [sys.executable, "-c", _OPEN_AND_WRITE, str(directory / "state.sqlite3"), "command"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        f"state.sqlite3:{uid}",
        f"state.sqlite3-shm:{uid}",
        f"state.sqlite3-wal:{uid}",
    ]
    assert acks(directory) == {"2026-11-23/lunch": "taken"}
    assert all(path.stat().st_uid == uid for path in directory.iterdir())


@as_root
@pytest.mark.e2e
def test_the_daemons_own_opening_keeps_its_own_user(tmp_path: Path) -> None:
    # The daemon never takes its directory's owner: run as root on it, its files are root's (what the
    # commands used to leave: the trap).
    directory = service_directory(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", _OPEN_AND_WRITE, str(directory / "state.sqlite3"), "daemon"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["state.sqlite3:0", "state.sqlite3-shm:0", "state.sqlite3-wal:0"]


@as_root
@pytest.mark.e2e
def test_a_command_that_cannot_take_the_owner_exits_1_with_one_line(tmp_path: Path) -> None:
    directory = service_directory(tmp_path)
    config = write_config(tmp_path / "etc", plan_toml(["json://127.0.0.1:9/"], {"lunch": dt.datetime(2026, 1, 1, 12)}))
    # Root without CAP_SETPCAP (a restricted container): the securebits cannot be set.
    without_setpcap = ["setpriv", "--bounding-set=-setpcap", "--inh-caps=-setpcap"]
    result = subprocess.run(
        [*without_setpcap, str(MGREMIND), "-c", str(config), "stock", "citrate", "60"],
        env=child_environ(STATE_DIRECTORY=str(directory)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1, result
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"mgremind: {directory}: cannot act as its owner (uid {nobody()[0]}): "), line
    assert list(directory.iterdir()) == []  # nothing created as root


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def readable_install() -> Iterator[Path]:
    """A copy of the package (from this checkout, wherever CI cloned it) and of the virtualenv's
    site-packages under /dev/shm, 0755 all the way: what `nobody` can import. Its `lib` holds the
    PYTHONPATH entries; removed afterwards."""
    top = Path(tempfile.mkdtemp(prefix="mgremind-service-", dir="/dev/shm"))
    try:
        top.chmod(0o755)
        (top / "lib").mkdir(mode=0o755)
        shutil.copytree(
            REPO / "mgremind", top / "lib" / "src" / "mgremind", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copytree(sysconfig.get_paths()["purelib"], top / "lib" / "site")
        for directory, _, _ in os.walk(top / "lib"):
            os.chmod(directory, 0o755)
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


@as_root
@pytest.mark.e2e
def test_taken_as_root_reaches_a_daemon_running_as_its_own_user(
    readable_install: Path, json_receiver: JsonReceiver
) -> None:
    uid, gid = nobody()
    state_dir = readable_install / "state"  # the service's own 0700 directory
    state_dir.mkdir(mode=0o700)
    os.chown(state_dir, uid, gid)
    lunch = first_meal(14)
    tea = lunch + dt.timedelta(seconds=7)
    rid = reminder_id("lunch", lunch)
    text = plan_toml([json_receiver.url()], {"lunch": lunch, "tea": tea}, reminders=repeats(2, 3))
    config = write_config(readable_install / "etc", text, mode=0o644)
    (readable_install / "etc").chmod(0o755)

    # Root counts the capsules before the service ever ran: the database it creates is nobody's.
    stock = mgremind_process(config, state_dir, "stock", "citrate", "60")
    assert stock.returncode == 0, stock.stderr
    assert (state_dir / "state.sqlite3").stat().st_uid == uid

    lib = readable_install / "lib"
    daemon = Daemon(
        config,
        state_dir,
        env={"PYTHONPATH": f"{lib / 'src'}:{lib / 'site'}"},
        command=["setpriv", "--reuid=nobody", f"--regid={gid}", "--clear-groups", str(PYTHON), "-P", "-m", "mgremind"],
    )
    try:
        daemon.ready()
        # Unacknowledged, lunch repeats at +2 s, +4 s, +6 s; after the first, root says it was taken.
        first_repeat = "Magnesium: lunch (again, 1 of 3)"
        wait_until(
            lambda: arrived(json_receiver, first_repeat), lunch.timestamp() + 2 - time.time() + 10, "the first repeat"
        )
        taken = mgremind_process(config, state_dir, "taken")
        recorded = time.time()
        assert taken.returncode == 0, taken.stderr
        assert taken.stdout.startswith(f"taken: {rid} at "), taken.stdout
        assert recorded < lunch.timestamp() + 4, "`mgremind taken` took too long to test this"
        # Tea comes after the last repeat's time: the repeats stopped.
        wait_until(lambda: arrived(json_receiver, "Magnesium: tea"), tea.timestamp() - time.time() + 10, "tea")
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    assert titles(json_receiver.messages()) == ["Magnesium: lunch", first_repeat, "Magnesium: tea"]
    assert not re.search(r"(?i)permission|read-?only|unable to open|denied|cannot", daemon.stderr), daemon.stderr

    history = mgremind_process(config, state_dir, "history", "--days", "1", "--json")
    assert history.returncode == 0, history.stderr
    (day,) = json.loads(history.stdout)["days"]
    assert {"id": rid, "status": "taken"} in day["reminders"]
    # Whatever root's commands and the daemon made or left, it is all nobody's.
    owners = {path.name: (path.stat().st_uid, path.stat().st_gid) for path in state_dir.iterdir()}
    assert "state.sqlite3" in owners
    assert set(owners.values()) == {(uid, gid)}, owners


@as_root
@pytest.mark.e2e
def test_a_state_the_user_cannot_write_gets_one_line_not_a_traceback(readable_install: Path) -> None:
    """Read-only for whoever runs the command (here: nobody, on root's 0644 state): every command
    that reads or records answers with one line naming the file, exit 1."""
    _, gid = nobody()
    state_dir = readable_install / "state"
    state_dir.mkdir(mode=0o755)
    config = write_config(
        readable_install / "etc", plan_toml(["json://127.0.0.1:9/x"], {"lunch": first_meal(3600)}), mode=0o644
    )
    (readable_install / "etc").chmod(0o755)
    assert mgremind_process(config, state_dir, "stock", "citrate", "60").returncode == 0  # root's own state
    lib = readable_install / "lib"
    as_nobody = ["setpriv", "--reuid=nobody", f"--regid={gid}", "--clear-groups", str(PYTHON), "-P", "-m", "mgremind"]
    environ = child_environ(STATE_DIRECTORY=str(state_dir), PYTHONPATH=f"{lib / 'src'}:{lib / 'site'}")
    for args in (("taken",), ("report", "cramps"), ("stock", "citrate", "5"), ("history",), ("next",), ("check",)):
        result = subprocess.run(
            [*as_nobody, "-c", str(config), *args],
            env=environ,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 1, (args, result.returncode, result.stderr)
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"mgremind: {state_dir / 'state.sqlite3'}: "), line
    assert {path.stat().st_uid for path in state_dir.iterdir()} == {0}, "nobody wrote nothing"
