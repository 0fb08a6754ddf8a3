"""The evaluator of a task imported from MLGym (written as its eval/evaluate.py).

``researchgym tasks import-mlgym`` copies this file, unchanged, into each imported task's
eval/, beside ``mlgym.json`` (what to run) and ``mlgym/`` (MLGym's evaluation script and
every file the import hid from the agent, at the paths MLGym's workspace had them).

MLGym runs a task's evaluation script in the agent's workspace and reads the JSON object
it prints. This wrapper rebuilds that workspace, as the script expects to find it, in
``mlgym/``: the task's read-only data is linked in beside the hidden files; a predictions
file is copied in, read with the agent's permissions (``rgym_eval.read_submission``); for a
program task the agent's workspace files are linked in, since MLGym's script imports them
(so that script runs the agent's code as the evaluator's user: such a task is only as
isolated as MLGym made it). Then it runs the script there, and turns the JSON it printed
into researchgym's result (``$RGYM_RESULT``); a failing script, or output without the
metric, is an invalid submission. The script's output is quoted in the reason, except in
the final evaluation of a program task: there it holds what the agent's code printed.

Standard library only: it runs on whatever Python the sandbox has.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import rgym_eval  # type: ignore[import-not-found]  # on PYTHONPATH when evaluating

HERE = Path(__file__).resolve().parent
VIEW = HERE / "mlgym"
"""MLGym's workspace as its evaluation script sees it."""
SHOWN = 1500
"""Characters of the script's output quoted when it fails."""


def evaluate() -> dict[str, float]:
    """Run MLGym's evaluation script on the submission and return its metrics."""
    config = json.loads((HERE / "mlgym.json").read_text())
    workspace = rgym_eval.workspace()
    if config["kind"] == "predictions":
        copy = VIEW / config["submission"]
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(rgym_eval.read_submission())
        link(workspace / "data", VIEW / "data")
    else:
        link(workspace, VIEW)
    argv = [sys.executable, config["script"]]
    if config["argument"]:
        argv += [config["argument"], config["submission"]]
    done = subprocess.run(argv, cwd=VIEW, capture_output=True, text=True, check=False)
    quote = config["kind"] == "predictions" or rgym_eval.mode() == "validate"
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip())[-SHOWN:] if quote else ""
        raise rgym_eval.Invalid(
            f"MLGym's evaluation script failed (exit code {done.returncode})"
            + (f":\n{output}" if output else "")
        )
    return metrics(done.stdout, config["metric"], quote=quote)


def link(source: Path, target: Path) -> None:
    """Link every entry of ``source`` into ``target``, keeping what ``target`` has."""
    if not source.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        there = target / entry.name
        if there.is_dir() and not there.is_symlink() and entry.is_dir():
            link(entry, there)
        elif not there.exists() and not there.is_symlink():
            there.symlink_to(entry)


def metrics(output: str, metric: str, *, quote: bool = True) -> dict[str, float]:
    """The finite numbers of the JSON object the script printed, which must hold ``metric``.

    ``quote``: whether a reason may quote what the script printed.
    """
    found = json_object(output)
    if found is None:
        shown = f":\n{output[-SHOWN:]}" if quote else ""
        raise rgym_eval.Invalid(f"MLGym's evaluation script printed no JSON object{shown}")
    numbers = {
        str(k): float(v)
        for k, v in found.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
    if metric not in numbers:
        shown = f": {found}" if quote else ""
        raise rgym_eval.Invalid(f"MLGym's evaluation script gave no number '{metric}'{shown}")
    return numbers


def json_object(output: str) -> dict[str, Any] | None:
    """The object MLGym would read: all of stdout, or else its first line that is one."""
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith("{")]
    for candidate in [output.strip(), *lines]:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


if __name__ == "__main__":
    rgym_eval.main(evaluate)
