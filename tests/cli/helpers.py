"""Running the researchgym command as a user runs it: a real process, real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from researchgym.storage import open_database, query

CLI = str(Path(sys.executable).parent / "researchgym")


def cli(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env if env is not None else {**os.environ, "COLUMNS": "200"},
    )


def interrupt(run: subprocess.Popen[str], *, timeout: float = 120) -> str:
    """Press Ctrl-C on a running command and return its stderr once it has stopped.

    A command that does not stop in time is killed (and reaped, so that nothing it left
    behind fails a later test) and fails this one.
    """
    masks = _signal_masks(run.pid)  # what the command does with SIGINT, should it ignore it
    pressed = time.monotonic()
    run.send_signal(signal.SIGINT)
    try:
        stdout, stderr = run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.kill()
        _, stderr = run.communicate()
        raise AssertionError(f"still running {timeout:g} s after Ctrl-C:\n{stderr}") from None
    if run.returncode != 130:  # say all there is to say of a command that went on
        took = time.monotonic() - pressed
        stderr += f"\n[exit {run.returncode} {took:.1f} s after Ctrl-C; {masks}]\n{stdout}"
    return stderr


def _signal_masks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as status:
            return " ".join(
                line.strip() for line in status if line.startswith(("SigBlk", "SigIgn", "SigCgt"))
            )
    except OSError as e:
        return f"no signal masks: {e}"


def rows(db: Path, sql: str) -> list[dict[str, object]]:
    with open_database(db) as con:
        result: list[dict[str, object]] = query(con, sql).to_pylist()
        return result


def labelled(run_id: str) -> list[str]:
    """Ids of the containers labelled with a run."""
    done = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=researchgym.run={run_id}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()
