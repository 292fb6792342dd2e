"""`install-service` refuses a unit its service could not start (issue 11, SPEC §5 v2): an ExecStart
program, the interpreter it runs (symlinks followed) or the configuration inside a directory the
system service's dynamic user cannot enter (no "others" x bit on the way), or under /tmp or
/var/tmp (PrivateTmp=). The check itself is pure (mgremind.systemd.unreachable, over fake modes);
the command runs in this process on real trees whose modes the tests choose.

The tests run as root: nothing here waits for the kernel to deny anything, the check computes from
the modes. A tree the system service may reach cannot live under tmp_path (pytest puts it under
/tmp, in a 0700 directory): those trees go to a scratch directory under /dev/shm.
"""

from __future__ import annotations

import itertools
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from conftest import EXAMPLE, Mgremind

from mgremind.systemd import (
    GLOBAL_INSTALL,
    Sandbox,
    Unreachable,
    exec_start,
    render_unit,
    sandbox,
    unreachable,
)

SYSTEM = sandbox(render_unit(False, "/usr/local/bin/mgremind run"))
USER = sandbox(render_unit(True, "/usr/local/bin/mgremind run"))
DIRECTORY = stat.S_IFDIR
FILE = stat.S_IFREG

# ---------------------------------------------------------------------------- the pure check


class Lookup:
    """A stat-like lookup over a fake file system: path -> permission bits (a directory unless a
    file type is given, `FILE | 0o644`), None for a path that is not there; every path not named
    is a 0755 directory."""

    def __init__(self, table: Mapping[str, int | None]) -> None:
        self.table = dict(table)

    def __call__(self, path: str) -> int | None:
        bits = self.table.get(path, 0o755)
        if bits is None or stat.S_IFMT(bits):
            return bits
        return DIRECTORY | bits


def check(
    view: Sandbox, needed: Sequence[tuple[str, Sequence[str]]], table: Mapping[str, int | None]
) -> list[Unreachable]:
    return unreachable(view, needed, Lookup(table))


def test_the_shipped_units_are_read_for_what_they_hide() -> None:
    assert SYSTEM.anyone
    assert ("/tmp", "PrivateTmp=yes") in SYSTEM.hidden and ("/var/tmp", "PrivateTmp=yes") in SYSTEM.hidden
    # ProtectHome=yes when nothing is under a home directory: then /home, /root and /run/user are hidden too.
    assert ("/root", "ProtectHome=yes") in SYSTEM.hidden
    relaxed = sandbox(render_unit(False, "/home/ann/.local/bin/mgremind run"))
    assert not any(directory.startswith(("/home", "/root")) for directory, _ in relaxed.hidden)
    # The user unit runs as the user, with the user's /tmp: nothing to refuse.
    assert Sandbox(anyone=False, hidden=()) == USER


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("[Service]\nDynamicUser=yes\n", Sandbox(True, (("/tmp", "DynamicUser=yes"), ("/var/tmp", "DynamicUser=yes")))),
        (
            "[Service]\nPrivateTmp=true\n",
            Sandbox(False, (("/tmp", "PrivateTmp=true"), ("/var/tmp", "PrivateTmp=true"))),
        ),
        ("[Service]\nPrivateTmp=no\nDynamicUser=no\n", Sandbox(False, ())),
        ("[Service]\n#DynamicUser=yes\n# PrivateTmp=yes\n", Sandbox(False, ())),
        ("[Service]\nProtectHome=read-only\n", Sandbox(False, ())),
        (
            "[Service]\nProtectHome=tmpfs\n",
            Sandbox(False, tuple((d, "ProtectHome=tmpfs") for d in ("/home", "/root", "/run/user"))),
        ),
        ("[Service]\nPrivateTmp=yes\nPrivateTmp=no\n", Sandbox(False, ())),  # the last one counts
    ],
)
def test_sandbox_of_a_unit(unit: str, expected: Sandbox) -> None:
    assert sandbox(unit) == expected


@pytest.mark.parametrize("bits", range(0o1000), ids=lambda bits: f"{bits:04o}")
def test_every_mode_of_a_home_directory(bits: int) -> None:
    """Exhaustive over a directory's permission bits: the dynamic user enters it exactly when the
    "others" x bit is set; owner and group bits never help (it is neither)."""
    needed = [("program", ["/home/ann/venv/bin/mgremind"])]
    found = check(SYSTEM._replace(hidden=()), needed, {"/home/ann": bits})
    if bits & stat.S_IXOTH:
        assert found == []
    else:
        assert found == [
            Unreachable(
                "program", "/home/ann/venv/bin/mgremind", "/home/ann/venv/bin/mgremind", "/home/ann", f"mode {bits:04o}"
            )
        ]


@pytest.mark.parametrize("depth", range(5))
@pytest.mark.parametrize("bits", [0o700, 0o750, 0o744, 0o770, 0o711, 0o701, 0o755, 0o1777])
def test_every_directory_on_the_way_counts(depth: int, bits: int) -> None:
    """The whole path: /, /srv, /srv/a, /srv/a/b, /srv/a/b/c; the first that bars the way is named."""
    path = "/srv/a/b/c/mgremind"
    directory = ["/", "/srv", "/srv/a", "/srv/a/b", "/srv/a/b/c"][depth]
    found = check(SYSTEM, [("program", [path])], {directory: bits})
    assert [problem.directory for problem in found] == ([] if bits & 0o001 else [directory])


def test_the_first_directory_that_bars_the_way_is_named() -> None:
    found = check(SYSTEM, [("program", ["/srv/a/b/mgremind"])], {"/srv/a": 0o700, "/srv/a/b": 0o700})
    assert [problem.directory for problem in found] == ["/srv/a"]


def test_a_symlinked_interpreter_into_root() -> None:
    """pyenv behind a virtualenv: /opt/venv/bin/python -> /root/.pyenv/.../python3 -> python3.11."""
    chain = [
        "/opt/venv/bin/python",
        "/root/.pyenv/versions/3.11.7/bin/python3",
        "/root/.pyenv/versions/3.11.7/bin/python3.11",
    ]
    relaxed = sandbox(render_unit(False, "/opt/venv/bin/mgremind run", [Path(chain[-1])]))
    needed = [("program", ["/opt/venv/bin/mgremind"]), ("interpreter", chain)]
    assert check(relaxed, needed, {"/root": 0o700}) == [
        Unreachable("interpreter", chain[0], chain[1], "/root", "mode 0700")
    ]
    assert check(relaxed, needed, {"/root": 0o711}) == []
    # With ProtectHome=yes /root would be hidden altogether, whatever its mode.
    assert check(SYSTEM, needed, {"/root": 0o755}) == [
        Unreachable("interpreter", chain[0], chain[1], "/root", "ProtectHome=yes")
    ]


@pytest.mark.parametrize(
    ("path", "hidden_by"),
    [
        ("/tmp/venv/bin/mgremind", "/tmp"),
        ("/var/tmp/venv/bin/mgremind", "/var/tmp"),
        ("/tmp", "/tmp"),
        ("/tmp/../tmp/x/mgremind", "/tmp"),
        ("/tmpfiles/mgremind", None),
        ("/var/tmpfs/mgremind", None),
        ("/srv/tmp/mgremind", None),
    ],
)
@pytest.mark.parametrize("what", ["program", "interpreter", "configuration"])
def test_a_private_tmp_hides_whatever_the_modes(path: str, hidden_by: str | None, what: str) -> None:
    found = check(SYSTEM, [(what, [path])], {"/tmp": 0o1777, "/var/tmp": 0o1777})
    if hidden_by is None:
        assert found == []
    else:
        assert found == [Unreachable(what, path, path, hidden_by, "PrivateTmp=yes")]


def test_a_link_into_tmp_is_followed() -> None:
    chain = ["/usr/local/bin/mgremind", "/tmp/venv/bin/mgremind"]
    assert [problem.path for problem in check(SYSTEM, [("program", chain)], {})] == ["/tmp/venv/bin/mgremind"]


def test_a_configuration_under_root() -> None:
    view = sandbox(render_unit(False, "/usr/local/bin/mgremind -c /root/plans/config.toml run"))
    needed = [("program", ["/usr/local/bin/mgremind"]), ("configuration", ["/root/plans/config.toml"])]
    assert check(view, needed, {"/root": 0o700}) == [
        Unreachable("configuration", "/root/plans/config.toml", "/root/plans/config.toml", "/root", "mode 0700")
    ]
    assert check(view, needed, {"/root": 0o700, "/root/plans": 0o755}) != []
    assert check(view, needed, {"/root": 0o701}) == []


def test_one_problem_a_file_each_file_reported() -> None:
    needed = [
        ("program", ["/home/ann/venv/bin/mgremind"]),
        ("interpreter", ["/home/ann/venv/bin/python", "/home/ann/.pyenv/bin/python3.11"]),
        ("configuration", ["/tmp/config.toml"]),
    ]
    relaxed = SYSTEM._replace(hidden=tuple(item for item in SYSTEM.hidden if "ProtectHome" not in item[1]))
    found = check(relaxed, needed, {"/home/ann": 0o700})
    assert [(problem.what, problem.directory) for problem in found] == [
        ("program", "/home/ann"),
        ("interpreter", "/home/ann"),
        ("configuration", "/tmp"),
    ]


def test_missing_paths_and_files_on_the_way_are_not_this_checks_to_report() -> None:
    table = {"/srv/gone": None, "/srv/gone/deeper": None, "/srv/file": FILE | 0o600}
    assert check(SYSTEM, [("program", ["/srv/gone/deeper/mgremind", "/srv/file/x"])], table) == []


@pytest.mark.parametrize(
    ("table", "path"),
    [
        ({"/home/ann": 0o700}, "/home/ann/venv/bin/mgremind"),
        ({"/root": 0o700}, "/root/.pyenv/bin/python3.11"),
        ({}, "/tmp/x/mgremind"),
        ({}, "/var/tmp/x/mgremind"),
    ],
)
def test_the_user_unit_refuses_nothing(table: dict[str, int], path: str) -> None:
    """The user service runs as the user who installs it, and its unit has no PrivateTmp=."""
    assert check(USER, [("program", [path]), ("interpreter", [path]), ("configuration", [path])], table) == []


# ---------------------------------------------------------------------------- the command, on real trees


@pytest.fixture
def public() -> Iterator[Path]:
    """A scratch directory every user can enter (0755 all the way), outside /tmp: under /dev/shm."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not all(p.stat().st_mode & stat.S_IXOTH for p in (Path("/dev"), shm)):
        pytest.fail("these tests need /dev/shm (a directory every user can enter, outside /tmp)")
    directory = Path(tempfile.mkdtemp(dir=shm, prefix="mgremind-test-"))
    directory.chmod(0o755)  # mkdtemp makes it 0700
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def chmod_all(root: Path, bits: int) -> None:
    for directory in [root, *(p for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]:
        directory.chmod(bits)


class Installation:
    """A virtualenv-like tree: VENV/bin/mgremind (the console script) and VENV/bin/python, a link to
    the interpreter at `interpreter`; this process made to look as if it ran from there."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, venv: Path, interpreter: Path) -> None:
        executable(interpreter, "")
        self.program = executable(venv / "bin" / "mgremind", f"#!{venv / 'bin' / 'python'}\n")
        self.python = venv / "bin" / "python"
        self.python.symlink_to(interpreter)
        monkeypatch.setattr(sys, "argv", [str(self.program)])
        monkeypatch.setattr(sys, "executable", str(self.python))


def installed(
    monkeypatch: pytest.MonkeyPatch, root: Path, *, home: int = 0o755, interpreter_home: int = 0o755
) -> Installation:
    """ROOT/home/ann (mode `home`)/venv, its python a link to ROOT/pyenv (mode `interpreter_home`)/bin/python3.11."""
    (root / "home" / "ann").mkdir(parents=True)
    (root / "pyenv").mkdir()
    installation = Installation(monkeypatch, root / "home" / "ann" / "venv", root / "pyenv" / "bin" / "python3.11")
    (root / "home" / "ann").chmod(home)
    (root / "pyenv").chmod(interpreter_home)
    return installation


def config_in(directory: Path, bits: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.toml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    config.chmod(0o644)
    directory.chmod(bits)
    return config


def setting(unit: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(f"{key}=")]


def named(line: str) -> list[str]:
    """The files a refusal line names: "program", "interpreter", "configuration"."""
    return re.findall(r"\bits (program|interpreter|configuration) /", line)


def refusal_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("home", [0o755, 0o711, 0o701])
def test_an_installation_the_service_can_enter_is_written(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path, home: int
) -> None:
    installation = installed(monkeypatch, public, home=home)
    config = config_in(public / "etc")
    target = tmp_path / "mgremind.service"
    result = mgremind("-c", str(config), "install-service", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    unit = target.read_text(encoding="utf-8")
    assert setting(unit, "ExecStart") == [f"{installation.program} -c {config} run"]
    assert f"Wrote {target}" in result.stdout


@pytest.mark.parametrize("home", [0o700, 0o750, 0o744])
def test_a_program_in_a_home_its_user_cannot_enter_is_refused(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path, home: int
) -> None:
    installation = installed(monkeypatch, public, home=home)
    target = tmp_path / "mgremind.service"
    result = mgremind("install-service", "--output", str(target))
    assert result.returncode == 2
    # The program and the interpreter of one virtualenv: one line.
    line = refusal_line(result.stderr)
    assert f"its program {installation.program} and its interpreter {installation.python}" in line
    assert f"they are inside {public / 'home' / 'ann'} (mode {home:04o})" in line
    assert GLOBAL_INSTALL in line and "--user" in line
    assert "Traceback" not in result.stderr
    assert not target.exists()


def test_an_interpreter_linked_into_a_0700_directory_is_refused(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    """The virtualenv is fine; the python it links to lives in a 0700 directory (pyenv under /root)."""
    installation = installed(monkeypatch, public, interpreter_home=0o700)
    result = mgremind("install-service", "--output", str(tmp_path / "mgremind.service"))
    assert result.returncode == 2
    line = refusal_line(result.stderr)
    assert f"its interpreter {installation.python} (a link to {public / 'pyenv' / 'bin' / 'python3.11'})" in line
    assert f"inside {public / 'pyenv'} (mode 0700)" in line
    assert not (tmp_path / "mgremind.service").exists()


def test_python_m_form_names_the_interpreter(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installation = installed(monkeypatch, public, interpreter_home=0o700)
    monkeypatch.setattr(sys, "argv", [str(public / "home" / "ann" / "venv" / "lib" / "__main__.py")])
    result = mgremind("install-service", "--output", str(tmp_path / "mgremind.service"))
    assert result.returncode == 2
    assert f"its interpreter {installation.python} (a link to" in refusal_line(result.stderr)


def test_a_configuration_under_tmp_is_refused(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installed(monkeypatch, public)
    config = config_in(tmp_path / "plans")
    result = mgremind("-c", str(config), "install-service", "--output", str(tmp_path / "mgremind.service"))
    assert result.returncode == 2
    line = refusal_line(result.stderr)
    assert f"its configuration {config}" in line
    assert "under /tmp, which the service does not see (PrivateTmp=yes)" in line
    assert f"sudo install -D -m 644 {config} /etc/mgremind/config.toml" in line
    assert "without -c" in line
    assert not (tmp_path / "mgremind.service").exists()


def test_a_configuration_in_a_directory_its_user_cannot_enter_is_refused(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installed(monkeypatch, public)
    config = config_in(public / "private", 0o700)
    result = mgremind("install-service", "-c", str(config), "--output", str(tmp_path / "mgremind.service"))
    assert result.returncode == 2
    line = refusal_line(result.stderr)
    assert f"its configuration {config}: it is inside {public / 'private'} (mode 0700)" in line


def test_every_problem_has_its_line(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installed(monkeypatch, public, home=0o700, interpreter_home=0o700)
    config = config_in(tmp_path / "plans")
    result = mgremind("-c", str(config), "install-service", "--output", str(tmp_path / "mgremind.service"))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert [named(line) for line in lines] == [["program", "interpreter"], ["configuration"]]
    assert all(line.startswith("mgremind: no unit written: the system service could not start") for line in lines)


def test_print_shows_a_refused_unit_with_a_warning(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    """--print is for looking: it prints the unit, warns on stderr with the same line, exits 0."""
    installation = installed(monkeypatch, public, home=0o700)
    result = mgremind("install-service", "--print")
    assert result.returncode == 0
    assert setting(result.stdout, "ExecStart") == [f"{installation.program} run"]
    line = refusal_line(result.stderr)
    assert line.startswith("mgremind: warning: the system service could not start: its program")


def test_the_user_unit_is_written_from_anywhere(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    """A user service runs as the user, with the user's own /tmp: a 0700 home or /tmp is fine."""
    installation = installed(monkeypatch, public, home=0o700, interpreter_home=0o700)
    config = config_in(tmp_path / "plans")
    printed = mgremind("-c", str(config), "install-service", "--user", "--print")
    assert printed.returncode == 0 and printed.stderr == ""
    result = mgremind("-c", str(config), "install-service", "--user")
    assert result.returncode == 0, result.stderr
    unit = (tmp_path / "xdg" / "systemd" / "user" / "mgremind.service").read_text(encoding="utf-8")
    assert setting(unit, "ExecStart") == [f"{installation.program} -c {config} run"]


def test_force_does_not_override_the_refusal(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installed(monkeypatch, public, home=0o700)
    target = tmp_path / "mgremind.service"
    target.write_text("[Service]\nExecStart=/usr/bin/true\n", encoding="utf-8")
    result = mgremind("install-service", "--output", str(target), "--force")
    assert result.returncode == 2
    assert target.read_text(encoding="utf-8") == "[Service]\nExecStart=/usr/bin/true\n"


# The system-unit writing tests of tests/test_service.py that ran from this very virtualenv (refused
# where its interpreter is pyenv's under /root): here, from an installation its service can run.


def test_output_writes_the_system_unit_there(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installation = installed(monkeypatch, public)
    target = tmp_path / "out" / "sub" / "mgremind.service"
    result = mgremind("install-service", "--output", str(target))
    assert result.returncode == 0, result.stderr
    printed = mgremind("install-service", "--print")
    assert target.read_text(encoding="utf-8") == printed.stdout
    assert setting(printed.stdout, "ExecStart") == [exec_start(str(installation.program), sys.executable, None)]
    assert setting(printed.stdout, "DynamicUser") == ["yes"]
    assert not (tmp_path / "xdg" / "systemd").exists()


def test_next_steps_for_a_system_service(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installation = installed(monkeypatch, public)
    result = mgremind("install-service", "--output", str(tmp_path / "mgremind.service"))
    assert result.returncode == 0, result.stderr
    for command in (
        "sudo systemctl daemon-reload",
        "sudo systemctl enable --now mgremind",
        "/etc/mgremind/config.toml",
        "/etc/mgremind/secret-urls.txt",
        "LoadCredential",
        f"sudo {installation.program} -c /etc/mgremind/config.toml check",
    ):
        assert command in result.stdout, f"{command!r} missing from:\n{result.stdout}"
    assert "systemctl --user" not in result.stdout


def test_next_steps_of_a_system_service_check_the_config_the_unit_reads(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    installation = installed(monkeypatch, public)
    config = config_in(public / "plans")
    result = mgremind("-c", str(config), "install-service", "--output", str(tmp_path / "mgremind.service"))
    assert result.returncode == 0, result.stderr
    check_lines = [line for line in result.stdout.splitlines() if line.rstrip().endswith(" check")]
    assert check_lines == [f"  sudo {installation.program} -c {config} check"], result.stdout


def test_all_combinations_on_a_real_tree(
    mgremind: Mgremind, monkeypatch: pytest.MonkeyPatch, public: Path, tmp_path: Path
) -> None:
    """The thin part stats what the pure part is told: every combination of the three directories'
    modes on a real tree gives the verdict the modes alone give."""
    installation = installed(monkeypatch, public)
    config = config_in(public / "plans")
    homes = {"program": public / "home" / "ann", "interpreter": public / "pyenv", "configuration": public / "plans"}
    choices = [0o700, 0o711, 0o750, 0o755]
    for bits in itertools.product(choices, repeat=3):
        for directory, mode in zip(homes.values(), bits, strict=True):
            directory.chmod(mode)
        result = mgremind("-c", str(config), "install-service", "--output", str(tmp_path / f"{len(bits)}.service"))
        home, pyenv, plans = (not mode & 0o001 for mode in bits)
        # The virtualenv's python is in the home too: a barred home bars both, on one line.
        barred = ["program", "interpreter"] * home + ["interpreter"] * (pyenv and not home) + ["configuration"] * plans
        if barred:
            assert result.returncode == 2, result.stderr
            assert named(result.stderr) == barred
        else:
            assert result.returncode == 0, result.stderr
        (tmp_path / f"{len(bits)}.service").unlink(missing_ok=True)
    assert installation.program.exists()
