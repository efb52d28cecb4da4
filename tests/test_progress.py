"""Progress display: shown on a terminal for slow work, never when quiet or not a terminal."""

import os
import pty
import subprocess
import sys

SCRIPT = """
import time
from reml_wasm import progress
with progress.activity("building the guest", delay=0.1):
    progress.note("step two")
    time.sleep(0.8)
with progress.activity("fast work", delay=5.0):
    pass
print("done")
"""


def run_in_terminal(env_extra: dict[str, str]) -> str:
    """Run SCRIPT with stdout and stderr on a pseudo-terminal; return what the terminal got."""
    env = {k: v for k, v in os.environ.items() if k != "REML_WASM_QUIET"}
    env.update(env_extra, COLUMNS="100", TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execve(sys.executable, [sys.executable, "-c", SCRIPT], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode("utf-8", "replace")


def test_slow_work_shows_a_spinner_with_its_text_on_a_terminal():
    out = run_in_terminal({})
    assert "building the guest: step two" in out
    assert "fast work" not in out  # ended before its delay
    assert "done" in out


def test_quiet_environment_shows_nothing():
    out = run_in_terminal({"REML_WASM_QUIET": "1"})
    assert "building the guest" not in out and "done" in out


def test_not_a_terminal_shows_nothing():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "REML_WASM_QUIET"})
    assert proc.returncode == 0 and proc.stdout.strip() == "done" and proc.stderr == ""
