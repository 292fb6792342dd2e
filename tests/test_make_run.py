"""`make run`, the README's first command, keeps its state inside the checkout (SPEC §5 v2): trying
mgremind out never writes into the user's real ~/.local/state/mgremind."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO
from daemon_harness import MGREMIND_ENVIRONMENT


@pytest.mark.e2e
def test_make_run_keeps_its_state_in_the_checkout(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    environ = {key: value for key, value in os.environ.items() if key not in {*MGREMIND_ENVIRONMENT, "XDG_STATE_HOME"}}
    environ["HOME"] = str(home)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # make and the daemon it execs: stopped together
    )
    assert process.stderr is not None
    log = ""
    deadline = time.monotonic() + 30
    try:
        while " started: " not in log:
            remaining = deadline - time.monotonic()
            assert remaining > 0 and process.poll() is None, f"make run did not start the daemon:\n{log}"
            if select.select([process.stderr], [], [], remaining)[0]:
                log += process.stderr.readline()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        process.stderr.close()
    assert f"state in {REPO / '.state' / 'state.sqlite3'}" in log
    assert (REPO / ".state" / "state.sqlite3").exists()
    assert not (home / ".local").exists()
